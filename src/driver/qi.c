/* qi.c: queued invalidation — descriptors built and batched, submitted with
 * a fenced inv-wait whose status write the driver polls, recovery from queue
 * errors, and one helper per invalidation the driver sends. */
#include <errno.h>
#include <stdlib.h>

#include "driver.h"

#define FSTS_QI_ERRORS (SIOV_FSTS_IQE | SIOV_FSTS_ICE | SIOV_FSTS_ITE)
#define DEVTLB_ALL 0x7FFFFFFFFFFFF000ull /* S=1 address meaning "every address" (ATS) */

/* ------------------------------------------------------------- the queue */

static void qi_add(struct siov_driver *drv, uint64_t qw0, uint64_t qw1)
{
    if (drv->nbatch == drv->cbatch) {
        unsigned c = drv->cbatch ? drv->cbatch * 2 : 32;
        struct siov_qi_desc *p = realloc(drv->batch, c * sizeof(*p));
        if (!p) {
            drv->batch_err = siov_drv_fail(drv, -ENOMEM, "out of host memory for invalidation descriptors");
            return;
        }
        drv->batch = p;
        drv->cbatch = c;
    }
    drv->batch[drv->nbatch++] = (struct siov_qi_desc){qw0, qw1};
}

/* After a queue error (IQE) the unit stops at the offending descriptor
   (IQH); after a device's time-out (ITE) it stops behind the aborted
   inv-wait. Drop what is left, acknowledge, resume from there: -EIO, or
   -ETIMEDOUT for the time-out. */
static int qi_recover(struct siov_driver *drv, uint32_t fsts)
{
    uint64_t head = siov_mmio_read(drv->iommu, SIOV_REG_IQH, 8) & SIOV_IQ_PTR;
    if (fsts & SIOV_FSTS_IQE)
        siov_drv_fail(drv, -EIO, "invalidation queue error (FSTS 0x%x: IQE%s%s) at IQH 0x%llx; the rest was dropped",
                      fsts, fsts & SIOV_FSTS_ICE ? " ICE" : "", fsts & SIOV_FSTS_ITE ? " ITE" : "",
                      (unsigned long long)head);
    else
        siov_drv_fail(drv, -ETIMEDOUT,
                      "a device-TLB invalidation timed out (ITE, device 0x%04llx); its wait was aborted",
                      (unsigned long long)siov_get(siov_mmio_read(drv->iommu, SIOV_REG_IQERCD, 8), SIOV_IQERCD_ITESID));
    siov_mmio_write(drv->iommu, SIOV_REG_IQT, head, 8);
    drv->iq_tail = (unsigned)(head / drv->iq_dsz);
    siov_mmio_write(drv->iommu, SIOV_REG_FSTS, fsts & FSTS_QI_ERRORS, 4);
    return (fsts & SIOV_FSTS_IQE) ? -EIO : -ETIMEDOUT;
}

/* The queue's error status: 0 while it runs. An invalid completion (ICE)
   comes from a device, not from the descriptors: it is acknowledged and the
   queue goes on (as Linux's qi_check_fault). IQE or ITE stopped the queue:
   recovered as qi_recover says, -EIO or -ETIMEDOUT. */
static int qi_check(struct siov_driver *drv)
{
    uint32_t fsts = siov_drv_rd_reg32(drv, SIOV_REG_FSTS);
    if (fsts & SIOV_FSTS_ICE)
        siov_mmio_write(drv->iommu, SIOV_REG_FSTS, SIOV_FSTS_ICE, 4);
    if (!(fsts & (SIOV_FSTS_IQE | SIOV_FSTS_ITE)))
        return 0;
    return qi_recover(drv, fsts);
}

/* Poll cond: 0 once the queue has room for n descriptors (one slot stays empty). */
static int qi_room(struct siov_driver *drv, unsigned n)
{
    for (unsigned i = 0; i < SIOV_DRV_POLL_LIMIT; i++) {
        uint64_t head = (siov_mmio_read(drv->iommu, SIOV_REG_IQH, 8) & SIOV_IQ_PTR) / drv->iq_dsz;
        unsigned used = (unsigned)((drv->iq_tail + drv->iq_entries - head) % drv->iq_entries);
        if (drv->iq_entries - 1 - used >= n)
            return 0;
        int ret = qi_check(drv);
        if (ret)
            return ret;
    }
    return siov_drv_fail(drv, -ETIMEDOUT, "invalidation queue full: the unit did not move IQH");
}

static int qi_write(struct siov_driver *drv, uint64_t qw0, uint64_t qw1)
{
    uint8_t b[32] = {0};
    siov_drv_put64(b, qw0);
    siov_drv_put64(b + 8, qw1);
    uint64_t gpa = drv->iq_base + (uint64_t)drv->iq_tail * drv->iq_dsz;
    int ret = siov_drv_write_mem(drv, gpa, b, drv->iq_dsz);
    if (ret)
        return ret;
    drv->iq_tail = (drv->iq_tail + 1) % drv->iq_entries;
    return 0;
}

/* Wait for the status write of inv-wait seq; a queue error ends it with -EIO. */
static int qi_wait(struct siov_driver *drv, uint32_t seq)
{
    for (unsigned i = 0; i < SIOV_DRV_POLL_LIMIT; i++) {
        uint32_t st;
        if (siov_drv_rd32(drv, drv->status_gpa, &st) == 0 && st == seq)
            return qi_check(drv); /* acknowledges an invalid completion met meanwhile */
        int ret = qi_check(drv);
        if (ret)
            return ret;
    }
    return siov_drv_fail(drv, -ETIMEDOUT, "inv-wait %u: its status write to 0x%llx did not arrive", seq,
                         (unsigned long long)drv->status_gpa);
}

/* Submit n descriptors followed by a fenced inv-wait with status write (and
   wait_flags: PD for a page-request drain), and wait. */
static int qi_submit(struct siov_driver *drv, const struct siov_qi_desc *d, unsigned n, uint64_t wait_flags)
{
    int ret = qi_room(drv, n + 1);
    for (unsigned i = 0; i < n && !ret; i++)
        ret = qi_write(drv, d[i].qw0, d[i].qw1);
    if (ret)
        return ret;
    uint32_t seq = ++drv->seq;
    uint64_t w0 = siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | SIOV_WAIT0_FN | wait_flags;
    w0 = siov_set(w0, SIOV_WAIT0_SDATA, seq);
    ret = qi_write(drv, w0, drv->status_gpa & SIOV_WAIT1_SADDR);
    if (ret)
        return ret;
    siov_mmio_write(drv->iommu, SIOV_REG_IQT, (uint64_t)drv->iq_tail * drv->iq_dsz, 8);
    return qi_wait(drv, seq);
}

/* The batch in chunks, each behind its own inv-wait; the last wait carries
   wait_flags (a drain always follows the device-TLB invalidation it waits
   behind: page requests need ATS, so the batch is never empty then). */
static int qi_flush_with(struct siov_driver *drv, uint64_t wait_flags)
{
    int ret = drv->batch_err, r = 0;
    unsigned chunk = drv->iq_entries / 2 - 1;
    /* after a device's time-out the unit's own invalidations of the next
       chunks still run; the first error is the one reported */
    for (unsigned i = 0; i < drv->nbatch && !drv->batch_err && (!r || r == -ETIMEDOUT); i += chunk) {
        unsigned n = drv->nbatch - i < chunk ? drv->nbatch - i : chunk;
        r = qi_submit(drv, drv->batch + i, n, i + n == drv->nbatch ? wait_flags : 0);
        ret = ret ? ret : r;
    }
    drv->nbatch = 0;
    drv->batch_err = 0;
    if (drv->ndeferred) /* a map defers nothing: spare it the call */
        siov_drv_page_release_deferred(drv);
    return ret;
}

int siov_drv_qi_flush(struct siov_driver *drv)
{
    return qi_flush_with(drv, 0);
}

int siov_drv_qi_flush_drain(struct siov_driver *drv)
{
    return qi_flush_with(drv, (drv->ecap & SIOV_ECAP_PDS) ? SIOV_WAIT0_PD : 0);
}

/* -------------------------------------------------------- descriptors */

/* Smallest k >= 12 with [lo, hi) inside one naturally aligned 2^k block;
   lo < hi <= 2^57 (a domain's input range), so k stays below 58. */
static unsigned range_order(uint64_t lo, uint64_t hi)
{
    unsigned k = SIOV_PAGE_SHIFT;
    while ((lo >> k) != ((hi - 1) >> k))
        k++;
    return k;
}

void siov_drv_inv_cc_device(struct siov_driver *drv, siov_sid sid, uint16_t did)
{
    uint64_t q = siov_dsc_make_type(SIOV_DSC_CC);
    q = siov_set(q, SIOV_CC0_G, SIOV_INV_GRAN_DEVICE);
    q = siov_set(q, SIOV_CC0_DID, drv->scalable ? 0 : did); /* ignored in scalable mode */
    qi_add(drv, siov_set(q, SIOV_CC0_SID, sid), 0);
}

void siov_drv_inv_cc_global(struct siov_driver *drv)
{
    qi_add(drv, siov_set(siov_dsc_make_type(SIOV_DSC_CC), SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL), 0);
}

static void inv_iotlb(struct siov_driver *drv, unsigned gran, uint16_t did, uint64_t qw1)
{
    uint64_t q = siov_set(siov_dsc_make_type(SIOV_DSC_IOTLB), SIOV_IOTLB0_G, gran);
    qi_add(drv, siov_set(q, SIOV_IOTLB0_DID, did), qw1);
}

void siov_drv_inv_iotlb_global(struct siov_driver *drv)
{
    inv_iotlb(drv, SIOV_INV_GRAN_GLOBAL, 0, 0);
}

void siov_drv_inv_iotlb_dsi(struct siov_driver *drv, uint16_t did)
{
    inv_iotlb(drv, SIOV_INV_GRAN_DOMAIN, did, 0);
}

void siov_drv_inv_iotlb_range(struct siov_driver *drv, uint16_t did, uint64_t lo, uint64_t hi)
{
    unsigned k = range_order(lo, hi);
    unsigned am = k - SIOV_PAGE_SHIFT;
    if (!(drv->cap & SIOV_CAP_PSI) || am > siov_get(drv->cap, SIOV_CAP_MAMV)) {
        siov_drv_inv_iotlb_dsi(drv, did);
        return;
    }
    uint64_t addr = lo & ~((1ull << k) - 1);
    inv_iotlb(drv, SIOV_INV_GRAN_PAGE, did, (addr & SIOV_INV1_ADDR) | siov_set(0, SIOV_INV1_AM, am));
}

static void inv_piotlb(struct siov_driver *drv, unsigned gran, uint16_t did, uint32_t pasid, uint64_t qw1)
{
    uint64_t q = siov_set(siov_dsc_make_type(SIOV_DSC_PIOTLB), SIOV_PIOTLB0_G, gran);
    q = siov_set(q, SIOV_PIOTLB0_DID, did);
    qi_add(drv, siov_set(q, SIOV_PIOTLB0_PASID, pasid), qw1);
}

void siov_drv_inv_piotlb_pasid(struct siov_driver *drv, uint16_t did, uint32_t pasid)
{
    inv_piotlb(drv, SIOV_PIOTLB_GRAN_PASID, did, pasid, 0);
}

void siov_drv_inv_piotlb_range(struct siov_driver *drv, uint16_t did, uint32_t pasid, uint64_t lo,
                               uint64_t hi)
{
    unsigned k = range_order(lo, hi);
    unsigned am = k - SIOV_PAGE_SHIFT;
    if (am > siov_get(drv->cap, SIOV_CAP_MAMV)) {
        siov_drv_inv_piotlb_pasid(drv, did, pasid);
        return;
    }
    uint64_t addr = lo & ~((1ull << k) - 1);
    inv_piotlb(drv, SIOV_PIOTLB_GRAN_PAGE, did, pasid,
               (addr & SIOV_INV1_ADDR) | siov_set(0, SIOV_INV1_AM, am));
}

void siov_drv_inv_pc(struct siov_driver *drv, uint16_t did, uint32_t pasid)
{
    uint64_t q = siov_set(siov_dsc_make_type(SIOV_DSC_PC), SIOV_PC0_G, SIOV_PC_GRAN_PASID);
    q = siov_set(q, SIOV_PC0_DID, did);
    qi_add(drv, siov_set(q, SIOV_PC0_PASID, pasid), 0);
}

void siov_drv_inv_pc_global(struct siov_driver *drv)
{
    qi_add(drv, siov_set(siov_dsc_make_type(SIOV_DSC_PC), SIOV_PC0_G, SIOV_PC_GRAN_GLOBAL), 0);
}

/* ATS range encoding (spec 6.5.2.5): S=0 one page; S=1 the lowest clear
   address bit from 12 up gives the size. Returns the address with *s. */
static uint64_t devtlb_addr(uint64_t lo, uint64_t hi, bool *s)
{
    unsigned k = lo == hi ? 64 : range_order(lo, hi);
    *s = k > SIOV_PAGE_SHIFT;
    if (k >= 63)
        return DEVTLB_ALL;
    uint64_t base = lo & ~((1ull << k) - 1);
    return *s ? (base | ((1ull << (k - 1)) - 1)) & SIOV_PAGE_MASK : base;
}

void siov_drv_inv_devtlb(struct siov_driver *drv, siov_sid sid, uint32_t pasid, uint64_t lo, uint64_t hi)
{
    const struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (!dev || !dev->ats)
        return;
    bool s;
    uint64_t addr = devtlb_addr(lo, hi, &s);
    if (pasid == SIOV_NO_PASID) {
        uint64_t q = siov_set(siov_dsc_make_type(SIOV_DSC_DEVTLB), SIOV_DTLB0_SID, sid);
        qi_add(drv, q, (addr & SIOV_DTLB1_ADDR) | (s ? SIOV_DTLB1_S : 0));
        return;
    }
    uint64_t q = siov_set(siov_dsc_make_type(SIOV_DSC_PDEVTLB), SIOV_PDTLB0_SID, sid);
    q = siov_set(q, SIOV_PDTLB0_PASID, pasid);
    qi_add(drv, q, (addr & SIOV_PDTLB1_ADDR) | (s ? SIOV_PDTLB1_S : 0));
}

void siov_drv_inv_iec_global(struct siov_driver *drv)
{
    qi_add(drv, siov_dsc_make_type(SIOV_DSC_IEC), 0); /* G=0 */
}

void siov_drv_inv_iec_index(struct siov_driver *drv, unsigned index, unsigned im)
{
    uint64_t q = siov_dsc_make_type(SIOV_DSC_IEC) | SIOV_IEC0_G | siov_set(0, SIOV_IEC0_IM, im);
    qi_add(drv, siov_set(q, SIOV_IEC0_IIDX, index), 0);
}

void siov_drv_page_response(struct siov_driver *drv, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    uint64_t q = siov_dsc_make_type(SIOV_DSC_PGRP_RESP) | siov_set(0, SIOV_PGRSP0_RC, code);
    q = siov_set(q, SIOV_PGRSP0_RID, sid);
    if (pasid != SIOV_NO_PASID)
        q |= SIOV_PGRSP0_PP | siov_set(0, SIOV_PGRSP0_PASID, pasid);
    qi_add(drv, q, siov_set(0, SIOV_PGRSP1_PRGI, prgi));
}

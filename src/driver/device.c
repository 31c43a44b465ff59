/* device.c: the reference driver — bring-up, allocators, devices, PASID
 * entries and queued invalidation. It reaches the unit only through MMIO
 * register accesses and guest memory, as a kernel driver would. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

#define POLL_LIMIT 100000u /* register and status-word polls before giving up */
#define GCMD_ENABLES (SIOV_GCMD_TE | SIOV_GCMD_EAFL | SIOV_GCMD_QIE | SIOV_GCMD_IRE | SIOV_GCMD_CFI)
#define FSTS_QI_ERRORS (SIOV_FSTS_IQE | SIOV_FSTS_ICE | SIOV_FSTS_ITE)
#define DEVTLB_ALL 0x7FFFFFFFFFFFF000ull /* S=1 address meaning "every address" (ATS) */

static const uint8_t zero_page[SIOV_PAGE_SIZE];

/* ------------------------------------------------------------ bitmaps */

static int bm_init(struct siov_bitmap *b, uint64_t nbits)
{
    b->w = calloc((size_t)((nbits + 63) / 64) + 1, sizeof(uint64_t));
    b->nbits = b->nfree = nbits;
    b->hint = 0;
    return b->w ? 0 : -ENOMEM;
}

static bool bm_test(const struct siov_bitmap *b, uint64_t i)
{
    return b->w[i / 64] >> (i % 64) & 1;
}

static void bm_mark(struct siov_bitmap *b, uint64_t i, uint64_t n, bool used)
{
    for (uint64_t k = i; k < i + n; k++) {
        if (used)
            b->w[k / 64] |= 1ull << (k % 64);
        else
            b->w[k / 64] &= ~(1ull << (k % 64));
    }
    b->nfree = used ? b->nfree - n : b->nfree + n;
}

/* First run of n free bits in [from, nbits); -1 if none. */
static int64_t bm_find(const struct siov_bitmap *b, uint64_t from, uint64_t n)
{
    uint64_t run = 0;
    for (uint64_t i = from; i < b->nbits; i++) {
        if (run == 0 && i % 64 == 0 && b->w[i / 64] == ~0ull) {
            i += 63; /* a full word: skip it */
            continue;
        }
        if (bm_test(b, i))
            run = 0;
        else if (++run == n)
            return (int64_t)(i + 1 - n);
    }
    return -1;
}

static int64_t bm_alloc(struct siov_bitmap *b, uint64_t n)
{
    if (n == 0 || n > b->nfree)
        return -1;
    int64_t r = bm_find(b, b->hint, n);
    if (r < 0)
        return -1;
    bm_mark(b, (uint64_t)r, n, true);
    if ((uint64_t)r == b->hint)
        b->hint = (uint64_t)r + n;
    return r;
}

static void bm_free(struct siov_bitmap *b, uint64_t i, uint64_t n)
{
    bm_mark(b, i, n, false);
    if (i < b->hint)
        b->hint = i;
}

/* ------------------------------------------------------- guest memory */

int siov_drv_rd64(struct siov_driver *drv, uint64_t gpa, uint64_t *v)
{
    uint8_t b[8];
    if (siov_mem_read(drv->mem, gpa, b, 8))
        return -EFAULT;
    *v = siov_drv_get64(b);
    return 0;
}

int siov_drv_wr64(struct siov_driver *drv, uint64_t gpa, uint64_t v)
{
    uint8_t b[8];
    siov_drv_put64(b, v);
    return siov_mem_write(drv->mem, gpa, b, 8) ? -EFAULT : 0;
}

static int rd32(struct siov_driver *drv, uint64_t gpa, uint32_t *v)
{
    uint8_t b[4];
    if (siov_mem_read(drv->mem, gpa, b, 4))
        return -EFAULT;
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

/* ------------------------------------------------------ the table pool */

int siov_drv_page_alloc(struct siov_driver *drv, unsigned n, uint64_t *gpa)
{
    int64_t i = bm_alloc(&drv->pages, n);
    if (i < 0)
        return -ENOMEM;
    uint64_t g = drv->pool_base + (uint64_t)i * SIOV_PAGE_SIZE;
    for (unsigned k = 0; k < n; k++) {
        if (siov_mem_write(drv->mem, g + k * SIOV_PAGE_SIZE, zero_page, SIOV_PAGE_SIZE)) {
            bm_free(&drv->pages, (uint64_t)i, n);
            return -EFAULT;
        }
    }
    *gpa = g;
    return 0;
}

void siov_drv_page_free(struct siov_driver *drv, uint64_t gpa, unsigned n)
{
    bm_free(&drv->pages, (gpa - drv->pool_base) / SIOV_PAGE_SIZE, n);
}

void siov_drv_page_defer(struct siov_driver *drv, uint64_t gpa)
{
    if (drv->ndeferred == drv->cdeferred) {
        size_t c = drv->cdeferred ? drv->cdeferred * 2 : 64;
        uint64_t *p = realloc(drv->deferred, c * sizeof(*p));
        if (!p) {
            siov_drv_page_free(drv, gpa, 1); /* cannot wait: release it now */
            return;
        }
        drv->deferred = p;
        drv->cdeferred = c;
    }
    drv->deferred[drv->ndeferred++] = gpa;
}

static void release_deferred(struct siov_driver *drv)
{
    for (size_t i = 0; i < drv->ndeferred; i++)
        siov_drv_page_free(drv, drv->deferred[i], 1);
    drv->ndeferred = 0;
}

/* --------------------------------------------------------- identifiers */

int siov_drv_pasid_alloc(struct siov_driver *drv, uint32_t *pasid)
{
    int64_t r = drv->pasid_ok ? bm_alloc(&drv->pasids, 1) : -1;
    if (r < 0)
        return -ENOSPC;
    *pasid = (uint32_t)r;
    return 0;
}

void siov_drv_pasid_free(struct siov_driver *drv, uint32_t pasid)
{
    bm_free(&drv->pasids, pasid, 1);
}

int siov_drv_did_alloc(struct siov_driver *drv, uint16_t *did)
{
    int64_t r = bm_alloc(&drv->dids, 1);
    if (r < 0)
        return -ENOSPC;
    *did = (uint16_t)r;
    return 0;
}

void siov_drv_did_free(struct siov_driver *drv, uint16_t did)
{
    bm_free(&drv->dids, did, 1);
}

/* ----------------------------------------------------------- registers */

static uint32_t rd_reg32(struct siov_driver *drv, uint64_t off)
{
    return (uint32_t)siov_mmio_read(drv->iommu, off, 4);
}

/* Write GCMD keeping the current enables (spec 10.4.4), then poll GSTS until
   the status bit reads want. */
static int gcmd(struct siov_driver *drv, uint32_t set, uint32_t clear, uint32_t status, bool want)
{
    uint32_t v = (rd_reg32(drv, SIOV_REG_GSTS) & GCMD_ENABLES & ~clear) | set;
    siov_mmio_write(drv->iommu, SIOV_REG_GCMD, v, 4);
    for (unsigned i = 0; i < POLL_LIMIT; i++) {
        if (!!(rd_reg32(drv, SIOV_REG_GSTS) & status) == want)
            return 0;
    }
    return -ETIMEDOUT;
}

/* Flush the write buffer where CAP.RWBF asks for it (spec 6.8). */
static int write_buffer_flush(struct siov_driver *drv)
{
    if (!(drv->cap & SIOV_CAP_RWBF))
        return 0;
    return gcmd(drv, SIOV_GCMD_WBF, 0, SIOV_GSTS_WBFS, false);
}

/* --------------------------------------------------- invalidation queue */

static void qi_add(struct siov_driver *drv, uint64_t qw0, uint64_t qw1)
{
    if (drv->nbatch == drv->cbatch) {
        unsigned c = drv->cbatch ? drv->cbatch * 2 : 32;
        struct siov_qi_desc *p = realloc(drv->batch, c * sizeof(*p));
        if (!p) {
            drv->batch_err = -ENOMEM;
            return;
        }
        drv->batch = p;
        drv->cbatch = c;
    }
    drv->batch[drv->nbatch++] = (struct siov_qi_desc){qw0, qw1};
}

/* After a queue error the unit stops at the offending descriptor (IQH):
   drop what is left, acknowledge the error, resume from there. */
static void qi_recover(struct siov_driver *drv, uint32_t fsts)
{
    uint64_t head = siov_mmio_read(drv->iommu, SIOV_REG_IQH, 8) & SIOV_IQ_PTR;
    siov_mmio_write(drv->iommu, SIOV_REG_IQT, head, 8);
    drv->iq_tail = (unsigned)(head / drv->iq_dsz);
    siov_mmio_write(drv->iommu, SIOV_REG_FSTS, fsts & FSTS_QI_ERRORS, 4);
}

/* Poll cond: 0 once the queue has room for n descriptors (one slot stays empty). */
static int qi_room(struct siov_driver *drv, unsigned n)
{
    for (unsigned i = 0; i < POLL_LIMIT; i++) {
        uint64_t head = (siov_mmio_read(drv->iommu, SIOV_REG_IQH, 8) & SIOV_IQ_PTR) / drv->iq_dsz;
        unsigned used = (unsigned)((drv->iq_tail + drv->iq_entries - head) % drv->iq_entries);
        if (drv->iq_entries - 1 - used >= n)
            return 0;
        uint32_t fsts = rd_reg32(drv, SIOV_REG_FSTS);
        if (fsts & FSTS_QI_ERRORS) {
            qi_recover(drv, fsts);
            return -EIO;
        }
    }
    return -ETIMEDOUT;
}

static int qi_write(struct siov_driver *drv, uint64_t qw0, uint64_t qw1)
{
    uint8_t b[32] = {0};
    siov_drv_put64(b, qw0);
    siov_drv_put64(b + 8, qw1);
    uint64_t gpa = drv->iq_base + (uint64_t)drv->iq_tail * drv->iq_dsz;
    if (siov_mem_write(drv->mem, gpa, b, drv->iq_dsz))
        return -EFAULT;
    drv->iq_tail = (drv->iq_tail + 1) % drv->iq_entries;
    return 0;
}

/* Wait for the status write of inv-wait seq; a queue error ends it with -EIO. */
static int qi_wait(struct siov_driver *drv, uint32_t seq)
{
    for (unsigned i = 0; i < POLL_LIMIT; i++) {
        uint32_t st;
        if (rd32(drv, drv->status_gpa, &st) == 0 && st == seq)
            return 0;
        uint32_t fsts = rd_reg32(drv, SIOV_REG_FSTS);
        if (fsts & FSTS_QI_ERRORS) {
            qi_recover(drv, fsts);
            return -EIO;
        }
    }
    return -ETIMEDOUT;
}

/* Submit n descriptors followed by a fenced inv-wait with status write, and wait. */
static int qi_submit(struct siov_driver *drv, const struct siov_qi_desc *d, unsigned n)
{
    int ret = qi_room(drv, n + 1);
    for (unsigned i = 0; i < n && !ret; i++)
        ret = qi_write(drv, d[i].qw0, d[i].qw1);
    if (ret)
        return ret;
    uint32_t seq = ++drv->seq;
    uint64_t w0 = siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | SIOV_WAIT0_FN;
    w0 = siov_set(w0, SIOV_WAIT0_SDATA, seq);
    ret = qi_write(drv, w0, drv->status_gpa & SIOV_WAIT1_SADDR);
    if (ret)
        return ret;
    siov_mmio_write(drv->iommu, SIOV_REG_IQT, (uint64_t)drv->iq_tail * drv->iq_dsz, 8);
    return qi_wait(drv, seq);
}

int siov_drv_qi_flush(struct siov_driver *drv)
{
    int ret = drv->batch_err;
    unsigned chunk = drv->iq_entries / 2 - 1;
    for (unsigned i = 0; i < drv->nbatch && !ret; i += chunk) {
        unsigned n = drv->nbatch - i < chunk ? drv->nbatch - i : chunk;
        ret = qi_submit(drv, drv->batch + i, n);
    }
    drv->nbatch = 0;
    drv->batch_err = 0;
    release_deferred(drv);
    return ret;
}

/* Smallest k >= 12 with [lo, hi) inside one naturally aligned 2^k block. */
static unsigned range_order(uint64_t lo, uint64_t hi)
{
    unsigned k = SIOV_PAGE_SHIFT;
    while (k < 64 && (lo >> k) != ((hi - 1) >> k))
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

static void inv_cc_global(struct siov_driver *drv)
{
    qi_add(drv, siov_set(siov_dsc_make_type(SIOV_DSC_CC), SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL), 0);
}

static void inv_iotlb(struct siov_driver *drv, unsigned gran, uint16_t did, uint64_t qw1)
{
    uint64_t q = siov_set(siov_dsc_make_type(SIOV_DSC_IOTLB), SIOV_IOTLB0_G, gran);
    qi_add(drv, siov_set(q, SIOV_IOTLB0_DID, did), qw1);
}

void siov_drv_inv_iotlb_dsi(struct siov_driver *drv, uint16_t did)
{
    inv_iotlb(drv, SIOV_INV_GRAN_DOMAIN, did, 0);
}

void siov_drv_inv_iotlb_range(struct siov_driver *drv, uint16_t did, uint64_t lo, uint64_t hi)
{
    unsigned k = range_order(lo, hi);
    unsigned am = k - SIOV_PAGE_SHIFT;
    if (!(drv->cap & SIOV_CAP_PSI) || k >= 64 || am > siov_get(drv->cap, SIOV_CAP_MAMV)) {
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
    if (k >= 64 || am > siov_get(drv->cap, SIOV_CAP_MAMV)) {
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

static void inv_pc_global(struct siov_driver *drv)
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
    if (!drv->dev_tlb)
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

/* --------------------------------------------------- context tables */

static unsigned ctx_half(const struct siov_driver *drv, siov_sid sid)
{
    return drv->scalable ? SIOV_SID_DEVFN(sid) >> 7 : 0;
}

static uint64_t ctx_entry_gpa(const struct siov_driver *drv, siov_sid sid)
{
    unsigned bus = SIOV_SID_BUS(sid), devfn = SIOV_SID_DEVFN(sid);
    uint64_t t = drv->ctx_table[bus][ctx_half(drv, sid)];
    return drv->scalable ? t + (devfn & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE : t + devfn * SIOV_CTX_ENTRY_SIZE;
}

/* The root-entry qword that points to the context table of sid's bus (half). */
static uint64_t root_word_gpa(const struct siov_driver *drv, siov_sid sid)
{
    return drv->root + SIOV_SID_BUS(sid) * SIOV_ROOT_ENTRY_SIZE + ctx_half(drv, sid) * 8;
}

static int ctx_table_get(struct siov_driver *drv, siov_sid sid)
{
    unsigned bus = SIOV_SID_BUS(sid), half = ctx_half(drv, sid);
    if (drv->ctx_users[bus][half]++)
        return 0;
    uint64_t t;
    int ret = siov_drv_page_alloc(drv, 1, &t);
    if (!ret)
        ret = siov_drv_wr64(drv, root_word_gpa(drv, sid), t | SIOV_RE0_P); /* P, LP and UP are bit 0 */
    if (ret) {
        drv->ctx_users[bus][half]--;
        return ret;
    }
    drv->ctx_table[bus][half] = t;
    return 0;
}

static void ctx_table_put(struct siov_driver *drv, siov_sid sid)
{
    unsigned bus = SIOV_SID_BUS(sid), half = ctx_half(drv, sid);
    if (--drv->ctx_users[bus][half])
        return;
    siov_drv_wr64(drv, root_word_gpa(drv, sid), 0);
    if (drv->cap & SIOV_CAP_CM)
        inv_cc_global(drv);
    siov_drv_page_defer(drv, drv->ctx_table[bus][half]);
    drv->ctx_table[bus][half] = 0;
    siov_drv_qi_flush(drv);
}

/* Scalable context entry: PASID directory, RID_PASID 0, P written last. */
static int ctx_sm_setup(struct siov_driver *drv, struct siov_dev *dev)
{
    int ret = siov_drv_page_alloc(drv, drv->dir_pages, &dev->dir);
    if (ret)
        return ret;
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid);
    uint64_t qw0 = dev->dir | siov_set(0, SIOV_SCE0_PDTS, drv->pdts) | SIOV_SCE0_P;
    qw0 |= (drv->pasid_ok ? SIOV_SCE0_PASIDE : 0) | (drv->dev_tlb ? SIOV_SCE0_DTE : 0);
    ret = siov_drv_wr64(drv, gpa + 8, siov_set(0, SIOV_SCE1_RID_PASID, SIOV_DRV_RID_PASID));
    if (!ret)
        ret = siov_drv_wr64(drv, gpa, qw0);
    if (!ret && (drv->cap & SIOV_CAP_CM)) {
        siov_drv_inv_cc_device(drv, dev->sid, 0);
        ret = siov_drv_qi_flush(drv);
    }
    if (!ret)
        ret = write_buffer_flush(drv);
    if (ret) {
        siov_drv_wr64(drv, gpa, 0);
        siov_drv_page_free(drv, dev->dir, drv->dir_pages);
    }
    return ret;
}

/* Present context entry removed (spec 6.5.3.3): context cache, device-TLB. */
static void ctx_sm_teardown(struct siov_driver *drv, struct siov_dev *dev)
{
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid);
    siov_drv_wr64(drv, gpa, 0);
    siov_drv_inv_cc_device(drv, dev->sid, 0);
    siov_drv_inv_devtlb(drv, dev->sid, SIOV_NO_PASID, 0, 0);
    siov_drv_qi_flush(drv);
    siov_mem_write(drv->mem, gpa, zero_page, SIOV_SM_CTX_ENTRY_SIZE);
    uint64_t ndir = (uint64_t)drv->dir_pages * SIOV_PAGE_SIZE / SIOV_PDE_SIZE;
    for (uint64_t i = 0; i < ndir; i++) {
        uint64_t pde;
        if (siov_drv_rd64(drv, dev->dir + i * SIOV_PDE_SIZE, &pde) == 0 && (pde & SIOV_PDE_P))
            siov_drv_page_free(drv, pde & SIOV_PDE_SMPTBLPTR, 1);
    }
    siov_drv_page_free(drv, dev->dir, drv->dir_pages);
}

/* ------------------------------------------------------------ devices */

struct siov_dev *siov_drv_dev_find(struct siov_driver *drv, siov_sid sid)
{
    struct siov_dev **bus = drv->devs[SIOV_SID_BUS(sid)];
    return bus ? bus[SIOV_SID_DEVFN(sid)] : NULL;
}

int siov_drv_dev_get(struct siov_driver *drv, siov_sid sid, struct siov_dev **out)
{
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (dev) {
        *out = dev;
        return 0;
    }
    struct siov_dev ***bus = &drv->devs[SIOV_SID_BUS(sid)];
    if (!*bus && !(*bus = calloc(256, sizeof(**bus))))
        return -ENOMEM;
    if (!(dev = calloc(1, sizeof(*dev))))
        return -ENOMEM;
    dev->sid = sid;
    int ret = ctx_table_get(drv, sid);
    if (!ret && drv->scalable && (ret = ctx_sm_setup(drv, dev)))
        ctx_table_put(drv, sid);
    if (ret) {
        free(dev);
        return ret;
    }
    (*bus)[SIOV_SID_DEVFN(sid)] = dev;
    *out = dev;
    return 0;
}

void siov_drv_dev_put(struct siov_driver *drv, struct siov_dev *dev)
{
    if (dev->rid_dom || dev->naux || dev->aux_enabled)
        return;
    if (drv->scalable)
        ctx_sm_teardown(drv, dev);
    ctx_table_put(drv, dev->sid);
    drv->devs[SIOV_SID_BUS(dev->sid)][SIOV_SID_DEVFN(dev->sid)] = NULL;
    free(dev);
}

/* ------------------------------------------------------ PASID entries */

/* The PASID-table entry of pasid, creating its PASID table if create. */
static int pasid_entry_gpa(struct siov_driver *drv, struct siov_dev *dev, uint32_t pasid, bool create,
                           uint64_t *gpa)
{
    uint64_t pde_gpa = dev->dir + siov_get(pasid, SIOV_PASID_DIR_INDEX) * SIOV_PDE_SIZE, pde, t;
    int ret = siov_drv_rd64(drv, pde_gpa, &pde);
    if (ret)
        return ret;
    if (!(pde & SIOV_PDE_P)) {
        if (!create)
            return -ENOENT;
        if ((ret = siov_drv_page_alloc(drv, 1, &t)))
            return ret;
        pde = t | SIOV_PDE_P;
        if ((ret = siov_drv_wr64(drv, pde_gpa, pde))) {
            siov_drv_page_free(drv, t, 1);
            return ret;
        }
    }
    *gpa = (pde & SIOV_PDE_SMPTBLPTR) + siov_get(pasid, SIOV_PASID_TBL_INDEX) * SIOV_PTE_SIZE;
    return 0;
}

int siov_drv_pasid_set(struct siov_driver *drv, struct siov_dev *dev, uint32_t pasid, const uint64_t pe[8])
{
    uint64_t gpa, qw0;
    int ret = pasid_entry_gpa(drv, dev, pasid, true, &gpa);
    if (ret || (ret = siov_drv_rd64(drv, gpa, &qw0)))
        return ret;
    if (qw0 & SIOV_PTE0_P)
        return -EEXIST;
    uint8_t b[SIOV_PTE_SIZE];
    for (int i = 0; i < 8; i++)
        siov_drv_put64(b + 8 * i, i ? pe[i] : pe[0] & ~SIOV_PTE0_P);
    /* the unit may read the entry in pieces: all fields first, P last (spec 9.6) */
    if (siov_mem_write(drv->mem, gpa, b, sizeof(b)) || siov_drv_wr64(drv, gpa, pe[0]))
        return -EFAULT;
    if (drv->cap & SIOV_CAP_CM) { /* the unit may have cached the non-present entry */
        uint16_t did = (uint16_t)siov_get(pe[1], SIOV_PTE1_DID);
        siov_drv_inv_pc(drv, did, pasid);
        siov_drv_inv_piotlb_pasid(drv, did, pasid);
        if ((ret = siov_drv_qi_flush(drv)))
            return ret;
    }
    return write_buffer_flush(drv);
}

int siov_drv_pasid_clear(struct siov_driver *drv, struct siov_dev *dev, uint32_t pasid)
{
    uint64_t gpa, qw0, qw1;
    int ret = pasid_entry_gpa(drv, dev, pasid, false, &gpa);
    if (ret || (ret = siov_drv_rd64(drv, gpa, &qw0)) || (ret = siov_drv_rd64(drv, gpa + 8, &qw1)))
        return ret;
    if (!(qw0 & SIOV_PTE0_P))
        return -ENOENT;
    uint16_t did = (uint16_t)siov_get(qw1, SIOV_PTE1_DID);
    unsigned pgtt = (unsigned)siov_get(qw0, SIOV_PTE0_PGTT);
    /* tear-down order of the spec's PASID-entry table (facts sheet 10.3) */
    siov_drv_wr64(drv, gpa, qw0 & ~SIOV_PTE0_P);
    siov_drv_inv_pc(drv, did, pasid);
    if (pgtt == SIOV_PGTT_FL || pgtt == SIOV_PGTT_PT)
        siov_drv_inv_piotlb_pasid(drv, did, pasid);
    else
        siov_drv_inv_iotlb_dsi(drv, did); /* second-level entries carry no PASID tag */
    siov_drv_inv_devtlb(drv, dev->sid, pasid == SIOV_DRV_RID_PASID ? SIOV_NO_PASID : pasid, 0, 0);
    ret = siov_drv_qi_flush(drv);
    siov_mem_write(drv->mem, gpa, zero_page, SIOV_PTE_SIZE);
    return ret;
}

/* -------------------------------------------------- legacy context entries */

int siov_drv_legacy_set(struct siov_driver *drv, struct siov_dev *dev, uint64_t qw0, uint64_t qw1)
{
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid);
    if (siov_drv_wr64(drv, gpa + 8, qw1) || siov_drv_wr64(drv, gpa, qw0))
        return -EFAULT;
    if (drv->cap & SIOV_CAP_CM) {
        uint16_t did = (uint16_t)siov_get(qw1, SIOV_CE1_DID);
        siov_drv_inv_cc_device(drv, dev->sid, did);
        siov_drv_inv_iotlb_dsi(drv, did);
        int ret = siov_drv_qi_flush(drv);
        if (ret)
            return ret;
    }
    return write_buffer_flush(drv);
}

int siov_drv_legacy_clear(struct siov_driver *drv, struct siov_dev *dev)
{
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid), qw1;
    if (siov_drv_rd64(drv, gpa + 8, &qw1))
        return -EFAULT;
    uint16_t did = (uint16_t)siov_get(qw1, SIOV_CE1_DID);
    siov_drv_wr64(drv, gpa, 0);
    /* legacy context-entry change (spec 6.5.3.3): context cache, then IOTLB by DID */
    siov_drv_inv_cc_device(drv, dev->sid, did);
    siov_drv_inv_iotlb_dsi(drv, did);
    int ret = siov_drv_qi_flush(drv);
    siov_drv_wr64(drv, gpa + 8, 0);
    return ret;
}

/* ------------------------------------------------------------- bring-up */

/* Paging geometry from CAP: SL depth (the smallest SAGAW covering MGAW, else
   the deepest), FL depth (5 levels with FL5LP and MGAW above 48), leaf sizes. */
static void read_geometry(struct siov_driver *drv)
{
    unsigned sagaw = (unsigned)siov_get(drv->cap, SIOV_CAP_SAGAW);
    unsigned mgaw = (unsigned)siov_get(drv->cap, SIOV_CAP_MGAW) + 1;
    drv->sl_aw = 0;
    for (unsigned aw = SIOV_AW_3LVL; aw <= SIOV_AW_5LVL; aw++) {
        if (!(sagaw & (1u << aw)))
            continue;
        bool covers_prev = drv->sl_aw && siov_aw_width(drv->sl_aw) >= mgaw;
        if (!covers_prev)
            drv->sl_aw = aw;
    }
    drv->sl_levels = drv->sl_aw ? siov_aw_levels(drv->sl_aw) : 0;
    unsigned w = drv->sl_aw ? siov_aw_width(drv->sl_aw) : 0;
    drv->sl_width = w < mgaw ? w : mgaw;
    drv->fl_levels = (drv->cap & SIOV_CAP_FL5LP) && mgaw > 48 ? 5 : 4;
    unsigned sllps = (unsigned)siov_get(drv->cap, SIOV_CAP_SLLPS);
    drv->sl_leaf_levels = 1u << 1 | (sllps & SIOV_SLLPS_2M ? 1u << 2 : 0) | (sllps & SIOV_SLLPS_1G ? 1u << 3 : 0);
    drv->fl_leaf_levels = 1u << 1 | 1u << 2 | (drv->cap & SIOV_CAP_FL1GP ? 1u << 3 : 0);
}

static int init_ids(struct siov_driver *drv)
{
    unsigned nd = (unsigned)siov_get(drv->cap, SIOV_CAP_ND);
    if (bm_init(&drv->dids, 1ull << (4 + 2 * (nd > 6 ? 6 : nd))))
        return -ENOMEM;
    bm_mark(&drv->dids, 0, 1, true); /* DID 0: reserved (caching mode tags faults with it) */
    drv->dids.hint = 1;
    unsigned bits = drv->pasid_ok ? (unsigned)siov_get(drv->ecap, SIOV_ECAP_PSS) + 1 : 1;
    if (bm_init(&drv->pasids, 1ull << bits))
        return -ENOMEM;
    bm_mark(&drv->pasids, 0, 1, true); /* PASID 0: RID_PASID, requests without PASID */
    drv->pasids.hint = 1;
    /* directory entries 2^(PDTS+7) cover 2^(PDTS+13) PASIDs (spec 9.4) */
    drv->pdts = bits > 13 ? bits - 13 : 0;
    uint64_t dir_bytes = (1ull << (drv->pdts + 7)) * SIOV_PDE_SIZE;
    drv->dir_pages = dir_bytes > SIOV_PAGE_SIZE ? (unsigned)(dir_bytes / SIOV_PAGE_SIZE) : 1;
    return 0;
}

/* Invalidation queue on (spec 6.5.2): IQT 0, IQA (256-bit descriptors in
   scalable mode, one page), then GCMD.QIE and wait for GSTS.QIES. */
static int qi_enable(struct siov_driver *drv)
{
    int ret = siov_drv_page_alloc(drv, 1, &drv->iq_base);
    if (ret || (ret = siov_drv_page_alloc(drv, 1, &drv->status_gpa)))
        return ret;
    drv->iq_dsz = drv->scalable ? 32 : 16;
    drv->iq_entries = SIOV_PAGE_SIZE / drv->iq_dsz;
    drv->iq_tail = 0;
    siov_mmio_write(drv->iommu, SIOV_REG_IQT, 0, 8);
    uint64_t iqa = drv->iq_base | (drv->scalable ? SIOV_IQA_DW : 0) | siov_set(0, SIOV_IQA_QS, 0);
    siov_mmio_write(drv->iommu, SIOV_REG_IQA, iqa, 8);
    return gcmd(drv, SIOV_GCMD_QIE, 0, SIOV_GSTS_QIES, true);
}

/* Root table latched with SRTP, caches dropped globally (needed without
   ESRTPS), then translation enabled. */
static int root_enable(struct siov_driver *drv)
{
    int ret = siov_drv_page_alloc(drv, 1, &drv->root);
    if (ret)
        return ret;
    unsigned ttm = drv->scalable ? SIOV_TTM_SCALABLE : SIOV_TTM_LEGACY;
    siov_mmio_write(drv->iommu, SIOV_REG_RTADDR, drv->root | siov_set(0, SIOV_RTADDR_TTM, ttm), 8);
    if ((ret = gcmd(drv, SIOV_GCMD_SRTP, 0, SIOV_GSTS_RTPS, true)))
        return ret;
    inv_cc_global(drv);
    if (drv->scalable)
        inv_pc_global(drv);
    inv_iotlb(drv, SIOV_INV_GRAN_GLOBAL, 0, 0);
    if ((ret = siov_drv_qi_flush(drv)))
        return ret;
    return gcmd(drv, SIOV_GCMD_TE, 0, SIOV_GSTS_TES, true);
}

/* A previous owner may have left translation or the queue on. */
static int quiesce(struct siov_driver *drv)
{
    int ret = 0;
    if (rd_reg32(drv, SIOV_REG_GSTS) & SIOV_GSTS_TES)
        ret = gcmd(drv, 0, SIOV_GCMD_TE, SIOV_GSTS_TES, false);
    if (!ret && (rd_reg32(drv, SIOV_REG_GSTS) & SIOV_GSTS_QIES))
        ret = gcmd(drv, 0, SIOV_GCMD_QIE, SIOV_GSTS_QIES, false);
    return ret;
}

static int pool_init(struct siov_driver *drv, uint64_t pool_gpa, uint64_t pool_size)
{
    uint64_t base = (pool_gpa + SIOV_PAGE_SIZE - 1) & SIOV_PAGE_MASK;
    uint64_t end = (pool_gpa + pool_size) & SIOV_PAGE_MASK;
    uint64_t msize = siov_mem_size(drv->mem);
    if (pool_gpa + pool_size < pool_gpa || base < pool_gpa || pool_gpa + pool_size > msize)
        return -EINVAL;
    if (end <= base || (end - base) / SIOV_PAGE_SIZE < 3) /* root table, queue, status word */
        return -EINVAL;
    drv->pool_base = base;
    return bm_init(&drv->pages, (end - base) / SIOV_PAGE_SIZE);
}

static void driver_destroy(struct siov_driver *drv)
{
    while (drv->domains)
        siov_domain_release(drv->domains);
    for (unsigned b = 0; b < 256; b++) {
        if (!drv->devs[b])
            continue;
        for (unsigned d = 0; d < 256; d++)
            free(drv->devs[b][d]);
        free(drv->devs[b]);
    }
    free(drv->pages.w);
    free(drv->pasids.w);
    free(drv->dids.w);
    free(drv->batch);
    free(drv->deferred);
    free(drv);
}

struct siov_driver *siov_driver_new(struct siov_iommu *iommu, struct siov_mem *mem, uint64_t pool_gpa,
                                    uint64_t pool_size)
{
    if (!iommu || !mem) {
        errno = EINVAL;
        return NULL;
    }
    struct siov_driver *drv = calloc(1, sizeof(*drv));
    if (!drv) {
        errno = ENOMEM;
        return NULL;
    }
    drv->iommu = iommu;
    drv->mem = mem;
    drv->cap = siov_mmio_read(iommu, SIOV_REG_CAP, 8);
    drv->ecap = siov_mmio_read(iommu, SIOV_REG_ECAP, 8);
    drv->scalable = drv->ecap & SIOV_ECAP_SMTS;
    drv->pasid_ok = drv->scalable && (drv->ecap & SIOV_ECAP_PASID);
    drv->dev_tlb = drv->scalable && (drv->ecap & SIOV_ECAP_DT);
    read_geometry(drv);
    int ret = (drv->ecap & SIOV_ECAP_QI) ? 0 : -ENODEV; /* the driver invalidates through the queue */
    if (!ret)
        ret = pool_init(drv, pool_gpa, pool_size);
    if (!ret)
        ret = init_ids(drv);
    if (!ret)
        ret = quiesce(drv);
    if (!ret)
        ret = qi_enable(drv);
    if (!ret)
        ret = root_enable(drv);
    if (ret) {
        quiesce(drv);
        driver_destroy(drv);
        errno = -ret;
        return NULL;
    }
    return drv;
}

void siov_driver_free(struct siov_driver *drv)
{
    if (!drv)
        return;
    quiesce(drv); /* translation off, queue off: the unit no longer reads the pool */
    driver_destroy(drv);
}

uint64_t siov_driver_pool_avail(const struct siov_driver *drv)
{
    return drv ? drv->pages.nfree : 0;
}

bool siov_driver_capable(const struct siov_driver *drv, enum siov_cap cap)
{
    if (!drv)
        return false;
    uint64_t e = drv->ecap;
    switch (cap) {
    case SIOV_CAP_AUX_DOMAIN:
        return drv->pasid_ok;
    case SIOV_CAP_FIRST_LEVEL:
        return drv->scalable && (e & SIOV_ECAP_FLTS);
    case SIOV_CAP_SECOND_LEVEL:
        return drv->sl_aw && (!drv->scalable || (e & SIOV_ECAP_SLTS));
    case SIOV_CAP_NESTED:
        return drv->scalable && drv->sl_aw && (e & SIOV_ECAP_NEST) && (e & SIOV_ECAP_FLTS) &&
               (e & SIOV_ECAP_SLTS);
    case SIOV_CAP_PASS_THROUGH:
        return e & SIOV_ECAP_PT;
    }
    return false;
}

/* ------------------------------------------------------- aux enabling */

int siov_dev_enable_aux(struct siov_driver *drv, siov_sid sid)
{
    if (!drv)
        return -EINVAL;
    if (!drv->pasid_ok)
        return -ENODEV;
    struct siov_dev *dev;
    int ret = siov_drv_dev_get(drv, sid, &dev);
    if (ret)
        return ret;
    dev->aux_enabled = true;
    return 0;
}

int siov_dev_disable_aux(struct siov_driver *drv, siov_sid sid)
{
    if (!drv)
        return -EINVAL;
    if (!drv->pasid_ok)
        return -ENODEV;
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (!dev || !dev->aux_enabled)
        return -EINVAL;
    if (dev->naux)
        return -EBUSY;
    dev->aux_enabled = false;
    siov_drv_dev_put(drv, dev);
    return 0;
}

/* Invalidation: the invalidation queue (spec 6.5.2; facts 1.8, 9) and
 * register-based invalidation through CCMD and IOTLB_REG (spec 6.5.1; facts
 * 1.6). What each request clears is the caches' business (facts 10.2); this file
 * decodes, validates and dispatches. Everything here runs under iommu->lock.
 */
#include <string.h>

#include "internal.h"

#define DSC_QWORDS_MAX 4
#define DSC_BYTES_128 16u
#define DSC_BYTES_256 32u
/* Not an IQEI: the descriptor must wait (for device-TLB completions, or for a
   free ITag); the queue stops on it and resumes when that changes. */
#define IQ_STALL 0x100u
#define ALL_ADDRESSES UINT64_MAX /* an event's size for every address (port.h) */

/* ----------------------------------------------------- shared actions */
static void count(struct siov_iommu *u, uint64_t *kind)
{
    siov_stat_inc(&u->stats.invalidations);
    siov_stat_inc(kind);
}

/* Hand a processed invalidation (descriptor type SIOV_TRACE_INV_*, its
   granularity field, its scope) to the trace hook, if one is set. */
static void traced(struct siov_iommu *u, unsigned type, unsigned gran, struct siov_trace_scope sc)
{
    if (__builtin_expect(u->trace_fn != NULL, 0))
        siov_trace_inval(u, type, gran, &sc);
}

/* The notifiers' event for an invalidation of kind at granularity g. */
static void event(struct siov_iommu *u, unsigned kind, unsigned g, uint16_t did, uint32_t pasid, uint64_t addr,
                  uint64_t size)
{
    struct siov_inval_event ev = {kind, g, did, 0, pasid, addr, size};
    siov_out_event(u, &ev);
}

/* Context-cache invalidation at granularity g; false for a reserved g. */
static bool cc_invalidate(struct siov_iommu *u, unsigned g, uint16_t did, siov_sid sid, unsigned fm)
{
    struct siov_inval_event ev = {SIOV_INV_CONTEXT, SIOV_INV_G_GLOBAL, 0, 0, SIOV_NO_PASID, 0, 0};
    switch (g) {
    case SIOV_INV_GRAN_GLOBAL: siov_cc_inv_global(u->caches); break;
    case SIOV_INV_GRAN_DOMAIN:
        siov_cc_inv_domain(u->caches, did);
        ev.granularity = SIOV_INV_G_DOMAIN, ev.did = did;
        break;
    case SIOV_INV_GRAN_DEVICE:
        siov_cc_inv_device(u->caches, sid, fm);
        ev.granularity = SIOV_INV_G_DEVICE, ev.sid = sid, ev.addr = fm;
        break;
    default: return false;
    }
    count(u, &u->stats.inv_context);
    siov_out_event(u, &ev);
    traced(u, SIOV_TRACE_INV_CONTEXT, g,
         (struct siov_trace_scope){did, g == SIOV_INV_GRAN_DEVICE ? sid : 0, SIOV_NO_PASID, 0, fm});
    return true;
}

/* A page-selective request names 2^am pages at addr: am within CAP.MAMV and
   addr aligned to the range (spec 6.5.2.3; QEMU rejects both). */
_Static_assert(SIOV_MODEL_MAMV + SIOV_PAGE_SHIFT < 64, "the range mask of an AM within CAP.MAMV fits a word");
static bool psi_valid(const struct siov_iommu *u, uint64_t addr, unsigned am)
{
    if (am > siov_get(u->cap, SIOV_CAP_MAMV))
        return false;
    return (addr & ((1ull << (am + SIOV_PAGE_SHIFT)) - 1)) == 0;
}

/* IOTLB invalidation at granularity g; the granularity performed, 0 if none
   (reserved g or a malformed page range). IH only spares paging-structure
   caches, which the model does not keep (docs/spec-notes.md). */
static unsigned iotlb_invalidate(struct siov_iommu *u, unsigned g, uint16_t did, uint64_t addr, unsigned am)
{
    if (g == SIOV_INV_GRAN_PAGE && !psi_valid(u, addr, am))
        return 0;
    if (g == SIOV_INV_GRAN_PAGE && !(u->cap & SIOV_CAP_PSI))
        g = SIOV_INV_GRAN_DOMAIN; /* a coarser invalidation is always allowed */
    switch (g) {
    case SIOV_INV_GRAN_GLOBAL: siov_tlb_inv_global(u->caches); break;
    case SIOV_INV_GRAN_DOMAIN: siov_tlb_inv_domain(u->caches, did); break;
    case SIOV_INV_GRAN_PAGE: siov_tlb_inv_page(u->caches, did, addr, am); break;
    default: return 0;
    }
    count(u, &u->stats.inv_iotlb);
    unsigned eg = g == SIOV_INV_GRAN_GLOBAL ? SIOV_INV_G_GLOBAL : g == SIOV_INV_GRAN_DOMAIN ? SIOV_INV_G_DOMAIN
                                                                                          : SIOV_INV_G_RANGE;
    bool range = eg == SIOV_INV_G_RANGE;
    event(u, SIOV_INV_IOTLB, eg, eg == SIOV_INV_G_GLOBAL ? 0 : did, SIOV_NO_PASID, range ? addr : 0,
          range ? SIOV_PAGE_SIZE << am : 0);
    traced(u, SIOV_TRACE_INV_IOTLB, g,
         (struct siov_trace_scope){did, 0, SIOV_NO_PASID, g == SIOV_INV_GRAN_PAGE ? addr : 0,
                                   g == SIOV_INV_GRAN_PAGE ? am : 0});
    return g;
}

/* ------------------------------------------------------- descriptors */
/* Each handler validates one descriptor (qw[0..3], 256-bit words zero in a
   128-bit queue) and performs it: SIOV_IQEI_NONE, or why the queue stops. */

static unsigned dsc_cc(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    if ((qw[0] & SIOV_CC0_RSVD) || qw[1])
        return SIOV_IQEI_RSVD;
    bool ok = cc_invalidate(u, (unsigned)siov_get(qw[0], SIOV_CC0_G), (uint16_t)siov_get(qw[0], SIOV_CC0_DID),
                            (siov_sid)siov_get(qw[0], SIOV_CC0_SID), (unsigned)siov_get(qw[0], SIOV_CC0_FM));
    return ok ? SIOV_IQEI_NONE : SIOV_IQEI_RSVD; /* G=00 */
}

static unsigned dsc_iotlb(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    if ((qw[0] & SIOV_IOTLB0_RSVD) || (qw[1] & SIOV_INV1_RSVD))
        return SIOV_IQEI_RSVD;
    unsigned g = (unsigned)siov_get(qw[0], SIOV_IOTLB0_G);
    unsigned done = iotlb_invalidate(u, g, (uint16_t)siov_get(qw[0], SIOV_IOTLB0_DID), qw[1] & SIOV_INV1_ADDR,
                                     (unsigned)siov_get(qw[1], SIOV_INV1_AM));
    return done ? SIOV_IQEI_NONE : SIOV_IQEI_RSVD;
}

static unsigned dsc_piotlb(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    if ((qw[0] & SIOV_PIOTLB0_RSVD) || (qw[1] & SIOV_INV1_RSVD))
        return SIOV_IQEI_RSVD;
    uint16_t did = (uint16_t)siov_get(qw[0], SIOV_PIOTLB0_DID);
    uint32_t pasid = (uint32_t)siov_get(qw[0], SIOV_PIOTLB0_PASID);
    uint64_t addr = qw[1] & SIOV_INV1_ADDR;
    unsigned am = (unsigned)siov_get(qw[1], SIOV_INV1_AM);
    switch (siov_get(qw[0], SIOV_PIOTLB0_G)) {
    case SIOV_PIOTLB_GRAN_PASID:
        siov_tlb_inv_pasid(u->caches, did, pasid);
        event(u, SIOV_INV_PIOTLB, SIOV_INV_G_PASID, did, pasid, 0, 0);
        break;
    case SIOV_PIOTLB_GRAN_PAGE:
        if (!psi_valid(u, addr, am))
            return SIOV_IQEI_RSVD;
        siov_tlb_inv_pasid_page(u->caches, did, pasid, addr, am);
        event(u, SIOV_INV_PIOTLB, SIOV_INV_G_RANGE, did, pasid, addr, SIOV_PAGE_SIZE << am);
        break;
    default: return SIOV_IQEI_RSVD; /* G=00/01 are not PASID-based granularities */
    }
    bool page = siov_get(qw[0], SIOV_PIOTLB0_G) == SIOV_PIOTLB_GRAN_PAGE;
    count(u, &u->stats.inv_piotlb);
    traced(u, SIOV_TRACE_INV_PIOTLB, (unsigned)siov_get(qw[0], SIOV_PIOTLB0_G),
         (struct siov_trace_scope){did, 0, pasid, page ? addr : 0, page ? am : 0});
    return SIOV_IQEI_NONE;
}

static unsigned dsc_pc(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    if ((qw[0] & SIOV_PC0_RSVD) || qw[1])
        return SIOV_IQEI_RSVD;
    uint16_t did = (uint16_t)siov_get(qw[0], SIOV_PC0_DID);
    uint32_t pasid = (uint32_t)siov_get(qw[0], SIOV_PC0_PASID);
    switch (siov_get(qw[0], SIOV_PC0_G)) {
    case SIOV_PC_GRAN_DOMAIN:
        siov_pc_inv_domain(u->caches, did);
        event(u, SIOV_INV_PASID_CACHE, SIOV_INV_G_DOMAIN, did, SIOV_NO_PASID, 0, 0);
        break;
    case SIOV_PC_GRAN_PASID:
        siov_pc_inv_pasid(u->caches, did, pasid);
        event(u, SIOV_INV_PASID_CACHE, SIOV_INV_G_PASID, did, pasid, 0, 0);
        break;
    case SIOV_PC_GRAN_GLOBAL:
        siov_pc_inv_global(u->caches);
        event(u, SIOV_INV_PASID_CACHE, SIOV_INV_G_GLOBAL, 0, SIOV_NO_PASID, 0, 0);
        break;
    default: return SIOV_IQEI_RSVD; /* G=10 is reserved */
    }
    unsigned g = (unsigned)siov_get(qw[0], SIOV_PC0_G);
    count(u, &u->stats.inv_pasid_cache);
    traced(u, SIOV_TRACE_INV_PC, g,
         (struct siov_trace_scope){.did = did,
                                   .pasid = g == SIOV_PC_GRAN_PASID ? (uint32_t)siov_get(qw[0], SIOV_PC0_PASID)
                                                                    : SIOV_NO_PASID});
    return SIOV_IQEI_NONE;
}

/* A free ITag (round robin, so a late completion of a timed-out one rarely
   meets its reuse), or -1. */
static int itag_alloc(struct siov_iommu *u, siov_sid sid)
{
    for (unsigned i = 0; i < SIOV_ITAGS; i++) {
        unsigned t = (u->itag_hand + i) % SIOV_ITAGS;
        if (!u->itag[t].busy) {
            u->itag[t] = (struct siov_itag){true, sid};
            u->itag_hand = (t + 1) % SIOV_ITAGS;
            u->dtlb_outstanding++;
            return (int)t;
        }
    }
    return -1;
}

/* A device-TLB invalidation decoded (ev: sid, pasid, range): sent to the
   port of its sid with an ITag, or complete at once without one. Waits (the
   queue stalls on it) while every ITag is busy. */
static unsigned devtlb_send(struct siov_iommu *u, struct siov_inval_event ev, bool global)
{
    const struct siov_port *p = siov_port_find(u, ev.sid);
    struct siov_outmsg m = {.send = p && p->ops.devtlb_invalidate, .notify = u->nnotif != 0, .ev = ev,
                            .global = global};
    if (m.send) {
        int t = itag_alloc(u, ev.sid);
        if (t < 0)
            return IQ_STALL;
        m.itag = (unsigned)t;
        m.port = *p;
    }
    if ((m.send || m.notify) && !siov_out_queue(u, &m) && m.send) {
        u->itag[m.itag].busy = false; /* out of memory: as a device without ATC, complete at once */
        u->dtlb_outstanding--;
    }
    count(u, &u->stats.inv_devtlb);
    return SIOV_IQEI_NONE;
}

/* The range of a device-TLB descriptor (S-bit encoding, facts 13.5) into ev. */
static void devtlb_range(struct siov_inval_event *ev, uint64_t addr, bool s)
{
    siov_ats_range_decode(addr, s, &ev->addr, &ev->size);
}

static unsigned dsc_devtlb(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    if ((qw[0] & SIOV_DTLB0_RSVD) || (qw[1] & SIOV_DTLB1_RSVD))
        return SIOV_IQEI_RSVD;
    struct siov_inval_event ev = {SIOV_INV_DEVTLB, SIOV_INV_G_RANGE, 0, (siov_sid)siov_get(qw[0], SIOV_DTLB0_SID),
                                  SIOV_NO_PASID, 0, 0};
    devtlb_range(&ev, qw[1] & SIOV_DTLB1_ADDR, qw[1] & SIOV_DTLB1_S);
    unsigned rc = devtlb_send(u, ev, false);
    if (rc == SIOV_IQEI_NONE)
        traced(u, SIOV_TRACE_INV_DEVTLB, (unsigned)siov_get(qw[1], SIOV_DTLB1_S),
             (struct siov_trace_scope){0, (siov_sid)siov_get(qw[0], SIOV_DTLB0_SID), SIOV_NO_PASID,
                                       qw[1] & SIOV_DTLB1_ADDR, 0});
    return rc;
}

static unsigned dsc_pdevtlb(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    if (qw[1] & SIOV_PDTLB1_RSVD)
        return SIOV_IQEI_RSVD;
    bool global = qw[1] & SIOV_PDTLB1_G;
    struct siov_inval_event ev = {SIOV_INV_DEVTLB, global ? SIOV_INV_G_GLOBAL : SIOV_INV_G_RANGE, 0,
                                  (siov_sid)siov_get(qw[0], SIOV_PDTLB0_SID),
                                  (uint32_t)siov_get(qw[0], SIOV_PDTLB0_PASID), 0, 0};
    devtlb_range(&ev, qw[1] & SIOV_PDTLB1_ADDR, qw[1] & SIOV_PDTLB1_S);
    unsigned rc = devtlb_send(u, ev, global);
    if (rc == SIOV_IQEI_NONE)
        traced(u, SIOV_TRACE_INV_PDEVTLB, (unsigned)siov_get(qw[1], SIOV_PDTLB1_G),
             (struct siov_trace_scope){0, (siov_sid)siov_get(qw[0], SIOV_PDTLB0_SID),
                                       (uint32_t)siov_get(qw[0], SIOV_PDTLB0_PASID), qw[1] & SIOV_PDTLB1_ADDR, 0});
    return rc;
}

/* Interrupt entry cache (spec 6.5.2.8): global (G=0), or the 2^IM entries
   around IIDX (G=1). IM above ECAP.MHMV is an invalid field, as an AM above
   CAP.MAMV is for the IOTLB (docs/spec-notes.md). */
static unsigned dsc_iec(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    if ((qw[0] & SIOV_IEC0_RSVD) || qw[1])
        return SIOV_IQEI_RSVD;
    unsigned im = (unsigned)siov_get(qw[0], SIOV_IEC0_IM);
    bool index = qw[0] & SIOV_IEC0_G; /* G=1: index-selective */
    if (!index)
        siov_iec_inv_global(u->caches);
    else if (im > siov_get(u->ecap, SIOV_ECAP_MHMV))
        return SIOV_IQEI_RSVD;
    else
        siov_iec_inv_index(u->caches, (uint32_t)siov_get(qw[0], SIOV_IEC0_IIDX), im);
    count(u, &u->stats.inv_iec);
    uint64_t iidx = index ? siov_get(qw[0], SIOV_IEC0_IIDX) : 0; /* a global one ignores IIDX and IM */
    event(u, SIOV_INV_IEC, index ? SIOV_INV_G_INDEX : SIOV_INV_G_GLOBAL, 0, SIOV_NO_PASID, iidx, index ? 1ull << im : 0);
    traced(u, SIOV_TRACE_INV_IEC, index, (struct siov_trace_scope){0, 0, SIOV_NO_PASID, iidx, index ? im : 0});
    return SIOV_IQEI_NONE;
}

/* Invalidation-completion event (spec 10.4.25-26): IWC, then IP or the MSI. */
static void completion_event(struct siov_iommu *u)
{
    if (u->ics & SIOV_ICS_IWC)
        return; /* the previous condition is not serviced yet: no new event */
    u->ics |= SIOV_ICS_IWC;
    if (u->iectl & SIOV_ECTL_IM) {
        u->iectl |= SIOV_ECTL_IP;
        return;
    }
    siov_msi_queue(u, SIOV_MSI_INV);
}

/* Invalidation wait: everything before it is complete — the unit's own
   invalidations at once, device-TLB ones when their devices say so (the
   queue stops here until then); then the status write and the event. PD=1
   (page-request drain, ECAP.PDS; spec 7.10) also needs every page request
   received before those completions to be visible in the page request
   queue: siov_page_request writes its descriptor before it returns, so a
   device's requests sent before its completion already are. PD is reserved
   without PDS. */
static unsigned dsc_wait(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    bool pd_ok = (u->ecap & SIOV_ECAP_PDS) != 0;
    if ((qw[0] & SIOV_WAIT0_RSVD) || (qw[1] & SIOV_WAIT1_RSVD) || ((qw[0] & SIOV_WAIT0_PD) && !pd_ok))
        return SIOV_IQEI_RSVD;
    if (u->dtlb_outstanding) {
        u->iq_wait_stalled = true;
        return IQ_STALL;
    }
    u->iq_wait_stalled = false;
    siov_stat_inc(&u->stats.inv_wait);
    if (qw[0] & SIOV_WAIT0_SW) {
        uint32_t data = (uint32_t)siov_get(qw[0], SIOV_WAIT0_SDATA);
        uint8_t le[4] = {(uint8_t)data, (uint8_t)(data >> 8), (uint8_t)(data >> 16), (uint8_t)(data >> 24)};
        (void)siov_mem_write(u->mem, qw[1] & SIOV_WAIT1_SADDR, le, sizeof(le)); /* unbacked: dropped */
    }
    if (qw[0] & SIOV_WAIT0_IF)
        completion_event(u);
    return SIOV_IQEI_NONE;
}

/* Page group response (spec 7.6.1, Fig 7-2; rev 4+ layout, facts 14.6): the
   code reaches the device RID names through its port, in descriptor order
   with the device-TLB invalidations. Bit 66 is ignored; qw2/qw3 (private
   data in rev 3.x) are reserved, checked by dsc_run. */
static unsigned dsc_pgrsp(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    if ((qw[0] & SIOV_PGRSP0_RSVD) || (qw[1] & SIOV_PGRSP1_RSVD))
        return SIOV_IQEI_RSVD;
    uint32_t pasid = (qw[0] & SIOV_PGRSP0_PP) ? (uint32_t)siov_get(qw[0], SIOV_PGRSP0_PASID) : SIOV_NO_PASID;
    siov_out_page_response(u, (siov_sid)siov_get(qw[0], SIOV_PGRSP0_RID), pasid,
                           (uint16_t)siov_get(qw[1], SIOV_PGRSP1_PRGI), (unsigned)siov_get(qw[0], SIOV_PGRSP0_RC),
                           false);
    return SIOV_IQEI_NONE;
}

typedef unsigned (*dsc_handler)(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX]);

/* Descriptor types the unit processes; sm_only ones are valid only with TTM
   scalable or abort-DMA (spec Table 26: legacy mode takes types 1-5). */
static const struct {
    dsc_handler run;
    bool sm_only;
} dsc_table[] = {
    [SIOV_DSC_CC] = {dsc_cc, false},         [SIOV_DSC_IOTLB] = {dsc_iotlb, false},
    [SIOV_DSC_DEVTLB] = {dsc_devtlb, false}, [SIOV_DSC_IEC] = {dsc_iec, false},
    [SIOV_DSC_WAIT] = {dsc_wait, false},     [SIOV_DSC_PIOTLB] = {dsc_piotlb, true},
    [SIOV_DSC_PC] = {dsc_pc, true},          [SIOV_DSC_PDEVTLB] = {dsc_pdevtlb, true},
    [SIOV_DSC_PGRP_RESP] = {dsc_pgrsp, true},
};

/* The translation table mode latched by SRTP (legacy before any). */
static unsigned latched_ttm(const struct siov_iommu *u)
{
    return (unsigned)siov_get(__atomic_load_n(&u->state, __ATOMIC_RELAXED), SIOV_RTADDR_TTM);
}

/* Validate and perform one fetched descriptor (docs/spec-notes.md, "Queue errors"). */
static unsigned dsc_run(struct siov_iommu *u, const uint64_t qw[DSC_QWORDS_MAX])
{
    unsigned type = siov_dsc_type(qw[0]), ttm = latched_ttm(u);
    /* unknown types include 0xA (HPT, ECAP.HPTS=0); device-TLB types need
       ECAP.DT (spec 6.5.2.5), the page group response ECAP.PRS (7.6.1) */
    if (type >= sizeof(dsc_table) / sizeof(dsc_table[0]) || !dsc_table[type].run)
        return SIOV_IQEI_TYPE;
    if ((type == SIOV_DSC_DEVTLB || type == SIOV_DSC_PDEVTLB) && !(u->ecap & SIOV_ECAP_DT))
        return SIOV_IQEI_TYPE;
    if (type == SIOV_DSC_PGRP_RESP && !(u->ecap & SIOV_ECAP_PRS))
        return SIOV_IQEI_TYPE;
    if (ttm == SIOV_TTM_RESERVED || (dsc_table[type].sm_only && ttm == SIOV_TTM_LEGACY))
        return SIOV_IQEI_TTM; /* Table 26 lists no such type for this TTM */
    if (qw[2] || qw[3])
        return SIOV_IQEI_RSVD; /* the upper half of a 256-bit descriptor is reserved */
    return dsc_table[type].run(u, qw);
}

/* ------------------------------------------------------------ the queue */
/* Descriptor width, or 0 when invalid (IQEI 5, spec 11.4.9.3 and 11.4.9.9):
   DW=1 needs ECAP.SMTS or ECAP.ADMS; DW=0 is invalid once the latched TTM
   is scalable or abort-DMA (Table 26 lists no 128-bit types there). */
static unsigned dsc_bytes(const struct siov_iommu *u)
{
    if (u->iqa & SIOV_IQA_DW)
        return (u->ecap & (SIOV_ECAP_SMTS | SIOV_ECAP_ADMS)) ? DSC_BYTES_256 : 0;
    unsigned ttm = latched_ttm(u);
    return ttm == SIOV_TTM_SCALABLE || ttm == SIOV_TTM_ABORT ? 0 : DSC_BYTES_128;
}

static uint64_t queue_bytes(const struct siov_iommu *u)
{
    return SIOV_PAGE_SIZE << siov_get(u->iqa, SIOV_IQA_QS);
}

/* Stop the queue: FSTS.IQE with IQERCD.IQEI, and the fault event (spec 6.5.2.10). */
static void iq_error(struct siov_iommu *u, unsigned iqei)
{
    u->iqercd = siov_set(u->iqercd, SIOV_IQERCD_IQEI, iqei);
    u->fsts |= SIOV_FSTS_IQE;
    siov_fault_event_locked(u);
}

/* Fetch the descriptor at byte offset head; false on a fetch error. */
static bool dsc_fetch(struct siov_iommu *u, uint64_t head, unsigned width, uint64_t qw[DSC_QWORDS_MAX])
{
    uint64_t base = (u->iqa & SIOV_IQA_IQA) + head;
    for (unsigned i = 0; i < DSC_QWORDS_MAX; i++) {
        qw[i] = 0;
        if (i * 8 < width && siov_mem_read64(u->mem, base + i * 8, &qw[i]) < 0)
            return false;
    }
    return true;
}

void siov_iq_process(struct siov_iommu *u)
{
    if (!(u->gsts & SIOV_GSTS_QIES) || (u->fsts & (SIOV_FSTS_IQE | SIOV_FSTS_ITE)))
        return; /* disabled, or stopped until software clears IQE or ITE */
    unsigned width = dsc_bytes(u);
    uint64_t size = queue_bytes(u);
    uint64_t head = u->iqh & SIOV_IQ_PTR, tail = u->iqt & SIOV_IQ_PTR;
    if (!width) {
        iq_error(u, SIOV_IQEI_WIDTH);
        return;
    }
    if (tail % width) {
        iq_error(u, SIOV_IQEI_TAIL_ALIGN);
        return;
    }
    if (tail >= size) {
        iq_error(u, SIOV_IQEI_TAIL);
        return;
    }
    while (head != tail) {
        uint64_t qw[DSC_QWORDS_MAX];
        bool fetched = u->iq_held;
        if (fetched) /* fetched when it stalled: not read again (software may not rewrite it) */
            memcpy(qw, u->iq_held_qw, sizeof(qw));
        else
            fetched = dsc_fetch(u, head, width, qw);
        u->iq_held = false;
        unsigned iqei = fetched ? dsc_run(u, qw) : SIOV_IQEI_FETCH;
        if (iqei == IQ_STALL) { /* IQH stays on it: a completion or the time-out goes on from here */
            memcpy(u->iq_held_qw, qw, sizeof(qw));
            u->iq_held = true;
            return;
        }
        if (iqei != SIOV_IQEI_NONE) {
            iq_error(u, iqei); /* IQH stays on the offending descriptor */
            return;
        }
        head = (head + width) % size;
        u->iqh = head;
    }
}

void siov_iq_disable(struct siov_iommu *u)
{
    u->iqh = 0;
    for (unsigned t = 0; t < SIOV_ITAGS; t++) /* the queue is gone: nothing waits for them */
        if (u->itag[t].busy)
            siov_out_drop_sends(u, u->itag[t].sid, false);
    memset(u->itag, 0, sizeof(u->itag));
    u->dtlb_outstanding = 0;
    u->iq_wait_stalled = false;
    u->iq_held = false;
}

/* ------------------------------------------- device-TLB completions, ITE, ICE */
/* An invalid completion (spec 4.3): ICE, ICESID when ICE was clear, the event. */
static void completion_error(struct siov_iommu *u, siov_sid sid)
{
    if (!(u->fsts & SIOV_FSTS_ICE))
        u->iqercd = siov_set(u->iqercd, SIOV_IQERCD_ICESID, sid);
    u->fsts |= SIOV_FSTS_ICE;
    siov_fault_event_locked(u);
}

void siov_iq_devtlb_done(struct siov_iommu *u, siov_sid sid, unsigned itag)
{
    if (!(u->ecap & SIOV_ECAP_DT) || !(u->gsts & SIOV_GSTS_TES))
        return; /* no device TLBs, or an unsupported request with translation off (spec 4.2.1) */
    if (itag >= SIOV_ITAGS || !u->itag[itag].busy || u->itag[itag].sid != sid) {
        completion_error(u, sid);
        return;
    }
    u->itag[itag].busy = false;
    u->dtlb_outstanding--;
    siov_iq_process(u); /* the inv-wait, or a descriptor waiting for an ITag, goes on */
}

void siov_iq_expire(struct siov_iommu *u)
{
    if (!u->dtlb_outstanding)
        return;
    for (unsigned t = 0; t < SIOV_ITAGS; t++) {
        if (!u->itag[t].busy)
            continue;
        if (!(u->fsts & SIOV_FSTS_ITE)) /* several at once: the first reports its device */
            u->iqercd = siov_set(u->iqercd, SIOV_IQERCD_ITESID, u->itag[t].sid);
        u->fsts |= SIOV_FSTS_ITE;
        u->itag[t].busy = false;
        siov_stat_inc(&u->stats.devtlb_timeouts);
    }
    u->dtlb_outstanding = 0;
    if (u->iq_wait_stalled) { /* the pending inv-wait is aborted: no status write, no IWC */
        u->iqh = (u->iqh + dsc_bytes(u)) % queue_bytes(u);
        u->iq_wait_stalled = false;
        u->iq_held = false;
    }
    siov_fault_event_locked(u);
}

void siov_iq_port_gone(struct siov_iommu *u, siov_sid sid)
{
    siov_out_drop_sends(u, sid, true);
    for (unsigned t = 0; t < SIOV_ITAGS; t++) {
        if (u->itag[t].busy && u->itag[t].sid == sid) {
            u->itag[t].busy = false;
            u->dtlb_outstanding--;
        }
    }
    siov_iq_process(u);
}

/* ---------------------------------------------- register-based invalidation */
/* Register-based invalidation exists before VER 6.0 and only while QIE=0. */
static bool reg_inv_usable(const struct siov_iommu *u)
{
    return siov_get(u->cfg.version, SIOV_VER_MAJOR) < 6 && !(u->gsts & SIOV_GSTS_QIES);
}

void siov_inv_ccmd(struct siov_iommu *u, uint64_t ccmd)
{
    if (!(ccmd & SIOV_CCMD_ICC) || !reg_inv_usable(u))
        return;
    unsigned g = (unsigned)siov_get(ccmd, SIOV_CCMD_CIRG);
    bool ok = cc_invalidate(u, g, (uint16_t)siov_get(ccmd, SIOV_CCMD_DID), (siov_sid)siov_get(ccmd, SIOV_CCMD_SID),
                            (unsigned)siov_get(ccmd, SIOV_CCMD_FM));
    u->ccmd = siov_set(ccmd & ~SIOV_CCMD_ICC, SIOV_CCMD_CAIG, ok ? g : 0);
}

void siov_inv_iotlb_reg(struct siov_iommu *u, uint64_t cmd)
{
    if (!(cmd & SIOV_IOTLB_IVT) || !reg_inv_usable(u))
        return;
    unsigned done = iotlb_invalidate(u, (unsigned)siov_get(cmd, SIOV_IOTLB_IIRG),
                                     (uint16_t)siov_get(cmd, SIOV_IOTLB_DID), u->iva & SIOV_IVA_ADDR,
                                     (unsigned)siov_get(u->iva, SIOV_IVA_AM));
    u->iotlb_reg = siov_set(cmd & ~SIOV_IOTLB_IVT, SIOV_IOTLB_IAIG, done);
}

/* Page requests as they arrive (siov_page_request, <siov/prq.h>): the
   checks of Table 30's page-request column in the spec's order — root
   table, context entry with PRE, PASID entry — their faults (FRCD T1=0
   T2=1) and the unit's Invalid Request answer, then the queue (prq.c).
   docs/spec-notes.md, "Page requests", says the choices. */
#include "internal.h"

#define ACCESS_REQ (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV)

/* The request as the unit sees it: ER and PR only with a PASID (they travel
   in its prefix), a request asking for neither read nor write reads (R=W=0
   with L=1 would be a stop marker), a stop marker asks for nothing. */
static struct siov_page_request normalize(const struct siov_page_request *in)
{
    struct siov_page_request r = *in;
    r.addr &= SIOV_PAGE_MASK;
    r.prg_index &= (uint16_t)siov_get(SIOV_PRQ1_PRGI, SIOV_PRQ1_PRGI);
    r.access &= ACCESS_REQ;
    if (r.pasid == SIOV_NO_PASID)
        r.access &= ~(SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV);
    if (!(r.access & (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE)))
        r.access |= SIOV_ACCESS_READ;
    if (r.stop_marker) {
        r.access = 0;
        r.last = true;
        r.prg_index = 0;
        r.addr = 0;
    }
    return r;
}

/* The PASID-table entry the request names, through the PASID cache. */
static siov_fault pasid_entry(struct siov_iommu *u, const struct siov_req *req, const struct siov_ctx_ent *ce,
                              struct siov_pasid_ent *pe, bool *fpd)
{
    if (siov_pc_lookup(u->caches, req->sid, req->pasid, pe)) {
        *fpd = pe->fpd;
        return SIOV_OK;
    }
    siov_fault f = siov_pasid_lookup(u, ce, req->pasid, pe, fpd);
    if (!f)
        siov_pc_fill_epoch(u->caches, req->epoch, req->sid, req->pasid, pe);
    return f;
}

/* Table 30, page-request column, in the order a request meets the
   structures: RTA.1/RTA.3/RTA.4, the root and context entries (SRT.*,
   SCT.1-4), PRE (SCT.8), then the PASID (SCT.6/7/9, SGN.10, SPD.*, SPT.1-4). */
static siov_fault check(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                        struct siov_pasid_ent *pe, bool *record, bool *fpd)
{
    *fpd = false;
    siov_fault f = siov_root_check(u, state, record);
    if (f)
        return f;
    if (siov_get(state, SIOV_RTADDR_TTM) == SIOV_TTM_LEGACY)
        return SIOV_FAULT_RTA_3; /* page requests exist in scalable mode only */
    struct siov_ctx_ent ce;
    f = siov_context_get(u, state, req, &ce);
    *fpd = ce.fpd;
    if (f)
        return f;
    if (!ce.pre)
        return SIOV_FAULT_SCT_8;
    return pasid_entry(u, req, &ce, pe, fpd);
}

/* A refused request: recorded (not for stop markers, which SMS drops
   silently, nor where record says so), a last one answered Invalid Request
   (Response Failure would stop PRI for the whole device, Table 30). */
static siov_fault refuse(struct siov_iommu *u, const struct siov_req *req, const struct siov_page_request *r,
                         siov_fault f, bool record, bool fpd)
{
    siov_stat_inc(&u->stats.prq_refused);
    if (r->stop_marker)
        return f;
    if (f != SIOV_ERR_BUS && record)
        siov_fault_report(u, req, f, fpd);
    else if (f != SIOV_ERR_BUS)
        siov_stat_inc(&u->stats.faults);
    if (r->last)
        siov_prq_respond(u, req->sid, r->pasid, r->prg_index, SIOV_PRQ_INVALID);
    return f;
}

siov_fault siov_page_request(struct siov_iommu *iommu, siov_sid sid, const struct siov_page_request *req)
{
    if (!iommu || !req || !(iommu->ecap & SIOV_ECAP_PRS))
        return SIOV_ERR_BUS; /* no page request interface: an unsupported request */
    if (req->stop_marker && req->pasid == SIOV_NO_PASID)
        return SIOV_ERR_BUS; /* a stop marker names a PASID: malformed */
    struct siov_page_request r = normalize(req);
    unsigned access = r.access | SIOV_ACCESS_PAGE_REQ;
    struct siov_req q = siov_req_make(iommu, sid, r.pasid, r.addr, access);
    uint64_t state = __atomic_load_n(&iommu->state, __ATOMIC_ACQUIRE);
    if (r.pasid != SIOV_NO_PASID && r.pasid > SIOV_PASID_MAX) /* no prefix or FRCD.PV holds it */
        return refuse(iommu, &q, &r, SIOV_FAULT_SGN_10, false, false);
    if (!(state & SIOV_STATE_TE)) /* translation off: an unsupported request, not a fault */
        return refuse(iommu, &q, &r, SIOV_ERR_BUS, false, false);
    struct siov_pasid_ent pe;
    bool record, fpd;
    siov_fault f = check(iommu, state, &q, &pe, &record, &fpd);
    if (f)
        return refuse(iommu, &q, &r, f, record, fpd);
    return siov_prq_enqueue(iommu, sid, &r, &pe);
}

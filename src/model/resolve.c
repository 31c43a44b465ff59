/* The steps every request pipeline shares (translate.c, ats.c): the root
   table state, the context entry and the PASID-table entry through their
   caches, and whether a cached walk answers a request. */
#include "hot_stats.h"
#include "internal.h"

siov_fault siov_root_check(const struct siov_iommu *u, uint64_t state, bool *record)
{
    unsigned ttm = (unsigned)siov_get(state, SIOV_RTADDR_TTM);
    *record = true;
    if (ttm == SIOV_TTM_ABORT && (u->ecap & SIOV_ECAP_ADMS)) {
        *record = false; /* RTA.4, "if reported" (Table 30): blocked and not recorded, docs/spec-notes.md */
        return SIOV_FAULT_RTA_4;
    }
    /* RTA.1 for every TTM the unit cannot use (spec 10.4.6) */
    if (ttm == SIOV_TTM_RESERVED || ttm == SIOV_TTM_ABORT)
        return SIOV_FAULT_RTA_1;
    if (ttm == SIOV_TTM_SCALABLE && !(u->ecap & SIOV_ECAP_SMTS))
        return SIOV_FAULT_RTA_1;
    if ((state & SIOV_RTADDR_RTA) & siov_above(u->cfg.haw))
        return SIOV_FAULT_RTA_1;
    return SIOV_OK;
}

siov_fault siov_context_get(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                            struct siov_ctx_ent *ce)
{
    siov_sid sid = req->sid;
    if (!req->nocache && siov_cc_lookup(u->caches, sid, ce)) {
        STAT_HOT(u, context_cache_hits);
        return SIOV_OK;
    }
    STAT_HOT(u, context_cache_misses);
    siov_fault f = siov_context_lookup(u, state, sid, ce);
    if (!f)
        siov_cc_fill_epoch(u->caches, req->epoch, sid, ce);
    return f;
}

static bool is_ats(const struct siov_req *req)
{
    return (req->access & (SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_TRANSLATED)) != 0;
}

siov_fault siov_resolve(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                        struct siov_pasid_ent *pe, bool *fpd)
{
    bool legacy = siov_get(state, SIOV_RTADDR_TTM) == SIOV_TTM_LEGACY;
    if (legacy && req->pasid != SIOV_NO_PASID)
        return SIOV_FAULT_RTA_2;
    /* a cached entry refusing ATS is looked up again: SCT.5 comes from the
       context entry, with its FPD alone */
    if (!legacy && !req->nocache && siov_pc_lookup(u->caches, req->sid, req->pasid, pe) &&
        (pe->ats_ok || !is_ats(req))) {
        STAT_HOT(u, pasid_cache_hits);
        *fpd = pe->fpd;
        return SIOV_OK;
    }
    struct siov_ctx_ent ce;
    siov_fault f = siov_context_get(u, state, req, &ce);
    *fpd = ce.fpd;
    if (f)
        return f;
    if (legacy) {
        f = siov_context_legacy_pe(u, &ce, pe);
        return !f && is_ats(req) && !pe->ats_ok ? SIOV_FAULT_LCT_5 : f;
    }
    if (is_ats(req) && !ce.dte)
        return SIOV_FAULT_SCT_5; /* ATS not enabled for the device (spec 9.4) */
    STAT_HOT(u, pasid_cache_misses);
    f = siov_pasid_lookup(u, &ce, req->pasid, pe, fpd);
    if (!f)
        siov_pc_fill_epoch(u->caches, req->epoch, req->sid, req->pasid, pe);
    return f;
}

#define ACCESS_RWX (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC)

bool siov_hit_usable(const struct siov_pasid_ent *pe, const struct siov_walk_out *w, unsigned access)
{
    bool priv = access & SIOV_ACCESS_PRIV;
    bool fl = pe->pgtt == SIOV_PGTT_FL || pe->pgtt == SIOV_PGTT_NESTED;
    if (fl && ((priv && !pe->sre) || ((access & SIOV_ACCESS_EXEC) && !pe->ere)))
        return false; /* SPT.6 / SPT.5: let the walk report it */
    unsigned perm = priv ? w->perm_super : w->perm_user;
    if (access & ACCESS_RWX & ~perm)
        return false;
    return !(access & SIOV_ACCESS_WRITE) || w->dirty;
}

struct siov_req siov_req_make(struct siov_iommu *u, siov_sid sid, uint32_t pasid, uint64_t addr, unsigned access)
{
    return (struct siov_req){sid, pasid, addr, access, siov_caches_epoch(u->caches), false, NULL};
}

/* ATS translation requests (AT=01): the completion a device receives (spec
   4.2.3, Table 10; facts 13.3) and Table 30's choice between a Success with
   reduced permissions, UR and CA (facts 13.4); siov_ats_translate. */
#include "hot_stats.h"
#include "internal.h"

#define ACCESS_RW (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE)

/* What Table 30 answers a translation request that met a condition. */
enum answer {
    ANS_NONE,    /* Success with R=W=0, nothing recorded (the device may ask for the page) */
    ANS_NONE_REC, /* the same, and the fault is recorded (SFS.10) */
    ANS_PERM,    /* a permission the page lacks: Success with those it has */
    ANS_UR,      /* not present or blocked by programming */
    ANS_CA,      /* access errors, reserved bits, bad programming */
};

static enum answer classify(siov_fault f)
{
    switch (f) {
    case SIOV_FAULT_LRT_2: case SIOV_FAULT_LCT_2: case SIOV_FAULT_SRT_2: case SIOV_FAULT_SCT_2:
    case SIOV_FAULT_LCT_5: case SIOV_FAULT_SCT_5: case SIOV_FAULT_SCT_6: case SIOV_FAULT_SCT_7:
    case SIOV_FAULT_SCT_9: case SIOV_FAULT_SCT_10: case SIOV_FAULT_SGN_10: case SIOV_FAULT_RTA_2:
    case SIOV_FAULT_RTA_4: case SIOV_FAULT_RTA_5:
        return ANS_UR;
    case SIOV_FAULT_SPD_2: case SIOV_FAULT_SPT_2: case SIOV_FAULT_SPT_5: case SIOV_FAULT_SPT_6:
    case SIOV_FAULT_SFL_1: case SIOV_FAULT_SFL_2: case SIOV_FAULT_SFL_3: case SIOV_FAULT_SFL_4:
    case SIOV_FAULT_SFL_5: case SIOV_FAULT_SFL_6: case SIOV_FAULT_SFL_7: case SIOV_FAULT_SFL_8:
    case SIOV_FAULT_SFL_9: case SIOV_FAULT_SSL_2: case SIOV_FAULT_SGN_1: case SIOV_FAULT_SGN_2:
    case SIOV_FAULT_SGN_4: case SIOV_FAULT_SGN_5: case SIOV_FAULT_LGN_1:
        return ANS_NONE;
    case SIOV_FAULT_SFL_10:
        return ANS_NONE_REC;
    case SIOV_FAULT_LGN_2: case SIOV_FAULT_LGN_3: case SIOV_FAULT_SGN_3: case SIOV_FAULT_SGN_6:
    case SIOV_FAULT_SGN_7:
        return ANS_PERM;
    default:
        /* LRT.1/3, LCT.1/3/4, LSL.*, LGN.4, RTA.1, SRT.1/3, SCT.1/3/4, SPD.1/3, SPT.1/3/4, SSL.1/3-6, SGN.8 */
        return ANS_CA;
    }
}

/* The largest page size the unit supports: what a pass-through completion spans (S=1). */
static uint64_t largest_page(const struct siov_iommu *u)
{
    const struct siov_iommu_config *c = &u->cfg;
    if ((c->sl_large & SIOV_SLLPS_1G) || (c->first_level && c->fl_1g))
        return 1ull << 30;
    if ((c->sl_large & SIOV_SLLPS_2M) || c->first_level)
        return 1ull << 21;
    return SIOV_PAGE_SIZE;
}

/* The IOTLB, then a walk with access; a walk's result fills the IOTLB. */
static siov_fault page_for(struct siov_iommu *u, const struct siov_req *req, const struct siov_pasid_ent *pe,
                           unsigned access, struct siov_walk_out *w)
{
    if (!req->nocache && siov_tlb_lookup(u->caches, pe, req->addr, w) && siov_hit_usable(pe, w, access)) {
        STAT_HOT(u, iotlb_hits);
        if (req->how)
            *req->how = SIOV_HOW_HIT;
        return SIOV_OK;
    }
    STAT_HOT(u, iotlb_misses);
    STAT_HOT(u, walks);
    if (req->how)
        *req->how = SIOV_HOW_WALK;
    siov_fault f = siov_walk(u, pe, req->addr, access, w);
    if (!f && !req->nocache)
        siov_caches_fill(u->caches, req, pe, w, SIOV_FILL_IOTLB);
    return f;
}

/* Walk for the permissions the completion carries: read and write (only
   read under NW with NWFS: no D for a read-only fill), and after a
   permission fault the permissions the page has. *access: the one that
   succeeded. A/D are set for it (spec 4.2.3.1). Exe is never granted, so an
   execute request is checked against ERE only (SPT.5) and walks as a read. */
static siov_fault walk_grants(struct siov_iommu *u, const struct siov_req *req, const struct siov_pasid_ent *pe,
                              struct siov_walk_out *w, unsigned *access)
{
    bool nw = (req->access & SIOV_ACCESS_NO_WRITE) && (u->ecap & SIOV_ECAP_NWFS);
    bool fl = pe->pgtt == SIOV_PGTT_FL || pe->pgtt == SIOV_PGTT_NESTED;
    unsigned priv = req->access & SIOV_ACCESS_PRIV;
    if (fl && (req->access & SIOV_ACCESS_EXEC) && !pe->ere && (!priv || pe->sre))
        return SIOV_FAULT_SPT_5;
    unsigned tries[3] = {priv | (nw ? SIOV_ACCESS_READ : ACCESS_RW), priv | SIOV_ACCESS_READ,
                         priv | SIOV_ACCESS_WRITE};
    unsigned n = nw ? 1 : 3;
    siov_fault f = SIOV_OK;
    for (unsigned i = 0; i < n; i++) {
        *access = tries[i];
        f = page_for(u, req, pe, tries[i], w);
        if (classify(f) != ANS_PERM)
            return f;
    }
    return f; /* no permission at all: Success with R=W=0 */
}

/* Success for a present page under pe: range, permissions, N (facts 13.3). */
static siov_fault complete_walk(struct siov_iommu *u, const struct siov_req *req, const struct siov_pasid_ent *pe,
                                struct siov_ats_completion *out)
{
    struct siov_walk_out w;
    unsigned access;
    siov_fault f = walk_grants(u, req, pe, &w, &access);
    if (f)
        return classify(f) == ANS_PERM ? SIOV_OK : f;
    uint64_t output = w.page + (req->addr & (w.page_size - 1));
    if (pe->pgtt != SIOV_PGTT_PT && output >= SIOV_INTR_BASE && output <= SIOV_INTR_LIMIT)
        return pe->legacy ? SIOV_FAULT_LGN_4 : SIOV_FAULT_SGN_8;
    unsigned perm = (access & SIOV_ACCESS_PRIV) ? w.perm_super : w.perm_user;
    out->r = (access & SIOV_ACCESS_READ) && (perm & SIOV_ACCESS_READ);
    out->w = (access & SIOV_ACCESS_WRITE) && (perm & SIOV_ACCESS_WRITE);
    out->size = w.page_size;
    out->addr = w.page;
    if (pe->pgtt == SIOV_PGTT_PT) { /* S=1 over the largest page (spec 4.2.3) */
        out->size = largest_page(u);
        out->addr = req->addr & ~(out->size - 1);
    }
    bool sl = pe->pgtt == SIOV_PGTT_SL || pe->pgtt == SIOV_PGTT_NESTED;
    out->no_snoop = !pe->legacy && sl && w.snoop; /* PGSNP needs ECAP.SC, which the unit lacks */
    return SIOV_OK;
}

/* Requests without PASID to 0xFEEx_xxxx (facts 13.3, S.1 and S.2): not faults. */
static void interrupt_range(const struct siov_iommu *u, const struct siov_req *req, struct siov_ats_completion *out)
{
    bool nw = (req->access & SIOV_ACCESS_NO_WRITE) && (u->ecap & SIOV_ECAP_NWFS);
    out->w = !nw;
    out->untranslated_only = !nw;
}

/* The completion for a condition f met along the way, and what is returned. */
static siov_fault conclude(struct siov_iommu *u, const struct siov_req *req, siov_fault f, bool record, bool fpd,
                           struct siov_ats_completion *out)
{
    if (!f)
        return SIOV_OK;
    enum answer a = classify(f);
    if (a == ANS_NONE || a == ANS_PERM)
        return SIOV_OK; /* Success with R=W=0: not reported (spec 7.1.2) */
    if (a == ANS_UR || a == ANS_CA)
        out->status = a == ANS_UR ? SIOV_ATS_UR : SIOV_ATS_CA;
    if (req->nocache)
        return f;
    if (record)
        siov_fault_report(u, req, f, fpd);
    else
        siov_stat_inc(&u->stats.faults);
    return f;
}

siov_fault siov_ats_request(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                            struct siov_ats_completion *out)
{
    *out = (struct siov_ats_completion){
        .status = SIOV_ATS_SUCCESS, .addr = req->addr & SIOV_PAGE_MASK, .size = SIOV_PAGE_SIZE};
    out->priv = req->pasid != SIOV_NO_PASID && (req->access & SIOV_ACCESS_PRIV);
    if (!req->nocache)
        siov_stat_inc(&u->stats.ats_requests);
    bool record, fpd = false;
    siov_fault f = siov_root_check(u, state, &record);
    struct siov_pasid_ent pe;
    if (!f)
        f = siov_resolve(u, state, req, &pe, &fpd);
    if (!f && req->pasid == SIOV_NO_PASID && req->addr >= SIOV_INTR_BASE && req->addr <= SIOV_INTR_LIMIT)
        interrupt_range(u, req, out);
    else if (!f)
        f = complete_walk(u, req, &pe, out);
    return conclude(u, req, f, record, fpd, out);
}

/* A translation request as a device sends it; *how: what answered its walk. */
static siov_fault ats_translate(struct siov_iommu *iommu, struct siov_xlate_req q, struct siov_ats_completion *out,
                                unsigned *how)
{
    *out = (struct siov_ats_completion){.status = SIOV_ATS_UR, .addr = q.iova & SIOV_PAGE_MASK, .size = SIOV_PAGE_SIZE};
    if (q.pasid != SIOV_NO_PASID && q.pasid > SIOV_PASID_MAX) {
        siov_stat_inc(&iommu->stats.ats_requests);
        siov_stat_inc(&iommu->stats.faults); /* above every PASID width (SGN.10): nothing records it */
        return SIOV_FAULT_SGN_10;
    }
    unsigned access = q.access;
    if (q.pasid == SIOV_NO_PASID) /* PR and ER travel in the PASID TLP prefix (spec 3.4.1) */
        access &= ~(SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC);
    access = (access & (SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC | SIOV_ACCESS_NO_WRITE)) | SIOV_ACCESS_ATS_REQ |
             SIOV_ACCESS_READ; /* a translation request is a memory read */
    uint64_t state = __atomic_load_n(&iommu->state, __ATOMIC_ACQUIRE);
    if (!(state & SIOV_STATE_TE)) {
        siov_stat_inc(&iommu->stats.ats_requests);
        return SIOV_ERR_BUS; /* UR with translation disabled (spec 4.2.1) */
    }
    struct siov_req req = siov_req_make(iommu, q.sid, q.pasid, q.iova, access);
    req.how = how;
    return siov_ats_request(iommu, state, &req, out);
}

siov_fault siov_ats_translate(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint64_t iova,
                              unsigned access, struct siov_ats_completion *out)
{
    if (!iommu || !out)
        return SIOV_FAULT_RTA_1;
    unsigned how = 0;
    siov_fault f = ats_translate(iommu, (struct siov_xlate_req){sid, pasid, iova, access}, out, &how);
    if (__builtin_expect(__atomic_load_n(&iommu->trace_fn, __ATOMIC_RELAXED) != NULL, 0)) {
        /* a record of the request (AT=01 as access 'a') and its completion as a translation */
        unsigned perm = (out->r ? SIOV_ACCESS_READ : 0) | (out->w ? SIOV_ACCESS_WRITE : 0);
        struct siov_xlate x = {out->addr + (iova & (out->size - 1)), out->size, perm, 0};
        struct siov_trace_req r = {SIOV_TRACE_XLATE, sid, pasid, iova, 0, (access & SIOV_TRACE_ACCESS_ALL) |
                                   SIOV_ACCESS_ATS_REQ, f, &x, how == SIOV_HOW_HIT, how == SIOV_HOW_WALK};
        siov_trace_request(iommu, &r);
    }
    return f;
}

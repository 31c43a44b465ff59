/* The translate pipeline: PASID cache -> context -> PASID entry -> IOTLB ->
   page walk; siov_translate, siov_dma_read and siov_dma_write. */
#include <string.h>

#include "internal.h"

#define SIOV_ACCESS_RWX (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC)

/* Root-table state errors: RTA.1 for every TTM the unit cannot use (spec 10.4.6). */
static siov_fault check_root_state(const struct siov_iommu *u, uint64_t state)
{
    unsigned ttm = (unsigned)siov_get(state, SIOV_RTADDR_TTM);
    if (ttm == SIOV_TTM_RESERVED || ttm == SIOV_TTM_ABORT)
        return SIOV_FAULT_RTA_1;
    if (ttm == SIOV_TTM_SCALABLE && !(u->ecap & SIOV_ECAP_SMTS))
        return SIOV_FAULT_RTA_1;
    if ((state & SIOV_RTADDR_RTA) & siov_above(u->cfg.haw))
        return SIOV_FAULT_RTA_1;
    return SIOV_OK;
}

/* The context entry of sid, from the context cache or guest memory. */
static siov_fault context_get(struct siov_iommu *u, uint64_t state, siov_sid sid, struct siov_ctx_ent *ce)
{
    if (siov_cc_lookup(u->caches, sid, ce)) {
        siov_stat_inc(&u->stats.context_cache_hits);
        return SIOV_OK;
    }
    siov_stat_inc(&u->stats.context_cache_misses);
    siov_fault f = siov_context_lookup(u, state, sid, ce);
    if (!f)
        siov_cc_fill(u->caches, sid, ce);
    return f;
}

siov_fault siov_resolve(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                        struct siov_pasid_ent *pe, bool *fpd)
{
    bool legacy = siov_get(state, SIOV_RTADDR_TTM) == SIOV_TTM_LEGACY;
    if (legacy && req->pasid != SIOV_NO_PASID)
        return SIOV_FAULT_RTA_2;
    if (!legacy && siov_pc_lookup(u->caches, req->sid, req->pasid, pe)) {
        siov_stat_inc(&u->stats.pasid_cache_hits);
        *fpd = pe->fpd;
        return SIOV_OK;
    }
    struct siov_ctx_ent ce;
    siov_fault f = context_get(u, state, req->sid, &ce);
    *fpd = ce.fpd;
    if (f)
        return f;
    if (legacy)
        return siov_context_legacy_pe(u, &ce, pe);
    siov_stat_inc(&u->stats.pasid_cache_misses);
    f = siov_pasid_lookup(u, &ce, req->pasid, pe, fpd);
    if (!f)
        siov_pc_fill(u->caches, req->sid, req->pasid, pe);
    return f;
}

/* Whether a cached translation answers this request without a walk. */
static bool hit_usable(const struct siov_pasid_ent *pe, const struct siov_walk_out *w, unsigned access)
{
    bool priv = access & SIOV_ACCESS_PRIV;
    bool fl = pe->pgtt == SIOV_PGTT_FL || pe->pgtt == SIOV_PGTT_NESTED;
    if (fl && ((priv && !pe->sre) || ((access & SIOV_ACCESS_EXEC) && !pe->ere)))
        return false; /* SPT.6 / SPT.5: let the walk report it */
    unsigned perm = priv ? w->perm_super : w->perm_user;
    if (access & SIOV_ACCESS_RWX & ~perm)
        return false;
    return !(access & SIOV_ACCESS_WRITE) || w->dirty;
}

/* IOTLB, then the page walk on a miss; fills the IOTLB after a successful walk. */
static siov_fault translate_page(struct siov_iommu *u, const struct siov_pasid_ent *pe, const struct siov_req *req,
                                 struct siov_walk_out *w)
{
    if (siov_tlb_lookup(u->caches, pe, req->addr, w) && hit_usable(pe, w, req->access)) {
        siov_stat_inc(&u->stats.iotlb_hits);
        return SIOV_OK;
    }
    siov_stat_inc(&u->stats.iotlb_misses);
    siov_stat_inc(&u->stats.walks);
    siov_fault f = siov_walk(u, pe, req->addr, req->access, w);
    if (!f)
        siov_tlb_fill(u->caches, pe, req->addr, w);
    return f;
}

static bool in_interrupt_range(uint64_t addr)
{
    return addr >= SIOV_INTR_BASE && addr <= SIOV_INTR_LIMIT;
}

/* Remapping proper, with translation enabled and a usable root table. */
static siov_fault remap(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                        struct siov_xlate *out, bool *fpd)
{
    struct siov_pasid_ent pe;
    siov_fault f = siov_resolve(u, state, req, &pe, fpd);
    if (f)
        return f;
    bool ats = req->access & (SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_TRANSLATED);
    if (ats && !pe.ats_ok) /* DTE=0 (scalable) or TT!=01 (legacy) */
        return pe.legacy ? SIOV_FAULT_LCT_5 : SIOV_FAULT_SCT_5;
    if (req->access & SIOV_ACCESS_TRANSLATED) { /* already host-physical (spec 4.2.3) */
        *out = (struct siov_xlate){req->addr, SIOV_PAGE_SIZE, SIOV_ACCESS_RWX, pe.did};
        return SIOV_OK;
    }
    struct siov_walk_out w;
    f = translate_page(u, &pe, req, &w);
    if (f)
        return f;
    out->addr = w.page + (req->addr & (w.page_size - 1));
    if (in_interrupt_range(out->addr))
        return pe.legacy ? SIOV_FAULT_LGN_4 : SIOV_FAULT_SGN_8;
    out->page_size = w.page_size;
    out->perm = (req->access & SIOV_ACCESS_PRIV) ? w.perm_super : w.perm_user;
    out->did = pe.did;
    return SIOV_OK;
}

siov_fault siov_translate(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint64_t iova,
                          unsigned access, struct siov_xlate *out)
{
    if (!iommu || !out)
        return SIOV_FAULT_RTA_1;
    siov_stat_inc(&iommu->stats.translations);
    if (pasid == SIOV_NO_PASID) /* PR and ER travel in the PASID TLP prefix (spec 3.4.1) */
        access &= ~(SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC);
    if (!(access & SIOV_ACCESS_RWX))
        access |= SIOV_ACCESS_READ; /* a request reads unless it says otherwise */
    uint64_t state = __atomic_load_n(&iommu->state, __ATOMIC_ACQUIRE);
    if (!(state & SIOV_STATE_TE)) {
        *out = (struct siov_xlate){iova, SIOV_PAGE_SIZE, SIOV_ACCESS_RWX, 0};
        return SIOV_OK;
    }
    struct siov_req req = {sid, pasid, iova, access};
    bool fpd = false;
    if (siov_get(state, SIOV_RTADDR_TTM) == SIOV_TTM_ABORT && (iommu->ecap & SIOV_ECAP_ADMS)) {
        siov_stat_inc(&iommu->stats.faults); /* blocked silently: docs/spec-notes.md */
        return SIOV_FAULT_RTA_1;
    }
    siov_fault f = check_root_state(iommu, state);
    if (!f)
        f = remap(iommu, state, &req, out, &fpd);
    if (f)
        siov_fault_report(iommu, &req, f, fpd);
    return f;
}

/* Copy len bytes between a device buffer and guest memory through the IOMMU. */
static siov_fault dma(struct siov_iommu *u, siov_sid sid, uint32_t pasid, uint64_t iova, uint8_t *buf,
                      size_t len, bool write)
{
    if (!u)
        return SIOV_FAULT_RTA_1;
    if (!buf && len)
        return SIOV_ERR_BUS;
    while (len) {
        struct siov_xlate x;
        siov_fault f = siov_translate(u, sid, pasid, iova, write ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ, &x);
        if (f)
            return f;
        uint64_t room = x.page_size - (iova & (x.page_size - 1));
        size_t n = len < room ? len : (size_t)room;
        int rc = write ? siov_mem_write(u->mem, x.addr, buf, n) : siov_mem_read(u->mem, x.addr, buf, n);
        if (rc < 0)
            return SIOV_ERR_BUS;
        buf += n;
        iova += n;
        len -= n;
    }
    return SIOV_OK;
}

siov_fault siov_dma_read(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint64_t iova, void *dst,
                         size_t len)
{
    return dma(iommu, sid, pasid, iova, dst, len, false);
}

siov_fault siov_dma_write(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint64_t iova,
                          const void *src, size_t len)
{
    /* dma() only reads from the buffer when writing guest memory */
    return dma(iommu, sid, pasid, iova, (uint8_t *)(uintptr_t)src, len, true);
}

/* The translate pipeline: PASID cache -> context -> PASID entry -> IOTLB ->
   page walk; siov_translate, siov_dma_read and siov_dma_write. */
#include <string.h>

#include "internal.h"

#define SIOV_ACCESS_RWX (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC)

/* IOTLB, then the page walk on a miss (*walked says which answered). */
static siov_fault translate_page(struct siov_iommu *u, const struct siov_pasid_ent *pe, const struct siov_req *req,
                                 struct siov_walk_out *w, bool *walked)
{
    *walked = false;
    if (!req->nocache && siov_tlb_lookup(u->caches, pe, req->addr, w) && siov_hit_usable(pe, w, req->access)) {
        siov_stat_inc(&u->stats.iotlb_hits);
        return SIOV_OK;
    }
    siov_stat_inc(&u->stats.iotlb_misses);
    siov_stat_inc(&u->stats.walks);
    *walked = true;
    return siov_walk(u, pe, req->addr, req->access, w);
}

static bool in_interrupt_range(uint64_t addr)
{
    return addr >= SIOV_INTR_BASE && addr <= SIOV_INTR_LIMIT;
}

/* A translated request (AT=10): checked against the context entry only,
   the address used as is (spec 4.2.5; docs/spec-notes.md "ATS"). */
static siov_fault translated(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                             struct siov_xlate *out, bool *fpd)
{
    bool legacy = siov_get(state, SIOV_RTADDR_TTM) == SIOV_TTM_LEGACY;
    if (legacy && req->pasid != SIOV_NO_PASID)
        return SIOV_FAULT_RTA_2;
    struct siov_ctx_ent ce;
    siov_fault f = siov_context_get(u, state, req, &ce);
    *fpd = ce.fpd;
    if (f)
        return f;
    if (legacy ? ce.tt != SIOV_TT_SL_DT : !ce.dte)
        return legacy ? SIOV_FAULT_LCT_5 : SIOV_FAULT_SCT_5;
    if (req->pasid != SIOV_NO_PASID)
        return SIOV_FAULT_SCT_10; /* no EPTR: translated requests carry no PASID */
    if (req->addr & siov_above(u->cfg.haw))
        return legacy ? SIOV_FAULT_LGN_1 : SIOV_FAULT_SGN_4;
    if (in_interrupt_range(req->addr))
        return legacy ? SIOV_FAULT_LGN_4 : SIOV_FAULT_SGN_8;
    *out = (struct siov_xlate){req->addr, SIOV_PAGE_SIZE, SIOV_ACCESS_RWX, legacy ? ce.did : 0};
    return SIOV_OK;
}

/* A translation request through siov_translate: the completion as a
   translation of the access asked for (iommu.h). */
static siov_fault translation_request(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                                      struct siov_xlate *out)
{
    struct siov_ats_completion c;
    struct siov_req r = *req; /* a translation request is a memory read (NW limits the fill) */
    r.access = (req->access & (SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC | SIOV_ACCESS_NO_WRITE | SIOV_ACCESS_ATS_REQ)) |
               SIOV_ACCESS_READ;
    siov_fault f = siov_ats_request(u, state, &r, &c);
    if (f)
        return f;
    unsigned perm = (c.r ? SIOV_ACCESS_READ : 0) | (c.w ? SIOV_ACCESS_WRITE : 0);
    if (c.untranslated_only || (req->access & SIOV_ACCESS_RWX & ~perm))
        return SIOV_ERR_NOT_PRESENT;
    *out = (struct siov_xlate){c.addr + (req->addr & (c.size - 1)), c.size, perm, 0};
    return SIOV_OK;
}

/* Remapping proper, with translation enabled and a usable root table. */
static siov_fault remap(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                        struct siov_xlate *out, bool *fpd)
{
    if (req->access & SIOV_ACCESS_TRANSLATED) {
        if (!req->nocache)
            siov_stat_inc(&u->stats.translated_requests);
        return translated(u, state, req, out, fpd);
    }
    struct siov_pasid_ent pe;
    siov_fault f = siov_resolve(u, state, req, &pe, fpd);
    if (f)
        return f;
    struct siov_walk_out w;
    bool walked;
    f = translate_page(u, &pe, req, &w, &walked);
    if (f)
        return f;
    out->addr = w.page + (req->addr & (w.page_size - 1));
    bool intr = in_interrupt_range(out->addr);
    /* the walk's result is a translation even where this request's output
       faults (a large page over the interrupt range); the front cache holds
       only answers given */
    unsigned fill = (walked ? SIOV_FILL_IOTLB : 0) | (intr ? 0 : SIOV_FILL_FRONT);
    if (!req->nocache && fill)
        siov_caches_fill(u->caches, req, &pe, &w, fill);
    if (intr)
        return pe.legacy ? SIOV_FAULT_LGN_4 : SIOV_FAULT_SGN_8;
    out->page_size = w.page_size;
    out->perm = (req->access & SIOV_ACCESS_PRIV) ? w.perm_super : w.perm_user;
    out->did = pe.did;
    return SIOV_OK;
}

/* __has_builtin must not appear in an #if where the compiler lacks it */
#if defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer)
#define SIOV_HAVE_THREAD_POINTER 1
#endif
#endif

/* An id of the calling thread, distinct among live threads: its thread
   pointer where the compiler reads it inline, else pthread_self. */
static inline uint64_t thread_id(void)
{
    uint64_t id = 0;
#ifdef SIOV_HAVE_THREAD_POINTER
    uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
    memcpy(&id, &tp, sizeof(tp) < sizeof(id) ? sizeof(tp) : sizeof(id));
#else
    pthread_t self = pthread_self();
    memcpy(&id, &self, sizeof(self) < sizeof(id) ? sizeof(self) : sizeof(id));
#endif
    return id;
}

/* Count one front-cache hit in this thread's shard (see siov_stat_shard):
   a plain add in a shard the thread owns, found or claimed among the few its
   id hashes to; an atomic add when all of those belong to other threads. */
static inline void count_fast_hit(struct siov_iommu *u)
{
    uint64_t me = thread_id();
    /* Fibonacci hashing; thread pointers differ in their middle bits (stacks are MiBs apart) */
    unsigned first = (unsigned)((me * 0x9E3779B97F4A7C15ull) >> 32) % SIOV_STAT_SHARDS;
    for (unsigned k = 0; k < SIOV_STAT_PROBES; k++) {
        struct siov_stat_shard *s = &u->shard[(first + k) % SIOV_STAT_SHARDS];
        uint64_t owner = __atomic_load_n(&s->owner, __ATOMIC_RELAXED);
        if (me && (owner == me || (!owner && __atomic_compare_exchange_n(&s->owner, &owner, me, false,
                                                                          __ATOMIC_RELAXED, __ATOMIC_RELAXED)))) {
            /* only this thread writes owned: no locked instruction on the hit path */
            __atomic_store_n(&s->owned, __atomic_load_n(&s->owned, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
            return;
        }
    }
    siov_stat_inc(&u->shard[first].shared);
}

/* The hot path: a front-cache hit that grants the access (one multiply, one
   cache line read, two when the page sits in its second set). */
static inline bool fast_hit(struct siov_iommu *u, uint64_t epoch, const struct siov_req *r, struct siov_xlate *out)
{
    uint64_t val, sd;
    if (!siov_xc_probe(&u->xc, epoch, siov_xc_key(r->sid, r->pasid), r->addr >> SIOV_PAGE_SHIFT, &val, &sd))
        return false;
    unsigned perm = (unsigned)siov_get(val, (r->access & SIOV_ACCESS_PRIV) ? SIOV_XC_VAL_PERM_SUPER
                                                                            : SIOV_XC_VAL_PERM_USER);
    if ((r->access & SIOV_ACCESS_RWX & ~perm) || ((r->access & SIOV_ACCESS_WRITE) && !(val & SIOV_XC_VAL_DIRTY)))
        return false; /* the walk reports the fault, or sets D */
    *out = (struct siov_xlate){(val & SIOV_XC_VAL_PAGE) | (r->addr & ~SIOV_PAGE_MASK), siov_xc_page_size(val), perm,
                               (uint16_t)siov_get(sd, SIOV_XC_SD_DID)};
    count_fast_hit(u);
    return true;
}

/* ------------------------------------------- the stale-translation checker */
static bool same_ctx(const struct siov_ctx_ent *a, const struct siov_ctx_ent *b)
{
    return a->legacy == b->legacy && a->fpd == b->fpd && a->dte == b->dte && a->paside == b->paside &&
           a->pre == b->pre && a->rid_priv == b->rid_priv && a->pdts == b->pdts && a->rid_pasid == b->rid_pasid &&
           a->pasid_dir == b->pasid_dir && a->tt == b->tt && a->aw == b->aw && a->did == b->did &&
           a->slptptr == b->slptptr;
}

static bool same_pe(const struct siov_pasid_ent *a, const struct siov_pasid_ent *b)
{
    return a->slptptr == b->slptptr && a->flptptr == b->flptptr && a->did == b->did && a->pgtt == b->pgtt &&
           a->sl_levels == b->sl_levels && a->fl_levels == b->fl_levels && a->legacy == b->legacy &&
           a->fpd == b->fpd && a->slee == b->slee && a->slade == b->slade && a->pwsnp == b->pwsnp &&
           a->sre == b->sre && a->ere == b->ere && a->wpe == b->wpe && a->nxe == b->nxe && a->smep == b->smep &&
           a->eafe == b->eafe && a->ats_ok == b->ats_ok && a->pasid == b->pasid;
}

/* The translation a cached walk result stands for (A/D state aside). */
static bool same_walk(const struct siov_walk_out *a, const struct siov_walk_out *b)
{
    return a->page == b->page && a->page_size == b->page_size && a->perm_user == b->perm_user &&
           a->perm_super == b->perm_super;
}

static bool same_answer(siov_fault fa, const struct siov_xlate *a, siov_fault fb, const struct siov_xlate *b)
{
    if (fa != fb)
        return false;
    return fa || (a->addr == b->addr && a->page_size == b->page_size && a->perm == b->perm && a->did == b->did);
}

/* Which caches hold an entry for the request that guest memory no longer
   backs; fresh is the request with the caches bypassed. */
static unsigned stale_caches(struct siov_iommu *u, uint64_t state, const struct siov_req *fresh)
{
    unsigned m = 0;
    struct siov_ctx_ent cc, fc;
    if (siov_cc_lookup(u->caches, fresh->sid, &cc) &&
        (siov_context_lookup(u, state, fresh->sid, &fc) || !same_ctx(&cc, &fc)))
        m |= SIOV_CACHE_CONTEXT;
    struct siov_pasid_ent cp, fp;
    bool fpd, pc_hit = siov_pc_lookup(u->caches, fresh->sid, fresh->pasid, &cp);
    siov_fault pf = siov_resolve(u, state, fresh, &fp, &fpd);
    if (pc_hit && (pf || !same_pe(&cp, &fp)))
        m |= SIOV_CACHE_PASID;
    struct siov_walk_out cw, fw;
    if (siov_tlb_lookup(u->caches, pc_hit ? &cp : &fp, fresh->addr, &cw) &&
        (pf || siov_walk(u, &fp, fresh->addr, fresh->access, &fw) || !same_walk(&cw, &fw)))
        m |= SIOV_CACHE_IOTLB;
    return m;
}

/* cfg.stale_check: compare the answer just given (f, x) with an uncached
   translation of the same request from guest memory as it is now. */
static void stale_check(struct siov_iommu *u, uint64_t state, const struct siov_req *req, siov_fault f,
                        const struct siov_xlate *x)
{
    struct siov_req fresh = *req;
    fresh.nocache = true;
    fresh.epoch = 0; /* never the clock: nothing it walks is filled */
    struct siov_xlate fx = {0};
    bool fpd = false;
    siov_fault ff = remap(u, state, &fresh, &fx, &fpd);
    if (same_answer(f, x, ff, &fx))
        return;
    siov_stat_inc(&u->stats.stale_hits);
    if (!u->cfg.stale_report)
        return;
    struct siov_stale_report r = {req->sid, req->pasid, req->addr, req->access, stale_caches(u, state, &fresh),
                                  f, ff, f ? (struct siov_xlate){0} : *x, ff ? (struct siov_xlate){0} : fx};
    u->cfg.stale_report(u->cfg.stale_opaque, &r);
}

/* Everything but a front-cache hit; kept out of line so that the hit path
   stays a short function with a small frame. */
__attribute__((noinline)) static siov_fault translate_slow(struct siov_iommu *u, uint64_t state,
                                                           const struct siov_req *req, struct siov_xlate *out)
{
    bool ats = req->access & SIOV_ACCESS_ATS_REQ;
    if (!ats)
        siov_stat_inc(&u->stats.translations);
    if (!(state & SIOV_STATE_TE)) {
        if (req->access & (SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_TRANSLATED))
            return SIOV_ERR_BUS; /* AT != 00 with translation disabled: UR (spec 4.2.1) */
        *out = (struct siov_xlate){req->addr, SIOV_PAGE_SIZE, SIOV_ACCESS_RWX, 0};
        return SIOV_OK;
    }
    if (ats)
        return translation_request(u, state, req, out);
    bool fpd = false, record;
    siov_fault f = siov_root_check(u, state, &record);
    if (f && !record) {
        siov_stat_inc(&u->stats.faults);
        return f;
    }
    if (!f) {
        f = remap(u, state, req, out, &fpd);
        if (u->cfg.stale_check)
            stale_check(u, state, req, f, out);
    }
    if (f)
        siov_fault_report(u, req, f, fpd);
    return f;
}

siov_fault siov_translate(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint64_t iova,
                          unsigned access, struct siov_xlate *out)
{
    if (!iommu || !out)
        return SIOV_FAULT_RTA_1;
    if (pasid != SIOV_NO_PASID && pasid > SIOV_PASID_MAX) {
        /* above every PASID width (SGN.10); no TLP prefix or FRCD.PV holds it: not recorded */
        siov_stat_inc(&iommu->stats.translations);
        siov_stat_inc(&iommu->stats.faults);
        return SIOV_FAULT_SGN_10;
    }
    if (pasid == SIOV_NO_PASID) /* PR and ER travel in the PASID TLP prefix (spec 3.4.1) */
        access &= ~(SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC);
    if (!(access & SIOV_ACCESS_RWX))
        access |= SIOV_ACCESS_READ; /* a request reads unless it says otherwise */
    uint64_t state = __atomic_load_n(&iommu->state, __ATOMIC_ACQUIRE);
    struct siov_req req = {sid, pasid, iova, access, __atomic_load_n(iommu->xc.clock, __ATOMIC_ACQUIRE), false};
    unsigned ttm = (unsigned)siov_get(state, SIOV_RTADDR_TTM);
    bool plain = !(access & (SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_TRANSLATED)) && !iommu->cfg.stale_check;
    if ((state & SIOV_STATE_TE) && plain && (ttm == SIOV_TTM_SCALABLE || (ttm == SIOV_TTM_LEGACY && pasid == SIOV_NO_PASID)) &&
        fast_hit(iommu, req.epoch, &req, out))
        return SIOV_OK;
    return translate_slow(iommu, state, &req, out);
}

/* Where a device's DMA goes: its requester, its first input address, its
   direction, and whether its requests are translated (AT=10). */
struct dma_target {
    siov_sid sid;
    uint32_t pasid;
    uint64_t iova;
    bool write;
    bool translated;
};

/* Copy len bytes between a device buffer and guest memory through the IOMMU. */
static siov_fault dma(struct siov_iommu *u, struct dma_target t, uint8_t *buf, size_t len)
{
    if (!u)
        return SIOV_FAULT_RTA_1;
    uint64_t iova = t.iova;
    if ((!buf && len) || (len && iova + (len - 1) < iova))
        return SIOV_ERR_BUS; /* no buffer, or a range that wraps past 2^64 */
    while (len) {
        struct siov_xlate x;
        unsigned access = (t.write ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ) | (t.translated ? SIOV_ACCESS_TRANSLATED : 0);
        siov_fault f = siov_translate(u, t.sid, t.pasid, iova, access, &x);
        if (f)
            return f;
        uint64_t room = x.page_size - (iova & (x.page_size - 1));
        if (x.addr < SIOV_INTR_BASE && SIOV_INTR_BASE - x.addr < room)
            room = SIOV_INTR_BASE - x.addr; /* the next translation reports SGN.8 there */
        size_t n = len < room ? len : (size_t)room;
        int rc = t.write ? siov_mem_write(u->mem, x.addr, buf, n) : siov_mem_read(u->mem, x.addr, buf, n);
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
    return dma(iommu, (struct dma_target){sid, pasid, iova, false, false}, dst, len);
}

siov_fault siov_dma_write(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint64_t iova,
                          const void *src, size_t len)
{
    /* dma() only reads from the buffer when writing guest memory */
    return dma(iommu, (struct dma_target){sid, pasid, iova, true, false}, (uint8_t *)(uintptr_t)src, len);
}

siov_fault siov_dma_read_translated(struct siov_iommu *iommu, siov_sid sid, uint64_t hpa, void *dst, size_t len)
{
    return dma(iommu, (struct dma_target){sid, SIOV_NO_PASID, hpa, false, true}, dst, len);
}

siov_fault siov_dma_write_translated(struct siov_iommu *iommu, siov_sid sid, uint64_t hpa, const void *src,
                                     size_t len)
{
    return dma(iommu, (struct dma_target){sid, SIOV_NO_PASID, hpa, true, true}, (uint8_t *)(uintptr_t)src, len);
}

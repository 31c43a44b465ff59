/* The translate pipeline: PASID cache -> context -> PASID entry -> IOTLB ->
   page walk; siov_translate, siov_dma_read and siov_dma_write. */
#include <errno.h>
#include <string.h>

#include "hot_stats.h"
#include "internal.h"

#define SIOV_ACCESS_RWX (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC)

/* IOTLB, then the page walk on a miss (*walked says which answered). */
static siov_fault translate_page(struct siov_iommu *u, const struct siov_pasid_ent *pe, const struct siov_req *req,
                                 struct siov_walk_out *w, bool *walked)
{
    *walked = false;
    if (!req->nocache && siov_tlb_lookup(u->caches, pe, req->addr, w) && siov_hit_usable(w, req->access)) {
        STAT_HOT(u, iotlb_hits);
        *req->how = SIOV_HOW_HIT;
        return SIOV_OK;
    }
    STAT_HOT(u, iotlb_misses);
    STAT_HOT(u, walks);
    *walked = true;
    *req->how = SIOV_HOW_WALK;
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
    if (fill) /* a request that bypasses the caches has epoch 0, which no fill takes */
        siov_caches_fill(u->caches, req, &pe, &w, fill);
    if (intr)
        return pe.legacy ? SIOV_FAULT_LGN_4 : SIOV_FAULT_SGN_8;
    out->page_size = w.page_size;
    out->perm = (req->access & SIOV_ACCESS_PRIV) ? w.perm_super : w.perm_user;
    out->did = pe.did;
    return SIOV_OK;
}

/* The access flags a front-cache hit can answer (no ATS, no translated request). */
#define FAST_ACCESS (SIOV_ACCESS_RWX | SIOV_ACCESS_PRIV)

/* What a request of access asks for, by [has a PASID][access & FAST_ACCESS]:
   requests without PASID carry no PR or ER (spec 3.4.1), and none of R/W/X
   means a read. (PR picks the grant: fills of requests without PASID store
   the user grant as the privileged one.) */
static const uint8_t fast_need[2][16] = {
    {1, 1, 2, 3, 1, 1, 2, 3, 1, 1, 2, 3, 1, 1, 2, 3},
    {1, 1, 2, 3, 4, 5, 6, 7, 1, 1, 2, 3, 4, 5, 6, 7},
};

/* The answer of a front-cache entry (val, sd) to a request that needs need,
   privileged or not, or false when the walk must answer (a fault to report,
   or D to set). */
__attribute__((always_inline)) static inline bool fast_answer(uint64_t val, uint64_t sd, unsigned need,
                                                             unsigned priv, uint64_t iova, struct siov_xlate *out)
{
    _Static_assert(SIOV_XC_VAL_PERM_SUPER == SIOV_XC_VAL_PERM_USER << 3, "the privileged grant above the user's");
    unsigned perm = (unsigned)(val >> (3 * priv)) & 7;
    if ((need & ~perm) || ((need & SIOV_ACCESS_WRITE) && !(val & SIOV_XC_VAL_DIRTY)))
        return false;
    out->addr = (val & SIOV_XC_VAL_PAGE) | (iova & ~SIOV_PAGE_MASK);
    out->page_size = siov_xc_page_size(val);
    out->perm = perm;
    out->did = (uint16_t)sd;
    return true;
}

/* What the hit path reads of the unit, once per call (or per batch). */
struct fast_view {
    unsigned gate;                  /* SIOV_FAST_* for the probe at hand */
    const struct siov_way *ways;
    unsigned shift;
    const uint64_t *inv;
};

/* gate_shift is 0, or SIOV_FAST_CHECKED_SHIFT for the stale checker's probe. */
__attribute__((always_inline)) static inline struct fast_view fast_view_of(const struct siov_iommu *u,
                                                                          unsigned gate_shift)
{
    return (struct fast_view){__atomic_load_n(&u->fast_gate, __ATOMIC_ACQUIRE) >> gate_shift, u->xc.ways,
                              u->xc.set_shift, u->xc.inv};
}

/* A front-cache hit that grants the access, uncounted. The hit path probes
   the page's first set (FIRST_SET), the slow path its second (SECOND_SET),
   a batch and the stale checker both. */
enum { FIRST_SET = 1, SECOND_SET = 2, BOTH_SETS = 3 };
__attribute__((always_inline)) static inline bool fast_hit(const struct fast_view *v, unsigned sets,
                                                          const struct siov_xlate_req *r, struct siov_xlate *out)
{
    siov_sid sid = r->sid;
    uint64_t iova = r->iova;
    unsigned access = r->access;
    uint32_t p1 = r->pasid + 1; /* the key's PASID field: 0 without PASID */
    unsigned has_pasid = p1 != 0;
    if (p1 > SIOV_PASID_MAX + 1u || access & ~FAST_ACCESS || !((v->gate >> has_pasid) & 1))
        return false;
    unsigned need = fast_need[has_pasid][access], priv = (access >> 3) & 1;
    uint64_t key = SIOV_XC_KEY_VALID | (uint64_t)sid << 21 | p1, vpn = iova >> SIOV_PAGE_SHIFT, val, sd;
    uint64_t h = siov_xc_hash(key, vpn);
    bool found = ((sets & FIRST_SET) &&
                  siov_xc_read_set(v->ways + siov_xc_first_set(h, v->shift), key, vpn, &val, &sd)) ||
                 ((sets & SECOND_SET) &&
                  siov_xc_read_set(v->ways + siov_xc_second_set(h, v->shift), key, vpn, &val, &sd));
    return found && siov_xc_valid(v->inv, sd) && fast_answer(val, sd, need, priv, iova, out);
}

/* ------------------------------------------- the stale-translation checker */
static bool same_ctx(const struct siov_ctx_ent *a, const struct siov_ctx_ent *b)
{
    return a->legacy == b->legacy && a->fpd == b->fpd && a->dte == b->dte && a->paside == b->paside &&
           a->pre == b->pre && a->pdts == b->pdts && a->rid_pasid == b->rid_pasid &&
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
    unsigned fresh_how;
    fresh.how = &fresh_how; /* what answered the fresh walk: not reported */
    struct siov_xlate fx = {0};
    bool fpd = false;
    siov_fault ff = remap(u, state, &fresh, &fx, &fpd);
    if (same_answer(f, x, ff, &fx))
        return;
    siov_stat_inc(&u->stats.stale_hits);
    if (!u->cfg.stale_report)
        return;
    struct siov_stale_report r = {.sid = req->sid, .pasid = req->pasid, .iova = req->addr, .access = req->access,
                                  .caches = stale_caches(u, state, &fresh), .cached_fault = f, .fresh_fault = ff,
                                  .cached = f ? (struct siov_xlate){0} : *x, .fresh = ff ? (struct siov_xlate){0} : fx};
    u->cfg.stale_report(u->cfg.stale_opaque, &r);
}

/* The pipeline for one request, after the checks of the API. */
__attribute__((always_inline)) static inline siov_fault translate_req(struct siov_iommu *u, uint64_t state, const struct siov_req *req,
                                struct siov_xlate *out)
{
    bool ats = req->access & SIOV_ACCESS_ATS_REQ;
    if (!ats)
        STAT_HOT(u, translations);
    if (!(state & SIOV_STATE_TE)) {
        if (req->access & (SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_TRANSLATED))
            return SIOV_ERR_BUS; /* AT != 00 with translation disabled: UR (spec 4.2.1) */
        *out = (struct siov_xlate){req->addr, SIOV_PAGE_SIZE, SIOV_ACCESS_RWX, 0};
        return SIOV_OK;
    }
    if (ats) /* AT=11 (both) is reserved: UR without a VT-d reason (spec 4.2.1) */
        return (req->access & SIOV_ACCESS_TRANSLATED) ? SIOV_ERR_BUS : translation_request(u, state, req, out);
    bool fpd = false, record;
    siov_fault f = siov_root_check(u, state, &record);
    if (f && !record) { /* RTA.4: blocked, not recorded (docs/spec-notes.md) */
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

/* What the pages of one DMA met, when traced: counted into its one record. */
struct dma_count {
    unsigned hits, walks;
};

/* Report a traced request to the hook, or count it into its DMA. */
__attribute__((noinline)) static void trace_xlate(struct siov_iommu *u, const struct siov_xlate_req *r, siov_fault f,
                                                  const struct siov_xlate *out, unsigned how, struct dma_count *dma)
{
    if (dma) {
        dma->hits += how == SIOV_HOW_HIT;
        dma->walks += how == SIOV_HOW_WALK;
        return;
    }
    struct siov_trace_req t = {SIOV_TRACE_XLATE, r->sid, r->pasid, r->iova, 0, r->access, f, out,
                               how == SIOV_HOW_HIT, how == SIOV_HOW_WALK};
    siov_trace_request(u, &t);
}

/* The slow path proper: the second set, the checks of the API, the checked
   probe, the pipeline; *how says what answered. */
__attribute__((always_inline)) static inline siov_fault translate_slow_how(struct siov_iommu *iommu,
                                                                          struct siov_xlate_req r,
                                                                          struct siov_xlate *out, unsigned *how)
{
    struct fast_view v = fast_view_of(iommu, 0);
    siov_sid sid = r.sid;
    uint32_t pasid = r.pasid;
    uint64_t iova = r.iova;
    unsigned access = r.access;
    if (fast_hit(&v, SECOND_SET, &r, out)) {
        count_hits(iommu, 1);
        *how = SIOV_HOW_HIT; /* the front cache's answers are IOTLB hits */
        return SIOV_OK;
    }
    if (pasid != SIOV_NO_PASID && pasid > SIOV_PASID_MAX) {
        if ((access & SIOV_ACCESS_ATS_REQ) && (access & SIOV_ACCESS_TRANSLATED))
            return SIOV_ERR_BUS; /* AT=11 is reserved: UR before anything looks at the PASID (spec 4.2.1) */
        /* above every PASID width (SGN.10); no TLP prefix or FRCD.PV holds it: not recorded */
        siov_stat_inc(&iommu->stats.translations);
        siov_stat_inc(&iommu->stats.faults);
        return SIOV_FAULT_SGN_10;
    }
    if (pasid == SIOV_NO_PASID) /* PR and ER travel in the PASID TLP prefix (spec 3.4.1) */
        access &= ~(SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC);
    access &= ~SIOV_ACCESS_PAGE_REQ; /* a fault record's flag, not a request's */
    if (!(access & SIOV_ACCESS_RWX))
        access |= SIOV_ACCESS_READ; /* a request reads unless it says otherwise */
    uint64_t state = __atomic_load_n(&iommu->state, __ATOMIC_ACQUIRE);
    struct siov_req req = {sid, pasid, iova, access, siov_caches_epoch(iommu->caches), false, how};
    /* under the stale checker or a trace hook, front-cache answers come here */
    v = fast_view_of(iommu, SIOV_FAST_CHECKED_SHIFT);
    r.access = access; /* normalized */
    if (fast_hit(&v, BOTH_SETS, &r, out)) {
        count_hits(iommu, 1);
        *how = SIOV_HOW_HIT;
        if (iommu->cfg.stale_check)
            stale_check(iommu, state, &req, SIOV_OK, out);
        return SIOV_OK;
    }
    return translate_req(iommu, state, &req, out);
}

/* Everything but an unchecked front-cache hit; kept out of line so that the
   hit path stays a short function with a small frame. A trace hook closes
   the hit path's gate (regs.c, trace_hook.c), so every traced request comes
   here. */
__attribute__((noinline)) static siov_fault translate_slow(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid,
                                                           uint64_t iova, unsigned access, struct siov_xlate *out)
{
    if (!iommu || !out)
        return SIOV_FAULT_RTA_1;
    unsigned how = 0;
    siov_fault f = translate_slow_how(iommu, (struct siov_xlate_req){sid, pasid, iova, access}, out, &how);
    if (__builtin_expect(__atomic_load_n(&iommu->trace_fn, __ATOMIC_RELAXED) != NULL, 0)) {
        struct siov_xlate_req r = {sid, pasid, iova, access};
        trace_xlate(iommu, &r, f, out, how, NULL);
    }
    return f;
}

/* A page of a traced DMA: the slow path (the gate is closed), counted into dma. */
__attribute__((noinline)) static siov_fault translate_dma_page(struct siov_iommu *u, const struct siov_xlate_req *r,
                                                               struct siov_xlate *out, struct dma_count *dma)
{
    unsigned how = 0;
    siov_fault f = translate_slow_how(u, *r, out, &how);
    trace_xlate(u, r, f, out, how, dma);
    return f;
}

siov_fault siov_translate(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint64_t iova,
                          unsigned access, struct siov_xlate *out)
{
    struct fast_view v;
    struct siov_xlate_req r = {sid, pasid, iova, access};
    if (iommu && out && (v = fast_view_of(iommu, 0), fast_hit(&v, FIRST_SET, &r, out))) {
        count_hits(iommu, 1);
        return SIOV_OK;
    }
    return translate_slow(iommu, sid, pasid, iova, access, out);
}

/* A batch is probed in blocks: the keys and first sets of the next block are
   computed, and their lines fetched, before the current block is probed. */
#define BATCH_BLOCK 16u

struct batch_block {
    uint64_t key[BATCH_BLOCK]; /* 0: not for the hit path (slow path at once) */
    const struct siov_way *set[BATCH_BLOCK];
};

/* Keys and first sets of requests r[0..m), their lines fetched. */
static inline void batch_prepare(const struct fast_view *v, const struct siov_xlate_req *r, size_t m,
                                 struct batch_block *b)
{
    for (size_t i = 0; i < m; i++) {
        uint32_t p1 = r[i].pasid + 1;
        bool ok = p1 <= SIOV_PASID_MAX + 1u && !(r[i].access & ~FAST_ACCESS) && ((v->gate >> (p1 != 0)) & 1);
        uint64_t key = SIOV_XC_KEY_VALID | (uint64_t)r[i].sid << 21 | (p1 & SIOV_XC_KEY_PASID);
        b->key[i] = ok ? key : 0;
        b->set[i] = v->ways + siov_xc_set_of(v->shift, key, r[i].iova >> SIOV_PAGE_SHIFT);
        __builtin_prefetch(b->set[i]);
    }
}

/* The hit path for a prepared request: its first set, then its second (a
   page a batch finds there would otherwise cost a call of the slow path). */
static inline bool batch_hit(const struct fast_view *v, uint64_t key, const struct siov_way *set,
                             const struct siov_xlate_req *r, struct siov_xlate *out)
{
    uint64_t val, sd, vpn = r->iova >> SIOV_PAGE_SHIFT;
    bool has_pasid = siov_get(key, SIOV_XC_KEY_PASID) != 0;
    if (!key)
        return false;
    if (!siov_xc_read_set(set, key, vpn, &val, &sd) &&
        !siov_xc_read_set(v->ways + siov_xc_alt_set_of(v->shift, key, vpn), key, vpn, &val, &sd))
        return false;
    return siov_xc_valid(v->inv, sd) &&
           fast_answer(val, sd, fast_need[has_pasid][r->access & FAST_ACCESS], (r->access >> 3) & 1, r->iova, out);
}

int siov_translate_batch(struct siov_iommu *iommu, size_t n, const struct siov_xlate_req *requests,
                         struct siov_xlate_res *results)
{
    if (!iommu || (n && (!requests || !results)))
        return -EINVAL;
    uint64_t hits = 0;
    struct fast_view v = fast_view_of(iommu, 0);
    struct batch_block blk[2];
    if (!v.ways)
        v.gate = 0; /* no front cache: every request takes the slow path */
    batch_prepare(&v, requests, n < BATCH_BLOCK ? n : BATCH_BLOCK, &blk[0]);
    for (size_t at = 0, k = 0; at < n; at += BATCH_BLOCK, k ^= 1) {
        size_t m = n - at < BATCH_BLOCK ? n - at : BATCH_BLOCK, next = at + BATCH_BLOCK;
        if (next < n)
            batch_prepare(&v, &requests[next], n - next < BATCH_BLOCK ? n - next : BATCH_BLOCK, &blk[k ^ 1]);
        for (size_t i = 0; i < m; i++) {
            const struct siov_xlate_req *r = &requests[at + i];
            struct siov_xlate_res *res = &results[at + i];
            if (batch_hit(&v, blk[k].key[i], blk[k].set[i], r, &res->xlate)) {
                res->fault = SIOV_OK;
                hits++;
                continue;
            }
            /* in order, as single calls: faults are recorded in request order */
            res->fault = translate_slow(iommu, r->sid, r->pasid, r->iova, r->access, &res->xlate);
            if (res->fault)
                res->xlate = (struct siov_xlate){0};
        }
    }
    if (hits)
        count_hits(iommu, hits);
    return 0;
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

/* Copy len bytes between a device buffer and guest memory through the
   IOMMU; traced (dma non-NULL), its pages are counted into dma. */
static siov_fault dma_pages(struct siov_iommu *u, struct dma_target t, uint8_t *buf, size_t len, struct dma_count *dma)
{
    uint64_t iova = t.iova;
    if ((!buf && len) || (len && iova + (len - 1) < iova))
        return SIOV_ERR_BUS; /* no buffer, or a range that wraps past 2^64 */
    while (len) {
        struct siov_xlate x;
        unsigned access = t.write ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ;
        access |= t.translated ? SIOV_ACCESS_TRANSLATED : 0;
        struct siov_xlate_req r = {t.sid, t.pasid, iova, access};
        siov_fault f = dma ? translate_dma_page(u, &r, &x, dma) : siov_translate(u, t.sid, t.pasid, iova, access, &x);
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

/* A DMA: one record for the trace hook, whatever its pages. */
static siov_fault dma(struct siov_iommu *u, struct dma_target t, uint8_t *buf, size_t len)
{
    if (!u)
        return SIOV_FAULT_RTA_1;
    if (!__atomic_load_n(&u->trace_fn, __ATOMIC_RELAXED))
        return dma_pages(u, t, buf, len, NULL);
    struct dma_count c = {0, 0};
    siov_fault f = dma_pages(u, t, buf, len, &c);
    unsigned access = (t.write ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ) | (t.translated ? SIOV_ACCESS_TRANSLATED : 0);
    struct siov_trace_req r = {t.write ? SIOV_TRACE_WRITE : SIOV_TRACE_READ, t.sid, t.pasid, t.iova, len, access, f,
                               NULL, c.hits, c.walks};
    siov_trace_request(u, &r);
    return f;
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

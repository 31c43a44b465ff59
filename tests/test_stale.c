/* The stale-translation checker (cfg.stale_check): it reports exactly the
   requests whose cached answer guest memory no longer backs, with both
   answers, and stays silent when tables are unchanged or properly invalidated. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testlib.h"

#define KB4 (4ull << 10)
#define MB2 (2ull << 20)
#define GB1 (1ull << 30)
#define SID SIOV_SID(1, 4, 2)
#define PASID 77u
#define DID 9u
#define STATUS_GPA (TL_DATA_BASE + 0x40)

struct log {
    unsigned calls;
    struct siov_stale_report last;
};

static void stale_cb(void *opaque, const struct siov_stale_report *r)
{
    struct log *l = opaque;
    l->calls++;
    l->last = *r;
}

struct shape {
    uint8_t pgtt;
    unsigned levels;
    uint64_t page;
};
static const struct shape shapes[] = {
    {SIOV_PGTT_SL, 4, KB4}, {SIOV_PGTT_SL, 3, MB2}, {SIOV_PGTT_SL, 5, GB1},
    {SIOV_PGTT_FL, 4, MB2}, {SIOV_PGTT_FL, 5, KB4}, {SIOV_PGTT_NESTED, 4, KB4},
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

struct env {
    struct tl *t;
    struct log log;
    struct shape s;
    uint64_t dir, sl, fl, qbase, qtail;
};

static bool is_fl(uint8_t pgtt) { return pgtt == SIOV_PGTT_FL || pgtt == SIOV_PGTT_NESTED; }
static uint64_t iova_of(const struct env *e, unsigned i) { return (4 + 2 * (uint64_t)i) * e->s.page; }
static uint64_t pa_of(const struct env *e, unsigned k, unsigned i)
{
    return (k ? 1ull << 41 : 1ull << 37) + (5 + (uint64_t)i) * e->s.page;
}

static uint64_t map_page(struct env *e, uint64_t sl, uint64_t fl, unsigned k, unsigned i)
{
    if (is_fl(e->s.pgtt))
        return tl_map(e->t, fl, e->s.levels, true, iova_of(e, i), pa_of(e, k, i), e->s.page, TL_FL_URW | SIOV_FL_A,
                      TL_FL_URW | SIOV_FL_A);
    return tl_map(e->t, sl, e->s.levels, false, iova_of(e, i), pa_of(e, k, i), e->s.page, TL_SL_RW, TL_SL_RW);
}

static void write_pe(struct env *e, uint64_t dir, uint64_t sl, uint64_t fl)
{
    uint64_t pe[8];
    unsigned flpm = e->s.levels == 5 ? SIOV_FLPM_5LVL : SIOV_FLPM_4LVL;
    if (e->s.pgtt == SIOV_PGTT_SL)
        tl_pe_sl(pe, DID, sl, e->s.levels - 2);
    else if (e->s.pgtt == SIOV_PGTT_FL)
        tl_pe_fl(pe, DID, fl, flpm);
    else
        tl_pe_nested(pe, DID, fl, flpm, sl, SIOV_AW_4LVL);
    tl_pasid_entry(e->t, dir, PASID, pe);
}

/* A fresh scalable unit with an IOTLB of iotlb_entries, translating
   SID/PASID through shape s, pages 0..7 -> set 0. */
static void env_new_iotlb(struct env *e, const struct shape *s, bool check, unsigned iotlb_entries)
{
    memset(e, 0, sizeof(*e));
    e->s = *s;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = iotlb_entries;
    cfg.mgaw = 57;
    cfg.sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL;
    cfg.stale_check = check;
    cfg.stale_report = stale_cb;
    cfg.stale_opaque = &e->log;
    e->t = tl_new(&cfg);
    tl_enable(e->t, SIOV_TTM_SCALABLE);
    e->qbase = tl_page(e->t);
    siov_mmio_write(e->t->iommu, SIOV_REG_IQA, e->qbase | SIOV_IQA_DW, 8);
    tl_gcmd(e->t, SIOV_GCMD_QIE, 0);
    e->dir = tl_sm_context_default(e->t, SID, 0);
    e->sl = tl_page(e->t);
    e->fl = tl_page(e->t);
    if (s->pgtt == SIOV_PGTT_NESTED) /* the second level maps guest memory and the outputs 1:1 */
        for (uint64_t a = 0; a < 4 * GB1; a += GB1)
            tl_map(e->t, e->sl, 4, false, a, a, GB1, TL_SL_RW, TL_SL_RW);
    for (unsigned k = 0; s->pgtt == SIOV_PGTT_NESTED && k < 2; k++)
        tl_map(e->t, e->sl, 4, false, pa_of(e, k, 0) & ~(GB1 - 1), pa_of(e, k, 0) & ~(GB1 - 1), GB1, TL_SL_RW,
               TL_SL_RW);
    for (unsigned i = 0; i < 8; i++)
        map_page(e, e->sl, e->fl, 0, i);
    write_pe(e, e->dir, e->sl, e->fl);
}

static void env_new(struct env *e, const struct shape *s, bool check)
{
    env_new_iotlb(e, s, check, 4096);
}

/* Queue one descriptor and a wait. */
static void inv(struct env *e, uint64_t q0, uint64_t q1)
{
    uint64_t d[2][2] = {{q0, q1}, {siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, 1), STATUS_GPA}};
    for (int i = 0; i < 2; i++) {
        tl_w64(e->t, e->qbase + e->qtail, d[i][0]);
        tl_w64(e->t, e->qbase + e->qtail + 8, d[i][1]);
        tl_w64(e->t, e->qbase + e->qtail + 16, 0);
        tl_w64(e->t, e->qbase + e->qtail + 24, 0);
        e->qtail = (e->qtail + 32) % SIOV_PAGE_SIZE;
    }
    tl_w64(e->t, STATUS_GPA, 0);
    siov_mmio_write(e->t->iommu, SIOV_REG_IQT, e->qtail, 8);
    assert_int_equal(tl_r64(e->t, STATUS_GPA), 1);
}

static uint64_t d_iotlb_dsi(void)
{
    return siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_G, SIOV_INV_GRAN_DOMAIN) |
           siov_set(0, SIOV_IOTLB0_DID, DID);
}
static uint64_t d_pc_all(void) { return siov_dsc_make_type(SIOV_DSC_PC) | siov_set(0, SIOV_PC0_G, SIOV_PC_GRAN_GLOBAL); }
static uint64_t d_cc_all(void) { return siov_dsc_make_type(SIOV_DSC_CC) | siov_set(0, SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL); }

static siov_fault xl(struct env *e, unsigned i, unsigned access, struct siov_xlate *x)
{
    return siov_translate(e->t->iommu, SID, PASID, iova_of(e, i) + 0x40, access, x);
}

static uint64_t stale_hits(struct env *e)
{
    struct siov_stats s;
    siov_iommu_stats(e->t->iommu, &s);
    return s.stale_hits;
}

/* ------------------------------------------------------------------ tests */
static void test_silent_while_tables_are_unchanged(void **state)
{
    (void)state;
    for (unsigned k = 0; k < NSHAPES; k++) {
        struct env e;
        env_new(&e, &shapes[k], true);
        struct siov_xlate x;
        for (unsigned round = 0; round < 3; round++)
            for (unsigned i = 0; i < 8; i++) {
                unsigned access = round == 1 ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ;
                assert_int_equal(xl(&e, i, access, &x), SIOV_OK);
                assert_int_equal(x.addr, pa_of(&e, 0, i) + 0x40);
            }
        struct siov_stats s;
        siov_iommu_stats(e.t->iommu, &s);
        assert_true(s.iotlb_hits >= 8);
        assert_int_equal(e.log.calls, 0);
        assert_int_equal(s.stale_hits, 0);
        tl_free(e.t);
    }
}

static void test_changed_leaf_reported_with_both_answers(void **state)
{
    (void)state;
    for (unsigned k = 0; k < NSHAPES; k++) {
        struct env e;
        env_new(&e, &shapes[k], true);
        struct siov_xlate x;
        assert_int_equal(xl(&e, 2, SIOV_ACCESS_READ, &x), SIOV_OK);
        map_page(&e, e.sl, e.fl, 1, 2); /* no invalidation */
        assert_int_equal(xl(&e, 3, SIOV_ACCESS_READ, &x), SIOV_OK); /* another page: nothing stale */
        assert_int_equal(e.log.calls, 0);
        assert_int_equal(xl(&e, 2, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, pa_of(&e, 0, 2) + 0x40); /* the checker does not change the answer */
        assert_int_equal(e.log.calls, 1);
        const struct siov_stale_report *r = &e.log.last;
        assert_int_equal(r->sid, SID);
        assert_int_equal(r->pasid, PASID);
        assert_int_equal(r->iova, iova_of(&e, 2) + 0x40);
        assert_int_equal(r->access, SIOV_ACCESS_READ);
        assert_int_equal(r->caches, SIOV_CACHE_IOTLB);
        assert_int_equal(r->cached_fault, SIOV_OK);
        assert_int_equal(r->fresh_fault, SIOV_OK);
        assert_int_equal(r->cached.addr, pa_of(&e, 0, 2) + 0x40);
        assert_int_equal(r->fresh.addr, pa_of(&e, 1, 2) + 0x40);
        assert_int_equal(r->fresh.page_size, shapes[k].page);
        assert_int_equal(r->fresh.did, DID);
        assert_int_equal(stale_hits(&e), 1);
        inv(&e, d_iotlb_dsi(), 0); /* the right invalidation: silent again */
        assert_int_equal(xl(&e, 2, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, pa_of(&e, 1, 2) + 0x40);
        assert_int_equal(xl(&e, 2, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(e.log.calls, 1);
        assert_int_equal(stale_hits(&e), 1);
        tl_free(e.t);
    }
}

static void test_removed_mapping_reports_the_fresh_fault(void **state)
{
    (void)state;
    for (unsigned k = 0; k < NSHAPES; k++) {
        struct env e;
        env_new(&e, &shapes[k], true);
        struct siov_xlate x;
        assert_int_equal(xl(&e, 1, SIOV_ACCESS_READ, &x), SIOV_OK);
        uint64_t leaf = map_page(&e, e.sl, e.fl, 0, 1);
        tl_w64(e.t, leaf, 0); /* unmapped, not invalidated */
        assert_int_equal(xl(&e, 1, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(e.log.calls, 1);
        assert_int_equal(e.log.last.cached_fault, SIOV_OK);
        assert_int_equal(e.log.last.fresh_fault, is_fl(shapes[k].pgtt) ? SIOV_FAULT_SFL_2 : SIOV_FAULT_SSL_2);
        assert_int_equal(e.log.last.fresh.addr, 0);
        assert_true(e.log.last.caches & SIOV_CACHE_IOTLB);
        tl_free(e.t);
    }
}

static void test_changed_pasid_entry_and_context_entry(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, &shapes[0], true);
    struct siov_xlate x;
    assert_int_equal(xl(&e, 0, SIOV_ACCESS_READ, &x), SIOV_OK);
    uint64_t sl1 = tl_page(e.t);
    for (unsigned i = 0; i < 8; i++)
        map_page(&e, sl1, 0, 1, i);
    write_pe(&e, e.dir, sl1, 0); /* PASID entry repointed, no PASID-cache invalidation */
    assert_int_equal(xl(&e, 1, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, pa_of(&e, 0, 1) + 0x40);
    assert_int_equal(e.log.calls, 1);
    assert_true(e.log.last.caches & SIOV_CACHE_PASID);
    assert_false(e.log.last.caches & SIOV_CACHE_CONTEXT);
    assert_int_equal(e.log.last.fresh.addr, pa_of(&e, 1, 1) + 0x40);
    inv(&e, d_pc_all(), 0);
    inv(&e, d_iotlb_dsi(), 0);
    assert_int_equal(xl(&e, 1, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(xl(&e, 2, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(e.log.calls, 1);
    /* context entry repointed at a new directory whose PASID entry uses set 0 */
    uint64_t dir2 = tl_sm_context_default(e.t, SID, 0);
    write_pe(&e, dir2, e.sl, 0);
    inv(&e, d_pc_all(), 0);
    assert_int_equal(xl(&e, 3, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, pa_of(&e, 1, 3) + 0x40); /* the cached context entry still rules */
    assert_int_equal(e.log.calls, 2);
    assert_true(e.log.last.caches & SIOV_CACHE_CONTEXT);
    assert_int_equal(e.log.last.fresh.addr, pa_of(&e, 0, 3) + 0x40);
    inv(&e, d_cc_all(), 0);
    inv(&e, d_pc_all(), 0);
    inv(&e, d_iotlb_dsi(), 0);
    assert_int_equal(xl(&e, 3, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, pa_of(&e, 0, 3) + 0x40);
    assert_int_equal(e.log.calls, 2);
    assert_int_equal(stale_hits(&e), 2);
    tl_free(e.t);
}

/* One field of the context entry (ctx) or PASID entry changed in memory
   along with page 0's leaf (so the answer changes), no invalidation: the
   report names the caches whose entry differs from memory now. */
struct edit {
    const char *what;
    unsigned shape; /* index into shapes */
    bool ctx;       /* the context entry, else the PASID entry */
    unsigned q;     /* qword */
    uint64_t flip;  /* bits toggled */
    unsigned access;
};

static const struct edit edits[] = {
    {"PE FPD", 0, false, 0, SIOV_PTE0_FPD, SIOV_ACCESS_READ},
    {"PE AW", 0, false, 0, SIOV_BIT(2), SIOV_ACCESS_READ}, /* AW 2 -> 3: 4 levels -> 5 */
    {"PE SLEE", 0, false, 0, SIOV_PTE0_SLEE, SIOV_ACCESS_READ},
    {"PE PGTT", 0, false, 0, SIOV_BIT(8), SIOV_ACCESS_READ},         /* SL -> pass-through */
    {"PE SLADE", 0, false, 0, SIOV_PTE0_SLADE, SIOV_ACCESS_READ},
    {"PE SLPTPTR", 0, false, 0, SIOV_BIT(40), SIOV_ACCESS_READ},
    {"PE DID", 0, false, 1, SIOV_BIT(3), SIOV_ACCESS_READ},
    {"PE PWSNP", 0, false, 1, SIOV_PTE1_PWSNP, SIOV_ACCESS_READ},
    {"PE FLPTPTR", 3, false, 2, SIOV_BIT(40), SIOV_ACCESS_READ},
    {"PE FLPM", 3, false, 2, SIOV_BIT(2), SIOV_ACCESS_READ},
    {"PE SRE", 3, false, 2, SIOV_PTE2_SRE, SIOV_ACCESS_READ},
    {"PE ERE", 3, false, 2, SIOV_PTE2_ERE, SIOV_ACCESS_READ},
    {"PE WPE", 3, false, 2, SIOV_PTE2_WPE, SIOV_ACCESS_READ},
    {"PE NXE", 3, false, 2, SIOV_PTE2_NXE, SIOV_ACCESS_READ},
    {"PE SMEP", 3, false, 2, SIOV_PTE2_SMEP, SIOV_ACCESS_READ},
    {"CE FPD", 0, true, 0, SIOV_SCE0_FPD, SIOV_ACCESS_READ},
    {"CE DTE", 0, true, 0, SIOV_SCE0_DTE, SIOV_ACCESS_READ},
    {"CE PASIDE", 0, true, 0, SIOV_SCE0_PASIDE, SIOV_ACCESS_READ},
    {"CE PDTS", 0, true, 0, SIOV_BIT(9), SIOV_ACCESS_READ},
    {"CE PASIDDIRPTR", 0, true, 0, SIOV_BIT(40), SIOV_ACCESS_READ},
    {"CE RID_PASID", 0, true, 1, SIOV_BIT(2), SIOV_ACCESS_READ},
};

static void test_each_changed_field_names_its_cache(void **state)
{
    (void)state;
    for (unsigned k = 0; k < sizeof edits / sizeof edits[0]; k++) {
        const struct edit *ed = &edits[k];
        struct env e;
        env_new(&e, &shapes[ed->shape], true);
        struct siov_xlate x;
        assert_int_equal(xl(&e, 0, ed->access, &x), SIOV_OK); /* context, PASID and IOTLB entries cached */
        uint64_t gpa;
        if (ed->ctx) {
            uint64_t half = tl_r64(e.t, e.t->root + SIOV_SID_BUS(SID) * 16) & SIOV_SRE0_LCTP;
            gpa = half + (SIOV_SID_DEVFN(SID) & 0x7F) * 32ull;
        } else {
            uint64_t pde = tl_r64(e.t, e.dir + siov_get(PASID, SIOV_PASID_DIR_INDEX) * 8);
            gpa = (pde & SIOV_PDE_SMPTBLPTR) + siov_get(PASID, SIOV_PASID_TBL_INDEX) * 64ull;
        }
        map_page(&e, e.sl, e.fl, 1, 0); /* the leaf too: the answer changes */
        tl_w64(e.t, gpa + 8 * ed->q, tl_r64(e.t, gpa + 8 * ed->q) ^ ed->flip);
        assert_int_equal(xl(&e, 0, ed->access, &x), SIOV_OK);
        if (e.log.calls != 1)
            fail_msg("%s: %u reports", ed->what, e.log.calls);
        unsigned want = SIOV_CACHE_IOTLB | (ed->ctx ? SIOV_CACHE_CONTEXT : SIOV_CACHE_PASID);
        if ((e.log.last.caches & want) != want)
            fail_msg("%s: caches %#x, want %#x at least", ed->what, e.log.last.caches, want);
        tl_free(e.t);
    }
}

/* Only the cached walk differs: its page size (a 2 MiB leaf replaced by a
   table whose first 4 KiB page has the same address), its permissions for
   PR=0 requests (W dropped), or for PR=1 requests (SMEP set in the PASID
   entry: supervisor execute of a user page is gone, user rights unchanged). */
static void test_cached_walk_differs_in_size_or_rights(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 3; c++) {
        struct env e;
        env_new(&e, &shapes[c == 0 ? 1 : c == 1 ? 0 : 3], true);
        uint64_t pe[8];
        if (c == 2) { /* supervisor and execute requests enabled */
            tl_pe_fl(pe, DID, e.fl, SIOV_FLPM_4LVL);
            pe[2] |= SIOV_PTE2_SRE | SIOV_PTE2_ERE | SIOV_PTE2_NXE;
            tl_pasid_entry(e.t, e.dir, PASID, pe);
        }
        unsigned access = c == 2 ? SIOV_ACCESS_READ | SIOV_ACCESS_PRIV : SIOV_ACCESS_READ;
        struct siov_xlate x;
        assert_int_equal(xl(&e, 0, access, &x), SIOV_OK);
        uint64_t leaf = map_page(&e, e.sl, e.fl, 0, 0);
        if (c == 0) { /* the 2 MiB leaf at level 2 becomes a table of 4 KiB leaves from the same base */
            uint64_t t = tl_page(e.t);
            for (unsigned i = 0; i < 512; i++)
                tl_w64(e.t, t + 8 * i, (pa_of(&e, 0, 0) + i * KB4) | TL_SL_RW);
            tl_w64(e.t, leaf, t | TL_SL_RW);
        } else if (c == 1) {
            tl_w64(e.t, leaf, tl_r64(e.t, leaf) & ~SIOV_SL_W);
        } else {
            pe[2] |= SIOV_PTE2_SMEP;
            tl_pasid_entry(e.t, e.dir, PASID, pe);
        }
        assert_int_equal(xl(&e, 0, access, &x), SIOV_OK);
        assert_int_equal(e.log.calls, 1);
        const struct siov_stale_report *r = &e.log.last;
        assert_int_equal(r->cached.addr, r->fresh.addr);
        assert_true(r->caches & SIOV_CACHE_IOTLB);
        if (c == 0) {
            assert_int_equal(r->cached.page_size, MB2);
            assert_int_equal(r->fresh.page_size, KB4);
        } else if (c == 1) { /* SLEE=0: execute follows read */
            assert_int_equal(r->cached.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC);
            assert_int_equal(r->fresh.perm, SIOV_ACCESS_READ | SIOV_ACCESS_EXEC);
        } else {
            assert_int_equal(r->cached.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC);
            assert_int_equal(r->fresh.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE);
            assert_true(r->caches & SIOV_CACHE_PASID);
        }
        tl_free(e.t);
    }
}

/* Legacy mode: each field of the legacy context entry changed with the leaf. */
static void test_legacy_context_fields(void **state)
{
    (void)state;
    static const uint64_t flip[][2] = {
        {SIOV_CE0_FPD, 0}, {SIOV_BIT(3), 0} /* TT: SL -> pass-through */, {0, SIOV_BIT(0)} /* AW 2 -> 3 */,
        {0, SIOV_BIT(8)} /* DID */, {SIOV_BIT(40), 0} /* SLPTPTR */,
    };
    for (unsigned k = 0; k < sizeof flip / sizeof flip[0]; k++) {
        struct log log = {0};
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.mgaw = 57;
        cfg.sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL;
        cfg.stale_check = true;
        cfg.stale_report = stale_cb;
        cfg.stale_opaque = &log;
        struct tl *t = tl_new(&cfg);
        tl_enable(t, SIOV_TTM_LEGACY);
        uint64_t sl = tl_page(t);
        uint64_t leaf = tl_map(t, sl, 4, false, 0x5000, 0x77000, KB4, TL_SL_RW, TL_SL_RW);
        uint64_t ce = tl_legacy_context(t, SID, SIOV_CE0_P | sl, siov_set(0, SIOV_CE1_AW, SIOV_AW_4LVL) |
                                                                      siov_set(0, SIOV_CE1_DID, DID));
        struct siov_xlate x;
        assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 0x5010, SIOV_ACCESS_READ, &x), SIOV_OK);
        tl_w64(t, leaf, 0x99000 | TL_SL_RW);
        tl_w64(t, ce, tl_r64(t, ce) ^ flip[k][0]);
        tl_w64(t, ce + 8, tl_r64(t, ce + 8) ^ flip[k][1]);
        assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 0x5010, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, 0x77010);
        assert_int_equal(log.calls, 1);
        assert_true(log.last.caches & SIOV_CACHE_CONTEXT);
        tl_free(t);
    }
}

/* Only the PASID entry's DID changed (the tables it points to did not): the
   answer's DID differs, and the report names the PASID cache alone, since
   the IOTLB entry is the walk the new entry makes too. Without an IOTLB, the
   same. */
static void test_did_change_names_only_the_pasid_cache(void **state)
{
    (void)state;
    for (int iotlb = 1; iotlb >= 0; iotlb--) {
        struct env e;
        env_new_iotlb(&e, &shapes[0], true, iotlb ? 4096 : 0);
        struct siov_xlate x;
        assert_int_equal(xl(&e, 0, SIOV_ACCESS_READ, &x), SIOV_OK);
        uint64_t pde = tl_r64(e.t, e.dir + siov_get(PASID, SIOV_PASID_DIR_INDEX) * 8);
        uint64_t gpa = (pde & SIOV_PDE_SMPTBLPTR) + siov_get(PASID, SIOV_PASID_TBL_INDEX) * 64ull + 8;
        tl_w64(e.t, gpa, tl_r64(e.t, gpa) ^ siov_set(0, SIOV_PTE1_DID, 0x10));
        assert_int_equal(xl(&e, 0, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(e.log.calls, 1);
        const struct siov_stale_report *r = &e.log.last;
        assert_int_equal(r->caches, SIOV_CACHE_PASID);
        assert_int_equal(r->cached.did, DID);
        assert_int_equal(r->fresh.did, DID ^ 0x10);
        assert_int_equal(r->cached.addr, r->fresh.addr);
        tl_free(e.t);
    }
}

/* The cached answer is a fault where memory now translates: the cached
   context entry points at a directory without the PASID, memory's at one
   with it. The report has the cached fault, no cached translation (all
   zero) and the fresh one. */
static void test_cached_fault_fresh_translation(void **state)
{
    (void)state;
    const uint32_t pasid2 = 0x4000; /* a directory entry the first directory does not have */
    struct env e;
    env_new(&e, &shapes[0], true);
    struct siov_xlate x;
    assert_int_equal(xl(&e, 0, SIOV_ACCESS_READ, &x), SIOV_OK); /* the context entry cached */
    uint64_t dir2 = tl_sm_context_default(e.t, SID, 0);       /* memory: another directory */
    uint64_t pe[8];
    tl_pe_sl(pe, DID, e.sl, SIOV_AW_4LVL);
    tl_pasid_entry(e.t, dir2, pasid2, pe);
    siov_fault f = siov_translate(e.t->iommu, SID, pasid2, iova_of(&e, 1), SIOV_ACCESS_READ, &x);
    assert_int_equal(f, SIOV_FAULT_SPD_2);
    assert_int_equal(e.log.calls, 1);
    const struct siov_stale_report *r = &e.log.last;
    assert_int_equal(r->cached_fault, SIOV_FAULT_SPD_2);
    assert_int_equal(r->fresh_fault, SIOV_OK);
    assert_true(r->caches & SIOV_CACHE_CONTEXT);
    struct siov_xlate zero;
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(&r->cached, &zero, sizeof(zero));
    assert_int_equal(r->fresh.addr, pa_of(&e, 0, 1));
    assert_int_equal(stale_hits(&e), 1);
    tl_free(e.t);
}

/* The checker without a report function: stale answers are counted, nothing called. */
static void test_counted_without_a_report_function(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.stale_check = true;
    struct tl *t = tl_new(&cfg);
    tl_enable(t, SIOV_TTM_LEGACY);
    uint64_t sl = tl_page(t);
    uint64_t leaf = tl_map(t, sl, 4, false, 0x5000, 0x77000, KB4, TL_SL_RW, TL_SL_RW);
    tl_legacy_context(t, SID, SIOV_CE0_P | sl, siov_set(0, SIOV_CE1_AW, SIOV_AW_4LVL) | siov_set(0, SIOV_CE1_DID, DID));
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 0x5010, SIOV_ACCESS_READ, &x), SIOV_OK);
    tl_w64(t, leaf, 0x99000 | TL_SL_RW);
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 0x5010, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x77010);
    assert_int_equal(tl_stats(t).stale_hits, 1);
    tl_free(t);
}

static void test_off_by_default_and_when_off(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    assert_false(cfg.stale_check);
    assert_null(cfg.stale_report);
    struct env e;
    env_new(&e, &shapes[3], false);
    struct siov_xlate x;
    assert_int_equal(xl(&e, 0, SIOV_ACCESS_READ, &x), SIOV_OK);
    map_page(&e, e.sl, e.fl, 1, 0);
    assert_int_equal(xl(&e, 0, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, pa_of(&e, 0, 0) + 0x40);
    assert_int_equal(e.log.calls, 0);
    assert_int_equal(stale_hits(&e), 0);
    tl_free(e.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_silent_while_tables_are_unchanged),
        cmocka_unit_test(test_changed_leaf_reported_with_both_answers),
        cmocka_unit_test(test_removed_mapping_reports_the_fresh_fault),
        cmocka_unit_test(test_changed_pasid_entry_and_context_entry),
        cmocka_unit_test(test_each_changed_field_names_its_cache),
        cmocka_unit_test(test_cached_walk_differs_in_size_or_rights),
        cmocka_unit_test(test_legacy_context_fields),
        cmocka_unit_test(test_off_by_default_and_when_off),
        cmocka_unit_test(test_did_change_names_only_the_pasid_cache),
        cmocka_unit_test(test_cached_fault_fresh_translation),
        cmocka_unit_test(test_counted_without_a_report_function),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

/* A fresh scalable unit translating SID/PASID through shape s, pages 0..7 -> set 0. */
static void env_new(struct env *e, const struct shape *s, bool check)
{
    memset(e, 0, sizeof(*e));
    e->s = *s;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
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
        cmocka_unit_test(test_off_by_default_and_when_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

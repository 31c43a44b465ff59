/* The built-in ATC's placement and its edges (src/model/atc.c, exact_cache.c):
   which way of which set a translation takes (the inline probe's ABI, ats.h),
   what a full set moves and evicts, what an invalidation reaches inside a
   large completion, fills that an invalidation overtook, write-only pages,
   the stale checker's other answers, the hardware-like ATC's sizes, keys and
   global invalidations, and the configuration's bad values. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testlib.h"

#define MEM_SIZE (16ull << 20)
#define SID SIOV_SID(0, 3, 0)
#define RID 0u
#define PASID 5u
#define PASID2 6u
#define DID 0x21
#define KiB4 SIOV_PAGE_SIZE
#define MiB2 (2ull << 20)
#define STATUS (12ull << 20)
#define OUT4K (13ull << 20)   /* output of the 4 KiB pages */
#define OUT2M (0x600000ull)   /* output of the 2 MiB page */
#define PAGE_IOVA 0x10000ull
#define NPAGES 64
#define BIG_IOVA 0x200000ull
#define CLASS_2M (MiB2 == (1ull << 21) ? 9u : 0u)

/* ---------------------------------------------------------------- queue */
struct wq {
    struct tl *t;
    uint64_t base;
    unsigned tail;
    uint32_t seq;
};

static void wq_init(struct wq *q, struct tl *t)
{
    memset(q, 0, sizeof(*q));
    q->t = t;
    q->base = tl_page(t);
    siov_mmio_write(t->iommu, SIOV_REG_IQT, 0, 8);
    siov_mmio_write(t->iommu, SIOV_REG_IQA, q->base | SIOV_IQA_DW, 8);
    tl_gcmd(t, SIOV_GCMD_QIE, 0);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_QIES);
}

static void wq_put(struct wq *q, uint64_t q0, uint64_t q1)
{
    tl_w64(q->t, q->base + q->tail, q0);
    tl_w64(q->t, q->base + q->tail + 8, q1);
    tl_w64(q->t, q->base + q->tail + 16, 0);
    tl_w64(q->t, q->base + q->tail + 24, 0);
    q->tail = (q->tail + 32) % SIOV_PAGE_SIZE;
}

static void wq_kick(struct wq *q) { siov_mmio_write(q->t->iommu, SIOV_REG_IQT, q->tail, 8); }

/* One descriptor and an inv-wait behind it, which must complete. */
static void wq_run(struct wq *q, uint64_t q0, uint64_t q1)
{
    wq_put(q, q0, q1);
    uint64_t w0 = siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, ++q->seq);
    wq_put(q, w0, STATUS);
    wq_kick(q);
    assert_int_equal((uint32_t)tl_r64(q->t, STATUS), q->seq);
}

static uint64_t d_devtlb(siov_sid sid)
{
    return siov_dsc_make_type(SIOV_DSC_DEVTLB) | siov_set(0, SIOV_DTLB0_SID, sid);
}
static uint64_t d_pdevtlb(siov_sid sid, uint32_t pasid)
{
    return siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_SID, sid) |
           siov_set(0, SIOV_PDTLB0_PASID, pasid);
}
static uint64_t r3(uint64_t base, uint64_t size)
{
    int s;
    uint64_t a = siov_ats_range_encode(base, size, &s);
    return a | (s ? SIOV_DTLB1_S : 0);
}
static uint64_t r8(uint64_t base, uint64_t size, bool g)
{
    int s;
    uint64_t a = siov_ats_range_encode(base, size, &s);
    return a | (s ? SIOV_PDTLB1_S : 0) | (g ? SIOV_PDTLB1_G : 0);
}

/* ------------------------------------------------------------ the unit */
/* PASID and PASID2 (and requests without PASID) each see NPAGES 4 KiB pages
   at PAGE_IOVA and one 2 MiB page at BIG_IOVA, second level. */
struct env {
    struct tl *t;
    struct wq q;
    struct siov_atc *atc;
    uint64_t root[3], leaf[3][NPAGES], big_leaf[3];
    uint64_t dir;
};

static uint32_t space(unsigned k) { return k == 0 ? SIOV_NO_PASID : k == 1 ? PASID : PASID2; }
static uint64_t out4k(unsigned k, unsigned i) { return OUT4K + ((uint64_t)k * NPAGES + i) * KiB4; }
static uint64_t out2m(unsigned k) { return OUT2M + (uint64_t)k * MiB2; }

static void env_tables(struct env *e, struct tl *t, uint64_t leaf_perm)
{
    e->t = t;
    tl_enable(t, SIOV_TTM_SCALABLE);
    wq_init(&e->q, t);
    e->dir = tl_sm_context_default(t, SID, RID);
    for (unsigned k = 0; k < 3; k++) {
        uint64_t pe[8];
        e->root[k] = tl_page(t);
        tl_pe_sl(pe, DID + k, e->root[k], SIOV_AW_4LVL);
        tl_pasid_entry(t, e->dir, k ? space(k) : RID, pe);
        for (unsigned i = 0; i < NPAGES; i++)
            e->leaf[k][i] = tl_map(t, e->root[k], 4, false, PAGE_IOVA + i * KiB4, out4k(k, i), KiB4, leaf_perm,
                                   TL_SL_RWX);
        e->big_leaf[k] = tl_map(t, e->root[k], 4, false, BIG_IOVA, out2m(k), MiB2, TL_SL_RW, TL_SL_RWX);
    }
}

static void env_new(struct env *e, const struct siov_iommu_config *cfg, const struct siov_atc_config *ac)
{
    memset(e, 0, sizeof(*e));
    env_tables(e, tl_new_sized(cfg, MEM_SIZE), TL_SL_RW);
    e->atc = siov_atc_new_config(e->t->iommu, SID, ac);
    assert_non_null(e->atc);
}

static void env_free(struct env *e)
{
    siov_atc_free(e->atc);
    tl_free(e->t);
}

static siov_fault xl(struct env *e, unsigned k, uint64_t iova, unsigned access, struct siov_xlate *x)
{
    memset(x, 0, sizeof(*x));
    return siov_atc_translate(e->atc, space(k), iova, access, x);
}

static uint64_t requests(struct env *e)
{
    struct siov_atc_stats s;
    siov_atc_stats(e->atc, &s);
    return s.ats_requests;
}

/* Translate and check the answer, and whether it asked the unit. */
static void expect_xl(struct env *e, unsigned k, uint64_t iova, unsigned access, uint64_t addr, uint64_t size,
                      bool asked)
{
    struct siov_xlate x;
    uint64_t before = requests(e);
    assert_int_equal(xl(e, k, iova, access, &x), SIOV_OK);
    assert_int_equal(x.addr, addr);
    assert_int_equal(x.page_size, size);
    if (requests(e) - before != asked)
        fail_msg("space %u iova 0x%llx: %s the unit", k, (unsigned long long)iova, asked ? "did not ask" : "asked");
}

/* ------------------------------------------------------ placement (ats.h) */
/* The set (0 or 1 of the smallest ATC, 2 sets of 2 ways) where a way of
   key and class c at page lives, by the probe's ABI. */
static unsigned set_of(struct env *e, unsigned k, unsigned c, uint64_t page)
{
    const struct siov_atc_abi *abi = (const struct siov_atc_abi *)(const void *)e->atc;
    uint64_t key = siov_atc_key(space(k), SIOV_ACCESS_READ) | siov_set(0, SIOV_ATC_TAG_CLASS, c);
    return (unsigned)(((page ^ key) * SIOV_ATC_HASH_MUL) >> abi->set_shift);
}

/* The n-th 4 KiB page of space k (from `from` on) whose page way lives in set s. */
static unsigned page_in_set(struct env *e, unsigned k, unsigned s, unsigned from)
{
    for (unsigned i = from; i < NPAGES; i++)
        if (set_of(e, k, 0, PAGE_IOVA + i * KiB4) == s)
            return i;
    fail_msg("no page in set %u", s);
    return 0;
}

/* A page of the 2 MiB page whose page way lives in the other set than its range way. */
static uint64_t big_page_apart(struct env *e, unsigned k)
{
    unsigned rs = set_of(e, k, CLASS_2M, BIG_IOVA);
    for (uint64_t p = BIG_IOVA + KiB4; p < BIG_IOVA + MiB2; p += KiB4)
        if (set_of(e, k, 0, p) != rs)
            return p;
    fail_msg("no page apart");
    return 0;
}

static struct siov_atc_config smallest(void)
{
    return (struct siov_atc_config){1, 0, SIOV_POLICY_LRU, 0}; /* 4 ways: 2 sets of 2 */
}

/* A full set: the new translation takes way 0 and the one there moves to
   way 1 whole, the range of its completion included (the probe answers
   the 2 MiB page size from it, and the listing shows one 2 MiB entry). */
static void test_moved_way_keeps_its_range(void **state)
{
    (void)state;
    struct env e;
    struct siov_atc_config ac = smallest();
    env_new(&e, NULL, &ac);
    uint64_t p = big_page_apart(&e, 1);
    unsigned s = set_of(&e, 1, 0, p);
    unsigned a = page_in_set(&e, 1, s, 0), b = page_in_set(&e, 1, s, a + 1);
    expect_xl(&e, 1, p + 0x10, SIOV_ACCESS_READ, out2m(1) + (p - BIG_IOVA) + 0x10, MiB2, true); /* way 0 */
    expect_xl(&e, 1, PAGE_IOVA + a * KiB4, SIOV_ACCESS_READ, out4k(1, a), KiB4, true); /* way 1 */
    expect_xl(&e, 1, PAGE_IOVA + b * KiB4, SIOV_ACCESS_READ, out4k(1, b), KiB4, true); /* p moves to way 1 */
    expect_xl(&e, 1, p + 0x20, SIOV_ACCESS_READ, out2m(1) + (p - BIG_IOVA) + 0x20, MiB2, false);
    struct siov_atc_entry ent[8];
    assert_int_equal(siov_atc_entries(e.atc, ent, 8), 2);
    assert_int_equal(ent[0].iova, PAGE_IOVA + b * KiB4);
    assert_int_equal(ent[1].iova, BIG_IOVA);
    assert_int_equal(ent[1].size, MiB2);
    assert_int_equal(ent[1].pages, 1);
    /* a page of the completion nothing holds: the whole completion goes */
    uint64_t q = p == BIG_IOVA + KiB4 ? BIG_IOVA + 2 * KiB4 : BIG_IOVA + KiB4;
    wq_run(&e.q, d_pdevtlb(SID, 0), r8(q, KiB4, true));
    assert_int_equal(siov_atc_entries(e.atc, ent, 8), 1);
    expect_xl(&e, 1, p, SIOV_ACCESS_READ, out2m(1) + (p - BIG_IOVA), MiB2, true);
    env_free(&e);
}

/* The range way of a 2 MiB completion evicted: its page ways go with it,
   since an invalidation of another page of the completion finds them only
   through it (they would answer after that invalidation). */
static void test_evicted_range_way(void **state)
{
    (void)state;
    struct env e;
    struct siov_atc_config ac = smallest();
    env_new(&e, NULL, &ac);
    uint64_t p = big_page_apart(&e, 1);
    unsigned rs = set_of(&e, 1, CLASS_2M, BIG_IOVA);
    unsigned a = page_in_set(&e, 1, rs, 0), b = page_in_set(&e, 1, rs, a + 1), c = page_in_set(&e, 1, rs, b + 1);
    expect_xl(&e, 1, p, SIOV_ACCESS_READ, out2m(1) + (p - BIG_IOVA), MiB2, true);
    for (unsigned i = 0; i < 3; i++) { /* three 4 KiB pages through the range way's set */
        unsigned n = i == 0 ? a : i == 1 ? b : c;
        expect_xl(&e, 1, PAGE_IOVA + n * KiB4, SIOV_ACCESS_READ, out4k(1, n), KiB4, true);
    }
    struct siov_atc_entry ent[8];
    assert_int_equal(siov_atc_entries(e.atc, ent, 8), 2); /* b and c; a, the range and p are out */
    assert_int_equal(ent[0].size + ent[1].size, 2 * KiB4);
    uint64_t q = p == BIG_IOVA + KiB4 ? BIG_IOVA + 2 * KiB4 : BIG_IOVA + KiB4;
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(q, KiB4, false));
    expect_xl(&e, 1, p, SIOV_ACCESS_READ, out2m(1) + (p - BIG_IOVA), MiB2, true);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moved_way_keeps_its_range),
        cmocka_unit_test(test_evicted_range_way),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

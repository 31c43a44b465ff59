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
#include "inv_queue.h"
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
/* One descriptor and an inv-wait behind it, which must complete. */
static void wq_run(struct q *q, uint64_t q0, uint64_t q1)
{
    q_put(q, q0, q1);
    uint32_t seq = q_put_wait(q, STATUS, 0);
    q_kick(q);
    assert_int_equal((uint32_t)tl_r64(q->t, STATUS), seq);
}

/* ------------------------------------------------------------ the unit */
/* PASID and PASID2 (and requests without PASID) each see NPAGES 4 KiB pages
   at PAGE_IOVA and one 2 MiB page at BIG_IOVA, second level. */
struct env {
    struct tl *t;
    struct q q;
    struct siov_atc *atc;
    uint64_t root[3], leaf[3][NPAGES];
    uint64_t dir;
};

static uint32_t space(unsigned k) { return k == 0 ? SIOV_NO_PASID : k == 1 ? PASID : PASID2; }
static uint64_t out4k(unsigned k, unsigned i) { return OUT4K + ((uint64_t)k * NPAGES + i) * KiB4; }
static uint64_t out2m(unsigned k) { return OUT2M + (uint64_t)k * MiB2; }

/* The tables in t's memory, and an ATC of configuration ac for SID. */
static void env_over(struct env *e, struct tl *t, const struct siov_atc_config *ac)
{
    memset(e, 0, sizeof(*e));
    e->t = t;
    tl_enable(t, SIOV_TTM_SCALABLE);
    q_init(&e->q, t);
    e->dir = tl_sm_context_default(t, SID, RID);
    for (unsigned k = 0; k < 3; k++) {
        struct tl_sl_space sp = {k ? space(k) : RID, DID + k, PAGE_IOVA, out4k(k, 0), NPAGES, TL_SL_RW,
                                 BIG_IOVA, out2m(k)};
        e->root[k] = tl_sl_space(t, e->dir, &sp, e->leaf[k]);
    }
    e->atc = siov_atc_new_config(t->iommu, SID, ac);
    assert_non_null(e->atc);
}

static void env_new(struct env *e, const struct siov_iommu_config *cfg, const struct siov_atc_config *ac)
{
    env_over(e, tl_new_sized(cfg, MEM_SIZE), ac);
}

/* env_new with the inline ATC of entries entries, LRU. */
static void env_inline(struct env *e, const struct siov_iommu_config *cfg, unsigned entries)
{
    struct siov_atc_config ac = {entries, 0, SIOV_POLICY_LRU, 0};
    env_new(e, cfg, &ac);
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
    assert_int_equal(x.did, 0); /* completions carry no domain */
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

/* Where a fill puts a page: in the set and with the words the inline probe
   reads (ats.h), its tag under the slot's generation. */
static void expect_way(struct env *e, unsigned k, uint64_t page, uint64_t out, uint64_t perm, uint64_t size)
{
    const struct siov_atc_abi *abi = (const struct siov_atc_abi *)(const void *)e->atc;
    unsigned s = set_of(e, k, 0, page);
    uint32_t slot = space(k) == SIOV_NO_PASID ? abi->gen_mask + 1 : (space(k) & abi->gen_mask);
    uint64_t want = siov_atc_key(space(k), SIOV_ACCESS_READ) | abi->gen[slot];
    unsigned found = 0;
    for (unsigned i = 0; i < 2; i++) {
        const struct siov_atc_way *w = &abi->ways[2 * s + i];
        if ((w->tag & SIOV_ATC_TAG_MATCH) != want || w->page != page)
            continue;
        found++;
        assert_int_equal(w->val, out | perm);
        assert_int_equal(w->size, size);
        assert_int_equal(w->tag & SIOV_ATC_TAG_SEQ_ODD, 0);
    }
    assert_int_equal(found, 1);
}

static void test_layout_is_the_probes(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 64);
    const struct siov_atc_abi *abi = (const struct siov_atc_abi *)(const void *)e.atc;
    assert_int_equal(abi->gen_mask, 63);  /* 64 slots for 64 entries */
    assert_int_equal(abi->set_shift, 59); /* 32 sets of 2 */
    static const struct { unsigned entries, slots, shift; } geo[] = {
        {1, 64, 63}, {100, 128, 58}, {1024, 1024, 55}, {8192, 4096, 52}}; /* slots: 64 to 4096 */
    for (unsigned i = 0; i < 4; i++) {
        struct siov_atc *a = siov_atc_new(e.t->iommu, SIOV_SID(0, 9, 0), geo[i].entries);
        assert_non_null(a);
        const struct siov_atc_abi *ab = (const struct siov_atc_abi *)(const void *)a;
        assert_int_equal(ab->gen_mask, geo[i].slots - 1);
        assert_int_equal(ab->set_shift, geo[i].shift);
        siov_atc_free(a);
    }
    for (unsigned k = 0; k < 3; k++)
        for (unsigned i = 0; i < 6; i++) {
            uint64_t page = PAGE_IOVA + i * KiB4;
            expect_xl(&e, k, page + 0x18, SIOV_ACCESS_READ, out4k(k, i) + 0x18, KiB4, true);
            expect_way(&e, k, page, out4k(k, i), SIOV_ACCESS_READ, KiB4);
        }
    expect_xl(&e, 2, BIG_IOVA + 0x3000, SIOV_ACCESS_WRITE, out2m(2) + 0x3000, MiB2, true);
    expect_way(&e, 2, BIG_IOVA + 0x3000, out2m(2) + 0x3000, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE, MiB2);
    /* a PASID-wide invalidation is a new generation of the slot, nothing else */
    uint64_t gen = abi->gen[PASID];
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(0, UINT64_MAX, false));
    assert_int_equal(abi->gen[PASID], gen + (SIOV_ATC_TAG_GEN & -SIOV_ATC_TAG_GEN));
    assert_int_equal(abi->gen[PASID2], 0);
    expect_way(&e, 2, PAGE_IOVA, out4k(2, 0), SIOV_ACCESS_READ, KiB4);
    expect_way(&e, 0, PAGE_IOVA, out4k(0, 0), SIOV_ACCESS_READ, KiB4);
    env_free(&e);
}

/* entries_dropped counts the ways each invalidation empties: pages, and a
   large completion's range way and page ways. */
static void test_dropped_counts_each_way(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 64);
    for (unsigned i = 0; i < 5; i++)
        expect_xl(&e, 1, PAGE_IOVA + i * KiB4, SIOV_ACCESS_READ, out4k(1, i), KiB4, true);
    expect_xl(&e, 1, BIG_IOVA, SIOV_ACCESS_READ, out2m(1), MiB2, true);
    expect_xl(&e, 1, BIG_IOVA + 0x9000, SIOV_ACCESS_READ, out2m(1) + 0x9000, MiB2, false); /* a second page way */
    for (unsigned i = 0; i < 2; i++)
        expect_xl(&e, 0, PAGE_IOVA + i * KiB4, SIOV_ACCESS_READ, out4k(0, i), KiB4, true);
    expect_xl(&e, 2, PAGE_IOVA, SIOV_ACCESS_READ, out4k(2, 0), KiB4, true);
    for (unsigned i = 0; i < 3; i++) { /* three pages above the 2 MiB one */
        uint64_t iova = 0x400000 + i * KiB4;
        tl_map(e.t, e.root[1], 4, false, iova, out4k(1, 60 + i), KiB4, TL_SL_RW, TL_SL_RWX);
        expect_xl(&e, 1, iova, SIOV_ACCESS_READ, out4k(1, 60 + i), KiB4, true);
    }
    struct siov_atc_entry ent[16];
    assert_int_equal(siov_atc_entries(e.atc, ent, 16), 12);
    for (unsigned i = 0; i < 12; i++) { /* by PASID (none last), then address; page ways each counted once */
        static const uint32_t pasid[12] = {PASID, PASID, PASID, PASID, PASID, PASID, PASID, PASID, PASID,
                                           PASID2, SIOV_NO_PASID, SIOV_NO_PASID};
        assert_int_equal(ent[i].pasid, pasid[i]);
        assert_int_equal(ent[i].pages, i == 5 ? 2 : 1);
        assert_true(i == 0 || ent[i].pasid != ent[i - 1].pasid || ent[i].iova > ent[i - 1].iova);
    }
    struct siov_atc_stats st;
    static const struct {
        bool pasid_form, g;
        uint32_t pasid;
        uint64_t base, size;
        uint64_t dropped;
        unsigned left;
    } steps[] = {
        {true, false, PASID, PAGE_IOVA, KiB4, 1, 11},           /* one page */
        {true, false, PASID, BIG_IOVA + 0x100000, KiB4, 3, 10}, /* the 2 MiB completion: range way, 2 page ways */
        {true, false, PASID, PAGE_IOVA + KiB4, KiB4, 1, 9},     /* refilled below: one each time */
        {true, false, PASID, 0, UINT64_MAX, 7, 3},              /* the rest of PASID */
        {true, true, 0, 0, UINT64_MAX, 1, 2},                  /* every PASID: PASID2's page */
        {false, false, 0, 0, UINT64_MAX, 2, 0},                /* without PASID */
    };
    uint64_t total = 0;
    for (unsigned i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        if (i == 3)
            expect_xl(&e, 1, PAGE_IOVA + KiB4, SIOV_ACCESS_READ, out4k(1, 1), KiB4, true);
        if (steps[i].pasid_form)
            wq_run(&e.q, d_pdevtlb(SID, steps[i].pasid), r8(steps[i].base, steps[i].size, steps[i].g));
        else
            wq_run(&e.q, d_devtlb(SID), r3(steps[i].base, steps[i].size));
        total += steps[i].dropped;
        siov_atc_stats(e.atc, &st);
        if (st.entries_dropped != total)
            fail_msg("step %u: %llu dropped, want %llu", i, (unsigned long long)st.entries_dropped,
                     (unsigned long long)total);
        assert_int_equal(siov_atc_entries(e.atc, NULL, 0), steps[i].left);
    }
    env_free(&e);
}

/* A full set: the new translation takes way 0 and the one there moves to
   way 1 whole, the range of its completion included (the probe answers
   the 2 MiB page size from it, and the listing shows one 2 MiB entry). */
static void moved_way_keeps_its_range(const struct siov_iommu_config *cfg)
{
    struct env e;
    struct siov_atc_config ac = smallest();
    env_new(&e, cfg, &ac);
    uint64_t p = big_page_apart(&e, 1);
    unsigned s = set_of(&e, 1, 0, p);
    unsigned a = page_in_set(&e, 1, s, 0), b = page_in_set(&e, 1, s, a + 1);
    expect_xl(&e, 1, p + 0x10, SIOV_ACCESS_READ, out2m(1) + (p - BIG_IOVA) + 0x10, MiB2, true); /* way 0 */
    expect_xl(&e, 1, PAGE_IOVA + a * KiB4, SIOV_ACCESS_READ, out4k(1, a), KiB4, true); /* way 1 */
    expect_xl(&e, 1, PAGE_IOVA + b * KiB4, SIOV_ACCESS_READ, out4k(1, b), KiB4, true); /* p moves to way 1 */
    expect_xl(&e, 1, p + 0x20, SIOV_ACCESS_READ, out2m(1) + (p - BIG_IOVA) + 0x20, MiB2, false);
    struct siov_atc_entry ent[8];
    memset(ent, 0xA5, sizeof(ent));
    assert_int_equal(siov_atc_entries(e.atc, ent, 8), 2);
    assert_int_equal(ent[2].iova, 0xA5A5A5A5A5A5A5A5ull); /* nothing past the count */
    assert_int_equal(ent[0].iova, PAGE_IOVA + b * KiB4);
    assert_true(ent[0].r && !ent[0].w); /* read-only fills */
    assert_true(ent[1].r && !ent[1].w);
    assert_int_equal(ent[1].iova, BIG_IOVA);
    assert_int_equal(ent[1].size, MiB2);
    assert_int_equal(ent[1].pages, 1);
    memset(ent, 0xA5, sizeof(ent));
    assert_int_equal(siov_atc_entries(e.atc, ent, 1), 2); /* the count, one entry written */
    assert_int_equal(ent[0].iova, PAGE_IOVA + b * KiB4);
    assert_int_equal(ent[1].iova, 0xA5A5A5A5A5A5A5A5ull);
    /* a page of the completion nothing holds: the whole completion goes */
    uint64_t q = p == BIG_IOVA + KiB4 ? BIG_IOVA + 2 * KiB4 : BIG_IOVA + KiB4;
    wq_run(&e.q, d_pdevtlb(SID, 0), r8(q, KiB4, true));
    assert_int_equal(siov_atc_entries(e.atc, ent, 8), 1);
    expect_xl(&e, 1, p, SIOV_ACCESS_READ, out2m(1) + (p - BIG_IOVA), MiB2, true);
    env_free(&e);
}

/* Each placement case with the inline probe on, and off (the stale
   checker's configuration: every lookup out of line, reading both ways). */
static void inline_and_out_of_line(void (*fn)(const struct siov_iommu_config *cfg))
{
    fn(NULL);
    struct siov_iommu_config cfg = tl_config_stale(NULL);
    fn(&cfg);
}

static void test_moved_way_keeps_its_range(void **state)
{
    (void)state;
    inline_and_out_of_line(moved_way_keeps_its_range);
}

/* The listing's page count of a 2 MiB completion is the number of its page
   ways the probe can find, wherever they are (way 0 of the array included). */
static unsigned aliases(struct env *e)
{
    const struct siov_atc_abi *abi = (const struct siov_atc_abi *)(const void *)e->atc;
    uint64_t want = siov_atc_key(PASID, SIOV_ACCESS_READ) | abi->gen[PASID & abi->gen_mask];
    unsigned n = 0;
    for (unsigned i = 0; i < 4; i++) {
        const struct siov_atc_way *w = &abi->ways[i];
        n += (w->tag & SIOV_ATC_TAG_MATCH) == want && w->size == MiB2;
    }
    return n;
}

static void test_listing_counts_page_ways(void **state)
{
    (void)state;
    struct env e;
    struct siov_atc_config ac = smallest();
    env_new(&e, NULL, &ac);
    const struct siov_atc_abi *abi = (const struct siov_atc_abi *)(const void *)e.atc;
    bool way0 = false;
    for (uint64_t q = BIG_IOVA; q < BIG_IOVA + 64 * KiB4; q += KiB4) {
        bool held = siov_atc_entries(e.atc, NULL, 0) == 1;
        expect_xl(&e, 1, q, SIOV_ACCESS_READ, out2m(1) + (q - BIG_IOVA), MiB2, !held);
        struct siov_atc_entry ent[4];
        unsigned n = siov_atc_entries(e.atc, ent, 4); /* 0: a fill of its own set pushed it out */
        assert_true(n <= 1);
        if ((n ? ent[0].pages : 0) != aliases(&e))
            fail_msg("q 0x%llx: listed %u page ways, %u in the ways", (unsigned long long)q, n ? ent[0].pages : 0,
                     aliases(&e));
        way0 |= abi->ways[0].size == MiB2 && !siov_get(abi->ways[0].tag, SIOV_ATC_TAG_CLASS);
    }
    assert_true(way0);
    env_free(&e);
}

/* A set's free way is taken before anything moves, and a refill updates
   the translation's own way wherever it is (no second copy that an
   invalidation would leave behind). */
static void set_reuse(const struct siov_iommu_config *cfg)
{
    struct env e;
    struct siov_atc_config ac = smallest();
    env_new(&e, cfg, &ac);
    unsigned a = page_in_set(&e, 1, 0, 0), b = page_in_set(&e, 1, 0, a + 1), c = page_in_set(&e, 1, 0, b + 1);
    uint64_t pa = PAGE_IOVA + a * KiB4, pb = PAGE_IOVA + b * KiB4, pc = PAGE_IOVA + c * KiB4;
    const struct siov_atc_abi *abi = (const struct siov_atc_abi *)(const void *)e.atc;
    expect_xl(&e, 1, pa, SIOV_ACCESS_READ, out4k(1, a), KiB4, true);
    assert_int_equal(abi->ways[0].page, pa);
    expect_xl(&e, 1, pc, SIOV_ACCESS_READ, out4k(1, c), KiB4, true); /* the free way 1: nothing moves */
    assert_int_equal(abi->ways[0].page, pa);
    assert_int_equal(abi->ways[1].page, pc);
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(pc, KiB4, false));
    expect_xl(&e, 1, pb, SIOV_ACCESS_READ, out4k(1, b), KiB4, true); /* way 1 again */
    expect_xl(&e, 1, pc, SIOV_ACCESS_READ, out4k(1, c), KiB4, true); /* full: a moves to way 1, b goes */
    expect_xl(&e, 1, pa, SIOV_ACCESS_READ, out4k(1, a), KiB4, false);
    assert_int_equal(abi->ways[0].page, pc);
    assert_int_equal(abi->ways[1].page, pa);
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(pc, KiB4, false));     /* way 0 free */
    expect_xl(&e, 1, pc, SIOV_ACCESS_READ, out4k(1, c), KiB4, true); /* into way 0: a stays */
    expect_xl(&e, 1, pa, SIOV_ACCESS_READ, out4k(1, a), KiB4, false);
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(pc, KiB4, false));     /* way 0 free again */
    struct siov_xlate x;
    assert_int_equal(xl(&e, 1, pa, SIOV_ACCESS_WRITE, &x), SIOV_OK); /* read-only: asked again, refilled */
    assert_int_equal(x.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE);
    expect_xl(&e, 1, pa, SIOV_ACCESS_WRITE, out4k(1, a), KiB4, false);
    assert_int_equal(siov_atc_entries(e.atc, NULL, 0), 1);
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(pa, KiB4, false));
    expect_xl(&e, 1, pa, SIOV_ACCESS_READ, out4k(1, a), KiB4, true);
    env_free(&e);
}

static void test_set_reuse(void **state)
{
    (void)state;
    inline_and_out_of_line(set_reuse);
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

static uint64_t dsc(unsigned type, uint64_t gmask, unsigned g, uint64_t rest)
{
    return siov_dsc_make_type(type) | siov_set(0, gmask, g) | rest;
}

/* ------------------------------------------------------- invalidations */
/* A page inside a 2 MiB completion of an ATC smaller than the range: the
   completion is dropped by a scan, and what lies outside it stays. At the
   top of the address space the range's blocks end without wrapping. */
static void test_page_inside_a_large_completion(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 64);
    expect_xl(&e, 1, BIG_IOVA + 0x3000, SIOV_ACCESS_READ, out2m(1) + 0x3000, MiB2, true);
    expect_xl(&e, 1, BIG_IOVA + 0x7000, SIOV_ACCESS_READ, out2m(1) + 0x7000, MiB2, false);
    expect_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, out4k(1, 0), KiB4, true);
    expect_xl(&e, 2, BIG_IOVA + 0x9000, SIOV_ACCESS_READ, out2m(2) + 0x9000, MiB2, true);
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(0xFFFFFFFFFFE00000ull, MiB2, false)); /* nothing there */
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(0xFFFFFFFFFFFFF000ull, KiB4, false));
    assert_int_equal(siov_atc_entries(e.atc, NULL, 0), 3);
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(BIG_IOVA + 0x100000, KiB4, false));
    struct siov_atc_entry ent[8];
    assert_int_equal(siov_atc_entries(e.atc, ent, 8), 2);
    assert_int_equal(ent[0].pasid, PASID);
    assert_int_equal(ent[0].size, KiB4);
    assert_int_equal(ent[1].pasid, PASID2);
    expect_xl(&e, 1, BIG_IOVA + 0x7000, SIOV_ACCESS_READ, out2m(1) + 0x7000, MiB2, true);
    expect_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, out4k(1, 0), KiB4, false);
    env_free(&e);
}

/* An invalidation of [0, 2 MiB) ends where the 2 MiB completion at 2 MiB
   begins: that one stays (an ATC large enough to probe rather than scan). */
static void test_range_ends_where_a_completion_begins(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 1024);
    expect_xl(&e, 1, BIG_IOVA, SIOV_ACCESS_READ, out2m(1), MiB2, true);
    expect_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, out4k(1, 0), KiB4, true);
    wq_run(&e.q, d_pdevtlb(SID, PASID), r8(0, MiB2, false));
    struct siov_atc_entry ent[2];
    assert_int_equal(siov_atc_entries(e.atc, ent, 2), 1);
    assert_int_equal(ent[0].iova, BIG_IOVA);
    expect_xl(&e, 1, BIG_IOVA + 0x8000, SIOV_ACCESS_READ, out2m(1) + 0x8000, MiB2, false);
    expect_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, out4k(1, 0), KiB4, true);
    env_free(&e);
}

/* Completions of two sizes over the same addresses (a 1 GiB page remapped
   as 2 MiB pages without a device-TLB invalidation, then a write asking
   again): an invalidation inside the 2 MiB one reaches, through a page way
   of the 1 GiB one inside it, that whole completion too. */
static void test_nested_completions(void **state)
{
    (void)state;
    const uint32_t pasid = 7;
    const uint64_t g1 = 1ull << 30, out1 = 2ull << 30, out2 = 3ull << 30;
    struct env e;
    env_inline(&e, NULL, 1024); /* 512 pages probed one by one */
    uint64_t root_a = tl_page(e.t), root_b = tl_page(e.t), pe[8];
    tl_map(e.t, root_a, 4, false, g1, out1, g1, TL_SL_RW, TL_SL_RWX);
    tl_map(e.t, root_b, 4, false, g1 + MiB2, out2, MiB2, TL_SL_RW, TL_SL_RWX);
    tl_pe_sl(pe, 0x60, root_a, SIOV_AW_4LVL);
    tl_pasid_entry(e.t, e.dir, pasid, pe);
    struct siov_xlate x;
    static const uint64_t reads[] = {0x1000, MiB2 + 0x5000, MiB2 + 0x6000};
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(siov_atc_translate(e.atc, pasid, g1 + reads[i], SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, out1 + reads[i]);
        assert_int_equal(x.page_size, g1);
    }
    tl_pe_sl(pe, 0x60, root_b, SIOV_AW_4LVL);
    tl_pasid_entry(e.t, e.dir, pasid, pe);
    wq_run(&e.q, dsc(SIOV_DSC_PC, SIOV_PC0_G, SIOV_PC_GRAN_GLOBAL, 0), 0);
    wq_run(&e.q, dsc(SIOV_DSC_IOTLB, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL, 0), 0);
    assert_int_equal(siov_atc_translate(e.atc, pasid, g1 + MiB2 + 0x5000, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(x.addr, out2 + 0x5000);
    assert_int_equal(x.page_size, MiB2);
    struct siov_atc_entry ent[4];
    assert_int_equal(siov_atc_entries(e.atc, ent, 4), 2); /* both completions */
    struct siov_atc_stats st0, st1;
    siov_atc_stats(e.atc, &st0);
    wq_run(&e.q, d_pdevtlb(SID, pasid), r8(g1 + MiB2 + 0x10000, KiB4, false));
    assert_int_equal(siov_atc_entries(e.atc, NULL, 0), 0);
    siov_atc_stats(e.atc, &st1);
    assert_int_equal(st1.entries_dropped - st0.entries_dropped, 5); /* two range ways, three page ways */
    uint64_t before = requests(&e);
    assert_int_equal(siov_atc_translate(e.atc, pasid, g1 + 0x1000, SIOV_ACCESS_READ, &x), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(siov_atc_translate(e.atc, pasid, g1 + MiB2 + 0x6000, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, out2 + 0x6000);
    assert_int_equal(requests(&e) - before, 2);
    env_free(&e);
}

/* A global invalidation of everything reaches every PASID slot, the first
   and the last, and not the requests without PASID. */
static void test_global_reaches_every_slot(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 64); /* 64 slots */
    static const uint32_t pasids[] = {64, 127}; /* slots 0 and 63 */
    for (unsigned i = 0; i < 2; i++) {
        uint64_t pe[8];
        tl_pe_sl(pe, DID + 1, e.root[1], SIOV_AW_4LVL);
        tl_pasid_entry(e.t, e.dir, pasids[i], pe);
    }
    struct siov_xlate x;
    for (unsigned r = 0; r < 2; r++) {
        for (unsigned i = 0; i < 2; i++) {
            uint64_t before = requests(&e);
            assert_int_equal(siov_atc_translate(e.atc, pasids[i], PAGE_IOVA, SIOV_ACCESS_READ, &x), SIOV_OK);
            assert_int_equal(x.addr, out4k(1, 0));
            assert_int_equal(requests(&e) - before, 1); /* the first time, and again after the invalidation */
        }
        expect_xl(&e, 0, PAGE_IOVA, SIOV_ACCESS_READ, out4k(0, 0), KiB4, r == 0);
        wq_run(&e.q, d_pdevtlb(SID, 0), r8(0, UINT64_MAX, true));
    }
    env_free(&e);
}

/* Guest memory through callbacks: the first read of the watched page, once
   armed, runs a device-TLB invalidation (a unit answering a translation
   request while the device receives an invalidation). */
struct cbmem {
    uint8_t *ram;
    uint64_t size, watch;
    bool armed;
    struct env *e;
};

static int cb_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct cbmem *m = opaque;
    if (gpa >= m->size || len > m->size - gpa)
        return -EFAULT;
    memcpy(dst, m->ram + gpa, len);
    if (m->armed && (gpa & SIOV_PAGE_MASK) == m->watch) {
        m->armed = false;
        wq_run(&m->e->q, d_pdevtlb(SID, PASID2), r8(0, UINT64_MAX, false));
    }
    return 0;
}

static int cb_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct cbmem *m = opaque;
    if (gpa >= m->size || len > m->size - gpa)
        return -EFAULT;
    memcpy(m->ram + gpa, src, len);
    return 0;
}

/* A completion requested before an invalidation reached the ATC may predate
   it: it answers its request but is not kept. */
static void test_fill_overtaken_by_an_invalidation(void **state)
{
    (void)state;
    struct cbmem m = {calloc(1, MEM_SIZE), MEM_SIZE, 0, false, NULL};
    assert_non_null(m.ram);
    struct siov_mem_ops ops = {.read = cb_read, .write = cb_write};
    struct tl *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->mem = siov_mem_new(&ops, &m);
    t->iommu = siov_iommu_new(t->mem, NULL);
    t->next_page = TL_POOL_BASE;
    struct env e;
    struct siov_atc_config ac = {64, 0, SIOV_POLICY_LRU, 0};
    env_over(&e, t, &ac);
    m.e = &e;
    m.watch = e.root[1];
    m.armed = true;
    expect_xl(&e, 1, PAGE_IOVA + 0x44, SIOV_ACCESS_READ, out4k(1, 0) + 0x44, KiB4, true);
    assert_false(m.armed);
    struct siov_atc_stats s;
    siov_atc_stats(e.atc, &s);
    assert_int_equal(s.invalidations, 1);
    assert_int_equal(siov_atc_entries(e.atc, NULL, 0), 0);
    expect_xl(&e, 1, PAGE_IOVA + 0x44, SIOV_ACCESS_READ, out4k(1, 0) + 0x44, KiB4, true); /* asked again: kept */
    expect_xl(&e, 1, PAGE_IOVA + 0x48, SIOV_ACCESS_READ, out4k(1, 0) + 0x48, KiB4, false);
    env_free(&e);
    free(m.ram);
}

/* A write-only page (second level W without R): a write is granted and
   kept write-only; a read is not granted. Both kinds of ATC. */
static void test_write_only_page(void **state)
{
    (void)state;
    for (unsigned ways = 0; ways <= 4; ways += 4) {
        struct env e;
        struct siov_atc_config ac = {64, ways, SIOV_POLICY_LRU, 0};
        env_new(&e, NULL, &ac);
        tl_w64(e.t, e.leaf[1][3], tl_r64(e.t, e.leaf[1][3]) & ~SIOV_SL_R);
        struct siov_xlate x;
        assert_int_equal(xl(&e, 1, PAGE_IOVA + 3 * KiB4, SIOV_ACCESS_WRITE, &x), SIOV_OK);
        assert_int_equal(x.addr, out4k(1, 3));
        assert_int_equal(x.perm, SIOV_ACCESS_WRITE);
        struct siov_atc_entry ent[2];
        assert_int_equal(siov_atc_entries(e.atc, ent, 2), ways ? 0 : 1); /* the hardware-like one lists nothing */
        assert_true(ways || (!ent[0].r && ent[0].w));
        expect_xl(&e, 1, PAGE_IOVA + 3 * KiB4 + 8, SIOV_ACCESS_WRITE, out4k(1, 3) + 8, KiB4, false);
        uint64_t before = requests(&e);
        assert_int_equal(xl(&e, 1, PAGE_IOVA + 3 * KiB4, SIOV_ACCESS_READ, &x), SIOV_ERR_NOT_PRESENT);
        assert_int_equal(requests(&e) - before, 1);
        env_free(&e);
    }
}

/* ------------------------------------------------------- stale checker */
/* Hits the checker compares: a read-only one that agrees; one whose page
   the unit now maps with another page size at the same address; one after
   translation was turned off (the unit answers no request). Without a
   report callback, stale hits are only counted. */
static void test_stale_checker_answers(void **state)
{
    (void)state;
    for (unsigned rep = 0; rep < 2; rep++) {
        struct tl_stale_log log = {0};
        struct siov_iommu_config cfg = tl_config_stale(rep ? &log : NULL);
        struct env e;
        env_inline(&e, &cfg, 64);
        expect_xl(&e, 1, PAGE_IOVA + 0x10, SIOV_ACCESS_READ, out4k(1, 0) + 0x10, KiB4, true);
        expect_xl(&e, 1, PAGE_IOVA + 0x10, SIOV_ACCESS_READ, out4k(1, 0) + 0x10, KiB4, false); /* read only, agrees */
        expect_xl(&e, 1, BIG_IOVA + 0x5000, SIOV_ACCESS_READ, out2m(1) + 0x5000, MiB2, true);
        expect_xl(&e, 1, BIG_IOVA + 0x5023, SIOV_ACCESS_READ, out2m(1) + 0x5023, MiB2, false); /* odd bytes agree */
        expect_xl(&e, 1, PAGE_IOVA + 0x11, SIOV_ACCESS_READ, out4k(1, 0) + 0x11, KiB4, false);
        assert_int_equal(tl_stats(e.t).stale_hits, 0);
        /* the same addresses, now a 4 KiB page of a new table */
        uint64_t root2 = tl_page(e.t), pe[8];
        tl_map(e.t, root2, 4, false, BIG_IOVA + 0x5000, out2m(1) + 0x5000, KiB4, TL_SL_RW, TL_SL_RWX);
        tl_pe_sl(pe, DID + 1, root2, SIOV_AW_4LVL);
        tl_pasid_entry(e.t, e.dir, PASID, pe);
        wq_run(&e.q, dsc(SIOV_DSC_PC, SIOV_PC0_G, SIOV_PC_GRAN_GLOBAL, 0), 0);
        wq_run(&e.q, dsc(SIOV_DSC_IOTLB, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL, 0), 0);
        expect_xl(&e, 1, BIG_IOVA + 0x5000, SIOV_ACCESS_READ, out2m(1) + 0x5000, MiB2, false);
        assert_int_equal(tl_stats(e.t).stale_hits, 1);
        assert_int_equal(log.n, rep);
        if (rep) {
            assert_int_equal(log.last.fresh_fault, SIOV_OK);
            assert_int_equal(log.last.fresh.addr, out2m(1) + 0x5000);
            assert_int_equal(log.last.fresh.page_size, KiB4);
            assert_int_equal(log.last.fresh.perm, SIOV_ACCESS_READ);
            assert_int_equal(log.last.fresh.did, 0); /* completions carry no domain */
            assert_int_equal(log.last.cached.page_size, MiB2);
        }
        /* translation off: no request is answered */
        tl_gcmd(e.t, 0, SIOV_GCMD_TE);
        expect_xl(&e, 1, PAGE_IOVA + 0x10, SIOV_ACCESS_READ, out4k(1, 0) + 0x10, KiB4, false);
        assert_int_equal(tl_stats(e.t).stale_hits, 2);
        assert_int_equal(log.n, 2 * rep);
        if (rep) {
            static const struct siov_stale_report zero;
            assert_int_equal(log.last.sid, SID);
            assert_int_equal(log.last.pasid, PASID);
            assert_int_equal(log.last.iova, PAGE_IOVA + 0x10);
            assert_int_equal(log.last.access, SIOV_ACCESS_READ);
            assert_int_equal(log.last.caches, SIOV_CACHE_ATC);
            assert_int_equal(log.last.cached_fault, SIOV_OK);
            assert_int_equal(log.last.fresh_fault, SIOV_ERR_BUS);
            assert_int_equal(log.last.cached.addr, out4k(1, 0) + 0x10);
            assert_memory_equal(&log.last.fresh, &zero.fresh, sizeof(zero.fresh)); /* no answer */
            assert_false(log.last.interrupt);
            assert_int_equal(log.last.data, 0);
            assert_memory_equal(&log.last.cached_irq, &zero.cached_irq, sizeof(zero.cached_irq));
            assert_memory_equal(&log.last.fresh_irq, &zero.fresh_irq, sizeof(zero.fresh_irq));
        }
        env_free(&e);
    }
}

/* A PASID's invalidations each start a new generation of its slot (20
   bits): when the count wraps, the ways of the slot's old generations are
   emptied, so that a translation from 2^20 invalidations ago cannot match
   again. A way of another slot stays. */
static void test_generation_wrap(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 4); /* 64 generation slots */
    unsigned a = page_in_set(&e, 1, 0, 0), b = page_in_set(&e, 1, 0, a + 1);
    expect_xl(&e, 1, PAGE_IOVA + a * KiB4, SIOV_ACCESS_READ, out4k(1, a), KiB4, true); /* ways 0 and 1 */
    expect_xl(&e, 1, PAGE_IOVA + b * KiB4, SIOV_ACCESS_READ, out4k(1, b), KiB4, true);
    expect_xl(&e, 2, PAGE_IOVA, SIOV_ACCESS_READ, out4k(2, 0), KiB4, true);
    const unsigned n = 1u << 20; /* back to the generation of PASID's ways */
    for (unsigned i = 0; i < n; i++) {
        q_put(&e.q, d_pdevtlb(SID, PASID), r8(0, UINT64_MAX, false));
        if (i % 64 == 63 || i == n - 1 || i == n - 2) {
            uint32_t seq = q_put_wait(&e.q, STATUS, 0);
            q_kick(&e.q);
            assert_int_equal((uint32_t)tl_r64(e.t, STATUS), seq);
        }
    }
    struct siov_atc_stats st;
    siov_atc_stats(e.atc, &st);
    assert_int_equal(st.invalidations, n);
    assert_int_equal(st.entries_dropped, 2); /* the first invalidation: the ways, once */
    expect_xl(&e, 1, PAGE_IOVA + a * KiB4, SIOV_ACCESS_READ, out4k(1, a), KiB4, true);
    expect_xl(&e, 1, PAGE_IOVA + b * KiB4, SIOV_ACCESS_READ, out4k(1, b), KiB4, true);
    expect_xl(&e, 2, PAGE_IOVA, SIOV_ACCESS_READ, out4k(2, 0), KiB4, false);
    for (uint32_t p = 0; p < 64; p++) /* every slot: what the wrap emptied is counted nowhere */
        wq_run(&e.q, d_pdevtlb(SID, p), r8(0, UINT64_MAX, false));
    siov_atc_stats(e.atc, &st);
    assert_int_equal(st.entries_dropped, 5); /* PASID's new ways and PASID2's */
    env_free(&e);
}

/* A page made write-only: a read translation the ATC holds is stale (the
   unit now grants no read), with the checker on. */
static void test_stale_read_of_a_write_only_page(void **state)
{
    (void)state;
    struct tl_stale_log log = {0};
    struct siov_iommu_config cfg = tl_config_stale(&log);
    struct env e;
    env_inline(&e, &cfg, 64);
    expect_xl(&e, 1, PAGE_IOVA + 2 * KiB4, SIOV_ACCESS_READ, out4k(1, 2), KiB4, true);
    tl_w64(e.t, e.leaf[1][2], tl_r64(e.t, e.leaf[1][2]) & ~SIOV_SL_R);
    wq_run(&e.q, dsc(SIOV_DSC_IOTLB, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL, 0), 0);
    expect_xl(&e, 1, PAGE_IOVA + 2 * KiB4, SIOV_ACCESS_READ, out4k(1, 2), KiB4, false);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.last.fresh_fault, SIOV_ERR_NOT_PRESENT);
    env_free(&e);
}

/* The checker's own walk fills no cache: a PASID entry changed in memory
   without an invalidation keeps translating the old way for the unit. */
static void test_stale_checker_fills_nothing(void **state)
{
    (void)state;
    struct tl_stale_log log = {0};
    struct siov_iommu_config cfg = tl_config_stale(&log);
    struct env e;
    env_inline(&e, &cfg, 64);
    expect_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, out4k(1, 0), KiB4, true);
    uint64_t root2 = tl_page(e.t), pe[8];
    tl_map(e.t, root2, 4, false, PAGE_IOVA, out4k(2, 5), KiB4, TL_SL_RW, TL_SL_RWX);
    tl_pe_sl(pe, DID + 7, root2, SIOV_AW_4LVL);
    tl_pasid_entry(e.t, e.dir, PASID, pe);
    expect_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, out4k(1, 0), KiB4, false);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.last.fresh.addr, out4k(2, 5));
    struct siov_xlate x;
    assert_int_equal(siov_translate(e.t->iommu, SID, PASID, PAGE_IOVA, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, out4k(1, 0)); /* the cached PASID entry and IOTLB entry */
    assert_int_equal(x.did, DID + 1);
    env_free(&e);
}

/* The requests the ATC sends are a device's: NW set for a read, clear for a
   write, as the unit's own trace records them. */
struct access_log {
    unsigned n, access[8];
};
static void trace_cb(void *opaque, const struct siov_trace_rec *rec)
{
    struct access_log *l = opaque;
    if (rec->kind == SIOV_TRACE_XLATE && l->n < 8)
        l->access[l->n++] = rec->access;
}

static void test_requests_as_a_device_sends_them(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 64);
    struct access_log l = {0};
    assert_int_equal(siov_iommu_set_trace(e.t->iommu, trace_cb, &l), 0);
    struct siov_ats_completion c;
    assert_int_equal(siov_ats_translate(e.t->iommu, SID, PASID, PAGE_IOVA, SIOV_ACCESS_NO_WRITE, &c), SIOV_OK);
    assert_int_equal(siov_ats_translate(e.t->iommu, SID, PASID, PAGE_IOVA, 0, &c), SIOV_OK);
    expect_xl(&e, 1, PAGE_IOVA + KiB4, SIOV_ACCESS_READ, out4k(1, 1), KiB4, true);
    expect_xl(&e, 1, PAGE_IOVA + 2 * KiB4, SIOV_ACCESS_WRITE, out4k(1, 2), KiB4, true);
    assert_int_equal(l.n, 4);
    assert_int_equal(l.access[2], l.access[0]);
    assert_int_equal(l.access[3], l.access[1]);
    assert_int_not_equal(l.access[0], l.access[1]);
    assert_int_equal(siov_iommu_set_trace(e.t->iommu, NULL, NULL), 0);
    env_free(&e);
}

/* ------------------------------------------------ the hardware-like ATC */
/* One entry per completion, found by size, smallest first: a read-only fill
   refilled by a write; 2 MiB and 4 KiB entries side by side; a global
   invalidation reaches every PASID's entries and not those without PASID;
   a PASID's whole range; the no-PASID entries by a 0x3 descriptor. */
static void test_hardware_like_atc(void **state)
{
    (void)state;
    static const unsigned policies[] = {SIOV_POLICY_LRU, SIOV_POLICY_FIFO};
    for (unsigned pi = 0; pi < 2; pi++) {
        struct env e;
        struct siov_atc_config ac = {16, 4, policies[pi], 0};
        env_new(&e, NULL, &ac);
        struct siov_xlate x;
        assert_int_equal(xl(&e, 1, PAGE_IOVA + 0x20, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.perm, SIOV_ACCESS_READ); /* asked with NW */
        expect_xl(&e, 1, PAGE_IOVA + 0x28, SIOV_ACCESS_READ, out4k(1, 0) + 0x28, KiB4, false);
        expect_xl(&e, 1, PAGE_IOVA + 0x30, SIOV_ACCESS_WRITE, out4k(1, 0) + 0x30, KiB4, true); /* refilled */
        assert_int_equal(xl(&e, 1, PAGE_IOVA + 0x38, SIOV_ACCESS_WRITE, &x), SIOV_OK);
        assert_int_equal(x.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE);
        expect_xl(&e, 1, BIG_IOVA + 0x1234, SIOV_ACCESS_READ, out2m(1) + 0x1234, MiB2, true);
        expect_xl(&e, 1, BIG_IOVA + 0x1FFFF8, SIOV_ACCESS_READ, out2m(1) + 0x1FFFF8, MiB2, false);
        expect_xl(&e, 1, BIG_IOVA + 0x3, SIOV_ACCESS_READ, out2m(1) + 0x3, MiB2, false); /* odd offsets */
        expect_xl(&e, 1, BIG_IOVA + 0x54321, SIOV_ACCESS_READ, out2m(1) + 0x54321, MiB2, false);
        expect_xl(&e, 1, PAGE_IOVA + 0x40, SIOV_ACCESS_WRITE, out4k(1, 0) + 0x40, KiB4, false);
        expect_xl(&e, 2, PAGE_IOVA, SIOV_ACCESS_READ, out4k(2, 0), KiB4, true);
        expect_xl(&e, 2, PAGE_IOVA + KiB4, SIOV_ACCESS_READ, out4k(2, 1), KiB4, true);
        expect_xl(&e, 0, PAGE_IOVA, SIOV_ACCESS_READ, out4k(0, 0), KiB4, true);
        /* G=1 for the first page: both PASIDs' entries of it, not the one without PASID */
        wq_run(&e.q, d_pdevtlb(SID, 0), r8(PAGE_IOVA, KiB4, true));
        struct siov_atc_stats st;
        siov_atc_stats(e.atc, &st);
        assert_int_equal(st.entries_dropped, 2);
        expect_xl(&e, 0, PAGE_IOVA, SIOV_ACCESS_READ, out4k(0, 0), KiB4, false);
        expect_xl(&e, 2, PAGE_IOVA + KiB4, SIOV_ACCESS_READ, out4k(2, 1), KiB4, false);
        expect_xl(&e, 1, BIG_IOVA, SIOV_ACCESS_READ, out2m(1), MiB2, false);
        /* everything of PASID: its 2 MiB entry; PASID2's stays */
        wq_run(&e.q, d_pdevtlb(SID, PASID), r8(0, UINT64_MAX, false));
        expect_xl(&e, 2, PAGE_IOVA + KiB4, SIOV_ACCESS_READ, out4k(2, 1), KiB4, false);
        expect_xl(&e, 1, BIG_IOVA, SIOV_ACCESS_READ, out2m(1), MiB2, true);
        /* without PASID */
        wq_run(&e.q, d_devtlb(SID), r3(PAGE_IOVA, KiB4));
        expect_xl(&e, 0, PAGE_IOVA, SIOV_ACCESS_READ, out4k(0, 0), KiB4, true);
        expect_xl(&e, 2, PAGE_IOVA + KiB4, SIOV_ACCESS_READ, out4k(2, 1), KiB4, false);
        env_free(&e);
    }
}

/* DMA split at page ends, whatever the offset's parity: each piece goes to
   its own page's translation (page 4 moved away from page 3). */
static void test_dma_pieces_end_at_page_ends(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 64);
    tl_w64(e.t, e.leaf[1][4], (tl_r64(e.t, e.leaf[1][4]) & ~SIOV_SL_ADDR) | out4k(2, 40));
    const uint8_t src[4] = {0x11, 0x22, 0x33, 0x44};
    for (uint64_t off = 0xFFD; off <= 0xFFF; off++) {
        uint8_t back[4] = {0};
        assert_int_equal(siov_atc_dma_write(e.atc, PASID, PAGE_IOVA + 3 * KiB4 + off, src, 4), SIOV_OK);
        unsigned first = (unsigned)(0x1000 - off);
        assert_int_equal(siov_mem_read(e.t->mem, out4k(1, 3) + off, back, first), 0);
        assert_memory_equal(back, src, first);
        assert_int_equal(siov_mem_read(e.t->mem, out4k(2, 40), back, 4 - first), 0);
        assert_memory_equal(back, src + first, 4 - first);
        assert_int_equal(siov_atc_dma_read(e.atc, PASID, PAGE_IOVA + 3 * KiB4 + off, back, 4), SIOV_OK);
        assert_memory_equal(back, src, 4);
    }
    env_free(&e);
}

/* A write without PASID that starts in the interrupt range's last page
   (U=1: sent untranslated) and runs into the next page: only the first
   page's piece goes untranslated; the next is translated through the ATC,
   which asks the unit for it and keeps it. */
static void test_dma_after_an_untranslated_piece(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 64);
    const uint64_t last = SIOV_INTR_LIMIT + 1 - KiB4, next = SIOV_INTR_LIMIT + 1;
    tl_map(e.t, e.root[0], 4, false, last, out4k(0, 50), KiB4, TL_SL_RW, TL_SL_RWX);
    tl_map(e.t, e.root[0], 4, false, next, out4k(0, 51), KiB4, TL_SL_RW, TL_SL_RWX);
    const uint8_t src[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint64_t asked = requests(&e);
    assert_int_equal(siov_atc_dma_write(e.atc, SIOV_NO_PASID, next - 4, src, 8), SIOV_OK);
    uint8_t back[8];
    assert_int_equal(siov_mem_read(e.t->mem, out4k(0, 50) + KiB4 - 4, back, 4), 0);
    assert_int_equal(siov_mem_read(e.t->mem, out4k(0, 51), back + 4, 4), 0);
    assert_memory_equal(back, src, 8);
    struct siov_atc_entry ent[2];
    assert_int_equal(siov_atc_entries(e.atc, ent, 2), 1); /* the next page; U=1 is not kept */
    assert_int_equal(ent[0].iova, next);
    assert_int_equal(requests(&e) - asked, 2); /* U=1 for the first page, then the next */
    env_free(&e);
}

/* ------------------------------------------------------------ the API */
static void test_config_and_edges(void **state)
{
    (void)state;
    struct env e;
    struct siov_atc_config ac = {64, 0, SIOV_POLICY_RANDOM, 0}; /* no ways: the inline ATC */
    env_new(&e, NULL, &ac);
    struct siov_atc_config bad[] = {{0, 0, SIOV_POLICY_LRU, 0}, {(1u << 24) + 1, 0, SIOV_POLICY_LRU, 0},
                                    {(1u << 24) + 4, 4, SIOV_POLICY_LRU, 0}};
    for (unsigned i = 0; i < 3; i++) {
        errno = 0;
        assert_null(siov_atc_new_config(e.t->iommu, SIOV_SID(0, 9, 0), &bad[i]));
        assert_int_equal(errno, EINVAL);
    }
    errno = 0;
    assert_null(siov_atc_new_config(NULL, SIOV_SID(0, 9, 0), &ac));
    assert_int_equal(errno, EINVAL);
    expect_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, out4k(1, 0), KiB4, true);
    expect_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, out4k(1, 0), KiB4, false);
    struct siov_atc_stats st;
    siov_atc_stats(e.atc, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(siov_atc_entries(e.atc, NULL, 5), 1); /* no array: only the count */
    /* DMA: nothing to move; a fault on the first of two pages stops it */
    uint8_t buf[2 * 4096];
    assert_int_equal(siov_atc_dma_read(e.atc, PASID, PAGE_IOVA, NULL, 0), SIOV_OK);
    memset(buf, 0x77, sizeof(buf));
    assert_int_equal(siov_atc_dma_read(e.atc, PASID, PAGE_IOVA + NPAGES * KiB4, buf, sizeof(buf)),
                     SIOV_ERR_NOT_PRESENT);
    assert_int_equal(buf[0], 0x77);
    assert_int_equal(buf[sizeof(buf) - 1], 0x77);
    /* the last bytes of the address space: translated (and refused), not a bus error */
    struct siov_xlate tx;
    siov_fault top = siov_atc_translate(e.atc, PASID, UINT64_MAX - 7, SIOV_ACCESS_READ, &tx);
    assert_int_not_equal(top, SIOV_ERR_BUS);
    assert_int_equal(siov_atc_dma_read(e.atc, PASID, UINT64_MAX - 7, buf, 8), top);
    assert_int_equal(siov_atc_dma_read(e.atc, PASID, UINT64_MAX - 7, buf, 9), SIOV_ERR_BUS); /* wraps */
    /* a read without PASID of the interrupt range: with ECAP.NWFS the
       completion grants nothing; without, U=1 sends it untranslated */
    uint32_t got = 0;
    assert_int_equal(siov_atc_dma_read(e.atc, SIOV_NO_PASID, SIOV_INTR_BASE, &got, 4), SIOV_ERR_NOT_PRESENT);
    env_free(&e);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.nwfs = false;
    env_new(&e, &cfg, &ac);
    siov_fault wf = siov_dma_read(e.t->iommu, SID, SIOV_NO_PASID, SIOV_INTR_BASE, &got, 4);
    assert_int_not_equal(wf, SIOV_OK); /* the unit refuses a read there */
    assert_int_equal(siov_atc_dma_read(e.atc, SIOV_NO_PASID, SIOV_INTR_BASE, &got, 4), wf);
    assert_int_equal(tl_stats(e.t).faults, 2);
    env_free(&e);
}

/* The largest ATCs the API takes, 2^24 entries, inline and hardware-like
   (their arrays are backed only as touched): one entry more is EINVAL. */
static void test_largest_atc(void **state)
{
    (void)state;
    struct env e;
    env_inline(&e, NULL, 64);
    siov_sid sid = SIOV_SID(0, 9, 0);
    struct siov_atc_config max[] = {{1u << 24, 0, SIOV_POLICY_LRU, 0}, {1u << 24, 1u << 12, SIOV_POLICY_LRU, 0}};
    for (unsigned i = 0; i < 2; i++) {
        struct siov_atc *a = siov_atc_new_config(e.t->iommu, sid, &max[i]);
        assert_non_null(a);
        siov_atc_free(a);
    }
    struct siov_atc *a = siov_atc_new(e.t->iommu, sid, 1u << 24);
    assert_non_null(a);
    siov_atc_free(a);
    errno = 0;
    assert_null(siov_atc_new(e.t->iommu, sid, (1u << 24) + 1));
    assert_int_equal(errno, EINVAL);
    env_free(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout_is_the_probes),
        cmocka_unit_test(test_dropped_counts_each_way),
        cmocka_unit_test(test_moved_way_keeps_its_range),
        cmocka_unit_test(test_set_reuse),
        cmocka_unit_test(test_listing_counts_page_ways),
        cmocka_unit_test(test_evicted_range_way),
        cmocka_unit_test(test_page_inside_a_large_completion),
        cmocka_unit_test(test_nested_completions),
        cmocka_unit_test(test_global_reaches_every_slot),
        cmocka_unit_test(test_range_ends_where_a_completion_begins),
        cmocka_unit_test(test_fill_overtaken_by_an_invalidation),
        cmocka_unit_test(test_write_only_page),
        cmocka_unit_test(test_stale_checker_answers),
        cmocka_unit_test(test_stale_read_of_a_write_only_page),
        cmocka_unit_test(test_stale_checker_fills_nothing),
        cmocka_unit_test(test_requests_as_a_device_sends_them),
        cmocka_unit_test(test_generation_wrap),
        cmocka_unit_test(test_hardware_like_atc),
        cmocka_unit_test(test_dma_pieces_end_at_page_ends),
        cmocka_unit_test(test_dma_after_an_untranslated_piece),
        cmocka_unit_test(test_largest_atc),
        cmocka_unit_test(test_config_and_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

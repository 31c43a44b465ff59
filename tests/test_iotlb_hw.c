/* The hardware-like IOTLB (iotlb_ways != 0) against a brute-force cache
 * simulation: for every geometry and policy, each request hits or walks
 * exactly when the simulation says it does, through fills, evictions and
 * page-selective invalidations. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "exact_cache.h"
#include "testlib.h"

#define POOL (1ull << 20)
#define POOL_SIZE (7ull << 20)
#define DEV SIOV_SID(0, 2, 0)
#define NDOM 3
#define PAGES 40
#define IOVA 0x100000ull

/* ---------------------------------------------------- the brute force */
struct bf_way {
    bool valid;
    uint16_t did;
    uint64_t vpn, order;
};

struct bf {
    unsigned sets, ways, policy;
    uint64_t rng, clock;
    struct bf_way *w;
};

static void bf_init(struct bf *b, unsigned sets, unsigned ways, unsigned policy, uint64_t seed)
{
    *b = (struct bf){sets, ways, policy, seed ? seed : 1, 0, calloc((size_t)sets * ways, sizeof(struct bf_way))};
}

static uint64_t bf_random(struct bf *b)
{
    b->rng ^= b->rng >> 12;
    b->rng ^= b->rng << 25;
    b->rng ^= b->rng >> 27;
    return b->rng * 0x2545F4914F6CDD1Dull;
}

/* One lookup-then-fill of (did, vpn): whether it hit. */
static bool bf_access(struct bf *b, uint16_t did, uint64_t vpn)
{
    struct bf_way *set = &b->w[((vpn ^ (uint64_t)did * 0x9E3779B1u) % b->sets) * b->ways];
    for (unsigned i = 0; i < b->ways; i++)
        if (set[i].valid && set[i].did == did && set[i].vpn == vpn) {
            if (b->policy == SIOV_POLICY_LRU)
                set[i].order = ++b->clock;
            return true;
        }
    unsigned v = b->ways;
    for (unsigned i = 0; i < b->ways && v == b->ways; i++)
        if (!set[i].valid)
            v = i;
    if (v == b->ways && b->policy == SIOV_POLICY_RANDOM) {
        v = (unsigned)(bf_random(b) % b->ways);
    } else if (v == b->ways) { /* LRU, FIFO: the smallest order */
        v = 0;
        for (unsigned i = 1; i < b->ways; i++)
            if (set[i].order < set[v].order)
                v = i;
    }
    set[v] = (struct bf_way){true, did, vpn, ++b->clock};
    return false;
}

static void bf_remove(struct bf *b, uint16_t did, uint64_t vpn)
{
    struct bf_way *set = &b->w[((vpn ^ (uint64_t)did * 0x9E3779B1u) % b->sets) * b->ways];
    for (unsigned i = 0; i < b->ways; i++)
        if (set[i].valid && set[i].did == did && set[i].vpn == vpn)
            set[i].valid = false;
}

/* ---------------------------------------------------------- the unit */
struct last {
    unsigned hits, walks, n;
};

static void hook(void *opaque, const struct siov_trace_rec *rec)
{
    struct last *l = opaque;
    if (rec->kind != SIOV_TRACE_XLATE)
        return;
    l->hits = rec->hits, l->walks = rec->walks, l->n++;
}

struct geometry {
    unsigned sets, ways, policy;
    uint64_t seed;
};

/* Run a random workload with occasional unmap/remap on a unit of geometry g
   and check every request against the brute force. */
static void run_geometry(const struct geometry *g, uint64_t wseed)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = g->sets * g->ways;
    cfg.iotlb_ways = g->ways;
    cfg.iotlb_policy = g->policy;
    cfg.iotlb_seed = g->seed;
    struct siov_mem *mem = siov_mem_new_flat(64ull << 20);
    struct siov_iommu *u = siov_iommu_new(mem, &cfg);
    assert_non_null(u);
    struct siov_driver *drv = siov_driver_new(u, mem, POOL, POOL_SIZE);
    assert_non_null(drv);
    assert_int_equal(siov_dev_enable_aux(drv, DEV), 0);
    struct siov_domain *dom[NDOM];
    uint32_t pasid[NDOM];
    uint16_t did[NDOM];
    for (unsigned d = 0; d < NDOM; d++) {
        dom[d] = siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(siov_domain_map(dom[d], IOVA, 0x2000000 + d * 0x100000, PAGES * 4096ull, SIOV_PROT_READ), 0);
        assert_int_equal(siov_aux_attach(dom[d], DEV), 0);
        pasid[d] = (uint32_t)siov_aux_pasid(dom[d]);
        did[d] = (uint16_t)siov_domain_did(dom[d]);
    }
    struct last l = {0, 0, 0};
    struct bf b;
    bf_init(&b, g->sets, g->ways, g->policy, g->seed);
    siov_iommu_set_trace(u, hook, &l);
    uint64_t r = wseed;
    unsigned hits = 0;
    for (unsigned i = 0; i < 4000; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        unsigned d = (unsigned)(r >> 60) % NDOM, page = (unsigned)((r >> 33) % PAGES);
        if (page >= PAGES / 2)
            page = (unsigned)((r >> 20) % (PAGES / 4)); /* some locality */
        uint64_t iova = IOVA + page * 4096ull;
        if ((r >> 10) % 97 == 0) { /* a page unmapped and mapped again: its entry invalidated */
            assert_int_equal(siov_domain_unmap(dom[d], iova, 4096), 4096);
            assert_int_equal(siov_domain_map(dom[d], iova, 0x2000000 + d * 0x100000 + page * 4096ull, 4096,
                                             SIOV_PROT_READ), 0);
            bf_remove(&b, did[d], iova >> 12);
            continue;
        }
        struct siov_xlate x;
        assert_int_equal(siov_translate(u, DEV, pasid[d], iova, SIOV_ACCESS_READ, &x), SIOV_OK);
        bool want = bf_access(&b, did[d], iova >> 12);
        if (l.hits != (unsigned)want || l.walks != (unsigned)!want)
            fail_msg("geometry %ux%u policy %u: request %u (domain %u page %u): unit %s, brute force %s", g->sets,
                     g->ways, g->policy, i, d, page, l.hits ? "hit" : "walked", want ? "hit" : "missed");
        hits += want;
    }
    assert_true(hits > 0);
    struct siov_stats st;
    siov_iommu_stats(u, &st);
    assert_int_equal(st.iotlb_hits, hits);
    free(b.w);
    siov_driver_free(drv);
    siov_iommu_free(u);
    siov_mem_free(mem);
}

static void test_matches_brute_force(void **state)
{
    (void)state;
    static const struct geometry geos[] = {
        {1, 16, SIOV_POLICY_LRU, 1},   {1, 16, SIOV_POLICY_FIFO, 1}, {1, 16, SIOV_POLICY_RANDOM, 42},
        {4, 4, SIOV_POLICY_LRU, 1},    {4, 4, SIOV_POLICY_FIFO, 1},  {4, 4, SIOV_POLICY_RANDOM, 7},
        {8, 2, SIOV_POLICY_LRU, 1},    {16, 1, SIOV_POLICY_LRU, 1},  {3, 5, SIOV_POLICY_RANDOM, 99},
        {1, 128, SIOV_POLICY_LRU, 1},
    };
    for (size_t i = 0; i < sizeof(geos) / sizeof(geos[0]); i++)
        for (uint64_t s = 1; s <= 3; s++)
            run_geometry(&geos[i], s);
}

/* The seed matters to the random policy, and the same seed repeats. */
static unsigned random_hits(uint64_t seed)
{
    struct bf b;
    bf_init(&b, 1, 8, SIOV_POLICY_RANDOM, seed);
    unsigned h = 0;
    for (unsigned i = 0; i < 2000; i++)
        h += bf_access(&b, 1, (i * 7919u) % 13);
    free(b.w);
    return h;
}

/* The exact cache's own random policy: the victims of seed, as a hit count. */
static unsigned exact_random_hits(uint64_t seed)
{
    struct siov_exact_cache *h = siov_exact_new(1, 8, SIOV_POLICY_RANDOM, seed);
    assert_non_null(h);
    unsigned n = 0;
    uint64_t v;
    for (unsigned i = 0; i < 2000; i++) {
        uint64_t vpn = (i * 7919u) % 13;
        if (siov_exact_lookup(h, 1, 1, vpn, &v))
            n++;
        else
            siov_exact_fill(h, 1, 1, vpn, vpn);
    }
    siov_exact_free(h);
    return n;
}

static void test_random_policy_is_seeded(void **state)
{
    (void)state;
    assert_int_equal(random_hits(5), random_hits(5));
    assert_int_not_equal(random_hits(5), random_hits(6));
    assert_int_equal(exact_random_hits(5), random_hits(5));
    assert_int_equal(exact_random_hits(0), random_hits(1)); /* seed 0: the state 1 (xorshift needs one) */
    assert_int_not_equal(exact_random_hits(0), random_hits(2));
}

/* Geometries the unit refuses, with the field named. */
static void test_bad_geometries(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    char why[160];
    siov_iommu_config_default(&cfg);
    cfg.iotlb_ways = 3;
    cfg.iotlb_entries = 64;
    assert_int_equal(siov_iommu_config_check(&cfg, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "iotlb_entries = 64: must be a nonzero multiple of iotlb_ways (3)"));
    cfg.iotlb_entries = 2;
    assert_int_equal(siov_iommu_config_check(&cfg, why, sizeof(why)), -EINVAL);
    cfg.iotlb_entries = 66;
    assert_int_equal(siov_iommu_config_check(&cfg, why, sizeof(why)), 0);
    cfg.iotlb_policy = 3;
    assert_int_equal(siov_iommu_config_check(&cfg, why, sizeof(why)), -EINVAL);
    assert_non_null(strstr(why, "iotlb_policy = 3"));
    struct siov_mem *mem = siov_mem_new_flat(1 << 20);
    assert_null(siov_iommu_new(mem, &cfg));
    siov_mem_free(mem);
}

/* A global invalidation empties it; occupancy counts what is valid. */
static void test_invalidate_all_empties(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = 8;
    cfg.iotlb_ways = 8;
    struct siov_mem *mem = siov_mem_new_flat(64ull << 20);
    struct siov_iommu *u = siov_iommu_new(mem, &cfg);
    struct siov_driver *drv = siov_driver_new(u, mem, POOL, POOL_SIZE);
    struct siov_domain *d = siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, IOVA, 0x2000000, 32 * 4096, SIOV_PROT_READ), 0);
    assert_int_equal(siov_attach(d, DEV), 0);
    struct siov_xlate x;
    for (unsigned i = 0; i < 32; i++)
        assert_int_equal(siov_translate(u, DEV, SIOV_NO_PASID, IOVA + i * 4096ull, SIOV_ACCESS_READ, &x), SIOV_OK);
    struct siov_stats st;
    siov_iommu_stats(u, &st);
    assert_int_equal(st.iotlb_evictions, 24);
    assert_int_equal(siov_detach(d, DEV), 0); /* the driver invalidates the domain */
    assert_int_equal(siov_attach(d, DEV), 0);
    assert_int_equal(siov_translate(u, DEV, SIOV_NO_PASID, IOVA + 31 * 4096ull, SIOV_ACCESS_READ, &x), SIOV_OK);
    siov_iommu_stats(u, &st);
    assert_int_equal(st.walks, 33);
    siov_driver_free(drv);
    siov_iommu_free(u);
    siov_mem_free(mem);
}

/* The exact cache itself, against the brute force, through fills, lookups
   and removals in bulk (its index shifts entries back on every removal). */
static bool drop_odd(const void *ctx, uint64_t tag, uint64_t vpn, uint64_t val)
{
    (void)ctx, (void)tag, (void)val;
    return vpn & 1;
}

static void test_exact_cache_in_bulk(void **state)
{
    (void)state;
    static const struct geometry geos[] = {{4, 64, SIOV_POLICY_LRU, 1}, {1, 300, SIOV_POLICY_FIFO, 1},
                                           {8, 3, SIOV_POLICY_RANDOM, 11}};
    for (size_t g = 0; g < sizeof(geos) / sizeof(geos[0]); g++) {
        struct siov_exact_cache *h = siov_exact_new(geos[g].sets, geos[g].ways, geos[g].policy, geos[g].seed);
        struct bf b;
        bf_init(&b, geos[g].sets, geos[g].ways, geos[g].policy, geos[g].seed);
        assert_non_null(h);
        uint64_t x = 5;
        for (unsigned i = 0; i < 20000; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            uint16_t did = (uint16_t)(1 + (x >> 62));
            uint64_t vpn = (x >> 20) % (geos[g].sets * geos[g].ways * 2), val;
            bool want = bf_access(&b, did, vpn), got = siov_exact_lookup(h, did, did, vpn, &val);
            if (got != want || (got && val != (vpn << 16 | did)))
                fail_msg("geometry %zu, operation %u: cache %d, brute force %d", g, i, got, want);
            if (!got)
                siov_exact_fill(h, did, did, vpn, vpn << 16 | did);
            if (i % 5000 == 4999) { /* remove every odd page from both */
                siov_exact_drop(h, drop_odd, NULL);
                for (size_t w = 0; w < (size_t)b.sets * b.ways; w++)
                    if (b.w[w].vpn & 1)
                        b.w[w].valid = false;
            }
        }
        unsigned valid = 0;
        for (size_t w = 0; w < (size_t)b.sets * b.ways; w++)
            valid += b.w[w].valid;
        assert_int_equal(siov_exact_occupancy(h), valid);
        free(b.w);
        siov_exact_free(h);
    }
    /* a refill (the same key again) is a use under LRU, not under FIFO */
    for (unsigned policy = SIOV_POLICY_LRU; policy <= SIOV_POLICY_FIFO; policy++) {
        struct siov_exact_cache *h = siov_exact_new(1, 2, policy, 1);
        uint64_t v;
        siov_exact_fill(h, 1, 1, 10, 100);
        siov_exact_fill(h, 1, 1, 11, 110);
        assert_false(siov_exact_fill(h, 1, 1, 10, 101)); /* in place: nothing evicted */
        assert_true(siov_exact_fill(h, 1, 1, 12, 120));
        bool lru = policy == SIOV_POLICY_LRU;
        assert_int_equal(siov_exact_lookup(h, 1, 1, 10, &v), lru);
        assert_int_equal(siov_exact_lookup(h, 1, 1, 11, &v), !lru);
        assert_true(siov_exact_lookup(h, 1, 1, 12, &v));
        siov_exact_free(h);
    }
    assert_null(siov_exact_new(0, 4, SIOV_POLICY_LRU, 1));
    assert_null(siov_exact_new(4, 0, SIOV_POLICY_LRU, 1));
}

/* The hardware-like ATC (siov_atc_new_config with ways) against the brute
   force: a device's translations through it hit exactly when the simulation
   does, with unmaps (device-TLB invalidations) removing their pages. */
static void run_atc_geometry(const struct geometry *g, uint64_t wseed)
{
    struct siov_mem *mem = siov_mem_new_flat(64ull << 20);
    struct siov_iommu *u = siov_iommu_new(mem, NULL);
    struct siov_driver *drv = siov_driver_new(u, mem, POOL, POOL_SIZE);
    assert_non_null(drv);
    assert_int_equal(siov_dev_enable_aux(drv, DEV), 0);
    assert_int_equal(siov_dev_enable_ats(drv, DEV), 0);
    struct siov_atc_config ac = {g->sets * g->ways, g->ways, g->policy, g->seed};
    struct siov_atc *atc = siov_atc_new_config(u, DEV, &ac);
    assert_non_null(atc);
    struct siov_domain *dom[NDOM];
    uint32_t pasid[NDOM];
    for (unsigned d = 0; d < NDOM; d++) {
        dom[d] = siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(siov_domain_map(dom[d], IOVA, 0x2001000 + d * 0x100000, PAGES * 4096ull, SIOV_PROT_READ), 0);
        assert_int_equal(siov_aux_attach(dom[d], DEV), 0);
        pasid[d] = (uint32_t)siov_aux_pasid(dom[d]);
    }
    struct bf b;
    bf_init(&b, g->sets, g->ways, g->policy, g->seed);
    uint64_t r = wseed;
    for (unsigned i = 0; i < 3000; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        unsigned d = (unsigned)(r >> 60) % NDOM, page = (unsigned)((r >> 33) % PAGES);
        if (page >= PAGES / 2)
            page = (unsigned)((r >> 20) % (PAGES / 4));
        uint64_t iova = IOVA + page * 4096ull;
        if ((r >> 10) % 97 == 0) {
            assert_int_equal(siov_domain_unmap(dom[d], iova, 4096), 4096);
            assert_int_equal(siov_domain_map(dom[d], iova, 0x2001000 + d * 0x100000 + page * 4096ull, 4096,
                                             SIOV_PROT_READ), 0);
            bf_remove(&b, (uint16_t)pasid[d], iova >> 12);
            continue;
        }
        struct siov_atc_stats before, after;
        struct siov_xlate x;
        siov_atc_stats(atc, &before);
        assert_int_equal(siov_atc_translate(atc, pasid[d], iova, SIOV_ACCESS_READ, &x), SIOV_OK);
        siov_atc_stats(atc, &after);
        bool want = bf_access(&b, (uint16_t)pasid[d], iova >> 12), got = after.hits > before.hits;
        if (got != want)
            fail_msg("ATC %ux%u policy %u: request %u (pasid %u page %u): ATC %s, brute force %s", g->sets, g->ways,
                     g->policy, i, pasid[d], page, got ? "hit" : "missed", want ? "hit" : "missed");
    }
    siov_atc_free(atc);
    free(b.w);
    siov_driver_free(drv);
    siov_iommu_free(u);
    siov_mem_free(mem);
}

static void test_atc_matches_brute_force(void **state)
{
    (void)state;
    static const struct geometry geos[] = {
        {1, 16, SIOV_POLICY_LRU, 1}, {4, 4, SIOV_POLICY_FIFO, 1}, {2, 8, SIOV_POLICY_RANDOM, 9}, {16, 1, SIOV_POLICY_LRU, 1},
    };
    for (size_t i = 0; i < sizeof(geos) / sizeof(geos[0]); i++)
        for (uint64_t s = 1; s <= 2; s++)
            run_atc_geometry(&geos[i], s);
    struct siov_mem *mem = siov_mem_new_flat(1 << 20);
    struct siov_iommu *u = siov_iommu_new(mem, NULL);
    struct siov_atc_config bad = {10, 3, SIOV_POLICY_LRU, 1};
    errno = 0;
    assert_null(siov_atc_new_config(u, DEV, &bad));
    assert_int_equal(errno, EINVAL);
    bad = (struct siov_atc_config){8, 4, 7, 1};
    assert_null(siov_atc_new_config(u, DEV, &bad));
    assert_null(siov_atc_new_config(u, DEV, NULL));
    siov_iommu_free(u);
    siov_mem_free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_brute_force),
        cmocka_unit_test(test_random_policy_is_seeded),
        cmocka_unit_test(test_bad_geometries),
        cmocka_unit_test(test_invalidate_all_empties),
        cmocka_unit_test(test_exact_cache_in_bulk),
        cmocka_unit_test(test_atc_matches_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

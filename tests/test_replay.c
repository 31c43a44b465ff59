/* siov-sim replay's engine (tools/replay.c): a run recorded through the
 * trace hook and markers replays to the same answers and the same counters,
 * in both trace forms; replays are deterministic; and a sweep's hit counts
 * match a brute-force cache simulation of the trace. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "replay.h"
#include "testlib.h"

#define POOL (1ull << 20)
#define POOL_SIZE (7ull << 20)
#define DEV SIOV_SID(0, 2, 0)
#define DEV2 SIOV_SID(0, 3, 0)

/* ---------------------------------------------- a recorded live run */
struct live {
    struct siov_mem *mem;
    struct siov_iommu *u;
    struct siov_driver *drv;
    struct siov_trace *t;
    struct siov_domain *dom[4];
    uint64_t requests;
};

static void mark(struct live *l, unsigned kind, uint32_t dom, struct siov_trace_rec *r)
{
    r->kind = kind;
    r->domain = dom;
    assert_int_equal(siov_trace_record(l->t, r), 0);
}

static void live_domain(struct live *l, uint32_t num, enum siov_domain_type type, siov_sid sid, bool aux)
{
    struct siov_trace_rec r;
    l->dom[num] = siov_domain_new(l->drv, type);
    assert_non_null(l->dom[num]);
    siov_trace_rec_init(&r, 0);
    r.dom_type = type == SIOV_DOMAIN_FIRST_LEVEL ? SIOV_TRACE_DOM_FL : SIOV_TRACE_DOM_SL;
    mark(l, SIOV_TRACE_DOMAIN, num, &r);
    siov_trace_rec_init(&r, 0);
    r.addr = 0x100000, r.len = 64 * 4096ull, r.pa = 0x2000000 + num * 0x100000ull;
    r.access = SIOV_PROT_READ | SIOV_PROT_WRITE;
    assert_int_equal(siov_domain_map(l->dom[num], r.addr, r.pa, r.len, r.access), 0);
    mark(l, SIOV_TRACE_MAP, num, &r);
    assert_int_equal(aux ? siov_aux_attach(l->dom[num], sid) : siov_attach(l->dom[num], sid), 0);
    siov_trace_rec_init(&r, 0);
    r.sid = sid;
    r.pasid = aux ? (uint32_t)siov_aux_pasid(l->dom[num]) : SIOV_NO_PASID;
    mark(l, SIOV_TRACE_ATTACH, num, &r);
}

/* One request of a mixed workload: translations and DMA, some faulting. */
static void live_request(struct live *l, uint64_t r)
{
    static uint8_t buf[8192];
    unsigned d = 1 + (unsigned)(r >> 61) % 3;
    siov_sid sid = d == 3 ? DEV2 : DEV;
    uint32_t pasid = d == 3 ? SIOV_NO_PASID : (uint32_t)siov_aux_pasid(l->dom[d]);
    uint64_t iova = 0x100000 + ((r >> 20) % 72) * 4096 + (r >> 8) % 4096; /* 8 pages unmapped */
    struct siov_xlate x;
    switch ((r >> 4) % 4) {
    case 0: siov_translate(l->u, sid, pasid, iova, SIOV_ACCESS_READ, &x); break;
    case 1: siov_translate(l->u, sid, pasid, iova, SIOV_ACCESS_WRITE, &x); break;
    case 2: siov_dma_read(l->u, sid, pasid, iova, buf, 1 + (r >> 40) % 6000); break;
    default: siov_dma_write(l->u, sid, pasid, iova, buf, 1 + (r >> 40) % 6000); break;
    }
    l->requests++;
}

/* A unmap of one page of domain d, then its map again. */
static void live_remap(struct live *l, unsigned d, unsigned page)
{
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, 0);
    r.addr = 0x100000 + page * 4096ull, r.len = 4096;
    assert_int_equal(siov_domain_unmap(l->dom[d], r.addr, r.len), 4096);
    mark(l, SIOV_TRACE_UNMAP, d, &r);
    r.pa = 0x2000000 + d * 0x100000ull + page * 4096ull, r.access = SIOV_PROT_READ | SIOV_PROT_WRITE;
    assert_int_equal(siov_domain_map(l->dom[d], r.addr, r.pa, r.len, r.access), 0);
    mark(l, SIOV_TRACE_MAP, d, &r);
}

/* Record a run into path (mode "w" or "wb"); its counters to *st. */
static uint64_t record_run(const char *path, const char *mode, const struct siov_iommu_config *cfg,
                           struct siov_stats *st)
{
    struct live l = {0};
    l.mem = siov_mem_new_flat(64ull << 20);
    l.u = siov_iommu_new(l.mem, cfg);
    l.t = siov_trace_open(path, mode);
    assert_non_null(l.t);
    siov_iommu_set_trace(l.u, siov_trace_hook, l.t); /* first: the driver's bring-up too */
    l.drv = siov_driver_new(l.u, l.mem, POOL, POOL_SIZE);
    assert_non_null(l.drv);
    assert_int_equal(siov_dev_enable_aux(l.drv, DEV), 0);
    live_domain(&l, 1, SIOV_DOMAIN_SECOND_LEVEL, DEV, true);
    live_domain(&l, 2, SIOV_DOMAIN_FIRST_LEVEL, DEV, true);
    live_domain(&l, 3, SIOV_DOMAIN_SECOND_LEVEL, DEV2, false);
    uint64_t r = 12345;
    for (unsigned i = 0; i < 3000; i++) {
        r = r * 6364136223846793005ull + 1442695040888963407ull;
        if (i % 251 == 250)
            live_remap(&l, 1 + i % 3, (unsigned)(r >> 50) % 64);
        else
            live_request(&l, r);
    }
    siov_iommu_set_trace(l.u, NULL, NULL);
    assert_int_equal(siov_trace_close(l.t), 0);
    siov_iommu_stats(l.u, st);
    siov_driver_free(l.drv);
    siov_iommu_free(l.u);
    siov_mem_free(l.mem);
    return l.requests;
}

static void assert_stats_equal(const struct siov_stats *a, const struct siov_stats *b)
{
    assert_int_equal(a->translations, b->translations);
    assert_int_equal(a->iotlb_hits, b->iotlb_hits);
    assert_int_equal(a->iotlb_misses, b->iotlb_misses);
    assert_int_equal(a->walks, b->walks);
    assert_int_equal(a->faults, b->faults);
    assert_int_equal(a->context_cache_hits, b->context_cache_hits);
    assert_int_equal(a->context_cache_misses, b->context_cache_misses);
    assert_int_equal(a->pasid_cache_hits, b->pasid_cache_hits);
    assert_int_equal(a->pasid_cache_misses, b->pasid_cache_misses);
    assert_int_equal(a->invalidations, b->invalidations);
    assert_int_equal(a->iotlb_evictions, b->iotlb_evictions);
    assert_int_equal(a->faults_recorded, b->faults_recorded);
    assert_int_equal(memcmp(a, b, sizeof(*a)), 0); /* every counter */
}

/* Record, then replay with the answers checked: the same answers and counters. */
static void round_trip(const char *mode, unsigned ways, unsigned entries)
{
    struct replay_opts o = {.check = true};
    siov_iommu_config_default(&o.cfg);
    o.cfg.iotlb_entries = entries;
    o.cfg.iotlb_ways = ways;
    struct siov_stats live;
    char *p = tl_tmp_path("replay", mode);
    uint64_t n = record_run(p, mode, &o.cfg, &live);
    struct replay_result res;
    if (replay_run(p, &o, &res) < 0)
        fail_msg("replay: %s", res.err);
    assert_int_equal(res.requests, n);
    assert_int_equal(res.checked, n);
    assert_int_equal(res.mismatches, 0);
    assert_int_equal(res.markers, 3 * 3 + 2 * (3000 / 251));
    assert_true(res.inval_recorded > 0);
    assert_int_equal(res.inval_recorded, res.inval_replayed);
    assert_true(live.faults > 0 && live.walks > 0 && live.iotlb_hits > 0);
    assert_stats_equal(&res.stats, &live);
    assert_int_equal(res.nadi, 3);
    uint64_t sum = 0;
    for (unsigned i = 0; i < res.nadi; i++)
        sum += res.adi[i].requests;
    assert_int_equal(sum, n);
    replay_result_free(&res);
    unlink(p);
    free(p);
}

static void test_round_trip_text(void **state)
{
    (void)state;
    round_trip("w", 0, 4096);
    round_trip("w", 0, 16);
}

static void test_round_trip_binary(void **state)
{
    (void)state;
    round_trip("wb", 0, 4096);
    round_trip("wb", 4, 32);  /* hardware-like, set-associative */
}

/* The same trace, the same configuration: the same results, to the counter. */
static void test_replay_is_deterministic(void **state)
{
    (void)state;
    struct replay_opts o = {.check = false};
    siov_iommu_config_default(&o.cfg);
    struct siov_stats live;
    char *p = tl_tmp_path("replay", "det");
    record_run(p, "wb", &o.cfg, &live);
    for (unsigned pol = 0; pol < 4; pol++) {
        o.cfg.iotlb_entries = 24;
        o.cfg.iotlb_ways = pol == 3 ? 0 : 8;
        o.cfg.iotlb_policy = pol == 3 ? 0 : pol;
        o.cfg.iotlb_seed = 77;
        struct replay_result a, b;
        assert_int_equal(replay_run(p, &o, &a), 0);
        assert_int_equal(replay_run(p, &o, &b), 0);
        assert_stats_equal(&a.stats, &b.stats);
        assert_int_equal(a.nadi, b.nadi);
        assert_int_equal(memcmp(a.adi, b.adi, a.nadi * sizeof(*a.adi)), 0);
        replay_result_free(&a);
        replay_result_free(&b);
    }
    unlink(p);
    free(p);
}

/* ------------------------------------------- sweeps against brute force */
struct bf {
    unsigned cap, n, policy;
    uint64_t rng, clock;
    uint64_t key[64], order[64];
    bool valid[64];
};

static bool bf_access(struct bf *b, uint64_t key)
{
    for (unsigned i = 0; i < b->cap; i++)
        if (b->valid[i] && b->key[i] == key) {
            if (b->policy == SIOV_POLICY_LRU)
                b->order[i] = ++b->clock;
            return true;
        }
    unsigned v = 0;
    while (v < b->cap && b->valid[v])
        v++;
    if (v == b->cap && b->policy == SIOV_POLICY_RANDOM) {
        b->rng ^= b->rng >> 12, b->rng ^= b->rng << 25, b->rng ^= b->rng >> 27;
        v = (unsigned)((b->rng * 0x2545F4914F6CDD1Dull) % b->cap);
    } else if (v == b->cap) {
        v = 0;
        for (unsigned i = 1; i < b->cap; i++)
            if (b->order[i] < b->order[v])
                v = i;
    }
    b->valid[v] = true, b->key[v] = key, b->order[v] = ++b->clock;
    return false;
}

#define SWEEP_ADIS 2
#define SWEEP_PAGES 32
#define SWEEP_REQS 3000

/* A trace of reads over two ADIs' 32 pages each, skewed to a few hot pages. */
static void sweep_trace(const char *path, uint64_t *keys)
{
    struct siov_trace *t = siov_trace_open(path, "w");
    struct siov_trace_rec r;
    for (uint32_t a = 0; a < SWEEP_ADIS; a++) {
        siov_trace_rec_init(&r, SIOV_TRACE_DOMAIN);
        r.domain = a + 1;
        siov_trace_record(t, &r);
        siov_trace_rec_init(&r, SIOV_TRACE_MAP);
        r.domain = a + 1, r.addr = 0x400000, r.len = SWEEP_PAGES * 4096ull, r.pa = 0x10000000ull * (a + 1);
        r.access = SIOV_PROT_READ;
        siov_trace_record(t, &r);
        siov_trace_rec_init(&r, SIOV_TRACE_ATTACH);
        r.domain = a + 1, r.sid = DEV, r.pasid = 10 + a;
        siov_trace_record(t, &r);
    }
    uint64_t x = 99;
    for (unsigned i = 0; i < SWEEP_REQS; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t a = (uint32_t)(x >> 63);
        unsigned page = (unsigned)((x >> 30) % SWEEP_PAGES);
        if ((x >> 20) % 3)
            page %= 6; /* hot pages */
        siov_trace_rec_init(&r, SIOV_TRACE_XLATE);
        r.sid = DEV, r.pasid = 10 + a, r.addr = 0x400000 + page * 4096ull + 8, r.access = SIOV_ACCESS_READ;
        siov_trace_record(t, &r);
        keys[i] = (uint64_t)a << 32 | page;
    }
    assert_int_equal(siov_trace_close(t), 0);
}

static void test_sweep_matches_brute_force(void **state)
{
    (void)state;
    static uint64_t keys[SWEEP_REQS];
    char *p = tl_tmp_path("replay", "sweep");
    sweep_trace(p, keys);
    for (unsigned pol = SIOV_POLICY_LRU; pol <= SIOV_POLICY_RANDOM; pol++)
        for (unsigned cap = 2; cap <= 64; cap *= 2) {
            struct bf b = {.cap = cap, .policy = pol, .rng = 5};
            uint64_t want[SWEEP_ADIS] = {0, 0};
            for (unsigned i = 0; i < SWEEP_REQS; i++)
                want[keys[i] >> 32] += bf_access(&b, keys[i]);
            struct replay_opts o = {.check = false};
            siov_iommu_config_default(&o.cfg);
            o.cfg.iotlb_entries = o.cfg.iotlb_ways = cap;
            o.cfg.iotlb_policy = pol;
            o.cfg.iotlb_seed = 5;
            struct replay_result res;
            assert_int_equal(replay_run(p, &o, &res), 0);
            assert_int_equal(res.nadi, SWEEP_ADIS);
            for (unsigned a = 0; a < SWEEP_ADIS; a++) {
                if (res.adi[a].iotlb_hits != want[a])
                    fail_msg("policy %u, %u entries, ADI %u: replay %llu hits, brute force %llu", pol, cap, a,
                             (unsigned long long)res.adi[a].iotlb_hits, (unsigned long long)want[a]);
                assert_int_equal(res.adi[a].iotlb_hits + res.adi[a].walks, res.adi[a].requests);
            }
            assert_int_equal(res.stats.iotlb_hits, want[0] + want[1]);
            replay_result_free(&res);
        }
    unlink(p);
    free(p);
}

/* A trace the driver cannot follow fails with the record named. */
static void test_bad_markers(void **state)
{
    (void)state;
    static const struct {
        const char *text, *error;
    } cases[] = {
        {"siov-trace 1\n0 map 3 0x1000 4K 0x2000 rw\n", "record 0 (map): domain 3 was never created"},
        {"siov-trace 1\n0 domain 1 sl\n1 domain 1 fl\n", "record 1 (domain): domain 1 exists already"},
        {"siov-trace 1\n0 domain 2 nested 1\n", "record 0 (domain): nested domain 2 names no known parent (1)"},
        {"siov-trace 1\n0 domain 1 sl\n1 map 1 0x1001 4K 0x2000 rw\n", "record 1 (map): the driver refused it"},
        {"siov-trace 1\n0 domain 1 sl\n4 detach 1 00:02.0 -\n", "record 4 (detach): the driver refused it"},
        {"siov-trace 1\n0 domain 1 sl\n1 xlate 00:02.0 - 0x1000 0 r\n2 bogus\n", "line 4: unknown record kind"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = tl_tmp_path("replay", "bad");
        FILE *f = fopen(p, "w");
        fputs(cases[i].text, f);
        fclose(f);
        struct replay_opts o = {.check = false};
        siov_iommu_config_default(&o.cfg);
        struct replay_result res;
        assert_int_equal(replay_run(p, &o, &res), -1);
        if (!strstr(res.err, cases[i].error))
            fail_msg("case %zu: \"%s\", expected \"%s\"", i, res.err, cases[i].error);
        replay_result_free(&res);
        unlink(p);
        free(p);
    }
    struct replay_opts o = {.check = false};
    siov_iommu_config_default(&o.cfg);
    struct replay_result res;
    assert_int_equal(replay_run("/nonexistent/trace", &o, &res), -1);
    assert_non_null(strstr(res.err, "cannot read /nonexistent/trace"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_text),
        cmocka_unit_test(test_round_trip_binary),
        cmocka_unit_test(test_replay_is_deterministic),
        cmocka_unit_test(test_sweep_matches_brute_force),
        cmocka_unit_test(test_bad_markers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

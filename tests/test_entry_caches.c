/* The context and PASID caches (context_cache.c, pasid_cache.c and the ways
   under both, entry_cache.c) seen through translations: an entry filled
   after an invalidation answers until the next one, and the entries of
   different requesters never answer for each other. Tables are changed in
   guest memory without invalidation, so which translation comes back tells
   whether a cached entry or guest memory answered. */
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "caches.h"
#include "inv_queue.h"

#define SID SIOV_SID(0, 2, 0)
#define PASID 0x1234u
#define DID 0x21u
#define STATUS_GPA (TL_DATA_BASE + 0x100) /* inv-wait status word */
#define NPAGES 16u

/* A scalable unit with a queue; SID's context entry points at dir[0]; two
   second-level tables, set k mapping page i to pa_of(k, i). */
struct env {
    struct tl *t;
    struct q q;
    uint64_t dir[2], sl[2];
    unsigned next; /* next page no translation has touched (no IOTLB entry) */
};

static uint64_t iova_of(unsigned i) { return (8 + 2 * (uint64_t)i) * SIOV_PAGE_SIZE; }
static uint64_t pa_of(unsigned k, unsigned i) { return (k ? 1ull << 40 : 1ull << 36) + (3 + (uint64_t)i) * SIOV_PAGE_SIZE; }

static void pe_set(uint64_t pe[8], uint16_t did, uint64_t sl)
{
    tl_pe_sl(pe, did, sl, SIOV_AW_4LVL);
}

static void env_new(struct env *e)
{
    memset(e, 0, sizeof(*e));
    e->t = tl_new(NULL);
    tl_enable(e->t, SIOV_TTM_SCALABLE);
    q_init(&e->q, e->t);
    for (unsigned k = 0; k < 2; k++) {
        e->sl[k] = tl_page(e->t);
        for (unsigned i = 0; i < NPAGES; i++)
            tl_map(e->t, e->sl[k], 4, false, iova_of(i), pa_of(k, i), SIOV_PAGE_SIZE, TL_SL_RW, TL_SL_RW);
    }
    /* dir[1] first: tl_sm_context_default leaves SID's context entry on the last directory it made */
    for (int k = 1; k >= 0; k--) {
        e->dir[k] = tl_sm_context_default(e->t, SID, 0);
        uint64_t pe[8];
        pe_set(pe, DID, e->sl[k]);
        tl_pasid_entry(e->t, e->dir[k], PASID, pe);
    }
}

/* Submit one descriptor and an inv-wait; check both completed. */
static void q_run(struct env *e, uint64_t q0, uint64_t q1)
{
    q_put(&e->q, q0, q1);
    uint32_t seq = q_put_wait(&e->q, STATUS_GPA, 0);
    q_kick(&e->q);
    assert_int_equal((uint32_t)tl_r64(e->t, STATUS_GPA), seq);
}

static uint64_t d_cc(unsigned g, uint16_t did, siov_sid sid, unsigned fm)
{
    return siov_dsc_make_type(SIOV_DSC_CC) | siov_set(0, SIOV_CC0_G, g) | siov_set(0, SIOV_CC0_DID, did) |
           siov_set(0, SIOV_CC0_SID, sid) | siov_set(0, SIOV_CC0_FM, fm);
}

static uint64_t d_pc(unsigned g, uint16_t did, uint32_t pasid)
{
    return siov_dsc_make_type(SIOV_DSC_PC) | siov_set(0, SIOV_PC0_G, g) | siov_set(0, SIOV_PC0_DID, did) |
           siov_set(0, SIOV_PC0_PASID, pasid);
}

/* The table set (0 or 1) a page no translation has touched goes through. */
static unsigned set_of_next(struct env *e, siov_sid sid, uint32_t pasid)
{
    unsigned i = e->next++;
    assert_true(i < NPAGES);
    struct siov_xlate x;
    assert_int_equal(siov_translate(e->t->iommu, sid, pasid, iova_of(i) + 0x88, SIOV_ACCESS_READ, &x), SIOV_OK);
    if (x.addr == pa_of(0, i) + 0x88)
        return 0;
    assert_int_equal(x.addr, pa_of(1, i) + 0x88);
    return 1;
}

/* qword 0 of a context entry as tl_sm_context_default writes it, on directory dir. */
static uint64_t ctx_qw0(uint64_t dir)
{
    return SIOV_SCE0_P | SIOV_SCE0_PASIDE | SIOV_SCE0_DTE | siov_set(0, SIOV_SCE0_PDTS, 7) | dir;
}

/* SID's PASID entry rewritten in dir[0] to use table set k, no invalidation. */
static void repoint_pe(struct env *e, unsigned k)
{
    uint64_t pe[8];
    pe_set(pe, DID, e->sl[k]);
    tl_pasid_entry(e->t, e->dir[0], PASID, pe);
}

/* After each granularity of PASID-cache invalidation, the entry the next
   request fills answers again until the next invalidation (spec 6.5.2.4). */
static void test_pasid_entry_filled_after_invalidation_is_used(void **state)
{
    (void)state;
    const uint64_t invs[] = {
        d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0),
        d_pc(SIOV_PC_GRAN_DOMAIN, DID, 0),
        d_pc(SIOV_PC_GRAN_PASID, DID, PASID),
    };
    for (unsigned g = 0; g < 3; g++) {
        struct env e;
        env_new(&e);
        assert_int_equal(set_of_next(&e, SID, PASID), 0);
        repoint_pe(&e, 1);
        assert_int_equal(set_of_next(&e, SID, PASID), 0); /* the cached entry */
        q_run(&e, invs[g], 0);
        assert_int_equal(set_of_next(&e, SID, PASID), 1); /* refetched and cached again */
        repoint_pe(&e, 0);
        assert_int_equal(set_of_next(&e, SID, PASID), 1);
        assert_int_equal(set_of_next(&e, SID, PASID), 1);
        tl_free(e.t);
    }
}

/* The same for the context cache: with the PASID cache emptied before each
   request, the context entry (which directory) decides. */
static void test_context_entry_filled_after_invalidation_is_used(void **state)
{
    (void)state;
    struct env e;
    env_new(&e);
    uint64_t root = tl_r64(e.t, e.t->root + SIOV_SID_BUS(SID) * SIOV_ROOT_ENTRY_SIZE) & SIOV_ADDR_4K;
    uint64_t ce = root + (SIOV_SID_DEVFN(SID) & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE;
    uint64_t qw0 = tl_r64(e.t, ce);
    assert_int_equal(qw0, ctx_qw0(e.dir[0]));
    assert_int_equal(set_of_next(&e, SID, PASID), 0);
    tl_w64(e.t, ce, ctx_qw0(e.dir[1]));
    q_run(&e, d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0);
    assert_int_equal(set_of_next(&e, SID, PASID), 0); /* the cached context entry */
    q_run(&e, d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0);
    q_run(&e, d_cc(SIOV_INV_GRAN_GLOBAL, 0, 0, 0), 0); /* the last invalidation before the fill */
    assert_int_equal(set_of_next(&e, SID, PASID), 1);
    tl_w64(e.t, ce, qw0);
    q_run(&e, d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0);
    assert_int_equal(set_of_next(&e, SID, PASID), 1); /* the context entry filled after it */
    tl_free(e.t);
}

/* A cached PASID entry answers a device without DTE too (the entry refuses
   ATS, not untranslated requests), and a translation request of a device
   with DTE. */
static void test_pasid_entry_answers_with_and_without_ats(void **state)
{
    (void)state;
    for (unsigned dte = 0; dte < 2; dte++) {
        struct env e;
        env_new(&e);
        if (!dte) {
            uint64_t root = tl_r64(e.t, e.t->root + SIOV_SID_BUS(SID) * SIOV_ROOT_ENTRY_SIZE) & SIOV_ADDR_4K;
            uint64_t ce = root + (SIOV_SID_DEVFN(SID) & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE;
            tl_w64(e.t, ce, ctx_qw0(e.dir[0]) & ~SIOV_SCE0_DTE);
        }
        assert_int_equal(set_of_next(&e, SID, PASID), 0);
        repoint_pe(&e, 1);
        if (!dte) {
            assert_int_equal(set_of_next(&e, SID, PASID), 0);
        } else {
            unsigned i = e.next++;
            struct siov_xlate x;
            assert_int_equal(siov_translate(e.t->iommu, SID, PASID, iova_of(i), SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_READ, &x),
                             SIOV_OK);
            assert_int_equal(x.addr, pa_of(0, i));
        }
        tl_free(e.t);
    }
}

/* Requests without PASID from two functions whose SIDs differ in bit 0 only:
   each is looked up through its own RID_PASID entry, never the other's. */
static void test_pasid_entries_of_neighbour_functions_stay_apart(void **state)
{
    (void)state;
    struct env e;
    env_new(&e);
    const siov_sid sids[2] = {SIOV_SID(0, 4, 0), SIOV_SID(0, 4, 1)};
    for (unsigned k = 0; k < 2; k++) {
        uint64_t dir = tl_sm_context_default(e.t, sids[k], 0), pe[8];
        pe_set(pe, (uint16_t)(DID + 1 + k), e.sl[k]);
        tl_pasid_entry(e.t, dir, 0, pe);
    }
    for (unsigned round = 0; round < 2; round++)
        for (unsigned k = 0; k < 2; k++)
            assert_int_equal(set_of_next(&e, sids[k], SIOV_NO_PASID), k);
    tl_free(e.t);
}

/* A domain-selective context-cache invalidation drops every scalable-mode
   entry, wherever it sits: 768 devices on three buses fill the cache's sets,
   all are repointed (their PASID entry with another DID and table set), and
   after the invalidation every one of them translates through the new one. */
static void test_domain_invalidation_drops_every_scalable_entry(void **state)
{
    (void)state;
    struct env e;
    env_new(&e);
    uint64_t pe[8];
    pe_set(pe, DID + 1, e.sl[1]);
    tl_pasid_entry(e.t, e.dir[1], PASID, pe);
    enum { NDEV = 768 };
    uint64_t ce[NDEV];
    for (unsigned d = 0; d < NDEV; d++) {
        siov_sid sid = (siov_sid)(SIOV_SID(1, 0, 0) + d);
        ce[d] = tl_sm_context(e.t, sid, ctx_qw0(e.dir[0]), 0);
        struct siov_xlate x;
        assert_int_equal(siov_translate(e.t->iommu, sid, PASID, iova_of(0), SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, pa_of(0, 0));
    }
    for (unsigned d = 0; d < NDEV; d++)
        tl_w64(e.t, ce[d], ctx_qw0(e.dir[1]));
    q_run(&e, d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0);
    q_run(&e, d_cc(SIOV_INV_GRAN_DOMAIN, 0x777, 0, 0), 0); /* scalable entries carry no DID */
    for (unsigned d = 0; d < NDEV; d++) {
        struct siov_xlate x;
        siov_sid sid = (siov_sid)(SIOV_SID(1, 0, 0) + d);
        assert_int_equal(siov_translate(e.t->iommu, sid, PASID, iova_of(0), SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, pa_of(1, 0));
    }
    tl_free(e.t);
}

/* The context-cache set of sid's entry. */
static unsigned cc_set(struct env *e, siov_sid sid)
{
    return siov_cache_set(&e->t->iommu->caches->cc.geo, SIOV_SC_KEY_VALID | sid, 0);
}

/* n devices from first up whose context-cache entries share first's set. */
static void same_set(struct env *e, siov_sid first, siov_sid *out, unsigned n)
{
    unsigned set = cc_set(e, first), k = 0;
    for (uint32_t sid = first; sid <= 0xFFFF && k < n; sid++)
        if (cc_set(e, (siov_sid)sid) == set)
            out[k++] = (siov_sid)sid;
    assert_int_equal(k, n);
}

/* Page i of each device goes through table set k (pages from 0 up: the PASID
   entry of dir[1] has another DID, so no IOTLB entry answers across sets). */
static void expect_sets(struct env *e, const siov_sid *sids, unsigned n, unsigned i, unsigned k)
{
    for (unsigned d = 0; d < n; d++) {
        struct siov_xlate x;
        assert_int_equal(siov_translate(e->t->iommu, sids[d], PASID, iova_of(i), SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, pa_of(k, i));
    }
}

static void repoint_all(struct env *e, const uint64_t *ce, unsigned n, unsigned k)
{
    for (unsigned d = 0; d < n; d++)
        tl_w64(e->t, ce[d], ctx_qw0(e->dir[k]));
    q_run(e, d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0); /* the context entries decide */
}

/* Context entries of the devices, all on directory dir[0]. */
static void contexts(struct env *e, const siov_sid *sids, unsigned n, uint64_t *ce)
{
    uint64_t pe[8];
    pe_set(pe, DID + 1, e->sl[1]);
    tl_pasid_entry(e->t, e->dir[1], PASID, pe);
    for (unsigned d = 0; d < n; d++)
        ce[d] = tl_sm_context(e->t, sids[d], ctx_qw0(e->dir[0]), 0);
}

/* count devices from 01:00.0 on whose context entries share one set, each
   translated once (set 0) and then repointed at set 1 in memory only. */
static void fill_one_set(struct env *e, siov_sid *sids, uint64_t *ce, unsigned count)
{
    same_set(e, SIOV_SID(1, 0, 0), sids, count);
    contexts(e, sids, count, ce);
    expect_sets(e, sids, count, 0, 0);
    repoint_all(e, ce, count, 1);
}

/* A set holds as many entries as it has ways, and after a global
   invalidation each refill takes its key's way back: every device of a full
   set keeps answering through its cached context entry. */
static void test_full_set_keeps_every_entry_across_refills(void **state)
{
    (void)state;
    struct env e;
    env_new(&e);
    unsigned n = e.t->iommu->caches->cc.geo.nways;
    siov_sid sids[16] = {0};
    uint64_t ce[16] = {0};
    assert_true(n <= 16);
    fill_one_set(&e, sids, ce, n);
    expect_sets(&e, sids, n, 1, 0); /* all cached */
    q_run(&e, d_cc(SIOV_INV_GRAN_GLOBAL, 0, 0, 0), 0);
    q_run(&e, d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0);
    expect_sets(&e, sids, n, 2, 1); /* refetched */
    repoint_all(&e, ce, n, 0);
    expect_sets(&e, sids, n, 3, 1); /* all cached again */
    tl_free(e.t);
}

/* A full set gives up its ways in turn: after twice as many fills as it has
   ways, the later half is cached, each in a way of its own. */
static void test_full_set_replaces_each_way_in_turn(void **state)
{
    (void)state;
    struct env e;
    env_new(&e);
    unsigned n = e.t->iommu->caches->cc.geo.nways;
    siov_sid sids[32] = {0};
    uint64_t ce[32] = {0};
    assert_true(2 * n <= 32);
    fill_one_set(&e, sids, ce, 2 * n);
    expect_sets(&e, sids + n, n, 1, 0); /* the later half, cached */
    tl_free(e.t);
}

/* Ways an invalidation emptied are free again: two sets filled in turn
   (so that no rotation of victims spares them) keep every entry, both when
   first filled and after a domain-selective or device-selective
   invalidation emptied them. */
static void test_emptied_ways_are_reused(void **state)
{
    (void)state;
    for (unsigned kind = 0; kind < 2; kind++) {
        struct env e;
        env_new(&e);
        unsigned n = e.t->iommu->caches->cc.geo.nways;
        siov_sid a[16] = {0}, b[16] = {0}, sids[32] = {0};
        uint64_t ce[32] = {0};
        assert_true(n <= 16);
        same_set(&e, SIOV_SID(1, 0, 0), a, n);
        siov_sid other = SIOV_SID(2, 0, 0);
        while (cc_set(&e, other) == cc_set(&e, a[0]))
            other++;
        same_set(&e, other, b, n);
        for (unsigned d = 0; d < n; d++) {
            sids[2 * d] = a[d];
            sids[2 * d + 1] = b[d];
        }
        contexts(&e, sids, 2 * n, ce);
        expect_sets(&e, sids, 2 * n, 0, 0);
        repoint_all(&e, ce, 2 * n, 1);
        expect_sets(&e, sids, 2 * n, 1, 0); /* all cached */
        if (kind == 0)
            q_run(&e, d_cc(SIOV_INV_GRAN_DOMAIN, 0x777, 0, 0), 0);
        else
            for (unsigned d = 0; d < 2 * n; d++)
                q_run(&e, d_cc(SIOV_INV_GRAN_DEVICE, 0, sids[d], 0), 0);
        q_run(&e, d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0);
        expect_sets(&e, sids, 2 * n, 2, 1); /* refetched */
        repoint_all(&e, ce, 2 * n, 0);
        expect_sets(&e, sids, 2 * n, 3, 1); /* all cached again */
        tl_free(e.t);
    }
}

/* ---- the ways' seqlock (entry_cache.c), one way, no unit around it */

#define SC_KEY (SIOV_SC_KEY_VALID | 0x5a5u)
#define SC_NEWER 200u   /* reads that must each see a newer write than the read before */
#define SC_READS 2000000u /* and reads in all, hits or not */

static void sc_fill(uint64_t data[SIOV_SC_WORDS], uint64_t v)
{
    for (unsigned i = 0; i < SIOV_SC_WORDS; i++)
        data[i] = v;
}

/* A way whose sequence is odd is being written: a probe misses it until the
   writer's closing store makes the sequence even again. */
static void test_way_being_written_does_not_answer(void **state)
{
    (void)state;
    struct siov_sc_cache sc;
    assert_int_equal(siov_sc_init(&sc, 1), 0);
    assert_int_equal(sc.geo.nsets * sc.geo.nways, 1);
    uint64_t in[SIOV_SC_WORDS], out[SIOV_SC_WORDS], stamp = 0;
    sc_fill(in, 0x77);
    siov_sc_write(&sc.ways[0], SC_KEY, 9, in);
    assert_int_equal(sc.ways[0].seq, 2); /* one write: two steps of one */
    assert_true(siov_sc_probe(&sc, SC_KEY, &stamp, out));
    assert_int_equal(stamp, 9);
    assert_memory_equal(out, in, sizeof(in));
    sc.ways[0].seq = 3; /* a writer between its opening and closing store */
    assert_false(siov_sc_probe(&sc, SC_KEY, &stamp, out));
    sc.ways[0].seq = 4;
    assert_true(siov_sc_probe(&sc, SC_KEY, &stamp, out));
    assert_false(siov_sc_probe(&sc, SC_KEY ^ 1, &stamp, out));
    siov_sc_fini(&sc);
}

struct sc_race {
    struct siov_sc_cache sc;
    int stop;        /* atomic: the reader has made its reads */
    uint64_t writes; /* the writer's count, read after the join */
};

/* Rewrite the one way until told to stop; write v puts stamp v and payload v. */
static void *sc_writer(void *arg)
{
    struct sc_race *r = arg;
    uint64_t data[SIOV_SC_WORDS], v = 0;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        sc_fill(data, ++v);
        siov_sc_write(&r->sc.ways[0], SC_KEY, v, data);
        if (!(v % 256))
            sched_yield(); /* lets a reader in where threads take turns (valgrind) */
    }
    r->writes = v;
    return NULL;
}

/* A reader racing a writer gets each hit whole: stamp and every payload word
   from the same write, never words of two (a torn read). */
static void test_probe_racing_a_writer_is_never_torn(void **state)
{
    (void)state;
    struct sc_race r = {.stop = 0};
    assert_int_equal(siov_sc_init(&r.sc, 1), 0);
    uint64_t data[SIOV_SC_WORDS], stamp, last = 0;
    sc_fill(data, 0);
    siov_sc_write(&r.sc.ways[0], SC_KEY, 0, data);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, sc_writer, &r), 0);
    unsigned long torn = 0, newer = 0;
    for (unsigned long reads = 0; newer < SC_NEWER || reads < SC_READS; reads++) {
        if (!siov_sc_probe(&r.sc, SC_KEY, &stamp, data))
            continue;
        newer += stamp > last;
        last = stamp;
        for (unsigned i = 0; i < SIOV_SC_WORDS; i++)
            torn += data[i] != stamp;
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_int_equal(torn, 0);
    print_message("%lu reads saw a newer write, %llu writes\n", newer, (unsigned long long)r.writes);
    assert_true(siov_sc_probe(&r.sc, SC_KEY, &stamp, data));
    assert_int_equal(stamp, r.writes);
    assert_int_equal(r.sc.ways[0].seq, 2 * (r.writes + 1));
    siov_sc_fini(&r.sc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pasid_entry_filled_after_invalidation_is_used),
        cmocka_unit_test(test_context_entry_filled_after_invalidation_is_used),
        cmocka_unit_test(test_pasid_entries_of_neighbour_functions_stay_apart),
        cmocka_unit_test(test_pasid_entry_answers_with_and_without_ats),
        cmocka_unit_test(test_domain_invalidation_drops_every_scalable_entry),
        cmocka_unit_test(test_full_set_keeps_every_entry_across_refills),
        cmocka_unit_test(test_full_set_replaces_each_way_in_turn),
        cmocka_unit_test(test_emptied_ways_are_reused),
        cmocka_unit_test(test_way_being_written_does_not_answer),
        cmocka_unit_test(test_probe_racing_a_writer_is_never_torn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

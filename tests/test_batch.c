/* siov_translate_batch: a batch answers exactly as the same requests sent
   one by one through siov_translate — results, faults, fault records,
   counters, A/D bits written to guest memory — in scalable mode with
   first- and second-level domains, in legacy mode, without an IOTLB and with
   the stale checker on; and API misuse changes nothing. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define KB4 (4ull << 10)
#define SID_A SIOV_SID(0, 4, 0)
#define SID_B SIOV_SID(0, 4, 1)
#define SID_NONE SIOV_SID(0, 9, 0) /* no context entry */
#define PASID_FL 0x31u
#define PASID_SL 0x32u
#define PAGES 48u
#define NREQ 3000u

enum mode { SCALABLE, LEGACY, NO_IOTLB, STALE_CHECK, MODES };

struct world {
    struct tl *t;
    uint64_t leaf_fl[PAGES], leaf_sl[PAGES]; /* gpa of each page's leaf (A/D bits) */
};

/* Page i of a domain: every fifth unmapped, every seventh read-only, the rest read-write. */
static bool page_mapped(unsigned i) { return i % 5 != 4; }
static bool page_ro(unsigned i) { return i % 7 == 3; }

static void map_domain(struct world *w, uint64_t root, bool fl, uint64_t *leaf, uint64_t pa_base)
{
    for (unsigned i = 0; i < PAGES; i++) {
        if (!page_mapped(i))
            continue;
        uint64_t rw = fl ? (page_ro(i) ? SIOV_FL_P | SIOV_FL_US : TL_FL_URW) : (page_ro(i) ? SIOV_SL_R : TL_SL_RW);
        leaf[i] = tl_map(w->t, root, 4, fl, (uint64_t)i * KB4, pa_base + (uint64_t)i * KB4, KB4, rw,
                         fl ? TL_FL_URW : TL_SL_RWX);
    }
}

/* The same world, built the same way every time. */
static void world_new(struct world *w, enum mode m)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = m == NO_IOTLB ? 0 : 64;
    cfg.stale_check = m == STALE_CHECK;
    memset(w, 0, sizeof(*w));
    w->t = tl_new(&cfg);
    if (m == LEGACY) {
        tl_enable(w->t, SIOV_TTM_LEGACY);
        uint64_t slpt = tl_page(w->t);
        map_domain(w, slpt, false, w->leaf_sl, TL_DATA_BASE);
        tl_legacy_context(w->t, SID_A, SIOV_CE0_P | slpt | siov_set(0, SIOV_CE0_TT, SIOV_TT_SL),
                          siov_set(0, SIOV_CE1_AW, SIOV_AW_4LVL) | siov_set(0, SIOV_CE1_DID, 5));
        return;
    }
    tl_enable(w->t, SIOV_TTM_SCALABLE);
    uint64_t dir = tl_sm_context_default(w->t, SID_A, PASID_SL);
    uint64_t flpt = tl_page(w->t), slpt = tl_page(w->t), pe[8];
    map_domain(w, flpt, true, w->leaf_fl, TL_DATA_BASE);
    map_domain(w, slpt, false, w->leaf_sl, TL_DATA_BASE + (1ull << 20));
    tl_pe_fl(pe, 7, flpt, SIOV_FLPM_4LVL);
    pe[2] |= SIOV_PTE2_SRE;
    tl_pasid_entry(w->t, dir, PASID_FL, pe);
    tl_pe_sl(pe, 8, slpt, SIOV_AW_4LVL);
    tl_pasid_entry(w->t, dir, PASID_SL, pe);
}

/* A mix of requests: both domains and no PASID (RID_PASID is the SL one, so
   requests that name it fault, SCT.9),
   unmapped and read-only pages, every access kind, bad PASIDs and sources. */
static void make_requests(struct siov_xlate_req *r, unsigned n, uint64_t seed)
{
    static const uint32_t pasids[] = {PASID_FL, PASID_SL, SIOV_NO_PASID, PASID_FL, PASID_SL, 0x77, 0x100000};
    static const unsigned access[] = {SIOV_ACCESS_READ,
                                      SIOV_ACCESS_WRITE,
                                      0,
                                      SIOV_ACCESS_READ | SIOV_ACCESS_EXEC,
                                      SIOV_ACCESS_READ | SIOV_ACCESS_PRIV,
                                      SIOV_ACCESS_READ | SIOV_ACCESS_WRITE,
                                      SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ,
                                      SIOV_ACCESS_READ | SIOV_ACCESS_TRANSLATED};
    uint64_t s = seed;
    for (unsigned i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        unsigned k = (unsigned)(s >> 33);
        bool odd = (k >> 20) % 31 == 0;
        r[i] = (struct siov_xlate_req){odd ? ((k >> 25) & 1 ? SID_B : SID_NONE) : SID_A,
                                       (k >> 8) % 23 == 0 ? pasids[5 + (k & 1)] : pasids[(k >> 4) % 5],
                                       (uint64_t)((k >> 12) % PAGES) * KB4 + (k & 0xFF8),
                                       access[(k >> 16) % 8]};
    }
}

/* Everything a request can change, compared between the two worlds. */
static void expect_same_state(struct world *a, struct world *b)
{
    struct siov_stats sa = tl_stats(a->t), sb = tl_stats(b->t);
    assert_memory_equal(&sa, &sb, sizeof(sa));
    for (unsigned i = 0; i < 8; i++)
        for (unsigned q = 0; q < 2; q++)
            assert_int_equal(tl_frcd(a->t, i, q), tl_frcd(b->t, i, q));
    assert_int_equal(siov_mmio_read(a->t->iommu, SIOV_REG_FSTS, 4), siov_mmio_read(b->t->iommu, SIOV_REG_FSTS, 4));
    for (unsigned i = 0; i < PAGES; i++) {
        if (a->leaf_fl[i])
            assert_int_equal(tl_r64(a->t, a->leaf_fl[i]), tl_r64(b->t, b->leaf_fl[i]));
        if (a->leaf_sl[i])
            assert_int_equal(tl_r64(a->t, a->leaf_sl[i]), tl_r64(b->t, b->leaf_sl[i]));
    }
}

/* Clear the fault records (W1C) so that later faults are recorded again. */
static void clear_faults(struct tl *t)
{
    for (unsigned i = 0; i < 8; i++)
        siov_mmio_write(t->iommu, SIOV_REG_FRCD + 16 * i + 12, (uint32_t)(SIOV_FRCD1_F >> 32), 4);
    siov_mmio_write(t->iommu, SIOV_REG_FSTS, 0xFF, 4);
}

static void test_batch_equals_single_calls(void **state)
{
    (void)state;
    struct siov_xlate_req *req = calloc(NREQ, sizeof(*req));
    struct siov_xlate_res *res = calloc(NREQ, sizeof(*res));
    assert_non_null(req);
    assert_non_null(res);
    for (enum mode m = 0; m < MODES; m++) {
        struct world single, batch;
        world_new(&single, m);
        world_new(&batch, m);
        unsigned faults = 0, hits = 0;
        for (unsigned round = 0; round < 4; round++) { /* later rounds hit what earlier ones cached */
            make_requests(req, NREQ, 0x5eed + round);
            for (unsigned i = 0; m == LEGACY && i < NREQ; i++)
                if (i % 8) /* legacy mode faults every request with a PASID */
                    req[i].pasid = SIOV_NO_PASID;
            /* batches of every length, so prefetching runs past the end too */
            for (unsigned at = 0, len = 1; at < NREQ; at += len, len = len % 40 + 1) {
                unsigned n = at + len > NREQ ? NREQ - at : len;
                assert_int_equal(siov_translate_batch(batch.t->iommu, n, &req[at], &res[at]), 0);
            }
            for (unsigned i = 0; i < NREQ; i++) {
                struct siov_xlate x;
                memset(&x, 0, sizeof(x));
                siov_fault f = siov_translate(single.t->iommu, req[i].sid, req[i].pasid, req[i].iova,
                                              req[i].access, &x);
                assert_int_equal(res[i].fault, f);
                if (f) {
                    struct siov_xlate zero = {0};
                    assert_memory_equal(&res[i].xlate, &zero, sizeof(zero));
                    faults++;
                    continue;
                }
                assert_int_equal(res[i].xlate.addr, x.addr);
                assert_int_equal(res[i].xlate.page_size, x.page_size);
                assert_int_equal(res[i].xlate.perm, x.perm);
                assert_int_equal(res[i].xlate.did, x.did);
            }
            expect_same_state(&single, &batch);
            hits = (unsigned)tl_stats(batch.t).iotlb_hits;
            clear_faults(single.t);
            clear_faults(batch.t);
        }
        assert_true(faults > NREQ / 10); /* the mix did fault, and did translate */
        assert_true(4 * NREQ - faults > NREQ / 2);
        if (m != NO_IOTLB)
            assert_true(hits > NREQ); /* and the caches answered many */
        tl_free(single.t);
        tl_free(batch.t);
    }
    free(req);
    free(res);
}

/* Misuse: -EINVAL and nothing translated, counted or written. */
static void test_batch_misuse_changes_nothing(void **state)
{
    (void)state;
    struct world w;
    world_new(&w, SCALABLE);
    struct siov_xlate_req req[2] = {{SID_A, PASID_FL, 0, SIOV_ACCESS_READ}, {SID_A, PASID_FL, KB4, 0}};
    struct siov_xlate_res res[2];
    memset(res, 0xA5, sizeof(res));
    struct siov_stats s0 = tl_stats(w.t);
    assert_int_equal(siov_translate_batch(NULL, 2, req, res), -EINVAL);
    assert_int_equal(siov_translate_batch(w.t->iommu, 2, NULL, res), -EINVAL);
    assert_int_equal(siov_translate_batch(w.t->iommu, 2, req, NULL), -EINVAL);
    assert_int_equal(siov_translate_batch(w.t->iommu, 0, NULL, NULL), 0);
    assert_int_equal(siov_translate_batch(NULL, 0, NULL, NULL), -EINVAL);
    struct siov_stats s1 = tl_stats(w.t);
    assert_memory_equal(&s0, &s1, sizeof(s0));
    for (size_t i = 0; i < sizeof(res); i++)
        assert_int_equal(((const uint8_t *)res)[i], 0xA5);
    assert_int_equal(siov_translate_batch(w.t->iommu, 2, req, res), 0);
    assert_int_equal(res[0].fault, SIOV_OK);
    assert_int_equal(res[0].xlate.addr, TL_DATA_BASE);
    assert_int_equal(res[1].xlate.addr, TL_DATA_BASE + KB4);
    assert_int_equal(tl_stats(w.t).translations, s1.translations + 2);
    tl_free(w.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_equals_single_calls),
        cmocka_unit_test(test_batch_misuse_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

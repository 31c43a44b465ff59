/* The caches themselves (src/model/caches.c and below), driven directly: keys and tags, page
   sizes sharing the IOTLB, replacement and eviction, what each invalidation
   drops, epochs, and lookups racing with a writer. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testlib.h"

#define KB4 (4ull << 10)
#define MB2 (2ull << 20)
#define GB1 (1ull << 30)
#define R SIOV_ACCESS_READ
#define W SIOV_ACCESS_WRITE
#define X SIOV_ACCESS_EXEC

struct fx {
    struct siov_iommu_config cfg;
    struct siov_caches *c;
    struct siov_stats stats;
};

/* Caches of iotlb_entries, hardware-like with ways (iotlb_ways) when ways != 0. */
static struct fx *fx_new_ways(unsigned iotlb_entries, unsigned ways)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    siov_iommu_config_default(&f->cfg);
    f->cfg.iotlb_entries = iotlb_entries;
    f->cfg.iotlb_ways = ways;
    f->c = siov_caches_new(&f->cfg);
    assert_non_null(f->c);
    siov_caches_set_stats(f->c, &f->stats);
    return f;
}

static struct fx *fx_new(unsigned iotlb_entries)
{
    return fx_new_ways(iotlb_entries, 0);
}

static void fx_free(struct fx *f)
{
    siov_caches_free(f->c);
    free(f);
}

static struct siov_pasid_ent pe_of(uint8_t pgtt, uint16_t did, uint32_t pasid)
{
    struct siov_pasid_ent pe;
    memset(&pe, 0, sizeof(pe));
    pe.pgtt = pgtt;
    pe.did = did;
    pe.pasid = pasid;
    pe.sl_levels = 4;
    pe.fl_levels = 4;
    return pe;
}

/* A recognisable translation of iova: output page derived from iova and a tag,
   and each of its other fields too (write-only for users, snooped, by tag bits). */
static struct siov_walk_out wo(uint64_t iova, uint64_t size, unsigned tag)
{
    struct siov_walk_out w = {((iova & ~(size - 1)) ^ ((uint64_t)tag << 40)) & SIOV_BITS(51, 0), size,
                              (tag & 2) ? W : R | W, R | W | X, tag & 1, (tag & 4) != 0};
    return w;
}

static void fill(struct fx *f, const struct siov_pasid_ent *pe, uint64_t iova, uint64_t size, unsigned tag)
{
    struct siov_walk_out w = wo(iova, size, tag);
    siov_tlb_fill(f->c, pe, iova, &w);
}

/* Assert that iova hits under pe with exactly the translation filled with tag. */
static void expect_hit(struct fx *f, const struct siov_pasid_ent *pe, uint64_t iova, uint64_t size, unsigned tag)
{
    struct siov_walk_out got, want = wo(iova, size, tag);
    assert_true(siov_tlb_lookup(f->c, pe, iova, &got));
    assert_int_equal(got.page, want.page);
    assert_int_equal(got.page_size, size);
    assert_int_equal(got.perm_user, want.perm_user);
    assert_int_equal(got.perm_super, want.perm_super);
    assert_int_equal(got.dirty, want.dirty);
    assert_int_equal(got.snoop, want.snoop);
}

static void expect_miss(struct fx *f, const struct siov_pasid_ent *pe, uint64_t iova)
{
    struct siov_walk_out got;
    assert_false(siov_tlb_lookup(f->c, pe, iova, &got));
}

/* ----------------------------------------------------------- tags and sizes */
static void test_sizes_hit_their_whole_page(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {KB4, MB2, GB1};
    for (unsigned i = 0; i < 3; i++) {
        struct fx *f = fx_new(4096);
        struct siov_pasid_ent pe = pe_of(SIOV_PGTT_SL, 5, 0);
        uint64_t base = 7 * GB1 + 3 * sizes[i];
        fill(f, &pe, base + 0x123, sizes[i], 2);
        expect_hit(f, &pe, base, sizes[i], 2);
        expect_hit(f, &pe, base + sizes[i] - 1, sizes[i], 2);
        expect_miss(f, &pe, base - 1);
        expect_miss(f, &pe, base + sizes[i]);
        fx_free(f);
    }
}

static void test_sizes_share_the_iotlb(void **state)
{
    (void)state;
    struct fx *f = fx_new(4096);
    struct siov_pasid_ent pe = pe_of(SIOV_PGTT_FL, 9, 77);
    fill(f, &pe, 0x1000, KB4, 1);
    fill(f, &pe, 4 * MB2, MB2, 2);
    fill(f, &pe, 3 * GB1, GB1, 3);
    expect_hit(f, &pe, 0x1abc, KB4, 1);
    expect_hit(f, &pe, 4 * MB2 + 0x12345, MB2, 2);
    expect_hit(f, &pe, 3 * GB1 + 0x2345678, GB1, 3);
    expect_miss(f, &pe, 0x2000);
    expect_miss(f, &pe, 5 * MB2);
    assert_int_equal(siov_tlb_occupancy(f->c), 3);
    fx_free(f);
}

static void test_tags_spec_10_1(void **state)
{
    (void)state;
    struct fx *f = fx_new(4096);
    struct siov_pasid_ent sl = pe_of(SIOV_PGTT_SL, 3, 10), sl_other_pasid = pe_of(SIOV_PGTT_SL, 3, 11);
    struct siov_pasid_ent sl_other_did = pe_of(SIOV_PGTT_SL, 4, 10);
    fill(f, &sl, 0x5000, KB4, 1);
    expect_hit(f, &sl_other_pasid, 0x5000, KB4, 1); /* SL-only entries carry no PASID */
    expect_miss(f, &sl_other_did, 0x5000);
    static const uint8_t tagged[] = {SIOV_PGTT_FL, SIOV_PGTT_NESTED, SIOV_PGTT_PT};
    for (unsigned i = 0; i < 3; i++) {
        struct siov_pasid_ent a = pe_of(tagged[i], 6, 20), b = pe_of(tagged[i], 6, 21);
        fill(f, &a, 0x9000 + i * KB4, KB4, 2);
        expect_hit(f, &a, 0x9000 + i * KB4, KB4, 2);
        expect_miss(f, &b, 0x9000 + i * KB4);
    }
    /* a PGTT the tag does not carry: FL and nested entries of one (DID, PASID) alias */
    struct siov_pasid_ent nested = pe_of(SIOV_PGTT_NESTED, 6, 20);
    expect_hit(f, &nested, 0x9000, KB4, 2);
    /* no-PASID (legacy pass-through) entries are not those of PASID 0xFFFFF */
    struct siov_pasid_ent none = pe_of(SIOV_PGTT_PT, 8, SIOV_NO_PASID), maxp = pe_of(SIOV_PGTT_PT, 8, 0xFFFFF);
    fill(f, &none, 0x3000, KB4, 5);
    expect_hit(f, &none, 0x3000, KB4, 5);
    expect_miss(f, &maxp, 0x3000);
    fx_free(f);
}

static void test_refill_replaces(void **state)
{
    (void)state;
    struct fx *f = fx_new(4096);
    struct siov_pasid_ent pe = pe_of(SIOV_PGTT_SL, 1, 0);
    fill(f, &pe, 0x4000, KB4, 2); /* tag 2: dirty=0 */
    fill(f, &pe, 0x4000, KB4, 3); /* tag 3: dirty=1, another page */
    expect_hit(f, &pe, 0x4000, KB4, 3);
    assert_int_equal(siov_tlb_occupancy(f->c), 1);
    /* a size the IOTLB does not hold is not cached */
    struct siov_walk_out odd = {0x8000, 8192, R, R, false, false};
    siov_tlb_fill(f->c, &pe, 0x8000, &odd);
    expect_miss(f, &pe, 0x8000);
    fx_free(f);
}

static void test_zero_entries_caches_nothing(void **state)
{
    (void)state;
    struct fx *f = fx_new(0);
    struct siov_pasid_ent pe = pe_of(SIOV_PGTT_SL, 1, 0);
    fill(f, &pe, 0x4000, KB4, 2);
    expect_miss(f, &pe, 0x4000);
    assert_int_equal(siov_tlb_occupancy(f->c), 0);
    fx_free(f);
}

/* ---------------------------------------------------------------- eviction */
static void test_eviction_small_iotlb(void **state)
{
    (void)state;
    static const unsigned caps[] = {1, 3, 8, 6};
    for (unsigned k = 0; k < 4; k++) {
        struct fx *f = fx_new(caps[k]);
        struct siov_pasid_ent pe = pe_of(SIOV_PGTT_FL, 2, 4);
        for (unsigned i = 0; i < 200; i++) {
            uint64_t size = i % 3 == 0 ? KB4 : i % 3 == 1 ? MB2 : GB1;
            fill(f, &pe, (uint64_t)i * GB1 * 2, size, i);
            expect_hit(f, &pe, (uint64_t)i * GB1 * 2, size, i); /* the newest entry is there */
            assert_true(siov_tlb_occupancy(f->c) <= caps[k]);
        }
        unsigned hits = 0;
        for (unsigned i = 0; i < 200; i++) {
            uint64_t size = i % 3 == 0 ? KB4 : i % 3 == 1 ? MB2 : GB1;
            struct siov_walk_out got;
            if (siov_tlb_lookup(f->c, &pe, (uint64_t)i * GB1 * 2, &got)) {
                hits++;
                expect_hit(f, &pe, (uint64_t)i * GB1 * 2, size, i); /* never another page's answer */
            }
        }
        assert_true(hits >= 1 && hits <= caps[k]);
        assert_int_equal(siov_tlb_occupancy(f->c), hits);
        assert_true(f->stats.iotlb_evictions >= 200 - caps[k]);
        fx_free(f);
    }
}

/* A fill after an invalidation, at the clock that invalidation set, is valid
   at once: for each stamp (domain, PASID, page, tagged and untagged). */
static void test_fill_after_each_invalidation_hits(void **state)
{
    (void)state;
    struct fx *f = fx_new(64);
    struct siov_pasid_ent sl = pe_of(SIOV_PGTT_SL, 3, 0), fl = pe_of(SIOV_PGTT_FL, 3, 9);
    for (unsigned k = 0; k < 4; k++) {
        if (k == 0)
            siov_tlb_inv_domain(f->c, 3);
        else if (k == 1)
            siov_tlb_inv_pasid(f->c, 3, 9);
        else if (k == 2)
            siov_tlb_inv_page(f->c, 3, 0, 0);
        else
            siov_tlb_inv_pasid_page(f->c, 3, 9, 0, 0);
        fill(f, &sl, k * KB4, KB4, 10 + k);
        fill(f, &fl, k * KB4, KB4, 20 + k);
        expect_hit(f, &sl, k * KB4, KB4, 10 + k);
        expect_hit(f, &fl, k * KB4, KB4, 20 + k);
    }
    fx_free(f);
}

/* Without a statistics block, evictions happen uncounted (both IOTLB forms). */
static void test_eviction_without_statistics(void **state)
{
    (void)state;
    for (unsigned ways = 0; ways <= 2; ways += 2) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.iotlb_entries = 2;
        cfg.iotlb_ways = ways;
        struct siov_caches *c = siov_caches_new(&cfg);
        assert_non_null(c);
        struct fx f = {cfg, c, {0}};
        struct siov_pasid_ent pe = pe_of(SIOV_PGTT_SL, 3, 0);
        for (unsigned i = 0; i < 8; i++) {
            fill(&f, &pe, i * KB4, KB4, i);
            expect_hit(&f, &pe, i * KB4, KB4, i);
        }
        assert_int_equal(siov_tlb_occupancy(c), 2);
        siov_caches_free(c);
    }
}

/* An IOTLB of 2^17 entries (4 MiB of ways, asked for in huge pages): it
   keeps and answers as a small one. */
static void test_large_iotlb(void **state)
{
    (void)state;
    struct fx *f = fx_new(1u << 17);
    struct siov_pasid_ent pe = pe_of(SIOV_PGTT_FL, 4, 9);
    for (unsigned i = 0; i < 4096; i++)
        fill(f, &pe, i * KB4, KB4, i);
    for (unsigned i = 0; i < 4096; i += 97)
        expect_hit(f, &pe, i * KB4, KB4, i);
    assert_int_equal(siov_tlb_occupancy(f->c), 4096);
    assert_int_equal(f->stats.iotlb_evictions, 0);
    fx_free(f);
}

static void test_dead_ways_are_reused_first(void **state)
{
    (void)state;
    struct fx *f = fx_new(4);
    struct siov_pasid_ent a = pe_of(SIOV_PGTT_SL, 1, 0), b = pe_of(SIOV_PGTT_SL, 2, 0);
    for (unsigned i = 0; i < 4; i++)
        fill(f, &a, i * KB4, KB4, i);
    siov_tlb_inv_domain(f->c, 1);
    uint64_t ev = f->stats.iotlb_evictions;
    for (unsigned i = 0; i < 4; i++)
        fill(f, &b, i * KB4, KB4, i);
    assert_int_equal(f->stats.iotlb_evictions, ev); /* invalidated ways are free, not evicted */
    assert_int_equal(siov_tlb_occupancy(f->c), 4);
    fx_free(f);
}

/* ---------------------------------------------------- IOTLB invalidations */
/* A populated IOTLB: DID 1 SL pages 0..7 (4K) and a 2M page at 16M; DID 1 FL
   PASID 5 pages 0..7, PASID 6 page 0; DID 1 PT PASID 5 page 0; DID 2 SL and FL pages 0..7. */
static struct siov_pasid_ent sl1, fl15, fl16, pt15, nested17, sl2, fl25;

static struct fx *populated(unsigned ways)
{
    struct fx *f = fx_new_ways(4096, ways);
    sl1 = pe_of(SIOV_PGTT_SL, 1, 0);
    fl15 = pe_of(SIOV_PGTT_FL, 1, 5);
    fl16 = pe_of(SIOV_PGTT_FL, 1, 6);
    pt15 = pe_of(SIOV_PGTT_PT, 1, 5);
    nested17 = pe_of(SIOV_PGTT_NESTED, 1, 7);
    sl2 = pe_of(SIOV_PGTT_SL, 2, 0);
    fl25 = pe_of(SIOV_PGTT_FL, 2, 5);
    for (unsigned i = 0; i < 8; i++) {
        fill(f, &sl1, i * KB4, KB4, 1);
        fill(f, &fl15, i * KB4, KB4, 2);
        fill(f, &nested17, i * KB4, KB4, 6);
        fill(f, &sl2, i * KB4, KB4, 3);
        fill(f, &fl25, i * KB4, KB4, 4);
    }
    fill(f, &sl1, 8 * MB2, MB2, 7);
    fill(f, &fl15, 8 * MB2, MB2, 8);
    fill(f, &fl16, 0, KB4, 5);
    fill(f, &pt15, 64 * KB4, KB4, 9);
    assert_int_equal(siov_tlb_occupancy(f->c), 8 * 5 + 4);
    return f;
}

static void inv_global(unsigned ways)
{
    struct fx *f = populated(ways);
    siov_tlb_inv_global(f->c);
    assert_int_equal(siov_tlb_occupancy(f->c), 0);
    expect_miss(f, &sl1, 0);
    expect_miss(f, &fl25, 0);
    fill(f, &sl1, 0, KB4, 1); /* filling after it works again */
    expect_hit(f, &sl1, 0, KB4, 1);
    fx_free(f);
}

static void inv_domain(unsigned ways)
{
    struct fx *f = populated(ways);
    siov_tlb_inv_domain(f->c, 1);
    expect_miss(f, &sl1, 0);
    expect_miss(f, &fl15, 0);
    expect_miss(f, &nested17, 0);
    expect_miss(f, &pt15, 64 * KB4);
    expect_miss(f, &sl1, 8 * MB2);
    expect_hit(f, &sl2, 0, KB4, 3);
    expect_hit(f, &fl25, 7 * KB4, KB4, 4);
    assert_int_equal(siov_tlb_occupancy(f->c), 16);
    fx_free(f);
}

static void inv_pasid(unsigned ways)
{
    struct fx *f = populated(ways);
    siov_tlb_inv_pasid(f->c, 1, 5); /* PIOTLB G=10 */
    expect_miss(f, &fl15, 0);
    expect_miss(f, &fl15, 8 * MB2);
    expect_miss(f, &pt15, 64 * KB4);
    expect_hit(f, &fl16, 0, KB4, 5);        /* another PASID */
    expect_hit(f, &sl1, 3 * KB4, KB4, 1);   /* SL-only: no PASID tag */
    expect_hit(f, &nested17, 0, KB4, 6);
    expect_hit(f, &fl25, 0, KB4, 4);        /* same PASID, other DID */
    assert_int_equal(siov_tlb_occupancy(f->c), 8 * 5 + 4 - 10);
    fx_free(f);
}

static void inv_page_within_domain(unsigned ways)
{
    struct fx *f = populated(ways);
    siov_tlb_inv_page(f->c, 1, 2 * KB4, 1); /* pages 2 and 3 */
    expect_hit(f, &sl1, 1 * KB4, KB4, 1);
    expect_miss(f, &sl1, 2 * KB4);
    expect_miss(f, &sl1, 3 * KB4);
    expect_hit(f, &sl1, 4 * KB4, KB4, 1);
    expect_hit(f, &sl1, 8 * MB2, MB2, 7);
    for (unsigned i = 0; i < 8; i++) { /* every FL/nested entry of the DID, whatever the address */
        expect_miss(f, &fl15, i * KB4);
        expect_miss(f, &nested17, i * KB4);
    }
    expect_miss(f, &fl16, 0);
    expect_miss(f, &pt15, 64 * KB4); /* pass-through: dropped too (docs/spec-notes.md) */
    expect_hit(f, &sl2, 2 * KB4, KB4, 3);
    expect_hit(f, &fl25, 2 * KB4, KB4, 4);
    /* a 4K page inside a 2M entry drops the 2M entry */
    siov_tlb_inv_page(f->c, 1, 8 * MB2 + 5 * KB4, 0);
    expect_miss(f, &sl1, 8 * MB2);
    assert_int_equal(siov_tlb_occupancy(f->c), 6 + 16);
    fx_free(f);
}

static void test_inv_page_large_range_scans(void **state)
{
    (void)state;
    struct fx *f = fx_new(64); /* 16 sets: a 2^10-page range is cheaper to scan */
    struct siov_pasid_ent a = pe_of(SIOV_PGTT_SL, 1, 0);
    fill(f, &a, 0x1000, KB4, 1);
    fill(f, &a, (1ull << 22) + 0x1000, KB4, 2);
    fill(f, &a, 1ull << 21, MB2, 3);
    siov_tlb_inv_page(f->c, 1, 0, 10); /* [0, 4 MiB) */
    expect_miss(f, &a, 0x1000);
    expect_miss(f, &a, 1ull << 21);
    expect_hit(f, &a, (1ull << 22) + 0x1000, KB4, 2);
    siov_tlb_inv_page(f->c, 1, 0, 52); /* the whole address space */
    expect_miss(f, &a, (1ull << 22) + 0x1000);
    fx_free(f);
}

static void inv_pasid_page(unsigned ways)
{
    struct fx *f = populated(ways);
    siov_tlb_inv_pasid_page(f->c, 1, 5, 4 * KB4, 2); /* PIOTLB G=11: pages 4..7 */
    expect_hit(f, &fl15, 3 * KB4, KB4, 2);
    for (unsigned i = 4; i < 8; i++)
        expect_miss(f, &fl15, i * KB4);
    expect_hit(f, &fl15, 8 * MB2, MB2, 8);
    expect_hit(f, &pt15, 64 * KB4, KB4, 9); /* pass-through entries stay (facts 10.2) */
    expect_hit(f, &sl1, 5 * KB4, KB4, 1);   /* SL-only entries stay */
    expect_hit(f, &fl16, 0, KB4, 5);
    expect_hit(f, &fl25, 5 * KB4, KB4, 4);
    siov_tlb_inv_pasid_page(f->c, 1, 7, 0, 0); /* nested entries go too */
    expect_miss(f, &nested17, 0);
    expect_hit(f, &nested17, KB4, KB4, 6);
    fx_free(f);
}

/* Each invalidation over the IOTLB that places entries itself and the
   hardware-like one (an exact cache of 512 sets of 8 ways). */
static void each_geometry(void (*fn)(unsigned ways))
{
    fn(0);
    fn(8);
}

static void test_inv_global(void **state)
{
    (void)state;
    each_geometry(inv_global);
}

static void test_inv_domain(void **state)
{
    (void)state;
    each_geometry(inv_domain);
}

static void test_inv_pasid(void **state)
{
    (void)state;
    each_geometry(inv_pasid);
}

static void test_inv_page_within_domain(void **state)
{
    (void)state;
    each_geometry(inv_page_within_domain);
}

static void test_inv_pasid_page(void **state)
{
    (void)state;
    each_geometry(inv_pasid_page);
}

/* ------------------------------------------------------------- epochs */
static void test_fill_from_an_older_epoch_is_dropped(void **state)
{
    (void)state;
    struct fx *f = fx_new(4096);
    struct siov_pasid_ent pe = pe_of(SIOV_PGTT_SL, 1, 0);
    struct siov_walk_out w = wo(0x7000, KB4, 1);
    uint64_t e = siov_caches_epoch(f->c);
    siov_tlb_inv_page(f->c, 9, 0, 0); /* any invalidation, even of another DID */
    siov_tlb_fill_epoch(f->c, e, &pe, 0x7000, &w);
    expect_miss(f, &pe, 0x7000);
    struct siov_ctx_ent ce = {.pasid_dir = 0x5000};
    siov_cc_fill_epoch(f->c, e, 3, &ce);
    assert_false(siov_cc_lookup(f->c, 3, &ce));
    siov_pc_fill_epoch(f->c, e, 3, 1, &pe);
    assert_false(siov_pc_lookup(f->c, 3, 1, &pe));
    e = siov_caches_epoch(f->c);
    siov_tlb_fill_epoch(f->c, e, &pe, 0x7000, &w);
    expect_hit(f, &pe, 0x7000, KB4, 1);
    fx_free(f);
}

/* ------------------------------------------------ context and PASID caches */
static void test_context_cache(void **state)
{
    (void)state;
    struct fx *f = fx_new(4096);
    for (unsigned sid = 0; sid < 32; sid++) {
        struct siov_ctx_ent ce = {.legacy = sid >= 16, .did = (uint16_t)(sid >= 24 ? 7 : 8),
                                  .pasid_dir = 0x100000 + sid * 0x1000, .rid_pasid = sid};
        siov_cc_fill(f->c, (siov_sid)sid, &ce);
    }
    struct siov_ctx_ent got;
    assert_true(siov_cc_lookup(f->c, 9, &got));
    assert_int_equal(got.pasid_dir, 0x109000);
    assert_int_equal(got.rid_pasid, 9);
    assert_false(siov_cc_lookup(f->c, 40, &got));
    siov_cc_inv_device(f->c, 0x0A, 0); /* sid 10 only */
    assert_false(siov_cc_lookup(f->c, 10, &got));
    assert_true(siov_cc_lookup(f->c, 11, &got));
    siov_cc_inv_device(f->c, 0x05, 2); /* FM=10: function bits 2:1 masked: 1, 3, 5, 7 */
    for (unsigned sid = 0; sid <= 8; sid++)
        assert_int_equal(siov_cc_lookup(f->c, (siov_sid)sid, &got), !(sid & 1) || sid == 9);
    siov_cc_inv_device(f->c, 0x02, 1); /* FM=01: bit 2 masked: 2 and 6 */
    assert_false(siov_cc_lookup(f->c, 2, &got));
    assert_false(siov_cc_lookup(f->c, 6, &got));
    assert_true(siov_cc_lookup(f->c, 0, &got));
    assert_true(siov_cc_lookup(f->c, 4, &got));
    siov_cc_inv_device(f->c, 0x10, 3); /* FM=11: 16..23 */
    for (unsigned sid = 15; sid <= 24; sid++)
        assert_int_equal(siov_cc_lookup(f->c, (siov_sid)sid, &got), sid == 15 || sid == 24);
    siov_cc_inv_domain(f->c, 7); /* every scalable entry, legacy entries of DID 7 */
    assert_false(siov_cc_lookup(f->c, 0, &got));
    assert_false(siov_cc_lookup(f->c, 24, &got));
    siov_cc_fill(f->c, 16, &(struct siov_ctx_ent){.legacy = true, .did = 8});
    siov_cc_inv_domain(f->c, 7);
    assert_true(siov_cc_lookup(f->c, 16, &got));
    siov_cc_inv_global(f->c);
    assert_false(siov_cc_lookup(f->c, 16, &got));
    fx_free(f);
}

static void test_pasid_cache(void **state)
{
    (void)state;
    struct fx *f = fx_new(4096);
    struct siov_pasid_ent a = pe_of(SIOV_PGTT_FL, 1, 5), b = pe_of(SIOV_PGTT_FL, 1, 6);
    struct siov_pasid_ent c = pe_of(SIOV_PGTT_SL, 2, 5), rid = pe_of(SIOV_PGTT_SL, 1, 0);
    a.flptptr = 0xA000;
    siov_pc_fill(f->c, 3, 5, &a);
    siov_pc_fill(f->c, 3, 6, &b);
    siov_pc_fill(f->c, 4, 5, &c);
    siov_pc_fill(f->c, 3, SIOV_NO_PASID, &rid); /* a request without PASID: RID_PASID 0 */
    struct siov_pasid_ent got;
    assert_true(siov_pc_lookup(f->c, 3, 5, &got));
    assert_int_equal(got.flptptr, 0xA000);
    assert_int_equal(got.pgtt, SIOV_PGTT_FL);
    assert_false(siov_pc_lookup(f->c, 4, 6, &got));
    siov_pc_inv_pasid(f->c, 2, 6); /* wrong DID for PASID 6 */
    assert_true(siov_pc_lookup(f->c, 3, 6, &got));
    siov_pc_inv_pasid(f->c, 1, 6);
    assert_false(siov_pc_lookup(f->c, 3, 6, &got));
    assert_true(siov_pc_lookup(f->c, 3, 5, &got));
    siov_pc_inv_pasid(f->c, 1, 0); /* the entry found under RID_PASID */
    assert_false(siov_pc_lookup(f->c, 3, SIOV_NO_PASID, &got));
    siov_pc_inv_domain(f->c, 2);
    assert_false(siov_pc_lookup(f->c, 4, 5, &got));
    assert_true(siov_pc_lookup(f->c, 3, 5, &got));
    siov_pc_inv_domain(f->c, 1);
    assert_false(siov_pc_lookup(f->c, 3, 5, &got));
    siov_pc_fill(f->c, 3, 5, &a);
    siov_tlb_inv_global(f->c); /* IOTLB invalidations leave the PASID cache */
    siov_cc_inv_global(f->c);
    assert_true(siov_pc_lookup(f->c, 3, 5, &got));
    siov_pc_inv_global(f->c);
    assert_false(siov_pc_lookup(f->c, 3, 5, &got));
    siov_pc_fill(f->c, 3, 5, &a);
    siov_caches_inv_all(f->c);
    assert_false(siov_pc_lookup(f->c, 3, 5, &got));
    fx_free(f);
}

/* ------------------------------------------------------------ concurrency */
struct race {
    struct fx *f;
    bool stop;
    unsigned long hits, lookups;
};

/* Readers: every hit must be exactly the translation filled for that page. */
static void *reader(void *arg)
{
    struct race *r = arg;
    struct siov_pasid_ent pe = pe_of(SIOV_PGTT_FL, 3, 9);
    unsigned long hits = 0, n = 0;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        uint64_t iova = (n % 64) * KB4;
        struct siov_walk_out got, want = wo(iova, KB4, (unsigned)(n % 64));
        if (siov_tlb_lookup(r->f->c, &pe, iova, &got)) {
            hits++;
            if (got.page != want.page || got.page_size != KB4 || got.dirty != want.dirty)
                fail_msg("torn or foreign entry at %#llx", (unsigned long long)iova);
        }
        n++;
    }
    __atomic_fetch_add(&r->hits, hits, __ATOMIC_RELAXED);
    __atomic_fetch_add(&r->lookups, n, __ATOMIC_RELAXED);
    return NULL;
}

static void test_lookups_race_with_a_writer(void **state)
{
    (void)state;
    struct race r = {.f = fx_new(32)}; /* small: constant eviction */
    struct siov_pasid_ent pe = pe_of(SIOV_PGTT_FL, 3, 9);
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, reader, &r), 0);
    for (unsigned i = 0; i < 200000; i++) {
        uint64_t iova = (i % 64) * KB4;
        fill(r.f, &pe, iova, KB4, i % 64);
        if (i % 1000 == 999)
            siov_tlb_inv_pasid(r.f->c, 3, 9);
    }
    __atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_true(r.lookups > 0);
    assert_true(r.hits > 0); /* the readers did see entries come and go */
    fx_free(r.f);
}

/* Each DID has its own "invalidated at" words, the largest DID of every
   width included: a domain-selective invalidation of one DID leaves its
   neighbours' entries, and the PASID cache's, alone. */
static void test_domain_invalidation_spares_every_other_did(void **state)
{
    (void)state;
    static const unsigned bits[] = {4, 8, 16};
    for (unsigned b = 0; b < 3; b++) {
        struct fx *f = calloc(1, sizeof(*f));
        assert_non_null(f);
        siov_iommu_config_default(&f->cfg);
        f->cfg.domain_bits = bits[b];
        f->c = siov_caches_new(&f->cfg);
        assert_non_null(f->c);
        uint16_t top = (uint16_t)((1u << bits[b]) - 1);
        const uint16_t dids[] = {2, 3, (uint16_t)(top - 1), top};
        struct siov_pasid_ent pe[4];
        for (unsigned i = 0; i < 4; i++) {
            pe[i] = pe_of(SIOV_PGTT_SL, dids[i], 0);
            fill(f, &pe[i], 0x5000, KB4, i + 1);
            siov_pc_fill(f->c, 0x100 + i, 7, &pe[i]);
        }
        for (unsigned k = 0; k < 4; k++) { /* invalidate one DID, then see all four */
            siov_tlb_inv_domain(f->c, dids[k]);
            siov_pc_inv_domain(f->c, dids[k]);
            for (unsigned i = 0; i < 4; i++) {
                struct siov_pasid_ent got;
                if (i <= k) {
                    expect_miss(f, &pe[i], 0x5000);
                    assert_false(siov_pc_lookup(f->c, 0x100 + i, 7, &got));
                } else {
                    expect_hit(f, &pe[i], 0x5000, KB4, i + 1);
                    assert_true(siov_pc_lookup(f->c, 0x100 + i, 7, &got));
                    assert_int_equal(got.did, dids[i]);
                }
            }
        }
        fx_free(f);
    }
}

/* A page-selective invalidation drops its own tag's entries only: another
   domain's, or another PASID's, at the same address in the same set stays,
   whether the pages are probed (one page) or the IOTLB scanned (two pages in
   an IOTLB of one set). */
static void test_inv_page_spares_other_tags_in_the_set(void **state)
{
    (void)state;
    for (unsigned am = 0; am < 2; am++) {
        struct fx *f = fx_new(4); /* one set of four ways */
        struct siov_pasid_ent d1 = pe_of(SIOV_PGTT_SL, 1, 0), d2 = pe_of(SIOV_PGTT_SL, 2, 0);
        struct siov_pasid_ent p5 = pe_of(SIOV_PGTT_FL, 3, 5), p6 = pe_of(SIOV_PGTT_FL, 3, 6);
        fill(f, &d1, 0x4000, KB4, 1);
        fill(f, &d2, 0x4000, KB4, 2);
        fill(f, &p5, 0x4000, KB4, 3);
        fill(f, &p6, 0x4000, KB4, 6);
        siov_tlb_inv_page(f->c, 1, 0x4000, am);
        expect_miss(f, &d1, 0x4000);
        expect_hit(f, &d2, 0x4000, KB4, 2);
        siov_tlb_inv_pasid_page(f->c, 3, 5, 0x4000, am);
        expect_miss(f, &p5, 0x4000);
        expect_hit(f, &p6, 0x4000, KB4, 6);
        expect_hit(f, &d2, 0x4000, KB4, 2);
        fx_free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_invalidation_spares_every_other_did),
        cmocka_unit_test(test_sizes_hit_their_whole_page),
        cmocka_unit_test(test_sizes_share_the_iotlb),
        cmocka_unit_test(test_tags_spec_10_1),
        cmocka_unit_test(test_refill_replaces),
        cmocka_unit_test(test_zero_entries_caches_nothing),
        cmocka_unit_test(test_eviction_small_iotlb),
        cmocka_unit_test(test_dead_ways_are_reused_first),
        cmocka_unit_test(test_inv_global),
        cmocka_unit_test(test_inv_domain),
        cmocka_unit_test(test_inv_pasid),
        cmocka_unit_test(test_inv_page_within_domain),
        cmocka_unit_test(test_inv_page_large_range_scans),
        cmocka_unit_test(test_inv_pasid_page),
        cmocka_unit_test(test_inv_page_spares_other_tags_in_the_set),
        cmocka_unit_test(test_fill_from_an_older_epoch_is_dropped),
        cmocka_unit_test(test_fill_after_each_invalidation_hits),
        cmocka_unit_test(test_eviction_without_statistics),
        cmocka_unit_test(test_large_iotlb),
        cmocka_unit_test(test_context_cache),
        cmocka_unit_test(test_pasid_cache),
        cmocka_unit_test(test_lookups_race_with_a_writer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

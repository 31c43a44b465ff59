/* The front translation cache (src/model/front_cache.h, filled by front_cache.c): what a
   probe returns after a fill, which keys it tells apart, which invalidations
   reach an entry (those of everything, of its DID, of its source id) and
   which leave it alone, the shared way's write, read and clear, that a
   changing way reads as a miss, that a hit never grants what the walk would
   not, that batches answer as single calls, and that hits counted from many
   threads at once add up exactly. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "caches.h"
#include "internal.h"
#include "testlib.h"

#define KB4 (4ull << 10)
#define MB2 (2ull << 20)
#define R SIOV_ACCESS_READ
#define W SIOV_ACCESS_WRITE
#define X SIOV_ACCESS_EXEC

struct fx {
    struct siov_iommu_config cfg;
    struct siov_caches *c;
    struct siov_xc_view v;
};

static struct fx *fx_new(unsigned iotlb_entries)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    siov_iommu_config_default(&f->cfg);
    f->cfg.iotlb_entries = iotlb_entries;
    f->c = siov_caches_new(&f->cfg);
    assert_non_null(f->c);
    f->v = siov_caches_xc_view(f->c);
    return f;
}

static void fx_free(struct fx *f)
{
    siov_caches_free(f->c);
    free(f);
}

/* A recognisable answer for (sid, pasid, addr): page, perms, dirty, DID. */
static struct siov_xc_hit answer(siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size)
{
    uint64_t page = ((addr >> 12) * 0x10001ull + sid + (uint64_t)pasid * 7) << 12 & SIOV_BITS(51, 12);
    return (struct siov_xc_hit){page, size, R | ((sid & 1) ? W : 0), R | W | X, (addr >> 12) & 1,
                                (uint16_t)(sid ^ pasid)};
}

static void fill(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size)
{
    struct siov_xc_hit h = answer(sid, pasid, addr, size);
    siov_xc_fill(f->c, siov_caches_epoch(f->c), sid, pasid, addr, &h);
}

static bool probe(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t *val, uint64_t *sd)
{
    return siov_xc_probe(&f->v, siov_xc_key(sid, pasid), addr >> 12, val, sd);
}

/* The probe returns exactly what was filled. */
static void expect_hit(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size)
{
    struct siov_xc_hit want = answer(sid, pasid, addr, size);
    uint64_t val = 0, sd = 0;
    assert_true(probe(f, sid, pasid, addr, &val, &sd));
    assert_int_equal(val & SIOV_XC_VAL_PAGE, want.page);
    assert_int_equal(siov_get(val, SIOV_XC_VAL_PERM_USER), want.perm_user);
    /* no PASID, no PR: the privileged grant is the user grant */
    assert_int_equal(siov_get(val, SIOV_XC_VAL_PERM_SUPER), pasid == SIOV_NO_PASID ? want.perm_user : want.perm_super);
    assert_int_equal((val & SIOV_XC_VAL_DIRTY) != 0, want.dirty);
    assert_int_equal(siov_xc_page_size(val), size);
    assert_int_equal(siov_get(sd, SIOV_XC_SD_DID), want.did);
}

static void expect_miss(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t addr)
{
    uint64_t val = 0, sd = 0;
    assert_false(probe(f, sid, pasid, addr, &val, &sd));
}

static void test_fill_then_hit_every_size(void **state)
{
    (void)state;
    struct fx *f = fx_new(64);
    const uint64_t sizes[] = {KB4, MB2, 1ull << 30};
    for (unsigned i = 0; i < 3; i++) {
        uint64_t addr = (i + 1) * 0x40000000ull + 0x5000;
        fill(f, 0x100, 5, addr, sizes[i]);
        expect_hit(f, 0x100, 5, addr, sizes[i]);
        expect_hit(f, 0x100, 5, addr + 0xFFF, sizes[i]); /* the same 4 KiB page */
        expect_miss(f, 0x100, 5, addr + KB4);            /* entries are per 4 KiB page */
    }
    fx_free(f);
}

static void test_keys_apart(void **state)
{
    (void)state;
    struct fx *f = fx_new(64);
    fill(f, 0x100, 0, 0x7000, KB4);
    expect_hit(f, 0x100, 0, 0x7000, KB4);
    expect_miss(f, 0x100, SIOV_NO_PASID, 0x7000); /* PASID 0 is not "no PASID" */
    expect_miss(f, 0x101, 0, 0x7000);
    expect_miss(f, 0x100, 1, 0x7000);
    expect_miss(f, 0x100, 0, 0x8000);
    fill(f, 0x100, SIOV_NO_PASID, 0x7000, KB4);
    expect_hit(f, 0x100, SIOV_NO_PASID, 0x7000, KB4);
    expect_hit(f, 0x100, 0, 0x7000, KB4);
    fill(f, 0xFFFF, SIOV_PASID_MAX, 0xFFFFFFFFF000ull, KB4); /* the widest key and page */
    expect_hit(f, 0xFFFF, SIOV_PASID_MAX, 0xFFFFFFFFF000ull, KB4);
    expect_miss(f, 0xFFFF, SIOV_PASID_MAX - 1, 0xFFFFFFFFF000ull);
    fx_free(f);
}

/* The entry of (sid, pasid, addr) filled for did. */
static void fill_did(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t addr, uint16_t did)
{
    struct siov_xc_hit h = answer(sid, pasid, addr, KB4);
    h.did = did;
    siov_xc_fill(f->c, siov_caches_epoch(f->c), sid, pasid, addr, &h);
}

static bool cached(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t addr)
{
    uint64_t val = 0, sd = 0;
    return probe(f, sid, pasid, addr, &val, &sd);
}

/* Each cache invalidation reaches the front-cache entries it may concern and
   no other: entry A (sid 0x10, PASID 3, DID 0x31), B (sid 0x10, PASID 4, DID
   0x32), C (sid 0x28, PASID 3, DID 0x33). */
static void test_invalidations_reach_only_their_entries(void **state)
{
    (void)state;
    enum { A = 1, B = 2, C = 4, ALL = 7 };
    for (unsigned kind = 0; kind < 17; kind++) {
        struct fx *f = fx_new(64);
        fill_did(f, 0x10, 3, 0x3000, 0x31);
        fill_did(f, 0x10, 4, 0x3000, 0x32);
        fill_did(f, 0x28, 3, 0x3000, 0x33);
        unsigned dead;
        switch (kind) {
        case 0: siov_cc_inv_device(f->c, 0x28, 0); dead = C; break;
        case 1: siov_cc_inv_device(f->c, 0x14, 1); dead = A | B; break; /* FM=1: 0x10 and 0x14 */
        case 2: siov_cc_inv_device(f->c, 0x11, 0); dead = 0; break;
        case 3: siov_tlb_inv_domain(f->c, 0x32); dead = B; break;
        case 4: siov_tlb_inv_pasid(f->c, 0x31, 3); dead = A; break;
        case 5: siov_tlb_inv_page(f->c, 0x33, 0x900000, 0); dead = C; break;
        case 6: siov_tlb_inv_pasid_page(f->c, 0x32, 4, 0x3000, 0); dead = B; break;
        case 7: siov_pc_inv_domain(f->c, 0x31); dead = A; break;
        case 8: siov_pc_inv_pasid(f->c, 0x33, 3); dead = C; break;
        case 9: siov_tlb_inv_domain(f->c, 0x777); dead = 0; break; /* another DID */
        case 10: siov_pc_inv_pasid(f->c, 0x777, 3); dead = 0; break;
        case 11: siov_tlb_inv_global(f->c); dead = ALL; break;
        case 12: siov_pc_inv_global(f->c); dead = ALL; break;
        case 13: siov_cc_inv_global(f->c); dead = ALL; break;
        case 14: siov_cc_inv_domain(f->c, 0x777); dead = ALL; break; /* every scalable context entry */
        case 15: siov_caches_inv_all(f->c); dead = ALL; break;
        default: siov_caches_front_flush(f->c); dead = ALL; break;
        }
        assert_int_equal(cached(f, 0x10, 3, 0x3000), !(dead & A));
        assert_int_equal(cached(f, 0x10, 4, 0x3000), !(dead & B));
        assert_int_equal(cached(f, 0x28, 3, 0x3000), !(dead & C));
        fill_did(f, 0x10, 3, 0x3000, 0x31); /* and fills again at the new epoch */
        assert_true(cached(f, 0x10, 3, 0x3000));
        fx_free(f);
    }
}

/* A translation that started before an invalidation does not fill. */
static void test_fill_from_an_older_epoch_is_dropped(void **state)
{
    (void)state;
    struct fx *f = fx_new(64);
    uint64_t epoch = siov_caches_epoch(f->c);
    siov_tlb_inv_global(f->c);
    struct siov_xc_hit h = answer(0x10, 3, 0x3000, KB4);
    siov_xc_fill(f->c, epoch, 0x10, 3, 0x3000, &h);
    expect_miss(f, 0x10, 3, 0x3000);
    fx_free(f);
}

/* A fill that finds the writer lock taken (an invalidation under way in
   another thread) is skipped: it never waits, and never writes unlocked. */
static void test_fill_while_locked_is_skipped(void **state)
{
    (void)state;
    struct fx *f = fx_new(64);
    siov_stamp_lock(f->c);
    fill(f, 0x10, 3, 0x3000, KB4);
    siov_stamp_unlock(f->c);
    expect_miss(f, 0x10, 3, 0x3000);
    fill(f, 0x10, 3, 0x3000, KB4);
    expect_hit(f, 0x10, 3, 0x3000, KB4);
    fx_free(f);
}

/* A way a writer is changing (its key cleared) reads as a miss. */
/* The shared way (seqway.h) on its own: a write leaves the sequence even and
   moved on by 2 and the key in the head (never in the sequence bits), a read
   matches key and page only, and a clear empties the way with one more step. */
static void test_seqway_write_read_clear(void **state)
{
    (void)state;
    struct siov_way w = {0};
    uint64_t val = 0, stamp = 0;
    assert_false(siov_way_read(&w, 5, 7, &val, &stamp)); /* empty */
    siov_way_write(&w, 5, 7, 0xAB, 0xCD);
    assert_int_equal(siov_get(w.head, SIOV_WAY_HEAD_SEQ), 2);
    assert_int_equal(w.head & SIOV_WAY_HEAD_KEY, 5);
    assert_true(siov_way_read(&w, 5, 7, &val, &stamp));
    assert_int_equal(val, 0xAB);
    assert_int_equal(stamp, 0xCD);
    assert_false(siov_way_read(&w, 5, 8, &val, &stamp)); /* another page */
    assert_false(siov_way_read(&w, 6, 7, &val, &stamp)); /* another key */
    siov_way_write(&w, SIOV_WAY_HEAD_SEQ | 9, 3, 0x11, 0x22); /* bits above the key are not the key's */
    assert_int_equal(siov_get(w.head, SIOV_WAY_HEAD_SEQ), 4);
    assert_int_equal(w.head & SIOV_WAY_HEAD_KEY, 9);
    assert_true(siov_way_read(&w, 9, 3, &val, &stamp));
    assert_int_equal(val, 0x11);
    siov_way_clear(&w);
    assert_int_equal(siov_get(w.head, SIOV_WAY_HEAD_SEQ), 6);
    assert_int_equal(w.head & SIOV_WAY_HEAD_KEY, 0);
    assert_false(siov_way_read(&w, 9, 3, &val, &stamp));
}

static void test_changing_way_is_a_miss(void **state)
{
    (void)state;
    struct fx *f = fx_new(64);
    fill(f, 0x10, 3, 0x3000, KB4);
    uint64_t key = siov_xc_key(0x10, 3);
    struct siov_way *set = (struct siov_way *)(uintptr_t)f->v.ways + siov_xc_set_of(f->v.set_shift, key, 3);
    assert_true((set[0].head & SIOV_WAY_HEAD_KEY) == key || (set[1].head & SIOV_WAY_HEAD_KEY) == key);
    struct siov_way *w = (set[0].head & SIOV_WAY_HEAD_KEY) == key ? &set[0] : &set[1];
    assert_int_equal(w->head & SIOV_WAY_HEAD_KEY, key);
    uint64_t head = w->head;
    w->head = siov_set(0, SIOV_WAY_HEAD_SEQ, siov_get(head, SIOV_WAY_HEAD_SEQ) + 1); /* being written: no key */
    expect_miss(f, 0x10, 3, 0x3000);
    w->head = head;
    expect_hit(f, 0x10, 3, 0x3000, KB4);
    fx_free(f);
}

/* With many keys colliding in few sets, a hit is always the key's own entry. */
static void test_no_false_hits(void **state)
{
    (void)state;
    struct fx *f = fx_new(16); /* the smallest front cache: 32 sets */
    uint64_t s = 0x1234567;
    unsigned hits = 0;
    for (unsigned i = 0; i < 20000; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        siov_sid sid = (siov_sid)(s >> 48 & 7);
        uint32_t pasid = (uint32_t)(s >> 40 & 3);
        uint64_t addr = (s >> 20 & 63) << 12;
        if (s >> 63)
            fill(f, sid, pasid, addr, KB4);
        uint64_t val = 0, sd = 0;
        if (probe(f, sid, pasid, addr, &val, &sd)) {
            expect_hit(f, sid, pasid, addr, KB4);
            hits++;
        }
    }
    assert_true(hits > 2000); /* the probes did find entries */
    fx_free(f);
}

/* Four pages whose first sets are the same (a 2-way set) all stay cached:
   the ones that do not fit take their second sets. */
static void test_colliding_pages_take_their_second_set(void **state)
{
    (void)state;
    struct fx *f = fx_new(4096);
    uint64_t key = siov_xc_key(0x21, 9), addr[4];
    uint64_t set = siov_xc_set_of(f->v.set_shift, key, 0x100);
    unsigned n = 0;
    for (uint64_t vpn = 0x100; n < 4; vpn++)
        if (siov_xc_set_of(f->v.set_shift, key, vpn) == set &&
            siov_xc_alt_set_of(f->v.set_shift, key, vpn) != set)
            addr[n++] = vpn << 12;
    for (unsigned i = 0; i < 4; i++)
        fill(f, 0x21, 9, addr[i], KB4);
    for (unsigned i = 0; i < 4; i++)
        expect_hit(f, 0x21, 9, addr[i], KB4);
    fx_free(f);
}

/* Random pages filling a quarter of the front cache: after one fill each,
   every one hits (no page evicts another). Over 1,024 pages in 2,048 2-way
   sets, one set per page would leave about thirty sets holding three pages. */
static void test_random_pages_within_capacity_all_hit(void **state)
{
    (void)state;
    const unsigned npages = 1024;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct fx *f = fx_new(4096); /* 4,096 ways */
        uint64_t s = seed * 0x9E3779B97F4A7C15ull;
        uint64_t *addr = malloc(npages * sizeof(*addr));
        assert_non_null(addr);
        for (unsigned i = 0; i < npages; i++) {
            s = s * 6364136223846793005ull + 1442695040888963407ull;
            addr[i] = ((uint64_t)i << 20 | (s >> 44)) << 12; /* distinct pages */
            fill(f, 0x30, 2, addr[i], KB4);
        }
        for (unsigned i = 0; i < npages; i++)
            expect_hit(f, 0x30, 2, addr[i], KB4);
        free(addr);
        fx_free(f);
    }
}

/* As many ways as the IOTLB has entries, rounded up to a power of two, at
   least 64 (two per set): the set shift says how many sets. */
static void test_size_follows_the_iotlb(void **state)
{
    (void)state;
    static const struct { unsigned ntlb, sets; } cases[] = {{1, 32}, {64, 32}, {65, 64}, {4096, 2048}, {5000, 4096}};
    for (unsigned i = 0; i < 5; i++) {
        struct fx *f = fx_new(cases[i].ntlb);
        assert_int_equal(f->v.set_shift, 64 - __builtin_ctz(cases[i].sets));
        fx_free(f);
    }
}

/* The ways of the front cache that hold (key, vpn). */
static unsigned copies(struct fx *f, uint64_t key, uint64_t vpn)
{
    unsigned n = 0, ways = 2u << (64 - f->v.set_shift);
    for (unsigned i = 0; i < ways; i++)
        n += (f->v.ways[i].head & SIOV_WAY_HEAD_KEY) == key && f->v.ways[i].vpn == vpn;
    return n;
}

/* The n pages (vpn from 0x100 on) of (sid, pasid) whose first set is set and
   whose second set is not, into vpn[]. */
static void pages_in_set(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t set, uint64_t *vpn, unsigned n)
{
    uint64_t key = siov_xc_key(sid, pasid);
    unsigned k = 0;
    for (uint64_t v = 0x100; k < n; v++)
        if (siov_xc_set_of(f->v.set_shift, key, v) == set && siov_xc_alt_set_of(f->v.set_shift, key, v) != set)
            vpn[k++] = v;
}

/* A refill of a present page rewrites its way: one copy, wherever it went
   (its first set, or its second when the first was full), and another key's
   entry at the same page in the same set stays. */
static void test_refill_rewrites_its_own_way(void **state)
{
    (void)state;
    struct fx *f = fx_new(64);
    uint64_t key = siov_xc_key(0x21, 9), vpn[3];
    pages_in_set(f, 0x21, 9, siov_xc_set_of(f->v.set_shift, key, 0x100), vpn, 3);
    for (unsigned i = 0; i < 3; i++) /* the third takes its second set */
        fill(f, 0x21, 9, vpn[i] << 12, KB4);
    for (unsigned r = 0; r < 2; r++)
        for (unsigned i = 0; i < 3; i++) {
            fill(f, 0x21, 9, vpn[i] << 12, KB4);
            assert_int_equal(copies(f, key, vpn[i]), 1);
            expect_hit(f, 0x21, 9, vpn[i] << 12, KB4);
        }
    /* another PASID whose page vpn[0] has the same first set */
    uint64_t set0 = siov_xc_set_of(f->v.set_shift, key, vpn[0]);
    uint32_t other = 10;
    while (siov_xc_set_of(f->v.set_shift, siov_xc_key(0x21, other), vpn[0]) != set0)
        other++;
    fx_free(f);
    f = fx_new(64);
    fill(f, 0x21, 9, vpn[0] << 12, KB4);
    fill(f, 0x21, other, vpn[0] << 12, KB4);
    expect_hit(f, 0x21, 9, vpn[0] << 12, KB4);
    expect_hit(f, 0x21, other, vpn[0] << 12, KB4);
    fx_free(f);
}

/* Both sets of a page full, of pages whose other sets are free: one of them
   moves to its other set (a cuckoo step) and every page still hits; after
   everything is invalidated, the count of fills that gates moves starts
   again, so a cache filled past 3/4 before still moves. */
static void test_full_sets_make_room_by_moving(void **state)
{
    (void)state;
    for (int refill = 0; refill < 2; refill++) {
        struct fx *f = fx_new(64);
        if (refill) { /* 60 of the 64 ways used, then everything invalidated */
            for (unsigned i = 0; i < 60; i++)
                fill(f, 0x40, 1, (uint64_t)(0x9000 + i) << 12, KB4);
            siov_caches_front_flush(f->c);
        }
        uint64_t key = siov_xc_key(0x21, 9), vpn[3], c = 0x100;
        uint64_t s = siov_xc_set_of(f->v.set_shift, key, c), t = siov_xc_alt_set_of(f->v.set_shift, key, c);
        while (s == t) /* a page with two distinct sets */
            s = siov_xc_set_of(f->v.set_shift, key, ++c), t = siov_xc_alt_set_of(f->v.set_shift, key, c);
        pages_in_set(f, 0x21, 9, s, vpn, 2); /* fill s; their second sets are elsewhere */
        uint64_t tv[2];
        pages_in_set(f, 0x21, 9, t, tv, 2); /* and t */
        for (unsigned i = 0; i < 2; i++) {
            fill(f, 0x21, 9, vpn[i] << 12, KB4);
            fill(f, 0x21, 9, tv[i] << 12, KB4);
        }
        fill(f, 0x21, 9, c << 12, KB4);
        expect_hit(f, 0x21, 9, c << 12, KB4);
        for (unsigned i = 0; i < 2; i++) {
            expect_hit(f, 0x21, 9, vpn[i] << 12, KB4);
            expect_hit(f, 0x21, 9, tv[i] << 12, KB4);
        }
        fx_free(f);
    }
}

/* Four pages whose first sets are one set and whose second sets are one
   other set fill the four ways, so each hits; a fifth takes one of them (no
   room anywhere else to move to). The same once 3/4 of the cache was filled
   (the point where moves stop): free ways are still taken first. */
static void test_four_ways_of_two_sets(void **state)
{
    (void)state;
    for (int busy = 0; busy < 2; busy++) {
        struct fx *f = fx_new(64); /* 32 sets */
        uint64_t key = siov_xc_key(0x21, 9), vpn[5];
        if (busy) { /* as if 48 of the 64 ways had been filled since the last invalidation */
            f->c->xc.used_since = siov_ld(&f->c->st.front[SIOV_XC_INV_ALL]);
            f->c->xc.used = 48;
        }
        unsigned n = 0;
        uint64_t s = 0, t = 0;
        for (uint64_t v = 0x100; n < 5; v++) {
            uint64_t a = siov_xc_set_of(f->v.set_shift, key, v), b = siov_xc_alt_set_of(f->v.set_shift, key, v);
            if (a == b)
                continue;
            if (!n)
                s = a, t = b;
            if (a == s && b == t)
                vpn[n++] = v;
        }
        for (unsigned i = 0; i < 4; i++)
            fill(f, 0x21, 9, vpn[i] << 12, KB4);
        for (unsigned i = 0; i < 4; i++)
            expect_hit(f, 0x21, 9, vpn[i] << 12, KB4);
        fill(f, 0x21, 9, vpn[4] << 12, KB4);
        expect_hit(f, 0x21, 9, vpn[4] << 12, KB4);
        unsigned hits = 0;
        for (unsigned i = 0; i < 4; i++) {
            uint64_t val, sd;
            hits += probe(f, 0x21, 9, vpn[i] << 12, &val, &sd);
        }
        assert_int_equal(hits, 3);
        fx_free(f);
    }
}

/* ------------------------- which way a fill takes when both its sets are full */

/* The sets of the placement scenes, each as the index of its first way (64
   ways, 32 sets): the new page's two, each entry's other set, the blockers'. */
enum { SET_S = 8, SET_T = 18, SET_BLOCK = 60 };
static const unsigned other_set[4] = {24, 28, 40, 50};

/* The next page of (0x21, 9), from *from on, whose first set is a and second b. */
static uint64_t page_with(struct fx *f, uint64_t a, uint64_t b, uint64_t *from)
{
    uint64_t key = siov_xc_key(0x21, 9);
    for (uint64_t v = *from; v < *from + (1u << 24); v++)
        if (siov_xc_set_of(f->v.set_shift, key, v) == a && siov_xc_alt_set_of(f->v.set_shift, key, v) == b) {
            *from = v + 1;
            return v;
        }
    fail_msg("no page with sets %u and %u", (unsigned)a, (unsigned)b);
    return 0;
}

/* The index of the way holding page vpn of (0x21, 9), or -1. */
static int where(struct fx *f, uint64_t vpn)
{
    uint64_t key = siov_xc_key(0x21, 9);
    for (unsigned i = 0; i < 64; i++)
        if ((f->v.ways[i].head & SIOV_WAY_HEAD_KEY) == key && f->v.ways[i].vpn == vpn)
            return (int)i;
    return -1;
}

/* Fill page vpn of (0x21, 9) and move its entry to the free way `to` (in one
   of its two sets), as if the policy had put it there. */
static void put(struct fx *f, uint64_t vpn, unsigned to)
{
    fill(f, 0x21, 9, vpn << 12, KB4);
    int at = where(f, vpn);
    assert_true(at >= 0);
    struct siov_way *src = &f->c->xc.ways[at], *dst = &f->c->xc.ways[to];
    if (src != dst) {
        assert_int_equal(dst->head & SIOV_WAY_HEAD_KEY, 0);
        siov_way_write(dst, siov_xc_key(0x21, 9), vpn, src->val, src->stamp);
        siov_way_clear(src);
    }
}

struct scene {
    struct fx *f;
    uint64_t n, e[4]; /* the page to fill; the entries filling its sets */
    unsigned at[4];   /* where each entry is: the new page's candidate ways in turn */
};

/* Page n's sets S and T full: e0 and e1 in S's ways (S their first set), e2
   and e3 in T's (T their second set). Every entry's other set is full of
   blockers but for entry m's ways that `room` names (bit k: way k free). */
static struct scene scene_new(unsigned m, unsigned room)
{
    struct scene s = {fx_new(64), 0, {0}, {SET_S, SET_S + 1, SET_T, SET_T + 1}};
    uint64_t from = 0x100;
    s.n = page_with(s.f, SET_S, SET_T, &from);
    for (unsigned i = 0; i < 4; i++) {
        s.e[i] = i < 2 ? page_with(s.f, SET_S, other_set[i], &from) : page_with(s.f, other_set[i], SET_T, &from);
        put(s.f, s.e[i], s.at[i]);
        for (unsigned k = 0; k < 2; k++)
            if (i != m || !(room >> k & 1))
                put(s.f, page_with(s.f, other_set[i], SET_BLOCK, &from), other_set[i] + k);
    }
    return s;
}

/* Both sets full: the first of the four candidate ways in turn (S's, then
   T's) whose entry has a free way in its other set gives it up; the entry
   moves once, to the first free way there, and everything still hits.
   Entries in way 1 of their first set and in their second set move too. */
static void test_full_sets_move_the_first_entry_with_room(void **state)
{
    (void)state;
    for (unsigned m = 0; m < 4; m++)
        for (unsigned room = 1; room <= 3; room++) {
            struct scene s = scene_new(m, room);
            fill(s.f, 0x21, 9, s.n << 12, KB4);
            assert_int_equal(where(s.f, s.n), s.at[m]);
            assert_int_equal(copies(s.f, siov_xc_key(0x21, 9), s.e[m]), 1);
            assert_int_equal(where(s.f, s.e[m]), other_set[m] + (room & 1 ? 0 : 1));
            for (unsigned i = 0; i < 4; i++) {
                if (i != m)
                    assert_int_equal(where(s.f, s.e[i]), s.at[i]);
                expect_hit(s.f, 0x21, 9, s.e[i] << 12, KB4);
            }
            expect_hit(s.f, 0x21, 9, s.n << 12, KB4);
            fx_free(s.f);
        }
}

/* No entry can move: fills of new pages take the four candidate ways in
   turn, S's and then T's, and the turn wraps. */
static void test_full_sets_without_room_take_turns(void **state)
{
    (void)state;
    struct scene s = scene_new(4, 0);
    uint64_t from = s.e[3] + 1, page[6];
    unsigned h0 = s.f->c->st.hand;
    for (unsigned k = 0; k < 6; k++) {
        page[k] = k ? page_with(s.f, SET_S, SET_T, &from) : s.n;
        fill(s.f, 0x21, 9, page[k] << 12, KB4);
        assert_int_equal(where(s.f, page[k]), s.at[(h0 + k) % 4]);
        if (k >= 4)
            assert_int_equal(where(s.f, page[k - 4]), -1);
    }
    for (unsigned k = 2; k < 6; k++)
        expect_hit(s.f, 0x21, 9, page[k] << 12, KB4);
    for (unsigned i = 0; i < 4; i++)
        expect_miss(s.f, 0x21, 9, s.e[i] << 12);
    fx_free(s.f);
}

/* Moves are tried while fewer than 3/4 of the ways (48 of 64) were filled
   since everything was last invalidated: at 47 the entry in S's way 0 moves,
   at 48 the fill takes the next way in turn. A count from before the last
   invalidation of everything starts again from 0. */
static void test_moves_stop_at_three_quarters(void **state)
{
    (void)state;
    static const struct { size_t used; bool stale, moves; } cases[] = {
        {47, false, true}, {48, false, false}, {1000, true, true}};
    for (unsigned c = 0; c < 3; c++) {
        struct scene s = scene_new(0, 1);
        uint64_t all = siov_ld(&s.f->c->st.front[SIOV_XC_INV_ALL]);
        s.f->c->xc.used_since = cases[c].stale ? all + 1 : all;
        s.f->c->xc.used = cases[c].used;
        unsigned h0 = s.f->c->st.hand;
        fill(s.f, 0x21, 9, s.n << 12, KB4);
        if (cases[c].moves) {
            assert_int_equal(where(s.f, s.n), s.at[0]);
            assert_int_equal(where(s.f, s.e[0]), other_set[0]);
            assert_int_equal(s.f->c->xc.used, cases[c].stale ? 0 : cases[c].used); /* a move fills no free way */
        } else {
            assert_int_equal(where(s.f, s.n), s.at[h0 % 4]);
            assert_int_equal(where(s.f, s.e[0]), h0 % 4 ? (int)s.at[0] : -1);
            assert_int_equal(s.f->c->xc.used, cases[c].used);
        }
        fx_free(s.f);
    }
}

/* The count of fills into free ways: one per fill, from 0 again after
   everything is invalidated; a refill of a cached page counts nothing. */
static void test_fills_into_free_ways_are_counted(void **state)
{
    (void)state;
    struct fx *f = fx_new(64);
    fill(f, 0x21, 9, 0x1000, KB4);
    fill(f, 0x21, 9, 0x2000, KB4);
    fill(f, 0x21, 9, 0x2000, KB4);
    assert_int_equal(f->c->xc.used, 2);
    siov_caches_front_flush(f->c);
    fill(f, 0x21, 9, 0x3000, KB4);
    assert_int_equal(f->c->xc.used, 1);
    fx_free(f);
}

/* A device-selective clearing reaches every way, the array's first and
   last included, and only the entries of the SIDs it names. */
static void test_sid_clearing_reaches_every_way(void **state)
{
    (void)state;
    struct fx *f = fx_new(64);
    unsigned last = (2u << (64 - f->v.set_shift)) - 2; /* the first way of the last set */
    uint64_t key = siov_xc_key(0x21, 9), vpn[4];
    unsigned n = 0;
    for (uint64_t v = 0x100; n < 4; v++) { /* two pages of set 0, two of the last set */
        uint64_t a = siov_xc_set_of(f->v.set_shift, key, v);
        if ((a == 0 && n < 2) || (a == last && n >= 2))
            vpn[n++] = v;
    }
    for (unsigned i = 0; i < 4; i++) {
        fill(f, 0x21, 9, vpn[i] << 12, KB4);
        fill(f, 0x22, 9, vpn[i] << 12, KB4); /* another function's entries stay */
    }
    assert_int_equal(copies(f, key, vpn[0]), 1);
    assert_int_equal(f->v.ways[0].vpn, vpn[0]);
    assert_int_equal(f->v.ways[last + 1].vpn, vpn[3]);
    siov_xc_inv_sids(f->c, 0x21, 0);
    for (unsigned i = 0; i < 4; i++) {
        expect_miss(f, 0x21, 9, vpn[i] << 12);
        expect_hit(f, 0x22, 9, vpn[i] << 12, KB4);
    }
    fx_free(f);
}

static void test_no_front_cache_without_iotlb(void **state)
{
    (void)state;
    struct fx *f = fx_new(0);
    assert_null(f->v.ways);
    fill(f, 0x10, 3, 0x3000, KB4);
    expect_miss(f, 0x10, 3, 0x3000);
    fx_free(f);
}

/* ---------------------------------------------- through siov_translate */
#define SID SIOV_SID(0, 3, 0)
#define PASID 0x21u
#define DID 0x44

/* A unit with a first-level domain at PASID: npages read-write user pages. */
static struct tl *fl_unit(unsigned npages, uint64_t *leaf0)
{
    struct tl *t = tl_new(NULL);
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t dir = tl_sm_context_default(t, SID, 0); /* RID_PASID 0, not PASID (SCT.9) */
    uint64_t flpt = tl_page(t), pe[8];
    for (unsigned i = 0; i < npages; i++) {
        uint64_t leaf = tl_map(t, flpt, 4, true, (uint64_t)i * KB4, TL_DATA_BASE + (uint64_t)i * KB4, KB4,
                               TL_FL_URW, TL_FL_URW);
        if (i == 0)
            *leaf0 = leaf;
    }
    tl_pe_fl(pe, DID, flpt, 4);
    tl_pasid_entry(t, dir, PASID, pe);
    return t;
}

/* A unit with one first-level page (leaf flags) at PASID, pe2 OR-ed into
   the PASID-table entry's third word (SRE, ERE). */
static struct tl *fl_unit_page(uint64_t iova, uint64_t pa, uint64_t size, uint64_t leaf, uint64_t pe2)
{
    struct tl *t = tl_new(NULL);
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t dir = tl_sm_context_default(t, SID, 0); /* RID_PASID 0, not PASID (SCT.9) */
    uint64_t flpt = tl_page(t), pe[8];
    tl_map(t, flpt, 4, true, iova, pa, size, leaf, TL_FL_URW);
    tl_pe_fl(pe, DID, flpt, 4);
    pe[2] |= pe2;
    tl_pasid_entry(t, dir, PASID, pe);
    return t;
}

/* A read fills the front cache with a clean page; the first write still
   walks (D must be set in guest memory), and only then writes hit. */
static void test_write_to_clean_page_walks_and_sets_d(void **state)
{
    (void)state;
    uint64_t leaf;
    struct tl *t = fl_unit(1, &leaf);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x10, R, &x), SIOV_OK);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x10, R, &x), SIOV_OK);
    struct siov_stats s0 = tl_stats(t);
    assert_int_equal(s0.iotlb_hits, 1);
    assert_false(tl_r64(t, leaf) & SIOV_FL_D);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x18, W, &x), SIOV_OK);
    assert_int_equal(x.addr, TL_DATA_BASE + 0x18);
    assert_true(tl_r64(t, leaf) & SIOV_FL_D);
    struct siov_stats s1 = tl_stats(t);
    assert_int_equal(s1.walks, s0.walks + 1); /* the write walked */
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x20, W, &x), SIOV_OK);
    struct siov_stats s2 = tl_stats(t);
    assert_int_equal(s2.walks, s1.walks);
    assert_int_equal(s2.iotlb_hits, s1.iotlb_hits + 1);
    tl_free(t);
}

/* A cached grant never answers a request the walk would refuse: a write to
   a read-only page, an execute request with ERE=0, a privileged request with
   SRE=0. Each is walked and reported; reads keep hitting. */
static void test_hit_never_grants_more(void **state)
{
    (void)state;
    uint64_t leaf;
    struct tl *t = fl_unit(1, &leaf);
    tl_w64(t, leaf, tl_r64(t, leaf) & ~SIOV_FL_RW); /* read-only before the first walk */
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0, R, &x), SIOV_OK);
    assert_int_equal(x.perm, R);
    const struct {
        unsigned access;
        siov_fault want;
    } refused[] = {{W, SIOV_FAULT_SGN_6}, {R | X, SIOV_FAULT_SPT_5}, {R | SIOV_ACCESS_PRIV, SIOV_FAULT_SPT_6}};
    for (unsigned i = 0; i < 3; i++) {
        struct siov_stats s0 = tl_stats(t);
        assert_int_equal(siov_translate(t->iommu, SID, PASID, 0, refused[i].access, &x), refused[i].want);
        assert_int_equal(tl_fault_records(t), i + 1); /* reported, not hidden by the hit */
        struct siov_stats s1 = tl_stats(t);
        assert_int_equal(s1.iotlb_hits, s0.iotlb_hits); /* the walk answered */
        assert_int_equal(siov_translate(t->iommu, SID, PASID, 0, R, &x), SIOV_OK); /* reads still hit */
        assert_int_equal(tl_stats(t).iotlb_hits, s1.iotlb_hits + 1);
    }
    tl_free(t);
}

/* PASID 0 is a PASID (the requests without one use RID_PASID 5 here): a
   batch's hit for it still needs what a PASID request needs, so an execute
   request with ERE=0 is walked and refused, not answered by the read's entry. */
static void test_batch_pasid_0_keeps_exec_rights(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t dir = tl_sm_context_default(t, SID, 5), flpt = tl_page(t), pe[8];
    tl_map(t, flpt, 4, true, 0, TL_DATA_BASE, KB4, TL_FL_URW, TL_FL_URW);
    tl_pe_fl(pe, DID, flpt, 4);
    tl_pasid_entry(t, dir, 0, pe);
    struct siov_xlate_req rq[2] = {{SID, 0, 0x40, R}, {SID, 0, 0x40, R | X}};
    struct siov_xlate_res rs[2];
    assert_int_equal(siov_translate_batch(t->iommu, 1, rq, rs), 0); /* the walk fills the front cache */
    assert_int_equal(rs[0].fault, SIOV_OK);
    assert_int_equal(siov_translate_batch(t->iommu, 2, rq, rs), 0);
    assert_int_equal(rs[0].fault, SIOV_OK);
    assert_int_equal(rs[0].xlate.addr, TL_DATA_BASE + 0x40);
    assert_int_equal(rs[1].fault, SIOV_FAULT_SPT_5);
    assert_int_equal(tl_fault_records(t), 1);
    tl_free(t);
}

/* Privileged and user requests read different grants of one entry: with
   SRE=1, a supervisor page's privileged hits never serve a user request. */
static void test_priv_and_user_grants_apart(void **state)
{
    (void)state;
    for (int dirty = 1; dirty >= 0; dirty--) { /* a written page, and a clean one filled by reads */
        uint64_t leaf = SIOV_FL_P | SIOV_FL_RW | SIOV_FL_A | (dirty ? SIOV_FL_D : 0);
        unsigned access = dirty ? R | W | SIOV_ACCESS_PRIV : R | SIOV_ACCESS_PRIV;
        struct tl *t = fl_unit_page(0, TL_DATA_BASE, KB4, leaf, SIOV_PTE2_SRE);
        struct siov_xlate x;
        for (int i = 0; i < 2; i++) { /* a walk, then a front-cache hit */
            assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x40, access, &x), SIOV_OK);
            assert_int_equal(x.addr, TL_DATA_BASE + 0x40);
            assert_int_equal(x.perm, R | W);
        }
        struct siov_stats s0 = tl_stats(t);
        assert_int_equal(s0.walks, 1);
        assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x40, R, &x), SIOV_FAULT_SGN_2);
        assert_int_equal(tl_stats(t).walks, s0.walks + 1);
        tl_free(t);
    }
}

/* A 2 MiB first-level page over the interrupt range: its walk result is an
   IOTLB entry (the page translates), but requests into the range fault every
   time and only the answers given outside it enter the front cache. */
static void test_interrupt_range_page_cached_answers_not(void **state)
{
    (void)state;
    struct tl *t = fl_unit_page(0x40000000ull, 0xFEE00000ull, MB2, TL_FL_URW, 0);
    struct siov_xlate x;
    struct siov_stats s0 = tl_stats(t);
    for (int i = 0; i < 2; i++)
        assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x40000000ull + 0x1000, R, &x), SIOV_FAULT_SGN_8);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x40000000ull + 0x100000, R, &x), SIOV_OK);
    assert_int_equal(x.addr, 0xFEF00000ull);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x40000000ull + 0x100000, R, &x), SIOV_OK);
    struct siov_stats s1 = tl_stats(t);
    assert_int_equal(s1.walks - s0.walks, 1);             /* one walk filled the IOTLB */
    assert_int_equal(s1.iotlb_hits - s0.iotlb_hits, 3);   /* the second fault, the first OK, the front hit */
    assert_int_equal(s1.faults - s0.faults, 2);
    assert_int_equal(tl_fault_records(t), 2);             /* each fault is recorded */
    tl_free(t);
}

/* With the stale checker on, front-cache answers are checked as well: a page
   remapped in guest memory without its invalidation is reported from the
   front cache's answer, which is counted as a hit; a correct one is not. */
static void test_stale_checker_sees_front_cache_answers(void **state)
{
    (void)state;
    struct tl_stale_log log = {0};
    struct siov_iommu_config cfg = tl_config_stale(&log);
    struct tl *t = tl_new(&cfg);
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t dir = tl_sm_context_default(t, SID, 0), flpt = tl_page(t), pe[8];
    uint64_t leaf = tl_map(t, flpt, 4, true, 0, TL_DATA_BASE, KB4, TL_FL_URW | SIOV_FL_A | SIOV_FL_D, TL_FL_URW);
    tl_pe_fl(pe, DID, flpt, 4);
    tl_pasid_entry(t, dir, PASID, pe);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x10, R, &x), SIOV_OK); /* walks, fills */
    struct siov_stats s0 = tl_stats(t);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x10, R, &x), SIOV_OK); /* a front-cache hit */
    struct siov_stats s1 = tl_stats(t);
    assert_int_equal(s1.iotlb_hits, s0.iotlb_hits + 1);
    assert_int_equal(s1.pasid_cache_hits, s0.pasid_cache_hits); /* answered before any PASID-cache lookup */
    assert_int_equal(s1.walks, s0.walks + 1); /* the checker's own uncached walk */
    assert_int_equal(log.n, 0);
    tl_w64(t, leaf, (TL_DATA_BASE + KB4) | TL_FL_URW | SIOV_FL_A | SIOV_FL_D); /* no invalidation */
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x10, R, &x), SIOV_OK);
    assert_int_equal(x.addr, TL_DATA_BASE + 0x10); /* the cached answer, stale */
    struct siov_stats s2 = tl_stats(t);
    assert_int_equal(s2.iotlb_hits, s1.iotlb_hits + 1);
    assert_int_equal(s2.pasid_cache_hits, s1.pasid_cache_hits);
    assert_int_equal(s2.stale_hits, s1.stale_hits + 1);
    assert_int_equal(log.n, 1);
    assert_int_equal(log.last.cached.addr, TL_DATA_BASE + 0x10);
    assert_int_equal(log.last.fresh.addr, TL_DATA_BASE + KB4 + 0x10);
    assert_true(log.last.caches & SIOV_CACHE_IOTLB); /* the IOTLB behind it holds it too */
    tl_free(t);
}

struct counter_run {
    struct siov_iommu *iommu;
    unsigned iters;
    unsigned bad;
};

static void *hit_many(void *arg)
{
    struct counter_run *r = arg;
    struct siov_xlate x;
    for (unsigned i = 0; i < r->iters; i++)
        if (siov_translate(r->iommu, SID, PASID, (uint64_t)(i % 8) * KB4, R, &x) != SIOV_OK ||
            x.addr != TL_DATA_BASE + (uint64_t)(i % 8) * KB4)
            __atomic_fetch_add(&r->bad, 1, __ATOMIC_RELAXED);
    return NULL;
}

/* Hit counters are sharded per thread; the totals stay exact. */
static void test_hit_counts_exact_from_threads(void **state)
{
    (void)state;
    enum { THREADS = 40, ITERS = 20000 }; /* more threads than shards: some share one */
    uint64_t leaf;
    struct tl *t = fl_unit(8, &leaf);
    struct counter_run run = {t->iommu, ITERS, 0};
    hit_many(&run); /* warm: every page in the front cache */
    struct siov_stats s0 = tl_stats(t);
    pthread_t th[THREADS];
    for (unsigned i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&th[i], NULL, hit_many, &run), 0);
    for (unsigned i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
    for (unsigned i = 0; i < 8; i++) { /* one at a time: new threads reuse an owner's thread pointer */
        assert_int_equal(pthread_create(&th[0], NULL, hit_many, &run), 0);
        pthread_join(th[0], NULL);
    }
    struct siov_stats s1 = tl_stats(t);
    assert_int_equal(run.bad, 0);
    assert_int_equal(s1.translations - s0.translations, (uint64_t)(THREADS + 8) * ITERS);
    assert_int_equal(s1.iotlb_hits - s0.iotlb_hits, (uint64_t)(THREADS + 8) * ITERS);
    assert_int_equal(s1.walks, s0.walks); /* nothing left the caches */
    tl_free(t);
}

/* The shards a thread owns, as a bit set. */
static unsigned owned_shards(const struct siov_iommu *u, uint64_t *owner_of)
{
    unsigned set = 0;
    for (unsigned i = 0; i < SIOV_STAT_SHARDS; i++)
        if (u->shard[i].owned) {
            set |= 1u << i;
            *owner_of = u->shard[i].owner;
        }
    return set;
}

/* A thread counts in the first shard it can own: when another thread holds
   it, the next one; when every shard is held, atomically, and the totals stay
   exact either way. */
static void test_hit_counting_probes_past_taken_shards(void **state)
{
    (void)state;
    enum { ITERS = 100 };
    const uint64_t other = 0x5EEDull << 20; /* an id no live thread has */
    uint64_t leaf, me = 0;
    struct tl *t = fl_unit(8, &leaf);
    struct siov_iommu *u = t->iommu;
    struct counter_run run = {u, ITERS, 0};
    hit_many(&run); /* warm, and claims this thread's first shard */
    memset(u->shard, 0, sizeof(u->shard));
    struct siov_stats s0 = tl_stats(t);
    hit_many(&run);
    unsigned mine = owned_shards(u, &me);
    assert_int_equal(__builtin_popcount(mine), 1); /* one shard, all the hits */
    unsigned first = (unsigned)__builtin_ctz(mine);
    assert_int_equal(u->shard[first].owned, ITERS);
    memset(u->shard, 0, sizeof(u->shard));
    u->shard[first].owner = other; /* taken: the next one is claimed */
    hit_many(&run);
    assert_int_equal(owned_shards(u, &me), 1u << ((first + 1) % SIOV_STAT_SHARDS));
    assert_true(me && me != other);
    for (unsigned i = 0; i < SIOV_STAT_SHARDS; i++) /* all taken: atomic adds */
        u->shard[i] = (struct siov_stat_shard){.owner = other + i};
    hit_many(&run);
    assert_int_equal(owned_shards(u, &me), 0);
    uint64_t shared = 0;
    for (unsigned i = 0; i < SIOV_STAT_SHARDS; i++)
        shared += u->shard[i].shared;
    assert_int_equal(shared, ITERS);
    assert_int_equal(run.bad, 0);
    assert_int_equal(tl_stats(t).iotlb_hits - s0.iotlb_hits, (uint64_t)ITERS); /* only the last run's left */
    tl_free(t);
}

/* The unit's statistics add up every shard, the first and the last too. */
static void test_stats_add_every_shard(void **state)
{
    (void)state;
    uint64_t leaf;
    struct tl *t = fl_unit(8, &leaf);
    struct siov_iommu *u = t->iommu;
    struct siov_stats s0 = tl_stats(t);
    for (unsigned i = 0; i < SIOV_STAT_SHARDS; i++) {
        u->shard[i].owned += 1;
        u->shard[i].shared += 2;
        u->shard[i].hot[SIOV_HOT_walks] += 4;
    }
    struct siov_stats s1 = tl_stats(t);
    assert_int_equal(s1.translations - s0.translations, 3 * SIOV_STAT_SHARDS);
    assert_int_equal(s1.iotlb_hits - s0.iotlb_hits, 3 * SIOV_STAT_SHARDS);
    assert_int_equal(s1.walks - s0.walks, 4 * SIOV_STAT_SHARDS);
    tl_free(t);
}

/* Requests that miss count in the unit's own statistics when every shard
   is taken by other threads, and the totals still have them. */
static void test_slow_path_counts_when_every_shard_is_taken(void **state)
{
    (void)state;
    enum { ITERS = 50 };
    uint64_t leaf;
    struct tl *t = fl_unit(8, &leaf);
    struct siov_iommu *u = t->iommu;
    for (unsigned i = 0; i < SIOV_STAT_SHARDS; i++)
        u->shard[i] = (struct siov_stat_shard){.owner = (0x5EEDull << 20) + i};
    struct siov_stats s0 = tl_stats(t);
    struct siov_xlate x;
    for (unsigned i = 0; i < ITERS; i++) /* past the 8 mapped pages: a walk and a fault each */
        assert_int_equal(siov_translate(u, SID, PASID, (64 + (uint64_t)i) * KB4, R, &x), SIOV_FAULT_SFL_2);
    struct siov_stats s1 = tl_stats(t);
    assert_int_equal(s1.translations - s0.translations, ITERS);
    assert_int_equal(s1.walks - s0.walks, ITERS);
    assert_int_equal(s1.faults - s0.faults, ITERS);
    for (unsigned i = 0; i < SIOV_STAT_SHARDS; i++)
        assert_int_equal(u->shard[i].hot[SIOV_HOT_translations], 0);
    tl_free(t);
}

/* The totals read the shards and nothing past them: a unit whose first
   buses have ports (the pointers after the shards) counts nothing yet. */
static void test_fresh_totals_are_zero_with_ports(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    static const struct siov_device_ops ops = {NULL, NULL};
    for (unsigned bus = 0; bus < 4; bus++)
        assert_int_equal(siov_device_port(t->iommu, SIOV_SID(bus, 1, 0), &ops, NULL), 0);
    struct siov_stats s = tl_stats(t), zero;
    memset(&zero, 0, sizeof(zero));
    assert_memory_equal(&s, &zero, sizeof(s));
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fill_then_hit_every_size),
        cmocka_unit_test(test_keys_apart),
        cmocka_unit_test(test_invalidations_reach_only_their_entries),
        cmocka_unit_test(test_fill_from_an_older_epoch_is_dropped),
        cmocka_unit_test(test_fill_while_locked_is_skipped),
        cmocka_unit_test(test_seqway_write_read_clear),
        cmocka_unit_test(test_changing_way_is_a_miss),
        cmocka_unit_test(test_no_false_hits),
        cmocka_unit_test(test_colliding_pages_take_their_second_set),
        cmocka_unit_test(test_random_pages_within_capacity_all_hit),
        cmocka_unit_test(test_size_follows_the_iotlb),
        cmocka_unit_test(test_refill_rewrites_its_own_way),
        cmocka_unit_test(test_full_sets_make_room_by_moving),
        cmocka_unit_test(test_four_ways_of_two_sets),
        cmocka_unit_test(test_full_sets_move_the_first_entry_with_room),
        cmocka_unit_test(test_full_sets_without_room_take_turns),
        cmocka_unit_test(test_moves_stop_at_three_quarters),
        cmocka_unit_test(test_fills_into_free_ways_are_counted),
        cmocka_unit_test(test_sid_clearing_reaches_every_way),
        cmocka_unit_test(test_no_front_cache_without_iotlb),
        cmocka_unit_test(test_write_to_clean_page_walks_and_sets_d),
        cmocka_unit_test(test_hit_never_grants_more),
        cmocka_unit_test(test_priv_and_user_grants_apart),
        cmocka_unit_test(test_interrupt_range_page_cached_answers_not),
        cmocka_unit_test(test_stale_checker_sees_front_cache_answers),
        cmocka_unit_test(test_hit_counts_exact_from_threads),
        cmocka_unit_test(test_batch_pasid_0_keeps_exec_rights),
        cmocka_unit_test(test_slow_path_counts_when_every_shard_is_taken),
        cmocka_unit_test(test_fresh_totals_are_zero_with_ports),
        cmocka_unit_test(test_hit_counting_probes_past_taken_shards),
        cmocka_unit_test(test_stats_add_every_shard),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

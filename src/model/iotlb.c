/* The remapping unit's caches: context cache, PASID cache and IOTLB.
 *
 * Concurrency. Lookups take no lock. Every change (fill, invalidation) holds
 * c->wlock. Each cache way carries a sequence counter (a seqlock): a writer
 * makes it odd, stores the payload (release stores, so the odd counter is
 * visible first), and makes it even again (release); a reader loads the
 * counter, the payload and the counter again, all acquire loads (plain loads on
 * x86; no fences, which ThreadSanitizer cannot model), and treats any change as
 * a miss. Fills come from
 * translating threads and only try the lock: a skipped fill is always correct.
 *
 * Invalidation by stamps. c->clock counts invalidations. A translation reads
 * the clock (its epoch) before its first lookup; what it fills carries that
 * epoch as its stamp, and a fill whose epoch is no longer the clock (an
 * invalidation completed while it walked) is dropped. Invalidating everything,
 * a DID or a (DID, PASID) stores the new clock value into that scope's
 * "invalidated at" word: an entry is valid only while its stamp is at least
 * every such word that covers it. So those invalidations cost O(1), and a
 * translation that starts after an invalidation never hits what it removed.
 * Page- and device-selective invalidations clear the ways they name.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL /* cache lookups hash 8-16 bytes: inline XXH3 */
#include <xxhash.h>

#include "front_cache.h"
#include "internal.h"

/* ------------------------------------------------------------ geometry */
#define WAYS_MAX 4           /* associativity of every cache */
#define CC_ENTRIES 1024      /* context cache: entries */
#define PC_ENTRIES 4096      /* PASID cache: entries */
#define DP_SLOTS 4096        /* (DID, PASID) scopes, hashed (a power of two) */
#define DP_UNTAGGED 0xFFFFFFFEu /* the scope "pasid" of second-level-only IOTLB entries */
#define SC_WORDS 7           /* payload words of a context/PASID-cache way */

enum { SZ_4K, SZ_2M, SZ_1G, SZ_COUNT };
static const unsigned size_shift[SZ_COUNT] = {12, 21, 30};
/* Bits of the per-scope page-size hint: PASID-tagged and untagged entries apart,
   so that a PASID-selective invalidation can forget only the tagged ones. */
#define SIZES_TAGGED(sz) (1u << (sz))
#define SIZES_UNTAGGED(sz) (1u << (4 + (sz)))
#define SIZES_ALL_TAGGED 0x7u

/* IOTLB way head: sequence counter and tag. The tag is the spec's IOTLB tag
   (10.1): DID, PASID for first-level/nested/pass-through entries, size. */
#define HEAD_SEQ SIOV_BITS(63, 40)
#define HEAD_TAG SIOV_BITS(39, 0)
#define TAG_DID SIOV_BITS(15, 0)
#define TAG_PASID SIOV_BITS(36, 16)  /* 21 bits: PASID, or bit 20 for "no PASID" (legacy) */
#define TAG_PASID_NONE (1u << 20)
#define TAG_TAGGED SIOV_BIT(37)
#define TAG_SIZE SIOV_BITS(39, 38)   /* SZ_* + 1; 0: an empty way */
/* IOTLB way value: the page base and what the walk granted. */
#define VAL_PAGE SIOV_BITS(63, 12)
#define VAL_PERM_USER SIOV_BITS(2, 0)
#define VAL_PERM_SUPER SIOV_BITS(5, 3)
#define VAL_DIRTY SIOV_BIT(6)
#define VAL_KIND SIOV_BITS(9, 7)     /* the PGTT the entry was walked with */
#define PERM_BITS (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC)

#define SC_KEY_VALID SIOV_BIT(63)
#define SEED_SET 0x53494F56544C4231ull  /* arbitrary, fixed: runs are reproducible */
#define SEED_DP 0x53494F5644505331ull

/* ------------------------------------------------------------ the caches */
struct tlb_way {        /* 32 bytes; every word accessed atomically */
    uint64_t head;      /* HEAD_SEQ | HEAD_TAG */
    uint64_t vpn;       /* input address >> size shift */
    uint64_t val;       /* VAL_* */
    uint64_t stamp;     /* epoch of the translation that filled it */
};

struct sc_way {         /* a context- or PASID-cache way */
    uint64_t seq;
    uint64_t key;       /* SC_KEY_VALID | key; 0: empty */
    uint64_t stamp;
    uint64_t data[SC_WORDS];
};

struct geometry {
    unsigned nsets, nways;
};

struct did_stamps {     /* "invalidated at" words of one DID */
    uint64_t tlb_all;   /* IOTLB: every entry of the DID */
    uint64_t tlb_tagged; /* IOTLB: PASID-tagged entries of the DID */
    uint64_t pc;        /* PASID cache */
};

struct siov_caches {
    pthread_mutex_t wlock;       /* serializes every change */
    uint64_t clock;              /* invalidations so far + 1 */
    uint64_t tlb_global, cc_global, pc_global;
    struct did_stamps *did;      /* indexed by DID & did_mask */
    unsigned did_mask;
    uint64_t tlb_dp[DP_SLOTS];   /* IOTLB, per (DID, PASID) scope */
    uint64_t pc_dp[DP_SLOTS];    /* PASID cache, per (DID, PASID) scope */
    uint8_t sizes[DP_SLOTS];     /* page sizes filled per scope (a hint) */
    struct tlb_way *tlb;
    struct geometry tlb_geo;
    struct sc_way *cc, *pc;
    struct geometry cc_geo, pc_geo;
    struct siov_xc_way *xc;      /* front cache (front_cache.h) */
    unsigned xc_sets;            /* a power of two */
    unsigned xc_shift;           /* 64 - log2(xc_sets) */
    unsigned hand;               /* round-robin eviction (writer only) */
    uint64_t *evictions;         /* the unit's counter, or NULL */
};

_Static_assert(sizeof(struct siov_ctx_ent) <= SC_WORDS * 8, "context entry fits a way");
_Static_assert(sizeof(struct siov_pasid_ent) <= SC_WORDS * 8, "PASID entry fits a way");

/* ------------------------------------------------------------ atomics */
static inline uint64_t ld(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint64_t ld_acq(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void st(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void st_rel(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline unsigned ld8(const uint8_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void st8(uint8_t *p, unsigned v) { __atomic_store_n(p, (uint8_t)v, __ATOMIC_RELAXED); }

/* ------------------------------------------------------------ hashing */
/* Set of a key: XXH3 reduced to [0, nsets) by multiply-shift. */
static inline unsigned set_of(const struct geometry *g, uint64_t k0, uint64_t k1)
{
    uint64_t k[2] = {k0, k1};
    uint64_t h = XXH3_64bits_withSeed(k, sizeof(k), SEED_SET);
    return (unsigned)(((h >> 32) * g->nsets) >> 32);
}

/* The (DID, PASID) scope slot of PASID-granular invalidation stamps and hints. */
static inline unsigned dp_slot(uint16_t did, uint32_t pasid)
{
    uint64_t k = (uint64_t)did << 32 | pasid;
    return (unsigned)(XXH3_64bits_withSeed(&k, sizeof(k), SEED_DP) & (DP_SLOTS - 1));
}

/* Geometry for about n entries: WAYS_MAX-way sets when n allows, never more than n. */
static struct geometry geometry_for(unsigned n)
{
    unsigned ways = WAYS_MAX;
    while (ways > 1 && n % ways)
        ways--;
    return (struct geometry){n / ways, ways};
}

/* ------------------------------------------------------------ lifecycle */
struct siov_caches *siov_caches_new(const struct siov_iommu_config *cfg)
{
    struct siov_caches *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    unsigned dbits = cfg && cfg->domain_bits >= 4 && cfg->domain_bits <= 16 ? cfg->domain_bits : 16;
    c->did_mask = (1u << dbits) - 1;
    c->clock = 1;
    c->tlb_geo = geometry_for(cfg ? cfg->iotlb_entries : 0);
    c->cc_geo = geometry_for(CC_ENTRIES);
    c->pc_geo = geometry_for(PC_ENTRIES);
    c->did = calloc((size_t)c->did_mask + 1, sizeof(*c->did));
    c->cc = calloc(CC_ENTRIES, sizeof(*c->cc));
    c->pc = calloc(PC_ENTRIES, sizeof(*c->pc));
    size_t ntlb = (size_t)c->tlb_geo.nsets * c->tlb_geo.nways;
    c->tlb = ntlb ? calloc(ntlb, sizeof(*c->tlb)) : NULL;
    /* the front cache holds what the IOTLB holds, at 4 KiB granularity: twice its
       entries (at least 64), so hot pages rarely collide */
    c->xc_sets = 32;
    c->xc_shift = 64 - 5;
    while (ntlb && (size_t)c->xc_sets * SIOV_XC_WAYS < 2 * ntlb) {
        c->xc_sets *= 2;
        c->xc_shift--;
    }
    size_t xc_bytes = (size_t)c->xc_sets * SIOV_XC_WAYS * sizeof(*c->xc);
    c->xc = ntlb ? aligned_alloc(64, xc_bytes) : NULL; /* a set per line */
    if (c->xc)
        memset(c->xc, 0, xc_bytes);
    if (!c->did || !c->cc || !c->pc || (ntlb && (!c->tlb || !c->xc)) || pthread_mutex_init(&c->wlock, NULL)) {
        free(c->xc);
        free(c->did);
        free(c->cc);
        free(c->pc);
        free(c->tlb);
        free(c);
        return NULL;
    }
    return c;
}

void siov_caches_free(struct siov_caches *c)
{
    if (!c)
        return;
    pthread_mutex_destroy(&c->wlock);
    free(c->did);
    free(c->cc);
    free(c->pc);
    free(c->tlb);
    free(c->xc);
    free(c);
}

void siov_caches_set_stats(struct siov_caches *c, struct siov_stats *stats)
{
    c->evictions = stats ? &stats->iotlb_evictions : NULL;
}

uint64_t siov_caches_epoch(const struct siov_caches *c)
{
    return ld_acq(&c->clock);
}

struct siov_xc_view siov_caches_xc_view(const struct siov_caches *c)
{
    return (struct siov_xc_view){c->xc, c->xc_shift, &c->clock};
}

/* Start an invalidation: the writer lock, and the stamp it publishes. */
static uint64_t inv_begin(struct siov_caches *c)
{
    pthread_mutex_lock(&c->wlock);
    return ld(&c->clock) + 1;
}

/* Finish it: later epochs see it; fills from earlier epochs are dropped. */
static void inv_end(struct siov_caches *c, uint64_t t)
{
    st_rel(&c->clock, t);
    pthread_mutex_unlock(&c->wlock);
}

static void count_eviction(struct siov_caches *c)
{
    if (c->evictions)
        siov_stat_inc(c->evictions);
}

/* ------------------------------------------- context and PASID caches */
/* Read way w if it holds key: payload to data, stamp to *stamp. */
static bool sc_read(const struct sc_way *w, uint64_t key, uint64_t *stamp, uint64_t data[SC_WORDS])
{
    uint64_t s1 = ld_acq(&w->seq);
    if ((s1 & 1) || ld_acq(&w->key) != key)
        return false;
    for (unsigned i = 0; i < SC_WORDS; i++)
        data[i] = ld_acq(&w->data[i]);
    *stamp = ld_acq(&w->stamp);
    return ld(&w->seq) == s1;
}

/* Probe the set of key; true with the payload of a stable way holding it. */
static bool sc_probe(const struct sc_way *ways, const struct geometry *g, uint64_t key, uint64_t *stamp,
                     uint64_t data[SC_WORDS])
{
    const struct sc_way *set = &ways[(size_t)set_of(g, key, 0) * g->nways];
    for (unsigned i = 0; i < g->nways; i++)
        if (sc_read(&set[i], key, stamp, data))
            return true;
    return false;
}

/* Writer: replace way w's contents (key 0 empties it). */
static void sc_write(struct sc_way *w, uint64_t key, uint64_t stamp, const uint64_t data[SC_WORDS])
{
    uint64_t seq = ld(&w->seq);
    st(&w->seq, seq + 1);
    st_rel(&w->key, key);
    st_rel(&w->stamp, stamp);
    for (unsigned i = 0; data && i < SC_WORDS; i++)
        st_rel(&w->data[i], data[i]);
    st_rel(&w->seq, seq + 2);
}

typedef bool (*sc_alive_fn)(const struct siov_caches *c, const struct sc_way *w);

/* Writer: put key into its set: its own way, an empty or dead one, or a victim. */
static void sc_insert(struct siov_caches *c, struct sc_way *ways, const struct geometry *g, uint64_t key,
                      uint64_t stamp, const uint64_t data[SC_WORDS], sc_alive_fn alive)
{
    struct sc_way *set = &ways[(size_t)set_of(g, key, 0) * g->nways];
    struct sc_way *victim = NULL;
    for (unsigned i = 0; i < g->nways; i++) {
        uint64_t k = ld(&set[i].key);
        if (k == key) {
            victim = &set[i];
            break;
        }
        if (!victim && (!k || !alive(c, &set[i])))
            victim = &set[i];
    }
    if (!victim)
        victim = &set[c->hand++ % g->nways];
    sc_write(victim, key, stamp, data);
}

/* Writer: empty the way holding key, if any. */
static void sc_remove(struct sc_way *ways, const struct geometry *g, uint64_t key)
{
    struct sc_way *set = &ways[(size_t)set_of(g, key, 0) * g->nways];
    for (unsigned i = 0; i < g->nways; i++)
        if (ld(&set[i].key) == key)
            sc_write(&set[i], 0, 0, NULL);
}

static inline uint64_t cc_key(siov_sid sid)
{
    return SC_KEY_VALID | sid;
}

static inline uint64_t pc_key(siov_sid sid, uint32_t pasid)
{
    return SC_KEY_VALID | (uint64_t)sid << 32 | pasid;
}

static bool cc_valid(const struct siov_caches *c, uint64_t stamp)
{
    return stamp >= ld_acq(&c->cc_global);
}

static bool cc_alive(const struct siov_caches *c, const struct sc_way *w)
{
    return cc_valid(c, ld(&w->stamp));
}

static bool pc_valid(const struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t stamp)
{
    return stamp >= ld_acq(&c->pc_global) && stamp >= ld_acq(&c->did[pe->did & c->did_mask].pc) &&
           stamp >= ld_acq(&c->pc_dp[dp_slot(pe->did, pe->pasid)]);
}

static bool pc_alive(const struct siov_caches *c, const struct sc_way *w)
{
    struct siov_pasid_ent pe;
    memcpy(&pe, w->data, sizeof(pe)); /* writer: the way is stable */
    return pc_valid(c, &pe, ld(&w->stamp));
}

bool siov_cc_lookup(struct siov_caches *c, siov_sid sid, struct siov_ctx_ent *ce)
{
    uint64_t data[SC_WORDS], stamp;
    if (!sc_probe(c->cc, &c->cc_geo, cc_key(sid), &stamp, data) || !cc_valid(c, stamp))
        return false;
    memcpy(ce, data, sizeof(*ce));
    return true;
}

void siov_cc_fill_epoch(struct siov_caches *c, uint64_t epoch, siov_sid sid, const struct siov_ctx_ent *ce)
{
    uint64_t data[SC_WORDS] = {0};
    memcpy(data, ce, sizeof(*ce));
    if (pthread_mutex_trylock(&c->wlock))
        return;
    if (ld(&c->clock) == epoch)
        sc_insert(c, c->cc, &c->cc_geo, cc_key(sid), epoch, data, cc_alive);
    pthread_mutex_unlock(&c->wlock);
}

void siov_cc_fill(struct siov_caches *c, siov_sid sid, const struct siov_ctx_ent *ce)
{
    siov_cc_fill_epoch(c, siov_caches_epoch(c), sid, ce);
}

bool siov_pc_lookup(struct siov_caches *c, siov_sid sid, uint32_t pasid, struct siov_pasid_ent *pe)
{
    uint64_t data[SC_WORDS], stamp;
    struct siov_pasid_ent tmp;
    if (!sc_probe(c->pc, &c->pc_geo, pc_key(sid, pasid), &stamp, data))
        return false;
    memcpy(&tmp, data, sizeof(tmp));
    if (!pc_valid(c, &tmp, stamp))
        return false;
    *pe = tmp;
    return true;
}

void siov_pc_fill_epoch(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid,
                        const struct siov_pasid_ent *pe)
{
    uint64_t data[SC_WORDS] = {0};
    memcpy(data, pe, sizeof(*pe));
    if (pthread_mutex_trylock(&c->wlock))
        return;
    if (ld(&c->clock) == epoch)
        sc_insert(c, c->pc, &c->pc_geo, pc_key(sid, pasid), epoch, data, pc_alive);
    pthread_mutex_unlock(&c->wlock);
}

void siov_pc_fill(struct siov_caches *c, siov_sid sid, uint32_t pasid, const struct siov_pasid_ent *pe)
{
    siov_pc_fill_epoch(c, siov_caches_epoch(c), sid, pasid, pe);
}

/* ------------------------------------------------------------ front cache */
static int size_code(uint64_t page_size)
{
    for (unsigned sz = 0; sz < SZ_COUNT; sz++)
        if (page_size == 1ull << size_shift[sz])
            return (int)sz;
    return -1;
}

/* Writer: the way to replace among (key, vpn)'s two sets: its own entry, else
   one not valid in this epoch (first set first), else the next in turn. */
static struct siov_xc_way *xc_victim(struct siov_caches *c, uint64_t key, uint64_t vpn, uint64_t epoch)
{
    struct siov_xc_way *w[2 * SIOV_XC_WAYS];
    uint64_t h = siov_xc_hash(key, vpn);
    struct siov_xc_way *first = c->xc + siov_xc_first_set(h, c->xc_shift);
    struct siov_xc_way *second = c->xc + siov_xc_second_set(h, c->xc_shift);
    for (unsigned i = 0; i < SIOV_XC_WAYS; i++) {
        w[i] = &first[i];
        w[SIOV_XC_WAYS + i] = &second[i];
    }
    for (unsigned i = 0; i < 2 * SIOV_XC_WAYS; i++)
        if ((ld(&w[i]->head) & SIOV_XC_HEAD_KEY) == key && ld(&w[i]->vpn) == vpn)
            return w[i];
    for (unsigned i = 0; i < 2 * SIOV_XC_WAYS; i++)
        if (siov_get(ld(&w[i]->stamp_did), SIOV_XC_SD_STAMP) != epoch)
            return w[i];
    return w[c->hand++ % (2 * SIOV_XC_WAYS)];
}

/* Writer, under wlock at epoch: put hit in the front cache. */
static void xc_fill_locked(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid, uint64_t addr,
                           const struct siov_xc_hit *hit)
{
    int sz = size_code(hit->page_size);
    if (!c->xc || sz < 0)
        return;
    uint64_t key = siov_xc_key(sid, pasid), vpn = addr >> SIOV_PAGE_SHIFT;
    struct siov_xc_way *w = xc_victim(c, key, vpn, epoch);
    uint64_t val = (hit->page & SIOV_XC_VAL_PAGE) | siov_set(0, SIOV_XC_VAL_PERM_USER, hit->perm_user) |
                   siov_set(0, SIOV_XC_VAL_PERM_SUPER, hit->perm_super) | (hit->dirty ? SIOV_XC_VAL_DIRTY : 0) |
                   siov_set(0, SIOV_XC_VAL_SIZE, (unsigned)sz);
    uint64_t seq = siov_get(ld(&w->head), SIOV_XC_HEAD_SEQ);
    st(&w->head, siov_set(0, SIOV_XC_HEAD_SEQ, seq + 1));
    st_rel(&w->vpn, vpn);
    st_rel(&w->val, val);
    st_rel(&w->stamp_did, siov_set(0, SIOV_XC_SD_STAMP, epoch) | siov_set(0, SIOV_XC_SD_DID, hit->did));
    st_rel(&w->head, siov_set(0, SIOV_XC_HEAD_SEQ, seq + 2) | key);
}

void siov_xc_fill(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid, uint64_t addr,
                  const struct siov_xc_hit *hit)
{
    if (pthread_mutex_trylock(&c->wlock))
        return; /* a skipped fill is always correct */
    if (ld(&c->clock) == epoch)
        xc_fill_locked(c, epoch, sid, pasid, addr, hit);
    pthread_mutex_unlock(&c->wlock);
}

/* ------------------------------------------------------------ IOTLB */
static inline bool pgtt_tagged(uint8_t pgtt)
{
    return pgtt != SIOV_PGTT_SL; /* second-level-only entries carry no PASID (10.1) */
}

/* The tag of pe's entries, size field 0 (filled in per probe). */
static uint64_t tlb_tag(uint16_t did, bool tagged, uint32_t pasid)
{
    uint64_t tag = siov_set(0, TAG_DID, did);
    if (tagged) {
        uint32_t p = pasid == SIOV_NO_PASID ? TAG_PASID_NONE : (pasid & SIOV_PASID_MAX);
        tag |= TAG_TAGGED | siov_set(0, TAG_PASID, p);
    }
    return tag;
}

static inline uint64_t with_size(uint64_t tag, unsigned sz)
{
    return siov_set(tag, TAG_SIZE, sz + 1);
}

/* The scope slot of a tag (hint and stamp index). */
static unsigned tag_slot(uint64_t tag)
{
    uint16_t did = (uint16_t)siov_get(tag, TAG_DID);
    if (!(tag & TAG_TAGGED))
        return dp_slot(did, DP_UNTAGGED);
    uint32_t p = (uint32_t)siov_get(tag, TAG_PASID);
    return dp_slot(did, p == TAG_PASID_NONE ? SIOV_NO_PASID : p);
}

/* Whether an entry with this tag and stamp survives every invalidation so far. */
static bool tlb_valid(const struct siov_caches *c, uint64_t tag, unsigned slot, uint64_t stamp)
{
    const struct did_stamps *d = &c->did[siov_get(tag, TAG_DID) & c->did_mask];
    if (stamp < ld_acq(&c->tlb_global))
        return false;
    if (!(tag & TAG_TAGGED))
        return stamp >= ld_acq(&d->tlb_all);
    return stamp >= ld_acq(&d->tlb_tagged) && stamp >= ld_acq(&c->tlb_dp[slot]);
}

static inline struct tlb_way *tlb_set(const struct siov_caches *c, uint64_t tag, uint64_t vpn)
{
    return &c->tlb[(size_t)set_of(&c->tlb_geo, tag, vpn) * c->tlb_geo.nways];
}

/* Probe for (tag, vpn); true with the value and stamp of a stable way. */
static bool tlb_probe(const struct siov_caches *c, uint64_t tag, uint64_t vpn, uint64_t *val, uint64_t *stamp)
{
    const struct tlb_way *set = tlb_set(c, tag, vpn);
    for (unsigned i = 0; i < c->tlb_geo.nways; i++) {
        const struct tlb_way *w = &set[i];
        uint64_t h = ld_acq(&w->head);
        if ((h & HEAD_TAG) != tag || (siov_get(h, HEAD_SEQ) & 1) || ld_acq(&w->vpn) != vpn)
            continue;
        *val = ld_acq(&w->val);
        *stamp = ld_acq(&w->stamp);
        return ld(&w->head) == h; /* changed under us: a miss */
    }
    return false;
}

static void val_unpack(uint64_t val, unsigned sz, struct siov_walk_out *out)
{
    out->page = val & VAL_PAGE;
    out->page_size = 1ull << size_shift[sz];
    out->perm_user = (unsigned)siov_get(val, VAL_PERM_USER);
    out->perm_super = (unsigned)siov_get(val, VAL_PERM_SUPER);
    out->dirty = (val & VAL_DIRTY) != 0;
}

bool siov_tlb_lookup(struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t addr,
                     struct siov_walk_out *out)
{
    if (!c->tlb)
        return false;
    bool tagged = pgtt_tagged(pe->pgtt);
    uint64_t tag = tlb_tag(pe->did, tagged, pe->pasid);
    unsigned slot = tag_slot(tag);
    unsigned sizes = ld8(&c->sizes[slot]);
    for (unsigned sz = 0; sz < SZ_COUNT; sz++) {
        if (!(sizes & (tagged ? SIZES_TAGGED(sz) : SIZES_UNTAGGED(sz))))
            continue;
        uint64_t val, stamp, t = with_size(tag, sz);
        if (tlb_probe(c, t, addr >> size_shift[sz], &val, &stamp) && tlb_valid(c, t, slot, stamp)) {
            val_unpack(val, sz, out);
            return true;
        }
    }
    return false;
}

/* Writer: replace a way (tag 0 empties it). */
static void tlb_write(struct tlb_way *w, uint64_t tag, uint64_t vpn, uint64_t val, uint64_t stamp)
{
    uint64_t seq = siov_get(ld(&w->head), HEAD_SEQ);
    st(&w->head, siov_set(0, HEAD_SEQ, seq + 1));
    st_rel(&w->vpn, vpn);
    st_rel(&w->val, val);
    st_rel(&w->stamp, stamp);
    st_rel(&w->head, siov_set(tag, HEAD_SEQ, seq + 2));
}

/* Writer: empty a way; one release store tells readers it changed. */
static void tlb_clear(struct tlb_way *w)
{
    uint64_t seq = siov_get(ld(&w->head), HEAD_SEQ);
    st_rel(&w->head, siov_set(0, HEAD_SEQ, seq + 2));
}

static bool tlb_way_alive(const struct siov_caches *c, const struct tlb_way *w)
{
    uint64_t tag = ld(&w->head) & HEAD_TAG;
    if (!siov_get(tag, TAG_SIZE))
        return false;
    /* only PASID-tagged entries need their scope slot (a hash) */
    return tlb_valid(c, tag, (tag & TAG_TAGGED) ? tag_slot(tag) : 0, ld(&w->stamp));
}

/* Writer: the way for (tag, vpn): its own, an empty or dead one, or a victim. */
static struct tlb_way *tlb_victim(struct siov_caches *c, uint64_t tag, uint64_t vpn)
{
    struct tlb_way *set = tlb_set(c, tag, vpn), *free_way = NULL;
    for (unsigned i = 0; i < c->tlb_geo.nways; i++) {
        if ((ld(&set[i].head) & HEAD_TAG) == tag && ld(&set[i].vpn) == vpn)
            return &set[i];
        if (!free_way && !tlb_way_alive(c, &set[i]))
            free_way = &set[i];
    }
    if (free_way)
        return free_way;
    count_eviction(c);
    return &set[c->hand++ % c->tlb_geo.nways];
}

/* Writer, under wlock at epoch: put the walk's result out in the IOTLB. */
static void tlb_fill_locked(struct siov_caches *c, uint64_t epoch, const struct siov_pasid_ent *pe, uint64_t addr,
                            const struct siov_walk_out *out)
{
    int sz = size_code(out->page_size);
    if (!c->tlb || sz < 0)
        return;
    bool tagged = pgtt_tagged(pe->pgtt);
    uint64_t tag = with_size(tlb_tag(pe->did, tagged, pe->pasid), (unsigned)sz);
    uint64_t vpn = addr >> size_shift[sz];
    uint64_t val = (out->page & VAL_PAGE) | siov_set(0, VAL_PERM_USER, out->perm_user & PERM_BITS) |
                   siov_set(0, VAL_PERM_SUPER, out->perm_super & PERM_BITS) | (out->dirty ? VAL_DIRTY : 0) |
                   siov_set(0, VAL_KIND, pe->pgtt);
    unsigned slot = tag_slot(tag);
    st8(&c->sizes[slot], ld8(&c->sizes[slot]) | (tagged ? SIZES_TAGGED(sz) : SIZES_UNTAGGED(sz)));
    tlb_write(tlb_victim(c, tag, vpn), tag, vpn, val, epoch);
}

void siov_tlb_fill_epoch(struct siov_caches *c, uint64_t epoch, const struct siov_pasid_ent *pe, uint64_t addr,
                         const struct siov_walk_out *out)
{
    if (pthread_mutex_trylock(&c->wlock))
        return;
    if (ld(&c->clock) == epoch)
        tlb_fill_locked(c, epoch, pe, addr, out);
    pthread_mutex_unlock(&c->wlock);
}

void siov_caches_fill(struct siov_caches *c, const struct siov_req *req, const struct siov_pasid_ent *pe,
                      const struct siov_walk_out *w, unsigned what)
{
    if (pthread_mutex_trylock(&c->wlock))
        return; /* a skipped fill is always correct */
    if (ld(&c->clock) == req->epoch) {
        if (what & SIOV_FILL_IOTLB)
            tlb_fill_locked(c, req->epoch, pe, req->addr, w);
        uint64_t page = (w->page + (req->addr & (w->page_size - 1))) & SIOV_PAGE_MASK;
        struct siov_xc_hit h = {page, w->page_size, w->perm_user, w->perm_super, w->dirty, pe->did};
        if (what & SIOV_FILL_FRONT)
            xc_fill_locked(c, req->epoch, req->sid, req->pasid, req->addr, &h);
    }
    pthread_mutex_unlock(&c->wlock);
}

void siov_tlb_fill(struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t addr,
                   const struct siov_walk_out *out)
{
    siov_tlb_fill_epoch(c, siov_caches_epoch(c), pe, addr, out);
}

unsigned siov_tlb_occupancy(struct siov_caches *c)
{
    unsigned n = 0;
    pthread_mutex_lock(&c->wlock);
    for (size_t i = 0; i < (size_t)c->tlb_geo.nsets * c->tlb_geo.nways; i++)
        n += tlb_way_alive(c, &c->tlb[i]);
    pthread_mutex_unlock(&c->wlock);
    return n;
}

/* ------------------------------------------------ IOTLB invalidation */
void siov_tlb_inv_global(struct siov_caches *c)
{
    uint64_t t = inv_begin(c);
    st_rel(&c->tlb_global, t);
    for (unsigned i = 0; i < DP_SLOTS; i++)
        st8(&c->sizes[i], 0);
    inv_end(c, t);
}

void siov_tlb_inv_domain(struct siov_caches *c, uint16_t did)
{
    uint64_t t = inv_begin(c);
    struct did_stamps *d = &c->did[did & c->did_mask];
    st_rel(&d->tlb_all, t);
    st_rel(&d->tlb_tagged, t);
    inv_end(c, t);
}

void siov_tlb_inv_pasid(struct siov_caches *c, uint16_t did, uint32_t pasid)
{
    uint64_t t = inv_begin(c);
    unsigned slot = dp_slot(did, pasid);
    st_rel(&c->tlb_dp[slot], t);
    st8(&c->sizes[slot], ld8(&c->sizes[slot]) & ~SIZES_ALL_TAGGED); /* every tagged entry of the slot is dead */
    inv_end(c, t);
}

/* The pages a page-selective invalidation names: [first, last] at size sz. */
struct page_range {
    uint64_t first, last;
};

static struct page_range range_at(uint64_t addr, unsigned am, unsigned sz)
{
    unsigned bits = am + SIOV_PAGE_SHIFT;
    uint64_t end = bits >= 64 ? UINT64_MAX : addr | ((1ull << bits) - 1);
    uint64_t base = bits >= 64 ? 0 : addr & ~((1ull << bits) - 1);
    return (struct page_range){base >> size_shift[sz], end >> size_shift[sz]};
}

/* Whether a way matches tag (any size already in tag), lies in r and has a kind in kinds. */
static bool way_in_range(const struct tlb_way *w, uint64_t tag, struct page_range r, unsigned kinds)
{
    if ((ld(&w->head) & HEAD_TAG) != tag)
        return false;
    uint64_t vpn = ld(&w->vpn);
    return vpn >= r.first && vpn <= r.last && (kinds & (1u << siov_get(ld(&w->val), VAL_KIND)));
}

/* Writer: clear the entries with tag (size in tag) in r whose kind is in kinds:
   probe each page, or scan the whole IOTLB when that is cheaper. */
static void tlb_drop_range(struct siov_caches *c, uint64_t tag, struct page_range r, unsigned kinds)
{
    size_t nways = (size_t)c->tlb_geo.nsets * c->tlb_geo.nways;
    if (r.last - r.first >= c->tlb_geo.nsets) {
        for (size_t i = 0; i < nways; i++)
            if (way_in_range(&c->tlb[i], tag, r, kinds))
                tlb_clear(&c->tlb[i]);
        return;
    }
    for (uint64_t vpn = r.first;; vpn++) {
        struct tlb_way *set = tlb_set(c, tag, vpn);
        for (unsigned i = 0; i < c->tlb_geo.nways; i++)
            if (way_in_range(&set[i], tag, (struct page_range){vpn, vpn}, kinds))
                tlb_clear(&set[i]);
        if (vpn == r.last)
            break;
    }
}

#define KIND(pgtt) (1u << (pgtt))

void siov_tlb_inv_page(struct siov_caches *c, uint16_t did, uint64_t addr, unsigned am)
{
    uint64_t t = inv_begin(c);
    uint64_t tag = tlb_tag(did, false, 0);
    unsigned sizes = c->tlb ? ld8(&c->sizes[tag_slot(tag)]) : 0;
    for (unsigned sz = 0; sz < SZ_COUNT; sz++)
        if (sizes & SIZES_UNTAGGED(sz))
            tlb_drop_range(c, with_size(tag, sz), range_at(addr, am, sz), KIND(SIOV_PGTT_SL));
    /* PSI also drops every PASID-tagged entry of the DID (facts 10.2, docs/spec-notes.md) */
    st_rel(&c->did[did & c->did_mask].tlb_tagged, t);
    inv_end(c, t);
}

void siov_tlb_inv_pasid_page(struct siov_caches *c, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am)
{
    uint64_t t = inv_begin(c);
    uint64_t tag = tlb_tag(did, true, pasid);
    unsigned sizes = c->tlb ? ld8(&c->sizes[tag_slot(tag)]) : 0;
    for (unsigned sz = 0; sz < SZ_COUNT; sz++)
        if (sizes & SIZES_TAGGED(sz))
            tlb_drop_range(c, with_size(tag, sz), range_at(addr, am, sz),
                           KIND(SIOV_PGTT_FL) | KIND(SIOV_PGTT_NESTED));
    inv_end(c, t);
}

/* ------------------------------------------ context and PASID invalidation */
void siov_cc_inv_global(struct siov_caches *c)
{
    uint64_t t = inv_begin(c);
    st_rel(&c->cc_global, t);
    inv_end(c, t);
}

/* Scalable-mode context entries carry no DID: a domain-selective invalidation
   drops them all, and legacy entries of the DID (docs/spec-notes.md). */
void siov_cc_inv_domain(struct siov_caches *c, uint16_t did)
{
    uint64_t t = inv_begin(c);
    for (size_t i = 0; i < CC_ENTRIES; i++) {
        struct sc_way *w = &c->cc[i];
        struct siov_ctx_ent ce;
        if (!ld(&w->key))
            continue;
        memcpy(&ce, w->data, sizeof(ce));
        if (!ce.legacy || ce.did == did)
            sc_write(w, 0, 0, NULL);
    }
    inv_end(c, t);
}

void siov_cc_inv_device(struct siov_caches *c, siov_sid sid, unsigned fm)
{
    uint64_t t = inv_begin(c);
    /* FM masks the fm most significant of the 3 function bits (facts 1.6) */
    unsigned mask = ((1u << (fm & 3)) - 1) << (3 - (fm & 3));
    for (unsigned f = 0; f <= mask; f++)
        if ((f & ~mask) == 0)
            sc_remove(c->cc, &c->cc_geo, cc_key((siov_sid)((sid & ~mask) | f)));
    inv_end(c, t);
}

void siov_pc_inv_global(struct siov_caches *c)
{
    uint64_t t = inv_begin(c);
    st_rel(&c->pc_global, t);
    inv_end(c, t);
}

void siov_pc_inv_domain(struct siov_caches *c, uint16_t did)
{
    uint64_t t = inv_begin(c);
    st_rel(&c->did[did & c->did_mask].pc, t);
    inv_end(c, t);
}

void siov_pc_inv_pasid(struct siov_caches *c, uint16_t did, uint32_t pasid)
{
    uint64_t t = inv_begin(c);
    st_rel(&c->pc_dp[dp_slot(did, pasid)], t);
    inv_end(c, t);
}

void siov_caches_inv_all(struct siov_caches *c)
{
    uint64_t t = inv_begin(c);
    st_rel(&c->cc_global, t);
    st_rel(&c->pc_global, t);
    st_rel(&c->tlb_global, t);
    for (unsigned i = 0; i < DP_SLOTS; i++)
        st8(&c->sizes[i], 0);
    inv_end(c, t);
}

/* libsiov — the layout of the remapping unit's caches, shared by the files
 * that implement them (internal.h declares what the rest of the model calls).
 *
 * Bottom to top: pages.c (zeroed arrays touched on demand) → cache_stamp.c
 * (writer lock, clock, "invalidated at" words) → entry_cache.c (the ways of
 * decoded entries), seqway.h (the way of four words the front cache and the
 * IOTLB share), front_cache.c (final translations) → context_cache.c,
 * pasid_cache.c, iotlb.c (which also keep the front cache's "invalidated
 * at" words), iec.c (decoded IRTEs) → caches.c (the container).
 *
 * Concurrency. Lookups take no lock. Every change (fill, invalidation) holds
 * the writer lock. Each cache way carries a sequence counter (a seqlock): a
 * writer makes it odd, stores the payload (release stores, so the odd counter
 * is visible first), and makes it even again (release); a reader loads the
 * counter, the payload and the counter again, all acquire loads (plain loads
 * on x86; no fences, which ThreadSanitizer cannot model), and treats any
 * change as a miss. Fills come from translating threads and only try the
 * lock: a skipped fill is always correct.
 *
 * Invalidation by stamps. The clock counts invalidations. A translation reads
 * the clock (its epoch) before its first lookup; what it fills carries that
 * epoch as its stamp, and a fill whose epoch is no longer the clock (an
 * invalidation completed while it walked) is dropped. Invalidating everything,
 * a DID or a (DID, PASID) stores the new clock value into that scope's
 * "invalidated at" word: an entry is valid only while its stamp is at least
 * every such word that covers it. So those invalidations cost O(1), and a
 * translation that starts after an invalidation never hits what it removed.
 * Page- and device-selective invalidations clear the ways they name.
 *
 * The front cache (front_cache.h) has its own words: one for every entry and
 * one per DID. An invalidation of the context cache, PASID cache or IOTLB
 * stores its stamp into the words of the front-cache entries it may reach
 * (every entry, or those of one DID: a PASID- or page-granular invalidation
 * reaches all of its DID's, since a front-cache entry is a final 4 KiB
 * translation that does not record its IOTLB tag); a device-selective
 * context-cache invalidation clears its source ids' ways instead. No other
 * invalidation touches them, so they leave the front cache alone.
 *
 * The few helpers every lookup and fill runs (atomics, set and scope hashing
 * by two multiplies, the fill's lock) are inline here: lookups run on every translation that
 * misses the front cache, and fills on every walk.
 */
#ifndef SIOV_CACHES_H
#define SIOV_CACHES_H

#include <pthread.h>


#include "front_cache.h"
#include "internal.h"

/* ------------------------------------------------------------ geometry */
#define SIOV_CACHE_WAYS_MAX 4       /* associativity of every cache */
#define SIOV_DP_SLOTS 4096          /* (DID, PASID) scopes, hashed (a power of two) */
#define SIOV_SC_WORDS 7             /* payload words of a context/PASID-cache way */
#define SIOV_CACHE_SEED_SET 0x53494F56544C4231ull /* arbitrary, fixed: runs are reproducible */
#define SIOV_CACHE_SEED_DP 0x53494F5644505331ull

struct siov_cache_geometry {
    unsigned nsets, nways;
};

/* ------------------------------------------------- cache_stamp.c */
struct siov_did_stamps { /* "invalidated at" words of one DID */
    uint64_t tlb_all;    /* IOTLB: every entry of the DID */
    uint64_t tlb_tagged; /* IOTLB: PASID-tagged entries of the DID */
    uint64_t pc;         /* PASID cache */
};

struct siov_stamps {
    pthread_mutex_t wlock;           /* serializes every change */
    uint64_t clock;                  /* invalidations so far + 1 */
    uint64_t tlb_global, cc_global, pc_global;
    uint64_t *front;                 /* front cache: per DID, then every entry (front_cache.h) */
    uint64_t iec_global;             /* interrupt entry cache: every entry */
    struct siov_did_stamps *did;     /* indexed by DID & did_mask */
    unsigned did_mask;
    unsigned hand;                   /* round-robin eviction of every cache (writer only) */
    uint64_t tlb_dp[SIOV_DP_SLOTS];  /* IOTLB, per (DID, PASID) scope */
    uint64_t pc_dp[SIOV_DP_SLOTS];   /* PASID cache, per (DID, PASID) scope */
};

/* ------------------------------------------------- entry_cache.c */
struct siov_sc_way { /* a context- or PASID-cache way */
    uint64_t seq;
    uint64_t key;    /* SIOV_SC_KEY_VALID | key; 0: empty */
    uint64_t stamp;
    uint64_t data[SIOV_SC_WORDS];
};
#define SIOV_SC_KEY_VALID SIOV_BIT(63)

struct siov_sc_cache {
    struct siov_sc_way *ways;
    struct siov_cache_geometry geo;
};

/* ------------------------------------------------- iotlb.c */
struct siov_exact_cache; /* exact_cache.h */

struct siov_tlb {
    uint8_t *sizes;               /* SIOV_DP_SLOTS page-size hints per scope, ending at a guard page (pages.c) */
    struct siov_way *ways;        /* seqway.h (key: the tag); NULL: an IOTLB of 0 entries, or a hardware-like one */
    struct siov_exact_cache *hw;  /* cfg.iotlb_ways != 0: the hardware-like IOTLB (under the writer lock) */
    struct siov_cache_geometry geo;
    uint64_t *evictions;          /* the unit's counter, or NULL */
};

/* ------------------------------------------------- front_cache.c */
struct siov_xc_store {
    struct siov_way *ways;    /* seqway.h, as front_cache.h reads them; NULL without an IOTLB */
    unsigned sets;            /* a power of two */
    unsigned shift;           /* 64 - log2(sets) */
    size_t used;              /* ways filled empty or dead since used_since (writer only) */
    uint64_t used_since;      /* the "every entry" word when counting started */
};

/* ------------------------------------------------- caches.c */
struct siov_caches {
    struct siov_stamps st;
    struct siov_tlb tlb;
    struct siov_sc_cache cc, pc;
    struct siov_xc_store xc;
    struct siov_sc_cache iec;
};

_Static_assert(sizeof(struct siov_ctx_ent) <= SIOV_SC_WORDS * 8, "context entry fits a way");
_Static_assert(sizeof(struct siov_pasid_ent) <= SIOV_SC_WORDS * 8, "PASID entry fits a way");
_Static_assert(sizeof(struct siov_irte) <= SIOV_SC_WORDS * 8, "IRTE fits a way");

/* ------------------------------------------------------------ atomics */
static inline uint64_t siov_ld(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint64_t siov_ld_acq(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void siov_st(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void siov_st_rel(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }

/* ------------------------------------------------------------ sets */
/* Geometry for about n entries: SIOV_CACHE_WAYS_MAX-way sets when n allows, never more than n. */
static inline struct siov_cache_geometry siov_cache_geometry_for(unsigned n)
{
    unsigned ways = SIOV_CACHE_WAYS_MAX;
    while (ways > 1 && n % ways)
        ways--;
    return (struct siov_cache_geometry){n / ways, ways};
}

/* Set of a key: a multiply-xorshift mix of its two words (every lookup and
   fill runs it, so two multiplies rather than a full hash), reduced to
   [0, nsets) by multiply-shift. */
static inline unsigned siov_cache_set(const struct siov_cache_geometry *g, uint64_t k0, uint64_t k1)
{
    uint64_t h = (k0 ^ SIOV_CACHE_SEED_SET) * 0x9E3779B97F4A7C15ull;
    h = (h ^ (h >> 29) ^ k1) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (unsigned)(((h & 0xFFFFFFFFu) * g->nsets) >> 32);
}

/* The (DID, PASID) scope slot of PASID-granular invalidation stamps and hints
   (the same mix as siov_cache_set, with its own seed). */
static inline unsigned siov_dp_slot(uint16_t did, uint32_t pasid)
{
    uint64_t h = ((uint64_t)did << 32 ^ pasid ^ SIOV_CACHE_SEED_DP) * 0x9E3779B97F4A7C15ull;
    h = (h ^ (h >> 29)) * 0xBF58476D1CE4E5B9ull;
    return (unsigned)((h >> 32) & (SIOV_DP_SLOTS - 1));
}

/* ------------------------------------------------- pages.c */
/* bytes of zeroed memory, 64-byte aligned and ending at a guard page, backed as it is first written; NULL on ENOMEM or 0 bytes. */
SIOV_LOCAL void *siov_pages_alloc(size_t bytes);
/* Release what siov_pages_alloc(bytes) returned (NULL is ignored). */
SIOV_LOCAL void siov_pages_free(void *p, size_t bytes);

/* ------------------------------------------------- cache_stamp.c */
/* The stamps, clock and writer lock of c for a unit of cfg; 0 or -ENOMEM. */
SIOV_LOCAL int siov_stamps_init(struct siov_caches *c, const struct siov_iommu_config *cfg);
SIOV_LOCAL void siov_stamps_fini(struct siov_caches *c);
/* Start an invalidation: takes the writer lock; the stamp it publishes. */
SIOV_LOCAL uint64_t siov_stamp_inv_begin(struct siov_caches *c);
/* Finish it: later epochs see it; fills from earlier epochs are dropped. */
SIOV_LOCAL void siov_stamp_inv_end(struct siov_caches *c, uint64_t t);
/* Take the writer lock unconditionally (diagnostics). */
SIOV_LOCAL void siov_stamp_lock(struct siov_caches *c);

/* Start a fill of epoch: true with the writer lock held if the lock was free
   and no invalidation completed since epoch (else nothing is held). Inline:
   every translation that walks runs one. */
static inline bool siov_stamp_fill_begin(struct siov_caches *c, uint64_t epoch)
{
    if (pthread_mutex_trylock(&c->st.wlock))
        return false; /* a skipped fill is always correct */
    if (siov_ld(&c->st.clock) == epoch)
        return true;
    pthread_mutex_unlock(&c->st.wlock);
    return false;
}

/* Writer, under the lock with stamp t: every front-cache entry is invalid. */
static inline void siov_front_inv_all(struct siov_caches *c, uint64_t t)
{
    siov_st_rel(&c->st.front[SIOV_XC_INV_ALL], t);
}

/* Writer, under the lock with stamp t: the front-cache entries of did are invalid. */
static inline void siov_front_inv_did(struct siov_caches *c, uint16_t did, uint64_t t)
{
    siov_st_rel(&c->st.front[did], t);
}

/* End a fill (or any section holding the writer lock). */
static inline void siov_stamp_unlock(struct siov_caches *c)
{
    pthread_mutex_unlock(&c->st.wlock);
}

/* ------------------------------------------------- entry_cache.c */
/* Whether a writer may reuse way w (its entry is no longer valid). */
typedef bool (*siov_sc_alive_fn)(const struct siov_caches *c, const struct siov_sc_way *w);
/* The ways of n entries; 0 or -ENOMEM. */
SIOV_LOCAL int siov_sc_init(struct siov_sc_cache *sc, unsigned n);
SIOV_LOCAL void siov_sc_fini(struct siov_sc_cache *sc);
/* Probe the set of key; true with the payload and stamp of a stable way holding it. */
SIOV_LOCAL bool siov_sc_probe(const struct siov_sc_cache *sc, uint64_t key, uint64_t *stamp,
                              uint64_t data[SIOV_SC_WORDS]);
/* Writer: replace way w's contents (key 0 empties it; data NULL keeps the payload). */
SIOV_LOCAL void siov_sc_write(struct siov_sc_way *w, uint64_t key, uint64_t stamp,
                              const uint64_t data[SIOV_SC_WORDS]);
/* Writer: put key into its set: its own way, an empty or dead one, or a victim. */
SIOV_LOCAL void siov_sc_insert(struct siov_caches *c, struct siov_sc_cache *sc, uint64_t key, uint64_t stamp,
                               const uint64_t data[SIOV_SC_WORDS], siov_sc_alive_fn alive);
/* Writer: empty the way holding key, if any. */
SIOV_LOCAL void siov_sc_remove(struct siov_sc_cache *sc, uint64_t key);

/* ------------------------------------------------- context_cache.c, pasid_cache.c */
SIOV_LOCAL int siov_cc_init(struct siov_caches *c);
SIOV_LOCAL void siov_cc_fini(struct siov_caches *c);
/* Writer, under the lock with stamp t: drop every context-cache entry. */
SIOV_LOCAL void siov_cc_inv_global_at(struct siov_caches *c, uint64_t t);
SIOV_LOCAL int siov_pc_init(struct siov_caches *c);
SIOV_LOCAL void siov_pc_fini(struct siov_caches *c);
/* Writer, under the lock with stamp t: drop every PASID-cache entry. */
SIOV_LOCAL void siov_pc_inv_global_at(struct siov_caches *c, uint64_t t);

/* ------------------------------------------------- iec.c */
SIOV_LOCAL int siov_iec_init(struct siov_caches *c);
SIOV_LOCAL void siov_iec_fini(struct siov_caches *c);
/* Writer, under the lock with stamp t: drop every IEC entry. */
SIOV_LOCAL void siov_iec_inv_global_at(struct siov_caches *c, uint64_t t);

/* ------------------------------------------------- iotlb.c */
/* The IOTLB of cfg (iotlb_entries 0: none); 0 or -ENOMEM. */
SIOV_LOCAL int siov_tlb_init(struct siov_caches *c, const struct siov_iommu_config *cfg);
SIOV_LOCAL void siov_tlb_fini(struct siov_caches *c);
/* Ways of the IOTLB (0: no IOTLB). */
SIOV_LOCAL size_t siov_tlb_capacity(const struct siov_caches *c);
/* Writer, under the lock at epoch: put the walk's result out for addr under pe. */
SIOV_LOCAL void siov_tlb_fill_locked(struct siov_caches *c, uint64_t epoch, const struct siov_pasid_ent *pe,
                                     uint64_t addr, const struct siov_walk_out *out);
/* Writer, under the lock with stamp t: drop every IOTLB entry. */
SIOV_LOCAL void siov_tlb_inv_global_at(struct siov_caches *c, uint64_t t);

/* ------------------------------------------------- front_cache.c */
/* The front cache for an IOTLB of ntlb ways (none when 0); 0 or -ENOMEM. */
SIOV_LOCAL int siov_xc_init(struct siov_caches *c, size_t ntlb);
SIOV_LOCAL void siov_xc_fini(struct siov_caches *c);
/* Writer, under the lock at epoch: put hit in the front cache. */
SIOV_LOCAL void siov_xc_fill_locked(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid,
                                    uint64_t addr, const struct siov_xc_hit *hit);
/* Writer, under the lock: clear the ways of every source id s with (s & ~mask) == (sid & ~mask). */
SIOV_LOCAL void siov_xc_inv_sids(struct siov_caches *c, siov_sid sid, unsigned mask);

#endif

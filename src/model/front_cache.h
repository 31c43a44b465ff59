/* libsiov — the front translation cache: its way layout and the probe that
 * the hit path of siov_translate inlines. front_cache.c owns the storage and
 * fills it under the caches' writer lock; see the concurrency notes in caches.h.
 *
 * A way holds one final translation by (source id, request PASID, 4 KiB input
 * page), stamped with the epoch of the translation that filled it and the DID
 * that translated it. The probe helpers (hash, sets, the seqlock read) know
 * nothing of validity; the front cache's rule is siov_xc_valid: an entry is
 * valid while its stamp is at least the "invalidated at" word of every entry
 * and that of its DID. Only invalidations of the context cache, the PASID
 * cache and the IOTLB write those words (and a device-selective context-cache
 * invalidation clears its source ids' ways), so any other invalidation
 * leaves the front cache alone. */
#ifndef SIOV_FRONT_CACHE_H
#define SIOV_FRONT_CACHE_H

#include <siov/format.h>
#include <siov/types.h>

#include "seqway.h"

/* 2-way sets of 32-byte ways, one cache line a set; a page has two candidate sets. */
#define SIOV_XC_WAYS 2
#define SIOV_XC_KEY_VALID SIOV_BIT(39)
#define SIOV_XC_KEY_SID SIOV_BITS(36, 21)
#define SIOV_XC_KEY_PASID SIOV_BITS(20, 0) /* PASID + 1; 0 for requests without PASID */
#define SIOV_XC_VAL_PAGE SIOV_BITS(63, 12) /* output address of the 4 KiB page */
#define SIOV_XC_VAL_PERM_USER SIOV_BITS(2, 0)  /* SIOV_ACCESS_READ/WRITE/EXEC for PR=0 */
#define SIOV_XC_VAL_PERM_SUPER SIOV_BITS(5, 3) /* the same for PR=1 */
#define SIOV_XC_VAL_DIRTY SIOV_BIT(6)          /* a write needs no A/D update */
#define SIOV_XC_VAL_SHIFT SIOV_BITS(11, 7)     /* log2 of the size of the page that translated it */
#define SIOV_XC_SD_DID SIOV_BITS(15, 0)
#define SIOV_XC_SD_STAMP SIOV_BITS(63, 16)
#define SIOV_XC_DIDS 65536u                    /* "invalidated at" words, one per DID... */
#define SIOV_XC_INV_ALL SIOV_XC_DIDS           /* ... and the word of every entry after them */

/* Ways are struct siov_way (seqway.h): the key SIOV_XC_KEY_*, vpn the input
   address >> 12, val SIOV_XC_VAL_*, stamp SIOV_XC_SD_*. */

/* What a translating thread needs to probe: fixed once the unit exists. */
struct siov_xc_view {
    const struct siov_way *ways; /* NULL: no front cache (an IOTLB of 0 entries) */
    unsigned set_shift;          /* 64 - log2(sets); sets are a power of two */
    const uint64_t *inv;         /* "invalidated at": of each DID's entries, then SIOV_XC_INV_ALL */
};

/* The key of a request: valid only for SIOV_NO_PASID or a PASID up to
   SIOV_PASID_MAX (SIOV_NO_PASID + 1 wraps to 0). */
static inline uint64_t siov_xc_key(siov_sid sid, uint32_t pasid)
{
    _Static_assert(SIOV_NO_PASID == UINT32_MAX, "SIOV_NO_PASID + 1 is 0");
    return SIOV_XC_KEY_VALID | siov_set(0, SIOV_XC_KEY_SID, sid) | siov_set(0, SIOV_XC_KEY_PASID, pasid + 1u);
}

/* The page size a value word records. */
static inline uint64_t siov_xc_page_size(uint64_t val)
{
    return 1ull << siov_get(val, SIOV_XC_VAL_SHIFT);
}

/* Each (key, vpn) may live in either of two sets (two-choice placement: a
   page whose first set is full takes its second, so a few colliding hot pages
   do not evict one another). Both come from one Fibonacci hash (one multiply)
   of the page and the key folded into one word (the 40-bit key shifted to
   the top, over the page number's high bits): the first set from its top
   bits, the second from the bits below them. */
#define SIOV_XC_KEY_FOLD 24
static inline uint64_t siov_xc_hash(uint64_t key, uint64_t vpn)
{
    return (vpn ^ key << SIOV_XC_KEY_FOLD) * 0x9E3779B97F4A7C15ull;
}

/* Index of the first way of hash h's first set. */
static inline uint64_t siov_xc_first_set(uint64_t h, unsigned set_shift)
{
    return (h >> set_shift) * SIOV_XC_WAYS;
}

/* ... and of its second set (set_shift is 64 - log2(sets), at least 1). */
static inline uint64_t siov_xc_second_set(uint64_t h, unsigned set_shift)
{
    return (h << (64 - set_shift) >> set_shift) * SIOV_XC_WAYS;
}

/* Index of the first way of (key, vpn)'s first set. */
static inline uint64_t siov_xc_set_of(unsigned set_shift, uint64_t key, uint64_t vpn)
{
    return siov_xc_first_set(siov_xc_hash(key, vpn), set_shift);
}

/* Index of the first way of (key, vpn)'s second set. */
static inline uint64_t siov_xc_alt_set_of(unsigned set_shift, uint64_t key, uint64_t vpn)
{
    return siov_xc_second_set(siov_xc_hash(key, vpn), set_shift);
}

/* siov_way_read on either way of a set. */
static inline bool siov_xc_read_set(const struct siov_way *set, uint64_t key, uint64_t vpn, uint64_t *val,
                                    uint64_t *sd)
{
    return siov_way_read(&set[0], key, vpn, val, sd) || siov_way_read(&set[1], key, vpn, val, sd);
}

/* The way words cached for (key, vpn) in its first set (the hit path's probe:
   fills prefer the first set, so most hits read that one line). */
static inline bool siov_xc_lookup_first(const struct siov_way *ways, unsigned set_shift, uint64_t key,
                                        uint64_t vpn, uint64_t *val, uint64_t *sd)
{
    return siov_xc_read_set(ways + siov_xc_set_of(set_shift, key, vpn), key, vpn, val, sd);
}

/* The way words cached for (key, vpn) in its first set, then its second. */
static inline bool siov_xc_lookup(const struct siov_way *ways, unsigned set_shift, uint64_t key, uint64_t vpn,
                                  uint64_t *val, uint64_t *sd)
{
    uint64_t h = siov_xc_hash(key, vpn);
    return siov_xc_read_set(ways + siov_xc_first_set(h, set_shift), key, vpn, val, sd) ||
           siov_xc_read_set(ways + siov_xc_second_set(h, set_shift), key, vpn, val, sd);
}

/* The front cache's rule: an entry with stamp word sd survives every
   invalidation completed so far (none of everything, none of its DID since
   it was filled). */
static inline bool siov_xc_valid(const uint64_t *inv, uint64_t sd)
{
    uint64_t stamp = sd >> 16; /* SIOV_XC_SD_STAMP */
    return stamp >= __atomic_load_n(&inv[SIOV_XC_INV_ALL], __ATOMIC_ACQUIRE) &&
           stamp >= __atomic_load_n(&inv[sd & SIOV_XC_SD_DID], __ATOMIC_ACQUIRE);
}

/* The front cache's answer for (key, vpn): its value and stamp words. */
static inline bool siov_xc_probe(const struct siov_xc_view *v, uint64_t key, uint64_t vpn, uint64_t *val,
                                 uint64_t *sd)
{
    return v->ways && siov_xc_lookup(v->ways, v->set_shift, key, vpn, val, sd) && siov_xc_valid(v->inv, *sd);
}

#endif

/* libsiov — the front translation cache: its way layout and the probe that
 * the hit path of siov_translate inlines. front_cache.c owns the storage and
 * fills it under the caches' writer lock; see the concurrency notes in caches.h.
 *
 * A way holds one final translation by (source id, request PASID, 4 KiB input
 * page). It is valid only while no invalidation of any kind has completed
 * since it was filled (its stamp equals the caches' clock), so it never
 * outlives what the caches behind it would drop. */
#ifndef SIOV_FRONT_CACHE_H
#define SIOV_FRONT_CACHE_H

#include <siov/format.h>
#include <siov/types.h>

/* 2-way sets of 32-byte ways, one cache line a set; a page has two candidate sets. */
#define SIOV_XC_WAYS 2
#define SIOV_XC_HEAD_SEQ SIOV_BITS(63, 40) /* odd while a writer changes the way */
#define SIOV_XC_HEAD_SEQ_ODD SIOV_BIT(40)  /* the sequence's low bit */
#define SIOV_XC_HEAD_KEY SIOV_BITS(39, 0)  /* 0: empty */
#define SIOV_XC_KEY_VALID SIOV_BIT(39)
#define SIOV_XC_KEY_SID SIOV_BITS(36, 21)
#define SIOV_XC_KEY_PASID SIOV_BITS(20, 0) /* PASID, or SIOV_XC_KEY_NOPASID */
#define SIOV_XC_KEY_NOPASID SIOV_BIT(20)
#define SIOV_XC_VAL_PAGE SIOV_BITS(63, 12) /* output address of the 4 KiB page */
#define SIOV_XC_VAL_PERM_USER SIOV_BITS(2, 0)  /* SIOV_ACCESS_READ/WRITE/EXEC for PR=0 */
#define SIOV_XC_VAL_PERM_SUPER SIOV_BITS(5, 3) /* the same for PR=1 */
#define SIOV_XC_VAL_DIRTY SIOV_BIT(6)          /* a write needs no A/D update */
#define SIOV_XC_VAL_SIZE SIOV_BITS(8, 7)       /* 0, 1, 2: 4 KiB, 2 MiB, 1 GiB */
#define SIOV_XC_SIZE_STRIDE 9                  /* address bits a paging level adds */
#define SIOV_XC_SD_DID SIOV_BITS(15, 0)
#define SIOV_XC_SD_STAMP SIOV_BITS(63, 16)

struct siov_xc_way {
    uint64_t head;      /* SIOV_XC_HEAD_* */
    uint64_t vpn;       /* input address >> 12 */
    uint64_t val;       /* SIOV_XC_VAL_* */
    uint64_t stamp_did; /* SIOV_XC_SD_* */
};

/* What a translating thread needs to probe: fixed once the unit exists. */
struct siov_xc_view {
    const struct siov_xc_way *ways; /* NULL: no front cache (an IOTLB of 0 entries) */
    unsigned set_shift;             /* 64 - log2(sets); sets are a power of two */
    const uint64_t *clock;          /* the caches' invalidation clock */
};

static inline uint64_t siov_xc_key(siov_sid sid, uint32_t pasid)
{
    return SIOV_XC_KEY_VALID | siov_set(0, SIOV_XC_KEY_SID, sid) |
           (pasid == SIOV_NO_PASID ? SIOV_XC_KEY_NOPASID : siov_set(0, SIOV_XC_KEY_PASID, pasid));
}

/* The page size a value word records. */
static inline uint64_t siov_xc_page_size(uint64_t val)
{
    return 1ull << (SIOV_PAGE_SHIFT + SIOV_XC_SIZE_STRIDE * siov_get(val, SIOV_XC_VAL_SIZE));
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

/* Read way w if it holds (key, vpn) stably (a seqlock read): its value word,
   and whether it was filled at epoch. */
static inline bool siov_xc_read(const struct siov_xc_way *w, uint64_t key, uint64_t vpn, uint64_t epoch,
                                uint64_t *val, uint64_t *sd)
{
    uint64_t h = __atomic_load_n(&w->head, __ATOMIC_ACQUIRE);
    if ((h & (SIOV_XC_HEAD_KEY | SIOV_XC_HEAD_SEQ_ODD)) != key ||
        __atomic_load_n(&w->vpn, __ATOMIC_ACQUIRE) != vpn)
        return false; /* another key, an odd (changing) way, or another page */
    *val = __atomic_load_n(&w->val, __ATOMIC_ACQUIRE);
    *sd = __atomic_load_n(&w->stamp_did, __ATOMIC_ACQUIRE);
    return __atomic_load_n(&w->head, __ATOMIC_RELAXED) == h && siov_get(*sd, SIOV_XC_SD_STAMP) == epoch;
}

/* siov_xc_read on either way of a set. */
static inline bool siov_xc_read_set(const struct siov_xc_way *set, uint64_t key, uint64_t vpn, uint64_t epoch,
                                    uint64_t *val, uint64_t *sd)
{
    return siov_xc_read(&set[0], key, vpn, epoch, val, sd) || siov_xc_read(&set[1], key, vpn, epoch, val, sd);
}

/* The front cache's answer for (key, vpn) at epoch: its value and stamp words.
   Fills prefer the first set, so most hits read one cache line. */
__attribute__((always_inline)) static inline bool siov_xc_probe(const struct siov_xc_view *v, uint64_t epoch, uint64_t key, uint64_t vpn,
                                 uint64_t *val, uint64_t *sd)
{
    if (!v->ways)
        return false;
    uint64_t h = siov_xc_hash(key, vpn);
    return siov_xc_read_set(v->ways + siov_xc_first_set(h, v->set_shift), key, vpn, epoch, val, sd) ||
           siov_xc_read_set(v->ways + siov_xc_second_set(h, v->set_shift), key, vpn, epoch, val, sd);
}

#endif

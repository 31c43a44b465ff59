/* libsiov — the seqlocked way of four words that the front cache
 * (front_cache.h) and the IOTLB (iotlb.c) store their entries in, and its
 * reader and writers (the protocol: caches.h).
 *
 * head holds a sequence count (SIOV_WAY_HEAD_SEQ) and the key
 * (SIOV_WAY_HEAD_KEY: nonzero while the way holds an entry). A writer stores
 * the head with the count made odd and no key, then the other words, then
 * the head with the count even and the new key; a reader that finds the same
 * head, key included, before and after it reads the words has read them whole.
 * What the key, vpn, val and stamp words mean is each cache's business. */
#ifndef SIOV_SEQWAY_H
#define SIOV_SEQWAY_H

#include <stdbool.h>
#include <stdint.h>

#include <siov/format.h>

#define SIOV_WAY_HEAD_SEQ SIOV_BITS(63, 40) /* changes with every write of the way */
#define SIOV_WAY_HEAD_KEY SIOV_BITS(39, 0)  /* 0: empty, or being written */

struct siov_way { /* 32 bytes; every word accessed atomically */
    uint64_t head;  /* SIOV_WAY_HEAD_* */
    uint64_t vpn;   /* input address >> the entry's page shift */
    uint64_t val;   /* what the entry answers */
    uint64_t stamp; /* when (and, in the front cache, by which DID) it was filled */
};

/* Read way w if it holds (key, vpn) stably: its value and stamp words. A key
   that matches twice around the payload read means the payload is whole; a
   (key, vpn) is in one way at most, so a false return for a way that holds
   it means "not cached". */
static inline bool siov_way_read(const struct siov_way *w, uint64_t key, uint64_t vpn, uint64_t *val,
                                 uint64_t *stamp)
{
    uint64_t h = __atomic_load_n(&w->head, __ATOMIC_ACQUIRE);
    if ((h & SIOV_WAY_HEAD_KEY) != key || __atomic_load_n(&w->vpn, __ATOMIC_ACQUIRE) != vpn)
        return false; /* another key, a way being written, or another page */
    *val = __atomic_load_n(&w->val, __ATOMIC_ACQUIRE);
    *stamp = __atomic_load_n(&w->stamp, __ATOMIC_ACQUIRE);
    return __atomic_load_n(&w->head, __ATOMIC_RELAXED) == h;
}

/* Writer (under the caches' writer lock): replace way w's entry. */
static inline void siov_way_write(struct siov_way *w, uint64_t key, uint64_t vpn, uint64_t val, uint64_t stamp)
{
    uint64_t seq = siov_get(__atomic_load_n(&w->head, __ATOMIC_RELAXED), SIOV_WAY_HEAD_SEQ);
    __atomic_store_n(&w->head, siov_set(0, SIOV_WAY_HEAD_SEQ, seq + 1), __ATOMIC_RELAXED);
    __atomic_store_n(&w->vpn, vpn, __ATOMIC_RELEASE);
    __atomic_store_n(&w->val, val, __ATOMIC_RELEASE);
    __atomic_store_n(&w->stamp, stamp, __ATOMIC_RELEASE);
    __atomic_store_n(&w->head, siov_set(0, SIOV_WAY_HEAD_SEQ, seq + 2) | (key & SIOV_WAY_HEAD_KEY),
                     __ATOMIC_RELEASE);
}

/* Writer: empty way w; one release store tells readers it changed. */
static inline void siov_way_clear(struct siov_way *w)
{
    uint64_t seq = siov_get(__atomic_load_n(&w->head, __ATOMIC_RELAXED), SIOV_WAY_HEAD_SEQ);
    __atomic_store_n(&w->head, siov_set(0, SIOV_WAY_HEAD_SEQ, seq + 2), __ATOMIC_RELEASE);
}

#endif

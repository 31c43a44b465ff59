/* The statistics shards every translation counts in (internal.h,
   struct siov_stat_shard): the calling thread's shard and the counting
   helpers, shared by the request pipelines (resolve.c, ats.c, translate.c). */
#ifndef SIOV_HOT_STATS_H
#define SIOV_HOT_STATS_H

#include <string.h>

#include "internal.h"

/* __has_builtin must not appear in an #if where the compiler lacks it */
#if defined(__has_builtin)
#if __has_builtin(__builtin_thread_pointer)
#define SIOV_HAVE_THREAD_POINTER 1
#endif
#endif

/* An id of the calling thread, distinct among live threads and never 0: its
   thread pointer where the compiler reads it inline, else pthread_self. */
static inline uint64_t thread_id(void)
{
    uint64_t id = 0;
#ifdef SIOV_HAVE_THREAD_POINTER
    uintptr_t tp = (uintptr_t)__builtin_thread_pointer();
    memcpy(&id, &tp, sizeof(tp) < sizeof(id) ? sizeof(tp) : sizeof(id));
#else
    pthread_t self = pthread_self();
    memcpy(&id, &self, sizeof(self) < sizeof(id) ? sizeof(self) : sizeof(id));
#endif
    return id | 1; /* both are aligned: the low bit keeps them distinct */
}

/* The first shard of a thread: Fibonacci hashing (thread pointers differ in
   their middle bits, stacks being MiBs apart). */
static inline unsigned first_shard(uint64_t me)
{
    return (unsigned)((me * 0x9E3779B97F4A7C15ull) >> (64 - SIOV_STAT_SHARD_BITS));
}

/* The shard the thread owns when it does not own its first one: its own
   or an unclaimed one among the few after it; NULL when other threads hold
   them all. */
__attribute__((noinline, unused)) static struct siov_stat_shard *own_shard_claim(struct siov_iommu *u, uint64_t me)
{
    unsigned first = first_shard(me);
    for (unsigned k = 0; k < SIOV_STAT_PROBES; k++) {
        struct siov_stat_shard *s = &u->shard[(first + k) % SIOV_STAT_SHARDS];
        uint64_t owner = __atomic_load_n(&s->owner, __ATOMIC_RELAXED);
        if (owner == me || (!owner && __atomic_compare_exchange_n(&s->owner, &owner, me, false, __ATOMIC_RELAXED,
                                                                  __ATOMIC_RELAXED)))
            return s;
    }
    return NULL;
}

/* The shard this thread owns (see siov_stat_shard), or NULL. */
__attribute__((always_inline)) static inline struct siov_stat_shard *own_shard(struct siov_iommu *u, uint64_t me)
{
    struct siov_stat_shard *s = &u->shard[first_shard(me)];
    return __atomic_load_n(&s->owner, __ATOMIC_RELAXED) == me ? s : own_shard_claim(u, me);
}

/* Only the owner writes its shard: a plain add, no locked instruction. */
static inline void owner_add(uint64_t *c, uint64_t n)
{
    __atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

/* Count n front-cache hits in this thread's shard: no line shared with other threads. */
__attribute__((always_inline)) static inline void count_hits(struct siov_iommu *u, uint64_t n)
{
    uint64_t me = thread_id();
    struct siov_stat_shard *s = own_shard(u, me);
    if (s)
        owner_add(&s->owned, n);
    else
        __atomic_fetch_add(&u->shard[first_shard(me)].shared, n, __ATOMIC_RELAXED);
}

/* Count one of SIOV_HOT_STATS in this thread's shard, or atomically in the unit's stats. */
#define STAT_HOT(u, f) stat_hot((u), SIOV_HOT_##f, &(u)->stats.f)
static inline void stat_hot(struct siov_iommu *u, enum siov_hot_stat which, uint64_t *shared)
{
    struct siov_stat_shard *s = own_shard(u, thread_id());
    if (s)
        owner_add(&s->hot[which], 1);
    else
        siov_stat_inc(shared);
}

#endif

/* libsiov — an exact set-associative cache with LRU, FIFO or seeded random
 * replacement (exact_cache.c), under the hardware-like cache geometries. Keys
 * are a nonzero tag and a page number; the user locks and says what tags
 * mean. */
#ifndef SIOV_EXACT_CACHE_H
#define SIOV_EXACT_CACHE_H

#include "internal.h"

struct siov_exact_cache;

/* sets x ways entries (at most 2^24: the IOTLB's and the ATC's limits) replaced
   by policy (SIOV_POLICY_*), random seeded by seed; NULL on ENOMEM or a size of 0. */
SIOV_LOCAL struct siov_exact_cache *siov_exact_new(unsigned sets, unsigned ways, unsigned policy, uint64_t seed);
SIOV_LOCAL void siov_exact_free(struct siov_exact_cache *h);
/* The value of (tag, vpn) (tag nonzero), refreshing it under LRU; setkey with
   vpn picks the set: set (vpn XOR setkey * 0x9E3779B1) mod sets. */
SIOV_LOCAL bool siov_exact_lookup(struct siov_exact_cache *h, uint64_t tag, uint64_t setkey, uint64_t vpn,
                                  uint64_t *val);
/* Put (tag, vpn) -> val in its set (its own way, the lowest free, or the
   policy's victim); true when a valid entry was evicted for it. */
SIOV_LOCAL bool siov_exact_fill(struct siov_exact_cache *h, uint64_t tag, uint64_t setkey, uint64_t vpn,
                                uint64_t val);
/* Remove every entry match accepts. */
typedef bool (*siov_exact_match_fn)(const void *ctx, uint64_t tag, uint64_t vpn, uint64_t val);
SIOV_LOCAL void siov_exact_drop(struct siov_exact_cache *h, siov_exact_match_fn match, const void *ctx);
/* The valid entries. */
SIOV_LOCAL unsigned siov_exact_occupancy(const struct siov_exact_cache *h);

#endif

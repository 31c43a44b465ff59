/* An exact set-associative cache, for hardware-like geometries (the IOTLB
 * with cfg.iotlb_ways != 0): sets of ways with an exact replacement policy,
 * for cache studies rather than speed. An entry of key (tag, page) with set
 * key K lives in set (page XOR K * 0x9E3779B1) mod sets; a fill takes the
 * set's lowest free way, or evicts the policy's victim (LRU: least recently
 * hit or filled; FIFO: oldest fill; random: way xorshift64* mod ways).
 * Removal is immediate, as a hardware invalidation is, so a set's free ways
 * are exactly the ones nothing valid holds. What a tag means, and locking,
 * are the user's business (iotlb.c). */
#include <stdlib.h>

#include "exact_cache.h"

#define NONE UINT32_MAX

struct siov_exact_way {
    uint64_t tag, vpn, val; /* tag 0: free */
    uint32_t prev, next;    /* the set's order, head first: most recent (LRU) or newest (FIFO) */
};

struct siov_exact_cache {
    struct siov_exact_way *ways; /* nsets * nways */
    uint32_t *head, *tail;    /* per set */
    uint64_t *free;           /* per set, nwords words: bit w set while way w is free */
    unsigned nsets, nways, nwords, policy;
    uint64_t rng;
    uint32_t *index;          /* way + 1 by (tag, vpn), linear probing; 0: empty */
    size_t icap;              /* a power of two, at least twice the ways */
};

struct siov_exact_cache *siov_exact_new(unsigned sets, unsigned ways, unsigned policy, uint64_t seed)
{
    if (!sets || !ways)
        return NULL;
    struct siov_exact_cache *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->nways = ways;
    h->nsets = sets;
    h->nwords = (ways + 63) / 64;
    h->policy = policy;
    h->rng = seed ? seed : 1; /* xorshift needs a nonzero state */
    size_t n = (size_t)sets * ways;
    for (h->icap = 16; h->icap < 2 * n; h->icap *= 2)
        ;
    h->ways = calloc(n, sizeof(*h->ways));
    h->head = malloc(sets * sizeof(*h->head));
    h->tail = malloc(sets * sizeof(*h->tail));
    h->free = calloc((size_t)sets * h->nwords, sizeof(*h->free));
    h->index = calloc(h->icap, sizeof(*h->index));
    if (!h->ways || !h->head || !h->tail || !h->free || !h->index) {
        siov_exact_free(h);
        return NULL;
    }
    for (unsigned s = 0; s < sets; s++) {
        h->head[s] = h->tail[s] = NONE;
        for (unsigned w = 0; w < ways; w++)
            h->free[(size_t)s * h->nwords + w / 64] |= 1ull << (w % 64);
    }
    return h;
}

void siov_exact_free(struct siov_exact_cache *h)
{
    if (!h)
        return;
    free(h->ways);
    free(h->head);
    free(h->tail);
    free(h->free);
    free(h->index);
    free(h);
}

/* ------------------------------------------------------------- the index */
static size_t key_slot(const struct siov_exact_cache *h, uint64_t tag, uint64_t vpn)
{
    uint64_t k = tag * 0x9E3779B97F4A7C15ull ^ (vpn + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(k ^ (k >> 29)) & (h->icap - 1);
}

static uint32_t index_find(const struct siov_exact_cache *h, uint64_t tag, uint64_t vpn, size_t *slot)
{
    for (size_t s = key_slot(h, tag, vpn);; s = (s + 1) & (h->icap - 1)) {
        uint32_t i = h->index[s];
        if (!i || (h->ways[i - 1].tag == tag && h->ways[i - 1].vpn == vpn)) {
            *slot = s;
            return i ? i - 1 : NONE;
        }
    }
}

/* Remove the index slot s, shifting back the entries of its probe run. */
static void index_delete(struct siov_exact_cache *h, size_t s)
{
    size_t mask = h->icap - 1;
    h->index[s] = 0;
    for (size_t j = (s + 1) & mask; h->index[j]; j = (j + 1) & mask) {
        const struct siov_exact_way *w = &h->ways[h->index[j] - 1];
        size_t home = key_slot(h, w->tag, w->vpn);
        /* j's entry may fill the hole at s when its home is not in (s, j] */
        if (((j - home) & mask) >= ((j - s) & mask)) {
            h->index[s] = h->index[j];
            h->index[j] = 0;
            s = j;
        }
    }
}

/* ------------------------------------------------------------- the sets */
static unsigned set_of(const struct siov_exact_cache *h, uint64_t setkey, uint64_t vpn)
{
    return (unsigned)((vpn ^ setkey * 0x9E3779B1u) % h->nsets);
}

static void unlink_way(struct siov_exact_cache *h, unsigned set, uint32_t i)
{
    struct siov_exact_way *w = &h->ways[i];
    if (w->prev != NONE)
        h->ways[w->prev].next = w->next;
    else
        h->head[set] = w->next;
    if (w->next != NONE)
        h->ways[w->next].prev = w->prev;
    else
        h->tail[set] = w->prev;
}

static void push_head(struct siov_exact_cache *h, unsigned set, uint32_t i)
{
    struct siov_exact_way *w = &h->ways[i];
    w->prev = NONE;
    w->next = h->head[set];
    if (w->next != NONE)
        h->ways[w->next].prev = i;
    else
        h->tail[set] = i;
    h->head[set] = i;
}

/* Empty way i of set (valid: the index holds it). */
static void remove_way(struct siov_exact_cache *h, unsigned set, uint32_t i)
{
    size_t slot;
    struct siov_exact_way *w = &h->ways[i];
    (void)index_find(h, w->tag, w->vpn, &slot);
    index_delete(h, slot);
    unlink_way(h, set, i);
    unsigned way = i % h->nways;
    h->free[(size_t)set * h->nwords + way / 64] |= 1ull << (way % 64);
    w->tag = 0;
}

static uint64_t next_random(struct siov_exact_cache *h)
{
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return h->rng * 0x2545F4914F6CDD1Dull;
}

/* The way a fill of set takes: its lowest free way, else the policy's victim
   (emptied; *evicted set). */
static uint32_t take_way(struct siov_exact_cache *h, unsigned set, bool *evicted)
{
    uint64_t *bits = &h->free[(size_t)set * h->nwords];
    for (unsigned k = 0; k < h->nwords; k++)
        if (bits[k]) {
            unsigned way = k * 64 + (unsigned)__builtin_ctzll(bits[k]);
            bits[k] &= bits[k] - 1;
            return set * h->nways + way;
        }
    uint32_t victim = h->policy == SIOV_POLICY_RANDOM ? set * h->nways + (uint32_t)(next_random(h) % h->nways)
                                                       : h->tail[set];
    remove_way(h, set, victim);
    bits[(victim % h->nways) / 64] &= ~(1ull << (victim % h->nways % 64));
    *evicted = true;
    return victim;
}

/* ------------------------------------------------------------- the cache */
bool siov_exact_lookup(struct siov_exact_cache *h, uint64_t tag, uint64_t setkey, uint64_t vpn, uint64_t *val)
{
    size_t slot;
    uint32_t i = index_find(h, tag, vpn, &slot);
    if (i == NONE)
        return false;
    *val = h->ways[i].val;
    if (h->policy == SIOV_POLICY_LRU) {
        unsigned set = set_of(h, setkey, vpn);
        unlink_way(h, set, i);
        push_head(h, set, i);
    }
    return true;
}

bool siov_exact_fill(struct siov_exact_cache *h, uint64_t tag, uint64_t setkey, uint64_t vpn, uint64_t val)
{
    unsigned set = set_of(h, setkey, vpn);
    size_t slot;
    bool evicted = false;
    uint32_t i = index_find(h, tag, vpn, &slot);
    if (i != NONE) { /* a refill (a walk after a hit that could not answer): update in place */
        h->ways[i].val = val;
        if (h->policy == SIOV_POLICY_LRU) {
            unlink_way(h, set, i);
            push_head(h, set, i);
        }
        return false;
    }
    i = take_way(h, set, &evicted);
    h->ways[i] = (struct siov_exact_way){tag, vpn, val, NONE, NONE};
    index_find(h, tag, vpn, &slot); /* the victim's removal may have moved the free slot */
    h->index[slot] = i + 1;
    push_head(h, set, i);
    return evicted;
}

void siov_exact_drop(struct siov_exact_cache *h, siov_exact_match_fn match, const void *ctx)
{
    for (uint32_t i = 0; i < h->nsets * h->nways; i++) {
        const struct siov_exact_way *w = &h->ways[i];
        if (w->tag && match(ctx, w->tag, w->vpn, w->val))
            remove_way(h, i / h->nways, i);
    }
}

unsigned siov_exact_occupancy(const struct siov_exact_cache *h)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < h->nsets * h->nways; i++)
        n += h->ways[i].tag != 0;
    return n;
}

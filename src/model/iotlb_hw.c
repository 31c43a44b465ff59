/* A hardware-like IOTLB (cfg.iotlb_ways != 0): sets of ways with an exact
 * replacement policy, for cache studies rather than speed. An entry lives in
 * set (page number XOR DID * 0x9E3779B1) mod sets; a fill takes the set's
 * lowest free way, or evicts the policy's victim (LRU: least recently hit or
 * filled; FIFO: oldest fill; random: way xorshift64* mod ways). Invalidations
 * remove their entries at once, as hardware does, so a set's free ways are
 * exactly the ones nothing valid holds. iotlb.c owns the tags and decides
 * what an invalidation names; this file keeps the ways, under the writer
 * lock (a hit reorders its set, so lookups take it too). */
#include <errno.h>
#include <stdlib.h>

#include "caches.h"

#define NONE UINT32_MAX

struct siov_hw_way {
    uint64_t tag, vpn, val; /* tag 0: free */
    uint32_t prev, next;    /* the set's order, head first: most recent (LRU) or newest (FIFO) */
};

struct siov_hw_tlb {
    struct siov_hw_way *ways; /* nsets * nways */
    uint32_t *head, *tail;    /* per set */
    uint64_t *free;           /* per set, nwords words: bit w set while way w is free */
    unsigned nsets, nways, nwords, policy;
    uint64_t rng;
    uint32_t *index;          /* way + 1 by (tag, vpn), linear probing; 0: empty */
    size_t icap;              /* a power of two, at least twice the ways */
};

int siov_tlb_hw_init(struct siov_caches *c, const struct siov_iommu_config *cfg)
{
    if (!cfg || !cfg->iotlb_ways)
        return 0;
    struct siov_hw_tlb *h = calloc(1, sizeof(*h));
    if (!h)
        return -ENOMEM;
    c->tlb.hw = h;
    h->nways = cfg->iotlb_ways;
    h->nsets = cfg->iotlb_entries / cfg->iotlb_ways;
    h->nwords = (h->nways + 63) / 64;
    h->policy = cfg->iotlb_policy;
    h->rng = cfg->iotlb_seed ? cfg->iotlb_seed : 1; /* xorshift needs a nonzero state */
    size_t n = (size_t)h->nsets * h->nways;
    for (h->icap = 16; h->icap < 2 * n; h->icap *= 2)
        ;
    h->ways = calloc(n, sizeof(*h->ways));
    h->head = malloc(h->nsets * sizeof(*h->head));
    h->tail = malloc(h->nsets * sizeof(*h->tail));
    h->free = calloc((size_t)h->nsets * h->nwords, sizeof(*h->free));
    h->index = calloc(h->icap, sizeof(*h->index));
    if (!h->ways || !h->head || !h->tail || !h->free || !h->index)
        return -ENOMEM; /* siov_tlb_hw_fini frees what was allocated */
    for (unsigned s = 0; s < h->nsets; s++) {
        h->head[s] = h->tail[s] = NONE;
        for (unsigned w = 0; w < h->nways; w++)
            h->free[(size_t)s * h->nwords + w / 64] |= 1ull << (w % 64);
    }
    return 0;
}

void siov_tlb_hw_fini(struct siov_caches *c)
{
    struct siov_hw_tlb *h = c->tlb.hw;
    if (!h)
        return;
    free(h->ways);
    free(h->head);
    free(h->tail);
    free(h->free);
    free(h->index);
    free(h);
    c->tlb.hw = NULL;
}

/* ------------------------------------------------------------- the index */
static size_t key_slot(const struct siov_hw_tlb *h, uint64_t tag, uint64_t vpn)
{
    uint64_t k = tag * 0x9E3779B97F4A7C15ull ^ (vpn + 0x632BE59BD9B4E019ull) * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(k ^ (k >> 29)) & (h->icap - 1);
}

static uint32_t index_find(const struct siov_hw_tlb *h, uint64_t tag, uint64_t vpn, size_t *slot)
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
static void index_delete(struct siov_hw_tlb *h, size_t s)
{
    size_t mask = h->icap - 1;
    h->index[s] = 0;
    for (size_t j = (s + 1) & mask; h->index[j]; j = (j + 1) & mask) {
        const struct siov_hw_way *w = &h->ways[h->index[j] - 1];
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
static unsigned set_of(const struct siov_hw_tlb *h, uint16_t did, uint64_t vpn)
{
    return (unsigned)((vpn ^ (uint64_t)did * 0x9E3779B1u) % h->nsets);
}

static void unlink_way(struct siov_hw_tlb *h, unsigned set, uint32_t i)
{
    struct siov_hw_way *w = &h->ways[i];
    if (w->prev != NONE)
        h->ways[w->prev].next = w->next;
    else
        h->head[set] = w->next;
    if (w->next != NONE)
        h->ways[w->next].prev = w->prev;
    else
        h->tail[set] = w->prev;
}

static void push_head(struct siov_hw_tlb *h, unsigned set, uint32_t i)
{
    struct siov_hw_way *w = &h->ways[i];
    w->prev = NONE;
    w->next = h->head[set];
    if (w->next != NONE)
        h->ways[w->next].prev = i;
    else
        h->tail[set] = i;
    h->head[set] = i;
}

/* Empty way i of set (its index slot already found or looked up here). */
static void remove_way(struct siov_hw_tlb *h, unsigned set, uint32_t i)
{
    size_t slot;
    struct siov_hw_way *w = &h->ways[i];
    if (index_find(h, w->tag, w->vpn, &slot) == i)
        index_delete(h, slot);
    unlink_way(h, set, i);
    unsigned way = i % h->nways;
    h->free[(size_t)set * h->nwords + way / 64] |= 1ull << (way % 64);
    w->tag = 0;
}

static uint64_t next_random(struct siov_hw_tlb *h)
{
    h->rng ^= h->rng >> 12;
    h->rng ^= h->rng << 25;
    h->rng ^= h->rng >> 27;
    return h->rng * 0x2545F4914F6CDD1Dull;
}

/* The way a fill of set takes: its lowest free way, else the policy's victim (emptied). */
static uint32_t take_way(struct siov_caches *c, struct siov_hw_tlb *h, unsigned set)
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
    if (c->tlb.evictions)
        siov_stat_inc(c->tlb.evictions);
    return victim;
}

/* ------------------------------------------------------------- the cache */
bool siov_tlb_hw_lookup(struct siov_caches *c, uint64_t tag, uint16_t did, uint64_t vpn, uint64_t *val)
{
    struct siov_hw_tlb *h = c->tlb.hw;
    size_t slot;
    siov_stamp_lock(c);
    uint32_t i = index_find(h, tag, vpn, &slot);
    if (i != NONE) {
        *val = h->ways[i].val;
        if (h->policy == SIOV_POLICY_LRU) {
            unsigned set = set_of(h, did, vpn);
            unlink_way(h, set, i);
            push_head(h, set, i);
        }
    }
    siov_stamp_unlock(c);
    return i != NONE;
}

void siov_tlb_hw_fill(struct siov_caches *c, uint64_t tag, uint16_t did, uint64_t vpn, uint64_t val)
{
    struct siov_hw_tlb *h = c->tlb.hw;
    unsigned set = set_of(h, did, vpn);
    size_t slot;
    uint32_t i = index_find(h, tag, vpn, &slot);
    if (i != NONE) { /* a refill (a walk after a hit that could not answer): update in place */
        h->ways[i].val = val;
        if (h->policy == SIOV_POLICY_LRU) {
            unlink_way(h, set, i);
            push_head(h, set, i);
        }
        return;
    }
    i = take_way(c, h, set);
    h->ways[i] = (struct siov_hw_way){tag, vpn, val, NONE, NONE};
    index_find(h, tag, vpn, &slot); /* the victim's removal may have moved the free slot */
    h->index[slot] = i + 1;
    push_head(h, set, i);
}

void siov_tlb_hw_drop(struct siov_caches *c, siov_tlb_hw_match_fn match, const void *ctx)
{
    struct siov_hw_tlb *h = c->tlb.hw;
    for (uint32_t i = 0; i < h->nsets * h->nways; i++) {
        const struct siov_hw_way *w = &h->ways[i];
        if (w->tag && match(ctx, w->tag, w->vpn, w->val))
            remove_way(h, i / h->nways, i);
    }
}

unsigned siov_tlb_hw_occupancy(const struct siov_caches *c)
{
    const struct siov_hw_tlb *h = c->tlb.hw;
    unsigned n = 0;
    for (uint32_t i = 0; i < h->nsets * h->nways; i++)
        n += h->ways[i].tag != 0;
    return n;
}

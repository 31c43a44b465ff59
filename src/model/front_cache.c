/* The front translation cache's storage and fill; front_cache.h holds its
 * way layout and the probe the hit path inlines. Ways are seqlocked like
 * every cache way (caches.h) and valid only at the epoch that filled them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "caches.h"

int siov_xc_init(struct siov_caches *c, size_t ntlb)
{
    struct siov_xc_store *x = &c->xc;
    /* the front cache holds what the IOTLB holds, at 4 KiB granularity: twice its
       entries (at least 64), so hot pages rarely collide */
    x->sets = 32;
    x->shift = 64 - 5;
    while (ntlb && (size_t)x->sets * SIOV_XC_WAYS < 2 * ntlb) {
        x->sets *= 2;
        x->shift--;
    }
    if (!ntlb)
        return 0;
    size_t bytes = (size_t)x->sets * SIOV_XC_WAYS * sizeof(*x->ways);
    x->ways = aligned_alloc(64, bytes); /* a set per line */
    if (!x->ways)
        return -ENOMEM;
    memset(x->ways, 0, bytes);
    return 0;
}

void siov_xc_fini(struct siov_caches *c)
{
    free(c->xc.ways);
}

struct siov_xc_view siov_caches_xc_view(const struct siov_caches *c)
{
    return (struct siov_xc_view){c->xc.ways, c->xc.shift, &c->st.clock};
}

/* The size field of a page size; -1 for a size the front cache cannot hold. */
static int size_code(uint64_t page_size)
{
    for (unsigned sz = 0; sz < 3; sz++)
        if (page_size == 1ull << (SIOV_PAGE_SHIFT + SIOV_XC_SIZE_STRIDE * sz))
            return (int)sz;
    return -1;
}

/* Writer: the way to replace among (key, vpn)'s two sets: its own entry, else
   one not valid in this epoch (first set first), else the next in turn. */
static struct siov_xc_way *xc_victim(struct siov_caches *c, uint64_t key, uint64_t vpn, uint64_t epoch)
{
    struct siov_xc_way *w[2 * SIOV_XC_WAYS];
    uint64_t h = siov_xc_hash(key, vpn);
    struct siov_xc_way *first = c->xc.ways + siov_xc_first_set(h, c->xc.shift);
    struct siov_xc_way *second = c->xc.ways + siov_xc_second_set(h, c->xc.shift);
    for (unsigned i = 0; i < SIOV_XC_WAYS; i++) {
        w[i] = &first[i];
        w[SIOV_XC_WAYS + i] = &second[i];
    }
    for (unsigned i = 0; i < 2 * SIOV_XC_WAYS; i++)
        if ((siov_ld(&w[i]->head) & SIOV_XC_HEAD_KEY) == key && siov_ld(&w[i]->vpn) == vpn)
            return w[i];
    for (unsigned i = 0; i < 2 * SIOV_XC_WAYS; i++)
        if (siov_get(siov_ld(&w[i]->stamp_did), SIOV_XC_SD_STAMP) != epoch)
            return w[i];
    return w[c->st.hand++ % (2 * SIOV_XC_WAYS)];
}

void siov_xc_fill_locked(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid, uint64_t addr,
                         const struct siov_xc_hit *hit)
{
    int sz = size_code(hit->page_size);
    if (!c->xc.ways || sz < 0)
        return;
    uint64_t key = siov_xc_key(sid, pasid), vpn = addr >> SIOV_PAGE_SHIFT;
    struct siov_xc_way *w = xc_victim(c, key, vpn, epoch);
    uint64_t val = (hit->page & SIOV_XC_VAL_PAGE) | siov_set(0, SIOV_XC_VAL_PERM_USER, hit->perm_user) |
                   siov_set(0, SIOV_XC_VAL_PERM_SUPER, hit->perm_super) | (hit->dirty ? SIOV_XC_VAL_DIRTY : 0) |
                   siov_set(0, SIOV_XC_VAL_SIZE, (unsigned)sz);
    uint64_t seq = siov_get(siov_ld(&w->head), SIOV_XC_HEAD_SEQ);
    siov_st(&w->head, siov_set(0, SIOV_XC_HEAD_SEQ, seq + 1));
    siov_st_rel(&w->vpn, vpn);
    siov_st_rel(&w->val, val);
    siov_st_rel(&w->stamp_did, siov_set(0, SIOV_XC_SD_STAMP, epoch) | siov_set(0, SIOV_XC_SD_DID, hit->did));
    siov_st_rel(&w->head, siov_set(0, SIOV_XC_HEAD_SEQ, seq + 2) | key);
}

void siov_xc_fill(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid, uint64_t addr,
                  const struct siov_xc_hit *hit)
{
    if (!siov_stamp_fill_begin(c, epoch))
        return;
    siov_xc_fill_locked(c, epoch, sid, pasid, addr, hit);
    siov_stamp_unlock(c);
}

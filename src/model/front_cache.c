/* The front translation cache's storage, fill and device-selective clearing;
 * front_cache.h holds its way layout, its validity rule and the probe the hit
 * path inlines. Ways are seqlocked like every cache way (caches.h). */
#include <errno.h>

#include "caches.h"

#define XC_MIN_SETS 32u /* 64 ways */

static size_t xc_bytes(const struct siov_xc_store *x)
{
    return (size_t)x->sets * SIOV_XC_WAYS * sizeof(struct siov_way);
}

int siov_xc_init(struct siov_caches *c, size_t ntlb)
{
    struct siov_xc_store *x = &c->xc;
    /* as many ways as the IOTLB (at least 64): two candidate sets per page keep
       hot pages from colliding without more room, and the memory a unit
       touches stays in proportion to what it caches */
    x->sets = XC_MIN_SETS;
    x->shift = 64 - 5;
    while (ntlb && (size_t)x->sets * SIOV_XC_WAYS < ntlb) {
        x->sets *= 2;
        x->shift--;
    }
    if (!ntlb)
        return 0;
    x->ways = siov_pages_alloc(xc_bytes(x)); /* 64-byte aligned: a set per line */
    return x->ways ? 0 : -ENOMEM;
}

void siov_xc_fini(struct siov_caches *c)
{
    siov_pages_free(c->xc.ways, xc_bytes(&c->xc));
}

struct siov_xc_view siov_caches_xc_view(const struct siov_caches *c)
{
    return (struct siov_xc_view){c->xc.ways, c->xc.shift, c->st.front};
}

/* The page shift of a page size; 0 for a size the front cache cannot hold. */
static unsigned size_shift(uint64_t page_size)
{
    for (unsigned s = SIOV_PAGE_SHIFT; s <= 30; s += 9)
        if (page_size == 1ull << s)
            return s;
    return 0;
}

/* Writer: whether way w holds an entry still valid. */
static bool xc_alive(const struct siov_caches *c, const struct siov_way *w)
{
    return (siov_ld(&w->head) & SIOV_WAY_HEAD_KEY) && siov_xc_valid(c->st.front, siov_ld(&w->stamp));
}

/* The four candidate ways of (key, vpn): its first set's, then its second's. */
static void xc_candidates(struct siov_caches *c, uint64_t key, uint64_t vpn, struct siov_way *w[2 * SIOV_XC_WAYS])
{
    uint64_t h = siov_xc_hash(key, vpn);
    struct siov_way *first = c->xc.ways + siov_xc_first_set(h, c->xc.shift);
    struct siov_way *second = c->xc.ways + siov_xc_second_set(h, c->xc.shift);
    for (unsigned i = 0; i < SIOV_XC_WAYS; i++) {
        w[i] = &first[i];
        w[SIOV_XC_WAYS + i] = &second[i];
    }
}

/* Writer: make room in a full way by moving its entry to a free way of its
   other set (one cuckoo step); true if it moved. Readers may miss it for the
   moment between the two writes, and a miss is always correct. */
static bool xc_relocate(struct siov_caches *c, struct siov_way *w)
{
    uint64_t key = siov_ld(&w->head) & SIOV_WAY_HEAD_KEY, vpn = siov_ld(&w->vpn);
    struct siov_way *cand[2 * SIOV_XC_WAYS];
    xc_candidates(c, key, vpn, cand);
    bool in_first = w == cand[0] || w == cand[1];
    for (unsigned i = 0; i < SIOV_XC_WAYS; i++) {
        struct siov_way *to = cand[in_first ? SIOV_XC_WAYS + i : i];
        if (to != w && !xc_alive(c, to)) {
            siov_way_write(to, key, vpn, siov_ld(&w->val), siov_ld(&w->stamp));
            return true;
        }
    }
    return false;
}

/* Writer: the way to replace among (key, vpn)'s two sets: its own entry, else
   one not valid any more (first set first), else one whose entry moves to its
   other set, else the next in turn. Moves are tried only while fewer than
   3/4 of the ways have been filled since everything was last invalidated:
   in a full cache they rarely find room, and misses would pay for them. */
static struct siov_way *xc_victim(struct siov_caches *c, uint64_t key, uint64_t vpn)
{
    struct siov_way *w[2 * SIOV_XC_WAYS];
    xc_candidates(c, key, vpn, w);
    for (unsigned i = 0; i < 2 * SIOV_XC_WAYS; i++)
        if ((siov_ld(&w[i]->head) & SIOV_WAY_HEAD_KEY) == key && siov_ld(&w[i]->vpn) == vpn)
            return w[i];
    uint64_t all = siov_ld(&c->st.front[SIOV_XC_INV_ALL]);
    if (c->xc.used_since != all) { /* everything was invalidated: count afresh */
        c->xc.used_since = all;
        c->xc.used = 0;
    }
    for (unsigned i = 0; i < 2 * SIOV_XC_WAYS; i++)
        if (!xc_alive(c, w[i])) {
            c->xc.used++;
            return w[i];
        }
    size_t ways = (size_t)c->xc.sets * SIOV_XC_WAYS;
    for (unsigned i = 0; c->xc.used < ways - ways / 4 && i < 2 * SIOV_XC_WAYS; i++)
        if (xc_relocate(c, w[i]))
            return w[i];
    return w[c->st.hand++ % (2 * SIOV_XC_WAYS)];
}

void siov_xc_fill_locked(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid, uint64_t addr,
                         const struct siov_xc_hit *hit)
{
    unsigned shift = size_shift(hit->page_size);
    if (!c->xc.ways || !shift || (pasid != SIOV_NO_PASID && pasid > SIOV_PASID_MAX))
        return;
    uint64_t key = siov_xc_key(sid, pasid), vpn = addr >> SIOV_PAGE_SHIFT;
    /* a request without a PASID carries no PR: its privileged grant is its user grant */
    unsigned super = pasid == SIOV_NO_PASID ? hit->perm_user : hit->perm_super;
    uint64_t val = (hit->page & SIOV_XC_VAL_PAGE) | siov_set(0, SIOV_XC_VAL_PERM_USER, hit->perm_user) |
                   siov_set(0, SIOV_XC_VAL_PERM_SUPER, super) | (hit->dirty ? SIOV_XC_VAL_DIRTY : 0) |
                   siov_set(0, SIOV_XC_VAL_SHIFT, shift);
    siov_way_write(xc_victim(c, key, vpn), key, vpn, val,
                   siov_set(0, SIOV_XC_SD_STAMP, epoch) | siov_set(0, SIOV_XC_SD_DID, hit->did));
}

void siov_xc_fill(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid, uint64_t addr,
                  const struct siov_xc_hit *hit)
{
    if (!siov_stamp_fill_begin(c, epoch))
        return;
    siov_xc_fill_locked(c, epoch, sid, pasid, addr, hit);
    siov_stamp_unlock(c);
}

void siov_xc_inv_sids(struct siov_caches *c, siov_sid sid, unsigned mask)
{
    size_t n = (size_t)c->xc.sets * SIOV_XC_WAYS;
    for (size_t i = 0; c->xc.ways && i < n; i++) {
        struct siov_way *w = &c->xc.ways[i];
        uint64_t head = siov_ld(&w->head);
        if ((head & SIOV_WAY_HEAD_KEY) && ((siov_get(head, SIOV_XC_KEY_SID) ^ sid) & ~mask & 0xFFFFu) == 0)
            siov_way_clear(w);
    }
}

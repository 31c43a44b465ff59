/* The built-in device TLB (ATC) a device model embeds (ats.h): the way
   layout the inline probe reads, the out-of-line path (range ways, the
   translation request, the fill), the device-TLB invalidations the unit sends
   to it as its port, the grace period that lets in-flight translated DMA
   finish before an invalidation completes, and the stale checker's view of
   its hits. Concurrency: ways are seqlocked as the unit's caches are
   (caches.h); writers (fills, invalidations) hold wlock, fills only try it. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "caches.h"
#include "exact_cache.h"
#include "internal.h"

#define RW (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE)
#define RWX (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC)
#define MIN_ENTRIES 4u          /* two sets: the set index shifts by less than 64 */
#define MAX_ENTRIES (1u << 24)
#define MIN_SLOTS 64u
#define MAX_SLOTS 4096u         /* PASID generation slots */
#define KEY_BITS (SIOV_ATC_TAG_VALID | SIOV_ATC_TAG_NOPASID | SIOV_ATC_TAG_PASID | SIOV_ATC_TAG_PRIV)
#define GEN_ONE (SIOV_ATC_TAG_GEN & -SIOV_ATC_TAG_GEN) /* one step of a generation */

/* With the stale checker on, the probe's generations never match: every
   lookup takes the out-of-line path, which checks its hits. */
static const uint64_t never_gen[2] = {SIOV_ATC_TAG_SEQ_ODD, SIOV_ATC_TAG_SEQ_ODD};

struct siov_atc {
    struct siov_atc_abi abi; /* first: what siov_atc_translate reads (ats.h) */
    struct siov_iommu *iommu;
    siov_sid sid;
    struct siov_atc_way *ways;
    uint64_t *gen;           /* nslots + 1 generations (the last: no PASID) */
    uint64_t *live;          /* valid ways per slot (writer), for entries_dropped */
    unsigned nways, nslots, set_shift;
    uint64_t classes;        /* bit c: range ways of class c may exist (writer) */
    bool check;              /* the unit's stale checker is on */
    pthread_mutex_t wlock;   /* fills (tried), invalidations, page-response setting */
    uint64_t inv_count;      /* invalidations received: a fill from before one is dropped */
    void (*pr_fn)(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prg_index, unsigned code);
    void *pr_opaque;
    uint64_t slow_hits, misses, ats_requests, invalidations, dropped; /* relaxed atomics */
    uint64_t cleared;        /* live ways emptied by invalidations (writer) */
    pthread_mutex_t gp_lock; /* one grace period at a time */
    uint64_t rd_gen __attribute__((aligned(64)));
    uint64_t rd_active[2];   /* translated DMA in flight, by rd_gen parity */
    /* A hardware-like ATC (siov_atc_new_config with ways): one exact-cache
       entry per completion, tagged key | class of its size, under wlock;
       the inline probe never matches. */
    struct siov_exact_cache *exact;
    uint64_t exact_classes;  /* bit c: entries of size class c may exist */
};

static inline uint64_t ld(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline uint64_t ld_acq(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static inline void st(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }
static inline void st_rel(uint64_t *p, uint64_t v) { __atomic_store_n(p, v, __ATOMIC_RELEASE); }
static inline void count(uint64_t *c, uint64_t n) { __atomic_fetch_add(c, n, __ATOMIC_RELAXED); }

/* ------------------------------------------------------------ layout */
static unsigned slot_of_tag(const struct siov_atc *a, uint64_t tag)
{
    return (tag & SIOV_ATC_TAG_NOPASID) ? a->nslots : (unsigned)(tag & SIOV_ATC_TAG_PASID & (a->nslots - 1));
}

static struct siov_atc_way *set_of(const struct siov_atc *a, uint64_t keyc, uint64_t page)
{
    return a->ways + 2 * (((page ^ keyc) * SIOV_ATC_HASH_MUL) >> a->set_shift);
}

static uint64_t class_bits(unsigned c)
{
    return siov_set(0, SIOV_ATC_TAG_CLASS, c);
}

/* Writer: whether way w holds a translation that no invalidation has dropped. */
static bool way_live(const struct siov_atc *a, const struct siov_atc_way *w)
{
    uint64_t t = ld(&w->tag);
    return (t & SIOV_ATC_TAG_VALID) && (t & SIOV_ATC_TAG_GEN) == ld(&a->gen[slot_of_tag(a, t)]);
}

/* A stable read of way w for keyc (class bits included) at page under the
   current generations: true with its value and size. */
static bool way_read(const struct siov_atc *a, const struct siov_atc_way *w, uint64_t keyc, unsigned slot,
                     uint64_t page, uint64_t *val, uint64_t *size)
{
    uint64_t t = ld_acq(&w->tag);
    if ((t & SIOV_ATC_TAG_MATCH) != (keyc | ld_acq(&a->gen[slot])) || ld_acq(&w->page) != page)
        return false;
    *val = ld_acq(&w->val);
    *size = ld_acq(&w->size);
    return ld(&w->tag) == t;
}

static bool set_read(const struct siov_atc *a, uint64_t keyc, unsigned slot, uint64_t page, uint64_t *val,
                     uint64_t *size)
{
    const struct siov_atc_way *s = set_of(a, keyc, page);
    return way_read(a, &s[0], keyc, slot, page, val, size) || way_read(a, &s[1], keyc, slot, page, val, size);
}

/* Writer: replace way w (tag 0 empties it), keeping the live counts. */
static void way_write(struct siov_atc *a, struct siov_atc_way *w, uint64_t tag, uint64_t page, uint64_t val,
                      uint64_t size)
{
    if (way_live(a, w)) {
        a->live[slot_of_tag(a, ld(&w->tag))]--;
        a->cleared += !tag;
    }
    uint64_t seq = siov_get(ld(&w->tag), SIOV_ATC_TAG_SEQ);
    st(&w->tag, siov_set(0, SIOV_ATC_TAG_SEQ, seq + 1));
    st_rel(&w->page, page);
    st_rel(&w->val, val);
    st_rel(&w->size, size);
    st_rel(&w->tag, siov_set(tag, SIOV_ATC_TAG_SEQ, seq + 2));
    if (tag)
        a->live[slot_of_tag(a, tag)]++;
}

static void drop_pages(struct siov_atc *a, uint64_t key, uint64_t base, uint64_t size);

/* Writer: put (tag, page) in its set: its own way, a free one, else way 0
   after moving way 0's entry to way 1 (the newest stays where the probe
   looks first). A range way pushed out takes its page ways with it: an
   invalidation of its range finds them only through it. */
static void set_put(struct siov_atc *a, uint64_t tag, uint64_t page, uint64_t val, uint64_t size)
{
    uint64_t keyc = tag & (KEY_BITS | SIOV_ATC_TAG_CLASS);
    struct siov_atc_way *s = set_of(a, keyc, page);
    for (int i = 0; i < 2; i++) {
        if ((ld(&s[i].tag) & (KEY_BITS | SIOV_ATC_TAG_CLASS)) == keyc && ld(&s[i].page) == page) {
            way_write(a, &s[i], tag, page, val, size);
            return;
        }
    }
    for (int i = 0; i < 2; i++) {
        if (!way_live(a, &s[i])) {
            way_write(a, &s[i], tag, page, val, size);
            return;
        }
    }
    uint64_t out_tag = ld(&s[1].tag), out_page = ld(&s[1].page), out_size = ld(&s[1].size);
    way_write(a, &s[1], ld(&s[0].tag) & ~SIOV_ATC_TAG_SEQ, ld(&s[0].page), ld(&s[0].val), ld(&s[0].size));
    way_write(a, &s[0], tag, page, val, size);
    if (siov_get(out_tag, SIOV_ATC_TAG_CLASS))
        drop_pages(a, out_tag & KEY_BITS, out_page, out_size);
}

/* ------------------------------------------------ the hardware-like ATC */
/* The input range [base, base + size) of the completion way w belongs to. */
static void way_range(const struct siov_atc_way *w, uint64_t *base, uint64_t *size)
{
    *size = ld(&w->size);
    *base = ld(&w->page) & ~(*size - 1);
}

/* Whether [b1, b1 + s1) and [b2, b2 + s2) overlap (sizes may reach 2^64 - 1). */
static bool overlaps(uint64_t b1, uint64_t s1, uint64_t b2, uint64_t s2)
{
    return b1 <= b2 + (s2 - 1) && b2 <= b1 + (s1 - 1);
}

/* The set key of a request key: its PASID (or no-PASID) field. */
static uint64_t exact_setkey(uint64_t key)
{
    return key & (SIOV_ATC_TAG_PASID | SIOV_ATC_TAG_NOPASID);
}

/* Writer: keep completion c of (key, iova) as one entry of its size. */
static void exact_fill(struct siov_atc *a, uint64_t key, uint64_t iova, const struct siov_ats_completion *c)
{
    unsigned cls = (unsigned)__builtin_ctzll(c->size) - SIOV_PAGE_SHIFT;
    uint64_t perm = (c->r ? SIOV_ACCESS_READ : 0) | (c->w ? SIOV_ACCESS_WRITE : 0);
    siov_exact_fill(a->exact, key | class_bits(cls), exact_setkey(key), iova >> (SIOV_PAGE_SHIFT + cls),
                    (c->addr & SIOV_ATC_VAL_ADDR) | perm);
    a->exact_classes |= 1ull << cls;
}

/* The completion holding iova under key, smallest size first (LRU refreshes it). */
static bool exact_lookup(struct siov_atc *a, uint64_t key, uint64_t iova, uint64_t *val, uint64_t *size)
{
    bool hit = false;
    pthread_mutex_lock(&a->wlock);
    for (uint64_t classes = a->exact_classes; classes && !hit; classes &= classes - 1) {
        unsigned c = (unsigned)__builtin_ctzll(classes), shift = SIOV_PAGE_SHIFT + c;
        if (!siov_exact_lookup(a->exact, key | class_bits(c), exact_setkey(key), iova >> shift, val))
            continue;
        uint64_t base = iova & ~((1ull << shift) - 1);
        *val = ((*val & SIOV_ATC_VAL_ADDR) + ((iova & SIOV_PAGE_MASK) - base)) | (*val & SIOV_ATC_VAL_PERM);
        *size = 1ull << shift;
        hit = true;
    }
    pthread_mutex_unlock(&a->wlock);
    return hit;
}

/* What a device-TLB invalidation names, for the exact cache's removal. */
struct exact_scope {
    uint64_t key;       /* the PASID's key (PRIV aside); unused when global */
    uint64_t base, size;
    bool global, all;
    uint64_t removed;
};

static bool exact_match(const void *ctx, uint64_t tag, uint64_t vpn, uint64_t val)
{
    (void)val;
    struct exact_scope *sc = (struct exact_scope *)(uintptr_t)ctx; /* counts what it removes */
    unsigned shift = SIOV_PAGE_SHIFT + (unsigned)siov_get(tag, SIOV_ATC_TAG_CLASS);
    uint64_t id = tag & (SIOV_ATC_TAG_PASID | SIOV_ATC_TAG_NOPASID);
    if (!sc->global && id != (sc->key & (SIOV_ATC_TAG_PASID | SIOV_ATC_TAG_NOPASID)))
        return false;
    if (sc->global && (tag & SIOV_ATC_TAG_NOPASID))
        return false; /* global: every PASID's entries, not those without PASID */
    bool hit = sc->all || overlaps(vpn << shift, 1ull << shift, sc->base, sc->size);
    sc->removed += hit;
    return hit;
}

/* ---------------------------------------------------------------- fill */
/* The tag bits of a request of pasid with access (ats.h: siov_atc_key). */
static uint64_t key_of(uint32_t pasid, unsigned access)
{
    return siov_atc_key(pasid, access);
}

static unsigned slot_of(const struct siov_atc *a, uint32_t pasid)
{
    return pasid == SIOV_NO_PASID ? a->nslots : (pasid & (a->nslots - 1));
}

/* Keep completion c of (key, iova): its range way (above 4 KiB) and the
   way of iova's page. Dropped when an invalidation arrived since inv0 (the
   completion may predate it) or another writer holds the lock. */
static void fill(struct siov_atc *a, uint64_t key, unsigned slot, uint64_t iova, const struct siov_ats_completion *c,
                 uint64_t inv0)
{
    if (pthread_mutex_trylock(&a->wlock))
        return; /* a skipped fill is always correct */
    if (ld(&a->inv_count) == inv0 && a->exact) {
        exact_fill(a, key, iova, c);
    } else if (ld(&a->inv_count) == inv0) {
        uint64_t perm = (c->r ? SIOV_ACCESS_READ : 0) | (c->w ? SIOV_ACCESS_WRITE : 0);
        uint64_t tag = key | ld(&a->gen[slot]), base = iova & ~(c->size - 1), page = iova & SIOV_PAGE_MASK;
        if (c->size > SIOV_PAGE_SIZE) {
            unsigned cls = (unsigned)__builtin_ctzll(c->size) - SIOV_PAGE_SHIFT;
            set_put(a, tag | class_bits(cls), base, (c->addr & SIOV_ATC_VAL_ADDR) | perm, c->size);
            a->classes |= 1ull << cls;
        }
        set_put(a, tag, page, ((c->addr + (page - base)) & SIOV_ATC_VAL_ADDR) | perm, c->size);
    }
    pthread_mutex_unlock(&a->wlock);
}

/* Writer-free lookup of iova's page under key: its page way, else a range
   way of a class present (then the page way is added for the probe). */
static bool lookup(struct siov_atc *a, uint64_t key, unsigned slot, uint64_t iova, uint64_t *val, uint64_t *size)
{
    if (a->exact)
        return exact_lookup(a, key, iova, val, size);
    uint64_t page = iova & SIOV_PAGE_MASK;
    if (set_read(a, key, slot, page, val, size))
        return true;
    uint64_t classes = __atomic_load_n(&a->classes, __ATOMIC_RELAXED);
    while (classes) {
        unsigned c = (unsigned)__builtin_ctzll(classes);
        classes &= classes - 1;
        uint64_t sz = 1ull << (c + SIOV_PAGE_SHIFT), base = iova & ~(sz - 1); /* c < 52: sizes fit 64 bits */
        if (!set_read(a, key | class_bits(c), slot, base, val, size))
            continue;
        *val = ((*val & SIOV_ATC_VAL_ADDR) + (page - base)) | (*val & SIOV_ATC_VAL_PERM);
        uint64_t inv0 = ld_acq(&a->inv_count);
        if (!pthread_mutex_trylock(&a->wlock)) { /* the page way, so that the probe finds it */
            if (ld(&a->inv_count) == inv0 && set_read(a, key | class_bits(c), slot, base, &(uint64_t){0},
                                                      &(uint64_t){0}))
                set_put(a, key | ld(&a->gen[slot]), page, *val, *size);
            pthread_mutex_unlock(&a->wlock);
        }
        return true;
    }
    return false;
}

/* ------------------------------------------------------- the slow path */
/* The stale checker (cfg.stale_check): the ATC answered x for a request
   of access; compare with what a translation request would get now, without
   the unit's caches. Only what the ATC grants matters: a page that became
   writable since a read-only fill is not stale. */
static void stale_check(struct siov_atc *a, uint32_t pasid, uint64_t iova, unsigned access,
                        const struct siov_xlate *x)
{
    struct siov_iommu *u = a->iommu;
    uint64_t state = __atomic_load_n(&u->state, __ATOMIC_ACQUIRE);
    unsigned ra = SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_READ | (access & (SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC)) |
                  ((x->perm & SIOV_ACCESS_WRITE) ? 0 : SIOV_ACCESS_NO_WRITE);
    struct siov_req r = siov_req_make(u, a->sid, pasid, iova, ra);
    r.nocache = true;
    r.epoch = 0; /* never the clock: nothing it walks is filled */
    struct siov_ats_completion c = {.status = SIOV_ATS_UR};
    siov_fault ff = (state & SIOV_STATE_TE) ? siov_ats_request(u, state, &r, &c) : SIOV_ERR_BUS;
    unsigned fperm = (c.r ? SIOV_ACCESS_READ : 0) | (c.w ? SIOV_ACCESS_WRITE : 0);
    struct siov_xlate fx = {c.addr + (iova & (c.size - 1)), c.size, fperm, 0};
    if (!ff && (c.untranslated_only || (x->perm & ~fperm)))
        ff = SIOV_ERR_NOT_PRESENT;
    if (!ff && fx.addr == x->addr && fx.page_size == x->page_size)
        return;
    siov_stat_inc(&u->stats.stale_hits);
    if (!u->cfg.stale_report)
        return;
    struct siov_stale_report rep = {a->sid, pasid, iova, access, SIOV_CACHE_ATC, SIOV_OK, ff, *x,
                                    ff ? (struct siov_xlate){0} : fx, false, 0, {0}, {0}};
    u->cfg.stale_report(u->cfg.stale_opaque, &rep);
}

/* A translation request for iova, and the fill of its answer. */
static siov_fault request(struct siov_atc *a, uint32_t pasid, uint64_t iova, unsigned access,
                          struct siov_ats_completion *c)
{
    uint64_t inv0 = ld_acq(&a->inv_count);
    unsigned ra = (access & (SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC)) |
                  ((access & SIOV_ACCESS_WRITE) ? 0 : SIOV_ACCESS_NO_WRITE); /* a read-only fill sets no D */
    count(&a->ats_requests, 1);
    siov_fault f = siov_ats_translate(a->iommu, a->sid, pasid, iova, ra, c);
    if (!f && !c->untranslated_only && (c->r || c->w)) /* not present and U=1 answers are not kept */
        fill(a, key_of(pasid, access), slot_of(a, pasid), iova, c, inv0);
    return f;
}

/* siov_atc_translate's out-of-line path; *u_only: the unit answered U=1. */
static siov_fault slow(struct siov_atc *a, uint32_t pasid, uint64_t iova, unsigned access, struct siov_xlate *out,
                       bool *u_only)
{
    *u_only = false;
    if (pasid == SIOV_NO_PASID)
        access &= ~(SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC);
    if (access & SIOV_ACCESS_EXEC)
        return SIOV_ERR_NOT_PRESENT; /* completions never grant Exe (facts 13.3) */
    uint64_t key = key_of(pasid, access), val, size;
    if (lookup(a, key, slot_of(a, pasid), iova, &val, &size) && !(access & RW & ~val)) {
        *out = (struct siov_xlate){(val & SIOV_ATC_VAL_ADDR) | (iova & ~SIOV_PAGE_MASK), size,
                                   (unsigned)(val & SIOV_ATC_VAL_PERM), 0};
        count(&a->slow_hits, 1);
        if (a->check)
            stale_check(a, pasid, iova, access, out);
        return SIOV_OK;
    }
    count(&a->misses, 1);
    struct siov_ats_completion c;
    siov_fault f = request(a, pasid, iova, access, &c);
    if (f)
        return f;
    unsigned perm = (c.r ? SIOV_ACCESS_READ : 0) | (c.w ? SIOV_ACCESS_WRITE : 0);
    *u_only = c.untranslated_only;
    if (c.untranslated_only || (access & RW & ~perm))
        return SIOV_ERR_NOT_PRESENT;
    *out = (struct siov_xlate){c.addr + (iova & (c.size - 1)), c.size, perm, 0};
    return SIOV_OK;
}

siov_fault siov_atc_translate_slow(struct siov_atc *atc, uint32_t pasid, uint64_t iova, unsigned access,
                                   struct siov_xlate *out)
{
    bool u_only;
    if (!atc || !out)
        return SIOV_FAULT_RTA_1;
    return slow(atc, pasid, iova, access, out, &u_only);
}

/* ------------------------------------------------------- invalidation */

/* Writer: empty every live way that keys match (the key bits under mask)
   whose completion overlaps [base, base + size): a scan of the whole ATC. */
static void scan_drop(struct siov_atc *a, uint64_t key, uint64_t mask, uint64_t base, uint64_t size)
{
    for (unsigned i = 0; i < a->nways; i++) {
        struct siov_atc_way *w = &a->ways[i];
        uint64_t wb, ws;
        if (!way_live(a, w) || (ld(&w->tag) & mask) != key)
            continue;
        way_range(w, &wb, &ws);
        if (overlaps(wb, ws, base, size))
            way_write(a, w, 0, 0, 0, 0);
    }
}

/* Writer: the live way of keyc at page in its set, or NULL. */
static struct siov_atc_way *find(struct siov_atc *a, uint64_t keyc, uint64_t page)
{
    struct siov_atc_way *s = set_of(a, keyc, page);
    for (int i = 0; i < 2; i++)
        if (way_live(a, &s[i]) && (ld(&s[i].tag) & (KEY_BITS | SIOV_ATC_TAG_CLASS)) == keyc &&
            ld(&s[i].page) == page)
            return &s[i];
    return NULL;
}

/* Writer: drop the page ways of key in [base, base + size): probe each page,
   or scan when the range has more pages than the ATC has ways. A page way of
   a larger completion needs nothing more here: that completion's range way
   lives while any of its page ways does (set_put), and drop_range finds it. */
static void drop_pages(struct siov_atc *a, uint64_t key, uint64_t base, uint64_t size)
{
    if (size / SIOV_PAGE_SIZE > a->nways) {
        scan_drop(a, key, KEY_BITS, base, size);
        return;
    }
    for (uint64_t p = base; p - base < size; p += SIOV_PAGE_SIZE) {
        struct siov_atc_way *w = find(a, key, p);
        if (w)
            way_write(a, w, 0, 0, 0, 0);
    }
}

/* Writer: drop what one key (a PASID, privileged or not, or no PASID) holds
   in [base, base + size): each completion overlapping it, whole. */
static void drop_range(struct siov_atc *a, uint64_t key, uint64_t base, uint64_t size)
{
    if (size / SIOV_PAGE_SIZE > a->nways) {
        scan_drop(a, key, KEY_BITS, base, size);
        return;
    }
    for (uint64_t cl = a->classes; cl; cl &= cl - 1) { /* larger completions that overlap it */
        unsigned c = (unsigned)__builtin_ctzll(cl);
        uint64_t csize = 1ull << (c + SIOV_PAGE_SHIFT);
        for (uint64_t b = base & ~(csize - 1); b <= base + (size - 1); b += csize) {
            struct siov_atc_way *r = find(a, key | class_bits(c), b);
            if (r) {
                way_write(a, r, 0, 0, 0, 0);
                drop_pages(a, key, b, csize);
            }
            if (b + csize < b)
                break;
        }
    }
    drop_pages(a, key, base, size);
}

/* Writer: a slot's invalidation is a new generation: one store, whatever the
   ATC's size. When the 20-bit count wraps, the slot's old ways are emptied
   first so that none can match again. */
static void bump(struct siov_atc *a, unsigned slot)
{
    uint64_t g = ld(&a->gen[slot]) + GEN_ONE;
    if (!g)
        for (unsigned i = 0; i < a->nways; i++)
            if ((ld(&a->ways[i].tag) & SIOV_ATC_TAG_VALID) && slot_of_tag(a, ld(&a->ways[i].tag)) == slot)
                way_write(a, &a->ways[i], 0, 0, 0, 0);
    a->cleared += a->live[slot];
    a->live[slot] = 0;
    st_rel(&a->gen[slot], g);
}

/* Writer: the invalidation of a device-TLB descriptor (port.h's scope). */
static void invalidate(struct siov_atc *a, uint32_t pasid, uint64_t base, uint64_t size, bool global)
{
    bool all = size == UINT64_MAX || (size & (size - 1));
    if (a->exact) {
        struct exact_scope sc = {key_of(pasid, 0), base, size, global, all, 0};
        siov_exact_drop(a->exact, exact_match, &sc);
        a->cleared += sc.removed;
        return;
    }
    if (global && all) {
        for (unsigned s = 0; s < a->nslots; s++)
            bump(a, s);
    } else if (global) { /* the range for every PASID: its ways are found by a scan */
        scan_drop(a, SIOV_ATC_TAG_VALID, SIOV_ATC_TAG_VALID | SIOV_ATC_TAG_NOPASID, base, size);
    } else if (all) {
        bump(a, slot_of(a, pasid));
    } else {
        uint64_t key = key_of(pasid, 0);
        drop_range(a, key, base, size);
        if (pasid != SIOV_NO_PASID)
            drop_range(a, key | SIOV_ATC_TAG_PRIV, base, size);
    }
}

/* --------------------------------------------------------- grace period */
/* A translated DMA starts: counted under the current reader generation
   (re-read after counting, so that a grace period that began meanwhile
   either waits for it or is seen by it). Returns the counter to release. */
static unsigned read_enter(struct siov_atc *a)
{
    for (;;) {
        uint64_t g = __atomic_load_n(&a->rd_gen, __ATOMIC_SEQ_CST);
        __atomic_fetch_add(&a->rd_active[g & 1], 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&a->rd_gen, __ATOMIC_SEQ_CST) == g)
            return (unsigned)(g & 1);
        __atomic_fetch_sub(&a->rd_active[g & 1], 1, __ATOMIC_SEQ_CST);
    }
}

static void read_exit(struct siov_atc *a, unsigned idx)
{
    __atomic_fetch_sub(&a->rd_active[idx], 1, __ATOMIC_RELEASE);
}

/* After dropping entries: wait until every translated DMA that may have
   looked them up has finished (later ones see the drop). */
static void grace_period(struct siov_atc *a)
{
    pthread_mutex_lock(&a->gp_lock);
    uint64_t g = __atomic_fetch_add(&a->rd_gen, 1, __ATOMIC_SEQ_CST);
    while (__atomic_load_n(&a->rd_active[g & 1], __ATOMIC_ACQUIRE))
        sched_yield();
    pthread_mutex_unlock(&a->gp_lock);
}

/* ----------------------------------------------------------- the port */
static void port_invalidate(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                            unsigned itag)
{
    struct siov_atc *a = opaque;
    pthread_mutex_lock(&a->wlock);
    uint64_t before = a->cleared;
    invalidate(a, pasid, addr, size, global);
    count(&a->dropped, a->cleared - before);
    st_rel(&a->inv_count, ld(&a->inv_count) + 1); /* fills requested before now are dropped */
    pthread_mutex_unlock(&a->wlock);
    count(&a->invalidations, 1);
    grace_period(a);
    siov_devtlb_complete(a->iommu, sid, itag);
}

static void port_page_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prg_index, unsigned code)
{
    struct siov_atc *a = opaque;
    pthread_mutex_lock(&a->wlock);
    void (*fn)(void *, siov_sid, uint32_t, uint16_t, unsigned) = a->pr_fn;
    void *op = a->pr_opaque;
    pthread_mutex_unlock(&a->wlock);
    if (fn)
        fn(op, sid, pasid, prg_index, code);
}

void siov_atc_set_page_response(struct siov_atc *atc,
                                void (*fn)(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prg_index,
                                           unsigned code),
                                void *opaque)
{
    if (!atc)
        return;
    pthread_mutex_lock(&atc->wlock);
    atc->pr_fn = fn;
    atc->pr_opaque = opaque;
    pthread_mutex_unlock(&atc->wlock);
}

/* ------------------------------------------------------------------ DMA */
/* Translated DMA of len bytes at iova: piece by piece through the ATC, each
   piece sent as translated requests; inside one read-side section. */
static siov_fault atc_dma(struct siov_atc *a, uint32_t pasid, uint64_t iova, uint8_t *buf, size_t len, bool write)
{
    if (!a)
        return SIOV_FAULT_RTA_1;
    if ((!buf && len) || (len && iova + (len - 1) < iova))
        return SIOV_ERR_BUS;
    unsigned idx = read_enter(a);
    siov_fault f = SIOV_OK;
    while (len && !f) {
        struct siov_xlate x;
        bool u_only;
        f = slow(a, pasid, iova, write ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ, &x, &u_only);
        uint64_t room = (f ? SIOV_PAGE_SIZE : x.page_size) - (iova & ((f ? SIOV_PAGE_SIZE : x.page_size) - 1));
        size_t n = len < room ? len : (size_t)room;
        if (f == SIOV_ERR_NOT_PRESENT && u_only) /* U=1: untranslated requests (facts 13.3, S.1) */
            f = write ? siov_dma_write(a->iommu, a->sid, pasid, iova, buf, n)
                      : siov_dma_read(a->iommu, a->sid, pasid, iova, buf, n);
        else if (!f)
            f = write ? siov_dma_write_translated(a->iommu, a->sid, x.addr, buf, n)
                      : siov_dma_read_translated(a->iommu, a->sid, x.addr, buf, n);
        buf += n;
        iova += n;
        len -= n;
    }
    read_exit(a, idx);
    return f;
}

siov_fault siov_atc_dma_read(struct siov_atc *atc, uint32_t pasid, uint64_t iova, void *dst, size_t len)
{
    return atc_dma(atc, pasid, iova, dst, len, false);
}

siov_fault siov_atc_dma_write(struct siov_atc *atc, uint32_t pasid, uint64_t iova, const void *src, size_t len)
{
    return atc_dma(atc, pasid, iova, (uint8_t *)(uintptr_t)src, len, true); /* only read when writing */
}

/* ------------------------------------------------------------ lifetime */
static void atc_release(struct siov_atc *a)
{
    siov_exact_free(a->exact);
    pthread_mutex_destroy(&a->wlock);
    pthread_mutex_destroy(&a->gp_lock);
    siov_pages_free(a->ways, (size_t)a->nways * sizeof(*a->ways));
    free(a->gen);
    free(a->live);
    free(a);
}

/* Sizes for about entries ways: a power of two of at least MIN_ENTRIES, and
   the PASID generation slots (the ATC's size, within MIN/MAX_SLOTS). */
static void geometry(struct siov_atc *a, unsigned entries)
{
    unsigned n = MIN_ENTRIES, bits = 2;
    while (n < entries) {
        n *= 2;
        bits++;
    }
    a->nways = n;
    a->set_shift = 64 - (bits - 1); /* 2 ways a set */
    a->nslots = n < MIN_SLOTS ? MIN_SLOTS : n > MAX_SLOTS ? MAX_SLOTS : n;
}

static const struct siov_device_ops atc_ops = {port_invalidate, port_page_response};

/* A new ATC of entries for sid (exact: a hardware-like one), attached as its port. */
static struct siov_atc *atc_create(struct siov_iommu *iommu, siov_sid sid, unsigned entries,
                                   struct siov_exact_cache *exact)
{
    struct siov_atc *a = aligned_alloc(64, sizeof(*a));
    if (!a) {
        siov_exact_free(exact);
        errno = ENOMEM;
        return NULL;
    }
    memset(a, 0, sizeof(*a));
    geometry(a, exact ? MIN_ENTRIES : entries);
    a->iommu = iommu;
    a->sid = sid;
    a->check = iommu->cfg.stale_check;
    a->exact = exact;
    a->ways = siov_pages_alloc((size_t)a->nways * sizeof(*a->ways)); /* zeroed as first touched */
    a->gen = calloc(a->nslots + 1, sizeof(*a->gen));
    a->live = calloc(a->nslots + 1, sizeof(*a->live));
    bool locks = !pthread_mutex_init(&a->wlock, NULL) && !pthread_mutex_init(&a->gp_lock, NULL);
    if (!a->ways || !a->gen || !a->live || !locks) {
        atc_release(a);
        errno = ENOMEM;
        return NULL;
    }
    bool inline_off = a->check || exact; /* every lookup out of line: checked, or exact */
    a->abi = (struct siov_atc_abi){a->ways, inline_off ? never_gen : a->gen, a->set_shift,
                                   inline_off ? 0 : a->nslots - 1, 0};
    int rc = siov_device_port(iommu, sid, &atc_ops, a);
    if (rc) {
        atc_release(a);
        errno = -rc;
        return NULL;
    }
    return a;
}

struct siov_atc *siov_atc_new(struct siov_iommu *iommu, siov_sid sid, unsigned entries)
{
    if (!iommu || !entries || entries > MAX_ENTRIES) {
        errno = EINVAL;
        return NULL;
    }
    return atc_create(iommu, sid, entries, NULL);
}

struct siov_atc *siov_atc_new_config(struct siov_iommu *iommu, siov_sid sid, const struct siov_atc_config *cfg)
{
    if (!iommu || !cfg || !cfg->entries || cfg->entries > MAX_ENTRIES || cfg->policy > SIOV_POLICY_RANDOM ||
        (cfg->ways && (cfg->entries % cfg->ways))) {
        errno = EINVAL;
        return NULL;
    }
    if (!cfg->ways)
        return atc_create(iommu, sid, cfg->entries, NULL);
    struct siov_exact_cache *e = siov_exact_new(cfg->entries / cfg->ways, cfg->ways, cfg->policy, cfg->seed);
    if (!e) {
        errno = ENOMEM;
        return NULL;
    }
    return atc_create(iommu, sid, cfg->entries, e);
}

void siov_atc_free(struct siov_atc *atc)
{
    if (!atc)
        return;
    siov_device_port(atc->iommu, atc->sid, NULL, NULL);
    atc_release(atc);
}

void siov_atc_stats(const struct siov_atc *atc, struct siov_atc_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!atc)
        return;
    out->hits = ld(&atc->abi.hits) + ld(&atc->slow_hits);
    out->misses = ld(&atc->misses);
    out->ats_requests = ld(&atc->ats_requests);
    out->invalidations = ld(&atc->invalidations);
    out->entries_dropped = ld(&atc->dropped);
}

/* --------------------------------------------------------------- listing */
static int entry_cmp(const void *x, const void *y)
{
    const struct siov_atc_entry *a = x, *b = y;
    if (a->pasid != b->pasid)
        return a->pasid < b->pasid ? -1 : 1;
    if (a->iova != b->iova)
        return a->iova < b->iova ? -1 : 1;
    return (int)a->priv - (int)b->priv;
}

/* Writer: the translation way w stands for, as an entry. */
static struct siov_atc_entry entry_of(const struct siov_atc_way *w)
{
    uint64_t t = ld(&w->tag), val = ld(&w->val), base, size;
    way_range(w, &base, &size);
    bool range = siov_get(t, SIOV_ATC_TAG_CLASS) != 0;
    uint64_t out = (val & SIOV_ATC_VAL_ADDR) - (range ? 0 : ld(&w->page) - base);
    return (struct siov_atc_entry){(t & SIOV_ATC_TAG_NOPASID) ? SIOV_NO_PASID : (uint32_t)(t & SIOV_ATC_TAG_PASID),
                                   (t & SIOV_ATC_TAG_PRIV) != 0, base, size, out, (val & SIOV_ACCESS_READ) != 0,
                                   (val & SIOV_ACCESS_WRITE) != 0, range ? 0 : 1};
}

/* Writer: the completions (range ways, and page ways of 4 KiB ones), sorted,
   each with the page ways the probe finds it by. */
static unsigned collect(struct siov_atc *a, struct siov_atc_entry *e)
{
    unsigned n = 0;
    for (unsigned i = 0; i < a->nways; i++)
        if (way_live(a, &a->ways[i]) && (siov_get(ld(&a->ways[i].tag), SIOV_ATC_TAG_CLASS) ||
                                         ld(&a->ways[i].size) == SIOV_PAGE_SIZE))
            e[n++] = entry_of(&a->ways[i]);
    qsort(e, n, sizeof(*e), entry_cmp);
    for (unsigned i = 0; i < a->nways; i++) {
        const struct siov_atc_way *w = &a->ways[i];
        if (!way_live(a, w) || siov_get(ld(&w->tag), SIOV_ATC_TAG_CLASS) || ld(&w->size) == SIOV_PAGE_SIZE)
            continue;
        struct siov_atc_entry k = entry_of(w); /* an alias: its completion's range */
        struct siov_atc_entry *hit = bsearch(&k, e, n, sizeof(*e), entry_cmp);
        if (hit)
            hit->pages++;
    }
    return n;
}

unsigned siov_atc_entries(struct siov_atc *atc, struct siov_atc_entry *out, unsigned max)
{
    if (!atc)
        return 0;
    struct siov_atc_entry *e = malloc((size_t)atc->nways * sizeof(*e));
    if (!e)
        return 0;
    pthread_mutex_lock(&atc->wlock);
    unsigned n = collect(atc, e);
    pthread_mutex_unlock(&atc->wlock);
    for (unsigned i = 0; i < n && i < max && out; i++)
        out[i] = e[i];
    free(e);
    return n;
}

/* The IOTLB: translations by the spec's IOTLB tag (10.1: DID, PASID for
 * first-level, nested and pass-through entries, page size), their fills, and
 * the global, domain-, PASID- and page-selective invalidations (facts 10.2).
 * Concurrency and stamps: caches.h. */
#include <errno.h>
#include <stdlib.h>

#include "caches.h"
#include "exact_cache.h"
#include "seqway.h"

#define DP_UNTAGGED 0xFFFFFFFEu /* the scope "pasid" of second-level-only IOTLB entries */

enum { SZ_4K, SZ_2M, SZ_1G, SZ_COUNT };
static const unsigned size_shift[SZ_COUNT] = {12, 21, 30};
/* Bits of the per-scope page-size hint: PASID-tagged and untagged entries apart,
   so that a PASID-selective invalidation can forget only the tagged ones. */
#define SIZES_TAGGED(sz) (1u << (sz))
#define SIZES_UNTAGGED(sz) (1u << (4 + (sz)))
#define SIZES_ALL_TAGGED 0x7u

/* A way (seqway.h) holds an entry's tag as its key, the page number at its
   size, the value below and the epoch of the fill. */
#define HEAD_TAG SIOV_WAY_HEAD_KEY
#define TAG_DID SIOV_BITS(15, 0)
#define TAG_PASID SIOV_BITS(36, 16)  /* 21 bits: PASID, or bit 20 for "no PASID" (legacy) */
#define TAG_PASID_NONE (1u << 20)
#define TAG_TAGGED SIOV_BIT(37)
#define TAG_SIZE SIOV_BITS(39, 38)   /* SZ_* + 1; 0: an empty way */
/* Way value: the page base and what the walk granted. */
#define VAL_PAGE SIOV_BITS(63, 12)
#define VAL_PERM_USER SIOV_BITS(2, 0)
#define VAL_PERM_SUPER SIOV_BITS(5, 3)
#define VAL_DIRTY SIOV_BIT(6)
#define VAL_KIND SIOV_BITS(9, 7)     /* the PGTT the entry was walked with */
#define VAL_SNOOP SIOV_BIT(10)        /* the second-level leaf's SNP (an ATS completion's N) */
#define PERM_BITS (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC)

static inline unsigned ld8(const uint8_t *p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
static inline void st8(uint8_t *p, unsigned v) { __atomic_store_n(p, (uint8_t)v, __ATOMIC_RELAXED); }

/* ------------------------------------------------------------ lifecycle */
int siov_tlb_init(struct siov_caches *c, const struct siov_iommu_config *cfg)
{
    c->tlb.sizes = siov_pages_alloc(SIOV_DP_SLOTS); /* zero: no size filled anywhere */
    if (!c->tlb.sizes)
        return -ENOMEM;
    if (cfg->iotlb_ways) { /* hardware-like: an exact cache keeps the entries, no placement of ours */
        c->tlb.geo = (struct siov_cache_geometry){0, 1};
        c->tlb.hw = siov_exact_new(cfg->iotlb_entries / cfg->iotlb_ways, cfg->iotlb_ways, cfg->iotlb_policy,
                                   cfg->iotlb_seed);
        return c->tlb.hw ? 0 : -ENOMEM;
    }
    c->tlb.geo = siov_cache_geometry_for(cfg->iotlb_entries);
    size_t n = siov_tlb_capacity(c);
    c->tlb.ways = siov_pages_alloc(n * sizeof(*c->tlb.ways));
    return n && !c->tlb.ways ? -ENOMEM : 0;
}

void siov_tlb_fini(struct siov_caches *c)
{
    siov_exact_free(c->tlb.hw);
    siov_pages_free(c->tlb.ways, siov_tlb_capacity(c) * sizeof(*c->tlb.ways));
    siov_pages_free(c->tlb.sizes, SIOV_DP_SLOTS);
}

size_t siov_tlb_capacity(const struct siov_caches *c)
{
    return (size_t)c->tlb.geo.nsets * c->tlb.geo.nways;
}

/* Writer: evictions happen under the writer lock only, so no locked add. */
static void count_eviction(struct siov_caches *c)
{
    if (c->tlb.evictions)
        siov_st(c->tlb.evictions, siov_ld(c->tlb.evictions) + 1);
}

static int size_code(uint64_t page_size)
{
    for (unsigned sz = 0; sz < SZ_COUNT; sz++)
        if (page_size == 1ull << size_shift[sz])
            return (int)sz;
    return -1;
}

/* ------------------------------------------------------------ lookup */
static inline bool pgtt_tagged(uint8_t pgtt)
{
    return pgtt != SIOV_PGTT_SL; /* second-level-only entries carry no PASID (10.1) */
}

/* The tag of pe's entries, size field 0 (filled in per probe). */
static uint64_t tlb_tag(uint16_t did, bool tagged, uint32_t pasid)
{
    uint64_t tag = siov_set(0, TAG_DID, did);
    if (tagged) {
        uint32_t p = pasid == SIOV_NO_PASID ? TAG_PASID_NONE : (pasid & SIOV_PASID_MAX);
        tag |= TAG_TAGGED | siov_set(0, TAG_PASID, p);
    }
    return tag;
}

static inline uint64_t with_size(uint64_t tag, unsigned sz)
{
    return siov_set(tag, TAG_SIZE, sz + 1);
}

/* The scope slot of a tag (hint and stamp index). */
static unsigned tag_slot(uint64_t tag)
{
    uint16_t did = (uint16_t)siov_get(tag, TAG_DID);
    if (!(tag & TAG_TAGGED))
        return siov_dp_slot(did, DP_UNTAGGED);
    uint32_t p = (uint32_t)siov_get(tag, TAG_PASID);
    return siov_dp_slot(did, p == TAG_PASID_NONE ? SIOV_NO_PASID : p);
}

/* Whether an entry with this tag and stamp survives every invalidation so far. */
static bool tlb_valid(const struct siov_caches *c, uint64_t tag, unsigned slot, uint64_t stamp)
{
    const struct siov_did_stamps *d = &c->st.did[siov_get(tag, TAG_DID) & c->st.did_mask];
    if (stamp < siov_ld_acq(&c->st.tlb_global))
        return false;
    if (!(tag & TAG_TAGGED))
        return stamp >= siov_ld_acq(&d->tlb_all);
    return stamp >= siov_ld_acq(&d->tlb_tagged) && stamp >= siov_ld_acq(&c->st.tlb_dp[slot]);
}

static inline struct siov_way *tlb_set(const struct siov_caches *c, uint64_t tag, uint64_t vpn)
{
    return &c->tlb.ways[(size_t)siov_cache_set(&c->tlb.geo, tag, vpn) * c->tlb.geo.nways];
}

/* Probe for (tag, vpn); true with the value and stamp of a stable way. */
static bool tlb_probe(const struct siov_caches *c, uint64_t tag, uint64_t vpn, uint64_t *val, uint64_t *stamp)
{
    const struct siov_way *set = tlb_set(c, tag, vpn);
    for (unsigned i = 0; i < c->tlb.geo.nways; i++)
        if (siov_way_read(&set[i], tag, vpn, val, stamp))
            return true;
    return false;
}

static void val_unpack(uint64_t val, unsigned sz, struct siov_walk_out *out)
{
    out->page = val & VAL_PAGE;
    out->page_size = 1ull << size_shift[sz];
    out->perm_user = (unsigned)siov_get(val, VAL_PERM_USER);
    out->perm_super = (unsigned)siov_get(val, VAL_PERM_SUPER);
    out->dirty = (val & VAL_DIRTY) != 0;
    out->snoop = (val & VAL_SNOOP) != 0;
}

/* The hardware-like IOTLB: every page size probed, smallest first, under
   the writer lock (a hit reorders its set). */
static bool hw_lookup(struct siov_caches *c, uint64_t tag, uint16_t did, uint64_t addr, struct siov_walk_out *out)
{
    uint64_t val = 0;
    unsigned sz = 0;
    bool hit = false;
    siov_stamp_lock(c);
    for (; sz < SZ_COUNT && !hit; sz++)
        hit = siov_exact_lookup(c->tlb.hw, with_size(tag, sz), did, addr >> size_shift[sz], &val);
    siov_stamp_unlock(c);
    if (hit)
        val_unpack(val, sz - 1, out);
    return hit;
}

bool siov_tlb_lookup(struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t addr,
                     struct siov_walk_out *out)
{
    bool tagged = pgtt_tagged(pe->pgtt);
    uint64_t tag = tlb_tag(pe->did, tagged, pe->pasid);
    if (!c->tlb.ways) /* none, or the hardware-like one */
        return c->tlb.hw && hw_lookup(c, tag, pe->did, addr, out);
    unsigned slot = tag_slot(tag);
    unsigned sizes = ld8(&c->tlb.sizes[slot]);
    for (unsigned sz = 0; sz < SZ_COUNT; sz++) {
        if (!(sizes & (tagged ? SIZES_TAGGED(sz) : SIZES_UNTAGGED(sz))))
            continue;
        uint64_t val, stamp, t = with_size(tag, sz);
        if (tlb_probe(c, t, addr >> size_shift[sz], &val, &stamp) && tlb_valid(c, t, slot, stamp)) {
            val_unpack(val, sz, out);
            return true;
        }
    }
    return false;
}

static bool tlb_way_alive(const struct siov_caches *c, const struct siov_way *w)
{
    uint64_t tag = siov_ld(&w->head) & HEAD_TAG;
    if (!siov_get(tag, TAG_SIZE))
        return false;
    /* only PASID-tagged entries need their scope slot (a hash) */
    return tlb_valid(c, tag, (tag & TAG_TAGGED) ? tag_slot(tag) : 0, siov_ld(&w->stamp));
}

/* Writer: the way for (tag, vpn): its own, an empty or dead one, or a victim. */
static struct siov_way *tlb_victim(struct siov_caches *c, uint64_t tag, uint64_t vpn)
{
    struct siov_way *set = tlb_set(c, tag, vpn), *free_way = NULL;
    for (unsigned i = 0; i < c->tlb.geo.nways; i++) {
        if ((siov_ld(&set[i].head) & HEAD_TAG) == tag && siov_ld(&set[i].vpn) == vpn)
            return &set[i];
        if (!free_way && !tlb_way_alive(c, &set[i]))
            free_way = &set[i];
    }
    if (free_way)
        return free_way;
    count_eviction(c);
    return &set[c->st.hand++ % c->tlb.geo.nways];
}

/* The value word of a walk's result under pe. */
static inline uint64_t val_pack(const struct siov_pasid_ent *pe, const struct siov_walk_out *out)
{
    return (out->page & VAL_PAGE) | siov_set(0, VAL_PERM_USER, out->perm_user & PERM_BITS) |
           siov_set(0, VAL_PERM_SUPER, out->perm_super & PERM_BITS) | (out->dirty ? VAL_DIRTY : 0) |
           siov_set(0, VAL_KIND, pe->pgtt) | (out->snoop ? VAL_SNOOP : 0);
}

void siov_tlb_fill_locked(struct siov_caches *c, uint64_t epoch, const struct siov_pasid_ent *pe, uint64_t addr,
                          const struct siov_walk_out *out)
{
    int sz = size_code(out->page_size);
    if (sz < 0)
        return;
    bool tagged = pgtt_tagged(pe->pgtt);
    uint64_t tag = with_size(tlb_tag(pe->did, tagged, pe->pasid), (unsigned)sz);
    uint64_t vpn = addr >> size_shift[sz];
    if (!c->tlb.ways) { /* none, or the hardware-like one */
        if (c->tlb.hw && siov_exact_fill(c->tlb.hw, tag, pe->did, vpn, val_pack(pe, out)))
            count_eviction(c);
        return;
    }
    unsigned slot = tag_slot(tag);
    st8(&c->tlb.sizes[slot], ld8(&c->tlb.sizes[slot]) | (tagged ? SIZES_TAGGED(sz) : SIZES_UNTAGGED(sz)));
    siov_way_write(tlb_victim(c, tag, vpn), tag, vpn, val_pack(pe, out), epoch);
}

void siov_tlb_fill_epoch(struct siov_caches *c, uint64_t epoch, const struct siov_pasid_ent *pe, uint64_t addr,
                         const struct siov_walk_out *out)
{
    if (!siov_stamp_fill_begin(c, epoch))
        return;
    siov_tlb_fill_locked(c, epoch, pe, addr, out);
    siov_stamp_unlock(c);
}

void siov_tlb_fill(struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t addr,
                   const struct siov_walk_out *out)
{
    siov_tlb_fill_epoch(c, siov_caches_epoch(c), pe, addr, out);
}

unsigned siov_tlb_occupancy(struct siov_caches *c)
{
    unsigned n = 0;
    siov_stamp_lock(c);
    if (c->tlb.hw)
        n = siov_exact_occupancy(c->tlb.hw);
    for (size_t i = 0; i < siov_tlb_capacity(c); i++)
        n += tlb_way_alive(c, &c->tlb.ways[i]);
    siov_stamp_unlock(c);
    return n;
}

/* ------------------------------------------------ IOTLB invalidation */
/* What an invalidation names in the hardware-like IOTLB, which removes its
   entries at once (the stamps below keep fills that raced with it out). */
enum hw_scope_kind { HW_ALL, HW_DID, HW_PASID, HW_PAGE, HW_PASID_PAGE };
struct hw_scope {
    enum hw_scope_kind kind;
    uint16_t did;
    uint32_t pasid;
    uint64_t addr;
    unsigned am;
};

struct page_range {
    uint64_t first, last;
};
static struct page_range range_at(uint64_t addr, unsigned am, unsigned sz);

static bool hw_in_range(const struct hw_scope *sc, uint64_t tag, uint64_t vpn)
{
    struct page_range r = range_at(sc->addr, sc->am, (unsigned)siov_get(tag, TAG_SIZE) - 1);
    return vpn >= r.first && vpn <= r.last;
}

static bool hw_match(const void *ctx, uint64_t tag, uint64_t vpn, uint64_t val)
{
    const struct hw_scope *sc = ctx;
    bool tagged = tag & TAG_TAGGED;
    unsigned kind = (unsigned)siov_get(val, VAL_KIND);
    if (sc->kind == HW_ALL)
        return true;
    if (siov_get(tag, TAG_DID) != sc->did)
        return false;
    switch (sc->kind) {
    case HW_DID: return true;
    case HW_PASID: return tagged && siov_get(tag, TAG_PASID) == (sc->pasid & SIOV_PASID_MAX);
    case HW_PAGE: return tagged || hw_in_range(sc, tag, vpn); /* untagged: second level (facts 10.2) */
    default:
        return tagged && siov_get(tag, TAG_PASID) == (sc->pasid & SIOV_PASID_MAX) &&
               (kind == SIOV_PGTT_FL || kind == SIOV_PGTT_NESTED) && hw_in_range(sc, tag, vpn);
    }
}

static void hw_drop(struct siov_caches *c, struct hw_scope sc)
{
    if (c->tlb.hw)
        siov_exact_drop(c->tlb.hw, hw_match, &sc);
}

void siov_tlb_inv_global_at(struct siov_caches *c, uint64_t t)
{
    siov_st_rel(&c->st.tlb_global, t);
    hw_drop(c, (struct hw_scope){.kind = HW_ALL});
    siov_front_inv_all(c, t);
    for (unsigned i = 0; i < SIOV_DP_SLOTS; i++)
        st8(&c->tlb.sizes[i], 0);
}

void siov_tlb_inv_global(struct siov_caches *c)
{
    uint64_t t = siov_stamp_inv_begin(c);
    siov_tlb_inv_global_at(c, t);
    siov_stamp_inv_end(c, t);
}

void siov_tlb_inv_domain(struct siov_caches *c, uint16_t did)
{
    uint64_t t = siov_stamp_inv_begin(c);
    struct siov_did_stamps *d = &c->st.did[did & c->st.did_mask];
    siov_st_rel(&d->tlb_all, t);
    siov_st_rel(&d->tlb_tagged, t);
    hw_drop(c, (struct hw_scope){.kind = HW_DID, .did = did});
    siov_front_inv_did(c, did, t);
    siov_stamp_inv_end(c, t);
}

void siov_tlb_inv_pasid(struct siov_caches *c, uint16_t did, uint32_t pasid)
{
    uint64_t t = siov_stamp_inv_begin(c);
    unsigned slot = siov_dp_slot(did, pasid);
    siov_st_rel(&c->st.tlb_dp[slot], t);
    st8(&c->tlb.sizes[slot], ld8(&c->tlb.sizes[slot]) & ~SIZES_ALL_TAGGED); /* every tagged entry of the slot is dead */
    hw_drop(c, (struct hw_scope){.kind = HW_PASID, .did = did, .pasid = pasid});
    siov_front_inv_did(c, did, t);
    siov_stamp_inv_end(c, t);
}

/* The pages a page-selective invalidation names: [first, last] at size sz
   (am is within CAP.MAMV: the queue refuses a larger one, inval.c). */
static struct page_range range_at(uint64_t addr, unsigned am, unsigned sz)
{
    uint64_t span = (SIOV_PAGE_SIZE << am) - 1;
    return (struct page_range){(addr & ~span) >> size_shift[sz], (addr | span) >> size_shift[sz]};
}

/* Whether a way matches tag (any size already in tag), lies in r and has a kind in kinds. */
static bool way_in_range(const struct siov_way *w, uint64_t tag, struct page_range r, unsigned kinds)
{
    if ((siov_ld(&w->head) & HEAD_TAG) != tag)
        return false;
    uint64_t vpn = siov_ld(&w->vpn);
    return vpn >= r.first && vpn <= r.last && (kinds & (1u << siov_get(siov_ld(&w->val), VAL_KIND)));
}

/* Writer: clear the entries with tag (size in tag) in r whose kind is in kinds:
   probe each page, or scan the whole IOTLB when that is cheaper. */
static void tlb_drop_range(struct siov_caches *c, uint64_t tag, struct page_range r, unsigned kinds)
{
    size_t nways = (size_t)c->tlb.geo.nsets * c->tlb.geo.nways;
    if (r.last - r.first >= c->tlb.geo.nsets) {
        for (size_t i = 0; i < nways; i++)
            if (way_in_range(&c->tlb.ways[i], tag, r, kinds))
                siov_way_clear(&c->tlb.ways[i]);
        return;
    }
    for (uint64_t vpn = r.first;; vpn++) {
        struct siov_way *set = tlb_set(c, tag, vpn);
        for (unsigned i = 0; i < c->tlb.geo.nways; i++)
            if (way_in_range(&set[i], tag, (struct page_range){vpn, vpn}, kinds))
                siov_way_clear(&set[i]);
        if (vpn == r.last)
            break;
    }
}

#define KIND(pgtt) (1u << (pgtt))

void siov_tlb_inv_page(struct siov_caches *c, uint16_t did, uint64_t addr, unsigned am)
{
    uint64_t t = siov_stamp_inv_begin(c);
    uint64_t tag = tlb_tag(did, false, 0);
    unsigned sizes = c->tlb.ways ? ld8(&c->tlb.sizes[tag_slot(tag)]) : 0;
    for (unsigned sz = 0; sz < SZ_COUNT; sz++)
        if (sizes & SIZES_UNTAGGED(sz))
            tlb_drop_range(c, with_size(tag, sz), range_at(addr, am, sz), KIND(SIOV_PGTT_SL));
    /* PSI also drops every PASID-tagged entry of the DID (facts 10.2, docs/spec-notes.md) */
    siov_st_rel(&c->st.did[did & c->st.did_mask].tlb_tagged, t);
    hw_drop(c, (struct hw_scope){.kind = HW_PAGE, .did = did, .addr = addr, .am = am});
    siov_front_inv_did(c, did, t);
    siov_stamp_inv_end(c, t);
}

void siov_tlb_inv_pasid_page(struct siov_caches *c, uint16_t did, uint32_t pasid, uint64_t addr, unsigned am)
{
    uint64_t t = siov_stamp_inv_begin(c);
    uint64_t tag = tlb_tag(did, true, pasid);
    unsigned sizes = c->tlb.ways ? ld8(&c->tlb.sizes[tag_slot(tag)]) : 0;
    for (unsigned sz = 0; sz < SZ_COUNT; sz++)
        if (sizes & SIZES_TAGGED(sz))
            tlb_drop_range(c, with_size(tag, sz), range_at(addr, am, sz),
                           KIND(SIOV_PGTT_FL) | KIND(SIOV_PGTT_NESTED));
    hw_drop(c, (struct hw_scope){HW_PASID_PAGE, did, pasid, addr, am});
    siov_front_inv_did(c, did, t);
    siov_stamp_inv_end(c, t);
}


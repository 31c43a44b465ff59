/* io_pgtable.c: a domain's page tables — paging entries encoded and decoded,
 * map with the largest leaves alignment allows, unmap with splits of cut
 * leaves and release of emptied tables, the identity maps a parent holds of
 * its nested domains' table pages, and the lookup walk. The only code that
 * reads or writes paging entries. Changes only queue their invalidations; the
 * caller flushes, and table pages are freed only after that flush. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

static uint64_t lvl_size(unsigned level)
{
    return 1ull << siov_level_shift(level);
}

/* ------------------------------------------------------ paging entries */

static bool ent_present(const struct siov_domain *d, uint64_t e)
{
    return d->fl ? (e & SIOV_FL_P) != 0 : (e & (SIOV_SL_R | SIOV_SL_W | SIOV_SL_X)) != 0;
}

static bool ent_leaf(const struct siov_domain *d, uint64_t e, unsigned level)
{
    return level == 1 || (e & (d->fl ? SIOV_FL_PS : SIOV_SL_PS));
}

static uint64_t ent_addr(const struct siov_domain *d, uint64_t e, unsigned level)
{
    uint64_t a = e & (d->fl ? SIOV_FL_ADDR : SIOV_SL_ADDR);
    return ent_leaf(d, e, level) ? a & ~(lvl_size(level) - 1) : a;
}

/* A leaf. First level: A preset (and D when writable) so the unit needs no
   A/D update; U/S unless PRIV; XD unless EXEC (the PASID entry sets NXE). */
static uint64_t make_leaf(const struct siov_domain *d, uint64_t pa, unsigned level, unsigned prot)
{
    uint64_t e;
    if (d->fl) {
        e = (pa & SIOV_FL_ADDR) | SIOV_FL_P | SIOV_FL_A;
        e |= prot & SIOV_PROT_WRITE ? SIOV_FL_RW | SIOV_FL_D : 0;
        e |= prot & SIOV_PROT_PRIV ? 0 : SIOV_FL_US;
        e |= prot & SIOV_PROT_EXEC ? 0 : SIOV_FL_XD;
        return level > 1 ? e | SIOV_FL_PS : e;
    }
    e = pa & SIOV_SL_ADDR;
    e |= prot & SIOV_PROT_READ ? SIOV_SL_R : 0;
    e |= prot & SIOV_PROT_WRITE ? SIOV_SL_W : 0;
    e |= (prot & SIOV_PROT_EXEC) && d->drv->scalable ? SIOV_SL_X : 0; /* X needs SLEE */
    return level > 1 ? e | SIOV_SL_PS : e;
}

/* A non-leaf entry granting everything: permissions are decided at the leaf. */
static uint64_t make_table(const struct siov_domain *d, uint64_t table)
{
    if (d->fl)
        return table | SIOV_FL_P | SIOV_FL_RW | SIOV_FL_US | SIOV_FL_A;
    return table | SIOV_SL_R | SIOV_SL_W | (d->drv->scalable ? SIOV_SL_X : 0);
}

/* Entry i of the table that replaces leaf e of level (a split). */
static uint64_t split_entry(const struct siov_domain *d, uint64_t e, unsigned level, unsigned i)
{
    uint64_t amask = d->fl ? SIOV_FL_ADDR : SIOV_SL_ADDR, ps = d->fl ? SIOV_FL_PS : SIOV_SL_PS;
    uint64_t c = (e & ~amask & ~ps) | (ent_addr(d, e, level) + i * lvl_size(level - 1));
    return level - 1 > 1 ? c | ps : c;
}

/* ------------------------------------------------- invalidation per domain */

static void queue_devtlb(struct siov_domain *d, uint64_t lo, uint64_t hi)
{
    for (unsigned i = 0; i < d->natt; i++)
        siov_drv_inv_devtlb(d->drv, d->att[i].sid, d->att[i].aux ? (uint32_t)d->pasid : SIOV_NO_PASID,
                            lo, hi);
}

/* What a change of [lo, hi) in d's tables needs (facts sheet 10.2, 7):
   IOTLB by DID for second-level and nested tables, PASID-based IOTLB for
   first-level ones, and a parent's change reaches every nested DID over it.
   Pass-through domains have no tables, so never come here. */
static void dom_queue_inval(struct siov_domain *d, uint64_t lo, uint64_t hi)
{
    struct siov_driver *drv = d->drv;
    if (d->kind == SIOV_DOM_FL) {
        if (d->nrid)
            siov_drv_inv_piotlb_range(drv, d->did, SIOV_DRV_RID_PASID, lo, hi);
        if (d->naux)
            siov_drv_inv_piotlb_range(drv, d->did, (uint32_t)d->pasid, lo, hi);
    } else {
        siov_drv_inv_iotlb_range(drv, d->did, lo, hi);
    }
    queue_devtlb(d, lo, hi);
    if (!d->nchildren)
        return;
    for (struct siov_domain *c = drv->domains; c; c = c->next) {
        if (c->parent != d)
            continue;
        siov_drv_inv_iotlb_range(drv, c->did, lo, hi); /* drops all its nested entries */
        queue_devtlb(c, 0, 0); /* the device caches combined translations */
    }
}

/* ------------------------------------------------------ table pages */

static size_t idpage_index(const struct siov_domain *p, uint64_t gpa)
{
    size_t lo = 0, hi = p->nid;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->idpages[mid] < gpa)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Make a nested domain's table page reachable through its parent: identity,
   read/write (the unit fetches it and may update A/D bits in it). */
static int map_identity(struct siov_domain *p, uint64_t gpa)
{
    if (p->nid == p->cid) {
        size_t c = p->cid ? p->cid * 2 : 16;
        uint64_t *n = realloc(p->idpages, c * sizeof(*n));
        if (!n)
            return siov_drv_fail(p->drv, -ENOMEM, "out of host memory for domain %u's identity maps", p->did);
        p->idpages = n;
        p->cid = c;
    }
    int ret = siov_drv_pt_map(p, gpa, gpa, SIOV_PAGE_SIZE, SIOV_PROT_READ | SIOV_PROT_WRITE);
    if (ret)
        return ret;
    size_t i = idpage_index(p, gpa);
    memmove(p->idpages + i + 1, p->idpages + i, (p->nid - i) * sizeof(*p->idpages));
    p->idpages[i] = gpa;
    p->nid++;
    return 0;
}

bool siov_drv_pt_idpage_in(const struct siov_domain *d, uint64_t lo, uint64_t hi)
{
    size_t i = idpage_index(d, lo);
    return i < d->nid && d->idpages[i] < hi;
}

/* The parent stops mapping a page the nested domain released; if it cannot,
   the page stays listed (and mapped) there and goes with the parent. */
static int unmap_identity(struct siov_domain *p, uint64_t gpa)
{
    int64_t ret = siov_drv_pt_unmap(p, gpa, gpa + SIOV_PAGE_SIZE);
    if (ret < 0)
        return (int)ret;
    size_t i = idpage_index(p, gpa); /* map_identity listed it */
    memmove(p->idpages + i, p->idpages + i + 1, (p->nid - i - 1) * sizeof(*p->idpages));
    p->nid--;
    return 0;
}

int siov_drv_table_alloc(struct siov_domain *d, uint64_t *gpa)
{
    int ret = siov_drv_page_alloc(d->drv, 1, gpa);
    if (ret || !d->parent)
        return ret;
    if ((ret = map_identity(d->parent, *gpa)))
        siov_drv_page_free(d->drv, *gpa, 1);
    return ret;
}

/* The page leaves d's tables: freed after the next flush (nested: once the
   parent no longer maps it). */
void siov_drv_table_release(struct siov_domain *d, uint64_t gpa)
{
    if (d->parent && unmap_identity(d->parent, gpa))
        return;
    siov_drv_page_defer(d->drv, gpa);
}

/* ------------------------------------------------------------- walks */

struct probe_op {
    uint64_t lo, hi;
    bool found;
    uint64_t at; /* found: an address of [lo, hi) a leaf maps */
};

/* Whether any leaf of the table (of level, covering from base) meets [p->lo, p->hi).
   Reads only the entries in range: a small map must not copy whole tables. */
static int pt_mapped(struct siov_domain *d, uint64_t table, unsigned level, uint64_t base, struct probe_op *p)
{
    uint64_t sz = lvl_size(level), e;
    int ret = 0;
    for (unsigned i = p->lo > base ? siov_level_index(p->lo, level) : 0; !ret && i < SIOV_PT_ENTRIES; i++) {
        uint64_t eb = base + i * sz;
        if (eb >= p->hi || p->found)
            break;
        if ((ret = siov_drv_rd64(d->drv, table + i * 8ull, &e)) || !ent_present(d, e))
            continue;
        if (ent_leaf(d, e, level))
            p->found = true, p->at = eb > p->lo ? eb : p->lo;
        else
            ret = pt_mapped(d, ent_addr(d, e, level), level - 1, eb, p);
    }
    return ret;
}

struct map_op {
    uint64_t iova, pa, end;
    unsigned prot;
    uint64_t leaves; /* leaves written so far */
};

/* Fill [m->iova, m->end) below table with the largest leaves alignment allows. */
static int pt_map(struct siov_domain *d, uint64_t table, unsigned level, struct map_op *m)
{
    uint64_t sz = lvl_size(level);
    for (unsigned i = siov_level_index(m->iova, level); i < SIOV_PT_ENTRIES && m->iova < m->end; i++) {
        uint64_t gpa = table + i * 8ull, e, t;
        int ret = siov_drv_rd64(d->drv, gpa, &e);
        if (ret)
            return ret;
        /* e is no leaf: the caller's probe refused any leaf in [iova, end) */
        bool fits = (d->leaf_levels >> level & 1) && !((m->iova | m->pa) & (sz - 1)) && m->end - m->iova >= sz;
        if (fits && !ent_present(d, e)) {
            if ((ret = siov_drv_wr64(d->drv, gpa, make_leaf(d, m->pa, level, m->prot))))
                return ret;
            m->iova += sz;
            m->pa += sz;
            m->leaves++;
            continue;
        }
        bool fresh = !ent_present(d, e);
        if (fresh) {
            if ((ret = siov_drv_table_alloc(d, &t)))
                return ret;
            e = make_table(d, t);
            if ((ret = siov_drv_wr64(d->drv, gpa, e))) {
                siov_drv_table_release(d, t);
                return ret;
            }
        }
        uint64_t leaves = m->leaves;
        if ((ret = pt_map(d, ent_addr(d, e, level), level - 1, m))) {
            /* a table this map added and left without leaves goes now: the
               caller's unmap only releases tables it empties */
            if (fresh && m->leaves == leaves && !siov_drv_wr64(d->drv, gpa, 0))
                siov_drv_table_release(d, t);
            return ret;
        }
    }
    return 0;
}

struct unmap_op {
    uint64_t lo, hi;
    uint64_t bytes;
    uint64_t inv_lo, inv_hi; /* what changed */
    uint64_t spare[4];       /* pages reserved for splits */
    unsigned nspare;
    bool sweep;              /* also release tables that were empty already (a map's rollback) */
};

static void widen(struct unmap_op *u, uint64_t lo, uint64_t hi)
{
    u->inv_lo = lo < u->inv_lo ? lo : u->inv_lo;
    u->inv_hi = hi > u->inv_hi ? hi : u->inv_hi;
}

/* Replace leaf *e (level, at gpa) by a table of the next level mapping the
   same, on a spare page (split_points reserved one for every split). */
static int split_leaf(struct siov_domain *d, uint64_t gpa, unsigned level, uint64_t *e, struct unmap_op *u)
{
    uint64_t t = u->spare[u->nspare - 1]; /* taken once linked; until then the caller releases it */
    uint8_t b[SIOV_PAGE_SIZE];
    for (unsigned i = 0; i < SIOV_PT_ENTRIES; i++)
        siov_drv_put64(b + 8 * i, split_entry(d, *e, level, i));
    int ret = siov_drv_write_mem(d->drv, t, b, sizeof(b));
    if (ret)
        return ret;
    ret = siov_drv_wr64(d->drv, gpa, make_table(d, t));
    if (!ret) {
        u->nspare--;
        *e = make_table(d, t);
    }
    return ret;
}

/* Whether every entry of table is zero (read only after something was cleared,
   or in a sweep); a zero word reads the same in either byte order. */
static int table_empty(struct siov_domain *d, uint64_t table, bool *empty)
{
    uint64_t ent[SIOV_PT_ENTRIES];
    *empty = false;
    if (siov_mem_read(d->drv->mem, table, ent, SIOV_PAGE_SIZE))
        return siov_drv_fail(d->drv, -EFAULT, "guest memory at 0x%llx is not readable", (unsigned long long)table);
    *empty = true;
    for (unsigned i = 0; *empty && i < SIOV_PT_ENTRIES; i++)
        *empty = ent[i] == 0;
    return 0;
}

/* Clear every leaf of [u->lo, u->hi) below table, splitting leaves cut by the
   range and releasing tables the range covers or that empty out; *empty says
   whether table did (checked only where something was cleared). */
static int pt_unmap(struct siov_domain *d, uint64_t table, unsigned level, uint64_t base, struct unmap_op *u,
                    bool *empty)
{
    uint64_t sz = lvl_size(level), e;
    bool cleared = false;
    int ret = 0;
    for (unsigned i = u->lo > base ? siov_level_index(u->lo, level) : 0; !ret && i < SIOV_PT_ENTRIES; i++) {
        uint64_t eb = base + i * sz, gpa = table + i * 8ull;
        if (eb >= u->hi)
            break;
        if ((ret = siov_drv_rd64(d->drv, gpa, &e)) || !ent_present(d, e))
            continue;
        if (ent_leaf(d, e, level)) {
            widen(u, eb, eb + sz);
            if (eb >= u->lo && eb + sz <= u->hi) {
                cleared = true;
                u->bytes += sz;
                ret = siov_drv_wr64(d->drv, gpa, 0);
                continue;
            }
            if ((ret = split_leaf(d, gpa, level, &e, u)))
                break;
        }
        uint64_t child = ent_addr(d, e, level);
        bool cempty = false;
        ret = pt_unmap(d, child, level - 1, eb, u, &cempty);
        /* a table the range covers whole is empty now, leaves or not (an
           empty table left by a failed map or unmap goes too) */
        if (!ret && (cempty || (eb >= u->lo && eb + sz <= u->hi))) {
            cleared = true;
            if (!(ret = siov_drv_wr64(d->drv, gpa, 0)))
                siov_drv_table_release(d, child);
        }
    }
    *empty = false;
    return ret || !(cleared || u->sweep) ? ret : table_empty(d, table, empty);
}

/* The leaves a range boundary b cuts: (level, base) of each split needed.
   Leaves are at most 1 GiB, so each boundary needs at most two and pts
   holds both boundaries'. The walk ends by level 1, where entries are leaves. */
static int split_points(struct siov_domain *d, uint64_t b, uint64_t pts[4][2], unsigned *n)
{
    uint64_t table = d->root, e;
    for (unsigned level = d->levels;; level--) {
        int ret = siov_drv_rd64(d->drv, table + siov_level_index(b, level) * 8ull, &e);
        if (ret || !ent_present(d, e))
            return ret;
        if (!ent_leaf(d, e, level)) {
            table = ent_addr(d, e, level);
            continue;
        }
        for (unsigned l = level; l >= 2 && (b & (lvl_size(l) - 1)); l--) {
            uint64_t key = b & ~(lvl_size(l) - 1);
            bool dup = false;
            for (unsigned k = 0; k < *n; k++)
                dup = dup || (pts[k][0] == l && pts[k][1] == key);
            if (!dup) {
                pts[*n][0] = l;
                pts[(*n)++][1] = key;
            }
        }
        return 0;
    }
}

/* Unmap [lo, hi) and queue its invalidation; bytes unmapped or -errno. With
   sweep, tables left empty by a failed map are released too. */
static int64_t pt_unmap_range(struct siov_domain *d, uint64_t lo, uint64_t hi, bool sweep)
{
    uint64_t pts[4][2] = {{0}}; /* zero: no split point has level 0 */
    unsigned n = 0;
    int ret = split_points(d, lo, pts, &n);
    if (!ret && hi < d->iova_limit)
        ret = split_points(d, hi, pts, &n);
    struct unmap_op u = {.lo = lo, .hi = hi, .inv_lo = UINT64_MAX, .sweep = sweep};
    while (!ret && u.nspare < n && !(ret = siov_drv_table_alloc(d, &u.spare[u.nspare])))
        u.nspare++;
    bool empty;
    if (!ret)
        ret = pt_unmap(d, d->root, d->levels, 0, &u, &empty);
    while (u.nspare)
        siov_drv_table_release(d, u.spare[--u.nspare]);
    if (u.inv_lo < u.inv_hi)
        dom_queue_inval(d, u.inv_lo, u.inv_hi);
    return ret ? ret : (int64_t)u.bytes;
}

int64_t siov_drv_pt_unmap(struct siov_domain *d, uint64_t lo, uint64_t hi)
{
    return pt_unmap_range(d, lo, hi, false);
}

/* The leaf that maps iova: 1 with its entry and level, 0 if none, or -errno.
   The walk ends by level 1, where entries are leaves. */
static int leaf_walk(struct siov_domain *d, uint64_t iova, uint64_t *e, unsigned *level)
{
    uint64_t table = d->root;
    for (unsigned l = d->levels;; l--) {
        int ret = siov_drv_rd64(d->drv, table + siov_level_index(iova, l) * 8ull, e);
        if (ret)
            return ret;
        if (!ent_present(d, *e))
            return 0;
        if (ent_leaf(d, *e, l))
            return *level = l, 1;
        table = ent_addr(d, *e, l);
    }
}

#define EXTENT_STEPS 1024 /* leaves followed each way to describe a mapping */

/* -EEXIST, saying which mapped range [lo, hi) meets: the run of leaves around at. */
static int overlap_error(struct siov_domain *d, uint64_t lo, uint64_t hi, uint64_t at)
{
    uint64_t e, a = at & SIOV_PAGE_MASK, b = a;
    unsigned level = 1; /* set by every leaf_walk that returns 1 */
    for (unsigned n = 0; n < EXTENT_STEPS && a > 0 && leaf_walk(d, a - 1, &e, &level) == 1; n++)
        a = (a - 1) & ~(lvl_size(level) - 1);
    for (unsigned n = 0; n < EXTENT_STEPS && b < d->iova_limit && leaf_walk(d, b, &e, &level) == 1; n++)
        b = (b & ~(lvl_size(level) - 1)) + lvl_size(level);
    return siov_drv_fail(d->drv, -EEXIST, "[0x%llx, 0x%llx) overlaps [0x%llx, 0x%llx) mapped earlier",
                         (unsigned long long)lo, (unsigned long long)hi, (unsigned long long)a,
                         (unsigned long long)b);
}

/* -ERANGE unless [iova, iova + size) and [pa, pa + size) fit d's input and output ranges. */
static int map_range_check(struct siov_domain *d, uint64_t iova, uint64_t pa, uint64_t size)
{
    if (iova >= d->iova_limit || size > d->iova_limit - iova)
        return siov_drv_fail(d->drv, -ERANGE, "iova 0x%llx size 0x%llx goes beyond 0x%llx, the input range of domain %u",
                             (unsigned long long)iova, (unsigned long long)size,
                             (unsigned long long)d->iova_limit, d->did);
    if (pa < d->pa_limit && size <= d->pa_limit - pa)
        return 0;
    if (d->parent)
        return siov_drv_fail(d->drv, -ERANGE,
                             "pa 0x%llx size 0x%llx goes beyond 0x%llx, the parent's input range "
                             "(a nested domain maps guest addresses)",
                             (unsigned long long)pa, (unsigned long long)size, (unsigned long long)d->pa_limit);
    return siov_drv_fail(d->drv, -ERANGE, "pa 0x%llx size 0x%llx goes beyond 0x%llx (52-bit addresses)",
                         (unsigned long long)pa, (unsigned long long)size, (unsigned long long)d->pa_limit);
}

/* Map with full rollback: on failure nothing stays mapped and no page is held. */
int siov_drv_pt_map(struct siov_domain *d, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot)
{
    int ret = map_range_check(d, iova, pa, size);
    if (ret)
        return ret;
    struct probe_op p = {iova, iova + size, false, 0};
    if ((ret = pt_mapped(d, d->root, d->levels, 0, &p)) || p.found)
        return ret ? ret : overlap_error(d, iova, iova + size, p.at);
    struct map_op m = {iova, pa, iova + size, prot, 0};
    ret = pt_map(d, d->root, d->levels, &m);
    if (ret) {
        pt_unmap_range(d, iova, iova + size, true); /* tables the map added, filled or not */
        return ret;
    }
    /* caching mode: non-present second-level entries may be cached (spec 6.1) */
    if ((d->drv->cap & SIOV_CAP_CM) && !d->fl)
        dom_queue_inval(d, iova, iova + size);
    return 0;
}

/* ------------------------------------------------------------- lookup */

int siov_drv_pt_lookup(struct siov_domain *d, uint64_t iova, uint64_t *pa)
{
    uint64_t e = 0;
    unsigned level = 1; /* both set by a leaf_walk that returns 1 */
    int ret = leaf_walk(d, iova, &e, &level);
    if (ret < 0)
        return ret;
    if (!ret)
        return siov_drv_fail(d->drv, -ENOENT, "iova 0x%llx is not mapped in domain %u", (unsigned long long)iova,
                             d->did);
    *pa = ent_addr(d, e, level) + (iova & (lvl_size(level) - 1));
    return 0;
}

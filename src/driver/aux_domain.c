/* aux_domain.c: domains of the reference driver — page tables, map and unmap
 * with the invalidations the spec requires, attach through RID_PASID, and
 * aux attach under the domain's PASID. Like driver.c it touches the unit only
 * through guest memory and the queue (driver.h). Internal steps only queue
 * invalidations; each public call flushes once before it returns, and table
 * pages are freed only after that flush. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

#define ADDR_LIMIT (1ull << 52) /* paging entries hold addresses up to bit 51 */
#define PROT_ALL (SIOV_PROT_READ | SIOV_PROT_WRITE | SIOV_PROT_EXEC | SIOV_PROT_PRIV)

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

static int read_table(struct siov_domain *d, uint64_t table, uint64_t ent[SIOV_PT_ENTRIES])
{
    if (siov_mem_read(d->drv->mem, table, ent, SIOV_PAGE_SIZE))
        return -EFAULT;
    for (unsigned i = 0; i < SIOV_PT_ENTRIES; i++)
        ent[i] = siov_drv_get64((const uint8_t *)&ent[i]);
    return 0;
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
   first-level ones, and a parent's change reaches every nested DID over it. */
static void dom_queue_inval(struct siov_domain *d, uint64_t lo, uint64_t hi)
{
    struct siov_driver *drv = d->drv;
    if (d->kind == SIOV_DOM_PT)
        return;
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

static int dom_map(struct siov_domain *d, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot);
static int64_t dom_unmap(struct siov_domain *d, uint64_t lo, uint64_t hi);

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
            return -ENOMEM;
        p->idpages = n;
        p->cid = c;
    }
    int ret = dom_map(p, gpa, gpa, SIOV_PAGE_SIZE, SIOV_PROT_READ | SIOV_PROT_WRITE);
    if (ret)
        return ret;
    size_t i = idpage_index(p, gpa);
    memmove(p->idpages + i + 1, p->idpages + i, (p->nid - i) * sizeof(*p->idpages));
    p->idpages[i] = gpa;
    p->nid++;
    return 0;
}

static void unmap_identity(struct siov_domain *p, uint64_t gpa)
{
    size_t i = idpage_index(p, gpa);
    if (i < p->nid && p->idpages[i] == gpa) {
        memmove(p->idpages + i, p->idpages + i + 1, (p->nid - i - 1) * sizeof(*p->idpages));
        p->nid--;
    }
    dom_unmap(p, gpa, gpa + SIOV_PAGE_SIZE);
}

static int table_alloc(struct siov_domain *d, uint64_t *gpa)
{
    int ret = siov_drv_page_alloc(d->drv, 1, gpa);
    if (ret || !d->parent)
        return ret;
    if ((ret = map_identity(d->parent, *gpa)))
        siov_drv_page_free(d->drv, *gpa, 1);
    return ret;
}

/* The page leaves d's tables: freed after the next flush. */
static void table_release(struct siov_domain *d, uint64_t gpa)
{
    if (d->parent)
        unmap_identity(d->parent, gpa);
    siov_drv_page_defer(d->drv, gpa);
}

/* ------------------------------------------------------------- walks */

/* Whether any leaf of the table (of level, covering from base) meets [lo, hi).
   Reads only the entries in range: a small map must not copy whole tables. */
static int pt_mapped(struct siov_domain *d, uint64_t table, unsigned level, uint64_t base, uint64_t lo,
                     uint64_t hi, bool *found)
{
    uint64_t sz = lvl_size(level), e;
    int ret = 0;
    for (unsigned i = lo > base ? siov_level_index(lo, level) : 0; !ret && i < SIOV_PT_ENTRIES; i++) {
        uint64_t eb = base + i * sz;
        if (eb >= hi || *found)
            break;
        if ((ret = siov_drv_rd64(d->drv, table + i * 8ull, &e)) || !ent_present(d, e))
            continue;
        if (ent_leaf(d, e, level))
            *found = true;
        else
            ret = pt_mapped(d, ent_addr(d, e, level), level - 1, eb, lo, hi, found);
    }
    return ret;
}

struct map_op {
    uint64_t iova, pa, end;
    unsigned prot;
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
        if (ent_present(d, e) && ent_leaf(d, e, level))
            return -EEXIST; /* excluded by the caller's check */
        bool fits = (d->leaf_levels >> level & 1) && !((m->iova | m->pa) & (sz - 1)) && m->end - m->iova >= sz;
        if (fits && !ent_present(d, e)) {
            if ((ret = siov_drv_wr64(d->drv, gpa, make_leaf(d, m->pa, level, m->prot))))
                return ret;
            m->iova += sz;
            m->pa += sz;
            continue;
        }
        if (!ent_present(d, e)) {
            if ((ret = table_alloc(d, &t)))
                return ret;
            e = make_table(d, t);
            if ((ret = siov_drv_wr64(d->drv, gpa, e))) {
                table_release(d, t);
                return ret;
            }
        }
        if ((ret = pt_map(d, ent_addr(d, e, level), level - 1, m)))
            return ret;
    }
    return 0;
}

struct unmap_op {
    uint64_t lo, hi;
    uint64_t bytes;
    uint64_t inv_lo, inv_hi; /* what changed */
    uint64_t spare[4];       /* pages reserved for splits */
    unsigned nspare;
};

static void widen(struct unmap_op *u, uint64_t lo, uint64_t hi)
{
    u->inv_lo = lo < u->inv_lo ? lo : u->inv_lo;
    u->inv_hi = hi > u->inv_hi ? hi : u->inv_hi;
}

/* Replace leaf *e (level, at gpa) by a table of the next level mapping the same. */
static int split_leaf(struct siov_domain *d, uint64_t gpa, unsigned level, uint64_t *e, struct unmap_op *u)
{
    if (!u->nspare)
        return -ENOMEM; /* excluded by the reservation */
    uint64_t t = u->spare[--u->nspare];
    uint8_t b[SIOV_PAGE_SIZE];
    for (unsigned i = 0; i < SIOV_PT_ENTRIES; i++)
        siov_drv_put64(b + 8 * i, split_entry(d, *e, level, i));
    if (siov_mem_write(d->drv->mem, t, b, sizeof(b)))
        return -EFAULT;
    *e = make_table(d, t);
    return siov_drv_wr64(d->drv, gpa, *e);
}

/* Whether every entry of table is zero (read only after something was cleared). */
static int table_empty(struct siov_domain *d, uint64_t table, bool *empty)
{
    uint64_t ent[SIOV_PT_ENTRIES];
    int ret = read_table(d, table, ent);
    *empty = !ret;
    for (unsigned i = 0; !ret && *empty && i < SIOV_PT_ENTRIES; i++)
        *empty = ent[i] == 0;
    return ret;
}

/* Clear every leaf of [u->lo, u->hi) below table, splitting leaves cut by the
   range and releasing tables that empty out; *empty says whether table did. */
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
        if (!ret && cempty) {
            cleared = true;
            ret = siov_drv_wr64(d->drv, gpa, 0);
            table_release(d, child);
        }
    }
    *empty = false;
    return ret || !cleared ? ret : table_empty(d, table, empty);
}

/* The leaves a range boundary b cuts: (level, base) of each split needed. */
static int split_points(struct siov_domain *d, uint64_t b, uint64_t pts[4][2], unsigned *n)
{
    uint64_t table = d->root, e;
    for (unsigned level = d->levels; level >= 1; level--) {
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
            if (!dup && *n < 4) {
                pts[*n][0] = l;
                pts[(*n)++][1] = key;
            }
        }
        return 0;
    }
    return 0;
}

/* Unmap [lo, hi) and queue its invalidation; bytes unmapped or -errno. */
static int64_t dom_unmap(struct siov_domain *d, uint64_t lo, uint64_t hi)
{
    uint64_t pts[4][2];
    unsigned n = 0;
    int ret = split_points(d, lo, pts, &n);
    if (!ret && hi < d->iova_limit)
        ret = split_points(d, hi, pts, &n);
    struct unmap_op u = {.lo = lo, .hi = hi, .inv_lo = UINT64_MAX};
    while (!ret && u.nspare < n && !(ret = table_alloc(d, &u.spare[u.nspare])))
        u.nspare++;
    bool empty;
    if (!ret)
        ret = pt_unmap(d, d->root, d->levels, 0, &u, &empty);
    while (u.nspare)
        table_release(d, u.spare[--u.nspare]);
    if (u.inv_lo < u.inv_hi)
        dom_queue_inval(d, u.inv_lo, u.inv_hi);
    return ret ? ret : (int64_t)u.bytes;
}

/* Map with full rollback: on failure nothing stays mapped and no page is held. */
static int dom_map(struct siov_domain *d, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot)
{
    if (iova >= d->iova_limit || size > d->iova_limit - iova || pa >= d->pa_limit || size > d->pa_limit - pa)
        return -ERANGE;
    bool found = false;
    int ret = pt_mapped(d, d->root, d->levels, 0, iova, iova + size, &found);
    if (ret || found)
        return ret ? ret : -EEXIST;
    struct map_op m = {iova, pa, iova + size, prot};
    ret = pt_map(d, d->root, d->levels, &m);
    if (ret) {
        dom_unmap(d, iova, iova + size);
        return ret;
    }
    /* caching mode: non-present second-level entries may be cached (spec 6.1) */
    if ((d->drv->cap & SIOV_CAP_CM) && !d->fl)
        dom_queue_inval(d, iova, iova + size);
    return 0;
}

/* --------------------------------------------------------- public: tables */

static int check_range(const struct siov_domain *d, uint64_t iova, uint64_t size)
{
    if (!d || d->kind == SIOV_DOM_PT || size == 0 || ((iova | size) & ~SIOV_PAGE_MASK))
        return -EINVAL;
    return iova >= d->iova_limit || size > d->iova_limit - iova ? -ERANGE : 0;
}

int siov_domain_map(struct siov_domain *dom, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot)
{
    int ret = check_range(dom, iova, size);
    if (ret)
        return ret;
    if ((pa & ~SIOV_PAGE_MASK) || (prot & ~PROT_ALL) || !(prot & (SIOV_PROT_READ | SIOV_PROT_WRITE)))
        return -EINVAL;
    ret = dom_map(dom, iova, pa, size, prot);
    int fret = siov_drv_qi_flush(dom->drv);
    return ret ? ret : fret;
}

int64_t siov_domain_unmap(struct siov_domain *dom, uint64_t iova, uint64_t size)
{
    int ret = check_range(dom, iova, size);
    if (ret)
        return ret;
    size_t i = idpage_index(dom, iova);
    if (i < dom->nid && dom->idpages[i] < iova + size)
        return -EBUSY; /* a nested domain's table page */
    int64_t r = dom_unmap(dom, iova, iova + size);
    int fret = siov_drv_qi_flush(dom->drv);
    return r < 0 ? r : fret ? fret : r;
}

int siov_domain_iova_to_phys(struct siov_domain *dom, uint64_t iova, uint64_t *pa)
{
    if (!dom || !pa)
        return -EINVAL;
    if (dom->kind == SIOV_DOM_PT) {
        *pa = iova;
        return 0;
    }
    if (iova >= dom->iova_limit)
        return -ERANGE;
    uint64_t table = dom->root, e;
    for (unsigned level = dom->levels; level >= 1; level--) {
        if (siov_drv_rd64(dom->drv, table + siov_level_index(iova, level) * 8ull, &e))
            return -EFAULT;
        if (!ent_present(dom, e))
            return -ENOENT;
        if (ent_leaf(dom, e, level)) {
            *pa = ent_addr(dom, e, level) + (iova & (lvl_size(level) - 1));
            return 0;
        }
        table = ent_addr(dom, e, level);
    }
    return -ENOENT;
}

/* ------------------------------------------------------------- domains */

/* Paging geometry of a new domain of kind (parent: for nested). */
static void dom_geometry(struct siov_domain *d, const struct siov_driver *drv)
{
    switch (d->kind) {
    case SIOV_DOM_SL:
        d->levels = drv->sl_levels;
        d->aw = drv->sl_aw;
        d->leaf_levels = drv->sl_leaf_levels;
        d->iova_limit = 1ull << drv->sl_width;
        d->pa_limit = ADDR_LIMIT;
        break;
    case SIOV_DOM_FL:
    case SIOV_DOM_NESTED:
        d->fl = true;
        d->levels = drv->fl_levels;
        d->aw = drv->sl_aw;
        d->leaf_levels = drv->fl_leaf_levels;
        d->iova_limit = 1ull << (drv->fl_levels == 5 ? 56 : 47); /* lower canonical half */
        d->pa_limit = d->parent ? d->parent->iova_limit : ADDR_LIMIT;
        break;
    case SIOV_DOM_PT:
        d->aw = drv->sl_aw;
        d->iova_limit = ADDR_LIMIT;
        d->pa_limit = ADDR_LIMIT;
        break;
    }
}

static struct siov_domain *dom_create(struct siov_driver *drv, enum siov_dom_kind kind,
                                      struct siov_domain *parent)
{
    struct siov_domain *d = calloc(1, sizeof(*d));
    if (!d) {
        errno = ENOMEM;
        return NULL;
    }
    d->drv = drv;
    d->kind = kind;
    d->parent = parent;
    d->pasid = -1;
    dom_geometry(d, drv);
    int ret = siov_drv_did_alloc(drv, &d->did);
    if (!ret && kind != SIOV_DOM_PT && (ret = table_alloc(d, &d->root)))
        siov_drv_did_free(drv, d->did);
    if (ret) {
        siov_drv_qi_flush(drv); /* a failed parent mapping may have queued work */
        free(d);
        errno = -ret;
        return NULL;
    }
    if (parent)
        parent->nchildren++;
    d->next = drv->domains;
    if (drv->domains)
        drv->domains->prev = d;
    drv->domains = d;
    siov_drv_qi_flush(drv);
    return d;
}

struct siov_domain *siov_domain_new(struct siov_driver *drv, enum siov_domain_type type)
{
    static const enum siov_cap need[] = {
        [SIOV_DOMAIN_SECOND_LEVEL] = SIOV_CAP_SECOND_LEVEL,
        [SIOV_DOMAIN_FIRST_LEVEL] = SIOV_CAP_FIRST_LEVEL,
        [SIOV_DOMAIN_PASS_THROUGH] = SIOV_CAP_PASS_THROUGH,
    };
    static const enum siov_dom_kind kind[] = {
        [SIOV_DOMAIN_SECOND_LEVEL] = SIOV_DOM_SL,
        [SIOV_DOMAIN_FIRST_LEVEL] = SIOV_DOM_FL,
        [SIOV_DOMAIN_PASS_THROUGH] = SIOV_DOM_PT,
    };
    if (!drv || (unsigned)type > SIOV_DOMAIN_PASS_THROUGH) {
        errno = EINVAL;
        return NULL;
    }
    if (!siov_driver_capable(drv, need[type])) {
        errno = ENODEV;
        return NULL;
    }
    return dom_create(drv, kind[type], NULL);
}

struct siov_domain *siov_domain_new_nested(struct siov_domain *parent)
{
    if (!parent || parent->kind != SIOV_DOM_SL) {
        errno = EINVAL;
        return NULL;
    }
    if (!siov_driver_capable(parent->drv, SIOV_CAP_NESTED)) {
        errno = ENODEV;
        return NULL;
    }
    return dom_create(parent->drv, SIOV_DOM_NESTED, parent);
}

void siov_domain_release(struct siov_domain *dom)
{
    struct siov_driver *drv = dom->drv;
    if (dom->prev)
        dom->prev->next = dom->next;
    else
        drv->domains = dom->next;
    if (dom->next)
        dom->next->prev = dom->prev;
    free(dom->att);
    free(dom->idpages);
    free(dom);
}

int siov_domain_free(struct siov_domain *dom)
{
    if (!dom)
        return -EINVAL;
    if (dom->natt || dom->nchildren)
        return -EBUSY;
    struct siov_driver *drv = dom->drv;
    if (dom->kind != SIOV_DOM_PT) {
        dom_unmap(dom, 0, dom->iova_limit);
        table_release(dom, dom->root);
    }
    siov_drv_inv_iotlb_dsi(drv, dom->did); /* nothing of this DID may survive its reuse */
    siov_drv_qi_flush(drv);
    if (dom->parent)
        dom->parent->nchildren--;
    siov_drv_did_free(drv, dom->did);
    siov_domain_release(dom);
    return 0;
}

int siov_domain_did(const struct siov_domain *dom)
{
    return dom ? dom->did : -EINVAL;
}

/* --------------------------------------------------------- attachments */

static int att_find(const struct siov_domain *d, siov_sid sid, bool aux)
{
    for (unsigned i = 0; i < d->natt; i++) {
        if (d->att[i].sid == sid && d->att[i].aux == aux)
            return (int)i;
    }
    return -1;
}

/* Room for one more attachment, so that recording it cannot fail later. */
static int att_reserve(struct siov_domain *d)
{
    if (d->natt < d->catt)
        return 0;
    unsigned c = d->catt ? d->catt * 2 : 4;
    struct siov_attachment *a = realloc(d->att, c * sizeof(*a));
    if (!a)
        return -ENOMEM;
    d->att = a;
    d->catt = c;
    return 0;
}

static void att_del(struct siov_domain *d, int i)
{
    d->att[i] = d->att[--d->natt];
}

/* The PASID-table entry for d (spec 9.6); P set. */
static void dom_pasid_entry(const struct siov_domain *d, uint64_t pe[8])
{
    static const uint8_t pgtt[] = {
        [SIOV_DOM_SL] = SIOV_PGTT_SL, [SIOV_DOM_FL] = SIOV_PGTT_FL,
        [SIOV_DOM_PT] = SIOV_PGTT_PT, [SIOV_DOM_NESTED] = SIOV_PGTT_NESTED,
    };
    const struct siov_driver *drv = d->drv;
    const struct siov_domain *sl = d->kind == SIOV_DOM_NESTED ? d->parent : d;
    memset(pe, 0, 8 * sizeof(*pe));
    pe[0] = SIOV_PTE0_P | siov_set(0, SIOV_PTE0_PGTT, pgtt[d->kind]) | siov_set(0, SIOV_PTE0_AW, sl->aw);
    if (d->kind == SIOV_DOM_SL || d->kind == SIOV_DOM_NESTED)
        pe[0] |= (sl->root & SIOV_PTE0_SLPTPTR) | SIOV_PTE0_SLEE;
    pe[1] = siov_set(0, SIOV_PTE1_DID, d->did) | (drv->ecap & SIOV_ECAP_SMPWCS ? SIOV_PTE1_PWSNP : 0);
    pe[2] = drv->ecap & SIOV_ECAP_SRS ? SIOV_PTE2_SRE : 0;
    if (d->fl) {
        pe[2] |= (d->root & SIOV_PTE2_FLPTPTR) | SIOV_PTE2_NXE;
        pe[2] |= siov_set(0, SIOV_PTE2_FLPM, d->levels == 5 ? SIOV_FLPM_5LVL : SIOV_FLPM_4LVL);
        pe[2] |= drv->ecap & SIOV_ECAP_ERS ? SIOV_PTE2_ERE : 0;
        pe[2] |= pe[2] & SIOV_PTE2_SRE ? SIOV_PTE2_WPE : 0; /* supervisor writes obey R/W */
    }
}

/* Legacy context entry for d (spec 9.3): second level or pass-through. */
static void dom_legacy_entry(const struct siov_domain *d, uint64_t *qw0, uint64_t *qw1)
{
    unsigned aw = d->aw, sagaw = (unsigned)siov_get(d->drv->cap, SIOV_CAP_SAGAW);
    if (d->kind == SIOV_DOM_PT) /* pass-through: the largest supported width */
        for (unsigned a = SIOV_AW_3LVL; a <= SIOV_AW_5LVL; a++)
            aw = sagaw & (1u << a) ? a : aw;
    *qw0 = SIOV_CE0_P | siov_set(0, SIOV_CE0_TT, d->kind == SIOV_DOM_PT ? SIOV_TT_PASS_THROUGH : SIOV_TT_SL);
    *qw0 |= d->kind == SIOV_DOM_PT ? 0 : d->root & SIOV_CE0_SLPTPTR;
    *qw1 = siov_set(0, SIOV_CE1_AW, aw) | siov_set(0, SIOV_CE1_DID, d->did);
}

int siov_attach(struct siov_domain *dom, siov_sid sid)
{
    if (!dom)
        return -EINVAL;
    struct siov_driver *drv = dom->drv;
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (dev && dev->rid_dom)
        return dev->rid_dom == dom ? -EEXIST : -EBUSY;
    int ret = att_reserve(dom);
    if (ret || (ret = siov_drv_dev_get(drv, sid, &dev)))
        return ret;
    uint64_t pe[8];
    if (drv->scalable) {
        dom_pasid_entry(dom, pe);
        ret = siov_drv_pasid_set(drv, dev, SIOV_DRV_RID_PASID, pe);
    } else {
        dom_legacy_entry(dom, &pe[0], &pe[1]);
        ret = siov_drv_legacy_set(drv, dev, pe[0], pe[1]);
    }
    if (ret) {
        siov_drv_dev_put(drv, dev);
        return ret;
    }
    dev->rid_dom = dom;
    dom->nrid++;
    dom->att[dom->natt++] = (struct siov_attachment){sid, false};
    return 0;
}

int siov_detach(struct siov_domain *dom, siov_sid sid)
{
    if (!dom)
        return -EINVAL;
    struct siov_driver *drv = dom->drv;
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    int i = att_find(dom, sid, false);
    if (!dev || dev->rid_dom != dom || i < 0)
        return -ENOENT;
    int ret = drv->scalable ? siov_drv_pasid_clear(drv, dev, SIOV_DRV_RID_PASID) : siov_drv_legacy_clear(drv, dev);
    dev->rid_dom = NULL;
    dom->nrid--;
    att_del(dom, i);
    siov_drv_dev_put(drv, dev);
    return ret;
}

int siov_aux_attach(struct siov_domain *dom, siov_sid sid)
{
    if (!dom)
        return -EINVAL;
    struct siov_driver *drv = dom->drv;
    if (!drv->pasid_ok)
        return -ENODEV;
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (!dev || !dev->aux_enabled)
        return -EINVAL;
    if (att_find(dom, sid, true) >= 0)
        return -EEXIST;
    int ret = att_reserve(dom);
    uint32_t pasid = (uint32_t)dom->pasid;
    bool fresh = dom->pasid < 0;
    if (ret || (fresh && (ret = siov_drv_pasid_alloc(drv, &pasid))))
        return ret;
    dom->pasid = (int32_t)pasid; /* the entry names it; restored below on failure */
    uint64_t pe[8];
    dom_pasid_entry(dom, pe);
    if ((ret = siov_drv_pasid_set(drv, dev, pasid, pe))) {
        if (fresh) {
            siov_drv_pasid_free(drv, pasid);
            dom->pasid = -1;
        }
        return ret;
    }
    dev->naux++;
    dom->naux++;
    dom->att[dom->natt++] = (struct siov_attachment){sid, true};
    return 0;
}

int siov_aux_detach(struct siov_domain *dom, siov_sid sid)
{
    if (!dom)
        return -EINVAL;
    struct siov_driver *drv = dom->drv;
    int i = att_find(dom, sid, true);
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (i < 0 || !dev)
        return -ENOENT;
    int ret = siov_drv_pasid_clear(drv, dev, (uint32_t)dom->pasid);
    att_del(dom, i);
    dev->naux--;
    if (--dom->naux == 0) {
        siov_drv_pasid_free(drv, (uint32_t)dom->pasid);
        dom->pasid = -1;
    }
    return ret;
}

int siov_aux_pasid(const struct siov_domain *dom)
{
    if (!dom)
        return -EINVAL;
    return dom->pasid >= 0 ? dom->pasid : -ENOENT;
}

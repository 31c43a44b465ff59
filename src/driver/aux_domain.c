/* aux_domain.c: the driver's public domain API — domains created and freed,
 * map/unmap/lookup with their argument checks (the tables themselves are
 * io_pgtable.c's), attach through RID_PASID or a legacy context entry, and aux
 * attach under the domain's PASID; detaching drains the page requests of a
 * device with PRI (prq.c). Each public call that changes tables flushes the
 * queue once before it returns. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

#define ADDR_LIMIT (1ull << 52) /* paging entries hold addresses up to bit 51 */
#define PROT_ALL (SIOV_PROT_READ | SIOV_PROT_WRITE | SIOV_PROT_EXEC | SIOV_PROT_PRIV)

/* ------------------------------------------------------------- tables */

/* -ERANGE for [iova, iova + size) beyond d's input range, saying where it ends. */
static int range_error(const struct siov_domain *d, uint64_t iova, uint64_t size)
{
    struct siov_driver *drv = d->drv;
    unsigned long long lim = d->iova_limit, a = iova, n = size;
    if (!d->fl && iova >= d->iova_limit)
        return siov_drv_fail(drv, -ERANGE, "iova 0x%llx is beyond 0x%llx, the %u-bit input range of domain %u", a,
                             lim, drv->sl_width, d->did);
    if (!d->fl)
        return siov_drv_fail(drv, -ERANGE, "iova 0x%llx size 0x%llx goes beyond 0x%llx, the %u-bit input range of "
                             "domain %u", a, n, lim, drv->sl_width, d->did);
    unsigned width = d->levels == 5 ? 57 : 48; /* canonical: bits width-1 and up all equal */
    if (iova < d->iova_limit)
        return siov_drv_fail(drv, -ERANGE, "iova 0x%llx size 0x%llx goes beyond 0x%llx, the end of the lower "
                             "canonical half for %u-level first-level tables", a, n, lim, d->levels);
    if (iova >= ~0ull << (width - 1))
        return siov_drv_fail(drv, -ERANGE, "iova 0x%llx is in the upper canonical half, which the driver does not "
                             "map (first-level domains use [0, 0x%llx))", a, lim);
    return siov_drv_fail(drv, -ERANGE, "iova 0x%llx is not canonical for %u-level first-level tables", a, d->levels);
}

static int check_range(const struct siov_domain *d, uint64_t iova, uint64_t size)
{
    struct siov_driver *drv = d->drv;
    if (d->kind == SIOV_DOM_PT)
        return siov_drv_fail(drv, -EINVAL, "domain %u is pass-through: it has no page tables", d->did);
    if (size == 0)
        return siov_drv_fail(drv, -EINVAL, "size 0");
    if (iova & ~SIOV_PAGE_MASK)
        return siov_drv_fail(drv, -EINVAL, "iova 0x%llx not 4 KiB aligned", (unsigned long long)iova);
    if (size & ~SIOV_PAGE_MASK)
        return siov_drv_fail(drv, -EINVAL, "size 0x%llx not a multiple of 4 KiB", (unsigned long long)size);
    return iova >= d->iova_limit || size > d->iova_limit - iova ? range_error(d, iova, size) : 0;
}

static int domain_map(struct siov_domain *dom, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot)
{
    struct siov_driver *drv = dom->drv;
    int ret = check_range(dom, iova, size);
    if (ret)
        return ret;
    if (pa & ~SIOV_PAGE_MASK)
        return siov_drv_fail(drv, -EINVAL, "pa 0x%llx not 4 KiB aligned", (unsigned long long)pa);
    if (prot & ~PROT_ALL)
        return siov_drv_fail(drv, -EINVAL, "prot 0x%x has bits other than SIOV_PROT_READ/WRITE/EXEC/PRIV", prot);
    if (!(prot & (SIOV_PROT_READ | SIOV_PROT_WRITE)))
        return siov_drv_fail(drv, -EINVAL, "prot 0x%x grants neither READ nor WRITE", prot);
    ret = siov_drv_pt_map(dom, iova, pa, size, prot);
    int fret = siov_drv_qi_flush(drv);
    return ret ? ret : fret;
}

int siov_domain_map(struct siov_domain *dom, uint64_t iova, uint64_t pa, uint64_t size, unsigned prot)
{
    return dom ? siov_drv_done(dom->drv, domain_map(dom, iova, pa, size, prot)) : -EINVAL;
}

static int64_t domain_unmap(struct siov_domain *dom, uint64_t iova, uint64_t size)
{
    int ret = check_range(dom, iova, size);
    if (ret)
        return ret;
    if (siov_drv_pt_idpage_in(dom, iova, iova + size))
        return siov_drv_fail(dom->drv, -EBUSY, "[0x%llx, 0x%llx) holds a table page of a nested domain over "
                             "domain %u", (unsigned long long)iova, (unsigned long long)(iova + size), dom->did);
    int64_t r = siov_drv_pt_unmap(dom, iova, iova + size);
    int fret = siov_drv_qi_flush(dom->drv);
    return r < 0 ? r : fret ? fret : r;
}

int64_t siov_domain_unmap(struct siov_domain *dom, uint64_t iova, uint64_t size)
{
    if (!dom)
        return -EINVAL;
    int64_t r = domain_unmap(dom, iova, size);
    siov_drv_done(dom->drv, r < 0 ? (int)r : 0);
    return r;
}

static int iova_to_phys(struct siov_domain *dom, uint64_t iova, uint64_t *pa)
{
    if (!pa)
        return siov_drv_fail(dom->drv, -EINVAL, "pa is NULL");
    if (dom->kind == SIOV_DOM_PT) {
        *pa = iova;
        return 0;
    }
    if (iova >= dom->iova_limit)
        return range_error(dom, iova, 1);
    return siov_drv_pt_lookup(dom, iova, pa);
}

int siov_domain_iova_to_phys(struct siov_domain *dom, uint64_t iova, uint64_t *pa)
{
    return dom ? siov_drv_done(dom->drv, iova_to_phys(dom, iova, pa)) : -EINVAL;
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
        errno = -siov_drv_fail(drv, -ENOMEM, "out of host memory for a domain");
        return NULL;
    }
    d->drv = drv;
    d->kind = kind;
    d->parent = parent;
    d->pasid = -1;
    dom_geometry(d, drv);
    int ret = siov_drv_did_alloc(drv, &d->did);
    if (!ret && kind != SIOV_DOM_PT && (ret = siov_drv_table_alloc(d, &d->root)))
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

/* NULL with errno -err, the failure committed as drv's last error. */
static struct siov_domain *dom_fail(struct siov_driver *drv, int err)
{
    errno = -siov_drv_done(drv, err);
    return NULL;
}

/* -ENODEV, saying what the unit lacks, unless it supports cap. */
static int need_cap(struct siov_driver *drv, enum siov_cap cap)
{
    static const char *const what[] = {
        [SIOV_CAP_AUX_DOMAIN] = "aux domains",
        [SIOV_CAP_FIRST_LEVEL] = "first-level translation (ECAP.FLTS in scalable mode)",
        [SIOV_CAP_SECOND_LEVEL] = "second-level translation (ECAP.SLTS, and a CAP.SAGAW the driver can use)",
        [SIOV_CAP_NESTED] = "nested translation (ECAP.NEST, FLTS and SLTS in scalable mode)",
        [SIOV_CAP_PASS_THROUGH] = "pass-through (ECAP.PT)",
    };
    return siov_drv_capable(drv, cap) ? 0 : siov_drv_fail(drv, -ENODEV, "the unit has no %s", what[cap]);
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
    if (!drv) {
        errno = EINVAL;
        return NULL;
    }
    if ((unsigned)type > SIOV_DOMAIN_PASS_THROUGH)
        return dom_fail(drv, siov_drv_fail(drv, -EINVAL, "domain type %d is not a siov_domain_type", (int)type));
    int ret = need_cap(drv, need[type]);
    struct siov_domain *d = ret ? NULL : dom_create(drv, kind[type], NULL);
    if (!d)
        return dom_fail(drv, ret ? ret : -errno);
    siov_drv_done(drv, 0);
    return d;
}

struct siov_domain *siov_domain_new_nested(struct siov_domain *parent)
{
    static const char *const kinds[] = {
        [SIOV_DOM_SL] = "second-level", [SIOV_DOM_FL] = "first-level",
        [SIOV_DOM_PT] = "pass-through", [SIOV_DOM_NESTED] = "nested",
    };
    if (!parent) {
        errno = EINVAL;
        return NULL;
    }
    struct siov_driver *drv = parent->drv;
    if (parent->kind != SIOV_DOM_SL)
        return dom_fail(drv, siov_drv_fail(drv, -EINVAL, "domain %u is %s: a nested domain's parent must be "
                                           "second-level", parent->did, kinds[parent->kind]));
    int ret = need_cap(drv, SIOV_CAP_NESTED);
    struct siov_domain *d = ret ? NULL : dom_create(drv, SIOV_DOM_NESTED, parent);
    if (!d)
        return dom_fail(drv, ret ? ret : -errno);
    siov_drv_done(drv, 0);
    return d;
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

static int domain_free(struct siov_domain *dom)
{
    struct siov_driver *drv = dom->drv;
    if (dom->natt)
        return siov_drv_fail(drv, -EBUSY, "domain %u is still attached (%u attachment%s)", dom->did, dom->natt,
                             dom->natt == 1 ? "" : "s");
    if (dom->nchildren)
        return siov_drv_fail(drv, -EBUSY, "domain %u is the parent of %u nested domain%s", dom->did, dom->nchildren,
                             dom->nchildren == 1 ? "" : "s");
    if (dom->kind != SIOV_DOM_PT) {
        siov_drv_pt_unmap(dom, 0, dom->iova_limit);
        siov_drv_table_release(dom, dom->root);
    }
    for (size_t i = 0; i < dom->nid; i++) /* children's pages it could not unmap: unmapped now */
        siov_drv_page_defer(drv, dom->idpages[i]);
    siov_drv_inv_iotlb_dsi(drv, dom->did); /* nothing of this DID may survive its reuse */
    siov_drv_qi_flush(drv);
    if (dom->parent)
        dom->parent->nchildren--;
    siov_drv_did_free(drv, dom->did);
    siov_domain_release(dom);
    return 0;
}

int siov_domain_free(struct siov_domain *dom)
{
    if (!dom)
        return -EINVAL;
    struct siov_driver *drv = dom->drv; /* dom is gone once freed */
    return siov_drv_done(drv, domain_free(dom));
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
        return siov_drv_fail(d->drv, -ENOMEM, "out of host memory for domain %u's attachments", d->did);
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

/* Legacy context entry for d on dev (spec 9.3): second level (TT=01 with
   ATS) or pass-through. */
static void dom_legacy_entry(const struct siov_domain *d, const struct siov_dev *dev, uint64_t *qw0, uint64_t *qw1)
{
    unsigned aw = d->aw, sagaw = (unsigned)siov_get(d->drv->cap, SIOV_CAP_SAGAW);
    if (d->kind == SIOV_DOM_PT) /* pass-through: the largest supported width */
        for (unsigned a = SIOV_AW_3LVL; a <= SIOV_AW_5LVL; a++)
            aw = sagaw & (1u << a) ? a : aw;
    *qw0 = SIOV_CE0_P | siov_set(0, SIOV_CE0_TT, siov_drv_legacy_tt(dev, d->kind == SIOV_DOM_PT));
    *qw0 |= d->kind == SIOV_DOM_PT ? 0 : d->root & SIOV_CE0_SLPTPTR;
    *qw1 = siov_set(0, SIOV_CE1_AW, aw) | siov_set(0, SIOV_CE1_DID, d->did);
}

static int attach(struct siov_domain *dom, siov_sid sid)
{
    struct siov_driver *drv = dom->drv;
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (dev && dev->rid_dom == dom)
        return siov_drv_fail(drv, -EEXIST, "domain %u is already attached to %02x:%02x.%x", dom->did,
                             SIOV_DRV_BDF(sid));
    if (dev && dev->rid_dom)
        return siov_drv_fail(drv, -EBUSY, "%02x:%02x.%x is attached to domain %u", SIOV_DRV_BDF(sid),
                             dev->rid_dom->did);
    int ret = att_reserve(dom);
    if (ret || (ret = siov_drv_dev_get(drv, sid, &dev)))
        return ret;
    uint64_t pe[8];
    if (drv->scalable) {
        dom_pasid_entry(dom, pe);
        ret = siov_drv_pasid_set(drv, dev, SIOV_DRV_RID_PASID, pe);
    } else {
        dom_legacy_entry(dom, dev, &pe[0], &pe[1]);
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

int siov_attach(struct siov_domain *dom, siov_sid sid)
{
    return dom ? siov_drv_done(dom->drv, attach(dom, sid)) : -EINVAL;
}

static int detach(struct siov_domain *dom, siov_sid sid)
{
    struct siov_driver *drv = dom->drv;
    int i = att_find(dom, sid, false); /* listed exactly while dev->rid_dom is dom */
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (i < 0 || !dev)
        return siov_drv_fail(drv, -ENOENT, "domain %u is not attached to %02x:%02x.%x", dom->did, SIOV_DRV_BDF(sid));
    int ret = drv->scalable ? siov_drv_pasid_clear(drv, dev, SIOV_DRV_RID_PASID) : siov_drv_legacy_clear(drv, dev);
    dev->rid_dom = NULL;
    dom->nrid--;
    att_del(dom, i);
    int dret = dev->pri ? siov_drv_prq_drain(drv, sid, SIOV_NO_PASID) : 0; /* its requests find no domain now */
    siov_drv_dev_put(drv, dev);
    return ret ? ret : dret;
}

int siov_detach(struct siov_domain *dom, siov_sid sid)
{
    return dom ? siov_drv_done(dom->drv, detach(dom, sid)) : -EINVAL;
}

static int aux_attach(struct siov_domain *dom, siov_sid sid)
{
    struct siov_driver *drv = dom->drv;
    struct siov_dev *dev = NULL; /* set on success; initialised for -O3's flow analysis */
    int ret = siov_drv_aux_dev(drv, sid, &dev);
    if (ret)
        return ret;
    if (att_find(dom, sid, true) >= 0)
        return siov_drv_fail(drv, -EEXIST, "domain %u is already aux-attached to %02x:%02x.%x", dom->did,
                             SIOV_DRV_BDF(sid));
    ret = att_reserve(dom);
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

int siov_aux_attach(struct siov_domain *dom, siov_sid sid)
{
    return dom ? siov_drv_done(dom->drv, aux_attach(dom, sid)) : -EINVAL;
}

static int aux_detach(struct siov_domain *dom, siov_sid sid)
{
    struct siov_driver *drv = dom->drv;
    int i = att_find(dom, sid, true);
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (i < 0 || !dev)
        return siov_drv_fail(drv, -ENOENT, "domain %u is not aux-attached to %02x:%02x.%x", dom->did,
                             SIOV_DRV_BDF(sid));
    int ret = siov_drv_pasid_clear(drv, dev, (uint32_t)dom->pasid);
    att_del(dom, i);
    dev->naux--;
    /* drained before the PASID can be handed out again; its requests find no domain now */
    int dret = dev->pri ? siov_drv_prq_drain(drv, sid, (uint32_t)dom->pasid) : 0;
    if (--dom->naux == 0) {
        siov_drv_pasid_free(drv, (uint32_t)dom->pasid);
        dom->pasid = -1;
    }
    return ret ? ret : dret;
}

int siov_aux_detach(struct siov_domain *dom, siov_sid sid)
{
    return dom ? siov_drv_done(dom->drv, aux_detach(dom, sid)) : -EINVAL;
}

int siov_aux_pasid(const struct siov_domain *dom)
{
    if (!dom)
        return -EINVAL;
    if (dom->pasid >= 0)
        return dom->pasid;
    siov_drv_fail(dom->drv, -ENOENT, "domain %u is not aux-attached: it has no PASID", dom->did);
    return siov_drv_done(dom->drv, -ENOENT);
}

/* The remapping unit's caches as one: their creation and release, the fill
 * of a finished translation into the IOTLB and the front cache under one
 * lock, and the invalidation of everything (caches.h: layout and scheme). */
#include <stdlib.h>

#include "caches.h"

struct siov_caches *siov_caches_new(const struct siov_iommu_config *cfg)
{
    struct siov_caches *c = siov_pages_alloc(sizeof(*c)); /* its per-scope arrays are touched as used */
    if (!c)
        return NULL;
    if (siov_stamps_init(c, cfg)) { /* the layer under the others first */
        siov_pages_free(c, sizeof(*c));
        return NULL;
    }
    int cc = siov_cc_init(c), pc = siov_pc_init(c), tlb = siov_tlb_init(c, cfg);
    int xc = siov_xc_init(c, siov_tlb_capacity(c));
    int iec = siov_iec_init(c);
    if (cc || pc || tlb || xc || iec) {
        siov_caches_free(c); /* each part tolerates what its init left unallocated */
        return NULL;
    }
    return c;
}

void siov_caches_free(struct siov_caches *c)
{
    if (!c)
        return;
    siov_iec_fini(c);
    siov_xc_fini(c);
    siov_tlb_fini(c);
    siov_pc_fini(c);
    siov_cc_fini(c);
    siov_stamps_fini(c);
    siov_pages_free(c, sizeof(*c));
}

void siov_caches_set_stats(struct siov_caches *c, struct siov_stats *stats)
{
    c->tlb.evictions = stats ? &stats->iotlb_evictions : NULL;
}

void siov_caches_fill(struct siov_caches *c, const struct siov_req *req, const struct siov_pasid_ent *pe,
                      const struct siov_walk_out *w, unsigned what)
{
    if (!siov_stamp_fill_begin(c, req->epoch))
        return; /* a skipped fill is always correct */
    if (what & SIOV_FILL_IOTLB)
        siov_tlb_fill_locked(c, req->epoch, pe, req->addr, w);
    uint64_t page = (w->page + (req->addr & (w->page_size - 1))) & SIOV_PAGE_MASK;
    struct siov_xc_hit h = {page, w->page_size, w->perm_user, w->perm_super, w->dirty, pe->did};
    if (what & SIOV_FILL_FRONT)
        siov_xc_fill_locked(c, req->epoch, req->sid, req->pasid, req->addr, &h);
    siov_stamp_unlock(c);
}

void siov_caches_front_flush(struct siov_caches *c)
{
    uint64_t t = siov_stamp_inv_begin(c);
    siov_front_inv_all(c, t);
    siov_stamp_inv_end(c, t);
}

void siov_caches_inv_all(struct siov_caches *c)
{
    uint64_t t = siov_stamp_inv_begin(c);
    siov_cc_inv_global_at(c, t);
    siov_pc_inv_global_at(c, t);
    siov_tlb_inv_global_at(c, t);
    siov_iec_inv_global_at(c, t);
    siov_stamp_inv_end(c, t);
}

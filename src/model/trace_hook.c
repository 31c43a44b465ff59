/* The unit's trace hook (<siov/trace.h>): installing it, and the records of
 * requests and invalidations the request pipelines and the queue hand it. A
 * unit without a hook pays nothing on the hit path: the hook closes that
 * path's gate, and the slow path reports. */
#include <errno.h>

#include "internal.h"

/* A hook closes the hit path's gate, as the stale checker does (regs.c
   computes the same on every state change): traced requests take the slow
   path, where front-cache answers count the same and the hook is called. */
int siov_iommu_set_trace(struct siov_iommu *iommu, siov_trace_fn fn, void *opaque)
{
    if (!iommu)
        return -EINVAL;
    pthread_mutex_lock(&iommu->lock);
    iommu->trace_opaque = fn ? opaque : NULL;
    __atomic_store_n(&iommu->trace_fn, fn, __ATOMIC_RELEASE);
    unsigned gate = __atomic_load_n(&iommu->fast_gate, __ATOMIC_RELAXED);
    if (gate >> SIOV_FAST_CHECKED_SHIFT)
        gate >>= SIOV_FAST_CHECKED_SHIFT;
    if (fn || iommu->cfg.stale_check)
        gate <<= SIOV_FAST_CHECKED_SHIFT;
    __atomic_store_n(&iommu->fast_gate, gate, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&iommu->lock);
    return 0;
}

void siov_trace_request(struct siov_iommu *u, const struct siov_trace_req *q)
{
    siov_trace_fn fn = __atomic_load_n(&u->trace_fn, __ATOMIC_ACQUIRE);
    if (!fn)
        return;
    struct siov_trace_rec r = {
        .kind = q->kind, .sid = q->sid, .pasid = q->pasid, .addr = q->iova, .len = q->len,
        .access = q->access, .has_result = true, .fault = q->fault, .hits = q->hits, .walks = q->walks,
    };
    if (q->kind == SIOV_TRACE_XLATE && q->fault == SIOV_OK) /* a translation always has out */
        r.xlate = *q->out;
    fn(u->trace_opaque, &r);
}

void siov_trace_inval(struct siov_iommu *u, unsigned type, unsigned gran, const struct siov_trace_scope *sc)
{
    siov_trace_fn fn = u->trace_fn; /* set: the queue checked it under the lock set_trace takes */
    struct siov_trace_rec r = {
        .kind = SIOV_TRACE_INVAL, .inv_type = type, .inv_gran = gran, .did = sc->did, .sid = sc->sid,
        .pasid = sc->pasid, .addr = sc->addr, .am = sc->am,
    };
    fn(u->trace_opaque, &r);
}

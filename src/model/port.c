/* The device side's entries into the unit (port.h): attaching a device's
   port, its invalidation completions, the time-out the embedder declares,
   and the invalidation notifiers. Like register writes, each takes the unit's
   lock, may let the invalidation queue go on, and delivers what that sends
   once the lock drops. */
#include <errno.h>

#include "internal.h"

/* After a change under the lock: the interrupts and the messages it queued. */
static void unlock_and_deliver(struct siov_iommu *u)
{
    pthread_mutex_unlock(&u->lock);
    siov_msi_flush(u);
    siov_out_flush(u);
}

int siov_device_port(struct siov_iommu *iommu, siov_sid sid, const struct siov_device_ops *ops, void *opaque)
{
    if (!iommu)
        return -EINVAL;
    pthread_mutex_lock(&iommu->lock);
    if (!ops)
        siov_out_wait_idle(iommu); /* no delivery to the old port may still be running */
    int rc = siov_port_set(iommu, sid, ops, opaque);
    if (!rc && !ops)
        siov_iq_port_gone(iommu, sid);
    unlock_and_deliver(iommu);
    return rc;
}

void siov_devtlb_complete(struct siov_iommu *iommu, siov_sid sid, unsigned itag)
{
    if (!iommu)
        return;
    pthread_mutex_lock(&iommu->lock);
    siov_iq_devtlb_done(iommu, sid, itag);
    unlock_and_deliver(iommu);
}

void siov_iommu_expire(struct siov_iommu *iommu)
{
    if (!iommu)
        return;
    pthread_mutex_lock(&iommu->lock);
    siov_iq_expire(iommu);
    unlock_and_deliver(iommu);
}

unsigned siov_iommu_devtlb_outstanding(struct siov_iommu *iommu)
{
    if (!iommu)
        return 0;
    pthread_mutex_lock(&iommu->lock);
    unsigned n = iommu->dtlb_outstanding;
    pthread_mutex_unlock(&iommu->lock);
    return n;
}

int siov_iommu_add_notifier(struct siov_iommu *iommu, void (*fn)(void *opaque, const struct siov_inval_event *ev),
                            void *opaque)
{
    if (!iommu || !fn)
        return -EINVAL;
    pthread_mutex_lock(&iommu->lock);
    int rc = siov_notifier_add(iommu, &(struct siov_notifier){fn, opaque});
    pthread_mutex_unlock(&iommu->lock);
    return rc;
}

/* The unit's interrupts: the messages of the fault event (FEDATA, FEADDR,
   FEUADDR) and of the invalidation completion event (IEDATA, IEADDR,
   IEUADDR) are queued while the unit's lock is held and sent once it drops,
   so that the embedder's msi callback may call back into the unit. */
#include "internal.h"

void siov_msi_queue(struct siov_iommu *u, unsigned which)
{
    bool fault = which == SIOV_MSI_FAULT;
    u->msi.fire[which] = true;
    u->msi.addr[which] = fault ? (uint64_t)u->feuaddr << 32 | u->feaddr : (uint64_t)u->ieuaddr << 32 | u->ieaddr;
    u->msi.data[which] = fault ? u->fedata : u->iedata;
}

void siov_msi_flush(struct siov_iommu *iommu)
{
    struct siov_msi_pending p;
    pthread_mutex_lock(&iommu->lock);
    p = iommu->msi;
    iommu->msi.fire[0] = iommu->msi.fire[1] = false;
    pthread_mutex_unlock(&iommu->lock);
    for (int i = 0; i < 2; i++)
        if (p.fire[i] && iommu->cfg.msi)
            iommu->cfg.msi(iommu->cfg.msi_opaque, p.addr[i], p.data[i]);
}

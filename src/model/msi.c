/* The unit's interrupts: the messages of the fault event (FEDATA, FEADDR,
   FEUADDR), of the invalidation completion event (IEDATA, IEADDR, IEUADDR)
   and of the page request event (PEDATA, PEADDR, PEUADDR) are queued while
   the unit's lock is held and sent once it drops, so that the embedder's
   msi callback may call back into the unit. */
#include "internal.h"

void siov_msi_queue(struct siov_iommu *u, unsigned which)
{
    u->msi.fire[which] = true;
    switch (which) {
    case SIOV_MSI_FAULT:
        u->msi.addr[which] = (uint64_t)u->feuaddr << 32 | u->feaddr;
        u->msi.data[which] = u->fedata;
        break;
    case SIOV_MSI_INV:
        u->msi.addr[which] = (uint64_t)u->ieuaddr << 32 | u->ieaddr;
        u->msi.data[which] = u->iedata;
        break;
    default:
        u->msi.addr[which] = (uint64_t)u->peuaddr << 32 | u->peaddr;
        u->msi.data[which] = u->pedata;
        break;
    }
}

void siov_msi_flush(struct siov_iommu *iommu)
{
    struct siov_msi_pending p;
    pthread_mutex_lock(&iommu->lock);
    p = iommu->msi;
    iommu->msi.fire[0] = iommu->msi.fire[1] = iommu->msi.fire[2] = false;
    pthread_mutex_unlock(&iommu->lock);
    for (int i = 0; i < 3; i++)
        if (p.fire[i] && iommu->cfg.msi)
            iommu->cfg.msi(iommu->cfg.msi_opaque, p.addr[i], p.data[i]);
}

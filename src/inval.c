/* Invalidation — placeholder until the queue lands. */
#include "internal.h"
void siov_iq_process(struct siov_iommu *iommu) { (void)iommu; }
void siov_iq_disable(struct siov_iommu *iommu) { iommu->iqh = 0; }
void siov_inv_ccmd(struct siov_iommu *iommu, uint64_t ccmd) { (void)iommu; (void)ccmd; }
void siov_inv_iotlb_reg(struct siov_iommu *iommu, uint64_t cmd) { (void)iommu; (void)cmd; }
void siov_inv_all(struct siov_iommu *iommu) { (void)iommu; }

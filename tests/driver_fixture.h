/* The driver tests' fixture: a flat guest memory, a unit over it and the
 * reference driver brought up on both. */
#ifndef SIOV_DRIVER_FIXTURE_H
#define SIOV_DRIVER_FIXTURE_H

#include "testlib.h"

struct drv_fx_cfg {
    const struct siov_iommu_config *iommu; /* NULL: the defaults */
    uint64_t mem_size;                     /* guest memory */
    uint64_t pool_base, pool_size;         /* the driver's table pool */
};

/* Create memory, unit and driver; any that fails fails the test. */
void drv_fx_open(const struct drv_fx_cfg *c, struct siov_mem **mem, struct siov_iommu **iommu,
                 struct siov_driver **drv);
/* Free the three (the driver first). */
void drv_fx_close(struct siov_mem *mem, struct siov_iommu *iommu, struct siov_driver *drv);
/* The little-endian 64-bit word of guest memory at gpa (the read must succeed). */
uint64_t drv_fx_r64(struct siov_mem *mem, uint64_t gpa);
/* The unit's counters. */
struct siov_stats drv_fx_stats(struct siov_iommu *iommu);

#endif

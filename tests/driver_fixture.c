/* The driver tests' fixture (see driver_fixture.h). */
#include "driver_fixture.h"

void drv_fx_open(const struct drv_fx_cfg *c, struct siov_mem **mem, struct siov_iommu **iommu,
                 struct siov_driver **drv)
{
    *mem = siov_mem_new_flat(c->mem_size);
    assert_non_null(*mem);
    *iommu = siov_iommu_new(*mem, c->iommu);
    assert_non_null(*iommu);
    *drv = siov_driver_new(*iommu, *mem, c->pool_base, c->pool_size);
    assert_non_null(*drv);
}

void drv_fx_close(struct siov_mem *mem, struct siov_iommu *iommu, struct siov_driver *drv)
{
    siov_driver_free(drv);
    siov_iommu_free(iommu);
    siov_mem_free(mem);
}

struct siov_stats drv_fx_stats(struct siov_iommu *iommu)
{
    struct siov_stats s;
    siov_iommu_stats(iommu, &s);
    return s;
}

uint64_t drv_fx_r64(struct siov_mem *mem, uint64_t gpa)
{
    uint8_t b[8];
    assert_int_equal(siov_mem_read(mem, gpa, b, 8), 0);
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

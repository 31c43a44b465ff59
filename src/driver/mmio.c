/* mmio.c: the driver's register commands — 32-bit register reads, GCMD with
 * its GSTS poll, and the write-buffer flush. */
#include <errno.h>

#include "driver.h"

#define GCMD_ENABLES (SIOV_GCMD_TE | SIOV_GCMD_EAFL | SIOV_GCMD_QIE | SIOV_GCMD_IRE | SIOV_GCMD_CFI)

uint32_t siov_drv_rd_reg32(struct siov_driver *drv, uint64_t off)
{
    return (uint32_t)siov_mmio_read(drv->iommu, off, 4);
}

/* Write GCMD keeping the current enables (spec 10.4.4), then poll GSTS until
   the status bit reads want. */
int siov_drv_gcmd(struct siov_driver *drv, uint32_t set, uint32_t clear, uint32_t status, bool want)
{
    uint32_t v = (siov_drv_rd_reg32(drv, SIOV_REG_GSTS) & GCMD_ENABLES & ~clear) | set;
    siov_mmio_write(drv->iommu, SIOV_REG_GCMD, v, 4);
    for (unsigned i = 0; i < SIOV_DRV_POLL_LIMIT; i++) {
        if (!!(siov_drv_rd_reg32(drv, SIOV_REG_GSTS) & status) == want)
            return 0;
    }
    return siov_drv_fail(drv, -ETIMEDOUT, "GSTS bit 0x%08x did not %s after GCMD 0x%08x (GSTS 0x%08x)", status,
                         want ? "set" : "clear", v, siov_drv_rd_reg32(drv, SIOV_REG_GSTS));
}

/* Flush the write buffer where CAP.RWBF asks for it (spec 6.8). */
int siov_drv_write_buffer_flush(struct siov_driver *drv)
{
    if (!(drv->cap & SIOV_CAP_RWBF))
        return 0;
    return siov_drv_gcmd(drv, SIOV_GCMD_WBF, 0, SIOV_GSTS_WBFS, false);
}

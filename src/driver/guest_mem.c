/* guest_mem.c: the driver's guest-memory accesses — little-endian words of the
 * structures it builds for the unit, and zeroing. */
#include <errno.h>

#include "driver.h"

/* Page-aligned like the table pages it clears: a copy from a source that
   straddles a page boundary runs markedly slower. */
static const _Alignas(SIOV_PAGE_SIZE) uint8_t zero_page[SIOV_PAGE_SIZE];

int siov_drv_rd64(struct siov_driver *drv, uint64_t gpa, uint64_t *v)
{
    uint8_t b[8];
    if (siov_mem_read(drv->mem, gpa, b, 8))
        return siov_drv_fail(drv, -EFAULT, "guest memory at 0x%llx is not readable", (unsigned long long)gpa);
    *v = siov_drv_get64(b);
    return 0;
}

int siov_drv_wr64(struct siov_driver *drv, uint64_t gpa, uint64_t v)
{
    uint8_t b[8];
    siov_drv_put64(b, v);
    return siov_drv_write_mem(drv, gpa, b, 8);
}

int siov_drv_rd32(struct siov_driver *drv, uint64_t gpa, uint32_t *v)
{
    uint8_t b[4];
    if (siov_mem_read(drv->mem, gpa, b, 4))
        return siov_drv_fail(drv, -EFAULT, "guest memory at 0x%llx is not readable", (unsigned long long)gpa);
    *v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    return 0;
}

int siov_drv_zero(struct siov_driver *drv, uint64_t gpa, size_t len)
{
    return siov_drv_write_mem(drv, gpa, zero_page, len);
}

int siov_drv_write_mem(struct siov_driver *drv, uint64_t gpa, const void *src, size_t len)
{
    if (siov_mem_write(drv->mem, gpa, src, len))
        return siov_drv_fail(drv, -EFAULT, "guest memory at 0x%llx is not writable", (unsigned long long)gpa);
    return 0;
}

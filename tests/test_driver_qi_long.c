/* The reference driver's invalidation queue over a long run: more than 2^24
 * inv-waits, so that status values use every byte of the 32-bit status word
 * (test_driver_qi covers the first 16 bits quickly). Slow suite. */
#include <stdlib.h>

#include "testlib.h"

#define MEM_SIZE (8ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (1ull << 20)
#define SID_A SIOV_SID(0, 2, 0)

/* One interrupt moved 2^24 + 1000 times, each move an IEC invalidation and
   an inv-wait the driver sees arrive; then a mapping is still invalidated
   on unmap. */
static void test_status_words_past_24_bits(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
    struct siov_iommu *u = siov_iommu_new(mem, NULL);
    struct siov_driver *drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
    assert_non_null(drv);
    struct siov_msi msi;
    assert_int_equal(siov_dev_irq_alloc(drv, SID_A, 1, 0x40, &msi), 0);
    const unsigned moves = (1u << 24) + 1000;
    for (unsigned i = 0; i < moves; i++)
        if (siov_dev_irq_set_affinity(drv, SID_A, &msi, 1 + (i & 1), 0x40) != 0)
            fail_msg("move %u failed: %s", i, siov_driver_last_error(drv));
    struct siov_stats s;
    siov_iommu_stats(u, &s);
    assert_true(s.inv_wait > moves);
    struct siov_domain *d = siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0, 0x400000, 0x1000, SIOV_PROT_READ), 0);
    assert_int_equal(siov_attach(d, SID_A), 0);
    struct siov_xlate x;
    assert_int_equal(siov_translate(u, SID_A, SIOV_NO_PASID, 0x10, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(siov_domain_unmap(d, 0, 0x1000), 0x1000);
    assert_int_equal(siov_translate(u, SID_A, SIOV_NO_PASID, 0x10, SIOV_ACCESS_READ, &x), SIOV_FAULT_SSL_2);
    siov_driver_free(drv);
    siov_iommu_free(u);
    siov_mem_free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_words_past_24_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

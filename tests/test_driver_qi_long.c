/* The reference driver's invalidation queue over a long run: more than 2^24
 * inv-waits, so that status values use every byte of the 32-bit status word
 * (test_driver_qi covers the first 16 bits quickly). Slow suite. */
#include <stdlib.h>

#include "driver_fixture.h"

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
    struct siov_mem *mem;
    struct siov_iommu *u;
    struct siov_driver *drv;
    drv_fx_open(&(struct drv_fx_cfg){NULL, MEM_SIZE, POOL_BASE, POOL_SIZE}, &mem, &u, &drv);
    struct siov_msi msi;
    assert_int_equal(siov_dev_irq_alloc(drv, SID_A, 1, 0x40, &msi), 0);
    const unsigned moves = (1u << 24) + 1000;
    tl_irq_moves(drv, SID_A, &msi, moves);
    assert_true(drv_fx_stats(u).inv_wait > moves);
    struct siov_domain *d = siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0, 0x400000, 0x1000, SIOV_PROT_READ), 0);
    assert_int_equal(siov_attach(d, SID_A), 0);
    struct siov_xlate x;
    assert_int_equal(siov_translate(u, SID_A, SIOV_NO_PASID, 0x10, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(siov_domain_unmap(d, 0, 0x1000), 0x1000);
    assert_int_equal(siov_translate(u, SID_A, SIOV_NO_PASID, 0x10, SIOV_ACCESS_READ, &x), SIOV_FAULT_SSL_2);
    drv_fx_close(mem, u, drv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status_words_past_24_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

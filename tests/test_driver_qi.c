/* The reference driver's invalidations seen from the unit: what its
 * bring-up drops of what an earlier owner of the unit left cached, and
 * inv-wait status words past 16 bits. */
#include <stdlib.h>

#include "driver_fixture.h"

#define MEM_SIZE (64ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (4ull << 20)
#define SID_A SIOV_SID(0, 2, 0)
#define RW (SIOV_PROT_READ | SIOV_PROT_WRITE)

/* Maps iova 0 to pa in a new second-level domain attached to SID_A and
   translates it once (the IOTLB now holds it); returns the domain's DID. */
static int map_and_translate(struct siov_driver *drv, struct siov_iommu *u, uint64_t pa)
{
    struct siov_domain *d = siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(d);
    assert_int_equal(siov_domain_map(d, 0, pa, 0x1000, RW), 0);
    assert_int_equal(siov_attach(d, SID_A), 0);
    struct siov_xlate x;
    assert_int_equal(siov_translate(u, SID_A, SIOV_NO_PASID, 0x10, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, pa + 0x10);
    return siov_domain_did(d);
}

/* The unit has no ESRTPS: a new root table keeps the IOTLB. A second driver
   over the same unit (the first freed) drops every IOTLB entry at bring-up
   (a global invalidation), so its own domain, with the same DID, never
   meets the first driver's translation. Scalable and legacy mode. */
static void test_bringup_drops_earlier_iotlb(void **state)
{
    (void)state;
    for (int legacy = 0; legacy < 2; legacy++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.scalable = !legacy;
        struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
        struct siov_iommu *u = siov_iommu_new(mem, &cfg);
        assert_non_null(u);
        struct siov_driver *a = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
        assert_non_null(a);
        int did = map_and_translate(a, u, 0x2000000);
        siov_driver_free(a);
        struct siov_driver *b = siov_driver_new(u, mem, POOL_BASE + POOL_SIZE, POOL_SIZE);
        assert_non_null(b);
        assert_int_equal(map_and_translate(b, u, 0x3000000), did);
        siov_driver_free(b);
        siov_iommu_free(u);
        siov_mem_free(mem);
    }
}

/* Each waited-for invalidation has its own inv-wait status value, one more
   than the last: past 65535 of them the driver must still read all of the
   32-bit status word to see each one arrive. One interrupt moved 70000
   times, each move an IEC invalidation and an inv-wait. */
static void test_status_words_past_16_bits(void **state)
{
    (void)state;
    struct siov_mem *mem;
    struct siov_iommu *u;
    struct siov_driver *drv;
    drv_fx_open(&(struct drv_fx_cfg){NULL, MEM_SIZE, POOL_BASE, POOL_SIZE}, &mem, &u, &drv);
    struct siov_msi msi;
    assert_int_equal(siov_dev_irq_alloc(drv, SID_A, 1, 0x40, &msi), 0);
    struct siov_stats s0 = drv_fx_stats(u);
    const unsigned moves = 70000;
    tl_irq_moves(drv, SID_A, &msi, moves);
    struct siov_stats s1 = drv_fx_stats(u);
    assert_int_equal(s1.inv_wait - s0.inv_wait, moves);
    assert_int_equal(s1.inv_iec - s0.inv_iec, moves);
    drv_fx_close(mem, u, drv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bringup_drops_earlier_iotlb),
        cmocka_unit_test(test_status_words_past_16_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

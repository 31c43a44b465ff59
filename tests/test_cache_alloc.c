/* The caches and the ATC when memory runs out (src/model/exact_cache.c,
   iotlb.c, atc.c): the k-th allocation fails, for every k until the call
   needs no more; each call then fails with ENOMEM and holds nothing (ASan
   checks the leaks), and the same call succeeds once memory is back. The
   allocation calls are tests/alloc_wrap.c's (ld --wrap, tests/meson.build). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_wrap.h"
#include "caches.h"
#include "exact_cache.h"
#include "testlib.h"

/* ---------------------------------------------------------------- tests */
#define SID SIOV_SID(0, 3, 0)

/* The exact cache: every allocation of siov_exact_new in turn. */
static void test_exact_cache_out_of_memory(void **state)
{
    (void)state;
    long k = 0;
    for (;; k++) {
        aw_arm(k);
        struct siov_exact_cache *h = siov_exact_new(4, 3, SIOV_POLICY_FIFO, 1);
        bool f = aw_fired();
        aw_disarm();
        if (!f) {
            assert_non_null(h);
            uint64_t v = 0;
            siov_exact_fill(h, 7, 7, 3, 0x33);
            assert_true(siov_exact_lookup(h, 7, 7, 3, &v));
            assert_int_equal(v, 0x33);
            siov_exact_free(h);
            break;
        }
        assert_null(h);
    }
    assert_true(k >= 6); /* the cache and its five arrays */
}

/* A unit with the hardware-like IOTLB: siov_iommu_new fails whole. */
static void test_hardware_like_iotlb_out_of_memory(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(4 << 20);
    assert_non_null(mem);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = 64;
    cfg.iotlb_ways = 4;
    long k = 0;
    for (;; k++) {
        aw_arm(k);
        struct siov_iommu *u = siov_iommu_new(mem, &cfg);
        bool f = aw_fired();
        aw_disarm();
        if (!f) {
            assert_non_null(u);
            siov_iommu_free(u);
            break;
        }
        assert_null(u);
    }
    assert_true(k > 6);
    siov_mem_free(mem);
}

/* The ATC, both kinds: siov_atc_new_config fails with ENOMEM and leaves the
   device's port free; siov_atc_entries answers 0 without its scratch array. */
static void test_atc_out_of_memory(void **state)
{
    (void)state;
    struct tl *t = tl_new_sized(NULL, 4 << 20);
    tl_enable(t, SIOV_TTM_SCALABLE); /* requests without PASID pass through: the ATC holds one completion */
    uint64_t dir = tl_sm_context_default(t, SID, 0), pe[8];
    tl_pe_pt(pe, 1);
    tl_pasid_entry(t, dir, 0, pe);
    for (unsigned ways = 0; ways <= 4; ways += 4) {
        struct siov_atc_config ac = {16, ways, SIOV_POLICY_LRU, 0};
        long k = 0;
        for (;; k++) {
            aw_arm(k);
            errno = 0;
            struct siov_atc *a = siov_atc_new_config(t->iommu, SID, &ac);
            int e = errno;
            bool f = aw_fired();
            aw_disarm();
            if (!f) {
                assert_non_null(a);
                struct siov_xlate x;
                assert_int_equal(siov_atc_translate(a, SIOV_NO_PASID, 0x5000, SIOV_ACCESS_READ, &x), SIOV_OK);
                assert_int_equal(x.addr, 0x5000);
                assert_int_equal(siov_atc_entries(a, NULL, 0), ways ? 0 : 1); /* the hardware-like one lists none */
                aw_arm(0);
                assert_int_equal(siov_atc_entries(a, NULL, 0), 0);
                assert_true(aw_fired());
                aw_disarm();
                siov_atc_free(a);
                break;
            }
            assert_null(a);
            assert_int_equal(e, ENOMEM);
        }
        assert_true(k >= (ways ? 8 : 6));
    }
    tl_free(t);
}

/* A unit's mapped arrays all go at siov_iommu_free: sixteen units of a
   32 MiB IOTLB come and go without the process growing by one of them. */
static void test_unit_unmaps_its_arrays(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(4 << 20);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = 1u << 20;
    siov_iommu_free(siov_iommu_new(mem, &cfg)); /* the allocator's own first growth */
    unsigned long before = tl_vm_kib();
    if (!before)
        skip();
    for (int i = 0; i < 16; i++) {
        struct siov_iommu *u = siov_iommu_new(mem, &cfg);
        assert_non_null(u);
        siov_iommu_free(u);
    }
    assert_true(tl_vm_kib() < before + (16ul << 10));
    siov_mem_free(mem);
}

/* The page allocator's own edges: nothing for 0 bytes or for a size whose
   page rounding overflows; a small array is zeroed, written, and given back
   (freeing NULL does nothing). */
static void test_pages_edges(void **state)
{
    (void)state;
    assert_null(siov_pages_alloc(0));
    assert_null(siov_pages_alloc(SIZE_MAX));
    assert_null(siov_pages_alloc(SIZE_MAX - 100));
    uint8_t *p = siov_pages_alloc(100);
    assert_non_null(p);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(p[i], 0);
    memset(p, 0xA5, 100);
    assert_int_equal((uintptr_t)p % 64, 0);
    siov_pages_free(p, 100);
    siov_pages_free(NULL, 100);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_cache_out_of_memory),
        cmocka_unit_test(test_hardware_like_iotlb_out_of_memory),
        cmocka_unit_test(test_atc_out_of_memory),
        cmocka_unit_test(test_unit_unmaps_its_arrays),
        cmocka_unit_test(test_pages_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

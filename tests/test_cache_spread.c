/* The set index of the unit's set-associative caches (caches.h,
   siov_cache_set) spreads keys over every set: an IOTLB asked to hold half
   as many pages as it has entries keeps nearly all of them. A set index
   that reached only some sets would evict in proportion. */
#include <string.h>

#include "testlib.h"

#define SID SIOV_SID(1, 2, 0)
#define DID 0x2A
#define ENTRIES 512u
#define PAGES (ENTRIES / 2)
#define IOVA 0x40000000ull
#define OUT 0x3C0000000ull

static void test_half_full_iotlb_keeps_its_pages(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = ENTRIES;
    struct tl *t = tl_new_sized(&cfg, 16ull << 20);
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t root = tl_page(t), pe[8];
    for (uint64_t i = 0; i < PAGES; i++)
        tl_map(t, root, 4, false, IOVA + i * SIOV_PAGE_SIZE, OUT + i * SIOV_PAGE_SIZE, SIOV_PAGE_SIZE, TL_SL_RW,
               TL_SL_RWX);
    tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
    uint64_t dir = tl_sm_context_default(t, SID, 1);
    tl_pasid_entry(t, dir, 1, pe); /* requests without PASID: RID_PASID 1 */
    struct siov_xlate x;
    for (uint64_t i = 0; i < PAGES; i++) {
        assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, IOVA + i * SIOV_PAGE_SIZE, SIOV_ACCESS_READ,
                                        &x),
                         SIOV_OK);
        assert_int_equal(x.addr, OUT + i * SIOV_PAGE_SIZE);
    }
    struct siov_stats s = tl_stats(t);
    assert_int_equal(s.walks, PAGES);
    /* 256 keys over 128 four-way sets: a few sets overflow; over half the
       sets, about a fifth of the pages would be evicted */
    assert_true(s.iotlb_evictions < PAGES / 16);
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_half_full_iotlb_keeps_its_pages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

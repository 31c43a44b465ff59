/* The unit's configuration: every default iommu.h documents, and the
   configuration a unit reports back (defaults filled in for NULL). */
#include <string.h>

#include "testlib.h"

/* Each field against the default its comment in iommu.h names. */
static void assert_documented_defaults(const struct siov_iommu_config *c)
{
    assert_int_equal(c->mgaw, 48);
    assert_int_equal(c->sagaw, SIOV_SAGAW_4LVL);
    assert_int_equal(c->pasid_bits, 20);
    assert_true(c->first_level && c->second_level && c->nested && c->pass_through);
    assert_true(c->fl_5level && c->fl_1g);
    assert_int_equal(c->sl_large, SIOV_SLLPS_2M | SIOV_SLLPS_1G);
    assert_int_equal(c->iotlb_entries, 4096);
    assert_int_equal(c->fault_records, 8);
    assert_int_equal(c->haw, 48);
    assert_int_equal(c->domain_bits, 16);
    assert_int_equal(c->version, 0x10);
    assert_true(c->scalable && c->sl_ad && c->supervisor_req && c->exec_req);
    assert_true(c->dev_tlb && c->abort_dma && c->rid_pasid && c->psi && c->nwfs);
    assert_false(c->caching_mode || c->stale_check);
    assert_null(c->stale_report);
    assert_null(c->msi);
    assert_true(c->irq_remapping && c->x2apic && c->posted_interrupts);
    assert_false(c->esirtps || c->x2apic_only || c->irq_remap_required);
    assert_int_equal(c->iotlb_ways, 0);
    assert_int_equal(c->iotlb_policy, SIOV_POLICY_LRU);
    assert_int_equal(c->iotlb_seed, 1);
    assert_true(c->page_requests);
}

static void defaults_as_documented(void **state)
{
    (void)state;
    struct siov_iommu_config c;
    memset(&c, 0xA5, sizeof(c)); /* every field overwritten, whatever was there */
    siov_iommu_config_default(&c);
    assert_documented_defaults(&c);
    siov_iommu_config_default(NULL); /* ignored */
}

/* A unit made without a configuration reports the defaults; one made with
   a configuration reports that configuration. */
static void unit_reports_its_configuration(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    assert_documented_defaults(siov_iommu_get_config(t->iommu));
    tl_free(t);
    struct siov_iommu_config c;
    siov_iommu_config_default(&c);
    c.iotlb_policy = SIOV_POLICY_RANDOM;
    c.iotlb_ways = 4;
    c.iotlb_seed = 77;
    c.fault_records = 3;
    t = tl_new(&c);
    const struct siov_iommu_config *got = siov_iommu_get_config(t->iommu);
    assert_int_equal(got->iotlb_policy, SIOV_POLICY_RANDOM);
    assert_int_equal(got->iotlb_ways, 4);
    assert_int_equal(got->iotlb_seed, 77);
    assert_int_equal(got->fault_records, 3);
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_as_documented),
        cmocka_unit_test(unit_reports_its_configuration),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The reference driver's page request groups out of host memory (linked
 * with ld --wrap=realloc): a group whose record cannot be kept is answered
 * at its last request with that request's code, as src/driver/prq.c says,
 * and nothing else breaks. */
#include <errno.h>
#include <stdlib.h>

#include "driver_fixture.h"
#include "testlib.h"

#define MEM_SIZE (64ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (16ull << 20)
#define SID_A SIOV_SID(0, 1, 0)

static bool realloc_fails;

void *__real_realloc(void *p, size_t size);
void *__wrap_realloc(void *p, size_t size);

void *__wrap_realloc(void *p, size_t size)
{
    return realloc_fails ? NULL : __real_realloc(p, size);
}

struct answers {
    unsigned n, code;
    uint16_t prgi;
};

static void on_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    (void)sid, (void)pasid;
    struct answers *a = opaque;
    a->n++;
    a->prgi = prgi;
    a->code = code;
}

/* Page 1 is refused, every other page succeeds. */
static unsigned by_page(void *opaque, struct siov_domain *dom, siov_sid sid, const struct siov_page_request *req)
{
    (void)opaque, (void)dom, (void)sid;
    return (req->addr >> 12) == 1 ? SIOV_PRQ_INVALID : SIOV_PRQ_SUCCESS;
}

static void test_group_record_lost(void **state)
{
    (void)state;
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
    drv_fx_open(&(struct drv_fx_cfg){NULL, MEM_SIZE, POOL_BASE, POOL_SIZE}, &mem, &iommu, &drv);
    assert_int_equal(siov_driver_set_prq_handler(drv, by_page, NULL), 0);
    assert_int_equal(siov_dev_enable_aux(drv, SID_A), 0);
    assert_int_equal(siov_dev_enable_ats(drv, SID_A), 0);
    assert_int_equal(siov_dev_enable_pri(drv, SID_A), 0);
    struct siov_atc *atc = siov_atc_new(iommu, SID_A, 16);
    assert_non_null(atc);
    struct answers a = {0};
    siov_atc_set_page_response(atc, on_response, &a);
    struct siov_domain *dom = siov_domain_new(drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_aux_attach(dom, SID_A), 0);
    uint32_t pasid = (uint32_t)siov_aux_pasid(dom);
    struct siov_page_request r1 = {pasid, 0x1000, SIOV_ACCESS_READ, 6, false, false};
    struct siov_page_request r2 = {pasid, 0x2000, SIOV_ACCESS_READ, 6, true, false};
    assert_int_equal(siov_page_request(iommu, SID_A, &r1), SIOV_OK);
    realloc_fails = true;
    assert_int_equal(siov_driver_service_prq(drv), 1); /* the group's record: no memory */
    realloc_fails = false;
    assert_int_equal(a.n, 0);
    assert_int_equal(siov_page_request(iommu, SID_A, &r2), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(drv), 1);
    assert_int_equal(a.n, 1);
    assert_int_equal(a.prgi, 6);
    assert_int_equal(a.code, SIOV_PRQ_SUCCESS); /* the refused first page was forgotten */
    /* with memory the same group keeps its worst code */
    assert_int_equal(siov_page_request(iommu, SID_A, &r1), SIOV_OK);
    assert_int_equal(siov_page_request(iommu, SID_A, &r2), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(drv), 2);
    assert_int_equal(a.n, 2);
    assert_int_equal(a.code, SIOV_PRQ_INVALID);
    siov_atc_free(atc);
    drv_fx_close(mem, iommu, drv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_record_lost),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

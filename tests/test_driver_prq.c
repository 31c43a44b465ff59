/* Page requests in the reference driver (src/driver/prq.c): the queue at
 * bring-up, PRI on and off, the handler and the domain each request is
 * handled under, groups answered once with their worst code, stop markers,
 * overflow recovery, the drains of aux detach, detach and PRI disable, the
 * handler's own calls, the event's message, and a randomized run where
 * devices fault on random pages of several ADIs until every retry succeeds
 * with the right data and every answer reaches the device and PASID that
 * asked (the seed is printed; SIOV_TEST_SEED replays it). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "driver_fixture.h"
#include "testlib.h"

#define MEM_SIZE (64ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (16ull << 20)
#define DATA (32ull << 20) /* backing pages handed out by the handler */
#define SID_A SIOV_SID(0, 1, 0)
#define SID_B SIOV_SID(0, 2, 0)
#define RW (SIOV_PROT_READ | SIOV_PROT_WRITE)

/* ------------------------------------------------------------- a device */
#define RESP_MAX 256
struct resp {
    siov_sid sid;
    uint32_t pasid;
    uint16_t prgi;
    unsigned code;
};
struct dev {
    siov_sid sid;
    struct siov_atc *atc;
    unsigned n;
    struct resp r[RESP_MAX];
    unsigned devtlb; /* device-TLB invalidations seen (manual port only) */
};

static void on_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    struct dev *d = opaque;
    assert_true(d->n < RESP_MAX);
    d->r[d->n++] = (struct resp){sid, pasid, prgi, code};
}

/* The i-th answer d received: sent to d itself, for pasid's group prgi, with code. */
static void expect_resp(const struct dev *d, unsigned i, uint32_t pasid, uint16_t prgi, unsigned code)
{
    assert_true(i < d->n);
    assert_int_equal(d->r[i].sid, d->sid);
    assert_int_equal(d->r[i].pasid, pasid);
    assert_int_equal(d->r[i].prgi, prgi);
    assert_int_equal(d->r[i].code, code);
}

/* ------------------------------------------------------------- fixture */
struct fx {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
    struct dev a, b;
    /* the handler */
    unsigned calls;
    struct siov_domain *last_dom;
    siov_sid last_sid;
    struct siov_page_request last_req;
    unsigned code;            /* what it answers when it does not map */
    bool map;                 /* map the page on demand */
    uint64_t next_pa;         /* the next backing page */
    const unsigned *by_page;  /* answers by page number (low 4 bits), when set */
    int nested_rc;            /* siov_driver_service_prq called from inside */
    char nested_error[256];   /* siov_driver_last_error after a handler's own call */
    bool call_nested;
    struct tl_msi_log msi;
};

static unsigned handler(void *opaque, struct siov_domain *dom, siov_sid sid, const struct siov_page_request *req)
{
    struct fx *f = opaque;
    f->last_dom = dom;
    f->last_sid = sid;
    f->last_req = *req;
    f->calls++;
    if (f->call_nested)
        f->nested_rc = siov_driver_service_prq(f->drv);
    if (f->by_page)
        return f->by_page[(req->addr >> 12) & 0xF];
    if (!f->map)
        return f->code;
    uint64_t pa = f->next_pa;
    f->next_pa += 4096;
    int rc = siov_domain_map(dom, req->addr, pa, 4096, RW);
    return rc == 0 || rc == -EEXIST ? SIOV_PRQ_SUCCESS : SIOV_PRQ_INVALID;
}

static struct fx *fx_new_cfg(const struct siov_iommu_config *base)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    if (base)
        cfg = *base;
    cfg.msi = tl_msi_cb;
    cfg.msi_opaque = &f->msi;
    drv_fx_open(&(struct drv_fx_cfg){&cfg, MEM_SIZE, POOL_BASE, POOL_SIZE}, &f->mem, &f->iommu, &f->drv);
    f->next_pa = DATA;
    f->map = true;
    assert_int_equal(siov_driver_set_prq_handler(f->drv, handler, f), 0);
    return f;
}

static struct fx *fx_new(void)
{
    return fx_new_cfg(NULL);
}

/* ATS, PRI and aux domains on sid. */
static void dev_enable(struct fx *f, siov_sid sid)
{
    assert_int_equal(siov_dev_enable_aux(f->drv, sid), 0);
    assert_int_equal(siov_dev_enable_ats(f->drv, sid), 0);
    assert_int_equal(siov_dev_enable_pri(f->drv, sid), 0);
}

/* A device with ATS, PRI and aux domains, its ATC and response log. */
static void dev_up(struct fx *f, struct dev *d, siov_sid sid)
{
    d->sid = sid;
    dev_enable(f, sid);
    d->atc = siov_atc_new(f->iommu, sid, 256);
    assert_non_null(d->atc);
    siov_atc_set_page_response(d->atc, on_response, d);
}

static void fx_free(struct fx *f)
{
    siov_atc_free(f->a.atc);
    siov_atc_free(f->b.atc);
    drv_fx_close(f->mem, f->iommu, f->drv);
    free(f);
}

static struct siov_domain *aux_domain(struct fx *f, struct dev *d, uint32_t *pasid)
{
    struct siov_domain *dom = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_non_null(dom);
    assert_int_equal(siov_aux_attach(dom, d->sid), 0);
    *pasid = (uint32_t)siov_aux_pasid(dom);
    return dom;
}

/* A unit with device A up and an aux domain on it for each PASID asked for
   (p2 may be NULL); the first domain in *d1 when d1 is set. */
static struct fx *fx_adis(uint32_t *p1, uint32_t *p2, struct siov_domain **d1)
{
    struct fx *f = fx_new();
    dev_up(f, &f->a, SID_A);
    struct siov_domain *first = aux_domain(f, &f->a, p1);
    if (p2)
        aux_domain(f, &f->a, p2);
    if (d1)
        *d1 = first;
    return f;
}

/* A unit with device A up and a second-level domain attached for requests
   without PASID. */
static struct fx *fx_rid(struct siov_domain **dom)
{
    struct fx *f = fx_new();
    dev_up(f, &f->a, SID_A);
    *dom = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(*dom);
    assert_int_equal(siov_attach(*dom, SID_A), 0);
    return f;
}

static siov_fault send(struct fx *f, struct dev *d, uint32_t pasid, uint64_t va, unsigned access, uint16_t prgi,
                       bool last)
{
    struct siov_page_request r = {pasid, va, access, prgi, last, false};
    return siov_page_request(f->iommu, d->sid, &r);
}

static uint64_t reg(struct fx *f, uint64_t off, unsigned size) { return siov_mmio_read(f->iommu, off, size); }

/* Every queued request consumed, PPR and PRO clear. */
static void expect_queue_idle(struct fx *f)
{
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), reg(f, SIOV_REG_PQT, 8));
    assert_int_equal(reg(f, SIOV_REG_PRS, 4), 0);
}

/* ------------------------------------------------------------- basics */
/* The demand-paging round trip: not present, page request, the handler
   maps, Success reaches the device, the retry translates to the new page. */
static void test_round_trip(void **state)
{
    (void)state;
    uint32_t pasid;
    struct siov_domain *dom;
    struct fx *f = fx_adis(&pasid, NULL, &dom);
    const uint64_t va = 0x7000;
    uint32_t v = 0xFEEDu;
    assert_int_equal(siov_atc_dma_write(f->a.atc, pasid, va + 8, &v, 4), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(send(f, &f->a, pasid, va, SIOV_ACCESS_WRITE, 3, true), SIOV_OK);
    assert_int_equal(f->a.n, 0);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_int_equal(f->calls, 1);
    assert_ptr_equal(f->last_dom, dom);
    assert_int_equal(f->last_sid, SID_A);
    assert_int_equal(f->last_req.pasid, pasid);
    assert_int_equal(f->last_req.addr, va);
    assert_int_equal(f->last_req.access, SIOV_ACCESS_WRITE);
    assert_int_equal(f->a.n, 1);
    expect_resp(&f->a, 0, pasid, 3, SIOV_PRQ_SUCCESS);
    assert_int_equal(siov_atc_dma_write(f->a.atc, pasid, va + 8, &v, 4), SIOV_OK);
    uint32_t back = 0;
    assert_int_equal(siov_mem_read(f->mem, DATA + 8, &back, 4), 0);
    assert_int_equal(back, v);
    /* the queue is consumed, PPR cleared */
    expect_queue_idle(f);
    assert_int_equal(siov_driver_service_prq(f->drv), 0); /* nothing left */
    fx_free(f);
}

/* A request without PASID is handled under the RID_PASID domain. */
static void test_request_without_pasid(void **state)
{
    (void)state;
    struct siov_domain *dom;
    struct fx *f = fx_rid(&dom);
    assert_int_equal(send(f, &f->a, SIOV_NO_PASID, 0x9000, SIOV_ACCESS_READ, 1, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_ptr_equal(f->last_dom, dom);
    assert_int_equal(f->a.r[0].pasid, SIOV_NO_PASID);
    assert_int_equal(f->a.r[0].code, SIOV_PRQ_SUCCESS);
    uint32_t v;
    assert_int_equal(siov_atc_dma_read(f->a.atc, SIOV_NO_PASID, 0x9000, &v, 4), SIOV_OK);
    fx_free(f);
}

/* No domain: the unit itself refuses a PASID without an entry (the driver
   writes entries for attached domains only; requests queued before a
   detach are the drain tests' business). No handler: Invalid Request. */
static void test_no_domain_no_handler(void **state)
{
    (void)state;
    uint32_t pasid;
    struct fx *f = fx_adis(&pasid, NULL, NULL);
    /* RID_PASID has no domain attached: no entry, SPT.2, the unit answers */
    assert_int_equal(send(f, &f->a, SIOV_NO_PASID, 0x9000, SIOV_ACCESS_READ, 1, true), SIOV_FAULT_SPT_2);
    assert_int_equal(siov_driver_service_prq(f->drv), 0);
    assert_int_equal(f->calls, 0);
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.r[0].code, SIOV_PRQ_INVALID);
    /* no handler */
    assert_int_equal(siov_driver_set_prq_handler(f->drv, NULL, NULL), 0);
    assert_int_equal(send(f, &f->a, pasid, 0x9000, SIOV_ACCESS_READ, 2, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_int_equal(f->calls, 0);
    assert_int_equal(f->a.n, 2);
    assert_int_equal(f->a.r[1].code, SIOV_PRQ_INVALID);
    assert_int_equal(f->a.r[1].prgi, 2);
    fx_free(f);
}

/* ------------------------------------------------------------- groups */
/* Several requests of one group are answered once, at the last, with the
   worst of the handler's codes (here chosen by page); groups of different
   PASIDs and devices with the same index are apart; a group may span two
   services. */
static void test_groups(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    dev_up(f, &f->a, SID_A);
    dev_up(f, &f->b, SID_B);
    uint32_t p1, p2, pb;
    aux_domain(f, &f->a, &p1);
    aux_domain(f, &f->a, &p2);
    aux_domain(f, &f->b, &pb);
    static const unsigned by_page[16] = {
        [1] = SIOV_PRQ_SUCCESS, [2] = SIOV_PRQ_INVALID, [3] = SIOV_PRQ_SUCCESS, [4] = SIOV_PRQ_SUCCESS,
        [5] = SIOV_PRQ_INVALID, [6] = 0x7, [8] = SIOV_PRQ_SUCCESS, [9] = SIOV_PRQ_FAILURE, [10] = SIOV_PRQ_INVALID,
    };
    f->by_page = by_page;
    assert_int_equal(send(f, &f->a, p1, 0x1000, SIOV_ACCESS_READ, 7, false), SIOV_OK);
    assert_int_equal(send(f, &f->a, p2, 0x1000, SIOV_ACCESS_READ, 7, false), SIOV_OK);
    assert_int_equal(send(f, &f->a, p1, 0x2000, SIOV_ACCESS_READ, 7, false), SIOV_OK);
    assert_int_equal(send(f, &f->b, pb, 0x5000, SIOV_ACCESS_WRITE, 7, false), SIOV_OK);
    assert_int_equal(send(f, &f->a, p1, 0x3000, SIOV_ACCESS_READ, 7, true), SIOV_OK);
    assert_int_equal(send(f, &f->a, p2, 0x4000, SIOV_ACCESS_READ, 7, true), SIOV_OK);
    assert_int_equal(send(f, &f->b, pb, 0x6000, SIOV_ACCESS_WRITE, 7, true), SIOV_OK);
    assert_int_equal(send(f, &f->a, p1, 0x8000, SIOV_ACCESS_READ, 9, false), SIOV_OK);
    assert_int_equal(send(f, &f->a, p1, 0x9000, SIOV_ACCESS_READ, 9, false), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 9);
    assert_int_equal(f->calls, 9); /* every request reaches the handler */
    assert_int_equal(f->a.n, 2);   /* but only complete groups are answered */
    expect_resp(&f->a, 0, p1, 7, SIOV_PRQ_INVALID); /* S, I, S */
    expect_resp(&f->a, 1, p2, 7, SIOV_PRQ_SUCCESS); /* S, S */
    assert_int_equal(f->b.n, 1);
    expect_resp(&f->b, 0, pb, 7, SIOV_PRQ_FAILURE); /* I, and a reserved code: Failure */
    assert_int_equal(send(f, &f->a, p1, 0xA000, SIOV_ACCESS_READ, 9, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_int_equal(f->a.n, 3);
    assert_int_equal(f->a.r[2].prgi, 9);
    assert_int_equal(f->a.r[2].code, SIOV_PRQ_FAILURE); /* S, F (first service), I */
    /* the group is closed: the same index starts a new one */
    assert_int_equal(send(f, &f->a, p1, 0x1000, SIOV_ACCESS_READ, 9, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_int_equal(f->a.r[3].code, SIOV_PRQ_SUCCESS);
    struct siov_stats st;
    siov_iommu_stats(f->iommu, &st);
    assert_int_equal(st.prq_queued, 11);
    assert_int_equal(st.prq_resp_success, 2);
    assert_int_equal(st.prq_resp_invalid, 1);
    assert_int_equal(st.prq_resp_failure, 2);
    assert_int_equal(st.prq_resp_unit, 0);
    fx_free(f);
}

/* Stop markers are consumed without an answer and without the handler. */
static void test_stop_marker(void **state)
{
    (void)state;
    uint32_t pasid;
    struct fx *f = fx_adis(&pasid, NULL, NULL);
    struct siov_page_request sm = {pasid, 0, 0, 0, true, true};
    assert_int_equal(siov_page_request(f->iommu, SID_A, &sm), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_int_equal(f->calls, 0);
    assert_int_equal(f->a.n, 0);
    /* a request behind a stop marker is serviced in the same call */
    assert_int_equal(siov_page_request(f->iommu, SID_A, &sm), SIOV_OK);
    assert_int_equal(send(f, &f->a, pasid, 0x3000, SIOV_ACCESS_READ, 4, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 2);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.r[0].prgi, 4);
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), reg(f, SIOV_REG_PQT, 8));
    fx_free(f);
}

/* The queue overflows (127 requests fit in the driver's one page): the
   unit answers the dropped last requests Success; servicing empties the
   queue, clears PRO, forgets the half-seen groups, and the device asks again. */
static void test_overflow_recovery(void **state)
{
    (void)state;
    uint32_t pasid;
    struct fx *f = fx_adis(&pasid, NULL, NULL);
    f->map = false;
    f->code = SIOV_PRQ_SUCCESS;
    for (unsigned i = 0; i < 127; i++)
        assert_int_equal(send(f, &f->a, pasid, 0x100000 + i * 0x1000, SIOV_ACCESS_READ, (uint16_t)i, false),
                         SIOV_OK);
    assert_int_equal(reg(f, SIOV_REG_PRS, 4), SIOV_PRS_PPR);
    /* full: group 5's last request is dropped and answered by the unit */
    assert_int_equal(send(f, &f->a, pasid, 0x900000, SIOV_ACCESS_READ, 5, true), SIOV_OK);
    assert_int_equal(reg(f, SIOV_REG_PRS, 4), SIOV_PRS_PPR | SIOV_PRS_PRO);
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.r[0].prgi, 5);
    assert_int_equal(f->a.r[0].code, SIOV_PRQ_SUCCESS);
    assert_int_equal(siov_driver_service_prq(f->drv), 127);
    assert_int_equal(reg(f, SIOV_REG_PRS, 4), 0); /* PPR first, PRO once empty */
    assert_int_equal(f->a.n, 1);                  /* none of the 127 was a last request */
    /* group 5 comes again whole: answered once, from its last request alone */
    assert_int_equal(send(f, &f->a, pasid, 0x900000, SIOV_ACCESS_READ, 5, true), SIOV_OK);
    f->code = SIOV_PRQ_INVALID;
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_int_equal(f->a.n, 2);
    assert_int_equal(f->a.r[1].code, SIOV_PRQ_INVALID); /* not merged with the forgotten request of group 5 */
    fx_free(f);
}

/* ------------------------------------------------------------- drains */
/* Requests queued for a PASID when it is aux-detached are answered (Invalid
   Request: it has no domain any more) before the call returns, with the
   drain's device-TLB invalidation and PD wait; other PASIDs' requests are
   handled as usual meanwhile. */
static void test_drain_on_aux_detach(void **state)
{
    (void)state;
    uint32_t p1, p2;
    struct siov_domain *d1;
    struct fx *f = fx_adis(&p1, &p2, &d1);
    assert_int_equal(send(f, &f->a, p1, 0x1000, SIOV_ACCESS_READ, 1, false), SIOV_OK);
    assert_int_equal(send(f, &f->a, p2, 0x1000, SIOV_ACCESS_READ, 2, true), SIOV_OK);
    assert_int_equal(send(f, &f->a, p1, 0x2000, SIOV_ACCESS_READ, 1, true), SIOV_OK);
    struct siov_atc_stats before;
    siov_atc_stats(f->a.atc, &before);
    struct siov_stats s0;
    siov_iommu_stats(f->iommu, &s0);
    assert_int_equal(siov_aux_detach(d1, SID_A), 0);
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), reg(f, SIOV_REG_PQT, 8));
    assert_int_equal(f->calls, 1); /* p2's request only */
    assert_int_equal(f->a.n, 2);
    expect_resp(&f->a, 0, p2, 2, SIOV_PRQ_SUCCESS);
    expect_resp(&f->a, 1, p1, 1, SIOV_PRQ_INVALID);
    struct siov_atc_stats after;
    siov_atc_stats(f->a.atc, &after);
    assert_int_equal(after.invalidations - before.invalidations, 2); /* the tear-down's and the drain's */
    struct siov_stats s1;
    siov_iommu_stats(f->iommu, &s1);
    assert_true(s1.inv_wait - s0.inv_wait >= 2);
    /* a request for the PASID now is refused by the unit (its entry is gone) */
    assert_int_equal(send(f, &f->a, p1, 0x3000, SIOV_ACCESS_READ, 3, true), SIOV_FAULT_SPT_2);
    assert_int_equal(f->a.r[2].code, SIOV_PRQ_INVALID);
    fx_free(f);
}

static void test_drain_on_detach(void **state)
{
    (void)state;
    struct siov_domain *dom;
    struct fx *f = fx_rid(&dom);
    assert_int_equal(send(f, &f->a, SIOV_NO_PASID, 0x1000, SIOV_ACCESS_READ, 4, false), SIOV_OK);
    assert_int_equal(send(f, &f->a, SIOV_NO_PASID, 0x2000, SIOV_ACCESS_READ, 4, true), SIOV_OK);
    assert_int_equal(siov_detach(dom, SID_A), 0);
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), reg(f, SIOV_REG_PQT, 8));
    assert_int_equal(f->calls, 0);
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.r[0].pasid, SIOV_NO_PASID);
    assert_int_equal(f->a.r[0].code, SIOV_PRQ_INVALID);
    fx_free(f);
}

/* Disabling PRI: the device's queued requests are handled (its domains are
   still there), new ones refused with SCT.8 and answered by the unit. */
static void test_drain_on_disable(void **state)
{
    (void)state;
    uint32_t pasid;
    struct fx *f = fx_adis(&pasid, NULL, NULL);
    assert_int_equal(send(f, &f->a, pasid, 0x1000, SIOV_ACCESS_WRITE, 6, true), SIOV_OK);
    assert_int_equal(siov_dev_disable_pri(f->drv, SID_A), 0);
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), reg(f, SIOV_REG_PQT, 8));
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.r[0].code, SIOV_PRQ_SUCCESS);
    assert_int_equal(send(f, &f->a, pasid, 0x2000, SIOV_ACCESS_WRITE, 7, true), SIOV_FAULT_SCT_8);
    assert_int_equal(f->a.n, 2);
    assert_int_equal(f->a.r[1].code, SIOV_PRQ_INVALID);
    assert_int_equal(siov_dev_disable_pri(f->drv, SID_A), -EINVAL);
    assert_int_equal(siov_dev_enable_pri(f->drv, SID_A), 0); /* and on again */
    assert_int_equal(send(f, &f->a, pasid, 0x2000, SIOV_ACCESS_WRITE, 7, true), SIOV_OK);
    fx_free(f);
}

/* --------------------------------------------------- the handler's calls */
/* The handler may map and unmap in its domain; a nested service is refused
   and the outer call goes on. */
static unsigned remapping_handler(void *opaque, struct siov_domain *dom, siov_sid sid,
                                  const struct siov_page_request *req)
{
    struct fx *f = opaque;
    (void)sid;
    f->calls++;
    assert_int_equal(siov_domain_map(dom, req->addr, DATA, 4096, RW), 0);
    assert_int_equal(siov_domain_unmap(dom, req->addr, 4096), 4096);
    assert_int_equal(siov_domain_map(dom, req->addr, DATA + 0x1000, 4096, RW), 0);
    uint64_t pa = 0;
    assert_int_equal(siov_domain_iova_to_phys(dom, req->addr, &pa), 0);
    assert_int_equal(pa, DATA + 0x1000);
    f->nested_rc = siov_driver_service_prq(f->drv);
    return SIOV_PRQ_SUCCESS;
}

static void test_handler_calls(void **state)
{
    (void)state;
    uint32_t pasid;
    struct fx *f = fx_adis(&pasid, NULL, NULL);
    assert_int_equal(siov_driver_set_prq_handler(f->drv, remapping_handler, f), 0);
    assert_int_equal(send(f, &f->a, pasid, 0x4000, SIOV_ACCESS_READ, 1, false), SIOV_OK);
    assert_int_equal(send(f, &f->a, pasid, 0x5000, SIOV_ACCESS_READ, 1, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 2);
    assert_int_equal(f->calls, 2);
    assert_int_equal(f->nested_rc, -EBUSY);
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.r[0].code, SIOV_PRQ_SUCCESS);
    uint32_t v;
    assert_int_equal(siov_atc_dma_read(f->a.atc, pasid, 0x5000, &v, 4), SIOV_OK);
    fx_free(f);
}

/* ------------------------------------------------------------ the event */
static void test_event_message(void **state)
{
    (void)state;
    uint32_t pasid;
    struct fx *f = fx_adis(&pasid, NULL, NULL);
    assert_int_equal(reg(f, SIOV_REG_PECTL, 4), SIOV_ECTL_IM); /* polled until asked */
    assert_int_equal(send(f, &f->a, pasid, 0x1000, SIOV_ACCESS_READ, 1, true), SIOV_OK);
    assert_int_equal(f->msi.n, 0);
    assert_int_equal(siov_driver_set_prq_msi(f->drv, 0x1FEE02000ull, 0x66), 0);
    assert_int_equal(f->msi.n, 1); /* the event held (IP) goes out when unmasked */
    assert_int_equal(f->msi.addr, 0x1FEE02000ull);
    assert_int_equal(f->msi.data, 0x66);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_int_equal(send(f, &f->a, pasid, 0x2000, SIOV_ACCESS_READ, 2, true), SIOV_OK);
    assert_int_equal(f->msi.n, 2);
    assert_int_equal(send(f, &f->a, pasid, 0x3000, SIOV_ACCESS_READ, 3, true), SIOV_OK);
    assert_int_equal(f->msi.n, 2); /* PPR still set */
    fx_free(f);
}

/* ------------------------------------------------------ without PRS */
static void test_without_prs(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.page_requests = false;
    struct fx *f = fx_new_cfg(&cfg);
    assert_int_equal(reg(f, SIOV_REG_PQA, 8), 0);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0);
    assert_int_equal(siov_dev_enable_pri(f->drv, SID_A), -ENODEV);
    assert_int_equal(siov_driver_service_prq(f->drv), -ENODEV);
    /* detaching without PRI drains nothing */
    struct siov_domain *dom = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_attach(dom, SID_A), 0);
    assert_int_equal(siov_detach(dom, SID_A), 0);
    fx_free(f);
}

/* Bring-up fails when the page request queue's page cannot be written (it
   is zeroed first): -EFAULT, no driver. */
static void test_queue_page_unwritable(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint64_t page = reg(f, SIOV_REG_PQA, 8) & SIOV_PQA_PQA; /* where bring-up puts it */
    fx_free(f);
    struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
    struct siov_iommu *iommu = siov_iommu_new(mem, NULL);
    assert_non_null(iommu);
    assert_int_equal(siov_mem_fail_range(mem, page, 4096, SIOV_MEM_FAIL_WRITE), 0);
    errno = 0;
    assert_null(siov_driver_new(iommu, mem, POOL_BASE, POOL_SIZE));
    assert_int_equal(errno, EFAULT);
    assert_int_equal(siov_mmio_read(iommu, SIOV_REG_PQA, 8), 0);
    siov_iommu_free(iommu);
    siov_mem_free(mem);
}

/* ------------------------------------------------ more on groups */
/* A group's worst code may be its first request's; two devices' groups of
   one index are apart even when one closes while the other is open. */
static void test_group_first_worst_and_apart(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    dev_up(f, &f->a, SID_A);
    dev_up(f, &f->b, SID_B);
    assert_int_equal(siov_dev_enable_pri(f->drv, SID_A), 0); /* on already: nothing to do */
    uint32_t pa, pb;
    aux_domain(f, &f->a, &pa);
    aux_domain(f, &f->b, &pb);
    static const unsigned by_page[16] = {[1] = SIOV_PRQ_INVALID, [2] = SIOV_PRQ_SUCCESS};
    f->by_page = by_page;
    assert_int_equal(send(f, &f->a, pa, 0x1000, SIOV_ACCESS_READ, 5, false), SIOV_OK);
    assert_int_equal(send(f, &f->b, pb, 0x2000, SIOV_ACCESS_READ, 5, true), SIOV_OK);
    assert_int_equal(send(f, &f->a, pa, 0x2000, SIOV_ACCESS_READ, 5, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 3);
    assert_int_equal(f->b.n, 1);
    assert_int_equal(f->b.r[0].code, SIOV_PRQ_SUCCESS); /* B's own group: S */
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.r[0].prgi, 5);
    assert_int_equal(f->a.r[0].code, SIOV_PRQ_INVALID); /* I, S */
    fx_free(f);
}

/* After an overflow the groups seen in part are forgotten, the first one
   noted included: the device's new request of that index is answered by
   its own code. */
static void test_overflow_forgets_every_group(void **state)
{
    (void)state;
    uint32_t pasid;
    struct fx *f = fx_adis(&pasid, NULL, NULL);
    static const unsigned by_page[16] = {[0] = SIOV_PRQ_INVALID, [1] = SIOV_PRQ_SUCCESS};
    f->by_page = by_page;
    for (unsigned i = 0; i < 128; i++) /* the 128th overflows */
        assert_int_equal(send(f, &f->a, pasid, 0x100000 + i * 0x10000, SIOV_ACCESS_READ, (uint16_t)i, false),
                         SIOV_OK);
    assert_int_equal(reg(f, SIOV_REG_PRS, 4), SIOV_PRS_PPR | SIOV_PRS_PRO);
    assert_int_equal(siov_driver_service_prq(f->drv), 127);
    assert_int_equal(reg(f, SIOV_REG_PRS, 4), 0);
    assert_int_equal(send(f, &f->a, pasid, 0x101000, SIOV_ACCESS_READ, 0, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.r[0].prgi, 0);
    assert_int_equal(f->a.r[0].code, SIOV_PRQ_SUCCESS);
    fx_free(f);
}

/* --------------------------------------------- a previous owner's queue */
/* A driver brought up after another left requests, PQH/PQT and PPR|PRO
   behind starts from an empty queue of its own with both bits clear. */
static void test_previous_owner_queue(void **state)
{
    (void)state;
    uint32_t pasid;
    struct fx *f = fx_adis(&pasid, NULL, NULL);
    assert_int_equal(send(f, &f->a, pasid, 0x1000, SIOV_ACCESS_READ, 1, true), SIOV_OK);
    assert_int_equal(send(f, &f->a, pasid, 0x1000, SIOV_ACCESS_READ, 1, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 2);
    for (unsigned i = 0; i < 130; i++)
        assert_int_equal(send(f, &f->a, pasid, 0x2000, SIOV_ACCESS_READ, 2, false), SIOV_OK);
    assert_int_equal(reg(f, SIOV_REG_PRS, 4), SIOV_PRS_PPR | SIOV_PRS_PRO);
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), 64);
    assert_int_equal(reg(f, SIOV_REG_PQT, 8), 32); /* wrapped: full behind PQH */
    siov_atc_free(f->a.atc);
    f->a.atc = NULL;
    siov_driver_free(f->drv);
    const uint64_t pool = 40ull << 20;
    f->drv = siov_driver_new(f->iommu, f->mem, pool, 16ull << 20);
    assert_non_null(f->drv);
    uint64_t pqa = reg(f, SIOV_REG_PQA, 8);
    assert_true((pqa & SIOV_PQA_PQA) >= pool && (pqa & SIOV_PQA_PQA) < pool + (16ull << 20));
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), 0);
    assert_int_equal(reg(f, SIOV_REG_PQT, 8), 0);
    assert_int_equal(reg(f, SIOV_REG_PRS, 4), 0);
    fx_free(f);
}

/* ---------------------------------------------- descriptors it did not expect */
/* A descriptor written into the queue by hand, as a unit gone wrong might:
   qw0 type 1, PP bit 8, RID 31:16, PASID 51:32; qw1 RDR, LPIG bit 2, PRGI
   11:3, the page (Fig 7-1). */
static void forge(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t addr, uint16_t prgi)
{
    uint64_t base = reg(f, SIOV_REG_PQA, 8) & SIOV_PQA_PQA, tail = reg(f, SIOV_REG_PQT, 8);
    uint64_t qw[4] = {0x01 | (uint64_t)sid << 16, 1 | 1u << 2 | (uint64_t)prgi << 3 | addr, 0, 0};
    if (pasid != SIOV_NO_PASID)
        qw[0] |= 1u << 8 | (uint64_t)pasid << 32;
    assert_int_equal(siov_mem_write(f->mem, base + tail, qw, sizeof(qw)), 0);
    siov_mmio_write(f->iommu, SIOV_REG_PQT, (tail + 32) % 4096, 8);
}

/* A request from a device the driver never set up, or for a PASID whose
   domain is aux-attached to another device only (and attached to this one
   without a PASID), finds no domain: Invalid Request, without the handler. */
static void test_no_domain_for_forged_requests(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    dev_up(f, &f->a, SID_A);
    dev_up(f, &f->b, SID_B);
    uint32_t pb;
    struct siov_domain *db = aux_domain(f, &f->b, &pb);
    assert_int_equal(siov_attach(db, SID_A), 0); /* A's RID_PASID domain too: still not A's PASID pb */
    const siov_sid stranger = SIOV_SID(0, 9, 0);
    struct dev s = {.sid = stranger};
    s.atc = siov_atc_new(f->iommu, stranger, 16); /* only its port: the driver knows nothing of it */
    assert_non_null(s.atc);
    siov_atc_set_page_response(s.atc, on_response, &s);
    forge(f, stranger, SIOV_NO_PASID, 0x5000, 3);
    forge(f, SID_A, pb, 0x6000, 4);
    /* a descriptor of another type (0) is consumed and answered by no one */
    uint64_t base = reg(f, SIOV_REG_PQA, 8) & SIOV_PQA_PQA, tail = reg(f, SIOV_REG_PQT, 8);
    const uint64_t odd[4] = {(uint64_t)SID_A << 16, 1 | 1u << 2 | 5u << 3 | 0x7000, 0, 0};
    assert_int_equal(siov_mem_write(f->mem, base + tail, odd, sizeof(odd)), 0);
    siov_mmio_write(f->iommu, SIOV_REG_PQT, tail + 32, 8);
    assert_int_equal(siov_driver_service_prq(f->drv), 3);
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), tail + 32);
    assert_int_equal(f->calls, 0);
    assert_int_equal(s.n, 1);
    expect_resp(&s, 0, SIOV_NO_PASID, 3, SIOV_PRQ_INVALID); /* s.sid is stranger */
    assert_int_equal(f->a.n, 1);
    expect_resp(&f->a, 0, pb, 4, SIOV_PRQ_INVALID);
    assert_int_equal(f->b.n, 0);
    siov_atc_free(s.atc);
    fx_free(f);
}

/* ------------------------------------------------- a device in the drain */
/* A device's port played by the test: it logs each device-TLB invalidation,
   may send page requests of its own before it completes one, and may let
   one time out instead of completing it. */
#define MINV 16
struct mport {
    struct fx *f;
    unsigned ninv;
    uint32_t pasid[MINV];
    uint64_t addr[MINV], size[MINV];
    unsigned send_on, send_n; /* on invalidation send_on (1-based), send send_n requests */
    bool every, last;         /* also on each later one; last-in-group requests */
    uint32_t send_pasid;
    unsigned expire_on;       /* declare a time-out on this invalidation instead of completing */
    struct dev d;             /* the responses it receives */
    struct siov_domain *d1;   /* the first of its two aux domains */
    uint32_t p1, p2;          /* their PASIDs */
};

static void mport_inv(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                      unsigned itag)
{
    (void)global;
    struct mport *p = opaque;
    unsigned k = ++p->ninv;
    if (k <= MINV) {
        p->pasid[k - 1] = pasid;
        p->addr[k - 1] = addr;
        p->size[k - 1] = size;
    }
    if (p->send_on && (k == p->send_on || (p->every && k > p->send_on)))
        for (unsigned i = 0; i < p->send_n; i++) {
            struct siov_page_request r = {p->send_pasid, 0x20000, SIOV_ACCESS_READ, 9, p->last, false};
            (void)siov_page_request(p->f->iommu, sid, &r);
        }
    if (k == p->expire_on)
        siov_iommu_expire(p->f->iommu);
    else
        siov_devtlb_complete(p->f->iommu, sid, itag);
}

static void mport_resp(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    on_response(&((struct mport *)opaque)->d, sid, pasid, prgi, code);
}

static const struct siov_device_ops mport_ops = {mport_inv, mport_resp};

/* A unit (returned, and in p->f) with SID_A with ATS, PRI and aux domains
   behind p, and two aux domains on it (p->d1 and the other). */
static struct fx *mport_up(struct mport *p)
{
    struct fx *f = p->f = fx_new();
    p->d.sid = SID_A;
    dev_enable(f, SID_A);
    assert_int_equal(siov_device_port(f->iommu, SID_A, &mport_ops, p), 0);
    p->d1 = aux_domain(f, &p->d, &p->p1);
    aux_domain(f, &p->d, &p->p2);
    p->ninv = 0;
    return f;
}

/* The port taken off before the unit it points into is freed. */
static void mport_down(struct mport *p)
{
    siov_device_port(p->f->iommu, SID_A, NULL, NULL);
    fx_free(p->f);
}

/* The drain's own device-TLB invalidation covers the PASID's every address;
   a request the device sends before completing it is serviced before the
   call returns, in one round (no overflow). */
static void test_drain_round_serves_late_request(void **state)
{
    (void)state;
    struct mport p = {0};
    struct fx *f = mport_up(&p);
    p.send_on = 2; /* the tear-down's invalidation first, then the drain's */
    p.send_n = 1;
    p.last = true;
    p.send_pasid = p.p2;
    assert_int_equal(siov_aux_detach(p.d1, SID_A), 0);
    assert_int_equal(p.ninv, 2);
    assert_int_equal(p.pasid[1], p.p1);
    assert_int_equal(p.addr[1], 0);
    assert_int_equal(p.size[1], UINT64_MAX);
    assert_int_equal(f->calls, 1);
    assert_int_equal(p.d.n, 1);
    expect_resp(&p.d, 0, p.p2, 9, SIOV_PRQ_SUCCESS);
    expect_queue_idle(f);
    mport_down(&p);
}

/* A device that overflows the queue at every drain invalidation: the drain
   gives up after its 8 rounds, each serviced; the call succeeds. */
static void test_drain_rounds_bounded(void **state)
{
    (void)state;
    struct mport p = {0};
    struct fx *f = mport_up(&p);
    p.send_on = 2;
    p.every = true;
    p.send_n = 130; /* 127 fit in the driver's page */
    p.send_pasid = p.p2;
    assert_int_equal(siov_aux_detach(p.d1, SID_A), 0);
    assert_int_equal(p.ninv, 1 + 8);
    assert_int_equal(f->calls, 8 * 127);
    assert_int_equal(p.d.n, 0); /* none was a last request */
    expect_queue_idle(f);
    mport_down(&p);
}

/* The drain's invalidation times out: the detach fails with -ETIMEDOUT and
   says so, though the PASID's entry is gone. */
static void test_drain_timeout(void **state)
{
    (void)state;
    struct mport p = {0};
    struct fx *f = mport_up(&p);
    p.expire_on = 2;
    assert_int_equal(siov_aux_detach(p.d1, SID_A), -ETIMEDOUT);
    assert_non_null(strstr(siov_driver_last_error(f->drv), "timed out"));
    assert_int_equal(p.ninv, 2);
    mport_down(&p);
}

/* The handler's own failing call, during a drain whose call already failed
   (the tear-down's invalidation timed out), reports its own reason; the
   outer call then reports the time-out. */
static unsigned failing_map_handler(void *opaque, struct siov_domain *dom, siov_sid sid,
                                    const struct siov_page_request *req)
{
    (void)sid, (void)req;
    struct fx *f = opaque;
    f->calls++;
    f->nested_rc = siov_domain_map(dom, 0x1001, DATA, 4096, RW);
    snprintf(f->nested_error, sizeof(f->nested_error), "%s", siov_driver_last_error(f->drv));
    return SIOV_PRQ_SUCCESS;
}

static void test_handler_error_inside_failing_drain(void **state)
{
    (void)state;
    struct mport p = {0};
    struct fx *f = mport_up(&p);
    struct siov_domain *d2 = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_domain_map(d2, 0x1001, DATA, 4096, RW), -EINVAL);
    char want[256];
    snprintf(want, sizeof(want), "%s", siov_driver_last_error(f->drv));
    assert_true(strlen(want) > 1);
    assert_int_equal(siov_driver_set_prq_handler(f->drv, failing_map_handler, f), 0);
    assert_int_equal(send(f, &p.d, p.p2, 0x4000, SIOV_ACCESS_READ, 1, true), SIOV_OK);
    p.ninv = 0;
    p.expire_on = 1; /* the tear-down's */
    assert_int_equal(siov_aux_detach(p.d1, SID_A), -ETIMEDOUT);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->nested_rc, -EINVAL);
    assert_string_equal(f->nested_error, want);
    assert_non_null(strstr(siov_driver_last_error(f->drv), "timed out"));
    mport_down(&p);
}

/* From the handler, a detach that would drain the queue is refused with
   -EBUSY (the domain is detached, its drain is not run); PRI cannot be
   disabled on a device the driver does not know. */
static unsigned detaching_handler(void *opaque, struct siov_domain *dom, siov_sid sid,
                                  const struct siov_page_request *req)
{
    (void)dom, (void)req;
    struct fx *f = opaque;
    f->calls++;
    f->nested_rc = siov_aux_detach(f->last_dom, sid);
    snprintf(f->nested_error, sizeof(f->nested_error), "%s", siov_driver_last_error(f->drv));
    return SIOV_PRQ_SUCCESS;
}

static void test_drain_from_handler_refused(void **state)
{
    (void)state;
    uint32_t p1, p2;
    struct siov_domain *d1;
    struct fx *f = fx_adis(&p1, &p2, &d1);
    f->last_dom = d1; /* the one the handler detaches */
    assert_int_equal(siov_driver_set_prq_handler(f->drv, detaching_handler, f), 0);
    assert_int_equal(send(f, &f->a, p2, 0x4000, SIOV_ACCESS_READ, 1, true), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_int_equal(f->calls, 1);
    assert_int_equal(f->nested_rc, -EBUSY);
    assert_non_null(strstr(f->nested_error, "being serviced"));
    assert_int_equal(f->a.n, 1);
    assert_int_equal(f->a.r[0].code, SIOV_PRQ_SUCCESS);
    assert_int_equal(send(f, &f->a, p1, 0x4000, SIOV_ACCESS_READ, 2, true), SIOV_FAULT_SPT_2); /* detached */
    assert_int_equal(siov_dev_disable_pri(f->drv, SIOV_SID(0, 9, 0)), -EINVAL);
    assert_non_null(strstr(siov_driver_last_error(f->drv), "not enabled"));
    fx_free(f);
}

/* A queue the driver cannot read fails the drain of a detach: -EFAULT,
   saying which guest address. */
static void test_drain_queue_unreadable(void **state)
{
    (void)state;
    uint32_t p1, p2;
    struct siov_domain *d1;
    struct fx *f = fx_adis(&p1, &p2, &d1);
    assert_int_equal(send(f, &f->a, p2, 0x4000, SIOV_ACCESS_READ, 1, true), SIOV_OK);
    uint64_t page = reg(f, SIOV_REG_PQA, 8) & SIOV_PQA_PQA;
    assert_int_equal(siov_mem_fail_range(f->mem, page, 4096, SIOV_MEM_FAIL_READ), 0);
    assert_int_equal(siov_aux_detach(d1, SID_A), -EFAULT);
    char want[64];
    snprintf(want, sizeof(want), "guest memory at 0x%llx is not readable", (unsigned long long)page);
    assert_string_equal(siov_driver_last_error(f->drv), want);
    assert_int_equal(f->calls, 0);
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), 0); /* nothing consumed */
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    fx_free(f);
}

/* ------------------------------------------------------ the random run */
/* Devices fault on random pages of several ADIs (aux domains on two
   devices) and retry until the write goes through; some faults are sent as
   groups of two or three pages. At the end every page holds what its
   device wrote last, every answer went to the device and PASID of a group
   it sent, and each group was answered exactly once. */
#define ADIS 6
#define PAGES 24
struct adi {
    struct dev *d;
    uint32_t pasid;
    uint32_t want[PAGES]; /* what the device wrote last at each page */
};

static uint64_t rng_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One write with fault-and-retry; the group covers va and up to two more
   pages after it. Returns the retries. */
static unsigned write_with_retry(struct fx *f, struct adi *a, unsigned page, uint32_t v, unsigned extra,
                                 uint16_t *prgi)
{
    uint64_t va = 0x40000000ull + (uint64_t)page * 4096;
    unsigned tries = 0;
    siov_fault r;
    while ((r = siov_atc_dma_write(a->d->atc, a->pasid, va + 4 * (v % 1000), &v, 4)) == SIOV_ERR_NOT_PRESENT) {
        assert_true(++tries < 4);
        uint16_t g = (*prgi)++ & 0x1FF;
        unsigned n = a->d->n;
        for (unsigned k = 0; k <= extra; k++) {
            uint64_t pva = 0x40000000ull + (uint64_t)((page + k) % PAGES) * 4096;
            struct siov_page_request req = {a->pasid, pva, SIOV_ACCESS_WRITE, g, k == extra, false};
            assert_int_equal(siov_page_request(f->iommu, a->d->sid, &req), SIOV_OK);
        }
        assert_true(siov_driver_service_prq(f->drv) >= 0);
        assert_int_equal(a->d->n, n + 1); /* exactly one answer for the group */
        expect_resp(a->d, n, a->pasid, g, SIOV_PRQ_SUCCESS);
        a->d->n = 0; /* the log is per round trip */
    }
    assert_int_equal(r, SIOV_OK);
    a->want[page] = v;
    return tries;
}

static void test_random_demand_paging(void **state)
{
    (void)state;
    const char *env = getenv("SIOV_TEST_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u;
    seed |= 1;
    printf("test_random_demand_paging: seed 0x%llx (SIOV_TEST_SEED replays it)\n", (unsigned long long)seed);
    struct fx *f = fx_new();
    dev_up(f, &f->a, SID_A);
    dev_up(f, &f->b, SID_B);
    struct adi adis[ADIS];
    struct siov_domain *doms[ADIS];
    for (unsigned i = 0; i < ADIS; i++) {
        adis[i].d = i % 2 ? &f->b : &f->a;
        doms[i] = aux_domain(f, adis[i].d, &adis[i].pasid);
        memset(adis[i].want, 0, sizeof(adis[i].want));
    }
    uint64_t s = seed;
    uint16_t prgi = 0;
    unsigned faults = 0;
    for (unsigned op = 0; op < 400; op++) {
        struct adi *a = &adis[rng_next(&s) % ADIS];
        unsigned page = (unsigned)(rng_next(&s) % PAGES), extra = (unsigned)(rng_next(&s) % 3);
        uint32_t v = (uint32_t)rng_next(&s) | 1;
        faults += write_with_retry(f, a, page, v, extra, &prgi);
    }
    assert_true(faults > 0);
    for (unsigned i = 0; i < ADIS; i++) {
        for (unsigned p = 0; p < PAGES; p++) {
            if (!adis[i].want[p])
                continue;
            uint64_t pa = 0;
            assert_int_equal(siov_domain_iova_to_phys(doms[i], 0x40000000ull + p * 4096ull, &pa), 0);
            uint32_t got = 0;
            assert_int_equal(siov_mem_read(f->mem, pa + 4 * (adis[i].want[p] % 1000), &got, 4), 0);
            if (got != adis[i].want[p])
                fail_msg("seed 0x%llx: ADI %u page %u holds 0x%x, want 0x%x", (unsigned long long)seed, i, p, got,
                         adis[i].want[p]);
        }
    }
    struct siov_stats st;
    siov_iommu_stats(f->iommu, &st);
    assert_int_equal(st.prq_overflowed, 0);
    assert_int_equal(st.prq_refused, 0);
    assert_int_equal(st.prq_resp_success, faults);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_request_without_pasid),
        cmocka_unit_test(test_no_domain_no_handler),
        cmocka_unit_test(test_groups),
        cmocka_unit_test(test_stop_marker),
        cmocka_unit_test(test_overflow_recovery),
        cmocka_unit_test(test_drain_on_aux_detach),
        cmocka_unit_test(test_drain_on_detach),
        cmocka_unit_test(test_drain_on_disable),
        cmocka_unit_test(test_handler_calls),
        cmocka_unit_test(test_event_message),
        cmocka_unit_test(test_without_prs),
        cmocka_unit_test(test_queue_page_unwritable),
        cmocka_unit_test(test_group_first_worst_and_apart),
        cmocka_unit_test(test_overflow_forgets_every_group),
        cmocka_unit_test(test_previous_owner_queue),
        cmocka_unit_test(test_no_domain_for_forged_requests),
        cmocka_unit_test(test_drain_round_serves_late_request),
        cmocka_unit_test(test_drain_rounds_bounded),
        cmocka_unit_test(test_drain_timeout),
        cmocka_unit_test(test_handler_error_inside_failing_drain),
        cmocka_unit_test(test_drain_from_handler_refused),
        cmocka_unit_test(test_drain_queue_unreadable),
        cmocka_unit_test(test_random_demand_paging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

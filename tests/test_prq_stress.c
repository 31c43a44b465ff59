/* Page requests from several threads at once (run under ThreadSanitizer in
 * CI): producers send into the page request queue while a consumer drains
 * it through the registers, and every descriptor is whole, each request
 * appears once, in its thread's order, or was dropped as overflow and
 * counted so; then whole devices fault and retry on their own threads
 * while one thread services the queue through the reference driver, and
 * every write lands where the domain maps it. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define MEM_SIZE (64ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (16ull << 20)
#define PRQ_GPA (40ull << 20)
#define PRQ_PQS 0u          /* one page: 127 slots, so the queue fills and overflows */
#define DATA (48ull << 20)
#define PRODUCERS 2
#define PER_THREAD 4000u

/* ----------------------------------------------------- raw producers */
struct raw {
    struct siov_iommu *iommu;
    struct siov_mem *mem;
    uint32_t pasid;
    unsigned thread;
    uint64_t done;       /* producers finished (atomic) */
    uint64_t consumed[PRODUCERS];
    uint64_t last_seq[PRODUCERS];
    bool bad;
};

/* A request's address names its thread and its sequence number. */
static uint64_t addr_of(unsigned thread, unsigned seq)
{
    return ((uint64_t)thread << 32 | (uint64_t)(seq + 1) << 12);
}

struct prod_arg {
    struct raw *r;
    unsigned thread;
    bool paced; /* wait for room: with PRODUCERS slots free, no request can meet a full queue */
};

/* Free slots of the queue, through the registers. */
static uint64_t room(struct siov_iommu *u)
{
    uint64_t size = SIOV_PAGE_SIZE << PRQ_PQS;
    uint64_t head = siov_mmio_read(u, SIOV_REG_PQH, 8), tail = siov_mmio_read(u, SIOV_REG_PQT, 8);
    return (head + size - tail - 32) % size / 32;
}

static void *producer(void *p)
{
    struct prod_arg *a = p;
    for (unsigned i = 0; i < PER_THREAD; i++) {
        while (a->paced && room(a->r->iommu) < PRODUCERS)
            sched_yield();
        struct siov_page_request req = {a->r->pasid, addr_of(a->thread, i), SIOV_ACCESS_READ,
                                        (uint16_t)(i & 0x1FF), (i & 3) == 3, false};
        if (siov_page_request(a->r->iommu, SIOV_SID(0, 3, 0), &req) != SIOV_OK)
            a->r->bad = true;
    }
    __atomic_fetch_add(&a->r->done, 1, __ATOMIC_RELEASE);
    return NULL;
}

/* The consumer: PQH..PQT through the registers, as a driver would. */
static void consume(struct raw *r)
{
    uint64_t size = SIOV_PAGE_SIZE << PRQ_PQS;
    uint64_t head = siov_mmio_read(r->iommu, SIOV_REG_PQH, 8);
    uint64_t tail = siov_mmio_read(r->iommu, SIOV_REG_PQT, 8);
    for (; head != tail; head = (head + 32) % size) {
        uint64_t qw[2];
        assert_int_equal(siov_mem_read(r->mem, PRQ_GPA + head, qw, 16), 0);
        siov_sid sid;
        struct siov_page_request req;
        if (!siov_prq_desc_decode(qw, &sid, &req) || sid != SIOV_SID(0, 3, 0) || req.pasid != r->pasid) {
            r->bad = true;
            continue;
        }
        unsigned t = (unsigned)(req.addr >> 32), seq = (unsigned)((req.addr >> 12) & 0xFFFFF) - 1;
        if (t >= PRODUCERS || seq >= PER_THREAD || (r->consumed[t] && seq <= r->last_seq[t]) ||
            req.prg_index != (seq & 0x1FF) || req.last != ((seq & 3) == 3)) {
            r->bad = true;
            continue;
        }
        r->last_seq[t] = seq;
        r->consumed[t]++;
    }
    siov_mmio_write(r->iommu, SIOV_REG_PQH, head, 8);
    siov_mmio_write(r->iommu, SIOV_REG_PRS, SIOV_PRS_PPR, 4);
    if (siov_mmio_read(r->iommu, SIOV_REG_PRS, 4) & SIOV_PRS_PRO)
        siov_mmio_write(r->iommu, SIOV_REG_PRS, SIOV_PRS_PRO, 4);
}

static void raw_run(bool paced)
{
    struct tl *t = tl_new_sized(NULL, MEM_SIZE);
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t dir = tl_sm_context_default(t, SIOV_SID(0, 3, 0), 0);
    uint64_t qw0 = tl_r64(t, t->root) & SIOV_SRE0_LCTP; /* the context table */
    uint64_t ctx = qw0 + SIOV_SID_DEVFN(SIOV_SID(0, 3, 0)) * SIOV_SM_CTX_ENTRY_SIZE;
    tl_w64(t, ctx, tl_r64(t, ctx) | SIOV_SCE0_PRE);
    uint64_t pe[8];
    tl_pe_pt(pe, 1);
    tl_pasid_entry(t, dir, 7, pe);
    siov_mmio_write(t->iommu, SIOV_REG_PQA, PRQ_GPA | PRQ_PQS, 8);
    struct raw r = {.iommu = t->iommu, .mem = t->mem, .pasid = 7};
    pthread_t th[PRODUCERS];
    struct prod_arg args[PRODUCERS];
    for (unsigned i = 0; i < PRODUCERS; i++) {
        args[i] = (struct prod_arg){&r, i, paced};
        assert_int_equal(pthread_create(&th[i], NULL, producer, &args[i]), 0);
    }
    while (__atomic_load_n(&r.done, __ATOMIC_ACQUIRE) < PRODUCERS)
        consume(&r);
    for (unsigned i = 0; i < PRODUCERS; i++)
        pthread_join(th[i], NULL);
    consume(&r);
    assert_false(r.bad);
    struct siov_stats st = tl_stats(t);
    assert_int_equal(st.prq_queued, r.consumed[0] + r.consumed[1]);
    assert_int_equal(st.prq_queued + st.prq_overflowed, PRODUCERS * PER_THREAD);
    if (paced) /* nothing dropped: every request of both threads seen once, in order */
        for (unsigned i = 0; i < PRODUCERS; i++)
            assert_int_equal(r.consumed[i], PER_THREAD);
    tl_free(t);
}

/* Paced (no request meets a full queue), then a burst that overflows. */
static void test_raw_producers(void **state)
{
    (void)state;
    raw_run(true);
    raw_run(false);
}

/* ------------------------------------------------ devices and a driver */
#define DEVICES 2
#define FAULTS 150u

struct devt {
    struct siov_iommu *iommu;
    struct siov_atc *atc;
    siov_sid sid;
    uint32_t pasid;
    uint64_t answered; /* responses received (atomic) */
    unsigned code;     /* the last one's code */
    uint64_t *stop;
    bool bad;
};

static void on_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    struct devt *d = opaque;
    (void)prgi;
    if (sid != d->sid || pasid != d->pasid)
        d->bad = true;
    __atomic_store_n(&d->code, code, __ATOMIC_RELAXED);
    __atomic_fetch_add(&d->answered, 1, __ATOMIC_RELEASE);
}

/* Fault-and-retry over FAULTS fresh pages: a write misses, a page request
   goes out, the device waits for the answer and writes again. */
static void *device(void *p)
{
    struct devt *d = p;
    for (unsigned i = 0; i < FAULTS; i++) {
        uint64_t va = 0x10000000ull + (uint64_t)i * 4096;
        uint32_t v = (uint32_t)(d->sid << 16 | i);
        siov_fault f;
        while ((f = siov_atc_dma_write(d->atc, d->pasid, va, &v, 4)) == SIOV_ERR_NOT_PRESENT) {
            uint64_t before = __atomic_load_n(&d->answered, __ATOMIC_ACQUIRE);
            struct siov_page_request req = {d->pasid, va, SIOV_ACCESS_WRITE, (uint16_t)(i & 0x1FF), true, false};
            if (siov_page_request(d->iommu, d->sid, &req) != SIOV_OK)
                d->bad = true;
            while (__atomic_load_n(&d->answered, __ATOMIC_ACQUIRE) == before)
                sched_yield();
        }
        if (f != SIOV_OK)
            d->bad = true;
    }
    __atomic_fetch_add(d->stop, 1, __ATOMIC_RELEASE);
    return NULL;
}

struct backing {
    uint64_t next;
};

static unsigned map_on_demand(void *opaque, struct siov_domain *dom, siov_sid sid, const struct siov_page_request *req)
{
    struct backing *b = opaque;
    (void)sid;
    uint64_t pa;
    if (siov_domain_iova_to_phys(dom, req->addr, &pa) == 0)
        return SIOV_PRQ_SUCCESS; /* asked twice (a retry raced the answer) */
    pa = b->next;
    b->next += 4096;
    return siov_domain_map(dom, req->addr, pa, 4096, SIOV_PROT_READ | SIOV_PROT_WRITE) ? SIOV_PRQ_INVALID
                                                                                          : SIOV_PRQ_SUCCESS;
}

static void test_devices_fault_concurrently(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
    struct siov_iommu *iommu = siov_iommu_new(mem, NULL);
    struct siov_driver *drv = siov_driver_new(iommu, mem, POOL_BASE, POOL_SIZE);
    assert_non_null(drv);
    struct backing b = {DATA};
    assert_int_equal(siov_driver_set_prq_handler(drv, map_on_demand, &b), 0);
    uint64_t stop = 0;
    struct devt d[DEVICES];
    struct siov_domain *dom[DEVICES];
    for (unsigned i = 0; i < DEVICES; i++) {
        siov_sid sid = SIOV_SID(0, 8 + i, 0);
        assert_int_equal(siov_dev_enable_aux(drv, sid), 0);
        assert_int_equal(siov_dev_enable_ats(drv, sid), 0);
        assert_int_equal(siov_dev_enable_pri(drv, sid), 0);
        dom[i] = siov_domain_new(drv, SIOV_DOMAIN_FIRST_LEVEL);
        assert_int_equal(siov_aux_attach(dom[i], sid), 0);
        d[i] = (struct devt){iommu, siov_atc_new(iommu, sid, 64), sid, (uint32_t)siov_aux_pasid(dom[i]), 0, 0,
                             &stop, false};
        siov_atc_set_page_response(d[i].atc, on_response, &d[i]);
    }
    pthread_t th[DEVICES];
    for (unsigned i = 0; i < DEVICES; i++)
        assert_int_equal(pthread_create(&th[i], NULL, device, &d[i]), 0);
    while (__atomic_load_n(&stop, __ATOMIC_ACQUIRE) < DEVICES) /* the driver's thread */
        if (siov_driver_service_prq(drv) == 0)
            sched_yield();
    for (unsigned i = 0; i < DEVICES; i++)
        pthread_join(th[i], NULL);
    for (unsigned i = 0; i < DEVICES; i++) {
        assert_false(d[i].bad);
        assert_true(d[i].answered >= FAULTS);
        for (unsigned k = 0; k < FAULTS; k++) {
            uint64_t pa = 0;
            assert_int_equal(siov_domain_iova_to_phys(dom[i], 0x10000000ull + k * 4096ull, &pa), 0);
            uint32_t v = 0;
            assert_int_equal(siov_mem_read(mem, pa, &v, 4), 0);
            assert_int_equal(v, (uint32_t)(d[i].sid << 16 | k));
        }
        siov_atc_free(d[i].atc);
    }
    siov_driver_free(drv);
    siov_iommu_free(iommu);
    siov_mem_free(mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_raw_producers),
        cmocka_unit_test(test_devices_fault_concurrently),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

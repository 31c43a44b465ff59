/* Concurrency stress of ATS: device threads translate and do translated DMA
 * through their devices' ATCs while the reference driver unmaps and maps
 * their pages (each unmap sends the device-TLB invalidation and waits).
 *
 * Each page cycles: mapped to its target T0, unmapped, mapped to T1,
 * unmapped, ... The driver thread publishes the page's generation (release)
 * only once unmap or map has returned. Translation check: a device thread
 * reads the generation before and after siov_atc_translate; an address that
 * no state of that window explains (a target unmapped before the window
 * began; a map in progress counts) is a translation that outlived its
 * inv-wait. DMA check: right after an unmap returns, the driver fills the
 * old target with a sentinel, and before that target is mapped again it
 * checks the sentinel is intact: a translated DMA that reached it in between
 * outlived the inv-wait too.
 *
 * Self-check: with the device-TLB invalidation left out (a hand-driven unit
 * whose tables change with only the IOTLB invalidation), the same checker
 * must see a stale translation; otherwise the test could not fail.
 *
 * Bounded: SIOV_STRESS_MS (default 1500) and iteration caps.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"

#define NDEV 2
#define THREADS_PER_DEV 2 /* at most 2: two 8-byte slots of each 16 bytes */
#define NPAGES 8
#define MEM_SIZE (64ull << 20)
#define POOL (1ull << 20)
#define POOL_SIZE (16ull << 20)
#define TARGETS (32ull << 20) /* the pages' targets, two per page */
#define IOVA 0x100000ull
#define SENTINEL 0x5E5E5E5E5E5E5E5Eull
#define DEV_ITER_CAP 20000000ull
#define DRV_ITER_CAP 2000000ull

struct page {
    uint64_t iova;
    uint64_t target[2];
    uint64_t gen; /* atomic: even: mapped to target[(gen / 2) % 2]; odd: unmapped */
};

struct device {
    siov_sid sid;
    struct siov_domain *dom;
    uint32_t pasid;
    struct siov_atc *atc;
    struct page page[NPAGES];
};

struct world {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
    struct device dev[NDEV];
    int stop; /* atomic */
    uint64_t stale, dma_late, translations, dmas, unmaps, errors; /* atomics */
};

static uint64_t ld(const uint64_t *p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }
static void add(uint64_t *p, uint64_t n) { __atomic_fetch_add(p, n, __ATOMIC_RELAXED); }

/* Whether a state of generations [g0, g1] maps the page to page_out. A map
   is visible before its generation is published, so when g1 is unmapped the
   mapping that follows it counts too. */
static bool explained(const struct page *p, uint64_t g0, uint64_t g1, uint64_t page_out)
{
    for (uint64_t g = g0; g <= g1 + (g1 & 1); g++)
        if (!(g & 1) && p->target[(g / 2) % 2] == page_out)
            return true;
    return false;
}

static void fill(struct world *w, uint64_t gpa, uint64_t v)
{
    uint64_t buf[512];
    for (unsigned i = 0; i < 512; i++)
        buf[i] = v;
    assert_int_equal(siov_mem_write(w->mem, gpa, buf, sizeof(buf)), 0);
}

static bool intact(struct world *w, uint64_t gpa)
{
    uint64_t buf[512];
    assert_int_equal(siov_mem_read(w->mem, gpa, buf, sizeof(buf)), 0);
    for (unsigned i = 0; i < 512; i++)
        if (buf[i] != SENTINEL)
            return false;
    return true;
}

static struct world *world_new(void)
{
    struct world *w = calloc(1, sizeof(*w));
    w->mem = siov_mem_new_flat(MEM_SIZE);
    w->iommu = siov_iommu_new(w->mem, NULL);
    w->drv = siov_driver_new(w->iommu, w->mem, POOL, POOL_SIZE);
    assert_non_null(w->drv);
    uint64_t next = TARGETS;
    for (unsigned d = 0; d < NDEV; d++) {
        struct device *dv = &w->dev[d];
        dv->sid = SIOV_SID(0, 4 + d, 0);
        assert_int_equal(siov_dev_enable_aux(w->drv, dv->sid), 0);
        assert_int_equal(siov_dev_enable_ats(w->drv, dv->sid), 0);
        dv->atc = siov_atc_new(w->iommu, dv->sid, 64);
        dv->dom = siov_domain_new(w->drv, d ? SIOV_DOMAIN_SECOND_LEVEL : SIOV_DOMAIN_FIRST_LEVEL);
        /* a page never unmapped keeps the pages' tables in place: the driver
           frees no table page a walk that began before an unmap may still read */
        assert_int_equal(siov_domain_map(dv->dom, IOVA - SIOV_PAGE_SIZE, TARGETS - SIOV_PAGE_SIZE, SIOV_PAGE_SIZE,
                                         SIOV_PROT_READ), 0);
        for (unsigned i = 0; i < NPAGES; i++) {
            struct page *p = &dv->page[i];
            p->iova = IOVA + 2 * i * SIOV_PAGE_SIZE;
            p->target[0] = next, p->target[1] = next + SIOV_PAGE_SIZE;
            next += 2 * SIOV_PAGE_SIZE;
            fill(w, p->target[1], SENTINEL);
            assert_int_equal(siov_domain_map(dv->dom, p->iova, p->target[0], SIOV_PAGE_SIZE,
                                             SIOV_PROT_READ | SIOV_PROT_WRITE), 0);
        }
        assert_int_equal(siov_aux_attach(dv->dom, dv->sid), 0);
        dv->pasid = (uint32_t)siov_aux_pasid(dv->dom);
    }
    return w;
}

static void world_free(struct world *w)
{
    for (unsigned d = 0; d < NDEV; d++) {
        assert_int_equal(siov_aux_detach(w->dev[d].dom, w->dev[d].sid), 0);
        siov_atc_free(w->dev[d].atc);
    }
    siov_driver_free(w->drv);
    siov_iommu_free(w->iommu);
    siov_mem_free(w->mem);
    free(w);
}

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

struct dev_arg {
    struct world *w;
    struct device *dv;
    unsigned slot; /* the thread's 8-byte slots in a page: threads never write the same bytes */
    uint64_t seed;
};

/* One translation or one DMA of a random page, checked as the header says. */
static void device_once(struct world *w, struct device *dv, unsigned slot, uint64_t r)
{
    struct page *p = &dv->page[r % NPAGES];
    uint64_t off = ((r >> 8) & 0xFF0) | (8 * slot);
    if (r & 0x100000) {
        uint64_t v = r | 1; /* never the sentinel */
        siov_fault f = siov_atc_dma_write(dv->atc, dv->pasid, p->iova + off, &v, sizeof(v));
        if (f != SIOV_OK && f != SIOV_ERR_NOT_PRESENT)
            add(&w->errors, 1);
        add(&w->dmas, 1);
        return;
    }
    uint64_t g0 = ld(&p->gen);
    struct siov_xlate x;
    siov_fault f = siov_atc_translate(dv->atc, dv->pasid, p->iova + off, SIOV_ACCESS_WRITE, &x);
    uint64_t g1 = ld(&p->gen);
    if (f == SIOV_OK && !explained(p, g0, g1, x.addr & SIOV_PAGE_MASK))
        add(&w->stale, 1);
    else if (f != SIOV_OK && f != SIOV_ERR_NOT_PRESENT)
        add(&w->errors, 1);
    add(&w->translations, 1);
}

static void *device_main(void *arg)
{
    struct dev_arg *a = arg;
    for (uint64_t i = 0; i < DEV_ITER_CAP && !__atomic_load_n(&a->w->stop, __ATOMIC_ACQUIRE); i++)
        device_once(a->w, a->dv, a->slot, rnd(&a->seed));
    return NULL;
}

/* The driver's step on one page: unmap (then the sentinel), or map the next
   target (after checking its sentinel). */
static void driver_once(struct world *w, uint64_t r)
{
    struct device *dv = &w->dev[r % NDEV];
    struct page *p = &dv->page[(r >> 4) % NPAGES];
    uint64_t g = ld(&p->gen);
    if (!(g & 1)) {
        if (siov_domain_unmap(dv->dom, p->iova, SIOV_PAGE_SIZE) != (int64_t)SIOV_PAGE_SIZE)
            add(&w->errors, 1);
        fill(w, p->target[(g / 2) % 2], SENTINEL); /* no DMA may reach it from now on */
        add(&w->unmaps, 1);
    } else {
        uint64_t t = p->target[((g + 1) / 2) % 2];
        if (!intact(w, t))
            add(&w->dma_late, 1);
        if (siov_domain_map(dv->dom, p->iova, t, SIOV_PAGE_SIZE, SIOV_PROT_READ | SIOV_PROT_WRITE))
            add(&w->errors, 1);
    }
    __atomic_store_n(&p->gen, g + 1, __ATOMIC_RELEASE);
}

static unsigned stress_ms(void)
{
    const char *e = getenv("SIOV_STRESS_MS");
    long v = e ? strtol(e, NULL, 10) : 1500;
    return v > 0 && v < 600000 ? (unsigned)v : 1500;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void test_atc_while_unmapping(void **state)
{
    (void)state;
    struct world *w = world_new();
    pthread_t th[NDEV * THREADS_PER_DEV];
    struct dev_arg args[NDEV * THREADS_PER_DEV];
    for (unsigned i = 0; i < NDEV * THREADS_PER_DEV; i++) {
        args[i] = (struct dev_arg){w, &w->dev[i % NDEV], i / NDEV, 0x9E3779B97F4A7C15ull * (i + 1)};
        assert_int_equal(pthread_create(&th[i], NULL, device_main, &args[i]), 0);
    }
    uint64_t end = now_ms() + stress_ms(), seed = 12345;
    for (uint64_t i = 0; i < DRV_ITER_CAP && now_ms() < end; i++)
        driver_once(w, rnd(&seed));
    __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < NDEV * THREADS_PER_DEV; i++)
        pthread_join(th[i], NULL);
    print_message("ATC stress: %llu translations, %llu DMAs, %llu unmaps; stale %llu, late DMA %llu, errors %llu\n",
                  (unsigned long long)w->translations, (unsigned long long)w->dmas, (unsigned long long)w->unmaps,
                  (unsigned long long)w->stale, (unsigned long long)w->dma_late, (unsigned long long)w->errors);
    assert_int_equal(w->stale, 0);
    assert_int_equal(w->dma_late, 0);
    assert_int_equal(w->errors, 0);
    assert_true(w->unmaps > 0 && w->translations > 0 && w->dmas > 0);
    struct siov_atc_stats s;
    siov_atc_stats(w->dev[0].atc, &s);
    assert_true(s.invalidations > 0);
    world_free(w);
}

/* ------------------------------------------------------------ self-check */
/* A hand-driven unit: the page leaves its target with only the IOTLB
   invalidation (no device-TLB one); the checker must call the ATC's answer
   stale. With the device-TLB invalidation it must not. */
static void self_check(bool omit)
{
    struct tl *t = tl_new_sized(NULL, MEM_SIZE);
    tl_enable(t, SIOV_TTM_SCALABLE);
    siov_sid sid = SIOV_SID(0, 9, 0);
    uint64_t dir = tl_sm_context_default(t, sid, 0), root = tl_page(t), pe[8];
    struct page p = {.iova = IOVA, .target = {TARGETS, TARGETS + SIOV_PAGE_SIZE}};
    uint64_t leaf = tl_map(t, root, 4, false, p.iova, p.target[0], SIOV_PAGE_SIZE, TL_SL_RW, TL_SL_RWX);
    tl_pe_sl(pe, 3, root, SIOV_AW_4LVL);
    tl_pasid_entry(t, dir, 7, pe);
    uint64_t q = tl_page(t), status = tl_page(t);
    siov_mmio_write(t->iommu, SIOV_REG_IQA, q | SIOV_IQA_DW, 8);
    tl_gcmd(t, SIOV_GCMD_QIE, 0);
    struct siov_atc *atc = siov_atc_new(t->iommu, sid, 64);
    struct siov_xlate x;
    assert_int_equal(siov_atc_translate(atc, 7, p.iova, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    tl_w64(t, leaf, 0); /* unmapped */
    unsigned n = 0;
    tl_w64(t, q + 32 * n++, siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL));
    if (!omit) {
        int s;
        tl_w64(t, q + 32 * n, siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_SID, sid) |
                                  siov_set(0, SIOV_PDTLB0_PASID, 7));
        tl_w64(t, q + 32 * n++ + 8, siov_ats_range_encode(p.iova, SIOV_PAGE_SIZE, &s));
    }
    tl_w64(t, q + 32 * n, siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, 1));
    tl_w64(t, q + 32 * n++ + 8, status);
    siov_mmio_write(t->iommu, SIOV_REG_IQT, 32 * n, 8);
    assert_int_equal(tl_r64(t, status), 1);
    __atomic_store_n(&p.gen, 1, __ATOMIC_RELEASE);
    uint64_t g0 = ld(&p.gen);
    siov_fault f = siov_atc_translate(atc, 7, p.iova, SIOV_ACCESS_WRITE, &x);
    bool stale = f == SIOV_OK && !explained(&p, g0, ld(&p.gen), x.addr & SIOV_PAGE_MASK);
    assert_int_equal(stale, omit);
    siov_atc_free(atc);
    tl_free(t);
}

static void test_checker_sees_omission(void **state)
{
    (void)state;
    self_check(true);
    self_check(false);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checker_sees_omission),
        cmocka_unit_test(test_atc_while_unmapping),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

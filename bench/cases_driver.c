/* siov-bench: reference-driver cases — siov_domain_map and siov_domain_unmap
 * of 4 KiB pages, of 2 MiB ranges mapped as one 2 MiB page, and of 2 MiB
 * ranges that must be mapped as 512 4 KiB pages. The domain is second-level
 * and aux-attached to a device, so an unmap pays the invalidations the spec
 * requires (IOTLB range, device TLB, and the inv-wait the driver waits for). */
#include <stdio.h>
#include <stdlib.h>

#include "workload.h"

#define DRV_POOL_BASE (1ull << 20)
#define DRV_IOVA_BASE (1ull << 32)

struct drv_ctx {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
    struct siov_domain *dom;
    uint64_t size;      /* bytes per operation */
    uint64_t pa;        /* output of every range: 2 MiB-aligned, or 4 KiB off it to force 4 KiB pages */
    bool unmap;         /* the timed operation is the unmap (else the map) */
    int err;            /* first failure */
};

static void note_err(struct drv_ctx *c, int64_t rc, uint64_t want)
{
    if ((rc < 0 || (want && (uint64_t)rc != want)) && !c->err)
        c->err = rc < 0 ? (int)rc : -1;
}

static void map_range(struct drv_ctx *c, uint64_t i)
{
    note_err(c, siov_domain_map(c->dom, DRV_IOVA_BASE + i * c->size, c->pa, c->size,
                                SIOV_PROT_READ | SIOV_PROT_WRITE), 0);
}

static void unmap_range(struct drv_ctx *c, uint64_t i)
{
    note_err(c, siov_domain_unmap(c->dom, DRV_IOVA_BASE + i * c->size, c->size), c->size);
}

/* Body: iters maps at consecutive IOVAs (timed), then their unmaps (untimed). */
static double body_map(void *p, uint64_t iters)
{
    struct drv_ctx *c = p;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        map_range(c, i);
    uint64_t t1 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        unmap_range(c, i);
    return (double)(t1 - t0);
}

/* Body: iters maps (untimed), then their unmaps (timed). */
static double body_unmap(void *p, uint64_t iters)
{
    struct drv_ctx *c = p;
    for (uint64_t i = 0; i < iters; i++)
        map_range(c, i);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        unmap_range(c, i);
    return (double)(bench_now_ns() - t0);
}

static bool drv_setup(struct drv_ctx *c)
{
    c->mem = siov_mem_new_flat(BENCH_MEM_SIZE);
    c->iommu = c->mem ? siov_iommu_new(c->mem, NULL) : NULL;
    c->drv = c->iommu ? siov_driver_new(c->iommu, c->mem, DRV_POOL_BASE, BENCH_POOL_END - DRV_POOL_BASE) : NULL;
    c->dom = c->drv ? siov_domain_new(c->drv, SIOV_DOMAIN_SECOND_LEVEL) : NULL;
    return c->dom && siov_dev_enable_aux(c->drv, BT_SID) == 0 && siov_aux_attach(c->dom, BT_SID) == 0;
}

static void drv_teardown(struct drv_ctx *c)
{
    if (c->dom)
        (void)siov_aux_detach(c->dom, BT_SID);
    if (c->dom)
        (void)siov_domain_free(c->dom);
    siov_driver_free(c->drv);
    siov_iommu_free(c->iommu);
    siov_mem_free(c->mem);
}

struct drv_case {
    const char *name;
    uint64_t size;
    bool misaligned;   /* pa 4 KiB off a 2 MiB boundary: 4 KiB leaves only */
    bool unmap;
    uint64_t cap;      /* most operations per run (bounds the table pool) */
    const char *base;
    const char *what;
};

/* Calibrate to run_ms within [16, cap] operations, then time opts->reps runs. */
static void measure_capped(const struct bench_opts *o, struct drv_ctx *c, uint64_t cap, struct bench_stat *st)
{
    bench_body body = c->unmap ? body_unmap : body_map;
    double ns = body(c, 16) / 16;
    double want = o->run_ms * 1e6 / (ns > 1 ? ns : 1);
    uint64_t iters = want < 16 ? 16 : want > (double)cap ? cap : (uint64_t)want;
    bench_measure_fixed(body, c, iters, o->reps, st);
}

static void case_drv(const struct bench_opts *o, struct bench_report *rep, const struct drv_case *k)
{
    if (!bench_selected(o, k->name))
        return;
    struct bench_result *r = bench_add(rep, "driver", k->name);
    struct drv_ctx c = {.size = k->size, .unmap = k->unmap};
    c.pa = BENCH_DATA_BASE + (k->misaligned ? SIOV_PAGE_SIZE : 0);
    if (!r)
        return;
    if (drv_setup(&c)) {
        struct bench_stat st;
        measure_capped(o, &c, k->cap, &st);
        if (!c.err)
            bench_set_stat(r, &st);
        snprintf(r->note, sizeof(r->note), "%s%s", k->what, c.err ? "; FAILED" : "");
    } else {
        snprintf(r->note, sizeof(r->note), "setup failed: driver, domain or aux attach");
    }
    drv_teardown(&c);
    bench_compare(rep, r, k->base, false, BENCH_NONE, 0);
}

void bench_driver_cases(const struct bench_opts *o, struct bench_report *rep)
{
    static const struct drv_case cases[] = {
        {"map-4k", 4096, true, false, 65536, "chase(4)", "one 4 KiB page"},
        {"unmap-4k", 4096, true, true, 65536, "inv-wait", "one 4 KiB page, with its invalidation"},
        {"map-2m", 2ull << 20, false, false, 4096, "chase(3)", "a 2 MiB range as one 2 MiB page"},
        {"unmap-2m", 2ull << 20, false, true, 4096, "inv-wait", "a 2 MiB page, with its invalidation"},
        {"map-2m-4k", 2ull << 20, true, false, 256, "memcpy-4k", "a 2 MiB range as 512 4 KiB pages"},
        {"unmap-2m-4k", 2ull << 20, true, true, 256, "inv-wait", "512 4 KiB pages, with their invalidation"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        case_drv(o, rep, &cases[i]);
}

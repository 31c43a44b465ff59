/* siov-bench: cases of scale —
 *  hit/Nk, hit-batch[/Nk]  siov_translate and siov_translate_batch (64
 *               requests a call) over the sweep's working sets, the IOTLB
 *               sized 4x the hot pages (as the 1K case's 4,096 for 1,024);
 *  miss-sl4/Nk  misses over larger and smaller working sets (64-entry IOTLB);
 *  hit-busy     hits on one ADI while another ADI (its own PASID and DID)
 *               unmaps a page, with its invalidation, every 1,000
 *               translations (the unmaps are not timed);
 *  unit-rss, unit-new  what a default unit holds after translating 1,024
 *               pages (resident memory, KiB) and what creating one costs (us). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

#define SCALE_MISS_IOTLB 64u
#define BUSY_EVERY 1000u
#define BUSY_PAGES 64u
#define NEW_REPS 25u

/* ------------------------------------------------------------ sweep */
struct batch_ctx {
    struct wl w;
    struct siov_xlate_req *req;
    struct siov_xlate_res *res;
};

/* Body: the workload's pages as requests, BENCH_BATCH a call. */
static double body_batch(void *p, uint64_t iters)
{
    struct batch_ctx *c = p;
    uint64_t calls = (iters + BENCH_BATCH - 1) / BENCH_BATCH, per = c->w.spec.pages / BENCH_BATCH;
    uint64_t t0 = bench_now_ns();
    for (uint64_t k = 0; k < calls; k++) {
        uint64_t at = (k % per) * BENCH_BATCH;
        (void)siov_translate_batch(c->w.t->iommu, BENCH_BATCH, &c->req[at], &c->res[at]);
        bench_sink((uint64_t)(uintptr_t)c->res);
    }
    uint64_t t1 = bench_now_ns();
    return (double)(t1 - t0) * (double)iters / (double)(calls * BENCH_BATCH);
}

static struct wl_spec sweep_spec(unsigned pages)
{
    return (struct wl_spec){WL_SL, 4, SIOV_PAGE_SIZE, pages, 4ull * pages * SIOV_PAGE_SIZE, false, 1, 1, 0x41 + pages};
}

/* hit/Nk (single calls; the 1K row is cases_translate.c's "hit") and hit-batch at one working set. */
static void sweep_hits(const struct bench_opts *o, struct bench_report *rep, unsigned pages)
{
    char hit[40], batch[40], base[40];
    bench_sweep_name(hit, sizeof(hit), "hit", pages);
    bench_sweep_name(batch, sizeof(batch), "hit-batch", pages);
    bool single = pages != BENCH_HOT && bench_selected(o, hit);
    if (!single && !bench_selected(o, batch))
        return;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = 4 * pages;
    struct wl_spec s = sweep_spec(pages);
    struct batch_ctx c = {0};
    struct bench_result *r = bench_add(rep, single ? "hit" : "batch", single ? hit : batch);
    if (!r || !wl_setup(&cfg, &s, &c.w, r))
        return;
    char what[64];
    snprintf(what, sizeof(what), "%u random pages, %u-entry IOTLB", pages, cfg.iotlb_entries);
    if (single) {
        wl_measure_translate(o, &c.w, r, what);
        r->ws = pages;
        bench_compare(rep, r, "hit", false, pages >= 16384 ? BENCH_AT_MOST : BENCH_NONE, 3.0);
        r = bench_selected(o, batch) ? bench_add(rep, "batch", batch) : NULL;
    }
    c.req = calloc(pages, sizeof(*c.req));
    c.res = calloc(pages, sizeof(*c.res));
    if (r && c.req && c.res) {
        for (unsigned i = 0; i < pages; i++)
            c.req[i] = (struct siov_xlate_req){BT_SID, s.pasid, c.w.iova[i] + 0x10, SIOV_ACCESS_READ};
        struct bench_stat st;
        struct wl_counters k;
        body_batch(&c, 2 * (uint64_t)pages);
        wl_counters_start(&c.w, &k);
        bench_measure(o, body_batch, &c, &st);
        bench_set_stat(r, &st);
        r->ws = pages;
        snprintf(r->note, sizeof(r->note), "%s, %u a call; IOTLB hit rate %.1f%%", what, BENCH_BATCH,
                 100 * wl_hit_rate(&c.w, &k));
        if (pages == BENCH_HOT) {
            bench_compare(rep, r, "probe-inline", false, BENCH_AT_MOST, 1.5);
        } else if (pages == 65536) {
            bench_sweep_name(base, sizeof(base), "hit", pages);
            bench_compare(rep, r, base, true, BENCH_AT_LEAST, 3.0);
        } else {
            bench_sweep_name(base, sizeof(base), "probe-inline", pages);
            bench_compare(rep, r, base, false, BENCH_NONE, 0);
        }
    } else if (r) {
        r->failed = true;
        snprintf(r->note, sizeof(r->note), "setup failed: out of memory");
    }
    free(c.req);
    free(c.res);
    wl_teardown(&c.w);
}

/* miss-sl4/Nk: every lookup misses a 64-entry IOTLB (the 4K row is "miss-sl4"). */
static void sweep_miss(const struct bench_opts *o, struct bench_report *rep, unsigned pages)
{
    char name[40];
    snprintf(name, sizeof(name), "miss-sl4/%uk", pages / 1024);
    if (pages == 4096 || !bench_selected(o, name))
        return;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = SCALE_MISS_IOTLB;
    struct wl_spec s = {WL_SL, 4, SIOV_PAGE_SIZE, pages, 4ull * pages * SIOV_PAGE_SIZE, false, 2, 2, 0x3155};
    struct wl w;
    struct bench_result *r = bench_add(rep, "miss", name);
    if (!r || !wl_setup(&cfg, &s, &w, r))
        return;
    char what[64];
    snprintf(what, sizeof(what), "4 reads/walk; %u pages, 64-entry IOTLB", pages);
    wl_measure_translate(o, &w, r, what);
    r->ws = pages;
    wl_teardown(&w);
    bench_compare(rep, r, "chase(4)", false, BENCH_NONE, 0);
}

/* ------------------------------------------------------------ hit-busy */
struct busy_ctx {
    struct wl w, other;     /* the ADI that translates; the one that unmaps */
    struct bt_tree tree;    /* the other's second-level tree */
    uint64_t at;            /* the other's next page to unmap */
    int rc;
};

/* Unmap one page of the other ADI with its page-selective invalidation, then map it back. */
static void busy_unmap(struct busy_ctx *c)
{
    size_t i = c->at++ & c->other.mask;
    uint64_t iova = c->other.iova[i];
    uint64_t leaf = bt_map(c->w.t, &c->tree, iova, c->other.pa[i], SIOV_PAGE_SIZE);
    uint64_t old = bt_r64(c->w.t, leaf);
    bt_w64(c->w.t, leaf, 0);
    struct bt_dsc d = bt_dsc_iotlb_page(c->other.spec.did, iova);
    if (bt_invalidate(c->w.t, &d, 1) < 0)
        c->rc = -1;
    bt_w64(c->w.t, leaf, old); /* not present -> present needs no invalidation */
}

/* Body: translations of the first ADI (timed), an unmap of the other's every BUSY_EVERY (not timed). */
static double body_busy(void *p, uint64_t iters)
{
    struct busy_ctx *c = p;
    double ns = 0;
    for (uint64_t done = 0; done < iters;) {
        uint64_t n = iters - done < BUSY_EVERY ? iters - done : BUSY_EVERY;
        ns += wl_body_translate(&c->w, n);
        done += n;
        busy_unmap(c);
    }
    return ns;
}

static void case_busy(const struct bench_opts *o, struct bench_report *rep)
{
    if (!bench_selected(o, "hit-busy"))
        return;
    struct bench_result *r = bench_add(rep, "hit", "hit-busy");
    struct wl_spec s = {WL_SL, 4, SIOV_PAGE_SIZE, BENCH_HOT, 64ull << 20, false, 1, 1, 0x41};
    struct wl_spec s2 = {WL_SL, 4, SIOV_PAGE_SIZE, BUSY_PAGES, 64ull << 20, false, 2, 2, 0x77};
    struct busy_ctx c = {0};
    if (!r || !wl_setup(NULL, &s, &c.w, r))
        return;
    if (wl_build(c.w.t, &s2, &c.other) < 0 || wl_verify(&c.other)) {
        r->failed = true;
        snprintf(r->note, sizeof(r->note), "setup failed: the other ADI");
    } else {
        c.tree = (struct bt_tree){c.other.root, 4, false, BT_SL_RW, BT_SL_RW | SIOV_SL_X};
        struct bench_stat st;
        struct wl_counters k;
        body_busy(&c, 2 * BUSY_EVERY);
        wl_counters_start(&c.w, &k);
        bench_measure(o, body_busy, &c, &st);
        bench_set_stat(r, &st);
        snprintf(r->note, sizeof(r->note), "another ADI unmaps a page every %u; IOTLB hit rate %.1f%%%s",
                 BUSY_EVERY, 100 * wl_hit_rate(&c.w, &k), c.rc ? "; an invalidation timed out" : "");
        if (c.rc)
            r->failed = true;
    }
    wl_free(&c.other);
    wl_teardown(&c.w);
    bench_compare(rep, r, "hit", false, BENCH_AT_MOST, 1.5);
}

/* ------------------------------------------------------------ memory */
static long rss_kib(void)
{
    long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return -1;
    int n = fscanf(f, "%ld %ld", &size, &resident);
    fclose(f);
    return n == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024) : -1;
}

/* A default unit on w's memory and root table, translating w's pages: its RSS growth in KiB. */
static long unit_rss(struct wl *w)
{
    long before = rss_kib();
    struct siov_iommu *u = siov_iommu_new(w->t->mem, NULL);
    if (!u || before < 0)
        return -1;
    siov_mmio_write(u, SIOV_REG_RTADDR, siov_set(w->t->root, SIOV_RTADDR_TTM, SIOV_TTM_SCALABLE), 8);
    siov_mmio_write(u, SIOV_REG_GCMD, SIOV_GCMD_SRTP, 4);
    siov_mmio_write(u, SIOV_REG_GCMD, SIOV_GCMD_TE, 4);
    struct siov_xlate x;
    int bad = 0;
    for (int round = 0; round < 2; round++)
        for (size_t i = 0; i < w->spec.pages; i++)
            bad |= siov_translate(u, BT_SID, w->spec.pasid, w->iova[i], SIOV_ACCESS_READ, &x) != SIOV_OK;
    long after = rss_kib();
    siov_iommu_free(u);
    return bad || after < 0 ? -1 : after - before;
}

static double body_new(void *p, uint64_t iters)
{
    struct wl *w = p;
    double ns = 0;
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t t0 = bench_now_ns();
        struct siov_iommu *u = siov_iommu_new(w->t->mem, NULL);
        ns += (double)(bench_now_ns() - t0);
        if (!u)
            return -1;
        siov_iommu_free(u);
    }
    return ns / 1000; /* microseconds */
}

static void case_memory(const struct bench_opts *o, struct bench_report *rep)
{
    bool rss = bench_selected(o, "unit-rss"), made = bench_selected(o, "unit-new");
    if (!rss && !made)
        return;
    struct wl_spec s = {WL_SL, 4, SIOV_PAGE_SIZE, BENCH_HOT, 64ull << 20, false, 1, 1, 0x41};
    struct wl w;
    struct bench_result *r = bench_add(rep, "unit", rss ? "unit-rss" : "unit-new");
    if (!r || !wl_setup(NULL, &s, &w, r))
        return;
    if (rss) {
        long kib = unit_rss(&w);
        snprintf(r->unit, sizeof(r->unit), "KiB");
        r->ns = r->best = kib < 0 ? NAN : (double)kib;
        r->failed = kib < 0;
        snprintf(r->note, sizeof(r->note), kib < 0 ? "setup failed: a translation faulted" :
                 "resident memory a default unit adds by translating 1024 pages");
        bench_target(r, BENCH_AT_MOST, 400);
        r = made ? bench_add(rep, "unit", "unit-new") : NULL;
    }
    if (r) {
        struct bench_stat st;
        body_new(&w, 2);
        bench_measure_fixed(body_new, &w, 1, o->quick ? 5 : NEW_REPS, &st);
        bench_set_stat(r, &st);
        snprintf(r->unit, sizeof(r->unit), "us");
        snprintf(r->note, sizeof(r->note), "siov_iommu_new with the defaults");
        bench_target(r, BENCH_AT_MOST, 500);
    }
    wl_teardown(&w);
}

void bench_scale_cases(const struct bench_opts *o, struct bench_report *rep)
{
    static const unsigned sweep[] = BENCH_SWEEP;
    for (size_t i = 0; i < sizeof(sweep) / sizeof(sweep[0]); i++)
        sweep_hits(o, rep, sweep[i]);
    for (size_t i = 0; i < sizeof(sweep) / sizeof(sweep[0]); i++)
        sweep_miss(o, rep, sweep[i]);
    case_busy(o, rep);
    case_memory(o, rep);
}

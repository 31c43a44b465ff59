/* siov-bench: ATS cases — a device's ATC answering inline (atc-hit, also
 * while another thread invalidates other PASIDs of the device), ATC misses
 * answered by the unit's IOTLB (ats-miss) or by a walk (ats-walk), and
 * device-TLB invalidations of one page and of a whole PASID with ATCs of 64
 * and 65,536 entries. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define ATC_HIT_ENTRIES 16384u /* the 1024 hot pages sit in sets of their own */
#define ATC_MISS_ENTRIES 64u
#define MISS_PAGES 4096u
#define INV_SMALL 64u
#define INV_LARGE 65536u
#define INV_FILL 4096u         /* translations before each timed invalidation, whatever the size */
#define OTHER_PASID 2u

struct atc_ctx {
    struct wl w;
    struct siov_atc *atc;
    uint32_t pasid;
};

static double body_atc(void *p, uint64_t iters)
{
    struct atc_ctx *c = p;
    struct siov_atc *atc = c->atc;
    const uint64_t *iova = c->w.iova;
    size_t mask = c->w.mask;
    uint32_t pasid = c->pasid;
    uint64_t sum = 0;
    struct siov_xlate x;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        siov_fault f = siov_atc_translate(atc, pasid, iova[i & mask], SIOV_ACCESS_READ, &x);
        sum += x.addr + (uint64_t)f;
    }
    uint64_t t1 = bench_now_ns();
    bench_sink(sum);
    return (double)(t1 - t0);
}

/* A unit with cfg, workload s and an ATC of entries for BT_SID; false with a note on failure. */
static bool atc_setup(const struct siov_iommu_config *cfg, const struct wl_spec *s, unsigned entries,
                      struct atc_ctx *c, struct bench_result *r)
{
    memset(c, 0, sizeof(*c));
    struct bt *t = bt_new(cfg, BENCH_MEM_SIZE, BENCH_POOL_END);
    const char *why = !t ? "no unit" : NULL;
    if (!why && wl_build(t, s, &c->w) < 0)
        why = "out of table pages";
    if (!why && wl_verify(&c->w))
        why = "translations wrong";
    if (!why && !(c->atc = siov_atc_new(t->iommu, BT_SID, entries)))
        why = "no ATC";
    if (why) {
        snprintf(r->note, sizeof(r->note), "setup failed: %s", why);
        wl_free(&c->w);
        bt_free(t);
        return false;
    }
    c->pasid = s->pasid;
    return true;
}

static void atc_teardown(struct atc_ctx *c)
{
    struct bt *t = c->w.t;
    siov_atc_free(c->atc);
    wl_free(&c->w);
    bt_free(t);
}

/* Time body_atc into r; the note says the ATC hit rate and what answered misses. */
static void measure_atc(const struct bench_opts *o, struct atc_ctx *c, struct bench_result *r, const char *what)
{
    struct bench_stat st;
    struct siov_atc_stats a0, a1;
    struct wl_counters k;
    body_atc(c, 2 * c->w.spec.pages); /* warm */
    siov_atc_stats(c->atc, &a0);
    wl_counters_start(&c->w, &k);
    bench_measure(o, body_atc, c, &st);
    siov_atc_stats(c->atc, &a1);
    bench_set_stat(r, &st);
    double hits = (double)(a1.hits - a0.hits), misses = (double)(a1.misses - a0.misses);
    double iotlb = wl_hit_rate(&c->w, &k); /* NaN when every answer came from the ATC */
    int n = snprintf(r->note, sizeof(r->note), "%s; ATC hit rate %.1f%%", what,
                     hits + misses > 0 ? 100 * hits / (hits + misses) : NAN);
    if (!isnan(iotlb) && n > 0 && (size_t)n < sizeof(r->note))
        snprintf(r->note + n, sizeof(r->note) - (size_t)n, ", IOTLB hit rate %.1f%%", 100 * iotlb);
}

/* -------------------------------------------------------------- atc-hit */
struct inv_thread {
    struct bt *t;
    int stop;         /* atomic */
    uint64_t done;    /* invalidations completed */
};

/* Device-TLB invalidations of another PASID of the device, back to back. */
static void *inv_main(void *p)
{
    struct inv_thread *it = p;
    int s;
    uint64_t qw0 = siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_SID, BT_SID) |
                   siov_set(0, SIOV_PDTLB0_PASID, OTHER_PASID);
    struct bt_dsc d = {qw0, siov_ats_range_encode(0, UINT64_MAX, &s) | SIOV_PDTLB1_S};
    while (!__atomic_load_n(&it->stop, __ATOMIC_ACQUIRE))
        if (bt_invalidate(it->t, &d, 1) == 0)
            it->done++;
    return NULL;
}

static void case_atc_hit(const struct bench_opts *o, struct bench_report *rep, bool with_inv)
{
    const char *name = with_inv ? "atc-hit-inv" : "atc-hit";
    if (!bench_selected(o, name))
        return;
    struct bench_result *r = bench_add(rep, "ats", name);
    struct wl_spec s = {WL_SL, 4, SIOV_PAGE_SIZE, BENCH_HOT, 64ull << 20, false, 1, 1, 0x41};
    struct atc_ctx c;
    if (!r || !atc_setup(NULL, &s, ATC_HIT_ENTRIES, &c, r))
        return;
    struct inv_thread it = {c.w.t, 0, 0};
    pthread_t th;
    bool started = with_inv && pthread_create(&th, NULL, inv_main, &it) == 0;
    measure_atc(o, &c, r, with_inv ? "1024 random pages; another thread invalidates another PASID"
                                   : "1024 random pages, inline probe");
    if (started) {
        __atomic_store_n(&it.stop, 1, __ATOMIC_RELEASE);
        pthread_join(th, NULL);
        size_t n = strlen(r->note);
        snprintf(r->note + n, sizeof(r->note) - n, "; %llu invalidations", (unsigned long long)it.done);
    }
    atc_teardown(&c);
    if (with_inv)
        bench_compare(rep, r, "atc-hit", false, BENCH_NONE, 0);
    bench_compare(rep, r, "load", false, BENCH_AT_MOST, 2.0);
}

/* -------------------------------------------------- misses to the unit */
static void case_ats_miss(const struct bench_opts *o, struct bench_report *rep, bool walk)
{
    const char *name = walk ? "ats-walk" : "ats-miss";
    if (!bench_selected(o, name))
        return;
    struct bench_result *r = bench_add(rep, "ats", name);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    if (walk)
        cfg.iotlb_entries = 64; /* as miss-sl4: every request walks */
    size_t pages = walk ? MISS_PAGES : BENCH_HOT;
    struct wl_spec s = {WL_SL, 4, SIOV_PAGE_SIZE, pages, walk ? 4 * pages * SIOV_PAGE_SIZE : 64ull << 20, false, 2,
                        2, 0x3155};
    struct atc_ctx c;
    if (!r || !atc_setup(&cfg, &s, ATC_MISS_ENTRIES, &c, r))
        return;
    measure_atc(o, &c, r, walk ? "64-entry ATC, 64-entry IOTLB, 4096 pages" : "64-entry ATC, 1024 pages in the IOTLB");
    atc_teardown(&c);
    bench_compare(rep, r, walk ? "miss-sl4" : "hit", false, BENCH_NONE, 0);
}

/* ------------------------------------------------------- invalidations */
struct dinv_ctx {
    struct atc_ctx c;
    struct bt_dsc d;
    uint64_t page;
    int rc;
};

/* Per operation: fill the ATC with INV_FILL translations (the invalidated
   page last, so it is held whatever the size), then one timed 0x8 + wait. */
static double body_dinv(void *p, uint64_t iters)
{
    struct dinv_ctx *k = p;
    double ns = 0;
    struct siov_xlate x;
    for (uint64_t i = 0; i < iters; i++) {
        for (size_t j = 0; j < k->c.w.spec.pages; j++)
            (void)siov_atc_translate(k->c.atc, k->c.pasid, k->c.w.iova[j], SIOV_ACCESS_READ, &x);
        (void)siov_atc_translate(k->c.atc, k->c.pasid, k->page, SIOV_ACCESS_READ, &x);
        (void)bt_invalidate(k->c.w.t, NULL, 0); /* the queue's code warm again */
        uint64_t t0 = bench_now_ns();
        k->rc = bt_invalidate(k->c.w.t, &k->d, 1);
        ns += (double)(bench_now_ns() - t0);
    }
    return ns;
}

static void case_devtlb_inv(const struct bench_opts *o, struct bench_report *rep, unsigned entries, bool pasid)
{
    char name[40], base[40];
    const char *kind = pasid ? "devtlb-inv-pasid" : "devtlb-inv-page";
    snprintf(name, sizeof(name), "%s(%u)", kind, entries);
    if (!bench_selected(o, name))
        return;
    struct bench_result *r = bench_add(rep, "ats", name);
    struct wl_spec s = {WL_SL, 4, SIOV_PAGE_SIZE, INV_FILL, 4 * INV_FILL * SIOV_PAGE_SIZE, false, 1, 1, 0x1D1};
    struct dinv_ctx k;
    if (!r || !atc_setup(NULL, &s, entries, &k.c, r))
        return;
    int sb;
    k.page = k.c.w.iova[7];
    uint64_t qw0 = siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_SID, BT_SID) |
                   siov_set(0, SIOV_PDTLB0_PASID, k.c.pasid);
    uint64_t qw1 = pasid ? siov_ats_range_encode(0, UINT64_MAX, &sb) : siov_ats_range_encode(k.page, 4096, &sb);
    k.d = (struct bt_dsc){qw0, qw1 | (sb ? SIOV_PDTLB1_S : 0)};
    struct bench_stat st;
    unsigned reps = o->reps * 7 < 9 ? 9 : o->reps * 7;
    bench_measure_fixed(body_dinv, &k, 1, reps, &st);
    struct siov_atc_stats a;
    siov_atc_stats(k.c.atc, &a);
    if (k.rc == 0)
        bench_set_stat(r, &st);
    snprintf(r->note, sizeof(r->note), "0x8 %s + wait; %u translations before each; %.1f entries dropped each",
             pasid ? "whole PASID" : "one page", INV_FILL,
             a.invalidations ? (double)a.entries_dropped / (double)a.invalidations : 0.0);
    atc_teardown(&k.c);
    if (entries == INV_SMALL) {
        bench_compare(rep, r, "inv-wait", false, BENCH_NONE, 0);
    } else {
        snprintf(base, sizeof(base), "%s(%u)", kind, INV_SMALL);
        bench_compare(rep, r, base, false, BENCH_AT_MOST, 1.25);
    }
}

void bench_ats_cases(const struct bench_opts *o, struct bench_report *rep)
{
    case_atc_hit(o, rep, false);
    case_atc_hit(o, rep, true);
    case_ats_miss(o, rep, false);
    case_ats_miss(o, rep, true);
    case_devtlb_inv(o, rep, INV_SMALL, false);
    case_devtlb_inv(o, rep, INV_LARGE, false);
    case_devtlb_inv(o, rep, INV_SMALL, true);
    case_devtlb_inv(o, rep, INV_LARGE, true);
}

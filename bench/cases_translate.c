/* siov-bench: translation cases — IOTLB hits, misses with full walks,
 * siov_dma_read, and hits from several threads. */
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workload.h"

#define MISS_IOTLB_ENTRIES 64u  /* misses: 4096 pages cycle through a 64-entry IOTLB */
#define MISS_PAGES 4096u
#define MT_MAX 64u

/* Whether the filter (substrings separated by commas) selects name. */
bool bench_selected(const struct bench_opts *o, const char *name)
{
    if (!o->filter)
        return true;
    for (const char *f = o->filter;; f++) {
        size_t n = strcspn(f, ",");
        for (const char *at = name; n && *at; at++)
            if (!strncmp(at, f, n))
                return true;
        f += n;
        if (!*f)
            return false;
    }
}

/* Measure wl_body_translate on w into r, with the hit rate in the note. */
void wl_measure_translate(const struct bench_opts *o, struct wl *w, struct bench_result *r, const char *what)
{
    struct bench_stat st;
    struct wl_counters c;
    wl_body_translate(w, 2 * w->spec.pages); /* warm: fill what fits */
    wl_counters_start(w, &c);
    bench_measure(o, wl_body_translate, w, &st);
    bench_set_stat(r, &st);
    snprintf(r->note, sizeof(r->note), "%s; IOTLB hit rate %.1f%%", what, 100 * wl_hit_rate(w, &c));
}

static void case_hit(const struct bench_opts *o, struct bench_report *rep, const char *name, enum wl_kind kind)
{
    if (!bench_selected(o, name))
        return;
    struct bench_result *r = bench_add(rep, "hit", name);
    struct wl_spec s = {kind, 4, SIOV_PAGE_SIZE, BENCH_HOT, 64ull << 20, false, 1, 1, 0x41};
    struct wl w;
    if (!r || !wl_setup(NULL, &s, &w, r))
        return;
    wl_measure_translate(o, &w, r, "1024 random pages, 4096-entry IOTLB");
    r->ws = kind == WL_SL ? BENCH_HOT : 0;
    wl_teardown(&w);
    if (bench_find(rep, "qemu-style")) /* its cost over ours: at least 5 */
        bench_compare(rep, r, "qemu-style", true, BENCH_AT_LEAST, 5.0);
    else
        bench_compare(rep, r, "load", false, BENCH_NONE, 0); /* built without GLib */
}

struct miss_case {
    const char *name;
    enum wl_kind kind;
    unsigned levels;
    uint64_t page_size;
    double target; /* at most target x chase(n); 0: no target */
};

static void case_miss(const struct bench_opts *o, struct bench_report *rep, const struct miss_case *m)
{
    if (!bench_selected(o, m->name))
        return;
    struct bench_result *r = bench_add(rep, "miss", m->name);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = MISS_IOTLB_ENTRIES;
    if (m->levels == 5) {
        cfg.sagaw |= SIOV_SAGAW_5LVL;
        cfg.mgaw = 57;
    }
    struct wl_spec s = {m->kind, m->levels, m->page_size, MISS_PAGES, 4 * MISS_PAGES * m->page_size, false,
                        2, 2, 0x3155};
    struct wl w;
    if (!r || !wl_setup(&cfg, &s, &w, r))
        return;
    unsigned reads = wl_walk_reads(&s);
    char what[64], base[16];
    snprintf(what, sizeof(what), "%u reads/walk; 4096 pages, 64-entry IOTLB", reads);
    wl_measure_translate(o, &w, r, what);
    wl_teardown(&w);
    snprintf(base, sizeof(base), "chase(%u)", reads);
    if (!strcmp(m->name, "miss-sl4"))
        r->ws = MISS_PAGES;
    bench_compare(rep, r, base, false, m->target > 0 ? BENCH_AT_MOST : BENCH_NONE, m->target);
}

static void miss_cases(const struct bench_opts *o, struct bench_report *rep)
{
    static const struct miss_case cases[] = {
        {"miss-sl4", WL_SL, 4, SIOV_PAGE_SIZE, 4.0},
        {"miss-sl5", WL_SL, 5, SIOV_PAGE_SIZE, 4.0},
        {"miss-fl4", WL_FL, 4, SIOV_PAGE_SIZE, 4.0},
        {"miss-fl5", WL_FL, 5, SIOV_PAGE_SIZE, 4.0},
        {"miss-nested-4/4", WL_NESTED, 4, SIOV_PAGE_SIZE, 2.0},
        {"miss-sl4-2m", WL_SL, 4, 2ull << 20, 0},
        {"miss-sl4-1g", WL_SL, 4, 1ull << 30, 0},
        {"miss-fl4-2m", WL_FL, 4, 2ull << 20, 0},
        {"miss-fl4-1g", WL_FL, 4, 1ull << 30, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        case_miss(o, rep, &cases[i]);
}

/* ------------------------------------------------------------ DMA */
struct dma_ctx {
    struct wl w;
    uint8_t *buf;
};

static double body_dma_read(void *p, uint64_t iters)
{
    struct dma_ctx *c = p;
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        sum += siov_dma_read(c->w.t->iommu, BT_SID, c->w.spec.pasid, c->w.iova[i & c->w.mask], c->buf, 4096);
        bench_sink((uint64_t)(uintptr_t)c->buf);
    }
    uint64_t t1 = bench_now_ns();
    bench_sink(sum);
    return (double)(t1 - t0);
}

static void case_dma(const struct bench_opts *o, struct bench_report *rep)
{
    if (!bench_selected(o, "dma-read-4k"))
        return;
    struct bench_result *r = bench_add(rep, "dma", "dma-read-4k");
    struct wl_spec s = {WL_SL, 4, SIOV_PAGE_SIZE, BENCH_HOT, 64ull << 20, true, 1, 1, 0xD4A};
    struct dma_ctx c;
    struct bench_stat st;
    if (!r || !(c.buf = aligned_alloc(64, 4096)))
        return;
    if (wl_setup(NULL, &s, &c.w, r)) {
        /* DMA reads data something wrote; untouched pages would all read the
           kernel's zero page, which some hosts serve far slower than RAM */
        for (size_t i = 0; i < s.pages; i++)
            memset(c.w.t->flat + c.w.pa[i], 0x5A, SIOV_PAGE_SIZE);
        body_dma_read(&c, 2 * BENCH_HOT);
        bench_measure(o, body_dma_read, &c, &st);
        bench_set_stat(r, &st);
        snprintf(r->note, sizeof(r->note), "4 KiB-aligned reads of 1024 distinct pages (IOTLB hits)");
        wl_teardown(&c.w);
    }
    free(c.buf);
    bench_compare(rep, r, "memcpy-4k", false, BENCH_NONE, 0);
}

/* ------------------------------------------------------------ threads */
struct mt_thread {
    struct wl *w;
    uint64_t iters, t0, t1;
    uint64_t cpu_ns;      /* the thread's CPU time in the timed part */
    pthread_barrier_t *go;
    unsigned cpu;
};

#define MT_REPS_MAX 256
struct mt_ctx {
    unsigned n;
    struct wl w[MT_MAX];  /* one per thread: the same unit (shared) or a unit each */
    unsigned runs;        /* timed runs so far */
    double cpu_per_op[MT_REPS_MAX];  /* CPU ns per translation, each run */
    double overlap[MT_REPS_MAX];     /* CPU time / (n x wall time): 1 when every thread had a CPU */
};

static uint64_t thread_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void *mt_main(void *p)
{
    struct mt_thread *th = p;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(th->cpu, &set);
    (void)pthread_setaffinity_np(pthread_self(), sizeof(set), &set); /* best effort */
    pthread_barrier_wait(th->go);
    uint64_t c0 = thread_cpu_ns();
    th->t0 = bench_now_ns();
    wl_body_translate(th->w, th->iters);
    th->t1 = bench_now_ns();
    th->cpu_ns = thread_cpu_ns() - c0;
    return NULL;
}

/* Body: n threads of iters hits each; the time from the first start to the last end, per thread-iter. */
static double body_mt(void *p, uint64_t iters)
{
    struct mt_ctx *c = p;
    struct mt_thread th[MT_MAX];
    pthread_t tid[MT_MAX];
    pthread_barrier_t go;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    pthread_barrier_init(&go, NULL, c->n);
    for (unsigned i = 0; i < c->n; i++) {
        th[i] = (struct mt_thread){&c->w[i], iters, 0, 0, 0, &go, (unsigned)(i % (ncpu > 0 ? ncpu : 1))};
        if (pthread_create(&tid[i], NULL, mt_main, &th[i]) != 0)
            abort();
    }
    uint64_t first = UINT64_MAX, last = 0, cpu = 0;
    for (unsigned i = 0; i < c->n; i++) {
        pthread_join(tid[i], NULL);
        first = th[i].t0 < first ? th[i].t0 : first;
        last = th[i].t1 > last ? th[i].t1 : last;
        cpu += th[i].cpu_ns;
    }
    pthread_barrier_destroy(&go);
    if (c->runs < MT_REPS_MAX && iters) {
        c->cpu_per_op[c->runs] = (double)cpu / ((double)iters * c->n);
        c->overlap[c->runs++] = (double)cpu / ((double)(last - first) * c->n);
    }
    return (double)(last - first) / c->n; /* so ns/op is wall time per translation of all threads */
}

/* n threads over one shared unit (sep: a unit per thread). Thread i visits the pages in its own order. */
static bool mt_setup(struct mt_ctx *c, unsigned n, bool sep, struct bench_result *r)
{
    struct wl_spec s = {WL_SL, 4, SIOV_PAGE_SIZE, BENCH_HOT, 64ull << 20, false, 1, 1, 0x41};
    c->n = n;
    for (unsigned i = 0; i < n; i++) {
        if (i == 0 || sep) {
            if (!wl_setup(NULL, &s, &c->w[i], r))
                return false;
            continue;
        }
        c->w[i] = c->w[0];
        c->w[i].iova = malloc(s.pages * sizeof(uint64_t));
        c->w[i].pa = NULL;
        if (!c->w[i].iova)
            return false;
        uint32_t *order = malloc(s.pages * sizeof(*order));
        if (!order)
            return false;
        bench_shuffle_identity(order, s.pages, 0x7700 + i);
        for (size_t k = 0; k < s.pages; k++)
            c->w[i].iova[k] = c->w[0].iova[order[k]];
        free(order);
    }
    return true;
}

static void mt_teardown(struct mt_ctx *c, bool sep)
{
    for (unsigned i = c->n; i-- > 0;) {
        if (sep || i == 0)
            wl_teardown(&c->w[i]);
        else
            wl_free(&c->w[i]);
    }
}

static void case_mt(const struct bench_opts *o, struct bench_report *rep, unsigned n, bool sep, uint64_t iters)
{
    char name[40];
    snprintf(name, sizeof(name), sep ? "hit-mt-sep(%u)" : "hit-mt(%u)", n);
    struct bench_result *r = bench_add(rep, "threads", name);
    struct mt_ctx *c = calloc(1, sizeof(*c));
    if (!r || !c) {
        free(c);
        return;
    }
    if (mt_setup(c, n, sep, r)) {
        struct bench_stat st;
        body_mt(c, iters / 4); /* warm every thread's view */
        c->runs = 0;
        bench_measure_fixed(body_mt, c, iters, o->reps, &st);
        bench_set_stat(r, &st);
        double cpu = bench_median(c->cpu_per_op, c->runs), overlap = bench_median(c->overlap, c->runs);
        snprintf(r->note, sizeof(r->note), "%s; CPU %.1f ns/translation; threads overlapped %.0f%%",
                 sep ? "a unit each (the machine's ceiling)" : "one shared unit", cpu, 100 * overlap);
    }
    mt_teardown(c, sep);
    free(c);
    if (n > 1)
        bench_compare(rep, r, "hit-mt(1)", true, sep ? BENCH_NONE : BENCH_AT_LEAST, sep ? 0 : 0.9 * n);
}

#define CPU_ROUND_MS 2.0
#define CPU_ROUNDS_MAX 200u
#define CPU_OVERLAP_MIN 0.9

/* CPU time per translation of n threads on one unit (per-thread CPU clocks),
   over short rounds; only rounds where the threads overlapped at least 90%
   count (or the best-overlapping ones, said in the note, when none did). */
static void case_mt_cpu(const struct bench_opts *o, struct bench_report *rep, unsigned n, double hit_ns)
{
    char name[40];
    snprintf(name, sizeof(name), "hit-cpu-mt(%u)", n);
    struct bench_result *r = bench_add(rep, "threads", name);
    struct mt_ctx *c = calloc(1, sizeof(*c));
    if (!r || !c) {
        free(c);
        return;
    }
    uint64_t iters = (uint64_t)((o->quick ? 0.2 : CPU_ROUND_MS) * 1e6 / hit_ns);
    unsigned want = o->reps < 5 ? 5 : o->reps, kept = 0;
    if (mt_setup(c, n, false, r)) {
        body_mt(c, iters); /* warm */
        c->runs = 0;
        for (unsigned i = 0; i < CPU_ROUNDS_MAX && (kept < want || i < 2 * want); i++) {
            body_mt(c, iters);
            kept += c->overlap[c->runs - 1] >= CPU_OVERLAP_MIN;
        }
        double cpu[MT_REPS_MAX], ov[MT_REPS_MAX];
        unsigned m = 0;
        for (unsigned i = 0; i < c->runs; i++)
            if (c->overlap[i] >= CPU_OVERLAP_MIN || !kept) {
                cpu[m] = c->cpu_per_op[i];
                ov[m++] = c->overlap[i];
            }
        double overlap = bench_median(ov, m);
        r->ns = bench_median(cpu, m); /* sorted: cpu[0] the least */
        r->best = cpu[0];
        r->spread = r->ns > 0 ? (cpu[m - 1] - cpu[0]) / r->ns : NAN;
        r->iters = iters;
        r->reps = m;
        snprintf(r->note, sizeof(r->note), "CPU ns/translation, %u of %u rounds overlapped >= 90%% (median %.0f%%)",
                 kept, c->runs, 100 * overlap);
    }
    mt_teardown(c, false);
    free(c);
    if (n > 1)
        bench_compare(rep, r, "hit-cpu-mt(1)", false, kept ? BENCH_AT_MOST : BENCH_NONE, 1.15);
}

static void mt_cases(const struct bench_opts *o, struct bench_report *rep)
{
    const struct bench_result *hit = bench_find(rep, "hit");
    double ns = hit && hit->ns > 0 ? hit->ns : 100;
    uint64_t iters = (uint64_t)(o->run_ms * 1e6 / ns);
    if (iters < 1000)
        iters = 1000;
    unsigned n = o->threads < 2 ? 2 : o->threads > MT_MAX ? MT_MAX : o->threads;
    char many[40], sep[40];
    snprintf(many, sizeof(many), "hit-mt(%u)", n);
    snprintf(sep, sizeof(sep), "hit-mt-sep(%u)", n);
    if (!bench_selected(o, "hit-mt(1)") && !bench_selected(o, many) && !bench_selected(o, sep))
        return; /* the three run together: the others compare with hit-mt(1) */
    case_mt(o, rep, 1, false, iters);
    case_mt(o, rep, n, false, iters);
    case_mt(o, rep, n, true, iters);
    case_mt_cpu(o, rep, 1, ns);
    case_mt_cpu(o, rep, n, ns);
}

void bench_cases(const struct bench_opts *o, struct bench_report *rep)
{
    case_hit(o, rep, "hit", WL_SL);
    case_hit(o, rep, "hit-fl4", WL_FL);
    miss_cases(o, rep);
    case_dma(o, rep);
    mt_cases(o, rep);
}

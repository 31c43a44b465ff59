/* siov-bench: declarations shared by the timing core, the baselines, the
 * cases and the output. Every figure is nanoseconds per operation, the median
 * of several timed runs, with a ratio to a baseline measured in the same run. */
#ifndef SIOV_BENCH_H
#define SIOV_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <siov/siov.h>

/* ------------------------------------------------------------ options */
enum bench_format { BENCH_TABLE, BENCH_JSON, BENCH_CSV };

struct bench_opts {
    enum bench_format format;
    const char *filter;  /* run only cases whose name contains it (NULL: all) */
    const char *plot;    /* directory for the SVG charts (NULL: none) */
    bool quick;          /* short runs: a smoke test, not a measurement */
    unsigned threads;    /* threads of the multi-threaded hit case (default 2) */
    unsigned reps;       /* timed runs per figure; the median is reported */
    double run_ms;       /* target duration of one timed run */
};

/* ------------------------------------------------------------ timing.c */
/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t bench_now_ns(void);

/* A measured body: performs iters operations and returns the nanoseconds of
   its timed part (so a body can keep setup and teardown out of the figure). */
typedef double (*bench_body)(void *ctx, uint64_t iters);

struct bench_stat {
    double ns;        /* median nanoseconds per operation */
    double min, max;  /* fastest and slowest run, per operation */
    unsigned reps;
    uint64_t iters;   /* operations per run */
};
/* Calibrate the operations per run to opts->run_ms, then time opts->reps runs. */
void bench_measure(const struct bench_opts *o, bench_body body, void *ctx, struct bench_stat *out);
/* Time reps runs of exactly iters operations each (no calibration). */
void bench_measure_fixed(bench_body body, void *ctx, uint64_t iters, unsigned reps, struct bench_stat *out);
/* Median of n values (sorts v in place). */
double bench_median(double *v, size_t n);

/* A small fast PRNG (xorshift64*), deterministic per seed. */
static inline uint64_t bench_rand(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}
/* Fill v[0..n) with a random permutation of 0..n-1. */
void bench_shuffle_identity(uint32_t *v, size_t n, uint64_t seed);

/* Keep the compiler from dropping a computation whose result is unused. */
static inline void bench_sink(uint64_t v)
{
    __asm__ volatile("" : : "r"(v) : "memory");
}

/* ------------------------------------------------------------ output.c */
enum bench_dir {
    BENCH_NONE,        /* no target: informative */
    BENCH_AT_MOST,     /* ratio must not exceed the target */
    BENCH_AT_LEAST,    /* ratio must reach the target */
};

struct bench_result {
    char name[40];
    char group[16];       /* "baseline", "hit", "miss", ... */
    double ns;            /* median ns/op; NaN when the case could not run */
    double best;          /* fastest run's ns/op: robust when other work competes for the CPUs */
    double spread;        /* (slowest - fastest) / median of the runs, 0..; NaN if unknown */
    uint64_t iters;       /* operations per timed run */
    unsigned reps;
    char baseline[40];    /* name of the row the ratio compares against ("" for none) */
    double ratio;         /* ns / baseline ns, or a throughput ratio (see ratio_kind), from medians */
    double ratio_best;    /* the same from the fastest runs */
    char ratio_kind[12];  /* "time" (ns / base ns) or "throughput" (base ns / ns) */
    enum bench_dir dir;
    double target;
    char note[112];       /* memory reads of the walk, hit rate, why it could not run */
    char unit[8];         /* of ns and best: "ns" per operation, or "KiB", "us" for absolute rows */
    unsigned ws;          /* working set in pages, for the sweep charts (0: not in a sweep) */
    bool failed;          /* the case could not be set up */
};

struct bench_report {
    struct bench_result *r;
    size_t n, cap;
};

/* Append a row; returns it (zeroed, ns = NaN) or NULL on ENOMEM. */
struct bench_result *bench_add(struct bench_report *rep, const char *group, const char *name);
/* The row called name, or NULL. */
const struct bench_result *bench_find(const struct bench_report *rep, const char *name);
/* Fill row r from a measurement. */
void bench_set_stat(struct bench_result *r, const struct bench_stat *st);
/* Compare r with the row base: ratio = r/base ("time") or base/r ("throughput"). */
void bench_compare(const struct bench_report *rep, struct bench_result *r, const char *base,
                   bool throughput, enum bench_dir dir, double target);
/* An absolute target: the row's own value (in its unit) against target. */
void bench_target(struct bench_result *r, enum bench_dir dir, double target);
/* A row saying a case could not be set up (the run then exits non-zero). */
void bench_setup_failed(struct bench_report *rep, const char *group, const char *name, const char *why);
/* Whether any row failed to set up. */
bool bench_any_failed(const struct bench_report *rep);
/* "met", "MISSED", "-" (no target) or "n/a" (not measured). */
const char *bench_verdict(const struct bench_result *r);
/* Write the report in the chosen format to stdout. */
void bench_print(const struct bench_report *rep, const struct bench_opts *o);
void bench_report_free(struct bench_report *rep);

/* ------------------------------------------------------------ plot.c */
/* SVG charts of the report into directory dir: cost against working set
   (hit, miss, baselines) and each case's ratio against its target. 0 or -errno. */
int bench_plot(const struct bench_report *rep, const char *dir);

/* ------------------------------------------------------------ baselines.c */
/* load, load-dep, chase(n), memcpy-4k. */
void bench_baselines(const struct bench_opts *o, struct bench_report *rep);
/* The IOTLB footprint the load and chase tables imitate: entries x bytes. */
#define BENCH_TLB_ENTRIES 4096u
#define BENCH_TLB_WAY_BYTES 32u
#define BENCH_HOT 1024u /* hot entries / pages of the hit and load figures */
/* Chain lengths chase(n) is measured for. */
#define BENCH_CHASE_MAX 24u
/* Working sets (hot pages) of the sweep: rows of BENCH_HOT pages carry the
   plain name, the others "name/Nk" (bench_sweep_name). */
#define BENCH_SWEEP {1024u, 4096u, 16384u, 65536u}
#define BENCH_BATCH 64u /* requests per siov_translate_batch call */
void bench_sweep_name(char *buf, size_t n, const char *base, unsigned pages);

/* ------------------------------------------------------------ baselines_lookup.c */
/* load, probe-inline and qemu-style at each working set of the sweep. */
void bench_lookup_baselines(const struct bench_opts *o, struct bench_report *rep);

/* ------------------------------------------------------------ qemu_style.c (GLib) */
struct bench_qs;
struct bench_qs *bench_qs_new(void);
void bench_qs_free(struct bench_qs *q);
/* Cache a 4 KiB translation iova -> pa of (sid, pasid). */
void bench_qs_insert(struct bench_qs *q, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t pa);
/* The cached translation of iova, if any. */
bool bench_qs_translate(struct bench_qs *q, uint16_t sid, uint32_t pasid, uint64_t iova, struct siov_xlate *out);

/* ------------------------------------------------------------ cases */
/* Translation cases: hit, miss with walks, DMA, invalidation, threads. */
void bench_cases(const struct bench_opts *o, struct bench_report *rep);
/* Scale cases: hits and batches over the sweep, misses over larger working
   sets, hits beside another ADI's unmaps, a unit's memory and creation,
   CPU time per hit in two threads. */
void bench_scale_cases(const struct bench_opts *o, struct bench_report *rep);
/* Invalidation cases: domain- and PASID-selective with a full IOTLB, 64 and 65,536 entries. */
void bench_inval_cases(const struct bench_opts *o, struct bench_report *rep);
/* ATS cases: ATC hits (also during other PASIDs' invalidations), misses to
   the IOTLB and to a walk, device-TLB invalidations at two ATC sizes. */
void bench_ats_cases(const struct bench_opts *o, struct bench_report *rep);
/* Reference-driver cases: map and unmap (rows marked n/a without the driver). */
void bench_driver_cases(const struct bench_opts *o, struct bench_report *rep);
/* Page-request cases: one fault-and-retry whole and step by step (not
   present, queue, service, map, response, retry), and page-request
   throughput with 1 and 2 producing threads. */
void bench_prq_cases(const struct bench_opts *o, struct bench_report *rep);
/* Whether a case named name is selected by the filter. */
bool bench_selected(const struct bench_opts *o, const char *name);

#endif

/* siov-bench: workloads the cases translate — one PASID of BT_SID bound to a
 * domain of a given format, and a set of mapped pages visited in random order. */
#ifndef SIOV_BENCH_WORKLOAD_H
#define SIOV_BENCH_WORKLOAD_H

#include "bench.h"
#include "target.h"

/* Guest memory of a case: tables below BENCH_POOL_END, data pages above. */
#define BENCH_MEM_SIZE (128ull << 20)
#define BENCH_POOL_END (64ull << 20)
#define BENCH_DATA_BASE BENCH_POOL_END

enum wl_kind { WL_SL, WL_FL, WL_NESTED };

struct wl_spec {
    enum wl_kind kind;
    unsigned levels;     /* SL or FL levels (nested: both) */
    uint64_t page_size;  /* 4 KiB, 2 MiB or 1 GiB */
    size_t pages;        /* mapped pages, a power of two */
    uint64_t window;     /* IOVA window the pages are drawn from (a multiple of pages * page_size) */
    bool backed;         /* outputs are distinct data pages of guest memory (4 KiB only) */
    uint16_t did;
    uint32_t pasid;
    uint64_t seed;
};

struct wl {
    struct bt *t;
    struct wl_spec spec;
    uint64_t *iova;      /* pages, in visiting order */
    uint64_t *pa;        /* the output address of each */
    size_t mask;         /* pages - 1 */
    uint64_t root;       /* the top table of the pages' tree (the first level's when nested) */
};

/* The memory reads a miss on this workload makes (context and PASID entries cached). */
unsigned wl_walk_reads(const struct wl_spec *s);
/* Build the workload's tables in t and its PASID entry; 0, or -ENOMEM. */
int wl_build(struct bt *t, const struct wl_spec *s, struct wl *w);
void wl_free(struct wl *w);
/* Translate every page once and check the output; 0, or the first fault
   (or -1 for a wrong address). */
int wl_verify(const struct wl *w);
/* Body: iters reads through siov_translate, pages in visiting order. */
double wl_body_translate(void *w, uint64_t iters);

/* A unit with cfg and one workload on it; false (and a failed row r) on failure. */
bool wl_setup(const struct siov_iommu_config *cfg, const struct wl_spec *s, struct wl *w, struct bench_result *r);
/* Free the workload and its unit. */
void wl_teardown(struct wl *w);
/* Measure wl_body_translate on w into r (after a warm-up), the hit rate in the note. */
void wl_measure_translate(const struct bench_opts *o, struct wl *w, struct bench_result *r, const char *what);

/* Stats deltas: the hit rate of the IOTLB over a window of translations. */
struct wl_counters {
    struct siov_stats s;
};
void wl_counters_start(const struct wl *w, struct wl_counters *c);
/* IOTLB hits / (hits + misses) since start, 0..1; NaN when nothing was looked up. */
double wl_hit_rate(const struct wl *w, const struct wl_counters *c);

#endif

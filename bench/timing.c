/* siov-bench: the clock, calibration, repetition and medians. */
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

#define CALIBRATE_MIN_ITERS 16u
#define CALIBRATE_MAX_ITERS (1ull << 32)

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_median(double *v, size_t n)
{
    if (!n)
        return NAN;
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void bench_shuffle_identity(uint32_t *v, size_t n, uint64_t seed)
{
    uint64_t s = seed | 1;
    for (size_t i = 0; i < n; i++)
        v[i] = (uint32_t)i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)(bench_rand(&s) % i);
        uint32_t tmp = v[i - 1];
        v[i - 1] = v[j];
        v[j] = tmp;
    }
}

void bench_measure_fixed(bench_body body, void *ctx, uint64_t iters, unsigned reps, struct bench_stat *out)
{
    double per_op[64];
    if (reps > 64)
        reps = 64;
    if (reps == 0)
        reps = 1;
    for (unsigned r = 0; r < reps; r++)
        per_op[r] = body(ctx, iters) / (double)iters;
    out->reps = reps;
    out->iters = iters;
    out->ns = bench_median(per_op, reps); /* sorts: min first, max last */
    out->min = per_op[0];
    out->max = per_op[reps - 1];
}

/* Operations that fill about run_ms: grow until a run is long enough to scale from. */
static uint64_t calibrate(bench_body body, void *ctx, double run_ms)
{
    double want = run_ms * 1e6;
    uint64_t iters = CALIBRATE_MIN_ITERS;
    for (;;) {
        double ns = body(ctx, iters);
        if (ns >= want / 8 || iters >= CALIBRATE_MAX_ITERS) {
            double scaled = iters * (want / (ns > 1 ? ns : 1));
            if (scaled < 1)
                scaled = 1;
            return scaled > CALIBRATE_MAX_ITERS ? CALIBRATE_MAX_ITERS : (uint64_t)scaled;
        }
        iters *= ns < want / 64 ? 8 : 2;
    }
}

void bench_measure(const struct bench_opts *o, bench_body body, void *ctx, struct bench_stat *out)
{
    uint64_t iters = calibrate(body, ctx, o->run_ms);
    double ns = body(ctx, iters); /* warm-up at full length, and a better estimate */
    double scaled = iters * (o->run_ms * 1e6 / (ns > 1 ? ns : 1));
    iters = scaled < 1 ? 1 : scaled > CALIBRATE_MAX_ITERS ? CALIBRATE_MAX_ITERS : (uint64_t)scaled;
    bench_measure_fixed(body, ctx, iters, o->reps, out);
}

/* siov-bench: microbenchmarks of libsiov against baselines measured in the
 * same run. Usage: siov-bench [--json|--csv] [--filter S] [--quick]
 * [--threads N] [--reps N] [--list]. See docs/performance.md. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define DEFAULT_REPS 9u
#define QUICK_REPS 3u
#define DEFAULT_RUN_MS 20.0
#define QUICK_RUN_MS 2.0

static const char usage[] =
    "usage: siov-bench [options]\n"
    "  --json          the figures as JSON\n"
    "  --csv           the figures as CSV\n"
    "  --filter S      only the cases whose name contains S (baselines always run)\n"
    "  --quick         short runs (a smoke test for CI, not a measurement)\n"
    "  --threads N     threads of the multi-threaded hit case (default 2)\n"
    "  --reps N        timed runs per figure, median reported (default 9, quick 3)\n"
    "  --help          this text\n";

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *end || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Options into o; -1 on a bad command line, 1 after --help. */
static int parse(int argc, char **argv, struct bench_opts *o)
{
    unsigned reps = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--json"))
            o->format = BENCH_JSON;
        else if (!strcmp(a, "--csv"))
            o->format = BENCH_CSV;
        else if (!strcmp(a, "--quick"))
            o->quick = true;
        else if (!strcmp(a, "--filter") && next)
            o->filter = argv[++i];
        else if (!strcmp(a, "--threads") && !parse_uint(next, 1, 64, &o->threads))
            i++;
        else if (!strcmp(a, "--reps") && !parse_uint(next, 1, 64, &reps))
            i++;
        else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        else
            return -1;
    }
    o->reps = reps ? reps : o->quick ? QUICK_REPS : DEFAULT_REPS;
    o->run_ms = o->quick ? QUICK_RUN_MS : DEFAULT_RUN_MS;
    return 0;
}

int main(int argc, char **argv)
{
    struct bench_opts o = {.format = BENCH_TABLE, .threads = 2};
    int rc = parse(argc, argv, &o);
    if (rc) {
        fputs(usage, rc < 0 ? stderr : stdout);
        return rc < 0 ? 2 : 0;
    }
    struct bench_report rep = {0};
    bench_baselines(&o, &rep);
    bench_cases(&o, &rep);
    bench_inval_cases(&o, &rep);
    bench_ats_cases(&o, &rep);
    bench_driver_cases(&o, &rep);
    bench_print(&rep, &o);
    bench_report_free(&rep);
    return 0;
}

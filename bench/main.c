/* siov-bench: microbenchmarks of libsiov against baselines measured in the
 * same run. Usage: siov-bench [--json|--csv] [--filter S] [--quick]
 * [--threads N] [--reps N] [--plot DIR]. See docs/performance.md. */
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
    "  --json          the figures as JSON, with the machine and build measured\n"
    "  --csv           the figures as CSV\n"
    "  --filter S      only the cases whose name contains S, or one of S's comma-separated parts\n"
    "                  (baselines always run)\n"
    "  --quick         short runs (a smoke test for CI, not a measurement)\n"
    "  --threads N     threads of the multi-threaded hit case (default 2)\n"
    "  --reps N        timed runs per figure, median reported (default 9, quick 3)\n"
    "  --plot DIR      also write SVG charts of the figures into DIR\n"
    "  --help          this text\n"
    "Exit status: 0, 1 when a case could not be set up, 2 on a usage error.\n";

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long v = s ? strtoul(s, &end, 10) : 0;
    if (!s || !*s || *end || v < lo || v > hi)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* A usage error naming the option at fault; -1. */
static int bad(const char *opt, const char *why)
{
    fprintf(stderr, "siov-bench: %s: %s\n", opt, why);
    return -1;
}

/* Options into o; -1 on a bad command line (said on stderr), 1 after --help. */
static int parse(int argc, char **argv, struct bench_opts *o)
{
    unsigned reps = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = !strcmp(a, "--filter") || !strcmp(a, "--threads") || !strcmp(a, "--reps") || !strcmp(a, "--plot");
        if (takes && !next)
            return bad(a, "needs a value");
        if (!strcmp(a, "--json"))
            o->format = BENCH_JSON;
        else if (!strcmp(a, "--csv"))
            o->format = BENCH_CSV;
        else if (!strcmp(a, "--quick"))
            o->quick = true;
        else if (!strcmp(a, "--filter"))
            o->filter = argv[++i];
        else if (!strcmp(a, "--plot"))
            o->plot = argv[++i];
        else if (!strcmp(a, "--threads") && parse_uint(argv[++i], 1, 64, &o->threads))
            return bad(a, "needs a number from 1 to 64");
        else if (!strcmp(a, "--reps") && parse_uint(argv[++i], 1, 64, &reps))
            return bad(a, "needs a number from 1 to 64");
        else if (!strcmp(a, "--help") || !strcmp(a, "-h"))
            return 1;
        else if (!takes)
            return bad(a, "unknown option");
    }
    o->reps = reps ? reps : o->quick ? QUICK_REPS : DEFAULT_REPS;
    o->run_ms = o->quick ? QUICK_RUN_MS : DEFAULT_RUN_MS;
    return 0;
}

/* Whether the filter selected at least one case (rows beside the baselines). */
static bool any_case(const struct bench_report *rep)
{
    for (size_t i = 0; i < rep->n; i++)
        if (strcmp(rep->r[i].group, "baseline"))
            return true;
    return false;
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
    bench_lookup_baselines(&o, &rep);
    bench_cases(&o, &rep);
    bench_scale_cases(&o, &rep);
    bench_inval_cases(&o, &rep);
    bench_ats_cases(&o, &rep);
    bench_driver_cases(&o, &rep);
    bench_prq_cases(&o, &rep);
    if (o.filter && !any_case(&rep))
        fprintf(stderr, "siov-bench: warning: --filter '%s' matches no case\n", o.filter);
    bench_print(&rep, &o);
    int status = bench_any_failed(&rep) ? 1 : 0;
    if (o.plot) {
        int err = bench_plot(&rep, o.plot);
        if (err) {
            fprintf(stderr, "siov-bench: --plot %s: %s\n", o.plot, strerror(-err));
            status = 1;
        }
    }
    if (status)
        fprintf(stderr, "siov-bench: a case could not be set up (see its note)\n");
    bench_report_free(&rep);
    return status;
}

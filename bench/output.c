/* siov-bench: the report rows, ratios to baselines, and the three output
 * formats (a table for people, JSON and CSV with the same figures). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct bench_result *bench_add(struct bench_report *rep, const char *group, const char *name)
{
    if (rep->n == rep->cap) {
        size_t cap = rep->cap ? 2 * rep->cap : 32;
        struct bench_result *r = realloc(rep->r, cap * sizeof(*r));
        if (!r)
            return NULL;
        rep->r = r;
        rep->cap = cap;
    }
    struct bench_result *r = &rep->r[rep->n++];
    memset(r, 0, sizeof(*r));
    snprintf(r->group, sizeof(r->group), "%s", group);
    snprintf(r->name, sizeof(r->name), "%s", name);
    snprintf(r->unit, sizeof(r->unit), "ns");
    r->ns = r->best = r->spread = r->ratio = r->ratio_best = NAN;
    return r;
}

void bench_target(struct bench_result *r, enum bench_dir dir, double target)
{
    snprintf(r->baseline, sizeof(r->baseline), "(%s)", r->unit);
    snprintf(r->ratio_kind, sizeof(r->ratio_kind), "absolute");
    r->dir = dir;
    r->target = target;
    r->ratio = r->ns;
    r->ratio_best = r->best;
}

void bench_setup_failed(struct bench_report *rep, const char *group, const char *name, const char *why)
{
    struct bench_result *r = bench_add(rep, group, name);
    if (!r)
        return;
    r->failed = true;
    snprintf(r->note, sizeof(r->note), "setup failed: %s", why);
}

bool bench_any_failed(const struct bench_report *rep)
{
    for (size_t i = 0; i < rep->n; i++)
        if (rep->r[i].failed || !strncmp(rep->r[i].note, "setup failed", 12))
            return true;
    return false;
}

const struct bench_result *bench_find(const struct bench_report *rep, const char *name)
{
    for (size_t i = 0; i < rep->n; i++)
        if (!strcmp(rep->r[i].name, name))
            return &rep->r[i];
    return NULL;
}

void bench_set_stat(struct bench_result *r, const struct bench_stat *st)
{
    r->ns = st->ns;
    r->best = st->min;
    r->spread = st->ns > 0 ? (st->max - st->min) / st->ns : NAN;
    r->iters = st->iters;
    r->reps = st->reps;
}

void bench_compare(const struct bench_report *rep, struct bench_result *r, const char *base, bool throughput,
                   enum bench_dir dir, double target)
{
    const struct bench_result *b = bench_find(rep, base);
    snprintf(r->baseline, sizeof(r->baseline), "%s", base);
    snprintf(r->ratio_kind, sizeof(r->ratio_kind), "%s", throughput ? "throughput" : "time");
    r->dir = dir;
    r->target = target;
    if (b && b->ns > 0 && r->ns > 0)
        r->ratio = throughput ? b->ns / r->ns : r->ns / b->ns;
    if (b && b->best > 0 && r->best > 0)
        r->ratio_best = throughput ? b->best / r->best : r->best / b->best;
}

const char *bench_verdict(const struct bench_result *r)
{
    if (isnan(r->ns) || (r->dir != BENCH_NONE && isnan(r->ratio)))
        return "n/a";
    if (r->dir == BENCH_AT_MOST)
        return r->ratio <= r->target ? "met" : "MISSED";
    if (r->dir == BENCH_AT_LEAST)
        return r->ratio >= r->target ? "met" : "MISSED";
    return "-";
}

static void target_text(const struct bench_result *r, char *buf, size_t n)
{
    if (r->dir == BENCH_AT_MOST)
        snprintf(buf, n, "<= %.2f", r->target);
    else if (r->dir == BENCH_AT_LEAST)
        snprintf(buf, n, ">= %.2f", r->target);
    else
        snprintf(buf, n, "-");
}

static void fmt_num(char *buf, size_t n, double v, const char *fmt)
{
    if (isnan(v))
        snprintf(buf, n, "-");
    else
        snprintf(buf, n, fmt, v);
}

/* A warning when other work competes for the CPUs: medians then mislead. */
static void print_load(void)
{
    double load;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (getloadavg(&load, 1) == 1 && cpus > 0 && load > 0.5 * (double)cpus)
        printf("note: load average %.1f on %ld CPUs: other work competes; prefer the 'best' figures\n", load,
               cpus);
}

static void print_row(const struct bench_result *r)
{
    char ns[16], best[16], spread[16], ratio[16], rbest[16], target[16];
    bool thr = !strcmp(r->ratio_kind, "throughput");
    bool abs = !strcmp(r->ratio_kind, "absolute");
    fmt_num(ns, sizeof(ns), r->ns, "%.2f");
    fmt_num(best, sizeof(best), r->best, "%.2f");
    if (abs) { /* the value is the figure; the table's columns are ns */
        snprintf(ns, sizeof(ns), "-");
        snprintf(best, sizeof(best), "-");
    }
    fmt_num(spread, sizeof(spread), 100 * r->spread, "%.0f%%");
    fmt_num(ratio, sizeof(ratio), r->ratio, thr ? "%.2fx" : "%.2f");
    fmt_num(rbest, sizeof(rbest), r->ratio_best, thr ? "%.2fx" : "%.2f");
    target_text(r, target, sizeof(target));
    printf("%-18s %10s %10s %6s  %-15s %7s %7s %-8s %-7s %s\n", r->name, isnan(r->ns) ? "n/a" : ns, best, spread,
           r->baseline, ratio, rbest, target, bench_verdict(r), r->note);
}

static void print_table(const struct bench_report *rep, const struct bench_opts *o)
{
    print_load();
    printf("%-18s %10s %10s %6s  %-15s %7s %7s %-8s %-7s %s\n", "case", "ns/op", "best", "spread", "baseline",
           "ratio", "r-best", "target", "status", "notes");
    const char *group = "";
    for (size_t i = 0; i < rep->n; i++) {
        if (strcmp(group, rep->r[i].group)) {
            group = rep->r[i].group;
            printf("-- %s\n", group);
        }
        print_row(&rep->r[i]);
    }
    printf("ns/op: median of %u runs; best: the fastest run; spread: (slowest - fastest) / median.\n"
           "ratio: ns/op over the baseline's (r-best: from the fastest runs); 'x': a throughput ratio,\n"
           "the baseline's ns/op over the case's. status judges the median ratio.%s\n",
           o->reps, o->quick ? "\n--quick: short runs, the figures are a smoke test only." : "");
}

/* The first "model name" of /proc/cpuinfo, or "?". */
static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "?");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    while (f && fgets(line, sizeof(line), f)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            snprintf(buf, n, "%s", colon + 2);
            buf[strcspn(buf, "\n")] = 0;
            break;
        }
    }
    if (f)
        fclose(f);
}

/* A JSON string of s (no control characters are ever produced here but quotes may be). */
static void json_str(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            putchar('\\');
        putchar(*s);
    }
    putchar('"');
}

static void json_num(double v)
{
    if (isnan(v))
        printf("null");
    else
        printf("%.4f", v);
}

/* The machine and build a run measured: CPU, cores, load, date, build type, compiler. */
static void print_json_meta(void)
{
    struct utsname u;
    if (uname(&u) != 0)
        snprintf(u.machine, sizeof(u.machine), "?");
    char cpu[128], date[32];
    cpu_model(cpu, sizeof(cpu));
    time_t now = time(NULL);
    struct tm tm;
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
    double load[3] = {NAN, NAN, NAN};
    if (getloadavg(load, 3) != 3)
        load[0] = load[1] = load[2] = NAN;
    printf("\"machine\": ");
    json_str(u.machine);
    printf(", \"cpu_model\": ");
    json_str(cpu);
    printf(", \"cores\": %ld, \"load_average\": [", sysconf(_SC_NPROCESSORS_ONLN));
    for (int i = 0; i < 3; i++) {
        json_num(load[i]);
        printf(i < 2 ? ", " : "]");
    }
    printf(", \"date\": ");
    json_str(date);
    printf(", \"build_type\": ");
    json_str(BENCH_BUILD_TYPE);
    printf(", \"compiler\": ");
    json_str(BENCH_COMPILER);
}

static void print_json(const struct bench_report *rep, const struct bench_opts *o)
{
    printf("{\"libsiov\": \"%s\", ", siov_version());
    print_json_meta();
    printf(", \"quick\": %s, \"reps\": %u, \"threads\": %u, \"results\": [\n", o->quick ? "true" : "false",
           o->reps, o->threads);
    for (size_t i = 0; i < rep->n; i++) {
        const struct bench_result *r = &rep->r[i];
        char target[16];
        target_text(r, target, sizeof(target));
        printf("  {\"group\": ");
        json_str(r->group);
        printf(", \"case\": ");
        json_str(r->name);
        printf(", \"ns_per_op\": ");
        json_num(r->ns);
        printf(", \"best_ns_per_op\": ");
        json_num(r->best);
        printf(", \"spread\": ");
        json_num(r->spread);
        printf(", \"iters\": %llu, \"reps\": %u, \"baseline\": ", (unsigned long long)r->iters, r->reps);
        json_str(r->baseline);
        printf(", \"ratio\": ");
        json_num(r->ratio);
        printf(", \"ratio_best\": ");
        json_num(r->ratio_best);
        printf(", \"ratio_kind\": ");
        json_str(r->ratio_kind);
        printf(", \"target\": ");
        json_str(target);
        printf(", \"status\": ");
        json_str(bench_verdict(r));
        printf(", \"unit\": ");
        json_str(r->unit);
        printf(", \"working_set\": %u, \"note\": ", r->ws);
        json_str(r->note);
        printf("}%s\n", i + 1 < rep->n ? "," : "");
    }
    printf("]}\n");
}

static void csv_num(double v)
{
    if (!isnan(v))
        printf("%.4f", v);
}

static void print_csv(const struct bench_report *rep)
{
    printf("group,case,ns_per_op,best_ns_per_op,spread,iters,reps,baseline,ratio,ratio_best,ratio_kind,target,"
           "status,unit,working_set,note\n");
    for (size_t i = 0; i < rep->n; i++) {
        const struct bench_result *r = &rep->r[i];
        char target[16];
        target_text(r, target, sizeof(target));
        printf("%s,%s,", r->group, r->name);
        csv_num(r->ns);
        putchar(',');
        csv_num(r->best);
        putchar(',');
        csv_num(r->spread);
        printf(",%llu,%u,%s,", (unsigned long long)r->iters, r->reps, r->baseline);
        csv_num(r->ratio);
        putchar(',');
        csv_num(r->ratio_best);
        printf(",%s,%s,%s,%s,%u,\"", r->ratio_kind, target, bench_verdict(r), r->unit, r->ws);
        for (const char *s = r->note; *s; s++) /* CSV: double the quotes */
            printf(*s == '"' ? "\"\"" : "%c", *s);
        printf("\"\n");
    }
}

void bench_print(const struct bench_report *rep, const struct bench_opts *o)
{
    if (o->format == BENCH_JSON)
        print_json(rep, o);
    else if (o->format == BENCH_CSV)
        print_csv(rep);
    else
        print_table(rep, o);
}

void bench_report_free(struct bench_report *rep)
{
    free(rep->r);
    rep->r = NULL;
    rep->n = rep->cap = 0;
}

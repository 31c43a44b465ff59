/* siov-sim replay TRACE [options] and siov-sim convert IN OUT: sweeps of
   the cache geometry over a trace, the tables of what the caches did, SVG
   hit-rate curves, and conversion between the text and binary forms
   (docs/tracing.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "replay.h"
#include "sim_tools.h"
#include "svg_plot.h"

#define MAX_POINTS 32
#define MAX_POLICIES 4
#define MAX_ADI_COLUMNS 6  /* ADIs shown in the sweep table (the plot shows up to MAX_ADI_LINES) */
#define MAX_ADI_LINES 11

struct policy {
    const char *name;
    unsigned ways;   /* 0: libsiov's own placement; else the hardware-like IOTLB */
    unsigned policy; /* SIOV_POLICY_* */
};
static const struct policy policies[] = {
    {"default", 0, 0},
    {"lru", 1, SIOV_POLICY_LRU},
    {"fifo", 1, SIOV_POLICY_FIFO},
    {"random", 1, SIOV_POLICY_RANDOM},
};
#define NPOLICIES (sizeof(policies) / sizeof(policies[0]))

struct replay_cli {
    const char *trace, *plot_dir;
    unsigned iotlb[MAX_POINTS], niotlb;
    unsigned atc[MAX_POINTS], natc;  /* ATC entries; none: no ATC */
    unsigned pol[MAX_POLICIES], npol;
    unsigned ways;   /* associativity of the hardware-like policies; 0: fully associative */
    uint64_t seed;
    bool check, quiet;
};

/* One point of the sweep and its result. */
struct point {
    unsigned policy, entries, atc; /* atc: the ATC's entries, 0 without */
    struct replay_result res;
};

/* What a chart or sweep table runs along: the IOTLB's entries, or (with
   several ATC sizes) the ATC's, the IOTLB at its first size. */
struct axis {
    bool atc;
    unsigned iotlb, first_atc;
};

static bool on_axis(const struct axis *ax, const struct point *pt)
{
    return ax->atc ? pt->entries == ax->iotlb : pt->atc == ax->first_atc;
}

static double total_rate(const struct axis *ax, const struct replay_result *r)
{
    return ax->atc ? replay_rate(r->atc_hits, r->atc_misses) : replay_rate(r->stats.iotlb_hits, r->stats.iotlb_misses);
}

static double adi_rate(const struct axis *ax, const struct replay_adi *a)
{
    return ax->atc ? replay_rate(a->atc_hits, a->atc_misses) : replay_rate(a->iotlb_hits, a->walks);
}

/* "16,32,64" or "16..4096" (powers of two between); 0 or -1. */
static int parse_sizes(const char *s, unsigned *out, unsigned *n, unsigned max)
{
    char *end;
    unsigned long a = strtoul(s, &end, 0);
    if (end != s && !strncmp(end, "..", 2)) {
        unsigned long b = strtoul(end + 2, &end, 0);
        if (*end || a == 0 || b < a || b > (1u << 24))
            return -1;
        for (*n = 0; a <= b && *n < max; a *= 2)
            out[(*n)++] = (unsigned)a;
        return 0;
    }
    for (*n = 0;;) {
        if (end == s || a > (1u << 24) || *n == max)
            return -1;
        out[(*n)++] = (unsigned)a;
        if (!*end)
            return 0;
        if (*end != ',')
            return -1;
        s = end + 1;
        a = strtoul(s, &end, 0);
    }
}

static int parse_policies(const char *s, struct replay_cli *c)
{
    char buf[128];
    snprintf(buf, sizeof(buf), "%s", s);
    c->npol = 0;
    char *save = NULL;
    for (char *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned i = 0;
        while (i < NPOLICIES && strcmp(policies[i].name, w))
            i++;
        if (i == NPOLICIES || c->npol == MAX_POLICIES)
            return fprintf(stderr, "siov-sim replay: unknown policy '%s'\n", w), -1;
        c->pol[c->npol++] = i;
    }
    return c->npol ? 0 : -1;
}

static int parse_cli(int argc, char **argv, struct replay_cli *c)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--iotlb") && next) {
            if (parse_sizes(next, c->iotlb, &c->niotlb, MAX_POINTS) < 0)
                return fprintf(stderr, "siov-sim replay: bad --iotlb '%s' (N,N,... or A..B)\n", next), -1;
            i++;
        } else if (!strcmp(a, "--atc") && next) {
            if (parse_sizes(next, c->atc, &c->natc, MAX_POINTS) < 0)
                return fprintf(stderr, "siov-sim replay: bad --atc '%s' (N,N,... or A..B)\n", next), -1;
            i++;
        } else if (!strcmp(a, "--policy") && next) {
            if (parse_policies(next, c) < 0)
                return -1;
            i++;
        } else if (!strcmp(a, "--ways") && next) {
            char *end;
            unsigned long w = strtoul(next, &end, 0);
            if (strcmp(next, "full") && (end == next || *end || w == 0 || w > (1u << 24)))
                return fprintf(stderr, "siov-sim replay: bad --ways '%s' (a number, or full)\n", next), -1;
            c->ways = strcmp(next, "full") ? (unsigned)w : 0;
            i++;
        } else if (!strcmp(a, "--seed") && next) {
            c->seed = strtoull(next, NULL, 0);
            i++;
        } else if (!strcmp(a, "--plot") && next) {
            c->plot_dir = argv[++i];
        } else if (!strcmp(a, "--check")) {
            c->check = true;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            c->quiet = true;
        } else if (a[0] != '-' && !c->trace) {
            c->trace = a;
        } else {
            return fprintf(stderr, "siov-sim replay: bad argument '%s'\n", a), -1;
        }
    }
    if (!c->trace)
        return fprintf(stderr, "siov-sim replay: which trace? (siov-sim replay TRACE [options])\n"), -1;
    return 0;
}

/* ----------------------------------------------------------------- tables */
static void adi_name(const struct replay_adi *a, char *buf, size_t len)
{
    if (a->pasid == SIOV_NO_PASID)
        snprintf(buf, len, "%02x:%02x.%x", SIOV_SID_BUS(a->sid), SIOV_SID_DEVFN(a->sid) >> 3, a->sid & 7);
    else
        snprintf(buf, len, "%02x:%02x.%x pasid %u", SIOV_SID_BUS(a->sid), SIOV_SID_DEVFN(a->sid) >> 3, a->sid & 7,
                 a->pasid);
}

/* A short name for a column: "02.0/1" (device.function/PASID). */
static void adi_short(const struct replay_adi *a, char *buf, size_t len)
{
    if (a->pasid == SIOV_NO_PASID)
        snprintf(buf, len, "%02x.%x", SIOV_SID_DEVFN(a->sid) >> 3, a->sid & 7);
    else
        snprintf(buf, len, "%02x.%x/%u", SIOV_SID_DEVFN(a->sid) >> 3, a->sid & 7, a->pasid);
}

static double pct(uint64_t hits, uint64_t misses)
{
    return 100.0 * replay_rate(hits, misses);
}

/* The per-ADI table of one point, then the unit's totals. */
static void print_point(const struct point *pt)
{
    const struct replay_result *r = &pt->res;
    printf("%-22s %12s %12s %12s %9s %9s", "ADI", "requests", "iotlb hits", "walks", "hit rate", "faults");
    if (pt->atc)
        printf(" %12s %9s", "atc hits", "atc rate");
    printf("\n");
    for (unsigned i = 0; i < r->nadi; i++) {
        const struct replay_adi *a = &r->adi[i];
        char name[48];
        adi_name(a, name, sizeof(name));
        printf("%-22s %12llu %12llu %12llu %8.2f%% %9llu", name, (unsigned long long)a->requests,
               (unsigned long long)a->iotlb_hits, (unsigned long long)a->walks, pct(a->iotlb_hits, a->walks),
               (unsigned long long)a->faults);
        if (pt->atc)
            printf(" %12llu %8.2f%%", (unsigned long long)a->atc_hits, pct(a->atc_hits, a->atc_misses));
        printf("\n");
    }
    const struct siov_stats *s = &r->stats;
    printf("%-22s %12llu %12llu %12llu %8.2f%% %9llu", "total", (unsigned long long)r->requests,
           (unsigned long long)s->iotlb_hits, (unsigned long long)s->walks, pct(s->iotlb_hits, s->iotlb_misses),
           (unsigned long long)s->faults);
    if (pt->atc)
        printf(" %12llu %8.2f%%", (unsigned long long)r->atc_hits, pct(r->atc_hits, r->atc_misses));
    printf("\ncaches: IOTLB %.2f%% of %llu lookups, context cache %.2f%% of %llu, PASID cache %.2f%% of %llu; "
           "%llu evictions, %llu invalidations\n",
           pct(s->iotlb_hits, s->iotlb_misses), (unsigned long long)(s->iotlb_hits + s->iotlb_misses),
           pct(s->context_cache_hits, s->context_cache_misses),
           (unsigned long long)(s->context_cache_hits + s->context_cache_misses),
           pct(s->pasid_cache_hits, s->pasid_cache_misses),
           (unsigned long long)(s->pasid_cache_hits + s->pasid_cache_misses), (unsigned long long)s->iotlb_evictions,
           (unsigned long long)s->invalidations);
}

static void print_sweep(const struct axis *ax, const struct point *pts, unsigned n)
{
    const struct replay_result *r0 = &pts[0].res;
    unsigned nadi = r0->nadi < MAX_ADI_COLUMNS ? r0->nadi : MAX_ADI_COLUMNS;
    printf("\n%s hit rate by entries (columns: the IOTLB's and the ATC's totals, then each ADI's %s rate as "
           "dev.fn/PASID)\n%-10s %8s %8s %12s %9s %9s", ax->atc ? "ATC" : "IOTLB", ax->atc ? "ATC" : "IOTLB",
           "policy", "iotlb", "atc", "walks", "iotlb", "atc");
    for (unsigned i = 0; i < nadi; i++) {
        char name[48];
        adi_short(&r0->adi[i], name, sizeof(name));
        printf(" %10.10s", name);
    }
    printf("\n");
    for (unsigned k = 0; k < n; k++) {
        const struct replay_result *r = &pts[k].res;
        printf("%-10s %8u %8u %12llu %8.2f%%", policies[pts[k].policy].name, pts[k].entries, pts[k].atc,
               (unsigned long long)r->stats.walks, pct(r->stats.iotlb_hits, r->stats.iotlb_misses));
        if (pts[k].atc)
            printf(" %8.2f%%", pct(r->atc_hits, r->atc_misses));
        else
            printf(" %9s", "-");
        for (unsigned i = 0; i < nadi && i < r->nadi; i++)
            printf(" %9.2f%%", 100.0 * adi_rate(ax, &r->adi[i]));
        printf("\n");
    }
    if (r0->nadi > nadi)
        printf("(%u more ADIs: see the per-ADI table)\n", r0->nadi - nadi);
}

/* ------------------------------------------------------------------ plots */
struct curves {
    double x[MAX_POINTS], y[MAX_ADI_LINES + 1][MAX_POINTS];
    struct plot_series s[MAX_ADI_LINES + 1];
    char names[MAX_ADI_LINES + 1][48];
};

/* Hit rate along the axis, one line per ADI and the total, for policy pol. */
static int plot_by_adi(const char *dir, const struct axis *ax, const struct point *pts, unsigned n, unsigned pol,
                       struct curves *c)
{
    unsigned np = 0, nadi = pts[0].res.nadi < MAX_ADI_LINES ? pts[0].res.nadi : MAX_ADI_LINES;
    for (unsigned k = 0; k < n && np < MAX_POINTS; k++) {
        if (pts[k].policy != pol || !on_axis(ax, &pts[k]))
            continue;
        const struct replay_result *r = &pts[k].res;
        c->x[np] = ax->atc ? pts[k].atc : pts[k].entries;
        c->y[0][np] = total_rate(ax, r);
        for (unsigned i = 0; i < nadi; i++)
            c->y[i + 1][np] = i < r->nadi ? adi_rate(ax, &r->adi[i]) : 0;
        np++;
    }
    snprintf(c->names[0], sizeof(c->names[0]), "total");
    for (unsigned i = 0; i < nadi; i++)
        adi_name(&pts[0].res.adi[i], c->names[i + 1], sizeof(c->names[i + 1]));
    for (unsigned i = 0; i <= nadi; i++)
        c->s[i] = (struct plot_series){c->names[i], c->x, c->y[i], np};
    char title[96], path[4096];
    snprintf(title, sizeof(title), "%s hit rate by ADI (%s)", ax->atc ? "ATC" : "IOTLB", policies[pol].name);
    struct plot p = {title, ax->atc ? "ATC entries" : "IOTLB entries", "hit rate", true, 0, 1, true, c->s, nadi + 1};
    snprintf(path, sizeof(path), "%s/%s-adi.svg", dir, ax->atc ? "atc" : "iotlb");
    return plot_svg_file(path, &p);
}

/* Total hit rate along the axis, one line per policy. */
static int plot_by_policy(const char *dir, const struct axis *ax, const struct point *pts, unsigned n,
                          const struct replay_cli *c, struct curves *cv)
{
    for (unsigned j = 0; j < c->npol; j++) {
        unsigned np = 0;
        for (unsigned k = 0; k < n && np < MAX_POINTS; k++)
            if (pts[k].policy == c->pol[j] && on_axis(ax, &pts[k])) {
                cv->x[np] = ax->atc ? pts[k].atc : pts[k].entries; /* the same for every policy */
                cv->y[j][np++] = total_rate(ax, &pts[k].res);
            }
        cv->s[j] = (struct plot_series){policies[c->pol[j]].name, cv->x, cv->y[j], np};
    }
    char path[4096], title[80];
    snprintf(title, sizeof(title), "%s hit rate by replacement policy", ax->atc ? "ATC" : "IOTLB");
    struct plot p = {title, ax->atc ? "ATC entries" : "IOTLB entries", "hit rate", true, 0, 1, true, cv->s, c->npol};
    snprintf(path, sizeof(path), "%s/%s-policy.svg", dir, ax->atc ? "atc" : "iotlb");
    return plot_svg_file(path, &p);
}

static int write_plots(const struct replay_cli *c, const struct point *pts, unsigned n)
{
    struct curves *cv = calloc(1, sizeof(*cv));
    if (!cv)
        return -ENOMEM;
    if (mkdir(c->plot_dir, 0777) < 0 && errno != EEXIST) {
        free(cv);
        return -errno;
    }
    struct axis ax = {c->natc > 1, c->iotlb[0], c->natc ? c->atc[0] : 0};
    int rc = plot_by_adi(c->plot_dir, &ax, pts, n, c->pol[0], cv);
    if (!rc && c->npol > 1)
        rc = plot_by_policy(c->plot_dir, &ax, pts, n, c, cv);
    free(cv);
    return rc;
}

/* ------------------------------------------------------------------- main */
/* The ways of a cache of entries under policy pl (0: libsiov's own). */
static unsigned ways_for(const struct replay_cli *c, const struct policy *pl, unsigned entries)
{
    return !pl->ways ? 0 : c->ways && c->ways < entries ? c->ways : entries;
}

/* Replay one point of the sweep into pt. */
static int run_point(const struct replay_cli *c, struct replay_opts *o, struct point *pt)
{
    const struct policy *pl = &policies[pt->policy];
    o->cfg.iotlb_entries = pt->entries;
    o->cfg.iotlb_ways = ways_for(c, pl, pt->entries);
    o->cfg.iotlb_policy = pl->policy;
    o->cfg.iotlb_seed = c->seed;
    o->atc = (struct siov_atc_config){pt->atc, ways_for(c, pl, pt->atc), pl->policy, c->seed};
    if ((o->cfg.iotlb_ways && pt->entries % o->cfg.iotlb_ways) || (o->atc.ways && pt->atc % o->atc.ways)) {
        fprintf(stderr, "siov-sim replay: %u IOTLB or %u ATC entries are not a multiple of %u ways\n", pt->entries,
                pt->atc, c->ways);
        return -1;
    }
    if (replay_run(c->trace, o, &pt->res) < 0) {
        fprintf(stderr, "siov-sim replay: %s: %s\n", c->trace, pt->res.err);
        return -1;
    }
    return 0;
}

static int run_points(const struct replay_cli *c, struct point *pts, unsigned *n)
{
    struct replay_opts o = {.check = c->check};
    siov_iommu_config_default(&o.cfg);
    unsigned natc = c->natc ? c->natc : 1;
    *n = 0;
    for (unsigned j = 0; j < c->npol; j++)
        for (unsigned k = 0; k < c->niotlb; k++)
            for (unsigned m = 0; m < natc; m++) {
                struct point *pt = &pts[(*n)++];
                *pt = (struct point){c->pol[j], c->iotlb[k], c->natc ? c->atc[m] : 0, {0}};
                if (run_point(c, &o, pt) < 0)
                    return -1;
            }
    return 0;
}

static void print_summary(const struct replay_cli *c, const struct point *pts, unsigned n)
{
    const struct replay_result *r = &pts[0].res;
    double secs = 0;
    uint64_t reqs = 0;
    for (unsigned k = 0; k < n; k++)
        secs += pts[k].res.seconds, reqs += pts[k].res.requests;
    printf("replay %s: %llu records: %llu requests, %llu markers, %llu invalidations recorded (%llu replayed)\n",
           c->trace, (unsigned long long)r->records, (unsigned long long)r->requests,
           (unsigned long long)r->markers, (unsigned long long)r->inval_recorded,
           (unsigned long long)r->inval_replayed);
    printf("\n%s, %u IOTLB entries%s", policies[pts[0].policy].name, pts[0].entries,
           !policies[pts[0].policy].ways ? " (libsiov's own placement)"
           : c->ways && c->ways < pts[0].entries ? ", set-associative" : ", fully associative");
    if (pts[0].atc)
        printf(", an ATC of %u entries per device", pts[0].atc);
    printf("\n");
    print_point(&pts[0]);
    struct axis ax = {c->natc > 1, c->iotlb[0], c->natc ? c->atc[0] : 0};
    if (n > 1)
        print_sweep(&ax, pts, n);
    if (c->check)
        printf("\ncheck: %llu answers compared, %llu differ%s\n", (unsigned long long)r->checked,
               (unsigned long long)r->mismatches, r->mismatches ? " (first at record" : "");
    if (c->check && r->mismatches)
        printf("  %llu)\n", (unsigned long long)r->first_mismatch);
    printf("\nspeed: %llu requests in %.3f s: %.0f requests/s\n", (unsigned long long)reqs, secs,
           secs > 0 ? (double)reqs / secs : 0.0);
}

int sim_replay_main(int argc, char **argv)
{
    struct replay_cli c = {.niotlb = 1, .npol = 1, .seed = 1};
    c.iotlb[0] = 4096;
    if (parse_cli(argc, argv, &c) < 0)
        return 2;
    struct point *pts = calloc((size_t)MAX_POINTS * MAX_POINTS * MAX_POLICIES, sizeof(*pts));
    if (!pts)
        return 2;
    unsigned n = 0;
    int rc = run_points(&c, pts, &n) < 0 ? 2 : 0;
    if (rc == 0 && !c.quiet)
        print_summary(&c, pts, n);
    if (rc == 0 && c.plot_dir) {
        int prc = write_plots(&c, pts, n);
        if (prc < 0)
            fprintf(stderr, "siov-sim replay: writing plots to %s: %s\n", c.plot_dir, strerror(-prc)), rc = 2;
    }
    if (rc == 0 && c.check && pts[0].res.mismatches)
        rc = 1;
    for (unsigned k = 0; k < n; k++)
        replay_result_free(&pts[k].res);
    free(pts);
    return rc;
}

/* ---------------------------------------------------------------- convert */
/* siov-sim convert IN OUT [--text|--binary]: the other form unless told. */
int sim_convert_main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    int form = -1; /* 0 text, 1 binary, -1 the other one */
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--text") || !strcmp(argv[i], "--binary"))
            form = argv[i][2] == 'b';
        else if (argv[i][0] != '-' && !in)
            in = argv[i];
        else if (argv[i][0] != '-' && !out)
            out = argv[i];
        else
            return fprintf(stderr, "siov-sim convert: bad argument '%s'\n", argv[i]), 2;
    }
    if (!in || !out)
        return fprintf(stderr, "siov-sim convert: usage: siov-sim convert IN OUT [--text|--binary]\n"), 2;
    struct siov_trace *r = siov_trace_open(in, "r");
    if (!r)
        return fprintf(stderr, "siov-sim convert: cannot read %s: %s\n", in, strerror(errno)), 2;
    bool binary = form < 0 ? !siov_trace_is_binary(r) : form == 1;
    struct siov_trace *w = siov_trace_open(out, binary ? "wb" : "w");
    if (!w) {
        fprintf(stderr, "siov-sim convert: cannot write %s: %s\n", out, strerror(errno));
        siov_trace_close(r);
        return 2;
    }
    struct siov_trace_rec rec;
    int rc, wrc = 0;
    while ((rc = siov_trace_read(r, &rec)) == 1 && (wrc = siov_trace_write(w, &rec)) == 0)
        ;
    if (rc < 0)
        fprintf(stderr, "siov-sim convert: %s: %s\n", in, siov_trace_error(r));
    uint64_t n = siov_trace_count(w);
    siov_trace_close(r);
    int crc = siov_trace_close(w);
    if (!wrc)
        wrc = crc;
    if (wrc < 0)
        fprintf(stderr, "siov-sim convert: writing %s: %s\n", out, strerror(-wrc));
    if (rc < 0 || wrc < 0)
        return 2;
    printf("%s -> %s: %llu records, %s\n", in, out, (unsigned long long)n, binary ? "binary" : "text");
    return 0;
}

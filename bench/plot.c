/* siov-bench --plot DIR: two SVG charts written in plain C.
 *  sweep.svg   cost per operation against the working set (hot pages), log
 *              scales: every row with a working set, one line per case or
 *              baseline (its name up to the '/').
 *  ratios.svg  each case with a target: how far its ratio is from the target,
 *              as "cost over what the target allows" (1 or less: met). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bench.h"

#define W 760.0
#define H 460.0
#define ML 70.0  /* margins: left, right, top, bottom */
#define MR 190.0
#define MT 40.0
#define MB 50.0
#define SERIES_MAX 16

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                     "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};

static void svg_open(FILE *f, double w, double h, const char *title)
{
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", w, h);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"%.0f\" y=\"22\" font-size=\"15\" text-anchor=\"middle\">%s</text>\n", w / 2, title);
}

/* The series name of a row: its name up to '/'. */
static void base_of(const char *name, char *buf, size_t n)
{
    snprintf(buf, n, "%s", name);
    buf[strcspn(buf, "/")] = 0;
}

struct range {
    double lo, hi; /* log10 of the axis ends */
};

static double map(double v, struct range r, double from, double to)
{
    return from + (log10(v) - r.lo) / (r.hi - r.lo) * (to - from);
}

static void sweep_axes(FILE *f, struct range x, struct range y)
{
    fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.0f\" height=\"%.0f\" fill=\"none\" stroke=\"black\"/>\n", ML,
            MT, W - ML - MR, H - MT - MB);
    for (double e = ceil(y.lo); e <= y.hi; e++)
        for (int m = 1; m <= 5; m += 4) {
            double v = m * pow(10, e), py = map(v, y, H - MB, MT);
            if (log10(v) > y.hi)
                continue;
            fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>", ML, W - MR, py, py);
            fprintf(f, "<text x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", ML - 6, py + 4, v);
        }
    for (double v = 1024; log10(v) <= x.hi + 1e-9; v *= 4) {
        double px = map(v, x, ML, W - MR);
        fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"#ddd\"/>", px, px, MT, H - MB);
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">%gK</text>\n", px, H - MB + 16, v / 1024);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">working set (hot pages)</text>\n",
            (ML + W - MR) / 2, H - 12);
    fprintf(f, "<text x=\"16\" y=\"%.0f\" transform=\"rotate(-90 16 %.0f)\" text-anchor=\"middle\">"
               "ns per operation (median)</text>\n", (MT + H - MB) / 2, (MT + H - MB) / 2);
}

/* One series of the sweep chart: its line (points in working-set order), its
   markers and its legend entry (the k-th). */
static void draw_series(FILE *f, const struct bench_report *rep, const char *name, unsigned k, struct range x,
                        struct range y)
{
    const char *c = colors[k % (sizeof(colors) / sizeof(colors[0]))];
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
    for (unsigned ws = 0, prev = 0;; prev = ws) { /* the series' points by working set, smallest first */
        const struct bench_result *next = NULL;
        for (size_t i = 0; i < rep->n; i++) {
            const struct bench_result *r = &rep->r[i];
            char b[40];
            base_of(r->name, b, sizeof(b));
            if (r->ws > prev && r->ns > 0 && !strcmp(b, name) && (!next || r->ws < next->ws))
                next = r;
        }
        if (!next)
            break;
        ws = next->ws;
        fprintf(f, "%.1f,%.1f ", map(ws, x, ML, W - MR), map(next->ns, y, H - MB, MT));
    }
    fprintf(f, "\"/>\n");
    for (size_t i = 0; i < rep->n; i++) {
        const struct bench_result *r = &rep->r[i];
        char b[40];
        base_of(r->name, b, sizeof(b));
        if (r->ws && r->ns > 0 && !strcmp(b, name))
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", map(r->ws, x, ML, W - MR),
                    map(r->ns, y, H - MB, MT), c);
    }
    double ly = MT + 10 + 18 * k;
    fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"%s\" stroke-width=\"2\"/>",
            W - MR + 12, W - MR + 34, ly, ly, c);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%s</text>\n", W - MR + 40, ly + 4, name);
}

static int plot_sweep(const struct bench_report *rep, FILE *f)
{
    char names[SERIES_MAX][40];
    unsigned nseries = 0;
    struct range x = {log10(1024), log10(1024)}, y = {INFINITY, -INFINITY};
    for (size_t i = 0; i < rep->n; i++) {
        const struct bench_result *r = &rep->r[i];
        if (!r->ws || !(r->ns > 0))
            continue;
        char b[40];
        base_of(r->name, b, sizeof(b));
        unsigned k = 0;
        while (k < nseries && strcmp(names[k], b))
            k++;
        if (k == nseries && nseries < SERIES_MAX)
            snprintf(names[nseries++], sizeof(names[0]), "%s", b);
        x.hi = fmax(x.hi, log10(r->ws));
        y.lo = fmin(y.lo, log10(r->ns));
        y.hi = fmax(y.hi, log10(r->ns));
    }
    svg_open(f, W, H, "Cost against working set: hits, misses and their baselines");
    if (!nseries) {
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">no row with a working set was measured</text>\n</svg>\n", ML, H / 2);
        return 0;
    }
    y.lo = floor(y.lo);
    y.hi = ceil(y.hi);
    if (x.hi <= x.lo)
        x.hi = x.lo + 1;
    sweep_axes(f, x, y);
    for (unsigned k = 0; k < nseries; k++)
        draw_series(f, rep, names[k], k, x, y);
    fprintf(f, "</svg>\n");
    return 0;
}

/* A row's distance from its target: the cost over what the target allows. */
static double over_target(const struct bench_result *r)
{
    if (r->dir == BENCH_AT_MOST)
        return r->ratio / r->target;
    return r->target / r->ratio;
}

static int plot_ratios(const struct bench_report *rep, FILE *f)
{
    size_t n = 0;
    double hi = 1;
    for (size_t i = 0; i < rep->n; i++)
        if (rep->r[i].dir != BENCH_NONE && rep->r[i].ratio > 0) {
            n++;
            hi = fmax(hi, over_target(&rep->r[i]));
        }
    double row = 22, h = MT + 30 + row * (double)(n ? n : 1) + 40, left = 190, right = W - 170;
    hi = ceil(hi * 2) / 2;
    svg_open(f, W, h, "Each case against its target (1 or less: met)");
    double x1 = left + (right - left) / hi;
    fprintf(f, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.0f\" y2=\"%.0f\" stroke=\"black\" stroke-dasharray=\"4 3\"/>\n",
            x1, x1, MT, h - 30);
    fprintf(f, "<text x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">target</text>\n", x1, h - 14);
    double y = MT + 10;
    for (size_t i = 0; i < rep->n; i++) {
        const struct bench_result *r = &rep->r[i];
        if (r->dir == BENCH_NONE || !(r->ratio > 0))
            continue;
        double v = over_target(r), w = (right - left) * v / hi;
        bool met = v <= 1;
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%s</text>", left - 6, y + 14, r->name);
        fprintf(f, "<rect x=\"%.0f\" y=\"%.0f\" width=\"%.1f\" height=\"%.0f\" fill=\"%s\"/>", left, y + 3, w,
                row - 6, met ? "#2ca02c" : "#d62728");
        bool thr = !strcmp(r->ratio_kind, "throughput");
        bool abs = !strcmp(r->ratio_kind, "absolute");
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\">%.2f%s %s %s %.2f%s%s</text>\n", left + w + 6, y + 14, r->ratio,
                thr ? "x" : abs ? r->unit : "", abs ? "" : "vs", r->dir == BENCH_AT_MOST ? "&lt;=" : "&gt;=",
                r->target, abs ? r->unit : " x ", abs ? "" : r->baseline);
        y += row;
    }
    fprintf(f, "</svg>\n");
    return 0;
}

static int write_chart(const char *dir, const char *file, int (*draw)(const struct bench_report *, FILE *),
                       const struct bench_report *rep)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    int rc = draw(rep, f);
    if (fclose(f) != 0 && !rc)
        rc = -errno;
    return rc;
}

int bench_plot(const struct bench_report *rep, const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return -errno;
    int rc = write_chart(dir, "sweep.svg", plot_sweep, rep);
    return rc ? rc : write_chart(dir, "ratios.svg", plot_ratios, rep);
}

/* siov-sim: line charts as SVG 1.1 — axes, ticks, a polyline and markers
   per series, a legend. Every text is escaped for XML. */
#include <errno.h>
#include <math.h>
#include <string.h>

#include "svg_plot.h"

#define W 720
#define H 420
#define LEFT 70
#define RIGHT 190 /* room for the legend */
#define TOP 40
#define BOTTOM 60
#define PW (W - LEFT - RIGHT)
#define PH (H - TOP - BOTTOM)
#define MAX_XTICKS 24

static const char *const colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
                                     "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#000000", "#aec7e8"};
#define NCOLORS (sizeof(colors) / sizeof(colors[0]))

static void text_esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        default:
            if ((unsigned char)*s >= 0x20 || *s == '\t')
                fputc(*s, f);
        }
    }
}

struct span {
    double lo, hi;
};

static double xv(const struct plot *p, double x)
{
    return p->logx ? log2(x > 0 ? x : 1) : x;
}

static struct span x_span(const struct plot *p)
{
    struct span s = {INFINITY, -INFINITY};
    for (unsigned i = 0; i < p->nseries; i++)
        for (unsigned j = 0; j < p->series[i].n; j++) {
            double v = xv(p, p->series[i].x[j]);
            s.lo = v < s.lo ? v : s.lo;
            s.hi = v > s.hi ? v : s.hi;
        }
    if (s.hi <= s.lo)
        s.hi = s.lo + 1;
    return s;
}

static double px(const struct plot *p, struct span s, double x)
{
    return LEFT + (xv(p, x) - s.lo) / (s.hi - s.lo) * PW;
}

static double py(const struct plot *p, double y)
{
    double r = p->ymax > p->ymin ? (y - p->ymin) / (p->ymax - p->ymin) : 0;
    r = r < 0 ? 0 : r > 1 ? 1 : r;
    return TOP + PH - r * PH;
}

/* "16", "4K", "1M" for a cache size. */
static void size_label(double v, char *buf, size_t len)
{
    unsigned long long n = (unsigned long long)llround(v);
    if (n >= (1ull << 20) && n % (1ull << 20) == 0)
        snprintf(buf, len, "%lluM", n >> 20);
    else if (n >= 1024 && n % 1024 == 0)
        snprintf(buf, len, "%lluK", n >> 10);
    else
        snprintf(buf, len, "%g", v);
}

static void axes(FILE *f, const struct plot *p, struct span s)
{
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n", LEFT, TOP,
            PW, PH);
    for (int i = 0; i <= 5; i++) { /* y: six ticks */
        double y = p->ymin + (p->ymax - p->ymin) * i / 5.0;
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", LEFT, py(p, y),
                LEFT + PW, py(p, y));
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%g%s</text>\n", LEFT - 6, py(p, y) + 4,
                p->percent ? y * 100 : y, p->percent ? "%" : "");
    }
    double seen[MAX_XTICKS];
    unsigned nseen = 0;
    for (unsigned i = 0; i < p->nseries; i++) /* x: a tick at each distinct x of the data */
        for (unsigned j = 0; j < p->series[i].n && nseen < MAX_XTICKS; j++) {
            double x = p->series[i].x[j];
            bool dup = false;
            for (unsigned k = 0; k < nseen; k++)
                dup |= seen[k] == x;
            if (dup)
                continue;
            seen[nseen++] = x;
            char lab[24];
            size_label(x, lab, sizeof(lab));
            fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>\n", px(p, s, x),
                    TOP + PH, px(p, s, x), TOP + PH + 5);
            fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px(p, s, x), TOP + PH + 18,
                    lab);
        }
}

static void labels(FILE *f, const struct plot *p)
{
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\" font-size=\"15\">", LEFT + PW / 2, TOP - 15);
    text_esc(f, p->title);
    fprintf(f, "</text>\n<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", LEFT + PW / 2, H - 15);
    text_esc(f, p->xlabel);
    fprintf(f, "</text>\n<text x=\"18\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 18 %d)\">",
            TOP + PH / 2, TOP + PH / 2);
    text_esc(f, p->ylabel);
    fputs("</text>\n", f);
}

static void series(FILE *f, const struct plot *p, struct span s, unsigned i)
{
    const struct plot_series *ser = &p->series[i];
    const char *c = colors[i % NCOLORS];
    fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", c);
    for (unsigned j = 0; j < ser->n; j++)
        fprintf(f, "%s%.1f,%.1f", j ? " " : "", px(p, s, ser->x[j]), py(p, ser->y[j]));
    fputs("\"/>\n", f);
    for (unsigned j = 0; j < ser->n; j++)
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", px(p, s, ser->x[j]),
                py(p, ser->y[j]), c);
    int ly = TOP + 10 + 20 * (int)i;
    fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"/>\n", LEFT + PW + 15,
            ly, LEFT + PW + 35, ly, c);
    fprintf(f, "<text x=\"%d\" y=\"%d\">", LEFT + PW + 40, ly + 4);
    text_esc(f, ser->name);
    fputs("</text>\n", f);
}

int plot_svg(FILE *f, const struct plot *p)
{
    if (!p->nseries)
        return -1;
    struct span s = x_span(p);
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n"
               "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>\n",
            W, H, W, H, W, H);
    axes(f, p, s);
    labels(f, p);
    for (unsigned i = 0; i < p->nseries; i++)
        series(f, p, s, i);
    fputs("</svg>\n", f);
    return 0;
}

int plot_svg_file(const char *path, const struct plot *p)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -errno;
    int rc = plot_svg(f, p);
    if (fclose(f) && !rc)
        return -errno;
    return rc < 0 ? -EINVAL : 0;
}

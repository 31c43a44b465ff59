/* siov-sim: line charts as SVG, written in plain C (no dependency). */
#ifndef SIOV_SVG_PLOT_H
#define SIOV_SVG_PLOT_H

#include <stdbool.h>
#include <stdio.h>

struct plot_series {
    const char *name;       /* legend text */
    const double *x, *y;    /* n points, x ascending */
    unsigned n;
};

struct plot {
    const char *title, *xlabel, *ylabel;
    bool logx;              /* x on a log2 scale (cache sizes) */
    double ymin, ymax;      /* the y axis range */
    bool percent;           /* y values are fractions shown as percent */
    const struct plot_series *series;
    unsigned nseries;
};

/* The chart as an SVG document on f; 0, or -1 when it has nothing to draw. */
int plot_svg(FILE *f, const struct plot *p);
/* The same into a file; 0, or a negative errno. */
int plot_svg_file(const char *path, const struct plot *p);

#endif

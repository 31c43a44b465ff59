/* siov-sim: run a scenario of the libsiov scenario language
   (docs/siov-sim.md) from a file or standard input, or, with no scenario,
   a built-in demo (SIOV, or SVA with --demo sva). Exit status: 0 passed, 1 an expectation failed,
   2 a malformed line or a failed command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "sim_tools.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: siov-sim [options] [SCENARIO | -]\n"
               "       siov-sim replay TRACE [--iotlb LIST] [--atc LIST] [--policy LIST] [--ways N] [--plot DIR] [--check]\n"
               "       siov-sim tracegen ring|random|stream OUT [key=value...] [--binary]\n"
               "       siov-sim convert IN OUT [--text|--binary]\n"
               "Runs a libsiov scenario (docs/siov-sim.md); with no scenario, the built-in SIOV demo.\n"
               "replay, tracegen and convert work on DMA traces (docs/tracing.md).\n"
               "  --demo NAME            with no scenario, run the demo NAME: siov (the default) or sva\n"
               "                         (ADIs touch unmapped pages, mapped on demand through page requests)\n"
               "  -q, --quiet            print only failures\n"
               "  -v, --verbose          also echo the lines that print nothing, and the interrupts\n"
               "  --expect-error TEXT    succeed only if the run fails with a message containing TEXT\n"
               "  --expect-output TEXT   the output must contain TEXT as a line (may be repeated)\n"
               "  --print-demo           print the demo's scenario (a starting point for your own)\n"
               "  --commands             list the scenario commands\n"
               "  -h, --help             this text\n"
               "  --version              the library version\n"
               "Output is a scenario too: each action in the scenario language, its result in a\n"
               "'# -> ...' comment, everything else as comments.\n"
               "Exit status: 0 the scenario passed; 1 an expect failed; 2 a malformed line or a\n"
               "failed command (the run stops there), or bad options.\n"
               "replay (exit status 1 when --check finds a differing answer, 2 on an error):\n"
               "  --iotlb LIST           IOTLB entries to sweep: N,N,... or A..B (powers of two; default 4096)\n"
               "  --atc LIST             give each device an ATC of these entries, swept like --iotlb\n"
               "  --policy LIST          caches to sweep: default (libsiov's own), lru, fifo, random\n"
               "  --ways N               ways per set of lru/fifo/random (default full: fully associative)\n"
               "  --seed N               the random policy's seed (default 1)\n"
               "  --plot DIR             write SVG hit-rate curves into DIR\n"
               "  --check                compare every answer with the one the trace recorded\n"
               "convert:\n"
               "  --text, --binary       the form to write (default: the other one)\n"
               "tracegen:\n"
               "  --binary               write the binary form\n");
}

#define MAX_EXPECT_OUTPUT 64
struct options {
    bool quiet, verbose, print_demo, commands;
    const char *demo; /* --demo NAME */
    const char *expect_error;
    const char *expect_output[MAX_EXPECT_OUTPUT];
    unsigned n_expect_output;
    const char *file;
};

/* 0 to go on, 1 to exit successfully (help, version), 2 on a usage error. */
static int parse_options(int argc, char **argv, struct options *o)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-q") || !strcmp(a, "--quiet"))
            o->quiet = true;
        else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
            o->verbose = true;
        else if (!strcmp(a, "--print-demo"))
            o->print_demo = true;
        else if (!strcmp(a, "--commands"))
            o->commands = true;
        else if (!strcmp(a, "--demo") && i + 1 < argc)
            o->demo = argv[++i];
        else if (!strcmp(a, "--expect-error") && i + 1 < argc)
            o->expect_error = argv[++i];
        else if (!strcmp(a, "--expect-output") && i + 1 < argc && o->n_expect_output < MAX_EXPECT_OUTPUT)
            o->expect_output[o->n_expect_output++] = argv[++i];
        else if (!strcmp(a, "-h") || !strcmp(a, "--help"))
            return usage(stdout), 1;
        else if (!strcmp(a, "--version"))
            return printf("siov-sim (libsiov %s)\n", siov_version()), 1;
        else if ((a[0] != '-' || !strcmp(a, "-")) && !o->file)
            o->file = a;
        else
            return fprintf(stderr, "siov-sim: bad argument '%s'\n", a), usage(stderr), 2;
    }
    return 0;
}

/* Run the scenario the options name; the run's exit status. */
static int run(struct sim *s, const struct options *o)
{
    if (!o->file)
        return sim_run_text(s, sim_demo_text(o->demo), o->demo ? o->demo : "demo");
    if (!strcmp(o->file, "-"))
        return sim_run_stream(s, stdin, "<stdin>");
    FILE *f = fopen(o->file, "r");
    if (!f) {
        fprintf(stderr, "siov-sim: cannot open %s: %s\n", o->file, strerror(errno));
        return 2;
    }
    int rc = sim_run_stream(s, f, o->file);
    fclose(f);
    return rc;
}

/* --expect-error: the run must fail, with TEXT in its first failure. */
static int check_expected_error(const struct sim *s, int rc, const char *text)
{
    if (rc != 0 && strstr(s->first_fail, text)) {
        printf("siov-sim: failed as expected: %s\n", s->first_fail);
        return 0;
    }
    fprintf(stderr, "siov-sim: expected a failure containing \"%s\", but the run %s%s%s\n", text,
            rc ? "failed with \"" : "passed", rc ? s->first_fail : "", rc ? "\"" : "");
    return 1;
}

/* Whether the line [b, e) of the output, blanks around it and a leading
   comment '#' ignored, is want. */
static bool line_is(const char *b, const char *e, const char *want)
{
    size_t n = strlen(want);
    while (b < e && (*b == ' ' || *b == '\t'))
        b++;
    if (b < e && *b == '#' && want[0] != '#')
        for (b++; b < e && (*b == ' ' || *b == '\t'); b++)
            ;
    while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return (size_t)(e - b) == n && memcmp(b, want, n) == 0;
}

/* --expect-output: every TEXT must be a whole line of the output (blanks
   around it, and the '#' of a comment line, ignored). Prints the output
   through; 0 or 1. */
static int check_output(const char *text, const struct options *o)
{
    int rc = 0;
    fputs(text, stdout);
    for (unsigned i = 0; i < o->n_expect_output; i++) {
        const char *want = o->expect_output[i];
        bool found = false;
        for (const char *b = text; !found && *b;) {
            const char *e = b + strcspn(b, "\n");
            found = line_is(b, e, want);
            b = *e ? e + 1 : e;
        }
        if (!found) {
            fprintf(stderr, "siov-sim: the output has no line \"%s\"\n", want);
            rc = 1;
        }
    }
    return rc;
}

/* Run with the output captured for --expect-output; *out_rc: 0 if every
   line was there, else 1. Returns the run's status. */
static int run_captured(struct sim *s, const struct options *o, int *out_rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return 2;
    s->out = mem;
    int rc = run(s, o);
    fclose(mem);
    s->out = stdout;
    *out_rc = check_output(buf ? buf : "", o);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "replay"))
        return sim_replay_main(argc - 2, argv + 2);
    if (argc > 1 && !strcmp(argv[1], "tracegen"))
        return sim_tracegen_main(argc - 2, argv + 2);
    if (argc > 1 && !strcmp(argv[1], "convert"))
        return sim_convert_main(argc - 2, argv + 2);
    struct options o = {0};
    int rc = parse_options(argc, argv, &o), out_rc = 0;
    if (rc)
        return rc == 1 ? 0 : 2;
    if (o.demo && !sim_demo_text(o.demo))
        return fprintf(stderr, "siov-sim: no demo '%s' (siov, sva)\n", o.demo), 2;
    if (o.demo && o.file)
        return fprintf(stderr, "siov-sim: --demo runs instead of a scenario: give one or the other\n"), 2;
    if (o.print_demo)
        return fputs(sim_demo_text(o.demo), stdout) < 0;
    struct sim *s = malloc(sizeof(*s));
    if (!s)
        return 2;
    sim_init(s, stdout, stderr);
    s->verbose = o.verbose;
    s->quiet = o.quiet;
    if (o.commands)
        sim_help(s, NULL);
    else if (o.n_expect_output)
        rc = run_captured(s, &o, &out_rc);
    else
        rc = run(s, &o);
    if (o.expect_error)
        rc = check_expected_error(s, rc, o.expect_error);
    sim_fini(s);
    free(s);
    return rc ? rc : out_rc; /* a missing line fails even a run that failed as expected */
}

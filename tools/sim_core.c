/* siov-sim: the run of a scenario — lines, errors, and the memory, unit and
   driver, each created when a line first needs it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim.h"

void sim_init(struct sim *s, FILE *out, FILE *errout)
{
    memset(s, 0, sizeof(*s));
    s->out = out;
    s->errout = errout;
    s->file = "<stdin>";
    s->mem_size = SIM_DEFAULT_MEM;
    siov_iommu_config_default(&s->cfg);
}

void sim_fini(struct sim *s)
{
    uint64_t n;
    (void)sim_trace_stop(s, &n); /* a run that ends while tracing still writes its trace */
    sim_ats_fini(s);
    siov_driver_free(s->drv); /* frees the domains it still owns */
    for (unsigned i = 0; i < s->nnames; i++)
        free(s->names[i].dom);
    siov_iommu_free(s->iommu);
    siov_mem_free(s->mem);
    if (s->cb_ram)
        munmap(s->cb_ram, (size_t)s->mem_size);
    memset(s, 0, sizeof(*s));
}

int sim_error(struct sim *s, const char *fmt, ...)
{
    char msg[SIM_ERR_LEN - 24];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(s->err, sizeof(s->err), "line %u: %s", s->lineno, msg);
    return -1;
}

void sim_fail(struct sim *s, const char *fmt, ...)
{
    char msg[SIM_ERR_LEN - 24], line[SIM_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(line, sizeof(line), "line %u: %s", s->lineno, msg);
    fprintf(s->errout, "%s: %s\n", s->file, line);
    if (!s->first_fail[0])
        memcpy(s->first_fail, line, sizeof(line));
}

void sim_print(struct sim *s, const char *fmt, ...)
{
    if (s->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(s->out, fmt, ap);
    va_end(ap);
}

void sim_act(struct sim *s, const char *action, const char *result, ...)
{
    if (s->quiet)
        return;
    s->acted = true;
    fputs(action, s->out);
    if (result) {
        va_list ap;
        va_start(ap, result);
        fputs("   # -> ", s->out);
        vfprintf(s->out, result, ap);
        va_end(ap);
    }
    fputc('\n', s->out);
}

void sim_note(struct sim *s, const char *fmt, ...)
{
    if (s->quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", s->out);
    vfprintf(s->out, fmt, ap);
    fputc('\n', s->out);
    va_end(ap);
}

void sim_warn(struct sim *s, const char *fmt, ...)
{
    char msg[SIM_ERR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fflush(s->out); /* the warning follows the line it is about */
    fprintf(s->errout, "%s: line %u: warning: %s\n", s->file, s->lineno, msg);
}

/* ------------------------------------------------------------- objects */
/* The callback backend: RAM the simulator owns, bounds-checked. */
static int cb_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct sim *s = opaque;
    if (gpa > s->mem_size || len > s->mem_size - gpa)
        return -EFAULT;
    memcpy(dst, s->cb_ram + gpa, len);
    return 0;
}

static int cb_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct sim *s = opaque;
    if (gpa > s->mem_size || len > s->mem_size - gpa)
        return -EFAULT;
    memcpy(s->cb_ram + gpa, src, len);
    return 0;
}

struct siov_mem *sim_mem(struct sim *s)
{
    static const struct siov_mem_ops ops = {.read = cb_read, .write = cb_write};
    if (s->mem)
        return s->mem;
    if (s->mem_callback) {
        /* zero pages on first touch, as the flat backend: a large memory costs what is used */
        void *p = s->mem_size <= SIZE_MAX ? mmap(NULL, (size_t)s->mem_size, PROT_READ | PROT_WRITE,
                                                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                                          : MAP_FAILED;
        s->cb_ram = p == MAP_FAILED ? NULL : p;
        s->mem = s->cb_ram ? siov_mem_new(&ops, s) : NULL;
    } else {
        s->mem = siov_mem_new_flat(s->mem_size);
    }
    if (!s->mem)
        sim_error(s, "cannot allocate %llu bytes of guest memory", (unsigned long long)s->mem_size);
    return s->mem;
}

/* Message-signalled interrupts of the unit: counted ('stats msi'), shown with -v. */
static void sim_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct sim *s = opaque;
    s->msi_count++;
    if (s->verbose)
        sim_note(s, "  msi addr=0x%llx data=0x%x", (unsigned long long)addr, data);
}

struct siov_iommu *sim_iommu(struct sim *s)
{
    if (s->iommu)
        return s->iommu;
    if (!sim_mem(s))
        return NULL;
    s->cfg.msi = sim_msi;
    s->cfg.msi_opaque = s;
    s->cfg.stale_report = sim_stale_report; /* only with config stale_check=on */
    s->cfg.stale_opaque = s;
    s->iommu = siov_iommu_new(s->mem, &s->cfg);
    if (!s->iommu) {
        char why[128];
        if (siov_iommu_config_check(&s->cfg, why, sizeof(why)) == 0)
            snprintf(why, sizeof(why), "out of memory");
        sim_error(s, "the unit could not be created: %s (see the 'config' lines)", why);
        return NULL;
    }
    s->iommu_line = s->lineno;
    sim_trace_attach_unit(s);
    return s->iommu;
}

struct siov_driver *sim_driver(struct sim *s)
{
    if (!s->drv)
        sim_error(s, "no driver yet: create one with 'driver' first");
    return s->drv;
}

/* ----------------------------------------------------------------- runs */
/* Report an error of the current line and remember it as the run's first failure. */
static void report_error(struct sim *s)
{
    fprintf(s->errout, "%s: %s\n", s->file, s->err);
    if (!s->first_fail[0])
        memcpy(s->first_fail, s->err, sizeof(s->err));
}

static int run_status(struct sim *s)
{
    if (s->expects_failed) {
        fprintf(s->errout, "%s: FAILED: %u of %u expectations failed\n", s->file, s->expects_failed,
                s->expects_failed + s->expects_passed);
        return 1;
    }
    if (s->verbose)
        fprintf(s->out, "# %s: passed (%u expectations)\n", s->file, s->expects_passed);
    return 0;
}

int sim_run_stream(struct sim *s, FILE *in, const char *name)
{
    char *line = NULL;
    size_t cap = 0;
    unsigned lineno = 0;
    s->file = name;
    while (getline(&line, &cap, in) >= 0) {
        if (sim_run_line(s, line, ++lineno) < 0) {
            report_error(s);
            free(line);
            return 2;
        }
    }
    free(line);
    return run_status(s);
}

int sim_run_text(struct sim *s, const char *text, const char *name)
{
    unsigned lineno = 0;
    s->file = name;
    while (*text) {
        size_t n = strcspn(text, "\n");
        char *line = strndup(text, n);
        if (!line)
            return 2;
        int rc = sim_run_line(s, line, ++lineno);
        free(line);
        if (rc < 0) {
            report_error(s);
            return 2;
        }
        text += n + (text[n] == '\n');
    }
    return run_status(s);
}

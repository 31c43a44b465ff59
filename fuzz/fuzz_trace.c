/* Fuzz harness: the trace readers. The input is a trace file, text or
 * binary (told apart by its first bytes, as siov_trace_open does). Every
 * record read must survive both forms: formatted and parsed back, and
 * written in the binary form and read back, it must come out the same.
 * A malformed input must end in an error with a position, never a crash. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siov/siov.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct siov_trace_rec *a, const struct siov_trace_rec *b)
{
    return a->seq == b->seq && a->time == b->time && a->kind == b->kind && a->sid == b->sid &&
           a->pasid == b->pasid && a->addr == b->addr && a->len == b->len && a->access == b->access &&
           a->domain == b->domain && a->parent == b->parent && a->dom_type == b->dom_type && a->pa == b->pa &&
           a->inv_type == b->inv_type && a->inv_gran == b->inv_gran && a->did == b->did && a->am == b->am &&
           a->has_result == b->has_result && a->fault == b->fault && a->xlate.addr == b->xlate.addr &&
           a->xlate.page_size == b->xlate.page_size && a->xlate.perm == b->xlate.perm && a->xlate.did == b->xlate.did;
}

/* rec through the text form: formatted, parsed back. */
static void text_round(const struct siov_trace_rec *rec)
{
    char line[600], err[200];
    struct siov_trace_rec back;
    siov_trace_format(rec, line, sizeof(line));
    if (siov_trace_parse(line, &back, err, sizeof(err)) < 0 || !same(rec, &back)) {
        fprintf(stderr, "text round trip: '%s': %s\n", line, err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FILE *in = size ? fmemopen((void *)(uintptr_t)data, size, "rb") : NULL;
    if (!in)
        return 0;
    struct siov_trace *t = siov_trace_open_stream(in, "r");
    char *bin = NULL;
    size_t binlen = 0;
    FILE *out = open_memstream(&bin, &binlen);
    struct siov_trace *w = t && out ? siov_trace_open_stream(out, "wb") : NULL;
    struct siov_trace_rec recs[64], r;
    unsigned n = 0;
    int rc;
    while (t && w && (rc = siov_trace_read(t, &r)) == 1) {
        text_round(&r);
        if (siov_trace_write(w, &r) < 0)
            abort(); /* what a reader accepts, a writer writes */
        if (n < 64)
            recs[n++] = r;
    }
    if (t && w && rc < 0 && !strstr(siov_trace_error(t), "line ") && !strstr(siov_trace_error(t), "record "))
        abort(); /* an error names its position */
    siov_trace_close(w);
    if (out)
        fclose(out);
    FILE *again = bin && binlen ? fmemopen(bin, binlen, "rb") : NULL;
    struct siov_trace *b = again ? siov_trace_open_stream(again, "r") : NULL;
    for (unsigned i = 0; b && i < n; i++)
        if (siov_trace_read(b, &r) != 1 || !same(&r, &recs[i]))
            abort(); /* the binary form gives back what was written */
    siov_trace_close(b);
    if (again)
        fclose(again);
    free(bin);
    siov_trace_close(t);
    fclose(in);
    return 0;
}

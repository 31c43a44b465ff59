/* Fuzz harness: siov-sim's scenario language. Any text runs through the
 * interpreter (sim_run_text, as siov-sim runs a file) with its output
 * discarded: it must not crash, leak or hang. Inputs are cut at the first NUL
 * and at MAX_TEXT bytes so one input stays quick. */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define MAX_TEXT 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *null;
    if (!null && !(null = fopen("/dev/null", "w")))
        abort();
    if (size > MAX_TEXT)
        size = MAX_TEXT;
    char *text = malloc(size + 1);
    struct sim *s = malloc(sizeof(*s));
    if (!text || !s)
        abort();
    memcpy(text, data, size);
    text[size] = '\0';
    sim_init(s, null, null);
    sim_run_text(s, text, "fuzz");
    sim_fini(s);
    free(s);
    free(text);
    return 0;
}

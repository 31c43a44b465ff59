/* siov-sim: 'trace start FILE [text|binary]' and 'trace stop' — record the
   unit's requests and invalidations through its trace hook, and the driver
   commands of the scenario as markers, so that 'siov-sim replay' can build
   the same tables (docs/tracing.md). */
#include <errno.h>
#include <string.h>

#include "sim.h"

void sim_trace_marker(struct sim *s, const struct siov_trace_rec *rec)
{
    if (s->trace && siov_trace_record(s->trace, rec) < 0 && !s->trace_err)
        s->trace_err = -EIO; /* reported by 'trace stop' */
}

void sim_trace_attach_unit(struct sim *s)
{
    if (s->iommu)
        siov_iommu_set_trace(s->iommu, s->trace ? siov_trace_hook : NULL, s->trace);
}

static int trace_start(struct sim *s, const struct sim_args *a)
{
    if (s->trace)
        return sim_error(s, "a trace is already being recorded (trace stop first)");
    if (!a->v[1].set)
        return sim_error(s, "trace start needs a file name: trace start FILE [text|binary]");
    bool binary = false;
    if (a->v[2].set) {
        if (!sim_tok_is(a->v[2].tok, "text") && !sim_tok_is(a->v[2].tok, "binary"))
            return sim_error(s, "trace form '%s' is not text or binary", a->v[2].tok->text);
        binary = sim_tok_is(a->v[2].tok, "binary");
    }
    s->trace = siov_trace_open(a->v[1].tok->text, binary ? "wb" : "w");
    if (!s->trace)
        return sim_error(s, "cannot write trace %s: %s", a->v[1].tok->text, strerror(errno));
    s->trace_err = 0;
    sim_trace_attach_unit(s);
    char action[300];
    snprintf(action, sizeof(action), "trace start %s %s", a->v[1].tok->text, binary ? "binary" : "text");
    sim_act(s, action, "OK");
    return 0;
}

/* Stop recording; 0, or the first write error as a negative errno. */
int sim_trace_stop(struct sim *s, uint64_t *records)
{
    if (!s->trace)
        return 0;
    if (s->iommu)
        siov_iommu_set_trace(s->iommu, NULL, NULL);
    *records = siov_trace_count(s->trace);
    int rc = siov_trace_close(s->trace);
    s->trace = NULL;
    return rc ? rc : s->trace_err;
}

int sim_cmd_trace(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    if (sim_tok_is(a->v[0].tok, "start"))
        return trace_start(s, a);
    if (!sim_tok_is(a->v[0].tok, "stop"))
        return sim_error(s, "trace takes start FILE [text|binary] or stop, not '%s'", a->v[0].tok->text);
    if (a->v[1].set)
        return sim_error(s, "trace stop takes no argument");
    if (!s->trace)
        return sim_error(s, "no trace is being recorded");
    uint64_t n = 0;
    int rc = sim_trace_stop(s, &n);
    if (rc < 0)
        return sim_error(s, "writing the trace failed: %s", strerror(-rc));
    r->kind = RES_NUM;
    r->num = n;
    sim_act(s, "trace stop", "%llu records", (unsigned long long)n);
    return 0;
}

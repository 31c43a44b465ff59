/* siov-bench: invalidation cases — a domain-selective IOTLB invalidation and a
 * PASID-selective PASID-based-IOTLB invalidation, each submitted through the
 * queue with an inv-wait and timed until its status is written, with an IOTLB
 * of 64 and of 65,536 entries that the workload has just filled. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "workload.h"

#define INV_SMALL 64u
#define INV_LARGE 65536u
#define INV_PROBE 64u  /* pages translated after the last invalidation, to see it worked */

struct inv_ctx {
    struct wl w;           /* the translations that fill the IOTLB */
    struct bt_dsc dsc;
    unsigned ndsc;         /* 0: an inv-wait alone */
    bool fill;
    uint64_t evictions;    /* during the last fill */
    int rc;                /* last bt_invalidate result */
};

static void fill(struct inv_ctx *c)
{
    struct siov_stats a, b;
    siov_iommu_stats(c->w.t->iommu, &a);
    wl_body_translate(&c->w, c->w.spec.pages);
    siov_iommu_stats(c->w.t->iommu, &b);
    c->evictions = b.iotlb_evictions - a.iotlb_evictions;
}

/* Body: per operation, fill the IOTLB and run the queue once with an inv-wait
   alone (untimed: the fill evicts the queue's code and data from the host's
   caches, whatever the IOTLB's size), then one timed invalidation. */
static double body_inv(void *p, uint64_t iters)
{
    struct inv_ctx *c = p;
    double ns = 0;
    for (uint64_t i = 0; i < iters; i++) {
        if (c->fill) {
            fill(c);
            (void)bt_invalidate(c->w.t, NULL, 0);
        }
        uint64_t t0 = bench_now_ns();
        c->rc = bt_invalidate(c->w.t, &c->dsc, c->ndsc);
        ns += (double)(bench_now_ns() - t0);
    }
    return ns;
}

/* One unit with an IOTLB of entries and a domain of 2 * INV_LARGE pages to
   fill it: every size sees the same walks, so the same memory traffic before
   the timed invalidation, and only the IOTLB's size differs. */
static struct bt *inv_unit(unsigned entries, bool fl, struct inv_ctx *c, struct bench_result *r)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = entries;
    size_t pages = 2 * (size_t)INV_LARGE; /* the same fill for every size: equal cache pollution */
    struct wl_spec s = {fl ? WL_FL : WL_SL, 4, SIOV_PAGE_SIZE, pages, 2 * pages * SIOV_PAGE_SIZE, false,
                        fl ? 2 : 1, fl ? 2 : 1, 0x1217 + entries};
    struct bt *t = bt_new(&cfg, BENCH_MEM_SIZE, BENCH_POOL_END);
    const char *why = !t ? "no unit" : !t->iq_ok ? "the queue did not complete an inv-wait" : NULL;
    if (!why && wl_build(t, &s, &c->w) < 0)
        why = "out of table pages";
    if (!why && wl_verify(&c->w))
        why = "translations wrong";
    if (why) {
        snprintf(r->note, sizeof(r->note), "setup failed: %s", why);
        wl_free(&c->w);
        bt_free(t);
        return NULL;
    }
    c->dsc = fl ? bt_dsc_piotlb_pasid(2, 2) : bt_dsc_iotlb_domain(1);
    c->ndsc = 1;
    c->fill = true;
    return t;
}

/* Hit rate of INV_PROBE filled pages right after an invalidation (0 when it worked). */
static double probe_after(struct inv_ctx *c)
{
    struct wl_counters k;
    wl_body_translate(&c->w, INV_PROBE); /* in the IOTLB now */
    c->rc = bt_invalidate(c->w.t, &c->dsc, c->ndsc);
    wl_counters_start(&c->w, &k);
    wl_body_translate(&c->w, INV_PROBE);
    return wl_hit_rate(&c->w, &k);
}

static void case_inv(const struct bench_opts *o, struct bench_report *rep, unsigned entries, bool fl)
{
    char name[40], base[40];
    const char *kind = fl ? "inv-pasid" : "inv-domain";
    snprintf(name, sizeof(name), "%s(%u)", kind, entries);
    if (!bench_selected(o, name))
        return;
    struct bench_result *r = bench_add(rep, "invalidate", name);
    struct inv_ctx c = {0};
    struct bt *t = r ? inv_unit(entries, fl, &c, r) : NULL;
    if (!t)
        return;
    struct bench_stat st;
    unsigned reps = o->reps * 7 < 9 ? 9 : o->reps * 7; /* one cold invalidation a run: many runs */
    bench_measure_fixed(body_inv, &c, 1, reps, &st);
    double after = probe_after(&c);
    if (c.rc == 0)
        bench_set_stat(r, &st);
    snprintf(r->note, sizeof(r->note), "%s; filled by %zu pages (%llu evictions); hit rate after: %.0f%%",
             fl ? "PIOTLB PASID-selective + wait" : "IOTLB domain-selective + wait", c.w.spec.pages,
             (unsigned long long)c.evictions, 100 * after);
    wl_free(&c.w);
    bt_free(t);
    if (entries == INV_SMALL) {
        bench_compare(rep, r, "inv-wait", false, BENCH_NONE, 0);
    } else {
        snprintf(base, sizeof(base), "%s(%u)", kind, INV_SMALL);
        bench_compare(rep, r, base, false, BENCH_AT_MOST, 1.25);
    }
}

/* The queue round trip alone: an inv-wait with status write. */
static void case_wait(const struct bench_opts *o, struct bench_report *rep)
{
    static const char *const users[] = {"inv-wait", "inv-domain(64)", "inv-pasid(64)"};
    bool wanted = false;
    for (size_t i = 0; i < sizeof(users) / sizeof(users[0]); i++)
        wanted |= bench_selected(o, users[i]);
    if (!wanted)
        return;
    struct bench_result *r = bench_add(rep, "invalidate", "inv-wait");
    struct bt *t = r ? bt_new(NULL, BENCH_MEM_SIZE, BENCH_POOL_END) : NULL;
    if (!t)
        return;
    struct inv_ctx c = {.w.t = t};
    if (t->iq_ok) {
        struct bench_stat st;
        bench_measure(o, body_inv, &c, &st);
        bench_set_stat(r, &st);
        snprintf(r->note, sizeof(r->note), "inv-wait with status write alone: the queue's round trip");
    } else {
        snprintf(r->note, sizeof(r->note), "the queue did not complete an inv-wait");
    }
    bt_free(t);
}

void bench_inval_cases(const struct bench_opts *o, struct bench_report *rep)
{
    case_wait(o, rep);
    case_inv(o, rep, INV_SMALL, false);
    case_inv(o, rep, INV_SMALL, true);
    case_inv(o, rep, INV_LARGE, false);
    case_inv(o, rep, INV_LARGE, true);
}

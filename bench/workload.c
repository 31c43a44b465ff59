/* siov-bench: building and visiting the workloads of workload.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define WL_IOVA_BASE (1ull << 30)   /* windows start at 1 GiB */
#define WL_FAR_PA (1ull << 40)      /* unbacked outputs of large pages: beyond memory, below HAW */

unsigned wl_walk_reads(const struct wl_spec *s)
{
    unsigned leaf = s->page_size == (1ull << 30) ? 3 : s->page_size == (2ull << 20) ? 2 : 1;
    unsigned fl_reads = s->levels - leaf + 1;
    if (s->kind != WL_NESTED)
        return fl_reads;
    /* each first-level table and the final output go through a full second-level walk */
    return fl_reads + (fl_reads + 1) * s->levels;
}

/* Draw s->pages distinct page numbers of the window, in random order. */
static int draw_pages(const struct wl_spec *s, struct wl *w)
{
    size_t slots = (size_t)(s->window / s->page_size);
    uint32_t *perm = malloc(slots * sizeof(*perm));
    if (!perm)
        return -ENOMEM;
    bench_shuffle_identity(perm, slots, s->seed);
    for (size_t i = 0; i < s->pages; i++) {
        w->iova[i] = WL_IOVA_BASE + (uint64_t)perm[i] * s->page_size;
        if (s->backed)
            w->pa[i] = BENCH_DATA_BASE + (uint64_t)i * SIOV_PAGE_SIZE;
        else if (s->page_size == SIOV_PAGE_SIZE)
            w->pa[i] = BENCH_DATA_BASE + (uint64_t)(perm[i] % 8192) * SIOV_PAGE_SIZE;
        else
            w->pa[i] = WL_FAR_PA + (uint64_t)i * s->page_size;
    }
    free(perm);
    return 0;
}

/* Nested: second-level tables mapping guest memory 1:1 with 4 KiB pages. */
static uint64_t identity_sl(struct bt *t, unsigned levels)
{
    struct bt_tree tree = {bt_page(t), levels, false, BT_SL_RW, BT_SL_RW | SIOV_SL_X};
    for (uint64_t gpa = 0; tree.root && gpa < t->mem_size; gpa += SIOV_PAGE_SIZE)
        if (!bt_map(t, &tree, gpa, gpa, SIOV_PAGE_SIZE))
            return 0;
    return tree.root;
}

static int map_pages(struct bt *t, const struct wl_spec *s, const struct wl *w, uint64_t root)
{
    bool fl = s->kind != WL_SL;
    struct bt_tree tree = {root, s->levels, fl, fl ? BT_FL_LEAF : BT_SL_RW, fl ? BT_FL_TABLE : BT_SL_RW | SIOV_SL_X};
    for (size_t i = 0; i < s->pages; i++)
        if (!bt_map(t, &tree, w->iova[i], w->pa[i], s->page_size))
            return -ENOMEM;
    return 0;
}

int wl_build(struct bt *t, const struct wl_spec *s, struct wl *w)
{
    memset(w, 0, sizeof(*w));
    w->t = t;
    w->spec = *s;
    w->mask = s->pages - 1;
    w->iova = calloc(s->pages, sizeof(*w->iova));
    w->pa = calloc(s->pages, sizeof(*w->pa));
    uint64_t root = bt_page(t);
    w->root = root;
    if (!w->iova || !w->pa || !root || draw_pages(s, w) < 0 || map_pages(t, s, w, root) < 0)
        return -ENOMEM;
    uint64_t pe[8];
    if (s->kind == WL_SL) {
        bt_pe_sl(pe, s->did, root, s->levels);
    } else if (s->kind == WL_FL) {
        bt_pe_fl(pe, s->did, root, s->levels);
    } else {
        uint64_t sl = identity_sl(t, s->levels);
        if (!sl)
            return -ENOMEM;
        bt_pe_nested(pe, s->did, root, s->levels, sl, s->levels);
    }
    bt_pasid_entry(t, s->pasid, pe);
    return 0;
}

void wl_free(struct wl *w)
{
    free(w->iova);
    free(w->pa);
    w->iova = w->pa = NULL;
}

int wl_verify(const struct wl *w)
{
    for (size_t i = 0; i < w->spec.pages; i++) {
        struct siov_xlate x;
        siov_fault f = siov_translate(w->t->iommu, BT_SID, w->spec.pasid, w->iova[i] + 8, SIOV_ACCESS_READ, &x);
        if (f)
            return (int)f;
        if (x.addr != w->pa[i] + 8 || x.page_size != w->spec.page_size)
            return -1;
    }
    return 0;
}

double wl_body_translate(void *p, uint64_t iters)
{
    const struct wl *w = p;
    struct siov_iommu *u = w->t->iommu;
    uint32_t pasid = w->spec.pasid;
    uint64_t sum = 0;
    struct siov_xlate x;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        siov_fault f = siov_translate(u, BT_SID, pasid, w->iova[i & w->mask], SIOV_ACCESS_READ, &x);
        sum += x.addr + (uint64_t)f;
    }
    uint64_t t1 = bench_now_ns();
    bench_sink(sum);
    return (double)(t1 - t0);
}

void wl_counters_start(const struct wl *w, struct wl_counters *c)
{
    siov_iommu_stats(w->t->iommu, &c->s);
}

double wl_hit_rate(const struct wl *w, const struct wl_counters *c)
{
    struct siov_stats now;
    siov_iommu_stats(w->t->iommu, &now);
    double hits = (double)(now.iotlb_hits - c->s.iotlb_hits);
    double misses = (double)(now.iotlb_misses - c->s.iotlb_misses);
    return hits + misses > 0 ? hits / (hits + misses) : NAN;
}

bool wl_setup(const struct siov_iommu_config *cfg, const struct wl_spec *s, struct wl *w, struct bench_result *r)
{
    struct bt *t = bt_new(cfg, BENCH_MEM_SIZE, BENCH_POOL_END);
    if (!t) {
        snprintf(r->note, sizeof(r->note), "setup failed: no unit");
        r->failed = true;
        return false;
    }
    if (wl_build(t, s, w) < 0) {
        snprintf(r->note, sizeof(r->note), "setup failed: out of table pages");
        r->failed = true;
        wl_free(w);
        bt_free(t);
        return false;
    }
    int rc = wl_verify(w);
    if (rc) {
        snprintf(r->note, sizeof(r->note), "setup failed: %s", rc < 0 ? "wrong output" : siov_fault_name(rc));
        r->failed = true;
        wl_free(w);
        bt_free(t);
        return false;
    }
    return true;
}

void wl_teardown(struct wl *w)
{
    struct bt *t = w->t;
    wl_free(w);
    bt_free(t);
}

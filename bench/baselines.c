/* siov-bench: what the machine allows, measured in the same run as the cases.
 *  load       independent random loads from BENCH_HOT hot entries of a table
 *             the size of the IOTLB (BENCH_TLB_ENTRIES ways of 32 bytes):
 *             throughput, so latencies overlap as they do between
 *             independent translations; the hit case compares against it.
 *  load-dep   the same entries as one dependent chain: the latency of a load.
 *  chase(n)   n dependent random loads per operation, one chain through the
 *             whole table (every load waits for the one before, across
 *             operations too): the latency floor of a walk that makes n
 *             memory reads, each of which needs the one before it.
 *  memcpy-4k  4 KiB copies from BENCH_HOT distinct source pages (4 MiB), the
 *             footprint the DMA case reads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

struct slot {
    uint64_t next; /* index of the next slot of a chain */
    uint64_t pad[BENCH_TLB_WAY_BYTES / 8 - 1];
};

struct base_ctx {
    struct slot *tab;      /* BENCH_TLB_ENTRIES slots */
    uint32_t hot[BENCH_HOT];   /* hot slot indices, in random order */
    uint32_t page[BENCH_HOT];  /* memcpy source pages, in random order */
    unsigned chain;        /* chase length */
    uint64_t at;           /* where the chase chain continues */
    uint8_t *src, *dst;    /* memcpy buffers */
};

static double body_load(void *p, uint64_t iters)
{
    struct base_ctx *c = p;
    uint64_t sum = 0;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        sum += *(volatile uint64_t *)&c->tab[c->hot[i & (BENCH_HOT - 1)]].next;
    uint64_t t1 = bench_now_ns();
    bench_sink(sum);
    return (double)(t1 - t0);
}

static double body_load_dep(void *p, uint64_t iters)
{
    struct base_ctx *c = p;
    uint64_t at = c->hot[0];
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        at = *(volatile uint64_t *)&c->tab[at].next;
    uint64_t t1 = bench_now_ns();
    bench_sink(at);
    return (double)(t1 - t0);
}

static double body_chase(void *p, uint64_t iters)
{
    struct base_ctx *c = p;
    uint64_t at = c->at;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        for (unsigned k = 0; k < c->chain; k++)
            at = *(volatile uint64_t *)&c->tab[at].next;
    uint64_t t1 = bench_now_ns();
    c->at = at;
    return (double)(t1 - t0);
}

static double body_memcpy(void *p, uint64_t iters)
{
    struct base_ctx *c = p;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        memcpy(c->dst, c->src + (uint64_t)c->page[i & (BENCH_HOT - 1)] * 4096, 4096);
        bench_sink((uint64_t)(uintptr_t)c->dst);
    }
    uint64_t t1 = bench_now_ns();
    return (double)(t1 - t0);
}

/* Link slots into one random cycle: through the hot set when hot_only, else all of them. */
static void link_cycle(struct base_ctx *c, bool hot_only, uint64_t seed)
{
    size_t n = hot_only ? BENCH_HOT : BENCH_TLB_ENTRIES;
    uint32_t *order = malloc(n * sizeof(*order));
    if (!order)
        abort();
    bench_shuffle_identity(order, n, seed);
    for (size_t i = 0; i < n; i++) {
        uint32_t from = hot_only ? c->hot[order[i]] : order[i];
        uint32_t to = hot_only ? c->hot[order[(i + 1) % n]] : order[(i + 1) % n];
        c->tab[from].next = to;
    }
    free(order);
}

static void add_row(struct bench_report *rep, const char *name, const struct bench_stat *st, const char *note)
{
    struct bench_result *r = bench_add(rep, "baseline", name);
    if (!r)
        return;
    bench_set_stat(r, st);
    snprintf(r->note, sizeof(r->note), "%s", note);
}

static void chase_rows(const struct bench_opts *o, struct base_ctx *c, struct bench_report *rep)
{
    static const unsigned lengths[] = {1, 2, 3, 4, 5, BENCH_CHASE_MAX};
    struct bench_stat st;
    link_cycle(c, false, 0xC4A5E);
    for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        char name[16];
        c->chain = lengths[i];
        snprintf(name, sizeof(name), "chase(%u)", lengths[i]);
        bench_measure(o, body_chase, c, &st);
        add_row(rep, name, &st, "n dependent loads (one chain) over 4096 32-byte entries");
    }
}

void bench_baselines(const struct bench_opts *o, struct bench_report *rep)
{
    struct base_ctx *c = calloc(1, sizeof(*c));
    struct bench_stat st;
    if (!c || !(c->tab = calloc(BENCH_TLB_ENTRIES, sizeof(struct slot))))
        abort();
    uint32_t *perm = malloc(BENCH_TLB_ENTRIES * sizeof(*perm));
    c->src = malloc((size_t)BENCH_HOT * 4096);
    c->dst = aligned_alloc(64, 4096);
    if (!perm || !c->src || !c->dst)
        abort();
    bench_shuffle_identity(perm, BENCH_TLB_ENTRIES, 0x10AD);
    memcpy(c->hot, perm, sizeof(c->hot)); /* BENCH_HOT distinct random slots */
    bench_shuffle_identity(c->page, BENCH_HOT, 0x4C0B);
    memset(c->src, 0x5A, (size_t)BENCH_HOT * 4096);

    link_cycle(c, true, 0xDEB);
    bench_measure(o, body_load, c, &st);
    add_row(rep, "load", &st, "independent loads, 1024 hot of 4096 32-byte entries");
    if (rep->n)
        rep->r[rep->n - 1].ws = BENCH_HOT; /* the sweep's 1K point (baselines_lookup.c has the others) */
    bench_measure(o, body_load_dep, c, &st);
    add_row(rep, "load-dep", &st, "one dependent chain over the same 1024 entries");
    chase_rows(o, c, rep);
    bench_measure(o, body_memcpy, c, &st);
    add_row(rep, "memcpy-4k", &st, "from 1024 distinct 4 KiB pages (4 MiB)");

    free(perm);
    free(c->src);
    free(c->dst);
    free(c->tab);
    free(c);
}

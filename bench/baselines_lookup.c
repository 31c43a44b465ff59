/* siov-bench: the lookup baselines, at each working set of the sweep
 * (BENCH_SWEEP: 1K, 4K, 16K and 64K hot pages; rows of 1K pages carry the
 * plain name, the others a "/Nk" suffix):
 *  load          independent random 8-byte loads from the hot entries of a
 *                table of 4 x N 32-byte entries (an IOTLB sized to fit).
 *  probe-inline  a direct-mapped cache of 4 x N 16-byte entries probed inline
 *                in the caller's loop: a multiply hash of (source id,
 *                PASID, page), one compare, the result written as
 *                siov_translate_batch writes it; the floor a lookup through
 *                an API can approach.
 *  qemu-style    the hit path of an emulated unit as QEMU builds it: a mutex
 *                around a GLib hash table probed per page size (qemu_style.c;
 *                only when GLib is installed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

#define LK_SID 0x0108u
#define LK_PASID 1u

struct lk_ctx {
    unsigned n;                  /* hot pages */
    uint64_t *iova;              /* hot pages in visiting order */
    struct siov_xlate_req *req;  /* the same as requests */
    struct siov_xlate_res *res;
    uint64_t *tab;               /* load: 4n 32-byte slots (4 words each) */
    uint32_t *hot;               /* load: the n hot slots, in random order */
    uint64_t *probe;             /* probe-inline: 4n {tag, value} pairs */
    unsigned probe_shift;        /* 64 - log2(4n) */
    struct bench_qs *qs;
};

void bench_sweep_name(char *buf, size_t n, const char *base, unsigned pages)
{
    if (pages == BENCH_HOT)
        snprintf(buf, n, "%s", base);
    else
        snprintf(buf, n, "%s/%uk", base, pages / 1024);
}

static double body_load_n(void *p, uint64_t iters)
{
    struct lk_ctx *c = p;
    uint64_t sum = 0, mask = c->n - 1;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        sum += *(volatile uint64_t *)&c->tab[4 * (uint64_t)c->hot[i & mask]];
    uint64_t t1 = bench_now_ns();
    bench_sink(sum);
    return (double)(t1 - t0);
}

static inline uint64_t probe_tag(const struct siov_xlate_req *r)
{
    return (uint64_t)r->sid << 40 ^ (uint64_t)r->pasid << 20 ^ r->iova >> 12;
}

/* Body: the requests in chunks of BENCH_BATCH, each probed inline. */
static double body_probe(void *p, uint64_t iters)
{
    struct lk_ctx *c = p;
    uint64_t chunks = (iters + BENCH_BATCH - 1) / BENCH_BATCH, per = c->n / BENCH_BATCH;
    uint64_t t0 = bench_now_ns();
    for (uint64_t k = 0; k < chunks; k++) {
        const struct siov_xlate_req *r = &c->req[(k % per) * BENCH_BATCH];
        struct siov_xlate_res *res = &c->res[(k % per) * BENCH_BATCH];
        for (unsigned i = 0; i < BENCH_BATCH; i++) {
            uint64_t tag = probe_tag(&r[i]);
            const uint64_t *e = &c->probe[2 * ((tag * 0x9E3779B97F4A7C15ull) >> c->probe_shift)];
            bool hit = e[0] == tag;
            res[i].fault = hit ? SIOV_OK : SIOV_FAULT_SSL_2;
            res[i].xlate = (struct siov_xlate){(e[1] & ~0xFFFull) | (r[i].iova & 0xFFF), SIOV_PAGE_SIZE,
                                               (unsigned)(e[1] & 7), (uint16_t)(e[1] >> 3 & 0xFF)};
        }
        bench_sink((uint64_t)(uintptr_t)res);
    }
    uint64_t t1 = bench_now_ns();
    return (double)(t1 - t0) * (double)iters / (double)(chunks * BENCH_BATCH);
}

#ifdef BENCH_HAVE_GLIB
static double body_qs(void *p, uint64_t iters)
{
    struct lk_ctx *c = p;
    uint64_t sum = 0, mask = c->n - 1;
    struct siov_xlate x = {0};
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        bool ok = bench_qs_translate(c->qs, LK_SID, LK_PASID, c->iova[i & mask], &x);
        sum += x.addr + ok;
    }
    uint64_t t1 = bench_now_ns();
    bench_sink(sum);
    return (double)(t1 - t0);
}
#endif

/* n random distinct pages of a window 4n pages wide, and the tables of each baseline. */
static bool lk_setup(struct lk_ctx *c, unsigned n)
{
    memset(c, 0, sizeof(*c));
    c->n = n;
    size_t slots = 4 * (size_t)n;
    uint32_t *perm = malloc(slots * sizeof(*perm));
    c->iova = malloc(n * sizeof(*c->iova));
    c->req = malloc(n * sizeof(*c->req));
    c->res = malloc(n * sizeof(*c->res));
    c->tab = calloc(slots, 4 * sizeof(uint64_t));
    c->hot = malloc(n * sizeof(*c->hot));
    c->probe = calloc(slots, 2 * sizeof(uint64_t));
    if (!perm || !c->iova || !c->req || !c->res || !c->tab || !c->hot || !c->probe) {
        free(perm);
        return false;
    }
    bench_shuffle_identity(perm, slots, 0x1D00 + n);
    c->probe_shift = 64;
    for (size_t s = slots; s > 1; s /= 2)
        c->probe_shift--;
    for (unsigned i = 0; i < n; i++) {
        c->hot[i] = perm[i];
        c->iova[i] = (1ull << 30) + (uint64_t)perm[i] * SIOV_PAGE_SIZE;
        c->req[i] = (struct siov_xlate_req){LK_SID, LK_PASID, c->iova[i] + 0x10, SIOV_ACCESS_READ};
        uint64_t tag = probe_tag(&c->req[i]);
        uint64_t *e = &c->probe[2 * ((tag * 0x9E3779B97F4A7C15ull) >> c->probe_shift)];
        e[0] = tag;
        e[1] = ((64ull << 20) + (uint64_t)i * SIOV_PAGE_SIZE) | 1 << 3 | SIOV_ACCESS_READ | SIOV_ACCESS_WRITE;
    }
    free(perm);
#ifdef BENCH_HAVE_GLIB
    c->qs = bench_qs_new();
    if (!c->qs)
        return false;
    for (unsigned i = 0; i < n; i++)
        bench_qs_insert(c->qs, LK_SID, LK_PASID, c->iova[i], (64ull << 20) + (uint64_t)i * SIOV_PAGE_SIZE);
#endif
    return true;
}

static void lk_free(struct lk_ctx *c)
{
#ifdef BENCH_HAVE_GLIB
    bench_qs_free(c->qs);
#endif
    free(c->iova);
    free(c->req);
    free(c->res);
    free(c->tab);
    free(c->hot);
    free(c->probe);
}

static void lk_row(const struct bench_opts *o, struct bench_report *rep, const char *base, unsigned n,
                   bench_body body, struct lk_ctx *c, const char *note)
{
    char name[40];
    bench_sweep_name(name, sizeof(name), base, n);
    struct bench_result *r = bench_add(rep, "baseline", name);
    if (!r)
        return;
    struct bench_stat st;
    bench_measure(o, body, c, &st);
    bench_set_stat(r, &st);
    r->ws = n;
    snprintf(r->note, sizeof(r->note), note, n);
}

void bench_lookup_baselines(const struct bench_opts *o, struct bench_report *rep)
{
    static const unsigned sweep[] = BENCH_SWEEP;
    for (size_t i = 0; i < sizeof(sweep) / sizeof(sweep[0]); i++) {
        struct lk_ctx c;
        if (!lk_setup(&c, sweep[i])) {
            lk_free(&c);
            bench_setup_failed(rep, "baseline", "lookup baselines", "out of memory");
            return;
        }
        if (sweep[i] != BENCH_HOT) /* the 1K load row is baselines.c's */
            lk_row(o, rep, "load", sweep[i], body_load_n, &c, "independent loads, %u hot of 4x as many 32-byte entries");
        lk_row(o, rep, "probe-inline", sweep[i], body_probe, &c,
               "direct-mapped probe inlined in the caller's loop, %u pages, batches of 64");
#ifdef BENCH_HAVE_GLIB
        lk_row(o, rep, "qemu-style", sweep[i], body_qs, &c, "mutex + GLib hash {gfn,pasid,sid,level}, %u pages");
#endif
        lk_free(&c);
    }
}

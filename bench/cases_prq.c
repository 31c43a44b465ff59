/* siov-bench: page requests — one fault-and-retry of a device doing shared
 * virtual addressing, whole and step by step: the ATS translation request
 * answered "not present", the page request queued, the driver servicing it,
 * the handler's map, the page group response delivered to the device's
 * port, and the retried translation; then page-request throughput with one
 * and two device threads producing into one queue.
 *
 * The device (BT_SID) has ATS, PRI and an ATC; its ADI is a first-level
 * domain aux-attached under a PASID, as a process's address space; the
 * driver services the queue and its handler maps each page asked for. Each
 * run faults in fresh pages; they are unmapped between runs, untimed. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

#define PRQ_POOL_BASE (1ull << 20)
#define PRQ_IOVA (1ull << 32)
#define PRQ_PAGES 2048u    /* most faults per timed run: the pages a run maps */
#define PRQ_CHUNK 100u     /* requests queued before the driver drains (its queue holds 127) */
#define PRQ_BIG_PQS 5u     /* the throughput cases' queue: 128 KiB, 4,095 requests */
#define PRQ_BIG_QUEUE (BENCH_DATA_BASE + (16ull << 20))
#define PRQ_BIG_SLOTS ((SIOV_PAGE_SIZE << PRQ_BIG_PQS) / SIOV_PRQ_DESC_SIZE - 1)
#define PRQ_RESP_BATCH 64u /* page group responses per inv-wait in prq-response */

struct prq_ctx {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
    struct siov_domain *dom;
    struct siov_atc *atc;
    uint32_t pasid;
    bool map;           /* the handler maps (else it answers Success at once) */
    uint64_t answers;   /* page responses the ATC's port received */
    unsigned last_code;
    uint16_t group;
    int err;            /* first failure */
};

static void note(struct prq_ctx *c, bool ok)
{
    if (!ok && !c->err)
        c->err = -1;
}

static uint64_t page_iova(uint64_t i)
{
    return PRQ_IOVA + i * SIOV_PAGE_SIZE;
}

static unsigned handler(void *opaque, struct siov_domain *dom, siov_sid sid, const struct siov_page_request *req)
{
    struct prq_ctx *c = opaque;
    (void)sid;
    if (!c->map)
        return SIOV_PRQ_SUCCESS;
    uint64_t pa = BENCH_DATA_BASE + (req->addr - PRQ_IOVA) % (8ull << 20);
    return siov_domain_map(dom, req->addr, pa, SIOV_PAGE_SIZE, SIOV_PROT_READ | SIOV_PROT_WRITE) == 0
               ? SIOV_PRQ_SUCCESS
               : SIOV_PRQ_INVALID;
}

static void on_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    struct prq_ctx *c = opaque;
    (void)sid, (void)pasid, (void)prgi;
    c->answers++;
    c->last_code = code;
}

static bool prq_setup(struct prq_ctx *c)
{
    memset(c, 0, sizeof(*c));
    c->mem = siov_mem_new_flat(BENCH_MEM_SIZE);
    c->iommu = c->mem ? siov_iommu_new(c->mem, NULL) : NULL;
    c->drv = c->iommu ? siov_driver_new(c->iommu, c->mem, PRQ_POOL_BASE, BENCH_POOL_END - PRQ_POOL_BASE) : NULL;
    if (!c->drv || siov_dev_enable_aux(c->drv, BT_SID) || siov_dev_enable_ats(c->drv, BT_SID) ||
        siov_dev_enable_pri(c->drv, BT_SID) || siov_driver_set_prq_handler(c->drv, handler, c))
        return false;
    c->atc = siov_atc_new(c->iommu, BT_SID, 4096);
    c->dom = c->atc ? siov_domain_new(c->drv, SIOV_DOMAIN_FIRST_LEVEL) : NULL;
    if (!c->dom || siov_aux_attach(c->dom, BT_SID))
        return false;
    siov_atc_set_page_response(c->atc, on_response, c);
    int pasid = siov_aux_pasid(c->dom);
    c->pasid = (uint32_t)pasid;
    return pasid > 0;
}

static void prq_teardown(struct prq_ctx *c)
{
    if (c->dom)
        (void)siov_aux_detach(c->dom, BT_SID);
    if (c->dom)
        (void)siov_domain_free(c->dom);
    siov_atc_free(c->atc);
    siov_driver_free(c->drv);
    siov_iommu_free(c->iommu);
    siov_mem_free(c->mem);
}

static struct siov_page_request request(struct prq_ctx *c, uint64_t i)
{
    return (struct siov_page_request){c->pasid, page_iova(i), SIOV_ACCESS_WRITE, (uint16_t)(c->group++ & 0x1FF), true,
                                      false};
}

/* Pages [0, n) unmapped again (untimed; the unmap drops them from the ATC). */
static void unmap_all(struct prq_ctx *c, uint64_t n)
{
    int64_t rc = siov_domain_unmap(c->dom, PRQ_IOVA, n * SIOV_PAGE_SIZE);
    note(c, rc >= 0);
}

/* ------------------------------------------------------------ the steps */
/* The whole fault-and-retry of page i: not present, request, service (the
   handler maps), response, retry. */
static void round_trip(struct prq_ctx *c, uint64_t i)
{
    struct siov_xlate x;
    uint64_t answers = c->answers;
    note(c, siov_atc_translate(c->atc, c->pasid, page_iova(i), SIOV_ACCESS_WRITE, &x) == SIOV_ERR_NOT_PRESENT);
    struct siov_page_request req = request(c, i);
    note(c, siov_page_request(c->iommu, BT_SID, &req) == SIOV_OK);
    note(c, siov_driver_service_prq(c->drv) == 1);
    note(c, c->answers == answers + 1 && c->last_code == SIOV_PRQ_SUCCESS);
    note(c, siov_atc_translate(c->atc, c->pasid, page_iova(i), SIOV_ACCESS_WRITE, &x) == SIOV_OK);
}

static double body_round_trip(void *p, uint64_t iters)
{
    struct prq_ctx *c = p;
    c->map = true;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        round_trip(c, i);
    uint64_t t1 = bench_now_ns();
    unmap_all(c, iters);
    return (double)(t1 - t0);
}

/* The ATC misses and its translation request comes back without access. */
static double body_not_present(void *p, uint64_t iters)
{
    struct prq_ctx *c = p;
    struct siov_xlate x;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        note(c, siov_atc_translate(c->atc, c->pasid, page_iova(i), SIOV_ACCESS_WRITE, &x) == SIOV_ERR_NOT_PRESENT);
    return (double)(bench_now_ns() - t0);
}

/* Queue up to PRQ_CHUNK requests from page i (timed when queue_timed), then
   service them (timed otherwise); returns the nanoseconds timed. */
static double chunk(struct prq_ctx *c, uint64_t i, uint64_t n, bool queue_timed)
{
    uint64_t t0 = bench_now_ns();
    for (uint64_t k = 0; k < n; k++) {
        struct siov_page_request req = request(c, i + k);
        note(c, siov_page_request(c->iommu, BT_SID, &req) == SIOV_OK);
    }
    uint64_t t1 = bench_now_ns();
    note(c, siov_driver_service_prq(c->drv) == (int)n);
    uint64_t t2 = bench_now_ns();
    return (double)(queue_timed ? t1 - t0 : t2 - t1);
}

static double body_chunks(struct prq_ctx *c, uint64_t iters, bool queue_timed)
{
    c->map = false;
    double ns = 0;
    for (uint64_t i = 0; i < iters; i += PRQ_CHUNK)
        ns += chunk(c, i, iters - i < PRQ_CHUNK ? iters - i : PRQ_CHUNK, queue_timed);
    return ns;
}

static double body_queue(void *p, uint64_t iters)
{
    return body_chunks(p, iters, true);
}

/* One request queued (untimed), then the driver's service of it, as in a
   round trip: one call, one response, one inv-wait. */
static double body_service(void *p, uint64_t iters)
{
    struct prq_ctx *c = p;
    c->map = false;
    double ns = 0;
    for (uint64_t i = 0; i < iters; i++)
        ns += chunk(c, i, 1, false);
    return ns;
}

/* The handler's work: one 4 KiB page mapped in the first-level domain. */
static double body_map(void *p, uint64_t iters)
{
    struct prq_ctx *c = p;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        note(c, siov_domain_map(c->dom, page_iova(i), BENCH_DATA_BASE + i % 2048 * SIOV_PAGE_SIZE, SIOV_PAGE_SIZE,
                                SIOV_PROT_READ | SIOV_PROT_WRITE) == 0);
    uint64_t t1 = bench_now_ns();
    unmap_all(c, iters);
    return (double)(t1 - t0);
}

/* The retry: the page now mapped, the ATC misses and its translation
   request is granted (a walk: Table 27 left nothing cached). */
static double body_retry(void *p, uint64_t iters)
{
    struct prq_ctx *c = p;
    struct siov_xlate x;
    for (uint64_t i = 0; i < iters; i++)
        note(c, siov_domain_map(c->dom, page_iova(i), BENCH_DATA_BASE + i % 2048 * SIOV_PAGE_SIZE, SIOV_PAGE_SIZE,
                                SIOV_PROT_READ | SIOV_PROT_WRITE) == 0);
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++)
        note(c, siov_atc_translate(c->atc, c->pasid, page_iova(i), SIOV_ACCESS_WRITE, &x) == SIOV_OK);
    uint64_t t1 = bench_now_ns();
    unmap_all(c, iters);
    return (double)(t1 - t0);
}

/* Calibrate to run_ms within [16, PRQ_PAGES] operations, then time opts->reps runs. */
static void measure_capped(const struct bench_opts *o, bench_body body, struct prq_ctx *c, struct bench_stat *st)
{
    double ns = body(c, 16) / 16;
    double want = o->run_ms * 1e6 / (ns > 1 ? ns : 1);
    uint64_t iters = want < 16 ? 16 : want > PRQ_PAGES ? PRQ_PAGES : (uint64_t)want;
    bench_measure_fixed(body, c, iters, o->reps, st);
}

struct step_case {
    const char *name;
    bench_body body;
    const char *what;
};

static void case_step(const struct bench_opts *o, struct bench_report *rep, const struct step_case *k,
                      const char *base)
{
    if (!bench_selected(o, k->name))
        return;
    struct bench_result *r = bench_add(rep, "prq", k->name);
    if (!r)
        return;
    struct prq_ctx c;
    if (prq_setup(&c)) {
        struct bench_stat st;
        measure_capped(o, k->body, &c, &st);
        if (!c.err)
            bench_set_stat(r, &st);
        snprintf(r->note, sizeof(r->note), "%s%s", k->what, c.err ? "; FAILED" : "");
    } else {
        snprintf(r->note, sizeof(r->note), "setup failed: driver, PRI, ATC or aux attach");
        r->failed = true;
    }
    prq_teardown(&c);
    bench_compare(rep, r, base, false, BENCH_NONE, 0);
}

/* ------------------------------------------------------------ delivery */
/* Page group responses (descriptor 0x9) through a bare unit's invalidation
   queue to the device's port, PRQ_RESP_BATCH per inv-wait. */
struct resp_ctx {
    struct bt *t;
    uint64_t answers;
    int err;
};

static void resp_count(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    struct resp_ctx *c = opaque;
    (void)sid, (void)pasid, (void)prgi, (void)code;
    c->answers++;
}

static double body_response(void *p, uint64_t iters)
{
    struct resp_ctx *c = p;
    struct bt_dsc d[PRQ_RESP_BATCH];
    for (unsigned i = 0; i < PRQ_RESP_BATCH; i++)
        d[i] = (struct bt_dsc){siov_dsc_make_type(SIOV_DSC_PGRP_RESP) | SIOV_PGRSP0_PP |
                                   siov_set(0, SIOV_PGRSP0_RID, BT_SID) | siov_set(0, SIOV_PGRSP0_PASID, 1),
                               siov_set(0, SIOV_PGRSP1_PRGI, i)};
    uint64_t answers = c->answers;
    uint64_t t0 = bench_now_ns();
    for (uint64_t i = 0; i < iters; i += PRQ_RESP_BATCH)
        if (bt_invalidate(c->t, d, iters - i < PRQ_RESP_BATCH ? (unsigned)(iters - i) : PRQ_RESP_BATCH) < 0)
            c->err = -1;
    uint64_t t1 = bench_now_ns();
    if (c->answers - answers != iters)
        c->err = -1;
    return (double)(t1 - t0);
}

static void case_response(const struct bench_opts *o, struct bench_report *rep, const char *base)
{
    const char *name = "prq-response";
    if (!bench_selected(o, name))
        return;
    struct bench_result *r = bench_add(rep, "prq", name);
    if (!r)
        return;
    static const struct siov_device_ops ops = {NULL, resp_count};
    struct resp_ctx c = {bt_new(NULL, BENCH_MEM_SIZE, BENCH_POOL_END), 0, 0};
    if (c.t && siov_device_port(c.t->iommu, BT_SID, &ops, &c) == 0) {
        struct bench_stat st;
        bench_measure(o, body_response, &c, &st);
        if (!c.err)
            bench_set_stat(r, &st);
        snprintf(r->note, sizeof(r->note), "a page group response through the queue to the port (%u per inv-wait)%s",
                 PRQ_RESP_BATCH, c.err ? "; FAILED" : "");
    } else {
        snprintf(r->note, sizeof(r->note), "setup failed: unit or port");
        r->failed = true;
    }
    bt_free(c.t);
    bench_compare(rep, r, base, false, BENCH_NONE, 0);
}

/* ------------------------------------------------------------ throughput */
/* Producers issue page requests into one large queue in rounds that fit
   it; between rounds the main thread empties it (PQH = PQT, PRS cleared),
   untimed. The figure is nanoseconds per request over all threads. */
struct tput_ctx {
    struct prq_ctx c;
    unsigned threads;
    uint64_t per_thread; /* requests per thread per round */
    bool stop;
    pthread_barrier_t start, done;
    int err;
};

struct tput_arg {
    struct tput_ctx *t;
    unsigned id;
};

static void *producer(void *p)
{
    struct tput_arg *a = p;
    struct tput_ctx *t = a->t;
    struct siov_page_request req = {t->c.pasid, PRQ_IOVA, SIOV_ACCESS_READ, (uint16_t)a->id, false, false};
    for (;;) {
        pthread_barrier_wait(&t->start);
        if (__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
            return NULL;
        uint64_t n = __atomic_load_n(&t->per_thread, __ATOMIC_ACQUIRE);
        for (uint64_t i = 0; i < n; i++) {
            req.addr = PRQ_IOVA + (i % 512) * SIOV_PAGE_SIZE;
            if (siov_page_request(t->c.iommu, BT_SID, &req) != SIOV_OK)
                __atomic_store_n(&t->err, -1, __ATOMIC_RELEASE);
        }
        pthread_barrier_wait(&t->done);
    }
}

static double body_tput(void *p, uint64_t iters)
{
    struct tput_ctx *t = p;
    pthread_t th[2];
    struct tput_arg args[2];
    t->stop = false;
    for (unsigned i = 0; i < t->threads; i++) {
        args[i] = (struct tput_arg){t, i};
        pthread_create(&th[i], NULL, producer, &args[i]);
    }
    uint64_t round = PRQ_BIG_SLOTS / t->threads, ns = 0;
    for (uint64_t left = iters; left;) {
        uint64_t n = (left + t->threads - 1) / t->threads;
        n = n < round ? n : round;
        __atomic_store_n(&t->per_thread, n, __ATOMIC_RELEASE);
        uint64_t t0 = bench_now_ns();
        pthread_barrier_wait(&t->start);
        pthread_barrier_wait(&t->done);
        ns += bench_now_ns() - t0;
        left -= n * t->threads < left ? n * t->threads : left;
        uint64_t pqt = siov_mmio_read(t->c.iommu, SIOV_REG_PQT, 8);
        siov_mmio_write(t->c.iommu, SIOV_REG_PQH, pqt, 8);
        siov_mmio_write(t->c.iommu, SIOV_REG_PRS, SIOV_PRS_PPR | SIOV_PRS_PRO, 4);
    }
    __atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
    pthread_barrier_wait(&t->start);
    for (unsigned i = 0; i < t->threads; i++)
        pthread_join(th[i], NULL);
    return (double)ns;
}

static void case_tput(const struct bench_opts *o, struct bench_report *rep, unsigned threads, const char *name,
                      const char *base)
{
    if (!bench_selected(o, name))
        return;
    struct bench_result *r = bench_add(rep, "prq", name);
    if (!r)
        return;
    struct tput_ctx *t = calloc(1, sizeof(*t));
    bool ok = t && prq_setup(&t->c);
    if (ok) {
        t->threads = threads;
        pthread_barrier_init(&t->start, NULL, threads + 1);
        pthread_barrier_init(&t->done, NULL, threads + 1);
        /* a queue of 4,095 requests in the data area, empty */
        siov_mmio_write(t->c.iommu, SIOV_REG_PQH, 0, 8);
        siov_mmio_write(t->c.iommu, SIOV_REG_PQT, 0, 8);
        siov_mmio_write(t->c.iommu, SIOV_REG_PQA, PRQ_BIG_QUEUE | siov_set(0, SIOV_PQA_PQS, PRQ_BIG_PQS), 8);
        struct bench_stat st;
        bench_measure(o, body_tput, t, &st);
        struct siov_stats s;
        siov_iommu_stats(t->c.iommu, &s);
        if (!t->err && !s.prq_overflowed)
            bench_set_stat(r, &st);
        snprintf(r->note, sizeof(r->note), "page requests queued by %u thread%s (ns per request)%s", threads,
                 threads > 1 ? "s" : "", t->err || s.prq_overflowed ? "; FAILED" : "");
        pthread_barrier_destroy(&t->start);
        pthread_barrier_destroy(&t->done);
    } else {
        snprintf(r->note, sizeof(r->note), "setup failed: driver, PRI, ATC or aux attach");
        r->failed = true;
    }
    if (t)
        prq_teardown(&t->c);
    free(t);
    bench_compare(rep, r, base, threads > 1, BENCH_NONE, 0);
}

void bench_prq_cases(const struct bench_opts *o, struct bench_report *rep)
{
    static const struct step_case whole = {"prq-round-trip", body_round_trip,
                                           "not present, page request, service and map, response, retry"};
    static const struct step_case steps[] = {
        {"prq-not-present", body_not_present, "ATC miss, translation request answered without access"},
        {"prq-queue", body_queue, "siov_page_request: checks, Table 27, the descriptor at PQT"},
        {"prq-service", body_service, "the driver's service of one request: domain, handler, response, inv-wait"},
        {"prq-map", body_map, "the handler's siov_domain_map of one 4 KiB page (first level)"},
        {"prq-retry", body_retry, "the retry: ATC miss, translation request granted (a walk)"},
    };
    case_step(o, rep, &whole, "memcpy-4k");
    for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
        case_step(o, rep, &steps[i], "prq-round-trip");
    case_response(o, rep, "prq-round-trip");
    case_tput(o, rep, 1, "prq-tput-1t", "prq-queue");
    case_tput(o, rep, 2, "prq-tput-2t", "prq-tput-1t");
}

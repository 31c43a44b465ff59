/* siov-sim replay: the engine. A fresh memory, unit and reference driver per
 * run; markers go to the driver (so its invalidations are the ones a real
 * driver sends), requests to the unit, and the unit's own trace hook tells
 * per request what the IOTLB did. Public API only. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "replay.h"

#define MAX_DMA (64u << 20) /* the largest DMA record a replay performs */

struct dom_slot {
    uint32_t num;
    struct siov_domain *dom;
};

struct rp {
    const struct replay_opts *o;
    struct replay_result *res;
    uint8_t *ram;                  /* the table pool */
    struct siov_mem *mem;
    struct siov_iommu *u;
    struct siov_driver *drv;
    struct dom_slot *doms;
    unsigned ndom, domcap;
    uint8_t aux[65536 / 8];        /* devices with aux domains enabled */
    struct siov_atc **atc;         /* by source id, with opts.atc.entries */
    uint32_t *hash;                /* ADI index + 1 by key, open addressing */
    unsigned hcap;
    unsigned last_hits, last_walks; /* the hook's report of the last request */
    uint8_t *buf;                  /* DMA data */
    size_t bufcap;
};

double replay_rate(uint64_t hits, uint64_t walks)
{
    return hits + walks ? (double)hits / (double)(hits + walks) : 0.0;
}

/* ---------------------------------------------------------------- memory */
/* Guest memory: RAM at the pool, a sink everywhere else. */
static int mem_access(struct rp *p, uint64_t gpa, void *buf, size_t len, bool write)
{
    uint8_t *b = buf;
    while (len) {
        bool in = gpa >= REPLAY_POOL_GPA && gpa - REPLAY_POOL_GPA < REPLAY_POOL_SIZE;
        uint64_t edge = in ? REPLAY_POOL_GPA + REPLAY_POOL_SIZE : gpa < REPLAY_POOL_GPA ? REPLAY_POOL_GPA : 0;
        size_t n = edge && edge - gpa < len ? (size_t)(edge - gpa) : len;
        if (in && write)
            memcpy(p->ram + (gpa - REPLAY_POOL_GPA), b, n);
        else if (in)
            memcpy(b, p->ram + (gpa - REPLAY_POOL_GPA), n);
        else if (!write)
            memset(b, 0, n);
        b += n;
        gpa += n;
        len -= n;
    }
    return 0;
}

static int mem_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    return mem_access(opaque, gpa, dst, len, false);
}

static int mem_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    return mem_access(opaque, gpa, (void *)(uintptr_t)src, len, true);
}

/* The replay's hook: what the IOTLB did for the request just sent. */
static void hook(void *opaque, const struct siov_trace_rec *rec)
{
    struct rp *p = opaque;
    if (rec->kind == SIOV_TRACE_INVAL) {
        p->res->inval_replayed++;
        return;
    }
    p->last_hits += rec->hits; /* through an ATC, a request may make several (translation requests, DMA) */
    p->last_walks += rec->walks;
}

static int setup(struct rp *p)
{
    static const struct siov_mem_ops ops = {.read = mem_read, .write = mem_write};
    void *ram = mmap(NULL, REPLAY_POOL_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                     -1, 0);
    p->ram = ram == MAP_FAILED ? NULL : ram;
    p->mem = p->ram ? siov_mem_new(&ops, p) : NULL;
    p->u = p->mem ? siov_iommu_new(p->mem, &p->o->cfg) : NULL;
    if (!p->u)
        return snprintf(p->res->err, sizeof(p->res->err), "cannot create the unit (a bad configuration, or out of memory)"), -1;
    siov_iommu_set_trace(p->u, hook, p); /* first: the driver's bring-up invalidations count too */
    p->drv = siov_driver_new(p->u, p->mem, REPLAY_POOL_GPA, REPLAY_POOL_SIZE);
    if (!p->drv)
        return snprintf(p->res->err, sizeof(p->res->err), "cannot create the driver"), -1;
    if (p->o->atc.entries && !(p->atc = calloc(65536, sizeof(*p->atc))))
        return snprintf(p->res->err, sizeof(p->res->err), "out of memory"), -1;
    return 0;
}

static void teardown(struct rp *p)
{
    for (unsigned i = 0; p->atc && i < 65536; i++)
        siov_atc_free(p->atc[i]);
    free(p->atc);
    siov_driver_free(p->drv);
    siov_iommu_free(p->u);
    siov_mem_free(p->mem);
    if (p->ram)
        munmap(p->ram, REPLAY_POOL_SIZE);
    free(p->doms);
    free(p->hash);
    free(p->buf);
}

/* ------------------------------------------------------------------ ADIs */
static uint64_t adi_key(siov_sid sid, uint32_t pasid)
{
    return (uint64_t)sid << 21 | ((pasid + 1u) & 0x1FFFFFu); /* SIOV_NO_PASID: 0 */
}

static unsigned slot_of(const struct rp *p, uint64_t key)
{
    return (unsigned)((key * 0x9E3779B97F4A7C15ull) >> 32) & (p->hcap - 1);
}

static int rehash(struct rp *p)
{
    unsigned cap = p->hcap ? p->hcap * 2 : 64;
    uint32_t *h = calloc(cap, sizeof(*h));
    if (!h)
        return -1;
    free(p->hash);
    p->hash = h;
    p->hcap = cap;
    for (unsigned i = 0; i < p->res->nadi; i++) {
        unsigned s = slot_of(p, adi_key(p->res->adi[i].sid, p->res->adi[i].pasid));
        while (p->hash[s])
            s = (s + 1) & (cap - 1);
        p->hash[s] = i + 1;
    }
    return 0;
}

/* The ADI of (sid, pasid), added on first sight; NULL when out of memory. */
static struct replay_adi *adi_get(struct rp *p, siov_sid sid, uint32_t pasid)
{
    struct replay_result *res = p->res;
    uint64_t key = adi_key(sid, pasid);
    unsigned s = p->hcap ? slot_of(p, key) : 0;
    for (; p->hcap && p->hash[s]; s = (s + 1) & (p->hcap - 1)) {
        struct replay_adi *a = &res->adi[p->hash[s] - 1];
        if (a->sid == sid && a->pasid == pasid)
            return a;
    }
    if ((res->nadi + 1) * 2 > p->hcap) {
        if (rehash(p) < 0)
            return NULL;
        return adi_get(p, sid, pasid);
    }
    if (res->nadi == res->cap) {
        unsigned cap = res->cap ? res->cap * 2 : 16;
        struct replay_adi *n = realloc(res->adi, cap * sizeof(*n));
        if (!n)
            return NULL;
        res->adi = n;
        res->cap = cap;
    }
    struct replay_adi *a = &res->adi[res->nadi++];
    *a = (struct replay_adi){.sid = sid, .pasid = pasid, .real_pasid = pasid};
    p->hash[s] = res->nadi;
    return a;
}

/* --------------------------------------------------------------- markers */
static int fail(struct rp *p, const struct siov_trace_rec *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(struct rp *p, const struct siov_trace_rec *r, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(p->res->err, sizeof(p->res->err), "record %llu (%s): %s", (unsigned long long)r->seq,
             siov_trace_kind_name(r->kind), msg);
    return -1;
}

static struct siov_domain *dom_find(struct rp *p, uint32_t num)
{
    for (unsigned i = 0; i < p->ndom; i++)
        if (p->doms[i].num == num)
            return p->doms[i].dom;
    return NULL;
}

static int do_domain(struct rp *p, const struct siov_trace_rec *r)
{
    static const enum siov_domain_type types[] = {SIOV_DOMAIN_SECOND_LEVEL, SIOV_DOMAIN_FIRST_LEVEL,
                                                  SIOV_DOMAIN_PASS_THROUGH};
    if (dom_find(p, r->domain))
        return fail(p, r, "domain %u exists already", r->domain);
    struct siov_domain *parent = r->dom_type == SIOV_TRACE_DOM_NESTED ? dom_find(p, r->parent) : NULL;
    if (r->dom_type == SIOV_TRACE_DOM_NESTED && !parent)
        return fail(p, r, "nested domain %u names no known parent (%u)", r->domain, r->parent);
    if (p->ndom == p->domcap) {
        unsigned cap = p->domcap ? p->domcap * 2 : 8;
        struct dom_slot *n = realloc(p->doms, cap * sizeof(*n));
        if (!n)
            return fail(p, r, "out of memory");
        p->doms = n;
        p->domcap = cap;
    }
    errno = 0;
    struct siov_domain *d = parent ? siov_domain_new_nested(parent) : siov_domain_new(p->drv, types[r->dom_type]);
    if (!d)
        return fail(p, r, "the driver refused domain %u: %s", r->domain, strerror(errno ? errno : EINVAL));
    p->doms[p->ndom++] = (struct dom_slot){r->domain, d};
    return 0;
}

/* The device of r gets ATS and its ATC at its first attach. */
static int atc_for(struct rp *p, const struct siov_trace_rec *r)
{
    int rc = siov_dev_enable_ats(p->drv, r->sid);
    if (rc < 0)
        return fail(p, r, "enabling ATS failed: %s", strerror(-rc));
    p->atc[r->sid] = siov_atc_new_config(p->u, r->sid, &p->o->atc);
    if (!p->atc[r->sid])
        return fail(p, r, "cannot create an ATC of %u entries: %s", p->o->atc.entries, strerror(errno));
    return 0;
}

static int do_attach(struct rp *p, const struct siov_trace_rec *r, struct siov_domain *d)
{
    bool aux = r->pasid != SIOV_NO_PASID, on = r->kind == SIOV_TRACE_ATTACH;
    if (aux && on && !(p->aux[r->sid / 8] & (1u << (r->sid % 8)))) {
        int rc = siov_dev_enable_aux(p->drv, r->sid);
        if (rc < 0)
            return fail(p, r, "enabling aux domains failed: %s", strerror(-rc));
        p->aux[r->sid / 8] |= (uint8_t)(1u << (r->sid % 8));
    }
    int rc = aux ? (on ? siov_aux_attach(d, r->sid) : siov_aux_detach(d, r->sid))
                 : (on ? siov_attach(d, r->sid) : siov_detach(d, r->sid));
    if (rc < 0)
        return fail(p, r, "the driver refused it: %s", strerror(-rc));
    struct replay_adi *a = adi_get(p, r->sid, r->pasid);
    if (!a)
        return fail(p, r, "out of memory");
    if (aux && on)
        a->real_pasid = (uint32_t)siov_aux_pasid(d);
    return on && p->atc && !p->atc[r->sid] ? atc_for(p, r) : 0;
}

static int do_marker(struct rp *p, const struct siov_trace_rec *r)
{
    p->res->markers++;
    if (r->kind == SIOV_TRACE_DOMAIN)
        return do_domain(p, r);
    struct siov_domain *d = dom_find(p, r->domain);
    if (!d)
        return fail(p, r, "domain %u was never created", r->domain);
    if (r->kind == SIOV_TRACE_ATTACH || r->kind == SIOV_TRACE_DETACH)
        return do_attach(p, r, d);
    int64_t rc = r->kind == SIOV_TRACE_MAP ? siov_domain_map(d, r->addr, r->pa, r->len, r->access)
                                           : siov_domain_unmap(d, r->addr, r->len);
    if (rc < 0)
        return fail(p, r, "the driver refused it: %s", strerror((int)-rc));
    return 0;
}

/* -------------------------------------------------------------- requests */
static bool same_answer(const struct siov_trace_rec *r, siov_fault f, const struct siov_xlate *x)
{
    if (f != r->fault)
        return false;
    return f || r->kind != SIOV_TRACE_XLATE ||
           (x->addr == r->xlate.addr && x->page_size == r->xlate.page_size && x->perm == r->xlate.perm);
}

/* Room for a DMA of len bytes; false when out of memory. */
static bool dma_room(struct rp *p, uint64_t len)
{
    if (len <= p->bufcap)
        return true;
    uint8_t *b = realloc(p->buf, (size_t)len);
    if (!b)
        return false;
    p->buf = b;
    p->bufcap = (size_t)len;
    return true;
}

/* Send r (PASID pasid) to the unit, or through atc when there is one. */
static siov_fault send(struct rp *p, struct siov_atc *atc, const struct siov_trace_rec *r, uint32_t pasid,
                       struct siov_xlate *x)
{
    size_t len = (size_t)r->len;
    if (r->kind == SIOV_TRACE_XLATE)
        return atc ? siov_atc_translate(atc, pasid, r->addr, r->access, x)
                   : siov_translate(p->u, r->sid, pasid, r->addr, r->access, x);
    if (r->kind == SIOV_TRACE_READ)
        return atc ? siov_atc_dma_read(atc, pasid, r->addr, p->buf, len)
                   : siov_dma_read(p->u, r->sid, pasid, r->addr, p->buf, len);
    return atc ? siov_atc_dma_write(atc, pasid, r->addr, p->buf, len)
               : siov_dma_write(p->u, r->sid, pasid, r->addr, p->buf, len);
}

static int do_request(struct rp *p, const struct siov_trace_rec *r)
{
    struct replay_adi *a = adi_get(p, r->sid, r->pasid);
    if (!a)
        return fail(p, r, "out of memory");
    if (r->kind != SIOV_TRACE_XLATE && (r->len > MAX_DMA || !dma_room(p, r->len)))
        return fail(p, r, "a DMA of %llu bytes (at most %u)", (unsigned long long)r->len, MAX_DMA);
    struct siov_atc *atc = p->atc ? p->atc[r->sid] : NULL;
    struct siov_atc_stats s0 = {0}, s1 = {0};
    struct siov_xlate x = {0};
    siov_atc_stats(atc, &s0);
    p->last_hits = p->last_walks = 0;
    siov_fault f = send(p, atc, r, a->real_pasid, &x);
    siov_atc_stats(atc, &s1);
    p->res->requests++;
    a->requests++;
    a->iotlb_hits += p->last_hits;
    a->walks += p->last_walks;
    a->atc_hits += s1.hits - s0.hits;
    a->atc_misses += s1.misses - s0.misses;
    a->faults += f != SIOV_OK;
    a->bytes += f == SIOV_OK && r->kind != SIOV_TRACE_XLATE ? r->len : 0;
    if (p->o->check && r->has_result) {
        p->res->checked++;
        if (!same_answer(r, f, &x) && !p->res->mismatches++)
            p->res->first_mismatch = r->seq;
    }
    return 0;
}

/* ------------------------------------------------------------------ runs */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int replay_records(struct rp *p, struct siov_trace *t)
{
    struct siov_trace_rec r;
    int rc;
    while ((rc = siov_trace_read(t, &r)) == 1) {
        p->res->records++;
        if (r.kind <= SIOV_TRACE_WRITE)
            rc = do_request(p, &r);
        else if (r.kind == SIOV_TRACE_INVAL)
            rc = 0, p->res->inval_recorded++; /* the replay's driver sends its own */
        else
            rc = do_marker(p, &r);
        if (rc < 0)
            return -1;
    }
    if (rc < 0)
        return snprintf(p->res->err, sizeof(p->res->err), "%s", siov_trace_error(t)), -1;
    return 0;
}

int replay_run(const char *path, const struct replay_opts *o, struct replay_result *res)
{
    memset(res, 0, sizeof(*res));
    struct rp p = {.o = o, .res = res};
    double t0 = now();
    struct siov_trace *t = siov_trace_open(path, "r");
    if (!t) {
        snprintf(res->err, sizeof(res->err), "cannot read %s: %s", path,
                 errno == EINVAL ? "not a siov trace of a known version" : strerror(errno));
        return -1;
    }
    int rc = setup(&p);
    if (rc == 0)
        rc = replay_records(&p, t);
    siov_trace_close(t);
    if (p.u)
        siov_iommu_stats(p.u, &res->stats);
    for (unsigned i = 0; i < res->nadi; i++)
        res->atc_hits += res->adi[i].atc_hits, res->atc_misses += res->adi[i].atc_misses;
    teardown(&p);
    res->seconds = now() - t0;
    return rc;
}

void replay_result_free(struct replay_result *res)
{
    free(res->adi);
    res->adi = NULL;
    res->nadi = res->cap = 0;
}

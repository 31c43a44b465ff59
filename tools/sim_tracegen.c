/* siov-sim tracegen KIND OUT [key=value...] [--binary]: synthetic DMA
   workloads as traces, with the domain, attach and map markers a replay needs
   to build their tables (docs/tracing.md, "Generators"):
     ring    a NIC's receive path: a descriptor read, then the packet written
             into the next receive buffer; buffers are reused in ring order
     random  4 KiB reads at uniformly random pages of a large buffer
     stream  a copy engine: each ADI reads its source and writes its
             destination chunk by chunk, the ADIs taking turns */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siov/siov.h>

#include "sim_tools.h"

#define SID_DEFAULT SIOV_SID(0, 2, 0)
#define PA_BASE 0x100000000ull   /* ADI i's memory at PA_BASE + i * PA_STRIDE */
#define PA_STRIDE 0x40000000ull
#define DESC_IOVA 0x100000ull
#define BUF_IOVA 0x40000000ull   /* 1 GiB: aligned for every page size */
#define DST_IOVA 0x80000000ull
#define HUGE (2ull << 20)
#define MAX_ADIS 4096u

struct gen {
    const char *kind, *out;
    bool binary;
    uint64_t adis, requests, buffers, bufsize, len, size, chunk, huge, seed, sid;
    struct siov_trace *t;
    int err;
    uint64_t rng;
};

struct key {
    const char *name;
    size_t off;
    uint64_t max;
    const char *help;
};
#define K(f) offsetof(struct gen, f)
static const struct key keys[] = {
    {"adis", K(adis), MAX_ADIS, "ADIs (aux domains of one device, PASIDs 1..N)"},
    {"requests", K(requests), 1ull << 32, "requests (ring: packets; stream: chunks copied)"},
    {"buffers", K(buffers), 1u << 24, "ring: receive buffers"},
    {"bufsize", K(bufsize), 1u << 24, "ring: bytes from one buffer to the next"},
    {"len", K(len), 1u << 24, "ring: packet length"},
    {"size", K(size), 1ull << 36, "random: buffer size; stream: source (and destination) size"},
    {"chunk", K(chunk), 1u << 24, "stream: bytes per read and write"},
    {"huge", K(huge), 1, "1: map data with 2 MiB pages"},
    {"seed", K(seed), UINT64_MAX, "random: seed"},
    {"sid", K(sid), 0xFFFF, "the device's requester id: bus:dev.fn or a number"},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void emit(struct gen *g, struct siov_trace_rec *r)
{
    int rc = siov_trace_record(g->t, r);
    if (rc < 0 && !g->err)
        g->err = rc;
}

static void request(struct gen *g, unsigned kind, uint32_t adi, uint64_t iova, uint64_t len)
{
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, kind);
    r.sid = (siov_sid)g->sid;
    r.pasid = adi + 1;
    r.addr = iova;
    r.len = len;
    r.access = kind == SIOV_TRACE_WRITE ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ;
    emit(g, &r);
}

/* Map [iova, iova + size) of ADI adi to its memory at offset pa_off: with
   huge=1 2 MiB aligned and rounded, so the driver uses 2 MiB pages; else
   misaligned by 4 KiB, so that it cannot. */
static void map(struct gen *g, uint32_t adi, uint64_t iova, uint64_t size, uint64_t pa_off)
{
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, SIOV_TRACE_MAP);
    uint64_t align = g->huge ? HUGE : SIOV_PAGE_SIZE;
    r.domain = adi + 1;
    r.addr = iova & ~(align - 1);
    r.len = ((iova + size + align - 1) & ~(align - 1)) - r.addr;
    r.pa = PA_BASE + adi * PA_STRIDE + (pa_off & ~(align - 1));
    if (!g->huge)
        r.pa += SIOV_PAGE_SIZE; /* IOVA and address apart by 4 KiB mod 2 MiB: the driver maps 4 KiB pages */
    r.access = SIOV_PROT_READ | SIOV_PROT_WRITE;
    emit(g, &r);
}

/* Domain, aux attach of every ADI. */
static void setup(struct gen *g)
{
    for (uint32_t i = 0; i < g->adis; i++) {
        struct siov_trace_rec r;
        siov_trace_rec_init(&r, SIOV_TRACE_DOMAIN);
        r.domain = i + 1;
        r.dom_type = SIOV_TRACE_DOM_SL;
        emit(g, &r);
        siov_trace_rec_init(&r, SIOV_TRACE_ATTACH);
        r.domain = i + 1;
        r.sid = (siov_sid)g->sid;
        r.pasid = i + 1;
        emit(g, &r);
    }
}

/* xorshift64*: small, seeded, the same everywhere. */
static uint64_t rnd(struct gen *g)
{
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return g->rng * 0x2545F4914F6CDD1Dull;
}

static void gen_ring(struct gen *g)
{
    uint64_t desc_bytes = g->buffers * 16;
    for (uint32_t i = 0; i < g->adis; i++) {
        map(g, i, DESC_IOVA, desc_bytes, 0);
        map(g, i, BUF_IOVA, g->buffers * g->bufsize, 0x10000000ull);
    }
    for (uint64_t k = 0; k < g->requests && !g->err; k++) {
        uint32_t adi = (uint32_t)(k % g->adis);
        uint64_t slot = (k / g->adis) % g->buffers;
        request(g, SIOV_TRACE_READ, adi, DESC_IOVA + slot * 16, 16);             /* the descriptor */
        request(g, SIOV_TRACE_WRITE, adi, BUF_IOVA + slot * g->bufsize, g->len); /* the packet */
    }
}

static void gen_random(struct gen *g)
{
    uint64_t pages = g->size / SIOV_PAGE_SIZE;
    for (uint32_t i = 0; i < g->adis; i++)
        map(g, i, BUF_IOVA, g->size, 0);
    g->rng = g->seed ? g->seed : 1;
    for (uint64_t k = 0; k < g->requests && !g->err; k++)
        request(g, SIOV_TRACE_READ, (uint32_t)(k % g->adis), BUF_IOVA + (rnd(g) % pages) * SIOV_PAGE_SIZE,
                SIOV_PAGE_SIZE);
}

static void gen_stream(struct gen *g)
{
    for (uint32_t i = 0; i < g->adis; i++) {
        map(g, i, BUF_IOVA, g->size, 0);
        map(g, i, DST_IOVA, g->size, g->size + HUGE); /* the destination after the source */
    }
    uint64_t chunks = g->size / g->chunk;
    for (uint64_t k = 0; k < g->requests && !g->err; k++) {
        uint32_t adi = (uint32_t)(k % g->adis);
        uint64_t off = ((k / g->adis) % chunks) * g->chunk;
        request(g, SIOV_TRACE_READ, adi, BUF_IOVA + off, g->chunk);
        request(g, SIOV_TRACE_WRITE, adi, DST_IOVA + off, g->chunk);
    }
}

static int set_key(struct gen *g, const char *kv)
{
    const char *eq = strchr(kv, '=');
    for (size_t i = 0; eq && i < NKEYS; i++) {
        if (strncmp(kv, keys[i].name, (size_t)(eq - kv)) || keys[i].name[eq - kv])
            continue;
        char *end;
        errno = 0;
        unsigned bus, dev, fn;
        char tail;
        if (!strcmp(keys[i].name, "sid") && sscanf(eq + 1, "%2x:%2x.%1x%c", &bus, &dev, &fn, &tail) == 3 &&
            dev < 32 && fn < 8) { /* bus:dev.fn, as lspci prints it */
            g->sid = SIOV_SID(bus, dev, fn);
            return 0;
        }
        unsigned long long v = strtoull(eq + 1, &end, 0);
        unsigned shift = *end == 'K' ? 10 : *end == 'M' ? 20 : *end == 'G' ? 30 : 0;
        end += shift != 0;
        if (end == eq + 1 || *end || errno || v > (keys[i].max >> shift))
            return fprintf(stderr, "siov-sim tracegen: bad value in '%s' (at most %llu)\n", kv,
                           (unsigned long long)keys[i].max), -1;
        *(uint64_t *)(void *)((char *)g + keys[i].off) = v << shift;
        return 0;
    }
    fprintf(stderr, "siov-sim tracegen: unknown setting '%s'; settings:\n", kv);
    for (size_t i = 0; i < NKEYS; i++)
        fprintf(stderr, "  %-9s %s\n", keys[i].name, keys[i].help);
    return -1;
}

/* Settings that make no workload. */
static const char *invalid(const struct gen *g)
{
    if (!g->adis || !g->requests)
        return "adis and requests must be at least 1";
    if (!strcmp(g->kind, "ring") && (!g->buffers || !g->len || g->len > g->bufsize))
        return "ring needs buffers >= 1 and 1 <= len <= bufsize";
    if (!strcmp(g->kind, "random") && g->size < SIOV_PAGE_SIZE)
        return "random needs size >= 4K";
    if (!strcmp(g->kind, "stream") && (!g->chunk || g->chunk > g->size))
        return "stream needs 1 <= chunk <= size";
    return NULL;
}

int sim_tracegen_main(int argc, char **argv)
{
    struct gen g = {.adis = 1, .requests = 100000, .buffers = 1024, .bufsize = 4096, .len = 1500,
                    .size = 64ull << 20, .chunk = 1024, .seed = 1, .sid = SID_DEFAULT};
    for (int i = 0; i < argc; i++) {
        bool kv = strchr(argv[i], '=') != NULL;
        if (!strcmp(argv[i], "--binary"))
            g.binary = true;
        else if (kv && g.out) {
            if (set_key(&g, argv[i]) < 0)
                return 2;
        } else if (!kv && !g.kind)
            g.kind = argv[i];
        else if (!kv && !g.out)
            g.out = argv[i];
        else
            return fprintf(stderr, "siov-sim tracegen: bad argument '%s'\n", argv[i]), 2;
    }
    if (!g.kind || !g.out || (strcmp(g.kind, "ring") && strcmp(g.kind, "random") && strcmp(g.kind, "stream")))
        return fprintf(stderr, "siov-sim tracegen: usage: siov-sim tracegen ring|random|stream OUT "
                               "[key=value...] [--binary]\n"), 2;
    if (!strcmp(g.kind, "stream") && g.size == 64ull << 20)
        g.size = 1ull << 20; /* a copy engine's default working set: 1 MiB each way */
    const char *bad = invalid(&g);
    if (bad)
        return fprintf(stderr, "siov-sim tracegen: %s\n", bad), 2;
    g.t = siov_trace_open(g.out, g.binary ? "wb" : "w");
    if (!g.t)
        return fprintf(stderr, "siov-sim tracegen: cannot write %s: %s\n", g.out, strerror(errno)), 2;
    setup(&g);
    if (!strcmp(g.kind, "ring"))
        gen_ring(&g);
    else if (!strcmp(g.kind, "random"))
        gen_random(&g);
    else
        gen_stream(&g);
    uint64_t n = siov_trace_count(g.t);
    int rc = siov_trace_close(g.t);
    if (g.err || rc)
        return fprintf(stderr, "siov-sim tracegen: writing %s: %s\n", g.out, strerror(-(g.err ? g.err : rc))), 2;
    printf("tracegen %s -> %s: %llu records\n", g.kind, g.out, (unsigned long long)n);
    return 0;
}

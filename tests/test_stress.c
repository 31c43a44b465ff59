/* Concurrency stress: translating threads and one mutator run at once.
 *
 * The mutator cycles each test page through four states (target A, target
 * B, not present, target C) by changing its leaf entry (second-level,
 * first-level and nested domains), or by pointing its PASID-table entry at
 * another second-level tree or clearing it. After each change it submits
 * the invalidation the change needs through the queue, waits for its
 * inv-wait status, and only then publishes the page's new generation (release); now
 * and then it also services the fault records the translators fill. A
 * translator reads the generation (acquire) before translating and again
 * after, and checks its result against the states of that window: a result
 * that only the state BEFORE the starting generation explains is stale — the
 * unit answered from a cache after the invalidation of that state completed.
 *
 * Self-check: with the invalidation deliberately left out, the same checker
 * must see stale results, single-threaded and from the threads, whenever the
 * IOTLB caches at all (iotlb_hits > 0); otherwise the test could not fail.
 *
 * Bounded: SIOV_STRESS_MS (default 1500) per concurrent phase, and an
 * iteration cap per thread; SIOV_STRESS_THREADS translators (default: the
 * online CPUs, at least 2). The test asserts correctness only: how many
 * translations and table changes a phase gets through depends on the
 * machine, so it reports them (per second) and requires none.
 */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testlib.h"

#define NDOMS 4
#define NPAGES 16          /* cycled pages per domain */
#define NSTATES 4          /* A, B, not present, C */
#define STATE_NP 2
#define MAX_THREADS 16
#define TRANSLATOR_ITER_CAP 50000000ull
#define MUTATOR_ITER_CAP 5000000ull
#define OMIT_PHASE_MS 1000
#define IQ_SLOTS 128u      /* one 4 KiB page of 256-bit descriptors */
#define IQ_DSC_BYTES 32u
#define WAIT_SPINS 1000000u

static const siov_sid SID = SIOV_SID(0, 1, 0);

/* DOM_PASID: each page has its own PASID, whose PASID-table entry the mutator
   points at one of three second-level roots (or clears): a PASID-cache change. */
enum dom_kind { DOM_SL, DOM_FL, DOM_NESTED, DOM_PASID };

struct page {
    uint64_t iova;
    uint32_t pasid;
    uint64_t leaf_gpa;      /* the word the mutator changes: its leaf entry (nested: FL
                               tables sit at identity-mapped GPAs), or qw0 of its PASID entry */
    uint64_t value[NSTATES]; /* that word in each state */
    uint64_t target[3];     /* outputs of states 0, 1 and 3 */
    uint64_t gen;           /* published generation (atomic): state = gen % NSTATES */
};

struct dom {
    enum dom_kind kind;
    uint32_t pasid;
    uint16_t did;
    struct page pages[NPAGES];
};

struct counts {
    uint64_t translations, ok, stale, wrong, unchecked;
};

struct world {
    struct tl *t;           /* builds the tables (and owns the flat memory) */
    struct siov_iommu *u;   /* the unit under test: t's, or one over slow memory */
    struct siov_mem *slow;  /* callback memory over the same bytes, or NULL */
    uint64_t slow_reads;    /* atomic: leaf reads through slow memory */
    uint8_t leaf_page[TL_MEM_SIZE / SIOV_PAGE_SIZE]; /* pages holding test leaves */
    uint8_t *flat;
    uint64_t dir;           /* PASID directory of SID */
    struct dom doms[NDOMS];
    uint64_t iq, status;    /* queue page and inv-wait status word */
    unsigned iq_tail;
    uint32_t seq;
    bool iq_ok;             /* the queue completes inv-waits */
    int stop;               /* atomic: threads stop when set */
    int omit;               /* atomic: the mutator leaves invalidations out */
    uint64_t stale_seen;    /* atomic: stale results so far */
    uint64_t flips;         /* mutator: changes made */
    pthread_mutex_t report_lock;
    char first_bad[192];    /* the first stale or wrong result (under report_lock) */
};

struct translator {
    struct world *w;
    uint64_t seed;
    struct counts c;
};

/* ------------------------------------------------------------ tables */
static uint64_t target_of(const struct page *p, unsigned state)
{
    return p->target[state < STATE_NP ? state : 2];
}

/* The word changes as a CPU store would change it: one atomic 64-bit write. */
static void write_leaf(struct world *w, const struct dom *d, const struct page *p, unsigned state)
{
    (void)d;
    __atomic_store_n((uint64_t *)(void *)(w->flat + p->leaf_gpa), p->value[state], __ATOMIC_RELEASE);
}

/* Nested: second-level tables mapping all guest memory 1:1 with 2 MiB pages. */
static uint64_t identity_sl(struct tl *t)
{
    uint64_t root = tl_page(t);
    for (uint64_t gpa = 0; gpa < TL_MEM_SIZE; gpa += 2ull << 20)
        tl_map(t, root, 4, false, gpa, gpa, 2ull << 20, TL_SL_RW, TL_SL_RWX);
    return root;
}

/* Three distinct target pages; every word holds its own address, so DMA data names its page. */
static void make_targets(struct tl *t, struct page *p, uint64_t *next_data)
{
    for (unsigned k = 0; k < 3; k++, *next_data += SIOV_PAGE_SIZE) {
        p->target[k] = *next_data;
        for (uint64_t a = p->target[k]; a < p->target[k] + SIOV_PAGE_SIZE; a += 8)
            tl_w64(t, a, a);
    }
}

/* A leaf-changing domain: one table tree, each page's leaf cycles through its targets. */
static void build_leaf_dom(struct world *w, struct dom *d, unsigned index, uint64_t *next_data)
{
    struct tl *t = w->t;
    bool fl = d->kind != DOM_SL;
    uint64_t root = tl_page(t), pe[8];
    for (unsigned i = 0; i < NPAGES; i++) {
        struct page *p = &d->pages[i];
        /* each page in its own page table, over two PDPT entries */
        p->iova = (4ull << 30) * (index + 1) + (uint64_t)(i & 1) * (1ull << 30) + (uint64_t)i * 0x201000;
        p->pasid = d->pasid;
        make_targets(t, p, next_data);
        p->leaf_gpa = tl_map(t, root, 4, fl, p->iova, p->target[0], SIOV_PAGE_SIZE,
                             fl ? TL_FL_URW | SIOV_FL_A | SIOV_FL_D : TL_SL_RW, fl ? TL_FL_URW | SIOV_FL_A : TL_SL_RWX);
        for (unsigned k = 0; k < NSTATES; k++)
            p->value[k] = k == STATE_NP ? 0 : (tl_r64(t, p->leaf_gpa) & ~SIOV_SL_ADDR) | target_of(p, k);
        w->leaf_page[p->leaf_gpa / SIOV_PAGE_SIZE] = 1;
    }
    if (d->kind == DOM_SL)
        tl_pe_sl(pe, d->did, root, SIOV_AW_4LVL);
    else if (d->kind == DOM_FL)
        tl_pe_fl(pe, d->did, root, SIOV_FLPM_4LVL);
    else
        tl_pe_nested(pe, d->did, root, SIOV_FLPM_4LVL, identity_sl(t), SIOV_AW_4LVL);
    if (index == 0)
        pe[0] |= SIOV_PTE0_FPD; /* one domain's faults unrecorded, the others' recorded */
    tl_pasid_entry(t, w->dir, d->pasid, pe);
}

/* The PASID-switching domain: three second-level trees map every page to its
   target of that state; page i's PASID entry names one tree, or is cleared. */
static void build_pasid_dom(struct world *w, struct dom *d, unsigned index, uint64_t *next_data)
{
    struct tl *t = w->t;
    uint64_t roots[3] = {tl_page(t), tl_page(t), tl_page(t)}, pe[8];
    for (unsigned i = 0; i < NPAGES; i++) {
        struct page *p = &d->pages[i];
        p->iova = (4ull << 30) * (index + 1) + (uint64_t)i * 0x201000;
        p->pasid = d->pasid + i;
        make_targets(t, p, next_data);
        for (unsigned k = 0; k < 3; k++)
            tl_map(t, roots[k], 4, false, p->iova, p->target[k], SIOV_PAGE_SIZE, TL_SL_RW, TL_SL_RWX);
        for (unsigned k = 0; k < NSTATES; k++) {
            tl_pe_sl(pe, d->did, roots[k < STATE_NP ? k : 2], SIOV_AW_4LVL);
            p->value[k] = k == STATE_NP ? 0 : pe[0];
        }
        tl_pe_sl(pe, d->did, roots[0], SIOV_AW_4LVL);
        p->leaf_gpa = tl_pasid_entry(t, w->dir, p->pasid, pe);
        w->leaf_page[p->leaf_gpa / SIOV_PAGE_SIZE] = 1;
    }
}

static void build_dom(struct world *w, struct dom *d, unsigned index, uint64_t *next_data)
{
    if (d->kind == DOM_PASID)
        build_pasid_dom(w, d, index, next_data);
    else
        build_leaf_dom(w, d, index, next_data);
    for (unsigned i = 0; i < NPAGES; i++)
        write_leaf(w, d, &d->pages[i], 0);
}

/* ------------------------------------------------------------ the queue */
static void iq_put(struct world *w, uint64_t qw0, uint64_t qw1)
{
    uint64_t at = w->iq + (uint64_t)w->iq_tail * IQ_DSC_BYTES;
    tl_w64(w->t, at, qw0);
    tl_w64(w->t, at + 8, qw1);
    tl_w64(w->t, at + 16, 0);
    tl_w64(w->t, at + 24, 0);
    w->iq_tail = (w->iq_tail + 1) % IQ_SLOTS;
}

/* Submit n descriptors (qw0/qw1 pairs) and an inv-wait; true once its status is written. */
static bool invalidate(struct world *w, const uint64_t (*dsc)[2], unsigned n)
{
    uint32_t seq = ++w->seq;
    for (unsigned i = 0; i < n; i++)
        iq_put(w, dsc[i][0], dsc[i][1]);
    iq_put(w, siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, seq),
           siov_set(0, SIOV_WAIT1_SADDR, w->status >> 2));
    siov_mmio_write(w->u, SIOV_REG_IQT, (uint64_t)w->iq_tail * IQ_DSC_BYTES, 8);
    const uint32_t *status = (const uint32_t *)(const void *)(w->flat + w->status);
    for (unsigned spin = 0; spin < WAIT_SPINS; spin++) {
        if (__atomic_load_n(status, __ATOMIC_ACQUIRE) == seq)
            return true;
        sched_yield();
    }
    return false;
}

static void queue_enable(struct world *w)
{
    w->iq = tl_page(w->t);
    w->status = tl_page(w->t);
    siov_mmio_write(w->u, SIOV_REG_IQA, w->iq | SIOV_IQA_DW, 8);
    uint32_t gsts = (uint32_t)siov_mmio_read(w->u, SIOV_REG_GSTS, 4) & (uint32_t)SIOV_GSTS_TES;
    siov_mmio_write(w->u, SIOV_REG_GCMD, gsts | SIOV_GCMD_QIE, 4);
    w->iq_ok = invalidate(w, NULL, 0);
}

static uint64_t dsc_g(unsigned type, unsigned g, uint16_t did)
{
    return siov_dsc_make_type(type) | siov_set(0, SIOV_IOTLB0_G, g) | siov_set(0, SIOV_IOTLB0_DID, did);
}

/* The invalidations that cover a change of p's word in d, of a kind chosen by
   r (facts 10.2): global, domain-selective, PASID-selective (first level and
   nested), or page-selective (IOTLB PSI also drops a DID's first-level and
   nested entries; PIOTLB PSI only first-level and nested ones). A PASID-entry
   change needs the PASID cache first (PASID- or domain-selective, or global).
   Returns how many descriptors it wrote. */
static unsigned covering_dsc(const struct dom *d, const struct page *p, uint64_t r, uint64_t dsc[2][2])
{
    unsigned kind = (unsigned)(r % 8), n = 0;
    bool tagged = d->kind == DOM_FL || d->kind == DOM_NESTED;
    uint64_t pasid = siov_set(0, SIOV_PIOTLB0_PASID, p->pasid);
    if (d->kind == DOM_PASID) {
        static const unsigned pc_gran[3] = {SIOV_PC_GRAN_GLOBAL, SIOV_PC_GRAN_DOMAIN, SIOV_PC_GRAN_PASID};
        unsigned g = pc_gran[kind < 2 ? kind : 2];
        dsc[n][0] = dsc_g(SIOV_DSC_PC, g, d->did) | (g == SIOV_PC_GRAN_PASID ? pasid : 0);
        dsc[n++][1] = 0;
    }
    dsc[n][1] = 0;
    if (kind == 0) {
        dsc[n][0] = dsc_g(SIOV_DSC_IOTLB, SIOV_INV_GRAN_GLOBAL, 0);
    } else if (kind == 1) {
        dsc[n][0] = dsc_g(SIOV_DSC_IOTLB, SIOV_INV_GRAN_DOMAIN, d->did);
    } else if (kind <= 3 && tagged) {
        dsc[n][0] = dsc_g(SIOV_DSC_PIOTLB, SIOV_PIOTLB_GRAN_PASID, d->did) | pasid;
    } else if (kind <= 4 || !tagged) {
        dsc[n][0] = dsc_g(SIOV_DSC_IOTLB, SIOV_INV_GRAN_PAGE, d->did);
        dsc[n][1] = p->iova & SIOV_INV1_ADDR;
    } else {
        dsc[n][0] = dsc_g(SIOV_DSC_PIOTLB, SIOV_PIOTLB_GRAN_PAGE, d->did) | pasid;
        dsc[n][1] = p->iova & SIOV_INV1_ADDR;
    }
    return n + 1;
}

/* ------------------------------------------------------------ slow memory */
/* Slow memory: a callback backend over the same bytes that stalls after half
   the reads of leaf entries, so walks hold the leaf they read for longer than
   the mutator needs for its next change and invalidation: a fill racing an
   invalidation becomes likely rather than rare. */
#define SLOW_READ_EVERY 2
#define SLOW_READ_NS 5000

static void spin_ns(uint64_t ns)
{
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    do
        clock_gettime(CLOCK_MONOTONIC, &b);
    while ((uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ull + (uint64_t)b.tv_nsec - (uint64_t)a.tv_nsec < ns);
}

static bool in_mem(uint64_t gpa, size_t len)
{
    return len <= TL_MEM_SIZE && gpa <= TL_MEM_SIZE - len;
}

/* Aligned 8-byte accesses are atomic, as the flat backend's table accesses are. */
static int slow_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct world *w = opaque;
    if (!in_mem(gpa, len))
        return -1;
    if (len != 8 || (gpa & 7)) {
        memcpy(dst, w->flat + gpa, len);
        return 0;
    }
    uint64_t v = __atomic_load_n((uint64_t *)(void *)(w->flat + gpa), __ATOMIC_ACQUIRE);
    if (w->leaf_page[gpa / SIOV_PAGE_SIZE] &&
        __atomic_fetch_add(&w->slow_reads, 1, __ATOMIC_RELAXED) % SLOW_READ_EVERY == 0)
        spin_ns(SLOW_READ_NS);
    memcpy(dst, &v, 8);
    return 0;
}

static int slow_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct world *w = opaque;
    if (!in_mem(gpa, len))
        return -1;
    if (len != 8 || (gpa & 7)) {
        memcpy(w->flat + gpa, src, len);
        return 0;
    }
    uint64_t v;
    memcpy(&v, src, 8);
    __atomic_store_n((uint64_t *)(void *)(w->flat + gpa), v, __ATOMIC_RELEASE);
    return 0;
}

/* A second unit over slow memory, pointed at the root table t built. */
static void slow_unit(struct world *w)
{
    static const struct siov_mem_ops ops = {.read = slow_read, .write = slow_write};
    w->slow = siov_mem_new(&ops, w);
    assert_non_null(w->slow);
    w->u = siov_iommu_new(w->slow, NULL);
    assert_non_null(w->u);
    siov_mmio_write(w->u, SIOV_REG_RTADDR, siov_set(w->t->root, SIOV_RTADDR_TTM, SIOV_TTM_SCALABLE), 8);
    siov_mmio_write(w->u, SIOV_REG_GCMD, SIOV_GCMD_SRTP, 4);
    siov_mmio_write(w->u, SIOV_REG_GCMD, SIOV_GCMD_TE, 4);
    assert_true(siov_mmio_read(w->u, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES);
}

static struct world *world_new(bool slow)
{
    struct world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->t = tl_new(NULL);
    w->u = w->t->iommu;
    w->flat = siov_mem_flat_ptr(w->t->mem);
    assert_non_null(w->flat);
    pthread_mutex_init(&w->report_lock, NULL);
    tl_enable(w->t, SIOV_TTM_SCALABLE);
    w->dir = tl_sm_context_default(w->t, SID, 0);
    static const enum dom_kind kinds[NDOMS] = {DOM_SL, DOM_FL, DOM_NESTED, DOM_PASID};
    uint64_t next_data = TL_DATA_BASE;
    for (unsigned i = 0; i < NDOMS; i++) {
        w->doms[i] = (struct dom){.kind = kinds[i], .pasid = 5 + 64 * i, .did = (uint16_t)(3 + i)};
        build_dom(w, &w->doms[i], i, &next_data);
    }
    if (slow)
        slow_unit(w);
    queue_enable(w);
    return w;
}

static void world_free(struct world *w)
{
    pthread_mutex_destroy(&w->report_lock);
    if (w->slow) {
        siov_iommu_free(w->u);
        siov_mem_free(w->slow);
    }
    tl_free(w->t);
    free(w);
}

/* ------------------------------------------------------------ the checker */
enum verdict { V_OK, V_STALE, V_WRONG, V_UNCHECKED };

static siov_fault np_fault(const struct dom *d)
{
    return d->kind == DOM_SL ? SIOV_FAULT_SSL_2 : d->kind == DOM_PASID ? SIOV_FAULT_SPT_2 : SIOV_FAULT_SFL_2;
}

/* What one request returned, at which offset into its page. */
struct result {
    uint64_t off;
    siov_fault f;
    struct siov_xlate x;
};

/* Whether res is what generation gen's state gives. */
static bool matches(const struct dom *d, const struct page *p, uint64_t gen, const struct result *res)
{
    unsigned state = (unsigned)(gen % NSTATES);
    if (state == STATE_NP)
        return res->f == np_fault(d);
    return res->f == SIOV_OK && res->x.addr == target_of(p, state) + res->off &&
           res->x.page_size == SIOV_PAGE_SIZE && res->x.did == d->did;
}

/* The verdict on a request that started at generation g0 and ended by g1. */
static enum verdict check(const struct dom *d, const struct page *p, uint64_t g0, uint64_t g1,
                          const struct result *res)
{
    /* the mutator may have written state g1 + 1 without publishing it; the
       state before g0 is told apart from [g0, g1 + 1] only while g1 - g0 <= 1 */
    if (g1 - g0 > 1)
        return V_UNCHECKED;
    for (uint64_t g = g0; g <= g1 + 1; g++)
        if (matches(d, p, g, res))
            return V_OK;
    return g0 > 0 && matches(d, p, g0 - 1, res) ? V_STALE : V_WRONG;
}

static void note_bad(struct world *w, const struct dom *d, const struct page *p, uint64_t g0,
                     const struct result *res)
{
    pthread_mutex_lock(&w->report_lock);
    if (!w->first_bad[0])
        snprintf(w->first_bad, sizeof(w->first_bad),
                 "domain %u page 0x%llx gen %llu: fault %s addr 0x%llx (state %u expected)", (unsigned)d->kind,
                 (unsigned long long)p->iova, (unsigned long long)g0, siov_fault_name(res->f),
                 (unsigned long long)(res->f ? 0 : res->x.addr), (unsigned)(g0 % NSTATES));
    pthread_mutex_unlock(&w->report_lock);
}

/* One request for p at res->off (random access; a translation, or an 8-byte
   DMA read whose data names the address it came from). */
static void request(struct world *w, const struct dom *d, const struct page *p, uint64_t r, struct result *res)
{
    uint64_t iova = p->iova + res->off;
    if (r & 4) {
        uint64_t word = 0;
        res->f = siov_dma_read(w->u, SID, p->pasid, iova, &word, sizeof(word));
        res->x = (struct siov_xlate){word, SIOV_PAGE_SIZE, SIOV_ACCESS_READ, d->did};
        return;
    }
    unsigned access = (r & 1) ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ;
    res->f = siov_translate(w->u, SID, p->pasid, iova, access, &res->x);
}

/* Request page p of d once and judge the result; counts into c. */
static enum verdict probe(struct world *w, const struct dom *d, const struct page *p, uint64_t r, struct counts *c)
{
    struct result res = {.off = (r >> 8) & 0xFF8};
    uint64_t g0 = __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE);
    request(w, d, p, r, &res);
    uint64_t g1 = __atomic_load_n(&p->gen, __ATOMIC_ACQUIRE);
    enum verdict v = check(d, p, g0, g1, &res);
    c->translations++;
    switch (v) {
    case V_OK: c->ok++; break;
    case V_UNCHECKED: c->unchecked++; break;
    case V_STALE:
        c->stale++;
        __atomic_fetch_add(&w->stale_seen, 1, __ATOMIC_RELAXED);
        break;
    case V_WRONG: c->wrong++; break;
    }
    if ((v == V_WRONG || v == V_STALE) && !__atomic_load_n(&w->omit, __ATOMIC_RELAXED))
        note_bad(w, d, p, g0, &res);
    return v;
}

/* ------------------------------------------------------------ threads */
static uint64_t rnd(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 0x2545F4914F6CDD1Dull;
}

static void *translator_main(void *arg)
{
    struct translator *tr = arg;
    struct world *w = tr->w;
    for (uint64_t i = 0; i < TRANSLATOR_ITER_CAP && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE); i++) {
        uint64_t r = rnd(&tr->seed);
        const struct dom *d = &w->doms[(r >> 32) % NDOMS];
        probe(w, d, &d->pages[(r >> 40) % NPAGES], r, &tr->c);
    }
    return NULL;
}

/* One change: the next state of a page, its invalidation (unless omitting),
   then the new generation. Half the changes hit the page changed last, so
   that walks started after its invalidation are still running: a fill from
   such a walk must not outlive the next invalidation. */
static void mutate_once(struct world *w, uint64_t r, bool omit, unsigned *last)
{
    if (omit || (r & 0x10))
        *last = (unsigned)((r >> 32) % (NDOMS * NPAGES));
    struct dom *d = &w->doms[omit ? 0 : *last / NPAGES];
    struct page *p = &d->pages[*last % NPAGES];
    uint64_t g = __atomic_load_n(&p->gen, __ATOMIC_RELAXED) + 1;
    uint64_t dsc[2][2];
    write_leaf(w, d, p, (unsigned)(g % NSTATES));
    unsigned n = covering_dsc(d, p, r, dsc);
    if (!omit && w->iq_ok && !invalidate(w, (const uint64_t(*)[2])dsc, n))
        __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE); /* the queue stopped answering: fail below */
    __atomic_store_n(&p->gen, g, __ATOMIC_RELEASE);
    w->flips++;
}

/* Software servicing faults while translators record new ones: clear every
   fault record (F is RW1C) and the overflow status. */
static void clear_faults(struct world *w)
{
    unsigned n = (unsigned)siov_get(siov_mmio_read(w->u, SIOV_REG_CAP, 8), SIOV_CAP_NFR) + 1;
    for (unsigned i = 0; i < n; i++)
        siov_mmio_write(w->u, SIOV_REG_FRCD + (uint64_t)i * SIOV_FRCD_SIZE + 8, SIOV_FRCD1_F, 8);
    siov_mmio_write(w->u, SIOV_REG_FSTS, SIOV_FSTS_PFO, 4);
}

static void *mutator_main(void *arg)
{
    struct world *w = arg;
    uint64_t s = 0x5EED0F5EEDull;
    unsigned last = 0;
    for (uint64_t i = 0; i < MUTATOR_ITER_CAP && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE); i++) {
        bool omit = __atomic_load_n(&w->omit, __ATOMIC_RELAXED);
        if (i % 64 == 63)
            clear_faults(w);
        mutate_once(w, rnd(&s), omit, &last);
        if (omit) /* let the translators meet the stale entry */
            sched_yield();
    }
    return NULL;
}

/* ------------------------------------------------------------ phases */
static unsigned env_uint(const char *name, unsigned def, unsigned lo, unsigned hi)
{
    const char *s = getenv(name);
    unsigned long v = s ? strtoul(s, NULL, 10) : def;
    return v < lo ? lo : v > hi ? hi : (unsigned)v;
}

static unsigned translator_count(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return env_uint("SIOV_STRESS_THREADS", cpus > 2 ? (unsigned)cpus : 2, 1, MAX_THREADS);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Translators and the mutator for ms milliseconds (an omitting phase ends at
   the first stale result); the translators' counts, summed. */
static struct counts run_phase(struct world *w, unsigned ms, bool omit)
{
    struct translator tr[MAX_THREADS];
    pthread_t tid[MAX_THREADS], mut;
    unsigned n = translator_count();
    __atomic_store_n(&w->stop, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&w->omit, omit, __ATOMIC_RELEASE);
    __atomic_store_n(&w->stale_seen, 0, __ATOMIC_RELEASE);
    for (unsigned i = 0; i < n; i++) {
        tr[i] = (struct translator){.w = w, .seed = 0x9E3779B97F4A7C15ull * (i + 1)};
        assert_int_equal(pthread_create(&tid[i], NULL, translator_main, &tr[i]), 0);
    }
    assert_int_equal(pthread_create(&mut, NULL, mutator_main, w), 0);
    for (unsigned t = 0; t < ms && !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE); t += 10) {
        if (omit && __atomic_load_n(&w->stale_seen, __ATOMIC_RELAXED))
            break;
        sleep_ms(10);
    }
    __atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
    struct counts sum = {0};
    for (unsigned i = 0; i < n; i++) {
        pthread_join(tid[i], NULL);
        sum.translations += tr[i].c.translations;
        sum.ok += tr[i].c.ok;
        sum.stale += tr[i].c.stale;
        sum.wrong += tr[i].c.wrong;
        sum.unchecked += tr[i].c.unchecked;
    }
    pthread_join(mut, NULL);
    return sum;
}

static bool iotlb_caches(const struct world *w)
{
    struct siov_stats st;
    siov_iommu_stats(w->u, &st);
    return st.iotlb_hits > 0;
}

static void print_counts(const char *phase, const struct world *w, const struct counts *c)
{
    print_message("%s: %llu translations (%llu ok, %llu stale, %llu wrong, %llu unchecked), %llu changes, "
                  "queue %s, IOTLB %s\n",
                  phase, (unsigned long long)c->translations, (unsigned long long)c->ok,
                  (unsigned long long)c->stale, (unsigned long long)c->wrong, (unsigned long long)c->unchecked,
                  (unsigned long long)w->flips, w->iq_ok ? "working" : "not processing",
                  iotlb_caches(w) ? "caching" : "not caching");
    if (w->first_bad[0])
        print_message("first bad result: %s\n", w->first_bad);
}

/* ------------------------------------------------------------ tests */
/* Every result of every thread matches the tables as of its start or later. */
static void stress(bool slow)
{
    struct world *w = world_new(slow);
    unsigned ms = env_uint("SIOV_STRESS_MS", 1500, 50, 600000);
    struct counts c = run_phase(w, ms, false);
    print_counts(slow ? "stress, slow memory" : "stress", w, &c);
    print_message("throughput (reported, not required): %.0f translations/s, %.0f table changes/s\n",
                  (double)c.translations * 1000.0 / ms, (double)w->flips * 1000.0 / ms);
    assert_int_equal(c.wrong, 0);
    assert_int_equal(c.stale, 0);
    assert_true(c.ok >= c.translations - c.translations / 10); /* nearly all results were checked */
    /* a unit whose queue does nothing is only correct if it caches nothing */
    if (!w->iq_ok)
        assert_false(iotlb_caches(w));
    struct siov_stats st;
    siov_iommu_stats(w->u, &st);
    print_message("faults: %llu, recorded %llu\n", (unsigned long long)st.faults,
                  (unsigned long long)st.faults_recorded);
    assert_true(st.faults_recorded <= st.faults);
    world_free(w);
}

static void test_translate_while_invalidating(void **state)
{
    (void)state;
    stress(false);
}

/* The same over memory that stalls walks: fills racing invalidations. */
static void test_translate_while_invalidating_slow_walks(void **state)
{
    (void)state;
    stress(true);
}

/* Single-threaded: a change without its invalidation is seen stale (when the
   IOTLB caches); the invalidation then makes the new state visible. */
static void test_omitted_invalidation_seen(void **state)
{
    (void)state;
    struct world *w = world_new(false);
    struct counts c = {0};
    for (unsigned i = 0; i < NDOMS; i++) {
        struct dom *d = &w->doms[i];
        struct page *p = &d->pages[i];
        assert_int_equal(probe(w, d, p, 0, &c), V_OK);     /* fills the IOTLB: state 0 */
        assert_int_equal(probe(w, d, p, 0, &c), V_OK);
        bool caching = iotlb_caches(w);
        for (uint64_t g = 1; g <= STATE_NP; g++) {        /* A -> B, then B -> not present */
            write_leaf(w, d, p, (unsigned)g);
            __atomic_store_n(&p->gen, g, __ATOMIC_RELEASE);
            assert_int_equal(probe(w, d, p, 0, &c), caching ? V_STALE : V_OK);
            uint64_t dsc[2][2];
            unsigned n = covering_dsc(d, p, 4 + g, dsc);  /* page-selective (and PASID-cache) */
            if (w->iq_ok)
                assert_true(invalidate(w, (const uint64_t(*)[2])dsc, n));
            assert_int_equal(probe(w, d, p, 0, &c), V_OK);
        }
        print_message("domain kind %u: IOTLB %s\n", (unsigned)d->kind, caching ? "caching" : "not caching");
    }
    world_free(w);
}

/* From the threads: with invalidations left out, stale results are reported. */
static void test_omitted_invalidation_seen_by_threads(void **state)
{
    (void)state;
    struct world *w = world_new(false);
    struct counts warm = run_phase(w, 100, false);
    assert_int_equal(warm.wrong + warm.stale, 0);
    struct counts c = run_phase(w, OMIT_PHASE_MS, true);
    print_counts("omitting invalidations", w, &c);
    if (iotlb_caches(w))
        assert_true(c.stale > 0);
    else
        assert_int_equal(c.stale, 0);
    world_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_translate_while_invalidating),
        cmocka_unit_test(test_translate_while_invalidating_slow_walks),
        cmocka_unit_test(test_omitted_invalidation_seen),
        cmocka_unit_test(test_omitted_invalidation_seen_by_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

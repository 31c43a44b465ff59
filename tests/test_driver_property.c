/* Randomized property test of the reference driver: thousands of map, unmap,
 * attach, detach, aux attach/detach, aux enable/disable and domain
 * free/recreate operations over several devices and domains of every type,
 * run against a plain reference model. After every step, sampled (device,
 * PASID, address) triples go through siov_translate on the hardware model,
 * IOTLB in use, and must translate exactly as the reference says: the
 * address and DID, or the exact fault reason. Addresses recently translated
 * are sampled again, so a missing invalidation leaves a stale entry that the
 * test sees. Seeded: SIOV_SEED=<n> repeats a run. The seed is printed (to
 * stderr, flushed, so an abort keeps it) when the run starts, and again
 * after a failing case with the command that replays it. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "testlib.h"

#define MEM_SIZE (128ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (64ull << 20)
#define K4 0x1000ull
#define M2 0x200000ull
#define G1 0x40000000ull
#define WIN (1 * G1)        /* every domain's addresses: [WIN, WIN + 4G) */
#define WIN_4K (WIN)        /* 4 KiB-class maps go here ... */
#define WIN_2M (WIN + G1 / 4) /* ... 2 MiB-class here ... */
#define WIN_1G (2 * G1)     /* ... 1 GiB-class here */
#define WIN_END (5 * G1)
#define HPA (8 * G1)
#define NDEV 4
#define NDOM 7
#define NOPS 10000
#define SAMPLES 8
#define RING 64
#define MAXPASID 4096 /* probes stay in the first 64 PASID tables */

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static uint64_t below(struct rng *r, uint64_t n)
{
    return rnd(r) % n;
}

/* ------------------------------------------------------- reference model */

struct extent {
    uint64_t iova, size, pa;
    unsigned prot;
};

enum kind { K_SL, K_FL, K_NESTED, K_PT };

struct rdom {
    enum kind kind;
    int parent; /* nested: slot of the parent */
    struct siov_domain *dom;
    struct extent *ext;
    size_t next, cext;
    int pasid; /* -1 when not aux-attached */
};

struct rdev {
    siov_sid sid;
    int rid;          /* slot attached without PASID, or -1 */
    bool aux_enabled;
    unsigned aux;     /* bitmask of aux-attached slots */
    uint64_t tables;  /* PASID tables present: bit i for directory entry i */
};

struct hot {
    int dv;
    uint32_t pasid;
    uint64_t addr;
};

struct world {
    struct rng rng;
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
    struct rdom dom[NDOM];
    struct rdev dev[NDEV];
    uint64_t ring[RING]; /* recently touched addresses */
    unsigned ring_pos;
    struct hot hot[RING]; /* recent successful translations */
    unsigned hot_n;
    unsigned long steps, samples, faults_checked, ok_checked;
};

static const enum kind slot_kind[NDOM] = {K_SL, K_FL, K_SL, K_NESTED, K_FL, K_PT, K_SL};
#define NESTED_PARENT 2

static void note(struct world *w, uint64_t addr)
{
    w->ring[w->ring_pos++ % RING] = addr;
}

static const struct extent *ref_find(const struct rdom *d, uint64_t a)
{
    for (size_t i = 0; i < d->next; i++)
        if (a >= d->ext[i].iova && a - d->ext[i].iova < d->ext[i].size)
            return &d->ext[i];
    return NULL;
}

static bool ref_overlaps(const struct rdom *d, uint64_t lo, uint64_t hi)
{
    for (size_t i = 0; i < d->next; i++)
        if (d->ext[i].iova < hi && lo < d->ext[i].iova + d->ext[i].size)
            return true;
    return false;
}

static void ref_add(struct rdom *d, struct extent e)
{
    if (d->next == d->cext) {
        d->cext = d->cext ? d->cext * 2 : 16;
        d->ext = realloc(d->ext, d->cext * sizeof(*d->ext));
        assert_non_null(d->ext);
    }
    d->ext[d->next++] = e;
}

/* Remove [lo, hi) from the reference; the bytes it held. */
static uint64_t ref_remove(struct rdom *d, uint64_t lo, uint64_t hi)
{
    uint64_t bytes = 0;
    for (size_t i = 0; i < d->next;) {
        struct extent e = d->ext[i];
        uint64_t a = e.iova > lo ? e.iova : lo, b = e.iova + e.size < hi ? e.iova + e.size : hi;
        if (a >= b) {
            i++;
            continue;
        }
        bytes += b - a;
        d->ext[i] = d->ext[--d->next];
        if (e.iova < a)
            ref_add(d, (struct extent){e.iova, a - e.iova, e.pa, e.prot});
        if (b < e.iova + e.size)
            ref_add(d, (struct extent){b, e.iova + e.size - b, e.pa + (b - e.iova), e.prot});
    }
    return bytes;
}

static bool dev_set_up(const struct rdev *v)
{
    return v->rid >= 0 || v->aux_enabled || v->aux;
}

static unsigned half_of(siov_sid sid)
{
    return SIOV_SID_BUS(sid) << 1 | SIOV_SID_DEVFN(sid) >> 7;
}

/* ---------------------------------------------------- expected outcome */

struct expect {
    siov_fault f;
    uint64_t addr;
    unsigned perm;
    int slot;
};

/* Through domain slot s: the output of addr, or the fault. */
static struct expect through(const struct world *w, int s, uint64_t addr, unsigned access)
{
    const struct rdom *d = &w->dom[s];
    struct expect e = {.slot = s, .perm = SIOV_ACCESS_READ | SIOV_ACCESS_WRITE};
    if (d->kind == K_PT) {
        bool intr = addr >= SIOV_INTR_BASE && addr <= SIOV_INTR_LIMIT;
        e.f = intr ? SIOV_FAULT_SGN_8 : SIOV_OK;
        e.addr = addr;
        return e;
    }
    const struct extent *x = ref_find(d, addr);
    if (!x) {
        e.f = d->kind == K_SL ? SIOV_FAULT_SSL_2 : SIOV_FAULT_SFL_2;
        return e;
    }
    uint64_t out = x->pa + (addr - x->iova);
    unsigned prot = x->prot;
    if (d->kind == K_NESTED) {
        if ((access & SIOV_ACCESS_WRITE) && !(prot & SIOV_PROT_WRITE)) {
            e.f = SIOV_FAULT_SGN_6; /* first-level permissions are checked before the final GPA walk */
            return e;
        }
        const struct extent *y = ref_find(&w->dom[d->parent], out);
        if (!y) {
            e.f = SIOV_FAULT_SSL_2;
            return e;
        }
        out = y->pa + (out - y->iova);
        prot &= y->prot;
    }
    e.perm = SIOV_ACCESS_READ | (prot & SIOV_PROT_WRITE ? SIOV_ACCESS_WRITE : 0);
    e.f = (access & SIOV_ACCESS_WRITE) && !(prot & SIOV_PROT_WRITE) ? SIOV_FAULT_SGN_6 : SIOV_OK;
    e.addr = out;
    return e;
}

static struct expect expected(const struct world *w, int dv, uint32_t pasid, uint64_t addr, unsigned access)
{
    const struct rdev *v = &w->dev[dv];
    struct expect e = {.slot = -1};
    if (!dev_set_up(v)) {
        bool half = false;
        for (int i = 0; i < NDEV; i++)
            half = half || (dev_set_up(&w->dev[i]) && half_of(w->dev[i].sid) == half_of(v->sid));
        e.f = half ? SIOV_FAULT_SCT_2 : SIOV_FAULT_SRT_2;
        return e;
    }
    if (pasid == 0) { /* the driver's RID_PASID, brought by the request: Table 30 SCT.9 */
        e.f = SIOV_FAULT_SCT_9;
        return e;
    }
    uint32_t p = pasid == SIOV_NO_PASID ? 0 : pasid;
    if (!(v->tables >> (p >> 6) & 1)) {
        e.f = SIOV_FAULT_SPD_2;
        return e;
    }
    int s = -1;
    if (p == 0)
        s = v->rid;
    for (int i = 0; i < NDOM && p; i++)
        if ((v->aux >> i & 1) && w->dom[i].pasid == (int)p)
            s = i;
    if (s < 0) {
        e.f = SIOV_FAULT_SPT_2;
        return e;
    }
    return through(w, s, addr, access);
}

/* --------------------------------------------------------------- checks */

static uint64_t pick_addr(struct world *w)
{
    struct rng *r = &w->rng;
    if (below(r, 10) < 6)
        return w->ring[below(r, RING)] + below(r, 16) * 8;
    const struct rdom *d = &w->dom[below(r, NDOM)];
    if (d->next && below(r, 4)) {
        const struct extent *x = &d->ext[below(r, d->next)];
        uint64_t a = x->iova + (below(r, 3) == 0 ? 0 : below(r, x->size / K4) * K4);
        note(w, a);
        return a;
    }
    return WIN + below(r, WIN_END - WIN);
}

static uint32_t pick_pasid(struct world *w)
{
    struct rng *r = &w->rng;
    switch (below(r, 5)) {
    case 0: return SIOV_NO_PASID;
    case 1: return (uint32_t)below(r, MAXPASID);
    default: {
        const struct rdom *d = &w->dom[below(r, NDOM)];
        return d->pasid >= 0 ? (uint32_t)d->pasid : (uint32_t)below(r, 16);
    }
    }
}

/* A (device, PASID) pair that is attached somewhere, with an address its
   domain maps; false if none is attached. */
static bool pick_attached(struct world *w, int *dv, uint32_t *pasid, uint64_t *addr)
{
    struct rng *r = &w->rng;
    for (int tries = 0; tries < 8; tries++) {
        int i = (int)below(r, NDEV), s = (int)below(r, NDOM);
        const struct rdev *v = &w->dev[i];
        bool rid = v->rid == s, aux = v->aux >> s & 1;
        if (!rid && !aux)
            continue;
        *dv = i;
        *pasid = aux && (!rid || below(r, 2)) ? (uint32_t)w->dom[s].pasid : (below(r, 4) ? SIOV_NO_PASID : 0);
        const struct rdom *d = &w->dom[s];
        if (d->next) {
            const struct extent *x = &d->ext[below(r, d->next)];
            *addr = x->iova + below(r, x->size / K4) * K4 + below(r, 512) * 8;
        } else {
            *addr = pick_addr(w);
        }
        return true;
    }
    return false;
}

static void sample(struct world *w)
{
    for (int i = 0; i < SAMPLES; i++) {
        int dv;
        uint32_t pasid;
        uint64_t addr;
        unsigned how = (unsigned)below(&w->rng, 10);
        if (how < 5 && w->hot_n) { /* repeat a recent translation: a stale IOTLB entry would show */
            const struct hot *h = &w->hot[below(&w->rng, w->hot_n < RING ? w->hot_n : RING)];
            dv = h->dv, pasid = h->pasid, addr = h->addr;
        } else if (!(how < 8 && pick_attached(w, &dv, &pasid, &addr))) {
            dv = (int)below(&w->rng, NDEV);
            pasid = pick_pasid(w);
            addr = pick_addr(w);
        }
        unsigned access = below(&w->rng, 4) ? SIOV_ACCESS_READ : SIOV_ACCESS_WRITE;
        struct expect e = expected(w, dv, pasid, addr, access);
        struct siov_xlate x;
        siov_fault f = siov_translate(w->iommu, w->dev[dv].sid, pasid, addr, access, &x);
        w->samples++;
        if (f != e.f)
            fail_msg("step %lu: sid %#x pasid %#x addr %#" PRIx64 " %s: got %s, reference %s", w->steps,
                     w->dev[dv].sid, pasid, addr, access & SIOV_ACCESS_WRITE ? "write" : "read",
                     siov_fault_name(f), siov_fault_name(e.f));
        if (f != SIOV_OK) {
            w->faults_checked++;
            continue;
        }
        w->ok_checked++;
        w->hot[w->hot_n++ % RING] = (struct hot){dv, pasid, addr};
        if (x.addr != e.addr || x.did != siov_domain_did(w->dom[e.slot].dom))
            fail_msg("step %lu: sid %#x pasid %#x addr %#" PRIx64 ": got %#" PRIx64 " did %u, reference %#" PRIx64
                     " did %d",
                     w->steps, w->dev[dv].sid, pasid, addr, x.addr, x.did, e.addr,
                     siov_domain_did(w->dom[e.slot].dom));
        if (w->dom[e.slot].kind != K_PT)
            assert_int_equal(x.perm & (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE), e.perm);
    }
}

/* ----------------------------------------------------------- operations */

static void op_map(struct world *w, int s)
{
    struct rng *r = &w->rng;
    struct rdom *d = &w->dom[s];
    uint64_t iova, size, pa;
    switch (below(r, 8)) {
    case 0: /* 1 GiB class */
        iova = WIN_1G + below(r, 3) * G1;
        size = G1;
        pa = below(r, 4) * G1;
        break;
    case 1: case 2: /* 2 MiB class, sometimes with a 4 KiB-misaligned output */
        iova = WIN_2M + below(r, 256) * M2;
        size = (1 + below(r, 3)) * M2;
        pa = below(r, 2048) * M2 + (below(r, 4) == 0 ? K4 : 0);
        break;
    default: /* 4 KiB class */
        iova = WIN_4K + below(r, 16384) * K4;
        size = (1 + below(r, 16)) * K4;
        pa = below(r, 1 << 20) * K4;
        break;
    }
    pa += d->kind == K_NESTED ? WIN : HPA; /* nested outputs are the parent's inputs */
    unsigned prot = below(r, 3) ? SIOV_PROT_READ | SIOV_PROT_WRITE : SIOV_PROT_READ;
    if (d->kind == K_NESTED && pa + size > WIN_END)
        pa = WIN;
    int want = d->kind == K_PT ? -EINVAL : ref_overlaps(d, iova, iova + size) ? -EEXIST : 0;
    int got = siov_domain_map(d->dom, iova, pa, size, prot);
    if (got != want)
        fail_msg("step %lu: map slot %d [%#" PRIx64 ", +%#" PRIx64 ") -> %#" PRIx64 ": %d, reference %d", w->steps,
                 s, iova, size, pa, got, want);
    if (!got)
        ref_add(d, (struct extent){iova, size, pa, prot});
    note(w, iova);
    note(w, iova + size - K4);
}

static void op_unmap(struct world *w, int s)
{
    struct rng *r = &w->rng;
    struct rdom *d = &w->dom[s];
    uint64_t lo, size;
    if (d->next && below(r, 3)) { /* around an existing extent, often cutting it */
        const struct extent *x = &d->ext[below(r, d->next)];
        lo = x->iova + (below(r, 2) ? below(r, x->size / K4) * K4 : 0);
        size = below(r, 2) ? x->size : (1 + below(r, 64)) * K4;
    } else {
        lo = WIN + below(r, (WIN_END - WIN) / K4) * K4;
        size = (1 + below(r, 1024)) * K4;
    }
    if (lo + size > WIN_END)
        size = WIN_END - lo;
    int64_t want = d->kind == K_PT ? -EINVAL : (int64_t)ref_remove(d, lo, lo + size);
    int64_t got = siov_domain_unmap(d->dom, lo, size);
    if (got != want)
        fail_msg("step %lu: unmap slot %d [%#" PRIx64 ", +%#" PRIx64 "): %" PRId64 ", reference %" PRId64, w->steps, s,
                 lo, size, got, want);
    note(w, lo);
    note(w, lo + size - K4);
    note(w, lo + (size / 2 & ~(K4 - 1)));
}

static void op_attach(struct world *w, int s, int dv)
{
    struct rdev *v = &w->dev[dv];
    if (below(&w->rng, 2)) {
        int want = v->rid == s ? -EEXIST : v->rid >= 0 ? -EBUSY : 0;
        assert_int_equal(siov_attach(w->dom[s].dom, v->sid), want);
        if (!want) {
            v->rid = s;
            v->tables |= 1;
        }
    } else {
        int want = v->rid == s ? 0 : -ENOENT;
        assert_int_equal(siov_detach(w->dom[s].dom, v->sid), want);
        if (!want) {
            v->rid = -1;
            if (!dev_set_up(v))
                v->tables = 0;
        }
    }
}

static void op_aux(struct world *w, int s, int dv)
{
    struct rdev *v = &w->dev[dv];
    struct rdom *d = &w->dom[s];
    bool on = v->aux >> s & 1;
    if (below(&w->rng, 2)) {
        int want = !v->aux_enabled ? -EINVAL : on ? -EEXIST : 0;
        assert_int_equal(siov_aux_attach(d->dom, v->sid), want);
        if (want)
            return;
        int p = siov_aux_pasid(d->dom);
        assert_true(p > 0);
        if (d->pasid >= 0)
            assert_int_equal(p, d->pasid); /* one PASID per domain */
        d->pasid = p;
        v->aux |= 1u << s;
        v->tables |= 1ull << (p >> 6);
    } else {
        assert_int_equal(siov_aux_detach(d->dom, v->sid), on ? 0 : -ENOENT);
        if (!on)
            return;
        v->aux &= ~(1u << s);
        bool any = false;
        for (int i = 0; i < NDEV; i++)
            any = any || (w->dev[i].aux >> s & 1);
        if (!any) {
            assert_int_equal(siov_aux_pasid(d->dom), -ENOENT);
            d->pasid = -1;
        }
    }
}

static void op_enable(struct world *w, int dv)
{
    struct rdev *v = &w->dev[dv];
    if (below(&w->rng, 2)) {
        assert_int_equal(siov_dev_enable_aux(w->drv, v->sid), 0);
        v->aux_enabled = true;
        return;
    }
    int want = !v->aux_enabled ? -EINVAL : v->aux ? -EBUSY : 0;
    assert_int_equal(siov_dev_disable_aux(w->drv, v->sid), want);
    if (!want) {
        v->aux_enabled = false;
        if (!dev_set_up(v))
            v->tables = 0;
    }
}

static bool slot_busy(const struct world *w, int s)
{
    for (int i = 0; i < NDEV; i++)
        if (w->dev[i].rid == s || (w->dev[i].aux >> s & 1))
            return true;
    return s == NESTED_PARENT; /* its nested domain always exists */
}

static void slot_create(struct world *w, int s)
{
    struct rdom *d = &w->dom[s];
    d->kind = slot_kind[s];
    d->parent = d->kind == K_NESTED ? NESTED_PARENT : -1;
    d->pasid = -1;
    d->next = 0;
    if (d->kind == K_NESTED)
        d->dom = siov_domain_new_nested(w->dom[NESTED_PARENT].dom);
    else
        d->dom = siov_domain_new(w->drv, d->kind == K_SL   ? SIOV_DOMAIN_SECOND_LEVEL
                                         : d->kind == K_FL ? SIOV_DOMAIN_FIRST_LEVEL
                                                           : SIOV_DOMAIN_PASS_THROUGH);
    assert_non_null(d->dom);
}

static void op_recreate(struct world *w, int s)
{
    bool busy = slot_busy(w, s);
    assert_int_equal(siov_domain_free(w->dom[s].dom), busy ? -EBUSY : 0);
    if (!busy)
        slot_create(w, s);
}

static void step(struct world *w)
{
    struct rng *r = &w->rng;
    int s = (int)below(r, NDOM), dv = (int)below(r, NDEV);
    unsigned op = (unsigned)below(r, 100);
    if (op < 35)
        op_map(w, s);
    else if (op < 60)
        op_unmap(w, s);
    else if (op < 75)
        op_attach(w, s, dv);
    else if (op < 92)
        op_aux(w, s, dv);
    else if (op < 98)
        op_enable(w, dv);
    else
        op_recreate(w, s);
}

/* ----------------------------------------------------------------- runs */

static void run(uint64_t seed, const struct siov_iommu_config *cfg, const char *name)
{
    struct world *w = calloc(1, sizeof(*w));
    assert_non_null(w);
    w->rng.s = seed;
    w->mem = siov_mem_new_flat(MEM_SIZE);
    w->iommu = siov_iommu_new(w->mem, cfg);
    assert_non_null(w->iommu);
    w->drv = siov_driver_new(w->iommu, w->mem, POOL_BASE, POOL_SIZE);
    assert_non_null(w->drv);
    uint64_t pool0 = siov_driver_pool_avail(w->drv);
    static const siov_sid sids[NDEV] = {SIOV_SID(0, 1, 0), SIOV_SID(0, 2, 0), SIOV_SID(0, 17, 0),
                                        SIOV_SID(7, 0, 3)};
    for (int i = 0; i < NDEV; i++)
        w->dev[i] = (struct rdev){.sid = sids[i], .rid = -1};
    for (int s = 0; s < NDOM; s++)
        slot_create(w, s);
    for (int i = 0; i < RING; i++)
        w->ring[i] = WIN + below(&w->rng, (WIN_END - WIN) / K4) * K4;
    for (w->steps = 0; w->steps < NOPS; w->steps++) {
        step(w);
        sample(w);
    }
    /* tear everything down: every pool page comes back */
    for (int i = 0; i < NDEV; i++) {
        for (int s = 0; s < NDOM; s++) {
            if (w->dev[i].aux >> s & 1)
                assert_int_equal(siov_aux_detach(w->dom[s].dom, w->dev[i].sid), 0);
        }
        if (w->dev[i].rid >= 0)
            assert_int_equal(siov_detach(w->dom[w->dev[i].rid].dom, w->dev[i].sid), 0);
        if (w->dev[i].aux_enabled)
            assert_int_equal(siov_dev_disable_aux(w->drv, w->dev[i].sid), 0);
    }
    for (int s = NDOM - 1; s >= 0; s--)
        if (s != NESTED_PARENT)
            assert_int_equal(siov_domain_free(w->dom[s].dom), 0);
    assert_int_equal(siov_domain_free(w->dom[NESTED_PARENT].dom), 0);
    assert_int_equal(siov_driver_pool_avail(w->drv), pool0);
    struct siov_stats st;
    siov_iommu_stats(w->iommu, &st);
    printf("# %s (seed %" PRIu64 "): %lu steps, %lu samples (%lu translated, %lu faults), IOTLB hits %" PRIu64 " misses %" PRIu64
           ", invalidations %" PRIu64 "\n",
           name, seed, w->steps, w->samples, w->ok_checked, w->faults_checked, st.iotlb_hits, st.iotlb_misses,
           st.invalidations);
    assert_true(st.iotlb_hits > 0); /* the caches were in play */
    for (int s = 0; s < NDOM; s++)
        free(w->dom[s].ext);
    siov_driver_free(w->drv);
    siov_iommu_free(w->iommu);
    siov_mem_free(w->mem);
    free(w);
}

/* The run's seed, and whether the case that used it finished. */
struct seeded {
    uint64_t seed;
    bool passed;
};

static uint64_t seed_of(void)
{
    const char *env = getenv("SIOV_SEED");
    uint64_t seed = env && *env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
    fprintf(stderr, "# seed %" PRIu64 " (repeat with SIOV_SEED=%" PRIu64 ")\n", seed, seed);
    fflush(stderr);
    return seed;
}

static int case_start(void **state)
{
    ((struct seeded *)*state)->passed = false;
    return 0;
}

/* After each case: on failure, the seed again and how to replay it. */
static int case_end(void **state)
{
    const struct seeded *s = *state;
    if (!s->passed)
        fprintf(stderr, "# FAILED with seed %" PRIu64 ": replay with SIOV_SEED=%" PRIu64 "\n", s->seed, s->seed);
    return 0;
}

static void test_property_default(void **state)
{
    struct seeded *s = *state;
    run(s->seed, NULL, "SL 4-level, FL 4-level");
    s->passed = true;
}

static void test_property_deep(void **state)
{
    struct seeded *s = *state;
    uint64_t seed = s->seed;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.sagaw = SIOV_SAGAW_5LVL;
    cfg.mgaw = 57;
    run(seed + 1, &cfg, "SL 5-level, FL 5-level");
    s->passed = true;
}

static void test_property_shallow(void **state)
{
    struct seeded *s = *state;
    uint64_t seed = s->seed;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.sagaw = SIOV_SAGAW_3LVL;
    cfg.mgaw = 39;
    cfg.fl_1g = false;
    cfg.iotlb_entries = 64; /* evictions too */
    run(seed + 2, &cfg, "SL 3-level, FL 4-level without 1G, small IOTLB");
    s->passed = true;
}

int main(void)
{
    struct seeded seed = {seed_of(), false};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_prestate_setup_teardown(test_property_default, case_start, case_end, &seed),
        cmocka_unit_test_prestate_setup_teardown(test_property_deep, case_start, case_end, &seed),
        cmocka_unit_test_prestate_setup_teardown(test_property_shallow, case_start, case_end, &seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

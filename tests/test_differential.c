/* Differential test: siov_translate against the reference walk (ref_walk.h)
 * over thousands of random table sets (gen_tables.h), and siov_interrupt
 * against the reference reading of interrupt remapping (ref_irq.c) over
 * random interrupt remapping tables and descriptors.
 *
 * Each set is checked twice: without caches (a global invalidation through
 * the queue before every request) and with caches (the same requests twice
 * on the warm unit). Every outcome must equal the oracle's: the fault reason,
 * or the address, page size, permissions and DID. After a translation, the
 * A (and for writes D) bits the walk uses must be set. A smaller run corrupts
 * one structure on a request's path (reserved bit, not present, pointer
 * beyond guest memory, PASID beyond PDTS, random bit flip) and compares the
 * exact fault reasons.
 *
 * A third run flips every bit of every structure on translating paths, one
 * at a time, so that a wrong mask in siov/format.h shows as a mismatch.
 *
 * SIOV_DIFF_SEED=<n> changes the base seed, SIOV_DIFF_SETS=<n> the number of
 * sets (SIOV_DIFF_CORRUPT_SETS, SIOV_DIFF_FLIP_SETS of the other runs);
 * SIOV_DIFF_ONE=<set seed> runs one set (the seed a failure prints).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gen_tables.h"
#include "internal.h"
#include "ref_walk.h"
#include "testlib.h"

#define DEFAULT_SEED 0x5105D1FFull
#define DEFAULT_SETS 2500
#define DEFAULT_CORRUPT_SETS 1500
#define DEFAULT_FLIP_SETS 200
#define REQS_PER_SET 64
#define MAX_KINDS 64

/* Mismatches are grouped by kind; the first example of each is printed. */
struct kind {
    char key[96];
    uint64_t count;
};

struct diff {
    const char *phase;
    bool ats; /* translation and translated requests instead of untranslated ones */
    uint64_t ats_no_snoop, ats_large, ats_refused; /* completions with N=1, with S=1, UR or CA */
    uint64_t requests, mismatches, ok, faults, sets, ad_checked;
    uint64_t ok_by_kind[2][5]; /* [legacy][pgtt]: translations that succeeded */
    uint64_t hits_uncached, hits_cached;
    unsigned nkinds;
    struct kind kinds[MAX_KINDS];
};

/* Count a mismatch of kind key; true the first time it is seen. */
static bool new_kind(struct diff *d, const char *key)
{
    for (unsigned i = 0; i < d->nkinds; i++)
        if (!strcmp(d->kinds[i].key, key)) {
            d->kinds[i].count++;
            return false;
        }
    if (d->nkinds == MAX_KINDS)
        return false;
    snprintf(d->kinds[d->nkinds].key, sizeof d->kinds[0].key, "%s", key);
    d->kinds[d->nkinds++].count = 1;
    return true;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
    const char *s = getenv(name);
    return s && *s ? strtoull(s, NULL, 0) : def;
}

static uint64_t set_seed(uint64_t base, uint64_t i)
{
    uint64_t z = base + i * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    return z ^ (z >> 27);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void report(struct diff *d, const struct gen_set *g, const struct gen_req *r, siov_fault got,
                   const struct siov_xlate *x, const struct ref_result *ref, const char *what)
{
    char key[96], desc[1024];
    d->mismatches++;
    snprintf(key, sizeof key, "%s %s pgtt=%u access=0x%x oracle=%s model=%s", what, ref->legacy ? "legacy" : "sm",
             ref->pgtt, r->access, siov_fault_name(ref->fault), siov_fault_name(got));
    if (!new_kind(d, key))
        return;
    gen_describe(g, desc, sizeof desc);
    fprintf(stderr, "MISMATCH (%s, %s): %s\n  request sid=%04x pasid=%x addr=0x%llx access=0x%x\n",
            d->phase, what, desc, r->sid, r->pasid, (unsigned long long)r->addr, r->access);
    fprintf(stderr, "  model:  %s (0x%x)", siov_fault_name(got), got);
    if (!got)
        fprintf(stderr, " addr=0x%llx size=0x%llx perm=0x%x did=%u", (unsigned long long)x->addr,
                (unsigned long long)x->page_size, x->perm, x->did);
    fprintf(stderr, "\n  oracle: %s (0x%x)", siov_fault_name(ref->fault), ref->fault);
    if (!ref->fault)
        fprintf(stderr, " addr=0x%llx size=0x%llx perm=0x%x did=%u", (unsigned long long)ref->x.addr,
                (unsigned long long)ref->x.page_size, ref->x.perm, ref->x.did);
    fprintf(stderr, " pgtt=%u\n  path:", ref->pgtt);
    for (unsigned i = 0; i < ref->nread; i++) {
        const struct ref_read *rd = &ref->read[i];
        uint64_t v = 0;
        siov_mem_read(g->mem, rd->gpa, &v, 8);
        fprintf(stderr, " %s%s%u@0x%llx=0x%llx", ref_kind_name(rd->kind), rd->top ? "*" : "", rd->level,
                (unsigned long long)rd->gpa, (unsigned long long)v);
    }
    fprintf(stderr, "\n");
}

/* The A/D bits the oracle says a successful walk uses must be set now. */
static bool touched(const struct gen_set *g, const struct ref_result *ref)
{
    for (unsigned i = 0; i < ref->ntouch; i++) {
        uint64_t v = 0;
        if (siov_mem_read(g->mem, ref->touch[i].gpa, &v, 8) != 0 || (v & ref->touch[i].bits) != ref->touch[i].bits)
            return false;
    }
    return true;
}

/* Translate r with the model and the oracle and compare. */
static void check(struct diff *d, struct gen_set *g, const struct ref_unit *u, const struct gen_req *r)
{
    struct siov_xlate x;
    struct ref_result ref;
    memset(&x, 0, sizeof x);
    siov_fault got = siov_translate(g->iommu, r->sid, r->pasid, r->addr, r->access, &x);
    ref_translate(u, r->sid, r->pasid, r->addr, r->access, &ref);
    d->requests++;
    if (got != ref.fault)
        report(d, g, r, got, &x, &ref, "fault");
    else if (!got && (x.addr != ref.x.addr || x.page_size != ref.x.page_size || x.did != ref.x.did))
        report(d, g, r, got, &x, &ref, "translation");
    else if (!got && x.perm != ref.x.perm)
        report(d, g, r, got, &x, &ref, "perm");
    else if (!got && !touched(g, &ref))
        report(d, g, r, got, &x, &ref, "A/D not set");
    d->ad_checked += got ? 0 : ref.ntouch;
    if (!got && ref.pgtt < 5)
        d->ok_by_kind[ref.legacy][ref.pgtt]++;
    got ? d->faults++ : d->ok++;
}

/* ------------------------------------------------------------------- ATS */

static void print_completion(const char *who, siov_fault f, const struct siov_ats_completion *c)
{
    fprintf(stderr, "  %s: %s status %d addr 0x%llx size 0x%llx R%d W%d X%d P%d G%d U%d N%d\n", who,
            siov_fault_name(f), c->status, (unsigned long long)c->addr, (unsigned long long)c->size, c->r, c->w,
            c->x, c->priv, c->global, c->untranslated_only, c->no_snoop);
}

static void report_ats(struct diff *d, const struct gen_set *g, const struct gen_req *r, unsigned access,
                       siov_fault got, const struct siov_ats_completion *c, const struct ref_ats *a,
                       const char *what)
{
    char key[96], desc[1024];
    d->mismatches++;
    snprintf(key, sizeof key, "%s %s pgtt=%u oracle=%s model=%s", what, a->r.legacy ? "legacy" : "sm", a->r.pgtt,
             siov_fault_name(a->fault), siov_fault_name(got));
    if (!new_kind(d, key))
        return;
    gen_describe(g, desc, sizeof desc);
    fprintf(stderr, "MISMATCH (%s, %s): %s\n  request sid=%04x pasid=%x addr=0x%llx access=0x%x\n", d->phase,
            what, desc, r->sid, r->pasid, (unsigned long long)r->addr, access);
    print_completion("model ", got, c);
    print_completion("oracle", a->fault, &a->c);
}

static bool same_completion(const struct siov_ats_completion *a, const struct siov_ats_completion *b)
{
    if (a->status != b->status)
        return false;
    return a->status != SIOV_ATS_SUCCESS ||
           (a->addr == b->addr && a->size == b->size && a->r == b->r && a->w == b->w && a->x == b->x &&
            a->priv == b->priv && a->global == b->global && a->untranslated_only == b->untranslated_only &&
            a->no_snoop == b->no_snoop);
}

/* What siov_translate with SIOV_ACCESS_ATS_REQ answers, from the completion. */
static siov_fault ats_req_expected(const struct ref_ats *a, uint64_t addr, unsigned access, struct siov_xlate *x)
{
    if (a->fault)
        return a->fault;
    unsigned perm = (a->c.r ? SIOV_ACCESS_READ : 0) | (a->c.w ? SIOV_ACCESS_WRITE : 0);
    unsigned want = access & (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC);
    if (a->c.untranslated_only || (want ? want : SIOV_ACCESS_READ) & ~perm)
        return SIOV_ERR_NOT_PRESENT;
    *x = (struct siov_xlate){a->c.addr + (addr & (a->c.size - 1)), a->c.size, perm, 0};
    return SIOV_OK;
}

/* The same request as a translation request (siov_ats_translate, and
   siov_translate with SIOV_ACCESS_ATS_REQ) and as a translated request. */
static void check_ats(struct diff *d, struct gen_set *g, const struct ref_unit *u, const struct gen_req *r)
{
    unsigned access = (r->access & (SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC)) |
                      ((r->addr >> 12) % 3 == 0 ? SIOV_ACCESS_NO_WRITE : 0);
    struct siov_ats_completion c;
    struct ref_ats a;
    siov_fault got = siov_ats_translate(g->iommu, r->sid, r->pasid, r->addr, access, &c);
    ref_ats_translate(u, r->sid, r->pasid, r->addr, access, &a);
    d->requests++;
    if (got != a.fault || !same_completion(&c, &a.c))
        report_ats(d, g, r, access, got, &c, &a, "completion");
    else if (!got && (c.r || c.w) && !touched(g, &a.r))
        report_ats(d, g, r, access, got, &c, &a, "A/D not set");
    if (!got && (c.r || c.w) && a.r.pgtt < 5)
        d->ok_by_kind[a.r.legacy][a.r.pgtt]++;
    (!got && (c.r || c.w)) ? d->ok++ : d->faults++;
    d->ats_no_snoop += !got && c.no_snoop;
    d->ats_large += !got && (c.r || c.w) && c.size > SIOV_PAGE_SIZE;
    d->ats_refused += c.status != SIOV_ATS_SUCCESS;
    d->ad_checked += got ? 0 : a.r.ntouch;

    struct siov_xlate x = {0}, wx = {0};
    unsigned acc = r->access | (access & SIOV_ACCESS_NO_WRITE) | SIOV_ACCESS_ATS_REQ;
    siov_fault want = ats_req_expected(&a, r->addr, r->pasid == SIOV_NO_PASID ? acc & ~SIOV_ACCESS_EXEC : acc, &wx);
    got = siov_translate(g->iommu, r->sid, r->pasid, r->addr, acc, &x);
    if (got != want || (!got && (x.addr != wx.addr || x.page_size != wx.page_size || x.perm != wx.perm)))
        report_ats(d, g, r, acc, got, &c, &a, "SIOV_ACCESS_ATS_REQ");

    struct ref_result ref;
    got = siov_translate(g->iommu, r->sid, r->pasid, r->addr, r->access | SIOV_ACCESS_TRANSLATED, &x);
    ref_translated(u, r->sid, r->pasid, r->addr, &ref);
    if (got != ref.fault || (!got && !(x.addr == ref.x.addr && x.page_size == ref.x.page_size &&
                                       x.perm == ref.x.perm && x.did == ref.x.did)))
        report(d, g, r, got, &x, &ref, "translated request");
}

static uint64_t iotlb_hits(struct gen_set *g)
{
    struct siov_stats st;
    siov_iommu_stats(g->iommu, &st);
    return st.iotlb_hits;
}

/* Both phases over one table set and its requests (cached: run the second). */
static void run_requests(struct diff *d, struct gen_set *g, const struct gen_req *reqs, unsigned n, bool cached)
{
    struct ref_unit u;
    ref_unit_init(&u, g->mem, g->iommu);
    assert_true(u.gsts & SIOV_GSTS_TES);
    uint64_t h0 = iotlb_hits(g);
    for (unsigned i = 0; i < n; i++) {
        if (gen_invalidate_all(g) != 0) {
            fprintf(stderr, "invalidation wait not written (seed 0x%llx): GSTS 0x%llx FSTS 0x%llx IQERCD 0x%llx IQH 0x%llx\n",
                    (unsigned long long)g->seed, (unsigned long long)siov_mmio_read(g->iommu, SIOV_REG_GSTS, 4),
                    (unsigned long long)siov_mmio_read(g->iommu, SIOV_REG_FSTS, 4),
                    (unsigned long long)siov_mmio_read(g->iommu, SIOV_REG_IQERCD, 8),
                    (unsigned long long)siov_mmio_read(g->iommu, SIOV_REG_IQH, 8));
            fail();
        }
        d->ats ? check_ats(d, g, &u, &reqs[i]) : check(d, g, &u, &reqs[i]);
    }
    uint64_t h1 = iotlb_hits(g);
    d->hits_uncached += h1 - h0;
    for (unsigned pass = 0; cached && pass < 2; pass++)
        for (unsigned i = 0; i < n; i++)
            d->ats ? check_ats(d, g, &u, &reqs[i]) : check(d, g, &u, &reqs[i]);
    d->hits_cached += iotlb_hits(g) - h1;
    d->sets++;
}

static void summary(const struct diff *d, double secs)
{
    for (unsigned i = 0; i < d->nkinds; i++)
        fprintf(stderr, "  %6llu x %s\n", (unsigned long long)d->kinds[i].count, d->kinds[i].key);
    fprintf(stderr, "differential (%s): %llu sets, %llu requests (%llu translated, %llu faulted), "
                    "%llu mismatches, IOTLB hits uncached %llu / cached %llu, %.1f s, %.0f sets/s, %.0f requests/s\n",
            d->phase, (unsigned long long)d->sets, (unsigned long long)d->requests, (unsigned long long)d->ok,
            (unsigned long long)d->faults, (unsigned long long)d->mismatches,
            (unsigned long long)d->hits_uncached, (unsigned long long)d->hits_cached, secs,
            (double)d->sets / secs, (double)d->requests / secs);
    fprintf(stderr, "  translated: FL %llu, SL %llu, nested %llu, PT %llu; legacy SL %llu, PT %llu; A/D bits checked in %llu entries\n",
            (unsigned long long)d->ok_by_kind[0][SIOV_PGTT_FL], (unsigned long long)d->ok_by_kind[0][SIOV_PGTT_SL],
            (unsigned long long)d->ok_by_kind[0][SIOV_PGTT_NESTED], (unsigned long long)d->ok_by_kind[0][SIOV_PGTT_PT],
            (unsigned long long)d->ok_by_kind[1][SIOV_PGTT_SL], (unsigned long long)d->ok_by_kind[1][SIOV_PGTT_PT],
            (unsigned long long)d->ad_checked);
}

/* Frees the table set or tl a test left in *state (also after a failed assert). */
struct owned {
    struct gen_set *g;
    struct tl *t;
};

static int setup(void **state)
{
    *state = calloc(1, sizeof(struct owned));
    return *state ? 0 : -1;
}

static int teardown(void **state)
{
    struct owned *o = *state;
    gen_set_free(o->g);
    tl_free(o->t);
    free(o);
    return 0;
}

static struct gen_set *own_set(void **state, uint64_t seed)
{
    struct owned *o = *state;
    gen_set_free(o->g);
    o->g = gen_set_new(seed);
    assert_non_null(o->g);
    return o->g;
}

static struct tl *own_tl(void **state, const struct siov_iommu_config *cfg)
{
    struct owned *o = *state;
    tl_free(o->t);
    o->t = NULL;
    o->t = tl_new(cfg);
    return o->t;
}

static void random_sets(void **state, struct diff *dp, uint64_t sets)
{
    struct diff d = *dp;
    struct gen_req reqs[REQS_PER_SET];
    uint64_t base = env_u64("SIOV_DIFF_SEED", DEFAULT_SEED);
    uint64_t one = env_u64("SIOV_DIFF_ONE", 0);
    double t0 = now();
    for (uint64_t i = 0; i < (one ? 1 : sets); i++) {
        struct gen_set *g = own_set(state, one ? one : set_seed(base, i));
        unsigned n = gen_requests(g, reqs, REQS_PER_SET);
        run_requests(&d, g, reqs, n, true);
    }
    summary(&d, now() - t0);
    /* the invalidations really emptied the caches (a translation request's
       second form may use what its first filled) */
    assert_true(d.ats || d.hits_uncached == 0);
    *dp = d;
    assert_true(d.hits_cached > 0);       /* and the second phase really used them */
    assert_int_equal(d.mismatches, 0);
}

static void test_random_sets(void **state)
{
    struct diff d = {.phase = "valid tables"};
    random_sets(state, &d, env_u64("SIOV_DIFF_SETS", DEFAULT_SETS));
}

/* The same sets through translation requests (completions: status, range,
   R/W/U/Priv/N, A/D) and translated requests. */
static void test_ats_random_sets(void **state)
{
    struct diff d = {.phase = "ATS, valid tables", .ats = true};
    random_sets(state, &d, env_u64("SIOV_DIFF_SETS", DEFAULT_SETS) / 2);
    fprintf(stderr, "  completions: %llu with N=1, %llu with S=1, %llu UR or CA\n",
            (unsigned long long)d.ats_no_snoop, (unsigned long long)d.ats_large, (unsigned long long)d.ats_refused);
    assert_true(d.ok > 0 && d.ats_no_snoop > 0 && d.ats_large > 0 && d.ats_refused > 0);
}

/* ------------------------------------------------------------ corruption */

/* The present bit(s) of a structure of kind (for SL: R, W and X). */
static uint64_t present_mask(unsigned kind)
{
    switch (kind) {
    case REF_SL: return SIOV_SL_R | SIOV_SL_W | SIOV_SL_X;
    default: return SIOV_BIT(0); /* P / LP in every other structure's qw0 */
    }
}

/* Reserved bits of qw0 a valid structure of kind never sets (HAW bits apart). */
static uint64_t reserved_mask(unsigned kind, unsigned level)
{
    switch (kind) {
    case REF_ROOT: return SIOV_RE0_RSVD;
    case REF_CTX: return SIOV_CE0_RSVD & SIOV_SCE0_RSVD; /* bits 8:5, reserved in both formats */
    case REF_PDIR: return SIOV_PDE_RSVD & ~SIOV_PDE_FPD;
    case REF_PASID: return SIOV_PTE0_RSVD;
    case REF_FL: return level >= 4 ? SIOV_FL_PS : 0;
    default: return SIOV_SL_TM | (level >= 4 ? SIOV_SL_PS : 0);
    }
}

static uint64_t rd64(struct gen_set *g, uint64_t gpa)
{
    uint64_t v = 0;
    assert_int_equal(siov_mem_read(g->mem, gpa, &v, 8), 0);
    return v;
}

static void wr64(struct gen_set *g, uint64_t gpa, uint64_t v)
{
    assert_int_equal(siov_mem_write(g->mem, gpa, &v, 8), 0);
}

/* Corrupt the structure rd in one of several ways; returns what was done. */
static const char *corrupt(struct gen_set *g, const struct ref_read *rd)
{
    uint64_t v = rd64(g, rd->gpa);
    unsigned how = (unsigned)gen_below(g, 6);
    uint64_t haw_bits = siov_above(g->cfg.haw) & SIOV_BITS(51, 12);
    switch (how) {
    case 0:
        wr64(g, rd->gpa, v & ~present_mask(rd->kind));
        return "not present";
    case 1: {
        uint64_t m = reserved_mask(rd->kind, rd->level);
        if (!m)
            m = haw_bits;
        if (!m)
            break;
        unsigned bit;
        do
            bit = (unsigned)gen_below(g, 64);
        while (!(m & SIOV_BIT(bit)));
        wr64(g, rd->gpa, v | SIOV_BIT(bit));
        return "reserved bit";
    }
    case 2: { /* the pointer this structure holds: beyond guest memory, below HAW */
        uint64_t beyond = g->mem_size + gen_below(g, 64) * SIOV_PAGE_SIZE;
        if (rd->kind == REF_PASID) {
            unsigned q = gen_chance(g, 50) ? 0 : 2;
            uint64_t w = rd64(g, rd->gpa + 8 * q);
            wr64(g, rd->gpa + 8 * q, (w & 0xFFF) | beyond);
            return "pointer beyond memory";
        }
        uint64_t gpa = rd->gpa;
        if (rd->kind == REF_ROOT && !g->legacy && gen_chance(g, 50))
            gpa += 8; /* the upper half */
        v = rd64(g, gpa);
        wr64(g, gpa, (v & (0xFFFull | SIOV_BIT(63))) | beyond);
        return "pointer beyond memory";
    }
    case 3:
        if (rd->kind == REF_CTX && !g->legacy) {
            wr64(g, rd->gpa, siov_set(v, SIOV_SCE0_PDTS, gen_below(g, 2)));
            return "small PDTS";
        }
        break;
    default: { /* any bit of the structure but paging A/D/EA (the oracle assumes them set) */
        uint64_t ad = SIOV_FL_A | SIOV_FL_D | SIOV_FL_EA | SIOV_SL_A | SIOV_SL_D;
        unsigned bit;
        do
            bit = (unsigned)gen_below(g, rd->size * 8u);
        while ((rd->kind == REF_FL || rd->kind == REF_SL) && (ad & SIOV_BIT(bit)));
        uint64_t gpa = rd->gpa + bit / 64 * 8;
        wr64(g, gpa, rd64(g, gpa) ^ SIOV_BIT(bit % 64));
        return "bit flip";
    }
    }
    return NULL;
}

static void corrupted_sets(void **state, struct diff *dp, uint64_t sets)
{
    struct diff d = *dp;
    struct gen_req reqs[REQS_PER_SET + 8];
    uint64_t base = env_u64("SIOV_DIFF_SEED", DEFAULT_SEED) ^ 0xC0441u;
    uint64_t corrupted = 0;
    double t0 = now();
    for (uint64_t i = 0; i < sets; i++) {
        struct gen_set *g = own_set(state, set_seed(base, i));
        unsigned n = gen_requests(g, reqs, REQS_PER_SET / 2);
        struct ref_unit u;
        ref_unit_init(&u, g->mem, g->iommu);
        /* corrupt one structure on the path of a translating request */
        for (unsigned tries = 0; tries < 16; tries++) {
            struct ref_result ref;
            const struct gen_req *r = &reqs[gen_below(g, n)];
            if (ref_translate(&u, r->sid, r->pasid, r->addr, r->access, &ref) != SIOV_OK || !ref.nread)
                continue;
            if (corrupt(g, &ref.read[gen_below(g, ref.nread)])) {
                corrupted++;
                static const unsigned access[] = {SIOV_ACCESS_READ, SIOV_ACCESS_WRITE,
                                                  SIOV_ACCESS_READ | SIOV_ACCESS_EXEC};
                /* that request in its access variants (execute and privilege
                   exist only on requests with PASID) */
                unsigned variants = r->pasid == SIOV_NO_PASID ? 2 : 6;
                for (unsigned k = 0; k < variants; k++) {
                    unsigned a = access[k % 3] | (k >= 3 ? SIOV_ACCESS_PRIV : 0);
                    reqs[n++] = (struct gen_req){r->sid, r->pasid, r->addr, a};
                }
                break;
            }
        }
        /* uncached only: a corrupted entry may disagree with another entry of
           the same DID, and then the IOTLB legitimately answers for both */
        run_requests(&d, g, reqs, n, false);
    }
    summary(&d, now() - t0);
    fprintf(stderr, "differential: %llu of %llu sets corrupted\n", (unsigned long long)corrupted,
            (unsigned long long)sets);
    assert_true(corrupted > sets / 2);
    assert_int_equal(d.mismatches, 0);
    *dp = d;
}

static void test_corrupted_sets(void **state)
{
    struct diff d = {.phase = "corrupted tables"};
    corrupted_sets(state, &d, env_u64("SIOV_DIFF_CORRUPT_SETS", DEFAULT_CORRUPT_SETS));
}

/* Corrupted structures through translation and translated requests: Table
   30's choice between Success without permissions, UR and CA. */
static void test_ats_corrupted_sets(void **state)
{
    struct diff d = {.phase = "ATS, corrupted tables", .ats = true};
    corrupted_sets(state, &d, env_u64("SIOV_DIFF_CORRUPT_SETS", DEFAULT_CORRUPT_SETS) / 2);
}

/* ---------------------------------------------------- every bit flipped
 * Each bit of each structure on a translating request's path flipped in
 * turn (A/D/EA of paging entries aside), the request translated uncached by
 * the model and the oracle, the bit restored. The oracle's bit positions are
 * its own (ref_walk.c, from the spec's tables), so a wrong mask in
 * siov/format.h, which the model uses, shows here as a mismatch. */

/* Whether the model's answer may differ from the oracle's: an A/D update
   fault (the oracle assumes A/D set) where a flipped pointer led the walk
   into a page that is not a table, so its A/D bits are whatever is there;
   the oracle's answer from further down that walk is not comparable. */
static bool ad_update_fault(siov_fault f)
{
    return f == SIOV_FAULT_SSL_5 || f == SIOV_FAULT_SSL_6 || f == SIOV_FAULT_SFL_8 || f == SIOV_FAULT_SFL_9 ||
           f == SIOV_FAULT_SFL_10;
}

/* Accesses a flipped path is tried with (all but the first two need a PASID). */
static const unsigned flip_access[] = {
    SIOV_ACCESS_READ, SIOV_ACCESS_WRITE, SIOV_ACCESS_READ | SIOV_ACCESS_EXEC,
    SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, SIOV_ACCESS_WRITE | SIOV_ACCESS_PRIV,
    SIOV_ACCESS_READ | SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV, SIOV_ACCESS_EXEC,
};

/* Flip every bit of the structure rd, checking r in each access kind each time. */
static void flip_structure(struct diff *d, struct gen_set *g, const struct ref_unit *u, const struct gen_req *r,
                           const struct ref_read *rd)
{
    uint64_t keep = ref_ad_bits(rd->kind);
    for (unsigned q = 0; q < rd->size / 8u; q++) {
        uint64_t gpa = rd->gpa + 8ull * q, orig = rd64(g, gpa);
        for (unsigned bit = 0; bit < 64; bit++) {
            if (keep & (1ull << bit))
                continue;
            wr64(g, gpa, orig ^ (1ull << bit));
            unsigned kinds = r->pasid == SIOV_NO_PASID ? 2 : sizeof flip_access / sizeof flip_access[0];
            for (unsigned k = 0; k < kinds; k++) {
                struct gen_req v = *r;
                v.access = flip_access[k];
                struct siov_xlate x;
                struct ref_result ref;
                assert_int_equal(gen_invalidate_all(g), 0);
                memset(&x, 0, sizeof x);
                /* the oracle first: a flipped pointer may lead the model's
                   A/D updates into a structure this very walk reads */
                ref_translate(u, v.sid, v.pasid, v.addr, v.access, &ref);
                siov_fault got = siov_translate(g->iommu, v.sid, v.pasid, v.addr, v.access, &x);
                d->requests++;
                got ? d->faults++ : d->ok++;
                if (ad_update_fault(got)) /* the oracle cannot follow past it (PWSNP=0, SLADE=1: SSL.5) */
                    continue;
                if (got != ref.fault)
                    report(d, g, &v, got, &x, &ref, "flip fault");
                else if (!got && (x.addr != ref.x.addr || x.page_size != ref.x.page_size || x.did != ref.x.did ||
                                  x.perm != ref.x.perm))
                    report(d, g, &v, got, &x, &ref, "flip translation");
            }
            wr64(g, gpa, orig);
        }
    }
}

static void test_every_bit_flipped(void **state)
{
    struct diff d = {.phase = "bit flips"};
    struct gen_req reqs[REQS_PER_SET];
    uint64_t base = env_u64("SIOV_DIFF_SEED", DEFAULT_SEED) ^ 0xF11Bu;
    uint64_t sets = env_u64("SIOV_DIFF_FLIP_SETS", DEFAULT_FLIP_SETS), paths = 0;
    double t0 = now();
    for (uint64_t i = 0; i < sets; i++) {
        struct gen_set *g = own_set(state, set_seed(base, i));
        unsigned n = gen_requests(g, reqs, REQS_PER_SET);
        struct ref_unit u;
        ref_unit_init(&u, g->mem, g->iommu);
        for (unsigned k = 0, done = 0; k < n && done < 2; k++) {
            struct ref_result ref;
            if (ref_translate(&u, reqs[k].sid, reqs[k].pasid, reqs[k].addr, reqs[k].access, &ref) != SIOV_OK)
                continue;
            for (unsigned s = 0; s < ref.nread; s++)
                flip_structure(&d, g, &u, &reqs[k], &ref.read[s]);
            done++;
            paths++;
        }
        d.sets++;
    }
    summary(&d, now() - t0);
    fprintf(stderr, "differential: every bit of %llu translating paths flipped\n", (unsigned long long)paths);
    assert_true(paths > sets);
    assert_int_equal(d.mismatches, 0);
}

/* ------------------------------------------------------------ pinned cases
 * Disagreements between the model and the oracle that the random runs found,
 * each decided for the oracle from the facts sheet / docs/spec-notes.md.
 * Each case asserts the oracle's answer first, then the model's. */

static siov_fault both(struct tl *t, siov_sid sid, uint32_t pasid, uint64_t addr, unsigned access,
                       siov_fault expect)
{
    struct ref_unit u;
    struct ref_result ref;
    struct siov_xlate x;
    ref_unit_init(&u, t->mem, t->iommu);
    assert_int_equal(ref_translate(&u, sid, pasid, addr, access, &ref), expect);
    return siov_translate(t->iommu, sid, pasid, addr, access, &x);
}

/* Legacy mode: the SL table SLPTPTR names cannot be read. Facts 8.1: LSL.1 is
   an error on a SL entry "not the top-level one"; the top-level fetch through
   SLPTPTR is LCT.4.3 (0x03), as SSL.4 is in scalable mode. */
static void test_model_legacy_top_sl_fetch_error_is_lct4(void **state)
{
    for (unsigned aw = SIOV_AW_3LVL; aw <= SIOV_AW_5LVL; aw++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL;
        cfg.mgaw = 57;
        struct tl *t = own_tl(state, &cfg);
        tl_enable(t, SIOV_TTM_LEGACY);
        siov_sid sid = SIOV_SID(0, 3, 0);
        tl_legacy_context(t, sid, SIOV_CE0_P | (TL_MEM_SIZE + 0x5000), siov_set(0, SIOV_CE1_AW, aw) | siov_set(0, SIOV_CE1_DID, 7));
        assert_int_equal(both(t, sid, SIOV_NO_PASID, 0x1000, SIOV_ACCESS_READ, SIOV_FAULT_LCT_4), SIOV_FAULT_LCT_4);
        assert_int_equal(both(t, sid, SIOV_NO_PASID, 0x1000, SIOV_ACCESS_WRITE, SIOV_FAULT_LCT_4), SIOV_FAULT_LCT_4);
    }
}

/* Requests without PASID are looked up as requests with RID_PASID
   (docs/spec-notes.md): a RID_PASID the directory cannot reach (PDTS) is
   SCT.7, one beyond the unit's PASID width SGN.10; a request that brings the
   RID_PASID value itself is SCT.9 (Table 30), unless beyond the width. */
static void test_model_rid_pasid_limits(void **state)
{
    static const struct {
        unsigned pasid_bits, pdts;
        uint32_t rid_pasid;
        siov_fault without, with;
    } cases[] = {
        {20, 0, 8192, SIOV_FAULT_SCT_7, SIOV_FAULT_SCT_9},   /* PDTS=0: PASIDs below 8192 */
        {20, 3, 65536, SIOV_FAULT_SCT_7, SIOV_FAULT_SCT_9},  /* PDTS=3: PASIDs below 65536 */
        {8, 7, 300, SIOV_FAULT_SGN_10, SIOV_FAULT_SGN_10},  /* within PDTS, beyond an 8-bit width */
        {20, 7, 77, SIOV_OK, SIOV_FAULT_SCT_9},             /* within both */
    };
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.pasid_bits = cases[i].pasid_bits;
        struct tl *t = own_tl(state, &cfg);
        tl_enable(t, SIOV_TTM_SCALABLE);
        siov_sid sid = SIOV_SID(2, 1, 0);
        uint64_t dir = tl_page(t);
        for (int k = 1; k < 32; k++)
            (void)tl_page(t);
        tl_sm_context(t, sid, SIOV_SCE0_P | SIOV_SCE0_PASIDE | siov_set(0, SIOV_SCE0_PDTS, cases[i].pdts) | dir,
                      siov_set(0, SIOV_SCE1_RID_PASID, cases[i].rid_pasid));
        uint64_t pe[8];
        tl_pe_pt(pe, 5);
        tl_pasid_entry(t, dir, cases[i].rid_pasid, pe); /* present, so only the limits can fault */
        assert_int_equal(both(t, sid, SIOV_NO_PASID, 0x2000, SIOV_ACCESS_READ, cases[i].without), cases[i].without);
        assert_int_equal(both(t, sid, cases[i].rid_pasid, 0x2000, SIOV_ACCESS_READ, cases[i].with), cases[i].with);
    }
}

/* A request without PASID carries neither execute nor privilege (both live in
   the PASID TLP prefix; its privilege would come from RID_PRIV, which needs
   ECAP.RPRIVS). So SRE=0/ERE=0 in the RID_PASID entry cannot fault it. */
static void test_model_no_pasid_request_ignores_exec_priv(void **state)
{
    for (unsigned flpm = SIOV_FLPM_4LVL; flpm <= SIOV_FLPM_5LVL; flpm++) {
        struct tl *t = own_tl(state, NULL);
        tl_enable(t, SIOV_TTM_SCALABLE);
        siov_sid sid = SIOV_SID(1, 0, 0);
        uint64_t dir = tl_sm_context_default(t, sid, 0);
        uint64_t root = tl_page(t), pe[8];
        tl_map(t, root, flpm == SIOV_FLPM_5LVL ? 5 : 4, true, 0x40000, TL_DATA_BASE, SIOV_PAGE_SIZE,
               TL_FL_URW | SIOV_FL_A | SIOV_FL_D, TL_FL_URW | SIOV_FL_A);
        tl_pe_fl(pe, 9, root, flpm); /* SRE=0, ERE=0 */
        tl_pasid_entry(t, dir, 0, pe); /* RID_PASID 0 */
        tl_pasid_entry(t, dir, 1, pe); /* the same entry for requests with PASID 1 */
        assert_int_equal(both(t, sid, SIOV_NO_PASID, 0x40010, SIOV_ACCESS_READ, SIOV_OK), SIOV_OK);
        assert_int_equal(both(t, sid, SIOV_NO_PASID, 0x40010, SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, SIOV_OK), SIOV_OK);
        assert_int_equal(both(t, sid, SIOV_NO_PASID, 0x40010, SIOV_ACCESS_READ | SIOV_ACCESS_EXEC, SIOV_OK), SIOV_OK);
        /* with a PASID the same bits do fault */
        assert_int_equal(both(t, sid, 1, 0x40010, SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, SIOV_FAULT_SPT_6), SIOV_FAULT_SPT_6);
        assert_int_equal(both(t, sid, 1, 0x40010, SIOV_ACCESS_READ | SIOV_ACCESS_EXEC, SIOV_FAULT_SPT_5), SIOV_FAULT_SPT_5);
    }
}

/* ------------------------------------------------------------ interrupts */
#define IRQ_TABLE 0x1000000ull /* up to 512 entries */
#define IRQ_PIDS 0x1100000ull  /* 32 posted-interrupt descriptors */
#define IRQ_QUEUE 0x1200000ull
#define IRQ_STATUS 0x1201000ull
#define IRQ_SETS 400
#define IRQ_REQS 48

struct irq_set {
    struct tl *t;
    uint64_t rng;
    unsigned entries, q_tail;
    uint32_t q_seq;
    bool eime;
    siov_sid sids[4];
};

static uint64_t irnd(struct irq_set *s, uint64_t below)
{
    s->rng ^= s->rng << 13, s->rng ^= s->rng >> 7, s->rng ^= s->rng << 17;
    return below ? s->rng % below : s->rng;
}

static void irq_w64(struct irq_set *s, uint64_t gpa, uint64_t v)
{
    assert_int_equal(siov_mem_write(s->t->mem, gpa, &v, 8), 0);
}

/* A global IEC invalidation and a wait through the set's own queue. */
static void irq_invalidate(struct irq_set *s)
{
    uint64_t at = IRQ_QUEUE + 16ull * s->q_tail;
    irq_w64(s, at, siov_dsc_make_type(SIOV_DSC_IEC));
    irq_w64(s, at + 8, 0);
    irq_w64(s, at + 16, siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, ++s->q_seq));
    irq_w64(s, at + 24, IRQ_STATUS);
    s->q_tail = (s->q_tail + 2) % 256;
    siov_mmio_write(s->t->iommu, SIOV_REG_IQT, 16ull * s->q_tail, 8);
    uint32_t st;
    assert_int_equal(siov_mem_read(s->t->mem, IRQ_STATUS, &st, 4), 0);
    assert_int_equal(st, s->q_seq);
}

/* A random entry: empty, remapped, posted, or one of those with a bit flipped. */
static void irq_entry(struct irq_set *s, unsigned i)
{
    unsigned kind = (unsigned)irnd(s, 10);
    uint64_t q[2] = {0, 0};
    siov_sid sid = s->sids[irnd(s, 4)];
    if (kind >= 2 && kind < 6) {
        uint32_t dest = s->eime ? (uint32_t)irnd(s, 0) : (uint32_t)irnd(s, 256);
        tl_irte_remapped(q, (uint8_t)irnd(s, 256), dest, s->eime, sid);
        q[0] |= siov_set(0, SIOV_IRTE0_DLM, (unsigned[]){0, 1, 2, 4, 5, 7}[irnd(s, 6)]) |
                (irnd(s, 2) ? SIOV_IRTE0_DM : 0) | (irnd(s, 2) ? SIOV_IRTE0_TM : 0) | (irnd(s, 2) ? SIOV_IRTE0_RH : 0);
    } else if (kind >= 6) {
        uint64_t pda = irnd(s, 20) ? IRQ_PIDS + 64 * irnd(s, 32) : TL_MEM_SIZE + 64 * irnd(s, 64);
        tl_irte_posted(q, (uint8_t)irnd(s, 256), pda, irnd(s, 4) == 0, sid);
    }
    if (kind)
        q[1] = siov_set(q[1], SIOV_IRTE1_SVT, irnd(s, 5) ? SIOV_SVT_RID : irnd(s, 4)) | siov_set(0, SIOV_IRTE1_SQ, irnd(s, 4)) |
               (q[1] & ~(SIOV_IRTE1_SVT | SIOV_IRTE1_SQ));
    if (kind && irnd(s, 4) == 0)
        q[irnd(s, 2)] ^= 1ull << irnd(s, 64);
    q[0] |= irnd(s, 8) == 0 ? SIOV_IRTE0_FPD : 0;
    tl_irte(s->t, IRQ_TABLE, i, q[0], q[1]);
}

/* A random unit configuration, table and descriptors, remapping enabled. */
static void irq_set_build(struct irq_set *s, uint64_t seed)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    s->rng = seed | 1;
    cfg.x2apic = irnd(s, 4) != 0;
    cfg.posted_interrupts = irnd(s, 4) != 0;
    cfg.x2apic_only = cfg.x2apic && irnd(s, 10) == 0;
    cfg.irq_remap_required = irnd(s, 10) == 0;
    cfg.esirtps = irnd(s, 2);
    cfg.haw = 36 + (unsigned)irnd(s, 13);
    s->t = tl_new(&cfg);
    for (unsigned i = 0; i < 4; i++)
        s->sids[i] = (siov_sid)irnd(s, 0x10000);
    s->eime = cfg.x2apic && irnd(s, 5) != 0;
    unsigned sz = (unsigned)irnd(s, 9);
    s->entries = 2u << sz;
    for (unsigned i = 0; i < s->entries && i < 64; i++)
        irq_entry(s, i);
    for (unsigned i = 0; i < 32; i++) {
        uint64_t ctl = siov_set(0, SIOV_PID4_NV, irnd(s, 256)) | irnd(s, 4) |
                       (s->eime ? siov_set(0, SIOV_PID4_NDST, irnd(s, 0)) : siov_set(0, SIOV_PID4_NDST_XAPIC, irnd(s, 256)));
        if (irnd(s, 10) == 0)
            ctl ^= 1ull << irnd(s, 64);
        irq_w64(s, IRQ_PIDS + 64 * i + 32, ctl);
        irq_w64(s, IRQ_PIDS + 64 * i + 40 + 8 * irnd(s, 3), irnd(s, 20) == 0);
    }
    siov_mmio_write(s->t->iommu, SIOV_REG_IQA, IRQ_QUEUE, 8);
    tl_gcmd(s->t, SIOV_GCMD_QIE, 0);
    siov_mmio_write(s->t->iommu, SIOV_REG_IRTA, IRQ_TABLE | sz | (s->eime ? SIOV_IRTA_EIME : 0), 8);
    tl_gcmd(s->t, SIOV_GCMD_SIRTP, 0);
    if (irnd(s, 10))
        tl_gcmd(s->t, SIOV_GCMD_IRE, 0);
    if (irnd(s, 3) == 0)
        tl_gcmd(s->t, SIOV_GCMD_CFI, 0);
}

/* A random message: mostly remappable near the table, some compatibility
   format, misaligned or anywhere in the range. */
static void irq_request(struct irq_set *s, siov_sid *sid, uint64_t *addr, uint32_t *data)
{
    unsigned kind = (unsigned)irnd(s, 20);
    *sid = irnd(s, 8) ? s->sids[irnd(s, 4)] : (siov_sid)irnd(s, 0x10000);
    *data = irnd(s, 10) == 0 ? (uint32_t)irnd(s, 0) : 0;
    if (kind < 14) {
        bool shv = irnd(s, 5) == 0;
        unsigned idx = (unsigned)irnd(s, s->entries < 64 ? s->entries + 4 : 68);
        unsigned sub = shv ? (unsigned)irnd(s, 3) : 0;
        *addr = siov_msi_remap_addr(idx - (idx >= sub ? sub : 0), shv);
        if (shv)
            *data = (irnd(s, 8) == 0 ? (uint32_t)irnd(s, 0) & 0xFFFF0000u : 0) | sub;
    } else if (kind < 17) {
        *addr = 0xFEE00000ull | irnd(s, 0x100) << 12 | irnd(s, 2) << 2 | irnd(s, 2) << 3;
        *data = (uint32_t)irnd(s, 0x10000);
    } else if (kind < 18) {
        *addr = siov_msi_remap_addr((unsigned)irnd(s, 8), false) | (1 + irnd(s, 3));
    } else {
        *addr = 0xFEE00000ull | irnd(s, 0x100000);
    }
}

static bool same_irq(const struct siov_irq *a, const struct siov_irq *b)
{
    if (a->posted != b->posted || a->vector != b->vector)
        return false;
    if (a->posted)
        return a->pd_addr == b->pd_addr && a->notify == b->notify && a->nv == b->nv && a->ndst == b->ndst;
    return a->dest == b->dest && a->delivery_mode == b->delivery_mode && a->dest_logical == b->dest_logical &&
           a->level_trigger == b->level_trigger && a->redirection_hint == b->redirection_hint;
}

/* One request through the model and the oracle: outcome, posting, record. */
static bool irq_check(struct irq_set *s, const struct ref_unit *u, siov_sid sid, uint64_t addr, uint32_t data)
{
    struct ref_irq_result ref;
    struct siov_irq got;
    ref_interrupt(u, sid, addr, data, &ref); /* before the model posts */
    unsigned at = s->t->iommu->fault_next;
    uint64_t rec0 = tl_stats(s->t).faults_recorded;
    siov_fault f = siov_interrupt(s->t->iommu, sid, addr, data, &got);
    bool ok = f == ref.fault && (f || same_irq(&got, &ref.irq));
    if (ok && !f && got.posted) {
        uint64_t pir = 0;
        siov_mem_read(s->t->mem, got.pd_addr + 8 * (got.vector / 64), &pir, 8);
        ok = pir >> (got.vector % 64) & 1;
    }
    if (ok && f)
        ok = tl_stats(s->t).faults_recorded == rec0 + ref.recorded &&
             (!ref.recorded || (tl_frcd(s->t, at, 0) == ref.fi &&
                                tl_frcd(s->t, at, 1) == (0x8000000000000000ull | (uint64_t)f << 32 | sid)));
    if (!ok)
        fprintf(stderr, "MISMATCH (interrupts, seed 0x%llx): sid %04x addr 0x%llx data 0x%x: model %s, oracle %s\n",
                (unsigned long long)s->rng, sid, (unsigned long long)addr, data, siov_fault_name(f),
                siov_fault_name(ref.fault));
    for (unsigned i = 0; f && i < 8; i++) /* room for the next record */
        siov_mmio_write(s->t->iommu, SIOV_REG_FRCD + 16 * i + 8, SIOV_FRCD1_F, 8);
    siov_mmio_write(s->t->iommu, SIOV_REG_FSTS, SIOV_FSTS_RW1C, 4);
    return ok;
}

/* Random tables and descriptors: each request cold (after a global IEC
   invalidation), then twice on the warm cache; every answer the oracle's. */
static void test_interrupt_sets(void **state)
{
    (void)state;
    uint64_t base = env_u64("SIOV_DIFF_SEED", DEFAULT_SEED), mismatches = 0, n = 0, ok = 0, posted = 0;
    double t0 = now();
    for (uint64_t i = 0; i < IRQ_SETS; i++) {
        struct irq_set s = {0};
        irq_set_build(&s, set_seed(base, i));
        struct ref_unit u;
        ref_unit_init(&u, s.t->mem, s.t->iommu);
        siov_sid sid[IRQ_REQS];
        uint64_t addr[IRQ_REQS];
        uint32_t data[IRQ_REQS];
        for (unsigned k = 0; k < IRQ_REQS; k++) {
            irq_request(&s, &sid[k], &addr[k], &data[k]);
            irq_invalidate(&s);
            mismatches += !irq_check(&s, &u, sid[k], addr[k], data[k]);
        }
        for (unsigned pass = 0; pass < 2; pass++)
            for (unsigned k = 0; k < IRQ_REQS; k++)
                mismatches += !irq_check(&s, &u, sid[k], addr[k], data[k]);
        struct siov_stats st = tl_stats(s.t);
        n += st.interrupts, ok += st.irq_remapped + st.irq_posted + st.irq_compat, posted += st.irq_posted;
        tl_free(s.t);
    }
    fprintf(stderr, "differential (interrupts): %d sets, %llu requests (%llu delivered, %llu posted), "
                    "%llu mismatches, %.1f s\n", IRQ_SETS, (unsigned long long)n, (unsigned long long)ok,
            (unsigned long long)posted, (unsigned long long)mismatches, now() - t0);
    assert_true(ok > n / 10 && posted > 0);
    assert_int_equal(mismatches, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interrupt_sets),
        cmocka_unit_test_setup_teardown(test_random_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupted_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_every_bit_flipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ats_random_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ats_corrupted_sets, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_legacy_top_sl_fetch_error_is_lct4, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_rid_pasid_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_model_no_pasid_request_ignores_exec_priv, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

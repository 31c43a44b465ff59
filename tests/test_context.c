/* Root and context entries, legacy and scalable mode (src/context.c), through
   the public siov_translate: every fault reason of the context stage, each
   from one specific bad structure, the recorded fault, and FPD. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define MEM_SIZE (4ull << 20)  /* guest memory of each unit */
#define DATA_BASE (3ull << 20) /* data pages, above the table pool */

#define BUS 3u
#define SID_LO SIOV_SID(BUS, 2, 1)   /* devfn 0x11: lower half of the root entry */
#define SID_HI SIOV_SID(BUS, 18, 2)  /* devfn 0x92: upper half */
#define IOVA 0x12345678ull
#define PA (DATA_BASE + 0x7000)
#define DID 0x2A5
#define OUT_OF_MEMORY (1ull << 32)   /* below HAW 48, far beyond the 64 MiB guest memory */

/* Faults the context entry's FPD cannot suppress: not qualified (Table 30),
   or LCT.1, qualified but from an entry that could not be read, so no FPD. */
static bool not_qualified(siov_fault f)
{
    switch (f) {
    case SIOV_FAULT_LRT_1: case SIOV_FAULT_LRT_2: case SIOV_FAULT_LRT_3:
    case SIOV_FAULT_LCT_1:
    case SIOV_FAULT_RTA_1: case SIOV_FAULT_RTA_2:
    case SIOV_FAULT_SRT_1: case SIOV_FAULT_SRT_2: case SIOV_FAULT_SRT_3:
    case SIOV_FAULT_SCT_1:
        return true;
    default:
        return false;
    }
}

enum { CFG_DEFAULT, CFG_NO_DT, CFG_NO_PT, CFG_HAW39, CFG_ALL_SAGAW, CFG_NO_PRS };

static struct tl *unit(unsigned cfgmod)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    switch (cfgmod) {
    case CFG_NO_DT: cfg.dev_tlb = false; break;
    case CFG_NO_PT: cfg.pass_through = false; break;
    case CFG_HAW39: cfg.haw = 39; break;
    case CFG_ALL_SAGAW: cfg.sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL; break;
    case CFG_NO_PRS: cfg.page_requests = false; break;
    default: break;
    }
    return tl_new_sized(&cfg, MEM_SIZE);
}

/* ------------------------------------------------------ the good setups */
/* Which qword of which structure a case changes. */
enum target { ROOT0, ROOT1, CTX0, CTX1, CTX2, CTX3 };

struct setup {
    struct tl *t;
    uint64_t root_entry; /* gpa of the root entry of BUS */
    uint64_t ctx[2];     /* gpa of the context entries of SID_LO and SID_HI */
};

/* Legacy: both devices TT=00, AW 4-level, DID, IOVA -> PA. */
static void legacy_setup(struct setup *s, unsigned cfgmod)
{
    struct tl *t = s->t = unit(cfgmod);
    tl_enable(t, SIOV_TTM_LEGACY);
    uint64_t slpt = tl_page(t);
    tl_map(t, slpt, 4, false, IOVA, PA, SIOV_PAGE_SIZE, TL_SL_RW, TL_SL_RW);
    uint64_t qw0 = SIOV_CE0_P | siov_set(0, SIOV_CE0_TT, SIOV_TT_SL) | slpt;
    uint64_t qw1 = siov_set(0, SIOV_CE1_AW, SIOV_AW_4LVL) | siov_set(0, SIOV_CE1_DID, DID);
    s->ctx[0] = tl_legacy_context(t, SID_LO, qw0, qw1);
    s->ctx[1] = tl_legacy_context(t, SID_HI, qw0, qw1);
    s->root_entry = t->root + BUS * SIOV_ROOT_ENTRY_SIZE;
}

/* Scalable: both devices with the default context entry (P, PASIDE, DTE,
   PDTS=7, RID_PASID 0) and pass-through entries for PASID 0 and PASID. */
#define PASID 0x1234u
static void sm_setup(struct setup *s, unsigned cfgmod)
{
    struct tl *t = s->t = unit(cfgmod);
    tl_enable(t, SIOV_TTM_SCALABLE);
    s->root_entry = t->root + BUS * SIOV_ROOT_ENTRY_SIZE;
    uint64_t pe[8];
    tl_pe_pt(pe, DID);
    const siov_sid sids[2] = {SID_LO, SID_HI};
    for (int i = 0; i < 2; i++) {
        uint64_t dir = tl_sm_context_default(t, sids[i], 0);
        tl_pasid_entry(t, dir, 0, pe);
        tl_pasid_entry(t, dir, PASID, pe);
        uint64_t table = tl_r64(t, s->root_entry + 8 * i) & SIOV_ADDR_4K;
        s->ctx[i] = table + (SIOV_SID_DEVFN(sids[i]) & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE;
    }
}

static uint64_t target_gpa(const struct setup *s, enum target tg, bool upper)
{
    if (tg == ROOT0 || tg == ROOT1)
        return s->root_entry + 8 * (tg - ROOT0);
    return s->ctx[upper] + 8 * (tg - CTX0);
}

/* Put value into field of qword tg (the context entry of the requesting device). */
static void mutate(struct setup *s, enum target tg, bool upper, uint64_t field, uint64_t value)
{
    uint64_t gpa = target_gpa(s, tg, upper);
    tl_w64(s->t, gpa, siov_set(tl_r64(s->t, gpa), field, value));
}

/* ------------------------------------------------------------ the cases */
#define EACH UINT64_MAX            /* value: each bit of field set alone (a reserved region) */
#define ABOVE_HAW (UINT64_MAX - 1) /* value: each bit of field at or above cfg.haw set alone */

/* One bad (or deliberately harmless) change to the good setup. */
struct ctx_case {
    const char *name;
    enum target tg;
    uint64_t field, value;
    siov_fault want;
    bool upper;      /* the request comes from SID_HI (devfn >= 128) */
    unsigned cfgmod;
    unsigned access; /* 0: a read */
    bool pasid;      /* the request carries PASID */
};

/* A case: name, target qword, field, value, expected fault, then optional .upper etc. */
#define CASE(n, t, f, v, w, ...) {.name = n, .tg = t, .field = f, .value = v, .want = w, __VA_ARGS__}

static char where[160]; /* the case being run, for failure messages */
#define CHECK(cond) do { if (!(cond)) fail_msg("%s: %s", where, #cond); } while (0)

/* Run c with one variant (field, value), with or without FPD in the context entry. */
static void run_variant(const struct ctx_case *c, bool legacy, uint64_t field, uint64_t value, bool fpd)
{
    struct setup s;
    if (legacy)
        legacy_setup(&s, c->cfgmod);
    else
        sm_setup(&s, c->cfgmod);
    mutate(&s, c->tg, c->upper, field, value);
    if (fpd)
        mutate(&s, CTX0, c->upper, legacy ? SIOV_CE0_FPD : SIOV_SCE0_FPD, 1);
    siov_sid sid = c->upper ? SID_HI : SID_LO;
    uint32_t pasid = c->pasid ? PASID : SIOV_NO_PASID;
    unsigned access = c->access ? c->access : SIOV_ACCESS_READ;
    struct siov_xlate x;
    memset(&x, 0, sizeof(x));
    siov_fault f = siov_translate(s.t->iommu, sid, pasid, IOVA, access, &x);
    if (f != c->want)
        fail_msg("%s: got %s (0x%x), want %s", where, siov_fault_name(f), f, siov_fault_name(c->want));
    if (f == SIOV_OK) {
        uint64_t out = legacy ? PA + (IOVA & 0xFFF) : IOVA;
        CHECK(x.addr == out);
        CHECK(x.did == ((access & SIOV_ACCESS_ATS_REQ) ? 0 : DID)); /* a completion carries no DID */
        CHECK(tl_fault_records(s.t) == 0);
    } else if (fpd && !not_qualified(f)) {
        CHECK(tl_fault_records(s.t) == 0); /* qualified: suppressed by FPD */
        CHECK(tl_stats(s.t).faults == 1);
        CHECK(tl_stats(s.t).faults_recorded == 0);
    } else {
        CHECK(tl_fault_records(s.t) == 1);
        struct siov_fault_record r;
        CHECK(siov_iommu_fault_record(s.t->iommu, 0, &r) == 1);
        CHECK(r.reason == f && r.sid == sid && r.pasid == pasid);
        /* a translation request is a memory read whatever access asked for */
        unsigned recorded = (access & SIOV_ACCESS_ATS_REQ) ? (access & ~SIOV_ACCESS_WRITE) | SIOV_ACCESS_READ : access;
        CHECK(r.addr == (IOVA & ~0xFFFull) && r.access == recorded);
        uint64_t hi = tl_frcd(s.t, 0, 1);
        CHECK((hi & SIOV_FRCD1_F) && siov_get(hi, SIOV_FRCD1_FR) == f && siov_get(hi, SIOV_FRCD1_SID) == sid);
        CHECK(tl_frcd(s.t, 0, 0) == (IOVA & ~0xFFFull));
        CHECK(tl_stats(s.t).faults_recorded == 1);
    }
    tl_free(s.t);
}

static unsigned case_haw(const struct ctx_case *c)
{
    return c->cfgmod == CFG_HAW39 ? 39 : 48;
}

/* Every variant of every case, each with FPD clear and set. */
static void run_cases(const struct ctx_case *cases, size_t n, bool legacy)
{
    for (size_t i = 0; i < n; i++) {
        const struct ctx_case *c = &cases[i];
        unsigned haw = case_haw(c);
        for (int fpd = 0; fpd < 2; fpd++) {
            if (c->value != EACH && c->value != ABOVE_HAW) {
                snprintf(where, sizeof(where), "%s (fpd %d)", c->name, fpd);
                run_variant(c, legacy, c->field, c->value, fpd);
                continue;
            }
            /* every bit without FPD; with FPD the lowest and highest bit suffice */
            uint64_t bits = c->field & (c->value == ABOVE_HAW ? siov_above(haw) : ~0ull);
            if (fpd && bits)
                bits &= (bits & -bits) | (1ull << (63 - __builtin_clzll(bits)));
            unsigned ran = 0;
            for (unsigned b = 0; b < 64; b++) {
                if (!(bits & (1ull << b)))
                    continue;
                snprintf(where, sizeof(where), "%s bit %u (fpd %d)", c->name, b, fpd);
                run_variant(c, legacy, 1ull << b, 1, fpd);
                ran++;
            }
            if (!ran)
                fail_msg("%s: no bit to set", c->name);
        }
    }
}

static const struct ctx_case legacy_cases[] = {
    CASE("root P=0", ROOT0, SIOV_RE0_P, 0, SIOV_FAULT_LRT_2),
    CASE("root P=0, devfn >= 128", ROOT0, SIOV_RE0_P, 0, SIOV_FAULT_LRT_2, .upper = true),
    CASE("root rsvd 11:1", ROOT0, SIOV_RE0_RSVD, EACH, SIOV_FAULT_LRT_3),
    CASE("root CTP >= HAW", ROOT0, SIOV_RE0_CTP, ABOVE_HAW, SIOV_FAULT_LRT_3),
    CASE("root CTP >= HAW 39", ROOT0, SIOV_RE0_CTP, ABOVE_HAW, SIOV_FAULT_LRT_3, .cfgmod = CFG_HAW39),
    CASE("root qw1 rsvd", ROOT1, ~0ull, EACH, SIOV_FAULT_LRT_3),
    CASE("root qw1 rsvd, devfn >= 128", ROOT1, ~0ull, EACH, SIOV_FAULT_LRT_3, .upper = true),
    CASE("root CTP outside memory", ROOT0, SIOV_RE0_CTP, OUT_OF_MEMORY >> 12, SIOV_FAULT_LCT_1),
    CASE("ctx P=0", CTX0, SIOV_CE0_P, 0, SIOV_FAULT_LCT_2),
    CASE("ctx P=0 write", CTX0, SIOV_CE0_P, 0, SIOV_FAULT_LCT_2, .access = SIOV_ACCESS_WRITE),
    CASE("ctx P=0, devfn >= 128", CTX0, SIOV_CE0_P, 0, SIOV_FAULT_LCT_2, .upper = true),
    CASE("ctx rsvd 11:4", CTX0, SIOV_CE0_RSVD, EACH, SIOV_FAULT_LCT_3),
    CASE("ctx SLPTPTR >= HAW", CTX0, SIOV_CE0_SLPTPTR, ABOVE_HAW, SIOV_FAULT_LCT_3),
    CASE("ctx SLPTPTR >= HAW 39", CTX0, SIOV_CE0_SLPTPTR, ABOVE_HAW, SIOV_FAULT_LCT_3, .cfgmod = CFG_HAW39),
    CASE("ctx qw1 rsvd", CTX1, SIOV_CE1_RSVD, EACH, SIOV_FAULT_LCT_3),
    CASE("ctx TT=11", CTX0, SIOV_CE0_TT, SIOV_TT_RESERVED, SIOV_FAULT_LCT_4),
    CASE("ctx TT=01 without DT", CTX0, SIOV_CE0_TT, SIOV_TT_SL_DT, SIOV_FAULT_LCT_4, .cfgmod = CFG_NO_DT),
    CASE("ctx TT=10 without PT", CTX0, SIOV_CE0_TT, SIOV_TT_PASS_THROUGH, SIOV_FAULT_LCT_4, .cfgmod = CFG_NO_PT),
    CASE("ctx AW=0", CTX1, SIOV_CE1_AW, 0, SIOV_FAULT_LCT_4),
    CASE("ctx AW=1 not in SAGAW", CTX1, SIOV_CE1_AW, SIOV_AW_3LVL, SIOV_FAULT_LCT_4),
    CASE("ctx AW=3 not in SAGAW", CTX1, SIOV_CE1_AW, SIOV_AW_5LVL, SIOV_FAULT_LCT_4),
    CASE("ctx AW=4", CTX1, SIOV_CE1_AW, 4, SIOV_FAULT_LCT_4, .cfgmod = CFG_ALL_SAGAW),
    CASE("ctx AW=5", CTX1, SIOV_CE1_AW, 5, SIOV_FAULT_LCT_4, .cfgmod = CFG_ALL_SAGAW),
    CASE("ctx AW=6", CTX1, SIOV_CE1_AW, 6, SIOV_FAULT_LCT_4, .cfgmod = CFG_ALL_SAGAW),
    CASE("ctx AW=7", CTX1, SIOV_CE1_AW, 7, SIOV_FAULT_LCT_4, .cfgmod = CFG_ALL_SAGAW),
    CASE("ATS request, TT=00", CTX0, SIOV_CE0_TT, SIOV_TT_SL, SIOV_FAULT_LCT_5,
     .access = SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ),
    CASE("translated request, TT=00", CTX0, SIOV_CE0_TT, SIOV_TT_SL, SIOV_FAULT_LCT_5,
     .access = SIOV_ACCESS_WRITE | SIOV_ACCESS_TRANSLATED),
    CASE("ATS request, TT=10", CTX0, SIOV_CE0_TT, SIOV_TT_PASS_THROUGH, SIOV_FAULT_LCT_5,
     .access = SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ),
    CASE("ATS request, TT=01 (allowed)", CTX0, SIOV_CE0_TT, SIOV_TT_SL_DT, SIOV_OK,
     .access = SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ),
    CASE("AW=2 (the good value)", CTX1, SIOV_CE1_AW, SIOV_AW_4LVL, SIOV_OK),
};

static const struct ctx_case sm_cases[] = {
    CASE("lower half LP=0", ROOT0, SIOV_SRE0_LP, 0, SIOV_FAULT_SRT_2),
    CASE("upper half UP=0", ROOT1, SIOV_SRE1_UP, 0, SIOV_FAULT_SRT_2, .upper = true),
    CASE("lower half LP=0, upper request", ROOT0, SIOV_SRE0_LP, 0, SIOV_OK, .upper = true),
    CASE("upper half UP=0, lower request", ROOT1, SIOV_SRE1_UP, 0, SIOV_OK),
    CASE("lower half rsvd", ROOT0, SIOV_SRE_HALF_RSVD, EACH, SIOV_FAULT_SRT_3),
    CASE("upper half rsvd", ROOT1, SIOV_SRE_HALF_RSVD, EACH, SIOV_FAULT_SRT_3, .upper = true),
    CASE("lower half rsvd, upper request", ROOT0, SIOV_SRE_HALF_RSVD, EACH, SIOV_OK, .upper = true),
    CASE("upper half rsvd, lower request", ROOT1, SIOV_SRE_HALF_RSVD, EACH, SIOV_OK),
    CASE("LCTP >= HAW", ROOT0, SIOV_SRE0_LCTP, ABOVE_HAW, SIOV_FAULT_SRT_3),
    CASE("UCTP >= HAW", ROOT1, SIOV_SRE1_UCTP, ABOVE_HAW, SIOV_FAULT_SRT_3, .upper = true),
    CASE("UCTP >= HAW 39", ROOT1, SIOV_SRE1_UCTP, ABOVE_HAW, SIOV_FAULT_SRT_3, .upper = true, .cfgmod = CFG_HAW39),
    CASE("LCTP outside memory", ROOT0, SIOV_SRE0_LCTP, OUT_OF_MEMORY >> 12, SIOV_FAULT_SCT_1),
    CASE("UCTP outside memory", ROOT1, SIOV_SRE1_UCTP, OUT_OF_MEMORY >> 12, SIOV_FAULT_SCT_1, .upper = true),
    CASE("ctx P=0", CTX0, SIOV_SCE0_P, 0, SIOV_FAULT_SCT_2),
    CASE("ctx P=0, with PASID", CTX0, SIOV_SCE0_P, 0, SIOV_FAULT_SCT_2, .pasid = true),
    CASE("ctx P=0 upper, write", CTX0, SIOV_SCE0_P, 0, SIOV_FAULT_SCT_2, .upper = true,
     .access = SIOV_ACCESS_WRITE),
    CASE("ctx qw0 rsvd 8:5", CTX0, SIOV_SCE0_RSVD, EACH, SIOV_FAULT_SCT_3),
    CASE("ctx qw0 rsvd 8:5 upper", CTX0, SIOV_SCE0_RSVD, EACH, SIOV_FAULT_SCT_3, .upper = true),
    CASE("ctx PASIDDIRPTR >= HAW", CTX0, SIOV_SCE0_PASIDDIRPTR, ABOVE_HAW, SIOV_FAULT_SCT_3),
    CASE("ctx PASIDDIRPTR >= HAW 39", CTX0, SIOV_SCE0_PASIDDIRPTR, ABOVE_HAW, SIOV_FAULT_SCT_3,
     .cfgmod = CFG_HAW39),
    CASE("ctx qw1 rsvd", CTX1, SIOV_SCE1_RSVD, EACH, SIOV_FAULT_SCT_3),
    CASE("ctx qw2 nonzero", CTX2, ~0ull, EACH, SIOV_FAULT_SCT_3),
    CASE("ctx qw3 nonzero", CTX3, ~0ull, EACH, SIOV_FAULT_SCT_3, .upper = true, .pasid = true),
    CASE("DTE without DT", CTX0, SIOV_SCE0_DTE, 1, SIOV_FAULT_SCT_4, .cfgmod = CFG_NO_DT),
    CASE("DTE=0 without DT", CTX0, SIOV_SCE0_DTE, 0, SIOV_OK, .cfgmod = CFG_NO_DT),
    CASE("PRE without PRS", CTX0, SIOV_SCE0_PRE, 1, SIOV_FAULT_SCT_4, .cfgmod = CFG_NO_PRS),
    /* the field spans DTE (bit 2) and PRE (bit 4): 4 sets PRE alone */
    CASE("PRE with DTE=0", CTX0, SIOV_SCE0_DTE | SIOV_SCE0_PRE, 4, SIOV_FAULT_SCT_4),
    CASE("PRE with DTE=0, with PASID", CTX0, SIOV_SCE0_DTE | SIOV_SCE0_PRE, 4, SIOV_FAULT_SCT_4, .pasid = true),
    CASE("PRE with DTE (allowed)", CTX0, SIOV_SCE0_PRE, 1, SIOV_OK),
    CASE("RID_PRIV without RPRIVS", CTX1, SIOV_SCE1_RID_PRIV, 1, SIOV_FAULT_SCT_4),
    CASE("ATS request, DTE=0", CTX0, SIOV_SCE0_DTE, 0, SIOV_FAULT_SCT_5,
     .access = SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ),
    CASE("ATS request with PASID, DTE=0", CTX0, SIOV_SCE0_DTE, 0, SIOV_FAULT_SCT_5,
     .access = SIOV_ACCESS_WRITE | SIOV_ACCESS_ATS_REQ, .pasid = true),
    CASE("translated request, DTE=0", CTX0, SIOV_SCE0_DTE, 0, SIOV_FAULT_SCT_5,
     .access = SIOV_ACCESS_READ | SIOV_ACCESS_TRANSLATED),
    CASE("ATS request, DTE=1 (allowed)", CTX0, SIOV_SCE0_DTE, 1, SIOV_OK,
     .access = SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ),
};

static void test_legacy_cases(void **state)
{
    (void)state;
    run_cases(legacy_cases, sizeof(legacy_cases) / sizeof(legacy_cases[0]), true);
}

static void test_sm_cases(void **state)
{
    (void)state;
    run_cases(sm_cases, sizeof(sm_cases) / sizeof(sm_cases[0]), false);
}

/* ------------------------------------------------- the good setups work */
static void test_legacy_good(void **state)
{
    (void)state;
    struct setup s;
    legacy_setup(&s, CFG_DEFAULT);
    const siov_sid sids[2] = {SID_LO, SID_HI};
    for (int i = 0; i < 2; i++) {
        struct siov_xlate x;
        assert_int_equal(siov_translate(s.t->iommu, sids[i], SIOV_NO_PASID, IOVA, SIOV_ACCESS_WRITE, &x), SIOV_OK);
        assert_int_equal(x.addr, PA + (IOVA & 0xFFF));
        assert_int_equal(x.page_size, SIOV_PAGE_SIZE);
        assert_int_equal(x.did, DID);
    }
    /* a device on another bus has no root entry */
    struct siov_xlate x;
    assert_int_equal(siov_translate(s.t->iommu, SIOV_SID(BUS + 1, 2, 1), SIOV_NO_PASID, IOVA, 0, &x),
                     SIOV_FAULT_LRT_2);
    tl_check_record(s.t, 0, TL_REC(SIOV_FAULT_LRT_2, SIOV_SID(BUS + 1, 2, 1), SIOV_NO_PASID, IOVA, SIOV_ACCESS_READ));
    tl_free(s.t);
}

static void test_sm_good(void **state)
{
    (void)state;
    struct setup s;
    sm_setup(&s, CFG_DEFAULT);
    const siov_sid sids[2] = {SID_LO, SID_HI};
    for (int i = 0; i < 2; i++) {
        for (int p = 0; p < 2; p++) {
            struct siov_xlate x;
            uint32_t pasid = p ? PASID : SIOV_NO_PASID;
            assert_int_equal(siov_translate(s.t->iommu, sids[i], pasid, IOVA, SIOV_ACCESS_READ, &x), SIOV_OK);
            assert_int_equal(x.addr, IOVA);
            assert_int_equal(x.did, DID);
        }
    }
    /* a device whose context entry was never written (zeroed table): SCT.2 */
    struct siov_xlate x;
    assert_int_equal(siov_translate(s.t->iommu, SIOV_SID(BUS, 3, 0), SIOV_NO_PASID, IOVA, 0, &x),
                     SIOV_FAULT_SCT_2);
    tl_check_record(s.t, 0, TL_REC(SIOV_FAULT_SCT_2, SIOV_SID(BUS, 3, 0), SIOV_NO_PASID, IOVA, SIOV_ACCESS_READ));
    assert_int_equal(tl_fault_records(s.t), 1);
    tl_free(s.t);
}

/* -------------------------------------------------- the root table itself */
/* A unit whose RTADDR (with ttm) is latched as given, TE set. */
static struct tl *unit_rtaddr(uint64_t rtaddr, unsigned ttm, unsigned cfgmod)
{
    struct tl *t = unit(cfgmod);
    siov_mmio_write(t->iommu, SIOV_REG_RTADDR, siov_set(rtaddr, SIOV_RTADDR_TTM, ttm), 8);
    tl_gcmd(t, SIOV_GCMD_SRTP, 0);
    tl_gcmd(t, SIOV_GCMD_TE, 0);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES);
    return t;
}

static void test_root_table_outside_memory(void **state)
{
    (void)state;
    static const struct {
        uint64_t rta;
        unsigned ttm;
        siov_fault want;
    } cases[] = {
        {OUT_OF_MEMORY, SIOV_TTM_LEGACY, SIOV_FAULT_LRT_1},
        {MEM_SIZE, SIOV_TTM_LEGACY, SIOV_FAULT_LRT_1},   /* the first page past the end */
        {OUT_OF_MEMORY, SIOV_TTM_SCALABLE, SIOV_FAULT_SRT_1},
        {MEM_SIZE, SIOV_TTM_SCALABLE, SIOV_FAULT_SRT_1},
        {1ull << 48, SIOV_TTM_LEGACY, SIOV_FAULT_RTA_1},     /* at HAW: RTADDR itself is bad */
        {1ull << 63, SIOV_TTM_SCALABLE, SIOV_FAULT_RTA_1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl *t = unit_rtaddr(cases[i].rta, cases[i].ttm, CFG_DEFAULT);
        siov_sid sid = SIOV_SID(0xFF, 31, 7); /* the last root entry and devfn */
        struct siov_xlate x;
        assert_int_equal(siov_translate(t->iommu, sid, SIOV_NO_PASID, IOVA, SIOV_ACCESS_WRITE, &x), cases[i].want);
        tl_check_record(t, 0, TL_REC(cases[i].want, sid, SIOV_NO_PASID, IOVA, SIOV_ACCESS_WRITE));
        assert_int_equal(tl_fault_records(t), 1);
        tl_free(t);
    }
}

/* The root table in the last page of memory: bus 255's entry is read in bounds. */
static void test_root_table_last_page(void **state)
{
    (void)state;
    struct tl *t = unit_rtaddr(MEM_SIZE - SIOV_PAGE_SIZE, SIOV_TTM_SCALABLE, CFG_DEFAULT);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SIOV_SID(0xFF, 31, 7), SIOV_NO_PASID, IOVA, 0, &x),
                     SIOV_FAULT_SRT_2);
    /* present upper half pointing at the last page: devfn 255's entry is its last 32 bytes */
    tl_w64(t, MEM_SIZE - 8, (MEM_SIZE - SIOV_PAGE_SIZE) | SIOV_SRE1_UP);
    assert_int_equal(siov_translate(t->iommu, SIOV_SID(0xFF, 31, 7), SIOV_NO_PASID, IOVA, 0, &x),
                     SIOV_FAULT_SCT_2); /* its qw3 is the root entry's qw1 */
    tl_free(t);
    /* legacy: bus 255's root entry and devfn 255's context entry are the page's last 16 bytes */
    t = unit_rtaddr(MEM_SIZE - SIOV_PAGE_SIZE, SIOV_TTM_LEGACY, CFG_DEFAULT);
    assert_int_equal(siov_translate(t->iommu, SIOV_SID(0xFF, 31, 7), SIOV_NO_PASID, IOVA, 0, &x),
                     SIOV_FAULT_LRT_2);
    tl_w64(t, MEM_SIZE - 16, (MEM_SIZE - SIOV_PAGE_SIZE) | SIOV_RE0_P);
    assert_int_equal(siov_translate(t->iommu, SIOV_SID(0xFF, 31, 7), SIOV_NO_PASID, IOVA, 0, &x),
                     SIOV_FAULT_LCT_4); /* the root entry read as a context entry: AW 0 */
    tl_free(t);
}

/* ------------------------------------------------------- FPD bookkeeping */
/* A suppressed fault is returned and counted but leaves FRCD and FSTS alone. */
static void test_fpd_suppressed_leaves_registers(void **state)
{
    (void)state;
    struct setup s;
    legacy_setup(&s, CFG_DEFAULT);
    mutate(&s, CTX0, false, SIOV_CE0_P, 0);
    mutate(&s, CTX0, false, SIOV_CE0_FPD, 1);
    struct siov_xlate x;
    for (int i = 0; i < 3; i++)
        assert_int_equal(siov_translate(s.t->iommu, SID_LO, SIOV_NO_PASID, IOVA, 0, &x), SIOV_FAULT_LCT_2);
    assert_int_equal(tl_stats(s.t).faults, 3);
    assert_int_equal(tl_stats(s.t).faults_recorded, 0);
    assert_int_equal(siov_mmio_read(s.t->iommu, SIOV_REG_FSTS, 4), 0);
    assert_int_equal(tl_frcd(s.t, 0, 1), 0);
    /* the other device (FPD=0) still records */
    mutate(&s, CTX0, true, SIOV_CE0_P, 0);
    assert_int_equal(siov_translate(s.t->iommu, SID_HI, SIOV_NO_PASID, IOVA + 0x20000, 0, &x),
                     SIOV_FAULT_LCT_2);
    tl_check_record(s.t, 0, TL_REC(SIOV_FAULT_LCT_2, SID_HI, SIOV_NO_PASID, IOVA + 0x20000, SIOV_ACCESS_READ));
    tl_free(s.t);
}

/* The legacy context FPD also covers faults of the second-level walk. */
static void test_legacy_fpd_covers_walk(void **state)
{
    (void)state;
    struct setup s;
    legacy_setup(&s, CFG_DEFAULT);
    mutate(&s, CTX0, false, SIOV_CE0_FPD, 1);
    struct siov_xlate x;
    /* an unmapped page: the legacy not-present read reason LGN.3 */
    assert_int_equal(siov_translate(s.t->iommu, SID_LO, SIOV_NO_PASID, IOVA + 0x1000, 0, &x), SIOV_FAULT_LGN_3);
    assert_int_equal(tl_fault_records(s.t), 0);
    assert_int_equal(siov_translate(s.t->iommu, SID_HI, SIOV_NO_PASID, IOVA + 0x1000, 0, &x), SIOV_FAULT_LGN_3);
    tl_check_record(s.t, 0, TL_REC(SIOV_FAULT_LGN_3, SID_HI, SIOV_NO_PASID, IOVA + 0x1000, SIOV_ACCESS_READ));
    tl_free(s.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_good),
        cmocka_unit_test(test_sm_good),
        cmocka_unit_test(test_legacy_cases),
        cmocka_unit_test(test_sm_cases),
        cmocka_unit_test(test_root_table_outside_memory),
        cmocka_unit_test(test_root_table_last_page),
        cmocka_unit_test(test_fpd_suppressed_leaves_registers),
        cmocka_unit_test(test_legacy_fpd_covers_walk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

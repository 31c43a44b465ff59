/* PASID directory and PASID-table entries (src/pasid_table.c) through the
   public siov_translate: PASID selection (RID_PASID, PASIDE, PDTS, PASID
   width), every directory and PASID-entry fault from one bad field, FPD from
   each structure on the path, and lookups across the directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define MEM_SIZE (4ull << 20)  /* guest memory of each unit */
#define DATA_BASE (3ull << 20) /* data pages, above the table pool */

#define SID SIOV_SID(6, 1, 3)
#define PASID_X 0x2345u /* directory entry 0x8D, table slot 5; beyond PDTS=0 (8192 PASIDs) */
#define RID_OTHER 0x11u /* RID_PASID when requests bring PASID_X (equal would be SCT.9) */
#define IOVA 0x7654321ull
#define PA (DATA_BASE + 0x3000)
#define DID 0x77
#define OUT_OF_MEMORY (1ull << 32) /* below HAW, beyond the 64 MiB guest memory */

/* Configuration changes, combinable. */
enum {
    F_NO_FL = 1 << 0, F_NO_SL = 1 << 1, F_NO_NEST = 1 << 2, F_NO_PT = 1 << 3, F_NO_FL5 = 1 << 4,
    F_NO_SLAD = 1 << 5, F_NO_SRS = 1 << 6, F_NO_ERS = 1 << 7, F_HAW39 = 1 << 8, F_NO_RPS = 1 << 9,
    F_ALL_SAGAW = 1 << 10,
};

static struct tl *unit(unsigned flags, unsigned pasid_bits)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.first_level = !(flags & F_NO_FL);
    cfg.second_level = !(flags & F_NO_SL);
    cfg.nested = !(flags & F_NO_NEST);
    cfg.pass_through = !(flags & F_NO_PT);
    cfg.fl_5level = !(flags & F_NO_FL5);
    cfg.sl_ad = !(flags & F_NO_SLAD);
    cfg.supervisor_req = !(flags & F_NO_SRS);
    cfg.exec_req = !(flags & F_NO_ERS);
    cfg.rid_pasid = !(flags & F_NO_RPS);
    if (flags & F_HAW39)
        cfg.haw = 39;
    if (flags & F_ALL_SAGAW)
        cfg.sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL;
    if (pasid_bits)
        cfg.pasid_bits = pasid_bits;
    return tl_new_sized(&cfg, MEM_SIZE);
}

/* A PASID directory big enough for PDTS=7 (128 KiB, contiguous). */
static uint64_t directory(struct tl *t)
{
    uint64_t dir = tl_page(t);
    for (int i = 1; i < 32; i++)
        (void)tl_page(t);
    return dir;
}

/* Write the context entry of SID (P, DTE, PASIDE unless told, pdts, rid_pasid); returns its gpa. */
static uint64_t context(struct tl *t, uint64_t dir, unsigned pdts, uint32_t rid_pasid)
{
    uint64_t qw0 = SIOV_SCE0_P | SIOV_SCE0_DTE | SIOV_SCE0_PASIDE | siov_set(0, SIOV_SCE0_PDTS, pdts) | dir;
    return tl_sm_context(t, SID, qw0, siov_set(0, SIOV_SCE1_RID_PASID, rid_pasid));
}

/* Identity second level over all guest memory with 2 MiB pages (for nested). */
static void sl_identity(struct tl *t, uint64_t slpt)
{
    for (uint64_t g = 0; g < MEM_SIZE; g += 2ull << 20)
        tl_map(t, slpt, 4, false, g, g, 2ull << 20, TL_SL_RW, TL_SL_RW);
}

enum kind { K_SL, K_FL, K_NESTED, K_PT };
static const char *const kind_name[] = {"SL", "FL", "nested", "PT"};

/* A good PASID-table entry of kind, its tables mapping IOVA -> PA (PT: identity). */
static void good_entry(struct tl *t, enum kind k, uint64_t e[8])
{
    uint64_t slpt, flpt;
    switch (k) {
    case K_SL:
        slpt = tl_page(t);
        tl_map(t, slpt, 4, false, IOVA, PA, SIOV_PAGE_SIZE, TL_SL_RW, TL_SL_RW);
        tl_pe_sl(e, DID, slpt, SIOV_AW_4LVL);
        break;
    case K_FL:
        flpt = tl_page(t);
        tl_map(t, flpt, 4, true, IOVA, PA, SIOV_PAGE_SIZE, TL_FL_URW, TL_FL_URW);
        tl_pe_fl(e, DID, flpt, SIOV_FLPM_4LVL);
        break;
    case K_NESTED:
        slpt = tl_page(t);
        sl_identity(t, slpt);
        flpt = tl_page(t);
        tl_map(t, flpt, 4, true, IOVA, PA, SIOV_PAGE_SIZE, TL_FL_URW, TL_FL_URW);
        tl_pe_nested(e, DID, flpt, SIOV_FLPM_4LVL, slpt, SIOV_AW_4LVL);
        break;
    case K_PT:
        tl_pe_pt(e, DID);
        break;
    }
}

static uint64_t expected_out(enum kind k)
{
    return k == K_PT ? IOVA : PA + (IOVA & 0xFFF);
}

/* --------------------------------------------- one-field mutation cases */
/* Which qword a case changes: the context entry, the directory entry of
   PASID_X, or a qword of PASID_X's entry. */
enum target { CTX0, CTX1, PDE, PE0, PE1, PE2, PE3, PE4, PE5, PE6, PE7 };

struct setup {
    struct tl *t;
    uint64_t gpa[PE7 + 1]; /* of each target qword */
};

/* SID with the default-like context (PDTS=7, rid_pasid) and a good entry of
   kind k for PASID_X. */
static void setup(struct setup *s, unsigned flags, enum kind k, uint32_t rid_pasid)
{
    struct tl *t = s->t = unit(flags, 0);
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t dir = directory(t);
    uint64_t ctx = context(t, dir, 7, rid_pasid);
    uint64_t e[8];
    good_entry(t, k, e);
    uint64_t pe = tl_pasid_entry(t, dir, PASID_X, e);
    s->gpa[CTX0] = ctx;
    s->gpa[CTX1] = ctx + 8;
    s->gpa[PDE] = dir + (PASID_X >> 6) * SIOV_PDE_SIZE;
    for (int i = 0; i < 8; i++)
        s->gpa[PE0 + i] = pe + 8 * i;
}

static void mutate(struct setup *s, enum target tg, uint64_t field, uint64_t value)
{
    tl_w64(s->t, s->gpa[tg], siov_set(tl_r64(s->t, s->gpa[tg]), field, value));
}

#define EACH UINT64_MAX            /* value: each bit of field set alone */
#define ABOVE_HAW (UINT64_MAX - 1) /* value: each bit of field at or above cfg.haw set alone */

struct pe_case {
    const char *name;
    enum kind kind;
    enum target tg;
    uint64_t field, value;
    siov_fault want;
    unsigned flags;
    unsigned access;  /* 0: a read */
    bool no_pasid;    /* a request without PASID (RID_PASID = PASID_X); else RID_PASID = RID_OTHER */
};
#define CASE(n, k, t, f, v, w, ...) {.name = n, .kind = k, .tg = t, .field = f, .value = v, .want = w, __VA_ARGS__}

/* Where an FPD bit is set for a run, in lookup order. */
enum fpd_at { FPD_NONE, FPD_CTX, FPD_PDE, FPD_PE };
static const char *const fpd_name[] = {"no FPD", "FPD in context", "FPD in directory entry", "FPD in PASID entry"};

/* The structure whose check gives f: an FPD there or earlier is on the path. */
static enum fpd_at stage(siov_fault f)
{
    if ((f >= SIOV_FAULT_SCT_1 && f <= SIOV_FAULT_SCT_10) || f == SIOV_FAULT_SGN_10)
        return FPD_CTX;
    if (f >= SIOV_FAULT_SPD_1 && f <= SIOV_FAULT_SPD_3)
        return FPD_PDE;
    return FPD_PE;
}

/* Table 30: of these structures only the access errors are not qualified
   (reserved bits, SPD.3 and SPT.3, are). */
static bool not_qualified(siov_fault f)
{
    return f == SIOV_FAULT_SPD_1 || f == SIOV_FAULT_SPT_1;
}

static char where[200];
#define CHECK(cond) do { if (!(cond)) fail_msg("%s: %s", where, #cond); } while (0)

static void run_variant(const struct pe_case *c, uint64_t field, uint64_t value, enum fpd_at fpd)
{
    struct setup s;
    setup(&s, c->flags, c->kind, c->no_pasid ? PASID_X : RID_OTHER);
    mutate(&s, c->tg, field, value);
    if (fpd == FPD_CTX)
        mutate(&s, CTX0, SIOV_SCE0_FPD, 1);
    else if (fpd == FPD_PDE)
        mutate(&s, PDE, SIOV_PDE_FPD, 1);
    else if (fpd == FPD_PE)
        mutate(&s, PE0, SIOV_PTE0_FPD, 1);
    uint32_t pasid = c->no_pasid ? SIOV_NO_PASID : PASID_X;
    unsigned access = c->access ? c->access : SIOV_ACCESS_READ;
    struct siov_xlate x;
    memset(&x, 0, sizeof(x));
    siov_fault f = siov_translate(s.t->iommu, SID, pasid, IOVA, access, &x);
    if (f != c->want)
        fail_msg("%s: got %s (0x%x), want %s", where, siov_fault_name(f), f, siov_fault_name(c->want));
    if (f == SIOV_OK) {
        CHECK(x.addr == expected_out(c->kind));
        CHECK(x.did == DID);
        CHECK(tl_fault_records(s.t) == 0);
    } else if (fpd != FPD_NONE && fpd <= stage(f) && !not_qualified(f)) {
        CHECK(tl_fault_records(s.t) == 0);
        CHECK(tl_stats(s.t).faults == 1 && tl_stats(s.t).faults_recorded == 0);
    } else {
        struct siov_fault_record r;
        CHECK(tl_fault_records(s.t) == 1);
        CHECK(siov_iommu_fault_record(s.t->iommu, 0, &r) == 1);
        CHECK(r.reason == f && r.sid == SID && r.pasid == pasid && r.addr == (IOVA & ~0xFFFull));
        /* T1 says write or not; EXE and PRIV are recorded only for requests with PASID */
        unsigned rec_access = (access & SIOV_ACCESS_WRITE) ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ;
        if (!c->no_pasid)
            rec_access |= access & (SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV);
        CHECK(r.access == rec_access);
        CHECK(siov_get(tl_frcd(s.t, 0, 1), SIOV_FRCD1_FR) == f);
    }
    tl_free(s.t);
}

static void run_cases(const struct pe_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct pe_case *c = &cases[i];
        unsigned haw = (c->flags & F_HAW39) ? 39 : 48;
        for (enum fpd_at fpd = FPD_NONE; fpd <= FPD_PE; fpd++) {
            if (c->value != EACH && c->value != ABOVE_HAW) {
                snprintf(where, sizeof(where), "%s [%s, %s]", c->name, kind_name[c->kind], fpd_name[fpd]);
                run_variant(c, c->field, c->value, fpd);
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
                snprintf(where, sizeof(where), "%s bit %u [%s, %s]", c->name, b, kind_name[c->kind], fpd_name[fpd]);
                run_variant(c, 1ull << b, 1, fpd);
                ran++;
            }
            if (!ran)
                fail_msg("%s: no bit to set", c->name);
        }
    }
}

/* Context-entry PASID checks, directory entry, PASID-entry presence and access. */
static const struct pe_case lookup_cases[] = {
    CASE("good SL entry", K_SL, PE0, SIOV_PTE0_P, 1, SIOV_OK),
    CASE("good FL entry", K_FL, PE0, SIOV_PTE0_P, 1, SIOV_OK),
    CASE("good nested entry", K_NESTED, PE0, SIOV_PTE0_P, 1, SIOV_OK),
    CASE("good PT entry", K_PT, PE0, SIOV_PTE0_P, 1, SIOV_OK),
    CASE("good entry via RID_PASID", K_SL, PE0, SIOV_PTE0_P, 1, SIOV_OK, .no_pasid = true),
    CASE("PASIDE=0, request with PASID", K_PT, CTX0, SIOV_SCE0_PASIDE, 0, SIOV_FAULT_SCT_6),
    CASE("PASIDE=0, write with PASID", K_PT, CTX0, SIOV_SCE0_PASIDE, 0, SIOV_FAULT_SCT_6,
         .access = SIOV_ACCESS_WRITE),
    CASE("PASIDE=0, request without PASID", K_PT, CTX0, SIOV_SCE0_PASIDE, 0, SIOV_OK, .no_pasid = true),
    CASE("PASID beyond PDTS=0", K_PT, CTX0, SIOV_SCE0_PDTS, 0, SIOV_FAULT_SCT_7),
    CASE("PASID within PDTS=1", K_PT, CTX0, SIOV_SCE0_PDTS, 1, SIOV_OK),
    /* a request without PASID is looked up as one with RID_PASID */
    CASE("RID_PASID beyond PDTS=0", K_PT, CTX0, SIOV_SCE0_PDTS, 0, SIOV_FAULT_SCT_7, .no_pasid = true),
    /* Table 30 SCT.9: a request's own PASID equal to RID_PASID (ECAP.RPS) */
    CASE("PASID equals RID_PASID", K_SL, CTX1, SIOV_SCE1_RID_PASID, PASID_X, SIOV_FAULT_SCT_9),
    CASE("PASID equals RID_PASID, write", K_PT, CTX1, SIOV_SCE1_RID_PASID, PASID_X, SIOV_FAULT_SCT_9,
         .access = SIOV_ACCESS_WRITE),
    CASE("PASID equals unused RID_PASID field", K_PT, CTX1, SIOV_SCE1_RID_PASID, PASID_X, SIOV_OK,
         .flags = F_NO_RPS),
    CASE("directory outside memory", K_PT, CTX0, SIOV_SCE0_PASIDDIRPTR, OUT_OF_MEMORY >> 12, SIOV_FAULT_SPD_1),
    CASE("directory outside memory, no PASID", K_PT, CTX0, SIOV_SCE0_PASIDDIRPTR, OUT_OF_MEMORY >> 12,
         SIOV_FAULT_SPD_1, .no_pasid = true),
    CASE("directory entry P=0", K_PT, PDE, SIOV_PDE_P, 0, SIOV_FAULT_SPD_2),
    CASE("directory entry P=0, no PASID", K_SL, PDE, SIOV_PDE_P, 0, SIOV_FAULT_SPD_2, .no_pasid = true),
    CASE("directory entry rsvd 11:2", K_PT, PDE, SIOV_PDE_RSVD, EACH, SIOV_FAULT_SPD_3),
    CASE("directory entry pointer >= HAW", K_PT, PDE, SIOV_PDE_SMPTBLPTR, ABOVE_HAW, SIOV_FAULT_SPD_3),
    CASE("directory entry pointer >= HAW 39", K_PT, PDE, SIOV_PDE_SMPTBLPTR, ABOVE_HAW, SIOV_FAULT_SPD_3,
         .flags = F_HAW39),
    CASE("PASID table outside memory", K_PT, PDE, SIOV_PDE_SMPTBLPTR, OUT_OF_MEMORY >> 12, SIOV_FAULT_SPT_1),
    CASE("PASID entry P=0 (SL)", K_SL, PE0, SIOV_PTE0_P, 0, SIOV_FAULT_SPT_2),
    CASE("PASID entry P=0 (FL), write", K_FL, PE0, SIOV_PTE0_P, 0, SIOV_FAULT_SPT_2, .access = SIOV_ACCESS_WRITE),
    CASE("PASID entry P=0 (PT), no PASID", K_PT, PE0, SIOV_PTE0_P, 0, SIOV_FAULT_SPT_2, .no_pasid = true),
};

/* Reserved bits of the PASID-table entry (SPT.3): every bit of every region. */
static const struct pe_case reserved_cases[] = {
    CASE("qw0 rsvd 11:10", K_SL, PE0, SIOV_PTE0_RSVD, EACH, SIOV_FAULT_SPT_3),
    CASE("qw0 rsvd 11:10", K_FL, PE0, SIOV_PTE0_RSVD, EACH, SIOV_FAULT_SPT_3),
    CASE("SLPTPTR >= HAW", K_SL, PE0, SIOV_PTE0_SLPTPTR, ABOVE_HAW, SIOV_FAULT_SPT_3),
    CASE("SLPTPTR >= HAW 39", K_NESTED, PE0, SIOV_PTE0_SLPTPTR, ABOVE_HAW, SIOV_FAULT_SPT_3, .flags = F_HAW39),
    CASE("SLPTPTR >= HAW, unused by FL", K_FL, PE0, SIOV_PTE0_SLPTPTR, ABOVE_HAW, SIOV_FAULT_SPT_3),
    CASE("SLPTPTR >= HAW, unused by PT", K_PT, PE0, SIOV_PTE0_SLPTPTR, ABOVE_HAW, SIOV_FAULT_SPT_3,
         .no_pasid = true),
    CASE("qw1 rsvd 22:16", K_SL, PE1, SIOV_PTE1_RSVD, EACH, SIOV_FAULT_SPT_3),
    CASE("qw1 rsvd 22:16", K_PT, PE1, SIOV_PTE1_RSVD, EACH, SIOV_FAULT_SPT_3),
    CASE("qw2 rsvd 11:8", K_FL, PE2, SIOV_PTE2_RSVD, EACH, SIOV_FAULT_SPT_3),
    CASE("qw2 rsvd 11:8", K_SL, PE2, SIOV_PTE2_RSVD, EACH, SIOV_FAULT_SPT_3),
    CASE("FLPTPTR >= HAW", K_FL, PE2, SIOV_PTE2_FLPTPTR, ABOVE_HAW, SIOV_FAULT_SPT_3),
    CASE("FLPTPTR >= HAW 39", K_FL, PE2, SIOV_PTE2_FLPTPTR, ABOVE_HAW, SIOV_FAULT_SPT_3, .flags = F_HAW39),
    CASE("FLPTPTR >= HAW, unused by SL", K_SL, PE2, SIOV_PTE2_FLPTPTR, ABOVE_HAW, SIOV_FAULT_SPT_3),
    CASE("qw3 nonzero", K_PT, PE3, ~0ull, EACH, SIOV_FAULT_SPT_3),
    CASE("qw4 nonzero", K_PT, PE4, ~0ull, EACH, SIOV_FAULT_SPT_3),
    CASE("qw5 nonzero", K_PT, PE5, ~0ull, EACH, SIOV_FAULT_SPT_3),
    CASE("qw6 nonzero", K_PT, PE6, ~0ull, EACH, SIOV_FAULT_SPT_3),
    CASE("qw7 nonzero", K_SL, PE7, ~0ull, EACH, SIOV_FAULT_SPT_3),
};

/* Invalid programming (SPT.4): fields naming what the unit lacks, and the
   fields a PGTT does not use, which are ignored. */
static const struct pe_case programming_cases[] = {
    CASE("PGTT=000", K_SL, PE0, SIOV_PTE0_PGTT, 0, SIOV_FAULT_SPT_4),
    CASE("PGTT=101", K_SL, PE0, SIOV_PTE0_PGTT, 5, SIOV_FAULT_SPT_4),
    CASE("PGTT=110", K_FL, PE0, SIOV_PTE0_PGTT, 6, SIOV_FAULT_SPT_4),
    CASE("PGTT=111", K_PT, PE0, SIOV_PTE0_PGTT, 7, SIOV_FAULT_SPT_4),
    CASE("FL without FLTS", K_FL, PE0, SIOV_PTE0_P, 1, SIOV_FAULT_SPT_4, .flags = F_NO_FL | F_NO_NEST),
    CASE("SL without SLTS", K_SL, PE0, SIOV_PTE0_P, 1, SIOV_FAULT_SPT_4, .flags = F_NO_SL | F_NO_NEST),
    CASE("nested without NEST", K_NESTED, PE0, SIOV_PTE0_P, 1, SIOV_FAULT_SPT_4, .flags = F_NO_NEST),
    CASE("PT without ECAP.PT", K_PT, PE0, SIOV_PTE0_P, 1, SIOV_FAULT_SPT_4, .flags = F_NO_PT),
    CASE("PT without ECAP.PT, no PASID", K_PT, PE0, SIOV_PTE0_P, 1, SIOV_FAULT_SPT_4, .flags = F_NO_PT,
         .no_pasid = true),
    CASE("SL with FLTS absent", K_SL, PE0, SIOV_PTE0_P, 1, SIOV_OK, .flags = F_NO_FL | F_NO_NEST | F_NO_PT),
    CASE("FL with SLTS absent", K_FL, PE0, SIOV_PTE0_P, 1, SIOV_OK, .flags = F_NO_SL | F_NO_NEST),
    CASE("SL AW=0", K_SL, PE0, SIOV_PTE0_AW, 0, SIOV_FAULT_SPT_4),
    CASE("SL AW=1 not in SAGAW", K_SL, PE0, SIOV_PTE0_AW, SIOV_AW_3LVL, SIOV_FAULT_SPT_4),
    CASE("SL AW=3 not in SAGAW", K_SL, PE0, SIOV_PTE0_AW, SIOV_AW_5LVL, SIOV_FAULT_SPT_4),
    CASE("SL AW=4", K_SL, PE0, SIOV_PTE0_AW, 4, SIOV_FAULT_SPT_4, .flags = F_ALL_SAGAW),
    CASE("SL AW=5", K_SL, PE0, SIOV_PTE0_AW, 5, SIOV_FAULT_SPT_4, .flags = F_ALL_SAGAW),
    CASE("SL AW=6", K_SL, PE0, SIOV_PTE0_AW, 6, SIOV_FAULT_SPT_4, .flags = F_ALL_SAGAW),
    CASE("SL AW=7", K_SL, PE0, SIOV_PTE0_AW, 7, SIOV_FAULT_SPT_4, .flags = F_ALL_SAGAW),
    CASE("nested AW=3 not in SAGAW", K_NESTED, PE0, SIOV_PTE0_AW, SIOV_AW_5LVL, SIOV_FAULT_SPT_4),
    CASE("nested AW=7", K_NESTED, PE0, SIOV_PTE0_AW, 7, SIOV_FAULT_SPT_4, .flags = F_ALL_SAGAW),
    CASE("FL FLPM=01 without FL5LP", K_FL, PE2, SIOV_PTE2_FLPM, SIOV_FLPM_5LVL, SIOV_FAULT_SPT_4,
         .flags = F_NO_FL5),
    CASE("nested FLPM=01 without FL5LP", K_NESTED, PE2, SIOV_PTE2_FLPM, SIOV_FLPM_5LVL, SIOV_FAULT_SPT_4,
         .flags = F_NO_FL5),
    CASE("FL FLPM=10", K_FL, PE2, SIOV_PTE2_FLPM, 2, SIOV_FAULT_SPT_4),
    CASE("FL FLPM=11", K_FL, PE2, SIOV_PTE2_FLPM, 3, SIOV_FAULT_SPT_4),
    CASE("nested FLPM=11", K_NESTED, PE2, SIOV_PTE2_FLPM, 3, SIOV_FAULT_SPT_4),
    CASE("SL SLADE without SLADS", K_SL, PE0, SIOV_PTE0_SLADE, 1, SIOV_FAULT_SPT_4, .flags = F_NO_SLAD),
    CASE("nested SLADE without SLADS", K_NESTED, PE0, SIOV_PTE0_SLADE, 1, SIOV_FAULT_SPT_4, .flags = F_NO_SLAD),
    CASE("SL SLADE with SLADS", K_SL, PE0, SIOV_PTE0_SLADE, 1, SIOV_OK),
    CASE("FL SRE without SRS", K_FL, PE2, SIOV_PTE2_SRE, 1, SIOV_FAULT_SPT_4, .flags = F_NO_SRS),
    CASE("nested SRE without SRS", K_NESTED, PE2, SIOV_PTE2_SRE, 1, SIOV_FAULT_SPT_4, .flags = F_NO_SRS),
    CASE("FL ERE without ERS", K_FL, PE2, SIOV_PTE2_ERE, 1, SIOV_FAULT_SPT_4, .flags = F_NO_ERS),
    CASE("FL EAFE without EAFS", K_FL, PE2, SIOV_PTE2_EAFE, 1, SIOV_FAULT_SPT_4),
    CASE("nested EAFE without EAFS", K_NESTED, PE2, SIOV_PTE2_EAFE, 1, SIOV_FAULT_SPT_4),
    CASE("SL memory type without MTS", K_SL, PE1, SIOV_PTE1_MT_FIELDS, EACH, SIOV_FAULT_SPT_4),
    CASE("FL memory type without MTS", K_FL, PE1, SIOV_PTE1_MT_FIELDS, EACH, SIOV_FAULT_SPT_4),
    CASE("PT memory type without MTS", K_PT, PE1, SIOV_PTE1_MT_FIELDS, EACH, SIOV_FAULT_SPT_4),
    CASE("SL PGSNP without SC", K_SL, PE1, SIOV_PTE1_PGSNP, 1, SIOV_FAULT_SPT_4),
    CASE("PT PGSNP without SC", K_PT, PE1, SIOV_PTE1_PGSNP, 1, SIOV_FAULT_SPT_4),
    /* fields the PGTT does not use are ignored (pointers >= HAW excepted) */
    CASE("FL ignores AW=0", K_FL, PE0, SIOV_PTE0_AW, 0, SIOV_OK),
    CASE("FL ignores AW=7", K_FL, PE0, SIOV_PTE0_AW, 7, SIOV_OK),
    CASE("FL ignores SLADE without SLADS", K_FL, PE0, SIOV_PTE0_SLADE, 1, SIOV_OK, .flags = F_NO_SLAD),
    CASE("PT ignores AW=7", K_PT, PE0, SIOV_PTE0_AW, 7, SIOV_OK),
    CASE("PT ignores FLPM=11", K_PT, PE2, SIOV_PTE2_FLPM, 3, SIOV_OK),
    CASE("SL ignores FLPM=11", K_SL, PE2, SIOV_PTE2_FLPM, 3, SIOV_OK),
    CASE("SL ignores SRE without SRS", K_SL, PE2, SIOV_PTE2_SRE, 1, SIOV_OK, .flags = F_NO_SRS),
    CASE("SL ignores ERE without ERS", K_SL, PE2, SIOV_PTE2_ERE, 1, SIOV_OK, .flags = F_NO_ERS),
};

/* Execute and supervisor requests against ERE and SRE (SPT.5, SPT.6). */
static const struct pe_case request_cases[] = {
    CASE("FL exec, ERE=0", K_FL, PE2, SIOV_PTE2_ERE, 0, SIOV_FAULT_SPT_5,
         .access = SIOV_ACCESS_READ | SIOV_ACCESS_EXEC),
    CASE("nested exec, ERE=0", K_NESTED, PE2, SIOV_PTE2_ERE, 0, SIOV_FAULT_SPT_5,
         .access = SIOV_ACCESS_EXEC),
    CASE("FL exec, ERE=1", K_FL, PE2, SIOV_PTE2_ERE, 1, SIOV_OK, .access = SIOV_ACCESS_READ | SIOV_ACCESS_EXEC),
    CASE("FL supervisor, SRE=0", K_FL, PE2, SIOV_PTE2_SRE, 0, SIOV_FAULT_SPT_6,
         .access = SIOV_ACCESS_READ | SIOV_ACCESS_PRIV),
    CASE("nested supervisor write, SRE=0", K_NESTED, PE2, SIOV_PTE2_SRE, 0, SIOV_FAULT_SPT_6,
         .access = SIOV_ACCESS_WRITE | SIOV_ACCESS_PRIV),
    CASE("FL supervisor, SRE=1", K_FL, PE2, SIOV_PTE2_SRE, 1, SIOV_OK, .access = SIOV_ACCESS_READ | SIOV_ACCESS_PRIV),
    CASE("FL supervisor exec, SRE=0 ERE=0", K_FL, PE2, SIOV_PTE2_SRE, 0, SIOV_FAULT_SPT_6,
         .access = SIOV_ACCESS_READ | SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC),
    /* the SL-only entry has no SRE/ERE: such requests go through */
    CASE("SL exec", K_SL, PE2, SIOV_PTE2_ERE, 0, SIOV_OK, .access = SIOV_ACCESS_READ | SIOV_ACCESS_EXEC),
    CASE("SL supervisor", K_SL, PE2, SIOV_PTE2_SRE, 0, SIOV_OK, .access = SIOV_ACCESS_READ | SIOV_ACCESS_PRIV),
};

/* A request without PASID carries neither execute nor privilege: both travel
   in the PASID prefix (docs/spec-notes.md, "Fault recording"), and RID_PRIV
   needs ECAP.RPRIVS. So ERE=0 / SRE=0 in the RID_PASID entry cannot fault it. */
static const struct pe_case no_pasid_request_cases[] = {
    CASE("FL exec without PASID", K_FL, PE2, SIOV_PTE2_ERE, 0, SIOV_OK,
         .access = SIOV_ACCESS_READ | SIOV_ACCESS_EXEC, .no_pasid = true),
    CASE("FL supervisor without PASID", K_FL, PE2, SIOV_PTE2_SRE, 0, SIOV_OK,
         .access = SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, .no_pasid = true),
    CASE("nested supervisor exec without PASID", K_NESTED, PE2, SIOV_PTE2_SRE, 0, SIOV_OK,
         .access = SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC, .no_pasid = true),
};

#define RUN(cases) run_cases(cases, sizeof(cases) / sizeof(cases[0]))
static void test_lookup_cases(void **state) { (void)state; RUN(lookup_cases); }
static void test_reserved_cases(void **state) { (void)state; RUN(reserved_cases); }
static void test_programming_cases(void **state) { (void)state; RUN(programming_cases); }
static void test_request_cases(void **state) { (void)state; RUN(request_cases); }
static void test_no_pasid_request_ignores_exec_priv(void **state) { (void)state; RUN(no_pasid_request_cases); }

/* ------------------------------------------------------ PASID selection */
/* A unit with SID's context (pdts, rid_pasid) and PT entries of DID did_of(pasid)
   for each of pasids. Returns the unit. */
static uint16_t did_of(uint32_t pasid)
{
    return (uint16_t)(0x100 + (pasid % 0xFEFF));
}

static struct tl *pt_unit(unsigned flags, unsigned pasid_bits, unsigned pdts, uint32_t rid_pasid,
                          const uint32_t *pasids, size_t n)
{
    struct tl *t = unit(flags, pasid_bits);
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t dir = directory(t);
    context(t, dir, pdts, rid_pasid);
    for (size_t i = 0; i < n; i++) {
        uint64_t e[8];
        tl_pe_pt(e, did_of(pasids[i]));
        tl_pasid_entry(t, dir, pasids[i], e);
    }
    return t;
}

/* Translate and return the fault; on success check PT output and return the DID in *did. */
static siov_fault xlate(struct tl *t, uint32_t pasid, uint16_t *did)
{
    struct siov_xlate x;
    siov_fault f = siov_translate(t->iommu, SID, pasid, IOVA, SIOV_ACCESS_READ, &x);
    if (!f) {
        assert_int_equal(x.addr, IOVA);
        *did = x.did;
    }
    return f;
}

static void assert_record0(struct tl *t, siov_fault f, uint32_t pasid)
{
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 1);
    assert_int_equal(r.reason, f);
    assert_int_equal(r.sid, SID);
    assert_int_equal(r.pasid, pasid);
    assert_int_equal(r.addr, IOVA & ~0xFFFull);
    assert_int_equal(tl_fault_records(t), 1);
}

/* PASIDs in different directory entries and slots, 0 through 0xFFFFF, each
   finds its own entry; requests without PASID find RID_PASID's, and a request
   that brings RID_PASID itself is refused (SCT.9). */
static void test_pasids_across_directory(void **state)
{
    (void)state;
    static const uint32_t pasids[] = {0, 1, 63, 64, 65, 0x1000, PASID_X, 0x8ABCD, 0xFFFC0, 0xFFFFF};
    const size_t n = sizeof(pasids) / sizeof(pasids[0]);
    struct tl *t = pt_unit(0, 0, 7, 0x8ABCD, pasids, n);
    uint16_t did = 0;
    for (size_t i = 0; i < n; i++) {
        if (pasids[i] == 0x8ABCD)
            continue;
        assert_int_equal(xlate(t, pasids[i], &did), SIOV_OK);
        assert_int_equal(did, did_of(pasids[i]));
    }
    assert_int_equal(xlate(t, SIOV_NO_PASID, &did), SIOV_OK);
    assert_int_equal(did, did_of(0x8ABCD));
    assert_int_equal(tl_fault_records(t), 0);
    /* a neighbour in a present PASID table: SPT.2; in an absent directory entry: SPD.2 */
    assert_int_equal(xlate(t, 0xFFFFE, &did), SIOV_FAULT_SPT_2);
    assert_record0(t, SIOV_FAULT_SPT_2, 0xFFFFE);
    assert_int_equal(xlate(t, 0xFFFBF, &did), SIOV_FAULT_SPD_2);
    assert_int_equal(tl_fault_records(t), 2);
    assert_int_equal(xlate(t, 0x8ABCD, &did), SIOV_FAULT_SCT_9);
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, 2, &r), 1);
    assert_int_equal(r.reason, SIOV_FAULT_SCT_9);
    assert_int_equal(r.pasid, 0x8ABCD);
    assert_int_equal(siov_get(tl_frcd(t, 2, 1), SIOV_FRCD1_PV), 0x8ABCD);
    assert_int_equal(siov_get(tl_frcd(t, 2, 1), SIOV_FRCD1_FR), 0x48);
    tl_free(t);
}

/* A PASID table in the last page of memory: PASID 0x7F's entry is the page's
   last 64 bytes and is read in bounds. */
static void test_pasid_table_last_page(void **state)
{
    (void)state;
    static const uint32_t pasids[] = {0};
    struct tl *t = pt_unit(0, 0, 7, 1, pasids, 1);
    uint64_t table = tl_r64(t, t->root + SIOV_SID_BUS(SID) * SIOV_ROOT_ENTRY_SIZE) & SIOV_ADDR_4K;
    uint64_t dir = tl_r64(t, table + (SIOV_SID_DEVFN(SID) & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE) & SIOV_SCE0_PASIDDIRPTR;
    tl_w64(t, dir + siov_get(0x7F, SIOV_PASID_DIR_INDEX) * SIOV_PDE_SIZE, (MEM_SIZE - SIOV_PAGE_SIZE) | SIOV_PDE_P);
    uint64_t e[8];
    tl_pe_pt(e, did_of(0x7F));
    for (unsigned i = 0; i < 8; i++)
        tl_w64(t, MEM_SIZE - SIOV_PTE_SIZE + 8 * i, e[i]);
    uint16_t did = 0;
    assert_int_equal(xlate(t, 0x7F, &did), SIOV_OK);
    assert_int_equal(did, did_of(0x7F));
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
}

/* Without ECAP.RPS the RID_PASID field is not used: PASID 0 is, and no
   request's PASID is refused as equal to it (SCT.9 names the field). */
static void test_rid_pasid_unsupported_uses_pasid0(void **state)
{
    (void)state;
    static const uint32_t pasids[] = {0, 0x8ABCD};
    uint16_t did = 0;
    struct tl *t = pt_unit(F_NO_RPS, 0, 7, 0x8ABCD, pasids, 2);
    assert_int_equal(xlate(t, SIOV_NO_PASID, &did), SIOV_OK);
    assert_int_equal(did, did_of(0));
    assert_int_equal(xlate(t, 0x8ABCD, &did), SIOV_OK); /* with PASID still its own */
    assert_int_equal(did, did_of(0x8ABCD));
    assert_int_equal(xlate(t, 0, &did), SIOV_OK); /* PASID 0 brought by the request */
    assert_int_equal(did, did_of(0));
    tl_free(t);
    /* even a RID_PASID beyond PDTS is then harmless */
    t = pt_unit(F_NO_RPS, 0, 0, 0x8ABCD, pasids, 1);
    assert_int_equal(xlate(t, SIOV_NO_PASID, &did), SIOV_OK);
    assert_int_equal(did, did_of(0));
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
}

/* PDTS=p admits PASIDs below 2^(p+13): the last one translates, the next is
   SCT.7; at PDTS=7 the next is beyond the 20-bit width, SGN.10 unrecorded. */
static void test_pdts_limits(void **state)
{
    (void)state;
    for (unsigned pdts = 0; pdts <= 7; pdts++) {
        uint32_t limit = 1u << (pdts + 13);
        const uint32_t pasids[] = {0, limit - 1};
        struct tl *t = pt_unit(0, 0, pdts, 1, pasids, 2);
        uint16_t did = 0;
        assert_int_equal(xlate(t, limit - 1, &did), SIOV_OK);
        assert_int_equal(did, did_of(limit - 1));
        assert_int_equal(xlate(t, 0, &did), SIOV_OK);
        if (limit <= SIOV_PASID_MAX) {
            assert_int_equal(xlate(t, limit, &did), SIOV_FAULT_SCT_7);
            assert_record0(t, SIOV_FAULT_SCT_7, limit);
        } else {
            assert_int_equal(xlate(t, limit, &did), SIOV_FAULT_SGN_10);
            assert_int_equal(tl_fault_records(t), 0);
        }
        assert_int_equal(xlate(t, SIOV_PASID_MAX + 1, &did), SIOV_FAULT_SGN_10);
        tl_free(t);
    }
}

/* The unit's PASID width (ECAP.PSS) bounds PASIDs: beyond it SGN.10 (Table
   30), checked before the directory's SCT.7 when both apply. */
static void test_pasid_width(void **state)
{
    (void)state;
    static const struct { unsigned bits, pdts; } cases[] = {{1, 7}, {8, 7}, {12, 0}, {13, 0}, {14, 0}, {19, 7}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint32_t pdts_limit = 1u << (cases[i].pdts + 13), width = 1u << cases[i].bits;
        uint32_t limit = width < pdts_limit ? width : pdts_limit;
        siov_fault want = limit == width ? SIOV_FAULT_SGN_10 : SIOV_FAULT_SCT_7;
        const uint32_t pasids[] = {limit - 1, limit};
        struct tl *t = pt_unit(0, cases[i].bits, cases[i].pdts, 0, pasids, 2);
        assert_int_equal(siov_get(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8), SIOV_ECAP_PSS), cases[i].bits - 1);
        uint16_t did = 0;
        assert_int_equal(xlate(t, limit - 1, &did), SIOV_OK);
        assert_int_equal(did, did_of(limit - 1));
        assert_int_equal(xlate(t, limit, &did), want); /* its entry exists, but it is out of range */
        assert_record0(t, want, limit);
        assert_int_equal(siov_get(tl_frcd(t, 0, 1), SIOV_FRCD1_FR), (unsigned)want);
        tl_free(t);
    }
}

/* A request without PASID is looked up as one with RID_PASID: a RID_PASID
   beyond the directory is SCT.7, beyond the unit's width SGN.10, recorded
   without a PASID (docs/spec-notes.md, "Which PASID a request uses"). The
   same value brought by a request is SCT.9, unless it is beyond the width. */
static void test_rid_pasid_beyond_limits(void **state)
{
    (void)state;
    static const struct {
        unsigned bits, pdts;
        uint32_t rid_pasid;
        siov_fault without, with;
    } cases[] = {
        {20, 0, 8192, SIOV_FAULT_SCT_7, SIOV_FAULT_SCT_9},
        {20, 3, 65536, SIOV_FAULT_SCT_7, SIOV_FAULT_SCT_9},
        {20, 6, 0x80000, SIOV_FAULT_SCT_7, SIOV_FAULT_SCT_9},
        {8, 7, 256, SIOV_FAULT_SGN_10, SIOV_FAULT_SGN_10},
        {14, 0, 8192, SIOV_FAULT_SCT_7, SIOV_FAULT_SCT_9},
        {13, 0, 8192, SIOV_FAULT_SGN_10, SIOV_FAULT_SGN_10},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const uint32_t pasids[] = {cases[i].rid_pasid, cases[i].rid_pasid - 1};
        struct tl *t = pt_unit(0, cases[i].bits, cases[i].pdts, cases[i].rid_pasid, pasids, 2);
        uint16_t did = 0;
        assert_int_equal(xlate(t, SIOV_NO_PASID, &did), cases[i].without);
        assert_record0(t, cases[i].without, SIOV_NO_PASID);
        assert_int_equal(siov_get(tl_frcd(t, 0, 1), SIOV_FRCD1_PP), 0);
        assert_int_equal(xlate(t, cases[i].rid_pasid, &did), cases[i].with);
        struct siov_fault_record r;
        assert_int_equal(siov_iommu_fault_record(t->iommu, 1, &r), 1);
        assert_int_equal(r.reason, cases[i].with);
        assert_int_equal(r.pasid, cases[i].rid_pasid);
        tl_free(t);
        /* one below the limit is fine without PASID, and SCT.9 with it */
        t = pt_unit(0, cases[i].bits, cases[i].pdts, cases[i].rid_pasid - 1, pasids, 2);
        assert_int_equal(xlate(t, SIOV_NO_PASID, &did), SIOV_OK);
        assert_int_equal(did, did_of(cases[i].rid_pasid - 1));
        assert_int_equal(xlate(t, cases[i].rid_pasid - 1, &did), SIOV_FAULT_SCT_9);
        assert_record0(t, SIOV_FAULT_SCT_9, cases[i].rid_pasid - 1);
        tl_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_cases),
        cmocka_unit_test(test_reserved_cases),
        cmocka_unit_test(test_programming_cases),
        cmocka_unit_test(test_request_cases),
        cmocka_unit_test(test_no_pasid_request_ignores_exec_priv),
        cmocka_unit_test(test_pasids_across_directory),
        cmocka_unit_test(test_pasid_table_last_page),
        cmocka_unit_test(test_rid_pasid_unsupported_uses_pasid0),
        cmocka_unit_test(test_pdts_limits),
        cmocka_unit_test(test_pasid_width),
        cmocka_unit_test(test_rid_pasid_beyond_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* ATS on the unit's side (src/model/ats.c, translate.c): the translation
   completion for every translation type and page size, NW and the A/D bits
   it sets, the permissions that exist, Table 30's choice between a Success
   with R=W=0, UR and CA with their fault records, the interrupt range, the
   completion's data entry, siov_translate with SIOV_ACCESS_ATS_REQ, and
   translated requests (AT=10) with their DMA. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "testlib.h"

#define MEM_SIZE (16ull << 20)
#define SID SIOV_SID(1, 2, 0)
#define PASID 0x77u
#define RID_PASID 0x76u /* requests without PASID: a copy of PASID's entry (equal would be SCT.9) */
#define DID 0x1D5
#define KiB4 SIOV_PAGE_SIZE
#define MiB2 (2ull << 20)
#define GiB1 (1ull << 30)
#define RD SIOV_ACCESS_READ
#define WR SIOV_ACCESS_WRITE
#define NW SIOV_ACCESS_NO_WRITE
#define ATS SIOV_ACCESS_ATS_REQ
#define TR SIOV_ACCESS_TRANSLATED
#define IOVA 0x40000000ull /* 1 GiB aligned: every page size maps it */
#define OUT 0x3C0000000ull /* output pages beyond guest memory: never touched */

static struct tl *unit(const struct siov_iommu_config *cfg)
{
    struct tl *t = tl_new_sized(cfg, MEM_SIZE);
    tl_enable(t, SIOV_TTM_SCALABLE);
    return t;
}

/* SID's context entry (DTE set) and pe at PASID and RID_PASID; PASID's gpa. */
static uint64_t sm_entry(struct tl *t, const uint64_t pe[8])
{
    uint64_t dir = tl_sm_context_default(t, SID, RID_PASID);
    tl_pasid_entry(t, dir, RID_PASID, pe);
    return tl_pasid_entry(t, dir, PASID, pe);
}

/* SID's SL tables mapping IOVA -> OUT (4 KiB, read-write); PASID's entry gpa. */
static uint64_t sm_entry_sl(struct tl *t)
{
    uint64_t root = tl_page(t), pe[8];
    tl_map(t, root, 4, false, IOVA, OUT, KiB4, TL_SL_RW, TL_SL_RWX);
    tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
    return sm_entry(t, pe);
}

static siov_fault ats(struct tl *t, uint32_t pasid, uint64_t iova, unsigned access, struct siov_ats_completion *c)
{
    memset(c, 0xA5, sizeof(*c)); /* every field must be written */
    return siov_ats_translate(t->iommu, SID, pasid, iova, access, c);
}

/* A Success completion with exactly these fields. */
static void expect_ok(const struct siov_ats_completion *c, uint64_t addr, uint64_t size, bool r, bool w, bool priv,
                      bool n)
{
    assert_int_equal(c->status, SIOV_ATS_SUCCESS);
    if (r || w) {
        assert_int_equal(c->addr, addr);
        assert_int_equal(c->size, size);
    }
    assert_int_equal(c->r, r);
    assert_int_equal(c->w, w);
    assert_int_equal(c->priv, priv);
    assert_int_equal(c->no_snoop, n);
    assert_false(c->x);      /* Exe: execute requests are not supported */
    assert_false(c->global); /* G: always 0 in VT-d */
    assert_false(c->untranslated_only);
}

static void expect_none(const struct siov_ats_completion *c)
{
    assert_int_equal(c->status, SIOV_ATS_SUCCESS);
    assert_false(c->r || c->w || c->untranslated_only || c->x);
}

/* ---------------------------------------------- translation types, sizes */
enum kind { K_SL, K_FL, K_NESTED };

/* SID's tables of kind mapping IOVA -> out with one page of size; the leaf's gpa. */
static uint64_t map_kind_to(struct tl *t, enum kind k, uint64_t size, uint64_t out, uint64_t leaf_extra)
{
    uint64_t root = tl_page(t), pe[8], leaf;
    if (k == K_SL) {
        leaf = tl_map(t, root, 4, false, IOVA, out, size, TL_SL_RW | leaf_extra, TL_SL_RWX);
        tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
    } else if (k == K_FL) {
        leaf = tl_map(t, root, 4, true, IOVA, out, size, TL_FL_URW | SIOV_FL_A | SIOV_FL_D | leaf_extra,
                      TL_FL_URW | SIOV_FL_A);
        tl_pe_fl(pe, DID, root, SIOV_FLPM_4LVL);
    } else { /* FL of size over an SL identity map of the table pool and a 1 GiB SL page holding out */
        uint64_t sl = tl_page(t), in_gib = out & (GiB1 - 1);
        for (uint64_t g = 0; g < MEM_SIZE; g += MiB2)
            tl_map(t, sl, 4, false, g, g, MiB2, TL_SL_RW, TL_SL_RWX);
        tl_map(t, sl, 4, false, 0x80000000ull, out - in_gib, GiB1, TL_SL_RW | leaf_extra, TL_SL_RWX);
        leaf = tl_map(t, root, 4, true, IOVA, 0x80000000ull + in_gib, size, TL_FL_URW | SIOV_FL_A | SIOV_FL_D,
                      TL_FL_URW | SIOV_FL_A);
        tl_pe_nested(pe, DID, root, SIOV_FLPM_4LVL, sl, SIOV_AW_4LVL);
    }
    sm_entry(t, pe);
    return leaf;
}

static uint64_t map_kind(struct tl *t, enum kind k, uint64_t size, uint64_t leaf_extra)
{
    return map_kind_to(t, k, size, OUT, leaf_extra);
}

static void test_completion_types_and_sizes(void **state)
{
    (void)state;
    static const uint64_t sizes[] = {KiB4, MiB2, GiB1};
    for (int k = K_SL; k <= K_NESTED; k++) {
        for (size_t i = 0; i < 3; i++) {
            struct tl *t = unit(NULL);
            map_kind(t, (enum kind)k, sizes[i], 0);
            uint64_t off = sizes[i] == KiB4 ? 0x678 : 0x1A678;
            for (int p = 0; p < 2; p++) {
                struct siov_ats_completion c;
                assert_int_equal(ats(t, p ? SIOV_NO_PASID : PASID, IOVA + off, 0, &c), SIOV_OK);
                expect_ok(&c, OUT, sizes[i], true, true, false, false);
            }
            assert_int_equal(tl_fault_records(t), 0);
            assert_int_equal(tl_stats(t).ats_requests, 2);
            assert_int_equal(tl_stats(t).translations, 0);
            tl_free(t);
        }
    }
}

/* Pass-through answers S=1 over the unit's largest page holding the address. */
static void test_completion_pass_through(void **state)
{
    (void)state;
    struct {
        unsigned sl_large;
        bool fl, fl_1g;
        uint64_t size;
    } cases[] = {{SIOV_SLLPS_2M | SIOV_SLLPS_1G, true, true, GiB1}, {0, true, true, GiB1},
                 {SIOV_SLLPS_2M, true, false, MiB2}, {SIOV_SLLPS_2M, false, false, MiB2},
                 {0, false, false, KiB4}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.sl_large = cases[i].sl_large;
        cfg.first_level = cases[i].fl;
        cfg.nested = cases[i].fl;
        cfg.fl_1g = cases[i].fl_1g;
        struct tl *t = unit(&cfg);
        uint64_t pe[8];
        tl_pe_pt(pe, DID);
        sm_entry(t, pe);
        struct siov_ats_completion c;
        uint64_t iova = 0x12345678123ull;
        assert_int_equal(ats(t, PASID, iova, 0, &c), SIOV_OK);
        expect_ok(&c, iova & ~(cases[i].size - 1), cases[i].size, true, true, false, false);
        /* beyond the host address width: not present, nothing recorded (SGN.4) */
        assert_int_equal(ats(t, PASID, 1ull << 48, 0, &c), SIOV_OK);
        expect_none(&c);
        assert_int_equal(tl_fault_records(t), 0);
        tl_free(t);
    }
}

/* The data entry as PCIe carries it: bits and the S-bit size encoding. */
static void test_completion_data(void **state)
{
    (void)state;
    struct siov_ats_completion c = {.status = SIOV_ATS_SUCCESS, .addr = 0x40000000, .size = MiB2, .r = true,
                                    .w = true};
    assert_int_equal(siov_ats_completion_data(&c), 0x400FF000ull | SIOV_ATS_CPL_S | 0x3);
    c.size = KiB4;
    c.w = false;
    c.no_snoop = true;
    c.priv = true;
    assert_int_equal(siov_ats_completion_data(&c), 0x40000000ull | 0x1 | 0x10 | 0x400);
    c = (struct siov_ats_completion){.addr = 0, .size = 8192, .untranslated_only = true, .w = true};
    assert_int_equal(siov_ats_completion_data(&c), SIOV_ATS_CPL_S | 0x2 | 0x4);
    c = (struct siov_ats_completion){.addr = 0x40000000, .size = GiB1, .x = true, .global = true};
    assert_int_equal(siov_ats_completion_data(&c), 0x5FFFF000ull | SIOV_ATS_CPL_S | 0x8 | 0x20);
    /* the range encoding both ways, for every size up to the whole space */
    for (unsigned k = 12; k < 64; k++) {
        uint64_t size = 1ull << k, base = k < 63 ? (0x5A5A5A5A5A5A5000ull & ~(size - 1)) : 0, b, s;
        int sb;
        uint64_t enc = siov_ats_range_encode(base, size, &sb);
        assert_int_equal(sb, k > 12);
        siov_ats_range_decode(enc, sb, &b, &s);
        assert_int_equal(b, base);
        assert_int_equal(s, size);
    }
    uint64_t b, s;
    siov_ats_range_decode(SIOV_ATS_RANGE_ALL, 1, &b, &s);
    assert_int_equal(b, 0);
    assert_int_equal(s, UINT64_MAX);
    siov_ats_range_decode(~0ull, 1, &b, &s);
    assert_int_equal(s, UINT64_MAX);
    int sb;
    assert_int_equal(siov_ats_range_encode(0, UINT64_MAX, &sb), SIOV_ATS_RANGE_ALL);
    assert_int_equal(sb, 1);
}

/* ------------------------------------------------------------- NW, A/D */
static void test_nw_and_dirty(void **state)
{
    (void)state;
    for (int nwfs = 0; nwfs < 2; nwfs++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.nwfs = nwfs;
        struct tl *t = unit(&cfg);
        assert_int_equal((siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_NWFS) != 0, nwfs);
        /* second level with SLADE: the leaf has neither A nor D */
        uint64_t root = tl_page(t), pe[8];
        uint64_t leaf = tl_map(t, root, 4, false, IOVA, OUT, KiB4, TL_SL_RW, TL_SL_RWX);
        tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
        pe[0] |= SIOV_PTE0_SLADE;
        sm_entry(t, pe);
        struct siov_ats_completion c;
        assert_int_equal(ats(t, PASID, IOVA, NW, &c), SIOV_OK);
        /* NW honoured: a read-only fill, A set, D not; NWFS=0: NW counts as 0 */
        expect_ok(&c, OUT, KiB4, true, !nwfs, false, false);
        assert_true(tl_r64(t, leaf) & SIOV_SL_A);
        assert_int_equal((tl_r64(t, leaf) & SIOV_SL_D) != 0, !nwfs);
        assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_OK);
        expect_ok(&c, OUT, KiB4, true, true, false, false);
        assert_true(tl_r64(t, leaf) & SIOV_SL_D);
        tl_free(t);
        /* first level: D of the leaf likewise */
        t = unit(&cfg);
        root = tl_page(t);
        leaf = tl_map(t, root, 4, true, IOVA, OUT, KiB4, TL_FL_URW, TL_FL_URW | SIOV_FL_A);
        tl_pe_fl(pe, DID, root, SIOV_FLPM_4LVL);
        sm_entry(t, pe);
        assert_int_equal(ats(t, PASID, IOVA, NW, &c), SIOV_OK);
        expect_ok(&c, OUT, KiB4, true, !nwfs, false, false);
        assert_true(tl_r64(t, leaf) & SIOV_FL_A);
        assert_int_equal((tl_r64(t, leaf) & SIOV_FL_D) != 0, !nwfs);
        /* the IOTLB answers the second request, which still sets D */
        assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_OK);
        assert_true(tl_r64(t, leaf) & SIOV_FL_D);
        tl_free(t);
    }
}

/* ---------------------------------------------------------- permissions */
static void test_permissions_that_exist(void **state)
{
    (void)state;
    struct siov_ats_completion c;
    /* second level: read-only, write-only */
    struct tl *t = unit(NULL);
    uint64_t root = tl_page(t), pe[8];
    tl_map(t, root, 4, false, IOVA, OUT, KiB4, SIOV_SL_R, TL_SL_RWX);
    tl_map(t, root, 4, false, IOVA + KiB4, OUT + KiB4, KiB4, SIOV_SL_W, TL_SL_RWX);
    tl_map(t, root, 4, false, IOVA + 2 * KiB4, OUT + 2 * KiB4, KiB4, SIOV_SL_R | SIOV_SL_W, TL_SL_RWX);
    tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
    pe[0] |= SIOV_PTE0_SLEE; /* X counts: the third page has none */
    sm_entry(t, pe);
    assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_OK);
    expect_ok(&c, OUT, KiB4, true, false, false, false);
    assert_int_equal(ats(t, PASID, IOVA + KiB4, 0, &c), SIOV_OK);
    expect_ok(&c, OUT + KiB4, KiB4, false, true, false, false);
    uint64_t walks = tl_stats(t).walks;
    assert_int_equal(ats(t, PASID, IOVA + KiB4, NW, &c), SIOV_OK); /* write-only asked read-only */
    expect_none(&c);
    assert_int_equal(tl_stats(t).walks - walks, 1); /* a read is all NW asks for: one walk */
    /* an execute request asks nothing more: Exe stays 0 */
    assert_int_equal(ats(t, PASID, IOVA, SIOV_ACCESS_EXEC, &c), SIOV_OK);
    expect_ok(&c, OUT, KiB4, true, false, false, false);
    /* nor does it lose anything on a page without execute permission */
    assert_int_equal(ats(t, PASID, IOVA + 2 * KiB4, SIOV_ACCESS_EXEC, &c), SIOV_OK);
    expect_ok(&c, OUT + 2 * KiB4, KiB4, true, true, false, false);
    assert_int_equal(tl_fault_records(t), 0);
    assert_int_equal(tl_stats(t).faults, 0);
    tl_free(t);
    /* first level: read-only user page, supervisor page, SRE and ERE */
    t = unit(NULL);
    root = tl_page(t);
    uint64_t fl_ad = SIOV_FL_A | SIOV_FL_D;
    tl_map(t, root, 4, true, IOVA, OUT, KiB4, SIOV_FL_P | SIOV_FL_US | fl_ad, TL_FL_URW | SIOV_FL_A);
    tl_map(t, root, 4, true, IOVA + KiB4, OUT + KiB4, KiB4, SIOV_FL_P | SIOV_FL_RW | fl_ad, TL_FL_URW | SIOV_FL_A);
    tl_pe_fl(pe, DID, root, SIOV_FLPM_4LVL);
    pe[2] |= SIOV_PTE2_SRE | SIOV_PTE2_WPE;
    sm_entry(t, pe);
    assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_OK);
    expect_ok(&c, OUT, KiB4, true, false, false, false);
    /* a user request to a supervisor page: SGN.2, not present */
    assert_int_equal(ats(t, PASID, IOVA + KiB4, 0, &c), SIOV_OK);
    expect_none(&c);
    assert_false(c.priv);
    /* PR=1: the supervisor permissions, Priv set */
    assert_int_equal(ats(t, PASID, IOVA + KiB4, SIOV_ACCESS_PRIV, &c), SIOV_OK);
    expect_ok(&c, OUT + KiB4, KiB4, true, true, true, false);
    /* PR on a request without PASID does not exist: a user request */
    assert_int_equal(ats(t, SIOV_NO_PASID, IOVA + KiB4, SIOV_ACCESS_PRIV, &c), SIOV_OK);
    expect_none(&c);
    assert_false(c.priv);
    /* ERE=0: an execute request is SPT.5, not present */
    assert_int_equal(ats(t, PASID, IOVA, SIOV_ACCESS_EXEC, &c), SIOV_OK);
    expect_none(&c);
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
}

/* SRE=0 with PR=1: not present with Priv set (facts 13.3), on a fresh unit. */
static void test_priv_without_sre(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    uint64_t root = tl_page(t), pe[8];
    tl_map(t, root, 4, true, IOVA, OUT, KiB4, TL_FL_URW | SIOV_FL_A | SIOV_FL_D, TL_FL_URW | SIOV_FL_A);
    tl_pe_fl(pe, DID, root, SIOV_FLPM_4LVL);
    sm_entry(t, pe);
    struct siov_ats_completion c;
    assert_int_equal(ats(t, PASID, IOVA, SIOV_ACCESS_PRIV, &c), SIOV_OK);
    expect_none(&c);
    assert_true(c.priv);
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
}

/* ------------------------------------------------- not present: no fault */
static void test_not_present_is_success(void **state)
{
    (void)state;
    struct siov_ats_completion c;
    /* SL: leaf not present; input beyond the SL width */
    struct tl *t = unit(NULL);
    uint64_t root = tl_page(t), pe[8];
    tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
    sm_entry(t, pe);
    assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_OK);
    expect_none(&c);
    assert_int_equal(ats(t, PASID, 1ull << 48, 0, &c), SIOV_OK);
    expect_none(&c);
    /* a PASID whose directory entry (SPD.2) or table entry (SPT.2) is absent */
    assert_int_equal(ats(t, 0x5000, IOVA, 0, &c), SIOV_OK);
    expect_none(&c);
    assert_int_equal(ats(t, PASID + 1, IOVA, 0, &c), SIOV_OK);
    expect_none(&c);
    assert_int_equal(tl_fault_records(t), 0);
    assert_int_equal(tl_stats(t).faults, 0);
    tl_free(t);
    /* FL: not present, non-canonical */
    t = unit(NULL);
    root = tl_page(t);
    tl_pe_fl(pe, DID, root, SIOV_FLPM_4LVL);
    sm_entry(t, pe);
    assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_OK);
    expect_none(&c);
    assert_int_equal(ats(t, PASID, 0x0000900000000000ull, 0, &c), SIOV_OK);
    expect_none(&c);
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
}

/* FL A/D update that fails (SFS.10): R=W=0, and the fault is recorded. */
static void test_ad_failure_recorded(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    uint64_t root = tl_page(t), pe[8];
    uint64_t leaf = tl_map(t, root, 4, true, IOVA, OUT, KiB4, TL_FL_URW, TL_FL_URW | SIOV_FL_A);
    tl_pe_fl(pe, DID, root, SIOV_FLPM_4LVL);
    sm_entry(t, pe);
    assert_int_equal(siov_mem_fail_range(t->mem, leaf & ~0xFFFull, KiB4, SIOV_MEM_FAIL_WRITE), 0);
    struct siov_ats_completion c;
    assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_FAULT_SFL_10);
    expect_none(&c);
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 1);
    assert_int_equal(r.reason, SIOV_FAULT_SFL_10);
    assert_int_equal(r.access, RD | ATS);
    tl_free(t);
}

/* ------------------------------------------------------------ refusals */
enum mutation { M_CTX_NP, M_DTE0, M_PASIDE0, M_PDTS0, M_ROOT_NP, M_CTX_RSVD, M_PE_RSVD, M_SL_RSVD, M_SL_UNREAD,
                M_INTR };

struct refusal {
    const char *name;
    enum mutation m;
    uint32_t pasid;
    siov_fault f;
    enum siov_ats_status status;
};

static const struct refusal refusals[] = {
    {"context entry not present", M_CTX_NP, PASID, SIOV_FAULT_SCT_2, SIOV_ATS_UR},
    {"DTE=0", M_DTE0, PASID, SIOV_FAULT_SCT_5, SIOV_ATS_UR},
    {"DTE=0 without PASID", M_DTE0, SIOV_NO_PASID, SIOV_FAULT_SCT_5, SIOV_ATS_UR},
    {"PASIDE=0", M_PASIDE0, PASID, SIOV_FAULT_SCT_6, SIOV_ATS_UR},
    {"PASID beyond PDTS", M_PDTS0, 0x5000, SIOV_FAULT_SCT_7, SIOV_ATS_UR},
    {"root half not present", M_ROOT_NP, PASID, SIOV_FAULT_SRT_2, SIOV_ATS_UR},
    {"context reserved bit", M_CTX_RSVD, PASID, SIOV_FAULT_SCT_3, SIOV_ATS_CA},
    {"PASID entry reserved bit", M_PE_RSVD, PASID, SIOV_FAULT_SPT_3, SIOV_ATS_CA},
    {"SL entry reserved bit", M_SL_RSVD, PASID, SIOV_FAULT_SSL_3, SIOV_ATS_CA},
    {"SL table unreadable", M_SL_UNREAD, PASID, SIOV_FAULT_SSL_1, SIOV_ATS_CA},
    {"output in the interrupt range", M_INTR, PASID, SIOV_FAULT_SGN_8, SIOV_ATS_CA},
};

/* A unit where SID's SL tables map IOVA, then broken as r says; *ctx: the context entry. */
static struct tl *refusal_unit(const struct refusal *r, uint64_t *ctx)
{
    struct tl *t = unit(NULL);
    uint64_t root = tl_page(t), pe[8];
    uint64_t out = r->m == M_INTR ? SIOV_INTR_BASE : OUT;
    uint64_t leaf = tl_map(t, root, 4, false, IOVA, out, KiB4, TL_SL_RW, TL_SL_RWX);
    tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
    uint64_t dir = tl_sm_context_default(t, SID, RID_PASID);
    tl_pasid_entry(t, dir, RID_PASID, pe);
    uint64_t pe_gpa = tl_pasid_entry(t, dir, PASID, pe);
    uint64_t qw0 = SIOV_SCE0_P | SIOV_SCE0_PASIDE | SIOV_SCE0_DTE | siov_set(0, SIOV_SCE0_PDTS, 7) | dir;
    *ctx = tl_sm_context(t, SID, qw0, siov_set(0, SIOV_SCE1_RID_PASID, RID_PASID));
    switch (r->m) {
    case M_CTX_NP: tl_w64(t, *ctx, qw0 & ~SIOV_SCE0_P); break;
    case M_DTE0: tl_w64(t, *ctx, qw0 & ~SIOV_SCE0_DTE); break;
    case M_PASIDE0: tl_w64(t, *ctx, qw0 & ~SIOV_SCE0_PASIDE); break;
    case M_PDTS0: tl_w64(t, *ctx, siov_set(qw0, SIOV_SCE0_PDTS, 0)); break;
    case M_ROOT_NP: tl_w64(t, t->root + SIOV_ROOT_ENTRY_SIZE * SIOV_SID_BUS(SID), 0); break;
    case M_CTX_RSVD: tl_w64(t, *ctx + 8, SIOV_BIT(40)); break;
    case M_PE_RSVD: tl_w64(t, pe_gpa + 24, 1); break;
    case M_SL_RSVD: tl_w64(t, leaf, tl_r64(t, leaf) | SIOV_SL_TM); break;
    case M_SL_UNREAD: siov_mem_fail_range(t->mem, leaf & ~0xFFFull, KiB4, SIOV_MEM_FAIL_READ); break;
    case M_INTR: break;
    }
    return t;
}

static void test_refusals(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(refusals) / sizeof(refusals[0]); i++) {
        const struct refusal *r = &refusals[i];
        for (int fpd = 0; fpd < 2; fpd++) {
            uint64_t ctx;
            struct tl *t = refusal_unit(r, &ctx);
            if (fpd)
                tl_w64(t, ctx, tl_r64(t, ctx) | SIOV_SCE0_FPD);
            struct siov_ats_completion c;
            siov_fault f = ats(t, r->pasid, IOVA + 0x123, 0, &c);
            if (f != r->f || c.status != r->status)
                fail_msg("%s (fpd %d): got %s status %d", r->name, fpd, siov_fault_name(f), c.status);
            /* recorded with AT=01 (a read), unless FPD suppresses a qualified reason */
            bool recorded = !fpd || !siov_fault_qualified(f);
            assert_int_equal(tl_fault_records(t), recorded);
            if (recorded) {
                struct siov_fault_record rec;
                assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &rec), 1);
                assert_int_equal(rec.reason, r->f);
                assert_int_equal(rec.sid, SID);
                assert_int_equal(rec.pasid, r->pasid);
                assert_int_equal(rec.addr, IOVA);
                assert_int_equal(rec.access, RD | ATS);
                assert_int_equal(siov_get(tl_frcd(t, 0, 1), SIOV_FRCD1_AT), SIOV_FRCD_AT_TRANSLATION_REQ);
            }
            assert_int_equal(tl_stats(t).faults, 1);
            tl_free(t);
        }
    }
}

/* Legacy mode: TT=01 answers, TT=00 and TT=10 refuse with LCT.5 (UR). */
static void test_legacy(void **state)
{
    (void)state;
    static const unsigned tts[] = {SIOV_TT_SL_DT, SIOV_TT_SL, SIOV_TT_PASS_THROUGH};
    for (size_t i = 0; i < 3; i++) {
        struct tl *t = tl_new_sized(NULL, MEM_SIZE);
        tl_enable(t, SIOV_TTM_LEGACY);
        uint64_t slpt = tl_page(t);
        tl_map(t, slpt, 4, false, IOVA, OUT, MiB2, TL_SL_RW, TL_SL_RWX);
        tl_legacy_context(t, SID, SIOV_CE0_P | siov_set(0, SIOV_CE0_TT, tts[i]) | slpt,
                          siov_set(0, SIOV_CE1_AW, SIOV_AW_4LVL) | siov_set(0, SIOV_CE1_DID, DID));
        struct siov_ats_completion c;
        siov_fault f = ats(t, SIOV_NO_PASID, IOVA + 0x5000, NW, &c);
        if (tts[i] == SIOV_TT_SL_DT) {
            assert_int_equal(f, SIOV_OK);
            expect_ok(&c, OUT, MiB2, true, false, false, false);
        } else {
            assert_int_equal(f, SIOV_FAULT_LCT_5);
            assert_int_equal(c.status, SIOV_ATS_UR);
            assert_int_equal(tl_fault_records(t), 1);
        }
        /* a PASID in legacy mode: RTA.2, UR */
        assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_FAULT_RTA_2);
        assert_int_equal(c.status, SIOV_ATS_UR);
        tl_free(t);
    }
}

/* ------------------------------------------------------- special ranges */
static void test_interrupt_range(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    uint64_t root = tl_page(t), pe[8];
    tl_map(t, root, 4, true, SIOV_INTR_BASE, OUT, KiB4, TL_FL_URW | SIOV_FL_A | SIOV_FL_D, TL_FL_URW | SIOV_FL_A);
    tl_pe_fl(pe, DID, root, SIOV_FLPM_4LVL);
    sm_entry(t, pe);
    struct siov_ats_completion c;
    /* without PASID: S.1 (NW=0) write, untranslated only; S.2 (NW=1) nothing */
    assert_int_equal(ats(t, SIOV_NO_PASID, SIOV_INTR_BASE + 0x40, 0, &c), SIOV_OK);
    assert_int_equal(c.status, SIOV_ATS_SUCCESS);
    assert_false(c.r);
    assert_true(c.w);
    assert_true(c.untranslated_only);
    assert_int_equal(c.size, KiB4);
    assert_int_equal(siov_ats_completion_data(&c) & 0xFFF, SIOV_ATS_CPL_W | SIOV_ATS_CPL_U);
    assert_int_equal(ats(t, SIOV_NO_PASID, SIOV_INTR_LIMIT, NW, &c), SIOV_OK);
    expect_none(&c);
    /* the range's first and last bytes are in it; the byte below is not */
    static const uint64_t ends[] = {SIOV_INTR_BASE, SIOV_INTR_LIMIT};
    for (int i = 0; i < 2; i++) {
        assert_int_equal(ats(t, SIOV_NO_PASID, ends[i], 0, &c), SIOV_OK);
        assert_true(c.w && c.untranslated_only && !c.r);
        assert_int_equal(c.addr, ends[i] & SIOV_PAGE_MASK);
    }
    assert_int_equal(ats(t, SIOV_NO_PASID, SIOV_INTR_BASE - 1, 0, &c), SIOV_OK);
    expect_none(&c); /* not mapped */
    /* with PASID: translated like any other address */
    assert_int_equal(ats(t, PASID, SIOV_INTR_BASE + 0x40, 0, &c), SIOV_OK);
    expect_ok(&c, OUT, KiB4, true, true, false, false);
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
}

/* An output address in 0xFEEx_xxxx, to its first byte, is CA (SGN.8) for
   every translation type but pass-through, whose output is its input; the
   byte below the range translates. */
static void test_interrupt_output_bounds(void **state)
{
    (void)state;
    for (int k = K_SL; k <= K_NESTED; k++) {
        struct tl *t = unit(NULL);
        map_kind_to(t, (enum kind)k, KiB4, SIOV_INTR_BASE, 0);
        struct siov_ats_completion c;
        assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_FAULT_SGN_8);
        assert_int_equal(c.status, SIOV_ATS_CA);
        assert_int_equal(tl_fault_records(t), 1);
        tl_free(t);
        t = unit(NULL);
        map_kind_to(t, (enum kind)k, KiB4, SIOV_INTR_LIMIT + 1 - KiB4, 0);
        assert_int_equal(ats(t, PASID, IOVA + 0xFFF, 0, &c), SIOV_FAULT_SGN_8); /* its last byte */
        assert_int_equal(c.status, SIOV_ATS_CA);
        tl_free(t);
        static const uint64_t outside[] = {SIOV_INTR_BASE - KiB4, SIOV_INTR_LIMIT + 1};
        for (int o = 0; o < 2; o++) {
            t = unit(NULL);
            map_kind_to(t, (enum kind)k, KiB4, outside[o], 0);
            assert_int_equal(ats(t, PASID, IOVA + (o ? 0 : 0xFFF), 0, &c), SIOV_OK);
            expect_ok(&c, outside[o], KiB4, true, true, false, false);
            assert_int_equal(tl_fault_records(t), 0);
            tl_free(t);
        }
    }
    struct tl *t = unit(NULL);
    uint64_t pe[8];
    tl_pe_pt(pe, DID);
    sm_entry(t, pe);
    struct siov_ats_completion c;
    assert_int_equal(ats(t, PASID, SIOV_INTR_BASE, 0, &c), SIOV_OK);
    expect_ok(&c, SIOV_INTR_BASE & ~(GiB1 - 1), GiB1, true, true, false, false);
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
}

/* N: the second-level leaf's SNP for second-level and nested tables only. */
static void test_no_snoop(void **state)
{
    (void)state;
    for (int k = K_SL; k <= K_NESTED; k++) {
        struct tl *t = unit(NULL);
        map_kind(t, (enum kind)k, KiB4, k == K_FL ? 0 : SIOV_SL_SNP);
        struct siov_ats_completion c;
        assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_OK);
        expect_ok(&c, OUT, KiB4, true, true, false, k != K_FL);
        assert_int_equal((siov_ats_completion_data(&c) & SIOV_ATS_CPL_N) != 0, k != K_FL);
        /* the IOTLB keeps it */
        assert_int_equal(ats(t, PASID, IOVA, 0, &c), SIOV_OK);
        assert_int_equal(c.no_snoop, k != K_FL);
        assert_int_equal(tl_stats(t).iotlb_hits, 1);
        tl_free(t);
    }
}

/* The stale checker's own translation request (an ATC hit checked against
   the tables) records no fault and counts none, whatever it meets. */
static void stale_seen(void *opaque, const struct siov_stale_report *r)
{
    *(siov_fault *)opaque = r->fresh_fault;
}

static void test_stale_check_records_nothing(void **state)
{
    (void)state;
    siov_fault fresh = SIOV_OK;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.stale_check = true;
    cfg.stale_report = stale_seen;
    cfg.stale_opaque = &fresh;
    struct tl *t = unit(&cfg);
    uint64_t pe_gpa = sm_entry_sl(t);
    struct siov_atc *atc = siov_atc_new(t->iommu, SID, 64);
    assert_non_null(atc);
    struct siov_xlate x;
    assert_int_equal(siov_atc_translate(atc, PASID, IOVA, RD, &x), SIOV_OK);
    tl_w64(t, pe_gpa + 24, 1); /* a reserved bit: SPT.3, CA, a recorded reason */
    assert_int_equal(siov_atc_translate(atc, PASID, IOVA, RD, &x), SIOV_OK); /* the stale hit */
    assert_int_equal(x.addr, OUT);
    assert_int_equal(tl_stats(t).stale_hits, 1);
    assert_int_equal(fresh, SIOV_FAULT_SPT_3);
    assert_int_equal(tl_stats(t).faults, 0);
    assert_int_equal(tl_fault_records(t), 0);
    siov_atc_free(atc);
    tl_free(t);
}

/* The highest PASID of a 20-bit unit translates like any other. */
static void test_highest_pasid(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    uint64_t root = tl_page(t), pe[8];
    tl_map(t, root, 4, false, IOVA, OUT, KiB4, TL_SL_RW, TL_SL_RWX);
    tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
    uint64_t dir = tl_sm_context_default(t, SID, RID_PASID);
    tl_pasid_entry(t, dir, SIOV_PASID_MAX, pe);
    struct siov_ats_completion c;
    assert_int_equal(ats(t, SIOV_PASID_MAX, IOVA + 0x10, 0, &c), SIOV_OK);
    expect_ok(&c, OUT, KiB4, true, true, false, false);
    assert_int_equal(tl_stats(t).faults, 0);
    tl_free(t);
}

/* The trace record of a translation request: the completion as a
   translation (only the permissions it grants) and what answered it. */
struct seen {
    unsigned n;
    struct siov_trace_rec r[4];
};

static void collect(void *opaque, const struct siov_trace_rec *rec)
{
    struct seen *s = opaque;
    if (s->n < 4)
        s->r[s->n] = *rec;
    s->n++;
}

static void test_trace_record(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    uint64_t root = tl_page(t), pe[8];
    tl_map(t, root, 4, false, IOVA, OUT, KiB4, SIOV_SL_W, TL_SL_RWX); /* write-only */
    tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
    sm_entry(t, pe);
    struct seen s = {0};
    assert_int_equal(siov_iommu_set_trace(t->iommu, collect, &s), 0);
    struct siov_ats_completion c;
    assert_int_equal(ats(t, PASID, IOVA + 0x10, 0, &c), SIOV_OK);
    expect_ok(&c, OUT, KiB4, false, true, false, false);
    /* SID + 1 has no context entry: refused before any page walk */
    assert_int_equal(siov_ats_translate(t->iommu, SID + 1, PASID, IOVA, 0, &c), SIOV_FAULT_SCT_2);
    assert_int_equal(ats(t, PASID, IOVA + KiB4, 0, &c), SIOV_OK); /* not mapped: nothing granted */
    expect_none(&c);
    assert_int_equal(s.n, 3);
    assert_int_equal(s.r[2].fault, SIOV_OK);
    assert_int_equal(s.r[2].xlate.perm, 0);
    assert_int_equal(s.r[0].fault, SIOV_OK);
    assert_int_equal(s.r[0].xlate.addr, OUT + 0x10);
    assert_int_equal(s.r[0].xlate.perm, WR);
    assert_int_equal(s.r[0].walks, 1);
    assert_int_equal(s.r[0].hits, 0);
    assert_int_equal(s.r[1].fault, SIOV_FAULT_SCT_2);
    assert_int_equal(s.r[1].sid, SID + 1);
    assert_int_equal(s.r[1].walks, 0);
    assert_int_equal(s.r[1].hits, 0);
    tl_free(t);
}

/* ----------------------------------------------------- disabled, misuse */
/* A UR completion for the 4 KiB page at page, granting nothing. */
static void expect_ur(const struct siov_ats_completion *c, uint64_t page)
{
    assert_int_equal(c->status, SIOV_ATS_UR);
    assert_int_equal(c->addr, page);
    assert_int_equal(c->size, KiB4);
    assert_false(c->r || c->w || c->x || c->priv || c->global || c->untranslated_only || c->no_snoop);
}

static void test_disabled_and_misuse(void **state)
{
    (void)state;
    struct siov_ats_completion c;
    struct tl *t = tl_new_sized(NULL, MEM_SIZE); /* translation off */
    assert_int_equal(ats(t, PASID, IOVA + 0x1123, 0, &c), SIOV_ERR_BUS);
    expect_ur(&c, IOVA + 0x1000);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, IOVA, RD | TR, &x), SIOV_ERR_BUS);
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, IOVA, RD | ATS, &x), SIOV_ERR_BUS);
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, IOVA, RD, &x), SIOV_OK); /* untranslated passes */
    assert_int_equal(tl_fault_records(t), 0);
    tl_enable(t, SIOV_TTM_SCALABLE);
    /* AT=11 is reserved: UR before any lookup, nothing recorded (spec 4.2.1) */
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, IOVA, RD | ATS | TR, &x), SIOV_ERR_BUS);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, IOVA, WR | ATS | TR, &x), SIOV_ERR_BUS);
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_PASID_MAX + 1, IOVA, RD | ATS | TR, &x), SIOV_ERR_BUS);
    assert_int_equal(tl_stats(t).faults, 0);
    assert_int_equal(ats(t, SIOV_PASID_MAX + 1, IOVA + 0x1123, 0, &c), SIOV_FAULT_SGN_10);
    expect_ur(&c, IOVA + 0x1000);
    assert_int_equal(tl_fault_records(t), 0); /* no prefix carries it: nothing recorded */
    assert_int_equal(siov_ats_translate(NULL, SID, PASID, IOVA, 0, &c), SIOV_FAULT_RTA_1);
    assert_int_equal(siov_ats_translate(t->iommu, SID, PASID, IOVA, 0, NULL), SIOV_FAULT_RTA_1);
    assert_int_equal(tl_stats(t).ats_requests, 2); /* the NULL calls send nothing */
    tl_free(t);
}

/* ------------------------------------------- siov_translate with ATS_REQ */
static void test_translate_ats_req(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    uint64_t root = tl_page(t), pe[8];
    tl_map(t, root, 4, false, IOVA, OUT, MiB2, SIOV_SL_R, TL_SL_RWX);
    tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
    sm_entry(t, pe);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SID, PASID, IOVA + 0x12345, RD | ATS, &x), SIOV_OK);
    assert_int_equal(x.addr, OUT + 0x12345);
    assert_int_equal(x.page_size, MiB2);
    assert_int_equal(x.perm, RD);
    assert_int_equal(x.did, 0);
    /* a read-only page asked for write, a page not present: not present, no fault */
    assert_int_equal(siov_translate(t->iommu, SID, PASID, IOVA, WR | ATS, &x), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, IOVA + GiB1, RD | ATS, &x), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, IOVA, SIOV_ACCESS_EXEC | ATS, &x), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(tl_fault_records(t), 0);
    assert_int_equal(tl_stats(t).ats_requests, 4);
    tl_free(t);
    /* a refusal: the same fault, recorded as a translation request (a read) */
    t = unit(NULL);
    tl_sm_context(t, SID, SIOV_SCE0_P | SIOV_SCE0_PASIDE | siov_set(0, SIOV_SCE0_PDTS, 7) | tl_page(t), 0);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, IOVA, RD | WR | ATS, &x), SIOV_FAULT_SCT_5);
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 1);
    assert_int_equal(r.reason, SIOV_FAULT_SCT_5);
    assert_int_equal(r.access, RD | ATS);
    tl_free(t);
}

/* ---------------------------------------------------- translated requests */
static void expect_translated_fault(struct tl *t, uint32_t pasid, uint64_t addr, siov_fault f, unsigned rec)
{
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SID, pasid, addr, WR | TR, &x), f);
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, rec, &r), 1);
    assert_int_equal(r.reason, f);
    assert_int_equal(r.access, WR | TR);
    assert_int_equal(r.addr, addr & ~0xFFFull);
    assert_int_equal(siov_get(tl_frcd(t, rec, 1), SIOV_FRCD1_AT), SIOV_FRCD_AT_TRANSLATED);
}

static void test_translated_requests(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    tl_sm_context_default(t, SID, RID_PASID); /* DTE; no PASID entry at all */
    struct siov_xlate x;
    /* only the context entry counts: the address passes as it is */
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 0x5678, RD | TR, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x5678);
    expect_translated_fault(t, SIOV_NO_PASID, 1ull << 48, SIOV_FAULT_SGN_4, 0);
    expect_translated_fault(t, SIOV_NO_PASID, SIOV_INTR_BASE + 0x100, SIOV_FAULT_SGN_8, 1);
    expect_translated_fault(t, PASID, 0x5000, SIOV_FAULT_SCT_10, 2);
    tl_free(t);
    /* context errors (each on a unit of its own): DTE=0, not present, root not present */
    for (int i = 0; i < 3; i++) {
        t = unit(NULL);
        uint64_t qw0 = SIOV_SCE0_P | SIOV_SCE0_PASIDE | siov_set(0, SIOV_SCE0_PDTS, 7) | tl_page(t);
        tl_sm_context(t, SID, i == 1 ? 0 : qw0, 0);
        if (i == 2)
            tl_w64(t, t->root + SIOV_ROOT_ENTRY_SIZE * SIOV_SID_BUS(SID), 0);
        static const siov_fault want[] = {SIOV_FAULT_SCT_5, SIOV_FAULT_SCT_2, SIOV_FAULT_SRT_2};
        expect_translated_fault(t, SIOV_NO_PASID, 0x5000, want[i], 0);
        tl_free(t);
    }
    /* legacy: LGN.1 above the host address width, LGN.4 in the interrupt range */
    t = tl_new_sized(NULL, MEM_SIZE);
    tl_enable(t, SIOV_TTM_LEGACY);
    tl_legacy_context(t, SID, SIOV_CE0_P | siov_set(0, SIOV_CE0_TT, SIOV_TT_SL_DT) | tl_page(t),
                      siov_set(0, SIOV_CE1_AW, SIOV_AW_4LVL) | siov_set(0, SIOV_CE1_DID, DID));
    expect_translated_fault(t, SIOV_NO_PASID, 1ull << 50, SIOV_FAULT_LGN_1, 0);
    expect_translated_fault(t, SIOV_NO_PASID, SIOV_INTR_LIMIT, SIOV_FAULT_LGN_4, 1);
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 0x7000, RD | TR, &x), SIOV_OK);
    assert_int_equal(x.did, DID);
    tl_free(t);
}

static void test_translated_dma(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    tl_sm_context_default(t, SID, RID_PASID);
    uint8_t buf[0x2100], back[0x2100];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i * 7 + 1);
    uint64_t hpa = (12ull << 20) + 0xF80;
    assert_int_equal(siov_dma_write_translated(t->iommu, SID, hpa, buf, sizeof(buf)), SIOV_OK);
    assert_int_equal(siov_mem_read(t->mem, hpa, back, sizeof(back)), 0);
    assert_memory_equal(back, buf, sizeof(buf));
    memset(back, 0, sizeof(back));
    assert_int_equal(siov_dma_read_translated(t->iommu, SID, hpa, back, sizeof(back)), SIOV_OK);
    assert_memory_equal(back, buf, sizeof(buf));
    assert_int_equal(tl_stats(t).translated_requests, 8); /* 4 pages each way */
    /* the interrupt range faults SGN.8 (nothing written); beyond memory: BUS */
    assert_int_equal(siov_dma_write_translated(t->iommu, SID, SIOV_INTR_BASE + 0x10, buf, 0x20), SIOV_FAULT_SGN_8);
    assert_int_equal(siov_dma_read_translated(t->iommu, SID, MEM_SIZE - 8, back, 16), SIOV_ERR_BUS);
    assert_int_equal(siov_dma_read_translated(t->iommu, SID, 0, NULL, 16), SIOV_ERR_BUS);
    assert_int_equal(siov_dma_read_translated(NULL, SID, 0, back, 16), SIOV_FAULT_RTA_1);
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_completion_types_and_sizes),
        cmocka_unit_test(test_completion_pass_through),
        cmocka_unit_test(test_completion_data),
        cmocka_unit_test(test_nw_and_dirty),
        cmocka_unit_test(test_permissions_that_exist),
        cmocka_unit_test(test_priv_without_sre),
        cmocka_unit_test(test_not_present_is_success),
        cmocka_unit_test(test_ad_failure_recorded),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_legacy),
        cmocka_unit_test(test_interrupt_range),
        cmocka_unit_test(test_interrupt_output_bounds),
        cmocka_unit_test(test_no_snoop),
        cmocka_unit_test(test_stale_check_records_nothing),
        cmocka_unit_test(test_highest_pasid),
        cmocka_unit_test(test_trace_record),
        cmocka_unit_test(test_disabled_and_misuse),
        cmocka_unit_test(test_translate_ats_req),
        cmocka_unit_test(test_translated_requests),
        cmocka_unit_test(test_translated_dma),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

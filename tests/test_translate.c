/* The translate pipeline end to end (src/translate.c, with context.c,
   pasid_table.c and regs.c under it): every PGTT kind and level count, every
   page size, translation disabled, abort-DMA and RTADDR errors, the interrupt
   range, translated requests, DMA across pages, statistics, NULL arguments,
   the callback memory backend and injected memory failures. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define MEM_SIZE (8ull << 20)  /* guest memory of each unit */
#define DATA_BASE (6ull << 20) /* data pages, above the table pool */

#define SID SIOV_SID(1, 2, 0)
#define PASID 0x77u
#define RID_PASID 0x76u /* requests without PASID: a copy of PASID's entry (equal would be SCT.9) */
#define DID 0x1D5
#define KiB4 SIOV_PAGE_SIZE
#define MiB2 (2ull << 20)
#define GiB1 (1ull << 30)
#define RW (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE)
#define RWX (RW | SIOV_ACCESS_EXEC)

/* Every level count and page size: all SAGAW values and a 57-bit MGAW. */
static struct siov_iommu_config wide_cfg(void)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL;
    cfg.mgaw = 57;
    return cfg;
}

/* SID's default context entry and pe at PASID and at RID_PASID. */
static void sm_entry(struct tl *t, const uint64_t pe[8])
{
    uint64_t dir = tl_sm_context_default(t, SID, RID_PASID);
    tl_pasid_entry(t, dir, PASID, pe);
    tl_pasid_entry(t, dir, RID_PASID, pe);
}

/* Scalable unit (cfg) ready for tables: enabled, nothing mapped yet. */
static struct tl *sm_new(const struct siov_iommu_config *cfg)
{
    struct tl *t = tl_new_sized(cfg, MEM_SIZE);
    tl_enable(t, SIOV_TTM_SCALABLE);
    return t;
}

/* Scalable unit where SID passes through (DID) at PASID and RID_PASID. */
static struct tl *pt_unit(void)
{
    struct tl *t = sm_new(NULL);
    uint64_t pe[8];
    tl_pe_pt(pe, DID);
    sm_entry(t, pe);
    return t;
}

/* Scalable unit where SID translates (DID) at PASID and RID_PASID through
   *root, a fresh 4-level first-level or second-level table. */
static struct tl *paging_unit(bool first_level, uint64_t *root)
{
    struct tl *t = sm_new(NULL);
    uint64_t pe[8];
    *root = tl_page(t);
    if (first_level)
        tl_pe_fl(pe, DID, *root, SIOV_FLPM_4LVL);
    else
        tl_pe_sl(pe, DID, *root, SIOV_AW_4LVL);
    sm_entry(t, pe);
    return t;
}

/* Legacy unit (cfg) with SID's context entry (tt, aw, slpt). */
static struct tl *legacy_new(const struct siov_iommu_config *cfg, unsigned tt, unsigned aw, uint64_t *slpt)
{
    struct tl *t = tl_new_sized(cfg, MEM_SIZE);
    tl_enable(t, SIOV_TTM_LEGACY);
    *slpt = tl_page(t);
    tl_legacy_context(t, SID, SIOV_CE0_P | siov_set(0, SIOV_CE0_TT, tt) | *slpt,
                      siov_set(0, SIOV_CE1_AW, aw) | siov_set(0, SIOV_CE1_DID, DID));
    return t;
}

static siov_fault xlate(struct tl *t, uint32_t pasid, uint64_t iova, unsigned access, struct siov_xlate *x)
{
    memset(x, 0, sizeof(*x));
    return siov_translate(t->iommu, SID, pasid, iova, access, x);
}

/* Translates to exactly (addr, size, perm, did), with and without PASID. */
static void expect_xlate(struct tl *t, bool both, uint64_t iova, unsigned access, uint64_t addr, uint64_t size,
                         unsigned perm, uint16_t did)
{
    for (int p = 0; p < (both ? 2 : 1); p++) {
        struct siov_xlate x;
        assert_int_equal(xlate(t, p ? SIOV_NO_PASID : PASID, iova, access, &x), SIOV_OK);
        assert_int_equal(x.addr, addr);
        assert_int_equal(x.page_size, size);
        assert_int_equal(x.perm, perm);
        assert_int_equal(x.did, did);
    }
}

static const uint64_t sizes[] = {KiB4, MiB2, GiB1};

/* An offset inside a page of size that exercises every index bit below it. */
static uint64_t offset_in(uint64_t size)
{
    return size == KiB4 ? 0x678 : size == MiB2 ? 0x1A678 : 0x2345A678;
}

/* An output page of size (1 GiB aligned, beyond guest memory: translate never touches it). */
static uint64_t out_page(uint64_t size)
{
    return 0x3C0000000ull + (size == KiB4 ? 0x5000 : size == MiB2 ? 0x600000 : 0);
}

/* An input region for levels: uses the top level's index and stays below its width. */
static uint64_t in_base(unsigned levels, bool first_level)
{
    switch (levels) {
    case 3: return 0x5540000000ull;
    case 4: return first_level ? 0xFFFFD55540000000ull : 0x555540000000ull; /* FL: canonical high half */
    default: return first_level ? 0xFF15555540000000ull : 0x15555540000000ull;
    }
}

/* ------------------------------------------------------ SL-only, scalable */
static void test_sl_levels_and_sizes(void **state)
{
    (void)state;
    struct siov_iommu_config cfg = wide_cfg();
    for (unsigned aw = SIOV_AW_3LVL; aw <= SIOV_AW_5LVL; aw++) {
        unsigned levels = siov_aw_levels(aw);
        for (size_t s = 0; s < 3; s++) {
            struct tl *t = sm_new(&cfg);
            uint64_t slpt = tl_page(t), pe[8];
            uint64_t iova = in_base(levels, false) + offset_in(sizes[s]);
            tl_map(t, slpt, levels, false, iova, out_page(sizes[s]), sizes[s], TL_SL_RW, TL_SL_RW);
            /* a read-only page next to it */
            tl_map(t, slpt, levels, false, iova + sizes[s], out_page(sizes[s]) + sizes[s], sizes[s], SIOV_SL_R,
                   TL_SL_RW);
            tl_pe_sl(pe, (uint16_t)(DID + aw), slpt, aw);
            sm_entry(t, pe);
            /* SLEE=0: execute follows read */
            expect_xlate(t, true, iova, SIOV_ACCESS_WRITE, out_page(sizes[s]) + offset_in(sizes[s]), sizes[s], RWX,
                         (uint16_t)(DID + aw));
            expect_xlate(t, true, iova + sizes[s], SIOV_ACCESS_READ,
                         out_page(sizes[s]) + sizes[s] + offset_in(sizes[s]), sizes[s],
                         SIOV_ACCESS_READ | SIOV_ACCESS_EXEC, (uint16_t)(DID + aw));
            struct siov_xlate x;
            assert_int_equal(xlate(t, PASID, iova + sizes[s], SIOV_ACCESS_WRITE, &x), SIOV_FAULT_SGN_6);
            /* the first address beyond the level count's width: SGN.5 (Table 30) */
            assert_int_equal(xlate(t, PASID, 1ull << (12 + 9 * levels), SIOV_ACCESS_READ, &x), SIOV_FAULT_SGN_5);
            assert_int_equal(tl_fault_records(t), 2);
            tl_check_record(t, 1, TL_REC(SIOV_FAULT_SGN_5, SID, PASID, 1ull << (12 + 9 * levels), SIOV_ACCESS_READ));
            tl_free(t);
        }
    }
}

/* ----------------------------------------------------- FL-only, scalable */
static void test_fl_levels_and_sizes(void **state)
{
    (void)state;
    struct siov_iommu_config cfg = wide_cfg();
    for (unsigned flpm = SIOV_FLPM_4LVL; flpm <= SIOV_FLPM_5LVL; flpm++) {
        unsigned levels = flpm == SIOV_FLPM_5LVL ? 5 : 4;
        for (size_t s = 0; s < 3; s++) {
            struct tl *t = sm_new(&cfg);
            uint64_t flpt = tl_page(t), pe[8];
            uint64_t iova = in_base(levels, true) + offset_in(sizes[s]);
            uint64_t leaf = tl_map(t, flpt, levels, true, iova, out_page(sizes[s]), sizes[s], TL_FL_URW, TL_FL_URW);
            tl_pe_fl(pe, (uint16_t)(DID + flpm), flpt, flpm);
            sm_entry(t, pe);
            /* ERE=0: no execute granted */
            expect_xlate(t, true, iova, SIOV_ACCESS_WRITE, out_page(sizes[s]) + offset_in(sizes[s]), sizes[s], RW,
                         (uint16_t)(DID + flpm));
            /* A/D written back: A on every level, D on the leaf of the write */
            assert_int_equal(tl_r64(t, leaf) & (SIOV_FL_A | SIOV_FL_D), SIOV_FL_A | SIOV_FL_D);
            for (unsigned l = levels; tl_entry_gpa(t, flpt, levels, iova, l) != leaf; l--)
                assert_true(tl_r64(t, tl_entry_gpa(t, flpt, levels, iova, l)) & SIOV_FL_A);
            /* not canonical for the level count: bit 47 (4-level) or bit 56 (5-level) flipped */
            struct siov_xlate x;
            uint64_t bad = iova ^ (1ull << (levels == 4 ? 47 : 56));
            assert_int_equal(xlate(t, PASID, bad, SIOV_ACCESS_READ, &x), SIOV_FAULT_SGN_1);
            tl_check_record(t, 0, TL_REC(SIOV_FAULT_SGN_1, SID, PASID, bad, SIOV_ACCESS_READ));
            tl_free(t);
        }
    }
}

/* ---------------------------------------------------------------- nested */
#define GPA_OUT 0x4000000000ull /* guest-physical page the first level maps to (below 2^39) */

/* Second level over all guest memory, 2 MiB pages, identity (FL tables live there). */
static void sl_identity(struct tl *t, uint64_t slpt, unsigned levels)
{
    for (uint64_t g = 0; g < MEM_SIZE; g += MiB2)
        tl_map(t, slpt, levels, false, g, g, MiB2, TL_SL_RW, TL_SL_RW);
}

static void test_nested(void **state)
{
    (void)state;
    static const struct { unsigned flpm, aw; uint64_t fl_size, sl_size; } cases[] = {
        {SIOV_FLPM_4LVL, SIOV_AW_4LVL, KiB4, KiB4}, {SIOV_FLPM_4LVL, SIOV_AW_4LVL, MiB2, KiB4},
        {SIOV_FLPM_4LVL, SIOV_AW_4LVL, KiB4, MiB2}, {SIOV_FLPM_4LVL, SIOV_AW_4LVL, GiB1, GiB1},
        {SIOV_FLPM_5LVL, SIOV_AW_3LVL, KiB4, KiB4}, {SIOV_FLPM_5LVL, SIOV_AW_3LVL, GiB1, MiB2},
        {SIOV_FLPM_4LVL, SIOV_AW_5LVL, MiB2, MiB2}, {SIOV_FLPM_5LVL, SIOV_AW_5LVL, GiB1, KiB4},
        {SIOV_FLPM_4LVL, SIOV_AW_3LVL, MiB2, GiB1}, {SIOV_FLPM_5LVL, SIOV_AW_4LVL, KiB4, GiB1},
    };
    struct siov_iommu_config cfg = wide_cfg();
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        unsigned fl_levels = cases[i].flpm == SIOV_FLPM_5LVL ? 5 : 4, sl_levels = siov_aw_levels(cases[i].aw);
        uint64_t size = cases[i].fl_size < cases[i].sl_size ? cases[i].fl_size : cases[i].sl_size;
        struct tl *t = sm_new(&cfg);
        uint64_t slpt = tl_page(t), flpt = tl_page(t), pe[8];
        sl_identity(t, slpt, sl_levels);
        uint64_t iova = in_base(fl_levels, true) + offset_in(size);
        tl_map(t, flpt, fl_levels, true, iova, GPA_OUT, cases[i].fl_size, TL_FL_URW, TL_FL_URW);
        tl_map(t, slpt, sl_levels, false, GPA_OUT, out_page(GiB1), cases[i].sl_size, TL_SL_RW, TL_SL_RW);
        tl_pe_nested(pe, (uint16_t)(DID + i), flpt, cases[i].flpm, slpt, cases[i].aw);
        sm_entry(t, pe);
        /* page size is the smaller of the two; permission FL (R/W, ERE=0) AND SL (R/W/X) */
        expect_xlate(t, true, iova, SIOV_ACCESS_WRITE, out_page(GiB1) + offset_in(size), size, RW,
                     (uint16_t)(DID + i));
        assert_int_equal(tl_fault_records(t), 0);
        tl_free(t);
    }
}

/* --------------------------------------------------------- pass-through */
static void test_pass_through(void **state)
{
    (void)state;
    static const uint64_t iovas[] = {0, 0x1234, 0xFFFFF678ull, 0xFEDCBA987654ull, (1ull << 48) - 1};
    struct tl *t = pt_unit();
    for (size_t i = 0; i < sizeof(iovas) / sizeof(iovas[0]); i++)
        expect_xlate(t, true, iovas[i], SIOV_ACCESS_WRITE, iovas[i], KiB4, RWX, DID);
    struct siov_xlate x;
    assert_int_equal(xlate(t, PASID, 1ull << 48, SIOV_ACCESS_READ, &x), SIOV_FAULT_SGN_4); /* beyond HAW */
    tl_free(t);
    /* legacy TT=10 */
    uint64_t slpt;
    t = legacy_new(NULL, SIOV_TT_PASS_THROUGH, SIOV_AW_4LVL, &slpt);
    for (size_t i = 0; i < sizeof(iovas) / sizeof(iovas[0]); i++) {
        assert_int_equal(xlate(t, SIOV_NO_PASID, iovas[i], SIOV_ACCESS_WRITE, &x), SIOV_OK);
        assert_int_equal(x.addr, iovas[i]);
        assert_int_equal(x.page_size, KiB4);
        assert_int_equal(x.perm, RWX);
        assert_int_equal(x.did, DID);
    }
    assert_int_equal(xlate(t, SIOV_NO_PASID, 1ull << 48, SIOV_ACCESS_READ, &x), SIOV_FAULT_LGN_1);
    tl_free(t);
}

/* A PASID no TLP prefix can carry is above the unit's width: SGN.10,
   unrecorded (FRCD.PV cannot hold it); a DMA whose range wraps past 2^64 is
   refused before any translation. */
static void test_pasid_and_range_limits(void **state)
{
    (void)state;
    struct tl *t = pt_unit();
    struct siov_xlate x;
    assert_int_equal(xlate(t, SIOV_PASID_MAX + 1, 0x1000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SGN_10);
    assert_int_equal(xlate(t, 0x80000000u, 0x1000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SGN_10);
    assert_int_equal(tl_fault_records(t), 0);
    assert_int_equal(tl_stats(t).faults, 2);
    uint8_t buf[32];
    memset(buf, 0x5A, sizeof(buf));
    uint64_t before = tl_stats(t).translations;
    assert_int_equal(siov_dma_read(t->iommu, SID, PASID, UINT64_MAX - 15, buf, 32), SIOV_ERR_BUS);
    assert_int_equal(siov_dma_write(t->iommu, SID, PASID, UINT64_MAX - 15, buf, 32), SIOV_ERR_BUS);
    assert_int_equal(tl_stats(t).translations, before); /* refused before translating */
    for (size_t i = 0; i < sizeof(buf); i++)
        assert_int_equal(buf[i], 0x5A);
    /* ending exactly at 2^64 does not wrap: it translates (and faults beyond HAW) */
    assert_int_equal(siov_dma_read(t->iommu, SID, PASID, UINT64_MAX - 15, buf, 16), SIOV_FAULT_SGN_4);
    tl_free(t);
}

/* The front cache answers repeats, grants only what the walk granted, sends a
   write to a clean page to the walk (which sets D), and stops answering once
   any invalidation completes; the IOTLB behind it still answers then. */
static void test_front_cache(void **state)
{
    (void)state;
    uint64_t flpt;
    struct tl *t = paging_unit(true, &flpt);
    uint64_t nonleaf = TL_FL_URW | SIOV_FL_A;
    uint64_t leaf = tl_map(t, flpt, 4, true, 0x7000, 0x123000, KiB4, TL_FL_URW, nonleaf);
    struct siov_xlate x;
    assert_int_equal(xlate(t, PASID, 0x7010, SIOV_ACCESS_READ, &x), SIOV_OK); /* walk, fill */
    struct siov_stats s0 = tl_stats(t);
    for (int i = 0; i < 5; i++) {
        assert_int_equal(xlate(t, PASID, 0x7ABC, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, 0x123ABC);
        assert_int_equal(x.perm, RW);
        assert_int_equal(x.did, DID);
    }
    struct siov_stats s1 = tl_stats(t);
    assert_int_equal(s1.iotlb_hits - s0.iotlb_hits, 5);
    assert_int_equal(s1.translations - s0.translations, 5);
    assert_int_equal(s1.walks, s0.walks);
    /* D is clear: the first write walks and sets it, the next one hits */
    assert_false(tl_r64(t, leaf) & SIOV_FL_D);
    assert_int_equal(xlate(t, PASID, 0x7000, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_true(tl_r64(t, leaf) & SIOV_FL_D);
    struct siov_stats s2 = tl_stats(t);
    assert_int_equal(s2.walks, s1.walks + 1);
    assert_int_equal(xlate(t, PASID, 0x7000, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(tl_stats(t).walks, s2.walks);
    /* a supervisor request with SRE=0 is never answered from the cache */
    assert_int_equal(xlate(t, PASID, 0x7000, SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, &x), SIOV_FAULT_SPT_6);
    /* the table changes without invalidation: the stale answer stays (as on silicon) */
    tl_w64(t, leaf, 0x456000 | TL_FL_URW | SIOV_FL_A | SIOV_FL_D);
    assert_int_equal(xlate(t, PASID, 0x7000, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x123000);
    /* an invalidation of another DID: the front cache lets go, the IOTLB still holds it */
    siov_mmio_write(t->iommu, SIOV_REG_IVA, 0, 8);
    siov_mmio_write(t->iommu, SIOV_REG_IOTLB, SIOV_IOTLB_IVT | siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_DOMAIN) |
                                                  siov_set(0, SIOV_IOTLB_DID, DID + 1), 8);
    assert_false(siov_mmio_read(t->iommu, SIOV_REG_IOTLB, 8) & SIOV_IOTLB_IVT);
    struct siov_stats s3 = tl_stats(t);
    assert_int_equal(xlate(t, PASID, 0x7000, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x123000);
    assert_int_equal(tl_stats(t).walks, s3.walks);
    assert_int_equal(tl_stats(t).iotlb_hits, s3.iotlb_hits + 1);
    /* the right DID: the new mapping */
    siov_mmio_write(t->iommu, SIOV_REG_IOTLB, SIOV_IOTLB_IVT | siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_DOMAIN) |
                                                  siov_set(0, SIOV_IOTLB_DID, DID), 8);
    assert_int_equal(xlate(t, PASID, 0x7000, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x456000);
    tl_free(t);
}

/* An IOTLB hit (the front cache emptied by an invalidation of another DID)
   grants what the walk granted: under SRE=0 nothing to a privileged request,
   under ERE=0 no execute, so those requests walk and fault SPT.6 / SPT.5;
   with SRE=1 and ERE=1 they hit. First level and nested. */
static void test_iotlb_hit_carries_sre_ere(void **state)
{
    (void)state;
    for (int nested = 0; nested < 2; nested++) {
        for (int enabled = 0; enabled < 2; enabled++) {
            struct tl *t = sm_new(NULL);
            uint64_t pe[8], flpt = tl_page(t), slpt = 0;
            if (nested) {
                slpt = tl_page(t); /* the second level maps guest memory 1:1, and the output */
                tl_map(t, slpt, 4, false, 0, 0, GiB1, TL_SL_RWX, TL_SL_RWX);
                tl_map(t, slpt, 4, false, 0x40000000, 0x40000000, GiB1, TL_SL_RWX, TL_SL_RWX);
                tl_pe_nested(pe, DID, flpt, SIOV_FLPM_4LVL, slpt, SIOV_AW_4LVL);
            } else {
                tl_pe_fl(pe, DID, flpt, SIOV_FLPM_4LVL);
            }
            if (enabled)
                pe[2] |= SIOV_PTE2_SRE | SIOV_PTE2_ERE;
            sm_entry(t, pe);
            uint64_t bits = TL_FL_URW | SIOV_FL_A | SIOV_FL_D;
            tl_map(t, flpt, 4, true, 0x7000, 0x40123000, KiB4, bits, TL_FL_URW | SIOV_FL_A);
            struct siov_xlate x;
            assert_int_equal(xlate(t, PASID, 0x7010, SIOV_ACCESS_READ, &x), SIOV_OK); /* walk, fill */
            static const unsigned acc[] = {SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, SIOV_ACCESS_EXEC};
            for (unsigned k = 0; k < 2; k++) {
                siov_mmio_write(t->iommu, SIOV_REG_IOTLB, SIOV_IOTLB_IVT |
                                siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_DOMAIN) | siov_set(0, SIOV_IOTLB_DID, DID + 1), 8);
                struct siov_stats s0 = tl_stats(t);
                siov_fault want = enabled ? SIOV_OK : k ? SIOV_FAULT_SPT_5 : SIOV_FAULT_SPT_6;
                assert_int_equal(xlate(t, PASID, 0x7020, acc[k], &x), want);
                struct siov_stats s1 = tl_stats(t);
                assert_int_equal(s1.walks - s0.walks, enabled ? 0 : 1);
                assert_int_equal(s1.iotlb_hits - s0.iotlb_hits, enabled ? 1 : 0);
                if (enabled)
                    assert_int_equal(x.addr, 0x40123020);
            }
            tl_free(t);
        }
    }
}

/* 0x5000 maps 0x123000 for pasid: a second translation in the page is an
   IOTLB hit with no context- or PASID-cache lookup and no walk. */
static void repeat_is_a_front_hit(struct tl *t, uint32_t pasid)
{
    struct siov_xlate x;
    assert_int_equal(xlate(t, pasid, 0x5010, SIOV_ACCESS_READ, &x), SIOV_OK);
    struct siov_stats s0 = tl_stats(t);
    assert_int_equal(xlate(t, pasid, 0x5020, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x123020);
    struct siov_stats s1 = tl_stats(t);
    assert_int_equal(s1.iotlb_hits - s0.iotlb_hits, 1);
    assert_int_equal(s1.context_cache_hits - s0.context_cache_hits, 0);
    assert_int_equal(s1.pasid_cache_hits - s0.pasid_cache_hits, 0);
    assert_int_equal(s1.walks - s0.walks, 0);
}

/* A repeated legacy-mode translation is a front-cache hit: an IOTLB hit
   with no context-cache lookup (iommu.h's counters), as in scalable mode. */
static void test_legacy_repeat_hits_the_front_cache(void **state)
{
    (void)state;
    uint64_t slpt;
    struct tl *t = legacy_new(NULL, SIOV_TT_SL, SIOV_AW_4LVL, &slpt);
    tl_map(t, slpt, 4, false, 0x5000, 0x123000, KiB4, TL_SL_RW, TL_SL_RW);
    repeat_is_a_front_hit(t, SIOV_NO_PASID);
    tl_free(t);
}

/* The highest PASID is a PASID like any other: its repeated translation is a
   front-cache hit too (no PASID-cache lookup), single or in a batch. */
static void test_highest_pasid_repeat_hits_the_front_cache(void **state)
{
    (void)state;
    struct tl *t = sm_new(NULL);
    uint64_t slpt = tl_page(t), pe[8];
    tl_map(t, slpt, 4, false, 0x5000, 0x123000, KiB4, TL_SL_RW, TL_SL_RW);
    tl_pe_sl(pe, DID, slpt, SIOV_AW_4LVL);
    uint64_t dir = tl_sm_context_default(t, SID, RID_PASID);
    tl_pasid_entry(t, dir, SIOV_PASID_MAX, pe);
    repeat_is_a_front_hit(t, SIOV_PASID_MAX);
    struct siov_stats s1 = tl_stats(t);
    struct siov_xlate_req rq[2] = {{SID, SIOV_PASID_MAX, 0x5030, SIOV_ACCESS_READ},
                                   {SID, SIOV_PASID_MAX, 0x5040, SIOV_ACCESS_READ}};
    struct siov_xlate_res rs[2];
    assert_int_equal(siov_translate_batch(t->iommu, 2, rq, rs), 0); /* and in a batch */
    assert_int_equal(rs[1].fault, SIOV_OK);
    assert_int_equal(rs[1].xlate.addr, 0x123040);
    struct siov_stats s2 = tl_stats(t);
    assert_int_equal(s2.iotlb_hits - s1.iotlb_hits, 2);
    assert_int_equal(s2.pasid_cache_hits - s1.pasid_cache_hits, 0);
    tl_free(t);
}

/* ---------------------------------------------------------- legacy SL */
static void test_legacy_sl(void **state)
{
    (void)state;
    struct siov_iommu_config cfg = wide_cfg();
    for (unsigned aw = SIOV_AW_3LVL; aw <= SIOV_AW_5LVL; aw++) {
        unsigned levels = siov_aw_levels(aw);
        for (size_t s = 0; s < 3; s++) {
            uint64_t slpt;
            struct tl *t = legacy_new(&cfg, SIOV_TT_SL, aw, &slpt);
            uint64_t iova = in_base(levels, false) + offset_in(sizes[s]);
            uint64_t leaf = tl_map(t, slpt, levels, false, iova, out_page(sizes[s]), sizes[s], TL_SL_RW, TL_SL_RW);
            uint64_t word = tl_r64(t, leaf);
            struct siov_xlate x;
            assert_int_equal(xlate(t, SIOV_NO_PASID, iova, SIOV_ACCESS_WRITE, &x), SIOV_OK);
            assert_int_equal(tl_r64(t, leaf), word); /* legacy mode keeps no A/D bits */
            assert_int_equal(x.addr, out_page(sizes[s]) + offset_in(sizes[s]));
            assert_int_equal(x.page_size, sizes[s]);
            assert_int_equal(x.perm, RWX);
            assert_int_equal(x.did, DID);
            assert_int_equal(xlate(t, SIOV_NO_PASID, 1ull << (12 + 9 * levels), 0, &x), SIOV_FAULT_LGN_1);
            tl_check_record(t, 0,
                            TL_REC(SIOV_FAULT_LGN_1, SID, SIOV_NO_PASID, 1ull << (12 + 9 * levels), SIOV_ACCESS_READ));
            tl_free(t);
        }
    }
}

/* A PASID above every width is SGN.10 for translated requests and
   translation requests too; only AT=11 (both) is an unsupported request. */
static void test_pasid_above_width_with_at(void **state)
{
    (void)state;
    struct tl *t = sm_new(NULL);
    struct siov_xlate x;
    const uint32_t p = SIOV_PASID_MAX + 1;
    assert_int_equal(xlate(t, p, 0x5000, SIOV_ACCESS_READ | SIOV_ACCESS_TRANSLATED, &x), SIOV_FAULT_SGN_10);
    assert_int_equal(xlate(t, p, 0x5000, SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ, &x), SIOV_FAULT_SGN_10);
    assert_int_equal(xlate(t, p, 0x5000, SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_TRANSLATED, &x),
                     SIOV_ERR_BUS);
    assert_int_equal(tl_fault_records(t), 0); /* no TLP prefix holds such a PASID: nothing recorded */
    tl_free(t);
}

/* ------------------------------------------------ translation disabled */
static void test_translation_disabled(void **state)
{
    (void)state;
    struct tl *t = tl_new_sized(NULL, MEM_SIZE);
    struct siov_xlate x;
    /* no root table at all: every request passes through */
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0xFEE00000ull, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(x.addr, 0xFEE00000ull);
    assert_int_equal(x.page_size, KiB4);
    assert_int_equal(x.perm, RWX);
    assert_int_equal(x.did, 0);
    assert_int_equal(xlate(t, 0xFFFFF, 0xFFFFFFFFFFFFF123ull, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0xFFFFFFFFFFFFF123ull);
    /* enabled with an empty scalable root table: SRT.2; disabled again: passes */
    tl_enable(t, SIOV_TTM_SCALABLE);
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0x5000, 0, &x), SIOV_FAULT_SRT_2);
    tl_gcmd(t, 0, SIOV_GCMD_TE);
    assert_false(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES);
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0x5000, 0, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x5000);
    assert_int_equal(tl_fault_records(t), 1);
    struct siov_stats st = tl_stats(t);
    assert_int_equal(st.translations, 4);
    assert_int_equal(st.walks, 0);
    assert_int_equal(st.faults, 1);
    /* translation off again: a DMA at the interrupt range goes to guest memory as
       is, which ends far below it */
    uint8_t b[4];
    assert_int_equal(siov_dma_read(t->iommu, SIOV_SID(0, 1, 0), SIOV_NO_PASID, SIOV_INTR_BASE, b, sizeof(b)),
                     SIOV_ERR_BUS);
    /* DMA passes through too */
    uint8_t in[8] = {1, 2, 3, 4, 5, 6, 7, 8}, out[8] = {0};
    assert_int_equal(siov_dma_write(t->iommu, SID, SIOV_NO_PASID, 0xFFC, in, sizeof(in)), SIOV_OK);
    assert_int_equal(siov_mem_read(t->mem, 0xFFC, out, sizeof(out)), 0);
    assert_memory_equal(in, out, sizeof(in));
    tl_free(t);
}

/* ---------------------------------------------- RTADDR modes and errors */
/* A unit (abort_dma, scalable as given) whose RTADDR (a real page, ttm) is latched, TE set. */
static struct tl *unit_ttm(unsigned ttm, bool abort_dma, bool scalable)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.abort_dma = abort_dma;
    cfg.scalable = scalable;
    struct tl *t = tl_new_sized(&cfg, MEM_SIZE);
    uint64_t root = tl_page(t);
    siov_mmio_write(t->iommu, SIOV_REG_RTADDR, siov_set(root, SIOV_RTADDR_TTM, ttm), 8);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_RTADDR, 8), siov_set(root, SIOV_RTADDR_TTM, ttm));
    tl_gcmd(t, SIOV_GCMD_SRTP, 0);
    tl_gcmd(t, SIOV_GCMD_TE, 0);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES);
    return t;
}

static void test_abort_dma_mode(void **state)
{
    (void)state;
    /* with ECAP.ADMS: blocked with RTA.4 (Table 30, "if reported"), nothing recorded */
    struct tl *t = unit_ttm(SIOV_TTM_ABORT, true, true);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_ADMS);
    struct siov_xlate x;
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0x1000, SIOV_ACCESS_READ, &x), SIOV_FAULT_RTA_4);
    assert_int_equal(xlate(t, PASID, 0x2000, SIOV_ACCESS_WRITE, &x), SIOV_FAULT_RTA_4);
    uint8_t buf[16] = {0};
    assert_int_equal(siov_dma_write(t->iommu, SID, SIOV_NO_PASID, 0x3000, buf, sizeof(buf)), SIOV_FAULT_RTA_4);
    assert_int_equal(tl_fault_records(t), 0);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4), 0);
    assert_int_equal(tl_stats(t).faults, 3);
    assert_int_equal(tl_stats(t).faults_recorded, 0);
    tl_free(t);
    /* without ADMS the same TTM is an RTADDR programming error: recorded */
    t = unit_ttm(SIOV_TTM_ABORT, false, true);
    assert_false(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_ADMS);
    assert_int_equal(xlate(t, PASID, 0x1234, SIOV_ACCESS_WRITE, &x), SIOV_FAULT_RTA_1);
    tl_check_record(t, 0, TL_REC(SIOV_FAULT_RTA_1, SID, PASID, 0x1234, SIOV_ACCESS_WRITE));
    assert_int_equal(tl_stats(t).faults_recorded, 1);
    tl_free(t);
}

static void test_rtaddr_errors(void **state)
{
    (void)state;
    static const struct { unsigned ttm; bool abort_dma, scalable; } cases[] = {
        {SIOV_TTM_RESERVED, true, true}, {SIOV_TTM_RESERVED, false, false},
        {SIOV_TTM_SCALABLE, true, false}, /* TTM=01 without SMTS */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct tl *t = unit_ttm(cases[i].ttm, cases[i].abort_dma, cases[i].scalable);
        assert_int_equal(!!(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_SMTS), cases[i].scalable);
        struct siov_xlate x;
        assert_int_equal(xlate(t, SIOV_NO_PASID, 0xABCDE, SIOV_ACCESS_READ, &x), SIOV_FAULT_RTA_1);
        tl_check_record(t, 0, TL_REC(SIOV_FAULT_RTA_1, SID, SIOV_NO_PASID, 0xABCDE, SIOV_ACCESS_READ));
        assert_int_equal(tl_fault_records(t), 1);
        tl_free(t);
    }
    /* legacy mode on a unit without scalable mode works */
    uint64_t slpt;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.scalable = false;
    struct tl *t = legacy_new(&cfg, SIOV_TT_SL, SIOV_AW_4LVL, &slpt);
    tl_map(t, slpt, 4, false, 0x7000, 0x9000, KiB4, TL_SL_RW, TL_SL_RW);
    struct siov_xlate x;
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0x7008, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x9008);
    tl_free(t);
}

/* RTADDR takes effect only when SRTP latches it (spec 10.4.4-10.4.6). */
static void test_rtaddr_latched_on_srtp(void **state)
{
    (void)state;
    struct tl *t = pt_unit();
    struct siov_xlate x;
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0x5000, 0, &x), SIOV_OK);
    assert_int_equal(x.did, DID);
    /* a new (empty) legacy root table written but not latched: still scalable */
    uint64_t other = tl_page(t);
    siov_mmio_write(t->iommu, SIOV_REG_RTADDR, other | 0x3FF, 8); /* bits 9:0 are reserved */
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_RTADDR, 8), other);
    siov_sid sid2 = SIOV_SID(SIOV_SID_BUS(SID), 7, 0); /* same bus, no context entry, never cached */
    assert_int_equal(siov_translate(t->iommu, sid2, SIOV_NO_PASID, 0x5000, 0, &x), SIOV_FAULT_SCT_2);
    /* latched: legacy mode over the empty table */
    tl_gcmd(t, SIOV_GCMD_SRTP, 0);
    siov_sid sid3 = SIOV_SID(SIOV_SID_BUS(SID), 8, 0);
    assert_int_equal(siov_translate(t->iommu, sid3, SIOV_NO_PASID, 0x5000, 0, &x), SIOV_FAULT_LRT_2);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, 0x5000, 0, &x), SIOV_FAULT_RTA_2);
    assert_int_equal(tl_fault_records(t), 3);
    tl_free(t);
}

/* Legacy mode and a request with PASID: RTA.2, even for a device with no context entry. */
static void test_pasid_request_in_legacy_mode(void **state)
{
    (void)state;
    uint64_t slpt;
    struct tl *t = legacy_new(NULL, SIOV_TT_SL, SIOV_AW_4LVL, &slpt);
    tl_map(t, slpt, 4, false, 0x7000, 0x9000, KiB4, TL_SL_RW, TL_SL_RW);
    struct siov_xlate x;
    assert_int_equal(xlate(t, 0x12345, 0x7008, SIOV_ACCESS_WRITE, &x), SIOV_FAULT_RTA_2);
    tl_check_record(t, 0, TL_REC(SIOV_FAULT_RTA_2, SID, 0x12345, 0x7008, SIOV_ACCESS_WRITE));
    assert_int_equal(xlate(t, 0, 0x7008, SIOV_ACCESS_READ, &x), SIOV_FAULT_RTA_2);
    tl_check_record(t, 1, TL_REC(SIOV_FAULT_RTA_2, SID, 0, 0x7008, SIOV_ACCESS_READ));
    assert_int_equal(siov_translate(t->iommu, SIOV_SID(9, 9, 1), 5, 0x7008, 0, &x), SIOV_FAULT_RTA_2);
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0x7008, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x9008);
    assert_int_equal(tl_fault_records(t), 3);
    tl_free(t);
}

/* ------------------------------------------------------ interrupt range */
/* Outputs in 0xFEE00000-0xFEEFFFFF are blocked: SGN.8 scalable, LGN.4 legacy. */
struct intr_case {
    uint64_t out;   /* the page's output address */
    uint64_t size;
    siov_fault want;
};
static const struct intr_case intr_cases[] = {
    {0xFEE00000ull, KiB4, SIOV_FAULT_SGN_8}, {0xFEEFF000ull, KiB4, SIOV_FAULT_SGN_8},
    {0xFEE80000ull, KiB4, SIOV_FAULT_SGN_8}, {0xFEDFF000ull, KiB4, SIOV_OK},
    {0xFEF00000ull, KiB4, SIOV_OK},          {0xFEE00000ull, MiB2, SIOV_FAULT_SGN_8},
};

static void test_interrupt_range(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(intr_cases) / sizeof(intr_cases[0]); i++) {
        const struct intr_case *c = &intr_cases[i];
        uint64_t iova = 0x40000000ull + (c->size == KiB4 ? 0xFFF : 0xFFFFF);
        for (int kind = 0; kind < 3; kind++) { /* scalable SL, scalable FL, legacy SL */
            uint64_t root;
            struct tl *t = kind == 2 ? legacy_new(NULL, SIOV_TT_SL, SIOV_AW_4LVL, &root)
                                     : paging_unit(kind == 1, &root);
            tl_map(t, root, 4, kind == 1, iova, c->out, c->size, kind == 1 ? TL_FL_URW : TL_SL_RW,
                   kind == 1 ? TL_FL_URW : TL_SL_RW);
            siov_fault want = c->want && kind == 2 ? SIOV_FAULT_LGN_4 : c->want;
            uint32_t pasid = kind == 2 ? SIOV_NO_PASID : PASID;
            struct siov_xlate x;
            siov_fault f = xlate(t, pasid, iova, SIOV_ACCESS_WRITE, &x);
            if (f != want)
                fail_msg("out 0x%llx kind %d: got %s want %s", (unsigned long long)c->out, kind, siov_fault_name(f),
                         siov_fault_name(want));
            if (want)
                tl_check_record(t, 0, TL_REC(want, SID, pasid, iova, SIOV_ACCESS_WRITE));
            else
                assert_int_equal(x.addr, c->out + (iova & (c->size - 1)));
            tl_free(t);
        }
    }
}

/* Pass-through of an interrupt address: blocked too. */
static void test_interrupt_range_pass_through(void **state)
{
    (void)state;
    struct tl *t = pt_unit();
    struct siov_xlate x;
    assert_int_equal(xlate(t, PASID, 0xFEE01234ull, SIOV_ACCESS_WRITE, &x), SIOV_FAULT_SGN_8);
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0xFEEFFFFFull, SIOV_ACCESS_READ, &x), SIOV_FAULT_SGN_8);
    assert_int_equal(xlate(t, PASID, 0xFEDFFFFFull, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(xlate(t, PASID, 0xFEF00000ull, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(tl_fault_records(t), 2);
    tl_free(t);
    uint64_t slpt;
    t = legacy_new(NULL, SIOV_TT_PASS_THROUGH, SIOV_AW_4LVL, &slpt);
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0xFEE00000ull, SIOV_ACCESS_WRITE, &x), SIOV_FAULT_LGN_4);
    tl_check_record(t, 0, TL_REC(SIOV_FAULT_LGN_4, SID, SIOV_NO_PASID, 0xFEE00000ull, SIOV_ACCESS_WRITE));
    tl_free(t);
}

/* -------------------------------------------------- translated requests */
/* With DTE=1 (TT=01 legacy) a translated request's address is already host-physical. */
static void test_translated_requests(void **state)
{
    (void)state;
    uint64_t slpt;
    struct tl *t = paging_unit(false, &slpt); /* nothing mapped */
    struct siov_xlate x;
    unsigned tr = SIOV_ACCESS_TRANSLATED;
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0x123456789ull, tr | SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x123456789ull);
    assert_int_equal(x.page_size, KiB4);
    assert_int_equal(x.perm, RWX);
    assert_int_equal(x.did, 0); /* only the context entry is read: no domain */
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0x5000, tr | SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x5000);
    assert_int_equal(tl_stats(t).walks, 0);
    assert_int_equal(tl_stats(t).translated_requests, 2);
    /* with a PASID: SCT.10 (no EPTR), recorded with AT=10 */
    assert_int_equal(xlate(t, PASID, 0x123456789ull, tr | SIOV_ACCESS_WRITE, &x), SIOV_FAULT_SCT_10);
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 1);
    assert_int_equal(r.reason, SIOV_FAULT_SCT_10);
    assert_int_equal(r.access, SIOV_ACCESS_WRITE | SIOV_ACCESS_TRANSLATED);
    assert_int_equal(r.pasid, PASID);
    /* an untranslated request to the same address walks and faults */
    assert_int_equal(xlate(t, PASID, 0x5000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SSL_2);
    /* an ATS translation request is translated like an untranslated one */
    tl_map(t, slpt, 4, false, 0x8000, 0xA000, KiB4, TL_SL_RW, TL_SL_RW);
    assert_int_equal(xlate(t, PASID, 0x8010, SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0xA010);
    tl_free(t);
    /* legacy TT=01 */
    t = legacy_new(NULL, SIOV_TT_SL_DT, SIOV_AW_4LVL, &slpt);
    assert_int_equal(xlate(t, SIOV_NO_PASID, 0x1234000ull, tr | SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x1234000ull);
    assert_int_equal(x.did, DID); /* the legacy context entry names it */
    tl_free(t);
}

/* ------------------------------------------------------------------ DMA */
#define DMA_IOVA 0x40000800ull /* 0x800 into its first page */
#define DMA_LEN 0x2400ull      /* 0x800 + 0x1000 + 0xC00: three pages */
/* The three pages go to scattered, descending physical pages. */
static const uint64_t dma_pa[3] = {DATA_BASE + 0x9000, DATA_BASE + 0x5000, DATA_BASE + 0x1000};

/* A unit with the three DMA pages mapped (skip: a page left unmapped, or -1)
   by an SL (first_level false) or FL table; pa overrides dma_pa if not NULL. */
static struct tl *dma_unit(bool first_level, int skip, const uint64_t *pa)
{
    uint64_t root;
    struct tl *t = paging_unit(first_level, &root);
    for (int i = 0; i < 3; i++) {
        if (i == skip)
            continue;
        tl_map(t, root, 4, first_level, (DMA_IOVA & ~0xFFFull) + KiB4 * (uint64_t)i, (pa ? pa : dma_pa)[i], KiB4,
               first_level ? TL_FL_URW : TL_SL_RW, first_level ? TL_FL_URW : TL_SL_RW);
    }
    return t;
}

static uint8_t pattern(size_t i)
{
    return (uint8_t)(i * 7 + 3);
}

/* Where byte i of the DMA buffer lives in guest memory. */
static uint64_t dma_byte_gpa(size_t i)
{
    uint64_t iova = DMA_IOVA + i;
    return dma_pa[(iova >> 12) - (DMA_IOVA >> 12)] + (iova & 0xFFF);
}

static void test_dma_scattered(void **state)
{
    (void)state;
    for (int fl = 0; fl < 2; fl++) {
        struct tl *t = dma_unit(fl, -1, NULL);
        uint8_t *src = malloc(DMA_LEN), *dst = malloc(DMA_LEN);
        assert_non_null(src);
        assert_non_null(dst);
        for (size_t i = 0; i < DMA_LEN; i++)
            src[i] = pattern(i);
        assert_int_equal(siov_dma_write(t->iommu, SID, PASID, DMA_IOVA, src, DMA_LEN), SIOV_OK);
        const uint8_t *mem = siov_mem_flat_ptr(t->mem);
        for (size_t i = 0; i < DMA_LEN; i++)
            if (mem[dma_byte_gpa(i)] != pattern(i))
                fail_msg("byte %zu at 0x%llx", i, (unsigned long long)dma_byte_gpa(i));
        /* nothing around the three pieces */
        assert_int_equal(mem[dma_pa[0] + 0x7FF], 0);
        assert_int_equal(mem[dma_pa[1] - 1], 0);
        assert_int_equal(mem[dma_pa[1] + 0x1000], 0);
        assert_int_equal(mem[dma_pa[2] + 0xC00], 0);
        memset(dst, 0, DMA_LEN);
        assert_int_equal(siov_dma_read(t->iommu, SID, SIOV_NO_PASID, DMA_IOVA, dst, DMA_LEN), SIOV_OK);
        assert_memory_equal(src, dst, DMA_LEN);
        /* from an odd address, the last byte of a page and the first of the next */
        const uint8_t two[2] = {0xA1, 0xB2};
        uint64_t odd = DMA_IOVA | 0xFFF;
        assert_int_equal(siov_dma_write(t->iommu, SID, PASID, odd, two, 2), SIOV_OK);
        assert_int_equal(mem[dma_pa[0] + 0xFFF], 0xA1);
        assert_int_equal(mem[dma_pa[1]], 0xB2);
        assert_int_equal(tl_fault_records(t), 0);
        free(src);
        free(dst);
        tl_free(t);
    }
}

/* The middle page unmapped: the bytes before it move, none after, the fault is returned and recorded. */
static void test_dma_fault_midway(void **state)
{
    (void)state;
    for (int fl = 0; fl < 2; fl++) {
        siov_fault want = fl ? SIOV_FAULT_SFL_2 : SIOV_FAULT_SSL_2;
        struct tl *t = dma_unit(fl, 1, NULL);
        uint8_t src[DMA_LEN], dst[DMA_LEN];
        for (size_t i = 0; i < DMA_LEN; i++)
            src[i] = pattern(i);
        assert_int_equal(siov_dma_write(t->iommu, SID, PASID, DMA_IOVA, src, DMA_LEN), want);
        tl_check_record(t, 0, TL_REC(want, SID, PASID, DMA_IOVA + 0x800, SIOV_ACCESS_WRITE));
        const uint8_t *mem = siov_mem_flat_ptr(t->mem);
        for (size_t i = 0; i < 0x800; i++)
            assert_int_equal(mem[dma_byte_gpa(i)], pattern(i));
        for (size_t i = 0x800; i < DMA_LEN; i++)
            assert_int_equal(mem[dma_byte_gpa(i)], 0);
        /* a read stops the same way: the first 0x800 bytes arrive, the rest stay */
        memset(dst, 0xEE, sizeof(dst));
        assert_int_equal(siov_dma_read(t->iommu, SID, SIOV_NO_PASID, DMA_IOVA, dst, DMA_LEN), want);
        assert_memory_equal(dst, src, 0x800);
        for (size_t i = 0x800; i < DMA_LEN; i++)
            assert_int_equal(dst[i], 0xEE);
        tl_check_record(t, 1, TL_REC(want, SID, SIOV_NO_PASID, DMA_IOVA + 0x800, SIOV_ACCESS_READ));
        tl_free(t);
    }
}

/* A translation to an address guest memory does not back: SIOV_ERR_BUS, not recorded. */
static void test_dma_bus_error(void **state)
{
    (void)state;
    const uint64_t pa[3] = {dma_pa[0], MEM_SIZE, 1ull << 40};
    struct tl *t = dma_unit(false, -1, pa);
    uint8_t buf[DMA_LEN];
    for (size_t i = 0; i < DMA_LEN; i++)
        buf[i] = pattern(i);
    assert_int_equal(siov_dma_write(t->iommu, SID, PASID, DMA_IOVA, buf, DMA_LEN), SIOV_ERR_BUS);
    const uint8_t *mem = siov_mem_flat_ptr(t->mem);
    for (size_t i = 0; i < 0x800; i++)
        assert_int_equal(mem[dma_byte_gpa(i)], pattern(i)); /* the first page was written */
    assert_int_equal(siov_dma_read(t->iommu, SID, PASID, DMA_IOVA + 0x1000, buf, 16), SIOV_ERR_BUS);
    /* the second page translates to the first address past guest memory */
    struct siov_xlate x;
    assert_int_equal(xlate(t, PASID, DMA_IOVA + 0x800, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, MEM_SIZE);
    assert_int_equal(tl_fault_records(t), 0);
    assert_int_equal(tl_stats(t).faults, 0);
    tl_free(t);
    /* translation disabled: the last bytes of memory are fine; one more is not */
    t = tl_new_sized(NULL, MEM_SIZE);
    assert_int_equal(siov_dma_read(t->iommu, SID, SIOV_NO_PASID, MEM_SIZE - 8, buf, 8), SIOV_OK);
    assert_int_equal(siov_dma_read(t->iommu, SID, SIOV_NO_PASID, MEM_SIZE - 8, buf, 9), SIOV_ERR_BUS);
    tl_free(t);
}

/* ---------------------------------------------------------------- stats */
static void test_stats(void **state)
{
    (void)state;
    struct tl *t = dma_unit(false, 1, NULL);
    struct siov_stats s0 = tl_stats(t);
    assert_int_equal(s0.translations, 0);
    assert_int_equal(s0.walks, 0);
    assert_int_equal(s0.faults, 0);
    struct siov_xlate x;
    assert_int_equal(xlate(t, PASID, DMA_IOVA, SIOV_ACCESS_READ, &x), SIOV_OK);
    struct siov_stats s = tl_stats(t);
    assert_int_equal(s.translations, 1);
    assert_int_equal(s.walks, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(xlate(t, PASID, DMA_IOVA + 8 * (uint64_t)i, SIOV_ACCESS_READ, &x), SIOV_OK);
    s = tl_stats(t);
    assert_int_equal(s.translations, 5);
    assert_int_equal(s.walks + s.iotlb_hits, 5); /* each one either walked or hit */
    assert_true(s.walks >= 1);
    assert_int_equal(s.faults, 0);
    /* a fault: counted and recorded */
    assert_int_equal(xlate(t, PASID, DMA_IOVA + 0x1000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SSL_2);
    s = tl_stats(t);
    assert_int_equal(s.translations, 6);
    assert_int_equal(s.walks + s.iotlb_hits, 6);
    assert_int_equal(s.faults, 1);
    assert_int_equal(s.faults_recorded, 1);
    /* a DMA of two pages: the first translates, the second faults */
    uint8_t buf[0x2000];
    assert_int_equal(siov_dma_read(t->iommu, SID, PASID, 0x40002000ull, buf, sizeof(buf)), SIOV_FAULT_SSL_2);
    s = tl_stats(t);
    assert_int_equal(s.translations, 8);
    assert_int_equal(s.faults, 2);
    tl_free(t);
}

/* -------------------------------------------------------- NULL arguments */
static void test_null_arguments(void **state)
{
    (void)state;
    struct tl *t = dma_unit(false, -1, NULL);
    struct siov_xlate x;
    uint8_t buf[16];
    assert_int_equal(siov_translate(NULL, SID, PASID, DMA_IOVA, SIOV_ACCESS_READ, &x), SIOV_FAULT_RTA_1);
    assert_int_equal(siov_translate(t->iommu, SID, PASID, DMA_IOVA, SIOV_ACCESS_READ, NULL), SIOV_FAULT_RTA_1);
    assert_int_equal(siov_dma_read(NULL, SID, PASID, DMA_IOVA, buf, sizeof(buf)), SIOV_FAULT_RTA_1);
    assert_int_equal(siov_dma_write(NULL, SID, PASID, DMA_IOVA, buf, sizeof(buf)), SIOV_FAULT_RTA_1);
    assert_int_equal(siov_dma_read(t->iommu, SID, PASID, DMA_IOVA, NULL, 16), SIOV_ERR_BUS);
    assert_int_equal(siov_dma_write(t->iommu, SID, PASID, DMA_IOVA, NULL, 16), SIOV_ERR_BUS);
    assert_int_equal(siov_dma_read(t->iommu, SID, PASID, DMA_IOVA, NULL, 0), SIOV_OK);
    assert_int_equal(siov_dma_write(t->iommu, SID, PASID, 0xDEAD000, buf, 0), SIOV_OK); /* nothing to move */
    assert_int_equal(tl_fault_records(t), 0);
    struct siov_stats s;
    memset(&s, 0xFF, sizeof(s));
    siov_iommu_stats(NULL, &s);
    assert_int_equal(s.translations, 0);
    assert_int_equal(s.faults, 0);
    siov_iommu_stats(t->iommu, NULL);
    assert_int_equal(tl_stats(t).translations, 0); /* nothing above counted as a translation */
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(NULL, 0, &r), -EINVAL);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, NULL), -EINVAL);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 8, &r), -EINVAL); /* default: 8 records */
    assert_int_equal(siov_iommu_fault_record(t->iommu, 7, &r), 0);
    assert_null(siov_iommu_new(NULL, NULL));
    tl_free(t);
}

/* ------------------------------------------------ the callback backend */
struct cbmem {
    uint8_t *buf;
    uint64_t size;
    unsigned long reads, writes;
};

static int cb_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct cbmem *m = opaque;
    if (len > m->size || gpa > m->size - len)
        return -EFAULT;
    memcpy(dst, m->buf + gpa, len);
    m->reads++;
    return 0;
}

static int cb_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct cbmem *m = opaque;
    if (len > m->size || gpa > m->size - len)
        return -EFAULT;
    memcpy(m->buf + gpa, src, len);
    m->writes++;
    return 0;
}

static const struct siov_mem_ops cb_ops = {.read = cb_read, .write = cb_write};

/* A struct tl over the embedder's memory m (tl_free releases all but m->buf). */
static struct tl *callback_unit(struct cbmem *m)
{
    struct tl *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    m->size = MEM_SIZE;
    m->buf = calloc(1, MEM_SIZE);
    assert_non_null(m->buf);
    t->mem = siov_mem_new(&cb_ops, m);
    assert_non_null(t->mem);
    assert_int_equal(siov_mem_size(t->mem), UINT64_MAX);
    assert_null(siov_mem_flat_ptr(t->mem));
    t->iommu = siov_iommu_new(t->mem, NULL);
    assert_non_null(t->iommu);
    t->next_page = TL_POOL_BASE;
    return t;
}

/* What the scenario observed. */
struct scenario_out {
    siov_fault f[6];
    struct siov_xlate x[6];
    uint64_t fl_leaf;      /* the FL leaf after a write: A/D written back */
    uint8_t data[DMA_LEN]; /* DMA read back */
    struct siov_fault_record rec;
};

/* SL, FL and nested entries for PASIDs PASID..PASID+2, their requests, a
   fault, and a DMA round trip over the SL mapping. */
static void scenario(struct tl *t, struct scenario_out *o)
{
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t dir = tl_sm_context_default(t, SID, RID_PASID);
    uint64_t sl = tl_page(t), fl = tl_page(t), nsl = tl_page(t), nfl = tl_page(t), pe[8];
    for (int i = 0; i < 3; i++)
        tl_map(t, sl, 4, false, (DMA_IOVA & ~0xFFFull) + KiB4 * (uint64_t)i, dma_pa[i], KiB4, TL_SL_RW, TL_SL_RW);
    tl_pe_sl(pe, DID, sl, SIOV_AW_4LVL);
    tl_pasid_entry(t, dir, PASID, pe);
    tl_pasid_entry(t, dir, RID_PASID, pe);
    uint64_t leaf = tl_map(t, fl, 4, true, 0x7F0000200000ull, 0x3000000ull, MiB2, TL_FL_URW, TL_FL_URW);
    tl_pe_fl(pe, DID + 1, fl, SIOV_FLPM_4LVL);
    tl_pasid_entry(t, dir, PASID + 1, pe);
    sl_identity(t, nsl, 4);
    tl_map(t, nfl, 4, true, 0x9000, GPA_OUT, KiB4, TL_FL_URW, TL_FL_URW);
    tl_map(t, nsl, 4, false, GPA_OUT, 0x2345000ull, KiB4, TL_SL_RW, TL_SL_RW);
    tl_pe_nested(pe, DID + 2, nfl, SIOV_FLPM_4LVL, nsl, SIOV_AW_4LVL);
    tl_pasid_entry(t, dir, PASID + 2, pe);
    o->f[0] = xlate(t, PASID, DMA_IOVA, SIOV_ACCESS_READ, &o->x[0]);
    o->f[1] = xlate(t, PASID + 1, 0x7F0000234567ull, SIOV_ACCESS_WRITE, &o->x[1]);
    o->f[2] = xlate(t, PASID + 2, 0x9ABC, SIOV_ACCESS_WRITE, &o->x[2]);
    o->f[3] = xlate(t, SIOV_NO_PASID, DMA_IOVA + 0x3000, SIOV_ACCESS_READ, &o->x[3]);
    o->f[4] = xlate(t, PASID + 3, 0, SIOV_ACCESS_READ, &o->x[4]);
    o->fl_leaf = tl_r64(t, leaf);
    uint8_t src[DMA_LEN];
    for (size_t i = 0; i < DMA_LEN; i++)
        src[i] = pattern(i);
    o->f[5] = siov_dma_write(t->iommu, SID, PASID, DMA_IOVA, src, DMA_LEN);
    assert_int_equal(siov_dma_read(t->iommu, SID, PASID, DMA_IOVA, o->data, DMA_LEN), SIOV_OK);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &o->rec), 1);
}

static void test_callback_backend(void **state)
{
    (void)state;
    static struct scenario_out flat, cb;
    memset(&flat, 0, sizeof(flat));
    memset(&cb, 0, sizeof(cb));
    struct tl *t = tl_new_sized(NULL, MEM_SIZE);
    scenario(t, &flat);
    tl_free(t);
    struct cbmem m = {0};
    t = callback_unit(&m);
    unsigned long r0 = m.reads, w0 = m.writes;
    scenario(t, &cb);
    assert_true(m.reads > r0 + 20); /* the model read its tables through the callbacks */
    assert_true(m.writes > w0);
    /* the bytes landed in the embedder's buffer where the tables say */
    for (size_t i = 0; i < DMA_LEN; i++)
        assert_int_equal(m.buf[dma_byte_gpa(i)], pattern(i));
    tl_free(t);
    free(m.buf);
    /* the flat results are the expected ones... */
    static const siov_fault want[6] = {SIOV_OK, SIOV_OK, SIOV_OK, SIOV_FAULT_SSL_2, SIOV_FAULT_SPT_2, SIOV_OK};
    for (int i = 0; i < 6; i++)
        assert_int_equal(flat.f[i], want[i]);
    assert_int_equal(flat.x[0].addr, dma_pa[0] + 0x800);
    assert_int_equal(flat.x[1].addr, 0x3034567ull);
    assert_int_equal(flat.x[1].page_size, MiB2);
    assert_int_equal(flat.x[1].did, DID + 1);
    assert_int_equal(flat.x[2].addr, 0x2345ABCull);
    assert_int_equal(flat.x[2].did, DID + 2);
    assert_int_equal(flat.fl_leaf & (SIOV_FL_A | SIOV_FL_D), SIOV_FL_A | SIOV_FL_D);
    for (size_t i = 0; i < DMA_LEN; i++)
        assert_int_equal(flat.data[i], pattern(i));
    assert_int_equal(flat.rec.reason, SIOV_FAULT_SSL_2);
    /* ...and the callback backend gives the same */
    for (int i = 0; i < 6; i++) {
        assert_int_equal(cb.f[i], flat.f[i]);
        assert_int_equal(cb.x[i].addr, flat.x[i].addr);
        assert_int_equal(cb.x[i].page_size, flat.x[i].page_size);
        assert_int_equal(cb.x[i].perm, flat.x[i].perm);
        assert_int_equal(cb.x[i].did, flat.x[i].did);
    }
    assert_int_equal(cb.fl_leaf, flat.fl_leaf);
    assert_memory_equal(cb.data, flat.data, DMA_LEN);
    assert_int_equal(cb.rec.reason, flat.rec.reason);
    assert_int_equal(cb.rec.addr, flat.rec.addr);
}

/* The embedder's compare-and-exchange, counted. */
static unsigned long cb_cas_calls;
static int cb_cmpxchg(void *opaque, uint64_t gpa, uint64_t *expected, uint64_t desired)
{
    struct cbmem *m = opaque;
    if (gpa > m->size - 8)
        return -EFAULT;
    uint64_t cur;
    memcpy(&cur, m->buf + gpa, 8);
    cb_cas_calls++;
    if (cur != *expected) {
        *expected = cur;
        return 1;
    }
    memcpy(m->buf + gpa, &desired, 8);
    return 0;
}

/* A/D updates go through the embedder's cmpxchg64 when it has one, and only
   through it: no plain write of a paging entry. */
static void test_callback_cmpxchg_for_ad(void **state)
{
    (void)state;
    static struct scenario_out out;
    static const struct siov_mem_ops ops = {.read = cb_read, .write = cb_write, .cmpxchg64 = cb_cmpxchg};
    struct cbmem m = {.size = MEM_SIZE, .buf = calloc(1, MEM_SIZE)};
    struct tl *t = calloc(1, sizeof(*t));
    t->mem = siov_mem_new(&ops, &m);
    t->iommu = siov_iommu_new(t->mem, NULL);
    t->next_page = TL_POOL_BASE;
    cb_cas_calls = 0;
    scenario(t, &out);
    assert_int_equal(out.f[1], SIOV_OK);
    assert_int_equal(out.fl_leaf & (SIOV_FL_A | SIOV_FL_D), SIOV_FL_A | SIOV_FL_D);
    /* FL: A in 4 entries, D in the leaf; nested and SL: A/D of their walks */
    assert_true(cb_cas_calls >= 5);
    tl_free(t);
    free(m.buf);
}

/* Memory that also backs a window around the interrupt range, so a DMA
   that is not stopped there would land. */
#define WIN_BASE 0xFEC00000ull
#define WIN_SIZE (4ull << 20)
/* A unit (translation off) over memory m, made here: low memory and the window. */
static struct tl *sparse_unit(struct tl_pieces *m)
{
    *m = (struct tl_pieces){{0, WIN_BASE}, {MEM_SIZE, WIN_SIZE}, {NULL, NULL}};
    struct tl *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->mem = tl_pieces_mem(m);
    t->iommu = siov_iommu_new(t->mem, NULL);
    assert_non_null(t->iommu);
    t->next_page = TL_POOL_BASE;
    return t;
}

/* A DMA through a 1 GiB page that covers the interrupt range: each request
   is checked (a PCIe request never crosses 4 KiB), so the transfer stops at
   0xFEE00000 with SGN.8 and nothing lands there. */
static void test_dma_into_interrupt_range(void **state)
{
    (void)state;
    for (int write = 0; write < 2; write++) {
        struct tl_pieces m;
        struct tl *t = sparse_unit(&m);
        tl_enable(t, SIOV_TTM_SCALABLE);
        uint64_t slpt = tl_page(t), pe[8];
        tl_map(t, slpt, 4, false, GiB1, 0xC0000000ull, GiB1, TL_SL_RW, TL_SL_RW);
        tl_pe_sl(pe, DID, slpt, SIOV_AW_4LVL);
        sm_entry(t, pe);
        uint64_t iova = GiB1 + (0xFEDFF000ull - 0xC0000000ull); /* -> 0xFEDFF000 */
        uint8_t buf[0x2000];
        for (size_t i = 0; i < sizeof(buf); i++)
            buf[i] = pattern(i);
        if (!write) /* the bytes a read would fetch */
            memcpy(m.buf[1] + (0xFEDFF000ull - WIN_BASE), buf, sizeof(buf));
        uint8_t got[0x2000];
        memset(got, 0, sizeof(got));
        siov_fault f = write ? siov_dma_write(t->iommu, SID, PASID, iova, buf, sizeof(buf))
                             : siov_dma_read(t->iommu, SID, PASID, iova, got, sizeof(got));
        assert_int_equal(f, SIOV_FAULT_SGN_8);
        unsigned access = write ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ;
        tl_check_record(t, 0, TL_REC(SIOV_FAULT_SGN_8, SID, PASID, iova + 0x1000, access));
        const uint8_t *intr = m.buf[1] + (SIOV_INTR_BASE - WIN_BASE);
        if (write) {
            assert_memory_equal(m.buf[1] + (0xFEDFF000ull - WIN_BASE), buf, 0x1000);
            for (size_t i = 0; i < 0x1000; i++)
                assert_int_equal(intr[i], 0);
        } else {
            assert_memory_equal(got, buf, 0x1000);
            for (size_t i = 0x1000; i < sizeof(got); i++)
                assert_int_equal(got[i], 0);
        }
        tl_free(t);
        tl_pieces_free(&m);
    }
}

/* Translation off: a DMA at the interrupt range's first byte is not checked
   (test_translation_disabled) and lands as at any address, in
   one piece; the cut a translated DMA makes before 0xFEE00000 does not apply. */
static void test_dma_at_interrupt_range_with_translation_off(void **state)
{
    (void)state;
    struct tl_pieces m;
    struct tl *t = sparse_unit(&m);
    uint8_t *intr = m.buf[1] + (SIOV_INTR_BASE - WIN_BASE);
    for (unsigned i = 0; i < 8; i++)
        intr[i] = (uint8_t)(0xA0 + i);
    uint8_t got[8] = {0}, in[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    assert_int_equal(siov_dma_read(t->iommu, SID, SIOV_NO_PASID, SIOV_INTR_BASE, got, sizeof(got)), SIOV_OK);
    assert_memory_equal(got, intr, sizeof(got));
    assert_int_equal(siov_dma_write(t->iommu, SID, SIOV_NO_PASID, SIOV_INTR_BASE - 4, in, sizeof(in)), SIOV_OK);
    assert_memory_equal(intr - 4, in, sizeof(in));
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
    tl_pieces_free(&m);
}

/* ------------------------------------------------ injected memory faults */
/* Where an access fails. */
enum fail_at {
    AT_ROOT, AT_CTX, AT_CTX_QW3, AT_PDE, AT_PE_QW5, AT_SL_TOP, AT_SL_LOWER, AT_FL_TOP, AT_FL_LOWER,
    AT_FL_LEAF_WRITE, AT_SL_LEAF_WRITE, AT_DATA_READ, AT_DATA_WRITE,
};

struct fail_case {
    const char *name;
    bool legacy, first_level;
    enum fail_at at;
    siov_fault want;     /* of a write request (AT_DATA_*: of the DMA) */
};

static const struct fail_case fail_cases[] = {
    {"scalable root entry", false, false, AT_ROOT, SIOV_FAULT_SRT_1},
    {"legacy root entry", true, false, AT_ROOT, SIOV_FAULT_LRT_1},
    {"scalable context entry", false, false, AT_CTX, SIOV_FAULT_SCT_1},
    {"scalable context entry qw3", false, false, AT_CTX_QW3, SIOV_FAULT_SCT_1},
    {"legacy context entry", true, false, AT_CTX, SIOV_FAULT_LCT_1},
    {"PASID directory entry", false, false, AT_PDE, SIOV_FAULT_SPD_1},
    {"PASID entry qw5", false, true, AT_PE_QW5, SIOV_FAULT_SPT_1},
    {"SL top table", false, false, AT_SL_TOP, SIOV_FAULT_SSL_4},
    {"SL lower table", false, false, AT_SL_LOWER, SIOV_FAULT_SSL_1},
    {"legacy SL top table", true, false, AT_SL_TOP, SIOV_FAULT_LCT_4}, /* spec-notes: LCT.4.3 */
    {"legacy SL lower table", true, false, AT_SL_LOWER, SIOV_FAULT_LSL_1},
    {"FL top table", false, true, AT_FL_TOP, SIOV_FAULT_SFL_4},
    {"FL lower table", false, true, AT_FL_LOWER, SIOV_FAULT_SFL_1},
    {"FL A/D write", false, true, AT_FL_LEAF_WRITE, SIOV_FAULT_SFL_10},
    {"SL A/D write (SLADE)", false, false, AT_SL_LEAF_WRITE, SIOV_FAULT_SSL_6},
    {"DMA data read", false, false, AT_DATA_READ, SIOV_ERR_BUS},
    {"DMA data write", false, true, AT_DATA_WRITE, SIOV_ERR_BUS},
};

#define FAIL_IOVA 0x40001234ull
#define FAIL_PA (DATA_BASE + 0x4000)

static void run_fail_case(const struct fail_case *c)
{
    uint64_t root, pe[8], pe_gpa = 0, pde_gpa = 0, ctx_gpa;
    struct tl *t;
    if (c->legacy) {
        t = legacy_new(NULL, SIOV_TT_SL, SIOV_AW_4LVL, &root);
        ctx_gpa = tl_r64(t, t->root + SIOV_SID_BUS(SID) * 16) & SIOV_ADDR_4K;
        ctx_gpa += SIOV_SID_DEVFN(SID) * 16;
    } else {
        t = sm_new(NULL);
        root = tl_page(t);
        if (c->first_level)
            tl_pe_fl(pe, DID, root, SIOV_FLPM_4LVL);
        else
            tl_pe_sl(pe, DID, root, SIOV_AW_4LVL);
        if (c->at == AT_SL_LEAF_WRITE)
            pe[0] |= SIOV_PTE0_SLADE;
        uint64_t dir = tl_sm_context_default(t, SID, RID_PASID);
        pe_gpa = tl_pasid_entry(t, dir, PASID, pe);
        pde_gpa = dir + (PASID >> 6) * 8;
        ctx_gpa = (tl_r64(t, t->root + SIOV_SID_BUS(SID) * 16) & SIOV_ADDR_4K) + SIOV_SID_DEVFN(SID) * 32;
    }
    uint64_t leaf = tl_map(t, root, 4, c->first_level, FAIL_IOVA, FAIL_PA, KiB4,
                           c->first_level ? TL_FL_URW : TL_SL_RW, c->first_level ? TL_FL_URW : TL_SL_RW);
    uint64_t gpa = 0, len = 8;
    unsigned which = SIOV_MEM_FAIL_READ;
    switch (c->at) {
    case AT_ROOT: gpa = t->root + SIOV_SID_BUS(SID) * 16; len = 16; break;
    case AT_CTX: gpa = ctx_gpa; break;
    case AT_CTX_QW3: gpa = ctx_gpa + 24; break;
    case AT_PDE: gpa = pde_gpa; break;
    case AT_PE_QW5: gpa = pe_gpa + 40; break;
    case AT_SL_TOP: case AT_FL_TOP: gpa = root; len = KiB4; break;
    case AT_SL_LOWER: case AT_FL_LOWER: gpa = leaf & ~0xFFFull; len = KiB4; break;
    case AT_FL_LEAF_WRITE: case AT_SL_LEAF_WRITE: gpa = leaf; which = SIOV_MEM_FAIL_WRITE; break;
    case AT_DATA_READ: gpa = FAIL_PA; len = KiB4; break;
    case AT_DATA_WRITE: gpa = FAIL_PA; len = KiB4; which = SIOV_MEM_FAIL_WRITE; break;
    }
    assert_int_equal(siov_mem_fail_range(t->mem, gpa, len, which), 0);
    uint32_t pasid = c->legacy ? SIOV_NO_PASID : PASID;
    siov_fault f;
    uint8_t buf[32] = {0};
    struct siov_xlate x;
    if (c->at == AT_DATA_READ)
        f = siov_dma_read(t->iommu, SID, pasid, FAIL_IOVA, buf, sizeof(buf));
    else if (c->at == AT_DATA_WRITE)
        f = siov_dma_write(t->iommu, SID, pasid, FAIL_IOVA, buf, sizeof(buf));
    else
        f = xlate(t, pasid, FAIL_IOVA, SIOV_ACCESS_WRITE, &x);
    if (f != c->want)
        fail_msg("%s: got %s (0x%x), want %s", c->name, siov_fault_name(f), f, siov_fault_name(c->want));
    if (f == SIOV_ERR_BUS) {
        assert_int_equal(tl_fault_records(t), 0);
        /* the other direction still works */
        if (c->at == AT_DATA_READ)
            assert_int_equal(siov_dma_write(t->iommu, SID, pasid, FAIL_IOVA, buf, sizeof(buf)), SIOV_OK);
        else
            assert_int_equal(siov_dma_read(t->iommu, SID, pasid, FAIL_IOVA, buf, sizeof(buf)), SIOV_OK);
    } else {
        tl_check_record(t, 0, TL_REC(f, SID, pasid, FAIL_IOVA, SIOV_ACCESS_WRITE));
        /* cleared, the same request translates */
        assert_int_equal(siov_mem_fail_range(t->mem, 0, 0, 0), 0);
        assert_int_equal(xlate(t, pasid, FAIL_IOVA, SIOV_ACCESS_WRITE, &x), SIOV_OK);
        assert_int_equal(x.addr, FAIL_PA + 0x234);
    }
    tl_free(t);
}

static void test_injected_memory_faults(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(fail_cases) / sizeof(fail_cases[0]); i++)
        run_fail_case(&fail_cases[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sl_levels_and_sizes),
        cmocka_unit_test(test_fl_levels_and_sizes),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_pass_through),
        cmocka_unit_test(test_pasid_and_range_limits),
        cmocka_unit_test(test_front_cache),
        cmocka_unit_test(test_iotlb_hit_carries_sre_ere),
        cmocka_unit_test(test_legacy_sl),
        cmocka_unit_test(test_legacy_repeat_hits_the_front_cache),
        cmocka_unit_test(test_highest_pasid_repeat_hits_the_front_cache),
        cmocka_unit_test(test_pasid_above_width_with_at),
        cmocka_unit_test(test_translation_disabled),
        cmocka_unit_test(test_abort_dma_mode),
        cmocka_unit_test(test_rtaddr_errors),
        cmocka_unit_test(test_rtaddr_latched_on_srtp),
        cmocka_unit_test(test_pasid_request_in_legacy_mode),
        cmocka_unit_test(test_interrupt_range),
        cmocka_unit_test(test_interrupt_range_pass_through),
        cmocka_unit_test(test_translated_requests),
        cmocka_unit_test(test_dma_scattered),
        cmocka_unit_test(test_dma_fault_midway),
        cmocka_unit_test(test_dma_bus_error),
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_callback_backend),
        cmocka_unit_test(test_callback_cmpxchg_for_ad),
        cmocka_unit_test(test_dma_into_interrupt_range),
        cmocka_unit_test(test_dma_at_interrupt_range_with_translation_off),
        cmocka_unit_test(test_injected_memory_faults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The register file: CAP/ECAP from the configuration, GCMD/GSTS, access
   widths, read-only and reserved bits, the invalidation-event registers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "testlib.h"

static uint64_t rd(struct tl *t, uint64_t off, unsigned size) { return siov_mmio_read(t->iommu, off, size); }
static void wr(struct tl *t, uint64_t off, uint64_t v, unsigned size) { siov_mmio_write(t->iommu, off, v, size); }

/* Default CAP/ECAP, as literal values worked out by hand from spec 10.4.2/10.4.3:
   CAP  ND=6 SAGAW=0100b MGAW=47 FRO=0x22 SLLPS=11b PSI NFR=7 MAMV=18 FL1GP PI FL5LP
   ECAP QI DT IR EIM PT IRO=0xF MHMV=15 NEST PRS ERS SRS NWFS PSS=19 PASID PDS SMTS SLADS SLTS FLTS SMPWCS
        RPS ADMS SMS */
static void cap_ecap_defaults_literal(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    assert_int_equal(rd(t, SIOV_REG_CAP, 8), 0x1912078c222f0406ull);
    assert_int_equal(rd(t, SIOV_REG_ECAP, 8), 0x413ed9ae4f00f5eull);
    assert_int_equal(rd(t, SIOV_REG_VER, 4), 0x10);
    /* 4-byte reads of either half */
    assert_int_equal(rd(t, SIOV_REG_CAP, 4), 0x222f0406u);
    assert_int_equal(rd(t, SIOV_REG_CAP + 4, 4), 0x1912078cu);
    tl_free(t);
}

static void cap_ecap_follow_config(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.mgaw = 57;
    cfg.sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_5LVL;
    cfg.pasid_bits = 10;
    cfg.first_level = cfg.nested = cfg.fl_5level = cfg.fl_1g = false;
    cfg.sl_large = SIOV_SLLPS_2M;
    cfg.fault_records = 256;
    cfg.domain_bits = 8;
    cfg.version = 0x31;
    cfg.dev_tlb = cfg.abort_dma = cfg.rid_pasid = cfg.sl_ad = false;
    cfg.caching_mode = true;
    cfg.posted_interrupts = false;
    cfg.psi = false;
    struct tl *t = tl_new(&cfg);
    uint64_t cap = rd(t, SIOV_REG_CAP, 8), ecap = rd(t, SIOV_REG_ECAP, 8);
    assert_int_equal(siov_get(cap, SIOV_CAP_MGAW), 56);
    assert_int_equal(siov_get(cap, SIOV_CAP_SAGAW), 0xA);
    assert_int_equal(siov_get(cap, SIOV_CAP_SLLPS), 1);
    assert_int_equal(siov_get(cap, SIOV_CAP_NFR), 255);
    assert_int_equal(siov_get(cap, SIOV_CAP_ND), 2); /* whatever the capability bits around it */
    assert_false(cap & SIOV_CAP_PSI);
    assert_int_equal(siov_get(cap, SIOV_CAP_FRO) * 16, SIOV_REG_FRCD);
    assert_false(cap & (SIOV_CAP_FL1GP | SIOV_CAP_FL5LP));
    assert_true(cap & SIOV_CAP_CM);
    assert_false(cap & SIOV_CAP_PI);
    assert_false(ecap & (SIOV_ECAP_C | SIOV_ECAP_ADMS)); /* non-coherent walks; abort_dma off */
    assert_int_equal(siov_get(ecap, SIOV_ECAP_PSS), 9);
    assert_int_equal(siov_get(ecap, SIOV_ECAP_IRO) * 16, SIOV_REG_IVA);
    assert_false(ecap & (SIOV_ECAP_FLTS | SIOV_ECAP_NEST | SIOV_ECAP_DT | SIOV_ECAP_ADMS | SIOV_ECAP_RPS |
                         SIOV_ECAP_SLADS));
    assert_false(ecap & (SIOV_ECAP_PRS | SIOV_ECAP_PDS | SIOV_ECAP_SMS)); /* page requests need DT */
    assert_true(ecap & (SIOV_ECAP_SLTS | SIOV_ECAP_SMTS | SIOV_ECAP_PASID));
    assert_int_equal(rd(t, SIOV_REG_VER, 4), 0x31);
    tl_free(t);

    siov_iommu_config_default(&cfg);
    cfg.scalable = false;
    t = tl_new(&cfg);
    ecap = rd(t, SIOV_REG_ECAP, 8);
    assert_false(ecap & (SIOV_ECAP_SMTS | SIOV_ECAP_PASID | SIOV_ECAP_PSS));
    assert_false(ecap & (SIOV_ECAP_PRS | SIOV_ECAP_PDS | SIOV_ECAP_SMS)); /* and scalable mode */
    tl_free(t);

    siov_iommu_config_default(&cfg);
    cfg.page_requests = false;
    t = tl_new(&cfg);
    ecap = rd(t, SIOV_REG_ECAP, 8);
    assert_false(ecap & (SIOV_ECAP_PRS | SIOV_ECAP_PDS | SIOV_ECAP_SMS));
    assert_true(ecap & SIOV_ECAP_DT);
    tl_free(t);
}

static void bad_configs_rejected(void **state)
{
    (void)state;
    struct siov_mem *m = siov_mem_new_flat(1 << 20);
    struct siov_iommu_config cfg;
#define BAD(stmt)                                  \
    do {                                           \
        siov_iommu_config_default(&cfg);           \
        stmt;                                      \
        assert_null(siov_iommu_new(m, &cfg));      \
    } while (0)
    BAD(cfg.mgaw = 29);
    BAD(cfg.mgaw = 58);
    BAD(cfg.haw = 53);
    BAD(cfg.sagaw = 0);
    BAD(cfg.sagaw = 1);
    BAD(cfg.sagaw = 1u << 4);
    BAD(cfg.pasid_bits = 0);
    BAD(cfg.pasid_bits = 21);
    BAD(cfg.sl_large = 4);
    BAD(cfg.fault_records = 0);
    BAD(cfg.fault_records = 257);
    BAD(cfg.domain_bits = 5);
    BAD(cfg.domain_bits = 18);
    BAD(cfg.first_level = false);  /* nested (default on) needs both stages */
    BAD(cfg.second_level = false);
#undef BAD
    assert_null(siov_iommu_new(NULL, NULL));
    struct siov_iommu *u = siov_iommu_new(m, NULL);
    assert_non_null(u);
    assert_int_equal(siov_iommu_get_config(u)->iotlb_entries, 4096);
    siov_iommu_free(u);
    siov_mem_free(m);
}

/* cfg gives text from siov_iommu_config_check ("" when valid), and
   siov_iommu_new refuses it with errno EINVAL exactly then. */
static void check_config(struct siov_mem *m, const struct siov_iommu_config *cfg, const char *text)
{
    char msg[128];
    memset(msg, 'x', sizeof(msg));
    assert_int_equal(siov_iommu_config_check(cfg, msg, sizeof(msg)), text[0] ? -EINVAL : 0);
    assert_string_equal(msg, text);
    errno = 0;
    struct siov_iommu *u = siov_iommu_new(m, cfg);
    assert_true((u != NULL) == !text[0]);
    if (text[0])
        assert_int_equal(errno, EINVAL);
    siov_iommu_free(u);
}

/* siov_iommu_config_check: every rule, on both sides of each bound, with the
   message that names the field; the edges are accepted. */
static void config_check_rules(void **state)
{
    (void)state;
    struct siov_mem *m = siov_mem_new_flat(1 << 20);
    struct siov_iommu_config cfg;
#define CHECK(stmt, text)                  \
    do {                                   \
        siov_iommu_config_default(&cfg);   \
        stmt;                              \
        check_config(m, &cfg, text);       \
    } while (0)
    const char *sagaw = "must be a nonzero combination of 0x2 (3-level), 0x4 (4-level) and 0x8 (5-level)";
    char want[160];
    CHECK((void)0, "");
    CHECK(cfg.mgaw = 29, "mgaw = 29: must be 30..57");
    CHECK(cfg.mgaw = 30, "");
    CHECK(cfg.mgaw = 57, "");
    CHECK(cfg.mgaw = 58, "mgaw = 58: must be 30..57");
    snprintf(want, sizeof(want), "sagaw = 0x0: %s", sagaw);
    CHECK(cfg.sagaw = 0, want);
    snprintf(want, sizeof(want), "sagaw = 0x1: %s", sagaw);
    CHECK(cfg.sagaw = 1, want);
    snprintf(want, sizeof(want), "sagaw = 0x12: %s", sagaw);
    CHECK(cfg.sagaw = 0x12, want);
    CHECK(cfg.sagaw = 0xE, "");
    CHECK(cfg.pasid_bits = 0, "pasid_bits = 0: must be 1..20");
    CHECK(cfg.pasid_bits = 1, "");
    CHECK(cfg.pasid_bits = 21, "pasid_bits = 21: must be 1..20");
    CHECK(cfg.first_level = false, "nested = true: needs first_level and second_level");
    CHECK(cfg.second_level = false, "nested = true: needs first_level and second_level");
    CHECK((cfg.first_level = false, cfg.nested = false), "");
    CHECK(cfg.sl_large = 4, "sl_large = 0x4: must be a combination of 0x1 (2 MiB) and 0x2 (1 GiB)");
    CHECK(cfg.sl_large = 0, "");
    CHECK(cfg.iotlb_entries = 0, "");
    CHECK(cfg.iotlb_entries = (1u << 24) + 1, "iotlb_entries = 16777217: must be 0..16777216");
    CHECK(cfg.fault_records = 0, "fault_records = 0: must be 1..256");
    CHECK(cfg.fault_records = 256, "");
    CHECK(cfg.fault_records = 257, "fault_records = 257: must be 1..256");
    CHECK(cfg.haw = 31, "haw = 31: must be 32..52");
    CHECK(cfg.haw = 32, "");
    CHECK(cfg.haw = 52, "");
    CHECK(cfg.haw = 53, "haw = 53: must be 32..52");
    CHECK(cfg.domain_bits = 2, "domain_bits = 2: must be an even number in 4..16");
    CHECK(cfg.domain_bits = 4, "");
    CHECK(cfg.domain_bits = 5, "domain_bits = 5: must be an even number in 4..16");
    CHECK(cfg.domain_bits = 6, ""); /* even, bit 1 set */
    CHECK(cfg.domain_bits = 18, "domain_bits = 18: must be an even number in 4..16");
    CHECK(cfg.version = 0xFF, "");
    CHECK(cfg.version = 0x100, "version = 256: must be 0..255");
    /* the first offending field in the struct's order is the one named */
    CHECK((cfg.haw = 99, cfg.pasid_bits = 0), "pasid_bits = 0: must be 1..20");
#undef CHECK
    siov_mem_free(m);
}

/* A short buffer is cut, never overrun; NULL buffers and configs. */
static void config_check_buffers(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    char msg[128];
    siov_iommu_config_default(&cfg);
    cfg.pasid_bits = 0;
    memset(msg, 'x', sizeof(msg));
    assert_int_equal(siov_iommu_config_check(&cfg, msg, 6), -EINVAL);
    assert_string_equal(msg, "pasid");
    assert_int_equal(msg[6], 'x');
    assert_int_equal(siov_iommu_config_check(&cfg, NULL, 64), -EINVAL);
    assert_int_equal(siov_iommu_config_check(&cfg, msg, 0), -EINVAL);
    assert_int_equal(msg[0], 'p'); /* len 0: untouched */
    assert_int_equal(siov_iommu_config_check(NULL, msg, sizeof(msg)), -EINVAL);
    assert_string_equal(msg, "no configuration (NULL)");
    errno = 0;
    assert_null(siov_iommu_new(NULL, NULL));
    assert_int_equal(errno, EINVAL);
}

static void gcmd_gsts(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    assert_int_equal(rd(t, SIOV_REG_GSTS, 4), 0);
    wr(t, SIOV_REG_RTADDR, 0x5000 | (1u << 10) | 0x3FF, 8); /* bits 9:0 reserved */
    assert_int_equal(rd(t, SIOV_REG_RTADDR, 8), 0x5400);
    wr(t, SIOV_REG_GCMD, SIOV_GCMD_SRTP, 4);
    assert_int_equal(rd(t, SIOV_REG_GSTS, 4), SIOV_GSTS_RTPS);
    assert_int_equal(rd(t, SIOV_REG_GCMD, 4), 0); /* GCMD reads 0: docs/spec-notes.md */
    wr(t, SIOV_REG_GCMD, SIOV_GCMD_TE, 4);
    assert_int_equal(rd(t, SIOV_REG_GSTS, 4), SIOV_GSTS_RTPS | SIOV_GSTS_TES);
    wr(t, SIOV_REG_GCMD, SIOV_GCMD_TE | SIOV_GCMD_QIE, 4);
    assert_int_equal(rd(t, SIOV_REG_GSTS, 4), SIOV_GSTS_RTPS | SIOV_GSTS_TES | SIOV_GSTS_QIES);
    /* a write without TE turns translation off (GCMD replaces every bit) */
    wr(t, SIOV_REG_GCMD, SIOV_GCMD_QIE, 4);
    assert_int_equal(rd(t, SIOV_REG_GSTS, 4), SIOV_GSTS_RTPS | SIOV_GSTS_QIES);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, 0x10, SIOV_NO_PASID, 0x1234, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x1234); /* TE=0: pass through */
    wr(t, SIOV_REG_GCMD, 0, 4);
    assert_int_equal(rd(t, SIOV_REG_GSTS, 4), SIOV_GSTS_RTPS);
    /* IRE without a SIRTP first: remapping turns on over IRTA's reset value (docs/spec-notes.md) */
    wr(t, SIOV_REG_GCMD, SIOV_GCMD_IRE, 4);
    assert_int_equal(rd(t, SIOV_REG_GSTS, 4), SIOV_GSTS_RTPS | SIOV_GSTS_IRES);
    tl_free(t);
    /* without ECAP.IR the commands do nothing and IRTA is reserved */
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.irq_remapping = false;
    t = tl_new(&cfg);
    wr(t, SIOV_REG_IRTA, 0x5000 | SIOV_IRTA_EIME | 3, 8);
    assert_int_equal(rd(t, SIOV_REG_IRTA, 8), 0);
    wr(t, SIOV_REG_GCMD, SIOV_GCMD_SIRTP | SIOV_GCMD_IRE | SIOV_GCMD_CFI, 4);
    assert_int_equal(rd(t, SIOV_REG_GSTS, 4), 0);
    tl_free(t);
}

/* RTADDR is latched only by SRTP: a later RTADDR write changes nothing. */
static void rtaddr_latched_on_srtp(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    tl_enable(t, SIOV_TTM_LEGACY);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, 0x100, SIOV_NO_PASID, 0, SIOV_ACCESS_READ, &x), SIOV_FAULT_LRT_2);
    wr(t, SIOV_REG_RTADDR, siov_set(t->root, SIOV_RTADDR_TTM, SIOV_TTM_RESERVED), 8);
    assert_int_equal(siov_translate(t->iommu, 0x100, SIOV_NO_PASID, 0, SIOV_ACCESS_READ, &x), SIOV_FAULT_LRT_2);
    tl_gcmd(t, SIOV_GCMD_SRTP, 0);
    assert_int_equal(siov_translate(t->iommu, 0x100, SIOV_NO_PASID, 0, SIOV_ACCESS_READ, &x), SIOV_FAULT_RTA_1);
    tl_free(t);
}

static void access_widths_and_readonly(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    uint64_t cap = rd(t, SIOV_REG_CAP, 8);
    wr(t, SIOV_REG_CAP, 0, 8);              /* read-only */
    wr(t, SIOV_REG_ECAP, 0, 4);
    wr(t, SIOV_REG_VER, 0x99, 4);
    assert_int_equal(rd(t, SIOV_REG_CAP, 8), cap);
    assert_int_equal(rd(t, SIOV_REG_VER, 4), 0x10);
    assert_int_equal(rd(t, SIOV_REG_VER, 8), 0);   /* 32-bit register: 8-byte read is invalid */
    assert_int_equal(rd(t, SIOV_REG_CAP, 2), 0);   /* size not 4 or 8 */
    assert_int_equal(rd(t, SIOV_REG_CAP + 2, 4), 0); /* unaligned */
    assert_int_equal(rd(t, 0x050, 4), 0);          /* nothing there */
    assert_int_equal(rd(t, 0x100000, 8), 0);
    assert_int_equal(siov_mmio_read(NULL, SIOV_REG_CAP, 8), 0);
    siov_mmio_write(NULL, SIOV_REG_GCMD, SIOV_GCMD_TE, 4);
    wr(t, SIOV_REG_GCMD, SIOV_GCMD_TE, 8);         /* 8-byte write of a 32-bit register: ignored */
    wr(t, SIOV_REG_GCMD, SIOV_GCMD_TE, 3);
    assert_int_equal(rd(t, SIOV_REG_GSTS, 4), 0);
    /* 64-bit registers take 4-byte writes to either half */
    wr(t, SIOV_REG_RTADDR, 0x12345000, 4);
    wr(t, SIOV_REG_RTADDR + 4, 0x7, 4);
    assert_int_equal(rd(t, SIOV_REG_RTADDR, 8), 0x712345000ull);
    wr(t, SIOV_REG_IQA, 0x20000 | 1, 8); /* a low-half write replaces every low bit, QS bit 0 too */
    wr(t, SIOV_REG_IQA, 0x30000, 4);
    assert_int_equal(rd(t, SIOV_REG_IQA, 8), 0x30000);
    wr(t, SIOV_REG_IQH, 0x100, 8);                 /* IQH is hardware-owned */
    assert_int_equal(rd(t, SIOV_REG_IQH, 8), 0);
    tl_free(t);
}

static void iqa_fixed_while_enabled(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    wr(t, SIOV_REG_IQA, 0x20000 | SIOV_IQA_DW | 0x7F8 /* reserved 10:3 */ | 1, 8);
    assert_int_equal(rd(t, SIOV_REG_IQA, 8), 0x20000 | SIOV_IQA_DW | 1);
    tl_gcmd(t, SIOV_GCMD_QIE, 0);
    wr(t, SIOV_REG_IQA, 0x40000, 8);
    assert_int_equal(rd(t, SIOV_REG_IQA, 8), 0x20000 | SIOV_IQA_DW | 1);
    tl_gcmd(t, 0, SIOV_GCMD_QIE);
    assert_int_equal(rd(t, SIOV_REG_IQH, 8), 0);
    wr(t, SIOV_REG_IQA, 0x40000, 8);
    assert_int_equal(rd(t, SIOV_REG_IQA, 8), 0x40000);
    tl_free(t);
}

/* IECTL.IM/IP and ICS.IWC (spec 10.4.25-26): an event held while masked is
   sent when unmasked; clearing IWC clears IP. */
static void inv_event_registers(void **state)
{
    (void)state;
    struct tl_msi_log log = {0};
    struct siov_iommu_config cfg = tl_config_msi(&log);
    struct tl *t = tl_new(&cfg);
    wr(t, SIOV_REG_IEDATA, 0xFFFF1234, 4);
    wr(t, SIOV_REG_IEADDR, 0xFEE00003, 4);
    wr(t, SIOV_REG_IEUADDR, 0x1, 4);
    assert_int_equal(rd(t, SIOV_REG_IEDATA, 4), 0x1234);
    assert_int_equal(rd(t, SIOV_REG_IEADDR, 4), 0xFEE00000);
    assert_int_equal(rd(t, SIOV_REG_IEUADDR, 4), 0x1);
    /* IVA keeps address, IH and AM, drops reserved bits 11:7 */
    wr(t, SIOV_REG_IVA, 0x123456789000ull | SIOV_IVA_RSVD | SIOV_IVA_IH | 3, 8);
    assert_int_equal(rd(t, SIOV_REG_IVA, 8), 0x123456789000ull | SIOV_IVA_IH | 3);
    wr(t, SIOV_REG_IECTL, SIOV_ECTL_IM | SIOV_ECTL_IP, 4); /* IP is read-only */
    assert_int_equal(rd(t, SIOV_REG_IECTL, 4), SIOV_ECTL_IM);
    wr(t, SIOV_REG_ICS, SIOV_ICS_IWC, 4);
    assert_int_equal(rd(t, SIOV_REG_ICS, 4), 0);
    assert_int_equal(log.n, 0);
    tl_free(t);
}

/* With every optional feature off, CAP and ECAP hold exactly the fields a
   unit always reports: no feature's bit, and no stray bit from one that is off. */
static void test_cap_ecap_exact_with_features_off(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.first_level = cfg.nested = cfg.pass_through = cfg.fl_5level = cfg.fl_1g = false;
    cfg.sl_large = 0;
    cfg.sl_ad = cfg.supervisor_req = cfg.exec_req = cfg.dev_tlb = cfg.abort_dma = cfg.rid_pasid = false;
    cfg.caching_mode = cfg.psi = cfg.nwfs = cfg.page_requests = false;
    cfg.irq_remapping = cfg.x2apic = cfg.posted_interrupts = false;
    cfg.domain_bits = 16;
    cfg.fault_records = 8;
    cfg.pasid_bits = 20;
    for (int k = 0; k < 4; k++) { /* legacy, scalable, with interrupt remapping (no x2APIC), first level only */
        bool scalable = k > 0;
        cfg.scalable = scalable;
        cfg.irq_remapping = k == 2;
        cfg.second_level = k != 3;
        cfg.first_level = k == 3;
        struct tl *t = tl_new(&cfg);
        uint64_t cap = siov_set(0, SIOV_CAP_ND, 6) | siov_set(0, SIOV_CAP_SAGAW, cfg.sagaw) |
                       siov_set(0, SIOV_CAP_MGAW, cfg.mgaw - 1) | siov_set(0, SIOV_CAP_FRO, SIOV_REG_FRCD / 16) |
                       siov_set(0, SIOV_CAP_NFR, 7) | siov_set(0, SIOV_CAP_MAMV, 18);
        uint64_t ecap = SIOV_ECAP_QI | siov_set(0, SIOV_ECAP_IRO, SIOV_REG_IVA / 16) |
                        (k == 3 ? SIOV_ECAP_FLTS : SIOV_ECAP_SLTS) | SIOV_ECAP_SMPWCS;
        if (scalable)
            ecap |= SIOV_ECAP_SMTS | SIOV_ECAP_PASID | siov_set(0, SIOV_ECAP_PSS, 19);
        if (cfg.irq_remapping)
            ecap |= SIOV_ECAP_IR | siov_set(0, SIOV_ECAP_MHMV, 15);
        assert_int_equal(rd(t, SIOV_REG_CAP, 8), cap);
        assert_int_equal(rd(t, SIOV_REG_ECAP, 8), ecap);
        tl_free(t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cap_ecap_exact_with_features_off),
        cmocka_unit_test(cap_ecap_defaults_literal),
        cmocka_unit_test(cap_ecap_follow_config),
        cmocka_unit_test(bad_configs_rejected),
        cmocka_unit_test(config_check_rules),
        cmocka_unit_test(config_check_buffers),
        cmocka_unit_test(gcmd_gsts),
        cmocka_unit_test(rtaddr_latched_on_srtp),
        cmocka_unit_test(access_widths_and_readonly),
        cmocka_unit_test(iqa_fixed_while_enabled),
        cmocka_unit_test(inv_event_registers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Interrupt remapping: the request formats, the interrupt remapping table
 * entry (remapped and posted), every interrupt-remapping fault 0x20..0x2B
 * with its fault record, the IR registers and commands, and posting into a
 * descriptor a CPU thread updates at the same time (spec chapter 5, 9.9-9.11,
 * 10.4.29; facts sheet 12). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testlib.h"

#define IRT 0x1000000ull  /* the interrupt remapping table (up to 1 MiB) */
#define PID 0x1200000ull  /* posted-interrupt descriptors, 64 bytes apart */
#define SID_A SIOV_SID(3, 4, 1)
#define SID_B SIOV_SID(3, 4, 2)

/* A unit with interrupt remapping on over a 256-entry table at IRT in x2APIC
   (eime) or xAPIC mode. */
static struct tl *ir_unit(const struct siov_iommu_config *cfg, bool eime)
{
    struct tl *t = tl_new(cfg);
    tl_ir_enable(t, IRT, 7, eime);
    return t;
}

static siov_fault irq(struct tl *t, siov_sid sid, uint64_t addr, uint32_t data, struct siov_irq *out)
{
    memset(out, 0xA5, sizeof(*out)); /* nothing of it may survive a success */
    return siov_interrupt(t->iommu, sid, addr, data, out);
}

/* The remappable-format message of index (SHV=0, data 0). */
static uint64_t msg(uint32_t index) { return siov_msi_remap_addr(index, false); }

static uint32_t gsts(struct tl *t) { return (uint32_t)siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4); }

static void cfg_default(struct siov_iommu_config *cfg)
{
    siov_iommu_config_default(cfg);
}

/* ------------------------------------------------------------ bit layouts */
/* The format.h masks against hand-computed values of spec 9.9-9.11, 5.1.2. */
static void test_masks_literal(void **state)
{
    (void)state;
    assert_int_equal(SIOV_IRTE0_P | SIOV_IRTE0_FPD | SIOV_IRTE0_DM | SIOV_IRTE0_RH | SIOV_IRTE0_TM, 0x1F);
    assert_int_equal(SIOV_IRTE0_DLM, 0xE0);
    assert_int_equal(SIOV_IRTE0_AVAIL, 0xF00);
    assert_int_equal(SIOV_IRTE0_URG, 0x4000);
    assert_int_equal(SIOV_IRTE0_IM, 0x8000);
    assert_int_equal(SIOV_IRTE0_V, 0xFF0000);
    assert_int_equal(SIOV_IRTE0_DST, 0xFFFFFFFF00000000ull);
    assert_int_equal(SIOV_IRTE0_DST_XAPIC, 0x0000FF0000000000ull);
    assert_int_equal(SIOV_IRTE0_PDAL, 0xFFFFFFC000000000ull);
    assert_int_equal(SIOV_IRTE0_REMAP_RSVD, 0xFF007000ull);
    assert_int_equal(SIOV_IRTE0_XAPIC_RSVD, 0xFFFF00FF00000000ull);
    assert_int_equal(SIOV_IRTE0_POST_RSVD, 0x3FFF0030FCull);
    assert_int_equal(SIOV_IRTE1_SID, 0xFFFF);
    assert_int_equal(SIOV_IRTE1_SQ, 0x30000);
    assert_int_equal(SIOV_IRTE1_SVT, 0xC0000);
    assert_int_equal(SIOV_IRTE1_REMAP_RSVD, 0xFFFFFFFFFFF00000ull);
    assert_int_equal(SIOV_IRTE1_POST_RSVD, 0xFFF00000ull);
    assert_int_equal(SIOV_IRTE1_PDAH, 0xFFFFFFFF00000000ull);
    assert_int_equal(SIOV_PID4_ON | SIOV_PID4_SN, 3);
    assert_int_equal(SIOV_PID4_NV, 0xFF0000);
    assert_int_equal(SIOV_PID4_NDST, 0xFFFFFFFF00000000ull);
    assert_int_equal(SIOV_PID4_RSVD, 0xFF00FFFCull);
    assert_int_equal(SIOV_PID4_NDST_XAPIC, 0x0000FF0000000000ull); /* NDST 303:296 */
    assert_int_equal(SIOV_PID4_XAPIC_RSVD, 0xFFFF00FF00000000ull);
    assert_int_equal(SIOV_IRTA_S | SIOV_IRTA_EIME, 0x80F);
    assert_int_equal(SIOV_IRTA_RSVD, 0x7F0);
    assert_int_equal(SIOV_MSI_ADDR_HANDLE_LO, 0xFFFE0);
    assert_int_equal(SIOV_FRCD0_IRQ_INDEX, 0xFFFF000000000000ull);
    assert_int_equal(SIOV_ECAP_EIMER | SIOV_ECAP_IRREQ, 0x6000000000000000ull);
    /* handle 0x8123 with SHV: 0xFEE00000 | 0x123 << 5 | format | SHV | handle[15] << 2 */
    assert_int_equal(siov_msi_remap_addr(0x8123, true), 0xFEE0247Cull);
    assert_int_equal(siov_msi_handle(0xFEE0247Cull), 0x8123);
    /* a posted entry's descriptor address: bits 31:6 in qw0 63:38, 63:32 in qw1 63:32 */
    uint64_t q0 = siov_irte0_set_pda(0, 0x123456789ABCDEC0ull), q1 = siov_irte1_set_pda(0, 0x123456789ABCDEC0ull);
    assert_int_equal(q0, 0x9ABCDEC000000000ull);
    assert_int_equal(q1, 0x1234567800000000ull);
    assert_int_equal(siov_irte_pda(q0, q1), 0x123456789ABCDEC0ull);
}

/* ---------------------------------------------------------- registers */
static void test_irta_latched_by_sirtp(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    assert_int_equal(gsts(t), 0);
    /* reserved bits 10:4 read 0 */
    siov_mmio_write(t->iommu, SIOV_REG_IRTA, IRT | 0x7F0 | SIOV_IRTA_EIME | 1, 8);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_IRTA, 8), IRT | SIOV_IRTA_EIME | 1);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_IRTA + 4, 4), 0);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_IRTA, 4), (uint32_t)(IRT | SIOV_IRTA_EIME | 1));
    uint64_t q[2];
    tl_irte_remapped(q, 0x40, 7, true, SID_A);
    tl_irte(t, IRT, 3, q[0], q[1]);
    /* IRE before any SIRTP: remapping on over IRTA's reset value, a 2-entry table at 0 */
    tl_gcmd(t, SIOV_GCMD_IRE, 0);
    assert_int_equal(gsts(t), SIOV_GSTS_IRES);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, msg(3), 0, &out), SIOV_FAULT_IR_21);
    assert_int_equal(irq(t, SID_A, msg(1), 0, &out), SIOV_FAULT_IR_22); /* GPA 0x10 reads zeros */
    /* SIRTP latches: now index 3 of the 4-entry table at IRT */
    tl_gcmd(t, SIOV_GCMD_SIRTP, 0);
    assert_int_equal(gsts(t), SIOV_GSTS_IRES | SIOV_GSTS_IRTPS);
    assert_int_equal(irq(t, SID_A, msg(3), 0, &out), SIOV_OK);
    assert_int_equal(out.vector, 0x40);
    assert_int_equal(out.dest, 7);
    /* a new IRTA value does nothing until the next SIRTP */
    siov_mmio_write(t->iommu, SIOV_REG_IRTA, IRT | SIOV_IRTA_EIME | 0, 8);
    assert_int_equal(irq(t, SID_A, msg(3), 0, &out), SIOV_OK);
    assert_int_equal(irq(t, SID_A, msg(4), 0, &out), SIOV_FAULT_IR_21);
    tl_gcmd(t, SIOV_GCMD_SIRTP, 0);
    assert_int_equal(irq(t, SID_A, msg(2), 0, &out), SIOV_FAULT_IR_21);
    /* IRE off: IRES clears, requests are passed through as compatibility format */
    tl_gcmd(t, 0, SIOV_GCMD_IRE);
    assert_int_equal(gsts(t), SIOV_GSTS_IRTPS);
    tl_free(t);
}

/* EIME is RsvdZ without ECAP.EIM; the IR commands need ECAP.IR. */
static void test_irta_eime_needs_eim(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    cfg_default(&cfg);
    cfg.x2apic = false;
    struct tl *t = tl_new(&cfg);
    assert_false(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_EIM);
    siov_mmio_write(t->iommu, SIOV_REG_IRTA, IRT | SIOV_IRTA_EIME | 7, 8);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_IRTA, 8), IRT | 7);
    tl_free(t);
    cfg_default(&cfg);
    cfg.posted_interrupts = false;
    cfg.esirtps = true;
    t = tl_new(&cfg);
    uint64_t cap = siov_mmio_read(t->iommu, SIOV_REG_CAP, 8), ecap = siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8);
    assert_false(cap & SIOV_CAP_PI);
    assert_true(cap & SIOV_CAP_ESIRTPS);
    assert_int_equal(siov_get(ecap, SIOV_ECAP_MHMV), 15);
    tl_free(t);
    /* without IR nothing of it is reported */
    cfg_default(&cfg);
    cfg.irq_remapping = false;
    cfg.esirtps = true;
    t = tl_new(&cfg);
    cap = siov_mmio_read(t->iommu, SIOV_REG_CAP, 8);
    ecap = siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8);
    assert_false(cap & (SIOV_CAP_PI | SIOV_CAP_ESIRTPS));
    assert_false(ecap & (SIOV_ECAP_IR | SIOV_ECAP_EIM | SIOV_ECAP_MHMV | SIOV_ECAP_EIMER | SIOV_ECAP_IRREQ));
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, 0xFEE01000, 0x31, &out), SIOV_OK); /* passed through */
    assert_int_equal(out.vector, 0x31);
    tl_free(t);
    /* EIMER needs EIM, IRREQ needs IR */
    struct siov_mem *m = siov_mem_new_flat(4096);
    cfg_default(&cfg);
    cfg.x2apic = false;
    cfg.x2apic_only = true;
    assert_null(siov_iommu_new(m, &cfg));
    cfg_default(&cfg);
    cfg.irq_remapping = false;
    cfg.irq_remap_required = true;
    assert_null(siov_iommu_new(m, &cfg));
    siov_mem_free(m);
}

/* CFI acts only while IRES=1 and the latched EIME=0 (spec 10.4.4). */
static void test_cfi_cfis(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    tl_gcmd(t, SIOV_GCMD_CFI, 0); /* IRES=0: no effect */
    assert_int_equal(gsts(t), 0);
    tl_ir_enable(t, IRT, 7, false);
    struct siov_irq out;
    uint64_t compat = 0xFEE00000 | 0x05 << 12 | SIOV_MSI_ADDR_DM;
    assert_int_equal(irq(t, SID_A, compat, 0x8033, &out), SIOV_FAULT_IR_25);
    tl_gcmd(t, SIOV_GCMD_CFI, 0);
    assert_int_equal(gsts(t), SIOV_GSTS_IRTPS | SIOV_GSTS_IRES | SIOV_GSTS_CFIS);
    assert_int_equal(irq(t, SID_A, compat, 0x8433, &out), SIOV_OK);
    assert_int_equal(out.dest, 5);
    assert_int_equal(out.vector, 0x33);
    assert_int_equal(out.delivery_mode, 4);
    assert_true(out.dest_logical);
    assert_true(out.level_trigger);
    assert_false(out.redirection_hint);
    assert_false(out.posted);
    assert_int_equal(tl_stats(t).irq_compat, 1);
    /* x2APIC mode latched: compatibility format is blocked whatever CFIS says */
    siov_mmio_write(t->iommu, SIOV_REG_IRTA, IRT | SIOV_IRTA_EIME | 7, 8);
    tl_gcmd(t, SIOV_GCMD_SIRTP, 0);
    assert_true(gsts(t) & SIOV_GSTS_CFIS);
    assert_int_equal(irq(t, SID_A, compat, 0x33, &out), SIOV_FAULT_IR_25);
    tl_gcmd(t, 0, SIOV_GCMD_CFI); /* EIME=1: CFI has no effect */
    assert_true(gsts(t) & SIOV_GSTS_CFIS);
    tl_free(t);
}

/* The bring-up a foreign driver does by raw register writes, in Linux's
   order (intel_setup_irq_remapping, kvm-unit-tests intel-iommu): queue on,
   IRTA, SIRTP and poll IRTPS, global IEC invalidation, IRE and poll IRES,
   clear CFI; then an MSI-X message through the table. */
static void test_bringup_raw_registers(void **state)
{
    (void)state;
    for (int eime = 0; eime < 2; eime++) {
        struct tl *t = tl_new(NULL);
        uint64_t iq = tl_page(t), status = tl_page(t);
        siov_mmio_write(t->iommu, SIOV_REG_IQT, 0, 8);
        siov_mmio_write(t->iommu, SIOV_REG_IQA, iq, 8); /* 128-bit descriptors, one page */
        siov_mmio_write(t->iommu, SIOV_REG_GCMD, SIOV_GCMD_QIE, 4);
        assert_int_equal(gsts(t), SIOV_GSTS_QIES);
        siov_mmio_write(t->iommu, SIOV_REG_IRTA, IRT | (eime ? SIOV_IRTA_EIME : 0) | 0xF, 8);
        uint32_t sts = gsts(t) & 0x96FFFFFFu; /* the spec's recipe: drop the one-shot bits */
        siov_mmio_write(t->iommu, SIOV_REG_GCMD, sts | SIOV_GCMD_SIRTP, 4);
        unsigned polls = 0;
        while (!(gsts(t) & SIOV_GSTS_IRTPS) && polls++ < 1000)
            ;
        assert_true(gsts(t) & SIOV_GSTS_IRTPS);
        /* global IEC invalidation + wait with status write */
        tl_w64(t, iq, 0x4);
        tl_w64(t, iq + 8, 0);
        tl_w64(t, iq + 16, 0x5 | 0x20 | 0x1ull << 32);
        tl_w64(t, iq + 24, status);
        siov_mmio_write(t->iommu, SIOV_REG_IQT, 32, 8);
        assert_int_equal(tl_r64(t, status) & 0xFFFFFFFF, 1);
        sts = gsts(t) & 0x96FFFFFFu;
        siov_mmio_write(t->iommu, SIOV_REG_GCMD, sts | SIOV_GCMD_IRE, 4);
        assert_true(gsts(t) & SIOV_GSTS_IRES);
        sts = gsts(t) & 0x96FFFFFFu;
        siov_mmio_write(t->iommu, SIOV_REG_GCMD, sts & ~SIOV_GCMD_CFI, 4);
        assert_int_equal(gsts(t), SIOV_GSTS_QIES | SIOV_GSTS_IRES | SIOV_GSTS_IRTPS);
        assert_int_equal(tl_stats(t).inv_iec, 1);
        /* entry 0x1234: vector 0x61 to APIC 0x12 (x2APIC: 0x123456) */
        uint32_t dest = eime ? 0x123456 : 0x12;
        uint64_t q0 = 0x1 | 0x61ull << 16 | (eime ? (uint64_t)dest << 32 : (uint64_t)dest << 40);
        uint64_t q1 = 0x1ull << 18 | SID_A;
        tl_irte(t, IRT, 0x1234, q0, q1);
        struct siov_irq out;
        assert_int_equal(irq(t, SID_A, 0xFEE00000 | 0x1234 << 5 | 0x10, 0, &out), SIOV_OK);
        assert_int_equal(out.vector, 0x61);
        assert_int_equal(out.dest, dest);
        tl_free(t);
    }
}

/* FECTL and IECTL reset masked: a fault before software unmasks sends nothing. */
static unsigned msi_calls;
static void count_msi(void *opaque, uint64_t addr, uint32_t data)
{
    (void)opaque, (void)addr, (void)data;
    msi_calls++;
}

static void test_event_registers_reset_masked(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    cfg_default(&cfg);
    cfg.msi = count_msi;
    msi_calls = 0;
    struct tl *t = ir_unit(&cfg, true);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FECTL, 4), 0x80000000u);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_IECTL, 4), 0x80000000u);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, msg(9), 0, &out), SIOV_FAULT_IR_22);
    assert_int_equal(msi_calls, 0);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FECTL, 4), 0xC0000000u); /* IP held */
    siov_mmio_write(t->iommu, SIOV_REG_FECTL, 0, 4);
    assert_int_equal(msi_calls, 1);
    tl_free(t);
}

/* ------------------------------------------------------ remapped format */
/* Every field of a remapped entry reaches the interrupt, xAPIC and x2APIC. */
static void test_remapped_fields(void **state)
{
    (void)state;
    for (int eime = 0; eime < 2; eime++) {
        struct tl *t = ir_unit(NULL, eime);
        uint32_t dest = eime ? 0xFEDCBA98u : 0xA5;
        uint64_t q[2];
        tl_irte_remapped(q, 0xEE, dest, eime, SID_A);
        q[0] |= SIOV_IRTE0_DM | SIOV_IRTE0_RH | SIOV_IRTE0_TM | siov_set(0, SIOV_IRTE0_DLM, SIOV_DLM_LOWEST) |
                SIOV_IRTE0_AVAIL; /* AVAIL is software's */
        tl_irte(t, IRT, 200, q[0], q[1]);
        struct siov_irq out;
        assert_int_equal(irq(t, SID_A, msg(200), 0xFFFF0000u, &out), SIOV_OK); /* data ignored with SHV=0 */
        assert_int_equal(out.dest, dest);
        assert_int_equal(out.vector, 0xEE);
        assert_int_equal(out.delivery_mode, SIOV_DLM_LOWEST);
        assert_true(out.dest_logical && out.level_trigger && out.redirection_hint);
        assert_false(out.posted);
        assert_false(out.notify);
        assert_int_equal(out.pd_addr, 0);
        /* each DLM the spec defines */
        static const unsigned dlms[] = {SIOV_DLM_FIXED, SIOV_DLM_SMI, SIOV_DLM_NMI, SIOV_DLM_INIT, SIOV_DLM_EXTINT};
        for (unsigned i = 0; i < 5; i++) {
            tl_irte_remapped(q, 0x30, dest, eime, SID_A);
            tl_irte(t, IRT, 201 + i, q[0] | siov_set(0, SIOV_IRTE0_DLM, dlms[i]), q[1]);
            assert_int_equal(irq(t, SID_A, msg(201 + i), 0, &out), SIOV_OK);
            assert_int_equal(out.delivery_mode, dlms[i]);
            assert_false(out.dest_logical || out.level_trigger || out.redirection_hint);
        }
        struct siov_stats s = tl_stats(t);
        assert_int_equal(s.interrupts, 6);
        assert_int_equal(s.irq_remapped, 6);
        assert_int_equal(s.irq_posted + s.irq_blocked + s.irq_compat, 0);
        tl_free(t);
    }
}

/* SHV=1: the index is HANDLE + SUBHANDLE; data[31:16] must then be 0. */
static void test_subhandle(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, true);
    uint64_t q[2];
    tl_irte_remapped(q, 0x51, 9, true, SID_A);
    tl_irte(t, IRT, 0x90, q[0], q[1]);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, siov_msi_remap_addr(0x80, true), 0x10, &out), SIOV_OK);
    assert_int_equal(out.vector, 0x51);
    assert_int_equal(irq(t, SID_A, siov_msi_remap_addr(0x8F, true), 0x1, &out), SIOV_OK);
    assert_int_equal(irq(t, SID_A, siov_msi_remap_addr(0x90, false), 0x1234, &out), SIOV_OK); /* SHV=0 */
    /* a sum beyond the table: IR.21 with FI holding the index */
    assert_int_equal(irq(t, SID_A, siov_msi_remap_addr(0xFF, true), 0x2, &out), SIOV_FAULT_IR_21);
    tl_check_irq_frcd(t, 0, SIOV_FAULT_IR_21, SID_A, 0x101ull << 48);
    tl_free(t);
}

/* Source validation (SVT/SQ, spec 9.9): which requesters pass. */
static void test_source_validation(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, true);
    const siov_sid sid = SIOV_SID(0x40, 0x1F, 7); /* 40:1f.7 = 0x40FF */
    struct {
        unsigned svt, sq;
        uint16_t field;
        siov_sid req;
        bool ok;
    } c[] = {
        {SIOV_SVT_NONE, 0, 0, 0x1234, true},
        {SIOV_SVT_RID, SIOV_SQ_ALL, sid, sid, true},
        {SIOV_SVT_RID, SIOV_SQ_ALL, sid, sid ^ 1, false},
        {SIOV_SVT_RID, SIOV_SQ_NO_BIT2, sid, sid ^ 4, true},
        {SIOV_SVT_RID, SIOV_SQ_NO_BIT2, sid, sid ^ 2, false},
        {SIOV_SVT_RID, SIOV_SQ_NO_BIT2, sid, sid ^ 1, false},
        {SIOV_SVT_RID, SIOV_SQ_NO_BIT2, sid, sid ^ 5, false},
        {SIOV_SVT_RID, SIOV_SQ_NO_BITS21, sid, sid ^ 6, true},
        {SIOV_SVT_RID, SIOV_SQ_NO_BITS21, sid, sid ^ 1, false},
        {SIOV_SVT_RID, SIOV_SQ_NO_BITS210, sid, sid ^ 7, true},
        {SIOV_SVT_RID, SIOV_SQ_NO_BITS210, sid, sid ^ 8, false},
        {SIOV_SVT_RID, SIOV_SQ_NO_BITS210, sid, sid ^ 0x100, false},
        {SIOV_SVT_BUS, 0, 0x2040, SIOV_SID(0x20, 0, 0), true},
        {SIOV_SVT_BUS, 0, 0x2040, SIOV_SID(0x40, 31, 7), true},
        {SIOV_SVT_BUS, 0, 0x2040, SIOV_SID(0x33, 1, 1), true},
        {SIOV_SVT_BUS, 3, 0x2040, SIOV_SID(0x41, 0, 0), false}, /* SQ ignored with SVT=10 */
        {SIOV_SVT_BUS, 3, 0x2040, SIOV_SID(0x30, 0, 3), true},
        {SIOV_SVT_BUS, 0, 0x2040, SIOV_SID(0x1F, 31, 7), false},
        {SIOV_SVT_BUS, 0, 0x2041, SIOV_SID(0x41, 0, 0), true}, /* an odd last bus is in the range */
        {SIOV_SVT_BUS, 0, 0x2041, SIOV_SID(0x42, 0, 0), false},
    };
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        uint64_t q0 = SIOV_IRTE0_P | siov_set(0, SIOV_IRTE0_V, 0x20 + i);
        uint64_t q1 = siov_set(0, SIOV_IRTE1_SVT, c[i].svt) | siov_set(0, SIOV_IRTE1_SQ, c[i].sq) | c[i].field;
        tl_irte(t, IRT, i, q0, q1);
        struct siov_irq out;
        siov_fault f = irq(t, c[i].req, msg(i), 0, &out);
        if (f != (c[i].ok ? SIOV_OK : SIOV_FAULT_IR_26))
            fail_msg("case %u: %s", i, siov_fault_name(f));
        if (c[i].ok)
            assert_int_equal(out.vector, 0x20 + i);
        /* the cached entry validates each request again */
        f = irq(t, c[i].req, msg(i), 0, &out);
        assert_int_equal(f, c[i].ok ? SIOV_OK : SIOV_FAULT_IR_26);
    }
    tl_free(t);
}

/* ------------------------------------------------------ every IR fault */
/* One fault, its return, its record and the blocked count. */
static void expect_irq_fault(struct tl *t, siov_sid sid, uint64_t addr, uint32_t data, siov_fault want,
                             uint64_t fi)
{
    struct siov_irq out;
    uint64_t blocked = tl_stats(t).irq_blocked;
    unsigned n = tl_fault_records(t), at = t->iommu->fault_next; /* where the next record goes */
    siov_fault f = irq(t, sid, addr, data, &out);
    if (f != want)
        fail_msg("addr 0x%llx data 0x%x: %s, expected %s", (unsigned long long)addr, data, siov_fault_name(f),
                 siov_fault_name(want));
    assert_int_equal(tl_stats(t).irq_blocked, blocked + 1);
    assert_int_equal(tl_fault_records(t), n + 1);
    tl_check_irq_frcd(t, at, want, sid, fi);
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, at, &r), 1);
    assert_int_equal(r.reason, want);
    assert_int_equal(r.sid, sid);
    assert_int_equal(r.pasid, SIOV_NO_PASID);
    assert_int_equal(r.addr, fi);
    assert_int_equal(r.access, SIOV_ACCESS_WRITE);
}

struct msi_seen {
    unsigned n;
    uint64_t addr;
    uint32_t data;
};

static void record_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct msi_seen *m = opaque;
    m->n++;
    m->addr = addr;
    m->data = data;
}

/* The fault event of an interrupt-remapping fault is the message FEUADDR,
   FEADDR and FEDATA name; a unit without an msi callback sends it nowhere,
   and the fault and the event's status are the same. */
static void test_fault_event_message(void **state)
{
    (void)state;
    for (int with_cb = 0; with_cb < 2; with_cb++) {
        struct msi_seen seen = {0};
        struct siov_iommu_config cfg;
        cfg_default(&cfg);
        cfg.msi = with_cb ? record_msi : NULL;
        cfg.msi_opaque = &seen;
        struct tl *t = ir_unit(&cfg, true);
        siov_mmio_write(t->iommu, SIOV_REG_FEDATA, 0x4021, 4);
        siov_mmio_write(t->iommu, SIOV_REG_FEADDR, 0xFEE01000u, 4);
        siov_mmio_write(t->iommu, SIOV_REG_FEUADDR, 0x1, 4);
        siov_mmio_write(t->iommu, SIOV_REG_FECTL, 0, 4);
        assert_int_equal(seen.n, 0);
        expect_irq_fault(t, SID_A, msg(9), 0, SIOV_FAULT_IR_22, 9ull << 48);
        assert_int_equal(seen.n, with_cb ? 1u : 0u);
        if (with_cb) {
            assert_int_equal(seen.addr, 0x1FEE01000ull);
            assert_int_equal(seen.data, 0x4021);
        }
        assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FECTL, 4), 0); /* sent: IP clear */
        assert_true(siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4) & SIOV_FSTS_PPF);
        tl_free(t);
    }
}

static void test_fault_20_reserved_request(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, true);
    expect_irq_fault(t, SID_A, siov_msi_remap_addr(5, true), 0x10000, SIOV_FAULT_IR_20, 0);
    expect_irq_fault(t, SID_B, siov_msi_remap_addr(5, true), 0x80000001u, SIOV_FAULT_IR_20, 0);
    tl_free(t);
}

static void test_fault_21_index(void **state)
{
    (void)state;
    for (unsigned s = 0; s < 16; s += 5) {
        struct tl *t = tl_new(NULL);
        tl_ir_enable(t, IRT, s, true);
        uint32_t n = 2u << s;
        struct siov_irq out;
        assert_int_equal(irq(t, SID_A, msg(n - 1), 0, &out), SIOV_FAULT_IR_22); /* inside: read */
        if (s < 15) {
            expect_irq_fault(t, SID_A, msg(n), 0, SIOV_FAULT_IR_21, (uint64_t)n << 48);
            expect_irq_fault(t, SID_A, msg(0xFFFF), 0, SIOV_FAULT_IR_21, 0xFFFFull << 48);
        } else { /* every handle fits: beyond only through a subhandle (FI keeps 16 bits) */
            expect_irq_fault(t, SID_A, siov_msi_remap_addr(0xFFFF, true), 3, SIOV_FAULT_IR_21, 2ull << 48);
        }
        tl_free(t);
    }
    /* the entry's address above HAW */
    struct siov_iommu_config cfg;
    cfg_default(&cfg);
    cfg.haw = 39;
    struct tl *t = tl_new(&cfg);
    tl_ir_enable(t, 1ull << 39, 7, true);
    expect_irq_fault(t, SID_A, msg(3), 0, SIOV_FAULT_IR_21, 3ull << 48);
    tl_free(t);
    /* the last entry below HAW ends at its last byte: it is fetched (and the
       fetch fails beyond guest memory), not refused */
    cfg.haw = 32;
    t = tl_new(&cfg);
    tl_ir_enable(t, (1ull << 32) - 4096, 7, true);
    expect_irq_fault(t, SID_A, msg(255), 0, SIOV_FAULT_IR_23, 255ull << 48);
    tl_free(t);
}

static void test_fault_22_not_present(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, true);
    uint64_t q[2];
    tl_irte_remapped(q, 0x40, 1, true, SID_A);
    tl_irte(t, IRT, 17, q[0] & ~SIOV_IRTE0_P, q[1] | SIOV_IRTE1_REMAP_RSVD); /* nothing else is checked */
    expect_irq_fault(t, SID_B, msg(17), 0, SIOV_FAULT_IR_22, 17ull << 48);
    /* FPD is honoured with P=0: blocked, not recorded */
    tl_irte(t, IRT, 18, SIOV_IRTE0_FPD, 0);
    struct siov_irq out;
    unsigned n = tl_fault_records(t);
    assert_int_equal(irq(t, SID_A, msg(18), 0, &out), SIOV_FAULT_IR_22);
    assert_int_equal(tl_fault_records(t), n);
    assert_int_equal(tl_stats(t).faults, tl_stats(t).faults_recorded + 1);
    tl_free(t);
}

static void test_fault_23_fetch_error(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, true);
    assert_int_equal(siov_mem_fail_range(t->mem, IRT + 0x40 * 16, 16, SIOV_MEM_FAIL_READ), 0);
    expect_irq_fault(t, SID_A, msg(0x40), 0, SIOV_FAULT_IR_23, 0x40ull << 48);
    siov_mem_fail_range(t->mem, 0, 0, 0);
    tl_free(t);
    /* the table beyond guest memory (below HAW) */
    t = tl_new(NULL);
    tl_ir_enable(t, TL_MEM_SIZE - 0x1000, 8, false);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, msg(0xFF), 0, &out), SIOV_FAULT_IR_22);
    expect_irq_fault(t, SID_A, msg(0x100), 0, SIOV_FAULT_IR_23, 0x100ull << 48);
    tl_free(t);
}

/* Each reserved field of a present entry: remapped (xAPIC and x2APIC) and posted. */
static void test_fault_24_reserved_entry(void **state)
{
    (void)state;
    struct {
        bool eime, posted;
        uint64_t q0, q1; /* ORed into a valid entry */
    } c[] = {
        {true, false, SIOV_BIT(12), 0}, {true, false, SIOV_BIT(13), 0}, {true, false, SIOV_BIT(14), 0},
        {true, false, SIOV_BIT(24), 0}, {true, false, SIOV_BIT(31), 0}, {true, false, 0, SIOV_BIT(20)},
        {true, false, 0, SIOV_BIT(63)}, {true, false, 0, siov_set(0, SIOV_IRTE1_SVT, SIOV_SVT_RESERVED)},
        {true, false, siov_set(0, SIOV_IRTE0_DLM, 3), 0}, {true, false, siov_set(0, SIOV_IRTE0_DLM, 6), 0},
        {false, false, SIOV_BIT(32), 0}, {false, false, SIOV_BIT(39), 0}, {false, false, SIOV_BIT(48), 0},
        {false, false, SIOV_BIT(63), 0},
        {true, true, SIOV_BIT(2), 0}, {true, true, SIOV_BIT(7), 0}, {true, true, SIOV_BIT(12), 0},
        {true, true, SIOV_BIT(13), 0}, {true, true, SIOV_BIT(24), 0}, {true, true, SIOV_BIT(37), 0},
        {true, true, 0, SIOV_BIT(20)}, {true, true, 0, SIOV_BIT(31)},
        {true, true, 0, SIOV_BIT(63)}, /* descriptor address bit 63: above HAW */
        {false, true, 0, SIOV_BIT(48)}, /* descriptor address bit 48 (HAW 48) */
    };
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        struct tl *t = ir_unit(NULL, c[i].eime);
        uint64_t q[2];
        if (c[i].posted)
            tl_irte_posted(q, 0x41, PID, false, SID_A);
        else
            tl_irte_remapped(q, 0x41, 3, c[i].eime, SID_A);
        struct siov_irq out;
        tl_irte(t, IRT, 100, q[0], q[1]);
        assert_int_equal(irq(t, SID_A, msg(100), 0, &out), SIOV_OK); /* valid as built */
        tl_irte(t, IRT, 101, q[0] | c[i].q0, q[1] | c[i].q1);
        struct siov_irq o2;
        siov_fault f = irq(t, SID_A, msg(101), 0, &o2);
        if (f != SIOV_FAULT_IR_24)
            fail_msg("case %u: %s", i, siov_fault_name(f));
        tl_check_irq_frcd(t, 0, SIOV_FAULT_IR_24, SID_A, 101ull << 48);
        /* FPD: blocked, not recorded */
        tl_irte(t, IRT, 102, q[0] | c[i].q0 | SIOV_IRTE0_FPD, q[1] | c[i].q1);
        assert_int_equal(irq(t, SID_A, msg(102), 0, &o2), SIOV_FAULT_IR_24);
        assert_int_equal(tl_fault_records(t), 1);
        tl_free(t);
    }
    /* IM=1 is reserved without CAP.PI */
    struct siov_iommu_config cfg;
    cfg_default(&cfg);
    cfg.posted_interrupts = false;
    struct tl *t = ir_unit(&cfg, true);
    uint64_t q[2];
    tl_irte_posted(q, 0x41, PID, false, SID_A);
    tl_irte(t, IRT, 7, q[0], q[1]);
    expect_irq_fault(t, SID_A, msg(7), 0, SIOV_FAULT_IR_24, 7ull << 48);
    tl_free(t);
}

static void test_fault_25_compat_blocked(void **state)
{
    (void)state;
    for (int eime = 0; eime < 2; eime++) {
        struct tl *t = ir_unit(NULL, eime);
        expect_irq_fault(t, SID_A, 0xFEE01008, 0x4031, SIOV_FAULT_IR_25, 0);
        tl_free(t);
    }
}

static void test_fault_26_source(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, false);
    uint64_t q[2];
    tl_irte_remapped(q, 0x77, 1, false, SID_A);
    tl_irte(t, IRT, 0x33, q[0], q[1]);
    expect_irq_fault(t, SID_B, msg(0x33), 0, SIOV_FAULT_IR_26, 0x33ull << 48);
    /* the spec checks the source before the format: both wrong gives IR.26 */
    tl_irte(t, IRT, 0x34, q[0] | SIOV_BIT(12), q[1]);
    expect_irq_fault(t, SID_B, msg(0x34), 0, SIOV_FAULT_IR_26, 0x34ull << 48);
    expect_irq_fault(t, SID_A, msg(0x34), 0, SIOV_FAULT_IR_24, 0x34ull << 48);
    /* FPD suppresses the record */
    tl_irte(t, IRT, 0x35, q[0] | SIOV_IRTE0_FPD, q[1]);
    struct siov_irq out;
    unsigned n = tl_fault_records(t);
    assert_int_equal(irq(t, SID_B, msg(0x35), 0, &out), SIOV_FAULT_IR_26);
    assert_int_equal(irq(t, SID_A, msg(0x35), 0, &out), SIOV_OK); /* now cached, FPD with it */
    assert_int_equal(irq(t, SID_B, msg(0x35), 0, &out), SIOV_FAULT_IR_26);
    assert_int_equal(tl_fault_records(t), n);
    tl_free(t);
}

static void test_fault_27_28_descriptor(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, false);
    uint64_t q[2];
    /* the descriptor outside guest memory (below HAW), and one whose reads fail */
    tl_irte_posted(q, 0x41, TL_MEM_SIZE + 0x40, false, SID_A);
    tl_irte(t, IRT, 1, q[0], q[1]);
    expect_irq_fault(t, SID_A, msg(1), 0, SIOV_FAULT_IR_27, 1ull << 48);
    tl_irte_posted(q, 0x41, PID, false, SID_A);
    tl_irte(t, IRT, 2, q[0], q[1]);
    siov_mem_fail_range(t->mem, PID + 32, 8, SIOV_MEM_FAIL_READ);
    expect_irq_fault(t, SID_A, msg(2), 0, SIOV_FAULT_IR_27, 2ull << 48);
    siov_mem_fail_range(t->mem, PID + 8, 8, SIOV_MEM_FAIL_WRITE); /* the PIR word of 0x41 */
    expect_irq_fault(t, SID_A, msg(2), 0, SIOV_FAULT_IR_27, 2ull << 48);
    siov_mem_fail_range(t->mem, 0, 0, 0);
    /* reserved fields of the descriptor; xAPIC mode: NDST beyond bits 15:8 too */
    static const struct {
        unsigned qw;
        uint64_t bits;
    } rsvd[] = {{4, SIOV_BIT(2)}, {4, SIOV_BIT(15)}, {4, SIOV_BIT(24)}, {4, SIOV_BIT(31)}, {4, SIOV_BIT(32)},
                {4, SIOV_BIT(63)}, {5, 1}, {6, SIOV_BIT(40)}, {7, SIOV_BIT(63)}};
    for (unsigned i = 0; i < sizeof(rsvd) / sizeof(rsvd[0]); i++) {
        for (unsigned k = 0; k < 8; k++)
            tl_w64(t, PID + 8 * k, 0);
        tl_w64(t, PID + 8 * rsvd[i].qw, rsvd[i].bits);
        expect_irq_fault(t, SID_A, msg(2), 0, SIOV_FAULT_IR_28, 2ull << 48);
        assert_int_equal(tl_r64(t, PID), 0); /* blocked: PIR untouched */
        for (unsigned r = 0; r < 8; r++)
            siov_mmio_write(t->iommu, SIOV_REG_FRCD + 16 * r + 8, SIOV_FRCD1_F, 8);
        siov_mmio_write(t->iommu, SIOV_REG_FSTS, SIOV_FSTS_RW1C, 4);
    }
    /* FPD suppresses both */
    tl_irte(t, IRT, 3, q[0] | SIOV_IRTE0_FPD, q[1]);
    tl_w64(t, PID + 40, 1);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, msg(3), 0, &out), SIOV_FAULT_IR_28);
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
    /* x2APIC mode: the whole NDST is the destination */
    t = ir_unit(NULL, true);
    tl_irte(t, IRT, 2, q[0], q[1]);
    tl_w64(t, PID + 32, 0xFFFFFFFF00000000ull);
    assert_int_equal(irq(t, SID_A, msg(2), 0, &out), SIOV_OK);
    assert_int_equal(out.ndst, 0xFFFFFFFFu);
    tl_free(t);
}

static void test_fault_29_not_an_msi(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, true);
    for (unsigned b = 1; b < 4; b++)
        expect_irq_fault(t, SID_A, msg(5) | b, 0, SIOV_FAULT_IR_29, 0);
    /* the last byte of the interrupt range is an interrupt request, a misaligned one */
    expect_irq_fault(t, SID_A, SIOV_INTR_LIMIT, 0, SIOV_FAULT_IR_29, 0);
    /* with remapping off nothing is checked */
    tl_gcmd(t, 0, SIOV_GCMD_IRE);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, 0xFEE00003, 0x22, &out), SIOV_OK);
    tl_free(t);
}

static void test_fault_2a_eimer(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    cfg_default(&cfg);
    cfg.x2apic_only = true;
    struct tl *t = ir_unit(&cfg, false);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_EIMER);
    uint64_t q[2];
    tl_irte_remapped(q, 0x41, 3, false, SID_A);
    tl_irte(t, IRT, 4, q[0], q[1]);
    expect_irq_fault(t, SID_A, msg(4), 0, SIOV_FAULT_IR_2A, 0);
    expect_irq_fault(t, SID_A, 0xFEE00000, 0x41, SIOV_FAULT_IR_2A, 0); /* before the format */
    tl_free(t);
    t = ir_unit(&cfg, true);
    tl_irte_remapped(q, 0x41, 3, true, SID_A);
    tl_irte(t, IRT, 4, q[0], q[1]);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, msg(4), 0, &out), SIOV_OK);
    tl_free(t);
}

static void test_fault_2b_irreq(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    cfg_default(&cfg);
    cfg.irq_remap_required = true;
    struct tl *t = tl_new(&cfg);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_IRREQ);
    expect_irq_fault(t, SID_A, 0xFEE00000, 0x41, SIOV_FAULT_IR_2B, 0);
    expect_irq_fault(t, SID_B, msg(4), 0, SIOV_FAULT_IR_2B, 0);
    tl_ir_enable(t, IRT, 7, true);
    uint64_t q[2];
    tl_irte_remapped(q, 0x41, 3, true, SID_A);
    tl_irte(t, IRT, 4, q[0], q[1]);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, msg(4), 0, &out), SIOV_OK);
    tl_free(t);
}

/* Not interrupt requests at all: nothing counted, nothing recorded. */
static void test_not_an_interrupt(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, true);
    struct siov_irq out;
    assert_int_equal(siov_interrupt(t->iommu, SID_A, 0xFEDFFFFC, 0, &out), SIOV_ERR_BUS);
    assert_int_equal(siov_interrupt(t->iommu, SID_A, 0xFEF00000, 0, &out), SIOV_ERR_BUS);
    assert_int_equal(siov_interrupt(t->iommu, SID_A, 0x1FEE00000ull, 0, &out), SIOV_ERR_BUS);
    assert_int_equal(siov_interrupt(t->iommu, SID_A, msg(1), 0, NULL), SIOV_ERR_BUS);
    assert_int_equal(siov_interrupt(NULL, SID_A, msg(1), 0, &out), SIOV_ERR_BUS);
    assert_int_equal(tl_stats(t).interrupts, 0);
    assert_int_equal(tl_fault_records(t), 0);
    tl_free(t);
}

/* Remapping off: every request passes through as compatibility format. */
static void test_remapping_off_passes_through(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, 0xFEE7F00C, 0xC0FE, &out), SIOV_OK);
    assert_int_equal(out.dest, 0x7F);
    assert_int_equal(out.vector, 0xFE);
    assert_int_equal(out.delivery_mode, 0);
    assert_true(out.redirection_hint && out.dest_logical && out.level_trigger);
    assert_false(out.posted);
    /* a remappable-format message is not looked up either */
    assert_int_equal(irq(t, SID_A, msg(3), 0x31, &out), SIOV_OK);
    assert_int_equal(out.vector, 0x31);
    assert_int_equal(tl_stats(t).irq_compat, 2);
    assert_int_equal(tl_stats(t).iec_misses, 0);
    tl_free(t);
}

/* ------------------------------------------------------------- posting */
static void pid_init(struct tl *t, uint64_t pda, uint64_t ctl)
{
    for (unsigned k = 0; k < 8; k++)
        tl_w64(t, pda + 8 * k, k == 4 ? ctl : 0);
}

/* PIR, ON, SN and URG (spec 5.2.3), xAPIC and x2APIC notification destinations. */
static void test_posted(void **state)
{
    (void)state;
    for (int eime = 0; eime < 2; eime++) {
        struct tl *t = ir_unit(NULL, eime);
        uint32_t ndst = eime ? 0x12345678u : 0x9A;
        uint64_t ctl = siov_set(0, SIOV_PID4_NV, 0xF2) |
                       (eime ? siov_set(0, SIOV_PID4_NDST, ndst) : siov_set(0, SIOV_PID4_NDST_XAPIC, ndst));
        pid_init(t, PID, ctl);
        uint64_t q[2];
        tl_irte_posted(q, 0x87, PID, false, SID_A);
        tl_irte(t, IRT, 10, q[0], q[1]);
        struct siov_irq out;
        assert_int_equal(irq(t, SID_A, msg(10), 0, &out), SIOV_OK);
        assert_true(out.posted && out.notify);
        assert_int_equal(out.pd_addr, PID);
        assert_int_equal(out.vector, 0x87);
        assert_int_equal(out.nv, 0xF2);
        assert_int_equal(out.ndst, ndst);
        assert_int_equal(tl_r64(t, PID + 16), 1ull << 7); /* vector 0x87: qword 2, bit 7 */
        assert_int_equal(tl_r64(t, PID + 32), ctl | SIOV_PID4_ON);
        /* ON already set: recorded, no new notification */
        assert_int_equal(irq(t, SID_A, msg(10), 0, &out), SIOV_OK);
        assert_false(out.notify);
        /* SN with a non-urgent entry: PIR only */
        pid_init(t, PID, ctl | SIOV_PID4_SN);
        tl_irte_posted(q, 0x03, PID, false, SID_A);
        tl_irte(t, IRT, 11, q[0], q[1]);
        assert_int_equal(irq(t, SID_A, msg(11), 0, &out), SIOV_OK);
        assert_false(out.notify);
        assert_int_equal(tl_r64(t, PID), 1ull << 3);
        assert_int_equal(tl_r64(t, PID + 32), ctl | SIOV_PID4_SN);
        /* URG notifies despite SN */
        tl_irte_posted(q, 0xFF, PID, true, SID_A);
        tl_irte(t, IRT, 12, q[0], q[1]);
        assert_int_equal(irq(t, SID_A, msg(12), 0, &out), SIOV_OK);
        assert_true(out.notify);
        assert_int_equal(tl_r64(t, PID + 24), 1ull << 63);
        assert_int_equal(tl_r64(t, PID + 32), ctl | SIOV_PID4_SN | SIOV_PID4_ON);
        /* qw5..7 untouched, earlier PIR bits kept */
        assert_int_equal(tl_r64(t, PID), 1ull << 3);
        assert_int_equal(tl_r64(t, PID + 40) | tl_r64(t, PID + 48) | tl_r64(t, PID + 56), 0);
        struct siov_stats s = tl_stats(t);
        assert_int_equal(s.irq_posted, 4);
        assert_int_equal(s.irq_remapped, 0);
        tl_free(t);
    }
}

/* The unit reads the whole descriptor (8 qwords) before it changes it: a
   descriptor ending at the last byte of guest memory works, and a read
   failing in any qword, even one the interrupt does not change, is IR.27. */
static void test_posted_descriptor_reads(void **state)
{
    (void)state;
    struct tl *t = ir_unit(NULL, true);
    uint64_t q[2];
    uint64_t end = TL_MEM_SIZE - SIOV_PID_SIZE;
    pid_init(t, end, siov_set(0, SIOV_PID4_NV, 0xF3));
    tl_irte_posted(q, 0x87, end, false, SID_A);
    tl_irte(t, IRT, 4, q[0], q[1]);
    struct siov_irq out;
    assert_int_equal(irq(t, SID_A, msg(4), 0, &out), SIOV_OK);
    assert_true(out.posted && out.notify);
    assert_int_equal(out.nv, 0xF3);
    assert_int_equal(tl_r64(t, end + 16), 1ull << 7);
    pid_init(t, PID, 0);
    tl_irte_posted(q, 0x87, PID, false, SID_A);
    tl_irte(t, IRT, 5, q[0], q[1]);
    for (unsigned k = 0; k < 8; k++) {
        siov_mem_fail_range(t->mem, PID + 8 * k, 8, SIOV_MEM_FAIL_READ);
        expect_irq_fault(t, SID_A, msg(5), 0, SIOV_FAULT_IR_27, 5ull << 48);
        siov_mem_fail_range(t->mem, 0, 0, 0);
        for (unsigned r = 0; r < 8; r++)
            siov_mmio_write(t->iommu, SIOV_REG_FRCD + 16 * r + 8, SIOV_FRCD1_F, 8);
        siov_mmio_write(t->iommu, SIOV_REG_FSTS, SIOV_FSTS_RW1C, 4);
    }
    assert_int_equal(tl_r64(t, PID + 16), 0); /* nothing posted */
    tl_free(t);
}

/* ------------------------------------------- posting against a CPU thread */
/* Guest memory served by callbacks over a buffer, every aligned word accessed
   atomically, with (or without) the embedder's compare-and-exchange. */
struct cb_ram {
    uint64_t *w;
    size_t words;
};

static int ram_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct cb_ram *r = opaque;
    if ((gpa | len) & 7 || gpa / 8 + len / 8 > r->words)
        return -1;
    for (size_t i = 0; i < len / 8; i++) {
        uint64_t v = __atomic_load_n(&r->w[gpa / 8 + i], __ATOMIC_SEQ_CST);
        memcpy((char *)dst + 8 * i, &v, 8);
    }
    return 0;
}

static int ram_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct cb_ram *r = opaque;
    if ((gpa | len) & 7 || gpa / 8 + len / 8 > r->words)
        return -1;
    for (size_t i = 0; i < len / 8; i++) {
        uint64_t v;
        memcpy(&v, (const char *)src + 8 * i, 8);
        __atomic_store_n(&r->w[gpa / 8 + i], v, __ATOMIC_SEQ_CST);
    }
    return 0;
}

static int ram_cmpxchg(void *opaque, uint64_t gpa, uint64_t *expected, uint64_t desired)
{
    struct cb_ram *r = opaque;
    if ((gpa & 7) || gpa / 8 >= r->words)
        return -1;
    return __atomic_compare_exchange_n(&r->w[gpa / 8], expected, desired, false, __ATOMIC_SEQ_CST,
                                       __ATOMIC_SEQ_CST) ? 0 : 1;
}

struct cpu {
    uint64_t *ctl, *pir;  /* the descriptor's words */
    unsigned cleared;     /* ON found set and cleared */
    unsigned sn_flips;
};

/* The CPU side of a posted interrupt: sets the odd vectors, flips SN and
   drains ON, all with locked instructions on the descriptor. */
static void *cpu_thread(void *arg)
{
    struct cpu *c = arg;
    for (unsigned round = 0; round < 2000; round++) {
        unsigned v = 2 * (round % 128) + 1;
        __atomic_fetch_or(&c->pir[v / 64], 1ull << (v % 64), __ATOMIC_SEQ_CST);
        if (round % 3 == 0) {
            __atomic_fetch_xor(c->ctl, SIOV_PID4_SN, __ATOMIC_SEQ_CST);
            c->sn_flips++;
        }
        if (__atomic_fetch_and(c->ctl, ~SIOV_PID4_ON, __ATOMIC_SEQ_CST) & SIOV_PID4_ON)
            c->cleared++;
    }
    return NULL;
}

/* Posts the even vectors through 128 entries while a CPU thread works on the
   same descriptor: no PIR bit is lost, and every notification the unit
   reported is an ON it set and the CPU later found. */
static void posted_race(struct tl *t, uint64_t *words)
{
    tl_ir_enable(t, IRT, 7, true);
    pid_init(t, PID, siov_set(0, SIOV_PID4_NV, 0xEC));
    for (unsigned i = 0; i < 128; i++) {
        uint64_t q[2];
        tl_irte_posted(q, (uint8_t)(2 * i), PID, i % 5 == 0, SID_A);
        tl_irte(t, IRT, i, q[0], q[1]);
    }
    struct cpu c = {.ctl = &words[(PID + 32) / 8], .pir = &words[PID / 8]};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, cpu_thread, &c), 0);
    unsigned notified = 0;
    for (unsigned round = 0; round < 2000; round++) {
        struct siov_irq out;
        assert_int_equal(siov_interrupt(t->iommu, SID_A, msg(round % 128), 0, &out), SIOV_OK);
        notified += out.notify;
    }
    pthread_join(th, NULL);
    if (__atomic_fetch_and(c.ctl, ~SIOV_PID4_ON, __ATOMIC_SEQ_CST) & SIOV_PID4_ON)
        c.cleared++;
    for (unsigned k = 0; k < 4; k++)
        assert_int_equal(__atomic_load_n(&c.pir[k], __ATOMIC_SEQ_CST), ~0ull);
    assert_int_equal(notified, c.cleared);
    assert_int_equal(*c.ctl, siov_set(0, SIOV_PID4_NV, 0xEC) | (c.sn_flips % 2 ? SIOV_PID4_SN : 0));
    assert_int_equal(tl_stats(t).irq_posted, 2000);
}

static void test_posted_race_flat(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    posted_race(t, siov_mem_flat_ptr(t->mem));
    tl_free(t);
}

static void test_posted_race_callback(void **state)
{
    (void)state;
    struct cb_ram ram = {calloc(TL_MEM_SIZE / 8, 8), TL_MEM_SIZE / 8};
    assert_non_null(ram.w);
    static const struct siov_mem_ops ops = {.read = ram_read, .write = ram_write, .cmpxchg64 = ram_cmpxchg};
    struct tl *t = calloc(1, sizeof(*t));
    t->mem = siov_mem_new(&ops, &ram);
    t->iommu = siov_iommu_new(t->mem, NULL);
    t->next_page = TL_POOL_BASE;
    posted_race(t, ram.w);
    tl_free(t);
    free(ram.w);
}

struct poster {
    struct tl *t;
    unsigned first;
};

static void *post_thread(void *arg)
{
    struct poster *p = arg;
    for (unsigned round = 0; round < 1000; round++) {
        struct siov_irq out;
        assert_int_equal(siov_interrupt(p->t->iommu, SID_A, msg(p->first + round % 64), 0, &out), SIOV_OK);
    }
    return NULL;
}

/* Without the embedder's cmpxchg64 the unit serializes its own updates: two
   threads posting to one descriptor lose nothing. */
static void test_posted_two_units_serialized(void **state)
{
    (void)state;
    struct cb_ram ram = {calloc(TL_MEM_SIZE / 8, 8), TL_MEM_SIZE / 8};
    static const struct siov_mem_ops ops = {.read = ram_read, .write = ram_write};
    struct tl *t = calloc(1, sizeof(*t));
    t->mem = siov_mem_new(&ops, &ram);
    t->iommu = siov_iommu_new(t->mem, NULL);
    tl_ir_enable(t, IRT, 7, true);
    for (unsigned i = 0; i < 128; i++) {
        uint64_t q[2];
        tl_irte_posted(q, (uint8_t)(i * 2 + (i >= 64)), PID, false, SID_A);
        tl_irte(t, IRT, i, q[0], q[1]);
    }
    struct poster p[2] = {{t, 0}, {t, 64}};
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, post_thread, &p[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    for (unsigned k = 0; k < 4; k++)
        assert_int_equal(tl_r64(t, PID + 8 * k), k < 2 ? 0x5555555555555555ull : 0xAAAAAAAAAAAAAAAAull);
    assert_int_equal(tl_r64(t, PID + 32), SIOV_PID4_ON);
    tl_free(t);
    free(ram.w);
}

/* ------------------------------------ a descriptor changed under the unit */
/* Callback memory where a CPU changes one descriptor word (xor) just before
   the unit's compare-and-exchange on it, once; then, if asked, reads of
   that word fail, or the exchange itself fails. */
struct meddler {
    struct cb_ram ram; /* first: the ram callbacks take the meddler as theirs */
    uint64_t gpa, xor_bits;
    bool armed, fail_reread, fail_cmpxchg, reads_fail;
};

static int meddle_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct meddler *m = opaque;
    if (m->reads_fail && gpa <= m->gpa && m->gpa < gpa + len)
        return -1;
    return ram_read(&m->ram, gpa, dst, len);
}

static int meddle_cmpxchg(void *opaque, uint64_t gpa, uint64_t *expected, uint64_t desired)
{
    struct meddler *m = opaque;
    if (m->armed && gpa == m->gpa) {
        m->armed = false;
        if (m->fail_cmpxchg)
            return -5;
        m->ram.w[gpa / 8] ^= m->xor_bits;
        m->reads_fail = m->fail_reread;
    }
    return ram_cmpxchg(&m->ram, gpa, expected, desired);
}

/* Entry 10 posts vector 0x87 (PIR qword 2, bit 7), not urgent, to PID. */
#define MED_CTL (siov_set(0, SIOV_PID4_NV, 0xF2) | siov_set(0, SIOV_PID4_NDST, 0x1234))

static struct tl *meddled_unit(struct meddler *m, uint64_t gpa, uint64_t xor_bits)
{
    static const struct siov_mem_ops ops = {.read = meddle_read, .write = ram_write, .cmpxchg64 = meddle_cmpxchg};
    *m = (struct meddler){.ram = {calloc(TL_MEM_SIZE / 8, 8), TL_MEM_SIZE / 8}, .gpa = gpa, .xor_bits = xor_bits};
    assert_non_null(m->ram.w);
    struct tl *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->mem = siov_mem_new(&ops, m);
    t->iommu = siov_iommu_new(t->mem, NULL);
    t->next_page = TL_POOL_BASE;
    tl_ir_enable(t, IRT, 7, true);
    uint64_t q[2];
    tl_irte_posted(q, 0x87, PID, false, SID_A);
    tl_irte(t, IRT, 10, q[0], q[1]);
    pid_init(t, PID, MED_CTL);
    m->armed = true;
    return t;
}

static void meddled_free(struct tl *t, struct meddler *m)
{
    tl_free(t);
    free(m->ram.w);
}

/* The CPU sets another PIR bit or SN, or a reserved bit, between the unit's
   read and its exchange: the unit reads the word again and goes on from
   what it finds (spec 5.2.3: the updates are atomic against the CPU's). */
static void test_posted_descriptor_changed(void **state)
{
    (void)state;
    struct meddler m;
    struct siov_irq out;
    /* PIR: vector 0x80 posted meanwhile; both bits stay, ON set, notified */
    struct tl *t = meddled_unit(&m, PID + 16, 1);
    assert_int_equal(irq(t, SID_A, msg(10), 0, &out), SIOV_OK);
    assert_true(out.posted && out.notify);
    assert_int_equal(out.nv, 0xF2);
    assert_int_equal(out.ndst, 0x1234);
    assert_int_equal(tl_r64(t, PID + 16), (1ull << 7) | 1);
    assert_int_equal(tl_r64(t, PID + 32), MED_CTL | SIOV_PID4_ON);
    meddled_free(t, &m);
    /* SN set meanwhile: the non-urgent interrupt goes to the PIR only */
    t = meddled_unit(&m, PID + 32, SIOV_PID4_SN);
    assert_int_equal(irq(t, SID_A, msg(10), 0, &out), SIOV_OK);
    assert_true(out.posted);
    assert_false(out.notify);
    assert_int_equal(tl_r64(t, PID + 16), 1ull << 7);
    assert_int_equal(tl_r64(t, PID + 32), MED_CTL | SIOV_PID4_SN);
    meddled_free(t, &m);
    /* a reserved control bit set meanwhile: IR.28, ON not set */
    t = meddled_unit(&m, PID + 32, SIOV_BIT(2));
    expect_irq_fault(t, SID_A, msg(10), 0, SIOV_FAULT_IR_28, 10ull << 48);
    assert_int_equal(tl_r64(t, PID + 32), MED_CTL | SIOV_BIT(2));
    meddled_free(t, &m);
    /* the word changed and can no longer be read, or the exchange fails: IR.27 */
    static const uint64_t at[] = {PID + 16, PID + 32};
    for (unsigned i = 0; i < 2; i++) {
        t = meddled_unit(&m, at[i], SIOV_BIT(1));
        m.fail_reread = true;
        expect_irq_fault(t, SID_A, msg(10), 0, SIOV_FAULT_IR_27, 10ull << 48);
        m.reads_fail = false;
        assert_int_equal(tl_r64(t, PID + 32) & SIOV_PID4_ON, 0);
        meddled_free(t, &m);
    }
    /* the exchange succeeds and the word is not read again: reads failing from then on change nothing */
    t = meddled_unit(&m, PID + 16, 0);
    m.fail_reread = true;
    assert_int_equal(irq(t, SID_A, msg(10), 0, &out), SIOV_OK);
    assert_true(out.notify);
    m.reads_fail = false;
    assert_int_equal(tl_r64(t, PID + 16), 1ull << 7);
    meddled_free(t, &m);
    t = meddled_unit(&m, PID + 32, 0);
    m.fail_cmpxchg = true;
    expect_irq_fault(t, SID_A, msg(10), 0, SIOV_FAULT_IR_27, 10ull << 48);
    assert_int_equal(tl_r64(t, PID + 16), 1ull << 7); /* the PIR bit was set first */
    assert_int_equal(tl_r64(t, PID + 32), MED_CTL);
    meddled_free(t, &m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_masks_literal),
        cmocka_unit_test(test_irta_latched_by_sirtp),
        cmocka_unit_test(test_irta_eime_needs_eim),
        cmocka_unit_test(test_cfi_cfis),
        cmocka_unit_test(test_bringup_raw_registers),
        cmocka_unit_test(test_event_registers_reset_masked),
        cmocka_unit_test(test_fault_event_message),
        cmocka_unit_test(test_remapped_fields),
        cmocka_unit_test(test_subhandle),
        cmocka_unit_test(test_source_validation),
        cmocka_unit_test(test_fault_20_reserved_request),
        cmocka_unit_test(test_fault_21_index),
        cmocka_unit_test(test_fault_22_not_present),
        cmocka_unit_test(test_fault_23_fetch_error),
        cmocka_unit_test(test_fault_24_reserved_entry),
        cmocka_unit_test(test_fault_25_compat_blocked),
        cmocka_unit_test(test_fault_26_source),
        cmocka_unit_test(test_fault_27_28_descriptor),
        cmocka_unit_test(test_fault_29_not_an_msi),
        cmocka_unit_test(test_fault_2a_eimer),
        cmocka_unit_test(test_fault_2b_irreq),
        cmocka_unit_test(test_not_an_interrupt),
        cmocka_unit_test(test_remapping_off_passes_through),
        cmocka_unit_test(test_posted),
        cmocka_unit_test(test_posted_descriptor_reads),
        cmocka_unit_test(test_posted_race_flat),
        cmocka_unit_test(test_posted_race_callback),
        cmocka_unit_test(test_posted_two_units_serialized),
        cmocka_unit_test(test_posted_descriptor_changed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The interrupt entry cache (spec 6.4, 6.5.2.8; facts 12.7): a changed entry
 * keeps remapping the old way until exactly the right invalidation — global,
 * index-selective with each index mask, SIRTP and IRE-off under CAP.ESIRTPS —
 * faulting entries are never cached, and the stale-translation checker
 * reports what the cache got wrong. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "caches.h"
#include "internal.h"
#include "testlib.h"

#define IRT 0x1000000ull  /* table of up to 65536 entries (1 MiB) */
#define IRT2 0x1200000ull /* a second table */
#define SID_A SIOV_SID(5, 0, 0)

/* A 128-bit invalidation queue with a wait after each descriptor. */
struct q {
    struct tl *t;
    uint64_t base, status;
    unsigned tail;
    uint32_t seq;
};

static void q_init(struct q *q, struct tl *t)
{
    *q = (struct q){t, tl_page(t), tl_page(t), 0, 0};
    siov_mmio_write(t->iommu, SIOV_REG_IQT, 0, 8);
    siov_mmio_write(t->iommu, SIOV_REG_IQA, q->base, 8);
    tl_gcmd(t, SIOV_GCMD_QIE, 0);
}

static void q_put(struct q *q, uint64_t qw0, uint64_t qw1)
{
    tl_w64(q->t, q->base + 16ull * q->tail, qw0);
    tl_w64(q->t, q->base + 16ull * q->tail + 8, qw1);
    q->tail = (q->tail + 1) % 256;
}

/* Submit one descriptor and a status-writing wait; true if the wait completed. */
static bool q_run(struct q *q, uint64_t qw0)
{
    q_put(q, qw0, 0);
    q_put(q, siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, ++q->seq),
          q->status);
    siov_mmio_write(q->t->iommu, SIOV_REG_IQT, 16ull * q->tail, 8);
    uint32_t st;
    assert_int_equal(siov_mem_read(q->t->mem, q->status, &st, 4), 0);
    return st == q->seq;
}

static uint64_t iec_global(void) { return siov_dsc_make_type(SIOV_DSC_IEC); }

static uint64_t iec_index(uint32_t iidx, unsigned im)
{
    return siov_dsc_make_type(SIOV_DSC_IEC) | SIOV_IEC0_G | siov_set(0, SIOV_IEC0_IM, im) |
           siov_set(0, SIOV_IEC0_IIDX, iidx);
}

/* Entry index of table: vector, x2APIC destination dest, for SID_A. */
static void entry(struct tl *t, uint64_t table, uint32_t index, uint8_t vector, uint32_t dest)
{
    uint64_t q[2];
    tl_irte_remapped(q, vector, dest, true, SID_A);
    tl_irte(t, table, index, q[0], q[1]);
}

/* The vector index remaps to now (0 on a fault). */
static unsigned vec(struct tl *t, uint32_t index)
{
    struct siov_irq out;
    siov_fault f = siov_interrupt(t->iommu, SID_A, siov_msi_remap_addr(index, false), 0, &out);
    return f ? 0 : out.vector;
}

/* A unit remapping through IRT (size field s); with q, its invalidation queue set up too. */
static struct tl *unit(bool esirtps, unsigned s, struct q *q)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.esirtps = esirtps;
    struct tl *t = tl_new(&cfg);
    tl_ir_enable(t, IRT, s, true);
    if (q)
        q_init(q, t);
    return t;
}

/* Entry index remaps to vector cached (now in the cache), then changes to
   fresh in the table without an invalidation. */
static void cached_then_changed(struct tl *t, uint32_t index, uint8_t cached, uint8_t fresh, uint32_t dest)
{
    entry(t, IRT, index, cached, dest);
    assert_int_equal(vec(t, index), cached);
    entry(t, IRT, index, fresh, dest);
}

/* ------------------------------------------------------------- staleness */
static void test_stale_until_global(void **state)
{
    (void)state;
    for (int es = 0; es < 2; es++) {
        struct q q;
        struct tl *t = unit(es, 7, &q);
        cached_then_changed(t, 5, 0x40, 0x41, 1);
        assert_int_equal(vec(t, 5), 0x40); /* cached */
        assert_true(q_run(&q, iec_index(4, 0)));
        assert_true(q_run(&q, iec_index(6, 0)));
        assert_int_equal(vec(t, 5), 0x40);
        /* other caches' invalidations do not touch it */
        assert_true(q_run(&q, siov_set(siov_dsc_make_type(SIOV_DSC_CC), SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL)));
        assert_true(q_run(&q, siov_set(siov_dsc_make_type(SIOV_DSC_IOTLB), SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL)));
        assert_int_equal(vec(t, 5), 0x40);
        assert_true(q_run(&q, iec_global()));
        assert_int_equal(vec(t, 5), 0x41);
        struct siov_stats s = tl_stats(t);
        assert_int_equal(s.inv_iec, 3);
        assert_int_equal(s.iec_misses, 2);
        assert_int_equal(s.iec_hits, 3);
        tl_free(t);
    }
}

/* Index-selective with IM: the 2^IM entries around IIDX (low IM bits ignored),
   nothing either side. */
static void test_index_selective_each_im(void **state)
{
    (void)state;
    for (unsigned im = 0; im <= 15; im++) {
        struct q q;
        struct tl *t = unit(false, 15, &q);
        uint32_t n = 1u << im, first = 0x8000 - (im == 15 ? 0x8000 : 2 * n), last = first + n - 1;
        uint32_t iidx = first + (n - 1) / 3; /* inside, not aligned */
        uint32_t probe[4] = {first ? first - 1 : last + 2, first, last, last + 1};
        for (int i = 0; i < 4; i++)
            cached_then_changed(t, probe[i], 0x50, 0x60, 2);
        assert_true(q_run(&q, iec_index(iidx, im)));
        assert_int_equal(vec(t, probe[0]), 0x50);
        assert_int_equal(vec(t, probe[1]), 0x60);
        assert_int_equal(vec(t, probe[2]), 0x60);
        assert_int_equal(vec(t, probe[3]), 0x50);
        tl_free(t);
    }
}

/* IM above ECAP.MHMV (15) is an invalid descriptor: IQE, nothing invalidated. */
static void test_im_above_mhmv(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = unit(false, 7, &q);
    cached_then_changed(t, 1, 0x40, 0x41, 1);
    assert_false(q_run(&q, iec_index(0, 16)));
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4) & SIOV_FSTS_IQE);
    assert_int_equal(siov_get(siov_mmio_read(t->iommu, SIOV_REG_IQERCD, 8), SIOV_IQERCD_IQEI), SIOV_IQEI_RSVD);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_IQH, 8), 0);
    assert_int_equal(vec(t, 1), 0x40);
    tl_free(t);
    /* a global invalidation ignores IM and IIDX; reserved bits and qw1 do not pass */
    t = unit(false, 7, &q);
    cached_then_changed(t, 1, 0x40, 0x41, 1);
    assert_true(q_run(&q, iec_global() | siov_set(0, SIOV_IEC0_IM, 31) | siov_set(0, SIOV_IEC0_IIDX, 9)));
    assert_int_equal(vec(t, 1), 0x41);
    assert_false(q_run(&q, iec_global() | SIOV_BIT(12)));
    tl_free(t);
}

/* SIRTP: without ESIRTPS the cache keeps the old table's entries until a
   global invalidation; with it, SIRTP (and IRE going off) empties the cache. */
static void test_sirtp_and_esirtps(void **state)
{
    (void)state;
    for (int es = 0; es < 2; es++) {
        struct q q;
        struct tl *t = unit(es, 7, &q);
        entry(t, IRT, 3, 0x40, 1);
        entry(t, IRT2, 3, 0x70, 1);
        assert_int_equal(vec(t, 3), 0x40);
        siov_mmio_write(t->iommu, SIOV_REG_IRTA, IRT2 | SIOV_IRTA_EIME | 7, 8);
        tl_gcmd(t, SIOV_GCMD_SIRTP, 0);
        assert_int_equal(vec(t, 3), es ? 0x70 : 0x40);
        assert_true(q_run(&q, iec_global()));
        assert_int_equal(vec(t, 3), 0x70);
        /* IRE off and on again */
        entry(t, IRT2, 3, 0x71, 1);
        tl_gcmd(t, 0, SIOV_GCMD_IRE);
        tl_gcmd(t, SIOV_GCMD_IRE, 0);
        assert_int_equal(vec(t, 3), es ? 0x71 : 0x70);
        assert_int_equal(tl_stats(t).inv_iec, 1); /* the unit's own invalidations are not descriptors */
        tl_free(t);
    }
}

/* An entry that faulted is not cached: fixing it takes effect at once. */
static void test_faults_not_cached(void **state)
{
    (void)state;
    struct tl *t = unit(false, 7, NULL);
    struct siov_irq out;
    uint64_t q[2];
    /* not present, then present */
    tl_irte(t, IRT, 8, 0, 0);
    assert_int_equal(vec(t, 8), 0);
    entry(t, IRT, 8, 0x48, 1);
    assert_int_equal(vec(t, 8), 0x48);
    /* reserved bit, then fixed */
    tl_irte_remapped(q, 0x49, 1, true, SID_A);
    tl_irte(t, IRT, 9, q[0] | SIOV_BIT(13), q[1]);
    assert_int_equal(vec(t, 9), 0);
    tl_irte(t, IRT, 9, q[0], q[1]);
    assert_int_equal(vec(t, 9), 0x49);
    /* source validation failed for another requester, then the entry names it */
    tl_irte_remapped(q, 0x4A, 1, true, SIOV_SID(6, 0, 0));
    tl_irte(t, IRT, 10, q[0], q[1]);
    assert_int_equal(vec(t, 10), 0);
    entry(t, IRT, 10, 0x4A, 1);
    assert_int_equal(vec(t, 10), 0x4A);
    /* a posted entry whose descriptor faults: the entry itself is good and
       cached, the descriptor is read every time */
    tl_irte_posted(q, 0x4B, 0x1300000, false, SID_A);
    tl_irte(t, IRT, 11, q[0], q[1]);
    tl_w64(t, 0x1300000 + 56, 1);
    assert_int_equal(siov_interrupt(t->iommu, SID_A, siov_msi_remap_addr(11, false), 0, &out), SIOV_FAULT_IR_28);
    tl_w64(t, 0x1300000 + 56, 0);
    assert_int_equal(siov_interrupt(t->iommu, SID_A, siov_msi_remap_addr(11, false), 0, &out), SIOV_OK);
    assert_true(out.posted);
    struct siov_stats s = tl_stats(t);
    assert_int_equal(s.iec_misses, 7);
    assert_int_equal(s.iec_hits, 1);
    assert_int_equal(siov_iec_occupancy(t->iommu->caches), 4);
    tl_free(t);
}

/* ------------------------------------------------------- stale checker */
struct reports {
    unsigned n;
    struct siov_stale_report last;
};

static void on_stale(void *opaque, const struct siov_stale_report *r)
{
    struct reports *rs = opaque;
    rs->n++;
    rs->last = *r;
}

/* A unit remapping through IRT with the stale-translation checker on; its
   reports go to rs when with_cb, else it only counts. */
static struct tl *checked_unit(struct reports *rs, bool with_cb)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.stale_check = true;
    cfg.stale_report = with_cb ? on_stale : NULL;
    cfg.stale_opaque = rs;
    struct tl *t = tl_new(&cfg);
    tl_ir_enable(t, IRT, 7, true);
    return t;
}

static void test_stale_checker(void **state)
{
    (void)state;
    struct reports rs = {0};
    struct tl *t = checked_unit(&rs, true);
    struct q q;
    q_init(&q, t);
    entry(t, IRT, 20, 0x40, 0x11);
    assert_int_equal(vec(t, 20), 0x40);
    assert_int_equal(vec(t, 20), 0x40); /* a hit that agrees with memory */
    assert_int_equal(rs.n, 0);
    entry(t, IRT, 20, 0x41, 0x22);
    assert_int_equal(vec(t, 20), 0x40);
    assert_int_equal(rs.n, 1);
    assert_true(rs.last.interrupt);
    assert_int_equal(rs.last.caches, SIOV_CACHE_IEC);
    assert_int_equal(rs.last.sid, SID_A);
    assert_int_equal(rs.last.pasid, SIOV_NO_PASID);
    assert_int_equal(rs.last.iova, siov_msi_remap_addr(20, false));
    assert_int_equal(rs.last.access, SIOV_ACCESS_WRITE);
    assert_int_equal(rs.last.cached_fault, SIOV_OK);
    assert_int_equal(rs.last.fresh_fault, SIOV_OK);
    assert_int_equal(rs.last.cached_irq.vector, 0x40);
    assert_int_equal(rs.last.cached_irq.dest, 0x11);
    assert_int_equal(rs.last.fresh_irq.vector, 0x41);
    assert_int_equal(rs.last.fresh_irq.dest, 0x22);
    /* the entry removed: fresh says IR.22 */
    tl_irte(t, IRT, 20, 0, 0);
    assert_int_equal(vec(t, 20), 0x40);
    assert_int_equal(rs.n, 2);
    assert_int_equal(rs.last.fresh_fault, SIOV_FAULT_IR_22);
    assert_int_equal(rs.last.fresh_irq.vector, 0);
    /* invalidated: the fault is the answer, and it agrees */
    assert_true(q_run(&q, iec_index(20, 0)));
    assert_int_equal(vec(t, 20), 0);
    assert_int_equal(rs.n, 2);
    assert_int_equal(tl_stats(t).stale_hits, 2);
    tl_free(t);
}

/* One field of a cached entry changed in the table without an invalidation:
   the checker tells each field apart (cached first, then the table now). */
struct field_change {
    const char *name;
    uint64_t cached[2], fresh[2];
};

#define PD 0x1300000ull /* a zeroed (valid) posted-interrupt descriptor, and another 64 bytes on */

static void test_stale_checker_each_field(void **state)
{
    (void)state;
    uint64_t r[2], p[2], pu[2], p2[2], bare[2], bare_posted[2];
    tl_irte_remapped(r, 0x40, 0x11, true, SID_A);
    tl_irte_posted(p, 0x40, PD, false, SID_A);
    tl_irte_posted(pu, 0x40, PD, true, SID_A);
    tl_irte_posted(p2, 0x40, PD + 64, false, SID_A);
    /* remapped with every remapped-only field 0, and posted at 0: only IM differs */
    tl_irte_remapped(bare, 0x40, 0, true, SID_A);
    tl_irte_posted(bare_posted, 0x40, 0, false, SID_A);
    const struct field_change ch[] = {
        {"pda", {p[0], p[1]}, {p2[0], p2[1]}},
        {"dst", {r[0], r[1]}, {siov_set(r[0], SIOV_IRTE0_DST, 0x22), r[1]}},
        {"sid", {r[0], r[1]}, {r[0], siov_set(siov_set(r[1], SIOV_IRTE1_SID, SID_A | 7), SIOV_IRTE1_SQ, 3)}},
        {"sq", {r[0], r[1]}, {r[0], siov_set(r[1], SIOV_IRTE1_SQ, 1)}},
        {"svt", {r[0], r[1]}, {r[0], siov_set(r[1], SIOV_IRTE1_SVT, SIOV_SVT_NONE)}},
        {"vector", {r[0], r[1]}, {siov_set(r[0], SIOV_IRTE0_V, 0x41), r[1]}},
        {"dlm", {r[0], r[1]}, {siov_set(r[0], SIOV_IRTE0_DLM, 1), r[1]}},
        {"posted", {bare[0], bare[1]}, {bare_posted[0], bare_posted[1]}},
        {"fpd", {r[0], r[1]}, {r[0] | SIOV_IRTE0_FPD, r[1]}},
        {"dm", {r[0], r[1]}, {r[0] | SIOV_IRTE0_DM, r[1]}},
        {"rh", {r[0], r[1]}, {r[0] | SIOV_IRTE0_RH, r[1]}},
        {"tm", {r[0], r[1]}, {r[0] | SIOV_IRTE0_TM, r[1]}},
        {"urg", {p[0], p[1]}, {pu[0], pu[1]}},
    };
    struct reports rs = {0};
    struct tl *t = checked_unit(&rs, true);
    for (unsigned i = 0; i < sizeof(ch) / sizeof(ch[0]); i++) {
        uint32_t index = 40 + i;
        uint64_t addr = siov_msi_remap_addr(index, false);
        struct siov_irq first, again;
        tl_irte(t, IRT, index, ch[i].cached[0], ch[i].cached[1]);
        assert_int_equal(siov_interrupt(t->iommu, SID_A, addr, 0, &first), SIOV_OK);
        tl_irte(t, IRT, index, ch[i].fresh[0], ch[i].fresh[1]);
        assert_int_equal(siov_interrupt(t->iommu, SID_A, addr, 0, &again), SIOV_OK);
        if (rs.n != i + 1)
            fail_msg("a changed %s: %u reports, expected %u", ch[i].name, rs.n, i + 1);
        /* the cached entry answered, and the report holds both */
        assert_int_equal(again.vector, first.vector);
        assert_int_equal(again.dest, first.dest);
        assert_int_equal(again.posted, first.posted);
        assert_int_equal(again.pd_addr, first.pd_addr);
        assert_int_equal(rs.last.cached_fault, SIOV_OK);
        assert_int_equal(rs.last.fresh_fault, SIOV_OK);
        assert_int_equal(rs.last.cached_irq.posted, first.posted);
        assert_int_equal(rs.last.cached_irq.pd_addr, first.pd_addr);
        assert_int_equal(rs.last.cached_irq.vector, 0x40);
        assert_int_equal(rs.last.cached_irq.dest, first.dest);
    }
    /* the outcome as each side decodes it */
    assert_int_equal(rs.last.fresh_irq.posted, true); /* urg: posted both times */
    assert_int_equal(rs.last.fresh_irq.pd_addr, PD);
    tl_free(t);
}

/* A cached entry whose source check fails for this requester, and the table
   agrees: no report. The checker without a report callback only counts. */
static void test_stale_checker_agreeing_fault_and_no_callback(void **state)
{
    (void)state;
    for (int with_cb = 0; with_cb < 2; with_cb++) {
        struct reports rs = {0};
        struct tl *t = checked_unit(&rs, with_cb);
        entry(t, IRT, 3, 0x40, 0x11);
        assert_int_equal(vec(t, 3), 0x40);
        struct siov_irq out;
        uint64_t addr = siov_msi_remap_addr(3, false);
        assert_int_equal(siov_interrupt(t->iommu, SIOV_SID(6, 0, 0), addr, 0, &out), SIOV_FAULT_IR_26);
        assert_int_equal(tl_stats(t).stale_hits, 0);
        assert_int_equal(tl_stats(t).iec_hits, 1);
        entry(t, IRT, 3, 0x41, 0x11);
        assert_int_equal(vec(t, 3), 0x40);
        assert_int_equal(tl_stats(t).stale_hits, 1);
        assert_int_equal(rs.n, with_cb ? 1u : 0u);
        tl_free(t);
    }
}

/* Occupancy counts the live entries only: a global invalidation empties it. */
static void test_occupancy_after_global(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = unit(false, 7, &q);
    entry(t, IRT, 1, 0x40, 1);
    entry(t, IRT, 2, 0x41, 1);
    assert_int_equal(vec(t, 1), 0x40);
    assert_int_equal(vec(t, 2), 0x41);
    assert_int_equal(siov_iec_occupancy(t->iommu->caches), 2);
    assert_true(q_run(&q, iec_global()));
    assert_int_equal(siov_iec_occupancy(t->iommu->caches), 0);
    assert_int_equal(vec(t, 1), 0x40);
    assert_int_equal(siov_iec_occupancy(t->iommu->caches), 1);
    tl_free(t);
}

/* Guest memory by callbacks over a buffer; reading entry `index` of the
   table once issues SIRTP (CAP.ESIRTPS: the interrupt entry cache emptied)
   in the middle of the unit's lookup. */
struct sirtp_mem {
    uint8_t *buf;
    uint64_t size, trigger; /* gpa whose read issues the command; 0: none */
    struct tl *t;
    const uint32_t *then; /* indices whose interrupts arrive after the command */
    unsigned nthen;
};

static int sm_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct sirtp_mem *m = opaque;
    if (gpa > m->size || len > m->size - gpa)
        return -1;
    memcpy(dst, m->buf + gpa, len);
    if (m->trigger && gpa == m->trigger) {
        m->trigger = 0;
        tl_gcmd(m->t, SIOV_GCMD_SIRTP, 0);
        for (unsigned i = 0; i < m->nthen; i++)
            assert_int_equal(vec(m->t, m->then[i]), 0x40 + i);
    }
    return 0;
}

static int sm_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct sirtp_mem *m = opaque;
    if (gpa > m->size || len > m->size - gpa)
        return -1;
    memcpy(m->buf + gpa, src, len);
    return 0;
}

/* A unit with CAP.ESIRTPS over m's memory (no trigger set yet), remapping
   through IRT (size field s). */
static struct tl *sirtp_unit(struct sirtp_mem *m, unsigned s)
{
    static const struct siov_mem_ops ops = {.read = sm_read, .write = sm_write};
    *m = (struct sirtp_mem){calloc(1, TL_MEM_SIZE), TL_MEM_SIZE, 0, NULL, NULL, 0};
    assert_non_null(m->buf);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.esirtps = true;
    struct tl *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    m->t = t;
    t->mem = siov_mem_new(&ops, m);
    t->iommu = siov_iommu_new(t->mem, &cfg);
    t->next_page = TL_POOL_BASE;
    tl_ir_enable(t, IRT, s, true);
    return t;
}

static void sirtp_free(struct sirtp_mem *m)
{
    tl_free(m->t);
    free(m->buf);
}

/* An entry read before an invalidation that completes while the request is
   in flight is not cached: the next request reads the table again. */
static void test_fill_after_invalidation_dropped(void **state)
{
    (void)state;
    struct sirtp_mem m;
    struct tl *t = sirtp_unit(&m, 7);
    entry(t, IRT, 5, 0x40, 1);
    m.trigger = IRT + 5 * SIOV_IRTE_SIZE;
    assert_int_equal(vec(t, 5), 0x40); /* answered from the entry it read */
    assert_int_equal(m.trigger, 0);
    assert_int_equal(siov_iec_occupancy(t->iommu->caches), 0);
    entry(t, IRT, 5, 0x41, 1);
    assert_int_equal(vec(t, 5), 0x41);
    struct siov_stats st = tl_stats(t);
    assert_int_equal(st.iec_misses, 2);
    assert_int_equal(st.iec_hits, 0);
    assert_int_equal(siov_iec_occupancy(t->iommu->caches), 1);
    sirtp_free(&m);
}

/* The dropped fill does not take a way: while the request was in flight
   the entries sharing its set were filled after the invalidation, and all
   of them stay cached. */
static void test_dropped_fill_evicts_nothing(void **state)
{
    (void)state;
    struct sirtp_mem m;
    struct tl *t = sirtp_unit(&m, 15); /* 65536 entries */
    /* the indices of index 5's set, as many as it has ways */
    const struct siov_cache_geometry *g = &t->iommu->caches->iec.geo;
    unsigned set = siov_cache_set(g, SIOV_SC_KEY_VALID | 5, 0);
    uint32_t same[64];
    unsigned n = 0;
    for (uint32_t i = 6; i < 65536 && n < g->nways && n < 64; i++)
        if (siov_cache_set(g, SIOV_SC_KEY_VALID | i, 0) == set)
            same[n++] = i;
    assert_int_equal(n, g->nways);
    for (unsigned i = 0; i < n; i++)
        entry(t, IRT, same[i], (uint8_t)(0x40 + i), 1);
    entry(t, IRT, 5, 0x30, 1);
    m.trigger = IRT + 5 * SIOV_IRTE_SIZE;
    m.then = same;
    m.nthen = n;
    assert_int_equal(vec(t, 5), 0x30);
    assert_int_equal(m.trigger, 0);
    assert_int_equal(siov_iec_occupancy(t->iommu->caches), n);
    uint64_t misses = tl_stats(t).iec_misses;
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(vec(t, same[i]), 0x40 + i);
    assert_int_equal(tl_stats(t).iec_misses, misses);
    sirtp_free(&m);
}

/* An index mask wider than the cache (2^11 > 1024 entries) sweeps every way,
   the first one included: an entry of set 0, filled into an empty set (its
   way 0), is counted and then dropped. */
static void test_sweep_includes_first_way(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = unit(false, 15, &q);
    const struct siov_cache_geometry *g = &t->iommu->caches->iec.geo;
    uint32_t x = 0;
    while (siov_cache_set(g, SIOV_SC_KEY_VALID | x, 0) != 0)
        x++;
    assert_true(x < 65536);
    entry(t, IRT, x, 0x40, 1);
    assert_int_equal(vec(t, x), 0x40);
    assert_int_equal(siov_iec_occupancy(t->iommu->caches), 1);
    entry(t, IRT, x, 0x41, 1);
    assert_true(q_run(&q, iec_index(x, 11)));
    assert_int_equal(siov_iec_occupancy(t->iommu->caches), 0);
    assert_int_equal(vec(t, x), 0x41);
    tl_free(t);
}

/* ----------------------------------------------------------- concurrency */
struct race {
    struct tl *t;
    struct q q;
    uint64_t *qw0;  /* entry 7's first qword in the flat memory */
    uint32_t gen;   /* the destination the last completed invalidation made current */
    bool stop;
};

/* Moves entry 7 to destination k, invalidates it, then publishes k. */
static void *mover(void *arg)
{
    struct race *r = arg;
    for (uint32_t k = 1; k <= 300; k++) {
        uint64_t q0 = SIOV_IRTE0_P | siov_set(0, SIOV_IRTE0_V, 0x40) | siov_set(0, SIOV_IRTE0_DST, k);
        __atomic_store_n(r->qw0, q0, __ATOMIC_RELEASE); /* one 8-byte store, as a driver does */
        assert_true(q_run(&r->q, iec_index(7, 0)));
        __atomic_store_n(&r->gen, k, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&r->stop, true, __ATOMIC_RELEASE);
    return NULL;
}

/* An interrupt that starts after an invalidation completed never uses what
   it removed: the destination seen is never older than the one published. */
static void *sender(void *arg)
{
    struct race *r = arg;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        uint32_t g = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
        struct siov_irq out;
        assert_int_equal(siov_interrupt(r->t->iommu, SID_A, siov_msi_remap_addr(7, false), 0, &out), SIOV_OK);
        assert_true(out.dest >= g);
    }
    return NULL;
}

static void test_invalidation_race(void **state)
{
    (void)state;
    struct race r = {0};
    r.t = unit(false, 7, &r.q);
    entry(r.t, IRT, 7, 0x40, 0);
    r.qw0 = (uint64_t *)siov_mem_flat_ptr(r.t->mem) + (IRT + 7 * 16) / 8;
    pthread_t th[3];
    assert_int_equal(pthread_create(&th[0], NULL, mover, &r), 0);
    for (int i = 1; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, sender, &r), 0);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(tl_stats(r.t).inv_iec, 300);
    tl_free(r.t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_until_global),
        cmocka_unit_test(test_index_selective_each_im),
        cmocka_unit_test(test_im_above_mhmv),
        cmocka_unit_test(test_sirtp_and_esirtps),
        cmocka_unit_test(test_faults_not_cached),
        cmocka_unit_test(test_stale_checker),
        cmocka_unit_test(test_stale_checker_each_field),
        cmocka_unit_test(test_stale_checker_agreeing_fault_and_no_callback),
        cmocka_unit_test(test_occupancy_after_global),
        cmocka_unit_test(test_fill_after_invalidation_dropped),
        cmocka_unit_test(test_dropped_fill_evicts_nothing),
        cmocka_unit_test(test_sweep_includes_first_way),
        cmocka_unit_test(test_invalidation_race),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

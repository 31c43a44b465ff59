/* Invalidation through the register interface (src/inval.c with the caches):
   for each cache, a table changed in guest memory keeps translating the old
   way until exactly the right invalidation is issued; every descriptor type
   and granularity; inv-wait status writes and completion interrupts; queue
   errors (IQE) and their recovery; register-based invalidation. */
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "testlib.h"

#define KB4 (4ull << 10)
#define MB2 (2ull << 20)
#define GB1 (1ull << 30)
#define SID SIOV_SID(0, 2, 0)
#define PASID 0x1234u
#define DID 0x21u
#define STATUS_GPA (TL_DATA_BASE + 0x100) /* inv-wait status words */

/* ------------------------------------------------------------ MSI log */
struct msi_log {
    unsigned calls;
    uint64_t addr;
    uint32_t data;
};

static void msi_cb(void *opaque, uint64_t addr, uint32_t data)
{
    struct msi_log *log = opaque;
    log->calls++;
    log->addr = addr;
    log->data = data;
}

static struct msi_log g_msi;

static struct tl *unit(const struct siov_iommu_config *base)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    if (base)
        cfg = *base;
    cfg.mgaw = 57;
    cfg.sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL;
    memset(&g_msi, 0, sizeof(g_msi));
    cfg.msi = msi_cb;
    cfg.msi_opaque = &g_msi;
    return tl_new(&cfg);
}

static uint64_t rd64(struct tl *t, uint64_t off) { return siov_mmio_read(t->iommu, off, 8); }
static uint32_t rd32(struct tl *t, uint64_t off) { return (uint32_t)siov_mmio_read(t->iommu, off, 4); }
static void wr64(struct tl *t, uint64_t off, uint64_t v) { siov_mmio_write(t->iommu, off, v, 8); }
static void wr32(struct tl *t, uint64_t off, uint32_t v) { siov_mmio_write(t->iommu, off, v, 4); }
static uint32_t r32(struct tl *t, uint64_t gpa) { return (uint32_t)tl_r64(t, gpa); }

/* ---------------------------------------------------------------- queue */
struct q {
    struct tl *t;
    uint64_t base, size, tail;
    unsigned width;
};

/* Latch a root table (an empty page) with ttm through SRTP, translation left off. */
static void latch_ttm(struct tl *t, unsigned ttm)
{
    wr64(t, SIOV_REG_RTADDR, tl_page(t) | siov_set(0, SIOV_RTADDR_TTM, ttm));
    tl_gcmd(t, SIOV_GCMD_SRTP, 0);
}

/* Enable queued invalidation the way Linux does: IQT=0, IQA, then QIE. A
   256-bit queue serves a scalable-mode unit: TTM=01 is latched first unless
   SRTP latched a mode already (Table 26: legacy mode takes types 1-5 only). */
static void q_init(struct q *q, struct tl *t, bool dw, unsigned qs)
{
    if (dw && !(rd32(t, SIOV_REG_GSTS) & SIOV_GSTS_RTPS))
        latch_ttm(t, SIOV_TTM_SCALABLE);
    q->t = t;
    q->base = tl_page(t);
    for (unsigned i = 1; i < (1u << qs); i++)
        (void)tl_page(t); /* the bump allocator keeps them contiguous */
    q->size = SIOV_PAGE_SIZE << qs;
    q->width = dw ? 32 : 16;
    q->tail = 0;
    wr64(t, SIOV_REG_IQT, 0);
    wr64(t, SIOV_REG_IQA, q->base | (dw ? SIOV_IQA_DW : 0) | siov_set(0, SIOV_IQA_QS, qs));
    tl_gcmd(t, SIOV_GCMD_QIE, 0);
    assert_true(rd32(t, SIOV_REG_GSTS) & SIOV_GSTS_QIES);
}

/* Write a descriptor at the tail (qw2/qw3 zero unless given) without moving IQT. */
static void q_put4(struct q *q, uint64_t q0, uint64_t q1, uint64_t q2, uint64_t q3)
{
    uint64_t gpa = q->base + q->tail, qw[4] = {q0, q1, q2, q3};
    for (unsigned i = 0; i < q->width / 8; i++)
        tl_w64(q->t, gpa + 8 * i, qw[i]);
    q->tail = (q->tail + q->width) % q->size;
}

static void q_put(struct q *q, uint64_t q0, uint64_t q1) { q_put4(q, q0, q1, 0, 0); }
static void q_kick(struct q *q) { wr64(q->t, SIOV_REG_IQT, q->tail); }

/* Submit one descriptor and a wait, and check the wait completed. */
static void q_run(struct q *q, uint64_t q0, uint64_t q1);

/* Descriptor builders (facts 9.2). */
static uint64_t d_cc(unsigned g, uint16_t did, siov_sid sid, unsigned fm)
{
    return siov_dsc_make_type(SIOV_DSC_CC) | siov_set(0, SIOV_CC0_G, g) | siov_set(0, SIOV_CC0_DID, did) |
           siov_set(0, SIOV_CC0_SID, sid) | siov_set(0, SIOV_CC0_FM, fm);
}
static uint64_t d_iotlb(unsigned g, uint16_t did)
{
    return siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_G, g) | siov_set(0, SIOV_IOTLB0_DID, did);
}
static uint64_t d_addr(uint64_t addr, unsigned am, bool ih)
{
    return (addr & SIOV_INV1_ADDR) | siov_set(0, SIOV_INV1_AM, am) | (ih ? SIOV_INV1_IH : 0);
}
static uint64_t d_piotlb(unsigned g, uint16_t did, uint32_t pasid)
{
    return siov_dsc_make_type(SIOV_DSC_PIOTLB) | siov_set(0, SIOV_PIOTLB0_G, g) |
           siov_set(0, SIOV_PIOTLB0_DID, did) | siov_set(0, SIOV_PIOTLB0_PASID, pasid);
}
static uint64_t d_pc(unsigned g, uint16_t did, uint32_t pasid)
{
    return siov_dsc_make_type(SIOV_DSC_PC) | siov_set(0, SIOV_PC0_G, g) | siov_set(0, SIOV_PC0_DID, did) |
           siov_set(0, SIOV_PC0_PASID, pasid);
}
static uint64_t d_wait(uint64_t flags, uint32_t data) { return siov_dsc_make_type(SIOV_DSC_WAIT) | flags | siov_set(0, SIOV_WAIT0_SDATA, data); }

static void q_run(struct q *q, uint64_t q0, uint64_t q1)
{
    static uint32_t seq = 100;
    seq++;
    q_put(q, q0, q1);
    q_put(q, d_wait(SIOV_WAIT0_SW, seq), STATUS_GPA);
    q_kick(q);
    if (r32(q->t, STATUS_GPA) != seq)
        fail_msg("descriptor %#llx %#llx: IQEI %u", (unsigned long long)q0, (unsigned long long)q1,
                 (unsigned)siov_get(rd64(q->t, SIOV_REG_IQERCD), SIOV_IQERCD_IQEI));
    assert_int_equal(rd64(q->t, SIOV_REG_IQH), q->tail);
    assert_false(rd32(q->t, SIOV_REG_FSTS) & SIOV_FSTS_IQE);
}

/* ------------------------------------------------------- translation setups */
/* One translation setup: PGTT, level count, page size. */
struct shape {
    uint8_t pgtt;
    unsigned levels; /* SL levels (SL), FL levels (FL, nested: SL is 4-level) */
    uint64_t page;
};

static const struct shape shapes[] = {
    {SIOV_PGTT_SL, 3, KB4}, {SIOV_PGTT_SL, 4, KB4}, {SIOV_PGTT_SL, 5, KB4}, {SIOV_PGTT_SL, 4, MB2},
    {SIOV_PGTT_SL, 3, GB1}, {SIOV_PGTT_SL, 5, GB1}, {SIOV_PGTT_FL, 4, KB4}, {SIOV_PGTT_FL, 5, KB4},
    {SIOV_PGTT_FL, 4, MB2}, {SIOV_PGTT_FL, 5, GB1}, {SIOV_PGTT_NESTED, 4, KB4}, {SIOV_PGTT_NESTED, 5, MB2},
};
#define NSHAPES (sizeof(shapes) / sizeof(shapes[0]))

struct env {
    struct tl *t;
    struct q q;
    struct shape s;
    uint64_t dir, sl_root, fl_root;
};

static bool is_fl(uint8_t pgtt) { return pgtt == SIOV_PGTT_FL || pgtt == SIOV_PGTT_NESTED; }

/* iova of page i and its output under table set k (0 or 1). */
static uint64_t iova_of(const struct env *e, unsigned i) { return (8 + 2 * (uint64_t)i) * e->s.page; }
static uint64_t pa_of(const struct env *e, unsigned k, unsigned i)
{
    return (k ? 1ull << 40 : 1ull << 36) + (3 + (uint64_t)i) * e->s.page;
}

/* Map page i -> pa_of(k, i) in the tables rooted at sl/fl; returns the leaf's gpa. */
static uint64_t map_page(struct env *e, uint64_t sl, uint64_t fl, unsigned k, unsigned i)
{
    if (is_fl(e->s.pgtt))
        return tl_map(e->t, fl, e->s.levels, true, iova_of(e, i), pa_of(e, k, i), e->s.page, TL_FL_URW | SIOV_FL_A,
                      TL_FL_URW | SIOV_FL_A);
    (void)fl;
    return tl_map(e->t, sl, e->s.levels, false, iova_of(e, i), pa_of(e, k, i), e->s.page, TL_SL_RW, TL_SL_RW);
}

/* Nested: the second level maps all of guest memory 1:1 (1 GiB pages), and the outputs. */
static uint64_t nested_sl_root(struct env *e)
{
    uint64_t root = tl_page(e->t);
    tl_map(e->t, root, 4, false, 0, 0, GB1, TL_SL_RW, TL_SL_RW);
    for (unsigned k = 0; k < 2; k++)
        tl_map(e->t, root, 4, false, pa_of(e, k, 0) & ~(GB1 - 1), pa_of(e, k, 0) & ~(GB1 - 1), GB1, TL_SL_RW,
               TL_SL_RW);
    return root;
}

static void pe_for(const struct env *e, uint64_t sl, uint64_t fl, uint16_t did, uint64_t pe[8])
{
    unsigned flpm = e->s.levels == 5 ? SIOV_FLPM_5LVL : SIOV_FLPM_4LVL;
    switch (e->s.pgtt) {
    case SIOV_PGTT_SL: tl_pe_sl(pe, did, sl, e->s.levels - 2); break;
    case SIOV_PGTT_FL: tl_pe_fl(pe, did, fl, flpm); break;
    default: tl_pe_nested(pe, did, fl, flpm, sl, SIOV_AW_4LVL); break;
    }
}

/* A scalable unit (cfg, NULL: defaults) with a queue and SID/PASID translating
   through shape s (tables set 0, pages 0..7). */
static void env_new_cfg(struct env *e, const struct shape *s, const struct siov_iommu_config *cfg)
{
    memset(e, 0, sizeof(*e));
    e->s = *s;
    e->t = unit(cfg);
    tl_enable(e->t, SIOV_TTM_SCALABLE);
    q_init(&e->q, e->t, true, 0);
    e->dir = tl_sm_context_default(e->t, SID, 0);
    e->sl_root = s->pgtt == SIOV_PGTT_NESTED ? nested_sl_root(e) : tl_page(e->t);
    e->fl_root = tl_page(e->t);
    for (unsigned i = 0; i < 8; i++)
        map_page(e, e->sl_root, e->fl_root, 0, i);
    uint64_t pe[8];
    pe_for(e, e->sl_root, e->fl_root, DID, pe);
    tl_pasid_entry(e->t, e->dir, PASID, pe);
}

static void env_new(struct env *e, const struct shape *s)
{
    env_new_cfg(e, s, NULL);
}

/* The output of page i (read, offset 0x88), or 0 on a fault. */
static uint64_t xl(struct env *e, unsigned i)
{
    struct siov_xlate x;
    siov_fault f = siov_translate(e->t->iommu, SID, PASID, iova_of(e, i) + 0x88, SIOV_ACCESS_READ, &x);
    assert_int_equal(f, SIOV_OK);
    return x.addr - 0x88;
}

/* --------------------------------------------------------- IOTLB staleness */
struct inv {
    uint64_t q0, q1;
};

/* Change page 0's leaf to table set 1 in memory and check that `wrong` keep
   the old translation while `right` makes the new one visible. */
static void iotlb_case(const struct shape *s, const struct inv *wrong, unsigned nwrong, struct inv right)
{
    struct env e;
    env_new(&e, s);
    assert_int_equal(xl(&e, 0), pa_of(&e, 0, 0));
    map_page(&e, e.sl_root, e.fl_root, 1, 0); /* rewrite the leaf in place */
    assert_int_equal(xl(&e, 0), pa_of(&e, 0, 0)); /* stale, as on silicon */
    for (unsigned w = 0; w < nwrong; w++) {
        q_run(&e.q, wrong[w].q0, wrong[w].q1);
        assert_int_equal(xl(&e, 0), pa_of(&e, 0, 0));
    }
    q_run(&e.q, right.q0, right.q1);
    assert_int_equal(xl(&e, 0), pa_of(&e, 1, 0));
    tl_free(e.t);
}

static void test_iotlb_exactly_the_right_invalidation(void **state)
{
    (void)state;
    for (unsigned k = 0; k < NSHAPES; k++) {
        const struct shape *s = &shapes[k];
        uint64_t page0 = 8 * s->page, other = page0 + s->page; /* page 0 and the page after it */
        const struct inv common_wrong[] = {
            {d_iotlb(SIOV_INV_GRAN_DOMAIN, DID + 1), 0},
            {d_iotlb(SIOV_INV_GRAN_PAGE, DID + 1), d_addr(page0, 0, false)},
            {d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0},
            {d_cc(SIOV_INV_GRAN_GLOBAL, 0, 0, 0), 0},
            {d_piotlb(SIOV_PIOTLB_GRAN_PASID, DID, PASID + 1), 0},
            {d_piotlb(SIOV_PIOTLB_GRAN_PAGE, DID, PASID), d_addr(other, 0, false)},
            {siov_dsc_make_type(SIOV_DSC_DEVTLB) | siov_set(0, SIOV_DTLB0_SID, SID), 0},
            {siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_SID, SID), SIOV_PDTLB1_G},
            {siov_dsc_make_type(SIOV_DSC_IEC), 0},
        };
        const struct inv sl_wrong[] = {
            {d_iotlb(SIOV_INV_GRAN_PAGE, DID), d_addr(other, 0, false)},
            {d_piotlb(SIOV_PIOTLB_GRAN_PASID, DID, PASID), 0}, /* SL-only entries carry no PASID */
            {d_piotlb(SIOV_PIOTLB_GRAN_PAGE, DID, PASID), d_addr(page0, 0, false)},
        };
        struct inv right[] = {
            {d_iotlb(SIOV_INV_GRAN_GLOBAL, 0), 0},
            {d_iotlb(SIOV_INV_GRAN_DOMAIN, DID), 0},
            {d_iotlb(SIOV_INV_GRAN_PAGE, DID), d_addr(page0 + s->page - KB4, 0, true)}, /* last 4K of the page */
            {d_iotlb(SIOV_INV_GRAN_PAGE, DID), d_addr(page0 & ~(GB1 - 1), 18, false)}, /* AM = MAMV */
            {d_piotlb(SIOV_PIOTLB_GRAN_PASID, DID, PASID), 0},
            {d_piotlb(SIOV_PIOTLB_GRAN_PAGE, DID, PASID), d_addr(page0, 0, false)},
            {d_iotlb(SIOV_INV_GRAN_PAGE, DID), d_addr(1ull << 45, 0, false)}, /* FL: PSI drops all of the DID */
        };
        unsigned nright = is_fl(s->pgtt) ? 7 : 4;
        for (unsigned r = 0; r < nright; r++)
            iotlb_case(s, common_wrong, sizeof(common_wrong) / sizeof(common_wrong[0]), right[r]);
        if (!is_fl(s->pgtt))
            iotlb_case(s, sl_wrong, 3, right[0]);
    }
}

/* ------------------------------------------------------ PASID-cache staleness */
/* Repoint the PASID entry at table set 1: pages not yet in the IOTLB keep
   walking the old tables until the right PASID-cache invalidation. */
static void pc_case(const struct shape *s, const struct inv *wrong, unsigned nwrong, struct inv right)
{
    struct env e;
    env_new(&e, s);
    uint64_t sl1 = s->pgtt == SIOV_PGTT_NESTED ? e.sl_root : tl_page(e.t), fl1 = tl_page(e.t);
    for (unsigned i = 0; i < 8; i++)
        map_page(&e, sl1, fl1, 1, i);
    assert_int_equal(xl(&e, 0), pa_of(&e, 0, 0));
    uint64_t pe[8];
    pe_for(&e, sl1, fl1, DID, pe);
    tl_pasid_entry(e.t, e.dir, PASID, pe);
    unsigned page = 1;
    assert_int_equal(xl(&e, page), pa_of(&e, 0, page));
    for (unsigned w = 0; w < nwrong; w++) {
        q_run(&e.q, wrong[w].q0, wrong[w].q1);
        page++;
        assert_int_equal(xl(&e, page), pa_of(&e, 0, page));
    }
    q_run(&e.q, right.q0, right.q1);
    page++;
    assert_int_equal(xl(&e, page), pa_of(&e, 1, page));
    tl_free(e.t);
}

static void test_pasid_cache_exactly_the_right_invalidation(void **state)
{
    (void)state;
    const struct inv wrong[] = {
        {d_pc(SIOV_PC_GRAN_DOMAIN, DID + 1, 0), 0},
        {d_pc(SIOV_PC_GRAN_PASID, DID, PASID + 1), 0},
        {d_pc(SIOV_PC_GRAN_PASID, DID + 1, PASID), 0},
        {d_iotlb(SIOV_INV_GRAN_GLOBAL, 0), 0},
        {d_cc(SIOV_INV_GRAN_GLOBAL, 0, 0, 0), 0},
    };
    const struct inv right[] = {
        {d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0},
        {d_pc(SIOV_PC_GRAN_DOMAIN, DID, 0), 0},
        {d_pc(SIOV_PC_GRAN_PASID, DID, PASID), 0},
    };
    static const unsigned which[] = {1, 6, 10}; /* SL 4-level, FL 4-level, nested */
    for (unsigned k = 0; k < 3; k++)
        for (unsigned r = 0; r < 3; r++)
            pc_case(&shapes[which[k]], wrong, 5, right[r]);
}

/* ----------------------------------------------------- context-cache staleness */
/* Repoint SID's context entry at a new PASID directory (tables set 1). With
   the PASID cache emptied each time, the cached context entry decides. */
static void cc_case(const struct inv *wrong, unsigned nwrong, struct inv right)
{
    struct env e;
    env_new(&e, &shapes[1]);
    uint64_t sl1 = tl_page(e.t);
    for (unsigned i = 0; i < 8; i++)
        map_page(&e, sl1, 0, 1, i);
    assert_int_equal(xl(&e, 0), pa_of(&e, 0, 0));
    uint64_t dir1 = tl_sm_context_default(e.t, SID, 0), pe[8];
    pe_for(&e, sl1, 0, DID, pe);
    tl_pasid_entry(e.t, dir1, PASID, pe);
    const struct inv pc_all = {d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0};
    unsigned page = 0;
    for (unsigned w = 0; w <= nwrong; w++) {
        const struct inv *d = w < nwrong ? &wrong[w] : &right;
        q_run(&e.q, d->q0, d->q1);
        q_run(&e.q, pc_all.q0, pc_all.q1);
        page++;
        assert_int_equal(xl(&e, page), pa_of(&e, w < nwrong ? 0 : 1, page));
    }
    tl_free(e.t);
}

static void test_context_cache_exactly_the_right_invalidation(void **state)
{
    (void)state;
    const struct inv wrong[] = {
        {d_cc(SIOV_INV_GRAN_DEVICE, DID, SID + 1, 0), 0},        /* function 1 */
        {d_cc(SIOV_INV_GRAN_DEVICE, DID, SIOV_SID(0, 3, 0), 3), 0}, /* device 3, all functions */
        {d_iotlb(SIOV_INV_GRAN_GLOBAL, 0), 0},
        {d_pc(SIOV_PC_GRAN_GLOBAL, 0, 0), 0},
    };
    const struct inv right[] = {
        {d_cc(SIOV_INV_GRAN_GLOBAL, 0, 0, 0), 0},
        {d_cc(SIOV_INV_GRAN_DOMAIN, 0x777, 0, 0), 0}, /* scalable entries carry no DID */
        {d_cc(SIOV_INV_GRAN_DEVICE, 0, SID, 0), 0},
        {d_cc(SIOV_INV_GRAN_DEVICE, 0, SID + 5, 3), 0}, /* FM=11: every function of the device */
    };
    for (unsigned r = 0; r < 4; r++)
        cc_case(wrong, 4, right[r]);
}

/* Legacy mode: the context cache holds the SL pointer and DID; domain-selective
   invalidation is by DID, and register-based invalidation works (QIE=0). */
static void test_legacy_context_cache_and_ccmd(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    tl_enable(t, SIOV_TTM_LEGACY);
    uint64_t root0 = tl_page(t), root1 = tl_page(t);
    for (unsigned i = 0; i < 5; i++) {
        tl_map(t, root0, 4, false, i * KB4, 0x100000000ull + i * KB4, KB4, TL_SL_RW, TL_SL_RW);
        tl_map(t, root1, 4, false, i * KB4, 0x200000000ull + i * KB4, KB4, TL_SL_RW, TL_SL_RW);
    }
    uint64_t qw1 = siov_set(0, SIOV_CE1_AW, SIOV_AW_4LVL) | siov_set(0, SIOV_CE1_DID, 5);
    tl_legacy_context(t, SID, SIOV_CE0_P | root0, qw1);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 0, SIOV_ACCESS_READ, &x), SIOV_OK);
    tl_legacy_context(t, SID, SIOV_CE0_P | root1, qw1);
    uint64_t cmd = SIOV_CCMD_ICC | siov_set(0, SIOV_CCMD_CIRG, SIOV_INV_GRAN_DOMAIN) | siov_set(0, SIOV_CCMD_DID, 6);
    wr64(t, SIOV_REG_CCMD, cmd);
    uint64_t ccmd = rd64(t, SIOV_REG_CCMD);
    assert_false(ccmd & SIOV_CCMD_ICC);
    assert_int_equal(siov_get(ccmd, SIOV_CCMD_CAIG), SIOV_INV_GRAN_DOMAIN);
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, KB4, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x100000000ull + KB4); /* DID 6: not ours */
    /* 32-bit writes: low dword, then the high dword with ICC acts */
    cmd = SIOV_CCMD_ICC | siov_set(0, SIOV_CCMD_CIRG, SIOV_INV_GRAN_DOMAIN) | siov_set(0, SIOV_CCMD_DID, 5);
    wr32(t, SIOV_REG_CCMD, (uint32_t)cmd);
    wr32(t, SIOV_REG_CCMD + 4, (uint32_t)(cmd >> 32));
    assert_false(rd64(t, SIOV_REG_CCMD) & SIOV_CCMD_ICC);
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 2 * KB4, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x200000000ull + 2 * KB4);
    /* CIRG=00 is reserved: nothing done, CAIG=00 */
    wr64(t, SIOV_REG_CCMD, SIOV_CCMD_ICC);
    assert_int_equal(rd64(t, SIOV_REG_CCMD) & (SIOV_CCMD_ICC | SIOV_CCMD_CAIG), 0);
    assert_int_equal(tl_stats(t).inv_context, 1 + 1);
    /* device-selective: without ICC nothing happens; another function's SID
       spares SID; FM=11 with a sibling's SID takes every function, SID too */
    tl_legacy_context(t, SID, SIOV_CE0_P | root0, qw1);
    uint64_t dev = siov_set(0, SIOV_CCMD_CIRG, SIOV_INV_GRAN_DEVICE);
    wr64(t, SIOV_REG_CCMD, dev | siov_set(0, SIOV_CCMD_SID, SID));
    wr64(t, SIOV_REG_CCMD, SIOV_CCMD_ICC | dev | siov_set(0, SIOV_CCMD_SID, SID + 1));
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 3 * KB4, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x200000000ull + 3 * KB4);
    wr64(t, SIOV_REG_CCMD, SIOV_CCMD_ICC | dev | siov_set(0, SIOV_CCMD_SID, SID + 5) | siov_set(0, SIOV_CCMD_FM, 3));
    assert_int_equal(siov_get(rd64(t, SIOV_REG_CCMD), SIOV_CCMD_CAIG), SIOV_INV_GRAN_DEVICE);
    assert_int_equal(siov_translate(t->iommu, SID, SIOV_NO_PASID, 4 * KB4, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x100000000ull + 4 * KB4);
    assert_int_equal(tl_stats(t).inv_context, 2 + 2);
    tl_free(t);
}

/* IOTLB_REG/IVA: global, domain, page with AM; a bad AM does nothing; QIE=1 ignores them. */
static void test_register_iotlb_invalidation(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, &shapes[1]);
    tl_gcmd(e.t, 0, SIOV_GCMD_QIE);
    assert_int_equal(rd64(e.t, SIOV_REG_IQH), 0); /* disabling QIE resets IQH */
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(xl(&e, i), pa_of(&e, 0, i));
    for (unsigned i = 0; i < 4; i++)
        map_page(&e, e.sl_root, e.fl_root, 1, i);
    uint64_t psi = SIOV_IOTLB_IVT | siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_PAGE) | siov_set(0, SIOV_IOTLB_DID, DID);
    wr64(e.t, SIOV_REG_IVA, iova_of(&e, 1) | siov_set(0, SIOV_IVA_AM, 19)); /* AM > MAMV (18) */
    wr64(e.t, SIOV_REG_IOTLB, psi);
    assert_int_equal(rd64(e.t, SIOV_REG_IOTLB) & (SIOV_IOTLB_IVT | SIOV_IOTLB_IAIG), 0);
    assert_int_equal(xl(&e, 1), pa_of(&e, 0, 1));
    wr64(e.t, SIOV_REG_IVA, iova_of(&e, 1) | siov_set(0, SIOV_IVA_AM, 0));
    wr64(e.t, SIOV_REG_IOTLB, psi);
    assert_int_equal(siov_get(rd64(e.t, SIOV_REG_IOTLB), SIOV_IOTLB_IAIG), SIOV_INV_GRAN_PAGE);
    assert_false(rd64(e.t, SIOV_REG_IOTLB) & SIOV_IOTLB_IVT);
    assert_int_equal(xl(&e, 1), pa_of(&e, 1, 1));
    assert_int_equal(xl(&e, 2), pa_of(&e, 0, 2));
    wr64(e.t, SIOV_REG_IOTLB, SIOV_IOTLB_IVT | siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_DOMAIN) |
                                  siov_set(0, SIOV_IOTLB_DID, DID + 1));
    assert_int_equal(siov_get(rd64(e.t, SIOV_REG_IOTLB), SIOV_IOTLB_IAIG), SIOV_INV_GRAN_DOMAIN);
    assert_int_equal(xl(&e, 2), pa_of(&e, 0, 2));
    wr64(e.t, SIOV_REG_IOTLB, siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_GLOBAL)); /* IVT clear: nothing */
    assert_int_equal(xl(&e, 2), pa_of(&e, 0, 2));
        tl_gcmd(e.t, SIOV_GCMD_QIE, 0); /* while QIE=1 register-based invalidation is ignored */
    wr64(e.t, SIOV_REG_IOTLB, SIOV_IOTLB_IVT | siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_GLOBAL));
    assert_true(rd64(e.t, SIOV_REG_IOTLB) & SIOV_IOTLB_IVT);
    assert_int_equal(xl(&e, 2), pa_of(&e, 0, 2));
    tl_gcmd(e.t, 0, SIOV_GCMD_QIE);
    wr64(e.t, SIOV_REG_IOTLB, SIOV_IOTLB_IVT | siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_GLOBAL));
    assert_int_equal(siov_get(rd64(e.t, SIOV_REG_IOTLB), SIOV_IOTLB_IAIG), SIOV_INV_GRAN_GLOBAL);
    assert_int_equal(xl(&e, 2), pa_of(&e, 1, 2));
    assert_int_equal(xl(&e, 3), pa_of(&e, 1, 3));
    assert_int_equal(tl_stats(e.t).inv_iotlb, 3);
    tl_free(e.t);
    /* VER 6.0 and later have no register-based invalidation: the commands stay
       pending and nothing is invalidated; VER 1.6 and 5.15 have it */
    static const unsigned ver[] = {0x60, 0x16, 0x5F};
    for (unsigned k = 0; k < 3; k++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.version = ver[k];
        struct tl *t = tl_new(&cfg);
        uint64_t iotlb = SIOV_IOTLB_IVT | siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_GLOBAL);
        uint64_t ccmd = SIOV_CCMD_ICC | siov_set(0, SIOV_CCMD_CIRG, SIOV_INV_GRAN_GLOBAL);
        wr64(t, SIOV_REG_IOTLB, iotlb);
        wr64(t, SIOV_REG_CCMD, ccmd);
        bool usable = k > 0;
        assert_int_equal(rd64(t, SIOV_REG_IOTLB), usable ? siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_GLOBAL) |
                                                               siov_set(0, SIOV_IOTLB_IAIG, SIOV_INV_GRAN_GLOBAL)
                                                         : iotlb);
        assert_int_equal(rd64(t, SIOV_REG_CCMD), usable ? siov_set(0, SIOV_CCMD_CIRG, SIOV_INV_GRAN_GLOBAL) |
                                                              siov_set(0, SIOV_CCMD_CAIG, SIOV_INV_GRAN_GLOBAL)
                                                        : ccmd);
        assert_int_equal(tl_stats(t).inv_iotlb, usable);
        assert_int_equal(tl_stats(t).inv_context, usable);
        tl_free(t);
    }
}

/* CAP.PSI off (cfg.psi): a page-selective IOTLB invalidation, queued or
   through IOTLB_REG, is performed domain-selectively, so it also drops the
   DID's other pages, and IOTLB_REG reports IAIG = domain (docs/spec-notes.md).
   With PSI it drops only its page. */
static void test_page_selective_without_psi(void **state)
{
    (void)state;
    for (int psi = 0; psi < 2; psi++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.psi = psi;
        for (int reg = 0; reg < 2; reg++) {
            struct env e;
            env_new_cfg(&e, &shapes[1], &cfg); /* second level, 4 KiB pages */
            assert_int_equal((rd64(e.t, SIOV_REG_CAP) & SIOV_CAP_PSI) != 0, psi);
            if (reg)
                tl_gcmd(e.t, 0, SIOV_GCMD_QIE);
            for (unsigned i = 0; i < 2; i++) {
                assert_int_equal(xl(&e, i), pa_of(&e, 0, i));
                map_page(&e, e.sl_root, e.fl_root, 1, i); /* the IOTLB keeps the old one */
            }
            if (reg) {
                wr64(e.t, SIOV_REG_IVA, iova_of(&e, 0));
                wr64(e.t, SIOV_REG_IOTLB, SIOV_IOTLB_IVT | siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_PAGE) |
                                              siov_set(0, SIOV_IOTLB_DID, DID));
                assert_int_equal(siov_get(rd64(e.t, SIOV_REG_IOTLB), SIOV_IOTLB_IAIG),
                                 psi ? SIOV_INV_GRAN_PAGE : SIOV_INV_GRAN_DOMAIN);
            } else {
                q_run(&e.q, d_iotlb(SIOV_INV_GRAN_PAGE, DID), d_addr(iova_of(&e, 0), 0, false));
            }
            assert_int_equal(xl(&e, 0), pa_of(&e, 1, 0));
            assert_int_equal(xl(&e, 1), pa_of(&e, psi ? 0 : 1, 1));
            assert_int_equal(tl_stats(e.t).inv_iotlb, 1);
            tl_free(e.t);
        }
    }
}

/* ------------------------------------------------------------- inv-wait */
static void test_wait_status_write_and_completion_event(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    struct q q;
    q_init(&q, t, false, 0);
    wr32(t, SIOV_REG_IEDATA, 0x4321);
    wr32(t, SIOV_REG_IEADDR, 0xFEE01000);
    wr32(t, SIOV_REG_IEUADDR, 0x1);
    assert_int_equal(rd32(t, SIOV_REG_IECTL), SIOV_ECTL_IM); /* reset: masked (spec 10.4.26) */
    wr32(t, SIOV_REG_IECTL, 0);                             /* unmasked, as a driver does */
    q_put(&q, d_wait(SIOV_WAIT0_SW | SIOV_WAIT0_FN, 0xCAFEF00D), STATUS_GPA + 4);
    q_kick(&q);
    assert_int_equal(r32(t, STATUS_GPA + 4), 0xCAFEF00D);
    assert_int_equal(r32(t, STATUS_GPA), 0); /* exactly 4 bytes */
    assert_int_equal(r32(t, STATUS_GPA + 8), 0);
    assert_int_equal(g_msi.calls, 0);
    assert_int_equal(rd32(t, SIOV_REG_ICS), 0);
    q_put(&q, d_wait(SIOV_WAIT0_IF, 0), 0);
    q_kick(&q);
    assert_int_equal(rd32(t, SIOV_REG_ICS), SIOV_ICS_IWC);
    assert_int_equal(g_msi.calls, 1);
    assert_int_equal(g_msi.addr, 0x1FEE01000ull);
    assert_int_equal(g_msi.data, 0x4321);
    q_put(&q, d_wait(SIOV_WAIT0_IF, 0), 0); /* IWC still set: no new event */
    q_kick(&q);
    assert_int_equal(g_msi.calls, 1);
    wr32(t, SIOV_REG_ICS, SIOV_ICS_IWC);
    assert_int_equal(rd32(t, SIOV_REG_ICS), 0);
    wr32(t, SIOV_REG_IECTL, SIOV_ECTL_IM); /* masked: IP instead of the MSI */
    q_put(&q, d_wait(SIOV_WAIT0_IF | SIOV_WAIT0_SW, 7), STATUS_GPA);
    q_kick(&q);
    assert_int_equal(r32(t, STATUS_GPA), 7);
    assert_int_equal(g_msi.calls, 1);
    assert_true(rd32(t, SIOV_REG_IECTL) & SIOV_ECTL_IP);
    wr32(t, SIOV_REG_IECTL, SIOV_ECTL_IM); /* still masked: held */
    assert_int_equal(g_msi.calls, 1);
    assert_int_equal(rd32(t, SIOV_REG_IECTL), SIOV_ECTL_IM | SIOV_ECTL_IP);
    wr32(t, SIOV_REG_ICS, SIOV_ICS_IWC); /* clearing IWC clears IP, not IM */
    assert_int_equal(rd32(t, SIOV_REG_IECTL), SIOV_ECTL_IM);
    q_put(&q, d_wait(SIOV_WAIT0_IF | SIOV_WAIT0_SW, 8), STATUS_GPA);
    q_kick(&q);
    assert_int_equal(r32(t, STATUS_GPA), 8);
    assert_true(rd32(t, SIOV_REG_IECTL) & SIOV_ECTL_IP);
    wr32(t, SIOV_REG_IECTL, 0); /* unmasking sends it */
    assert_int_equal(g_msi.calls, 2);
    assert_false(rd32(t, SIOV_REG_IECTL) & SIOV_ECTL_IP);
    /* a status address outside memory is dropped; the queue goes on */
    q_put(&q, d_wait(SIOV_WAIT0_SW, 1), TL_MEM_SIZE + 0x1000);
    q_put(&q, d_wait(SIOV_WAIT0_SW, 9), STATUS_GPA);
    q_kick(&q);
    assert_int_equal(r32(t, STATUS_GPA), 9);
    assert_int_equal(rd64(t, SIOV_REG_IQH), q.tail);
    assert_int_equal(tl_stats(t).inv_wait, 7);
    assert_int_equal(tl_stats(t).invalidations, 0);
    tl_free(t);
}

static void test_queue_wraps(void **state)
{
    (void)state;
    static const bool dws[] = {false, true};
    for (unsigned k = 0; k < 2; k++) {
        struct tl *t = unit(NULL);
        struct q q;
        q_init(&q, t, dws[k], 0);
        unsigned n = (unsigned)(q.size / q.width);
        for (unsigned i = 0; i < 3 * n + 5; i++) { /* several laps, batches of 3 */
            q_put(&q, d_wait(SIOV_WAIT0_SW, i), STATUS_GPA);
            if (i % 3 == 2) {
                q_kick(&q);
                assert_int_equal(r32(t, STATUS_GPA), i);
                assert_int_equal(rd64(t, SIOV_REG_IQH), q.tail);
            }
        }
        assert_int_equal(tl_stats(t).inv_wait, 3 * n + 3);
        tl_free(t);
    }
}

/* Descriptors of every kind and granularity are accepted and counted by kind. */
static void test_every_descriptor_counted(void **state)
{
    (void)state;
    struct tl *t = unit(NULL);
    struct q q;
    q_init(&q, t, true, 1);
    const struct inv all[] = {
        {d_cc(1, 0, 0, 0), 0}, {d_cc(2, 3, 0, 0), 0}, {d_cc(3, 0, SID, 2), 0},
        {d_iotlb(1, 0), 0}, {d_iotlb(2, 3), 0}, {d_iotlb(3, 3) | SIOV_IOTLB0_DR | SIOV_IOTLB0_DW, d_addr(0x40000, 2, true)},
        {d_piotlb(2, 3, 4), 0}, {d_piotlb(3, 3, 4), d_addr(0x200000, 9, false)},
        {d_pc(0, 3, 0), 0}, {d_pc(1, 3, 4), 0}, {d_pc(3, 0, 0), 0},
        {siov_dsc_make_type(SIOV_DSC_DEVTLB) | siov_set(0, SIOV_DTLB0_PFSID_HI, 0xABC), SIOV_DTLB1_S | 0x7FFFF000},
        {siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_PASID, 9), SIOV_PDTLB1_S | 0x3000},
        {siov_dsc_make_type(SIOV_DSC_IEC) | SIOV_IEC0_G | siov_set(0, SIOV_IEC0_IIDX, 40), 0},
    };
    for (unsigned i = 0; i < sizeof(all) / sizeof(all[0]); i++)
        q_run(&q, all[i].q0, all[i].q1);
    struct siov_stats s = tl_stats(t);
    assert_int_equal(s.inv_context, 3);
    assert_int_equal(s.inv_iotlb, 3);
    assert_int_equal(s.inv_piotlb, 2);
    assert_int_equal(s.inv_pasid_cache, 3);
    assert_int_equal(s.inv_devtlb, 2);
    assert_int_equal(s.inv_iec, 1);
    assert_int_equal(s.inv_other, 0);
    assert_int_equal(s.inv_wait, 14);
    assert_int_equal(s.invalidations, 14);
    tl_free(t);
}

/* ------------------------------------------------- the front cache */
/* Three ADIs: a and b on device SID (first- and second-level domains, DIDs
   0x51 and 0x52), c on device SID2 (first-level, DID 0x53). */
#define SID2 SIOV_SID(0, 3, 0)
#define ADI_PAGE 0x5000ull
struct adi {
    siov_sid sid;
    uint32_t pasid;
    uint16_t did;
    bool fl;
};
static const struct adi adis[3] = {{SID, 0x10, 0x51, true}, {SID, 0x11, 0x52, false}, {SID2, 0x10, 0x53, true}};

static void adi_env(struct tl **tp, struct q *q)
{
    struct tl *t = unit(NULL);
    tl_enable(t, SIOV_TTM_SCALABLE);
    q_init(q, t, true, 0);
    uint64_t dir[2] = {tl_sm_context_default(t, SID, 0), tl_sm_context_default(t, SID2, 0)};
    for (unsigned i = 0; i < 3; i++) {
        uint64_t root = tl_page(t), pe[8];
        tl_map(t, root, 4, adis[i].fl, ADI_PAGE, TL_DATA_BASE + i * KB4, KB4, adis[i].fl ? TL_FL_URW : TL_SL_RW,
               adis[i].fl ? TL_FL_URW : TL_SL_RW);
        if (adis[i].fl)
            tl_pe_fl(pe, adis[i].did, root, SIOV_FLPM_4LVL);
        else
            tl_pe_sl(pe, adis[i].did, root, SIOV_AW_4LVL);
        tl_pasid_entry(t, dir[adis[i].sid == SID2], adis[i].pasid, pe);
    }
    *tp = t;
}

/* Translate ADI i (the right output, always) and say whether the front cache
   answered: a front-cache hit looks up neither the PASID cache nor the IOTLB. */
static bool adi_front_hit(struct tl *t, unsigned i)
{
    struct siov_stats s0 = tl_stats(t);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, adis[i].sid, adis[i].pasid, ADI_PAGE + 0x40, SIOV_ACCESS_READ, &x),
                     SIOV_OK);
    assert_int_equal(x.addr, TL_DATA_BASE + i * KB4 + 0x40);
    struct siov_stats s1 = tl_stats(t);
    bool pc = s1.pasid_cache_hits + s1.pasid_cache_misses != s0.pasid_cache_hits + s0.pasid_cache_misses;
    assert_int_equal(s1.iotlb_hits + s1.iotlb_misses, s0.iotlb_hits + s0.iotlb_misses + 1);
    return !pc && s1.iotlb_hits == s0.iotlb_hits + 1;
}

/* A front-cache entry survives every invalidation that cannot reach it and
   dies with each one that can: those of its DID (any cache, any granularity:
   a PASID- or page-granular one reaches all of its DID's front entries), of
   its source id, or of everything; interrupt-entry and device-TLB
   invalidations never touch it. */
static void test_front_cache_keeps_what_an_invalidation_cannot_reach(void **state)
{
    (void)state;
    enum { A = 1, B = 2, C = 4, ALL = 7 };
    const struct {
        struct inv d;
        unsigned dead;
    } cases[] = {
        {{d_cc(3, 0, SID2, 0), 0}, C},             /* device-selective: the other device only */
        {{d_cc(3, 0, SID + 4, 1), 0}, A | B},      /* FM=1 masks function bit 2: covers SID */
        {{d_cc(3, 0, SID + 1, 0), 0}, 0},          /* a function with no ADI */
        {{d_cc(2, 0x51, 0, 0), 0}, ALL},           /* domain-selective: every scalable context entry */
        {{d_cc(1, 0, 0, 0), 0}, ALL},
        {{d_iotlb(2, 0x52), 0}, B},                /* domain-selective */
        {{d_iotlb(2, 0x99), 0}, 0},                /* a DID no ADI uses */
        {{d_iotlb(3, 0x52), d_addr(ADI_PAGE, 0, false)}, B},
        {{d_iotlb(3, 0x51), d_addr(0x900000, 0, false)}, A}, /* PSI: every PASID-tagged entry of the DID */
        {{d_iotlb(1, 0), 0}, ALL},
        {{d_piotlb(2, 0x51, 0x10), 0}, A},         /* PASID-selective */
        {{d_piotlb(2, 0x53, 0x10), 0}, C},
        {{d_piotlb(2, 0x51, 0x11), 0}, A},         /* a PASID of A's DID that A does not use */
        {{d_piotlb(3, 0x53, 0x10), d_addr(ADI_PAGE, 0, false)}, C},
        {{d_piotlb(3, 0x99, 0x10), d_addr(ADI_PAGE, 0, false)}, 0},
        {{d_pc(0, 0x52, 0), 0}, B},                /* domain-selective */
        {{d_pc(1, 0x53, 0x10), 0}, C},             /* PASID-selective */
        {{d_pc(1, 0x99, 0x10), 0}, 0},
        {{d_pc(3, 0, 0), 0}, ALL},
        {{siov_dsc_make_type(SIOV_DSC_DEVTLB) | siov_set(0, SIOV_DTLB0_SID, SID), SIOV_DTLB1_S | 0x7FFFF000}, 0},
        {{siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_SID, SID) |
              siov_set(0, SIOV_PDTLB0_PASID, 0x10), SIOV_PDTLB1_S | 0x3000}, 0},
        {{siov_dsc_make_type(SIOV_DSC_IEC) | SIOV_IEC0_G, 0}, 0},
        {{d_wait(0, 0), 0}, 0},
    };
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        struct tl *t;
        struct q q;
        adi_env(&t, &q);
        for (unsigned i = 0; i < 3; i++) {
            assert_false(adi_front_hit(t, i)); /* walks and fills */
            assert_true(adi_front_hit(t, i));
        }
        q_run(&q, cases[k].d.q0, cases[k].d.q1);
        for (unsigned i = 0; i < 3; i++)
            if (adi_front_hit(t, i) != !(cases[k].dead & (1u << i)))
                fail_msg("descriptor %u: ADI %u %s", k, i, (cases[k].dead & (1u << i)) ? "survived" : "died");
        for (unsigned i = 0; i < 3; i++)
            assert_true(adi_front_hit(t, i)); /* refilled */
        tl_free(t);
    }
}

/* A register write that changes the translation state (SRTP, TE) drops the
   front cache's answers; one that does not (QIE) keeps them. */
static void test_front_cache_follows_the_translation_state(void **state)
{
    (void)state;
    struct tl *t;
    struct q q;
    adi_env(&t, &q);
    assert_false(adi_front_hit(t, 0));
    assert_true(adi_front_hit(t, 0));
    tl_gcmd(t, 0, SIOV_GCMD_QIE);
    assert_true(adi_front_hit(t, 0));
    tl_gcmd(t, SIOV_GCMD_SRTP, 0); /* the same root table, latched again */
    assert_true(adi_front_hit(t, 0));
    tl_gcmd(t, 0, SIOV_GCMD_TE);
    struct siov_xlate x;
    assert_int_equal(siov_translate(t->iommu, SID, 0x10, ADI_PAGE, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, ADI_PAGE); /* passed through */
    tl_gcmd(t, SIOV_GCMD_TE, 0);
    assert_false(adi_front_hit(t, 0));
    assert_true(adi_front_hit(t, 0));
    tl_free(t);
}

/* --------------------------------------------------------------- IQE */
struct bad {
    const char *what;
    bool dw;
    uint64_t qw[4];
    unsigned iqei;
};

/* A good wait, the bad descriptor, another wait: the first completes, the
   queue stops on the bad one with IQE and the fault event; after software
   replaces it and clears IQE, the queue resumes from IQH. */
static void bad_case(const struct bad *b, bool prs)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.page_requests = prs;
    struct tl *t = unit(&cfg);
    struct q q;
    q_init(&q, t, b->dw, 0);
    wr32(t, SIOV_REG_FEADDR, 0xFEE00000);
    wr32(t, SIOV_REG_FEDATA, 0x55);
    wr32(t, SIOV_REG_FECTL, 0); /* the fault event resets masked: unmask it */
    q_put(&q, d_wait(SIOV_WAIT0_SW, 1), STATUS_GPA);
    uint64_t bad_at = q.tail;
    q_put4(&q, b->qw[0], b->qw[1], b->qw[2], b->qw[3]);
    q_put(&q, d_wait(SIOV_WAIT0_SW, 2), STATUS_GPA + 4);
    q_kick(&q);
    if (!(rd32(t, SIOV_REG_FSTS) & SIOV_FSTS_IQE))
        fail_msg("%s: no IQE", b->what);
    assert_int_equal(r32(t, STATUS_GPA), 1);
    assert_int_equal(r32(t, STATUS_GPA + 4), 0);
    assert_int_equal(rd64(t, SIOV_REG_IQH), bad_at);
    if (siov_get(rd64(t, SIOV_REG_IQERCD), SIOV_IQERCD_IQEI) != b->iqei)
        fail_msg("%s: IQEI %u, expected %u", b->what, (unsigned)siov_get(rd64(t, SIOV_REG_IQERCD), SIOV_IQERCD_IQEI),
                 b->iqei);
    assert_int_equal(g_msi.calls, 1);
    assert_int_equal(g_msi.addr, 0xFEE00000);
    assert_int_equal(g_msi.data, 0x55);
    q_kick(&q); /* stopped: an IQT write does not restart it */
    assert_int_equal(rd64(t, SIOV_REG_IQH), bad_at);
    uint64_t end = q.tail;
    q.tail = bad_at;
    q_put(&q, d_wait(SIOV_WAIT0_SW, 3), STATUS_GPA + 8);
    q.tail = end;
    wr32(t, SIOV_REG_FSTS, SIOV_FSTS_IQE);
    assert_int_equal(r32(t, STATUS_GPA + 8), 3);
    assert_int_equal(r32(t, STATUS_GPA + 4), 2);
    assert_int_equal(rd64(t, SIOV_REG_IQH), end);
    assert_false(rd32(t, SIOV_REG_FSTS) & SIOV_FSTS_IQE);
    tl_free(t);
}

static void test_bad_descriptors_stop_the_queue(void **state)
{
    (void)state;
    const uint64_t wait_sw = d_wait(SIOV_WAIT0_SW, 0);
    const struct bad cases[] = {
        {"unknown type 0xF", true, {siov_dsc_make_type(0xF)}, SIOV_IQEI_TYPE},
        {"type 0", false, {0}, SIOV_IQEI_TYPE},
        {"type 0x71", true, {siov_dsc_make_type(0x71)}, SIOV_IQEI_TYPE},
        /* the page group response needs ECAP.PRS; HPT is not modelled (ECAP.HPTS=0) */
        {"page-group response in legacy mode", false, {siov_dsc_make_type(SIOV_DSC_PGRP_RESP)}, SIOV_IQEI_TTM},
        {"page-group response bit 5 (PDP in rev 3)", true, {siov_dsc_make_type(SIOV_DSC_PGRP_RESP) | SIOV_BIT(5)},
         SIOV_IQEI_RSVD},
        {"page-group response bit 8", true, {siov_dsc_make_type(SIOV_DSC_PGRP_RESP) | SIOV_BIT(8)}, SIOV_IQEI_RSVD},
        {"page-group response bit 52", true, {siov_dsc_make_type(SIOV_DSC_PGRP_RESP) | SIOV_BIT(52)},
         SIOV_IQEI_RSVD},
        {"page-group response qw1 bit 0", true, {siov_dsc_make_type(SIOV_DSC_PGRP_RESP), SIOV_BIT(0)},
         SIOV_IQEI_RSVD},
        {"page-group response qw1 bit 12", true, {siov_dsc_make_type(SIOV_DSC_PGRP_RESP), SIOV_BIT(12)},
         SIOV_IQEI_RSVD},
        {"page-group response qw2 (private data in rev 3)", true, {siov_dsc_make_type(SIOV_DSC_PGRP_RESP), 0, 1},
         SIOV_IQEI_RSVD},
        {"HPT-cache invalidate", true, {siov_dsc_make_type(SIOV_DSC_HPT_INV)}, SIOV_IQEI_TYPE},
        /* a 128-bit queue here is a legacy-mode one (TTM=00): Table 26 takes types 1-5 only */
        {"PIOTLB in legacy mode", false, {d_piotlb(2, 1, 1)}, SIOV_IQEI_TTM},
        {"PC in legacy mode", false, {d_pc(3, 0, 0)}, SIOV_IQEI_TTM},
        {"PDEVTLB in legacy mode", false, {siov_dsc_make_type(SIOV_DSC_PDEVTLB)}, SIOV_IQEI_TTM},
        {"256-bit qw2", true, {d_iotlb(1, 0), 0, 1}, SIOV_IQEI_RSVD},
        {"256-bit qw3", true, {wait_sw, STATUS_GPA, 0, 1ull << 63}, SIOV_IQEI_RSVD},
        {"cc reserved bit 6", true, {d_cc(1, 0, 0, 0) | SIOV_BIT(6)}, SIOV_IQEI_RSVD},
        {"cc reserved bit 50", false, {d_cc(1, 0, 0, 0) | SIOV_BIT(50)}, SIOV_IQEI_RSVD},
        {"cc qw1", false, {d_cc(1, 0, 0, 0), 1}, SIOV_IQEI_RSVD},
        {"cc G=00", true, {d_cc(0, 0, 0, 0)}, SIOV_IQEI_RSVD},
        {"iotlb reserved bit 8", false, {d_iotlb(1, 0) | SIOV_BIT(8)}, SIOV_IQEI_RSVD},
        {"iotlb reserved bit 32", true, {d_iotlb(1, 0) | SIOV_BIT(32)}, SIOV_IQEI_RSVD},
        {"iotlb qw1 reserved bit 7", true, {d_iotlb(2, 1), SIOV_BIT(7)}, SIOV_IQEI_RSVD},
        {"iotlb G=00", true, {d_iotlb(0, 1)}, SIOV_IQEI_RSVD},
        {"iotlb PSI AM > MAMV", true, {d_iotlb(3, 1), d_addr(0, 19, false)}, SIOV_IQEI_RSVD},
        {"iotlb PSI unaligned", true, {d_iotlb(3, 1), d_addr(0x3000, 2, false)}, SIOV_IQEI_RSVD},
        {"devtlb reserved bit 4", false, {siov_dsc_make_type(SIOV_DSC_DEVTLB) | SIOV_BIT(4)}, SIOV_IQEI_RSVD},
        {"devtlb qw1 reserved bit 1", true, {siov_dsc_make_type(SIOV_DSC_DEVTLB), SIOV_BIT(1)}, SIOV_IQEI_RSVD},
        {"iec reserved bit 5", false, {siov_dsc_make_type(SIOV_DSC_IEC) | SIOV_BIT(5)}, SIOV_IQEI_RSVD},
        {"iec qw1", true, {siov_dsc_make_type(SIOV_DSC_IEC), SIOV_BIT(12)}, SIOV_IQEI_RSVD},
        {"wait reserved bit 8", true, {wait_sw | SIOV_BIT(8), STATUS_GPA}, SIOV_IQEI_RSVD},
        {"wait address bit 0", true, {wait_sw, STATUS_GPA | 1}, SIOV_IQEI_RSVD},
        {"piotlb reserved bit 6", true, {d_piotlb(2, 1, 1) | SIOV_BIT(6)}, SIOV_IQEI_RSVD},
        {"piotlb qw1 reserved bit 7", true, {d_piotlb(2, 1, 1), SIOV_BIT(7)}, SIOV_IQEI_RSVD},
        {"piotlb G=00", true, {d_piotlb(0, 1, 1)}, SIOV_IQEI_RSVD},
        {"piotlb G=01", true, {d_piotlb(1, 1, 1)}, SIOV_IQEI_RSVD},
        {"piotlb PSI AM > MAMV", true, {d_piotlb(3, 1, 1), d_addr(0, 30, false)}, SIOV_IQEI_RSVD},
        {"piotlb PSI unaligned", true, {d_piotlb(3, 1, 1), d_addr(0x1000, 1, false)}, SIOV_IQEI_RSVD},
        {"pc reserved bit 60", true, {d_pc(3, 0, 0) | SIOV_BIT(60)}, SIOV_IQEI_RSVD},
        {"pc G=10", true, {d_pc(2, 1, 1)}, SIOV_IQEI_RSVD},
        {"pc qw1", true, {d_pc(3, 0, 0), 4}, SIOV_IQEI_RSVD},
        {"pdevtlb qw1 reserved bit 5", true, {siov_dsc_make_type(SIOV_DSC_PDEVTLB), SIOV_BIT(5)}, SIOV_IQEI_RSVD},
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        bad_case(&cases[i], true);
    /* a unit without page requests (ECAP.PRS, PDS) */
    const struct bad no_prs[] = {
        {"page-group response without PRS", true, {siov_dsc_make_type(SIOV_DSC_PGRP_RESP)}, SIOV_IQEI_TYPE},
        {"wait PD without PDS", false, {wait_sw | SIOV_WAIT0_PD, STATUS_GPA}, SIOV_IQEI_RSVD},
        {"wait PD without PDS, 256-bit", true, {wait_sw | SIOV_WAIT0_PD, STATUS_GPA}, SIOV_IQEI_RSVD},
    };
    for (unsigned i = 0; i < sizeof(no_prs) / sizeof(no_prs[0]); i++)
        bad_case(&no_prs[i], false);
}

static void test_bad_tail_and_fetch(void **state)
{
    (void)state;
    /* tail beyond the queue (QS=0: 4 KiB) */
    struct tl *t = unit(NULL);
    struct q q;
    q_init(&q, t, false, 0);
    wr64(t, SIOV_REG_IQT, 0x1000);
    assert_true(rd32(t, SIOV_REG_FSTS) & SIOV_FSTS_IQE);
    assert_int_equal(siov_get(rd64(t, SIOV_REG_IQERCD), SIOV_IQERCD_IQEI), SIOV_IQEI_TAIL);
    assert_int_equal(rd64(t, SIOV_REG_IQH), 0);
    wr64(t, SIOV_REG_IQT, 0); /* software fixes the tail, then clears IQE */
    wr32(t, SIOV_REG_FSTS, SIOV_FSTS_IQE);
    q_run(&q, d_iotlb(1, 0), 0);
    tl_free(t);
    /* 256-bit queue, tail bit 4 set */
    t = unit(NULL);
    q_init(&q, t, true, 0);
    q_put(&q, d_wait(SIOV_WAIT0_SW, 5), STATUS_GPA);
    wr64(t, SIOV_REG_IQT, 0x30);
    assert_int_equal(siov_get(rd64(t, SIOV_REG_IQERCD), SIOV_IQERCD_IQEI), SIOV_IQEI_TAIL_ALIGN);
    assert_int_equal(r32(t, STATUS_GPA), 0);
    assert_int_equal(rd64(t, SIOV_REG_IQH), 0);
    tl_free(t);
    /* descriptor fetch error */
    t = unit(NULL);
    q_init(&q, t, true, 0);
    q_put(&q, d_wait(SIOV_WAIT0_SW, 5), STATUS_GPA);
    q_put(&q, d_wait(SIOV_WAIT0_SW, 6), STATUS_GPA);
    assert_int_equal(siov_mem_fail_range(t->mem, q.base + 32, 32, SIOV_MEM_FAIL_READ), 0);
    q_kick(&q);
    assert_int_equal(siov_get(rd64(t, SIOV_REG_IQERCD), SIOV_IQERCD_IQEI), SIOV_IQEI_FETCH);
    assert_int_equal(r32(t, STATUS_GPA), 5);
    assert_int_equal(rd64(t, SIOV_REG_IQH), 32);
    assert_int_equal(siov_mem_fail_range(t->mem, 0, 0, 0), 0);
    wr32(t, SIOV_REG_FSTS, SIOV_FSTS_IQE);
    assert_int_equal(r32(t, STATUS_GPA), 6);
    assert_int_equal(rd64(t, SIOV_REG_IQH), 64);
    tl_free(t);
}

/* The queue's width and the descriptor types against the unit and the
   latched TTM (spec 11.4.9.3, 11.4.9.9, Table 26 as docs/spec-notes.md reads
   them): IQEI 5 for a width the mode cannot use, 7 for a type it cannot. */
static unsigned iqei(struct tl *t)
{
    assert_true(rd32(t, SIOV_REG_FSTS) & SIOV_FSTS_IQE);
    return (unsigned)siov_get(rd64(t, SIOV_REG_IQERCD), SIOV_IQERCD_IQEI);
}

static void test_queue_width_and_mode(void **state)
{
    (void)state;
    struct q q;
    /* 128-bit descriptors once TTM is scalable, or abort-DMA: IQEI 5, nothing run */
    static const unsigned sm_modes[] = {SIOV_TTM_SCALABLE, SIOV_TTM_ABORT};
    for (unsigned m = 0; m < 2; m++) {
        struct tl *t = unit(NULL);
        q_init(&q, t, false, 0);
        q_run(&q, d_cc(1, 0, 0, 0), 0); /* fine while legacy */
        uint64_t head = q.tail;
        latch_ttm(t, sm_modes[m]);
        q_put(&q, d_wait(SIOV_WAIT0_SW, 0x77), STATUS_GPA);
        q_kick(&q);
        assert_int_equal(iqei(t), SIOV_IQEI_WIDTH);
        assert_int_equal(rd64(t, SIOV_REG_IQH), head);
        assert_int_not_equal(r32(t, STATUS_GPA), 0x77);
        tl_free(t);
    }
    /* enabling a 128-bit queue while TTM is scalable stops it at once */
    struct tl *t = unit(NULL);
    latch_ttm(t, SIOV_TTM_SCALABLE);
    q_init(&q, t, false, 0);
    assert_int_equal(iqei(t), SIOV_IQEI_WIDTH);
    tl_free(t);
    /* a 256-bit queue in legacy mode takes types 1-5, not the scalable ones */
    t = unit(NULL);
    latch_ttm(t, SIOV_TTM_LEGACY);
    q_init(&q, t, true, 0);
    assert_int_equal(siov_get(rd64(t, SIOV_REG_RTADDR), SIOV_RTADDR_TTM), SIOV_TTM_LEGACY);
    q_run(&q, d_cc(1, 0, 0, 0), 0);
    q_run(&q, d_iotlb(2, 5), 0);
    q_put(&q, d_pc(3, 0, 0), 0);
    q_kick(&q);
    assert_int_equal(iqei(t), SIOV_IQEI_TTM);
    tl_free(t);
    /* TTM=10 is reserved: no descriptor is valid */
    t = unit(NULL);
    latch_ttm(t, SIOV_TTM_RESERVED);
    q_init(&q, t, false, 0);
    q_put(&q, d_cc(1, 0, 0, 0), 0);
    q_kick(&q);
    assert_int_equal(iqei(t), SIOV_IQEI_TTM);
    assert_int_equal(rd64(t, SIOV_REG_IQH), 0);
    tl_free(t);
    /* DW=1 needs ECAP.SMTS or ECAP.ADMS */
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.scalable = false;
    cfg.abort_dma = false;
    t = unit(&cfg);
    q_init(&q, t, true, 0); /* latches TTM=01, which this unit cannot use anyway */
    assert_int_equal(iqei(t), SIOV_IQEI_WIDTH);
    assert_int_equal(rd64(t, SIOV_REG_IQH), 0);
    tl_free(t);
    /* with ADMS alone, DW=1 is a 256-bit queue (abort-DMA mode takes every type) */
    cfg.abort_dma = true;
    t = unit(&cfg);
    latch_ttm(t, SIOV_TTM_ABORT);
    q_init(&q, t, true, 0);
    q_run(&q, d_iotlb(1, 0), 0);
    q_run(&q, d_pc(3, 0, 0), 0);
    assert_int_equal(rd64(t, SIOV_REG_IQH), 4 * 32);
    tl_free(t);
    /* and with SMTS alone */
    siov_iommu_config_default(&cfg);
    cfg.abort_dma = false;
    t = unit(&cfg);
    latch_ttm(t, SIOV_TTM_SCALABLE);
    q_init(&q, t, true, 0);
    q_run(&q, d_pc(3, 0, 0), 0);
    assert_int_equal(rd64(t, SIOV_REG_IQH), 2 * 32);
    assert_false(siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4) & SIOV_FSTS_IQE);
    tl_free(t);
    /* device-TLB descriptors need ECAP.DT: otherwise an unknown type */
    siov_iommu_config_default(&cfg);
    cfg.dev_tlb = false;
    const uint64_t dtlb[] = {siov_dsc_make_type(SIOV_DSC_DEVTLB), siov_dsc_make_type(SIOV_DSC_PDEVTLB)};
    for (unsigned i = 0; i < 2; i++) {
        t = unit(&cfg);
        q_init(&q, t, true, 0);
        q_put(&q, dtlb[i], 0);
        q_kick(&q);
        assert_int_equal(iqei(t), SIOV_IQEI_TYPE);
        tl_free(t);
    }
}

/* While FSTS.IQE is set the queue is stopped (spec 6.5.2.10): software may
   fix the offending descriptor and move IQT, but nothing runs until it
   clears IQE; then the queue resumes at IQH. */
static void test_iqt_write_while_iqe_set_processes_nothing(void **state)
{
    (void)state;
    for (int dw = 0; dw < 2; dw++) {
        struct tl *t = unit(NULL);
        struct q q;
        q_init(&q, t, dw, 0);
        q_put(&q, siov_dsc_make_type(0xF), 0); /* unknown type: the queue stops here */
        q_put(&q, d_wait(SIOV_WAIT0_SW, 5), STATUS_GPA);
        q_kick(&q);
        assert_true(rd32(t, SIOV_REG_FSTS) & SIOV_FSTS_IQE);
        assert_int_equal(rd64(t, SIOV_REG_IQH), 0);
        /* fix the descriptor in place, queue one more wait, move the tail */
        uint64_t tail = q.tail;
        q.tail = 0;
        q_put(&q, d_wait(SIOV_WAIT0_SW, 4), STATUS_GPA + 4);
        q.tail = tail;
        q_put(&q, d_wait(SIOV_WAIT0_SW, 6), STATUS_GPA + 8);
        q_kick(&q);
        assert_int_equal(r32(t, STATUS_GPA + 4), 0);
        assert_int_equal(r32(t, STATUS_GPA), 0);
        assert_int_equal(r32(t, STATUS_GPA + 8), 0);
        assert_int_equal(rd64(t, SIOV_REG_IQH), 0);
        assert_int_equal(rd64(t, SIOV_REG_IQT), q.tail);
        assert_int_equal(tl_stats(t).inv_wait, 0);
        /* another IQT write, still with IQE set: still nothing */
        q_kick(&q);
        assert_int_equal(rd64(t, SIOV_REG_IQH), 0);
        /* clearing IQE resumes from IQH */
        wr32(t, SIOV_REG_FSTS, SIOV_FSTS_IQE);
        assert_false(rd32(t, SIOV_REG_FSTS) & SIOV_FSTS_IQE);
        assert_int_equal(r32(t, STATUS_GPA + 4), 4);
        assert_int_equal(r32(t, STATUS_GPA), 5);
        assert_int_equal(r32(t, STATUS_GPA + 8), 6);
        assert_int_equal(rd64(t, SIOV_REG_IQH), q.tail);
        assert_int_equal(tl_stats(t).inv_wait, 3);
        tl_free(t);
    }
}

/* ------------------------------------------------------------ concurrency */
/* Translating threads race with a writer that remaps a page and invalidates
   it: a translation that starts after an invalidation completed (its wait
   written) never returns the mapping that invalidation removed. */
struct race {
    struct env *e;
    uint64_t gen;   /* the last round whose invalidation completed */
    bool stop;
    unsigned long lookups;
    unsigned long progress; /* translations so far, all threads */
};

#define RACE_BASE (1ull << 38)

static void *translator(void *arg)
{
    struct race *r = arg;
    unsigned long n = 0;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        uint64_t g = __atomic_load_n(&r->gen, __ATOMIC_ACQUIRE);
        struct siov_xlate x;
        siov_fault f = siov_translate(r->e->t->iommu, SID, PASID, iova_of(r->e, 0), SIOV_ACCESS_READ, &x);
        uint64_t k = (x.addr - RACE_BASE) / KB4;
        if (f != SIOV_OK || k < g)
            fail_msg("round %llu: got fault %#x, mapping of round %llu", (unsigned long long)g, f,
                     (unsigned long long)k);
        n++;
        __atomic_fetch_add(&r->progress, 1, __ATOMIC_RELAXED);
    }
    __atomic_fetch_add(&r->lookups, n, __ATOMIC_RELAXED);
    return NULL;
}

static void test_invalidation_completes_for_concurrent_translators(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, &shapes[1]);
    uint64_t leaf = map_page(&e, e.sl_root, e.fl_root, 0, 0);
    uint64_t *leafp = (uint64_t *)((uint8_t *)siov_mem_flat_ptr(e.t->mem) + leaf);
    __atomic_store_n(leafp, RACE_BASE | TL_SL_RW, __ATOMIC_RELEASE);
    q_run(&e.q, d_iotlb(SIOV_INV_GRAN_GLOBAL, 0), 0);
    struct race r = {.e = &e};
    pthread_t th[3];
    for (int i = 0; i < 3; i++)
        assert_int_equal(pthread_create(&th[i], NULL, translator, &r), 0);
    while (__atomic_load_n(&r.progress, __ATOMIC_RELAXED) < 3) /* the translators are running */
        sched_yield();
    for (uint64_t k = 1; k <= 1000; k++) {
        __atomic_store_n(leafp, (RACE_BASE + k * KB4) | TL_SL_RW, __ATOMIC_RELEASE);
        q_run(&e.q, d_iotlb(SIOV_INV_GRAN_PAGE, DID), d_addr(iova_of(&e, 0), 0, false));
        __atomic_store_n(&r.gen, k, __ATOMIC_RELEASE);
    }
    __atomic_store_n(&r.stop, true, __ATOMIC_RELEASE);
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    assert_true(r.lookups > 0);
    struct siov_stats s = tl_stats(e.t);
    assert_true(s.iotlb_hits > 0);
    assert_int_equal(s.faults, 0);
    tl_free(e.t);
}

/* A walk that read the old leaf, then stalled while software changed the
   leaf and completed the invalidation, must not leave its result cached. */
struct stall {
    struct siov_mem *flat;
    uint64_t gpa;        /* the leaf whose read stalls */
    pthread_t reader;
    int phase;           /* 0 armed, 1 reader stalled, 2 released */
    pthread_mutex_t m;
    pthread_cond_t cv;
};

static int stall_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct stall *st = opaque;
    int rc = siov_mem_read(st->flat, gpa, dst, len);
    pthread_mutex_lock(&st->m);
    if (gpa == st->gpa && st->phase == 0 && pthread_equal(pthread_self(), st->reader)) {
        st->phase = 1;
        pthread_cond_broadcast(&st->cv);
        while (st->phase != 2)
            pthread_cond_wait(&st->cv, &st->m);
    }
    pthread_mutex_unlock(&st->m);
    return rc;
}

static int stall_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct stall *st = opaque;
    return siov_mem_write(st->flat, gpa, src, len);
}

static void *stalled_translation(void *arg)
{
    struct env *e = arg;
    struct siov_xlate x;
    assert_int_equal(siov_translate(e->t->iommu, SID, PASID, iova_of(e, 0), SIOV_ACCESS_READ, &x), SIOV_OK);
    return (void *)(uintptr_t)x.addr;
}

static void test_walk_racing_an_invalidation_is_not_cached(void **state)
{
    (void)state;
    struct env e;
    memset(&e, 0, sizeof(e));
    e.s = shapes[1];
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    e.t = tl_new(&cfg);
    struct stall st = {.flat = e.t->mem, .m = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    static const struct siov_mem_ops ops = {.read = stall_read, .write = stall_write};
    struct siov_mem *cb = siov_mem_new(&ops, &st);
    siov_iommu_free(e.t->iommu);
    e.t->iommu = siov_iommu_new(cb, &cfg); /* the unit reads through the stalling memory */
    tl_enable(e.t, SIOV_TTM_SCALABLE);
    q_init(&e.q, e.t, true, 0);
    e.dir = tl_sm_context_default(e.t, SID, 0);
    e.sl_root = tl_page(e.t);
    st.gpa = map_page(&e, e.sl_root, 0, 0, 0);
    uint64_t pe[8];
    pe_for(&e, e.sl_root, 0, DID, pe);
    tl_pasid_entry(e.t, e.dir, PASID, pe);
    pthread_mutex_lock(&st.m);
    assert_int_equal(pthread_create(&st.reader, NULL, stalled_translation, &e), 0);
    while (st.phase != 1)
        pthread_cond_wait(&st.cv, &st.m);
    pthread_mutex_unlock(&st.m);
    map_page(&e, e.sl_root, 0, 1, 0); /* the walker holds the old leaf */
    q_run(&e.q, d_iotlb(SIOV_INV_GRAN_PAGE, DID), d_addr(iova_of(&e, 0), 0, false));
    pthread_mutex_lock(&st.m);
    st.phase = 2;
    pthread_cond_broadcast(&st.cv);
    pthread_mutex_unlock(&st.m);
    void *ret;
    pthread_join(st.reader, &ret);
    assert_int_equal((uintptr_t)ret, pa_of(&e, 0, 0)); /* concurrent with the invalidation: either answer */
    assert_int_equal(xl(&e, 0), pa_of(&e, 1, 0));      /* started after it completed: the new one */
    assert_int_equal(xl(&e, 0), pa_of(&e, 1, 0));
    tl_free(e.t);
    siov_mem_free(cb);
}

/* ------------------------------------------------ disabling with sends out */
/* Two device ports: A's callback, on its first invalidation, queues one for
   B and then disables the queue, while the unit is still delivering A's. */
struct two_ports {
    struct q *q;
    unsigned a_calls, b_calls;
    uint64_t b_addr;
};

static uint64_t d_devtlb_of(siov_sid sid)
{
    return siov_dsc_make_type(SIOV_DSC_DEVTLB) | siov_set(0, SIOV_DTLB0_SID, sid);
}

static void port_a(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                   unsigned itag)
{
    (void)sid, (void)pasid, (void)addr, (void)size, (void)global, (void)itag;
    struct two_ports *p = opaque;
    if (p->a_calls++)
        return;
    q_put(p->q, d_devtlb_of(SIOV_SID(0, 5, 0)), 0x7000); /* fetched at once: its send waits behind A's */
    q_kick(p->q);
    assert_int_equal(siov_iommu_devtlb_outstanding(p->q->t->iommu), 2);
    tl_gcmd(p->q->t, 0, SIOV_GCMD_QIE);
}

static void port_b(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                   unsigned itag)
{
    (void)sid, (void)pasid, (void)size, (void)global, (void)itag;
    struct two_ports *p = opaque;
    p->b_calls++;
    p->b_addr = addr;
}

/* Disabling the queue forgets the device-TLB invalidations it has sent and
   not yet delivered (nothing waits for their completions): B never gets its
   own, and nothing is outstanding. */
static void test_queue_disabled_while_sends_are_out(void **state)
{
    (void)state;
    static const struct siov_device_ops ops_a = {port_a, NULL}, ops_b = {port_b, NULL};
    struct tl *t = unit(NULL);
    struct q q;
    q_init(&q, t, false, 0);
    struct two_ports p = {&q, 0, 0, 0};
    assert_int_equal(siov_device_port(t->iommu, SIOV_SID(0, 4, 0), &ops_a, &p), 0);
    assert_int_equal(siov_device_port(t->iommu, SIOV_SID(0, 5, 0), &ops_b, &p), 0);
    q_put(&q, d_devtlb_of(SIOV_SID(0, 4, 0)), 0x3000);
    q_kick(&q);
    assert_int_equal(p.a_calls, 1);
    assert_int_equal(p.b_calls, 0);
    assert_false(rd32(t, SIOV_REG_GSTS) & SIOV_GSTS_QIES);
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    /* enabled again, the queue sends B's anew and B gets it */
    q_init(&q, t, false, 0);
    q_put(&q, d_devtlb_of(SIOV_SID(0, 5, 0)), 0x9000);
    q_kick(&q);
    assert_int_equal(p.b_calls, 1);
    assert_int_equal(p.b_addr, 0x9000);
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iotlb_exactly_the_right_invalidation),
        cmocka_unit_test(test_pasid_cache_exactly_the_right_invalidation),
        cmocka_unit_test(test_context_cache_exactly_the_right_invalidation),
        cmocka_unit_test(test_legacy_context_cache_and_ccmd),
        cmocka_unit_test(test_register_iotlb_invalidation),
        cmocka_unit_test(test_page_selective_without_psi),
        cmocka_unit_test(test_wait_status_write_and_completion_event),
        cmocka_unit_test(test_queue_wraps),
        cmocka_unit_test(test_every_descriptor_counted),
        cmocka_unit_test(test_front_cache_keeps_what_an_invalidation_cannot_reach),
        cmocka_unit_test(test_front_cache_follows_the_translation_state),
        cmocka_unit_test(test_bad_descriptors_stop_the_queue),
        cmocka_unit_test(test_bad_tail_and_fetch),
        cmocka_unit_test(test_iqt_write_while_iqe_set_processes_nothing),
        cmocka_unit_test(test_queue_width_and_mode),
        cmocka_unit_test(test_invalidation_completes_for_concurrent_translators),
        cmocka_unit_test(test_walk_racing_an_invalidation_is_not_cached),
        cmocka_unit_test(test_queue_disabled_while_sends_are_out),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

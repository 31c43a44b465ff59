/* Tests of the page walks (src/pgtable.c): second level 3/4/5-level, first
 * level 4/5-level, nested and pass-through, every page size, every fault
 * reason the walk emits, A/D updates, and a brute-force comparison. */
#include "testlib.h"

#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define SZ_4K (1ull << 12)
#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)
#define RD SIOV_ACCESS_READ
#define WR SIOV_ACCESS_WRITE
#define EX SIOV_ACCESS_EXEC
#define PRIV SIOV_ACCESS_PRIV
#define RWX (RD | WR | EX)

static const uint64_t sizes[] = {SZ_4K, SZ_2M, SZ_1G};
static const unsigned sl_levels_all[] = {3, 4, 5};
static const unsigned fl_levels_all[] = {4, 5};
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ helpers */

static void base_cfg(struct siov_iommu_config *cfg)
{
    siov_iommu_config_default(cfg);
    cfg->mgaw = 57; /* so a 5-level second level uses its full width */
    cfg->sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL;
}

static struct tl *unit(void)
{
    struct siov_iommu_config cfg;
    base_cfg(&cfg);
    return tl_new(&cfg);
}

static unsigned leaf_level(uint64_t size)
{
    return size == SZ_4K ? 1 : size == SZ_2M ? 2 : 3;
}

/* An input address with a distinct non-zero index at every level, aligned to
   size, plus off. First level: bit width-1 set and sign-extended (upper half). */
static uint64_t test_iova(unsigned levels, uint64_t size, uint64_t off, bool fl)
{
    uint64_t a = 0;
    for (unsigned k = 1; k <= levels; k++)
        a |= (uint64_t)((0x5A + 37 * k) & 0xFF) << siov_level_shift(k);
    if (fl)
        a |= siov_above(siov_level_shift(levels) + 8);
    return (a & ~(size - 1)) + off;
}

/* An output page below 2^48 with bits set at every level position the size keeps. */
static uint64_t test_pa(uint64_t size)
{
    return ((0x7654ull << 30) | 0x2A5F000ull) & ~(size - 1);
}

static siov_fault walk(struct tl *t, const struct siov_pasid_ent *pe, uint64_t addr, unsigned access,
                       struct siov_walk_out *out)
{
    struct siov_walk_out tmp;
    memset(&tmp, 0xA5, sizeof(tmp));
    return siov_walk(t->iommu, pe, addr, access, out ? out : &tmp);
}

static void set_bits(struct tl *t, uint64_t gpa, uint64_t bits)
{
    tl_w64(t, gpa, tl_r64(t, gpa) | bits);
}

static void clr_bits(struct tl *t, uint64_t gpa, uint64_t bits)
{
    tl_w64(t, gpa, tl_r64(t, gpa) & ~bits);
}

static void pe_set_root(struct siov_pasid_ent *pe, bool fl, uint64_t root, unsigned levels)
{
    if (fl) {
        pe->fl_levels = (uint8_t)levels;
        pe->flptptr = root;
    } else {
        pe->sl_levels = (uint8_t)levels;
        pe->slptptr = root;
    }
}

/* A PASID entry walking one format only; first level with SRE, ERE and NXE on. */
static struct siov_pasid_ent pe_new(bool fl, uint64_t root, unsigned levels)
{
    struct siov_pasid_ent pe;
    memset(&pe, 0, sizeof(pe));
    pe.pgtt = fl ? SIOV_PGTT_FL : SIOV_PGTT_SL;
    pe_set_root(&pe, fl, root, levels);
    pe.pwsnp = true;
    pe.sre = pe.ere = pe.nxe = fl;
    pe.did = 1;
    return pe;
}

/* ------------------------------------------------------------------ stages */

/* What sets the two formats apart in the checks both share, so that one body
   serves both. f[] is indexed by legacy mode; only the second level has it. */
struct stage {
    bool fl;
    const unsigned *levels;           /* the level counts the format has */
    unsigned n_levels;
    unsigned n_legacy;                /* 2: also walked in legacy mode */
    uint64_t full, ro;                /* entry bits granting every access / reads only */
    uint64_t present;                 /* an entry with none of these is not present */
    uint64_t w, a, d, ea, ps;         /* write, accessed, dirty, extended accessed (0: none), page size */
    uint64_t rsvd, rsvd_table;        /* reserved at every level / in table entries only */
    uint64_t ign, ign_table, ign_pte; /* ignored at every level / in table entries / in a PTE */
    uint64_t np_rsvd;                 /* reserved bits set in a not-present entry */
    unsigned large_low_bit;           /* the lowest address bit a large leaf reserves */
    siov_fault not_present, ad_nonsnooped, ad_write_fail;
    struct {
        siov_fault rsvd, read_top, read_lower;
    } f[2];
};

static const struct stage stage_sl = {
    .fl = false, .levels = sl_levels_all, .n_levels = N(sl_levels_all), .n_legacy = 2,
    .full = TL_SL_RWX, .ro = SIOV_SL_R, .present = TL_SL_RWX,
    .w = SIOV_SL_W, .a = SIOV_SL_A, .d = SIOV_SL_D, .ps = SIOV_SL_PS,
    .rsvd = SIOV_BIT(62) | SIOV_BIT(48) | SIOV_BIT(51), /* 48: the address bit at HAW */
    .rsvd_table = SIOV_SL_SNP,                          /* bit 11 */
    .ign = SIOV_BIT(63) | SIOV_BITS(61, 52), .ign_table = SIOV_BITS(6, 3) | SIOV_BIT(10),
    .np_rsvd = SIOV_BIT(62) | SIOV_BIT(51),
    .large_low_bit = 12,
    .not_present = SIOV_FAULT_SSL_2, .ad_nonsnooped = SIOV_FAULT_SSL_5, .ad_write_fail = SIOV_FAULT_SSL_6,
    .f = {{SIOV_FAULT_SSL_3, SIOV_FAULT_SSL_4, SIOV_FAULT_SSL_1},
          {SIOV_FAULT_LSL_2, SIOV_FAULT_LCT_4, SIOV_FAULT_LSL_1}},
};

static const struct stage stage_fl = {
    .fl = true, .levels = fl_levels_all, .n_levels = N(fl_levels_all), .n_legacy = 1,
    .full = TL_FL_URW, .ro = SIOV_FL_P | SIOV_FL_US, .present = SIOV_FL_P,
    .w = SIOV_FL_RW, .a = SIOV_FL_A, .d = SIOV_FL_D, .ea = SIOV_FL_EA, .ps = SIOV_FL_PS,
    .rsvd = SIOV_BIT(48) | SIOV_BIT(51),
    .ign = SIOV_BITS(62, 52) | SIOV_BITS(11, 8) | SIOV_FL_PWT | SIOV_FL_PCD, .ign_pte = SIOV_FL_PAT_4K,
    .np_rsvd = SIOV_BIT(51) | SIOV_FL_XD | SIOV_FL_PS,
    .large_low_bit = 13, /* bit 12 is PAT in a large leaf */
    .not_present = SIOV_FAULT_SFL_2, .ad_nonsnooped = SIOV_FAULT_SFL_9, .ad_write_fail = SIOV_FAULT_SFL_10,
    .f = {{SIOV_FAULT_SFL_3, SIOV_FAULT_SFL_4, SIOV_FAULT_SFL_1}},
};

static const struct stage *const stages[] = {&stage_sl, &stage_fl};

/* One mapping of one page, in a fresh unit. */
struct sc {
    struct tl *t;
    const struct stage *st;
    struct siov_pasid_ent pe;
    uint64_t root, iova, pa, size;
    unsigned levels;
};

static void sc_init_cfg(struct sc *s, const struct siov_iommu_config *cfg, const struct stage *st,
                        unsigned levels, uint64_t size, uint64_t leaf)
{
    memset(s, 0, sizeof(*s));
    s->t = tl_new(cfg);
    s->st = st;
    s->levels = levels;
    s->size = size;
    s->root = tl_page(s->t);
    s->iova = test_iova(levels, size, 0, st->fl);
    s->pa = test_pa(size);
    tl_map(s->t, s->root, levels, st->fl, s->iova, s->pa, size, leaf, st->full);
    s->pe = pe_new(st->fl, s->root, levels);
}

static void sc_init(struct sc *s, const struct stage *st, unsigned levels, uint64_t size, uint64_t leaf)
{
    struct siov_iommu_config cfg;
    base_cfg(&cfg);
    sc_init_cfg(s, &cfg, st, levels, size, leaf);
}

/* The same with A/D updates on: SLADE for the second level, the first always updates. */
static void sc_init_ad(struct sc *s, const struct stage *st, unsigned levels, uint64_t size, uint64_t leaf)
{
    sc_init(s, st, levels, size, leaf);
    s->pe.slade = !st->fl;
}

static uint64_t sc_ent(struct sc *s, unsigned level)
{
    uint64_t gpa = tl_entry_gpa(s->t, s->root, s->levels, s->iova, level);
    assert_int_not_equal(gpa, 0);
    return gpa;
}

static uint64_t sc_leaf(struct sc *s)
{
    return sc_ent(s, leaf_level(s->size));
}

static siov_fault sc_walk(struct sc *s, unsigned access, struct siov_walk_out *out)
{
    return walk(s->t, &s->pe, s->iova + 0x123, access, out);
}

static void sc_free(struct sc *s)
{
    tl_free(s->t);
}

/* Iterate over every (levels, page size) pair of one paging format. */
#define FOR_STAGE(st, lv, sz)                                                               \
    for (unsigned lv##_i = 0; lv##_i < (st)->n_levels; lv##_i++)                            \
        for (unsigned sz##_i = 0, lv = (st)->levels[lv##_i]; sz##_i < N(sizes); sz##_i++) \
            for (uint64_t sz = sizes[sz##_i], sz##_once = 1; sz##_once; sz##_once = 0)
/* ... and over every entry of each such path, top down. */
#define FOR_ENTRY(st, lv, sz, level) \
    FOR_STAGE(st, lv, sz)            \
    for (unsigned level = lv; level >= leaf_level(sz); level--)

/* Expect every entry of the path to hold exactly its original value plus bits
   (the leaf gets leaf_bits, table entries table_bits). */
static void expect_path(struct sc *s, const uint64_t *orig, uint64_t table_bits, uint64_t leaf_bits)
{
    unsigned leaf = leaf_level(s->size);
    for (unsigned level = s->levels; level >= leaf; level--) {
        uint64_t want = orig[level] | (level == leaf ? leaf_bits : table_bits);
        assert_int_equal(tl_r64(s->t, sc_ent(s, level)), want);
    }
}

static void snapshot(struct sc *s, uint64_t *orig)
{
    for (unsigned level = s->levels; level >= leaf_level(s->size); level--)
        orig[level] = tl_r64(s->t, sc_ent(s, level));
}

/* ------------------------------------------------------------ pass-through */

static void test_pt(void **state)
{
    (void)state;
    struct tl *t = unit();
    struct siov_pasid_ent pe;
    struct siov_walk_out out;
    memset(&pe, 0, sizeof(pe));
    pe.pgtt = SIOV_PGTT_PT;

    uint64_t addrs[] = {0, 0x1234, 0xFEDCBA987654ull, (1ull << 48) - 1};
    for (unsigned i = 0; i < N(addrs); i++) {
        assert_int_equal(walk(t, &pe, addrs[i], WR | PRIV | EX, &out), SIOV_OK);
        assert_int_equal(out.page, addrs[i] & ~0xFFFull);
        assert_int_equal(out.page_size, SZ_4K);
        assert_int_equal(out.perm_user, RWX);
        assert_int_equal(out.perm_super, RWX);
        assert_true(out.dirty);
    }
    /* SRE/ERE are first-level checks: pass-through ignores them */
    assert_int_equal(walk(t, &pe, 0x1000, PRIV | EX | RD, &out), SIOV_OK);
    assert_int_equal(walk(t, &pe, 1ull << 48, RD, NULL), SIOV_FAULT_SGN_4);
    assert_int_equal(walk(t, &pe, UINT64_MAX, RD, NULL), SIOV_FAULT_SGN_4);
    pe.legacy = true;
    assert_int_equal(walk(t, &pe, 1ull << 48, RD, NULL), SIOV_FAULT_LGN_1);
    assert_int_equal(walk(t, &pe, (1ull << 48) - 1, WR, &out), SIOV_OK);
    tl_free(t);

    struct siov_iommu_config cfg;
    base_cfg(&cfg);
    cfg.haw = 40;
    t = tl_new(&cfg);
    pe.legacy = false;
    assert_int_equal(walk(t, &pe, (1ull << 40) - 1, RD, &out), SIOV_OK);
    assert_int_equal(walk(t, &pe, 1ull << 40, RD, NULL), SIOV_FAULT_SGN_4);
    tl_free(t);
}

static void test_bad_levels(void **state)
{
    (void)state;
    struct tl *t = unit();
    uint64_t root = tl_page(t);
    struct siov_pasid_ent pe = pe_new(false, root, 2);
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_SPT_4);
    pe.sl_levels = 6;
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_SPT_4);
    pe.legacy = true;
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_LCT_4);
    pe = pe_new(true, root, 3);
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_SPT_4);
    pe.fl_levels = 4;
    pe.pgtt = SIOV_PGTT_NESTED; /* sl_levels 0 */
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_SPT_4);
    pe.pgtt = 0;
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_SPT_4);
    pe.pgtt = 5;
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_SPT_4);
    tl_free(t);
}

/* ------------------------------------------------------------ both formats */

/* One body per check, run by a test per format (test_sl_*, test_fl_*) over
   every level count and page size the format has; a format's own extra
   checks stay in its test or under a test of st->fl. */

/* Every offset of the page and every kind of request reach it with all permissions. */
static void translate_body(const struct stage *st)
{
    /* RD | EX | PRIV: SRE/ERE do not apply to second-level-only walks (off in pe_new) */
    static const unsigned accs[] = {RD, WR, RD | WR, RD | EX, WR | PRIV, RD | EX | PRIV};
    FOR_STAGE(st, levels, size) {
        struct sc s;
        sc_init(&s, st, levels, size, st->full);
        uint64_t offs[] = {0, 0x123, size / 2 + 0x8, size - 1};
        for (unsigned i = 0; i < N(offs); i++) {
            for (unsigned a = 0; a < N(accs); a++) {
                struct siov_walk_out out;
                assert_int_equal(walk(s.t, &s.pe, s.iova + offs[i], accs[a], &out), SIOV_OK);
                assert_int_equal(out.page, s.pa);
                assert_int_equal(out.page_size, size);
                assert_int_equal(out.page + (offs[i] & (size - 1)), s.pa + offs[i]);
                assert_int_equal(out.perm_user, RWX); /* SLEE=0: execute follows read */
                assert_int_equal(out.perm_super, RWX);
                if (!st->fl)
                    assert_true(out.dirty); /* SLADE=0 */
            }
        }
        /* the neighbouring page of the same size is not mapped */
        assert_int_equal(walk(s.t, &s.pe, s.iova + size, RD, NULL), st->not_present);
        sc_free(&s);
    }
}

static void test_sl_translate(void **state) { (void)state; translate_body(&stage_sl); }

static void test_fl_translate(void **state)
{
    (void)state;
    translate_body(&stage_fl);
    /* a lower-half (positive) address as well */
    struct sc s;
    sc_init(&s, &stage_fl, 4, SZ_4K, TL_FL_URW);
    uint64_t iova = 0x7FFFFFFFF000ull;
    tl_map(s.t, s.root, 4, true, iova, 0xABC000, SZ_4K, TL_FL_URW, TL_FL_URW);
    struct siov_walk_out out;
    assert_int_equal(walk(s.t, &s.pe, iova + 0xFFF, RD, &out), SIOV_OK);
    assert_int_equal(out.page, 0xABC000);
    sc_free(&s);
}

/* Table pointers outside guest memory (but below HAW): the root, a lower
   table, and the top entry's table. */
static void read_errors_outside(const struct stage *st)
{
    for (unsigned i = 0; i < st->n_levels; i++) {
        unsigned levels = st->levels[i];
        struct sc s;
        sc_init(&s, st, levels, SZ_4K, st->full);
        uint64_t top = sc_ent(&s, levels), mid = sc_ent(&s, 2);
        uint64_t old_top = tl_r64(s.t, top), old_mid = tl_r64(s.t, mid);
        for (unsigned legacy = 0; legacy < st->n_legacy; legacy++) {
            s.pe.legacy = legacy;
            pe_set_root(&s.pe, st->fl, 1ull << 40, levels);
            assert_int_equal(sc_walk(&s, RD, NULL), st->f[legacy].read_top);
            pe_set_root(&s.pe, st->fl, s.root, levels);
            tl_w64(s.t, mid, TL_MEM_SIZE | st->full); /* table just past memory */
            assert_int_equal(sc_walk(&s, RD, NULL), st->f[legacy].read_lower);
            tl_w64(s.t, top, 0xFFFFFFFFF000ull | st->full);
            assert_int_equal(sc_walk(&s, RD, NULL), st->f[legacy].read_lower);
            tl_w64(s.t, mid, old_mid);
            tl_w64(s.t, top, old_top);
        }
        sc_free(&s);
    }
}

/* A failing read of any entry of the path faults, the top entry's with its own reason. */
static void read_errors_body(const struct stage *st)
{
    FOR_ENTRY(st, levels, size, level) {
        for (unsigned legacy = 0; legacy < st->n_legacy; legacy++) {
            struct sc s;
            sc_init(&s, st, levels, size, st->full);
            s.pe.legacy = legacy;
            assert_int_equal(siov_mem_fail_range(s.t->mem, sc_ent(&s, level), 8, SIOV_MEM_FAIL_READ), 0);
            siov_fault want = level == levels ? st->f[legacy].read_top : st->f[legacy].read_lower;
            assert_int_equal(sc_walk(&s, RD, NULL), want);
            assert_int_equal(sc_walk(&s, WR, NULL), want);
            assert_int_equal(sc_walk(&s, WR | PRIV, NULL), want);
            /* a failure on the neighbouring entry does not matter */
            siov_mem_fail_range(s.t->mem, sc_ent(&s, level) + 8, 8, SIOV_MEM_FAIL_READ);
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_OK);
            sc_free(&s);
        }
    }
    read_errors_outside(st);
}

static void test_sl_read_errors(void **state) { (void)state; read_errors_body(&stage_sl); }
static void test_fl_read_errors(void **state) { (void)state; read_errors_body(&stage_fl); }

/* Second level: X alone is present only with SLEE, and never in legacy mode,
   where not present reports the request's permission reason. */
static void sl_x_alone(struct sc *s, uint64_t e)
{
    struct siov_walk_out out;
    set_bits(s->t, e, SIOV_SL_X);
    assert_int_equal(sc_walk(s, RD, NULL), SIOV_FAULT_SSL_2);
    s->pe.slee = true;
    assert_int_equal(sc_walk(s, RD, NULL), SIOV_FAULT_SGN_7);
    assert_int_equal(sc_walk(s, WR, NULL), SIOV_FAULT_SGN_6);
    assert_int_equal(sc_walk(s, EX, &out), SIOV_OK);
    assert_int_equal(out.perm_user, EX);
    clr_bits(s->t, e, SIOV_SL_X);
    s->pe.slee = false;
    s->pe.legacy = true;
    assert_int_equal(sc_walk(s, RD, NULL), SIOV_FAULT_LGN_3);
    assert_int_equal(sc_walk(s, WR, NULL), SIOV_FAULT_LGN_2);
    assert_int_equal(sc_walk(s, EX, NULL), SIOV_FAULT_LGN_3);
    assert_int_equal(sc_walk(s, RD | WR, NULL), SIOV_FAULT_LGN_3); /* a write that also reads */
    /* legacy entries have no execute bit: X alone is not present even with SLEE */
    set_bits(s->t, e, SIOV_SL_X);
    s->pe.slee = true;
    assert_int_equal(sc_walk(s, EX, NULL), SIOV_FAULT_LGN_3);
    assert_int_equal(sc_walk(s, WR, NULL), SIOV_FAULT_LGN_2);
}

/* An entry of the path without its present bits: not present, whatever else it holds. */
static void not_present_body(const struct stage *st)
{
    FOR_ENTRY(st, levels, size, level) {
        struct sc s;
        sc_init(&s, st, levels, size, st->full);
        uint64_t e = sc_ent(&s, level);
        clr_bits(s.t, e, st->present);
        assert_int_equal(sc_walk(&s, RD, NULL), st->not_present);
        assert_int_equal(sc_walk(&s, WR, NULL), st->not_present);
        assert_int_equal(sc_walk(&s, WR | PRIV, NULL), st->not_present);
        /* present is checked before reserved bits (XD is reserved without NXE) */
        uint64_t junk = st->np_rsvd | (level >= 4 ? st->ps : 0);
        set_bits(s.t, e, junk);
        s.pe.nxe = false;
        assert_int_equal(sc_walk(&s, RD, NULL), st->not_present);
        s.pe.nxe = st->fl;
        clr_bits(s.t, e, junk);
        if (!st->fl)
            sl_x_alone(&s, e);
        sc_free(&s);
    }
}

static void test_sl_not_present(void **state) { (void)state; not_present_body(&stage_sl); }
static void test_fl_not_present(void **state) { (void)state; not_present_body(&stage_fl); }

/* Reserved bit b in the entry at level faults with the stage's reason (legacy's
   in legacy mode); clearing it restores. */
static void expect_rsvd(struct sc *s, unsigned level, uint64_t b)
{
    uint64_t e = sc_ent(s, level);
    uint64_t old = tl_r64(s->t, e);
    siov_fault want = s->st->f[s->pe.legacy].rsvd;
    tl_w64(s->t, e, old | b);
    assert_int_equal(sc_walk(s, RD, NULL), want);
    assert_int_equal(sc_walk(s, WR, NULL), want);
    assert_int_equal(sc_walk(s, WR | PRIV, NULL), want);
    tl_w64(s->t, e, old);
    assert_int_equal(sc_walk(s, RD, NULL), SIOV_OK);
}

/* Each reserved bit of the entry at level faults on its own; the ignored ones do not. */
static void reserved_at_level(struct sc *s, unsigned level)
{
    const struct stage *st = s->st;
    bool table = level > leaf_level(s->size);
    uint64_t rsvd = st->rsvd | (table ? st->rsvd_table : 0) | (level >= 4 ? st->ps : 0);
    for (unsigned b = 0; b < 64; b++)
        if (rsvd & SIOV_BIT(b))
            expect_rsvd(s, level, SIOV_BIT(b));
    if (st->fl) { /* XD: reserved without NXE */
        s->pe.nxe = false;
        expect_rsvd(s, level, SIOV_FL_XD);
        s->pe.nxe = true;
    }
    uint64_t e = sc_ent(s, level), old = tl_r64(s->t, e);
    tl_w64(s->t, e, old | st->ign | (table ? st->ign_table : 0) | (level == 1 ? st->ign_pte : 0));
    assert_int_equal(sc_walk(s, RD, NULL), SIOV_OK);
    assert_int_equal(sc_walk(s, WR, NULL), SIOV_OK);
    tl_w64(s->t, e, old);
}

/* The address bits below a large page's size are reserved in its leaf. */
static void reserved_large_leaf(struct sc *s)
{
    unsigned low = s->st->large_low_bit;
    if (s->size == SZ_2M) {
        expect_rsvd(s, 2, SIOV_BIT(low));
        expect_rsvd(s, 2, SIOV_BIT(20));
    } else if (s->size == SZ_1G) {
        expect_rsvd(s, 3, SIOV_BIT(low));
        expect_rsvd(s, 3, SIOV_BIT(21));
        expect_rsvd(s, 3, SIOV_BIT(29));
    }
}

/* A smaller HAW moves the reserved address bits down. */
static void reserved_small_haw(const struct stage *st)
{
    static const unsigned haws[] = {36, 40};
    for (unsigned i = 0; i < st->n_levels; i++) {
        for (unsigned h = 0; h < N(haws); h++) {
            unsigned levels = st->levels[i];
            struct siov_iommu_config cfg;
            base_cfg(&cfg);
            cfg.haw = haws[h];
            struct sc s;
            sc_init_cfg(&s, &cfg, st, levels, SZ_4K, st->full);
            tl_w64(s.t, sc_leaf(&s), 0x12345000 | st->full); /* an output below 2^36 */
            for (unsigned level = levels; level >= 1; level--) {
                expect_rsvd(&s, level, SIOV_BIT(haws[h]));
                expect_rsvd(&s, level, SIOV_BIT(47));
            }
            sc_free(&s);
        }
    }
}

/* Reserved and ignored bits of every entry, in scalable and (second level) legacy mode. */
static void reserved_body(const struct stage *st)
{
    FOR_STAGE(st, levels, size) {
        for (unsigned legacy = 0; legacy < st->n_legacy; legacy++) {
            struct sc s;
            sc_init(&s, st, levels, size, st->full);
            s.pe.legacy = legacy;
            for (unsigned level = levels; level >= leaf_level(size); level--)
                reserved_at_level(&s, level);
            reserved_large_leaf(&s);
            if (!st->fl) {
                /* SNP in the leaf: allowed in scalable mode, reserved in legacy (no ECAP.SC) */
                uint64_t le = sc_leaf(&s);
                set_bits(s.t, le, SIOV_SL_SNP);
                assert_int_equal(sc_walk(&s, RD, NULL), legacy ? SIOV_FAULT_LSL_2 : SIOV_OK);
                clr_bits(s.t, le, SIOV_SL_SNP);
            } else if (size != SZ_4K) {
                /* bit 12 is PAT in a large leaf, not an address bit */
                struct siov_walk_out out;
                set_bits(s.t, sc_leaf(&s), SIOV_FL_PAT_LARGE);
                assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
                assert_int_equal(out.page, s.pa);
            }
            sc_free(&s);
        }
    }
    reserved_small_haw(st);
}

static void test_sl_reserved(void **state) { (void)state; reserved_body(&stage_sl); }

static void test_fl_reserved(void **state)
{
    (void)state;
    reserved_body(&stage_fl);
    /* 1 GiB pages need FL1GP; 2 MiB pages are always there */
    struct siov_iommu_config cfg;
    base_cfg(&cfg);
    cfg.fl_1g = false;
    for (unsigned i = 0; i < N(sizes); i++) {
        struct sc s;
        sc_init_cfg(&s, &cfg, &stage_fl, 4, sizes[i], TL_FL_URW);
        assert_int_equal(sc_walk(&s, RD, NULL), sizes[i] == SZ_1G ? SIOV_FAULT_SFL_3 : SIOV_OK);
        sc_free(&s);
    }
}

/* With updates on, a read sets the accessed bits a in every entry of the path
   and a write adds D to the leaf. */
static void ad_read_then_write(struct sc *s, const uint64_t *orig, uint64_t a)
{
    struct siov_walk_out out;
    assert_int_equal(sc_walk(s, RD, &out), SIOV_OK);
    assert_false(out.dirty);
    expect_path(s, orig, a, a);
    assert_int_equal(sc_walk(s, RD, &out), SIOV_OK);
    assert_false(out.dirty);
    assert_int_equal(sc_walk(s, RD | PRIV, &out), SIOV_OK);
    assert_false(out.dirty);
    assert_int_equal(sc_walk(s, WR, &out), SIOV_OK);
    assert_true(out.dirty);
    expect_path(s, orig, a, a | s->st->d);
    assert_int_equal(sc_walk(s, RD, &out), SIOV_OK);
    assert_true(out.dirty);
}

/* A write the leaf denies changes nothing; once allowed it sets A and D at once. */
static void ad_denied_write(const struct stage *st, unsigned levels, uint64_t size, bool eafe)
{
    struct sc s;
    struct siov_walk_out out;
    uint64_t orig[6];
    uint64_t a = st->a | (eafe ? st->ea : 0);
    sc_init_ad(&s, st, levels, size, st->ro);
    s.pe.eafe = eafe;
    snapshot(&s, orig);
    assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SGN_6);
    expect_path(&s, orig, 0, 0);
    set_bits(s.t, sc_leaf(&s), st->w);
    orig[leaf_level(size)] |= st->w;
    assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
    assert_true(out.dirty);
    expect_path(&s, orig, a, a | st->d);
    sc_free(&s);
}

/* Second level without SLADE, or in legacy mode even with it: nothing is written. */
static void sl_ad_off(struct sc *s, const uint64_t *orig)
{
    struct siov_walk_out out;
    for (int legacy = 0; legacy < 2; legacy++) {
        s->pe.slade = legacy;
        s->pe.legacy = legacy;
        assert_int_equal(sc_walk(s, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        expect_path(s, orig, 0, 0);
    }
    s->pe.legacy = false;
}

/* A/D updates along the path, with EAFE off and (first level) on. */
static void ad_body(const struct stage *st)
{
    FOR_STAGE(st, levels, size) {
        for (unsigned eafe = 0; eafe < (st->ea ? 2u : 1u); eafe++) {
            struct sc s;
            uint64_t orig[6];
            sc_init(&s, st, levels, size, st->full);
            snapshot(&s, orig);
            if (!st->fl)
                sl_ad_off(&s, orig);
            s.pe.slade = !st->fl;
            s.pe.eafe = eafe;
            ad_read_then_write(&s, orig, st->a | (eafe ? st->ea : 0));
            sc_free(&s);
            ad_denied_write(st, levels, size, eafe);
        }
    }
}

static void test_sl_ad(void **state) { (void)state; ad_body(&stage_sl); }
static void test_fl_ad(void **state) { (void)state; ad_body(&stage_fl); }

/* Without snooped paging-structure writes a needed A/D update faults; entries
   already holding A (and D, for a write) need none. */
static void ad_nonsnooped_body(const struct stage *st)
{
    FOR_STAGE(st, levels, size) {
        struct sc s;
        struct siov_walk_out out;
        uint64_t orig[6];
        unsigned leaf = leaf_level(size);
        sc_init_ad(&s, st, levels, size, st->full);
        s.pe.pwsnp = false;
        snapshot(&s, orig);
        assert_int_equal(sc_walk(&s, RD, NULL), st->ad_nonsnooped);
        expect_path(&s, orig, 0, 0);
        if (!st->fl) { /* without SLADE nothing is needed */
            s.pe.slade = false;
            assert_int_equal(sc_walk(&s, WR, NULL), SIOV_OK);
            s.pe.slade = true;
        }
        for (unsigned level = levels; level >= leaf; level--)
            set_bits(s.t, sc_ent(&s, level), st->a);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_false(out.dirty);
        /* A missing in any one entry is enough */
        for (unsigned level = levels; level >= leaf; level--) {
            clr_bits(s.t, sc_ent(&s, level), st->a);
            assert_int_equal(sc_walk(&s, RD, NULL), st->ad_nonsnooped);
            set_bits(s.t, sc_ent(&s, level), st->a);
        }
        if (st->ea) { /* with EAFE, EA is needed too */
            s.pe.eafe = true;
            assert_int_equal(sc_walk(&s, RD, NULL), st->ad_nonsnooped);
            s.pe.eafe = false;
        }
        assert_int_equal(sc_walk(&s, WR, NULL), st->ad_nonsnooped); /* D needed */
        set_bits(s.t, sc_leaf(&s), st->d);
        assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        sc_free(&s);
    }
}

static void test_sl_ad_nonsnooped(void **state) { (void)state; ad_nonsnooped_body(&stage_sl); }
static void test_fl_ad_nonsnooped(void **state) { (void)state; ad_nonsnooped_body(&stage_fl); }

/* A failing A/D write to any entry of the path faults. */
static void ad_write_fail_body(const struct stage *st)
{
    FOR_ENTRY(st, levels, size, level) {
        struct sc s;
        sc_init_ad(&s, st, levels, size, st->full);
        uint64_t e = sc_ent(&s, level);
        siov_mem_fail_range(s.t->mem, e, 8, SIOV_MEM_FAIL_WRITE);
        assert_int_equal(sc_walk(&s, RD, NULL), st->ad_write_fail);
        /* the entry stays readable and unchanged */
        assert_int_equal(tl_r64(s.t, e) & st->a, 0);
        /* once A is there, a read needs no write */
        siov_mem_fail_range(s.t->mem, 0, 0, 0);
        set_bits(s.t, e, st->a);
        siov_mem_fail_range(s.t->mem, e, 8, SIOV_MEM_FAIL_WRITE);
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_OK);
        sc_free(&s);
    }
}

static void test_sl_ad_write_fail(void **state) { (void)state; ad_write_fail_body(&stage_sl); }
static void test_fl_ad_write_fail(void **state) { (void)state; ad_write_fail_body(&stage_fl); }

/* A memory whose word at gpa changes (bit 52, ignored by both formats) after
   each of its next `flips` reads (-1: forever): forces cmpxchg to see a change. */
struct flip_mem {
    struct siov_mem *inner;
    uint64_t gpa;
    int flips;
};

static int flip_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct flip_mem *f = opaque;
    int rc = siov_mem_read(f->inner, gpa, dst, len);
    if (rc == 0 && gpa == f->gpa && len == 8 && f->flips != 0) {
        uint64_t v;
        assert_int_equal(siov_mem_read(f->inner, gpa, &v, 8), 0);
        v ^= SIOV_BIT(52);
        assert_int_equal(siov_mem_write(f->inner, gpa, &v, 8), 0);
        if (f->flips > 0)
            f->flips--;
    }
    return rc;
}

static int flip_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct flip_mem *f = opaque;
    return siov_mem_write(f->inner, gpa, src, len);
}

/* Walk s through a flipping memory; returns the fault. */
static siov_fault walk_flipping(struct sc *s, uint64_t gpa, int flips, unsigned access)
{
    struct flip_mem f = {.inner = s->t->mem, .gpa = gpa, .flips = flips};
    struct siov_mem_ops ops = {.read = flip_read, .write = flip_write};
    struct siov_mem *mem = siov_mem_new(&ops, &f);
    assert_non_null(mem);
    struct siov_iommu_config cfg;
    base_cfg(&cfg);
    struct siov_iommu *iommu = siov_iommu_new(mem, &cfg);
    assert_non_null(iommu);
    struct siov_walk_out out;
    siov_fault fault = siov_walk(iommu, &s->pe, s->iova, access, &out);
    siov_iommu_free(iommu);
    siov_mem_free(mem);
    return fault;
}

/* An entry that changes under its A/D update: the walk starts over, a bounded number of times. */
static void ad_retry_body(const struct stage *st)
{
    uint64_t ad = st->a | st->d;
    for (unsigned i = 0; i < st->n_levels; i++) {
        unsigned levels = st->levels[i];
        for (unsigned level = levels; level >= 1; level--) {
            struct sc s;
            sc_init_ad(&s, st, levels, SZ_4K, st->full);
            uint64_t e = sc_ent(&s, level);
            /* changed once: the walk starts over and succeeds */
            assert_int_equal(walk_flipping(&s, e, 1, WR), SIOV_OK);
            uint64_t want = st->a | SIOV_BIT(52) | (level == 1 ? st->d : 0);
            assert_int_equal(tl_r64(s.t, e) & want, want);
            /* changing forever: bounded retries, then an access error */
            clr_bits(s.t, e, ad);
            assert_int_equal(walk_flipping(&s, e, -1, WR), st->f[0].read_lower);
            assert_int_equal(tl_r64(s.t, e) & ad, 0);
            /* eight tries: 14 changes still leave the last try a stable entry, 15 do not */
            assert_int_equal(walk_flipping(&s, e, 14, WR), SIOV_OK);
            clr_bits(s.t, e, ad);
            assert_int_equal(walk_flipping(&s, e, 15, WR), st->f[0].read_lower);
            sc_free(&s);
        }
    }
}

static void test_sl_ad_retry(void **state) { (void)state; ad_retry_body(&stage_sl); }
static void test_fl_ad_retry(void **state) { (void)state; ad_retry_body(&stage_fl); }

/* ------------------------------------------------------------ second level */

static void test_sl_width(void **state)
{
    (void)state;
    for (unsigned i = 0; i < N(sl_levels_all); i++) {
        unsigned levels = sl_levels_all[i], width = 12 + 9 * levels;
        struct sc s;
        sc_init(&s, &stage_sl, levels, SZ_4K, TL_SL_RWX);
        /* the last address inside the width walks (and is not mapped) */
        assert_int_equal(walk(s.t, &s.pe, (1ull << width) - 1, RD, NULL), SIOV_FAULT_SSL_2);
        /* second-level-only input above 2^X-1: SGN.5 (Table 30); SGN.4 is for host addresses */
        assert_int_equal(walk(s.t, &s.pe, 1ull << width, RD, NULL), SIOV_FAULT_SGN_5);
        assert_int_equal(walk(s.t, &s.pe, s.iova | (1ull << 63), WR, NULL), SIOV_FAULT_SGN_5);
        s.pe.legacy = true;
        assert_int_equal(walk(s.t, &s.pe, 1ull << width, RD, NULL), SIOV_FAULT_LGN_1);
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_OK);
        sc_free(&s);
    }
    /* MGAW below the table's width limits the input */
    struct siov_iommu_config cfg;
    base_cfg(&cfg);
    cfg.mgaw = 40;
    struct sc s;
    sc_init_cfg(&s, &cfg, &stage_sl, 4, SZ_4K, TL_SL_RWX);
    uint64_t iova = (1ull << 39) | 0x5000;
    tl_map(s.t, s.root, 4, false, iova, 0x9000, SZ_4K, TL_SL_RWX, TL_SL_RWX);
    assert_int_equal(walk(s.t, &s.pe, iova, RD, NULL), SIOV_OK);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 40, RD, NULL), SIOV_FAULT_SGN_5);
    assert_int_equal(walk(s.t, &s.pe, s.iova, RD, NULL), SIOV_FAULT_SGN_5); /* bit 47 set */
    sc_free(&s);
}

static void test_sl_large_unsupported(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    for (unsigned sl_large = 0; sl_large < 4; sl_large++) {
        for (unsigned i = 1; i < N(sizes); i++) {
            base_cfg(&cfg);
            cfg.sl_large = sl_large;
            struct sc s;
            sc_init_cfg(&s, &cfg, &stage_sl, 4, sizes[i], TL_SL_RWX);
            bool ok = sl_large & (sizes[i] == SZ_2M ? SIOV_SLLPS_2M : SIOV_SLLPS_1G);
            assert_int_equal(sc_walk(&s, RD, NULL), ok ? SIOV_OK : SIOV_FAULT_SSL_3);
            s.pe.legacy = true;
            assert_int_equal(sc_walk(&s, RD, NULL), ok ? SIOV_OK : SIOV_FAULT_LSL_2);
            sc_free(&s);
        }
    }
}

static void test_sl_perm_stacking(void **state)
{
    (void)state;
    FOR_ENTRY(&stage_sl, levels, size, level) {
        struct sc s;
        struct siov_walk_out out;
        sc_init(&s, &stage_sl, levels, size, TL_SL_RWX);
        uint64_t e = sc_ent(&s, level);
        /* no W at one level */
        clr_bits(s.t, e, SIOV_SL_W);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_int_equal(out.perm_user, RD | EX);
        assert_int_equal(out.perm_super, RD | EX);
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SGN_6);
        assert_int_equal(sc_walk(&s, RD | WR, NULL), SIOV_FAULT_SGN_6);
        s.pe.legacy = true;
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_LGN_2);
        s.pe.legacy = false;
        /* no R (W kept) at one level */
        tl_w64(s.t, e, (tl_r64(s.t, e) & ~SIOV_SL_R) | SIOV_SL_W);
        assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
        assert_int_equal(out.perm_user, WR);
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SGN_7);
        assert_int_equal(sc_walk(&s, RD | WR, NULL), SIOV_FAULT_SGN_7);
        assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_SGN_3); /* SLEE=0: execute needs read */
        s.pe.legacy = true;
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_LGN_3);
        assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_LGN_3);
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_OK);
        s.pe.legacy = false;
        /* SLEE: X needed at every level */
        set_bits(s.t, e, SIOV_SL_R);
        s.pe.slee = true;
        assert_int_equal(sc_walk(&s, EX, &out), SIOV_OK);
        assert_int_equal(out.perm_user, RWX);
        clr_bits(s.t, e, SIOV_SL_X);
        assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_SGN_3);
        assert_int_equal(sc_walk(&s, RD | EX, NULL), SIOV_FAULT_SGN_3);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_int_equal(out.perm_user, RD | WR);
        s.pe.slee = false; /* without SLEE X is ignored */
        assert_int_equal(sc_walk(&s, EX, &out), SIOV_OK);
        assert_int_equal(out.perm_super, RWX);
        sc_free(&s);
    }
}

/* Every entry present, yet read and write both denied once stacked (R only
   above, W only at the leaf): SSL.2 (spec Table 30, "R and W both denied"),
   not a permission fault; X under SLEE still counts as present; legacy mode
   reports the request's permission reason. */
static void test_sl_stacked_not_present(void **state)
{
    (void)state;
    FOR_STAGE(&stage_sl, levels, size) {
        if (leaf_level(size) == levels)
            continue; /* a 1 GiB page under 3 levels: no entry above the leaf */
        struct sc s;
        struct siov_walk_out out;
        sc_init(&s, &stage_sl, levels, size, TL_SL_RWX);
        uint64_t top = sc_ent(&s, levels), leaf = sc_leaf(&s);
        tl_w64(s.t, top, (tl_r64(s.t, top) & ~TL_SL_RWX) | SIOV_SL_R);
        tl_w64(s.t, leaf, (tl_r64(s.t, leaf) & ~TL_SL_RWX) | SIOV_SL_W);
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_2);
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SSL_2);
        assert_int_equal(sc_walk(&s, RD | WR, NULL), SIOV_FAULT_SSL_2);
        assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_SSL_2);
        /* one of R or W left: a permission fault again */
        set_bits(s.t, leaf, SIOV_SL_R);
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SGN_6);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        clr_bits(s.t, leaf, SIOV_SL_R);
        /* SLEE with X at every level: an execute-only translation */
        set_bits(s.t, top, SIOV_SL_X);
        set_bits(s.t, leaf, SIOV_SL_X);
        s.pe.slee = true;
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SGN_7);
        assert_int_equal(sc_walk(&s, EX, &out), SIOV_OK);
        assert_int_equal(out.perm_user, EX);
        clr_bits(s.t, leaf, SIOV_SL_X);
        assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_SSL_2);
        s.pe.slee = false;
        s.pe.legacy = true;
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_LGN_3);
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_LGN_2);
        sc_free(&s);
    }
}

/* ------------------------------------------------------------- first level */

static void test_fl_request_checks(void **state)
{
    (void)state;
    for (unsigned pgtt = SIOV_PGTT_FL; pgtt <= SIOV_PGTT_NESTED; pgtt += SIOV_PGTT_NESTED - SIOV_PGTT_FL) {
        struct sc s;
        sc_init(&s, &stage_fl, 4, SZ_4K, TL_FL_URW);
        s.pe.pgtt = (uint8_t)pgtt;
        s.pe.sl_levels = 4;
        s.pe.slptptr = tl_page(s.t); /* empty: any SL walk would fault SSL.2 */
        s.pe.sre = false;
        assert_int_equal(sc_walk(&s, RD | PRIV, NULL), SIOV_FAULT_SPT_6);
        assert_int_equal(sc_walk(&s, RD | EX | PRIV, NULL), SIOV_FAULT_SPT_6);
        s.pe.ere = false;
        assert_int_equal(sc_walk(&s, RD | EX | PRIV, NULL), SIOV_FAULT_SPT_6);
        assert_int_equal(sc_walk(&s, RD | EX, NULL), SIOV_FAULT_SPT_5);
        s.pe.sre = true;
        assert_int_equal(sc_walk(&s, EX | PRIV, NULL), SIOV_FAULT_SPT_5);
        /* checked before the address */
        assert_int_equal(walk(s.t, &s.pe, 1ull << 50, EX, NULL), SIOV_FAULT_SPT_5);
        sc_free(&s);
    }
    /* second-level-only walks ignore SRE and ERE */
    struct sc s;
    sc_init(&s, &stage_sl, 4, SZ_4K, TL_SL_RWX);
    assert_int_equal(sc_walk(&s, RD | EX | PRIV, NULL), SIOV_OK);
    sc_free(&s);
}

static void test_fl_canonical(void **state)
{
    (void)state;
    struct sc s;
    sc_init(&s, &stage_fl, 4, SZ_4K, TL_FL_URW);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 47, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 48, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 63, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, s.iova & ~(1ull << 50), RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 0xFFFF800000000000ull, RD, NULL), SIOV_FAULT_SFL_2);
    assert_int_equal(walk(s.t, &s.pe, 0x00007FFFFFFFF000ull, RD, NULL), SIOV_FAULT_SFL_2);
    sc_free(&s);
    sc_init(&s, &stage_fl, 5, SZ_4K, TL_FL_URW);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 56, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 57, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, s.iova & ~(1ull << 60), RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 47, RD, NULL), SIOV_FAULT_SFL_2);   /* canonical in 57 bits */
    assert_int_equal(walk(s.t, &s.pe, 0xFF00000000000000ull, RD, NULL), SIOV_FAULT_SFL_2);
    sc_free(&s);
}

/* PS=1 in a PML4E or PML5E is reserved in both formats (spec 9.7, 9.8), also
   when the entry's address bits would fit a page of that size: the entry
   points at guest address 0 or 512 GiB, so no large-leaf reserved bit is set
   and only PS itself can fault. */
static void expect_ps_above_leaf(struct sc *s)
{
    static const uint64_t bases[] = {0, 1ull << 39};
    const struct stage *st = s->st;
    for (unsigned level = 4; level <= s->levels; level++) {
        uint64_t e = sc_ent(s, level), old = tl_r64(s->t, e);
        for (unsigned b = 0; b < N(bases); b++) {
            tl_w64(s->t, e, bases[b] | st->full | st->ps);
            for (unsigned legacy = 0; legacy < st->n_legacy; legacy++) {
                s->pe.legacy = legacy;
                assert_int_equal(sc_walk(s, RD, NULL), st->f[legacy].rsvd);
                assert_int_equal(sc_walk(s, WR, NULL), st->f[legacy].rsvd);
            }
            s->pe.legacy = false;
        }
        tl_w64(s->t, e, old);
        assert_int_equal(sc_walk(s, RD, NULL), SIOV_OK);
    }
}

/* The same under every SLLPS and FL1GP setting. */
static void test_ps_above_the_largest_leaf(void **state)
{
    (void)state;
    for (unsigned levels = 4; levels <= 5; levels++) {
        for (unsigned opt = 0; opt < 4; opt++) {
            struct siov_iommu_config cfg;
            base_cfg(&cfg);
            cfg.sl_large = opt;
            cfg.fl_1g = opt & 1;
            for (unsigned k = 0; k < N(stages); k++) {
                struct sc s;
                sc_init_cfg(&s, &cfg, stages[k], levels, SZ_4K, stages[k]->full);
                expect_ps_above_leaf(&s);
                sc_free(&s);
            }
        }
    }
}

static void test_fl_user_supervisor(void **state)
{
    (void)state;
    FOR_ENTRY(&stage_fl, levels, size, level) {
        struct sc s;
        struct siov_walk_out out;
        sc_init(&s, &stage_fl, levels, size, TL_FL_URW);
        clr_bits(s.t, sc_ent(&s, level), SIOV_FL_US);
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SGN_2);
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SGN_2);
        assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_SGN_2);
        assert_int_equal(sc_walk(&s, RD | PRIV, &out), SIOV_OK);
        assert_int_equal(out.perm_user, 0);
        assert_int_equal(out.perm_super, RWX);
        s.pe.smep = true; /* SMEP concerns user pages only */
        assert_int_equal(sc_walk(&s, EX | PRIV, &out), SIOV_OK);
        assert_int_equal(out.perm_super, RWX);
        sc_free(&s);
    }
}

static void test_fl_write_protect(void **state)
{
    (void)state;
    FOR_ENTRY(&stage_fl, levels, size, level) {
        struct sc s;
        struct siov_walk_out out;
        sc_init(&s, &stage_fl, levels, size, TL_FL_URW);
        clr_bits(s.t, sc_ent(&s, level), SIOV_FL_RW);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_int_equal(out.perm_user, RD | EX);
        assert_int_equal(out.perm_super, RWX); /* WPE=0: supervisor writes ignore R/W */
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SGN_6);
        assert_int_equal(sc_walk(&s, RD | WR, NULL), SIOV_FAULT_SGN_6);
        assert_int_equal(sc_walk(&s, WR | PRIV, NULL), SIOV_OK);
        s.pe.wpe = true;
        assert_int_equal(sc_walk(&s, WR | PRIV, NULL), SIOV_FAULT_SGN_6);
        assert_int_equal(sc_walk(&s, RD | PRIV, &out), SIOV_OK);
        assert_int_equal(out.perm_super, RD | EX);
        sc_free(&s);
    }
}

static void test_fl_execute(void **state)
{
    (void)state;
    FOR_ENTRY(&stage_fl, levels, size, level) {
        struct sc s;
        struct siov_walk_out out;
        sc_init(&s, &stage_fl, levels, size, TL_FL_URW);
        set_bits(s.t, sc_ent(&s, level), SIOV_FL_XD);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_int_equal(out.perm_user, RD | WR);
        assert_int_equal(out.perm_super, RD | WR);
        assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_SGN_3);
        assert_int_equal(sc_walk(&s, RD | EX | PRIV, NULL), SIOV_FAULT_SGN_3);
        sc_free(&s);
    }
    /* SMEP: supervisor execute of a page user-accessible at every level */
    FOR_STAGE(&stage_fl, levels, size) {
        struct sc s;
        struct siov_walk_out out;
        sc_init(&s, &stage_fl, levels, size, TL_FL_URW);
        s.pe.smep = true;
        assert_int_equal(sc_walk(&s, EX | PRIV, NULL), SIOV_FAULT_SGN_3);
        assert_int_equal(sc_walk(&s, EX, &out), SIOV_OK);
        assert_int_equal(out.perm_user, RWX);
        assert_int_equal(out.perm_super, RD | WR);
        assert_int_equal(sc_walk(&s, RD | PRIV, NULL), SIOV_OK);
        s.pe.smep = false;
        assert_int_equal(sc_walk(&s, EX | PRIV, NULL), SIOV_OK);
        sc_free(&s);
    }
}

static void test_fl_perm_follows_entry(void **state)
{
    (void)state;
    struct sc s;
    struct siov_walk_out out;
    sc_init(&s, &stage_fl, 4, SZ_4K, TL_FL_URW);
    s.pe.sre = false; /* a cached grant must not let supervisor requests through */
    assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
    assert_int_equal(out.perm_user, RWX);
    assert_int_equal(out.perm_super, 0);
    s.pe.sre = true;
    s.pe.ere = false;
    assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
    assert_int_equal(out.perm_user, RD | WR);
    assert_int_equal(out.perm_super, RD | WR);
    sc_free(&s);
}

/* ------------------------------------------------------------------ nested */

/* A nested mapping: first level iova -> fl_pa (a GPA), second level maps every
   first-level table page identically (4 KiB, RW) and sl_gpa -> hpa. */
struct nsc {
    struct tl *t;
    struct siov_pasid_ent pe;
    uint64_t flroot, slroot;
    unsigned fl_levels, sl_levels;
    uint64_t fl_size, sl_size;
    uint64_t iova, fl_pa, sl_gpa, hpa;
    uint64_t off; /* request offset from iova */
};

static uint64_t nsc_fl_ent(struct nsc *n, unsigned level)
{
    uint64_t gpa = tl_entry_gpa(n->t, n->flroot, n->fl_levels, n->iova, level);
    assert_int_not_equal(gpa, 0);
    return gpa;
}

/* The SL leaf entry mapping gpa (4 KiB tables or the final page). */
static uint64_t nsc_sl_leaf(struct nsc *n, uint64_t gpa, unsigned level)
{
    uint64_t e = tl_entry_gpa(n->t, n->slroot, n->sl_levels, gpa, level);
    assert_int_not_equal(e, 0);
    return e;
}

static void nsc_init(struct nsc *n, unsigned fl_levels, unsigned sl_levels, uint64_t fl_size, uint64_t sl_size)
{
    memset(n, 0, sizeof(*n));
    n->t = unit();
    n->fl_levels = fl_levels;
    n->sl_levels = sl_levels;
    n->fl_size = fl_size;
    n->sl_size = sl_size;
    n->iova = test_iova(fl_levels, fl_size, 0, true);
    uint64_t gpa_base = 0x45ull << 30; /* below 2^39 for a 3-level second level */
    n->hpa = test_pa(sl_size);
    n->fl_pa = gpa_base;
    n->sl_gpa = gpa_base;
    if (fl_size < sl_size)
        n->fl_pa = gpa_base + 5 * fl_size;
    if (fl_size > sl_size)
        n->sl_gpa = gpa_base + 7 * sl_size;
    n->off = fl_size > sl_size ? 7 * sl_size + 0x123 : fl_size - 0x1000 + 0x123;
    n->flroot = tl_page(n->t);
    tl_map(n->t, n->flroot, fl_levels, true, n->iova, n->fl_pa, fl_size, TL_FL_URW, TL_FL_URW);
    n->slroot = tl_page(n->t);
    for (unsigned level = fl_levels; level >= leaf_level(fl_size); level--) {
        uint64_t table = nsc_fl_ent(n, level) & ~0xFFFull;
        tl_map(n->t, n->slroot, sl_levels, false, table, table, SZ_4K, TL_SL_RW, TL_SL_RWX);
    }
    tl_map(n->t, n->slroot, sl_levels, false, n->sl_gpa, n->hpa, sl_size, TL_SL_RWX, TL_SL_RWX);
    n->pe = pe_new(true, n->flroot, fl_levels);
    n->pe.pgtt = SIOV_PGTT_NESTED;
    n->pe.sl_levels = (uint8_t)sl_levels;
    n->pe.slptptr = n->slroot;
}

static siov_fault nsc_walk(struct nsc *n, unsigned access, struct siov_walk_out *out)
{
    return walk(n->t, &n->pe, n->iova + n->off, access, out);
}

static void test_nested_translate(void **state)
{
    (void)state;
    for (unsigned fi = 0; fi < N(fl_levels_all); fi++)
        for (unsigned si = 0; si < N(sl_levels_all); si++)
            for (unsigned a = 0; a < N(sizes); a++)
                for (unsigned b = 0; b < N(sizes); b++) {
                    struct nsc n;
                    struct siov_walk_out out;
                    nsc_init(&n, fl_levels_all[fi], sl_levels_all[si], sizes[a], sizes[b]);
                    uint64_t size = sizes[a] < sizes[b] ? sizes[a] : sizes[b];
                    uint64_t gpa = n.fl_pa + n.off;
                    uint64_t hpa = n.hpa + (gpa - n.sl_gpa);
                    assert_int_equal(nsc_walk(&n, RD, &out), SIOV_OK);
                    assert_int_equal(out.page_size, size);
                    assert_int_equal(out.page, hpa & ~(size - 1));
                    assert_int_equal(out.page + ((n.iova + n.off) & (size - 1)), hpa);
                    assert_int_equal(out.perm_user, RWX);
                    assert_int_equal(out.perm_super, RWX);
                    assert_int_equal(nsc_walk(&n, WR | PRIV, &out), SIOV_OK);
                    assert_int_equal(out.page, hpa & ~(size - 1));
                    tl_free(n.t);
                }
}

static void test_nested_table_faults(void **state)
{
    (void)state;
    for (unsigned fi = 0; fi < N(fl_levels_all); fi++) {
        unsigned fl_levels = fl_levels_all[fi];
        for (unsigned level = fl_levels; level >= 1; level--) {
            struct nsc n;
            nsc_init(&n, fl_levels, 4, SZ_4K, SZ_4K);
            uint64_t table = nsc_fl_ent(&n, level) & ~0xFFFull;
            uint64_t sle = nsc_sl_leaf(&n, table, 1);
            uint64_t old = tl_r64(n.t, sle);
            /* present without R: SFL.6 for the top table, SFL.7 below */
            tl_w64(n.t, sle, old & ~SIOV_SL_R);
            siov_fault want = level == fl_levels ? SIOV_FAULT_SFL_6 : SIOV_FAULT_SFL_7;
            assert_int_equal(nsc_walk(&n, RD, NULL), want);
            assert_int_equal(nsc_walk(&n, WR, NULL), want);
            /* structural SL faults are reported as they are */
            tl_w64(n.t, sle, old & ~TL_SL_RWX);
            assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SSL_2);
            tl_w64(n.t, sle, old | SIOV_BIT(62));
            assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SSL_3);
            tl_w64(n.t, sle, old);
            siov_mem_fail_range(n.t->mem, sle, 8, SIOV_MEM_FAIL_READ);
            assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SSL_1);
            siov_mem_fail_range(n.t->mem, nsc_sl_leaf(&n, table, 4), 8, SIOV_MEM_FAIL_READ);
            assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SSL_4);
            siov_mem_fail_range(n.t->mem, 0, 0, 0);
            /* with SLEE, an execute-only mapping is present but not readable */
            n.pe.slee = true;
            tl_w64(n.t, sle, (old & ~TL_SL_RWX) | SIOV_SL_X);
            assert_int_equal(nsc_walk(&n, RD, NULL), want);
            tl_w64(n.t, sle, old);
            /* the first-level entry itself is read at the translated address */
            siov_mem_fail_range(n.t->mem, nsc_fl_ent(&n, level), 8, SIOV_MEM_FAIL_READ);
            assert_int_equal(nsc_walk(&n, RD, NULL), level == fl_levels ? SIOV_FAULT_SFL_4 : SIOV_FAULT_SFL_1);
            siov_mem_fail_range(n.t->mem, 0, 0, 0);
            assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_OK);
            tl_free(n.t);
        }
    }
}

static void test_nested_tables_translated(void **state)
{
    (void)state;
    /* the FL tables are read at the SL output, not at their GPA */
    struct nsc n;
    struct siov_walk_out out;
    nsc_init(&n, 4, 4, SZ_4K, SZ_4K);
    uint64_t gpa_table = 0x40000000ull; /* not backed: only reachable through the SL */
    uint64_t top = n.flroot;
    tl_map(n.t, n.slroot, 4, false, gpa_table, top, SZ_4K, TL_SL_RW, TL_SL_RWX);
    n.pe.flptptr = gpa_table;
    assert_int_equal(nsc_walk(&n, RD, &out), SIOV_OK);
    assert_int_equal(out.page, n.hpa);
    /* a lower table the same way */
    uint64_t l3 = nsc_fl_ent(&n, 4);
    uint64_t real = tl_r64(n.t, l3) & SIOV_FL_ADDR;
    tl_map(n.t, n.slroot, 4, false, gpa_table + SZ_4K, real, SZ_4K, TL_SL_RW, TL_SL_RWX);
    tl_w64(n.t, l3, (gpa_table + SZ_4K) | TL_FL_URW);
    n.pe.flptptr = n.flroot;
    assert_int_equal(nsc_walk(&n, WR, &out), SIOV_OK);
    assert_int_equal(out.page, n.hpa);
    /* the A/D update went to the real table (written through the SL) */
    uint64_t e3 = real + 8ull * siov_level_index(n.iova, 3);
    assert_true(tl_r64(n.t, e3) & SIOV_FL_A);
    tl_free(n.t);
}

static void test_nested_widths(void **state)
{
    (void)state;
    for (unsigned fi = 0; fi < N(fl_levels_all); fi++) {
        struct nsc n;
        nsc_init(&n, fl_levels_all[fi], 3, SZ_4K, SZ_4K);
        /* top table beyond the 39-bit second level */
        n.pe.flptptr = 1ull << 39;
        assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SFL_5);
        n.pe.flptptr = n.flroot;
        /* a lower table beyond it (still below HAW, so not reserved) */
        uint64_t e = nsc_fl_ent(&n, 2);
        uint64_t old = tl_r64(n.t, e);
        tl_w64(n.t, e, (1ull << 40) | TL_FL_URW);
        assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SFL_5);
        /* the final GPA beyond it */
        tl_w64(n.t, e, old);
        uint64_t leaf = nsc_fl_ent(&n, 1);
        tl_w64(n.t, leaf, (1ull << 39) | TL_FL_URW);
        assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SGN_5);
        assert_int_equal(nsc_walk(&n, WR, NULL), SIOV_FAULT_SGN_5);
        tl_w64(n.t, leaf, n.fl_pa | TL_FL_URW);
        assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_OK);
        tl_free(n.t);
    }
}

static void test_nested_final_perm(void **state)
{
    (void)state;
    for (unsigned si = 0; si < N(sl_levels_all); si++)
        for (unsigned b = 0; b < N(sizes); b++) {
            struct nsc n;
            struct siov_walk_out out;
            nsc_init(&n, 4, sl_levels_all[si], SZ_4K, sizes[b]);
            uint64_t sle = nsc_sl_leaf(&n, n.sl_gpa, leaf_level(sizes[b]));
            /* SL read-only */
            clr_bits(n.t, sle, SIOV_SL_W | SIOV_SL_X);
            assert_int_equal(nsc_walk(&n, RD, &out), SIOV_OK);
            assert_int_equal(out.perm_user, RD | EX); /* SLEE=0: execute follows read */
            assert_int_equal(out.perm_super, RD | EX);
            assert_int_equal(nsc_walk(&n, WR, NULL), SIOV_FAULT_SGN_6);
            assert_int_equal(nsc_walk(&n, WR | PRIV, NULL), SIOV_FAULT_SGN_6);
            /* SLEE: X needed */
            n.pe.slee = true;
            assert_int_equal(nsc_walk(&n, RD, &out), SIOV_OK);
            assert_int_equal(out.perm_user, RD);
            assert_int_equal(nsc_walk(&n, EX, NULL), SIOV_FAULT_SGN_3);
            /* SL write-only */
            tl_w64(n.t, sle, (tl_r64(n.t, sle) & ~SIOV_SL_R) | SIOV_SL_W);
            assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SGN_7);
            assert_int_equal(nsc_walk(&n, WR, &out), SIOV_OK);
            assert_int_equal(out.perm_user, WR);
            /* FL denies what SL allows: FL reasons first */
            set_bits(n.t, sle, TL_SL_RWX);
            clr_bits(n.t, nsc_fl_ent(&n, 1), SIOV_FL_RW);
            assert_int_equal(nsc_walk(&n, WR, NULL), SIOV_FAULT_SGN_6);
            assert_int_equal(nsc_walk(&n, RD, &out), SIOV_OK);
            assert_int_equal(out.perm_user, RD | EX);
            assert_int_equal(out.perm_super, RWX);
            clr_bits(n.t, nsc_fl_ent(&n, 2), SIOV_FL_US);
            assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SGN_2);
            /* the final page not mapped by the SL */
            tl_w64(n.t, sle, 0);
            assert_int_equal(nsc_walk(&n, RD | PRIV, NULL), SIOV_FAULT_SSL_2);
            tl_free(n.t);
        }
}

/* The SL mapping of a FL table page allows reads only: A/D updates fault SFL.8. */
/* Nested: a second-level path that denies both R and W once stacked is
   SSL.2 for the final page and for a first-level table fetch alike (not
   SFL.6, which is a present mapping without R). */
static void test_nested_stacked_not_present(void **state)
{
    (void)state;
    for (unsigned fi = 0; fi < N(fl_levels_all); fi++) {
        struct nsc n;
        nsc_init(&n, fl_levels_all[fi], 4, SZ_4K, SZ_4K);
        /* the final page: PDPT entry of its GPA read-only, its PTE write-only */
        uint64_t pdpte = nsc_sl_leaf(&n, n.sl_gpa, 3), pte = nsc_sl_leaf(&n, n.sl_gpa, 1);
        uint64_t old_pdpte = tl_r64(n.t, pdpte), old_pte = tl_r64(n.t, pte);
        tl_w64(n.t, pdpte, (old_pdpte & ~TL_SL_RWX) | SIOV_SL_R);
        tl_w64(n.t, pte, (old_pte & ~TL_SL_RWX) | SIOV_SL_W);
        assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SSL_2);
        assert_int_equal(nsc_walk(&n, WR, NULL), SIOV_FAULT_SSL_2);
        tl_w64(n.t, pdpte, old_pdpte);
        tl_w64(n.t, pte, old_pte);
        assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_OK);
        /* the top first-level table: its PD entry read-only, its PTE write-only */
        uint64_t pde = nsc_sl_leaf(&n, n.flroot, 2), tpte = nsc_sl_leaf(&n, n.flroot, 1);
        tl_w64(n.t, pde, (tl_r64(n.t, pde) & ~TL_SL_RWX) | SIOV_SL_R);
        tl_w64(n.t, tpte, (tl_r64(n.t, tpte) & ~TL_SL_RWX) | SIOV_SL_W);
        assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SSL_2);
        /* R back at the PTE: present and readable again */
        set_bits(n.t, tpte, SIOV_SL_R);
        assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_OK);
        tl_free(n.t);
    }
}

static void test_nested_sfl8(void **state)
{
    (void)state;
    for (unsigned fi = 0; fi < N(fl_levels_all); fi++) {
        unsigned fl_levels = fl_levels_all[fi];
        for (unsigned level = fl_levels; level >= 1; level--) {
            struct nsc n;
            struct siov_walk_out out;
            nsc_init(&n, fl_levels, 4, SZ_4K, SZ_4K);
            uint64_t fe = nsc_fl_ent(&n, level);
            uint64_t sle = nsc_sl_leaf(&n, fe & ~0xFFFull, 1);
            clr_bits(n.t, sle, SIOV_SL_W);
            assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SFL_8);
            assert_int_equal(tl_r64(n.t, fe) & SIOV_FL_A, 0);
            /* A already set: a read needs no write */
            set_bits(n.t, fe, SIOV_FL_A);
            assert_int_equal(nsc_walk(&n, RD, &out), SIOV_OK);
            assert_false(out.dirty);
            /* a write needs D in the leaf: only the leaf's table must be writable */
            assert_int_equal(nsc_walk(&n, WR, NULL), level == 1 ? SIOV_FAULT_SFL_8 : SIOV_OK);
            tl_free(n.t);
        }
    }
}

static void test_nested_ad(void **state)
{
    (void)state;
    for (unsigned fi = 0; fi < N(fl_levels_all); fi++) {
        unsigned fl_levels = fl_levels_all[fi];
        struct nsc n;
        struct siov_walk_out out;
        nsc_init(&n, fl_levels, 4, SZ_4K, SZ_4K);
        n.pe.slade = true;
        assert_int_equal(nsc_walk(&n, RD, &out), SIOV_OK);
        assert_false(out.dirty);
        for (unsigned level = fl_levels; level >= 1; level--) {
            uint64_t fe = nsc_fl_ent(&n, level);
            assert_int_equal(tl_r64(n.t, fe) & (SIOV_FL_A | SIOV_FL_D), SIOV_FL_A);
            /* the FL update was a write through the SL: A and D in its leaf */
            uint64_t sle = nsc_sl_leaf(&n, fe & ~0xFFFull, 1);
            assert_int_equal(tl_r64(n.t, sle) & (SIOV_SL_A | SIOV_SL_D), SIOV_SL_A | SIOV_SL_D);
        }
        /* the final page was only read */
        uint64_t fin = nsc_sl_leaf(&n, n.sl_gpa, 1);
        assert_int_equal(tl_r64(n.t, fin) & (SIOV_SL_A | SIOV_SL_D), SIOV_SL_A);
        for (unsigned level = 4; level >= 2; level--)
            assert_true(tl_r64(n.t, nsc_sl_leaf(&n, n.sl_gpa, level)) & SIOV_SL_A);
        assert_int_equal(nsc_walk(&n, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        assert_true(tl_r64(n.t, nsc_fl_ent(&n, 1)) & SIOV_FL_D);
        assert_int_equal(tl_r64(n.t, nsc_fl_ent(&n, 2)) & SIOV_FL_D, 0);
        assert_true(tl_r64(n.t, fin) & SIOV_SL_D);
        /* FL D set but SL D clear: a later write still needs an update */
        clr_bits(n.t, fin, SIOV_SL_D);
        assert_int_equal(nsc_walk(&n, RD, &out), SIOV_OK);
        assert_false(out.dirty);
        tl_free(n.t);

        /* without SLADE the SL entries stay as built */
        nsc_init(&n, fl_levels, 4, SZ_4K, SZ_4K);
        assert_int_equal(nsc_walk(&n, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        assert_int_equal(tl_r64(n.t, nsc_sl_leaf(&n, n.sl_gpa, 1)) & (SIOV_SL_A | SIOV_SL_D), 0);
        assert_int_equal(tl_r64(n.t, nsc_sl_leaf(&n, n.flroot, 1)) & (SIOV_SL_A | SIOV_SL_D), 0);
        tl_free(n.t);
    }
}

static void test_nested_nonsnooped(void **state)
{
    (void)state;
    struct nsc n;
    nsc_init(&n, 4, 4, SZ_4K, SZ_4K);
    n.pe.pwsnp = false;
    /* the FL update is needed first */
    assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SFL_9);
    /* with SLADE, the SL walk of the top FL table needs A first */
    n.pe.slade = true;
    assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SSL_5);
    /* SL A/D failing on the table fetch */
    n.pe.pwsnp = true;
    uint64_t sle = nsc_sl_leaf(&n, n.flroot, 1);
    siov_mem_fail_range(n.t->mem, sle, 8, SIOV_MEM_FAIL_WRITE);
    assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SSL_6);
    /* FL A/D write failing at the translated address */
    siov_mem_fail_range(n.t->mem, nsc_fl_ent(&n, 1), 8, SIOV_MEM_FAIL_WRITE);
    assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_FAULT_SFL_10);
    siov_mem_fail_range(n.t->mem, 0, 0, 0);
    assert_int_equal(nsc_walk(&n, RD, NULL), SIOV_OK);
    tl_free(n.t);
}

/* -------------------------------------------------------------- brute force */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random 4 KiB pages in a 64 MiB window and a few 2 MiB pages, checked
   against a plain array for random addresses in and around the window. */
static void brute_force(const struct stage *st, unsigned levels)
{
    enum { PAGES = 16384, MAPPED = 600, PROBES = 20000 };
    struct tl *t = unit();
    uint64_t root = tl_page(t);
    uint64_t base = test_iova(levels, SZ_1G, 0, st->fl);
    uint64_t *map = calloc(PAGES, sizeof(*map)); /* pa + 1 of each 4 KiB page, 0 unmapped */
    assert_non_null(map);
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ levels ^ (st->fl ? 0x100 : 0);
    for (unsigned i = 0; i < 4; i++) { /* 2 MiB pages in the upper half */
        unsigned big = 16 + (unsigned)(xorshift(&seed) % 16);
        uint64_t pa = (0x100 + (uint64_t)i) << 21;
        tl_map(t, root, levels, st->fl, base + big * SZ_2M, pa, SZ_2M, st->full, st->full);
        for (unsigned k = 0; k < 512; k++)
            map[big * 512 + k] = pa + k * SZ_4K + 1;
    }
    for (unsigned i = 0; i < MAPPED; i++) { /* 4 KiB pages in the lower half */
        unsigned pg = (unsigned)(xorshift(&seed) % (PAGES / 2));
        uint64_t pa = (xorshift(&seed) & 0xFFFFFFF000ull) | (1ull << 40);
        tl_map(t, root, levels, st->fl, base + pg * SZ_4K, pa, SZ_4K, st->full, st->full);
        map[pg] = pa + 1;
    }
    struct siov_pasid_ent pe = pe_new(st->fl, root, levels);
    pe.slade = true;
    unsigned hits = 0;
    for (unsigned i = 0; i < PROBES; i++) {
        uint64_t pg = xorshift(&seed) % PAGES;
        uint64_t iova = base + pg * SZ_4K + (xorshift(&seed) & 0xFFF);
        struct siov_walk_out out;
        siov_fault f = walk(t, &pe, iova, (i & 1) ? WR : RD, &out);
        if (!map[pg]) {
            assert_int_equal(f, st->not_present);
            continue;
        }
        hits++;
        assert_int_equal(f, SIOV_OK);
        assert_int_equal(out.page + (iova & (out.page_size - 1)), map[pg] - 1 + (iova & 0xFFF));
        assert_int_equal(out.page_size, pg >= PAGES / 2 ? SZ_2M : SZ_4K);
    }
    assert_true(hits > PROBES / 20);
    free(map);
    tl_free(t);
}

static void test_brute_force(void **state)
{
    (void)state;
    for (unsigned k = 0; k < N(stages); k++)
        for (unsigned i = 0; i < stages[k]->n_levels; i++)
            brute_force(stages[k], stages[k]->levels[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pt),
        cmocka_unit_test(test_bad_levels),
        cmocka_unit_test(test_sl_translate),
        cmocka_unit_test(test_sl_width),
        cmocka_unit_test(test_sl_read_errors),
        cmocka_unit_test(test_sl_not_present),
        cmocka_unit_test(test_sl_reserved),
        cmocka_unit_test(test_sl_large_unsupported),
        cmocka_unit_test(test_sl_perm_stacking),
        cmocka_unit_test(test_sl_stacked_not_present),
        cmocka_unit_test(test_sl_ad),
        cmocka_unit_test(test_sl_ad_nonsnooped),
        cmocka_unit_test(test_sl_ad_write_fail),
        cmocka_unit_test(test_sl_ad_retry),
        cmocka_unit_test(test_fl_translate),
        cmocka_unit_test(test_fl_request_checks),
        cmocka_unit_test(test_fl_canonical),
        cmocka_unit_test(test_fl_read_errors),
        cmocka_unit_test(test_fl_not_present),
        cmocka_unit_test(test_fl_reserved),
        cmocka_unit_test(test_ps_above_the_largest_leaf),
        cmocka_unit_test(test_fl_user_supervisor),
        cmocka_unit_test(test_fl_write_protect),
        cmocka_unit_test(test_fl_execute),
        cmocka_unit_test(test_fl_perm_follows_entry),
        cmocka_unit_test(test_fl_ad),
        cmocka_unit_test(test_fl_ad_nonsnooped),
        cmocka_unit_test(test_fl_ad_write_fail),
        cmocka_unit_test(test_fl_ad_retry),
        cmocka_unit_test(test_nested_translate),
        cmocka_unit_test(test_nested_table_faults),
        cmocka_unit_test(test_nested_tables_translated),
        cmocka_unit_test(test_nested_widths),
        cmocka_unit_test(test_nested_final_perm),
        cmocka_unit_test(test_nested_stacked_not_present),
        cmocka_unit_test(test_nested_sfl8),
        cmocka_unit_test(test_nested_ad),
        cmocka_unit_test(test_nested_nonsnooped),
        cmocka_unit_test(test_brute_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

static struct siov_pasid_ent pe_sl(uint64_t root, unsigned levels)
{
    struct siov_pasid_ent pe;
    memset(&pe, 0, sizeof(pe));
    pe.pgtt = SIOV_PGTT_SL;
    pe.sl_levels = (uint8_t)levels;
    pe.slptptr = root;
    pe.pwsnp = true;
    pe.did = 1;
    return pe;
}

static struct siov_pasid_ent pe_fl(uint64_t root, unsigned levels)
{
    struct siov_pasid_ent pe;
    memset(&pe, 0, sizeof(pe));
    pe.pgtt = SIOV_PGTT_FL;
    pe.fl_levels = (uint8_t)levels;
    pe.flptptr = root;
    pe.pwsnp = true;
    pe.sre = pe.ere = pe.nxe = true;
    pe.did = 1;
    return pe;
}

/* One mapping of one page, in a fresh unit. */
struct sc {
    struct tl *t;
    struct siov_pasid_ent pe;
    uint64_t root, iova, pa, size;
    unsigned levels;
    bool fl;
};

static void sc_init_cfg(struct sc *s, const struct siov_iommu_config *cfg, bool fl, unsigned levels,
                        uint64_t size, uint64_t leaf)
{
    memset(s, 0, sizeof(*s));
    s->t = tl_new(cfg);
    s->fl = fl;
    s->levels = levels;
    s->size = size;
    s->root = tl_page(s->t);
    s->iova = test_iova(levels, size, 0, fl);
    s->pa = test_pa(size);
    tl_map(s->t, s->root, levels, fl, s->iova, s->pa, size, leaf, fl ? TL_FL_URW : TL_SL_RWX);
    s->pe = fl ? pe_fl(s->root, levels) : pe_sl(s->root, levels);
}

static void sc_init(struct sc *s, bool fl, unsigned levels, uint64_t size, uint64_t leaf)
{
    struct siov_iommu_config cfg;
    base_cfg(&cfg);
    sc_init_cfg(s, &cfg, fl, levels, size, leaf);
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
#define FOR_SL(lv, sz)                                                                  \
    for (unsigned lv##_i = 0; lv##_i < N(sl_levels_all); lv##_i++)                        \
        for (unsigned sz##_i = 0, lv = sl_levels_all[lv##_i]; sz##_i < N(sizes); sz##_i++) \
            for (uint64_t sz = sizes[sz##_i], sz##_once = 1; sz##_once; sz##_once = 0)
#define FOR_FL(lv, sz)                                                                  \
    for (unsigned lv##_i = 0; lv##_i < N(fl_levels_all); lv##_i++)                        \
        for (unsigned sz##_i = 0, lv = fl_levels_all[lv##_i]; sz##_i < N(sizes); sz##_i++) \
            for (uint64_t sz = sizes[sz##_i], sz##_once = 1; sz##_once; sz##_once = 0)

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
    struct siov_pasid_ent pe = pe_sl(root, 2);
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_SPT_4);
    pe.sl_levels = 6;
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_SPT_4);
    pe.legacy = true;
    assert_int_equal(walk(t, &pe, 0, RD, NULL), SIOV_FAULT_LCT_4);
    pe = pe_fl(root, 3);
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

/* ------------------------------------------------------------ second level */

static void test_sl_translate(void **state)
{
    (void)state;
    FOR_SL(levels, size) {
        struct sc s;
        sc_init(&s, false, levels, size, TL_SL_RWX);
        uint64_t offs[] = {0, 0x123, size / 2 + 0x8, size - 1};
        for (unsigned i = 0; i < N(offs); i++) {
            struct siov_walk_out out;
            for (unsigned a = 0; a < 3; a++) {
                unsigned acc = (unsigned[]){RD, WR, RD | WR}[a];
                assert_int_equal(walk(s.t, &s.pe, s.iova + offs[i], acc, &out), SIOV_OK);
                assert_int_equal(out.page, s.pa);
                assert_int_equal(out.page_size, size);
                assert_int_equal(out.page + (offs[i] & (size - 1)), s.pa + offs[i]);
                assert_int_equal(out.perm_user, RWX); /* SLEE=0: execute follows read */
                assert_int_equal(out.perm_super, RWX);
                assert_true(out.dirty); /* SLADE=0 */
            }
        }
        /* the neighbouring page of the same size is not mapped */
        assert_int_equal(walk(s.t, &s.pe, s.iova + size, RD, NULL), SIOV_FAULT_SSL_2);
        /* SRE/ERE do not apply to second-level-only walks */
        assert_int_equal(sc_walk(&s, RD | EX | PRIV, NULL), SIOV_OK);
        sc_free(&s);
    }
}

static void test_sl_width(void **state)
{
    (void)state;
    for (unsigned i = 0; i < N(sl_levels_all); i++) {
        unsigned levels = sl_levels_all[i], width = 12 + 9 * levels;
        struct sc s;
        sc_init(&s, false, levels, SZ_4K, TL_SL_RWX);
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
    sc_init_cfg(&s, &cfg, false, 4, SZ_4K, TL_SL_RWX);
    uint64_t iova = (1ull << 39) | 0x5000;
    tl_map(s.t, s.root, 4, false, iova, 0x9000, SZ_4K, TL_SL_RWX, TL_SL_RWX);
    assert_int_equal(walk(s.t, &s.pe, iova, RD, NULL), SIOV_OK);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 40, RD, NULL), SIOV_FAULT_SGN_5);
    assert_int_equal(walk(s.t, &s.pe, s.iova, RD, NULL), SIOV_FAULT_SGN_5); /* bit 47 set */
    sc_free(&s);
}

static void test_sl_read_errors(void **state)
{
    (void)state;
    FOR_SL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            for (int legacy = 0; legacy < 2; legacy++) {
                struct sc s;
                sc_init(&s, false, levels, size, TL_SL_RWX);
                s.pe.legacy = legacy;
                assert_int_equal(siov_mem_fail_range(s.t->mem, sc_ent(&s, level), 8, SIOV_MEM_FAIL_READ), 0);
                siov_fault want = level == levels ? (legacy ? SIOV_FAULT_LCT_4 : SIOV_FAULT_SSL_4)
                                                  : (legacy ? SIOV_FAULT_LSL_1 : SIOV_FAULT_SSL_1);
                assert_int_equal(sc_walk(&s, RD, NULL), want);
                assert_int_equal(sc_walk(&s, WR, NULL), want);
                /* a failure on the neighbouring entry does not matter */
                siov_mem_fail_range(s.t->mem, sc_ent(&s, level) + 8, 8, SIOV_MEM_FAIL_READ);
                assert_int_equal(sc_walk(&s, RD, NULL), SIOV_OK);
                sc_free(&s);
            }
        }
    }
    /* pointers outside guest memory (but below HAW) */
    for (unsigned i = 0; i < N(sl_levels_all); i++) {
        unsigned levels = sl_levels_all[i];
        struct sc s;
        sc_init(&s, false, levels, SZ_4K, TL_SL_RWX);
        s.pe.slptptr = 1ull << 40;
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_4);
        s.pe.legacy = true;
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_LCT_4);
        s.pe.legacy = false;
        s.pe.slptptr = s.root;
        tl_w64(s.t, sc_ent(&s, 2), (TL_MEM_SIZE - SZ_4K * 0) | TL_SL_RWX); /* table just past memory */
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_1);
        tl_w64(s.t, sc_ent(&s, levels), (0xFFFFFFFFF000ull) | TL_SL_RWX);
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_1);
        s.pe.legacy = true;
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_LSL_1);
        sc_free(&s);
    }
}

static void test_sl_not_present(void **state)
{
    (void)state;
    FOR_SL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            struct sc s;
            sc_init(&s, false, levels, size, TL_SL_RWX);
            uint64_t e = sc_ent(&s, level);
            clr_bits(s.t, e, TL_SL_RWX);
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_2);
            assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SSL_2);
            /* present is checked before reserved bits */
            set_bits(s.t, e, SIOV_BIT(62) | SIOV_BIT(51) | (level >= 4 ? SIOV_SL_PS : 0));
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_2);
            clr_bits(s.t, e, SIOV_BIT(62) | SIOV_BIT(51) | (level >= 4 ? SIOV_SL_PS : 0));
            /* X alone is "present" only with SLEE */
            set_bits(s.t, e, SIOV_SL_X);
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_2);
            s.pe.slee = true;
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SGN_7);
            assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SGN_6);
            struct siov_walk_out out;
            assert_int_equal(sc_walk(&s, EX, &out), SIOV_OK);
            assert_int_equal(out.perm_user, EX);
            /* legacy: not present reports the request's permission reason */
            clr_bits(s.t, e, SIOV_SL_X);
            s.pe.slee = false;
            s.pe.legacy = true;
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_LGN_3);
            assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_LGN_2);
            assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_LGN_3);
            assert_int_equal(sc_walk(&s, RD | WR, NULL), SIOV_FAULT_LGN_3); /* a write that also reads */
            /* legacy entries have no execute bit: X alone is not present even with SLEE */
            set_bits(s.t, e, SIOV_SL_X);
            s.pe.slee = true;
            assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_LGN_3);
            assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_LGN_2);
            sc_free(&s);
        }
    }
}

/* Reserved bit b in the entry at level gives SSL.3 (legacy LSL.2); clearing it restores. */
static void expect_sl_rsvd(struct sc *s, unsigned level, uint64_t b)
{
    uint64_t e = sc_ent(s, level);
    uint64_t old = tl_r64(s->t, e);
    tl_w64(s->t, e, old | b);
    assert_int_equal(sc_walk(s, RD, NULL), s->pe.legacy ? SIOV_FAULT_LSL_2 : SIOV_FAULT_SSL_3);
    assert_int_equal(sc_walk(s, WR, NULL), s->pe.legacy ? SIOV_FAULT_LSL_2 : SIOV_FAULT_SSL_3);
    tl_w64(s->t, e, old);
    assert_int_equal(sc_walk(s, RD, NULL), SIOV_OK);
}

static void test_sl_reserved(void **state)
{
    (void)state;
    FOR_SL(levels, size) {
        for (int legacy = 0; legacy < 2; legacy++) {
            struct sc s;
            sc_init(&s, false, levels, size, TL_SL_RWX);
            s.pe.legacy = legacy;
            unsigned leaf = leaf_level(size);
            for (unsigned level = levels; level >= leaf; level--) {
                expect_sl_rsvd(&s, level, SIOV_BIT(62));
                expect_sl_rsvd(&s, level, SIOV_BIT(48)); /* address bit at HAW */
                expect_sl_rsvd(&s, level, SIOV_BIT(51));
                if (level > leaf)
                    expect_sl_rsvd(&s, level, SIOV_SL_SNP); /* bit 11 in a table entry */
                if (level >= 4)
                    expect_sl_rsvd(&s, level, SIOV_SL_PS);
                /* ignored bits: 63 and 61:52, and (table entries) 10:3 */
                uint64_t e = sc_ent(&s, level), old = tl_r64(s.t, e);
                uint64_t ign = SIOV_BIT(63) | SIOV_BITS(61, 52) | (level > leaf ? SIOV_BITS(6, 3) | SIOV_BIT(10) : 0);
                tl_w64(s.t, e, old | ign);
                assert_int_equal(sc_walk(&s, RD, NULL), SIOV_OK);
                tl_w64(s.t, e, old);
            }
            /* SNP in the leaf: allowed in scalable mode, reserved in legacy (no ECAP.SC) */
            uint64_t le = sc_leaf(&s);
            set_bits(s.t, le, SIOV_SL_SNP);
            assert_int_equal(sc_walk(&s, RD, NULL), legacy ? SIOV_FAULT_LSL_2 : SIOV_OK);
            clr_bits(s.t, le, SIOV_SL_SNP);
            if (size == SZ_2M) {
                expect_sl_rsvd(&s, 2, SIOV_BIT(12));
                expect_sl_rsvd(&s, 2, SIOV_BIT(20));
            } else if (size == SZ_1G) {
                expect_sl_rsvd(&s, 3, SIOV_BIT(12));
                expect_sl_rsvd(&s, 3, SIOV_BIT(21));
                expect_sl_rsvd(&s, 3, SIOV_BIT(29));
            }
            sc_free(&s);
        }
    }
    /* a smaller HAW moves the reserved address bits down */
    struct siov_iommu_config cfg;
    base_cfg(&cfg);
    cfg.haw = 40;
    struct sc s;
    sc_init_cfg(&s, &cfg, false, 4, SZ_4K, TL_SL_RWX);
    tl_w64(s.t, sc_leaf(&s), 0x12345000 | TL_SL_RWX); /* an output below 2^40 */
    for (unsigned level = 4; level >= 1; level--) {
        expect_sl_rsvd(&s, level, SIOV_BIT(40));
        expect_sl_rsvd(&s, level, SIOV_BIT(47));
    }
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
            sc_init_cfg(&s, &cfg, false, 4, sizes[i], TL_SL_RWX);
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
    FOR_SL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            struct sc s;
            struct siov_walk_out out;
            sc_init(&s, false, levels, size, TL_SL_RWX);
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
}

/* Every entry present, yet read and write both denied once stacked (R only
   above, W only at the leaf): SSL.2 (spec Table 30, "R and W both denied"),
   not a permission fault; X under SLEE still counts as present; legacy mode
   reports the request's permission reason. */
static void test_sl_stacked_not_present(void **state)
{
    (void)state;
    FOR_SL(levels, size) {
        if (leaf_level(size) == levels)
            continue; /* a 1 GiB page under 3 levels: no entry above the leaf */
        struct sc s;
        struct siov_walk_out out;
        sc_init(&s, false, levels, size, TL_SL_RWX);
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

static void test_sl_ad(void **state)
{
    (void)state;
    FOR_SL(levels, size) {
        struct sc s;
        struct siov_walk_out out;
        uint64_t orig[6];
        sc_init(&s, false, levels, size, TL_SL_RWX);
        snapshot(&s, orig);
        /* SLADE=0: nothing is written */
        assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        expect_path(&s, orig, 0, 0);
        /* legacy never updates, even with SLADE */
        s.pe.slade = true;
        s.pe.legacy = true;
        assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        expect_path(&s, orig, 0, 0);
        /* SLADE=1: a read sets A everywhere, no D */
        s.pe.legacy = false;
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_false(out.dirty);
        expect_path(&s, orig, SIOV_SL_A, SIOV_SL_A);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_false(out.dirty);
        /* a write sets D in the leaf only */
        assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        expect_path(&s, orig, SIOV_SL_A, SIOV_SL_A | SIOV_SL_D);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_true(out.dirty);
        /* a denied write changes nothing */
        sc_free(&s);
        sc_init(&s, false, levels, size, SIOV_SL_R);
        s.pe.slade = true;
        snapshot(&s, orig);
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SGN_6);
        expect_path(&s, orig, 0, 0);
        /* a write at once sets A and D */
        set_bits(s.t, sc_leaf(&s), SIOV_SL_W);
        orig[leaf_level(size)] |= SIOV_SL_W;
        assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        expect_path(&s, orig, SIOV_SL_A, SIOV_SL_A | SIOV_SL_D);
        sc_free(&s);
    }
}

static void test_sl_ad_nonsnooped(void **state)
{
    (void)state;
    FOR_SL(levels, size) {
        struct sc s;
        struct siov_walk_out out;
        uint64_t orig[6];
        sc_init(&s, false, levels, size, TL_SL_RWX);
        s.pe.slade = true;
        s.pe.pwsnp = false;
        snapshot(&s, orig);
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_5);
        expect_path(&s, orig, 0, 0);
        /* without SLADE nothing is needed */
        s.pe.slade = false;
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_OK);
        s.pe.slade = true;
        /* A missing in any one entry is enough */
        for (unsigned level = levels; level >= leaf_level(size); level--)
            set_bits(s.t, sc_ent(&s, level), SIOV_SL_A);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_false(out.dirty);
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            clr_bits(s.t, sc_ent(&s, level), SIOV_SL_A);
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_5);
            set_bits(s.t, sc_ent(&s, level), SIOV_SL_A);
        }
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SSL_5); /* D needed */
        set_bits(s.t, sc_leaf(&s), SIOV_SL_D);
        assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        sc_free(&s);
    }
}

static void test_sl_ad_write_fail(void **state)
{
    (void)state;
    FOR_SL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            struct sc s;
            sc_init(&s, false, levels, size, TL_SL_RWX);
            s.pe.slade = true;
            siov_mem_fail_range(s.t->mem, sc_ent(&s, level), 8, SIOV_MEM_FAIL_WRITE);
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SSL_6);
            /* the entry stays readable and unchanged */
            assert_int_equal(tl_r64(s.t, sc_ent(&s, level)) & SIOV_SL_A, 0);
            /* once A is there, a read needs no write */
            siov_mem_fail_range(s.t->mem, 0, 0, 0);
            set_bits(s.t, sc_ent(&s, level), SIOV_SL_A);
            siov_mem_fail_range(s.t->mem, sc_ent(&s, level), 8, SIOV_MEM_FAIL_WRITE);
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_OK);
            sc_free(&s);
        }
    }
}

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

static void test_sl_ad_retry(void **state)
{
    (void)state;
    for (unsigned i = 0; i < N(sl_levels_all); i++) {
        unsigned levels = sl_levels_all[i];
        for (unsigned level = levels; level >= 1; level--) {
            struct sc s;
            sc_init(&s, false, levels, SZ_4K, TL_SL_RWX);
            s.pe.slade = true;
            uint64_t e = sc_ent(&s, level);
            /* changed once: the walk starts over and succeeds */
            assert_int_equal(walk_flipping(&s, e, 1, WR), SIOV_OK);
            uint64_t want = SIOV_SL_A | SIOV_BIT(52) | (level == 1 ? SIOV_SL_D : 0);
            assert_int_equal(tl_r64(s.t, e) & want, want);
            /* changing forever: bounded retries, then an access error */
            clr_bits(s.t, e, SIOV_SL_A | SIOV_SL_D);
            assert_int_equal(walk_flipping(&s, e, -1, WR), SIOV_FAULT_SSL_1);
            assert_int_equal(tl_r64(s.t, e) & (SIOV_SL_A | SIOV_SL_D), 0);
            /* eight tries: 14 changes still leave the last try a stable entry, 15 do not */
            assert_int_equal(walk_flipping(&s, e, 14, WR), SIOV_OK);
            clr_bits(s.t, e, SIOV_SL_A | SIOV_SL_D);
            assert_int_equal(walk_flipping(&s, e, 15, WR), SIOV_FAULT_SSL_1);
            sc_free(&s);
        }
    }
}

/* ------------------------------------------------------------- first level */

static void test_fl_translate(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        struct sc s;
        sc_init(&s, true, levels, size, TL_FL_URW);
        uint64_t offs[] = {0, 0x123, size / 2 + 0x8, size - 1};
        for (unsigned i = 0; i < N(offs); i++) {
            struct siov_walk_out out;
            for (unsigned a = 0; a < 4; a++) {
                unsigned acc = (unsigned[]){RD, WR, RD | EX, WR | PRIV}[a];
                assert_int_equal(walk(s.t, &s.pe, s.iova + offs[i], acc, &out), SIOV_OK);
                assert_int_equal(out.page, s.pa);
                assert_int_equal(out.page_size, size);
                assert_int_equal(out.page + (offs[i] & (size - 1)), s.pa + offs[i]);
                assert_int_equal(out.perm_user, RWX);
                assert_int_equal(out.perm_super, RWX);
            }
        }
        assert_int_equal(walk(s.t, &s.pe, s.iova + size, RD, NULL), SIOV_FAULT_SFL_2);
        sc_free(&s);
    }
    /* a lower-half (positive) address as well */
    struct sc s;
    sc_init(&s, true, 4, SZ_4K, TL_FL_URW);
    uint64_t iova = 0x7FFFFFFFF000ull;
    tl_map(s.t, s.root, 4, true, iova, 0xABC000, SZ_4K, TL_FL_URW, TL_FL_URW);
    struct siov_walk_out out;
    assert_int_equal(walk(s.t, &s.pe, iova + 0xFFF, RD, &out), SIOV_OK);
    assert_int_equal(out.page, 0xABC000);
    sc_free(&s);
}

static void test_fl_request_checks(void **state)
{
    (void)state;
    for (unsigned pgtt = SIOV_PGTT_FL; pgtt <= SIOV_PGTT_NESTED; pgtt += SIOV_PGTT_NESTED - SIOV_PGTT_FL) {
        struct sc s;
        sc_init(&s, true, 4, SZ_4K, TL_FL_URW);
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
    sc_init(&s, false, 4, SZ_4K, TL_SL_RWX);
    assert_int_equal(sc_walk(&s, RD | EX | PRIV, NULL), SIOV_OK);
    sc_free(&s);
}

static void test_fl_canonical(void **state)
{
    (void)state;
    struct sc s;
    sc_init(&s, true, 4, SZ_4K, TL_FL_URW);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 47, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 48, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 63, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, s.iova & ~(1ull << 50), RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 0xFFFF800000000000ull, RD, NULL), SIOV_FAULT_SFL_2);
    assert_int_equal(walk(s.t, &s.pe, 0x00007FFFFFFFF000ull, RD, NULL), SIOV_FAULT_SFL_2);
    sc_free(&s);
    sc_init(&s, true, 5, SZ_4K, TL_FL_URW);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 56, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 57, RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, s.iova & ~(1ull << 60), RD, NULL), SIOV_FAULT_SGN_1);
    assert_int_equal(walk(s.t, &s.pe, 1ull << 47, RD, NULL), SIOV_FAULT_SFL_2);   /* canonical in 57 bits */
    assert_int_equal(walk(s.t, &s.pe, 0xFF00000000000000ull, RD, NULL), SIOV_FAULT_SFL_2);
    sc_free(&s);
}

static void test_fl_read_errors(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            struct sc s;
            sc_init(&s, true, levels, size, TL_FL_URW);
            siov_mem_fail_range(s.t->mem, sc_ent(&s, level), 8, SIOV_MEM_FAIL_READ);
            siov_fault want = level == levels ? SIOV_FAULT_SFL_4 : SIOV_FAULT_SFL_1;
            assert_int_equal(sc_walk(&s, RD, NULL), want);
            assert_int_equal(sc_walk(&s, WR | PRIV, NULL), want);
            sc_free(&s);
        }
    }
    for (unsigned i = 0; i < N(fl_levels_all); i++) {
        unsigned levels = fl_levels_all[i];
        struct sc s;
        sc_init(&s, true, levels, SZ_4K, TL_FL_URW);
        s.pe.flptptr = 1ull << 40;
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SFL_4);
        s.pe.flptptr = s.root;
        tl_w64(s.t, sc_ent(&s, 2), TL_MEM_SIZE | TL_FL_URW);
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SFL_1);
        sc_free(&s);
    }
}

static void test_fl_not_present(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            struct sc s;
            sc_init(&s, true, levels, size, TL_FL_URW);
            uint64_t e = sc_ent(&s, level);
            clr_bits(s.t, e, SIOV_FL_P);
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SFL_2);
            assert_int_equal(sc_walk(&s, WR | PRIV, NULL), SIOV_FAULT_SFL_2);
            /* P=0: the other bits do not matter, reserved ones included */
            set_bits(s.t, e, SIOV_BIT(51) | SIOV_FL_XD | SIOV_FL_PS);
            s.pe.nxe = false;
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SFL_2);
            sc_free(&s);
        }
    }
}

static void expect_fl_rsvd(struct sc *s, unsigned level, uint64_t b)
{
    uint64_t e = sc_ent(s, level);
    uint64_t old = tl_r64(s->t, e);
    tl_w64(s->t, e, old | b);
    assert_int_equal(sc_walk(s, RD, NULL), SIOV_FAULT_SFL_3);
    assert_int_equal(sc_walk(s, WR | PRIV, NULL), SIOV_FAULT_SFL_3);
    tl_w64(s->t, e, old);
    assert_int_equal(sc_walk(s, RD, NULL), SIOV_OK);
}

static void test_fl_reserved(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        struct sc s;
        sc_init(&s, true, levels, size, TL_FL_URW);
        unsigned leaf = leaf_level(size);
        for (unsigned level = levels; level >= leaf; level--) {
            expect_fl_rsvd(&s, level, SIOV_BIT(48)); /* address bit at HAW */
            expect_fl_rsvd(&s, level, SIOV_BIT(51));
            if (level >= 4)
                expect_fl_rsvd(&s, level, SIOV_FL_PS);
            /* XD: reserved without NXE */
            s.pe.nxe = false;
            expect_fl_rsvd(&s, level, SIOV_FL_XD);
            s.pe.nxe = true;
            /* ignored: 62:52, 11:8 (and PAT in a PTE) */
            uint64_t e = sc_ent(&s, level), old = tl_r64(s.t, e);
            uint64_t ign = SIOV_BITS(62, 52) | SIOV_BITS(11, 8) | SIOV_FL_PWT | SIOV_FL_PCD |
                           (level == 1 ? SIOV_FL_PAT_4K : 0);
            tl_w64(s.t, e, old | ign);
            assert_int_equal(sc_walk(&s, WR, NULL), SIOV_OK);
            tl_w64(s.t, e, old);
        }
        if (size == SZ_2M) {
            expect_fl_rsvd(&s, 2, SIOV_BIT(13));
            expect_fl_rsvd(&s, 2, SIOV_BIT(20));
        } else if (size == SZ_1G) {
            expect_fl_rsvd(&s, 3, SIOV_BIT(13));
            expect_fl_rsvd(&s, 3, SIOV_BIT(21));
            expect_fl_rsvd(&s, 3, SIOV_BIT(29));
        }
        if (size != SZ_4K) {
            /* bit 12 is PAT in a large leaf, not an address bit */
            struct siov_walk_out out;
            set_bits(s.t, sc_leaf(&s), SIOV_FL_PAT_LARGE);
            assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
            assert_int_equal(out.page, s.pa);
        }
        sc_free(&s);
    }
    /* 1 GiB pages need FL1GP; 2 MiB pages are always there */
    struct siov_iommu_config cfg;
    base_cfg(&cfg);
    cfg.fl_1g = false;
    for (unsigned i = 0; i < N(sizes); i++) {
        struct sc s;
        sc_init_cfg(&s, &cfg, true, 4, sizes[i], TL_FL_URW);
        assert_int_equal(sc_walk(&s, RD, NULL), sizes[i] == SZ_1G ? SIOV_FAULT_SFL_3 : SIOV_OK);
        sc_free(&s);
    }
    /* a smaller HAW */
    base_cfg(&cfg);
    cfg.haw = 36;
    struct sc s;
    sc_init_cfg(&s, &cfg, true, 5, SZ_4K, TL_FL_URW);
    tl_w64(s.t, sc_leaf(&s), 0x12345000 | TL_FL_URW);
    for (unsigned level = 5; level >= 1; level--)
        expect_fl_rsvd(&s, level, SIOV_BIT(36));
    sc_free(&s);
}

/* PS=1 in a PML4E or PML5E is reserved in both formats (spec 9.7, 9.8), also
   when the entry's address bits would fit a page of that size: the entry
   points at guest address 0 or 512 GiB, so no large-leaf reserved bit is set
   and only PS itself can fault. Every SLLPS and FL1GP setting. */
static void test_ps_above_the_largest_leaf(void **state)
{
    (void)state;
    static const uint64_t bases[] = {0, 1ull << 39};
    for (unsigned levels = 4; levels <= 5; levels++) {
        for (unsigned opt = 0; opt < 4; opt++) {
            struct siov_iommu_config cfg;
            base_cfg(&cfg);
            cfg.sl_large = opt;
            cfg.fl_1g = opt & 1;
            for (int fl = 0; fl < 2; fl++) {
                struct sc s;
                sc_init_cfg(&s, &cfg, fl, levels, SZ_4K, fl ? TL_FL_URW : TL_SL_RWX);
                for (unsigned level = 4; level <= levels; level++) {
                    uint64_t e = sc_ent(&s, level), old = tl_r64(s.t, e);
                    for (unsigned b = 0; b < N(bases); b++) {
                        uint64_t big = bases[b] | (fl ? TL_FL_URW | SIOV_FL_PS : TL_SL_RWX | SIOV_SL_PS);
                        tl_w64(s.t, e, big);
                        for (int legacy = 0; legacy < 2 - fl; legacy++) {
                            s.pe.legacy = legacy;
                            siov_fault want = fl ? SIOV_FAULT_SFL_3 : legacy ? SIOV_FAULT_LSL_2 : SIOV_FAULT_SSL_3;
                            assert_int_equal(sc_walk(&s, RD, NULL), want);
                            assert_int_equal(sc_walk(&s, WR, NULL), want);
                        }
                        s.pe.legacy = false;
                    }
                    tl_w64(s.t, e, old);
                    assert_int_equal(sc_walk(&s, RD, NULL), SIOV_OK);
                }
                sc_free(&s);
            }
        }
    }
}

static void test_fl_user_supervisor(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            struct sc s;
            struct siov_walk_out out;
            sc_init(&s, true, levels, size, TL_FL_URW);
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
}

static void test_fl_write_protect(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            struct sc s;
            struct siov_walk_out out;
            sc_init(&s, true, levels, size, TL_FL_URW);
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
}

static void test_fl_execute(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            struct sc s;
            struct siov_walk_out out;
            sc_init(&s, true, levels, size, TL_FL_URW);
            set_bits(s.t, sc_ent(&s, level), SIOV_FL_XD);
            assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
            assert_int_equal(out.perm_user, RD | WR);
            assert_int_equal(out.perm_super, RD | WR);
            assert_int_equal(sc_walk(&s, EX, NULL), SIOV_FAULT_SGN_3);
            assert_int_equal(sc_walk(&s, RD | EX | PRIV, NULL), SIOV_FAULT_SGN_3);
            sc_free(&s);
        }
    }
    /* SMEP: supervisor execute of a page user-accessible at every level */
    FOR_FL(levels, size) {
        struct sc s;
        struct siov_walk_out out;
        sc_init(&s, true, levels, size, TL_FL_URW);
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
    sc_init(&s, true, 4, SZ_4K, TL_FL_URW);
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

static void test_fl_ad(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        for (int eafe = 0; eafe < 2; eafe++) {
            struct sc s;
            struct siov_walk_out out;
            uint64_t orig[6];
            sc_init(&s, true, levels, size, TL_FL_URW);
            s.pe.eafe = eafe;
            snapshot(&s, orig);
            uint64_t a = SIOV_FL_A | (eafe ? SIOV_FL_EA : 0);
            assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
            assert_false(out.dirty);
            expect_path(&s, orig, a, a);
            assert_int_equal(sc_walk(&s, RD | PRIV, &out), SIOV_OK);
            assert_false(out.dirty);
            assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
            assert_true(out.dirty);
            expect_path(&s, orig, a, a | SIOV_FL_D);
            assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
            assert_true(out.dirty);
            sc_free(&s);
            /* a denied write writes nothing */
            sc_init(&s, true, levels, size, SIOV_FL_P | SIOV_FL_US);
            s.pe.eafe = eafe;
            snapshot(&s, orig);
            assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SGN_6);
            expect_path(&s, orig, 0, 0);
            sc_free(&s);
        }
    }
}

static void test_fl_ad_nonsnooped(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        struct sc s;
        struct siov_walk_out out;
        uint64_t orig[6];
        sc_init(&s, true, levels, size, TL_FL_URW);
        s.pe.pwsnp = false;
        snapshot(&s, orig);
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SFL_9);
        expect_path(&s, orig, 0, 0);
        for (unsigned level = levels; level >= leaf_level(size); level--)
            set_bits(s.t, sc_ent(&s, level), SIOV_FL_A);
        assert_int_equal(sc_walk(&s, RD, &out), SIOV_OK);
        assert_false(out.dirty);
        s.pe.eafe = true; /* EA now needed */
        assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SFL_9);
        s.pe.eafe = false;
        assert_int_equal(sc_walk(&s, WR, NULL), SIOV_FAULT_SFL_9);
        set_bits(s.t, sc_leaf(&s), SIOV_FL_D);
        assert_int_equal(sc_walk(&s, WR, &out), SIOV_OK);
        assert_true(out.dirty);
        sc_free(&s);
    }
}

static void test_fl_ad_write_fail(void **state)
{
    (void)state;
    FOR_FL(levels, size) {
        for (unsigned level = levels; level >= leaf_level(size); level--) {
            struct sc s;
            sc_init(&s, true, levels, size, TL_FL_URW);
            siov_mem_fail_range(s.t->mem, sc_ent(&s, level), 8, SIOV_MEM_FAIL_WRITE);
            assert_int_equal(sc_walk(&s, RD, NULL), SIOV_FAULT_SFL_10);
            assert_int_equal(tl_r64(s.t, sc_ent(&s, level)) & SIOV_FL_A, 0);
            sc_free(&s);
        }
    }
}

static void test_fl_ad_retry(void **state)
{
    (void)state;
    for (unsigned i = 0; i < N(fl_levels_all); i++) {
        unsigned levels = fl_levels_all[i];
        for (unsigned level = levels; level >= 1; level--) {
            struct sc s;
            sc_init(&s, true, levels, SZ_4K, TL_FL_URW);
            uint64_t e = sc_ent(&s, level);
            assert_int_equal(walk_flipping(&s, e, 1, WR), SIOV_OK);
            uint64_t want = SIOV_FL_A | SIOV_BIT(52) | (level == 1 ? SIOV_FL_D : 0);
            assert_int_equal(tl_r64(s.t, e) & want, want);
            clr_bits(s.t, e, SIOV_FL_A | SIOV_FL_D);
            assert_int_equal(walk_flipping(&s, e, -1, WR), SIOV_FAULT_SFL_1);
            assert_int_equal(tl_r64(s.t, e) & (SIOV_FL_A | SIOV_FL_D), 0);
            sc_free(&s);
        }
    }
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
    n->pe = pe_fl(n->flroot, fl_levels);
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
static void brute_force(bool fl, unsigned levels)
{
    enum { PAGES = 16384, MAPPED = 600, PROBES = 20000 };
    struct tl *t = unit();
    uint64_t root = tl_page(t);
    uint64_t base = fl ? test_iova(levels, SZ_1G, 0, true) : test_iova(levels, SZ_1G, 0, false);
    uint64_t *map = calloc(PAGES, sizeof(*map)); /* pa + 1 of each 4 KiB page, 0 unmapped */
    assert_non_null(map);
    uint64_t seed = 0x9E3779B97F4A7C15ull ^ levels ^ (fl ? 0x100 : 0);
    for (unsigned i = 0; i < 4; i++) { /* 2 MiB pages in the upper half */
        unsigned big = 16 + (unsigned)(xorshift(&seed) % 16);
        uint64_t pa = (0x100 + (uint64_t)i) << 21;
        tl_map(t, root, levels, fl, base + big * SZ_2M, pa, SZ_2M, fl ? TL_FL_URW : TL_SL_RWX,
               fl ? TL_FL_URW : TL_SL_RWX);
        for (unsigned k = 0; k < 512; k++)
            map[big * 512 + k] = pa + k * SZ_4K + 1;
    }
    for (unsigned i = 0; i < MAPPED; i++) { /* 4 KiB pages in the lower half */
        unsigned pg = (unsigned)(xorshift(&seed) % (PAGES / 2));
        uint64_t pa = (xorshift(&seed) & 0xFFFFFFF000ull) | (1ull << 40);
        tl_map(t, root, levels, fl, base + pg * SZ_4K, pa, SZ_4K, fl ? TL_FL_URW : TL_SL_RWX,
               fl ? TL_FL_URW : TL_SL_RWX);
        map[pg] = pa + 1;
    }
    struct siov_pasid_ent pe = fl ? pe_fl(root, levels) : pe_sl(root, levels);
    pe.slade = true;
    unsigned hits = 0;
    for (unsigned i = 0; i < PROBES; i++) {
        uint64_t pg = xorshift(&seed) % PAGES;
        uint64_t iova = base + pg * SZ_4K + (xorshift(&seed) & 0xFFF);
        struct siov_walk_out out;
        siov_fault f = walk(t, &pe, iova, (i & 1) ? WR : RD, &out);
        if (!map[pg]) {
            assert_int_equal(f, fl ? SIOV_FAULT_SFL_2 : SIOV_FAULT_SSL_2);
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
    for (unsigned i = 0; i < N(sl_levels_all); i++)
        brute_force(false, sl_levels_all[i]);
    for (unsigned i = 0; i < N(fl_levels_all); i++)
        brute_force(true, fl_levels_all[i]);
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

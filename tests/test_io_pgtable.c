/* The reference driver's page tables (src/driver/io_pgtable.c) as the unit
 * sees them: the entries a split writes in guest memory are the words a map
 * of that page size writes, and a write-only second-level mapping is present
 * for lookup, overlap checks and unmap, and a parent's unmap reaches the
 * device TLBs behind its nested domains. */
#include <errno.h>
#include <stdlib.h>

#include "driver_fixture.h"

#define MEM_SIZE (64ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (16ull << 20)
#define K4 0x1000ull
#define M2 0x200000ull
#define G1 0x40000000ull
#define SID_A SIOV_SID(0, 3, 0)
#define RW (SIOV_PROT_READ | SIOV_PROT_WRITE)

struct fx {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
};

static struct fx fx_open(bool scalable)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.scalable = scalable;
    struct fx f;
    drv_fx_open(&(struct drv_fx_cfg){&cfg, MEM_SIZE, POOL_BASE, POOL_SIZE}, &f.mem, &f.iommu, &f.drv);
    return f;
}

static void fx_close(struct fx *f)
{
    drv_fx_close(f->mem, f->iommu, f->drv);
}

static uint64_t r64(struct fx *f, uint64_t gpa)
{
    return drv_fx_r64(f->mem, gpa);
}

/* Root and depth of the tables behind pasid of sid, from the unit's tables. */
static uint64_t tables_of(struct fx *f, siov_sid sid, uint32_t pasid, bool fl, unsigned *levels)
{
    uint64_t root = siov_mmio_read(f->iommu, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
    uint64_t half = r64(f, root + SIOV_SID_BUS(sid) * 16 + (SIOV_SID_DEVFN(sid) >= 128 ? 8 : 0));
    uint64_t ce = (half & SIOV_SRE0_LCTP) + (SIOV_SID_DEVFN(sid) & 0x7F) * 32ull;
    uint64_t pde = r64(f, (r64(f, ce) & SIOV_SCE0_PASIDDIRPTR) + siov_get(pasid, SIOV_PASID_DIR_INDEX) * 8);
    assert_true(pde & SIOV_PDE_P);
    uint64_t pe = (pde & SIOV_PDE_SMPTBLPTR) + siov_get(pasid, SIOV_PASID_TBL_INDEX) * 64ull;
    uint64_t qw0 = r64(f, pe), qw2 = r64(f, pe + 16);
    *levels = fl ? (siov_get(qw2, SIOV_PTE2_FLPM) ? 5 : 4) : (unsigned)siov_get(qw0, SIOV_PTE0_AW) + 2;
    return fl ? qw2 & SIOV_PTE2_FLPTPTR : qw0 & SIOV_PTE0_SLPTPTR;
}

/* The entry that ends the walk for iova (a leaf, or the non-present one) and its level. */
static uint64_t leaf_word(struct fx *f, uint64_t root, unsigned levels, uint64_t iova, unsigned *level)
{
    uint64_t table = root, e = 0;
    for (unsigned l = levels; l >= 1; l--) {
        e = r64(f, table + ((iova >> (12 + 9 * (l - 1))) & 0x1FF) * 8);
        *level = l;
        if (l == 1 || (e & SIOV_FL_PS) || e == 0) /* PS is bit 7 in both formats */
            break;
        table = e & SIOV_FL_ADDR;
    }
    return e;
}

/* Guest address of the entry that ends the walk for iova. */
static uint64_t entry_gpa(struct fx *f, uint64_t root, unsigned levels, uint64_t iova)
{
    uint64_t table = root;
    for (unsigned l = levels;; l--) {
        uint64_t at = table + ((iova >> (12 + 9 * (l - 1))) & 0x1FF) * 8, e = r64(f, at);
        if (l == 1 || (e & SIOV_FL_PS) || e == 0)
            return at;
        table = e & SIOV_FL_ADDR;
    }
}

/* The pool pages parent maps (its nested domains' table pages, identity):
   into pages (up to max); a parent unmap of one is -EBUSY, of any other
   pool page 0. Returns how many. */
static unsigned guarded_pages(struct siov_domain *parent, uint64_t *pages, unsigned max)
{
    unsigned n = 0;
    for (uint64_t g = POOL_BASE; g < POOL_BASE + POOL_SIZE; g += K4) {
        uint64_t got;
        if (siov_domain_iova_to_phys(parent, g, &got) == 0) {
            assert_int_equal(got, g);
            assert_int_equal(siov_domain_unmap(parent, g, K4), -EBUSY);
            if (n < max)
                pages[n] = g;
            n++;
        } else {
            assert_int_equal(siov_domain_unmap(parent, g, K4), 0);
        }
    }
    return n;
}

/* The leaf a map of pa with prot writes at level (the words test_leaf_words checks). */
static uint64_t want_leaf(bool fl, uint64_t pa, unsigned prot, unsigned level)
{
    uint64_t w;
    if (fl)
        w = pa | SIOV_FL_P | SIOV_FL_A | (prot & SIOV_PROT_WRITE ? SIOV_FL_RW | SIOV_FL_D : 0) |
            (prot & SIOV_PROT_PRIV ? 0 : SIOV_FL_US) | (prot & SIOV_PROT_EXEC ? 0 : SIOV_FL_XD);
    else
        w = pa | (prot & SIOV_PROT_READ ? SIOV_SL_R : 0) | (prot & SIOV_PROT_WRITE ? SIOV_SL_W : 0) |
            (prot & SIOV_PROT_EXEC ? SIOV_SL_X : 0);
    return level > 1 ? w | SIOV_FL_PS : w; /* PS is bit 7 in both formats */
}

/* A 1 GiB leaf cut by a 4 KiB unmap: the 2 MiB leaves and the 4 KiB leaves
   that replace it carry the words a map of their size writes (PS above
   4 KiB only: bit 7 of a 4 KiB entry is PAT, or ignored, and left 0). */
static void test_split_leaf_words(void **state)
{
    (void)state;
    static const unsigned prots[] = {SIOV_PROT_READ, RW, SIOV_PROT_WRITE, SIOV_PROT_READ | SIOV_PROT_EXEC,
                                     RW | SIOV_PROT_PRIV};
    const uint64_t iova = G1, pa = 2 * G1, cut = 5 * M2 + 3 * K4;
    for (int fl = 0; fl < 2; fl++) {
        struct fx f = fx_open(true);
        assert_int_equal(siov_dev_enable_aux(f.drv, SID_A), 0);
        for (size_t p = 0; p < sizeof prots / sizeof prots[0]; p++) {
            struct siov_domain *d = siov_domain_new(f.drv, fl ? SIOV_DOMAIN_FIRST_LEVEL : SIOV_DOMAIN_SECOND_LEVEL);
            assert_non_null(d);
            assert_int_equal(siov_domain_map(d, iova, pa, G1, prots[p]), 0);
            assert_int_equal(siov_aux_attach(d, SID_A), 0);
            unsigned levels, level;
            uint64_t root = tables_of(&f, SID_A, (uint32_t)siov_aux_pasid(d), fl, &levels);
            assert_int_equal(leaf_word(&f, root, levels, iova + cut, &level), want_leaf(fl, pa, prots[p], 3));
            assert_int_equal(level, 3);
            assert_int_equal(siov_domain_unmap(d, iova + cut, K4), (int64_t)K4);
            assert_int_equal(leaf_word(&f, root, levels, iova + cut, &level), 0);
            assert_int_equal(level, 1);
            for (uint64_t off = cut - K4; off < cut + 2 * K4; off += 2 * K4) { /* the neighbours */
                assert_int_equal(leaf_word(&f, root, levels, iova + off, &level), want_leaf(fl, pa + off, prots[p], 1));
                assert_int_equal(level, 1);
            }
            static const uint64_t big[] = {0, 4 * M2, 6 * M2, G1 - M2};
            for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
                assert_int_equal(leaf_word(&f, root, levels, iova + big[i], &level),
                                 want_leaf(fl, pa + big[i], prots[p], 2));
                assert_int_equal(level, 2);
            }
            assert_int_equal(siov_aux_detach(d, SID_A), 0);
            assert_int_equal(siov_domain_free(d), 0);
        }
        fx_close(&f);
    }
}

/* A second-level leaf with W alone is present: lookup finds it, a map over
   it is refused, unmap clears it (whole or split), in either mode. */
static void test_write_only_mappings(void **state)
{
    (void)state;
    for (int scalable = 0; scalable < 2; scalable++) {
        struct fx f = fx_open(scalable);
        struct siov_domain *d = siov_domain_new(f.drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_non_null(d);
        assert_int_equal(siov_attach(d, SID_A), 0);
        uint64_t base = siov_driver_pool_avail(f.drv), got;
        assert_int_equal(siov_domain_map(d, 0x7000, 0x9000, K4, SIOV_PROT_WRITE), 0);
        assert_int_equal(siov_domain_map(d, 2 * M2, 4 * M2, M2, SIOV_PROT_WRITE), 0);
        assert_int_equal(siov_domain_iova_to_phys(d, 0x7123, &got), 0);
        assert_int_equal(got, 0x9123);
        assert_int_equal(siov_domain_iova_to_phys(d, 2 * M2 + 0x5432, &got), 0);
        assert_int_equal(got, 4 * M2 + 0x5432);
        assert_int_equal(siov_domain_map(d, 0x7000, 0x9000, K4, RW), -EEXIST);
        assert_int_equal(siov_domain_map(d, 2 * M2 + K4, 0x9000, K4, RW), -EEXIST);
        struct siov_xlate x;
        assert_int_equal(siov_translate(f.iommu, SID_A, SIOV_NO_PASID, 0x7010, SIOV_ACCESS_WRITE, &x), SIOV_OK);
        assert_int_equal(x.addr, 0x9010);
        assert_int_equal(siov_domain_unmap(d, 0, M2), (int64_t)K4);
        assert_int_equal(siov_domain_iova_to_phys(d, 0x7000, &got), -ENOENT);
        assert_int_equal(siov_translate(f.iommu, SID_A, SIOV_NO_PASID, 0x7010, SIOV_ACCESS_WRITE, &x),
                         scalable ? SIOV_FAULT_SSL_2 : SIOV_FAULT_LGN_2);
        assert_int_equal(siov_domain_unmap(d, 2 * M2 + 3 * K4, K4), (int64_t)K4); /* a split */
        assert_int_equal(siov_domain_iova_to_phys(d, 2 * M2 + 4 * K4, &got), 0);
        assert_int_equal(got, 4 * M2 + 4 * K4);
        assert_int_equal(siov_domain_unmap(d, 2 * M2, M2), (int64_t)(M2 - K4));
        assert_int_equal(siov_domain_iova_to_phys(d, 2 * M2 + 4 * K4, &got), -ENOENT);
        assert_int_equal(siov_driver_pool_avail(f.drv), base);
        assert_int_equal(siov_detach(d, SID_A), 0);
        assert_int_equal(siov_domain_free(d), 0);
        fx_close(&f);
    }
}

/* A parent's unmap reaches the device TLB of every device its nested domain
   is attached to, with and without PASID: the device caches the combined
   translation, whatever address it started from. */
static void test_parent_unmap_reaches_nested_devtlb(void **state)
{
    (void)state;
    const uint64_t gpa = 4 * G1, hpa = 8 * G1, iova = 3 * G1 + 5 * M2 + 7 * K4;
    struct fx f = fx_open(true);
    struct siov_domain *p = siov_domain_new(f.drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(p, gpa, hpa, 2 * M2, RW), 0);
    struct siov_domain *c = siov_domain_new_nested(p);
    assert_non_null(c);
    assert_int_equal(siov_domain_map(c, iova, gpa + M2, K4, RW), 0);
    struct siov_atc *atc = siov_atc_new(f.iommu, SID_A, 64);
    assert_non_null(atc);
    assert_int_equal(siov_dev_enable_ats(f.drv, SID_A), 0);
    assert_int_equal(siov_dev_enable_aux(f.drv, SID_A), 0);
    assert_int_equal(siov_attach(c, SID_A), 0);
    assert_int_equal(siov_aux_attach(c, SID_A), 0);
    uint32_t pasids[2] = {SIOV_NO_PASID, (uint32_t)siov_aux_pasid(c)};
    struct siov_xlate x;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(siov_atc_translate(atc, pasids[i], iova + 0x10, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, hpa + M2 + 0x10);
    }
    assert_int_equal(siov_atc_entries(atc, NULL, 0), 2);
    assert_int_equal(siov_domain_unmap(p, gpa + M2, M2), (int64_t)M2);
    assert_int_equal(siov_atc_entries(atc, NULL, 0), 0);
    for (int i = 0; i < 2; i++)
        assert_int_not_equal(siov_atc_translate(atc, pasids[i], iova + 0x10, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(siov_aux_detach(c, SID_A), 0);
    assert_int_equal(siov_detach(c, SID_A), 0);
    assert_int_equal(siov_domain_free(c), 0);
    assert_int_equal(siov_domain_free(p), 0);
    siov_atc_free(atc);
    fx_close(&f);
}

/* A nested domain's table pages stay guarded in the parent while they are
   its tables, and only those: after the child releases tables from the
   middle of its list, the parent may unmap them and still not the others. */
static void test_nested_table_pages_guarded(void **state)
{
    (void)state;
    const uint64_t gpa = 4 * G1, hpa = 8 * G1;
    struct fx f = fx_open(true);
    struct siov_domain *p = siov_domain_new(f.drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(p, gpa, hpa, 2 * M2, RW), 0);
    struct siov_domain *c = siov_domain_new_nested(p);
    assert_non_null(c);
    assert_int_equal(guarded_pages(p, NULL, 0), 1); /* the child's root */
    assert_int_equal(siov_domain_map(c, K4, gpa + K4, K4, RW), 0); /* three tables */
    for (uint64_t i = 1; i <= 6; i++)                               /* two more each */
        assert_int_equal(siov_domain_map(c, i * G1 + K4, gpa + (i + 1) * K4, K4, RW), 0);
    assert_int_equal(guarded_pages(p, NULL, 0), 16); /* the list's first capacity, full */
    assert_int_equal(siov_domain_unmap(c, 0, M2), (int64_t)K4); /* its level-1 and level-2 tables go */
    assert_int_equal(guarded_pages(p, NULL, 0), 14);
    assert_int_equal(siov_attach(c, SID_A), 0);
    struct siov_xlate x;
    for (uint64_t i = 1; i <= 6; i++) {
        assert_int_equal(siov_translate(f.iommu, SID_A, SIOV_NO_PASID, i * G1 + K4 + 0x10, SIOV_ACCESS_READ, &x),
                         SIOV_OK);
        assert_int_equal(x.addr, hpa + (i + 1) * K4 + 0x10);
    }
    assert_int_equal(siov_detach(c, SID_A), 0);
    assert_int_equal(siov_domain_free(c), 0);
    assert_int_equal(guarded_pages(p, NULL, 0), 0);
    assert_int_equal(siov_domain_free(p), 0);
    fx_close(&f);
}

/* The parent cannot unmap a table page the child releases (its entry cannot
   be written): the page stays mapped, guarded and held until the parent
   goes, and then returns to the pool. */
static void test_nested_release_unmap_fails(void **state)
{
    (void)state;
    const uint64_t gpa = 4 * G1, hpa = 8 * G1;
    struct fx f = fx_open(true);
    uint64_t base = siov_driver_pool_avail(f.drv);
    struct siov_domain *p = siov_domain_new(f.drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(p, gpa, hpa, 2 * M2, RW), 0);
    assert_int_equal(siov_dev_enable_aux(f.drv, SID_A), 0);
    assert_int_equal(siov_aux_attach(p, SID_A), 0);
    unsigned levels;
    uint64_t root = tables_of(&f, SID_A, (uint32_t)siov_aux_pasid(p), false, &levels);
    struct siov_domain *c = siov_domain_new_nested(p);
    assert_non_null(c);
    uint64_t before[8], after[8];
    assert_int_equal(guarded_pages(p, before, 8), 1);
    assert_int_equal(siov_domain_map(c, K4, gpa + K4, K4, RW), 0);
    assert_int_equal(guarded_pages(p, after, 8), 4);
    /* the entries of the child's new tables in the parent: one range to fail */
    uint64_t lo = UINT64_MAX, hi = 0;
    for (unsigned i = 0; i < 4; i++) {
        if (after[i] == before[0])
            continue;
        uint64_t at = entry_gpa(&f, root, levels, after[i]);
        lo = at < lo ? at : lo;
        hi = at + 8 > hi ? at + 8 : hi;
    }
    assert_true(hi - lo <= 3 * 8 + 8 * 8); /* one table of the parent, nothing else of it in between */
    uint64_t held = siov_driver_pool_avail(f.drv);
    assert_int_equal(siov_mem_fail_range(f.mem, lo, hi - lo, SIOV_MEM_FAIL_WRITE), 0);
    assert_int_equal(siov_domain_unmap(c, 0, M2), (int64_t)K4);
    assert_int_equal(siov_mem_fail_range(f.mem, 0, 0, 0), 0);
    assert_int_equal(guarded_pages(p, NULL, 0), 4); /* still mapped and guarded */
    assert_int_equal(siov_driver_pool_avail(f.drv), held);
    assert_int_equal(siov_domain_free(c), 0);
    assert_int_equal(guarded_pages(p, NULL, 0), 3);
    assert_int_equal(siov_aux_detach(p, SID_A), 0);
    assert_int_equal(siov_dev_disable_aux(f.drv, SID_A), 0);
    assert_int_equal(siov_domain_free(p), 0);
    assert_int_equal(siov_driver_pool_avail(f.drv), base);
    fx_close(&f);
}

/* Guest memory over a flat one that can refuse, by shape: whole-page writes
   of anything but zeros (a split's new table; allocation only zeroes pages),
   whole-page reads (the check whether a table emptied), and 32-byte writes
   (invalidation descriptors). */
enum { REFUSE_PAGE_WRITES = 1, REFUSE_PAGE_READS = 2, REFUSE_DESC_WRITES = 4 };
struct picky {
    struct siov_mem *flat;
    unsigned refuse;
};

static int picky_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct picky *m = opaque;
    if ((m->refuse & REFUSE_PAGE_READS) && len == K4)
        return -EFAULT;
    return siov_mem_read(m->flat, gpa, dst, len);
}

static int picky_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct picky *m = opaque;
    const uint8_t *b = src;
    bool zeros = true;
    for (size_t i = 0; zeros && i < len; i++)
        zeros = b[i] == 0;
    if (((m->refuse & REFUSE_PAGE_WRITES) && len == K4 && !zeros) || ((m->refuse & REFUSE_DESC_WRITES) && len == 32))
        return -EFAULT;
    return siov_mem_write(m->flat, gpa, src, len);
}

/* A unit and driver over picky memory m. */
static struct fx picky_open(struct picky *m)
{
    static const struct siov_mem_ops ops = {picky_read, picky_write, NULL};
    m->flat = siov_mem_new_flat(MEM_SIZE);
    assert_non_null(m->flat);
    m->refuse = 0;
    struct fx f;
    f.mem = siov_mem_new(&ops, m);
    assert_non_null(f.mem);
    f.iommu = siov_iommu_new(f.mem, NULL);
    assert_non_null(f.iommu);
    f.drv = siov_driver_new(f.iommu, f.mem, POOL_BASE, POOL_SIZE);
    assert_non_null(f.drv);
    return f;
}

static void picky_close(struct fx *f, struct picky *m)
{
    drv_fx_close(f->mem, f->iommu, f->drv);
    siov_mem_free(m->flat);
}

/* A split whose new table cannot be written fails with -EFAULT and changes
   nothing: the large leaf stays, whole, and no page is held. */
static void test_split_write_fails(void **state)
{
    (void)state;
    for (int fl = 0; fl < 2; fl++) {
        struct picky m;
        struct fx f = picky_open(&m);
        struct siov_domain *d = siov_domain_new(f.drv, fl ? SIOV_DOMAIN_FIRST_LEVEL : SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(siov_domain_map(d, 2 * M2, 8 * M2, M2, RW), 0);
        assert_int_equal(siov_attach(d, SID_A), 0);
        uint64_t avail = siov_driver_pool_avail(f.drv), got;
        m.refuse = REFUSE_PAGE_WRITES;
        assert_int_equal(siov_domain_unmap(d, 2 * M2 + 3 * K4, K4), -EFAULT);
        m.refuse = 0;
        assert_int_equal(siov_driver_pool_avail(f.drv), avail);
        for (uint64_t off = 0; off < M2; off += M2 / 4) {
            assert_int_equal(siov_domain_iova_to_phys(d, 2 * M2 + off + 3 * K4, &got), 0);
            assert_int_equal(got, 8 * M2 + off + 3 * K4);
            struct siov_xlate x;
            assert_int_equal(siov_translate(f.iommu, SID_A, SIOV_NO_PASID, 2 * M2 + off + 3 * K4, SIOV_ACCESS_READ,
                                            &x), SIOV_OK);
            assert_int_equal(x.addr, 8 * M2 + off + 3 * K4);
            assert_int_equal(x.page_size, M2);
        }
        assert_int_equal(siov_domain_unmap(d, 2 * M2 + 3 * K4, K4), (int64_t)K4); /* and works once it can */
        assert_int_equal(siov_detach(d, SID_A), 0);
        assert_int_equal(siov_domain_free(d), 0);
        picky_close(&f, &m);
    }
}

/* An unmap that fails after clearing a table's leaves (the check whether
   the table emptied cannot read it) leaves that table linked and empty; the
   next unmap covering it releases it, with or without leaves to clear. */
static void test_failed_unmap_leaves_empty_table(void **state)
{
    (void)state;
    for (int fl = 0; fl < 2; fl++) {
        struct picky m;
        struct fx f = picky_open(&m);
        struct siov_domain *d = siov_domain_new(f.drv, fl ? SIOV_DOMAIN_FIRST_LEVEL : SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(siov_domain_map(d, 0, 8 * M2, K4, RW), 0); /* keeps the upper tables */
        uint64_t base = siov_driver_pool_avail(f.drv), got;
        assert_int_equal(siov_domain_map(d, 2 * M2, 8 * M2, 2 * K4, RW), 0); /* one level-1 table more */
        assert_int_equal(siov_driver_pool_avail(f.drv), base - 1);
        m.refuse = REFUSE_PAGE_READS;
        assert_int_equal(siov_domain_unmap(d, 2 * M2, M2), -EFAULT);
        m.refuse = 0;
        assert_int_equal(siov_domain_iova_to_phys(d, 2 * M2, &got), -ENOENT);
        assert_int_equal(siov_driver_pool_avail(f.drv), base - 1);
        assert_int_equal(siov_domain_unmap(d, 2 * M2, M2), 0); /* nothing mapped, the table goes */
        assert_int_equal(siov_driver_pool_avail(f.drv), base);
        assert_int_equal(siov_domain_iova_to_phys(d, 0, &got), 0);
        assert_int_equal(got, 8 * M2);
        assert_int_equal(siov_domain_free(d), 0);
        picky_close(&f, &m);
    }
}

/* The same in a nested domain: releasing the empty table unmaps it from the
   parent, whose invalidation the flush must deliver; when it cannot, the
   unmap that cleared nothing still fails with the flush's -EFAULT. */
static void test_nested_empty_table_flush_fails(void **state)
{
    (void)state;
    const uint64_t gpa = 4 * G1, hpa = 8 * G1;
    struct picky m;
    struct fx f = picky_open(&m);
    struct siov_domain *p = siov_domain_new(f.drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(p, gpa, hpa, 2 * M2, RW), 0);
    struct siov_domain *c = siov_domain_new_nested(p);
    assert_non_null(c);
    assert_int_equal(siov_domain_map(c, 0, gpa, K4, RW), 0);
    assert_int_equal(siov_domain_map(c, 2 * M2, gpa + K4, K4, RW), 0);
    assert_int_equal(guarded_pages(p, NULL, 0), 5);
    m.refuse = REFUSE_PAGE_READS;
    assert_int_equal(siov_domain_unmap(c, 2 * M2, M2), -EFAULT);
    m.refuse = REFUSE_DESC_WRITES;
    assert_int_equal(siov_domain_unmap(c, 2 * M2, M2), -EFAULT);
    m.refuse = 0;
    assert_int_equal(guarded_pages(p, NULL, 0), 4);
    assert_int_equal(siov_domain_free(c), 0);
    assert_int_equal(siov_domain_free(p), 0);
    picky_close(&f, &m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_leaf_words),
        cmocka_unit_test(test_write_only_mappings),
        cmocka_unit_test(test_parent_unmap_reaches_nested_devtlb),
        cmocka_unit_test(test_nested_table_pages_guarded),
        cmocka_unit_test(test_nested_release_unmap_fails),
        cmocka_unit_test(test_split_write_fails),
        cmocka_unit_test(test_failed_unmap_leaves_empty_table),
        cmocka_unit_test(test_nested_empty_table_flush_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

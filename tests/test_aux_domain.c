/* Domains of the reference driver (src/driver/aux_domain.c, io_pgtable.c):
 * map/unmap with every page size over every paging depth, splits of large
 * pages, invalidation before unmap returns (checked with a warm IOTLB),
 * attach and aux attach, isolation between aux domains, nested and
 * pass-through domains, every error path, and pool exhaustion with full
 * rollback. Translations are checked through siov_translate on the hardware
 * model. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver_fixture.h"

#define MEM_SIZE (64ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (16ull << 20)
#define K4 0x1000ull
#define M2 0x200000ull
#define G1 0x40000000ull
#define HPA (8 * G1)      /* output addresses (no backing needed by siov_translate) */
#define GPA (4 * G1)      /* nested: guest addresses the parent maps to HPA */
#define SID_A SIOV_SID(0, 1, 0)
#define SID_B SIOV_SID(0, 2, 0)
#define SID_C SIOV_SID(5, 3, 1)
#define RW (SIOV_PROT_READ | SIOV_PROT_WRITE)
#define RD SIOV_ACCESS_READ
#define WR SIOV_ACCESS_WRITE

/* ------------------------------------------------------------- fixture */

struct fx {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
};

static struct fx *fx_new_cfg(const struct siov_iommu_config *cfg, uint64_t pool_size)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    drv_fx_open(&(struct drv_fx_cfg){cfg, MEM_SIZE, POOL_BASE, pool_size}, &f->mem, &f->iommu, &f->drv);
    return f;
}

static struct fx *fx_new(void)
{
    return fx_new_cfg(NULL, POOL_SIZE);
}

/* A small pool: 8-bit PASIDs keep each PASID directory to one page. */
static struct fx *fx_small(uint64_t pages)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.pasid_bits = 8;
    return fx_new_cfg(&cfg, pages * K4);
}

static void fx_free(struct fx *f)
{
    drv_fx_close(f->mem, f->iommu, f->drv);
    free(f);
}

static uint64_t avail(struct fx *f)
{
    return siov_driver_pool_avail(f->drv);
}

static siov_fault tr(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t iova, unsigned access,
                     struct siov_xlate *x)
{
    struct siov_xlate dummy;
    return siov_translate(f->iommu, sid, pasid, iova, access, x ? x : &dummy);
}

/* Paging configurations: every SL depth and FL depth. */
struct conf {
    const char *name;
    unsigned sagaw, mgaw;
    bool fl5;
};
static const struct conf confs[] = {
    {"SL3/FL4", SIOV_SAGAW_3LVL, 39, false},
    {"SL4/FL4", SIOV_SAGAW_4LVL, 48, false},
    {"SL5/FL5", SIOV_SAGAW_5LVL, 57, true},
    {"SL4/FL5", SIOV_SAGAW_4LVL, 57, true},
};
#define NCONF (sizeof(confs) / sizeof(confs[0]))

/* A unit with c's paging configuration (the default one when c is NULL). */
static struct fx *fx_conf(const struct conf *c)
{
    if (!c)
        return fx_new();
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.sagaw = c->sagaw;
    cfg.mgaw = c->mgaw;
    cfg.fl_5level = c->fl5;
    return fx_new_cfg(&cfg, POOL_SIZE);
}

/* A unit whose pool runs dry within one big map (c is not used). */
static struct fx *fx_pool48(const struct conf *c)
{
    (void)c;
    return fx_small(48);
}

/* A domain under test: SL, FL or nested (with its parent mapping GPA -> HPA). */
enum kind { K_SL, K_FL, K_NESTED, NKIND };
static const char *kind_name[] = {"SL", "FL", "nested"};

struct dut {
    struct fx *f;
    enum kind kind;
    struct siov_domain *dom, *parent;
    siov_fault unmapped; /* the fault of an unmapped address */
};

static struct dut dut_new(struct fx *f, enum kind k)
{
    struct dut d = {.f = f, .kind = k};
    if (k == K_NESTED) {
        d.parent = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_non_null(d.parent);
        assert_int_equal(siov_domain_map(d.parent, GPA, HPA, 4 * G1, RW | SIOV_PROT_EXEC), 0);
        d.dom = siov_domain_new_nested(d.parent);
    } else {
        d.dom = siov_domain_new(f->drv, k == K_SL ? SIOV_DOMAIN_SECOND_LEVEL : SIOV_DOMAIN_FIRST_LEVEL);
    }
    assert_non_null(d.dom);
    d.unmapped = k == K_SL ? SIOV_FAULT_SSL_2 : SIOV_FAULT_SFL_2;
    return d;
}

static void dut_free(struct dut *d)
{
    assert_int_equal(siov_domain_free(d->dom), 0);
    if (d->parent)
        assert_int_equal(siov_domain_free(d->parent), 0);
}

/* The address map takes for output pa (nested: the GPA the parent maps to pa). */
static uint64_t map_pa(const struct dut *d, uint64_t pa)
{
    return d->kind == K_NESTED ? pa - HPA + GPA : pa;
}

/* Attach for requests without PASID on SID_A and aux on SID_B. */
static void dut_attach(struct dut *d)
{
    assert_int_equal(siov_attach(d->dom, SID_A), 0);
    assert_int_equal(siov_dev_enable_aux(d->f->drv, SID_B), 0);
    assert_int_equal(siov_aux_attach(d->dom, SID_B), 0);
}

static void dut_detach(struct dut *d)
{
    assert_int_equal(siov_detach(d->dom, SID_A), 0);
    assert_int_equal(siov_aux_detach(d->dom, SID_B), 0);
    assert_int_equal(siov_dev_disable_aux(d->f->drv, SID_B), 0);
}

/* iova translates to pa with page size ps on both attachments and in the tables. */
static void expect_mapped(struct dut *d, uint64_t iova, uint64_t pa, uint64_t ps)
{
    struct siov_xlate x;
    uint32_t pasid = (uint32_t)siov_aux_pasid(d->dom);
    for (int aux = 0; aux < 2; aux++) {
        siov_fault r = tr(d->f, aux ? SID_B : SID_A, aux ? pasid : SIOV_NO_PASID, iova, RD, &x);
        if (r != SIOV_OK)
            fail_msg("%s iova %#llx: fault %s", kind_name[d->kind], (unsigned long long)iova, siov_fault_name(r));
        assert_int_equal(x.addr, pa);
        assert_int_equal(x.did, siov_domain_did(d->dom));
        if (ps)
            assert_int_equal(x.page_size, ps);
    }
    uint64_t got;
    assert_int_equal(siov_domain_iova_to_phys(d->dom, iova, &got), 0);
    assert_int_equal(got, map_pa(d, pa));
}

static void expect_unmapped(struct dut *d, uint64_t iova)
{
    uint32_t pasid = (uint32_t)siov_aux_pasid(d->dom);
    assert_int_equal(tr(d->f, SID_A, SIOV_NO_PASID, iova, RD, NULL), d->unmapped);
    assert_int_equal(tr(d->f, SID_B, pasid, iova, RD, NULL), d->unmapped);
    uint64_t got;
    assert_int_equal(siov_domain_iova_to_phys(d->dom, iova, &got), -ENOENT);
}

/* What a test does with one domain attached both ways (c: the unit's paging
   configuration, NULL for the default one). */
typedef void (*dut_body)(struct dut *d, const struct conf *c);

/* body on a domain of kind k on f, attached both ways, then detached and freed. */
static void with_attached(struct fx *f, enum kind k, dut_body body, const struct conf *c)
{
    struct dut d = dut_new(f, k);
    dut_attach(&d);
    body(&d, c);
    dut_detach(&d);
    dut_free(&d);
}

/* body once for each kind of domain, each on a fresh unit from make(c). */
static void each_kind_fresh(struct fx *(*make)(const struct conf *), const struct conf *c, dut_body body)
{
    for (int k = 0; k < NKIND; k++) {
        struct fx *f = make(c);
        with_attached(f, (enum kind)k, body, c);
        fx_free(f);
    }
}

/* Page sizes the domain can use. */
static unsigned sizes_of(const struct dut *d, uint64_t out[3])
{
    unsigned n = 0;
    out[n++] = K4;
    out[n++] = M2;
    out[n++] = G1; /* default config: SLLPS both, FL1GP */
    (void)d;
    return n;
}

/* --------------------------------------------------------- map / unmap */

static void map_each_page_size(struct dut *d, const struct conf *c)
{
    (void)c;
    uint64_t base = avail(d->f), sizes[3];
    unsigned n = sizes_of(d, sizes);
    for (unsigned i = 0; i < n; i++) {
        uint64_t s = sizes[i], iova = 3 * s, pa = HPA + 2 * s;
        assert_int_equal(siov_domain_map(d->dom, iova, map_pa(d, pa), s, RW), 0);
        expect_mapped(d, iova, pa, d->kind == K_NESTED ? 0 : s);
        expect_mapped(d, iova + s / 2 + 0x123, pa + s / 2 + 0x123, 0);
        expect_mapped(d, iova + s - 1, pa + s - 1, 0);
        expect_unmapped(d, iova + s);
        expect_unmapped(d, iova - K4);
        assert_int_equal(siov_domain_unmap(d->dom, iova, s), (int64_t)s);
        expect_unmapped(d, iova); /* the warm IOTLB entry is gone */
        expect_unmapped(d, iova + s - K4);
        assert_int_equal(avail(d->f), base); /* tables freed as they empty */
    }
}

static void test_map_each_page_size(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCONF; c++)
        each_kind_fresh(fx_conf, &confs[c], map_each_page_size);
}

/* The top of the address space each depth allows, and just beyond it. */
static void map_width_limits(struct dut *d, const struct conf *c)
{
    unsigned w;
    if (d->kind == K_SL) {
        unsigned aw = c->sagaw == SIOV_SAGAW_3LVL ? 39 : c->sagaw == SIOV_SAGAW_4LVL ? 48 : 57;
        w = aw < c->mgaw ? aw : c->mgaw;
    } else {
        w = c->fl5 ? 56 : 47; /* lower canonical half */
    }
    uint64_t top = 1ull << w;
    assert_int_equal(siov_domain_map(d->dom, top - K4, map_pa(d, HPA), K4, RW), 0);
    expect_mapped(d, top - K4 + 8, HPA + 8, K4);
    uint64_t before = avail(d->f);
    assert_int_equal(siov_domain_map(d->dom, top, map_pa(d, HPA), K4, RW), -ERANGE);
    assert_int_equal(siov_domain_map(d->dom, top - K4, map_pa(d, HPA), 2 * K4, RW), -ERANGE);
    assert_int_equal(siov_domain_unmap(d->dom, top - K4, 2 * K4), -ERANGE);
    assert_int_equal(siov_domain_map(d->dom, UINT64_MAX & ~0xFFFull, 0, K4, RW), -ERANGE);
    assert_int_equal(avail(d->f), before);
    assert_int_equal(siov_domain_unmap(d->dom, top - K4, K4), (int64_t)K4);
    expect_unmapped(d, top - K4);
}

static void test_map_width_limits(void **state)
{
    (void)state;
    for (size_t c = 0; c < NCONF; c++)
        each_kind_fresh(fx_conf, &confs[c], map_width_limits);
}

/* The largest page that alignment and the hardware allow (a second-level domain). */
static void map_largest_fit(struct dut *d, const struct conf *c)
{
    (void)c;
    /* 4K | 2M | 4K */
    assert_int_equal(siov_domain_map(d->dom, M2 - K4, HPA + M2 - K4, M2 + 2 * K4, RW), 0);
    expect_mapped(d, M2 - K4, HPA + M2 - K4, K4);
    expect_mapped(d, M2, HPA + M2, M2);
    expect_mapped(d, 2 * M2, HPA + 2 * M2, K4);
    /* iova aligned but pa not: 4K pages only */
    assert_int_equal(siov_domain_map(d->dom, 8 * M2, HPA + 16 * M2 + K4, M2, RW), 0);
    expect_mapped(d, 8 * M2 + 0x1000, HPA + 16 * M2 + 0x2000, K4);
    /* 1G + 2M from a 1G-aligned start: one 1G page, one 2M page */
    assert_int_equal(siov_domain_map(d->dom, G1, HPA + G1, G1 + M2, RW), 0);
    expect_mapped(d, G1 + 0x1234, HPA + G1 + 0x1234, G1);
    expect_mapped(d, 2 * G1 + 0x1234, HPA + 2 * G1 + 0x1234, M2);
}

/* Hardware without large pages (SLLPS=0, FL1GP=0): 1 GiB goes in the largest pages left. */
static void map_without_large_pages(struct dut *d, const struct conf *c)
{
    (void)c;
    assert_int_equal(siov_domain_map(d->dom, G1, map_pa(d, HPA + G1), G1, RW), 0);
    expect_mapped(d, G1 + 3 * M2 + 5, HPA + G1 + 3 * M2 + 5, d->kind == K_SL ? K4 : (d->kind == K_FL ? M2 : 0));
}

static void test_map_largest_fit(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    with_attached(f, K_SL, map_largest_fit, NULL);
    fx_free(f);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.sl_large = 0;
    cfg.fl_1g = false;
    f = fx_new_cfg(&cfg, POOL_SIZE);
    for (int k = 0; k < NKIND; k++) /* one unit for all kinds */
        with_attached(f, (enum kind)k, map_without_large_pages, NULL);
    fx_free(f);
}

static void map_errors(struct dut *d, const struct conf *c)
{
    (void)c;
    uint64_t pa = map_pa(d, HPA);
    assert_int_equal(siov_domain_map(d->dom, 2 * M2, pa, M2, RW), 0); /* one 2M page */
    assert_int_equal(siov_domain_map(d->dom, 8 * M2, pa + M2, K4, SIOV_PROT_READ), 0);
    uint64_t before = avail(d->f);
    assert_int_equal(siov_domain_map(NULL, 0, pa, K4, RW), -EINVAL);
    assert_int_equal(siov_domain_map(d->dom, 0, pa, 0, RW), -EINVAL);
    assert_int_equal(siov_domain_map(d->dom, 0x800, pa, K4, RW), -EINVAL);
    assert_int_equal(siov_domain_map(d->dom, 0, pa + 0x10, K4, RW), -EINVAL);
    assert_int_equal(siov_domain_map(d->dom, 0, pa, K4 + 1, RW), -EINVAL);
    assert_int_equal(siov_domain_map(d->dom, 0, pa, K4, 0), -EINVAL);
    assert_int_equal(siov_domain_map(d->dom, 0, pa, K4, SIOV_PROT_EXEC), -EINVAL);
    assert_int_equal(siov_domain_map(d->dom, 0, pa, K4, RW | (1u << 7)), -EINVAL);
    /* overlaps: the same page, a page inside the 2M page, a range ending in it */
    assert_int_equal(siov_domain_map(d->dom, 2 * M2, pa, M2, RW), -EEXIST);
    assert_int_equal(siov_domain_map(d->dom, 2 * M2 + 5 * K4, pa, K4, RW), -EEXIST);
    assert_int_equal(siov_domain_map(d->dom, M2, pa, M2 + K4, RW), -EEXIST);
    assert_int_equal(siov_domain_map(d->dom, 7 * M2, pa, 2 * M2, RW), -EEXIST);
    assert_int_equal(siov_domain_map(d->dom, 0, 1ull << 52, K4, RW), -ERANGE);
    if (d->kind == K_NESTED) /* output beyond the parent's input width */
        assert_int_equal(siov_domain_map(d->dom, 0, 1ull << 48, K4, RW), -ERANGE);
    assert_int_equal(avail(d->f), before);
    expect_mapped(d, 2 * M2 + 0x4321, HPA + 0x4321, 0);
    expect_mapped(d, 8 * M2, HPA + M2, 0);
    expect_unmapped(d, M2);
    expect_unmapped(d, 7 * M2);
    /* unmap errors */
    assert_int_equal(siov_domain_unmap(NULL, 0, K4), -EINVAL);
    assert_int_equal(siov_domain_unmap(d->dom, 0, 0), -EINVAL);
    assert_int_equal(siov_domain_unmap(d->dom, 0x10, K4), -EINVAL);
    assert_int_equal(siov_domain_unmap(d->dom, 0, 0x10), -EINVAL);
    uint64_t got;
    assert_int_equal(siov_domain_iova_to_phys(NULL, 0, &got), -EINVAL);
    assert_int_equal(siov_domain_iova_to_phys(d->dom, 0, NULL), -EINVAL);
    assert_int_equal(siov_domain_iova_to_phys(d->dom, 1ull << 60, &got), -ERANGE);
}

static void test_map_errors(void **state)
{
    (void)state;
    each_kind_fresh(fx_conf, NULL, map_errors);
}

/* Unmap inside large pages: the rest stays mapped, through splits. */
static void unmap_splits(struct dut *d, const struct conf *c)
{
    (void)c;
    uint64_t base = avail(d->f);
    assert_int_equal(siov_domain_map(d->dom, 2 * M2, map_pa(d, HPA), M2, RW), 0);
    expect_mapped(d, 2 * M2 + 7 * K4, HPA + 7 * K4, 0); /* warm the IOTLB with the 2M page */
    assert_int_equal(siov_domain_unmap(d->dom, 2 * M2 + 7 * K4, K4), (int64_t)K4);
    expect_unmapped(d, 2 * M2 + 7 * K4);
    expect_mapped(d, 2 * M2 + 6 * K4 + 9, HPA + 6 * K4 + 9, d->kind == K_NESTED ? 0 : K4);
    expect_mapped(d, 2 * M2 + 8 * K4, HPA + 8 * K4, 0);
    expect_mapped(d, 2 * M2, HPA, 0);
    expect_mapped(d, 3 * M2 - K4, HPA + M2 - K4, 0);
    /* an unmap over the hole and beyond counts only what was mapped */
    assert_int_equal(siov_domain_unmap(d->dom, 2 * M2 + 6 * K4, 3 * K4), (int64_t)(2 * K4));
    assert_int_equal(siov_domain_unmap(d->dom, 2 * M2 + 6 * K4, 3 * K4), 0);
    assert_int_equal(siov_domain_unmap(d->dom, 0, 4 * M2), (int64_t)(M2 - 3 * K4));
    assert_int_equal(avail(d->f), base);

    /* a 1G page cut at a 4K boundary: split to 2M pages, then to 4K pages */
    assert_int_equal(siov_domain_map(d->dom, G1, map_pa(d, HPA), G1, RW), 0);
    uint64_t cut = G1 + 5 * M2 + 3 * K4;
    expect_mapped(d, cut, HPA + 5 * M2 + 3 * K4, 0);
    assert_int_equal(siov_domain_unmap(d->dom, cut, 2 * K4), (int64_t)(2 * K4));
    expect_unmapped(d, cut);
    expect_unmapped(d, cut + K4);
    expect_mapped(d, cut - K4, HPA + 5 * M2 + 2 * K4, d->kind == K_NESTED ? 0 : K4);
    expect_mapped(d, cut + 2 * K4, HPA + 5 * M2 + 5 * K4, 0);
    expect_mapped(d, G1 + 9 * M2 + 1, HPA + 9 * M2 + 1, d->kind == K_NESTED ? 0 : M2);
    expect_mapped(d, 2 * G1 - 1, HPA + G1 - 1, 0);
    /* cut from both ends within the same 1G page, bytes count exact */
    assert_int_equal(siov_domain_unmap(d->dom, G1, M2 + K4), (int64_t)(M2 + K4));
    expect_unmapped(d, G1 + M2);
    expect_mapped(d, G1 + M2 + K4, HPA + M2 + K4, 0);
    assert_int_equal(siov_domain_unmap(d->dom, G1, G1), (int64_t)(G1 - M2 - 3 * K4));
    assert_int_equal(avail(d->f), base);
}

static void test_unmap_splits(void **state)
{
    (void)state;
    each_kind_fresh(fx_conf, NULL, unmap_splits);
}

/* A first-level domain on a 64-page pool, attached both ways, holding one
   1 GiB page at G1; *hog's tables (one level-1 table at each 2 MiB step, in
   one 1 GiB region) take all of the pool but spare pages. */
static struct dut split_reserve(uint64_t spare, struct siov_domain **hog)
{
    struct dut d = dut_new(fx_small(64), K_FL);
    dut_attach(&d);
    assert_int_equal(siov_domain_map(d.dom, G1, HPA, G1, RW), 0);
    *hog = siov_domain_new(d.f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(*hog);
    uint64_t n = 0;
    while (avail(d.f) > 0)
        assert_int_equal(siov_domain_map(*hog, ++n * M2, HPA, K4, RW), 0);
    while (avail(d.f) < spare)
        assert_int_equal(siov_domain_unmap(*hog, n-- * M2, K4), (int64_t)K4);
    assert_int_equal(avail(d.f), spare);
    return d;
}

static void split_reserve_free(struct dut *d, struct siov_domain *hog)
{
    struct fx *f = d->f;
    assert_int_equal(siov_domain_free(hog), 0);
    dut_detach(d);
    dut_free(d);
    fx_free(f);
}

/* Without a page for the split, the unmap fails and changes nothing. */
static void test_unmap_split_no_memory(void **state)
{
    (void)state;
    struct siov_domain *hog;
    struct dut d = split_reserve(0, &hog);
    struct fx *f = d.f;
    assert_int_equal(siov_domain_unmap(d.dom, G1 + M2, K4), -ENOMEM);
    assert_int_equal(avail(f), 0);
    expect_mapped(&d, G1 + M2, HPA + M2, G1);
    assert_int_equal(siov_domain_unmap(d.dom, G1 + M2, M2), -ENOMEM);
    assert_int_equal(siov_domain_unmap(d.dom, G1, G1), (int64_t)G1); /* whole: no split needed */
    expect_unmapped(&d, G1 + M2);
    split_reserve_free(&d, hog);
}

/* An unmap that cuts one 1 GiB leaf at both ends needs three table pages
   (the 1 GiB split once, each end's 2 MiB page once): with exactly three
   left it succeeds, with two it fails and changes nothing. */
static void test_unmap_split_exact_reserve(void **state)
{
    (void)state;
    for (int spare = 2; spare <= 3; spare++) {
        struct siov_domain *hog;
        struct dut d = split_reserve((uint64_t)spare, &hog);
        struct fx *f = d.f;
        uint64_t lo = G1 + M2 + K4;
        if (spare == 3) {
            assert_int_equal(siov_domain_unmap(d.dom, lo, M2), (int64_t)M2);
            expect_unmapped(&d, lo);
            expect_unmapped(&d, lo + M2 - K4);
            expect_mapped(&d, lo - K4, HPA + M2, K4);
            expect_mapped(&d, lo + M2, HPA + 2 * M2 + K4, K4);
            expect_mapped(&d, G1 + 5 * M2, HPA + 5 * M2, M2);
            assert_int_equal(avail(f), 0);
        } else {
            assert_int_equal(siov_domain_unmap(d.dom, lo, M2), -ENOMEM);
            assert_int_equal(avail(f), spare);
            expect_mapped(&d, lo, HPA + M2 + K4, G1);
        }
        split_reserve_free(&d, hog);
    }
}

/* A pool that runs dry in the middle of a big map: nothing stays mapped and
   every page comes back. */
static void map_pool_exhaustion_rollback(struct dut *d, const struct conf *c)
{
    (void)c;
    assert_int_equal(siov_domain_map(d->dom, 0, map_pa(d, HPA), K4, RW), 0);
    uint64_t before = avail(d->f);
    /* 4K pages only (pa misaligned by 4K), 128 MiB: needs 64+ table pages */
    int r = siov_domain_map(d->dom, 2 * M2, map_pa(d, HPA + K4), 64 * M2, RW);
    assert_int_equal(r, -ENOMEM);
    assert_int_equal(avail(d->f), before);
    for (uint64_t i = 0; i < 64; i++)
        expect_unmapped(d, 2 * M2 + i * M2);
    expect_unmapped(d, 66 * M2 - K4);
    expect_mapped(d, 0, HPA, 0);
    /* the same in a 1 GiB region of its own: the level-2 table it adds holds
       filled level-1 tables when the pool runs dry, and all of them go */
    assert_int_equal(siov_domain_map(d->dom, 3 * G1, map_pa(d, HPA + K4), 64 * M2, RW), -ENOMEM);
    assert_int_equal(avail(d->f), before);
    expect_unmapped(d, 3 * G1);
    expect_unmapped(d, 3 * G1 + 5 * M2);
    /* a map that fits still works afterwards */
    assert_int_equal(siov_domain_map(d->dom, 2 * M2, map_pa(d, HPA + K4), 4 * M2, RW), 0);
    expect_mapped(d, 5 * M2, HPA + K4 + 3 * M2, 0);
    assert_int_equal(siov_domain_unmap(d->dom, 0, 64 * M2), (int64_t)(4 * M2 + K4));
}

static void test_map_pool_exhaustion_rollback(void **state)
{
    (void)state;
    each_kind_fresh(fx_pool48, NULL, map_pool_exhaustion_rollback);
}

/* A domain's free returns every table page, whatever was mapped. */
static void test_free_returns_pages(void **state)
{
    (void)state;
    for (int k = 0; k < NKIND; k++) {
        struct fx *f = fx_new();
        uint64_t base = avail(f);
        struct dut d = dut_new(f, (enum kind)k);
        for (uint64_t i = 0; i < 40; i++)
            assert_int_equal(siov_domain_map(d.dom, i * (G1 / 8) + i * K4, map_pa(&d, HPA + i * K4), 3 * M2, RW), 0);
        assert_int_equal(siov_domain_free(NULL), -EINVAL);
        dut_free(&d);
        assert_int_equal(avail(f), base);
        fx_free(f);
    }
}

/* ----------------------------------------------------------- attaching */

static void test_attach_errors(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *a = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_domain *b = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_attach(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_detach(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_detach(a, SID_A), -ENOENT);
    assert_int_equal(siov_attach(a, SID_A), 0);
    assert_int_equal(siov_attach(a, SID_A), -EEXIST);
    assert_int_equal(siov_attach(b, SID_A), -EBUSY);
    assert_int_equal(siov_detach(b, SID_A), -ENOENT);
    assert_int_equal(siov_domain_free(a), -EBUSY);
    assert_int_equal(siov_attach(a, SID_C), 0); /* one domain, many devices */
    assert_int_equal(siov_domain_map(a, 0, HPA, K4, RW), 0);
    struct siov_xlate x;
    assert_int_equal(tr(f, SID_C, SIOV_NO_PASID, 0, RD, &x), SIOV_OK);
    assert_int_equal(x.addr, HPA);
    /* PASID 0 is RID_PASID: a request that brings it is refused (SCT.9, Table 30) */
    assert_int_equal(tr(f, SID_A, 0, 0, RD, &x), SIOV_FAULT_SCT_9);
    assert_int_equal(siov_detach(a, SID_A), 0);
    assert_int_equal(tr(f, SID_A, SIOV_NO_PASID, 0, RD, NULL), SIOV_FAULT_SRT_2); /* bus 0 released */
    assert_int_equal(tr(f, SID_C, SIOV_NO_PASID, 0, RD, &x), SIOV_OK);
    assert_int_equal(siov_attach(b, SID_A), 0);
    assert_int_equal(tr(f, SID_A, SIOV_NO_PASID, 0, RD, NULL), SIOV_FAULT_SFL_2);
    assert_int_equal(siov_detach(b, SID_A), 0);
    assert_int_equal(siov_detach(a, SID_C), 0);
    assert_int_equal(tr(f, SID_C, SIOV_NO_PASID, 0, RD, NULL), SIOV_FAULT_SRT_2);
    assert_int_equal(siov_domain_free(a), 0);
    assert_int_equal(siov_domain_free(b), 0);
    fx_free(f);
}

static void test_aux_errors(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *a = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    uint64_t base = avail(f);
    assert_int_equal(siov_aux_attach(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_aux_detach(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_aux_pasid(NULL), -EINVAL);
    assert_int_equal(siov_aux_pasid(a), -ENOENT);
    assert_int_equal(siov_aux_attach(a, SID_A), -EINVAL); /* aux not enabled */
    assert_int_equal(siov_attach(a, SID_A), 0);
    assert_int_equal(siov_aux_attach(a, SID_A), -EINVAL); /* attached, still not aux-enabled */
    assert_int_equal(siov_detach(a, SID_A), 0);
    assert_int_equal(avail(f), base);
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    assert_int_equal(siov_aux_detach(a, SID_A), -ENOENT);
    assert_int_equal(siov_aux_attach(a, SID_A), 0);
    int pasid = siov_aux_pasid(a);
    assert_true(pasid >= 1);
    assert_int_equal(siov_aux_attach(a, SID_A), -EEXIST);
    assert_int_equal(siov_dev_disable_aux(f->drv, SID_A), -EBUSY);
    assert_int_equal(siov_domain_free(a), -EBUSY);
    assert_int_equal(siov_aux_detach(a, SID_B), -ENOENT);
    assert_int_equal(siov_aux_detach(a, SID_A), 0);
    assert_int_equal(siov_aux_detach(a, SID_A), -ENOENT);
    assert_int_equal(tr(f, SID_A, (uint32_t)pasid, 0, RD, NULL), SIOV_FAULT_SPT_2);
    assert_int_equal(siov_dev_disable_aux(f->drv, SID_A), 0);
    assert_int_equal(avail(f), base);
    assert_int_equal(siov_domain_free(a), 0);
    fx_free(f);
}

/* One device, many aux domains of every type: each PASID sees its own domain. */
static void test_many_aux_isolated(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    enum { N = 12 };
    struct siov_domain *parent = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(parent, GPA, HPA, G1, RW), 0);
    struct siov_domain *d[N];
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_B), 0);
    for (int i = 0; i < N; i++) {
        switch (i % 4) {
        case 0: d[i] = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL); break;
        case 1: d[i] = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL); break;
        case 2: d[i] = siov_domain_new_nested(parent); break;
        default: d[i] = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH); break;
        }
        assert_non_null(d[i]);
        if (i % 4 != 3) /* the same IOVA, a different page each */
            assert_int_equal(siov_domain_map(d[i], 0x5000, (i % 4 == 2 ? GPA : HPA) + i * K4, K4, RW), 0);
        assert_int_equal(siov_aux_attach(d[i], SID_A), 0);
    }
    struct siov_domain *other = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_domain_map(other, 0x5000, HPA, K4, RW), 0);
    assert_int_equal(siov_aux_attach(other, SID_B), 0); /* a PASID this device does not have */
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            struct siov_xlate x;
            uint32_t pasid = (uint32_t)siov_aux_pasid(d[i]);
            assert_int_equal(tr(f, SID_A, pasid, 0x5123, RD, &x), SIOV_OK);
            assert_int_equal(x.addr, i % 4 == 3 ? 0x5123 : HPA + i * K4 + 0x123);
            assert_int_equal(x.did, siov_domain_did(d[i]));
            assert_int_equal(tr(f, SID_B, pasid, 0x5123, RD, NULL), SIOV_FAULT_SPT_2);
            if (i % 4 != 3)
                assert_int_equal(tr(f, SID_A, pasid, 0x6000, RD, NULL),
                                 i % 4 == 0 ? SIOV_FAULT_SSL_2 : SIOV_FAULT_SFL_2);
        }
        assert_int_equal(tr(f, SID_A, (uint32_t)siov_aux_pasid(other), 0x5000, RD, NULL), SIOV_FAULT_SPT_2);
        assert_int_equal(tr(f, SID_A, SIOV_NO_PASID, 0x5000, RD, NULL), SIOV_FAULT_SPT_2); /* no RID domain */
    }
    /* detaching one leaves the others as they were */
    uint32_t p5 = (uint32_t)siov_aux_pasid(d[5]);
    assert_int_equal(siov_aux_detach(d[5], SID_A), 0);
    assert_int_equal(tr(f, SID_A, p5, 0x5000, RD, NULL), SIOV_FAULT_SPT_2);
    struct siov_xlate x;
    assert_int_equal(tr(f, SID_A, (uint32_t)siov_aux_pasid(d[4]), 0x5000, RD, &x), SIOV_OK);
    assert_int_equal(x.addr, HPA + 4 * K4);
    for (int i = 0; i < N; i++) {
        if (i != 5)
            assert_int_equal(siov_aux_detach(d[i], SID_A), 0);
        assert_int_equal(siov_domain_free(d[i]), 0);
    }
    assert_int_equal(siov_aux_detach(other, SID_B), 0);
    fx_free(f);
}

/* One domain aux-attached to several devices shares its PASID; an unmap
   reaches every device's cached translation. */
static void test_aux_domain_many_devices(void **state)
{
    (void)state;
    static const siov_sid sids[] = {SID_A, SID_B, SID_C, SIOV_SID(9, 31, 7)};
    for (int k = 0; k < NKIND; k++) {
        struct fx *f = fx_new();
        struct dut d = dut_new(f, (enum kind)k);
        assert_int_equal(siov_domain_map(d.dom, 0x40000, map_pa(&d, HPA), 4 * K4, RW), 0);
        for (int i = 0; i < 4; i++) {
            assert_int_equal(siov_dev_enable_aux(f->drv, sids[i]), 0);
            assert_int_equal(siov_aux_attach(d.dom, sids[i]), 0);
        }
        uint32_t pasid = (uint32_t)siov_aux_pasid(d.dom);
        for (int i = 0; i < 4; i++) {
            struct siov_xlate x;
            assert_int_equal(tr(f, sids[i], pasid, 0x41000, RD, &x), SIOV_OK);
            assert_int_equal(x.addr, HPA + K4);
            assert_int_equal(tr(f, sids[i], pasid, 0x41000, RD, &x), SIOV_OK); /* IOTLB hit */
        }
        assert_int_equal(siov_domain_unmap(d.dom, 0x41000, K4), (int64_t)K4);
        for (int i = 0; i < 4; i++)
            assert_int_equal(tr(f, sids[i], pasid, 0x41000, RD, NULL), d.unmapped);
        assert_int_equal(siov_aux_detach(d.dom, sids[2]), 0);
        assert_int_equal(siov_aux_pasid(d.dom), (int)pasid); /* still attached elsewhere */
        assert_int_equal(tr(f, sids[2], pasid, 0x40000, RD, NULL), SIOV_FAULT_SPT_2);
        for (int i = 0; i < 4; i++) {
            struct siov_xlate x;
            if (i == 2)
                continue;
            assert_int_equal(tr(f, sids[i], pasid, 0x40000, RD, &x), SIOV_OK);
            assert_int_equal(x.addr, HPA);
            assert_int_equal(siov_aux_detach(d.dom, sids[i]), 0);
        }
        assert_int_equal(siov_aux_pasid(d.dom), -ENOENT);
        dut_free(&d);
        fx_free(f);
    }
}

/* One unmap whose invalidation needs more descriptors than half the queue
   (one device-TLB invalidation per attached device): the driver submits it
   in several batches, each fenced by its own inv-wait, and every descriptor
   reaches the unit exactly once. */
#define MANY_DEVICES 140
static void test_unmap_invalidates_more_devices_than_a_batch(void **state)
{
    (void)state;
    for (int k = 0; k < NKIND; k++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.pasid_bits = 8; /* one directory page per device */
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        struct dut d = dut_new(f, (enum kind)k);
        assert_int_equal(siov_domain_map(d.dom, 0x40000, map_pa(&d, HPA), 2 * K4, RW), 0);
        siov_sid sids[MANY_DEVICES];
        for (unsigned i = 0; i < MANY_DEVICES; i++) {
            sids[i] = SIOV_SID(1 + i / 32, i % 32, i % 8);
            assert_int_equal(siov_dev_enable_aux(f->drv, sids[i]), 0);
            assert_int_equal(siov_dev_enable_ats(f->drv, sids[i]), 0); /* a device-TLB invalidation each */
            assert_int_equal(siov_aux_attach(d.dom, sids[i]), 0);
        }
        uint32_t pasid = (uint32_t)siov_aux_pasid(d.dom);
        for (unsigned i = 0; i < MANY_DEVICES; i++) {
            struct siov_xlate x;
            assert_int_equal(tr(f, sids[i], pasid, 0x41000, WR, &x), SIOV_OK); /* warm the caches */
            assert_int_equal(x.addr, HPA + K4);
        }
        struct siov_stats before, after;
        siov_iommu_stats(f->iommu, &before);
        assert_int_equal(siov_domain_unmap(d.dom, 0x41000, K4), (int64_t)K4);
        siov_iommu_stats(f->iommu, &after);
        assert_int_equal(after.inv_devtlb - before.inv_devtlb, MANY_DEVICES);
        assert_int_equal(after.inv_piotlb - before.inv_piotlb, k == K_FL ? 1 : 0);
        assert_int_equal(after.inv_iotlb - before.inv_iotlb, k == K_FL ? 0 : 1);
        assert_true(after.inv_wait - before.inv_wait >= 2); /* split into batches */
        assert_false(siov_mmio_read(f->iommu, SIOV_REG_FSTS, 4) & SIOV_FSTS_IQE);
        for (unsigned i = 0; i < MANY_DEVICES; i++) {
            assert_int_equal(tr(f, sids[i], pasid, 0x41000, RD, NULL), d.unmapped);
            assert_int_equal(tr(f, sids[i], pasid, 0x40000, RD, NULL), SIOV_OK);
        }
        for (unsigned i = 0; i < MANY_DEVICES; i++)
            assert_int_equal(siov_aux_detach(d.dom, sids[i]), 0);
        dut_free(&d);
        fx_free(f);
    }
}

/* The first address past a domain's input range: map, unmap and lookup all
   say -ERANGE there, even with the range's first page mapped (the address
   must not wrap onto it); an unknown domain type is -EINVAL. */
static void test_range_end_and_bad_type(void **state)
{
    (void)state;
    for (unsigned c = 0; c < NCONF; c++) {
        struct fx *f = fx_conf(&confs[c]);
        for (int k = 0; k < NKIND; k++) {
            struct dut d = dut_new(f, (enum kind)k);
            assert_int_equal(siov_domain_map(d.dom, 0, map_pa(&d, HPA), K4, RW), 0);
            uint64_t end = K4, pa;
            while (end < (1ull << 62) && siov_domain_map(d.dom, end, map_pa(&d, HPA), K4, RW) != -ERANGE)
                end *= 2; /* the first power of two past the range */
            assert_true(end > K4 && end < (1ull << 62));
            assert_int_equal(siov_domain_iova_to_phys(d.dom, end, &pa), -ERANGE);
            assert_int_equal(siov_domain_iova_to_phys(d.dom, end - K4, &pa), -ENOENT);
            assert_int_equal(siov_domain_unmap(d.dom, end, K4), -ERANGE);
            assert_int_equal(siov_domain_iova_to_phys(d.dom, 0, &pa), 0);
            assert_int_equal(pa, map_pa(&d, HPA));
            dut_free(&d);
        }
        fx_free(f);
    }
    struct fx *f = fx_new();
    errno = 0;
    assert_null(siov_domain_new(f->drv, (enum siov_domain_type)3));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(siov_domain_new(f->drv, (enum siov_domain_type)-1));
    assert_int_equal(errno, EINVAL);
    fx_free(f);
}

/* ret is -err and the driver's last error reads msg exactly. */
static void expect_error(struct fx *f, int64_t ret, int err, const char *msg)
{
    assert_int_equal(ret, -err);
    assert_string_equal(siov_driver_last_error(f->drv), msg);
}

/* The error of a first-level iova outside the lower canonical half of a depth. */
static void noncanonical_msg(char *msg, size_t n, uint64_t iova, bool upper, unsigned levels)
{
    unsigned long long a = iova, lim = 1ull << (levels == 5 ? 56 : 47);
    if (upper)
        snprintf(msg, n, "iova 0x%llx is in the upper canonical half, which the driver does not map (first-level "
                 "domains use [0, 0x%llx))", a, lim);
    else
        snprintf(msg, n, "iova 0x%llx is not canonical for %u-level first-level tables", a, levels);
}

/* A first-level address beyond the lower canonical half: the error says which
   half it is in, at the boundaries of each depth's canonical form. */
static void test_fl_noncanonical_errors(void **state)
{
    (void)state;
    static const struct {
        bool fl5;
        uint64_t iova;
        bool upper; /* in the upper canonical half; else not canonical */
    } cases[] = {
        {false, 0xFFFF800000000000ull, true},  {false, 0xFFFFFFFFFFFFF000ull, true},
        {false, 0xFFFF7FFFFFFFF000ull, false}, {false, 0xFFFF000000000000ull, false},
        {false, 0xFF00000000000000ull, false}, {false, 0x0000800000000000ull, false},
        {true, 0xFF00000000000000ull, true},   {true, 0xFFFF800000000000ull, true},
        {true, 0xFEFFFFFFFFFFF000ull, false},  {true, 0xFE00000000000000ull, false},
        {true, 0x0100000000000000ull, false},
    };
    char msg[256];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.mgaw = cases[i].fl5 ? 57 : 48;
        cfg.sagaw = cases[i].fl5 ? SIOV_SAGAW_5LVL : SIOV_SAGAW_4LVL;
        cfg.fl_5level = cases[i].fl5;
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        unsigned levels = cases[i].fl5 ? 5 : 4;
        uint64_t lim = 1ull << (cases[i].fl5 ? 56 : 47), pa;
        for (int k = K_FL; k < NKIND; k++) {
            struct dut d = dut_new(f, (enum kind)k);
            uint64_t iova = cases[i].iova;
            noncanonical_msg(msg, sizeof(msg), iova, cases[i].upper, levels);
            expect_error(f, siov_domain_map(d.dom, iova, map_pa(&d, HPA), K4, RW), ERANGE, msg);
            expect_error(f, siov_domain_unmap(d.dom, iova, K4), ERANGE, msg);
            noncanonical_msg(msg, sizeof(msg), iova + 0x123, cases[i].upper, levels);
            expect_error(f, siov_domain_iova_to_phys(d.dom, iova + 0x123, &pa), ERANGE, msg);
            /* the last page of the lower half and one beyond */
            snprintf(msg, sizeof(msg), "iova 0x%llx size 0x%llx goes beyond 0x%llx, the end of the lower canonical "
                     "half for %u-level first-level tables", (unsigned long long)(lim - K4),
                     (unsigned long long)(2 * K4), (unsigned long long)lim, levels);
            expect_error(f, siov_domain_map(d.dom, lim - K4, map_pa(&d, HPA), 2 * K4, RW), ERANGE, msg);
            dut_free(&d);
        }
        fx_free(f);
    }
}

/* A domain still in use is not freed, and the error counts what holds it. */
static void test_free_busy_errors(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *p = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    char msg[128];
    unsigned did = (unsigned)siov_domain_did(p);
    assert_int_equal(siov_attach(p, SID_A), 0);
    snprintf(msg, sizeof(msg), "domain %u is still attached (1 attachment)", did);
    expect_error(f, siov_domain_free(p), EBUSY, msg);
    assert_int_equal(siov_attach(p, SID_B), 0);
    snprintf(msg, sizeof(msg), "domain %u is still attached (2 attachments)", did);
    expect_error(f, siov_domain_free(p), EBUSY, msg);
    assert_int_equal(siov_detach(p, SID_A), 0);
    assert_int_equal(siov_detach(p, SID_B), 0);
    struct siov_domain *c1 = siov_domain_new_nested(p);
    assert_non_null(c1);
    snprintf(msg, sizeof(msg), "domain %u is the parent of 1 nested domain", did);
    expect_error(f, siov_domain_free(p), EBUSY, msg);
    struct siov_domain *c2 = siov_domain_new_nested(p);
    assert_non_null(c2);
    snprintf(msg, sizeof(msg), "domain %u is the parent of 2 nested domains", did);
    expect_error(f, siov_domain_free(p), EBUSY, msg);
    assert_int_equal(siov_domain_free(c1), 0);
    assert_int_equal(siov_domain_free(c2), 0);
    assert_int_equal(siov_domain_free(p), 0);
    fx_free(f);
}

/* ---------------------------------------------------------------- nested */

static void test_nested(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *p = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_domain *fl = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    struct siov_domain *pt = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH);
    errno = 0;
    assert_null(siov_domain_new_nested(NULL));
    assert_null(siov_domain_new_nested(fl));
    assert_null(siov_domain_new_nested(pt));
    assert_int_equal(errno, EINVAL);
    uint64_t base = avail(f);
    struct siov_domain *c = siov_domain_new_nested(p);
    assert_non_null(c);
    errno = 0;
    assert_null(siov_domain_new_nested(c));
    assert_int_equal(errno, EINVAL);
    /* the child's root table is reachable through the parent, identity, read/write */
    uint64_t root = 0, got;
    for (uint64_t g = POOL_BASE; g < POOL_BASE + POOL_SIZE && !root; g += K4)
        if (siov_domain_iova_to_phys(p, g, &got) == 0)
            root = g;
    assert_true(root != 0);
    assert_int_equal(got, root);
    assert_int_equal(siov_domain_unmap(p, root, K4), -EBUSY);
    assert_int_equal(siov_domain_unmap(p, POOL_BASE, POOL_SIZE), -EBUSY);
    assert_int_equal(siov_domain_map(p, root, HPA, K4, RW), -EEXIST);
    assert_int_equal(siov_domain_free(p), -EBUSY);

    assert_int_equal(siov_domain_map(p, GPA, HPA, 2 * M2, RW), 0);
    assert_int_equal(siov_domain_map(c, 0x7000, GPA + M2 + 3 * K4, K4, RW), 0);
    assert_int_equal(siov_domain_map(c, 0x9000, GPA + 4 * M2, K4, RW), 0); /* GPA the parent does not map */
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_B), 0);
    assert_int_equal(siov_aux_attach(c, SID_B), 0);
    assert_int_equal(siov_attach(c, SID_A), 0);
    uint32_t pasid = (uint32_t)siov_aux_pasid(c);
    struct siov_xlate x;
    assert_int_equal(tr(f, SID_B, pasid, 0x7010, RD | WR, &x), SIOV_OK);
    assert_int_equal(x.addr, HPA + M2 + 3 * K4 + 0x10);
    assert_int_equal(x.did, siov_domain_did(c));
    assert_int_equal(tr(f, SID_A, SIOV_NO_PASID, 0x7010, RD, &x), SIOV_OK);
    assert_int_equal(tr(f, SID_B, pasid, 0x9000, RD, NULL), SIOV_FAULT_SSL_2);
    /* a parent unmap reaches the nested translations cached under the child's DID */
    assert_int_equal(siov_domain_unmap(p, GPA + M2, M2), (int64_t)M2);
    assert_int_equal(tr(f, SID_B, pasid, 0x7010, RD, NULL), SIOV_FAULT_SSL_2);
    assert_int_equal(tr(f, SID_A, SIOV_NO_PASID, 0x7010, RD, NULL), SIOV_FAULT_SSL_2);
    assert_int_equal(siov_domain_map(p, GPA + M2, HPA + 7 * M2, M2, SIOV_PROT_READ), 0);
    assert_int_equal(tr(f, SID_B, pasid, 0x7010, RD, &x), SIOV_OK);
    assert_int_equal(x.addr, HPA + 7 * M2 + 3 * K4 + 0x10);
    assert_int_equal(tr(f, SID_B, pasid, 0x7010, WR, NULL), SIOV_FAULT_SGN_6); /* parent read-only */
    /* tear down: child's tables leave the parent */
    assert_int_equal(siov_detach(c, SID_A), 0);
    assert_int_equal(siov_aux_detach(c, SID_B), 0);
    assert_int_equal(siov_domain_free(c), 0);
    assert_int_equal(siov_dev_disable_aux(f->drv, SID_B), 0);
    assert_int_equal(siov_domain_iova_to_phys(p, root, &got), -ENOENT);
    assert_int_equal(siov_domain_unmap(p, GPA, 4 * M2), (int64_t)(2 * M2));
    assert_int_equal(avail(f), base);
    assert_int_equal(siov_domain_free(p), 0);
    fx_free(f);
}

/* A nested domain whose table page cannot be mapped in the parent. */
static void test_nested_parent_conflict(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *p = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    uint64_t base = avail(f);
    assert_int_equal(siov_domain_map(p, POOL_BASE, HPA, POOL_SIZE, RW), 0); /* the whole pool */
    uint64_t mapped = avail(f);
    errno = 0;
    assert_null(siov_domain_new_nested(p));
    assert_int_equal(errno, EEXIST);
    assert_int_equal(avail(f), mapped);
    assert_int_equal(siov_domain_unmap(p, POOL_BASE, POOL_SIZE), (int64_t)POOL_SIZE);
    assert_int_equal(avail(f), base);
    assert_int_equal(siov_domain_free(p), 0);
    fx_free(f);
}

/* ------------------------------------------------ pass-through, permissions */

static void test_pass_through(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *pt = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH);
    assert_int_equal(siov_domain_map(pt, 0, 0, K4, RW), -EINVAL);
    assert_int_equal(siov_domain_unmap(pt, 0, K4), -EINVAL);
    uint64_t got;
    assert_int_equal(siov_domain_iova_to_phys(pt, 0x123456789, &got), 0);
    assert_int_equal(got, 0x123456789);
    assert_int_equal(siov_attach(pt, SID_A), 0);
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    assert_int_equal(siov_aux_attach(pt, SID_A), 0);
    struct siov_xlate x;
    assert_int_equal(tr(f, SID_A, SIOV_NO_PASID, 0x3456789, WR, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x3456789);
    assert_int_equal(tr(f, SID_A, (uint32_t)siov_aux_pasid(pt), 0x2000, RD, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x2000);
    assert_int_equal(x.did, siov_domain_did(pt));
    assert_int_equal(siov_aux_detach(pt, SID_A), 0);
    assert_int_equal(siov_detach(pt, SID_A), 0);
    assert_int_equal(siov_domain_free(pt), 0);
    fx_free(f);
}

/* One 4 KiB page, translated on both attachments. */
static void map_one_page(struct dut *d, const struct conf *c)
{
    (void)c;
    assert_int_equal(siov_domain_map(d->dom, 3 * M2, map_pa(d, HPA), K4, RW), 0);
    expect_mapped(d, 3 * M2 + 0x456, HPA + 0x456, K4);
}

/* A unit without execute or supervisor requests (ECAP.ERS = SRS = 0): the
   PASID entries set neither ERE nor SRE, which it would refuse (SPT.4). */
static void test_no_exec_no_supervisor(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.exec_req = false;
    cfg.supervisor_req = false;
    struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
    for (int k = 0; k < NKIND; k++) /* one unit for all kinds */
        with_attached(f, (enum kind)k, map_one_page, NULL);
    fx_free(f);
}

/* Legacy mode with more widths in SAGAW than the driver needs: a
   second-level domain's context entry carries the depth of its own tables,
   and a pass-through one stays subject to fault recording (FPD clear). */
static void test_legacy_entries(void **state)
{
    (void)state;
    static const unsigned mgaws[] = {39, 48};
    for (size_t i = 0; i < sizeof(mgaws) / sizeof(mgaws[0]); i++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.scalable = false;
        cfg.sagaw = SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL;
        cfg.mgaw = mgaws[i];
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        struct siov_domain *sl = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
        struct siov_domain *pt = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH);
        uint64_t iova = 3 * G1 + 5 * M2 + 7 * K4;
        assert_int_equal(siov_domain_map(sl, iova, HPA, K4, RW), 0);
        assert_int_equal(siov_attach(sl, SID_A), 0);
        assert_int_equal(siov_attach(pt, SID_B), 0);
        struct siov_xlate x;
        assert_int_equal(tr(f, SID_A, SIOV_NO_PASID, iova + 0x89, RD, &x), SIOV_OK);
        assert_int_equal(x.addr, HPA + 0x89);
        assert_int_equal(x.did, siov_domain_did(sl));
        assert_int_equal(tr(f, SID_B, SIOV_NO_PASID, iova + 0x89, WR, &x), SIOV_OK);
        assert_int_equal(x.addr, iova + 0x89);
        assert_int_equal(x.did, siov_domain_did(pt));
        /* beyond the host address width: LGN.1, recorded in the first fault record */
        assert_int_equal(siov_mmio_read(f->iommu, SIOV_REG_FSTS, 4) & SIOV_FSTS_PPF, 0);
        assert_int_equal(tr(f, SID_B, SIOV_NO_PASID, 1ull << cfg.haw, RD, NULL), SIOV_FAULT_LGN_1);
        uint64_t rec = siov_mmio_read(f->iommu, SIOV_REG_FRCD + 8, 8);
        assert_true(rec & SIOV_FRCD1_F);
        assert_int_equal(siov_get(rec, SIOV_FRCD1_FR), SIOV_FAULT_LGN_1);
        assert_int_equal(siov_get(rec, SIOV_FRCD1_SID), SID_B);
        assert_int_equal(siov_detach(sl, SID_A), 0);
        assert_int_equal(siov_detach(pt, SID_B), 0);
        assert_int_equal(siov_domain_free(sl), 0);
        assert_int_equal(siov_domain_free(pt), 0);
        fx_free(f);
    }
}

/* First level: write-only is readable, PRIV pages refuse user requests, WPE. */
static void fl_permissions(struct dut *d, const struct conf *c)
{
    (void)c;
    struct fx *f = d->f;
    uint32_t pasid = (uint32_t)siov_aux_pasid(d->dom);
    struct siov_domain *dom = d->dom;
    assert_int_equal(siov_domain_map(dom, 0x1000, HPA, K4, SIOV_PROT_READ), 0);
    assert_int_equal(siov_domain_map(dom, 0x2000, HPA, K4, RW | SIOV_PROT_PRIV), 0);
    assert_int_equal(siov_domain_map(dom, 0x3000, HPA, K4, SIOV_PROT_READ | SIOV_PROT_EXEC), 0);
    assert_int_equal(siov_domain_map(dom, 0x4000, HPA, K4, SIOV_PROT_WRITE), 0);
    struct siov_xlate x;
    assert_int_equal(tr(f, SID_B, pasid, 0x1000, WR, NULL), SIOV_FAULT_SGN_6);
    assert_int_equal(tr(f, SID_B, pasid, 0x1000, WR | SIOV_ACCESS_PRIV, NULL), SIOV_FAULT_SGN_6); /* WPE */
    assert_int_equal(tr(f, SID_B, pasid, 0x1000, RD, &x), SIOV_OK);
    assert_int_equal(x.perm, SIOV_ACCESS_READ);
    assert_int_equal(tr(f, SID_B, pasid, 0x2000, RD, NULL), SIOV_FAULT_SGN_2);
    assert_int_equal(tr(f, SID_B, pasid, 0x2000, WR | SIOV_ACCESS_PRIV, &x), SIOV_OK);
    assert_int_equal(tr(f, SID_B, pasid, 0x1000, SIOV_ACCESS_EXEC, NULL), SIOV_FAULT_SGN_3);
    assert_int_equal(tr(f, SID_B, pasid, 0x3000, SIOV_ACCESS_EXEC, &x), SIOV_OK);
    assert_int_equal(x.perm, SIOV_ACCESS_READ | SIOV_ACCESS_EXEC);
    assert_int_equal(tr(f, SID_B, pasid, 0x4000, RD | WR, &x), SIOV_OK); /* first level: always readable */
    assert_int_equal(x.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE);
}

/* Second level: PRIV is ignored, write-only is not readable. */
static void sl_permissions(struct dut *d, const struct conf *c)
{
    (void)c;
    struct fx *f = d->f;
    struct siov_domain *dom = d->dom;
    uint32_t pasid = (uint32_t)siov_aux_pasid(dom); /* execute requests carry a PASID */
    struct siov_xlate x;
    assert_int_equal(siov_domain_map(dom, 0x1000, HPA, K4, SIOV_PROT_READ | SIOV_PROT_PRIV), 0); /* PRIV ignored */
    assert_int_equal(siov_domain_map(dom, 0x2000, HPA, K4, SIOV_PROT_WRITE), 0);
    assert_int_equal(siov_domain_map(dom, 0x3000, HPA, K4, SIOV_PROT_READ | SIOV_PROT_EXEC), 0);
    assert_int_equal(tr(f, SID_B, pasid, 0x1000, WR, NULL), SIOV_FAULT_SGN_6);
    assert_int_equal(tr(f, SID_B, pasid, 0x1000, RD, &x), SIOV_OK);
    assert_int_equal(x.perm, SIOV_ACCESS_READ);
    assert_int_equal(tr(f, SID_B, pasid, 0x2000, RD, NULL), SIOV_FAULT_SGN_7);
    assert_int_equal(tr(f, SID_B, pasid, 0x2000, WR, &x), SIOV_OK);
    assert_int_equal(tr(f, SID_B, pasid, 0x1000, SIOV_ACCESS_EXEC, NULL), SIOV_FAULT_SGN_3);
    assert_int_equal(tr(f, SID_B, pasid, 0x3000, SIOV_ACCESS_EXEC, &x), SIOV_OK);
}

static void test_permissions(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    with_attached(f, K_FL, fl_permissions, NULL);
    with_attached(f, K_SL, sl_permissions, NULL);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_each_page_size),
        cmocka_unit_test(test_map_width_limits),
        cmocka_unit_test(test_map_largest_fit),
        cmocka_unit_test(test_map_errors),
        cmocka_unit_test(test_unmap_splits),
        cmocka_unit_test(test_unmap_split_no_memory),
        cmocka_unit_test(test_unmap_split_exact_reserve),
        cmocka_unit_test(test_map_pool_exhaustion_rollback),
        cmocka_unit_test(test_free_returns_pages),
        cmocka_unit_test(test_attach_errors),
        cmocka_unit_test(test_aux_errors),
        cmocka_unit_test(test_many_aux_isolated),
        cmocka_unit_test(test_aux_domain_many_devices),
        cmocka_unit_test(test_unmap_invalidates_more_devices_than_a_batch),
        cmocka_unit_test(test_range_end_and_bad_type),
        cmocka_unit_test(test_fl_noncanonical_errors),
        cmocka_unit_test(test_free_busy_errors),
        cmocka_unit_test(test_nested),
        cmocka_unit_test(test_nested_parent_conflict),
        cmocka_unit_test(test_pass_through),
        cmocka_unit_test(test_no_exec_no_supervisor),
        cmocka_unit_test(test_legacy_entries),
        cmocka_unit_test(test_permissions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

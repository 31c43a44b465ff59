/* The reference driver's errors: every failing path of its public calls
 * returns its errno and leaves the cause in siov_driver_last_error
 * (src/driver/last_error.c and the files that find the failures). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver_fixture.h"
#include "testlib.h"

#define MEM_SIZE (64ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (16ull << 20)
#define DATA 0x2000000ull
#define SID_A SIOV_SID(0, 5, 0) /* 00:05.0 */
#define SID_B SIOV_SID(0, 6, 0) /* 00:06.0 */
#define RW (SIOV_PROT_READ | SIOV_PROT_WRITE)

struct fx {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
};

/* A unit configured by tweak (NULL: defaults) and a driver over a pool of pool_size. */
static struct fx *fx_new_with(void (*tweak)(struct siov_iommu_config *), uint64_t pool_size)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    if (tweak)
        tweak(&cfg);
    f->mem = siov_mem_new_flat(MEM_SIZE);
    f->iommu = siov_iommu_new(f->mem, &cfg);
    assert_non_null(f->iommu);
    f->drv = siov_driver_new(f->iommu, f->mem, POOL_BASE, pool_size);
    assert_non_null(f->drv);
    return f;
}

static struct fx *fx_new(void)
{
    return fx_new_with(NULL, POOL_SIZE);
}

static void fx_free(struct fx *f)
{
    siov_driver_free(f->drv);
    siov_iommu_free(f->iommu);
    siov_mem_free(f->mem);
    free(f);
}

static const char *why(struct fx *f)
{
    return siov_driver_last_error(f->drv);
}

/* ret is -err and the last error reads msg. */
#define FAILS(f, call, err, msg)                      \
    do {                                              \
        assert_int_equal((call), -(err));             \
        assert_string_equal(why(f), (msg));           \
    } while (0)

/* A NULL domain and errno err, with the last error msg. */
#define FAILS_NULL(f, call, err, msg)                 \
    do {                                              \
        errno = 0;                                    \
        assert_null(call);                            \
        assert_int_equal(errno, (err));               \
        assert_string_equal(why(f), (msg));           \
    } while (0)

static uint64_t r64(struct fx *f, uint64_t gpa)
{
    return drv_fx_r64(f->mem, gpa);
}

static void w64(struct fx *f, uint64_t gpa, uint64_t v)
{
    uint8_t b[8];
    for (int i = 0; i < 8; i++, v >>= 8)
        b[i] = (uint8_t)v;
    assert_int_equal(siov_mem_write(f->mem, gpa, b, 8), 0);
}

/* The PASID directory entry of pasid on a bus-0 device below devfn 0x80, read
   the way the unit reads it: RTADDR, root entry, context entry. */
static uint64_t pde_gpa(struct fx *f, siov_sid sid, uint32_t pasid)
{
    uint64_t root = siov_mmio_read(f->iommu, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
    uint64_t ctx = (r64(f, root) & SIOV_SRE0_LCTP) + SIOV_SID_DEVFN(sid) * SIOV_SM_CTX_ENTRY_SIZE;
    return (r64(f, ctx) & SIOV_SCE0_PASIDDIRPTR) + (pasid >> 6) * SIOV_PDE_SIZE;
}

static uint64_t pasid_entry_gpa(struct fx *f, siov_sid sid, uint32_t pasid)
{
    return (r64(f, pde_gpa(f, sid, pasid)) & SIOV_PDE_SMPTBLPTR) + (pasid & 63) * SIOV_PTE_SIZE;
}

/* ------------------------------------------------------------ basics */
static void test_initial_and_null(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_string_equal(why(f), "");
    assert_string_equal(siov_driver_last_error(NULL), "");
    /* NULL objects: nothing to hold the cause, nothing changes */
    assert_int_equal(siov_domain_map(NULL, 0, 0, 4096, RW), -EINVAL);
    assert_int_equal(siov_dev_enable_aux(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_dev_disable_aux(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_attach(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_aux_detach(NULL, SID_A), -EINVAL);
    errno = 0;
    assert_null(siov_domain_new(NULL, SIOV_DOMAIN_FIRST_LEVEL));
    assert_int_equal(errno, EINVAL);
    assert_string_equal(why(f), "");
    fx_free(f);
}

/* A call that succeeds keeps the last failure, even when one of its own
   steps failed and it recovered (domain_free does not report its flush). */
static void test_success_keeps_last_error(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    FAILS(f, siov_domain_map(d, 0, DATA, 0, RW), EINVAL, "size 0");
    assert_int_equal(siov_domain_map(d, 0, DATA, 0x1000, RW), 0);
    assert_string_equal(why(f), "size 0");
    uint64_t status = (siov_mmio_read(f->iommu, SIOV_REG_IQA, 8) & SIOV_IQA_IQA) + 4096;
    assert_int_equal(siov_mem_fail_range(f->mem, status, 4096, SIOV_MEM_FAIL_WRITE), 0);
    assert_int_equal(siov_domain_free(d), 0);
    assert_string_equal(why(f), "size 0");
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    fx_free(f);
}

/* ------------------------------------------------------- map arguments */
static void test_map_arguments(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_domain *pt = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH);
    assert_int_equal(siov_domain_did(d), 1);
    FAILS(f, siov_domain_map(d, 0x10000, DATA, 0, RW), EINVAL, "size 0");
    FAILS(f, siov_domain_map(d, 0x1001, DATA, 0x1000, RW), EINVAL, "iova 0x1001 not 4 KiB aligned");
    FAILS(f, siov_domain_map(d, 0x1000, DATA, 0x1001, RW), EINVAL, "size 0x1001 not a multiple of 4 KiB");
    FAILS(f, siov_domain_map(d, 0x1000, DATA + 1, 0x1000, RW), EINVAL, "pa 0x2000001 not 4 KiB aligned");
    FAILS(f, siov_domain_map(d, 0x1000, DATA, 0x1000, RW | 0x10), EINVAL,
          "prot 0x13 has bits other than SIOV_PROT_READ/WRITE/EXEC/PRIV");
    FAILS(f, siov_domain_map(d, 0x1000, DATA, 0x1000, SIOV_PROT_EXEC), EINVAL,
          "prot 0x4 grants neither READ nor WRITE");
    FAILS(f, siov_domain_map(pt, 0x1000, DATA, 0x1000, RW), EINVAL, "domain 2 is pass-through: it has no page tables");
    FAILS(f, siov_domain_unmap(pt, 0x1000, 0x1000), EINVAL, "domain 2 is pass-through: it has no page tables");
    FAILS(f, siov_domain_unmap(d, 0x1000, 0), EINVAL, "size 0");
    FAILS(f, siov_domain_unmap(d, 0x800, 0x1000), EINVAL, "iova 0x800 not 4 KiB aligned");
    /* nothing was mapped by any of them */
    assert_int_equal(siov_domain_unmap(d, 0, 1ull << 40), 0);
    fx_free(f);
}

static void test_map_ranges(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *sl = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_domain *fl = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    FAILS(f, siov_domain_map(sl, 1ull << 48, DATA, 0x1000, RW), ERANGE,
          "iova 0x1000000000000 is beyond 0x1000000000000, the 48-bit input range of domain 1");
    FAILS(f, siov_domain_map(sl, (1ull << 48) - 0x1000, DATA, 0x2000, RW), ERANGE,
          "iova 0xfffffffff000 size 0x2000 goes beyond 0x1000000000000, the 48-bit input range of domain 1");
    FAILS(f, siov_domain_map(fl, 0x800000000000ull, DATA, 0x1000, RW), ERANGE,
          "iova 0x800000000000 is not canonical for 4-level first-level tables");
    FAILS(f, siov_domain_map(fl, 0xffff800000000000ull, DATA, 0x1000, RW), ERANGE,
          "iova 0xffff800000000000 is in the upper canonical half, which the driver does not map "
          "(first-level domains use [0, 0x800000000000))");
    FAILS(f, siov_domain_map(fl, 0x7ffffffff000ull, DATA, 0x2000, RW), ERANGE,
          "iova 0x7ffffffff000 size 0x2000 goes beyond 0x800000000000, the end of the lower canonical half "
          "for 4-level first-level tables");
    FAILS(f, siov_domain_unmap(fl, 0x800000000000ull, 0x1000), ERANGE,
          "iova 0x800000000000 is not canonical for 4-level first-level tables");
    FAILS(f, siov_domain_map(sl, 0, 1ull << 52, 0x1000, RW), ERANGE,
          "pa 0x10000000000000 size 0x1000 goes beyond 0x10000000000000 (52-bit addresses)");
    assert_int_equal(siov_domain_map(sl, 0, (1ull << 52) - 0x1000, 0x1000, RW), 0); /* ends at the limit */
    assert_int_equal(siov_domain_unmap(sl, 0, 0x1000), 0x1000);
    /* a nested domain's pa is a guest address of its parent */
    struct siov_domain *n = siov_domain_new_nested(sl);
    assert_non_null(n);
    FAILS(f, siov_domain_map(n, 0, 1ull << 48, 0x1000, RW), ERANGE,
          "pa 0x1000000000000 size 0x1000 goes beyond 0x1000000000000, the parent's input range "
          "(a nested domain maps guest addresses)");
    fx_free(f);
}

/* 5-level first-level tables: canonical means bits 63..56 equal. */
static void five_level(struct siov_iommu_config *c)
{
    c->mgaw = 57;
    c->sagaw = SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL;
}

static void test_map_ranges_5level(void **state)
{
    (void)state;
    struct fx *f = fx_new_with(five_level, POOL_SIZE);
    struct siov_domain *fl = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_domain_map(fl, 0x800000000000ull, DATA, 0x1000, RW), 0);
    FAILS(f, siov_domain_map(fl, 1ull << 56, DATA, 0x1000, RW), ERANGE,
          "iova 0x100000000000000 is not canonical for 5-level first-level tables");
    fx_free(f);
}

static void test_map_overlap(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0x10000, DATA, 0x10000, RW), 0);
    FAILS(f, siov_domain_map(d, 0x18000, DATA, 0x10000, RW), EEXIST,
          "[0x18000, 0x28000) overlaps [0x10000, 0x20000) mapped earlier");
    FAILS(f, siov_domain_map(d, 0x8000, DATA, 0x9000, RW), EEXIST,
          "[0x8000, 0x11000) overlaps [0x10000, 0x20000) mapped earlier");
    /* large pages: the extent is counted in leaves of any size */
    assert_int_equal(siov_domain_map(d, 0x40000000, 0x40000000, 0x400000, RW), 0);
    FAILS(f, siov_domain_map(d, 0x40201000, DATA, 0x1000, RW), EEXIST,
          "[0x40201000, 0x40202000) overlaps [0x40000000, 0x40400000) mapped earlier");
    assert_int_equal(siov_domain_unmap(d, 0, 1ull << 40), 0x10000 + 0x400000);
    fx_free(f);
}

/* An extent of 800 4 KiB leaves before the overlap is described whole: each
   leaf is one step back (the walk's budget is 1024 steps). */
static void test_map_overlap_long_extent(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    /* iova and pa differ in their offset within 2 MiB: 4 KiB leaves only */
    assert_int_equal(siov_domain_map(d, 0x1000, DATA, 800 * 0x1000, RW), 0);
    FAILS(f, siov_domain_map(d, 0x320000, DATA, 0x2000, RW), EEXIST,
          "[0x320000, 0x322000) overlaps [0x1000, 0x321000) mapped earlier");
    fx_free(f);
}

/* Longer extents are described as far as the budget reaches: 1024 leaves
   back from the overlap and 1024 on from it, no more. */
static void test_map_overlap_extent_budget(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0x1000, DATA, 2200 * 0x1000, RW), 0); /* leaves 1..2200 */
    FAILS(f, siov_domain_map(d, 1100 * 0x1000, DATA, 0x1000, RW), EEXIST,
          "[0x44c000, 0x44d000) overlaps [0x4c000, 0x84c000) mapped earlier"); /* leaves 76..2123 */
    fx_free(f);
}

/* An extent that reaches address 0 or the domain's last page stops there. */
static void test_map_overlap_at_the_ends(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    const uint64_t last = (1ull << 48) - 0x1000; /* 4-level second level: 48-bit input */
    assert_int_equal(siov_domain_map(d, 0, DATA, 0x2000, RW), 0);
    assert_int_equal(siov_domain_map(d, last - 0x1000, DATA + 0x2000, 0x2000, RW), 0);
    FAILS(f, siov_domain_map(d, 0x1000, DATA, 0x2000, RW), EEXIST,
          "[0x1000, 0x3000) overlaps [0x0, 0x2000) mapped earlier");
    FAILS(f, siov_domain_map(d, last, DATA, 0x1000, RW), EEXIST,
          "[0xfffffffff000, 0x1000000000000) overlaps [0xffffffffe000, 0x1000000000000) mapped earlier");
    fx_free(f);
}

#define HIGH (1ull << 39)
#define PIECE (16ull << 20)

/* A nested domain's table pages are identity-mapped in its parent: with the
   pool past a 3-level parent's 39-bit input range, the first one cannot be,
   and the nested domain is refused with -ERANGE saying where. */
static void test_nested_tables_beyond_the_parent(void **state)
{
    (void)state;
    struct tl_pieces m = {{0, HIGH}, {PIECE, PIECE}, {NULL, NULL}}; /* callbacks: no 512 GiB mapping */
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.sagaw = SIOV_SAGAW_3LVL;
    cfg.mgaw = 39;
    struct fx f = {tl_pieces_mem(&m), NULL, NULL};
    f.iommu = siov_iommu_new(f.mem, &cfg);
    assert_non_null(f.iommu);
    f.drv = siov_driver_new(f.iommu, f.mem, HIGH, PIECE);
    assert_non_null(f.drv);
    struct siov_domain *parent = siov_domain_new(f.drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(parent);
    unsigned avail = siov_driver_pool_avail(f.drv);
    errno = 0;
    assert_null(siov_domain_new_nested(parent));
    assert_int_equal(errno, ERANGE);
    assert_true(strstr(why(&f), "goes beyond 0x8000000000, the input range of domain") != NULL);
    assert_int_equal(siov_driver_pool_avail(f.drv), avail); /* nothing held */
    siov_driver_free(f.drv);
    siov_iommu_free(f.iommu);
    siov_mem_free(f.mem);
    tl_pieces_free(&m);
}

/* ---------------------------------------------------- pool and memory */
static void test_pool_exhausted(void **state)
{
    (void)state;
    /* 5 pages for bring-up (with the interrupt remapping table and the page
       request queue), 1 for the domain's root, 1 more: a 4K map needs 3 */
    struct fx *f = fx_new_with(NULL, 7 * 4096);
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(d);
    FAILS(f, siov_domain_map(d, 0, DATA, 0x1000, RW), ENOMEM, "table pool exhausted: 1 page needed, 0 free (of 7)");
    assert_int_equal(siov_driver_pool_avail(f->drv), 1); /* rolled back */
    assert_non_null(siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL));
    FAILS_NULL(f, siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL), ENOMEM,
               "table pool exhausted: 1 page needed, 0 free (of 7)");
    /* a device needs its context table and a 32-page PASID directory */
    FAILS(f, siov_dev_enable_aux(f->drv, SID_A), ENOMEM, "table pool exhausted: 1 page needed, 0 free (of 7)");
    fx_free(f);

    f = fx_new_with(NULL, 20 * 4096);
    FAILS(f, siov_dev_enable_aux(f->drv, SID_A), ENOMEM, "table pool exhausted: 32 pages needed, 14 free (of 20)");
    struct siov_domain *pt = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH);
    FAILS(f, siov_attach(pt, SID_A), ENOMEM, "table pool exhausted: 32 pages needed, 14 free (of 20)");
    assert_int_equal(siov_driver_pool_avail(f->drv), 15);
    fx_free(f);
}

static void test_guest_memory_fails(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    uint64_t next = POOL_BASE + 6 * 4096; /* the lowest free pool page: 5 for bring-up, 1 root */
    assert_int_equal(siov_mem_fail_range(f->mem, next, 4096, SIOV_MEM_FAIL_WRITE), 0);
    FAILS(f, siov_domain_map(d, 0, DATA, 0x1000, RW), EFAULT, "guest memory at 0x106000 is not writable");
    assert_int_equal(siov_mem_fail_range(f->mem, POOL_BASE + 5 * 4096, 4096, SIOV_MEM_FAIL_READ), 0);
    FAILS(f, siov_domain_map(d, 0, DATA, 0x1000, RW), EFAULT, "guest memory at 0x105000 is not readable");
    uint64_t pa = 0;
    FAILS(f, siov_domain_iova_to_phys(d, 0, &pa), EFAULT, "guest memory at 0x105000 is not readable");
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    fx_free(f);
}

/* ------------------------------------------------------- interrupts */
static void no_irq_remapping(struct siov_iommu_config *c)
{
    c->irq_remapping = false;
}

/* The interrupt remapping table's entries not writable or readable, a
   message outside the interrupt range, a unit without interrupt remapping. */
static void test_irq_errors(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint64_t irt = siov_mmio_read(f->iommu, SIOV_REG_IRTA, 8) & SIOV_IRTA_IRTA;
    struct siov_msi m = {0, 0};
    /* qw1 is written first, then qw0: either failing frees the index */
    static const uint64_t at[] = {8, 0};
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(siov_mem_fail_range(f->mem, irt + at[i], 8, SIOV_MEM_FAIL_WRITE), 0);
        /* the guest-memory write is the first cause found */
        char msg[80];
        snprintf(msg, sizeof(msg), "guest memory at 0x%llx is not writable", (unsigned long long)(irt + at[i]));
        FAILS(f, siov_dev_irq_alloc(f->drv, SID_A, 1, 0x40, &m), EFAULT, msg);
        assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
        assert_int_equal(r64(f, irt) & SIOV_IRTE0_P, 0);
    }
    assert_int_equal(siov_dev_irq_alloc(f->drv, SID_A, 1, 0x40, &m), 0);
    assert_int_equal(m.addr, siov_msi_remap_addr(0, false)); /* index 0 came back */
    assert_int_equal(siov_mem_fail_range(f->mem, irt, 16, SIOV_MEM_FAIL_READ), 0);
    char msg[80];
    snprintf(msg, sizeof(msg), "guest memory at 0x%llx is not readable", (unsigned long long)irt);
    FAILS(f, siov_dev_irq_set_affinity(f->drv, SID_A, &m, 2, 0x41), EFAULT, msg);
    assert_int_equal(siov_mem_fail_range(f->mem, irt, 16, SIOV_MEM_FAIL_WRITE), 0);
    snprintf(msg, sizeof(msg), "guest memory at 0x%llx is not writable", (unsigned long long)irt);
    FAILS(f, siov_dev_irq_set_affinity(f->drv, SID_A, &m, 2, 0x41), EFAULT, msg);
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    struct siov_irq out;
    assert_int_equal(siov_interrupt(f->iommu, SID_A, m.addr, m.data, &out), SIOV_OK);
    assert_int_equal(out.vector, 0x40); /* unchanged */
    assert_int_equal(out.dest, 1);
    struct siov_msi above = {0xFEF00010, 0};
    FAILS(f, siov_dev_irq_free(f->drv, SID_A, &above), EINVAL,
          "message 0xfef00010 data 0x0 is not one the driver makes");
    fx_free(f);

    f = fx_new_with(no_irq_remapping, POOL_SIZE);
    FAILS(f, siov_dev_irq_alloc(f->drv, SID_A, 1, 0x40, &m), ENODEV, "the unit has no interrupt remapping (ECAP.IR)");
    FAILS(f, siov_dev_irq_alloc(f->drv, SID_A, 1, 15, &m), EINVAL, "vector 15 is reserved (vectors 0-15)");
    FAILS(f, siov_dev_irq_set_affinity(f->drv, SID_A, &m, 1, 0x40), ENODEV,
          "the unit has no interrupt remapping (ECAP.IR)");
    FAILS(f, siov_dev_irq_alloc(f->drv, SID_A, 1, 15, &m), EINVAL, "vector 15 is reserved (vectors 0-15)");
    FAILS(f, siov_dev_irq_free(f->drv, SID_A, &m), ENODEV, "the unit has no interrupt remapping (ECAP.IR)");
    fx_free(f);
}

/* ------------------------------------------------------- the queue */
static void test_queue_errors(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0, DATA, 0x4000, RW), 0);
    uint64_t iq = siov_mmio_read(f->iommu, SIOV_REG_IQA, 8) & SIOV_IQA_IQA;
    uint64_t head = siov_mmio_read(f->iommu, SIOV_REG_IQH, 8);
    assert_int_equal(siov_mem_fail_range(f->mem, iq, 4096, SIOV_MEM_FAIL_READ), 0);
    char msg[128];
    snprintf(msg, sizeof(msg), "invalidation queue error (FSTS 0x10: IQE) at IQH 0x%llx; the rest was dropped",
             (unsigned long long)head);
    FAILS(f, (int)siov_domain_unmap(d, 0, 0x1000), EIO, msg);
    assert_int_equal(siov_mem_fail_range(f->mem, iq + 4096, 4096, SIOV_MEM_FAIL_WRITE), 0);
    unsigned seq = 4; /* bring-up (interrupt remapping, then the root table) and the failed unmap used 1 to 3 */
    snprintf(msg, sizeof(msg), "inv-wait %u: its status write to 0x%llx did not arrive", seq,
             (unsigned long long)(iq + 4096));
    FAILS(f, (int)siov_domain_unmap(d, 0x1000, 0x1000), ETIMEDOUT, msg);
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    fx_free(f);
}

/* A device that never completes its device-TLB invalidation: the unit
   reports ITE with the device's id (IQERCD.ITESID) and aborts the wait. */
static void expire_inv(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                       unsigned itag)
{
    (void)sid, (void)pasid, (void)addr, (void)size, (void)global, (void)itag;
    siov_iommu_expire(opaque);
}

static void test_devtlb_timeout(void **state)
{
    (void)state;
    static const struct siov_device_ops ops = {expire_inv, NULL};
    struct fx *f = fx_new();
    assert_int_equal(siov_device_port(f->iommu, SID_B, &ops, f->iommu), 0);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_B), 0);
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0, DATA, 0x2000, RW), 0);
    assert_int_equal(siov_attach(d, SID_B), 0);
    FAILS(f, (int)siov_domain_unmap(d, 0x1000, 0x1000), ETIMEDOUT,
          "a device-TLB invalidation timed out (ITE, device 0x0030); its wait was aborted");
    fx_free(f);
}

/* The queue's next slot, or the one after it (the inv-wait's), cannot be
   written: -EFAULT for that address, and IQT stays where it was (the unit
   is given nothing). */
static void test_queue_slot_not_writable(void **state)
{
    (void)state;
    for (unsigned slot = 0; slot < 2; slot++) {
        struct fx *f = fx_new();
        struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(siov_domain_map(d, 0, DATA, 0x4000, RW), 0);
        uint64_t iqa = siov_mmio_read(f->iommu, SIOV_REG_IQA, 8);
        uint64_t dsz = (iqa & SIOV_IQA_DW) ? 32 : 16;
        uint64_t iqt = siov_mmio_read(f->iommu, SIOV_REG_IQT, 8);
        uint64_t gpa = (iqa & SIOV_IQA_IQA) + iqt + slot * dsz;
        assert_int_equal(siov_mem_fail_range(f->mem, gpa, dsz, SIOV_MEM_FAIL_WRITE), 0);
        char msg[64];
        snprintf(msg, sizeof(msg), "guest memory at 0x%llx is not writable", (unsigned long long)gpa);
        FAILS(f, (int)siov_domain_unmap(d, 0x1000, 0x1000), EFAULT, msg);
        assert_int_equal(siov_mmio_read(f->iommu, SIOV_REG_IQT, 8), iqt);
        assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
        fx_free(f);
    }
}

/* -------------------------------------------------- unmap and lookup */
static void test_unmap_and_lookup(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *sl = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_domain *n = siov_domain_new_nested(sl);
    assert_non_null(n);
    /* sl identity-maps the nested domain's root, a page of the pool */
    uint64_t pa = 0, page = POOL_BASE;
    while (page < POOL_BASE + POOL_SIZE && siov_domain_iova_to_phys(sl, page, &pa) != 0)
        page += 4096;
    assert_int_equal(pa, page);
    FAILS(f, (int)siov_domain_unmap(sl, POOL_BASE, 0x100000), EBUSY,
          "[0x100000, 0x200000) holds a table page of a nested domain over domain 1");
    FAILS(f, siov_domain_iova_to_phys(sl, 0x5000, &pa), ENOENT, "iova 0x5000 is not mapped in domain 1");
    FAILS(f, siov_domain_iova_to_phys(sl, 0x5000, NULL), EINVAL, "pa is NULL");
    FAILS(f, siov_domain_iova_to_phys(sl, 1ull << 48, &pa), ERANGE,
          "iova 0x1000000000000 is beyond 0x1000000000000, the 48-bit input range of domain 1");
    fx_free(f);
}

/* ------------------------------------------------------------ domains */
static void no_first_level(struct siov_iommu_config *c)
{
    c->first_level = false;
    c->nested = false;
}

static void no_second_level(struct siov_iommu_config *c)
{
    c->second_level = false;
    c->nested = false;
}

static void no_pass_through(struct siov_iommu_config *c)
{
    c->pass_through = false;
}

static void no_nesting(struct siov_iommu_config *c)
{
    c->nested = false;
}

static void sixteen_dids(struct siov_iommu_config *c)
{
    c->domain_bits = 4;
}

static void test_domain_new(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    FAILS_NULL(f, siov_domain_new(f->drv, (enum siov_domain_type)7), EINVAL,
               "domain type 7 is not a siov_domain_type");
    struct siov_domain *fl = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    FAILS_NULL(f, siov_domain_new_nested(fl), EINVAL,
               "domain 1 is first-level: a nested domain's parent must be second-level");
    fx_free(f);

    f = fx_new_with(no_first_level, POOL_SIZE);
    FAILS_NULL(f, siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL), ENODEV,
               "the unit has no first-level translation (ECAP.FLTS in scalable mode)");
    fx_free(f);
    f = fx_new_with(no_second_level, POOL_SIZE);
    FAILS_NULL(f, siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL), ENODEV,
               "the unit has no second-level translation (ECAP.SLTS, and a CAP.SAGAW the driver can use)");
    fx_free(f);
    f = fx_new_with(no_pass_through, POOL_SIZE);
    FAILS_NULL(f, siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH), ENODEV,
               "the unit has no pass-through (ECAP.PT)");
    fx_free(f);
    f = fx_new_with(no_nesting, POOL_SIZE);
    struct siov_domain *sl = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    FAILS_NULL(f, siov_domain_new_nested(sl), ENODEV,
               "the unit has no nested translation (ECAP.NEST, FLTS and SLTS in scalable mode)");
    fx_free(f);

    f = fx_new_with(sixteen_dids, POOL_SIZE);
    for (int i = 0; i < 15; i++)
        assert_non_null(siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH));
    FAILS_NULL(f, siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH), ENOSPC, "no domain id left (all 15 in use; CAP.ND)");
    fx_free(f);
}

static void test_domain_free_busy(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *sl = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_attach(sl, SID_A), 0);
    FAILS(f, siov_domain_free(sl), EBUSY, "domain 1 is still attached (1 attachment)");
    assert_int_equal(siov_detach(sl, SID_A), 0);
    struct siov_domain *n1 = siov_domain_new_nested(sl), *n2 = siov_domain_new_nested(sl);
    assert_non_null(n1);
    assert_non_null(n2);
    FAILS(f, siov_domain_free(sl), EBUSY, "domain 1 is the parent of 2 nested domains");
    fx_free(f);
}

/* ------------------------------------------------------------ attach */
static void test_attach(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *a = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_domain *b = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    FAILS(f, siov_detach(a, SID_A), ENOENT, "domain 1 is not attached to 00:05.0");
    assert_int_equal(siov_attach(a, SID_A), 0);
    FAILS(f, siov_attach(a, SID_A), EEXIST, "domain 1 is already attached to 00:05.0");
    FAILS(f, siov_attach(b, SID_A), EBUSY, "00:05.0 is attached to domain 1");
    FAILS(f, siov_detach(b, SID_A), ENOENT, "domain 2 is not attached to 00:05.0");
    /* the RID_PASID entry cleared behind the driver's back */
    uint64_t pe = pasid_entry_gpa(f, SID_A, 0);
    uint64_t qw0 = r64(f, pe);
    w64(f, pe, qw0 & ~SIOV_PTE0_P);
    FAILS(f, siov_detach(a, SID_A), ENOENT, "PASID 0 has no present entry on 00:05.0");
    /* a present entry the driver did not write: the device kept alive by aux */
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_B), 0);
    assert_int_equal(siov_aux_attach(a, SID_B), 0);
    w64(f, pasid_entry_gpa(f, SID_B, 0), SIOV_PTE0_P);
    FAILS(f, siov_attach(b, SID_B), EEXIST, "PASID 0 already has a present entry on 00:06.0");
    fx_free(f);
}

static void legacy(struct siov_iommu_config *c)
{
    c->scalable = false;
}

static void test_attach_legacy_memory(void **state)
{
    (void)state;
    struct fx *f = fx_new_with(legacy, POOL_SIZE);
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    uint64_t ctx = POOL_BASE + 5 * 4096; /* bus 0's context table: the page after d's root */
    assert_int_equal(siov_mem_fail_range(f->mem, ctx, 4096, SIOV_MEM_FAIL_WRITE), 0);
    FAILS(f, siov_attach(d, SID_A), EFAULT, "guest memory at 0x105000 is not writable"); /* zeroing it */
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    struct siov_domain *e = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH);
    assert_int_equal(siov_attach(e, SID_B), 0); /* bus 0's context table exists now */
    assert_int_equal(siov_mem_fail_range(f->mem, ctx, 4096, SIOV_MEM_FAIL_WRITE), 0);
    FAILS(f, siov_attach(d, SID_A), EFAULT, "guest memory at 0x105288 is not writable"); /* qw1 of devfn 0x28 */
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    assert_int_equal(siov_attach(d, SID_A), 0);
    assert_int_equal(siov_mem_fail_range(f->mem, ctx, 4096, SIOV_MEM_FAIL_READ), 0);
    FAILS(f, siov_detach(d, SID_A), EFAULT, "guest memory at 0x105288 is not readable");
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    fx_free(f);
}

/* ------------------------------------------------------------ aux */
static void one_pasid(struct siov_iommu_config *c)
{
    c->pasid_bits = 1; /* PASIDs 0 (RID_PASID) and 1 */
}

static void test_aux(void **state)
{
    (void)state;
    struct fx *f = fx_new_with(one_pasid, POOL_SIZE);
    struct siov_domain *a = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_domain *b = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    FAILS(f, siov_aux_attach(a, SID_A), EINVAL, "aux domains not enabled on 00:05.0");
    FAILS(f, siov_dev_disable_aux(f->drv, SID_A), EINVAL, "aux domains not enabled on 00:05.0");
    FAILS(f, siov_aux_pasid(a), ENOENT, "domain 1 is not aux-attached: it has no PASID");
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    assert_int_equal(siov_aux_attach(a, SID_A), 0);
    FAILS(f, siov_aux_attach(a, SID_A), EEXIST, "domain 1 is already aux-attached to 00:05.0");
    FAILS(f, siov_aux_attach(b, SID_A), ENOSPC, "no PASID left (all 1 in use; PASID 0 is RID_PASID)");
    FAILS(f, siov_aux_detach(b, SID_A), ENOENT, "domain 2 is not aux-attached to 00:05.0");
    FAILS(f, siov_dev_disable_aux(f->drv, SID_A), EBUSY, "1 aux domain still attached to 00:05.0");
    /* the PASID table gone behind the driver's back */
    uint64_t pde = pde_gpa(f, SID_A, 1), v = r64(f, pde);
    w64(f, pde, 0);
    FAILS(f, siov_aux_detach(a, SID_A), ENOENT, "PASID 1 has no PASID table on 00:05.0");
    w64(f, pde, v);
    fx_free(f);
}

static void no_prs(struct siov_iommu_config *c)
{
    c->page_requests = false;
}

static void test_aux_without_pasids(void **state)
{
    (void)state;
    struct fx *f = fx_new_with(legacy, POOL_SIZE);
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    const char *msg = "the unit has no PASID support (needs ECAP.SMTS and ECAP.PASID)";
    FAILS(f, siov_dev_enable_aux(f->drv, SID_A), ENODEV, msg);
    FAILS(f, siov_dev_disable_aux(f->drv, SID_A), ENODEV, msg);
    FAILS(f, siov_attach(d, SID_B), 0, msg); /* legacy attach works; the text stays */
    FAILS(f, siov_aux_attach(d, SID_B), ENODEV, msg);
    fx_free(f);
}

/* ------------------------------------------------------ page requests */
static unsigned nested_handler(void *opaque, struct siov_domain *dom, siov_sid sid,
                               const struct siov_page_request *req)
{
    (void)dom, (void)sid, (void)req;
    struct fx *f = opaque;
    assert_int_equal(siov_driver_service_prq(f->drv), -EBUSY);
    assert_int_equal(siov_dev_disable_pri(f->drv, SID_A), -EBUSY);
    return SIOV_PRQ_SUCCESS;
}

static void test_page_requests(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_int_equal(siov_dev_enable_pri(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_dev_disable_pri(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_driver_set_prq_handler(NULL, NULL, NULL), -EINVAL);
    assert_int_equal(siov_driver_service_prq(NULL), -EINVAL);
    assert_int_equal(siov_driver_set_prq_msi(NULL, 0, 0), -EINVAL);
    assert_string_equal(why(f), "");
    FAILS(f, siov_dev_enable_pri(f->drv, SID_A), EINVAL, "ATS is not enabled on 00:05.0: page requests need it");
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    FAILS(f, siov_dev_enable_pri(f->drv, SID_A), EINVAL, "ATS is not enabled on 00:05.0: page requests need it");
    FAILS(f, siov_dev_disable_pri(f->drv, SID_A), EINVAL, "page requests not enabled on 00:05.0");
    FAILS(f, siov_driver_set_prq_msi(f->drv, 0xFEE00002, 0), EINVAL, "address 0xfee00002 not DWORD aligned");
    FAILS(f, siov_driver_set_prq_msi(f->drv, 0xFEE00000, 0x10000), EINVAL, "data 0x10000 wider than 16 bits");
    assert_int_equal(siov_mmio_read(f->iommu, SIOV_REG_PECTL, 4), SIOV_ECTL_IM); /* nothing changed */
    /* from inside the handler, servicing and disabling are refused; the outer call goes on */
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0);
    assert_int_equal(siov_dev_enable_pri(f->drv, SID_A), 0);
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_aux_attach(d, SID_A), 0);
    assert_int_equal(siov_driver_set_prq_handler(f->drv, nested_handler, f), 0);
    struct siov_page_request r = {(uint32_t)siov_aux_pasid(d), 0x1000, SIOV_ACCESS_READ, 1, true, false};
    assert_int_equal(siov_page_request(f->iommu, SID_A, &r), SIOV_OK);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    assert_string_equal(why(f), "the page request queue is being serviced (a call from the handler)");
    /* the queue unreadable */
    uint64_t prq = siov_mmio_read(f->iommu, SIOV_REG_PQA, 8) & SIOV_PQA_PQA;
    assert_int_equal(siov_page_request(f->iommu, SID_A, &r), SIOV_OK);
    assert_int_equal(siov_mem_fail_range(f->mem, prq, 4096, SIOV_MEM_FAIL_READ), 0);
    char msg[96];
    snprintf(msg, sizeof(msg), "guest memory at 0x%llx is not readable", (unsigned long long)prq + 32);
    FAILS(f, siov_driver_service_prq(f->drv), EFAULT, msg);
    assert_int_equal(siov_mmio_read(f->iommu, SIOV_REG_PQH, 8), 32); /* stays on it */
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    assert_int_equal(siov_driver_service_prq(f->drv), 1);
    fx_free(f);
    /* a unit without page requests */
    f = fx_new_with(no_prs, POOL_SIZE);
    const char *msg2 = "the unit has no page request support (ECAP.PRS)";
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0);
    FAILS(f, siov_dev_enable_pri(f->drv, SID_A), ENODEV, msg2);
    FAILS(f, siov_dev_disable_pri(f->drv, SID_A), ENODEV, msg2);
    FAILS(f, siov_driver_service_prq(f->drv), ENODEV, msg2);
    FAILS(f, siov_driver_set_prq_msi(f->drv, 0xFEE00000, 0), ENODEV, msg2);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_and_null),
        cmocka_unit_test(test_success_keeps_last_error),
        cmocka_unit_test(test_map_arguments),
        cmocka_unit_test(test_map_ranges),
        cmocka_unit_test(test_map_ranges_5level),
        cmocka_unit_test(test_map_overlap),
        cmocka_unit_test(test_map_overlap_long_extent),
        cmocka_unit_test(test_map_overlap_extent_budget),
        cmocka_unit_test(test_map_overlap_at_the_ends),
        cmocka_unit_test(test_nested_tables_beyond_the_parent),
        cmocka_unit_test(test_pool_exhausted),
        cmocka_unit_test(test_guest_memory_fails),
        cmocka_unit_test(test_irq_errors),
        cmocka_unit_test(test_queue_errors),
        cmocka_unit_test(test_devtlb_timeout),
        cmocka_unit_test(test_queue_slot_not_writable),
        cmocka_unit_test(test_unmap_and_lookup),
        cmocka_unit_test(test_domain_new),
        cmocka_unit_test(test_domain_free_busy),
        cmocka_unit_test(test_attach),
        cmocka_unit_test(test_attach_legacy_memory),
        cmocka_unit_test(test_aux),
        cmocka_unit_test(test_aux_without_pasids),
        cmocka_unit_test(test_page_requests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

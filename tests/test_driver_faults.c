/* Fault injection into the reference driver and into the creation of units
 * and guest memory. tests/meson.build links this test with ld's --wrap for
 * the allocation calls (tests/alloc_wrap.c) and the MMIO read entry point,
 * so that it can make the k-th allocation fail or play a unit that misbehaves
 * (lacks queued invalidation, ignores a command, reports a queue error, has
 * CAP.RWBF set); guest memory comes through callbacks that refuse the k-th
 * write or read. A workload of every driver call runs once per k: the call
 * that meets the fault must fail with its documented errno (a failure the
 * driver absorbs may go unreported: a status poll that reads again, a
 * released nested table the parent keeps mapped until it goes), and once the
 * fault is gone everything it set up comes down again with every table page
 * back in the pool. ASan (CI) checks that none of these paths leaks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_wrap.h"
#include "driver.h"
#include "testlib.h"

#define MEM_SIZE (4ull << 20) /* mappings point beyond it: nothing translates them */
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (2ull << 20)
#define K4 0x1000ull
#define M2 0x200000ull
#define G1 0x40000000ull
#define SID_A SIOV_SID(0, 1, 0)
#define SID_B SIOV_SID(2, 17, 0)
#define RW (SIOV_PROT_READ | SIOV_PROT_WRITE)

/* ------------------------------------------------------------ the injector */
/* What the MMIO-read wrapper changes (allocation failures: alloc_wrap.h). */
struct injector {
    uint32_t gsts_clear; /* GSTS bits the unit never reports */
    uint32_t gsts_set;   /* GSTS bits the unit always reports */
    uint32_t fsts_set;   /* FSTS bits the unit reports on top */
    uint64_t cap_set, cap_clear, ecap_clear;
    bool iqh_frozen;     /* IQH reads as iqh: the unit stopped fetching */
    uint64_t iqh;
    long iqh_frozen_reads; /* IQH reads frozen before the unit moves on (-1: all) */
    long fsts_reads;       /* FSTS reads so far */
    void (*on_fsts)(void); /* called at each FSTS read, after counting it */
    long gsts_reads;       /* GSTS reads so far */
    void (*on_gsts)(void); /* called at each GSTS read, after counting it, before gsts_* apply */
    void (*on_read)(void); /* called at each MMIO read: what the unit could see meanwhile */
};
static struct injector inj = {.iqh_frozen_reads = -1};

static void inj_reset(void)
{
    inj = (struct injector){.iqh_frozen_reads = -1};
    aw_disarm();
}

uint64_t __real_siov_mmio_read(struct siov_iommu *iommu, uint64_t offset, unsigned size);
uint64_t __wrap_siov_mmio_read(struct siov_iommu *iommu, uint64_t offset, unsigned size);

/* The unit as the driver sees it through MMIO reads. */
uint64_t __wrap_siov_mmio_read(struct siov_iommu *iommu, uint64_t offset, unsigned size)
{
    uint64_t v = __real_siov_mmio_read(iommu, offset, size);
    if (inj.on_read)
        inj.on_read();
    if (offset == SIOV_REG_GSTS) {
        inj.gsts_reads++;
        if (inj.on_gsts)
            inj.on_gsts();
        v = (v & ~(uint64_t)inj.gsts_clear) | inj.gsts_set;
    }
    else if (offset == SIOV_REG_IQH && inj.iqh_frozen && inj.iqh_frozen_reads != 0) {
        v = inj.iqh;
        inj.iqh_frozen_reads -= inj.iqh_frozen_reads > 0;
    }
    else if (offset == SIOV_REG_FSTS) {
        v |= inj.fsts_set;
        inj.fsts_reads++;
        if (inj.on_fsts)
            inj.on_fsts();
    }
    else if (offset == SIOV_REG_CAP)
        v = (v & ~inj.cap_clear) | inj.cap_set;
    else if (offset == SIOV_REG_ECAP)
        v &= ~inj.ecap_clear;
    return v;
}

/* --------------------------------------------------- guest memory that fails */
/* One write the memory saw (its first 64 bytes). */
struct wr {
    uint64_t gpa;
    size_t len;
    uint8_t data[64];
};
#define WLOG_MAX 4096

struct cbmem {
    uint8_t *buf;
    long writes_left, reads_left; /* accesses that still succeed before one fails; -1: all */
    bool fired;
    unsigned long writes, reads;  /* accesses so far */
    struct wr *log;               /* when set, every write is recorded */
    unsigned nlog;
};

static int cb_access(struct cbmem *m, long *left, uint64_t gpa, size_t len)
{
    if (gpa >= MEM_SIZE || len > MEM_SIZE - gpa)
        return -EFAULT;
    if (*left >= 0 && (*left)-- == 0) {
        m->fired = true;
        return -EFAULT;
    }
    return 0;
}

static int cb_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct cbmem *m = opaque;
    m->reads++;
    int rc = cb_access(m, &m->reads_left, gpa, len);
    if (!rc)
        memcpy(dst, m->buf + gpa, len);
    return rc;
}

static int cb_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct cbmem *m = opaque;
    m->writes++;
    if (m->log && m->nlog < WLOG_MAX) {
        struct wr *w = &m->log[m->nlog++];
        w->gpa = gpa;
        w->len = len;
        memcpy(w->data, src, len < 64 ? len : 64);
    }
    int rc = cb_access(m, &m->writes_left, gpa, len);
    if (!rc)
        memcpy(m->buf + gpa, src, len);
    return rc;
}

static const struct siov_mem_ops cb_ops = {.read = cb_read, .write = cb_write};

/* ------------------------------------------------------------ the workload */
enum { D_SL, D_FL, D_PT, D_NESTED, NDOM };

struct world {
    struct cbmem cb;
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
    struct siov_domain *dom[NDOM];
    bool legacy; /* a unit without scalable mode: legacy context entries, SL and PT domains */
    bool aux_on[2], attached[NDOM];
    uint64_t avail0;
    const char *failed; /* the step that failed, or NULL */
    int err;            /* its errno */
};

static const siov_sid sids[2] = {SID_A, SID_B};

/* rc of one step: 0 goes on; a failure ends the workload. */
static bool step(struct world *w, const char *name, int rc)
{
    if (rc >= 0)
        return true;
    w->failed = name;
    w->err = -rc;
    /* the workload's first failure: the call must have said why */
    if (!siov_driver_last_error(w->drv)[0])
        fail_msg("%s failed with errno %d and no reason in siov_driver_last_error", name, -rc);
    return false;
}

/* Maps and unmaps that allocate tables, split large pages and free them. */
static bool map_unmap(struct world *w, int d, uint64_t iova, uint64_t pa)
{
    struct siov_domain *dom = w->dom[d];
    return step(w, "map 1G", siov_domain_map(dom, iova, pa, G1, RW)) &&
           step(w, "map 2M", siov_domain_map(dom, iova + G1, pa + G1, 2 * M2, RW)) &&
           step(w, "map 4K", siov_domain_map(dom, iova + G1 + 2 * M2, pa + G1 + 2 * M2, 3 * K4, RW)) &&
           step(w, "unmap in 1G", (int)siov_domain_unmap(dom, iova + M2 + K4, K4)) &&
           step(w, "unmap in 2M", (int)siov_domain_unmap(dom, iova + G1 + M2, 2 * K4)) &&
           step(w, "unmap 4K", (int)siov_domain_unmap(dom, iova + G1 + 2 * M2, 3 * K4));
}

/* Every call of the driver API once; stops at the first failure. */
static void workload(struct world *w)
{
    w->drv = siov_driver_new(w->iommu, w->mem, POOL_BASE, POOL_SIZE);
    if (!w->drv) {
        w->failed = "driver_new";
        w->err = errno;
        return;
    }
    w->avail0 = siov_driver_pool_avail(w->drv);
    for (int i = 0; i < 2 && !w->legacy; i++) {
        if (!step(w, "enable_aux", siov_dev_enable_aux(w->drv, sids[i])))
            return;
        w->aux_on[i] = true;
    }
    static const enum siov_domain_type types[] = {SIOV_DOMAIN_SECOND_LEVEL, SIOV_DOMAIN_FIRST_LEVEL,
                                                  SIOV_DOMAIN_PASS_THROUGH};
    for (int d = 0; d < NDOM; d++) {
        if (w->legacy && (d == D_FL || d == D_NESTED))
            continue;
        w->dom[d] = d == D_NESTED ? siov_domain_new_nested(w->dom[D_SL]) : siov_domain_new(w->drv, types[d]);
        if (!w->dom[d] && !step(w, "domain_new", -errno))
            return;
    }
    if (!map_unmap(w, D_SL, 4 * G1, 8 * G1) ||
        (!w->legacy && (!map_unmap(w, D_FL, 4 * G1, 8 * G1) || !map_unmap(w, D_NESTED, 0, 4 * G1))))
        return;
    static const int rid[NDOM] = {[D_SL] = 0, [D_PT] = 1, [D_FL] = -1, [D_NESTED] = -1};
    for (int d = 0; d < NDOM; d++) {
        if (!w->dom[d])
            continue;
        int rc = rid[d] >= 0 ? siov_attach(w->dom[d], sids[rid[d]]) : siov_aux_attach(w->dom[d], sids[d == D_FL]);
        if (!step(w, "attach", rc))
            return;
        w->attached[d] = true;
    }
    if (!map_unmap(w, D_SL, 16 * G1, 24 * G1) || (!w->legacy && !map_unmap(w, D_FL, 16 * G1, 24 * G1)))
        return;
}

/* Tears down whatever the workload set up (no fault is injected any more). */
static void teardown_world(struct world *w)
{
    if (w->drv) {
        for (int d = NDOM - 1; d >= 0; d--) {
            if (!w->dom[d])
                continue;
            if (w->attached[d] && (d == D_SL || d == D_PT))
                assert_int_equal(siov_detach(w->dom[d], sids[d == D_PT]), 0);
            else if (w->attached[d])
                assert_int_equal(siov_aux_detach(w->dom[d], sids[d == D_FL]), 0);
            assert_int_equal(siov_domain_free(w->dom[d]), 0);
        }
        for (int i = 0; i < 2; i++)
            if (w->aux_on[i])
                assert_int_equal(siov_dev_disable_aux(w->drv, sids[i]), 0);
        if (siov_driver_pool_avail(w->drv) != w->avail0) /* every table page came back */
            fail_msg("%llu pages not returned after %s failed (errno %d)",
                     (unsigned long long)(w->avail0 - siov_driver_pool_avail(w->drv)), w->failed ? w->failed : "nothing",
                     w->err);
        siov_driver_free(w->drv);
    }
    siov_iommu_free(w->iommu);
    siov_mem_free(w->mem);
    free(w->cb.buf);
}

static void world_init_cm(struct world *w, bool legacy, bool cm)
{
    memset(w, 0, sizeof(*w));
    w->legacy = legacy;
    w->cb.buf = calloc(1, MEM_SIZE);
    assert_non_null(w->cb.buf);
    w->cb.writes_left = w->cb.reads_left = -1;
    w->mem = siov_mem_new(&cb_ops, &w->cb);
    assert_non_null(w->mem);
    struct siov_iommu_config cfg = tl_config_mode(!legacy, cm);
    w->iommu = siov_iommu_new(w->mem, &cfg);
    assert_non_null(w->iommu);
}

static void world_init(struct world *w, bool legacy)
{
    world_init_cm(w, legacy, false);
}

/* Every k up to n with SIOV_FAULTS_ALL set; else a stride giving about max runs. */
static unsigned stride_for(unsigned max, unsigned long n)
{
    const char *all = getenv("SIOV_FAULTS_ALL");
    return all && *all ? 1 : (unsigned)(n / max + 1);
}

/* ------------------------------------------------------------------ tests */

/* The k-th allocation of the driver fails: the call that makes it reports
   ENOMEM and holds nothing. Scalable and legacy mode. */
static unsigned allocation_failures(bool legacy)
{
    unsigned failures = 0;
    for (long k = 0;; k++) {
        struct world w;
        world_init(&w, legacy);
        inj_reset();
        aw_arm(k);
        workload(&w);
        bool fired = aw_fired();
        inj_reset();
        if (fired) {
            failures++;
            if (!w.failed)
                fail_msg("allocation %ld failed and no call reported it", k);
            if (w.err != ENOMEM)
                fail_msg("allocation %ld: %s reported errno %d, not ENOMEM", k, w.failed, w.err);
        } else {
            assert_null(w.failed);
        }
        teardown_world(&w);
        if (!fired)
            return failures;
    }
}

static void test_driver_allocation_failures(void **state)
{
    (void)state;
    unsigned scalable = allocation_failures(false), legacy = allocation_failures(true);
    print_message("allocation failures injected: %u scalable, %u legacy\n", scalable, legacy);
    assert_true(scalable > 10);
    assert_true(legacy > 5);
}

/* Table pages need host memory only when the list of pages freed at the
   next flush must grow (it holds one slot per page in use, 64 at first,
   doubling): the maps that bring the pages in use to 64 and to 128 allocate
   nothing, and the map that needs the 65th or the 129th page fails with
   ENOMEM when that growth fails, leaving nothing mapped. */
static void test_table_pages_without_host_memory(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
    struct siov_iommu *u = siov_iommu_new(mem, NULL);
    struct siov_driver *drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
    assert_non_null(drv);
    struct siov_domain *d = siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(d);
    const uint64_t pages = POOL_SIZE / K4;
    uint64_t iova = 0, pa;
    for (uint64_t cap = 64; cap <= 128; cap *= 2) {
        for (; pages - siov_driver_pool_avail(drv) < cap - 1; iova += M2) /* one table page each past the first */
            assert_int_equal(siov_domain_map(d, iova, G1, K4, RW), 0);
        assert_int_equal(pages - siov_driver_pool_avail(drv), cap - 1);
        aw_arm(0);
        assert_int_equal(siov_domain_map(d, iova, G1, K4, RW), 0); /* the list's last slot */
        assert_false(aw_fired());
        aw_disarm();
        iova += M2;
        assert_int_equal(pages - siov_driver_pool_avail(drv), cap);
        aw_arm(0);
        assert_int_equal(siov_domain_map(d, iova, G1, K4, RW), -ENOMEM); /* one page more */
        assert_true(aw_fired());
        aw_disarm();
        assert_string_equal(siov_driver_last_error(drv), "out of memory for the list of pages to free after a flush");
        assert_int_equal(pages - siov_driver_pool_avail(drv), cap);
        assert_int_equal(siov_domain_iova_to_phys(d, iova, &pa), -ENOENT);
    }
    assert_int_equal(siov_domain_map(d, iova, G1, K4, RW), 0);
    assert_int_equal(siov_domain_iova_to_phys(d, iova, &pa), 0);
    assert_int_equal(pa, G1);
    siov_driver_free(drv);
    siov_iommu_free(u);
    siov_mem_free(mem);
}

/* The queue fails the status write: the next flush sees IQE (-EIO). */
static void queue_breaks(struct siov_mem *mem, struct siov_iommu *u)
{
    uint64_t status = (siov_mmio_read(u, SIOV_REG_IQA, 8) & SIOV_IQA_IQA) + 4096;
    assert_int_equal(siov_mem_fail_range(mem, status, 4, SIOV_MEM_FAIL_WRITE), 0);
    inj_reset();
    inj.fsts_set = SIOV_FSTS_IQE;
}

static void queue_mends(struct siov_mem *mem)
{
    inj_reset();
    assert_int_equal(siov_mem_fail_range(mem, 0, 0, 0), 0);
}

/* Under CAP.CM a new entry (a PASID entry, RID_PASID's, a legacy context
   entry) is followed by its invalidations: when the queue fails there, the
   attach fails with the queue's error and takes the entry back, though the
   device stays (aux enabled, ATS on), and a later attach succeeds. */
static void test_caching_mode_entry_queue_error(void **state)
{
    (void)state;
    for (int legacy = 0; legacy < 2; legacy++) {
        struct siov_iommu_config cfg = tl_config_mode(!legacy, true);
        struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
        struct siov_iommu *u = siov_iommu_new(mem, &cfg);
        struct siov_driver *drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
        assert_non_null(drv);
        struct siov_domain *d = siov_domain_new(drv, legacy ? SIOV_DOMAIN_SECOND_LEVEL : SIOV_DOMAIN_FIRST_LEVEL);
        assert_int_equal(siov_domain_map(d, 0, 8 * G1, K4, RW), 0);
        struct siov_xlate x;
        if (!legacy) {
            assert_int_equal(siov_dev_enable_aux(drv, SID_A), 0);
            queue_breaks(mem, u);
            assert_int_equal(siov_aux_attach(d, SID_A), -EIO);
            queue_mends(mem);
            assert_int_equal(siov_aux_pasid(d), -ENOENT);
            assert_int_equal(siov_translate(u, SID_A, 1, 0, SIOV_ACCESS_READ, &x), SIOV_FAULT_SPT_2);
            assert_int_equal(siov_aux_attach(d, SID_A), 0);
            assert_int_equal(siov_aux_pasid(d), 1);
            assert_int_equal(siov_translate(u, SID_A, 1, 0, SIOV_ACCESS_READ, &x), SIOV_OK);
            assert_int_equal(x.addr, 8 * G1);
        } else {
            assert_int_equal(siov_dev_enable_ats(drv, SID_A), 0);
        }
        queue_breaks(mem, u);
        assert_int_equal(siov_attach(d, SID_A), -EIO);
        queue_mends(mem);
        assert_int_equal(siov_translate(u, SID_A, SIOV_NO_PASID, 0, SIOV_ACCESS_READ, &x),
                         legacy ? SIOV_FAULT_LCT_2 : SIOV_FAULT_SPT_2);
        assert_int_equal(siov_attach(d, SID_A), 0);
        assert_int_equal(siov_translate(u, SID_A, SIOV_NO_PASID, 0, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, 8 * G1);
        siov_driver_free(drv);
        siov_iommu_free(u);
        siov_mem_free(mem);
    }
}

/* Allocation failures while creating guest memory and units: NULL, nothing held. */
static void test_unit_and_memory_allocation_failures(void **state)
{
    (void)state;
    static const struct siov_mem_ops ops = {.read = cb_read, .write = cb_write};
    struct cbmem cb = {NULL, -1, -1, false, 0, 0, NULL, 0};
    unsigned failures = 0;
    for (long k = 0;; k++) {
        inj_reset();
        aw_arm(k);
        struct siov_mem *flat = siov_mem_new_flat(MEM_SIZE);
        struct siov_mem *cbm = siov_mem_new(&ops, &cb);
        struct siov_iommu *u = flat ? siov_iommu_new(flat, NULL) : NULL;
        bool fired = aw_fired();
        inj_reset();
        if (!fired) {
            assert_non_null(flat);
            assert_non_null(cbm);
            assert_non_null(u);
        } else {
            failures++;
            assert_true(!flat || !cbm || !u);
        }
        siov_iommu_free(u);
        siov_mem_free(cbm);
        siov_mem_free(flat);
        if (!fired)
            break;
    }
    assert_true(failures >= 8);
}

/* The k-th guest-memory write (or read) fails: the driver call that meets it
   fails with EFAULT (or EIO / ETIMEDOUT when it was the unit's queue access
   that failed) and everything set up so far comes down cleanly. */
static void memory_failures(bool writes, bool legacy, bool cm)
{
    struct world w;
    world_init_cm(&w, legacy, cm);
    workload(&w);
    assert_null(w.failed);
    unsigned long n = writes ? w.cb.writes : w.cb.reads;
    teardown_world(&w);
    unsigned runs = 0, failures = 0;
    unsigned stride = stride_for(600, n);
    for (long k = 0;; k += stride, runs++) {
        world_init_cm(&w, legacy, cm);
        *(writes ? &w.cb.writes_left : &w.cb.reads_left) = k;
        workload(&w);
        bool fired = w.cb.fired;
        w.cb.writes_left = w.cb.reads_left = -1;
        if (fired) {
            failures += w.failed != NULL;
            if (!w.failed && getenv("DBG"))
                fprintf(stderr, "unreported %s %ld\n", writes ? "write" : "read", k);
            if (w.failed && w.err != EFAULT && w.err != EIO && w.err != ETIMEDOUT)
                fail_msg("%s %ld: %s reported errno %d", writes ? "write" : "read", k, w.failed, w.err);
        } else {
            assert_null(w.failed);
        }
        teardown_world(&w);
        if (!fired)
            break;
    }
    print_message("guest memory %s failures (%s mode%s): %lu accesses, %u runs, %u reported\n",
                  writes ? "write" : "read", legacy ? "legacy" : "scalable", cm ? ", caching mode" : "", n, runs,
                  failures);
    assert_true(failures > runs * 9 / 10);
}

static void test_guest_memory_write_failures(void **state)
{
    (void)state;
    memory_failures(true, false, false);
    memory_failures(true, true, false);
    memory_failures(true, false, true); /* caching mode: more invalidations, each may fail */
    memory_failures(true, true, true);
}

static void test_guest_memory_read_failures(void **state)
{
    (void)state;
    memory_failures(false, false, false);
    memory_failures(false, true, false);
}

/* A unit without queued invalidation: ENODEV. A unit that never reports a
   command done: ETIMEDOUT, for each command bring-up waits for. */
static void test_unit_that_does_not_respond(void **state)
{
    (void)state;
    static const uint32_t status[] = {SIOV_GSTS_QIES, SIOV_GSTS_IRTPS, SIOV_GSTS_IRES, SIOV_GSTS_RTPS, SIOV_GSTS_TES};
    for (int i = -1; i < 5; i++) {
        struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
        struct siov_iommu *u = siov_iommu_new(mem, NULL);
        inj_reset();
        if (i < 0)
            inj.ecap_clear = SIOV_ECAP_QI;
        else
            inj.gsts_clear = status[i];
        errno = 0;
        assert_null(siov_driver_new(u, mem, POOL_BASE, POOL_SIZE));
        assert_int_equal(errno, i < 0 ? ENODEV : ETIMEDOUT);
        inj_reset();
        assert_false(siov_mmio_read(u, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES); /* left off */
        struct siov_driver *drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE); /* the unit recovers */
        assert_non_null(drv);
        siov_driver_free(drv);
        siov_iommu_free(u);
        siov_mem_free(mem);
    }
    /* a previous owner left translation, interrupt remapping (enabled
       without ever latching a table: IRES without IRTPS) and the queue on,
       and the unit will not turn one of them off: ETIMEDOUT, and the driver
       stops there (what follows stays on) */
    static const uint32_t stuck[] = {SIOV_GSTS_TES, SIOV_GSTS_IRES, SIOV_GSTS_QIES};
    for (int i = 0; i < 3; i++) {
        struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
        struct siov_iommu *u = siov_iommu_new(mem, NULL);
        siov_mmio_write(u, SIOV_REG_GCMD, SIOV_GCMD_TE | SIOV_GCMD_IRE | SIOV_GCMD_QIE, 4);
        uint32_t gsts = (uint32_t)siov_mmio_read(u, SIOV_REG_GSTS, 4);
        assert_int_equal(gsts & (SIOV_GSTS_IRES | SIOV_GSTS_IRTPS), SIOV_GSTS_IRES);
        inj_reset();
        inj.gsts_set = stuck[i];
        errno = 0;
        assert_null(siov_driver_new(u, mem, POOL_BASE, POOL_SIZE));
        assert_int_equal(errno, ETIMEDOUT);
        inj_reset();
        gsts = (uint32_t)siov_mmio_read(u, SIOV_REG_GSTS, 4);
        assert_int_equal(!!(gsts & SIOV_GSTS_IRES), i < 1);
        assert_int_equal(!!(gsts & SIOV_GSTS_QIES), i < 2);
        struct siov_driver *drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
        assert_non_null(drv);
        siov_driver_free(drv);
        assert_int_equal(siov_mmio_read(u, SIOV_REG_GSTS, 4) & (SIOV_GSTS_TES | SIOV_GSTS_QIES | SIOV_GSTS_IRES),
                         0);
        siov_iommu_free(u);
        siov_mem_free(mem);
    }
}

/* A driver over a flat memory, with an SL domain mapped at 0 and attached to SID_A. */
struct fx {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_driver *drv;
    struct siov_domain *dom;
};

static void fx_init(struct fx *f)
{
    f->mem = siov_mem_new_flat(MEM_SIZE);
    f->iommu = siov_iommu_new(f->mem, NULL);
    f->drv = siov_driver_new(f->iommu, f->mem, POOL_BASE, POOL_SIZE);
    assert_non_null(f->drv);
    f->dom = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(f->dom);
    assert_int_equal(siov_domain_map(f->dom, 0, 8 * G1, 64 * K4, RW), 0);
    assert_int_equal(siov_attach(f->dom, SID_A), 0);
}

static void fx_fini(struct fx *f)
{
    assert_int_equal(siov_detach(f->dom, SID_A), 0);
    assert_int_equal(siov_domain_free(f->dom), 0);
    siov_driver_free(f->drv);
    siov_iommu_free(f->iommu);
    siov_mem_free(f->mem);
}

/* The driver's queue as IQA and IQT tell it. */
struct qgeo {
    uint64_t base, bytes, dsz, iqt;
};

static struct qgeo qgeo(struct fx *f)
{
    uint64_t iqa = siov_mmio_read(f->iommu, SIOV_REG_IQA, 8);
    return (struct qgeo){iqa & SIOV_IQA_IQA, 4096ull << siov_get(iqa, SIOV_IQA_QS), (iqa & SIOV_IQA_DW) ? 32 : 16,
                         siov_mmio_read(f->iommu, SIOV_REG_IQT, 8)};
}

/* The injector reset, then IQH frozen n descriptors past IQT: the unit stopped fetching there. */
static struct qgeo freeze_iqh(struct fx *f, unsigned n)
{
    struct qgeo g = qgeo(f);
    inj_reset();
    inj.iqh_frozen = true;
    inj.iqh = (g.iqt + n * g.dsz) % g.bytes;
    return g;
}

static siov_fault xl(struct fx *f, uint64_t iova)
{
    struct siov_xlate x;
    return siov_translate(f->iommu, SID_A, SIOV_NO_PASID, iova, SIOV_ACCESS_READ, &x);
}

/* The unit reports an invalidation error (ITE, ICE, IQE) while the driver
   waits for an inv-wait whose status never arrives: the call returns EIO
   for IQE and ETIMEDOUT for ITE and ICE (acknowledged, then waited out, as
   Linux's qi_check_fault), the driver clears the error (FSTS clear, the
   queue resumed at the tail) and the next calls work. */
static void test_queue_errors_while_waiting(void **state)
{
    (void)state;
    static const uint32_t errs[] = {SIOV_FSTS_ITE, SIOV_FSTS_ICE, SIOV_FSTS_IQE, SIOV_FSTS_IQE | SIOV_FSTS_ICE,
                                    SIOV_FSTS_IQE | SIOV_FSTS_ITE, SIOV_FSTS_IQE | SIOV_FSTS_ICE | SIOV_FSTS_ITE};
    static const int64_t want[] = {-ETIMEDOUT, -ETIMEDOUT, -EIO, -EIO, -EIO, -EIO};
    static const char *const why[] = {"(ITE", "did not arrive", "(FSTS 0x10: IQE) at IQH",
                                      "(FSTS 0x30: IQE ICE) at IQH", "(FSTS 0x50: IQE ITE) at IQH",
                                      "(FSTS 0x70: IQE ICE ITE) at IQH"};
    for (unsigned i = 0; i < 6; i++) {
        struct fx f;
        fx_init(&f);
        assert_int_equal(xl(&f, 0x3000), SIOV_OK);
        /* the status word cannot be written: the driver sees the error bit instead */
        uint64_t status = (siov_mmio_read(f.iommu, SIOV_REG_IQA, 8) & SIOV_IQA_IQA) + 4096;
        assert_int_equal(siov_mem_fail_range(f.mem, status, 4, SIOV_MEM_FAIL_WRITE), 0);
        inj_reset();
        inj.fsts_set = errs[i];
        assert_int_equal(siov_domain_unmap(f.dom, 0x3000, K4), want[i]);
        assert_non_null(strstr(siov_driver_last_error(f.drv), why[i]));
        inj_reset();
        assert_int_equal(siov_mem_fail_range(f.mem, 0, 0, 0), 0);
        assert_int_equal(siov_mmio_read(f.iommu, SIOV_REG_FSTS, 4) & (SIOV_FSTS_ITE | SIOV_FSTS_ICE | SIOV_FSTS_IQE), 0);
        assert_int_equal(siov_mmio_read(f.iommu, SIOV_REG_IQH, 8), siov_mmio_read(f.iommu, SIOV_REG_IQT, 8));
        assert_int_equal(siov_domain_unmap(f.dom, 0x4000, K4), (int64_t)K4);
        assert_int_equal(xl(&f, 0x3000), SIOV_FAULT_SSL_2);
        assert_int_equal(xl(&f, 0x4000), SIOV_FAULT_SSL_2);
        fx_fini(&f);
    }
}

/* The unit stops fetching (IQH frozen): once the queue is full the driver
   waits for room; with an error reported it returns EIO, otherwise ETIMEDOUT. */
static void test_queue_that_stops_fetching(void **state)
{
    (void)state;
    for (int with_error = 0; with_error < 2; with_error++) {
        struct fx f;
        fx_init(&f);
        inj_reset();
        inj.iqh_frozen = true;
        inj.iqh = siov_mmio_read(f.iommu, SIOV_REG_IQH, 8);
        int64_t rc = 0;
        unsigned calls = 0;
        for (uint64_t a = 0; a < 64 * K4 && rc >= 0; a += K4, calls++) {
            if (with_error && calls == 40)
                inj.fsts_set = SIOV_FSTS_IQE;
            rc = siov_domain_unmap(f.dom, a, K4);
        }
        inj_reset();
        assert_int_equal(rc, with_error ? -EIO : -ETIMEDOUT);
        assert_true(calls > 30); /* 128 slots, a few descriptors per unmap */
        /* the driver and the real unit now disagree on the queue (the unit
           went on fetching): only its teardown is left */
        siov_driver_free(f.drv);
        siov_iommu_free(f.iommu);
        siov_mem_free(f.mem);
    }
}

/* The queue is full (IQH frozen one slot past IQT) and the unit reports a
   queue error while the driver waits for room: -EIO at the frozen IQH. */
static void test_queue_full_with_error(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    struct qgeo g = freeze_iqh(&f, 1);
    inj.fsts_set = SIOV_FSTS_IQE;
    uint8_t slot[32], now[32]; /* the slot the driver resumes at */
    assert_int_equal(siov_mem_read(f.mem, g.base + inj.iqh, slot, sizeof(slot)), 0);
    assert_int_equal(siov_domain_unmap(f.dom, 0x3000, K4), -EIO);
    assert_int_equal(siov_mem_read(f.mem, g.base + inj.iqh, now, sizeof(now)), 0);
    assert_memory_equal(now, slot, sizeof(slot)); /* nothing written after the error */
    char msg[128];
    snprintf(msg, sizeof(msg), "invalidation queue error (FSTS 0x10: IQE) at IQH 0x%llx; the rest was dropped",
             (unsigned long long)inj.iqh);
    assert_string_equal(siov_driver_last_error(f.drv), msg);
    /* resumed at the frozen IQH, and nothing more submitted */
    assert_int_equal(siov_mmio_read(f.iommu, SIOV_REG_IQT, 8), inj.iqh);
    inj_reset();
    /* the driver moved IQT to the frozen IQH: only teardown is left */
    siov_driver_free(f.drv);
    siov_iommu_free(f.iommu);
    siov_mem_free(f.mem);
}

/* The driver polls a full queue's IQH exactly SIOV_DRV_POLL_LIMIT times:
   a unit that makes room at the last poll is waited for, one that makes
   room only after it is not (-ETIMEDOUT, nothing submitted). */
static void test_queue_room_poll_limit(void **state)
{
    (void)state;
    for (int late = 0; late < 2; late++) {
        struct fx f;
        fx_init(&f);
        uint64_t iqt = freeze_iqh(&f, 1).iqt;
        inj.iqh_frozen_reads = (long)SIOV_DRV_POLL_LIMIT - 1 + late;
        assert_int_equal(siov_domain_unmap(f.dom, 0x3000, K4), late ? -ETIMEDOUT : (int64_t)K4);
        assert_int_equal(inj.iqh_frozen_reads, 0);
        inj_reset();
        if (late) {
            assert_string_equal(siov_driver_last_error(f.drv), "invalidation queue full: the unit did not move IQH");
            assert_int_equal(siov_mmio_read(f.iommu, SIOV_REG_IQT, 8), iqt);
        }
        fx_fini(&f);
    }
}

/* Room for exactly the descriptors and their inv-wait is enough: with IQH
   frozen `slots` descriptors past IQT (slots - 1 free: one stays empty) an
   unmap's IOTLB invalidation and wait go at once with 3, and wait for the
   unit with 2. */
static void test_queue_room_exact(void **state)
{
    (void)state;
    for (unsigned slots = 2; slots <= 3; slots++) {
        struct fx f;
        fx_init(&f);
        freeze_iqh(&f, slots);
        inj.iqh_frozen_reads = 10;
        assert_int_equal(siov_domain_unmap(f.dom, 0x3000, K4), (int64_t)K4);
        assert_int_equal(inj.iqh_frozen_reads, slots == 3 ? 9 : 0);
        inj_reset();
        fx_fini(&f);
    }
}

/* The status word of the inv-wait arrives at the driver's last poll, or
   one poll too late: the driver polls it SIOV_DRV_POLL_LIMIT times. */
static struct {
    struct siov_mem *mem;
    uint64_t gpa;
    uint32_t seq;
    long at; /* the FSTS read after which the status arrives */
} late_status;

static void status_arrives(void)
{
    if (inj.fsts_reads != late_status.at)
        return;
    assert_int_equal(siov_mem_fail_range(late_status.mem, 0, 0, 0), 0);
    assert_int_equal(siov_mem_write(late_status.mem, late_status.gpa, &late_status.seq, 4), 0);
}

static void test_wait_poll_limit(void **state)
{
    (void)state;
    for (int late = 0; late < 2; late++) {
        struct fx f;
        fx_init(&f);
        uint64_t status = (siov_mmio_read(f.iommu, SIOV_REG_IQA, 8) & SIOV_IQA_IQA) + 4096;
        uint32_t last;
        assert_int_equal(siov_mem_read(f.mem, status, &last, 4), 0);
        late_status.mem = f.mem;
        late_status.gpa = status;
        late_status.seq = last + 1;
        late_status.at = (long)SIOV_DRV_POLL_LIMIT - 1 + late;
        assert_int_equal(siov_mem_fail_range(f.mem, status, 4, SIOV_MEM_FAIL_WRITE), 0);
        inj_reset();
        inj.on_fsts = status_arrives;
        int64_t rc = siov_domain_unmap(f.dom, 0x3000, K4);
        long reads = inj.fsts_reads;
        inj_reset();
        assert_int_equal(siov_mem_fail_range(f.mem, 0, 0, 0), 0);
        if (late) {
            assert_int_equal(rc, -ETIMEDOUT);
            char msg[96];
            snprintf(msg, sizeof(msg), "inv-wait %u: its status write to 0x%llx did not arrive", late_status.seq,
                     (unsigned long long)status);
            assert_string_equal(siov_driver_last_error(f.drv), msg);
        } else {
            assert_int_equal(rc, (int64_t)K4);
            assert_int_equal(reads, (long)SIOV_DRV_POLL_LIMIT); /* the last poll's check included */
        }
        fx_fini(&f);
    }
}

/* A batch longer than half the queue goes in chunks, each behind its own
   inv-wait (an unmap in a parent with 80 nested domains: 81 IOTLB
   invalidations, chunks of 63 in a 128-slot queue). After a device's
   time-out (ITE) the next chunk still goes and the first error is returned;
   after a queue error (IQE) the rest of the batch is dropped. */
static void test_chunks_after_errors(void **state)
{
    (void)state;
    static const uint32_t errs[] = {0, SIOV_FSTS_ITE, SIOV_FSTS_IQE};
    static const int64_t want[] = {(int64_t)K4, -ETIMEDOUT, -EIO};
    static const uint64_t sent[] = {81, 81, 63};
    static const uint64_t waits[] = {2, 2, 1};
    for (unsigned i = 0; i < 3; i++) {
        struct fx f;
        fx_init(&f);
        struct siov_domain *child[80];
        for (unsigned c = 0; c < 80; c++)
            assert_non_null(child[c] = siov_domain_new_nested(f.dom));
        struct siov_stats before, after;
        siov_iommu_stats(f.iommu, &before);
        inj_reset();
        inj.fsts_set = errs[i];
        assert_int_equal(siov_domain_unmap(f.dom, 0x3000, K4), want[i]);
        inj_reset();
        siov_iommu_stats(f.iommu, &after);
        assert_int_equal(after.inv_iotlb - before.inv_iotlb, sent[i]);
        assert_int_equal(after.inv_wait - before.inv_wait, waits[i]);
        for (unsigned c = 0; c < 80; c++)
            assert_int_equal(siov_domain_free(child[c]), 0);
        fx_fini(&f);
    }
}

/* The inv-wait of a page-request drain asks for the drain (PD) where the
   unit has ECAP.PDS, and not where it lacks it. */
static void test_drain_without_pds(void **state)
{
    (void)state;
    for (int pds = 0; pds < 2; pds++) {
        inj_reset();
        inj.ecap_clear = pds ? 0 : SIOV_ECAP_PDS;
        struct fx f;
        fx_init(&f);
        assert_int_equal(siov_dev_enable_ats(f.drv, SID_A), 0);
        assert_int_equal(siov_dev_enable_pri(f.drv, SID_A), 0);
        assert_int_equal(siov_dev_disable_pri(f.drv, SID_A), 0);
        struct qgeo g = qgeo(&f);
        uint64_t last = g.base + (g.iqt + g.bytes - g.dsz) % g.bytes, qw0;
        assert_int_equal(siov_mem_read(f.mem, last, &qw0, 8), 0);
        assert_int_equal(siov_dsc_type(qw0), SIOV_DSC_WAIT);
        assert_int_equal(!!(qw0 & SIOV_WAIT0_PD), pds);
        inj_reset();
        fx_fini(&f);
    }
}

/* CAP.RWBF set: the driver flushes the write buffer (GCMD.WBF, waits for
   GSTS.WBFS to clear) after writing context and PASID entries; a unit that
   never clears WBFS makes those calls time out. */
static void test_write_buffer_flush(void **state)
{
    (void)state;
    for (int stuck = 0; stuck < 2; stuck++) {
        struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
        struct siov_iommu *u = siov_iommu_new(mem, NULL);
        inj_reset();
        inj.cap_set = SIOV_CAP_RWBF;
        struct siov_driver *drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
        assert_non_null(drv);
        struct siov_domain *d = siov_domain_new(drv, SIOV_DOMAIN_FIRST_LEVEL);
        assert_non_null(d);
        assert_int_equal(siov_dev_enable_aux(drv, SID_B), 0);
        inj.gsts_set = stuck ? SIOV_GSTS_WBFS : 0;
        assert_int_equal(siov_aux_attach(d, SID_B), stuck ? -ETIMEDOUT : 0);
        inj.gsts_set = 0;
        if (!stuck)
            assert_int_equal(siov_aux_detach(d, SID_B), 0);
        else
            (void)siov_aux_detach(d, SID_B);
        /* a new device beside SID_B (its context table stays): with the flush
           stuck its context entry is taken back, not left present */
        const siov_sid sid_c = SID_B + 1;
        uint64_t avail = siov_driver_pool_avail(drv);
        inj.gsts_set = stuck ? SIOV_GSTS_WBFS : 0;
        assert_int_equal(siov_dev_enable_aux(drv, sid_c), stuck ? -ETIMEDOUT : 0);
        inj.gsts_set = 0;
        struct siov_xlate x;
        assert_int_equal(siov_translate(u, sid_c, SIOV_NO_PASID, 0, SIOV_ACCESS_READ, &x),
                         stuck ? SIOV_FAULT_SCT_2 : SIOV_FAULT_SPD_2);
        if (stuck)
            assert_int_equal(siov_driver_pool_avail(drv), avail);
        inj_reset();
        assert_int_equal(siov_domain_free(d), 0);
        siov_driver_free(drv);
        siov_iommu_free(u);
        siov_mem_free(mem);
    }
}

/* The write buffer's status clears at GSTS read late_wbfs.at. */
static struct {
    long at;
} late_wbfs;

static void wbfs_clears(void)
{
    if (inj.gsts_reads == late_wbfs.at)
        inj.gsts_set = 0;
}

/* A unit without CAP.RWBF gets no write-buffer flush (WBFS stuck set does
   not matter). With it, GCMD polls GSTS up to SIOV_DRV_POLL_LIMIT times
   after the read that composes the command: WBFS clearing at the last poll
   is seen, one read later is a time-out that names the status bit and the
   command (WBF on top of the enables). */
static void test_gcmd_poll_limit(void **state)
{
    (void)state;
    for (int late = 0; late < 2; late++) {
        struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
        struct siov_iommu *u = siov_iommu_new(mem, NULL);
        inj_reset();
        struct siov_driver *drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
        assert_non_null(drv);
        struct siov_domain *d = siov_domain_new(drv, SIOV_DOMAIN_FIRST_LEVEL);
        assert_int_equal(siov_dev_enable_aux(drv, SID_B), 0);
        /* without CAP.RWBF there is no flush to wait for, whatever WBFS reads */
        inj.gsts_set = SIOV_GSTS_WBFS;
        inj.gsts_reads = 0;
        assert_int_equal(siov_aux_attach(d, SID_B), 0);
        assert_int_equal(inj.gsts_reads, 0);
        inj.gsts_set = 0;
        assert_int_equal(siov_aux_detach(d, SID_B), 0);
        siov_driver_free(drv);
        inj.cap_set = SIOV_CAP_RWBF;
        drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
        assert_non_null(drv);
        d = siov_domain_new(drv, SIOV_DOMAIN_FIRST_LEVEL);
        assert_int_equal(siov_dev_enable_aux(drv, SID_B), 0);
        inj.gsts_reads = 0;
        inj.gsts_set = SIOV_GSTS_WBFS;
        late_wbfs.at = 1 + (long)SIOV_DRV_POLL_LIMIT + late;
        inj.on_gsts = wbfs_clears;
        int rc = siov_aux_attach(d, SID_B);
        long reads = inj.gsts_reads;
        inj.on_gsts = NULL;
        inj.gsts_set = 0;
        if (late) {
            assert_int_equal(rc, -ETIMEDOUT);
            assert_non_null(strstr(siov_driver_last_error(drv),
                                   "GSTS bit 0x08000000 did not clear after GCMD 0x8e000000 (GSTS 0x"));
        } else {
            assert_int_equal(rc, 0);
            assert_int_equal(reads, 1 + (long)SIOV_DRV_POLL_LIMIT);
            assert_int_equal(siov_aux_detach(d, SID_B), 0);
        }
        inj_reset();
        assert_int_equal(siov_domain_free(d), 0);
        siov_driver_free(drv);
        siov_iommu_free(u);
        siov_mem_free(mem);
    }
}

/* Capability combinations the configuration cannot express, as the driver
   reads them: no SAGAW level (no second level), ND=7 (reserved: 16-bit DIDs
   as with 6), scalable mode without ECAP.PASID (no aux domains), nesting
   without first-level support, ECAP.PASID without scalable mode (legacy: no
   aux domains either). */
static void test_unusual_capabilities(void **state)
{
    (void)state;
    for (int c = 0; c < 5; c++) {
        struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
        struct siov_iommu *u = siov_iommu_new(mem, NULL);
        inj_reset();
        if (c == 0)
            inj.cap_clear = SIOV_CAP_SAGAW;
        else if (c == 1)
            inj.cap_set = SIOV_CAP_ND;
        else
            inj.ecap_clear = c == 2 ? SIOV_ECAP_PASID : c == 3 ? SIOV_ECAP_FLTS : SIOV_ECAP_SMTS;
        struct siov_driver *drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
        assert_non_null(drv);
        assert_int_equal(siov_driver_capable(drv, SIOV_CAP_SECOND_LEVEL), c != 0);
        assert_int_equal(siov_driver_capable(drv, SIOV_CAP_NESTED), c == 1 || c == 2);
        assert_int_equal(siov_driver_capable(drv, SIOV_CAP_FIRST_LEVEL), c != 3 && c != 4);
        assert_int_equal(siov_driver_capable(drv, SIOV_CAP_AUX_DOMAIN), c != 2 && c != 4);
        errno = 0;
        struct siov_domain *sl = siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(sl == NULL, c == 0);
        if (c == 0)
            assert_int_equal(errno, ENODEV);
        assert_int_equal(siov_dev_enable_aux(drv, SID_A), c == 2 || c == 4 ? -ENODEV : 0);
        if (c == 2) { /* no PASID support: a device's context entry leaves PASIDE clear */
            struct siov_domain *pt = siov_domain_new(drv, SIOV_DOMAIN_PASS_THROUGH);
            assert_int_equal(siov_attach(pt, SID_B), 0);
            struct siov_xlate x;
            assert_int_equal(siov_translate(u, SID_B, SIOV_NO_PASID, 0x5000, SIOV_ACCESS_READ, &x), SIOV_OK);
            assert_int_equal(x.addr, 0x5000);
            assert_int_equal(siov_translate(u, SID_B, 1, 0x5000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SCT_6);
            assert_int_equal(siov_detach(pt, SID_B), 0);
            assert_int_equal(siov_domain_free(pt), 0);
        }
        if (c == 1) { /* the reserved ND 7 counts as 6: every 16-bit DID but 0, and no more */
            struct siov_domain *d[3], *last = NULL;
            for (int i = 0; i < 3; i++)
                assert_non_null(d[i] = siov_domain_new(drv, SIOV_DOMAIN_PASS_THROUGH));
            assert_int_equal(siov_domain_did(d[2]), 4);
            for (int i = 0; i < 3; i++)
                assert_int_equal(siov_domain_free(d[i]), 0);
            for (unsigned i = 0; i < 0xFFFFu - (sl != NULL); i++)
                assert_non_null(last = siov_domain_new(drv, SIOV_DOMAIN_PASS_THROUGH));
            assert_int_equal(siov_domain_did(last), 0xFFFF);
            errno = 0;
            assert_null(siov_domain_new(drv, SIOV_DOMAIN_PASS_THROUGH));
            assert_int_equal(errno, ENOSPC);
            assert_string_equal(siov_driver_last_error(drv), "no domain id left (all 65535 in use; CAP.ND)");
        }
        if (sl)
            assert_int_equal(siov_domain_free(sl), 0);
        inj_reset();
        siov_driver_free(drv);
        siov_iommu_free(u);
        siov_mem_free(mem);
    }
}

/* --------------------------------------------------------------- ordering */
/* Where an entry being torn down is, and what its present bit must read
   while the driver waits on the unit (an MMIO read) during the teardown. */
static struct {
    struct siov_mem *mem;
    uint64_t gpa, present;
    unsigned reads, violations;
} watch;

static void check_not_present(void)
{
    uint64_t v = 0;
    assert_int_equal(siov_mem_read(watch.mem, watch.gpa, &v, 8), 0);
    watch.reads++;
    watch.violations += (v & watch.present) != 0;
}

static uint64_t rd(struct siov_mem *mem, uint64_t gpa)
{
    uint64_t v = 0;
    assert_int_equal(siov_mem_read(mem, gpa, &v, 8), 0);
    return v;
}

/* Spec 6.5.3.3 and the PASID-entry teardown of the facts sheet (10.3): an
   entry is made not present first, then invalidated. Whenever the driver
   talks to the unit during a detach, a device release or an unmap, the
   entry (PASID-table entry, context entry, leaf) already reads not present. */
static void test_entries_not_present_while_invalidated(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
    struct siov_iommu *u = siov_iommu_new(mem, NULL);
    struct siov_driver *drv = siov_driver_new(u, mem, POOL_BASE, POOL_SIZE);
    struct siov_domain *sl = siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_domain *fl = siov_domain_new(drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_domain_map(sl, 0x4000, 8 * G1, K4, RW), 0);
    assert_int_equal(siov_dev_enable_aux(drv, SID_A), 0);
    assert_int_equal(siov_aux_attach(fl, SID_A), 0);
    assert_int_equal(siov_attach(sl, SID_A), 0);
    /* the entries, found through the tables as the unit finds them */
    uint64_t root = siov_mmio_read(u, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
    uint64_t ce = (rd(mem, root + SIOV_SID_BUS(SID_A) * 16) & SIOV_SRE0_LCTP) + (SIOV_SID_DEVFN(SID_A) & 0x7F) * 32ull;
    uint64_t dir = rd(mem, ce) & SIOV_SCE0_PASIDDIRPTR;
    uint64_t pt = rd(mem, dir) & SIOV_PDE_SMPTBLPTR; /* PASIDs 0..63 */
    uint32_t pasid = (uint32_t)siov_aux_pasid(fl);
    struct {
        uint64_t gpa, present;
    } steps[4];
    uint64_t slpt = rd(mem, pt) & SIOV_PTE0_SLPTPTR, e = slpt; /* the SL leaf of 0x4000 */
    for (unsigned level = 4; level > 1; level--)
        e = rd(mem, e + siov_level_index(0x4000, level) * 8) & SIOV_SL_ADDR;
    steps[0].gpa = e + siov_level_index(0x4000, 1) * 8;
    steps[0].present = SIOV_SL_R | SIOV_SL_W | SIOV_SL_X;
    steps[1].gpa = pt + pasid * 64ull;
    steps[2].gpa = pt;
    steps[3].gpa = ce;
    steps[1].present = steps[2].present = SIOV_PTE0_P;
    steps[3].present = SIOV_SCE0_P;
    watch.mem = mem;
    inj_reset();
    inj.on_read = check_not_present;
    for (int s = 0; s < 4; s++) {
        watch.gpa = steps[s].gpa;
        watch.present = steps[s].present;
        watch.reads = watch.violations = 0;
        assert_true(rd(mem, watch.gpa) & watch.present);
        int rc = s == 0 ? (int)siov_domain_unmap(sl, 0x4000, K4)
                 : s == 1 ? siov_aux_detach(fl, SID_A)
                 : s == 2 ? siov_detach(sl, SID_A)
                          : siov_dev_disable_aux(drv, SID_A);
        assert_true(rc >= 0);
        assert_true(watch.reads > 0);
        if (watch.violations)
            fail_msg("step %d: the entry read present at %u of %u unit accesses", s, watch.violations, watch.reads);
    }
    inj_reset();
    assert_int_equal(siov_domain_free(sl), 0);
    assert_int_equal(siov_domain_free(fl), 0);
    siov_driver_free(drv);
    siov_iommu_free(u);
    siov_mem_free(mem);
}

/* The writes of the log that touch [gpa, gpa + len), in order (zeroing a
   whole new table page aside). */
static unsigned writes_to(const struct cbmem *m, uint64_t gpa, uint64_t len, const struct wr **out, unsigned max)
{
    unsigned n = 0;
    for (unsigned i = 0; i < m->nlog && n < max; i++)
        if (m->log[i].len <= 64 && m->log[i].gpa < gpa + len && gpa < m->log[i].gpa + m->log[i].len)
            out[n++] = &m->log[i];
    return n;
}

static uint64_t le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | b[i];
    return v;
}

/* The unit may read an entry in pieces at any time, so the driver writes
   every field before the present bit (spec 9.4, 9.6): the scalable context
   entry's qw1, then qw0 with P; a PASID-table entry whole with P clear, then
   qw0 with P; a legacy context entry qw1, then qw0 with P; and takes a
   legacy entry down P first, qw1 last. */
static void test_entries_written_fields_before_present(void **state)
{
    (void)state;
    struct wr *log = calloc(WLOG_MAX, sizeof(*log));
    assert_non_null(log);
    const struct wr *w[8];
    for (int legacy = 0; legacy < 2; legacy++) {
        struct world x;
        world_init(&x, legacy);
        struct siov_driver *drv = siov_driver_new(x.iommu, x.mem, POOL_BASE, POOL_SIZE);
        assert_non_null(drv);
        struct siov_domain *d = siov_domain_new(drv, legacy ? SIOV_DOMAIN_SECOND_LEVEL : SIOV_DOMAIN_FIRST_LEVEL);
        uint64_t root = siov_mmio_read(x.iommu, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
        x.cb.log = log;
        x.cb.nlog = 0;
        if (!legacy) {
            assert_int_equal(siov_dev_enable_aux(drv, SID_A), 0);
            uint64_t ce = (le64(x.cb.buf + root) & SIOV_SRE0_LCTP) + (SIOV_SID_DEVFN(SID_A) & 0x7F) * 32ull;
            assert_int_equal(writes_to(&x.cb, ce, 32, w, 8), 2);
            assert_true(w[0]->gpa == ce + 8 && w[0]->len == 8 && le64(w[0]->data) == 0); /* RID_PASID 0 */
            assert_true(w[1]->gpa == ce && w[1]->len == 8 && (le64(w[1]->data) & SIOV_SCE0_P));
            x.cb.nlog = 0;
            assert_int_equal(siov_aux_attach(d, SID_A), 0);
            uint64_t dir = le64(x.cb.buf + ce) & SIOV_SCE0_PASIDDIRPTR;
            uint32_t pasid = (uint32_t)siov_aux_pasid(d);
            uint64_t pe = (le64(x.cb.buf + dir) & SIOV_PDE_SMPTBLPTR) + pasid * 64ull;
            assert_int_equal(writes_to(&x.cb, pe, 64, w, 8), 2);
            assert_true(w[0]->gpa == pe && w[0]->len == 64 && !(le64(w[0]->data) & SIOV_PTE0_P));
            assert_int_equal(le64(w[0]->data) | SIOV_PTE0_P, le64(x.cb.buf + pe));
            assert_memory_equal(w[0]->data + 8, x.cb.buf + pe + 8, 56); /* every other field already final */
            assert_true(w[1]->gpa == pe && w[1]->len == 8 && le64(w[1]->data) == le64(x.cb.buf + pe));
            x.cb.log = NULL;
            assert_int_equal(siov_aux_detach(d, SID_A), 0);
            assert_int_equal(siov_dev_disable_aux(drv, SID_A), 0);
        } else {
            assert_int_equal(siov_attach(d, SID_A), 0);
            uint64_t ce = (le64(x.cb.buf + root) & SIOV_RE0_CTP) + SIOV_SID_DEVFN(SID_A) * 16ull;
            assert_int_equal(writes_to(&x.cb, ce, 16, w, 8), 2);
            uint64_t qw1 = siov_set(0, SIOV_CE1_DID, (uint64_t)siov_domain_did(d)) | siov_set(0, SIOV_CE1_AW, SIOV_AW_4LVL);
            assert_true(w[0]->gpa == ce + 8 && w[0]->len == 8 && le64(w[0]->data) == qw1);
            assert_true(w[1]->gpa == ce && w[1]->len == 8 && (le64(w[1]->data) & SIOV_CE0_P));
            x.cb.nlog = 0;
            assert_int_equal(siov_detach(d, SID_A), 0);
            unsigned n = writes_to(&x.cb, ce, 16, w, 8);
            assert_true(n >= 2);
            assert_true(w[0]->gpa == ce && w[0]->len == 8 && le64(w[0]->data) == 0);
            assert_true(w[n - 1]->gpa == ce + 8 && le64(w[n - 1]->data) == 0);
            x.cb.log = NULL;
        }
        assert_int_equal(siov_domain_free(d), 0);
        siov_driver_free(drv);
        x.drv = NULL;
        teardown_world(&x);
    }
    free(log);
}

/* An interrupt remapping table entry is written as two aligned 8-byte
   stores: on allocation qw1 then qw0 with P; on free qw0 (P clear) first,
   then qw1. */
static void test_irte_writes(void **state)
{
    (void)state;
    struct wr *log = calloc(WLOG_MAX, sizeof(*log));
    assert_non_null(log);
    const struct wr *w[8];
    struct world x;
    world_init(&x, false);
    struct siov_driver *drv = siov_driver_new(x.iommu, x.mem, POOL_BASE, POOL_SIZE);
    assert_non_null(drv);
    uint64_t irt = siov_mmio_read(x.iommu, SIOV_REG_IRTA, 8) & SIOV_IRTA_IRTA;
    x.cb.log = log;
    for (int posted = 0; posted < 2; posted++) {
        struct siov_msi m;
        x.cb.nlog = 0;
        if (posted)
            assert_int_equal(siov_dev_irq_alloc_posted(drv, SID_A, 0x3000c0, 0x40, &m), 0);
        else
            assert_int_equal(siov_dev_irq_alloc(drv, SID_A, 1, 0x40, &m), 0);
        uint64_t e = irt + siov_msi_handle(m.addr) * 16ull;
        assert_int_equal(writes_to(&x.cb, e, 16, w, 8), 2);
        assert_true(w[0]->gpa == e + 8 && w[0]->len == 8 && le64(w[0]->data) == le64(x.cb.buf + e + 8));
        assert_true(w[1]->gpa == e && w[1]->len == 8 && (le64(w[1]->data) & SIOV_IRTE0_P));
        assert_int_not_equal(le64(x.cb.buf + e + 8), 0);
        x.cb.nlog = 0;
        assert_int_equal(siov_dev_irq_free(drv, SID_A, &m), 0);
        assert_int_equal(writes_to(&x.cb, e, 16, w, 8), 2);
        assert_true(w[0]->gpa == e && w[0]->len == 8 && le64(w[0]->data) == 0);
        assert_true(w[1]->gpa == e + 8 && w[1]->len == 8 && le64(w[1]->data) == 0);
    }
    x.cb.log = NULL;
    siov_driver_free(drv);
    x.drv = NULL;
    teardown_world(&x);
    free(log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unit_and_memory_allocation_failures),
        cmocka_unit_test(test_driver_allocation_failures),
        cmocka_unit_test(test_guest_memory_write_failures),
        cmocka_unit_test(test_guest_memory_read_failures),
        cmocka_unit_test(test_unit_that_does_not_respond),
        cmocka_unit_test(test_queue_errors_while_waiting),
        cmocka_unit_test(test_queue_that_stops_fetching),
        cmocka_unit_test(test_queue_full_with_error),
        cmocka_unit_test(test_chunks_after_errors),
        cmocka_unit_test(test_queue_room_poll_limit),
        cmocka_unit_test(test_queue_room_exact),
        cmocka_unit_test(test_wait_poll_limit),
        cmocka_unit_test(test_drain_without_pds),
        cmocka_unit_test(test_write_buffer_flush),
        cmocka_unit_test(test_gcmd_poll_limit),
        cmocka_unit_test(test_unusual_capabilities),
        cmocka_unit_test(test_table_pages_without_host_memory),
        cmocka_unit_test(test_caching_mode_entry_queue_error),
        cmocka_unit_test(test_entries_not_present_while_invalidated),
        cmocka_unit_test(test_entries_written_fields_before_present),
        cmocka_unit_test(test_irte_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The reference driver's bring-up, capabilities, allocators, device set-up
 * and its invalidation-queue handling (src/driver/bringup.c, alloc.c,
 * device.c, qi.c), seen from the outside: registers it programmed, tables it
 * wrote in guest memory, fault reasons of the unit, invalidation counters,
 * and errors of the API. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver_fixture.h"
#include "testlib.h"

#define MEM_SIZE (64ull << 20)
#define POOL_BASE (1ull << 20)
#define POOL_SIZE (16ull << 20)
#define POOL_PAGES (POOL_SIZE / 4096)
#define DATA 0x40000000ull /* output addresses need no backing for siov_translate */
#define SID_A SIOV_SID(0, 1, 0)
#define SID_B SIOV_SID(0, 2, 0)
#define SID_HI SIOV_SID(0, 17, 0) /* devfn 0x88: upper half of bus 0's root entry */

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

static void fx_free(struct fx *f)
{
    drv_fx_close(f->mem, f->iommu, f->drv);
    free(f);
}

static struct siov_stats stats(struct fx *f) { return drv_fx_stats(f->iommu); }
static uint64_t reg(struct fx *f, uint64_t off, unsigned size) { return siov_mmio_read(f->iommu, off, size); }

static siov_fault xlate(struct fx *f, siov_sid sid, uint32_t pasid, uint64_t iova, struct siov_xlate *out)
{
    return siov_translate(f->iommu, sid, pasid, iova, SIOV_ACCESS_READ, out);
}

static uint64_t r64(struct fx *f, uint64_t gpa)
{
    return drv_fx_r64(f->mem, gpa);
}

static bool in_pool(uint64_t gpa)
{
    return gpa >= POOL_BASE && gpa < POOL_BASE + POOL_SIZE;
}

/* ---------------------------------------------------------------- bring-up */

static void test_bringup_registers(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint32_t gsts = (uint32_t)reg(f, SIOV_REG_GSTS, 4);
    assert_true(gsts & SIOV_GSTS_TES);
    assert_true(gsts & SIOV_GSTS_QIES);
    assert_true(gsts & SIOV_GSTS_RTPS);
    uint64_t rtaddr = reg(f, SIOV_REG_RTADDR, 8);
    assert_int_equal(siov_get(rtaddr, SIOV_RTADDR_TTM), SIOV_TTM_SCALABLE);
    assert_true(in_pool(rtaddr & SIOV_RTADDR_RTA));
    uint64_t iqa = reg(f, SIOV_REG_IQA, 8);
    assert_true(iqa & SIOV_IQA_DW);
    assert_int_equal(siov_get(iqa, SIOV_IQA_QS), 0);
    assert_true(in_pool(iqa & SIOV_IQA_IQA));
    assert_int_equal(reg(f, SIOV_REG_IQH, 8), reg(f, SIOV_REG_IQT, 8)); /* drained */
    assert_int_equal(reg(f, SIOV_REG_FSTS, 4) & (SIOV_FSTS_IQE | SIOV_FSTS_ITE | SIOV_FSTS_ICE), 0);
    struct siov_stats s = stats(f);
    assert_true(s.inv_context >= 1);      /* global context-cache invalidation after SRTP */
    assert_true(s.inv_pasid_cache >= 1);  /* global PASID-cache */
    assert_true(s.inv_iotlb >= 1);        /* global IOTLB */
    assert_true(s.inv_wait >= 1);
    /* interrupt remapping on (x2APIC mode, 256 entries from the pool), compatibility format blocked */
    assert_true(gsts & SIOV_GSTS_IRES);
    assert_true(gsts & SIOV_GSTS_IRTPS);
    assert_false(gsts & SIOV_GSTS_CFIS);
    uint64_t irta = reg(f, SIOV_REG_IRTA, 8);
    assert_true(in_pool(irta & SIOV_IRTA_IRTA));
    assert_int_equal(irta & ~SIOV_IRTA_IRTA, SIOV_IRTA_EIME | 7);
    assert_int_equal(s.inv_iec, 1); /* global, after SIRTP (no CAP.ESIRTPS) */
    assert_int_equal(reg(f, SIOV_REG_FECTL, 4), SIOV_ECTL_IM); /* masked until the embedder names a message */
    /* the page request queue (ECAP.PRS): one page, empty, its event masked (polled) */
    uint64_t pqa = reg(f, SIOV_REG_PQA, 8);
    assert_true(in_pool(pqa & SIOV_PQA_PQA));
    assert_int_equal(siov_get(pqa, SIOV_PQA_PQS), 0);
    assert_int_equal(reg(f, SIOV_REG_PQH, 8), 0);
    assert_int_equal(reg(f, SIOV_REG_PQT, 8), 0);
    assert_int_equal(reg(f, SIOV_REG_PRS, 4), 0);
    assert_int_equal(reg(f, SIOV_REG_PECTL, 4), SIOV_ECTL_IM);
    /* root, queue, status, interrupt table and page request queue pages come from the pool */
    assert_int_equal(siov_driver_pool_avail(f->drv), POOL_PAGES - 5);
    /* no device set up: the root entry half is not present */
    struct siov_xlate x;
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x1000, &x), SIOV_FAULT_SRT_2);
    fx_free(f);
}

static void test_bringup_legacy(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.scalable = false;
    struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
    uint64_t rtaddr = reg(f, SIOV_REG_RTADDR, 8);
    assert_int_equal(siov_get(rtaddr, SIOV_RTADDR_TTM), SIOV_TTM_LEGACY);
    assert_false(reg(f, SIOV_REG_IQA, 8) & SIOV_IQA_DW); /* 128-bit descriptors without SMTS */
    assert_int_equal(siov_get(reg(f, SIOV_REG_IQA, 8), SIOV_IQA_QS), 0); /* one page, as in scalable mode */
    assert_true(reg(f, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES);
    assert_false(siov_driver_capable(f->drv, SIOV_CAP_AUX_DOMAIN));
    assert_false(siov_driver_capable(f->drv, SIOV_CAP_FIRST_LEVEL));
    assert_false(siov_driver_capable(f->drv, SIOV_CAP_NESTED));
    assert_true(siov_driver_capable(f->drv, SIOV_CAP_SECOND_LEVEL));
    assert_true(siov_driver_capable(f->drv, SIOV_CAP_PASS_THROUGH));
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), -ENODEV);
    assert_int_equal(siov_dev_disable_aux(f->drv, SID_A), -ENODEV);
    errno = 0;
    assert_null(siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL));
    assert_int_equal(errno, ENODEV);

    struct siov_domain *sl = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(sl);
    assert_int_equal(siov_aux_attach(sl, SID_A), -ENODEV);
    assert_int_equal(siov_domain_map(sl, 0x10000, DATA, 0x2000, SIOV_PROT_READ | SIOV_PROT_WRITE), 0);
    assert_int_equal(siov_attach(sl, SID_A), 0);
    struct siov_xlate x;
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x11234, &x), SIOV_OK);
    assert_int_equal(x.addr, DATA + 0x1234);
    assert_int_equal(x.did, siov_domain_did(sl));
    assert_int_equal(xlate(f, SID_A, 3, 0x11234, &x), SIOV_FAULT_RTA_2); /* PASIDs in legacy mode */
    /* unmap invalidates the legacy IOTLB entry */
    assert_int_equal(siov_domain_unmap(sl, 0x11000, 0x1000), 0x1000);
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x11234, &x), SIOV_FAULT_LGN_3);
    assert_int_equal(siov_detach(sl, SID_A), 0);
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x10000, &x), SIOV_FAULT_LRT_2); /* device released: root entry cleared */

    struct siov_domain *pt = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH);
    assert_non_null(pt);
    assert_int_equal(siov_attach(pt, SID_B), 0);
    assert_int_equal(xlate(f, SID_B, SIOV_NO_PASID, 0x7654000, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x7654000);
    assert_int_equal(siov_detach(pt, SID_B), 0);
    assert_int_equal(siov_domain_free(pt), 0);
    assert_int_equal(siov_domain_free(sl), 0);
    assert_int_equal(siov_driver_pool_avail(f->drv), POOL_PAGES - 4);
    assert_true(reg(f, SIOV_REG_GSTS, 4) & SIOV_GSTS_IRES); /* interrupt remapping in legacy mode too */
    fx_free(f);
}

static void test_new_bad_args(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
    struct siov_iommu *iommu = siov_iommu_new(mem, NULL);
    errno = 0;
    assert_null(siov_driver_new(NULL, mem, POOL_BASE, POOL_SIZE));
    assert_int_equal(errno, EINVAL);
    assert_null(siov_driver_new(iommu, NULL, POOL_BASE, POOL_SIZE));
    errno = 0;
    assert_null(siov_driver_new(iommu, mem, POOL_BASE, 4 * 4096)); /* root, queue, status, IRT, PRQ need 5 */
    assert_int_equal(errno, EINVAL);
    assert_null(siov_driver_new(iommu, mem, POOL_BASE + 1, 5 * 4096)); /* 4 whole pages after rounding */
    assert_null(siov_driver_new(iommu, mem, MEM_SIZE - 4096, 5 * 4096)); /* beyond memory */
    assert_null(siov_driver_new(iommu, mem, UINT64_MAX - 4095, 8192));  /* wraps */
    /* nothing was programmed */
    assert_int_equal(siov_mmio_read(iommu, SIOV_REG_GSTS, 4), 0);
    assert_int_equal(siov_mmio_read(iommu, SIOV_REG_PQA, 8), 0);
    /* a pool of exactly 5 pages brings the unit up, and every later table allocation fails */
    struct siov_driver *drv = siov_driver_new(iommu, mem, POOL_BASE, 5 * 4096);
    assert_non_null(drv);
    assert_int_equal(siov_driver_pool_avail(drv), 0);
    assert_int_equal(siov_dev_enable_aux(drv, SID_A), -ENOMEM);
    assert_int_equal(siov_dev_enable_ats(drv, SID_A), -ENOMEM);
    errno = 0;
    assert_null(siov_domain_new(drv, SIOV_DOMAIN_SECOND_LEVEL));
    assert_int_equal(errno, ENOMEM);
    struct siov_domain *pt = siov_domain_new(drv, SIOV_DOMAIN_PASS_THROUGH); /* needs no table */
    assert_non_null(pt);
    assert_int_equal(siov_attach(pt, SID_A), -ENOMEM);
    assert_int_equal(siov_driver_pool_avail(drv), 0);
    siov_driver_free(drv);
    siov_driver_free(NULL);
    assert_false(siov_driver_capable(NULL, SIOV_CAP_AUX_DOMAIN));
    assert_int_equal(siov_driver_pool_avail(NULL), 0);
    assert_int_equal(siov_dev_enable_aux(NULL, SID_A), -EINVAL);
    assert_int_equal(siov_dev_disable_aux(NULL, SID_A), -EINVAL);
    siov_iommu_free(iommu);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    /* interrupt remapping in xAPIC mode (no ECAP.EIM) takes its table page all the same */
    cfg.x2apic = false;
    iommu = siov_iommu_new(mem, &cfg);
    errno = 0;
    assert_null(siov_driver_new(iommu, mem, POOL_BASE, 4 * 4096));
    assert_int_equal(errno, EINVAL);
    drv = siov_driver_new(iommu, mem, POOL_BASE, 5 * 4096);
    assert_non_null(drv);
    assert_true(siov_mmio_read(iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_IRES);
    siov_driver_free(drv);
    siov_iommu_free(iommu);
    cfg.x2apic = true;
    /* without interrupt remapping or page requests 3 pages do */
    cfg.irq_remapping = false;
    cfg.page_requests = false;
    iommu = siov_iommu_new(mem, &cfg);
    drv = siov_driver_new(iommu, mem, POOL_BASE, 3 * 4096);
    assert_non_null(drv);
    assert_false(siov_mmio_read(iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_IRES);
    struct siov_msi msi;
    assert_int_equal(siov_dev_irq_alloc(drv, SID_A, 1, 0x40, &msi), -ENODEV);
    siov_driver_free(drv);
    siov_iommu_free(iommu);
    siov_mem_free(mem);
}

static void test_free_quiesces_and_rebind(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0, DATA, 0x1000, SIOV_PROT_READ), 0);
    assert_int_equal(siov_attach(d, SID_A), 0); /* left attached: siov_driver_free cleans up */
    siov_driver_free(f->drv);
    uint32_t gsts = (uint32_t)reg(f, SIOV_REG_GSTS, 4);
    assert_false(gsts & SIOV_GSTS_TES);
    assert_false(gsts & SIOV_GSTS_QIES);
    /* a second driver over another pool: fresh tables, nothing of the first survives */
    f->drv = siov_driver_new(f->iommu, f->mem, POOL_BASE + POOL_SIZE, POOL_SIZE);
    assert_non_null(f->drv);
    struct siov_xlate x;
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0, &x), SIOV_FAULT_SRT_2);
    /* a third bound while the second is live: it turns translation off and takes over */
    struct siov_driver *third = siov_driver_new(f->iommu, f->mem, POOL_BASE + 2 * POOL_SIZE, POOL_SIZE);
    assert_non_null(third);
    assert_true(reg(f, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES);
    uint64_t rta = reg(f, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
    assert_true(rta >= POOL_BASE + 2 * POOL_SIZE && rta < POOL_BASE + 3 * POOL_SIZE);
    siov_driver_free(third);
    fx_free(f);
}

/* ------------------------------------------------------------ capabilities */

static void test_capabilities(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_true(siov_driver_capable(f->drv, SIOV_CAP_AUX_DOMAIN));
    assert_true(siov_driver_capable(f->drv, SIOV_CAP_FIRST_LEVEL));
    assert_true(siov_driver_capable(f->drv, SIOV_CAP_SECOND_LEVEL));
    assert_true(siov_driver_capable(f->drv, SIOV_CAP_NESTED));
    assert_true(siov_driver_capable(f->drv, SIOV_CAP_PASS_THROUGH));
    assert_false(siov_driver_capable(f->drv, (enum siov_cap)99));
    fx_free(f);

    static const struct {
        size_t off;            /* the config flag turned off */
        enum siov_cap lost[2]; /* capabilities that go with it */
        enum siov_domain_type type;
    } cases[] = {
        {offsetof(struct siov_iommu_config, first_level), {SIOV_CAP_FIRST_LEVEL, SIOV_CAP_NESTED},
         SIOV_DOMAIN_FIRST_LEVEL},
        {offsetof(struct siov_iommu_config, second_level), {SIOV_CAP_SECOND_LEVEL, SIOV_CAP_NESTED},
         SIOV_DOMAIN_SECOND_LEVEL},
        {offsetof(struct siov_iommu_config, pass_through), {SIOV_CAP_PASS_THROUGH, SIOV_CAP_PASS_THROUGH},
         SIOV_DOMAIN_PASS_THROUGH},
        {offsetof(struct siov_iommu_config, nested), {SIOV_CAP_NESTED, SIOV_CAP_NESTED},
         SIOV_DOMAIN_SECOND_LEVEL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        *(bool *)((char *)&cfg + cases[i].off) = false;
        cfg.nested = cfg.nested && cfg.first_level && cfg.second_level; /* NEST needs both stages */
        f = fx_new_cfg(&cfg, POOL_SIZE);
        assert_false(siov_driver_capable(f->drv, cases[i].lost[0]));
        assert_false(siov_driver_capable(f->drv, cases[i].lost[1]));
        assert_true(siov_driver_capable(f->drv, SIOV_CAP_AUX_DOMAIN));
        if (cases[i].lost[0] != SIOV_CAP_NESTED) {
            errno = 0;
            assert_null(siov_domain_new(f->drv, cases[i].type));
            assert_int_equal(errno, ENODEV);
        } else {
            struct siov_domain *p = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
            errno = 0;
            assert_null(siov_domain_new_nested(p));
            assert_int_equal(errno, ENODEV);
        }
        fx_free(f);
    }
}

/* ---------------------------------------------------------- allocators */

/* Device set-up: context table, PASID directory sized by ECAP.PSS, tables
   returned when the device is released. */
static void test_device_setup_tables(void **state)
{
    (void)state;
    static const unsigned bits[] = {20, 15, 14, 13, 8, 1};
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.pasid_bits = bits[i];
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        uint64_t base = siov_driver_pool_avail(f->drv);
        unsigned pdts = bits[i] > 13 ? bits[i] - 13 : 0;
        uint64_t dir_pages = pdts >= 2 ? 1ull << (pdts - 2) : 1;
        assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
        assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0); /* idempotent */
        assert_int_equal(siov_driver_pool_avail(f->drv), base - 1 - dir_pages);
        /* the context entry the unit sees: P, PASIDE, PDTS, RID_PASID 0; DTE only once ATS is on */
        uint64_t root = reg(f, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
        uint64_t re = r64(f, root + 16 * 0);
        assert_true(re & SIOV_SRE0_LP);
        uint64_t ce = (re & SIOV_SRE0_LCTP) + 32 * SIOV_SID_DEVFN(SID_A);
        uint64_t qw0 = r64(f, ce), qw1 = r64(f, ce + 8);
        assert_true(qw0 & SIOV_SCE0_P);
        assert_true(qw0 & SIOV_SCE0_PASIDE);
        assert_false(qw0 & SIOV_SCE0_DTE);
        assert_int_equal(siov_get(qw0, SIOV_SCE0_PDTS), pdts);
        assert_true(in_pool(qw0 & SIOV_SCE0_PASIDDIRPTR));
        assert_int_equal(siov_get(qw1, SIOV_SCE1_RID_PASID), 0);
        /* the upper half of the same bus takes its own context table */
        assert_int_equal(siov_dev_enable_aux(f->drv, SID_HI), 0);
        assert_int_equal(siov_driver_pool_avail(f->drv), base - 2 - 2 * dir_pages);
        assert_true(r64(f, root + 8) & SIOV_SRE1_UP);
        /* PASID 1 (directory entry 0) has no table yet: SPD.2; no PASID -> RID_PASID 0: SPD.2 too */
        struct siov_xlate x;
        assert_int_equal(xlate(f, SID_A, 1, 0, &x), SIOV_FAULT_SPD_2);
        assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0, &x), SIOV_FAULT_SPD_2);
        assert_int_equal(xlate(f, SID_B, SIOV_NO_PASID, 0, &x), SIOV_FAULT_SCT_2);
        /* the directory covers at least the unit's width: the first PASID
           beyond that width faults SGN.10, not the directory's SCT.7 */
        if (bits[i] < 20)
            assert_int_equal(xlate(f, SID_A, 1u << bits[i], 0, &x), SIOV_FAULT_SGN_10);
        assert_int_equal(siov_dev_disable_aux(f->drv, SID_HI), 0);
        assert_int_equal(siov_dev_disable_aux(f->drv, SID_A), 0);
        assert_int_equal(siov_dev_disable_aux(f->drv, SID_A), -EINVAL);
        assert_int_equal(siov_driver_pool_avail(f->drv), base);
        assert_int_equal(r64(f, root), 0);
        assert_int_equal(r64(f, root + 8), 0);
        assert_int_equal(xlate(f, SID_A, 1, 0, &x), SIOV_FAULT_SRT_2);
        fx_free(f);
    }
}

static void test_pasid_exhaustion(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.pasid_bits = 2; /* PASIDs 1..3; 0 is RID_PASID */
    struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    struct siov_domain *d[4];
    for (int i = 0; i < 4; i++)
        d[i] = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(siov_aux_attach(d[i], SID_A), 0);
        assert_int_equal(siov_aux_pasid(d[i]), i + 1); /* lowest free first */
    }
    uint64_t avail = siov_driver_pool_avail(f->drv);
    assert_int_equal(siov_aux_attach(d[3], SID_A), -ENOSPC);
    assert_int_equal(siov_aux_pasid(d[3]), -ENOENT);
    assert_int_equal(siov_driver_pool_avail(f->drv), avail);
    assert_int_equal(siov_aux_detach(d[1], SID_A), 0);
    assert_int_equal(siov_aux_pasid(d[1]), -ENOENT); /* released with its last aux attachment */
    assert_int_equal(siov_aux_attach(d[3], SID_A), 0);
    assert_int_equal(siov_aux_pasid(d[3]), 2);
    for (int i = 0; i < 4; i++) {
        if (i != 1)
            assert_int_equal(siov_aux_detach(d[i], SID_A), 0);
        assert_int_equal(siov_domain_free(d[i]), 0);
    }
    fx_free(f);
}

static void test_did_exhaustion(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.domain_bits = 4; /* CAP.ND=0: 16 DIDs, 0 reserved */
    struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
    struct siov_domain *d[15];
    for (int i = 0; i < 15; i++) {
        d[i] = siov_domain_new(f->drv, i % 2 ? SIOV_DOMAIN_FIRST_LEVEL : SIOV_DOMAIN_PASS_THROUGH);
        assert_non_null(d[i]);
        assert_int_equal(siov_domain_did(d[i]), i + 1);
    }
    uint64_t avail = siov_driver_pool_avail(f->drv);
    errno = 0;
    assert_null(siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL));
    assert_int_equal(errno, ENOSPC);
    assert_null(siov_domain_new_nested(d[0]) /* PT parent */);
    assert_int_equal(siov_driver_pool_avail(f->drv), avail);
    assert_int_equal(siov_domain_free(d[6]), 0);
    struct siov_domain *n = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(n);
    assert_int_equal(siov_domain_did(n), 7);
    assert_int_equal(siov_domain_did(NULL), -EINVAL);
    fx_free(f);
    for (unsigned bits = 6; bits <= 8; bits += 2) { /* CAP.ND = 1, 2: 2^bits DIDs, 0 reserved */
        cfg.domain_bits = bits;
        f = fx_new_cfg(&cfg, POOL_SIZE);
        struct siov_domain *all[255];
        for (unsigned i = 0; i < (1u << bits) - 1; i++)
            assert_non_null(all[i] = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH));
        assert_int_equal(siov_domain_did(all[(1u << bits) - 2]), (1 << bits) - 1);
        errno = 0;
        assert_null(siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH));
        assert_int_equal(errno, ENOSPC);
        fx_free(f);
    }
}

/* The pool sizes docs/embedding.md gives: pages each thing takes. */
static void test_pool_sizing(void **state)
{
    (void)state;
    for (int bits = 20; bits >= 14; bits -= 6) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.pasid_bits = (unsigned)bits;
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        uint64_t dir = bits == 20 ? 32 : 1, avail = siov_driver_pool_avail(f->drv);
#define TAKES(n, stmt)                                                 \
    do {                                                               \
        stmt;                                                          \
        assert_int_equal(avail - siov_driver_pool_avail(f->drv), (n)); \
        avail = siov_driver_pool_avail(f->drv);                        \
    } while (0)
        assert_int_equal(POOL_PAGES - avail, 5); /* root table, queue, status word, interrupt table, PRQ */
        TAKES(1 + dir, assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0)); /* context table, directory */
        TAKES(dir, assert_int_equal(siov_dev_enable_aux(f->drv, SID_B), 0));
        struct siov_domain *sl, *pt;
        TAKES(1, sl = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL));
        TAKES(3, assert_int_equal(siov_domain_map(sl, 0x10000000, DATA, 0x1000, SIOV_PROT_READ), 0));
        TAKES(0, assert_int_equal(siov_domain_map(sl, 0x10200000, DATA, 0x200000, SIOV_PROT_READ), 0));
        TAKES(1, assert_int_equal(siov_domain_map(sl, 0x10400000, DATA, 0x1000, SIOV_PROT_READ), 0));
        TAKES(1, assert_int_equal(siov_domain_map(sl, 0x80000000, DATA, 0x1000, SIOV_PROT_READ), 0) /* L1 */;
              assert_int_equal(siov_domain_unmap(sl, 0x80000000, 0x1000), 0x1000); /* frees L1, L2 */
              assert_int_equal(siov_domain_map(sl, 0x80000000, DATA, 0x200000, SIOV_PROT_READ), 0)); /* L2 */
        TAKES(1, assert_int_equal(siov_domain_unmap(sl, 0x80000000, 0x1000), 0x1000)); /* a split */
        TAKES(1, assert_int_equal(siov_aux_attach(sl, SID_A), 0)); /* PASID table for 0..63 */
        TAKES(0, pt = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH));
        TAKES(1 + dir + 1, assert_int_equal(siov_attach(pt, SIOV_SID(1, 0, 0)), 0)); /* new bus */
        TAKES(1 + dir + 1, assert_int_equal(siov_attach(sl, SID_HI), 0)); /* bus 0, upper half */
        TAKES(-(int64_t)(1 + dir + 1), assert_int_equal(siov_detach(sl, SID_HI), 0));
#undef TAKES
        fx_free(f);
    }
}

/* ---------------------------------------------------- invalidation queue */

/* Detaching issues the tear-down sequence: PASID cache, IOTLB (PASID-based
   for first level, by DID for second level), device-TLB, inv-wait. */
static void test_teardown_descriptors(void **state)
{
    (void)state;
    static const enum siov_domain_type types[] = {SIOV_DOMAIN_FIRST_LEVEL, SIOV_DOMAIN_SECOND_LEVEL,
                                                  SIOV_DOMAIN_PASS_THROUGH};
    for (size_t k = 0; k < 6; k++) {
        size_t i = k % 3;
        bool ats = k >= 3;
        for (int aux = 0; aux < 2; aux++) {
            struct fx *f = fx_new();
            struct siov_domain *d = siov_domain_new(f->drv, types[i]);
            assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
            if (ats)
                assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0);
            assert_int_equal(aux ? siov_aux_attach(d, SID_A) : siov_attach(d, SID_A), 0);
            struct siov_stats a = stats(f);
            assert_int_equal(aux ? siov_aux_detach(d, SID_A) : siov_detach(d, SID_A), 0);
            struct siov_stats b = stats(f);
            assert_int_equal(b.inv_pasid_cache - a.inv_pasid_cache, 1);
            bool fl_or_pt = types[i] != SIOV_DOMAIN_SECOND_LEVEL;
            assert_int_equal(b.inv_piotlb - a.inv_piotlb, fl_or_pt ? 1 : 0);
            assert_int_equal(b.inv_iotlb - a.inv_iotlb, fl_or_pt ? 0 : 1);
            assert_int_equal(b.inv_devtlb - a.inv_devtlb, ats ? 1 : 0); /* only with ATS on */
            assert_int_equal(b.inv_wait - a.inv_wait, 1);
            assert_int_equal(reg(f, SIOV_REG_IQH, 8), reg(f, SIOV_REG_IQT, 8));
            fx_free(f);
        }
    }
    /* without device-TLB support no device-TLB invalidation is sent */
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.dev_tlb = false;
    struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), -ENODEV);
    assert_int_equal(siov_attach(d, SID_A), 0);
    struct siov_stats a = stats(f);
    assert_int_equal(siov_detach(d, SID_A), 0);
    assert_int_equal(stats(f).inv_devtlb, a.inv_devtlb);
    uint64_t root = reg(f, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
    assert_int_equal(r64(f, root), 0); /* device released */
    fx_free(f);
}

/* A queue the unit cannot read: the error shows in FSTS.IQE, the driver
   reports -EIO, recovers, and the next operations work. */
static void test_queue_error_recovery(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0, DATA, 0x4000, SIOV_PROT_READ), 0);
    assert_int_equal(siov_attach(d, SID_A), 0);
    uint64_t iq = reg(f, SIOV_REG_IQA, 8) & SIOV_IQA_IQA;
    assert_int_equal(siov_mem_fail_range(f->mem, iq, 4096, SIOV_MEM_FAIL_READ), 0);
    assert_int_equal(siov_domain_unmap(d, 0, 0x1000), -EIO);
    assert_int_equal(reg(f, SIOV_REG_FSTS, 4) & SIOV_FSTS_IQE, 0); /* acknowledged */
    assert_int_equal(reg(f, SIOV_REG_IQH, 8), reg(f, SIOV_REG_IQT, 8));
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    uint64_t pa;
    assert_int_equal(siov_domain_iova_to_phys(d, 0, &pa), -ENOENT); /* the mapping is gone regardless */
    assert_int_equal(siov_domain_unmap(d, 0x1000, 0x1000), 0x1000);
    struct siov_xlate x;
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x1000, &x), SIOV_FAULT_SSL_2);
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x2000, &x), SIOV_OK);
    assert_int_equal(siov_detach(d, SID_A), 0);
    fx_free(f);
}

/* A status write that never lands: the bounded wait gives -ETIMEDOUT. */
static void test_queue_wait_timeout(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0, DATA, 0x2000, SIOV_PROT_READ), 0);
    /* the status page is the pool page after the queue */
    uint64_t status = (reg(f, SIOV_REG_IQA, 8) & SIOV_IQA_IQA) + 4096;
    assert_int_equal(siov_mem_fail_range(f->mem, status, 4096, SIOV_MEM_FAIL_WRITE), 0);
    assert_int_equal(siov_domain_unmap(d, 0, 0x1000), -ETIMEDOUT);
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    assert_int_equal(siov_domain_unmap(d, 0x1000, 0x1000), 0x1000);
    fx_free(f);
}

/* Caching mode: the unit may cache non-present entries, so making entries
   present is followed by invalidations. */
static void test_caching_mode(void **state)
{
    (void)state;
    struct siov_iommu_config cfg = tl_config_mode(true, true);
    struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_stats a = stats(f);
    assert_int_equal(siov_attach(d, SID_A), 0);
    struct siov_stats b = stats(f);
    assert_true(b.inv_context > a.inv_context);     /* new context entry */
    assert_true(b.inv_pasid_cache > a.inv_pasid_cache); /* new PASID entry */
    assert_int_equal(siov_domain_map(d, 0x3000, DATA, 0x1000, SIOV_PROT_READ), 0);
    struct siov_stats c = stats(f);
    assert_int_equal(c.inv_iotlb - b.inv_iotlb, 1); /* new second-level mapping */
    struct siov_xlate x;
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x3000, &x), SIOV_OK);
    assert_int_equal(x.addr, DATA);
    struct siov_domain *fl = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    c = stats(f);
    assert_int_equal(siov_domain_map(fl, 0x3000, DATA, 0x1000, SIOV_PROT_READ), 0);
    assert_int_equal(stats(f).inv_iotlb + stats(f).inv_piotlb, c.inv_iotlb + c.inv_piotlb); /* first level: none */
    fx_free(f);
}

/* ------------------------------------------------------------------- ATS */
/* A device port that records the device-TLB invalidations it receives and
   completes them (or expires them, or completes a wrong ITag first). */
#define ATS_MAX 16
struct ats_port {
    struct siov_iommu *iommu;
    enum { AP_COMPLETE, AP_EXPIRE, AP_BAD_FIRST } mode;
    unsigned n, events;
    struct {
        uint32_t pasid;
        uint64_t addr, size;
        bool global;
        unsigned after_iotlb; /* IOTLB-type events seen before it */
    } e[ATS_MAX];
};

static void ap_inv(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                   unsigned itag)
{
    struct ats_port *p = opaque;
    if (p->n < ATS_MAX) {
        p->e[p->n].pasid = pasid, p->e[p->n].addr = addr, p->e[p->n].size = size, p->e[p->n].global = global;
        p->e[p->n++].after_iotlb = p->events;
    }
    if (p->mode == AP_EXPIRE) {
        siov_iommu_expire(p->iommu);
        return;
    }
    if (p->mode == AP_BAD_FIRST)
        siov_devtlb_complete(p->iommu, sid, itag + 1); /* an ITag not outstanding: ICE */
    siov_devtlb_complete(p->iommu, sid, itag);
}

static void ap_event(void *opaque, const struct siov_inval_event *ev)
{
    struct ats_port *p = opaque;
    if (ev->kind == SIOV_INV_IOTLB || ev->kind == SIOV_INV_PIOTLB)
        p->events++;
}

static const struct siov_device_ops ap_ops = {ap_inv, NULL};

static void expect_inv(const struct ats_port *p, unsigned i, uint32_t pasid, uint64_t addr, uint64_t size)
{
    assert_true(i < p->n);
    assert_int_equal(p->e[i].pasid, pasid);
    assert_int_equal(p->e[i].addr, addr);
    assert_int_equal(p->e[i].size, size);
    assert_false(p->e[i].global);
    assert_true(p->e[i].after_iotlb > 0); /* after the IOTLB invalidation */
}

static uint64_t sm_ctx_qw0(struct fx *f, siov_sid sid)
{
    uint64_t root = reg(f, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
    uint64_t re = r64(f, root + 16 * SIOV_SID_BUS(sid));
    return r64(f, (re & SIOV_SRE0_LCTP) + 32 * (SIOV_SID_DEVFN(sid) & 0x7F));
}

static unsigned queued_iotlb(struct fx *f, uint64_t t0, uint64_t qw[2]);
static unsigned queued_of_type(struct fx *f, uint64_t t0, unsigned type, uint64_t qw[2]);

static void test_enable_ats_scalable(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0x10000, DATA, 0x1000, SIOV_PROT_READ | SIOV_PROT_WRITE), 0);
    assert_int_equal(siov_attach(d, SID_A), 0);
    assert_false(sm_ctx_qw0(f, SID_A) & SIOV_SCE0_DTE);
    struct siov_ats_completion c;
    struct siov_xlate x;
    /* before: the device may not use ATS (and the PASID cache holds its entry) */
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x10000, &x), SIOV_OK);
    assert_int_equal(siov_ats_translate(f->iommu, SID_A, SIOV_NO_PASID, 0x10000, 0, &c), SIOV_FAULT_SCT_5);
    assert_int_equal(siov_translate(f->iommu, SID_A, SIOV_NO_PASID, DATA, SIOV_ACCESS_READ | SIOV_ACCESS_TRANSLATED,
                                    &x), SIOV_FAULT_SCT_5);
    assert_int_equal(siov_dev_enable_ats(NULL, SID_A), -EINVAL);
    uint64_t t0 = reg(f, SIOV_REG_IQT, 8), qw[2] = {0, 0};
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0);
    /* the device's context cache, device-selective; a scalable-mode entry has no DID */
    assert_int_equal(queued_of_type(f, t0, SIOV_DSC_CC, qw), 1);
    assert_int_equal(qw[0], SIOV_DSC_CC | siov_set(0, SIOV_CC0_G, SIOV_INV_GRAN_DEVICE) | siov_set(0, SIOV_CC0_SID, SID_A));
    uint64_t t1 = reg(f, SIOV_REG_IQT, 8);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0); /* idempotent: nothing more queued */
    assert_int_equal(reg(f, SIOV_REG_IQT, 8), t1);
    assert_true(sm_ctx_qw0(f, SID_A) & SIOV_SCE0_DTE);
    assert_int_equal(siov_ats_translate(f->iommu, SID_A, SIOV_NO_PASID, 0x10000, 0, &c), SIOV_OK);
    assert_true(c.r && c.w);
    assert_int_equal(c.addr, DATA);
    assert_int_equal(siov_translate(f->iommu, SID_A, SIOV_NO_PASID, DATA, SIOV_ACCESS_READ | SIOV_ACCESS_TRANSLATED,
                                    &x), SIOV_OK);
    /* another device stays without */
    assert_int_equal(siov_attach(d, SID_B), 0);
    assert_false(sm_ctx_qw0(f, SID_B) & SIOV_SCE0_DTE);
    /* ATS keeps the device set up with nothing attached */
    assert_int_equal(siov_detach(d, SID_A), 0);
    assert_true(sm_ctx_qw0(f, SID_A) & SIOV_SCE0_DTE);
    assert_int_equal(siov_detach(d, SID_B), 0);
    fx_free(f);
}

static void test_enable_ats_legacy(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.scalable = false;
    struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
    struct siov_domain *sl = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    struct siov_domain *pt = siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH);
    assert_int_equal(siov_domain_map(sl, 0x10000, DATA, 0x1000, SIOV_PROT_READ), 0);
    /* attached first, then ATS: TT 00 -> 01 */
    assert_int_equal(siov_attach(sl, SID_A), 0);
    struct siov_ats_completion c;
    assert_int_equal(siov_ats_translate(f->iommu, SID_A, SIOV_NO_PASID, 0x10000, 0, &c), SIOV_FAULT_LCT_5);
    /* the context entry unreadable: the call fails and changes nothing */
    uint64_t re = r64(f, (reg(f, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA) + 16 * SIOV_SID_BUS(SID_A));
    uint64_t ce = (re & SIOV_RE0_CTP) + 16 * SIOV_SID_DEVFN(SID_A);
    assert_int_equal(siov_mem_fail_range(f->mem, ce + 8, 8, SIOV_MEM_FAIL_READ), 0);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), -EFAULT);
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    assert_int_equal(siov_get(r64(f, ce), SIOV_CE0_TT), SIOV_TT_SL);
    uint64_t t0 = reg(f, SIOV_REG_IQT, 8), qw[2] = {0, 0};
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0);
    assert_int_equal(siov_get(r64(f, ce), SIOV_CE0_TT), SIOV_TT_SL_DT);
    assert_int_equal(queued_iotlb(f, t0, qw), 1); /* the context entry's DID, domain-selective */
    assert_int_equal(siov_get(qw[0], SIOV_IOTLB0_DID), (uint64_t)siov_domain_did(sl));
    assert_int_equal(siov_get(qw[0], SIOV_IOTLB0_G), SIOV_INV_GRAN_DOMAIN);
    assert_int_equal(siov_ats_translate(f->iommu, SID_A, SIOV_NO_PASID, 0x10000, 0, &c), SIOV_OK);
    assert_true(c.r && !c.w);
    /* ATS first, then attach: TT=01 at once; a pass-through domain keeps TT=10 */
    uint64_t ce_b = (re & SIOV_RE0_CTP) + 16 * SIOV_SID_DEVFN(SID_B);
    t0 = reg(f, SIOV_REG_IQT, 8);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_B), 0);
    assert_int_equal(r64(f, ce_b), 0); /* nothing written, nothing invalidated */
    assert_int_equal(reg(f, SIOV_REG_IQT, 8), t0);
    assert_int_equal(siov_attach(sl, SID_B), 0);
    assert_int_equal(siov_ats_translate(f->iommu, SID_B, SIOV_NO_PASID, 0x10000, 0, &c), SIOV_OK);
    assert_int_equal(siov_detach(sl, SID_B), 0);
    assert_int_equal(siov_attach(pt, SID_B), 0);
    assert_int_equal(siov_ats_translate(f->iommu, SID_B, SIOV_NO_PASID, 0x10000, 0, &c), SIOV_FAULT_LCT_5);
    assert_int_equal(siov_detach(pt, SID_B), 0);
    /* attached to pass-through first, then ATS: TT stays 10 */
    uint64_t ce_hi = (re & SIOV_RE0_CTP) + 16 * SIOV_SID_DEVFN(SID_HI);
    assert_int_equal(siov_attach(pt, SID_HI), 0);
    uint64_t ce_pt = r64(f, ce_hi);
    assert_int_equal(siov_get(ce_pt, SIOV_CE0_TT), SIOV_TT_PASS_THROUGH);
    t0 = reg(f, SIOV_REG_IQT, 8);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_HI), 0);
    assert_int_equal(r64(f, ce_hi), ce_pt);
    assert_int_equal(reg(f, SIOV_REG_IQT, 8), t0);
    assert_int_equal(siov_detach(pt, SID_HI), 0);
    /* legacy detach sends the global device-TLB invalidation (0x3) */
    struct ats_port p = {.iommu = f->iommu};
    assert_int_equal(siov_device_port(f->iommu, SID_A, &ap_ops, &p), 0);
    assert_int_equal(siov_iommu_add_notifier(f->iommu, ap_event, &p), 0);
    assert_int_equal(siov_domain_unmap(sl, 0x10000, 0x1000), 0x1000);
    expect_inv(&p, 0, SIOV_NO_PASID, 0x10000, 0x1000);
    assert_int_equal(siov_detach(sl, SID_A), 0);
    assert_int_equal(p.n, 2);
    expect_inv(&p, 1, SIOV_NO_PASID, 0, UINT64_MAX);
    fx_free(f);
}

/* Unmap, detach and aux detach: 0x3 / 0x8 with the right range, after the IOTLB's. */
static void test_ats_invalidations(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct ats_port p = {.iommu = f->iommu};
    assert_int_equal(siov_device_port(f->iommu, SID_A, &ap_ops, &p), 0);
    assert_int_equal(siov_iommu_add_notifier(f->iommu, ap_event, &p), 0);
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0);
    struct siov_domain *fl = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    struct siov_domain *sl = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    /* 4 KiB pages at 0x10000 (not 2 MiB aligned), one 2 MiB page at 0x200000: no split below */
    assert_int_equal(siov_domain_map(fl, 0x10000, DATA, 0x30000, SIOV_PROT_READ | SIOV_PROT_WRITE), 0);
    assert_int_equal(siov_domain_map(fl, 0x200000, DATA, 0x200000, SIOV_PROT_READ | SIOV_PROT_WRITE), 0);
    assert_int_equal(siov_domain_map(sl, 0, DATA, 0x10000, SIOV_PROT_READ | SIOV_PROT_WRITE), 0);
    assert_int_equal(siov_aux_attach(fl, SID_A), 0);
    assert_int_equal(siov_attach(sl, SID_A), 0);
    uint32_t pasid = (uint32_t)siov_aux_pasid(fl);
    assert_int_equal(p.n, 0); /* maps invalidate nothing */
    assert_int_equal(siov_domain_unmap(fl, 0x11000, 0x1000), 0x1000);
    expect_inv(&p, 0, pasid, 0x11000, 0x1000);                   /* S=0 */
    assert_int_equal(siov_domain_unmap(fl, 0x20000, 0x10000), 0x10000);
    expect_inv(&p, 1, pasid, 0x20000, 0x10000);                  /* S=1, 64 KiB */
    assert_int_equal(siov_domain_unmap(fl, 0x31000, 0x3000), 0x3000);
    expect_inv(&p, 2, pasid, 0x30000, 0x4000);                   /* the aligned block holding it */
    assert_int_equal(siov_domain_unmap(fl, 0x200000, 0x200000), 0x200000);
    expect_inv(&p, 3, pasid, 0x200000, 0x200000);
    assert_int_equal(siov_domain_unmap(sl, 0x5000, 0x1000), 0x1000);
    expect_inv(&p, 4, SIOV_NO_PASID, 0x5000, 0x1000);            /* 0x3: requests without PASID */
    assert_int_equal(siov_aux_detach(fl, SID_A), 0);
    expect_inv(&p, 5, pasid, 0, UINT64_MAX);                     /* the PASID's whole space */
    assert_int_equal(siov_detach(sl, SID_A), 0);
    expect_inv(&p, 6, SIOV_NO_PASID, 0, UINT64_MAX);
    assert_int_equal(p.n, 7);
    assert_int_equal(reg(f, SIOV_REG_FSTS, 4), 0);
    fx_free(f);
}

/* A device that times out: -ETIMEDOUT, the queue recovered; a bad completion
   (ICE) is acknowledged and does not fail the call. */
static void test_ats_timeout_and_bad_completion(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct ats_port p = {.iommu = f->iommu, .mode = AP_EXPIRE};
    assert_int_equal(siov_device_port(f->iommu, SID_A, &ap_ops, &p), 0);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0);
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_domain_map(d, 0, DATA, 0x4000, SIOV_PROT_READ), 0);
    assert_int_equal(siov_attach(d, SID_A), 0);
    struct siov_xlate x;
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x1000, &x), SIOV_OK);
    assert_int_equal(siov_domain_unmap(d, 0x1000, 0x1000), -ETIMEDOUT);
    assert_int_equal(reg(f, SIOV_REG_FSTS, 4), 0); /* ITE acknowledged */
    assert_int_equal(reg(f, SIOV_REG_IQH, 8), reg(f, SIOV_REG_IQT, 8));
    assert_int_equal(stats(f).devtlb_timeouts, 1);
    /* the unit's own invalidation ran: no stale translation */
    assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x1000, &x), SIOV_FAULT_SSL_2);
    /* the queue works on */
    p.mode = AP_BAD_FIRST;
    assert_int_equal(siov_domain_unmap(d, 0x2000, 0x1000), 0x1000);
    assert_int_equal(reg(f, SIOV_REG_FSTS, 4) & (SIOV_FSTS_ICE | SIOV_FSTS_ITE | SIOV_FSTS_IQE), 0); /* acknowledged */
    p.mode = AP_COMPLETE;
    assert_int_equal(siov_detach(d, SID_A), 0);
    assert_int_equal(p.n, 3);
    fx_free(f);
}

/* End to end: a device's ATC loses exactly what the driver unmaps. */
static void test_ats_with_atc(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0);
    struct siov_atc *atc = siov_atc_new(f->iommu, SID_A, 256);
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_domain_map(d, 0x10000, 0x800000, 0x4000, SIOV_PROT_READ | SIOV_PROT_WRITE), 0);
    assert_int_equal(siov_aux_attach(d, SID_A), 0);
    uint32_t pasid = (uint32_t)siov_aux_pasid(d);
    uint32_t v = 0xCAFE;
    for (int i = 0; i < 4; i++)
        assert_int_equal(siov_atc_dma_write(atc, pasid, 0x10000 + i * 0x1000, &v, 4), SIOV_OK);
    assert_int_equal(siov_atc_entries(atc, NULL, 0), 4);
    assert_int_equal(siov_domain_unmap(d, 0x11000, 0x1000), 0x1000);
    assert_int_equal(siov_atc_entries(atc, NULL, 0), 3);
    assert_int_equal(siov_atc_dma_write(atc, pasid, 0x11000, &v, 4), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(siov_atc_dma_write(atc, pasid, 0x12000, &v, 4), SIOV_OK);
    assert_int_equal(siov_aux_detach(d, SID_A), 0);
    assert_int_equal(siov_atc_entries(atc, NULL, 0), 0);
    siov_atc_free(atc);
    fx_free(f);
}

/* The PASID-table entry of (sid, pasid), found through the unit's tables. */
static uint64_t pasid_entry_at(struct fx *f, siov_sid sid, uint32_t pasid)
{
    uint64_t root = reg(f, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
    uint64_t half = r64(f, root + SIOV_SID_BUS(sid) * 16 + (SIOV_SID_DEVFN(sid) >= 128 ? 8 : 0));
    uint64_t ce = (half & SIOV_SRE0_LCTP) + (SIOV_SID_DEVFN(sid) & 0x7F) * 32ull;
    uint64_t dir = r64(f, ce) & SIOV_SCE0_PASIDDIRPTR;
    uint64_t pde = r64(f, dir + siov_get(pasid, SIOV_PASID_DIR_INDEX) * 8);
    assert_true(pde & SIOV_PDE_P);
    return (pde & SIOV_PDE_SMPTBLPTR) + siov_get(pasid, SIOV_PASID_TBL_INDEX) * 64ull;
}

static void w64(struct fx *f, uint64_t gpa, uint64_t v)
{
    assert_int_equal(siov_mem_write(f->mem, gpa, &v, 8), 0);
}

/* A pool that ends where guest memory ends: its last page holds a page
   table whose last entry is the last qword of memory, read and written like
   any other. */
static void test_pool_at_the_end_of_memory(void **state)
{
    (void)state;
    const uint64_t npages = 16, mem_size = POOL_BASE + npages * 4096;
    struct fx f;
    drv_fx_open(&(struct drv_fx_cfg){NULL, mem_size, POOL_BASE, npages * 4096}, &f.mem, &f.iommu, &f.drv);
    struct siov_domain *d = siov_domain_new(f.drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_non_null(d);
    /* index 511 at every level: each new L1 table's last entry is used */
    const uint64_t top = (1ull << 48) - 0x1000, m2 = 1ull << 21;
    uint64_t iova = top;
    while (siov_driver_pool_avail(f.drv) > 0) {
        assert_int_equal(siov_domain_map(d, iova, DATA + (top - iova), 0x1000, SIOV_PROT_READ), 0);
        iova -= m2;
    }
    iova += m2; /* the last map: its L1 table is the pool's (and memory's) last page */
    uint64_t pa = 0;
    assert_int_equal(siov_domain_iova_to_phys(d, iova + 0x123, &pa), 0);
    assert_int_equal(pa, DATA + (top - iova) + 0x123);
    assert_int_equal(siov_attach(d, SID_A), -ENOMEM); /* no page left for a context table */
    assert_int_equal(siov_domain_unmap(d, iova, 0x1000), 0x1000);
    assert_int_equal(siov_domain_iova_to_phys(d, iova, &pa), -ENOENT);
    drv_fx_close(f.mem, f.iommu, f.drv);
}

/* PASIDs from 64 up live in the PASID table of the directory's second
   entry: 65 domains aux-attached to one device each translate through their
   own entry. */
static void test_pasid_beyond_the_first_table(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    struct siov_domain *d[65];
    for (unsigned i = 0; i < 65; i++) {
        assert_non_null(d[i] = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL));
        assert_int_equal(siov_domain_map(d[i], 0, DATA + i * 0x1000ull, 0x1000, SIOV_PROT_READ), 0);
        assert_int_equal(siov_aux_attach(d[i], SID_A), 0);
        assert_int_equal(siov_aux_pasid(d[i]), (int)i + 1);
    }
    uint64_t root = reg(f, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
    uint64_t dir = r64(f, (r64(f, root) & SIOV_SRE0_LCTP) + 32 * SIOV_SID_DEVFN(SID_A)) & SIOV_SCE0_PASIDDIRPTR;
    assert_true(r64(f, dir) & SIOV_PDE_P);
    assert_true(r64(f, dir + 8) & SIOV_PDE_P); /* PASIDs 64..127 */
    assert_false(r64(f, dir + 16) & SIOV_PDE_P);
    for (unsigned i = 0; i < 65; i++) {
        struct siov_xlate x;
        assert_int_equal(xlate(f, SID_A, i + 1, 0x234, &x), SIOV_OK);
        assert_int_equal(x.addr, DATA + i * 0x1000ull + 0x234);
        assert_int_equal(x.did, siov_domain_did(d[i]));
    }
    for (unsigned i = 0; i < 65; i++)
        assert_int_equal(siov_aux_detach(d[i], SID_A), 0);
    struct siov_xlate x;
    assert_int_equal(xlate(f, SID_A, 65, 0x234, &x), SIOV_FAULT_SPT_2);
    fx_free(f);
}

/* PASID entries someone else changed behind the driver's back: an entry
   made present where the driver would write one is left alone (-EEXIST, the
   PASID goes back), and detaching a PASID whose entry was already cleared
   reports -ENOENT yet releases the attachment and the PASID. */
static void test_pasid_entries_changed_behind_the_driver(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    struct siov_domain *d1 = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    struct siov_domain *d2 = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    assert_int_equal(siov_aux_attach(d1, SID_A), 0);
    uint32_t p1 = (uint32_t)siov_aux_pasid(d1);
    uint64_t e2 = pasid_entry_at(f, SID_A, p1 + 1); /* where d2's entry will go */
    w64(f, e2, SIOV_PTE0_P | siov_set(0, SIOV_PTE0_PGTT, SIOV_PGTT_PT));
    assert_int_equal(siov_aux_attach(d2, SID_A), -EEXIST);
    assert_int_equal(siov_aux_pasid(d2), -ENOENT);
    assert_int_equal(r64(f, e2), SIOV_PTE0_P | siov_set(0, SIOV_PTE0_PGTT, SIOV_PGTT_PT));
    w64(f, e2, 0);
    assert_int_equal(siov_aux_attach(d2, SID_A), 0);
    assert_int_equal(siov_aux_pasid(d2), (int)p1 + 1);
    w64(f, pasid_entry_at(f, SID_A, p1), 0); /* d1's entry cleared by someone else */
    assert_int_equal(siov_aux_detach(d1, SID_A), -ENOENT);
    assert_int_equal(siov_aux_pasid(d1), -ENOENT);
    assert_int_equal(siov_aux_detach(d1, SID_A), -ENOENT);
    assert_int_equal(siov_aux_detach(d2, SID_A), 0);
    assert_int_equal(siov_domain_free(d1), 0);
    assert_int_equal(siov_domain_free(d2), 0);
    assert_int_equal(siov_dev_disable_aux(f->drv, SID_A), 0);
    fx_free(f);
}

/* The PASID-table entry the driver writes for each kind of domain (spec 9.6),
   word by word, with and without supervisor and execute requests (SRS,
   ERS, and without RPS): PGTT, AW of the second level (the unit's, for every kind), SLEE and
   SLPTPTR where a second level translates, PWSNP (the unit reports
   SMPWCS), the DID, SRE with WPE, ERE, NXE, FLPM and FLPTPTR where a first
   level does. Table pointers are checked by translating through them. */
static void test_pasid_entry_words(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 4; c++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.supervisor_req = c != 1;
        cfg.exec_req = c != 2;
        cfg.rid_pasid = c != 3; /* PWSNP follows SMPWCS alone */
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
        struct siov_domain *parent = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(siov_domain_map(parent, 0, 0, POOL_BASE, SIOV_PROT_READ | SIOV_PROT_WRITE), 0); /* not the pool */
        struct siov_domain *doms[4] = {siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL),
                                       siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL),
                                       siov_domain_new(f->drv, SIOV_DOMAIN_PASS_THROUGH),
                                       siov_domain_new_nested(parent)};
        static const unsigned pgtt[4] = {SIOV_PGTT_SL, SIOV_PGTT_FL, SIOV_PGTT_PT, SIOV_PGTT_NESTED};
        for (int k = 0; k < 4; k++) {
            assert_non_null(doms[k]);
            if (k != 2)
                assert_int_equal(siov_domain_map(doms[k], 0x7000, k == 3 ? 0x5000 : DATA, 0x1000,
                                                 SIOV_PROT_READ), 0);
            assert_int_equal(siov_aux_attach(doms[k], SID_A), 0);
            uint32_t pasid = (uint32_t)siov_aux_pasid(doms[k]);
            uint64_t e = pasid_entry_at(f, SID_A, pasid), q[8];
            for (int i = 0; i < 8; i++)
                q[i] = r64(f, e + 8 * i);
            bool sl = k == 0 || k == 3, fl = k == 1 || k == 3;
            uint64_t want0 = SIOV_PTE0_P | siov_set(0, SIOV_PTE0_PGTT, pgtt[k]) |
                             siov_set(0, SIOV_PTE0_AW, SIOV_AW_4LVL) | (sl ? SIOV_PTE0_SLEE : 0);
            assert_int_equal(q[0] & ~SIOV_PTE0_SLPTPTR, want0);
            assert_int_equal(q[0] & SIOV_PTE0_SLPTPTR ? 1 : 0, sl);
            assert_int_equal(q[1], siov_set(0, SIOV_PTE1_DID, (uint64_t)siov_domain_did(doms[k])) | SIOV_PTE1_PWSNP);
            uint64_t want2 = c != 1 ? SIOV_PTE2_SRE : 0;
            if (fl)
                want2 |= SIOV_PTE2_NXE | siov_set(0, SIOV_PTE2_FLPM, SIOV_FLPM_4LVL) | (c != 2 ? SIOV_PTE2_ERE : 0) |
                         (c != 1 ? SIOV_PTE2_WPE : 0);
            assert_int_equal(q[2] & ~SIOV_PTE2_FLPTPTR, want2);
            assert_int_equal(q[2] & SIOV_PTE2_FLPTPTR ? 1 : 0, fl);
            for (int i = 3; i < 8; i++)
                assert_int_equal(q[i], 0);
            struct siov_xlate x; /* the pointers lead to the domain's tables */
            assert_int_equal(xlate(f, SID_A, pasid, 0x7000, &x), SIOV_OK);
            assert_int_equal(x.addr, k == 2 ? 0x7000 : k == 3 ? 0x5000 : DATA);
            assert_int_equal(siov_aux_detach(doms[k], SID_A), 0);
            assert_int_equal(siov_domain_free(doms[k]), 0);
        }
        assert_int_equal(siov_domain_free(parent), 0);
        assert_int_equal(siov_dev_disable_aux(f->drv, SID_A), 0);
        fx_free(f);
    }
}

/* The descriptors queued since tail t0 whose qw0 has value under mask;
   returns how many, the last in qw. */
static unsigned queued_match(struct fx *f, uint64_t t0, uint64_t mask, uint64_t value, uint64_t qw[2])
{
    uint64_t iqa = reg(f, SIOV_REG_IQA, 8), t1 = reg(f, SIOV_REG_IQT, 8);
    uint64_t size = 4096ull << siov_get(iqa, SIOV_IQA_QS), width = iqa & SIOV_IQA_DW ? 32 : 16;
    unsigned n = 0;
    for (uint64_t at = t0; at != t1; at = (at + width) % size) {
        uint64_t q0 = r64(f, (iqa & SIOV_IQA_IQA) + at);
        if ((q0 & mask) == value) {
            qw[0] = q0;
            qw[1] = r64(f, (iqa & SIOV_IQA_IQA) + at + 8);
            n++;
        }
    }
    return n;
}

/* The scalable context entry the driver writes when aux domains are enabled
   on a device (spec 9.4): P, PASIDE, DTE with device-TLBs, PDTS for the
   unit's PASID width, the directory; RID_PASID 0; the upper qwords zero; the
   root entry's half for the device. Disabling takes it all down with a
   device-selective context-cache invalidation and a device-TLB
   invalidation of every address (S=1), and in caching mode a global one. */
static void test_context_entry_words(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 4; c++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.dev_tlb = c != 1;
        cfg.pasid_bits = c == 2 ? 8 : 20;
        cfg.caching_mode = c == 3;
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        uint64_t avail = siov_driver_pool_avail(f->drv);
        static const siov_sid sids[] = {SID_A, SID_HI};
        uint64_t root = reg(f, SIOV_REG_RTADDR, 8) & SIOV_RTADDR_RTA;
        for (int i = 0; i < 2; i++) {
            struct siov_stats a = stats(f);
            assert_int_equal(siov_dev_enable_aux(f->drv, sids[i]), 0);
            assert_int_equal(stats(f).inv_context - a.inv_context, c == 3 ? 1 : 0);
            uint64_t half = root + SIOV_SID_BUS(sids[i]) * 16 + (SIOV_SID_DEVFN(sids[i]) >= 128 ? 8 : 0);
            uint64_t h = r64(f, half);
            assert_int_equal(h & ~SIOV_SRE0_LCTP, SIOV_SRE0_LP);
            uint64_t ce = (h & SIOV_SRE0_LCTP) + (SIOV_SID_DEVFN(sids[i]) & 0x7F) * 32ull, q0 = r64(f, ce);
            /* DTE only once siov_dev_enable_ats asks for it */
            uint64_t want = SIOV_SCE0_P | SIOV_SCE0_PASIDE | siov_set(0, SIOV_SCE0_PDTS, c == 2 ? 0 : 7);
            assert_int_equal(q0 & ~SIOV_SCE0_PASIDDIRPTR, want);
            assert_true(q0 & SIOV_SCE0_PASIDDIRPTR);
            for (int q = 1; q < 4; q++)
                assert_int_equal(r64(f, ce + 8 * q), 0);
            uint64_t t0 = reg(f, SIOV_REG_IQT, 8), qw[2];
            a = stats(f);
            assert_int_equal(siov_dev_disable_aux(f->drv, sids[i]), 0);
            struct siov_stats b = stats(f);
            assert_int_equal(b.inv_context - a.inv_context, c == 3 ? 2 : 1);
            assert_int_equal(b.inv_devtlb - a.inv_devtlb, 0); /* ATS never enabled */
            uint64_t type = SIOV_DSC0_TYPE_LO | SIOV_DSC0_TYPE_HI, cc = siov_dsc_make_type(SIOV_DSC_CC);
            uint64_t dev = cc | siov_set(0, SIOV_CC0_G, SIOV_INV_GRAN_DEVICE) | siov_set(0, SIOV_CC0_SID, sids[i]);
            /* device-selective, DID zero (ignored in scalable mode), FM 0 */
            assert_int_equal(queued_match(f, t0, ~0ull, dev, qw), 1);
            assert_int_equal(queued_match(f, t0, type | SIOV_CC0_G, cc | siov_set(0, SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL), qw),
                             c == 3 ? 1 : 0);
            assert_int_equal(queued_match(f, t0, type, siov_dsc_make_type(SIOV_DSC_DEVTLB), qw), 0);
            for (int q = 0; q < 4; q++)
                assert_int_equal(r64(f, ce + 8 * q), 0);
            assert_int_equal(r64(f, half), 0);
            assert_int_equal(siov_driver_pool_avail(f->drv), avail);
        }
        fx_free(f);
    }
}

#define DSC_TYPE (SIOV_DSC0_TYPE_LO | SIOV_DSC0_TYPE_HI)

/* The invalidations of an attach and a detach name the entry they are for
   (facts sheet 10.3): detaching a PASID's domain sends a PASID-cache
   invalidation (G=01) and a PASID-based IOTLB one (first level and
   pass-through) or an IOTLB one by DID (second level), both with the DID,
   and a device-TLB invalidation of every address, PASID-based for aux
   PASIDs; a legacy detach sends a device-selective context-cache
   invalidation with the DID, then an IOTLB one by DID. In caching mode
   attaching sends the same kinds for the new entry. */
static void test_descriptors_name_the_entry(void **state)
{
    (void)state;
    for (unsigned c = 0; c < 4; c++) {
        bool legacy = c & 1, cm = c & 2;
        struct siov_iommu_config cfg = tl_config_mode(!legacy, cm);
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        assert_int_equal(siov_dev_enable_ats(f->drv, SID_A), 0); /* device-TLB descriptors for it */
        for (int k = 0; k < (legacy ? 1 : 3); k++) { /* SL by RID, FL aux, SL aux */
            bool aux = k > 0, fl = k == 1;
            struct siov_domain *d = siov_domain_new(f->drv, fl ? SIOV_DOMAIN_FIRST_LEVEL : SIOV_DOMAIN_SECOND_LEVEL);
            uint64_t did = (uint64_t)siov_domain_did(d), qw[2];
            if (aux)
                assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
            for (int detach = 0; detach < 2; detach++) {
                uint64_t t0 = reg(f, SIOV_REG_IQT, 8);
                if (!detach)
                    assert_int_equal(aux ? siov_aux_attach(d, SID_A) : siov_attach(d, SID_A), 0);
                uint64_t pasid = aux ? (uint64_t)siov_aux_pasid(d) : 0;
                if (detach)
                    assert_int_equal(aux ? siov_aux_detach(d, SID_A) : siov_detach(d, SID_A), 0);
                if (!detach && !cm) {
                    assert_int_equal(queued_match(f, t0, 0, 0, qw), 0); /* nothing to invalidate */
                    continue;
                }
                uint64_t pc = siov_dsc_make_type(SIOV_DSC_PC) | siov_set(0, SIOV_PC0_G, SIOV_PC_GRAN_PASID) |
                              siov_set(0, SIOV_PC0_DID, did) | siov_set(0, SIOV_PC0_PASID, pasid);
                uint64_t piotlb = siov_dsc_make_type(SIOV_DSC_PIOTLB) |
                                  siov_set(0, SIOV_PIOTLB0_G, SIOV_PIOTLB_GRAN_PASID) |
                                  siov_set(0, SIOV_PIOTLB0_DID, did) | siov_set(0, SIOV_PIOTLB0_PASID, pasid);
                uint64_t dsi = siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_G, SIOV_INV_GRAN_DOMAIN) |
                               siov_set(0, SIOV_IOTLB0_DID, did);
                uint64_t cc = siov_dsc_make_type(SIOV_DSC_CC) | siov_set(0, SIOV_CC0_G, SIOV_INV_GRAN_DEVICE) |
                              siov_set(0, SIOV_CC0_SID, SID_A) | siov_set(0, SIOV_CC0_DID, did);
                if (legacy) {
                    assert_int_equal(queued_match(f, t0, ~0ull, cc, qw), 1);
                    assert_int_equal(queued_match(f, t0, ~0ull, dsi, qw), 1);
                    continue;
                }
                assert_int_equal(queued_match(f, t0, ~0ull, pc, qw), 1);
                assert_int_equal(qw[1], 0);
                /* caching mode attach: PASID-based for every kind, as Linux's pasid_flush_caches */
                assert_int_equal(queued_match(f, t0, ~0ull, fl || !detach ? piotlb : dsi, qw), 1);
                assert_int_equal(qw[1], 0);
                if (!detach)
                    continue;
                unsigned type = aux ? SIOV_DSC_PDEVTLB : SIOV_DSC_DEVTLB;
                assert_int_equal(queued_match(f, t0, DSC_TYPE, siov_dsc_make_type(type), qw), 1);
                if (aux) {
                    assert_int_equal(siov_get(qw[0], SIOV_PDTLB0_SID), SID_A);
                    assert_int_equal(siov_get(qw[0], SIOV_PDTLB0_PASID), pasid);
                    assert_int_equal(qw[1], 0x7FFFFFFFFFFFF000ull | SIOV_PDTLB1_S);
                } else {
                    assert_int_equal(siov_get(qw[0], SIOV_DTLB0_SID), SID_A);
                    assert_int_equal(qw[1], 0x7FFFFFFFFFFFF000ull | SIOV_DTLB1_S);
                }
            }
            if (aux)
                assert_int_equal(siov_dev_disable_aux(f->drv, SID_A), 0);
            assert_int_equal(siov_domain_free(d), 0);
        }
        fx_free(f);
    }
}

/* Caching mode: releasing a device's context table (scalable) and legacy
   context entries coming and going are invalidated too. */
static void test_caching_mode_teardown(void **state)
{
    (void)state;
    for (int legacy = 0; legacy < 2; legacy++) {
        struct siov_iommu_config cfg = tl_config_mode(!legacy, true);
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(siov_domain_map(d, 0x3000, DATA, 0x1000, SIOV_PROT_READ), 0);
        struct siov_stats a = stats(f);
        assert_int_equal(siov_attach(d, SID_A), 0);
        struct siov_stats b = stats(f);
        assert_true(b.inv_context > a.inv_context);
        assert_true(b.inv_iotlb + b.inv_piotlb > a.inv_iotlb + a.inv_piotlb);
        struct siov_xlate x;
        assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x3000, &x), SIOV_OK);
        assert_int_equal(siov_detach(d, SID_A), 0);
        struct siov_stats c = stats(f);
        assert_true(c.inv_context > b.inv_context);
        assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 0x3000, &x), legacy ? SIOV_FAULT_LRT_2 : SIOV_FAULT_SRT_2); /* the device and its context table went */
        assert_int_equal(siov_domain_free(d), 0);
        fx_free(f);
    }
}

/* Bring-up takes the pool's first pages (queue, status word, interrupt
   table, root table), lowest first: a guest-memory write that fails on any
   of them fails siov_driver_new with EFAULT and leaves translation off. */
static void test_bringup_page_write_fails(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
    struct siov_iommu *iommu = siov_iommu_new(mem, NULL);
    struct siov_driver *drv = siov_driver_new(iommu, mem, POOL_BASE, POOL_SIZE);
    assert_non_null(drv);
    uint64_t used = POOL_SIZE / 4096 - siov_driver_pool_avail(drv);
    siov_driver_free(drv);
    siov_iommu_free(iommu);
    assert_true(used >= 4);
    for (uint64_t k = 0; k <= used; k++) {
        iommu = siov_iommu_new(mem, NULL);
        assert_int_equal(siov_mem_fail_range(mem, POOL_BASE + k * 4096, 4096, SIOV_MEM_FAIL_WRITE), 0);
        errno = 0;
        drv = siov_driver_new(iommu, mem, POOL_BASE, POOL_SIZE);
        if (k < used) {
            assert_null(drv);
            assert_int_equal(errno, EFAULT);
            assert_int_equal(siov_mmio_read(iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES, 0);
        } else {
            assert_non_null(drv); /* the first page bring-up leaves free */
            siov_driver_free(drv);
        }
        assert_int_equal(siov_mem_fail_range(mem, 0, 0, 0), 0);
        siov_iommu_free(iommu);
    }
    siov_mem_free(mem);
}

/* The smallest pool: bring-up's own pages (queue, status word, root table,
   and the interrupt table with ECAP.IR); one page less is EINVAL. */
static void test_smallest_pool(void **state)
{
    (void)state;
    for (int k = 0; k < 4; k++) {
        int ir = k & 1, pr = k >> 1;
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.irq_remapping = ir;
        cfg.page_requests = pr; /* the page request queue takes a page of its own */
        struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
        struct siov_iommu *iommu = siov_iommu_new(mem, &cfg);
        uint64_t need = 3 + (uint64_t)ir + (uint64_t)pr;
        errno = 0;
        assert_null(siov_driver_new(iommu, mem, POOL_BASE, (need - 1) * 4096));
        assert_int_equal(errno, EINVAL);
        struct siov_driver *drv = siov_driver_new(iommu, mem, POOL_BASE, need * 4096);
        assert_non_null(drv);
        assert_int_equal(siov_driver_pool_avail(drv), 0);
        siov_driver_free(drv);
        siov_iommu_free(iommu);
        siov_mem_free(mem);
    }
}

/* The leaf that maps iova under a table root of levels levels (first level
   when fl), and its level: read from guest memory as the unit would. */
static uint64_t leaf_word(struct fx *f, uint64_t root, unsigned levels, uint64_t iova, unsigned *level)
{
    uint64_t table = root, e = 0;
    for (unsigned l = levels; l >= 1; l--) {
        e = r64(f, table + ((iova >> (12 + 9 * (l - 1))) & 0x1FF) * 8);
        *level = l;
        if (l == 1 || (e & SIOV_FL_PS)) /* PS is bit 7 in both formats */
            break;
        table = e & SIOV_FL_ADDR;
    }
    return e;
}

/* The bits other than the address that every non-leaf entry above the leaf
   at leaf_level carries on the way to iova; ~0 when two entries differ. */
static uint64_t nonleaf_bits(struct fx *f, uint64_t root, unsigned levels, uint64_t iova, unsigned leaf_level)
{
    uint64_t table = root, bits = 0;
    for (unsigned l = levels; l > leaf_level; l--) {
        uint64_t e = r64(f, table + ((iova >> (12 + 9 * (l - 1))) & 0x1FF) * 8);
        if (l < levels && (e & ~SIOV_FL_ADDR) != bits)
            return ~0ull;
        bits = e & ~SIOV_FL_ADDR;
        table = e & SIOV_FL_ADDR;
    }
    return bits;
}

/* The leaves the driver writes, word by word (spec 9.7, 9.8), for 4 KiB,
   2 MiB and 1 GiB pages and each permission: first level P, R/W with D, U/S
   unless PRIV, A, XD unless EXEC, PS above 4 KiB (bit 7 of a 4 KiB entry is
   PAT, left 0); second level R, W, X (SLEE), PS above 4 KiB (bit 7 of a
   4 KiB entry is ignored, left 0). */
static void test_leaf_words(void **state)
{
    (void)state;
    static const unsigned prots[] = {SIOV_PROT_READ, SIOV_PROT_READ | SIOV_PROT_WRITE,
                                     SIOV_PROT_READ | SIOV_PROT_EXEC, SIOV_PROT_READ | SIOV_PROT_WRITE | SIOV_PROT_PRIV};
    static const uint64_t iova[3] = {0x7000, 0x200000, 0x40000000}, pa[3] = {0x5000, 0x600000, 0x80000000};
    struct fx *f = fx_new();
    assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
    for (int fl = 0; fl < 2; fl++) {
        for (size_t p = 0; p < sizeof prots / sizeof prots[0]; p++) {
            struct siov_domain *d = siov_domain_new(f->drv, fl ? SIOV_DOMAIN_FIRST_LEVEL : SIOV_DOMAIN_SECOND_LEVEL);
            for (int k = 0; k < 3; k++)
                assert_int_equal(siov_domain_map(d, iova[k], pa[k], 0x1000ull << (9 * k), prots[p]), 0);
            assert_int_equal(siov_aux_attach(d, SID_A), 0);
            uint64_t pe = pasid_entry_at(f, SID_A, (uint32_t)siov_aux_pasid(d));
            uint64_t root = fl ? r64(f, pe + 16) & SIOV_PTE2_FLPTPTR : r64(f, pe) & SIOV_PTE0_SLPTPTR;
            unsigned levels = fl ? (siov_get(r64(f, pe + 16), SIOV_PTE2_FLPM) ? 5 : 4)
                                 : (unsigned)siov_get(r64(f, pe), SIOV_PTE0_AW) + 2;
            unsigned pr = prots[p];
            for (int k = 0; k < 3; k++) {
                unsigned level = 0;
                uint64_t e = leaf_word(f, root, levels, iova[k], &level), want;
                assert_int_equal(level, k + 1);
                if (fl)
                    want = pa[k] | SIOV_FL_P | SIOV_FL_A | (pr & SIOV_PROT_WRITE ? SIOV_FL_RW | SIOV_FL_D : 0) |
                           (pr & SIOV_PROT_PRIV ? 0 : SIOV_FL_US) | (pr & SIOV_PROT_EXEC ? 0 : SIOV_FL_XD);
                else
                    want = pa[k] | SIOV_SL_R | (pr & SIOV_PROT_WRITE ? SIOV_SL_W : 0) |
                           (pr & SIOV_PROT_EXEC ? SIOV_SL_X : 0);
                assert_int_equal(e, want | (k ? SIOV_FL_PS : 0));
                assert_int_equal(nonleaf_bits(f, root, levels, iova[k], level),
                                 fl ? SIOV_FL_P | SIOV_FL_RW | SIOV_FL_US | SIOV_FL_A : SIOV_SL_R | SIOV_SL_W | SIOV_SL_X);
            }
            assert_int_equal(siov_aux_detach(d, SID_A), 0);
            assert_int_equal(siov_domain_free(d), 0);
        }
    }
    fx_free(f);
}

/* The largest page-selective invalidation: AM = CAP.MAMV (1 GiB here) is
   still page-selective, one more is domain- or PASID-selective (spec
   6.5.2.3, 6.5.2.4), for the IOTLB descriptor of a second-level domain and
   the PASID-based one of a first-level domain. */
static void test_unmap_invalidation_at_mamv(void **state)
{
    (void)state;
    for (int fl = 0; fl < 2; fl++) {
        struct fx *f = fx_new();
        unsigned mamv = (unsigned)siov_get(reg(f, SIOV_REG_CAP, 8), SIOV_CAP_MAMV);
        uint64_t big = 4096ull << mamv;
        struct siov_domain *d = siov_domain_new(f->drv, fl ? SIOV_DOMAIN_FIRST_LEVEL : SIOV_DOMAIN_SECOND_LEVEL);
        if (fl) {
            assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
            assert_int_equal(siov_aux_attach(d, SID_A), 0);
        } else {
            assert_int_equal(siov_attach(d, SID_A), 0);
        }
        unsigned type = fl ? SIOV_DSC_PIOTLB : SIOV_DSC_IOTLB;
        uint64_t gmask = fl ? SIOV_PIOTLB0_G : SIOV_IOTLB0_G;
        for (int more = 0; more < 2; more++) {
            uint64_t size = big << more;
            assert_int_equal(siov_domain_map(d, size, size, size, SIOV_PROT_READ), 0);
            uint64_t t0 = reg(f, SIOV_REG_IQT, 8), qw[2] = {0, 0};
            assert_int_equal(siov_domain_unmap(d, size, size), (int64_t)size);
            assert_int_equal(queued_match(f, t0, DSC_TYPE, siov_dsc_make_type(type), qw), 1);
            unsigned g = (unsigned)siov_get(qw[0], gmask);
            if (!more) {
                assert_int_equal(g, fl ? SIOV_PIOTLB_GRAN_PAGE : SIOV_INV_GRAN_PAGE);
                assert_int_equal(qw[1], size | siov_set(0, SIOV_INV1_AM, mamv));
            } else {
                assert_int_equal(g, fl ? SIOV_PIOTLB_GRAN_PASID : SIOV_INV_GRAN_DOMAIN);
                assert_int_equal(qw[1], 0);
            }
        }
        fx_free(f);
    }
}

/* Pools that do not hold three whole pages, or whose bounds wrap. */
static void test_pool_bounds(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(MEM_SIZE);
    struct siov_iommu *iommu = siov_iommu_new(mem, NULL);
    static const uint64_t bad[][2] = {
        {0x101800, 0x1000},                 /* no whole page */
        {0xFFFFFFFFFFFFF001ull, 0x100},     /* rounding up to a page wraps */
        {POOL_BASE, 0},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        errno = 0;
        assert_null(siov_driver_new(iommu, mem, bad[i][0], bad[i][1]));
        assert_int_equal(errno, EINVAL);
    }
    /* beyond memory, or wrapping: EINVAL, not a failure further on */
    static const uint64_t beyond[][2] = {{MEM_SIZE - 4096, 4 * 4096}, {UINT64_MAX - 4095, 8192}};
    for (size_t i = 0; i < 2; i++) {
        errno = 0;
        assert_null(siov_driver_new(iommu, mem, beyond[i][0], beyond[i][1]));
        assert_int_equal(errno, EINVAL);
    }
    /* an unaligned start rounds up; a pool may end where memory ends */
    static const uint64_t good[][3] = {{POOL_BASE + 1, 32 * 4096, POOL_BASE + 4096}, {MEM_SIZE - 32 * 4096, 32 * 4096, 0}};
    for (size_t i = 0; i < 2; i++) {
        struct siov_driver *drv = siov_driver_new(iommu, mem, good[i][0], good[i][1]);
        assert_non_null(drv);
        if (good[i][2])
            assert_int_equal(siov_mmio_read(iommu, SIOV_REG_IQA, 8) & SIOV_IQA_IQA, good[i][2]); /* the first page */
        siov_driver_free(drv);
    }
    siov_iommu_free(iommu);
    siov_mem_free(mem);
}

static int cb_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    (void)opaque, (void)gpa;
    memset(dst, 0, len);
    return 0;
}

static int cb_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    (void)opaque, (void)gpa, (void)src, (void)len;
    return 0;
}

/* A callback memory has no end: a pool whose start rounds up past 2^64 is
   still refused. */
static void test_pool_rounding_past_the_top(void **state)
{
    (void)state;
    static const struct siov_mem_ops ops = {.read = cb_read, .write = cb_write};
    struct siov_mem *mem = siov_mem_new(&ops, NULL);
    struct siov_iommu *iommu = siov_iommu_new(mem, NULL);
    errno = 0;
    assert_null(siov_driver_new(iommu, mem, UINT64_MAX - 99, 50));
    assert_int_equal(errno, EINVAL);
    siov_iommu_free(iommu);
    siov_mem_free(mem);
}

/* Devices left set up when the driver goes, on the first and last bus and
   function: everything is released (ASan checks no host memory stays). */
static void test_free_releases_every_device(void **state)
{
    (void)state;
    static const siov_sid sids[] = {SIOV_SID(0, 0, 0), SIOV_SID(255, 31, 7), SIOV_SID(255, 0, 0), SIOV_SID(0, 31, 7)};
    struct fx *f = fx_new();
    struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(siov_dev_enable_aux(f->drv, sids[i]), 0);
        assert_int_equal(siov_aux_attach(d, sids[i]), 0);
    }
    fx_free(f);
}

/* The second-level depth the driver picks: the smallest SAGAW level that
   covers MGAW, else the deepest; a domain maps up to min(its width, MGAW). */
static void test_second_level_depth(void **state)
{
    (void)state;
    static const struct {
        unsigned sagaw, mgaw, width, levels;
    } cases[] = {
        {SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL, 48, 48, 4},
        {SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL, 39, 39, 3},
        {SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL, 40, 40, 4},
        {SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL, 52, 52, 5},
        {SIOV_SAGAW_3LVL, 48, 39, 3},
        {SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL, 39, 39, 3},
        {SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL, 48, 48, 4},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.sagaw = cases[i].sagaw;
        cfg.mgaw = cases[i].mgaw;
        cfg.haw = 52;
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
        uint64_t top = 1ull << cases[i].width;
        assert_int_equal(siov_domain_map(d, top - 0x1000, DATA, 0x1000, SIOV_PROT_READ), 0);
        assert_int_equal(siov_domain_map(d, top, DATA, 0x1000, SIOV_PROT_READ), -ERANGE);
        assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
        assert_int_equal(siov_aux_attach(d, SID_A), 0);
        uint64_t pe = pasid_entry_at(f, SID_A, (uint32_t)siov_aux_pasid(d));
        assert_int_equal(siov_get(r64(f, pe), SIOV_PTE0_AW) + 2, cases[i].levels);
        assert_int_equal(siov_aux_detach(d, SID_A), 0);
        assert_int_equal(siov_domain_free(d), 0);
        fx_free(f);
    }
}

/* First-level depth: 5 levels with CAP.FL5LP once MGAW is above 48, else 4;
   the input range is the lower canonical half of that depth, and the PASID
   entry's FLPM says the same. */
static void test_first_level_depth(void **state)
{
    (void)state;
    static const struct {
        unsigned mgaw;
        bool fl5;
        unsigned levels;
    } cases[] = {{48, true, 4}, {49, true, 5}, {57, false, 4}, {57, true, 5}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.mgaw = cases[i].mgaw;
        cfg.fl_5level = cases[i].fl5;
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_FIRST_LEVEL);
        uint64_t half4 = 1ull << 47;
        assert_int_equal(siov_domain_map(d, half4 - 0x1000, DATA, 0x1000, SIOV_PROT_READ), 0);
        assert_int_equal(siov_domain_map(d, half4, DATA + 0x1000, 0x1000, SIOV_PROT_READ),
                         cases[i].levels == 5 ? 0 : -ERANGE);
        assert_int_equal(siov_dev_enable_aux(f->drv, SID_A), 0);
        assert_int_equal(siov_aux_attach(d, SID_A), 0);
        uint32_t pasid = (uint32_t)siov_aux_pasid(d);
        uint64_t pe = pasid_entry_at(f, SID_A, pasid);
        assert_int_equal(siov_get(r64(f, pe + 16), SIOV_PTE2_FLPM), cases[i].levels == 5 ? 1 : 0);
        struct siov_xlate x;
        assert_int_equal(xlate(f, SID_A, pasid, half4 - 0x1000 + 0x234, &x), SIOV_OK);
        assert_int_equal(x.addr, DATA + 0x234);
        if (cases[i].levels == 5) {
            assert_int_equal(xlate(f, SID_A, pasid, half4 + 0x234, &x), SIOV_OK);
            assert_int_equal(x.addr, DATA + 0x1234);
        }
        assert_int_equal(siov_aux_detach(d, SID_A), 0);
        assert_int_equal(siov_domain_free(d), 0);
        fx_free(f);
    }
}

/* Second-level leaves by CAP.SLLPS: a 1 GiB-aligned gigabyte and a 2 MiB
   block each take the largest page the unit supports, 4 KiB pages without. */
static void test_second_level_leaf_sizes(void **state)
{
    (void)state;
    const uint64_t g1 = 1ull << 30, m2 = 1ull << 21;
    for (unsigned sllps = 0; sllps < 4; sllps++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.sl_large = sllps;
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(siov_domain_map(d, g1, 2 * g1, g1, SIOV_PROT_READ), 0);
        assert_int_equal(siov_domain_map(d, 2 * g1 + m2, 4 * g1 + m2, m2, SIOV_PROT_READ), 0);
        assert_int_equal(siov_attach(d, SID_A), 0);
        bool has2m = sllps & SIOV_SLLPS_2M, has1g = sllps & SIOV_SLLPS_1G;
        struct siov_xlate x;
        assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, g1 + 0x123456, &x), SIOV_OK);
        assert_int_equal(x.addr, 2 * g1 + 0x123456);
        assert_int_equal(x.page_size, has1g ? g1 : has2m ? m2 : 0x1000);
        assert_int_equal(xlate(f, SID_A, SIOV_NO_PASID, 2 * g1 + m2 + 0x1234, &x), SIOV_OK);
        assert_int_equal(x.addr, 4 * g1 + m2 + 0x1234);
        assert_int_equal(x.page_size, has2m ? m2 : 0x1000);
        assert_int_equal(siov_detach(d, SID_A), 0);
        assert_int_equal(siov_domain_free(d), 0);
        fx_free(f);
    }
}

/* The descriptors of a type the driver wrote to the queue since tail t0 (a
   byte offset) up to the current tail; returns how many, the last in *qw. */
static unsigned queued_of_type(struct fx *f, uint64_t t0, unsigned type, uint64_t qw[2])
{
    uint64_t iqa = reg(f, SIOV_REG_IQA, 8), t1 = reg(f, SIOV_REG_IQT, 8);
    uint64_t size = 4096ull << siov_get(iqa, SIOV_IQA_QS), width = iqa & SIOV_IQA_DW ? 32 : 16;
    unsigned n = 0;
    for (uint64_t at = t0; at != t1; at = (at + width) % size) {
        uint64_t q0 = r64(f, (iqa & SIOV_IQA_IQA) + at);
        if (siov_dsc_type(q0) == type) {
            qw[0] = q0;
            qw[1] = r64(f, (iqa & SIOV_IQA_IQA) + at + 8);
            n++;
        }
    }
    return n;
}

static unsigned queued_iotlb(struct fx *f, uint64_t t0, uint64_t qw[2])
{
    return queued_of_type(f, t0, SIOV_DSC_IOTLB, qw);
}

/* Unmap of a second-level domain: one IOTLB invalidation, page-selective
   (DID, address and mask of the naturally aligned block covering the range)
   when CAP.PSI is set and the mask fits CAP.MAMV, domain-selective otherwise. */
static void test_unmap_iotlb_granularity(void **state)
{
    (void)state;
    static const struct {
        uint64_t iova, size, addr;
        unsigned am;
    } cases[] = {
        {0x12000, 0x1000, 0x12000, 0},
        {0x12000, 0x2000, 0x12000, 1},
        {0x13000, 0x2000, 0x10000, 3},           /* crosses a 8 KiB block: the 32 KiB around it */
        {0x3FFFF000, 0x2000, 0, 19},             /* crosses 1 GiB: AM 19 > MAMV 18, domain-selective */
    };
    for (int psi = 0; psi < 2; psi++) {
        struct siov_iommu_config cfg;
        siov_iommu_config_default(&cfg);
        cfg.psi = psi;
        struct fx *f = fx_new_cfg(&cfg, POOL_SIZE);
        assert_int_equal((reg(f, SIOV_REG_CAP, 8) & SIOV_CAP_PSI) != 0, psi);
        unsigned mamv = (unsigned)siov_get(reg(f, SIOV_REG_CAP, 8), SIOV_CAP_MAMV);
        struct siov_domain *d = siov_domain_new(f->drv, SIOV_DOMAIN_SECOND_LEVEL);
        assert_int_equal(siov_attach(d, SID_A), 0);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            assert_int_equal(siov_domain_map(d, cases[i].iova, DATA, cases[i].size, SIOV_PROT_READ), 0);
            uint64_t t0 = reg(f, SIOV_REG_IQT, 8), qw[2] = {0, 0};
            assert_int_equal(siov_domain_unmap(d, cases[i].iova, cases[i].size), (int64_t)cases[i].size);
            assert_int_equal(queued_iotlb(f, t0, qw), 1);
            assert_int_equal(siov_get(qw[0], SIOV_IOTLB0_DID), (uint64_t)siov_domain_did(d));
            bool page = psi && cases[i].am <= mamv;
            assert_int_equal(siov_get(qw[0], SIOV_IOTLB0_G), page ? SIOV_INV_GRAN_PAGE : SIOV_INV_GRAN_DOMAIN);
            assert_int_equal(qw[1], page ? cases[i].addr | siov_set(0, SIOV_INV1_AM, cases[i].am) : 0);
        }
        assert_int_equal(siov_detach(d, SID_A), 0);
        fx_free(f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bringup_registers),
        cmocka_unit_test(test_bringup_legacy),
        cmocka_unit_test(test_new_bad_args),
        cmocka_unit_test(test_free_quiesces_and_rebind),
        cmocka_unit_test(test_capabilities),
        cmocka_unit_test(test_device_setup_tables),
        cmocka_unit_test(test_pasid_exhaustion),
        cmocka_unit_test(test_did_exhaustion),
        cmocka_unit_test(test_pool_sizing),
        cmocka_unit_test(test_teardown_descriptors),
        cmocka_unit_test(test_queue_error_recovery),
        cmocka_unit_test(test_queue_wait_timeout),
        cmocka_unit_test(test_caching_mode),
        cmocka_unit_test(test_enable_ats_scalable),
        cmocka_unit_test(test_enable_ats_legacy),
        cmocka_unit_test(test_ats_invalidations),
        cmocka_unit_test(test_ats_timeout_and_bad_completion),
        cmocka_unit_test(test_ats_with_atc),
        cmocka_unit_test(test_unmap_iotlb_granularity),
        cmocka_unit_test(test_pasid_entries_changed_behind_the_driver),
        cmocka_unit_test(test_pasid_entry_words),
        cmocka_unit_test(test_context_entry_words),
        cmocka_unit_test(test_descriptors_name_the_entry),
        cmocka_unit_test(test_caching_mode_teardown),
        cmocka_unit_test(test_pool_bounds),
        cmocka_unit_test(test_bringup_page_write_fails),
        cmocka_unit_test(test_smallest_pool),
        cmocka_unit_test(test_leaf_words),
        cmocka_unit_test(test_unmap_invalidation_at_mamv),
        cmocka_unit_test(test_pool_rounding_past_the_top),
        cmocka_unit_test(test_free_releases_every_device),
        cmocka_unit_test(test_second_level_depth),
        cmocka_unit_test(test_first_level_depth),
        cmocka_unit_test(test_second_level_leaf_sizes),
        cmocka_unit_test(test_pasid_beyond_the_first_table),
        cmocka_unit_test(test_pool_at_the_end_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

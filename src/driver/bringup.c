/* bringup.c: the driver's lifetime — reading the unit's geometry, setting up
 * the pool and identifiers, turning the queue, interrupt remapping and
 * translation on, and quiescing the unit and releasing everything at the end. */
#include <errno.h>
#include <stdlib.h>

#include "driver.h"

/* Paging geometry from CAP: SL depth (the smallest SAGAW covering MGAW, else
   the deepest), FL depth (5 levels with FL5LP and MGAW above 48), leaf sizes. */
static void read_geometry(struct siov_driver *drv)
{
    unsigned sagaw = (unsigned)siov_get(drv->cap, SIOV_CAP_SAGAW);
    unsigned mgaw = (unsigned)siov_get(drv->cap, SIOV_CAP_MGAW) + 1;
    drv->sl_aw = 0;
    for (unsigned aw = SIOV_AW_3LVL; aw <= SIOV_AW_5LVL; aw++) {
        if (!(sagaw & (1u << aw)))
            continue;
        bool covers_prev = drv->sl_aw && siov_aw_width(drv->sl_aw) >= mgaw;
        if (!covers_prev)
            drv->sl_aw = aw;
    }
    /* with sl_aw 0 (no SAGAW bit) these go unused: no second-level domain */
    drv->sl_levels = siov_aw_levels(drv->sl_aw);
    unsigned w = siov_aw_width(drv->sl_aw);
    drv->sl_width = w < mgaw ? w : mgaw;
    drv->fl_levels = (drv->cap & SIOV_CAP_FL5LP) && mgaw > 48 ? 5 : 4;
    unsigned sllps = (unsigned)siov_get(drv->cap, SIOV_CAP_SLLPS);
    drv->sl_leaf_levels = 1u << 1 | (sllps & SIOV_SLLPS_2M ? 1u << 2 : 0) | (sllps & SIOV_SLLPS_1G ? 1u << 3 : 0);
    drv->fl_leaf_levels = 1u << 1 | 1u << 2 | (drv->cap & SIOV_CAP_FL1GP ? 1u << 3 : 0);
}

/* Domain ids by CAP.ND, PASIDs by ECAP.PSS, and the PASID directory size. */
static int init_ids(struct siov_driver *drv)
{
    unsigned nd = (unsigned)siov_get(drv->cap, SIOV_CAP_ND);
    unsigned bits = drv->pasid_ok ? (unsigned)siov_get(drv->ecap, SIOV_ECAP_PSS) + 1 : 1;
    if (siov_drv_ids_init(drv, 4 + 2 * (nd > 6 ? 6 : nd), bits))
        return -ENOMEM;
    /* directory entries 2^(PDTS+7) cover 2^(PDTS+13) PASIDs (spec 9.4) */
    drv->pdts = bits > 13 ? bits - 13 : 0;
    uint64_t dir_bytes = (1ull << (drv->pdts + 7)) * SIOV_PDE_SIZE;
    drv->dir_pages = dir_bytes > SIOV_PAGE_SIZE ? (unsigned)(dir_bytes / SIOV_PAGE_SIZE) : 1;
    return 0;
}

/* Invalidation queue on (spec 6.5.2): IQT 0, IQA (256-bit descriptors in
   scalable mode, one page), then GCMD.QIE and wait for GSTS.QIES. */
static int qi_enable(struct siov_driver *drv)
{
    int ret = siov_drv_page_alloc(drv, 1, &drv->iq_base);
    if (ret || (ret = siov_drv_page_alloc(drv, 1, &drv->status_gpa)))
        return ret;
    drv->iq_dsz = drv->scalable ? 32 : 16;
    drv->iq_entries = SIOV_PAGE_SIZE / drv->iq_dsz;
    drv->iq_tail = 0;
    siov_mmio_write(drv->iommu, SIOV_REG_IQT, 0, 8);
    uint64_t iqa = drv->iq_base | (drv->scalable ? SIOV_IQA_DW : 0) | siov_set(0, SIOV_IQA_QS, 0);
    siov_mmio_write(drv->iommu, SIOV_REG_IQA, iqa, 8);
    return siov_drv_gcmd(drv, SIOV_GCMD_QIE, 0, SIOV_GSTS_QIES, true);
}

/* Root table latched with SRTP, caches dropped globally (needed without
   ESRTPS), then translation enabled. */
static int root_enable(struct siov_driver *drv)
{
    int ret = siov_drv_page_alloc(drv, 1, &drv->root);
    if (ret)
        return ret;
    unsigned ttm = drv->scalable ? SIOV_TTM_SCALABLE : SIOV_TTM_LEGACY;
    siov_mmio_write(drv->iommu, SIOV_REG_RTADDR, drv->root | siov_set(0, SIOV_RTADDR_TTM, ttm), 8);
    if ((ret = siov_drv_gcmd(drv, SIOV_GCMD_SRTP, 0, SIOV_GSTS_RTPS, true)))
        return ret;
    siov_drv_inv_cc_global(drv);
    if (drv->scalable)
        siov_drv_inv_pc_global(drv);
    siov_drv_inv_iotlb_global(drv);
    if ((ret = siov_drv_qi_flush(drv)))
        return ret;
    return siov_drv_gcmd(drv, SIOV_GCMD_TE, 0, SIOV_GSTS_TES, true);
}

/* A previous owner may have left translation, interrupt remapping or the
   queue on (each reads tables of its pool). */
static int quiesce(struct siov_driver *drv)
{
    int ret = 0;
    if (siov_drv_rd_reg32(drv, SIOV_REG_GSTS) & SIOV_GSTS_TES)
        ret = siov_drv_gcmd(drv, 0, SIOV_GCMD_TE, SIOV_GSTS_TES, false);
    if (!ret && (siov_drv_rd_reg32(drv, SIOV_REG_GSTS) & SIOV_GSTS_IRES))
        ret = siov_drv_gcmd(drv, 0, SIOV_GCMD_IRE, SIOV_GSTS_IRES, false);
    if (!ret && (siov_drv_rd_reg32(drv, SIOV_REG_GSTS) & SIOV_GSTS_QIES))
        ret = siov_drv_gcmd(drv, 0, SIOV_GCMD_QIE, SIOV_GSTS_QIES, false);
    return ret;
}

static int pool_init(struct siov_driver *drv, uint64_t pool_gpa, uint64_t pool_size)
{
    uint64_t base = (pool_gpa + SIOV_PAGE_SIZE - 1) & SIOV_PAGE_MASK;
    uint64_t end = (pool_gpa + pool_size) & SIOV_PAGE_MASK;
    uint64_t msize = siov_mem_size(drv->mem);
    if (pool_gpa + pool_size < pool_gpa || base < pool_gpa || pool_gpa + pool_size > msize)
        return -EINVAL;
    /* root table, queue, status word, IRT, page request queue */
    unsigned need = 3 + ((drv->ecap & SIOV_ECAP_IR) ? 1 : 0) + ((drv->ecap & SIOV_ECAP_PRS) ? 1 : 0);
    if (end <= base || (end - base) / SIOV_PAGE_SIZE < need)
        return -EINVAL;
    return siov_drv_pool_init(drv, base, (end - base) / SIOV_PAGE_SIZE);
}

static void driver_destroy(struct siov_driver *drv)
{
    while (drv->domains)
        siov_domain_release(drv->domains);
    for (unsigned b = 0; b < 256; b++) {
        if (!drv->devs[b])
            continue;
        for (unsigned d = 0; d < 256; d++)
            free(drv->devs[b][d]);
        free(drv->devs[b]);
    }
    siov_drv_alloc_fini(drv);
    siov_drv_prq_fini(drv);
    free(drv->batch);
    free(drv);
}

struct siov_driver *siov_driver_new(struct siov_iommu *iommu, struct siov_mem *mem, uint64_t pool_gpa,
                                    uint64_t pool_size)
{
    if (!iommu || !mem) {
        errno = EINVAL;
        return NULL;
    }
    struct siov_driver *drv = calloc(1, sizeof(*drv));
    if (!drv) {
        errno = ENOMEM;
        return NULL;
    }
    drv->iommu = iommu;
    drv->mem = mem;
    drv->cap = siov_mmio_read(iommu, SIOV_REG_CAP, 8);
    drv->ecap = siov_mmio_read(iommu, SIOV_REG_ECAP, 8);
    drv->scalable = drv->ecap & SIOV_ECAP_SMTS;
    drv->pasid_ok = drv->scalable && (drv->ecap & SIOV_ECAP_PASID);
    drv->dev_tlb = (drv->ecap & SIOV_ECAP_DT) != 0;
    read_geometry(drv);
    int ret = (drv->ecap & SIOV_ECAP_QI) ? 0 : -ENODEV; /* the driver invalidates through the queue */
    if (!ret)
        ret = pool_init(drv, pool_gpa, pool_size);
    if (!ret)
        ret = init_ids(drv);
    if (!ret)
        ret = quiesce(drv);
    if (!ret)
        ret = qi_enable(drv);
    if (!ret)
        ret = siov_drv_prq_enable(drv);
    if (!ret) /* Linux turns interrupt remapping on before DMA remapping */
        ret = siov_drv_irq_enable(drv);
    if (!ret)
        ret = root_enable(drv);
    if (ret) {
        quiesce(drv);
        driver_destroy(drv);
        errno = -ret;
        return NULL;
    }
    siov_drv_done(drv, 0); /* a step that failed and recovered leaves no cause behind */
    return drv;
}

void siov_driver_free(struct siov_driver *drv)
{
    if (!drv)
        return;
    quiesce(drv); /* translation off, queue off: the unit no longer reads the pool */
    driver_destroy(drv);
}

uint64_t siov_driver_pool_avail(const struct siov_driver *drv)
{
    return drv ? drv->pages.nfree : 0;
}

bool siov_driver_capable(const struct siov_driver *drv, enum siov_cap cap)
{
    return drv && siov_drv_capable(drv, cap);
}

/* irq.c: interrupt remapping in the reference driver — turning it on at
 * bring-up in Linux's order, and one interrupt remapping table entry per
 * interrupt a device (or an ADI, through its parent's requester id) asks
 * for: remapped or posted, moved, freed, each change invalidated in the
 * interrupt entry cache before the call returns. */
#include <errno.h>

#include "driver.h"

#define VECTOR_MIN 16 /* vectors 0..15 are reserved by the architecture */

int siov_drv_irq_enable(struct siov_driver *drv)
{
    if (!(drv->ecap & SIOV_ECAP_IR))
        return 0;
    int ret = siov_drv_page_alloc(drv, 1, &drv->irt);
    if (ret || (ret = siov_drv_irq_ids_init(drv, SIOV_DRV_IRT_ENTRIES)))
        return ret;
    drv->eime = drv->ecap & SIOV_ECAP_EIM;
    uint64_t irta = drv->irt | siov_set(0, SIOV_IRTA_S, SIOV_DRV_IRT_S) | (drv->eime ? SIOV_IRTA_EIME : 0);
    siov_mmio_write(drv->iommu, SIOV_REG_IRTA, irta, 8);
    if ((ret = siov_drv_gcmd(drv, SIOV_GCMD_SIRTP, 0, SIOV_GSTS_IRTPS, true)))
        return ret;
    if (!(drv->cap & SIOV_CAP_ESIRTPS)) { /* the unit keeps entries of an earlier table */
        siov_drv_inv_iec_global(drv);
        if ((ret = siov_drv_qi_flush(drv)))
            return ret;
    }
    if ((ret = siov_drv_gcmd(drv, SIOV_GCMD_IRE, 0, SIOV_GSTS_IRES, true)))
        return ret;
    if (siov_drv_rd_reg32(drv, SIOV_REG_GSTS) & SIOV_GSTS_CFIS) /* block compatibility format */
        ret = siov_drv_gcmd(drv, 0, SIOV_GCMD_CFI, SIOV_GSTS_CFIS, false);
    drv->ir = !ret;
    return ret;
}

/* ------------------------------------------------------------- entries */
static uint64_t irte_gpa(const struct siov_driver *drv, unsigned index)
{
    return drv->irt + (uint64_t)index * SIOV_IRTE_SIZE;
}

/* Source validation for the requester: its exact id (SVT=01, SQ=00). */
static uint64_t irte_source(siov_sid sid)
{
    return siov_set(siov_set(0, SIOV_IRTE1_SID, sid), SIOV_IRTE1_SVT, SIOV_SVT_RID);
}

/* qw0 of a remapped entry: fixed delivery, edge, physical destination. */
static uint64_t irte_remapped(const struct siov_driver *drv, uint32_t dest, uint8_t vector)
{
    uint64_t q = SIOV_IRTE0_P | siov_set(0, SIOV_IRTE0_V, vector);
    return drv->eime ? siov_set(q, SIOV_IRTE0_DST, dest) : siov_set(q, SIOV_IRTE0_DST_XAPIC, dest);
}

/* Invalidate entry index in the interrupt entry cache and wait. */
static int irte_flush(struct siov_driver *drv, unsigned index)
{
    siov_drv_inv_iec_index(drv, index, 0);
    return siov_drv_qi_flush(drv);
}

/* Put a new entry at a free index: qw1 first, qw0 with P last, then the
   invalidation (the unit may cache a not-present entry under CAP.CM). */
static int irte_install(struct siov_driver *drv, siov_sid sid, uint64_t qw0, uint64_t qw1, struct siov_msi *msi)
{
    unsigned index = 0; /* set by msi_index on success; initialised for -O3's flow analysis */
    if (siov_drv_irq_index_alloc(drv, &index))
        return siov_drv_fail(drv, -ENOSPC, "the interrupt remapping table is full (%u entries)",
                             SIOV_DRV_IRT_ENTRIES);
    uint64_t gpa = irte_gpa(drv, index);
    if (siov_drv_wr64(drv, gpa + 8, qw1) || siov_drv_wr64(drv, gpa, qw0)) {
        siov_drv_wr64(drv, gpa, 0);
        siov_drv_irq_index_free(drv, index);
        return siov_drv_fail(drv, -EFAULT, "interrupt remapping table entry %u not writable", index);
    }
    drv->irq_sid[index] = sid;
    *msi = (struct siov_msi){siov_msi_remap_addr(index, false), 0};
    return irte_flush(drv, index);
}

/* The checks an interrupt's vector and (remapped) destination pass. */
static int check_target(struct siov_driver *drv, const void *msi, bool remapped, uint32_t dest, uint8_t vector)
{
    if (!msi)
        return siov_drv_fail(drv, -EINVAL, "msi is NULL");
    if (vector < VECTOR_MIN)
        return siov_drv_fail(drv, -EINVAL, "vector %u is reserved (vectors 0-15)", vector);
    if (!drv->ir)
        return siov_drv_fail(drv, -ENODEV, "the unit has no interrupt remapping (ECAP.IR)");
    if (remapped && !drv->eime && dest > 0xFF)
        return siov_drv_fail(drv, -EINVAL, "destination 0x%x does not fit xAPIC mode (8 bits)", dest);
    return 0;
}

int siov_dev_irq_alloc(struct siov_driver *drv, siov_sid sid, uint32_t dest, uint8_t vector, struct siov_msi *msi)
{
    if (!drv)
        return -EINVAL;
    int ret = check_target(drv, msi, true, dest, vector);
    if (!ret)
        ret = irte_install(drv, sid, irte_remapped(drv, dest, vector), irte_source(sid), msi);
    return siov_drv_done(drv, ret);
}

static int alloc_posted(struct siov_driver *drv, siov_sid sid, uint64_t pd_addr, uint8_t vector,
                        struct siov_msi *msi)
{
    int ret = check_target(drv, msi, false, 0, vector);
    if (ret)
        return ret;
    if (pd_addr & (SIOV_PID_SIZE - 1))
        return siov_drv_fail(drv, -EINVAL, "descriptor 0x%llx not 64-byte aligned", (unsigned long long)pd_addr);
    if (!(drv->cap & SIOV_CAP_PI))
        return siov_drv_fail(drv, -ENODEV, "the unit has no posted interrupts (CAP.PI)");
    if (pd_addr > siov_mem_size(drv->mem) - SIOV_PID_SIZE)
        return siov_drv_fail(drv, -EINVAL, "descriptor 0x%llx is outside guest memory", (unsigned long long)pd_addr);
    uint64_t qw0 = siov_irte0_set_pda(SIOV_IRTE0_P | SIOV_IRTE0_IM | siov_set(0, SIOV_IRTE0_V, vector), pd_addr);
    return irte_install(drv, sid, qw0, siov_irte1_set_pda(irte_source(sid), pd_addr), msi);
}

int siov_dev_irq_alloc_posted(struct siov_driver *drv, siov_sid sid, uint64_t pd_addr, uint8_t vector,
                              struct siov_msi *msi)
{
    return drv ? siov_drv_done(drv, alloc_posted(drv, sid, pd_addr, vector, msi)) : -EINVAL;
}

/* The index msi names if it is an interrupt the driver gave sid; -EINVAL
   for a message it never makes, -ENOENT for no interrupt of sid. */
static int msi_index(struct siov_driver *drv, siov_sid sid, const struct siov_msi *msi, unsigned *index)
{
    if (!msi)
        return siov_drv_fail(drv, -EINVAL, "msi is NULL");
    if (!drv->ir)
        return siov_drv_fail(drv, -ENODEV, "the unit has no interrupt remapping (ECAP.IR)");
    uint64_t a = msi->addr;
    if (a < SIOV_INTR_BASE || a > SIOV_INTR_LIMIT || !(a & SIOV_MSI_ADDR_REMAP) || (a & SIOV_MSI_ADDR_SHV) ||
        (a & 3) || msi->data)
        return siov_drv_fail(drv, -EINVAL, "message 0x%llx data 0x%x is not one the driver makes",
                             (unsigned long long)a, msi->data);
    /* what is left of a, bits 19:5 and 2, is the handle: a is siov_msi_remap_addr(i, false) */
    unsigned i = siov_msi_handle(a);
    if (!siov_drv_irq_index_used(drv, i) || drv->irq_sid[i] != sid)
        return siov_drv_fail(drv, -ENOENT, "no interrupt of %02x:%02x.%x at index %u", SIOV_DRV_BDF(sid), i);
    *index = i;
    return 0;
}

static int set_affinity(struct siov_driver *drv, siov_sid sid, const struct siov_msi *msi, uint32_t dest,
                        uint8_t vector)
{
    unsigned index = 0; /* set by msi_index on success; initialised for -O3's flow analysis */
    uint64_t qw0;
    int ret = msi_index(drv, sid, msi, &index);
    if (!ret)
        ret = check_target(drv, msi, true, dest, vector);
    if (ret)
        return ret;
    if (siov_drv_rd64(drv, irte_gpa(drv, index), &qw0))
        return siov_drv_fail(drv, -EFAULT, "interrupt remapping table entry %u not readable", index);
    if (qw0 & SIOV_IRTE0_IM)
        return siov_drv_fail(drv, -EINVAL, "interrupt %u is posted: its destination is its descriptor's", index);
    /* qw1 (the source) stays: one 8-byte store changes the entry whole */
    if (siov_drv_wr64(drv, irte_gpa(drv, index), irte_remapped(drv, dest, vector)))
        return siov_drv_fail(drv, -EFAULT, "interrupt remapping table entry %u not writable", index);
    return irte_flush(drv, index);
}

int siov_dev_irq_set_affinity(struct siov_driver *drv, siov_sid sid, const struct siov_msi *msi, uint32_t dest,
                              uint8_t vector)
{
    return drv ? siov_drv_done(drv, set_affinity(drv, sid, msi, dest, vector)) : -EINVAL;
}

int siov_dev_irq_free(struct siov_driver *drv, siov_sid sid, const struct siov_msi *msi)
{
    unsigned index = 0; /* set by msi_index on success; initialised for -O3's flow analysis */
    if (!drv)
        return -EINVAL;
    int ret = msi_index(drv, sid, msi, &index);
    if (ret)
        return siov_drv_done(drv, ret);
    uint64_t gpa = irte_gpa(drv, index);
    siov_drv_wr64(drv, gpa, 0); /* P clear first, the invalidation, then the rest */
    ret = irte_flush(drv, index);
    siov_drv_wr64(drv, gpa + 8, 0);
    siov_drv_irq_index_free(drv, index);
    return siov_drv_done(drv, ret);
}

int siov_driver_set_fault_msi(struct siov_driver *drv, uint64_t addr, uint32_t data)
{
    if (!drv)
        return -EINVAL;
    if (addr & SIOV_FEADDR_RSVD)
        return siov_drv_done(drv, siov_drv_fail(drv, -EINVAL, "address 0x%llx not DWORD aligned",
                                                (unsigned long long)addr));
    if (data & ~SIOV_FEDATA_DATA)
        return siov_drv_done(drv, siov_drv_fail(drv, -EINVAL, "data 0x%x wider than 16 bits", data));
    siov_mmio_write(drv->iommu, SIOV_REG_FEDATA, data, 4);
    siov_mmio_write(drv->iommu, SIOV_REG_FEADDR, (uint32_t)addr, 4);
    siov_mmio_write(drv->iommu, SIOV_REG_FEUADDR, (uint32_t)(addr >> 32), 4);
    siov_mmio_write(drv->iommu, SIOV_REG_FECTL, 0, 4);
    return siov_drv_done(drv, 0);
}

/* device.c: the devices the driver sets up — context tables under the root
 * table, scalable and legacy context entries (DTE, PRE), the PASID directory
 * and the PASID-table entries, with the invalidations each change needs,
 * and a device's aux-domain enabling. */
#include <errno.h>
#include <stdlib.h>

#include "driver.h"

/* --------------------------------------------------- context tables */

static unsigned ctx_half(const struct siov_driver *drv, siov_sid sid)
{
    return drv->scalable ? SIOV_SID_DEVFN(sid) >> 7 : 0;
}

static uint64_t ctx_entry_gpa(const struct siov_driver *drv, siov_sid sid)
{
    unsigned bus = SIOV_SID_BUS(sid), devfn = SIOV_SID_DEVFN(sid);
    uint64_t t = drv->ctx_table[bus][ctx_half(drv, sid)];
    return drv->scalable ? t + (devfn & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE : t + devfn * SIOV_CTX_ENTRY_SIZE;
}

/* The root-entry qword that points to the context table of sid's bus (half). */
static uint64_t root_word_gpa(const struct siov_driver *drv, siov_sid sid)
{
    return drv->root + SIOV_SID_BUS(sid) * SIOV_ROOT_ENTRY_SIZE + ctx_half(drv, sid) * 8;
}

static int ctx_table_get(struct siov_driver *drv, siov_sid sid)
{
    unsigned bus = SIOV_SID_BUS(sid), half = ctx_half(drv, sid);
    if (drv->ctx_users[bus][half]++)
        return 0;
    uint64_t t;
    int ret = siov_drv_page_alloc(drv, 1, &t);
    if (!ret && (ret = siov_drv_wr64(drv, root_word_gpa(drv, sid), t | SIOV_RE0_P))) /* P, LP and UP are bit 0 */
        siov_drv_page_free(drv, t, 1);
    if (ret) {
        drv->ctx_users[bus][half]--;
        return ret;
    }
    drv->ctx_table[bus][half] = t;
    return 0;
}

static void ctx_table_put(struct siov_driver *drv, siov_sid sid)
{
    unsigned bus = SIOV_SID_BUS(sid), half = ctx_half(drv, sid);
    if (--drv->ctx_users[bus][half])
        return;
    siov_drv_wr64(drv, root_word_gpa(drv, sid), 0);
    if (drv->cap & SIOV_CAP_CM)
        siov_drv_inv_cc_global(drv);
    siov_drv_page_defer(drv, drv->ctx_table[bus][half]); /* ctx_table is read only while users > 0 */
    siov_drv_qi_flush(drv);
}

/* Scalable context entry of a new device: PASID directory, RID_PASID 0, P
   written last; DTE and PRE come later (siov_drv_ats_enable, siov_drv_pri_set). */
static int ctx_sm_setup(struct siov_driver *drv, struct siov_dev *dev)
{
    int ret = siov_drv_page_alloc(drv, drv->dir_pages, &dev->dir);
    if (ret)
        return ret;
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid);
    uint64_t qw0 = dev->dir | siov_set(0, SIOV_SCE0_PDTS, drv->pdts) | SIOV_SCE0_P;
    qw0 |= drv->pasid_ok ? SIOV_SCE0_PASIDE : 0;
    ret = siov_drv_wr64(drv, gpa + 8, siov_set(0, SIOV_SCE1_RID_PASID, SIOV_DRV_RID_PASID));
    if (!ret)
        ret = siov_drv_wr64(drv, gpa, qw0);
    if (!ret && (drv->cap & SIOV_CAP_CM)) {
        siov_drv_inv_cc_device(drv, dev->sid, 0);
        ret = siov_drv_qi_flush(drv);
    }
    if (!ret)
        ret = siov_drv_write_buffer_flush(drv);
    if (ret) {
        siov_drv_wr64(drv, gpa, 0);
        siov_drv_page_free(drv, dev->dir, drv->dir_pages);
    }
    return ret;
}

/* Present context entry removed (spec 6.5.3.3): context cache. No device-TLB
   invalidation: a device with ATS is never released (siov_drv_dev_put). */
static void ctx_sm_teardown(struct siov_driver *drv, struct siov_dev *dev)
{
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid);
    siov_drv_wr64(drv, gpa, 0);
    siov_drv_inv_cc_device(drv, dev->sid, 0);
    siov_drv_qi_flush(drv);
    siov_drv_zero(drv, gpa, SIOV_SM_CTX_ENTRY_SIZE);
    uint64_t ndir = (uint64_t)drv->dir_pages * SIOV_PAGE_SIZE / SIOV_PDE_SIZE;
    for (uint64_t i = 0; i < ndir; i++) {
        uint64_t pde;
        if (siov_drv_rd64(drv, dev->dir + i * SIOV_PDE_SIZE, &pde) == 0 && (pde & SIOV_PDE_P))
            siov_drv_page_free(drv, pde & SIOV_PDE_SMPTBLPTR, 1);
    }
    siov_drv_page_free(drv, dev->dir, drv->dir_pages);
}

/* ------------------------------------------------------------ devices */

int siov_drv_dev_get(struct siov_driver *drv, siov_sid sid, struct siov_dev **out)
{
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (dev) {
        *out = dev;
        return 0;
    }
    struct siov_dev ***bus = &drv->devs[SIOV_SID_BUS(sid)];
    if ((!*bus && !(*bus = calloc(256, sizeof(**bus)))) || !(dev = calloc(1, sizeof(*dev))))
        return siov_drv_fail(drv, -ENOMEM, "out of host memory for device %02x:%02x.%x", SIOV_DRV_BDF(sid));
    dev->sid = sid;
    int ret = ctx_table_get(drv, sid);
    if (!ret && drv->scalable && (ret = ctx_sm_setup(drv, dev)))
        ctx_table_put(drv, sid);
    if (ret) {
        free(dev);
        return ret;
    }
    (*bus)[SIOV_SID_DEVFN(sid)] = dev;
    *out = dev;
    return 0;
}

void siov_drv_dev_put(struct siov_driver *drv, struct siov_dev *dev)
{
    if (dev->rid_dom || dev->naux || dev->aux_enabled || dev->ats)
        return;
    if (drv->scalable)
        ctx_sm_teardown(drv, dev);
    ctx_table_put(drv, dev->sid);
    drv->devs[SIOV_SID_BUS(dev->sid)][SIOV_SID_DEVFN(dev->sid)] = NULL;
    free(dev);
}

/* ------------------------------------------------------ PASID entries */

/* The PASID-table entry of pasid, creating its PASID table if create. */
static int pasid_entry_gpa(struct siov_driver *drv, struct siov_dev *dev, uint32_t pasid, bool create,
                           uint64_t *gpa)
{
    uint64_t pde_gpa = dev->dir + siov_get(pasid, SIOV_PASID_DIR_INDEX) * SIOV_PDE_SIZE, pde, t;
    int ret = siov_drv_rd64(drv, pde_gpa, &pde);
    if (ret)
        return ret;
    if (!(pde & SIOV_PDE_P)) {
        if (!create)
            return siov_drv_fail(drv, -ENOENT, "PASID %u has no PASID table on %02x:%02x.%x", pasid,
                                 SIOV_DRV_BDF(dev->sid));
        if ((ret = siov_drv_page_alloc(drv, 1, &t)))
            return ret;
        pde = t | SIOV_PDE_P;
        if ((ret = siov_drv_wr64(drv, pde_gpa, pde))) {
            siov_drv_page_free(drv, t, 1);
            return ret;
        }
    }
    *gpa = (pde & SIOV_PDE_SMPTBLPTR) + siov_get(pasid, SIOV_PASID_TBL_INDEX) * SIOV_PTE_SIZE;
    return 0;
}

int siov_drv_pasid_set(struct siov_driver *drv, struct siov_dev *dev, uint32_t pasid, const uint64_t pe[8])
{
    uint64_t gpa, qw0;
    int ret = pasid_entry_gpa(drv, dev, pasid, true, &gpa);
    if (ret || (ret = siov_drv_rd64(drv, gpa, &qw0)))
        return ret;
    if (qw0 & SIOV_PTE0_P) /* the table was changed behind the driver's back */
        return siov_drv_fail(drv, -EEXIST, "PASID %u already has a present entry on %02x:%02x.%x", pasid,
                             SIOV_DRV_BDF(dev->sid));
    uint8_t b[SIOV_PTE_SIZE];
    for (int i = 0; i < 8; i++)
        siov_drv_put64(b + 8 * i, i ? pe[i] : pe[0] & ~SIOV_PTE0_P);
    /* the unit may read the entry in pieces: all fields first, P last (spec 9.6) */
    if ((ret = siov_drv_write_mem(drv, gpa, b, sizeof(b))) || (ret = siov_drv_wr64(drv, gpa, pe[0])))
        return ret;
    if (drv->cap & SIOV_CAP_CM) { /* the unit may have cached the non-present entry */
        uint16_t did = (uint16_t)siov_get(pe[1], SIOV_PTE1_DID);
        siov_drv_inv_pc(drv, did, pasid);
        siov_drv_inv_piotlb_pasid(drv, did, pasid);
        ret = siov_drv_qi_flush(drv);
    }
    if (!ret)
        ret = siov_drv_write_buffer_flush(drv);
    if (ret) /* the attach fails: its entry goes, as its PASID does */
        siov_drv_wr64(drv, gpa, 0);
    return ret;
}

int siov_drv_pasid_clear(struct siov_driver *drv, struct siov_dev *dev, uint32_t pasid)
{
    uint64_t gpa = 0, qw0, qw1; /* set on success; initialised for -O3's flow analysis */
    int ret = pasid_entry_gpa(drv, dev, pasid, false, &gpa);
    if (ret || (ret = siov_drv_rd64(drv, gpa, &qw0)) || (ret = siov_drv_rd64(drv, gpa + 8, &qw1)))
        return ret;
    if (!(qw0 & SIOV_PTE0_P))
        return siov_drv_fail(drv, -ENOENT, "PASID %u has no present entry on %02x:%02x.%x", pasid,
                             SIOV_DRV_BDF(dev->sid));
    uint16_t did = (uint16_t)siov_get(qw1, SIOV_PTE1_DID);
    unsigned pgtt = (unsigned)siov_get(qw0, SIOV_PTE0_PGTT);
    /* tear-down order of the spec's PASID-entry table (facts sheet 10.3) */
    siov_drv_wr64(drv, gpa, qw0 & ~SIOV_PTE0_P);
    siov_drv_inv_pc(drv, did, pasid);
    if (pgtt == SIOV_PGTT_FL || pgtt == SIOV_PGTT_PT)
        siov_drv_inv_piotlb_pasid(drv, did, pasid);
    else
        siov_drv_inv_iotlb_dsi(drv, did); /* second-level entries carry no PASID tag */
    siov_drv_inv_devtlb(drv, dev->sid, pasid == SIOV_DRV_RID_PASID ? SIOV_NO_PASID : pasid, 0, 0);
    ret = siov_drv_qi_flush(drv);
    siov_drv_zero(drv, gpa, SIOV_PTE_SIZE);
    return ret;
}

/* -------------------------------------------------- legacy context entries */

int siov_drv_legacy_set(struct siov_driver *drv, struct siov_dev *dev, uint64_t qw0, uint64_t qw1)
{
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid);
    int ret;
    if ((ret = siov_drv_wr64(drv, gpa + 8, qw1)) || (ret = siov_drv_wr64(drv, gpa, qw0)))
        return ret;
    if (drv->cap & SIOV_CAP_CM) {
        uint16_t did = (uint16_t)siov_get(qw1, SIOV_CE1_DID);
        siov_drv_inv_cc_device(drv, dev->sid, did);
        siov_drv_inv_iotlb_dsi(drv, did);
        ret = siov_drv_qi_flush(drv);
    }
    if (!ret)
        ret = siov_drv_write_buffer_flush(drv);
    if (ret) /* the attach fails: its entry goes */
        siov_drv_wr64(drv, gpa, 0);
    return ret;
}

int siov_drv_legacy_clear(struct siov_driver *drv, struct siov_dev *dev)
{
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid), qw1;
    int ret = siov_drv_rd64(drv, gpa + 8, &qw1);
    if (ret)
        return ret;
    uint16_t did = (uint16_t)siov_get(qw1, SIOV_CE1_DID);
    siov_drv_wr64(drv, gpa, 0);
    /* legacy context-entry change (spec 6.5.3.3): context cache, IOTLB by DID, device TLB */
    siov_drv_inv_cc_device(drv, dev->sid, did);
    siov_drv_inv_iotlb_dsi(drv, did);
    siov_drv_inv_devtlb(drv, dev->sid, SIOV_NO_PASID, 0, 0);
    ret = siov_drv_qi_flush(drv);
    siov_drv_wr64(drv, gpa + 8, 0);
    return ret;
}

unsigned siov_drv_legacy_tt(const struct siov_dev *dev, bool pass_through)
{
    if (pass_through)
        return SIOV_TT_PASS_THROUGH; /* TT=10 carries no ATS: its translation requests fault LCT.5 */
    return dev && dev->ats ? SIOV_TT_SL_DT : SIOV_TT_SL;
}

/* ----------------------------------------------------------------- ATS */

/* A present context entry changed (facts 10.3): the context cache of the
   device; in scalable mode the PASID cache too, whose entries were decoded
   under the old context entry; in legacy mode the IOTLB of its DID. */
static int ctx_changed(struct siov_driver *drv, struct siov_dev *dev, uint16_t did)
{
    siov_drv_inv_cc_device(drv, dev->sid, did);
    if (drv->scalable)
        siov_drv_inv_pc_global(drv);
    else
        siov_drv_inv_iotlb_dsi(drv, did);
    return siov_drv_qi_flush(drv);
}

/* Legacy mode: TT 00 -> 01 in a second-level entry; pass-through keeps TT=10. */
static int ats_enable_legacy(struct siov_driver *drv, struct siov_dev *dev, uint64_t gpa)
{
    uint64_t qw0, qw1;
    int ret;
    if (!dev->rid_dom) {
        dev->ats = true; /* the entry gets TT=01 when a second-level domain is attached */
        return 0;
    }
    if ((ret = siov_drv_rd64(drv, gpa, &qw0)) || (ret = siov_drv_rd64(drv, gpa + 8, &qw1)))
        return ret;
    if (siov_get(qw0, SIOV_CE0_TT) != SIOV_TT_SL) {
        dev->ats = true;
        return 0;
    }
    if ((ret = siov_drv_wr64(drv, gpa, siov_set(qw0, SIOV_CE0_TT, SIOV_TT_SL_DT))))
        return ret;
    dev->ats = true;
    return ctx_changed(drv, dev, (uint16_t)siov_get(qw1, SIOV_CE1_DID));
}

int siov_drv_ats_enable(struct siov_driver *drv, struct siov_dev *dev)
{
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid), qw0;
    if (!drv->scalable)
        return ats_enable_legacy(drv, dev, gpa);
    int ret = siov_drv_rd64(drv, gpa, &qw0); /* DTE in the present context entry */
    if (ret || (ret = siov_drv_wr64(drv, gpa, qw0 | SIOV_SCE0_DTE)))
        return ret;
    dev->ats = true;
    return ctx_changed(drv, dev, 0);
}

int siov_drv_pri_set(struct siov_driver *drv, struct siov_dev *dev, bool on)
{
    uint64_t gpa = ctx_entry_gpa(drv, dev->sid), qw0;
    int ret = siov_drv_rd64(drv, gpa, &qw0);
    if (!ret)
        ret = siov_drv_wr64(drv, gpa, on ? qw0 | SIOV_SCE0_PRE : qw0 & ~SIOV_SCE0_PRE);
    if (!ret)
        dev->pri = on;
    return ret ? ret : ctx_changed(drv, dev, 0);
}

static int enable_ats(struct siov_driver *drv, siov_sid sid)
{
    if (!drv->dev_tlb)
        return siov_drv_fail(drv, -ENODEV, "the unit has no device-TLB support (ECAP.DT)");
    struct siov_dev *dev;
    int ret = siov_drv_dev_get(drv, sid, &dev);
    if (ret || dev->ats)
        return ret;
    return siov_drv_ats_enable(drv, dev);
}

int siov_dev_enable_ats(struct siov_driver *drv, siov_sid sid)
{
    return drv ? siov_drv_done(drv, enable_ats(drv, sid)) : -EINVAL;
}

/* ------------------------------------------------------- aux enabling */

/* -ENODEV, with the reason, when the unit cannot tag requests with PASIDs. */
int siov_drv_need_pasid(struct siov_driver *drv)
{
    if (drv->pasid_ok)
        return 0;
    return siov_drv_fail(drv, -ENODEV, "the unit has no PASID support (needs ECAP.SMTS and ECAP.PASID)");
}

static int enable_aux(struct siov_driver *drv, siov_sid sid)
{
    struct siov_dev *dev = NULL; /* set on success; initialised for -O3's flow analysis */
    int ret = siov_drv_need_pasid(drv);
    if (ret || (ret = siov_drv_dev_get(drv, sid, &dev)))
        return ret;
    dev->aux_enabled = true;
    return 0;
}

int siov_dev_enable_aux(struct siov_driver *drv, siov_sid sid)
{
    return drv ? siov_drv_done(drv, enable_aux(drv, sid)) : -EINVAL;
}

int siov_drv_aux_dev(struct siov_driver *drv, siov_sid sid, struct siov_dev **dev)
{
    int ret = siov_drv_need_pasid(drv);
    if (ret)
        return ret;
    *dev = siov_drv_dev_find(drv, sid);
    if (!*dev || !(*dev)->aux_enabled)
        return siov_drv_fail(drv, -EINVAL, "aux domains not enabled on %02x:%02x.%x", SIOV_DRV_BDF(sid));
    return 0;
}

static int disable_aux(struct siov_driver *drv, siov_sid sid)
{
    struct siov_dev *dev = NULL; /* set on success; initialised for -O3's flow analysis */
    int ret = siov_drv_aux_dev(drv, sid, &dev);
    if (ret)
        return ret;
    if (dev->naux)
        return siov_drv_fail(drv, -EBUSY, "%u aux domain%s still attached to %02x:%02x.%x", dev->naux,
                             dev->naux == 1 ? "" : "s", SIOV_DRV_BDF(sid));
    dev->aux_enabled = false;
    siov_drv_dev_put(drv, dev);
    return 0;
}

int siov_dev_disable_aux(struct siov_driver *drv, siov_sid sid)
{
    return drv ? siov_drv_done(drv, disable_aux(drv, sid)) : -EINVAL;
}

/* Root and context entries: legacy (128-bit) and scalable mode (256-bit),
   with the checks of spec 9.1-9.4 and 7.1.3. */
#include <string.h>

#include "internal.h"

/* Read n qwords of a structure at gpa; false when guest memory fails. */
static bool read_entry(struct siov_iommu *u, uint64_t gpa, uint64_t *qw, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        if (siov_mem_read64(u->mem, gpa + 8 * i, &qw[i]) < 0)
            return false;
    return true;
}

static bool beyond_haw(const struct siov_iommu *u, uint64_t addr_field)
{
    return (addr_field & siov_above(u->cfg.haw)) != 0;
}

/* ---------------------------------------------------------------- legacy */

/* Legacy root entry (spec 9.1): the context-table pointer of a bus. */
static siov_fault legacy_root(struct siov_iommu *u, uint64_t rta, unsigned bus, uint64_t *ctp)
{
    uint64_t re[2];
    if (!read_entry(u, rta + (uint64_t)bus * SIOV_ROOT_ENTRY_SIZE, re, 2))
        return SIOV_FAULT_LRT_1;
    if (!(re[0] & SIOV_RE0_P))
        return SIOV_FAULT_LRT_2;
    if ((re[0] & SIOV_RE0_RSVD) || beyond_haw(u, re[0] & SIOV_RE0_CTP) || re[1])
        return SIOV_FAULT_LRT_3;
    *ctp = re[0] & SIOV_RE0_CTP;
    return SIOV_OK;
}

/* Programming checks of a present legacy context entry (LCT.4, spec 9.3). */
static siov_fault legacy_ctx_check(const struct siov_iommu *u, const struct siov_ctx_ent *ce)
{
    switch (ce->tt) {
    case SIOV_TT_SL: break;
    case SIOV_TT_SL_DT: if (!(u->ecap & SIOV_ECAP_DT)) return SIOV_FAULT_LCT_4; break;
    case SIOV_TT_PASS_THROUGH: if (!(u->ecap & SIOV_ECAP_PT)) return SIOV_FAULT_LCT_4; break;
    default: return SIOV_FAULT_LCT_4;
    }
    /* SAGAW has bits for AW 1-3 only (the configuration refuses others) */
    if (!(u->cfg.sagaw & (1u << ce->aw)))
        return SIOV_FAULT_LCT_4;
    return SIOV_OK;
}

static siov_fault legacy_context(struct siov_iommu *u, uint64_t ctp, unsigned devfn, struct siov_ctx_ent *ce)
{
    uint64_t e[2];
    if (!read_entry(u, ctp + (uint64_t)devfn * SIOV_CTX_ENTRY_SIZE, e, 2))
        return SIOV_FAULT_LCT_1;
    ce->fpd = (e[0] & SIOV_CE0_FPD) != 0; /* evaluated even when P=0 */
    if (!(e[0] & SIOV_CE0_P))
        return SIOV_FAULT_LCT_2;
    if ((e[0] & SIOV_CE0_RSVD) || beyond_haw(u, e[0] & SIOV_CE0_SLPTPTR) || (e[1] & SIOV_CE1_RSVD))
        return SIOV_FAULT_LCT_3;
    ce->legacy = true;
    ce->tt = (uint8_t)siov_get(e[0], SIOV_CE0_TT);
    ce->aw = (uint8_t)siov_get(e[1], SIOV_CE1_AW);
    ce->did = (uint16_t)siov_get(e[1], SIOV_CE1_DID);
    ce->slptptr = e[0] & SIOV_CE0_SLPTPTR;
    return legacy_ctx_check(u, ce);
}

/* -------------------------------------------------------------- scalable */

/* Scalable root entry (spec 9.2): the half for devfn 0-127 is the lower one. */
static siov_fault sm_root(struct siov_iommu *u, uint64_t rta, unsigned bus, unsigned devfn, uint64_t *ctp)
{
    uint64_t re[2];
    if (!read_entry(u, rta + (uint64_t)bus * SIOV_ROOT_ENTRY_SIZE, re, 2))
        return SIOV_FAULT_SRT_1;
    uint64_t half = devfn < 128 ? re[0] : re[1];
    /* LP and UP sit at bit 0 of their qword, the pointers at 63:12 */
    if (!(half & SIOV_SRE0_LP))
        return SIOV_FAULT_SRT_2;
    if ((half & SIOV_SRE_HALF_RSVD) || beyond_haw(u, half & SIOV_SRE0_LCTP))
        return SIOV_FAULT_SRT_3;
    *ctp = half & SIOV_SRE0_LCTP;
    return SIOV_OK;
}

/* Reserved bits (SCT.3), fields of features the unit lacks and PRE
   without DTE (SCT.4; page requests need ATS, spec 9.4). */
static siov_fault sm_ctx_check(const struct siov_iommu *u, const uint64_t e[4])
{
    if ((e[0] & SIOV_SCE0_RSVD) || beyond_haw(u, e[0] & SIOV_SCE0_PASIDDIRPTR) ||
        (e[1] & SIOV_SCE1_RSVD) || e[2] || e[3])
        return SIOV_FAULT_SCT_3;
    if (((e[0] & SIOV_SCE0_DTE) && !(u->ecap & SIOV_ECAP_DT)) ||
        ((e[0] & SIOV_SCE0_PRE) && !(u->ecap & SIOV_ECAP_PRS)) ||
        ((e[0] & SIOV_SCE0_PRE) && !(e[0] & SIOV_SCE0_DTE)) ||
        ((e[1] & SIOV_SCE1_RID_PRIV) && !(u->ecap & SIOV_ECAP_RPRIVS)))
        return SIOV_FAULT_SCT_4;
    return SIOV_OK;
}

static siov_fault sm_context(struct siov_iommu *u, uint64_t ctp, unsigned devfn, struct siov_ctx_ent *ce)
{
    uint64_t e[4];
    if (!read_entry(u, ctp + (uint64_t)(devfn & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE, e, 4))
        return SIOV_FAULT_SCT_1;
    ce->fpd = (e[0] & SIOV_SCE0_FPD) != 0; /* evaluated even when P=0 */
    if (!(e[0] & SIOV_SCE0_P))
        return SIOV_FAULT_SCT_2;
    siov_fault f = sm_ctx_check(u, e);
    if (f)
        return f;
    ce->dte = (e[0] & SIOV_SCE0_DTE) != 0;
    ce->paside = (e[0] & SIOV_SCE0_PASIDE) != 0;
    ce->pre = (e[0] & SIOV_SCE0_PRE) != 0;
    ce->pdts = (uint8_t)siov_get(e[0], SIOV_SCE0_PDTS);
    ce->pasid_dir = e[0] & SIOV_SCE0_PASIDDIRPTR;
    /* Without ECAP.RPS, requests without PASID use PASID 0 (spec 9.4). */
    ce->rid_pasid = (u->ecap & SIOV_ECAP_RPS) ? (uint32_t)siov_get(e[1], SIOV_SCE1_RID_PASID) : 0;
    return SIOV_OK;
}

siov_fault siov_context_lookup(struct siov_iommu *iommu, uint64_t state, siov_sid sid, struct siov_ctx_ent *ce)
{
    uint64_t rta = state & SIOV_RTADDR_RTA, ctp = 0;
    unsigned bus = SIOV_SID_BUS(sid), devfn = SIOV_SID_DEVFN(sid);
    memset(ce, 0, sizeof(*ce));
    siov_fault f;
    if (siov_get(state, SIOV_RTADDR_TTM) == SIOV_TTM_LEGACY) {
        f = legacy_root(iommu, rta, bus, &ctp);
        return f ? f : legacy_context(iommu, ctp, devfn, ce);
    }
    f = sm_root(iommu, rta, bus, devfn, &ctp);
    return f ? f : sm_context(iommu, ctp, devfn, ce);
}

siov_fault siov_context_legacy_pe(const struct siov_iommu *iommu, const struct siov_ctx_ent *ce,
                                  struct siov_pasid_ent *pe)
{
    (void)iommu;
    memset(pe, 0, sizeof(*pe));
    pe->legacy = true;
    pe->fpd = ce->fpd;
    pe->did = ce->did;
    pe->pgtt = ce->tt == SIOV_TT_PASS_THROUGH ? SIOV_PGTT_PT : SIOV_PGTT_SL;
    pe->sl_levels = (uint8_t)siov_aw_levels(ce->aw);
    pe->slptptr = ce->slptptr;
    pe->ats_ok = ce->tt == SIOV_TT_SL_DT;
    pe->pwsnp = true;
    pe->pasid = SIOV_NO_PASID;
    return SIOV_OK;
}

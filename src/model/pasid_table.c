/* PASID directory and PASID-table entries (spec 9.5, 9.6): lookup, the
   reserved-bit and programming checks, and decoding. */
#include <string.h>

#include "internal.h"

static bool beyond_haw(const struct siov_iommu *u, uint64_t addr_field)
{
    return (addr_field & siov_above(u->cfg.haw)) != 0;
}

/* The PASID the lookup uses and whether the context entry admits it (spec
   Table 30). A request without PASID is looked up as one with RID_PASID
   (PASID 0 without ECAP.RPS, spec 9.4), so the width and directory checks
   cover RID_PASID too; SCT.9 concerns a request's own PASID only. The order
   of the checks is docs/spec-notes.md's. */
static siov_fault pasid_select(const struct siov_iommu *u, const struct siov_ctx_ent *ce,
                               uint32_t req_pasid, uint32_t *pasid)
{
    bool with_pasid = req_pasid != SIOV_NO_PASID;
    if (with_pasid && !ce->paside)
        return SIOV_FAULT_SCT_6;
    *pasid = with_pasid ? req_pasid : ce->rid_pasid;
    if (*pasid >= 1ull << u->cfg.pasid_bits) /* beyond ECAP.PSS */
        return SIOV_FAULT_SGN_10;
    if (with_pasid && (u->ecap & SIOV_ECAP_RPS) && req_pasid == ce->rid_pasid)
        return SIOV_FAULT_SCT_9;
    if (*pasid >= 1ull << (ce->pdts + 13)) /* 2^(PDTS+7) directory entries of 64 PASIDs */
        return SIOV_FAULT_SCT_7;
    return SIOV_OK;
}

/* PASID-directory entry: the PASID table covering pasid. */
static siov_fault pasid_dir_entry(struct siov_iommu *u, uint64_t dir, uint32_t pasid, uint64_t *table, bool *fpd)
{
    uint64_t pde;
    if (siov_mem_read64(u->mem, dir + siov_get(pasid, SIOV_PASID_DIR_INDEX) * SIOV_PDE_SIZE, &pde) < 0)
        return SIOV_FAULT_SPD_1;
    *fpd |= (pde & SIOV_PDE_FPD) != 0; /* evaluated even when P=0 */
    if (!(pde & SIOV_PDE_P))
        return SIOV_FAULT_SPD_2;
    if ((pde & SIOV_PDE_RSVD) || beyond_haw(u, pde & SIOV_PDE_SMPTBLPTR))
        return SIOV_FAULT_SPD_3;
    *table = pde & SIOV_PDE_SMPTBLPTR;
    return SIOV_OK;
}

/* Bits reserved in every implementation (SPT.3). */
static bool pe_reserved(const struct siov_iommu *u, const uint64_t e[8])
{
    if ((e[0] & SIOV_PTE0_RSVD) || (e[1] & SIOV_PTE1_RSVD) || (e[2] & SIOV_PTE2_RSVD))
        return true;
    if (beyond_haw(u, e[0] & SIOV_PTE0_SLPTPTR) || beyond_haw(u, e[2] & SIOV_PTE2_FLPTPTR))
        return true;
    return e[3] | e[4] | e[5] | e[6] | e[7];
}

/* Whether the unit implements a PGTT value (spec 9.6: PGTT needs its ECAP
   bit; the configuration has NEST only with FLTS and SLTS). pgtt is the
   3-bit field: the values without an ECAP bit here (0, 5-7) are reserved. */
static bool pgtt_supported(const struct siov_iommu *u, unsigned pgtt)
{
    static const uint64_t ecap_of[8] = {
        [SIOV_PGTT_FL] = SIOV_ECAP_FLTS,
        [SIOV_PGTT_SL] = SIOV_ECAP_SLTS,
        [SIOV_PGTT_NESTED] = SIOV_ECAP_NEST,
        [SIOV_PGTT_PT] = SIOV_ECAP_PT,
    };
    return (u->ecap & ecap_of[pgtt]) != 0;
}

/* Second-level controls used by PGTT SL and nested. */
static bool sl_fields_valid(const struct siov_iommu *u, const uint64_t e[8])
{
    /* SAGAW has bits for AW 1-3 only (the configuration refuses others), so
       AW 0 and 4-7 find no bit here */
    if (!(u->cfg.sagaw & (1u << siov_get(e[0], SIOV_PTE0_AW))))
        return false;
    return !((e[0] & SIOV_PTE0_SLADE) && !(u->ecap & SIOV_ECAP_SLADS));
}

/* First-level controls used by PGTT FL and nested. */
static bool fl_fields_valid(const struct siov_iommu *u, const uint64_t e[8])
{
    unsigned flpm = (unsigned)siov_get(e[2], SIOV_PTE2_FLPM);
    if (flpm > SIOV_FLPM_5LVL || (flpm == SIOV_FLPM_5LVL && !(u->cap & SIOV_CAP_FL5LP)))
        return false;
    if ((e[2] & SIOV_PTE2_SRE) && !(u->ecap & SIOV_ECAP_SRS))
        return false;
    if ((e[2] & SIOV_PTE2_ERE) && !(u->ecap & SIOV_ECAP_ERS))
        return false;
    return !((e[2] & SIOV_PTE2_EAFE) && !(u->ecap & SIOV_ECAP_EAFS));
}

/* Fields naming a feature the unit lacks (SPT.4, docs/spec-notes.md). */
static bool pe_programming_valid(const struct siov_iommu *u, const uint64_t e[8], unsigned pgtt)
{
    if (!pgtt_supported(u, pgtt))
        return false;
    if ((e[1] & SIOV_PTE1_MT_FIELDS) && !(u->ecap & SIOV_ECAP_MTS))
        return false;
    if ((e[1] & SIOV_PTE1_PGSNP) && !(u->ecap & SIOV_ECAP_SC))
        return false;
    if ((pgtt == SIOV_PGTT_SL || pgtt == SIOV_PGTT_NESTED) && !sl_fields_valid(u, e))
        return false;
    if ((pgtt == SIOV_PGTT_FL || pgtt == SIOV_PGTT_NESTED) && !fl_fields_valid(u, e))
        return false;
    return true;
}

/* pe->fpd is left clear: FPD is the lookup's, from the directory entry and this one. */
siov_fault siov_pasid_decode(const struct siov_iommu *iommu, const uint64_t e[8], struct siov_pasid_ent *pe)
{
    if (pe_reserved(iommu, e))
        return SIOV_FAULT_SPT_3;
    unsigned pgtt = (unsigned)siov_get(e[0], SIOV_PTE0_PGTT);
    if (!pe_programming_valid(iommu, e, pgtt))
        return SIOV_FAULT_SPT_4;
    memset(pe, 0, sizeof(*pe));
    pe->pgtt = (uint8_t)pgtt;
    pe->did = (uint16_t)siov_get(e[1], SIOV_PTE1_DID);
    pe->slptptr = e[0] & SIOV_PTE0_SLPTPTR;
    pe->sl_levels = (uint8_t)siov_aw_levels((unsigned)siov_get(e[0], SIOV_PTE0_AW));
    pe->slee = (e[0] & SIOV_PTE0_SLEE) != 0;
    pe->slade = (e[0] & SIOV_PTE0_SLADE) != 0;
    pe->pwsnp = (e[1] & SIOV_PTE1_PWSNP) != 0;
    pe->flptptr = e[2] & SIOV_PTE2_FLPTPTR;
    pe->fl_levels = siov_get(e[2], SIOV_PTE2_FLPM) == SIOV_FLPM_5LVL ? 5 : 4;
    pe->sre = (e[2] & SIOV_PTE2_SRE) != 0;
    pe->ere = (e[2] & SIOV_PTE2_ERE) != 0;
    pe->wpe = (e[2] & SIOV_PTE2_WPE) != 0;
    pe->nxe = (e[2] & SIOV_PTE2_NXE) != 0;
    pe->smep = (e[2] & SIOV_PTE2_SMEP) != 0;
    /* pe->eafe stays clear: EAFE needs ECAP.EAFS (fl_fields_valid), which no configuration offers */
    return SIOV_OK;
}

siov_fault siov_pasid_lookup(struct siov_iommu *iommu, const struct siov_ctx_ent *ce, uint32_t req_pasid,
                             struct siov_pasid_ent *pe, bool *fpd)
{
    uint32_t pasid;
    uint64_t table, e[8];
    siov_fault f = pasid_select(iommu, ce, req_pasid, &pasid);
    if (!f)
        f = pasid_dir_entry(iommu, ce->pasid_dir, pasid, &table, fpd);
    if (f)
        return f;
    uint64_t gpa = table + siov_get(pasid, SIOV_PASID_TBL_INDEX) * SIOV_PTE_SIZE;
    for (unsigned i = 0; i < 8; i++)
        if (siov_mem_read64(iommu->mem, gpa + 8 * i, &e[i]) < 0)
            return SIOV_FAULT_SPT_1;
    *fpd |= (e[0] & SIOV_PTE0_FPD) != 0; /* evaluated even when P=0 */
    if (!(e[0] & SIOV_PTE0_P))
        return SIOV_FAULT_SPT_2;
    f = siov_pasid_decode(iommu, e, pe);
    if (f)
        return f;
    pe->fpd = *fpd;
    pe->pasid = pasid;
    pe->ats_ok = ce->dte;
    return SIOV_OK;
}

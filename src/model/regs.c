/* The register file: MMIO reads and writes at the spec's offsets (spec 10.4),
   CAP/ECAP from the configuration, GCMD -> GSTS. */
#include "internal.h"

/* Register widths: 64-bit registers accept 8-byte accesses or 4 bytes at
   either half; 32-bit registers accept 4 bytes only. */
enum { W32 = 4, W64 = 8 };
struct reg_desc {
    uint16_t off;
    uint8_t width;
};
static const struct reg_desc reg_table[] = {
    {SIOV_REG_VER, W32},    {SIOV_REG_CAP, W64},     {SIOV_REG_ECAP, W64},   {SIOV_REG_GCMD, W32},
    {SIOV_REG_GSTS, W32},   {SIOV_REG_RTADDR, W64},  {SIOV_REG_CCMD, W64},   {SIOV_REG_FSTS, W32},
    {SIOV_REG_FECTL, W32},  {SIOV_REG_FEDATA, W32},  {SIOV_REG_FEADDR, W32}, {SIOV_REG_FEUADDR, W32},
    {SIOV_REG_IQH, W64},    {SIOV_REG_IQT, W64},     {SIOV_REG_IQA, W64},    {SIOV_REG_ICS, W32},
    {SIOV_REG_IECTL, W32},  {SIOV_REG_IEDATA, W32},  {SIOV_REG_IEADDR, W32}, {SIOV_REG_IEUADDR, W32},
    {SIOV_REG_IQERCD, W64}, {SIOV_REG_IVA, W64},     {SIOV_REG_IOTLB, W64},  {SIOV_REG_IRTA, W64},
    {SIOV_REG_PQH, W64},    {SIOV_REG_PQT, W64},     {SIOV_REG_PQA, W64},    {SIOV_REG_PRS, W32},
    {SIOV_REG_PECTL, W32},  {SIOV_REG_PEDATA, W32},  {SIOV_REG_PEADDR, W32}, {SIOV_REG_PEUADDR, W32},
};

#define MHMV_MAX 15u /* ECAP.MHMV: index masks up to 2^15 entries */

void siov_regs_reset(struct siov_iommu *u)
{
    const struct siov_iommu_config *c = &u->cfg;
    unsigned nd = (c->domain_bits - 4) / 2;
    u->cap = siov_set(0, SIOV_CAP_ND, nd) | siov_set(0, SIOV_CAP_SAGAW, c->sagaw) |
             siov_set(0, SIOV_CAP_MGAW, c->mgaw - 1) | siov_set(0, SIOV_CAP_FRO, SIOV_REG_FRCD / 16) |
             siov_set(0, SIOV_CAP_SLLPS, c->sl_large) | (c->psi ? SIOV_CAP_PSI : 0) |
             siov_set(0, SIOV_CAP_NFR, u->nfr - 1) | siov_set(0, SIOV_CAP_MAMV, SIOV_MODEL_MAMV) |
             (c->fl_1g ? SIOV_CAP_FL1GP : 0) | (c->fl_5level ? SIOV_CAP_FL5LP : 0) |
             (c->caching_mode ? SIOV_CAP_CM : 0);
    u->ecap = SIOV_ECAP_QI | siov_set(0, SIOV_ECAP_IRO, SIOV_REG_IVA / 16) |
              (c->dev_tlb ? SIOV_ECAP_DT : 0) | (c->pass_through ? SIOV_ECAP_PT : 0) |
              (c->nested ? SIOV_ECAP_NEST : 0) | (c->exec_req ? SIOV_ECAP_ERS : 0) |
              (c->supervisor_req ? SIOV_ECAP_SRS : 0) | (c->sl_ad ? SIOV_ECAP_SLADS : 0) |
              (c->second_level ? SIOV_ECAP_SLTS : 0) | (c->first_level ? SIOV_ECAP_FLTS : 0) |
              (c->rid_pasid ? SIOV_ECAP_RPS : 0) | (c->abort_dma ? SIOV_ECAP_ADMS : 0) |
              SIOV_ECAP_SMPWCS | (c->nwfs && c->dev_tlb ? SIOV_ECAP_NWFS : 0);
    if (c->scalable)
        u->ecap |= SIOV_ECAP_SMTS | SIOV_ECAP_PASID | siov_set(0, SIOV_ECAP_PSS, c->pasid_bits - 1);
    if (c->page_requests && c->scalable && c->dev_tlb) /* PRS needs DT and SMTS (spec 11.4.3) */
        u->ecap |= SIOV_ECAP_PRS | SIOV_ECAP_PDS | SIOV_ECAP_SMS;
    if (c->irq_remapping) {
        u->ecap |= SIOV_ECAP_IR | siov_set(0, SIOV_ECAP_MHMV, MHMV_MAX) | (c->x2apic ? SIOV_ECAP_EIM : 0) |
                   (c->x2apic_only ? SIOV_ECAP_EIMER : 0) | (c->irq_remap_required ? SIOV_ECAP_IRREQ : 0);
        u->cap |= (c->posted_interrupts ? SIOV_CAP_PI : 0) | (c->esirtps ? SIOV_CAP_ESIRTPS : 0);
    }
    /* every event interrupt starts masked (spec 11.4.7.2, 11.4.9.6, 11.4.11.5) */
    u->fectl = SIOV_ECTL_IM;
    u->iectl = SIOV_ECTL_IM;
    u->pectl = SIOV_ECTL_IM;
}

static const struct reg_desc *reg_find(uint64_t off)
{
    for (size_t i = 0; i < sizeof(reg_table) / sizeof(reg_table[0]); i++) {
        uint64_t base = reg_table[i].off;
        if (off == base || (reg_table[i].width == W64 && off == base + 4))
            return &reg_table[i];
    }
    return NULL;
}

/* Full value of the register at base (under lock). */
static uint64_t reg_value(struct siov_iommu *u, uint64_t base)
{
    switch (base) {
    case SIOV_REG_VER: return u->cfg.version;
    case SIOV_REG_CAP: return u->cap;
    case SIOV_REG_ECAP: return u->ecap;
    case SIOV_REG_GCMD: return 0; /* write-only command register: docs/spec-notes.md */
    case SIOV_REG_GSTS: return u->gsts;
    case SIOV_REG_RTADDR: return u->rtaddr;
    case SIOV_REG_CCMD: return u->ccmd;
    case SIOV_REG_IQH: return u->iqh;
    case SIOV_REG_IQT: return u->iqt;
    case SIOV_REG_IQA: return u->iqa;
    case SIOV_REG_ICS: return u->ics;
    case SIOV_REG_IECTL: return u->iectl;
    case SIOV_REG_IEDATA: return u->iedata;
    case SIOV_REG_IEADDR: return u->ieaddr;
    case SIOV_REG_IEUADDR: return u->ieuaddr;
    case SIOV_REG_IQERCD: return u->iqercd;
    case SIOV_REG_IVA: return u->iva;
    case SIOV_REG_IOTLB: return u->iotlb_reg;
    case SIOV_REG_IRTA: return u->irta;
    default: return siov_prq_reg_value(u, base); /* PQH .. PEUADDR; 0 for the rest */
    }
}

uint64_t siov_mmio_read(struct siov_iommu *iommu, uint64_t offset, unsigned size)
{
    if (!iommu || (size != 4 && size != 8) || (offset & (size - 1)))
        return 0;
    uint64_t v = 0;
    pthread_mutex_lock(&iommu->lock);
    const struct reg_desc *r; /* fault registers and records first, then the table */
    if (!siov_fault_reg_read(iommu, offset, size, &v) && (r = reg_find(offset)) &&
        (size == 4 || (r->width == W64 && offset == r->off))) {
        v = reg_value(iommu, r->off);
        if (offset != r->off)
            v >>= 32;
        else if (size == 4)
            v &= 0xFFFFFFFFu;
    }
    pthread_mutex_unlock(&iommu->lock);
    return v;
}

/* Which requests front-cache hits may answer under state (SIOV_FAST_*): with
   translation on, those of a mode whose answers the front cache holds. */
static unsigned front_gate(const struct siov_iommu *u, uint64_t state)
{
    unsigned ttm = (unsigned)siov_get(state, SIOV_RTADDR_TTM), gate = 0;
    if ((state & SIOV_STATE_TE) && u->xc.ways)
        gate = ttm == SIOV_TTM_SCALABLE ? SIOV_FAST_NOPASID | SIOV_FAST_PASID
               : ttm == SIOV_TTM_LEGACY ? SIOV_FAST_NOPASID : 0;
    bool checked = u->cfg.stale_check || __atomic_load_n(&u->trace_fn, __ATOMIC_RELAXED);
    return checked ? gate << SIOV_FAST_CHECKED_SHIFT : gate; /* traced requests take the slow path */
}

/* Publish the translation state translating threads read without the lock,
   and the front-cache gate that goes with it. A new state drops the front
   cache's answers (they were checked against the old one); the spec's caches
   keep theirs until software invalidates them. */
static void state_publish(struct siov_iommu *u, uint64_t latched_rtaddr)
{
    uint64_t te = (u->gsts & SIOV_GSTS_TES) ? SIOV_STATE_TE : 0, state = latched_rtaddr | te;
    uint64_t old = __atomic_load_n(&u->state, __ATOMIC_RELAXED);
    __atomic_store_n(&u->state, state, __ATOMIC_RELEASE);
    __atomic_store_n(&u->fast_gate, front_gate(u, state), __ATOMIC_RELEASE);
    if (state != old)
        siov_caches_front_flush(u->caches);
}

/* The interrupt-remapping commands (spec 10.4.4): SIRTP latches IRTA, IRE
   enables remapping (with whatever IRTA is latched, reset 0 if none), CFI
   acts while remapping is on in xAPIC mode. With CAP.ESIRTPS, SIRTP and IRE
   going off invalidate the interrupt entry cache (docs/spec-notes.md). */
static void gcmd_ir(struct siov_iommu *u, uint32_t v)
{
    uint64_t st = __atomic_load_n(&u->irstate, __ATOMIC_RELAXED);
    bool es = u->cap & SIOV_CAP_ESIRTPS;
    if (!(u->ecap & SIOV_ECAP_IR))
        return;
    if (v & SIOV_GCMD_SIRTP) {
        st = (st & (SIOV_IRSTATE_IRES | SIOV_IRSTATE_CFIS)) |
             (u->irta & (SIOV_IRTA_IRTA | SIOV_IRTA_EIME | SIOV_IRTA_S));
        u->gsts |= SIOV_GSTS_IRTPS;
        if (es)
            siov_iec_inv_global(u->caches);
    }
    if ((v & SIOV_GCMD_IRE) && !(st & SIOV_IRSTATE_IRES)) {
        st |= SIOV_IRSTATE_IRES;
    } else if (!(v & SIOV_GCMD_IRE) && (st & SIOV_IRSTATE_IRES)) {
        st &= ~SIOV_IRSTATE_IRES;
        if (es)
            siov_iec_inv_global(u->caches);
    }
    if ((st & SIOV_IRSTATE_IRES) && !(st & SIOV_IRTA_EIME))
        st = (v & SIOV_GCMD_CFI) ? st | SIOV_IRSTATE_CFIS : st & ~SIOV_IRSTATE_CFIS;
    u->gsts = (u->gsts & ~(SIOV_GSTS_IRES | SIOV_GSTS_CFIS)) | ((st & SIOV_IRSTATE_IRES) ? SIOV_GSTS_IRES : 0) |
              ((st & SIOV_IRSTATE_CFIS) ? SIOV_GSTS_CFIS : 0);
    __atomic_store_n(&u->irstate, st, __ATOMIC_RELEASE);
}

/* GCMD: level bits act when they differ from GSTS, one-shot bits when set. */
static void gcmd_write(struct siov_iommu *u, uint32_t v)
{
    uint64_t latched = __atomic_load_n(&u->state, __ATOMIC_RELAXED) & ~SIOV_STATE_TE;
    if (v & SIOV_GCMD_SRTP) {
        latched = u->rtaddr & (SIOV_RTADDR_RTA | SIOV_RTADDR_TTM);
        u->gsts |= SIOV_GSTS_RTPS;
    }
    if ((v & SIOV_GCMD_TE) && !(u->gsts & SIOV_GSTS_TES))
        u->gsts |= SIOV_GSTS_TES;
    else if (!(v & SIOV_GCMD_TE))
        u->gsts &= ~SIOV_GSTS_TES;
    state_publish(u, latched);
    if ((v & SIOV_GCMD_QIE) && !(u->gsts & SIOV_GSTS_QIES)) {
        u->gsts |= SIOV_GSTS_QIES;
        siov_iq_process(u);
    } else if (!(v & SIOV_GCMD_QIE) && (u->gsts & SIOV_GSTS_QIES)) {
        u->gsts &= ~SIOV_GSTS_QIES;
        siov_iq_disable(u);
    }
    gcmd_ir(u, v);
    /* WBF completes at once (CAP.RWBF=0); the unit has no advanced fault log (CAP.AFL=0). */
}

/* ICS.IWC is RW1C; clearing it clears IECTL.IP (spec 10.4.25). */
static void ics_write(struct siov_iommu *u, uint32_t v)
{
    if (v & SIOV_ICS_IWC) {
        u->ics &= ~SIOV_ICS_IWC;
        u->iectl &= ~SIOV_ECTL_IP;
    }
}

/* IECTL.IM: unmasking with IP set sends the held interrupt. */
static void iectl_write(struct siov_iommu *u, uint32_t v)
{
    u->iectl = (u->iectl & SIOV_ECTL_IP) | (v & SIOV_ECTL_IM);
    if (!(v & SIOV_ECTL_IM) && (u->iectl & SIOV_ECTL_IP)) {
        u->iectl &= ~SIOV_ECTL_IP;
        siov_msi_queue(u, SIOV_MSI_INV);
    }
}

/* A write of the whole 64-bit value v to the register at base; high says
   the upper dword was written (commands act on it). */
static void reg_store(struct siov_iommu *u, uint64_t base, uint64_t v, bool high)
{
    switch (base) {
    case SIOV_REG_GCMD: gcmd_write(u, (uint32_t)v); break;
    case SIOV_REG_RTADDR: u->rtaddr = v & ~SIOV_RTADDR_RSVD; break;
    case SIOV_REG_CCMD:
        u->ccmd = v;
        if (high) /* ICC is in the upper dword; siov_inv_ccmd acts only on it */
            siov_inv_ccmd(u, v);
        break;
    case SIOV_REG_IVA: u->iva = v & ~SIOV_IVA_RSVD; break;
    case SIOV_REG_IOTLB:
        u->iotlb_reg = v;
        if (high) /* IVT is in the upper dword; siov_inv_iotlb_reg acts only on it */
            siov_inv_iotlb_reg(u, v);
        break;
    case SIOV_REG_IQT:
        u->iqt = v & SIOV_IQ_PTR;
        if (u->gsts & SIOV_GSTS_QIES)
            siov_iq_process(u);
        break;
    case SIOV_REG_IQA:
        if (!(u->gsts & SIOV_GSTS_QIES)) /* software must not move an enabled queue */
            u->iqa = v & ~SIOV_IQA_RSVD;
        break;
    case SIOV_REG_ICS: ics_write(u, (uint32_t)v); break;
    case SIOV_REG_IECTL: iectl_write(u, (uint32_t)v); break;
    case SIOV_REG_IEDATA: u->iedata = (uint32_t)v & SIOV_FEDATA_DATA; break;
    case SIOV_REG_IEADDR: u->ieaddr = (uint32_t)v & ~(uint32_t)SIOV_FEADDR_RSVD; break;
    case SIOV_REG_IEUADDR: u->ieuaddr = (uint32_t)v; break;
    case SIOV_REG_IRTA: /* RsvdZ without ECAP.IR; EIME RsvdZ without ECAP.EIM */
        if (u->ecap & SIOV_ECAP_IR)
            u->irta = v & ~SIOV_IRTA_RSVD & ~((u->ecap & SIOV_ECAP_EIM) ? 0 : SIOV_IRTA_EIME);
        break;
    case SIOV_REG_PQH:
    case SIOV_REG_PQT:
    case SIOV_REG_PQA:
    case SIOV_REG_PRS:
    case SIOV_REG_PECTL:
    case SIOV_REG_PEDATA:
    case SIOV_REG_PEADDR:
    case SIOV_REG_PEUADDR: siov_prq_reg_store(u, base, v); break;
    default: break; /* read-only: VER, CAP, ECAP, GSTS, IQH, IQERCD */
    }
}

void siov_mmio_write(struct siov_iommu *iommu, uint64_t offset, uint64_t value, unsigned size)
{
    if (!iommu || (size != 4 && size != 8) || (offset & (size - 1)))
        return;
    pthread_mutex_lock(&iommu->lock);
    if (siov_fault_reg_write(iommu, offset, value, size)) {
        /* writing 1 to FSTS.IQE or ITE resumes the queue from IQH: docs/spec-notes.md */
        if (offset == SIOV_REG_FSTS && size == 4 && (value & (SIOV_FSTS_IQE | SIOV_FSTS_ITE)))
            siov_iq_process(iommu);
    } else {
        const struct reg_desc *r = reg_find(offset);
        if (r && size == 8 && r->width == W64 && offset == r->off) {
            reg_store(iommu, r->off, value, true);
        } else if (r && size == 4) { /* one half of a 64-bit register, or a 32-bit one (its low half) */
            uint64_t cur = reg_value(iommu, r->off);
            bool high = offset != r->off;
            uint64_t v = high ? (cur & 0xFFFFFFFFu) | (value << 32)
                              : (cur & ~0xFFFFFFFFull) | (value & 0xFFFFFFFFu);
            reg_store(iommu, r->off, v, high);
        }
    }
    pthread_mutex_unlock(&iommu->lock);
    siov_msi_flush(iommu);
    siov_out_flush(iommu); /* device-TLB invalidations and events the queue sent */
}

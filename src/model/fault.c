/* Fault reasons, the fault recording registers (FRCD), FSTS/FECTL and the
   fault event (spec 7.1.3, 7.3, 10.4.9-10.4.14). */
#include <errno.h>

#include "internal.h"

/* ------------------------------------------------------ fault reason table */
struct fault_info {
    const char *name;       /* spec name, "SPT.2" */
    const char *stage_name; /* rev 3.4+ name where it differs ("SSS.2"), else NULL */
    const char *meaning;    /* one line, after the condition of spec Table 30 */
    bool qualified;         /* suppressed by FPD: docs/spec-notes.md "FPD and qualified faults" */
};

#define Q true   /* qualified: an FPD on the lookup path suppresses it */
#define NQ false /* not qualified: always recorded */
/* One row per siov_fault enumerator; the name is built from the same tokens. */
#define FAULT(grp, n, q, meaning) [SIOV_FAULT_##grp##_##n] = {#grp "." #n, NULL, meaning, q}
/* A row of the second-stage / first-stage groups, renamed in rev 3.4 (grp -> stage). */
#define FAULT_ST(grp, stage, n, q, meaning) [SIOV_FAULT_##grp##_##n] = {#grp "." #n, #stage "." #n, meaning, q}

/* Qualification follows spec rev 5.10 Table 30: every LCT, LSS, LGN, SFS,
   SSS, SGN and HPT condition, SCT.2-10, SPD.2-3 and SPT.2-9 are qualified;
   LRT, RTA, SRT, SCT.1, SPD.1 and SPT.1 (nothing on the path can carry an
   FPD yet, or the structure that would carry it is unreadable) are not. */
static const struct fault_info fault_table[SIOV_ERR_NOT_PRESENT + 1] = {
    [SIOV_OK] = {"OK", NULL, "no fault: the request was translated", NQ},
    FAULT(LRT, 2, NQ, "root entry not present (legacy mode)"),
    FAULT(LCT, 2, Q, "context entry not present (legacy mode)"),
    FAULT(LCT, 4, Q, "invalid context-entry programming: AW, TT, or the SLPTPTR table unreadable (legacy mode)"),
    FAULT(LGN, 1, Q, "input address above 2^X-1, X = min(MGAW, AW), or above HAW (legacy mode)"),
    FAULT(LGN, 2, Q, "write request without write permission (legacy mode)"),
    FAULT(LGN, 3, Q, "read request without read permission (legacy mode)"),
    FAULT_ST(LSL, LSS, 1, Q, "error accessing a second-stage paging entry (legacy mode)"),
    FAULT(LRT, 1, NQ, "error accessing the root entry (legacy mode)"),
    FAULT(LCT, 1, Q, "error accessing the context entry (legacy mode)"),
    FAULT(LRT, 3, NQ, "reserved bit set in a present root entry (legacy mode)"),
    FAULT(LCT, 3, Q, "reserved bit set in a present context entry (legacy mode)"),
    FAULT_ST(LSL, LSS, 2, Q, "reserved bit set in a present second-stage paging entry (legacy mode)"),
    FAULT(LCT, 5, Q, "translation or translated request blocked by the context entry's TT (legacy mode)"),
    FAULT(LGN, 4, Q, "output address in the interrupt range 0xFEEx_xxxx (legacy mode)"),
    /* interrupt remapping (spec Table 15): qualified by the entry's FPD where
       a present entry is involved (facts 12.8) */
    FAULT(IR, 20, NQ, "reserved field set in a remappable interrupt request"),
    FAULT(IR, 21, NQ, "interrupt index beyond the remapping table, or its entry above HAW"),
    FAULT(IR, 22, Q, "interrupt remapping table entry not present"),
    FAULT(IR, 23, NQ, "interrupt remapping table entry access error"),
    FAULT(IR, 24, Q, "reserved field set in a present interrupt remapping table entry"),
    FAULT(IR, 25, NQ, "compatibility-format interrupt blocked"),
    FAULT(IR, 26, Q, "interrupt source-id validation failed"),
    FAULT(IR, 27, Q, "posted-interrupt descriptor access error"),
    FAULT(IR, 28, Q, "reserved field set in the posted-interrupt descriptor"),
    FAULT(IR, 29, NQ, "write to the interrupt address range that is not a valid MSI"),
    FAULT(IR, 2A, NQ, "interrupt blocked: xAPIC mode while ECAP.EIMER=1"),
    FAULT(IR, 2B, NQ, "interrupt blocked: remapping disabled while ECAP.IRREQ=1"),
    FAULT(RTA, 1, NQ, "invalid RTADDR programming: reserved or unsupported TTM, root table above HAW"),
    FAULT(RTA, 2, NQ, "request with PASID while TTM is legacy"),
    FAULT(RTA, 3, NQ, "page request while TTM is legacy"),
    FAULT(RTA, 4, NQ, "request while TTM is abort-DMA mode"),
    FAULT(RTA, 5, NQ, "request with PASID and ER=1 to a unit of VER 8.0 or later"),
    FAULT(SRT, 1, NQ, "error accessing the scalable-mode root entry"),
    FAULT(SRT, 2, NQ, "scalable-mode root entry half not present (LP or UP is 0)"),
    FAULT(SRT, 3, NQ, "reserved bit set in a present scalable-mode root entry"),
    FAULT(SCT, 1, NQ, "error accessing the scalable-mode context entry"),
    FAULT(SCT, 2, Q, "scalable-mode context entry not present"),
    FAULT(SCT, 3, Q, "reserved bit set in a present scalable-mode context entry"),
    FAULT(SCT, 4, Q, "invalid scalable-mode context-entry programming"),
    FAULT(SCT, 5, Q, "translation or translated request while DTE=0"),
    FAULT(SCT, 6, Q, "request with PASID while PASIDE=0"),
    FAULT(SCT, 7, Q, "PASID beyond the PASID directory's size (PDTS)"),
    FAULT(SCT, 8, Q, "page request while PRE=0"),
    FAULT(SCT, 9, Q, "request with PASID whose PASID equals the context entry's RID_PASID"),
    FAULT(SCT, 10, Q, "translated request with PASID while EPTR=0"),
    FAULT(SPD, 1, NQ, "error accessing the PASID directory entry"),
    FAULT(SPD, 2, Q, "PASID directory entry not present"),
    FAULT(SPD, 3, Q, "reserved bit set in a present PASID directory entry"),
    FAULT(SPT, 1, NQ, "error accessing the PASID-table entry"),
    FAULT(SPT, 2, Q, "PASID-table entry not present"),
    FAULT(SPT, 3, Q, "reserved bit set in a present PASID-table entry"),
    FAULT(SPT, 4, Q, "invalid PASID-table entry programming"),
    FAULT(SPT, 5, Q, "execute request (ER=1) while ERE=0"),
    FAULT(SPT, 6, Q, "supervisor request (PR=1) while SRE=0"),
    FAULT(SPT, 9, Q, "PASID-table entry condition added in rev 5.x"),
    FAULT_ST(SFL, SFS, 1, Q, "error accessing a first-stage paging entry"),
    FAULT_ST(SFL, SFS, 2, Q, "first-stage paging entry not present"),
    FAULT_ST(SFL, SFS, 3, Q, "reserved bit set in a present first-stage paging entry"),
    FAULT_ST(SFL, SFS, 4, Q, "error accessing the first-stage table FLPTPTR references"),
    FAULT_ST(SFL, SFS, 5, Q, "nested: first-stage table address above the second stage's input width"),
    FAULT_ST(SFL, SFS, 6, Q, "nested: second stage denies reading the first-stage table FLPTPTR references"),
    FAULT_ST(SFL, SFS, 7, Q, "nested: second stage denies reading a first-stage table"),
    FAULT_ST(SFL, SFS, 8, Q, "nested: second stage denies writing a first-stage A/D update"),
    FAULT_ST(SSL, SSS, 1, Q, "error accessing a second-stage paging entry"),
    FAULT_ST(SSL, SSS, 2, Q, "second-stage entry not present: R=W=0 in it, or over the walk"),
    FAULT_ST(SSL, SSS, 3, Q, "reserved bit set in a present second-stage paging entry"),
    FAULT_ST(SSL, SSS, 4, Q, "error accessing the second-stage table SLPTPTR references"),
    FAULT_ST(SSL, SSS, 5, Q, "second-stage A/D update needed on a non-snooped walk"),
    FAULT_ST(SSL, SSS, 6, Q, "second-stage A/D update failed"),
    FAULT(SGN, 1, Q, "first-stage input address not canonical"),
    FAULT(SGN, 2, Q, "user request to a supervisor page"),
    FAULT(SGN, 3, Q, "execute request without execute permission"),
    FAULT(SGN, 4, Q, "host address above HAW (pass-through or translated request)"),
    FAULT(SGN, 5, Q, "second-stage input address above 2^X-1, X = min(MGAW, AW)"),
    FAULT(SGN, 6, Q, "write request without write permission"),
    FAULT(SGN, 7, Q, "read request without read permission"),
    FAULT(SGN, 8, Q, "output address in the interrupt range 0xFEEx_xxxx"),
    FAULT(SGN, 10, Q, "PASID above the unit's PASID width (ECAP.PSS)"),
    FAULT_ST(SFL, SFS, 9, Q, "first-stage A/D update needed on a non-snooped walk"),
    FAULT_ST(SFL, SFS, 10, Q, "first-stage A/D update failed"),
    FAULT(HPT, 1, Q, "host permission table fault HPT.1 (needs ECAP.HPTS)"),
    FAULT(HPT, 2, Q, "host permission table fault HPT.2 (needs ECAP.HPTS)"),
    FAULT(HPT, 3, Q, "host permission table fault HPT.3 (needs ECAP.HPTS)"),
    FAULT(HPT, 4, Q, "host permission table fault HPT.4 (needs ECAP.HPTS)"),
    FAULT(HPT, 5, Q, "host permission table fault HPT.5 (needs ECAP.HPTS)"),
    FAULT(HPT, 6, Q, "host permission table fault HPT.6 (needs ECAP.HPTS)"),
    [SIOV_ERR_BUS] = {"BUS", NULL, "translated address not backed by memory (not a VT-d fault)", NQ},
    [SIOV_ERR_NOT_PRESENT] = {"NOT_PRESENT", NULL,
                              "the translation completion does not grant the access (not a VT-d fault)",
                              NQ},
};
#undef FAULT
#undef FAULT_ST

/* The table row of f, or NULL if f is not an enumerator. */
static const struct fault_info *fault_info(siov_fault f)
{
    unsigned long long i = (unsigned long long)f;
    if (i >= sizeof(fault_table) / sizeof(fault_table[0]) || !fault_table[i].name)
        return NULL;
    return &fault_table[i];
}

/* A fault reason the FRCD can hold: a VT-d code, not SIOV_OK or SIOV_ERR_*. */
static bool fault_recordable(siov_fault f)
{
    return f != SIOV_OK && f < SIOV_ERR_BUS && fault_info(f);
}

const char *siov_fault_name(siov_fault f)
{
    const struct fault_info *fi = fault_info(f);
    return fi ? fi->name : "?";
}

const char *siov_fault_stage_name(siov_fault f)
{
    const struct fault_info *fi = fault_info(f);
    return !fi ? "?" : fi->stage_name ? fi->stage_name : fi->name;
}

/* Case-insensitive equality, '_' standing for '.' (and for itself: NOT_PRESENT). */
static bool name_matches(const char *want, const char *name)
{
    for (; *want && *name; want++, name++) {
        char c = *want == '_' && *name == '.' ? '.' : *want;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (c != *name)
            return false;
    }
    return !*want && !*name;
}

int siov_fault_from_name(const char *name, siov_fault *out)
{
    if (!name || !out)
        return -EINVAL;
    for (size_t i = 0; i < sizeof(fault_table) / sizeof(fault_table[0]); i++) {
        const struct fault_info *fi = &fault_table[i];
        if (fi->name && (name_matches(name, fi->name) || (fi->stage_name && name_matches(name, fi->stage_name)))) {
            *out = (siov_fault)i;
            return 0;
        }
    }
    return -EINVAL;
}

const char *siov_fault_describe(siov_fault f)
{
    const struct fault_info *fi = fault_info(f);
    return fi ? fi->meaning : "unknown fault reason";
}

bool siov_fault_qualified(siov_fault f)
{
    const struct fault_info *fi = fault_info(f);
    return fi && fi->qualified;
}

/* ------------------------------------------------------- record encoding */
/* AT of the request; a unit without device TLBs (ECAP.DT=0) treats the
   field as RsvdZ (spec 11.4.7.6; facts 13.1). */
static unsigned frcd_at(unsigned access, bool dt)
{
    if (!dt)
        return SIOV_FRCD_AT_UNTRANSLATED;
    if (access & SIOV_ACCESS_TRANSLATED)
        return SIOV_FRCD_AT_TRANSLATED;
    if (access & SIOV_ACCESS_ATS_REQ)
        return SIOV_FRCD_AT_TRANSLATION_REQ;
    return SIOV_FRCD_AT_UNTRANSLATED;
}

/* The 128-bit record of a fault (spec 11.4.7.6). EXE and PRIV are defined
   only with PP=1 (they travel in the PASID prefix) and are 0 otherwise.
   (T1,T2): (0,0) write, (1,0) read, (1,1) AtomicOp (READ|WRITE), (0,1) page
   request (AT 0); execute reads (docs/spec-notes.md). */
static void frcd_encode(const struct siov_req *req, siov_fault f, bool dt, uint64_t rec[2])
{
    bool pp = req->pasid != SIOV_NO_PASID;
    uint64_t hi = SIOV_FRCD1_F;
    hi = siov_set(hi, SIOV_FRCD1_SID, req->sid);
    hi = siov_set(hi, SIOV_FRCD1_PRIV, pp && (req->access & SIOV_ACCESS_PRIV));
    hi = siov_set(hi, SIOV_FRCD1_EXE, pp && (req->access & SIOV_ACCESS_EXEC));
    hi = siov_set(hi, SIOV_FRCD1_PP, pp);
    hi = siov_set(hi, SIOV_FRCD1_FR, (uint64_t)f);
    hi = siov_set(hi, SIOV_FRCD1_PV, pp ? req->pasid : 0);
    hi = siov_set(hi, SIOV_FRCD1_AT, frcd_at(req->access, dt));
    bool read = req->access & SIOV_ACCESS_READ, write = req->access & SIOV_ACCESS_WRITE;
    bool prq = req->access & SIOV_ACCESS_PAGE_REQ;
    hi = siov_set(hi, SIOV_FRCD1_T1, !prq && (read || !write));
    hi = siov_set(hi, SIOV_FRCD1_T2, prq || (read && write));
    rec[0] = req->addr & SIOV_FRCD0_FI;
    rec[1] = hi;
}

static unsigned frcd_access(uint64_t hi)
{
    bool t1 = hi & SIOV_FRCD1_T1, t2 = hi & SIOV_FRCD1_T2;
    unsigned a = t1 ? SIOV_ACCESS_READ : t2 ? SIOV_ACCESS_PAGE_REQ : SIOV_ACCESS_WRITE;
    if (t1 && t2)
        a |= SIOV_ACCESS_WRITE; /* AtomicOp */
    if (hi & SIOV_FRCD1_EXE)
        a |= SIOV_ACCESS_EXEC;
    if (hi & SIOV_FRCD1_PRIV)
        a |= SIOV_ACCESS_PRIV;
    switch (siov_get(hi, SIOV_FRCD1_AT)) {
    case SIOV_FRCD_AT_TRANSLATION_REQ: a |= SIOV_ACCESS_ATS_REQ; break;
    case SIOV_FRCD_AT_TRANSLATED: a |= SIOV_ACCESS_TRANSLATED; break;
    default: break;
    }
    return a;
}

static void frcd_decode(const uint64_t rec[2], struct siov_fault_record *out)
{
    uint64_t hi = rec[1];
    out->reason = (siov_fault)siov_get(hi, SIOV_FRCD1_FR);
    out->sid = (siov_sid)siov_get(hi, SIOV_FRCD1_SID);
    out->pasid = (hi & SIOV_FRCD1_PP) ? (uint32_t)siov_get(hi, SIOV_FRCD1_PV) : SIOV_NO_PASID;
    out->addr = rec[0] & SIOV_FRCD0_FI;
    out->access = frcd_access(hi);
}

int siov_iommu_fault_record(struct siov_iommu *iommu, unsigned i, struct siov_fault_record *out)
{
    if (!iommu || !out || i >= iommu->nfr)
        return -EINVAL;
    uint64_t rec[2];
    pthread_mutex_lock(&iommu->lock);
    rec[0] = iommu->frcd[2 * i];
    rec[1] = iommu->frcd[2 * i + 1];
    pthread_mutex_unlock(&iommu->lock);
    frcd_decode(rec, out);
    return (rec[1] & SIOV_FRCD1_F) ? 1 : 0;
}

/* ------------------------------------------------------------ fault event */
/* Status bits that are fault-event conditions (PPF is derived from the records). */
#define FSTS_EVENT_BITS SIOV_FSTS_RW1C

static bool frcd_pending(const struct siov_iommu *iommu, unsigned i)
{
    return iommu->frcd[2 * i + 1] & SIOV_FRCD1_F;
}

/* PPF: some record holds a fault (spec 10.4.9). */
static bool fsts_ppf(const struct siov_iommu *iommu)
{
    for (unsigned i = 0; i < iommu->nfr; i++)
        if (frcd_pending(iommu, i))
            return true;
    return false;
}

/* FRI: the oldest pending record, found from where the next fault goes
   (records are written in ring order); 0 when none is pending. */
static unsigned fsts_fri(const struct siov_iommu *iommu)
{
    for (unsigned k = 0; k < iommu->nfr; k++) {
        unsigned i = (iommu->fault_next + k) % iommu->nfr;
        if (frcd_pending(iommu, i))
            return i;
    }
    return 0;
}

static uint32_t fsts_value(const struct siov_iommu *iommu)
{
    uint64_t v = iommu->fsts & SIOV_FSTS_RW1C;
    if (fsts_ppf(iommu))
        v |= SIOV_FSTS_PPF | siov_set(0, SIOV_FSTS_FRI, fsts_fri(iommu));
    return (uint32_t)v;
}

/* A status set while another was still unserviced is not a new interrupt
   condition (spec 10.4.10, FECTL.IP); fault_cond remembers that one is. */
void siov_fault_event_locked(struct siov_iommu *iommu)
{
    if (iommu->fault_cond)
        return;
    iommu->fault_cond = true;
    if (iommu->fectl & SIOV_ECTL_IM)
        iommu->fectl |= SIOV_ECTL_IP;
    else
        siov_msi_queue(iommu, SIOV_MSI_FAULT);
}

/* Software has serviced every status (all F and RW1C bits clear): the
   condition ends and IP clears (spec 10.4.10). */
static void fault_serviced_check(struct siov_iommu *iommu)
{
    if ((iommu->fsts & FSTS_EVENT_BITS) || fsts_ppf(iommu))
        return;
    iommu->fault_cond = false;
    iommu->fectl &= ~(uint32_t)SIOV_ECTL_IP;
}

/* ---------------------------------------------------------- fault logging */
/* Primary fault logging (spec 7.3.1): write FRCD[fault_next] unless the
   log overflowed (PFO set) or that record is still pending. */
static void fault_record_locked(struct siov_iommu *iommu, const struct siov_req *req, siov_fault f)
{
    uint64_t *rec = &iommu->frcd[2 * iommu->fault_next];
    if ((iommu->fsts & SIOV_FSTS_PFO) || (rec[1] & SIOV_FRCD1_F)) {
        iommu->fsts |= SIOV_FSTS_PFO;
        siov_fault_event_locked(iommu);
        return;
    }
    frcd_encode(req, f, iommu->ecap & SIOV_ECAP_DT, rec);
    iommu->fault_next = (iommu->fault_next + 1) % iommu->nfr;
    siov_stat_inc(&iommu->stats.faults_recorded);
    siov_fault_event_locked(iommu);
}

void siov_fault_report(struct siov_iommu *iommu, const struct siov_req *req, siov_fault f, bool fpd)
{
    if (!fault_recordable(f))
        return;
    siov_stat_inc(&iommu->stats.faults);
    if (fpd && siov_fault_qualified(f))
        return;
    pthread_mutex_lock(&iommu->lock);
    fault_record_locked(iommu, req, f);
    pthread_mutex_unlock(&iommu->lock);
    siov_msi_flush(iommu);
}

/* FI of an interrupt-remapping fault: the interrupt index in bits 63:48. The
   spec leaves FI undefined for the faults that come before any index is
   known (IR.20, 25, 29, 2A, 2B); their index is 0 (interrupt.c decodes it
   last), so libsiov records 0 there (spec 10.4.14; docs/spec-notes.md). */
static uint64_t irq_fault_fi(uint32_t index)
{
    return siov_set(0, SIOV_FRCD0_IRQ_INDEX, index);
}

void siov_fault_report_irq(struct siov_iommu *iommu, siov_sid sid, uint32_t index, siov_fault f, bool fpd)
{
    /* an interrupt request is a write without PASID, untranslated */
    struct siov_req req = {.sid = sid, .pasid = SIOV_NO_PASID, .addr = irq_fault_fi(index),
                           .access = SIOV_ACCESS_WRITE};
    siov_fault_report(iommu, &req, f, fpd);
}

/* --------------------------------------------------------------- registers */
static bool frcd_offset(const struct siov_iommu *iommu, uint64_t off)
{
    return off >= SIOV_REG_FRCD && off < SIOV_REG_FRCD + (uint64_t)SIOV_FRCD_SIZE * iommu->nfr;
}

static bool fault_reg32(uint64_t off)
{
    return off == SIOV_REG_FSTS || off == SIOV_REG_FECTL || off == SIOV_REG_FEDATA ||
           off == SIOV_REG_FEADDR || off == SIOV_REG_FEUADDR;
}

/* 4- or 8-byte naturally aligned reads anywhere in a record (siov_mmio_read
   passes no other access). */
static uint64_t frcd_read(const struct siov_iommu *iommu, uint64_t off, unsigned size)
{
    uint64_t rel = off - SIOV_REG_FRCD;
    unsigned i = (unsigned)(rel / SIOV_FRCD_SIZE), byte = (unsigned)(rel % SIOV_FRCD_SIZE);
    uint64_t q = iommu->frcd[2 * i + byte / 8];
    return size == 8 ? q : (uint32_t)(q >> (8 * (byte % 8)));
}

bool siov_fault_reg_read(struct siov_iommu *iommu, uint64_t off, unsigned size, uint64_t *val)
{
    if (frcd_offset(iommu, off)) {
        *val = frcd_read(iommu, off, size);
        return true;
    }
    if (!fault_reg32(off))
        return false;
    if (size != 4) /* 32-bit registers: 4-byte accesses only */
        *val = 0;
    else if (off == SIOV_REG_FSTS)
        *val = fsts_value(iommu);
    else if (off == SIOV_REG_FECTL)
        *val = iommu->fectl;
    else if (off == SIOV_REG_FEDATA)
        *val = iommu->fedata; /* stored with reserved bits clear */
    else
        *val = off == SIOV_REG_FEADDR ? iommu->feaddr : iommu->feuaddr;
    return true;
}

/* Only F is writable (RW1C): bit 63 of the qword at +8, bit 31 of the dword
   at +12 (siov_mmio_write passes only naturally aligned 4- and 8-byte writes). */
static void frcd_write(struct siov_iommu *iommu, uint64_t off, uint64_t val, unsigned size)
{
    uint64_t rel = off - SIOV_REG_FRCD;
    unsigned i = (unsigned)(rel / SIOV_FRCD_SIZE), byte = (unsigned)(rel % SIOV_FRCD_SIZE);
    if (byte < 8)
        return;
    uint64_t hi = size == 8 ? val : byte == 12 ? val << 32 : 0;
    if (!(hi & SIOV_FRCD1_F))
        return;
    iommu->frcd[2 * i + 1] &= ~SIOV_FRCD1_F;
    fault_serviced_check(iommu);
}

/* IM is read-write, IP read-only; unmasking a pending event sends it. */
static void fectl_write(struct siov_iommu *iommu, uint32_t val)
{
    bool pending = iommu->fectl & SIOV_ECTL_IP;
    iommu->fectl = (iommu->fectl & ~(uint32_t)SIOV_ECTL_IM) | (val & (uint32_t)SIOV_ECTL_IM);
    if (pending && !(val & SIOV_ECTL_IM)) {
        iommu->fectl &= ~(uint32_t)SIOV_ECTL_IP;
        siov_msi_queue(iommu, SIOV_MSI_FAULT);
    }
}

bool siov_fault_reg_write(struct siov_iommu *iommu, uint64_t off, uint64_t val, unsigned size)
{
    if (frcd_offset(iommu, off)) {
        frcd_write(iommu, off, val, size);
        return true;
    }
    if (!fault_reg32(off))
        return false;
    if (size != 4)
        return true; /* 32-bit registers: 4-byte accesses only */
    uint32_t v = (uint32_t)val;
    switch (off) {
    case SIOV_REG_FSTS:
        iommu->fsts &= ~(v & (uint32_t)SIOV_FSTS_RW1C);
        fault_serviced_check(iommu); /* regs.c resumes the queue when IQE was written */
        break;
    case SIOV_REG_FECTL: fectl_write(iommu, v); break;
    case SIOV_REG_FEDATA: iommu->fedata = v & (uint32_t)SIOV_FEDATA_DATA; break;
    case SIOV_REG_FEADDR: iommu->feaddr = v & ~(uint32_t)SIOV_FEADDR_RSVD; break;
    default: iommu->feuaddr = v; break;
    }
    return true;
}

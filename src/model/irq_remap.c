/* The interrupt remapping table entry (spec 9.9 remapped format, 9.10 posted
 * format) and the posted-interrupt descriptor (spec 9.11): the index check,
 * the entry fetched in one read and checked in the spec's order (spec 5.1.4),
 * remapping, and posting with atomic descriptor updates (spec 5.2.3).
 * Facts sheet 12. */
#include <string.h>

#include "internal.h"

siov_fault siov_irte_index_check(const struct siov_iommu *u, uint64_t irstate, uint32_t index)
{
    if (index >= siov_irta_entries(irstate))
        return SIOV_FAULT_IR_21;
    uint64_t last = (irstate & SIOV_IRTA_IRTA) + (uint64_t)index * SIOV_IRTE_SIZE + SIOV_IRTE_SIZE - 1;
    return (last & siov_above(u->cfg.haw)) ? SIOV_FAULT_IR_21 : SIOV_OK;
}

bool siov_irte_sid_ok(const struct siov_irte *e, siov_sid sid)
{
    /* SQ ignores the low function bits: none, bit 2, bits 2:1, bits 2:0 */
    static const uint16_t sq_ignore[4] = {0x0, 0x4, 0x6, 0x7};
    unsigned bus = SIOV_SID_BUS(sid);
    if (e->svt == SIOV_SVT_RID)
        return ((sid ^ e->sid) & ~sq_ignore[e->sq & 3]) == 0;
    if (e->svt == SIOV_SVT_BUS)
        return bus >= (unsigned)(e->sid >> 8) && bus <= (unsigned)(e->sid & 0xFF);
    return true; /* SVT=00 checks nothing; the reserved 11 is no source fault: the format check reports it (IR.24) */
}

/* Reserved fields of a present entry, including the conditional ones:
   SVT=11, IM=1 without CAP.PI, DST bits beyond an xAPIC id, DLM 011/110, a
   descriptor address above HAW (spec 9.9, 9.10; docs/spec-notes.md). */
static bool irte_reserved(const struct siov_iommu *u, uint64_t irstate, const uint64_t q[2])
{
    if (siov_get(q[1], SIOV_IRTE1_SVT) == SIOV_SVT_RESERVED)
        return true;
    if (q[0] & SIOV_IRTE0_IM) {
        if (!(u->cap & SIOV_CAP_PI) || (q[0] & SIOV_IRTE0_POST_RSVD) || (q[1] & SIOV_IRTE1_POST_RSVD))
            return true;
        return (siov_irte_pda(q[0], q[1]) & siov_above(u->cfg.haw)) != 0;
    }
    if ((q[0] & SIOV_IRTE0_REMAP_RSVD) || (q[1] & SIOV_IRTE1_REMAP_RSVD))
        return true;
    if (!(irstate & SIOV_IRTA_EIME) && (q[0] & SIOV_IRTE0_XAPIC_RSVD))
        return true;
    unsigned dlm = (unsigned)siov_get(q[0], SIOV_IRTE0_DLM);
    return dlm == 3 || dlm == 6;
}

static void irte_decode(uint64_t irstate, const uint64_t q[2], struct siov_irte *e)
{
    memset(e, 0, sizeof(*e));
    e->posted = q[0] & SIOV_IRTE0_IM;
    e->fpd = q[0] & SIOV_IRTE0_FPD;
    e->vector = (uint8_t)siov_get(q[0], SIOV_IRTE0_V);
    e->sid = (uint16_t)siov_get(q[1], SIOV_IRTE1_SID);
    e->sq = (uint8_t)siov_get(q[1], SIOV_IRTE1_SQ);
    e->svt = (uint8_t)siov_get(q[1], SIOV_IRTE1_SVT);
    if (e->posted) {
        e->urg = q[0] & SIOV_IRTE0_URG;
        e->pda = siov_irte_pda(q[0], q[1]);
        return;
    }
    e->dm = q[0] & SIOV_IRTE0_DM;
    e->rh = q[0] & SIOV_IRTE0_RH;
    e->tm = q[0] & SIOV_IRTE0_TM;
    e->dlm = (uint8_t)siov_get(q[0], SIOV_IRTE0_DLM);
    bool x2apic = irstate & SIOV_IRTA_EIME;
    e->dst = (uint32_t)siov_get(q[0], x2apic ? SIOV_IRTE0_DST : SIOV_IRTE0_DST_XAPIC);
}

siov_fault siov_irte_lookup(struct siov_iommu *u, uint64_t irstate, uint32_t index, siov_sid sid,
                            struct siov_irte *e, bool *fpd)
{
    uint64_t q[2];
    *fpd = false;
    if (siov_mem_read128(u->mem, (irstate & SIOV_IRTA_IRTA) + (uint64_t)index * SIOV_IRTE_SIZE, q) < 0)
        return SIOV_FAULT_IR_23;
    *fpd = q[0] & SIOV_IRTE0_FPD; /* honoured even when P=0 */
    if (!(q[0] & SIOV_IRTE0_P))
        return SIOV_FAULT_IR_22;
    irte_decode(irstate, q, e);
    /* the spec validates the source before it checks the format (spec 5.1.4) */
    if (!siov_irte_sid_ok(e, sid))
        return SIOV_FAULT_IR_26;
    return irte_reserved(u, irstate, q) ? SIOV_FAULT_IR_24 : SIOV_OK;
}

void siov_irte_remap(const struct siov_irte *e, struct siov_irq *out)
{
    *out = (struct siov_irq){.dest = e->dst, .vector = e->vector, .delivery_mode = e->dlm, .dest_logical = e->dm,
                             .level_trigger = e->tm, .redirection_hint = e->rh};
}

/* ------------------------------------------------------------- posting */
static bool pid_ctl_reserved(uint64_t ctl, bool x2apic)
{
    return (ctl & SIOV_PID4_RSVD) || (!x2apic && (ctl & SIOV_PID4_XAPIC_RSVD));
}

/* OR bit into the descriptor word at gpa (*word: its last value read). */
static siov_fault pid_set_bits(struct siov_mem *mem, uint64_t gpa, uint64_t *word, uint64_t bit)
{
    while (!(*word & bit)) {
        int rc = siov_mem_cmpxchg64(mem, gpa, *word, *word | bit);
        if (rc < 0)
            return SIOV_FAULT_IR_27;
        if (rc == 1) {
            *word |= bit;
            break;
        }
        if (siov_mem_read64(mem, gpa, word) < 0) /* changed under us: read it again */
            return SIOV_FAULT_IR_27;
    }
    return SIOV_OK;
}

/* Set ON when no notification is outstanding and the interrupt is urgent or
   notifications are not suppressed (spec 5.2.3); *notify says whether it did. */
static siov_fault pid_set_on(struct siov_mem *mem, uint64_t gpa, uint64_t *ctl, bool urg, bool x2apic,
                             bool *notify)
{
    for (;;) {
        if (pid_ctl_reserved(*ctl, x2apic))
            return SIOV_FAULT_IR_28;
        *notify = !(*ctl & SIOV_PID4_ON) && (urg || !(*ctl & SIOV_PID4_SN));
        if (!*notify)
            return SIOV_OK;
        int rc = siov_mem_cmpxchg64(mem, gpa, *ctl, *ctl | SIOV_PID4_ON);
        if (rc < 0)
            return SIOV_FAULT_IR_27;
        if (rc == 1)
            return SIOV_OK;
        if (siov_mem_read64(mem, gpa, ctl) < 0)
            return SIOV_FAULT_IR_27;
    }
}

siov_fault siov_irte_post(struct siov_iommu *u, uint64_t irstate, const struct siov_irte *e, struct siov_irq *out)
{
    bool x2apic = irstate & SIOV_IRTA_EIME;
    uint64_t pid[SIOV_PID_SIZE / 8];
    for (unsigned i = 0; i < SIOV_PID_SIZE / 8; i++)
        if (siov_mem_read64(u->mem, e->pda + 8 * i, &pid[i]) < 0)
            return SIOV_FAULT_IR_27;
    if (pid_ctl_reserved(pid[SIOV_PID_CTL_QW], x2apic) || pid[5] || pid[6] || pid[7])
        return SIOV_FAULT_IR_28;
    /* PIR first, then ON: a CPU that clears ON before draining the PIR sees the bit */
    unsigned w = e->vector / 64;
    siov_fault f = pid_set_bits(u->mem, e->pda + 8 * w, &pid[w], 1ull << (e->vector % 64));
    bool notify = false;
    uint64_t *ctl = &pid[SIOV_PID_CTL_QW];
    if (!f)
        f = pid_set_on(u->mem, e->pda + 8 * SIOV_PID_CTL_QW, ctl, e->urg, x2apic, &notify);
    if (f)
        return f;
    *out = (struct siov_irq){.vector = e->vector, .posted = true, .pd_addr = e->pda, .notify = notify,
                             .nv = (uint8_t)siov_get(*ctl, SIOV_PID4_NV),
                             .ndst = (uint32_t)siov_get(*ctl, x2apic ? SIOV_PID4_NDST : SIOV_PID4_NDST_XAPIC)};
    return SIOV_OK;
}

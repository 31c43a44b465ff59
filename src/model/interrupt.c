/* The interrupt pipeline (spec 5.1.4; facts 12.3): siov_interrupt, from the
 * request's format through the interrupt entry cache and the interrupt
 * remapping table to a remapped or posted interrupt, and the
 * stale-translation checker's look at the interrupt entry cache. */
#include <string.h>

#include "internal.h"

/* One interrupt request as the unit sees it. */
struct irq_req {
    siov_sid sid;
    uint64_t addr;
    uint32_t data;
    uint32_t index; /* remappable format: handle (+ subhandle) */
    uint64_t epoch; /* the caches' epoch when it arrived: its fill uses it */
};

/* A compatibility-format request passes through unchanged: the x86 MSI fields. */
static void compat_decode(uint64_t addr, uint32_t data, struct siov_irq *out)
{
    *out = (struct siov_irq){.dest = (uint32_t)siov_get(addr, SIOV_MSI_ADDR_DEST),
                             .vector = (uint8_t)siov_get(data, SIOV_MSI_DATA_VECTOR),
                             .delivery_mode = (unsigned)siov_get(data, SIOV_MSI_DATA_DLM),
                             .dest_logical = addr & SIOV_MSI_ADDR_DM,
                             .level_trigger = data & SIOV_MSI_DATA_TM,
                             .redirection_hint = addr & SIOV_MSI_ADDR_RH};
}

/* The steps before the table, in the spec's order (docs/spec-notes.md):
   remapping off (IR.2B, or unchanged), not a valid MSI (IR.29), xAPIC mode
   under EIMER (IR.2A), compatibility format (IR.25, or unchanged), reserved
   request fields (IR.20). *done: answered without the table. */
static siov_fault request_checks(const struct siov_iommu *u, uint64_t st, struct irq_req *r, struct siov_irq *out,
                                 bool *done)
{
    *done = true;
    if (!(st & SIOV_IRSTATE_IRES)) {
        if (u->ecap & SIOV_ECAP_IRREQ)
            return SIOV_FAULT_IR_2B;
        compat_decode(r->addr, r->data, out);
        return SIOV_OK;
    }
    if (r->addr & 3) /* an MSI is one whole, aligned DWORD */
        return SIOV_FAULT_IR_29;
    if ((u->ecap & SIOV_ECAP_EIMER) && !(st & SIOV_IRTA_EIME))
        return SIOV_FAULT_IR_2A;
    if (!(r->addr & SIOV_MSI_ADDR_REMAP)) {
        if ((st & SIOV_IRTA_EIME) || !(st & SIOV_IRSTATE_CFIS))
            return SIOV_FAULT_IR_25;
        compat_decode(r->addr, r->data, out);
        return SIOV_OK;
    }
    bool shv = r->addr & SIOV_MSI_ADDR_SHV;
    if (shv && (r->data & SIOV_MSI_DATA_RSVD))
        return SIOV_FAULT_IR_20;
    r->index = siov_msi_handle(r->addr) + (shv ? (uint32_t)siov_get(r->data, SIOV_MSI_DATA_SUBHANDLE) : 0);
    *done = false;
    return SIOV_OK;
}

/* ------------------------------------------- the stale-translation checker */
static bool same_irte(const struct siov_irte *a, const struct siov_irte *b)
{
    return a->pda == b->pda && a->dst == b->dst && a->sid == b->sid && a->sq == b->sq && a->svt == b->svt &&
           a->vector == b->vector && a->dlm == b->dlm && a->posted == b->posted && a->fpd == b->fpd &&
           a->dm == b->dm && a->rh == b->rh && a->tm == b->tm && a->urg == b->urg;
}

/* The interrupt an entry-level outcome stands for, without posting. */
static void outcome_irq(const struct siov_irte *e, siov_fault f, struct siov_irq *out)
{
    memset(out, 0, sizeof(*out));
    if (f)
        return;
    if (e->posted)
        *out = (struct siov_irq){.vector = e->vector, .posted = true, .pd_addr = e->pda};
    else
        siov_irte_remap(e, out);
}

/* cfg.stale_check: compare what the cached entry e gave (f) with the entry
   the table holds now. */
static void stale_check(struct siov_iommu *u, uint64_t st, const struct irq_req *r, siov_fault f,
                        const struct siov_irte *e)
{
    struct siov_irte fe;
    bool fpd;
    siov_fault ff = siov_irte_lookup(u, st, r->index, r->sid, &fe, &fpd);
    if (ff == f && (f || same_irte(e, &fe)))
        return;
    siov_stat_inc(&u->stats.stale_hits);
    if (!u->cfg.stale_report)
        return;
    struct siov_stale_report rep = {.sid = r->sid, .pasid = SIOV_NO_PASID, .iova = r->addr,
                                    .access = SIOV_ACCESS_WRITE, .caches = SIOV_CACHE_IEC, .cached_fault = f,
                                    .fresh_fault = ff, .interrupt = true, .data = r->data};
    outcome_irq(e, f, &rep.cached_irq);
    outcome_irq(&fe, ff, &rep.fresh_irq);
    u->cfg.stale_report(u->cfg.stale_opaque, &rep);
}

/* ------------------------------------------------------------ the table */
/* A remappable-format request: the entry from the interrupt entry cache or
   the table, source validation, then remapping or posting. */
static siov_fault remap_request(struct siov_iommu *u, uint64_t st, const struct irq_req *r, struct siov_irq *out,
                                bool *fpd)
{
    siov_fault f = siov_irte_index_check(u, st, r->index);
    if (f)
        return f;
    struct siov_irte e;
    bool hit = siov_iec_lookup(u->caches, r->index, &e);
    if (hit) {
        siov_stat_inc(&u->stats.iec_hits);
        *fpd = e.fpd;
        f = siov_irte_sid_ok(&e, r->sid) ? SIOV_OK : SIOV_FAULT_IR_26;
        if (u->cfg.stale_check)
            stale_check(u, st, r, f, &e);
    } else {
        siov_stat_inc(&u->stats.iec_misses);
        f = siov_irte_lookup(u, st, r->index, r->sid, &e, fpd);
        if (!f) /* an entry that faulted is not cached */
            siov_iec_fill_epoch(u->caches, r->epoch, r->index, &e);
    }
    if (f)
        return f;
    if (e.posted) {
        f = siov_irte_post(u, st, &e, out);
        if (!f)
            siov_stat_inc(&u->stats.irq_posted);
        return f;
    }
    siov_irte_remap(&e, out);
    siov_stat_inc(&u->stats.irq_remapped);
    return SIOV_OK;
}

siov_fault siov_interrupt(struct siov_iommu *iommu, siov_sid sid, uint64_t addr, uint32_t data,
                          struct siov_irq *out)
{
    if (!iommu || !out || addr < SIOV_INTR_BASE || addr > SIOV_INTR_LIMIT)
        return SIOV_ERR_BUS; /* not an interrupt request: nothing recorded */
    siov_stat_inc(&iommu->stats.interrupts);
    struct irq_req r = {sid, addr, data, 0, siov_caches_epoch(iommu->caches)};
    uint64_t st = __atomic_load_n(&iommu->irstate, __ATOMIC_ACQUIRE);
    bool done, fpd = false;
    siov_fault f = request_checks(iommu, st, &r, out, &done);
    if (!done)
        f = remap_request(iommu, st, &r, out, &fpd);
    else if (!f)
        siov_stat_inc(&iommu->stats.irq_compat);
    if (f) {
        siov_stat_inc(&iommu->stats.irq_blocked);
        siov_fault_report_irq(iommu, sid, r.index, f, fpd);
    }
    return f;
}

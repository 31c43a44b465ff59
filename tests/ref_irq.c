/* The reference reading of interrupt remapping (ref_walk.h): one request at a
 * time, from the register snapshot and guest memory, no cache. Bit positions
 * are written here from the spec's tables (5.1.2 request formats, 9.9
 * remapped entry, 9.10 posted entry, 9.11 descriptor, 10.4 registers) rather
 * than taken from format.h, so a wrong mask there shows up as a mismatch. */
#include <string.h>

#include "ref_walk.h"

#define B(n) (1ull << (n))
#define FIELD(v, hi, lo) (((v) >> (lo)) & (~0ull >> (63 - (hi) + (lo))))

/* Qualified interrupt faults: the entry's FPD suppresses their record (spec Table 15). */
static bool qualified(siov_fault f)
{
    return f == 0x22 || f == 0x24 || f == 0x26 || f == 0x27 || f == 0x28;
}

/* Faults recorded with the interrupt index in FI[63:48] (the rest: FI undefined, 0). */
static bool has_index(siov_fault f)
{
    return f != 0x20 && f != 0x25 && f != 0x29 && f != 0x2A && f != 0x2B;
}

static bool read_qw(const struct ref_unit *u, uint64_t gpa, uint64_t *qw, unsigned n)
{
    uint8_t b[64];
    if (siov_mem_read(u->mem, gpa, b, n * 8) != 0)
        return false;
    for (unsigned i = 0; i < n; i++) {
        qw[i] = 0;
        for (unsigned j = 0; j < 8; j++)
            qw[i] |= (uint64_t)b[8 * i + j] << (8 * j);
    }
    return true;
}

/* Compatibility format: address 19:12 destination, 3 RH, 2 DM; data 7:0
   vector, 10:8 delivery mode, 15 trigger mode. */
static siov_fault compat(uint64_t addr, uint32_t data, struct siov_irq *o)
{
    memset(o, 0, sizeof *o);
    o->dest = (uint32_t)FIELD(addr, 19, 12);
    o->redirection_hint = addr & B(3);
    o->dest_logical = addr & B(2);
    o->vector = (uint8_t)(data & 0xFF);
    o->delivery_mode = (data >> 8) & 7;
    o->level_trigger = data & B(15);
    return SIOV_OK;
}

/* Source validation of a present entry (SVT 19:18, SQ 17:16, SID 15:0 of qw1). */
static bool source_ok(uint64_t hi, siov_sid sid)
{
    unsigned svt = (unsigned)FIELD(hi, 19, 18), sq = (unsigned)FIELD(hi, 17, 16);
    unsigned want = (unsigned)(hi & 0xFFFF);
    if (svt == 1) {
        unsigned ignore = sq == 0 ? 0 : sq == 1 ? 4 : sq == 2 ? 6 : 7;
        return ((sid & ~ignore) & 0xFFFF) == (want & ~ignore);
    }
    if (svt == 2)
        return (sid >> 8) >= (want >> 8) && (sid >> 8) <= (want & 0xFF);
    return true; /* 00: none; 11: reserved, found by the format check */
}

/* Reserved or invalid fields of a present entry (spec 9.9, 9.10). */
static bool entry_invalid(const struct ref_unit *u, uint64_t lo, uint64_t hi, bool x2apic)
{
    uint64_t haw_mask = u->cfg.haw >= 64 ? 0 : ~0ull << u->cfg.haw;
    if (FIELD(hi, 19, 18) == 3)
        return true;
    if (lo & B(15)) { /* posted */
        uint64_t pda = (lo >> 38) << 6 | (hi >> 32) << 32;
        return !(u->cap & B(59)) || FIELD(lo, 7, 2) || FIELD(lo, 13, 12) || FIELD(lo, 37, 24) ||
               FIELD(hi, 31, 20) || (pda & haw_mask);
    }
    unsigned dlm = (unsigned)FIELD(lo, 7, 5);
    if (FIELD(lo, 14, 12) || FIELD(lo, 31, 24) || FIELD(hi, 63, 20) || dlm == 3 || dlm == 6)
        return true;
    return !x2apic && (FIELD(lo, 39, 32) || FIELD(lo, 63, 48));
}

/* What posting does to the descriptor now (spec 5.2.3), without doing it. */
static siov_fault post(const struct ref_unit *u, uint64_t lo, uint64_t hi, bool x2apic, struct ref_irq_result *r)
{
    uint64_t pid[8];
    r->pid_gpa = (lo >> 38) << 6 | (hi >> 32) << 32;
    r->pid_read = true;
    if (!read_qw(u, r->pid_gpa, pid, 8))
        return 0x27;
    uint64_t ctl = pid[4];
    if (FIELD(ctl, 15, 2) || FIELD(ctl, 31, 24) || pid[5] || pid[6] || pid[7] ||
        (!x2apic && (FIELD(ctl, 39, 32) || FIELD(ctl, 63, 48))))
        return 0x28;
    bool urgent = lo & B(14);
    memset(&r->irq, 0, sizeof r->irq);
    r->irq.posted = true;
    r->irq.pd_addr = r->pid_gpa;
    r->irq.vector = (uint8_t)FIELD(lo, 23, 16);
    r->irq.notify = !(ctl & B(0)) && (urgent || !(ctl & B(1)));
    r->irq.nv = (uint8_t)FIELD(ctl, 23, 16);
    r->irq.ndst = (uint32_t)(x2apic ? FIELD(ctl, 63, 32) : FIELD(ctl, 47, 40));
    return SIOV_OK;
}

/* The entry of the request's index, checked in the spec's order, then used. */
static siov_fault table(const struct ref_unit *u, siov_sid sid, struct ref_irq_result *r)
{
    bool x2apic = u->irta & B(11);
    uint64_t base = u->irta & ~0xFFFull, n = 2ull << (u->irta & 0xF), lo, hi, qw[2];
    uint64_t gpa = base + (uint64_t)r->index * 16;
    if (r->index >= n || (u->cfg.haw < 64 && ((gpa + 15) >> u->cfg.haw)))
        return 0x21;
    r->irte_gpa = gpa;
    r->irte_read = true;
    if (!read_qw(u, gpa, qw, 2))
        return 0x23;
    lo = qw[0], hi = qw[1];
    r->fpd = lo & B(1);
    if (!(lo & B(0)))
        return 0x22;
    if (!source_ok(hi, sid))
        return 0x26;
    if (entry_invalid(u, lo, hi, x2apic))
        return 0x24;
    if (lo & B(15))
        return post(u, lo, hi, x2apic, r);
    memset(&r->irq, 0, sizeof r->irq);
    r->irq.vector = (uint8_t)FIELD(lo, 23, 16);
    r->irq.dest = (uint32_t)(x2apic ? FIELD(lo, 63, 32) : FIELD(lo, 47, 40));
    r->irq.delivery_mode = (unsigned)FIELD(lo, 7, 5);
    r->irq.dest_logical = lo & B(2);
    r->irq.redirection_hint = lo & B(3);
    r->irq.level_trigger = lo & B(4);
    return SIOV_OK;
}

/* The request up to its index: IRES (25), IRREQ (ECAP 62), a whole DWORD,
   EIMER (ECAP 61), the format bit, CFIS (23), SHV and the subhandle. */
static siov_fault request(const struct ref_unit *u, siov_sid sid, uint64_t addr, uint32_t data,
                          struct ref_irq_result *r)
{
    bool x2apic = u->irta & B(11);
    if (!(u->gsts & B(25)))
        return (u->ecap & B(62)) ? 0x2B : compat(addr, data, &r->irq);
    if (addr & 3)
        return 0x29;
    if ((u->ecap & B(61)) && !x2apic)
        return 0x2A;
    if (!(addr & B(4)))
        return (x2apic || !(u->gsts & B(23))) ? 0x25 : compat(addr, data, &r->irq);
    bool shv = addr & B(3);
    if (shv && (data >> 16))
        return 0x20;
    r->index = (uint32_t)(FIELD(addr, 19, 5) | FIELD(addr, 2, 2) << 15) + (shv ? (data & 0xFFFF) : 0);
    return table(u, sid, r);
}

siov_fault ref_interrupt(const struct ref_unit *u, siov_sid sid, uint64_t addr, uint32_t data,
                         struct ref_irq_result *r)
{
    memset(r, 0, sizeof *r);
    if (addr < 0xFEE00000ull || addr > 0xFEEFFFFFull)
        return r->fault = SIOV_ERR_BUS;
    r->fault = request(u, sid, addr, data, r);
    if (r->fault) {
        memset(&r->irq, 0, sizeof r->irq);
        r->recorded = !(r->fpd && qualified(r->fault));
        r->fi = has_index(r->fault) ? (uint64_t)(r->index & 0xFFFF) << 48 : 0;
    }
    return r->fault;
}

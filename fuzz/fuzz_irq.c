/* Fuzz harness: interrupt remapping.
 *
 * Input: a configuration byte (x2APIC, posted interrupts, EIMER, IRREQ,
 * ESIRTPS, the stale checker, HAW), an IRTA byte (table page, S, EIME),
 * then up to MAX_OPS operations, each an opcode byte and its operands:
 *   ENTRY     a raw 128-bit entry at an index (invalidated, or left stale)
 *   BUILD     a well-formed remapped or posted entry from a few bytes, then
 *             perhaps one bit flipped
 *   REQ       a message: remappable (handle, SHV, subhandle), compatibility
 *             format, misaligned or anywhere in the range; checked cold
 *             (after a global invalidation) and again warm, each against
 *             ref_interrupt under the FZ_IRQ memory checks
 *   RAW       a message sent unchecked, on whatever the caches hold
 *   PID       a qword of a posted-interrupt descriptor
 *   GCMD      IRE, CFI, or SIRTP with a new IRTA
 *   IEC       an interrupt-entry-cache invalidation through the queue, any
 *             granularity and index mask (IM above MHMV stops the queue)
 *   FLIP      one bit anywhere in the table pages
 * Tables live in the first FZ_TABLE_PAGES pages; descriptors anywhere.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"

#define MAX_OPS 256

struct run {
    struct fz_unit *u;
    struct fz_in *in;
    uint64_t irta;
};

/* The register snapshot the oracle reads (after every register change). */
static void resnap(struct run *r)
{
    ref_unit_init(&r->u->ref, r->u->m->ref_mem, r->u->iommu);
}

static uint64_t irta_from(uint8_t b)
{
    uint64_t page = (b >> 5) % FZ_TABLE_PAGES;
    return page << SIOV_PAGE_SHIFT | (b & 0xF) | ((b & 0x10) ? SIOV_IRTA_EIME : 0);
}

static uint64_t entry_gpa(struct run *r, uint16_t index)
{
    return (r->irta & SIOV_IRTA_IRTA) + (uint64_t)index % 512 * SIOV_IRTE_SIZE;
}

/* The harness's queue empty, at 0, and running (after an IQE too). */
static void queue_reset(struct fz_unit *u)
{
    fz_unit_gcmd(u, 0, SIOV_GCMD_QIE);
    siov_mmio_write(u->iommu, SIOV_REG_IQT, 0, 8);
    siov_mmio_write(u->iommu, SIOV_REG_FSTS, SIOV_FSTS_IQE, 4);
    fz_unit_gcmd(u, SIOV_GCMD_QIE, 0);
}

/* An index-selective or global IEC invalidation through the harness's queue
   (its page is the last but one); IM above MHMV stops the queue (IQE). */
static void iec(struct run *r, uint8_t how, uint16_t index)
{
    struct fz_unit *u = r->u;
    uint64_t d = siov_dsc_make_type(SIOV_DSC_IEC);
    if (how & 1)
        d |= SIOV_IEC0_G | siov_set(0, SIOV_IEC0_IM, (how >> 1) % 20) | siov_set(0, SIOV_IEC0_IIDX, index);
    queue_reset(u);
    unsigned w = u->wide ? 32 : 16;
    for (unsigned i = 0; i < w / 8; i++)
        fz_w64(u->m, FZ_QPAGE + 8 * i, i == 0 ? d : 0);
    siov_mmio_write(u->iommu, SIOV_REG_IQT, w, 8);
    queue_reset(u);
}

static void entry(struct run *r)
{
    uint16_t index = fz_u16(r->in);
    uint64_t lo = fz_u64(r->in), hi = fz_u64(r->in);
    uint8_t inv = fz_u8(r->in);
    fz_w64(r->u->m, entry_gpa(r, index), lo);
    fz_w64(r->u->m, entry_gpa(r, index) + 8, hi);
    if (inv & 0x80)
        iec(r, inv, index % 512);
}

/* A well-formed entry: remapped or posted, with source validation of a
   chosen requester; sometimes one bit flipped. */
static void build(struct run *r)
{
    uint8_t k = fz_u8(r->in), vec = fz_u8(r->in);
    uint16_t index = fz_u16(r->in);
    siov_sid sid = fz_pick_sid(r->in);
    uint32_t dest = fz_u32(r->in);
    uint64_t lo = SIOV_IRTE0_P | siov_set(0, SIOV_IRTE0_V, vec) | ((k & 0x40) ? SIOV_IRTE0_FPD : 0);
    uint64_t hi = siov_set(siov_set(0, SIOV_IRTE1_SID, sid), SIOV_IRTE1_SVT, (k >> 2) & 3) |
                  siov_set(0, SIOV_IRTE1_SQ, (k >> 4) & 3);
    if (k & 1) { /* posted: a descriptor at any 64-byte slot of memory (or just past it) */
        uint64_t pda = (uint64_t)(dest % (FZ_PAGES * 64 + 8)) * 64;
        lo = siov_irte0_set_pda(lo | SIOV_IRTE0_IM | ((k & 2) ? SIOV_IRTE0_URG : 0), pda);
        hi = siov_irte1_set_pda(hi, pda);
    } else {
        bool x2 = r->irta & SIOV_IRTA_EIME;
        lo |= x2 ? siov_set(0, SIOV_IRTE0_DST, dest) : siov_set(0, SIOV_IRTE0_DST_XAPIC, dest);
        lo |= siov_set(0, SIOV_IRTE0_DLM, (dest >> 8) & 7) | (dest >> 20 & 0xE ? SIOV_IRTE0_DM : 0);
    }
    if (k & 0x80) {
        uint8_t b = fz_u8(r->in);
        *(b & 64 ? &hi : &lo) ^= 1ull << (b & 63);
    }
    fz_w64(r->u->m, entry_gpa(r, index), lo);
    fz_w64(r->u->m, entry_gpa(r, index) + 8, hi);
    iec(r, 0, 0); /* global: the next requests see it */
}

/* A message from input bytes. */
static void message(struct run *r, siov_sid *sid, uint64_t *addr, uint32_t *data)
{
    uint8_t k = fz_u8(r->in);
    uint16_t handle = fz_u16(r->in);
    *sid = fz_pick_sid(r->in);
    *data = (k & 0x40) ? fz_u32(r->in) : fz_u16(r->in);
    switch (k & 3) {
    case 0: *addr = siov_msi_remap_addr(handle % 520, (k & 4) != 0); break;
    case 1: *addr = siov_msi_remap_addr(handle, (k & 4) != 0); break;
    case 2: *addr = SIOV_INTR_BASE | (uint64_t)handle << 4 | (k >> 3 & 0xF); break; /* any format */
    default: *addr = SIOV_INTR_BASE - 0x10 + (uint64_t)handle * 0x40; break;        /* around the range */
    }
}

static void request(struct run *r, bool checked)
{
    siov_sid sid;
    uint64_t addr;
    uint32_t data;
    message(r, &sid, &addr, &data);
    if (!checked) {
        struct siov_irq out;
        siov_interrupt(r->u->iommu, sid, addr, data, &out);
        return;
    }
    if (!fz_check_irq(r->u, sid, addr, data, true))
        fz_check_irq(r->u, sid, addr, data, false);
}

static void regs(struct run *r)
{
    uint8_t v = fz_u8(r->in);
    switch (v & 3) {
    case 0: fz_unit_gcmd(r->u, (v & 4) ? SIOV_GCMD_IRE : 0, (v & 4) ? 0 : SIOV_GCMD_IRE); break;
    case 1: fz_unit_gcmd(r->u, (v & 4) ? SIOV_GCMD_CFI : 0, (v & 4) ? 0 : SIOV_GCMD_CFI); break;
    default:
        r->irta = irta_from(fz_u8(r->in));
        siov_mmio_write(r->u->iommu, SIOV_REG_IRTA, r->irta, 8);
        siov_mmio_write(r->u->iommu, SIOV_REG_GCMD, r->u->gcmd | SIOV_GCMD_SIRTP, 4);
        r->irta = siov_mmio_read(r->u->iommu, SIOV_REG_IRTA, 8); /* EIME may be RsvdZ */
        break;
    }
    resnap(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned haw[4] = {48, 39, 36, 52};
    struct fz_in in = {data, size};
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    uint8_t c = fz_u8(&in);
    cfg.x2apic = !(c & 1), cfg.posted_interrupts = !(c & 2), cfg.x2apic_only = (c & 4) && !(c & 1);
    cfg.irq_remap_required = c & 8, cfg.esirtps = c & 16, cfg.stale_check = c & 32, cfg.haw = haw[c >> 6];
    cfg.fault_records = 4;
    struct fz_mem *m = fz_mem_new();
    struct fz_unit *u = fz_unit_new(m, &cfg, 0, SIOV_TTM_SCALABLE, false);
    if (!u)
        abort(); /* every configuration above is valid */
    struct run r = {u, &in, irta_from(fz_u8(&in))};
    siov_mmio_write(u->iommu, SIOV_REG_IRTA, r.irta, 8);
    siov_mmio_write(u->iommu, SIOV_REG_GCMD, u->gcmd | SIOV_GCMD_SIRTP, 4);
    fz_unit_gcmd(u, SIOV_GCMD_IRE, 0);
    r.irta = siov_mmio_read(u->iommu, SIOV_REG_IRTA, 8);
    resnap(&r);
    for (unsigned n = 0; in.n && n < MAX_OPS; n++) {
        uint8_t op = fz_u8(&in);
        if (getenv("FZ_TRACE"))
            fprintf(stderr, "op %u (%u), %zu bytes left\n", op, op & 7, in.n);
        switch (op & 7) {
        case 0: entry(&r); break;
        case 1: build(&r); break;
        case 2: request(&r, true); break;
        case 3: request(&r, (op & 8) != 0); break;
        case 4: { /* a descriptor word: 64-byte slot, qword, value */
            uint64_t slot = fz_u16(&in) % (FZ_PAGES * 64), q = fz_u8(&in) & 7;
            fz_w64(m, slot * 64 + 8 * q, fz_u64(&in));
            break;
        }
        case 5: regs(&r); break;
        case 6: iec(&r, fz_u8(&in), fz_u16(&in)); break;
        default: {
            uint32_t bit = fz_u32(&in) % (FZ_TABLE_PAGES * 4096 * 8);
            fz_w64(m, bit / 64 * 8, fz_r64(m, bit / 64 * 8) ^ 1ull << (bit % 64));
            break;
        }
        }
    }
    fz_unit_free(u);
    fz_mem_free(m);
    return 0;
}

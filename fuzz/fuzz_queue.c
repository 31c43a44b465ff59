/* Fuzz harness: the invalidation queue.
 *
 * Input: 5 configuration bytes (fz_config), a root-table page, the number of
 * translation paths to build (fz_template), then operations:
 *   DESC      write a descriptor (biased towards each valid type, with
 *             optional reserved bits, bad granularities, misaligned ranges)
 *             at the software tail, or over the descriptor at the head
 *   SUBMIT    IQT = the software tail;  IQT_RAW  any IQT value
 *   IQA       any IQA value (base page, QS, DW, reserved bits)
 *   QIE       enable or disable the queue;  CLEAR  FSTS.IQE and ICS.IWC
 *   INV       global context-cache, PASID-cache and IOTLB invalidation plus
 *             a wait, through the queue as it stands
 *   REQ/TEMPLATE  translations, and more tables
 * A shadow of the queue logic, written from the facts sheet (sections 9, 13.5
 * and 15.2: widths and types by TTM), runs
 * on a copy of guest memory at every point the unit processes the queue
 * (IQT write, QIE enable, IQE clear): IQE must be set exactly when it finds a bad tail
 * or a malformed descriptor, IQH must equal its head (always inside the
 * queue), ICS.IWC must follow IF, and guest memory must equal the copy
 * afterwards, i.e. status writes land exactly where wait descriptors say.
 * After an INV whose wait completed, translations must equal the reference
 * walk until memory changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#define MAX_OPS 256
#define INV_STATUS (FZ_QSTATUS + 0x800)
#define MAX_TAGS 32

struct qsim {
    uint64_t iqa, iqt, head;
    bool qie, iqe, iwc;
};

struct run {
    struct fz_unit *u;
    struct fz_in *in;
    struct fz_builder b;
    struct qsim q;
    uint64_t soft_tail;
    uint8_t *shadow;
    uint64_t mamv;
    bool smts, adms, dt, clean;
    uint32_t seq;
    struct fz_answer tags[MAX_TAGS]; /* requests compared since the last invalidation */
    unsigned ntags;
};

/* ------------------------------------------------ the queue, from the facts */
/* Scalable or abort-DMA mode latched (spec Table 26: the scalable types, 256-bit only). */
static bool sm_mode(const struct run *r)
{
    return r->u->ttm == SIOV_TTM_SCALABLE || r->u->ttm == SIOV_TTM_ABORT;
}

/* The descriptor width, 0 when invalid (facts 1.8, 15.2): DW=1 needs SMTS or
   ADMS; DW=0 is invalid in scalable and abort-DMA mode. */
static unsigned q_width(const struct run *r)
{
    if (r->q.iqa & (1ull << 11))
        return (r->smts || r->adms) ? 32 : 0;
    return sm_mode(r) ? 0 : 16;
}

/* Where descriptors lie in memory, valid width or not. */
static unsigned q_slot(const struct run *r)
{
    return (r->q.iqa & (1ull << 11)) ? 32 : 16;
}

static uint64_t q_size(const struct run *r)
{
    return 4096ull << (r->q.iqa & 7); /* 2^QS pages */
}

static bool shadow_r64(const struct run *r, uint64_t gpa, uint64_t *v)
{
    if (gpa > FZ_MEM_SIZE - 8)
        return false;
    memcpy(v, r->shadow + gpa, 8);
    return true;
}

/* A page-selective range: AM within CAP.MAMV, ADDR aligned to 2^(AM+12) (facts 9.2). */
static bool psi_ok(const struct run *r, uint64_t qw1)
{
    unsigned am = qw1 & 0x3F;
    uint64_t addr = qw1 & ~0xFFFull;
    return am <= r->mamv && (addr & ((1ull << (am + 12)) - 1)) == 0;
}

/* Whether the spec calls descriptor q well formed in a queue of width bytes
   (facts 9.1-9.2, 13.5, 15.2; reserved masks derived from the tables there). */
static bool dsc_valid(const struct run *r, const uint64_t q[4], unsigned width)
{
    unsigned type = (unsigned)(((q[0] >> 9) & 7) << 4 | (q[0] & 0xF));
    unsigned g = (q[0] >> 4) & 3;
    if (type < 1 || type > 8) /* 9: page-group response, page requests are not supported */
        return false;
    if ((type == 3 || type == 8) && !r->dt)
        return false; /* device-TLB invalidations need ECAP.DT */
    if (r->u->ttm == SIOV_TTM_RESERVED || (type >= 6 && !sm_mode(r)))
        return false; /* legacy mode takes types 1-5 */
    if (width == 32 && (q[2] || q[3]))
        return false;
    switch (type) {
    case 1: return !(q[0] & 0xFFFC00000000F1C0ull) && !q[1] && g != 0;
    case 2: return !(q[0] & 0xFFFFFFFF0000F100ull) && !(q[1] & 0xF80) && g != 0 && (g != 3 || psi_ok(r, q[1]));
    case 3: return !(q[0] & 0x000F0000FFE001F0ull) && !(q[1] & 0xFFE);
    case 4: return !(q[0] & 0xFFFF000007FFF1E0ull) && !q[1];
    case 5: return !(q[0] & 0xFFFFF180ull) && !(q[1] & 3); /* PD (bit 7) needs ECAP.PDS, not reported */
    case 6: return !(q[0] & 0xFFF000000000F1C0ull) && !(q[1] & 0xF80) && g >= 2 && (g != 3 || psi_ok(r, q[1]));
    case 7: return !(q[0] & 0xFFF000000000F1C0ull) && !q[1] && g != 2;
    default: return !(q[1] & 0x7FE);
    }
}

/* Process the queue as the facts sheet says, on the shadow memory. */
static void sim_process(struct run *r)
{
    struct qsim *q = &r->q;
    if (!q->qie || q->iqe)
        return;
    unsigned width = q_width(r);
    uint64_t size = q_size(r), tail = q->iqt;
    if (!width || tail % width || tail >= size) {
        q->iqe = true;
        return;
    }
    while (q->head != tail) {
        uint64_t d[4] = {0}, base = (q->iqa & ~0xFFFull) + q->head;
        bool fetched = true;
        for (unsigned i = 0; i < width / 8; i++)
            fetched &= shadow_r64(r, base + 8 * i, &d[i]);
        if (!fetched || !dsc_valid(r, d, width)) {
            q->iqe = true;
            return;
        }
        if ((d[0] & 0xF) == 5 && (d[0] & (1u << 5))) { /* wait with SW: 32-bit status write */
            uint64_t at = d[1] & ~3ull;
            uint32_t data = (uint32_t)(d[0] >> 32);
            if (at <= FZ_MEM_SIZE - 4)
                memcpy(r->shadow + at, &data, 4);
        }
        if ((d[0] & 0xF) == 5 && (d[0] & (1u << 4)))
            q->iwc = true;
        q->head = (q->head + width) % size;
    }
}

/* Compare the unit with the shadow after a point where it processes the queue. */
static void compare_queue(struct run *r, const char *what)
{
    struct siov_iommu *io = r->u->iommu;
    uint64_t iqh = siov_mmio_read(io, SIOV_REG_IQH, 8);
    bool iqe = (siov_mmio_read(io, SIOV_REG_FSTS, 4) & SIOV_FSTS_IQE) != 0;
    bool iwc = (siov_mmio_read(io, SIOV_REG_ICS, 4) & SIOV_ICS_IWC) != 0;
    if (iqh >= q_size(r) || iqh % q_slot(r))
        fz_die("%s: IQH 0x%llx outside a queue of 0x%llx bytes (width %u)", what, (unsigned long long)iqh,
               (unsigned long long)q_size(r), q_slot(r));
    if (iqh != r->q.head || iqe != r->q.iqe || iwc != r->q.iwc)
        fz_die("%s: IQH 0x%llx IQE %d IWC %d, the facts say IQH 0x%llx IQE %d IWC %d (IQA 0x%llx IQT 0x%llx IQERCD 0x%llx)",
               what, (unsigned long long)iqh, iqe, iwc, (unsigned long long)r->q.head, r->q.iqe, r->q.iwc,
               (unsigned long long)r->q.iqa, (unsigned long long)r->q.iqt,
               (unsigned long long)siov_mmio_read(io, SIOV_REG_IQERCD, 8));
    if (!memcmp(r->u->m->buf, r->shadow, FZ_MEM_SIZE))
        return;
    for (uint64_t i = 0; i < FZ_MEM_SIZE; i++)
        if (r->u->m->buf[i] != r->shadow[i])
            fz_die("%s: guest memory byte 0x%llx is 0x%02x, the facts say 0x%02x (a status write out of place)", what,
                   (unsigned long long)i, r->u->m->buf[i], r->shadow[i]);
}

/* Around a register write that may process the queue: shadow, write, compare. */
static void begin(struct run *r)
{
    memcpy(r->shadow, r->u->m->buf, FZ_MEM_SIZE);
}

static void end(struct run *r, const char *what)
{
    uint64_t w0 = r->u->m->writes;
    sim_process(r);
    compare_queue(r, what);
    if (r->u->m->writes != w0)
        r->clean = false; /* status writes changed memory */
}

static void write_iqt(struct run *r, uint64_t v)
{
    begin(r);
    siov_mmio_write(r->u->iommu, SIOV_REG_IQT, v, 8);
    r->q.iqt = v & SIOV_BITS(18, 4);
    end(r, "IQT write");
}

static void set_qie(struct run *r, bool on)
{
    begin(r);
    if (on)
        fz_unit_gcmd(r->u, SIOV_GCMD_QIE, 0);
    else
        fz_unit_gcmd(r->u, 0, SIOV_GCMD_QIE);
    if (on && !r->q.qie) {
        r->q.qie = true;
        end(r, "QIE enable");
        return;
    }
    if (!on && r->q.qie)
        r->q.head = 0; /* disabling the queue resets IQH */
    r->q.qie = on;
    compare_queue(r, "QIE disable");
}

/* ----------------------------------------------------------- descriptors */
static uint64_t q_base(const struct run *r)
{
    return r->q.iqa & ~0xFFFull;
}

/* A descriptor from input bytes: mostly well formed, of every type. */
static void make_dsc(struct run *r, uint64_t d[4])
{
    static const unsigned types[16] = {1, 2, 3, 4, 5, 6, 7, 8, 5, 2, 6, 7, 1, 9, 0, 0x7F};
    struct fz_in *in = r->in;
    uint8_t sel = fz_u8(in), flags = fz_u8(in);
    unsigned type = types[sel & 15];
    if (type == 0x7F)
        type = fz_u8(in) & 0x7F;
    uint64_t g = (sel >> 4) & 3, did = fz_u16(in);
    memset(d, 0, 4 * sizeof(uint64_t));
    d[0] = siov_dsc_make_type(type) | g << 4 | did << 16;
    switch (type) {
    case 1: d[0] |= (uint64_t)fz_u16(in) << 32 | (uint64_t)(flags & 3) << 48; break;
    case 2:
    case 6: {
        unsigned am = fz_u8(in) % 24;
        d[1] = ((uint64_t)fz_u32(in) << 12 & ~((1ull << (am + 12)) - 1)) | am | (flags & 4 ? 1u << 6 : 0);
        if (type == 6)
            d[0] = (d[0] & ~SIOV_BITS(63, 32)) | (uint64_t)(fz_u32(in) & 0xFFFFF) << 32;
        if (flags & 8) /* an unaligned range */
            d[1] |= 1ull << 12;
        break;
    }
    case 3:
    case 8: d[0] |= (uint64_t)fz_u16(in) << 32; d[1] = (uint64_t)fz_u32(in) << 12 | (flags & 1); break;
    case 4: d[0] = siov_dsc_make_type(4) | (g & 1) << 4 | (uint64_t)fz_u16(in) << 32; break;
    case 5: {
        uint8_t where = fz_u8(in);
        uint64_t at = (where & 0x80) ? (q_base(r) + (uint64_t)(where & 0x7F) * 4) : INV_STATUS - 0x400 + (uint64_t)where * 4;
        if ((where & 0xC0) == 0xC0)
            at = fz_u64(in);
        d[0] = siov_dsc_make_type(5) | (uint64_t)(flags & 0x70) | (uint64_t)fz_u32(in) << 32;
        d[1] = at & ~3ull;
        break;
    }
    case 7: d[0] |= (uint64_t)(fz_u32(in) & 0xFFFFF) << 32; break;
    default: d[1] = fz_u64(in); break;
    }
    if (flags & 0x80) /* one stray bit anywhere */
        d[fz_u8(in) & 3] ^= 1ull << (fz_u8(in) & 63);
}

/* Write descriptor d where software would: at the software tail, or over the head. */
static void put_dsc(struct run *r, const uint64_t d[4], bool at_head)
{
    unsigned width = q_slot(r);
    uint64_t off = at_head ? r->q.head : r->soft_tail;
    for (unsigned i = 0; i < width / 8; i++)
        fz_w64(r->u->m, q_base(r) + off + 8 * i, d[i]);
    if (!at_head)
        r->soft_tail = (r->soft_tail + width) % q_size(r);
    r->clean = false;
}

static void op_desc(struct run *r)
{
    uint64_t d[4];
    bool at_head = (fz_u8(r->in) & 7) == 0;
    make_dsc(r, d);
    put_dsc(r, d, at_head);
}

static void op_iqa(struct run *r)
{
    uint8_t v = fz_u8(r->in);
    uint64_t iqa = (uint64_t)(fz_u8(r->in) % FZ_PAGES) << 12 | (v & 7) | ((v & 8) ? SIOV_IQA_DW : 0);
    if (v & 0x80)
        iqa = fz_u64(r->in);
    begin(r);
    siov_mmio_write(r->u->iommu, SIOV_REG_IQA, iqa, 8);
    if (!r->q.qie)
        r->q.iqa = iqa & ~SIOV_BITS(10, 3); /* reserved bits read as 0; ignored while enabled */
    r->soft_tail %= q_size(r);
    r->soft_tail -= r->soft_tail % q_slot(r);
    compare_queue(r, "IQA write");
}

static void op_clear(struct run *r)
{
    uint8_t v = fz_u8(r->in);
    if (v & 1) { /* the queue resumes from IQH once IQE is clear (facts 9.3) */
        begin(r);
        siov_mmio_write(r->u->iommu, SIOV_REG_FSTS, SIOV_FSTS_IQE, 4);
        r->q.iqe = false;
        end(r, "IQE clear");
    }
    if (v & 2) {
        siov_mmio_write(r->u->iommu, SIOV_REG_ICS, SIOV_ICS_IWC, 4);
        r->q.iwc = false;
    }
}

/* Global invalidation through the queue as it stands, then a wait. */
static void op_inv(struct run *r)
{
    uint64_t d[4] = {0};
    uint32_t seq = ++r->seq;
    uint64_t head0 = r->q.head, first = r->soft_tail, size = q_size(r);
    d[0] = siov_dsc_make_type(SIOV_DSC_CC) | siov_set(0, SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL);
    put_dsc(r, d, false);
    d[0] = siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL);
    put_dsc(r, d, false);
    if (sm_mode(r)) { /* the PASID cache, in the mode that has one */
        d[0] = siov_dsc_make_type(SIOV_DSC_PC) | siov_set(0, SIOV_PC0_G, SIOV_PC_GRAN_GLOBAL);
        put_dsc(r, d, false);
    }
    d[0] = siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, seq);
    d[1] = INV_STATUS;
    put_dsc(r, d, false);
    write_iqt(r, r->soft_tail);
    /* Clean only if the queue ran all of them: it is enabled, without error,
       its head reached the tail (compare_queue checked the unit's IQH), and
       they lay between the old head and the tail (the software tail may lag
       a head that raw IQT writes moved on). The status word alone does not
       prove it: a fuzzed wait, or a queue laid over the status word, can
       leave the same value there. The PASID cache must also have been
       reachable (scalable or abort-DMA mode, where the PC descriptor went
       in) or unused (legacy mode). */
    bool all_run = (first - head0 + size) % size < (r->soft_tail - head0 + size) % size;
    bool ran = r->q.qie && !r->q.iqe && r->q.head == r->soft_tail;
    r->ntags = 0;
    r->clean = (uint32_t)fz_r64(r->u->m, INV_STATUS) == seq && ran && all_run &&
               (sm_mode(r) || r->u->ttm == SIOV_TTM_LEGACY);
}

static void op_req(struct run *r)
{
    struct fz_req q;
    fz_pick_req(&r->b, &q);
    if (r->clean) {
        /* requests since the invalidation share the caches: compare while
           each DID names one structure (caches are tagged by DID) */
        struct fz_answer tag;
        fz_oracle_tag(r->u, &q, &tag);
        for (unsigned i = 0; i < r->ntags && r->clean; i++)
            r->clean = fz_same_domain(&r->tags[i], &tag);
        if (r->clean && r->ntags < MAX_TAGS)
            r->tags[r->ntags++] = tag;
        if (r->clean && r->ntags < MAX_TAGS) {
            if (fz_check_now(r->u, &q, NULL))
                r->clean = false;
            return;
        }
        r->clean = false;
    }
    struct siov_xlate x;
    siov_translate(r->u->iommu, q.sid, q.pasid, q.addr, q.access, &x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct siov_iommu_config cfg;
    unsigned ttm;
    bool te;
    fz_config(&in, &cfg, &ttm, &te);
    uint64_t root = (uint64_t)(fz_u8(&in) % FZ_TABLE_PAGES) << SIOV_PAGE_SHIFT;
    struct fz_mem *m = fz_mem_new();
    struct fz_unit *u = fz_unit_new(m, &cfg, root, ttm, te);
    if (!u) {
        fz_mem_free(m);
        return 0;
    }
    struct run *r = calloc(1, sizeof(*r));
    r->shadow = malloc(FZ_MEM_SIZE);
    if (!r || !r->shadow)
        abort();
    r->u = u;
    r->in = &in;
    r->b = (struct fz_builder){.u = u, .in = &in, .bump = (unsigned)(root >> SIOV_PAGE_SHIFT)};
    r->mamv = siov_get(siov_mmio_read(u->iommu, SIOV_REG_CAP, 8), SIOV_CAP_MAMV);
    uint64_t ecap = siov_mmio_read(u->iommu, SIOV_REG_ECAP, 8);
    r->smts = (ecap & SIOV_ECAP_SMTS) != 0;
    r->adms = (ecap & SIOV_ECAP_ADMS) != 0;
    r->dt = (ecap & SIOV_ECAP_DT) != 0;
    for (unsigned n = fz_u8(&in) % 5; n; n--)
        fz_template(&r->b);
    /* the harness's own queue goes; the fuzzed one starts disabled at IQA 0 */
    fz_unit_gcmd(u, 0, SIOV_GCMD_QIE);
    siov_mmio_write(u->iommu, SIOV_REG_IQA, 0, 8);
    siov_mmio_write(u->iommu, SIOV_REG_IQT, 0, 8);
    r->q.iwc = (siov_mmio_read(u->iommu, SIOV_REG_ICS, 4) & SIOV_ICS_IWC) != 0;
    for (unsigned n = 0; in.n && n < MAX_OPS; n++) {
        uint8_t op = fz_u8(&in);
        if (getenv("FZ_TRACE"))
            fprintf(stderr, "op %u (%u) left %zu iqh %llx iqe %d clean %d\n", op, op % 10, in.n,
                    (unsigned long long)r->q.head, r->q.iqe, r->clean);
        switch (op % 10) {
        case 0:
        case 1: op_desc(r); break;
        case 2: write_iqt(r, r->soft_tail); break;
        case 3: write_iqt(r, (op & 0x80) ? fz_u32(&in) : r->soft_tail + 16); break;
        case 4: op_iqa(r); break;
        case 5: set_qie(r, (op & 0x10) == 0); break;
        case 6: op_clear(r); break;
        case 7: op_inv(r); break;
        case 8: op_req(r); break;
        default: fz_template(&r->b); r->clean = false; break;
        }
    }
    free(r->shadow);
    free(r);
    fz_unit_free(u);
    fz_mem_free(m);
    return 0;
}

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
 *   PORT      a device's completion of a device-TLB invalidation (one it
 *             received, or an invalid one), or the time-out of every
 *             outstanding one (siov_iommu_expire)
 * One device (a source id from the input) may have a port: none, one that
 * completes each invalidation as it arrives, one that leaves them to PORT
 * operations, or libsiov's ATC.
 * A shadow of the queue logic, written from the facts sheet (sections 9, 13.5
 * and 15.2: widths and types by TTM; 13.6: device-TLB invalidations wait for
 * their device, an inv-wait waits for all of them, ITags are 5 bits, a
 * time-out sets ITE, aborts the pending wait and stops fetching until ITE is
 * cleared, an unknown completion sets ICE), runs
 * on a copy of guest memory at every point the unit processes the queue
 * (IQT write, QIE enable, IQE clear): IQE must be set exactly when it finds a bad tail
 * or a malformed descriptor, IQH must equal its head (always inside the
 * queue), ICS.IWC must follow IF, and guest memory must equal the copy
 * afterwards, i.e. status writes land exactly where wait descriptors say;
 * ITE, ICE and their source ids must match too, and every device-TLB
 * invalidation the unit reports (to the port and to a notifier) must be the
 * next one the shadow decoded, with the same device, PASID and range.
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
#define ITAGS 32     /* a 5-bit ITag (PCIe) */
#define MAX_LOG 16384 /* device-TLB messages between two checks: a queue in 64 pages holds fewer */

/* The device with a port. */
enum port_mode { PORT_NONE, PORT_AUTO, PORT_MANUAL, PORT_ATC };

/* A device-TLB invalidation as decoded (by the shadow) or reported (by the unit). */
struct dmsg {
    siov_sid sid;
    uint32_t pasid;
    uint64_t addr, size;
    bool global;
    unsigned itag;
};

struct qsim {
    uint64_t iqa, iqt, head;
    bool qie, iqe, iwc;
    bool ite, ice, wait_stalled;
    bool held;          /* the descriptor at the head was fetched and waits (facts 13.6) */
    uint64_t held_d[4]; /* its words: a later write to its slot does not change it */
    siov_sid itesid, icesid;
    int out[ITAGS]; /* outstanding ITags (-1: one the ATC holds, its number unseen) */
    unsigned nout;
};

/* What the unit reported since the last check: notifier events and port
   messages of device-TLB invalidations, completions the harness sent. */
struct log {
    struct dmsg ev[MAX_LOG], sent[MAX_LOG], done[MAX_LOG];
    unsigned nev, nsent, ndone;       /* recorded */
    unsigned cev, csent, cdone;       /* consumed by the shadow */
};
static struct log the_log; /* large; the harness is single-threaded */

struct run {
    struct fz_unit *u;
    struct fz_in *in;
    struct fz_builder b;
    struct qsim q;
    uint64_t soft_tail;
    uint8_t *shadow;
    uint64_t mamv;
    bool smts, adms, dt, prs, pds, clean;
    uint32_t seq;
    struct fz_answer tags[MAX_TAGS]; /* requests compared since the last invalidation */
    unsigned ntags;
    enum port_mode mode;
    siov_sid port_sid;
    struct siov_atc *atc;
    struct log *log;
    struct dmsg pending[ITAGS]; /* PORT_MANUAL: received, not completed by the harness (newest kept) */
    unsigned npending;
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
    if (type < 1 || type > 9)
        return false;
    if ((type == 3 || type == 8) && !r->dt)
        return false; /* device-TLB invalidations need ECAP.DT */
    if (type == 9 && !r->prs)
        return false; /* the page group response needs ECAP.PRS (facts 14.6) */
    if (r->u->ttm == SIOV_TTM_RESERVED || (type >= 6 && !sm_mode(r)))
        return false; /* legacy mode takes types 1-5 */
    if (width == 32 && (q[2] || q[3]))
        return false;
    switch (type) {
    case 1: return !(q[0] & 0xFFFC00000000F1C0ull) && !q[1] && g != 0;
    case 2: return !(q[0] & 0xFFFFFFFF0000F100ull) && !(q[1] & 0xF80) && g != 0 && (g != 3 || psi_ok(r, q[1]));
    case 3: return !(q[0] & 0x000F0000FFE001F0ull) && !(q[1] & 0xFFE);
    case 4: return !(q[0] & 0xFFFF000007FFF1E0ull) && !q[1];
    case 5: return !(q[0] & (r->pds ? 0xFFFFF100ull : 0xFFFFF180ull)) && !(q[1] & 3); /* PD (bit 7) needs ECAP.PDS */
    case 6: return !(q[0] & 0xFFF000000000F1C0ull) && !(q[1] & 0xF80) && g >= 2 && (g != 3 || psi_ok(r, q[1]));
    case 7: return !(q[0] & 0xFFF000000000F1C0ull) && !q[1] && g != 2;
    case 8: return !(q[1] & 0x7FE);
    default: /* 9: rev 4+ layout, bits 8:5 and 63:52, qw1 1:0 and 63:12 reserved; bit 66 ignored */
        return !(q[0] & 0xFFF00000000001E0ull) && !(q[1] & 0xFFFFFFFFFFFFF003ull);
    }
}

/* ------------------------------------------ device-TLB invalidations (13.5-6) */
/* The range of a device-TLB descriptor: S=0 one page; S=1 the lowest clear
   bit of ADDR[63:12] at 12+k gives 2^(k+13) bytes; none clear: everything. */
static void dtlb_range(uint64_t addr, bool s, struct dmsg *m)
{
    addr &= ~0xFFFull;
    if (!s) {
        m->addr = addr, m->size = 4096;
        return;
    }
    unsigned bit = 12;
    while (bit < 64 && (addr >> bit & 1))
        bit++;
    if (bit >= 63) { /* 2^64 bytes or more: every address */
        m->addr = 0, m->size = UINT64_MAX;
        return;
    }
    m->size = 1ull << (bit + 1);
    m->addr = addr & ~(m->size - 1);
}

/* Descriptor 0x3 (SID 47:32, S at qw1 bit 0) or 0x8 (SID 31:16, PASID 51:32,
   G at qw1 bit 0, S at bit 11). */
static struct dmsg dtlb_decode(const uint64_t q[4])
{
    struct dmsg m = {0};
    if ((q[0] & 0xF) == 3) {
        m.sid = (siov_sid)(q[0] >> 32);
        m.pasid = SIOV_NO_PASID;
        dtlb_range(q[1], q[1] & 1, &m);
    } else {
        m.sid = (siov_sid)(q[0] >> 16);
        m.pasid = (uint32_t)(q[0] >> 32) & 0xFFFFF;
        m.global = q[1] & 1;
        dtlb_range(q[1], q[1] & (1u << 11), &m);
    }
    return m;
}

static bool same_dmsg(const struct dmsg *a, const struct dmsg *b)
{
    return a->sid == b->sid && a->addr == b->addr && a->size == b->size && a->global == b->global &&
           (a->global || a->pasid == b->pasid);
}

static void dmsg_die(const char *what, const struct dmsg *got, const struct dmsg *want)
{
    fz_die("%s: got sid %04x pasid %x [0x%llx +0x%llx) g%d, the facts say sid %04x pasid %x [0x%llx +0x%llx) g%d", what,
           got->sid, got->pasid, (unsigned long long)got->addr, (unsigned long long)got->size, got->global,
           want->sid, want->pasid, (unsigned long long)want->addr, (unsigned long long)want->size, want->global);
}

/* A completion of (sid, itag) (facts 13.6): ignored without DT or with
   translation disabled; frees an outstanding ITag; anything else is ICE. */
static void sim_complete(struct run *r, const struct dmsg *c)
{
    struct qsim *q = &r->q;
    if (!r->dt || !r->u->te)
        return;
    for (unsigned i = 0; i < q->nout; i++)
        if (q->out[i] == (int)c->itag && c->sid == r->port_sid) {
            q->out[i] = q->out[--q->nout];
            return;
        }
    if (!q->ice)
        q->icesid = c->sid;
    q->ice = true;
}

/* The next completion the harness logged, if any; true if there was one. */
static bool sim_next_completion(struct run *r)
{
    if (r->log->cdone == r->log->ndone)
        return false;
    sim_complete(r, &r->log->done[r->log->cdone++]);
    return true;
}

/* A device-TLB invalidation reaches the head: false if it must wait for an
   ITag. The unit reports it to the notifier, and to the port of its device,
   which then holds an ITag until it completes. */
static bool sim_devtlb(struct run *r, const uint64_t d[4])
{
    struct qsim *q = &r->q;
    struct dmsg m = dtlb_decode(d);
    bool port = r->mode != PORT_NONE && m.sid == r->port_sid;
    while (port && q->nout == ITAGS)
        if (!sim_next_completion(r))
            return false;
    struct log *l = r->log;
    if (l->cev == l->nev)
        fz_die("a device-TLB invalidation for %04x was not reported to the notifier", m.sid);
    if (!same_dmsg(&l->ev[l->cev], &m))
        dmsg_die("notifier event", &l->ev[l->cev], &m);
    l->cev++;
    if (!port)
        return true;
    if (r->mode == PORT_ATC) { /* completes at once, but not with translation disabled */
        if (!r->u->te)
            q->out[q->nout++] = -1;
        return true;
    }
    if (l->csent == l->nsent)
        fz_die("a device-TLB invalidation for %04x did not reach its port", m.sid);
    if (!same_dmsg(&l->sent[l->csent], &m))
        dmsg_die("port message", &l->sent[l->csent], &m);
    q->out[q->nout++] = (int)l->sent[l->csent++].itag;
    return true;
}

/* An inv-wait reaches the head: false while device-TLB invalidations are outstanding. */
static bool sim_wait_ready(struct run *r)
{
    while (r->q.nout)
        if (!sim_next_completion(r)) {
            r->q.wait_stalled = true;
            return false;
        }
    r->q.wait_stalled = false;
    return true;
}

/* siov_iommu_expire (facts 13.6): ITE, ITESID when ITE was clear, the
   pending wait aborted (IQH past it: it was fetched), fetching stopped. */
static void sim_expire(struct run *r)
{
    struct qsim *q = &r->q;
    if (!q->nout)
        return;
    if (!q->ite)
        q->itesid = r->port_sid; /* the one device with a port */
    q->ite = true;
    q->nout = 0;
    if (q->wait_stalled) {
        q->head = (q->head + q_slot(r)) % q_size(r);
        q->held = false;
    }
    q->wait_stalled = false;
}

/* Process the queue as the facts sheet says, on the shadow memory. */
static void sim_process(struct run *r)
{
    struct qsim *q = &r->q;
    if (!q->qie || q->iqe || q->ite)
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
        if (q->held)
            memcpy(d, q->held_d, sizeof(d));
        else
            for (unsigned i = 0; i < width / 8; i++)
                fetched &= shadow_r64(r, base + 8 * i, &d[i]);
        q->held = false;
        if (!fetched || !dsc_valid(r, d, width)) {
            q->iqe = true;
            return;
        }
        unsigned type = d[0] & 0xF;
        if (((type == 3 || type == 8) && !sim_devtlb(r, d)) || (type == 5 && !sim_wait_ready(r))) {
            memcpy(q->held_d, d, sizeof(d)); /* waits at the head for an ITag or for completions */
            q->held = true;
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

/* ITE, ICE, their source ids, the outstanding count; everything the unit
   reported consumed by the shadow. */
static void compare_devtlb(struct run *r, const char *what)
{
    struct siov_iommu *io = r->u->iommu;
    struct log *l = r->log;
    while (sim_next_completion(r)) /* completions after the queue stopped or emptied */
        ;
    uint32_t fsts = (uint32_t)siov_mmio_read(io, SIOV_REG_FSTS, 4);
    uint64_t iqercd = siov_mmio_read(io, SIOV_REG_IQERCD, 8);
    bool ite = fsts & SIOV_FSTS_ITE, ice = fsts & SIOV_FSTS_ICE;
    if (ite != r->q.ite || ice != r->q.ice)
        fz_die("%s: ITE %d ICE %d, the facts say ITE %d ICE %d", what, ite, ice, r->q.ite, r->q.ice);
    if (ite && siov_get(iqercd, SIOV_IQERCD_ITESID) != r->q.itesid)
        fz_die("%s: ITESID %04llx, the facts say %04x", what,
               (unsigned long long)siov_get(iqercd, SIOV_IQERCD_ITESID), r->q.itesid);
    if (ice && siov_get(iqercd, SIOV_IQERCD_ICESID) != r->q.icesid)
        fz_die("%s: ICESID %04llx, the facts say %04x", what,
               (unsigned long long)siov_get(iqercd, SIOV_IQERCD_ICESID), r->q.icesid);
    if (siov_iommu_devtlb_outstanding(io) != r->q.nout)
        fz_die("%s: %u device-TLB invalidations outstanding, the facts say %u", what,
               siov_iommu_devtlb_outstanding(io), r->q.nout);
    if (l->cev != l->nev || l->csent != l->nsent)
        fz_die("%s: the unit reported %u device-TLB invalidations (%u to the port) the facts do not have", what,
               l->nev - l->cev, l->nsent - l->csent);
    l->nev = l->cev = l->nsent = l->csent = l->ndone = l->cdone = 0;
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
    compare_devtlb(r, what);
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
    if (!on && r->q.qie) {
        r->q.head = 0; /* disabling the queue resets IQH, and nothing waits for device-TLB completions */
        r->q.nout = 0;
        r->q.wait_stalled = false;
        r->q.held = false;
    }
    r->q.qie = on;
    compare_queue(r, "QIE disable");
}

/* ----------------------------------------------------------- descriptors */
static uint64_t q_base(const struct run *r)
{
    return r->q.iqa & ~0xFFFull;
}

/* Device-TLB invalidation operands: SID (flags 0x40: the device with the
   port), 0x8's PASID, ADDR (flags 4: all ones, the global range), S and G. */
static void make_devtlb(struct run *r, uint64_t d[4], uint8_t flags)
{
    uint64_t sid = (flags & 0x40) ? r->port_sid : fz_u16(r->in);
    uint64_t addr = (flags & 4) ? ~0xFFFull : (uint64_t)fz_u32(r->in) << 12;
    if ((d[0] & 0xF) == 3) {
        d[0] = (d[0] & ~SIOV_BITS(63, 32)) | sid << 32;
        d[1] = addr | (flags & 1);
        return;
    }
    d[0] = (d[0] & ~SIOV_BITS(63, 16)) | sid << 16 | (uint64_t)(fz_u32(r->in) & 0xFFFFF) << 32;
    d[1] = addr | (flags & 1) | ((flags & 2) ? 1u << 11 : 0);
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
    case 8: make_devtlb(r, d, flags); break;
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
    case 9: /* page group response: PP, RC, RID, PASID; group index and the ignored bit 66 */
        d[0] = siov_dsc_make_type(9) | (g & 1) << 4 | (uint64_t)(flags & 0xF) << 12 | did << 16 |
               (uint64_t)(fz_u32(in) & 0xFFFFF) << 32;
        d[1] = (uint64_t)(fz_u16(in) & 0x1FF) << 3 | (flags & 0x10 ? 4 : 0);
        break;
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
    if (v & 4) { /* fetching resumes at IQH once ITE is clear (facts 13.6) */
        begin(r);
        siov_mmio_write(r->u->iommu, SIOV_REG_FSTS, SIOV_FSTS_ITE, 4);
        r->q.ite = false;
        end(r, "ITE clear");
    }
    if (v & 8) {
        begin(r);
        siov_mmio_write(r->u->iommu, SIOV_REG_FSTS, SIOV_FSTS_ICE, 4);
        r->q.ice = false;
        compare_queue(r, "ICE clear");
    }
}

/* ------------------------------------------------------------- the port */
static void log_put(struct dmsg *arr, unsigned *n, struct dmsg m)
{
    if (*n == MAX_LOG)
        fz_die("more device-TLB messages than a queue in guest memory can hold");
    arr[(*n)++] = m;
}

static void on_event(void *opaque, const struct siov_inval_event *ev)
{
    struct run *r = opaque;
    if (ev->kind == SIOV_INV_DEVTLB)
        log_put(r->log->ev, &r->log->nev,
                (struct dmsg){ev->sid, ev->pasid, ev->addr, ev->size, ev->granularity == SIOV_INV_G_GLOBAL, 0});
}

static void on_devtlb(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                      unsigned itag)
{
    struct run *r = opaque;
    struct dmsg m = {sid, pasid, addr, size, global, itag};
    log_put(r->log->sent, &r->log->nsent, m);
    if (r->mode == PORT_AUTO) {
        log_put(r->log->done, &r->log->ndone, m);
        siov_devtlb_complete(r->u->iommu, sid, itag);
    } else if (r->npending < ITAGS) {
        r->pending[r->npending++] = m;
    } else { /* the unit has at most 32 out: an older one was lost to a time-out or QIE */
        memmove(r->pending, r->pending + 1, (ITAGS - 1) * sizeof r->pending[0]);
        r->pending[ITAGS - 1] = m;
    }
}

/* The device answers, or time passes: a completion of a received
   invalidation (the oldest, or any), an invalid one, or the time-out. */
static void op_port(struct run *r)
{
    uint8_t v = fz_u8(r->in);
    struct dmsg c = {0};
    begin(r);
    switch (v & 3) {
    case 0:
    case 1: {
        if (!r->npending)
            break;
        unsigned i = (v & 1) ? (v >> 2) % r->npending : 0;
        c = r->pending[i];
        memmove(r->pending + i, r->pending + i + 1, (r->npending - i - 1) * sizeof r->pending[0]);
        r->npending--;
        log_put(r->log->done, &r->log->ndone, c);
        siov_devtlb_complete(r->u->iommu, c.sid, c.itag);
        break;
    }
    case 2:
        c.sid = (v & 4) ? r->port_sid : fz_u16(r->in);
        c.itag = fz_u8(r->in) & 63;
        log_put(r->log->done, &r->log->ndone, c);
        siov_devtlb_complete(r->u->iommu, c.sid, c.itag);
        break;
    default:
        siov_iommu_expire(r->u->iommu);
        sim_expire(r);
        break;
    }
    end(r, "device-TLB completion or time-out");
}

/* The device with the port, and its kind (one input byte). */
static void attach_port(struct run *r)
{
    uint8_t v = fz_u8(r->in);
    r->mode = (enum port_mode)(v & 3);
    r->port_sid = (v & 4) && r->b.ntargets ? r->b.targets[0].sid : fz_u16(r->in);
    if (siov_iommu_add_notifier(r->u->iommu, on_event, r) != 0)
        abort();
    if (r->mode == PORT_ATC) {
        r->atc = siov_atc_new(r->u->iommu, r->port_sid, 1u << (v >> 4));
        if (!r->atc)
            abort();
    } else if (r->mode != PORT_NONE) {
        struct siov_device_ops ops = {on_devtlb, NULL};
        if (siov_device_port(r->u->iommu, r->port_sid, &ops, r) != 0)
            abort();
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
    if (r->atc && q.sid == r->port_sid) /* through the device's ATC (a miss sends a translation request) */
        siov_atc_translate(r->atc, q.pasid, q.addr, q.access, &x);
    else
        siov_translate(r->u->iommu, q.sid, q.pasid, q.addr, q.access, &x);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct fz_builder b;
    struct fz_unit *u = fz_start(&in, NULL, NULL, &b);
    if (!u)
        return 0;
    struct run *r = calloc(1, sizeof(*r));
    r->shadow = malloc(FZ_MEM_SIZE);
    if (!r || !r->shadow)
        abort();
    r->u = u;
    r->in = &in;
    r->b = b;
    r->mamv = siov_get(siov_mmio_read(u->iommu, SIOV_REG_CAP, 8), SIOV_CAP_MAMV);
    uint64_t ecap = siov_mmio_read(u->iommu, SIOV_REG_ECAP, 8);
    r->smts = (ecap & SIOV_ECAP_SMTS) != 0;
    r->adms = (ecap & SIOV_ECAP_ADMS) != 0;
    r->dt = (ecap & SIOV_ECAP_DT) != 0;
    r->prs = (ecap & SIOV_ECAP_PRS) != 0;
    r->pds = (ecap & SIOV_ECAP_PDS) != 0;
    for (unsigned n = fz_u8(&in) % 5; n; n--)
        fz_template(&r->b);
    r->log = &the_log;
    r->log->nev = r->log->cev = r->log->nsent = r->log->csent = r->log->ndone = r->log->cdone = 0;
    attach_port(r);
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
        case 6: (op & 0x80) ? op_port(r) : op_clear(r); break;
        case 7: op_inv(r); break;
        case 8: op_req(r); break;
        default: fz_template(&r->b); r->clean = false; break;
        }
    }
    siov_atc_free(r->atc);
    free(r->shadow);
    free(r);
    fz_stop(u);
    return 0;
}

/* Fuzz harness: the page request queue.
 *
 * Input: 5 configuration bytes (fz_config), a byte of its own (bit 0: no
 * ECAP.PRS; bit 1: leave PRE and DTE clear in the built context entries;
 * bit 2: PECTL unmasked), the queue's page and size, a root-table page, the number of translation paths to build
 * (fz_template), then operations:
 *   REQ     a page request or stop marker, from a built target's device and
 *           PASID or any, for any address, access, group and LPIG
 *   CTX     set or clear PRE, DTE, PASIDE, FPD or P in a target's scalable
 *           context entry
 *   REG     a write of PQH, PQT, PQA, PRS, PECTL, PEDATA, PEADDR or PEUADDR
 *           (any value)
 *   BURST   several requests in a row from one target (a group), each checked
 *   ROOT    another TTM or TE (latched with SRTP)
 *   QWORD   a raw qword anywhere in the table pages
 * Every device has a port that logs the page responses it receives.
 *
 * A shadow written from the facts sheet (section 14) predicts each checked
 * request: the reference walk (ref_page_request) decides Table 30's fault;
 * the shadow keeps the queue's registers, PRS and PECTL and decides queued,
 * dropped (PRO set, or a full queue: PRO and the event), or a write error;
 * it builds the descriptor itself, with bit positions of its own (Fig 7-1,
 * rev 4+). After the request the unit must
 * have returned the predicted fault, recorded it (T1=0 T2=1, FR, SID,
 * PASID, the page) unless FPD or the mode spares it, sent exactly the
 * predicted answer (Success for a dropped last request, Invalid Request for
 * a refused one, none otherwise) to exactly that device, reported the
 * implicit invalidation of Table 27 to a notifier, sent the predicted
 * event messages, read only structures the reference walk read, written
 * nothing but the descriptor at the predicted slot, and left its registers
 * and the queue's slot holding the shadow's descriptor.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"

#define MAX_OPS 256
#define MAX_RESP 64
#define MAX_SIDS 8

struct resp {
    siov_sid sid;
    uint32_t pasid;
    uint16_t prgi;
    unsigned code;
};

/* What the unit sent out: responses (by port), notifier events, messages. */
struct outlog {
    unsigned nresp, nev, nmsi;
    struct resp resp[MAX_RESP];
    struct siov_inval_event ev;
    uint64_t msi_addr;
    uint32_t msi_data;
};

/* The shadow's registers (facts 14.2, 15.1). */
struct prq_regs {
    uint64_t pqh, pqt, pqa;
    uint32_t prs, pectl, pedata, peaddr, peuaddr;
};

struct run {
    struct fz_unit *u;
    struct fz_in *in;
    struct fz_builder b;
    bool prs;
    struct prq_regs s;
    struct outlog log;
    siov_sid sids[MAX_SIDS]; /* devices with a port */
    unsigned nsids;
};

static struct outlog *the_log; /* the callbacks' view (set per input) */

static void on_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    siov_sid port = (siov_sid)(uintptr_t)opaque;
    if (sid != port)
        fz_die("page response for %04x delivered to the port of %04x", sid, port);
    if (the_log->nresp < MAX_RESP)
        the_log->resp[the_log->nresp] = (struct resp){sid, pasid, prgi, code};
    the_log->nresp++;
}

static void on_event(void *opaque, const struct siov_inval_event *ev)
{
    (void)opaque;
    the_log->nev++;
    the_log->ev = *ev;
}

static void on_msi(void *opaque, uint64_t addr, uint32_t data)
{
    (void)opaque;
    the_log->nmsi++;
    the_log->msi_addr = addr;
    the_log->msi_data = data;
}

/* A port that logs page responses for sid (once per device). */
static void port_for(struct run *r, siov_sid sid)
{
    static const struct siov_device_ops ops = {NULL, on_response};
    for (unsigned i = 0; i < r->nsids; i++)
        if (r->sids[i] == sid)
            return;
    if (r->nsids == MAX_SIDS || siov_device_port(r->u->iommu, sid, &ops, (void *)(uintptr_t)sid) < 0)
        return;
    r->sids[r->nsids++] = sid;
}

static bool has_port(const struct run *r, siov_sid sid)
{
    for (unsigned i = 0; i < r->nsids; i++)
        if (r->sids[i] == sid)
            return true;
    return false;
}

/* ------------------------------------------------------------ registers */
/* The page request event (facts 14.5): when PPR or PRO is set while both
   were clear, IP, or the message with IM=0. */
static void s_status(struct run *r, uint32_t bit, unsigned *msi)
{
    bool was_clear = !(r->s.prs & 3);
    r->s.prs |= bit;
    if (!was_clear)
        return;
    if (r->s.pectl & 0x80000000u)
        r->s.pectl |= 0x40000000u;
    else
        (*msi)++;
}

/* A write of a whole register, as the shadow reads facts 14.2. */
static void s_write(struct run *r, unsigned which, uint64_t v, unsigned *msi)
{
    switch (which) {
    case 0: r->s.pqh = v & 0x7FFE0; break;
    case 1: r->s.pqt = v & 0x7FFE0; break;
    case 2: r->s.pqa = v & ~0xFF8ull; break;
    case 3:
        r->s.prs &= ~((uint32_t)v & 3);
        if (!(r->s.prs & 3))
            r->s.pectl &= ~0x40000000u;
        break;
    case 4:
        r->s.pectl = (r->s.pectl & 0x40000000u) | ((uint32_t)v & 0x80000000u);
        if (!(v & 0x80000000u) && (r->s.pectl & 0x40000000u)) {
            r->s.pectl &= ~0x40000000u;
            (*msi)++;
        }
        break;
    case 5: r->s.pedata = (uint32_t)v & 0xFFFF; break;
    case 6: r->s.peaddr = (uint32_t)v & ~3u; break;
    default: r->s.peuaddr = (uint32_t)v; break;
    }
}

static const uint64_t reg_off[8] = {SIOV_REG_PQH,   SIOV_REG_PQT,    SIOV_REG_PQA,    SIOV_REG_PRS,
                                    SIOV_REG_PECTL, SIOV_REG_PEDATA, SIOV_REG_PEADDR, SIOV_REG_PEUADDR};

/* The unit's registers equal the shadow's (all 0 without ECAP.PRS). */
static void regs_check(const struct run *r, const char *after)
{
    const uint64_t want[8] = {r->s.pqh, r->s.pqt, r->s.pqa, r->s.prs, r->s.pectl, r->s.pedata, r->s.peaddr,
                              r->s.peuaddr};
    for (unsigned i = 0; i < 8; i++) {
        uint64_t got = siov_mmio_read(r->u->iommu, reg_off[i], i < 3 ? 8 : 4);
        uint64_t w = r->prs ? want[i] : 0;
        if (got != w)
            fz_die("after %s: register 0x%llx is 0x%llx, the facts say 0x%llx", after,
                   (unsigned long long)reg_off[i], (unsigned long long)got, (unsigned long long)w);
    }
}

static void reg_op(struct run *r)
{
    uint8_t k = fz_u8(r->in);
    uint64_t v = (k & 8) ? fz_u64(r->in) : fz_u16(r->in);
    unsigned which = k & 7, msi = 0, before = the_log->nmsi;
    if (which == 2 && !(k & 0x10)) /* mostly a queue inside memory */
        v = (v % FZ_PAGES) << SIOV_PAGE_SHIFT | (v >> 16 & 7);
    siov_mmio_write(r->u->iommu, reg_off[which], v, which < 3 ? 8 : 4);
    if (r->prs)
        s_write(r, which, v, &msi);
    if (the_log->nmsi - before != msi)
        fz_die("register write %u: %u messages, the facts say %u", which, the_log->nmsi - before, msi);
    regs_check(r, "a register write");
}

/* ------------------------------------------------------------ requests */
/* The descriptor of Fig 7-1 (rev 4+), from the request: literal positions. */
static void s_descriptor(siov_sid sid, const struct siov_page_request *q, uint64_t w[4])
{
    bool pp = q->pasid != SIOV_NO_PASID, sm = q->stop_marker;
    unsigned acc = q->access & (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV);
    if (!pp)
        acc &= ~(SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV);
    if (!(acc & (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE)))
        acc |= SIOV_ACCESS_READ;
    w[0] = 1 | (uint64_t)sid << 16;
    w[1] = w[2] = w[3] = 0;
    if (pp)
        w[0] |= 1ull << 8 | (uint64_t)q->pasid << 32;
    if (pp && !sm)
        w[0] |= (acc & SIOV_ACCESS_EXEC ? 1ull << 52 : 0) | (acc & SIOV_ACCESS_PRIV ? 1ull << 53 : 0);
    w[1] = (q->last || sm) ? 4 : 0;
    if (!sm)
        w[1] |= (acc & SIOV_ACCESS_READ ? 1 : 0) | (acc & SIOV_ACCESS_WRITE ? 2 : 0) |
                (uint64_t)(q->prg_index & 0x1FF) << 3 | (q->addr & ~0xFFFull);
}

/* The shadow's verdict on a request the checks accepted: what the unit
   returns, the slot written (UINT64_MAX: none), the descriptor, the answer
   (-1: none), the messages sent, and whether the implicit invalidation ran. */
struct verdict {
    siov_fault ret;
    uint64_t slot;
    uint64_t desc[4];
    int code;
    unsigned msi;
    bool queued, invalidated;
};

static void s_enqueue(struct run *r, siov_sid sid, const struct siov_page_request *q, struct verdict *v)
{
    uint64_t size = 4096ull << (r->s.pqa & 7);
    uint64_t head = (r->s.pqh & 0x7FFE0) % size, tail = (r->s.pqt & 0x7FFE0) % size;
    bool answer = q->last && !q->stop_marker;
    v->code = answer ? SIOV_PRQ_SUCCESS : -1; /* unless queued below */
    if (r->s.prs & 2) /* PRO: dropped, no event */
        return;
    if ((tail + 32) % size == head) { /* full: PRO (not for a stop marker: dropped silently) */
        if (!q->stop_marker)
            s_status(r, 2, &v->msi);
        return;
    }
    v->invalidated = !q->stop_marker;
    v->slot = (r->s.pqa & ~0xFFFull) + tail;
    if (v->slot > FZ_MEM_SIZE - 32) { /* unwritable: dropped, Success */
        v->ret = SIOV_ERR_BUS;
        return;
    }
    s_descriptor(sid, q, v->desc);
    r->s.pqt = (tail + 32) % size;
    s_status(r, 1, &v->msi);
    v->code = -1;
    v->queued = true;
}

/* Whether an entry the reference walk read has FPD set: the unit may then
   keep a fault unrecorded (qualified faults, Table 30). */
static bool fpd_seen(const struct run *r, const struct ref_result *ref)
{
    for (unsigned i = 0; i < ref->nread; i++)
        if ((ref->read[i].kind == REF_CTX || ref->read[i].kind == REF_PDIR || ref->read[i].kind == REF_PASID) &&
            (fz_r64(r->u->m, ref->read[i].gpa) & 2))
            return true;
    return false;
}

static void clear_records(struct run *r)
{
    for (unsigned i = 0; i < r->u->cfg.fault_records; i++)
        siov_mmio_write(r->u->iommu, SIOV_REG_FRCD + 16ull * i + 8, 1ull << 63, 8);
    siov_mmio_write(r->u->iommu, SIOV_REG_FSTS, SIOV_FSTS_RW1C, 4);
}

/* The fault record of a refused request (T1=0 T2=1, AT 0), literal positions. */
static void check_record(struct run *r, siov_sid sid, const struct siov_page_request *q, siov_fault f,
                         bool may_skip)
{
    unsigned n = 0;
    uint64_t lo = 0, hi = 0;
    for (unsigned i = 0; i < r->u->cfg.fault_records; i++) {
        uint64_t h = siov_mmio_read(r->u->iommu, SIOV_REG_FRCD + 16ull * i + 8, 8);
        if (h >> 63)
            n++, hi = h, lo = siov_mmio_read(r->u->iommu, SIOV_REG_FRCD + 16ull * i, 8);
    }
    bool pp = q->pasid != SIOV_NO_PASID;
    bool want = f && f != SIOV_ERR_BUS && f != SIOV_FAULT_RTA_4 && !q->stop_marker &&
                (!pp || q->pasid <= SIOV_PASID_MAX); /* above 20 bits: no record can hold it */
    if (n > 1 || (n && !want) || (!n && want && !may_skip))
        fz_die("page request %04x fault %s: %u records, expected %d", sid, siov_fault_name(f), n, want);
    uint64_t whi = 1ull << 63 | 1ull << 28 | sid | (uint64_t)f << 32;
    if (pp)
        whi |= 1ull << 31 | (uint64_t)q->pasid << 40 | (q->access & SIOV_ACCESS_EXEC ? 1ull << 30 : 0) |
               (q->access & SIOV_ACCESS_PRIV ? 1ull << 29 : 0);
    if (n && (hi != whi || lo != (q->addr & ~0xFFFull)))
        fz_die("page request fault record %016llx:%016llx, expected %016llx:%016llx", (unsigned long long)hi,
               (unsigned long long)lo, (unsigned long long)whi, (unsigned long long)(q->addr & ~0xFFFull));
    clear_records(r);
}

/* The response one request caused (to its device's port, if it has one). */
static void check_out(const struct run *r, siov_sid sid, const struct siov_page_request *q, int code,
                      unsigned nresp0)
{
    unsigned want = code >= 0 && has_port(r, sid);
    if (the_log->nresp - nresp0 != want)
        fz_die("page request %04x: %u responses, expected %u (code %d)", sid, the_log->nresp - nresp0, want, code);
    const struct resp *g = &the_log->resp[nresp0 < MAX_RESP ? nresp0 : MAX_RESP - 1];
    if (want && nresp0 < MAX_RESP &&
        (g->sid != sid || g->pasid != q->pasid || g->prgi != (q->prg_index & 0x1FF) || (int)g->code != code))
        fz_die("page response %04x pasid %x prgi %u code %u, expected %04x %x %u %d", g->sid, g->pasid, g->prgi,
               g->code, sid, q->pasid, q->prg_index & 0x1FF, code);
}

/* The implicit invalidation (Table 27) for a request under the PASID entry
   the oracle found. */
static void check_event(const struct run *r, const struct siov_page_request *q, const struct ref_result *ref,
                        unsigned nev)
{
    if (nev != 1)
        fz_die("page request: %u invalidation events, Table 27 asks for one", nev);
    const struct siov_inval_event *e = &the_log->ev;
    uint16_t mask = (uint16_t)((1u << r->u->cfg.domain_bits) - 1); /* bits above ND are not the unit's */
    uint16_t did = (uint16_t)(ref->x.did & mask);
    bool ok = (e->did & mask) == did;
    if (ref->pgtt == SIOV_PGTT_FL)
        ok = ok && e->kind == SIOV_INV_PIOTLB && e->granularity == SIOV_INV_G_RANGE &&
             (q->pasid == SIOV_NO_PASID || e->pasid == q->pasid) && e->addr == (q->addr & ~0xFFFull) &&
             e->size == 4096;
    else if (ref->pgtt == SIOV_PGTT_NESTED)
        ok = ok && e->kind == SIOV_INV_IOTLB && e->granularity == SIOV_INV_G_DOMAIN;
    else
        ok = ok && e->kind == SIOV_INV_IOTLB && e->granularity == SIOV_INV_G_RANGE &&
             e->addr == (q->addr & ~0xFFFull) && e->size == 4096;
    if (!ok)
        fz_die("implicit invalidation kind %u gran %u did %u pasid %x addr 0x%llx, pgtt %u did %u", e->kind,
               e->granularity, e->did, e->pasid, (unsigned long long)e->addr, ref->pgtt, did);
}

/* One request checked against the oracle and the shadow. */
static void request_checked(struct run *r, siov_sid sid, const struct siov_page_request *q)
{
    struct fz_unit *u = r->u;
    fz_invalidate_all(u); /* caches hold nothing memory does not say now */
    clear_records(r);
    struct ref_result ref;
    siov_fault want;
    if (!r->prs || (q->stop_marker && q->pasid == SIOV_NO_PASID))
        want = SIOV_ERR_BUS, ref = (struct ref_result){.fault = SIOV_ERR_BUS};
    else
        want = ref_page_request(&u->ref, sid, q->pasid, &ref);
    struct siov_page_request n = *q;
    if (n.pasid == SIOV_NO_PASID)
        n.access &= ~(SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV);
    struct verdict v = {.ret = want, .slot = UINT64_MAX, .code = -1};
    if (!want)
        s_enqueue(r, sid, q, &v);
    else if (r->prs && q->last && !q->stop_marker)
        v.code = SIOV_PRQ_INVALID;
    unsigned nresp0 = the_log->nresp, nmsi0 = the_log->nmsi;
    the_log->nev = 0;
    u->m->phase = FZ_PRQ;
    u->m->allow[0] = &ref;
    u->m->nallow = 1;
    u->m->prq_slot = v.slot;
    siov_fault got = siov_page_request(u->iommu, sid, q);
    u->m->phase = FZ_FREE;
    u->m->nallow = 0;
    if (getenv("FZ_TRACE"))
        fprintf(stderr, "  request %04x pasid %x addr 0x%llx last %d sm %d: %s, %s\n", sid, q->pasid,
                (unsigned long long)q->addr, q->last, q->stop_marker, siov_fault_name(got),
                v.queued ? "queued" : v.code >= 0 ? "answered" : "not queued");
    if (got != v.ret)
        fz_die("page request %04x pasid %x addr 0x%llx: model %s, expected %s", sid, q->pasid,
               (unsigned long long)q->addr, siov_fault_name(got), siov_fault_name(v.ret));
    if (want)
        check_record(r, sid, &n, want, fpd_seen(r, &ref));
    check_out(r, sid, q, v.code, nresp0);
    if (v.invalidated)
        check_event(r, q, &ref, the_log->nev);
    else if (the_log->nev)
        fz_die("page request %04x: %u invalidation events where none was due", sid, the_log->nev);
    if (the_log->nmsi - nmsi0 != v.msi)
        fz_die("page request: %u messages, expected %u", the_log->nmsi - nmsi0, v.msi);
    if (v.msi && (the_log->msi_addr != ((uint64_t)r->s.peuaddr << 32 | r->s.peaddr) ||
                  the_log->msi_data != r->s.pedata))
        fz_die("page request event message 0x%llx:0x%x, PEADDR/PEDATA say otherwise",
               (unsigned long long)the_log->msi_addr, the_log->msi_data);
    if (v.queued)
        for (unsigned i = 0; i < 4; i++)
            if (fz_r64(u->m, v.slot + 8 * i) != v.desc[i])
                fz_die("descriptor qword %u at 0x%llx is 0x%llx, Fig 7-1 says 0x%llx", i,
                       (unsigned long long)v.slot, (unsigned long long)fz_r64(u->m, v.slot + 8 * i),
                       (unsigned long long)v.desc[i]);
    regs_check(r, "a page request");
}

/* A request from input bytes: mostly a built target's device and PASID. */
static void pick_request(struct run *r, siov_sid *sid, struct siov_page_request *q)
{
    uint8_t k = fz_u8(r->in);
    struct fz_builder *b = &r->b;
    *q = (struct siov_page_request){.pasid = SIOV_NO_PASID};
    if (b->ntargets && !(k & 1)) {
        const struct fz_target *t = &b->targets[fz_u8(r->in) % b->ntargets];
        *sid = t->sid;
        q->pasid = (k & 2) ? t->pasid : SIOV_NO_PASID;
        q->addr = t->iova + (t->size ? fz_u32(r->in) % t->size : 0);
    } else {
        *sid = fz_pick_sid(r->in);
        q->pasid = (k & 2) ? fz_pick_pasid(r->in) : SIOV_NO_PASID;
        q->addr = fz_u64(r->in);
    }
    q->access = k >> 2 & 0xF;
    q->prg_index = fz_u16(r->in);
    q->last = (k & 0x40) != 0;
    q->stop_marker = (k & 0x80) && (k & 0x40) && (k & 2);
}

static void request_op(struct run *r, unsigned count)
{
    siov_sid sid;
    struct siov_page_request q;
    pick_request(r, &sid, &q);
    bool last = q.last;
    for (unsigned i = 0; i < count; i++) {
        q.last = i + 1 == count && last;
        request_checked(r, sid, &q);
        q.addr += SIOV_PAGE_SIZE;
    }
}

/* ------------------------------------------------------------ structures */
/* Toggle PRE, DTE, PASIDE, FPD or P in a target's scalable context entry
   (found as the reference walk reads it). */
static void ctx_op(struct run *r)
{
    static const uint64_t bits[5] = {1u << 4, 1u << 2, 1u << 3, 1u << 1, 1u << 0};
    uint8_t k = fz_u8(r->in);
    if (!r->b.ntargets)
        return;
    const struct fz_target *t = &r->b.targets[(k >> 3) % r->b.ntargets];
    struct ref_result ref;
    ref_translate(&r->u->ref, t->sid, t->pasid, t->iova, SIOV_ACCESS_READ, &ref);
    for (unsigned i = 0; i < ref.nread; i++)
        if (ref.read[i].kind == REF_CTX) {
            uint64_t gpa = ref.read[i].gpa;
            fz_w64(r->u->m, gpa, fz_r64(r->u->m, gpa) ^ bits[(k & 7) % 5]);
            return;
        }
}

/* PRE and DTE in every target's context entry (and P kept). */
static void enable_pre(struct run *r)
{
    for (unsigned n = 0; n < r->b.ntargets; n++) {
        const struct fz_target *t = &r->b.targets[n];
        struct ref_result ref;
        ref_translate(&r->u->ref, t->sid, t->pasid, t->iova, SIOV_ACCESS_READ, &ref);
        for (unsigned i = 0; i < ref.nread; i++)
            if (ref.read[i].kind == REF_CTX && !ref.legacy)
                fz_w64(r->u->m, ref.read[i].gpa, fz_r64(r->u->m, ref.read[i].gpa) | 1u << 4 | 1u << 2);
    }
}

static void root_op(struct run *r)
{
    uint8_t k = fz_u8(r->in);
    fz_unit_root(r->u, r->u->root, k & 3, !(k & 4));
}

/* The harness's own bytes after the configuration: own (bit 0: no ECAP.PRS)
   and the queue's byte. */
struct own_bytes {
    uint8_t own, qbyte;
};

static void own_config(struct fz_in *in, struct siov_iommu_config *cfg, void *opaque)
{
    struct own_bytes *o = opaque;
    o->own = fz_u8(in);
    o->qbyte = fz_u8(in);
    cfg->page_requests = !(o->own & 1);
    cfg->msi = on_msi;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct own_bytes ob;
    struct fz_builder b;
    struct fz_unit *u = fz_start(&in, own_config, &ob, &b);
    if (!u)
        return 0;
    uint8_t own = ob.own, qbyte = ob.qbyte;
    static struct outlog log;
    the_log = &log;
    memset(&log, 0, sizeof log);
    struct run *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->u = u;
    r->in = &in;
    r->b = b;
    r->prs = (siov_mmio_read(u->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_PRS) != 0;
    r->s.pectl = 0x80000000u; /* reset: IM=1 (facts 15.1) */
    regs_check(r, "reset");
    siov_iommu_add_notifier(u->iommu, on_event, NULL);
    for (unsigned n = fz_u8(&in) % 5; n; n--)
        fz_template(&r->b);
    if (!(own & 2))
        enable_pre(r);
    for (unsigned i = 0; i < r->b.ntargets; i++)
        port_for(r, r->b.targets[i].sid);
    unsigned msi = 0;
    uint64_t pqa = (uint64_t)(qbyte % FZ_PAGES) << SIOV_PAGE_SHIFT | (qbyte >> 6 & 1);
    siov_mmio_write(u->iommu, SIOV_REG_PQA, pqa, 8);
    if (r->prs)
        s_write(r, 2, pqa, &msi);
    if (own & 4) {
        siov_mmio_write(u->iommu, SIOV_REG_PECTL, 0, 4);
        if (r->prs)
            s_write(r, 4, 0, &msi);
    }
    for (unsigned n = 0; in.n && n < MAX_OPS; n++) {
        uint8_t op = fz_u8(&in);
        if (getenv("FZ_TRACE"))
            fprintf(stderr, "op %u (%u), %zu bytes left\n", op, op & 7, in.n);
        switch (op & 7) {
        case 0:
        case 1: request_op(r, 1); break;
        case 2: request_op(r, 1 + (op >> 3) % 6); break;
        case 3: ctx_op(r); break;
        case 4:
        case 5: reg_op(r); break;
        case 6: root_op(r); break;
        default: {
            uint32_t q = fz_u32(&in) % (FZ_TABLE_PAGES * 512);
            fz_w64(u->m, (uint64_t)q * 8, fz_u64(&in));
            break;
        }
        }
    }
    fz_stop(u);
    free(r);
    return 0;
}

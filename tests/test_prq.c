/* Page requests in the model (src/model/page_request.c, prq.c, the 0x9
   descriptor in inval.c): the descriptor's bytes against the spec's layout,
   field by field; the queue's wrap; overflow with and without last-in-group
   and the unit's own answers; the page request event (PRS, PECTL, the MSI);
   the registers' widths, reserved bits and absence without ECAP.PRS; every
   Table 30 refusal with its fault record and Invalid Request answer; the
   implicit invalidation of Table 27 for each PGTT; page group responses
   reaching ports in queue order with device-TLB invalidations; inv-wait PD;
   the ATC's page-response callback; and the counters. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inv_queue.h"
#include "testlib.h"

#define SID SIOV_SID(0, 3, 0)
#define SID2 SIOV_SID(0, 4, 0)
#define SID_LEGACY SIOV_SID(0, 5, 0)
#define PASID 5u
#define PASID2 6u
#define DID 0x11
#define DID2 0x12
#define PRQ_GPA (24ull << 20)  /* the page request queue (up to 8 pages) */
#define STATUS (23ull << 20)   /* inv-wait status words */
#define DATA TL_DATA_BASE
#define PEADDR 0xFEE01000u
#define PEDATA 0x4321u
#define RW (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE)

/* --------------------------------------------------------------- ports */
#define LOG_MAX 64
struct ev {
    bool response; /* else a device-TLB invalidation */
    siov_sid sid;
    uint32_t pasid;
    uint16_t prgi;
    unsigned code;
};
struct port_log {
    struct siov_iommu *iommu;
    unsigned n;
    struct ev e[LOG_MAX];
    /* on a device-TLB invalidation: send these page requests, then complete */
    unsigned send_before_complete;
    siov_fault sent[4];
};

static void port_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    struct port_log *l = opaque;
    assert_true(l->n < LOG_MAX);
    l->e[l->n++] = (struct ev){true, sid, pasid, prgi, code};
}

static void port_devtlb(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                        unsigned itag)
{
    (void)addr, (void)size, (void)global;
    struct port_log *l = opaque;
    assert_true(l->n < LOG_MAX);
    l->e[l->n++] = (struct ev){false, sid, pasid, 0, 0};
    for (unsigned i = 0; i < l->send_before_complete; i++) {
        struct siov_page_request r = {PASID, DATA + 0x100000 + i * 0x1000, SIOV_ACCESS_READ, (uint16_t)(40 + i),
                                      true, false};
        l->sent[i] = siov_page_request(l->iommu, sid, &r);
    }
    siov_devtlb_complete(l->iommu, sid, itag);
}

static const struct siov_device_ops port_ops = {port_devtlb, port_response};

/* ---------------------------------------------------------------- setup */
struct fx {
    struct tl *t;
    struct tl_msi_log msi;
    uint64_t ctx, dir, ctx2, dir2;
    uint64_t fl_root, sl_root;
    uint64_t pe_gpa;      /* PASID's entry under SID */
};

static uint32_t rd32(struct fx *f, uint64_t off) { return (uint32_t)siov_mmio_read(f->t->iommu, off, 4); }
static uint64_t rd64(struct fx *f, uint64_t off) { return siov_mmio_read(f->t->iommu, off, 8); }
static void wr32(struct fx *f, uint64_t off, uint32_t v) { siov_mmio_write(f->t->iommu, off, v, 4); }
static void wr64(struct fx *f, uint64_t off, uint64_t v) { siov_mmio_write(f->t->iommu, off, v, 8); }

/* The queue at PRQ_GPA of 2^pqs pages, PQH = PQT = at, the event's message set. */
static void prq_setup(struct fx *f, unsigned pqs, uint64_t at)
{
    wr64(f, SIOV_REG_PQH, at);
    wr64(f, SIOV_REG_PQT, at);
    wr64(f, SIOV_REG_PQA, PRQ_GPA | pqs);
    wr32(f, SIOV_REG_PEDATA, PEDATA);
    wr32(f, SIOV_REG_PEADDR, PEADDR);
}

/* The context entry of sid as tl_sm_context_default wrote it, PRE added when pre. */
static uint64_t context_with(struct fx *f, siov_sid sid, uint64_t dir, bool pre)
{
    uint64_t qw0 = SIOV_SCE0_P | SIOV_SCE0_PASIDE | SIOV_SCE0_DTE | siov_set(0, SIOV_SCE0_PDTS, 7) | dir;
    return tl_sm_context(f->t, sid, qw0 | (pre ? SIOV_SCE0_PRE : 0), 0);
}

/* A scalable unit: SID with PRE (and DTE), SID2 without; each with RID_PASID
   0 second-level (DID2) and PASID first-level (DID); the queue one page at 0. */
static struct fx *fx_new(void)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    struct siov_iommu_config cfg = tl_config_msi(&f->msi);
    f->t = tl_new(&cfg);
    tl_enable(f->t, SIOV_TTM_SCALABLE);
    f->dir = tl_sm_context_default(f->t, SID, 0);
    f->ctx = context_with(f, SID, f->dir, true);
    f->dir2 = tl_sm_context_default(f->t, SID2, 0);
    f->ctx2 = context_with(f, SID2, f->dir2, false);
    f->fl_root = tl_page(f->t);
    f->sl_root = tl_page(f->t);
    uint64_t pe[8];
    tl_pe_sl(pe, DID2, f->sl_root, SIOV_AW_4LVL);
    tl_pasid_entry(f->t, f->dir, 0, pe);
    tl_pasid_entry(f->t, f->dir2, 0, pe);
    tl_pe_fl(pe, DID, f->fl_root, SIOV_FLPM_4LVL);
    f->pe_gpa = tl_pasid_entry(f->t, f->dir, PASID, pe);
    tl_pasid_entry(f->t, f->dir2, PASID, pe);
    prq_setup(f, 0, 0);
    return f;
}

static void fx_free(struct fx *f)
{
    tl_free(f->t);
    free(f);
}

static struct siov_page_request preq(uint32_t pasid, uint64_t addr, unsigned access, uint16_t prgi, bool last)
{
    return (struct siov_page_request){pasid, addr, access, prgi, last, false};
}

/* The 32 bytes at queue offset off, as four little-endian qwords. */
static void desc_at(struct fx *f, uint64_t off, uint64_t qw[4])
{
    for (int i = 0; i < 4; i++)
        qw[i] = tl_r64(f->t, PRQ_GPA + off + 8 * i);
}

static struct port_log *attach_log(struct fx *f, siov_sid sid)
{
    struct port_log *l = calloc(1, sizeof(*l));
    assert_non_null(l);
    l->iommu = f->t->iommu;
    assert_int_equal(siov_device_port(f->t->iommu, sid, &port_ops, l), 0);
    return l;
}

/* ----------------------------------------------------- the descriptor */
/* Every field of Fig 7-1 (rev 4+), written with literal bit positions. */
static void test_descriptor_layout_literal(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    uint64_t qw[4];
    /* PASID, read+write+execute+privileged, last, group 0x1A5, a high page */
    struct siov_page_request r = preq(PASID, 0x0000123456789ABCull, RW | SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV, 0x1A5,
                                      true);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    desc_at(f, 0, qw);
    uint64_t want0 = 0x01ull                 /* 7:0 type 1 */
                     | 1ull << 8             /* PP */
                     | (uint64_t)SID << 16   /* 31:16 RID */
                     | (uint64_t)PASID << 32 /* 51:32 PASID */
                     | 1ull << 52            /* EXR */
                     | 1ull << 53;           /* PMR */
    uint64_t want1 = 1ull << 0               /* RDR */
                     | 1ull << 1             /* WRR */
                     | 1ull << 2             /* LPIG */
                     | 0x1A5ull << 3         /* 75:67 PRGI */
                     | 0x0000123456789000ull; /* 127:76 address, page aligned */
    assert_int_equal(qw[0], want0);
    assert_int_equal(qw[1], want1);
    assert_int_equal(qw[2], 0); /* 255:128 reserved (private data only in rev 3.x) */
    assert_int_equal(qw[3], 0);
    /* no PASID: PP=0, PASID field 0, and no EXR/PMR (they travel in the PASID prefix) */
    r = preq(SIOV_NO_PASID, 0x5000, SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV, 3, false);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    desc_at(f, 32, qw);
    assert_int_equal(qw[0], 0x01ull | (uint64_t)SID << 16);
    assert_int_equal(qw[1], 1ull << 1 | 3ull << 3 | 0x5000);
    /* read only, the largest PASID and group index, page offset dropped */
    r = preq(0xFFFFF, 0xFFFFFFFFFFFFFFFFull, SIOV_ACCESS_READ, 0x1FF, false);
    uint64_t pe[8];
    tl_pe_fl(pe, DID, f->fl_root, SIOV_FLPM_4LVL);
    tl_pasid_entry(f->t, f->dir, 0xFFFFF, pe);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    desc_at(f, 64, qw);
    assert_int_equal(qw[0], 0x01ull | 1ull << 8 | (uint64_t)SID << 16 | 0xFFFFFull << 32);
    assert_int_equal(qw[1], 1ull << 0 | 0x1FFull << 3 | 0xFFFFFFFFFFFFF000ull);
    /* a stop marker: PP, PASID, LPIG, RDR=WRR=0, group and address 0 */
    r = (struct siov_page_request){PASID, 0x7000, SIOV_ACCESS_READ, 9, false, true};
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    desc_at(f, 96, qw);
    assert_int_equal(qw[0], 0x01ull | 1ull << 8 | (uint64_t)SID << 16 | (uint64_t)PASID << 32);
    assert_int_equal(qw[1], 1ull << 2);
    /* a request asking for neither read nor write asks to read (R=W=0 would be a stop marker) */
    r = preq(PASID, 0x8000, 0, 4, true);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    desc_at(f, 128, qw);
    assert_int_equal(qw[1], 1ull << 0 | 1ull << 2 | 4ull << 3 | 0x8000);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 160);
    assert_int_equal(tl_stats(f->t).prq_queued, 5);
    fx_free(f);
}

/* The descriptor decodes back into the request (prq.h's helper). */
static void test_descriptor_decode(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    const struct siov_page_request reqs[] = {
        preq(PASID, 0x123000, RW | SIOV_ACCESS_PRIV, 0x100, true),
        preq(SIOV_NO_PASID, 0x42000, SIOV_ACCESS_READ, 7, false),
        preq(PASID, 0x9000, SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC, 0, false),
        {PASID, 0, 0, 0, true, true},
    };
    for (unsigned i = 0; i < 4; i++)
        assert_int_equal(siov_page_request(f->t->iommu, SID, &reqs[i]), SIOV_OK);
    for (unsigned i = 0; i < 4; i++) {
        uint64_t qw[4];
        desc_at(f, 32 * i, qw);
        siov_sid sid = 0;
        struct siov_page_request got = {0};
        assert_true(siov_prq_desc_decode(qw, &sid, &got));
        assert_int_equal(sid, SID);
        assert_int_equal(got.pasid, reqs[i].pasid);
        assert_int_equal(got.addr, reqs[i].addr);
        assert_int_equal(got.access, reqs[i].access);
        assert_int_equal(got.prg_index, reqs[i].prg_index);
        assert_int_equal(got.last, reqs[i].last);
        assert_int_equal(got.stop_marker, reqs[i].stop_marker);
    }
    uint64_t other[2] = {0x2, 0};
    siov_sid sid = 0;
    struct siov_page_request got = {0};
    assert_false(siov_prq_desc_decode(other, &sid, &got));
    fx_free(f);
}

/* ----------------------------------------------------------- the queue */
static void test_queue_wraps(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    prq_setup(f, 1, 0x2000 - 64); /* 2 pages: the last two slots, then 0 */
    for (unsigned i = 0; i < 3; i++) {
        struct siov_page_request r = preq(PASID, 0x10000 * (i + 1), SIOV_ACCESS_READ, (uint16_t)i, false);
        assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    }
    uint64_t qw[4];
    desc_at(f, 0x2000 - 64, qw);
    assert_int_equal(qw[1] & ~0xFFFull, 0x10000);
    desc_at(f, 0x2000 - 32, qw);
    assert_int_equal(qw[1] & ~0xFFFull, 0x20000);
    desc_at(f, 0, qw);
    assert_int_equal(qw[1] & ~0xFFFull, 0x30000);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 32);
    /* software consumes: PQH = PQT; the queue goes on */
    wr64(f, SIOV_REG_PQH, 32);
    struct siov_page_request r = preq(PASID, 0x40000, SIOV_ACCESS_READ, 3, false);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 64);
    fx_free(f);
}

/* Full: (PQT + 32) mod size == PQH. A request that meets it sets PRO (an
   event), is dropped, and a last one is answered Success by the unit; while
   PRO is set every request is dropped without a new event. */
static void overflow_case(bool last)
{
    struct fx *f = fx_new();
    struct port_log *l = attach_log(f, SID);
    wr32(f, SIOV_REG_PECTL, 0); /* unmasked: events are MSIs */
    wr64(f, SIOV_REG_PQH, 0x40);
    wr64(f, SIOV_REG_PQT, 0x20); /* full: one slot stays empty */
    uint64_t before[4];
    desc_at(f, 0x20, before);
    struct siov_page_request r = preq(PASID, 0x5000, SIOV_ACCESS_WRITE, 0x33, last);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(rd32(f, SIOV_REG_PRS), SIOV_PRS_PRO);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 0x20);
    uint64_t after[4];
    desc_at(f, 0x20, after);
    assert_memory_equal(before, after, sizeof(before)); /* nothing written */
    assert_int_equal(f->msi.n, 1);
    assert_int_equal(f->msi.addr, PEADDR);
    assert_int_equal(f->msi.data, PEDATA);
    assert_int_equal(l->n, last ? 1 : 0);
    if (last) {
        assert_true(l->e[0].response);
        assert_int_equal(l->e[0].sid, SID);
        assert_int_equal(l->e[0].pasid, PASID);
        assert_int_equal(l->e[0].prgi, 0x33);
        assert_int_equal(l->e[0].code, SIOV_PRQ_SUCCESS);
    }
    /* software makes room, but PRO is still set: dropped, no new event */
    wr64(f, SIOV_REG_PQH, 0x20);
    r.prg_index = 0x34;
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 0x20);
    assert_int_equal(f->msi.n, 1);
    assert_int_equal(l->n, last ? 2 : 0);
    if (last)
        assert_int_equal(l->e[1].prgi, 0x34);
    struct siov_stats st = tl_stats(f->t);
    assert_int_equal(st.prq_overflowed, 2);
    assert_int_equal(st.prq_queued, 0);
    assert_int_equal(st.prq_resp_success, last ? 2 : 0);
    assert_int_equal(st.prq_resp_unit, last ? 2 : 0);
    assert_int_equal(st.faults, 0);
    /* PRO cleared: queued again, PPR set with a new event */
    wr32(f, SIOV_REG_PRS, SIOV_PRS_PRO);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 0x40);
    assert_int_equal(rd32(f, SIOV_REG_PRS), SIOV_PRS_PPR);
    assert_int_equal(f->msi.n, 2);
    assert_int_equal(l->n, last ? 2 : 0); /* queued: software answers it */
    siov_device_port(f->t->iommu, SID, NULL, NULL);
    free(l);
    fx_free(f);
}

static void test_overflow_last_in_group(void **state)
{
    (void)state;
    overflow_case(true);
}

static void test_overflow_not_last(void **state)
{
    (void)state;
    overflow_case(false);
}

/* A stop marker that meets a full queue is dropped silently (ECAP.SMS): no
   PRO, no event, no answer. */
static void test_stop_marker_dropped_silently(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct port_log *l = attach_log(f, SID);
    wr32(f, SIOV_REG_PECTL, 0);
    wr64(f, SIOV_REG_PQH, 0x20);
    struct siov_page_request sm = {PASID, 0, 0, 0, true, true};
    assert_int_equal(siov_page_request(f->t->iommu, SID, &sm), SIOV_OK);
    assert_int_equal(rd32(f, SIOV_REG_PRS), 0);
    assert_int_equal(f->msi.n, 0);
    assert_int_equal(l->n, 0);
    assert_int_equal(tl_stats(f->t).prq_overflowed, 1);
    /* refused (PRE clear on SID2): no record, no answer */
    assert_int_equal(siov_page_request(f->t->iommu, SID2, &sm), SIOV_FAULT_SCT_8);
    assert_int_equal(tl_fault_records(f->t), 0);
    /* without PASID it is malformed */
    sm.pasid = SIOV_NO_PASID;
    assert_int_equal(siov_page_request(f->t->iommu, SID, &sm), SIOV_ERR_BUS);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 0);
    siov_device_port(f->t->iommu, SID, NULL, NULL);
    free(l);
    fx_free(f);
}

/* The queue's memory cannot be written: dropped, Success for a last request. */
static void test_unwritable_queue(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct port_log *l = attach_log(f, SID);
    assert_int_equal(siov_mem_fail_range(f->t->mem, PRQ_GPA, 4096, SIOV_MEM_FAIL_WRITE), 0);
    struct siov_page_request r = preq(PASID, 0x5000, SIOV_ACCESS_READ, 1, true);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_ERR_BUS);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 0);
    assert_int_equal(rd32(f, SIOV_REG_PRS), 0);
    assert_int_equal(l->n, 1);
    assert_int_equal(l->e[0].code, SIOV_PRQ_SUCCESS);
    assert_int_equal(tl_stats(f->t).prq_write_errors, 1);
    assert_int_equal(siov_mem_fail_range(f->t->mem, 0, 0, 0), 0);
    siov_device_port(f->t->iommu, SID, NULL, NULL);
    free(l);
    fx_free(f);
}

/* ----------------------------------------------------------- the event */
static void test_event_masked(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    assert_int_equal(rd32(f, SIOV_REG_PECTL), 0x80000000u); /* reset: IM=1, IP=0 */
    struct siov_page_request r = preq(PASID, 0x5000, SIOV_ACCESS_READ, 1, false);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(rd32(f, SIOV_REG_PRS), 1);            /* PPR */
    assert_int_equal(rd32(f, SIOV_REG_PECTL), 0xC0000000u); /* IM, IP */
    assert_int_equal(f->msi.n, 0);
    /* IP clears once software clears PPR (and PRO) */
    wr32(f, SIOV_REG_PRS, 1);
    assert_int_equal(rd32(f, SIOV_REG_PRS), 0);
    assert_int_equal(rd32(f, SIOV_REG_PECTL), 0x80000000u);
    /* a new event; clearing IM then sends it and clears IP */
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(rd32(f, SIOV_REG_PECTL), 0xC0000000u);
    wr32(f, SIOV_REG_PECTL, 0x80000000u); /* IM written 1 again: the event stays pending */
    assert_int_equal(rd32(f, SIOV_REG_PECTL), 0xC0000000u);
    assert_int_equal(f->msi.n, 0);
    wr32(f, SIOV_REG_PECTL, 0);
    assert_int_equal(rd32(f, SIOV_REG_PECTL), 0);
    assert_int_equal(f->msi.n, 1);
    assert_int_equal(f->msi.addr, PEADDR);
    assert_int_equal(f->msi.data, PEDATA);
    /* IP is read-only: writing it does nothing */
    wr32(f, SIOV_REG_PECTL, 0x40000000u);
    assert_int_equal(rd32(f, SIOV_REG_PECTL), 0);
    fx_free(f);
}

static void test_event_unmasked(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    wr32(f, SIOV_REG_PEUADDR, 0x1);
    wr32(f, SIOV_REG_PECTL, 0);
    struct siov_page_request r = preq(PASID, 0x5000, SIOV_ACCESS_READ, 1, false);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(f->msi.n, 1);
    assert_int_equal(f->msi.addr, 0x100000000ull | PEADDR);
    assert_int_equal(rd32(f, SIOV_REG_PECTL), 0); /* sent: IP stays clear */
    /* PPR already set: no new event for the next requests */
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(f->msi.n, 1);
    /* PRO set while PPR is set: no event either */
    wr64(f, SIOV_REG_PQH, 0x60);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(rd32(f, SIOV_REG_PRS), SIOV_PRS_PPR | SIOV_PRS_PRO);
    assert_int_equal(f->msi.n, 1);
    /* clearing one of the two is not enough for a new event */
    wr32(f, SIOV_REG_PRS, SIOV_PRS_PPR);
    assert_int_equal(rd32(f, SIOV_REG_PRS), SIOV_PRS_PRO);
    wr64(f, SIOV_REG_PQH, rd64(f, SIOV_REG_PQT));
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK); /* PRO: dropped */
    assert_int_equal(f->msi.n, 1);
    /* both clear: PRO set by a full queue is an event of its own */
    wr32(f, SIOV_REG_PRS, SIOV_PRS_PRO);
    wr64(f, SIOV_REG_PQH, rd64(f, SIOV_REG_PQT) + 32);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(rd32(f, SIOV_REG_PRS), SIOV_PRS_PRO);
    assert_int_equal(f->msi.n, 2);
    fx_free(f);
}

/* --------------------------------------------------------- the registers */
static void test_registers(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    wr64(f, SIOV_REG_PQH, ~0ull);
    assert_int_equal(rd64(f, SIOV_REG_PQH), 0x7FFE0); /* 18:5 */
    wr64(f, SIOV_REG_PQT, ~0ull);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 0x7FFE0);
    wr64(f, SIOV_REG_PQA, ~0ull);
    assert_int_equal(rd64(f, SIOV_REG_PQA), ~0ull & ~0xFF8ull); /* 11:3 reserved */
    /* 4-byte halves of the 64-bit registers */
    wr32(f, SIOV_REG_PQA + 4, 0x12);
    wr32(f, SIOV_REG_PQA, 0x345007);
    assert_int_equal(rd64(f, SIOV_REG_PQA), 0x1200345007ull);
    assert_int_equal(rd32(f, SIOV_REG_PQA + 4), 0x12);
    wr32(f, SIOV_REG_PEDATA, 0xFFFFFFFF);
    assert_int_equal(rd32(f, SIOV_REG_PEDATA), 0xFFFF);
    wr32(f, SIOV_REG_PEADDR, 0xFFFFFFFF);
    assert_int_equal(rd32(f, SIOV_REG_PEADDR), 0xFFFFFFFC);
    wr32(f, SIOV_REG_PEUADDR, 0xFFFFFFFF);
    assert_int_equal(rd32(f, SIOV_REG_PEUADDR), 0xFFFFFFFF);
    wr32(f, SIOV_REG_PRS, ~0u); /* RW1C: nothing set, nothing to clear */
    assert_int_equal(rd32(f, SIOV_REG_PRS), 0);
    wr32(f, SIOV_REG_PECTL, ~0u);
    assert_int_equal(rd32(f, SIOV_REG_PECTL), 0x80000000u); /* 29:0 RsvdP read 0, IP read-only */
    /* 8-byte accesses of the 32-bit registers are ignored */
    siov_mmio_write(f->t->iommu, SIOV_REG_PEDATA, 0x77, 8);
    assert_int_equal(rd32(f, SIOV_REG_PEDATA), 0xFFFF);
    fx_free(f);
    /* without ECAP.PRS the registers are RsvdZ */
    struct tl_msi_log m;
    struct siov_iommu_config cfg = tl_config_msi(&m);
    cfg.page_requests = false;
    struct tl *t = tl_new(&cfg);
    const uint64_t regs[] = {SIOV_REG_PQH, SIOV_REG_PQT, SIOV_REG_PQA, SIOV_REG_PRS,
                             SIOV_REG_PECTL, SIOV_REG_PEDATA, SIOV_REG_PEADDR, SIOV_REG_PEUADDR};
    for (unsigned i = 0; i < 8; i++) {
        siov_mmio_write(t->iommu, regs[i], 0x1000, 4);
        assert_int_equal(siov_mmio_read(t->iommu, regs[i], 4), 0);
    }
    struct siov_page_request r = preq(PASID, 0x5000, SIOV_ACCESS_READ, 1, true);
    assert_int_equal(siov_page_request(t->iommu, SID, &r), SIOV_ERR_BUS);
    tl_free(t);
}

/* --------------------------------------------------------- refusals */
/* What one refused request leaves: its fault, the record (literal FRCD
   layout: FR, SID, T1=0, T2=1, AT=00, PP/PV, PRIV/EXE, FI = the page) or
   none, and an Invalid Request answer for a last request only. */
struct refusal {
    const char *what;
    siov_sid sid;
    uint32_t pasid;
    siov_fault want;
    bool recorded;
};

/* The one record holding a fault (records fill in ring order). */
static unsigned pending_record(struct fx *f)
{
    unsigned nfr = (unsigned)siov_get(rd64(f, SIOV_REG_CAP), SIOV_CAP_NFR) + 1;
    for (unsigned i = 0; i < nfr; i++)
        if (tl_frcd(f->t, i, 1) & SIOV_FRCD1_F)
            return i;
    fail_msg("no pending fault record");
    return 0;
}

static void expect_refusal(struct fx *f, struct port_log *l, const struct refusal *c, bool last)
{
    unsigned n0 = l->n, rec0 = tl_fault_records(f->t);
    uint64_t pqt = rd64(f, SIOV_REG_PQT);
    struct siov_page_request r = preq(c->pasid, 0xABC000, SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, 0x55, last);
    siov_fault got = siov_page_request(f->t->iommu, c->sid, &r);
    if (got != c->want)
        fail_msg("%s: got %s, want %s", c->what, siov_fault_name(got), siov_fault_name(c->want));
    assert_int_equal(rd64(f, SIOV_REG_PQT), pqt); /* nothing queued */
    if (tl_fault_records(f->t) != rec0 + (c->recorded ? 1 : 0))
        fail_msg("%s: %u records, want %u", c->what, tl_fault_records(f->t), rec0 + (c->recorded ? 1 : 0));
    if (c->recorded) {
        unsigned i = pending_record(f);
        uint64_t lo = tl_frcd(f->t, i, 0), hi = tl_frcd(f->t, i, 1);
        bool pp = c->pasid != SIOV_NO_PASID;
        assert_int_equal(lo, 0xABC000);
        uint64_t want = 1ull << 63                 /* F */
                        | 0ull << 62               /* T1 = 0 */
                        | 0ull << 60               /* AT = 00 */
                        | (uint64_t)(pp ? c->pasid : 0) << 40
                        | (uint64_t)c->want << 32  /* FR */
                        | (uint64_t)pp << 31       /* PP */
                        | 0ull << 30               /* EXE */
                        | (uint64_t)pp << 29       /* PRIV (with a PASID only) */
                        | 1ull << 28               /* T2 = 1: a page request */
                        | c->sid;
        if (hi != want)
            fail_msg("%s: FRCD hi 0x%llx, want 0x%llx", c->what, (unsigned long long)hi, (unsigned long long)want);
        struct siov_fault_record fr;
        assert_int_equal(siov_iommu_fault_record(f->t->iommu, i, &fr), 1);
        assert_int_equal(fr.access & (SIOV_ACCESS_PAGE_REQ | RW), SIOV_ACCESS_PAGE_REQ);
    }
    unsigned want_n = n0 + (last ? 1 : 0);
    if (l->n != want_n)
        fail_msg("%s: %u responses, want %u", c->what, l->n, want_n);
    if (last) {
        const struct ev *e = &l->e[l->n - 1];
        assert_true(e->response);
        assert_int_equal(e->sid, c->sid);
        assert_int_equal(e->pasid, c->pasid);
        assert_int_equal(e->prgi, 0x55);
        assert_int_equal(e->code, SIOV_PRQ_INVALID);
    }
    siov_iommu_clear_faults(f->t->iommu);
}

/* The context entries changed: the context cache is invalidated globally
   (register-based, the queue is off here). */
static void cc_flush(struct fx *f)
{
    wr64(f, SIOV_REG_CCMD, SIOV_CCMD_ICC | siov_set(0, SIOV_CCMD_CIRG, SIOV_INV_GRAN_GLOBAL));
}

/* Each condition of Table 30's page-request column the test can set up. */
static void test_refusals(void **state)
{
    (void)state;
    for (int last = 0; last < 2; last++) {
        struct fx *f = fx_new();
        struct port_log *l = attach_log(f, SID), *l2 = attach_log(f, SID2);
        struct refusal c = {"PRE=0", SID2, PASID, SIOV_FAULT_SCT_8, true};
        expect_refusal(f, l2, &c, last);
        c = (struct refusal){"PRE=0 without PASID", SID2, SIOV_NO_PASID, SIOV_FAULT_SCT_8, true};
        expect_refusal(f, l2, &c, last);
        c = (struct refusal){"PASID equal to RID_PASID", SID, 0, SIOV_FAULT_SCT_9, true};
        expect_refusal(f, l, &c, last);
        c = (struct refusal){"PASID entry not present", SID, PASID + 2, SIOV_FAULT_SPT_2, true};
        expect_refusal(f, l, &c, last);
        c = (struct refusal){"PASID directory entry not present", SID, 0x4000, SIOV_FAULT_SPD_2, true};
        expect_refusal(f, l, &c, last);
        /* PASIDE=0 */
        uint64_t qw0 = tl_r64(f->t, f->ctx);
        tl_w64(f->t, f->ctx, qw0 & ~SIOV_SCE0_PASIDE);
        cc_flush(f);
        c = (struct refusal){"PASIDE=0", SID, PASID, SIOV_FAULT_SCT_6, true};
        expect_refusal(f, l, &c, last);
        /* PDTS=0: 2^13 PASIDs */
        tl_w64(f->t, f->ctx, siov_set(qw0, SIOV_SCE0_PDTS, 0));
        cc_flush(f);
        c = (struct refusal){"PASID beyond PDTS", SID, 0x2000, SIOV_FAULT_SCT_7, true};
        expect_refusal(f, l, &c, last);
        /* context not present, with and without FPD */
        tl_w64(f->t, f->ctx, qw0 & ~SIOV_SCE0_P);
        cc_flush(f);
        c = (struct refusal){"context not present", SID, PASID, SIOV_FAULT_SCT_2, true};
        expect_refusal(f, l, &c, last);
        tl_w64(f->t, f->ctx, (qw0 & ~SIOV_SCE0_P) | SIOV_SCE0_FPD);
        cc_flush(f);
        c = (struct refusal){"context not present, FPD", SID, PASID, SIOV_FAULT_SCT_2, false};
        expect_refusal(f, l, &c, last);
        tl_w64(f->t, f->ctx, qw0);
        cc_flush(f);
        c = (struct refusal){"PASID above 20 bits", SID, 1u << 20, SIOV_FAULT_SGN_10, false};
        expect_refusal(f, l, &c, last);
        siov_device_port(f->t->iommu, SID, NULL, NULL);
        siov_device_port(f->t->iommu, SID2, NULL, NULL);
        free(l);
        free(l2);
        fx_free(f);
    }
}

/* Refusals that need the unit in another state: a reserved bit of the
   PASID entry, legacy mode (RTA.3), abort-DMA mode (RTA.4, not recorded),
   translation off (an unsupported request). */
static void test_refusals_by_mode(void **state)
{
    (void)state;
    for (int last = 0; last < 2; last++) {
        struct fx *f = fx_new();
        struct port_log *l = attach_log(f, SID);
        tl_w64(f->t, f->pe_gpa + 8 * 3, 1);
        struct refusal c = {"PASID entry reserved bit", SID, PASID, SIOV_FAULT_SPT_3, true};
        expect_refusal(f, l, &c, last);
        tl_w64(f->t, f->pe_gpa + 8 * 3, 0);
        /* the root entry's upper half not present (devfn >= 128) */
        c = (struct refusal){"root half not present", SIOV_SID(0, 0x1F, 7), PASID, SIOV_FAULT_SRT_2, true};
        struct port_log *lh = attach_log(f, c.sid);
        expect_refusal(f, lh, &c, last);
        siov_device_port(f->t->iommu, c.sid, NULL, NULL);
        free(lh);
        /* abort-DMA mode */
        wr64(f, SIOV_REG_RTADDR, f->t->root | siov_set(0, SIOV_RTADDR_TTM, SIOV_TTM_ABORT));
        tl_gcmd(f->t, SIOV_GCMD_SRTP, 0);
        c = (struct refusal){"abort-DMA mode", SID, PASID, SIOV_FAULT_RTA_4, false};
        expect_refusal(f, l, &c, last);
        /* legacy mode */
        wr64(f, SIOV_REG_RTADDR, f->t->root);
        tl_gcmd(f->t, SIOV_GCMD_SRTP, 0);
        c = (struct refusal){"legacy mode", SID, SIOV_NO_PASID, SIOV_FAULT_RTA_3, true};
        expect_refusal(f, l, &c, last);
        /* translation off: no fault, answered Invalid Request */
        tl_gcmd(f->t, 0, SIOV_GCMD_TE);
        c = (struct refusal){"translation off", SID, PASID, SIOV_ERR_BUS, false};
        expect_refusal(f, l, &c, last);
        struct siov_stats st = tl_stats(f->t);
        assert_int_equal(st.prq_refused, 5);
        assert_int_equal(st.prq_resp_invalid, last ? 5 : 0);
        assert_int_equal(st.prq_resp_unit, last ? 5 : 0);
        assert_int_equal(st.prq_queued, 0);
        siov_device_port(f->t->iommu, SID, NULL, NULL);
        free(l);
        fx_free(f);
    }
}

/* NULL arguments change nothing. */
static void test_misuse(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_page_request r = preq(PASID, 0x5000, SIOV_ACCESS_READ, 1, true);
    assert_int_equal(siov_page_request(NULL, SID, &r), SIOV_ERR_BUS);
    assert_int_equal(siov_page_request(f->t->iommu, SID, NULL), SIOV_ERR_BUS);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 0);
    assert_int_equal(rd32(f, SIOV_REG_PRS), 0);
    fx_free(f);
}

/* ------------------------------------------- the implicit invalidation */
struct notes {
    unsigned n;
    struct siov_inval_event ev[8];
};

static void note(void *opaque, const struct siov_inval_event *ev)
{
    struct notes *n = opaque;
    if (n->n < 8)
        n->ev[n->n] = *ev;
    n->n++;
}

/* A cached translation of page a goes stale (its leaf now points elsewhere,
   nothing invalidated); a page request for a makes the unit drop it, and
   (page-selective granularities) only it. */
static void implicit_case(unsigned pgtt)
{
    struct fx *f = fx_new();
    struct notes nt = {0};
    assert_int_equal(siov_iommu_add_notifier(f->t->iommu, note, &nt), 0);
    uint64_t pe[8], root = tl_page(f->t), sl = tl_page(f->t);
    bool fl = pgtt == SIOV_PGTT_FL || pgtt == SIOV_PGTT_NESTED;
    switch (pgtt) {
    case SIOV_PGTT_FL: tl_pe_fl(pe, DID, root, SIOV_FLPM_4LVL); break;
    case SIOV_PGTT_SL: tl_pe_sl(pe, DID, root, SIOV_AW_4LVL); break;
    case SIOV_PGTT_NESTED: tl_pe_nested(pe, DID, root, SIOV_FLPM_4LVL, sl, SIOV_AW_4LVL); break;
    default: tl_pe_pt(pe, DID); break;
    }
    tl_pasid_entry(f->t, f->dir, PASID, pe);
    const uint64_t a = 0x400000, b = 0x401000;
    uint64_t leaf_a = 0, leaf_b = 0;
    if (pgtt != SIOV_PGTT_PT) {
        uint64_t perm = fl ? TL_FL_URW : TL_SL_RW;
        if (pgtt == SIOV_PGTT_NESTED) /* the second level maps guest memory 1:1 */
            for (uint64_t g = 0; g < (64ull << 20); g += 2ull << 20)
                tl_map(f->t, sl, 4, false, g, g, 2ull << 20, TL_SL_RW, TL_SL_RW);
        leaf_a = tl_map(f->t, root, 4, fl, a, DATA, 4096, perm, perm);
        leaf_b = tl_map(f->t, root, 4, fl, b, DATA + 0x1000, 4096, perm, perm);
    }
    struct siov_xlate x;
    assert_int_equal(siov_translate(f->t->iommu, SID, PASID, a, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(siov_translate(f->t->iommu, SID, PASID, b, SIOV_ACCESS_READ, &x), SIOV_OK);
    if (leaf_a) { /* both leaves move: stale until invalidated */
        tl_w64(f->t, leaf_a, tl_r64(f->t, leaf_a) + 0x10000);
        tl_w64(f->t, leaf_b, tl_r64(f->t, leaf_b) + 0x10000);
        assert_int_equal(siov_translate(f->t->iommu, SID, PASID, a, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, DATA);
    }
    struct siov_page_request r = preq(PASID, a, SIOV_ACCESS_WRITE, 1, true);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(nt.n, 1);
    const struct siov_inval_event *ev = &nt.ev[0];
    assert_int_equal(ev->did, DID);
    assert_int_equal(ev->sid, 0); /* IOTLB scopes name no source id */
    switch (pgtt) {
    case SIOV_PGTT_FL:
        assert_int_equal(ev->kind, SIOV_INV_PIOTLB);
        assert_int_equal(ev->granularity, SIOV_INV_G_RANGE);
        assert_int_equal(ev->pasid, PASID);
        break;
    case SIOV_PGTT_NESTED:
        assert_int_equal(ev->kind, SIOV_INV_IOTLB);
        assert_int_equal(ev->granularity, SIOV_INV_G_DOMAIN);
        assert_int_equal(ev->addr, 0);
        assert_int_equal(ev->size, 0);
        break;
    default:
        assert_int_equal(ev->kind, SIOV_INV_IOTLB);
        assert_int_equal(ev->granularity, SIOV_INV_G_RANGE);
        assert_int_equal(ev->pasid, SIOV_NO_PASID);
        break;
    }
    if (ev->granularity == SIOV_INV_G_RANGE) {
        assert_int_equal(ev->addr, a);
        assert_int_equal(ev->size, 4096);
    }
    if (leaf_a) {
        assert_int_equal(siov_translate(f->t->iommu, SID, PASID, a, SIOV_ACCESS_READ, &x), SIOV_OK);
        assert_int_equal(x.addr, DATA + 0x10000); /* walked again */
        assert_int_equal(siov_translate(f->t->iommu, SID, PASID, b, SIOV_ACCESS_READ, &x), SIOV_OK);
        /* page-selective: b keeps its stale translation; domain-selective (nested): b walks again */
        assert_int_equal(x.addr, pgtt == SIOV_PGTT_NESTED ? DATA + 0x11000 : DATA + 0x1000);
    }
    /* a refused request invalidates nothing */
    r.pasid = PASID + 2; /* same PASID table, no entry */
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_FAULT_SPT_2);
    assert_int_equal(nt.n, 1);
    fx_free(f);
}

static void test_implicit_invalidation(void **state)
{
    (void)state;
    const unsigned pgtts[] = {SIOV_PGTT_FL, SIOV_PGTT_SL, SIOV_PGTT_NESTED, SIOV_PGTT_PT};
    for (unsigned i = 0; i < 4; i++)
        implicit_case(pgtts[i]);
}

/* ---------------------------------------------- page group responses */
static uint32_t q_wait(struct q *q, uint64_t flags) { return q_put_wait(q, STATUS, flags); }

/* A page group response with literal bit positions (Fig 7-2, rev 4+). */
static void q_response(struct q *q, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned rc, uint64_t extra1)
{
    bool pp = pasid != SIOV_NO_PASID;
    uint64_t q0 = 0x9 | (uint64_t)pp << 4 | (uint64_t)rc << 12 | (uint64_t)sid << 16 |
                  (uint64_t)(pp ? pasid : 0) << 32;
    q_put(q, q0, (uint64_t)prgi << 3 | extra1);
}

static void test_group_responses_in_queue_order(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct port_log *l = attach_log(f, SID), *l2 = attach_log(f, SID2);
    struct q q;
    q_init(&q, f->t);
    q_put(&q, siov_dsc_make_type(SIOV_DSC_DEVTLB) | siov_set(0, SIOV_DTLB0_SID, SID), 0);
    q_response(&q, SID, PASID, 0x1AB, SIOV_PRQ_INVALID, 0);
    q_response(&q, SID2, SIOV_NO_PASID, 2, SIOV_PRQ_SUCCESS, 1ull << 2); /* bit 66 is ignored */
    q_put(&q, siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_SID, SID) |
                  siov_set(0, SIOV_PDTLB0_PASID, PASID), 0);
    q_response(&q, SID, PASID2, 0, 0x5, 0); /* a reserved code goes as it is */
    q_response(&q, SID, PASID, 3, SIOV_PRQ_FAILURE, 0);
    uint32_t seq = q_wait(&q, 0);
    q_kick(&q);
    assert_int_equal((uint32_t)tl_r64(f->t, STATUS), seq);
    assert_int_equal(l->n, 5);
    assert_false(l->e[0].response);
    assert_true(l->e[1].response);
    assert_int_equal(l->e[1].sid, SID);
    assert_int_equal(l->e[1].pasid, PASID);
    assert_int_equal(l->e[1].prgi, 0x1AB);
    assert_int_equal(l->e[1].code, SIOV_PRQ_INVALID);
    assert_false(l->e[2].response);
    assert_int_equal(l->e[2].pasid, PASID);
    assert_true(l->e[3].response);
    assert_int_equal(l->e[3].pasid, PASID2);
    assert_int_equal(l->e[3].code, 0x5);
    assert_int_equal(l->e[4].code, SIOV_PRQ_FAILURE);
    assert_int_equal(l->e[4].prgi, 3);
    assert_int_equal(l2->n, 1);
    assert_int_equal(l2->e[0].sid, SID2);
    assert_int_equal(l2->e[0].pasid, SIOV_NO_PASID);
    assert_int_equal(l2->e[0].prgi, 2);
    assert_int_equal(l2->e[0].code, SIOV_PRQ_SUCCESS);
    struct siov_stats st = tl_stats(f->t);
    assert_int_equal(st.prq_resp_success, 1);
    assert_int_equal(st.prq_resp_invalid, 1);
    assert_int_equal(st.prq_resp_failure, 1);
    assert_int_equal(st.prq_resp_reserved, 1);
    assert_int_equal(st.prq_resp_unit, 0);
    /* a response to a sid without a port goes nowhere, and the queue goes on */
    q_response(&q, SIOV_SID(9, 0, 0), 1, 1, 0, 0);
    seq = q_wait(&q, 0);
    q_kick(&q);
    assert_int_equal((uint32_t)tl_r64(f->t, STATUS), seq);
    assert_int_equal(tl_stats(f->t).prq_resp_success, 2);
    siov_device_port(f->t->iommu, SID, NULL, NULL);
    siov_device_port(f->t->iommu, SID2, NULL, NULL);
    free(l);
    free(l2);
    fx_free(f);
}

/* inv-wait PD=1 (ECAP.PDS): the device, told to invalidate, sends its
   outstanding page requests before it completes; once the wait's status is
   written, they are in the page request queue. */
static void test_drain_wait(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct port_log *l = attach_log(f, SID);
    l->send_before_complete = 2;
    struct q q;
    q_init(&q, f->t);
    q_put(&q, siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_SID, SID) |
                  siov_set(0, SIOV_PDTLB0_PASID, PASID), 0);
    uint32_t seq = q_wait(&q, SIOV_WAIT0_PD);
    q_kick(&q);
    assert_int_equal((uint32_t)tl_r64(f->t, STATUS), seq);
    assert_int_equal(l->sent[0], SIOV_OK);
    assert_int_equal(l->sent[1], SIOV_OK);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 64);
    uint64_t qw[4];
    desc_at(f, 32, qw);
    assert_int_equal(siov_get(qw[1], SIOV_PRQ1_PRGI), 41);
    /* with nothing outstanding PD=1 completes at once */
    l->send_before_complete = 0;
    seq = q_wait(&q, SIOV_WAIT0_PD | SIOV_WAIT0_FN);
    q_kick(&q);
    assert_int_equal((uint32_t)tl_r64(f->t, STATUS), seq);
    assert_false(rd32(f, SIOV_REG_FSTS) & SIOV_FSTS_IQE);
    siov_device_port(f->t->iommu, SID, NULL, NULL);
    free(l);
    fx_free(f);
}

/* ----------------------------------------------------------- the ATC */
struct atc_log {
    unsigned n;
    siov_sid sid;
    uint32_t pasid;
    uint16_t prgi;
    unsigned code;
};

static void atc_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    struct atc_log *l = opaque;
    l->n++;
    l->sid = sid;
    l->pasid = pasid;
    l->prgi = prgi;
    l->code = code;
}

/* The ATC owns its device's port: page responses reach the callback set
   with siov_atc_set_page_response (none set: dropped). */
static void test_atc_page_response(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_atc *atc = siov_atc_new(f->t->iommu, SID, 64);
    assert_non_null(atc);
    struct atc_log al = {0};
    struct q q;
    q_init(&q, f->t);
    q_response(&q, SID, PASID, 7, SIOV_PRQ_SUCCESS, 0); /* before a callback is set */
    q_kick(&q);
    assert_int_equal(al.n, 0);
    siov_atc_set_page_response(atc, atc_response, &al);
    q_response(&q, SID, PASID, 8, SIOV_PRQ_INVALID, 0);
    q_kick(&q);
    assert_int_equal(al.n, 1);
    assert_int_equal(al.sid, SID);
    assert_int_equal(al.pasid, PASID);
    assert_int_equal(al.prgi, 8);
    assert_int_equal(al.code, SIOV_PRQ_INVALID);
    /* the unit's own answer takes the same way */
    wr64(f, SIOV_REG_PQH, 0x20);
    struct siov_page_request r = preq(PASID, 0x5000, SIOV_ACCESS_READ, 9, true);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(al.n, 2);
    assert_int_equal(al.prgi, 9);
    assert_int_equal(al.code, SIOV_PRQ_SUCCESS);
    siov_atc_set_page_response(atc, NULL, NULL);
    q_response(&q, SID, PASID, 10, SIOV_PRQ_SUCCESS, 0);
    q_kick(&q);
    assert_int_equal(al.n, 2);
    siov_atc_set_page_response(NULL, atc_response, &al); /* ignored */
    siov_atc_free(atc);
    fx_free(f);
}

/* The ATC's miss path: a page the completion does not grant is
   SIOV_ERR_NOT_PRESENT (the device may send a page request). Not-present
   answers are not cached, so once software has mapped the page and
   answered, the retry asks the unit again and translates. */
static void test_atc_not_present_then_retry(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_atc *atc = siov_atc_new(f->t->iommu, SID, 64);
    struct atc_log al = {0};
    siov_atc_set_page_response(atc, atc_response, &al);
    struct q q;
    q_init(&q, f->t);
    const uint64_t va = 0x700000;
    struct siov_xlate x;
    assert_int_equal(siov_atc_translate(atc, PASID, va, SIOV_ACCESS_WRITE, &x), SIOV_ERR_NOT_PRESENT);
    struct siov_page_request r = preq(PASID, va, SIOV_ACCESS_WRITE, 12, true);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    /* software: map the page, answer the group */
    tl_map(f->t, f->fl_root, 4, true, va, DATA + 0x3000, 4096, TL_FL_URW, TL_FL_URW);
    q_response(&q, SID, PASID, 12, SIOV_PRQ_SUCCESS, 0);
    q_kick(&q);
    assert_int_equal(al.n, 1);
    assert_int_equal(al.code, SIOV_PRQ_SUCCESS);
    assert_int_equal(siov_atc_translate(atc, PASID, va + 0x10, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(x.addr, DATA + 0x3010);
    uint8_t b[4] = {1, 2, 3, 4}, back[4];
    assert_int_equal(siov_atc_dma_write(atc, PASID, va, b, 4), SIOV_OK);
    assert_int_equal(siov_mem_read(f->t->mem, DATA + 0x3000, back, 4), 0);
    assert_memory_equal(b, back, 4);
    siov_atc_free(atc);
    fx_free(f);
}

/* ------------------------------------------------ checks through caches */
/* The PASID entry comes from the PASID cache once a request cached it: an
   entry cleared in memory without a PASID-cache invalidation still lets the
   next request in (spec 6.5.2.5: software must invalidate). */
static void test_pasid_entry_cached(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_page_request r = preq(PASID, 0x5000, SIOV_ACCESS_READ, 1, false);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    for (unsigned i = 0; i < 8; i++)
        tl_w64(f->t, f->pe_gpa + 8 * i, 0);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    assert_int_equal(rd64(f, SIOV_REG_PQT), 64);
    /* another PASID of the same table was never cached: memory decides */
    uint64_t pe[8];
    tl_pe_fl(pe, DID, f->fl_root, SIOV_FLPM_4LVL);
    uint64_t gpa = tl_pasid_entry(f->t, f->dir, PASID2, pe);
    r.pasid = PASID2;
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK);
    for (unsigned i = 0; i < 8; i++)
        tl_w64(f->t, gpa + 8 * i, 0);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_OK); /* cached after the first */
    assert_int_equal(rd64(f, SIOV_REG_PQT), 128);
    fx_free(f);
}

/* A refusal the unit does not record still counts as a fault (PASID beyond
   20 bits: SGN.10 with no record); translation off is no fault at all. */
static void test_unrecorded_refusal_counts(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct siov_page_request r = preq(0x100000, 0x5000, SIOV_ACCESS_READ, 1, true);
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_FAULT_SGN_10);
    assert_int_equal(tl_fault_records(f->t), 0);
    struct siov_stats st = tl_stats(f->t);
    assert_int_equal(st.faults, 1);
    assert_int_equal(st.prq_refused, 1);
    tl_gcmd(f->t, 0, SIOV_GCMD_TE);
    r.pasid = PASID;
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_ERR_BUS);
    st = tl_stats(f->t);
    assert_int_equal(st.faults, 1);
    assert_int_equal(st.prq_refused, 2);
    assert_int_equal(tl_fault_records(f->t), 0);
    fx_free(f);
}

/* Without ECAP.PRS (the unit still has ECAP.ERS) a page request is an
   unsupported request whatever the tables say: nothing checked, recorded
   or queued. */
static void test_no_prs_with_ers(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.page_requests = false;
    cfg.exec_req = true;
    struct tl *t = tl_new(&cfg);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_ERS);
    assert_false(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_PRS);
    tl_enable(t, SIOV_TTM_SCALABLE); /* no context entry: SRT/SCT faults if it were checked */
    struct siov_page_request r = preq(PASID, 0x5000, SIOV_ACCESS_READ, 1, true);
    assert_int_equal(siov_page_request(t->iommu, SID, &r), SIOV_ERR_BUS);
    assert_int_equal(tl_fault_records(t), 0);
    struct siov_stats st = tl_stats(t);
    assert_int_equal(st.faults, 0);
    assert_int_equal(st.prq_refused, 0);
    tl_free(t);
}

/* Detaching a port waits for a delivery to it that another thread is still
   making: once siov_device_port(NULL) returns, the old callback has ended. */
struct slow_port {
    int entered, done;
};

static void slow_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    (void)sid, (void)pasid, (void)prgi, (void)code;
    struct slow_port *p = opaque;
    __atomic_store_n(&p->entered, 1, __ATOMIC_SEQ_CST);
    struct timespec ts = {0, 100 * 1000 * 1000};
    nanosleep(&ts, NULL);
    __atomic_store_n(&p->done, 1, __ATOMIC_SEQ_CST);
}

static void *refused_request(void *arg)
{
    struct fx *f = arg;
    struct siov_page_request r = preq(PASID + 2, 0x5000, SIOV_ACCESS_READ, 1, true); /* no entry: Invalid */
    assert_int_equal(siov_page_request(f->t->iommu, SID, &r), SIOV_FAULT_SPT_2);
    return NULL;
}

static void test_detach_waits_for_delivery(void **state)
{
    (void)state;
    struct fx *f = fx_new();
    struct slow_port p = {0, 0};
    static const struct siov_device_ops slow_ops = {NULL, slow_response};
    assert_int_equal(siov_device_port(f->t->iommu, SID, &slow_ops, &p), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, refused_request, f), 0);
    while (!__atomic_load_n(&p.entered, __ATOMIC_SEQ_CST))
        sched_yield();
    assert_int_equal(siov_device_port(f->t->iommu, SID, NULL, NULL), 0);
    assert_int_equal(__atomic_load_n(&p.done, __ATOMIC_SEQ_CST), 1);
    assert_int_equal(pthread_join(th, NULL), 0);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor_layout_literal),
        cmocka_unit_test(test_descriptor_decode),
        cmocka_unit_test(test_queue_wraps),
        cmocka_unit_test(test_overflow_last_in_group),
        cmocka_unit_test(test_overflow_not_last),
        cmocka_unit_test(test_stop_marker_dropped_silently),
        cmocka_unit_test(test_unwritable_queue),
        cmocka_unit_test(test_event_masked),
        cmocka_unit_test(test_event_unmasked),
        cmocka_unit_test(test_registers),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_refusals_by_mode),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_implicit_invalidation),
        cmocka_unit_test(test_group_responses_in_queue_order),
        cmocka_unit_test(test_drain_wait),
        cmocka_unit_test(test_atc_page_response),
        cmocka_unit_test(test_atc_not_present_then_retry),
        cmocka_unit_test(test_pasid_entry_cached),
        cmocka_unit_test(test_unrecorded_refusal_counts),
        cmocka_unit_test(test_no_prs_with_ers),
        cmocka_unit_test(test_detach_waits_for_delivery),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Devices on the unit's side and the built-in ATC (src/model/inval.c,
   outbox.c, port.c, atc.c): device-TLB descriptors reaching the port of
   their source id with the decoded range, PASID, global bit and an ITag;
   the inv-wait behind them waiting for the completions; ITag exhaustion;
   time-outs (ITE) and invalid completions (ICE); attaching and detaching
   ports; notifiers; and the ATC: hits inline, ranges, being emptied only by
   device-TLB invalidations, exactly what each granularity leaves, the stale
   checker, the grace period of translated DMA, and misuse. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "inv_queue.h"
#include "testlib.h"

#define MEM_SIZE (16ull << 20)
#define SID SIOV_SID(0, 3, 0)
#define SID2 SIOV_SID(0, 4, 0)
#define RID 0u      /* RID_PASID: requests without PASID */
#define PASID 5u
#define PASID2 6u
#define DID 0x11
#define KiB4 SIOV_PAGE_SIZE
#define MiB2 (2ull << 20)
#define STATUS (12ull << 20)  /* inv-wait status words */
#define DATA (13ull << 20)    /* DMA data pages */
#define OUT(i) (DATA + (uint64_t)(i) * KiB4)

/* ---------------------------------------------------------------- queue */
/* Put an inv-wait with a status write; its status data. */
static uint32_t q_wait(struct q *q) { return q_put_wait(q, STATUS, 0); }

static bool waited(struct q *q, uint32_t seq) { return (uint32_t)tl_r64(q->t, STATUS) == seq; }
static uint64_t iqh(struct q *q) { return siov_mmio_read(q->t->iommu, SIOV_REG_IQH, 8); }
static uint32_t fsts(struct tl *t) { return (uint32_t)siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4); }


/* Run one descriptor and an inv-wait; the wait must complete. */
static void q_run(struct q *q, uint64_t q0, uint64_t q1)
{
    q_put(q, q0, q1);
    uint32_t seq = q_wait(q);
    q_kick(q);
    assert_true(waited(q, seq));
    assert_int_equal(iqh(q), q->tail);
}

/* --------------------------------------------------------- recording port */
#define REC_MAX 64
struct rec_ent {
    siov_sid sid;
    uint32_t pasid;
    uint64_t addr, size;
    bool global;
    unsigned itag;
};
struct rec {
    struct siov_iommu *iommu;
    bool complete;   /* complete each at once, from the callback */
    bool expire;     /* declare a time-out from the callback instead */
    bool probe_lock; /* read a register from the callback: the unit's lock must be free */
    unsigned n;
    struct rec_ent e[REC_MAX];
};

static void rec_inv(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                    unsigned itag)
{
    struct rec *r = opaque;
    if (r->n < REC_MAX)
        r->e[r->n++] = (struct rec_ent){sid, pasid, addr, size, global, itag};
    if (r->probe_lock)
        (void)siov_mmio_read(r->iommu, SIOV_REG_FSTS, 4);
    if (r->expire)
        siov_iommu_expire(r->iommu);
    else if (r->complete)
        siov_devtlb_complete(r->iommu, sid, itag);
}

static const struct siov_device_ops rec_ops = {rec_inv, NULL};

static void expect_rec(const struct rec *r, unsigned i, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size,
                       bool global)
{
    assert_true(i < r->n);
    assert_int_equal(r->e[i].sid, sid);
    assert_int_equal(r->e[i].pasid, pasid);
    assert_int_equal(r->e[i].addr, addr);
    assert_int_equal(r->e[i].size, size);
    assert_int_equal(r->e[i].global, global);
}

/* A scalable unit with translation on and a queue; cfg may be NULL. */
static struct tl *qunit(const struct siov_iommu_config *cfg, struct q *q)
{
    struct tl *t = tl_new_sized(cfg, MEM_SIZE);
    tl_enable(t, SIOV_TTM_SCALABLE);
    q_init(q, t);
    return t;
}

/* qunit with r recording SID's port and r2, unless NULL, SID2's (their other fields kept). */
static struct tl *rec_unit(const struct siov_iommu_config *cfg, struct q *q, struct rec *r, struct rec *r2)
{
    struct tl *t = qunit(cfg, q);
    r->iommu = t->iommu;
    assert_int_equal(siov_device_port(t->iommu, SID, &rec_ops, r), 0);
    if (r2) {
        r2->iommu = t->iommu;
        assert_int_equal(siov_device_port(t->iommu, SID2, &rec_ops, r2), 0);
    }
    return t;
}

/* ------------------------------------------------------------ delivery */
static void test_port_delivery(void **state)
{
    (void)state;
    struct q q;
    struct rec r = {.probe_lock = true};
    struct tl *t = rec_unit(NULL, &q, &r, NULL);
    q_put(&q, d_devtlb(SID), 0x11000);                                 /* S=0: one page */
    q_put(&q, d_devtlb(SID), 0x12000 | SIOV_DTLB1_S);                  /* bit 12 clear: 8 KiB */
    q_put(&q, d_devtlb(SID), 0x2FF000 | SIOV_DTLB1_S);                 /* 2 MiB at 0x200000 */
    q_put(&q, d_devtlb(SID), SIOV_ATS_RANGE_ALL | SIOV_DTLB1_S);       /* everything */
    q_put(&q, d_pdevtlb(SID, PASID), 0x13000);
    q_put(&q, d_pdevtlb(SID, PASID), 0x17000 | SIOV_PDTLB1_S);        /* 64 KiB at 0x10000 */
    q_put(&q, d_pdevtlb(SID, 0x99), 0x5000 | SIOV_PDTLB1_G);           /* every PASID */
    uint32_t seq = q_wait(&q);
    uint64_t wait_at = q.tail - 32;
    q_kick(&q);
    assert_int_equal(r.n, 7);
    expect_rec(&r, 0, SID, SIOV_NO_PASID, 0x11000, KiB4, false);
    expect_rec(&r, 1, SID, SIOV_NO_PASID, 0x12000, 8192, false);
    expect_rec(&r, 2, SID, SIOV_NO_PASID, 0x200000, MiB2, false);
    expect_rec(&r, 3, SID, SIOV_NO_PASID, 0, UINT64_MAX, false);
    expect_rec(&r, 4, SID, PASID, 0x13000, KiB4, false);
    expect_rec(&r, 5, SID, PASID, 0x10000, 0x10000, false);
    expect_rec(&r, 6, SID, 0x99, 0x5000, KiB4, true);
    for (unsigned i = 0; i < 7; i++)
        for (unsigned j = 0; j < i; j++)
            assert_int_not_equal(r.e[i].itag, r.e[j].itag);
    /* the wait waits: IQH on it, no status */
    assert_false(waited(&q, seq));
    assert_int_equal(iqh(&q), wait_at);
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 7);
    assert_int_equal(tl_stats(t).inv_devtlb, 7);
    assert_int_equal(tl_stats(t).inv_wait, 0);
    for (unsigned i = 0; i < 6; i++)
        siov_devtlb_complete(t->iommu, SID, r.e[i].itag);
    assert_false(waited(&q, seq));
    siov_devtlb_complete(t->iommu, SID, r.e[6].itag);
    assert_true(waited(&q, seq));
    assert_int_equal(iqh(&q), q.tail);
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    assert_int_equal(fsts(t), 0);
    tl_free(t);
}

/* Without a port (or one with no devtlb_invalidate) the device answers at once. */
static void test_no_port_completes(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(NULL, &q);
    q_run(&q, d_devtlb(SID), 0x1000);
    struct siov_device_ops none = {NULL, NULL};
    assert_int_equal(siov_device_port(t->iommu, SID, &none, NULL), 0);
    q_run(&q, d_pdevtlb(SID, PASID), 0x1000);
    assert_int_equal(tl_stats(t).inv_devtlb, 2);
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    tl_free(t);
}

/* More than 32 outstanding: the queue stops on the descriptor without an ITag. */
static void test_itag_exhaustion(void **state)
{
    (void)state;
    struct q q;
    struct rec r = {0};
    struct tl *t = rec_unit(NULL, &q, &r, NULL);
    for (unsigned i = 0; i < 40; i++)
        q_put(&q, d_devtlb(SID), 0x1000 * (i + 1));
    uint32_t seq = q_wait(&q);
    q_kick(&q);
    assert_int_equal(r.n, 32);
    assert_int_equal(iqh(&q), 32 * 32); /* on the 33rd descriptor */
    for (unsigned i = 0; i < 40; i++) {
        assert_false(waited(&q, seq));
        siov_devtlb_complete(t->iommu, SID, r.e[i].itag);
        assert_int_equal(r.n, i + 33 < 40 ? i + 33 : 40);
    }
    assert_true(waited(&q, seq));
    expect_rec(&r, 39, SID, SIOV_NO_PASID, 0x28000, KiB4, false);
    tl_free(t);
}

/* ------------------------------------------------------------------ ITE */
static void test_timeout(void **state)
{
    (void)state;
    struct tl_msi_log log = {0};
    struct siov_iommu_config cfg = tl_config_msi(&log);
    struct q q;
    struct rec r = {0}, r2 = {0};
    struct tl *t = rec_unit(&cfg, &q, &r, &r2);
    siov_mmio_write(t->iommu, SIOV_REG_FECTL, 0, 4); /* fault events unmasked */
    siov_iommu_expire(t->iommu); /* nothing outstanding: nothing happens */
    assert_int_equal(fsts(t), 0);
    q_put(&q, d_devtlb(SID2), 0x1000);
    q_put(&q, d_devtlb(SID), 0x2000);
    uint32_t seq = q_wait(&q);
    q_kick(&q);
    siov_devtlb_complete(t->iommu, SID2, r2.e[0].itag); /* one of the two answers */
    assert_false(waited(&q, seq));
    siov_iommu_expire(t->iommu);
    /* ITE with the device that did not answer, the event, the wait aborted */
    assert_int_equal(fsts(t), SIOV_FSTS_ITE);
    assert_int_equal(siov_get(siov_mmio_read(t->iommu, SIOV_REG_IQERCD, 8), SIOV_IQERCD_ITESID), SID);
    assert_int_equal(log.n, 1);
    assert_false(waited(&q, seq));
    assert_int_equal(iqh(&q), q.tail); /* retired without its status write */
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    assert_int_equal(tl_stats(t).devtlb_timeouts, 1);
    assert_int_equal(tl_stats(t).inv_wait, 0);
    /* nothing is fetched while ITE is set */
    uint32_t seq2 = q_wait(&q);
    q_kick(&q);
    assert_false(waited(&q, seq2));
    assert_int_equal(iqh(&q), q.tail - 32);
    /* a late completion of the timed-out ITag is an invalid completion */
    siov_devtlb_complete(t->iommu, SID, r.e[0].itag);
    assert_int_equal(fsts(t), SIOV_FSTS_ITE | SIOV_FSTS_ICE);
    assert_int_equal(siov_get(siov_mmio_read(t->iommu, SIOV_REG_IQERCD, 8), SIOV_IQERCD_ICESID), SID);
    /* clearing ITE resumes fetching at IQH */
    siov_mmio_write(t->iommu, SIOV_REG_FSTS, SIOV_FSTS_ITE, 4);
    assert_true(waited(&q, seq2));
    assert_int_equal(fsts(t), SIOV_FSTS_ICE);
    tl_free(t);
}

/* A descriptor the unit fetched and waits on is held: software rewriting its
   slot afterwards (its own error) changes nothing, whatever resumes the queue
   (an IQT write, the completion). fuzz_queue found the unit fetching it again. */
static void test_stalled_wait_is_held(void **state)
{
    (void)state;
    struct q q;
    struct rec r = {0};
    struct tl *t = rec_unit(NULL, &q, &r, NULL);
    q_put(&q, d_devtlb(SID), 0x1000);
    uint32_t seq = q_wait(&q);
    uint64_t wait_at = q.tail - 32;
    q_kick(&q);
    assert_false(waited(&q, seq));
    assert_int_equal(iqh(&q), wait_at);
    tl_w64(t, q.base + wait_at, 0); /* type 0: invalid if it were fetched again */
    q_kick(&q);                     /* the same IQT again: the queue is looked at */
    assert_int_equal(fsts(t), 0);
    assert_int_equal(iqh(&q), wait_at);
    siov_devtlb_complete(t->iommu, SID, r.e[0].itag);
    assert_true(waited(&q, seq)); /* the wait as fetched: its status write */
    assert_int_equal(iqh(&q), q.tail);
    assert_int_equal(fsts(t), 0);
    /* nothing stays held: the next wait is fetched from its own slot */
    uint32_t seq2 = q_wait(&q);
    q_kick(&q);
    assert_true(waited(&q, seq2));
    assert_int_equal(iqh(&q), q.tail);
    tl_free(t);
}

/* Several time out at once: ITESID names one of them (the lowest ITag's
   device) and is not overwritten by the others. */
static void test_timeout_several(void **state)
{
    (void)state;
    struct q q;
    struct rec r = {0}, r2 = {0};
    struct tl *t = rec_unit(NULL, &q, &r, &r2);
    q_put(&q, d_devtlb(SID2), 0x1000);
    q_put(&q, d_devtlb(SID), 0x2000);
    q_put(&q, d_devtlb(SID), 0x3000);
    uint32_t seq = q_wait(&q);
    q_kick(&q);
    assert_true(r2.e[0].itag < r.e[0].itag && r.e[0].itag < r.e[1].itag);
    siov_iommu_expire(t->iommu);
    assert_int_equal(fsts(t), SIOV_FSTS_ITE);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_IQERCD, 8), siov_set(0, SIOV_IQERCD_ITESID, SID2));
    assert_int_equal(tl_stats(t).devtlb_timeouts, 3);
    assert_false(waited(&q, seq));
    tl_free(t);
}

/* ------------------------------------------------------------------ ICE */
static void test_invalid_completion(void **state)
{
    (void)state;
    struct q q;
    struct rec r = {0};
    struct tl *t = rec_unit(NULL, &q, &r, NULL);
    q_put(&q, d_devtlb(SID), 0x1000);
    uint32_t seq = q_wait(&q);
    q_kick(&q);
    unsigned itag = r.e[0].itag;
    siov_devtlb_complete(t->iommu, SID2, itag);         /* the right ITag from the wrong device */
    assert_int_equal(fsts(t), SIOV_FSTS_ICE);
    assert_int_equal(siov_get(siov_mmio_read(t->iommu, SIOV_REG_IQERCD, 8), SIOV_IQERCD_ICESID), SID2);
    siov_devtlb_complete(t->iommu, SID, (itag + 1) % 32); /* an ITag not in use: ICESID kept */
    siov_devtlb_complete(t->iommu, SID, 1000);            /* not an ITag at all */
    assert_int_equal(siov_get(siov_mmio_read(t->iommu, SIOV_REG_IQERCD, 8), SIOV_IQERCD_ICESID), SID2);
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 1); /* still waiting */
    assert_false(waited(&q, seq));
    siov_mmio_write(t->iommu, SIOV_REG_FSTS, SIOV_FSTS_ICE, 4);
    siov_devtlb_complete(t->iommu, SID, itag);
    assert_true(waited(&q, seq));
    assert_int_equal(fsts(t), 0);
    siov_devtlb_complete(t->iommu, SID, itag); /* twice: the second is invalid */
    assert_int_equal(fsts(t), SIOV_FSTS_ICE);
    assert_int_equal(siov_get(siov_mmio_read(t->iommu, SIOV_REG_IQERCD, 8), SIOV_IQERCD_ICESID), SID);
    /* with translation off a completion is an unsupported request: ignored */
    siov_mmio_write(t->iommu, SIOV_REG_FSTS, SIOV_FSTS_ICE, 4);
    tl_gcmd(t, 0, SIOV_GCMD_TE);
    siov_devtlb_complete(t->iommu, SID, 7);
    assert_int_equal(fsts(t), 0);
    siov_devtlb_complete(NULL, SID, 0);
    siov_iommu_expire(NULL);
    assert_int_equal(siov_iommu_devtlb_outstanding(NULL), 0);
    tl_free(t);
}

/* Without ECAP.DT the descriptors are invalid types and completions mean nothing. */
static void test_no_device_tlb(void **state)
{
    (void)state;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.dev_tlb = false;
    for (int type = 0; type < 2; type++) {
        struct q q;
        struct tl *t = qunit(&cfg, &q);
        assert_false(siov_mmio_read(t->iommu, SIOV_REG_ECAP, 8) & (SIOV_ECAP_DT | SIOV_ECAP_NWFS));
        q_put(&q, type ? d_pdevtlb(SID, PASID) : d_devtlb(SID), 0x1000);
        q_kick(&q);
        assert_int_equal(fsts(t), SIOV_FSTS_IQE);
        assert_int_equal(siov_get(siov_mmio_read(t->iommu, SIOV_REG_IQERCD, 8), SIOV_IQERCD_IQEI), SIOV_IQEI_TYPE);
        assert_int_equal(iqh(&q), 0);
        siov_devtlb_complete(t->iommu, SID, 0);
        assert_int_equal(fsts(t), SIOV_FSTS_IQE);
        tl_free(t);
    }
}

/* ---------------------------------------------------------------- ports */
static void test_port_attach_detach(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(NULL, &q);
    struct rec r = {.iommu = t->iommu}, r2 = {.iommu = t->iommu, .complete = true};
    assert_int_equal(siov_device_port(NULL, SID, &rec_ops, &r), -EINVAL);
    assert_int_equal(siov_device_port(t->iommu, SID, NULL, NULL), -ENOENT);
    assert_int_equal(siov_device_port(t->iommu, SID, &rec_ops, &r), 0);
    assert_int_equal(siov_device_port(t->iommu, SID, &rec_ops, &r2), -EBUSY);
    assert_null(siov_atc_new(t->iommu, SID, 64));
    assert_int_equal(errno, EBUSY);
    /* detaching completes what the port still owes: the wait goes on */
    q_put(&q, d_devtlb(SID), 0x1000);
    q_put(&q, d_devtlb(SID), 0x2000);
    uint32_t seq = q_wait(&q);
    q_kick(&q);
    assert_int_equal(r.n, 2);
    assert_false(waited(&q, seq));
    assert_int_equal(siov_device_port(t->iommu, SID, NULL, NULL), 0);
    assert_true(waited(&q, seq));
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    assert_int_equal(fsts(t), 0);
    /* the sid is free again */
    assert_int_equal(siov_device_port(t->iommu, SID, &rec_ops, &r2), 0);
    q_run(&q, d_devtlb(SID), 0x3000); /* r2 completes from its callback */
    assert_int_equal(r2.n, 1);
    assert_int_equal(r.n, 2);
    tl_free(t);
}

/* ------------------------------------------------------------ notifiers */
#define EV_MAX 32
struct evlog {
    struct siov_iommu *iommu;
    unsigned n;
    struct siov_inval_event ev[EV_MAX];
};

static void ev_cb(void *opaque, const struct siov_inval_event *ev)
{
    struct evlog *l = opaque;
    (void)siov_mmio_read(l->iommu, SIOV_REG_FSTS, 4); /* the unit's lock is not held */
    if (l->n < EV_MAX)
        l->ev[l->n++] = *ev;
}

static void expect_ev(const struct evlog *l, unsigned i, unsigned kind, unsigned g, uint16_t did, siov_sid sid,
                      uint32_t pasid, uint64_t addr, uint64_t size)
{
    assert_true(i < l->n);
    const struct siov_inval_event *e = &l->ev[i];
    assert_int_equal(e->kind, kind);
    assert_int_equal(e->granularity, g);
    assert_int_equal(e->did, did);
    assert_int_equal(e->sid, sid);
    assert_int_equal(e->pasid, pasid);
    assert_int_equal(e->addr, addr);
    assert_int_equal(e->size, size);
}

static uint64_t dsc(unsigned type, uint64_t gmask, unsigned g, uint64_t rest)
{
    return siov_dsc_make_type(type) | siov_set(0, gmask, g) | rest;
}

/* The trace hook's record of the last 0x3 descriptor processed. */
static void last_devtlb(void *opaque, const struct siov_trace_rec *rec)
{
    if (rec->kind == SIOV_TRACE_INVAL && rec->inv_type == SIOV_TRACE_INV_DEVTLB)
        *(struct siov_trace_rec *)opaque = *rec;
}

static void test_notifiers(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(NULL, &q);
    struct evlog l = {.iommu = t->iommu}, l2 = {.iommu = t->iommu};
    struct siov_trace_rec tr = {0};
    assert_int_equal(siov_iommu_set_trace(t->iommu, last_devtlb, &tr), 0);
    assert_int_equal(siov_iommu_add_notifier(NULL, ev_cb, &l), -EINVAL);
    assert_int_equal(siov_iommu_add_notifier(t->iommu, NULL, &l), -EINVAL);
    assert_int_equal(siov_iommu_add_notifier(t->iommu, ev_cb, &l), 0);
    assert_int_equal(siov_iommu_add_notifier(t->iommu, ev_cb, &l2), 0);
    uint64_t did = siov_set(0, SIOV_CC0_DID, DID), pasid = siov_set(0, SIOV_PIOTLB0_PASID, PASID);
    q_put(&q, dsc(SIOV_DSC_CC, SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL, 0), 0);
    q_put(&q, dsc(SIOV_DSC_CC, SIOV_CC0_G, SIOV_INV_GRAN_DOMAIN, did), 0);
    q_put(&q, dsc(SIOV_DSC_CC, SIOV_CC0_G, SIOV_INV_GRAN_DEVICE, siov_set(0, SIOV_CC0_SID, SID) |
                                                                  siov_set(0, SIOV_CC0_FM, 2)), 0);
    q_put(&q, dsc(SIOV_DSC_IOTLB, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL, 0), 0);
    q_put(&q, dsc(SIOV_DSC_IOTLB, SIOV_IOTLB0_G, SIOV_INV_GRAN_DOMAIN, did), 0);
    q_put(&q, dsc(SIOV_DSC_IOTLB, SIOV_IOTLB0_G, SIOV_INV_GRAN_PAGE, did), 0x40000 | 2);
    q_put(&q, dsc(SIOV_DSC_PIOTLB, SIOV_PIOTLB0_G, SIOV_PIOTLB_GRAN_PASID, did | pasid), 0);
    q_put(&q, dsc(SIOV_DSC_PIOTLB, SIOV_PIOTLB0_G, SIOV_PIOTLB_GRAN_PAGE, did | pasid), 0x8000 | 1);
    q_put(&q, dsc(SIOV_DSC_PC, SIOV_PC0_G, SIOV_PC_GRAN_DOMAIN, did), 0);
    q_put(&q, dsc(SIOV_DSC_PC, SIOV_PC0_G, SIOV_PC_GRAN_PASID, did | pasid), 0);
    q_put(&q, dsc(SIOV_DSC_PC, SIOV_PC0_G, SIOV_PC_GRAN_GLOBAL, 0), 0);
    q_put(&q, d_devtlb(SID), 0x3000);
    q_put(&q, d_pdevtlb(SID, PASID), r8(0, UINT64_MAX, true));
    q_put(&q, siov_dsc_make_type(SIOV_DSC_IEC), 0);
    q_put(&q, siov_dsc_make_type(SIOV_DSC_IEC) | SIOV_IEC0_G | siov_set(0, SIOV_IEC0_IIDX, 40) |
                  siov_set(0, SIOV_IEC0_IM, 3), 0);
    uint32_t seq = q_wait(&q);
    q_kick(&q);
    assert_true(waited(&q, seq));
    const uint32_t N = SIOV_NO_PASID;
    assert_int_equal(l.n, 15); /* one per invalidation; none for the wait */
    expect_ev(&l, 0, SIOV_INV_CONTEXT, SIOV_INV_G_GLOBAL, 0, 0, N, 0, 0);
    expect_ev(&l, 1, SIOV_INV_CONTEXT, SIOV_INV_G_DOMAIN, DID, 0, N, 0, 0);
    expect_ev(&l, 2, SIOV_INV_CONTEXT, SIOV_INV_G_DEVICE, 0, SID, N, 2, 0);
    expect_ev(&l, 3, SIOV_INV_IOTLB, SIOV_INV_G_GLOBAL, 0, 0, N, 0, 0);
    expect_ev(&l, 4, SIOV_INV_IOTLB, SIOV_INV_G_DOMAIN, DID, 0, N, 0, 0);
    expect_ev(&l, 5, SIOV_INV_IOTLB, SIOV_INV_G_RANGE, DID, 0, N, 0x40000, 0x4000);
    expect_ev(&l, 6, SIOV_INV_PIOTLB, SIOV_INV_G_PASID, DID, 0, PASID, 0, 0);
    expect_ev(&l, 7, SIOV_INV_PIOTLB, SIOV_INV_G_RANGE, DID, 0, PASID, 0x8000, 0x2000);
    expect_ev(&l, 8, SIOV_INV_PASID_CACHE, SIOV_INV_G_DOMAIN, DID, 0, N, 0, 0);
    expect_ev(&l, 9, SIOV_INV_PASID_CACHE, SIOV_INV_G_PASID, DID, 0, PASID, 0, 0);
    expect_ev(&l, 10, SIOV_INV_PASID_CACHE, SIOV_INV_G_GLOBAL, 0, 0, N, 0, 0);
    expect_ev(&l, 11, SIOV_INV_DEVTLB, SIOV_INV_G_RANGE, 0, SID, N, 0x3000, KiB4);
    assert_int_equal(tr.inv_gran, 0); /* traced with its S bit (one page) and address */
    assert_int_equal(tr.addr, 0x3000);
    assert_int_equal(tr.sid, SID);
    expect_ev(&l, 12, SIOV_INV_DEVTLB, SIOV_INV_G_GLOBAL, 0, SID, PASID, 0, UINT64_MAX);
    expect_ev(&l, 13, SIOV_INV_IEC, SIOV_INV_G_GLOBAL, 0, 0, N, 0, 0);
    expect_ev(&l, 14, SIOV_INV_IEC, SIOV_INV_G_INDEX, 0, 0, N, 40, 8);
    assert_int_equal(l2.n, 15);
    assert_memory_equal(l2.ev, l.ev, sizeof(l.ev[0]) * 15);
    /* a descriptor the queue rejects is not an invalidation: no event */
    q_put(&q, dsc(SIOV_DSC_CC, SIOV_CC0_G, 0, 0), 0);
    q_kick(&q);
    assert_int_equal(l.n, 15);
    tl_free(t);
}

/* Register-based invalidation reports to the notifiers too. */
static void test_notifiers_registers(void **state)
{
    (void)state;
    struct tl *t = tl_new_sized(NULL, MEM_SIZE);
    struct evlog lr = {.iommu = t->iommu};
    assert_int_equal(siov_iommu_add_notifier(t->iommu, ev_cb, &lr), 0);
    siov_mmio_write(t->iommu, SIOV_REG_CCMD, SIOV_CCMD_ICC | siov_set(0, SIOV_CCMD_CIRG, SIOV_INV_GRAN_GLOBAL), 8);
    uint64_t iotlb_cmd = SIOV_IOTLB_IVT | siov_set(0, SIOV_IOTLB_IIRG, SIOV_INV_GRAN_DOMAIN);
    siov_mmio_write(t->iommu, SIOV_REG_IOTLB, iotlb_cmd | siov_set(0, SIOV_IOTLB_DID, 3), 8);
    assert_int_equal(lr.n, 2);
    expect_ev(&lr, 0, SIOV_INV_CONTEXT, SIOV_INV_G_GLOBAL, 0, 0, SIOV_NO_PASID, 0, 0);
    expect_ev(&lr, 1, SIOV_INV_IOTLB, SIOV_INV_G_DOMAIN, 3, 0, SIOV_NO_PASID, 0, 0);
    tl_free(t);
}

/* ---------------------------------------------------------------- the ATC */
#define NSPACES 3      /* 0: requests without PASID, 1: PASID, 2: PASID2 */
#define PAGES 8        /* 4 KiB pages at PAGE_IOVA of each space */
#define PAGE_IOVA 0x10000ull
#define BIG_IOVA 0x200000ull /* one 2 MiB page in each space */
#define ALL_KEPT ((1u << (PAGES + 1)) - 1) /* bit PAGES: the 2 MiB page */

struct env {
    struct tl *t;
    struct q q;
    struct siov_atc *atc;
    uint64_t root[NSPACES], leaf[NSPACES][PAGES];
};

static uint32_t space_pasid(unsigned k) { return k == 0 ? SIOV_NO_PASID : k == 1 ? PASID : PASID2; }
static uint64_t page_out(unsigned k, unsigned i) { return OUT(k * 0x10 + i); }
static uint64_t big_out(unsigned k) { return 0x400000ull + k * MiB2; }

static void env_new(struct env *e, unsigned entries, const struct siov_iommu_config *cfg)
{
    memset(e, 0, sizeof(*e));
    e->t = qunit(cfg, &e->q);
    uint64_t dir = tl_sm_context_default(e->t, SID, RID);
    for (unsigned k = 0; k < NSPACES; k++) {
        struct tl_sl_space sp = {k ? space_pasid(k) : RID, DID + k, PAGE_IOVA, page_out(k, 0), PAGES, TL_SL_RW,
                                 BIG_IOVA, big_out(k)};
        e->root[k] = tl_sl_space(e->t, dir, &sp, e->leaf[k]);
    }
    e->atc = siov_atc_new(e->t->iommu, SID, entries);
    assert_non_null(e->atc);
}

static void env_free(struct env *e)
{
    siov_atc_free(e->atc);
    tl_free(e->t);
}

static siov_fault atc_xl(struct env *e, unsigned k, uint64_t iova, unsigned access, struct siov_xlate *x)
{
    memset(x, 0, sizeof(*x));
    return siov_atc_translate(e->atc, space_pasid(k), iova, access, x);
}

/* Translate every page of every space through the ATC (two pages of each 2 MiB one). */
static void env_fill(struct env *e)
{
    for (unsigned k = 0; k < NSPACES; k++) {
        struct siov_xlate x;
        for (unsigned i = 0; i < PAGES; i++) {
            assert_int_equal(atc_xl(e, k, PAGE_IOVA + i * KiB4 + 0x10, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE, &x),
                             SIOV_OK);
            assert_int_equal(x.addr, page_out(k, i) + 0x10);
        }
        assert_int_equal(atc_xl(e, k, BIG_IOVA + 0x1234, SIOV_ACCESS_WRITE, &x), SIOV_OK);
        assert_int_equal(x.addr, big_out(k) + 0x1234);
        assert_int_equal(x.page_size, MiB2);
        assert_int_equal(atc_xl(e, k, BIG_IOVA + 0x1FF000, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    }
}

/* The ATC holds exactly the translations kept[k] names (bit i: page i, bit PAGES: the 2 MiB page). */
static void expect_kept(struct env *e, const unsigned kept[NSPACES])
{
    struct siov_atc_entry got[64];
    unsigned want_n = 0;
    for (unsigned k = 0; k < NSPACES; k++)
        want_n += (unsigned)__builtin_popcount(kept[k]);
    unsigned n = siov_atc_entries(e->atc, got, 64);
    assert_int_equal(n, want_n);
    unsigned j = 0;
    static const unsigned order[NSPACES] = {1, 2, 0}; /* sorted by PASID: no PASID last */
    for (unsigned o = 0; o < NSPACES; o++) {
        unsigned k = order[o];
        for (unsigned i = 0; i <= PAGES; i++) {
            if (!(kept[k] & (1u << i)))
                continue;
            const struct siov_atc_entry *g = &got[j++];
            bool big = i == PAGES;
            assert_int_equal(g->pasid, space_pasid(k));
            assert_int_equal(g->iova, big ? BIG_IOVA : PAGE_IOVA + i * KiB4);
            assert_int_equal(g->size, big ? MiB2 : KiB4);
            assert_int_equal(g->addr, big ? big_out(k) : page_out(k, i));
            assert_true(g->r && g->w);
            assert_false(g->priv);
            assert_int_equal(g->pages, big ? 2 : 1);
        }
    }
}

struct gran_case {
    const char *name;
    bool pasid_form;   /* 0x8 */
    siov_sid sid;
    uint32_t pasid;
    uint64_t base, size;
    bool g;
    unsigned kept[NSPACES];
};

static const struct gran_case gran_cases[] = {
    {"0x8 one page", true, SID, PASID, 0x11000, KiB4, false, {ALL_KEPT, ALL_KEPT & ~0x2u, ALL_KEPT}},
    {"0x8 8 KiB", true, SID, PASID, 0x12000, 8192, false, {ALL_KEPT, ALL_KEPT & ~0xCu, ALL_KEPT}},
    {"0x8 64 KiB", true, SID, PASID, 0x10000, 0x10000, false, {ALL_KEPT, 1u << PAGES, ALL_KEPT}},
    {"0x8 a page inside 2 MiB", true, SID, PASID, 0x201000, KiB4, false, {ALL_KEPT, 0xFF, ALL_KEPT}},
    {"0x8 4 MiB", true, SID, PASID, 0, 4ull << 20, false, {ALL_KEPT, 0, ALL_KEPT}},
    {"0x8 1 GiB", true, SID, PASID, 0, 1ull << 30, false, {ALL_KEPT, 0, ALL_KEPT}},
    {"0x8 a page nothing holds", true, SID, PASID, 0x30000, KiB4, false, {ALL_KEPT, ALL_KEPT, ALL_KEPT}},
    {"0x8 everything of a PASID", true, SID, PASID, 0, UINT64_MAX, false, {ALL_KEPT, 0, ALL_KEPT}},
    {"0x3 one page", false, SID, 0, 0x11000, KiB4, false, {ALL_KEPT & ~0x2u, ALL_KEPT, ALL_KEPT}},
    {"0x3 everything", false, SID, 0, 0, UINT64_MAX, false, {0, ALL_KEPT, ALL_KEPT}},
    {"0x3 2 MiB", false, SID, 0, 0x200000, MiB2, false, {0xFF, ALL_KEPT, ALL_KEPT}},
    {"0x8 G=1 one page", true, SID, 0, 0x11000, KiB4, true, {ALL_KEPT, ALL_KEPT & ~0x2u, ALL_KEPT & ~0x2u}},
    {"0x8 G=1 everything", true, SID, 0, 0, UINT64_MAX, true, {ALL_KEPT, 0, 0}},
    {"0x8 G=1 2 MiB", true, SID, 0x1234, 0x200000, MiB2, true, {ALL_KEPT, 0xFF, 0xFF}},
    {"0x3 for another device", false, SID2, 0, 0, UINT64_MAX, false, {ALL_KEPT, ALL_KEPT, ALL_KEPT}},
    {"0x8 another PASID", true, SID, 0x77, 0, UINT64_MAX, false, {ALL_KEPT, ALL_KEPT, ALL_KEPT}},
};

static void test_atc_granularity(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof(gran_cases) / sizeof(gran_cases[0]); c++) {
        const struct gran_case *gc = &gran_cases[c];
        for (unsigned sz = 0; sz < 2; sz++) { /* scans and probes alike */
            struct env e;
            env_new(&e, sz ? 65536 : 512, NULL);
            env_fill(&e);
            static const unsigned all[NSPACES] = {ALL_KEPT, ALL_KEPT, ALL_KEPT};
            expect_kept(&e, all);
            struct siov_atc_stats before, after;
            siov_atc_stats(e.atc, &before);
            if (gc->pasid_form)
                q_run(&e.q, d_pdevtlb(gc->sid, gc->pasid), r8(gc->base, gc->size, gc->g));
            else
                q_run(&e.q, d_devtlb(gc->sid), r3(gc->base, gc->size));
            print_message("%s (%u entries)\n", gc->name, sz ? 65536 : 512);
            expect_kept(&e, gc->kept);
            siov_atc_stats(e.atc, &after);
            assert_int_equal(after.invalidations - before.invalidations, gc->sid == SID);
            /* what was dropped misses (a new request), what was kept hits */
            for (unsigned k = 0; k < NSPACES; k++) {
                struct siov_xlate x;
                siov_atc_stats(e.atc, &before);
                assert_int_equal(atc_xl(&e, k, PAGE_IOVA + 0x1000, SIOV_ACCESS_READ, &x), SIOV_OK);
                siov_atc_stats(e.atc, &after);
                assert_int_equal(after.ats_requests - before.ats_requests, !(gc->kept[k] & 2));
            }
            env_free(&e);
        }
    }
}

static void test_atc_hits_and_misses(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, 64, NULL);
    struct siov_xlate x;
    struct siov_atc_stats s;
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 0x123, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(x.addr, page_out(1, 0) + 0x123);
    assert_int_equal(x.page_size, KiB4);
    assert_int_equal(x.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE);
    assert_int_equal(x.did, 0);
    siov_atc_stats(e.atc, &s);
    assert_int_equal(s.misses, 1);
    assert_int_equal(s.ats_requests, 1);
    assert_int_equal(s.hits, 0);
    uint64_t walks = tl_stats(e.t).walks;
    for (int i = 0; i < 5; i++) /* answered inline: no request, no walk */
        assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 0x456, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(x.addr, page_out(1, 0) + 0x456);
    siov_atc_stats(e.atc, &s);
    assert_int_equal(s.hits, 5);
    assert_int_equal(s.ats_requests, 1);
    assert_int_equal(tl_stats(e.t).walks, walks);
    assert_int_equal(tl_stats(e.t).ats_requests, 1);
    /* a 2 MiB completion answers every page of its range with one request */
    assert_int_equal(atc_xl(&e, 2, BIG_IOVA + 0x5000, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(atc_xl(&e, 2, BIG_IOVA + 0x1FFFFF, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, big_out(2) + 0x1FFFFF);
    assert_int_equal(x.page_size, MiB2);
    siov_atc_stats(e.atc, &s);
    assert_int_equal(s.ats_requests, 2);
    struct siov_atc_entry ent[4];
    assert_int_equal(siov_atc_entries(e.atc, ent, 4), 2);
    assert_int_equal(ent[1].size, MiB2);
    assert_int_equal(ent[1].pages, 2);
    assert_int_equal(siov_atc_entries(e.atc, NULL, 0), 2);
    /* not present: answered, not kept (each lookup asks again) */
    assert_int_equal(atc_xl(&e, 1, 0x900000, SIOV_ACCESS_READ, &x), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(atc_xl(&e, 1, 0x900000, SIOV_ACCESS_READ, &x), SIOV_ERR_NOT_PRESENT);
    siov_atc_stats(e.atc, &s);
    assert_int_equal(s.ats_requests, 4);
    /* Exe is never granted: no request */
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_EXEC, &x), SIOV_ERR_NOT_PRESENT);
    siov_atc_stats(e.atc, &s);
    assert_int_equal(s.ats_requests, 4);
    env_free(&e);
}

/* Full sets: a new translation takes a set's first way and the one there
   moves to the second, whole (its page, tag and translation). Eight pages
   through the smallest ATC: every page still answers with its own address. */
static void test_atc_full_set_keeps_each_translation(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, 1, NULL); /* the smallest geometry: fewer ways than pages */
    struct siov_xlate x;
    for (unsigned r = 0; r < 3; r++)
        for (unsigned i = 0; i < PAGES; i++)
            for (unsigned k = 1; k < NSPACES; k++) { /* 4 KiB and 2 MiB translations of two PASIDs */
                assert_int_equal(atc_xl(&e, k, PAGE_IOVA + i * KiB4 + r, SIOV_ACCESS_READ, &x), SIOV_OK);
                assert_int_equal(x.addr, page_out(k, i) + r);
                assert_int_equal(x.page_size, KiB4);
                assert_int_equal(atc_xl(&e, k, BIG_IOVA + i * KiB4 + r, SIOV_ACCESS_READ, &x), SIOV_OK);
                assert_int_equal(x.addr, big_out(k) + i * KiB4 + r);
                assert_int_equal(x.page_size, MiB2);
                /* next to the 4 KiB pages, in the same 2 MiB: nothing mapped */
                assert_int_equal(atc_xl(&e, k, PAGE_IOVA + (PAGES + i) * KiB4, SIOV_ACCESS_READ, &x),
                                 SIOV_ERR_NOT_PRESENT);
            }
    assert_true(siov_atc_entries(e.atc, NULL, 0) < PAGES);
    env_free(&e);
}

/* A read-only fill is read-only: a write asks again (NW=0), and D follows. */
static void test_atc_read_only_fill(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, 64, NULL);
    struct siov_xlate x;
    struct tl *t = e.t;
    uint64_t leaf = e.leaf[1][3];
    struct siov_atc_stats s0, s1;
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 3 * KiB4, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.perm, SIOV_ACCESS_READ); /* asked with NW: read only, though the page is writable */
    siov_atc_stats(e.atc, &s0);
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 3 * KiB4, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(x.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE);
    siov_atc_stats(e.atc, &s1);
    assert_int_equal(s1.ats_requests - s0.ats_requests, 1); /* the write asked again, NW=0 */
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 3 * KiB4, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE); /* one entry, upgraded */
    /* a read-only page: a write misses, asks with NW=0, is not granted */
    tl_w64(t, leaf, tl_r64(t, leaf) & ~SIOV_SL_W);
    q_run(&e.q, dsc(SIOV_DSC_IOTLB, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL, 0), 0);
    q_run(&e.q, d_pdevtlb(SID, PASID), r8(PAGE_IOVA + 3 * KiB4, KiB4, false));
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 3 * KiB4, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.perm, SIOV_ACCESS_READ);
    siov_atc_stats(e.atc, &s0);
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 3 * KiB4, SIOV_ACCESS_WRITE, &x), SIOV_ERR_NOT_PRESENT);
    siov_atc_stats(e.atc, &s1);
    assert_int_equal(s1.ats_requests - s0.ats_requests, 1);
    env_free(&e);
}

/* Only device-TLB invalidations empty the ATC: the unit's own leave it stale. */
static void test_atc_only_devtlb_empties(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, 64, NULL);
    struct siov_xlate x;
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    tl_w64(e.t, e.leaf[1][0], 0); /* unmapped by hand */
    q_run(&e.q, dsc(SIOV_DSC_IOTLB, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL, 0), 0);
    q_run(&e.q, dsc(SIOV_DSC_PIOTLB, SIOV_PIOTLB0_G, SIOV_PIOTLB_GRAN_PASID,
                    siov_set(0, SIOV_PIOTLB0_DID, DID + 1) | siov_set(0, SIOV_PIOTLB0_PASID, PASID)), 0);
    q_run(&e.q, dsc(SIOV_DSC_PC, SIOV_PC0_G, SIOV_PC_GRAN_GLOBAL, 0), 0);
    q_run(&e.q, dsc(SIOV_DSC_CC, SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL, 0), 0);
    struct siov_xlate u;
    assert_int_equal(siov_translate(e.t->iommu, SID, PASID, PAGE_IOVA, SIOV_ACCESS_READ, &u), SIOV_FAULT_SSL_2);
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, &x), SIOV_OK); /* stale, as on a device */
    assert_int_equal(x.addr, page_out(1, 0));
    uint8_t b = 0x5A;
    assert_int_equal(siov_atc_dma_write(e.atc, PASID, PAGE_IOVA, &b, 1), SIOV_OK); /* the DMA lands */
    uint8_t got = 0;
    assert_int_equal(siov_mem_read(e.t->mem, page_out(1, 0), &got, 1), 0);
    assert_int_equal(got, 0x5A);
    q_run(&e.q, d_pdevtlb(SID, PASID), r8(PAGE_IOVA, KiB4, false));
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, &x), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(siov_atc_dma_write(e.atc, PASID, PAGE_IOVA, &b, 1), SIOV_ERR_NOT_PRESENT);
    env_free(&e);
}

/* ----------------------------------------------------------- stale checker */
static void test_atc_stale_checker(void **state)
{
    (void)state;
    struct tl_stale_log log = {0};
    struct siov_iommu_config cfg = tl_config_stale(&log);
    struct env e;
    env_new(&e, 64, &cfg);
    struct siov_xlate x;
    for (int i = 0; i < 3; i++)
        assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 0x10, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(log.n, 0); /* hits that agree with memory */
    struct siov_atc_stats s;
    siov_atc_stats(e.atc, &s);
    assert_int_equal(s.hits, 2);
    assert_int_equal(s.ats_requests, 1);
    /* the page moves without a device-TLB invalidation */
    tl_w64(e.t, e.leaf[1][0], (tl_r64(e.t, e.leaf[1][0]) & ~SIOV_SL_ADDR) | page_out(1, 7));
    q_run(&e.q, dsc(SIOV_DSC_IOTLB, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL, 0), 0);
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 0x10, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    assert_int_equal(x.addr, page_out(1, 0) + 0x10); /* the stale answer is still given */
    assert_int_equal(log.n, 1);
    assert_int_equal(log.last.caches, SIOV_CACHE_ATC);
    assert_int_equal(log.last.sid, SID);
    assert_int_equal(log.last.pasid, PASID);
    assert_int_equal(log.last.iova, PAGE_IOVA + 0x10);
    assert_int_equal(log.last.cached_fault, SIOV_OK);
    assert_int_equal(log.last.fresh_fault, SIOV_OK);
    assert_int_equal(log.last.cached.addr, page_out(1, 0) + 0x10);
    assert_int_equal(log.last.fresh.addr, page_out(1, 7) + 0x10);
    /* unmapped: the fresh answer is not present */
    tl_w64(e.t, e.leaf[1][0], 0);
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 0x10, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(log.n, 2);
    assert_int_equal(log.last.fresh_fault, SIOV_ERR_NOT_PRESENT);
    assert_int_equal(tl_stats(e.t).stale_hits, 2);
    /* made read-only: a writable ATC entry is stale; a read-only one would not be */
    tl_w64(e.t, e.leaf[1][1], tl_r64(e.t, e.leaf[1][1]));
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + KiB4, SIOV_ACCESS_WRITE, &x), SIOV_OK);
    tl_w64(e.t, e.leaf[1][1], tl_r64(e.t, e.leaf[1][1]) & ~SIOV_SL_W);
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + KiB4, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(log.n, 3);
    assert_int_equal(log.last.fresh_fault, SIOV_ERR_NOT_PRESENT);
    /* the device-TLB invalidation the driver forgot ends it */
    q_run(&e.q, d_pdevtlb(SID, PASID), r8(0, UINT64_MAX, false));
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA + 0x10, SIOV_ACCESS_READ, &x), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(log.n, 3);
    env_free(&e);
}

/* ------------------------------------------------------------ grace period */
/* Guest memory whose writes to one page block until released: a translated
   DMA held in flight. */
struct slow_mem {
    uint8_t *ram;
    uint64_t size, hold_page;
    pthread_mutex_t m;
    pthread_cond_t c;
    bool holding, release;
};

static int sm_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct slow_mem *m = opaque;
    if (gpa >= m->size || len > m->size - gpa)
        return -EFAULT;
    memcpy(dst, m->ram + gpa, len);
    return 0;
}

static int sm_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct slow_mem *m = opaque;
    if (gpa >= m->size || len > m->size - gpa)
        return -EFAULT;
    if ((gpa & SIOV_PAGE_MASK) == m->hold_page) {
        pthread_mutex_lock(&m->m);
        m->holding = true;
        pthread_cond_broadcast(&m->c);
        while (!m->release)
            pthread_cond_wait(&m->c, &m->m);
        pthread_mutex_unlock(&m->m);
    }
    memcpy(m->ram + gpa, src, len);
    return 0;
}

struct dma_job {
    struct siov_atc *atc;
    uint64_t iova;
    siov_fault f;
};

static void *dma_thread(void *arg)
{
    struct dma_job *j = arg;
    uint8_t b[16] = {1, 2, 3};
    j->f = siov_atc_dma_write(j->atc, PASID, j->iova, b, sizeof(b));
    return NULL;
}

struct inv_job {
    struct q *q;
    uint32_t seq;
};

static void *inv_thread(void *arg)
{
    struct inv_job *j = arg;
    q_put(j->q, d_pdevtlb(SID, PASID), r8(0, UINT64_MAX, false));
    j->seq = q_wait(j->q);
    q_kick(j->q);
    return NULL;
}

static void test_atc_grace_period(void **state)
{
    (void)state;
    struct slow_mem m = {.size = MEM_SIZE, .hold_page = page_out(1, 2)};
    m.ram = calloc(1, MEM_SIZE);
    pthread_mutex_init(&m.m, NULL);
    pthread_cond_init(&m.c, NULL);
    struct siov_mem_ops ops = {.read = sm_read, .write = sm_write};
    struct siov_mem *mem = siov_mem_new(&ops, &m);
    struct siov_iommu *iommu = siov_iommu_new(mem, NULL);
    /* the tables, built in a flat unit's image, copied in */
    struct env e;
    env_new(&e, 64, NULL);
    assert_int_equal(siov_mem_read(e.t->mem, 0, m.ram, MEM_SIZE - (4ull << 20)), 0);
    struct siov_atc *atc = siov_atc_new(iommu, SID, 64);
    siov_mmio_write(iommu, SIOV_REG_RTADDR, e.t->root | siov_set(0, SIOV_RTADDR_TTM, SIOV_TTM_SCALABLE), 8);
    siov_mmio_write(iommu, SIOV_REG_GCMD, SIOV_GCMD_SRTP, 4);
    siov_mmio_write(iommu, SIOV_REG_GCMD, SIOV_GCMD_TE, 4);
    struct tl wrap = {.mem = mem, .iommu = iommu, .next_page = e.t->next_page};
    struct q q;
    q_init(&q, &wrap);
    /* one invalidation first: the DMA below is counted under the second reader generation */
    q_put(&q, d_pdevtlb(SID, PASID), r8(PAGE_IOVA + 5 * KiB4, KiB4, false));
    uint32_t first = q_wait(&q);
    q_kick(&q);
    assert_int_equal(m.ram[STATUS], first & 0xFF);
    pthread_t dt, it;
    struct dma_job dj = {atc, PAGE_IOVA + 2 * KiB4, SIOV_OK};
    pthread_create(&dt, NULL, dma_thread, &dj);
    pthread_mutex_lock(&m.m);
    while (!m.holding)
        pthread_cond_wait(&m.c, &m.m);
    pthread_mutex_unlock(&m.m);
    /* the DMA is in flight: the invalidation drops the entry at once ... */
    struct inv_job ij = {&q, 0};
    pthread_create(&it, NULL, inv_thread, &ij);
    struct siov_atc_stats s;
    do {
        sched_yield();
        siov_atc_stats(atc, &s);
    } while (s.invalidations < 2);
    assert_int_equal(siov_atc_entries(atc, NULL, 0), 0);
    /* ... but does not complete while the DMA may still use it */
    for (int i = 0; i < 1000; i++)
        sched_yield();
    assert_int_equal(siov_iommu_devtlb_outstanding(iommu), 1);
    assert_int_not_equal((uint32_t)(m.ram[STATUS] | m.ram[STATUS + 1] << 8), first + 1);
    pthread_mutex_lock(&m.m);
    m.release = true;
    pthread_cond_broadcast(&m.c);
    pthread_mutex_unlock(&m.m);
    pthread_join(dt, NULL);
    pthread_join(it, NULL);
    assert_int_equal(dj.f, SIOV_OK);
    assert_int_equal(m.ram[page_out(1, 2)], 1); /* the DMA finished first */
    while (siov_iommu_devtlb_outstanding(iommu))
        sched_yield();
    assert_int_equal(m.ram[STATUS], ij.seq & 0xFF);
    siov_atc_free(atc);
    siov_iommu_free(iommu);
    siov_mem_free(mem);
    env_free(&e);
    pthread_mutex_destroy(&m.m);
    pthread_cond_destroy(&m.c);
    free(m.ram);
}

/* ------------------------------------------------------------------- DMA */
static void test_atc_dma(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, 64, NULL);
    uint8_t buf[3 * 4096], back[sizeof(buf)];
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(i ^ 0x3C);
    /* three pages from 0x800 into page 1: four translated pieces */
    assert_int_equal(siov_atc_dma_write(e.atc, PASID, PAGE_IOVA + KiB4 + 0x800, buf, sizeof(buf)), SIOV_OK);
    assert_int_equal(siov_mem_read(e.t->mem, page_out(1, 1) + 0x800, back, 0x800), 0);
    assert_memory_equal(back, buf, 0x800);
    assert_int_equal(siov_mem_read(e.t->mem, page_out(1, 4), back, 0x800), 0);
    assert_memory_equal(back, buf + 3 * 4096 - 0x800, 0x800);
    memset(back, 0, sizeof(back));
    assert_int_equal(siov_atc_dma_read(e.atc, PASID, PAGE_IOVA + KiB4 + 0x800, back, sizeof(back)), SIOV_OK);
    assert_memory_equal(back, buf, sizeof(buf));
    assert_int_equal(tl_stats(e.t).translated_requests, 8);
    assert_int_equal(tl_stats(e.t).walks, 4);
    struct siov_atc_stats s;
    siov_atc_stats(e.atc, &s);
    assert_int_equal(s.ats_requests, 4);
    /* a fault midway stops it: the pages before it were written */
    memset(back, 0, sizeof(back));
    assert_int_equal(siov_atc_dma_read(e.atc, 1, PAGE_IOVA, back, 16), SIOV_ERR_NOT_PRESENT); /* PASID 1: no entry */
    assert_int_equal(siov_atc_dma_write(e.atc, PASID, PAGE_IOVA + 7 * KiB4, buf, 2 * 4096), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(siov_mem_read(e.t->mem, page_out(1, 7), back, 4096), 0);
    assert_memory_equal(back, buf, 4096);
    /* bad arguments */
    assert_int_equal(siov_atc_dma_read(NULL, PASID, 0, back, 1), SIOV_FAULT_RTA_1);
    assert_int_equal(siov_atc_dma_read(e.atc, PASID, 0, NULL, 1), SIOV_ERR_BUS);
    assert_int_equal(siov_atc_dma_write(e.atc, PASID, UINT64_MAX - 2, buf, 8), SIOV_ERR_BUS);
    assert_int_equal(siov_atc_dma_read(e.atc, PASID, PAGE_IOVA, back, 0), SIOV_OK);
    env_free(&e);
}

/* S.1: a write without PASID to the interrupt range goes untranslated. */
static void test_atc_untranslated_only(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, 64, NULL);
    uint32_t msi = 0x41;
    struct siov_xlate x;
    assert_int_equal(atc_xl(&e, 0, SIOV_INTR_BASE, SIOV_ACCESS_WRITE, &x), SIOV_ERR_NOT_PRESENT);
    assert_int_equal(siov_atc_entries(e.atc, NULL, 0), 0); /* U=1: not kept */
    siov_fault want = siov_dma_write(e.t->iommu, SID, SIOV_NO_PASID, SIOV_INTR_BASE, &msi, 4);
    assert_int_equal(siov_atc_dma_write(e.atc, SIOV_NO_PASID, SIOV_INTR_BASE, &msi, 4), want);
    env_free(&e);
}

/* ----------------------------------------------------------- key details */
static void test_atc_keys(void **state)
{
    (void)state;
    struct env e;
    env_new(&e, 64, NULL);
    struct siov_xlate x;
    /* privileged and user translations are kept apart */
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, &x), SIOV_OK);
    struct siov_atc_entry ent[4];
    assert_int_equal(siov_atc_entries(e.atc, ent, 4), 2);
    assert_false(ent[0].priv);
    assert_true(ent[1].priv);
    /* a page invalidation drops both */
    q_run(&e.q, d_pdevtlb(SID, PASID), r8(PAGE_IOVA, KiB4, false));
    assert_int_equal(siov_atc_entries(e.atc, NULL, 0), 0);
    /* PRIV without PASID is a user request */
    assert_int_equal(atc_xl(&e, 0, PAGE_IOVA, SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, &x), SIOV_OK);
    assert_int_equal(siov_atc_entries(e.atc, ent, 4), 1);
    assert_false(ent[0].priv);
    assert_int_equal(ent[0].pasid, SIOV_NO_PASID);
    /* a PASID above 20 bits never hits and its request is refused */
    assert_int_equal(siov_atc_translate(e.atc, SIOV_PASID_MAX + 1 + PASID, PAGE_IOVA, SIOV_ACCESS_READ, &x),
                     SIOV_FAULT_SGN_10);
    /* PASIDs that share a generation slot share PASID-wide invalidations
       (documented: 64 slots for 64 entries) */
    assert_int_equal(atc_xl(&e, 1, PAGE_IOVA, SIOV_ACCESS_READ, &x), SIOV_OK);
    q_run(&e.q, d_pdevtlb(SID, PASID + 64), r8(0, UINT64_MAX, false));
    assert_int_equal(siov_atc_entries(e.atc, NULL, 0), 1); /* only the no-PASID one stays */
    env_free(&e);
}

static void test_atc_misuse(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(NULL, &q);
    errno = 0;
    assert_null(siov_atc_new(NULL, SID, 64));
    assert_int_equal(errno, EINVAL);
    assert_null(siov_atc_new(t->iommu, SID, 0));
    assert_null(siov_atc_new(t->iommu, SID, (1u << 24) + 1));
    struct siov_atc *a = siov_atc_new(t->iommu, SID, 1); /* rounded up to 4 */
    assert_non_null(a);
    struct siov_xlate x;
    assert_int_equal(siov_atc_translate(NULL, PASID, 0, SIOV_ACCESS_READ, &x), SIOV_FAULT_RTA_1);
    assert_int_equal(siov_atc_translate(a, PASID, 0, SIOV_ACCESS_READ, NULL), SIOV_FAULT_RTA_1);
    assert_int_equal(siov_atc_translate_slow(NULL, PASID, 0, SIOV_ACCESS_READ, &x), SIOV_FAULT_RTA_1);
    struct siov_atc_stats s;
    memset(&s, 0xFF, sizeof(s));
    siov_atc_stats(NULL, &s);
    assert_int_equal(s.hits + s.misses + s.ats_requests + s.invalidations + s.entries_dropped, 0);
    siov_atc_stats(a, NULL);
    assert_int_equal(siov_atc_entries(NULL, NULL, 0), 0);
    siov_atc_set_page_response(NULL, NULL, NULL);
    siov_atc_free(NULL);
    /* no root entry for the device: the unit's UR reaches the caller */
    assert_int_equal(siov_atc_translate(a, PASID, 0, SIOV_ACCESS_READ, &x), SIOV_FAULT_SRT_2);
    siov_atc_free(a);
    /* freeing detached the port: the sid takes a new one */
    a = siov_atc_new(t->iommu, SID, 64);
    assert_non_null(a);
    siov_atc_free(a);
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_delivery),
        cmocka_unit_test(test_no_port_completes),
        cmocka_unit_test(test_itag_exhaustion),
        cmocka_unit_test(test_timeout),
        cmocka_unit_test(test_stalled_wait_is_held),
        cmocka_unit_test(test_timeout_several),
        cmocka_unit_test(test_invalid_completion),
        cmocka_unit_test(test_no_device_tlb),
        cmocka_unit_test(test_port_attach_detach),
        cmocka_unit_test(test_notifiers),
        cmocka_unit_test(test_notifiers_registers),
        cmocka_unit_test(test_atc_granularity),
        cmocka_unit_test(test_atc_hits_and_misses),
        cmocka_unit_test(test_atc_full_set_keeps_each_translation),
        cmocka_unit_test(test_atc_read_only_fill),
        cmocka_unit_test(test_atc_only_devtlb_empties),
        cmocka_unit_test(test_atc_stale_checker),
        cmocka_unit_test(test_atc_grace_period),
        cmocka_unit_test(test_atc_dma),
        cmocka_unit_test(test_atc_untranslated_only),
        cmocka_unit_test(test_atc_keys),
        cmocka_unit_test(test_atc_misuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

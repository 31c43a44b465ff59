/* What the unit sends out once its lock drops (src/model/outbox.c): messages
 * queued while another delivery runs wait for it and go out in order; a port
 * detached (or a queue disabled) before its queued messages go out gets none
 * of them; a detach waits for a delivery running on another thread; page
 * responses reach only a port that listens, counted by code either way; and
 * the notifier table grows past its first allocation. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h" /* SIOV_ITAGS */
#include "testlib.h"

#define MEM_SIZE (16ull << 20)
#define SID_A SIOV_SID(0, 3, 0)
#define SID_B SIOV_SID(0, 4, 0)
#define SID_C SIOV_SID(0, 5, 0)
#define STATUS (12ull << 20)

/* ---------------------------------------------------------------- queue */
struct q {
    struct tl *t;
    uint64_t base;
    unsigned tail;
    uint32_t seq;
};

static struct tl *qunit(struct q *q)
{
    struct tl *t = tl_new_sized(NULL, MEM_SIZE);
    tl_enable(t, SIOV_TTM_SCALABLE);
    memset(q, 0, sizeof(*q));
    q->t = t;
    q->base = tl_page(t);
    siov_mmio_write(t->iommu, SIOV_REG_IQA, q->base | SIOV_IQA_DW, 8);
    tl_gcmd(t, SIOV_GCMD_QIE, 0);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_QIES);
    return t;
}

static void q_put(struct q *q, uint64_t q0, uint64_t q1)
{
    tl_w64(q->t, q->base + q->tail, q0);
    tl_w64(q->t, q->base + q->tail + 8, q1);
    tl_w64(q->t, q->base + q->tail + 16, 0);
    tl_w64(q->t, q->base + q->tail + 24, 0);
    q->tail = (q->tail + 32) % SIOV_PAGE_SIZE;
}

static uint32_t q_wait(struct q *q)
{
    q_put(q, siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, ++q->seq), STATUS);
    return q->seq;
}

static void q_kick(struct q *q) { siov_mmio_write(q->t->iommu, SIOV_REG_IQT, q->tail, 8); }
static bool waited(struct q *q, uint32_t seq) { return (uint32_t)tl_r64(q->t, STATUS) == seq; }

static uint64_t d_devtlb(siov_sid sid)
{
    return siov_dsc_make_type(SIOV_DSC_DEVTLB) | siov_set(0, SIOV_DTLB0_SID, sid);
}

static uint64_t d_pgrsp(siov_sid sid, unsigned code)
{
    return siov_dsc_make_type(SIOV_DSC_PGRP_RESP) | siov_set(0, SIOV_PGRSP0_RID, sid) |
           siov_set(0, SIOV_PGRSP0_RC, code);
}

/* ------------------------------------------------------------ devices */
struct dev {
    struct siov_iommu *iommu;
    siov_sid sid;
    unsigned invs, resps;
    unsigned itag;
    uint64_t addr;
    uint16_t prgi;
    unsigned code;
    /* first invalidation: complete it, then detach `victim` (if set) */
    bool complete_then_detach;
    siov_sid victim;
    int detach_rc;
    /* first invalidation: block until released */
    bool block;
    volatile int entered, released, returned;
};

static void dev_inv(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                    unsigned itag)
{
    (void)pasid, (void)size, (void)global;
    struct dev *d = opaque;
    assert_int_equal(sid, d->sid);
    d->invs++;
    d->itag = itag;
    d->addr = addr;
    if (d->complete_then_detach && d->invs == 1) {
        siov_devtlb_complete(d->iommu, sid, itag);
        d->detach_rc = siov_device_port(d->iommu, d->victim, NULL, NULL);
    }
    if (d->block && d->invs == 1) {
        __atomic_store_n(&d->entered, 1, __ATOMIC_SEQ_CST);
        while (!__atomic_load_n(&d->released, __ATOMIC_SEQ_CST))
            sched_yield();
        __atomic_store_n(&d->returned, 1, __ATOMIC_SEQ_CST);
    }
}

static void dev_resp(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    (void)pasid;
    struct dev *d = opaque;
    assert_int_equal(sid, d->sid);
    d->resps++;
    d->prgi = prgi;
    d->code = code;
}

static const struct siov_device_ops dev_ops = {dev_inv, dev_resp};

static void wait_entered(struct dev *d)
{
    while (!__atomic_load_n(&d->entered, __ATOMIC_SEQ_CST))
        sched_yield();
}

/* A device that records each invalidation's ITag and completes it at once. */
struct tagger {
    struct siov_iommu *iommu;
    unsigned n, tags[SIOV_ITAGS + 3];
};

static void tag_inv(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                    unsigned itag)
{
    (void)pasid, (void)addr, (void)size, (void)global;
    struct tagger *g = opaque;
    if (g->n < SIOV_ITAGS + 3)
        g->tags[g->n] = itag;
    g->n++;
    siov_devtlb_complete(g->iommu, sid, itag);
}

/* --------------------------------------------------------------- tests */
/* A callback completes its invalidation, which lets the queue send to B and
   C and answer B's page group; the messages wait behind the running
   delivery. It then detaches B: B gets neither message, C gets its own. */
static void test_detach_drops_queued_messages(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(&q);
    struct dev a = {.iommu = t->iommu, .sid = SID_A, .complete_then_detach = true, .victim = SID_B, .detach_rc = 1};
    struct dev b = {.iommu = t->iommu, .sid = SID_B}, c = {.iommu = t->iommu, .sid = SID_C};
    assert_int_equal(siov_device_port(t->iommu, SID_A, &dev_ops, &a), 0);
    assert_int_equal(siov_device_port(t->iommu, SID_B, &dev_ops, &b), 0);
    assert_int_equal(siov_device_port(t->iommu, SID_C, &dev_ops, &c), 0);
    q_put(&q, d_devtlb(SID_A), 0x1000);
    uint32_t first = q_wait(&q);
    q_put(&q, d_devtlb(SID_B), 0x2000); /* B's messages first and last in the outbox */
    q_put(&q, d_devtlb(SID_C), 0x3000);
    q_put(&q, d_pgrsp(SID_B, SIOV_PRQ_SUCCESS), 0);
    uint32_t second = q_wait(&q);
    q_kick(&q);
    assert_int_equal(a.invs, 1);
    assert_int_equal(a.detach_rc, 0);
    assert_true(waited(&q, first)); /* A completed: the first wait is done */
    assert_int_equal(b.invs, 0); /* dropped: B was gone before its turn */
    assert_int_equal(b.resps, 0);
    assert_int_equal(c.invs, 1);
    assert_int_equal(c.addr, 0x3000);
    assert_int_equal(tl_stats(t).prq_resp_success, 1); /* the response was sent, and lost */
    /* B's invalidation counts as done (a detached device holds nothing); C's waits */
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 1);
    assert_false(waited(&q, second));
    siov_devtlb_complete(t->iommu, SID_C, c.itag);
    assert_true(waited(&q, second));
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4), 0);
    tl_free(t);
}

struct kick_arg {
    struct q *q;
};

static void *kick_thread(void *arg)
{
    q_kick(((struct kick_arg *)arg)->q);
    return NULL;
}

struct detach_arg {
    struct siov_iommu *iommu;
    siov_sid sid;
    int rc;
    volatile int done;
};

static void *detach_thread(void *arg)
{
    struct detach_arg *d = arg;
    d->rc = siov_device_port(d->iommu, d->sid, NULL, NULL);
    __atomic_store_n(&d->done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* While one thread delivers (blocked in A's callback), a send the queue makes
   on another thread waits behind it; disabling the queue then drops it (its
   ITag is gone with the queue), while a page response queued the same way is
   still delivered. Whichever ITags the two sends hold. */
static void queue_disabled_behind_a_delivery(unsigned used)
{
    struct q q;
    struct tl *t = qunit(&q);
    struct dev a = {.iommu = t->iommu, .sid = SID_A, .block = true};
    struct dev c = {.iommu = t->iommu, .sid = SID_C};
    struct tagger b = {.iommu = t->iommu};
    static const struct siov_device_ops b_ops = {tag_inv, NULL};
    assert_int_equal(siov_device_port(t->iommu, SID_B, &b_ops, &b), 0);
    for (unsigned i = 0; i < used; i++) { /* ITags taken and given back: the next one is `used` */
        q_put(&q, d_devtlb(SID_B), 0);
        q_kick(&q);
    }
    assert_int_equal(b.n, used);
    assert_int_equal(siov_device_port(t->iommu, SID_A, &dev_ops, &a), 0);
    assert_int_equal(siov_device_port(t->iommu, SID_C, &dev_ops, &c), 0);
    q_put(&q, d_devtlb(SID_A), 0x1000);
    struct kick_arg ka = {&q};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, kick_thread, &ka), 0);
    wait_entered(&a);
    q_put(&q, d_pgrsp(SID_C, SIOV_PRQ_INVALID), siov_set(0, SIOV_PGRSP1_PRGI, 7));
    q_put(&q, d_devtlb(SID_C), 0x5000);
    q_kick(&q); /* processed here; delivered by the other thread */
    assert_int_equal(c.invs, 0);
    assert_int_equal(c.resps, 0);
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 2);
    tl_gcmd(t, 0, SIOV_GCMD_QIE);
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    __atomic_store_n(&a.released, 1, __ATOMIC_SEQ_CST);
    pthread_join(th, NULL);
    assert_int_equal(c.invs, 0);  /* dropped with the queue */
    assert_int_equal(c.resps, 1); /* a response is no invalidation: it goes */
    assert_int_equal(c.prgi, 7);
    assert_int_equal(c.code, SIOV_PRQ_INVALID);
    assert_int_equal(a.invs, 1);
    assert_int_equal(a.itag, used);
    tl_free(t);
}

static void test_queue_disabled_behind_a_delivery(void **state)
{
    (void)state;
    queue_disabled_behind_a_delivery(0);
    queue_disabled_behind_a_delivery(SIOV_ITAGS - 1); /* C's send takes ITag 0, after the wrap */
}

/* Detaching a port waits for a delivery to it running on another thread. */
static void test_detach_waits_for_delivery(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(&q);
    struct dev a = {.iommu = t->iommu, .sid = SID_A, .block = true};
    assert_int_equal(siov_device_port(t->iommu, SID_A, &dev_ops, &a), 0);
    q_put(&q, d_devtlb(SID_A), 0x1000);
    uint32_t seq = q_wait(&q);
    struct kick_arg ka = {&q};
    pthread_t kicker, detacher;
    assert_int_equal(pthread_create(&kicker, NULL, kick_thread, &ka), 0);
    wait_entered(&a);
    struct detach_arg da = {t->iommu, SID_A, 1, 0};
    assert_int_equal(pthread_create(&detacher, NULL, detach_thread, &da), 0);
    sleep_ms(100);
    assert_false(__atomic_load_n(&da.done, __ATOMIC_SEQ_CST)); /* still waiting */
    __atomic_store_n(&a.released, 1, __ATOMIC_SEQ_CST);
    pthread_join(detacher, NULL);
    pthread_join(kicker, NULL);
    assert_true(a.returned);
    assert_int_equal(da.rc, 0);
    /* the detached device's invalidation counts as complete: the wait goes on */
    assert_true(waited(&q, seq));
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    tl_free(t);
}

/* A page response reaches a port only when it listens; every one is counted by
   its code, delivered or not. */
static void test_page_responses_counted(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(&q);
    struct dev a = {.iommu = t->iommu, .sid = SID_A};
    const struct siov_device_ops inv_only = {dev_inv, NULL};
    assert_int_equal(siov_device_port(t->iommu, SID_A, &inv_only, &a), 0);
    const unsigned codes[] = {SIOV_PRQ_SUCCESS, SIOV_PRQ_INVALID, SIOV_PRQ_FAILURE, 2, 0xE};
    for (unsigned i = 0; i < 5; i++)
        q_put(&q, d_pgrsp(SID_A, codes[i]), 0);
    q_put(&q, d_pgrsp(SID_B, SIOV_PRQ_SUCCESS), 0); /* no port at all */
    uint32_t seq = q_wait(&q);
    q_kick(&q);
    assert_true(waited(&q, seq));
    assert_int_equal(a.resps, 0);
    struct siov_stats s = tl_stats(t);
    assert_int_equal(s.prq_resp_success, 2);
    assert_int_equal(s.prq_resp_invalid, 1);
    assert_int_equal(s.prq_resp_failure, 1);
    assert_int_equal(s.prq_resp_reserved, 2);
    assert_int_equal(s.prq_resp_unit, 0);
    /* the same port, now listening */
    struct dev a2 = {.iommu = t->iommu, .sid = SID_A};
    assert_int_equal(siov_device_port(t->iommu, SID_A, NULL, NULL), 0);
    assert_int_equal(siov_device_port(t->iommu, SID_A, &dev_ops, &a2), 0);
    q_put(&q, d_pgrsp(SID_A, SIOV_PRQ_FAILURE), siov_set(0, SIOV_PGRSP1_PRGI, 0x1FF));
    seq = q_wait(&q);
    q_kick(&q);
    assert_true(waited(&q, seq));
    assert_int_equal(a2.resps, 1);
    assert_int_equal(a2.prgi, 0x1FF);
    assert_int_equal(a2.code, SIOV_PRQ_FAILURE);
    assert_int_equal(tl_stats(t).prq_resp_failure, 2);
    tl_free(t);
}

/* Notifiers past the table's first allocation are all called, in order. */
struct evlog {
    unsigned *seen, *count, id;
};

static void ev_cb(void *opaque, const struct siov_inval_event *ev)
{
    struct evlog *l = opaque;
    assert_true(ev->kind == SIOV_INV_IOTLB || ev->kind == SIOV_INV_DEVTLB);
    if (*l->count < 64)
        l->seen[*l->count] = l->id;
    (*l->count)++;
}

static void test_many_notifiers(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(&q);
    unsigned seen[64], count = 0;
    struct evlog logs[9];
    for (unsigned i = 0; i < 9; i++) {
        logs[i] = (struct evlog){seen, &count, i};
        assert_int_equal(siov_iommu_add_notifier(t->iommu, ev_cb, &logs[i]), 0);
    }
    q_put(&q, siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL), 0);
    uint32_t seq = q_wait(&q);
    q_kick(&q);
    assert_true(waited(&q, seq));
    assert_int_equal(count, 9);
    for (unsigned i = 0; i < 9; i++)
        assert_int_equal(seen[i], i);
    /* a port on the last bus: reached, and freed with the unit */
    struct dev last = {.iommu = t->iommu, .sid = SIOV_SID(0xff, 31, 7)};
    assert_int_equal(siov_device_port(t->iommu, last.sid, &dev_ops, &last), 0);
    q_put(&q, d_devtlb(last.sid), 0x9000);
    q_kick(&q);
    assert_int_equal(last.invs, 1);
    assert_int_equal(last.addr, 0x9000);
    assert_int_equal(count, 9 + 9); /* and each notifier saw the device-TLB invalidation */
    tl_free(t);
}

/* A single notifier sees a device-TLB invalidation, to a sid without a
   port (completed at once) and to one with a port. */
struct devtlb_log {
    unsigned n;
    struct siov_inval_event ev[4];
};

static void devtlb_cb(void *opaque, const struct siov_inval_event *ev)
{
    struct devtlb_log *l = opaque;
    if (l->n < 4)
        l->ev[l->n] = *ev;
    l->n++;
}

static void test_one_notifier_sees_device_tlb_invalidations(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(&q);
    struct devtlb_log log = {0};
    assert_int_equal(siov_iommu_add_notifier(t->iommu, devtlb_cb, &log), 0);
    struct dev a = {.iommu = t->iommu, .sid = SID_A};
    assert_int_equal(siov_device_port(t->iommu, SID_A, &dev_ops, &a), 0);
    q_put(&q, d_devtlb(SID_B), 0x7000); /* no port */
    q_put(&q, d_devtlb(SID_A), 0x9000);
    q_kick(&q);
    assert_int_equal(a.invs, 1);
    assert_int_equal(log.n, 2);
    const siov_sid sid[2] = {SID_B, SID_A};
    const uint64_t addr[2] = {0x7000, 0x9000};
    for (unsigned i = 0; i < 2; i++) {
        assert_int_equal(log.ev[i].kind, SIOV_INV_DEVTLB);
        assert_int_equal(log.ev[i].sid, sid[i]);
        assert_int_equal(log.ev[i].addr, addr[i]);
    }
    tl_free(t);
}

/* ITags go round: an invalidation after one completed at once takes the next
   ITag, not the one just freed, so a late completion of a timed-out ITag is
   unlikely to meet its reuse. */
static void test_itags_go_round(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(&q);
    struct tagger g = {.iommu = t->iommu};
    static const struct siov_device_ops ops = {tag_inv, NULL};
    assert_int_equal(siov_device_port(t->iommu, SID_A, &ops, &g), 0);
    for (unsigned i = 0; i < SIOV_ITAGS + 3; i++) {
        q_put(&q, d_devtlb(SID_A), 0x1000 * (uint64_t)i);
        q_kick(&q);
        assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    }
    assert_int_equal(g.n, SIOV_ITAGS + 3);
    for (unsigned i = 0; i < SIOV_ITAGS + 3; i++)
        assert_int_equal(g.tags[i], i % SIOV_ITAGS);
    assert_false(siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4) & SIOV_FSTS_ICE);
    tl_free(t);
}

/* The ITag table's edges, with the round-robin hand off zero and a device at
   SID 0: a time-out with nothing outstanding changes nothing (no ITE, no
   event), detaching the device leaves no ITag counted, and a completion
   naming ITag SIOV_ITAGS (one past the table) is invalid. */
static void test_itag_table_edges(void **state)
{
    (void)state;
    struct q q;
    struct tl *t = qunit(&q);
    siov_iommu_expire(t->iommu);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4), 0);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FECTL, 4), SIOV_ECTL_IM); /* no event held */
    struct tagger g = {.iommu = t->iommu};
    static const struct siov_device_ops ops = {tag_inv, NULL};
    const siov_sid sid0 = SIOV_SID(0, 0, 0);
    assert_int_equal(siov_device_port(t->iommu, sid0, &ops, &g), 0);
    q_put(&q, d_devtlb(sid0), 0);
    q_kick(&q);
    assert_int_equal(g.n, 1); /* ITag 0, completed: the hand is at 1 */
    assert_int_equal(siov_device_port(t->iommu, sid0, NULL, NULL), 0);
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    siov_devtlb_complete(t->iommu, sid0, SIOV_ITAGS);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4), SIOV_FSTS_ICE);
    assert_int_equal(siov_iommu_devtlb_outstanding(t->iommu), 0);
    assert_int_equal(siov_device_port(t->iommu, sid0, &ops, &g), 0); /* and the hand went on */
    q_put(&q, d_devtlb(sid0), 0);
    q_kick(&q);
    assert_int_equal(g.n, 2);
    assert_int_equal(g.tags[1], 1);
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_detach_drops_queued_messages),
        cmocka_unit_test(test_queue_disabled_behind_a_delivery),
        cmocka_unit_test(test_detach_waits_for_delivery),
        cmocka_unit_test(test_page_responses_counted),
        cmocka_unit_test(test_many_notifiers),
        cmocka_unit_test(test_one_notifier_sees_device_tlb_invalidations),
        cmocka_unit_test(test_itags_go_round),
        cmocka_unit_test(test_itag_table_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

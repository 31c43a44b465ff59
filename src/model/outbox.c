/* What the unit sends out: device-TLB invalidations and page group
   responses to device ports, and invalidation events to notifiers (port.h).
   All are queued while the
   unit's lock is held and delivered once it drops, in queue order, by one
   thread at a time, so that the callbacks may call back into the unit. The
   port and notifier tables live here too. */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ------------------------------------------------------------- ports */
const struct siov_port *siov_port_find(const struct siov_iommu *u, siov_sid sid)
{
    const struct siov_port *bus = u->ports[SIOV_SID_BUS(sid)];
    const struct siov_port *p = bus ? &bus[SIOV_SID_DEVFN(sid)] : NULL;
    return p && p->attached ? p : NULL;
}

int siov_port_set(struct siov_iommu *u, siov_sid sid, const struct siov_device_ops *ops, void *opaque)
{
    struct siov_port **bus = &u->ports[SIOV_SID_BUS(sid)];
    const struct siov_port *cur = siov_port_find(u, sid);
    if (!ops) {
        if (!cur)
            return -ENOENT;
        memset(&(*bus)[SIOV_SID_DEVFN(sid)], 0, sizeof(struct siov_port));
        return 0;
    }
    if (cur)
        return -EBUSY;
    if (!*bus && !(*bus = calloc(256, sizeof(**bus))))
        return -ENOMEM;
    (*bus)[SIOV_SID_DEVFN(sid)] = (struct siov_port){*ops, opaque, true};
    return 0;
}

/* ---------------------------------------------------------- notifiers */
int siov_notifier_add(struct siov_iommu *u, const struct siov_notifier *n)
{
    if (u->nnotif == u->cnotif) {
        unsigned c = u->cnotif ? 2 * u->cnotif : 4;
        struct siov_notifier *p = realloc(u->notif, c * sizeof(*p));
        if (!p)
            return -ENOMEM;
        u->notif = p;
        u->cnotif = c;
    }
    u->notif[u->nnotif++] = *n;
    return 0;
}

/* ------------------------------------------------------------ outbox */
bool siov_out_queue(struct siov_iommu *u, const struct siov_outmsg *m)
{
    if (u->nout == u->cout) {
        unsigned c = u->cout ? 2 * u->cout : 16;
        struct siov_outmsg *p = realloc(u->out, c * sizeof(*p));
        if (!p)
            return false;
        u->out = p;
        u->cout = c;
    }
    u->out[u->nout++] = *m;
    return true;
}

void siov_out_event(struct siov_iommu *u, const struct siov_inval_event *ev)
{
    if (!u->nnotif)
        return;
    struct siov_outmsg m = {.notify = true, .ev = *ev};
    (void)siov_out_queue(u, &m); /* out of memory: the event is lost, the unit goes on */
}

void siov_out_page_response(struct siov_iommu *u, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code,
                            bool unit)
{
    uint64_t *by_code = code == SIOV_PRQ_SUCCESS   ? &u->stats.prq_resp_success
                        : code == SIOV_PRQ_INVALID ? &u->stats.prq_resp_invalid
                        : code == SIOV_PRQ_FAILURE ? &u->stats.prq_resp_failure
                                                   : &u->stats.prq_resp_reserved;
    siov_stat_inc(by_code);
    if (unit)
        siov_stat_inc(&u->stats.prq_resp_unit);
    const struct siov_port *p = siov_port_find(u, sid);
    if (!p || !p->ops.page_response)
        return; /* no device model listens: the answer is lost, as on a bus with no one there */
    struct siov_outmsg m = {.respond = true, .ev = {.sid = sid, .pasid = pasid}, .prgi = prgi, .code = code,
                            .port = *p};
    (void)siov_out_queue(u, &m); /* out of memory: the answer is lost; the device asks again */
}

void siov_out_drop_sends(struct siov_iommu *u, siov_sid sid, bool responses)
{
    for (unsigned i = 0; i < u->nout; i++) {
        if (u->out[i].ev.sid != sid)
            continue;
        u->out[i].send = false;
        if (responses)
            u->out[i].respond = false;
    }
}

void siov_out_wait_idle(struct siov_iommu *u)
{
    while (u->out_busy && !pthread_equal(u->out_thread, pthread_self())) {
        pthread_mutex_unlock(&u->lock);
        sched_yield();
        pthread_mutex_lock(&u->lock);
    }
}

/* One message, with the lock not held; notifiers is a snapshot of the table. */
static void deliver(const struct siov_outmsg *m, const struct siov_notifier *notif, unsigned nnotif)
{
    if (m->send) /* send and respond are set only for a port with the callback */
        m->port.ops.devtlb_invalidate(m->port.opaque, m->ev.sid, m->ev.pasid, m->ev.addr, m->ev.size, m->global,
                                      m->itag);
    if (m->respond)
        m->port.ops.page_response(m->port.opaque, m->ev.sid, m->ev.pasid, m->prgi, m->code);
    if (m->notify)
        for (unsigned i = 0; i < nnotif; i++)
            notif[i].fn(notif[i].opaque, &m->ev);
}

/* Under lock: take the queued messages and a copy of the notifier table. */
static bool take(struct siov_iommu *u, struct siov_outmsg **msgs, unsigned *n, struct siov_notifier **notif,
                 unsigned *nnotif)
{
    *msgs = u->out;
    *n = u->nout;
    *notif = NULL;
    *nnotif = 0;
    if (!*n)
        return false;
    u->out = NULL;
    u->nout = u->cout = 0;
    *nnotif = u->nnotif;
    *notif = u->nnotif ? malloc(u->nnotif * sizeof(**notif)) : NULL;
    if (*notif)
        memcpy(*notif, u->notif, u->nnotif * sizeof(**notif));
    else
        *nnotif = 0; /* out of memory: events of this batch reach no notifier */
    return true;
}

void siov_out_flush(struct siov_iommu *u)
{
    pthread_mutex_lock(&u->lock);
    if (u->out_busy || !u->nout) { /* the thread delivering takes ours too, in order */
        pthread_mutex_unlock(&u->lock);
        return;
    }
    u->out_busy = true;
    u->out_thread = pthread_self();
    struct siov_outmsg *msgs;
    struct siov_notifier *notif;
    unsigned n, nnotif;
    while (take(u, &msgs, &n, &notif, &nnotif)) {
        pthread_mutex_unlock(&u->lock);
        for (unsigned i = 0; i < n; i++)
            deliver(&msgs[i], notif, nnotif);
        free(msgs);
        free(notif);
        pthread_mutex_lock(&u->lock);
    }
    u->out_busy = false;
    pthread_mutex_unlock(&u->lock);
}

void siov_out_fini(struct siov_iommu *u)
{
    for (unsigned b = 0; b < 256; b++)
        free(u->ports[b]);
    free(u->out);
    free(u->notif);
}

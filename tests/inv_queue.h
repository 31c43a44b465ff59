/* A test's 256-bit invalidation queue of one page, written through guest
 * memory and MMIO (spec 6.5.2): descriptors go in at the tail, IQT moves
 * only when the test kicks. */
#ifndef SIOV_INV_QUEUE_H
#define SIOV_INV_QUEUE_H

#include "testlib.h"

struct q {
    struct tl *t;
    uint64_t base; /* the queue's page */
    unsigned tail; /* next slot, bytes from base */
    uint32_t seq;  /* status data of the last inv-wait put */
};

/* A fresh page as the queue (IQA with DW), IQT 0, queued invalidation on. */
void q_init(struct q *q, struct tl *t);
/* Write descriptor (q0, q1, 0, 0) at the tail and advance it (no kick). */
void q_put(struct q *q, uint64_t q0, uint64_t q1);
/* Write IQT = the tail: the unit fetches what was put. */
void q_kick(struct q *q);
/* Put an inv-wait with SW and flags writing a new sequence number to status;
   returns that number. */
uint32_t q_put_wait(struct q *q, uint64_t status, uint64_t flags);

#endif

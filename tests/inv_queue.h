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

/* Device-TLB invalidation descriptors (spec 6.5.2.5, 6.5.2.6): qw0 of 0x3
   for sid, of 0x8 for sid and pasid; qw1 of 0x3 (S at bit 0) or of 0x8 (S at
   bit 11, G at bit 0) for [base, base + size). */
uint64_t d_devtlb(siov_sid sid);
uint64_t d_pdevtlb(siov_sid sid, uint32_t pasid);
uint64_t r3(uint64_t base, uint64_t size);
uint64_t r8(uint64_t base, uint64_t size, bool g);

#endif

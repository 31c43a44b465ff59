/* libsiov — page requests (PCIe PRI): the page request queue and page
 * group responses.
 *
 * A device whose translation request came back "not present"
 * (SIOV_ERR_NOT_PRESENT) asks for the page with a page request; the unit
 * writes it into the page request queue (PQH/PQT/PQA, PRS, PECTL and the
 * event registers; <siov/format.h>), software makes the page present and
 * answers the group with a page group response (descriptor 0x9 in the
 * invalidation queue), which reaches the device through its port's
 * page_response (<siov/port.h>); the device then retries.
 *
 * Threads. Any number of device threads may call siov_page_request at once,
 * and with translations and register writes: descriptors are written in the
 * order the unit accepts the requests, under the one lock that guards the
 * queue's tail. Responses the unit itself sends (a last request it could not
 * queue, or refused) reach the port on the calling thread after that lock
 * drops, like every other callback (port.h).
 */
#ifndef SIOV_PRQ_H
#define SIOV_PRQ_H

#include <siov/format.h>
#include <siov/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One page request or stop marker, as the device sends it. */
struct siov_page_request {
    uint32_t pasid;     /* SIOV_NO_PASID: a request without PASID */
    uint64_t addr;      /* page address (low 12 bits ignored) */
    unsigned access;    /* SIOV_ACCESS_READ/WRITE/EXEC/PRIV asked for */
    uint16_t prg_index; /* page request group index (9 bits) */
    bool last;          /* last request of its group (LPIG) */
    bool stop_marker;   /* a PASID stop marker instead of a request */
};

/* A page request (PCIe PRI) or stop marker from device sid, written into the
   page request queue as the spec's descriptor (after the implicit IOTLB
   invalidation of the page, spec Table 27), PQT advanced and PRS.PPR set.
   SIOV_OK when queued, and when dropped as the spec says: PRS.PRO already
   set, or the queue full (PRO is then set); a last request of its group so
   dropped is answered Success by the unit itself. Otherwise the fault reason
   the unit recorded (Table 30: RTA.3 in legacy mode, RTA.4 in abort-DMA mode
   (not recorded), SCT.8 while the context entry's PRE is clear, SCT.6/7/9,
   SRT/SCT/SPD/SPT conditions; FRCD T1=0 T2=1) with an Invalid Request answer
   for a last request. SIOV_ERR_BUS, nothing recorded: translation disabled
   (GSTS.TES=0, answered Invalid Request), ECAP.PRS clear, a stop marker
   without PASID, NULL arguments, or a queue PQA puts outside guest memory
   (answered Success: the device asks again). Stop markers are never answered
   and, as ECAP.SMS says, dropped silently when they cannot be queued.
   docs/spec-notes.md, "Page requests", says each choice. */
SIOV_API siov_fault siov_page_request(struct siov_iommu *iommu, siov_sid sid, const struct siov_page_request *req);

/* Page group response codes, as the descriptor carries them (spec Table
   32); 0x2-0xE are reserved and devices treat them as Response Failure. */
#define SIOV_PRQ_SUCCESS 0x0
#define SIOV_PRQ_INVALID 0x1
#define SIOV_PRQ_FAILURE 0xF

/* The request a page request descriptor (qw[0..1] of the 32 bytes in the
   queue) holds, and its requester id. A descriptor with LPIG=1 and
   RDR=WRR=0 is a stop marker. Returns false when the type is not a page
   request (nothing written). */
static inline bool siov_prq_desc_decode(const uint64_t qw[2], siov_sid *sid, struct siov_page_request *req)
{
    if (siov_get(qw[0], SIOV_PRQ0_TYPE) != SIOV_PRQ_TYPE_PAGE_REQ)
        return false;
    *sid = (siov_sid)siov_get(qw[0], SIOV_PRQ0_RID);
    req->pasid = (qw[0] & SIOV_PRQ0_PP) ? (uint32_t)siov_get(qw[0], SIOV_PRQ0_PASID) : SIOV_NO_PASID;
    req->access = ((qw[1] & SIOV_PRQ1_RDR) ? SIOV_ACCESS_READ : 0) | ((qw[1] & SIOV_PRQ1_WRR) ? SIOV_ACCESS_WRITE : 0) |
                  ((qw[0] & SIOV_PRQ0_EXR) ? SIOV_ACCESS_EXEC : 0) | ((qw[0] & SIOV_PRQ0_PMR) ? SIOV_ACCESS_PRIV : 0);
    req->addr = qw[1] & SIOV_PRQ1_ADDR;
    req->prg_index = (uint16_t)siov_get(qw[1], SIOV_PRQ1_PRGI);
    req->last = (qw[1] & SIOV_PRQ1_LPIG) != 0;
    req->stop_marker = req->last && !(qw[1] & (SIOV_PRQ1_RDR | SIOV_PRQ1_WRR));
    return true;
}

#ifdef __cplusplus
}
#endif
#endif

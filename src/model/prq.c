/* The page request queue (spec 7.4-7.5, 11.4.11; facts 14): its registers
   PQH/PQT/PQA, the status PRS and the page request event (PECTL, PEDATA,
   PEADDR, PEUADDR); the queueing of an accepted request — overflow, the
   implicit IOTLB invalidation of Table 27, the descriptor at PQT — and the
   unit's own answers. Requests are checked above (page_request.c); devices
   are reached only through their ports (outbox.c). */
#include "internal.h"

#define PRS_BITS (SIOV_PRS_PPR | SIOV_PRS_PRO)

static bool prq_supported(const struct siov_iommu *u)
{
    return (u->ecap & SIOV_ECAP_PRS) != 0;
}

/* ------------------------------------------------------------ the event */
/* Hardware sets PPR or PRO: the event fires only when both were clear
   (spec 7.5): IP, or with IM=0 the message. */
static void status_set(struct siov_iommu *u, uint32_t bit)
{
    bool was_clear = !(u->prs & PRS_BITS);
    u->prs |= bit;
    if (!was_clear)
        return;
    if (u->pectl & SIOV_ECTL_IM)
        u->pectl |= SIOV_ECTL_IP;
    else
        siov_msi_queue(u, SIOV_MSI_PRQ);
}

/* PRS is RW1CS; IP clears once software has cleared both PPR and PRO. */
static void prs_write(struct siov_iommu *u, uint32_t v)
{
    u->prs &= ~(v & PRS_BITS);
    if (!(u->prs & PRS_BITS))
        u->pectl &= ~(uint32_t)SIOV_ECTL_IP;
}

/* IM is read-write, IP read-only; clearing IM while IP is set sends the event. */
static void pectl_write(struct siov_iommu *u, uint32_t v)
{
    u->pectl = (u->pectl & SIOV_ECTL_IP) | (v & SIOV_ECTL_IM);
    if (!(v & SIOV_ECTL_IM) && (u->pectl & SIOV_ECTL_IP)) {
        u->pectl &= ~(uint32_t)SIOV_ECTL_IP;
        siov_msi_queue(u, SIOV_MSI_PRQ);
    }
}

/* ------------------------------------------------------------ registers */
uint64_t siov_prq_reg_value(const struct siov_iommu *u, uint64_t base)
{
    if (!prq_supported(u))
        return 0; /* RsvdZ without ECAP.PRS */
    switch (base) {
    case SIOV_REG_PQH: return u->pqh;
    case SIOV_REG_PQT: return u->pqt;
    case SIOV_REG_PQA: return u->pqa;
    case SIOV_REG_PRS: return u->prs;
    case SIOV_REG_PECTL: return u->pectl;
    case SIOV_REG_PEDATA: return u->pedata;
    case SIOV_REG_PEADDR: return u->peaddr;
    case SIOV_REG_PEUADDR: return u->peuaddr;
    default: return 0;
    }
}

void siov_prq_reg_store(struct siov_iommu *u, uint64_t base, uint64_t v)
{
    if (!prq_supported(u))
        return;
    switch (base) {
    case SIOV_REG_PQH: u->pqh = v & SIOV_PQ_PTR; break;
    case SIOV_REG_PQT: u->pqt = v & SIOV_PQ_PTR; break; /* software sets it at setup (spec 7.4.1) */
    case SIOV_REG_PQA: u->pqa = v & ~SIOV_PQA_RSVD; break;
    case SIOV_REG_PRS: prs_write(u, (uint32_t)v); break;
    case SIOV_REG_PECTL: pectl_write(u, (uint32_t)v); break;
    case SIOV_REG_PEDATA: u->pedata = (uint32_t)v & SIOV_FEDATA_DATA; break;
    case SIOV_REG_PEADDR: u->peaddr = (uint32_t)v & ~(uint32_t)SIOV_FEADDR_RSVD; break;
    default: u->peuaddr = (uint32_t)v; break;
    }
}

/* ------------------------------------------------------------ queueing */
/* Table 27: the invalidation hardware performs before queueing a request
   for addr under pe, so that the retry after the response walks again. */
static void implicit_invalidation(struct siov_iommu *u, const struct siov_pasid_ent *pe, uint64_t addr)
{
    struct siov_inval_event ev = {SIOV_INV_IOTLB, SIOV_INV_G_RANGE, pe->did, 0, SIOV_NO_PASID, addr, SIOV_PAGE_SIZE};
    switch (pe->pgtt) {
    case SIOV_PGTT_FL: /* PASID-based IOTLB, page-selective within PASID, AM=0 */
        siov_tlb_inv_pasid_page(u->caches, pe->did, pe->pasid, addr, 0);
        ev.kind = SIOV_INV_PIOTLB;
        ev.pasid = pe->pasid;
        break;
    case SIOV_PGTT_NESTED: /* IOTLB, domain-selective */
        siov_tlb_inv_domain(u->caches, pe->did);
        ev.granularity = SIOV_INV_G_DOMAIN;
        ev.addr = ev.size = 0;
        break;
    default: /* second level and pass-through: IOTLB, page-selective within domain, AM=0 */
        siov_tlb_inv_page(u->caches, pe->did, addr, 0);
        break;
    }
    siov_out_event(u, &ev);
}

/* The 256-bit descriptor of a request from sid (spec Fig 7-1, rev 4+: no
   private data), as page_request.c normalized it: ER and PR only with a
   PASID, a stop marker with LPIG=1, RDR=WRR=0, group index and address 0. */
static void descriptor(siov_sid sid, const struct siov_page_request *req, uint8_t out[SIOV_PRQ_DESC_SIZE])
{
    uint64_t qw0 = siov_set(0, SIOV_PRQ0_TYPE, SIOV_PRQ_TYPE_PAGE_REQ) | siov_set(0, SIOV_PRQ0_RID, sid) |
                   ((req->access & SIOV_ACCESS_EXEC) ? SIOV_PRQ0_EXR : 0) |
                   ((req->access & SIOV_ACCESS_PRIV) ? SIOV_PRQ0_PMR : 0);
    if (req->pasid != SIOV_NO_PASID)
        qw0 |= SIOV_PRQ0_PP | siov_set(0, SIOV_PRQ0_PASID, req->pasid);
    uint64_t qw1 = (req->last ? SIOV_PRQ1_LPIG : 0) | ((req->access & SIOV_ACCESS_READ) ? SIOV_PRQ1_RDR : 0) |
                   ((req->access & SIOV_ACCESS_WRITE) ? SIOV_PRQ1_WRR : 0) |
                   siov_set(0, SIOV_PRQ1_PRGI, req->prg_index) | (req->addr & SIOV_PRQ1_ADDR);
    uint64_t qw[4] = {qw0, qw1, 0, 0};
    for (unsigned i = 0; i < SIOV_PRQ_DESC_SIZE; i++)
        out[i] = (uint8_t)(qw[i / 8] >> (8 * (i % 8)));
}

/* Under lock: the request dropped (PRO, full queue, unwritable memory); a
   last request of its group is answered Success, so that the device asks
   again (spec 7.4.1, facts 14.4). Stop markers are dropped silently (SMS). */
static void drop(struct siov_iommu *u, siov_sid sid, const struct siov_page_request *req, uint64_t *counter)
{
    siov_stat_inc(counter);
    if (req->last && !req->stop_marker)
        siov_out_page_response(u, sid, req->pasid, req->prg_index, SIOV_PRQ_SUCCESS, true);
}

/* Under lock: write the descriptor at PQT and advance it, or drop. */
static siov_fault enqueue_locked(struct siov_iommu *u, siov_sid sid, const struct siov_page_request *req,
                                 const struct siov_pasid_ent *pe)
{
    uint64_t size = siov_pq_bytes(u->pqa);
    uint64_t head = (u->pqh & SIOV_PQ_PTR) % size, tail = (u->pqt & SIOV_PQ_PTR) % size;
    if (u->prs & SIOV_PRS_PRO) { /* overflowed earlier: dropped, no new event */
        drop(u, sid, req, &u->stats.prq_overflowed);
        return SIOV_OK;
    }
    if ((tail + SIOV_PRQ_DESC_SIZE) % size == head) { /* full: one slot stays empty */
        if (!req->stop_marker)
            status_set(u, SIOV_PRS_PRO);
        drop(u, sid, req, &u->stats.prq_overflowed);
        return SIOV_OK;
    }
    if (!req->stop_marker)
        implicit_invalidation(u, pe, req->addr & SIOV_PAGE_MASK);
    uint8_t d[SIOV_PRQ_DESC_SIZE];
    descriptor(sid, req, d);
    if (siov_mem_write(u->mem, (u->pqa & SIOV_PQA_PQA) + tail, d, sizeof(d)) < 0) {
        drop(u, sid, req, &u->stats.prq_write_errors);
        return SIOV_ERR_BUS;
    }
    u->pqt = (tail + SIOV_PRQ_DESC_SIZE) % size; /* once the descriptor is visible */
    siov_stat_inc(&u->stats.prq_queued);
    status_set(u, SIOV_PRS_PPR);
    return SIOV_OK;
}

siov_fault siov_prq_enqueue(struct siov_iommu *u, siov_sid sid, const struct siov_page_request *req,
                            const struct siov_pasid_ent *pe)
{
    pthread_mutex_lock(&u->lock);
    siov_fault f = enqueue_locked(u, sid, req, pe);
    pthread_mutex_unlock(&u->lock);
    siov_msi_flush(u);
    siov_out_flush(u);
    return f;
}

void siov_prq_respond(struct siov_iommu *u, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    pthread_mutex_lock(&u->lock);
    siov_out_page_response(u, sid, pasid, prgi, code, true);
    pthread_mutex_unlock(&u->lock);
    siov_out_flush(u);
}

/* prq.c: page requests in the reference driver — the page request queue set
 * up at bring-up, PRI enabled and disabled per device, the queue serviced
 * (each request to the embedder's handler with the domain attached under its
 * (sid, PASID), each group answered once with a page group response), and
 * the drain a PASID's teardown needs (spec 7.10; facts 14.8). It sees the
 * unit through registers and guest memory only. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"

#define DRAIN_ROUNDS 8u /* drains repeated while PRS.PRO says requests were dropped */

/* ------------------------------------------------------------ bring-up */
int siov_drv_prq_enable(struct siov_driver *drv)
{
    if (!(drv->ecap & SIOV_ECAP_PRS))
        return 0;
    int ret = siov_drv_page_alloc(drv, 1, &drv->prq_base);
    if (ret)
        return ret;
    /* spec 7.4.1: PQH = PQT = 0, then PQA; the event stays masked (reset IM=1) */
    siov_mmio_write(drv->iommu, SIOV_REG_PQH, 0, 8);
    siov_mmio_write(drv->iommu, SIOV_REG_PQT, 0, 8);
    siov_mmio_write(drv->iommu, SIOV_REG_PQA, drv->prq_base | siov_set(0, SIOV_PQA_PQS, 0), 8);
    siov_mmio_write(drv->iommu, SIOV_REG_PRS, SIOV_PRS_PPR | SIOV_PRS_PRO, 4); /* a previous owner's status */
    drv->prq = true;
    return 0;
}

void siov_drv_prq_fini(struct siov_driver *drv)
{
    free(drv->groups);
}

/* -ENODEV, saying why, without a page request queue. */
static int need_prq(struct siov_driver *drv)
{
    return drv->prq ? 0 : siov_drv_fail(drv, -ENODEV, "the unit has no page request support (ECAP.PRS)");
}

/* ------------------------------------------------------------ groups */
/* How bad a response code is: Success < Invalid Request < Response Failure. */
static unsigned severity(unsigned code)
{
    return code == SIOV_PRQ_SUCCESS ? 0 : code == SIOV_PRQ_INVALID ? 1 : 2;
}

static unsigned worse(unsigned a, unsigned b)
{
    return severity(a) >= severity(b) ? a : b;
}

static int group_find(const struct siov_driver *drv, siov_sid sid, uint32_t pasid, uint16_t prgi)
{
    for (unsigned i = 0; i < drv->ngroups; i++) {
        const struct siov_prq_group *g = &drv->groups[i];
        if (g->sid == sid && g->pasid == pasid && g->prgi == prgi)
            return (int)i;
    }
    return -1;
}

/* A request of a group not complete yet: its code kept (the worst so far).
   Out of host memory the code is not kept and the group is answered with
   its last request's code: at worst Success for a page that failed, and the
   device faults on it again and asks again. */
static void group_note(struct siov_driver *drv, siov_sid sid, const struct siov_page_request *req, unsigned code)
{
    int i = group_find(drv, sid, req->pasid, req->prg_index);
    if (i >= 0) {
        drv->groups[i].code = worse(drv->groups[i].code, code);
        return;
    }
    if (drv->ngroups == drv->cgroups) {
        unsigned c = drv->cgroups ? 2 * drv->cgroups : 8;
        struct siov_prq_group *p = realloc(drv->groups, c * sizeof(*p));
        if (!p)
            return;
        drv->groups = p;
        drv->cgroups = c;
    }
    drv->groups[drv->ngroups++] = (struct siov_prq_group){sid, req->pasid, req->prg_index, code};
}

/* The group's code at its last request, its record dropped. */
static unsigned group_close(struct siov_driver *drv, siov_sid sid, const struct siov_page_request *req,
                            unsigned code)
{
    int i = group_find(drv, sid, req->pasid, req->prg_index);
    if (i < 0)
        return code;
    code = worse(drv->groups[i].code, code);
    drv->groups[i] = drv->groups[--drv->ngroups];
    return code;
}

/* ---------------------------------------------------------- servicing */
/* The domain attached under (sid, pasid): RID_PASID's for requests without PASID. */
static struct siov_domain *domain_of(const struct siov_driver *drv, siov_sid sid, uint32_t pasid)
{
    const struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (!dev)
        return NULL;
    if (pasid == SIOV_NO_PASID)
        return dev->rid_dom;
    for (struct siov_domain *d = drv->domains; d; d = d->next) {
        if (d->pasid < 0 || (uint32_t)d->pasid != pasid)
            continue;
        for (unsigned i = 0; i < d->natt; i++)
            if (d->att[i].sid == sid && d->att[i].aux)
                return d;
    }
    return NULL;
}

/* The handler's answer for one request. The handler may call the domain
   functions, which commit their own errors: the cause this call may have
   noted waits aside meanwhile. */
static unsigned handle(struct siov_driver *drv, siov_sid sid, const struct siov_page_request *req)
{
    struct siov_domain *dom = domain_of(drv, sid, req->pasid);
    if (!dom || !drv->prq_fn)
        return SIOV_PRQ_INVALID;
    char saved[SIOV_DRV_ERR_LEN];
    memcpy(saved, drv->pend_error, sizeof(saved));
    drv->pend_error[0] = '\0';
    unsigned code = drv->prq_fn(drv->prq_opaque, dom, sid, req);
    memcpy(drv->pend_error, saved, sizeof(saved));
    return code == SIOV_PRQ_SUCCESS || code == SIOV_PRQ_INVALID ? code : SIOV_PRQ_FAILURE;
}

/* One descriptor at queue offset off: read, handled, its group answered at
   its last request. 0 or -EFAULT. */
static int service_one(struct siov_driver *drv, uint64_t off)
{
    uint64_t qw[2];
    siov_sid sid;
    struct siov_page_request req;
    int ret = siov_drv_rd64(drv, drv->prq_base + off, &qw[0]);
    if (!ret)
        ret = siov_drv_rd64(drv, drv->prq_base + off + 8, &qw[1]);
    if (ret)
        return siov_drv_fail(drv, ret, "page request queue unreadable at 0x%llx",
                             (unsigned long long)(drv->prq_base + off));
    if (!siov_prq_desc_decode(qw, &sid, &req) || req.stop_marker)
        return 0; /* the unit writes page requests only; a stop marker needs no answer */
    unsigned code = handle(drv, sid, &req);
    if (!req.last) {
        group_note(drv, sid, &req, code);
        return 0;
    }
    siov_drv_page_response(drv, sid, req.pasid, req.prg_index, group_close(drv, sid, &req, code));
    return 0;
}

/* The queue from PQH to PQT: PPR cleared first, PQH written after, PRO
   cleared once the queue is empty (Linux's order). The number consumed. */
static int service(struct siov_driver *drv)
{
    uint64_t size = SIOV_PAGE_SIZE;
    siov_mmio_write(drv->iommu, SIOV_REG_PRS, SIOV_PRS_PPR, 4);
    uint64_t head = (siov_mmio_read(drv->iommu, SIOV_REG_PQH, 8) & SIOV_PQ_PTR) % size;
    uint64_t tail = (siov_mmio_read(drv->iommu, SIOV_REG_PQT, 8) & SIOV_PQ_PTR) % size;
    int n = 0, ret = 0;
    for (; head != tail; head = (head + SIOV_PRQ_DESC_SIZE) % size, n++) {
        ret = service_one(drv, head);
        if (ret)
            break;
    }
    siov_mmio_write(drv->iommu, SIOV_REG_PQH, head, 8);
    int fret = siov_drv_qi_flush(drv); /* the responses */
    uint32_t prs = siov_drv_rd_reg32(drv, SIOV_REG_PRS);
    if (!ret && (prs & SIOV_PRS_PRO) && head == (siov_mmio_read(drv->iommu, SIOV_REG_PQT, 8) & SIOV_PQ_PTR)) {
        drv->ngroups = 0; /* requests of half-seen groups were dropped: the devices ask again */
        siov_mmio_write(drv->iommu, SIOV_REG_PRS, SIOV_PRS_PRO, 4);
    }
    return ret ? ret : fret ? fret : n;
}

int siov_driver_service_prq(struct siov_driver *drv)
{
    if (!drv)
        return -EINVAL;
    int ret = need_prq(drv);
    if (!ret && drv->prq_busy)
        ret = siov_drv_fail(drv, -EBUSY, "the page request queue is being serviced (a call from the handler)");
    if (ret)
        return siov_drv_done(drv, ret);
    drv->prq_busy = true;
    ret = service(drv);
    drv->prq_busy = false;
    return siov_drv_done(drv, ret);
}

int siov_drv_prq_drain(struct siov_driver *drv, siov_sid sid, uint32_t pasid)
{
    if (drv->prq_busy)
        return siov_drv_fail(drv, -EBUSY, "the page request queue is being serviced (a call from the handler)");
    drv->prq_busy = true;
    int ret = 0;
    for (unsigned round = 0; round < DRAIN_ROUNDS && !ret; round++) {
        int r = service(drv);
        siov_drv_inv_devtlb(drv, sid, pasid, 0, 0); /* the device flushes what it has in flight */
        ret = r < 0 ? r : siov_drv_qi_flush_drain(drv);
        bool dropped = siov_drv_rd_reg32(drv, SIOV_REG_PRS) & SIOV_PRS_PRO;
        r = ret ? 0 : service(drv);
        ret = r < 0 ? r : ret;
        if (!dropped)
            break;
    }
    drv->prq_busy = false;
    return ret;
}

/* ------------------------------------------------------------ the API */
int siov_driver_set_prq_handler(struct siov_driver *drv, siov_prq_handler fn, void *opaque)
{
    if (!drv)
        return -EINVAL;
    drv->prq_fn = fn;
    drv->prq_opaque = opaque;
    return siov_drv_done(drv, 0);
}

int siov_driver_set_prq_msi(struct siov_driver *drv, uint64_t addr, uint32_t data)
{
    if (!drv)
        return -EINVAL;
    int ret = need_prq(drv);
    if (!ret && (addr & SIOV_FEADDR_RSVD))
        ret = siov_drv_fail(drv, -EINVAL, "address 0x%llx not DWORD aligned", (unsigned long long)addr);
    if (!ret && (data & ~SIOV_FEDATA_DATA))
        ret = siov_drv_fail(drv, -EINVAL, "data 0x%x wider than 16 bits", data);
    if (ret)
        return siov_drv_done(drv, ret);
    siov_mmio_write(drv->iommu, SIOV_REG_PEDATA, data, 4);
    siov_mmio_write(drv->iommu, SIOV_REG_PEADDR, (uint32_t)addr, 4);
    siov_mmio_write(drv->iommu, SIOV_REG_PEUADDR, (uint32_t)(addr >> 32), 4);
    siov_mmio_write(drv->iommu, SIOV_REG_PECTL, 0, 4);
    return siov_drv_done(drv, 0);
}

static int enable_pri(struct siov_driver *drv, siov_sid sid)
{
    int ret = need_prq(drv);
    if (ret)
        return ret;
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (!dev || !dev->ats)
        return siov_drv_fail(drv, -EINVAL, "ATS is not enabled on %02x:%02x.%x: page requests need it",
                             SIOV_DRV_BDF(sid));
    return dev->pri ? 0 : siov_drv_pri_set(drv, dev, true);
}

int siov_dev_enable_pri(struct siov_driver *drv, siov_sid sid)
{
    return drv ? siov_drv_done(drv, enable_pri(drv, sid)) : -EINVAL;
}

static int disable_pri(struct siov_driver *drv, siov_sid sid)
{
    int ret = need_prq(drv);
    if (ret)
        return ret;
    struct siov_dev *dev = siov_drv_dev_find(drv, sid);
    if (!dev || !dev->pri)
        return siov_drv_fail(drv, -EINVAL, "page requests not enabled on %02x:%02x.%x", SIOV_DRV_BDF(sid));
    if (drv->prq_busy)
        return siov_drv_fail(drv, -EBUSY, "the page request queue is being serviced (a call from the handler)");
    ret = siov_drv_pri_set(drv, dev, false);
    return ret ? ret : siov_drv_prq_drain(drv, sid, SIOV_NO_PASID);
}

int siov_dev_disable_pri(struct siov_driver *drv, siov_sid sid)
{
    return drv ? siov_drv_done(drv, disable_pri(drv, sid)) : -EINVAL;
}

/* A test's invalidation queue (see inv_queue.h). */
#include <string.h>

#include "inv_queue.h"

void q_init(struct q *q, struct tl *t)
{
    memset(q, 0, sizeof(*q));
    q->t = t;
    q->base = tl_page(t);
    siov_mmio_write(t->iommu, SIOV_REG_IQT, 0, 8);
    siov_mmio_write(t->iommu, SIOV_REG_IQA, q->base | SIOV_IQA_DW, 8);
    tl_gcmd(t, SIOV_GCMD_QIE, 0);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_QIES);
}

void q_put(struct q *q, uint64_t q0, uint64_t q1)
{
    tl_w64(q->t, q->base + q->tail, q0);
    tl_w64(q->t, q->base + q->tail + 8, q1);
    tl_w64(q->t, q->base + q->tail + 16, 0);
    tl_w64(q->t, q->base + q->tail + 24, 0);
    q->tail = (q->tail + 32) % SIOV_PAGE_SIZE;
}

void q_kick(struct q *q)
{
    siov_mmio_write(q->t->iommu, SIOV_REG_IQT, q->tail, 8);
}

uint32_t q_put_wait(struct q *q, uint64_t status, uint64_t flags)
{
    q_put(q, siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | flags | siov_set(0, SIOV_WAIT0_SDATA, ++q->seq),
          status);
    return q->seq;
}

uint64_t d_devtlb(siov_sid sid)
{
    return siov_dsc_make_type(SIOV_DSC_DEVTLB) | siov_set(0, SIOV_DTLB0_SID, sid);
}

uint64_t d_pdevtlb(siov_sid sid, uint32_t pasid)
{
    return siov_dsc_make_type(SIOV_DSC_PDEVTLB) | siov_set(0, SIOV_PDTLB0_SID, sid) |
           siov_set(0, SIOV_PDTLB0_PASID, pasid);
}

uint64_t r3(uint64_t base, uint64_t size)
{
    int s;
    uint64_t a = siov_ats_range_encode(base, size, &s);
    return a | (s ? SIOV_DTLB1_S : 0);
}

uint64_t r8(uint64_t base, uint64_t size, bool g)
{
    int s;
    uint64_t a = siov_ats_range_encode(base, size, &s);
    return a | (s ? SIOV_PDTLB1_S : 0) | (g ? SIOV_PDTLB1_G : 0);
}

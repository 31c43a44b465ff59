/* siov-sim: the invalidation queue — setting one up by hand, and submitting
   descriptors built from named fields (sim_fields.c) at the queue's tail. */
#include <string.h>

#include "sim.h"

int sim_cmd_queue(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    uint64_t qs = a->v[1].set ? a->v[1].num : 0, dw = a->v[2].set ? a->v[2].num : 0;
    if (siov_mmio_read(u, SIOV_REG_GSTS, 4) & SIOV_GSTS_QIES)
        return sim_error(s, "the invalidation queue is already enabled (a driver owns it)");
    if (a->v[0].num & ~SIOV_IQA_IQA || qs > 7 || dw > 1)
        return sim_error(s, "queue needs a 4K-aligned address, qs 0..7 (2^qs pages) and dw 0 or 1");
    uint64_t iqa = a->v[0].num | siov_set(0, SIOV_IQA_QS, qs) | (dw ? SIOV_IQA_DW : 0);
    siov_mmio_write(u, SIOV_REG_IQT, 0, 8); /* the enable sequence drivers use */
    siov_mmio_write(u, SIOV_REG_IQA, iqa, 8);
    uint32_t enables = (uint32_t)siov_mmio_read(u, SIOV_REG_GSTS, 4) &
                       (uint32_t)(SIOV_GSTS_TES | SIOV_GSTS_IRES | SIOV_GSTS_CFIS);
    siov_mmio_write(u, SIOV_REG_GCMD, enables | SIOV_GCMD_QIE, 4);
    char action[64], bits[96];
    uint64_t g = siov_mmio_read(u, SIOV_REG_GSTS, 4);
    snprintf(action, sizeof(action), "queue 0x%llx %llu %llu", (unsigned long long)a->v[0].num,
             (unsigned long long)qs, (unsigned long long)dw);
    sim_reg_decode("GSTS", g, bits, sizeof(bits));
    sim_act(s, action, "%u page%s of %s descriptors, GSTS 0x%08llx%s", 1u << qs, qs ? "s" : "",
            dw ? "256-bit" : "128-bit", (unsigned long long)g, bits);
    return 0;
}

struct inv_alias {
    const char *alias, *layout;
};
static const struct inv_alias inv_aliases[] = {
    {"cc", "cc"},         {"context-cache", "cc"},  {"iotlb", "iotlb"},     {"devtlb", "devtlb"},
    {"dev-tlb", "devtlb"}, {"iec", "iec"},          {"wait", "wait"},       {"inv-wait", "wait"},
    {"piotlb", "piotlb"}, {"pasid-iotlb", "piotlb"}, {"pc", "pc"},          {"pasid-cache", "pc"},
    {"pdevtlb", "pdevtlb"}, {"pasid-devtlb", "pdevtlb"}, {"pgrsp", "pgrsp"}, {"page-response", "pgrsp"},
    {"raw", "raw"},
};

static const struct sim_layout *inv_layout(struct sim *s, const struct sim_tok *t)
{
    for (size_t i = 0; i < sizeof(inv_aliases) / sizeof(inv_aliases[0]); i++)
        if (sim_tok_is(t, inv_aliases[i].alias))
            return sim_layout_find(inv_aliases[i].layout);
    sim_error(s, "unknown descriptor type '%s' (cc iotlb devtlb iec wait piotlb pc pdevtlb pgrsp raw)", t->text);
    return NULL;
}

/* Where the queue is and how big: base, size in bytes, descriptor size. */
static int queue_geometry(struct sim *s, struct siov_iommu *u, uint64_t *base, uint64_t *size, unsigned *dsz)
{
    if (!(siov_mmio_read(u, SIOV_REG_GSTS, 4) & SIOV_GSTS_QIES))
        return sim_error(s, "the invalidation queue is not enabled (create a driver, or set one up with 'queue')");
    uint64_t iqa = siov_mmio_read(u, SIOV_REG_IQA, 8);
    *base = iqa & SIOV_IQA_IQA;
    *size = SIOV_PAGE_SIZE << siov_get(iqa, SIOV_IQA_QS);
    *dsz = (iqa & SIOV_IQA_DW) ? 32 : 16;
    return 0;
}

/* Write one descriptor at the tail and move IQT past it (the unit processes it). */
static int queue_put(struct sim *s, struct siov_iommu *u, const uint64_t q[3], const uint64_t *desc)
{
    uint64_t base = q[0], size = q[1], dsz = q[2];
    uint64_t tail = siov_mmio_read(u, SIOV_REG_IQT, 8) & SIOV_IQ_PTR;
    if (siov_mem_write(s->mem, base + tail, desc, dsz) < 0)
        return sim_error(s, "the queue slot at 0x%llx is not in guest memory", (unsigned long long)(base + tail));
    siov_mmio_write(u, SIOV_REG_IQT, (tail + dsz) % size, 8);
    return 0;
}

/* A driver keeps its own copy of the tail, equal to IQT while it is idle.
   Bring IQT once around the ring, back to that copy, with no-op inv-wait
   descriptors (no status write, no interrupt); their counts are taken out of
   'stats' by moving its baseline. */
static void queue_ring_around(struct sim *s, struct siov_iommu *u, const uint64_t q[3], uint64_t start)
{
    uint64_t noop[4] = {siov_dsc_make_type(SIOV_DSC_WAIT), 0, 0, 0};
    uint64_t pos = siov_mmio_read(u, SIOV_REG_IQT, 8) & SIOV_IQ_PTR;
    struct siov_stats before, after;
    for (; pos != start; pos = (pos + q[2]) % q[1])
        siov_mem_write(s->mem, q[0] + pos, noop, q[2]);
    siov_iommu_stats(u, &before);
    siov_mmio_write(u, SIOV_REG_IQT, start, 8);
    siov_iommu_stats(u, &after);
    uint64_t *b = (uint64_t *)(void *)&s->base;
    const uint64_t *x = (const uint64_t *)(const void *)&before, *y = (const uint64_t *)(const void *)&after;
    for (size_t i = 0; i < sizeof(s->base) / sizeof(uint64_t); i++)
        b[i] += y[i] - x[i];
}

/* Device-TLB descriptors take size=N (with addr=): the range in the S-bit
   encoding (facts 13.5), written into qw1 for them. *args loses the pair. */
static int devtlb_size(struct sim *s, const struct sim_layout *lay, struct sim_args *args, uint64_t *size,
                       bool *have)
{
    *have = false;
    bool pasid_form = strcmp(lay->name, "pdevtlb") == 0;
    if (!pasid_form && strcmp(lay->name, "devtlb") != 0)
        return 0;
    unsigned i = 0;
    const struct sim_tok *k, *v;
    int rc;
    while ((rc = sim_kv_next(s, args, &i, &k, &v)) > 0) {
        if (!sim_tok_is(k, "size"))
            continue;
        if (sim_parse_num(s, v, size) < 0)
            return -1;
        if (*size < SIOV_PAGE_SIZE || (*size & (*size - 1)))
            return sim_error(s, "size must be a power of two of at least 4K");
        *have = true;
        /* drop the three tokens key = value: the fields encoder does not know them */
        struct sim_tok *rest = (struct sim_tok *)(uintptr_t)args->rest;
        memmove(&rest[i - 3], &rest[i], (args->nrest - i) * sizeof(*rest));
        args->nrest -= 3;
        return 0;
    }
    return rc;
}

/* qw1 with the range [addr, addr + size) of a 0x3 or 0x8 descriptor. */
static uint64_t with_range(const struct sim_layout *lay, uint64_t qw1, uint64_t size)
{
    bool pasid_form = strcmp(lay->name, "pdevtlb") == 0;
    uint64_t s_bit = pasid_form ? SIOV_PDTLB1_S : SIOV_DTLB1_S;
    int s;
    uint64_t addr = siov_ats_range_encode(qw1 & SIOV_ADDR_4K, size, &s);
    return (qw1 & ~(SIOV_ADDR_4K | s_bit)) | addr | (s ? s_bit : 0);
}

int sim_cmd_inv(struct sim *s, const struct sim_args *a_in, struct sim_result *r)
{
    (void)r;
    struct siov_iommu *u = sim_iommu(s);
    const struct sim_layout *lay = u ? inv_layout(s, a_in->v[0].tok) : NULL;
    uint64_t qw[8], base = 0, size = SIOV_PAGE_SIZE, range = 0;
    unsigned dsz = 16;
    struct sim_tok toks[SIM_MAX_TOKENS];
    struct sim_args a_copy = *a_in, *a = &a_copy;
    bool ranged = false;
    if (lay && a->nrest <= SIM_MAX_TOKENS) {
        memcpy(toks, a_in->rest, a_in->nrest * sizeof(toks[0]));
        a->rest = toks;
    }
    if (!lay || devtlb_size(s, lay, a, &range, &ranged) < 0 || sim_fields_encode(s, lay, a, qw) < 0 ||
        queue_geometry(s, u, &base, &size, &dsz) < 0)
        return -1;
    if (ranged)
        qw[1] = with_range(lay, qw[1], range);
    if (lay->qwords > 2 && dsz == 16 && (qw[2] | qw[3]))
        return sim_error(s, "qw2/qw3 need a queue of 256-bit descriptors (queue ... dw=1)");
    uint64_t desc[4] = {qw[0], qw[1], lay->qwords > 2 ? qw[2] : 0, lay->qwords > 2 ? qw[3] : 0};
    uint64_t q[3] = {base, size, dsz}, start = siov_mmio_read(u, SIOV_REG_IQT, 8) & SIOV_IQ_PTR;
    if (queue_put(s, u, q, desc) < 0)
        return -1;
    uint64_t iqh = siov_mmio_read(u, SIOV_REG_IQH, 8), fsts = siov_mmio_read(u, SIOV_REG_FSTS, 4);
    if (s->drv && !(fsts & SIOV_FSTS_IQE))
        queue_ring_around(s, u, q, start);
    char text[512], action[600];
    sim_fields_decode(lay, qw, false, text, sizeof(text));
    snprintf(action, sizeof(action), "inv %s%s", lay->name, strcmp(text, SIM_ALL_ZERO) ? text : "");
    sim_act(s, action, "%sqw0=0x%llx qw1=0x%llx, IQH 0x%llx", (fsts & SIOV_FSTS_IQE) ? "queue error (FSTS.IQE); " : "",
            (unsigned long long)qw[0], (unsigned long long)qw[1], (unsigned long long)iqh);
    return 0;
}

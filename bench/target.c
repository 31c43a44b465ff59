/* siov-bench: building the unit under measurement and its tables through the
 * public API (see target.h). */
#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "target.h"

#define BT_POOL_BASE (1ull << 20)
#define BT_PDTS 0u          /* 128 directory entries: PASIDs below 8192 */
#define BT_IQ_SLOTS 128u    /* one 4 KiB page of 32-byte descriptors (QS=0) */
#define BT_IQ_DSC_BYTES 32u
#define BT_WAIT_SPINS 100000u

uint64_t bt_page(struct bt *t)
{
    if (t->next_page + SIOV_PAGE_SIZE > t->pool_end)
        return 0;
    uint64_t p = t->next_page;
    t->next_page += SIOV_PAGE_SIZE;
    memset(t->flat + p, 0, SIOV_PAGE_SIZE);
    return p;
}

uint64_t bt_r64(const struct bt *t, uint64_t gpa)
{
    return __atomic_load_n((const uint64_t *)(const void *)(t->flat + gpa), __ATOMIC_ACQUIRE);
}

void bt_w64(struct bt *t, uint64_t gpa, uint64_t v)
{
    __atomic_store_n((uint64_t *)(void *)(t->flat + gpa), v, __ATOMIC_RELEASE);
}

/* GCMD keeping the enables already on, as a driver must (spec 10.4.4). */
static void bt_gcmd(struct bt *t, uint32_t set)
{
    uint32_t gsts = (uint32_t)siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4);
    uint32_t keep = gsts & (uint32_t)(SIOV_GSTS_TES | SIOV_GSTS_QIES | SIOV_GSTS_IRES);
    siov_mmio_write(t->iommu, SIOV_REG_GCMD, keep | set, 4);
}

/* Root entry (lower half) and BT_SID's scalable context entry with a PASID directory. */
static int bt_context(struct bt *t)
{
    uint64_t ctx = bt_page(t);
    t->pasid_dir = bt_page(t);
    if (!ctx || !t->pasid_dir)
        return -ENOMEM;
    bt_w64(t, t->root + (uint64_t)SIOV_SID_BUS(BT_SID) * SIOV_ROOT_ENTRY_SIZE, ctx | SIOV_SRE0_LP);
    uint64_t ce = ctx + (uint64_t)(SIOV_SID_DEVFN(BT_SID) & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE;
    bt_w64(t, ce + 8, 0); /* RID_PASID 0 */
    bt_w64(t, ce, SIOV_SCE0_P | SIOV_SCE0_PASIDE | SIOV_SCE0_DTE | siov_set(0, SIOV_SCE0_PDTS, BT_PDTS) |
                      t->pasid_dir);
    return 0;
}

/* Root table, translation and the queue on, through MMIO. */
static int bt_enable(struct bt *t)
{
    t->root = bt_page(t);
    t->iq = bt_page(t);
    t->status = bt_page(t);
    if (!t->root || !t->iq || !t->status || bt_context(t) < 0)
        return -ENOMEM;
    siov_mmio_write(t->iommu, SIOV_REG_RTADDR, siov_set(t->root, SIOV_RTADDR_TTM, SIOV_TTM_SCALABLE), 8);
    bt_gcmd(t, SIOV_GCMD_SRTP);
    bt_gcmd(t, SIOV_GCMD_TE);
    siov_mmio_write(t->iommu, SIOV_REG_IQT, 0, 8);
    siov_mmio_write(t->iommu, SIOV_REG_IQA, t->iq | SIOV_IQA_DW | siov_set(0, SIOV_IQA_QS, 0), 8);
    bt_gcmd(t, SIOV_GCMD_QIE);
    if (!(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES))
        return -EIO;
    t->iq_ok = bt_invalidate(t, NULL, 0) == 0;
    return 0;
}

struct bt *bt_new(const struct siov_iommu_config *cfg, uint64_t mem_size, uint64_t pool_end)
{
    struct bt *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->mem = siov_mem_new_flat(mem_size);
    t->iommu = t->mem ? siov_iommu_new(t->mem, cfg) : NULL;
    if (!t->iommu) {
        bt_free(t);
        return NULL;
    }
    t->flat = siov_mem_flat_ptr(t->mem);
    t->mem_size = mem_size;
    t->next_page = BT_POOL_BASE;
    t->pool_end = pool_end < mem_size ? pool_end : mem_size;
    if (bt_enable(t) < 0) {
        bt_free(t);
        return NULL;
    }
    return t;
}

void bt_free(struct bt *t)
{
    if (!t)
        return;
    siov_iommu_free(t->iommu);
    siov_mem_free(t->mem);
    free(t);
}

void bt_pasid_entry(struct bt *t, uint32_t pasid, const uint64_t pe[8])
{
    uint64_t pde_gpa = t->pasid_dir + siov_get(pasid, SIOV_PASID_DIR_INDEX) * SIOV_PDE_SIZE;
    uint64_t pde = bt_r64(t, pde_gpa);
    if (!(pde & SIOV_PDE_P)) {
        pde = bt_page(t) | SIOV_PDE_P;
        bt_w64(t, pde_gpa, pde);
    }
    uint64_t gpa = (pde & SIOV_PDE_SMPTBLPTR) + siov_get(pasid, SIOV_PASID_TBL_INDEX) * SIOV_PTE_SIZE;
    for (int i = 7; i >= 0; i--) /* qw0 (P) last */
        bt_w64(t, gpa + 8 * (uint64_t)i, pe[i]);
}

static unsigned aw_of(unsigned levels)
{
    return levels == 3 ? SIOV_AW_3LVL : levels == 5 ? SIOV_AW_5LVL : SIOV_AW_4LVL;
}

void bt_pe_sl(uint64_t pe[8], uint16_t did, uint64_t slptptr, unsigned levels)
{
    memset(pe, 0, 8 * sizeof(uint64_t));
    pe[0] = SIOV_PTE0_P | siov_set(0, SIOV_PTE0_AW, aw_of(levels)) | siov_set(0, SIOV_PTE0_PGTT, SIOV_PGTT_SL) |
            slptptr;
    pe[1] = siov_set(0, SIOV_PTE1_DID, did) | SIOV_PTE1_PWSNP;
}

void bt_pe_fl(uint64_t pe[8], uint16_t did, uint64_t flptptr, unsigned levels)
{
    memset(pe, 0, 8 * sizeof(uint64_t));
    pe[0] = SIOV_PTE0_P | siov_set(0, SIOV_PTE0_PGTT, SIOV_PGTT_FL);
    pe[1] = siov_set(0, SIOV_PTE1_DID, did) | SIOV_PTE1_PWSNP;
    pe[2] = siov_set(0, SIOV_PTE2_FLPM, levels == 5 ? SIOV_FLPM_5LVL : SIOV_FLPM_4LVL) | flptptr;
}

void bt_pe_nested(uint64_t pe[8], uint16_t did, uint64_t flptptr, unsigned fl_levels, uint64_t slptptr,
                  unsigned sl_levels)
{
    bt_pe_sl(pe, did, slptptr, sl_levels);
    pe[0] = siov_set(pe[0], SIOV_PTE0_PGTT, SIOV_PGTT_NESTED);
    pe[2] = siov_set(0, SIOV_PTE2_FLPM, fl_levels == 5 ? SIOV_FLPM_5LVL : SIOV_FLPM_4LVL) | flptptr;
}

static unsigned leaf_level(uint64_t page_size)
{
    return page_size == (1ull << 30) ? 3 : page_size == (2ull << 20) ? 2 : 1;
}

uint64_t bt_map(struct bt *t, const struct bt_tree *tree, uint64_t iova, uint64_t pa, uint64_t page_size)
{
    unsigned target = leaf_level(page_size);
    uint64_t table = tree->root;
    for (unsigned level = tree->levels; level > target; level--) {
        uint64_t gpa = table + 8ull * siov_level_index(iova, level);
        uint64_t e = bt_r64(t, gpa);
        if (!(e & SIOV_SL_ADDR)) {
            uint64_t next = bt_page(t);
            if (!next)
                return 0;
            e = next | tree->nonleaf;
            bt_w64(t, gpa, e);
        }
        table = e & SIOV_SL_ADDR; /* FL and SL next-table pointers share bits 51:12 */
    }
    uint64_t gpa = table + 8ull * siov_level_index(iova, target);
    uint64_t ps = target > 1 ? (tree->fl ? SIOV_FL_PS : SIOV_SL_PS) : 0;
    bt_w64(t, gpa, (pa & ~(page_size - 1)) | tree->leaf | ps);
    return gpa;
}

/* ------------------------------------------------------------ the queue */
static uint64_t dsc_type(unsigned type, unsigned g)
{
    return siov_dsc_make_type(type) | siov_set(0, SIOV_IOTLB0_G, g);
}

struct bt_dsc bt_dsc_iotlb_domain(uint16_t did)
{
    return (struct bt_dsc){dsc_type(SIOV_DSC_IOTLB, SIOV_INV_GRAN_DOMAIN) | siov_set(0, SIOV_IOTLB0_DID, did), 0};
}

struct bt_dsc bt_dsc_iotlb_page(uint16_t did, uint64_t addr)
{
    return (struct bt_dsc){dsc_type(SIOV_DSC_IOTLB, SIOV_INV_GRAN_PAGE) | siov_set(0, SIOV_IOTLB0_DID, did),
                           addr & SIOV_INV1_ADDR};
}

struct bt_dsc bt_dsc_piotlb_pasid(uint16_t did, uint32_t pasid)
{
    uint64_t qw0 = dsc_type(SIOV_DSC_PIOTLB, SIOV_PIOTLB_GRAN_PASID) | siov_set(0, SIOV_PIOTLB0_DID, did) |
                   siov_set(0, SIOV_PIOTLB0_PASID, pasid);
    return (struct bt_dsc){qw0, 0};
}

struct bt_dsc bt_dsc_piotlb_page(uint16_t did, uint32_t pasid, uint64_t addr)
{
    uint64_t qw0 = dsc_type(SIOV_DSC_PIOTLB, SIOV_PIOTLB_GRAN_PAGE) | siov_set(0, SIOV_PIOTLB0_DID, did) |
                   siov_set(0, SIOV_PIOTLB0_PASID, pasid);
    return (struct bt_dsc){qw0, addr & SIOV_INV1_ADDR};
}

static void iq_put(struct bt *t, struct bt_dsc d)
{
    uint64_t at = t->iq + (uint64_t)t->iq_tail * BT_IQ_DSC_BYTES;
    bt_w64(t, at, d.qw0);
    bt_w64(t, at + 8, d.qw1);
    bt_w64(t, at + 16, 0);
    bt_w64(t, at + 24, 0);
    t->iq_tail = (t->iq_tail + 1) % BT_IQ_SLOTS;
}

int bt_invalidate(struct bt *t, const struct bt_dsc *d, unsigned n)
{
    uint32_t seq = ++t->status_seq;
    for (unsigned i = 0; i < n; i++)
        iq_put(t, d[i]);
    uint64_t wait = siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, seq);
    iq_put(t, (struct bt_dsc){wait, siov_set(0, SIOV_WAIT1_SADDR, t->status >> 2)});
    siov_mmio_write(t->iommu, SIOV_REG_IQT, siov_set(0, SIOV_IQ_PTR, t->iq_tail * BT_IQ_DSC_BYTES / 16), 8);
    const uint32_t *status = (const uint32_t *)(const void *)(t->flat + t->status);
    for (unsigned spin = 0; spin < BT_WAIT_SPINS; spin++) {
        if (__atomic_load_n(status, __ATOMIC_ACQUIRE) == seq)
            return 0;
        if (spin > 64)
            sched_yield();
    }
    return -ETIMEDOUT;
}

/* Test helpers: table builders over a flat guest memory (see testlib.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"

struct tl *tl_new_sized(const struct siov_iommu_config *cfg, uint64_t mem_size)
{
    assert_true(mem_size > TL_POOL_BASE);
    struct tl *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->mem = siov_mem_new_flat(mem_size);
    assert_non_null(t->mem);
    t->iommu = siov_iommu_new(t->mem, cfg);
    assert_non_null(t->iommu);
    t->next_page = TL_POOL_BASE;
    return t;
}

struct tl *tl_new(const struct siov_iommu_config *cfg)
{
    return tl_new_sized(cfg, TL_MEM_SIZE);
}

struct siov_stats tl_stats(struct tl *t)
{
    struct siov_stats s;
    siov_iommu_stats(t->iommu, &s);
    return s;
}

unsigned tl_fault_records(struct tl *t)
{
    struct siov_fault_record r;
    unsigned n = 0;
    int rc;
    for (unsigned i = 0; (rc = siov_iommu_fault_record(t->iommu, i, &r)) >= 0; i++)
        n += rc == 1;
    return n;
}

uint64_t tl_frcd(struct tl *t, unsigned i, unsigned q)
{
    return siov_mmio_read(t->iommu, SIOV_REG_FRCD + 16 * i + 8 * q, 8);
}

void tl_check_record(struct tl *t, unsigned i, struct siov_fault_record want)
{
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, i, &r), 1);
    assert_int_equal(r.reason, want.reason);
    assert_int_equal(r.sid, want.sid);
    assert_int_equal(r.pasid, want.pasid);
    assert_int_equal(r.addr, want.addr & ~0xFFFull);
    assert_int_equal(r.access, want.access);
    uint64_t hi = tl_frcd(t, i, 1);
    assert_true(hi & SIOV_FRCD1_F);
    assert_int_equal(siov_get(hi, SIOV_FRCD1_FR), want.reason);
    assert_int_equal(siov_get(hi, SIOV_FRCD1_SID), want.sid);
    assert_int_equal(tl_frcd(t, i, 0), want.addr & ~0xFFFull);
}

void tl_msi_cb(void *opaque, uint64_t addr, uint32_t data)
{
    struct tl_msi_log *l = opaque;
    l->n++;
    l->addr = addr;
    l->data = data;
}

struct siov_iommu_config tl_config_msi(struct tl_msi_log *log)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.msi = tl_msi_cb;
    cfg.msi_opaque = log;
    return cfg;
}

struct siov_iommu_config tl_config_mode(bool scalable, bool caching_mode)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.scalable = scalable;
    cfg.caching_mode = caching_mode;
    return cfg;
}

static void stale_cb(void *opaque, const struct siov_stale_report *r)
{
    struct tl_stale_log *l = opaque;
    l->n++;
    l->last = *r;
}

struct siov_iommu_config tl_config_stale(struct tl_stale_log *log)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.stale_check = true;
    cfg.stale_report = log ? stale_cb : NULL;
    cfg.stale_opaque = log;
    return cfg;
}

void tl_free(struct tl *t)
{
    if (!t)
        return;
    siov_iommu_free(t->iommu);
    siov_mem_free(t->mem);
    free(t);
}

uint64_t tl_page(struct tl *t)
{
    uint64_t p = t->next_page;
    assert_true(p + SIOV_PAGE_SIZE <= TL_DATA_BASE);
    t->next_page += SIOV_PAGE_SIZE;
    static const uint8_t zero[4096];
    assert_int_equal(siov_mem_write(t->mem, p, zero, sizeof(zero)), 0);
    return p;
}

void tl_w64(struct tl *t, uint64_t gpa, uint64_t v)
{
    assert_int_equal(siov_mem_write(t->mem, gpa, &v, 8), 0);
}

uint64_t tl_r64(struct tl *t, uint64_t gpa)
{
    uint64_t v = 0;
    assert_int_equal(siov_mem_read(t->mem, gpa, &v, 8), 0);
    return v;
}

void tl_gcmd(struct tl *t, uint32_t set, uint32_t clear)
{
    uint32_t gsts = (uint32_t)siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4);
    uint32_t enables = gsts & (uint32_t)(SIOV_GSTS_TES | SIOV_GSTS_QIES | SIOV_GSTS_IRES | SIOV_GSTS_CFIS);
    siov_mmio_write(t->iommu, SIOV_REG_GCMD, (enables | set) & ~clear, 4);
}

void tl_enable(struct tl *t, unsigned ttm)
{
    t->root = tl_page(t);
    t->ttm = ttm;
    siov_mmio_write(t->iommu, SIOV_REG_RTADDR, siov_set(t->root, SIOV_RTADDR_TTM, ttm), 8);
    tl_gcmd(t, SIOV_GCMD_SRTP, 0);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_RTPS);
    tl_gcmd(t, SIOV_GCMD_TE, 0);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_TES);
}

void tl_ir_enable(struct tl *t, uint64_t table, unsigned s, bool eime)
{
    siov_mmio_write(t->iommu, SIOV_REG_IRTA, table | s | (eime ? SIOV_IRTA_EIME : 0), 8);
    tl_gcmd(t, SIOV_GCMD_SIRTP, 0);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_IRTPS);
    tl_gcmd(t, SIOV_GCMD_IRE, 0);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_GSTS, 4) & SIOV_GSTS_IRES);
}

void tl_irte(struct tl *t, uint64_t table, uint32_t index, uint64_t qw0, uint64_t qw1)
{
    uint64_t q[2] = {qw0, qw1};
    assert_int_equal(siov_mem_write(t->mem, table + (uint64_t)index * SIOV_IRTE_SIZE, q, sizeof(q)), 0);
}

void tl_irte_remapped(uint64_t q[2], uint8_t vector, uint32_t dest, bool eime, siov_sid sid)
{
    q[0] = SIOV_IRTE0_P | siov_set(0, SIOV_IRTE0_V, vector) |
           (eime ? siov_set(0, SIOV_IRTE0_DST, dest) : siov_set(0, SIOV_IRTE0_DST_XAPIC, dest));
    q[1] = siov_set(0, SIOV_IRTE1_SID, sid) | siov_set(0, SIOV_IRTE1_SVT, SIOV_SVT_RID);
}

void tl_irte_posted(uint64_t q[2], uint8_t vv, uint64_t pda, bool urgent, siov_sid sid)
{
    q[0] = siov_irte0_set_pda(SIOV_IRTE0_P | SIOV_IRTE0_IM | siov_set(0, SIOV_IRTE0_V, vv), pda) |
           (urgent ? SIOV_IRTE0_URG : 0);
    q[1] = siov_irte1_set_pda(siov_set(0, SIOV_IRTE1_SID, sid) | siov_set(0, SIOV_IRTE1_SVT, SIOV_SVT_RID), pda);
}

void tl_check_irq_frcd(struct tl *t, unsigned i, siov_fault fr, siov_sid sid, uint64_t fi)
{
    /* hi: F (bit 63), T1=0 (a write), AT=0, PV=0, FR (39:32), PP=0, SID (15:0) */
    assert_int_equal(tl_frcd(t, i, 1), 0x8000000000000000ull | (uint64_t)fr << 32 | sid);
    assert_int_equal(tl_frcd(t, i, 0), fi);
}

/* The context table holding sid's entry, created (and linked) on first use. */
static uint64_t context_table(struct tl *t, siov_sid sid)
{
    uint64_t re_gpa = t->root + (uint64_t)SIOV_SID_BUS(sid) * SIOV_ROOT_ENTRY_SIZE;
    bool upper = t->ttm == SIOV_TTM_SCALABLE && SIOV_SID_DEVFN(sid) >= 128;
    uint64_t gpa = re_gpa + (upper ? 8 : 0);
    uint64_t half = tl_r64(t, gpa);
    if (!(half & SIOV_RE0_P)) {
        half = tl_page(t) | SIOV_RE0_P;
        tl_w64(t, gpa, half);
    }
    return half & SIOV_RE0_CTP;
}

uint64_t tl_sm_context(struct tl *t, siov_sid sid, uint64_t qw0, uint64_t qw1)
{
    uint64_t gpa = context_table(t, sid) + (uint64_t)(SIOV_SID_DEVFN(sid) & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE;
    tl_w64(t, gpa, qw0);
    tl_w64(t, gpa + 8, qw1);
    tl_w64(t, gpa + 16, 0);
    tl_w64(t, gpa + 24, 0);
    return gpa;
}

uint64_t tl_sm_context_default(struct tl *t, siov_sid sid, uint32_t rid_pasid)
{
    uint64_t dir = tl_page(t);
    for (int i = 1; i < 32; i++) /* PDTS=7: 16384 entries of 8 bytes, 128 KiB of directory */
        (void)tl_page(t);
    uint64_t qw0 = SIOV_SCE0_P | SIOV_SCE0_PASIDE | SIOV_SCE0_DTE | siov_set(0, SIOV_SCE0_PDTS, 7) | dir;
    tl_sm_context(t, sid, qw0, siov_set(0, SIOV_SCE1_RID_PASID, rid_pasid));
    return dir;
}

uint64_t tl_legacy_context(struct tl *t, siov_sid sid, uint64_t qw0, uint64_t qw1)
{
    uint64_t gpa = context_table(t, sid) + (uint64_t)SIOV_SID_DEVFN(sid) * SIOV_CTX_ENTRY_SIZE;
    tl_w64(t, gpa, qw0);
    tl_w64(t, gpa + 8, qw1);
    return gpa;
}

uint64_t tl_pasid_entry(struct tl *t, uint64_t dir, uint32_t pasid, const uint64_t pe[8])
{
    uint64_t pde_gpa = dir + siov_get(pasid, SIOV_PASID_DIR_INDEX) * SIOV_PDE_SIZE;
    uint64_t pde = tl_r64(t, pde_gpa);
    if (!(pde & SIOV_PDE_P)) {
        pde = tl_page(t) | SIOV_PDE_P;
        tl_w64(t, pde_gpa, pde);
    }
    uint64_t gpa = (pde & SIOV_PDE_SMPTBLPTR) + siov_get(pasid, SIOV_PASID_TBL_INDEX) * SIOV_PTE_SIZE;
    for (int i = 0; i < 8; i++)
        tl_w64(t, gpa + 8 * i, pe[i]);
    return gpa;
}

void tl_pe_sl(uint64_t pe[8], uint16_t did, uint64_t slptptr, unsigned aw)
{
    memset(pe, 0, 8 * sizeof(uint64_t));
    pe[0] = SIOV_PTE0_P | siov_set(0, SIOV_PTE0_AW, aw) | siov_set(0, SIOV_PTE0_PGTT, SIOV_PGTT_SL) | slptptr;
    pe[1] = siov_set(0, SIOV_PTE1_DID, did) | SIOV_PTE1_PWSNP;
}

void tl_pe_fl(uint64_t pe[8], uint16_t did, uint64_t flptptr, unsigned flpm)
{
    memset(pe, 0, 8 * sizeof(uint64_t));
    pe[0] = SIOV_PTE0_P | siov_set(0, SIOV_PTE0_PGTT, SIOV_PGTT_FL);
    pe[1] = siov_set(0, SIOV_PTE1_DID, did) | SIOV_PTE1_PWSNP;
    pe[2] = siov_set(0, SIOV_PTE2_FLPM, flpm) | flptptr;
}

void tl_pe_nested(uint64_t pe[8], uint16_t did, uint64_t flptptr, unsigned flpm, uint64_t slptptr, unsigned aw)
{
    tl_pe_sl(pe, did, slptptr, aw);
    pe[0] = siov_set(pe[0], SIOV_PTE0_PGTT, SIOV_PGTT_NESTED);
    pe[2] = siov_set(0, SIOV_PTE2_FLPM, flpm) | flptptr;
}

void tl_pe_pt(uint64_t pe[8], uint16_t did)
{
    memset(pe, 0, 8 * sizeof(uint64_t));
    pe[0] = SIOV_PTE0_P | siov_set(0, SIOV_PTE0_PGTT, SIOV_PGTT_PT);
    pe[1] = siov_set(0, SIOV_PTE1_DID, did) | SIOV_PTE1_PWSNP;
}

static unsigned leaf_level(uint64_t page_size)
{
    switch (page_size) {
    case 4096: return 1;
    case 2ull << 20: return 2;
    case 1ull << 30: return 3;
    default: fail_msg("bad page size %llu", (unsigned long long)page_size); return 0;
    }
}

uint64_t tl_map(struct tl *t, uint64_t root, unsigned levels, bool first_level, uint64_t iova, uint64_t pa,
                uint64_t page_size, uint64_t leaf, uint64_t nonleaf)
{
    unsigned target = leaf_level(page_size);
    uint64_t table = root;
    uint64_t present = first_level ? SIOV_FL_P : (SIOV_SL_R | SIOV_SL_W | SIOV_SL_X);
    for (unsigned level = levels; level > target; level--) {
        uint64_t gpa = table + 8ull * siov_level_index(iova, level);
        uint64_t e = tl_r64(t, gpa);
        if (!(e & present)) {
            e = tl_page(t) | nonleaf;
            tl_w64(t, gpa, e);
        }
        table = e & SIOV_SL_ADDR; /* FL and SL next-table addresses share bits 51:12 */
    }
    uint64_t gpa = table + 8ull * siov_level_index(iova, target);
    uint64_t ps = target > 1 ? (first_level ? SIOV_FL_PS : SIOV_SL_PS) : 0;
    tl_w64(t, gpa, (pa & ~(page_size - 1)) | leaf | ps);
    return gpa;
}

uint64_t tl_sl_space(struct tl *t, uint64_t dir, const struct tl_sl_space *s, uint64_t *leaves)
{
    uint64_t root = tl_page(t), pe[8];
    tl_pe_sl(pe, s->did, root, SIOV_AW_4LVL);
    tl_pasid_entry(t, dir, s->pasid, pe);
    for (unsigned i = 0; i < s->pages; i++) {
        uint64_t leaf = tl_map(t, root, 4, false, s->iova + i * SIOV_PAGE_SIZE, s->out + i * SIOV_PAGE_SIZE,
                               SIOV_PAGE_SIZE, s->leaf, TL_SL_RWX);
        if (leaves)
            leaves[i] = leaf;
    }
    tl_map(t, root, 4, false, s->big_iova, s->big_out, 2ull << 20, TL_SL_RW, TL_SL_RWX);
    return root;
}

uint64_t tl_entry_gpa(struct tl *t, uint64_t root, unsigned levels, uint64_t iova, unsigned level)
{
    uint64_t table = root;
    for (unsigned l = levels; l > level; l--) {
        uint64_t e = tl_r64(t, table + 8ull * siov_level_index(iova, l));
        if (!(e & SIOV_SL_ADDR))
            return 0;
        table = e & SIOV_SL_ADDR;
    }
    return table + 8ull * siov_level_index(iova, level);
}

char *tl_tmp_path(const char *prefix, const char *tag)
{
    char *p = malloc(160);
    assert_non_null(p);
    snprintf(p, 160, "/tmp/siov-test-%s-%d-%p-%s", prefix, (int)getpid(), (void *)p, tag); /* p: unique while live */
    return p;
}

void tl_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

unsigned long tl_vm_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    unsigned long kib = 0;
    while (f && fgets(line, sizeof(line), f))
        if (sscanf(line, "VmSize: %lu kB", &kib) == 1)
            break;
    if (f)
        fclose(f);
    return kib;
}

static uint8_t *piece_at(struct tl_pieces *p, uint64_t gpa, size_t len)
{
    for (int i = 0; i < 2; i++)
        if (gpa >= p->base[i] && len <= p->size[i] && gpa - p->base[i] <= p->size[i] - len)
            return p->buf[i] + (gpa - p->base[i]);
    return NULL;
}

static int piece_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    uint8_t *b = piece_at(opaque, gpa, len);
    if (!b)
        return -EFAULT;
    memcpy(dst, b, len);
    return 0;
}

static int piece_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    uint8_t *b = piece_at(opaque, gpa, len);
    if (!b)
        return -EFAULT;
    memcpy(b, src, len);
    return 0;
}

struct siov_mem *tl_pieces_mem(struct tl_pieces *p)
{
    static const struct siov_mem_ops ops = {.read = piece_read, .write = piece_write};
    for (int i = 0; i < 2; i++) {
        p->buf[i] = calloc(1, p->size[i]);
        assert_non_null(p->buf[i]);
    }
    struct siov_mem *m = siov_mem_new(&ops, p);
    assert_non_null(m);
    return m;
}

void tl_pieces_free(struct tl_pieces *p)
{
    free(p->buf[0]);
    free(p->buf[1]);
}

void tl_irq_moves(struct siov_driver *drv, siov_sid sid, const struct siov_msi *msi, unsigned moves)
{
    for (unsigned i = 0; i < moves; i++)
        if (siov_dev_irq_set_affinity(drv, sid, msi, 1 + (i & 1), 0x40) != 0)
            fail_msg("move %u failed: %s", i, siov_driver_last_error(drv));
}

/* Shared parts of the fuzz harnesses (see fuzz_util.h). */
#include "fuzz_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ----------------------------------------------------------------- input */
uint8_t fz_u8(struct fz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

uint16_t fz_u16(struct fz_in *in)
{
    uint16_t lo = fz_u8(in);
    return (uint16_t)(lo | (uint16_t)fz_u8(in) << 8);
}

uint32_t fz_u32(struct fz_in *in)
{
    uint32_t lo = fz_u16(in);
    return lo | (uint32_t)fz_u16(in) << 16;
}

uint64_t fz_u64(struct fz_in *in)
{
    uint64_t lo = fz_u32(in);
    return lo | (uint64_t)fz_u32(in) << 32;
}

void fz_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FUZZ CHECK FAILED: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* ------------------------------------------------------------ guest memory */
static bool in_memory(uint64_t gpa, uint64_t len)
{
    return len <= FZ_MEM_SIZE && gpa <= FZ_MEM_SIZE - len;
}

static bool structure_size(size_t len)
{
    return len == 8 || len == 16 || len == 32 || len == 64;
}

/* Whether [gpa, gpa+len) lies inside one structure an allowed oracle walk read. */
static bool oracle_read(const struct fz_mem *m, uint64_t gpa, size_t len)
{
    for (unsigned i = 0; i < m->nallow; i++) {
        const struct ref_result *r = m->allow[i];
        if (r->nread >= REF_MAX_READS)
            return true; /* the oracle's list overflowed: nothing to hold against */
        for (unsigned j = 0; j < r->nread; j++)
            if (gpa >= r->read[j].gpa && gpa - r->read[j].gpa <= r->read[j].size &&
                len <= r->read[j].size - (gpa - r->read[j].gpa))
                return true;
    }
    return false;
}

/* A/D bits an oracle-read paging entry at gpa may gain (0: not a paging entry read). */
static uint64_t ad_bits(const struct fz_mem *m, uint64_t gpa)
{
    uint64_t bits = 0;
    for (unsigned i = 0; i < m->nallow; i++) {
        const struct ref_result *r = m->allow[i];
        if (r->nread >= REF_MAX_READS)
            return ~0ull;
        for (unsigned j = 0; j < r->nread; j++) {
            if (r->read[j].gpa != gpa || r->read[j].size != 8)
                continue;
            if (r->read[j].kind == REF_FL)
                bits |= SIOV_FL_A | SIOV_FL_D | SIOV_FL_EA;
            if (r->read[j].kind == REF_SL)
                bits |= SIOV_SL_A | SIOV_SL_D;
        }
    }
    return bits;
}

static bool is_chunk(const struct fz_mem *m, uint64_t gpa, size_t len)
{
    for (unsigned i = 0; i < m->nchunks; i++)
        if (m->chunks[i].gpa == gpa && m->chunks[i].len == len)
            return true;
    return false;
}

/* FZ_IRQ: the 16-byte entry the oracle read, or a qword of its descriptor. */
static bool irq_read_ok(const struct ref_irq_result *r, uint64_t gpa, size_t len)
{
    if (r->irte_read && gpa == r->irte_gpa && len == 16)
        return true;
    return r->pid_read && len == 8 && !(gpa & 7) && gpa >= r->pid_gpa && gpa - r->pid_gpa < 64;
}

/* FZ_IRQ: a write may only set the posted vector's PIR bit and ON (spec 5.2.3). */
static void irq_check_write(const struct fz_mem *m, uint64_t gpa, const void *src, size_t len)
{
    const struct ref_irq_result *r = m->irq;
    uint64_t old = fz_r64(m, gpa), new_;
    memcpy(&new_, src, len == 8 ? 8 : 0);
    if (len != 8 || r->fault || !r->irq.posted || (gpa & 7) || gpa < r->pid_gpa || gpa - r->pid_gpa > 32)
        fz_die("interrupt: model wrote %zu bytes at 0x%llx (descriptor 0x%llx, oracle %s)", len,
               (unsigned long long)gpa, (unsigned long long)r->pid_gpa, siov_fault_name(r->fault));
    uint64_t q = (gpa - r->pid_gpa) / 8;
    uint64_t allowed = (q == r->irq.vector / 64u ? 1ull << (r->irq.vector % 64) : 0) | (q == 4 ? SIOV_PID4_ON : 0);
    if ((old & ~new_) || ((new_ & ~old) & ~allowed))
        fz_die("interrupt: model wrote 0x%llx over 0x%llx in descriptor qword %llu (allowed bits 0x%llx)",
               (unsigned long long)new_, (unsigned long long)old, (unsigned long long)q, (unsigned long long)allowed);
}

static void check_read(const struct fz_mem *m, uint64_t gpa, size_t len)
{
    if (m->phase == FZ_FREE)
        return;
    if (m->phase == FZ_IRQ) {
        if (!irq_read_ok(m->irq, gpa, len))
            fz_die("interrupt: model read %zu bytes at 0x%llx, which the oracle never read", len,
                   (unsigned long long)gpa);
        return;
    }
    if (m->phase == FZ_DMA && is_chunk(m, gpa, len))
        return;
    if (!structure_size(len) || gpa % len)
        fz_die("model read %zu bytes at 0x%llx: not a structure size/alignment", len, (unsigned long long)gpa);
    if (m->phase != FZ_WARM && !oracle_read(m, gpa, len))
        fz_die("model read %zu bytes at 0x%llx, which the reference walk never read", len,
               (unsigned long long)gpa);
}

static void check_write(const struct fz_mem *m, uint64_t gpa, const void *src, size_t len)
{
    if (m->phase == FZ_FREE || (m->phase == FZ_DMA && is_chunk(m, gpa, len)))
        return;
    if (m->phase == FZ_IRQ)
        return irq_check_write(m, gpa, src, len);
    if (m->phase == FZ_PRQ) {
        if (len != 32 || gpa != m->prq_slot)
            fz_die("page request: model wrote %zu bytes at 0x%llx, the queue's slot is 0x%llx", len,
                   (unsigned long long)gpa, (unsigned long long)m->prq_slot);
        return;
    }
    if (m->phase == FZ_WARM)
        fz_die("model wrote %zu bytes at 0x%llx while replaying on unchanged memory", len,
               (unsigned long long)gpa);
    if (len != 8 || (gpa & 7) || !in_memory(gpa, 8))
        fz_die("model wrote %zu bytes at 0x%llx: not an A/D update of a paging entry", len,
               (unsigned long long)gpa);
    uint64_t old = fz_r64(m, gpa), new_;
    memcpy(&new_, src, 8);
    uint64_t allowed = ad_bits(m, gpa);
    if ((old & ~new_) || ((new_ & ~old) & ~allowed))
        fz_die("model wrote 0x%llx over 0x%llx at 0x%llx: more than A/D bits (allowed 0x%llx)",
               (unsigned long long)new_, (unsigned long long)old, (unsigned long long)gpa,
               (unsigned long long)allowed);
}

static int model_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct fz_mem *m = opaque;
    m->reads++;
    check_read(m, gpa, len);
    if (!in_memory(gpa, len))
        return -EFAULT;
    memcpy(dst, m->buf + gpa, len);
    return 0;
}

static int model_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct fz_mem *m = opaque;
    check_write(m, gpa, src, len);
    if (!in_memory(gpa, len))
        return -EFAULT;
    m->writes++;
    memcpy(m->buf + gpa, src, len);
    return 0;
}

static int ref_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct fz_mem *m = opaque;
    if (!in_memory(gpa, len))
        return -EFAULT;
    memcpy(dst, m->buf + gpa, len);
    return 0;
}

static int ref_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    (void)opaque, (void)gpa, (void)src, (void)len;
    fz_die("the reference walk wrote guest memory");
}

struct fz_mem *fz_mem_new(void)
{
    static const struct siov_mem_ops model_ops = {.read = model_read, .write = model_write};
    static const struct siov_mem_ops ref_ops = {.read = ref_read, .write = ref_write};
    struct fz_mem *m = calloc(1, sizeof(*m));
    if (!m)
        abort();
    m->buf = calloc(1, FZ_MEM_SIZE);
    m->mem = siov_mem_new(&model_ops, m);
    m->ref_mem = siov_mem_new(&ref_ops, m);
    if (!m->buf || !m->mem || !m->ref_mem)
        abort();
    return m;
}

void fz_mem_free(struct fz_mem *m)
{
    if (!m)
        return;
    siov_mem_free(m->mem);
    siov_mem_free(m->ref_mem);
    free(m->buf);
    free(m);
}

uint64_t fz_r64(const struct fz_mem *m, uint64_t gpa)
{
    uint64_t v = 0;
    if (in_memory(gpa, 8))
        memcpy(&v, m->buf + gpa, 8);
    return v;
}

void fz_w64(struct fz_mem *m, uint64_t gpa, uint64_t v)
{
    if (in_memory(gpa, 8))
        memcpy(m->buf + gpa, &v, 8);
}

/* ---------------------------------------------------------------- the unit */
void fz_config(struct fz_in *in, struct siov_iommu_config *c, unsigned *ttm, bool *te)
{
    static const unsigned pasid_bits[8] = {20, 1, 6, 7, 8, 14, 19, 20};
    static const unsigned mgaw[8] = {48, 39, 57, 30, 40, 52, 47, 56};
    static const unsigned haw[8] = {48, 32, 36, 39, 40, 46, 52, 48};
    static const unsigned iotlb[8] = {4096, 1, 2, 16, 64, 0, 8, 4096};
    static const unsigned dbits[4] = {16, 4, 8, 16};
    siov_iommu_config_default(c);
    *ttm = SIOV_TTM_SCALABLE;
    *te = true;
    if (!in->n)
        return;
    uint8_t b0 = fz_u8(in), b1 = fz_u8(in), b2 = fz_u8(in), b3 = fz_u8(in), b4 = fz_u8(in);
    /* byte 0: feature switches, set = the non-default value */
    c->scalable = !(b0 & 1), c->first_level = !(b0 & 2), c->second_level = !(b0 & 4);
    c->nested = !(b0 & 8), c->pass_through = !(b0 & 16), c->fl_5level = !(b0 & 32);
    c->fl_1g = !(b0 & 64), c->sl_ad = !(b0 & 128);
    c->supervisor_req = !(b1 & 1), c->exec_req = !(b1 & 2), c->dev_tlb = !(b1 & 4);
    c->abort_dma = !(b1 & 8), c->rid_pasid = !(b1 & 16), c->caching_mode = (b1 & 32) != 0;
    c->stale_check = (b1 & 64) != 0;
    *te = !(b1 & 128);
    c->sagaw = (b2 & 7) ? (unsigned)(b2 & 7) << 1 : SIOV_SAGAW_4LVL;
    c->sl_large = (~b2 >> 3) & 3;
    c->pasid_bits = pasid_bits[(b2 >> 5) & 7];
    c->mgaw = mgaw[b3 & 7];
    c->haw = haw[(b3 >> 3) & 7];
    c->fault_records = 1 + ((b3 >> 6) & 3) * 3;
    c->iotlb_entries = iotlb[b4 & 7];
    c->domain_bits = dbits[(b4 >> 3) & 3];
    *ttm = ((b4 >> 5) & 3) ^ SIOV_TTM_SCALABLE; /* 0 in the input means scalable */
    c->nwfs = !(b4 & 128);
    c->version = (b4 & 128) ? 0x60 : 0x10;
}

static void stale_report(void *opaque, const struct siov_stale_report *r)
{
    struct fz_unit *u = opaque;
    u->stale_reports++;
    if (u->m->phase == FZ_WARM)
        fz_die("stale-translation report on unchanged memory: sid %04x pasid %x iova 0x%llx cached %s fresh %s",
               r->sid, r->pasid, (unsigned long long)r->iova, siov_fault_name(r->cached_fault),
               siov_fault_name(r->fresh_fault));
}

static void gcmd(struct fz_unit *u, uint32_t oneshot)
{
    siov_mmio_write(u->iommu, SIOV_REG_GCMD, u->gcmd | oneshot, 4);
}

void fz_unit_gcmd(struct fz_unit *u, uint32_t set, uint32_t clear)
{
    u->gcmd = (u->gcmd | set) & ~clear;
    gcmd(u, 0);
}

struct fz_unit *fz_unit_new(struct fz_mem *m, const struct siov_iommu_config *cfg, uint64_t root,
                            unsigned ttm, bool te)
{
    struct fz_unit *u = calloc(1, sizeof(*u));
    if (!u)
        abort();
    u->m = m;
    u->cfg = *cfg;
    u->cfg.stale_report = stale_report;
    u->cfg.stale_opaque = u;
    u->iommu = siov_iommu_new(m->mem, &u->cfg);
    if (!u->iommu) {
        free(u);
        return NULL;
    }
    u->wide = (siov_mmio_read(u->iommu, SIOV_REG_ECAP, 8) & SIOV_ECAP_SMTS) != 0;
    m->phase = FZ_FREE;
    siov_mmio_write(u->iommu, SIOV_REG_IQA, FZ_QPAGE | (u->wide ? SIOV_IQA_DW : 0), 8); /* TTM 00 for now */
    siov_mmio_write(u->iommu, SIOV_REG_IQT, 0, 8);
    u->gcmd = SIOV_GCMD_QIE;
    gcmd(u, 0);
    fz_unit_root(u, root, ttm, te);
    return u;
}

void fz_unit_free(struct fz_unit *u)
{
    if (!u)
        return;
    siov_iommu_free(u->iommu);
    free(u);
}

struct fz_unit *fz_start(struct fz_in *in, fz_adjust_fn *adjust, void *opaque, struct fz_builder *b)
{
    struct siov_iommu_config cfg;
    unsigned ttm;
    bool te;
    fz_config(in, &cfg, &ttm, &te);
    if (adjust)
        adjust(in, &cfg, opaque);
    uint64_t root = (uint64_t)(fz_u8(in) % FZ_TABLE_PAGES) << SIOV_PAGE_SHIFT;
    struct fz_mem *m = fz_mem_new();
    struct fz_unit *u = fz_unit_new(m, &cfg, root, ttm, te);
    if (!u) {
        fz_mem_free(m);
        return NULL;
    }
    *b = (struct fz_builder){.u = u, .in = in, .bump = (unsigned)(root >> SIOV_PAGE_SHIFT)};
    return u;
}

void fz_stop(struct fz_unit *u)
{
    struct fz_mem *m = u->m;
    fz_unit_free(u);
    fz_mem_free(m);
}

void fz_unit_root(struct fz_unit *u, uint64_t root, unsigned ttm, bool te)
{
    u->root = root;
    u->ttm = ttm & 3;
    u->te = te;
    siov_mmio_write(u->iommu, SIOV_REG_RTADDR, root | siov_set(0, SIOV_RTADDR_TTM, u->ttm), 8);
    gcmd(u, SIOV_GCMD_SRTP);
    u->gcmd = (u->gcmd & ~SIOV_GCMD_TE) | (te ? SIOV_GCMD_TE : 0);
    gcmd(u, 0);
    ref_unit_init(&u->ref, u->m->ref_mem, u->iommu);
}

/* Put one descriptor (qw[0..3]) at the harness queue's tail. */
static void q_put(struct fz_unit *u, uint64_t qw0, uint64_t qw1)
{
    unsigned width = u->wide ? 32 : 16;
    uint64_t at = FZ_QPAGE + u->qtail;
    fz_w64(u->m, at, qw0);
    fz_w64(u->m, at + 8, qw1);
    if (u->wide) {
        fz_w64(u->m, at + 16, 0);
        fz_w64(u->m, at + 24, 0);
    }
    u->qtail = (u->qtail + width) % SIOV_PAGE_SIZE;
}

void fz_invalidate_all(struct fz_unit *u)
{
    enum fz_phase saved = u->m->phase;
    u->m->phase = FZ_FREE;
    /* The same descriptors at the same place every time, and the same status
       word after it, so guest memory after an invalidation is always the
       same: tables the input points into these pages read alike cold and warm. */
    fz_unit_gcmd(u, 0, SIOV_GCMD_QIE); /* IQH back to 0 */
    siov_mmio_write(u->iommu, SIOV_REG_IQT, 0, 8);
    u->qtail = 0;
    /* the width the latched TTM takes (docs/spec-notes.md, "Queue errors"):
       256-bit in scalable and abort-DMA mode, which needs SMTS or ADMS;
       where no width works (or TTM=10), every request faults RTA.1 and
       nothing is cached, so there is nothing to invalidate */
    uint64_t ecap = siov_mmio_read(u->iommu, SIOV_REG_ECAP, 8);
    bool sm = u->ttm == SIOV_TTM_SCALABLE || u->ttm == SIOV_TTM_ABORT;
    if (u->ttm == SIOV_TTM_RESERVED || (sm && !(ecap & (SIOV_ECAP_SMTS | SIOV_ECAP_ADMS)))) {
        fz_w64(u->m, FZ_QSTATUS, 1);
        u->qseq++;
        u->m->phase = saved;
        return;
    }
    u->wide = sm;
    siov_mmio_write(u->iommu, SIOV_REG_IQA, FZ_QPAGE | (u->wide ? SIOV_IQA_DW : 0), 8);
    fz_unit_gcmd(u, SIOV_GCMD_QIE, 0);
    q_put(u, siov_dsc_make_type(SIOV_DSC_CC) | siov_set(0, SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL), 0);
    q_put(u, siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL), 0);
    if (u->wide)
        q_put(u, siov_dsc_make_type(SIOV_DSC_PC) | siov_set(0, SIOV_PC0_G, SIOV_PC_GRAN_GLOBAL), 0);
    q_put(u, siov_dsc_make_type(SIOV_DSC_IEC), 0); /* global */
    q_put(u, siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, 1), FZ_QSTATUS);
    fz_w64(u->m, FZ_QSTATUS, 0);
    siov_mmio_write(u->iommu, SIOV_REG_IQT, u->qtail, 8);
    u->qseq++;
    uint64_t got = fz_r64(u->m, FZ_QSTATUS);
    if (got != 1)
        fz_die("harness invalidation not completed: status 0x%llx, FSTS 0x%llx IQH 0x%llx IQT 0x%x",
               (unsigned long long)got, (unsigned long long)siov_mmio_read(u->iommu, SIOV_REG_FSTS, 4),
               (unsigned long long)siov_mmio_read(u->iommu, SIOV_REG_IQH, 8), u->qtail);
    u->m->phase = saved;
}

/* ------------------------------------------------------------ the builder */
siov_sid fz_pick_sid(struct fz_in *in)
{
    static const siov_sid sids[8] = {0x0000, 0x0010, 0x00F8, 0x0100, 0x0280, 0xFFFF, 0x1208, 0x0007};
    uint8_t s = fz_u8(in);
    return (s & 0x80) ? fz_u16(in) : sids[s & 7];
}

uint32_t fz_pick_pasid(struct fz_in *in)
{
    static const uint32_t pasids[8] = {SIOV_NO_PASID, 0, 1, 2, 63, 64, 0x3FF, SIOV_PASID_MAX};
    uint8_t s = fz_u8(in);
    if (s & 0x80)
        return (s & 0x40) ? SIOV_NO_PASID : fz_u32(in) & (SIOV_PASID_MAX | (1u << 20));
    return pasids[s & 7];
}

/* A table page: input-chosen (anywhere, tables may overlap) or the next fresh one. */
static uint64_t b_page(struct fz_builder *b)
{
    uint8_t v = fz_u8(b->in);
    if (v >= 0x80)
        return (uint64_t)(v % FZ_TABLE_PAGES) << SIOV_PAGE_SHIFT;
    b->bump = (b->bump + 1) % FZ_TABLE_PAGES;
    return (uint64_t)b->bump << SIOV_PAGE_SHIFT;
}

static bool table_ok(uint64_t addr)
{
    return addr + SIOV_PAGE_SIZE <= FZ_QPAGE;
}

/* Parameters of one mapping. */
struct fz_map {
    unsigned levels, leaf_level;
    bool fl;
    uint64_t iova, pa, leaf, nonleaf;
};

/* Map one page in the hierarchy at root, reusing present tables inside memory. */
static void b_map(struct fz_builder *b, uint64_t root, const struct fz_map *mp)
{
    uint64_t table = root;
    uint64_t addr_mask = mp->fl ? SIOV_FL_ADDR : SIOV_SL_ADDR;
    for (unsigned l = mp->levels; l > mp->leaf_level; l--) {
        uint64_t gpa = table + siov_level_index(mp->iova, l) * 8;
        if (!table_ok(table))
            return;
        uint64_t e = fz_r64(b->u->m, gpa);
        bool present = mp->fl ? (e & SIOV_FL_P) : (e & (SIOV_SL_R | SIOV_SL_W | SIOV_SL_X));
        bool large = (e & SIOV_FL_PS) && l <= 3; /* PS is bit 7 in both formats */
        uint64_t next = e & addr_mask;
        if (!present || large || !table_ok(next)) {
            next = b_page(b);
            fz_w64(b->u->m, gpa, next | mp->nonleaf);
        }
        table = next;
    }
    if (!table_ok(table))
        return;
    uint64_t size = 1ull << siov_level_shift(mp->leaf_level);
    uint64_t leaf = (mp->pa & addr_mask & ~(size - 1)) | mp->leaf | (mp->leaf_level > 1 ? SIOV_SL_PS : 0);
    fz_w64(b->u->m, table + siov_level_index(mp->iova, mp->leaf_level) * 8, leaf);
}

/* What one template builds, decoded from its first input bytes. */
struct fz_tpl {
    unsigned pgtt, sl_aw, fl_levels, leaf_level;
    bool legacy, wild, preset_ad, pwsnp, restrict_nonleaf;
    uint8_t leafperm, peflags;
    uint16_t did;
    siov_sid sid;
    uint32_t pasid, rid_pasid;
    uint64_t iova, pa;
};

static unsigned pick_aw(const struct fz_builder *b, unsigned sel)
{
    unsigned sagaw = b->u->cfg.sagaw;
    for (unsigned i = 0; i < 3; i++) {
        unsigned aw = 1 + (sel + i) % 3;
        if (sagaw & (1u << aw))
            return aw;
    }
    return SIOV_AW_4LVL;
}

static void tpl_decode(struct fz_builder *b, struct fz_tpl *t)
{
    static const unsigned pgtts[4] = {SIOV_PGTT_SL, SIOV_PGTT_FL, SIOV_PGTT_NESTED, SIOV_PGTT_PT};
    uint8_t k = fz_u8(b->in), misc = fz_u8(b->in);
    t->pgtt = pgtts[k & 3];
    t->legacy = (k & 4) != 0;
    t->wild = (misc & 1) != 0;
    t->sl_aw = t->wild ? (k >> 3) & 7 : pick_aw(b, (k >> 3) & 3);
    t->fl_levels = (k & 32) && b->u->cfg.fl_5level ? 5 : 4;
    t->leaf_level = 1 + ((k >> 6) % 3);
    t->preset_ad = (misc & 2) != 0;
    t->pwsnp = !(misc & 4);
    t->restrict_nonleaf = (misc & 8) != 0;
    t->leafperm = fz_u8(b->in);
    t->peflags = fz_u8(b->in);
    t->did = fz_u8(b->in);
    t->sid = fz_pick_sid(b->in);
    t->pasid = fz_pick_pasid(b->in);
    t->rid_pasid = t->pasid == SIOV_NO_PASID ? ((misc & 16) ? 0 : fz_u8(b->in)) : 0;
    uint32_t pages = fz_u32(b->in);
    t->iova = (uint64_t)pages << SIOV_PAGE_SHIFT;
    if (misc & 32) /* the upper canonical half */
        t->iova |= t->fl_levels == 5 ? 0xFF00000000000000ull : 0xFFFF800000000000ull;
    uint16_t pa = fz_u16(b->in);
    t->pa = (misc & 64) ? (uint64_t)pa << siov_level_shift(t->leaf_level)
                        : (uint64_t)(pa % FZ_PAGES) << SIOV_PAGE_SHIFT;
    if (t->legacy)
        t->pgtt = t->pgtt == SIOV_PGTT_PT ? SIOV_PGTT_PT : SIOV_PGTT_SL;
}

/* The scalable-mode path down to the PASID-table entry; returns its address (0: none). */
static uint64_t b_sm_path(struct fz_builder *b, const struct fz_tpl *t)
{
    struct fz_mem *m = b->u->m;
    uint64_t re = b->u->root + SIOV_SID_BUS(t->sid) * SIOV_ROOT_ENTRY_SIZE + (SIOV_SID_DEVFN(t->sid) >= 128 ? 8 : 0);
    uint64_t half = fz_r64(m, re), ctp = half & SIOV_SRE0_LCTP;
    if (!(half & SIOV_SRE0_LP) || !table_ok(ctp) || (half & SIOV_SRE_HALF_RSVD)) {
        ctp = b_page(b);
        fz_w64(m, re, ctp | SIOV_SRE0_LP);
    }
    uint64_t ce = ctp + (SIOV_SID_DEVFN(t->sid) & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE;
    uint64_t c0 = fz_r64(m, ce), dir = c0 & SIOV_SCE0_PASIDDIRPTR;
    if (!(c0 & SIOV_SCE0_P) || !table_ok(dir) || t->wild) {
        dir = b_page(b);
        unsigned pdts = t->wild ? (t->peflags >> 5) & 7 : 7;
        c0 = dir | SIOV_SCE0_P | SIOV_SCE0_PASIDE | siov_set(0, SIOV_SCE0_PDTS, pdts) |
             ((t->peflags & 1) && b->u->cfg.dev_tlb ? SIOV_SCE0_DTE : 0);
        fz_w64(m, ce, c0);
        fz_w64(m, ce + 16, 0);
        fz_w64(m, ce + 24, 0);
    }
    fz_w64(m, ce + 8, t->rid_pasid);
    uint32_t pasid = t->pasid == SIOV_NO_PASID ? t->rid_pasid : t->pasid;
    uint64_t de = dir + siov_get(pasid, SIOV_PASID_DIR_INDEX) * SIOV_PDE_SIZE;
    uint64_t d = fz_r64(m, de), tbl = d & SIOV_PDE_SMPTBLPTR;
    if (!(d & SIOV_PDE_P) || !table_ok(tbl) || (d & SIOV_PDE_RSVD)) {
        tbl = b_page(b);
        fz_w64(m, de, tbl | SIOV_PDE_P);
    }
    return tbl + siov_get(pasid, SIOV_PASID_TBL_INDEX) * SIOV_PTE_SIZE;
}

/* The legacy path down to the context entry; returns its address. */
static uint64_t b_legacy_path(struct fz_builder *b, const struct fz_tpl *t)
{
    struct fz_mem *m = b->u->m;
    uint64_t re = b->u->root + SIOV_SID_BUS(t->sid) * SIOV_ROOT_ENTRY_SIZE;
    uint64_t r0 = fz_r64(m, re), ctp = r0 & SIOV_RE0_CTP;
    if (!(r0 & SIOV_RE0_P) || !table_ok(ctp) || (r0 & SIOV_RE0_RSVD)) {
        ctp = b_page(b);
        fz_w64(m, re, ctp | SIOV_RE0_P);
        fz_w64(m, re + 8, 0);
    }
    return ctp + SIOV_SID_DEVFN(t->sid) * SIOV_CTX_ENTRY_SIZE;
}

/* PASID-entry flag bits from the template, limited to what the unit supports unless wild. */
static void pe_flags(const struct fz_builder *b, const struct fz_tpl *t, uint64_t pe[8])
{
    const struct siov_iommu_config *c = &b->u->cfg;
    uint8_t f = t->peflags;
    bool slade = (f & 2) && (c->sl_ad || t->wild), sre = (f & 4) && (c->supervisor_req || t->wild);
    bool ere = (f & 8) && (c->exec_req || t->wild), eafe = (f & 128) && t->wild;
    pe[0] |= ((f & 1) ? SIOV_PTE0_SLEE : 0) | (slade ? SIOV_PTE0_SLADE : 0);
    pe[1] |= t->pwsnp ? SIOV_PTE1_PWSNP : 0;
    pe[2] |= (sre ? SIOV_PTE2_SRE : 0) | (ere ? SIOV_PTE2_ERE : 0) | ((f & 16) ? SIOV_PTE2_WPE : 0) |
             ((f & 32) ? SIOV_PTE2_NXE : 0) | ((f & 64) ? SIOV_PTE2_SMEP : 0) | (eafe ? SIOV_PTE2_EAFE : 0);
}

/* Leaf and non-leaf bits of one stage. */
static void stage_bits(const struct fz_tpl *t, bool fl, uint64_t *leaf, uint64_t *nonleaf)
{
    uint8_t p = t->leafperm;
    if (fl) {
        *leaf = SIOV_FL_P | ((p & 1) ? SIOV_FL_RW : 0) | ((p & 2) ? 0 : SIOV_FL_US) | ((p & 4) ? SIOV_FL_XD : 0);
        *nonleaf = t->restrict_nonleaf ? *leaf & ~SIOV_FL_XD : SIOV_FL_P | SIOV_FL_RW | SIOV_FL_US;
        if (t->preset_ad) {
            *leaf |= SIOV_FL_A | SIOV_FL_D | SIOV_FL_EA;
            *nonleaf |= SIOV_FL_A | SIOV_FL_EA;
        }
    } else {
        *leaf = ((p & 8) ? 0 : SIOV_SL_R) | ((p & 16) ? 0 : SIOV_SL_W) | ((p & 32) ? SIOV_SL_X : 0);
        if (!(*leaf & (SIOV_SL_R | SIOV_SL_W)) && !(p & 64))
            *leaf |= SIOV_SL_R;
        *nonleaf = t->restrict_nonleaf ? *leaf : SIOV_SL_R | SIOV_SL_W | SIOV_SL_X;
        if (t->preset_ad) {
            *leaf |= SIOV_SL_A | SIOV_SL_D;
            *nonleaf |= SIOV_SL_A;
        }
    }
    if (p & 128) { /* a stray high bit: reserved, XD, or ignored, depending on format and level */
        *leaf |= SIOV_BIT(11);
    }
}

/* Second-level tables for a nested template: all of guest memory identity-mapped,
   and the first level's output page mapped too. */
static void b_nested_sl(struct fz_builder *b, const struct fz_tpl *t, uint64_t slptptr, unsigned sl_levels)
{
    struct fz_map mp = {sl_levels, 1, false, 0, 0, 0, 0};
    uint64_t unused;
    stage_bits(t, false, &mp.leaf, &unused);
    mp.leaf |= SIOV_SL_R | SIOV_SL_W;
    mp.nonleaf = SIOV_SL_R | SIOV_SL_W | SIOV_SL_X | (t->preset_ad ? SIOV_SL_A : 0);
    if (b->u->cfg.sl_large & SIOV_SLLPS_2M) {
        mp.leaf_level = 2;
        b_map(b, slptptr, &mp);
    } else {
        for (uint64_t a = 0; a < FZ_MEM_SIZE; a += SIOV_PAGE_SIZE) {
            mp.iova = mp.pa = a;
            b_map(b, slptptr, &mp);
        }
    }
    mp.leaf_level = 1;
    mp.iova = t->pa;
    mp.pa = (uint64_t)fz_u8(b->in) << SIOV_PAGE_SHIFT;
    if (t->pa >= FZ_MEM_SIZE)
        b_map(b, slptptr, &mp);
}

void fz_template(struct fz_builder *b)
{
    struct fz_tpl t;
    tpl_decode(b, &t);
    uint64_t pe[8] = {0};
    uint64_t slptptr = b_page(b), flptptr = b_page(b);
    unsigned sl_levels = siov_aw_levels(t.sl_aw > 3 ? 2 : t.sl_aw);
    bool fl = t.pgtt == SIOV_PGTT_FL || t.pgtt == SIOV_PGTT_NESTED;
    bool sl = t.pgtt == SIOV_PGTT_SL || t.pgtt == SIOV_PGTT_NESTED;
    struct fz_map mp = {fl ? t.fl_levels : sl_levels, t.leaf_level, fl, t.iova, t.pa, 0, 0};
    stage_bits(&t, fl, &mp.leaf, &mp.nonleaf);
    if (t.legacy) {
        uint64_t ce = b_legacy_path(b, &t);
        unsigned tt = t.pgtt == SIOV_PGTT_PT ? SIOV_TT_PASS_THROUGH : (t.peflags & 1) ? SIOV_TT_SL_DT : SIOV_TT_SL;
        fz_w64(b->u->m, ce, SIOV_CE0_P | siov_set(0, SIOV_CE0_TT, tt) | slptptr);
        fz_w64(b->u->m, ce + 8, siov_set(0, SIOV_CE1_AW, t.sl_aw) | siov_set(0, SIOV_CE1_DID, t.did));
    } else {
        uint64_t at = b_sm_path(b, &t);
        pe[0] = SIOV_PTE0_P | siov_set(0, SIOV_PTE0_PGTT, t.pgtt);
        pe[1] = siov_set(0, SIOV_PTE1_DID, t.did);
        if (sl)
            pe[0] |= siov_set(0, SIOV_PTE0_AW, t.sl_aw) | slptptr;
        if (fl)
            pe[2] = flptptr | siov_set(0, SIOV_PTE2_FLPM, t.fl_levels == 5 ? SIOV_FLPM_5LVL : SIOV_FLPM_4LVL);
        pe_flags(b, &t, pe);
        for (unsigned i = 0; i < 8; i++)
            fz_w64(b->u->m, at + 8 * i, pe[i]);
    }
    if (t.pgtt != SIOV_PGTT_PT)
        b_map(b, fl ? flptptr : slptptr, &mp);
    if (t.pgtt == SIOV_PGTT_NESTED)
        b_nested_sl(b, &t, slptptr, sl_levels);
    struct fz_target *tg = &b->targets[b->ntargets++ % FZ_MAX_TARGETS];
    if (b->ntargets > FZ_MAX_TARGETS)
        b->ntargets = FZ_MAX_TARGETS;
    *tg = (struct fz_target){t.sid, t.pasid, t.iova, 1ull << siov_level_shift(t.leaf_level)};
}

void fz_pick_req(struct fz_builder *b, struct fz_req *r)
{
    uint8_t s = fz_u8(b->in);
    struct fz_target t = {0, SIOV_NO_PASID, 0, SIOV_PAGE_SIZE};
    if (b->ntargets)
        t = b->targets[(s & 7) % b->ntargets];
    r->sid = (s & 8) ? fz_u16(b->in) : t.sid;
    r->pasid = (s & 16) ? fz_pick_pasid(b->in) : t.pasid;
    uint16_t off = fz_u16(b->in);
    switch (s >> 6) {
    case 0: r->addr = t.iova + (off % t.size); break;
    case 1: r->addr = t.iova + t.size + (off & 0xFFF); break;
    case 2: r->addr = t.iova - 1 - (off & 0xFFF); break;
    default: r->addr = (s & 32) ? fz_u64(b->in) : t.iova ^ ((uint64_t)off << 12); break;
    }
    uint8_t a = fz_u8(b->in);
    r->access = a & 0x0F;
    if (a & 0x80) /* a translation request (NW too) or a translated one */
        r->access |= a & (SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_TRANSLATED | SIOV_ACCESS_NO_WRITE);
}

/* ------------------------------------------------------------- the oracle */
void fz_describe(const struct fz_unit *u, const struct fz_req *r, char *buf, size_t len)
{
    snprintf(buf, len, "sid %04x pasid %x addr 0x%llx access 0x%x (TTM %u TE %d root 0x%llx)", r->sid, r->pasid,
             (unsigned long long)r->addr, r->access, u->ttm, u->te, (unsigned long long)u->root);
}

static bool ad_fault(siov_fault f)
{
    return f == SIOV_FAULT_SFL_8 || f == SIOV_FAULT_SFL_9 || f == SIOV_FAULT_SSL_5;
}

static bool all_touched(const struct fz_mem *m, const struct ref_result *r)
{
    for (unsigned i = 0; i < r->ntouch; i++)
        if ((fz_r64(m, r->touch[i].gpa) & r->touch[i].bits) != r->touch[i].bits)
            return false;
    return true;
}

static bool same_xlate(const struct siov_xlate *a, const struct siov_xlate *b)
{
    return a->addr == b->addr && a->page_size == b->page_size && a->perm == b->perm && a->did == b->did;
}

static void print_path(const struct fz_mem *m, const struct ref_result *r)
{
    fprintf(stderr, "  oracle path:");
    for (unsigned i = 0; i < r->nread; i++)
        fprintf(stderr, " %s%s%u@0x%llx=0x%llx", ref_kind_name(r->read[i].kind), r->read[i].top ? "*" : "",
                r->read[i].level, (unsigned long long)r->read[i].gpa,
                (unsigned long long)fz_r64(m, r->read[i].gpa));
    fprintf(stderr, "\n");
}

static void mismatch(const struct fz_unit *u, const struct fz_req *r, const char *what, siov_fault got,
                     const struct siov_xlate *x, siov_fault want, const struct siov_xlate *wx,
                     const struct ref_result *ref)
{
    char d[256];
    fz_describe(u, r, d, sizeof d);
    fprintf(stderr, "MISMATCH (%s): %s\n  model:  %s addr 0x%llx size 0x%llx perm 0x%x did %u\n"
                    "  expect: %s addr 0x%llx size 0x%llx perm 0x%x did %u\n",
            what, d, siov_fault_name(got), (unsigned long long)x->addr, (unsigned long long)x->page_size, x->perm,
            x->did, siov_fault_name(want), (unsigned long long)wx->addr, (unsigned long long)wx->page_size,
            wx->perm, wx->did);
    if (ref)
        print_path(u->m, ref);
    fz_die("model and %s disagree", what);
}

/* Nested: the second-level walk that fetches a first-level entry updates its
   A bits when it completes, so a non-snooped walk meets SSL.5 there, before
   anything the oracle finds further on (an FL entry read after it). */
static bool early_ssl5(const struct fz_mem *m, const struct ref_result *ref)
{
    bool missing_a = false;
    for (unsigned i = 0; i < ref->nread; i++) {
        if (ref->read[i].kind == REF_SL && !(fz_r64(m, ref->read[i].gpa) & SIOV_SL_A))
            missing_a = true;
        if (ref->read[i].kind == REF_FL && missing_a)
            return true;
    }
    return false;
}

/* The oracle's verdict on one model answer (untranslated requests only). */
static void compare(const struct fz_unit *u, const struct fz_req *r, siov_fault got, const struct siov_xlate *x,
                    const struct ref_result *ref, bool touched_before)
{
    bool ok = got == ref->fault && (got != SIOV_OK || same_xlate(x, &ref->x));
    /* The oracle never updates A/D: an A/D fault stands for its success (or
       the interrupt-range fault that follows the updates). */
    if (!ok && ad_fault(got))
        ok = (ref->fault == SIOV_OK && !touched_before) || ref->fault == SIOV_FAULT_SGN_8;
    if (!ok && got == SIOV_FAULT_SSL_5 && ref->pgtt == SIOV_PGTT_NESTED)
        ok = early_ssl5(u->m, ref);
    if (!ok)
        mismatch(u, r, "reference walk", got, x, ref->fault, &ref->x, ref);
    if (got == SIOV_OK && !all_touched(u->m, ref))
        mismatch(u, r, "reference walk (A/D bits not set)", got, x, ref->fault, &ref->x, ref);
}

/* No TLP prefix carries a PASID beyond 20 bits: siov_translate refuses it
   with SGN.10 (above the unit's width) before looking at anything, memory
   included. */
static bool check_wide_pasid(struct fz_unit *u, const struct fz_req *r, struct fz_answer *out)
{
    struct siov_xlate x = {0}, none = {0};
    u->m->phase = FZ_CHECK; /* no oracle reads: any memory access fails the check */
    u->m->nallow = 0;
    siov_fault got = siov_translate(u->iommu, r->sid, r->pasid, r->addr, r->access, &x);
    u->m->phase = FZ_FREE;
    if (got != SIOV_FAULT_SGN_10)
        mismatch(u, r, "SGN.10 for a PASID beyond 20 bits", got, &x, SIOV_FAULT_SGN_10, &none, NULL);
    if (out)
        *out = (struct fz_answer){.fault = got, .x = x};
    return false;
}

/* Which entry chose the structures of the walk in ref, for fz_answer. */
static void answer_tag(const struct fz_unit *u, const struct ref_result *ref, struct fz_answer *a)
{
    uint16_t mask = (uint16_t)((1u << u->cfg.domain_bits) - 1);
    a->tagged = false;
    for (unsigned i = 0; i < ref->nread; i++) {
        uint64_t gpa = ref->read[i].gpa;
        if (ref->read[i].kind == REF_PASID) {
            a->entry[0] = fz_r64(u->m, gpa), a->entry[1] = fz_r64(u->m, gpa + 8), a->entry[2] = fz_r64(u->m, gpa + 16);
            a->did = (uint16_t)siov_get(a->entry[1], SIOV_PTE1_DID) & mask;
            a->tagged = true;
        } else if (ref->read[i].kind == REF_CTX && ref->legacy) {
            a->entry[0] = fz_r64(u->m, gpa), a->entry[1] = fz_r64(u->m, gpa + 8), a->entry[2] = 0;
            a->did = (uint16_t)siov_get(a->entry[1], SIOV_CE1_DID) & mask;
            a->tagged = true;
        }
    }
}

void fz_oracle_tag(struct fz_unit *u, const struct fz_req *r, struct fz_answer *a)
{
    struct ref_result ref;
    ref_translate(&u->ref, r->sid, r->pasid, r->addr, SIOV_ACCESS_READ, &ref);
    *a = (struct fz_answer){.fault = ref.fault, .x = ref.x};
    answer_tag(u, &ref, a);
}

bool fz_same_domain(const struct fz_answer *a, const struct fz_answer *b)
{
    if (!a->tagged || !b->tagged || a->did != b->did)
        return true;
    return !memcmp(a->entry, b->entry, sizeof a->entry);
}

/* ------------------------------------------------- translation requests */
/* The access bits a translation request carries (fz_req.access holds ATS_REQ). */
static unsigned ats_access(const struct fz_req *r)
{
    return r->access & (SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC | SIOV_ACCESS_NO_WRITE);
}

static bool same_completion(const struct siov_ats_completion *a, const struct siov_ats_completion *b)
{
    if (a->status != b->status)
        return false;
    return a->status != SIOV_ATS_SUCCESS ||
           (a->addr == b->addr && a->size == b->size && a->r == b->r && a->w == b->w && a->x == b->x &&
            a->priv == b->priv && a->global == b->global && a->untranslated_only == b->untranslated_only &&
            a->no_snoop == b->no_snoop);
}

static void print_completion(const char *who, siov_fault f, const struct siov_ats_completion *c)
{
    fprintf(stderr, "  %s %s status %d addr 0x%llx size 0x%llx R%d W%d X%d P%d G%d U%d N%d\n", who,
            siov_fault_name(f), c->status, (unsigned long long)c->addr, (unsigned long long)c->size, c->r, c->w,
            c->x, c->priv, c->global, c->untranslated_only, c->no_snoop);
}

static void ats_mismatch(const struct fz_unit *u, const struct fz_req *r, const char *what, siov_fault got,
                         const struct siov_ats_completion *c, siov_fault want, const struct siov_ats_completion *wc,
                         const struct ref_result *ref)
{
    char d[256];
    fz_describe(u, r, d, sizeof d);
    fprintf(stderr, "MISMATCH (%s): translation request %s\n", what, d);
    print_completion("model: ", got, c);
    print_completion("expect:", want, wc);
    if (ref)
        print_path(u->m, ref);
    fz_die("model and %s disagree", what);
}

/* A/D updates the oracle does not make: where a bit it needs was clear, the
   model's failed update (SFL.8/9: Success without permissions; SSL.5: CA)
   stands for a grant or for the interrupt-range CA behind it. */
static bool ats_ad_excuse(const struct fz_mem *m, const struct ref_ats *a, siov_fault got,
                          const struct siov_ats_completion *c, bool touched_before)
{
    bool none = !got && c->status == SIOV_ATS_SUCCESS && !c->r && !c->w;
    bool ssl5 = got == SIOV_FAULT_SSL_5 && c->status == SIOV_ATS_CA;
    if (!none && !ssl5)
        return false;
    if (ssl5 && a->r.pgtt == SIOV_PGTT_NESTED && early_ssl5(m, &a->r))
        return true;
    bool granted = !a->fault && (a->c.r || a->c.w);
    return !touched_before && (granted || a->fault == SIOV_FAULT_SGN_8);
}

/* siov_translate with SIOV_ACCESS_ATS_REQ answers as the completion says:
   the translation when it grants the access, else SIOV_ERR_NOT_PRESENT. */
static void check_ats_req(struct fz_unit *u, const struct fz_req *r, siov_fault want_f,
                          const struct siov_ats_completion *c)
{
    unsigned want = r->access & (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC);
    if (r->pasid == SIOV_NO_PASID)
        want &= ~SIOV_ACCESS_EXEC;
    unsigned perm = (c->r ? SIOV_ACCESS_READ : 0) | (c->w ? SIOV_ACCESS_WRITE : 0);
    struct siov_xlate x = {0}, wx = {0};
    if (!want_f && (c->untranslated_only || ((want ? want : SIOV_ACCESS_READ) & ~perm)))
        want_f = SIOV_ERR_NOT_PRESENT;
    if (r->access & SIOV_ACCESS_TRANSLATED)
        want_f = SIOV_ERR_BUS; /* both AT bits: AT=11, reserved (UR), whatever the PASID */
    if (!want_f)
        wx = (struct siov_xlate){c->addr + (r->addr & (c->size - 1)), c->size, perm, 0};
    siov_fault got = siov_translate(u->iommu, r->sid, r->pasid, r->addr, r->access, &x);
    if (got != want_f || (!got && !same_xlate(&x, &wx)))
        mismatch(u, r, "its completion (SIOV_ACCESS_ATS_REQ)", got, &x, want_f, &wx, NULL);
}

static bool check_ats(struct fz_unit *u, const struct fz_req *r, struct fz_answer *out)
{
    static struct ref_ats a; /* large; the harness is single-threaded */
    struct fz_mem *m = u->m;
    struct siov_ats_completion c;
    ref_ats_translate(&u->ref, r->sid, r->pasid, r->addr, ats_access(r), &a);
    bool touched = all_touched(m, &a.r);
    uint64_t w0 = m->writes;
    m->phase = FZ_CHECK;
    m->allow[0] = &a.r;
    m->nallow = 1;
    siov_fault got = siov_ats_translate(u->iommu, r->sid, r->pasid, r->addr, ats_access(r), &c);
    bool exact = got == a.fault && same_completion(&c, &a.c);
    if (exact)
        check_ats_req(u, r, got, &c); /* the same answer through siov_translate */
    m->phase = FZ_FREE;
    m->nallow = 0;
    if (getenv("FZ_TRACE")) {
        char d[256];
        fz_describe(u, r, d, sizeof d);
        fprintf(stderr, "translation request %s:\n", d);
        print_completion("model: ", got, &c);
        print_completion("oracle:", a.fault, &a.c);
    }
    if (!exact && !ats_ad_excuse(m, &a, got, &c, touched))
        ats_mismatch(u, r, "reference ATS completion", got, &c, a.fault, &a.c, &a.r);
    if (exact && !got && (c.r || c.w) && !all_touched(m, &a.r))
        ats_mismatch(u, r, "reference ATS completion (A/D bits not set)", got, &c, a.fault, &a.c, &a.r);
    if (out) {
        *out = (struct fz_answer){.fault = got, .c = c};
        answer_tag(u, &a.r, out);
    }
    return m->writes != w0;
}

/* A translated request: root and context entries only, no writes. */
static bool check_translated(struct fz_unit *u, const struct fz_req *r, struct fz_answer *out)
{
    static struct ref_result ref;
    struct fz_mem *m = u->m;
    ref_translated(&u->ref, r->sid, r->pasid, r->addr, &ref);
    uint64_t w0 = m->writes;
    m->phase = FZ_CHECK;
    m->allow[0] = &ref;
    m->nallow = 1;
    struct siov_xlate x = {0};
    siov_fault got = siov_translate(u->iommu, r->sid, r->pasid, r->addr, r->access, &x);
    m->phase = FZ_FREE;
    m->nallow = 0;
    if (m->writes != w0)
        fz_die("a translated request wrote guest memory");
    if (got != ref.fault || (!got && !same_xlate(&x, &ref.x)))
        mismatch(u, r, "reference translated request", got, &x, ref.fault, &ref.x, &ref);
    if (out) {
        *out = (struct fz_answer){.fault = got, .x = x};
        answer_tag(u, &ref, out);
    }
    return false;
}

bool fz_check_cold(struct fz_unit *u, const struct fz_req *r, struct fz_answer *out)
{
    fz_invalidate_all(u);
    return fz_check_now(u, r, out);
}

bool fz_check_now(struct fz_unit *u, const struct fz_req *r, struct fz_answer *out)
{
    if (r->access & SIOV_ACCESS_ATS_REQ)
        return check_ats(u, r, out);
    if (r->access & SIOV_ACCESS_TRANSLATED)
        return check_translated(u, r, out);
    struct fz_mem *m = u->m;
    struct ref_result ref;
    /* the access siov_translate acts on: no PR/ER without a PASID, and a read
       when nothing else is asked */
    unsigned eff = r->access & 0x0F;
    if (r->pasid == SIOV_NO_PASID)
        eff &= ~(SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV);
    if (!(eff & (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC)))
        eff |= SIOV_ACCESS_READ;
    if (r->pasid != SIOV_NO_PASID && r->pasid > SIOV_PASID_MAX)
        return check_wide_pasid(u, r, out);
    ref_translate(&u->ref, r->sid, r->pasid, r->addr, eff, &ref);
    bool touched = all_touched(m, &ref);
    uint64_t w0 = m->writes, stale0 = u->stale_reports;
    m->phase = FZ_CHECK;
    m->allow[0] = &ref;
    m->nallow = 1;
    struct siov_xlate x = {0};
    siov_fault got = siov_translate(u->iommu, r->sid, r->pasid, r->addr, r->access, &x);
    m->phase = FZ_FREE;
    m->nallow = 0;
    bool wrote = m->writes != w0;
    if (u->stale_reports != stale0 && !wrote)
        fz_die("stale-translation report on caches memory agrees with");
    if (getenv("FZ_TRACE")) {
        char d[256];
        fz_describe(u, r, d, sizeof d);
        fprintf(stderr, "request %s: model %s 0x%llx, oracle %s 0x%llx%s\n", d, siov_fault_name(got),
                (unsigned long long)x.addr, siov_fault_name(ref.fault), (unsigned long long)ref.x.addr,
                wrote ? " (A/D written)" : "");
    }
    compare(u, r, got, &x, &ref, touched);
    if (out) {
        *out = (struct fz_answer){.fault = got, .x = x};
        answer_tag(u, &ref, out);
    }
    return wrote;
}

void fz_check_warm(struct fz_unit *u, const struct fz_req *r, const struct fz_answer *want)
{
    if (r->access & SIOV_ACCESS_ATS_REQ) {
        struct siov_ats_completion c;
        u->m->phase = FZ_WARM;
        siov_fault got = siov_ats_translate(u->iommu, r->sid, r->pasid, r->addr, ats_access(r), &c);
        u->m->phase = FZ_FREE;
        if (got != want->fault || !same_completion(&c, &want->c))
            ats_mismatch(u, r, "cold completion (warm caches)", got, &c, want->fault, &want->c, NULL);
        return;
    }
    u->m->phase = FZ_WARM;
    struct siov_xlate x = {0};
    siov_fault got = siov_translate(u->iommu, r->sid, r->pasid, r->addr, r->access, &x);
    u->m->phase = FZ_FREE;
    if (got != want->fault || (got == SIOV_OK && !same_xlate(&x, &want->x)))
        mismatch(u, r, "cold answer (warm caches)", got, &x, want->fault, &want->x, NULL);
}

/* ------------------------------------------------------------------- DMA */
#define FZ_DMA_MAX 1024
#define FZ_DMA_CHUNKS 8

struct dma_plan {
    struct ref_result ref[FZ_DMA_CHUNKS];
    struct fz_chunk chunk[FZ_DMA_CHUNKS];
    unsigned n;
    siov_fault fault; /* what the transfer should end with */
    bool complete;    /* the plan covers the whole transfer */
};

/* The oracle's chunks: translate page by page as siov_dma_* does. */
static void dma_plan(struct fz_unit *u, const struct fz_req *r, size_t len, bool write, struct dma_plan *p)
{
    uint64_t iova = r->addr;
    p->n = 0;
    p->fault = SIOV_OK;
    p->complete = true;
    while (len) {
        if (p->n == FZ_DMA_CHUNKS) {
            p->complete = false;
            return;
        }
        struct ref_result *ref = &p->ref[p->n];
        if (r->access & SIOV_ACCESS_TRANSLATED)
            ref_translated(&u->ref, r->sid, SIOV_NO_PASID, iova, ref);
        else
            ref_translate(&u->ref, r->sid, r->pasid, iova, write ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ, ref);
        if (ref->fault) {
            p->fault = ref->fault;
            p->n++;
            return;
        }
        uint64_t room = ref->x.page_size - (iova & (ref->x.page_size - 1));
        uint64_t n = len < room ? len : room;
        p->chunk[p->n++] = (struct fz_chunk){ref->x.addr, n};
        iova += n;
        len -= n;
    }
}

/* Whether any chunk's data overlaps a structure the plan reads (then a DMA
   write may change its own translation) or another chunk. */
static bool dma_self_modifying(const struct dma_plan *p)
{
    for (unsigned c = 0; c < p->n; c++) {
        const struct fz_chunk *ch = &p->chunk[c];
        if (p->ref[c].fault)
            continue;
        for (unsigned i = 0; i < p->n; i++) {
            for (unsigned j = 0; j < p->ref[i].nread; j++)
                if (p->ref[i].read[j].gpa < ch->gpa + ch->len && ch->gpa < p->ref[i].read[j].gpa + p->ref[i].read[j].size)
                    return true;
            if (i != c && !p->ref[i].fault && p->chunk[i].gpa < ch->gpa + ch->len && ch->gpa < p->chunk[i].gpa + p->chunk[i].len)
                return true;
        }
    }
    return false;
}

/* A DMA's buffers: what a read brings in, what a write sends. */
struct dma_buf {
    uint8_t data[FZ_DMA_MAX], pattern[FZ_DMA_MAX];
};

static siov_fault dma_run(struct fz_unit *u, const struct fz_req *r, size_t len, bool write, struct dma_buf *b)
{
    if (r->access & SIOV_ACCESS_TRANSLATED)
        return write ? siov_dma_write_translated(u->iommu, r->sid, r->addr, b->pattern, len)
                     : siov_dma_read_translated(u->iommu, r->sid, r->addr, b->data, len);
    return write ? siov_dma_write(u->iommu, r->sid, r->pasid, r->addr, b->pattern, len)
                 : siov_dma_read(u->iommu, r->sid, r->pasid, r->addr, b->data, len);
}

/* Transfers refused before any translation: a range that wraps past 2^64
   (SIOV_ERR_BUS) and a PASID beyond 20 bits (SGN.10). True if r was one. */
static bool dma_refused(struct fz_unit *u, const struct fz_req *r, size_t len, bool write, struct dma_buf *b)
{
    if (r->addr + (len - 1) < r->addr) {
        u->m->phase = FZ_CHECK; /* no oracle reads: any memory access fails the check */
        u->m->nallow = 0;
        siov_fault f = dma_run(u, r, len, write, b);
        u->m->phase = FZ_FREE;
        if (f != SIOV_ERR_BUS)
            fz_die("DMA of %zu bytes at 0x%llx wraps past 2^64 but gave %s", len, (unsigned long long)r->addr,
                   siov_fault_name(f));
        return true;
    }
    if (r->pasid != SIOV_NO_PASID && r->pasid > SIOV_PASID_MAX && !(r->access & SIOV_ACCESS_TRANSLATED)) {
        struct fz_req q = *r;
        q.access = write ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ;
        check_wide_pasid(u, &q, NULL);
        return true;
    }
    return false;
}

/* The transfer stops at the first chunk that faults or whose output guest
   memory does not back (SIOV_ERR_BUS). */
static siov_fault dma_expected(const struct dma_plan *p)
{
    for (unsigned i = 0; i < p->n; i++)
        if (!p->ref[i].fault && !in_memory(p->chunk[i].gpa, p->chunk[i].len))
            return SIOV_ERR_BUS;
    return p->fault;
}

/* After a whole transfer: each chunk's bytes in guest memory equal the data. */
static void dma_compare_data(const struct fz_mem *m, const struct dma_plan *p, bool write, const struct dma_buf *b)
{
    size_t off = 0;
    for (unsigned i = 0; i < p->n; i++) {
        const uint8_t *want = write ? b->pattern + off : b->data + off;
        if (!in_memory(p->chunk[i].gpa, p->chunk[i].len))
            fz_die("DMA succeeded, but the oracle's chunk %u (gpa 0x%llx) is not in guest memory", i,
                   (unsigned long long)p->chunk[i].gpa);
        if (memcmp(m->buf + p->chunk[i].gpa, want, p->chunk[i].len))
            fz_die("DMA %s chunk %u (gpa 0x%llx, %llu bytes) does not match guest memory", write ? "write" : "read", i,
                   (unsigned long long)p->chunk[i].gpa, (unsigned long long)p->chunk[i].len);
        off += p->chunk[i].len;
    }
}

void fz_check_dma(struct fz_unit *u, const struct fz_req *r, size_t len, bool write)
{
    static struct dma_plan p; /* large; the harness is single-threaded */
    static struct dma_buf b;
    struct fz_mem *m = u->m;
    if (len > FZ_DMA_MAX)
        len = FZ_DMA_MAX;
    for (size_t i = 0; i < len; i++)
        b.pattern[i] = (uint8_t)(0xA5 ^ i);
    memset(b.data, 0, sizeof b.data);
    if (dma_refused(u, r, len, write, &b))
        return;
    fz_invalidate_all(u);
    dma_plan(u, r, len, write, &p);
    bool risky = write && dma_self_modifying(&p);
    m->phase = risky ? FZ_FREE : FZ_DMA;
    for (unsigned i = 0; i < p.n; i++)
        m->allow[i] = &p.ref[i];
    m->nallow = p.n;
    m->chunks = p.chunk;
    m->nchunks = p.n;
    uint64_t w0 = m->writes;
    siov_fault got = dma_run(u, r, len, write, &b);
    m->phase = FZ_FREE;
    m->nallow = 0;
    m->nchunks = 0;
    if (!p.complete || risky)
        return;
    siov_fault want = dma_expected(&p);
    if (got != want && !ad_fault(got)) {
        struct siov_xlate none = {0};
        mismatch(u, r, write ? "reference walk (DMA write)" : "reference walk (DMA read)", got, &none, want,
                 &none, &p.ref[p.n - 1]);
    }
    if (got == SIOV_OK && (write || m->writes == w0)) /* A/D updates may have touched the data */
        dma_compare_data(m, &p, write, &b);
}

/* ------------------------------------------------------------ interrupts */
static bool same_irq(const struct siov_irq *a, const struct siov_irq *b)
{
    if (a->posted != b->posted || a->vector != b->vector)
        return false;
    if (a->posted)
        return a->pd_addr == b->pd_addr && a->notify == b->notify && a->nv == b->nv && a->ndst == b->ndst;
    return a->dest == b->dest && a->delivery_mode == b->delivery_mode && a->dest_logical == b->dest_logical &&
           a->level_trigger == b->level_trigger && a->redirection_hint == b->redirection_hint;
}

/* Every fault record and FSTS cleared, as a driver's handler does. */
static void irq_clear_records(struct fz_unit *u)
{
    for (unsigned i = 0; i < u->cfg.fault_records; i++)
        siov_mmio_write(u->iommu, SIOV_REG_FRCD + 16ull * i + 8, SIOV_FRCD1_F, 8);
    siov_mmio_write(u->iommu, SIOV_REG_FSTS, SIOV_FSTS_RW1C, 4);
}

/* The record a fault left (records were clear before: the one with F set), or none. */
static void irq_check_record(struct fz_unit *u, const struct ref_irq_result *r, siov_fault f, siov_sid sid)
{
    unsigned n = 0;
    uint64_t lo = 0, hi = 0;
    for (unsigned i = 0; i < u->cfg.fault_records; i++) {
        uint64_t h = siov_mmio_read(u->iommu, SIOV_REG_FRCD + 16ull * i + 8, 8);
        if (h & SIOV_FRCD1_F)
            n++, hi = h, lo = siov_mmio_read(u->iommu, SIOV_REG_FRCD + 16ull * i, 8);
    }
    bool want = f && f != SIOV_ERR_BUS && r->recorded;
    if (n != want)
        fz_die("interrupt fault %s: %u records, oracle says %d", siov_fault_name(f), n, want);
    if (want && (lo != r->fi || hi != (SIOV_FRCD1_F | siov_set(0, SIOV_FRCD1_FR, f) | sid)))
        fz_die("interrupt fault record %016llx:%016llx, oracle FR %s FI 0x%llx", (unsigned long long)hi,
               (unsigned long long)lo, siov_fault_name(f), (unsigned long long)r->fi);
    irq_clear_records(u);
}

bool fz_check_irq(struct fz_unit *u, siov_sid sid, uint64_t addr, uint32_t data, bool cold)
{
    struct fz_mem *m = u->m;
    struct ref_irq_result ref;
    struct siov_irq got;
    if (cold)
        fz_invalidate_all(u);
    irq_clear_records(u);
    ref_interrupt(&u->ref, sid, addr, data, &ref); /* before the model posts */
    uint64_t reports = u->stale_reports;
    m->phase = FZ_IRQ;
    m->irq = &ref;
    siov_fault f = siov_interrupt(u->iommu, sid, addr, data, &got);
    m->phase = FZ_FREE;
    m->irq = NULL;
    if (f != ref.fault || (!f && !same_irq(&got, &ref.irq)))
        fz_die("interrupt sid %04x addr 0x%llx data 0x%x (%s): model %s vector 0x%x dest 0x%x, oracle %s vector "
               "0x%x dest 0x%x", sid, (unsigned long long)addr, data, cold ? "cold" : "warm", siov_fault_name(f),
               got.vector, got.dest, siov_fault_name(ref.fault), ref.irq.vector, ref.irq.dest);
    if (!f && got.posted && !(fz_r64(m, got.pd_addr + 8 * (got.vector / 64u)) >> (got.vector % 64) & 1))
        fz_die("interrupt posted to 0x%llx without its PIR bit 0x%x", (unsigned long long)got.pd_addr, got.vector);
    if (!f && got.notify && !(fz_r64(m, got.pd_addr + 32) & SIOV_PID4_ON))
        fz_die("interrupt posted with a notification but ON clear");
    if (u->stale_reports != reports && !cold)
        fz_die("stale report for an interrupt whose entry was not changed");
    irq_check_record(u, &ref, f, sid);
    return !f && got.posted && ref.irte_read && ref.pid_gpa < ref.irte_gpa + 16 && ref.irte_gpa < ref.pid_gpa + 64;
}

/* Random valid table sets and requests (see gen_tables.h). Structures are
 * written with the format.h accessors; PASID entries start from the testlib
 * builders. */
#include "gen_tables.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"

#define GEN_MEM_SIZE (8ull << 20)
#define GEN_TW (1ull << 30)       /* nested: FL table pages sit at GPA = HPA + 1 GiB */
#define GEN_DATA_GPA (2ull << 30) /* nested: data GPAs from 2 GiB up, clear of the table window */

/* ------------------------------------------------------------ randomness */

static uint64_t next64(struct gen_set *g)
{
    /* splitmix64: tiny, seedable, good enough for test data */
    uint64_t z = (g->rng += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint64_t gen_below(struct gen_set *g, uint64_t n)
{
    return next64(g) % n;
}

bool gen_chance(struct gen_set *g, unsigned pct)
{
    return gen_below(g, 100) < pct;
}

static uint64_t pick(struct gen_set *g, const uint64_t *v, unsigned n)
{
    return v[gen_below(g, n)];
}

/* ------------------------------------------------------------ memory */

static uint64_t r64(struct gen_set *g, uint64_t gpa)
{
    uint64_t v = 0;
    if (siov_mem_read(g->mem, gpa, &v, 8) != 0)
        abort();
    return v;
}

static void w64(struct gen_set *g, uint64_t gpa, uint64_t v)
{
    if (siov_mem_write(g->mem, gpa, &v, 8) != 0)
        abort();
}

/* n zeroed contiguous pages (memory is fresh, so already zero). */
static uint64_t alloc_pages(struct gen_set *g, unsigned n)
{
    uint64_t p = g->next_page;
    if (p + n * SIOV_PAGE_SIZE > g->mem_size)
        abort(); /* the generator sizes its sets to fit; this is a generator bug */
    g->next_page += n * SIOV_PAGE_SIZE;
    return p;
}

/* ------------------------------------------------------------ paging entries */

static unsigned level_for(uint64_t size)
{
    return size == SIOV_PAGE_SIZE ? 1 : size == (2ull << 20) ? 2 : 3;
}

/* A/D bits for an entry in a table page: pre-set, or random. */
static uint64_t ad_bits(struct gen_set *g, const struct gen_dom *d, bool fl, uint64_t table_hpa)
{
    bool preset = d->preset_ad || (fl && g->page_ro[table_hpa / SIOV_PAGE_SIZE]);
    uint64_t a = fl ? SIOV_FL_A : SIOV_SL_A, dd = fl ? SIOV_FL_D : SIOV_SL_D;
    if (preset)
        return a | dd;
    return (gen_chance(g, 50) ? a : 0) | (gen_chance(g, 50) ? dd : 0);
}

static uint64_t fl_nonleaf_bits(struct gen_set *g, const struct gen_dom *d)
{
    return SIOV_FL_P | (gen_chance(g, 92) ? SIOV_FL_RW : 0) | (gen_chance(g, 92) ? SIOV_FL_US : 0) |
           (d->nxe && gen_chance(g, 8) ? SIOV_FL_XD : 0);
}

static uint64_t fl_leaf_bits(struct gen_set *g, const struct gen_dom *d, unsigned level)
{
    uint64_t e = SIOV_FL_P | (gen_chance(g, 70) ? SIOV_FL_RW : 0) | (gen_chance(g, 80) ? SIOV_FL_US : 0) |
                 (d->nxe && gen_chance(g, 25) ? SIOV_FL_XD : 0) | (gen_chance(g, 10) ? SIOV_FL_G : 0);
    if (level > 1)
        e |= SIOV_FL_PS | (gen_chance(g, 10) ? SIOV_FL_PAT_LARGE : 0);
    else if (gen_chance(g, 10))
        e |= SIOV_FL_PAT_4K;
    return e;
}

static uint64_t sl_nonleaf_bits(struct gen_set *g, const struct gen_dom *d)
{
    uint64_t e = (gen_chance(g, 95) ? SIOV_SL_R : 0) | (gen_chance(g, 92) ? SIOV_SL_W : 0) |
                 (gen_chance(g, d->slee ? 90 : 50) ? SIOV_SL_X : 0);
    return e & (SIOV_SL_R | SIOV_SL_W) ? e : e | SIOV_SL_R;
}

static uint64_t sl_leaf_bits(struct gen_set *g, const struct gen_dom *d, unsigned level, bool legacy)
{
    uint64_t e = (gen_chance(g, 88) ? SIOV_SL_R : 0) | (gen_chance(g, 70) ? SIOV_SL_W : 0) |
                 (gen_chance(g, 60) ? SIOV_SL_X : 0);
    if (!(e & (SIOV_SL_R | SIOV_SL_W)) && !(d->slee && (e & SIOV_SL_X)))
        e |= SIOV_SL_R;
    if (!legacy && gen_chance(g, 10))
        e |= SIOV_SL_SNP;
    return level > 1 ? e | SIOV_SL_PS : e;
}

/* The HPA of a table whose address the entries hold (a GPA for nested FL). */
static uint64_t table_hpa(const struct gen_set *g, const struct gen_dom *d, bool fl, uint64_t addr)
{
    return fl && d->pgtt == SIOV_PGTT_NESTED ? addr - g->tw : addr;
}

static bool sl_map(struct gen_set *g, struct gen_dom *d, uint64_t iova, uint64_t pa, uint64_t size,
                   uint64_t leaf);

/* Whether d's second level grants write to gpa (W at every level). */
static bool sl_writable(struct gen_set *g, const struct gen_dom *d, uint64_t gpa)
{
    uint64_t table = d->slptptr;
    for (unsigned level = d->sl_levels; level > 0; level--) {
        uint64_t e = r64(g, table + siov_level_index(gpa, level) * 8);
        if (!(e & SIOV_SL_W))
            return false;
        if (level == 1 || (e & SIOV_SL_PS))
            return true;
        table = e & SIOV_SL_ADDR;
    }
    return false;
}

/* A new table for domain d (fl: first level); returns the address entries hold. */
static uint64_t new_table(struct gen_set *g, struct gen_dom *d, bool fl)
{
    uint64_t hpa = alloc_pages(g, 1);
    if (!fl || d->pgtt != SIOV_PGTT_NESTED)
        return hpa;
    /* nested: the second level maps the table page; mostly R/W, some R-only, rarely not at all */
    uint64_t gpa = hpa + g->tw;
    unsigned roll = (unsigned)gen_below(g, 100);
    if (roll < 97) {
        uint64_t leaf = SIOV_SL_R | (roll < 85 ? SIOV_SL_W : 0) | (gen_chance(g, 50) ? SIOV_SL_X : 0);
        sl_map(g, d, gpa, hpa, SIOV_PAGE_SIZE, leaf);
    }
    /* an A/D update in a table the second level does not let us write would
       fault (SFL.8): such tables get their A/D bits pre-set */
    g->page_ro[hpa / SIOV_PAGE_SIZE] = !sl_writable(g, d, gpa);
    return gpa;
}

/* Map one page in d's first- or second-level tables; false if it collides
   with an existing mapping. leaf holds the leaf's permission bits. */
static bool pt_map(struct gen_set *g, struct gen_dom *d, bool fl, uint64_t iova, uint64_t pa,
                   uint64_t size, uint64_t leaf)
{
    unsigned levels = fl ? d->fl_levels : d->sl_levels, target = level_for(size);
    uint64_t addr_mask = fl ? SIOV_FL_ADDR : SIOV_SL_ADDR;
    uint64_t ps = fl ? SIOV_FL_PS : SIOV_SL_PS;
    uint64_t table = fl ? d->flptptr : d->slptptr;
    for (unsigned level = levels; level > target; level--) {
        uint64_t hpa = table_hpa(g, d, fl, table), gpa = hpa + siov_level_index(iova, level) * 8;
        uint64_t e = r64(g, gpa);
        if (!e) {
            uint64_t t = new_table(g, d, fl);
            e = t | (fl ? fl_nonleaf_bits(g, d) : sl_nonleaf_bits(g, d)) | ad_bits(g, d, fl, hpa);
            w64(g, gpa, e);
        } else if (level <= 3 && (e & ps)) {
            return false;
        }
        table = e & addr_mask;
    }
    uint64_t hpa = table_hpa(g, d, fl, table), gpa = hpa + siov_level_index(iova, target) * 8;
    if (r64(g, gpa))
        return false;
    w64(g, gpa, (pa & addr_mask) | leaf | ad_bits(g, d, fl, hpa));
    return true;
}

static bool sl_map(struct gen_set *g, struct gen_dom *d, uint64_t iova, uint64_t pa, uint64_t size,
                   uint64_t leaf)
{
    return pt_map(g, d, false, iova, pa, size, leaf);
}

/* ------------------------------------------------------------ domains */

static uint64_t rand_size(struct gen_set *g, bool fl)
{
    unsigned sllps = g->cfg.sl_large;
    bool has2m = fl || (sllps & SIOV_SLLPS_2M), has1g = fl ? g->cfg.fl_1g : (sllps & SIOV_SLLPS_1G);
    unsigned roll = (unsigned)gen_below(g, 100);
    if (roll < 12 && has1g)
        return 1ull << 30;
    if (roll < 40 && has2m)
        return 2ull << 20;
    return SIOV_PAGE_SIZE;
}

/* A random output address below 2^HAW aligned to size; sometimes the interrupt range. */
static uint64_t rand_out(struct gen_set *g, uint64_t size)
{
    if (gen_chance(g, 2))
        return SIOV_INTR_BASE & ~(size - 1);
    return gen_below(g, 1ull << g->cfg.haw) & ~(size - 1);
}

/* One of four 1 GiB regions of a width-bit space fixed per set, so that
   mappings share tables. */
static uint64_t region(const struct gen_set *g, unsigned width, unsigned k)
{
    uint64_t z = g->seed * 0x9E3779B97F4A7C15ull + k * 0xBF58476D1CE4E5B9ull + width;
    z = (z ^ (z >> 31)) * 0x94D049BB133111EBull;
    return (z ^ (z >> 29)) % (1ull << (width - 30));
}

/* A random input address of width bits aligned to size, mostly in the set's
   regions. canon: sign-extend (first level). */
static uint64_t rand_in(struct gen_set *g, unsigned width, uint64_t size, bool canon, uint64_t floor)
{
    uint64_t hi = gen_chance(g, 80) ? region(g, width, (unsigned)gen_below(g, 4))
                                    : gen_below(g, 1ull << (width - 30));
    uint64_t v = (hi << 30 | gen_below(g, 1ull << 30)) & ~(size - 1);
    if (v < floor)
        v += floor;
    v &= (width >= 64 ? ~0ull : (1ull << width) - 1);
    if (canon && (v >> (width - 1)) & 1)
        v |= ~0ull << width;
    return v & ~(size - 1);
}

static unsigned sl_width(const struct gen_set *g, const struct gen_dom *d)
{
    unsigned agaw = siov_aw_width(d->sl_levels - 2);
    return agaw < g->cfg.mgaw ? agaw : g->cfg.mgaw;
}

static void add_map(struct gen_map *maps, unsigned *n, uint64_t iova, uint64_t size, uint64_t pa)
{
    if (*n < GEN_MAX_MAPS)
        maps[(*n)++] = (struct gen_map){iova, size, pa};
}

/* Second-level data mappings (SL-only domains, and nested parents at GPA >= 2 GiB). */
static void fill_sl(struct gen_set *g, struct gen_dom *d, unsigned n)
{
    bool nested = d->pgtt == SIOV_PGTT_NESTED;
    unsigned width = sl_width(g, d);
    for (unsigned i = 0; i < n; i++) {
        uint64_t size = rand_size(g, false);
        uint64_t iova = rand_in(g, width, size, false, nested ? GEN_DATA_GPA : 0);
        uint64_t pa = rand_out(g, size);
        if (sl_map(g, d, iova, pa, size, sl_leaf_bits(g, d, level_for(size), g->legacy))) {
            if (nested)
                add_map(d->sl_maps, &d->nsl_maps, iova, size, pa);
            else
                add_map(d->maps, &d->nmaps, iova, size, pa);
        }
    }
}

/* Nested: an FL output GPA, mostly inside a second-level data mapping. */
static uint64_t nested_out(struct gen_set *g, struct gen_dom *d, uint64_t size)
{
    unsigned roll = (unsigned)gen_below(g, 100);
    if (roll < 85 && d->nsl_maps) {
        const struct gen_map *m = &d->sl_maps[gen_below(g, d->nsl_maps)];
        uint64_t off = m->size > size ? gen_below(g, m->size / size) * size : 0;
        return (m->iova + off) & ~(size - 1);
    }
    if (roll < 95 || sl_width(g, d) >= g->cfg.haw)
        return rand_in(g, sl_width(g, d), size, false, GEN_DATA_GPA);
    return (1ull << sl_width(g, d)) & ~(size - 1); /* beyond the second level's input width */
}

static void fill_fl(struct gen_set *g, struct gen_dom *d, unsigned n)
{
    unsigned width = d->fl_levels == 5 ? 57 : 48;
    for (unsigned i = 0; i < n; i++) {
        uint64_t size = rand_size(g, true);
        uint64_t iova = rand_in(g, width, size, true, 0);
        uint64_t pa = d->pgtt == SIOV_PGTT_NESTED ? nested_out(g, d, size) : rand_out(g, size);
        if (pt_map(g, d, true, iova, pa, size, fl_leaf_bits(g, d, level_for(size))))
            add_map(d->maps, &d->nmaps, iova, size, pa);
    }
}

static unsigned rand_sl_levels(struct gen_set *g)
{
    unsigned v[3], n = 0;
    for (unsigned aw = SIOV_AW_3LVL; aw <= SIOV_AW_5LVL; aw++)
        if (g->cfg.sagaw & (1u << aw))
            v[n++] = siov_aw_levels(aw);
    return v[gen_below(g, n)];
}

static unsigned rand_pgtt(struct gen_set *g)
{
    if (g->legacy)
        return gen_chance(g, 80) ? SIOV_PGTT_SL : SIOV_PGTT_PT;
    static const unsigned kinds[] = {SIOV_PGTT_FL, SIOV_PGTT_FL, SIOV_PGTT_SL, SIOV_PGTT_SL,
                                     SIOV_PGTT_NESTED, SIOV_PGTT_NESTED, SIOV_PGTT_PT};
    return kinds[gen_below(g, 7)];
}

static void make_domain(struct gen_set *g, struct gen_dom *d, uint16_t did)
{
    memset(d, 0, sizeof *d);
    d->pgtt = rand_pgtt(g);
    d->did = did;
    bool fl = d->pgtt == SIOV_PGTT_FL || d->pgtt == SIOV_PGTT_NESTED;
    bool sl = d->pgtt == SIOV_PGTT_SL || d->pgtt == SIOV_PGTT_NESTED;
    d->fl_levels = g->cfg.fl_5level && gen_chance(g, 40) ? 5 : 4;
    d->sl_levels = rand_sl_levels(g);
    d->slee = sl && !g->legacy && gen_chance(g, 50);
    d->slade = sl && !g->legacy && g->cfg.sl_ad && gen_chance(g, 60);
    d->sre = fl && g->cfg.supervisor_req && gen_chance(g, 70);
    d->ere = fl && g->cfg.exec_req && gen_chance(g, 60);
    d->wpe = fl && gen_chance(g, 50);
    d->nxe = fl && gen_chance(g, 70);
    d->smep = fl && gen_chance(g, 40);
    d->pwsnp = gen_chance(g, 60);
    d->preset_ad = !d->pwsnp;
    if (sl)
        d->slptptr = alloc_pages(g, 1);
    if (fl)
        d->flptptr = new_table(g, d, true);
    if (d->pgtt == SIOV_PGTT_SL)
        fill_sl(g, d, 4 + (unsigned)gen_below(g, 12));
    if (d->pgtt == SIOV_PGTT_NESTED)
        fill_sl(g, d, 3 + (unsigned)gen_below(g, 8));
    if (fl)
        fill_fl(g, d, 4 + (unsigned)gen_below(g, 12));
}

/* The PASID-table entry of domain d (qw0..qw7). */
static void pasid_entry(struct gen_set *g, const struct gen_dom *d, uint64_t pe[8])
{
    unsigned aw = d->sl_levels - 2, flpm = d->fl_levels == 5 ? SIOV_FLPM_5LVL : SIOV_FLPM_4LVL;
    switch (d->pgtt) {
    case SIOV_PGTT_FL: tl_pe_fl(pe, d->did, d->flptptr, flpm); break;
    case SIOV_PGTT_SL: tl_pe_sl(pe, d->did, d->slptptr, aw); break;
    case SIOV_PGTT_NESTED: tl_pe_nested(pe, d->did, d->flptptr, flpm, d->slptptr, aw); break;
    default: tl_pe_pt(pe, d->did); break;
    }
    pe[0] = siov_set(pe[0], SIOV_PTE0_FPD, gen_chance(g, 10));
    pe[0] = siov_set(pe[0], SIOV_PTE0_SLEE, d->slee);
    pe[0] = siov_set(pe[0], SIOV_PTE0_SLADE, d->slade);
    pe[1] = siov_set(pe[1], SIOV_PTE1_PWSNP, d->pwsnp);
    if (d->pgtt == SIOV_PGTT_FL || d->pgtt == SIOV_PGTT_NESTED) {
        pe[2] = siov_set(pe[2], SIOV_PTE2_SRE, d->sre);
        pe[2] = siov_set(pe[2], SIOV_PTE2_ERE, d->ere);
        pe[2] = siov_set(pe[2], SIOV_PTE2_WPE, d->wpe);
        pe[2] = siov_set(pe[2], SIOV_PTE2_NXE, d->nxe);
        pe[2] = siov_set(pe[2], SIOV_PTE2_SMEP, d->smep);
    }
}

/* ------------------------------------------------------------ devices */

/* The context table for sid, created on first use (legacy or the root half). */
static uint64_t context_table(struct gen_set *g, siov_sid sid)
{
    uint64_t gpa = g->root + SIOV_SID_BUS(sid) * SIOV_ROOT_ENTRY_SIZE;
    if (!g->legacy && SIOV_SID_DEVFN(sid) >= 128)
        gpa += 8;
    uint64_t half = r64(g, gpa);
    if (!(half & SIOV_RE0_P)) {
        half = alloc_pages(g, 1) | SIOV_RE0_P;
        w64(g, gpa, half);
    }
    return half & SIOV_RE0_CTP;
}

static bool sid_used(const struct gen_set *g, siov_sid sid)
{
    for (unsigned i = 0; i < g->ntargets; i++)
        if (g->targets[i].sid == sid)
            return true;
    return false;
}

static siov_sid rand_sid(struct gen_set *g)
{
    static const uint64_t buses[] = {0, 1, 0x3A, 0xFF};
    return SIOV_SID(pick(g, buses, 4), gen_below(g, 32), gen_below(g, 8));
}

static void add_target(struct gen_set *g, siov_sid sid, uint32_t pasid, int dom)
{
    if (g->ntargets < GEN_MAX_TARGETS)
        g->targets[g->ntargets++] = (struct gen_target){sid, pasid, dom};
}

static void legacy_device(struct gen_set *g, siov_sid sid)
{
    int di = (int)gen_below(g, g->ndoms);
    const struct gen_dom *d = &g->doms[di];
    uint64_t ctx = context_table(g, sid) + SIOV_SID_DEVFN(sid) * SIOV_CTX_ENTRY_SIZE;
    unsigned tt = d->pgtt == SIOV_PGTT_PT ? SIOV_TT_PASS_THROUGH
                  : g->cfg.dev_tlb && gen_chance(g, 30) ? SIOV_TT_SL_DT : SIOV_TT_SL;
    /* a PT entry still names a supported AW (VBox requires the largest) */
    unsigned aw = d->sl_levels - 2;
    w64(g, ctx, SIOV_CE0_P | siov_set(0, SIOV_CE0_FPD, gen_chance(g, 10)) | siov_set(0, SIOV_CE0_TT, tt) |
                    (d->pgtt == SIOV_PGTT_PT ? 0 : d->slptptr));
    w64(g, ctx + 8, siov_set(0, SIOV_CE1_AW, aw) | siov_set(0, SIOV_CE1_DID, d->did));
    add_target(g, sid, SIOV_NO_PASID, di);
}

static uint32_t rand_pasid(struct gen_set *g)
{
    uint32_t max = (1u << g->cfg.pasid_bits) - 1;
    if (gen_chance(g, 50))
        return (uint32_t)gen_below(g, 130 < max ? 130 : max + 1);
    return (uint32_t)gen_below(g, (uint64_t)max + 1);
}

static unsigned pdts_for(uint32_t max_pasid)
{
    unsigned pdts = 0;
    while (pdts < 7 && (max_pasid >> 6) >= (1u << (pdts + 7)))
        pdts++;
    return pdts;
}

static void sm_device(struct gen_set *g, siov_sid sid)
{
    uint32_t pasids[6];
    int doms[6];
    unsigned n = 1 + (unsigned)gen_below(g, 5);
    uint32_t max = 0;
    for (unsigned i = 0; i < n; i++) {
        pasids[i] = rand_pasid(g);
        doms[i] = (int)gen_below(g, g->ndoms);
        max = pasids[i] > max ? pasids[i] : max;
    }
    uint32_t rid_pasid = gen_chance(g, 70) ? pasids[0] : 0;
    unsigned pdts = pdts_for(max > rid_pasid ? max : rid_pasid);
    pdts += (unsigned)gen_below(g, 3);
    pdts = pdts > 7 ? 7 : pdts;
    unsigned dir_pages = pdts >= 2 ? 1u << (pdts - 2) : 1;
    uint64_t dir = alloc_pages(g, dir_pages);
    uint64_t ctx = context_table(g, sid) + (SIOV_SID_DEVFN(sid) & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE;
    w64(g, ctx, SIOV_SCE0_P | SIOV_SCE0_PASIDE | siov_set(0, SIOV_SCE0_PDTS, pdts) | dir |
                    siov_set(0, SIOV_SCE0_FPD, gen_chance(g, 10)) |
                    siov_set(0, SIOV_SCE0_DTE, g->cfg.dev_tlb && gen_chance(g, 50)));
    w64(g, ctx + 8, siov_set(0, SIOV_SCE1_RID_PASID, rid_pasid));
    for (unsigned i = 0; i < n; i++) {
        uint64_t pde_gpa = dir + siov_get(pasids[i], SIOV_PASID_DIR_INDEX) * SIOV_PDE_SIZE;
        uint64_t pde = r64(g, pde_gpa);
        if (!pde) {
            pde = alloc_pages(g, 1) | SIOV_PDE_P | siov_set(0, SIOV_PDE_FPD, gen_chance(g, 10));
            w64(g, pde_gpa, pde);
        }
        uint64_t pe[8], gpa = (pde & SIOV_PDE_SMPTBLPTR) + siov_get(pasids[i], SIOV_PASID_TBL_INDEX) * SIOV_PTE_SIZE;
        pasid_entry(g, &g->doms[doms[i]], pe);
        for (unsigned q = 0; q < 8; q++)
            w64(g, gpa + 8 * q, pe[q]);
        /* a request bringing RID_PASID itself is refused (SCT.9): now and then */
        if (pasids[i] != rid_pasid || gen_chance(g, 20))
            add_target(g, sid, pasids[i], pasids[i] == rid_pasid ? -1 : doms[i]);
    }
    /* requests without PASID use RID_PASID; a PASID not set up has no domain */
    int rd = -1;
    for (unsigned i = 0; i < n; i++)
        if (pasids[i] == rid_pasid)
            rd = doms[i];
    add_target(g, sid, SIOV_NO_PASID, rd);
    add_target(g, sid, rand_pasid(g), -1);
    if (g->cfg.pasid_bits < 20 && gen_chance(g, 20)) /* beyond the unit's width: SGN.10 */
        add_target(g, sid, (1u << g->cfg.pasid_bits) + (uint32_t)gen_below(g, 64), -1);
}

/* ------------------------------------------------------------ the unit */

static void random_config(struct gen_set *g, struct siov_iommu_config *c)
{
    static const uint64_t mgaws[] = {39, 48, 48, 57};
    static const uint64_t haws[] = {39, 46, 48, 48, 52};
    static const uint64_t pasid_bits[] = {8, 14, 20, 20};
    siov_iommu_config_default(c);
    do
        c->sagaw = (unsigned)gen_below(g, 8) << 1;
    while (!c->sagaw);
    c->mgaw = (unsigned)pick(g, mgaws, 4);
    c->haw = (unsigned)pick(g, haws, 5);
    c->pasid_bits = (unsigned)pick(g, pasid_bits, 4);
    c->fl_5level = gen_chance(g, 70);
    c->fl_1g = gen_chance(g, 70);
    c->sl_large = (unsigned)gen_below(g, 4);
    c->sl_ad = gen_chance(g, 80);
    c->supervisor_req = gen_chance(g, 80);
    c->exec_req = gen_chance(g, 80);
    c->dev_tlb = gen_chance(g, 80);
    c->iotlb_entries = gen_chance(g, 30) ? 64 : 4096;
}

static void gcmd(struct gen_set *g, uint32_t set)
{
    uint32_t gsts = (uint32_t)siov_mmio_read(g->iommu, SIOV_REG_GSTS, 4);
    uint32_t keep = gsts & (uint32_t)(SIOV_GSTS_TES | SIOV_GSTS_QIES | SIOV_GSTS_IRES | SIOV_GSTS_CFIS);
    siov_mmio_write(g->iommu, SIOV_REG_GCMD, keep | set, 4);
}

/* Root table latched with SRTP, a 256-bit invalidation queue, then TE. */
static void enable(struct gen_set *g)
{
    unsigned ttm = g->legacy ? SIOV_TTM_LEGACY : SIOV_TTM_SCALABLE;
    siov_mmio_write(g->iommu, SIOV_REG_RTADDR, siov_set(g->root, SIOV_RTADDR_TTM, ttm), 8);
    gcmd(g, SIOV_GCMD_SRTP);
    g->iq = alloc_pages(g, 1);
    g->iq_status = alloc_pages(g, 1);
    siov_mmio_write(g->iommu, SIOV_REG_IQT, 0, 8);
    siov_mmio_write(g->iommu, SIOV_REG_IQA, g->iq | SIOV_IQA_DW, 8);
    gcmd(g, SIOV_GCMD_QIE);
    gcmd(g, SIOV_GCMD_TE);
}

struct gen_set *gen_set_new(uint64_t seed)
{
    struct gen_set *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->seed = g->rng = seed;
    random_config(g, &g->cfg);
    g->legacy = gen_chance(g, 25);
    g->mem_size = GEN_MEM_SIZE;
    g->mem = siov_mem_new_flat(g->mem_size);
    g->page_ro = calloc(g->mem_size / SIOV_PAGE_SIZE, 1);
    g->iommu = g->mem ? siov_iommu_new(g->mem, &g->cfg) : NULL;
    if (!g->mem || !g->page_ro || !g->iommu) {
        gen_set_free(g);
        return NULL;
    }
    g->cap = siov_mmio_read(g->iommu, SIOV_REG_CAP, 8);
    g->ecap = siov_mmio_read(g->iommu, SIOV_REG_ECAP, 8);
    g->tw = GEN_TW;
    g->next_page = SIOV_PAGE_SIZE;
    g->root = alloc_pages(g, 1);
    g->ndoms = 1 + (unsigned)gen_below(g, GEN_MAX_DOMS);
    /* distinct DIDs: domains with different tables must not share IOTLB tags */
    uint16_t did_base = (uint16_t)(gen_chance(g, 30) ? 0 : gen_below(g, 0x10000 - GEN_MAX_DOMS));
    for (unsigned i = 0; i < g->ndoms; i++)
        make_domain(g, &g->doms[i], (uint16_t)(did_base + i));
    unsigned ndev = 1 + (unsigned)gen_below(g, 4);
    for (unsigned i = 0; i < ndev; i++) {
        siov_sid sid = rand_sid(g);
        if (sid_used(g, sid))
            continue;
        if (g->legacy)
            legacy_device(g, sid);
        else
            sm_device(g, sid);
    }
    enable(g);
    return g;
}

void gen_set_free(struct gen_set *g)
{
    if (!g)
        return;
    siov_iommu_free(g->iommu);
    siov_mem_free(g->mem);
    free(g->page_ro);
    free(g);
}

/* ------------------------------------------------------------ invalidation */

static void iq_put(struct gen_set *g, uint64_t qw0, uint64_t qw1)
{
    uint64_t slot = g->iq + g->iq_tail * 32ull;
    w64(g, slot, qw0);
    w64(g, slot + 8, qw1);
    w64(g, slot + 16, 0);
    w64(g, slot + 24, 0);
    g->iq_tail = (g->iq_tail + 1) % (SIOV_PAGE_SIZE / 32);
}

int gen_invalidate_all(struct gen_set *g)
{
    iq_put(g, siov_dsc_make_type(SIOV_DSC_CC) | siov_set(0, SIOV_CC0_G, SIOV_INV_GRAN_GLOBAL), 0);
    if (!g->legacy)
        iq_put(g, siov_dsc_make_type(SIOV_DSC_PC) | siov_set(0, SIOV_PC0_G, SIOV_PC_GRAN_GLOBAL), 0);
    iq_put(g, siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_G, SIOV_INV_GRAN_GLOBAL), 0);
    uint32_t seq = ++g->iq_seq;
    iq_put(g, siov_dsc_make_type(SIOV_DSC_WAIT) | SIOV_WAIT0_SW | siov_set(0, SIOV_WAIT0_SDATA, seq),
           g->iq_status);
    siov_mmio_write(g->iommu, SIOV_REG_IQT, (g->iq_tail * 32ull) & SIOV_IQ_PTR, 8); /* a byte offset */
    uint32_t got = 0;
    if (siov_mem_read(g->mem, g->iq_status, &got, 4) != 0 || got != seq)
        return -1;
    return 0;
}

/* ------------------------------------------------------------ requests */

static unsigned rand_access(struct gen_set *g, bool pasid)
{
    unsigned roll = (unsigned)gen_below(g, 100);
    unsigned a = roll < 40 ? SIOV_ACCESS_READ : roll < 75 ? SIOV_ACCESS_WRITE
                                                         : SIOV_ACCESS_READ | SIOV_ACCESS_EXEC;
    if (!pasid)
        return a & ~SIOV_ACCESS_EXEC;
    return gen_chance(g, 35) ? a | SIOV_ACCESS_PRIV : a;
}

/* An input address for a request to target t. */
static uint64_t req_addr(struct gen_set *g, const struct gen_target *t)
{
    const struct gen_dom *d = t->dom >= 0 ? &g->doms[t->dom] : NULL;
    unsigned roll = (unsigned)gen_below(g, 100);
    if (d && d->nmaps && roll < 60) {
        const struct gen_map *m = &d->maps[gen_below(g, d->nmaps)];
        return m->iova + gen_below(g, m->size);
    }
    if (d && d->nmaps && roll < 75) {
        const struct gen_map *m = &d->maps[gen_below(g, d->nmaps)];
        return gen_chance(g, 50) ? m->iova + m->size + gen_below(g, SIOV_PAGE_SIZE) : m->iova - 1;
    }
    bool fl = d && (d->pgtt == SIOV_PGTT_FL || d->pgtt == SIOV_PGTT_NESTED);
    unsigned width = !d ? 48 : fl ? (d->fl_levels == 5 ? 57 : 48)
                     : d->pgtt == SIOV_PGTT_PT ? g->cfg.haw : sl_width(g, d);
    if (roll < 88)
        return rand_in(g, width, 1, fl, 0);
    if (roll < 96) /* just beyond the width: out of range, or not canonical */
        return (1ull << width) + gen_below(g, 1ull << 20) * SIOV_PAGE_SIZE + gen_below(g, SIOV_PAGE_SIZE);
    return next64(g);
}

unsigned gen_requests(struct gen_set *g, struct gen_req *reqs, unsigned max)
{
    unsigned n = 0;
    if (!g->ntargets)
        return 0;
    while (n < max) {
        if (gen_chance(g, 3)) { /* a device nobody set up */
            siov_sid sid = rand_sid(g);
            uint32_t pasid = g->legacy || gen_chance(g, 50) ? SIOV_NO_PASID : rand_pasid(g);
            reqs[n++] = (struct gen_req){sid, pasid, next64(g) & 0xFFFFFFFFFFFull,
                                         rand_access(g, pasid != SIOV_NO_PASID)};
            continue;
        }
        const struct gen_target *t = &g->targets[gen_below(g, g->ntargets)];
        uint32_t pasid = t->pasid;
        if (g->legacy && gen_chance(g, 3))
            pasid = rand_pasid(g); /* requests with PASID in legacy mode */
        reqs[n++] = (struct gen_req){t->sid, pasid, req_addr(g, t), rand_access(g, pasid != SIOV_NO_PASID)};
    }
    return n;
}

void gen_describe(const struct gen_set *g, char *buf, size_t len)
{
    int k = snprintf(buf, len, "seed=0x%llx %s mgaw=%u haw=%u sagaw=0x%x sllps=%u fl5=%d fl1g=%d pasid_bits=%u doms:",
                     (unsigned long long)g->seed, g->legacy ? "legacy" : "scalable", g->cfg.mgaw, g->cfg.haw,
                     g->cfg.sagaw, g->cfg.sl_large, g->cfg.fl_5level, g->cfg.fl_1g, g->cfg.pasid_bits);
    for (unsigned i = 0; i < g->ndoms && k > 0 && (size_t)k < len; i++) {
        const struct gen_dom *d = &g->doms[i];
        k += snprintf(buf + k, len - (size_t)k, " [%u: pgtt=%u did=%u fl%u sl%u slee=%d slade=%d sre=%d ere=%d wpe=%d nxe=%d smep=%d pwsnp=%d]",
                      i, d->pgtt, d->did, d->fl_levels, d->sl_levels, d->slee, d->slade, d->sre, d->ere,
                      d->wpe, d->nxe, d->smep, d->pwsnp);
    }
}

/* Page walks of the remapping unit: second level (EPT-like, spec 9.8), first
 * level (IA-32e, spec 9.7), nested (spec 3.8) and pass-through, with A/D
 * updates. Fault reasons follow spec 7.1.3 as docs/spec-notes.md reads it. */
#include "internal.h"

#define WALK_MAX_LEVELS 5
#define WALK_TRIES 8 /* walks restarted after an entry changed under an A/D update */
/* Internal only (not a VT-d reason): an entry changed under an A/D update. */
#define WALK_RETRY ((siov_fault)0xFF)
#define ACCESS_RWX (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC)

struct walk {
    struct siov_iommu *iommu;
    const struct siov_pasid_ent *pe;
};

/* What a second-level walk is made for; decides its width and permission faults. */
enum sl_use {
    SL_REQUEST,      /* the request's own address (SL-only, legacy) */
    SL_NESTED_FINAL, /* the GPA the first level of a nested walk produced */
    SL_FL_TOP,       /* fetching the top first-level table (nested) */
    SL_FL_TABLE,     /* fetching a lower first-level table (nested) */
    SL_FL_AD,        /* writing a first-level A/D update (nested) */
};

/* A second-level entry, decoded once. */
struct sl_ent {
    uint64_t raw;
    uint64_t hpa;   /* where it was read, and where an A/D update goes */
    unsigned level;
    bool leaf;
    unsigned perm;  /* SIOV_ACCESS_* this entry allows */
    uint64_t addr;  /* next table, or the page base of a leaf */
};

struct sl_path {
    struct sl_ent ent[WALK_MAX_LEVELS];
    unsigned n;
    unsigned perm;  /* AND over the entries walked */
};

/* The outcome of one second-level translation. */
struct sl_result {
    uint64_t page, size;
    unsigned perm;
    bool dirty;     /* a write to the page needs no SL A/D update */
    bool snoop;     /* the leaf's SNP bit */
};

/* A first-level entry, decoded once. */
struct fl_ent {
    uint64_t raw;
    uint64_t gpa;   /* where the first level says it is */
    uint64_t hpa;   /* where it is in memory (differs from gpa when nested) */
    unsigned level;
    bool leaf;
    uint64_t addr;  /* next table (a GPA), or the page base of a leaf */
};

struct fl_path {
    struct fl_ent ent[WALK_MAX_LEVELS];
    unsigned n;
    bool us, rw;    /* U/S and R/W set at every level */
    bool xd;        /* XD set at some level */
};

static uint64_t level_size(unsigned level)
{
    return 1ull << siov_level_shift(level);
}

/* ------------------------------------------------------------ second level */

static bool sl_ad_enabled(const struct walk *w)
{
    return w->pe->slade && !w->pe->legacy; /* legacy mode never updates A/D */
}

/* SIOV_ACCESS_* an entry grants; without SLEE, execute follows read (spec-notes). */
static unsigned sl_entry_perm(const struct walk *w, uint64_t raw)
{
    bool x_used = w->pe->slee && !w->pe->legacy;
    unsigned perm = 0;

    if (raw & SIOV_SL_R)
        perm |= SIOV_ACCESS_READ;
    if (raw & SIOV_SL_W)
        perm |= SIOV_ACCESS_WRITE;
    if (x_used ? (raw & SIOV_SL_X) : (raw & SIOV_SL_R))
        perm |= SIOV_ACCESS_EXEC;
    return perm;
}

/* Input width of the second level: 2^min(AGAW, MGAW). */
static unsigned sl_width(const struct walk *w)
{
    unsigned agaw = 12 + 9 * (unsigned)w->pe->sl_levels;
    return agaw < w->iommu->cfg.mgaw ? agaw : w->iommu->cfg.mgaw;
}

/* An input above 2^X-1 (spec Table 30): SGN.5 for the address of a
   second-level-only request and for the GPA a nested first level produced
   (docs/spec-notes.md), LGN.1 in legacy mode, SFL.5 for a first-level table. */
static siov_fault sl_width_fault(const struct walk *w, enum sl_use use)
{
    switch (use) {
    case SL_REQUEST:
    case SL_NESTED_FINAL:
        return w->pe->legacy ? SIOV_FAULT_LGN_1 : SIOV_FAULT_SGN_5;
    default:
        return SIOV_FAULT_SFL_5;
    }
}

static siov_fault sl_read_entry(const struct walk *w, uint64_t table, uint64_t gpa, unsigned level,
                                struct sl_ent *e)
{
    bool top = level == w->pe->sl_levels;

    e->level = level;
    e->hpa = table + 8ull * siov_level_index(gpa, level);
    if (siov_mem_read64(w->iommu->mem, e->hpa, &e->raw) == 0)
        return SIOV_OK;
    if (w->pe->legacy) /* the entry SLPTPTR references: LCT.4.3; others LSL.1 */
        return top ? SIOV_FAULT_LCT_4 : SIOV_FAULT_LSL_1;
    return top ? SIOV_FAULT_SSL_4 : SIOV_FAULT_SSL_1;
}

/* R=W=0 (and X=0 or SLEE=0) is not present; legacy reports the request's permission reason. */
static siov_fault sl_check_present(const struct walk *w, uint64_t raw, unsigned access)
{
    if (sl_entry_perm(w, raw))
        return SIOV_OK;
    if (!w->pe->legacy)
        return SIOV_FAULT_SSL_2;
    bool write_only = (access & SIOV_ACCESS_WRITE) && !(access & (SIOV_ACCESS_READ | SIOV_ACCESS_EXEC));
    return write_only ? SIOV_FAULT_LGN_2 : SIOV_FAULT_LGN_3;
}

/* Reserved bits of an entry at level (spec 9.8), including page sizes SLLPS lacks. */
static siov_fault sl_check_reserved(const struct walk *w, uint64_t raw, unsigned level)
{
    const struct siov_iommu_config *cfg = &w->iommu->cfg;
    uint64_t leaf_rsvd = w->pe->legacy ? SIOV_SL_LEGACY_LEAF_RSVD : SIOV_SL_LEAF_RSVD;
    uint64_t rsvd = SIOV_SL_ADDR & siov_above(cfg->haw);

    if (level == 1)
        rsvd |= leaf_rsvd; /* PS is ignored in a PTE */
    else if (!(raw & SIOV_SL_PS))
        rsvd |= SIOV_SL_NONLEAF_RSVD;
    else if (level == 2 && (cfg->sl_large & SIOV_SLLPS_2M))
        rsvd |= leaf_rsvd | SIOV_SL_2M_RSVD;
    else if (level == 3 && (cfg->sl_large & SIOV_SLLPS_1G))
        rsvd |= leaf_rsvd | SIOV_SL_1G_RSVD;
    else
        rsvd |= SIOV_SL_PS; /* PS at level 4/5, or a page size SLLPS does not offer */
    if (!(raw & rsvd))
        return SIOV_OK;
    return w->pe->legacy ? SIOV_FAULT_LSL_2 : SIOV_FAULT_SSL_3;
}

static void sl_decode(const struct walk *w, struct sl_ent *e)
{
    e->leaf = e->level == 1 || (e->raw & SIOV_SL_PS);
    e->addr = e->raw & SIOV_SL_ADDR; /* a large leaf's low address bits are reserved, so clear */
    e->perm = sl_entry_perm(w, e->raw);
}

/* Descend from SLPTPTR to the leaf for gpa, checking each entry in spec order. */
static siov_fault sl_descend(const struct walk *w, uint64_t gpa, unsigned access, struct sl_path *p)
{
    uint64_t table = w->pe->slptptr & SIOV_ADDR_4K;

    p->n = 0;
    p->perm = ACCESS_RWX;
    for (unsigned level = w->pe->sl_levels;; level--) { /* ends at a leaf: a PTE always is one */
        struct sl_ent *e = &p->ent[p->n++];
        siov_fault f = sl_read_entry(w, table, gpa, level, e);
        if (!f)
            f = sl_check_present(w, e->raw, access);
        if (!f)
            f = sl_check_reserved(w, e->raw, level);
        if (f)
            return f;
        sl_decode(w, e);
        p->perm &= e->perm;
        if (e->leaf)
            return SIOV_OK;
        table = e->addr;
    }
}

/* The stacked permission must cover the access; the reason depends on the walk's use. */
static siov_fault sl_check_perm(const struct walk *w, unsigned perm, unsigned access, enum sl_use use)
{
    unsigned missing = access & ~perm;
    bool legacy = w->pe->legacy;

    if (!missing)
        return SIOV_OK;
    if (use == SL_FL_TOP)
        return SIOV_FAULT_SFL_6;
    if (use == SL_FL_TABLE)
        return SIOV_FAULT_SFL_7;
    if (use == SL_FL_AD)
        return SIOV_FAULT_SFL_8;
    if (missing & SIOV_ACCESS_READ)
        return legacy ? SIOV_FAULT_LGN_3 : SIOV_FAULT_SGN_7;
    if (missing & SIOV_ACCESS_WRITE)
        return legacy ? SIOV_FAULT_LGN_2 : SIOV_FAULT_SGN_6;
    return legacy ? SIOV_FAULT_LGN_3 : SIOV_FAULT_SGN_3; /* legacy execute is a read */
}

static uint64_t sl_ad_want(const struct sl_ent *e, bool write)
{
    return e->raw | SIOV_SL_A | (e->leaf && write ? SIOV_SL_D : 0);
}

/* A in every entry used, D in the leaf of a write; atomic, restart if an entry changed. */
static siov_fault sl_update_ad(const struct walk *w, struct sl_path *p, bool write)
{
    bool needed = false;

    if (!sl_ad_enabled(w))
        return SIOV_OK;
    for (unsigned i = 0; i < p->n; i++)
        needed |= sl_ad_want(&p->ent[i], write) != p->ent[i].raw;
    if (!needed)
        return SIOV_OK;
    if (!w->pe->pwsnp)
        return SIOV_FAULT_SSL_5; /* updates need a snooped walk */
    for (unsigned i = 0; i < p->n; i++) {
        struct sl_ent *e = &p->ent[i];
        uint64_t want = sl_ad_want(e, write);
        if (want == e->raw)
            continue;
        int rc = siov_mem_cmpxchg64(w->iommu->mem, e->hpa, e->raw, want);
        if (rc < 0)
            return SIOV_FAULT_SSL_6;
        if (rc == 0)
            return WALK_RETRY;
        e->raw = want;
    }
    return SIOV_OK;
}

/* Translate gpa through the second level for access (SIOV_ACCESS_* bits). */
static siov_fault sl_translate(const struct walk *w, uint64_t gpa, unsigned access, enum sl_use use,
                               struct sl_result *r)
{
    struct sl_path p;

    access &= ACCESS_RWX;
    if (gpa & siov_above(sl_width(w)))
        return sl_width_fault(w, use);
    siov_fault f = sl_descend(w, gpa, access, &p);
    if (!f && !p.perm && !w->pe->legacy)
        f = SIOV_FAULT_SSL_2; /* every entry present, but nothing granted over the walk (Table 30) */
    if (!f)
        f = sl_check_perm(w, p.perm, access, use);
    if (!f)
        f = sl_update_ad(w, &p, access & SIOV_ACCESS_WRITE);
    if (f)
        return f;
    const struct sl_ent *leaf = &p.ent[p.n - 1];
    r->page = leaf->addr;
    r->size = level_size(leaf->level);
    r->perm = p.perm;
    r->dirty = !sl_ad_enabled(w) || (leaf->raw & SIOV_SL_D);
    r->snoop = (leaf->raw & SIOV_SL_SNP) != 0;
    return SIOV_OK;
}

static siov_fault sl_walk(const struct walk *w, uint64_t addr, unsigned access, struct siov_walk_out *out)
{
    struct sl_result r;
    siov_fault f = sl_translate(w, addr, access, SL_REQUEST, &r);

    if (f)
        return f;
    out->page = r.page;
    out->page_size = r.size;
    out->perm_user = r.perm;
    out->perm_super = r.perm;
    out->dirty = r.dirty;
    out->snoop = r.snoop;
    return SIOV_OK;
}

/* ------------------------------------------------------------- first level */

/* Requests the PASID-table entry does not enable (spec 7.1.3: SPT.5, SPT.6). */
static siov_fault fl_check_request(const struct walk *w, unsigned access)
{
    if ((access & SIOV_ACCESS_PRIV) && !w->pe->sre)
        return SIOV_FAULT_SPT_6;
    if ((access & SIOV_ACCESS_EXEC) && !w->pe->ere)
        return SIOV_FAULT_SPT_5;
    return SIOV_OK;
}

/* Bits 63:47 (4-level) or 63:56 (5-level) all equal. */
static siov_fault fl_check_canonical(const struct walk *w, uint64_t addr)
{
    uint64_t high = siov_above(w->pe->fl_levels == 5 ? 56 : 47);
    uint64_t top = addr & high;

    return top == 0 || top == high ? SIOV_OK : SIOV_FAULT_SGN_1;
}

/* Where a first-level table is: nested, its GPA goes through the second level with read. */
static siov_fault fl_table_hpa(const struct walk *w, uint64_t gpa, bool top, uint64_t *hpa)
{
    struct sl_result r;

    if (w->pe->pgtt != SIOV_PGTT_NESTED) {
        *hpa = gpa;
        return SIOV_OK;
    }
    siov_fault f = sl_translate(w, gpa, SIOV_ACCESS_READ, top ? SL_FL_TOP : SL_FL_TABLE, &r);
    if (!f)
        *hpa = r.page + (gpa & (r.size - 1));
    return f;
}

static siov_fault fl_read_entry(const struct walk *w, uint64_t table, uint64_t addr, unsigned level,
                                struct fl_ent *e)
{
    bool top = level == w->pe->fl_levels;
    uint64_t off = 8ull * siov_level_index(addr, level);
    uint64_t table_hpa;
    siov_fault f = fl_table_hpa(w, table, top, &table_hpa);

    if (f)
        return f;
    e->level = level;
    e->gpa = table + off;
    e->hpa = table_hpa + off;
    if (siov_mem_read64(w->iommu->mem, e->hpa, &e->raw) == 0)
        return SIOV_OK;
    return top ? SIOV_FAULT_SFL_4 : SIOV_FAULT_SFL_1;
}

/* Reserved bits of a present entry at level (spec 9.7), including XD without NXE. */
static siov_fault fl_check_reserved(const struct walk *w, uint64_t raw, unsigned level)
{
    uint64_t rsvd = SIOV_FL_ADDR & siov_above(w->iommu->cfg.haw);

    if (!w->pe->nxe)
        rsvd |= SIOV_FL_XD;
    if (level == 1 || !(raw & SIOV_FL_PS))
        ; /* a PTE's bit 7 is PAT; a table entry has no size bits */
    else if (level == 2)
        rsvd |= SIOV_FL_2M_RSVD;
    else if (level == 3 && w->iommu->cfg.fl_1g)
        rsvd |= SIOV_FL_1G_RSVD;
    else
        rsvd |= SIOV_FL_PS; /* PS in a PML4E/PML5E, or a 1 GiB page without FL1GP */
    return raw & rsvd ? SIOV_FAULT_SFL_3 : SIOV_OK;
}

static void fl_decode(struct fl_ent *e)
{
    e->leaf = e->level == 1 || (e->raw & SIOV_FL_PS);
    e->addr = e->raw & SIOV_FL_ADDR;
    if (e->leaf)
        e->addr &= ~(level_size(e->level) - 1); /* drops PAT (bit 12) of a large page */
}

/* Descend from FLPTPTR to the leaf for addr, accumulating U/S, R/W and XD. */
static siov_fault fl_descend(const struct walk *w, uint64_t addr, struct fl_path *p)
{
    uint64_t table = w->pe->flptptr & SIOV_ADDR_4K;

    p->n = 0;
    p->us = p->rw = true;
    p->xd = false;
    for (unsigned level = w->pe->fl_levels;; level--) { /* ends at a leaf: a PTE always is one */
        struct fl_ent *e = &p->ent[p->n++];
        siov_fault f = fl_read_entry(w, table, addr, level, e);
        if (!f && !(e->raw & SIOV_FL_P))
            f = SIOV_FAULT_SFL_2;
        if (!f)
            f = fl_check_reserved(w, e->raw, level);
        if (f)
            return f;
        fl_decode(e);
        p->us = p->us && (e->raw & SIOV_FL_US);
        p->rw = p->rw && (e->raw & SIOV_FL_RW);
        p->xd = p->xd || (e->raw & SIOV_FL_XD);
        if (e->leaf)
            return SIOV_OK;
        table = e->addr;
    }
}

/* SIOV_ACCESS_* the first level grants a request of the given privilege. */
static unsigned fl_perm(const struct walk *w, const struct fl_path *p, bool priv)
{
    unsigned exec = p->xd ? 0 : SIOV_ACCESS_EXEC;

    if (!priv)
        return p->us ? SIOV_ACCESS_READ | (p->rw ? SIOV_ACCESS_WRITE : 0) | exec : 0;
    /* supervisor: WPE=0 ignores R/W; SMEP denies executing user pages */
    unsigned write = p->rw || !w->pe->wpe ? SIOV_ACCESS_WRITE : 0;
    return SIOV_ACCESS_READ | write | (w->pe->smep && p->us ? 0 : exec);
}

static siov_fault fl_check_perm(const struct walk *w, const struct fl_path *p, unsigned access)
{
    bool priv = access & SIOV_ACCESS_PRIV;
    unsigned missing = access & ACCESS_RWX & ~fl_perm(w, p, priv);

    if (!priv && !p->us)
        return SIOV_FAULT_SGN_2;
    if (missing & SIOV_ACCESS_WRITE)
        return SIOV_FAULT_SGN_6;
    if (missing & SIOV_ACCESS_EXEC)
        return SIOV_FAULT_SGN_3;
    return SIOV_OK;
}

static uint64_t fl_ad_want(const struct walk *w, const struct fl_ent *e, bool write)
{
    uint64_t set = SIOV_FL_A | (w->pe->eafe ? SIOV_FL_EA : 0);

    if (e->leaf && write)
        set |= SIOV_FL_D;
    return e->raw | set;
}

/* One atomic A/D update. Nested, it is a write through the second level: that
   walk checks W (SFL.8) and sets SL A/D; if the SL mapping moved since the
   read, the compare at the old address fails and the walk starts over. */
static siov_fault fl_write_entry(const struct walk *w, struct fl_ent *e, uint64_t want)
{
    if (w->pe->pgtt == SIOV_PGTT_NESTED) {
        struct sl_result r;
        siov_fault f = sl_translate(w, e->gpa, SIOV_ACCESS_WRITE, SL_FL_AD, &r);
        if (f)
            return f;
    }
    int rc = siov_mem_cmpxchg64(w->iommu->mem, e->hpa, e->raw, want);
    if (rc < 0)
        return SIOV_FAULT_SFL_10;
    if (rc == 0)
        return WALK_RETRY;
    e->raw = want;
    return SIOV_OK;
}

/* A (and EA with EAFE) in every entry used, D in the leaf of a write. */
static siov_fault fl_update_ad(const struct walk *w, struct fl_path *p, bool write)
{
    bool needed = false;

    for (unsigned i = 0; i < p->n; i++)
        needed |= fl_ad_want(w, &p->ent[i], write) != p->ent[i].raw;
    if (!needed)
        return SIOV_OK;
    if (!w->pe->pwsnp)
        return SIOV_FAULT_SFL_9; /* updates need a snooped walk */
    for (unsigned i = 0; i < p->n; i++) {
        uint64_t want = fl_ad_want(w, &p->ent[i], write);
        if (want == p->ent[i].raw)
            continue;
        siov_fault f = fl_write_entry(w, &p->ent[i], want);
        if (f)
            return f;
    }
    return SIOV_OK;
}

/* Nested: the final GPA through the second level; permissions AND, page size min. */
static siov_fault nested_output(const struct walk *w, uint64_t gpa, unsigned access, struct siov_walk_out *out)
{
    struct sl_result r;
    siov_fault f = sl_translate(w, gpa, access, SL_NESTED_FINAL, &r);

    if (f)
        return f;
    uint64_t size = r.size < out->page_size ? r.size : out->page_size;
    out->page = (r.page + (gpa & (r.size - 1))) & ~(size - 1);
    out->page_size = size;
    out->perm_user &= r.perm;
    out->perm_super &= r.perm;
    out->dirty = r.dirty;
    out->snoop = r.snoop;
    return SIOV_OK;
}

/* First-level-only and nested walks. */
static siov_fault fl_walk(const struct walk *w, uint64_t addr, unsigned access, struct siov_walk_out *out)
{
    struct fl_path p;
    siov_fault f = fl_check_request(w, access);

    if (!f)
        f = fl_check_canonical(w, addr);
    if (!f)
        f = fl_descend(w, addr, &p);
    if (!f)
        f = fl_check_perm(w, &p, access);
    if (f)
        return f;
    const struct fl_ent *leaf = &p.ent[p.n - 1];
    out->page = leaf->addr;
    out->page_size = level_size(leaf->level);
    out->perm_user = fl_perm(w, &p, false);
    out->perm_super = w->pe->sre ? fl_perm(w, &p, true) : 0; /* cached grants repeat SRE/ERE */
    if (!w->pe->ere) {
        out->perm_user &= ~SIOV_ACCESS_EXEC;
        out->perm_super &= ~SIOV_ACCESS_EXEC;
    }
    out->dirty = true;
    out->snoop = false;
    if (w->pe->pgtt == SIOV_PGTT_NESTED)
        f = nested_output(w, leaf->addr + (addr & (out->page_size - 1)), access, out);
    if (!f)
        f = fl_update_ad(w, &p, access & SIOV_ACCESS_WRITE);
    if (f)
        return f;
    out->dirty = out->dirty && (leaf->raw & SIOV_FL_D);
    return SIOV_OK;
}

/* ------------------------------------------------------------ pass-through */

/* The input is the host address: above HAW it is SGN.4 (Table 30), legacy LGN.1. */
static siov_fault pt_walk(const struct walk *w, uint64_t addr, struct siov_walk_out *out)
{
    if (addr & siov_above(w->iommu->cfg.haw))
        return w->pe->legacy ? SIOV_FAULT_LGN_1 : SIOV_FAULT_SGN_4;
    out->page = addr & SIOV_PAGE_MASK;
    out->page_size = SIOV_PAGE_SIZE;
    out->perm_user = ACCESS_RWX;
    out->perm_super = ACCESS_RWX;
    out->dirty = true;
    out->snoop = false;
    return SIOV_OK;
}

/* ------------------------------------------------------------------ entry */

/* Level counts the decoder should have refused; checked so a walk stays bounded. */
static bool levels_ok(const struct siov_pasid_ent *pe)
{
    bool sl_ok = pe->sl_levels >= 3 && pe->sl_levels <= WALK_MAX_LEVELS;
    bool fl_ok = pe->fl_levels == 4 || pe->fl_levels == 5;

    switch (pe->pgtt) {
    case SIOV_PGTT_SL:
        return sl_ok;
    case SIOV_PGTT_FL:
        return fl_ok;
    case SIOV_PGTT_NESTED:
        return sl_ok && fl_ok;
    default:
        return pe->pgtt == SIOV_PGTT_PT;
    }
}

static siov_fault walk_once(const struct walk *w, uint64_t addr, unsigned access, struct siov_walk_out *out)
{
    switch (w->pe->pgtt) {
    case SIOV_PGTT_PT:
        return pt_walk(w, addr, out);
    case SIOV_PGTT_SL:
        return sl_walk(w, addr, access, out);
    default:
        return fl_walk(w, addr, access, out);
    }
}

siov_fault siov_walk(struct siov_iommu *iommu, const struct siov_pasid_ent *pe, uint64_t addr,
                     unsigned access, struct siov_walk_out *out)
{
    const struct walk w = {.iommu = iommu, .pe = pe};

    if (!levels_ok(pe))
        return pe->legacy ? SIOV_FAULT_LCT_4 : SIOV_FAULT_SPT_4;
    for (unsigned i = 0; i < WALK_TRIES; i++) {
        siov_fault f = walk_once(&w, addr, access, out);
        if (f != WALK_RETRY)
            return f;
    }
    /* entries kept changing under the updates: report an access error (a
       legacy walk updates no A/D, so it never gets here) */
    return pe->pgtt == SIOV_PGTT_SL ? SIOV_FAULT_SSL_1 : SIOV_FAULT_SFL_1;
}

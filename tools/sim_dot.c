/* siov-sim: 'dump SID [PASID] [IOVA] --dot [FILE]' — the root, context,
   PASID and paging structures behind a request (with IOVA) or a whole device
   (without: every present PASID, or the one named) as a Graphviz digraph:
   one node per table, one row per present entry, an edge per pointer. The
   entry where a request stops — the IOVA's, and each pending fault record's
   of the device — is shown red with why. Reads guest memory only (scalable
   mode), and bounds its size, as the text dump does. */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define DOT_MAX_NODES 200
#define DOT_MAX_ROWS 64   /* rows of one table node; the rest summarized */
#define DOT_MAX_MARKS 32
#define PASID_PER_TABLE 64

struct mark {
    uint64_t table;
    unsigned index;
    bool fault;     /* red: a fault's entry; else blue: where the IOVA translates */
    char why[64];
};

struct dot {
    struct sim *s;
    FILE *f;
    uint64_t done[DOT_MAX_NODES];
    unsigned ndone;
    struct mark marks[DOT_MAX_MARKS];
    unsigned nmarks;
    const uint64_t *iova;     /* only this path */
    uint32_t pasid;           /* SIOV_NO_PASID: every present PASID */
    bool nested, fl;          /* the paging structure being drawn */
    uint64_t sl_root;
    unsigned sl_levels;
};

static bool rd(struct dot *d, uint64_t gpa, uint64_t *qw, unsigned n)
{
    return siov_mem_read(d->s->mem, gpa, qw, n * 8ull) == 0;
}

static const struct mark *mark_at(const struct dot *d, uint64_t table, unsigned index)
{
    for (unsigned i = 0; i < d->nmarks; i++)
        if (d->marks[i].table == table && d->marks[i].index == index)
            return &d->marks[i];
    return NULL;
}

/* Mark an entry; why NULL: the IOVA's path (a fault only where it stops short). */
static void add_mark(struct dot *d, uint64_t table, unsigned index, const char *why, bool fault)
{
    if (d->nmarks < DOT_MAX_MARKS && !mark_at(d, table, index)) {
        struct mark *m = &d->marks[d->nmarks++];
        m->table = table, m->index = index, m->fault = fault;
        snprintf(m->why, sizeof(m->why), "%s", why ? why : fault ? "the request stops: not present" : "the request translates here");
    }
}

/* ------------------------------------------------------------ paging */
static bool pt_present(bool fl, uint64_t e)
{
    return fl ? (e & SIOV_FL_P) : (e & (SIOV_SL_R | SIOV_SL_W | SIOV_SL_X)) != 0;
}

static bool pt_leaf(bool fl, uint64_t e, unsigned level)
{
    return level == 1 || (level <= 3 && (e & (fl ? SIOV_FL_PS : SIOV_SL_PS)));
}

static uint64_t pt_addr(bool fl, uint64_t e)
{
    return e & (fl ? SIOV_FL_ADDR : SIOV_SL_ADDR);
}

/* A nested first level's table pointer through the second level (0: unmapped). */
static uint64_t table_hpa(struct dot *d, uint64_t ptr)
{
    if (!d->nested || !d->fl)
        return ptr;
    uint64_t t = d->sl_root;
    for (unsigned level = d->sl_levels; level >= 1; level--) {
        uint64_t e;
        if (!rd(d, t + 8ull * siov_level_index(ptr, level), &e, 1) || !pt_present(false, e))
            return 0;
        if (pt_leaf(false, e, level))
            return (pt_addr(false, e) & ~((1ull << siov_level_shift(level)) - 1)) |
                   (ptr & ((1ull << siov_level_shift(level)) - 1));
        t = pt_addr(false, e);
    }
    return 0;
}

/* Where a walk of iova from the table at ptr stops: marked with why. */
static void locate_paging(struct dot *d, uint64_t ptr, unsigned levels, uint64_t iova, const char *why)
{
    for (unsigned level = levels; level >= 1; level--) {
        uint64_t hpa = table_hpa(d, ptr), e;
        unsigned i = siov_level_index(iova, level);
        if (!hpa || !rd(d, hpa + 8ull * i, &e, 1))
            return;
        if (!pt_present(d->fl, e) || pt_leaf(d->fl, e, level)) {
            add_mark(d, hpa, i, why, why || !pt_present(d->fl, e));
            return;
        }
        ptr = pt_addr(d->fl, e);
    }
}

/* The paging structure a PASID-table entry names: its root and depth (0: none). */
static unsigned pe_paging(struct dot *d, const uint64_t *pe, uint64_t *root)
{
    unsigned pgtt = (unsigned)siov_get(pe[0], SIOV_PTE0_PGTT);
    *root = 0;
    d->nested = pgtt == SIOV_PGTT_NESTED;
    d->sl_root = pe[0] & SIOV_PTE0_SLPTPTR;
    d->sl_levels = siov_aw_levels((unsigned)siov_get(pe[0], SIOV_PTE0_AW));
    d->fl = pgtt == SIOV_PGTT_FL || pgtt == SIOV_PGTT_NESTED;
    if (pgtt != SIOV_PGTT_FL && pgtt != SIOV_PGTT_SL && pgtt != SIOV_PGTT_NESTED)
        return 0;
    *root = d->fl ? pe[2] & SIOV_PTE2_FLPTPTR : d->sl_root;
    unsigned levels = d->fl ? (siov_get(pe[2], SIOV_PTE2_FLPM) == SIOV_FLPM_5LVL ? 5 : 4) : d->sl_levels;
    return levels >= 3 && levels <= 5 ? levels : 0;
}

/* The context entry of sid under the root table at rta: its table and index; false if absent. */
static bool ctx_of(struct dot *d, uint64_t rta, siov_sid sid, uint64_t *table, unsigned *index, const char *why)
{
    uint64_t re[2];
    unsigned devfn = SIOV_SID_DEVFN(sid);
    if (!rd(d, rta + SIOV_SID_BUS(sid) * SIOV_ROOT_ENTRY_SIZE, re, 2))
        return false;
    uint64_t half = devfn >= 128 ? re[1] : re[0];
    if (!(half & SIOV_SRE0_LP)) {
        add_mark(d, rta, SIOV_SID_BUS(sid), why, true);
        return false;
    }
    *table = half & SIOV_SRE0_LCTP;
    *index = devfn & 0x7F;
    return true;
}

/* Mark where a request of (sid, pasid, iova) stops, with why. */
static void locate(struct dot *d, uint64_t rta, siov_sid sid, uint32_t pasid, uint64_t iova, const char *why)
{
    uint64_t ct, ce[4], pde, pe[8], root;
    unsigned ci;
    if (!ctx_of(d, rta, sid, &ct, &ci, why) || !rd(d, ct + ci * SIOV_SM_CTX_ENTRY_SIZE, ce, 4))
        return;
    if (!(ce[0] & SIOV_SCE0_P)) {
        add_mark(d, ct, ci, why, true);
        return;
    }
    if (pasid == SIOV_NO_PASID)
        pasid = (uint32_t)siov_get(ce[1], SIOV_SCE1_RID_PASID);
    uint64_t dir = ce[0] & SIOV_SCE0_PASIDDIRPTR;
    if (!rd(d, dir + (pasid >> 6) * SIOV_PDE_SIZE, &pde, 1))
        return;
    if (!(pde & SIOV_PDE_P)) {
        add_mark(d, dir, pasid >> 6, why, true);
        return;
    }
    uint64_t pt = pde & SIOV_PDE_SMPTBLPTR;
    if (!rd(d, pt + (pasid & 63) * SIOV_PTE_SIZE, pe, 8))
        return;
    unsigned levels = pe_paging(d, pe, &root);
    if (!(pe[0] & SIOV_PTE0_P) || !levels) {
        add_mark(d, pt, pasid & 63, why, true);
        return;
    }
    locate_paging(d, root, levels, iova, why);
}

/* ------------------------------------------------------------- nodes */
static bool node_new(struct dot *d, uint64_t table)
{
    for (unsigned i = 0; i < d->ndone; i++)
        if (d->done[i] == table)
            return false;
    if (d->ndone == DOT_MAX_NODES)
        return false;
    d->done[d->ndone++] = table;
    return true;
}

static void node_open(struct dot *d, uint64_t table, const char *title)
{
    fprintf(d->f, "  t%llx [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\">"
                  "<tr><td bgcolor=\"#dddddd\"><b>%s</b> @0x%llx</td></tr>",
            (unsigned long long)table, title, (unsigned long long)table);
}

static void row(struct dot *d, uint64_t table, unsigned index, const char *text)
{
    const struct mark *m = mark_at(d, table, index);
    fprintf(d->f, "<tr><td port=\"e%u\" align=\"left\"%s>[%03x] %s%s%s</td></tr>", index,
            !m ? "" : m->fault ? " bgcolor=\"#ff9999\"" : " bgcolor=\"#99ccff\"", index, text, m ? " &#8212; " : "",
            m ? m->why : "");
}

static void node_close(struct dot *d)
{
    fputs("</table>>];\n", d->f);
}

static void edge(struct dot *d, uint64_t from, unsigned index, uint64_t to)
{
    fprintf(d->f, "  t%llx:e%u -> t%llx;\n", (unsigned long long)from, index, (unsigned long long)to);
}

/* ------------------------------------------------------------ tables */
struct child {
    unsigned index;
    uint64_t ptr, base;
};

static void paging_table(struct dot *d, uint64_t ptr, unsigned level, uint64_t base);

/* One row of a paging table at i (a run of 4K leaves merged); entries consumed. */
static unsigned paging_row(struct dot *d, uint64_t hpa, const uint64_t *t, unsigned i, unsigned level, uint64_t iova,
                           struct child *c, unsigned *nc)
{
    char text[160];
    uint64_t e = t[i], size = 1ull << siov_level_shift(level);
    unsigned n = 1;
    if (!pt_present(d->fl, e)) {
        snprintf(text, sizeof(text), "0x%llx not present", (unsigned long long)iova);
    } else if (pt_leaf(d->fl, e, level)) {
        uint64_t amask = d->fl ? SIOV_FL_ADDR : SIOV_SL_ADDR;
        while (!d->iova && level == 1 && i + n < SIOV_PT_ENTRIES && !mark_at(d, hpa, i + n) &&
               (t[i + n] & ~amask) == (e & ~amask) && (t[i + n] & amask) == (e & amask) + n * SIOV_PAGE_SIZE)
            n++;
        char sz[24], run[16] = "";
        if (n > 1)
            snprintf(run, sizeof(run), " x%u", n);
        snprintf(text, sizeof(text), "0x%llx-0x%llx -&gt; %s0x%llx %s%s", (unsigned long long)iova,
                 (unsigned long long)(iova + n * size - 1), d->nested && d->fl ? "gpa " : "",
                 (unsigned long long)(pt_addr(d->fl, e) & ~(size - 1)), sim_fmt_size(size, sz), run);
    } else {
        snprintf(text, sizeof(text), "0x%llx -&gt; table 0x%llx", (unsigned long long)iova,
                 (unsigned long long)pt_addr(d->fl, e));
        c[(*nc)++] = (struct child){i, pt_addr(d->fl, e), iova};
    }
    row(d, hpa, i, text);
    return n;
}

static void paging_table(struct dot *d, uint64_t ptr, unsigned level, uint64_t base)
{
    uint64_t hpa = table_hpa(d, ptr), t[SIOV_PT_ENTRIES];
    if (!hpa || !node_new(d, hpa) || !rd(d, hpa, t, SIOV_PT_ENTRIES))
        return;
    struct child c[DOT_MAX_ROWS];
    unsigned nc = 0, rows = 0, left = 0;
    char title[64];
    snprintf(title, sizeof(title), "%s L%u", d->fl ? (d->nested ? "nested FL" : "first level") : "second level",
             level);
    node_open(d, hpa, title);
    for (unsigned i = 0; i < SIOV_PT_ENTRIES;) {
        bool want = d->iova ? i == siov_level_index(*d->iova, level) : pt_present(d->fl, t[i]);
        if (!want && !mark_at(d, hpa, i)) {
            i++;
            continue;
        }
        if (rows++ == DOT_MAX_ROWS) {
            left = SIOV_PT_ENTRIES - i;
            break;
        }
        uint64_t iova = base + ((uint64_t)i << siov_level_shift(level));
        i += paging_row(d, hpa, t, i, level, iova, c, &nc);
    }
    if (left)
        fprintf(d->f, "<tr><td align=\"left\">... up to %u more entries</td></tr>", left);
    node_close(d);
    for (unsigned k = 0; k < nc; k++) {
        uint64_t ch = table_hpa(d, c[k].ptr);
        if (ch)
            edge(d, hpa, c[k].index, ch);
        paging_table(d, c[k].ptr, level - 1, c[k].base);
    }
}

/* The PASID table at pt (PASIDs from first), its present entries or the one asked for. */
static void pasid_table(struct dot *d, uint64_t pt, uint32_t first)
{
    if (!node_new(d, pt))
        return;
    struct child c[PASID_PER_TABLE];
    unsigned nc = 0;
    node_open(d, pt, "PASID table");
    for (unsigned i = 0; i < PASID_PER_TABLE; i++) {
        uint64_t pe[8], root = 0;
        bool want = d->pasid == SIOV_NO_PASID || d->pasid == first + i;
        if (!rd(d, pt + i * SIOV_PTE_SIZE, pe, 8) || !((want && (pe[0] & SIOV_PTE0_P)) || mark_at(d, pt, i)))
            continue;
        static const char *const pgtt[] = {"?", "fl", "sl", "nested", "pt", "?", "?", "?"};
        char text[128];
        unsigned levels = pe_paging(d, pe, &root);
        snprintf(text, sizeof(text), "pasid %u: %s did %u%s", first + i,
                 (pe[0] & SIOV_PTE0_P) ? pgtt[siov_get(pe[0], SIOV_PTE0_PGTT)] : "not present",
                 (unsigned)siov_get(pe[1], SIOV_PTE1_DID), levels ? "" : " (no paging)");
        row(d, pt, i, text);
        if ((pe[0] & SIOV_PTE0_P) && levels)
            c[nc++] = (struct child){i, root, levels}; /* base holds the depth here */
    }
    node_close(d);
    for (unsigned k = 0; k < nc; k++) {
        uint64_t pe[8], root;
        if (!rd(d, pt + c[k].index * SIOV_PTE_SIZE, pe, 8) || !pe_paging(d, pe, &root))
            continue; /* read just before: the state of this entry's structure */
        uint64_t hpa = table_hpa(d, root);
        if (hpa)
            edge(d, pt, c[k].index, hpa);
        paging_table(d, root, (unsigned)c[k].base, 0);
    }
}

static void pasid_dir(struct dot *d, uint64_t dir, unsigned pdts)
{
    if (!node_new(d, dir))
        return;
    unsigned n = 1u << (pdts + 7); /* 2^(PDTS+7) entries (spec 9.4) */
    n = n > SIOV_PT_ENTRIES ? SIOV_PT_ENTRIES : n;
    struct child c[DOT_MAX_ROWS];
    unsigned nc = 0;
    node_open(d, dir, "PASID directory");
    for (unsigned i = 0; i < n && nc < DOT_MAX_ROWS; i++) {
        uint64_t pde;
        bool want = d->pasid == SIOV_NO_PASID || (d->pasid >> 6) == i;
        if (!rd(d, dir + i * SIOV_PDE_SIZE, &pde, 1) || !((want && (pde & SIOV_PDE_P)) || mark_at(d, dir, i)))
            continue;
        char text[96];
        snprintf(text, sizeof(text), (pde & SIOV_PDE_P) ? "pasids %u-%u -&gt; table 0x%llx" : "pasids %u-%u not present",
                 i * 64, i * 64 + 63, (unsigned long long)(pde & SIOV_PDE_SMPTBLPTR));
        row(d, dir, i, text);
        if (pde & SIOV_PDE_P)
            c[nc++] = (struct child){i, pde & SIOV_PDE_SMPTBLPTR, 0};
    }
    node_close(d);
    for (unsigned k = 0; k < nc; k++) {
        edge(d, dir, c[k].index, c[k].ptr);
        pasid_table(d, c[k].ptr, c[k].index * 64);
    }
}

/* Root entry, context entry, then the PASID structures of sid. */
static void device(struct dot *d, uint64_t rta, siov_sid sid)
{
    uint64_t ct, ce[4];
    unsigned ci, bus = SIOV_SID_BUS(sid);
    char text[128], sidt[16];
    bool have = ctx_of(d, rta, sid, &ct, &ci, NULL);
    node_new(d, rta);
    node_open(d, rta, "root table");
    snprintf(text, sizeof(text), have ? "bus %02x -&gt; context table 0x%llx" : "bus %02x: not present", bus,
             (unsigned long long)(have ? ct : 0));
    row(d, rta, bus, text);
    node_close(d);
    if (!have || !rd(d, ct + ci * SIOV_SM_CTX_ENTRY_SIZE, ce, 4))
        return;
    edge(d, rta, bus, ct);
    node_new(d, ct);
    node_open(d, ct, "context table");
    bool p = ce[0] & SIOV_SCE0_P;
    snprintf(text, sizeof(text), p ? "%s: pasid dir 0x%llx, RID_PASID %u%s" : "%s: not present",
             sim_fmt_sid(sid, sidt), (unsigned long long)(ce[0] & SIOV_SCE0_PASIDDIRPTR),
             (unsigned)siov_get(ce[1], SIOV_SCE1_RID_PASID), (ce[0] & SIOV_SCE0_DTE) ? ", ATS" : "");
    row(d, ct, ci, text);
    node_close(d);
    if (!p)
        return;
    edge(d, ct, ci, ce[0] & SIOV_SCE0_PASIDDIRPTR);
    if (d->pasid == SIOV_NO_PASID && d->iova) /* a request without PASID: RID_PASID's */
        d->pasid = (uint32_t)siov_get(ce[1], SIOV_SCE1_RID_PASID);
    pasid_dir(d, ce[0] & SIOV_SCE0_PASIDDIRPTR, (unsigned)siov_get(ce[0], SIOV_SCE0_PDTS));
}

/* Mark the entries behind the device's pending fault records. */
static void fault_marks(struct dot *d, uint64_t rta, siov_sid sid)
{
    unsigned nfr = d->s->iommu ? siov_iommu_get_config(d->s->iommu)->fault_records : 0;
    for (unsigned i = 0; i < nfr; i++) {
        struct siov_fault_record fr;
        if (siov_iommu_fault_record(d->s->iommu, i, &fr) != 1 || fr.sid != sid)
            continue;
        if (d->pasid != SIOV_NO_PASID && fr.pasid != d->pasid)
            continue;
        char why[64];
        snprintf(why, sizeof(why), "fault %s at 0x%llx", siov_fault_name(fr.reason), (unsigned long long)fr.addr);
        locate(d, rta, sid, fr.pasid, fr.addr, why);
    }
}

int sim_dump_dot(struct sim *s, FILE *f, siov_sid sid, uint32_t pasid, const uint64_t *iova)
{
    struct dot *d = calloc(1, sizeof(*d));
    if (!d)
        return sim_error(s, "out of memory");
    d->s = s, d->f = f, d->iova = iova, d->pasid = pasid;
    uint64_t rtaddr = siov_mmio_read(s->iommu, SIOV_REG_RTADDR, 8), rta = rtaddr & SIOV_RTADDR_RTA;
    char sidt[16], pt[24];
    fprintf(f, "digraph siov {\n  rankdir=TB;\n  node [shape=plaintext, fontname=\"monospace\", fontsize=10];\n"
               "  label=\"dump %s %s", sim_fmt_sid(sid, sidt),
            pasid == SIOV_NO_PASID && !iova ? "(every PASID)" : sim_fmt_pasid(pasid, pt));
    if (iova)
        fprintf(f, " 0x%llx", (unsigned long long)*iova);
    fprintf(f, "\";\n");
    if (siov_get(rtaddr, SIOV_RTADDR_TTM) != SIOV_TTM_SCALABLE) {
        fprintf(f, "  note [label=\"not in scalable mode: the graph shows scalable-mode tables only\"];\n}\n");
        free(d);
        return 0;
    }
    if (iova)
        locate(d, rta, sid, pasid, *iova, NULL);
    fault_marks(d, rta, sid);
    device(d, rta, sid);
    if (d->ndone == DOT_MAX_NODES)
        fprintf(f, "  truncated [label=\"(graph cut at %d tables)\"];\n", DOT_MAX_NODES);
    fprintf(f, "}\n");
    free(d);
    return 0;
}

/* siov-sim: 'dump' — the translation structures a requester id and PASID
   reach, read straight from guest memory the way the hardware reads them
   (root entry, context entry, PASID directory and table entry, then every
   paging level down to each mapping), decoded by field name. A dump reads
   memory only: it never translates, never touches the caches or counters,
   and bounds its output so that a malformed (even cyclic) table stays short. */
#include <errno.h>
#include <string.h>

#include "sim.h"

#define DUMP_MAX_LINES 2000

struct dump {
    struct sim *s;
    unsigned lines;
    bool fl;              /* first-level (IA-32e) entries; else second-level */
    unsigned levels;
    uint64_t sl_root;     /* nested: the second level that maps first-level GPAs */
    unsigned sl_levels;
    bool nested;
};

/* One output line (a comment: the output stays a scenario), counted; false
   once the cap is reached. */
static bool out(struct dump *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool out(struct dump *d, const char *fmt, ...)
{
    if (d->lines > DUMP_MAX_LINES)
        return false;
    if (d->lines++ == DUMP_MAX_LINES) {
        sim_note(d->s, "  ... (output truncated at %d lines)", DUMP_MAX_LINES);
        return false;
    }
    if (d->s->quiet)
        return true;
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", d->s->out);
    vfprintf(d->s->out, fmt, ap);
    va_end(ap);
    return true;
}

static bool read_qw(struct dump *d, uint64_t gpa, uint64_t *qw, unsigned n)
{
    if (siov_mem_read(d->s->mem, gpa, qw, n * 8ull) == 0)
        return true;
    out(d, "  [0x%llx] not readable: outside guest memory\n", (unsigned long long)gpa);
    return false;
}

/* Print one decoded structure; returns false if it could not be read. */
static bool show(struct dump *d, const char *what, uint64_t gpa, const char *layout, uint64_t *qw)
{
    const struct sim_layout *lay = sim_layout_find(layout);
    char text[512];
    if (!read_qw(d, gpa, qw, lay->qwords))
        return false;
    sim_fields_decode(lay, qw, false, text, sizeof(text));
    out(d, "%s @0x%llx:%s\n", what, (unsigned long long)gpa, text);
    return true;
}

/* ------------------------------------------------------------ paging */
static bool pt_present(const struct dump *d, uint64_t e)
{
    return d->fl ? (e & SIOV_FL_P) : (e & (SIOV_SL_R | SIOV_SL_W | SIOV_SL_X)) != 0;
}

static bool pt_leaf(const struct dump *d, uint64_t e, unsigned level)
{
    return level == 1 || (level <= 3 && (e & (d->fl ? SIOV_FL_PS : SIOV_SL_PS)));
}

/* The address an entry holds: a table, or (leaf) a page of its level's size. */
static uint64_t pt_addr(const struct dump *d, uint64_t e, unsigned level)
{
    uint64_t a = e & (d->fl ? SIOV_FL_ADDR : SIOV_SL_ADDR);
    return pt_leaf(d, e, level) ? a & ~((1ull << siov_level_shift(level)) - 1) : a;
}

/* Permissions and flags of an entry, as letters. */
static const char *pt_flags(const struct dump *d, uint64_t e, char buf[32])
{
    if (d->fl)
        snprintf(buf, 32, "r%c%c %s%s%s", (e & SIOV_FL_RW) ? 'w' : '-', (e & SIOV_FL_XD) ? '-' : 'x',
                 (e & SIOV_FL_US) ? "user" : "supervisor", (e & SIOV_FL_A) ? " A" : "", (e & SIOV_FL_D) ? " D" : "");
    else
        snprintf(buf, 32, "%c%c%c%s%s", (e & SIOV_SL_R) ? 'r' : '-', (e & SIOV_SL_W) ? 'w' : '-',
                 (e & SIOV_SL_X) ? 'x' : '-', (e & SIOV_SL_A) ? " A" : "", (e & SIOV_SL_D) ? " D" : "");
    return buf;
}

/* First-level input addresses are canonical: sign-extend the top bit. */
static uint64_t canonical(const struct dump *d, uint64_t iova)
{
    unsigned width = siov_level_shift(d->levels) + 9;
    if (d->fl && width < 64 && (iova >> (width - 1)) & 1)
        iova |= ~0ull << width;
    return iova;
}

/* Software lookup of a GPA in the nested second level; false if unmapped. */
static bool sl_lookup(struct dump *d, uint64_t gpa, uint64_t *hpa)
{
    uint64_t table = d->sl_root;
    for (unsigned level = d->sl_levels; level >= 1; level--) {
        uint64_t e;
        if (siov_mem_read(d->s->mem, table + 8ull * siov_level_index(gpa, level), &e, 8) < 0 ||
            !(e & (SIOV_SL_R | SIOV_SL_W | SIOV_SL_X)))
            return false;
        table = e & SIOV_SL_ADDR;
        if (level == 1 || (level <= 3 && (e & SIOV_SL_PS))) {
            uint64_t mask = (1ull << siov_level_shift(level)) - 1;
            *hpa = (table & ~mask) | (gpa & mask);
            return true;
        }
    }
    return false;
}

/* Where a table pointer lands: itself, or (nested first level) its SL translation. */
static bool table_hpa(struct dump *d, uint64_t ptr, uint64_t *hpa)
{
    if (!d->nested || !d->fl)
        return *hpa = ptr, true;
    if (sl_lookup(d, ptr, hpa))
        return true;
    out(d, "  first-level table at gpa 0x%llx is not mapped by the second level\n", (unsigned long long)ptr);
    return false;
}

/* The number of entries from i that continue one run of 4 KiB leaves. */
static unsigned leaf_run(const struct dump *d, const uint64_t *t, unsigned i)
{
    uint64_t amask = d->fl ? SIOV_FL_ADDR : SIOV_SL_ADDR;
    unsigned n = 1;
    while (i + n < SIOV_PT_ENTRIES && pt_present(d, t[i + n]) &&
           (t[i + n] & ~amask) == (t[i] & ~amask) &&
           (t[i + n] & amask) == (t[i] & amask) + n * SIOV_PAGE_SIZE)
        n++;
    return n;
}

static void print_leaf(struct dump *d, unsigned level, unsigned i, unsigned n, uint64_t e, uint64_t iova,
                       unsigned indent)
{
    uint64_t size = 1ull << siov_level_shift(level), pa = pt_addr(d, e, level), hpa = 0;
    char flags[32], sz[24], idx[24], count[16] = "", tail[48] = "";
    snprintf(idx, sizeof(idx), n > 1 ? "0x%03x..0x%03x" : "0x%03x", i, i + n - 1);
    if (d->nested && d->fl) {
        bool mapped = sl_lookup(d, pa, &hpa);
        snprintf(tail, sizeof(tail), mapped ? " (hpa 0x%llx)" : " (gpa not mapped by SL)", (unsigned long long)hpa);
    }
    if (n > 1)
        snprintf(count, sizeof(count), " x%u", n);
    out(d, "%*sL%u[%s] 0x%llx-0x%llx -> %s0x%llx%s  %s%s %s\n", indent, "", level, idx,
        (unsigned long long)canonical(d, iova), (unsigned long long)canonical(d, iova + n * size - 1),
        d->nested && d->fl ? "gpa " : "", (unsigned long long)pa, tail, sim_fmt_size(size, sz), count,
        pt_flags(d, e, flags));
}

static void walk_table(struct dump *d, uint64_t ptr, unsigned level, uint64_t base, unsigned indent);

/* Print entry i of a table at level (and everything below it); returns entries consumed. */
static unsigned walk_entry(struct dump *d, const uint64_t *t, unsigned i, unsigned level, uint64_t base,
                           unsigned indent)
{
    uint64_t e = t[i], iova = base + ((uint64_t)i << siov_level_shift(level));
    char flags[32];
    if (pt_leaf(d, e, level)) {
        unsigned n = level == 1 ? leaf_run(d, t, i) : 1;
        print_leaf(d, level, i, n, e, iova, indent);
        return n;
    }
    if (out(d, "%*sL%u[0x%03x] 0x%llx -> table 0x%llx  %s\n", indent, "", level, i,
            (unsigned long long)canonical(d, iova), (unsigned long long)pt_addr(d, e, level), pt_flags(d, e, flags)))
        walk_table(d, pt_addr(d, e, level), level - 1, iova, indent + 2);
    return 1;
}

static void walk_table(struct dump *d, uint64_t ptr, unsigned level, uint64_t base, unsigned indent)
{
    uint64_t t[SIOV_PT_ENTRIES], hpa;
    if (!table_hpa(d, ptr, &hpa) || !read_qw(d, hpa, t, SIOV_PT_ENTRIES))
        return;
    for (unsigned i = 0; i < SIOV_PT_ENTRIES && d->lines <= DUMP_MAX_LINES;) {
        if (!pt_present(d, t[i])) {
            i++;
            continue;
        }
        i += walk_entry(d, t, i, level, base, indent);
    }
}

/* The path of one IOVA: the entry at each level, decoded, to the mapping. */
static void walk_path(struct dump *d, uint64_t ptr, uint64_t iova)
{
    const struct sim_layout *lay = sim_layout_find(d->fl ? "fl" : "sl");
    for (unsigned level = d->levels; level >= 1; level--) {
        uint64_t hpa, e, gpa_e;
        char text[256];
        if (!table_hpa(d, ptr, &hpa))
            return;
        gpa_e = hpa + 8ull * siov_level_index(iova, level);
        if (!read_qw(d, gpa_e, &e, 1))
            return;
        sim_fields_decode(lay, &e, false, text, sizeof(text));
        out(d, "    L%u[0x%03x] @0x%llx = 0x%016llx:%s\n", level, siov_level_index(iova, level),
            (unsigned long long)gpa_e, (unsigned long long)e, text);
        if (!pt_present(d, e)) {
            out(d, "    not present: 0x%llx is not mapped\n", (unsigned long long)iova);
            return;
        }
        if (pt_leaf(d, e, level)) {
            uint64_t mask = (1ull << siov_level_shift(level)) - 1;
            out(d, "    0x%llx -> %s0x%llx\n", (unsigned long long)iova, d->nested && d->fl ? "gpa " : "",
                (unsigned long long)(pt_addr(d, e, level) | (iova & mask)));
            return;
        }
        ptr = pt_addr(d, e, level);
    }
}

/* One paging structure, whole or along one IOVA. */
static void paging(struct dump *d, const char *what, uint64_t root, bool fl, unsigned levels, const uint64_t *iova)
{
    d->fl = fl;
    d->levels = levels;
    if (levels < 3 || levels > 5) {
        out(d, "  %s: %u levels is not a valid paging depth\n", what, levels);
        return;
    }
    out(d, "  %s, %u levels, root table 0x%llx%s\n", what, levels, (unsigned long long)root,
        d->nested && fl ? " (gpa)" : "");
    if (iova)
        walk_path(d, root, *iova);
    else
        walk_table(d, root, levels, 0, 4);
}

/* ------------------------------------------------------ scalable mode */
/* The paging structures a decoded PASID-table entry names. */
static void pasid_paging(struct dump *d, const uint64_t *pe, const uint64_t *iova)
{
    unsigned pgtt = (unsigned)siov_get(pe[0], SIOV_PTE0_PGTT);
    unsigned sl_levels = siov_aw_levels((unsigned)siov_get(pe[0], SIOV_PTE0_AW));
    unsigned fl_levels = siov_get(pe[2], SIOV_PTE2_FLPM) == SIOV_FLPM_5LVL ? 5 : 4;
    uint64_t slptptr = pe[0] & SIOV_PTE0_SLPTPTR, flptptr = pe[2] & SIOV_PTE2_FLPTPTR;
    d->nested = pgtt == SIOV_PGTT_NESTED;
    d->sl_root = slptptr;
    d->sl_levels = sl_levels;
    if (pgtt == SIOV_PGTT_PT)
        out(d, "  pass-through: output address = input address\n");
    else if (pgtt == SIOV_PGTT_SL)
        paging(d, "second level", slptptr, false, sl_levels, iova);
    else if (pgtt == SIOV_PGTT_FL)
        paging(d, "first level", flptptr, true, fl_levels, iova);
    else if (pgtt == SIOV_PGTT_NESTED) {
        paging(d, "nested: first level (guest addresses)", flptptr, true, fl_levels, iova);
        paging(d, "nested: second level", slptptr, false, sl_levels, NULL);
    } else
        out(d, "  PGTT %u is reserved: no paging structure\n", pgtt);
}

static void scalable(struct dump *d, uint64_t rta, siov_sid sid, uint32_t pasid, const uint64_t *iova)
{
    uint64_t re[2], ce[4], pde, pe[8];
    unsigned devfn = SIOV_SID_DEVFN(sid);
    char what[64];
    snprintf(what, sizeof(what), "root entry [bus %02x]", SIOV_SID_BUS(sid));
    if (!show(d, what, rta + SIOV_SID_BUS(sid) * SIOV_ROOT_ENTRY_SIZE, "root", re))
        return;
    uint64_t half = devfn >= 128 ? re[1] : re[0];
    if (!(half & SIOV_SRE0_LP)) {
        out(d, "  the %s half is not present\n", devfn >= 128 ? "upper" : "lower");
        return;
    }
    snprintf(what, sizeof(what), "context entry [devfn %02x.%x]", devfn >> 3, devfn & 7);
    if (!show(d, what, (half & SIOV_SRE0_LCTP) + (devfn & 0x7F) * SIOV_SM_CTX_ENTRY_SIZE, "context", ce))
        return;
    if (!(ce[0] & SIOV_SCE0_P))
        return (void)out(d, "  context entry not present\n");
    if (pasid == SIOV_NO_PASID) {
        pasid = (uint32_t)siov_get(ce[1], SIOV_SCE1_RID_PASID);
        out(d, "  a request without PASID uses RID_PASID %u\n", pasid);
    }
    snprintf(what, sizeof(what), "PASID directory entry [0x%x]", pasid >> 6);
    if (!show(d, what, (ce[0] & SIOV_SCE0_PASIDDIRPTR) + (pasid >> 6) * SIOV_PDE_SIZE, "pasid-dir", &pde))
        return;
    if (!(pde & SIOV_PDE_P))
        return (void)out(d, "  PASID directory entry not present\n");
    snprintf(what, sizeof(what), "PASID-table entry [pasid %u]", pasid);
    if (!show(d, what, (pde & SIOV_PDE_SMPTBLPTR) + (pasid & 0x3F) * SIOV_PTE_SIZE, "pasid", pe))
        return;
    if (!(pe[0] & SIOV_PTE0_P))
        return (void)out(d, "  PASID-table entry not present\n");
    pasid_paging(d, pe, iova);
}

/* ----------------------------------------------------------- legacy mode */
static void legacy(struct dump *d, uint64_t rta, siov_sid sid, const uint64_t *iova)
{
    uint64_t re[2], ce[2];
    char what[64];
    snprintf(what, sizeof(what), "root entry [bus %02x]", SIOV_SID_BUS(sid));
    if (!show(d, what, rta + SIOV_SID_BUS(sid) * SIOV_ROOT_ENTRY_SIZE, "legacy-root", re))
        return;
    if (!(re[0] & SIOV_RE0_P))
        return (void)out(d, "  root entry not present\n");
    snprintf(what, sizeof(what), "context entry [devfn %02x.%x]", SIOV_SID_DEVFN(sid) >> 3, sid & 7);
    if (!show(d, what, (re[0] & SIOV_RE0_CTP) + SIOV_SID_DEVFN(sid) * SIOV_CTX_ENTRY_SIZE, "legacy-context", ce))
        return;
    if (!(ce[0] & SIOV_CE0_P))
        return (void)out(d, "  context entry not present\n");
    if (siov_get(ce[0], SIOV_CE0_TT) == SIOV_TT_PASS_THROUGH)
        return (void)out(d, "  pass-through: output address = input address\n");
    d->nested = false;
    paging(d, "second level", ce[0] & SIOV_CE0_SLPTPTR, false, siov_aw_levels((unsigned)siov_get(ce[1], SIOV_CE1_AW)),
           iova);
}

/* The words after sid and PASID: [IOVA] [--dot [FILE]]. */
struct dump_args {
    bool have_iova, dot;
    uint64_t iova;
    const char *file;
};

static int dump_args(struct sim *s, const struct sim_args *a, struct dump_args *o)
{
    for (unsigned i = 0; i < a->nrest; i++) {
        const struct sim_tok *t = &a->rest[i];
        if (sim_tok_is(t, "--dot") || sim_tok_is(t, "dot"))
            o->dot = true;
        else if (o->dot && !o->file && t->kind != TOK_EQ && t->kind != TOK_OP)
            o->file = t->text;
        else if (!o->have_iova && !o->dot && sim_parse_num(s, t, &o->iova) == 0)
            o->have_iova = true;
        else
            return s->err[0] ? -1 : sim_error(s, "unexpected '%s' (usage: dump SID [PASID] [IOVA] [--dot [FILE]])",
                                              t->text);
    }
    return 0;
}

/* dump ... --dot [FILE]: the Graphviz graph to FILE or the output. */
static int dump_dot(struct sim *s, siov_sid sid, uint32_t pasid, const struct dump_args *o)
{
    FILE *f = o->file ? fopen(o->file, "w") : s->out;
    if (!f)
        return sim_error(s, "cannot write %s: %s", o->file, strerror(errno));
    int rc = (s->quiet && !o->file) ? 0 : sim_dump_dot(s, f, sid, pasid, o->have_iova ? &o->iova : NULL);
    if (o->file && fclose(f) && rc == 0)
        rc = sim_error(s, "writing %s failed", o->file);
    return rc;
}

int sim_cmd_dump(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    struct dump_args o = {0};
    if (!u || dump_args(s, a, &o) < 0)
        return -1;
    if (sim_tok_is(a->v[0].tok, "irte")) {
        if (!o.have_iova || a->v[1].set || o.dot)
            return sim_error(s, "dump irte takes one interrupt index: dump irte INDEX");
        return sim_dump_irte(s, o.iova, r);
    }
    struct dump d = {.s = s};
    siov_sid dsid;
    if (sim_parse_sid(s, a->v[0].tok, &dsid) < 0)
        return -1;
    if (o.dot)
        return dump_dot(s, dsid, a->v[1].pasid, &o);
    uint64_t rtaddr = siov_mmio_read(u, SIOV_REG_RTADDR, 8), gsts = siov_mmio_read(u, SIOV_REG_GSTS, 4);
    unsigned ttm = (unsigned)siov_get(rtaddr, SIOV_RTADDR_TTM);
    static const char *const modes[] = {"legacy", "scalable", "reserved", "abort-dma"};
    char sid[16], pasid[24], action[80];
    snprintf(action, sizeof(action), "dump %s %s", sim_fmt_sid(dsid, sid), sim_fmt_pasid(a->v[1].pasid, pasid));
    if (o.have_iova)
        snprintf(action + strlen(action), sizeof(action) - strlen(action), " 0x%llx", (unsigned long long)o.iova);
    sim_act(s, action, NULL);
    out(&d, "RTADDR 0x%llx: root table 0x%llx, %s mode; translation %s\n", (unsigned long long)rtaddr,
        (unsigned long long)(rtaddr & SIOV_RTADDR_RTA), modes[ttm], (gsts & SIOV_GSTS_TES) ? "enabled" : "disabled");
    const uint64_t *iova = o.have_iova ? &o.iova : NULL;
    if (ttm == SIOV_TTM_SCALABLE)
        scalable(&d, rtaddr & SIOV_RTADDR_RTA, dsid, a->v[1].pasid, iova);
    else if (ttm == SIOV_TTM_LEGACY && a->v[1].pasid == SIOV_NO_PASID)
        legacy(&d, rtaddr & SIOV_RTADDR_RTA, dsid, iova);
    else if (ttm == SIOV_TTM_LEGACY)
        out(&d, "  legacy mode has no PASID tables (a request with PASID faults RTA.2)\n");
    else
        out(&d, "  no tables are used in this mode\n");
    return 0;
}

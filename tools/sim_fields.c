/* siov-sim: VT-d entries and invalidation descriptors as named fields. One
   table per structure, built from the format.h masks, serves both 'entry'
   and 'inv' (encode) and 'dump'/'decode' (decode). */
#include <string.h>

#include "sim.h"

#define END {NULL, 0, 0, FLD_NUM, NULL}

static const struct sim_enum tt_names[] = {
    {"sl", SIOV_TT_SL}, {"sl-dt", SIOV_TT_SL_DT}, {"pt", SIOV_TT_PASS_THROUGH}, {"reserved", SIOV_TT_RESERVED}, {NULL, 0}};
static const struct sim_enum aw_names[] = {
    {"3-level", SIOV_AW_3LVL}, {"4-level", SIOV_AW_4LVL}, {"5-level", SIOV_AW_5LVL}, {NULL, 0}};
static const struct sim_enum pgtt_names[] = {
    {"fl", SIOV_PGTT_FL}, {"sl", SIOV_PGTT_SL}, {"nested", SIOV_PGTT_NESTED}, {"pt", SIOV_PGTT_PT}, {NULL, 0}};
static const struct sim_enum flpm_names[] = {{"4-level", SIOV_FLPM_4LVL}, {"5-level", SIOV_FLPM_5LVL}, {NULL, 0}};
static const struct sim_enum cc_g_names[] = {
    {"global", SIOV_INV_GRAN_GLOBAL}, {"domain", SIOV_INV_GRAN_DOMAIN}, {"device", SIOV_INV_GRAN_DEVICE}, {NULL, 0}};
static const struct sim_enum iotlb_g_names[] = {
    {"global", SIOV_INV_GRAN_GLOBAL}, {"domain", SIOV_INV_GRAN_DOMAIN}, {"page", SIOV_INV_GRAN_PAGE}, {NULL, 0}};
static const struct sim_enum piotlb_g_names[] = {
    {"pasid", SIOV_PIOTLB_GRAN_PASID}, {"page", SIOV_PIOTLB_GRAN_PAGE}, {NULL, 0}};
static const struct sim_enum dlm_names[] = {
    {"fixed", SIOV_DLM_FIXED}, {"lowest", SIOV_DLM_LOWEST}, {"smi", SIOV_DLM_SMI}, {"nmi", SIOV_DLM_NMI},
    {"init", SIOV_DLM_INIT}, {"extint", SIOV_DLM_EXTINT}, {NULL, 0}};
static const struct sim_enum svt_names[] = {
    {"none", SIOV_SVT_NONE}, {"rid", SIOV_SVT_RID}, {"bus", SIOV_SVT_BUS}, {NULL, 0}};
static const struct sim_enum pc_g_names[] = {
    {"domain", SIOV_PC_GRAN_DOMAIN}, {"pasid", SIOV_PC_GRAN_PASID}, {"global", SIOV_PC_GRAN_GLOBAL}, {NULL, 0}};

/* ------------------------------------------------------- table entries */
static const struct sim_field root_f[] = {
    {"lp", 0, SIOV_SRE0_LP, FLD_NUM, NULL}, {"lctp", 0, SIOV_SRE0_LCTP, FLD_ADDR, NULL},
    {"up", 1, SIOV_SRE1_UP, FLD_NUM, NULL}, {"uctp", 1, SIOV_SRE1_UCTP, FLD_ADDR, NULL}, END};
static const struct sim_field lroot_f[] = {
    {"p", 0, SIOV_RE0_P, FLD_NUM, NULL}, {"ctp", 0, SIOV_RE0_CTP, FLD_ADDR, NULL}, END};
static const struct sim_field ctx_f[] = {
    {"p", 0, SIOV_SCE0_P, FLD_NUM, NULL},           {"fpd", 0, SIOV_SCE0_FPD, FLD_NUM, NULL},
    {"dte", 0, SIOV_SCE0_DTE, FLD_NUM, NULL},       {"paside", 0, SIOV_SCE0_PASIDE, FLD_NUM, NULL},
    {"pre", 0, SIOV_SCE0_PRE, FLD_NUM, NULL},       {"pdts", 0, SIOV_SCE0_PDTS, FLD_NUM, NULL},
    {"pasiddirptr", 0, SIOV_SCE0_PASIDDIRPTR, FLD_ADDR, NULL},
    {"rid_pasid", 1, SIOV_SCE1_RID_PASID, FLD_NUM, NULL}, {"rid_priv", 1, SIOV_SCE1_RID_PRIV, FLD_NUM, NULL}, END};
static const struct sim_field lctx_f[] = {
    {"p", 0, SIOV_CE0_P, FLD_NUM, NULL},   {"fpd", 0, SIOV_CE0_FPD, FLD_NUM, NULL},
    {"tt", 0, SIOV_CE0_TT, FLD_ENUM, tt_names}, {"slptptr", 0, SIOV_CE0_SLPTPTR, FLD_ADDR, NULL},
    {"aw", 1, SIOV_CE1_AW, FLD_ENUM, aw_names}, {"did", 1, SIOV_CE1_DID, FLD_NUM, NULL}, END};
static const struct sim_field pdir_f[] = {
    {"p", 0, SIOV_PDE_P, FLD_NUM, NULL}, {"fpd", 0, SIOV_PDE_FPD, FLD_NUM, NULL},
    {"smptblptr", 0, SIOV_PDE_SMPTBLPTR, FLD_ADDR, NULL}, END};
static const struct sim_field pasid_f[] = {
    {"p", 0, SIOV_PTE0_P, FLD_NUM, NULL},         {"fpd", 0, SIOV_PTE0_FPD, FLD_NUM, NULL},
    {"aw", 0, SIOV_PTE0_AW, FLD_ENUM, aw_names},  {"slee", 0, SIOV_PTE0_SLEE, FLD_NUM, NULL},
    {"pgtt", 0, SIOV_PTE0_PGTT, FLD_ENUM, pgtt_names}, {"slade", 0, SIOV_PTE0_SLADE, FLD_NUM, NULL},
    {"slptptr", 0, SIOV_PTE0_SLPTPTR, FLD_ADDR, NULL},
    {"did", 1, SIOV_PTE1_DID, FLD_NUM, NULL},     {"pwsnp", 1, SIOV_PTE1_PWSNP, FLD_NUM, NULL},
    {"pgsnp", 1, SIOV_PTE1_PGSNP, FLD_NUM, NULL}, {"cd", 1, SIOV_PTE1_CD, FLD_NUM, NULL},
    {"emte", 1, SIOV_PTE1_EMTE, FLD_NUM, NULL},   {"emt", 1, SIOV_PTE1_EMT, FLD_NUM, NULL},
    {"pwt", 1, SIOV_PTE1_PWT, FLD_NUM, NULL},     {"pcd", 1, SIOV_PTE1_PCD, FLD_NUM, NULL},
    {"pat", 1, SIOV_PTE1_PAT, FLD_NUM, NULL},
    {"sre", 2, SIOV_PTE2_SRE, FLD_NUM, NULL},     {"ere", 2, SIOV_PTE2_ERE, FLD_NUM, NULL},
    {"flpm", 2, SIOV_PTE2_FLPM, FLD_ENUM, flpm_names}, {"wpe", 2, SIOV_PTE2_WPE, FLD_NUM, NULL},
    {"nxe", 2, SIOV_PTE2_NXE, FLD_NUM, NULL},     {"smep", 2, SIOV_PTE2_SMEP, FLD_NUM, NULL},
    {"eafe", 2, SIOV_PTE2_EAFE, FLD_NUM, NULL},   {"flptptr", 2, SIOV_PTE2_FLPTPTR, FLD_ADDR, NULL}, END};
static const struct sim_field sl_f[] = {
    {"r", 0, SIOV_SL_R, FLD_NUM, NULL},     {"w", 0, SIOV_SL_W, FLD_NUM, NULL},
    {"x", 0, SIOV_SL_X, FLD_NUM, NULL},     {"emt", 0, SIOV_SL_EMT, FLD_NUM, NULL},
    {"ipat", 0, SIOV_SL_IPAT, FLD_NUM, NULL}, {"ps", 0, SIOV_SL_PS, FLD_NUM, NULL},
    {"a", 0, SIOV_SL_A, FLD_NUM, NULL},     {"d", 0, SIOV_SL_D, FLD_NUM, NULL},
    {"snp", 0, SIOV_SL_SNP, FLD_NUM, NULL}, {"addr", 0, SIOV_SL_ADDR, FLD_ADDR, NULL},
    {"tm", 0, SIOV_SL_TM, FLD_NUM, NULL}, END};
static const struct sim_field fl_f[] = {
    {"p", 0, SIOV_FL_P, FLD_NUM, NULL},     {"rw", 0, SIOV_FL_RW, FLD_NUM, NULL},
    {"us", 0, SIOV_FL_US, FLD_NUM, NULL},   {"pwt", 0, SIOV_FL_PWT, FLD_NUM, NULL},
    {"pcd", 0, SIOV_FL_PCD, FLD_NUM, NULL}, {"a", 0, SIOV_FL_A, FLD_NUM, NULL},
    {"d", 0, SIOV_FL_D, FLD_NUM, NULL},     {"ps", 0, SIOV_FL_PS, FLD_NUM, NULL},
    {"g", 0, SIOV_FL_G, FLD_NUM, NULL},     {"ea", 0, SIOV_FL_EA, FLD_NUM, NULL},
    {"addr", 0, SIOV_FL_ADDR, FLD_ADDR, NULL}, {"xd", 0, SIOV_FL_XD, FLD_NUM, NULL}, END};

/* Interrupt remapping table entry (remapped and posted formats) and the
   posted-interrupt descriptor. The posted format's descriptor address is
   split as the entry holds it: pdal = address bits 31:6, pdah = bits 63:32. */
static const struct sim_field irte_f[] = {
    {"p", 0, SIOV_IRTE0_P, FLD_NUM, NULL},     {"fpd", 0, SIOV_IRTE0_FPD, FLD_NUM, NULL},
    {"dm", 0, SIOV_IRTE0_DM, FLD_NUM, NULL},   {"rh", 0, SIOV_IRTE0_RH, FLD_NUM, NULL},
    {"tm", 0, SIOV_IRTE0_TM, FLD_NUM, NULL},   {"dlm", 0, SIOV_IRTE0_DLM, FLD_ENUM, dlm_names},
    {"avail", 0, SIOV_IRTE0_AVAIL, FLD_NUM, NULL}, {"im", 0, SIOV_IRTE0_IM, FLD_NUM, NULL},
    {"v", 0, SIOV_IRTE0_V, FLD_NUM, NULL},     {"dst", 0, SIOV_IRTE0_DST, FLD_NUM, NULL},
    {"sid", 1, SIOV_IRTE1_SID, FLD_SID, NULL}, {"sq", 1, SIOV_IRTE1_SQ, FLD_NUM, NULL},
    {"svt", 1, SIOV_IRTE1_SVT, FLD_ENUM, svt_names}, END};
static const struct sim_field irte_posted_f[] = {
    {"p", 0, SIOV_IRTE0_P, FLD_NUM, NULL},     {"fpd", 0, SIOV_IRTE0_FPD, FLD_NUM, NULL},
    {"avail", 0, SIOV_IRTE0_AVAIL, FLD_NUM, NULL}, {"urg", 0, SIOV_IRTE0_URG, FLD_NUM, NULL},
    {"im", 0, SIOV_IRTE0_IM, FLD_NUM, NULL},   {"vv", 0, SIOV_IRTE0_V, FLD_NUM, NULL},
    {"pdal", 0, SIOV_IRTE0_PDAL, FLD_NUM, NULL},
    {"sid", 1, SIOV_IRTE1_SID, FLD_SID, NULL}, {"sq", 1, SIOV_IRTE1_SQ, FLD_NUM, NULL},
    {"svt", 1, SIOV_IRTE1_SVT, FLD_ENUM, svt_names}, {"pdah", 1, SIOV_IRTE1_PDAH, FLD_NUM, NULL}, END};
static const struct sim_field pid_f[] = {
    {"pir0", 0, ~0ull, FLD_NUM, NULL},         {"pir1", 1, ~0ull, FLD_NUM, NULL},
    {"pir2", 2, ~0ull, FLD_NUM, NULL},         {"pir3", 3, ~0ull, FLD_NUM, NULL},
    {"on", 4, SIOV_PID4_ON, FLD_NUM, NULL},    {"sn", 4, SIOV_PID4_SN, FLD_NUM, NULL},
    {"nv", 4, SIOV_PID4_NV, FLD_NUM, NULL},    {"ndst", 4, SIOV_PID4_NDST, FLD_NUM, NULL}, END};

/* ------------------------------------------------ invalidation descriptors */
static const struct sim_field cc_f[] = {
    {"g", 0, SIOV_CC0_G, FLD_ENUM, cc_g_names}, {"did", 0, SIOV_CC0_DID, FLD_NUM, NULL},
    {"sid", 0, SIOV_CC0_SID, FLD_SID, NULL},     {"fm", 0, SIOV_CC0_FM, FLD_NUM, NULL}, END};
static const struct sim_field iotlb_f[] = {
    {"g", 0, SIOV_IOTLB0_G, FLD_ENUM, iotlb_g_names}, {"dw", 0, SIOV_IOTLB0_DW, FLD_NUM, NULL},
    {"dr", 0, SIOV_IOTLB0_DR, FLD_NUM, NULL},  {"did", 0, SIOV_IOTLB0_DID, FLD_NUM, NULL},
    {"am", 1, SIOV_INV1_AM, FLD_NUM, NULL},    {"ih", 1, SIOV_INV1_IH, FLD_NUM, NULL},
    {"addr", 1, SIOV_INV1_ADDR, FLD_ADDR, NULL}, END};
static const struct sim_field devtlb_f[] = {
    {"pfsid_lo", 0, SIOV_DTLB0_PFSID_LO, FLD_NUM, NULL}, {"mip", 0, SIOV_DTLB0_MIP, FLD_NUM, NULL},
    {"sid", 0, SIOV_DTLB0_SID, FLD_SID, NULL},  {"pfsid_hi", 0, SIOV_DTLB0_PFSID_HI, FLD_NUM, NULL},
    {"s", 1, SIOV_DTLB1_S, FLD_NUM, NULL},      {"addr", 1, SIOV_DTLB1_ADDR, FLD_ADDR, NULL}, END};
static const struct sim_field iec_f[] = {
    {"g", 0, SIOV_IEC0_G, FLD_NUM, NULL}, {"im", 0, SIOV_IEC0_IM, FLD_NUM, NULL},
    {"iidx", 0, SIOV_IEC0_IIDX, FLD_NUM, NULL}, END};
static const struct sim_field wait_f[] = {
    {"if", 0, SIOV_WAIT0_IF, FLD_NUM, NULL},   {"sw", 0, SIOV_WAIT0_SW, FLD_NUM, NULL},
    {"fn", 0, SIOV_WAIT0_FN, FLD_NUM, NULL},   {"pd", 0, SIOV_WAIT0_PD, FLD_NUM, NULL},
    {"sdata", 0, SIOV_WAIT0_SDATA, FLD_NUM, NULL}, {"saddr", 1, SIOV_WAIT1_SADDR, FLD_ADDR, NULL}, END};
static const struct sim_field piotlb_f[] = {
    {"g", 0, SIOV_PIOTLB0_G, FLD_ENUM, piotlb_g_names}, {"did", 0, SIOV_PIOTLB0_DID, FLD_NUM, NULL},
    {"pasid", 0, SIOV_PIOTLB0_PASID, FLD_NUM, NULL}, {"am", 1, SIOV_INV1_AM, FLD_NUM, NULL},
    {"ih", 1, SIOV_INV1_IH, FLD_NUM, NULL},     {"addr", 1, SIOV_INV1_ADDR, FLD_ADDR, NULL}, END};
static const struct sim_field pc_f[] = {
    {"g", 0, SIOV_PC0_G, FLD_ENUM, pc_g_names}, {"did", 0, SIOV_PC0_DID, FLD_NUM, NULL},
    {"pasid", 0, SIOV_PC0_PASID, FLD_NUM, NULL}, END};
static const struct sim_field pdevtlb_f[] = {
    {"mip", 0, SIOV_PDTLB0_MIP, FLD_NUM, NULL},  {"pfsid_lo", 0, SIOV_PDTLB0_PFSID_LO, FLD_NUM, NULL},
    {"sid", 0, SIOV_PDTLB0_SID, FLD_SID, NULL},  {"pasid", 0, SIOV_PDTLB0_PASID, FLD_NUM, NULL},
    {"pfsid_hi", 0, SIOV_PDTLB0_PFSID_HI, FLD_NUM, NULL}, {"g", 1, SIOV_PDTLB1_G, FLD_NUM, NULL},
    {"s", 1, SIOV_PDTLB1_S, FLD_NUM, NULL},      {"addr", 1, SIOV_PDTLB1_ADDR, FLD_ADDR, NULL}, END};
static const struct sim_field pgrsp_f[] = {
    {"pp", 0, SIOV_PGRSP0_PP, FLD_NUM, NULL},   {"rc", 0, SIOV_PGRSP0_RC, FLD_NUM, NULL},
    {"rid", 0, SIOV_PGRSP0_RID, FLD_SID, NULL}, {"pasid", 0, SIOV_PGRSP0_PASID, FLD_NUM, NULL},
    {"ign", 1, SIOV_PGRSP1_IGN, FLD_NUM, NULL}, {"prgi", 1, SIOV_PGRSP1_PRGI, FLD_NUM, NULL}, END};
/* the page request descriptor the unit writes into the page request queue */
static const struct sim_field prq_f[] = {
    {"type", 0, SIOV_PRQ0_TYPE, FLD_NUM, NULL}, {"pp", 0, SIOV_PRQ0_PP, FLD_NUM, NULL},
    {"rid", 0, SIOV_PRQ0_RID, FLD_SID, NULL},   {"pasid", 0, SIOV_PRQ0_PASID, FLD_NUM, NULL},
    {"exr", 0, SIOV_PRQ0_EXR, FLD_NUM, NULL},   {"pmr", 0, SIOV_PRQ0_PMR, FLD_NUM, NULL},
    {"rdr", 1, SIOV_PRQ1_RDR, FLD_NUM, NULL},   {"wrr", 1, SIOV_PRQ1_WRR, FLD_NUM, NULL},
    {"lpig", 1, SIOV_PRQ1_LPIG, FLD_NUM, NULL}, {"prgi", 1, SIOV_PRQ1_PRGI, FLD_NUM, NULL},
    {"addr", 1, SIOV_PRQ1_ADDR, FLD_ADDR, NULL}, END};
static const struct sim_field raw_f[] = {END};

/* A layout, and for descriptors the type written into qw0. */
struct layout_row {
    struct sim_layout lay;
    unsigned dsc_type;
};
static const struct layout_row layouts[] = {
    {{"root", 2, root_f}, 0},           {{"legacy-root", 2, lroot_f}, 0},
    {{"context", 4, ctx_f}, 0},         {{"legacy-context", 2, lctx_f}, 0},
    {{"pasid-dir", 1, pdir_f}, 0},      {{"pasid", 8, pasid_f}, 0},
    {{"sl", 1, sl_f}, 0},               {{"fl", 1, fl_f}, 0},
    {{"irte", 2, irte_f}, 0},           {{"irte-posted", 2, irte_posted_f}, 0},
    {{"pid", 8, pid_f}, 0},
    {{"cc", 2, cc_f}, SIOV_DSC_CC},     {{"iotlb", 2, iotlb_f}, SIOV_DSC_IOTLB},
    {{"devtlb", 2, devtlb_f}, SIOV_DSC_DEVTLB}, {{"iec", 2, iec_f}, SIOV_DSC_IEC},
    {{"wait", 2, wait_f}, SIOV_DSC_WAIT}, {{"piotlb", 2, piotlb_f}, SIOV_DSC_PIOTLB},
    {{"pc", 2, pc_f}, SIOV_DSC_PC},     {{"pdevtlb", 2, pdevtlb_f}, SIOV_DSC_PDEVTLB},
    {{"pgrsp", 2, pgrsp_f}, SIOV_DSC_PGRP_RESP}, {{"prq", 4, prq_f}, 0},
    {{"raw", 4, raw_f}, 0},
};

const struct sim_layout *sim_layout_find(const char *name)
{
    for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++)
        if (strcmp(layouts[i].lay.name, name) == 0)
            return &layouts[i].lay;
    return NULL;
}

static unsigned dsc_type_of(const struct sim_layout *lay)
{
    return ((const struct layout_row *)(const void *)lay)->dsc_type;
}

const char *sim_enum_name(const struct sim_enum *e, uint64_t value)
{
    for (; e && e->name; e++)
        if (e->value == value)
            return e->name;
    return NULL;
}

static const struct sim_field *field_find(const struct sim_layout *lay, const char *name)
{
    for (const struct sim_field *f = lay->fields; f->name; f++)
        if (strcmp(f->name, name) == 0)
            return f;
    return NULL;
}

/* The value of field f from token v, checked to fit. */
static int field_value(struct sim *s, const struct sim_field *f, const struct sim_tok *v, uint64_t *out)
{
    if (f->kind == FLD_SID) {
        siov_sid sid;
        if (sim_parse_sid(s, v, &sid) < 0)
            return -1;
        return *out = sid, 0;
    }
    for (const struct sim_enum *e = f->names; e && e->name; e++)
        if (sim_tok_is(v, e->name))
            return *out = e->value, 0;
    if (sim_parse_num(s, v, out) < 0)
        return -1;
    uint64_t room = f->kind == FLD_ADDR ? f->mask : f->mask >> __builtin_ctzll(f->mask);
    if (*out & ~room)
        return sim_error(s, "%s=%s does not fit the field%s", f->name, v->text,
                         f->kind == FLD_ADDR ? " (an address with the low bits clear)" : "");
    return 0;
}

/* qwN=bits: bits OR-ed into qword N, for bits no field names (reserved bits). */
static int raw_qword(struct sim *s, const struct sim_layout *lay, const struct sim_tok *k,
                     const struct sim_tok *v, uint64_t *qw)
{
    unsigned n = (unsigned)(k->text[2] - '0');
    uint64_t bits;
    if (k->len != 3 || n >= lay->qwords)
        return sim_error(s, "%s has no %s (it has qw0..qw%u)", lay->name, k->text, lay->qwords - 1);
    if (sim_parse_num(s, v, &bits) < 0)
        return -1;
    qw[n] |= bits;
    return 0;
}

int sim_fields_encode(struct sim *s, const struct sim_layout *lay, const struct sim_args *a, uint64_t *qw)
{
    memset(qw, 0, lay->qwords * sizeof(uint64_t));
    unsigned i = 0;
    const struct sim_tok *k, *v;
    int more;
    while ((more = sim_kv_next(s, a, &i, &k, &v)) > 0) {
        const struct sim_field *f = field_find(lay, k->text);
        uint64_t val;
        if (!f && strncmp(k->text, "qw", 2) == 0) {
            if (raw_qword(s, lay, k, v, qw) < 0)
                return -1;
            continue;
        }
        if (!f)
            return sim_error(s, "%s has no field '%s'", lay->name, k->text);
        if (field_value(s, f, v, &val) < 0)
            return -1;
        qw[f->qw] = f->kind == FLD_ADDR ? (qw[f->qw] & ~f->mask) | val : siov_set(qw[f->qw], f->mask, val);
    }
    if (dsc_type_of(lay))
        qw[0] = (qw[0] & ~(SIOV_DSC0_TYPE_LO | SIOV_DSC0_TYPE_HI)) | siov_dsc_make_type(dsc_type_of(lay));
    return more;
}

static size_t field_text(const struct sim_field *f, uint64_t raw, char *buf, size_t len)
{
    uint64_t v = f->kind == FLD_ADDR ? raw & f->mask : siov_get(raw, f->mask);
    const char *en = f->kind == FLD_ENUM ? sim_enum_name(f->names, v) : NULL;
    char sid[16];
    if (en)
        return (size_t)snprintf(buf, len, " %s=%s", f->name, en);
    if (f->kind == FLD_SID)
        return (size_t)snprintf(buf, len, " %s=%s", f->name, sim_fmt_sid((siov_sid)v, sid));
    if (f->kind == FLD_ADDR || v >= 10)
        return (size_t)snprintf(buf, len, " %s=0x%llx", f->name, (unsigned long long)v);
    return (size_t)snprintf(buf, len, " %s=%llu", f->name, (unsigned long long)v);
}

void sim_fields_decode(const struct sim_layout *lay, const uint64_t *qw, bool all, char *buf, size_t len)
{
    uint64_t known[8] = {0};
    size_t o = 0;
    buf[0] = '\0';
    for (const struct sim_field *f = lay->fields; f->name && o < len; f++) {
        known[f->qw] |= f->mask;
        if (all || (qw[f->qw] & f->mask))
            o += field_text(f, qw[f->qw], buf + o, len - o);
    }
    if (dsc_type_of(lay))
        known[0] |= SIOV_DSC0_TYPE_LO | SIOV_DSC0_TYPE_HI;
    for (unsigned q = 0; q < lay->qwords && o < len; q++)
        if (qw[q] & ~known[q])
            o += (size_t)snprintf(buf + o, len - o, " qw%u=0x%llx", q,
                                  (unsigned long long)(qw[q] & ~known[q]));
    if (o == 0)
        snprintf(buf, len, SIM_ALL_ZERO);
}

/* siov-sim: hardware-level commands — the unit's configuration, guest
   memory, registers, and VT-d entries written from named fields. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

/* ---------------------------------------------------------- configuration */
struct cfg_field {
    const char *name;
    bool is_bool;
    size_t off;
};
#define CFG_U(f) {#f, false, offsetof(struct siov_iommu_config, f)}
#define CFG_B(f) {#f, true, offsetof(struct siov_iommu_config, f)}
static const struct cfg_field cfg_fields[] = {
    CFG_U(mgaw),          CFG_U(sagaw),          CFG_U(pasid_bits),  CFG_B(first_level),
    CFG_B(second_level),  CFG_B(nested),         CFG_B(pass_through), CFG_B(fl_5level),
    CFG_B(fl_1g),         CFG_U(sl_large),       CFG_U(iotlb_entries), CFG_U(fault_records),
    CFG_U(haw),           CFG_U(domain_bits),    CFG_U(version),     CFG_B(scalable),
    CFG_B(sl_ad),         CFG_B(supervisor_req), CFG_B(exec_req),    CFG_B(dev_tlb),
    CFG_B(abort_dma),     CFG_B(rid_pasid),      CFG_B(caching_mode), CFG_B(stale_check),
    CFG_B(irq_remapping), CFG_B(x2apic),         CFG_B(posted_interrupts), CFG_B(esirtps),
    CFG_B(x2apic_only),   CFG_B(irq_remap_required), CFG_B(nwfs),   CFG_B(page_requests),
    CFG_U(iotlb_ways),    CFG_U(iotlb_policy),  CFG_B(psi),
};

static const struct cfg_field *cfg_find(const char *name)
{
    for (size_t i = 0; i < sizeof(cfg_fields) / sizeof(cfg_fields[0]); i++)
        if (strcmp(cfg_fields[i].name, name) == 0)
            return &cfg_fields[i];
    return NULL;
}

static int cfg_set(struct sim *s, const struct cfg_field *f, const struct sim_tok *v)
{
    char *base = (char *)&s->cfg + f->off;
    if (f->is_bool) {
        bool b;
        if (sim_parse_bool(s, v, &b) < 0)
            return -1;
        memcpy(base, &b, sizeof(b));
        return 0;
    }
    uint64_t n;
    if (sim_parse_num(s, v, &n) < 0)
        return -1;
    if (n > 0xFFFFFFFFu)
        return sim_error(s, "%s=%s is too large", f->name, v->text);
    unsigned u = (unsigned)n;
    memcpy(base, &u, sizeof(u));
    return 0;
}

int sim_cmd_config(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    if (s->iommu)
        return sim_error(s, "config must come before the unit is created (line %u created it)", s->iommu_line);
    if (a->nrest == 0)
        return sim_error(s, "config needs key=value pairs (fields: mgaw sagaw pasid_bits first_level ...)");
    unsigned i = 0;
    const struct sim_tok *k, *v;
    int more;
    while ((more = sim_kv_next(s, a, &i, &k, &v)) > 0) {
        const struct cfg_field *f = cfg_find(k->text);
        if (!f)
            return sim_error(s, "unknown config field '%s' (see docs/siov-sim.md for the list)", k->text);
        if (cfg_set(s, f, v) < 0)
            return -1;
    }
    return more;
}

int sim_cmd_memory(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    if (s->mem)
        return sim_error(s, "memory must come before guest memory is first used");
    if (a->v[0].num < SIOV_PAGE_SIZE || a->v[0].num % SIOV_PAGE_SIZE)
        return sim_error(s, "memory size must be a nonzero multiple of 4K");
    bool cb = a->v[1].set && sim_tok_is(a->v[1].tok, "callback");
    if (a->v[1].set && !cb && !sim_tok_is(a->v[1].tok, "flat"))
        return sim_error(s, "memory backend must be 'flat' or 'callback', not '%s'", a->v[1].tok->text);
    s->mem_size = a->v[0].num;
    s->mem_callback = cb;
    return sim_mem(s) ? 0 : -1;
}

int sim_cmd_iommu(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)a;
    (void)r;
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    uint64_t cap = siov_mmio_read(u, SIOV_REG_CAP, 8), ecap = siov_mmio_read(u, SIOV_REG_ECAP, 8);
    char bits[512];
    sim_act(s, "iommu", "VER 0x%llx", (unsigned long long)siov_mmio_read(u, SIOV_REG_VER, 4));
    sim_reg_decode("CAP", cap, bits, sizeof(bits));
    sim_note(s, "  CAP  0x%016llx%s", (unsigned long long)cap, bits);
    sim_reg_decode("ECAP", ecap, bits, sizeof(bits));
    sim_note(s, "  ECAP 0x%016llx%s", (unsigned long long)ecap, bits);
    return 0;
}

/* -------------------------------------------------------------- registers */
struct reg_name {
    const char *name;
    uint16_t off;
    uint8_t width;
};
static const struct reg_name reg_names[] = {
    {"VER", SIOV_REG_VER, 4},       {"CAP", SIOV_REG_CAP, 8},         {"ECAP", SIOV_REG_ECAP, 8},
    {"GCMD", SIOV_REG_GCMD, 4},     {"GSTS", SIOV_REG_GSTS, 4},       {"RTADDR", SIOV_REG_RTADDR, 8},
    {"CCMD", SIOV_REG_CCMD, 8},     {"FSTS", SIOV_REG_FSTS, 4},       {"FECTL", SIOV_REG_FECTL, 4},
    {"FEDATA", SIOV_REG_FEDATA, 4}, {"FEADDR", SIOV_REG_FEADDR, 4},   {"FEUADDR", SIOV_REG_FEUADDR, 4},
    {"AFLOG", SIOV_REG_AFLOG, 8},   {"PMEN", SIOV_REG_PMEN, 4},       {"PLMBASE", SIOV_REG_PLMBASE, 4},
    {"PLMLIMIT", SIOV_REG_PLMLIMIT, 4}, {"PHMBASE", SIOV_REG_PHMBASE, 8}, {"PHMLIMIT", SIOV_REG_PHMLIMIT, 8},
    {"IQH", SIOV_REG_IQH, 8},       {"IQT", SIOV_REG_IQT, 8},         {"IQA", SIOV_REG_IQA, 8},
    {"ICS", SIOV_REG_ICS, 4},       {"IECTL", SIOV_REG_IECTL, 4},     {"IEDATA", SIOV_REG_IEDATA, 4},
    {"IEADDR", SIOV_REG_IEADDR, 4}, {"IEUADDR", SIOV_REG_IEUADDR, 4}, {"IQERCD", SIOV_REG_IQERCD, 8},
    {"IRTA", SIOV_REG_IRTA, 8},     {"IVA", SIOV_REG_IVA, 8},         {"IOTLB", SIOV_REG_IOTLB, 8},
    {"PQH", SIOV_REG_PQH, 8},       {"PQT", SIOV_REG_PQT, 8},         {"PQA", SIOV_REG_PQA, 8},
    {"PRS", SIOV_REG_PRS, 4},       {"PECTL", SIOV_REG_PECTL, 4},     {"PEDATA", SIOV_REG_PEDATA, 4},
    {"PEADDR", SIOV_REG_PEADDR, 4}, {"PEUADDR", SIOV_REG_PEUADDR, 4},
};

/* FRCD<i>.lo / FRCD<i>.hi: the two qwords of fault recording register i. */
static bool frcd_name(const char *name, uint64_t *off)
{
    char half[4];
    unsigned i;
    int n = 0;
    if (sscanf(name, "FRCD%u.%3[a-z]%n", &i, half, &n) != 2 || name[n] || i > 255)
        return false;
    if (strcmp(half, "lo") && strcmp(half, "hi"))
        return false;
    *off = SIOV_REG_FRCD + (uint64_t)i * SIOV_FRCD_SIZE + (half[0] == 'h' ? 8 : 0);
    return true;
}

/* Offset and access size of a register named by a word (and an optional size). */
static int reg_lookup(struct sim *s, const struct sim_val *name, const struct sim_val *size, uint64_t *off,
                      unsigned *width, const char **label)
{
    *width = 0;
    *label = name->tok->text;
    for (size_t i = 0; i < sizeof(reg_names) / sizeof(reg_names[0]); i++)
        if (strcasecmp(reg_names[i].name, name->tok->text) == 0)
            *off = reg_names[i].off, *width = reg_names[i].width, *label = reg_names[i].name;
    if (!*width && frcd_name(name->tok->text, off))
        *width = 8;
    if (!*width) {
        if (sim_parse_num(s, name->tok, off) < 0)
            return sim_error(s, "'%s' is not a register name (GSTS, RTADDR, FSTS, FRCD0.lo, ...) or offset",
                             name->tok->text);
        *width = 4;
        for (size_t i = 0; i < sizeof(reg_names) / sizeof(reg_names[0]); i++)
            if (reg_names[i].off == *off)
                *width = reg_names[i].width, *label = reg_names[i].name;
    }
    if (size->set && size->num != 4 && size->num != 8)
        return sim_error(s, "register access size must be 4 or 8");
    if (size->set)
        *width = (unsigned)size->num;
    if (*off >= SIOV_REG_FILE_SIZE || *off % *width)
        return sim_error(s, "register offset 0x%llx is outside the register file or not aligned to %u",
                         (unsigned long long)*off, *width);
    return 0;
}

/* ------------------------------------------------------- decoding */
/* One bit (a flag) or field of a register, by its spec name. */
struct reg_bit {
    const char *name;
    uint64_t mask;
};
#define FLAG_OR_FIELD(mask) ((mask) & ((mask) - 1)) /* nonzero: a field of several bits */
static const struct reg_bit gsts_bits[] = {
    {"TES", SIOV_GSTS_TES}, {"RTPS", SIOV_GSTS_RTPS}, {"FLS", SIOV_GSTS_FLS}, {"AFLS", SIOV_GSTS_AFLS},
    {"WBFS", SIOV_GSTS_WBFS}, {"QIES", SIOV_GSTS_QIES}, {"IRES", SIOV_GSTS_IRES}, {"IRTPS", SIOV_GSTS_IRTPS},
    {"CFIS", SIOV_GSTS_CFIS}, {NULL, 0}};
static const struct reg_bit fsts_bits[] = {
    {"PFO", SIOV_FSTS_PFO}, {"PPF", SIOV_FSTS_PPF}, {"AFO", SIOV_FSTS_AFO}, {"APF", SIOV_FSTS_APF},
    {"IQE", SIOV_FSTS_IQE}, {"ICE", SIOV_FSTS_ICE}, {"ITE", SIOV_FSTS_ITE}, {"FRI", SIOV_FSTS_FRI}, {NULL, 0}};
static const struct reg_bit cap_bits[] = {
    {"ND", SIOV_CAP_ND}, {"AFL", SIOV_CAP_AFL}, {"RWBF", SIOV_CAP_RWBF}, {"PLMR", SIOV_CAP_PLMR},
    {"PHMR", SIOV_CAP_PHMR}, {"CM", SIOV_CAP_CM}, {"SAGAW", SIOV_CAP_SAGAW}, {"MGAW", SIOV_CAP_MGAW},
    {"ZLR", SIOV_CAP_ZLR}, {"FRO", SIOV_CAP_FRO}, {"SLLPS", SIOV_CAP_SLLPS}, {"PSI", SIOV_CAP_PSI},
    {"NFR", SIOV_CAP_NFR}, {"MAMV", SIOV_CAP_MAMV}, {"DWD", SIOV_CAP_DWD}, {"DRD", SIOV_CAP_DRD},
    {"FL1GP", SIOV_CAP_FL1GP}, {"PI", SIOV_CAP_PI}, {"FL5LP", SIOV_CAP_FL5LP}, {"ECMDS", SIOV_CAP_ECMDS},
    {"ESIRTPS", SIOV_CAP_ESIRTPS}, {"ESRTPS", SIOV_CAP_ESRTPS}, {NULL, 0}};
static const struct reg_bit ecap_bits[] = {
    {"C", SIOV_ECAP_C}, {"QI", SIOV_ECAP_QI}, {"DT", SIOV_ECAP_DT}, {"IR", SIOV_ECAP_IR}, {"EIM", SIOV_ECAP_EIM},
    {"PT", SIOV_ECAP_PT}, {"SC", SIOV_ECAP_SC}, {"IRO", SIOV_ECAP_IRO}, {"MHMV", SIOV_ECAP_MHMV},
    {"MTS", SIOV_ECAP_MTS}, {"NEST", SIOV_ECAP_NEST}, {"PRS", SIOV_ECAP_PRS}, {"ERS", SIOV_ECAP_ERS},
    {"SRS", SIOV_ECAP_SRS}, {"NWFS", SIOV_ECAP_NWFS}, {"EAFS", SIOV_ECAP_EAFS}, {"PSS", SIOV_ECAP_PSS},
    {"PASID", SIOV_ECAP_PASID}, {"DIT", SIOV_ECAP_DIT}, {"PDS", SIOV_ECAP_PDS}, {"SMTS", SIOV_ECAP_SMTS},
    {"VCS", SIOV_ECAP_VCS}, {"SLADS", SIOV_ECAP_SLADS}, {"SLTS", SIOV_ECAP_SLTS}, {"FLTS", SIOV_ECAP_FLTS},
    {"SMPWCS", SIOV_ECAP_SMPWCS}, {"RPS", SIOV_ECAP_RPS}, {"PMS", SIOV_ECAP_PMS}, {"ADMS", SIOV_ECAP_ADMS},
    {"RPRIVS", SIOV_ECAP_RPRIVS}, {"SMS", SIOV_ECAP_SMS}, {NULL, 0}};
static const struct reg_bit prs_bits[] = {{"PPR", SIOV_PRS_PPR}, {"PRO", SIOV_PRS_PRO}, {NULL, 0}};
static const struct reg_bit ectl_bits[] = {{"IM", SIOV_ECTL_IM}, {"IP", SIOV_ECTL_IP}, {NULL, 0}};

void sim_reg_decode(const char *reg, uint64_t v, char *buf, size_t len)
{
    static const struct {
        const char *name;
        const struct reg_bit *bits;
    } regs[] = {{"GSTS", gsts_bits}, {"GCMD", gsts_bits}, {"FSTS", fsts_bits}, {"CAP", cap_bits},
                {"ECAP", ecap_bits}, {"PRS", prs_bits},   {"PECTL", ectl_bits}, {"FECTL", ectl_bits},
                {"IECTL", ectl_bits}};
    const struct reg_bit *b = NULL;
    char names[400] = "";
    size_t o = 0;
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        if (strcmp(regs[i].name, reg) == 0)
            b = regs[i].bits;
    for (; b && b->name && o < sizeof(names); b++) {
        uint64_t f = siov_get(v, b->mask);
        bool field = FLAG_OR_FIELD(b->mask) != 0;
        if (!field && f)
            o += (size_t)snprintf(names + o, sizeof(names) - o, " %s", b->name);
        else if (field && (strcmp(b->name, "FRI") != 0 || (v & SIOV_FSTS_PPF))) /* FRI means nothing without PPF */
            o += (size_t)snprintf(names + o, sizeof(names) - o, f > 9 ? " %s=0x%llx" : " %s=%llu", b->name,
                                  (unsigned long long)f);
    }
    if (o)
        snprintf(buf, len, " (%s)", names + 1);
    else if (len)
        buf[0] = '\0';
}

int sim_cmd_reg(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    uint64_t off;
    unsigned width;
    const char *label;
    struct siov_iommu *u = sim_iommu(s);
    if (!u || reg_lookup(s, &a->v[0], &a->v[1], &off, &width, &label) < 0)
        return -1;
    r->kind = RES_NUM;
    r->num = siov_mmio_read(u, off, width);
    char flags[512], action[64];
    sim_reg_decode(label, r->num, flags, sizeof(flags));
    snprintf(action, sizeof(action), "reg %s%s", label, a->v[1].set ? (width == 8 ? " 8" : " 4") : "");
    sim_act(s, action, "0x%0*llx%s", (int)width * 2, (unsigned long long)r->num, flags);
    return 0;
}

int sim_cmd_reg_write(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    uint64_t off;
    unsigned width;
    const char *label;
    struct siov_iommu *u = sim_iommu(s);
    if (!u || reg_lookup(s, &a->v[0], &a->v[2], &off, &width, &label) < 0)
        return -1;
    if (width == 4 && a->v[1].num > 0xFFFFFFFFu)
        return sim_error(s, "value 0x%llx does not fit a 4-byte write", (unsigned long long)a->v[1].num);
    siov_mmio_write(u, off, a->v[1].num, width);
    char action[96], gsts[96];
    snprintf(action, sizeof(action), "reg-write %s 0x%0*llx%s", label, (int)width * 2, (unsigned long long)a->v[1].num,
             a->v[2].set ? (width == 8 ? " 8" : " 4") : "");
    uint64_t g = siov_mmio_read(u, SIOV_REG_GSTS, 4);
    sim_reg_decode("GSTS", g, gsts, sizeof(gsts));
    if (strcmp(label, "GCMD") == 0) /* what the command did */
        sim_act(s, action, "GSTS 0x%08llx%s", (unsigned long long)g, gsts);
    else
        sim_act(s, action, "OK");
    return 0;
}

/* GCMD bits: enables persist from GSTS (spec 10.4.4); one-shot commands do not. */
static const struct sim_enum gcmd_bits[] = {
    {"te", SIOV_GCMD_TE},   {"srtp", SIOV_GCMD_SRTP}, {"sfl", SIOV_GCMD_SFL},   {"eafl", SIOV_GCMD_EAFL},
    {"wbf", SIOV_GCMD_WBF}, {"qie", SIOV_GCMD_QIE},   {"ire", SIOV_GCMD_IRE},   {"sirtp", SIOV_GCMD_SIRTP},
    {"cfi", SIOV_GCMD_CFI}, {NULL, 0}};
#define GCMD_PERSIST (SIOV_GCMD_TE | SIOV_GCMD_QIE | SIOV_GCMD_IRE | SIOV_GCMD_CFI | SIOV_GCMD_EAFL)

int sim_cmd_gcmd(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    uint64_t cmd = siov_mmio_read(u, SIOV_REG_GSTS, 4) & GCMD_PERSIST;
    unsigned i = 0;
    const struct sim_tok *k, *v;
    int more;
    char action[160] = "gcmd";
    size_t o = 4;
    while ((more = sim_kv_next(s, a, &i, &k, &v)) > 0) {
        const struct sim_enum *b = gcmd_bits;
        while (b->name && strcmp(b->name, k->text) != 0)
            b++;
        bool on;
        if (!b->name)
            return sim_error(s, "unknown GCMD bit '%s' (te srtp sfl eafl wbf qie ire sirtp cfi)", k->text);
        if (sim_parse_bool(s, v, &on) < 0)
            return -1;
        cmd = on ? cmd | b->value : cmd & ~b->value;
        if (o < sizeof(action))
            o += (size_t)snprintf(action + o, sizeof(action) - o, " %s=%d", b->name, on);
    }
    if (more < 0)
        return -1;
    siov_mmio_write(u, SIOV_REG_GCMD, cmd, 4);
    uint64_t g = siov_mmio_read(u, SIOV_REG_GSTS, 4);
    char bits[2][96];
    sim_reg_decode("GCMD", cmd, bits[0], sizeof(bits[0]));
    sim_reg_decode("GSTS", g, bits[1], sizeof(bits[1]));
    sim_act(s, action, "GCMD 0x%08llx%s, GSTS 0x%08llx%s", (unsigned long long)cmd, bits[0], (unsigned long long)g,
            bits[1]);
    return 0;
}

/* ---------------------------------------------------------- guest memory */
static int mem_io(struct sim *s, uint64_t gpa, void *buf, size_t len, bool write)
{
    struct siov_mem *m = sim_mem(s);
    if (!m)
        return -1;
    int rc = write ? siov_mem_write(m, gpa, buf, len) : siov_mem_read(m, gpa, buf, len);
    if (rc < 0)
        return sim_error(s, "guest memory [0x%llx, +%zu) is not accessible (%s)", (unsigned long long)gpa, len,
                         sim_errno_name(rc));
    return 0;
}

int sim_cmd_read64(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    uint64_t v;
    if (mem_io(s, a->v[0].num, &v, 8, false) < 0)
        return -1;
    r->kind = RES_NUM;
    r->num = v;
    char action[48];
    snprintf(action, sizeof(action), "read64 0x%llx", (unsigned long long)a->v[0].num);
    sim_act(s, action, "0x%016llx", (unsigned long long)v);
    return 0;
}

int sim_cmd_write64(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    uint64_t v = a->v[1].num;
    if (mem_io(s, a->v[0].num, &v, 8, true) < 0)
        return -1;
    char action[64];
    snprintf(action, sizeof(action), "write64 0x%llx 0x%016llx", (unsigned long long)a->v[0].num,
             (unsigned long long)v);
    sim_act(s, action, "OK");
    return 0;
}

void sim_hexdump(struct sim *s, uint64_t addr, const uint8_t *b, size_t len)
{
    for (size_t i = 0; i < len; i += 16) {
        char line[96];
        size_t o = (size_t)snprintf(line, sizeof(line), "  %08llx:", (unsigned long long)(addr + i));
        for (size_t j = i; j < i + 16 && j < len; j++)
            o += (size_t)snprintf(line + o, sizeof(line) - o, " %02x", b[j]);
        o += (size_t)snprintf(line + o, sizeof(line) - o, "%*s  |", (int)(3 * (i + 16 > len ? i + 16 - len : 0)), "");
        for (size_t j = i; j < i + 16 && j < len; j++)
            line[o++] = b[j] >= 0x20 && b[j] < 0x7F ? (char)b[j] : '.';
        snprintf(line + o, sizeof(line) - o, "|");
        sim_note(s, "%s", line);
    }
}

int sim_cmd_read(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    size_t len = (size_t)a->v[1].num;
    if (a->v[1].num == 0 || a->v[1].num > SIM_MAX_BYTES)
        return sim_error(s, "read length must be 1..%u", SIM_MAX_BYTES);
    uint8_t *b = malloc(len);
    if (!b)
        return sim_error(s, "out of memory");
    if (mem_io(s, a->v[0].num, b, len, false) < 0)
        return free(b), -1;
    r->kind = RES_BYTES, r->bytes = b, r->len = len;
    char action[64];
    snprintf(action, sizeof(action), "read 0x%llx %zu", (unsigned long long)a->v[0].num, len);
    sim_act(s, action, "OK:");
    sim_hexdump(s, a->v[0].num, b, len);
    return 0;
}

int sim_cmd_write(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    const struct sim_tok *t = a->v[1].tok;
    if (mem_io(s, a->v[0].num, (void *)(uintptr_t)t->text, t->len, true) < 0)
        return -1;
    char *q = sim_quote((const uint8_t *)t->text, t->len), *action = q ? malloc(strlen(q) + 32) : NULL;
    if (action) {
        sprintf(action, "write 0x%llx %s", (unsigned long long)a->v[0].num, q);
        sim_act(s, action, "OK (%zu bytes)", t->len);
    }
    free(action);
    free(q);
    return action ? 0 : sim_error(s, "out of memory");
}

int sim_cmd_fill(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    if (a->v[1].num > SIM_MAX_BYTES || a->v[2].num > 0xFF)
        return sim_error(s, "fill takes a length up to %u and a byte value 0..0xff", SIM_MAX_BYTES);
    size_t len = (size_t)a->v[1].num;
    uint8_t *b = malloc(len ? len : 1);
    if (!b)
        return sim_error(s, "out of memory");
    memset(b, (int)a->v[2].num, len);
    int rc = mem_io(s, a->v[0].num, b, len, true);
    free(b);
    char action[64];
    snprintf(action, sizeof(action), "fill 0x%llx %zu 0x%02llx", (unsigned long long)a->v[0].num, len,
             (unsigned long long)a->v[2].num);
    if (rc == 0)
        sim_act(s, action, "OK");
    return rc;
}

int sim_cmd_mem_fail(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    static const struct sim_enum which[] = {{"read", SIOV_MEM_FAIL_READ}, {"write", SIOV_MEM_FAIL_WRITE},
                                            {"rw", SIOV_MEM_FAIL_READ | SIOV_MEM_FAIL_WRITE}, {"off", 0},
                                            {NULL, 0}};
    const struct sim_enum *w = which;
    while (w->name && !sim_tok_is(a->v[2].tok, w->name))
        w++;
    if (!w->name)
        return sim_error(s, "mem-fail takes read, write, rw or off, not '%s'", a->v[2].tok->text);
    struct siov_mem *m = sim_mem(s);
    if (!m)
        return -1;
    if (siov_mem_fail_range(m, a->v[0].num, w->value ? a->v[1].num : 0, w->value) < 0)
        return sim_error(s, "mem-fail needs the flat memory backend");
    char action[80];
    snprintf(action, sizeof(action), "mem-fail 0x%llx 0x%llx %s", (unsigned long long)a->v[0].num,
             (unsigned long long)a->v[1].num, w->name);
    sim_act(s, action, "OK");
    return 0;
}

/* ------------------------------------------------------------ entries */
static const struct sim_layout *entry_layout(struct sim *s, const struct sim_tok *t)
{
    const struct sim_layout *lay = sim_layout_find(t->text);
    if (!lay)
        sim_error(s, "unknown entry layout '%s' (root legacy-root context legacy-context pasid-dir pasid sl fl)",
                  t->text);
    return lay;
}

int sim_cmd_entry(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    uint64_t qw[8];
    const struct sim_layout *lay = entry_layout(s, a->v[0].tok);
    if (!lay || sim_fields_encode(s, lay, a, qw) < 0)
        return -1;
    if (mem_io(s, a->v[1].num, qw, lay->qwords * 8, true) < 0)
        return -1;
    char text[512], action[600];
    sim_fields_decode(lay, qw, false, text, sizeof(text));
    snprintf(action, sizeof(action), "entry %s 0x%llx%s", lay->name, (unsigned long long)a->v[1].num,
             strcmp(text, SIM_ALL_ZERO) ? text : "");
    sim_act(s, action, "OK");
    return 0;
}

int sim_cmd_decode(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    uint64_t qw[8];
    const struct sim_layout *lay = entry_layout(s, a->v[0].tok);
    if (!lay || mem_io(s, a->v[1].num, qw, lay->qwords * 8, false) < 0)
        return -1;
    char text[512], action[64];
    sim_fields_decode(lay, qw, true, text, sizeof(text));
    snprintf(action, sizeof(action), "decode %s 0x%llx", lay->name, (unsigned long long)a->v[1].num);
    sim_act(s, action, "%s", text + (text[0] == ' '));
    r->kind = RES_NUM;
    r->num = qw[0];
    return 0;
}

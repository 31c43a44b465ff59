/* siov-sim: interrupts — a message written by a device ('interrupt'), the
   reference driver's interrupts for a device or an ADI ('irq-alloc',
   'irq-free', 'irq-affinity'), and 'dump irte', one interrupt remapping
   table entry decoded from guest memory. */
#include <string.h>

#include "sim.h"

static const char *const dlm_names[8] = {"fixed", "lowest-priority", "SMI", "dlm-3",
                                         "NMI",   "INIT",            "dlm-6", "ExtINT"};

const char *sim_fmt_irq(const struct siov_irq *q, char *buf, size_t len)
{
    if (q->posted && q->notify)
        snprintf(buf, len, "posted vector 0x%x into 0x%llx, notify vector 0x%x to 0x%x", q->vector,
                 (unsigned long long)q->pd_addr, q->nv, q->ndst);
    else if (q->posted)
        snprintf(buf, len, "posted vector 0x%x into 0x%llx, no notification", q->vector,
                 (unsigned long long)q->pd_addr);
    else
        snprintf(buf, len, "vector 0x%x dest 0x%x (%s, %s, %s%s)", q->vector, q->dest,
                 dlm_names[q->delivery_mode & 7], q->level_trigger ? "level" : "edge",
                 q->dest_logical ? "logical" : "physical", q->redirection_hint ? ", RH" : "");
    return buf;
}

/* ------------------------------------------------------------ requests */
int sim_cmd_interrupt(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    uint64_t addr = a->v[1].num, data = a->v[2].set ? a->v[2].num : 0;
    if (data > 0xFFFFFFFFu)
        return sim_error(s, "the message data is a DWORD: 0x%llx is too large", (unsigned long long)data);
    struct siov_irq irq;
    siov_fault f = siov_interrupt(u, a->v[0].sid, addr, (uint32_t)data, &irq);
    char sid[16], what[96], text[128];
    snprintf(what, sizeof(what), "interrupt %s 0x%llx 0x%llx", sim_fmt_sid(a->v[0].sid, sid),
             (unsigned long long)addr, (unsigned long long)data);
    if (f == SIOV_ERR_BUS)
        return sim_error(s, "0x%llx is not in the interrupt range 0xfee00000-0xfeefffff",
                         (unsigned long long)addr);
    if (f != SIOV_OK) {
        r->kind = RES_FAULT, r->fault = f;
        sim_act(s, what, "fault %s: %s", siov_fault_name(f), siov_fault_describe(f));
        return 0;
    }
    r->kind = RES_IRQ, r->irq = irq;
    sim_act(s, what, "%s", sim_fmt_irq(&irq, text, sizeof(text)));
    return 0;
}

/* ------------------------------------------------------------ the driver */
/* A device for an interrupt: a requester id, a device name, or an ADI (a
   domain aux-attached: its IMS message names the parent device). */
static int irq_target(struct sim *s, const struct sim_tok *t, siov_sid *sid)
{
    struct sim_name *n = sim_name_find(s, t->text);
    if (!n || n->kind != NAME_DOMAIN)
        return sim_parse_sid(s, t, sid);
    if (!n->dom)
        return sim_error(s, "domain '%s' was freed", t->text);
    if (!n->dom->aux)
        return sim_error(s, "domain '%s' is not aux-attached: an ADI's interrupt is its parent device's", t->text);
    *sid = n->dom->aux_sid;
    return 0;
}

/* The arguments after the target: DEST VECTOR, or posted PDA VECTOR. */
static int alloc_args(struct sim *s, const struct sim_args *a, bool *posted, uint64_t *where, uint64_t *vector)
{
    const struct sim_tok *t = a->rest;
    *posted = a->nrest == 3 && sim_tok_is(&t[0], "posted");
    if (a->nrest != 2u + *posted)
        return sim_error(s, "irq-alloc NAME = DEVICE|ADI DEST VECTOR, or NAME = DEVICE|ADI posted PDA VECTOR");
    if (sim_parse_num(s, &t[*posted], where) < 0 || sim_parse_num(s, &t[1 + *posted], vector) < 0)
        return -1;
    if (*vector > 0xFF || (!*posted && *where > 0xFFFFFFFFu))
        return sim_error(s, "a vector is 8 bits and a destination 32");
    return 0;
}

int sim_cmd_irq_alloc(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_driver *d = sim_driver(s);
    siov_sid sid;
    bool posted;
    uint64_t where, vector;
    if (!d || irq_target(s, a->v[2].tok, &sid) < 0 || alloc_args(s, a, &posted, &where, &vector) < 0)
        return -1;
    if (sim_name_find(s, a->v[0].tok->text))
        return sim_error(s, "name '%s' is already taken", a->v[0].tok->text);
    struct siov_msi msi;
    int rc = posted ? siov_dev_irq_alloc_posted(d, sid, where, (uint8_t)vector, &msi)
                    : siov_dev_irq_alloc(d, sid, (uint32_t)where, (uint8_t)vector, &msi);
    char sids[16], action[128], why[200];
    sim_errno_result(s, r, rc);
    snprintf(action, sizeof(action), "irq-alloc %s = %s %s0x%llx 0x%llx", a->v[0].tok->text, a->v[2].tok->text,
             posted ? "posted " : "", (unsigned long long)where, (unsigned long long)vector);
    if (rc < 0)
        return sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why))), 0;
    struct sim_name *n = sim_name_add(s, a->v[0].tok, NAME_IRQ);
    if (!n)
        return -1;
    n->sid = sid;
    n->msi = msi;
    sim_act(s, action, "OK (%s, index %u: message 0x%llx data 0x%x)", sim_fmt_sid(sid, sids),
            siov_msi_handle(msi.addr), (unsigned long long)msi.addr, msi.data);
    return 0;
}

static struct sim_name *irq_name(struct sim *s, const struct sim_tok *t)
{
    struct sim_name *n = sim_name_find(s, t->text);
    if (!n || n->kind != NAME_IRQ) {
        sim_error(s, "'%s' is not an interrupt name (irq-alloc NAME = ...)", t->text);
        return NULL;
    }
    return n;
}

int sim_cmd_irq_free(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_driver *d = sim_driver(s);
    struct sim_name *n = d ? irq_name(s, a->v[0].tok) : NULL;
    if (!n)
        return -1;
    int rc = siov_dev_irq_free(d, n->sid, &n->msi);
    char action[64], why[200];
    n->freed |= rc == 0;
    sim_errno_result(s, r, rc);
    snprintf(action, sizeof(action), "irq-free %s", n->name);
    sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
    return 0;
}

int sim_cmd_irq_affinity(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_driver *d = sim_driver(s);
    struct sim_name *n = d ? irq_name(s, a->v[0].tok) : NULL;
    if (!n)
        return -1;
    if (a->v[1].num > 0xFFFFFFFFu || a->v[2].num > 0xFF)
        return sim_error(s, "a vector is 8 bits and a destination 32");
    int rc = siov_dev_irq_set_affinity(d, n->sid, &n->msi, (uint32_t)a->v[1].num, (uint8_t)a->v[2].num);
    char action[96], why[200];
    sim_errno_result(s, r, rc);
    snprintf(action, sizeof(action), "irq-affinity %s 0x%llx 0x%llx", n->name, (unsigned long long)a->v[1].num,
             (unsigned long long)a->v[2].num);
    sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
    return 0;
}

/* ------------------------------------------------------------ dump irte */
static const char *const svt_text[4] = {"no source validation", "requester id", "requester bus range",
                                        "SVT reserved"};

/* The posted-interrupt descriptor at pda: control word and the vectors pending. */
static void dump_pid(struct sim *s, uint64_t pda)
{
    uint64_t pid[8];
    if (siov_mem_read(s->mem, pda, pid, sizeof(pid)) < 0) {
        sim_note(s, "  descriptor @0x%llx: not readable", (unsigned long long)pda);
        return;
    }
    char text[512], vec[256 * 5 + 8] = "";
    size_t o = 0;
    sim_fields_decode(sim_layout_find("pid"), pid, false, text, sizeof(text));
    sim_note(s, "  descriptor @0x%llx:%s", (unsigned long long)pda, text);
    for (unsigned v = 0; v < 256; v++)
        if (pid[v / 64] >> (v % 64) & 1)
            o += (size_t)snprintf(vec + o, sizeof(vec) - o, " 0x%x", v);
    sim_note(s, "  pending vectors:%s", o ? vec : " none");
}

/* What a present entry does, in words. */
static void dump_meaning(struct sim *s, const uint64_t q[2], bool eime)
{
    unsigned svt = (unsigned)siov_get(q[1], SIOV_IRTE1_SVT);
    char sid[16], src[64];
    snprintf(src, sizeof(src), "%s %s (SQ %u)", svt_text[svt], sim_fmt_sid((siov_sid)siov_get(q[1], SIOV_IRTE1_SID), sid),
             (unsigned)siov_get(q[1], SIOV_IRTE1_SQ));
    if (q[0] & SIOV_IRTE0_IM) {
        uint64_t pda = siov_irte_pda(q[0], q[1]);
        sim_note(s, "  posted: vector 0x%x into the descriptor at 0x%llx%s; source: %s",
                 (unsigned)siov_get(q[0], SIOV_IRTE0_V), (unsigned long long)pda,
                 (q[0] & SIOV_IRTE0_URG) ? ", urgent" : "", src);
        dump_pid(s, pda);
        return;
    }
    uint32_t dest = (uint32_t)siov_get(q[0], eime ? SIOV_IRTE0_DST : SIOV_IRTE0_DST_XAPIC);
    sim_note(s, "  remapped: vector 0x%x to APIC 0x%x (%s mode), %s, %s, %s; source: %s",
             (unsigned)siov_get(q[0], SIOV_IRTE0_V), dest, eime ? "x2APIC" : "xAPIC",
             dlm_names[siov_get(q[0], SIOV_IRTE0_DLM)], (q[0] & SIOV_IRTE0_TM) ? "level" : "edge",
             (q[0] & SIOV_IRTE0_DM) ? "logical" : "physical", src);
}

int sim_dump_irte(struct sim *s, uint64_t index, struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    uint64_t irta = siov_mmio_read(u, SIOV_REG_IRTA, 8), q[2];
    uint64_t table = irta & SIOV_IRTA_IRTA, n = siov_irta_entries(irta), gpa = table + index * SIOV_IRTE_SIZE;
    bool eime = irta & SIOV_IRTA_EIME;
    char action[48], text[512];
    snprintf(action, sizeof(action), "dump irte %llu", (unsigned long long)index);
    sim_act(s, action, NULL);
    sim_note(s, "IRTA 0x%llx: table 0x%llx, %llu entries, %s mode; remapping %s", (unsigned long long)irta,
             (unsigned long long)table, (unsigned long long)n, eime ? "x2APIC" : "xAPIC",
             (siov_mmio_read(u, SIOV_REG_GSTS, 4) & SIOV_GSTS_IRES) ? "enabled" : "disabled");
    if (index >= n)
        return sim_note(s, "  index %llu is beyond the table (IR.21)", (unsigned long long)index), 0;
    if (siov_mem_read(s->mem, gpa, q, sizeof(q)) < 0)
        return sim_note(s, "  [0x%llx] not readable: outside guest memory", (unsigned long long)gpa), 0;
    sim_fields_decode(sim_layout_find((q[0] & SIOV_IRTE0_IM) ? "irte-posted" : "irte"), q, false, text, sizeof(text));
    sim_note(s, "IRTE [index %llu] @0x%llx:%s", (unsigned long long)index, (unsigned long long)gpa, text);
    r->kind = RES_NUM, r->num = q[0];
    if (!(q[0] & SIOV_IRTE0_P))
        return sim_note(s, "  not present (IR.22)"), 0;
    dump_meaning(s, q, eime);
    return 0;
}

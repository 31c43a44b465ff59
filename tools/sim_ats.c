/* siov-sim: ATS — enabling it on a device, translation requests and their
   completions, ATCs (device TLBs) translating and doing translated DMA,
   manual device ports whose invalidations a scenario completes by hand, the
   time-out, and the stale checker's reports. ATCs and manual ports hand
   their page responses to sim_prq.c's log. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* ------------------------------------------------------------- helpers */
static const char *status_name(enum siov_ats_status st)
{
    return st == SIOV_ATS_SUCCESS ? "Success" : st == SIOV_ATS_UR ? "UR" : "CA";
}

/* "[0x10000000, +4K)" or "every address". */
static const char *range_text(uint64_t addr, uint64_t size, char buf[64])
{
    char sz[24];
    if (size == UINT64_MAX)
        snprintf(buf, 64, "every address");
    else
        snprintf(buf, 64, "[0x%llx, +%s)", (unsigned long long)addr, sim_fmt_size(size, sz));
    return buf;
}

static struct sim_name *atc_name(struct sim *s, const struct sim_tok *t)
{
    struct sim_name *n = sim_name_find(s, t->text);
    if (!n || n->kind != NAME_ATC) {
        sim_error(s, "'%s' is not an ATC name (create one with 'atc create')", t->text);
        return NULL;
    }
    if (!n->atc) {
        sim_error(s, "ATC '%s' was freed", t->text);
        return NULL;
    }
    return n;
}

void sim_stale_report(void *opaque, const struct siov_stale_report *r)
{
    struct sim *s = opaque;
    char sid[16], pasid[24], cached[48], fresh[48];
    if (r->cached_fault)
        snprintf(cached, sizeof(cached), "%s", siov_fault_name(r->cached_fault));
    else
        snprintf(cached, sizeof(cached), "0x%llx", (unsigned long long)r->cached.addr);
    if (r->fresh_fault)
        snprintf(fresh, sizeof(fresh), "%s", siov_fault_name(r->fresh_fault));
    else
        snprintf(fresh, sizeof(fresh), "0x%llx", (unsigned long long)r->fresh.addr);
    sim_note(s, "stale %s: %s %s 0x%llx answered %s, the tables now say %s",
             (r->caches & SIOV_CACHE_ATC) ? "ATC entry" : "cache entry", sim_fmt_sid(r->sid, sid),
             sim_fmt_pasid(r->pasid, pasid), (unsigned long long)r->iova, cached, fresh);
}

void sim_ats_fini(struct sim *s)
{
    for (unsigned i = 0; i < s->nnames; i++)
        if (s->names[i].kind == NAME_ATC && s->names[i].atc) {
            siov_atc_free(s->names[i].atc);
            s->names[i].atc = NULL;
        }
}

/* ------------------------------------------------ translation requests */
int sim_cmd_enable_ats(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_driver *d = sim_driver(s);
    char sid[16];
    if (!d)
        return -1;
    int rc = siov_dev_enable_ats(d, a->v[0].sid);
    r->kind = RES_ERRNO, r->err = rc;
    char what[48];
    snprintf(what, sizeof(what), "enable-ats %s", sim_fmt_sid(a->v[0].sid, sid));
    sim_act(s, what, "%s", rc ? sim_errno_name(rc) : "OK");
    return 0;
}

int sim_cmd_ats_translate(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    unsigned access = a->v[3].set ? a->v[3].access : 0;
    struct siov_ats_completion c;
    siov_fault f = siov_ats_translate(u, a->v[0].sid, a->v[1].pasid, a->v[2].num, access, &c);
    char sid[16], pasid[24], acc[48], size[24], what[128];
    snprintf(what, sizeof(what), "ats-translate %s %s 0x%llx%s%s", sim_fmt_sid(a->v[0].sid, sid),
             sim_fmt_pasid(a->v[1].pasid, pasid), (unsigned long long)a->v[2].num, access ? " " : "",
             access ? sim_fmt_access(access, acc) : "");
    if (c.status != SIOV_ATS_SUCCESS) {
        sim_act(s, what, "%s, fault %s: %s", status_name(c.status), siov_fault_name(f), siov_fault_describe(f));
        r->kind = RES_FAULT, r->fault = f;
        return 0;
    }
    sim_act(s, what, "Success %s%s%s%s%s 0x%llx (%s range), data 0x%016llx%s%s", c.r ? "R" : "-", c.w ? "W" : "-",
            c.untranslated_only ? " U" : "", c.priv ? " Priv" : "", c.no_snoop ? " N" : "", (unsigned long long)c.addr,
            sim_fmt_size(c.size, size), (unsigned long long)siov_ats_completion_data(&c), f ? ", fault " : "",
            f ? siov_fault_name(f) : "");
    if (f || !(c.r || c.w) || c.untranslated_only)
        r->kind = RES_FAULT, r->fault = f ? f : SIOV_ERR_NOT_PRESENT;
    else
        r->kind = RES_NUM, r->num = c.addr;
    return 0;
}

/* ---------------------------------------------------------------- ATCs */
int sim_cmd_atc_create(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    uint64_t entries = a->v[3].set ? a->v[3].num : 64;
    if (!entries || entries > (1u << 24))
        return sim_error(s, "an ATC holds 1..16M entries");
    sim_prq_release_port(s, a->v[2].sid); /* a page request's listening port gives way */
    struct siov_atc *atc = siov_atc_new(u, a->v[2].sid, (unsigned)entries);
    char sid[16];
    if (!atc)
        return sim_error(s, "atc create failed: %s (a device has one port: an ATC or a manual one)",
                         sim_errno_name(-errno));
    struct sim_name *n = sim_name_add(s, a->v[0].tok, NAME_ATC);
    if (!n) {
        siov_atc_free(atc);
        return -1;
    }
    n->atc = atc;
    n->sid = a->v[2].sid;
    siov_atc_set_page_response(atc, sim_page_response, s);
    char what[96];
    snprintf(what, sizeof(what), "atc create %s = %s %llu", n->name, sim_fmt_sid(n->sid, sid),
             (unsigned long long)entries);
    sim_act(s, what, NULL);
    return 0;
}

int sim_cmd_atc_translate(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct sim_name *n = atc_name(s, a->v[0].tok);
    if (!n)
        return -1;
    unsigned access = a->v[3].set ? a->v[3].access : SIOV_ACCESS_READ;
    struct siov_atc_stats before, after;
    siov_atc_stats(n->atc, &before);
    struct siov_xlate x;
    siov_fault f = siov_atc_translate(n->atc, a->v[1].pasid, a->v[2].num, access, &x);
    siov_atc_stats(n->atc, &after);
    char pasid[24], acc[48], perm[48], size[24], what[128];
    snprintf(what, sizeof(what), "atc translate %s %s 0x%llx %s", n->name, sim_fmt_pasid(a->v[1].pasid, pasid),
             (unsigned long long)a->v[2].num, sim_fmt_access(access, acc));
    const char *how = after.ats_requests != before.ats_requests ? "translation request" : "hit";
    if (f) {
        sim_act(s, what, "%s%s (%s)", f == SIOV_ERR_NOT_PRESENT ? "not present" : "fault ",
                f == SIOV_ERR_NOT_PRESENT ? "" : siov_fault_name(f), how);
        r->kind = RES_FAULT, r->fault = f;
        return 0;
    }
    sim_act(s, what, "0x%llx (%s range, perm %s, %s)", (unsigned long long)x.addr, sim_fmt_size(x.page_size, size),
            sim_fmt_access(x.perm, perm), how);
    r->kind = RES_NUM, r->num = x.addr;
    return 0;
}

/* An ATC DMA of len bytes (buf: filled by a read), with its result line;
   what is the action as the scenario says it. */
static int atc_dma(struct sim *s, const struct sim_args *a, uint8_t *buf, size_t len, bool write, const char *what,
                   struct sim_result *r)
{
    struct sim_name *n = atc_name(s, a->v[0].tok);
    if (!n)
        return -1;
    struct siov_stats before;
    siov_iommu_stats(s->iommu, &before);
    siov_fault f = write ? siov_atc_dma_write(n->atc, a->v[1].pasid, a->v[2].num, buf, len)
                         : siov_atc_dma_read(n->atc, a->v[1].pasid, a->v[2].num, buf, len);
    sim_adi_account(s, n->sid, a->v[1].pasid, &before, len, f);
    if (f) {
        sim_act(s, what, "fault %s: %s", siov_fault_name(f), siov_fault_describe(f));
        r->kind = RES_FAULT, r->fault = f;
        return 0;
    }
    sim_act(s, what, "OK");
    if (!write) {
        sim_hexdump(s, a->v[2].num, buf, len > 64 ? 64 : len);
        r->kind = RES_BYTES, r->bytes = buf, r->len = len;
    } else {
        r->kind = RES_FAULT, r->fault = SIOV_OK;
    }
    return 0;
}

int sim_cmd_atc_dma_read(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    if (a->v[3].num == 0 || a->v[3].num > SIM_MAX_BYTES)
        return sim_error(s, "atc dma-read length must be 1..%u", SIM_MAX_BYTES);
    uint8_t *b = calloc(1, (size_t)a->v[3].num);
    if (!b)
        return sim_error(s, "out of memory");
    char pasid[24], what[128];
    snprintf(what, sizeof(what), "atc dma-read %s %s 0x%llx %llu", a->v[0].tok->text,
             sim_fmt_pasid(a->v[1].pasid, pasid), (unsigned long long)a->v[2].num, (unsigned long long)a->v[3].num);
    int rc = atc_dma(s, a, b, (size_t)a->v[3].num, false, what, r);
    if (r->kind != RES_BYTES)
        free(b);
    return rc;
}

int sim_cmd_atc_dma_write(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    const struct sim_tok *t = a->v[3].tok;
    char pasid[24], *q = sim_quote((const uint8_t *)t->text, t->len);
    size_t len = q ? strlen(q) + strlen(a->v[0].tok->text) + 96 : 0; /* the ATC's name is any word */
    char *what = q ? malloc(len) : NULL;
    if (!what) {
        free(q);
        return sim_error(s, "out of memory");
    }
    snprintf(what, len, "atc dma-write %s %s 0x%llx %s", a->v[0].tok->text, sim_fmt_pasid(a->v[1].pasid, pasid),
             (unsigned long long)a->v[2].num, q);
    int rc = atc_dma(s, a, (uint8_t *)(uintptr_t)t->text, t->len, true, what, r);
    free(what);
    free(q);
    return rc;
}

int sim_cmd_atc_dump(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct sim_name *n = atc_name(s, a->v[0].tok);
    if (!n)
        return -1;
    unsigned total = siov_atc_entries(n->atc, NULL, 0);
    struct siov_atc_entry *e = calloc(total ? total : 1, sizeof(*e));
    if (!e)
        return sim_error(s, "out of memory");
    unsigned got = siov_atc_entries(n->atc, e, total);
    char sid[16], pasid[24], range[64], what[64];
    snprintf(what, sizeof(what), "atc dump %s", n->name);
    sim_act(s, what, "%u translations (device %s)", got, sim_fmt_sid(n->sid, sid));
    for (unsigned i = 0; i < got && i < total; i++)
        sim_note(s, "  %s %s -> 0x%llx %s%s%s (%u page%s probed inline)", sim_fmt_pasid(e[i].pasid, pasid),
                 range_text(e[i].iova, e[i].size, range), (unsigned long long)e[i].addr, e[i].r ? "r" : "-",
                 e[i].w ? "w" : "-", e[i].priv ? " priv" : "", e[i].pages, e[i].pages == 1 ? "" : "s");
    free(e);
    r->kind = RES_NUM, r->num = got;
    return 0;
}

int sim_cmd_atc_stats(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct sim_name *n = atc_name(s, a->v[0].tok);
    if (!n)
        return -1;
    struct siov_atc_stats st;
    siov_atc_stats(n->atc, &st);
    static const char *const names[] = {"hits", "misses", "ats_requests", "invalidations", "entries_dropped"};
    const uint64_t v[] = {st.hits, st.misses, st.ats_requests, st.invalidations, st.entries_dropped};
    for (unsigned i = 0; i < 5; i++) {
        if (a->v[1].set && !sim_tok_is(a->v[1].tok, names[i]))
            continue;
        char what[96];
        snprintf(what, sizeof(what), "atc stats %s %s", n->name, names[i]);
        sim_act(s, what, "%llu", (unsigned long long)v[i]);
        r->kind = RES_NUM, r->num = v[i];
        if (a->v[1].set)
            return 0;
    }
    if (a->v[1].set)
        return sim_error(s, "no ATC counter '%s' (hits misses ats_requests invalidations entries_dropped)",
                         a->v[1].tok->text);
    r->kind = RES_NONE;
    return 0;
}

int sim_cmd_atc_free(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    struct sim_name *n = atc_name(s, a->v[0].tok);
    if (!n)
        return -1;
    siov_atc_free(n->atc);
    n->atc = NULL;
    char what[64];
    snprintf(what, sizeof(what), "atc free %s", n->name);
    sim_act(s, what, NULL);
    return 0;
}

/* --------------------------------------------------------- manual ports */
static struct sim_port *port_find(struct sim *s, siov_sid sid)
{
    for (unsigned i = 0; i < SIM_MAX_PORTS; i++)
        if (s->ports[i].used && s->ports[i].sid == sid)
            return &s->ports[i];
    return NULL;
}

static void port_invalidate(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr, uint64_t size, bool global,
                            unsigned itag)
{
    struct sim_port *p = opaque;
    char id[16], pa[24], range[64];
    if (p->n < SIM_PORT_PENDING)
        p->itag[p->n++] = itag;
    sim_note(p->s, "device %s: device-TLB invalidation itag %u, %s %s (pending until 'complete')",
             sim_fmt_sid(sid, id), itag, global ? "every PASID" : sim_fmt_pasid(pasid, pa),
             range_text(addr, size, range));
}

int sim_cmd_port(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    char sid[16];
    if (!u)
        return -1;
    siov_sid id = a->v[0].sid;
    struct sim_port *p = port_find(s, id);
    int rc;
    if (sim_tok_is(a->v[1].tok, "off")) {
        rc = siov_device_port(u, id, NULL, NULL);
        if (!rc && p)
            p->used = false;
    } else if (sim_tok_is(a->v[1].tok, "manual")) {
        sim_prq_release_port(s, id);
        p = port_find(s, id);
        for (unsigned i = 0; !p && i < SIM_MAX_PORTS; i++)
            if (!s->ports[i].used)
                p = &s->ports[i];
        if (!p)
            return sim_error(s, "at most %d manual ports", SIM_MAX_PORTS);
        static const struct siov_device_ops ops = {port_invalidate, sim_port_page_response};
        *p = (struct sim_port){.s = s, .sid = id};
        rc = siov_device_port(u, id, &ops, p);
        p->used = rc == 0;
    } else {
        return sim_error(s, "port mode is manual or off, not '%s'", a->v[1].tok->text);
    }
    r->kind = RES_ERRNO, r->err = rc;
    char what[64];
    snprintf(what, sizeof(what), "port %s %s", sim_fmt_sid(id, sid), a->v[1].tok->text);
    sim_act(s, what, "%s", rc ? sim_errno_name(rc) : "OK");
    return 0;
}

int sim_cmd_complete(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    char sid[16];
    if (!u)
        return -1;
    struct sim_port *p = port_find(s, a->v[0].sid);
    unsigned todo[SIM_PORT_PENDING], n = 0;
    if (a->v[1].set) {
        todo[n++] = (unsigned)a->v[1].num; /* any value: a wrong one is an invalid completion (ICE) */
        for (unsigned i = 0; p && i < p->n; i++)
            if (p->itag[i] == a->v[1].num) {
                p->itag[i] = p->itag[--p->n];
                break;
            }
    } else if (p) {
        memcpy(todo, p->itag, p->n * sizeof(todo[0]));
        n = p->n;
        p->n = 0;
    }
    for (unsigned i = 0; i < n; i++) {
        char what[48];
        snprintf(what, sizeof(what), "complete %s %u", sim_fmt_sid(a->v[0].sid, sid), todo[i]);
        sim_act(s, what, NULL);
        siov_devtlb_complete(u, a->v[0].sid, todo[i]);
    }
    r->kind = RES_NUM, r->num = n;
    return 0;
}

int sim_cmd_expire(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)a;
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    unsigned n = siov_iommu_devtlb_outstanding(u);
    siov_iommu_expire(u);
    for (unsigned i = 0; i < SIM_MAX_PORTS; i++)
        s->ports[i].n = 0; /* their ITags are free: a late completion would be invalid */
    sim_act(s, "expire", "%u device-TLB invalidation%s timed out, FSTS 0x%llx", n, n == 1 ? "" : "s",
            (unsigned long long)siov_mmio_read(u, SIOV_REG_FSTS, 4));
    r->kind = RES_NUM, r->num = n;
    return 0;
}

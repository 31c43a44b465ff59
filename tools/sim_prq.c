/* siov-sim: page requests — PRI on a device, page requests and stop markers
   as a device sends them, the driver's handler (map on demand, Invalid
   Request or Response Failure, per domain), servicing the queue, and the
   page responses devices receive (logged, and asked for with
   'page-response'). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

/* ----------------------------------------------------------- responses */
static const struct {
    const char *name, *word;
    unsigned code;
} codes[] = {
    {"Success", "success", SIOV_PRQ_SUCCESS},
    {"Invalid Request", "invalid", SIOV_PRQ_INVALID},
    {"Response Failure", "failure", SIOV_PRQ_FAILURE},
};

const char *sim_prq_code_name(unsigned code, char buf[24])
{
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (codes[i].code == code)
            return codes[i].name;
    snprintf(buf, 24, "reserved 0x%x", code);
    return buf;
}

int sim_prq_code_by_name(const char *name, unsigned *code)
{
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
        if (strcasecmp(codes[i].word, name) == 0)
            return *code = codes[i].code, 0;
    return -1;
}

void sim_page_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    struct sim *s = opaque;
    s->resp[s->nresp++ % SIM_MAX_RESP] = (struct sim_resp){sid, pasid, prgi, code};
    sim_adi_answered(s, sid, pasid, code);
    char id[16], pa[24], c[24];
    sim_note(s, "device %s %s: page response, group %u: %s", sim_fmt_sid(sid, id), sim_fmt_pasid(pasid, pa), prgi,
             sim_prq_code_name(code, c));
}

void sim_port_page_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code)
{
    const struct sim_port *p = opaque;
    sim_page_response(p->s, sid, pasid, prgi, code);
}

static const struct siov_device_ops resp_ops = {NULL, sim_port_page_response};

/* Whether the scenario gave sid a port of its own: an ATC or a manual one. */
static bool has_port(struct sim *s, siov_sid sid)
{
    for (unsigned i = 0; i < s->nnames; i++)
        if (s->names[i].kind == NAME_ATC && s->names[i].atc && s->names[i].sid == sid)
            return true;
    for (unsigned i = 0; i < SIM_MAX_PORTS; i++)
        if (s->ports[i].used && s->ports[i].sid == sid)
            return true;
    return false;
}

/* A device without a port hears its answers through one attached now. */
static void ensure_port(struct sim *s, siov_sid sid)
{
    if (has_port(s, sid))
        return;
    for (unsigned i = 0; i < SIM_MAX_PORTS; i++) {
        struct sim_port *p = &s->ports[i];
        if (p->used)
            continue;
        *p = (struct sim_port){.s = s, .sid = sid, .resp_only = true};
        p->used = siov_device_port(s->iommu, sid, &resp_ops, p) == 0;
        return;
    }
    sim_warn(s, "no port left to hear %04x's page responses (at most %d)", sid, SIM_MAX_PORTS);
}

void sim_prq_release_port(struct sim *s, siov_sid sid)
{
    for (unsigned i = 0; i < SIM_MAX_PORTS; i++) {
        struct sim_port *p = &s->ports[i];
        if (p->used && p->resp_only && p->sid == sid && siov_device_port(s->iommu, sid, NULL, NULL) == 0)
            p->used = false;
    }
}

/* ------------------------------------------------------------- PRI */
static int pri_cmd(struct sim *s, const struct sim_args *a, struct sim_result *r, bool enable)
{
    struct siov_driver *d = sim_driver(s);
    if (!d)
        return -1;
    int rc = enable ? siov_dev_enable_pri(d, a->v[0].sid) : siov_dev_disable_pri(d, a->v[0].sid);
    char sid[16], what[48], why[200];
    sim_errno_result(s, r, rc);
    snprintf(what, sizeof(what), "%s %s", enable ? "enable-pri" : "disable-pri", sim_fmt_sid(a->v[0].sid, sid));
    sim_act(s, what, "%s", sim_errno_status(r, why, sizeof(why)));
    return 0;
}

int sim_cmd_enable_pri(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    return pri_cmd(s, a, r, true);
}

int sim_cmd_disable_pri(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    return pri_cmd(s, a, r, false);
}

/* ------------------------------------------------------ page requests */
/* prg=N and last after the access. */
static int request_options(struct sim *s, const struct sim_args *a, struct siov_page_request *req)
{
    for (unsigned i = 0; i < a->nrest;) {
        const struct sim_tok *t = &a->rest[i];
        if (sim_tok_is(t, "last")) {
            req->last = true;
            i++;
            continue;
        }
        uint64_t v;
        if (!sim_tok_is(t, "prg") || i + 2 >= a->nrest || a->rest[i + 1].kind != TOK_EQ)
            return sim_error(s, "expected prg=N or last, found '%s'", t->text);
        if (sim_parse_num(s, &a->rest[i + 2], &v) < 0)
            return -1;
        if (v > 0x1FF)
            return sim_error(s, "prg=%s: a page request group index is 9 bits (0..511)", a->rest[i + 2].text);
        req->prg_index = (uint16_t)v;
        i += 3;
    }
    return 0;
}

/* What became of a request, from the counters around it. */
static void request_outcome(struct sim *s, const char *what, siov_fault f, const struct siov_stats *b,
                            const struct siov_stats *n)
{
    const char *answer = n->prq_resp_unit == b->prq_resp_unit         ? ""
                         : n->prq_resp_success != b->prq_resp_success ? "; the unit answered Success"
                                                                      : "; the unit answered Invalid Request";
    if (f == SIOV_ERR_BUS)
        sim_act(s, what, "not accepted: an unsupported request (no PRI, translation off, a stop marker without "
                         "PASID, or the queue's memory unwritable)%s", answer);
    else if (f)
        sim_act(s, what, "fault %s: %s%s", siov_fault_name(f), siov_fault_describe(f), answer);
    else if (n->prq_queued != b->prq_queued)
        sim_act(s, what, "queued (PQT 0x%llx)", (unsigned long long)siov_mmio_read(s->iommu, SIOV_REG_PQT, 8));
    else
        sim_act(s, what, "dropped: the page request queue is full or overflowed (PRS.PRO)%s", answer);
}

static int send_request(struct sim *s, siov_sid sid, const struct siov_page_request *req, const char *what,
                        struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    ensure_port(s, sid);
    if (!req->stop_marker) /* first: the unit may answer at once */
        sim_adi_page_request(s, sid, req->pasid);
    struct siov_stats b, n;
    siov_iommu_stats(u, &b);
    siov_fault f = siov_page_request(u, sid, req);
    siov_iommu_stats(u, &n);
    request_outcome(s, what, f, &b, &n);
    r->kind = RES_FAULT, r->fault = f;
    return 0;
}

int sim_cmd_page_request(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_page_request req = {a->v[1].pasid, a->v[2].num, a->v[3].access, 0, false, false};
    if (request_options(s, a, &req) < 0)
        return -1;
    char sid[16], pasid[24], acc[48], what[160];
    snprintf(what, sizeof(what), "page-request %s %s 0x%llx %s prg=%u%s", sim_fmt_sid(a->v[0].sid, sid),
             sim_fmt_pasid(req.pasid, pasid), (unsigned long long)req.addr, sim_fmt_access(req.access, acc),
             req.prg_index, req.last ? " last" : "");
    return send_request(s, a->v[0].sid, &req, what, r);
}

int sim_cmd_stop_marker(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_page_request req = {a->v[1].pasid, 0, 0, 0, true, true};
    char sid[16], pasid[24], what[96];
    snprintf(what, sizeof(what), "stop-marker %s %s", sim_fmt_sid(a->v[0].sid, sid), sim_fmt_pasid(req.pasid, pasid));
    return send_request(s, a->v[0].sid, &req, what, r);
}

/* ------------------------------------------------------------ the driver */
static struct sim_name *domain_name_of(struct sim *s, const struct siov_domain *dom)
{
    for (unsigned i = 0; i < s->nnames; i++)
        if (s->names[i].kind == NAME_DOMAIN && s->names[i].dom && s->names[i].dom->dom == dom)
            return &s->names[i];
    return NULL;
}

/* Map req's page on demand: the next page from prq_next, read/write (and
   execute when asked). A page mapped already (a request asked twice) is Success. */
static unsigned map_on_demand(struct sim *s, struct siov_domain *dom, const struct siov_page_request *req,
                              char *how, size_t len)
{
    uint64_t pa;
    if (siov_domain_iova_to_phys(dom, req->addr, &pa) == 0) {
        snprintf(how, len, "mapped already (0x%llx)", (unsigned long long)pa);
        return SIOV_PRQ_SUCCESS;
    }
    unsigned prot = SIOV_PROT_READ | SIOV_PROT_WRITE | ((req->access & SIOV_ACCESS_EXEC) ? SIOV_PROT_EXEC : 0);
    int rc = siov_domain_map(dom, req->addr, s->prq_next, SIOV_PAGE_SIZE, prot);
    if (rc) {
        snprintf(how, len, "map failed: %s: %s", sim_errno_name(rc), siov_driver_last_error(s->drv));
        return SIOV_PRQ_INVALID;
    }
    snprintf(how, len, "mapped to 0x%llx", (unsigned long long)s->prq_next);
    s->prq_next += SIOV_PAGE_SIZE;
    return SIOV_PRQ_SUCCESS;
}

static unsigned handler(void *opaque, struct siov_domain *dom, siov_sid sid, const struct siov_page_request *req)
{
    struct sim *s = opaque;
    struct sim_name *n = domain_name_of(s, dom);
    int mode = n ? n->dom->prq_mode : SIM_PRQ_INVALID;
    char how[200] = "", id[16], pa[24], acc[48], c[24];
    unsigned code = mode == SIM_PRQ_FAIL ? SIOV_PRQ_FAILURE : SIOV_PRQ_INVALID;
    if (mode == SIM_PRQ_MAP)
        code = map_on_demand(s, dom, req, how, sizeof(how));
    sim_note(s, "  handler: %s %s %s 0x%llx %s group %u%s: %s%s%s", n ? n->name : "?", sim_fmt_sid(sid, id),
             sim_fmt_pasid(req->pasid, pa), (unsigned long long)req->addr, sim_fmt_access(req->access, acc),
             req->prg_index, req->last ? " last" : "", how, how[0] ? ", " : "", sim_prq_code_name(code, c));
    return code;
}

int sim_cmd_service_prq(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)a;
    struct siov_driver *d = sim_driver(s);
    if (!d)
        return -1;
    int rc = siov_driver_service_prq(d);
    if (rc < 0) {
        sim_errno_result(s, r, rc);
        return 0;
    }
    sim_act(s, "service-prq", "%d page request%s handled", rc, rc == 1 ? "" : "s");
    r->kind = RES_NUM, r->num = (uint64_t)rc;
    return 0;
}

static const struct sim_enum modes[] = {
    {"map-on-demand", SIM_PRQ_MAP}, {"invalid", SIM_PRQ_INVALID}, {"fail", SIM_PRQ_FAIL}, {NULL, 0}};

int sim_cmd_prq_handler(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_driver *d = sim_driver(s);
    if (!d)
        return -1;
    const struct sim_tok *m = a->v[0].tok;
    if (sim_tok_is(m, "off")) {
        sim_errno_result(s, r, siov_driver_set_prq_handler(d, NULL, NULL));
        sim_act(s, "prq-handler off", "OK (every page request is answered Invalid Request)");
        return 0;
    }
    const struct sim_enum *e = modes;
    while (e->name && !sim_tok_is(m, e->name))
        e++;
    if (!e->name || !a->v[1].set)
        return sim_error(s, "prq-handler map-on-demand|invalid|fail DOMAIN [BASE], or prq-handler off");
    if (a->v[2].set && (a->v[2].num & ~SIOV_PAGE_MASK))
        return sim_error(s, "base 0x%llx is not 4 KiB aligned", (unsigned long long)a->v[2].num);
    a->v[1].dom->prq_mode = (int)e->value;
    if (a->v[2].set)
        s->prq_next = a->v[2].num;
    else if (!s->prq_next)
        s->prq_next = s->mem_size / 2; /* above the driver's pool in the default layout */
    sim_errno_result(s, r, siov_driver_set_prq_handler(d, handler, s));
    char what[96];
    snprintf(what, sizeof(what), "prq-handler %s %s", e->name, a->v[1].name->name);
    if (a->v[2].set)
        snprintf(what + strlen(what), sizeof(what) - strlen(what), " 0x%llx", (unsigned long long)a->v[2].num);
    if (e->value == SIM_PRQ_MAP)
        sim_act(s, what, "OK (pages from 0x%llx)", (unsigned long long)s->prq_next);
    else
        sim_act(s, what, "OK");
    return 0;
}

int sim_cmd_page_response(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    char sid[16], pasid[24], c[24], what[96];
    snprintf(what, sizeof(what), "page-response %s %s %llu", sim_fmt_sid(a->v[0].sid, sid),
             sim_fmt_pasid(a->v[1].pasid, pasid), (unsigned long long)a->v[2].num);
    unsigned kept = s->nresp < SIM_MAX_RESP ? s->nresp : SIM_MAX_RESP;
    for (unsigned k = 0; k < kept; k++) {
        const struct sim_resp *e = &s->resp[(s->nresp - 1 - k) % SIM_MAX_RESP];
        if (e->sid == a->v[0].sid && e->pasid == a->v[1].pasid && e->prgi == a->v[2].num) {
            sim_act(s, what, "%s", sim_prq_code_name(e->code, c));
            r->kind = RES_NUM, r->num = e->code;
            return 0;
        }
    }
    return sim_error(s, "%s %s has received no page response for group %llu", sim_fmt_sid(a->v[0].sid, sid),
                     sim_fmt_pasid(a->v[1].pasid, pasid), (unsigned long long)a->v[2].num);
}

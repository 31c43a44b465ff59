/* siov-sim: the reference driver — its creation, named devices and numbers,
   domains, map/unmap, attach and aux attach. Each command returns the
   driver's errno as its value, so 'expect' can check failures. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/* The driver's errno as the line's value, with its cause when it failed. */
void sim_errno_result(struct sim *s, struct sim_result *r, int rc)
{
    r->kind = RES_ERRNO;
    r->err = rc < 0 ? rc : 0;
    r->why[0] = '\0';
    if (rc < 0 && s->drv)
        snprintf(r->why, sizeof(r->why), "%s", siov_driver_last_error(s->drv));
}

/* "OK", or "EEXIST: [0x0, 0x1000) overlaps ..." for a result comment. */
const char *sim_errno_status(const struct sim_result *r, char *buf, size_t len)
{
    if (r->err == 0)
        return "OK";
    snprintf(buf, len, "%s%s%s", sim_errno_name(r->err), r->why[0] ? ": " : "", r->why);
    return buf;
}

/* A marker of a driver call that succeeded, for the trace being recorded. */
static void marker(struct sim *s, unsigned kind, const struct sim_domain *d, struct siov_trace_rec *rec)
{
    rec->kind = kind;
    rec->domain = d->num;
    sim_trace_marker(s, rec);
}

int sim_cmd_driver(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    uint64_t pool = SIM_DEFAULT_POOL, size = SIM_DEFAULT_POOL_SIZE;
    unsigned i = 0;
    const struct sim_tok *k, *v;
    int more;
    if (s->drv)
        return sim_error(s, "there is already a driver");
    while ((more = sim_kv_next(s, a, &i, &k, &v)) > 0) {
        uint64_t *dst = sim_tok_is(k, "pool") ? &pool : sim_tok_is(k, "size") ? &size : NULL;
        if (!dst)
            return sim_error(s, "driver takes pool=GPA and size=BYTES, not '%s'", k->text);
        if (sim_parse_num(s, v, dst) < 0)
            return -1;
    }
    if (more < 0 || !sim_iommu(s))
        return -1;
    errno = 0;
    s->drv = siov_driver_new(s->iommu, s->mem, pool, size);
    if (!s->drv)
        return sim_error(s, "siov_driver_new failed: %s (pool [0x%llx, +0x%llx) too small or outside memory, no "
                            "invalidation queue, or a unit that does not respond)", sim_errno_name(-errno),
                         (unsigned long long)pool, (unsigned long long)size);
    char action[96], gsts[96];
    uint64_t g = siov_mmio_read(s->iommu, SIOV_REG_GSTS, 4);
    snprintf(action, sizeof(action), "driver pool=0x%llx size=0x%llx", (unsigned long long)pool,
             (unsigned long long)size);
    sim_reg_decode("GSTS", g, gsts, sizeof(gsts));
    sim_act(s, action, "GSTS 0x%08llx%s", (unsigned long long)g, gsts);
    return 0;
}

int sim_cmd_capable(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    static const struct sim_enum caps[] = {
        {"aux", SIOV_CAP_AUX_DOMAIN}, {"fl", SIOV_CAP_FIRST_LEVEL}, {"sl", SIOV_CAP_SECOND_LEVEL},
        {"nested", SIOV_CAP_NESTED}, {"pt", SIOV_CAP_PASS_THROUGH}, {NULL, 0}};
    const struct sim_enum *c = caps;
    while (c->name && !sim_tok_is(a->v[0].tok, c->name))
        c++;
    if (!c->name)
        return sim_error(s, "unknown capability '%s' (aux fl sl nested pt)", a->v[0].tok->text);
    struct siov_driver *d = sim_driver(s);
    if (!d)
        return -1;
    r->kind = RES_NUM;
    r->num = siov_driver_capable(d, (enum siov_cap)c->value);
    char action[32];
    snprintf(action, sizeof(action), "capable %s", c->name);
    sim_act(s, action, "%s", r->num ? "yes" : "no");
    return 0;
}

int sim_cmd_device(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    struct sim_name *n = sim_name_add(s, a->v[0].tok, NAME_DEVICE);
    if (!n)
        return -1;
    n->sid = a->v[2].sid;
    return 0;
}

/* --------------------------------------------------------------- devices */
static int dev_cmd(struct sim *s, const struct sim_args *a, struct sim_result *r, bool enable)
{
    struct siov_driver *d = sim_driver(s);
    char sid[16], action[48], why[200];
    if (!d)
        return -1;
    int rc = enable ? siov_dev_enable_aux(d, a->v[0].sid) : siov_dev_disable_aux(d, a->v[0].sid);
    sim_errno_result(s, r, rc);
    snprintf(action, sizeof(action), "%s %s", enable ? "enable-aux" : "disable-aux", sim_fmt_sid(a->v[0].sid, sid));
    sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
    return 0;
}

int sim_cmd_enable_aux(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    return dev_cmd(s, a, r, true);
}

int sim_cmd_disable_aux(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    return dev_cmd(s, a, r, false);
}

/* --------------------------------------------------------------- domains */
static const struct sim_enum dom_types[] = {
    {"second-level", SIOV_DOMAIN_SECOND_LEVEL}, {"first-level", SIOV_DOMAIN_FIRST_LEVEL},
    {"pass-through", SIOV_DOMAIN_PASS_THROUGH}, {"nested", SIM_DOMAIN_NESTED}, {NULL, 0}};

/* The new siov_domain for a 'domain' line, or NULL with the error set. */
static struct siov_domain *domain_create(struct sim *s, const struct sim_args *a, int type, int *err)
{
    struct siov_driver *d = sim_driver(s);
    if (!d)
        return NULL;
    if (type != SIM_DOMAIN_NESTED && a->v[3].set) {
        sim_error(s, "only a nested domain takes a parent");
        return NULL;
    }
    if (type == SIM_DOMAIN_NESTED && !a->v[3].set) {
        sim_error(s, "a nested domain needs its second-level parent: domain NAME = nested PARENT");
        return NULL;
    }
    errno = 0;
    struct siov_domain *dom = type == SIM_DOMAIN_NESTED ? siov_domain_new_nested(a->v[3].dom->dom)
                                                        : siov_domain_new(d, (enum siov_domain_type)type);
    *err = dom ? 0 : errno ? -errno : -EINVAL; /* the driver sets errno (ENODEV: unsupported) */
    return dom;
}

int sim_cmd_domain(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    const struct sim_enum *t = dom_types;
    while (t->name && !sim_tok_is(a->v[2].tok, t->name))
        t++;
    if (!t->name)
        return sim_error(s, "unknown domain type '%s' (second-level, first-level, pass-through, nested)",
                         a->v[2].tok->text);
    if (sim_name_check(s, a->v[0].tok) < 0)
        return -1;
    struct sim_domain *sd = calloc(1, sizeof(*sd));
    if (!sd)
        return sim_error(s, "out of memory");
    sd->type = (int)t->value;
    sd->parent = a->v[3].set ? a->v[3].dom : NULL;
    int err = 0;
    sd->dom = domain_create(s, a, sd->type, &err);
    struct sim_name *n = sd->dom ? sim_name_add(s, a->v[0].tok, NAME_DOMAIN) : NULL;
    char action[96], why[200];
    snprintf(action, sizeof(action), "domain %s = %s%s%s", a->v[0].tok->text, t->name, sd->parent ? " " : "",
             sd->parent ? a->v[3].name->name : "");
    if (!n) {
        if (sd->dom)
            siov_domain_free(sd->dom);
        free(sd);
        if (!err)
            return -1;
        sim_errno_result(s, r, err);
        sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
        return 0;
    }
    sim_errno_result(s, r, 0);
    n->dom = sd;
    sd->num = ++s->next_dom;
    struct siov_trace_rec m;
    siov_trace_rec_init(&m, SIOV_TRACE_DOMAIN);
    m.dom_type = sd->type == SIM_DOMAIN_NESTED ? SIOV_TRACE_DOM_NESTED : (unsigned)sd->type;
    m.parent = sd->parent ? sd->parent->num : 0;
    marker(s, SIOV_TRACE_DOMAIN, sd, &m);
    sim_act(s, action, "OK (did %d)", siov_domain_did(sd->dom));
    return 0;
}

int sim_cmd_free(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    int rc = siov_domain_free(a->v[0].dom->dom);
    char action[48], why[200];
    sim_errno_result(s, r, rc);
    if (rc == 0) {
        free(a->v[0].dom);
        a->v[0].name->dom = NULL;
    }
    snprintf(action, sizeof(action), "free %s", a->v[0].name->name);
    sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
    return 0;
}

/* A mapping whose output is outside guest memory: allowed (a peer device's
   BAR), but DMA there through siov_dma_* gives a bus error. */
static void warn_outside_memory(struct sim *s, const struct sim_domain *d, uint64_t pa, uint64_t size)
{
    if (d->type == SIM_DOMAIN_NESTED)
        return; /* a nested domain's pa is a guest address its parent translates */
    uint64_t msize = s->mem_size;
    if (pa < msize && size <= msize - pa)
        return;
    sim_warn(s, "pa [0x%llx, 0x%llx) is %s guest memory [0, 0x%llx): translations reach it, DMA through "
                "siov_dma_* there gives a bus error (BUS)",
             (unsigned long long)pa, (unsigned long long)(pa + size), pa >= msize ? "outside" : "partly outside",
             (unsigned long long)msize);
}

int sim_cmd_map(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    unsigned prot = a->v[4].set ? a->v[4].access : SIOV_PROT_READ | SIOV_PROT_WRITE;
    int rc = siov_domain_map(a->v[0].dom->dom, a->v[1].num, a->v[2].num, a->v[3].num, prot);
    char size[24], perm[48], action[160], why[200];
    sim_errno_result(s, r, rc);
    struct siov_trace_rec m;
    siov_trace_rec_init(&m, SIOV_TRACE_MAP);
    m.addr = a->v[1].num, m.pa = a->v[2].num, m.len = a->v[3].num, m.access = prot;
    if (rc == 0)
        marker(s, SIOV_TRACE_MAP, a->v[0].dom, &m);
    snprintf(action, sizeof(action), "map %s 0x%llx 0x%llx %s %s", a->v[0].name->name,
             (unsigned long long)a->v[1].num, (unsigned long long)a->v[2].num, sim_fmt_size(a->v[3].num, size),
             sim_fmt_access(prot, perm));
    sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
    if (rc == 0)
        warn_outside_memory(s, a->v[0].dom, a->v[2].num, a->v[3].num);
    return 0;
}

int sim_cmd_unmap(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    int64_t n = siov_domain_unmap(a->v[0].dom->dom, a->v[1].num, a->v[2].num);
    char size[24], action[128], why[200];
    struct siov_trace_rec m;
    siov_trace_rec_init(&m, SIOV_TRACE_UNMAP);
    m.addr = a->v[1].num, m.len = a->v[2].num;
    if (n > 0)
        marker(s, SIOV_TRACE_UNMAP, a->v[0].dom, &m);
    if (n < 0)
        sim_errno_result(s, r, (int)n);
    else
        r->kind = RES_NUM, r->num = (uint64_t)n;
    snprintf(action, sizeof(action), "unmap %s 0x%llx %s", a->v[0].name->name, (unsigned long long)a->v[1].num,
             sim_fmt_size(a->v[2].num, size));
    if (n < 0)
        sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
    else
        sim_act(s, action, "%lld bytes unmapped", (long long)n);
    return 0;
}

int sim_cmd_iova_to_phys(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    uint64_t pa = 0;
    int rc = siov_domain_iova_to_phys(a->v[0].dom->dom, a->v[1].num, &pa);
    char action[96], why[200];
    if (rc < 0)
        sim_errno_result(s, r, rc);
    else
        r->kind = RES_NUM, r->num = pa;
    snprintf(action, sizeof(action), "iova-to-phys %s 0x%llx", a->v[0].name->name, (unsigned long long)a->v[1].num);
    if (rc < 0)
        sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
    else
        sim_act(s, action, "0x%llx", (unsigned long long)pa);
    return 0;
}

/* --------------------------------------------------------------- attach */
typedef int (*attach_fn)(struct siov_domain *, siov_sid);

static int attach_cmd(struct sim *s, const struct sim_args *a, struct sim_result *r, attach_fn fn, const char *what)
{
    char sid[16], action[96], why[200];
    bool aux = fn == siov_aux_attach || fn == siov_aux_detach;
    int before = siov_aux_pasid(a->v[0].dom->dom); /* aux-detach: the PASID it had */
    int rc = fn(a->v[0].dom->dom, a->v[1].sid);
    sim_errno_result(s, r, rc);
    struct siov_trace_rec m;
    siov_trace_rec_init(&m, 0);
    m.sid = a->v[1].sid;
    m.pasid = !aux ? SIOV_NO_PASID
                   : (uint32_t)(fn == siov_aux_attach ? siov_aux_pasid(a->v[0].dom->dom) : before);
    if (rc == 0)
        marker(s, fn == siov_attach || fn == siov_aux_attach ? SIOV_TRACE_ATTACH : SIOV_TRACE_DETACH,
               a->v[0].dom, &m);
    snprintf(action, sizeof(action), "%s %s %s", what, a->v[0].name->name, sim_fmt_sid(a->v[1].sid, sid));
    int pasid = rc == 0 && fn == siov_aux_attach ? siov_aux_pasid(a->v[0].dom->dom) : -1;
    if (pasid >= 0)
        sim_act(s, action, "OK (pasid %d)", pasid);
    else
        sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
    if (rc == 0 && fn == siov_aux_attach) /* now an ADI of that device: its interrupts name it */
        a->v[0].dom->aux = true, a->v[0].dom->aux_sid = a->v[1].sid;
    return 0;
}

int sim_cmd_attach(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    return attach_cmd(s, a, r, siov_attach, "attach");
}

int sim_cmd_detach(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    return attach_cmd(s, a, r, siov_detach, "detach");
}

int sim_cmd_aux_attach(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    return attach_cmd(s, a, r, siov_aux_attach, "aux-attach");
}

int sim_cmd_aux_detach(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    return attach_cmd(s, a, r, siov_aux_detach, "aux-detach");
}

int sim_cmd_aux_pasid(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    int p = siov_aux_pasid(a->v[0].dom->dom);
    char action[48], why[200];
    if (p < 0)
        sim_errno_result(s, r, p);
    else
        r->kind = RES_NUM, r->num = (uint64_t)p;
    snprintf(action, sizeof(action), "aux-pasid %s", a->v[0].name->name);
    if (p < 0)
        sim_act(s, action, "%s", sim_errno_status(r, why, sizeof(why)));
    else
        sim_act(s, action, "%d", p);
    return 0;
}

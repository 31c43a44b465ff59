/* siov-sim: the command table, argument specs, dispatch and 'expect'.
 *
 * A command is one row below: its name, an argument spec that is also its
 * usage line, its handler and one line of help. Spec items, space separated:
 *   type | label:type       a required argument
 *   [type] | [label:type]   an optional one
 *   =                       a literal '='
 *   key=value...            key=value pairs (the handler walks them)
 *   rest...                 the remaining words, unparsed
 * Types: num, sid, pasid ("pasid N", "pasid=N", "pasid DOMAIN" or "nopasid"),
 * access, prot, name (a new name), dom (a domain name), bytes (a quoted
 * string), word. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

static int cmd_help(struct sim *s, const struct sim_args *a, struct sim_result *r);
static int cmd_echo(struct sim *s, const struct sim_args *a, struct sim_result *r);
static int cmd_expect(struct sim *s, const struct sim_args *a, struct sim_result *r);
static int cmd_let(struct sim *s, const struct sim_args *a, struct sim_result *r);

static const struct sim_cmd commands[] = {
    /* the run */
    {"help", "[command:word]", cmd_help, "list the commands, or show one command's usage"},
    {"echo", "words...", cmd_echo, "print the words and strings that follow"},
    {"expect", "command... [&mask] op value", cmd_expect, "run a command and check its value (op: = != < > <= >=)"},
    {"let", "name = value... [&mask]", cmd_let, "name a number, or the value of a command: let root = reg RTADDR & 0xfffffffffffff000"},
    /* configuration, memory, registers */
    {"config", "key=value...", sim_cmd_config, "set siov_iommu_config fields (before the unit exists)"},
    {"memory", "size:num [backend:word]", sim_cmd_memory, "guest memory size; backend flat (default) or callback"},
    {"iommu", "", sim_cmd_iommu, "create the unit now and show CAP/ECAP"},
    {"reg", "register:word [size:num]", sim_cmd_reg, "read a register by name (GSTS, FRCD0.hi...) or offset"},
    {"reg-write", "register:word value:num [size:num]", sim_cmd_reg_write, "write a register"},
    {"gcmd", "key=value...", sim_cmd_gcmd, "write GCMD from GSTS with bits changed: te=1 srtp=1 qie=0..."},
    {"read64", "gpa:num", sim_cmd_read64, "read a 64-bit word of guest memory"},
    {"write64", "gpa:num value:num", sim_cmd_write64, "write a 64-bit word of guest memory"},
    {"read", "gpa:num len:num", sim_cmd_read, "read bytes of guest memory"},
    {"write", "gpa:num data:bytes", sim_cmd_write, "write a string of bytes into guest memory"},
    {"fill", "gpa:num len:num byte:num", sim_cmd_fill, "fill guest memory with a byte"},
    {"mem-fail", "gpa:num len:num which:word", sim_cmd_mem_fail, "make reads/writes/rw of a range fail; 'off' clears"},
    {"entry", "layout:word gpa:num key=value...", sim_cmd_entry, "write a VT-d entry from named fields"},
    {"decode", "layout:word gpa:num", sim_cmd_decode, "decode the VT-d entry at gpa by its field names"},
    /* DMA as a device issues it */
    {"translate", "sid [pasid] iova:num [access]", sim_cmd_translate, "translate one request; print the address or fault"},
    {"dma-read", "sid [pasid] iova:num len:num", sim_cmd_dma_read, "DMA read through the unit"},
    {"dma-write", "sid [pasid] iova:num data:bytes", sim_cmd_dma_write, "DMA write of a string through the unit"},
    {"dma-fill", "sid [pasid] iova:num len:num byte:num", sim_cmd_dma_fill, "DMA write of len copies of a byte"},
    {"fault", "index:num [field:word]", sim_cmd_fault, "decode fault recording register i (or one field)"},
    {"faults", "", sim_cmd_faults, "list the pending fault records"},
    {"clear-faults", "", sim_cmd_clear_faults, "clear every fault record and FSTS, as a driver does"},
    {"stats", "[counter:word]", sim_cmd_stats, "show the unit's counters, one counter, or 'reset' the baseline"},
    {"report", "", sim_cmd_report, "per-ADI table of DMA, translations, IOTLB hit rate and faults"},
    /* the reference driver */
    {"driver", "key=value...", sim_cmd_driver, "bind the reference driver: pool=GPA size=N"},
    {"capable", "cap:word", sim_cmd_capable, "whether the driver sees a capability (aux, fl, sl, nested, pt)"},
    {"device", "name = sid", sim_cmd_device, "name a requester id"},
    {"enable-aux", "sid", sim_cmd_enable_aux, "allow aux domains on a device"},
    {"disable-aux", "sid", sim_cmd_disable_aux, "disallow aux domains on a device"},
    {"domain", "name = type:word [parent:dom]", sim_cmd_domain,
     "new domain: second-level, first-level, pass-through, or nested PARENT"},
    {"free", "dom", sim_cmd_free, "free a domain"},
    {"map", "dom iova:num pa:num size:num [prot]", sim_cmd_map, "map [iova, iova+size) to pa"},
    {"unmap", "dom iova:num size:num", sim_cmd_unmap, "unmap a range; the value is the bytes unmapped"},
    {"iova-to-phys", "dom iova:num", sim_cmd_iova_to_phys, "look an IOVA up in the domain's own tables"},
    {"attach", "dom sid", sim_cmd_attach, "attach for requests without PASID"},
    {"detach", "dom sid", sim_cmd_detach, "undo attach"},
    {"aux-attach", "dom sid", sim_cmd_aux_attach, "attach for requests with the domain's PASID"},
    {"aux-detach", "dom sid", sim_cmd_aux_detach, "undo aux-attach"},
    {"aux-pasid", "dom", sim_cmd_aux_pasid, "the domain's PASID"},
    /* invalidation */
    {"queue", "gpa:num [qs:num] [dw:num]", sim_cmd_queue, "set up and enable an invalidation queue of 2^qs pages"},
    {"inv", "type:word key=value...", sim_cmd_inv, "submit an invalidation descriptor: inv piotlb did=1 pasid=5 g=pasid"},
    /* interrupts */
    {"interrupt", "sid addr:num [data:num]", sim_cmd_interrupt,
     "a device writes an interrupt message (addr may be an irq-alloc name); the value is vector/dest or the fault"},
    {"irq-alloc", "name = device:word args...", sim_cmd_irq_alloc,
     "driver: an interrupt for a device or ADI: NAME = DEV DEST VECTOR, or NAME = DEV posted PDA VECTOR"},
    {"irq-free", "irq:word", sim_cmd_irq_free, "driver: free an interrupt; its message then faults"},
    {"irq-affinity", "irq:word dest:num vector:num", sim_cmd_irq_affinity, "driver: move an interrupt"},
    /* inspection */
    {"dump", "sid|irte:word [pasid] iova|--dot|file...", sim_cmd_dump,
     "print the tables a sid and PASID reach, one IOVA's path, or 'dump irte INDEX'; --dot [FILE]: as Graphviz"},
    /* traces */
    {"trace", "action:word [file:word] [form:word]", sim_cmd_trace,
     "trace start FILE [text|binary]: record requests and driver markers; trace stop"},
    /* ATS and device TLBs */
    {"enable-ats", "sid", sim_cmd_enable_ats, "enable ATS on a device: DTE (TT=01 in legacy mode); needs a driver"},
    {"ats-translate", "sid [pasid] iova:num [access]", sim_cmd_ats_translate,
     "send an ATS translation request (access nw: a read-only fill); print the completion"},
    {"atc create", "name = sid [entries:num]", sim_cmd_atc_create, "a device TLB (ATC) for a device, as its port"},
    {"atc translate", "atc:word [pasid] iova:num [access]", sim_cmd_atc_translate,
     "translate through an ATC: a hit, or a translation request on a miss"},
    {"atc dma-read", "atc:word [pasid] iova:num len:num", sim_cmd_atc_dma_read, "DMA read with translated requests"},
    {"atc dma-write", "atc:word [pasid] iova:num data:bytes", sim_cmd_atc_dma_write,
     "DMA write of a string with translated requests"},
    {"atc dump", "atc:word", sim_cmd_atc_dump, "list the translations an ATC holds"},
    {"atc stats", "atc:word [counter:word]", sim_cmd_atc_stats, "an ATC's counters, or one of them"},
    {"atc free", "atc:word", sim_cmd_atc_free, "free an ATC (its device answers invalidations at once again)"},
    {"port", "sid mode:word", sim_cmd_port,
     "manual: record a device's device-TLB invalidations until 'complete'; off: detach"},
    {"complete", "sid [itag:num]", sim_cmd_complete, "a manual port completes an invalidation (every pending one)"},
    {"expire", "", sim_cmd_expire, "every outstanding device-TLB invalidation times out now (FSTS.ITE)"},
    /* page requests */
    {"enable-pri", "sid", sim_cmd_enable_pri, "enable page requests on a device: PRE; needs ATS (enable-ats)"},
    {"disable-pri", "sid", sim_cmd_disable_pri, "disable page requests on a device, draining its outstanding ones"},
    {"page-request", "sid [pasid] addr:num access options...", sim_cmd_page_request,
     "a device asks for a page: ... ADDR r|w|rw [prg=N] [last]; the value is the fault (none when accepted)"},
    {"stop-marker", "sid [pasid]", sim_cmd_stop_marker, "a device sends a PASID stop marker"},
    {"service-prq", "", sim_cmd_service_prq,
     "the driver services the page request queue now; the value is the requests handled"},
    {"prq-handler", "mode:word [dom] [base:num]", sim_cmd_prq_handler,
     "how the driver answers a domain's page requests: map-on-demand DOM [BASE], invalid DOM, fail DOM; or off"},
    {"page-response", "sid [pasid] prg:num", sim_cmd_page_response,
     "the last page response a device received for a group: success, invalid, failure (or the code)"},
};

const struct sim_cmd *sim_cmd_find(const char *name)
{
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

/* The command tokens t[0..n) name: one word, or two ("atc translate");
   *used says how many. */
static const struct sim_cmd *cmd_lookup(const struct sim_tok *t, unsigned n, unsigned *used)
{
    *used = 1;
    if (!n || t[0].kind != TOK_WORD)
        return NULL;
    if (n >= 2 && t[1].kind == TOK_WORD) {
        char two[2 * SIM_NAME_LEN + 2];
        snprintf(two, sizeof(two), "%.*s %.*s", SIM_NAME_LEN, t[0].text, SIM_NAME_LEN, t[1].text);
        const struct sim_cmd *c = sim_cmd_find(two);
        if (c) {
            *used = 2;
            return c;
        }
    }
    return sim_cmd_find(t[0].text);
}

/* ------------------------------------------------------------ arg specs */
struct spec_item {
    char label[24], type[16];
    bool optional;
};

/* The next spec item at *p; false at the end. */
static bool next_item(const char **p, struct spec_item *it)
{
    while (**p == ' ')
        (*p)++;
    if (!**p)
        return false;
    size_t n = strcspn(*p, " ");
    char word[48];
    snprintf(word, sizeof(word), "%.*s", (int)n, *p);
    *p += n;
    char *w = word;
    it->optional = w[0] == '[';
    if (it->optional) {
        w++;
        w[strcspn(w, "]")] = '\0';
    }
    char *colon = strchr(w, ':');
    snprintf(it->type, sizeof(it->type), "%.15s", colon ? colon + 1 : w);
    if (colon)
        *colon = '\0';
    snprintf(it->label, sizeof(it->label), "%.23s", w);
    return true;
}

static void usage(const struct sim_cmd *c, char *buf, size_t len)
{
    size_t o = (size_t)snprintf(buf, len, "%s", c->name);
    const char *p = c->spec;
    struct spec_item it;
    while (next_item(&p, &it) && o < len) {
        const char *l = it.label;
        if (strcmp(it.type, "pasid") == 0)
            o += (size_t)snprintf(buf + o, len - o, " [pasid N|nopasid]");
        else if (strcmp(l, "=") == 0 || strchr(l, '.'))
            o += (size_t)snprintf(buf + o, len - o, " %s", l);
        else
            o += (size_t)snprintf(buf + o, len - o, it.optional ? " [%s]" : " <%s>", l);
    }
}

/* The pasid argument: pasid N / pasid = N / pasid DOMAIN / nopasid. */
static int parse_pasid(struct sim *s, const struct sim_tok *t, unsigned n, unsigned *used, uint32_t *out)
{
    if (sim_tok_is(&t[0], "nopasid"))
        return *used = 1, *out = SIOV_NO_PASID, 0;
    unsigned i = 1 + (n > 1 && t[1].kind == TOK_EQ);
    if (i >= n)
        return sim_error(s, "'pasid' needs a value (a number or a domain name)");
    *used = i + 1;
    struct sim_name *nm = sim_name_find(s, t[i].text);
    if (nm && nm->kind == NAME_DOMAIN && !nm->dom)
        return sim_error(s, "domain '%s' was freed", t[i].text);
    if (nm && nm->kind == NAME_DOMAIN) {
        int p = siov_aux_pasid(nm->dom->dom);
        if (p < 0)
            return sim_error(s, "domain '%s' has no PASID yet (aux-attach it first)", t[i].text);
        return *out = (uint32_t)p, 0;
    }
    if (t[i].kind == TOK_WORD && isalpha((unsigned char)t[i].text[0]) && !(nm && nm->kind == NAME_NUMBER))
        return sim_error(s, "'%s' is not a domain name (pasid takes a number or a domain name)", t[i].text);
    uint64_t v;
    if (sim_parse_num(s, &t[i], &v) < 0)
        return -1;
    if (v > SIOV_PASID_MAX)
        return sim_error(s, "PASID %s is above 0xfffff (PASIDs are 20 bits)", t[i].text);
    return *out = (uint32_t)v, 0;
}

static int parse_dom(struct sim *s, const struct sim_tok *t, struct sim_val *v)
{
    struct sim_name *n = sim_name_find(s, t->text);
    if (!n || n->kind != NAME_DOMAIN)
        return sim_error(s, "'%s' is not a domain name", t->text);
    if (!n->dom)
        return sim_error(s, "domain '%s' was freed", t->text);
    v->dom = n->dom;
    v->name = n;
    return 0;
}

/* One typed positional value from t. */
static int parse_value(struct sim *s, const struct spec_item *it, const struct sim_tok *t, struct sim_val *v)
{
    const char *ty = it->type;
    v->tok = t;
    if (strcmp(ty, "num") == 0)
        return sim_parse_num(s, t, &v->num);
    if (strcmp(ty, "sid") == 0)
        return sim_parse_sid(s, t, &v->sid);
    if (strcmp(ty, "access") == 0 || strcmp(ty, "prot") == 0)
        return sim_parse_access(s, t, ty[0] == 'p', &v->access);
    if (strcmp(ty, "dom") == 0)
        return parse_dom(s, t, v);
    if (strcmp(ty, "bytes") == 0 && t->kind != TOK_STRING)
        return sim_error(s, "%s must be a quoted string (\"...\", \\xHH escapes)", it->label);
    if ((strcmp(ty, "word") == 0 || strcmp(ty, "name") == 0) && t->kind != TOK_WORD)
        return sim_error(s, "%s must be a word, not '%s'", it->label, t->text);
    return 0;
}

/* Fill a from the tokens t[0..n) according to c->spec. */
static int parse_args(struct sim *s, const struct sim_cmd *c, const struct sim_tok *t, unsigned n,
                      struct sim_args *a)
{
    char use[160];
    const char *p = c->spec;
    struct spec_item it;
    unsigned i = 0, k = 0;
    usage(c, use, sizeof(use));
    while (next_item(&p, &it) && k < SIM_MAX_ARGS) {
        struct sim_val *v = &a->v[k++];
        if (strchr(it.label, '.')) { /* key=value... / rest... */
            a->rest = t + i, a->nrest = n - i, i = n;
            break;
        }
        if (strcmp(it.type, "pasid") == 0) {
            unsigned used = 0;
            v->pasid = SIOV_NO_PASID;
            if (i < n && (sim_tok_is(&t[i], "pasid") || sim_tok_is(&t[i], "nopasid"))) {
                if (parse_pasid(s, t + i, n - i, &used, &v->pasid) < 0)
                    return -1;
                v->set = true;
            }
            i += used;
            continue;
        }
        bool is_eq = strcmp(it.type, "=") == 0;
        if (i >= n || (!is_eq && t[i].kind == TOK_EQ) || (is_eq && t[i].kind != TOK_EQ)) {
            if (it.optional && !(i < n && t[i].kind == TOK_EQ))
                continue;
            return sim_error(s, "%s %s (usage: %s)", i < n ? "expected" : "missing",
                             is_eq ? "'='" : it.label, use);
        }
        if (!is_eq && parse_value(s, &it, &t[i], v) < 0)
            return -1;
        v->set = true;
        i++;
    }
    if (i < n)
        return sim_error(s, "unexpected '%s' (usage: %s)", t[i].text, use);
    return 0;
}

int sim_kv_next(struct sim *s, const struct sim_args *a, unsigned *i, const struct sim_tok **key,
                const struct sim_tok **val)
{
    if (*i >= a->nrest)
        return 0;
    const struct sim_tok *t = a->rest + *i;
    if (t[0].kind != TOK_WORD || *i + 2 >= a->nrest || t[1].kind != TOK_EQ || t[2].kind == TOK_EQ)
        return sim_error(s, "expected key=value, found '%s'", t[0].text);
    *key = &t[0];
    *val = &t[2];
    *i += 3;
    return 1;
}

/* ------------------------------------------------------------ dispatch */
static int dispatch(struct sim *s, const struct sim_tok *t, unsigned n, struct sim_result *r)
{
    unsigned used;
    const struct sim_cmd *c = cmd_lookup(t, n, &used);
    if (!c && sim_tok_is(&t[0], "atc"))
        return sim_error(s, "'atc' needs one of create, translate, dma-read, dma-write, dump, stats, free");
    if (!c)
        return sim_error(s, "unknown command '%s' (try 'help')", t[0].text);
    struct sim_args a;
    memset(&a, 0, sizeof(a));
    if (parse_args(s, c, t + used, n - used, &a) < 0)
        return -1;
    return c->fn(s, &a, r);
}

/* -v: a line that printed nothing is echoed as it was read, so the output
   still holds every line of the scenario. */
static void echo_line(struct sim *s, const struct sim_line *ln)
{
    char text[1024];
    sim_join_tokens(ln->tok, ln->ntok, text, sizeof(text));
    sim_act(s, text, NULL);
}

int sim_run_line(struct sim *s, const char *text, unsigned lineno)
{
    struct sim_line ln = {0};
    struct sim_result r = {0};
    s->lineno = lineno;
    s->err[0] = '\0';
    s->acted = false;
    int rc = sim_tokenize(s, text, &ln);
    if (rc == 0 && ln.ntok > 0) {
        rc = dispatch(s, ln.tok, ln.ntok, &r);
        if (rc == 0 && r.kind == RES_ERRNO && r.err < 0)
            rc = sim_error(s, "%s failed: %s: %s", ln.tok[0].text, sim_errno_name(r.err),
                           r.why[0] ? r.why : strerror(-r.err));
        if (rc == 0 && s->verbose && !s->acted)
            echo_line(s, &ln);
    }
    free(r.bytes);
    sim_line_free(&ln);
    return rc;
}

/* --------------------------------------------------------------- expect */
/* Text of a value for messages. */
static void describe(const struct sim_result *r, bool hex, char *buf, size_t len)
{
    switch (r->kind) {
    case RES_NUM: snprintf(buf, len, hex ? "0x%llx" : "%llu", (unsigned long long)r->num); break;
    case RES_FAULT: snprintf(buf, len, "%s", siov_fault_name(r->fault)); break;
    case RES_ERRNO:
        snprintf(buf, len, "%s%s%.96s%s", r->err ? sim_errno_name(r->err) : "OK", r->why[0] ? " (" : "", r->why,
                 r->why[0] ? ")" : ""); /* a driver's reason, cut to fit */
        break;
    case RES_IRQ:
        if (r->irq.posted)
            snprintf(buf, len, "0x%x/posted", r->irq.vector);
        else
            snprintf(buf, len, "0x%x/0x%x", r->irq.vector, r->irq.dest);
        break;
    case RES_BYTES: {
        size_t o = (size_t)snprintf(buf, len, "\"");
        for (size_t i = 0; i < r->len && o + 6 < len; i++) {
            uint8_t c = r->bytes[i];
            o += (size_t)snprintf(buf + o, len - o, (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') ? "%c" : "\\x%02x", c);
        }
        snprintf(buf + o, len - o, "\"");
        break;
    }
    default: snprintf(buf, len, "(nothing)"); break;
    }
}

/* An interrupt's value: VECTOR/DEST, or VECTOR/posted. */
static int expected_irq(struct sim *s, const struct sim_tok *t, struct sim_result *e)
{
    const char *slash = strchr(t->text, '/');
    char v[32];
    uint64_t vec, dest = 0;
    if ((size_t)(slash - t->text) >= sizeof(v))
        return sim_error(s, "'%s' is not VECTOR/DEST", t->text);
    snprintf(v, sizeof(v), "%.*s", (int)(slash - t->text), t->text);
    struct sim_tok vt = {TOK_WORD, v, strlen(v), t->col}, dt = {TOK_WORD, slash + 1, strlen(slash + 1), t->col};
    bool posted = strcmp(slash + 1, "posted") == 0;
    if (sim_parse_num(s, &vt, &vec) < 0 || (!posted && sim_parse_num(s, &dt, &dest) < 0))
        return -1;
    if (vec > 0xFF || dest > 0xFFFFFFFFu)
        return sim_error(s, "'%s': a vector is 8 bits and a destination 32", t->text);
    e->kind = RES_IRQ;
    e->irq = (struct siov_irq){.vector = (uint8_t)vec, .dest = (uint32_t)dest, .posted = posted};
    return 0;
}

/* The expected value token as a result; "OK" matches any success. */
static int expected_value(struct sim *s, const struct sim_tok *t, struct sim_result *e, bool *ok_any)
{
    *ok_any = false;
    if (t->kind == TOK_WORD && strchr(t->text, '/'))
        return expected_irq(s, t, e);
    if (t->kind == TOK_STRING) {
        e->kind = RES_BYTES, e->bytes = (uint8_t *)(uintptr_t)t->text, e->len = t->len;
        return 0;
    }
    if (sim_tok_is(t, "OK") || sim_tok_is(t, "ok"))
        return *ok_any = true, 0;
    if (sim_tok_is(t, "none"))
        return e->kind = RES_FAULT, e->fault = SIOV_OK, 0;
    unsigned code;
    if (t->kind == TOK_WORD && sim_prq_code_by_name(t->text, &code) == 0) /* a page response code */
        return e->kind = RES_NUM, e->num = code, 0;
    if (sim_fault_by_name(t->text, &e->fault) == 0)
        return e->kind = RES_FAULT, 0;
    if (sim_errno_by_name(t->text, &e->err) == 0)
        return e->kind = RES_ERRNO, 0;
    bool b;
    if ((sim_tok_is(t, "true") || sim_tok_is(t, "false")) && sim_parse_bool(s, t, &b) == 0)
        return e->kind = RES_NUM, e->num = b, 0;
    e->kind = RES_NUM;
    return sim_parse_num(s, t, &e->num) < 0
               ? sim_error(s, "expected value '%s' is not a number, fault name, errno name, string or OK", t->text)
               : 0;
}

static bool equal(const struct sim_result *got, const struct sim_result *e, bool ok_any)
{
    if (ok_any)
        return (got->kind == RES_FAULT && got->fault == SIOV_OK) || (got->kind == RES_ERRNO && got->err == 0) ||
               got->kind == RES_NUM || got->kind == RES_BYTES || got->kind == RES_IRQ;
    if (got->kind != e->kind)
        return false;
    switch (e->kind) {
    case RES_NUM: return got->num == e->num;
    case RES_FAULT: return got->fault == e->fault;
    case RES_ERRNO: return got->err == e->err;
    case RES_BYTES: return got->len == e->len && memcmp(got->bytes, e->bytes, e->len) == 0;
    case RES_IRQ:
        return got->irq.vector == e->irq.vector && got->irq.posted == e->irq.posted &&
               (e->irq.posted || got->irq.dest == e->irq.dest);
    default: return false;
    }
}

/* got (already masked) OP e; ordering operators compare numbers only. */
static bool matches(const struct sim_result *got, const struct sim_result *e, bool ok_any, const char *op)
{
    if (op[0] == '=')
        return equal(got, e, ok_any);
    if (op[0] == '!')
        return !equal(got, e, ok_any);
    if (got->kind != RES_NUM || e->kind != RES_NUM)
        return false;
    bool lt = got->num < e->num, eq = got->num == e->num;
    return op[0] == '<' ? (lt || (op[1] == '=' && eq)) : (!lt && !eq) || (op[1] == '=' && eq);
}

/* Report a failed expectation with both values. */
static void expect_failed(struct sim *s, const struct sim_tok *t, unsigned cmd_n, const struct sim_tok *op,
                          const struct sim_result *e, bool ok_any, struct sim_result *got, uint64_t mask)
{
    char cmd[256], want[128], have[192], raw[80] = "";
    bool hex = strspn(op[1].text, "0123456789") != op[1].len || mask != ~0ull; /* decimal if written so */
    sim_join_tokens(t, cmd_n, cmd, sizeof(cmd));
    describe(e, hex, want, sizeof(want));
    if (got->kind == RES_NUM && mask != ~0ull) {
        snprintf(raw, sizeof(raw), " (0x%llx & 0x%llx)", (unsigned long long)got->num, (unsigned long long)mask);
        got->num &= mask;
    }
    describe(got, hex, have, sizeof(have));
    s->expects_failed++;
    sim_fail(s, "expect failed: %s: expected %s%s%s, got %s%s", cmd, op[0].kind == TOK_EQ ? "" : op[0].text,
             op[0].kind == TOK_EQ ? "" : " ", ok_any ? "OK" : want, have, raw);
}

/* The command tokens of an expect line: everything before [& MASK] OP VALUE. */
static int expect_split(struct sim *s, const struct sim_args *a, unsigned *cmd_n, unsigned *op, uint64_t *mask)
{
    const struct sim_tok *t = a->rest;
    unsigned n = a->nrest, i = n;
    while (i > 0 && t[i - 1].kind != TOK_EQ && t[i - 1].kind != TOK_OP)
        i--;
    if (i < 2 || i != n - 1)
        return sim_error(s, "expect needs a command, an operator (= != < > <= >=) and one value: expect CMD ... = VALUE");
    if (t[i - 2].kind == TOK_EQ || t[i - 2].kind == TOK_OP) { /* '==', '=>', '<>': two operators in a row */
        char bad[16] = "";
        for (unsigned k = i - 2; k <= i - 1 && strlen(bad) + t[k].len < sizeof(bad); k++)
            strcat(bad, t[k].text);
        return sim_error(s, "'%s' is not an operator (use = != < > <= >=)", bad);
    }
    *op = i - 1;
    *cmd_n = i - 1;
    *mask = ~0ull;
    if (*cmd_n >= 3 && t[*cmd_n - 2].kind == TOK_AMP) {
        if (sim_parse_num(s, &t[*cmd_n - 1], mask) < 0)
            return -1;
        *cmd_n -= 2;
    }
    if (sim_tok_is(&t[0], "expect"))
        return sim_error(s, "expect cannot check another expect");
    return 0;
}

/* expect CMD ARGS... [& MASK] OP VALUE */
static int cmd_expect(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    const struct sim_tok *t = a->rest;
    unsigned cmd_n = 0, op = 0;
    uint64_t mask = ~0ull;
    struct sim_result e = {0}, got = {0};
    bool ok_any;
    if (expect_split(s, a, &cmd_n, &op, &mask) < 0 || expected_value(s, &t[op + 1], &e, &ok_any) < 0)
        return -1;
    s->quiet++;
    int rc = dispatch(s, t, cmd_n, &got);
    s->quiet--;
    if (rc == 0 && got.kind == RES_NONE)
        rc = sim_error(s, "'%s' gives no value to expect", t[0].text);
    uint64_t raw = got.num;
    if (got.kind == RES_NUM)
        got.num &= mask;
    bool passed = rc == 0 && matches(&got, &e, ok_any, t[op].text);
    if (passed) {
        s->expects_passed++;
    } else if (rc == 0) {
        got.num = raw;
        expect_failed(s, t, cmd_n, &t[op], &e, ok_any, &got, mask);
    }
    if (rc == 0 && s->verbose) {
        char line[1024];
        memcpy(line, "expect ", 7);
        sim_join_tokens(t, a->nrest, line + 7, sizeof(line) - 7);
        sim_act(s, line, passed ? "passed" : "FAILED");
    }
    free(got.bytes);
    return rc;
}

/* let NAME = NUMBER | let NAME = CMD ARGS... [& MASK] */
static int cmd_let(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    const struct sim_tok *t = a->rest;
    unsigned n = a->nrest;
    uint64_t mask = ~0ull, v = 0;
    struct sim_result got = {0};
    if (n >= 4 && t[n - 2].kind == TOK_AMP) {
        if (sim_parse_num(s, &t[n - 1], &mask) < 0)
            return -1;
        n -= 2;
    }
    unsigned used;
    bool cmd = n && cmd_lookup(t, n, &used);
    if (!cmd && n != 1)
        return sim_error(s, "let takes one number, or a command that gives one");
    if (!cmd && sim_parse_num(s, &t[0], &v) < 0)
        return -1;
    if (cmd) {
        s->quiet++;
        int rc = dispatch(s, t, n, &got);
        s->quiet--;
        free(got.bytes);
        if (rc < 0)
            return -1;
        if (got.kind != RES_NUM)
            return sim_error(s, "'%s' does not give a number here", t[0].text);
        v = got.num;
    }
    struct sim_name *nm = sim_name_add(s, a->v[0].tok, NAME_NUMBER);
    if (!nm)
        return -1;
    nm->num = v & mask;
    return 0;
}

/* ----------------------------------------------------------- help, echo */
void sim_help(struct sim *s, const char *name)
{
    char use[160];
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        if (name && strcmp(commands[i].name, name) != 0)
            continue;
        usage(&commands[i], use, sizeof(use));
        fprintf(s->out, "%s  %-44s %s\n", s->lineno ? "#" : "", use, commands[i].help); /* in a scenario: comments */
    }
}

static int cmd_help(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    const char *name = a->v[0].set ? a->v[0].tok->text : NULL;
    if (name && !sim_cmd_find(name))
        return sim_error(s, "no command '%s'", name);
    char action[64];
    snprintf(action, sizeof(action), "help%s%s", name ? " " : "", name ? name : "");
    sim_act(s, action, NULL);
    if (!s->quiet)
        sim_help(s, name);
    return 0;
}

static int cmd_echo(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)r;
    s->acted = true;
    for (unsigned i = 0; i < a->nrest; i++)
        sim_print(s, "%s%s", i ? " " : "", a->rest[i].text);
    sim_print(s, "\n");
    return 0;
}

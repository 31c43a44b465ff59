/* Trace files, the text form: one record a line, formatted and parsed
 * (docs/tracing.md gives the grammar). Header lines and comments are the
 * file layer's business; this file sees one record's text at a time. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trace_int.h"

#define MAX_WORDS 16

static const char *const kind_names[] = {
    [SIOV_TRACE_XLATE] = "xlate", [SIOV_TRACE_READ] = "read",     [SIOV_TRACE_WRITE] = "write",
    [SIOV_TRACE_INVAL] = "inval", [SIOV_TRACE_DOMAIN] = "domain", [SIOV_TRACE_ATTACH] = "attach",
    [SIOV_TRACE_DETACH] = "detach", [SIOV_TRACE_MAP] = "map",     [SIOV_TRACE_UNMAP] = "unmap",
};
static const char *const dom_names[] = {"sl", "fl", "pt", "nested"};
static const char *const inv_names[] = {
    [SIOV_TRACE_INV_CONTEXT] = "context", [SIOV_TRACE_INV_IOTLB] = "iotlb", [SIOV_TRACE_INV_DEVTLB] = "devtlb",
    [SIOV_TRACE_INV_IEC] = "iec",         [SIOV_TRACE_INV_PIOTLB] = "piotlb", [SIOV_TRACE_INV_PC] = "pc",
    [SIOV_TRACE_INV_PDEVTLB] = "pdevtlb",
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

void siov_trace_rec_init(struct siov_trace_rec *rec, unsigned kind)
{
    if (!rec)
        return;
    memset(rec, 0, sizeof(*rec));
    rec->kind = kind;
    rec->pasid = SIOV_NO_PASID;
}

const char *siov_trace_kind_name(unsigned kind)
{
    return kind < COUNT(kind_names) && kind_names[kind] ? kind_names[kind] : "?";
}

/* ------------------------------------------------------------ formatting */
/* An appender over a caller buffer that remembers the length it needed. */
struct out {
    char *buf;
    size_t len, used;
};

static void put(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(struct out *o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = o->used < o->len ? o->len - o->used : 0;
    int n = vsnprintf(room ? o->buf + o->used : NULL, room, fmt, ap);
    va_end(ap);
    if (n > 0)
        o->used += (size_t)n;
}

/* A size with a K/M/G suffix when exact, else decimal. */
static void put_size(struct out *o, uint64_t v)
{
    static const char suffix[] = "KMGT";
    unsigned i = 0;
    if (v == 0 || v % 1024) {
        put(o, " %llu", (unsigned long long)v);
        return;
    }
    v /= 1024;
    while (i < 3 && v % 1024 == 0) {
        v /= 1024;
        i++;
    }
    put(o, " %llu%c", (unsigned long long)v, suffix[i]);
}

static void put_access(struct out *o, unsigned a)
{
    static const char letters[] = "rwxpatn"; /* read write exec priv ats-request translated no-write */
    char s[8];
    unsigned n = 0;
    for (unsigned i = 0; i < 7; i++)
        if (a & (1u << i))
            s[n++] = letters[i];
    s[n] = '\0';
    put(o, " %s", n ? s : "-");
}

static void put_pasid(struct out *o, uint32_t pasid)
{
    if (pasid == SIOV_NO_PASID)
        put(o, " -");
    else
        put(o, " %u", pasid);
}

static void put_sid(struct out *o, siov_sid sid)
{
    put(o, " %02x:%02x.%x", SIOV_SID_BUS(sid), SIOV_SID_DEVFN(sid) >> 3, sid & 7);
}

static void put_result(struct out *o, const struct siov_trace_rec *r)
{
    if (!r->has_result)
        return;
    if (r->fault != SIOV_OK) {
        put(o, " -> %s", siov_fault_name(r->fault));
        return;
    }
    if (r->kind != SIOV_TRACE_XLATE) {
        put(o, " -> ok");
        return;
    }
    put(o, " -> 0x%llx", (unsigned long long)r->xlate.addr);
    put_size(o, r->xlate.page_size);
    put_access(o, r->xlate.perm);
    put(o, " %u", r->xlate.did);
}

static void put_inval(struct out *o, const struct siov_trace_rec *r)
{
    const char *t = r->inv_type < COUNT(inv_names) && inv_names[r->inv_type] ? inv_names[r->inv_type] : NULL;
    if (t)
        put(o, " %s", t);
    else
        put(o, " %u", r->inv_type);
    put(o, " g=%u did=%u", r->inv_gran, r->did);
    if (r->sid)
        put(o, " sid=%02x:%02x.%x", SIOV_SID_BUS(r->sid), SIOV_SID_DEVFN(r->sid) >> 3, r->sid & 7);
    if (r->pasid != SIOV_NO_PASID)
        put(o, " pasid=%u", r->pasid);
    if (r->addr || r->am)
        put(o, " addr=0x%llx am=%u", (unsigned long long)r->addr, r->am);
}

static void put_marker(struct out *o, const struct siov_trace_rec *r)
{
    put(o, " %u", r->domain);
    switch (r->kind) {
    case SIOV_TRACE_DOMAIN:
        put(o, " %s", r->dom_type < COUNT(dom_names) ? dom_names[r->dom_type] : "?");
        if (r->dom_type == SIOV_TRACE_DOM_NESTED)
            put(o, " %u", r->parent);
        break;
    case SIOV_TRACE_ATTACH:
    case SIOV_TRACE_DETACH:
        put_sid(o, r->sid);
        put_pasid(o, r->pasid);
        break;
    case SIOV_TRACE_MAP:
    case SIOV_TRACE_UNMAP:
        put(o, " 0x%llx", (unsigned long long)r->addr);
        put_size(o, r->len);
        if (r->kind == SIOV_TRACE_MAP) {
            put(o, " 0x%llx", (unsigned long long)r->pa);
            put_access(o, r->access);
        }
        break;
    default: break;
    }
}

int siov_trace_format(const struct siov_trace_rec *r, char *buf, size_t len)
{
    struct out o = {buf, buf ? len : 0, 0};
    if (buf && len)
        buf[0] = '\0';
    if (!r)
        return 0;
    put(&o, "%llu", (unsigned long long)r->seq);
    if (r->time)
        put(&o, " @%llu", (unsigned long long)r->time);
    put(&o, " %s", siov_trace_kind_name(r->kind));
    if (r->kind >= SIOV_TRACE_XLATE && r->kind <= SIOV_TRACE_WRITE) {
        put_sid(&o, r->sid);
        put_pasid(&o, r->pasid);
        put(&o, " 0x%llx", (unsigned long long)r->addr);
        put_size(&o, r->len);
        put_access(&o, r->access);
        put_result(&o, r);
    } else if (r->kind == SIOV_TRACE_INVAL) {
        put_inval(&o, r);
    } else {
        put_marker(&o, r);
    }
    return (int)o.used;
}

/* --------------------------------------------------------------- parsing */
struct words {
    char *w[MAX_WORDS];
    unsigned n, at;
    char *err;
    size_t errlen;
};

static int fail(struct words *ws, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct words *ws, const char *fmt, ...)
{
    if (ws->err && ws->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ws->err, ws->errlen, fmt, ap);
        va_end(ap);
    }
    return -EINVAL;
}

/* The next word, or NULL with an error naming what was missing. */
static const char *next(struct words *ws, const char *what)
{
    if (ws->at < ws->n)
        return ws->w[ws->at++];
    fail(ws, "missing %s", what);
    return NULL;
}

/* A number: decimal or 0x hex, with an optional K/M/G/T suffix. */
static int num(struct words *ws, const char *what, uint64_t max, uint64_t *out)
{
    const char *s = next(ws, what);
    if (!s)
        return -EINVAL;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (end == s || *s == '-' || *s == '+' || errno)
        return fail(ws, "%s '%s' is not a number", what, s);
    unsigned shift = 0;
    if (*end && end[1] == '\0' && strchr("KMGT", *end))
        shift = 10 * (unsigned)(strchr("KMGT", *end) - "KMGT" + 1), end++;
    if (*end || (shift && v > (UINT64_MAX >> shift)) || (v << shift) > max)
        return fail(ws, "%s '%s' is not a number up to 0x%llx", what, s, (unsigned long long)max);
    *out = (uint64_t)v << shift;
    return 0;
}

static int sid_of(struct words *ws, const char *s, siov_sid *out)
{
    unsigned bus, dev, fn;
    char tail;
    if (sscanf(s, "%2x:%2x.%1x%c", &bus, &dev, &fn, &tail) != 3 || dev > 31 || fn > 7)
        return fail(ws, "source id '%s' is not bus:dev.fn (hex, as 00:02.0)", s);
    *out = SIOV_SID(bus, dev, fn);
    return 0;
}

static int sid(struct words *ws, siov_sid *out)
{
    const char *s = next(ws, "source id");
    return s ? sid_of(ws, s, out) : -EINVAL;
}

static int pasid_of(struct words *ws, const char *s, uint32_t *out)
{
    if (!strcmp(s, "-"))
        return *out = SIOV_NO_PASID, 0;
    char *end;
    unsigned long v = strtoul(s, &end, 0);
    if (end == s || *end || *s == '-' || v > SIOV_PASID_MAX)
        return fail(ws, "PASID '%s' is not '-' or a number up to 0xfffff", s);
    *out = (uint32_t)v;
    return 0;
}

static int pasid(struct words *ws, uint32_t *out)
{
    const char *s = next(ws, "PASID");
    return s ? pasid_of(ws, s, out) : -EINVAL;
}

static int access(struct words *ws, const char *what, unsigned *out)
{
    static const char letters[] = "rwxpatn";
    const char *s = next(ws, what);
    if (!s)
        return -EINVAL;
    *out = 0;
    if (!strcmp(s, "-"))
        return 0;
    for (const char *c = s; *c; c++) {
        const char *l = strchr(letters, *c);
        if (l)
            *out |= 1u << (l - letters);
        else
            return fail(ws, "%s '%s': letters are r w x p (priv) a (ats) t (translated) n (no-write), or '-'",
                        what, s);
    }
    return 0;
}

/* One of names[0..n), by text. */
static int name_of(struct words *ws, const char *what, const char *const *names, unsigned n, unsigned *out)
{
    const char *s = next(ws, what);
    if (!s)
        return -EINVAL;
    for (unsigned i = 0; i < n; i++)
        if (names[i] && !strcmp(names[i], s))
            return *out = i, 0;
    return fail(ws, "unknown %s '%s'", what, s);
}

static int u32_of(struct words *ws, const char *what, uint32_t *out)
{
    uint64_t v;
    if (num(ws, what, UINT32_MAX, &v))
        return -EINVAL;
    *out = (uint32_t)v;
    return 0;
}

/* "-> ok", "-> FAULT" or (XLATE) "-> ADDR SIZE PERM DID". */
static int result(struct words *ws, struct siov_trace_rec *r)
{
    if (ws->at == ws->n)
        return 0;
    const char *arrow = next(ws, "'->'");
    if (strcmp(arrow, "->"))
        return fail(ws, "unexpected '%s' (a result starts with '->')", arrow);
    const char *s = next(ws, "result");
    if (!s)
        return -EINVAL;
    r->has_result = true;
    if (!strcmp(s, "ok") && r->kind != SIOV_TRACE_XLATE)
        return 0;
    siov_fault f;
    if (siov_fault_from_name(s, &f) == 0 && f != SIOV_OK)
        return r->fault = f, 0;
    if (r->kind != SIOV_TRACE_XLATE)
        return fail(ws, "result '%s' is not 'ok' or a fault name", s);
    ws->at--;
    uint64_t size, did;
    if (num(ws, "output address", UINT64_MAX, &r->xlate.addr) || num(ws, "page size", UINT64_MAX, &size) ||
        access(ws, "permissions", &r->xlate.perm) || num(ws, "domain id", UINT16_MAX, &did))
        return -EINVAL;
    if (size < SIOV_PAGE_SIZE || (size & (size - 1)))
        return fail(ws, "page size %llu is not a power of two of at least 4K", (unsigned long long)size);
    r->xlate.page_size = size;
    r->xlate.did = (uint16_t)did;
    return 0;
}

static int request(struct words *ws, struct siov_trace_rec *r)
{
    if (sid(ws, &r->sid) || pasid(ws, &r->pasid) || num(ws, "address", UINT64_MAX, &r->addr) ||
        num(ws, "length", UINT64_MAX, &r->len) || access(ws, "access", &r->access))
        return -EINVAL;
    return result(ws, r);
}

/* "inval TYPE key=value...": g did sid pasid addr am. */
static int inval(struct words *ws, struct siov_trace_rec *r)
{
    if (name_of(ws, "invalidation type", inv_names, COUNT(inv_names), &r->inv_type))
        return -EINVAL;
    while (ws->at < ws->n) {
        char *kv = ws->w[ws->at], *eq = strchr(kv, '=');
        if (!eq)
            return fail(ws, "expected key=value, found '%s'", kv);
        *eq = '\0';
        ws->w[ws->at] = eq + 1; /* the value, read by the parsers below */
        uint64_t v;
        int rc = 0;
        if (!strcmp(kv, "g"))
            rc = num(ws, "g", 0xF, &v), r->inv_gran = (unsigned)v;
        else if (!strcmp(kv, "did"))
            rc = num(ws, "did", UINT16_MAX, &v), r->did = (uint16_t)v;
        else if (!strcmp(kv, "sid"))
            rc = sid(ws, &r->sid);
        else if (!strcmp(kv, "pasid"))
            rc = pasid(ws, &r->pasid);
        else if (!strcmp(kv, "addr"))
            rc = num(ws, "addr", UINT64_MAX, &r->addr);
        else if (!strcmp(kv, "am"))
            rc = num(ws, "am", 63, &v), r->am = (unsigned)v;
        else
            return fail(ws, "unknown invalidation field '%s' (g did sid pasid addr am)", kv);
        if (rc)
            return rc;
    }
    return 0;
}

static int marker(struct words *ws, struct siov_trace_rec *r)
{
    if (u32_of(ws, "domain number", &r->domain))
        return -EINVAL;
    switch (r->kind) {
    case SIOV_TRACE_DOMAIN:
        if (name_of(ws, "domain type", dom_names, COUNT(dom_names), &r->dom_type))
            return -EINVAL;
        return r->dom_type == SIOV_TRACE_DOM_NESTED ? u32_of(ws, "parent domain", &r->parent) : 0;
    case SIOV_TRACE_ATTACH:
    case SIOV_TRACE_DETACH:
        return sid(ws, &r->sid) || pasid(ws, &r->pasid) ? -EINVAL : 0;
    case SIOV_TRACE_MAP:
        if (num(ws, "IOVA", UINT64_MAX, &r->addr) || num(ws, "size", UINT64_MAX, &r->len) ||
            num(ws, "physical address", UINT64_MAX, &r->pa))
            return -EINVAL;
        return access(ws, "permissions", &r->access);
    default: /* UNMAP */
        return num(ws, "IOVA", UINT64_MAX, &r->addr) || num(ws, "size", UINT64_MAX, &r->len) ? -EINVAL : 0;
    }
}

/* Split s (modified) into words at blanks. */
static int split(struct words *ws, char *s)
{
    char *save = NULL;
    for (char *p = strtok_r(s, " \t\r\n", &save); p; p = strtok_r(NULL, " \t\r\n", &save)) {
        if (ws->n == MAX_WORDS)
            return fail(ws, "more than %d words", MAX_WORDS);
        ws->w[ws->n++] = p;
    }
    return ws->n ? 0 : fail(ws, "empty record");
}

/* "SEQ [@TIME] KIND": the head of every record. */
static int head(struct words *ws, struct siov_trace_rec *r)
{
    uint64_t seq, time = 0;
    if (num(ws, "sequence number", UINT64_MAX, &seq))
        return -EINVAL;
    if (ws->at < ws->n && ws->w[ws->at][0] == '@') {
        ws->w[ws->at]++;
        if (num(ws, "time", UINT64_MAX, &time))
            return -EINVAL;
    }
    unsigned kind = 0;
    if (name_of(ws, "record kind", kind_names, COUNT(kind_names), &kind))
        return -EINVAL;
    siov_trace_rec_init(r, kind);
    r->seq = seq;
    r->time = time;
    return 0;
}

int siov_trace_parse(const char *line, struct siov_trace_rec *rec, char *err, size_t errlen)
{
    struct words ws = {.err = err, .errlen = errlen};
    if (err && errlen)
        err[0] = '\0';
    if (!line || !rec)
        return fail(&ws, "no line or record");
    char *copy = strdup(line);
    if (!copy)
        return fail(&ws, "out of memory"), -ENOMEM;
    struct siov_trace_rec r;
    int rc = split(&ws, copy);
    if (!rc)
        rc = head(&ws, &r);
    if (!rc && r.kind <= SIOV_TRACE_WRITE)
        rc = request(&ws, &r);
    else if (!rc && r.kind == SIOV_TRACE_INVAL)
        rc = inval(&ws, &r);
    else if (!rc)
        rc = marker(&ws, &r);
    if (!rc && ws.at < ws.n)
        rc = fail(&ws, "unexpected '%s' after the record", ws.w[ws.at]);
    free(copy);
    if (!rc)
        *rec = r;
    return rc;
}

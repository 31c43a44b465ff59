/* Trace files, the binary form: a 16-byte header, then records of one head
 * byte and LEB128 varints, addresses and sequence numbers as deltas from the
 * record before (docs/tracing.md, "Binary form"). */
#include <stdio.h>
#include <string.h>

#include "trace_int.h"

/* The head byte. */
#define H_KIND 0x0Fu      /* SIOV_TRACE_* */
#define H_RESULT 0x10u    /* a result follows */
#define H_TIME 0x20u      /* a time delta follows */
#define H_SAME_ADI 0x40u  /* sid and PASID as in the last record that had them */
#define H_SEQ_NEXT 0x80u  /* seq is the last one's + 1 (no delta follows) */
#define VARINT_MAX 10

/* ------------------------------------------------------------ encoding */
static uint8_t *put_u(uint8_t *p, uint64_t v)
{
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

/* Signed deltas, zigzag-coded (small magnitudes, small varints). */
static uint8_t *put_s(uint8_t *p, uint64_t from, uint64_t to)
{
    uint64_t d = to - from; /* two's complement */
    return put_u(p, (d << 1) ^ (uint64_t)-(int64_t)(d >> 63));
}

static bool has_adi(unsigned kind)
{
    return kind <= SIOV_TRACE_INVAL || kind == SIOV_TRACE_ATTACH || kind == SIOV_TRACE_DETACH;
}

static unsigned log2u(uint64_t v)
{
    unsigned n = 0;
    while (v > 1)
        v >>= 1, n++;
    return n;
}

static uint8_t *put_body(struct siov_trace_bin_state *st, const struct siov_trace_rec *r, uint8_t *p)
{
    switch (r->kind) {
    case SIOV_TRACE_INVAL:
        p = put_u(p, r->inv_type);
        p = put_u(p, r->inv_gran);
        p = put_u(p, r->did);
        p = put_u(p, r->am);
        return put_u(p, r->addr);
    case SIOV_TRACE_DOMAIN:
        p = put_u(p, r->domain);
        p = put_u(p, r->dom_type);
        return put_u(p, r->parent);
    case SIOV_TRACE_ATTACH:
    case SIOV_TRACE_DETACH: return put_u(p, r->domain);
    case SIOV_TRACE_MAP:
    case SIOV_TRACE_UNMAP:
        p = put_u(p, r->domain);
        p = put_s(p, st->addr[0], r->addr);
        p = put_u(p, r->len);
        st->addr[0] = r->addr + r->len;
        if (r->kind == SIOV_TRACE_UNMAP)
            return p;
        p = put_s(p, st->pa, r->pa);
        st->pa = r->pa + r->len;
        return put_u(p, r->access);
    default: /* requests: a delta from the last of the same kind (a copy engine reads one stream, writes another) */
        p = put_s(p, st->addr[r->kind], r->addr);
        p = put_u(p, r->len);
        p = put_u(p, r->access);
        st->addr[r->kind] = r->addr + r->len;
        return p;
    }
}

size_t siov_trace_bin_encode(struct siov_trace_bin_state *st, const struct siov_trace_rec *r, uint8_t *buf)
{
    bool adi = has_adi(r->kind), same = adi && r->sid == st->sid && r->pasid == st->pasid;
    bool result = r->has_result && r->kind <= SIOV_TRACE_WRITE;
    uint8_t *p = buf + 1;
    buf[0] = (uint8_t)((r->kind & H_KIND) | (result ? H_RESULT : 0) | (r->time ? H_TIME : 0) |
                       (same ? H_SAME_ADI : 0) | (r->seq == st->next_seq ? H_SEQ_NEXT : 0));
    if (r->seq != st->next_seq)
        p = put_u(p, r->seq - st->next_seq); /* the file layer keeps seq increasing */
    st->next_seq = r->seq + 1;
    if (r->time) {
        p = put_s(p, st->time, r->time);
        st->time = r->time;
    }
    if (adi && !same) {
        p = put_u(p, r->sid);
        p = put_u(p, ((uint64_t)r->pasid + 1) & 0xFFFFFFFFu); /* SIOV_NO_PASID: 0 */
        st->sid = r->sid;
        st->pasid = r->pasid;
    }
    p = put_body(st, r, p);
    if (result) {
        p = put_u(p, (uint64_t)r->fault);
        if (r->kind == SIOV_TRACE_XLATE && r->fault == SIOV_OK) {
            p = put_s(p, r->addr, r->xlate.addr);
            p = put_u(p, log2u(r->xlate.page_size));
            p = put_u(p, r->xlate.perm);
            p = put_u(p, r->xlate.did);
        }
    }
    return (size_t)(p - buf);
}

/* ------------------------------------------------------------ decoding */
struct rd {
    const uint8_t *p, *end;
    bool short_input; /* ran out of bytes: more input may complete the record */
    char *err;
    size_t errlen;
    bool bad;
};

static uint64_t get_u(struct rd *d, uint64_t max, const char *what)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < VARINT_MAX; i++) {
        if (d->p == d->end) {
            d->short_input = true;
            return 0;
        }
        uint8_t b = *d->p++;
        v |= (uint64_t)(b & 0x7F) << (7 * i);
        if (!(b & 0x80)) {
            if (v > max && !d->bad) {
                d->bad = true;
                snprintf(d->err, d->errlen, "%s %llu is out of range", what, (unsigned long long)v);
            }
            return v;
        }
    }
    if (!d->bad)
        snprintf(d->err, d->errlen, "%s: a varint longer than %d bytes", what, VARINT_MAX);
    d->bad = true;
    return 0;
}

static uint64_t get_s(struct rd *d, uint64_t from, const char *what)
{
    uint64_t z = get_u(d, UINT64_MAX, what);
    return from + ((z >> 1) ^ (uint64_t)-(int64_t)(z & 1));
}

static void bad(struct rd *d, const char *what, uint64_t v)
{
    if (!d->bad)
        snprintf(d->err, d->errlen, "%s %llu is not one the text form has", what, (unsigned long long)v);
    d->bad = true;
}

static void get_body(struct rd *d, struct siov_trace_bin_state *st, struct siov_trace_rec *r)
{
    switch (r->kind) {
    case SIOV_TRACE_INVAL:
        r->inv_type = (unsigned)get_u(d, SIOV_TRACE_INV_PDEVTLB, "invalidation type");
        if (r->inv_type == 0 || r->inv_type == 5)
            bad(d, "invalidation type", r->inv_type);
        r->inv_gran = (unsigned)get_u(d, 0xF, "granularity");
        r->did = (uint16_t)get_u(d, UINT16_MAX, "domain id");
        r->am = (unsigned)get_u(d, 63, "address mask");
        r->addr = get_u(d, UINT64_MAX, "address");
        return;
    case SIOV_TRACE_DOMAIN:
        r->domain = (uint32_t)get_u(d, UINT32_MAX, "domain");
        r->dom_type = (unsigned)get_u(d, SIOV_TRACE_DOM_NESTED, "domain type");
        r->parent = (uint32_t)get_u(d, UINT32_MAX, "parent");
        if (r->parent && r->dom_type != SIOV_TRACE_DOM_NESTED)
            bad(d, "parent of a domain that is not nested", r->parent);
        return;
    case SIOV_TRACE_ATTACH:
    case SIOV_TRACE_DETACH: r->domain = (uint32_t)get_u(d, UINT32_MAX, "domain"); return;
    case SIOV_TRACE_MAP:
    case SIOV_TRACE_UNMAP:
        r->domain = (uint32_t)get_u(d, UINT32_MAX, "domain");
        r->addr = get_s(d, st->addr[0], "IOVA");
        r->len = get_u(d, UINT64_MAX, "size");
        st->addr[0] = r->addr + r->len;
        if (r->kind == SIOV_TRACE_UNMAP)
            return;
        r->pa = get_s(d, st->pa, "physical address");
        st->pa = r->pa + r->len;
        r->access = (unsigned)get_u(d, SIOV_TRACE_ACCESS_ALL, "permissions");
        return;
    default:
        r->addr = get_s(d, st->addr[r->kind], "address");
        r->len = get_u(d, UINT64_MAX, "length");
        r->access = (unsigned)get_u(d, SIOV_TRACE_ACCESS_ALL, "access");
        st->addr[r->kind] = r->addr + r->len;
        return;
    }
}

static void get_result(struct rd *d, struct siov_trace_rec *r)
{
    r->has_result = true;
    r->fault = (siov_fault)get_u(d, 0xFFFF, "fault");
    if (r->fault && !strcmp(siov_fault_name(r->fault), "?"))
        bad(d, "fault", r->fault);
    if (r->kind != SIOV_TRACE_XLATE || r->fault != SIOV_OK)
        return;
    r->xlate.addr = get_s(d, r->addr, "output address");
    uint64_t shift = get_u(d, 63, "page size");
    r->xlate.page_size = shift < 64 ? 1ull << shift : 0; /* out of range: already an error */
    r->xlate.perm = (unsigned)get_u(d, SIOV_TRACE_ACCESS_ALL, "permissions");
    r->xlate.did = (uint16_t)get_u(d, UINT16_MAX, "domain id");
    if (r->xlate.page_size < SIOV_PAGE_SIZE && !d->bad) {
        d->bad = true;
        snprintf(d->err, d->errlen, "page size below 4K");
    }
}

int siov_trace_bin_decode(struct siov_trace_bin_state *st, const uint8_t *p, size_t n,
                          struct siov_trace_rec *rec, char *err, size_t errlen)
{
    struct rd d = {p, p + n, false, err, errlen, false};
    struct siov_trace_bin_state s = *st;
    if (!n)
        return 0;
    uint8_t h = *d.p++;
    unsigned kind = h & H_KIND;
    if (kind < SIOV_TRACE_XLATE || kind > SIOV_TRACE_KIND_MAX)
        return snprintf(err, errlen, "unknown record kind %u", kind), -1;
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, kind);
    r.seq = s.next_seq + ((h & H_SEQ_NEXT) ? 0 : get_u(&d, UINT64_MAX, "sequence delta"));
    s.next_seq = r.seq + 1;
    if (h & H_TIME)
        r.time = s.time = get_s(&d, s.time, "time");
    if (has_adi(kind) && !(h & H_SAME_ADI)) {
        s.sid = (siov_sid)get_u(&d, UINT16_MAX, "source id");
        uint64_t p1 = get_u(&d, SIOV_PASID_MAX + 1ull, "PASID");
        s.pasid = p1 ? (uint32_t)(p1 - 1) : SIOV_NO_PASID;
    }
    if (has_adi(kind))
        r.sid = s.sid, r.pasid = s.pasid;
    get_body(&d, &s, &r);
    if ((h & H_RESULT) && kind <= SIOV_TRACE_WRITE)
        get_result(&d, &r);
    else if (h & H_RESULT && !d.bad)
        d.bad = true, snprintf(err, errlen, "a %s record carries no result", siov_trace_kind_name(kind));
    if (d.short_input)
        return 0; /* first: values past the end read as 0 and may look malformed */
    if (d.bad)
        return -1;
    *st = s;
    *rec = r;
    return (int)(d.p - p);
}

void siov_trace_bin_header(uint8_t out[SIOV_TRACE_BIN_HEADER])
{
    memset(out, 0, SIOV_TRACE_BIN_HEADER);
    memcpy(out, SIOV_TRACE_BIN_MAGIC, sizeof(SIOV_TRACE_BIN_MAGIC)); /* with its NUL */
    out[8] = SIOV_TRACE_VERSION & 0xFF;
    out[9] = SIOV_TRACE_VERSION >> 8;
}

int siov_trace_bin_check_header(const uint8_t *h, char *err, size_t errlen)
{
    unsigned version = h[8] | (unsigned)h[9] << 8, flags = h[10] | (unsigned)h[11] << 8;
    if (version != SIOV_TRACE_VERSION)
        return snprintf(err, errlen, "binary trace version %u (this library reads %u)", version,
                        SIOV_TRACE_VERSION), -1;
    if (flags || h[12] || h[13] || h[14] || h[15])
        return snprintf(err, errlen, "binary trace header has reserved bits set"), -1;
    return 0;
}

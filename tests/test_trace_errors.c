/* Trace files given bad input: every malformed text field and binary record
 * with the exact error it gives, records neither form can hold, read and
 * write failures of the stream underneath, and the formatter's edges
 * (truncation, values without a name). None may crash or write a record. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testlib.h"

#define DEV SIOV_SID(0, 2, 0)
#define ALL_ACCESS 0x7Fu /* the letters r w x p a t n */

static long file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (long)st.st_size;
}

/* ------------------------------------------------------------ text lines */
struct bad_line {
    const char *line;
    const char *error; /* the whole message siov_trace_parse gives */
};

static const struct bad_line bad_lines[] = {
    {"", "empty record"},
    {" \t ", "empty record"},
    {"0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", "more than 16 words"},
    {"0", "missing record kind"},
    {"0 xlate", "missing source id"},
    {"-1 xlate 00:02.0 1 0 0 r", "sequence number '-1' is not a number"},
    {"+1 xlate 00:02.0 1 0 0 r", "sequence number '+1' is not a number"},
    {"4Kx xlate 00:02.0 1 0 0 r", "sequence number '4Kx' is not a number up to 0xffffffffffffffff"},
    {"4Q xlate 00:02.0 1 0 0 r", "sequence number '4Q' is not a number up to 0xffffffffffffffff"},
    {"0 xlate 00:02.0 1 0x1000 0x40000000000000K r", "length '0x40000000000000K' is not a number up to 0xffffffffffffffff"},
    {"0 xlate 00:02.0 1 0x1000 0x100000000000M r", "length '0x100000000000M' is not a number up to 0xffffffffffffffff"},
    {"0 xlate 00:02.8 1 0x1000 0 r", "source id '00:02.8' is not bus:dev.fn (hex, as 00:02.0)"},
    {"0 xlate 00:02.0x 1 0x1000 0 r", "source id '00:02.0x' is not bus:dev.fn (hex, as 00:02.0)"},
    {"0 xlate 00:02.0 x 0x1000 0 r", "PASID 'x' is not '-' or a number up to 0xfffff"},
    {"0 xlate 00:02.0 5x 0x1000 0 r", "PASID '5x' is not '-' or a number up to 0xfffff"},
    {"0 xlate 00:02.0 -5 0x1000 0 r", "PASID '-5' is not '-' or a number up to 0xfffff"},
    {"0 xlate 00:02.0 1 0x1000 0 r -> ok", "output address 'ok' is not a number"},
    {"0 xlate 00:02.0 1 0x1000 0 r -> 0x1000", "missing page size"},
    {"0 xlate 00:02.0 1 0x1000 0 r -> 0x1000 4K", "missing permissions"},
    {"0 xlate 00:02.0 1 0x1000 0 r -> 0x1000 4K q 1",
     "permissions 'q': letters are r w x p (priv) a (ats) t (translated) n (no-write), or '-'"},
    {"0 xlate 00:02.0 1 0x1000 0 r -> 0x1000 0x3000 rw 1", "page size 12288 is not a power of two of at least 4K"},
    {"0 xlate 00:02.0 1 0x1000 0 r -> 0x1000 2K rw 1", "page size 2048 is not a power of two of at least 4K"},
    {"0 xlate 00:02.0 1 0x1000 0 r -> 0x1000 4K rw 0x10000", "domain id '0x10000' is not a number up to 0xffff"},
    {"0 xlate 00:02.0 1 0x1000 0 r => ok", "unexpected '=>' (a result starts with '->')"},
    {"0 read 00:02.0 1 0x1000", "missing length"},
    {"0 read 00:02.0 1 0x1000 8", "missing access"},
    {"0 read 00:02.0 1 0x1000 8 r -> OK", "result 'OK' is not 'ok' or a fault name"},
    {"0 map", "missing domain number"},
    {"0 map x", "domain number 'x' is not a number"},
    {"0 map 0x100000000", "domain number '0x100000000' is not a number up to 0xffffffff"},
    {"0 map 1", "missing IOVA"},
    {"0 map 1 0x1000", "missing size"},
    {"0 map 1 0x1000 4K", "missing physical address"},
    {"0 map 1 0x1000 4K 0x2000 rw extra", "unexpected 'extra' after the record"},
    {"0 unmap 1", "missing IOVA"},
    {"0 unmap 1 0x1000", "missing size"},
    {"0 unmap 1 0x1000 4K extra", "unexpected 'extra' after the record"},
    {"0 attach 1", "missing source id"},
    {"0 detach 1 00:02.0 1 extra", "unexpected 'extra' after the record"},
    {"0 domain 1", "missing domain type"},
    {"0 domain 1 sl 2", "unexpected '2' after the record"},
    {"0 domain 1 nested 0x100000000", "parent domain '0x100000000' is not a number up to 0xffffffff"},
    {"0 inval", "missing invalidation type"},
    {"0 inval iotlb g=16", "g '16' is not a number up to 0xf"},
    {"0 inval iotlb did=0x10000", "did '0x10000' is not a number up to 0xffff"},
    {"0 inval iotlb sid=00:02.8", "source id '00:02.8' is not bus:dev.fn (hex, as 00:02.0)"},
    {"0 inval iotlb pasid=0x100000", "PASID '0x100000' is not '-' or a number up to 0xfffff"},
    {"0 inval iotlb addr=x", "addr 'x' is not a number"},
    {"0 inval 5", "unknown invalidation type '5'"},
};

static void test_text_bad_fields(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
        struct siov_trace_rec r;
        siov_trace_rec_init(&r, SIOV_TRACE_UNMAP);
        r.seq = 77;
        char err[300];
        int rc = siov_trace_parse(bad_lines[i].line, &r, err, sizeof(err));
        if (rc != -EINVAL || strcmp(err, bad_lines[i].error))
            fail_msg("'%s': rc %d, error \"%s\", expected \"%s\"", bad_lines[i].line, rc, err, bad_lines[i].error);
        assert_int_equal(r.seq, 77); /* the record is left alone */
        assert_int_equal(r.kind, SIOV_TRACE_UNMAP);
    }
}

/* Every field at its largest, and numbers at the edge of their suffix. */
static void test_text_edges_accepted(void **state)
{
    (void)state;
    struct siov_trace_rec r;
    char err[200] = "x";
    assert_int_equal(siov_trace_parse("0 inval pdevtlb g=15 did=65535 sid=ff:1f.7 pasid=0xfffff "
                                      "addr=0xfffffffffffff000 am=63", &r, err, sizeof(err)), 0);
    assert_string_equal(err, "");
    assert_int_equal(r.inv_type, SIOV_TRACE_INV_PDEVTLB);
    assert_int_equal(r.inv_gran, 15);
    assert_int_equal(r.did, 65535);
    assert_int_equal(r.sid, SIOV_SID(0xff, 31, 7));
    assert_int_equal(r.pasid, SIOV_PASID_MAX);
    assert_int_equal(r.addr, 0xfffffffffffff000ull);
    assert_int_equal(r.am, 63);
    assert_int_equal(siov_trace_parse("18446744073709551615 @1T xlate 00:02.0 - 0x1000 0x3fffffffffffffK rwxpatn "
                                      "-> 0x8000000000000000 0x8000000000000000 - 65535", &r, NULL, 0), 0);
    assert_int_equal(r.seq, UINT64_MAX);
    assert_int_equal(r.time, 1ull << 40);
    assert_int_equal(r.pasid, SIOV_NO_PASID);
    assert_int_equal(r.len, 0xfffffffffffffc00ull);
    assert_int_equal(r.access, ALL_ACCESS);
    assert_int_equal(r.xlate.page_size, 1ull << 63);
    assert_int_equal(r.xlate.perm, 0);
    assert_int_equal(r.xlate.did, 65535);
    assert_int_equal(siov_trace_parse("1 map 0xffffffff 0 1G 0 -", &r, NULL, 0), 0);
    assert_int_equal(r.domain, UINT32_MAX);
    assert_int_equal(r.len, 1ull << 30);
    assert_int_equal(siov_trace_parse("2 write 00:00.0 0 0 2M w -> SGN.10", &r, NULL, 0), 0);
    assert_int_equal(r.len, 2ull << 20);
    assert_true(r.has_result);
    assert_int_equal(r.fault, SIOV_FAULT_SGN_10);
    /* a NULL record, and an error buffer of no size, are left unwritten */
    assert_int_equal(siov_trace_parse("0 domain 1 sl", NULL, err, sizeof(err)), -EINVAL);
    assert_string_equal(err, "no line or record");
    err[0] = 'x';
    assert_int_equal(siov_trace_parse("0 domain 1 big", &r, err, 0), -EINVAL);
    assert_int_equal(err[0], 'x');
    assert_int_equal(siov_trace_parse("0 domain 1 big", &r, NULL, sizeof(err)), -EINVAL); /* no buffer */
}

/* ------------------------------------------------------------ formatting */
static void test_format_edges(void **state)
{
    (void)state;
    struct siov_trace_rec r;
    char buf[128];
    siov_trace_rec_init(NULL, SIOV_TRACE_XLATE); /* ignored */
    assert_string_equal(siov_trace_kind_name(0), "?");
    assert_string_equal(siov_trace_kind_name(SIOV_TRACE_UNMAP), "unmap");
    assert_string_equal(siov_trace_kind_name(SIOV_TRACE_KIND_MAX + 1), "?");
    /* kinds and values without a name */
    siov_trace_rec_init(&r, 0);
    r.seq = 3;
    assert_int_equal(siov_trace_format(&r, buf, sizeof(buf)), 5);
    assert_string_equal(buf, "3 ? 0");
    r.kind = SIOV_TRACE_KIND_MAX + 1;
    siov_trace_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "3 ? 0");
    siov_trace_rec_init(&r, SIOV_TRACE_INVAL);
    const unsigned unnamed[] = {0, 5, 9, 1000};
    for (unsigned i = 0; i < 4; i++) {
        r.inv_type = unnamed[i];
        char want[64];
        snprintf(want, sizeof(want), "0 inval %u g=0 did=0", unnamed[i]);
        siov_trace_format(&r, buf, sizeof(buf));
        assert_string_equal(buf, want);
    }
    siov_trace_rec_init(&r, SIOV_TRACE_DOMAIN);
    r.domain = 1, r.dom_type = SIOV_TRACE_DOM_NESTED + 1, r.parent = 9;
    siov_trace_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "0 domain 1 ?");
    r.dom_type = SIOV_TRACE_DOM_PT;
    siov_trace_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "0 domain 1 pt");
    /* an invalidation's sid and PASID; access bits beyond the seven letters print as none */
    siov_trace_rec_init(&r, SIOV_TRACE_INVAL);
    r.inv_type = SIOV_TRACE_INV_PDEVTLB, r.sid = SIOV_SID(0xff, 31, 7), r.pasid = 5;
    siov_trace_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "0 inval pdevtlb g=0 did=0 sid=ff:1f.7 pasid=5");
    r.sid = SIOV_SID(0x12, 5, 6);
    siov_trace_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "0 inval pdevtlb g=0 did=0 sid=12:05.6 pasid=5");
    siov_trace_rec_init(&r, SIOV_TRACE_READ);
    r.access = 0x80;
    siov_trace_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "0 read 00:00.0 - 0x0 0 -");
    r.access = 0xC1;
    siov_trace_format(&r, buf, sizeof(buf));
    assert_string_equal(buf, "0 read 00:00.0 - 0x0 0 rn");
    /* sizes: the largest suffix is T */
    siov_trace_rec_init(&r, SIOV_TRACE_UNMAP);
    const struct {
        uint64_t len;
        const char *text;
    } sizes[] = {{0, "0"}, {1023, "1023"}, {1024, "1K"}, {1536 << 10, "1536K"}, {1ull << 40, "1T"},
                 {3ull << 40, "3T"}, {1ull << 50, "1024T"}, {(1ull << 50) + 1024, "1099511627777K"}};
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        char want[64];
        r.len = sizes[i].len;
        snprintf(want, sizeof(want), "0 unmap 0 0x0 %s", sizes[i].text);
        siov_trace_format(&r, buf, sizeof(buf));
        assert_string_equal(buf, want);
    }
    /* truncation: the length it needs, as snprintf, and always terminated */
    r.len = 4096;
    int n = siov_trace_format(&r, buf, sizeof(buf));
    assert_int_equal(n, (int)strlen("0 unmap 0 0x0 4K"));
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(siov_trace_format(&r, buf, 5), n);
    assert_string_equal(buf, "0 un");
    memset(buf, 'Z', sizeof(buf));
    assert_int_equal(siov_trace_format(&r, buf, 12), n);
    assert_string_equal(buf, "0 unmap 0 0");
    assert_int_equal(siov_trace_format(&r, NULL, 100), n);
    buf[0] = 'Z';
    assert_int_equal(siov_trace_format(&r, buf, 0), n);
    assert_int_equal(buf[0], 'Z');
    assert_int_equal(siov_trace_format(NULL, buf, sizeof(buf)), 0);
    assert_string_equal(buf, "");
}

/* ------------------------------------------------------ binary records */
static const uint8_t header[16] = {'S', 'I', 'O', 'V', 'T', 'R', 'C', 0, 1, 0, 0, 0, 0, 0, 0, 0};

/* The error reading header + body to its end ("(no error)" if none), and how
   many records came before it. */
static const char *binary_error(const uint8_t *body, size_t n, char *out, size_t len, unsigned *records)
{
    uint8_t b[256];
    memcpy(b, header, 16);
    memcpy(b + 16, body, n);
    char *p = tl_tmp_path("trace-errors", "bin");
    tl_write_file(p, b, 16 + n);
    struct siov_trace *t = siov_trace_open(p, "r");
    unlink(p);
    free(p);
    assert_non_null(t);
    assert_true(siov_trace_is_binary(t));
    struct siov_trace_rec r;
    int rc;
    unsigned k = 0;
    while ((rc = siov_trace_read(t, &r)) == 1)
        k++;
    snprintf(out, len, "%s", rc == 0 ? "(no error)" : siov_trace_error(t));
    if (rc)
        assert_int_equal(rc, -EINVAL);
    if (records)
        *records = k;
    siov_trace_close(t);
    return out;
}

struct bad_bin {
    uint8_t b[24];
    size_t n;
    const char *error;
};

#define NEXT 0x80u  /* seq is the last one's + 1 */
#define RESULT 0x10u
static const struct bad_bin bad_bins[] = {
    {{NEXT | 0}, 1, "record 0 (byte 16): unknown record kind 0"},
    {{NEXT | SIOV_TRACE_INVAL, 0, 0, 0, 0, 0, 0, 0}, 8,
     "record 0 (byte 16): invalidation type 0 is not one the text form has"},
    {{NEXT | SIOV_TRACE_INVAL, 0, 0, 5, 0, 0, 0, 0}, 8,
     "record 0 (byte 16): invalidation type 5 is not one the text form has"},
    {{NEXT | SIOV_TRACE_INVAL, 0, 0, 9, 0, 0, 0, 0}, 8, "record 0 (byte 16): invalidation type 9 is out of range"},
    {{NEXT | SIOV_TRACE_INVAL, 0, 0, 2, 16, 0, 0, 0}, 8, "record 0 (byte 16): granularity 16 is out of range"},
    {{NEXT | SIOV_TRACE_INVAL, 0, 0, 2, 0, 0x80, 0x80, 4, 0, 0}, 10,
     "record 0 (byte 16): domain id 65536 is out of range"},
    {{NEXT | SIOV_TRACE_INVAL, 0, 0, 2, 0, 0, 64, 0}, 8, "record 0 (byte 16): address mask 64 is out of range"},
    {{NEXT | SIOV_TRACE_DOMAIN, 1, 0, 2}, 4,
     "record 0 (byte 16): parent of a domain that is not nested 2 is not one the text form has"},
    {{NEXT | SIOV_TRACE_DOMAIN, 1, 4, 0}, 4, "record 0 (byte 16): domain type 4 is out of range"},
    {{NEXT | SIOV_TRACE_DOMAIN, 0x80, 0x80, 0x80, 0x80, 0x10, 0, 0}, 8,
     "record 0 (byte 16): domain 4294967296 is out of range"},
    /* a result on a marker that is malformed already: the first error stays */
    {{NEXT | RESULT | SIOV_TRACE_DOMAIN, 1, 4, 0}, 4, "record 0 (byte 16): domain type 4 is out of range"},
    {{NEXT | RESULT | SIOV_TRACE_MAP, 1, 0, 0, 0, 0}, 6, "record 0 (byte 16): a map record carries no result"},
    {{NEXT | SIOV_TRACE_MAP, 1, 0, 0, 0, 0x80, 1}, 7, "record 0 (byte 16): permissions 128 is out of range"},
    /* requests: sid, PASID + 1, address delta, length, access, [fault, out delta, page shift, perm, did] */
    {{NEXT | SIOV_TRACE_READ, 0, 0x81, 0x80, 0x40, 0, 0, 1}, 8, "record 0 (byte 16): PASID 1048577 is out of range"},
    {{NEXT | SIOV_TRACE_READ, 0, 0, 0, 0, 0x80, 1}, 7, "record 0 (byte 16): access 128 is out of range"},
    {{NEXT | RESULT | SIOV_TRACE_READ, 0, 0, 0, 0, 1, 0x80, 0x80, 4}, 9,
     "record 0 (byte 16): fault 65536 is out of range"},
    {{NEXT | RESULT | SIOV_TRACE_READ, 0, 0, 0, 0, 1, 0xFF, 0xFF, 3}, 9,
     "record 0 (byte 16): fault 65535 is not one the text form has"},
    {{NEXT | RESULT | SIOV_TRACE_READ, 0, 0, 0, 0, 1, 0xFF, 0xFF, 1}, 9,
     "record 0 (byte 16): fault 32767 is not one the text form has"},
    {{NEXT | RESULT | SIOV_TRACE_XLATE, 0, 0, 0, 0, 1, 0, 0, 64, 1, 0}, 11,
     "record 0 (byte 16): page size 64 is out of range"},
    {{NEXT | RESULT | SIOV_TRACE_XLATE, 0, 0, 0, 0, 1, 0, 0, 11, 1, 0}, 11, "record 0 (byte 16): page size below 4K"},
    {{NEXT | RESULT | SIOV_TRACE_XLATE, 0, 0, 0, 0, 1, 0, 0, 12, 0x80, 1, 0}, 12,
     "record 0 (byte 16): permissions 128 is out of range"},
    {{NEXT | RESULT | SIOV_TRACE_XLATE, 0, 0, 0, 0, 1, 0, 0, 12, 1, 0x80, 0x80, 4}, 13,
     "record 0 (byte 16): domain id 65536 is out of range"},
    /* an out-of-range value, then a varint too long: the first error stays */
    {{NEXT | SIOV_TRACE_XLATE, 0x80, 0x80, 4, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0},
     17, "record 0 (byte 16): source id 65536 is out of range"},
    {{NEXT | SIOV_TRACE_XLATE, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x80, 0x80, 4, 0, 0, 0}, 17,
     "record 0 (byte 16): source id: a varint longer than 10 bytes"},
    /* a sequence delta that wraps round to the last number */
    {{NEXT | SIOV_TRACE_DOMAIN, 1, 0, 0, SIOV_TRACE_DOMAIN, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1,
      2, 0, 0},
     18, "record 1: sequence number 0 does not follow 0"},
    /* a record cut short after a good one */
    {{NEXT | SIOV_TRACE_DOMAIN, 1, 0, 0, NEXT | SIOV_TRACE_MAP, 1, 0}, 7,
     "record 1 (byte 20): cut short at the end of the file"},
};

static void test_binary_bad_records(void **state)
{
    (void)state;
    char err[300];
    for (size_t i = 0; i < sizeof(bad_bins) / sizeof(bad_bins[0]); i++) {
        binary_error(bad_bins[i].b, bad_bins[i].n, err, sizeof(err), NULL);
        if (strcmp(err, bad_bins[i].error))
            fail_msg("case %zu: error \"%s\", expected \"%s\"", i, err, bad_bins[i].error);
    }
}

/* Records at the edges the binary form does hold, byte for byte. */
static void test_binary_edges_accepted(void **state)
{
    (void)state;
    char err[300];
    unsigned k;
    /* every invalidation type but 5, the largest fields */
    const uint8_t inval[] = {NEXT | SIOV_TRACE_INVAL, 0xFF, 0xFF, 3, 0x80, 0x80, 0x40, 8, 15, 0xFF, 0xFF, 3, 63, 0,
                             NEXT | SIOV_TRACE_INVAL | 0x40, 1, 0, 0, 0, 0};
    assert_string_equal(binary_error(inval, sizeof(inval), err, sizeof(err), &k), "(no error)");
    assert_int_equal(k, 2);
    /* a nested domain with a parent; a time stamp; a translation of 2^63 bytes */
    const uint8_t more[] = {NEXT | SIOV_TRACE_DOMAIN, 7, SIOV_TRACE_DOM_NESTED, 1,
                            NEXT | RESULT | 0x20 | SIOV_TRACE_XLATE, 10, 0, 0, 0, 0, ALL_ACCESS, 0, 0, 63,
                            ALL_ACCESS, 0xFF, 0xFF, 3};
    assert_string_equal(binary_error(more, sizeof(more), err, sizeof(err), &k), "(no error)");
    assert_int_equal(k, 2);
}

/* Each byte of the header's flags and reserved word fails the open. */
static void test_binary_header_bytes(void **state)
{
    (void)state;
    for (unsigned i = 8; i < 16; i++) {
        uint8_t b[16];
        memcpy(b, header, 16);
        b[i] ^= 1;
        char *p = tl_tmp_path("trace-errors", "hdr");
        tl_write_file(p, b, 16);
        errno = 0;
        struct siov_trace *t = siov_trace_open(p, "r");
        if (t)
            fail_msg("header byte %u changed: opened", i);
        assert_int_equal(errno, EINVAL);
        unlink(p);
        free(p);
    }
}

/* ------------------------------------------------- what writers refuse */
static void expect_refused(const struct siov_trace_rec *r, const char *what)
{
    for (unsigned b = 0; b < 2; b++) {
        char *p = tl_tmp_path("trace-errors", "refused");
        struct siov_trace *t = siov_trace_open(p, b ? "wb" : "w");
        assert_non_null(t);
        long size;
        if (siov_trace_record(t, r) != -EINVAL || siov_trace_write(t, r) != -EINVAL)
            fail_msg("%s (%s form): accepted", what, b ? "binary" : "text");
        assert_int_equal(siov_trace_count(t), 0);
        assert_int_equal(siov_trace_close(t), 0);
        size = file_size(p);
        t = siov_trace_open(p, "r");
        struct siov_trace_rec got;
        assert_int_equal(siov_trace_read(t, &got), 0); /* nothing was written */
        siov_trace_close(t);
        assert_true(size > 0);
        unlink(p);
        free(p);
    }
}

static void test_writers_refuse(void **state)
{
    (void)state;
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, SIOV_TRACE_READ), r.access = 0x80;
    expect_refused(&r, "access bit 7");
    siov_trace_rec_init(&r, SIOV_TRACE_XLATE), r.has_result = true, r.xlate.page_size = 4096, r.xlate.perm = 0x80;
    expect_refused(&r, "permission bit 7");
    siov_trace_rec_init(&r, SIOV_TRACE_XLATE), r.pasid = SIOV_PASID_MAX + 1;
    expect_refused(&r, "PASID 2^20");
    siov_trace_rec_init(&r, SIOV_TRACE_DOMAIN), r.dom_type = SIOV_TRACE_DOM_NESTED + 1;
    expect_refused(&r, "domain type 4");
    siov_trace_rec_init(&r, SIOV_TRACE_DOMAIN), r.dom_type = SIOV_TRACE_DOM_SL, r.parent = 1;
    expect_refused(&r, "a parent of a second-level domain");
    const unsigned types[] = {0, 5, SIOV_TRACE_INV_PDEVTLB + 1};
    for (unsigned i = 0; i < 3; i++) {
        siov_trace_rec_init(&r, SIOV_TRACE_INVAL), r.inv_type = types[i];
        expect_refused(&r, "an invalidation type without a name");
    }
    siov_trace_rec_init(&r, SIOV_TRACE_INVAL), r.inv_type = SIOV_TRACE_INV_IOTLB, r.inv_gran = 16;
    expect_refused(&r, "granularity 16");
    siov_trace_rec_init(&r, SIOV_TRACE_INVAL), r.inv_type = SIOV_TRACE_INV_IOTLB, r.am = 64;
    expect_refused(&r, "address mask 64");
    siov_trace_rec_init(&r, SIOV_TRACE_XLATE), r.has_result = true, r.xlate.page_size = 2048;
    expect_refused(&r, "a 2 KiB page");
    r.xlate.page_size = 0x3000;
    expect_refused(&r, "a 12 KiB page");
    r.xlate.page_size = 0;
    expect_refused(&r, "no page size");
    siov_trace_rec_init(&r, SIOV_TRACE_WRITE), r.has_result = true, r.fault = (siov_fault)0x7FFF;
    expect_refused(&r, "an unknown fault");
}

/* The edges writers accept come back as written; a marker's result is not
   kept (markers have none). */
static void test_writers_accept_edges(void **state)
{
    (void)state;
    for (unsigned b = 0; b < 2; b++) {
        char *p = tl_tmp_path("trace-errors", "edges");
        struct siov_trace *t = siov_trace_open(p, b ? "wb" : "w");
        struct siov_trace_rec r, got;
        siov_trace_rec_init(&r, SIOV_TRACE_MAP);
        r.domain = 2, r.addr = 0x1000, r.len = 4096, r.pa = 0x5000, r.access = ALL_ACCESS;
        r.has_result = true, r.fault = SIOV_FAULT_SSL_2;
        assert_int_equal(siov_trace_record(t, &r), 0);
        siov_trace_rec_init(&r, SIOV_TRACE_INVAL);
        r.inv_type = SIOV_TRACE_INV_PDEVTLB, r.inv_gran = 15, r.am = 63, r.sid = DEV, r.pasid = SIOV_PASID_MAX;
        assert_int_equal(siov_trace_record(t, &r), 0);
        r.inv_type = SIOV_TRACE_INV_CONTEXT, r.pasid = SIOV_NO_PASID;
        assert_int_equal(siov_trace_record(t, &r), 0);
        r.inv_type = SIOV_TRACE_INV_IEC;
        assert_int_equal(siov_trace_record(t, &r), 0);
        siov_trace_rec_init(&r, SIOV_TRACE_DOMAIN), r.dom_type = SIOV_TRACE_DOM_NESTED, r.parent = 3;
        assert_int_equal(siov_trace_record(t, &r), 0);
        siov_trace_rec_init(&r, SIOV_TRACE_XLATE);
        r.has_result = true, r.xlate.page_size = 4096, r.xlate.perm = ALL_ACCESS;
        assert_int_equal(siov_trace_record(t, &r), 0);
        r.xlate.page_size = 1ull << 63;
        assert_int_equal(siov_trace_record(t, &r), 0);
        siov_trace_rec_init(&r, SIOV_TRACE_READ), r.has_result = true, r.xlate.page_size = 3; /* not an xlate */
        assert_int_equal(siov_trace_record(t, &r), 0);
        assert_int_equal(siov_trace_close(t), 0);
        t = siov_trace_open(p, "r");
        assert_int_equal(siov_trace_read(t, &got), 1);
        assert_int_equal(got.kind, SIOV_TRACE_MAP);
        assert_int_equal(got.access, ALL_ACCESS);
        assert_false(got.has_result);
        assert_int_equal(got.fault, SIOV_OK);
        assert_int_equal(siov_trace_read(t, &got), 1);
        assert_int_equal(got.inv_type, SIOV_TRACE_INV_PDEVTLB);
        assert_int_equal(got.inv_gran, 15);
        assert_int_equal(got.am, 63);
        assert_int_equal(got.sid, DEV);
        assert_int_equal(got.pasid, SIOV_PASID_MAX);
        assert_int_equal(siov_trace_read(t, &got), 1);
        assert_int_equal(got.inv_type, SIOV_TRACE_INV_CONTEXT);
        assert_int_equal(got.pasid, SIOV_NO_PASID);
        assert_int_equal(siov_trace_read(t, &got), 1);
        assert_int_equal(got.inv_type, SIOV_TRACE_INV_IEC);
        assert_int_equal(siov_trace_read(t, &got), 1);
        assert_int_equal(got.parent, 3);
        assert_int_equal(siov_trace_read(t, &got), 1);
        assert_int_equal(got.xlate.page_size, 4096);
        assert_int_equal(got.xlate.perm, ALL_ACCESS);
        assert_int_equal(siov_trace_read(t, &got), 1);
        assert_int_equal(got.xlate.page_size, 1ull << 63);
        assert_int_equal(siov_trace_read(t, &got), 1);
        assert_int_equal(got.kind, SIOV_TRACE_READ);
        assert_int_equal(got.seq, 7);
        assert_int_equal(siov_trace_read(t, &got), 0);
        siov_trace_close(t);
        unlink(p);
        free(p);
    }
}

/* ---------------------------------------------------- streams that fail */
struct cookie {
    const char *data;
    size_t len, pos;
};

static ssize_t cookie_read(void *c, char *buf, size_t size)
{
    struct cookie *k = c;
    if (k->pos == k->len) {
        errno = EIO;
        return -1;
    }
    size_t n = k->len - k->pos < size ? k->len - k->pos : size;
    memcpy(buf, k->data + k->pos, n);
    k->pos += n;
    return (ssize_t)n;
}

/* A stream that gives data, then fails every read. */
static FILE *failing_stream(struct cookie *k, const void *data, size_t len)
{
    *k = (struct cookie){data, len, 0};
    FILE *f = fopencookie(k, "r", (cookie_io_functions_t){.read = cookie_read});
    assert_non_null(f);
    return f;
}

static void test_read_errors(void **state)
{
    (void)state;
    struct cookie k;
    struct siov_trace_rec r;
    /* text: the records before the failure, then -EIO */
    const char text[] = "siov-trace 1\n0 domain 1 sl\n1 domain 2 sl";
    FILE *f = failing_stream(&k, text, sizeof(text) - 1);
    struct siov_trace *t = siov_trace_open_stream(f, "r");
    assert_non_null(t);
    assert_false(siov_trace_is_binary(t));
    assert_int_equal(siov_trace_read(t, &r), 1);
    assert_int_equal(r.domain, 1);
    assert_int_equal(siov_trace_read(t, &r), -EIO);
    assert_non_null(strstr(siov_trace_error(t), "read error: "));
    assert_int_equal(siov_trace_read(t, &r), -EINVAL); /* the error stays */
    assert_int_equal(siov_trace_close(t), 0);
    fclose(f);
    /* binary: the same */
    uint8_t bin[16 + 7];
    memcpy(bin, header, 16);
    memcpy(bin + 16, (uint8_t[]){NEXT | SIOV_TRACE_DOMAIN, 1, 0, 0, NEXT | SIOV_TRACE_DOMAIN, 2, 0}, 7);
    f = failing_stream(&k, bin, sizeof(bin));
    t = siov_trace_open_stream(f, "rb");
    assert_non_null(t);
    assert_true(siov_trace_is_binary(t));
    assert_int_equal(siov_trace_read(t, &r), 1);
    assert_int_equal(r.domain, 1);
    assert_int_equal(siov_trace_read(t, &r), -EIO);
    assert_non_null(strstr(siov_trace_error(t), "read error: "));
    assert_int_equal(siov_trace_count(t), 1);
    assert_int_equal(siov_trace_close(t), 0);
    fclose(f);
    /* failing before the form is known: no trace */
    f = failing_stream(&k, "siov", 4);
    errno = 0;
    assert_null(siov_trace_open_stream(f, "r"));
    assert_int_equal(errno, EINVAL);
    fclose(f);
    /* a directory reads as no trace; writing one fails with the system's errno */
    errno = 0;
    assert_null(siov_trace_open("/tmp", "r"));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(siov_trace_open("/tmp", "wb"));
    assert_int_equal(errno, EISDIR);
}

/* Write errors: each write to an unbuffered full device fails; the first
   error is what close reports, a refused record's included. */
static void test_write_errors(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    setvbuf(f, NULL, _IONBF, 0);
    struct siov_trace *t = siov_trace_open_stream(f, "wb"); /* the header fails already */
    assert_non_null(t);
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, SIOV_TRACE_XLATE);
    assert_int_equal(siov_trace_record(t, &r), -ENOSPC);
    assert_int_equal(siov_trace_record(t, &r), -ENOSPC);
    assert_int_equal(siov_trace_count(t), 2);
    assert_int_equal(siov_trace_close(t), -ENOSPC);
    fclose(f);
    /* buffered, by path: the flush at close fails */
    t = siov_trace_open("/dev/full", "w");
    if (!t)
        skip();
    assert_int_equal(siov_trace_record(t, &r), 0);
    assert_int_equal(siov_trace_close(t), -ENOSPC);
    /* a record the hook could not write is the first error: it stays */
    t = siov_trace_open("/dev/full", "wb");
    r.kind = 0;
    siov_trace_hook(t, &r);
    assert_int_equal(siov_trace_count(t), 0);
    assert_int_equal(siov_trace_close(t), -EINVAL);
}

/* The hook: a record it could not write fails close; later ones still go in. */
static void test_hook_errors(void **state)
{
    (void)state;
    struct siov_trace_rec r, bad;
    siov_trace_rec_init(&r, SIOV_TRACE_READ);
    siov_trace_rec_init(&bad, SIOV_TRACE_READ);
    bad.access = 0x100;
    siov_trace_hook(NULL, &r); /* no trace: nothing, no crash */
    char *p = tl_tmp_path("trace-errors", "hook");
    struct siov_trace *t = siov_trace_open(p, "w");
    siov_trace_hook(t, &r);
    siov_trace_hook(t, &bad);
    bad.kind = 0;
    siov_trace_hook(t, &bad);
    r.addr = 0x2000;
    siov_trace_hook(t, &r);
    assert_int_equal(siov_trace_count(t), 2);
    assert_int_equal(siov_trace_close(t), -EINVAL);
    t = siov_trace_open(p, "r");
    struct siov_trace_rec got;
    assert_int_equal(siov_trace_read(t, &got), 1);
    assert_int_equal(siov_trace_read(t, &got), 1);
    assert_int_equal(got.seq, 1);
    assert_int_equal(got.addr, 0x2000);
    assert_int_equal(siov_trace_read(t, &got), 0);
    siov_trace_close(t);
    /* a hook into a trace open for reading: the record fails, and so does close */
    t = siov_trace_open(p, "rb");
    assert_non_null(t);
    siov_trace_hook(t, &r);
    assert_int_equal(siov_trace_close(t), -EBADF);
    unlink(p);
    free(p);
}

/* Misuse the other tests do not reach. */
static void test_misuse(void **state)
{
    (void)state;
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, SIOV_TRACE_XLATE);
    errno = 0;
    assert_null(siov_trace_open("/tmp/x", NULL));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(siov_trace_open_stream(stdin, NULL));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(siov_trace_open_stream(NULL, "r"));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(siov_trace_open_stream(stdin, "a"));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(siov_trace_open_stream(stdin, "r+"));
    assert_int_equal(errno, EINVAL);
    assert_false(siov_trace_is_binary(NULL));
    assert_int_equal(siov_trace_read(NULL, &r), -EINVAL);
    assert_int_equal(siov_trace_write(NULL, &r), -EINVAL);
    char *p = tl_tmp_path("trace-errors", "misuse");
    struct siov_trace *t = siov_trace_open(p, "wb");
    assert_true(siov_trace_is_binary(t));
    assert_int_equal(siov_trace_write(t, NULL), -EINVAL);
    assert_int_equal(siov_trace_close(t), 0);
    t = siov_trace_open(p, "rb");
    assert_non_null(t);
    assert_int_equal(siov_trace_write(t, &r), -EBADF);
    assert_int_equal(siov_trace_read(t, &r), 0);
    assert_int_equal(siov_trace_close(t), 0);
    unlink(p);
    free(p);
}

/* Comments, blanks, tabs and CRs at line ends are not records; nor is a
   line of nothing else, in any order. */
static void test_text_line_ends(void **state)
{
    (void)state;
    const char text[] = "siov-trace 1\t\r\n0 domain 1 sl\t\r\n\t\n\r \n\r\t\n \r\n\r\n"
                        "1 domain 2 fl \r\n2 domain 3 pt#x\n";
    char *p = tl_tmp_path("trace-errors", "ends");
    tl_write_file(p, text, sizeof(text) - 1);
    struct siov_trace *t = siov_trace_open(p, "r");
    struct siov_trace_rec r;
    for (unsigned i = 0; i < 3; i++) {
        assert_int_equal(siov_trace_read(t, &r), 1);
        assert_int_equal(r.domain, i + 1);
        assert_int_equal(r.dom_type, i);
    }
    assert_int_equal(siov_trace_read(t, &r), 0);
    assert_int_equal(siov_trace_read(t, &r), 0); /* the end stays the end, no error */
    assert_string_equal(siov_trace_error(t), "");
    siov_trace_close(t);
    unlink(p);
    free(p);
}

/* A line may be up to 4096 bytes when it crosses the reader's 64 KiB
   buffer; one byte more is an error. */
static void long_line_at_refill(unsigned len, bool ok)
{
    const size_t at = 65535 - len; /* the first read fills 65535 bytes: the line ends there, its newline after */
    char *b = malloc(at + len + 16), *p = b;
    p += sprintf(p, "siov-trace 1\n");
    while ((size_t)(p - b) < at) { /* comment lines up to the long one */
        size_t n = at - (size_t)(p - b) < 4000 ? at - (size_t)(p - b) : 4000;
        memset(p, 'y', n);
        p[0] = '#', p[n - 1] = '\n';
        p += n;
    }
    memset(p, 'x', len);
    p[0] = '#';
    p += len;
    memcpy(p, "\n0 domain 1 sl\n", 15);
    char *path = tl_tmp_path("trace-errors", "long");
    tl_write_file(path, b, (size_t)(p - b) + 15);
    struct siov_trace *t = siov_trace_open(path, "r");
    struct siov_trace_rec r;
    if (ok) {
        assert_int_equal(siov_trace_read(t, &r), 1);
        assert_int_equal(r.kind, SIOV_TRACE_DOMAIN);
        assert_string_equal(siov_trace_error(t), "");
    } else {
        assert_int_equal(siov_trace_read(t, &r), -EINVAL);
        assert_non_null(strstr(siov_trace_error(t), "longer than 4096 bytes"));
    }
    siov_trace_close(t);
    unlink(path);
    free(path);
    free(b);
}

static void test_line_limit_at_refill(void **state)
{
    (void)state;
    long_line_at_refill(4096, true);
    long_line_at_refill(4097, false);
}

/* The binary magic alone (8 bytes) is a header cut short, not a text trace. */
static void test_magic_alone(void **state)
{
    (void)state;
    for (size_t n = 8; n < 16; n++) {
        char *p = tl_tmp_path("trace-errors", "magic");
        tl_write_file(p, header, n);
        errno = 0;
        if (siov_trace_open(p, "r"))
            fail_msg("%zu header bytes: opened", n);
        assert_int_equal(errno, EINVAL);
        unlink(p);
        free(p);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_bad_fields),
        cmocka_unit_test(test_text_edges_accepted),
        cmocka_unit_test(test_format_edges),
        cmocka_unit_test(test_binary_bad_records),
        cmocka_unit_test(test_binary_edges_accepted),
        cmocka_unit_test(test_binary_header_bytes),
        cmocka_unit_test(test_writers_refuse),
        cmocka_unit_test(test_writers_accept_edges),
        cmocka_unit_test(test_read_errors),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_hook_errors),
        cmocka_unit_test(test_misuse),
        cmocka_unit_test(test_text_line_ends),
        cmocka_unit_test(test_line_limit_at_refill),
        cmocka_unit_test(test_magic_alone),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

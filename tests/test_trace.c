/* Trace files (text and binary) and the unit's trace hook: round trips of
 * every field, the errors of malformed traces with their position, API
 * misuse, and what the hook reports for translations, DMA and invalidations. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inv_queue.h"
#include "testlib.h"

#define POOL (1ull << 20)
#define POOL_SIZE (7ull << 20)
#define DEV SIOV_SID(0, 2, 0)

/* ------------------------------------------------------------ helpers */
static void assert_rec_equal(const struct siov_trace_rec *a, const struct siov_trace_rec *b)
{
    assert_int_equal(a->seq, b->seq);
    assert_int_equal(a->time, b->time);
    assert_int_equal(a->kind, b->kind);
    assert_int_equal(a->sid, b->sid);
    assert_int_equal(a->pasid, b->pasid);
    assert_int_equal(a->addr, b->addr);
    assert_int_equal(a->len, b->len);
    assert_int_equal(a->access, b->access);
    assert_int_equal(a->domain, b->domain);
    assert_int_equal(a->parent, b->parent);
    assert_int_equal(a->dom_type, b->dom_type);
    assert_int_equal(a->pa, b->pa);
    assert_int_equal(a->inv_type, b->inv_type);
    assert_int_equal(a->inv_gran, b->inv_gran);
    assert_int_equal(a->did, b->did);
    assert_int_equal(a->am, b->am);
    assert_int_equal(a->has_result, b->has_result);
    assert_int_equal(a->fault, b->fault);
    assert_int_equal(a->xlate.addr, b->xlate.addr);
    assert_int_equal(a->xlate.page_size, b->xlate.page_size);
    assert_int_equal(a->xlate.perm, b->xlate.perm);
    assert_int_equal(a->xlate.did, b->xlate.did);
}

/* A trace of every kind and corner: NO_PASID, the largest PASID and sid,
   addresses going down (negative deltas), gaps in seq, time stamps,
   results of every shape. */
static unsigned sample(struct siov_trace_rec *r, unsigned max)
{
    unsigned n = 0;
    struct siov_trace_rec *x;
#define NEXT(k) (x = &r[n], siov_trace_rec_init(x, (k)), x->seq = n ? r[n - 1].seq + 1 + (n % 3 == 0) * 7 : 0, n++, x)
    x = NEXT(SIOV_TRACE_DOMAIN), x->domain = 1, x->dom_type = SIOV_TRACE_DOM_SL;
    x = NEXT(SIOV_TRACE_DOMAIN), x->domain = 7, x->dom_type = SIOV_TRACE_DOM_NESTED, x->parent = 1;
    x = NEXT(SIOV_TRACE_ATTACH), x->domain = 1, x->sid = DEV, x->pasid = 5;
    x = NEXT(SIOV_TRACE_ATTACH), x->domain = 7, x->sid = SIOV_SID(0xff, 31, 7), x->pasid = SIOV_NO_PASID;
    x = NEXT(SIOV_TRACE_MAP), x->domain = 1, x->addr = 0x10000, x->len = 64 << 10, x->pa = 0x1000000,
    x->access = SIOV_PROT_READ | SIOV_PROT_WRITE;
    x = NEXT(SIOV_TRACE_MAP), x->domain = 7, x->addr = 0x0, x->len = 2 << 20, x->pa = 0xfff00000000ull,
    x->access = SIOV_PROT_READ | SIOV_PROT_PRIV;
    x = NEXT(SIOV_TRACE_XLATE), x->sid = DEV, x->pasid = 5, x->addr = 0x10010, x->access = SIOV_ACCESS_WRITE,
    x->has_result = true, x->xlate = (struct siov_xlate){0x1000010, 4096, 3, 1};
    x = NEXT(SIOV_TRACE_XLATE), x->sid = DEV, x->pasid = SIOV_PASID_MAX, x->addr = 0x8, x->len = 64,
    x->access = SIOV_ACCESS_READ | SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC, x->time = 1000, x->has_result = true,
    x->fault = SIOV_FAULT_SSL_2;
    x = NEXT(SIOV_TRACE_XLATE), x->sid = DEV, x->pasid = 5, x->addr = 0xffffffffffff0000ull, x->time = 999,
    x->access = SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_NO_WRITE, x->has_result = true,
    x->xlate = (struct siov_xlate){0x40000000, 1 << 30, 1, 65535};
    x = NEXT(SIOV_TRACE_READ), x->sid = DEV, x->pasid = 5, x->addr = 0x10000, x->len = 1500,
    x->access = SIOV_ACCESS_READ, x->has_result = true;
    x = NEXT(SIOV_TRACE_WRITE), x->sid = 0, x->pasid = SIOV_NO_PASID, x->addr = 0x20000, x->len = 1,
    x->access = SIOV_ACCESS_WRITE, x->has_result = true, x->fault = SIOV_ERR_BUS;
    x = NEXT(SIOV_TRACE_WRITE), x->sid = 0, x->pasid = SIOV_NO_PASID, x->addr = 0x1f000, x->len = 4096,
    x->access = SIOV_ACCESS_WRITE;
    x = NEXT(SIOV_TRACE_INVAL), x->inv_type = SIOV_TRACE_INV_PIOTLB, x->inv_gran = 3, x->did = 1, x->pasid = 5,
    x->addr = 0x10000, x->am = 4;
    x = NEXT(SIOV_TRACE_INVAL), x->inv_type = SIOV_TRACE_INV_CONTEXT, x->inv_gran = 3, x->sid = DEV, x->am = 2;
    x = NEXT(SIOV_TRACE_UNMAP), x->domain = 1, x->addr = 0x10000, x->len = 4096;
    x = NEXT(SIOV_TRACE_DETACH), x->domain = 1, x->sid = DEV, x->pasid = 5;
#undef NEXT
    assert_true(n <= max);
    return n;
}

/* Write recs in form ("w" or "wb") to path, read them back, compare. */
static void round_trip(const char *mode)
{
    struct siov_trace_rec recs[32], got;
    unsigned n = sample(recs, 32);
    char *path = tl_tmp_path("trace", mode);
    struct siov_trace *t = siov_trace_open(path, mode);
    assert_non_null(t);
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(siov_trace_write(t, &recs[i]), 0);
    assert_int_equal(siov_trace_count(t), n);
    assert_int_equal(siov_trace_close(t), 0);
    t = siov_trace_open(path, "r");
    assert_non_null(t);
    assert_int_equal(siov_trace_is_binary(t), !strcmp(mode, "wb"));
    for (unsigned i = 0; i < n; i++) {
        assert_int_equal(siov_trace_read(t, &got), 1);
        assert_rec_equal(&got, &recs[i]);
    }
    assert_int_equal(siov_trace_read(t, &got), 0);
    assert_string_equal(siov_trace_error(t), "");
    assert_int_equal(siov_trace_close(t), 0);
    unlink(path);
    free(path);
}

static void test_text_round_trip(void **state)
{
    (void)state;
    round_trip("w");
}

static void test_binary_round_trip(void **state)
{
    (void)state;
    round_trip("wb");
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *b = malloc(1 << 20);
    *len = fread(b, 1, 1 << 20, f);
    fclose(f);
    return b;
}

static void copy_trace(const char *in, const char *out, const char *mode)
{
    struct siov_trace *r = siov_trace_open(in, "r"), *w = siov_trace_open(out, mode);
    struct siov_trace_rec rec;
    assert_non_null(r);
    assert_non_null(w);
    while (siov_trace_read(r, &rec) == 1)
        assert_int_equal(siov_trace_write(w, &rec), 0);
    assert_string_equal(siov_trace_error(r), "");
    assert_int_equal(siov_trace_close(r), 0);
    assert_int_equal(siov_trace_close(w), 0);
}

/* text -> binary -> text gives the same bytes; the binary form is the smaller. */
static void test_conversion_is_lossless(void **state)
{
    (void)state;
    struct siov_trace_rec recs[32];
    unsigned n = sample(recs, 32);
    char *a = tl_tmp_path("trace", "a"), *b = tl_tmp_path("trace", "b"), *c = tl_tmp_path("trace", "c");
    struct siov_trace *t = siov_trace_open(a, "w");
    for (unsigned i = 0; i < n; i++)
        assert_int_equal(siov_trace_write(t, &recs[i]), 0);
    assert_int_equal(siov_trace_close(t), 0);
    copy_trace(a, b, "wb");
    copy_trace(b, c, "w");
    size_t la, lb, lc;
    char *ta = slurp(a, &la), *tb = slurp(b, &lb), *tc = slurp(c, &lc);
    assert_int_equal(la, lc);
    assert_memory_equal(ta, tc, la);
    assert_true(lb < la / 2);
    free(ta), free(tb), free(tc);
    unlink(a), unlink(b), unlink(c);
    free(a), free(b), free(c);
}

/* A streaming workload costs a few bytes a record in the binary form, and
   reads back whole however the records fall across buffer refills. */
static void test_binary_is_compact(void **state)
{
    (void)state;
    char *p = tl_tmp_path("trace", "compact");
    struct siov_trace *t = siov_trace_open(p, "wb");
    for (unsigned i = 0; i < 30000; i++) {
        struct siov_trace_rec r;
        siov_trace_rec_init(&r, i % 2 ? SIOV_TRACE_WRITE : SIOV_TRACE_READ);
        r.sid = DEV, r.pasid = 1, r.addr = 0x100000 + (i / 2) * 256, r.len = 256;
        r.access = i % 2 ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ;
        if (i % 2)
            r.addr += 0x10000000;
        assert_int_equal(siov_trace_record(t, &r), 0);
    }
    assert_int_equal(siov_trace_close(t), 0);
    size_t len;
    char *b = slurp(p, &len);
    assert_true(len < 16 + 30000 * 8);
    free(b);
    /* read back across the reader's 64 KiB buffer refills */
    t = siov_trace_open(p, "r");
    struct siov_trace_rec r;
    unsigned n = 0;
    while (siov_trace_read(t, &r) == 1) {
        uint64_t want = 0x100000 + (n / 2) * 256 + (n % 2 ? 0x10000000 : 0);
        if (r.seq != n || r.addr != want || r.len != 256)
            fail_msg("record %u: seq %llu addr 0x%llx", n, (unsigned long long)r.seq, (unsigned long long)r.addr);
        n++;
    }
    assert_string_equal(siov_trace_error(t), "");
    assert_int_equal(n, 30000);
    siov_trace_close(t);
    unlink(p);
    free(p);
}

/* The bytes of both forms, exactly: head bits, varints at their 7-bit
   boundary (127 in one byte, 128 in two), zigzag deltas up and down, the
   sid/PASID carried over, seq gaps; and the text of the same records. */
static void bytes_sample(struct siov_trace *t)
{
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, SIOV_TRACE_XLATE);
    r.sid = DEV, r.pasid = 5, r.addr = 0x1000, r.len = 127, r.access = SIOV_ACCESS_READ, r.has_result = true;
    r.xlate = (struct siov_xlate){0x5000, 4096, 3, 9};
    assert_int_equal(siov_trace_record(t, &r), 0);
    siov_trace_rec_init(&r, SIOV_TRACE_READ);
    r.seq = 5, r.time = 100, r.sid = DEV, r.pasid = 5, r.addr = 0x800, r.len = 128, r.access = SIOV_ACCESS_READ;
    assert_int_equal(siov_trace_write(t, &r), 0);
    siov_trace_rec_init(&r, SIOV_TRACE_WRITE);
    r.seq = 6, r.time = 90, r.len = 1, r.access = SIOV_ACCESS_WRITE, r.has_result = true, r.fault = SIOV_ERR_BUS;
    assert_int_equal(siov_trace_write(t, &r), 0);
    siov_trace_rec_init(&r, SIOV_TRACE_MAP);
    r.domain = 1, r.addr = 0x10000, r.len = 0x2000, r.pa = 0x7000, r.access = SIOV_PROT_READ | SIOV_PROT_WRITE;
    assert_int_equal(siov_trace_record(t, &r), 0);
    siov_trace_rec_init(&r, SIOV_TRACE_UNMAP);
    r.domain = 1, r.addr = 0x10000, r.len = 0x1000;
    assert_int_equal(siov_trace_record(t, &r), 0);
    siov_trace_rec_init(&r, SIOV_TRACE_INVAL);
    r.inv_type = SIOV_TRACE_INV_PIOTLB, r.inv_gran = 3, r.did = 0x11, r.am = 2, r.addr = 0x4000, r.pasid = 5;
    assert_int_equal(siov_trace_record(t, &r), 0);
    siov_trace_rec_init(&r, SIOV_TRACE_DOMAIN);
    r.domain = 2, r.dom_type = SIOV_TRACE_DOM_NESTED, r.parent = 1;
    assert_int_equal(siov_trace_record(t, &r), 0);
    siov_trace_rec_init(&r, SIOV_TRACE_ATTACH);
    r.domain = 2, r.sid = 0, r.pasid = 5;
    assert_int_equal(siov_trace_record(t, &r), 0);
    siov_trace_rec_init(&r, SIOV_TRACE_DETACH);
    r.domain = 2, r.sid = DEV;
    assert_int_equal(siov_trace_record(t, &r), 0);
}

static void test_exact_bytes(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        'S', 'I', 'O', 'V', 'T', 'R', 'C', 0, 1, 0, 0, 0, 0, 0, 0, 0,
        0x91, 0x10, 0x06, 0x80, 0x40, 0x7F, 0x01, 0x00, 0x80, 0x80, 0x02, 0x0C, 0x03, 0x09, /* xlate */
        0x62, 0x04, 0xC8, 0x01, 0x80, 0x20, 0x80, 0x01, 0x01,                         /* read */
        0xB3, 0x13, 0x00, 0x00, 0x00, 0x01, 0x02, 0x80, 0x02,                         /* write */
        0x88, 0x01, 0x80, 0x80, 0x08, 0x80, 0x40, 0x80, 0xC0, 0x03, 0x03,             /* map */
        0x89, 0x01, 0xFF, 0x7F, 0x80, 0x20,                                           /* unmap */
        0x84, 0x00, 0x06, 0x06, 0x03, 0x11, 0x02, 0x80, 0x80, 0x01,                   /* inval */
        0x85, 0x02, 0x03, 0x01,                                                       /* domain */
        0xC6, 0x02,                                                                   /* attach */
        0x87, 0x10, 0x00, 0x02,                                                       /* detach */
    };
    char *p = tl_tmp_path("trace", "bytes");
    struct siov_trace *t = siov_trace_open(p, "wb");
    bytes_sample(t);
    assert_int_equal(siov_trace_close(t), 0);
    size_t len;
    char *b = slurp(p, &len);
    assert_int_equal(len, sizeof(want));
    for (size_t i = 0; i < len; i++)
        if ((uint8_t)b[i] != want[i])
            fail_msg("byte %zu: 0x%02x, expected 0x%02x", i, (uint8_t)b[i], want[i]);
    free(b);
    char text[1024];
    snprintf(text, sizeof(text),
             "siov-trace 1\n# seq [@time] kind fields... [-> result]   (docs/tracing.md)\n"
             "0 xlate 00:02.0 5 0x1000 127 r -> 0x5000 4K rw 9\n"
             "5 @100 read 00:02.0 5 0x800 128 r\n"
             "6 @90 write 00:00.0 - 0x0 1 w -> %s\n"
             "7 map 1 0x10000 8K 0x7000 rw\n"
             "8 unmap 1 0x10000 4K\n"
             "9 inval piotlb g=3 did=17 pasid=5 addr=0x4000 am=2\n"
             "10 domain 2 nested 1\n"
             "11 attach 2 00:00.0 5\n"
             "12 detach 2 00:02.0 -\n",
             siov_fault_name(SIOV_ERR_BUS));
    t = siov_trace_open(p, "w");
    bytes_sample(t);
    assert_int_equal(siov_trace_close(t), 0);
    b = slurp(p, &len);
    b[len] = '\0';
    assert_string_equal(b, text);
    free(b);
    unlink(p);
    free(p);
}

/* ------------------------------------------------------- text errors */
struct bad_text {
    const char *text;
    const char *error; /* what siov_trace_error must hold */
};

static const struct bad_text bad_texts[] = {
    {"", "line 0: empty file"},
    {"# only a comment\n", "line 1: empty file"},
    {"siov-trace 2\n", "line 1: trace version 2"},
    {"hello\n", "line 1: not a siov trace"},
    {"siov-trace 1\n0 xlat 00:02.0 1 0x1000 0 r\n", "line 2: unknown record kind 'xlat'"},
    {"siov-trace 1\n\n# c\n0 xlate 00:02.0 1 0x1000 0 r\n1 xlate 00:2.0 1\n", "line 5: missing address"},
    {"siov-trace 1\n0 xlate 0002.0 1 0x1000 0 r\n", "line 2: source id '0002.0'"},
    {"siov-trace 1\n0 xlate 00:20.0 1 0x1000 0 r\n", "line 2: source id '00:20.0'"},
    {"siov-trace 1\n0 xlate 00:02.0 0x100000 0x1000 0 r\n", "line 2: PASID '0x100000'"},
    {"siov-trace 1\n0 xlate 00:02.0 1 0x1000 0 q\n", "line 2: access 'q'"},
    {"siov-trace 1\n0 xlate 00:02.0 1 0x1000 0 r extra\n", "line 2: unexpected 'extra'"},
    {"siov-trace 1\n0 xlate 00:02.0 1 0x1000 0 r -> 0x1000 3K rw 1\n", "line 2: page size 3072"},
    {"siov-trace 1\n0 read 00:02.0 1 0x1000 8 r -> 0x1000\n", "line 2: result '0x1000'"},
    {"siov-trace 1\n0 xlate 00:02.0 1 0x1000 0 r -> 0x1000 4K rw\n", "line 2: missing domain id"},
    {"siov-trace 1\n0 xlate 00:02.0 1 0x1000 0 r ->\n", "line 2: missing result"},
    {"siov-trace 1\n5 xlate 00:02.0 1 0x1000 0 r\n5 xlate 00:02.0 1 0x1000 0 r\n",
     "line 3: sequence number 5 does not follow 5"},
    {"siov-trace 1\n0 xlate 00:02.0 1 99999999999999999999 0 r\n", "line 2: address '99999999999999999999'"},
    {"siov-trace 1\n0 map 1 0x1000 4K 0x2000\n", "line 2: missing permissions"},
    {"siov-trace 1\n0 domain 1 nested\n", "line 2: missing parent domain"},
    {"siov-trace 1\n0 domain 1 big\n", "line 2: unknown domain type 'big'"},
    {"siov-trace 1\n0 inval iotlb g=1 foo=2\n", "line 2: unknown invalidation field 'foo'"},
    {"siov-trace 1\n0 inval iotlb g=1 did\n", "line 2: expected key=value, found 'did'"},
    {"siov-trace 1\n0 inval tlb\n", "line 2: unknown invalidation type 'tlb'"},
    {"siov-trace 1\n0 inval iotlb am=64\n", "line 2: am '64'"},
    {"siov-trace 1\n@5 xlate 00:02.0 1 0x1000 0 r\n", "line 2: sequence number '@5'"},
    {"siov-trace 1\n0 @x xlate 00:02.0 1 0x1000 0 r\n", "line 2: time 'x'"},
    {"siov-trace 1\n0 attach 1 00:02.0\n", "line 2: missing PASID"},
};

static void test_text_errors_name_the_line(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_texts) / sizeof(bad_texts[0]); i++) {
        char *p = tl_tmp_path("trace", "bad");
        tl_write_file(p, bad_texts[i].text, strlen(bad_texts[i].text));
        struct siov_trace *t = siov_trace_open(p, "r");
        assert_non_null(t);
        struct siov_trace_rec r;
        int rc;
        while ((rc = siov_trace_read(t, &r)) == 1)
            ;
        if (rc != -EINVAL || !strstr(siov_trace_error(t), bad_texts[i].error))
            fail_msg("case %zu: rc %d, error \"%s\", expected \"%s\"", i, rc, siov_trace_error(t), bad_texts[i].error);
        assert_int_equal(siov_trace_read(t, &r), -EINVAL); /* the error stays */
        siov_trace_close(t);
        unlink(p);
        free(p);
    }
}

/* A NUL byte, and a line longer than any record, are errors, not crashes. */
static void test_text_nul_and_long_lines(void **state)
{
    (void)state;
    char buf[9000];
    memcpy(buf, "siov-trace 1\n0 xlate\0 00:02.0\n", 30);
    char *p = tl_tmp_path("trace", "nul");
    tl_write_file(p, buf, 30);
    struct siov_trace *t = siov_trace_open(p, "r");
    struct siov_trace_rec r;
    assert_int_equal(siov_trace_read(t, &r), -EINVAL);
    assert_non_null(strstr(siov_trace_error(t), "line 2: a NUL byte"));
    siov_trace_close(t);
    memset(buf, 'x', sizeof(buf));
    memcpy(buf, "siov-trace 1\n", 13);
    tl_write_file(p, buf, sizeof(buf));
    t = siov_trace_open(p, "r");
    assert_int_equal(siov_trace_read(t, &r), -EINVAL);
    assert_non_null(strstr(siov_trace_error(t), "line 2: longer than"));
    siov_trace_close(t);
    unlink(p);
    free(p);
}

/* A last line without a newline, comments and blanks anywhere, are fine. */
static void test_text_by_hand(void **state)
{
    (void)state;
    const char *text = "  # a trace written by hand\nsiov-trace 1   # version\n\n"
                       "10 domain 1 sl\n11 attach 1 00:02.0 3\n"
                       "12 map 1 0x10000 64K 0x1000000 rw # buffers\n"
                       "20 @7 xlate 00:02.0 3 0x10010 0 w -> 0x1000010 4K rw 1";
    char *p = tl_tmp_path("trace", "hand");
    tl_write_file(p, text, strlen(text));
    struct siov_trace *t = siov_trace_open(p, "r");
    struct siov_trace_rec r;
    unsigned n = 0;
    while (siov_trace_read(t, &r) == 1)
        n++;
    assert_string_equal(siov_trace_error(t), "");
    assert_int_equal(n, 4);
    assert_int_equal(r.seq, 20);
    assert_int_equal(r.time, 7);
    assert_int_equal(r.kind, SIOV_TRACE_XLATE);
    assert_int_equal(r.pasid, 3);
    assert_int_equal(r.access, SIOV_ACCESS_WRITE);
    assert_true(r.has_result);
    assert_int_equal(r.xlate.addr, 0x1000010);
    assert_int_equal(r.xlate.page_size, 4096);
    assert_int_equal(r.xlate.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE);
    assert_int_equal(r.xlate.did, 1);
    siov_trace_close(t);
    unlink(p);
    free(p);
}

/* ----------------------------------------------------- binary errors */
static const uint8_t good_header[16] = {'S', 'I', 'O', 'V', 'T', 'R', 'C', 0, 1, 0, 0, 0, 0, 0, 0, 0};

/* Open bytes as a trace; the error reading it (or NULL when it opened as none). */
static const char *binary_error(const uint8_t *b, size_t n, char *out, size_t len)
{
    char *p = tl_tmp_path("trace", "bin");
    tl_write_file(p, b, n);
    errno = 0;
    struct siov_trace *t = siov_trace_open(p, "r");
    unlink(p);
    free(p);
    if (!t)
        return NULL;
    struct siov_trace_rec r;
    int rc;
    while ((rc = siov_trace_read(t, &r)) == 1)
        ;
    snprintf(out, len, "%s", rc == 0 ? "(no error)" : siov_trace_error(t));
    siov_trace_close(t);
    return out;
}

static void test_binary_errors(void **state)
{
    (void)state;
    uint8_t b[64] = {0};
    char err[256];
    /* header: wrong version, reserved bits, cut short: the open fails with EINVAL */
    memcpy(b, good_header, 16);
    b[8] = 2;
    assert_null(binary_error(b, 16, err, sizeof(err)));
    assert_int_equal(errno, EINVAL);
    memcpy(b, good_header, 16);
    b[13] = 1;
    assert_null(binary_error(b, 16, err, sizeof(err)));
    assert_null(binary_error(good_header, 12, err, sizeof(err)));
    /* a record cut short: kind XLATE, seq next, new ADI, sid varint, then nothing */
    memcpy(b, good_header, 16);
    b[16] = 0x80 | SIOV_TRACE_XLATE, b[17] = 0x10;
    assert_non_null(strstr(binary_error(b, 18, err, sizeof(err)), "record 0 (byte 16): cut short"));
    /* an unknown kind */
    b[16] = 0x80 | 0x0F;
    assert_non_null(strstr(binary_error(b, 17, err, sizeof(err)), "record 0 (byte 16): unknown record kind 15"));
    /* a varint of 11 bytes */
    b[16] = 0x80 | SIOV_TRACE_XLATE;
    memset(b + 17, 0xFF, 11);
    assert_non_null(strstr(binary_error(b, 40, err, sizeof(err)), "longer than 10 bytes"));
    /* a source id above 16 bits */
    b[17] = 0x80, b[18] = 0x80, b[19] = 0x04;
    assert_non_null(strstr(binary_error(b, 40, err, sizeof(err)), "source id 65536 is out of range"));
    /* a result on a marker */
    b[16] = 0x80 | 0x10 | SIOV_TRACE_DOMAIN, b[17] = 1, b[18] = 0, b[19] = 0;
    assert_non_null(strstr(binary_error(b, 20, err, sizeof(err)), "carries no result"));
    /* the second record's position is named */
    b[16] = 0x80 | SIOV_TRACE_DOMAIN, b[20] = 0x80 | 0x0E;
    assert_non_null(strstr(binary_error(b, 21, err, sizeof(err)), "record 1 (byte 20)"));
    /* an empty binary trace is fine */
    assert_string_equal(binary_error(good_header, 16, err, sizeof(err)), "(no error)");
}

/* --------------------------------------------------------- misuse */
static void test_api_misuse(void **state)
{
    (void)state;
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, SIOV_TRACE_XLATE);
    char *p = tl_tmp_path("trace", "misuse");
    errno = 0;
    assert_null(siov_trace_open(p, "a"));
    assert_int_equal(errno, EINVAL);
    assert_null(siov_trace_open(NULL, "w"));
    assert_null(siov_trace_open_stream(NULL, "w"));
    assert_null(siov_trace_open("/nonexistent-dir/x", "w"));
    assert_int_equal(errno, ENOENT);
    struct siov_trace *t = siov_trace_open(p, "w");
    assert_int_equal(siov_trace_read(t, &r), -EBADF);
    assert_int_equal(siov_trace_record(NULL, &r), -EINVAL);
    assert_int_equal(siov_trace_record(t, NULL), -EINVAL);
    r.kind = 0;
    assert_int_equal(siov_trace_record(t, &r), -EINVAL);
    r.kind = SIOV_TRACE_KIND_MAX + 1;
    assert_int_equal(siov_trace_write(t, &r), -EINVAL);
    r.kind = SIOV_TRACE_XLATE, r.seq = 5;
    assert_int_equal(siov_trace_write(t, &r), 0);
    assert_int_equal(siov_trace_write(t, &r), -EINVAL); /* seq must grow */
    assert_int_equal(siov_trace_record(t, &r), 0);      /* numbered 6 */
    assert_int_equal(siov_trace_count(t), 2);
    assert_int_equal(siov_trace_close(t), 0);
    t = siov_trace_open(p, "r");
    assert_int_equal(siov_trace_record(t, &r), -EBADF);
    assert_int_equal(siov_trace_read(t, NULL), -EINVAL);
    assert_int_equal(siov_trace_read(t, &r), 1);
    assert_int_equal(r.seq, 5);
    assert_int_equal(siov_trace_read(t, &r), 1);
    assert_int_equal(r.seq, 6);
    assert_int_equal(siov_trace_close(t), 0);
    assert_int_equal(siov_trace_close(NULL), 0);
    assert_int_equal(siov_trace_count(NULL), 0);
    assert_string_equal(siov_trace_error(NULL), "");
    assert_int_equal(siov_iommu_set_trace(NULL, siov_trace_hook, NULL), -EINVAL);
    assert_int_equal(siov_trace_parse(NULL, &r, NULL, 0), -EINVAL);
    assert_string_equal(siov_trace_kind_name(99), "?");
    unlink(p);
    free(p);
}

/* A write error (a full device) comes back from siov_trace_close. */
static void test_write_error_reported(void **state)
{
    (void)state;
    FILE *f = fopen("/dev/full", "w");
    if (!f)
        skip();
    struct siov_trace *t = siov_trace_open_stream(f, "wb");
    struct siov_trace_rec r;
    siov_trace_rec_init(&r, SIOV_TRACE_XLATE);
    int rc = 0;
    for (unsigned i = 0; i < 10000 && !rc; i++)
        rc = siov_trace_record(t, &r);
    assert_int_equal(rc, -ENOSPC);
    assert_int_equal(siov_trace_close(t), -ENOSPC);
    fclose(f);
}

/* ------------------------------------------------------------- the hook */
#define SEEN_MAX 256
struct seen {
    struct siov_trace_rec r[SEEN_MAX];
    unsigned n;
};

static void collect(void *opaque, const struct siov_trace_rec *rec)
{
    struct seen *s = opaque;
    if (s->n < SEEN_MAX)
        s->r[s->n] = *rec;
    s->n++;
}

struct rig {
    struct siov_mem *mem;
    struct siov_iommu *u;
    struct siov_driver *drv;
    struct siov_domain *dom;
    uint32_t pasid;
};

static void rig_up(struct rig *g)
{
    g->mem = siov_mem_new_flat(64ull << 20);
    g->u = siov_iommu_new(g->mem, NULL);
    g->drv = siov_driver_new(g->u, g->mem, POOL, POOL_SIZE);
    assert_non_null(g->drv);
    g->dom = siov_domain_new(g->drv, SIOV_DOMAIN_SECOND_LEVEL);
    assert_int_equal(siov_dev_enable_aux(g->drv, DEV), 0);
    assert_int_equal(siov_domain_map(g->dom, 0x10000, 0x1000000, 0x10000, SIOV_PROT_READ | SIOV_PROT_WRITE), 0);
    assert_int_equal(siov_aux_attach(g->dom, DEV), 0);
    g->pasid = (uint32_t)siov_aux_pasid(g->dom);
}

static void rig_down(struct rig *g)
{
    siov_driver_free(g->drv);
    siov_iommu_free(g->u);
    siov_mem_free(g->mem);
}

static void test_hook_reports_requests(void **state)
{
    (void)state;
    struct rig g;
    static struct seen s;
    struct siov_xlate x;
    uint8_t buf[32];
    s.n = 0;
    rig_up(&g);
    assert_int_equal(siov_iommu_set_trace(g.u, collect, &s), 0);
    assert_int_equal(siov_translate(g.u, DEV, g.pasid, 0x10010, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(siov_translate(g.u, DEV, g.pasid, 0x10010, SIOV_ACCESS_READ, &x), SIOV_OK); /* the hit path */
    assert_int_equal(siov_translate(g.u, DEV, g.pasid, 0x90000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SSL_2);
    assert_int_equal(siov_dma_read(g.u, DEV, g.pasid, 0x10ff0, buf, sizeof(buf)), SIOV_OK);
    assert_int_equal(s.n, 4); /* the DMA is one record, its page translations none */
    const struct siov_trace_rec *r = s.r;
    assert_int_equal(r[0].kind, SIOV_TRACE_XLATE);
    assert_int_equal(r[0].sid, DEV);
    assert_int_equal(r[0].pasid, g.pasid);
    assert_int_equal(r[0].addr, 0x10010);
    assert_int_equal(r[0].access, SIOV_ACCESS_READ);
    assert_true(r[0].has_result);
    assert_int_equal(r[0].fault, SIOV_OK);
    assert_int_equal(r[0].xlate.addr, 0x1000010);
    assert_int_equal(r[0].xlate.page_size, 4096);
    assert_int_equal(r[0].hits, 0);
    assert_int_equal(r[0].walks, 1);
    assert_int_equal(r[1].hits, 1);
    assert_int_equal(r[1].walks, 0);
    assert_int_equal(r[1].xlate.addr, 0x1000010);
    assert_int_equal(r[2].fault, SIOV_FAULT_SSL_2);
    assert_int_equal(r[2].walks, 1);
    assert_int_equal(r[3].kind, SIOV_TRACE_READ);
    assert_int_equal(r[3].addr, 0x10ff0);
    assert_int_equal(r[3].len, sizeof(buf));
    assert_int_equal(r[3].fault, SIOV_OK);
    assert_int_equal(r[3].hits, 1);  /* 0x10000 was cached */
    assert_int_equal(r[3].walks, 1); /* 0x11000 was not */
    assert_int_equal(r[0].len, 0); /* a translation moves no bytes */
    uint8_t big[0x1020];
    assert_int_equal(siov_dma_read(g.u, DEV, g.pasid, 0x10ff0, big, sizeof(big)), SIOV_OK);
    assert_int_equal(s.n, 5);
    assert_int_equal(r[4].len, sizeof(big));
    assert_int_equal(r[4].hits, 2);  /* 0x10000 and 0x11000 */
    assert_int_equal(r[4].walks, 1); /* 0x12000 */
    assert_int_equal(r[4].fault, SIOV_OK);
    siov_fault f = siov_dma_read(g.u, DEV, SIOV_PASID_MAX + 1, 0x10000, big, 8); /* past the PASID space */
    assert_int_equal(f, SIOV_FAULT_SGN_10);
    assert_int_equal(s.n, 6);
    assert_int_equal(r[5].fault, f);
    assert_int_equal(r[5].hits, 0); /* refused before any cache or walk */
    assert_int_equal(r[5].walks, 0);
    assert_int_equal(siov_translate(g.u, DEV, SIOV_PASID_MAX + 1, 0x10000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SGN_10);
    assert_int_equal(s.n, 6 + 1);
    assert_int_equal(r[6].kind, SIOV_TRACE_XLATE);
    assert_int_equal(r[6].hits, 0); /* a translation refused the same way */
    assert_int_equal(r[6].walks, 0);
    assert_int_equal(siov_dma_write(g.u, DEV, g.pasid, 0x10000, big, 8), SIOV_OK);
    assert_int_equal(s.n, 8);
    assert_int_equal(r[7].kind, SIOV_TRACE_WRITE);
    assert_int_equal(r[7].access, SIOV_ACCESS_WRITE); /* untranslated: no other access bit */
    assert_int_equal(r[3].access, SIOV_ACCESS_READ);
    /* an unmap's page-selective IOTLB invalidation, processed by the queue */
    s.n = 0;
    assert_int_equal(siov_domain_unmap(g.dom, 0x10000, 0x1000), 0x1000);
    bool psi = false;
    for (unsigned i = 0; i < s.n && i < SEEN_MAX; i++)
        psi |= s.r[i].kind == SIOV_TRACE_INVAL && s.r[i].inv_type == SIOV_TRACE_INV_IOTLB &&
               s.r[i].inv_gran == SIOV_INV_GRAN_PAGE && s.r[i].did == siov_domain_did(g.dom) &&
               s.r[i].addr == 0x10000 && s.r[i].am == 0;
    assert_true(psi);
    /* unset: nothing more */
    assert_int_equal(siov_iommu_set_trace(g.u, NULL, &s), 0);
    s.n = 0;
    assert_int_equal(siov_translate(g.u, DEV, g.pasid, 0x11000, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(s.n, 0);
    rig_down(&g);
}

/* A workload of hits, misses, faults, DMA and a batch; the records it made. */
static unsigned workload(struct rig *g, struct seen *s)
{
    struct siov_xlate x;
    uint8_t buf[9000];
    struct siov_xlate_req rq[40];
    struct siov_xlate_res rs[40];
    for (unsigned i = 0; i < 200; i++)
        siov_translate(g->u, DEV, g->pasid, 0x10000 + (i * 7919u % 24) * 0x1000 + i, i % 3 ? SIOV_ACCESS_READ
                                                                                       : SIOV_ACCESS_WRITE, &x);
    siov_dma_read(g->u, DEV, g->pasid, 0x10800, buf, sizeof(buf));
    siov_dma_write(g->u, DEV, g->pasid, 0x1e000, buf, sizeof(buf)); /* runs past the mapping: a fault */
    for (unsigned i = 0; i < 40; i++)
        rq[i] = (struct siov_xlate_req){DEV, i % 5 ? g->pasid : SIOV_PASID_MAX + 1, 0x10000 + (i % 20) * 0x1000,
                                        SIOV_ACCESS_READ};
    assert_int_equal(siov_translate_batch(g->u, 40, rq, rs), 0);
    return s ? s->n : 0;
}

/* Tracing changes no counter, and every request of a batch is a record. */
static void test_hook_changes_no_counter(void **state)
{
    (void)state;
    struct rig a, b;
    static struct seen s;
    s.n = 0;
    rig_up(&a);
    rig_up(&b);
    siov_iommu_set_trace(a.u, collect, &s);
    assert_int_equal(workload(&a, &s), 200 + 2 + 40);
    workload(&b, NULL);
    struct siov_stats sa, sb;
    siov_iommu_stats(a.u, &sa);
    siov_iommu_stats(b.u, &sb);
    assert_int_equal(sa.iotlb_hits, sb.iotlb_hits);
    assert_true(sa.iotlb_hits > 0 && sa.walks > 0 && sa.faults > 0);
    assert_int_equal(memcmp(&sa, &sb, sizeof(sa)), 0);
    uint64_t hits = 0, walks = 0;
    for (unsigned i = 0; i < 200; i++)
        hits += s.r[i].hits, walks += s.r[i].walks;
    assert_true(hits > 0 && walks > 0);
    assert_int_equal(s.r[200].kind, SIOV_TRACE_READ);
    assert_int_equal(s.r[201].kind, SIOV_TRACE_WRITE);
    assert_int_equal(s.r[201].fault, SIOV_FAULT_SSL_2);
    siov_iommu_set_trace(a.u, NULL, NULL); /* and unset, the hit path answers again */
    struct siov_xlate x;
    siov_iommu_stats(a.u, &sa);
    assert_int_equal(siov_translate(a.u, DEV, a.pasid, 0x10000, SIOV_ACCESS_READ, &x), SIOV_OK);
    siov_iommu_stats(a.u, &sb);
    assert_int_equal(sb.iotlb_hits, sa.iotlb_hits + 1);
    assert_int_equal(sb.pasid_cache_hits, sa.pasid_cache_hits);
    rig_down(&a);
    rig_down(&b);
}

/* A scalable unit with an invalidation queue, tracing into s (emptied). */
static struct tl *traced_queue_unit(struct q *q, struct seen *s)
{
    s->n = 0;
    struct tl *t = tl_new_sized(NULL, 16 << 20);
    tl_enable(t, SIOV_TTM_SCALABLE);
    q_init(q, t);
    siov_iommu_set_trace(t->iommu, collect, s);
    return t;
}

/* A PASID-cache invalidation's record carries its granularity and DID, and
   the descriptor's PASID only when it names one (PASID-selective); the
   domain-selective one has none. */
static void test_hook_reports_pasid_cache_invalidation(void **state)
{
    (void)state;
    static struct seen s;
    struct q q;
    struct tl *t = traced_queue_unit(&q, &s);
    static const unsigned gran[] = {SIOV_PC_GRAN_PASID, SIOV_PC_GRAN_DOMAIN};
    for (unsigned k = 0; k < 2; k++) {
        q_put(&q, siov_dsc_make_type(SIOV_DSC_PC) | siov_set(0, SIOV_PC0_G, gran[k]) |
                      siov_set(0, SIOV_PC0_DID, 0x21) | siov_set(0, SIOV_PC0_PASID, 0x77), 0);
        q_kick(&q);
    }
    siov_iommu_set_trace(t->iommu, NULL, NULL);
    assert_int_equal(s.n, 2);
    for (unsigned k = 0; k < 2; k++) {
        assert_int_equal(s.r[k].kind, SIOV_TRACE_INVAL);
        assert_int_equal(s.r[k].inv_type, SIOV_TRACE_INV_PC);
        assert_int_equal(s.r[k].inv_gran, gran[k]);
        assert_int_equal(s.r[k].did, 0x21);
    }
    assert_int_equal(s.r[0].pasid, 0x77);
    assert_int_equal(s.r[1].pasid, SIOV_NO_PASID);
    tl_free(t);
}

/* Context-cache, IOTLB, PASID-based IOTLB, device-TLB and interrupt entry
   cache invalidations are traced with the scope their granularity names:
   the SID of a device-selective context-cache invalidation (the FM of every
   one), the address and mask of a page-selective one, and zero in the
   fields a coarser one ignores, whatever the descriptor held there. A
   reserved granularity is an error, not an invalidation: no record, no
   count. */
/* An invalidation record as expected: its type, granularity and scope. */
struct inval_want {
    unsigned type, gran;
    uint16_t did;
    siov_sid sid;
    uint32_t pasid;
    uint64_t addr;
    unsigned am;
};

static void expect_inval(const struct siov_trace_rec *r, const struct inval_want *w)
{
    assert_int_equal(r->kind, SIOV_TRACE_INVAL);
    assert_int_equal(r->inv_type, w->type);
    assert_int_equal(r->inv_gran, w->gran);
    assert_int_equal(r->did, w->did);
    assert_int_equal(r->sid, w->sid);
    assert_int_equal(r->pasid, w->pasid);
    assert_int_equal(r->addr, w->addr);
    assert_int_equal(r->am, w->am);
}

static void test_hook_reports_context_and_iotlb_scopes(void **state)
{
    (void)state;
    static struct seen s;
    struct q q;
    struct tl *t = traced_queue_unit(&q, &s);
    const uint64_t a2 = 0x40000 | siov_set(0, SIOV_INV1_AM, 2); /* address and AM = 2 in every one */
    for (unsigned g = SIOV_INV_GRAN_GLOBAL; g <= SIOV_INV_GRAN_DEVICE; g++)
        q_put(&q, siov_dsc_make_type(SIOV_DSC_CC) | siov_set(0, SIOV_CC0_G, g) | siov_set(0, SIOV_CC0_DID, 0x21) |
                      siov_set(0, SIOV_CC0_SID, 0x1234) | siov_set(0, SIOV_CC0_FM, 2), 0);
    for (unsigned g = SIOV_INV_GRAN_GLOBAL; g <= SIOV_INV_GRAN_PAGE; g++)
        q_put(&q, siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_G, g) | siov_set(0, SIOV_IOTLB0_DID, 0x21),
              a2);
    for (unsigned g = SIOV_PIOTLB_GRAN_PASID; g <= SIOV_PIOTLB_GRAN_PAGE; g++)
        q_put(&q, siov_dsc_make_type(SIOV_DSC_PIOTLB) | siov_set(0, SIOV_PIOTLB0_G, g) |
                      siov_set(0, SIOV_PIOTLB0_DID, 0x21) | siov_set(0, SIOV_PIOTLB0_PASID, 0x77), a2);
    /* device-TLB (S=1) and PASID-based device-TLB (G=1), to a SID without a port: done at once */
    q_put(&q, d_devtlb(0x1234), 0x40000 | SIOV_DTLB1_S);
    q_put(&q, d_pdevtlb(0x1234, 0x77), 0x40000 | SIOV_PDTLB1_G);
    for (unsigned g = 0; g < 2; g++) /* interrupt entry cache, global then index-selective */
        q_put(&q, siov_dsc_make_type(SIOV_DSC_IEC) | (g ? SIOV_IEC0_G : 0) | siov_set(0, SIOV_IEC0_IIDX, 0x40) |
                      siov_set(0, SIOV_IEC0_IM, 2), 0);
    q_kick(&q);
    const uint32_t none = SIOV_NO_PASID;
    static const unsigned cc = SIOV_TRACE_INV_CONTEXT, io = SIOV_TRACE_INV_IOTLB, pio = SIOV_TRACE_INV_PIOTLB;
    const struct inval_want want[] = {
        {cc, 1, 0x21, 0, none, 0, 2},           {cc, 2, 0x21, 0, none, 0, 2},
        {cc, 3, 0x21, 0x1234, none, 0, 2},      {io, 1, 0x21, 0, none, 0, 0},
        {io, 2, 0x21, 0, none, 0, 0},           {io, 3, 0x21, 0, none, 0x40000, 2},
        {pio, 2, 0x21, 0, 0x77, 0, 0},          {pio, 3, 0x21, 0, 0x77, 0x40000, 2},
        {SIOV_TRACE_INV_DEVTLB, 1, 0, 0x1234, none, 0x40000, 0},
        {SIOV_TRACE_INV_PDEVTLB, 1, 0, 0x1234, 0x77, 0x40000, 0},
        {SIOV_TRACE_INV_IEC, 0, 0, 0, none, 0, 0}, {SIOV_TRACE_INV_IEC, 1, 0, 0, none, 0x40, 2},
    };
    const unsigned n = sizeof(want) / sizeof(want[0]);
    assert_int_equal(s.n, n);
    for (unsigned k = 0; k < n; k++)
        expect_inval(&s.r[k], &want[k]);
    struct siov_stats before = tl_stats(t), after;
    q_put(&q, siov_dsc_make_type(SIOV_DSC_IOTLB) | siov_set(0, SIOV_IOTLB0_DID, 0x21), 0); /* G=0 */
    q_kick(&q);
    assert_true(siov_mmio_read(t->iommu, SIOV_REG_FSTS, 4) & SIOV_FSTS_IQE);
    after = tl_stats(t);
    assert_int_equal(s.n, n);
    assert_int_equal(after.inv_iotlb, before.inv_iotlb);
    assert_int_equal(after.invalidations, before.invalidations);
    siov_iommu_set_trace(t->iommu, NULL, NULL);
    tl_free(t);
}

/* A domain-selective IOTLB invalidation (a second-level domain's detach) is
   traced with its DID and no address or mask. */
static void test_hook_reports_domain_invalidation(void **state)
{
    (void)state;
    struct rig g;
    static struct seen s;
    s.n = 0;
    rig_up(&g);
    assert_int_equal(siov_iommu_set_trace(g.u, collect, &s), 0);
    assert_int_equal(siov_aux_detach(g.dom, DEV), 0);
    unsigned dsi = 0;
    for (unsigned i = 0; i < s.n && i < SEEN_MAX; i++) {
        if (s.r[i].kind != SIOV_TRACE_INVAL || s.r[i].inv_type != SIOV_TRACE_INV_IOTLB)
            continue;
        assert_int_equal(s.r[i].inv_gran, SIOV_INV_GRAN_DOMAIN);
        assert_int_equal(s.r[i].did, siov_domain_did(g.dom));
        assert_int_equal(s.r[i].addr, 0);
        assert_int_equal(s.r[i].am, 0);
        dsi++;
    }
    assert_int_equal(dsi, 1);
    rig_down(&g);
}

/* An ATS translation request is a record too: access 'a', the completion as its answer. */
static void test_hook_reports_ats(void **state)
{
    (void)state;
    struct rig g;
    static struct seen s;
    s.n = 0;
    rig_up(&g);
    assert_int_equal(siov_dev_enable_ats(g.drv, DEV), 0);
    siov_iommu_set_trace(g.u, collect, &s);
    struct siov_ats_completion c;
    assert_int_equal(siov_ats_translate(g.u, DEV, g.pasid, 0x10010, SIOV_ACCESS_READ, &c), SIOV_OK);
    /* an odd offset: the record's output keeps every offset bit of the input */
    assert_int_equal(siov_ats_translate(g.u, DEV, g.pasid, 0x10fff, SIOV_ACCESS_READ, &c), SIOV_OK);
    assert_int_equal(s.n, 2);
    assert_int_equal(s.r[1].xlate.addr, 0x1000fff);
    assert_int_equal(s.r[0].kind, SIOV_TRACE_XLATE);
    assert_true(s.r[0].access & SIOV_ACCESS_ATS_REQ);
    assert_int_equal(s.r[0].xlate.addr, 0x1000010);
    assert_int_equal(s.r[0].xlate.page_size, 4096);
    assert_int_equal(s.r[0].xlate.perm, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE);
    assert_int_equal(s.r[0].walks, 1);
    assert_int_equal(s.r[1].hits, 1);
    char line[200];
    siov_trace_format(&s.r[0], line, sizeof(line));
    assert_non_null(strstr(line, " xlate 00:02.0 1 0x10010 0 ra -> 0x1000010 4K rw 0"));
    rig_down(&g);
}

/* siov_trace_hook writes what the unit reports, numbered in order. */
static void test_hook_into_a_file(void **state)
{
    (void)state;
    struct rig g;
    struct siov_xlate x;
    char *p = tl_tmp_path("trace", "hook");
    rig_up(&g);
    struct siov_trace *t = siov_trace_open(p, "w");
    siov_iommu_set_trace(g.u, siov_trace_hook, t);
    for (unsigned i = 0; i < 16; i++)
        siov_translate(g.u, DEV, g.pasid, 0x10000 + i * 0x1000, SIOV_ACCESS_WRITE, &x);
    siov_iommu_set_trace(g.u, NULL, NULL);
    assert_int_equal(siov_trace_close(t), 0);
    t = siov_trace_open(p, "r");
    struct siov_trace_rec r;
    for (unsigned i = 0; i < 16; i++) {
        assert_int_equal(siov_trace_read(t, &r), 1);
        assert_int_equal(r.seq, i);
        assert_int_equal(r.addr, 0x10000 + i * 0x1000);
        assert_int_equal(r.xlate.addr, 0x1000000 + i * 0x1000);
    }
    assert_int_equal(siov_trace_read(t, &r), 0);
    siov_trace_close(t);
    rig_down(&g);
    unlink(p);
    free(p);
}

/* Many threads translating with siov_trace_hook: every request recorded
   once, numbered without a gap. */
struct worker {
    struct rig *g;
    unsigned base;
};

static void *translate_many(void *arg)
{
    struct worker *w = arg;
    struct siov_xlate x;
    for (unsigned i = 0; i < 2000; i++)
        siov_translate(w->g->u, DEV, w->g->pasid, 0x10000 + ((w->base + i) % 16) * 0x1000, SIOV_ACCESS_READ, &x);
    return NULL;
}

static void test_hook_from_threads(void **state)
{
    (void)state;
    struct rig g;
    char *p = tl_tmp_path("trace", "threads");
    rig_up(&g);
    struct siov_trace *t = siov_trace_open(p, "wb");
    siov_iommu_set_trace(g.u, siov_trace_hook, t);
    pthread_t th[4];
    struct worker w[4];
    for (unsigned i = 0; i < 4; i++) {
        w[i] = (struct worker){&g, i * 3};
        assert_int_equal(pthread_create(&th[i], NULL, translate_many, &w[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    siov_iommu_set_trace(g.u, NULL, NULL);
    assert_int_equal(siov_trace_close(t), 0);
    t = siov_trace_open(p, "r");
    struct siov_trace_rec r;
    uint64_t n = 0;
    while (siov_trace_read(t, &r) == 1) {
        assert_int_equal(r.seq, n++);
        assert_int_equal(r.xlate.addr, 0x1000000 + (r.addr - 0x10000));
    }
    assert_string_equal(siov_trace_error(t), "");
    assert_int_equal(n, 4 * 2000);
    siov_trace_close(t);
    rig_down(&g);
    unlink(p);
    free(p);
}

/* Removing the hook keeps the hit path's gate closed while the stale checker
   is on: a stale hit after it is still caught (and a hook set over the
   checker reports every request). */
static void count_stale(void *opaque, const struct siov_stale_report *r)
{
    (void)r;
    (*(unsigned *)opaque)++;
}

static void test_hook_removed_keeps_stale_check(void **state)
{
    (void)state;
    const siov_sid sid = SIOV_SID(1, 4, 2);
    unsigned stale = 0;
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.stale_check = true;
    cfg.stale_report = count_stale;
    cfg.stale_opaque = &stale;
    struct tl *t = tl_new(&cfg);
    tl_enable(t, SIOV_TTM_SCALABLE);
    uint64_t dir = tl_sm_context_default(t, sid, 0), sl = tl_page(t), pe[8];
    tl_map(t, sl, 4, false, 0x10000, 0x200000, SIOV_PAGE_SIZE, TL_SL_RW, TL_SL_RW);
    tl_pe_sl(pe, 9, sl, SIOV_AW_4LVL);
    tl_pasid_entry(t, dir, 5, pe);
    struct seen *seen = calloc(1, sizeof(*seen));
    struct siov_xlate x;
    assert_int_equal(siov_iommu_set_trace(t->iommu, collect, seen), 0);
    for (unsigned i = 0; i < 3; i++) /* a walk, then hits: each reported */
        assert_int_equal(siov_translate(t->iommu, sid, 5, 0x10040, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(seen->n, 3);
    assert_int_equal(seen->r[0].walks, 1);
    assert_int_equal(seen->r[2].hits, 1);
    assert_int_equal(siov_iommu_set_trace(t->iommu, NULL, NULL), 0);
    tl_map(t, sl, 4, false, 0x10000, 0x300000, SIOV_PAGE_SIZE, TL_SL_RW, TL_SL_RW); /* not invalidated */
    assert_int_equal(siov_translate(t->iommu, sid, 5, 0x10040, SIOV_ACCESS_READ, &x), SIOV_OK);
    assert_int_equal(x.addr, 0x200040); /* the cached answer */
    assert_int_equal(stale, 1);
    assert_int_equal(seen->n, 3);
    free(seen);
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_text_round_trip),
        cmocka_unit_test(test_binary_round_trip),
        cmocka_unit_test(test_conversion_is_lossless),
        cmocka_unit_test(test_binary_is_compact),
        cmocka_unit_test(test_exact_bytes),
        cmocka_unit_test(test_text_errors_name_the_line),
        cmocka_unit_test(test_text_nul_and_long_lines),
        cmocka_unit_test(test_text_by_hand),
        cmocka_unit_test(test_binary_errors),
        cmocka_unit_test(test_api_misuse),
        cmocka_unit_test(test_write_error_reported),
        cmocka_unit_test(test_hook_reports_requests),
        cmocka_unit_test(test_hook_changes_no_counter),
        cmocka_unit_test(test_hook_reports_ats),
        cmocka_unit_test(test_hook_reports_pasid_cache_invalidation),
        cmocka_unit_test(test_hook_reports_context_and_iotlb_scopes),
        cmocka_unit_test(test_hook_reports_domain_invalidation),
        cmocka_unit_test(test_hook_into_a_file),
        cmocka_unit_test(test_hook_from_threads),
        cmocka_unit_test(test_hook_removed_keeps_stale_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

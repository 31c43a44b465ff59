/* Guest memory: flat and callback backends, bounds, injected failures. */
#include <errno.h>
#include <string.h>

#include "internal.h"
#include "testlib.h"

static void flat_roundtrip_and_bounds(void **state)
{
    (void)state;
    struct siov_mem *m = siov_mem_new_flat(8192);
    assert_non_null(m);
    assert_int_equal(siov_mem_size(m), 8192);
    uint8_t buf[16], out[16];
    for (int i = 0; i < 16; i++)
        buf[i] = (uint8_t)(0xA0 + i);
    assert_int_equal(siov_mem_write(m, 8192 - 16, buf, 16), 0);
    assert_int_equal(siov_mem_read(m, 8192 - 16, out, 16), 0);
    assert_memory_equal(buf, out, 16);
    assert_memory_equal((uint8_t *)siov_mem_flat_ptr(m) + 8192 - 16, buf, 16);
    /* one byte past the end, a wrap-around, and a huge length all fail */
    assert_int_equal(siov_mem_read(m, 8192 - 15, out, 16), -EFAULT);
    assert_int_equal(siov_mem_write(m, 8192 - 15, buf, 16), -EFAULT);
    assert_int_equal(siov_mem_read(m, UINT64_MAX - 3, out, 8), -EFAULT);
    assert_int_equal(siov_mem_read(m, 0, out, SIZE_MAX), -EFAULT);
    assert_int_equal(siov_mem_read(m, 8192, out, 0), 0); /* empty access at the end */
    assert_int_equal(siov_mem_read(NULL, 0, out, 1), -EINVAL);
    assert_int_equal(siov_mem_read(m, 0, NULL, 1), -EINVAL);
    assert_int_equal(siov_mem_write(m, 0, NULL, 1), -EINVAL);
    siov_mem_free(m);
    siov_mem_free(NULL);
}

/* The constructors say why they return NULL. */
static void constructor_errno(void **state)
{
    (void)state;
    errno = 0;
    assert_null(siov_mem_new_flat(0));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(siov_mem_new_flat(1ull << 62)); /* more than any address space holds */
    assert_int_equal(errno, ENOMEM);
    errno = 0;
    assert_null(siov_mem_new_flat(UINT64_MAX)); /* a size_t on LP64: EINVAL only where it is not */
    assert_int_equal(errno, SIZE_MAX >= UINT64_MAX ? ENOMEM : EINVAL);
    struct siov_mem_ops half = {.read = NULL, .write = NULL};
    errno = 0;
    assert_null(siov_mem_new(&half, NULL));
    assert_int_equal(errno, EINVAL);
    errno = 0;
    assert_null(siov_mem_new(NULL, NULL));
    assert_int_equal(errno, EINVAL);
}

static void flat_fail_range(void **state)
{
    (void)state;
    struct siov_mem *m = siov_mem_new_flat(1 << 16);
    uint64_t v = 0x1122334455667788ull, r = 0;
    assert_int_equal(siov_mem_write(m, 0x1000, &v, 8), 0);
    assert_int_equal(siov_mem_fail_range(m, 0x1004, 8, SIOV_MEM_FAIL_READ), 0);
    assert_int_equal(siov_mem_read(m, 0x1000, &r, 8), -EFAULT); /* overlaps the range */
    assert_int_equal(siov_mem_read(m, 0x0FF8, &r, 4), 0);       /* below it */
    assert_int_equal(siov_mem_read(m, 0x100C, &r, 4), 0);       /* just above it */
    assert_int_equal(siov_mem_write(m, 0x1000, &v, 8), 0);      /* writes still work */
    assert_int_equal(siov_mem_fail_range(m, 0x1000, 8, SIOV_MEM_FAIL_WRITE), 0);
    assert_int_equal(siov_mem_write(m, 0x1000, &v, 8), -EFAULT);
    assert_int_equal(siov_mem_read(m, 0x1000, &r, 8), 0);
    assert_int_equal(r, v);
    assert_int_equal(siov_mem_cmpxchg64(m, 0x1000, v, 1), -EFAULT);
    assert_int_equal(siov_mem_fail_range(m, 0, 0, 0), 0); /* cleared */
    assert_int_equal(siov_mem_cmpxchg64(m, 0x1000, v, 1), 1);
    assert_int_equal(siov_mem_cmpxchg64(m, 0x1000, v, 2), 0); /* word changed: not replaced */
    assert_int_equal(siov_mem_read64(m, 0x1000, &r), 0);
    assert_int_equal(r, 1);
    assert_int_equal(siov_mem_read64(m, (1 << 16) - 4, &r), -EFAULT);
    siov_mem_free(m);
}

struct cb_mem {
    uint8_t bytes[4096];
    int reads, writes;
    size_t last_read_len;
};

static int cb_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct cb_mem *c = opaque;
    c->reads++;
    c->last_read_len = len;
    if (gpa >= sizeof(c->bytes) || len > sizeof(c->bytes) - gpa)
        return -EFAULT;
    memcpy(dst, c->bytes + gpa, len);
    return 0;
}

static int cb_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct cb_mem *c = opaque;
    c->writes++;
    if (gpa >= sizeof(c->bytes) || len > sizeof(c->bytes) - gpa)
        return -EIO; /* any negative errno means "not backed" */
    memcpy(c->bytes + gpa, src, len);
    return 0;
}

static int cb_fail_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    (void)opaque, (void)gpa, (void)src, (void)len;
    return -EIO;
}

static void callback_backend(void **state)
{
    (void)state;
    struct cb_mem c = {0};
    struct siov_mem_ops ops = {.read = cb_read, .write = cb_write};
    struct siov_mem *m = siov_mem_new(&ops, &c);
    assert_non_null(m);
    assert_int_equal(siov_mem_size(m), UINT64_MAX);
    assert_null(siov_mem_flat_ptr(m));
    assert_int_equal(siov_mem_fail_range(m, 0, 8, SIOV_MEM_FAIL_READ), -EINVAL);
    uint64_t v = 0xDEADBEEFCAFEF00Dull, r = 0;
    assert_int_equal(siov_mem_write(m, 64, &v, 8), 0);
    assert_int_equal(siov_mem_read(m, 64, &r, 8), 0);
    assert_int_equal(r, v);
    assert_int_equal(siov_mem_write(m, 4096, &v, 8), -EFAULT);
    assert_int_equal(siov_mem_read(m, 4092, &r, 8), -EFAULT);
    assert_int_equal(siov_mem_cmpxchg64(m, 64, v, 7), 1);
    assert_int_equal(siov_mem_cmpxchg64(m, 64, v, 8), 0);
    assert_int_equal(siov_mem_read64(m, 64, &r), 0);
    assert_int_equal(r, 7);
    assert_true(c.reads >= 4 && c.writes >= 2);
    siov_mem_free(m);
    struct siov_mem_ops half = {.read = cb_read, .write = NULL};
    assert_null(siov_mem_new(&half, &c));
    assert_null(siov_mem_new(NULL, &c));
}

/* The edges: NULL and empty arguments, a callback memory without its read
   callback, compare-and-exchange off alignment, against a read-only or
   write-only failure range, and through callbacks that fail. */
static void arguments_and_compare_exchange(void **state)
{
    (void)state;
    assert_int_equal(siov_mem_size(NULL), 0);
    assert_null(siov_mem_flat_ptr(NULL));
    assert_int_equal(siov_mem_fail_range(NULL, 0, 8, SIOV_MEM_FAIL_READ), -EINVAL);
    struct siov_mem_ops no_read = {.read = NULL, .write = cb_write};
    assert_null(siov_mem_new(&no_read, NULL));
    struct siov_mem *m = siov_mem_new_flat(1 << 16);
    assert_non_null(m);
    assert_int_equal(siov_mem_read(m, 0, NULL, 0), 0);  /* nothing to copy: no buffer needed */
    assert_int_equal(siov_mem_write(m, 0, NULL, 0), 0);
    assert_int_equal(siov_mem_write(m, 0, NULL, 1), -EINVAL);
    assert_int_equal(siov_mem_write(NULL, 0, "x", 1), -EINVAL);
    uint64_t v = 5, r = 0;
    assert_int_equal(siov_mem_write(m, 0x104, &v, 8), 0);
    assert_int_equal(siov_mem_cmpxchg64(m, 0x104, 5, 6), 1); /* unaligned: read, compare, write */
    assert_int_equal(siov_mem_cmpxchg64(m, 0x104, 5, 7), 0);
    assert_int_equal(siov_mem_read(m, 0x104, &r, 8), 0);
    assert_int_equal(r, 6);
    assert_int_equal(siov_mem_write(m, 0x200, &v, 8), 0);
    for (unsigned which = SIOV_MEM_FAIL_READ; which <= SIOV_MEM_FAIL_WRITE; which <<= 1) {
        assert_int_equal(siov_mem_fail_range(m, 0x200, 8, which), 0);
        assert_int_equal(siov_mem_cmpxchg64(m, 0x200, 5, 9), -EFAULT);
        assert_int_equal(siov_mem_fail_range(m, 0, 0, 0), 0);
        assert_int_equal(siov_mem_read(m, 0x200, &r, 8), 0);
        assert_int_equal(r, 5); /* unchanged */
    }
    siov_mem_free(m);
    /* callbacks: the read fails (beyond their 4 KiB), or only the write does */
    struct cb_mem c = {0};
    struct siov_mem_ops ops = {.read = cb_read, .write = cb_write};
    m = siov_mem_new(&ops, &c);
    assert_int_equal(siov_mem_cmpxchg64(m, 4096, 0, 1), -EFAULT);
    struct siov_mem_ops ro = {.read = cb_read, .write = cb_fail_write};
    struct siov_mem *m2 = siov_mem_new(&ro, &c);
    assert_int_equal(siov_mem_cmpxchg64(m2, 8, 0, 1), -EFAULT);
    assert_int_equal(siov_mem_read(m2, 8, &r, 8), 0);
    assert_int_equal(r, 0);
    siov_mem_free(m2);
    siov_mem_free(m);
}

/* An embedder's compare-and-exchange that can fail on demand. */
struct cas_mem {
    uint64_t word[4];
    unsigned calls;
    bool broken;
};

static int cas_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct cas_mem *c = opaque;
    if (gpa + len > sizeof(c->word))
        return -EFAULT;
    memcpy(dst, (uint8_t *)c->word + gpa, len);
    return 0;
}

static int cas_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct cas_mem *c = opaque;
    if (gpa + len > sizeof(c->word))
        return -EFAULT;
    memcpy((uint8_t *)c->word + gpa, src, len);
    return 0;
}

static int cas_op(void *opaque, uint64_t gpa, uint64_t *expected, uint64_t desired)
{
    struct cas_mem *c = opaque;
    c->calls++;
    if (c->broken || gpa % 8 || gpa >= sizeof(c->word))
        return -EIO;
    if (c->word[gpa / 8] != *expected) {
        *expected = c->word[gpa / 8];
        return 1;
    }
    c->word[gpa / 8] = desired;
    return 0;
}

/* cmpxchg64: the embedder's op when it has one (0 stored / 1 mismatch /
   -errno map to replaced / changed / -EFAULT); otherwise read-compare-write. */
static void cmpxchg_paths(void **state)
{
    (void)state;
    struct cas_mem c = {{5, 6, 7, 8}, 0, false};
    struct siov_mem_ops ops = {.read = cas_read, .write = cas_write, .cmpxchg64 = cas_op};
    struct siov_mem *m = siov_mem_new(&ops, &c);
    assert_int_equal(siov_mem_cmpxchg64(m, 8, 6, 60), 1);
    assert_int_equal(c.word[1], 60);
    assert_int_equal(siov_mem_cmpxchg64(m, 8, 6, 61), 0);
    assert_int_equal(c.word[1], 60);
    c.broken = true;
    assert_int_equal(siov_mem_cmpxchg64(m, 16, 7, 70), -EFAULT);
    assert_int_equal(c.calls, 3);
    siov_mem_free(m);
    ops.cmpxchg64 = NULL; /* the unit's own read-compare-write */
    m = siov_mem_new(&ops, &c);
    assert_int_equal(siov_mem_cmpxchg64(m, 16, 7, 70), 1);
    assert_int_equal(siov_mem_cmpxchg64(m, 16, 7, 71), 0);
    assert_int_equal(siov_mem_cmpxchg64(m, 32, 0, 1), -EFAULT);
    assert_int_equal(c.word[2], 70);
    assert_int_equal(c.calls, 3);
    siov_mem_free(m);
    /* flat, unaligned: read-compare-write as well */
    m = siov_mem_new_flat(4096);
    uint64_t v = 0x1111, r;
    assert_int_equal(siov_mem_write(m, 4, &v, 8), 0);
    assert_int_equal(siov_mem_cmpxchg64(m, 4, 0x1111, 0x2222), 1);
    assert_int_equal(siov_mem_cmpxchg64(m, 4, 0x1111, 0x3333), 0);
    assert_int_equal(siov_mem_read(m, 4, &r, 8), 0);
    assert_int_equal(r, 0x2222);
    assert_int_equal(siov_mem_cmpxchg64(m, 4092, 0, 1), -EFAULT);
    assert_int_equal(siov_mem_cmpxchg64(m, 4088, 0, 5), 1); /* the last word, aligned */
    assert_int_equal(siov_mem_read(m, 4088, &r, 8), 0);
    assert_int_equal(r, 5);
    static const unsigned which[] = {SIOV_MEM_FAIL_WRITE, SIOV_MEM_FAIL_READ};
    for (unsigned k = 0; k < 2; k++) { /* its last byte fails to write, then to read: refused whole */
        assert_int_equal(siov_mem_fail_range(m, 4095, 1, which[k]), 0);
        assert_int_equal(siov_mem_cmpxchg64(m, 4088, 5, 6), -EFAULT);
        assert_int_equal(siov_mem_fail_range(m, 0, 0, 0), 0);
        assert_int_equal(siov_mem_read(m, 4088, &r, 8), 0);
        assert_int_equal(r, 5);
    }
    siov_mem_free(m);
}

/* Accesses at the exact edges: the whole memory, a read that ends where
   a failure range starts, a 7-byte write next to a word, a word read whose
   last byte fails, an unaligned word ending a memory of odd size, and the
   128-bit read (one 16-byte callback access; two words from flat memory). */
static void exact_edges(void **state)
{
    (void)state;
    struct siov_mem *m = siov_mem_new_flat(8192);
    static uint8_t whole[8192];
    memset(whole, 0x3C, sizeof(whole));
    assert_int_equal(siov_mem_write(m, 0, whole, sizeof(whole)), 0);
    memset(whole, 0, sizeof(whole));
    assert_int_equal(siov_mem_read(m, 0, whole, sizeof(whole)), 0);
    assert_int_equal(whole[0], 0x3C);
    assert_int_equal(whole[8191], 0x3C);
    assert_int_equal(siov_mem_fail_range(m, 0x1004, 8, SIOV_MEM_FAIL_READ), 0);
    uint32_t w32;
    assert_int_equal(siov_mem_read(m, 0x1000, &w32, 4), 0); /* ends at the range's first byte */
    uint64_t r = 0;
    assert_int_equal(siov_mem_fail_range(m, 0x1007, 1, SIOV_MEM_FAIL_READ), 0);
    assert_int_equal(siov_mem_read64(m, 0x1000, &r), -EFAULT); /* its last byte fails */
    assert_int_equal(siov_mem_fail_range(m, 0, 0, 0), 0);
    const uint8_t seven[8] = {1, 2, 3, 4, 5, 6, 7, 0xEE};
    assert_int_equal(siov_mem_write(m, 0x1800, seven, 7), 0);
    assert_int_equal(siov_mem_read64(m, 0x1800, &r), 0);
    assert_int_equal(r, 0x3C07060504030201ull); /* the eighth byte untouched */
    uint64_t two[2] = {0x1111222233334444ull, 0x5555666677778888ull}, got[2] = {0, 0};
    assert_int_equal(siov_mem_write(m, 0x1C00, two, 16), 0);
    assert_int_equal(siov_mem_read128(m, 0x1C00, got), 0);
    assert_memory_equal(got, two, 16);
    assert_int_equal(siov_mem_fail_range(m, 0x1C08, 8, SIOV_MEM_FAIL_READ), 0);
    assert_int_equal(siov_mem_read128(m, 0x1C00, got), -EFAULT);
    siov_mem_free(m);
    m = siov_mem_new_flat(4100);
    uint64_t v = 0x0123456789ABCDEFull;
    assert_int_equal(siov_mem_write(m, 4092, &v, 8), 0);
    assert_int_equal(siov_mem_read64(m, 4092, &r), 0);
    assert_int_equal(r, v);
    siov_mem_free(m);
    struct cb_mem c = {0};
    struct siov_mem_ops ops = {.read = cb_read, .write = cb_write};
    m = siov_mem_new(&ops, &c);
    assert_int_equal(siov_mem_write(m, 64, two, 16), 0);
    got[0] = got[1] = 0;
    int reads = c.reads;
    assert_int_equal(siov_mem_read128(m, 64, got), 0);
    assert_int_equal(c.reads - reads, 1);
    assert_int_equal(c.last_read_len, 16);
    assert_memory_equal(got, two, 16);
    assert_int_equal(siov_mem_read64(m, 72, &r), 0);
    assert_int_equal(c.last_read_len, 8);
    assert_int_equal(r, two[1]);
    siov_mem_free(m);
}

/* A flat memory's mapping goes at siov_mem_free: sixteen 256 MiB memories
   come and go without the process growing by one of them. */
static void flat_unmapped_at_free(void **state)
{
    (void)state;
    siov_mem_free(siov_mem_new_flat(256ull << 20)); /* the allocator's own first growth */
    unsigned long before = tl_vm_kib();
    if (!before)
        skip();
    for (int i = 0; i < 16; i++) {
        struct siov_mem *m = siov_mem_new_flat(256ull << 20);
        assert_non_null(m);
        siov_mem_free(m);
    }
    assert_true(tl_vm_kib() < before + (256ul << 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flat_roundtrip_and_bounds),
        cmocka_unit_test(constructor_errno),
        cmocka_unit_test(flat_fail_range),
        cmocka_unit_test(callback_backend),
        cmocka_unit_test(arguments_and_compare_exchange),
        cmocka_unit_test(cmpxchg_paths),
        cmocka_unit_test(exact_edges),
        cmocka_unit_test(flat_unmapped_at_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

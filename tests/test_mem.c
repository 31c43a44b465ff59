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
    struct siov_mem_ops half = {NULL, NULL};
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
};

static int cb_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct cb_mem *c = opaque;
    c->reads++;
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

static void callback_backend(void **state)
{
    (void)state;
    struct cb_mem c = {0};
    struct siov_mem_ops ops = {cb_read, cb_write};
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
    struct siov_mem_ops half = {cb_read, NULL};
    assert_null(siov_mem_new(&half, &c));
    assert_null(siov_mem_new(NULL, &c));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flat_roundtrip_and_bounds),
        cmocka_unit_test(constructor_errno),
        cmocka_unit_test(flat_fail_range),
        cmocka_unit_test(callback_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

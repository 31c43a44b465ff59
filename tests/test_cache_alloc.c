/* The caches and the ATC when memory runs out (src/model/exact_cache.c,
   iotlb.c, atc.c): the k-th allocation fails, for every k until the call
   needs no more; each call then fails with ENOMEM and holds nothing (ASan
   checks the leaks), and the same call succeeds once memory is back. The
   test is linked with ld --wrap for the allocation calls (tests/meson.build). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

#include "exact_cache.h"
#include "testlib.h"

/* ------------------------------------------------------------ injection */
static long alloc_left = -1; /* allocations to let through before one fails; -1: none fails */
static bool fired;

static bool alloc_fails(void)
{
    if (alloc_left < 0 || alloc_left-- > 0)
        return false;
    fired = true;
    return true;
}

static void arm(long k)
{
    alloc_left = k;
    fired = false;
}

static void disarm(void) { alloc_left = -1; }

void *__real_calloc(size_t n, size_t size);
void *__real_malloc(size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__real_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);

void *__wrap_calloc(size_t n, size_t size) { return alloc_fails() ? NULL : __real_calloc(n, size); }
void *__wrap_malloc(size_t size) { return alloc_fails() ? NULL : __real_malloc(size); }
void *__wrap_aligned_alloc(size_t align, size_t size)
{
    return alloc_fails() ? NULL : __real_aligned_alloc(align, size);
}
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return alloc_fails() ? MAP_FAILED : __real_mmap(addr, len, prot, flags, fd, off);
}
/* With 64-bit file offsets glibc names mmap mmap64. */
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return alloc_fails() ? MAP_FAILED : __real_mmap64(addr, len, prot, flags, fd, off);
}
int __wrap_pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a)
{
    return alloc_fails() ? EAGAIN : __real_pthread_mutex_init(m, a);
}

/* ---------------------------------------------------------------- tests */
#define SID SIOV_SID(0, 3, 0)

/* The exact cache: every allocation of siov_exact_new in turn. */
static void test_exact_cache_out_of_memory(void **state)
{
    (void)state;
    long k = 0;
    for (;; k++) {
        arm(k);
        struct siov_exact_cache *h = siov_exact_new(4, 3, SIOV_POLICY_FIFO, 1);
        bool f = fired;
        disarm();
        if (!f) {
            assert_non_null(h);
            uint64_t v = 0;
            siov_exact_fill(h, 7, 7, 3, 0x33);
            assert_true(siov_exact_lookup(h, 7, 7, 3, &v));
            assert_int_equal(v, 0x33);
            siov_exact_free(h);
            break;
        }
        assert_null(h);
    }
    assert_true(k >= 6); /* the cache and its five arrays */
}

/* A unit with the hardware-like IOTLB: siov_iommu_new fails whole. */
static void test_hardware_like_iotlb_out_of_memory(void **state)
{
    (void)state;
    struct siov_mem *mem = siov_mem_new_flat(4 << 20);
    assert_non_null(mem);
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.iotlb_entries = 64;
    cfg.iotlb_ways = 4;
    long k = 0;
    for (;; k++) {
        arm(k);
        struct siov_iommu *u = siov_iommu_new(mem, &cfg);
        bool f = fired;
        disarm();
        if (!f) {
            assert_non_null(u);
            siov_iommu_free(u);
            break;
        }
        assert_null(u);
    }
    assert_true(k > 6);
    siov_mem_free(mem);
}

/* The ATC, both kinds: siov_atc_new_config fails with ENOMEM and leaves the
   device's port free; siov_atc_entries answers 0 without its scratch array. */
static void test_atc_out_of_memory(void **state)
{
    (void)state;
    struct tl *t = tl_new_sized(NULL, 4 << 20);
    tl_enable(t, SIOV_TTM_SCALABLE); /* requests without PASID pass through: the ATC holds one completion */
    uint64_t dir = tl_sm_context_default(t, SID, 0), pe[8];
    tl_pe_pt(pe, 1);
    tl_pasid_entry(t, dir, 0, pe);
    for (unsigned ways = 0; ways <= 4; ways += 4) {
        struct siov_atc_config ac = {16, ways, SIOV_POLICY_LRU, 0};
        long k = 0;
        for (;; k++) {
            arm(k);
            errno = 0;
            struct siov_atc *a = siov_atc_new_config(t->iommu, SID, &ac);
            int e = errno;
            bool f = fired;
            disarm();
            if (!f) {
                assert_non_null(a);
                struct siov_xlate x;
                assert_int_equal(siov_atc_translate(a, SIOV_NO_PASID, 0x5000, SIOV_ACCESS_READ, &x), SIOV_OK);
                assert_int_equal(x.addr, 0x5000);
                assert_int_equal(siov_atc_entries(a, NULL, 0), ways ? 0 : 1); /* the hardware-like one lists none */
                arm(0);
                assert_int_equal(siov_atc_entries(a, NULL, 0), 0);
                assert_true(fired);
                disarm();
                siov_atc_free(a);
                break;
            }
            assert_null(a);
            assert_int_equal(e, ENOMEM);
        }
        assert_true(k >= (ways ? 8 : 6));
    }
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_cache_out_of_memory),
        cmocka_unit_test(test_hardware_like_iotlb_out_of_memory),
        cmocka_unit_test(test_atc_out_of_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

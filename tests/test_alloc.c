/* The reference driver's allocators (src/driver/alloc.c) driven directly: the
 * table pool against a plain model (a flag per page, the lowest run of free
 * pages first) under random allocations and frees of runs of every length
 * across word boundaries, the cases where a full bitmap word sits next to
 * free bits, zeroing and its failure, deferred release, and the PASID and DID
 * allocators with their reserved id 0. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "testlib.h"

#define MEM (40ull << 20)
#define BASE (1ull << 20)
#define MAXPAGES 8200

struct fx {
    struct siov_driver *drv;
    struct siov_mem *mem;
    bool used[MAXPAGES]; /* the model */
    unsigned npages;
};

static struct fx *fx_new(unsigned npages)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    f->drv = calloc(1, sizeof(*f->drv));
    assert_non_null(f->drv);
    f->mem = siov_mem_new_flat(MEM);
    assert_non_null(f->mem);
    f->drv->mem = f->mem;
    f->npages = npages;
    assert_int_equal(siov_drv_pool_init(f->drv, BASE, npages), 0);
    assert_int_equal(f->drv->pages.nfree, npages);
    return f;
}

static void fx_free(struct fx *f)
{
    siov_drv_alloc_fini(f->drv);
    free(f->drv);
    siov_mem_free(f->mem);
    free(f);
}

static unsigned model_free_count(const struct fx *f)
{
    unsigned n = 0;
    for (unsigned i = 0; i < f->npages; i++)
        n += !f->used[i];
    return n;
}

/* The model's answer: the first index of the lowest run of n free pages, or -1. */
static int model_find(const struct fx *f, unsigned n)
{
    unsigned run = 0;
    for (unsigned i = 0; n && i < f->npages; i++) {
        run = f->used[i] ? 0 : run + 1;
        if (run == n)
            return (int)(i + 1 - n);
    }
    return -1;
}

static void fill(struct fx *f, uint64_t gpa, uint8_t byte)
{
    uint8_t page[4096];
    memset(page, byte, sizeof page);
    assert_int_equal(siov_mem_write(f->mem, gpa, page, sizeof page), 0);
}

static bool zeroed(struct fx *f, uint64_t gpa)
{
    uint8_t page[4096];
    assert_int_equal(siov_mem_read(f->mem, gpa, page, sizeof page), 0);
    for (unsigned i = 0; i < sizeof page; i++)
        if (page[i])
            return false;
    return true;
}

/* Allocate n pages; the pool must agree with the model, the pages be zeroed. */
static int alloc_check(struct fx *f, unsigned n)
{
    int want = model_find(f, n);
    for (unsigned k = 0; want >= 0 && k < n; k++)
        fill(f, BASE + (uint64_t)(want + (int)k) * 4096, 0xA5); /* what the pages held before */
    uint64_t gpa = 0;
    int rc = siov_drv_page_alloc(f->drv, n, &gpa);
    if (want < 0) {
        assert_int_equal(rc, -ENOMEM);
    } else {
        assert_int_equal(rc, 0);
        assert_int_equal(gpa, BASE + (uint64_t)want * 4096);
        for (unsigned k = 0; k < n; k++) {
            assert_true(zeroed(f, gpa + k * 4096ull));
            f->used[want + (int)k] = true;
        }
    }
    assert_int_equal(f->drv->pages.nfree, model_free_count(f));
    return want;
}

static void free_check(struct fx *f, unsigned first, unsigned n)
{
    siov_drv_page_free(f->drv, BASE + first * 4096ull, n);
    for (unsigned k = 0; k < n; k++) {
        assert_true(f->used[first + k]);
        f->used[first + k] = false;
    }
    assert_int_equal(f->drv->pages.nfree, model_free_count(f));
}

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Random runs allocated and freed, pools of sizes around word boundaries. */
static void test_pool_matches_the_model(void **state)
{
    (void)state;
    static const unsigned sizes[] = {1, 3, 63, 64, 65, 127, 128, 129, 200, 512};
    static const unsigned lens[] = {1, 1, 1, 2, 3, 7, 63, 64, 65, 130};
    for (unsigned s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        struct fx *f = fx_new(sizes[s]);
        uint64_t rng = 0x9E3779B97F4A7C15ull + s;
        struct run { unsigned first, n; } runs[MAXPAGES];
        unsigned nruns = 0;
        for (unsigned op = 0; op < 3000; op++) {
            if (nruns && next_rand(&rng) % 100 < 45) {
                unsigned r = (unsigned)(next_rand(&rng) % nruns);
                free_check(f, runs[r].first, runs[r].n);
                runs[r] = runs[--nruns];
            } else {
                unsigned n = lens[next_rand(&rng) % (sizeof lens / sizeof lens[0])];
                int at = alloc_check(f, n);
                if (at >= 0)
                    runs[nruns++] = (struct run){(unsigned)at, n};
            }
        }
        while (nruns--)
            free_check(f, runs[nruns].first, runs[nruns].n);
        assert_int_equal(alloc_check(f, sizes[s]), 0); /* everything came back, in one run */
        fx_free(f);
    }
}

/* A full bitmap word between free pages: the run must not reach across it,
   and the free page right after it must be found. */
static void test_full_word_next_to_free_pages(void **state)
{
    (void)state;
    static const struct {
        unsigned free_pages[4], nfree, n;
        int want;
    } cases[] = {
        {{62, 63, 128}, 3, 3, -1},     /* two free at a word's end, a full word, one free */
        {{63, 128, 129}, 3, 2, 128},   /* one free at a word's end, a full word, two free */
        {{128}, 1, 1, 128},            /* the first free page starts a word after a full one */
        {{64}, 1, 1, 64},              /* a word whose only free page is its first */
        {{127, 128}, 2, 2, 127},       /* a run across a word boundary */
        {{0, 191}, 2, 1, 0},
        {{191}, 1, 1, 191},
        {{4037}, 1, 1, 4037}, /* word 63 has a free page, word 64 is full */
        {{0, 4037}, 2, 1, 0}, /* the same, found by a search from page 1 (below) */
        {{0, 4095}, 2, 1, 0},
        {{8191}, 1, 1, 8191},
    };
    for (unsigned c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        unsigned n = cases[c].free_pages[cases[c].nfree - 1] >= 192 ? 8192 : 192, step = n > 192 ? 64 : 1;
        struct fx *f = fx_new(n);
        for (unsigned i = 0; i < n; i += step)
            assert_int_equal(alloc_check(f, step), (int)i);
        assert_int_equal(alloc_check(f, 1), -1);
        for (unsigned k = 0; k < cases[c].nfree; k++)
            free_check(f, cases[c].free_pages[k], 1);
        assert_int_equal(alloc_check(f, cases[c].n), cases[c].want);
        while (alloc_check(f, 1) >= 0) /* the rest, one by one, as the model finds them */
            ;
        assert_int_equal(f->drv->pages.nfree, 0);
        fx_free(f);
    }
}

/* Zeroing a page fails (guest memory refuses the write): nothing is allocated. */
static void test_zeroing_failure(void **state)
{
    (void)state;
    struct fx *f = fx_new(8);
    assert_int_equal(alloc_check(f, 2), 0);
    assert_int_equal(siov_mem_fail_range(f->mem, BASE + 3 * 4096ull, 4096, SIOV_MEM_FAIL_WRITE), 0);
    uint64_t gpa = 0;
    assert_int_equal(siov_drv_page_alloc(f->drv, 2, &gpa), -EFAULT);
    assert_int_equal(gpa, 0);
    assert_int_equal(f->drv->pages.nfree, 6);
    assert_int_equal(siov_mem_fail_range(f->mem, 0, 0, 0), 0);
    assert_int_equal(alloc_check(f, 2), 2);
    fx_free(f);
}

/* Deferred pages stay allocated until released, however many there are. */
static void test_deferred_release(void **state)
{
    (void)state;
    struct fx *f = fx_new(300);
    for (unsigned i = 0; i < 300; i++)
        assert_int_equal(alloc_check(f, 1), (int)i);
    for (unsigned i = 0; i < 300; i += 2)
        siov_drv_page_defer(f->drv, BASE + i * 4096ull);
    assert_int_equal(f->drv->ndeferred, 150);
    assert_int_equal(f->drv->pages.nfree, 0);
    assert_int_equal(alloc_check(f, 1), -1);
    siov_drv_page_release_deferred(f->drv);
    assert_int_equal(f->drv->ndeferred, 0);
    for (unsigned i = 0; i < 300; i += 2)
        f->used[i] = false;
    assert_int_equal(f->drv->pages.nfree, 150);
    assert_int_equal(alloc_check(f, 1), 0);
    assert_int_equal(alloc_check(f, 2), -1); /* no two adjacent pages are free */
    siov_drv_page_release_deferred(f->drv); /* nothing deferred: nothing happens */
    assert_int_equal(f->drv->pages.nfree, 149);
    fx_free(f);
}

/* DIDs and PASIDs: lowest first from 1 (0 is reserved), every id of the
   width, -ENOSPC when exhausted, a freed id comes back first. */
static void test_ids(void **state)
{
    (void)state;
    static const unsigned bits[] = {2, 4, 6, 7, 8};
    for (unsigned b = 0; b < sizeof bits / sizeof bits[0]; b++) {
        struct fx *f = fx_new(1);
        assert_int_equal(siov_drv_ids_init(f->drv, bits[b], bits[b]), 0);
        f->drv->pasid_ok = true;
        unsigned n = 1u << bits[b];
        assert_int_equal(f->drv->dids.nfree, n - 1); /* id 0 is taken from the start */
        assert_int_equal(f->drv->pasids.nfree, n - 1);
        for (unsigned i = 1; i < n; i++) {
            uint16_t did;
            uint32_t pasid;
            assert_int_equal(siov_drv_did_alloc(f->drv, &did), 0);
            assert_int_equal(did, i);
            assert_int_equal(siov_drv_pasid_alloc(f->drv, &pasid), 0);
            assert_int_equal(pasid, i);
        }
        uint16_t did = 0xFFFF;
        uint32_t pasid = 0xFFFFFFFF;
        assert_int_equal(siov_drv_did_alloc(f->drv, &did), -ENOSPC);
        assert_int_equal(siov_drv_pasid_alloc(f->drv, &pasid), -ENOSPC);
        assert_int_equal(did, 0xFFFF);
        assert_int_equal(pasid, 0xFFFFFFFF);
        unsigned mid = n / 2;
        siov_drv_did_free(f->drv, (uint16_t)mid);
        siov_drv_pasid_free(f->drv, mid);
        siov_drv_did_free(f->drv, (uint16_t)(n - 1));
        siov_drv_pasid_free(f->drv, n - 1);
        assert_int_equal(siov_drv_did_alloc(f->drv, &did), 0);
        assert_int_equal(did, mid);
        assert_int_equal(siov_drv_pasid_alloc(f->drv, &pasid), 0);
        assert_int_equal(pasid, mid);
        /* without PASID support there is no PASID to give */
        f->drv->pasid_ok = false;
        assert_int_equal(siov_drv_pasid_alloc(f->drv, &pasid), -ENOSPC);
        f->drv->pasid_ok = true;
        assert_int_equal(siov_drv_pasid_alloc(f->drv, &pasid), 0);
        assert_int_equal(pasid, n - 1);
        fx_free(f);
    }
}

/* Interrupt table entries: none before the table is set up, then every
   index of the table lowest first and none beyond it. */
static void test_irq_ids(void **state)
{
    (void)state;
    struct fx *f = fx_new(1);
    unsigned index = 1234;
    assert_int_equal(siov_drv_irq_index_alloc(f->drv, &index), -ENOSPC);
    assert_int_equal(index, 1234);
    assert_false(siov_drv_irq_index_used(f->drv, 0));
    assert_int_equal(siov_drv_irq_ids_init(f->drv, 256), 0);
    for (unsigned i = 0; i < 256; i++) {
        assert_false(siov_drv_irq_index_used(f->drv, i));
        assert_int_equal(siov_drv_irq_index_alloc(f->drv, &index), 0);
        assert_int_equal(index, i);
        assert_true(siov_drv_irq_index_used(f->drv, i));
    }
    assert_int_equal(siov_drv_irq_index_alloc(f->drv, &index), -ENOSPC);
    assert_false(siov_drv_irq_index_used(f->drv, 256));
    assert_false(siov_drv_irq_index_used(f->drv, 0xFFFF));
    siov_drv_irq_index_free(f->drv, 17);
    assert_false(siov_drv_irq_index_used(f->drv, 17));
    assert_int_equal(siov_drv_irq_index_alloc(f->drv, &index), 0);
    assert_int_equal(index, 17);
    fx_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool_matches_the_model),
        cmocka_unit_test(test_full_word_next_to_free_pages),
        cmocka_unit_test(test_zeroing_failure),
        cmocka_unit_test(test_deferred_release),
        cmocka_unit_test(test_ids),
        cmocka_unit_test(test_irq_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

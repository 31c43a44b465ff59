/* alloc.c: the driver's allocators — a lowest-first bitmap, the pool of
 * table pages (with pages held back until the next queue flush), PASIDs and
 * domain ids. */
#include <errno.h>
#include <stdlib.h>

#include "driver.h"

/* ------------------------------------------------------------ bitmaps */

static int bm_init(struct siov_bitmap *b, uint64_t nbits)
{
    b->w = calloc((size_t)((nbits + 63) / 64), sizeof(uint64_t)); /* nbits > 0: pools and id spaces */
    b->nbits = b->nfree = nbits;
    b->hint = 0;
    return b->w ? 0 : -ENOMEM;
}

static bool bm_test(const struct siov_bitmap *b, uint64_t i)
{
    return b->w[i / 64] >> (i % 64) & 1;
}

static void bm_mark(struct siov_bitmap *b, uint64_t i, uint64_t n, bool used)
{
    for (uint64_t k = i; k < i + n; k++) {
        if (used)
            b->w[k / 64] |= 1ull << (k % 64);
        else
            b->w[k / 64] &= ~(1ull << (k % 64));
    }
    b->nfree = used ? b->nfree - n : b->nfree + n;
}

/* First run of n free bits in [from, nbits); -1 if none. */
static int64_t bm_find(const struct siov_bitmap *b, uint64_t from, uint64_t n)
{
    uint64_t run = 0;
    for (uint64_t i = from; i < b->nbits; i++) {
        if (run == 0 && i % 64 == 0 && b->w[i / 64] == ~0ull) {
            i += 63; /* a full word: skip it */
            continue;
        }
        if (bm_test(b, i))
            run = 0;
        else if (++run == n)
            return (int64_t)(i + 1 - n);
    }
    return -1;
}

static int64_t bm_alloc(struct siov_bitmap *b, uint64_t n)
{
    int64_t r = bm_find(b, b->hint, n); /* none for n = 0, or n beyond what is free */
    if (r >= 0) {
        bm_mark(b, (uint64_t)r, n, true);
        if ((uint64_t)r == b->hint)
            b->hint = (uint64_t)r + n;
    }
    return r;
}

static void bm_free(struct siov_bitmap *b, uint64_t i, uint64_t n)
{
    bm_mark(b, i, n, false);
    if (i < b->hint)
        b->hint = i;
}

/* ------------------------------------------------------------ set-up */

int siov_drv_pool_init(struct siov_driver *drv, uint64_t base, uint64_t npages)
{
    drv->pool_base = base;
    return bm_init(&drv->pages, npages);
}

int siov_drv_ids_init(struct siov_driver *drv, unsigned did_bits, unsigned pasid_bits)
{
    if (bm_init(&drv->dids, 1ull << did_bits))
        return -ENOMEM;
    bm_mark(&drv->dids, 0, 1, true); /* DID 0: reserved (caching mode tags faults with it) */
    drv->dids.hint = 1;
    if (bm_init(&drv->pasids, 1ull << pasid_bits))
        return -ENOMEM;
    bm_mark(&drv->pasids, 0, 1, true); /* PASID 0: RID_PASID, requests without PASID */
    drv->pasids.hint = 1;
    return 0;
}

void siov_drv_alloc_fini(struct siov_driver *drv)
{
    free(drv->pages.w);
    free(drv->pasids.w);
    free(drv->dids.w);
    free(drv->irqs.w);
    free(drv->deferred);
}

/* ------------------------------------------------------ the table pool */

/* Room in the deferred list for every page in use, so that deferring a
   page (where an unmap cannot fail any more) never allocates. */
static int defer_reserve(struct siov_driver *drv)
{
    size_t want = (size_t)(drv->pages.nbits - drv->pages.nfree), c = drv->cdeferred ? drv->cdeferred : 64;
    if (want <= drv->cdeferred)
        return 0;
    while (c < want)
        c *= 2;
    uint64_t *p = realloc(drv->deferred, c * sizeof(*p));
    if (!p)
        return -ENOMEM;
    drv->deferred = p;
    drv->cdeferred = c;
    return 0;
}

int siov_drv_page_alloc(struct siov_driver *drv, unsigned n, uint64_t *gpa)
{
    int64_t i = bm_alloc(&drv->pages, n);
    if (i < 0)
        return siov_drv_fail(drv, -ENOMEM, "table pool exhausted: %u page%s needed, %llu free (of %llu)", n,
                             n == 1 ? "" : "s", (unsigned long long)drv->pages.nfree,
                             (unsigned long long)drv->pages.nbits);
    if (defer_reserve(drv)) {
        bm_free(&drv->pages, (uint64_t)i, n);
        return siov_drv_fail(drv, -ENOMEM, "out of memory for the list of pages to free after a flush");
    }
    uint64_t g = drv->pool_base + (uint64_t)i * SIOV_PAGE_SIZE;
    for (unsigned k = 0; k < n; k++) {
        int ret = siov_drv_zero(drv, g + k * SIOV_PAGE_SIZE, SIOV_PAGE_SIZE);
        if (ret) {
            bm_free(&drv->pages, (uint64_t)i, n);
            return ret;
        }
    }
    *gpa = g;
    return 0;
}

void siov_drv_page_free(struct siov_driver *drv, uint64_t gpa, unsigned n)
{
    bm_free(&drv->pages, (gpa - drv->pool_base) / SIOV_PAGE_SIZE, n);
}

void siov_drv_page_defer(struct siov_driver *drv, uint64_t gpa)
{
    drv->deferred[drv->ndeferred++] = gpa; /* page_alloc made room for every page in use */
}

void siov_drv_page_release_deferred(struct siov_driver *drv)
{
    for (size_t i = 0; i < drv->ndeferred; i++)
        siov_drv_page_free(drv, drv->deferred[i], 1);
    drv->ndeferred = 0;
}

/* --------------------------------------------------------- identifiers */

int siov_drv_pasid_alloc(struct siov_driver *drv, uint32_t *pasid)
{
    int64_t r = drv->pasid_ok ? bm_alloc(&drv->pasids, 1) : -1;
    if (r < 0)
        return siov_drv_fail(drv, -ENOSPC, "no PASID left (all %llu in use; PASID 0 is RID_PASID)",
                             (unsigned long long)drv->pasids.nbits - 1);
    *pasid = (uint32_t)r;
    return 0;
}

void siov_drv_pasid_free(struct siov_driver *drv, uint32_t pasid)
{
    bm_free(&drv->pasids, pasid, 1);
}

int siov_drv_did_alloc(struct siov_driver *drv, uint16_t *did)
{
    int64_t r = bm_alloc(&drv->dids, 1);
    if (r < 0)
        return siov_drv_fail(drv, -ENOSPC, "no domain id left (all %llu in use; CAP.ND)",
                             (unsigned long long)drv->dids.nbits - 1);
    *did = (uint16_t)r;
    return 0;
}

void siov_drv_did_free(struct siov_driver *drv, uint16_t did)
{
    bm_free(&drv->dids, did, 1);
}

/* --------------------------------------------- interrupt table entries */

int siov_drv_irq_ids_init(struct siov_driver *drv, unsigned n)
{
    return bm_init(&drv->irqs, n);
}

/* Before siov_drv_irq_ids_init (no interrupt remapping) the bitmap is empty
   (nbits 0): nothing to allocate, no index in use. */
int siov_drv_irq_index_alloc(struct siov_driver *drv, unsigned *index)
{
    int64_t r = bm_alloc(&drv->irqs, 1);
    if (r < 0)
        return -ENOSPC;
    *index = (unsigned)r;
    return 0;
}

void siov_drv_irq_index_free(struct siov_driver *drv, unsigned index)
{
    bm_free(&drv->irqs, index, 1);
}

bool siov_drv_irq_index_used(const struct siov_driver *drv, unsigned index)
{
    return index < drv->irqs.nbits && bm_test(&drv->irqs, index);
}

/* Zeroed arrays for the caches, from anonymous mappings: the kernel backs a
 * page only when it is first written, so a unit's memory grows with what it
 * caches rather than with what it could cache. Arrays of PAGES_HUGE bytes
 * and more ask for transparent huge pages: a hit into a large front cache
 * then misses no TLB, at the price of 2 MiB steps. Each array ends as close
 * to a guard page as 64-byte alignment allows, so that a read past its end
 * faults at once instead of reading zeroes. */
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "caches.h"

#define PAGES_HUGE (4ull << 20)
#define PAGES_ALIGN 64 /* a cache line: no array needs more */

/* The mapping behind an array of bytes: span bytes of it, then the guard page. */
static size_t pages_span(size_t bytes, size_t page)
{
    return (bytes + page - 1) / page * page;
}

static size_t pages_offset(size_t bytes, size_t span)
{
    return (span - bytes) & ~(size_t)(PAGES_ALIGN - 1);
}

void *siov_pages_alloc(size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), span = pages_span(bytes, page);
    if (!bytes || span < bytes)
        return NULL;
    uint8_t *p = mmap(NULL, span + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    (void)mprotect(p + span, page, PROT_NONE); /* a guard only: the array works the same without it */
#ifdef MADV_HUGEPAGE
    if (bytes >= PAGES_HUGE)
        (void)madvise(p, span, MADV_HUGEPAGE); /* advice only: 4 KiB pages work as well */
#endif
    return p + pages_offset(bytes, span);
}

void siov_pages_free(void *p, size_t bytes)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE), span = pages_span(bytes, page);
    if (p)
        munmap((uint8_t *)p - pages_offset(bytes, span), span + page);
}

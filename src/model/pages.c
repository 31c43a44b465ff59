/* Zeroed, page-aligned arrays for the caches, from anonymous mappings: the
 * kernel backs a page only when it is first written, so a unit's memory
 * grows with what it caches rather than with what it could cache. Arrays of
 * PAGES_HUGE bytes and more ask for transparent huge pages: a hit into a
 * large front cache then misses no TLB, at the price of 2 MiB steps. */
#include <sys/mman.h>

#include "caches.h"

#define PAGES_HUGE (4ull << 20)

void *siov_pages_alloc(size_t bytes)
{
    if (!bytes)
        return NULL;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
#ifdef MADV_HUGEPAGE
    if (bytes >= PAGES_HUGE)
        (void)madvise(p, bytes, MADV_HUGEPAGE); /* advice only: 4 KiB pages work as well */
#endif
    return p;
}

void siov_pages_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

/* Zeroed, page-aligned arrays for the caches, from anonymous mappings: the
 * kernel backs a page only when it is first written, so a unit's memory
 * grows with what it caches rather than with what it could cache. */
#include <sys/mman.h>

#include "caches.h"

void *siov_pages_alloc(size_t bytes)
{
    if (!bytes)
        return NULL;
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

void siov_pages_free(void *p, size_t bytes)
{
    if (p)
        munmap(p, bytes);
}

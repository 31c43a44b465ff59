/* The wrapped allocation calls of tests/alloc_wrap.h: each fails when the
   armed count runs out, else calls the real one. The state is the test
   program's own (a wrapper has no context to carry it). */
#include "alloc_wrap.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/types.h>

static long alloc_left = -1; /* allocations that still succeed before one fails; -1: none fails */
static bool fired;

void aw_arm(long k)
{
    alloc_left = k;
    fired = false;
}

void aw_disarm(void) { alloc_left = -1; }

bool aw_fired(void) { return fired; }

static bool alloc_fails(void)
{
    if (alloc_left < 0 || alloc_left-- > 0)
        return false;
    fired = true;
    return true;
}

void *__real_calloc(size_t n, size_t size);
void *__real_malloc(size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__real_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
void *__wrap_mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a);

void *__wrap_calloc(size_t n, size_t size) { return alloc_fails() ? NULL : __real_calloc(n, size); }
void *__wrap_malloc(size_t size) { return alloc_fails() ? NULL : __real_malloc(size); }
void *__wrap_realloc(void *p, size_t size) { return alloc_fails() ? NULL : __real_realloc(p, size); }

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

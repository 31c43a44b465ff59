/* Guest-physical memory: the flat backend and the callback backend. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

struct siov_mem {
    struct siov_mem_ops ops; /* callback backend */
    void *opaque;
    uint8_t *flat;           /* flat backend: NULL for callbacks */
    uint64_t size;
    uint64_t fail_base, fail_len; /* injected failure (flat only) */
    unsigned fail_which;
    pthread_mutex_t cas_lock; /* serializes read-compare-write where no atomic exists */
};

/* A zeroed memory object with its lock; NULL on ENOMEM. */
static struct siov_mem *mem_alloc(void)
{
    struct siov_mem *m = calloc(1, sizeof(*m));
    if (m && pthread_mutex_init(&m->cas_lock, NULL)) {
        free(m);
        return NULL;
    }
    return m;
}

struct siov_mem *siov_mem_new_flat(uint64_t size)
{
    if (size == 0 || size > SIZE_MAX) {
        errno = EINVAL;
        return NULL;
    }
    struct siov_mem *m = mem_alloc();
    if (!m) {
        errno = ENOMEM;
        return NULL;
    }
    /* Anonymous mapping: zero pages on first touch, so a large guest memory
       costs only what is used (calloc would touch it all under MALLOC_PERTURB_). */
    void *p = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        pthread_mutex_destroy(&m->cas_lock);
        free(m);
        errno = ENOMEM;
        return NULL;
    }
    m->flat = p;
    m->size = size;
    return m;
}

struct siov_mem *siov_mem_new(const struct siov_mem_ops *ops, void *opaque)
{
    if (!ops || !ops->read || !ops->write) {
        errno = EINVAL;
        return NULL;
    }
    struct siov_mem *m = mem_alloc();
    if (!m) {
        errno = ENOMEM;
        return NULL;
    }
    m->ops = *ops;
    m->opaque = opaque;
    m->size = UINT64_MAX;
    return m;
}

void siov_mem_free(struct siov_mem *mem)
{
    if (!mem)
        return;
    if (mem->flat)
        munmap(mem->flat, (size_t)mem->size);
    pthread_mutex_destroy(&mem->cas_lock);
    free(mem);
}

uint64_t siov_mem_size(const struct siov_mem *mem)
{
    return mem ? mem->size : 0;
}

void *siov_mem_flat_ptr(struct siov_mem *mem)
{
    return mem ? mem->flat : NULL;
}

int siov_mem_fail_range(struct siov_mem *mem, uint64_t gpa, uint64_t len, unsigned which)
{
    if (!mem || !mem->flat)
        return -EINVAL;
    mem->fail_base = gpa;
    mem->fail_len = which ? len : 0;
    mem->fail_which = which;
    return 0;
}

/* Whether a flat access is inside memory and outside the injected failure. */
static bool flat_ok(const struct siov_mem *m, uint64_t gpa, size_t len, unsigned kind)
{
    if (len > m->size || gpa > m->size - len)
        return false;
    if (m->fail_len && (m->fail_which & kind) && gpa < m->fail_base + m->fail_len &&
        m->fail_base < gpa + len)
        return false;
    return true;
}

int siov_mem_read(struct siov_mem *mem, uint64_t gpa, void *dst, size_t len)
{
    if (!mem || (!dst && len))
        return -EINVAL;
    if (!mem->flat)
        return mem->ops.read(mem->opaque, gpa, dst, len) < 0 ? -EFAULT : 0;
    if (!flat_ok(mem, gpa, len, SIOV_MEM_FAIL_READ))
        return -EFAULT;
    if (len) /* dst may be NULL then, which memcpy does not allow */
        memcpy(dst, mem->flat + gpa, len);
    return 0;
}

int siov_mem_write(struct siov_mem *mem, uint64_t gpa, const void *src, size_t len)
{
    if (!mem || (!src && len))
        return -EINVAL;
    if (!mem->flat)
        return mem->ops.write(mem->opaque, gpa, src, len) < 0 ? -EFAULT : 0;
    if (!flat_ok(mem, gpa, len, SIOV_MEM_FAIL_WRITE))
        return -EFAULT;
    if (len == 8 && !(gpa & 7)) {
        /* a table entry, stored whole (release: a walk that reads it sees what was written before it) */
        uint64_t v;
        memcpy(&v, src, 8);
        __atomic_store_n((uint64_t *)(void *)(mem->flat + gpa), v, __ATOMIC_RELEASE);
        return 0;
    }
    if (len)
        memcpy(mem->flat + gpa, src, len);
    return 0;
}

int siov_mem_read64(struct siov_mem *mem, uint64_t gpa, uint64_t *val)
{
    /* Flat and aligned: an atomic load, so a concurrent table update is seen whole (acquire: with what preceded it). */
    if (mem->flat && !(gpa & 7) && flat_ok(mem, gpa, 8, SIOV_MEM_FAIL_READ)) {
        *val = __atomic_load_n((uint64_t *)(void *)(mem->flat + gpa), __ATOMIC_ACQUIRE);
        return 0;
    }
    return siov_mem_read(mem, gpa, val, 8);
}

int siov_mem_read128(struct siov_mem *mem, uint64_t gpa, uint64_t val[2])
{
    if (!mem->flat) /* the embedder sees one 16-byte access */
        return siov_mem_read(mem, gpa, val, 16);
    if (siov_mem_read64(mem, gpa, &val[0]) < 0 || siov_mem_read64(mem, gpa + 8, &val[1]) < 0)
        return -EFAULT;
    return 0;
}

int siov_mem_cmpxchg64(struct siov_mem *mem, uint64_t gpa, uint64_t old, uint64_t new_)
{
    if (mem->flat && !(gpa & 7)) {
        if (!flat_ok(mem, gpa, 8, SIOV_MEM_FAIL_WRITE) || !flat_ok(mem, gpa, 8, SIOV_MEM_FAIL_READ))
            return -EFAULT;
        uint64_t *p = (uint64_t *)(void *)(mem->flat + gpa);
        return __atomic_compare_exchange_n(p, &old, new_, false, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED);
    }
    if (!mem->flat && mem->ops.cmpxchg64) { /* the embedder's own atomic */
        uint64_t expected = old;
        int rc = mem->ops.cmpxchg64(mem->opaque, gpa, &expected, new_);
        return rc < 0 ? -EFAULT : rc == 0;
    }
    uint64_t cur;
    int rc;
    pthread_mutex_lock(&mem->cas_lock);
    if (siov_mem_read(mem, gpa, &cur, 8) < 0)
        rc = -EFAULT;
    else if (cur != old)
        rc = 0;
    else
        rc = siov_mem_write(mem, gpa, &new_, 8) < 0 ? -EFAULT : 1;
    pthread_mutex_unlock(&mem->cas_lock);
    return rc;
}

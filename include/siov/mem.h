/* libsiov — emulated guest-physical memory: a flat backend and a callback backend. */
#ifndef SIOV_MEM_H
#define SIOV_MEM_H

#include <siov/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Callbacks of an embedder's memory. read and write return 0, or a negative
   errno when [gpa, gpa+len) is not backed. The model calls them for every
   table read and A/D write, and for DMA data. Words are little endian. */
struct siov_mem_ops {
    int (*read)(void *opaque, uint64_t gpa, void *dst, size_t len);
    int (*write)(void *opaque, uint64_t gpa, const void *src, size_t len);
    /* Optional (may be NULL): an atomic compare-and-exchange of the 8-byte word
       at gpa, used for A/D bits and posted-interrupt descriptors, anything a
       CPU model may touch at once. Returns 0 and stores desired when the word
       equalled *expected; 1 with *expected set to the word when not; or a
       negative errno. NULL: the unit serializes its own read-compare-write
       under a lock (atomic only against the unit's other updates). */
    int (*cmpxchg64)(void *opaque, uint64_t gpa, uint64_t *expected, uint64_t desired);
};

struct siov_mem;

/* Zeroed RAM at [0, size); NULL with errno EINVAL (size 0, or beyond the
   address space) or ENOMEM. */
SIOV_API struct siov_mem *siov_mem_new_flat(uint64_t size);
/* Memory served by the embedder's callbacks; NULL with errno EINVAL if ops,
   read or write is NULL (cmpxchg64 may be), ENOMEM. */
SIOV_API struct siov_mem *siov_mem_new(const struct siov_mem_ops *ops, void *opaque);
/* Free a memory object (NULL is ignored). */
SIOV_API void siov_mem_free(struct siov_mem *mem);
/* Copy guest memory out; 0, -EINVAL on NULL, -EFAULT when not backed or failed. */
SIOV_API int siov_mem_read(struct siov_mem *mem, uint64_t gpa, void *dst, size_t len);
/* Copy into guest memory; 0, -EINVAL on NULL, -EFAULT when not backed or failed.
   Flat memory stores an aligned 8-byte write whole (a table entry, as a CPU
   writes it), so that a concurrent walk reads the old or the new entry. */
SIOV_API int siov_mem_write(struct siov_mem *mem, uint64_t gpa, const void *src, size_t len);
/* Flat: its size; callback backend: UINT64_MAX. */
SIOV_API uint64_t siov_mem_size(const struct siov_mem *mem);
#define SIOV_MEM_FAIL_READ (1u << 0)
#define SIOV_MEM_FAIL_WRITE (1u << 1)
/* Flat backend only: make the accesses named by which (SIOV_MEM_FAIL_*) that
   touch [gpa, gpa+len) fail with -EFAULT; len 0 or which 0 clears it.
   -EINVAL for a callback backend. One range at a time. */
SIOV_API int siov_mem_fail_range(struct siov_mem *mem, uint64_t gpa, uint64_t len, unsigned which);
/* Flat backend only: pointer to the backing bytes (for inspection); NULL otherwise. */
SIOV_API void *siov_mem_flat_ptr(struct siov_mem *mem);

#ifdef __cplusplus
}
#endif
#endif

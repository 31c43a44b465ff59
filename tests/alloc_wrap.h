/* Allocation failures for the tests linked with ld --wrap of calloc, malloc,
   realloc, aligned_alloc, mmap, mmap64 and pthread_mutex_init (tests/meson.build,
   alloc_wrap_args): the library's calls go through tests/alloc_wrap.c. */
#ifndef SIOV_TESTS_ALLOC_WRAP_H
#define SIOV_TESTS_ALLOC_WRAP_H

#include <stdbool.h>

/* Let k allocations through, then fail the next one (only one); k < 0: none fails. */
void aw_arm(long k);
/* Stop failing: every later allocation succeeds. */
void aw_disarm(void);
/* Whether a failure was injected since the last aw_arm. */
bool aw_fired(void);

#endif

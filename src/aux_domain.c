/* aux_domain.c: the reference driver (issue 4) — being written. */
#include "internal.h"

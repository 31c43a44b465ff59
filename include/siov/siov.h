/* libsiov — user-space emulation of Intel VT-d scalable-mode DMA remapping,
 * and a reference driver with the aux-domain API. Include this header. */
#ifndef SIOV_SIOV_H
#define SIOV_SIOV_H

#include <siov/version.h> /* SIOV_VERSION_MAJOR/MINOR/PATCH/STRING/NUMBER */
#include <siov/types.h>
#include <siov/mem.h>
#include <siov/format.h>
#include <siov/irq.h>
#include <siov/iommu.h>
#include <siov/port.h>
#include <siov/ats.h>
#include <siov/prq.h>
#include <siov/domain.h>
#include <siov/trace.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version string at run time (may differ from SIOV_VERSION_STRING). */
SIOV_API const char *siov_version(void);

#ifdef __cplusplus
}
#endif
#endif

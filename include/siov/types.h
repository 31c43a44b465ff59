/* libsiov — requester ids, PASIDs, access bits and VT-d fault reasons. */
#ifndef SIOV_TYPES_H
#define SIOV_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define SIOV_API __attribute__((visibility("default")))
#else
#define SIOV_API
#endif

typedef uint16_t siov_sid; /* requester id: bus[15:8] dev[7:3] fn[2:0] */
#define SIOV_SID(bus, dev, fn) ((siov_sid)(((bus) << 8) | ((dev) << 3) | (fn)))
#define SIOV_SID_BUS(sid) ((unsigned)((sid) >> 8))
#define SIOV_SID_DEVFN(sid) ((unsigned)((sid) & 0xFF))
#define SIOV_NO_PASID UINT32_MAX /* a request without a PASID */
#define SIOV_PASID_MAX 0xFFFFFu  /* largest 20-bit PASID */

#define SIOV_ACCESS_READ (1u << 0)
#define SIOV_ACCESS_WRITE (1u << 1)
#define SIOV_ACCESS_EXEC (1u << 2) /* execute request (ERE) */
#define SIOV_ACCESS_PRIV (1u << 3) /* supervisor/privileged request (SRE) */
#define SIOV_ACCESS_NO_WRITE (1u << 6) /* NW on a translation request: a read-only fill */

/* VT-d fault reasons, numerically equal to the specification's codes
   (legacy 0x01..0x0E, scalable mode 0x30..0x91). Names follow the spec's
   fault-condition names, with '.' written as '_'. */
typedef enum siov_fault {
    SIOV_OK = 0,
    /* legacy mode (spec 7.1.3, Table "legacy-mode fault conditions") */
    SIOV_FAULT_LRT_2 = 0x01,   /* root entry not present */
    SIOV_FAULT_LCT_2 = 0x02,   /* context entry not present */
    SIOV_FAULT_LCT_4 = 0x03,   /* invalid context-entry programming */
    SIOV_FAULT_LGN_1 = 0x04,   /* input address above the address width */
    SIOV_FAULT_LGN_2 = 0x05,   /* write without write permission */
    SIOV_FAULT_LGN_3 = 0x06,   /* read without read permission */
    SIOV_FAULT_LSL_1 = 0x07,   /* second-level entry access error */
    SIOV_FAULT_LRT_1 = 0x08,   /* root entry access error */
    SIOV_FAULT_LCT_1 = 0x09,   /* context entry access error */
    SIOV_FAULT_LRT_3 = 0x0A,   /* reserved bit in root entry */
    SIOV_FAULT_LCT_3 = 0x0B,   /* reserved bit in context entry */
    SIOV_FAULT_LSL_2 = 0x0C,   /* reserved bit in second-level entry */
    SIOV_FAULT_LCT_5 = 0x0D,   /* request blocked by context-entry TT */
    SIOV_FAULT_LGN_4 = 0x0E,   /* output address in the interrupt range */
    /* scalable mode */
    SIOV_FAULT_RTA_1 = 0x30,   /* invalid RTADDR programming */
    SIOV_FAULT_RTA_2 = 0x31,   /* request-with-PASID in legacy mode */
    SIOV_FAULT_RTA_3 = 0x32,   /* page request in legacy mode */
    SIOV_FAULT_RTA_4 = 0x33,   /* reserved by libsiov: never emitted */
    SIOV_FAULT_SRT_1 = 0x38,   /* scalable root entry access error */
    SIOV_FAULT_SRT_2 = 0x39,   /* root entry half not present */
    SIOV_FAULT_SRT_3 = 0x3A,   /* reserved bit in scalable root entry */
    SIOV_FAULT_SCT_1 = 0x40,   /* scalable context entry access error */
    SIOV_FAULT_SCT_2 = 0x41,   /* scalable context entry not present */
    SIOV_FAULT_SCT_3 = 0x42,   /* reserved bit in scalable context entry */
    SIOV_FAULT_SCT_4 = 0x43,   /* invalid scalable context-entry programming */
    SIOV_FAULT_SCT_5 = 0x44,   /* translation request with DTE=0 */
    SIOV_FAULT_SCT_6 = 0x45,   /* request with PASID and PASIDE=0 */
    SIOV_FAULT_SCT_7 = 0x46,   /* PASID beyond the PASID directory size */
    SIOV_FAULT_SCT_8 = 0x47,   /* page request with PRE=0 */
    SIOV_FAULT_SCT_9 = 0x48,   /* RID_PASID field error */
    SIOV_FAULT_SCT_10 = 0x49,  /* translated request with PASID (EPTR=0) */
    SIOV_FAULT_SPD_1 = 0x50,   /* PASID directory entry access error */
    SIOV_FAULT_SPD_2 = 0x51,   /* PASID directory entry not present */
    SIOV_FAULT_SPD_3 = 0x52,   /* reserved bit in PASID directory entry */
    SIOV_FAULT_SPT_1 = 0x58,   /* PASID table entry access error */
    SIOV_FAULT_SPT_2 = 0x59,   /* PASID table entry not present */
    SIOV_FAULT_SPT_3 = 0x5A,   /* reserved bit in PASID table entry */
    SIOV_FAULT_SPT_4 = 0x5B,   /* invalid PASID-entry programming */
    SIOV_FAULT_SPT_5 = 0x5C,   /* execute request with ERE=0 */
    SIOV_FAULT_SPT_6 = 0x5D,   /* privileged request with SRE=0 */
    SIOV_FAULT_SFL_1 = 0x70,   /* first-level entry access error */
    SIOV_FAULT_SFL_2 = 0x71,   /* first-level entry not present */
    SIOV_FAULT_SFL_3 = 0x72,   /* reserved bit in first-level entry */
    SIOV_FAULT_SFL_4 = 0x73,   /* top first-level entry access error (FLPTPTR) */
    SIOV_FAULT_SFL_5 = 0x74,   /* nested: first-level table address beyond second-level width */
    SIOV_FAULT_SFL_6 = 0x75,   /* nested: second level denies read of top first-level entry */
    SIOV_FAULT_SFL_7 = 0x76,   /* nested: second level denies read of a first-level entry */
    SIOV_FAULT_SFL_8 = 0x77,   /* nested: second level denies write for an A/D update */
    SIOV_FAULT_SSL_1 = 0x78,   /* second-level entry access error */
    SIOV_FAULT_SSL_2 = 0x79,   /* second-level entry not present (R=W=X=0) */
    SIOV_FAULT_SSL_3 = 0x7A,   /* reserved bit in second-level entry */
    SIOV_FAULT_SSL_4 = 0x7B,   /* top second-level entry access error (SLPTPTR) */
    SIOV_FAULT_SSL_5 = 0x7C,   /* second-level A/D update with non-snooped walk */
    SIOV_FAULT_SSL_6 = 0x7D,   /* second-level A/D update write failed */
    SIOV_FAULT_SGN_1 = 0x80,   /* first-level input address not canonical */
    SIOV_FAULT_SGN_2 = 0x81,   /* user request to a supervisor page */
    SIOV_FAULT_SGN_3 = 0x82,   /* execute not permitted */
    SIOV_FAULT_SGN_4 = 0x83,   /* input address beyond the address width */
    SIOV_FAULT_SGN_5 = 0x84,   /* output address beyond the host address width */
    SIOV_FAULT_SGN_6 = 0x85,   /* write without write permission */
    SIOV_FAULT_SGN_7 = 0x86,   /* read without read permission */
    SIOV_FAULT_SGN_8 = 0x87,   /* output address in the interrupt range */
    SIOV_FAULT_SFL_9 = 0x90,   /* first-level A/D update with non-snooped walk */
    SIOV_FAULT_SFL_10 = 0x91,  /* first-level A/D update write failed */
    /* Not a VT-d fault: siov_dma_* found the translated address unbacked
       (on a bus this is an unsupported request; nothing is recorded). */
    SIOV_ERR_BUS = 0x100,
    /* Not a VT-d fault: a translation completion said the page is not present
       with the access asked for; the device may send a page request and
       retry. Nothing is recorded. */
    SIOV_ERR_NOT_PRESENT = 0x101,
} siov_fault;

/* Short spec name of a fault reason ("SPT.2"); "OK" for SIOV_OK, "?" if unknown. */
SIOV_API const char *siov_fault_name(siov_fault f);
/* One-line meaning of a fault reason; "unknown fault reason" if unknown. */
SIOV_API const char *siov_fault_describe(siov_fault f);

#ifdef __cplusplus
}
#endif
#endif

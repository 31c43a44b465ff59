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
   (rev 5.10 Table 30: legacy 0x01..0x0E, scalable mode 0x30..0xA5; Table
   15: interrupt remapping 0x20..0x2B). Names follow the spec's
   fault-condition names, with '.' written as '_'; the second-level and
   first-level groups keep the older names (LSL, SFL, SSL), and the rev 3.4+
   stage names (LSS, SFS, SSS) are aliases below. The spec gives the
   interrupt-remapping reasons no short names: libsiov names each after its
   code, "IR.<two hex digits>" (IR.20 .. IR.2B, upper case), with the
   enumerator SIOV_FAULT_IR_<digits>. Comments condense the condition of
   Table 30 (Table 15); docs/spec-notes.md says which the model emits. */
typedef enum siov_fault {
    SIOV_OK = 0,
    /* legacy mode */
    SIOV_FAULT_LRT_2 = 0x01,   /* root entry not present */
    SIOV_FAULT_LCT_2 = 0x02,   /* context entry not present */
    SIOV_FAULT_LCT_4 = 0x03,   /* invalid context-entry programming */
    SIOV_FAULT_LGN_1 = 0x04,   /* input address above 2^X-1 (X = min(MGAW, AW)), or above HAW */
    SIOV_FAULT_LGN_2 = 0x05,   /* write without write permission */
    SIOV_FAULT_LGN_3 = 0x06,   /* read without read permission */
    SIOV_FAULT_LSL_1 = 0x07,   /* second-stage entry access error */
    SIOV_FAULT_LRT_1 = 0x08,   /* root entry access error */
    SIOV_FAULT_LCT_1 = 0x09,   /* context entry access error */
    SIOV_FAULT_LRT_3 = 0x0A,   /* reserved bit in root entry */
    SIOV_FAULT_LCT_3 = 0x0B,   /* reserved bit in context entry */
    SIOV_FAULT_LSL_2 = 0x0C,   /* reserved bit in second-stage entry */
    SIOV_FAULT_LCT_5 = 0x0D,   /* request blocked by context-entry TT */
    SIOV_FAULT_LGN_4 = 0x0E,   /* output address in the interrupt range */
    /* interrupt remapping (spec 5.1.4, Table 15) */
    SIOV_FAULT_IR_20 = 0x20,   /* reserved field set in a remappable interrupt request */
    SIOV_FAULT_IR_21 = 0x21,   /* interrupt index beyond the table size (or above HAW) */
    SIOV_FAULT_IR_22 = 0x22,   /* interrupt remapping table entry not present */
    SIOV_FAULT_IR_23 = 0x23,   /* interrupt remapping table entry access error */
    SIOV_FAULT_IR_24 = 0x24,   /* reserved field set in a present table entry */
    SIOV_FAULT_IR_25 = 0x25,   /* compatibility-format interrupt blocked */
    SIOV_FAULT_IR_26 = 0x26,   /* source-id validation failed */
    SIOV_FAULT_IR_27 = 0x27,   /* posted-interrupt descriptor access error */
    SIOV_FAULT_IR_28 = 0x28,   /* reserved field set in the posted-interrupt descriptor */
    SIOV_FAULT_IR_29 = 0x29,   /* write to the interrupt range that is not a valid MSI */
    SIOV_FAULT_IR_2A = 0x2A,   /* xAPIC mode (IRTA.EIME=0) with ECAP.EIMER set */
    SIOV_FAULT_IR_2B = 0x2B,   /* interrupt while remapping is off and ECAP.IRREQ is set */
    /* scalable mode */
    SIOV_FAULT_RTA_1 = 0x30,   /* invalid RTADDR programming */
    SIOV_FAULT_RTA_2 = 0x31,   /* request-with-PASID in legacy mode */
    SIOV_FAULT_RTA_3 = 0x32,   /* page request in legacy mode */
    SIOV_FAULT_RTA_4 = 0x33,   /* request in abort-DMA mode (TTM=11) */
    SIOV_FAULT_RTA_5 = 0x34,   /* request-with-PASID with ER=1 to a unit of VER 8.0 or later */
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
    SIOV_FAULT_SCT_9 = 0x48,   /* request's PASID equals RID_PASID */
    SIOV_FAULT_SCT_10 = 0x49,  /* translated request-with-PASID while EPTR=0 */
    SIOV_FAULT_SPD_1 = 0x50,   /* PASID directory entry access error */
    SIOV_FAULT_SPD_2 = 0x51,   /* PASID directory entry not present */
    SIOV_FAULT_SPD_3 = 0x52,   /* reserved bit in PASID directory entry */
    SIOV_FAULT_SPT_1 = 0x58,   /* PASID table entry access error */
    SIOV_FAULT_SPT_2 = 0x59,   /* PASID table entry not present */
    SIOV_FAULT_SPT_3 = 0x5A,   /* reserved bit in PASID table entry */
    SIOV_FAULT_SPT_4 = 0x5B,   /* invalid PASID-entry programming */
    SIOV_FAULT_SPT_5 = 0x5C,   /* execute request with ERE=0 */
    SIOV_FAULT_SPT_6 = 0x5D,   /* privileged request with SRE=0 */
    SIOV_FAULT_SPT_9 = 0x60,   /* PASID-table entry condition of rev 5.x */
    SIOV_FAULT_SFL_1 = 0x70,   /* first-stage entry access error */
    SIOV_FAULT_SFL_2 = 0x71,   /* first-stage entry not present */
    SIOV_FAULT_SFL_3 = 0x72,   /* reserved bit in first-stage entry */
    SIOV_FAULT_SFL_4 = 0x73,   /* top first-stage entry access error (FLPTPTR) */
    SIOV_FAULT_SFL_5 = 0x74,   /* nested: first-stage table address beyond second-stage width */
    SIOV_FAULT_SFL_6 = 0x75,   /* nested: second stage denies read of top first-stage entry */
    SIOV_FAULT_SFL_7 = 0x76,   /* nested: second stage denies read of a first-stage entry */
    SIOV_FAULT_SFL_8 = 0x77,   /* nested: second stage denies write for an A/D update */
    SIOV_FAULT_SSL_1 = 0x78,   /* second-stage entry access error */
    SIOV_FAULT_SSL_2 = 0x79,   /* second-stage entry with R=W=0, or R and W both denied */
    SIOV_FAULT_SSL_3 = 0x7A,   /* reserved bit in second-stage entry */
    SIOV_FAULT_SSL_4 = 0x7B,   /* top second-stage entry access error (SLPTPTR) */
    SIOV_FAULT_SSL_5 = 0x7C,   /* second-stage A/D update with non-snooped walk */
    SIOV_FAULT_SSL_6 = 0x7D,   /* second-stage A/D update write failed */
    SIOV_FAULT_SGN_1 = 0x80,   /* first-stage input address not canonical */
    SIOV_FAULT_SGN_2 = 0x81,   /* user request to a supervisor page */
    SIOV_FAULT_SGN_3 = 0x82,   /* execute not permitted */
    SIOV_FAULT_SGN_4 = 0x83,   /* host address above HAW (pass-through, translated request) */
    SIOV_FAULT_SGN_5 = 0x84,   /* second-stage input address above 2^X-1 (X = min(MGAW, AW)) */
    SIOV_FAULT_SGN_6 = 0x85,   /* write without write permission */
    SIOV_FAULT_SGN_7 = 0x86,   /* read without read permission */
    SIOV_FAULT_SGN_8 = 0x87,   /* output address in the interrupt range */
    SIOV_FAULT_SGN_10 = 0x89,  /* PASID above the unit's PASID width (ECAP.PSS) */
    SIOV_FAULT_SFL_9 = 0x90,   /* first-stage A/D update with non-snooped walk */
    SIOV_FAULT_SFL_10 = 0x91,  /* first-stage A/D update write failed */
    SIOV_FAULT_HPT_1 = 0xA0,   /* host permission table faults (ECAP.HPTS, rev 5.x) */
    SIOV_FAULT_HPT_2 = 0xA1,
    SIOV_FAULT_HPT_3 = 0xA2,
    SIOV_FAULT_HPT_4 = 0xA3,
    SIOV_FAULT_HPT_5 = 0xA4,
    SIOV_FAULT_HPT_6 = 0xA5,
    /* The rev 3.4+ stage names of the same codes (siov_fault_stage_name). */
    SIOV_FAULT_LSS_1 = SIOV_FAULT_LSL_1,
    SIOV_FAULT_LSS_2 = SIOV_FAULT_LSL_2,
    SIOV_FAULT_SFS_1 = SIOV_FAULT_SFL_1,
    SIOV_FAULT_SFS_2 = SIOV_FAULT_SFL_2,
    SIOV_FAULT_SFS_3 = SIOV_FAULT_SFL_3,
    SIOV_FAULT_SFS_4 = SIOV_FAULT_SFL_4,
    SIOV_FAULT_SFS_5 = SIOV_FAULT_SFL_5,
    SIOV_FAULT_SFS_6 = SIOV_FAULT_SFL_6,
    SIOV_FAULT_SFS_7 = SIOV_FAULT_SFL_7,
    SIOV_FAULT_SFS_8 = SIOV_FAULT_SFL_8,
    SIOV_FAULT_SFS_9 = SIOV_FAULT_SFL_9,
    SIOV_FAULT_SFS_10 = SIOV_FAULT_SFL_10,
    SIOV_FAULT_SSS_1 = SIOV_FAULT_SSL_1,
    SIOV_FAULT_SSS_2 = SIOV_FAULT_SSL_2,
    SIOV_FAULT_SSS_3 = SIOV_FAULT_SSL_3,
    SIOV_FAULT_SSS_4 = SIOV_FAULT_SSL_4,
    SIOV_FAULT_SSS_5 = SIOV_FAULT_SSL_5,
    SIOV_FAULT_SSS_6 = SIOV_FAULT_SSL_6,
    /* Not a VT-d fault: siov_dma_* found the translated address unbacked
       (on a bus this is an unsupported request; nothing is recorded). */
    SIOV_ERR_BUS = 0x100,
    /* Not a VT-d fault: a translation completion said the page is not present
       with the access asked for; the device may send a page request and
       retry. Nothing is recorded. */
    SIOV_ERR_NOT_PRESENT = 0x101,
} siov_fault;

/* Short spec name of a fault reason ("SPT.2", "SSL.2"); "OK" for SIOV_OK, "?" if unknown. */
SIOV_API const char *siov_fault_name(siov_fault f);
/* The name in the rev 3.4+ stage terminology ("SSS.2" for SSL.2, "SFS.1",
   "LSS.1"); the same as siov_fault_name for the other reasons. */
SIOV_API const char *siov_fault_stage_name(siov_fault f);
/* The reason named name, in either terminology ("SSL.2" or "SSS.2"; '_' for
   '.' and any case accepted): 0 and *out set, or -EINVAL if none is. */
SIOV_API int siov_fault_from_name(const char *name, siov_fault *out);
/* One-line meaning of a fault reason (Table 30's condition); "unknown fault reason" if unknown. */
SIOV_API const char *siov_fault_describe(siov_fault f);

#ifdef __cplusplus
}
#endif
#endif

/* libsiov — DMA traces: the unit's trace hook, and trace files.
 *
 * A trace is a sequence of records: the requests a remapping unit served
 * (translations and DMA, with their answers), the invalidations it processed,
 * and markers of what software did to the tables (domains, attaches, maps,
 * unmaps), so that a replay can build the same tables itself. Two file forms
 * hold the same records: text, one record a line, for reading and writing by
 * hand, and a compact binary form for long traces (docs/tracing.md gives
 * both). siov-sim records (`trace start`), converts, generates and replays
 * them (`siov-sim replay`).
 *
 * Recording from an embedding simulator: open a trace for writing and hand
 * siov_trace_hook to siov_iommu_set_trace; the unit then reports every
 * siov_translate (and each request of siov_translate_batch), siov_dma_read
 * and siov_dma_write, and every processed invalidation. Markers
 * (maps and the like) are the embedder's to record with siov_trace_record,
 * since only software knows them.
 */
#ifndef SIOV_TRACE_H
#define SIOV_TRACE_H

#include <stdio.h>

#include <siov/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What a record is. Requests (XLATE, READ, WRITE) come from the unit's hook;
   INVAL too; the markers (DOMAIN .. UNMAP) come from software. */
enum siov_trace_kind {
    SIOV_TRACE_XLATE = 1, /* siov_translate: one request */
    SIOV_TRACE_READ,      /* siov_dma_read of len bytes */
    SIOV_TRACE_WRITE,     /* siov_dma_write of len bytes */
    SIOV_TRACE_INVAL,     /* an invalidation the unit processed */
    SIOV_TRACE_DOMAIN,    /* marker: domain `domain` of type dom_type created (parent: nested) */
    SIOV_TRACE_ATTACH,    /* marker: domain attached to sid; with a pasid, aux-attached (requests carry it) */
    SIOV_TRACE_DETACH,    /* marker: the reverse of ATTACH */
    SIOV_TRACE_MAP,       /* marker: domain maps [addr, addr + len) to pa with prot */
    SIOV_TRACE_UNMAP,     /* marker: domain unmaps [addr, addr + len) */
    SIOV_TRACE_KIND_MAX = SIOV_TRACE_UNMAP
};

/* Domain types of a DOMAIN marker (enum siov_domain_type, plus nested). */
#define SIOV_TRACE_DOM_SL 0     /* SIOV_DOMAIN_SECOND_LEVEL */
#define SIOV_TRACE_DOM_FL 1     /* SIOV_DOMAIN_FIRST_LEVEL */
#define SIOV_TRACE_DOM_PT 2     /* SIOV_DOMAIN_PASS_THROUGH */
#define SIOV_TRACE_DOM_NESTED 3 /* first level over the second-level domain `parent` */

/* Invalidations of an INVAL record (inv_type); inv_gran is the descriptor's
   granularity field as the spec encodes it for that type. */
#define SIOV_TRACE_INV_CONTEXT 1 /* context cache (descriptor 0x1, or CCMD) */
#define SIOV_TRACE_INV_IOTLB 2   /* IOTLB (0x2, or the IOTLB register) */
#define SIOV_TRACE_INV_DEVTLB 3  /* device TLB (0x3) */
#define SIOV_TRACE_INV_IEC 4     /* interrupt entry cache (0x4) */
#define SIOV_TRACE_INV_PIOTLB 6  /* PASID-based IOTLB (0x6) */
#define SIOV_TRACE_INV_PC 7      /* PASID cache (0x7) */
#define SIOV_TRACE_INV_PDEVTLB 8 /* PASID-based device TLB (0x8) */

/* One record. Fields a kind does not use are 0 (pasid: SIOV_NO_PASID). */
struct siov_trace_rec {
    uint64_t seq;      /* position: strictly increasing within a trace */
    uint64_t time;     /* the embedder's time stamp, any unit; 0: none */
    unsigned kind;     /* SIOV_TRACE_* */
    siov_sid sid;      /* requests, ATTACH/DETACH, device-selective invalidations */
    uint32_t pasid;    /* requests, ATTACH/DETACH (aux), PASID-selective invalidations */
    uint64_t addr;     /* requests: input address; MAP/UNMAP: IOVA; INVAL: address */
    uint64_t len;      /* READ/WRITE: bytes; XLATE: bytes meant (may be 0); MAP/UNMAP: size */
    unsigned access;   /* requests: SIOV_ACCESS_*; MAP: SIOV_PROT_* */
    uint32_t domain;   /* markers: the domain's number in the trace */
    uint32_t parent;   /* DOMAIN nested: the parent's number */
    unsigned dom_type; /* DOMAIN: SIOV_TRACE_DOM_* */
    uint64_t pa;       /* MAP: physical address */
    unsigned inv_type; /* INVAL: SIOV_TRACE_INV_* */
    unsigned inv_gran; /* INVAL: granularity, as the descriptor encodes it */
    uint16_t did;      /* INVAL: domain id */
    unsigned am;       /* INVAL: address mask (2^am pages) */
    bool has_result;   /* requests: fault (and xlate) hold the answer */
    siov_fault fault;  /* the answer: SIOV_OK or the fault */
    struct siov_xlate xlate; /* XLATE answered SIOV_OK: the translation */
    /* Filled by the unit's hook, not kept in files: the 4 KiB-or-larger
       pieces of the request the IOTLB answered (hits) and those walked. */
    unsigned hits, walks;
};

/* ------------------------------------------------------------ the hook */
/* Called once per request and per processed invalidation, from the thread
   that caused it, after the unit answered. It must not call into the unit
   (an invalidation's call comes with the unit's lock held). */
typedef void (*siov_trace_fn)(void *opaque, const struct siov_trace_rec *rec);
/* Install fn (NULL: none) as iommu's trace hook; 0, or -EINVAL for NULL iommu.
   Not concurrently with requests: set it before DMA starts or while none runs.
   While a hook is set every request takes the unit's slow path (slower, the
   same answers and counters); without one the hit path has no trace check. */
SIOV_API int siov_iommu_set_trace(struct siov_iommu *iommu, siov_trace_fn fn, void *opaque);

/* ----------------------------------------------------------- the files */
struct siov_trace;
/* Open path like fopen: "w" writes text, "wb" binary, "r" reads either form
   (told apart by the first bytes). NULL with errno set (EINVAL: a bad mode,
   or a file that is no trace of a known version). */
SIOV_API struct siov_trace *siov_trace_open(const char *path, const char *mode);
/* The same over an open stream (not closed by siov_trace_close). */
SIOV_API struct siov_trace *siov_trace_open_stream(FILE *f, const char *mode);
/* Write rec numbered one above the last record (0 first), whatever rec->seq
   says; thread-safe. 0 or a negative errno (-EBADF: not open for writing;
   -EINVAL: a field the forms cannot hold, e.g. an unknown kind, access bit,
   fault or page size). */
SIOV_API int siov_trace_record(struct siov_trace *t, const struct siov_trace_rec *rec);
/* Write rec with its own seq, which must exceed the last one's (-EINVAL if
   not): conversion keeps the numbers. 0 or a negative errno. */
SIOV_API int siov_trace_write(struct siov_trace *t, const struct siov_trace_rec *rec);
/* A siov_trace_fn: records each event into opaque, a struct siov_trace; a
   record it could not write makes siov_trace_close fail. */
SIOV_API void siov_trace_hook(void *opaque, const struct siov_trace_rec *rec);
/* Read the next record: 1, 0 at the end, or a negative errno (-EINVAL for a
   malformed record, -EIO when the file cannot be read, in either form:
   siov_trace_error says where and why). */
SIOV_API int siov_trace_read(struct siov_trace *t, struct siov_trace_rec *rec);
/* The last error of t as "line N: ..." (text) or "record N (byte B): ..."; "" if none. */
SIOV_API const char *siov_trace_error(const struct siov_trace *t);
/* Whether t holds (or writes) the binary form. */
SIOV_API bool siov_trace_is_binary(const struct siov_trace *t);
/* Records written or read so far. */
SIOV_API uint64_t siov_trace_count(const struct siov_trace *t);
/* Flush and free t (NULL is ignored); 0, or a negative errno when a write failed. */
SIOV_API int siov_trace_close(struct siov_trace *t);

/* The text form of one record, without newline, into buf (always terminated);
   the length it needs, as snprintf. */
SIOV_API int siov_trace_format(const struct siov_trace_rec *rec, char *buf, size_t len);
/* Parse one text record line (no comment or header); 0, or -EINVAL with a
   message in err (may be NULL). */
SIOV_API int siov_trace_parse(const char *line, struct siov_trace_rec *rec, char *err, size_t errlen);
/* A record of kind with everything else empty (pasid SIOV_NO_PASID). */
SIOV_API void siov_trace_rec_init(struct siov_trace_rec *rec, unsigned kind);
/* The record kind's text name ("xlate", "map", ...), or "?". */
SIOV_API const char *siov_trace_kind_name(unsigned kind);

#ifdef __cplusplus
}
#endif
#endif

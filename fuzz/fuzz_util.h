/* Shared parts of the fuzz harnesses: an input reader, a guest memory that
 * checks every access the model makes, a builder of VT-d structures steered
 * by input bytes, and the comparison of the model with the reference walk
 * (tests/ref_walk.h).
 *
 * Guest memory is FZ_PAGES pages in one heap buffer (so ASan sees any
 * overflow). The model reads and writes it through a callback backend whose
 * callbacks check each access against what the request can legitimately
 * touch; the reference walk reads it through a second, unchecked backend.
 * A failed check prints what happened and aborts: libFuzzer then keeps the
 * input as a reproducer.
 */
#ifndef SIOV_FUZZ_UTIL_H
#define SIOV_FUZZ_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <siov/siov.h>

#include "ref_walk.h"

#define FZ_PAGES 64u
#define FZ_MEM_SIZE ((uint64_t)FZ_PAGES * SIOV_PAGE_SIZE)
#define FZ_TABLE_PAGES (FZ_PAGES - 2) /* the last two pages are the harness's own */
#define FZ_QPAGE ((uint64_t)(FZ_PAGES - 2) * SIOV_PAGE_SIZE) /* its invalidation queue */
#define FZ_QSTATUS ((uint64_t)(FZ_PAGES - 1) * SIOV_PAGE_SIZE) /* where its inv-wait writes */

/* ----------------------------------------------------------------- input */
struct fz_in {
    const uint8_t *p;
    size_t n;
};
/* Next bytes of the input, little endian; 0 once it is exhausted. */
uint8_t fz_u8(struct fz_in *in);
uint16_t fz_u16(struct fz_in *in);
uint32_t fz_u32(struct fz_in *in);
uint64_t fz_u64(struct fz_in *in);

/* ------------------------------------------------------------ guest memory */
/* What the model may do with memory right now. */
enum fz_phase {
    FZ_FREE,  /* anything (the harness's own queue traffic) */
    FZ_CHECK, /* one translation: reads within the oracle's reads, A/D writes only */
    FZ_WARM,  /* replay on unchanged memory: structure reads, no writes at all */
    FZ_DMA,   /* a DMA: the oracle's reads and A/D writes, plus the data chunks */
    FZ_IRQ,   /* one interrupt: the entry and descriptor the oracle read, PIR/ON updates */
    FZ_PRQ,   /* one page request: the oracle's reads, and one 32-byte write at prq_slot */
};

#define FZ_MAX_ALLOW 16
/* One DMA data chunk the oracle expects: [gpa, gpa + len). */
struct fz_chunk {
    uint64_t gpa, len;
};

struct fz_mem {
    uint8_t *buf;
    struct siov_mem *mem;     /* checked: the model's view */
    struct siov_mem *ref_mem; /* unchecked: the oracle's view */
    enum fz_phase phase;
    const struct ref_result *allow[FZ_MAX_ALLOW]; /* reads the oracle made */
    unsigned nallow;
    const struct fz_chunk *chunks; /* FZ_DMA: data accesses */
    unsigned nchunks;
    const struct ref_irq_result *irq; /* FZ_IRQ: what the oracle read and would post */
    uint64_t prq_slot;                /* FZ_PRQ: where the descriptor may go (UINT64_MAX: nowhere) */
    uint64_t writes; /* model writes so far */
    uint64_t reads;
};

struct fz_mem *fz_mem_new(void);
void fz_mem_free(struct fz_mem *m);
uint64_t fz_r64(const struct fz_mem *m, uint64_t gpa);
/* Harness write of one qword (ignored outside memory). */
void fz_w64(struct fz_mem *m, uint64_t gpa, uint64_t v);
/* Print the reason and abort (the fuzzer keeps the input). */
void fz_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* ---------------------------------------------------------------- the unit */
/* Unit configuration from up to 5 input bytes (defaults where absent). */
void fz_config(struct fz_in *in, struct siov_iommu_config *cfg, unsigned *ttm, bool *te);

/* A unit with the harness's invalidation queue (256-bit when the unit is
   scalable-capable) at FZ_QPAGE, enabled, and the root table latched. */
struct fz_unit {
    struct fz_mem *m;
    struct siov_iommu *iommu;
    struct siov_iommu_config cfg;
    struct ref_unit ref;
    uint64_t root;
    unsigned ttm;
    bool te, wide;
    uint32_t gcmd; /* enables kept on every GCMD write */
    unsigned qtail;
    uint32_t qseq;
    uint64_t stale_reports;
};
/* NULL when the configuration is refused. */
struct fz_unit *fz_unit_new(struct fz_mem *m, const struct siov_iommu_config *cfg, uint64_t root,
                            unsigned ttm, bool te);
void fz_unit_free(struct fz_unit *u);
/* GCMD write: enables in set are added to the kept ones, those in clear dropped. */
void fz_unit_gcmd(struct fz_unit *u, uint32_t set, uint32_t clear);
/* Write RTADDR (root | TTM), latch it with SRTP, set or clear TE; refresh the oracle. */
void fz_unit_root(struct fz_unit *u, uint64_t root, unsigned ttm, bool te);
/* Global context-cache, PASID-cache and IOTLB invalidation through the queue;
   aborts if the wait status is not written. */
void fz_invalidate_all(struct fz_unit *u);

/* ------------------------------------------------------------ the builder */
/* Something built: the requests a template makes translatable. */
struct fz_target {
    siov_sid sid;
    uint32_t pasid;
    uint64_t iova, size;
};
#define FZ_MAX_TARGETS 8

struct fz_builder {
    struct fz_unit *u;
    struct fz_in *in;
    unsigned bump;
    struct fz_target targets[FZ_MAX_TARGETS];
    unsigned ntargets;
};
/* Build one translation path (root, context, PASID directory and entry,
   paging structures) from input bytes; records a target. */
void fz_template(struct fz_builder *b);
/* A source id / PASID from a selector byte (a few interesting values). */
siov_sid fz_pick_sid(struct fz_in *in);
uint32_t fz_pick_pasid(struct fz_in *in);

/* ------------------------------------------------------ a harness's start */
/* Reads a harness's own bytes between the configuration and the root page
   and adjusts the configuration. */
typedef void fz_adjust_fn(struct fz_in *in, struct siov_iommu_config *cfg, void *opaque);
/* The start every table-building harness shares: fz_config's bytes, adjust
   (may be NULL), a root-table page byte, a fresh memory and a unit over it
   with that root, and *b a builder reading in that allocates after the
   root. NULL, with nothing left allocated, when the unit refuses the
   configuration. */
struct fz_unit *fz_start(struct fz_in *in, fz_adjust_fn *adjust, void *opaque, struct fz_builder *b);
/* Free a unit of fz_start and its memory. */
void fz_stop(struct fz_unit *u);

/* ------------------------------------------------------------- the oracle */
struct fz_req {
    siov_sid sid;
    uint32_t pasid;
    uint64_t addr;
    unsigned access;
};
/* A request from input bytes, usually aimed at one of the builder's targets. */
void fz_pick_req(struct fz_builder *b, struct fz_req *r);

struct fz_answer {
    siov_fault fault;
    struct siov_xlate x;
    struct siov_ats_completion c; /* translation requests (SIOV_ACCESS_ATS_REQ): the completion */
    /* The entry that chose the translation structures (PASID-table entry, or
       legacy context entry), if the walk reached one: its DID (as the unit's
       DID width keeps it) and its words. Caches are tagged by DID, so answers
       replay alike only among requests whose DIDs name one structure. */
    bool tagged;
    uint16_t did;
    uint64_t entry[3];
};
/* The oracle's view of r without running the model: fills a's tag (and fault). */
void fz_oracle_tag(struct fz_unit *u, const struct fz_req *r, struct fz_answer *a);
/* Whether a and b may share cached translations without contradicting memory. */
bool fz_same_domain(const struct fz_answer *a, const struct fz_answer *b);
/* Translate r with the model under the memory checks and compare with the
   oracle, on caches that hold nothing memory does not say now; aborts on a
   mismatch. Returns whether the model wrote memory (A/D updates). out may
   be NULL. Translation requests (SIOV_ACCESS_ATS_REQ) go through
   siov_ats_translate with the request's PRIV, EXEC and NO_WRITE, against
   ref_ats_translate, then through siov_translate against the completion;
   translated requests (SIOV_ACCESS_TRANSLATED) against ref_translated. */
bool fz_check_now(struct fz_unit *u, const struct fz_req *r, struct fz_answer *out);
/* fz_check_now after a global invalidation through the harness's queue. */
bool fz_check_cold(struct fz_unit *u, const struct fz_req *r, struct fz_answer *out);
/* The same request on warm caches: the answer must equal want and memory
   must not be written. */
void fz_check_warm(struct fz_unit *u, const struct fz_req *r, const struct fz_answer *want);
/* A DMA of len bytes (write: from a pattern) after a global invalidation,
   checked chunk by chunk against the oracle; SIOV_ACCESS_TRANSLATED in r:
   siov_dma_*_translated (no PASID) against ref_translated. */
void fz_check_dma(struct fz_unit *u, const struct fz_req *r, size_t len, bool write);

/* ------------------------------------------------------------ interrupts */
/* Send one interrupt request (after a global invalidation when cold) under
   the FZ_IRQ memory checks and compare with ref_interrupt: the outcome, the
   descriptor update of a posted interrupt, the fault record. Aborts on a
   mismatch. The unit's oracle snapshot (u->ref) must be current. Returns
   whether posting wrote over the entry itself (a descriptor overlapping the
   table): a warm replay would then rightly answer from the stale cache. */
bool fz_check_irq(struct fz_unit *u, siov_sid sid, uint64_t addr, uint32_t data, bool cold);

/* Describe a request for failure messages. */
void fz_describe(const struct fz_unit *u, const struct fz_req *r, char *buf, size_t len);

#endif

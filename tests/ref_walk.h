/* The reference walk: an uncached, obviously-correct second implementation of
 * the VT-d translation of one request, used by tests as an oracle.
 *
 * It is written from the specification, the facts sheet and
 * docs/spec-notes.md, and uses the public API only: the unit's configuration,
 * its CAP/ECAP/GSTS/RTADDR registers (siov_mmio_read) and guest memory
 * (siov_mem_read). It never writes memory, so it performs no A/D updates: it
 * reports what the walk returns when every A/D (and EA) bit the walk would
 * set is already set, and never reports an A/D fault (SFL.8-10, SSL.5-6).
 * Callers either pre-set the A/D bits or compare only outcomes that do not
 * depend on them (a snooped walk, PWSNP=1, whose table pages the second level
 * maps writable). RTADDR is the register as software wrote it: the caller
 * must have latched it with GCMD.SRTP. ref_translate models untranslated
 * requests (no SIOV_ACCESS_ATS_REQ / SIOV_ACCESS_TRANSLATED);
 * ref_ats_translate and ref_translated the two other kinds (facts 13), and
 * ref_page_request the checks of a page request (facts 14).
 */
#ifndef SIOV_REF_WALK_H
#define SIOV_REF_WALK_H

#include <siov/siov.h>

/* What the oracle knows about one remapping unit. */
struct ref_unit {
    struct siov_mem *mem;
    struct siov_iommu_config cfg;
    uint64_t cap, ecap, rtaddr;
    uint32_t gsts;
    uint64_t irta; /* as software wrote it: the caller latched it with SIRTP */
};

/* Kinds of structure the walk reads (ref_read.kind). */
enum ref_kind { REF_ROOT, REF_CTX, REF_PDIR, REF_PASID, REF_FL, REF_SL };

/* One structure the walk read: its kind, address in guest memory, size in
   bytes and, for paging entries, its level. */
struct ref_read {
    uint64_t gpa;
    uint8_t kind, level, size;
    bool top; /* the top-level paging entry (FLPTPTR/SLPTPTR table) */
};

/* A/D bits a successful walk needs set in the 8-byte entry at gpa. */
struct ref_touch {
    uint64_t gpa;
    uint64_t bits;
};

#define REF_MAX_READS 64

/* Outcome of one reference walk. */
struct ref_result {
    siov_fault fault;
    struct siov_xlate x; /* valid when fault == SIOV_OK */
    bool legacy;         /* TTM=00 */
    unsigned pgtt;       /* SIOV_PGTT_* once the PASID (or legacy context) entry is decoded, else 0 */
    unsigned nread, ntouch;
    struct ref_read read[REF_MAX_READS];
    struct ref_touch touch[REF_MAX_READS]; /* filled on success only */
};

/* Snapshot what the oracle needs from a unit over mem (configuration and registers). */
void ref_unit_init(struct ref_unit *u, struct siov_mem *mem, struct siov_iommu *iommu);

/* Walk one untranslated request as the specification describes it; returns
   r->fault (SIOV_OK with r->x filled, or the fault reason). Requests without
   PASID carry neither execute nor privilege: those access bits are ignored. */
siov_fault ref_translate(const struct ref_unit *u, siov_sid sid, uint32_t pasid, uint64_t addr,
                         unsigned access, struct ref_result *r);

/* The A/D (and EA) bits of a paging entry of kind (REF_FL, REF_SL; 0 for
   others): the walk assumes them set, so a test that changes an entry's bits
   leaves these alone. */
uint64_t ref_ad_bits(unsigned kind);
/* A translation request (AT=01) as facts 13.3/13.4 answer it. */
struct ref_ats {
    siov_fault fault;              /* what siov_ats_translate returns: SIOV_OK, or the UR/CA reason */
    siov_fault condition;          /* Success without (some) permissions: the condition met, else SIOV_OK */
    struct siov_ats_completion c;  /* for UR/CA only status counts */
    struct ref_result r;           /* the structures read; on a grant, the A/D bits its access sets */
};

/* A translation request for the page of addr; access may hold PRIV, EXEC
   (both ignored without PASID) and SIOV_ACCESS_NO_WRITE (honoured with
   ECAP.NWFS). Pass-through answers S=1 over the largest page the unit's CAP
   and ECAP name; N is the SL leaf's SNP (scalable SL and nested); Exe and
   Global are 0. */
siov_fault ref_ats_translate(const struct ref_unit *u, siov_sid sid, uint32_t pasid, uint64_t addr,
                             unsigned access, struct ref_ats *a);

/* A translated request (AT=10): root and context checks only (DTE / TT=01,
   no PASID), then the address against HAW and the interrupt range; the
   translation is the address itself, a 4 KiB page with every permission,
   DID the legacy context entry's (0 in scalable mode). */
siov_fault ref_translated(const struct ref_unit *u, siov_sid sid, uint32_t pasid, uint64_t addr,
                          struct ref_result *r);

/* A page request (facts 14.4, 14.7): SIOV_OK when the unit accepts it for
   the queue (r->pgtt and r->x.did name the PASID entry, for the implicit
   invalidation), or Table 30's fault; SIOV_ERR_BUS without ECAP.PRS or with
   translation disabled; SGN.10 for a PASID above 20 bits. */
siov_fault ref_page_request(const struct ref_unit *u, siov_sid sid, uint32_t pasid, struct ref_result *r);

/* Name of a ref_kind, for diagnostics. */
const char *ref_kind_name(unsigned kind);

/* ----------------------------------------------------- interrupts (ref_irq.c)
 * A second, uncached reading of interrupt remapping (spec 5.1.4, 9.9-9.11),
 * written from the spec tables with bit positions of its own (not format.h),
 * for the same unit snapshot. It never writes memory: for a posted interrupt
 * it reports what posting now does (the PIR bit, whether ON gets set and a
 * notification is due) without doing it. */
struct ref_irq_result {
    siov_fault fault;       /* SIOV_ERR_BUS: not an interrupt request */
    struct siov_irq irq;    /* on success */
    uint32_t index;         /* the interrupt index, once computed */
    bool fpd;               /* the entry's FPD (qualified faults are not recorded) */
    bool recorded;          /* a fault the unit records */
    uint64_t fi;            /* the FI the record holds */
    bool irte_read, pid_read;
    uint64_t irte_gpa, pid_gpa; /* the 16 bytes of the entry, the 64 of the descriptor */
};
siov_fault ref_interrupt(const struct ref_unit *u, siov_sid sid, uint64_t addr, uint32_t data,
                         struct ref_irq_result *r);

#endif

/* libsiov — the hardware model: an Intel VT-d remapping unit in scalable mode.
 *
 * Threading contract: siov_translate, siov_translate_batch, siov_dma_read and
 * siov_dma_write may be called from any number of threads at once. Register writes (siov_mmio_write)
 * and everything they trigger (invalidation queue processing) serialize
 * among themselves under the unit's writer lock and may run concurrently with
 * translations. A translation that starts after an invalidation has completed
 * (its inv-wait status written) never returns what that invalidation removed.
 * siov_iommu_free must not race with any other call.
 */
#ifndef SIOV_IOMMU_H
#define SIOV_IOMMU_H

#include <siov/irq.h>
#include <siov/mem.h>
#include <siov/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Extra access flags beyond READ/WRITE/EXEC/PRIV (types.h): the PCIe address
   type of the request. Neither flag: an untranslated request. */
#define SIOV_ACCESS_ATS_REQ (1u << 4)    /* ATS translation request: as siov_ats_translate (<siov/ats.h>) */
#define SIOV_ACCESS_TRANSLATED (1u << 5) /* translated request: address already host-physical */
/* In a fault record only: the fault was a page request's (FRCD T1=0, T2=1;
   <siov/prq.h>); siov_translate ignores it. */
#define SIOV_ACCESS_PAGE_REQ (1u << 7)

struct siov_iommu;

struct siov_stale_report; /* below */

/* Configuration of one remapping unit. siov_iommu_config_default() fills the
   defaults named on each field; change what you need, then siov_iommu_new(). */
struct siov_iommu_config {
    unsigned mgaw;          /* maximum guest address width in bits (default 48) */
    unsigned sagaw;         /* CAP.SAGAW: 1<<1 3-level, 1<<2 4-level, 1<<3 5-level (default 4-level) */
    unsigned pasid_bits;    /* PASID width, 1..20 (default 20) */
    bool first_level;       /* ECAP.FLTS (default true) */
    bool second_level;      /* ECAP.SLTS (default true) */
    bool nested;            /* ECAP.NEST (default true); needs first_level and second_level */
    bool pass_through;      /* ECAP.PT   (default true) */
    bool fl_5level;         /* CAP.FL5LP (default true) */
    bool fl_1g;             /* CAP.FL1GP (default true) */
    unsigned sl_large;      /* CAP.SLLPS: bit0 2 MiB, bit1 1 GiB (default both) */
    unsigned iotlb_entries; /* IOTLB capacity (default 4096) */
    unsigned fault_records; /* number of fault recording registers, 1..256 (default 8) */
    /* libsiov additions */
    unsigned haw;           /* host address width in bits, 32..52 (default 48); the DMAR table's HAW */
    unsigned domain_bits;   /* CAP.ND: DIDs are 4 + 2*ND bits wide; 4..16, even (default 16) */
    unsigned version;       /* VER register, major<<4 | minor (default 0x10) */
    bool scalable;          /* ECAP.SMTS and ECAP.PASID (default true) */
    bool sl_ad;             /* ECAP.SLADS (default true) */
    bool supervisor_req;    /* ECAP.SRS (default true) */
    bool exec_req;          /* ECAP.ERS (default true) */
    bool dev_tlb;           /* ECAP.DT (default true) */
    bool abort_dma;         /* ECAP.ADMS (default true) */
    bool rid_pasid;         /* ECAP.RPS: RID_PASID honoured; otherwise PASID 0 (default true) */
    bool caching_mode;      /* CAP.CM (default false); libsiov never caches faults either way */
    bool stale_check;       /* re-walk every request uncached and report mismatches (default
                               false), front-cache answers included. Changes the counts: each
                               re-walk adds an IOTLB miss, a walk and context/PASID-cache
                               misses (docs/performance.md) */
    bool psi;               /* CAP.PSI: page-selective IOTLB invalidation (default true); without it a
                               page-selective request is performed domain-selectively */
    /* Stale-translation checker: called (from the translating thread) for each
       request whose cached answer differs from the answer guest memory gives
       now, i.e. a table changed without the invalidation it needed. May be NULL. */
    void (*stale_report)(void *opaque, const struct siov_stale_report *report);
    void *stale_opaque;
    /* Message-signalled interrupts (fault event, invalidation completion):
       called with the FEADDR/FEDATA (or IEADDR/IEDATA) values. May be NULL. */
    void (*msi)(void *opaque, uint64_t addr, uint32_t data);
    void *msi_opaque;
    /* Interrupt remapping (irq.h). Without irq_remapping the other four are
       not reported either. */
    bool irq_remapping;      /* ECAP.IR (default true) */
    bool x2apic;             /* ECAP.EIM: x2APIC mode, IRTA.EIME (default true) */
    bool posted_interrupts;  /* CAP.PI (default true) */
    bool esirtps;            /* CAP.ESIRTPS: SIRTP, and IRE going off, invalidate the
                                interrupt entry cache (default false: software must) */
    bool x2apic_only;        /* ECAP.EIMER (rev 5): IRTA.EIME must be 1, else IR.2A;
                                needs x2apic (default false) */
    bool irq_remap_required; /* ECAP.IRREQ (rev 5): interrupts are blocked (IR.2B)
                                while remapping is off (default false) */
    bool nwfs;              /* ECAP.NWFS: a translation request's NW flag is honoured (default true) */
    /* IOTLB geometry. 0 ways (the default): libsiov's own placement, hashed
       4-way sets behind a front cache of final translations, the fastest.
       N ways: an exact, hardware-like IOTLB of iotlb_entries / N sets of N
       ways (iotlb_entries a multiple of N; N = iotlb_entries: fully
       associative), an entry of page number P and domain D in set
       (P XOR D * 0x9E3779B1) mod sets, replaced by iotlb_policy, with no front
       cache; exact for one translating thread (docs/tracing.md). */
    unsigned iotlb_ways;
    unsigned iotlb_policy;  /* SIOV_POLICY_* (default LRU) */
    uint64_t iotlb_seed;    /* SIOV_POLICY_RANDOM: the generator's seed (default 1) */
    /* Page requests (<siov/prq.h>): ECAP.PRS with the page request queue,
       ECAP.PDS (inv-wait drain) and ECAP.SMS (stop markers). Reported only
       with dev_tlb and scalable (default true). */
    bool page_requests;
};
/* Replacement policies of a hardware-like cache. RANDOM draws the victim's
   way as xorshift64* (seeded) mod ways, once per eviction of a full set. */
#define SIOV_POLICY_LRU 0    /* least recently used: hits and fills refresh */
#define SIOV_POLICY_FIFO 1   /* first in, first out: only fills set the order */
#define SIOV_POLICY_RANDOM 2
/* Fill *cfg with the defaults documented on each field. */
SIOV_API void siov_iommu_config_default(struct siov_iommu_config *cfg);

/* 0 if cfg describes a unit siov_iommu_new accepts; otherwise -EINVAL, with the
   first offending field and its allowed values in buf (len bytes, may be
   NULL/0), e.g. "pasid_bits = 0: must be 1..20". */
SIOV_API int siov_iommu_config_check(const struct siov_iommu_config *cfg, char *buf, size_t len);
/* A unit over mem (not owned) with cfg (NULL: defaults). NULL with errno
   EINVAL (mem NULL, or a config siov_iommu_config_check refuses: it says why)
   or ENOMEM. */
SIOV_API struct siov_iommu *siov_iommu_new(struct siov_mem *mem, const struct siov_iommu_config *cfg);
/* Free a unit (NULL is ignored). */
SIOV_API void siov_iommu_free(struct siov_iommu *iommu);
/* The configuration the unit was created with (defaults filled in). */
SIOV_API const struct siov_iommu_config *siov_iommu_get_config(const struct siov_iommu *iommu);

/* The register file, at the offsets of the VT-d spec; size is 4 or 8. Reads
   of unknown offsets, bad sizes or NULL return 0; such writes are ignored. */
SIOV_API uint64_t siov_mmio_read(struct siov_iommu *iommu, uint64_t offset, unsigned size);
/* Write a register (see siov_mmio_read for the access rules). */
SIOV_API void siov_mmio_write(struct siov_iommu *iommu, uint64_t offset, uint64_t value, unsigned size);

struct siov_xlate {
    uint64_t addr;      /* host-physical address of the request's first byte */
    uint64_t page_size; /* size of the page that translated it (4 KiB, 2 MiB, 1 GiB) */
    unsigned perm;      /* SIOV_ACCESS_READ/WRITE/EXEC the mapping grants */
    uint16_t did;       /* domain id that translated it */
};
/* Translate one DMA request. Returns SIOV_OK and fills *out, or the fault
   reason (and records the fault unless fault processing is disabled). With
   translation disabled (GSTS.TES clear) the address passes through.
   Requests without PASID carry no PR/ER: PRIV and EXEC are dropped from them.
   An access with none of READ/WRITE/EXEC is a read. A PASID above
   SIOV_PASID_MAX (other than SIOV_NO_PASID) gives SGN.10, not recorded.
   NULL iommu or out: SIOV_FAULT_RTA_1 with nothing recorded.
   SIOV_ACCESS_TRANSLATED: a translated request (AT=10), checked against the
   root and context entries only (DTE or TT=01, the host address width, the
   interrupt range; with a PASID: SCT.10); the address passes unchanged as one
   4 KiB page. SIOV_ACCESS_ATS_REQ: a translation request, as
   siov_ats_translate; a Success completion granting the access is SIOV_OK
   (the completion's range as the page), one that does not is
   SIOV_ERR_NOT_PRESENT, a refusal its fault (SIOV_ERR_BUS: UR without a
   VT-d reason, as with translation disabled). Both flags at once are AT=11,
   reserved: SIOV_ERR_BUS, nothing recorded. */
SIOV_API siov_fault siov_translate(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid,
                                   uint64_t iova, unsigned access, struct siov_xlate *out);

/* One request of a batch: the arguments of siov_translate. */
struct siov_xlate_req {
    siov_sid sid;
    uint32_t pasid;     /* SIOV_NO_PASID when the request carries none */
    uint64_t iova;
    unsigned access;    /* SIOV_ACCESS_* */
};
/* The outcome of one request of a batch: what siov_translate returns, and
   the translation it writes (all zero when fault is not SIOV_OK). */
struct siov_xlate_res {
    siov_fault fault;
    struct siov_xlate xlate;
};
/* Translate requests[0..n) into results[0..n) as n calls of siov_translate
   in that order would (the same results, faults recorded in the same order,
   the same counters), fetching later requests' cache lines while earlier
   ones are answered. 0; -EINVAL (nothing done) for a NULL iommu, or NULL
   requests or results with n > 0. */
SIOV_API int siov_translate_batch(struct siov_iommu *iommu, size_t n, const struct siov_xlate_req *requests,
                                  struct siov_xlate_res *results);

/* Caches named by a stale-translation report. */
#define SIOV_CACHE_CONTEXT (1u << 0)
#define SIOV_CACHE_PASID (1u << 1)
#define SIOV_CACHE_IOTLB (1u << 2)
#define SIOV_CACHE_IEC (1u << 3) /* the interrupt entry cache (an interrupt request) */
#define SIOV_CACHE_ATC (1u << 4) /* a device TLB (<siov/ats.h>) */

/* A request the stale-translation checker caught: the answer the unit gave
   (through its caches) and the answer an uncached translation gives now. */
struct siov_stale_report {
    siov_sid sid;
    uint32_t pasid;           /* SIOV_NO_PASID when the request carried none */
    uint64_t iova;
    unsigned access;          /* SIOV_ACCESS_* of the request */
    unsigned caches;          /* SIOV_CACHE_*: caches whose entry for the request disagrees with memory */
    siov_fault cached_fault;  /* what siov_translate returned */
    siov_fault fresh_fault;   /* what an uncached translation returns */
    struct siov_xlate cached; /* the translations, when the fault is SIOV_OK */
    struct siov_xlate fresh;
    /* libsiov additions: an interrupt request (caches SIOV_CACHE_IEC). iova is
       then the message address, access SIOV_ACCESS_WRITE, and the outcomes
       are in cached_irq/fresh_irq (posted ones without the descriptor update:
       notify, nv and ndst 0), cached/fresh zero. */
    bool interrupt;
    uint32_t data;            /* the message data */
    struct siov_irq cached_irq, fresh_irq;
};

/* DMA on behalf of a device: translate page by page and copy from guest memory.
   A fault stops the transfer and is returned; the pages before it were copied.
   SIOV_ERR_BUS when a translated address is not backed by guest memory, when
   dst is NULL with len > 0, or when [iova, iova+len) wraps past 2^64 (nothing copied). */
SIOV_API siov_fault siov_dma_read(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid,
                                  uint64_t iova, void *dst, size_t len);
/* DMA write on behalf of a device: translate page by page and copy into guest memory. */
SIOV_API siov_fault siov_dma_write(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid,
                                   uint64_t iova, const void *src, size_t len);
/* DMA with translated requests (AT=10, without PASID: spec 4.2.1) at host
   address hpa: each 4 KiB page checked as siov_translate checks
   SIOV_ACCESS_TRANSLATED, then copied; faults and errors as siov_dma_read. */
SIOV_API siov_fault siov_dma_read_translated(struct siov_iommu *iommu, siov_sid sid, uint64_t hpa, void *dst,
                                             size_t len);
/* The write direction of siov_dma_read_translated. */
SIOV_API siov_fault siov_dma_write_translated(struct siov_iommu *iommu, siov_sid sid, uint64_t hpa,
                                              const void *src, size_t len);

/* Counters since the unit was created. A translation answered by the front
   cache (final translations by source id, PASID and page) counts as an IOTLB
   hit without a context- or PASID-cache lookup; every other translation looks
   the context and PASID caches up first (docs/performance.md). Each request
   of siov_translate_batch counts as one translation. Counts are exact with
   any number of translating threads: a snapshot taken while no translation
   runs holds every translation that returned before it. */
struct siov_stats {
    uint64_t translations, iotlb_hits, iotlb_misses, walks, faults;
    /* invalidations: requests processed, queued or by register (the sum of
       inv_context .. inv_other and inv_iec); inv-wait descriptors count only in inv_wait */
    uint64_t context_cache_hits, pasid_cache_hits, invalidations;
    /* libsiov additions */
    uint64_t faults_recorded;      /* faults written to a fault recording register */
    uint64_t context_cache_misses, pasid_cache_misses;
    uint64_t iotlb_evictions;
    uint64_t inv_context, inv_iotlb, inv_piotlb, inv_pasid_cache, inv_devtlb, inv_wait, inv_other;
    uint64_t stale_hits;           /* cache hits the stale checker found wrong */
    /* interrupt requests (siov_interrupt) */
    uint64_t interrupts;           /* every request with an address in the interrupt range */
    uint64_t irq_remapped, irq_posted; /* through a remapped / posted table entry */
    uint64_t irq_compat;           /* passed through unchanged (remapping off, or CFIS) */
    uint64_t irq_blocked;          /* ended in an interrupt-remapping fault */
    uint64_t iec_hits, iec_misses; /* interrupt entry cache */
    uint64_t inv_iec;              /* interrupt-entry-cache invalidation descriptors */
    uint64_t ats_requests;         /* translation requests (AT=01) */
    uint64_t translated_requests;  /* translated requests (AT=10) */
    uint64_t devtlb_timeouts;      /* device-TLB invalidations timed out (siov_iommu_expire) */
    /* page requests (siov_page_request) and page group responses */
    uint64_t prq_queued;           /* descriptors written into the page request queue (stop markers too) */
    uint64_t prq_overflowed;       /* dropped because PRS.PRO was set or the queue was full */
    uint64_t prq_refused;          /* ended in a fault (Table 30), recorded or not */
    uint64_t prq_write_errors;     /* dropped because the queue's memory could not be written */
    uint64_t prq_resp_success;     /* responses sent to devices, by code: descriptors 0x9 */
    uint64_t prq_resp_invalid;     /*   and the unit's own answers together */
    uint64_t prq_resp_failure;     /*   (0xF) */
    uint64_t prq_resp_reserved;    /*   (0x2..0xE) */
    uint64_t prq_resp_unit;        /* of those, the unit's own answers */
};
/* Snapshot of the unit's counters. */
SIOV_API void siov_iommu_stats(const struct siov_iommu *iommu, struct siov_stats *out);

/* Fault recording (spec 7.3.1): faults fill the cfg.fault_records records in
   ring order and are never overwritten. Once the record the next fault would
   take still holds one (F=1), that fault and every later one only set
   FSTS.PFO and are dropped until software clears PFO: with the default 8
   records, 12 faults leave 8 records and FSTS = PFO|PPF (0x3), stats.faults
   12 and stats.faults_recorded 8. siov_iommu_clear_faults empties the log. */

/* A decoded fault record, as the FRCD registers hold it. */
struct siov_fault_record {
    siov_fault reason;
    siov_sid sid;
    uint32_t pasid;     /* SIOV_NO_PASID when the request carried none */
    uint64_t addr;      /* faulting page address (low 12 bits clear); interrupt-
                           remapping faults: FI, the interrupt index in bits 63:48
                           (SIOV_FRCD0_IRQ_INDEX), 0 where the spec leaves it undefined */
    unsigned access;    /* SIOV_ACCESS_* of the request, as far as FRCD records it */
};
/* Decode fault recording register i; 1 if it holds a fault (F=1), 0 if not,
   -EINVAL for a bad index or NULL. */
SIOV_API int siov_iommu_fault_record(struct siov_iommu *iommu, unsigned i, struct siov_fault_record *out);
/* What a driver's fault handler does, through the registers: clear F of every
   pending record, then FSTS.PFO (and AFO, APF); queue errors (IQE, ICE, ITE)
   stay. Returns the records cleared, -EINVAL for NULL. */
SIOV_API int siov_iommu_clear_faults(struct siov_iommu *iommu);

#ifdef __cplusplus
}
#endif
#endif

/* libsiov — internal interfaces shared by the hardware-model modules. */
#ifndef SIOV_INTERNAL_H
#define SIOV_INTERNAL_H

#include <pthread.h>
#include <siov/siov.h>

#include "front_cache.h"

#define SIOV_LOCAL __attribute__((visibility("hidden")))

/* ---------------------------------------------------------------- mem.c */
/* Read one little-endian 64-bit word; 0 or -EFAULT. */
SIOV_LOCAL int siov_mem_read64(struct siov_mem *mem, uint64_t gpa, uint64_t *val);
/* Read one 16-byte entry: one access of the callback backend; on flat memory
   two atomic 8-byte loads (a concurrent 8-byte update is seen whole). 0 or -EFAULT. */
SIOV_LOCAL int siov_mem_read128(struct siov_mem *mem, uint64_t gpa, uint64_t val[2]);
/* Atomically replace *gpa's word old by new (flat backend: a real CAS; callback
   backend: its cmpxchg64, else read, compare, write under the memory's lock).
   1 if replaced, 0 if the word changed, -EFAULT. */
SIOV_LOCAL int siov_mem_cmpxchg64(struct siov_mem *mem, uint64_t gpa, uint64_t old, uint64_t new_);

/* ------------------------------------------------------- decoded entries */
/* One request, as it reaches the remapping unit. */
struct siov_req {
    siov_sid sid;
    uint32_t pasid; /* SIOV_NO_PASID, or the PASID the request carries */
    uint64_t addr;  /* input address */
    unsigned access; /* SIOV_ACCESS_* */
    uint64_t epoch;  /* siov_caches_epoch() when the request arrived: its fills use it */
    bool nocache;    /* bypass the caches (the stale-translation checker's fresh answer) */
    unsigned *how;   /* where the IOTLB stage says what answered (SIOV_HOW_*), for the trace hook */
};
#define SIOV_TRACE_ACCESS_ALL 0x7Fu /* the access bits a trace record carries (SIOV_ACCESS_READ .. _NO_WRITE) */
#define SIOV_MODEL_MAMV 18u /* CAP.MAMV the model reports: page-selective invalidations of up to 2^18 pages */
#define SIOV_HOW_HIT 1u  /* the IOTLB */
#define SIOV_HOW_WALK 2u /* a page walk */

/* A context entry, legacy or scalable, decoded once (what the context cache holds). */
struct siov_ctx_ent {
    bool legacy;     /* a legacy 128-bit entry (TTM=00) */
    bool fpd;
    /* scalable mode */
    bool dte, paside, pre; /* RID_PRIV=1 is refused (no ECAP.RPRIVS): nothing to keep */
    uint8_t pdts;
    uint32_t rid_pasid;
    uint64_t pasid_dir;
    /* legacy mode */
    uint8_t tt;      /* SIOV_TT_* */
    uint8_t aw;      /* SIOV_AW_* */
    uint16_t did;
    uint64_t slptptr;
};

/* A PASID-table entry decoded once (what the PASID cache holds). A legacy
   context entry is expressed the same way (pgtt SL or PT, legacy set). */
struct siov_pasid_ent {
    uint64_t slptptr, flptptr;
    uint16_t did;
    uint8_t pgtt;      /* SIOV_PGTT_* */
    uint8_t sl_levels; /* 3, 4 or 5 (SL-only and nested) */
    uint8_t fl_levels; /* 4 or 5 (FL-only and nested) */
    bool legacy;       /* from a legacy context entry: legacy fault codes */
    bool fpd, slee, slade, pwsnp, sre, ere, wpe, nxe, smep, eafe;
    bool ats_ok;       /* translation/translated requests allowed (DTE or TT=01) */
    uint32_t pasid;    /* the PASID this entry was found under (RID_PASID for no-PASID requests) */
};

/* Result of a successful page walk (what an IOTLB entry holds). */
struct siov_walk_out {
    uint64_t page;       /* output address of the page base */
    uint64_t page_size;  /* 4 KiB, 2 MiB or 1 GiB */
    unsigned perm_user;  /* SIOV_ACCESS_READ/WRITE/EXEC allowed for PR=0 requests */
    unsigned perm_super; /* the same for PR=1 requests */
    bool dirty;          /* a write needs no further A/D update */
    bool snoop;          /* second-level and nested: the SL leaf's SNP (an ATS completion's N) */
};

/* An interrupt remapping table entry, decoded once (what the interrupt entry
   cache holds): remapped format, or posted format (posted set). */
struct siov_irte {
    uint64_t pda;      /* posted: the posted-interrupt descriptor's address */
    uint32_t dst;      /* remapped: the destination APIC id (8 bits in xAPIC mode) */
    uint16_t sid;      /* source validation: SID, SQ, SVT */
    uint8_t sq, svt;
    uint8_t vector;    /* V, or the posted format's VV */
    uint8_t dlm;
    bool posted, fpd, dm, rh, tm, urg;
};

/* ------------------------------------------------------------- the unit */
struct siov_caches; /* caches.h */

/* Deferred message-signalled interrupts, sent after the writer lock drops. */
struct siov_msi_pending {
    bool fire[3];
    uint64_t addr[3];
    uint32_t data[3];
};
#define SIOV_MSI_FAULT 0
#define SIOV_MSI_INV 1
#define SIOV_MSI_PRQ 2 /* the page request event (PECTL, PEDATA, PEADDR, PEUADDR) */

/* Shards of the counters every translation bumps, so translating threads
   neither bounce one cache line nor pay a locked add: a thread counts in a
   shard it owns, the first unclaimed or its own among SIOV_STAT_PROBES shards
   from where its id hashes, adding with a plain load and store; when all of
   those belong to other threads, it adds atomically (front-cache hits to the
   first one's shared, the others to the unit's stats). siov_iommu_stats adds
   the shards in. The counters kept there: */
#define SIOV_HOT_STATS(X)                                                                                          \
    X(translations) X(iotlb_hits) X(iotlb_misses) X(walks) X(context_cache_hits) X(context_cache_misses)          \
        X(pasid_cache_hits) X(pasid_cache_misses)
#define SIOV_HOT_ENUM(f) SIOV_HOT_##f,
enum siov_hot_stat { SIOV_HOT_STATS(SIOV_HOT_ENUM) SIOV_HOT_N };
#define SIOV_STAT_SHARD_BITS 4
#define SIOV_STAT_SHARDS (1u << SIOV_STAT_SHARD_BITS)
#define SIOV_STAT_PROBES 4
struct siov_stat_shard {
    _Alignas(64) uint64_t owner; /* the claiming thread's id, 0 while unclaimed */
    uint64_t owned;              /* front-cache hits counted by the owner alone */
    uint64_t shared;             /* front-cache hits of other threads (atomic adds) */
    uint64_t hot[SIOV_HOT_N];    /* the owner's counts of SIOV_HOT_STATS */
};

/* One translation to put in the front cache (siov_xc_fill: the unit tests fill it directly). */
struct siov_xc_hit {
    uint64_t page;       /* output address of the 4 KiB page */
    uint64_t page_size;  /* size of the page that translated it */
    unsigned perm_user, perm_super;
    bool dirty;
    uint16_t did;
};

/* A device's port (port.h), as the unit keeps it. */
struct siov_port {
    struct siov_device_ops ops;
    void *opaque;
    bool attached;
};

/* A message the unit sends once its lock drops (outbox.c): a device-TLB
   invalidation or a page group response to a port, and/or an invalidation
   event to the notifiers. */
struct siov_outmsg {
    bool send, notify;
    bool respond;               /* a page response: ev.sid, ev.pasid, prgi, code */
    struct siov_inval_event ev; /* send: sid, pasid, addr, size of the invalidation */
    bool global;                /* send: G of a 0x8 descriptor */
    unsigned itag;
    uint16_t prgi;              /* respond: the group index */
    unsigned code;              /* respond: the response code */
    struct siov_port port;      /* send, respond: the port as it was when the message was queued */
};

struct siov_notifier {
    void (*fn)(void *opaque, const struct siov_inval_event *ev);
    void *opaque;
};

/* Invalidation tags of device-TLB invalidations (PCIe ITag: 5 bits). */
#define SIOV_ITAGS 32
struct siov_itag {
    bool busy;
    siov_sid sid;
};

struct siov_iommu {
    struct siov_mem *mem;
    struct siov_iommu_config cfg;
    uint64_t cap, ecap;
    unsigned nfr;              /* fault records */
    /* translation state read by translating threads: latched RTADDR
       (address | TTM) with SIOV_STATE_TE; written under lock, read atomically */
    uint64_t state;
    unsigned fast_gate;        /* SIOV_FAST_*: which requests the hit path may answer (regs.c) */
    pthread_mutex_t lock;      /* serializes register writes, queue and fault recording */
    /* register file (under lock) */
    uint32_t gsts;
    uint64_t rtaddr;           /* as software wrote it, latched on SRTP */
    uint64_t ccmd, iva, iotlb_reg;
    uint32_t fsts, fectl, fedata, feaddr, feuaddr;
    uint32_t iectl, iedata, ieaddr, ieuaddr, ics;
    uint64_t iqh, iqt, iqa, iqercd, irta;
    /* page request queue and its event (prq.c) */
    uint64_t pqh, pqt, pqa;
    uint32_t prs, pectl, pedata, peaddr, peuaddr;
    /* interrupt remapping state read by siov_interrupt: the IRTA latched at
       SIRTP (address, EIME, S) with SIOV_IRSTATE_IRES/_CFIS in IRTA's
       reserved bits; written under lock, read atomically */
    uint64_t irstate;
    uint64_t *frcd;            /* 2 qwords per record */
    unsigned fault_next;       /* where the next primary fault goes */
    bool fault_cond;           /* fault.c: a fault-event condition not yet serviced by software (spec 10.4.10) */
    struct siov_msi_pending msi;
    struct siov_caches *caches;
    struct siov_xc_view xc;    /* the front cache, probed by the hit path */
    struct siov_stats stats;   /* updated with relaxed atomics */
    siov_trace_fn trace_fn;    /* trace_hook.c: NULL, or called per request and invalidation */
    void *trace_opaque;
    struct siov_stat_shard shard[SIOV_STAT_SHARDS];
    /* devices and observers (under lock; outbox.c, inval.c) */
    struct siov_port *ports[256];  /* per bus: 256 devfn slots, allocated on first attach */
    struct siov_itag itag[SIOV_ITAGS];
    unsigned itag_hand;            /* next ITag tried (round robin) */
    unsigned dtlb_outstanding;     /* ITags busy */
    bool iq_wait_stalled;          /* processing stopped at an inv-wait for them */
    bool iq_held;                  /* the descriptor at IQH was fetched and waits (iq_held_qw) */
    uint64_t iq_held_qw[4];        /* kept, not fetched again: a later write to its slot is too late */
    struct siov_outmsg *out;       /* messages waiting for the lock to drop */
    unsigned nout, cout;
    bool out_busy;                 /* a thread is delivering (out_thread) */
    pthread_t out_thread;
    struct siov_notifier *notif;
    unsigned nnotif, cnotif;
};
#define SIOV_STATE_TE 1ull /* bit 0 of iommu->state: translation enabled (RTADDR bit 0 is reserved) */
/* iommu->fast_gate: front-cache hits may answer requests without a PASID /
   with one; shifted up by SIOV_FAST_CHECKED_SHIFT when the stale checker is
   on (translate_slow then checks each hit). */
#define SIOV_FAST_NOPASID 1u
#define SIOV_FAST_PASID 2u
#define SIOV_FAST_CHECKED_SHIFT 2
#define SIOV_IRSTATE_IRES SIOV_BIT(4) /* iommu->irstate: GSTS.IRES */
#define SIOV_IRSTATE_CFIS SIOV_BIT(5) /* iommu->irstate: GSTS.CFIS */

static inline void siov_stat_inc(uint64_t *counter)
{
    __atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------- modules */
/* context.c: the context entry of sid under root table state (address | TTM). */
SIOV_LOCAL siov_fault siov_context_lookup(struct siov_iommu *iommu, uint64_t state, siov_sid sid,
                                          struct siov_ctx_ent *ce);
/* context.c: the legacy context entry as a PASID-entry equivalent for the walk. */
SIOV_LOCAL siov_fault siov_context_legacy_pe(const struct siov_iommu *iommu, const struct siov_ctx_ent *ce,
                                             struct siov_pasid_ent *pe);

/* pasid_table.c: the PASID-table entry a request uses (RID_PASID for no PASID).
   *fpd accumulates directory and entry FPD bits even when P=0. */
SIOV_LOCAL siov_fault siov_pasid_lookup(struct siov_iommu *iommu, const struct siov_ctx_ent *ce,
                                        uint32_t pasid, struct siov_pasid_ent *pe, bool *fpd);
/* pasid_table.c: check and decode a raw 512-bit PASID-table entry that has P=1. */
SIOV_LOCAL siov_fault siov_pasid_decode(const struct siov_iommu *iommu, const uint64_t raw[8],
                                        struct siov_pasid_ent *pe);

/* pgtable.c: walk the tables pe names for addr with the request's access;
   checks the request against the entry (SRE/ERE), sets A/D bits. */
SIOV_LOCAL siov_fault siov_walk(struct siov_iommu *iommu, const struct siov_pasid_ent *pe,
                                uint64_t addr, unsigned access, struct siov_walk_out *out);

/* irq_remap.c: the interrupt remapping table and the posted-interrupt
   descriptor. irstate is iommu->irstate as the request found it. */
/* IR.21 when index is beyond the latched table, or its entry above HAW. */
SIOV_LOCAL siov_fault siov_irte_index_check(const struct siov_iommu *iommu, uint64_t irstate, uint32_t index);
/* The entry of index fetched in one 16-byte read (IR.23 on error) and checked
   in the spec's order for a request from sid: present (IR.22), source
   validation (IR.26), reserved fields (IR.24); decoded into *e on success.
   *fpd: the entry's FPD as read, P=0 or not. */
SIOV_LOCAL siov_fault siov_irte_lookup(struct siov_iommu *iommu, uint64_t irstate, uint32_t index, siov_sid sid,
                                       struct siov_irte *e, bool *fpd);
/* Source validation of a request from sid against a decoded entry. */
SIOV_LOCAL bool siov_irte_sid_ok(const struct siov_irte *e, siov_sid sid);
/* The interrupt a remapped-format entry names. */
SIOV_LOCAL void siov_irte_remap(const struct siov_irte *e, struct siov_irq *out);
/* Post through a posted-format entry: PIR[VV] and ON updated atomically in
   the descriptor (IR.27 access error, IR.28 reserved field), *out filled. */
SIOV_LOCAL siov_fault siov_irte_post(struct siov_iommu *iommu, uint64_t irstate, const struct siov_irte *e,
                                     struct siov_irq *out);

/* msi.c: under lock, queue the interrupt of the fault event (SIOV_MSI_FAULT)
   or of the invalidation completion event (SIOV_MSI_INV) with its address and
   data registers as they are now. */
SIOV_LOCAL void siov_msi_queue(struct siov_iommu *iommu, unsigned which);
/* msi.c: send the MSIs collected while the lock was held (call after unlocking). */
SIOV_LOCAL void siov_msi_flush(struct siov_iommu *iommu);

/* trace_hook.c: what a request or invalidation reports to the hook. */
struct siov_trace_req {
    unsigned kind;           /* SIOV_TRACE_XLATE, _READ, _WRITE */
    siov_sid sid;
    uint32_t pasid;
    uint64_t iova, len;
    unsigned access;
    siov_fault fault;
    const struct siov_xlate *out; /* XLATE: the answer */
    unsigned hits, walks;
};
struct siov_trace_scope {
    uint16_t did;
    siov_sid sid;
    uint32_t pasid;
    uint64_t addr;
    unsigned am;
};
/* trace_hook.c: hand a request, or a processed invalidation of type
   SIOV_TRACE_INV_* at granularity gran, to the hook (a request only if one
   is set; siov_trace_inval's callers checked that under the unit's lock). */
SIOV_LOCAL void siov_trace_request(struct siov_iommu *u, const struct siov_trace_req *q);
SIOV_LOCAL void siov_trace_inval(struct siov_iommu *u, unsigned type, unsigned gran, const struct siov_trace_scope *sc);
/* outbox.c: ports, notifiers and the messages to them, queued under the lock
   and delivered in order after it drops (port.h: who calls what). */
/* Under lock: the port of sid, or NULL. */
SIOV_LOCAL const struct siov_port *siov_port_find(const struct siov_iommu *iommu, siov_sid sid);
/* Under lock: attach (ops non-NULL) or detach sid's port; 0, -EBUSY, -ENOENT, -ENOMEM. */
SIOV_LOCAL int siov_port_set(struct siov_iommu *iommu, siov_sid sid, const struct siov_device_ops *ops,
                             void *opaque);
/* Under lock: queue a message; false when out of memory (nothing queued). */
SIOV_LOCAL bool siov_out_queue(struct siov_iommu *iommu, const struct siov_outmsg *m);
/* Under lock: queue an invalidation event for the notifiers (none: nothing). */
SIOV_LOCAL void siov_out_event(struct siov_iommu *iommu, const struct siov_inval_event *ev);
/* Under lock: send a page response to sid's port (none, or without
   page_response: nowhere) and count it by code; unit: the unit's own answer. */
SIOV_LOCAL void siov_out_page_response(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint16_t prgi,
                                       unsigned code, bool unit);
/* Under lock: drop the queued device-TLB invalidations to sid (nothing waits
   for them any more), and its page responses too when responses is set
   (its port is going away). */
SIOV_LOCAL void siov_out_drop_sends(struct siov_iommu *iommu, siov_sid sid, bool responses);
/* Under lock: wait until no other thread is delivering (drops the lock meanwhile). */
SIOV_LOCAL void siov_out_wait_idle(struct siov_iommu *iommu);
/* Under lock: add a notifier; 0 or -ENOMEM. */
SIOV_LOCAL int siov_notifier_add(struct siov_iommu *iommu, const struct siov_notifier *n);
/* Deliver the queued messages (call with the lock not held). */
SIOV_LOCAL void siov_out_flush(struct siov_iommu *iommu);
/* Free the tables (the unit's end). */
SIOV_LOCAL void siov_out_fini(struct siov_iommu *iommu);

/* fault.c */
/* Whether a fault reason is qualified (suppressed by FPD), docs/spec-notes.md. */
SIOV_LOCAL bool siov_fault_qualified(siov_fault f);
/* Record a fault in the FRCD registers unless fpd suppresses it (takes the lock). */
SIOV_LOCAL void siov_fault_report(struct siov_iommu *iommu, const struct siov_req *req, siov_fault f, bool fpd);
/* The same for an interrupt-remapping fault of a request from sid for interrupt
   index (FI[63:48], where the spec defines it). */
SIOV_LOCAL void siov_fault_report_irq(struct siov_iommu *iommu, siov_sid sid, uint32_t index, siov_fault f,
                                      bool fpd);
/* Under lock: raise the fault event for a status change (PPF, PFO, IQE, ICE, ITE).
   Call it after setting the FSTS bit; while an earlier condition is unserviced
   it does nothing (spec 10.4.10). Queues the MSI: siov_msi_flush after unlocking. */
SIOV_LOCAL void siov_fault_event_locked(struct siov_iommu *iommu);
/* Register reads/writes of FSTS, FECTL, FEDATA/FEADDR/FEUADDR and the fault
   records (under lock); false, and nothing done, for any other offset. */
SIOV_LOCAL bool siov_fault_reg_read(struct siov_iommu *iommu, uint64_t off, unsigned size, uint64_t *val);
SIOV_LOCAL bool siov_fault_reg_write(struct siov_iommu *iommu, uint64_t off, uint64_t val, unsigned size);

/* prq.c: the page request queue (facts 14). Registers, under lock: the
   value of PQH/PQT/PQA/PRS/PECTL/PEDATA/PEADDR/PEUADDR at base (0 and
   writes ignored without ECAP.PRS), and a write of the whole value v. */
SIOV_LOCAL uint64_t siov_prq_reg_value(const struct siov_iommu *iommu, uint64_t base);
SIOV_LOCAL void siov_prq_reg_store(struct siov_iommu *iommu, uint64_t base, uint64_t v);
/* prq.c: queue an accepted request of sid (or drop it as PRO or a full
   queue says, answering a last one Success); pe: the PASID entry it found,
   for the implicit invalidation. Takes the lock, delivers after it drops.
   SIOV_OK, or SIOV_ERR_BUS when the queue's memory cannot be written. */
SIOV_LOCAL siov_fault siov_prq_enqueue(struct siov_iommu *iommu, siov_sid sid, const struct siov_page_request *req,
                                       const struct siov_pasid_ent *pe);
/* prq.c: the unit's own answer to a request it refused (takes the lock). */
SIOV_LOCAL void siov_prq_respond(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint16_t prgi,
                                 unsigned code);

/* regs.c: CAP, ECAP and the reset values of the register file from iommu->cfg. */
SIOV_LOCAL void siov_regs_reset(struct siov_iommu *iommu);

/* inval.c: invalidation queue and register-based invalidation (under lock). */
SIOV_LOCAL void siov_iq_process(struct siov_iommu *iommu);
SIOV_LOCAL void siov_iq_disable(struct siov_iommu *iommu);
/* inval.c, under lock: device sid completed itag (ICE if it has no such
   invalidation outstanding); the queue goes on when it waited for it. */
SIOV_LOCAL void siov_iq_devtlb_done(struct siov_iommu *iommu, siov_sid sid, unsigned itag);
/* inval.c, under lock: every outstanding device-TLB invalidation times out (ITE). */
SIOV_LOCAL void siov_iq_expire(struct siov_iommu *iommu);
/* inval.c, under lock: sid's port went away: its invalidations are complete. */
SIOV_LOCAL void siov_iq_port_gone(struct siov_iommu *iommu, siov_sid sid);
SIOV_LOCAL void siov_inv_ccmd(struct siov_iommu *iommu, uint64_t ccmd);
SIOV_LOCAL void siov_inv_iotlb_reg(struct siov_iommu *iommu, uint64_t cmd);

/* The caches (caches.c; layout and concurrency in caches.h); NULL on ENOMEM.
   Lookups run concurrently with each other and with one writer (fills only
   try the writer lock, invalidations take it). A lookup never allocates. */
SIOV_LOCAL struct siov_caches *siov_caches_new(const struct siov_iommu_config *cfg);
SIOV_LOCAL void siov_caches_free(struct siov_caches *c);
/* context_cache.c: the context cache, by source id. */
SIOV_LOCAL bool siov_cc_lookup(struct siov_caches *c, siov_sid sid, struct siov_ctx_ent *ce);
SIOV_LOCAL void siov_cc_fill(struct siov_caches *c, siov_sid sid, const struct siov_ctx_ent *ce);
/* pasid_cache.c: the PASID cache, by source id and the request's PASID
   (SIOV_NO_PASID for requests without one); pe->pasid and pe->did say what it
   was found under. */
SIOV_LOCAL bool siov_pc_lookup(struct siov_caches *c, siov_sid sid, uint32_t pasid, struct siov_pasid_ent *pe);
SIOV_LOCAL void siov_pc_fill(struct siov_caches *c, siov_sid sid, uint32_t pasid, const struct siov_pasid_ent *pe);
/* front_cache.c (the probe: front_cache.h): final translations by (source
   id, request PASID, 4 KiB page), probed inline through the view; fill it
   from a complete walk of the request's epoch. */
SIOV_LOCAL struct siov_xc_view siov_caches_xc_view(const struct siov_caches *c);
SIOV_LOCAL void siov_xc_fill(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid, uint64_t addr,
                             const struct siov_xc_hit *hit);
/* iotlb.c: the translation of addr under pe (tagged by pe->did, and pe->pasid
   unless pe->pgtt is SL-only), any page size. */
SIOV_LOCAL bool siov_tlb_lookup(struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t addr,
                                struct siov_walk_out *out);
SIOV_LOCAL void siov_tlb_fill(struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t addr,
                              const struct siov_walk_out *out);
/* The caches' epoch (cache_stamp.c): a translation reads it before its first
   lookup and passes it to its fills, so that a fill racing with an
   invalidation is dropped instead of outliving it. The *_fill functions above
   use the current epoch. */
SIOV_LOCAL uint64_t siov_caches_epoch(const struct siov_caches *c);
SIOV_LOCAL void siov_cc_fill_epoch(struct siov_caches *c, uint64_t epoch, siov_sid sid,
                                   const struct siov_ctx_ent *ce);
SIOV_LOCAL void siov_pc_fill_epoch(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid,
                                   const struct siov_pasid_ent *pe);
SIOV_LOCAL void siov_tlb_fill_epoch(struct siov_caches *c, uint64_t epoch, const struct siov_pasid_ent *pe,
                                    uint64_t addr, const struct siov_walk_out *out);
/* caches.c: fill from a successful translation w of req under pe, what says
   which caches: the IOTLB (a walk's result) and the front cache (an answer
   given). One lock; dropped if an invalidation completed since req's epoch. */
#define SIOV_FILL_IOTLB 1u
#define SIOV_FILL_FRONT 2u
SIOV_LOCAL void siov_caches_fill(struct siov_caches *c, const struct siov_req *req,
                                 const struct siov_pasid_ent *pe, const struct siov_walk_out *w, unsigned what);
/* caches.c: where IOTLB evictions are counted (the unit's stats; NULL: nowhere). */
SIOV_LOCAL void siov_caches_set_stats(struct siov_caches *c, struct siov_stats *stats);
/* iotlb.c: valid IOTLB entries now (tests and diagnostics; takes the writer lock). */
SIOV_LOCAL unsigned siov_tlb_occupancy(struct siov_caches *c);
/* Invalidations (inval.c, under the unit's lock), facts sheet 10.2. iotlb.c:
   everything; a DID; a DID's PASID-tagged entries of one PASID (PIOTLB G=10);
   2^am pages at addr of a DID (IOTLB PSI: also every PASID-tagged entry of the
   DID); 2^am pages of first-level and nested entries of (DID, PASID). */
SIOV_LOCAL void siov_tlb_inv_global(struct siov_caches *c);
SIOV_LOCAL void siov_tlb_inv_domain(struct siov_caches *c, uint16_t did);
SIOV_LOCAL void siov_tlb_inv_pasid(struct siov_caches *c, uint16_t did, uint32_t pasid);
SIOV_LOCAL void siov_tlb_inv_page(struct siov_caches *c, uint16_t did, uint64_t addr, unsigned am);
SIOV_LOCAL void siov_tlb_inv_pasid_page(struct siov_caches *c, uint16_t did, uint32_t pasid, uint64_t addr,
                                        unsigned am);
/* context_cache.c: all; domain-selective (scalable entries all, legacy ones of
   did); device-selective (sid with function mask fm). */
SIOV_LOCAL void siov_cc_inv_global(struct siov_caches *c);
SIOV_LOCAL void siov_cc_inv_domain(struct siov_caches *c, uint16_t did);
SIOV_LOCAL void siov_cc_inv_device(struct siov_caches *c, siov_sid sid, unsigned fm);
/* pasid_cache.c: all (G=11); a DID (G=00); a DID's PASID (G=01). */
SIOV_LOCAL void siov_pc_inv_global(struct siov_caches *c);
SIOV_LOCAL void siov_pc_inv_domain(struct siov_caches *c, uint16_t did);
SIOV_LOCAL void siov_pc_inv_pasid(struct siov_caches *c, uint16_t did, uint32_t pasid);
/* iec.c: the interrupt entry cache, decoded entries by interrupt index
   (spec 6.4). Invalidations: all; the 2^im indices equal to index with its
   low im bits ignored. */
SIOV_LOCAL bool siov_iec_lookup(struct siov_caches *c, uint32_t index, struct siov_irte *e);
SIOV_LOCAL void siov_iec_fill_epoch(struct siov_caches *c, uint64_t epoch, uint32_t index,
                                    const struct siov_irte *e);
SIOV_LOCAL void siov_iec_inv_global(struct siov_caches *c);
SIOV_LOCAL void siov_iec_inv_index(struct siov_caches *c, uint32_t index, unsigned im);
/* iec.c: valid entries now (tests and diagnostics; takes the writer lock). */
SIOV_LOCAL unsigned siov_iec_occupancy(struct siov_caches *c);
/* caches.c: every cache at once. */
SIOV_LOCAL void siov_caches_inv_all(struct siov_caches *c);
/* caches.c: the front cache alone (regs.c, when the translation state changes). */
SIOV_LOCAL void siov_caches_front_flush(struct siov_caches *c);

/* resolve.c: the steps every request pipeline shares. */
/* The root-table state check a request makes first: SIOV_OK, or its fault;
   *record says whether the fault is recorded (abort-DMA mode blocks silently). */
SIOV_LOCAL siov_fault siov_root_check(const struct siov_iommu *iommu, uint64_t state, bool *record);
/* The context entry of req->sid, through the context cache. */
SIOV_LOCAL siov_fault siov_context_get(struct siov_iommu *iommu, uint64_t state, const struct siov_req *req,
                                       struct siov_ctx_ent *ce);
/* Context and PASID entry of req, through the caches; *fpd as for pasid_lookup.
   Translation and translated requests (SIOV_ACCESS_ATS_REQ/TRANSLATED) fault
   SCT.5 / LCT.5 at the context entry when it does not enable ATS. */
SIOV_LOCAL siov_fault siov_resolve(struct siov_iommu *iommu, uint64_t state, const struct siov_req *req,
                                   struct siov_pasid_ent *pe, bool *fpd);
/* Whether a cached walk w answers a request of access without a
   walk (no fault to report, no A/D update to make). */
SIOV_LOCAL bool siov_hit_usable(const struct siov_walk_out *w, unsigned access);
/* A request as it arrives: the unit's epoch read first (before any lookup). */
SIOV_LOCAL struct siov_req siov_req_make(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid, uint64_t addr,
                                         unsigned access);

/* ats.c: a translation request of req (access has SIOV_ACCESS_ATS_REQ) at
   state: the completion and the fault (recorded unless req->nocache); the
   stale checker's fresh answer has req->nocache set: no cache, no record. */
SIOV_LOCAL siov_fault siov_ats_request(struct siov_iommu *iommu, uint64_t state, const struct siov_req *req,
                                       struct siov_ats_completion *out);

#endif

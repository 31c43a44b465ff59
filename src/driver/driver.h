/* driver.h: types and internal interfaces of the reference driver. Its files,
 * bottom to top (each calls only files below it): last_error.c -> guest_mem.c, mmio.c ->
 * alloc.c -> qi.c -> irq.c, device.c -> io_pgtable.c, prq.c -> aux_domain.c -> bringup.c.
 * The driver sees the unit only through MMIO and guest memory, so this header
 * includes the public API alone, never a model header. */
#ifndef SIOV_DRIVER_H
#define SIOV_DRIVER_H

#include <siov/siov.h>

#define SIOV_DRV_LOCAL __attribute__((visibility("hidden")))

#define SIOV_DRV_RID_PASID 0u /* PASID of requests without PASID (RID_PASID) */
#define SIOV_DRV_POLL_LIMIT 100000u /* register and status-word polls before giving up */
#define SIOV_DRV_IRT_S 7u           /* IRTA.S of the driver's table: 2^(S+1) = 256 entries, one page */
#define SIOV_DRV_IRT_ENTRIES (2u << SIOV_DRV_IRT_S)
#define SIOV_DRV_ERR_LEN 160        /* siov_driver_last_error's text, NUL included */

/* A requester id as lspci prints it: printf("%02x:%02x.%x", SIOV_DRV_BDF(sid)). */
#define SIOV_DRV_BDF(sid) SIOV_SID_BUS(sid), (unsigned)(SIOV_SID_DEVFN(sid) >> 3), (unsigned)((sid) & 7)

/* A bitmap allocator: lowest free first. */
struct siov_bitmap {
    uint64_t *w;
    uint64_t nbits, nfree;
    uint64_t hint; /* no free bit below it */
};

/* A page request group seen in the page request queue and not answered
   yet (its last request has not arrived): the worst code so far. */
struct siov_prq_group {
    siov_sid sid;
    uint32_t pasid; /* SIOV_NO_PASID for requests without PASID */
    uint16_t prgi;
    unsigned code;
};

/* One queued invalidation descriptor (qw2/qw3 are zero for every type we send). */
struct siov_qi_desc {
    uint64_t qw0, qw1;
};

/* A device (requester id) the driver has set up. */
struct siov_dev {
    siov_sid sid;
    bool aux_enabled;
    bool ats;                    /* ATS enabled: DTE / TT=01, device-TLB invalidations sent */
    bool pri;                    /* page requests enabled: PRE (needs ats) */
    struct siov_domain *rid_dom; /* attached for requests without PASID */
    unsigned naux;               /* aux domains attached */
    uint64_t dir;                /* PASID directory (scalable mode) */
};

/* Where one domain is attached: a device, for requests without PASID or with its PASID. */
struct siov_attachment {
    siov_sid sid;
    bool aux;
};

enum siov_dom_kind { SIOV_DOM_SL, SIOV_DOM_FL, SIOV_DOM_PT, SIOV_DOM_NESTED };

struct siov_domain {
    struct siov_driver *drv;
    enum siov_dom_kind kind;
    uint16_t did;
    bool fl;               /* tables in first-level (IA-32e) format */
    uint64_t root;         /* top table (none for pass-through) */
    unsigned levels;       /* paging levels of the tables */
    unsigned aw;           /* SL: the PASID-entry AW of its tables */
    unsigned leaf_levels;  /* bit L set: level L may hold a leaf */
    uint64_t iova_limit;   /* input addresses are below it */
    uint64_t pa_limit;     /* output addresses are below it */
    struct siov_domain *parent; /* nested: the second-level parent */
    unsigned nchildren;    /* nested domains over this one */
    uint64_t *idpages;     /* parent: sorted child table pages it identity-maps */
    size_t nid, cid;
    int32_t pasid;         /* aux PASID, -1 while not aux-attached */
    struct siov_attachment *att;
    unsigned natt, catt, naux, nrid;
    struct siov_domain *prev, *next;
};

struct siov_driver {
    struct siov_iommu *iommu;
    struct siov_mem *mem;
    uint64_t cap, ecap;
    bool scalable;  /* TTM scalable; otherwise legacy (SL and PT domains only) */
    bool pasid_ok;  /* ECAP.PASID: aux domains possible */
    bool dev_tlb;   /* ECAP.DT: devices may enable ATS */
    /* table pool */
    uint64_t pool_base;
    struct siov_bitmap pages;
    uint64_t *deferred; /* pages released after the next queue flush */
    size_t ndeferred, cdeferred;
    /* identifiers */
    struct siov_bitmap pasids, dids;
    unsigned pdts, dir_pages;
    /* paging geometry */
    unsigned sl_aw, sl_levels, sl_width, fl_levels;
    unsigned sl_leaf_levels, fl_leaf_levels;
    /* structures */
    uint64_t root;
    uint64_t ctx_table[256][2]; /* context table per bus (and half in scalable mode) */
    uint16_t ctx_users[256][2];
    struct siov_dev **devs[256]; /* per bus: 256 devfn slots, allocated on demand */
    /* invalidation queue */
    uint64_t iq_base, status_gpa;
    unsigned iq_entries, iq_dsz, iq_tail;
    uint32_t seq;
    struct siov_qi_desc *batch;
    unsigned nbatch, cbatch;
    int batch_err;
    struct siov_domain *domains;
    /* why the last failed call failed, and the cause found by the call in progress */
    char last_error[SIOV_DRV_ERR_LEN], pend_error[SIOV_DRV_ERR_LEN];
    /* interrupt remapping (irq.c) */
    bool ir;                 /* enabled at bring-up */
    bool eime;               /* x2APIC mode */
    uint64_t irt;            /* the interrupt remapping table (one page) */
    struct siov_bitmap irqs; /* its entries */
    siov_sid irq_sid[SIOV_DRV_IRT_ENTRIES]; /* requester of each allocated entry */
    /* page requests (prq.c) */
    bool prq;                     /* the page request queue is set up (ECAP.PRS) */
    uint64_t prq_base;            /* its page */
    siov_prq_handler prq_fn;
    void *prq_opaque;
    bool prq_busy;                /* siov_driver_service_prq is running (the handler may call in) */
    struct siov_prq_group *groups; /* groups waiting for their last request */
    unsigned ngroups, cgroups;
};

/* Little-endian 64-bit words in a byte buffer. */
static inline uint64_t siov_drv_get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
static inline void siov_drv_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        p[i] = (uint8_t)v;
}

/* What the unit supports, from the CAP/ECAP copies taken at bring-up
   (siov_driver_capable without the NULL check). */
static inline bool siov_drv_capable(const struct siov_driver *drv, enum siov_cap cap)
{
    uint64_t e = drv->ecap;
    switch (cap) {
    case SIOV_CAP_AUX_DOMAIN:
        return drv->pasid_ok;
    case SIOV_CAP_FIRST_LEVEL:
        return drv->scalable && (e & SIOV_ECAP_FLTS);
    case SIOV_CAP_SECOND_LEVEL:
        return drv->sl_aw && (!drv->scalable || (e & SIOV_ECAP_SLTS));
    case SIOV_CAP_NESTED:
        return drv->scalable && drv->sl_aw && (e & SIOV_ECAP_NEST) && (e & SIOV_ECAP_FLTS) &&
               (e & SIOV_ECAP_SLTS);
    case SIOV_CAP_PASS_THROUGH:
        return e & SIOV_ECAP_PT;
    }
    return false;
}

/* ---- last_error.c: the cause of a failure. fail: note why the call in
   progress fails (the first cause noted wins); returns err. done: the public
   call returns ret; a failure's cause becomes the last error. Returns ret. */
SIOV_DRV_LOCAL int siov_drv_fail(struct siov_driver *drv, int err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
SIOV_DRV_LOCAL int siov_drv_done(struct siov_driver *drv, int ret);

/* ---- guest_mem.c: guest-memory words; 0 or -EFAULT. */
SIOV_DRV_LOCAL int siov_drv_rd64(struct siov_driver *drv, uint64_t gpa, uint64_t *v);
SIOV_DRV_LOCAL int siov_drv_wr64(struct siov_driver *drv, uint64_t gpa, uint64_t v);
SIOV_DRV_LOCAL int siov_drv_rd32(struct siov_driver *drv, uint64_t gpa, uint32_t *v);
/* Zero len bytes (at most a page) at gpa. */
SIOV_DRV_LOCAL int siov_drv_zero(struct siov_driver *drv, uint64_t gpa, size_t len);
/* Copy len bytes into guest memory at gpa. */
SIOV_DRV_LOCAL int siov_drv_write_mem(struct siov_driver *drv, uint64_t gpa, const void *src, size_t len);

/* ---- mmio.c: registers. */
SIOV_DRV_LOCAL uint32_t siov_drv_rd_reg32(struct siov_driver *drv, uint64_t off);
/* Write GCMD keeping the current enables, set/clear applied, then poll GSTS
   until the status bit reads want; 0 or -ETIMEDOUT. */
SIOV_DRV_LOCAL int siov_drv_gcmd(struct siov_driver *drv, uint32_t set, uint32_t clear, uint32_t status,
                                 bool want);
/* Flush the write buffer where CAP.RWBF asks for it; 0 or -ETIMEDOUT. */
SIOV_DRV_LOCAL int siov_drv_write_buffer_flush(struct siov_driver *drv);

/* ---- alloc.c: table pool and identifiers. */
/* Set up the pool over npages pages from base, and the DID and PASID bitmaps
   (2^did_bits and 2^pasid_bits ids, id 0 of each reserved); 0 or -ENOMEM. */
SIOV_DRV_LOCAL int siov_drv_pool_init(struct siov_driver *drv, uint64_t base, uint64_t npages);
SIOV_DRV_LOCAL int siov_drv_ids_init(struct siov_driver *drv, unsigned did_bits, unsigned pasid_bits);
/* Free the allocators' host memory. */
SIOV_DRV_LOCAL void siov_drv_alloc_fini(struct siov_driver *drv);
/* Table pool: n contiguous zeroed 4 KiB pages; -ENOMEM when the pool (or host memory) is exhausted. */
SIOV_DRV_LOCAL int siov_drv_page_alloc(struct siov_driver *drv, unsigned n, uint64_t *gpa);
SIOV_DRV_LOCAL void siov_drv_page_free(struct siov_driver *drv, uint64_t gpa, unsigned n);
/* Free a page in use once the next queue flush has completed (hardware may still cache it); never fails. */
SIOV_DRV_LOCAL void siov_drv_page_defer(struct siov_driver *drv, uint64_t gpa);
/* Free every deferred page (the queue flush that makes it safe has completed). */
SIOV_DRV_LOCAL void siov_drv_page_release_deferred(struct siov_driver *drv);
/* Identifiers: PASIDs (0 reserved) and domain ids (0 reserved); -ENOSPC when exhausted. */
SIOV_DRV_LOCAL int siov_drv_pasid_alloc(struct siov_driver *drv, uint32_t *pasid);
SIOV_DRV_LOCAL void siov_drv_pasid_free(struct siov_driver *drv, uint32_t pasid);
SIOV_DRV_LOCAL int siov_drv_did_alloc(struct siov_driver *drv, uint16_t *did);
SIOV_DRV_LOCAL void siov_drv_did_free(struct siov_driver *drv, uint16_t did);
/* Interrupt remapping table entries: n of them; the lowest free one (-ENOSPC
   when none); whether one is allocated. */
SIOV_DRV_LOCAL int siov_drv_irq_ids_init(struct siov_driver *drv, unsigned n);
SIOV_DRV_LOCAL int siov_drv_irq_index_alloc(struct siov_driver *drv, unsigned *index);
SIOV_DRV_LOCAL void siov_drv_irq_index_free(struct siov_driver *drv, unsigned index);
SIOV_DRV_LOCAL bool siov_drv_irq_index_used(const struct siov_driver *drv, unsigned index);

/* ---- qi.c: queued invalidation. Descriptors collect in a batch; flush submits
   them with an inv-wait, waits for its status write and then releases deferred
   pages. 0, -EIO (queue error reported in FSTS), -ETIMEDOUT or -ENOMEM. */
SIOV_DRV_LOCAL int siov_drv_qi_flush(struct siov_driver *drv);
/* The same, the last inv-wait with PD=1 where ECAP.PDS (a page-request
   drain, spec 7.10): waited for even when nothing is queued. */
SIOV_DRV_LOCAL int siov_drv_qi_flush_drain(struct siov_driver *drv);
/* A page group response (0x9) to sid for group prgi of pasid (SIOV_NO_PASID: PP=0). */
SIOV_DRV_LOCAL void siov_drv_page_response(struct siov_driver *drv, siov_sid sid, uint32_t pasid, uint16_t prgi,
                                           unsigned code);
SIOV_DRV_LOCAL void siov_drv_inv_cc_global(struct siov_driver *drv);
SIOV_DRV_LOCAL void siov_drv_inv_cc_device(struct siov_driver *drv, siov_sid sid, uint16_t did);
SIOV_DRV_LOCAL void siov_drv_inv_iotlb_global(struct siov_driver *drv);
SIOV_DRV_LOCAL void siov_drv_inv_iotlb_dsi(struct siov_driver *drv, uint16_t did);
/* IOTLB page-selective within domain over [lo, hi); domain-selective when the
   range is too large for CAP.MAMV or PSI is not supported. */
SIOV_DRV_LOCAL void siov_drv_inv_iotlb_range(struct siov_driver *drv, uint16_t did, uint64_t lo, uint64_t hi);
SIOV_DRV_LOCAL void siov_drv_inv_piotlb_pasid(struct siov_driver *drv, uint16_t did, uint32_t pasid);
SIOV_DRV_LOCAL void siov_drv_inv_piotlb_range(struct siov_driver *drv, uint16_t did, uint32_t pasid,
                                              uint64_t lo, uint64_t hi);
SIOV_DRV_LOCAL void siov_drv_inv_pc_global(struct siov_driver *drv);
SIOV_DRV_LOCAL void siov_drv_inv_pc(struct siov_driver *drv, uint16_t did, uint32_t pasid);
/* Device-TLB of sid for [lo, hi) (lo == hi: everything); pasid SIOV_NO_PASID for
   the non-PASID form. Nothing unless the device has ATS enabled. */
SIOV_DRV_LOCAL void siov_drv_inv_devtlb(struct siov_driver *drv, siov_sid sid, uint32_t pasid,
                                        uint64_t lo, uint64_t hi);
/* Interrupt entry cache: everything; the 2^im entries from index (aligned). */
SIOV_DRV_LOCAL void siov_drv_inv_iec_global(struct siov_driver *drv);
SIOV_DRV_LOCAL void siov_drv_inv_iec_index(struct siov_driver *drv, unsigned index, unsigned im);

/* ---- irq.c: interrupt remapping. Turn it on (with ECAP.IR: the table,
   IRTA, SIRTP, IEC invalidation, IRE, CFI off — Linux's order); 0 or -errno. */
SIOV_DRV_LOCAL int siov_drv_irq_enable(struct siov_driver *drv);

/* A device the driver has set up, or NULL (inline: the queue asks it too). */
static inline struct siov_dev *siov_drv_dev_find(const struct siov_driver *drv, siov_sid sid)
{
    struct siov_dev **bus = drv->devs[SIOV_SID_BUS(sid)];
    return bus ? bus[SIOV_SID_DEVFN(sid)] : NULL;
}

/* ---- device.c: devices. get: set up on first use (context entry, PASID
   directory). put: release it once nothing uses it. */
SIOV_DRV_LOCAL int siov_drv_dev_get(struct siov_driver *drv, siov_sid sid, struct siov_dev **out);
SIOV_DRV_LOCAL void siov_drv_dev_put(struct siov_driver *drv, struct siov_dev *dev);
/* Scalable mode: install a PASID-table entry (P set last) / tear it down with
   the invalidations of the spec (P cleared, PASID cache, IOTLB, device-TLB). */
SIOV_DRV_LOCAL int siov_drv_pasid_set(struct siov_driver *drv, struct siov_dev *dev, uint32_t pasid,
                                      const uint64_t pe[8]);
SIOV_DRV_LOCAL int siov_drv_pasid_clear(struct siov_driver *drv, struct siov_dev *dev, uint32_t pasid);
/* 0 if the unit tags requests with PASIDs (aux domains); else -ENODEV, saying why. */
SIOV_DRV_LOCAL int siov_drv_need_pasid(struct siov_driver *drv);
/* *dev: the device at sid with aux domains enabled; 0, or -ENODEV / -EINVAL with the reason recorded. */
SIOV_DRV_LOCAL int siov_drv_aux_dev(struct siov_driver *drv, siov_sid sid, struct siov_dev **dev);
/* Legacy mode: install / tear down the device's context entry. */
SIOV_DRV_LOCAL int siov_drv_legacy_set(struct siov_driver *drv, struct siov_dev *dev, uint64_t qw0,
                                       uint64_t qw1);
SIOV_DRV_LOCAL int siov_drv_legacy_clear(struct siov_driver *drv, struct siov_dev *dev);
/* ATS on for dev (siov_dev_enable_ats after its argument checks). */
SIOV_DRV_LOCAL int siov_drv_ats_enable(struct siov_driver *drv, struct siov_dev *dev);
/* PRE set or cleared in dev's scalable context entry, with the context- and
   PASID-cache invalidations a changed present entry needs. */
SIOV_DRV_LOCAL int siov_drv_pri_set(struct siov_driver *drv, struct siov_dev *dev, bool on);
/* Legacy TT for a domain of kind on dev: pass-through, or second level (with
   device-TLB when dev has ATS). */
SIOV_DRV_LOCAL unsigned siov_drv_legacy_tt(const struct siov_dev *dev, bool pass_through);

/* ---- io_pgtable.c: a domain's page tables, the only code that reads and
   writes paging entries. Internal steps queue their invalidations; the caller
   flushes. */
/* A table page for d (identity-mapped in a nested domain's parent). */
SIOV_DRV_LOCAL int siov_drv_table_alloc(struct siov_domain *d, uint64_t *gpa);
/* The page leaves d's tables: freed after the next flush (nested: once the
   parent no longer maps it, else with the parent). */
SIOV_DRV_LOCAL void siov_drv_table_release(struct siov_domain *d, uint64_t gpa);
/* Map [iova, iova + size) to pa with full rollback: on failure nothing stays
   mapped and no page is held. 0, -ERANGE, -EEXIST, -ENOMEM or -EFAULT. */
SIOV_DRV_LOCAL int siov_drv_pt_map(struct siov_domain *d, uint64_t iova, uint64_t pa, uint64_t size,
                                   unsigned prot);
/* Unmap [lo, hi) and queue its invalidation; bytes unmapped or -errno. */
SIOV_DRV_LOCAL int64_t siov_drv_pt_unmap(struct siov_domain *d, uint64_t lo, uint64_t hi);
/* Whether [lo, hi) holds a page of a nested domain's tables that d identity-maps. */
SIOV_DRV_LOCAL bool siov_drv_pt_idpage_in(const struct siov_domain *d, uint64_t lo, uint64_t hi);
/* Walk d's tables for iova (below d->iova_limit): 0, -ENOENT or -EFAULT. */
SIOV_DRV_LOCAL int siov_drv_pt_lookup(struct siov_domain *d, uint64_t iova, uint64_t *pa);

/* ---- prq.c: page requests. At bring-up with ECAP.PRS: the queue (one page,
   PQH = PQT = 0, PQA), its event left masked (polled); 0 or -errno. */
SIOV_DRV_LOCAL int siov_drv_prq_enable(struct siov_driver *drv);
/* Drain the page requests of sid (spec 7.10; facts 14.8) once its pasid
   (SIOV_NO_PASID: RID_PASID, or the whole device) or its PRI is gone: what
   is queued is serviced, a device-TLB invalidation and an inv-wait with PD,
   serviced again, repeated while PRS.PRO says requests were dropped. Call
   it for a device with PRI. 0 or -errno. */
SIOV_DRV_LOCAL int siov_drv_prq_drain(struct siov_driver *drv, siov_sid sid, uint32_t pasid);
/* Free the group records (driver teardown). */
SIOV_DRV_LOCAL void siov_drv_prq_fini(struct siov_driver *drv);

/* ---- aux_domain.c: free a domain's host memory only (driver teardown). */
SIOV_DRV_LOCAL void siov_domain_release(struct siov_domain *dom);

#endif

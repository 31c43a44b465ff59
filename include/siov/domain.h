/* libsiov — the reference driver: domains, map/unmap, attach and aux attach.
 * The driver programs the hardware model only through MMIO and guest memory.
 * Calls on one driver and its domains must be serialized by the caller;
 * translations on the unit may run concurrently with them. */
#ifndef SIOV_DOMAIN_H
#define SIOV_DOMAIN_H

#include <siov/iommu.h>
#include <siov/prq.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siov_driver;
struct siov_domain;

/* Bind a driver to an IOMMU. Table pages come from guest memory
   [pool_gpa, pool_gpa + pool_size). Sets up the root table and the
   invalidation queue, interrupt remapping where ECAP.IR says so, the page
   request queue where ECAP.PRS does, and enables translation, through MMIO
   writes only. NULL with errno EINVAL (bad arguments, a pool outside memory
   or under 3 pages, one more each with ECAP.IR and ECAP.PRS),
   ENODEV (no queued invalidation), ETIMEDOUT or EIO (hardware that does not
   respond). Works in legacy mode on units without scalable mode. */
SIOV_API struct siov_driver *siov_driver_new(struct siov_iommu *iommu, struct siov_mem *mem,
                                             uint64_t pool_gpa, uint64_t pool_size);
/* Free the driver and every domain it still owns (NULL is ignored). Turns
   translation and the invalidation queue off first, so the unit stops using the pool. */
SIOV_API void siov_driver_free(struct siov_driver *drv);
/* Free 4 KiB pages left in the driver's table pool (0 for NULL); docs/embedding.md
   says how many pages a device, a domain and a mapping take. */
SIOV_API uint64_t siov_driver_pool_avail(const struct siov_driver *drv);
/* Why the last call on drv or one of its domains that returned an error
   failed, in one line ("iova 0x1001 not 4 KiB aligned", "aux domains not
   enabled on 00:05.0"); "" before any failure. Calls that succeed leave it;
   calls given a NULL object cannot set it. The text lives in drv. */
SIOV_API const char *siov_driver_last_error(const struct siov_driver *drv);

enum siov_cap {
    SIOV_CAP_AUX_DOMAIN,
    SIOV_CAP_FIRST_LEVEL,
    SIOV_CAP_SECOND_LEVEL,
    SIOV_CAP_NESTED,
    SIOV_CAP_PASS_THROUGH
};
/* Whether the hardware (from CAP/ECAP) supports a capability. */
SIOV_API bool siov_driver_capable(const struct siov_driver *drv, enum siov_cap cap);

/* Allow auxiliary domains (PASID-granular attach) on a device; sets up its
   context entry and PASID directory. 0 if already enabled; -ENODEV without
   PASID support; -ENOMEM. */
SIOV_API int siov_dev_enable_aux(struct siov_driver *drv, siov_sid sid);
/* Disallow auxiliary domains on a device; -EBUSY while aux domains are
   attached, -EINVAL if not enabled, -ENODEV without PASID support. */
SIOV_API int siov_dev_disable_aux(struct siov_driver *drv, siov_sid sid);

/* Enable ATS for a device (PCIe ATS on the function): DTE in its scalable
   context entry, or TT=01 in its legacy one while a second-level domain is
   attached (a pass-through attachment keeps TT=10, whose translation requests
   fault LCT.5). Until then the device's translation and translated requests
   fault (SCT.5 / LCT.5). From then on unmap, detach and aux detach also send
   device-TLB invalidations (0x3, or 0x8 for a PASID) and wait for the device
   to complete them. 0 (also if already enabled), -ENODEV without ECAP.DT,
   -EINVAL for NULL, -ENOMEM, or the queue's error. */
SIOV_API int siov_dev_enable_ats(struct siov_driver *drv, siov_sid sid);

enum siov_domain_type {
    SIOV_DOMAIN_SECOND_LEVEL, /* PGTT second-level only */
    SIOV_DOMAIN_FIRST_LEVEL,  /* PGTT first-level only */
    SIOV_DOMAIN_PASS_THROUGH, /* PGTT pass-through */
};
/* A new domain of the given type with its own DID (1 .. 2^(4+2*CAP.ND)-1).
   NULL with errno EINVAL (bad argument), ENODEV (type not supported by the
   hardware), ENOSPC (no DID left) or ENOMEM (pool or host memory). */
SIOV_API struct siov_domain *siov_domain_new(struct siov_driver *drv, enum siov_domain_type type);
/* A nested domain: its first-level tables hold guest addresses that the
   second-level parent translates (PGTT nested). The parent must be a
   second-level domain; the driver identity-maps each of the nested domain's
   table pages (read/write) in the parent, so the parent's address space must
   leave those pool pages free. NULL with errno as for siov_domain_new, or
   ERANGE when a table page lies beyond the parent's input range. */
SIOV_API struct siov_domain *siov_domain_new_nested(struct siov_domain *parent);
/* Free a domain and its tables; -EBUSY while attached (or while nested children exist). */
SIOV_API int siov_domain_free(struct siov_domain *dom);
/* The domain's DID (what siov_xlate.did reports), or -EINVAL for NULL. */
SIOV_API int siov_domain_did(const struct siov_domain *dom);

#define SIOV_PROT_READ (1u << 0)
#define SIOV_PROT_WRITE (1u << 1)
#define SIOV_PROT_EXEC (1u << 2)
#define SIOV_PROT_PRIV (1u << 3) /* first level: supervisor-only page */
/* Map [iova, iova+size) to [pa, pa+size); uses 2M/1G pages where it can.
   prot needs READ or WRITE. First level: every present page is readable,
   PRIV makes it supervisor-only. Second level: PRIV is ignored. On a nested
   domain pa is a guest address the parent translates.
   -EINVAL: NULL, pass-through domain, size 0, unaligned, bad prot;
   -ERANGE: beyond the domain's input width (first level: the lower canonical
   half) or the parent's width; -EEXIST: overlaps a mapping; -ENOMEM: pool
   exhausted. On error nothing is left mapped and no page is held. */
SIOV_API int siov_domain_map(struct siov_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                             unsigned prot);
/* Unmap [iova, iova+size) and invalidate (IOTLB page-selective by DID for
   second-level and nested domains and for every nested domain over a parent,
   PASID-based IOTLB for first-level ones, device-TLBs), fenced by inv-wait.
   Splits a large page only partly covered. Returns the bytes unmapped (0 if
   nothing was mapped); -EINVAL, -ERANGE as for map; -EBUSY if the range holds
   a nested domain's table page; -ENOMEM if a split finds no page; -EIO or
   -ETIMEDOUT if the invalidation failed (the mapping is gone nonetheless). */
SIOV_API int64_t siov_domain_unmap(struct siov_domain *dom, uint64_t iova, uint64_t size);
/* Look iova up in the domain's own tables; -ENOENT when unmapped. Nested
   domains give the guest address; pass-through domains give iova. */
SIOV_API int siov_domain_iova_to_phys(struct siov_domain *dom, uint64_t iova, uint64_t *pa);

/* Attach for requests without PASID (through RID_PASID, PASID 0; a legacy
   context entry on hardware without scalable mode). -EEXIST if dom is
   already attached to sid, -EBUSY if another domain is, -ENOMEM. */
SIOV_API int siov_attach(struct siov_domain *dom, siov_sid sid);
/* Undo siov_attach, with the invalidations the spec requires; -ENOENT if
   not attached. With PRI on the device, its page requests are drained first
   (siov_dev_disable_pri). */
SIOV_API int siov_detach(struct siov_domain *dom, siov_sid sid);
/* Attach for requests tagged with the domain's PASID, allocated at the
   domain's first aux attach and shared by every device it is aux-attached to.
   -ENODEV without PASID support, -EINVAL if aux is not enabled on sid,
   -EEXIST if already aux-attached there, -ENOSPC (PASIDs), -ENOMEM. */
SIOV_API int siov_aux_attach(struct siov_domain *dom, siov_sid sid);
/* Undo siov_aux_attach, with the invalidations the spec requires (PASID
   cache, PASID-based IOTLB or IOTLB by DID, device-TLB, inv-wait); the PASID
   is released with the last aux attachment. With PRI on the device the
   PASID's page requests are then drained (spec 7.10): those still queued
   are answered (Invalid Request: the PASID has no domain any more), a
   device-TLB invalidation and an inv-wait with PD=1 make the device's
   in-flight ones visible, and those are answered too. -ENOENT if not
   aux-attached. */
SIOV_API int siov_aux_detach(struct siov_domain *dom, siov_sid sid);
/* The domain's PASID, or -ENOENT while it is not aux-attached anywhere. */
SIOV_API int siov_aux_pasid(const struct siov_domain *dom);

/* ---------------------------------------------------------- interrupts
 * With ECAP.IR the driver turns interrupt remapping on at bring-up (x2APIC
 * mode with ECAP.EIM) over a table of 256 entries from its pool, and
 * compatibility-format interrupts are blocked. Each allocated interrupt is
 * one entry; the message a device must write (an MSI-X or IMS entry) is the
 * remappable format, handle = the entry's index, SHV=0, data 0. */

/* A message-signalled interrupt: what a device writes, where. */
struct siov_msi {
    uint64_t addr;
    uint32_t data;
};
/* An interrupt of device sid to APIC id dest (8 bits in xAPIC mode) with
   vector (16..255): a remapped entry with source validation of sid (SVT=01,
   SQ=00; an ADI's IMS message carries no PASID, so it names its parent
   device and isolation between ADIs of one device is the device's job).
   0 and *msi; -EINVAL (NULL, vector below 16, dest too wide), -ENODEV (no
   interrupt remapping), -ENOSPC (table full), or the queue's error. */
SIOV_API int siov_dev_irq_alloc(struct siov_driver *drv, siov_sid sid, uint32_t dest, uint8_t vector,
                                struct siov_msi *msi);
/* The same, posted into the posted-interrupt descriptor at pd_addr (64-byte
   aligned, in guest memory) with vector as the PIR bit; -ENODEV without CAP.PI. */
SIOV_API int siov_dev_irq_alloc_posted(struct siov_driver *drv, siov_sid sid, uint64_t pd_addr, uint8_t vector,
                                       struct siov_msi *msi);
/* Move an allocated (remapped, not posted) interrupt to dest and vector: the
   entry updated in one 8-byte write, then an index-selective IEC
   invalidation waited for. -EINVAL (bad arguments, a posted interrupt),
   -ENOENT (msi is no interrupt of sid); nothing changes on error. */
SIOV_API int siov_dev_irq_set_affinity(struct siov_driver *drv, siov_sid sid, const struct siov_msi *msi,
                                       uint32_t dest, uint8_t vector);
/* Free an interrupt of sid: its entry cleared and invalidated (index-selective
   IEC, inv-wait) before the call returns, so a replayed message faults
   (IR.22). -EINVAL, -ENOENT as for set_affinity; nothing changes on error. */
SIOV_API int siov_dev_irq_free(struct siov_driver *drv, siov_sid sid, const struct siov_msi *msi);
/* The fault event's message (FEADDR/FEUADDR, FEDATA), then FECTL unmasked:
   faults reach the unit's msi callback with addr and data. -EINVAL for NULL,
   addr not DWORD aligned, or data above 0xFFFF. */
SIOV_API int siov_driver_set_fault_msi(struct siov_driver *drv, uint64_t addr, uint32_t data);

/* ------------------------------------------------------- page requests
 * With ECAP.PRS the driver sets up a page request queue at bring-up (one
 * page of its pool: 127 requests) and leaves the page request event masked:
 * the embedder decides when requests are handled by calling
 * siov_driver_service_prq (after a device sent one, or from its own loop),
 * or asks for the event's message with siov_driver_set_prq_msi. */

/* Enable page requests (PCIe PRI) for a device: PRE in its scalable context
   entry, with the context- and PASID-cache invalidations. 0 (also if already
   enabled); -ENODEV without ECAP.PRS; -EINVAL for NULL or when ATS is not
   enabled on sid (siov_dev_enable_ats first); the queue's error. */
SIOV_API int siov_dev_enable_pri(struct siov_driver *drv, siov_sid sid);
/* Disable page requests for a device: PRE cleared (new requests are refused
   with SCT.8 and answered Invalid Request by the unit), then its
   outstanding requests drained as siov_aux_detach does and answered by the
   handler. 0; -EINVAL if PRI is not enabled on sid; -ENODEV without
   ECAP.PRS; the queue's error. */
SIOV_API int siov_dev_disable_pri(struct siov_driver *drv, siov_sid sid);

/* What the driver calls for each page request of a device whose (sid,
   PASID) has a domain attached (RID_PASID's domain for requests without
   PASID): make req->addr present in dom with the access asked for and
   return SIOV_PRQ_SUCCESS, or SIOV_PRQ_INVALID (the page will not be
   mapped), or SIOV_PRQ_FAILURE (the device stops using PRI); other values
   count as SIOV_PRQ_FAILURE. The handler may call siov_domain_map,
   siov_domain_unmap and siov_domain_iova_to_phys on dom: the driver holds no
   state of its own across the call (it looks the queue, the device and the
   domain up again afterwards). Any other call on the driver from the
   handler is not allowed (siov_driver_service_prq returns -EBUSY). */
typedef unsigned (*siov_prq_handler)(void *opaque, struct siov_domain *dom, siov_sid sid,
                                     const struct siov_page_request *req);
/* Set the handler (NULL: every request is answered Invalid Request). 0, or
   -EINVAL for NULL drv. */
SIOV_API int siov_driver_set_prq_handler(struct siov_driver *drv, siov_prq_handler fn, void *opaque);
/* Drain the page request queue now, Linux's way: PRS.PPR cleared, PQH..PQT
   read, each request given to the handler, each group answered once, at its
   last request, with the worst code of its requests (a request whose (sid,
   PASID) has no domain: Invalid Request; stop markers: no answer), PQH
   written, and PRS.PRO cleared once the queue is empty (groups half seen
   are then forgotten: their dropped requests come again). Returns the
   number of descriptors consumed, or -errno: -ENODEV without ECAP.PRS,
   -EBUSY from inside the handler, -EFAULT (queue unreadable), the queue's
   error for the responses. */
SIOV_API int siov_driver_service_prq(struct siov_driver *drv);
/* The page request event's message (PEADDR/PEUADDR, PEDATA), then PECTL
   unmasked: a page request that finds PRS clear reaches the unit's msi
   callback with addr and data. The callback runs on the device's thread:
   calls on the driver must still be serialized by the embedder. -EINVAL for
   NULL, addr not DWORD aligned, data above 0xFFFF; -ENODEV without ECAP.PRS. */
SIOV_API int siov_driver_set_prq_msi(struct siov_driver *drv, uint64_t addr, uint32_t data);

#ifdef __cplusplus
}
#endif
#endif

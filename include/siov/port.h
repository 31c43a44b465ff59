/* libsiov — a device as the remapping unit sees it (its port), device-TLB
 * invalidation completions and time-outs, and invalidation notifiers.
 *
 * Who calls what, from where. The unit calls a port's functions and the
 * notifiers on the thread that made it process the invalidation (usually the
 * one writing IQT; also one calling siov_devtlb_complete or siov_iommu_expire
 * when that lets the queue go on), with no lock of the unit held, in the order
 * of the descriptors. When two threads make the queue run at once, one of
 * them delivers for both. A callback may translate, do DMA, send page
 * requests and call siov_devtlb_complete or siov_iommu_expire; it must not
 * write the unit's registers, nor attach or detach its own port.
 *
 * Time. The model has no clock: a device-TLB invalidation is outstanding
 * until the device completes it, and the inv-wait behind it waits until then;
 * siov_iommu_expire declares every outstanding one timed out.
 */
#ifndef SIOV_PORT_H
#define SIOV_PORT_H

#include <siov/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What the unit sends to a device. Any member may be NULL. */
struct siov_device_ops {
    /* A device-TLB invalidation (descriptor 0x3 or 0x8) for this device:
       drop translations of [addr, addr + size) for pasid (SIOV_NO_PASID: the
       untranslated-request space; global: every PASID's global entries), stop
       using them, then call siov_devtlb_complete(iommu, sid, itag) — now or
       later. size UINT64_MAX with addr 0: every address. With global set (0x8
       with G=1) libsiov's ATC drops the range for every PASID (PCIe's Global
       Invalidate), a superset: VT-d completions never carry G=1. */
    void (*devtlb_invalidate)(void *opaque, siov_sid sid, uint32_t pasid, uint64_t addr,
                              uint64_t size, bool global, unsigned itag);
    /* A page group response (descriptor 0x9), or the unit's own answer to a
       last-in-group request it could not queue. */
    void (*page_response)(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prg_index,
                          unsigned code);
};

/* Attach a device model to source id sid (one port per sid; NULL ops
   detaches). The ops are copied. 0; -EINVAL for NULL iommu; -EBUSY when
   another port holds sid; -ENOENT detaching a sid without a port; -ENOMEM.
   Detaching waits until no delivery to the port is running on another thread,
   and completes the port's outstanding invalidations (a detached device holds
   no translations). A sid without a port (or whose devtlb_invalidate is NULL)
   completes device-TLB invalidations at once, as a device with an empty ATC. */
SIOV_API int siov_device_port(struct siov_iommu *iommu, siov_sid sid, const struct siov_device_ops *ops,
                              void *opaque);
/* The device finished invalidation itag. An itag the unit has not
   outstanding for sid is an invalid completion: FSTS.ICE, IQERCD.ICESID (when
   ICE was clear) and the fault event; with translation disabled (GSTS.TES=0)
   the completion is an unsupported request and is ignored (spec 4.2.1). */
SIOV_API void siov_devtlb_complete(struct siov_iommu *iommu, siov_sid sid, unsigned itag);
/* Every outstanding device-TLB invalidation times out now: their itags are
   freed, FSTS.ITE is set (IQERCD.ITESID names one device when ITE was
   clear) with the fault event, the inv-wait the queue stopped at is aborted
   (retired without status write or interrupt), and nothing more is fetched
   until software clears ITE (spec 6.5.2.11). Nothing outstanding: no effect. */
SIOV_API void siov_iommu_expire(struct siov_iommu *iommu);
/* Device-TLB invalidations sent and not completed yet (tests, diagnostics). */
SIOV_API unsigned siov_iommu_devtlb_outstanding(struct siov_iommu *iommu);

/* Kinds of invalidation an event reports. */
#define SIOV_INV_CONTEXT 1u     /* context cache (descriptor 0x1, CCMD) */
#define SIOV_INV_IOTLB 2u       /* IOTLB (0x2, IOTLB_REG) */
#define SIOV_INV_PIOTLB 3u      /* PASID-based IOTLB (0x6) */
#define SIOV_INV_PASID_CACHE 4u /* PASID cache (0x7) */
#define SIOV_INV_DEVTLB 5u      /* device TLB (0x3, 0x8) */
#define SIOV_INV_IEC 6u         /* interrupt entry cache (0x4) */
/* Granularities: which fields of the event name the scope. */
#define SIOV_INV_G_GLOBAL 0u /* everything of the kind (devtlb: the range for every PASID of sid) */
#define SIOV_INV_G_DOMAIN 1u /* did */
#define SIOV_INV_G_DEVICE 2u /* sid (context cache: its function mask FM, 0..3, in addr) */
#define SIOV_INV_G_PASID 3u  /* did and pasid */
#define SIOV_INV_G_RANGE 4u  /* [addr, addr + size) of did (and pasid); devtlb: of sid and pasid */
#define SIOV_INV_G_INDEX 5u  /* interrupt entries [addr, addr + size) */

/* Observers that cache translations without ATS (a VMM backend, a device
   model's own cache): called once per processed invalidation with its decoded
   scope, like QEMU's IOMMU notifiers. */
struct siov_inval_event {
    unsigned kind;        /* SIOV_INV_CONTEXT, _IOTLB, _PIOTLB, _PASID_CACHE, _DEVTLB, _IEC */
    unsigned granularity; /* SIOV_INV_G_*: global, domain/device, PASID, page range, index */
    uint16_t did;
    siov_sid sid;
    uint32_t pasid;       /* SIOV_NO_PASID where the scope has none */
    uint64_t addr, size;  /* size UINT64_MAX with addr 0: every address */
};
/* Add a notifier (they are never removed; the unit keeps them until it is
   freed). 0, -EINVAL for NULL iommu or fn, -ENOMEM. */
SIOV_API int siov_iommu_add_notifier(struct siov_iommu *iommu,
                                     void (*fn)(void *opaque, const struct siov_inval_event *ev), void *opaque);

#ifdef __cplusplus
}
#endif
#endif

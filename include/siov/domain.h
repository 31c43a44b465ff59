/* libsiov — the reference driver: domains, map/unmap, attach and aux attach.
 * The driver programs the hardware model only through MMIO and guest memory.
 * Calls on one driver and its domains must be serialized by the caller;
 * translations on the unit may run concurrently with them. */
#ifndef SIOV_DOMAIN_H
#define SIOV_DOMAIN_H

#include <siov/iommu.h>

#ifdef __cplusplus
extern "C" {
#endif

struct siov_driver;
struct siov_domain;

/* Bind a driver to an IOMMU. Table pages come from guest memory
   [pool_gpa, pool_gpa + pool_size). Sets up the root table and the
   invalidation queue and enables translation, through MMIO writes only.
   NULL on bad arguments, a pool too small, or hardware that does not respond. */
SIOV_API struct siov_driver *siov_driver_new(struct siov_iommu *iommu, struct siov_mem *mem,
                                             uint64_t pool_gpa, uint64_t pool_size);
/* Free the driver and every domain it still owns (NULL is ignored). */
SIOV_API void siov_driver_free(struct siov_driver *drv);

enum siov_cap {
    SIOV_CAP_AUX_DOMAIN,
    SIOV_CAP_FIRST_LEVEL,
    SIOV_CAP_SECOND_LEVEL,
    SIOV_CAP_NESTED,
    SIOV_CAP_PASS_THROUGH
};
/* Whether the hardware (from CAP/ECAP) supports a capability. */
SIOV_API bool siov_driver_capable(const struct siov_driver *drv, enum siov_cap cap);

/* Allow auxiliary domains (PASID-granular attach) on a device. */
SIOV_API int siov_dev_enable_aux(struct siov_driver *drv, siov_sid sid);
/* Disallow auxiliary domains on a device; -EBUSY while aux domains are attached. */
SIOV_API int siov_dev_disable_aux(struct siov_driver *drv, siov_sid sid);

enum siov_domain_type {
    SIOV_DOMAIN_SECOND_LEVEL, /* PGTT second-level only */
    SIOV_DOMAIN_FIRST_LEVEL,  /* PGTT first-level only */
    SIOV_DOMAIN_PASS_THROUGH, /* PGTT pass-through */
};
/* A new domain of the given type with its own DID; NULL on error. */
SIOV_API struct siov_domain *siov_domain_new(struct siov_driver *drv, enum siov_domain_type type);
/* A nested domain: its first-level tables hold guest addresses that the
   second-level parent translates (PGTT nested). */
SIOV_API struct siov_domain *siov_domain_new_nested(struct siov_domain *parent);
/* Free a domain and its tables; -EBUSY while attached (or while nested children exist). */
SIOV_API int siov_domain_free(struct siov_domain *dom);

#define SIOV_PROT_READ (1u << 0)
#define SIOV_PROT_WRITE (1u << 1)
#define SIOV_PROT_EXEC (1u << 2)
#define SIOV_PROT_PRIV (1u << 3) /* first level: supervisor-only page */
/* Map [iova, iova+size) to [pa, pa+size); uses 2M/1G pages where it can. */
SIOV_API int siov_domain_map(struct siov_domain *dom, uint64_t iova, uint64_t pa, uint64_t size,
                             unsigned prot);
/* Unmap [iova, iova+size), invalidating as the spec requires; bytes unmapped. */
SIOV_API int64_t siov_domain_unmap(struct siov_domain *dom, uint64_t iova, uint64_t size);
/* Look iova up in the domain's own tables; -ENOENT when unmapped. */
SIOV_API int siov_domain_iova_to_phys(struct siov_domain *dom, uint64_t iova, uint64_t *pa);

/* Attach for requests without PASID (through RID_PASID). */
SIOV_API int siov_attach(struct siov_domain *dom, siov_sid sid);
/* Undo siov_attach, with the invalidations the spec requires. */
SIOV_API int siov_detach(struct siov_domain *dom, siov_sid sid);
/* Attach for requests tagged with the domain's PASID. */
SIOV_API int siov_aux_attach(struct siov_domain *dom, siov_sid sid);
/* Undo siov_aux_attach, with the invalidations the spec requires. */
SIOV_API int siov_aux_detach(struct siov_domain *dom, siov_sid sid);
/* The domain's PASID, or -ENOENT before any aux attach. */
SIOV_API int siov_aux_pasid(const struct siov_domain *dom);

#ifdef __cplusplus
}
#endif
#endif

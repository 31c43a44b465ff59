/* The caches' stamps: the writer lock, the invalidation clock (the epoch a
 * translation reads) and the "invalidated at" words per DID and per (DID,
 * PASID) scope that make global, domain and PASID invalidations O(1), the
 * front cache's among them. caches.h explains the scheme. */
#include <errno.h>

#include "caches.h"

#define FRONT_BYTES ((SIOV_XC_INV_ALL + 1) * sizeof(uint64_t))

/* The per-DID stamps' size: one for each DID the mask admits (one sum for
   the allocation and both frees, which must give munmap the same span). */
static size_t did_bytes(const struct siov_stamps *s)
{
    return ((size_t)s->did_mask + 1) * sizeof(*s->did);
}

int siov_stamps_init(struct siov_caches *c, const struct siov_iommu_config *cfg)
{
    struct siov_stamps *s = &c->st;
    s->did_mask = (1u << cfg->domain_bits) - 1; /* a configuration siov_iommu_new accepted: 4..16 */
    s->clock = 1;
    s->did = siov_pages_alloc(did_bytes(s));
    s->front = siov_pages_alloc(FRONT_BYTES);
    if (!s->did || !s->front || pthread_mutex_init(&s->wlock, NULL)) {
        siov_pages_free(s->did, did_bytes(s));
        siov_pages_free(s->front, FRONT_BYTES);
        s->did = NULL;
        s->front = NULL;
        return -ENOMEM;
    }
    return 0;
}

void siov_stamps_fini(struct siov_caches *c)
{
    pthread_mutex_destroy(&c->st.wlock);
    siov_pages_free(c->st.did, did_bytes(&c->st));
    siov_pages_free(c->st.front, FRONT_BYTES);
}

uint64_t siov_caches_epoch(const struct siov_caches *c)
{
    return siov_ld_acq(&c->st.clock);
}

uint64_t siov_stamp_inv_begin(struct siov_caches *c)
{
    pthread_mutex_lock(&c->st.wlock);
    return siov_ld(&c->st.clock) + 1;
}

void siov_stamp_inv_end(struct siov_caches *c, uint64_t t)
{
    siov_st_rel(&c->st.clock, t);
    pthread_mutex_unlock(&c->st.wlock);
}

void siov_stamp_lock(struct siov_caches *c)
{
    pthread_mutex_lock(&c->st.wlock);
}

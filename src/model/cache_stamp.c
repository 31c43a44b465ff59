/* The caches' stamps: the writer lock, the invalidation clock (the epoch a
 * translation reads) and the "invalidated at" words per DID and per (DID,
 * PASID) scope that make global, domain and PASID invalidations O(1).
 * caches.h explains the scheme. */
#include <errno.h>
#include <stdlib.h>

#include "caches.h"

int siov_stamps_init(struct siov_caches *c, const struct siov_iommu_config *cfg)
{
    struct siov_stamps *s = &c->st;
    s->did_mask = (1u << cfg->domain_bits) - 1; /* a configuration siov_iommu_new accepted: 4..16 */
    s->clock = 1;
    s->did = calloc((size_t)s->did_mask + 1, sizeof(*s->did));
    if (!s->did)
        return -ENOMEM;
    if (pthread_mutex_init(&s->wlock, NULL)) {
        free(s->did);
        s->did = NULL;
        return -ENOMEM;
    }
    return 0;
}

void siov_stamps_fini(struct siov_caches *c)
{
    pthread_mutex_destroy(&c->st.wlock);
    free(c->st.did);
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

/* The unit's lifecycle: configuration, creation, statistics. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

void siov_iommu_config_default(struct siov_iommu_config *cfg)
{
    if (!cfg)
        return;
    memset(cfg, 0, sizeof(*cfg));
    cfg->mgaw = 48;
    cfg->sagaw = SIOV_SAGAW_4LVL;
    cfg->pasid_bits = 20;
    cfg->first_level = true;
    cfg->second_level = true;
    cfg->nested = true;
    cfg->pass_through = true;
    cfg->fl_5level = true;
    cfg->fl_1g = true;
    cfg->sl_large = SIOV_SLLPS_2M | SIOV_SLLPS_1G;
    cfg->iotlb_entries = 4096;
    cfg->fault_records = 8;
    cfg->haw = 48;
    cfg->domain_bits = 16;
    cfg->version = 0x10;
    cfg->scalable = true;
    cfg->sl_ad = true;
    cfg->supervisor_req = true;
    cfg->exec_req = true;
    cfg->dev_tlb = true;
    cfg->abort_dma = true;
    cfg->rid_pasid = true;
    cfg->nwfs = true;
}

/* Whether a configuration describes hardware the spec allows. */
static bool config_valid(const struct siov_iommu_config *c)
{
    if (c->mgaw < 30 || c->mgaw > 57 || c->haw < 32 || c->haw > 52)
        return false;
    if (!c->sagaw || (c->sagaw & ~(unsigned)(SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL)))
        return false;
    if (c->pasid_bits < 1 || c->pasid_bits > 20)
        return false;
    if (c->sl_large & ~(unsigned)(SIOV_SLLPS_2M | SIOV_SLLPS_1G))
        return false;
    if (c->fault_records < 1 || c->fault_records > 256)
        return false;
    if (c->iotlb_entries > (1u << 24))
        return false;
    if (c->domain_bits < 4 || c->domain_bits > 16 || (c->domain_bits & 1))
        return false;
    if (c->nested && !(c->first_level && c->second_level))
        return false; /* NEST nests the two stages: docs/spec-notes.md */
    return c->version <= 0xFF;
}

struct siov_iommu *siov_iommu_new(struct siov_mem *mem, const struct siov_iommu_config *cfg)
{
    struct siov_iommu_config def;
    if (!mem)
        return NULL;
    if (!cfg) {
        siov_iommu_config_default(&def);
        cfg = &def;
    }
    if (!config_valid(cfg))
        return NULL;
    struct siov_iommu *u = aligned_alloc(_Alignof(struct siov_iommu), sizeof(*u)); /* the stat shards' lines */
    if (!u)
        return NULL;
    memset(u, 0, sizeof(*u));
    u->mem = mem;
    u->cfg = *cfg;
    u->nfr = cfg->fault_records;
    u->frcd = calloc(u->nfr, 2 * sizeof(uint64_t));
    u->caches = siov_caches_new(cfg);
    if (!u->frcd || !u->caches || pthread_mutex_init(&u->lock, NULL) != 0) {
        siov_caches_free(u->caches);
        free(u->frcd);
        free(u);
        return NULL;
    }
    siov_caches_set_stats(u->caches, &u->stats);
    u->xc = siov_caches_xc_view(u->caches);
    siov_regs_reset(u);
    return u;
}

void siov_iommu_free(struct siov_iommu *iommu)
{
    if (!iommu)
        return;
    siov_caches_free(iommu->caches);
    siov_out_fini(iommu);
    pthread_mutex_destroy(&iommu->lock);
    free(iommu->frcd);
    free(iommu);
}

const struct siov_iommu_config *siov_iommu_get_config(const struct siov_iommu *iommu)
{
    return iommu ? &iommu->cfg : NULL;
}

void siov_iommu_stats(const struct siov_iommu *iommu, struct siov_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof(*out));
    if (!iommu)
        return;
    const uint64_t *src = (const uint64_t *)(const void *)&iommu->stats;
    uint64_t *dst = (uint64_t *)(void *)out;
    for (size_t i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
        dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
    for (unsigned i = 0; i < SIOV_STAT_SHARDS; i++) { /* front-cache hits are IOTLB hits */
        uint64_t n = __atomic_load_n(&iommu->shard[i].owned, __ATOMIC_RELAXED) +
                     __atomic_load_n(&iommu->shard[i].shared, __ATOMIC_RELAXED);
        out->translations += n;
        out->iotlb_hits += n;
    }
}

const char *siov_version(void)
{
    return SIOV_VERSION_STRING;
}

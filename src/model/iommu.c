/* The unit's lifecycle: configuration, creation, statistics. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
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
    cfg->iotlb_policy = SIOV_POLICY_LRU;
    cfg->iotlb_seed = 1;
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
    cfg->psi = true;
    cfg->nwfs = true;
    cfg->page_requests = true;
    cfg->irq_remapping = true;
    cfg->x2apic = true;
    cfg->posted_interrupts = true;
}

/* ----------------------------------------------- configuration rules */
enum rule_kind {
    RULE_RANGE,   /* lo..hi */
    RULE_EVEN,    /* an even number in lo..hi */
    RULE_BITS,    /* only the bits of hi; nonzero when lo is 1 */
    RULE_NEEDS,   /* a bool: when true, the bools at need[0] and need[1] must be */
};

/* One rule of a valid configuration; siov_iommu_new checks the same table. */
struct cfg_rule {
    const char *field;
    size_t off;
    enum rule_kind kind;
    unsigned lo, hi;
    const char *allowed; /* RULE_BITS and RULE_NEEDS: what the message says */
    size_t need[2];
};

#define CFG_OFF(f) offsetof(struct siov_iommu_config, f)
#define SAGAW_ALL (SIOV_SAGAW_3LVL | SIOV_SAGAW_4LVL | SIOV_SAGAW_5LVL)
static const struct cfg_rule cfg_rules[] = {
    {"mgaw", CFG_OFF(mgaw), RULE_RANGE, 30, 57, NULL, {0, 0}},
    {"sagaw", CFG_OFF(sagaw), RULE_BITS, 1, SAGAW_ALL,
     "a nonzero combination of 0x2 (3-level), 0x4 (4-level) and 0x8 (5-level)", {0, 0}},
    {"pasid_bits", CFG_OFF(pasid_bits), RULE_RANGE, 1, 20, NULL, {0, 0}},
    /* NEST nests the two stages: docs/spec-notes.md */
    {"nested", CFG_OFF(nested), RULE_NEEDS, 0, 0, "first_level and second_level",
     {CFG_OFF(first_level), CFG_OFF(second_level)}},
    {"sl_large", CFG_OFF(sl_large), RULE_BITS, 0, SIOV_SLLPS_2M | SIOV_SLLPS_1G,
     "a combination of 0x1 (2 MiB) and 0x2 (1 GiB)", {0, 0}},
    {"iotlb_entries", CFG_OFF(iotlb_entries), RULE_RANGE, 0, 1u << 24, NULL, {0, 0}},
    {"fault_records", CFG_OFF(fault_records), RULE_RANGE, 1, 256, NULL, {0, 0}},
    {"haw", CFG_OFF(haw), RULE_RANGE, 32, 52, NULL, {0, 0}},
    {"domain_bits", CFG_OFF(domain_bits), RULE_EVEN, 4, 16, NULL, {0, 0}},
    {"version", CFG_OFF(version), RULE_RANGE, 0, 0xFF, NULL, {0, 0}},
    /* ECAP.EIMER needs EIM, ECAP.IRREQ needs IR (docs/spec-notes.md) */
    {"x2apic_only", CFG_OFF(x2apic_only), RULE_NEEDS, 0, 0, "irq_remapping and x2apic",
     {CFG_OFF(irq_remapping), CFG_OFF(x2apic)}},
    {"irq_remap_required", CFG_OFF(irq_remap_required), RULE_NEEDS, 0, 0, "irq_remapping",
     {CFG_OFF(irq_remapping), CFG_OFF(irq_remapping)}},
    {"iotlb_ways", CFG_OFF(iotlb_ways), RULE_RANGE, 0, 1u << 24, NULL, {0, 0}},
    {"iotlb_policy", CFG_OFF(iotlb_policy), RULE_RANGE, SIOV_POLICY_LRU, SIOV_POLICY_RANDOM, NULL, {0, 0}},
};

static unsigned cfg_uint(const struct siov_iommu_config *c, size_t off)
{
    unsigned v;
    memcpy(&v, (const char *)c + off, sizeof(v));
    return v;
}

static bool cfg_bool(const struct siov_iommu_config *c, size_t off)
{
    bool v;
    memcpy(&v, (const char *)c + off, sizeof(v));
    return v;
}

/* Whether c obeys rule r; if not, the message names the field and what it allows. */
static bool rule_holds(const struct siov_iommu_config *c, const struct cfg_rule *r, char *buf, size_t len)
{
    if (r->kind == RULE_NEEDS) {
        bool ok = !cfg_bool(c, r->off) || (cfg_bool(c, r->need[0]) && cfg_bool(c, r->need[1]));
        if (!ok && len)
            snprintf(buf, len, "%s = true: needs %s", r->field, r->allowed);
        return ok;
    }
    unsigned v = cfg_uint(c, r->off);
    bool ok;
    switch (r->kind) {
    case RULE_BITS: ok = !(v & ~r->hi) && (v || !r->lo); break;
    case RULE_EVEN: ok = v >= r->lo && v <= r->hi && !(v & 1); break;
    default: ok = v >= r->lo && v <= r->hi; break;
    }
    if (ok || !len)
        return ok;
    if (r->kind == RULE_BITS)
        snprintf(buf, len, "%s = 0x%x: must be %s", r->field, v, r->allowed);
    else
        snprintf(buf, len, "%s = %u: must be %s%u..%u", r->field, v, r->kind == RULE_EVEN ? "an even number in " : "",
                 r->lo, r->hi);
    return false;
}

int siov_iommu_config_check(const struct siov_iommu_config *cfg, char *buf, size_t len)
{
    if (!buf)
        len = 0;
    if (len)
        buf[0] = '\0';
    if (!cfg) {
        if (len)
            snprintf(buf, len, "no configuration (NULL)");
        return -EINVAL;
    }
    for (size_t i = 0; i < sizeof(cfg_rules) / sizeof(cfg_rules[0]); i++)
        if (!rule_holds(cfg, &cfg_rules[i], buf, len))
            return -EINVAL;
    if (cfg->iotlb_ways && (cfg->iotlb_entries < cfg->iotlb_ways || cfg->iotlb_entries % cfg->iotlb_ways)) {
        if (len)
            snprintf(buf, len, "iotlb_entries = %u: must be a nonzero multiple of iotlb_ways (%u)",
                     cfg->iotlb_entries, cfg->iotlb_ways);
        return -EINVAL;
    }
    return 0;
}

struct siov_iommu *siov_iommu_new(struct siov_mem *mem, const struct siov_iommu_config *cfg)
{
    struct siov_iommu_config def;
    if (!cfg) {
        siov_iommu_config_default(&def);
        cfg = &def;
    }
    if (!mem || siov_iommu_config_check(cfg, NULL, 0) < 0) {
        errno = EINVAL;
        return NULL;
    }
    struct siov_iommu *u = aligned_alloc(_Alignof(struct siov_iommu), sizeof(*u)); /* the stat shards' lines */
    if (!u) {
        errno = ENOMEM;
        return NULL;
    }
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
        errno = ENOMEM;
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
        const struct siov_stat_shard *s = &iommu->shard[i];
        uint64_t n = __atomic_load_n(&s->owned, __ATOMIC_RELAXED) + __atomic_load_n(&s->shared, __ATOMIC_RELAXED);
        out->translations += n;
        out->iotlb_hits += n;
#define SIOV_HOT_SUM(f) out->f += __atomic_load_n(&s->hot[SIOV_HOT_##f], __ATOMIC_RELAXED);
        SIOV_HOT_STATS(SIOV_HOT_SUM)
#undef SIOV_HOT_SUM
    }
}

int siov_iommu_clear_faults(struct siov_iommu *iommu)
{
    if (!iommu)
        return -EINVAL;
    int cleared = 0;
    for (unsigned i = 0; i < iommu->nfr; i++) { /* F is write-1-to-clear (spec 10.4.14) */
        uint64_t hi = SIOV_REG_FRCD + (uint64_t)i * SIOV_FRCD_SIZE + 8;
        if (siov_mmio_read(iommu, hi, 8) & SIOV_FRCD1_F) {
            siov_mmio_write(iommu, hi, SIOV_FRCD1_F, 8);
            cleared++;
        }
    }
    /* the queue's errors (IQE, ICE, ITE) are its owner's: clearing IQE resumes it;
       AFO and APF stay clear (no advanced fault logging, CAP.AFL=0) */
    siov_mmio_write(iommu, SIOV_REG_FSTS, SIOV_FSTS_PFO, 4);
    return cleared;
}

const char *siov_version(void)
{
    return SIOV_VERSION_STRING;
}

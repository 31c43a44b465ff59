/* A seeded generator of random but valid VT-d table sets, and of requests
 * against them, for differential tests (the model against ref_walk.h).
 *
 * One table set is a fresh guest memory and unit with a random configuration,
 * legacy or scalable mode, several devices, several PASIDs per device, and
 * domains of every PGTT kind the configuration allows (FL 4/5-level, SL
 * 3/4/5-level, nested, pass-through), with random page sizes, permissions,
 * A/D state and unmapped holes. Translation is enabled (RTADDR latched with
 * SRTP, TE set) and an invalidation queue is set up for gen_invalidate_all().
 *
 * A/D bits: when a domain's walks are not snooped (PWSNP=0) every A/D/EA bit
 * is pre-set so no update is needed; otherwise they are random, except in
 * first-level tables the second level maps read-only (nested), where they
 * are pre-set too. Either way the model's outcome does not depend on them.
 */
#ifndef SIOV_GEN_TABLES_H
#define SIOV_GEN_TABLES_H

#include <siov/siov.h>

/* One request. */
struct gen_req {
    siov_sid sid;
    uint32_t pasid;
    uint64_t addr;
    unsigned access;
};

/* One page mapping of a domain (input page -> output page). */
struct gen_map {
    uint64_t iova, size, pa;
};

#define GEN_MAX_MAPS 48

/* A domain: one set of page tables and the PASID-entry fields that go with it. */
struct gen_dom {
    unsigned pgtt, fl_levels, sl_levels;
    uint16_t did;
    uint64_t flptptr, slptptr; /* flptptr is guest-physical for nested */
    bool slee, slade, sre, ere, wpe, nxe, smep, pwsnp, preset_ad;
    unsigned nmaps;            /* FL maps for FL/nested, SL maps for SL */
    struct gen_map maps[GEN_MAX_MAPS];
    unsigned nsl_maps;         /* nested: the second level's data maps */
    struct gen_map sl_maps[GEN_MAX_MAPS];
};

/* Something a request can target: a device and a PASID (or none) and the
   domain that translates it. */
struct gen_target {
    siov_sid sid;
    uint32_t pasid; /* SIOV_NO_PASID: requests without PASID */
    int dom;        /* index into doms, -1 if not set up */
};

#define GEN_MAX_DOMS 6
#define GEN_MAX_TARGETS 24

struct gen_set {
    uint64_t seed, rng;
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    struct siov_iommu_config cfg;
    uint64_t cap, ecap;
    bool legacy;
    uint64_t mem_size, next_page, root;
    uint64_t tw;             /* nested: guest-physical offset of first-level table pages */
    uint8_t *page_ro;        /* per 4 KiB page: the second level maps it read-only */
    unsigned ndoms, ntargets;
    struct gen_dom doms[GEN_MAX_DOMS];
    struct gen_target targets[GEN_MAX_TARGETS];
    /* invalidation queue */
    uint64_t iq, iq_status;
    unsigned iq_tail;
    uint32_t iq_seq;
};

/* A new random table set from seed; NULL only on allocation failure. */
struct gen_set *gen_set_new(uint64_t seed);
void gen_set_free(struct gen_set *g);

/* Uniform random number below n (n > 0) from the set's stream. */
uint64_t gen_below(struct gen_set *g, uint64_t n);
/* True with probability pct percent. */
bool gen_chance(struct gen_set *g, unsigned pct);

/* Fill reqs with up to max random requests (mapped pages and their
   neighbours, holes, out-of-range and non-canonical addresses, unknown
   devices and PASIDs, every access kind). Returns how many. */
unsigned gen_requests(struct gen_set *g, struct gen_req *reqs, unsigned max);

/* Global context-cache, PASID-cache (scalable) and IOTLB invalidation through
   the invalidation queue, waited for. Returns 0, or -1 if the wait failed. */
int gen_invalidate_all(struct gen_set *g);

/* Short description of the configuration and mode, for failure messages. */
void gen_describe(const struct gen_set *g, char *buf, size_t len);

#endif

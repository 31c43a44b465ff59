/* Caches — placeholder until the caches land: nothing is cached (every lookup misses). */
#include <stdlib.h>
#include "internal.h"

struct siov_caches { int unused; };
struct siov_caches *siov_caches_new(const struct siov_iommu_config *cfg) { (void)cfg; return calloc(1, sizeof(struct siov_caches)); }
void siov_caches_free(struct siov_caches *c) { free(c); }
bool siov_cc_lookup(struct siov_caches *c, siov_sid sid, struct siov_ctx_ent *ce) { (void)c; (void)sid; (void)ce; return false; }
void siov_cc_fill(struct siov_caches *c, siov_sid sid, const struct siov_ctx_ent *ce) { (void)c; (void)sid; (void)ce; }
bool siov_pc_lookup(struct siov_caches *c, siov_sid sid, uint32_t pasid, struct siov_pasid_ent *pe) { (void)c; (void)sid; (void)pasid; (void)pe; return false; }
void siov_pc_fill(struct siov_caches *c, siov_sid sid, uint32_t pasid, const struct siov_pasid_ent *pe) { (void)c; (void)sid; (void)pasid; (void)pe; }
bool siov_tlb_lookup(struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t addr, struct siov_walk_out *out) { (void)c; (void)pe; (void)addr; (void)out; return false; }
void siov_tlb_fill(struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t addr, const struct siov_walk_out *out) { (void)c; (void)pe; (void)addr; (void)out; }

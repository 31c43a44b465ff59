/* The PASID cache: decoded PASID-table entries by source id and request
 * PASID (spec 6.2.2), and its global, domain- and PASID-selective
 * invalidations. */
#include <string.h>

#include "caches.h"

#define PC_ENTRIES 4096

int siov_pc_init(struct siov_caches *c)
{
    return siov_sc_init(&c->pc, PC_ENTRIES);
}

void siov_pc_fini(struct siov_caches *c)
{
    siov_sc_fini(&c->pc);
}

static inline uint64_t pc_key(siov_sid sid, uint32_t pasid)
{
    return SIOV_SC_KEY_VALID | (uint64_t)sid << 32 | pasid;
}

/* An entry survives the global, its DID's and its (DID, PASID)'s invalidations. */
static bool pc_valid(const struct siov_caches *c, const struct siov_pasid_ent *pe, uint64_t stamp)
{
    return stamp >= siov_ld_acq(&c->st.pc_global) &&
           stamp >= siov_ld_acq(&c->st.did[pe->did & c->st.did_mask].pc) &&
           stamp >= siov_ld_acq(&c->st.pc_dp[siov_dp_slot(pe->did, pe->pasid)]);
}

static bool pc_alive(const struct siov_caches *c, const struct siov_sc_way *w)
{
    struct siov_pasid_ent pe;
    memcpy(&pe, w->data, sizeof(pe)); /* writer: the way is stable */
    return pc_valid(c, &pe, siov_ld(&w->stamp));
}

bool siov_pc_lookup(struct siov_caches *c, siov_sid sid, uint32_t pasid, struct siov_pasid_ent *pe)
{
    uint64_t data[SIOV_SC_WORDS], stamp;
    struct siov_pasid_ent tmp;
    if (!siov_sc_probe(&c->pc, pc_key(sid, pasid), &stamp, data))
        return false;
    memcpy(&tmp, data, sizeof(tmp));
    if (!pc_valid(c, &tmp, stamp))
        return false;
    *pe = tmp;
    return true;
}

void siov_pc_fill_epoch(struct siov_caches *c, uint64_t epoch, siov_sid sid, uint32_t pasid,
                        const struct siov_pasid_ent *pe)
{
    uint64_t data[SIOV_SC_WORDS] = {0};
    memcpy(data, pe, sizeof(*pe));
    if (!siov_stamp_fill_begin(c, epoch))
        return;
    siov_sc_insert(c, &c->pc, pc_key(sid, pasid), epoch, data, pc_alive);
    siov_stamp_unlock(c);
}

void siov_pc_fill(struct siov_caches *c, siov_sid sid, uint32_t pasid, const struct siov_pasid_ent *pe)
{
    siov_pc_fill_epoch(c, siov_caches_epoch(c), sid, pasid, pe);
}

/* ------------------------------------------------------------ invalidation */
void siov_pc_inv_global_at(struct siov_caches *c, uint64_t t)
{
    siov_st_rel(&c->st.pc_global, t);
    siov_front_inv_all(c, t);
}

void siov_pc_inv_global(struct siov_caches *c)
{
    uint64_t t = siov_stamp_inv_begin(c);
    siov_pc_inv_global_at(c, t);
    siov_stamp_inv_end(c, t);
}

void siov_pc_inv_domain(struct siov_caches *c, uint16_t did)
{
    uint64_t t = siov_stamp_inv_begin(c);
    siov_st_rel(&c->st.did[did & c->st.did_mask].pc, t);
    siov_front_inv_did(c, did, t);
    siov_stamp_inv_end(c, t);
}

void siov_pc_inv_pasid(struct siov_caches *c, uint16_t did, uint32_t pasid)
{
    uint64_t t = siov_stamp_inv_begin(c);
    siov_st_rel(&c->st.pc_dp[siov_dp_slot(did, pasid)], t);
    siov_front_inv_did(c, did, t);
    siov_stamp_inv_end(c, t);
}

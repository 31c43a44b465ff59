/* The context cache: decoded context entries by source id (spec 6.2.1),
 * and its global, domain- and device-selective invalidations. */
#include <string.h>

#include "caches.h"

#define CC_ENTRIES 1024

int siov_cc_init(struct siov_caches *c)
{
    return siov_sc_init(&c->cc, CC_ENTRIES);
}

void siov_cc_fini(struct siov_caches *c)
{
    siov_sc_fini(&c->cc);
}

static inline uint64_t cc_key(siov_sid sid)
{
    return SIOV_SC_KEY_VALID | sid;
}

static bool cc_valid(const struct siov_caches *c, uint64_t stamp)
{
    return stamp >= siov_ld_acq(&c->st.cc_global);
}

static bool cc_alive(const struct siov_caches *c, const struct siov_sc_way *w)
{
    return cc_valid(c, siov_ld(&w->stamp));
}

bool siov_cc_lookup(struct siov_caches *c, siov_sid sid, struct siov_ctx_ent *ce)
{
    uint64_t data[SIOV_SC_WORDS], stamp;
    if (!siov_sc_probe(&c->cc, cc_key(sid), &stamp, data) || !cc_valid(c, stamp))
        return false;
    memcpy(ce, data, sizeof(*ce));
    return true;
}

void siov_cc_fill_epoch(struct siov_caches *c, uint64_t epoch, siov_sid sid, const struct siov_ctx_ent *ce)
{
    uint64_t data[SIOV_SC_WORDS] = {0};
    memcpy(data, ce, sizeof(*ce));
    if (!siov_stamp_fill_begin(c, epoch))
        return;
    siov_sc_insert(c, &c->cc, cc_key(sid), epoch, data, cc_alive);
    siov_stamp_unlock(c);
}

void siov_cc_fill(struct siov_caches *c, siov_sid sid, const struct siov_ctx_ent *ce)
{
    siov_cc_fill_epoch(c, siov_caches_epoch(c), sid, ce);
}

/* ------------------------------------------------------------ invalidation */
void siov_cc_inv_global_at(struct siov_caches *c, uint64_t t)
{
    siov_st_rel(&c->st.cc_global, t);
    siov_front_inv_all(c, t);
}

void siov_cc_inv_global(struct siov_caches *c)
{
    uint64_t t = siov_stamp_inv_begin(c);
    siov_cc_inv_global_at(c, t);
    siov_stamp_inv_end(c, t);
}

/* Scalable-mode context entries carry no DID: a domain-selective invalidation
   drops them all, and legacy entries of the DID (docs/spec-notes.md). */
void siov_cc_inv_domain(struct siov_caches *c, uint16_t did)
{
    uint64_t t = siov_stamp_inv_begin(c);
    for (size_t i = 0; i < CC_ENTRIES; i++) {
        struct siov_sc_way *w = &c->cc.ways[i];
        struct siov_ctx_ent ce;
        if (!siov_ld(&w->key))
            continue;
        memcpy(&ce, w->data, sizeof(ce));
        if (!ce.legacy || ce.did == did)
            siov_sc_write(w, 0, 0, NULL);
    }
    siov_front_inv_all(c, t); /* every scalable-mode answer came through a context entry */
    siov_stamp_inv_end(c, t);
}

void siov_cc_inv_device(struct siov_caches *c, siov_sid sid, unsigned fm)
{
    uint64_t t = siov_stamp_inv_begin(c);
    /* FM masks the fm most significant of the 3 function bits (facts 1.6) */
    unsigned mask = ((1u << (fm & 3)) - 1) << (3 - (fm & 3));
    for (unsigned f = 0; f <= mask; f++)
        if ((f & ~mask) == 0)
            siov_sc_remove(&c->cc, cc_key((siov_sid)((sid & ~mask) | f)));
    siov_xc_inv_sids(c, sid, mask);
    siov_stamp_inv_end(c, t);
}

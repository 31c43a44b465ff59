/* The interrupt entry cache: decoded interrupt remapping table entries by
 * interrupt index (spec 6.4), emptied only by the interrupt-entry-cache
 * invalidation (global or index-selective, spec 6.5.2.8) and, with
 * CAP.ESIRTPS, by SIRTP (regs.c). Only entries that passed every check are
 * filled: an entry that faulted is never cached. */
#include <string.h>

#include "caches.h"

#define IEC_ENTRIES 1024

int siov_iec_init(struct siov_caches *c)
{
    return siov_sc_init(&c->iec, IEC_ENTRIES);
}

void siov_iec_fini(struct siov_caches *c)
{
    siov_sc_fini(&c->iec);
}

static inline uint64_t iec_key(uint32_t index)
{
    return SIOV_SC_KEY_VALID | index;
}

static bool iec_valid(const struct siov_caches *c, uint64_t stamp)
{
    return stamp >= siov_ld_acq(&c->st.iec_global);
}

static bool iec_alive(const struct siov_caches *c, const struct siov_sc_way *w)
{
    return iec_valid(c, siov_ld(&w->stamp));
}

bool siov_iec_lookup(struct siov_caches *c, uint32_t index, struct siov_irte *e)
{
    uint64_t data[SIOV_SC_WORDS], stamp;
    if (!siov_sc_probe(&c->iec, iec_key(index), &stamp, data) || !iec_valid(c, stamp))
        return false;
    memcpy(e, data, sizeof(*e));
    return true;
}

void siov_iec_fill_epoch(struct siov_caches *c, uint64_t epoch, uint32_t index, const struct siov_irte *e)
{
    uint64_t data[SIOV_SC_WORDS] = {0};
    memcpy(data, e, sizeof(*e));
    if (!siov_stamp_fill_begin(c, epoch))
        return;
    siov_sc_insert(c, &c->iec, iec_key(index), epoch, data, iec_alive);
    siov_stamp_unlock(c);
}

unsigned siov_iec_occupancy(struct siov_caches *c)
{
    unsigned n = 0;
    siov_stamp_lock(c);
    for (size_t i = 0; i < IEC_ENTRIES; i++) {
        const struct siov_sc_way *w = &c->iec.ways[i];
        n += siov_ld(&w->key) && iec_alive(c, w);
    }
    siov_stamp_unlock(c);
    return n;
}

/* ------------------------------------------------------------ invalidation */
void siov_iec_inv_global_at(struct siov_caches *c, uint64_t t)
{
    siov_st_rel(&c->st.iec_global, t);
}

void siov_iec_inv_global(struct siov_caches *c)
{
    uint64_t t = siov_stamp_inv_begin(c);
    siov_iec_inv_global_at(c, t);
    siov_stamp_inv_end(c, t);
}

/* 2^im indices from index with its low im bits cleared (spec Table 25): one
   probe each while that is cheaper than looking at every way. im <= ECAP.MHMV
   (4 bits): the queue checks it. */
void siov_iec_inv_index(struct siov_caches *c, uint32_t index, unsigned im)
{
    uint64_t n = 1ull << im;
    uint64_t first = index & ~(n - 1);
    uint64_t t = siov_stamp_inv_begin(c);
    if (n <= IEC_ENTRIES) {
        for (uint64_t i = first; i < first + n; i++)
            siov_sc_remove(&c->iec, iec_key((uint32_t)i));
    } else {
        for (size_t i = 0; i < IEC_ENTRIES; i++) {
            struct siov_sc_way *w = &c->iec.ways[i];
            uint64_t k = siov_ld(&w->key);
            if (k && (k & ~SIOV_SC_KEY_VALID) - first < n)
                siov_sc_write(w, 0, 0, NULL);
        }
    }
    siov_stamp_inv_end(c, t);
}

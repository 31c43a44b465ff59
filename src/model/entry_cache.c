/* The store under the context and PASID caches: set-associative ways of
 * decoded entries, each a seqlock (caches.h), keyed by one word. What a key
 * means and when an entry is still valid is each cache's business. */
#include <errno.h>
#include <stdlib.h>

#include "caches.h"

int siov_sc_init(struct siov_sc_cache *sc, unsigned n)
{
    sc->geo = siov_cache_geometry_for(n);
    sc->ways = siov_pages_alloc((size_t)n * sizeof(*sc->ways));
    return sc->ways ? 0 : -ENOMEM;
}

void siov_sc_fini(struct siov_sc_cache *sc)
{
    siov_pages_free(sc->ways, (size_t)sc->geo.nsets * sc->geo.nways * sizeof(*sc->ways));
}

static inline struct siov_sc_way *sc_set(const struct siov_sc_cache *sc, uint64_t key)
{
    return &sc->ways[(size_t)siov_cache_set(&sc->geo, key, 0) * sc->geo.nways];
}

/* Read way w if it holds key: payload to data, stamp to *stamp. */
static bool sc_read(const struct siov_sc_way *w, uint64_t key, uint64_t *stamp, uint64_t data[SIOV_SC_WORDS])
{
    uint64_t s1 = siov_ld_acq(&w->seq);
    if ((s1 & 1) || siov_ld_acq(&w->key) != key)
        return false;
    for (unsigned i = 0; i < SIOV_SC_WORDS; i++)
        data[i] = siov_ld_acq(&w->data[i]);
    *stamp = siov_ld_acq(&w->stamp);
    return siov_ld(&w->seq) == s1;
}

bool siov_sc_probe(const struct siov_sc_cache *sc, uint64_t key, uint64_t *stamp, uint64_t data[SIOV_SC_WORDS])
{
    const struct siov_sc_way *set = sc_set(sc, key);
    for (unsigned i = 0; i < sc->geo.nways; i++)
        if (sc_read(&set[i], key, stamp, data))
            return true;
    return false;
}

void siov_sc_write(struct siov_sc_way *w, uint64_t key, uint64_t stamp, const uint64_t data[SIOV_SC_WORDS])
{
    uint64_t seq = siov_ld(&w->seq);
    siov_st(&w->seq, seq + 1);
    siov_st_rel(&w->key, key);
    siov_st_rel(&w->stamp, stamp);
    for (unsigned i = 0; data && i < SIOV_SC_WORDS; i++)
        siov_st_rel(&w->data[i], data[i]);
    siov_st_rel(&w->seq, seq + 2);
}

void siov_sc_insert(struct siov_caches *c, struct siov_sc_cache *sc, uint64_t key, uint64_t stamp,
                    const uint64_t data[SIOV_SC_WORDS], siov_sc_alive_fn alive)
{
    struct siov_sc_way *set = sc_set(sc, key);
    struct siov_sc_way *victim = NULL;
    for (unsigned i = 0; i < sc->geo.nways; i++) {
        uint64_t k = siov_ld(&set[i].key);
        if (k == key) {
            victim = &set[i];
            break;
        }
        if (!victim && (!k || !alive(c, &set[i])))
            victim = &set[i];
    }
    if (!victim)
        victim = &set[c->st.hand++ % sc->geo.nways];
    siov_sc_write(victim, key, stamp, data);
}

void siov_sc_remove(struct siov_sc_cache *sc, uint64_t key)
{
    struct siov_sc_way *set = sc_set(sc, key);
    for (unsigned i = 0; i < sc->geo.nways; i++)
        if (siov_ld(&set[i].key) == key)
            siov_sc_write(&set[i], 0, 0, NULL);
}

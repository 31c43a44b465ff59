/* siov-bench: the qemu-style baseline — the IOTLB hit path of an emulated
 * VT-d unit as QEMU's hw/i386/intel_iommu.c builds it (facts from that file,
 * no code of it): the unit's lock (a pthread mutex) held around the lookup,
 * a GLib GHashTable keyed by {gfn, pasid, sid, level} whose hash ORs the gfn
 * with the sid shifted by 26, level - 1 by 42 and the PASID by 44, then XORs
 * the two 32-bit halves, and whose equality compares the four fields; a
 * lookup probes level 1, 2 and 3 in turn (4 KiB, 2 MiB, 1 GiB pages) with
 * the gfn of the address at that level. Built only with GLib installed. */
#include <glib.h>
#include <pthread.h>
#include <stdlib.h>

#include "bench.h"

#define QS_SID_SHIFT 26
#define QS_LEVEL_SHIFT 42
#define QS_PASID_SHIFT 44
#define QS_LEVEL_BITS 9

struct qs_key {
    uint64_t gfn;
    uint32_t pasid;
    uint16_t sid;
    uint32_t level;
};

struct qs_entry {
    uint64_t gfn;
    uint16_t domain_id;
    uint64_t pte;
    uint8_t access_flags;
    uint64_t mask;
    uint32_t pasid;
};

struct qs_unit {
    pthread_mutex_t lock;
    GHashTable *iotlb;
};

static guint qs_hash(gconstpointer v)
{
    const struct qs_key *k = v;
    uint64_t h = k->gfn | (uint64_t)k->sid << QS_SID_SHIFT | (uint64_t)(k->level - 1) << QS_LEVEL_SHIFT |
                 (uint64_t)k->pasid << QS_PASID_SHIFT;
    return (guint)((h >> 32) ^ (h & 0xFFFFFFFFu));
}

static gboolean qs_equal(gconstpointer a, gconstpointer b)
{
    const struct qs_key *x = a, *y = b;
    return x->sid == y->sid && x->pasid == y->pasid && x->level == y->level && x->gfn == y->gfn;
}

static uint64_t qs_level_mask(unsigned level)
{
    return ~((1ull << (12 + (level - 1) * QS_LEVEL_BITS)) - 1);
}

struct bench_qs *bench_qs_new(void)
{
    struct qs_unit *u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    pthread_mutex_init(&u->lock, NULL);
    u->iotlb = g_hash_table_new_full(qs_hash, qs_equal, g_free, g_free);
    return (struct bench_qs *)u;
}

void bench_qs_free(struct bench_qs *q)
{
    struct qs_unit *u = (struct qs_unit *)q;
    if (!u)
        return;
    g_hash_table_destroy(u->iotlb);
    pthread_mutex_destroy(&u->lock);
    free(u);
}

void bench_qs_insert(struct bench_qs *q, uint16_t sid, uint32_t pasid, uint64_t iova, uint64_t pa)
{
    struct qs_unit *u = (struct qs_unit *)q;
    struct qs_key *k = g_new0(struct qs_key, 1);
    struct qs_entry *e = g_new0(struct qs_entry, 1);
    *k = (struct qs_key){iova >> 12, pasid, sid, 1};
    *e = (struct qs_entry){iova >> 12, 1, pa | 3, 3, qs_level_mask(1), pasid};
    pthread_mutex_lock(&u->lock);
    g_hash_table_replace(u->iotlb, k, e);
    pthread_mutex_unlock(&u->lock);
}

bool bench_qs_translate(struct bench_qs *q, uint16_t sid, uint32_t pasid, uint64_t iova, struct siov_xlate *out)
{
    struct qs_unit *u = (struct qs_unit *)q;
    struct qs_entry *e = NULL;
    pthread_mutex_lock(&u->lock);
    for (unsigned level = 1; level < 4 && !e; level++) {
        struct qs_key k = {(iova & qs_level_mask(level)) >> 12, pasid, sid, level};
        e = g_hash_table_lookup(u->iotlb, &k);
    }
    uint64_t pte = e ? e->pte : 0, mask = e ? e->mask : 0;
    unsigned perm = e ? e->access_flags : 0;
    uint16_t did = e ? e->domain_id : 0;
    pthread_mutex_unlock(&u->lock);
    if (!e)
        return false;
    *out = (struct siov_xlate){(pte & mask & 0xFFFFFFFFFF000ull) | (iova & ~mask), ~mask + 1, perm, did};
    return true;
}

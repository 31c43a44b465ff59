/* libsiov — ATS: translation requests, and the built-in device TLB (ATC).
 *
 * A device that supports ATS asks the remapping unit for a translation
 * (siov_ats_translate), keeps the answer in its own address translation cache
 * and sends translated requests (AT=10) with it. The ATC below is such a
 * cache, kept by the library for a device model: it attaches itself as the
 * device's port (<siov/port.h>), fills from siov_ats_translate and is emptied
 * only by the device-TLB invalidations the queue sends to it — never by the
 * unit's own IOTLB or PASID-cache invalidations, so a driver that forgets the
 * device-TLB invalidation sees the stale translation, as on a real device.
 *
 * Thread-safety contract of the ATC. Any number of device threads may call
 * siov_atc_translate, siov_atc_dma_read and siov_atc_dma_write at once while
 * invalidations arrive from the queue on another thread. An invalidation
 * first drops what it names (a translation that starts afterwards does not
 * return it), then waits until every siov_atc_dma_* call running at that
 * moment has returned (a grace period: such a call may still be copying
 * through a dropped entry, as a device's in-flight translated requests may),
 * and only then completes to the unit. So once the inv-wait behind a
 * device-TLB invalidation completes, no DMA of this ATC reaches what it
 * dropped. siov_atc_translate hands an address to its caller, which the ATC
 * cannot follow: DMA that the grace period must cover goes through
 * siov_atc_dma_*. siov_atc_free must not race with any other call on the ATC,
 * and must not run inside one of the unit's callbacks.
 */
#ifndef SIOV_ATS_H
#define SIOV_ATS_H

#include <siov/format.h>
#include <siov/port.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------- translation requests */
enum siov_ats_status { SIOV_ATS_SUCCESS, SIOV_ATS_UR, SIOV_ATS_CA };
struct siov_ats_completion {
    enum siov_ats_status status; /* UR: the device must stop using ATS for the request's space */
    uint64_t addr;               /* translated address of the range's first byte */
    uint64_t size;               /* range size: a power of two >= 4 KiB */
    bool r, w, x, priv;          /* the completion's R, W, Exe and Priv bits, as the spec sets them */
    bool global;                 /* G (always 0 where the spec says so) */
    bool untranslated_only;      /* U */
    bool no_snoop;               /* N */
};
/* An ATS translation request (AT=01) for the page holding iova; access may
   include SIOV_ACCESS_NO_WRITE (the request's NW bit: a read-only fill that
   must not set D). Returns the fault reason the unit recorded for it, or
   SIOV_OK; *out always holds the completion. A page that is not present is a
   Success completion with R=W=0; a present page carries the permissions that
   exist (a read-only page asked for write: R=1, W=0); neither is a fault. This is the
   one way to send a translation request (SIOV_ACCESS_ATS_REQ in
   siov_translate, if kept, behaves the same).
   Details (docs/spec-notes.md, "ATS"): READ/WRITE in access are ignored (a
   translation request asks for both; NW limits it to read when ECAP.NWFS);
   PRIV and EXEC count only with a PASID; EXEC is checked against the PASID
   entry's ERE alone (SPT.5), never against the page. Exe and G are always 0. Priv is set
   for a PASID request with PR=1. N follows the second-level leaf's SNP for
   second-level and nested tables. Pass-through answers S=1 over the largest
   page size the unit supports. UR or CA with a VT-d reason returns that
   reason (recorded with AT=01 unless FPD suppresses a qualified one); UR with
   none (translation disabled) returns SIOV_ERR_BUS. NULL iommu or out:
   SIOV_FAULT_RTA_1, nothing recorded (and *out untouched when NULL). */
SIOV_API siov_fault siov_ats_translate(struct siov_iommu *iommu, siov_sid sid, uint32_t pasid,
                                       uint64_t iova, unsigned access, struct siov_ats_completion *out);

/* The 64-bit data entry of a Success completion as PCIe carries it
   (SIOV_ATS_CPL_* bits, the range S-bit encoded in the address). */
static inline uint64_t siov_ats_completion_data(const struct siov_ats_completion *c)
{
    int s = 0;
    uint64_t d = siov_ats_range_encode(c->addr, c->size, &s);
    return d | (s ? SIOV_ATS_CPL_S : 0) | (c->r ? SIOV_ATS_CPL_R : 0) | (c->w ? SIOV_ATS_CPL_W : 0) |
           (c->untranslated_only ? SIOV_ATS_CPL_U : 0) | (c->x ? SIOV_ATS_CPL_EXE : 0) |
           (c->priv ? SIOV_ATS_CPL_PRIV : 0) | (c->global ? SIOV_ATS_CPL_G : 0) |
           (c->no_snoop ? SIOV_ATS_CPL_N : 0);
}

/* ------------------------------------------------------------- the ATC */
/* The built-in ATC: a device TLB the library keeps for a device model. It
   attaches itself as the device's port (devtlb_invalidate), fills from
   siov_ats_translate, and is emptied only by device-TLB invalidations. */
struct siov_atc;
/* An ATC of about entries translations (rounded up to a power of two, at
   least 2) for device sid, attached as its port. NULL with errno EINVAL (NULL
   iommu, entries 0 or above 2^24), EBUSY (sid has a port) or ENOMEM. */
SIOV_API struct siov_atc *siov_atc_new(struct siov_iommu *iommu, siov_sid sid, unsigned entries);
/* An ATC's geometry. ways 0: siov_atc_new's own (2-way sets, the inline
   probe). N: an exact, hardware-like cache of entries / N sets of N ways
   (entries a multiple of N), one entry per completion whatever its size; a
   completion of PASID P (or none) and size 2^s lives in set
   ((iova >> s) XOR K * 0x9E3779B1) mod sets, K being P (without PASID:
   0x100000), replaced by policy (SIOV_POLICY_*, iommu.h); every lookup takes
   the out-of-line path, and siov_atc_entries lists nothing. For cache studies
   (docs/tracing.md). */
struct siov_atc_config {
    unsigned entries;
    unsigned ways;
    unsigned policy;
    uint64_t seed;  /* SIOV_POLICY_RANDOM */
};
/* An ATC of cfg for sid, attached as its port; NULL with errno as
   siov_atc_new (EINVAL also for a geometry or policy out of range). */
SIOV_API struct siov_atc *siov_atc_new_config(struct siov_iommu *iommu, siov_sid sid,
                                              const struct siov_atc_config *cfg);
/* Detach from the port and free (NULL is ignored). */
SIOV_API void siov_atc_free(struct siov_atc *atc);
/* The out-of-line part of siov_atc_translate (call siov_atc_translate). */
SIOV_API siov_fault siov_atc_translate_slow(struct siov_atc *atc, uint32_t pasid, uint64_t iova,
                                            unsigned access, struct siov_xlate *out);
/* DMA with translated requests (AT=10) through the ATC: each piece translated
   by the ATC (a miss sends a translation request) and sent as a translated
   request without PASID. Stops at the first fault, which it returns
   (SIOV_ERR_NOT_PRESENT where the completion did not grant the access);
   SIOV_ERR_BUS as siov_dma_read. A range the unit answers "untranslated
   only" (U=1) goes as untranslated requests. */
SIOV_API siov_fault siov_atc_dma_read(struct siov_atc *atc, uint32_t pasid, uint64_t iova, void *dst,
                                      size_t len);
/* The write direction of siov_atc_dma_read. */
SIOV_API siov_fault siov_atc_dma_write(struct siov_atc *atc, uint32_t pasid, uint64_t iova, const void *src,
                                       size_t len);
/* The ATC owns its device's port; a device that also sends page requests
   receives their responses through this callback (NULL: dropped). */
SIOV_API void siov_atc_set_page_response(struct siov_atc *atc,
                                         void (*fn)(void *opaque, siov_sid sid, uint32_t pasid,
                                                    uint16_t prg_index, unsigned code),
                                         void *opaque);
struct siov_atc_stats {
    uint64_t hits;            /* answers from the ATC (see SIOV_ATC_ABI on counting) */
    uint64_t misses;          /* lookups that sent a translation request */
    uint64_t ats_requests;    /* translation requests sent */
    uint64_t invalidations;   /* device-TLB invalidations received */
    uint64_t entries_dropped; /* translations those invalidations removed */
};
/* Snapshot of the ATC's counters (zeros for NULL). */
SIOV_API void siov_atc_stats(const struct siov_atc *atc, struct siov_atc_stats *out);

/* One cached translation (siov_atc_entries). */
struct siov_atc_entry {
    uint32_t pasid;  /* SIOV_NO_PASID: the untranslated-request space */
    bool priv;       /* filled for privileged requests */
    uint64_t iova;   /* first input address of the range */
    uint64_t size;   /* the completion's range */
    uint64_t addr;   /* output address of its first byte */
    bool r, w;
    unsigned pages;  /* 4 KiB pages of the range the inline probe finds directly */
};
/* The valid translations, ordered by PASID then address: up to max into out
   (out may be NULL with max 0); returns how many there are. */
SIOV_API unsigned siov_atc_entries(struct siov_atc *atc, struct siov_atc_entry *out, unsigned max);

/* --------------------------------------------------- the inline probe's ABI
 * siov_atc_translate is compiled into its caller, so the layout it reads is
 * part of libsiov's binary interface and changes only with the SONAME:
 * every struct siov_atc begins with a struct siov_atc_abi.
 *
 * The ways form 2-way sets (one 64-byte line); a 4 KiB page of (key, page)
 * lives in the set (page ^ key) * SIOV_ATC_HASH_MUL >> set_shift. A way is
 * valid for a lookup when its tag, under SIOV_ATC_TAG_MATCH, equals the
 * lookup's key (SIOV_ATC_TAG_VALID, the PASID or SIOV_ATC_TAG_NOPASID,
 * SIOV_ATC_TAG_PRIV for a privileged PASID request) ORed with gen[slot],
 * where slot is pasid & gen_mask, or gen_mask + 1 without PASID: a PASID's
 * invalidation changes its slot's generation, so it costs one store whatever
 * the ATC's size. Ways are seqlocked: a writer makes the sequence odd, stores
 * the other words (release), and makes it even again; a reader loads the tag,
 * the words and the tag again (acquire) and treats any change as a miss.
 * Page ways (SIOV_ATC_TAG_CLASS 0) answer one 4 KiB page: val holds that
 * page's output address and SIOV_ACCESS_READ/WRITE, size the completion's
 * range. Range ways (class c > 0: a range of 2^(c+12) bytes, kept at its
 * first page) are found by the out-of-line path only. hits counts hits with a
 * plain (not locked) increment: with several threads probing one ATC at
 * once it may fall short.
 */
#define SIOV_ATC_TAG_PASID SIOV_BITS(19, 0)
#define SIOV_ATC_TAG_NOPASID SIOV_BIT(20)
#define SIOV_ATC_TAG_PRIV SIOV_BIT(21)
#define SIOV_ATC_TAG_VALID SIOV_BIT(22)
#define SIOV_ATC_TAG_CLASS SIOV_BITS(28, 23)
#define SIOV_ATC_TAG_SEQ SIOV_BITS(43, 29)  /* odd (bit 29 set) while a writer changes the way */
#define SIOV_ATC_TAG_SEQ_ODD SIOV_BIT(29)
#define SIOV_ATC_TAG_GEN SIOV_BITS(63, 44)
#define SIOV_ATC_TAG_MATCH (~(SIOV_ATC_TAG_SEQ & ~SIOV_ATC_TAG_SEQ_ODD))
#define SIOV_ATC_VAL_PERM SIOV_BITS(1, 0)   /* SIOV_ACCESS_READ / SIOV_ACCESS_WRITE */
#define SIOV_ATC_VAL_ADDR SIOV_ADDR_4K
#define SIOV_ATC_HASH_MUL 0x9E3779B97F4A7C15ull

struct siov_atc_way {
    uint64_t tag;  /* SIOV_ATC_TAG_* */
    uint64_t page; /* input address of the page (range ways: of the range's first page) */
    uint64_t val;  /* SIOV_ATC_VAL_* */
    uint64_t size; /* the completion's range */
};

struct siov_atc_abi {
    const struct siov_atc_way *ways; /* 2 * 2^(64 - set_shift) ways */
    const uint64_t *gen;             /* gen_mask + 2 generations, each already in SIOV_ATC_TAG_GEN */
    uint32_t set_shift;
    uint32_t gen_mask;               /* PASID slots - 1 (a power of two minus one) */
    uint64_t hits __attribute__((aligned(64))); /* its own line: the probe writes it */
};

/* The tag bits a lookup of pasid with access must find (never a valid way's
   for a PASID above 20 bits). */
static inline uint64_t siov_atc_key(uint32_t pasid, unsigned access)
{
    if (pasid == SIOV_NO_PASID)
        return SIOV_ATC_TAG_VALID | SIOV_ATC_TAG_NOPASID;
    if (pasid > SIOV_PASID_MAX)
        return SIOV_ATC_TAG_VALID | SIOV_ATC_TAG_NOPASID | SIOV_ATC_TAG_PRIV; /* no way holds it */
    return SIOV_ATC_TAG_VALID | pasid | ((access & SIOV_ACCESS_PRIV) ? SIOV_ATC_TAG_PRIV : 0);
}

/* Translate iova for pasid through the ATC. SIOV_OK with *out (addr, the
   completion's range as page_size, perm READ/WRITE as granted, did 0:
   completions carry no domain), SIOV_ERR_NOT_PRESENT (the completion does
   not grant the access; Exe is never granted), or the fault of a refused
   request. Hits are answered inline with no locked instruction; a miss, or
   a hit lacking the access asked for, sends a translation request (NW set
   unless access has WRITE, so a read-only fill does not set D). NULL atc or
   out: SIOV_FAULT_RTA_1. */
static inline siov_fault siov_atc_translate(struct siov_atc *atc, uint32_t pasid, uint64_t iova, unsigned access,
                                            struct siov_xlate *out)
{
    struct siov_atc_abi *a = (struct siov_atc_abi *)(void *)atc;
    if (!a || !out)
        return siov_atc_translate_slow(atc, pasid, iova, access, out);
    uint64_t key = siov_atc_key(pasid, access);
    uint32_t slot = pasid == SIOV_NO_PASID ? a->gen_mask + 1 : (pasid & a->gen_mask);
    uint64_t want = key | __atomic_load_n(&a->gen[slot], __ATOMIC_ACQUIRE);
    uint64_t page = iova & SIOV_ATC_VAL_ADDR;
    const struct siov_atc_way *w = a->ways + 2 * (((page ^ key) * SIOV_ATC_HASH_MUL) >> a->set_shift);
    uint64_t t = __atomic_load_n(&w->tag, __ATOMIC_ACQUIRE);
    if ((t & SIOV_ATC_TAG_MATCH) != want || __atomic_load_n(&w->page, __ATOMIC_ACQUIRE) != page) {
        w++; /* the set's other way */
        t = __atomic_load_n(&w->tag, __ATOMIC_ACQUIRE);
        if ((t & SIOV_ATC_TAG_MATCH) != want || __atomic_load_n(&w->page, __ATOMIC_ACQUIRE) != page)
            return siov_atc_translate_slow(atc, pasid, iova, access, out);
    }
    uint64_t v = __atomic_load_n(&w->val, __ATOMIC_ACQUIRE);
    uint64_t size = __atomic_load_n(&w->size, __ATOMIC_ACQUIRE);
    if (__atomic_load_n(&w->tag, __ATOMIC_RELAXED) != t ||
        (access & (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC) & ~v))
        return siov_atc_translate_slow(atc, pasid, iova, access, out);
    out->addr = (v & SIOV_ATC_VAL_ADDR) | (iova & ~SIOV_ATC_VAL_ADDR);
    out->page_size = size;
    out->perm = (unsigned)(v & SIOV_ATC_VAL_PERM);
    out->did = 0;
    __atomic_store_n(&a->hits, __atomic_load_n(&a->hits, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
    return SIOV_OK;
}

#ifdef __cplusplus
}
#endif
#endif

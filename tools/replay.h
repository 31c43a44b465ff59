/* siov-sim replay: a trace run again on a fresh unit, its driver building
 * the tables the trace's markers describe; per-ADI and total counters of
 * what the caches did (docs/tracing.md). Public API only. */
#ifndef SIOV_REPLAY_H
#define SIOV_REPLAY_H

#include <siov/siov.h>

/* Guest memory of a replay: RAM for the driver's tables at REPLAY_POOL_GPA;
   every other address reads as zeros and drops writes (DMA data is not kept). */
#define REPLAY_POOL_GPA (1ull << 40)
#define REPLAY_POOL_SIZE (512ull << 20)

struct replay_opts {
    struct siov_iommu_config cfg; /* the unit (IOTLB geometry and all) */
    struct siov_atc_config atc;   /* entries 0: no ATC; else each device's requests go through one */
    bool check;                   /* compare each answer with the one the trace recorded */
};

/* One ADI (a source id and the PASID its requests carry in the trace). */
struct replay_adi {
    siov_sid sid;
    uint32_t pasid;                 /* as in the trace */
    uint32_t real_pasid;            /* as this replay's driver gave it */
    uint64_t requests, iotlb_hits, walks, faults, bytes;
    uint64_t atc_hits, atc_misses;  /* with an ATC: lookups it answered, and those it sent on */
};

struct replay_result {
    struct replay_adi *adi;         /* in order of first appearance */
    unsigned nadi, cap;
    struct siov_stats stats;        /* the unit's counters at the end */
    uint64_t atc_hits, atc_misses;  /* every device's ATC together */
    uint64_t records, requests, markers, inval_recorded, inval_replayed;
    uint64_t checked, mismatches;   /* with opts.check: answers compared, and differing */
    uint64_t first_mismatch;        /* seq of the first differing answer */
    double seconds;                 /* replaying, trace reading included */
    char err[320];
};

/* Replay the trace at path; 0, or -1 with res->err set (a malformed trace,
   a marker the driver refused). Free res with replay_result_free. */
int replay_run(const char *path, const struct replay_opts *o, struct replay_result *res);
void replay_result_free(struct replay_result *res);
/* IOTLB hit rate of an ADI or of the unit, in [0, 1] (hits over hits + walks; 0 when neither). */
double replay_rate(uint64_t hits, uint64_t walks);

#endif

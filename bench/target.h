/* siov-bench: the unit under measurement, and the tables it walks, built with
 * the public API only: format.h accessors into a flat siov_mem, MMIO for the
 * registers and the invalidation queue. */
#ifndef SIOV_BENCH_TARGET_H
#define SIOV_BENCH_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include <siov/siov.h>

#define BT_SID SIOV_SID(0, 1, 0) /* the device every case translates for */

struct bt {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    uint8_t *flat;        /* the bytes of mem */
    uint64_t mem_size;
    uint64_t next_page;   /* bump allocator for table pages */
    uint64_t pool_end;    /* tables stay below; data pages start here */
    uint64_t root, pasid_dir;
    uint64_t iq;          /* invalidation queue: one 4 KiB page of 256-bit descriptors */
    unsigned iq_tail;     /* next descriptor slot */
    uint64_t status;      /* gpa of the inv-wait status word */
    uint32_t status_seq;  /* last status data submitted */
    bool iq_ok;           /* the queue completed a wait descriptor */
};

/* A unit over a fresh flat memory of mem_size bytes, scalable mode, root
   table, BT_SID's context entry with a PASID directory, queue enabled, TE set.
   Table pages come from [1 MiB, pool_end). NULL on failure. */
struct bt *bt_new(const struct siov_iommu_config *cfg, uint64_t mem_size, uint64_t pool_end);
void bt_free(struct bt *t);
/* A zeroed table page; 0 when the pool is exhausted. */
uint64_t bt_page(struct bt *t);
uint64_t bt_r64(const struct bt *t, uint64_t gpa);
/* An atomic 64-bit store, as a CPU updating a table does. */
void bt_w64(struct bt *t, uint64_t gpa, uint64_t v);

/* The PASID-table entry of BT_SID's pasid (qw0..qw7). */
void bt_pasid_entry(struct bt *t, uint32_t pasid, const uint64_t pe[8]);
/* PASID-entry images: second-level only, first-level only, nested. */
void bt_pe_sl(uint64_t pe[8], uint16_t did, uint64_t slptptr, unsigned levels);
void bt_pe_fl(uint64_t pe[8], uint16_t did, uint64_t flptptr, unsigned levels);
void bt_pe_nested(uint64_t pe[8], uint16_t did, uint64_t flptptr, unsigned fl_levels, uint64_t slptptr,
                  unsigned sl_levels);

/* A paging hierarchy: its top table, depth and format, and the permission
   bits its leaf and table entries get. */
struct bt_tree {
    uint64_t root;
    unsigned levels;
    bool fl;            /* first-level (IA-32e) format, else second-level */
    uint64_t leaf, nonleaf;
};
/* Map one page of page_size at iova -> pa in tree, creating tables on the
   way. Returns the leaf's gpa, 0 when the pool ran out. */
uint64_t bt_map(struct bt *t, const struct bt_tree *tree, uint64_t iova, uint64_t pa, uint64_t page_size);
/* Permission sets: SL read/write; FL present, writable, user, accessed, dirty
   (A and D preset so a walk never writes). */
#define BT_SL_RW (SIOV_SL_R | SIOV_SL_W)
#define BT_FL_LEAF (SIOV_FL_P | SIOV_FL_RW | SIOV_FL_US | SIOV_FL_A | SIOV_FL_D)
#define BT_FL_TABLE (SIOV_FL_P | SIOV_FL_RW | SIOV_FL_US | SIOV_FL_A)

/* Invalidation descriptors (256-bit, qw2/qw3 zero). */
struct bt_dsc {
    uint64_t qw0, qw1;
};
struct bt_dsc bt_dsc_iotlb_domain(uint16_t did);
struct bt_dsc bt_dsc_iotlb_page(uint16_t did, uint64_t addr);
struct bt_dsc bt_dsc_piotlb_pasid(uint16_t did, uint32_t pasid);
struct bt_dsc bt_dsc_piotlb_page(uint16_t did, uint32_t pasid, uint64_t addr);
/* Submit n descriptors and an inv-wait with status write; wait for the status.
   0, or -ETIMEDOUT when the unit did not write it. */
int bt_invalidate(struct bt *t, const struct bt_dsc *d, unsigned n);

#endif

/* Test helpers: a flat guest memory with a bump page allocator, and builders
 * that write VT-d structures with the format.h accessors. */
#ifndef SIOV_TESTLIB_H
#define SIOV_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <siov/siov.h>

#define TL_MEM_SIZE (64ull << 20)     /* 64 MiB of guest memory */
#define TL_POOL_BASE (1ull << 20)     /* tables are allocated from here up */
#define TL_DATA_BASE (32ull << 20)    /* test data pages from here up */

struct tl {
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    uint64_t next_page; /* bump allocator for table pages */
    uint64_t root;      /* root table */
    unsigned ttm;       /* mode the root table was built for */
};

/* A fresh memory and unit with cfg (NULL: defaults); translation not enabled. */
struct tl *tl_new(const struct siov_iommu_config *cfg);
/* The same over mem_size bytes of guest memory (more than TL_POOL_BASE). */
struct tl *tl_new_sized(const struct siov_iommu_config *cfg, uint64_t mem_size);
/* The unit's counters. */
struct siov_stats tl_stats(struct tl *t);
/* How many fault recording registers hold a fault (F=1). */
unsigned tl_fault_records(struct tl *t);
/* qword q (0 or 1) of fault recording register i, read through MMIO. */
uint64_t tl_frcd(struct tl *t, unsigned i, unsigned q);
/* Fault record i holds want (its addr taken to the page), decoded and in the raw FRCD registers. */
void tl_check_record(struct tl *t, unsigned i, struct siov_fault_record want);
/* A record to check: reason, sid, pasid, addr, access. */
#define TL_REC(...) ((struct siov_fault_record){__VA_ARGS__})
void tl_free(struct tl *t);
/* A zeroed 4 KiB page from the table pool. */
uint64_t tl_page(struct tl *t);
void tl_w64(struct tl *t, uint64_t gpa, uint64_t v);
uint64_t tl_r64(struct tl *t, uint64_t gpa);

/* An MSI recorder: the count and the last message (siov_iommu_config.msi). */
struct tl_msi_log {
    unsigned n;
    uint64_t addr;
    uint32_t data;
};
void tl_msi_cb(void *opaque, uint64_t addr, uint32_t data);
/* The default configuration with its messages going to log. */
struct siov_iommu_config tl_config_msi(struct tl_msi_log *log);
/* The default configuration in scalable mode or legacy only, with CAP.CM or without. */
struct siov_iommu_config tl_config_mode(bool scalable, bool caching_mode);
/* A stale-hit recorder: the count and the last report (siov_iommu_config.stale_report). */
struct tl_stale_log {
    unsigned n;
    struct siov_stale_report last;
};
/* The default configuration with the stale checker on, reporting to log (NULL: counting only). */
struct siov_iommu_config tl_config_stale(struct tl_stale_log *log);

/* Build a root table for ttm, latch it with SRTP and set TE, through MMIO. */
void tl_enable(struct tl *t, unsigned ttm);
/* GCMD write keeping the current enables (as a driver must). */
void tl_gcmd(struct tl *t, uint32_t set, uint32_t clear);

/* Scalable mode: write the context entry of sid (qw0, qw1; qw2/3 zero),
   creating the root half and context table as needed. Returns its gpa. */
uint64_t tl_sm_context(struct tl *t, siov_sid sid, uint64_t qw0, uint64_t qw1);
/* A typical scalable context entry: P, PASIDE, DTE, PDTS=7 (full PASID
   space), a fresh PASID directory, RID_PASID rid_pasid. Returns the directory. */
uint64_t tl_sm_context_default(struct tl *t, siov_sid sid, uint32_t rid_pasid);
/* Legacy mode: write the 128-bit context entry of sid. Returns its gpa. */
uint64_t tl_legacy_context(struct tl *t, siov_sid sid, uint64_t qw0, uint64_t qw1);
/* Write a PASID-table entry under directory dir, creating the PASID table
   (directory entry P=1) as needed. Returns the entry's gpa. */
uint64_t tl_pasid_entry(struct tl *t, uint64_t dir, uint32_t pasid, const uint64_t pe[8]);

/* PASID-entry builders (qw0..qw7). */
void tl_pe_sl(uint64_t pe[8], uint16_t did, uint64_t slptptr, unsigned aw);
void tl_pe_fl(uint64_t pe[8], uint16_t did, uint64_t flptptr, unsigned flpm);
void tl_pe_nested(uint64_t pe[8], uint16_t did, uint64_t flptptr, unsigned flpm,
                  uint64_t slptptr, unsigned aw);
void tl_pe_pt(uint64_t pe[8], uint16_t did);

/* Map one page of page_size at iova -> pa in a paging hierarchy of levels
   levels rooted at root. first_level selects the entry format. leaf is OR-ed
   into the leaf entry, nonleaf into every table entry created on the way.
   Returns the gpa of the leaf entry. Tables are allocated from the pool. */
uint64_t tl_map(struct tl *t, uint64_t root, unsigned levels, bool first_level, uint64_t iova,
                uint64_t pa, uint64_t page_size, uint64_t leaf, uint64_t nonleaf);
/* One second-level space: pages 4 KiB pages from iova to out onward (leaf
   permissions leaf) and one read-write 2 MiB page big_iova -> big_out. */
struct tl_sl_space {
    uint32_t pasid;
    uint16_t did;
    uint64_t iova, out;
    unsigned pages;
    uint64_t leaf;
    uint64_t big_iova, big_out;
};
/* s's PASID entry under directory dir over a fresh 4-level table; returns its
   root, the 4 KiB leaves' gpas going to leaves[0, pages) unless NULL. */
uint64_t tl_sl_space(struct tl *t, uint64_t dir, const struct tl_sl_space *s, uint64_t *leaves);
/* The gpa of the entry at level for iova (the table must exist); 0 if not. */
uint64_t tl_entry_gpa(struct tl *t, uint64_t root, unsigned levels, uint64_t iova, unsigned level);

/* Interrupt remapping, through MMIO: IRTA = table | S | EIME, SIRTP, IRE. */
void tl_ir_enable(struct tl *t, uint64_t table, unsigned s, bool eime);
/* Write the 128-bit entry index of the interrupt remapping table at table. */
void tl_irte(struct tl *t, uint64_t table, uint32_t index, uint64_t qw0, uint64_t qw1);
/* A remapped-format entry: P, vector, destination (placed for eime), DLM
   fixed, edge, physical; source validation SVT=01 SQ=00 for sid. */
void tl_irte_remapped(uint64_t q[2], uint8_t vector, uint32_t dest, bool eime, siov_sid sid);
/* A posted-format entry: P, IM, VV, the descriptor at pda, SVT=01 for sid. */
void tl_irte_posted(uint64_t q[2], uint8_t vv, uint64_t pda, bool urgent, siov_sid sid);
/* The interrupt remapping fault of record i: FR, SID, FI, T1=0, PP=0, F=1
   checked against the literal layout (spec 10.4.14). */
void tl_check_irq_frcd(struct tl *t, unsigned i, siov_fault fr, siov_sid sid, uint64_t fi);

/* A path under /tmp no other live path of this process has, named for
   prefix and tag (malloc'd: free it). */
char *tl_tmp_path(const char *prefix, const char *tag);
/* Write len bytes of data as the whole file at path. */
void tl_write_file(const char *path, const void *data, size_t len);
/* Guest memory of two zeroed pieces [base[i], base[i] + size[i]) through
   callbacks (no mapping of what lies between); anything else fails. */
struct tl_pieces {
    uint64_t base[2], size[2];
    uint8_t *buf[2]; /* made by tl_pieces_mem */
};
/* A memory over p's pieces (their buffers allocated here; p must outlive it). */
struct siov_mem *tl_pieces_mem(struct tl_pieces *p);
/* Free the pieces' buffers (the memory itself goes with siov_mem_free or tl_free). */
void tl_pieces_free(struct tl_pieces *p);
/* Virtual size of this process (VmSize of /proc/self/status), in KiB; 0 if unknown. */
unsigned long tl_vm_kib(void);

/* Move the driver's interrupt msi of sid moves times between destinations 1
   and 2 (vector 0x40): each move an IEC invalidation and an inv-wait. */
void tl_irq_moves(struct siov_driver *drv, siov_sid sid, const struct siov_msi *msi, unsigned moves);

/* Common leaf/non-leaf permission sets. */
#define TL_SL_RW (SIOV_SL_R | SIOV_SL_W)
#define TL_SL_RWX (SIOV_SL_R | SIOV_SL_W | SIOV_SL_X)
#define TL_FL_URW (SIOV_FL_P | SIOV_FL_RW | SIOV_FL_US)

#endif

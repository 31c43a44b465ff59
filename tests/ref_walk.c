/* The reference walk (see ref_walk.h): root table -> context entry -> PASID
 * directory -> PASID-table entry -> paging structures, one function per
 * structure, in the order of spec 3.4-3.8 and 7.1.3, with the choices of
 * docs/spec-notes.md. Deliberately plain: no caching, no shortcuts.
 *
 * Order of checks per structure: read (access error), present, reserved
 * bits, then programming. A page walk first finishes the structural walk
 * (every level, both stages in nested; a second-level walk whose stacked R
 * and W are both denied is SSL.2, Table 30), then checks the request against
 * the accumulated ("stacked") permissions: privilege (SGN.2), read (SGN.7),
 * write (SGN.6), execute (SGN.3); last the interrupt-range check (SGN.8).
 * Nested, the first level's permissions are checked before the second level
 * translates the first level's output.
 */
#include "ref_walk.h"

#include <string.h>

/* No name from siov/format.h (the public headers include it for their
   inline functions): scripts/check-oracle.py, a test, checks this file. */

/* ------------------------------------------------------------ constants
 * The oracle's own bit positions, written from the specification's tables
 * (VT-d rev 3.x section numbers; [facts N] is the section of
 * /work/shared/design/vtd-facts.md that restates it), not taken from
 * siov/format.h as the model's are: a wrong mask there makes the model and
 * this walk disagree, and the differential tests fail. */
#define BIT(n) (1ull << (n))
#define BITS(hi, lo) ((~0ull >> (63 - (hi))) & (~0ull << (lo)))
#define ADDR_4K BITS(63, 12)
#define PAGE_4K 4096ull
#define PAGE_4K_MASK (~(PAGE_4K - 1))

/* Register offsets (spec 10.4, the register map) [facts 1.1]. */
#define REG_CAP 0x08
#define REG_ECAP 0x10
#define REG_GSTS 0x1C
#define REG_RTADDR 0x20
#define REG_IRTA 0xB8
/* CAP (spec 10.4.2) [facts 1.2]; SLLPS field values: bit 0 2 MiB, bit 1 1 GiB. */
#define CAP_SAGAW BITS(12, 8)
#define CAP_SLLPS BITS(37, 34)
#define CAP_FL1GP BIT(56)
#define CAP_FL5LP BIT(60)
#define SLLPS_2M BIT(0)
#define SLLPS_1G BIT(1)
/* ECAP (spec 10.4.3) [facts 1.3]. */
#define ECAP_DT BIT(2)
#define ECAP_PT BIT(6)
#define ECAP_SC BIT(7)
#define ECAP_MTS BIT(25)
#define ECAP_NEST BIT(26)
#define ECAP_PRS BIT(29)
#define ECAP_ERS BIT(30)
#define ECAP_SRS BIT(31)
#define ECAP_NWFS BIT(33)
#define ECAP_EAFS BIT(34)
#define ECAP_SMTS BIT(43)
#define ECAP_SLADS BIT(45)
#define ECAP_SLTS BIT(46)
#define ECAP_FLTS BIT(47)
#define ECAP_RPS BIT(49)
#define ECAP_ADMS BIT(52)
#define ECAP_RPRIVS BIT(53)
/* GSTS (spec 10.4.5) [facts 1.4]. */
#define GSTS_TES BIT(31)
/* RTADDR (spec 10.4.6) [facts 1.5]: TTM 00 legacy, 01 scalable, 10 reserved, 11 abort DMA. */
#define RTADDR_RTA ADDR_4K
#define RTADDR_TTM BITS(11, 10)
#define TTM_LEGACY 0u
#define TTM_SCALABLE 1u
#define TTM_RESERVED 2u
#define TTM_ABORT 3u

/* Root entry, 16 bytes per bus (spec 9.1) [facts 2.1]. */
#define ROOT_ENTRY_SIZE 16
#define RE0_P BIT(0)
#define RE0_RSVD BITS(11, 1)
#define RE0_CTP ADDR_4K
/* Scalable-mode root entry (spec 9.2) [facts 2.1]: each qword is one half, same layout. */
#define SRE_HALF_P BIT(0)
#define SRE_HALF_RSVD BITS(11, 1)
#define SRE_HALF_CTP ADDR_4K
/* Legacy context entry, 16 bytes per devfn (spec 9.3) [facts 2.2]; TT 01 device-TLB, 10 pass-through, 11 reserved. */
#define CTX_ENTRY_SIZE 16
#define CE0_P BIT(0)
#define CE0_TT BITS(3, 2)
#define CE0_RSVD BITS(11, 4)
#define CE0_SLPTPTR ADDR_4K
#define CE1_AW BITS(2, 0)
#define CE1_DID BITS(23, 8)
#define CE1_RSVD (BIT(7) | BITS(63, 24))
#define TT_SL_DT 1u
#define TT_PASS_THROUGH 2u
#define TT_RESERVED 3u
/* Scalable-mode context entry, 32 bytes (spec 9.4) [facts 2.3]. */
#define SM_CTX_ENTRY_SIZE 32
#define SCE0_P BIT(0)
#define SCE0_DTE BIT(2)
#define SCE0_PASIDE BIT(3)
#define SCE0_PRE BIT(4)
#define SCE0_RSVD BITS(8, 5)
#define SCE0_PDTS BITS(11, 9)
#define SCE0_PASIDDIRPTR ADDR_4K
#define SCE1_RID_PASID BITS(19, 0)
#define SCE1_RID_PRIV BIT(20)
#define SCE1_RSVD BITS(63, 21)
/* PASID-directory entry, 8 bytes, indexed by PASID[19:6]; the table by PASID[5:0] (spec 9.5) [facts 3]. */
#define PDE_SIZE 8
#define PDE_P BIT(0)
#define PDE_RSVD BITS(11, 2)
#define PDE_SMPTBLPTR ADDR_4K
#define PASID_DIR_INDEX BITS(19, 6)
#define PASID_TBL_INDEX BITS(5, 0)
/* PASID-table entry, 64 bytes (spec 9.6) [facts 4.1]. PGTT 001 first level,
   010 second level, 011 nested, 100 pass-through; FLPM 01 is 5-level. */
#define PTE_SIZE 64
#define PTE0_P BIT(0)
#define PTE0_AW BITS(4, 2)
#define PTE0_SLEE BIT(5)
#define PTE0_PGTT BITS(8, 6)
#define PTE0_SLADE BIT(9)
#define PTE0_RSVD BITS(11, 10)
#define PTE0_SLPTPTR ADDR_4K
#define PTE1_DID BITS(15, 0)
#define PTE1_RSVD BITS(22, 16)
#define PTE1_PGSNP BIT(24)
#define PTE1_MT_FIELDS BITS(63, 25) /* CD, EMTE, EMT, PWT, PCD, PAT: need ECAP.MTS */
#define PTE2_SRE BIT(0)
#define PTE2_ERE BIT(1)
#define PTE2_FLPM BITS(3, 2)
#define PTE2_WPE BIT(4)
#define PTE2_NXE BIT(5)
#define PTE2_SMEP BIT(6)
#define PTE2_EAFE BIT(7)
#define PTE2_RSVD BITS(11, 8)
#define PTE2_FLPTPTR ADDR_4K
#define PGTT_FL 1u
#define PGTT_SL 2u
#define PGTT_NESTED 3u
#define PGTT_PT 4u
#define FLPM_5LVL 1u

/* First-level paging entry, IA-32e format (spec 9.7) [facts 6.1]; large
   leaves reserve address bits 20:13 (2 MiB) and 29:13 (1 GiB), bit 12 is PAT. */
#define FL_P BIT(0)
#define FL_RW BIT(1)
#define FL_US BIT(2)
#define FL_A BIT(5)
#define FL_D BIT(6)
#define FL_PS BIT(7)
#define FL_EA BIT(10)
#define FL_ADDR BITS(51, 12)
#define FL_XD BIT(63)
#define FL_2M_RSVD BITS(20, 13)
#define FL_1G_RSVD BITS(29, 13)
/* Second-level paging entry (spec 9.8) [facts 5.2]: bit 11 (SNP in a leaf)
   and bit 62 are reserved in table entries; a scalable-mode leaf allows SNP,
   a legacy one only with ECAP.SC. Large leaves reserve 20:12 and 29:12. */
#define SL_R BIT(0)
#define SL_W BIT(1)
#define SL_X BIT(2)
#define SL_PS BIT(7)
#define SL_A BIT(8)
#define SL_D BIT(9)
#define SL_ADDR BITS(51, 12)
#define SL_SNP BIT(11)
#define SL_NONLEAF_RSVD (BIT(11) | BIT(62))
#define SL_LEAF_RSVD BIT(62)
#define SL_LEGACY_LEAF_RSVD (BIT(11) | BIT(62))
#define SL_2M_RSVD BITS(20, 12)
#define SL_1G_RSVD BITS(29, 12)
/* Requests to the interrupt address range are blocked (spec 3.14) [facts 5.2]. */
#define INTR_BASE 0xFEE00000ull
#define INTR_LIMIT 0xFEEFFFFFull

/* The field under mask in v. */
static uint64_t fld(uint64_t v, uint64_t mask)
{
    return (v & mask) >> __builtin_ctzll(mask);
}
/* Address bits at and above width. */
static uint64_t above(unsigned width)
{
    return width >= 64 ? 0 : ~0ull << width;
}
/* AW (context and PASID entries): levels = AW + 2 (spec 9.3, 9.6) [facts 5.1]. */
static unsigned aw_levels(unsigned aw) { return aw + 2; }
/* Paging level L (1 = leaf table) indexes input bits 12+9L-1 : 12+9(L-1) (spec 9.7, 9.8) [facts 5.1]. */
static unsigned level_shift(unsigned level) { return 12 + 9 * (level - 1); }
static unsigned level_index(uint64_t addr, unsigned level)
{
    return (unsigned)((addr >> level_shift(level)) & 0x1FF);
}

/* A request in flight. */
struct walk {
    const struct ref_unit *u;
    struct ref_result *r;
    siov_sid sid;
    uint32_t pasid;  /* the request's PASID, or SIOV_NO_PASID */
    uint64_t addr;
    unsigned access; /* SIOV_ACCESS_*; EXEC/PRIV cleared for requests without PASID */
    unsigned at;     /* the request's AT field: 0 untranslated, 1 translation request, 2 translated;
                        REF_AT_PAGE_REQ for a page request */
};
#define REF_AT_PAGE_REQ 3u

/* A PASID-table entry decoded once (a legacy context entry decodes to SL or PT). */
struct pe {
    bool legacy;
    unsigned pgtt, sl_levels, fl_levels;
    uint64_t slptptr, flptptr;
    uint16_t did;
    bool slee, slade, sre, ere, wpe, nxe, smep, eafe;
};

/* A scalable-mode context entry, decoded. */
struct ce {
    bool paside, pre;
    unsigned pdts;
    uint32_t rid_pasid;
    uint64_t pasid_dir;
};

/* The page one stage maps, with the permissions stacked over its levels. */
struct page {
    uint64_t base, size;
    bool r, w, x;  /* SL: R/W/X AND over levels; FL: r=1, w = R/W AND, x = !XD OR */
    bool us;       /* FL: U/S AND over levels */
    bool snp;      /* SL: the leaf's SNP bit */
};

/* Final permissions of a translation for the request's privilege. */
struct perm {
    bool user_ok, r, w, x;
};

const char *ref_kind_name(unsigned kind)
{
    static const char *const names[] = {"root", "context", "pasid-dir", "pasid-entry", "FL", "SL"};
    return kind < sizeof names / sizeof names[0] ? names[kind] : "?";
}

uint64_t ref_ad_bits(unsigned kind)
{
    return kind == REF_FL ? FL_A | FL_D | FL_EA : kind == REF_SL ? SL_A | SL_D : 0;
}

void ref_unit_init(struct ref_unit *u, struct siov_mem *mem, struct siov_iommu *iommu)
{
    memset(u, 0, sizeof *u);
    u->mem = mem;
    u->cfg = *siov_iommu_get_config(iommu);
    u->cap = siov_mmio_read(iommu, REG_CAP, 8);
    u->ecap = siov_mmio_read(iommu, REG_ECAP, 8);
    u->gsts = (uint32_t)siov_mmio_read(iommu, REG_GSTS, 4);
    u->rtaddr = siov_mmio_read(iommu, REG_RTADDR, 8);
    u->irta = siov_mmio_read(iommu, REG_IRTA, 8);
}

/* ------------------------------------------------------------ helpers */

static bool ecap(const struct walk *w, uint64_t bit) { return (w->u->ecap & bit) != 0; }
static bool cap(const struct walk *w, uint64_t bit) { return (w->u->cap & bit) != 0; }
static uint64_t haw_rsvd(const struct walk *w) { return above(w->u->cfg.haw); }
static uint64_t min64(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Read nqw little-endian qwords of a structure; false if memory does not back it. */
static bool rd(struct walk *w, uint64_t gpa, uint64_t *qw, unsigned nqw, unsigned kind,
               unsigned level, bool top)
{
    struct ref_result *r = w->r;
    if (r->nread < REF_MAX_READS)
        r->read[r->nread++] = (struct ref_read){gpa, (uint8_t)kind, (uint8_t)level,
                                                (uint8_t)(nqw * 8), top};
    uint8_t b[64];
    if (siov_mem_read(w->u->mem, gpa, b, nqw * 8) != 0)
        return false;
    for (unsigned i = 0; i < nqw; i++) {
        qw[i] = 0;
        for (unsigned j = 0; j < 8; j++)
            qw[i] |= (uint64_t)b[i * 8 + j] << (8 * j);
    }
    return true;
}

static void touch(struct walk *w, uint64_t gpa, uint64_t bits)
{
    struct ref_result *r = w->r;
    if (bits && r->ntouch < REF_MAX_READS)
        r->touch[r->ntouch++] = (struct ref_touch){gpa, bits};
}

/* Input width of the second level: 2^min(AGAW(AW), MGAW) (spec-notes). */
static unsigned sl_width(const struct walk *w, const struct pe *pe)
{
    unsigned agaw = 30 + 9 * (pe->sl_levels - 2);
    return agaw < w->u->cfg.mgaw ? agaw : w->u->cfg.mgaw;
}

static bool aw_supported(const struct walk *w, unsigned aw)
{
    return aw < 5 && (fld(w->u->cap, CAP_SAGAW) & (1u << aw)) != 0;
}

/* ------------------------------------------------------- legacy mode */

/* Legacy root entry (spec 9.1): the context-table pointer for the bus. */
static siov_fault legacy_root_entry(struct walk *w, uint64_t *ctp)
{
    uint64_t re[2];
    uint64_t gpa = (w->u->rtaddr & RTADDR_RTA) + SIOV_SID_BUS(w->sid) * ROOT_ENTRY_SIZE;
    if (!rd(w, gpa, re, 2, REF_ROOT, 0, false))
        return SIOV_FAULT_LRT_1;
    if (!(re[0] & RE0_P))
        return SIOV_FAULT_LRT_2;
    if ((re[0] & (RE0_RSVD | haw_rsvd(w))) || re[1])
        return SIOV_FAULT_LRT_3;
    *ctp = re[0] & RE0_CTP;
    return SIOV_OK;
}

/* Legacy context entry (spec 9.3), expressed as an SL or PT PASID entry. */
static siov_fault legacy_context_entry(struct walk *w, uint64_t ctp, struct pe *pe)
{
    uint64_t c[2];
    if (!rd(w, ctp + SIOV_SID_DEVFN(w->sid) * CTX_ENTRY_SIZE, c, 2, REF_CTX, 0, false))
        return SIOV_FAULT_LCT_1;
    if (!(c[0] & CE0_P))
        return SIOV_FAULT_LCT_2;
    if ((c[0] & (CE0_RSVD | haw_rsvd(w))) || (c[1] & CE1_RSVD))
        return SIOV_FAULT_LCT_3;
    unsigned tt = (unsigned)fld(c[0], CE0_TT);
    unsigned aw = (unsigned)fld(c[1], CE1_AW);
    if (tt == TT_RESERVED || (tt == TT_SL_DT && !ecap(w, ECAP_DT)) ||
        (tt == TT_PASS_THROUGH && !ecap(w, ECAP_PT)) || !aw_supported(w, aw))
        return SIOV_FAULT_LCT_4;
    if (w->at && tt != TT_SL_DT)
        return SIOV_FAULT_LCT_5; /* translation and translated requests need TT=01 */
    memset(pe, 0, sizeof *pe);
    pe->legacy = true;
    pe->pgtt = tt == TT_PASS_THROUGH ? PGTT_PT : PGTT_SL;
    pe->sl_levels = aw_levels(aw);
    pe->slptptr = c[0] & CE0_SLPTPTR;
    pe->did = (uint16_t)fld(c[1], CE1_DID);
    return SIOV_OK;
}

/* ----------------------------------------------------- scalable mode */

/* Scalable root entry (spec 9.2): the half for devfn, checked on its own. */
static siov_fault sm_root_entry(struct walk *w, uint64_t *ctp)
{
    uint64_t re[2];
    uint64_t gpa = (w->u->rtaddr & RTADDR_RTA) + SIOV_SID_BUS(w->sid) * ROOT_ENTRY_SIZE;
    if (!rd(w, gpa, re, 2, REF_ROOT, 0, false))
        return SIOV_FAULT_SRT_1;
    uint64_t half = SIOV_SID_DEVFN(w->sid) < 128 ? re[0] : re[1];
    if (!(half & SRE_HALF_P))
        return SIOV_FAULT_SRT_2;
    if (half & (SRE_HALF_RSVD | haw_rsvd(w)))
        return SIOV_FAULT_SRT_3;
    *ctp = half & SRE_HALF_CTP;
    return SIOV_OK;
}

/* Scalable context entry (spec 9.4). */
static siov_fault sm_context_entry(struct walk *w, uint64_t ctp, struct ce *ce)
{
    uint64_t c[4];
    uint64_t gpa = ctp + (SIOV_SID_DEVFN(w->sid) & 0x7F) * SM_CTX_ENTRY_SIZE;
    if (!rd(w, gpa, c, 4, REF_CTX, 0, false))
        return SIOV_FAULT_SCT_1;
    if (!(c[0] & SCE0_P))
        return SIOV_FAULT_SCT_2;
    if ((c[0] & (SCE0_RSVD | haw_rsvd(w))) || (c[1] & SCE1_RSVD) || c[2] || c[3])
        return SIOV_FAULT_SCT_3;
    if (((c[0] & SCE0_DTE) && !ecap(w, ECAP_DT)) ||
        ((c[0] & SCE0_PRE) && !ecap(w, ECAP_PRS)) ||
        ((c[0] & SCE0_PRE) && !(c[0] & SCE0_DTE)) || /* PRE needs DTE (facts 14.1) */
        ((c[1] & SCE1_RID_PRIV) && !ecap(w, ECAP_RPRIVS)))
        return SIOV_FAULT_SCT_4;
    if ((w->at == 1 || w->at == 2) && !(c[0] & SCE0_DTE))
        return SIOV_FAULT_SCT_5; /* translation and translated requests need DTE */
    ce->paside = (c[0] & SCE0_PASIDE) != 0;
    ce->pre = (c[0] & SCE0_PRE) != 0;
    ce->pdts = (unsigned)fld(c[0], SCE0_PDTS);
    ce->rid_pasid = (uint32_t)fld(c[1], SCE1_RID_PASID);
    ce->pasid_dir = c[0] & SCE0_PASIDDIRPTR;
    return SIOV_OK;
}

/* The PASID the lookup uses, checked against the context entry (spec 9.4,
   Table 30): a request without PASID is looked up as one with RID_PASID, so
   the width (SGN.10) and directory (SCT.7) checks apply to it too; SCT.9 is
   a request's own PASID equal to RID_PASID (with ECAP.RPS). */
static siov_fault sm_pasid_select(struct walk *w, const struct ce *ce, uint32_t *pasid)
{
    bool rps = ecap(w, ECAP_RPS);
    if (w->pasid != SIOV_NO_PASID && !ce->paside)
        return SIOV_FAULT_SCT_6;
    if (w->pasid != SIOV_NO_PASID)
        *pasid = w->pasid;
    else
        *pasid = rps ? ce->rid_pasid : 0;
    if (*pasid >= (1u << w->u->cfg.pasid_bits))
        return SIOV_FAULT_SGN_10;
    if (w->pasid != SIOV_NO_PASID && rps && w->pasid == ce->rid_pasid)
        return SIOV_FAULT_SCT_9;
    if (fld(*pasid, PASID_DIR_INDEX) >= (1u << (ce->pdts + 7)))
        return SIOV_FAULT_SCT_7;
    return SIOV_OK;
}

/* PASID-directory entry (spec 9.5): the PASID table. */
static siov_fault pasid_dir_entry(struct walk *w, const struct ce *ce, uint32_t pasid, uint64_t *tbl)
{
    uint64_t d;
    uint64_t gpa = ce->pasid_dir + fld(pasid, PASID_DIR_INDEX) * PDE_SIZE;
    if (!rd(w, gpa, &d, 1, REF_PDIR, 0, false))
        return SIOV_FAULT_SPD_1;
    if (!(d & PDE_P))
        return SIOV_FAULT_SPD_2;
    if (d & (PDE_RSVD | haw_rsvd(w)))
        return SIOV_FAULT_SPD_3;
    *tbl = d & PDE_SMPTBLPTR;
    return SIOV_OK;
}

/* Features a PASID-table entry names that the unit lacks: SPT.4 (spec-notes). */
static bool pasid_entry_misprogrammed(struct walk *w, const uint64_t e[8])
{
    unsigned pgtt = (unsigned)fld(e[0], PTE0_PGTT);
    bool fl = pgtt == PGTT_FL || pgtt == PGTT_NESTED;
    bool sl = pgtt == PGTT_SL || pgtt == PGTT_NESTED;
    if ((pgtt == PGTT_FL && !ecap(w, ECAP_FLTS)) ||
        (pgtt == PGTT_SL && !ecap(w, ECAP_SLTS)) ||
        (pgtt == PGTT_NESTED && !ecap(w, ECAP_NEST)) ||
        (pgtt == PGTT_PT && !ecap(w, ECAP_PT)) || pgtt < PGTT_FL || pgtt > PGTT_PT)
        return true;
    if (sl && (!aw_supported(w, (unsigned)fld(e[0], PTE0_AW)) ||
               ((e[0] & PTE0_SLADE) && !ecap(w, ECAP_SLADS))))
        return true;
    unsigned flpm = (unsigned)fld(e[2], PTE2_FLPM);
    if (fl && (flpm > FLPM_5LVL || (flpm == FLPM_5LVL && !cap(w, CAP_FL5LP)) ||
               ((e[2] & PTE2_SRE) && !ecap(w, ECAP_SRS)) ||
               ((e[2] & PTE2_ERE) && !ecap(w, ECAP_ERS)) ||
               ((e[2] & PTE2_EAFE) && !ecap(w, ECAP_EAFS))))
        return true;
    if (((e[1] & PTE1_PGSNP) && !ecap(w, ECAP_SC)) ||
        ((e[1] & PTE1_MT_FIELDS) && !ecap(w, ECAP_MTS)))
        return true;
    return false;
}

/* PASID-table entry (spec 9.6), decoded into *pe. */
static siov_fault pasid_table_entry(struct walk *w, uint64_t tbl, uint32_t pasid, struct pe *pe)
{
    uint64_t e[8];
    uint64_t gpa = tbl + fld(pasid, PASID_TBL_INDEX) * PTE_SIZE;
    if (!rd(w, gpa, e, 8, REF_PASID, 0, false))
        return SIOV_FAULT_SPT_1;
    if (!(e[0] & PTE0_P))
        return SIOV_FAULT_SPT_2;
    if ((e[0] & (PTE0_RSVD | haw_rsvd(w))) || (e[1] & PTE1_RSVD) ||
        (e[2] & (PTE2_RSVD | haw_rsvd(w))) || e[3] || e[4] || e[5] || e[6] || e[7])
        return SIOV_FAULT_SPT_3;
    if (pasid_entry_misprogrammed(w, e))
        return SIOV_FAULT_SPT_4;
    memset(pe, 0, sizeof *pe);
    pe->pgtt = (unsigned)fld(e[0], PTE0_PGTT);
    pe->sl_levels = aw_levels((unsigned)fld(e[0], PTE0_AW));
    pe->fl_levels = fld(e[2], PTE2_FLPM) == FLPM_5LVL ? 5 : 4;
    pe->slptptr = e[0] & PTE0_SLPTPTR;
    pe->flptptr = e[2] & PTE2_FLPTPTR;
    pe->did = (uint16_t)fld(e[1], PTE1_DID);
    pe->slee = (e[0] & PTE0_SLEE) != 0;
    pe->slade = (e[0] & PTE0_SLADE) != 0;
    pe->sre = (e[2] & PTE2_SRE) != 0;
    pe->ere = (e[2] & PTE2_ERE) != 0;
    pe->wpe = (e[2] & PTE2_WPE) != 0;
    pe->nxe = (e[2] & PTE2_NXE) != 0;
    pe->smep = (e[2] & PTE2_SMEP) != 0;
    pe->eafe = (e[2] & PTE2_EAFE) != 0;
    return SIOV_OK;
}

/* Root -> context -> PASID directory -> PASID-table entry (spec 3.4.3). */
static siov_fault sm_lookup(struct walk *w, struct pe *pe)
{
    uint64_t ctp, tbl;
    struct ce ce;
    uint32_t pasid;
    siov_fault f = sm_root_entry(w, &ctp);
    if (!f)
        f = sm_context_entry(w, ctp, &ce);
    if (!f)
        f = sm_pasid_select(w, &ce, &pasid);
    if (!f)
        f = pasid_dir_entry(w, &ce, pasid, &tbl);
    if (!f)
        f = pasid_table_entry(w, tbl, pasid, pe);
    return f;
}

/* ---------------------------------------------------- second level */

/* Reserved bits of an SL entry at level; *leaf says whether it maps a page. */
static uint64_t sl_reserved(const struct walk *w, const struct pe *pe, unsigned level, uint64_t e,
                            bool *leaf)
{
    uint64_t addr = SL_ADDR & haw_rsvd(w);
    unsigned sllps = (unsigned)fld(w->u->cap, CAP_SLLPS);
    bool ps = (e & SL_PS) != 0;
    *leaf = level == 1 || (ps && ((level == 2 && (sllps & SLLPS_2M)) ||
                                  (level == 3 && (sllps & SLLPS_1G))));
    if (!*leaf)
        return addr | SL_NONLEAF_RSVD | (level >= 2 ? SL_PS : 0);
    uint64_t m = addr | (pe->legacy && !ecap(w, ECAP_SC) ? SL_LEGACY_LEAF_RSVD
                                                               : SL_LEAF_RSVD);
    if (level == 2)
        m |= SL_2M_RSVD;
    if (level == 3)
        m |= SL_1G_RSVD;
    return m;
}

static bool sl_present(const struct pe *pe, uint64_t e)
{
    return (e & (SL_R | SL_W)) || (pe->slee && (e & SL_X));
}

/* Walk the second level for input in (spec 3.7, 9.8); final says the walk
   translates the request's own page (its leaf gets D on a write). */
static siov_fault sl_walk(struct walk *w, const struct pe *pe, uint64_t in, bool final, struct page *pg)
{
    uint64_t table = pe->slptptr;
    bool write = (w->access & SIOV_ACCESS_WRITE) != 0;
    /* a read|write request (AtomicOp) reports the read reason: spec-notes */
    bool write_only = (w->access & (SIOV_ACCESS_READ | SIOV_ACCESS_EXEC)) == 0;
    *pg = (struct page){0, 0, true, true, true, true, false};
    for (unsigned level = pe->sl_levels;; level--) {
        bool top = level == pe->sl_levels, leaf;
        uint64_t e, gpa = table + level_index(in, level) * 8;
        if (!rd(w, gpa, &e, 1, REF_SL, level, top))
            return pe->legacy ? (top ? SIOV_FAULT_LCT_4 : SIOV_FAULT_LSL_1)
                              : (top ? SIOV_FAULT_SSL_4 : SIOV_FAULT_SSL_1);
        if (!sl_present(pe, e))
            return pe->legacy ? (write_only ? SIOV_FAULT_LGN_2 : SIOV_FAULT_LGN_3) : SIOV_FAULT_SSL_2;
        if (e & sl_reserved(w, pe, level, e, &leaf))
            return pe->legacy ? SIOV_FAULT_LSL_2 : SIOV_FAULT_SSL_3;
        pg->r &= (e & SL_R) != 0;
        pg->w &= (e & SL_W) != 0;
        pg->x &= (e & SL_X) != 0;
        if (pe->slade)
            touch(w, gpa, SL_A | (leaf && final && write ? SL_D : 0));
        if (leaf) {
            pg->size = 1ull << level_shift(level);
            pg->base = e & SL_ADDR & ~(pg->size - 1);
            pg->snp = (e & SL_SNP) != 0;
            break;
        }
        table = e & SL_ADDR;
    }
    /* every entry present, yet R and W (and X under SLEE) denied when stacked:
       SSL.2 (Table 30); legacy goes on to the request's permission reason */
    if (!pe->legacy && !pg->r && !pg->w && !(pe->slee && pg->x))
        return SIOV_FAULT_SSL_2;
    if (!pe->slee)
        pg->x = pg->r; /* SLEE=0: execute needs read permission only (spec-notes) */
    return SIOV_OK;
}

/* ----------------------------------------------------- first level */

/* Reserved bits of an FL entry at level (IA-32e, spec 9.7); *leaf as above. */
static uint64_t fl_reserved(const struct walk *w, const struct pe *pe, unsigned level, uint64_t e,
                            bool *leaf)
{
    uint64_t m = (FL_ADDR & haw_rsvd(w)) | (pe->nxe ? 0 : FL_XD);
    bool ps = (e & FL_PS) != 0;
    *leaf = level == 1 || (ps && (level == 2 || (level == 3 && cap(w, CAP_FL1GP))));
    if (level >= 4 || (level == 3 && !cap(w, CAP_FL1GP)))
        m |= FL_PS;
    if (*leaf && level == 2)
        m |= FL_2M_RSVD;
    if (*leaf && level == 3)
        m |= FL_1G_RSVD;
    return m;
}

/* Where the FL entry at gpa lives in memory. Nested: the second level
   translates its (guest-physical) address and must grant read (spec 3.8). */
static siov_fault fl_entry_addr(struct walk *w, const struct pe *pe, uint64_t gpa, bool top, uint64_t *hpa)
{
    if (pe->pgtt != PGTT_NESTED) {
        *hpa = gpa;
        return SIOV_OK;
    }
    if (gpa & above(sl_width(w, pe)))
        return SIOV_FAULT_SFL_5;
    struct page pg;
    siov_fault f = sl_walk(w, pe, gpa, false, &pg);
    if (f)
        return f;
    if (!pg.r)
        return top ? SIOV_FAULT_SFL_6 : SIOV_FAULT_SFL_7;
    *hpa = pg.base | (gpa & (pg.size - 1));
    return SIOV_OK;
}

/* Walk the first level for in (spec 3.6, 9.7). */
static siov_fault fl_walk(struct walk *w, const struct pe *pe, uint64_t in, struct page *pg)
{
    uint64_t table = pe->flptptr;
    bool write = (w->access & SIOV_ACCESS_WRITE) != 0;
    *pg = (struct page){0, 0, true, true, false, true, false};
    bool xd = false;
    for (unsigned level = pe->fl_levels;; level--) {
        bool top = level == pe->fl_levels, leaf;
        uint64_t e, hpa;
        siov_fault f = fl_entry_addr(w, pe, table + level_index(in, level) * 8, top, &hpa);
        if (f)
            return f;
        if (!rd(w, hpa, &e, 1, REF_FL, level, top))
            return top ? SIOV_FAULT_SFL_4 : SIOV_FAULT_SFL_1;
        if (!(e & FL_P))
            return SIOV_FAULT_SFL_2;
        if (e & fl_reserved(w, pe, level, e, &leaf))
            return SIOV_FAULT_SFL_3;
        pg->w &= (e & FL_RW) != 0;
        pg->us &= (e & FL_US) != 0;
        xd |= (e & FL_XD) != 0;
        touch(w, hpa, FL_A | (pe->eafe ? FL_EA : 0) | (leaf && write ? FL_D : 0));
        if (leaf) {
            pg->size = 1ull << level_shift(level);
            pg->base = e & FL_ADDR & ~(pg->size - 1);
            break;
        }
        table = e & FL_ADDR;
    }
    pg->x = !(pe->nxe && xd);
    return SIOV_OK;
}

/* First-level permissions for the request's privilege (spec 3.6.2). Execute
   is granted only where execute requests are enabled (ERE). */
static struct perm fl_perm(const struct walk *w, const struct pe *pe, const struct page *pg)
{
    bool priv = (w->access & SIOV_ACCESS_PRIV) != 0;
    struct perm p = {.user_ok = priv || pg->us, .r = true};
    p.w = priv && !pe->wpe ? true : pg->w;
    p.x = pe->ere && pg->x && !(priv && pe->smep && pg->us);
    return p;
}

/* FL input must be canonical for the paging depth (spec-notes: SGN.1). */
static bool fl_canonical(const struct pe *pe, uint64_t in)
{
    unsigned top = pe->fl_levels == 5 ? 56 : 47;
    uint64_t hi = in >> top;
    return hi == 0 || hi == (~0ull >> top);
}

/* --------------------------------------------------------- the walk */

struct outcome {
    uint64_t addr, size;
    struct perm p;
    bool snp; /* the final second-level leaf's SNP bit (SL and nested) */
};

/* The request against stacked permissions: privilege (SGN.2), R, W, X. */
static siov_fault check_perm(const struct walk *w, const struct pe *pe, const struct outcome *o)
{
    if (!o->p.user_ok)
        return SIOV_FAULT_SGN_2;
    if ((w->access & SIOV_ACCESS_READ) && !o->p.r)
        return pe->legacy ? SIOV_FAULT_LGN_3 : SIOV_FAULT_SGN_7;
    if ((w->access & SIOV_ACCESS_WRITE) && !o->p.w)
        return pe->legacy ? SIOV_FAULT_LGN_2 : SIOV_FAULT_SGN_6;
    if ((w->access & SIOV_ACCESS_EXEC) && !o->p.x)
        return SIOV_FAULT_SGN_3;
    return SIOV_OK;
}

static siov_fault walk_pt(struct walk *w, const struct pe *pe, struct outcome *o)
{
    if (w->addr & haw_rsvd(w))
        return pe->legacy ? SIOV_FAULT_LGN_1 : SIOV_FAULT_SGN_4;
    *o = (struct outcome){w->addr, PAGE_4K, {true, true, true, true}, false};
    return SIOV_OK;
}

static siov_fault walk_sl(struct walk *w, const struct pe *pe, struct outcome *o)
{
    struct page pg;
    /* input above 2^X-1: SGN.5 for a second-level-only request (Table 30) */
    if (w->addr & above(sl_width(w, pe)))
        return pe->legacy ? SIOV_FAULT_LGN_1 : SIOV_FAULT_SGN_5;
    siov_fault f = sl_walk(w, pe, w->addr, true, &pg);
    if (f)
        return f;
    *o = (struct outcome){pg.base | (w->addr & (pg.size - 1)), pg.size, {true, pg.r, pg.w, pg.x}, pg.snp};
    return SIOV_OK;
}

static siov_fault walk_fl(struct walk *w, const struct pe *pe, struct outcome *o)
{
    struct page pg;
    if (!fl_canonical(pe, w->addr))
        return SIOV_FAULT_SGN_1;
    siov_fault f = fl_walk(w, pe, w->addr, &pg);
    if (f)
        return f;
    *o = (struct outcome){pg.base | (w->addr & (pg.size - 1)), pg.size, fl_perm(w, pe, &pg), false};
    return SIOV_OK;
}

/* Nested: FL over SL; the final guest-physical address goes through the SL
   (spec 3.8). The first level is complete, its permission check included,
   before the second level translates its output (as a guest page fault
   precedes the EPT translation of the final access on x86). */
static siov_fault walk_nested(struct walk *w, const struct pe *pe, struct outcome *o)
{
    struct page fl, sl;
    if (!fl_canonical(pe, w->addr))
        return SIOV_FAULT_SGN_1;
    siov_fault f = fl_walk(w, pe, w->addr, &fl);
    if (f)
        return f;
    struct perm p = fl_perm(w, pe, &fl);
    struct outcome fl_only = {0, 0, {p.user_ok, true, p.w, p.x}, false};
    f = check_perm(w, pe, &fl_only);
    if (f)
        return f;
    uint64_t gpa = fl.base | (w->addr & (fl.size - 1));
    if (gpa & above(sl_width(w, pe)))
        return SIOV_FAULT_SGN_5;
    f = sl_walk(w, pe, gpa, true, &sl);
    if (f)
        return f;
    o->addr = sl.base | (gpa & (sl.size - 1));
    o->size = min64(fl.size, sl.size);
    o->p = (struct perm){p.user_ok, sl.r, p.w && sl.w, p.x && sl.x};
    o->snp = sl.snp;
    return SIOV_OK;
}

/* The request against the translation: privilege, R, W, X, then the
   interrupt range. */
static siov_fault check_access(const struct walk *w, const struct pe *pe, const struct outcome *o)
{
    siov_fault f = check_perm(w, pe, o);
    if (f)
        return f;
    if (o->addr >= INTR_BASE && o->addr <= INTR_LIMIT)
        return pe->legacy ? SIOV_FAULT_LGN_4 : SIOV_FAULT_SGN_8;
    return SIOV_OK;
}

/* The request against the PASID entry: SRE and ERE (FL and nested only). */
static siov_fault check_request(const struct walk *w, const struct pe *pe)
{
    if (pe->pgtt != PGTT_FL && pe->pgtt != PGTT_NESTED)
        return SIOV_OK;
    if ((w->access & SIOV_ACCESS_PRIV) && !pe->sre)
        return SIOV_FAULT_SPT_6;
    if ((w->access & SIOV_ACCESS_EXEC) && !pe->ere)
        return SIOV_FAULT_SPT_5;
    return SIOV_OK;
}

/* Translation table mode and root-table address (spec 10.4.6, spec-notes). */
static siov_fault check_rtaddr(const struct walk *w)
{
    unsigned ttm = (unsigned)fld(w->u->rtaddr, RTADDR_TTM);
    if (ttm == TTM_ABORT && ecap(w, ECAP_ADMS))
        return SIOV_FAULT_RTA_4; /* abort-DMA mode blocks every request (Table 30) */
    if (ttm == TTM_RESERVED || ttm == TTM_ABORT ||
        (ttm == TTM_SCALABLE && !ecap(w, ECAP_SMTS)) ||
        (w->u->rtaddr & RTADDR_RTA & haw_rsvd(w)))
        return SIOV_FAULT_RTA_1;
    if (ttm == TTM_LEGACY && w->pasid != SIOV_NO_PASID)
        return SIOV_FAULT_RTA_2;
    return SIOV_OK;
}

/* Root table, context entry and (scalable) PASID-table entry. */
static siov_fault lookup(struct walk *w, struct pe *pe)
{
    siov_fault f = check_rtaddr(w);
    if (f)
        return f;
    w->r->legacy = fld(w->u->rtaddr, RTADDR_TTM) == TTM_LEGACY;
    if (w->r->legacy) {
        uint64_t ctp;
        f = legacy_root_entry(w, &ctp);
        if (!f)
            f = legacy_context_entry(w, ctp, pe);
    } else {
        f = sm_lookup(w, pe);
    }
    if (!f)
        w->r->pgtt = pe->pgtt;
    return f;
}

/* The paging structures pe names, for the request's input address. */
static siov_fault walk_page(struct walk *w, const struct pe *pe, struct outcome *o)
{
    switch (pe->pgtt) {
    case PGTT_FL: return walk_fl(w, pe, o);
    case PGTT_SL: return walk_sl(w, pe, o);
    case PGTT_NESTED: return walk_nested(w, pe, o);
    default: return walk_pt(w, pe, o);
    }
}

static siov_fault translate(struct walk *w, struct outcome *o, struct pe *pe)
{
    siov_fault f = lookup(w, pe);
    if (!f)
        f = check_request(w, pe);
    if (!f)
        f = walk_page(w, pe, o);
    return f ? f : check_access(w, pe, o);
}

siov_fault ref_translate(const struct ref_unit *u, siov_sid sid, uint32_t pasid, uint64_t addr,
                         unsigned access, struct ref_result *r)
{
    struct walk w = {u, r, sid, pasid, addr, access, 0};
    struct outcome o = {0};
    struct pe pe = {0};
    memset(r, 0, sizeof *r);
    if (pasid != SIOV_NO_PASID && pasid > SIOV_PASID_MAX)
        return r->fault = SIOV_FAULT_SGN_10; /* above any PASID width, whatever the mode */
    if (pasid == SIOV_NO_PASID)
        w.access &= ~(SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV);
    if (!(u->gsts & GSTS_TES)) {
        r->x = (struct siov_xlate){addr, PAGE_4K,
                                   SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC, 0};
        return r->fault = SIOV_OK;
    }
    r->fault = translate(&w, &o, &pe);
    if (r->fault) {
        r->ntouch = 0;
        return r->fault;
    }
    r->x.addr = o.addr;
    r->x.page_size = o.size;
    r->x.perm = (o.p.r ? SIOV_ACCESS_READ : 0) | (o.p.w ? SIOV_ACCESS_WRITE : 0) |
                (o.p.x ? SIOV_ACCESS_EXEC : 0);
    r->x.did = pe.did;
    return SIOV_OK;
}

/* ------------------------------------------------------------------ ATS */

/* Table 30's answer to a translation request that met condition f (facts
   13.4): Success without permissions, Success with the permissions the page
   has, UR or CA. The oracle never meets SFL.8-10 or SGN.3 (no A/D updates,
   and a translation request asks for no execute permission). */
enum ats_answer { ATS_NONE, ATS_PERM, ATS_UR, ATS_CA };

static bool listed(siov_fault f, const siov_fault *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == f)
            return true;
    return false;
}

static enum ats_answer ats_answer(siov_fault f)
{
    static const siov_fault none[] = {
        SIOV_FAULT_LGN_1, SIOV_FAULT_SPD_2, SIOV_FAULT_SPT_2, SIOV_FAULT_SPT_5, SIOV_FAULT_SPT_6,
        SIOV_FAULT_SFL_1, SIOV_FAULT_SFL_2, SIOV_FAULT_SFL_3, SIOV_FAULT_SFL_4, SIOV_FAULT_SFL_5,
        SIOV_FAULT_SFL_6, SIOV_FAULT_SFL_7, SIOV_FAULT_SSL_2, SIOV_FAULT_SGN_1, SIOV_FAULT_SGN_2,
        SIOV_FAULT_SGN_4, SIOV_FAULT_SGN_5};
    static const siov_fault perm[] = {SIOV_FAULT_LGN_2, SIOV_FAULT_LGN_3, SIOV_FAULT_SGN_6, SIOV_FAULT_SGN_7};
    static const siov_fault ur[] = {
        SIOV_FAULT_LRT_2, SIOV_FAULT_LCT_2, SIOV_FAULT_SRT_2, SIOV_FAULT_SCT_2, SIOV_FAULT_LCT_5,
        SIOV_FAULT_SCT_5, SIOV_FAULT_SCT_6, SIOV_FAULT_SCT_7, SIOV_FAULT_SCT_9, SIOV_FAULT_SGN_10,
        SIOV_FAULT_RTA_2, SIOV_FAULT_RTA_4, SIOV_FAULT_RTA_5};
    if (listed(f, none, sizeof none / sizeof none[0]))
        return ATS_NONE;
    if (listed(f, perm, sizeof perm / sizeof perm[0]))
        return ATS_PERM;
    return listed(f, ur, sizeof ur / sizeof ur[0]) ? ATS_UR : ATS_CA;
}

static bool in_interrupt_range(uint64_t a)
{
    return a >= INTR_BASE && a <= INTR_LIMIT;
}

/* A refused request: UR or CA, and the reason returned. */
static siov_fault ats_refuse(struct ref_ats *a, siov_fault f, enum siov_ats_status status)
{
    a->c.status = status;
    a->r.ntouch = 0;
    return a->r.fault = a->fault = f;
}

/* Condition f met: a refusal, or Success with R=W=0 (nothing reported). */
static siov_fault ats_condition(struct ref_ats *a, siov_fault f)
{
    enum ats_answer ans = ats_answer(f);
    if (ans == ATS_UR || ans == ATS_CA)
        return ats_refuse(a, f, ans == ATS_UR ? SIOV_ATS_UR : SIOV_ATS_CA);
    a->r.ntouch = 0;
    a->condition = f;
    return SIOV_OK;
}

/* The largest page the unit supports (CAP.SLLPS, CAP.FL1GP with first-level
   support): what a pass-through completion spans. */
static uint64_t largest_page(const struct ref_unit *u)
{
    unsigned sllps = (unsigned)fld(u->cap, CAP_SLLPS);
    bool fl = (u->ecap & ECAP_FLTS) != 0;
    if ((sllps & SLLPS_1G) || (fl && (u->cap & CAP_FL1GP)))
        return 1ull << 30;
    return (sllps & SLLPS_2M) || fl ? 1ull << 21 : PAGE_4K;
}

/* The walk again with the access granted, for the A/D bits it sets (its
   reads are the first walk's). */
static void ats_touches(const struct walk *w, const struct pe *pe, unsigned access)
{
    static struct ref_result again; /* large; the oracle is single-threaded */
    struct walk w2 = *w;
    struct outcome o;
    memset(&again, 0, sizeof again);
    w2.r = &again;
    w2.access = access;
    (void)walk_page(&w2, pe, &o);
    w->r->ntouch = again.ntouch;
    memcpy(w->r->touch, again.touch, sizeof again.touch);
}

/* Success for the page the walk found (facts 13.3). */
static siov_fault ats_grant(struct walk *w, const struct pe *pe, const struct outcome *o, bool nw,
                            struct ref_ats *a)
{
    struct siov_ats_completion *c = &a->c;
    bool r = o->p.user_ok && o->p.r, wr = o->p.user_ok && o->p.w && !nw;
    if (!r && !wr)
        return ats_condition(a, !o->p.user_ok ? SIOV_FAULT_SGN_2 : pe->legacy ? SIOV_FAULT_LGN_3 : SIOV_FAULT_SGN_7);
    if (pe->pgtt != PGTT_PT && in_interrupt_range(o->addr))
        return ats_refuse(a, pe->legacy ? SIOV_FAULT_LGN_4 : SIOV_FAULT_SGN_8, SIOV_ATS_CA);
    c->r = r;
    c->w = wr;
    c->size = pe->pgtt == PGTT_PT ? largest_page(w->u) : o->size;
    c->addr = (pe->pgtt == PGTT_PT ? w->addr : o->addr) & ~(c->size - 1);
    c->no_snoop = !pe->legacy && (pe->pgtt == PGTT_SL || pe->pgtt == PGTT_NESTED) && o->snp;
    ats_touches(w, pe, (w->access & SIOV_ACCESS_PRIV) | (r ? SIOV_ACCESS_READ : 0) | (wr ? SIOV_ACCESS_WRITE : 0));
    return SIOV_OK;
}

siov_fault ref_ats_translate(const struct ref_unit *u, siov_sid sid, uint32_t pasid, uint64_t addr,
                             unsigned access, struct ref_ats *a)
{
    memset(a, 0, sizeof *a);
    a->c = (struct siov_ats_completion){.status = SIOV_ATS_SUCCESS, .addr = addr & PAGE_4K_MASK,
                                       .size = PAGE_4K};
    if (pasid != SIOV_NO_PASID && pasid > SIOV_PASID_MAX)
        return ats_refuse(a, SIOV_FAULT_SGN_10, SIOV_ATS_UR);
    if (!(u->gsts & GSTS_TES))
        return ats_refuse(a, SIOV_ERR_BUS, SIOV_ATS_UR); /* AT != 00 with translation disabled */
    if (pasid == SIOV_NO_PASID)
        access &= ~(SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV);
    bool nw = (access & SIOV_ACCESS_NO_WRITE) && (u->ecap & ECAP_NWFS);
    a->c.priv = (access & SIOV_ACCESS_PRIV) != 0;
    struct walk w = {u, &a->r, sid, pasid, addr, (access & (SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC)) | SIOV_ACCESS_READ,
                     1};
    struct pe pe = {0};
    struct outcome o = {0};
    siov_fault f = lookup(&w, &pe);
    if (f)
        return ats_condition(a, f);
    if (pasid == SIOV_NO_PASID && in_interrupt_range(addr)) { /* S.1 / S.2: not faults */
        a->c.w = a->c.untranslated_only = !nw;
        return SIOV_OK;
    }
    f = check_request(&w, &pe);
    w.access &= ~SIOV_ACCESS_EXEC; /* Exe is never granted: only ERE is checked */
    if (!f)
        f = walk_page(&w, &pe, &o);
    return f ? ats_condition(a, f) : ats_grant(&w, &pe, &o, nw, a);
}

siov_fault ref_translated(const struct ref_unit *u, siov_sid sid, uint32_t pasid, uint64_t addr,
                          struct ref_result *r)
{
    memset(r, 0, sizeof *r);
    if (pasid != SIOV_NO_PASID && pasid > SIOV_PASID_MAX)
        return r->fault = SIOV_FAULT_SGN_10;
    if (!(u->gsts & GSTS_TES))
        return r->fault = SIOV_ERR_BUS;
    struct walk w = {u, r, sid, pasid, addr, SIOV_ACCESS_READ, 2};
    struct pe pe = {0};
    struct ce ce;
    uint64_t ctp;
    siov_fault f = check_rtaddr(&w);
    r->legacy = fld(u->rtaddr, RTADDR_TTM) == TTM_LEGACY;
    if (!f && r->legacy) {
        f = legacy_root_entry(&w, &ctp);
        if (!f)
            f = legacy_context_entry(&w, ctp, &pe);
    } else if (!f) {
        f = sm_root_entry(&w, &ctp);
        if (!f)
            f = sm_context_entry(&w, ctp, &ce);
        if (!f && pasid != SIOV_NO_PASID)
            f = SIOV_FAULT_SCT_10; /* translated requests with PASID need EPTR, which the unit lacks */
    }
    if (!f && (addr & haw_rsvd(&w)))
        f = r->legacy ? SIOV_FAULT_LGN_1 : SIOV_FAULT_SGN_4;
    if (!f && in_interrupt_range(addr))
        f = r->legacy ? SIOV_FAULT_LGN_4 : SIOV_FAULT_SGN_8;
    if (!f)
        r->x = (struct siov_xlate){addr, PAGE_4K, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC,
                                   r->legacy ? pe.did : 0};
    return r->fault = f;
}

/* --------------------------------------------------------- page requests */

/* A page request's checks (facts 14.4, 14.7: Table 30's page-request
   column): the root-table state (legacy mode RTA.3), the root and context
   entries, PRE (SCT.8), then the PASID (RID_PASID without one) through the
   directory to its entry. No paging structure is read. */
siov_fault ref_page_request(const struct ref_unit *u, siov_sid sid, uint32_t pasid, struct ref_result *r)
{
    memset(r, 0, sizeof *r);
    if (pasid != SIOV_NO_PASID && pasid > SIOV_PASID_MAX)
        return r->fault = SIOV_FAULT_SGN_10;
    if (!(u->ecap & ECAP_PRS) || !(u->gsts & GSTS_TES))
        return r->fault = SIOV_ERR_BUS;
    struct walk w = {u, r, sid, pasid, 0, SIOV_ACCESS_READ, REF_AT_PAGE_REQ};
    siov_fault f = check_rtaddr(&w);
    r->legacy = fld(u->rtaddr, RTADDR_TTM) == TTM_LEGACY;
    if (f == SIOV_FAULT_RTA_2 || (!f && r->legacy))
        return r->fault = SIOV_FAULT_RTA_3;
    uint64_t ctp = 0, tbl = 0;
    uint32_t looked = 0;
    struct ce ce = {0};
    struct pe pe = {0};
    if (!f)
        f = sm_root_entry(&w, &ctp);
    if (!f)
        f = sm_context_entry(&w, ctp, &ce);
    if (!f && !ce.pre)
        f = SIOV_FAULT_SCT_8;
    if (!f)
        f = sm_pasid_select(&w, &ce, &looked);
    if (!f)
        f = pasid_dir_entry(&w, &ce, looked, &tbl);
    if (!f)
        f = pasid_table_entry(&w, tbl, looked, &pe);
    if (!f) {
        r->pgtt = pe.pgtt;
        r->x.did = pe.did;
    }
    return r->fault = f;
}

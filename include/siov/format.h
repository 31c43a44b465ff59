/* libsiov — bit-exact VT-d structures, registers and capability bits.
 *
 * Vocabulary used throughout libsiov:
 *  - input address: the address a request carries (IOVA, or a guest-physical
 *    address when the second level translates a first-level result);
 *    output address: what a translation produces (host-physical address).
 *  - entry: one element of a table (root entry, context entry, PASID-table
 *    entry, paging entry); table: the 4 KiB page that holds entries.
 *  - level: paging levels are numbered from the leaf up. Level 1 is the page
 *    table (PTE, maps 4 KiB), level 2 the page directory (PDE, or a 2 MiB
 *    leaf with PS=1), level 3 the PDPT (PDPE, or a 1 GiB leaf), level 4 the
 *    PML4, level 5 the PML5. A walk starts at the top level and descends.
 *  - first level (FL) / second level (SL): the spec's revision 3.4 calls
 *    them first stage / second stage; the meaning and bit positions are the
 *    same. First level uses the IA-32e format, second level the EPT-like one.
 *  - qwN: the Nth 64-bit word of a structure (little endian). Masks below
 *    are named after the structure and the qword they apply to, e.g.
 *    SIOV_PTE0_PGTT is bits 8:6 of qw0 of the PASID-table entry.
 *
 * Everything is a mask (SIOV_BITS(hi, lo)); siov_get()/siov_set() read and
 * write a field through its mask. Spec references are to the VT-d
 * architecture specification, revision 3.x/4.x.
 */
#ifndef SIOV_FORMAT_H
#define SIOV_FORMAT_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SIOV_BIT(n) (1ull << (n))
#define SIOV_BITS(hi, lo) ((~0ull >> (63 - (hi))) & (~0ull << (lo)))

/* Value of the field under mask in v. */
static inline uint64_t siov_get(uint64_t v, uint64_t mask)
{
    return (v & mask) >> __builtin_ctzll(mask);
}
/* v with the field under mask replaced by val (excess bits of val dropped). */
static inline uint64_t siov_set(uint64_t v, uint64_t mask, uint64_t val)
{
    return (v & ~mask) | ((val << __builtin_ctzll(mask)) & mask);
}
/* Mask of address bits at and above width (width 64 gives 0). */
static inline uint64_t siov_above(unsigned width)
{
    return width >= 64 ? 0 : ~0ull << width;
}

#define SIOV_PAGE_SHIFT 12
#define SIOV_PAGE_SIZE 4096ull
#define SIOV_PAGE_MASK (~(SIOV_PAGE_SIZE - 1))
#define SIOV_ADDR_4K SIOV_BITS(63, 12) /* a 4 KiB-aligned pointer field */

/* ---------------------------------------------------------------- registers
 * Offsets of the register file (spec 10.4). */
#define SIOV_REG_VER 0x000
#define SIOV_REG_CAP 0x008
#define SIOV_REG_ECAP 0x010
#define SIOV_REG_GCMD 0x018
#define SIOV_REG_GSTS 0x01C
#define SIOV_REG_RTADDR 0x020
#define SIOV_REG_CCMD 0x028
#define SIOV_REG_FSTS 0x034
#define SIOV_REG_FECTL 0x038
#define SIOV_REG_FEDATA 0x03C
#define SIOV_REG_FEADDR 0x040
#define SIOV_REG_FEUADDR 0x044
#define SIOV_REG_AFLOG 0x058
#define SIOV_REG_PMEN 0x064
#define SIOV_REG_PLMBASE 0x068
#define SIOV_REG_PLMLIMIT 0x06C
#define SIOV_REG_PHMBASE 0x070
#define SIOV_REG_PHMLIMIT 0x078
#define SIOV_REG_IQH 0x080
#define SIOV_REG_IQT 0x088
#define SIOV_REG_IQA 0x090
#define SIOV_REG_ICS 0x09C
#define SIOV_REG_IECTL 0x0A0
#define SIOV_REG_IEDATA 0x0A4
#define SIOV_REG_IEADDR 0x0A8
#define SIOV_REG_IEUADDR 0x0AC
#define SIOV_REG_IQERCD 0x0B0
#define SIOV_REG_IRTA 0x0B8
#define SIOV_REG_PQH 0x0C0
#define SIOV_REG_PQT 0x0C8
#define SIOV_REG_PQA 0x0D0
#define SIOV_REG_PRS 0x0DC
#define SIOV_REG_PECTL 0x0E0
#define SIOV_REG_PEDATA 0x0E4
#define SIOV_REG_PEADDR 0x0E8
#define SIOV_REG_PEUADDR 0x0EC
/* libsiov places the IOTLB registers at 16*ECAP.IRO and the fault records at
   16*CAP.FRO (the positions QEMU uses, so existing drivers find them). */
#define SIOV_REG_IVA 0x0F0
#define SIOV_REG_IOTLB 0x0F8
#define SIOV_REG_FRCD 0x220
#define SIOV_FRCD_SIZE 16
#define SIOV_REG_FILE_SIZE 0x1220 /* FRCD base + 256 records */

/* VER */
#define SIOV_VER_MINOR SIOV_BITS(3, 0)
#define SIOV_VER_MAJOR SIOV_BITS(7, 4)

/* CAP (spec 10.4.2) */
#define SIOV_CAP_ND SIOV_BITS(2, 0)
#define SIOV_CAP_AFL SIOV_BIT(3)
#define SIOV_CAP_RWBF SIOV_BIT(4)
#define SIOV_CAP_PLMR SIOV_BIT(5)
#define SIOV_CAP_PHMR SIOV_BIT(6)
#define SIOV_CAP_CM SIOV_BIT(7)
#define SIOV_CAP_SAGAW SIOV_BITS(12, 8)
#define SIOV_CAP_MGAW SIOV_BITS(21, 16) /* width - 1 */
#define SIOV_CAP_ZLR SIOV_BIT(22)
#define SIOV_CAP_FRO SIOV_BITS(33, 24)  /* 16-byte units */
#define SIOV_CAP_SLLPS SIOV_BITS(37, 34)
#define SIOV_CAP_PSI SIOV_BIT(39)
#define SIOV_CAP_NFR SIOV_BITS(47, 40)  /* records - 1 */
#define SIOV_CAP_MAMV SIOV_BITS(53, 48)
#define SIOV_CAP_DWD SIOV_BIT(54)
#define SIOV_CAP_DRD SIOV_BIT(55)
#define SIOV_CAP_FL1GP SIOV_BIT(56)
#define SIOV_CAP_PI SIOV_BIT(59)
#define SIOV_CAP_FL5LP SIOV_BIT(60)
#define SIOV_CAP_ECMDS SIOV_BIT(61)
#define SIOV_CAP_ESIRTPS SIOV_BIT(62)
#define SIOV_CAP_ESRTPS SIOV_BIT(63)
#define SIOV_SAGAW_3LVL SIOV_BIT(1) /* SAGAW field values */
#define SIOV_SAGAW_4LVL SIOV_BIT(2)
#define SIOV_SAGAW_5LVL SIOV_BIT(3)
#define SIOV_SLLPS_2M SIOV_BIT(0) /* SLLPS field values */
#define SIOV_SLLPS_1G SIOV_BIT(1)

/* ECAP (spec 10.4.3) */
#define SIOV_ECAP_C SIOV_BIT(0)
#define SIOV_ECAP_QI SIOV_BIT(1)
#define SIOV_ECAP_DT SIOV_BIT(2)
#define SIOV_ECAP_IR SIOV_BIT(3)
#define SIOV_ECAP_EIM SIOV_BIT(4)
#define SIOV_ECAP_PT SIOV_BIT(6)
#define SIOV_ECAP_SC SIOV_BIT(7)
#define SIOV_ECAP_IRO SIOV_BITS(17, 8) /* 16-byte units */
#define SIOV_ECAP_MHMV SIOV_BITS(23, 20)
#define SIOV_ECAP_MTS SIOV_BIT(25)
#define SIOV_ECAP_NEST SIOV_BIT(26)
#define SIOV_ECAP_PRS SIOV_BIT(29)
#define SIOV_ECAP_ERS SIOV_BIT(30)
#define SIOV_ECAP_SRS SIOV_BIT(31)
#define SIOV_ECAP_NWFS SIOV_BIT(33)
#define SIOV_ECAP_EAFS SIOV_BIT(34)
#define SIOV_ECAP_PSS SIOV_BITS(39, 35) /* PASID width - 1 */
#define SIOV_ECAP_PASID SIOV_BIT(40)
#define SIOV_ECAP_DIT SIOV_BIT(41)
#define SIOV_ECAP_PDS SIOV_BIT(42)
#define SIOV_ECAP_SMTS SIOV_BIT(43)
#define SIOV_ECAP_VCS SIOV_BIT(44)
#define SIOV_ECAP_SLADS SIOV_BIT(45)
#define SIOV_ECAP_SLTS SIOV_BIT(46)
#define SIOV_ECAP_FLTS SIOV_BIT(47)
#define SIOV_ECAP_SMPWCS SIOV_BIT(48)
#define SIOV_ECAP_RPS SIOV_BIT(49)
#define SIOV_ECAP_PMS SIOV_BIT(51)
#define SIOV_ECAP_ADMS SIOV_BIT(52)
#define SIOV_ECAP_RPRIVS SIOV_BIT(53)
#define SIOV_ECAP_SMS SIOV_BIT(58)   /* rev 5: stop markers that cannot be queued are dropped */
#define SIOV_ECAP_EIMER SIOV_BIT(61) /* rev 5: x2APIC mode only (IRTA.EIME must be 1) */
#define SIOV_ECAP_IRREQ SIOV_BIT(62) /* rev 5: interrupts blocked while IR is disabled */

/* GCMD / GSTS (spec 10.4.4, 10.4.5): same positions in both */
#define SIOV_GCMD_TE SIOV_BIT(31)
#define SIOV_GCMD_SRTP SIOV_BIT(30)
#define SIOV_GCMD_SFL SIOV_BIT(29)
#define SIOV_GCMD_EAFL SIOV_BIT(28)
#define SIOV_GCMD_WBF SIOV_BIT(27)
#define SIOV_GCMD_QIE SIOV_BIT(26)
#define SIOV_GCMD_IRE SIOV_BIT(25)
#define SIOV_GCMD_SIRTP SIOV_BIT(24)
#define SIOV_GCMD_CFI SIOV_BIT(23)
#define SIOV_GSTS_TES SIOV_BIT(31)
#define SIOV_GSTS_RTPS SIOV_BIT(30)
#define SIOV_GSTS_FLS SIOV_BIT(29)
#define SIOV_GSTS_AFLS SIOV_BIT(28)
#define SIOV_GSTS_WBFS SIOV_BIT(27)
#define SIOV_GSTS_QIES SIOV_BIT(26)
#define SIOV_GSTS_IRES SIOV_BIT(25)
#define SIOV_GSTS_IRTPS SIOV_BIT(24)
#define SIOV_GSTS_CFIS SIOV_BIT(23)

/* RTADDR (spec 10.4.6) */
#define SIOV_RTADDR_TTM SIOV_BITS(11, 10)
#define SIOV_RTADDR_RTA SIOV_ADDR_4K
#define SIOV_RTADDR_RSVD SIOV_BITS(9, 0)
#define SIOV_TTM_LEGACY 0u
#define SIOV_TTM_SCALABLE 1u
#define SIOV_TTM_RESERVED 2u
#define SIOV_TTM_ABORT 3u

/* CCMD (spec 10.4.7) */
#define SIOV_CCMD_DID SIOV_BITS(15, 0)
#define SIOV_CCMD_SID SIOV_BITS(31, 16)
#define SIOV_CCMD_FM SIOV_BITS(33, 32)
#define SIOV_CCMD_RSVD SIOV_BITS(58, 34)
#define SIOV_CCMD_CAIG SIOV_BITS(60, 59)
#define SIOV_CCMD_CIRG SIOV_BITS(62, 61)
#define SIOV_CCMD_ICC SIOV_BIT(63)

/* IOTLB_REG and IVA (spec 10.4.8) */
#define SIOV_IOTLB_DID SIOV_BITS(47, 32)
#define SIOV_IOTLB_DW SIOV_BIT(48)
#define SIOV_IOTLB_DR SIOV_BIT(49)
#define SIOV_IOTLB_IAIG SIOV_BITS(58, 57)
#define SIOV_IOTLB_IIRG SIOV_BITS(61, 60)
#define SIOV_IOTLB_IVT SIOV_BIT(63)
#define SIOV_IOTLB_RSVD (SIOV_BITS(31, 0) | SIOV_BITS(56, 50) | SIOV_BIT(59) | SIOV_BIT(62))
#define SIOV_IVA_AM SIOV_BITS(5, 0)
#define SIOV_IVA_IH SIOV_BIT(6)
#define SIOV_IVA_ADDR SIOV_ADDR_4K
#define SIOV_IVA_RSVD SIOV_BITS(11, 7)
#define SIOV_INV_GRAN_GLOBAL 1u /* CIRG/IIRG and their actual-granularity echoes */
#define SIOV_INV_GRAN_DOMAIN 2u
#define SIOV_INV_GRAN_DEVICE 3u /* CCMD: device-selective */
#define SIOV_INV_GRAN_PAGE 3u   /* IOTLB: page-selective within domain */

/* FSTS (spec 10.4.9) */
#define SIOV_FSTS_PFO SIOV_BIT(0)
#define SIOV_FSTS_PPF SIOV_BIT(1)
#define SIOV_FSTS_AFO SIOV_BIT(2)
#define SIOV_FSTS_APF SIOV_BIT(3)
#define SIOV_FSTS_IQE SIOV_BIT(4)
#define SIOV_FSTS_ICE SIOV_BIT(5)
#define SIOV_FSTS_ITE SIOV_BIT(6)
#define SIOV_FSTS_FRI SIOV_BITS(15, 8)
#define SIOV_FSTS_RW1C (SIOV_FSTS_PFO | SIOV_FSTS_AFO | SIOV_FSTS_APF | SIOV_FSTS_IQE | \
                        SIOV_FSTS_ICE | SIOV_FSTS_ITE)

/* FECTL / IECTL (spec 10.4.10, 10.4.26) */
#define SIOV_ECTL_IM SIOV_BIT(31)
#define SIOV_ECTL_IP SIOV_BIT(30)
#define SIOV_FEADDR_RSVD SIOV_BITS(1, 0)
#define SIOV_FEDATA_DATA SIOV_BITS(15, 0)

/* IRTA (spec 10.4.29; facts 12.1): 2^(S+1) entries of 16 bytes at IRTA */
#define SIOV_IRTA_S SIOV_BITS(3, 0)
#define SIOV_IRTA_RSVD SIOV_BITS(10, 4)
#define SIOV_IRTA_EIME SIOV_BIT(11) /* 1: x2APIC mode (32-bit destinations) */
#define SIOV_IRTA_IRTA SIOV_ADDR_4K
/* Entries of the interrupt remapping table an IRTA value describes. */
static inline uint64_t siov_irta_entries(uint64_t irta)
{
    return 2ull << siov_get(irta, SIOV_IRTA_S);
}

/* Page request queue: PQH/PQT/PQA (spec 11.4.11.1-3; facts 14.2) and the
   page request status register PRS (11.4.11.4). PECTL/PEDATA/PEADDR/PEUADDR
   share the layouts of FECTL/FEDATA/FEADDR/FEUADDR (SIOV_ECTL_*, SIOV_FEDATA_*). */
#define SIOV_PQ_PTR SIOV_BITS(18, 5)    /* PQH/PQT: byte offset of a 32-byte descriptor */
#define SIOV_PQA_PQS SIOV_BITS(2, 0)    /* 2^PQS 4 KiB pages */
#define SIOV_PQA_RSVD SIOV_BITS(11, 3)
#define SIOV_PQA_PQA SIOV_ADDR_4K
#define SIOV_PRS_PPR SIOV_BIT(0)        /* pending page request (RW1CS) */
#define SIOV_PRS_PRO SIOV_BIT(1)        /* page request overflow (RW1CS) */
#define SIOV_PRQ_DESC_SIZE 32u
/* Bytes of the page request queue a PQA value describes. */
static inline uint64_t siov_pq_bytes(uint64_t pqa)
{
    return SIOV_PAGE_SIZE << siov_get(pqa, SIOV_PQA_PQS);
}

/* ICS (spec 10.4.25) */
#define SIOV_ICS_IWC SIOV_BIT(0)

/* IQA / IQH / IQT / IQERCD (spec 10.4.22-24, 10.4.27) */
#define SIOV_IQA_QS SIOV_BITS(2, 0)
#define SIOV_IQA_DW SIOV_BIT(11)
#define SIOV_IQA_IQA SIOV_ADDR_4K
#define SIOV_IQA_RSVD SIOV_BITS(10, 3)
#define SIOV_IQ_PTR SIOV_BITS(18, 4) /* IQH/IQT: byte offset into the queue */
#define SIOV_IQERCD_IQEI SIOV_BITS(3, 0)
#define SIOV_IQERCD_ITESID SIOV_BITS(47, 32)
#define SIOV_IQERCD_ICESID SIOV_BITS(63, 48)
#define SIOV_IQEI_NONE 0u
#define SIOV_IQEI_TAIL 1u       /* tail beyond the queue */
#define SIOV_IQEI_FETCH 2u      /* descriptor fetch error */
#define SIOV_IQEI_TYPE 3u       /* unknown descriptor type */
#define SIOV_IQEI_RSVD 4u       /* reserved field set */
#define SIOV_IQEI_WIDTH 5u      /* invalid width: DW=1 without SMTS/ADMS, or DW=0 with TTM 01/11 */
#define SIOV_IQEI_TAIL_ALIGN 6u /* DW=1 and tail bit 4 set */
#define SIOV_IQEI_TTM 7u        /* descriptor invalid for the current TTM */

/* FRCD: 128-bit fault recording register (spec 10.4.14) */
#define SIOV_FRCD0_FI SIOV_ADDR_4K
#define SIOV_FRCD1_SID SIOV_BITS(15, 0)
#define SIOV_FRCD1_T2 SIOV_BIT(28) /* with T1: (0,0) write, (1,0) read, (1,1) AtomicOp, (0,1) page request */
#define SIOV_FRCD1_PRIV SIOV_BIT(29)
#define SIOV_FRCD1_EXE SIOV_BIT(30)
#define SIOV_FRCD1_PP SIOV_BIT(31)
#define SIOV_FRCD1_FR SIOV_BITS(39, 32)
#define SIOV_FRCD1_PV SIOV_BITS(59, 40)
#define SIOV_FRCD1_AT SIOV_BITS(61, 60)
#define SIOV_FRCD1_T1 SIOV_BIT(62) /* 0 write, 1 read */
#define SIOV_FRCD1_F SIOV_BIT(63)
#define SIOV_FRCD0_IRQ_INDEX SIOV_BITS(63, 48) /* FI of an interrupt-remapping fault */
#define SIOV_FRCD_AT_UNTRANSLATED 0u /* AT field values: the PCIe address type */
#define SIOV_FRCD_AT_TRANSLATION_REQ 1u
#define SIOV_FRCD_AT_TRANSLATED 2u

/* ------------------------------------------------------- root / context
 * Root table: 256 entries of 16 bytes indexed by bus (spec 9.1, 9.2). */
#define SIOV_ROOT_ENTRY_SIZE 16
#define SIOV_RE0_P SIOV_BIT(0) /* legacy root entry */
#define SIOV_RE0_CTP SIOV_ADDR_4K
#define SIOV_RE0_RSVD SIOV_BITS(11, 1)
#define SIOV_SRE0_LP SIOV_BIT(0) /* scalable-mode root entry: lower half */
#define SIOV_SRE0_LCTP SIOV_ADDR_4K
#define SIOV_SRE1_UP SIOV_BIT(0) /* upper half, in qw1 */
#define SIOV_SRE1_UCTP SIOV_ADDR_4K
#define SIOV_SRE_HALF_RSVD SIOV_BITS(11, 1) /* the same in each qword */

/* Legacy context entry: 256 entries of 16 bytes indexed by devfn (spec 9.3). */
#define SIOV_CTX_ENTRY_SIZE 16
#define SIOV_CE0_P SIOV_BIT(0)
#define SIOV_CE0_FPD SIOV_BIT(1)
#define SIOV_CE0_TT SIOV_BITS(3, 2)
#define SIOV_CE0_SLPTPTR SIOV_ADDR_4K
#define SIOV_CE0_RSVD SIOV_BITS(11, 4)
#define SIOV_CE1_AW SIOV_BITS(2, 0)
#define SIOV_CE1_DID SIOV_BITS(23, 8)
#define SIOV_CE1_RSVD (SIOV_BIT(7) | SIOV_BITS(63, 24))
#define SIOV_TT_SL 0u          /* untranslated requests through the second level */
#define SIOV_TT_SL_DT 1u       /* the same, with device-TLB */
#define SIOV_TT_PASS_THROUGH 2u
#define SIOV_TT_RESERVED 3u

/* Scalable-mode context entry: 128 entries of 32 bytes per half (spec 9.4). */
#define SIOV_SM_CTX_ENTRY_SIZE 32
#define SIOV_SCE0_P SIOV_BIT(0)
#define SIOV_SCE0_FPD SIOV_BIT(1)
#define SIOV_SCE0_DTE SIOV_BIT(2)
#define SIOV_SCE0_PASIDE SIOV_BIT(3)
#define SIOV_SCE0_PRE SIOV_BIT(4)
#define SIOV_SCE0_RSVD SIOV_BITS(8, 5)
#define SIOV_SCE0_PDTS SIOV_BITS(11, 9)
#define SIOV_SCE0_PASIDDIRPTR SIOV_ADDR_4K
#define SIOV_SCE1_RID_PASID SIOV_BITS(19, 0)
#define SIOV_SCE1_RID_PRIV SIOV_BIT(20)
#define SIOV_SCE1_RSVD SIOV_BITS(63, 21)

/* ------------------------------------------------------- PASID structures
 * PASID directory: 8-byte entries indexed by PASID[19:6] (spec 9.5). */
#define SIOV_PDE_SIZE 8
#define SIOV_PDE_P SIOV_BIT(0)
#define SIOV_PDE_FPD SIOV_BIT(1)
#define SIOV_PDE_RSVD SIOV_BITS(11, 2)
#define SIOV_PDE_SMPTBLPTR SIOV_ADDR_4K
#define SIOV_PASID_DIR_INDEX SIOV_BITS(19, 6) /* fields of a PASID value */
#define SIOV_PASID_TBL_INDEX SIOV_BITS(5, 0)

/* PASID-table entry: 64 bytes, 64 per table (spec 9.6). */
#define SIOV_PTE_SIZE 64
#define SIOV_PTE0_P SIOV_BIT(0)
#define SIOV_PTE0_FPD SIOV_BIT(1)
#define SIOV_PTE0_AW SIOV_BITS(4, 2)
#define SIOV_PTE0_SLEE SIOV_BIT(5)
#define SIOV_PTE0_PGTT SIOV_BITS(8, 6)
#define SIOV_PTE0_SLADE SIOV_BIT(9)
#define SIOV_PTE0_RSVD SIOV_BITS(11, 10)
#define SIOV_PTE0_SLPTPTR SIOV_ADDR_4K
#define SIOV_PTE1_DID SIOV_BITS(15, 0)
#define SIOV_PTE1_RSVD SIOV_BITS(22, 16)
#define SIOV_PTE1_PWSNP SIOV_BIT(23)
#define SIOV_PTE1_PGSNP SIOV_BIT(24)
#define SIOV_PTE1_CD SIOV_BIT(25)
#define SIOV_PTE1_EMTE SIOV_BIT(26)
#define SIOV_PTE1_EMT SIOV_BITS(29, 27)
#define SIOV_PTE1_PWT SIOV_BIT(30)
#define SIOV_PTE1_PCD SIOV_BIT(31)
#define SIOV_PTE1_PAT SIOV_BITS(63, 32)
#define SIOV_PTE1_MT_FIELDS (SIOV_PTE1_CD | SIOV_PTE1_EMTE | SIOV_PTE1_EMT | \
                             SIOV_PTE1_PWT | SIOV_PTE1_PCD | SIOV_PTE1_PAT)
#define SIOV_PTE2_SRE SIOV_BIT(0)
#define SIOV_PTE2_ERE SIOV_BIT(1)
#define SIOV_PTE2_FLPM SIOV_BITS(3, 2)
#define SIOV_PTE2_WPE SIOV_BIT(4)
#define SIOV_PTE2_NXE SIOV_BIT(5)
#define SIOV_PTE2_SMEP SIOV_BIT(6)
#define SIOV_PTE2_EAFE SIOV_BIT(7)
#define SIOV_PTE2_RSVD SIOV_BITS(11, 8)
#define SIOV_PTE2_FLPTPTR SIOV_ADDR_4K
#define SIOV_PGTT_FL 1u
#define SIOV_PGTT_SL 2u
#define SIOV_PGTT_NESTED 3u
#define SIOV_PGTT_PT 4u
#define SIOV_FLPM_4LVL 0u
#define SIOV_FLPM_5LVL 1u

/* Address width encoding shared by the context entry (AW) and the PASID
   entry (AW): levels = AW + 2, width = 30 + 9 * AW. */
#define SIOV_AW_3LVL 1u
#define SIOV_AW_4LVL 2u
#define SIOV_AW_5LVL 3u
static inline unsigned siov_aw_levels(unsigned aw) { return aw + 2; }
static inline unsigned siov_aw_width(unsigned aw) { return 30 + 9 * aw; }

/* --------------------------------------------------------- paging entries
 * 512 entries of 8 bytes per table; level L indexes input bits
 * [12 + 9L - 1 : 12 + 9(L-1)] (spec 9.7, 9.8). */
#define SIOV_PT_ENTRIES 512
static inline unsigned siov_level_shift(unsigned level) { return 12 + 9 * (level - 1); }
static inline unsigned siov_level_index(uint64_t addr, unsigned level)
{
    return (unsigned)((addr >> siov_level_shift(level)) & 0x1FF);
}

/* Second-level entry (EPT-like, spec 9.8) */
#define SIOV_SL_R SIOV_BIT(0)
#define SIOV_SL_W SIOV_BIT(1)
#define SIOV_SL_X SIOV_BIT(2)
#define SIOV_SL_EMT SIOV_BITS(5, 3)
#define SIOV_SL_IPAT SIOV_BIT(6)
#define SIOV_SL_PS SIOV_BIT(7)
#define SIOV_SL_A SIOV_BIT(8)
#define SIOV_SL_D SIOV_BIT(9)
#define SIOV_SL_SNP SIOV_BIT(11)
#define SIOV_SL_ADDR SIOV_BITS(51, 12)
#define SIOV_SL_TM SIOV_BIT(62) /* reserved(0) since rev 3.2 */
#define SIOV_SL_NONLEAF_RSVD (SIOV_BIT(11) | SIOV_BIT(62)) /* plus PS at levels 4/5 */
#define SIOV_SL_LEAF_RSVD SIOV_BIT(62) /* SNP is allowed in scalable mode */
#define SIOV_SL_LEGACY_LEAF_RSVD (SIOV_BIT(11) | SIOV_BIT(62)) /* SNP needs ECAP.SC */

/* First-level entry (IA-32e, spec 9.7) */
#define SIOV_FL_P SIOV_BIT(0)
#define SIOV_FL_RW SIOV_BIT(1)
#define SIOV_FL_US SIOV_BIT(2)
#define SIOV_FL_PWT SIOV_BIT(3)
#define SIOV_FL_PCD SIOV_BIT(4)
#define SIOV_FL_A SIOV_BIT(5)
#define SIOV_FL_D SIOV_BIT(6)
#define SIOV_FL_PS SIOV_BIT(7)
#define SIOV_FL_PAT_4K SIOV_BIT(7)
#define SIOV_FL_G SIOV_BIT(8)
#define SIOV_FL_EA SIOV_BIT(10)
#define SIOV_FL_PAT_LARGE SIOV_BIT(12)
#define SIOV_FL_ADDR SIOV_BITS(51, 12)
#define SIOV_FL_XD SIOV_BIT(63)

/* Reserved low address bits of a large leaf: 2 MiB leaves reserve
   bits 20:13 (FL, bit 12 is PAT) or 20:12 (SL); 1 GiB leaves 29:13 / 29:12. */
#define SIOV_FL_2M_RSVD SIOV_BITS(20, 13)
#define SIOV_FL_1G_RSVD SIOV_BITS(29, 13)
#define SIOV_SL_2M_RSVD SIOV_BITS(20, 12)
#define SIOV_SL_1G_RSVD SIOV_BITS(29, 12)

/* Interrupt address range: outputs here are blocked (SGN.8 / LGN.4). */
#define SIOV_INTR_BASE 0xFEE00000ull
#define SIOV_INTR_LIMIT 0xFEEFFFFFull

/* --------------------------------------------------- interrupt remapping
 * An interrupt request is a DWORD write without PASID to 0xFEEx_xxxx; address
 * bit 4 selects the format (spec 5.1.2-5.1.4; facts 12.2). */
#define SIOV_MSI_ADDR_REMAP SIOV_BIT(4) /* 1: remappable format */
/* compatibility format (the x86 MSI layout) */
#define SIOV_MSI_ADDR_DEST SIOV_BITS(19, 12)
#define SIOV_MSI_ADDR_RH SIOV_BIT(3)
#define SIOV_MSI_ADDR_DM SIOV_BIT(2)
#define SIOV_MSI_DATA_VECTOR SIOV_BITS(7, 0)
#define SIOV_MSI_DATA_DLM SIOV_BITS(10, 8)
#define SIOV_MSI_DATA_LEVEL SIOV_BIT(14)
#define SIOV_MSI_DATA_TM SIOV_BIT(15)
/* remappable format: handle[14:0] in address 19:5, handle[15] in bit 2 */
#define SIOV_MSI_ADDR_HANDLE_LO SIOV_BITS(19, 5)
#define SIOV_MSI_ADDR_SHV SIOV_BIT(3)
#define SIOV_MSI_ADDR_HANDLE_HI SIOV_BIT(2)
#define SIOV_MSI_DATA_SUBHANDLE SIOV_BITS(15, 0)
#define SIOV_MSI_DATA_RSVD SIOV_BITS(31, 16) /* must be 0 when SHV=1 */
static inline unsigned siov_msi_handle(uint64_t addr)
{
    return (unsigned)(siov_get(addr, SIOV_MSI_ADDR_HANDLE_LO) | siov_get(addr, SIOV_MSI_ADDR_HANDLE_HI) << 15);
}
/* The remappable-format address of handle (SHV as given). */
static inline uint64_t siov_msi_remap_addr(unsigned handle, bool shv)
{
    uint64_t a = SIOV_INTR_BASE | SIOV_MSI_ADDR_REMAP | (shv ? SIOV_MSI_ADDR_SHV : 0);
    a = siov_set(a, SIOV_MSI_ADDR_HANDLE_LO, handle & 0x7FFF);
    return siov_set(a, SIOV_MSI_ADDR_HANDLE_HI, (handle >> 15) & 1);
}

/* Interrupt remapping table entry, 128 bits (spec 9.9 remapped, 9.10 posted). */
#define SIOV_IRTE_SIZE 16
#define SIOV_IRTE0_P SIOV_BIT(0)
#define SIOV_IRTE0_FPD SIOV_BIT(1)
#define SIOV_IRTE0_DM SIOV_BIT(2)  /* remapped: 1 logical destination */
#define SIOV_IRTE0_RH SIOV_BIT(3)
#define SIOV_IRTE0_TM SIOV_BIT(4)  /* 1 level-triggered */
#define SIOV_IRTE0_DLM SIOV_BITS(7, 5)
#define SIOV_IRTE0_AVAIL SIOV_BITS(11, 8) /* ignored by hardware */
#define SIOV_IRTE0_URG SIOV_BIT(14) /* posted: urgent */
#define SIOV_IRTE0_IM SIOV_BIT(15)  /* 1: posted format */
#define SIOV_IRTE0_V SIOV_BITS(23, 16) /* vector; posted: VV, the PIR bit */
#define SIOV_IRTE0_DST SIOV_BITS(63, 32)       /* x2APIC mode: the APIC ID */
#define SIOV_IRTE0_DST_XAPIC SIOV_BITS(47, 40) /* xAPIC mode: the APIC ID */
#define SIOV_IRTE0_PDAL SIOV_BITS(63, 38)      /* posted: descriptor address bits 31:6 */
#define SIOV_IRTE0_REMAP_RSVD (SIOV_BITS(14, 12) | SIOV_BITS(31, 24))
#define SIOV_IRTE0_XAPIC_RSVD (SIOV_BITS(39, 32) | SIOV_BITS(63, 48)) /* remapped, EIME=0 */
#define SIOV_IRTE0_POST_RSVD (SIOV_BITS(7, 2) | SIOV_BITS(13, 12) | SIOV_BITS(37, 24))
#define SIOV_IRTE1_SID SIOV_BITS(15, 0)
#define SIOV_IRTE1_SQ SIOV_BITS(17, 16)
#define SIOV_IRTE1_SVT SIOV_BITS(19, 18)
#define SIOV_IRTE1_REMAP_RSVD SIOV_BITS(63, 20)
#define SIOV_IRTE1_POST_RSVD SIOV_BITS(31, 20)
#define SIOV_IRTE1_PDAH SIOV_BITS(63, 32) /* posted: descriptor address bits 63:32 */
#define SIOV_SVT_NONE 0u  /* SVT values: no source validation */
#define SIOV_SVT_RID 1u   /* requester id = SID, bits masked by SQ */
#define SIOV_SVT_BUS 2u   /* requester bus in [SID[15:8], SID[7:0]] */
#define SIOV_SVT_RESERVED 3u
#define SIOV_SQ_ALL 0u    /* SQ values: compare all 16 bits ... */
#define SIOV_SQ_NO_BIT2 1u
#define SIOV_SQ_NO_BITS21 2u
#define SIOV_SQ_NO_BITS210 3u
#define SIOV_DLM_FIXED 0u /* DLM values (011 and 110 are reserved) */
#define SIOV_DLM_LOWEST 1u
#define SIOV_DLM_SMI 2u
#define SIOV_DLM_NMI 4u
#define SIOV_DLM_INIT 5u
#define SIOV_DLM_EXTINT 7u
/* The posted-interrupt descriptor address a posted IRTE names. */
static inline uint64_t siov_irte_pda(uint64_t qw0, uint64_t qw1)
{
    return siov_get(qw1, SIOV_IRTE1_PDAH) << 32 | siov_get(qw0, SIOV_IRTE0_PDAL) << 6;
}
/* qw0/qw1 with the descriptor address pda (64-byte aligned) put in. */
static inline uint64_t siov_irte0_set_pda(uint64_t qw0, uint64_t pda)
{
    return siov_set(qw0, SIOV_IRTE0_PDAL, (pda >> 6) & 0x3FFFFFF);
}
static inline uint64_t siov_irte1_set_pda(uint64_t qw1, uint64_t pda)
{
    return siov_set(qw1, SIOV_IRTE1_PDAH, pda >> 32);
}

/* Posted-interrupt descriptor: 64 bytes, 64-byte aligned (spec 9.11). qw0..3
   hold the PIR (one bit per vector), qw4 the control word, qw5..7 are reserved. */
#define SIOV_PID_SIZE 64
#define SIOV_PID_CTL_QW 4
#define SIOV_PID4_ON SIOV_BIT(0) /* outstanding notification */
#define SIOV_PID4_SN SIOV_BIT(1) /* suppress notification */
#define SIOV_PID4_NV SIOV_BITS(23, 16)
#define SIOV_PID4_NDST SIOV_BITS(63, 32)       /* x2APIC mode: the APIC ID */
#define SIOV_PID4_NDST_XAPIC SIOV_BITS(47, 40) /* xAPIC mode: the APIC ID */
#define SIOV_PID4_RSVD (SIOV_BITS(15, 2) | SIOV_BITS(31, 24))
#define SIOV_PID4_XAPIC_RSVD (SIOV_BITS(39, 32) | SIOV_BITS(63, 48))

/* ------------------------------------------------ invalidation descriptors
 * type = qw0[11:9] << 4 | qw0[3:0] (spec 6.5.2). */
#define SIOV_DSC0_TYPE_LO SIOV_BITS(3, 0)
#define SIOV_DSC0_TYPE_HI SIOV_BITS(11, 9)
static inline unsigned siov_dsc_type(uint64_t qw0)
{
    return (unsigned)(siov_get(qw0, SIOV_DSC0_TYPE_HI) << 4 | siov_get(qw0, SIOV_DSC0_TYPE_LO));
}
static inline uint64_t siov_dsc_make_type(unsigned type)
{
    return siov_set(siov_set(0, SIOV_DSC0_TYPE_LO, type & 0xF), SIOV_DSC0_TYPE_HI, type >> 4);
}
#define SIOV_DSC_CC 0x1
#define SIOV_DSC_IOTLB 0x2
#define SIOV_DSC_DEVTLB 0x3
#define SIOV_DSC_IEC 0x4
#define SIOV_DSC_WAIT 0x5
#define SIOV_DSC_PIOTLB 0x6
#define SIOV_DSC_PC 0x7
#define SIOV_DSC_PDEVTLB 0x8
#define SIOV_DSC_PGRP_RESP 0x9
#define SIOV_DSC_HPT_INV 0xA /* HPT-cache invalidate (rev 5.x, needs ECAP.HPTS) */

/* context-cache (0x1) */
#define SIOV_CC0_G SIOV_BITS(5, 4) /* 1 global, 2 domain, 3 device */
#define SIOV_CC0_DID SIOV_BITS(31, 16)
#define SIOV_CC0_SID SIOV_BITS(47, 32)
#define SIOV_CC0_FM SIOV_BITS(49, 48)
#define SIOV_CC0_RSVD (SIOV_BITS(8, 6) | SIOV_BITS(15, 12) | SIOV_BITS(63, 50))
/* IOTLB (0x2) */
#define SIOV_IOTLB0_G SIOV_BITS(5, 4) /* 1 global, 2 domain, 3 page */
#define SIOV_IOTLB0_DW SIOV_BIT(6)
#define SIOV_IOTLB0_DR SIOV_BIT(7)
#define SIOV_IOTLB0_DID SIOV_BITS(31, 16)
#define SIOV_IOTLB0_RSVD (SIOV_BIT(8) | SIOV_BITS(15, 12) | SIOV_BITS(63, 32))
#define SIOV_INV1_AM SIOV_BITS(5, 0) /* qw1 of IOTLB and PASID-based IOTLB */
#define SIOV_INV1_IH SIOV_BIT(6)
#define SIOV_INV1_ADDR SIOV_ADDR_4K
#define SIOV_INV1_RSVD SIOV_BITS(11, 7)
/* device-TLB (0x3) */
#define SIOV_DTLB0_PFSID_LO SIOV_BITS(15, 12)
#define SIOV_DTLB0_MIP SIOV_BITS(20, 16)
#define SIOV_DTLB0_SID SIOV_BITS(47, 32)
#define SIOV_DTLB0_PFSID_HI SIOV_BITS(63, 52)
#define SIOV_DTLB0_RSVD (SIOV_BITS(8, 4) | SIOV_BITS(31, 21) | SIOV_BITS(51, 48))
#define SIOV_DTLB1_S SIOV_BIT(0)
#define SIOV_DTLB1_ADDR SIOV_ADDR_4K
#define SIOV_DTLB1_RSVD SIOV_BITS(11, 1)
/* interrupt-entry cache (0x4) */
#define SIOV_IEC0_G SIOV_BIT(4)
#define SIOV_IEC0_IM SIOV_BITS(31, 27)
#define SIOV_IEC0_IIDX SIOV_BITS(47, 32)
#define SIOV_IEC0_RSVD (SIOV_BITS(8, 5) | SIOV_BITS(26, 12) | SIOV_BITS(63, 48))
/* invalidation wait (0x5) */
#define SIOV_WAIT0_IF SIOV_BIT(4)
#define SIOV_WAIT0_SW SIOV_BIT(5)
#define SIOV_WAIT0_FN SIOV_BIT(6)
#define SIOV_WAIT0_PD SIOV_BIT(7)
#define SIOV_WAIT0_SDATA SIOV_BITS(63, 32)
#define SIOV_WAIT0_RSVD (SIOV_BIT(8) | SIOV_BITS(31, 12))
#define SIOV_WAIT1_SADDR SIOV_BITS(63, 2)
#define SIOV_WAIT1_RSVD SIOV_BITS(1, 0)
/* PASID-based IOTLB (0x6) */
#define SIOV_PIOTLB0_G SIOV_BITS(5, 4) /* 2 PASID-selective, 3 page-selective */
#define SIOV_PIOTLB0_DID SIOV_BITS(31, 16)
#define SIOV_PIOTLB0_PASID SIOV_BITS(51, 32)
#define SIOV_PIOTLB0_RSVD (SIOV_BITS(8, 6) | SIOV_BITS(15, 12) | SIOV_BITS(63, 52))
/* PASID-cache (0x7) */
#define SIOV_PC0_G SIOV_BITS(5, 4) /* 0 domain, 1 PASID-in-domain, 3 global */
#define SIOV_PC0_DID SIOV_BITS(31, 16)
#define SIOV_PC0_PASID SIOV_BITS(51, 32)
#define SIOV_PC0_RSVD (SIOV_BITS(8, 6) | SIOV_BITS(15, 12) | SIOV_BITS(63, 52))
/* PASID-based device-TLB (0x8) */
#define SIOV_PDTLB0_MIP SIOV_BITS(8, 4)
#define SIOV_PDTLB0_PFSID_LO SIOV_BITS(15, 12)
#define SIOV_PDTLB0_SID SIOV_BITS(31, 16)
#define SIOV_PDTLB0_PASID SIOV_BITS(51, 32)
#define SIOV_PDTLB0_PFSID_HI SIOV_BITS(63, 52)
#define SIOV_PDTLB1_G SIOV_BIT(0)
#define SIOV_PDTLB1_S SIOV_BIT(11)
#define SIOV_PDTLB1_ADDR SIOV_ADDR_4K
#define SIOV_PDTLB1_RSVD SIOV_BITS(10, 1)
/* page group response (0x9, 256-bit only; spec 7.6.1, rev 4+ layout: no private data) */
#define SIOV_PGRSP0_PP SIOV_BIT(4)
#define SIOV_PGRSP0_RC SIOV_BITS(15, 12)
#define SIOV_PGRSP0_RID SIOV_BITS(31, 16)
#define SIOV_PGRSP0_PASID SIOV_BITS(51, 32)
#define SIOV_PGRSP0_RSVD (SIOV_BITS(8, 5) | SIOV_BITS(63, 52))
#define SIOV_PGRSP1_IGN SIOV_BIT(2)      /* ignored (LPIG in rev 3.x) */
#define SIOV_PGRSP1_PRGI SIOV_BITS(11, 3)
#define SIOV_PGRSP1_RSVD (SIOV_BITS(1, 0) | SIOV_BITS(63, 12))
#define SIOV_PC_GRAN_DOMAIN 0u
#define SIOV_PC_GRAN_PASID 1u
#define SIOV_PC_GRAN_GLOBAL 3u
#define SIOV_PIOTLB_GRAN_PASID 2u
#define SIOV_PIOTLB_GRAN_PAGE 3u

/* ------------------------------------------------- page request descriptor
 * Written by the unit into the page request queue, 256 bits (spec 7.4.1.1,
 * Fig 7-1, rev 4+ layout: qw2/qw3 reserved, no private data; facts 14.3). */
#define SIOV_PRQ0_TYPE SIOV_BITS(7, 0)   /* SIOV_PRQ_TYPE_PAGE_REQ */
#define SIOV_PRQ0_PP SIOV_BIT(8)         /* PASID present */
#define SIOV_PRQ0_RID SIOV_BITS(31, 16)
#define SIOV_PRQ0_PASID SIOV_BITS(51, 32)
#define SIOV_PRQ0_EXR SIOV_BIT(52)       /* execute requested */
#define SIOV_PRQ0_PMR SIOV_BIT(53)       /* privileged mode requested */
#define SIOV_PRQ0_RSVD (SIOV_BITS(15, 9) | SIOV_BITS(63, 54))
#define SIOV_PRQ1_RDR SIOV_BIT(0)        /* read requested */
#define SIOV_PRQ1_WRR SIOV_BIT(1)        /* write requested */
#define SIOV_PRQ1_LPIG SIOV_BIT(2)       /* last page in group */
#define SIOV_PRQ1_PRGI SIOV_BITS(11, 3)  /* page request group index */
#define SIOV_PRQ1_ADDR SIOV_ADDR_4K
#define SIOV_PRQ_TYPE_PAGE_REQ 0x1u

/* ------------------------------------------------------------------- ATS
 * A translation completion's data entry (PCIe 10.2.3; VT-d 4.2.3 Table 10). */
#define SIOV_ATS_CPL_R SIOV_BIT(0)
#define SIOV_ATS_CPL_W SIOV_BIT(1)
#define SIOV_ATS_CPL_U SIOV_BIT(2)    /* untranslated access only */
#define SIOV_ATS_CPL_EXE SIOV_BIT(3)
#define SIOV_ATS_CPL_PRIV SIOV_BIT(4)
#define SIOV_ATS_CPL_G SIOV_BIT(5)    /* global */
#define SIOV_ATS_CPL_N SIOV_BIT(10)   /* no-snoop allowed */
#define SIOV_ATS_CPL_S SIOV_BIT(11)   /* size above 4 KiB, encoded in ADDR */
#define SIOV_ATS_CPL_ADDR SIOV_ADDR_4K
/* S=1 with every address bit from 12 to 62 set: the whole address space
   (the global device-TLB invalidation, spec 6.5.3.3). */
#define SIOV_ATS_RANGE_ALL 0x7FFFFFFFFFFFF000ull

/* The S-bit range encoding shared by translation completions and device-TLB
   invalidations (spec 6.5.2.5): S=0 is one 4 KiB page at addr; S=1 sizes the
   range by the lowest clear bit of addr[63:12] (bit 12+k clear, the k bits
   below it set: 2^(k+13) bytes, aligned to its size). Ranges of 2^64 bytes
   decode to base 0, size UINT64_MAX. */
static inline void siov_ats_range_decode(uint64_t addr, int s, uint64_t *base, uint64_t *size)
{
    uint64_t page = addr & SIOV_ADDR_4K;
    if (!s) {
        *base = page;
        *size = SIOV_PAGE_SIZE;
        return;
    }
    uint64_t ones = ~page >> SIOV_PAGE_SHIFT; /* bit k: bit 12+k of addr clear */
    unsigned k = ones ? (unsigned)__builtin_ctzll(ones) : 64;
    if (k + 13 >= 64) {
        *base = 0;
        *size = UINT64_MAX;
        return;
    }
    *size = 1ull << (k + 13);
    *base = page & ~(*size - 1);
}
/* Encode [base, base + size) (size a power of two >= 4 KiB, base aligned to
   it; UINT64_MAX: everything); returns the address field, *s the S bit. */
static inline uint64_t siov_ats_range_encode(uint64_t base, uint64_t size, int *s)
{
    *s = size > SIOV_PAGE_SIZE;
    if (size == UINT64_MAX || size > (1ull << 63))
        return SIOV_ATS_RANGE_ALL;
    if (!*s)
        return base & SIOV_ADDR_4K;
    return ((base & ~(size - 1)) | ((size >> 1) - 1)) & SIOV_ADDR_4K;
}

#ifdef __cplusplus
}
#endif
#endif

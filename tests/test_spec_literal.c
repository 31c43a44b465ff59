/* Complete scalable-mode and legacy setups written as literal 64-bit values
   computed by hand from the spec's bit layouts (facts sheet sections 2-6),
   never through format.h or the testlib builders, then siov_translate's exact
   answers. A wrong mask in format.h cannot hide behind itself here: the model
   decodes with format.h, these tables were encoded without it. Registers are
   touched at literal offsets with literal bits too. */
#include <string.h>

#include "testlib.h"

/* Register offsets and bits (spec 10.4), literal. */
#define R_CAP 0x08
#define R_ECAP 0x10
#define R_GCMD 0x18
#define R_GSTS 0x1C
#define R_RTADDR 0x20
#define R_FSTS 0x34
#define R_FRCD 0x220            /* CAP.FRO = 0x22, in 16-byte units */
#define GCMD_TE 0x80000000u     /* bit 31 */
#define GCMD_SRTP 0x40000000u   /* bit 30 */
#define GSTS_TES_RTPS 0xC0000000u

struct lit {
    uint64_t gpa, val;
};

static void load(struct tl *t, const struct lit *img, size_t n)
{
    for (size_t i = 0; i < n; i++)
        tl_w64(t, img[i].gpa, img[i].val);
}

/* A default unit, img loaded, RTADDR latched with SRTP, then TE set. */
static struct tl *literal_unit(const struct lit *img, size_t n, uint64_t rtaddr)
{
    struct tl *t = tl_new(NULL);
    load(t, img, n);
    siov_mmio_write(t->iommu, R_RTADDR, rtaddr, 8);
    siov_mmio_write(t->iommu, R_GCMD, GCMD_SRTP, 4);
    siov_mmio_write(t->iommu, R_GCMD, GCMD_TE, 4);
    assert_int_equal(siov_mmio_read(t->iommu, R_GSTS, 4), GSTS_TES_RTPS);
    assert_int_equal(siov_mmio_read(t->iommu, R_RTADDR, 8), rtaddr);
    return t;
}

static void expect(struct tl *t, siov_sid sid, uint32_t pasid, uint64_t iova, unsigned access, uint64_t addr,
                   uint64_t size, unsigned perm, uint16_t did)
{
    struct siov_xlate x;
    memset(&x, 0, sizeof(x));
    assert_int_equal(siov_translate(t->iommu, sid, pasid, iova, access, &x), SIOV_OK);
    assert_int_equal(x.addr, addr);
    assert_int_equal(x.page_size, size);
    assert_int_equal(x.perm, perm);
    assert_int_equal(x.did, did);
}

static siov_fault fault_of(struct tl *t, siov_sid sid, uint32_t pasid, uint64_t iova, unsigned access)
{
    struct siov_xlate x;
    return siov_translate(t->iommu, sid, pasid, iova, access, &x);
}

#define RD SIOV_ACCESS_READ
#define WR SIOV_ACCESS_WRITE
#define EX SIOV_ACCESS_EXEC

/* Input addresses. IOVA_A indexes 1/2/3/4 at levels 4/3/2/1, offset 0x123:
   1<<39 | 2<<30 | 3<<21 | 4<<12 | 0x123. */
#define IOVA_A 0x8080604123ull
#define IOVA_B 0x8080A12345ull /* 1<<39 | 2<<30 | 5<<21 | 0x12345: a 2 MiB page */
#define IOVA_C 0x80C1234567ull /* 1<<39 | 3<<30 | 0x1234567: a 1 GiB page */
#define IOVA_D 0x80806059ABull /* 1<<39 | 2<<30 | 3<<21 | 5<<12 | 0x9AB */

/* ------------------------------------------------------------ scalable */
#define SM_SID 0x0219u    /* bus 2, dev 3, fn 1: devfn 0x19, lower half */
#define SM_SID_UP 0x0288u /* bus 2, dev 17, fn 0: devfn 0x88, upper half, index 8 */

static const struct lit sm_image[] = {
    /* root table 0x100000; bus 2's entry at +0x20 */
    {0x100020, 0x0000000000101001}, /* LP=1, LCTP=0x101000 */
    {0x100028, 0x0000000000105001}, /* UP=1 (bit 64), UCTP=0x105000 (bits 127:76) */
    /* lower context table 0x101000, devfn 0x19 at +0x19*32 = 0x320 */
    {0x101320, 0x000000000010720D}, /* P, DTE (2), PASIDE (3), PDTS=1 (11:9 = 0x200), PASIDDIRPTR=0x107000 */
    {0x101328, 0x0000000000000040}, /* RID_PASID=0x40 (83:64) */
    /* upper context table 0x105000, index 8 at +0x100 */
    {0x105100, 0x000000000010720D}, /* the same directory */
    {0x105108, 0x0000000000000044}, /* RID_PASID=0x44 (the PT entry) */
    /* PASID directory 0x107000: PASID[19:6] = 1 at +8, 0xBF at +0x5F8 */
    {0x107008, 0x0000000000103001}, /* P, PASID table 0x103000: PASIDs 0x40-0x7F */
    {0x1075F8, 0x0000000000104001}, /* P, PASID table 0x104000: PASIDs 0x2FC0-0x2FFF */
    /* PASID 0x40 (slot 0, +0x00), the lower device's RID_PASID: a copy of PASID 0x41's entry */
    {0x103000, 0x0000000000115089},
    {0x103008, 0x0000000000800011},
    /* PASID 0x41 (slot 1, +0x40): second level only */
    {0x103040, 0x0000000000115089}, /* P, AW=2 (4:2 = 0x8), PGTT=010 (8:6 = 0x80), SLPTPTR=0x115000 */
    {0x103048, 0x0000000000800011}, /* DID=0x11, PWSNP (bit 87 = qw1 bit 23) */
    /* PASID 0x42 (+0x80): first level only */
    {0x103080, 0x0000000000000041}, /* P, PGTT=001 (0x40) */
    {0x103088, 0x0000000000800022}, /* DID=0x22, PWSNP */
    {0x103090, 0x0000000000125001}, /* SRE (bit 128), ERE=0, FLPM=00, FLPTPTR=0x125000 (191:140) */
    /* PASID 0x43 (+0xC0): nested */
    {0x1030C0, 0x00000000001350C9}, /* P, AW=2, PGTT=011 (0xC0), SLPTPTR=0x135000 */
    {0x1030C8, 0x0000000000800033}, /* DID=0x33, PWSNP */
    {0x1030D0, 0x0000000040005000}, /* FLPTPTR=GPA 0x40005000, FLPM=00, SRE=0 */
    /* PASID 0x44 (+0x100): pass-through */
    {0x103100, 0x0000000000000101}, /* P, PGTT=100 (0x100) */
    {0x103108, 0x0000000000800044}, /* DID=0x44, PWSNP */
    /* PASID 0x2FFF (table 0x104000, slot 0x3F at +0xFC0): pass-through */
    {0x104FC0, 0x0000000000000101}, /* P, PGTT=100 */
    {0x104FC8, 0x00000000008000BB}, /* DID=0xBB, PWSNP */
    /* second level of PASID 0x41: PML4 0x115000, PDPT 0x111000, PD 0x112000, PT 0x113000
       (table pointers with bit 12 set, so a mask that drops it shows) */
    {0x115008, 0x0000000000111003}, /* PML4[1]: R, W, next 0x111000 */
    {0x111010, 0x0000000000112003}, /* PDPT[2] */
    {0x112018, 0x0000000000113003}, /* PD[3] */
    {0x113020, 0x0000000002345003}, /* PT[4]: R, W, page 0x2345000 */
    {0x112028, 0x0000000001C00081}, /* PD[5]: R only, PS (bit 7), 2 MiB page 0x1C00000 */
    /* first level of PASID 0x42: PML4 0x125000, PDPT 0x121000 .. PT 0x123000; P|R/W|U/S = 0x7 */
    {0x125008, 0x0000000000121007}, /* PML4[1] */
    {0x121010, 0x0000000000122007}, /* PDPT[2] */
    {0x122018, 0x0000000000123007}, /* PD[3] */
    {0x123020, 0x0000000002346007}, /* PT[4]: page 0x2346000 */
    {0x123028, 0x0000000002347003}, /* PT[5]: P, R/W, U/S=0 (supervisor page 0x2347000) */
    {0x121018, 0x00000000400000A7}, /* PDPT[3]: P R/W U/S, A (bit 5), PS (bit 7), 1 GiB page 0x40000000 */
    /* nested PASID 0x43, second level: GPA 0x40001000-0x40005FFF; PML4 0x135000, PDPT 0x131000 .. */
    {0x135000, 0x0000000000131003}, /* PML4[0] */
    {0x131008, 0x0000000000132003}, /* PDPT[1] */
    {0x132000, 0x0000000000133003}, /* PD[0] */
    {0x133028, 0x0000000000140003}, /* GPA 0x40005000 -> 0x140000 (FL PML4) */
    {0x133008, 0x0000000000141003}, /* GPA 0x40001000 -> 0x141000 (FL PDPT) */
    {0x133010, 0x0000000000142003}, /* GPA 0x40002000 -> 0x142000 (FL PD) */
    {0x133018, 0x0000000000143003}, /* GPA 0x40003000 -> 0x143000 (FL PT) */
    {0x133020, 0x0000000002348003}, /* GPA 0x40004000 -> 0x2348000 (the data page) */
    /* nested first level, at the host pages above, pointing at GPAs */
    {0x140008, 0x0000000040001007}, /* PML4[1] -> GPA 0x40001000 */
    {0x141010, 0x0000000040002007}, /* PDPT[2] */
    {0x142018, 0x0000000040003007}, /* PD[3] */
    {0x143020, 0x0000000040004007}, /* PT[4] -> GPA 0x40004000 */
};

static struct tl *sm_literal_unit(void)
{
    /* RTADDR: root table 0x100000, TTM=01 (bits 11:10 = 0x400) */
    return literal_unit(sm_image, sizeof(sm_image) / sizeof(sm_image[0]), 0x100400);
}

static void test_sm_literal_translations(void **state)
{
    (void)state;
    struct tl *t = sm_literal_unit();
    /* SL only (PASID 0x41, and requests without PASID through RID_PASID 0x40): SLEE=0, execute follows read */
    expect(t, SM_SID, 0x41, IOVA_A, WR, 0x2345123, 0x1000, RD | WR | EX, 0x11);
    expect(t, SM_SID, SIOV_NO_PASID, IOVA_A, RD, 0x2345123, 0x1000, RD | WR | EX, 0x11);
    expect(t, SM_SID, 0x41, IOVA_B, RD, 0x1C12345, 0x200000, RD | EX, 0x11);
    /* FL only (PASID 0x42): ERE=0, no execute */
    expect(t, SM_SID, 0x42, IOVA_A, WR, 0x2346123, 0x1000, RD | WR, 0x22);
    expect(t, SM_SID, 0x42, IOVA_C, RD, 0x41234567, 0x40000000, RD | WR, 0x22);
    expect(t, SM_SID, 0x42, IOVA_D, RD | SIOV_ACCESS_PRIV, 0x23479AB, 0x1000, RD | WR, 0x22); /* SRE=1, WPE=0 */
    /* nested (PASID 0x43): every FL table fetched through the second level */
    expect(t, SM_SID, 0x43, IOVA_A, RD, 0x2348123, 0x1000, RD | WR, 0x33);
    /* pass-through (PASID 0x44; the upper device's RID_PASID; PASID 0x2FFF) */
    expect(t, SM_SID, 0x44, IOVA_A, WR, IOVA_A, 0x1000, RD | WR | EX, 0x44);
    expect(t, SM_SID_UP, SIOV_NO_PASID, IOVA_A, WR, IOVA_A, 0x1000, RD | WR | EX, 0x44);
    expect(t, SM_SID, 0x2FFF, 0x1234, RD, 0x1234, 0x1000, RD | WR | EX, 0xBB);
    assert_int_equal(siov_mmio_read(t->iommu, R_FSTS, 4), 0);
    /* a request that brings its device's RID_PASID: SCT.9 (0x48, Table 30); the
       other device may use that PASID */
    assert_int_equal(fault_of(t, SM_SID, 0x40, IOVA_A, RD), 0x48);
    /* F, T1=1, PV=0x40, FR=0x48, PP, SID 0x219 */
    assert_int_equal(siov_mmio_read(t->iommu, R_FRCD + 8, 8), 0xC000404880000219);
    assert_int_equal(fault_of(t, SM_SID_UP, 0x44, IOVA_A, RD), 0x48);
    expect(t, SM_SID_UP, 0x40, IOVA_A, RD, 0x2345123, 0x1000, RD | WR | EX, 0x11);
    tl_free(t);
}

/* A/D written back by the first level, as literal entry values. */
static void test_sm_literal_ad_bits(void **state)
{
    (void)state;
    struct tl *t = sm_literal_unit();
    expect(t, SM_SID, 0x42, IOVA_A, WR, 0x2346123, 0x1000, RD | WR, 0x22);
    assert_int_equal(tl_r64(t, 0x125008), 0x0000000000121027); /* + A (bit 5) */
    assert_int_equal(tl_r64(t, 0x121010), 0x0000000000122027);
    assert_int_equal(tl_r64(t, 0x122018), 0x0000000000123027);
    assert_int_equal(tl_r64(t, 0x123020), 0x0000000002346067); /* + A, D (bit 6) */
    /* nested read: A in each FL entry (at its host address), no D */
    expect(t, SM_SID, 0x43, IOVA_A, RD, 0x2348123, 0x1000, RD | WR, 0x33);
    assert_int_equal(tl_r64(t, 0x140008), 0x0000000040001027);
    assert_int_equal(tl_r64(t, 0x141010), 0x0000000040002027);
    assert_int_equal(tl_r64(t, 0x142018), 0x0000000040003027);
    assert_int_equal(tl_r64(t, 0x143020), 0x0000000040004027);
    /* SLADE=0: second-level entries untouched */
    assert_int_equal(tl_r64(t, 0x113020), 0x0000000002345003);
    assert_int_equal(tl_r64(t, 0x133020), 0x0000000002348003);
    tl_free(t);
}

/* Faults with literal FRCD contents (spec 10.4.14). */
static void test_sm_literal_faults(void **state)
{
    (void)state;
    struct tl *t = sm_literal_unit();
    /* PASID 0x45: slot 5 of table 0x103000 is zero -> SPT.2 (0x59) */
    assert_int_equal(fault_of(t, SM_SID, 0x45, IOVA_A, RD), 0x59);
    assert_int_equal(siov_mmio_read(t->iommu, R_FRCD, 8), 0x8080604000);
    /* F (127), T1=1 read (126), AT=00, PV=0x45 (123:104), FR=0x59 (103:96), PP (95), SID 0x219 */
    assert_int_equal(siov_mmio_read(t->iommu, R_FRCD + 8, 8), 0xC000455980000219);
    assert_int_equal(siov_mmio_read(t->iommu, R_FSTS, 4), 0x2); /* PPF, FRI=0 */
    /* write to the read-only 2 MiB page: SGN.6 (0x85), T1=0 */
    assert_int_equal(fault_of(t, SM_SID, 0x41, IOVA_B, WR), 0x85);
    assert_int_equal(siov_mmio_read(t->iommu, R_FRCD + 0x10, 8), 0x8080A12000);
    assert_int_equal(siov_mmio_read(t->iommu, R_FRCD + 0x18, 8), 0x8000418580000219);
    /* user request to the supervisor page: SGN.2 (0x81) */
    assert_int_equal(fault_of(t, SM_SID, 0x42, IOVA_D, RD), 0x81);
    /* SRE=0 in the nested entry and a supervisor request: SPT.6 (0x5D) */
    assert_int_equal(fault_of(t, SM_SID, 0x43, IOVA_A, RD | SIOV_ACCESS_PRIV), 0x5D);
    /* PASID 0x4000: beyond PDTS=1 (2^14 PASIDs) -> SCT.7 (0x46) */
    assert_int_equal(fault_of(t, SM_SID, 0x4000, IOVA_A, RD), 0x46);
    /* PASID 0x3FFF: directory entry 0xFF is zero -> SPD.2 (0x51) */
    assert_int_equal(fault_of(t, SM_SID, 0x3FFF, IOVA_A, RD), 0x51);
    /* devfn 0x1A: zeroed context entry -> SCT.2 (0x41); bus 3: zeroed root entry -> SRT.2 (0x39) */
    assert_int_equal(fault_of(t, 0x021A, SIOV_NO_PASID, IOVA_A, RD), 0x41);
    assert_int_equal(fault_of(t, 0x0319, SIOV_NO_PASID, IOVA_A, RD), 0x39);
    /* the FL walk is 4-level: bit 47 set and 63:48 clear is not canonical -> SGN.1 (0x80) */
    assert_int_equal(fault_of(t, SM_SID, 0x42, 0x0000800000000000ull, RD), 0x80);
    /* second level only, AW=2 (48 bits), MGAW 48: input bit 48 -> SGN.5 (0x84, Table 30),
       with and without PASID */
    assert_int_equal(fault_of(t, SM_SID, 0x41, 1ull << 48, RD), 0x84);
    assert_int_equal(fault_of(t, SM_SID, SIOV_NO_PASID, 1ull << 48, WR), 0x84);
    /* pass-through: the input is the host address, bit 48 is above HAW 48 -> SGN.4 (0x83) */
    assert_int_equal(fault_of(t, SM_SID, 0x44, 1ull << 48, RD), 0x83);
    tl_free(t);
}

/* -------------------------------------------------------------- legacy */
static const struct lit legacy_image[] = {
    /* root table 0x100000; bus 5's entry at +0x50 */
    {0x100050, 0x0000000000101001}, /* P, CTP=0x101000; qw1 stays 0 (reserved) */
    /* context table 0x101000, 16-byte entries indexed by devfn */
    {0x101210, 0x0000000000115001}, /* devfn 0x21: P, TT=00, SLPTPTR=0x115000 */
    {0x101218, 0x0000000000005502}, /* AW=2 (66:64), DID=0x55 (87:72) */
    {0x101220, 0x0000000000000009}, /* devfn 0x22: P, TT=10 pass-through (3:2 = 0x8) */
    {0x101228, 0x0000000000006602}, /* AW=2, DID=0x66 */
    {0x101230, 0x0000000000000002}, /* devfn 0x23: P=0, FPD=1 */
    {0x101240, 0x0000000000115005}, /* devfn 0x24: P, TT=01 (0x4: device-TLB), SLPTPTR=0x115000 */
    {0x101248, 0x0000000000007702}, /* AW=2, DID=0x77 */
    {0x101900, 0x0000000000115001}, /* devfn 0x90: legacy has no halves, entry 0x90 of the same table */
    {0x101908, 0x0000000000009902}, /* AW=2, DID=0x99 */
    /* the second level: the same tables as the scalable SL-only entry */
    {0x115008, 0x0000000000111003},
    {0x111010, 0x0000000000112003},
    {0x112018, 0x0000000000113003},
    {0x113020, 0x0000000002345003}, /* 4 KiB page 0x2345000, R W */
    {0x112028, 0x0000000001C00081}, /* 2 MiB page 0x1C00000, R only */
};

static void test_legacy_literal(void **state)
{
    (void)state;
    /* RTADDR: root table 0x100000, TTM=00 */
    struct tl *t = literal_unit(legacy_image, sizeof(legacy_image) / sizeof(legacy_image[0]), 0x100000);
    /* legacy second level: execute follows read */
    expect(t, 0x0521, SIOV_NO_PASID, IOVA_A, WR, 0x2345123, 0x1000, RD | WR | EX, 0x55);
    expect(t, 0x0521, SIOV_NO_PASID, IOVA_B, RD, 0x1C12345, 0x200000, RD | EX, 0x55);
    expect(t, 0x0522, SIOV_NO_PASID, IOVA_A, WR, IOVA_A, 0x1000, RD | WR | EX, 0x66);
    expect(t, 0x0590, SIOV_NO_PASID, IOVA_A, RD, 0x2345123, 0x1000, RD | WR | EX, 0x99);
    /* a translation request through siov_translate: the completion (R, W; no Exe, no DID) */
    expect(t, 0x0524, SIOV_NO_PASID, IOVA_A, RD | SIOV_ACCESS_ATS_REQ, 0x2345123, 0x1000, RD | WR, 0);
    /* write to the read-only page: LGN.2 (0x05); F, T1=0, FR=5, PP=0, SID 0x521 */
    assert_int_equal(fault_of(t, 0x0521, SIOV_NO_PASID, IOVA_B, WR), 0x05);
    assert_int_equal(siov_mmio_read(t->iommu, R_FRCD, 8), 0x8080A12000);
    assert_int_equal(siov_mmio_read(t->iommu, R_FRCD + 8, 8), 0x8000000500000521);
    /* FPD=1, P=0: LCT.2 (0x02) returned and not recorded */
    assert_int_equal(fault_of(t, 0x0523, SIOV_NO_PASID, IOVA_A, RD), 0x02);
    assert_int_equal(siov_mmio_read(t->iommu, R_FRCD + 0x18, 8), 0);
    /* ATS translation request with TT=00: LCT.5 (0x0D), AT=01 (125:124) */
    assert_int_equal(fault_of(t, 0x0521, SIOV_NO_PASID, IOVA_A, RD | SIOV_ACCESS_ATS_REQ), 0x0D);
    assert_int_equal(siov_mmio_read(t->iommu, R_FRCD + 0x18, 8), 0xD000000D00000521);
    /* a request with PASID in legacy mode: RTA.2 (0x31) */
    assert_int_equal(fault_of(t, 0x0521, 7, IOVA_A, RD), 0x31);
    /* bus 6: no root entry -> LRT.2 (0x01) */
    assert_int_equal(fault_of(t, 0x0621, SIOV_NO_PASID, IOVA_A, RD), 0x01);
    /* SL input beyond 48 bits: LGN.1 (0x04) */
    assert_int_equal(fault_of(t, 0x0521, SIOV_NO_PASID, 1ull << 48, RD), 0x04);
    tl_free(t);
}

/* ------------------------------------------------- format.h vs literals */
static void test_format_masks_literal(void **state)
{
    (void)state;
    /* root and context entries */
    assert_int_equal(SIOV_RE0_RSVD, 0xFFE);
    assert_int_equal(SIOV_RE0_CTP, 0xFFFFFFFFFFFFF000);
    assert_int_equal(SIOV_SRE_HALF_RSVD, 0xFFE);
    assert_int_equal(SIOV_CE0_TT, 0xC);
    assert_int_equal(SIOV_CE0_FPD, 0x2);
    assert_int_equal(SIOV_CE0_RSVD, 0xFF0);
    assert_int_equal(SIOV_CE1_AW, 0x7);
    assert_int_equal(SIOV_CE1_DID, 0xFFFF00);
    assert_int_equal(SIOV_CE1_RSVD, 0xFFFFFFFFFF000080);
    assert_int_equal(SIOV_SCE0_DTE, 0x4);
    assert_int_equal(SIOV_SCE0_PASIDE, 0x8);
    assert_int_equal(SIOV_SCE0_PRE, 0x10);
    assert_int_equal(SIOV_SCE0_RSVD, 0x1E0);
    assert_int_equal(SIOV_SCE0_PDTS, 0xE00);
    assert_int_equal(SIOV_SCE1_RID_PASID, 0xFFFFF);
    assert_int_equal(SIOV_SCE1_RID_PRIV, 0x100000);
    assert_int_equal(SIOV_SCE1_RSVD, 0xFFFFFFFFFFE00000);
    /* PASID structures */
    assert_int_equal(SIOV_PDE_RSVD, 0xFFC);
    assert_int_equal(SIOV_PASID_DIR_INDEX, 0xFFFC0);
    assert_int_equal(SIOV_PTE0_AW, 0x1C);
    assert_int_equal(SIOV_PTE0_SLEE, 0x20);
    assert_int_equal(SIOV_PTE0_PGTT, 0x1C0);
    assert_int_equal(SIOV_PTE0_SLADE, 0x200);
    assert_int_equal(SIOV_PTE0_RSVD, 0xC00);
    assert_int_equal(SIOV_PTE1_DID, 0xFFFF);
    assert_int_equal(SIOV_PTE1_RSVD, 0x7F0000);
    assert_int_equal(SIOV_PTE1_PWSNP, 0x800000);
    assert_int_equal(SIOV_PTE1_PGSNP, 0x1000000);
    assert_int_equal(SIOV_PTE1_MT_FIELDS, 0xFFFFFFFFFE000000);
    assert_int_equal(SIOV_PTE2_SRE, 0x1);
    assert_int_equal(SIOV_PTE2_ERE, 0x2);
    assert_int_equal(SIOV_PTE2_FLPM, 0xC);
    assert_int_equal(SIOV_PTE2_WPE, 0x10);
    assert_int_equal(SIOV_PTE2_EAFE, 0x80);
    assert_int_equal(SIOV_PTE2_RSVD, 0xF00);
    /* paging entries */
    assert_int_equal(SIOV_SL_ADDR, 0x000FFFFFFFFFF000);
    assert_int_equal(SIOV_SL_PS, 0x80);
    assert_int_equal(SIOV_SL_A | SIOV_SL_D, 0x300);
    assert_int_equal(SIOV_SL_2M_RSVD, 0x1FF000);
    assert_int_equal(SIOV_SL_1G_RSVD, 0x3FFFF000);
    assert_int_equal(SIOV_FL_A | SIOV_FL_D, 0x60);
    assert_int_equal(SIOV_FL_EA, 0x400);
    assert_int_equal(SIOV_FL_XD, 0x8000000000000000);
    assert_int_equal(SIOV_FL_2M_RSVD, 0x1FE000);
    assert_int_equal(SIOV_FL_1G_RSVD, 0x3FFFE000);
    /* registers */
    assert_int_equal(SIOV_REG_GSTS, R_GSTS);
    assert_int_equal(SIOV_REG_RTADDR, R_RTADDR);
    assert_int_equal(SIOV_REG_FSTS, R_FSTS);
    assert_int_equal(SIOV_REG_FRCD, R_FRCD);
    assert_int_equal(SIOV_RTADDR_TTM, 0xC00);
    assert_int_equal(SIOV_FRCD1_SID, 0xFFFF);
    assert_int_equal(SIOV_FRCD1_PP, 0x80000000);
    assert_int_equal(SIOV_FRCD1_FR, 0xFF00000000);
    assert_int_equal(SIOV_FRCD1_PV, 0x0FFFFF0000000000);
    assert_int_equal(SIOV_FRCD1_AT, 0x3000000000000000);
    assert_int_equal(SIOV_FRCD1_T1, 0x4000000000000000);
    assert_int_equal(SIOV_CAP_SAGAW, 0x1F00);
    assert_int_equal(SIOV_CAP_MGAW, 0x3F0000);
    assert_int_equal(SIOV_CAP_FRO, 0x3FF000000);
    assert_int_equal(SIOV_CAP_SLLPS, 0x3C00000000);
    assert_int_equal(SIOV_CAP_NFR, 0xFF0000000000);
    assert_int_equal(SIOV_ECAP_PSS, 0xF800000000);
    assert_int_equal(SIOV_ECAP_SMTS, 0x80000000000);
    assert_int_equal(SIOV_ECAP_ADMS, 0x10000000000000);
}

/* The device-TLB and interrupt-entry-cache descriptors (facts 9.2, 13.5),
   IQERCD's source ids (facts 1.8, 13.6) and the completion bits (facts
   13.3), against hand-computed values. */
static void test_ats_iec_masks_literal(void **state)
{
    (void)state;
    /* 0x3: PFSID 15:12 and 63:52, MIP 20:16, SID 47:32; S at qw1 bit 0 */
    assert_int_equal(SIOV_DTLB0_PFSID_LO, 0xF000);
    assert_int_equal(SIOV_DTLB0_MIP, 0x1F0000);
    assert_int_equal(SIOV_DTLB0_SID, 0xFFFF00000000);
    assert_int_equal(SIOV_DTLB0_PFSID_HI, 0xFFF0000000000000);
    assert_int_equal(SIOV_DTLB0_RSVD, 0x000F0000FFE001F0);
    assert_int_equal(SIOV_DTLB1_S, 0x1);
    assert_int_equal(SIOV_DTLB1_RSVD, 0xFFE);
    /* 0x8: MIP 8:4, SID 31:16, PASID 51:32; G at qw1 bit 0, S at bit 11 */
    assert_int_equal(SIOV_PDTLB0_MIP, 0x1F0);
    assert_int_equal(SIOV_PDTLB0_PFSID_LO, 0xF000);
    assert_int_equal(SIOV_PDTLB0_SID, 0xFFFF0000);
    assert_int_equal(SIOV_PDTLB0_PASID, 0xFFFFF00000000);
    assert_int_equal(SIOV_PDTLB0_PFSID_HI, 0xFFF0000000000000);
    assert_int_equal(SIOV_PDTLB1_G, 0x1);
    assert_int_equal(SIOV_PDTLB1_S, 0x800);
    assert_int_equal(SIOV_PDTLB1_RSVD, 0x7FE);
    /* 0x4: G bit 4, IM 31:27, IIDX 47:32 (QEMU's reserved mask) */
    assert_int_equal(SIOV_IEC0_G, 0x10);
    assert_int_equal(SIOV_IEC0_IM, 0xF8000000);
    assert_int_equal(SIOV_IEC0_IIDX, 0xFFFF00000000);
    assert_int_equal(SIOV_IEC0_RSVD, 0xFFFF000007FFF1E0);
    assert_int_equal(siov_dsc_make_type(SIOV_DSC_DEVTLB) | siov_dsc_make_type(SIOV_DSC_IEC), 0x7);
    assert_int_equal(siov_dsc_make_type(SIOV_DSC_PDEVTLB), 0x8);
    /* IQERCD: IQEI 3:0, ITESID 47:32, ICESID 63:48; FSTS ICE bit 5, ITE bit 6 */
    assert_int_equal(SIOV_IQERCD_IQEI, 0xF);
    assert_int_equal(SIOV_IQERCD_ITESID, 0xFFFF00000000);
    assert_int_equal(SIOV_IQERCD_ICESID, 0xFFFF000000000000);
    assert_int_equal(SIOV_FSTS_ICE | SIOV_FSTS_ITE, 0x60);
    /* completion data entry: R W U Exe Priv G at bits 0-5, N 10, S 11 */
    assert_int_equal(SIOV_ATS_CPL_R | SIOV_ATS_CPL_W | SIOV_ATS_CPL_U | SIOV_ATS_CPL_EXE | SIOV_ATS_CPL_PRIV |
                         SIOV_ATS_CPL_G, 0x3F);
    assert_int_equal(SIOV_ATS_CPL_N | SIOV_ATS_CPL_S, 0xC00);
    assert_int_equal(SIOV_ATS_RANGE_ALL, 0x7FFFFFFFFFFFF000);
}

/* CAP and ECAP of the default configuration, as literal register values. */
static void test_cap_ecap_literal(void **state)
{
    (void)state;
    struct tl *t = tl_new(NULL);
    /* FL5LP (60), PI (59), FL1GP (56), MAMV=18 (53:48), NFR=7 (47:40), PSI (39), SLLPS=11b (37:34),
       FRO=0x22 (33:24), MGAW=47 (21:16), SAGAW=00100b (12:8, 4-level), ND=6 (2:0) */
    assert_int_equal(siov_mmio_read(t->iommu, R_CAP, 8), 0x1912078C222F0406);
    /* SMS (58), ADMS (52), RPS (49), SMPWCS (48), FLTS (47), SLTS (46), SLADS (45), SMTS (43),
       PDS (42), PASID (40), PSS=19 (39:35), NWFS (33), SRS (31), ERS (30), PRS (29), NEST (26),
       MHMV=15 (23:20), IRO=0xF (17:8), PT (6), EIM (4), IR (3), DT (2), QI (1) */
    assert_int_equal(siov_mmio_read(t->iommu, R_ECAP, 8), 0x0413ED9AE4F00F5E);
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sm_literal_translations),
        cmocka_unit_test(test_sm_literal_ad_bits),
        cmocka_unit_test(test_sm_literal_faults),
        cmocka_unit_test(test_legacy_literal),
        cmocka_unit_test(test_format_masks_literal),
        cmocka_unit_test(test_ats_iec_masks_literal),
        cmocka_unit_test(test_cap_ecap_literal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

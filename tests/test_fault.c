/* Fault recording registers, FSTS/FECTL, the fault event and the fault
   reason table (src/fault.c). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "testlib.h"

/* --------------------------------------------------------------- helpers */
struct msi_log {
    unsigned calls;
    uint64_t addr;
    uint32_t data;
};

static void msi_cb(void *opaque, uint64_t addr, uint32_t data)
{
    struct msi_log *log = opaque;
    __atomic_fetch_add(&log->calls, 1, __ATOMIC_RELAXED);
    log->addr = addr;
    log->data = data;
}

/* A fresh unit with nfr fault records, its MSIs logged in *log (may be NULL). */
static struct tl *unit(unsigned nfr, struct msi_log *log)
{
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.fault_records = nfr;
    if (log) {
        memset(log, 0, sizeof(*log));
        cfg.msi = msi_cb;
        cfg.msi_opaque = log;
    }
    return tl_new(&cfg);
}

static void report(struct tl *t, siov_sid sid, uint32_t pasid, uint64_t addr, unsigned access,
                   siov_fault f, bool fpd)
{
    struct siov_req req = {.sid = sid, .pasid = pasid, .addr = addr, .access = access};
    siov_fault_report(t->iommu, &req, f, fpd);
}

/* A simple read fault at page i of sid 1, no PASID. */
static void fault_n(struct tl *t, unsigned i)
{
    report(t, 1, SIOV_NO_PASID, (uint64_t)i << 12, SIOV_ACCESS_READ, SIOV_FAULT_SSL_2, false);
}

static uint64_t rd64(struct tl *t, uint64_t off) { return siov_mmio_read(t->iommu, off, 8); }
static uint32_t rd32(struct tl *t, uint64_t off) { return (uint32_t)siov_mmio_read(t->iommu, off, 4); }
static void wr32(struct tl *t, uint64_t off, uint32_t v) { siov_mmio_write(t->iommu, off, v, 4); }
static uint64_t frcd_lo(struct tl *t, unsigned i) { return rd64(t, SIOV_REG_FRCD + 16 * i); }
static uint64_t frcd_hi(struct tl *t, unsigned i) { return rd64(t, SIOV_REG_FRCD + 16 * i + 8); }
/* Clear F of record i the way Linux does: 1 to bit 31 of the dword at +12. */
static void frcd_clear(struct tl *t, unsigned i) { wr32(t, SIOV_REG_FRCD + 16 * i + 12, 0x80000000u); }
static uint32_t fsts(struct tl *t) { return rd32(t, SIOV_REG_FSTS); }
static uint32_t fectl(struct tl *t) { return rd32(t, SIOV_REG_FECTL); }

/* Hand-computed register values (spec 10.4.9, 10.4.10, 10.4.14), not format.h. */
#define LIT_PFO 0x1u
#define LIT_PPF 0x2u
#define LIT_FRI(i) ((uint32_t)(i) << 8)
#define LIT_IM 0x80000000u
#define LIT_IP 0x40000000u

/* ---------------------------------------------------- record bits, literal */
static void test_record_literal_pasid_read(void **state)
{
    (void)state;
    struct tl *t = unit(8, NULL);
    /* sid 12:03.4 = 0x121C; PASID 0xABCDE; read+exec, supervisor; SPT.2 = 0x59 */
    report(t, SIOV_SID(0x12, 3, 4), 0xABCDE, 0x123456789ABCull,
           SIOV_ACCESS_READ | SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV, SIOV_FAULT_SPT_2, false);
    /* FI = addr[63:12]; hi: F(63) T1(62) AT=00 PV(59:40)=0xABCDE FR(39:32)=0x59
       PP(31) EXE(30) PRIV(29) SID(15:0)=0x121C */
    assert_int_equal(frcd_lo(t, 0), 0x0000123456789000ull);
    assert_int_equal(frcd_hi(t, 0), 0xCABCDE59E000121Cull);
    assert_int_equal(rd32(t, SIOV_REG_FRCD + 0), 0x56789000u);
    assert_int_equal(rd32(t, SIOV_REG_FRCD + 4), 0x00001234u);
    assert_int_equal(rd32(t, SIOV_REG_FRCD + 8), 0xE000121Cu);
    assert_int_equal(rd32(t, SIOV_REG_FRCD + 12), 0xCABCDE59u);
    for (unsigned off = 1; off < 8; off++) /* not naturally aligned: no value */
        assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FRCD + off, off % 4 ? 4 : 8), 0);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(0));
    /* record 1 untouched */
    assert_int_equal(frcd_lo(t, 1), 0);
    assert_int_equal(frcd_hi(t, 1), 0);
    tl_free(t);
}

static void test_record_literal_write_translated(void **state)
{
    (void)state;
    struct tl *t = unit(8, NULL);
    /* no PASID, write, translated request; SSL.2 = 0x79; sid 00:01.0 = 0x0008.
       EXE/PRIV are not recorded without a PASID (docs/spec-notes.md). */
    report(t, SIOV_SID(0, 1, 0), SIOV_NO_PASID, 0xFFFFFFFFFFFFFFFFull,
           SIOV_ACCESS_WRITE | SIOV_ACCESS_TRANSLATED | SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV,
           SIOV_FAULT_SSL_2, false);
    assert_int_equal(frcd_lo(t, 0), 0xFFFFFFFFFFFFF000ull);
    assert_int_equal(frcd_hi(t, 0), 0xA000007900000008ull); /* F, AT=10, FR=0x79 */
    /* ATS translation request: AT=01, a read with PASID 0 (PP=1, PV=0) */
    report(t, 0xFFFF, 0, 0xFFF, SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ, SIOV_FAULT_SCT_5, false);
    assert_int_equal(frcd_lo(t, 1), 0);
    assert_int_equal(frcd_hi(t, 1), 0xD00000448000FFFFull); /* F T1 AT=01 FR=0x44 PP SID */
    tl_free(t);
}

/* ------------------------------------------------------ record bits, table */
struct access_case {
    uint32_t pasid;
    unsigned access;
    unsigned t1, at, exe, priv, pp, t2;
};

static void test_record_access_bits(void **state)
{
    (void)state;
    static const struct access_case cases[] = {
        {5, SIOV_ACCESS_READ, 1, 0, 0, 0, 1, 0},
        {5, SIOV_ACCESS_WRITE, 0, 0, 0, 0, 1, 0},
        {5, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE, 1, 0, 0, 0, 1, 1}, /* AtomicOp: T1=1, T2=1 (spec 11.4.7.6) */
        {SIOV_NO_PASID, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE, 1, 0, 0, 0, 0, 1},
        {5, SIOV_ACCESS_EXEC, 1, 0, 1, 0, 1, 0},
        {5, SIOV_ACCESS_READ | SIOV_ACCESS_PRIV, 1, 0, 0, 1, 1, 0},
        {5, SIOV_ACCESS_WRITE | SIOV_ACCESS_PRIV, 0, 0, 0, 1, 1, 0},
        {5, SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ, 1, 1, 0, 0, 1, 0},
        {5, SIOV_ACCESS_WRITE | SIOV_ACCESS_TRANSLATED, 0, 2, 0, 0, 1, 0},
        {SIOV_NO_PASID, SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV, 1, 0, 0, 0, 0, 0},
        {SIOV_NO_PASID, SIOV_ACCESS_READ | SIOV_ACCESS_ATS_REQ, 1, 1, 0, 0, 0, 0},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct access_case *c = &cases[i];
        struct tl *t = unit(1, NULL);
        report(t, 0x0102, c->pasid, 0x5000, c->access, SIOV_FAULT_SGN_6, false);
        uint64_t hi = frcd_hi(t, 0);
        assert_int_equal((hi >> 62) & 1, c->t1);
        assert_int_equal((hi >> 60) & 3, c->at);
        assert_int_equal((hi >> 30) & 1, c->exe);
        assert_int_equal((hi >> 29) & 1, c->priv);
        assert_int_equal((hi >> 31) & 1, c->pp);
        assert_int_equal((hi >> 28) & 1, c->t2); /* T2 */
        assert_int_equal((hi >> 32) & 0xFF, 0x85);
        assert_int_equal(hi & 0xFFFF, 0x0102);
        assert_int_equal(hi & 0x0FFF0000ull, 0); /* reserved 91:80 */
        assert_int_equal(frcd_lo(t, 0), 0x5000);
        tl_free(t);
    }
}

static void test_record_pasid_20bit(void **state)
{
    (void)state;
    static const uint32_t pasids[] = {0, 1, 0xFFFF, 0x10000, 0x8ABCD, SIOV_PASID_MAX};
    for (size_t i = 0; i < sizeof(pasids) / sizeof(pasids[0]); i++) {
        struct tl *t = unit(1, NULL);
        report(t, 7, pasids[i], 0x1000, SIOV_ACCESS_READ, SIOV_FAULT_SPT_2, false);
        uint64_t hi = frcd_hi(t, 0);
        assert_int_equal((hi >> 40) & 0xFFFFF, pasids[i]);
        assert_int_equal((hi >> 31) & 1, 1);
        struct siov_fault_record r;
        assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 1);
        assert_int_equal(r.pasid, pasids[i]);
        tl_free(t);
    }
    /* no PASID: PP=0 and PV=0 */
    struct tl *t = unit(1, NULL);
    report(t, 7, SIOV_NO_PASID, 0x1000, SIOV_ACCESS_READ, SIOV_FAULT_SCT_2, false);
    uint64_t hi = frcd_hi(t, 0);
    assert_int_equal((hi >> 31) & 1, 0);
    assert_int_equal((hi >> 40) & 0xFFFFF, 0);
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 1);
    assert_int_equal(r.pasid, SIOV_NO_PASID);
    tl_free(t);
}

/* ------------------------------------------------------------- decoding */
static void test_fault_record_decode(void **state)
{
    (void)state;
    struct tl *t = unit(4, NULL);
    report(t, SIOV_SID(3, 4, 5), 0x12345, 0xDEADBEEF123ull, SIOV_ACCESS_WRITE | SIOV_ACCESS_PRIV |
           SIOV_ACCESS_ATS_REQ, SIOV_FAULT_SGN_2, false);
    report(t, SIOV_SID(0xFF, 31, 7), SIOV_NO_PASID, 0x7000, SIOV_ACCESS_READ | SIOV_ACCESS_TRANSLATED,
           SIOV_FAULT_LRT_2, false);
    report(t, 0, 9, 0x9000, SIOV_ACCESS_EXEC, SIOV_FAULT_SGN_3, false);
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 1);
    assert_int_equal(r.reason, SIOV_FAULT_SGN_2);
    assert_int_equal(r.sid, SIOV_SID(3, 4, 5));
    assert_int_equal(r.pasid, 0x12345);
    assert_int_equal(r.addr, 0xDEADBEEF000ull);
    assert_int_equal(r.access, SIOV_ACCESS_WRITE | SIOV_ACCESS_PRIV | SIOV_ACCESS_ATS_REQ);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 1, &r), 1);
    assert_int_equal(r.reason, SIOV_FAULT_LRT_2);
    assert_int_equal(r.sid, 0xFFFF);
    assert_int_equal(r.pasid, SIOV_NO_PASID);
    assert_int_equal(r.addr, 0x7000);
    assert_int_equal(r.access, SIOV_ACCESS_READ | SIOV_ACCESS_TRANSLATED);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 2, &r), 1);
    assert_int_equal(r.reason, SIOV_FAULT_SGN_3);
    assert_int_equal(r.access, SIOV_ACCESS_READ | SIOV_ACCESS_EXEC); /* T1=1 means read/exec */
    /* record 3 never written: 0 */
    assert_int_equal(siov_iommu_fault_record(t->iommu, 3, &r), 0);
    assert_int_equal(r.reason, SIOV_OK);
    /* cleared record: 0, contents still decodable */
    frcd_clear(t, 0);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 0);
    assert_int_equal(r.reason, SIOV_FAULT_SGN_2);
    /* an AtomicOp, (T1,T2) = (1,1), decodes as read and write */
    report(t, 0x10, SIOV_NO_PASID, 0x8000, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE, SIOV_FAULT_SGN_6, false);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 3, &r), 1);
    assert_int_equal(r.access, SIOV_ACCESS_READ | SIOV_ACCESS_WRITE);
    tl_free(t);
}

static void test_fault_record_einval(void **state)
{
    (void)state;
    struct tl *t = unit(4, NULL);
    fault_n(t, 1);
    struct siov_fault_record r, orig;
    memset(&r, 0xA5, sizeof(r));
    orig = r;
    assert_int_equal(siov_iommu_fault_record(NULL, 0, &r), -EINVAL);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, NULL), -EINVAL);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 4, &r), -EINVAL);
    assert_int_equal(siov_iommu_fault_record(t->iommu, 256, &r), -EINVAL);
    assert_int_equal(siov_iommu_fault_record(t->iommu, ~0u, &r), -EINVAL);
    assert_memory_equal(&r, &orig, sizeof(r));
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 1);
    tl_free(t);
}

/* ------------------------------------------------------------------ FSTS */
static void test_fsts_ppf_fri(void **state)
{
    (void)state;
    struct tl *t = unit(8, NULL);
    assert_int_equal(fsts(t), 0);
    fault_n(t, 0);
    fault_n(t, 1);
    fault_n(t, 2);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(0));
    frcd_clear(t, 0);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(1));
    frcd_clear(t, 2); /* out of order: FRI still the oldest pending */
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(1));
    frcd_clear(t, 1);
    assert_int_equal(fsts(t), 0); /* PPF derived: no record pending */
    /* software cannot set PPF or FRI */
    wr32(t, SIOV_REG_FSTS, 0xFFFFFFFFu);
    assert_int_equal(fsts(t), 0);
    tl_free(t);
}

static void test_fsts_rw1c(void **state)
{
    (void)state;
    struct tl *t = unit(8, NULL);
    /* status bits the invalidation queue and advanced logging would set */
    pthread_mutex_lock(&t->iommu->lock);
    t->iommu->fsts |= 0x7D; /* PFO AFO APF IQE ICE ITE */
    pthread_mutex_unlock(&t->iommu->lock);
    fault_n(t, 0); /* dropped: PFO is set */
    assert_int_equal(fsts(t), 0x7Du);
    static const uint32_t bits[] = {0x01, 0x04, 0x08, 0x10, 0x20, 0x40};
    uint32_t expect = 0x7D;
    for (size_t i = 0; i < sizeof(bits) / sizeof(bits[0]); i++) {
        wr32(t, SIOV_REG_FSTS, 0);
        assert_int_equal(fsts(t), expect);
        wr32(t, SIOV_REG_FSTS, bits[i] | 0xFFFF0082u); /* plus PPF, bit 7, reserved */
        expect &= ~bits[i];
        assert_int_equal(fsts(t), expect);
    }
    assert_int_equal(fsts(t), 0);
    assert_int_equal(frcd_hi(t, 0), 0); /* the fault under PFO was dropped */
    fault_n(t, 0);
    assert_int_equal(fsts(t), LIT_PPF);
    tl_free(t);
}

/* --------------------------------------------------------- overflow, wrap */
static void test_overflow(void **state)
{
    (void)state;
    struct tl *t = unit(4, NULL);
    for (unsigned i = 0; i < 4; i++)
        fault_n(t, i);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(0));
    uint64_t before[8];
    for (unsigned i = 0; i < 4; i++) {
        before[2 * i] = frcd_lo(t, i);
        before[2 * i + 1] = frcd_hi(t, i);
    }
    report(t, 0x4242, 3, 0xABC000, SIOV_ACCESS_WRITE, SIOV_FAULT_SGN_6, false);
    assert_int_equal(fsts(t), LIT_PFO | LIT_PPF | LIT_FRI(0));
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(frcd_lo(t, i), before[2 * i]);
        assert_int_equal(frcd_hi(t, i), before[2 * i + 1]);
    }
    struct siov_stats s = tl_stats(t);
    assert_int_equal(s.faults, 5);
    assert_int_equal(s.faults_recorded, 4);
    /* a free record does not help while PFO is set */
    frcd_clear(t, 0);
    fault_n(t, 9);
    assert_int_equal(frcd_hi(t, 0), before[1] & ~(1ull << 63));
    assert_int_equal(fsts(t), LIT_PFO | LIT_PPF | LIT_FRI(1));
    /* clearing PFO: the next fault goes to record 0, the ring's next slot */
    wr32(t, SIOV_REG_FSTS, LIT_PFO);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(1));
    fault_n(t, 10);
    assert_int_equal(frcd_lo(t, 0), 10 << 12);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(1)); /* 1, 2, 3 are older than 0 */
    /* the ring is full again: record 1 still pending, so the next is dropped */
    fault_n(t, 11);
    assert_int_equal(fsts(t), LIT_PFO | LIT_PPF | LIT_FRI(1));
    assert_int_equal(frcd_lo(t, 1), 1 << 12);
    s = tl_stats(t);
    assert_int_equal(s.faults, 8);
    assert_int_equal(s.faults_recorded, 5);
    tl_free(t);
}

static void test_ring_wrap(void **state)
{
    (void)state;
    struct tl *t = unit(2, NULL);
    fault_n(t, 1);
    fault_n(t, 2);
    frcd_clear(t, 0);
    frcd_clear(t, 1);
    assert_int_equal(fsts(t), 0);
    fault_n(t, 3); /* -> record 0 */
    fault_n(t, 4); /* -> record 1 */
    assert_int_equal(frcd_lo(t, 0), 3 << 12);
    assert_int_equal(frcd_lo(t, 1), 4 << 12);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(0));
    frcd_clear(t, 0);
    fault_n(t, 5); /* -> record 0, now newer than record 1 */
    assert_int_equal(frcd_lo(t, 0), 5 << 12);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(1));
    /* walking forward from FRI while F=1 finds both, oldest first */
    frcd_clear(t, 1);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(0));
    frcd_clear(t, 0);
    assert_int_equal(fsts(t), 0);
    assert_int_equal(tl_stats(t).faults_recorded, 5);
    tl_free(t);
}

static void test_max_records(void **state)
{
    (void)state;
    struct tl *t = unit(256, NULL);
    for (unsigned i = 0; i < 256; i++)
        fault_n(t, i);
    assert_int_equal(fsts(t), LIT_PPF);
    assert_int_equal(frcd_lo(t, 255), 255ull << 12);
    for (unsigned i = 0; i < 255; i++)
        frcd_clear(t, i);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(255));
    fault_n(t, 256);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(255));
    assert_int_equal(frcd_lo(t, 0), 256ull << 12);
    tl_free(t);
}

/* ----------------------------------------------------------- FRCD access */
static void test_frcd_write_only_clears_f(void **state)
{
    (void)state;
    struct tl *t = unit(2, NULL);
    report(t, 0x1234, 0x55, 0xA000, SIOV_ACCESS_READ, SIOV_FAULT_SFL_2, false);
    uint64_t lo = frcd_lo(t, 0), hi = frcd_hi(t, 0);
    uint64_t r = SIOV_REG_FRCD;
    siov_mmio_write(t->iommu, r, ~0ull, 8);
    siov_mmio_write(t->iommu, r, 0, 8);
    wr32(t, r + 4, 0xFFFFFFFFu);
    wr32(t, r + 8, 0xFFFFFFFFu);
    wr32(t, r + 8, 0);
    wr32(t, r + 12, 0x7FFFFFFFu);            /* everything but F */
    siov_mmio_write(t->iommu, r + 8, 0x7FFFFFFFFFFFFFFFull, 8);
    siov_mmio_write(t->iommu, r + 4, ~0ull, 8); /* misaligned */
    siov_mmio_write(t->iommu, r + 12, ~0ull, 8); /* misaligned, over F */
    siov_mmio_write(t->iommu, r + 9, ~0ull, 8);  /* odd */
    siov_mmio_write(t->iommu, r + 9, ~0ull, 4);
    siov_mmio_write(t->iommu, r + 8, ~0ull, 4);   /* a dword write reaches bits 95:64 only */
    assert_int_equal(frcd_lo(t, 0), lo);
    assert_int_equal(frcd_hi(t, 0), hi);
    assert_int_equal(fsts(t), LIT_PPF);
    /* 8-byte write of all ones at +8 clears F only */
    siov_mmio_write(t->iommu, r + 8, ~0ull, 8);
    assert_int_equal(frcd_lo(t, 0), lo);
    assert_int_equal(frcd_hi(t, 0), hi & ~(1ull << 63));
    assert_int_equal(fsts(t), 0);
    /* the dword at +12 clears F too; excess value bits are ignored */
    report(t, 0x1234, 0x55, 0xB000, SIOV_ACCESS_READ, SIOV_FAULT_SFL_2, false);
    uint64_t hi1 = frcd_hi(t, 1);
    assert_int_equal(hi1 >> 63, 1);
    siov_mmio_write(t->iommu, r + 16 + 12, 0xFFFFFFFF00000000ull, 4);
    assert_int_equal(frcd_hi(t, 1), hi1);
    siov_mmio_write(t->iommu, r + 16 + 12, 0xFFFFFFFF80000000ull, 4);
    assert_int_equal(frcd_hi(t, 1), hi1 & ~(1ull << 63));
    /* writing F=1 to a clear record does not set it */
    siov_mmio_write(t->iommu, r + 8, ~0ull, 8);
    assert_int_equal(frcd_hi(t, 0), hi & ~(1ull << 63));
    /* past the last of the two records: nothing, read or written */
    siov_mmio_write(t->iommu, r + 32 + 8, ~0ull, 8);
    assert_int_equal(rd64(t, r + 32), 0);
    assert_int_equal(rd64(t, r + 32 + 8), 0);
    assert_int_equal(frcd_hi(t, 1), hi1 & ~(1ull << 63));
    tl_free(t);
}

static void test_frcd_read_sizes(void **state)
{
    (void)state;
    struct tl *t = unit(2, NULL);
    report(t, 0x00AB, 0xFEDCB, 0x0123456789ABC000ull, SIOV_ACCESS_READ, SIOV_FAULT_SSL_3, false);
    uint64_t r = SIOV_REG_FRCD + 16; /* record 1 */
    report(t, 0x00AB, 0xFEDCB, 0x0123456789ABC000ull, SIOV_ACCESS_READ, SIOV_FAULT_SSL_3, false);
    uint64_t lo = siov_mmio_read(t->iommu, r, 8), hi = siov_mmio_read(t->iommu, r + 8, 8);
    assert_int_equal(lo, 0x0123456789ABC000ull);
    assert_int_equal(hi, 0xCFEDCB7A800000ABull);
    assert_int_equal(rd32(t, r), (uint32_t)lo);
    assert_int_equal(rd32(t, r + 4), (uint32_t)(lo >> 32));
    assert_int_equal(rd32(t, r + 8), (uint32_t)hi);
    assert_int_equal(rd32(t, r + 12), (uint32_t)(hi >> 32));
    /* misaligned, odd sizes: 0 */
    assert_int_equal(siov_mmio_read(t->iommu, r + 4, 8), 0);
    assert_int_equal(siov_mmio_read(t->iommu, r + 2, 4), 0);
    assert_int_equal(siov_mmio_read(t->iommu, r, 2), 0);
    /* beyond the last record: nothing there */
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FRCD + 32, 8), 0);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FRCD + 40, 8), 0);
    tl_free(t);
}

/* ---------------------------------------------------- FEDATA/FEADDR/FECTL */
static void test_event_regs_storage(void **state)
{
    (void)state;
    struct tl *t = unit(2, NULL);
    assert_int_equal(fectl(t), LIT_IM); /* reset: the event starts masked (spec 10.4.10) */
    assert_int_equal(rd32(t, SIOV_REG_IECTL), LIT_IM);
    wr32(t, SIOV_REG_FEDATA, 0xFFFF1234u);
    wr32(t, SIOV_REG_FEADDR, 0xFEE01007u);
    wr32(t, SIOV_REG_FEUADDR, 0x89ABCDEFu);
    assert_int_equal(rd32(t, SIOV_REG_FEDATA), 0x1234u);
    assert_int_equal(rd32(t, SIOV_REG_FEADDR), 0xFEE01004u);
    assert_int_equal(rd32(t, SIOV_REG_FEUADDR), 0x89ABCDEFu);
    /* FECTL: IM read-write, IP read-only, reserved 0 */
    wr32(t, SIOV_REG_FECTL, 0xFFFFFFFFu);
    assert_int_equal(fectl(t), LIT_IM);
    wr32(t, SIOV_REG_FECTL, LIT_IP);
    assert_int_equal(fectl(t), 0);
    /* 32-bit registers take 4-byte accesses only */
    siov_mmio_write(t->iommu, SIOV_REG_FEADDR, 0x12345678ull << 32 | 0xFEE02000u, 8);
    assert_int_equal(rd32(t, SIOV_REG_FEADDR), 0xFEE01004u);
    assert_int_equal(rd32(t, SIOV_REG_FEUADDR), 0x89ABCDEFu);
    assert_int_equal(siov_mmio_read(t->iommu, SIOV_REG_FEADDR, 8), 0);
    tl_free(t);
}

/* The fault event's message, then unmasked, as a driver does (FECTL resets masked). */
static void program_msi(struct tl *t)
{
    wr32(t, SIOV_REG_FEDATA, 0x4041);
    wr32(t, SIOV_REG_FEADDR, 0xFEE0F00Cu);
    wr32(t, SIOV_REG_FEUADDR, 0x1);
    wr32(t, SIOV_REG_FECTL, 0);
}

static void test_msi_unmasked(void **state)
{
    (void)state;
    struct msi_log log;
    struct tl *t = unit(4, &log);
    program_msi(t);
    fault_n(t, 0);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.addr, 0x1FEE0F00Cull);
    assert_int_equal(log.data, 0x4041);
    assert_int_equal(fectl(t), 0); /* IP stays clear */
    /* not a new condition while the first is unserviced */
    fault_n(t, 1);
    assert_int_equal(log.calls, 1);
    frcd_clear(t, 0);
    fault_n(t, 2);
    assert_int_equal(log.calls, 1);
    /* serviced: every F clear; the next fault is a new event */
    frcd_clear(t, 1);
    frcd_clear(t, 2);
    assert_int_equal(fsts(t), 0);
    wr32(t, SIOV_REG_FEDATA, 0x4042);
    fault_n(t, 3);
    assert_int_equal(log.calls, 2);
    assert_int_equal(log.data, 0x4042);
    tl_free(t);
}

static void test_msi_masked_then_unmasked(void **state)
{
    (void)state;
    struct msi_log log;
    struct tl *t = unit(4, &log);
    program_msi(t);
    wr32(t, SIOV_REG_FECTL, LIT_IM);
    fault_n(t, 0);
    assert_int_equal(log.calls, 0);
    assert_int_equal(fectl(t), LIT_IM | LIT_IP);
    fault_n(t, 1);
    assert_int_equal(log.calls, 0);
    wr32(t, SIOV_REG_FECTL, LIT_IM); /* still masked: nothing */
    assert_int_equal(log.calls, 0);
    wr32(t, SIOV_REG_FECTL, 0); /* unmask: the pending MSI goes out, IP clears */
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.addr, 0x1FEE0F00Cull);
    assert_int_equal(log.data, 0x4041);
    assert_int_equal(fectl(t), 0);
    wr32(t, SIOV_REG_FECTL, LIT_IM);
    wr32(t, SIOV_REG_FECTL, 0);
    assert_int_equal(log.calls, 1); /* sent once only */
    tl_free(t);
}

static void test_ip_cleared_by_servicing(void **state)
{
    (void)state;
    struct msi_log log;
    struct tl *t = unit(1, &log);
    program_msi(t);
    wr32(t, SIOV_REG_FECTL, LIT_IM);
    fault_n(t, 0);
    fault_n(t, 1); /* overflow: PFO */
    assert_int_equal(fsts(t), LIT_PFO | LIT_PPF);
    assert_int_equal(fectl(t), LIT_IM | LIT_IP);
    frcd_clear(t, 0);
    assert_int_equal(fectl(t), LIT_IM | LIT_IP); /* PFO still set */
    wr32(t, SIOV_REG_FSTS, LIT_PFO);
    assert_int_equal(fectl(t), LIT_IM);
    wr32(t, SIOV_REG_FECTL, 0);
    assert_int_equal(log.calls, 0); /* serviced before unmasking: no MSI */
    /* the other order: RW1C status first, then the record */
    wr32(t, SIOV_REG_FECTL, LIT_IM);
    fault_n(t, 2);
    fault_n(t, 3);
    wr32(t, SIOV_REG_FSTS, LIT_PFO);
    assert_int_equal(fectl(t), LIT_IM | LIT_IP);
    frcd_clear(t, 0);
    assert_int_equal(fectl(t), LIT_IM);
    /* a new condition after servicing raises IP again */
    fault_n(t, 4);
    assert_int_equal(fectl(t), LIT_IM | LIT_IP);
    tl_free(t);
}

static void test_event_from_other_status(void **state)
{
    (void)state;
    struct msi_log log;
    struct tl *t = unit(2, &log);
    program_msi(t);
    /* what the invalidation queue does on an error: set IQE, raise the event */
    pthread_mutex_lock(&t->iommu->lock);
    t->iommu->fsts |= SIOV_FSTS_IQE;
    siov_fault_event_locked(t->iommu);
    pthread_mutex_unlock(&t->iommu->lock);
    siov_msi_flush(t->iommu);
    assert_int_equal(log.calls, 1);
    assert_int_equal(fsts(t), 0x10u);
    fault_n(t, 0); /* IQE unserviced: no new event */
    assert_int_equal(log.calls, 1);
    wr32(t, SIOV_REG_FSTS, 0x10u);
    assert_int_equal(fsts(t), LIT_PPF); /* still a record pending */
    fault_n(t, 1);
    assert_int_equal(log.calls, 1);
    tl_free(t);
}

/* ------------------------------------------------------------------- FPD */
/* Non-qualified reasons, from spec rev 5.10 Table 30: LRT.*, RTA.*, SRT.*,
   SCT.1, SPD.1, SPT.1. Every other reason is qualified. */
static const unsigned non_qualified[] = {
    0x01, 0x08, 0x0A, 0x30, 0x31, 0x32, 0x33, 0x34, 0x38, 0x39, 0x3A, 0x40, 0x50, 0x58,
    0x20, 0x21, 0x23, 0x25, 0x29, 0x2A, 0x2B, /* interrupt remapping (spec Table 15) */
};

static bool listed_non_qualified(unsigned code)
{
    for (size_t i = 0; i < sizeof(non_qualified) / sizeof(non_qualified[0]); i++)
        if (non_qualified[i] == code)
            return true;
    return false;
}

#define FAULT_LIST(X) \
    X(SIOV_FAULT_LRT_2) X(SIOV_FAULT_LCT_2) X(SIOV_FAULT_LCT_4) X(SIOV_FAULT_LGN_1) \
    X(SIOV_FAULT_LGN_2) X(SIOV_FAULT_LGN_3) X(SIOV_FAULT_LSL_1) X(SIOV_FAULT_LRT_1) \
    X(SIOV_FAULT_LCT_1) X(SIOV_FAULT_LRT_3) X(SIOV_FAULT_LCT_3) X(SIOV_FAULT_LSL_2) \
    X(SIOV_FAULT_LCT_5) X(SIOV_FAULT_LGN_4) X(SIOV_FAULT_RTA_1) X(SIOV_FAULT_RTA_2) \
    X(SIOV_FAULT_IR_20) X(SIOV_FAULT_IR_21) X(SIOV_FAULT_IR_22) X(SIOV_FAULT_IR_23) \
    X(SIOV_FAULT_IR_24) X(SIOV_FAULT_IR_25) X(SIOV_FAULT_IR_26) X(SIOV_FAULT_IR_27) \
    X(SIOV_FAULT_IR_28) X(SIOV_FAULT_IR_29) X(SIOV_FAULT_IR_2A) X(SIOV_FAULT_IR_2B) \
    X(SIOV_FAULT_RTA_3) X(SIOV_FAULT_RTA_4) X(SIOV_FAULT_RTA_5) X(SIOV_FAULT_SRT_1) X(SIOV_FAULT_SRT_2) \
    X(SIOV_FAULT_SRT_3) X(SIOV_FAULT_SCT_1) X(SIOV_FAULT_SCT_2) X(SIOV_FAULT_SCT_3) \
    X(SIOV_FAULT_SCT_4) X(SIOV_FAULT_SCT_5) X(SIOV_FAULT_SCT_6) X(SIOV_FAULT_SCT_7) \
    X(SIOV_FAULT_SCT_8) X(SIOV_FAULT_SCT_9) X(SIOV_FAULT_SCT_10) X(SIOV_FAULT_SPD_1) X(SIOV_FAULT_SPD_2) \
    X(SIOV_FAULT_SPD_3) X(SIOV_FAULT_SPT_1) X(SIOV_FAULT_SPT_2) X(SIOV_FAULT_SPT_3) \
    X(SIOV_FAULT_SPT_4) X(SIOV_FAULT_SPT_5) X(SIOV_FAULT_SPT_6) X(SIOV_FAULT_SPT_9) X(SIOV_FAULT_SFL_1) \
    X(SIOV_FAULT_SFL_2) X(SIOV_FAULT_SFL_3) X(SIOV_FAULT_SFL_4) X(SIOV_FAULT_SFL_5) \
    X(SIOV_FAULT_SFL_6) X(SIOV_FAULT_SFL_7) X(SIOV_FAULT_SFL_8) X(SIOV_FAULT_SSL_1) \
    X(SIOV_FAULT_SSL_2) X(SIOV_FAULT_SSL_3) X(SIOV_FAULT_SSL_4) X(SIOV_FAULT_SSL_5) \
    X(SIOV_FAULT_SSL_6) X(SIOV_FAULT_SGN_1) X(SIOV_FAULT_SGN_2) X(SIOV_FAULT_SGN_3) \
    X(SIOV_FAULT_SGN_4) X(SIOV_FAULT_SGN_5) X(SIOV_FAULT_SGN_6) X(SIOV_FAULT_SGN_7) \
    X(SIOV_FAULT_SGN_8) X(SIOV_FAULT_SGN_10) X(SIOV_FAULT_SFL_9) X(SIOV_FAULT_SFL_10) \
    X(SIOV_FAULT_HPT_1) X(SIOV_FAULT_HPT_2) X(SIOV_FAULT_HPT_3) X(SIOV_FAULT_HPT_4) \
    X(SIOV_FAULT_HPT_5) X(SIOV_FAULT_HPT_6)

struct enumerator {
    siov_fault f;
    const char *ident;
};
#define ENUMERATOR(e) {e, #e},
static const struct enumerator all_faults[] = {FAULT_LIST(ENUMERATOR)};
#define NFAULTS (sizeof(all_faults) / sizeof(all_faults[0]))

static void test_qualified_table(void **state)
{
    (void)state;
    assert_int_equal(NFAULTS, 85);
    for (size_t i = 0; i < NFAULTS; i++)
        assert_int_equal(siov_fault_qualified(all_faults[i].f), !listed_non_qualified(all_faults[i].f));
}

static void test_fpd_suppression(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFAULTS; i++) {
        siov_fault f = all_faults[i].f;
        bool recorded = listed_non_qualified(f);
        struct msi_log log;
        struct tl *t = unit(2, &log);
        wr32(t, SIOV_REG_FECTL, 0);
        report(t, 0x0300, 4, 0x2000, SIOV_ACCESS_READ, f, true);
        assert_int_equal(fsts(t), recorded ? LIT_PPF : 0);
        assert_int_equal(frcd_hi(t, 0) >> 63, recorded);
        assert_int_equal(log.calls, recorded);
        struct siov_stats s = tl_stats(t);
        assert_int_equal(s.faults, 1);
        assert_int_equal(s.faults_recorded, recorded);
        /* without FPD every reason is recorded, with its code in FR */
        report(t, 0x0300, 4, 0x3000, SIOV_ACCESS_READ, f, false);
        unsigned idx = recorded ? 1 : 0;
        assert_int_equal((frcd_hi(t, idx) >> 32) & 0xFF, (unsigned)f);
        assert_int_equal(frcd_lo(t, idx), 0x3000);
        assert_int_equal(tl_stats(t).faults, 2);
        tl_free(t);
    }
}

static void test_not_faults_ignored(void **state)
{
    (void)state;
    struct msi_log log;
    struct tl *t = unit(2, &log);
    report(t, 1, 1, 0x1000, SIOV_ACCESS_READ, SIOV_OK, false);
    report(t, 1, 1, 0x1000, SIOV_ACCESS_READ, SIOV_ERR_BUS, false);
    report(t, 1, 1, 0x1000, SIOV_ACCESS_READ, SIOV_ERR_NOT_PRESENT, false);
    report(t, 1, 1, 0x1000, SIOV_ACCESS_READ, (siov_fault)0x2C, false);
    assert_int_equal(fsts(t), 0);
    assert_int_equal(frcd_hi(t, 0), 0);
    assert_int_equal(tl_stats(t).faults, 0);
    assert_int_equal(log.calls, 0);
    tl_free(t);
}

/* ------------------------------------------------------------ name table */
static void test_fault_names(void **state)
{
    (void)state;
    for (size_t i = 0; i < NFAULTS; i++) {
        char want[32];
        snprintf(want, sizeof(want), "%s", all_faults[i].ident + strlen("SIOV_FAULT_"));
        for (char *p = want; *p; p++)
            if (*p == '_')
                *p = '.';
        assert_string_equal(siov_fault_name(all_faults[i].f), want);
        const char *d = siov_fault_describe(all_faults[i].f);
        assert_non_null(d);
        assert_true(strlen(d) > 8);
        assert_string_not_equal(d, "unknown fault reason");
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(siov_fault_describe(all_faults[j].f), d);
    }
    assert_string_equal(siov_fault_name(SIOV_FAULT_SPT_2), "SPT.2");
    assert_string_equal(siov_fault_name(SIOV_FAULT_SFL_10), "SFL.10");
    assert_string_equal(siov_fault_name(SIOV_OK), "OK");
    assert_string_equal(siov_fault_name(SIOV_ERR_BUS), "BUS");
    assert_string_equal(siov_fault_name(SIOV_ERR_NOT_PRESENT), "NOT_PRESENT");
    assert_string_not_equal(siov_fault_describe(SIOV_ERR_NOT_PRESENT), "unknown fault reason");
    assert_string_not_equal(siov_fault_describe(SIOV_OK), "unknown fault reason");
    assert_string_not_equal(siov_fault_describe(SIOV_ERR_BUS), "unknown fault reason");
    assert_true(strlen(siov_fault_describe(SIOV_ERR_BUS)) > 8);
}

/* The rev 3.4+ stage names: the alias enumerators, siov_fault_stage_name,
   and siov_fault_from_name, which takes either name. */
static void test_fault_stage_names(void **state)
{
    (void)state;
    static const struct {
        siov_fault alias, f;
        const char *stage, *name;
    } renamed[] = {
        {SIOV_FAULT_LSS_1, SIOV_FAULT_LSL_1, "LSS.1", "LSL.1"}, {SIOV_FAULT_LSS_2, SIOV_FAULT_LSL_2, "LSS.2", "LSL.2"},
        {SIOV_FAULT_SFS_1, SIOV_FAULT_SFL_1, "SFS.1", "SFL.1"}, {SIOV_FAULT_SFS_2, SIOV_FAULT_SFL_2, "SFS.2", "SFL.2"},
        {SIOV_FAULT_SFS_3, SIOV_FAULT_SFL_3, "SFS.3", "SFL.3"}, {SIOV_FAULT_SFS_4, SIOV_FAULT_SFL_4, "SFS.4", "SFL.4"},
        {SIOV_FAULT_SFS_5, SIOV_FAULT_SFL_5, "SFS.5", "SFL.5"}, {SIOV_FAULT_SFS_6, SIOV_FAULT_SFL_6, "SFS.6", "SFL.6"},
        {SIOV_FAULT_SFS_7, SIOV_FAULT_SFL_7, "SFS.7", "SFL.7"}, {SIOV_FAULT_SFS_8, SIOV_FAULT_SFL_8, "SFS.8", "SFL.8"},
        {SIOV_FAULT_SFS_9, SIOV_FAULT_SFL_9, "SFS.9", "SFL.9"},
        {SIOV_FAULT_SFS_10, SIOV_FAULT_SFL_10, "SFS.10", "SFL.10"},
        {SIOV_FAULT_SSS_1, SIOV_FAULT_SSL_1, "SSS.1", "SSL.1"}, {SIOV_FAULT_SSS_2, SIOV_FAULT_SSL_2, "SSS.2", "SSL.2"},
        {SIOV_FAULT_SSS_3, SIOV_FAULT_SSL_3, "SSS.3", "SSL.3"}, {SIOV_FAULT_SSS_4, SIOV_FAULT_SSL_4, "SSS.4", "SSL.4"},
        {SIOV_FAULT_SSS_5, SIOV_FAULT_SSL_5, "SSS.5", "SSL.5"}, {SIOV_FAULT_SSS_6, SIOV_FAULT_SSL_6, "SSS.6", "SSL.6"},
    };
    const size_t n = sizeof(renamed) / sizeof(renamed[0]);
    for (size_t i = 0; i < n; i++) {
        siov_fault got = SIOV_OK;
        assert_int_equal(renamed[i].alias, renamed[i].f);
        assert_string_equal(siov_fault_name(renamed[i].f), renamed[i].name); /* unchanged */
        assert_string_equal(siov_fault_stage_name(renamed[i].f), renamed[i].stage);
        assert_int_equal(siov_fault_from_name(renamed[i].stage, &got), 0);
        assert_int_equal(got, renamed[i].f);
        got = SIOV_OK;
        assert_int_equal(siov_fault_from_name(renamed[i].name, &got), 0);
        assert_int_equal(got, renamed[i].f);
        char lower[16];
        snprintf(lower, sizeof(lower), "%s", renamed[i].stage);
        for (char *p = lower; *p; p++)
            *p = *p == '.' ? '_' : (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        got = SIOV_OK;
        assert_int_equal(siov_fault_from_name(lower, &got), 0); /* "sss_2" */
        assert_int_equal(got, renamed[i].f);
    }
    /* every other reason has one name, and from_name finds it */
    unsigned same = 0;
    for (size_t i = 0; i < NFAULTS; i++) {
        siov_fault f = all_faults[i].f, got = SIOV_OK;
        assert_int_equal(siov_fault_from_name(siov_fault_name(f), &got), 0);
        assert_int_equal(got, f);
        same += strcmp(siov_fault_stage_name(f), siov_fault_name(f)) == 0;
    }
    assert_int_equal(same, NFAULTS - n);
    siov_fault got = SIOV_OK;
    assert_int_equal(siov_fault_from_name("sgn.10", &got), 0);
    assert_int_equal(got, 0x89);
    assert_int_equal(siov_fault_from_name("HPT_6", &got), 0);
    assert_int_equal(got, 0xA5);
    assert_int_equal(siov_fault_from_name("ok", &got), 0);
    assert_int_equal(got, SIOV_OK);
    assert_int_equal(siov_fault_from_name("BUS", &got), 0);
    assert_int_equal(got, SIOV_ERR_BUS);
    assert_int_equal(siov_fault_from_name("rta.4", &got), 0); /* 'a', the first letter, in lower case */
    assert_int_equal(got, SIOV_FAULT_RTA_4);
    /* only '_' stands for the dot */
    static const char *const bad[] = {"", "?", "SSS", "SSS.", "SSS.7", "SFS.11", "SGN.9", "SSL.2 ", "XSSL.2", "S",
                                      "SPTx2"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        got = SIOV_FAULT_SCT_1;
        assert_int_equal(siov_fault_from_name(bad[i], &got), -EINVAL);
        assert_int_equal(got, SIOV_FAULT_SCT_1); /* unchanged */
    }
    assert_int_equal(siov_fault_from_name(NULL, &got), -EINVAL);
    assert_int_equal(siov_fault_from_name("SSL.2", NULL), -EINVAL);
    assert_string_equal(siov_fault_stage_name((siov_fault)0x88), "?");
    assert_string_equal(siov_fault_stage_name(SIOV_OK), "OK");
}

static void test_fault_names_unknown(void **state)
{
    (void)state;
    static const long unknown[] = {0x0F, 0x10, 0x1F, 0x2C, 0x2F, 0x35, 0x37, 0x3B, 0x4A, 0x53,
                                   0x5E, 0x5F, 0x61, 0x6F, 0x7E, 0x88, 0x8A, 0x8F, 0x92, 0x9F,
                                   0xA6, 0xFF, 0x102, 0x200, 0x7FFFFFFF, -1};
    for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
        siov_fault f = (siov_fault)unknown[i];
        assert_string_equal(siov_fault_name(f), "?");
        assert_string_equal(siov_fault_describe(f), "unknown fault reason");
        assert_false(siov_fault_qualified(f));
    }
    /* every code from 0 to 0x100 is named iff it is an enumerator */
    unsigned named = 0;
    for (unsigned c = 0; c <= 0x100; c++)
        named += strcmp(siov_fault_name((siov_fault)c), "?") != 0;
    assert_int_equal(named, NFAULTS + 2);
}

/* ------------------------------------------------------------ concurrency */
struct racer {
    struct tl *t;
    unsigned id;
};

static void *race_faults(void *arg)
{
    struct racer *r = arg;
    for (unsigned i = 0; i < 100; i++)
        report(r->t, (siov_sid)(0x100 + r->id), r->id, (uint64_t)i << 12, SIOV_ACCESS_WRITE,
               SIOV_FAULT_SSL_2, false);
    return NULL;
}

static void test_concurrent_reports(void **state)
{
    (void)state;
    struct msi_log log;
    struct tl *t = unit(256, &log);
    program_msi(t);
    pthread_t th[8];
    struct racer r[8];
    for (unsigned i = 0; i < 8; i++) {
        r[i] = (struct racer){t, i};
        assert_int_equal(pthread_create(&th[i], NULL, race_faults, &r[i]), 0);
    }
    for (unsigned i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    struct siov_stats s = tl_stats(t);
    assert_int_equal(s.faults, 800);
    assert_int_equal(s.faults_recorded, 256);
    assert_int_equal(fsts(t), LIT_PFO | LIT_PPF | LIT_FRI(0));
    assert_int_equal(log.calls, 1);
    /* every record is whole: one thread's sid, PASID and address together */
    bool seen[8][100] = {{false}};
    for (unsigned i = 0; i < 256; i++) {
        struct siov_fault_record fr;
        assert_int_equal(siov_iommu_fault_record(t->iommu, i, &fr), 1);
        unsigned id = fr.sid - 0x100u;
        assert_true(id < 8);
        assert_int_equal(fr.pasid, id);
        assert_int_equal(fr.reason, SIOV_FAULT_SSL_2);
        unsigned page = (unsigned)(fr.addr >> 12);
        assert_true(page < 100);
        assert_false(seen[id][page]);
        seen[id][page] = true;
    }
    tl_free(t);
}

/* The documented overflow: 12 faults on the default 8 records leave 8
   records and FSTS = PFO|PPF; siov_iommu_clear_faults empties the log through
   the registers, ends the fault event and leaves queue errors alone. */
static void test_overflow_twelve_and_clear(void **state)
{
    (void)state;
    struct msi_log log;
    struct tl *t = unit(8, &log);
    program_msi(t);
    wr32(t, SIOV_REG_FECTL, LIT_IM); /* masked: IP shows the pending event */
    for (unsigned i = 0; i < 12; i++)
        fault_n(t, i);
    assert_int_equal(fsts(t), LIT_PFO | LIT_PPF | LIT_FRI(0));
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(frcd_lo(t, i), (uint64_t)i << 12);
    struct siov_stats s = tl_stats(t);
    assert_int_equal(s.faults, 12);
    assert_int_equal(s.faults_recorded, 8);
    assert_int_equal(fectl(t), LIT_IM | LIT_IP);
    pthread_mutex_lock(&t->iommu->lock);
    t->iommu->fsts |= 0x10; /* IQE: the queue's, not the fault log's */
    pthread_mutex_unlock(&t->iommu->lock);

    assert_int_equal(siov_iommu_clear_faults(t->iommu), 8);
    assert_int_equal(fsts(t), 0x10u);
    for (unsigned i = 0; i < 8; i++)
        assert_int_equal(frcd_hi(t, i) >> 63, 0);
    assert_int_equal(siov_iommu_clear_faults(t->iommu), 0);
    assert_int_equal(fectl(t), LIT_IM | LIT_IP); /* IQE is still unserviced */
    wr32(t, SIOV_REG_FSTS, 0x10);
    assert_int_equal(fectl(t), LIT_IM); /* every status serviced: IP clears */
    /* logging resumes at the ring's next record, 0 */
    fault_n(t, 12);
    assert_int_equal(frcd_lo(t, 0), 12 << 12);
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(0));
    assert_int_equal(siov_iommu_clear_faults(NULL), -EINVAL);
    tl_free(t);
}

/* ------------------------------------------------- through siov_translate */
static void test_e2e_root_not_present(void **state)
{
    (void)state;
    struct msi_log log;
    /* scalable: the upper half of bus 3's root entry (devfn 0x90) is absent */
    struct tl *t = unit(8, &log);
    program_msi(t);
    tl_enable(t, SIOV_TTM_SCALABLE);
    struct siov_xlate x;
    siov_sid sid = SIOV_SID(3, 0x12, 0);
    assert_int_equal(siov_translate(t->iommu, sid, 0x4321, 0x7654321ABCull, SIOV_ACCESS_WRITE, &x),
                     SIOV_FAULT_SRT_2);
    assert_int_equal(frcd_lo(t, 0), 0x7654321000ull);
    /* F, T1=0 (write), AT=00, PV=0x4321, FR=0x39, PP, SID=0x0390 */
    assert_int_equal(frcd_hi(t, 0), 0x8043213980000390ull);
    assert_int_equal(fsts(t), LIT_PPF);
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.addr, 0x1FEE0F00Cull);
    struct siov_fault_record r;
    assert_int_equal(siov_iommu_fault_record(t->iommu, 0, &r), 1);
    assert_int_equal(r.reason, SIOV_FAULT_SRT_2);
    assert_int_equal(r.sid, sid);
    assert_int_equal(r.pasid, 0x4321);
    assert_int_equal(r.addr, 0x7654321000ull);
    assert_int_equal(r.access, SIOV_ACCESS_WRITE);
    tl_free(t);

    /* legacy: LRT.2, no PASID */
    t = unit(8, NULL);
    tl_enable(t, SIOV_TTM_LEGACY);
    assert_int_equal(siov_translate(t->iommu, SIOV_SID(0x80, 1, 1), SIOV_NO_PASID, 0x5000,
                                    SIOV_ACCESS_READ, &x), SIOV_FAULT_LRT_2);
    assert_int_equal(frcd_lo(t, 0), 0x5000);
    assert_int_equal(frcd_hi(t, 0), 0xC000000100008009ull); /* F T1 FR=0x01 SID=0x8009 */
    assert_int_equal(tl_stats(t).faults, 1);
    assert_int_equal(tl_stats(t).faults_recorded, 1);
    tl_free(t);
}

static void test_e2e_fpd(void **state)
{
    (void)state;
    struct tl *t = unit(8, NULL);
    tl_enable(t, SIOV_TTM_SCALABLE);
    struct siov_xlate x;
    /* context entry not present, FPD=1: SCT.2 is qualified, nothing recorded */
    siov_sid quiet = SIOV_SID(1, 2, 3);
    tl_sm_context(t, quiet, SIOV_SCE0_FPD, 0);
    assert_int_equal(siov_translate(t->iommu, quiet, 7, 0x1000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SCT_2);
    assert_int_equal(fsts(t), 0);
    assert_int_equal(frcd_hi(t, 0), 0);
    assert_int_equal(tl_stats(t).faults, 1);
    assert_int_equal(tl_stats(t).faults_recorded, 0);
    /* FPD=1 and a reserved bit set: SCT.3 is qualified too (Table 30) */
    siov_sid rsvd = SIOV_SID(1, 2, 4);
    tl_sm_context(t, rsvd, SIOV_SCE0_P | SIOV_SCE0_FPD | SIOV_SCE0_RSVD | tl_page(t), 0);
    assert_int_equal(siov_translate(t->iommu, rsvd, 7, 0x2000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SCT_3);
    assert_int_equal(fsts(t), 0);
    /* without FPD it is recorded */
    tl_sm_context(t, rsvd, SIOV_SCE0_P | SIOV_SCE0_RSVD | tl_page(t), 0);
    assert_int_equal(siov_translate(t->iommu, rsvd, 7, 0x2000, SIOV_ACCESS_READ, &x), SIOV_FAULT_SCT_3);
    assert_int_equal(fsts(t), LIT_PPF);
    assert_int_equal(frcd_hi(t, 0), 0xC000074280000114ull); /* F T1 PV=7 FR=0x42 PP SID=0x0114 */
    /* the same request without FPD on a not-present entry is recorded */
    tl_sm_context(t, quiet, 0, 0);
    assert_int_equal(siov_translate(t->iommu, quiet, SIOV_NO_PASID, 0x3000, SIOV_ACCESS_WRITE, &x),
                     SIOV_FAULT_SCT_2);
    assert_int_equal(frcd_lo(t, 1), 0x3000);
    assert_int_equal(frcd_hi(t, 1), 0x8000004100000113ull); /* F T1=0 FR=0x41 PP=0 SID=0x0113 */
    assert_int_equal(tl_stats(t).faults, 4);
    assert_int_equal(tl_stats(t).faults_recorded, 2);
    tl_free(t);
}

static void test_e2e_pasid_and_dma(void **state)
{
    (void)state;
    struct tl *t = unit(8, NULL);
    tl_enable(t, SIOV_TTM_SCALABLE);
    siov_sid sid = SIOV_SID(0, 4, 0);
    tl_sm_context_default(t, sid, 0);
    struct siov_xlate x;
    /* no directory entry for PASID 0xFEDCB: SPD.2 with the full 20-bit PASID */
    assert_int_equal(siov_translate(t->iommu, sid, 0xFEDCB, 0xABC123, SIOV_ACCESS_READ | SIOV_ACCESS_PRIV,
                                    &x), SIOV_FAULT_SPD_2);
    assert_int_equal(frcd_lo(t, 0), 0xABC000);
    assert_int_equal(frcd_hi(t, 0), 0xCFEDCB51A0000020ull); /* F T1 PV FR=0x51 PP PRIV SID */
    /* a DMA write that faults records a write */
    uint8_t buf[16] = {0};
    assert_int_equal(siov_dma_write(t->iommu, sid, 0x40, 0x9000, buf, sizeof(buf)), SIOV_FAULT_SPD_2);
    assert_int_equal(frcd_lo(t, 1), 0x9000);
    assert_int_equal(frcd_hi(t, 1), 0x8000405180000020ull); /* F T1=0 PV=0x40 FR=0x51 PP SID */
    assert_int_equal(fsts(t), LIT_PPF | LIT_FRI(0));
    tl_free(t);
}

/* Reporters race a handler that drains the log the way Linux does: read
   FSTS, walk from FRI while F=1 clearing each record, then clear PFO. */
struct drain {
    struct tl *t;
    unsigned done; /* reporters finished */
    unsigned handled;
    bool bad;
};

static void drain_once(struct drain *d)
{
    struct tl *t = d->t;
    uint32_t s = fsts(t);
    if (s & LIT_PPF) {
        for (unsigned i = (s >> 8) & 0xFF;; i = (i + 1) % 4) {
            struct siov_fault_record r;
            if (siov_iommu_fault_record(t->iommu, i, &r) != 1)
                break;
            if (r.sid < 0x100 || r.sid >= 0x104 || r.pasid != r.sid - 0x100u || r.reason != SIOV_FAULT_SSL_2)
                d->bad = true;
            frcd_clear(t, i);
            d->handled++;
        }
    }
    wr32(t, SIOV_REG_FSTS, LIT_PFO);
}

static void *drain_thread(void *arg)
{
    struct drain *d = arg;
    while (__atomic_load_n(&d->done, __ATOMIC_ACQUIRE) < 4)
        drain_once(d);
    drain_once(d);
    return NULL;
}

static void *race_many(void *arg)
{
    struct racer *r = arg;
    for (unsigned i = 0; i < 2000; i++)
        report(r->t, (siov_sid)(0x100 + r->id), r->id, (uint64_t)i << 12, SIOV_ACCESS_WRITE,
               SIOV_FAULT_SSL_2, false);
    return NULL;
}

static void test_concurrent_drain(void **state)
{
    (void)state;
    struct tl *t = unit(4, NULL);
    struct drain d = {.t = t};
    pthread_t h, th[4];
    struct racer r[4];
    assert_int_equal(pthread_create(&h, NULL, drain_thread, &d), 0);
    for (unsigned i = 0; i < 4; i++) {
        r[i] = (struct racer){t, i};
        assert_int_equal(pthread_create(&th[i], NULL, race_many, &r[i]), 0);
    }
    for (unsigned i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        __atomic_fetch_add(&d.done, 1, __ATOMIC_RELEASE);
    }
    pthread_join(h, NULL);
    assert_false(d.bad);
    struct siov_stats s = tl_stats(t);
    assert_int_equal(s.faults, 8000);
    assert_int_equal(d.handled, s.faults_recorded);
    assert_true(s.faults_recorded >= 4);
    assert_int_equal(fsts(t), 0);
    tl_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_literal_pasid_read),
        cmocka_unit_test(test_record_literal_write_translated),
        cmocka_unit_test(test_record_access_bits),
        cmocka_unit_test(test_record_pasid_20bit),
        cmocka_unit_test(test_fault_record_decode),
        cmocka_unit_test(test_fault_record_einval),
        cmocka_unit_test(test_fsts_ppf_fri),
        cmocka_unit_test(test_fsts_rw1c),
        cmocka_unit_test(test_overflow),
        cmocka_unit_test(test_overflow_twelve_and_clear),
        cmocka_unit_test(test_ring_wrap),
        cmocka_unit_test(test_max_records),
        cmocka_unit_test(test_frcd_write_only_clears_f),
        cmocka_unit_test(test_frcd_read_sizes),
        cmocka_unit_test(test_event_regs_storage),
        cmocka_unit_test(test_msi_unmasked),
        cmocka_unit_test(test_msi_masked_then_unmasked),
        cmocka_unit_test(test_ip_cleared_by_servicing),
        cmocka_unit_test(test_event_from_other_status),
        cmocka_unit_test(test_qualified_table),
        cmocka_unit_test(test_fpd_suppression),
        cmocka_unit_test(test_not_faults_ignored),
        cmocka_unit_test(test_fault_names),
        cmocka_unit_test(test_fault_stage_names),
        cmocka_unit_test(test_fault_names_unknown),
        cmocka_unit_test(test_concurrent_reports),
        cmocka_unit_test(test_concurrent_drain),
        cmocka_unit_test(test_e2e_root_not_present),
        cmocka_unit_test(test_e2e_fpd),
        cmocka_unit_test(test_e2e_pasid_and_dma),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

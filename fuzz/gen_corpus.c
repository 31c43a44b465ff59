/* The seed corpora, generated (never downloaded):
 *   fuzz_gen_corpus DIR   writes DIR/walk, DIR/queue, DIR/irq, DIR/prq, DIR/scenario and DIR/trace.
 * walk: for each PGTT kind, level count, page size and mode, a valid table
 * set built by the harness's own template operation, with requests of every
 * access kind, a DMA and a warm replay; plus configurations with small
 * IOTLBs, the stale checker, and corrupted entries.
 * queue: a queue of each width with every descriptor type, well formed and
 * malformed (reserved bits, bad granularity, wrong width, bad tail), waits
 * writing status words, and global invalidations between translations.
 * irq: interrupt remapping in each mode (x2APIC, xAPIC, EIMER, IRREQ,
 * ESIRTPS with the stale checker): remapped and posted entries with their
 * descriptors, compatibility format, misaligned messages, raw entries with
 * reserved bits, IEC invalidations of each granularity and SIRTP.
 * prq: page requests under each PGTT kind (groups, stop markers, with and
 * without PASID), overflow with and without a last request, each refusal
 * (PRE, DTE, PASIDE, FPD, P, legacy, abort, translation off), no ECAP.PRS.
 * scenario: small siov-sim scenarios.
 * trace: a trace of every record kind, in the text and the binary form.
 * Template bytes are sized by running the builder itself (fz_template on a
 * scratch unit), so each seed parses exactly as the harness will parse it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz_util.h"

#define SEED_MAX 8192

struct seed {
    uint8_t b[SEED_MAX];
    size_t n;
    /* a scratch unit mirroring the harness's state, to size template bytes */
    struct fz_mem *m;
    struct fz_unit *u;
    struct fz_builder bld;
    struct fz_in in;
};

static void put(struct seed *s, const void *p, size_t n)
{
    if (s->n + n > SEED_MAX)
        abort();
    memcpy(s->b + s->n, p, n);
    s->n += n;
}

static void u8(struct seed *s, uint8_t v) { put(s, &v, 1); }
static void u16(struct seed *s, uint16_t v) { u8(s, (uint8_t)v), u8(s, (uint8_t)(v >> 8)); }
static void u32(struct seed *s, uint32_t v) { u16(s, (uint16_t)v), u16(s, (uint16_t)(v >> 16)); }
static void u64(struct seed *s, uint64_t v) { u32(s, (uint32_t)v), u32(s, (uint32_t)(v >> 32)); }

/* Start a seed: configuration bytes and the root page, with a scratch unit in step. */
static void begin(struct seed *s, const uint8_t cfg[5], uint8_t root)
{
    s->n = 0;
    put(s, cfg, 5);
    u8(s, root);
    struct fz_in in = {s->b, s->n};
    s->u = fz_start(&in, NULL, NULL, &s->bld);
    if (!s->u)
        abort();
    s->m = s->u->m;
    s->bld.in = &s->in; /* the builder reads the seed's own bytes */
}

/* A template: its 7 decoded bytes plus iova and pa, then as many page bytes
   (fresh pages) as the builder takes. */
static void tpl(struct seed *s, const uint8_t hdr[7], uint32_t iova_pages, uint16_t pa, bool with_op)
{
    uint8_t buf[160] = {0};
    size_t n = 0;
    memcpy(buf, hdr, 7);
    n = 7;
    if (hdr[6] == 0 && !(hdr[1] & 16)) /* NO_PASID selector: a RID_PASID byte (0) follows */
        buf[n++] = 0;
    memcpy(buf + n, &iova_pages, 4);
    memcpy(buf + n + 4, &pa, 2);
    s->in = (struct fz_in){buf, sizeof buf};
    fz_template(&s->bld);
    if (with_op)
        u8(s, 0);
    put(s, buf, sizeof buf - s->in.n);
}

static void req(struct seed *s, uint8_t sel, uint16_t off, uint8_t access)
{
    u8(s, 1), u8(s, sel), u16(s, off), u8(s, access);
}

static void finish(struct seed *s, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f)) {
        perror(path);
        exit(1);
    }
    fz_unit_free(s->u);
    fz_mem_free(s->m);
    s->u = NULL;
    s->m = NULL;
}

/* ------------------------------------------------------------------ walk */
static void walk_seeds(struct seed *s, const char *dir)
{
    /* cfg byte 2 = 7: every SL level count; byte 4 bits 5-6 = 1: legacy TTM */
    static const uint8_t cfg_all[5] = {0, 0, 7, 0, 0};
    static const uint8_t cfg_legacy[5] = {0, 0, 7, 0, 1 << 5};
    static const uint8_t cfg_small[5] = {0, 0x40, 7, 0, 1}; /* stale checker, 1-entry IOTLB */
    static const unsigned kinds[4] = {0, 1, 2, 3};              /* SL, FL, nested, PT */
    static const uint8_t pasid_sel[3] = {2, 0, 5};              /* PASID 1, none, 64 */
    unsigned count = 0;
    char name[64];
    for (unsigned kind = 0; kind < 4; kind++)
        for (unsigned lv = 0; lv < 3; lv++)
            for (unsigned leaf = 0; leaf < 3; leaf++)
                for (unsigned mode = 0; mode < 3; mode++) {
                    bool legacy = mode == 1;
                    if (legacy && (kind == 1 || kind == 2))
                        continue;
                    const uint8_t *cfg = legacy ? cfg_legacy : mode == 2 ? cfg_small : cfg_all;
                    begin(s, cfg, 1);
                    uint8_t k = (uint8_t)(kinds[kind] | (legacy ? 4 : 0) | lv << 3 | (lv == 2 ? 32 : 0) | leaf << 6);
                    uint8_t misc = (uint8_t)(16 | (mode == 2 ? 2 : 0) | (lv == 1 ? 8 : 0));
                    uint8_t perm = (uint8_t)(lv == 1 ? 0x21 : 0x20); /* SL X, FL RW */
                    uint8_t pe = (uint8_t)(0x0F | (lv == 2 ? 0x20 : 0));
                    uint8_t hdr[7] = {k, misc, perm, pe, (uint8_t)(1 + kind), 2, pasid_sel[legacy ? 1 : lv]};
                    tpl(s, hdr, 0x12345 + kind * 0x200, (uint16_t)(3 + lv), true);
                    hdr[5] = 3, hdr[6] = legacy ? 1 : 6;
                    tpl(s, hdr, 0x40000, 9, true);
                    for (unsigned t = 0; t < 2; t++) {
                        req(s, (uint8_t)t, 0x123, SIOV_ACCESS_READ);
                        req(s, (uint8_t)t, 0x8, SIOV_ACCESS_WRITE);
                        req(s, (uint8_t)t, 0xFF8, SIOV_ACCESS_READ | SIOV_ACCESS_EXEC | SIOV_ACCESS_PRIV);
                        req(s, (uint8_t)(t | 0x40), 0, SIOV_ACCESS_READ);
                        req(s, (uint8_t)(t | 0x80), 0, SIOV_ACCESS_WRITE);
                        /* ATS: translation requests (plain, NW, PR and ER), a translated write */
                        req(s, (uint8_t)t, 0x10, 0x80 | SIOV_ACCESS_ATS_REQ);
                        req(s, (uint8_t)t, 0x10, 0x80 | SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_NO_WRITE);
                        req(s, (uint8_t)t, 0x10, 0x80 | SIOV_ACCESS_ATS_REQ | SIOV_ACCESS_PRIV | SIOV_ACCESS_EXEC);
                        req(s, (uint8_t)t, 0x10, 0x80 | SIOV_ACCESS_TRANSLATED | SIOV_ACCESS_WRITE);
                    }
                    u8(s, 6), u16(s, 0x8000 | 300), u8(s, 0), u16(s, 0xF80), u8(s, 0); /* DMA write */
                    u8(s, 6), u16(s, 200), u8(s, 1), u16(s, 0xF00), u8(s, 0);          /* DMA read */
                    /* translated DMA into guest memory (selector 0xE0: a 64-bit address follows) */
                    for (unsigned w = 0; w < 2; w++) {
                        u8(s, 6), u16(s, (uint16_t)(w ? 0x8000 | 64 : 64)), u8(s, 0xE0), u16(s, 0), u64(s, 0x3000);
                        u8(s, 0x80 | SIOV_ACCESS_TRANSLATED);
                    }
                    u8(s, 7), u8(s, 16);                                       /* replay */
                    snprintf(name, sizeof name, "walk-%02u", count++);
                    finish(s, dir, name);
                }
    /* corrupted structures: a valid set, then one bit flipped or one pointer moved */
    for (unsigned i = 0; i < 24; i++) {
        begin(s, cfg_all, 1);
        uint8_t hdr[7] = {(uint8_t)(i % 4 | (i % 3) << 6 | 8), 16, 0x20, 0x0F, 7, 1, 2};
        tpl(s, hdr, 0x777, 4, true);
        u8(s, (uint8_t)(i % 2 ? 5 : 4)), u16(s, (uint16_t)(512 * (2 + i % 5) + i * 3)), u8(s, (uint8_t)(i * 7));
        if (i % 2 == 0)
            u8(s, (uint8_t)(i + 1));
        req(s, 0, 0x10, SIOV_ACCESS_READ);
        req(s, 0, 0x10, SIOV_ACCESS_WRITE);
        snprintf(name, sizeof name, "walk-bad-%02u", i);
        finish(s, dir, name);
    }
}

/* ----------------------------------------------------------------- queue */
static void q_op(struct seed *s, uint8_t op) { u8(s, op); }

/* DESC: at-head byte, selector (type index | G << 4), flags, DID, then the type's operands. */
static void q_desc_at(struct seed *s, unsigned tidx, unsigned g, uint8_t flags, bool at_head)
{
    static const unsigned types[16] = {1, 2, 3, 4, 5, 6, 7, 8, 5, 2, 6, 7, 1, 9, 0, 0x7F};
    q_op(s, 0), u8(s, at_head ? 0 : 1), u8(s, (uint8_t)(tidx | g << 4)), u8(s, flags);
    if (types[tidx] == 0x7F)
        u8(s, 0x55); /* an unknown type */
    u16(s, 5);
    switch (types[tidx]) {
    case 1: u16(s, 0x0010); break;
    case 2: u8(s, 0), u32(s, 0x1234); break;
    case 6: u8(s, 0), u32(s, 0x1234), u32(s, 1); break;
    case 3:
    case 8: /* flags 0x40: the device with the port; 4: the all-ones (global) range */
        if (!(flags & 0x40))
            u16(s, 0x0010);
        if (!(flags & 4))
            u32(s, 0x55);
        if (types[tidx] == 8)
            u32(s, 7); /* PASID */
        break;
    case 4: u16(s, 3); break;
    case 5: u8(s, 4), u32(s, 0xC0FFEE); break;
    case 7: u32(s, 1); break;
    default: u64(s, 0); break;
    }
    if (flags & 0x80)
        u8(s, 0), u8(s, 40);
}

static void q_desc(struct seed *s, unsigned tidx, unsigned g, uint8_t flags)
{
    q_desc_at(s, tidx, g, flags, false);
}

/* A well-formed granularity for the descriptor type at index tidx. */
static unsigned good_g(unsigned tidx, unsigned v)
{
    switch (tidx) {
    case 0: case 1: case 9: case 12: return 1 + v % 3; /* CC, IOTLB */
    case 5: case 10: return 2 + v % 2;                   /* PASID-based IOTLB */
    case 6: case 11: return v % 2 ? 3 : v % 4 ? 1 : 0;   /* PASID cache */
    default: return 0; /* bits 5:4 are reserved, flags or MIP in the other types */
    }
}

static void queue_seeds(struct seed *s, const char *dir)
{
    static const uint8_t cfg_sm[5] = {0, 0, 7, 0, 0};
    static const uint8_t cfg_legacy[5] = {1, 0, 7, 0, 1 << 5}; /* not scalable-capable: 128-bit only */
    char name[64];
    for (unsigned v = 0; v < 12; v++) {
        bool wide = v % 2 == 0;
        begin(s, wide ? cfg_sm : cfg_legacy, 1);
        unsigned ntpl = 2;
        u8(s, (uint8_t)ntpl);
        for (unsigned t = 0; t < ntpl; t++) {
            uint8_t hdr[7] = {(uint8_t)(t == 0 ? (wide ? 1 : 4) : (wide ? 2 : 7)), 16, 0x20, 0x0F, 3, 1,
                              (uint8_t)(wide ? 2 : 0)};
            tpl(s, hdr, 0x99 + t, 6, false);
        }
        /* the first template's device gets a port: none, completing at once,
           completed by PORT operations, an ATC of 8 entries */
        u8(s, (uint8_t)((v % 4) | 4 | 3 << 4));
        /* IQA: page 40 + v, QS v % 3, DW when wide */
        q_op(s, 4), u8(s, (uint8_t)(v % 3 | (wide ? 8 : 0))), u8(s, (uint8_t)(40 + v));
        q_op(s, 5); /* QIE on */
        for (unsigned t = 0; t < 13; t++) {
            uint8_t flags = (uint8_t)((v & 4) ? 0x30 : 0x20);
            if (t == 2 || t == 7) /* device-TLB: the port's device, S, G, the global range */
                flags = (uint8_t)(0x40 | (v & 1) | (v & 2) | (v & 8 ? 4 : 0));
            if (wide || (t != 5 && t != 6 && t != 7 && t != 10 && t != 11))
                q_desc(s, t, good_g(t, v + t), flags);
        }
        q_op(s, 2);
        q_op(s, 136), u8(s, 0); /* PORT (op 6 with bit 7): the device completes the oldest */
        q_op(s, 136), u8(s, 2 | 4), u8(s, 40); /* an invalid completion: ICE */
        q_op(s, 136), u8(s, 3); /* the rest time out: ITE */
        q_op(s, 6), u8(s, 3 | 4 | 8); /* clear IWC, ITE, ICE */
        q_op(s, 7);           /* global invalidation */
        req(s, 0, 0x10, SIOV_ACCESS_READ), s->b[s->n - 5] = 8;
        req(s, 1, 0x10, SIOV_ACCESS_WRITE), s->b[s->n - 5] = 8;
        /* malformed: a reserved bit, G=00, a page-group response, an unknown
           type, a 256-bit type (in a 128-bit queue); each then replaced by a
           wait at the head, and the queue resumed */
        static const unsigned bad[5][2] = {{1, 0x80}, {0, 0}, {13, 0}, {15, 0}, {6, 0}};
        for (unsigned b = 0; b < 5; b++) {
            q_desc(s, bad[b][0], bad[b][0] == 1 ? 3 : 0, (uint8_t)bad[b][1]);
            q_op(s, 2);
            q_desc_at(s, 4, 0, 0x20, true);
            q_op(s, 6), u8(s, 1);
        }
        q_op(s, 0x85), u32(s, 0x7FFF8); /* IQT_RAW: a tail beyond the queue */
        q_op(s, 6), u8(s, 1);
        q_op(s, 0x19); /* QIE off */
        q_op(s, 7);
        snprintf(name, sizeof name, "queue-%02u", v);
        finish(s, dir, name);
    }
}

/* -------------------------------------------------------------- scenario */
static const char *const scenarios[] = {
    ("memory 1M\ndriver pool=0x10000 size=0x80000\ndevice d = 00:02.0\nenable-aux d\n"
    "domain a = second-level\nmap a 0x10000000 0x20000 8K rw\naux-attach a d\n"
    "translate d pasid a 0x10000000 rw\ndma-write d pasid a 0x10000000 \"hello\"\n"
    "expect dma-read d pasid a 0x10000000 5 = \"hello\"\nunmap a 0x10000000 8K\n"
    "dma-read d pasid a 0x10000000 4\nexpect fault 0 = SSL.2\nstats\nreport\n"),
    ("memory 1M\ndriver pool=0x10000 size=0x80000\ndevice d = 00:03.1\nenable-aux d\n"
    "domain f = first-level\nmap f 0x400000 0x30000 4K rw\naux-attach f d\n"
    "dump d pasid f 0x400000\ntranslate d pasid f 0x400000 r\n"),
    ("memory 1M\ndriver pool=0x10000 size=0x80000\ndevice d = 01:00.0\n"
    "domain p = second-level\ndomain n = nested p\nmap p 0 0 1M rw\nattach p d\ntranslate d 0x1000 r\n"),
    ("memory 64K callback\nwrite64 0x100 0x1234\nread64 0x100\nread 0x100 16\nfill 0x200 16 0xab\n"),
    ("iommu\nreg GSTS\nfaults\nclear-faults\n"),
    ("let x = 0x1000\necho \"x\"\nmemory 128K\nwrite64 x 1\n"),
};

static void scenario_seeds(const char *dir)
{
    char path[512];
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        snprintf(path, sizeof path, "%s/scenario-%02zu", dir, i);
        FILE *f = fopen(path, "w");
        if (!f || fputs(scenarios[i], f) < 0 || fclose(f)) {
            perror(path);
            exit(1);
        }
    }
}

/* ----------------------------------------------------------------- trace */
static const char trace_text[] =
    "siov-trace 1\n# every kind, as siov-sim records and tracegen writes them\n"
    "0 inval context g=1 did=0\n1 domain 1 sl\n2 domain 2 nested 1\n3 attach 1 00:02.0 1\n"
    "4 attach 2 00:03.0 -\n5 map 1 0x10000 64K 0x1000000 rw\n"
    "6 xlate 00:02.0 1 0x10010 0 w -> 0x1000010 4K rw 1\n7 @100 read 00:02.0 1 0x10000 1500 r -> ok\n"
    "9 write 00:03.0 - 0x90000 64 w -> SSL.2\n10 xlate 00:02.0 0xfffff 0x40000000 8 rxpat -> 0x40000000 1G r 65535\n"
    "11 inval piotlb g=3 did=1 pasid=1 addr=0x10000 am=4\n12 inval pdevtlb g=0 sid=00:02.0 pasid=1 addr=0x10000\n"
    "13 unmap 1 0x10000 4K\n14 detach 1 00:02.0 1\n";

/* The text seed, and the same records in the binary form. */
static void trace_seeds(const char *dir)
{
    char path[512], bin[512];
    snprintf(path, sizeof path, "%s/trace-text", dir);
    snprintf(bin, sizeof bin, "%s/trace-binary", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(trace_text, f) < 0 || fclose(f)) {
        perror(path);
        exit(1);
    }
    struct siov_trace *r = siov_trace_open(path, "r"), *w = siov_trace_open(bin, "wb");
    struct siov_trace_rec rec;
    while (r && w && siov_trace_read(r, &rec) == 1)
        siov_trace_write(w, &rec);
    if (!r || !w || siov_trace_error(r)[0] || siov_trace_close(w)) {
        fprintf(stderr, "%s: %s\n", path, r ? siov_trace_error(r) : "cannot open");
        exit(1);
    }
    siov_trace_close(r);
}

static void mkdir_p(const char *dir)
{
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        perror(dir);
        exit(1);
    }
}

/* ------------------------------------------------------------- irq seeds */
static void irq_begin(struct seed *s, uint8_t cfg, uint8_t irta)
{
    s->n = 0;
    u8(s, cfg);
    u8(s, irta);
}

static void irq_build(struct seed *s, uint8_t k, uint8_t vec, uint16_t index, uint8_t sidsel, uint32_t dest)
{
    u8(s, 1), u8(s, k), u8(s, vec), u16(s, index), u8(s, sidsel), u32(s, dest);
}

static void irq_req(struct seed *s, uint8_t k, uint16_t handle, uint8_t sidsel, uint16_t data)
{
    u8(s, 2), u8(s, k), u16(s, handle), u8(s, sidsel), u16(s, data);
}

static void irq_pid(struct seed *s, uint16_t slot, uint8_t q, uint64_t v)
{
    u8(s, 4), u16(s, slot), u8(s, q), u64(s, v);
}

static void irq_write(struct seed *s, const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f)) {
        perror(path);
        exit(1);
    }
}

static void irq_seeds(struct seed *s, const char *dir)
{
    /* x2APIC: a remapped entry, its message from its device, another device, a subhandle */
    irq_begin(s, 0, 0x37);
    irq_build(s, 0x04, 0x41, 5, 1, 0x12345);
    irq_req(s, 0, 5, 1, 0), irq_req(s, 0, 5, 2, 0), irq_req(s, 4, 3, 1, 2), irq_req(s, 4, 3, 1, 0x100);
    irq_req(s, 2, 0x500, 1, 0x30); /* compatibility format: blocked */
    irq_write(s, dir, "x2apic-remapped");
    /* posted: the descriptor at page 40 with NV/NDST, urgent and not, SN */
    irq_begin(s, 0, 0x37);
    irq_pid(s, 2560, 4, 0xF10000ull | 0x1234ull << 32);
    irq_build(s, 0x05, 0xA3, 3, 1, 2560);
    irq_build(s, 0x07, 0x21, 4, 1, 2560);
    irq_req(s, 0, 3, 1, 0), irq_req(s, 0, 4, 1, 0);
    irq_pid(s, 2560, 4, 0xF10002ull);
    irq_req(s, 0, 3, 1, 0), irq_req(s, 0, 4, 1, 0);
    irq_pid(s, 2560, 5, 1); /* a reserved field */
    irq_req(s, 0, 3, 1, 0);
    irq_write(s, dir, "posted");
    /* xAPIC: an 8-bit destination, CFI on, compatibility format, misaligned */
    irq_begin(s, 1, 0x27);
    irq_build(s, 0x04, 0x30, 2, 3, 0x12);
    irq_req(s, 0, 2, 3, 0);
    u8(s, 5), u8(s, 1 | 4); /* CFI */
    irq_req(s, 2, 0x500, 3, 0x4031), irq_req(s, 2 | 8, 0x21, 3, 0);
    irq_build(s, 0x84, 0x30, 6, 3, 0x12), u8(s, 40); /* a reserved DST bit flipped */
    irq_req(s, 0, 6, 3, 0);
    irq_write(s, dir, "xapic-compat");
    /* raw entries, each kind of IEC invalidation, the stale path, IM above MHMV */
    irq_begin(s, 32, 0x33);
    u8(s, 0), u16(s, 9), u64(s, 0x0000000500410001ull), u64(s, 0x40010ull), u8(s, 0x81);
    irq_req(s, 0, 9, 1, 0);
    u8(s, 0), u16(s, 9), u64(s, 0x0000000600420001ull), u64(s, 0x40010ull), u8(s, 0);
    irq_req(s, 3 | 8, 9, 1, 0), irq_req(s, 3, 9, 1, 0); /* raw sends on the stale entry */
    u8(s, 6), u8(s, 1 | 2 << 1), u16(s, 8); /* IM=2 around 8 */
    u8(s, 6), u8(s, 1 | 17 << 1), u16(s, 0); /* IM=17: IQE */
    u8(s, 6), u8(s, 0), u16(s, 0);            /* global */
    irq_req(s, 0, 9, 1, 0);
    u8(s, 7), u32(s, 0x20000 * 8 + 9 * 128 + 14); /* bit 14 of entry 9 */
    irq_req(s, 0, 9, 1, 0);
    irq_write(s, dir, "raw-iec-stale");
    /* EIMER in xAPIC mode; IRREQ with remapping off; ESIRTPS and SIRTP */
    irq_begin(s, 4, 0x27);
    irq_req(s, 0, 1, 0, 0), irq_req(s, 2, 0x100, 0, 0x31);
    irq_write(s, dir, "eimer");
    irq_begin(s, 8, 0x37);
    u8(s, 5), u8(s, 0); /* IRE off */
    irq_req(s, 0, 1, 0, 0), irq_req(s, 2, 0x100, 0, 0x31);
    irq_write(s, dir, "irreq");
    irq_begin(s, 16 | 32 | 64, 0x37);
    irq_build(s, 0x04, 0x41, 1, 0, 7);
    irq_req(s, 0, 1, 0, 0);
    u8(s, 5), u8(s, 2), u8(s, 0x50); /* SIRTP: page 2, S=0, x2APIC */
    irq_req(s, 0, 1, 0, 0), irq_req(s, 1, 0xFFFF, 0, 0), irq_req(s, 3, 4, 0, 0);
    irq_write(s, dir, "esirtps-sirtp");
}

/* ------------------------------------------------------------- prq seeds */
/* Start a page-request seed: configuration, the harness's own byte, the
   queue byte, the root page and the number of templates that follow. */
static void prq_begin(struct seed *s, uint8_t own, uint8_t qbyte, uint8_t ntpl)
{
    static const uint8_t cfg_all[5] = {0, 0, 7, 0, 0};
    s->n = 0;
    put(s, cfg_all, 5);
    u8(s, own), u8(s, qbyte), u8(s, 1), u8(s, ntpl);
    struct fz_in in = {cfg_all, 5};
    struct siov_iommu_config c;
    unsigned ttm;
    bool te;
    fz_config(&in, &c, &ttm, &te);
    s->m = fz_mem_new();
    s->u = fz_unit_new(s->m, &c, SIOV_PAGE_SIZE, ttm, te);
    if (!s->u)
        abort();
    s->bld = (struct fz_builder){.u = s->u, .in = &s->in, .bump = 1};
}

/* A request from target t (k: bit 1 its PASID, bits 2-5 access, bit 6
   last, bit 7 with 6 and 1 a stop marker), count requests in a row. */
static void prq_req(struct seed *s, unsigned count, uint8_t k, uint8_t t, uint32_t off, uint16_t prgi)
{
    u8(s, count > 1 ? (uint8_t)(2 | (count - 1) << 3) : 0);
    u8(s, (uint8_t)(k & ~1u)), u8(s, t), u32(s, off), u16(s, prgi);
}

static void prq_reg(struct seed *s, unsigned which, uint16_t v)
{
    u8(s, 4), u8(s, (uint8_t)which), u16(s, v);
}

static void prq_write(struct seed *s, const char *dir, const char *name)
{
    char full[64];
    snprintf(full, sizeof full, "prq-%s", name);
    finish(s, dir, full);
}

static void prq_seeds(struct seed *s, const char *dir)
{
    static const char *kinds[4] = {"sl", "fl", "nested", "pt"};
    char name[48];
    for (unsigned kind = 0; kind < 4; kind++) {
        prq_begin(s, 4, 61, 2);
        uint8_t hdr[7] = {(uint8_t)kind, 16, 0x20, 0x0F, (uint8_t)(1 + kind), 2, 2};
        tpl(s, hdr, 0x12345, 3, false);
        hdr[5] = 3, hdr[6] = 0;
        tpl(s, hdr, 0x40000, 9, false);
        prq_req(s, 1, 0x02 | 1 << 2 | 0x40, 0, 0x10, 5);          /* read, PASID, last */
        prq_req(s, 1, 0x02 | 0xF << 2 | 0x40, 0, 0x10, 6);        /* RWXP */
        prq_req(s, 1, 2 << 2 | 0x40, 1, 0, 7);                    /* without PASID */
        prq_req(s, 4, 0x02 | 2 << 2 | 0x40, 0, 0, 8);             /* a group of four */
        prq_req(s, 1, 0x02 | 0x40 | 0x80, 0, 0, 0);               /* stop marker */
        prq_reg(s, 3, 3), prq_reg(s, 0, 0xA0);                    /* PRS cleared, PQH moved */
        prq_req(s, 1, 0x02 | 1 << 2 | 0x40, 0, 0x10, 9);
        snprintf(name, sizeof name, "queue-%s", kinds[kind]);
        prq_write(s, dir, name);
    }
    /* overflow: head one slot past the tail, then PRO, then cleared */
    for (unsigned lpig = 0; lpig < 2; lpig++) {
        prq_begin(s, (uint8_t)(lpig ? 0 : 4), 61, 1);
        uint8_t hdr[7] = {0, 16, 0x20, 0x0F, 1, 2, 2};
        tpl(s, hdr, 0x100, 3, false);
        prq_reg(s, 0, 0x40);
        prq_req(s, 3, (uint8_t)(0x02 | 1 << 2 | (lpig ? 0x40 : 0)), 0, 0, 1);
        prq_req(s, 1, 0x02 | 0x40 | 0x80, 0, 0, 0); /* stop marker on a full queue */
        prq_reg(s, 3, 2), prq_reg(s, 0, 0x20);
        prq_req(s, 2, 0x02 | 1 << 2 | 0x40, 0, 0, 2);
        prq_reg(s, 4, 0); /* PECTL unmasked with IP pending */
        prq_write(s, dir, lpig ? "overflow-lpig" : "overflow");
    }
    /* refusals: PRE clear (SCT.8), DTE clear (SCT.4), PASIDE, FPD, P; legacy
       (RTA.3), abort (RTA.4), translation off; then no ECAP.PRS at all */
    prq_begin(s, 0, 61, 1);
    uint8_t hdr[7] = {1, 16, 0x20, 0x0F, 1, 2, 2};
    tpl(s, hdr, 0x100, 3, false);
    for (unsigned bit = 0; bit < 5; bit++) {
        u8(s, 3), u8(s, (uint8_t)bit);
        prq_req(s, 1, 0x02 | 1 << 2 | 0x40, 0, 0, (uint16_t)bit);
        u8(s, 3), u8(s, (uint8_t)bit);
    }
    for (unsigned ttm = 0; ttm < 4; ttm++) {
        u8(s, 6), u8(s, (uint8_t)(ttm ^ 1));
        prq_req(s, 1, 0x02 | 1 << 2 | 0x40, 0, 0, 3);
    }
    u8(s, 6), u8(s, 1 | 4); /* scalable, translation off */
    prq_req(s, 1, 0x02 | 1 << 2 | 0x40, 0, 0, 4);
    prq_write(s, dir, "refusals");
    prq_begin(s, 1, 61, 1);
    tpl(s, hdr, 0x100, 3, false);
    prq_req(s, 1, 0x02 | 1 << 2 | 0x40, 0, 0, 1);
    prq_reg(s, 2, 0xD001);
    prq_write(s, dir, "no-prs");
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR  (writes DIR/walk, DIR/queue, DIR/irq, DIR/prq, DIR/scenario, DIR/trace)\n", argv[0]);
        return 2;
    }
    char walk[480], queue[480], scen[480], irq[480], prq[480], trace[480];
    snprintf(walk, sizeof walk, "%s/walk", argv[1]);
    snprintf(queue, sizeof queue, "%s/queue", argv[1]);
    snprintf(scen, sizeof scen, "%s/scenario", argv[1]);
    snprintf(irq, sizeof irq, "%s/irq", argv[1]);
    snprintf(prq, sizeof prq, "%s/prq", argv[1]);
    snprintf(trace, sizeof trace, "%s/trace", argv[1]);
    mkdir_p(argv[1]);
    mkdir_p(trace);
    mkdir_p(walk);
    mkdir_p(queue);
    mkdir_p(scen);
    mkdir_p(irq);
    mkdir_p(prq);
    static struct seed s;
    walk_seeds(&s, walk);
    queue_seeds(&s, queue);
    scenario_seeds(scen);
    irq_seeds(&s, irq);
    prq_seeds(&s, prq);
    trace_seeds(trace);
    return 0;
}

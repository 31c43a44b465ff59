/* Fuzz harness: the translation walk.
 *
 * Input: 5 configuration bytes (fz_config), a root-table page, then up to
 * MAX_OPS operations, each an opcode byte and its operands:
 *   TEMPLATE  build a whole translation path (fz_template): root and context
 *             entries, PASID directory and entry, paging structures of any
 *             PGTT kind, level count and page size, at fresh or input-chosen
 *             pages (tables may overlap)
 *   REQ       a request, usually aimed at a built target: untranslated, a
 *             translation request (ATS) or a translated request
 *   W64/PTR/FLIP  raw guest-memory edits: a qword, an entry pointing at a
 *             page of guest memory, one bit
 *   DMA       siov_dma_read/write of up to 1 KiB, or its translated form
 *   REG       RTADDR (root page, TTM) latched with SRTP, TE on or off
 * Every request is checked cold (after a global invalidation) against the
 * reference walk, under the memory checks of fuzz_util.c. Requests whose
 * cold run left memory unchanged are replayed twice on warm caches at the
 * end (and whenever the list fills): the answers must not change, as long
 * as each DID names one structure (caches are tagged by DID).
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_util.h"

#define MAX_OPS 256
#define MAX_RECS 32
#define DMA_LEN_MAX 1024

struct run {
    struct fz_unit *u;
    struct fz_in *in;
    struct fz_builder b;
    struct fz_req rec[MAX_RECS];
    struct fz_answer ans[MAX_RECS];
    unsigned nrec;
};

/* Replay every recorded request twice on warm caches (memory unchanged since). */
static void replay(struct run *r)
{
    if (!r->nrec)
        return;
    fz_invalidate_all(r->u);
    for (unsigned pass = 0; pass < 2; pass++)
        for (unsigned i = 0; i < r->nrec; i++)
            fz_check_warm(r->u, &r->rec[i], &r->ans[i]);
}

static void request(struct run *r)
{
    struct fz_req q;
    struct fz_answer a;
    fz_pick_req(&r->b, &q);
    if (fz_check_cold(r->u, &q, &a)) {
        r->nrec = 0; /* A/D updates changed memory: older answers no longer apply */
        if (fz_check_cold(r->u, &q, &a))
            return;
    }
    for (unsigned i = 0; i < r->nrec; i++)
        if (!fz_same_domain(&r->ans[i], &a))
            return; /* one DID for two structures: cached answers may cross (software's error) */
    if (r->nrec == MAX_RECS) {
        replay(r);
        r->nrec = 0;
    }
    r->rec[r->nrec] = q;
    r->ans[r->nrec++] = a;
}

static uint64_t table_qword(struct fz_in *in)
{
    return (uint64_t)(fz_u16(in) % (FZ_TABLE_PAGES * SIOV_PT_ENTRIES)) * 8;
}

static void edit(struct run *r, unsigned op)
{
    struct fz_mem *m = r->u->m;
    uint64_t gpa = table_qword(r->in);
    if (op == 0) {
        fz_w64(m, gpa, fz_u64(r->in));
    } else if (op == 1) {
        uint16_t flags = fz_u16(r->in);
        uint64_t page = fz_u8(r->in) % FZ_PAGES;
        fz_w64(m, gpa, (flags & 0xFFF) | page << SIOV_PAGE_SHIFT | ((flags & 0x8000) ? SIOV_BIT(63) : 0) |
                           ((flags & 0x4000) ? SIOV_BIT(62) : 0) | ((flags & 0x2000) ? SIOV_BIT(51) : 0));
    } else {
        fz_w64(m, gpa, fz_r64(m, gpa) ^ SIOV_BIT(fz_u8(r->in) & 63));
    }
    r->nrec = 0;
}

static void dma(struct run *r)
{
    struct fz_req q;
    uint16_t len = fz_u16(r->in);
    fz_pick_req(&r->b, &q);
    fz_check_dma(r->u, &q, 1 + len % DMA_LEN_MAX, (len & 0x8000) != 0);
    r->nrec = 0;
}

static void regs(struct run *r)
{
    uint8_t v = fz_u8(r->in);
    uint64_t root = r->u->root;
    if (v & 8)
        root = (uint64_t)(fz_u8(r->in) % FZ_TABLE_PAGES) << SIOV_PAGE_SHIFT;
    if (v & 16) {
        replay(r);
        return;
    }
    fz_unit_root(r->u, root, v & 3, !(v & 4));
    r->nrec = 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fz_in in = {data, size};
    struct run *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    r->in = &in;
    r->u = fz_start(&in, NULL, NULL, &r->b);
    if (!r->u) {
        free(r);
        return 0;
    }
    for (unsigned n = 0; in.n && n < MAX_OPS; n++) {
        uint8_t op = fz_u8(&in);
        if (getenv("FZ_TRACE"))
            fprintf(stderr, "op %u (%u), %zu bytes left, %u recorded\n", op, op & 7, in.n, r->nrec);
        switch (op & 7) {
        case 0: fz_template(&r->b); r->nrec = 0; break;
        case 1:
        case 2: request(r); break;
        case 3: edit(r, 0); break;
        case 4: edit(r, 1); break;
        case 5: edit(r, 2); break;
        case 6: dma(r); break;
        default: regs(r); break;
        }
    }
    replay(r);
    fz_stop(r->u);
    free(r);
    return 0;
}

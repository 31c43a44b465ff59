/* A minimal device simulator embedding libsiov: a DMA-copy engine whose
 * work queues are ADIs (Assignable Device Interfaces).
 *
 * The simulator owns guest RAM and hands it to libsiov through the callback
 * memory backend, as a VM monitor or a full-system simulator would. The
 * reference driver gives each work queue its own aux domain, so each queue
 * copies buffers through its own PASID: the same IOVA in two queues reaches
 * two different buffers, and a queue cannot reach what its domain does not
 * map. The engine uses ATS, as DSA-class devices do: it keeps translations
 * in its own device TLB (libsiov's ATC, filled by translation requests) and
 * copies with translated requests; the driver's unmap empties that TLB with
 * a device-TLB invalidation.
 *
 * With --demand-paging the queues' address spaces start empty, as a
 * process's do when a device shares them (SVA): a copy that meets a page the
 * IOMMU does not map gets "not present" from the ATC, sends a page request,
 * waits for the page group response and retries. The driver, told by the
 * page request event, services the queue with a handler that maps the
 * process's page on demand. Built and run by `meson test`, in both modes
 * (exit status 0 when every check holds).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <siov/siov.h>

#define RAM_SIZE (64ull << 20)
#define POOL_BASE 0x100000ull    /* the driver's table pages: [1M, 8M) */
#define POOL_SIZE (7ull << 20)
#define NUM_WQ 3
#define BUF_IOVA 0x40000000ull   /* every queue sees its buffers at the same IOVAs */
#define BUF_SIZE 0x4000ull       /* 16K: a source and a destination buffer each */

/* ------------------------------------------------------------ guest RAM */
/* The simulator's own memory; libsiov reaches it only through these calls. */
struct guest_ram {
    uint8_t *bytes;
    uint64_t size;
    unsigned long reads, writes;
};

static int ram_read(void *opaque, uint64_t gpa, void *dst, size_t len)
{
    struct guest_ram *r = opaque;
    if (gpa > r->size || len > r->size - gpa)
        return -EFAULT;
    memcpy(dst, r->bytes + gpa, len);
    r->reads++;
    return 0;
}

static int ram_write(void *opaque, uint64_t gpa, const void *src, size_t len)
{
    struct guest_ram *r = opaque;
    if (gpa > r->size || len > r->size - gpa)
        return -EFAULT;
    memcpy(r->bytes + gpa, src, len);
    r->writes++;
    return 0;
}

/* ------------------------------------------------------------ the device */
struct work_queue {
    struct siov_domain *dom;
    uint32_t pasid;
    uint64_t src_pa, dst_pa;  /* where this queue's buffers really are */
    unsigned long copies, bytes, faults, page_requests;
};

struct copy_engine {
    struct siov_iommu *iommu;
    struct siov_driver *drv;  /* the OS side: services page requests on their event */
    struct siov_atc *atc;     /* the engine's device TLB: translated DMA goes through it */
    siov_sid sid;             /* the parent device's requester id */
    struct work_queue wq[NUM_WQ];
    bool demand;              /* --demand-paging */
    bool prq_event;           /* the page request event's message arrived */
    bool answered;            /* a page group response arrived */
    unsigned answer;          /* its code */
    uint16_t next_group;      /* page request group indices, in turn */
};

/* The unit's messages: the page request event tells the OS to service the queue. */
#define PRQ_MSI_ADDR 0xFEE01000ull
#define PRQ_MSI_DATA 0x51u
static void on_msi(void *opaque, uint64_t addr, uint32_t data)
{
    struct copy_engine *e = opaque;
    if (addr == PRQ_MSI_ADDR && data == PRQ_MSI_DATA)
        e->prq_event = true;
}

/* The page group response, through the engine's ATC (its port). */
static void on_page_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prg_index, unsigned code)
{
    struct copy_engine *e = opaque;
    (void)sid, (void)pasid, (void)prg_index;
    e->answered = true;
    e->answer = code;
}

/* The page at iova is not present: ask for it (a group of one page), let
   the OS run until the answer comes, and say whether to retry. */
static bool fault_in(struct copy_engine *e, struct work_queue *q, uint64_t iova, bool write)
{
    struct siov_page_request req = {q->pasid, iova & ~0xFFFull, write ? SIOV_ACCESS_WRITE : SIOV_ACCESS_READ,
                                    e->next_group++ & 0x1FF, true, false};
    e->answered = false;
    q->page_requests++;
    if (siov_page_request(e->iommu, e->sid, &req) != SIOV_OK)
        return false; /* refused: the unit has answered already, Invalid Request */
    for (int spins = 0; !e->answered && spins < 4; spins++) {
        if (e->prq_event) { /* the OS's interrupt handler */
            e->prq_event = false;
            if (siov_driver_service_prq(e->drv) < 0)
                return false;
        }
    }
    return e->answered && e->answer == SIOV_PRQ_SUCCESS;
}

/* One page of a copy through the ATC; a page not present is faulted in
   and the access retried (demand paging). */
static siov_fault engine_page(struct copy_engine *e, struct work_queue *q, uint64_t iova, uint8_t *buf, size_t n,
                              bool write)
{
    for (;;) {
        siov_fault f = write ? siov_atc_dma_write(e->atc, q->pasid, iova, buf, n)
                             : siov_atc_dma_read(e->atc, q->pasid, iova, buf, n);
        if (f != SIOV_ERR_NOT_PRESENT || !e->demand || !fault_in(e, q, iova, write))
            return f;
    }
}

/* One copy descriptor, executed as the hardware engine would: read the
   source through the queue's PASID, then write the destination, both with
   translations from the engine's ATC, a page at a time. */
static siov_fault engine_copy(struct copy_engine *e, struct work_queue *q, uint64_t src, uint64_t dst,
                              size_t len)
{
    uint8_t bounce[4096];
    siov_fault f = SIOV_OK;
    for (size_t done = 0; done < len && f == SIOV_OK;) {
        size_t n = len - done < sizeof(bounce) ? len - done : sizeof(bounce);
        f = engine_page(e, q, src + done, bounce, n, false);
        if (f == SIOV_OK)
            f = engine_page(e, q, dst + done, bounce, n, true);
        done += n;
    }
    if (f == SIOV_OK)
        q->copies++, q->bytes += len;
    else
        q->faults++;
    return f;
}

/* ------------------------------------------------------------- the OS */
/* The process behind each queue owns its buffers at BUF_IOVA; a page
   request inside them gets the page mapped, anything else Invalid Request. */
static unsigned map_on_demand(void *opaque, struct siov_domain *dom, siov_sid sid, const struct siov_page_request *req)
{
    const struct copy_engine *e = opaque;
    (void)sid;
    for (unsigned i = 0; i < NUM_WQ; i++) {
        const struct work_queue *q = &e->wq[i];
        if (q->dom != dom || req->addr < BUF_IOVA || req->addr >= BUF_IOVA + 2 * BUF_SIZE)
            continue;
        int rc = siov_domain_map(dom, req->addr, q->src_pa + (req->addr - BUF_IOVA), 4096,
                                 SIOV_PROT_READ | SIOV_PROT_WRITE);
        return rc == 0 || rc == -EEXIST ? SIOV_PRQ_SUCCESS : SIOV_PRQ_INVALID;
    }
    return SIOV_PRQ_INVALID;
}

/* ------------------------------------------------------------ set-up */
/* Give queue i its aux domain: buffers mapped at BUF_IOVA (demand paging:
   nothing mapped, first-level tables as a process's), its own PASID. */
static int wq_setup(struct siov_driver *drv, struct copy_engine *e, unsigned i)
{
    struct work_queue *q = &e->wq[i];
    enum siov_domain_type type = i % 2 || e->demand ? SIOV_DOMAIN_FIRST_LEVEL : SIOV_DOMAIN_SECOND_LEVEL;
    q->src_pa = 0x1000000 + i * 0x100000ull;
    q->dst_pa = q->src_pa + BUF_SIZE;
    q->dom = siov_domain_new(drv, type);
    if (!q->dom)
        return -ENOMEM;
    int rc = e->demand ? 0
                       : siov_domain_map(q->dom, BUF_IOVA, q->src_pa, 2 * BUF_SIZE, SIOV_PROT_READ | SIOV_PROT_WRITE);
    if (rc == 0)
        rc = siov_aux_attach(q->dom, e->sid);
    int pasid = rc == 0 ? siov_aux_pasid(q->dom) : rc;
    if (pasid < 0)
        return pasid;
    q->pasid = (uint32_t)pasid;
    return 0;
}

static int check(bool ok, const char *what, int *failures)
{
    printf("  %-60s %s\n", what, ok ? "ok" : "FAILED");
    *failures += !ok;
    return ok;
}

/* Each queue copies its own source to its own destination. */
static void run_copies(struct copy_engine *e, struct guest_ram *ram, int *failures)
{
    char what[96];
    for (unsigned i = 0; i < NUM_WQ; i++) {
        struct work_queue *q = &e->wq[i];
        memset(ram->bytes + q->src_pa, 'A' + (int)i, BUF_SIZE);
        siov_fault f = engine_copy(e, q, BUF_IOVA, BUF_IOVA + BUF_SIZE, BUF_SIZE);
        snprintf(what, sizeof(what), "wq%u (pasid %u) copies 16K through IOVA 0x%llx", i, q->pasid,
                 (unsigned long long)BUF_IOVA);
        check(f == SIOV_OK && ram->bytes[q->dst_pa] == 'A' + i && ram->bytes[q->dst_pa + BUF_SIZE - 1] == 'A' + i,
              what, failures);
    }
}

/* Queue 1 aims at queue 0's buffer by its real address: its PASID maps
   nothing there, so the translation completion grants nothing and nothing is
   written. (ATS reports "not present" to the device; with demand paging its
   page request is answered Invalid Request, the address being outside its
   process; the unit records no fault for either.) */
static void run_isolation(struct copy_engine *e, struct guest_ram *ram, int *failures)
{
    struct work_queue *q = &e->wq[1];
    uint8_t before = ram->bytes[e->wq[0].dst_pa];
    siov_fault f = engine_copy(e, q, BUF_IOVA, e->wq[0].dst_pa, 64);
    printf("  wq1 -> wq0's buffer: %s (%s)\n", siov_fault_name(f), siov_fault_describe(f));
    check(f == SIOV_ERR_NOT_PRESENT && ram->bytes[e->wq[0].dst_pa] == before, "wq1 cannot write wq0's buffer",
          failures);
    struct siov_fault_record rec;
    check(siov_iommu_fault_record(e->iommu, 0, &rec) == 0, "no fault recorded for a not-present completion",
          failures);
    /* the same access as an untranslated request is a fault, recorded with wq1's PASID */
    uint8_t b = 0;
    f = siov_dma_write(e->iommu, e->sid, q->pasid, e->wq[0].dst_pa, &b, 1);
    int pending = siov_iommu_fault_record(e->iommu, 0, &rec);
    check(pending == 1 && rec.pasid == q->pasid && rec.reason == f, "an untranslated request faults, recorded",
          failures);
}

/* After the driver unmaps queue 2's buffers, its next copy faults (demand
   paging: faults its pages in again). */
static void run_unmap(struct copy_engine *e, int *failures)
{
    struct work_queue *q = &e->wq[2];
    struct siov_atc_stats before, after;
    siov_atc_stats(e->atc, &before);
    check(siov_domain_unmap(q->dom, BUF_IOVA, 2 * BUF_SIZE) == (int64_t)(2 * BUF_SIZE), "unmap wq2's buffers",
          failures);
    siov_atc_stats(e->atc, &after);
    check(after.invalidations > before.invalidations, "the device-TLB invalidation reached the ATC", failures);
    unsigned long asked = q->page_requests;
    siov_fault f = engine_copy(e, q, BUF_IOVA, BUF_IOVA + BUF_SIZE, 16);
    if (e->demand)
        check(f == SIOV_OK && q->page_requests == asked + 2, "wq2's next copy faults both pages in again",
              failures);
    else
        check(f != SIOV_OK, "wq2's next copy fails", failures);
}

static void report(struct copy_engine *e, const struct guest_ram *ram)
{
    struct siov_stats st;
    siov_iommu_stats(e->iommu, &st);
    printf("\n  queue  pasid  copies  bytes   faults  page requests\n");
    for (unsigned i = 0; i < NUM_WQ; i++)
        printf("  wq%u    %-5u  %-6lu  %-6lu  %-6lu  %lu\n", i, e->wq[i].pasid, e->wq[i].copies, e->wq[i].bytes,
               e->wq[i].faults, e->wq[i].page_requests);
    if (e->demand)
        printf("  page requests queued %llu, answered Success %llu, Invalid Request %llu\n",
               (unsigned long long)st.prq_queued, (unsigned long long)st.prq_resp_success,
               (unsigned long long)st.prq_resp_invalid);
    printf("  translation requests %llu, IOTLB hits %llu, misses %llu, faults %llu; RAM callbacks: %lu reads, "
           "%lu writes\n",
           (unsigned long long)st.ats_requests, (unsigned long long)st.iotlb_hits,
           (unsigned long long)st.iotlb_misses, (unsigned long long)st.faults, ram->reads, ram->writes);
    struct siov_atc_stats at;
    siov_atc_stats(e->atc, &at);
    printf("  device TLB: %llu hits, %llu misses, %llu device-TLB invalidations, %llu entries dropped\n",
           (unsigned long long)at.hits, (unsigned long long)at.misses, (unsigned long long)at.invalidations,
           (unsigned long long)at.entries_dropped);
}

/* Demand paging: PRI on the device, the handler, the page request event's
   message, and the page responses through the ATC. */
static int demand_setup(struct copy_engine *e)
{
    siov_atc_set_page_response(e->atc, on_page_response, e);
    int rc = siov_dev_enable_pri(e->drv, e->sid);
    if (rc == 0)
        rc = siov_driver_set_prq_handler(e->drv, map_on_demand, e);
    if (rc == 0)
        rc = siov_driver_set_prq_msi(e->drv, PRQ_MSI_ADDR, PRQ_MSI_DATA);
    return rc;
}

int main(int argc, char **argv)
{
    bool demand = argc > 1 && strcmp(argv[1], "--demand-paging") == 0;
    if (argc > 2 || (argc == 2 && !demand))
        return fprintf(stderr, "usage: %s [--demand-paging]\n", argv[0]), 2;
    struct guest_ram ram = {calloc(1, RAM_SIZE), RAM_SIZE, 0, 0};
    const struct siov_mem_ops ops = {.read = ram_read, .write = ram_write};
    struct siov_mem *mem = ram.bytes ? siov_mem_new(&ops, &ram) : NULL;
    struct copy_engine e = {.sid = SIOV_SID(0, 3, 0), .demand = demand};
    struct siov_iommu_config cfg;
    siov_iommu_config_default(&cfg);
    cfg.msi = on_msi;
    cfg.msi_opaque = &e;
    e.iommu = mem ? siov_iommu_new(mem, &cfg) : NULL;
    struct siov_driver *drv = e.drv = e.iommu ? siov_driver_new(e.iommu, mem, POOL_BASE, POOL_SIZE) : NULL;
    int failures = 0;
    printf("DMA-copy engine at 00:03.0 with %d work queues (ADIs)%s\n", NUM_WQ, demand ? ", demand paging" : "");
    /* ATS on (DTE), and the engine's ATC as its port */
    e.atc = drv && siov_dev_enable_aux(drv, e.sid) == 0 && siov_dev_enable_ats(drv, e.sid) == 0
                ? siov_atc_new(e.iommu, e.sid, 256)
                : NULL;
    if (!e.atc || (demand && demand_setup(&e) < 0)) {
        fprintf(stderr, "set-up failed\n");
        return 1;
    }
    for (unsigned i = 0; i < NUM_WQ; i++)
        if (wq_setup(drv, &e, i) < 0)
            return fprintf(stderr, "wq%u set-up failed\n", i), 1;
    run_copies(&e, &ram, &failures);
    run_isolation(&e, &ram, &failures);
    run_unmap(&e, &failures);
    report(&e, &ram);
    siov_atc_free(e.atc);
    siov_driver_free(drv);
    siov_iommu_free(e.iommu);
    siov_mem_free(mem);
    free(ram.bytes);
    printf("%s\n", failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}

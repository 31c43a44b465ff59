/* siov-sim: DMA as a device issues it (translate, read, write), the fault
   recording registers, the unit's counters and the per-ADI report. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define SIM_PRINT_BYTES 64 /* DMA reads show at most this much */

/* ---------------------------------------------------------- accounting */
static struct sim_adi *adi_find(struct sim *s, siov_sid sid, uint32_t pasid)
{
    for (unsigned i = 0; i < s->nadi; i++)
        if (s->adi[i].sid == sid && s->adi[i].pasid == pasid)
            return &s->adi[i];
    if (s->nadi == SIM_MAX_ADIS)
        return NULL; /* the report shows the first SIM_MAX_ADIS pairs */
    struct sim_adi *a = &s->adi[s->nadi++];
    memset(a, 0, sizeof(*a));
    a->sid = sid;
    a->pasid = pasid;
    return a;
}

/* The unit's work so far, in requests it served: untranslated and
   translated requests (stats.translations) and translation requests. A
   retry's latency is counted in these. */
static uint64_t work(const struct siov_stats *st)
{
    return st->translations + st->ats_requests;
}

/* A request of a waiting ADI succeeded: the retry's latency, kept. */
static void retry_done(struct sim_adi *a, uint64_t now)
{
    uint64_t lat = now - a->wait_since;
    if (a->retries < SIM_MAX_LAT)
        a->lat[a->retries] = lat;
    a->lat_min = a->retries && a->lat_min < lat ? a->lat_min : lat;
    a->lat_max = a->lat_max > lat ? a->lat_max : lat;
    a->lat_sum += lat;
    a->retries++;
    a->waiting = false;
}

void sim_adi_account(struct sim *s, siov_sid sid, uint32_t pasid, const struct siov_stats *before, uint64_t bytes,
                     siov_fault f)
{
    struct siov_stats now;
    struct sim_adi *a = adi_find(s, sid, pasid);
    if (!a)
        return;
    siov_iommu_stats(s->iommu, &now);
    a->ops += bytes > 0; /* DMA only: a translate line moves no data */
    a->translations += now.translations - before->translations;
    a->hits += now.iotlb_hits - before->iotlb_hits;
    a->misses += now.iotlb_misses - before->iotlb_misses;
    if (f == SIOV_OK)
        a->bytes += bytes;
    else
        a->faults++, a->last_fault = f;
    if (f == SIOV_OK && a->waiting)
        retry_done(a, work(&now));
}

void sim_adi_answered(struct sim *s, siov_sid sid, uint32_t pasid, unsigned code)
{
    struct sim_adi *a = adi_find(s, sid, pasid);
    if (!a || code == SIOV_PRQ_SUCCESS)
        return;
    a->refused++;
    a->waiting = false; /* the device gives up on the access */
}

void sim_adi_page_request(struct sim *s, siov_sid sid, uint32_t pasid)
{
    struct sim_adi *a = adi_find(s, sid, pasid);
    if (!a)
        return;
    a->prq_sent++;
    if (!a->waiting) {
        struct siov_stats now;
        siov_iommu_stats(s->iommu, &now);
        a->waiting = true;
        a->wait_since = work(&now);
    }
}

/* "00:02.0 pasid 1 0x1000" for action lines. */
static const char *req_text(const struct sim_args *a, char *buf, size_t len)
{
    char sid[16], pasid[24];
    snprintf(buf, len, "%s %s 0x%llx", sim_fmt_sid(a->v[0].sid, sid), sim_fmt_pasid(a->v[1].pasid, pasid),
             (unsigned long long)a->v[2].num);
    return buf;
}

static void print_fault(struct sim *s, const char *what, siov_fault f)
{
    sim_act(s, what, "fault %s: %s", siov_fault_name(f), siov_fault_describe(f));
}

/* ----------------------------------------------------------------- DMA */
int sim_cmd_translate(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    unsigned access = a->v[3].set ? a->v[3].access : SIOV_ACCESS_READ;
    struct siov_stats before;
    struct siov_xlate x;
    siov_iommu_stats(u, &before);
    siov_fault f = siov_translate(u, a->v[0].sid, a->v[1].pasid, a->v[2].num, access, &x);
    sim_adi_account(s, a->v[0].sid, a->v[1].pasid, &before, 0, f);
    char req[64], acc[48], perm[48], size[24], what[128];
    snprintf(what, sizeof(what), "translate %s %s", req_text(a, req, sizeof(req)), sim_fmt_access(access, acc));
    if (f != SIOV_OK) {
        r->kind = RES_FAULT, r->fault = f;
        print_fault(s, what, f);
        return 0;
    }
    r->kind = RES_NUM, r->num = x.addr;
    sim_act(s, what, "0x%llx (%s page, did %u, perm %s)", (unsigned long long)x.addr,
            sim_fmt_size(x.page_size, size), x.did, sim_fmt_access(x.perm, perm));
    return 0;
}

int sim_cmd_dma_read(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    if (a->v[3].num == 0 || a->v[3].num > SIM_MAX_BYTES)
        return sim_error(s, "dma-read length must be 1..%u", SIM_MAX_BYTES);
    size_t len = (size_t)a->v[3].num;
    uint8_t *b = calloc(1, len);
    if (!b)
        return sim_error(s, "out of memory");
    struct siov_stats before;
    siov_iommu_stats(u, &before);
    siov_fault f = siov_dma_read(u, a->v[0].sid, a->v[1].pasid, a->v[2].num, b, len);
    sim_adi_account(s, a->v[0].sid, a->v[1].pasid, &before, len, f);
    char req[64], what[96];
    snprintf(what, sizeof(what), "dma-read %s %zu", req_text(a, req, sizeof(req)), len);
    if (f != SIOV_OK) {
        free(b);
        r->kind = RES_FAULT, r->fault = f;
        print_fault(s, what, f);
        return 0;
    }
    r->kind = RES_BYTES, r->bytes = b, r->len = len;
    sim_act(s, what, "OK%s", len > SIM_PRINT_BYTES ? " (the first 64 bytes:)" : "");
    sim_hexdump(s, a->v[2].num, b, len > SIM_PRINT_BYTES ? SIM_PRINT_BYTES : len);
    return 0;
}

/* A DMA write of len bytes from b; what: the action line. */
static int dma_write(struct sim *s, const struct sim_args *a, const void *b, size_t len, const char *what,
                     struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    struct siov_stats before;
    siov_iommu_stats(u, &before);
    siov_fault f = siov_dma_write(u, a->v[0].sid, a->v[1].pasid, a->v[2].num, b, len);
    sim_adi_account(s, a->v[0].sid, a->v[1].pasid, &before, len, f);
    r->kind = RES_FAULT, r->fault = f;
    if (f != SIOV_OK)
        print_fault(s, what, f);
    else
        sim_act(s, what, "OK");
    return 0;
}

int sim_cmd_dma_write(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    const struct sim_tok *t = a->v[3].tok;
    char req[64], *q = sim_quote((const uint8_t *)t->text, t->len), *what = q ? malloc(strlen(q) + 96) : NULL;
    if (!what) {
        free(q);
        return sim_error(s, "out of memory");
    }
    sprintf(what, "dma-write %s %s", req_text(a, req, sizeof(req)), q);
    int rc = dma_write(s, a, t->text, t->len, what, r);
    free(what);
    free(q);
    return rc;
}

int sim_cmd_dma_fill(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    if (a->v[3].num > SIM_MAX_BYTES || a->v[4].num > 0xFF)
        return sim_error(s, "dma-fill takes a length up to %u and a byte value 0..0xff", SIM_MAX_BYTES);
    size_t len = (size_t)a->v[3].num;
    uint8_t *b = malloc(len ? len : 1);
    if (!b)
        return sim_error(s, "out of memory");
    memset(b, (int)a->v[4].num, len);
    char req[64], what[128];
    snprintf(what, sizeof(what), "dma-fill %s %zu 0x%02x", req_text(a, req, sizeof(req)), len, (unsigned)a->v[4].num);
    int rc = dma_write(s, a, b, len, what, r);
    free(b);
    return rc;
}

/* ------------------------------------------------------------- faults */
/* "SSL.2 (second-level entry not present) sid 00:02.0 pasid 1 addr 0x1000 r" */
static const char *record_text(const struct siov_fault_record *fr, char *buf, size_t len)
{
    char sid[16], pasid[24], acc[48];
    if (fr->reason >= SIOV_FAULT_IR_20 && fr->reason <= SIOV_FAULT_IR_2B) { /* FI holds the interrupt index */
        snprintf(buf, len, "%s (%s) sid %s interrupt index %u", siov_fault_name(fr->reason),
                 siov_fault_describe(fr->reason), sim_fmt_sid(fr->sid, sid),
                 (unsigned)siov_get(fr->addr, SIOV_FRCD0_IRQ_INDEX));
        return buf;
    }
    snprintf(buf, len, "%s (%s) sid %s %s addr 0x%llx %s", siov_fault_name(fr->reason),
             siov_fault_describe(fr->reason), sim_fmt_sid(fr->sid, sid), sim_fmt_pasid(fr->pasid, pasid),
             (unsigned long long)fr->addr, sim_fmt_access(fr->access, acc));
    return buf;
}

int sim_cmd_fault(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_iommu *u = sim_iommu(s);
    struct siov_fault_record fr;
    if (!u)
        return -1;
    int rc = a->v[0].num > 255 ? -1 : siov_iommu_fault_record(u, (unsigned)a->v[0].num, &fr);
    if (rc < 0)
        return sim_error(s, "no fault recording register %llu (the unit has %u)", (unsigned long long)a->v[0].num,
                         siov_iommu_get_config(u)->fault_records);
    const char *field = a->v[1].set ? a->v[1].tok->text : "reason";
    r->kind = RES_NUM;
    if (strcmp(field, "reason") == 0)
        r->kind = RES_FAULT, r->fault = rc ? fr.reason : SIOV_OK;
    else if (strcmp(field, "sid") == 0)
        r->num = fr.sid;
    else if (strcmp(field, "pasid") == 0)
        r->num = fr.pasid;
    else if (strcmp(field, "addr") == 0)
        r->num = fr.addr;
    else if (strcmp(field, "access") == 0)
        r->num = fr.access;
    else
        return sim_error(s, "fault records have reason, sid, pasid, addr and access, not '%s'", field);
    char action[48], text[256], value[32] = "";
    snprintf(action, sizeof(action), "fault %llu%s%s", (unsigned long long)a->v[0].num, a->v[1].set ? " " : "",
             a->v[1].set ? field : "");
    if (r->kind == RES_NUM)
        snprintf(value, sizeof(value), "%s 0x%llx: ", field, (unsigned long long)r->num);
    sim_act(s, action, "%s%s", value, rc ? record_text(&fr, text, sizeof(text)) : "none");
    return 0;
}

int sim_cmd_faults(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)a;
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    unsigned n = siov_iommu_get_config(u)->fault_records, pending = 0;
    struct siov_fault_record fr;
    for (unsigned i = 0; i < n; i++)
        pending += siov_iommu_fault_record(u, i, &fr) == 1;
    uint64_t fsts = siov_mmio_read(u, SIOV_REG_FSTS, 4);
    char text[256], bits[96];
    sim_reg_decode("FSTS", fsts, bits, sizeof(bits));
    sim_act(s, "faults", "%u pending, FSTS 0x%08llx%s", pending, (unsigned long long)fsts, bits);
    for (unsigned i = 0; i < n; i++)
        if (siov_iommu_fault_record(u, i, &fr) == 1)
            sim_note(s, "  fault %u: %s", i, record_text(&fr, text, sizeof(text)));
    r->kind = RES_NUM, r->num = pending;
    return 0;
}

int sim_cmd_clear_faults(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)a;
    struct siov_iommu *u = sim_iommu(s);
    if (!u)
        return -1;
    int cleared = siov_iommu_clear_faults(u);
    sim_act(s, "clear-faults", "%d record%s cleared", cleared, cleared == 1 ? "" : "s");
    r->kind = RES_NUM, r->num = (uint64_t)cleared;
    return 0;
}

/* --------------------------------------------------------------- stats */
struct stat_row {
    const char *name;
    size_t off;
};
#define STAT(f) {#f, offsetof(struct siov_stats, f)}
static const struct stat_row stat_rows[] = {
    STAT(translations), STAT(iotlb_hits),    STAT(iotlb_misses),  STAT(walks),
    STAT(faults),       STAT(faults_recorded), STAT(context_cache_hits), STAT(context_cache_misses),
    STAT(pasid_cache_hits), STAT(pasid_cache_misses), STAT(iotlb_evictions), STAT(invalidations),
    STAT(inv_context),  STAT(inv_iotlb),     STAT(inv_piotlb),    STAT(inv_pasid_cache),
    STAT(inv_devtlb),   STAT(inv_wait),      STAT(inv_other),     STAT(stale_hits),
    STAT(interrupts),   STAT(irq_remapped),  STAT(irq_posted),    STAT(irq_compat),
    STAT(irq_blocked),  STAT(iec_hits),      STAT(iec_misses),    STAT(inv_iec),
    STAT(ats_requests), STAT(translated_requests), STAT(devtlb_timeouts),
    STAT(prq_queued),   STAT(prq_overflowed), STAT(prq_refused),  STAT(prq_write_errors),
    STAT(prq_resp_success), STAT(prq_resp_invalid), STAT(prq_resp_failure), STAT(prq_resp_reserved),
    STAT(prq_resp_unit),
};

static uint64_t stat_get(const struct siov_stats *st, const struct stat_row *row)
{
    uint64_t v;
    memcpy(&v, (const char *)st + row->off, sizeof(v));
    return v;
}

/* The counters since the last 'stats reset'. */
static void stats_now(struct sim *s, struct siov_stats *st)
{
    struct siov_stats raw;
    siov_iommu_stats(s->iommu, &raw);
    for (size_t i = 0; i < sizeof(stat_rows) / sizeof(stat_rows[0]); i++) {
        uint64_t v = stat_get(&raw, &stat_rows[i]) - stat_get(&s->base, &stat_rows[i]);
        memcpy((char *)st + stat_rows[i].off, &v, sizeof(v));
    }
}

/* IOTLB hit rate in tenths of a percent. */
static unsigned hit_permille(uint64_t hits, uint64_t misses)
{
    return hits + misses ? (unsigned)((hits * 1000 + (hits + misses) / 2) / (hits + misses)) : 0;
}

static int stats_one(struct sim *s, const char *name, const struct siov_stats *st, struct sim_result *r)
{
    r->kind = RES_NUM;
    if (strcmp(name, "msi") == 0)
        r->num = s->msi_count;
    else if (strcmp(name, "devtlb_outstanding") == 0)
        r->num = siov_iommu_devtlb_outstanding(s->iommu);
    else if (strcmp(name, "iotlb_hit_permille") == 0)
        r->num = hit_permille(st->iotlb_hits, st->iotlb_misses);
    else {
        size_t i = 0, n = sizeof(stat_rows) / sizeof(stat_rows[0]);
        while (i < n && strcmp(stat_rows[i].name, name) != 0)
            i++;
        if (i == n)
            return sim_error(s, "no counter '%s' (see 'stats' for the names)", name);
        r->num = stat_get(st, &stat_rows[i]);
    }
    char action[64];
    snprintf(action, sizeof(action), "stats %s", name);
    sim_act(s, action, "%llu", (unsigned long long)r->num);
    return 0;
}

int sim_cmd_stats(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    struct siov_stats st;
    if (!sim_iommu(s))
        return -1;
    if (a->v[0].set && sim_tok_is(a->v[0].tok, "reset")) {
        siov_iommu_stats(s->iommu, &s->base);
        s->msi_count = 0;
        s->stats_reset = true;
        sim_act(s, "stats reset", "OK");
        return 0;
    }
    stats_now(s, &st);
    if (a->v[0].set)
        return stats_one(s, a->v[0].tok->text, &st, r);
    sim_act(s, "stats", "the unit's counters since %s:", s->stats_reset ? "'stats reset'" : "it was created");
    for (size_t i = 0; i < sizeof(stat_rows) / sizeof(stat_rows[0]); i++)
        sim_note(s, "  %-22s %llu", stat_rows[i].name, (unsigned long long)stat_get(&st, &stat_rows[i]));
    unsigned pm = hit_permille(st.iotlb_hits, st.iotlb_misses);
    sim_note(s, "  %-22s %llu", "msi", (unsigned long long)s->msi_count);
    sim_note(s, "  %-22s %u", "devtlb_outstanding", siov_iommu_devtlb_outstanding(s->iommu));
    sim_note(s, "  %-22s %u.%u%%", "iotlb hit rate", pm / 10, pm % 10);
    return 0;
}

/* -------------------------------------------------------------- report */
/* The name of the domain aux-attached with pasid, or of the attached one. */
static const char *adi_label(struct sim *s, const struct sim_adi *adi)
{
    for (unsigned i = 0; i < s->nnames; i++) {
        struct sim_name *n = &s->names[i];
        if (n->kind == NAME_DOMAIN && n->dom && adi->pasid != SIOV_NO_PASID &&
            siov_aux_pasid(n->dom->dom) == (int)adi->pasid)
            return n->name;
    }
    return adi->pasid == SIOV_NO_PASID ? "(no PASID)" : "-";
}

/* The unit's totals, each a sum of its parts, saying what they count. */
static void report_totals(struct sim *s)
{
    struct siov_stats st;
    stats_now(s, &st);
    unsigned long long t = st.translations, h = st.iotlb_hits, m = st.iotlb_misses;
    unsigned pm = hit_permille(st.iotlb_hits, st.iotlb_misses);
    if (!s->cfg.stale_check && h + m <= t)
        sim_note(s, "translations: %llu = %llu IOTLB hits + %llu misses + %llu answered before the IOTLB "
                    "(translation off, or a fault in the context or PASID stage)", t, h, m, t - h - m);
    else /* the checker's uncached re-walks count as misses (iommu.h) */
        sim_note(s, "translations: %llu; IOTLB hits %llu, misses %llu%s", t, h, m,
                 s->cfg.stale_check ? " (stale_check: each request is also walked uncached, and that walk "
                                      "counts as a miss)" : "");
    sim_note(s, "IOTLB hit rate %u.%u%%; page walks %llu; faults %llu (recorded %llu)", pm / 10, pm % 10,
             (unsigned long long)st.walks, (unsigned long long)st.faults, (unsigned long long)st.faults_recorded);
    if (st.interrupts)
        sim_note(s, "interrupts: %llu = remapped %llu + posted %llu + passed through %llu + blocked %llu; "
                    "interrupt entry cache: %llu hits, %llu misses",
                 (unsigned long long)st.interrupts, (unsigned long long)st.irq_remapped,
                 (unsigned long long)st.irq_posted, (unsigned long long)st.irq_compat,
                 (unsigned long long)st.irq_blocked, (unsigned long long)st.iec_hits,
                 (unsigned long long)st.iec_misses);
    sim_note(s, "invalidations: %llu = context %llu + iotlb %llu + pasid-iotlb %llu + pasid-cache %llu + "
                "devtlb %llu + iec %llu + other %llu (inv-wait descriptors, counted apart: %llu)",
             (unsigned long long)st.invalidations, (unsigned long long)st.inv_context,
             (unsigned long long)st.inv_iotlb, (unsigned long long)st.inv_piotlb,
             (unsigned long long)st.inv_pasid_cache, (unsigned long long)st.inv_devtlb,
             (unsigned long long)st.inv_iec, (unsigned long long)st.inv_other, (unsigned long long)st.inv_wait);
}

/* Per ADI: page requests sent, answers refused, and each retry's latency
   (the requests the unit served from the first page request to the request
   that succeeded). */
static void report_page_requests(struct sim *s)
{
    bool any = false;
    for (unsigned i = 0; i < s->nadi; i++)
        any |= s->adi[i].prq_sent != 0;
    if (!any)
        return;
    sim_note(s, "%-10s %-8s %-8s %8s %7s %7s  %s", "ADI", "device", "PASID", "page-req", "refused", "retries",
             "retry latency in requests: min/avg/max (each)");
    for (unsigned i = 0; i < s->nadi; i++) {
        const struct sim_adi *d = &s->adi[i];
        if (!d->prq_sent)
            continue;
        char sid[16], pasid[24], each[16 * SIM_MAX_LAT] = "", lat[64] = "-";
        size_t o = 0;
        for (uint64_t k = 0; k < d->retries && k < SIM_MAX_LAT; k++)
            o += (size_t)snprintf(each + o, sizeof(each) - o, "%s%llu", k ? " " : "", (unsigned long long)d->lat[k]);
        if (d->retries)
            snprintf(lat, sizeof(lat), "%llu/%llu/%llu", (unsigned long long)d->lat_min,
                     (unsigned long long)(d->lat_sum / d->retries), (unsigned long long)d->lat_max);
        snprintf(pasid, sizeof(pasid), d->pasid == SIOV_NO_PASID ? "none" : "%u", d->pasid);
        sim_note(s, "%-10s %-8s %-8s %8llu %7llu %7llu  %s%s%s%s%s%s", adi_label(s, d), sim_fmt_sid(d->sid, sid),
                 pasid, (unsigned long long)d->prq_sent, (unsigned long long)d->refused,
                 (unsigned long long)d->retries, lat, d->retries ? " (" : "", each,
                 d->retries > SIM_MAX_LAT ? " ..." : "", d->retries ? ")" : "", d->waiting ? " still waiting" : "");
    }
    sim_note(s, "(page-req: page requests sent; refused: answers other than Success; retry latency: requests "
                "the unit served, translated, untranslated and translation requests of every device, from an "
                "ADI's page request to its first request that then succeeded)");
}

int sim_cmd_report(struct sim *s, const struct sim_args *a, struct sim_result *r)
{
    (void)a;
    (void)r;
    if (!sim_iommu(s))
        return -1;
    sim_act(s, "report", "%u ADI%s (a device and PASID that sent requests)", s->nadi, s->nadi == 1 ? "" : "s");
    sim_note(s, "%-10s %-8s %-8s %5s %8s %6s %6s %6s %7s %6s  %s", "ADI", "device", "PASID", "DMA", "bytes",
             "xlate", "hits", "misses", "hit%", "faults", "last fault");
    for (unsigned i = 0; i < s->nadi; i++) {
        const struct sim_adi *d = &s->adi[i];
        char sid[16], pasid[24];
        unsigned pm = hit_permille(d->hits, d->misses);
        snprintf(pasid, sizeof(pasid), d->pasid == SIOV_NO_PASID ? "none" : "%u", d->pasid);
        sim_note(s, "%-10s %-8s %-8s %5llu %8llu %6llu %6llu %6llu %5u.%u%% %6llu  %s", adi_label(s, d),
                 sim_fmt_sid(d->sid, sid), pasid, (unsigned long long)d->ops, (unsigned long long)d->bytes,
                 (unsigned long long)d->translations, (unsigned long long)d->hits, (unsigned long long)d->misses,
                 pm / 10, pm % 10, (unsigned long long)d->faults, d->faults ? siov_fault_name(d->last_fault) : "-");
    }
    sim_note(s, "(DMA: dma-read/write/fill commands; bytes: moved without fault; xlate: the unit's "
                "translations for them and for translate lines, expect included)");
    report_page_requests(s);
    report_totals(s);
    return 0;
}

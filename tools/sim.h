/* siov-sim: interfaces between the scenario interpreter's modules.
 *
 * One struct sim holds the whole state of a run (no globals): the memory, the
 * unit, the driver, the named objects of the scenario, per-ADI accounting and
 * the error of the line being run. Modules:
 *   sim_core.c    the run: lines, errors, lazily created memory/unit/driver
 *   sim_parse.c   tokenizer and value parsers (numbers, sids, access, names)
 *   sim_cmds.c    the command table, argument specs, dispatch, expect
 *   sim_fields.c  named fields of VT-d entries and descriptors (encode/decode)
 *   sim_hw.c      config, memory, registers (hardware-level commands)
 *   sim_dma.c     translate, DMA, fault records, stats, report
 *   sim_drv.c     driver, devices, domains, map/unmap, attach, aux
 *   sim_inv.c     the invalidation queue and hand-made descriptors
 *   sim_irq.c     interrupts: send one, the driver's irq-alloc/-free/-affinity, dump irte
 *   sim_dump.c    dump: the translation structures a sid and PASID reach
 *   sim_dot.c     dump --dot: the same structures as a Graphviz graph
 *   sim_trace.c   trace start/stop: recording requests and driver markers
 *   sim_ats.c     ATS: translation requests, ATCs, device ports, completions
 *   sim_prq.c     page requests: PRI, the driver's handler, page responses
 *   sim_demo.c    the built-in demo scenarios
 */
#ifndef SIOV_SIM_H
#define SIOV_SIM_H

#include <stdarg.h>
#include <stdio.h>
#include <siov/siov.h>

#define SIM_MAX_TOKENS 64
#define SIM_MAX_ARGS 8
#define SIM_MAX_NAMES 256
#define SIM_MAX_ADIS 64
#define SIM_NAME_LEN 32
#define SIM_MAX_BYTES (1u << 20) /* largest read/DMA a line may ask for */
#define SIM_ERR_LEN 512

#define SIM_DEFAULT_MEM (64ull << 20)
#define SIM_DEFAULT_POOL 0x100000ull
#define SIM_DEFAULT_POOL_SIZE (7ull << 20)

/* ------------------------------------------------------------ tokens */
enum sim_tok_kind { TOK_WORD, TOK_STRING, TOK_EQ, TOK_AMP, TOK_OP /* != < > <= >= */ };
struct sim_tok {
    enum sim_tok_kind kind;
    const char *text; /* NUL-terminated; strings decoded (may hold NULs) */
    size_t len;
    unsigned col;     /* 1-based column in the source line */
};
struct sim_line {
    char *buf;        /* decoded token text */
    size_t cap;
    struct sim_tok tok[SIM_MAX_TOKENS];
    unsigned ntok;
};

/* ------------------------------------------------------------ objects */
enum sim_name_kind { NAME_DOMAIN, NAME_DEVICE, NAME_NUMBER, NAME_IRQ, NAME_ATC };
struct sim_domain {
    struct siov_domain *dom;
    uint32_t num;             /* its number in traces (1, 2, ...) */
    int type;                 /* SIOV_DOMAIN_*, or SIM_DOMAIN_NESTED */
    struct sim_domain *parent;
    bool aux;                 /* aux-attached: an ADI of aux_sid */
    siov_sid aux_sid;         /* the device of its last aux attach */
    int prq_mode;             /* SIM_PRQ_*: how 'prq-handler' answers its page requests */
};
/* prq-handler modes: Invalid Request (the default), map on demand, Response Failure. */
enum { SIM_PRQ_INVALID, SIM_PRQ_MAP, SIM_PRQ_FAIL };
#define SIM_DOMAIN_NESTED 100
struct sim_name {
    char name[SIM_NAME_LEN];
    enum sim_name_kind kind;
    struct sim_domain *dom;   /* NAME_DOMAIN (NULL once freed) */
    siov_sid sid;             /* NAME_DEVICE, NAME_ATC (its device) */
    uint64_t num;             /* NAME_NUMBER */
    struct siov_msi msi;      /* NAME_IRQ: its message (a number: the address) */
    bool freed;               /* NAME_IRQ: freed with irq-free */
    struct siov_atc *atc;     /* NAME_ATC (NULL once freed) */
};

/* A device attached by 'port SID manual': the device-TLB invalidations it
   received and has not completed yet. */
#define SIM_MAX_PORTS 8
#define SIM_PORT_PENDING 64
struct sim_port {
    struct sim *s;
    siov_sid sid;
    bool used;
    bool resp_only;     /* attached by a page request to hear its answer (no invalidations) */
    unsigned n;
    unsigned itag[SIM_PORT_PENDING];
};

/* What one ADI (a sid and PASID pair) did, for the report. */
#define SIM_MAX_LAT 12 /* retry latencies the report lists one by one */
struct sim_adi {
    siov_sid sid;
    uint32_t pasid;
    uint64_t ops, bytes, translations, hits, misses, faults; /* ops: DMA commands */
    siov_fault last_fault;
    /* page requests: sent, and for each one answered by a request that
       then succeeded, the translations the unit served meanwhile */
    uint64_t prq_sent, retries, refused, lat_sum, lat_min, lat_max; /* refused: answers other than Success */
    uint64_t lat[SIM_MAX_LAT];
    bool waiting;        /* a page request was sent and no request has succeeded since */
    uint64_t wait_since; /* the unit's translations and translation requests then */
};

/* A page response a device received. */
#define SIM_MAX_RESP 256
struct sim_resp {
    siov_sid sid;
    uint32_t pasid;
    uint16_t prgi;
    unsigned code;
};

/* ------------------------------------------------------------ results */
enum sim_rkind { RES_NONE, RES_NUM, RES_FAULT, RES_ERRNO, RES_BYTES, RES_IRQ };
struct sim_result {
    enum sim_rkind kind;
    struct siov_irq irq; /* RES_IRQ: compared as vector/dest, or vector/posted */
    uint64_t num;
    siov_fault fault;
    int err;            /* RES_ERRNO: 0 or a negative errno */
    char why[160];      /* RES_ERRNO < 0: the driver's siov_driver_last_error */
    uint8_t *bytes;     /* RES_BYTES: owned by the result */
    size_t len;
};

struct sim {
    FILE *out, *errout;
    const char *file;
    unsigned lineno;
    unsigned quiet;      /* > 0: results are not printed (expect, -q) */
    bool verbose;
    bool acted;          /* the line being run printed its action (or echo text) */
    /* configuration and the objects it creates */
    struct siov_iommu_config cfg;
    uint64_t mem_size;
    bool mem_callback;
    uint8_t *cb_ram;     /* the callback backend's RAM */
    struct siov_mem *mem;
    struct siov_iommu *iommu;
    unsigned iommu_line; /* the line that created the unit */
    struct siov_driver *drv;
    struct sim_name names[SIM_MAX_NAMES];
    unsigned nnames;
    struct sim_adi adi[SIM_MAX_ADIS];
    unsigned nadi;
    struct siov_stats base; /* "stats reset" baseline */
    struct sim_port ports[SIM_MAX_PORTS];
    bool stats_reset;       /* base was taken by "stats reset" */
    uint64_t msi_count;
    struct sim_resp resp[SIM_MAX_RESP]; /* the last page responses, a ring */
    unsigned nresp;                     /* received in all */
    uint64_t prq_next;                  /* the next page 'prq-handler map-on-demand' hands out */
    struct siov_trace *trace; /* 'trace start': the trace being recorded */
    int trace_err;            /* a marker that could not be written */
    uint32_t next_dom;        /* the number the next domain gets in traces, less one */
    unsigned expects_passed, expects_failed;
    char err[SIM_ERR_LEN];        /* the error of the line being run */
    char first_fail[SIM_ERR_LEN]; /* the first error or failed expectation of the run */
};

/* ------------------------------------------------------------ sim core */
/* Set up a run writing results to out and failures to errout. */
void sim_init(struct sim *s, FILE *out, FILE *errout);
/* Free everything the run created. */
void sim_fini(struct sim *s);
/* Run one source line; 0, or -1 with s->err set ("line N: ..."). */
int sim_run_line(struct sim *s, const char *text, unsigned lineno);
/* Run a whole scenario from a stream; 0 passed, 1 an expectation failed, 2 error. */
int sim_run_stream(struct sim *s, FILE *in, const char *name);
/* Run a scenario held in a string (the demo). */
int sim_run_text(struct sim *s, const char *text, const char *name);
/* Record an error for the current line; always returns -1. */
int sim_error(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a result line unless quiet. */
void sim_print(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print what a line did in the scenario language, so it can be pasted back,
   with its result as a comment: "ACTION   # -> RESULT" (result NULL: none).
   Unless quiet. */
void sim_act(struct sim *s, const char *action, const char *result, ...) __attribute__((format(printf, 3, 4)));
/* Print a line of information as a comment ("# ..."), unless quiet. */
void sim_note(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A warning about the current line, on the error stream (even with -q). */
void sim_warn(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The unit, created now from the configuration if it does not exist yet. */
struct siov_iommu *sim_iommu(struct sim *s);
/* The driver, or an error when none was created. */
struct siov_driver *sim_driver(struct sim *s);
/* Guest memory, created now if it does not exist yet. */
struct siov_mem *sim_mem(struct sim *s);
/* Decoded bits and fields of a register's value, " (TES RTPS QIES)", or "" for
   registers without a decoding (sim_hw.c). */
void sim_reg_decode(const char *reg, uint64_t v, char *buf, size_t len);
/* Print bytes as a hex dump, 16 per line, as comments (sim_hw.c). */
void sim_hexdump(struct sim *s, uint64_t addr, const uint8_t *b, size_t len);
/* Record a failed expectation (printed, kept as first_fail). */
void sim_fail(struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ------------------------------------------------------------ sim_parse.c */
/* Split text into tokens; 0 or -1 with the error set. */
int sim_tokenize(struct sim *s, const char *text, struct sim_line *ln);
void sim_line_free(struct sim_line *ln);
/* Token equals word (case-sensitive). */
bool sim_tok_is(const struct sim_tok *t, const char *word);
/* A number: decimal, 0x hex, 0b binary, K/M/G/T suffix, or a 'let' name. */
int sim_parse_num(struct sim *s, const struct sim_tok *t, uint64_t *out);
/* A requester id: bus:dev.fn (hex, as lspci prints it), a number, or a device name. */
int sim_parse_sid(struct sim *s, const struct sim_tok *t, siov_sid *out);
/* Access flags (r, w, x, priv, ats, translated); prot: map permissions only. */
int sim_parse_access(struct sim *s, const struct sim_tok *t, bool prot, unsigned *out);
/* on/off, true/false, yes/no, 1/0. */
int sim_parse_bool(struct sim *s, const struct sim_tok *t, bool *out);
/* A fault reason by its spec name ("SSL.2", "ssl_2", "SSS.2", "OK", "BUS"); -1 if none. */
int sim_fault_by_name(const char *name, siov_fault *out);
/* An errno by name ("EBUSY"); -1 if unknown. */
int sim_errno_by_name(const char *name, int *out);
/* The name of a negative errno ("EBUSY"), or "E?". */
const char *sim_errno_name(int err);
/* bytes as a scenario string ("...", escapes where needed); malloc'ed, NULL if out of memory. */
char *sim_quote(const uint8_t *b, size_t len);
/* Tokens joined back into scenario text (strings re-quoted) in buf. */
void sim_join_tokens(const struct sim_tok *t, unsigned n, char *buf, size_t len);
/* Format helpers into caller buffers. */
const char *sim_fmt_sid(siov_sid sid, char buf[16]);
const char *sim_fmt_access(unsigned access, char buf[48]);
const char *sim_fmt_pasid(uint32_t pasid, char buf[24]);
const char *sim_fmt_size(uint64_t size, char buf[24]);

/* Named objects (domains, devices, numbers). */
struct sim_name *sim_name_find(struct sim *s, const char *name);
struct sim_name *sim_name_add(struct sim *s, const struct sim_tok *t, enum sim_name_kind kind);
/* 0 if t may become a new name, or -1 with the error set (reserved, or taken). */
int sim_name_check(struct sim *s, const struct sim_tok *t);

/* ------------------------------------------------------------ sim_cmds.c */
/* Typed arguments of one command, filled from its spec. */
struct sim_val {
    bool set;
    uint64_t num;
    siov_sid sid;
    uint32_t pasid;
    unsigned access;
    struct sim_domain *dom;
    struct sim_name *name;
    const struct sim_tok *tok;
};
struct sim_args {
    struct sim_val v[SIM_MAX_ARGS];
    const struct sim_tok *rest; /* key=value... or rest... tokens */
    unsigned nrest;
};
typedef int (*sim_handler)(struct sim *s, const struct sim_args *a, struct sim_result *r);
struct sim_cmd {
    const char *name;
    const char *spec;   /* argument spec, also the usage line (docs/siov-sim.md) */
    sim_handler fn;
    const char *help;
};
const struct sim_cmd *sim_cmd_find(const char *name);
/* Print the command list, or one command's usage (as comments inside a scenario). */
void sim_help(struct sim *s, const char *name);
/* Walk key=value triples in a->rest; returns 1 with *key and *val, 0 at the end, -1 on error. */
int sim_kv_next(struct sim *s, const struct sim_args *a, unsigned *i, const struct sim_tok **key,
                const struct sim_tok **val);

/* ------------------------------------------------------------ sim_fields.c */
enum sim_field_kind { FLD_NUM, FLD_ADDR, FLD_SID, FLD_ENUM };
struct sim_enum {
    const char *name;
    uint64_t value;
};
struct sim_field {
    const char *name;
    unsigned qw;
    uint64_t mask;
    enum sim_field_kind kind;
    const struct sim_enum *names; /* FLD_ENUM: value names, {NULL} ended */
};
struct sim_layout {
    const char *name;   /* "pasid", "context", ... */
    unsigned qwords;
    const struct sim_field *fields; /* {NULL} ended */
};
const struct sim_layout *sim_layout_find(const char *name);
/* Fill qw[] (zeroed first) from key=value pairs of a->rest against lay. */
int sim_fields_encode(struct sim *s, const struct sim_layout *lay, const struct sim_args *a,
                      uint64_t *qw);
/* " name=value ..." of every field of lay in qw (zero fields too when all), and
   " qwN=0x..." for bits no field names: text 'entry' takes back. SIM_ALL_ZERO
   when there is nothing to show. */
#define SIM_ALL_ZERO " (all zero)"
void sim_fields_decode(const struct sim_layout *lay, const uint64_t *qw, bool all, char *buf,
                       size_t len);
/* The value name of an enum field, or NULL. */
const char *sim_enum_name(const struct sim_enum *e, uint64_t value);

/* ------------------------------------------------------------ handlers */
int sim_cmd_config(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_memory(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_iommu(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_reg(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_reg_write(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_gcmd(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_read64(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_write64(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_read(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_write(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_fill(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_mem_fail(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_entry(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_decode(struct sim *s, const struct sim_args *a, struct sim_result *r);

int sim_cmd_translate(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_dma_read(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_dma_write(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_dma_fill(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_fault(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_faults(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_clear_faults(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_stats(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_report(struct sim *s, const struct sim_args *a, struct sim_result *r);

int sim_cmd_driver(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_capable(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_device(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_enable_aux(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_disable_aux(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_domain(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_free(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_map(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_unmap(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_iova_to_phys(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_attach(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_detach(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_aux_attach(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_aux_detach(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_aux_pasid(struct sim *s, const struct sim_args *a, struct sim_result *r);

int sim_cmd_queue(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_inv(struct sim *s, const struct sim_args *a, struct sim_result *r);

int sim_cmd_dump(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_trace(struct sim *s, const struct sim_args *a, struct sim_result *r);
/* sim_dot.c: the structures behind (sid, pasid[, iova]) as a Graphviz digraph on f
   (SIOV_NO_PASID without iova: every PASID of the device); 0 or -1 with the error set. */
int sim_dump_dot(struct sim *s, FILE *f, siov_sid sid, uint32_t pasid, const uint64_t *iova);

/* sim_trace.c: record a marker into the trace being recorded (if any). */
void sim_trace_marker(struct sim *s, const struct siov_trace_rec *rec);
/* sim_trace.c: (re)install the trace hook on the unit, if both exist. */
void sim_trace_attach_unit(struct sim *s);
/* sim_trace.c: close the trace; its record count to *records; 0 or -errno. */
int sim_trace_stop(struct sim *s, uint64_t *records);

int sim_cmd_interrupt(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_irq_alloc(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_irq_free(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_irq_affinity(struct sim *s, const struct sim_args *a, struct sim_result *r);
/* sim_drv.c: the driver's errno as the line's value, with its cause when it
   failed; "OK" or "EEXIST: [0x0, 0x1000) overlaps ..." for a result comment. */
void sim_errno_result(struct sim *s, struct sim_result *r, int rc);
const char *sim_errno_status(const struct sim_result *r, char *buf, size_t len);
/* sim_irq.c: 'dump irte INDEX': the entry of the table IRTA names, decoded. */
int sim_dump_irte(struct sim *s, uint64_t index, struct sim_result *r);
/* sim_irq.c: "vector 0x41 dest 0x3 ..." or "posted ..." for an interrupt delivered. */
const char *sim_fmt_irq(const struct siov_irq *irq, char *buf, size_t len);
int sim_cmd_enable_ats(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_ats_translate(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_atc_create(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_atc_translate(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_atc_dma_read(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_atc_dma_write(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_atc_dump(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_atc_stats(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_atc_free(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_port(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_complete(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_expire(struct sim *s, const struct sim_args *a, struct sim_result *r);
/* sim_ats.c: print a stale-translation report (the unit's stale_report callback). */
void sim_stale_report(void *opaque, const struct siov_stale_report *r);
/* sim_ats.c: free the ATCs (before the unit goes). */
void sim_ats_fini(struct sim *s);

/* sim_dma.c: account a request of an ADI (stats delta since before); bytes > 0
   makes it a DMA (the report's DMA column), 0 a translation only. A request
   that succeeds after a page request records that retry's latency. */
void sim_adi_account(struct sim *s, siov_sid sid, uint32_t pasid, const struct siov_stats *before,
                     uint64_t bytes, siov_fault f);
/* sim_dma.c: an ADI sent a page request (its wait starts, unless it waits already). */
void sim_adi_page_request(struct sim *s, siov_sid sid, uint32_t pasid);
/* sim_dma.c: an ADI received a page response; one other than Success ends its wait. */
void sim_adi_answered(struct sim *s, siov_sid sid, uint32_t pasid, unsigned code);

/* sim_prq.c: page requests and their answers. */
int sim_cmd_enable_pri(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_disable_pri(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_page_request(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_stop_marker(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_service_prq(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_prq_handler(struct sim *s, const struct sim_args *a, struct sim_result *r);
int sim_cmd_page_response(struct sim *s, const struct sim_args *a, struct sim_result *r);
/* sim_prq.c: a device received a page response (opaque: the struct sim; for
   a port's ops, the struct sim_port). */
void sim_page_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code);
void sim_port_page_response(void *opaque, siov_sid sid, uint32_t pasid, uint16_t prgi, unsigned code);
/* sim_prq.c: the port a page request attached to sid to hear its answer
   goes, so that an ATC or a manual port can take sid. */
void sim_prq_release_port(struct sim *s, siov_sid sid);
/* sim_prq.c: a response code's name ("Success", "Invalid Request", ...), or
   the code of a name ("success", "invalid", "failure"): 0, or -1. */
const char *sim_prq_code_name(unsigned code, char buf[24]);
int sim_prq_code_by_name(const char *name, unsigned *code);

/* ------------------------------------------------------------ sim_demo.c */
/* The built-in demo scenarios: "siov" (the default) and "sva"; NULL if none
   is called name. */
const char *sim_demo_text(const char *name);

#endif

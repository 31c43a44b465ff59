/* libsiov — trace files: what the text and binary codecs share with the
 * file layer (trace_file.c, on top of trace_text.c and trace_binary.c). */
#ifndef SIOV_TRACE_INT_H
#define SIOV_TRACE_INT_H

#include <siov/siov.h>
#include <siov/trace.h>

#define SIOV_LOCAL __attribute__((visibility("hidden")))

/* The text form's first line, and the binary form's first 8 bytes. */
#define SIOV_TRACE_TEXT_MAGIC "siov-trace"
#define SIOV_TRACE_BIN_MAGIC "SIOVTRC"  /* and a NUL */
#define SIOV_TRACE_BIN_MAGIC_LEN 8
#define SIOV_TRACE_VERSION 1
#define SIOV_TRACE_BIN_HEADER 16        /* magic, u16 version, u16 flags, u32 reserved */
#define SIOV_TRACE_BIN_MAX 128          /* longest encoded record */
/* The access bits a record carries (the text form's letters r w x p a t n). */
#define SIOV_TRACE_ACCESS_ALL 0x7Fu

/* What the binary codec carries from record to record (deltas). */
struct siov_trace_bin_state {
    uint64_t next_seq;  /* seq the next record has unless it says otherwise */
    uint64_t time;
    uint64_t addr[4];   /* end of the last request of each kind (XLATE, READ, WRITE), and of the last map */
    uint64_t pa;        /* end of the last map's physical range */
    siov_sid sid;
    uint32_t pasid;
};

/* trace_binary.c: encode rec after state st into buf (SIOV_TRACE_BIN_MAX
   bytes); the length. Advances st. */
SIOV_LOCAL size_t siov_trace_bin_encode(struct siov_trace_bin_state *st, const struct siov_trace_rec *rec,
                                        uint8_t *buf);
/* trace_binary.c: decode one record from [p, p + n); the bytes used, 0 when
   n is too short for the whole record (more input needed), or -1 with a
   message in err for a malformed one. Advances st on success. */
SIOV_LOCAL int siov_trace_bin_decode(struct siov_trace_bin_state *st, const uint8_t *p, size_t n,
                                     struct siov_trace_rec *rec, char *err, size_t errlen);
/* trace_binary.c: the 16-byte header. */
SIOV_LOCAL void siov_trace_bin_header(uint8_t out[SIOV_TRACE_BIN_HEADER]);
/* trace_binary.c: check a header that starts with the magic (the file layer
   tells the forms apart by it): version and reserved bits; 0, or -1 with a
   message in err. */
SIOV_LOCAL int siov_trace_bin_check_header(const uint8_t *h, char *err, size_t errlen);

#endif

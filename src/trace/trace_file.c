/* Trace files: opening either form, writing records (numbered, thread-safe,
 * or as given), reading them back with the position of any error, and the
 * hook that records a unit's events. The forms themselves: trace_text.c,
 * trace_binary.c. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "trace_int.h"

#define READ_CHUNK 65536u
#define LINE_MAX_LEN 4096u /* a longer text line is an error, not a reason to grow without end */

struct siov_trace {
    FILE *f;
    bool own, writing, binary;
    pthread_mutex_t lock;      /* writers: siov_trace_record from many threads */
    uint64_t count;            /* records written or read */
    bool any;                  /* last_seq holds a record's seq */
    uint64_t last_seq;
    struct siov_trace_bin_state bs;
    int werr;                  /* the first write error, as a negative errno */
    /* reading: a buffer over the stream */
    uint8_t *buf;
    size_t cap, start, end;
    bool eof, header_done, failed;
    unsigned lineno;
    uint64_t offset;           /* bytes consumed before buf[start] */
    char err[256];
};

const char *siov_trace_error(const struct siov_trace *t)
{
    return t ? t->err : "";
}

bool siov_trace_is_binary(const struct siov_trace *t)
{
    return t && t->binary;
}

uint64_t siov_trace_count(const struct siov_trace *t)
{
    return t ? t->count : 0;
}

/* ------------------------------------------------------------- writing */
static void write_bytes(struct siov_trace *t, const void *p, size_t n)
{
    if (fwrite(p, 1, n, t->f) != n && !t->werr)
        t->werr = errno ? -errno : -EIO;
}

static void write_header(struct siov_trace *t)
{
    if (t->binary) {
        uint8_t h[SIOV_TRACE_BIN_HEADER];
        siov_trace_bin_header(h);
        write_bytes(t, h, sizeof(h));
        return;
    }
    static const char text[] = SIOV_TRACE_TEXT_MAGIC " 1\n"
                               "# seq [@time] kind fields... [-> result]   (docs/tracing.md)\n";
    write_bytes(t, text, sizeof(text) - 1);
}

/* Whether both forms can hold r (a reader accepts every record a writer wrote). */
static bool representable(const struct siov_trace_rec *r)
{
    if (r->kind < SIOV_TRACE_XLATE || r->kind > SIOV_TRACE_KIND_MAX)
        return false;
    if (((r->access | r->xlate.perm) & ~SIOV_TRACE_ACCESS_ALL) || (r->pasid > SIOV_PASID_MAX && r->pasid != SIOV_NO_PASID))
        return false;
    if (r->kind == SIOV_TRACE_DOMAIN &&
        (r->dom_type > SIOV_TRACE_DOM_NESTED || (r->parent && r->dom_type != SIOV_TRACE_DOM_NESTED)))
        return false;
    bool inv_ok = r->inv_type >= SIOV_TRACE_INV_CONTEXT && r->inv_type <= SIOV_TRACE_INV_PDEVTLB && r->inv_type != 5;
    if (r->kind == SIOV_TRACE_INVAL && (!inv_ok || r->inv_gran > 0xF || r->am > 63))
        return false;
    if (r->kind > SIOV_TRACE_WRITE || !r->has_result)
        return true;
    if (r->fault)
        return strcmp(siov_fault_name(r->fault), "?") != 0;
    uint64_t ps = r->xlate.page_size;
    return r->kind != SIOV_TRACE_XLATE || (ps >= SIOV_PAGE_SIZE && !(ps & (ps - 1)));
}

static int write_locked(struct siov_trace *t, const struct siov_trace_rec *r)
{
    if (!representable(r))
        return -EINVAL;
    if (t->any && r->seq <= t->last_seq)
        return -EINVAL;
    if (t->binary) {
        uint8_t b[SIOV_TRACE_BIN_MAX];
        write_bytes(t, b, siov_trace_bin_encode(&t->bs, r, b));
    } else {
        char line[512];
        int n = siov_trace_format(r, line, sizeof(line) - 1);
        if (n < 0 || (size_t)n >= sizeof(line) - 1)
            return -EINVAL;
        line[n] = '\n';
        write_bytes(t, line, (size_t)n + 1);
    }
    t->any = true;
    t->last_seq = r->seq;
    t->count++;
    return t->werr;
}

int siov_trace_write(struct siov_trace *t, const struct siov_trace_rec *rec)
{
    if (!t || !rec)
        return -EINVAL;
    if (!t->writing)
        return -EBADF;
    pthread_mutex_lock(&t->lock);
    int rc = write_locked(t, rec);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

int siov_trace_record(struct siov_trace *t, const struct siov_trace_rec *rec)
{
    if (!t || !rec)
        return -EINVAL;
    if (!t->writing)
        return -EBADF;
    pthread_mutex_lock(&t->lock);
    struct siov_trace_rec r = *rec;
    r.seq = t->any ? t->last_seq + 1 : 0;
    int rc = write_locked(t, &r);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void siov_trace_hook(void *opaque, const struct siov_trace_rec *rec)
{
    struct siov_trace *t = opaque;
    int rc = siov_trace_record(t, rec);
    if (rc < 0 && t) { /* reported by siov_trace_close: the unit's caller cannot be told now */
        pthread_mutex_lock(&t->lock);
        if (!t->werr)
            t->werr = rc;
        pthread_mutex_unlock(&t->lock);
    }
}

/* ------------------------------------------------------------- opening */
static struct siov_trace *trace_new(FILE *f, bool own, const char *mode)
{
    bool w = !strcmp(mode, "w") || !strcmp(mode, "wb"), r = !strcmp(mode, "r") || !strcmp(mode, "rb");
    if (!f || (!w && !r)) {
        errno = EINVAL;
        return NULL;
    }
    struct siov_trace *t = calloc(1, sizeof(*t));
    if (!t || pthread_mutex_init(&t->lock, NULL)) {
        free(t);
        errno = ENOMEM;
        return NULL;
    }
    t->f = f;
    t->own = own;
    t->writing = w;
    t->binary = !strcmp(mode, "wb");
    if (w)
        write_header(t);
    return t;
}

static void trace_free(struct siov_trace *t)
{
    pthread_mutex_destroy(&t->lock);
    free(t->buf);
    free(t);
}

/* Reading: fill the buffer, tell the form apart, check the binary header. */
static int fill(struct siov_trace *t);

static int detect(struct siov_trace *t)
{
    while (!t->eof && t->end - t->start < SIOV_TRACE_BIN_HEADER)
        if (fill(t) < 0)
            return -1;
    size_t n = t->end - t->start;
    if (n >= SIOV_TRACE_BIN_MAGIC_LEN && !memcmp(t->buf + t->start, SIOV_TRACE_BIN_MAGIC, SIOV_TRACE_BIN_MAGIC_LEN)) {
        t->binary = true;
        if (n < SIOV_TRACE_BIN_HEADER)
            return snprintf(t->err, sizeof(t->err), "byte 0: binary trace header cut short"), -1;
        if (siov_trace_bin_check_header(t->buf + t->start, t->err, sizeof(t->err)))
            return -1;
        t->start += SIOV_TRACE_BIN_HEADER;
        t->offset = SIOV_TRACE_BIN_HEADER;
        t->header_done = true;
    }
    return 0;
}

struct siov_trace *siov_trace_open_stream(FILE *f, const char *mode)
{
    struct siov_trace *t = mode ? trace_new(f, false, mode) : NULL;
    if (!mode)
        errno = EINVAL;
    if (t && !t->writing && detect(t) < 0) {
        trace_free(t);
        errno = EINVAL;
        return NULL;
    }
    return t;
}

struct siov_trace *siov_trace_open(const char *path, const char *mode)
{
    if (!path || !mode || (strcmp(mode, "w") && strcmp(mode, "wb") && strcmp(mode, "r") && strcmp(mode, "rb"))) {
        errno = EINVAL;
        return NULL;
    }
    FILE *f = fopen(path, mode[0] == 'w' ? "wb" : "rb");
    if (!f)
        return NULL;
    struct siov_trace *t = siov_trace_open_stream(f, mode);
    if (!t) {
        int e = errno;
        fclose(f);
        errno = e;
        return NULL;
    }
    t->own = true;
    return t;
}

int siov_trace_close(struct siov_trace *t)
{
    if (!t)
        return 0;
    int rc = t->werr;
    if (t->writing && fflush(t->f) && !rc)
        rc = errno ? -errno : -EIO;
    if (t->own && fclose(t->f) && !rc && t->writing)
        rc = errno ? -errno : -EIO;
    trace_free(t);
    return rc;
}

/* ------------------------------------------------------------- reading */
/* More bytes into the buffer (compacting it first); 0, or -1 on a read error. */
static int fill(struct siov_trace *t)
{
    if (t->start) {
        memmove(t->buf, t->buf + t->start, t->end - t->start);
        t->end -= t->start;
        t->start = 0;
    }
    if (t->cap - t->end < READ_CHUNK) {
        uint8_t *nb = realloc(t->buf, t->cap + READ_CHUNK);
        if (!nb)
            return snprintf(t->err, sizeof(t->err), "out of memory"), -1;
        t->buf = nb;
        t->cap += READ_CHUNK;
    }
    size_t n = fread(t->buf + t->end, 1, t->cap - t->end - 1, t->f); /* one byte kept for a terminator */
    t->end += n;
    if (n == 0 && ferror(t->f))
        return snprintf(t->err, sizeof(t->err), "read error: %s", strerror(errno)), -1;
    if (n == 0)
        t->eof = true;
    return 0;
}

/* The next text line (terminated in the buffer), or NULL at the end (*rc 0)
   or on an error (*rc -EINVAL for a malformed line, -EIO when reading failed). */
static char *next_line(struct siov_trace *t, int *rc)
{
    for (;;) {
        uint8_t *s = t->buf + t->start, *nl = memchr(s, '\n', t->end - t->start);
        if (nl || (t->eof && t->end > t->start)) {
            size_t n = nl ? (size_t)(nl - s) : t->end - t->start;
            if (memchr(s, '\0', n))
                return *rc = -EINVAL, snprintf(t->err, sizeof(t->err), "line %u: a NUL byte in a text trace",
                                               t->lineno + 1), NULL;
            s[n] = '\0'; /* the newline, or the byte past the end: fill leaves room for it */
            t->start += nl ? n + 1 : n;
            t->lineno++;
            return (char *)s;
        }
        if (t->eof)
            return *rc = 0, NULL;
        if (t->end - t->start > LINE_MAX_LEN)
            return *rc = -EINVAL, snprintf(t->err, sizeof(t->err), "line %u: longer than %u bytes",
                                           t->lineno + 1, LINE_MAX_LEN), NULL;
        if (fill(t) < 0)
            return *rc = -EIO, NULL;
    }
}

/* Cut a '#' comment and trailing blanks; whether anything is left. */
static bool strip(char *s)
{
    char *c = strchr(s, '#');
    if (c)
        *c = '\0';
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    return s[strspn(s, " \t")] != '\0';
}

static int text_header(struct siov_trace *t, char *line)
{
    unsigned v;
    char tail;
    if (sscanf(line, " " SIOV_TRACE_TEXT_MAGIC " %u %c", &v, &tail) != 1)
        return snprintf(t->err, sizeof(t->err), "line %u: not a siov trace (the first line must be '"
                        SIOV_TRACE_TEXT_MAGIC " %d')", t->lineno, SIOV_TRACE_VERSION), -EINVAL;
    if (v != SIOV_TRACE_VERSION)
        return snprintf(t->err, sizeof(t->err), "line %u: trace version %u (this library reads %d)", t->lineno, v,
                        SIOV_TRACE_VERSION), -EINVAL;
    t->header_done = true;
    return 0;
}

static int read_text(struct siov_trace *t, struct siov_trace_rec *r)
{
    int rc = 0;
    char *line;
    while ((line = next_line(t, &rc)) != NULL) {
        if (!strip(line))
            continue;
        if (!t->header_done) {
            if ((rc = text_header(t, line)) < 0)
                return rc;
            continue;
        }
        char msg[200];
        if (siov_trace_parse(line, r, msg, sizeof(msg)) < 0)
            return snprintf(t->err, sizeof(t->err), "line %u: %s", t->lineno, msg), -EINVAL;
        return 1;
    }
    if (rc == 0 && !t->header_done)
        return snprintf(t->err, sizeof(t->err), "line %u: empty file: no '" SIOV_TRACE_TEXT_MAGIC "' line",
                        t->lineno), -EINVAL;
    return rc;
}

static int read_binary(struct siov_trace *t, struct siov_trace_rec *r)
{
    for (;;) {
        char msg[200];
        int n = siov_trace_bin_decode(&t->bs, t->buf + t->start, t->end - t->start, r, msg, sizeof(msg));
        if (n < 0)
            return snprintf(t->err, sizeof(t->err), "record %llu (byte %llu): %s", (unsigned long long)t->count,
                            (unsigned long long)t->offset, msg), -EINVAL;
        if (n > 0) {
            t->start += (size_t)n;
            t->offset += (uint64_t)n;
            return 1;
        }
        if (t->eof && t->end == t->start)
            return 0;
        if (t->eof)
            return snprintf(t->err, sizeof(t->err), "record %llu (byte %llu): cut short at the end of the file",
                            (unsigned long long)t->count, (unsigned long long)t->offset), -EINVAL;
        if (fill(t) < 0)
            return -EIO;
    }
}

int siov_trace_read(struct siov_trace *t, struct siov_trace_rec *rec)
{
    if (!t || !rec)
        return -EINVAL;
    if (t->writing)
        return -EBADF;
    if (t->failed)
        return -EINVAL; /* the error stays; reading on would misplace it */
    struct siov_trace_rec r;
    int rc = t->binary ? read_binary(t, &r) : read_text(t, &r);
    if (rc == 1 && t->any && r.seq <= t->last_seq) {
        if (t->binary)
            snprintf(t->err, sizeof(t->err), "record %llu: sequence number %llu does not follow %llu",
                     (unsigned long long)t->count, (unsigned long long)r.seq, (unsigned long long)t->last_seq);
        else
            snprintf(t->err, sizeof(t->err), "line %u: sequence number %llu does not follow %llu", t->lineno,
                     (unsigned long long)r.seq, (unsigned long long)t->last_seq);
        rc = -EINVAL;
    }
    if (rc < 0) {
        t->failed = true;
        return rc;
    }
    if (rc == 1) {
        t->any = true;
        t->last_seq = r.seq;
        t->count++;
        *rec = r;
    }
    return rc;
}

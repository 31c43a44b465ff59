/* siov-sim: the tokenizer and the parsers of values (numbers, requester ids,
   access flags, fault and errno names) and the names a scenario defines. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

/* ---------------------------------------------------------------- tokens */
static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Decode one escape at *p (after the backslash) into *dst; advances *p. */
static int decode_escape(struct sim *s, const char **p, char *dst, unsigned col)
{
    char c = **p;
    static const char from[] = "nrt0\\\"", to[] = "\n\r\t\0\\\"";
    const char *hit = c ? strchr(from, c) : NULL;
    if (hit) {
        *dst = to[hit - from];
        (*p)++;
        return 0;
    }
    if (c == 'x' && hexval((*p)[1]) >= 0 && hexval((*p)[2]) >= 0) {
        *dst = (char)(hexval((*p)[1]) << 4 | hexval((*p)[2]));
        *p += 3;
        return 0;
    }
    return sim_error(s, "bad escape '\\%c' in string at column %u (use \\n \\t \\r \\0 \\\\ \\\" \\xHH)",
                     c ? c : ' ', col);
}

/* A quoted string starting at *p (on the quote), decoded into *dst. */
static int scan_string(struct sim *s, const char *line, const char **p, char **dst)
{
    unsigned col = (unsigned)(*p - line) + 1;
    (*p)++;
    while (**p && **p != '"') {
        if (**p == '\\') {
            (*p)++;
            if (decode_escape(s, p, (*dst)++, (unsigned)(*p - line)) < 0)
                return -1;
        } else {
            *(*dst)++ = *(*p)++;
        }
    }
    if (**p != '"')
        return sim_error(s, "unterminated string (opened at column %u)", col);
    (*p)++;
    return 0;
}

static bool word_char(const char *p)
{
    char c = *p;
    return c && !isspace((unsigned char)c) && !strchr("#\"=&<>", c) && !(c == '!' && p[1] == '=');
}

/* Length of an operator token at p ('=', '&', '!=', '<', '>', '<=', '>='), 0 if none. */
static size_t op_len(const char *p)
{
    if (*p == '!' && p[1] == '=')
        return 2;
    if (*p == '<' || *p == '>')
        return p[1] == '=' ? 2 : 1;
    return (*p == '=' || *p == '&') ? 1 : 0;
}

/* Scan one token at p into ln; returns the position after it, NULL on error. */
static const char *scan_token(struct sim *s, const char *text, const char *p, struct sim_line *ln,
                              char **dst)
{
    if (ln->ntok == SIM_MAX_TOKENS) {
        sim_error(s, "too many words on the line (at most %d)", SIM_MAX_TOKENS);
        return NULL;
    }
    struct sim_tok *t = &ln->tok[ln->ntok++];
    t->col = (unsigned)(p - text) + 1;
    t->text = *dst;
    if (*p == '"') {
        t->kind = TOK_STRING;
        if (scan_string(s, text, &p, dst) < 0)
            return NULL;
    } else if (op_len(p)) {
        t->kind = *p == '=' ? TOK_EQ : *p == '&' ? TOK_AMP : TOK_OP;
        for (size_t n = op_len(p); n; n--)
            *(*dst)++ = *p++;
    } else {
        t->kind = TOK_WORD;
        while (word_char(p))
            *(*dst)++ = *p++;
    }
    t->len = (size_t)(*dst - t->text);
    *(*dst)++ = '\0';
    return p;
}

int sim_tokenize(struct sim *s, const char *text, struct sim_line *ln)
{
    size_t need = 2 * strlen(text) + 2;
    if (need > ln->cap) {
        char *nb = realloc(ln->buf, need);
        if (!nb)
            return sim_error(s, "out of memory");
        ln->buf = nb;
        ln->cap = need;
    }
    char *dst = ln->buf;
    ln->ntok = 0;
    const char *p = text;
    for (;;) {
        while (*p && isspace((unsigned char)*p))
            p++;
        if (!*p || *p == '#')
            return 0;
        p = scan_token(s, text, p, ln, &dst);
        if (!p)
            return -1;
    }
}

void sim_line_free(struct sim_line *ln)
{
    free(ln->buf);
    ln->buf = NULL;
    ln->cap = 0;
}

bool sim_tok_is(const struct sim_tok *t, const char *word)
{
    return t && t->kind == TOK_WORD && strcmp(t->text, word) == 0;
}

/* --------------------------------------------------------------- numbers */
/* Digits of text in base into *out; false on a bad digit or overflow. */
static bool parse_digits(const char *text, size_t len, unsigned base, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        int d = text[i] == '_' ? -2 : hexval(text[i]);
        if (d == -2)
            continue; /* digit separator */
        if (d < 0 || (unsigned)d >= base || v > (UINT64_MAX - (unsigned)d) / base)
            return false;
        v = v * base + (unsigned)d;
    }
    *out = v;
    return true;
}

/* The multiplier of a size suffix (K, M, G, T, optionally KiB...), 0 if none. */
static unsigned suffix_shift(const char *suf)
{
    static const char *const names[] = {"K", "M", "G", "T"};
    for (unsigned i = 0; i < 4; i++) {
        size_t n = strlen(suf);
        if (strncasecmp(suf, names[i], 1) == 0 &&
            (n == 1 || strcasecmp(suf + 1, "iB") == 0 || strcasecmp(suf + 1, "B") == 0))
            return 10 * (i + 1);
    }
    return 0;
}

/* One term of a number: a literal or a 'let' name. */
static int parse_term(struct sim *s, const struct sim_tok *t, const char *p, uint64_t *out)
{
    struct sim_name *n = isalpha((unsigned char)p[0]) ? sim_name_find(s, p) : NULL;
    if (n && (n->kind == NAME_NUMBER || n->kind == NAME_IRQ)) {
        *out = n->kind == NAME_IRQ ? n->msi.addr : n->num; /* an interrupt: its message address */
        return 0;
    }
    unsigned base = 10;
    if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
        base = 16, p += 2;
    else if (p[0] == '0' && (p[1] == 'b' || p[1] == 'B'))
        base = 2, p += 2;
    size_t len = strlen(p), dl = 0;
    while (dl < len && (hexval(p[dl]) >= 0 || p[dl] == '_') && !(base != 16 && isalpha((unsigned char)p[dl])))
        dl++;
    unsigned shift = dl < len ? suffix_shift(p + dl) : 0;
    uint64_t v;
    const char *digits = base == 2 ? "01_" : base == 10 ? "0123456789_" : "0123456789abcdefABCDEF_";
    if (dl == len && dl > 0 && strspn(p, digits) == len && !parse_digits(p, dl, base, &v))
        return sim_error(s, "number '%s' does not fit in 64 bits", t->text);
    if ((dl < len && !shift) || !parse_digits(p, dl, base, &v))
        return sim_error(s, "'%s' is not a number (decimal, 0x hex, 0b binary, K/M/G/T suffix, a name)", t->text);
    if (shift && v > (UINT64_MAX >> shift))
        return sim_error(s, "number '%s' does not fit in 64 bits", t->text);
    *out = v << shift;
    return 0;
}

int sim_parse_num(struct sim *s, const struct sim_tok *t, uint64_t *out)
{
    if (!t || t->kind != TOK_WORD)
        return sim_error(s, "expected a number%s%s%s", t ? " at '" : "", t ? t->text : "", t ? "'" : "");
    char term[64];
    uint64_t sum = 0;
    for (const char *p = t->text; *p;) { /* terms joined by '+': ptbl+0x80 */
        size_t n = strcspn(p, "+");
        uint64_t v = 0;
        if (n == 0 || n >= sizeof(term))
            return sim_error(s, "'%s' is not a number", t->text);
        memcpy(term, p, n);
        term[n] = '\0';
        if (parse_term(s, t, term, &v) < 0)
            return -1;
        if (v > UINT64_MAX - sum)
            return sim_error(s, "'%s' does not fit in 64 bits", t->text);
        sum += v;
        p += n + (p[n] == '+');
        if (p[-1] == '+' && !*p)
            return sim_error(s, "'%s' ends with '+'", t->text);
    }
    *out = sum;
    return 0;
}

/* ---------------------------------------------------------- requester ids */
/* bus:dev.fn in hex; false if text does not have that shape. */
static bool parse_bdf(const char *text, unsigned *bus, unsigned *dev, unsigned *fn, bool *shape)
{
    const char *colon = strchr(text, ':'), *dot = strrchr(text, '.');
    *shape = colon && dot && dot > colon;
    if (!*shape)
        return false;
    uint64_t b, d, f;
    if (!parse_digits(text, (size_t)(colon - text), 16, &b) ||
        !parse_digits(colon + 1, (size_t)(dot - colon - 1), 16, &d) ||
        !parse_digits(dot + 1, strlen(dot + 1), 16, &f))
        return false;
    if (b > 0xFF || d > 0x1F || f > 7)
        return false;
    *bus = (unsigned)b, *dev = (unsigned)d, *fn = (unsigned)f;
    return true;
}

int sim_parse_sid(struct sim *s, const struct sim_tok *t, siov_sid *out)
{
    if (!t || t->kind != TOK_WORD)
        return sim_error(s, "expected a requester id (bus:dev.fn)%s%s%s", t ? " at '" : "",
                         t ? t->text : "", t ? "'" : "");
    struct sim_name *n = sim_name_find(s, t->text);
    if (n && n->kind == NAME_DEVICE) {
        *out = n->sid;
        return 0;
    }
    unsigned bus, dev, fn;
    bool shape;
    if (parse_bdf(t->text, &bus, &dev, &fn, &shape)) {
        *out = SIOV_SID(bus, dev, fn);
        return 0;
    }
    if (shape)
        return sim_error(s, "bad requester id '%s' (bus 00-ff, device 00-1f, function 0-7, in hex)",
                         t->text);
    uint64_t v;
    if (sim_parse_num(s, t, &v) < 0)
        return sim_error(s, "'%s' is not a requester id (bus:dev.fn, a number or a device name)", t->text);
    if (v > 0xFFFF)
        return sim_error(s, "requester id %s is above 0xffff", t->text);
    *out = (siov_sid)v;
    return 0;
}

/* -------------------------------------------------------- access flags */
struct flag_word {
    const char *name;
    unsigned bits;
    bool prot_ok;
};
static const struct flag_word flag_words[] = {
    {"read", SIOV_ACCESS_READ, true},   {"write", SIOV_ACCESS_WRITE, true},
    {"exec", SIOV_ACCESS_EXEC, true},   {"priv", SIOV_ACCESS_PRIV, true},
    {"ats", SIOV_ACCESS_ATS_REQ, false}, {"translated", SIOV_ACCESS_TRANSLATED, false},
    {"nw", SIOV_ACCESS_NO_WRITE, false}, {"none", 0, true},
};

/* One piece of an access list: a word above, or letters from r, w, x. */
static int access_piece(const char *p, size_t n, bool prot, unsigned *bits)
{
    for (size_t i = 0; i < sizeof(flag_words) / sizeof(flag_words[0]); i++)
        if (strlen(flag_words[i].name) == n && strncmp(p, flag_words[i].name, n) == 0) {
            if (prot && !flag_words[i].prot_ok)
                return -1;
            *bits |= flag_words[i].bits;
            return 0;
        }
    for (size_t i = 0; i < n; i++) {
        const char *hit = strchr("rwx", p[i]);
        if (!hit || !p[i])
            return -1;
        *bits |= 1u << (hit - "rwx");
    }
    return n ? 0 : -1;
}

int sim_parse_access(struct sim *s, const struct sim_tok *t, bool prot, unsigned *out)
{
    unsigned bits = 0;
    const char *p = t->text;
    while (t->kind == TOK_WORD) {
        size_t n = strcspn(p, ",+");
        if (access_piece(p, n, prot, &bits) < 0)
            break;
        if (!p[n]) {
            *out = bits;
            return 0;
        }
        p += n + 1;
    }
    return sim_error(s, "bad %s '%s' (%s)", prot ? "permission" : "access", t->text,
                     prot ? "letters r w x, or words read write exec priv, joined by , or +"
                          : "letters r w x, or words read write exec priv ats translated nw, joined by , or +");
}

int sim_parse_bool(struct sim *s, const struct sim_tok *t, bool *out)
{
    static const char *const yes[] = {"on", "true", "yes", "1"}, *const no[] = {"off", "false", "no", "0"};
    for (int i = 0; i < 4; i++) {
        if (sim_tok_is(t, yes[i]))
            return *out = true, 0;
        if (sim_tok_is(t, no[i]))
            return *out = false, 0;
    }
    return sim_error(s, "'%s' is not on/off (or true/false, yes/no, 1/0)", t->text);
}

/* ----------------------------------------------------- fault and errno names */
int sim_fault_by_name(const char *name, siov_fault *out)
{
    /* either terminology: SSL.2 or its rev 3.4+ name SSS.2 */
    return siov_fault_from_name(name, out) == 0 ? 0 : -1;
}

struct errno_name {
    const char *name;
    int value;
};
static const struct errno_name errno_names[] = {
    {"EINVAL", EINVAL}, {"ENOMEM", ENOMEM}, {"EBUSY", EBUSY},   {"ENOSPC", ENOSPC},
    {"ENOENT", ENOENT}, {"EEXIST", EEXIST}, {"EFAULT", EFAULT}, {"ENODEV", ENODEV},
    {"EPERM", EPERM},   {"EIO", EIO},       {"ERANGE", ERANGE}, {"EAGAIN", EAGAIN},
    {"ENOTSUP", ENOTSUP}, {"ETIMEDOUT", ETIMEDOUT}, {"E2BIG", E2BIG}, {"EOVERFLOW", EOVERFLOW},
};

int sim_errno_by_name(const char *name, int *out)
{
    for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
        if (strcmp(errno_names[i].name, name) == 0) {
            *out = -errno_names[i].value;
            return 0;
        }
    return -1;
}

const char *sim_errno_name(int err)
{
    for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
        if (errno_names[i].value == -err)
            return errno_names[i].name;
    return "E?";
}

/* ------------------------------------------------------------ formatting */
char *sim_quote(const uint8_t *b, size_t len)
{
    char *q = malloc(4 * len + 3), *o = q;
    if (!q)
        return NULL;
    *o++ = '"';
    for (size_t i = 0; i < len; i++) {
        static const char esc_from[] = "\n\r\t\\\"", esc_to[] = "nrt\\\"";
        const char *e = b[i] ? strchr(esc_from, b[i]) : NULL;
        if (e)
            *o++ = '\\', *o++ = esc_to[e - esc_from];
        else if (b[i] >= 0x20 && b[i] < 0x7F)
            *o++ = (char)b[i];
        else
            o += sprintf(o, "\\x%02x", b[i]);
    }
    *o++ = '"';
    *o = '\0';
    return q;
}

void sim_join_tokens(const struct sim_tok *t, unsigned n, char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && o < len; i++) {
        char *q = t[i].kind == TOK_STRING ? sim_quote((const uint8_t *)t[i].text, t[i].len) : NULL;
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? " " : "", q ? q : t[i].text);
        free(q);
    }
}

const char *sim_fmt_sid(siov_sid sid, char buf[16])
{
    snprintf(buf, 16, "%02x:%02x.%x", SIOV_SID_BUS(sid), SIOV_SID_DEVFN(sid) >> 3, sid & 7);
    return buf;
}

const char *sim_fmt_pasid(uint32_t pasid, char buf[24])
{
    if (pasid == SIOV_NO_PASID)
        snprintf(buf, 24, "nopasid");
    else
        snprintf(buf, 24, "pasid %u", pasid);
    return buf;
}

const char *sim_fmt_access(unsigned access, char buf[48])
{
    bool rwx = access & (SIOV_ACCESS_READ | SIOV_ACCESS_WRITE | SIOV_ACCESS_EXEC);
    snprintf(buf, 48, "%s%s%s%s%s%s%s%s", (access & SIOV_ACCESS_READ) ? "r" : "",
             (access & SIOV_ACCESS_WRITE) ? "w" : "", (access & SIOV_ACCESS_EXEC) ? "x" : "",
             (access & SIOV_ACCESS_PAGE_REQ) ? (rwx ? "+page-request" : "page-request") : "",
             (access & SIOV_ACCESS_PRIV) ? "+priv" : "", (access & SIOV_ACCESS_ATS_REQ) ? "+ats" : "",
             (access & SIOV_ACCESS_TRANSLATED) ? "+translated" : "", (access & SIOV_ACCESS_NO_WRITE) ? "+nw" : "");
    if (!buf[0])
        snprintf(buf, 48, "none");
    return buf;
}

const char *sim_fmt_size(uint64_t size, char buf[24])
{
    static const char units[] = "KMGT";
    int u = -1;
    while (u < 3 && size >= 1024 && size % 1024 == 0)
        size /= 1024, u++;
    if (u < 0)
        snprintf(buf, 24, "%llu", (unsigned long long)size);
    else
        snprintf(buf, 24, "%llu%c", (unsigned long long)size, units[u]);
    return buf;
}

/* ----------------------------------------------------------------- names */
struct sim_name *sim_name_find(struct sim *s, const char *name)
{
    for (unsigned i = 0; i < s->nnames; i++)
        if (strcmp(s->names[i].name, name) == 0)
            return &s->names[i];
    return NULL;
}

/* A name starts with a letter and holds letters, digits, '_' and '-'. */
static bool valid_name(const char *p)
{
    if (!isalpha((unsigned char)*p))
        return false;
    for (; *p; p++)
        if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-')
            return false;
    return true;
}

/* Why a word cannot be a name (a command, or a word the argument parsers
   read), or NULL. */
static const char *reserved_word(const char *w)
{
    if (strcmp(w, "pasid") == 0 || strcmp(w, "nopasid") == 0)
        return "it introduces a request's PASID";
    return sim_cmd_find(w) ? "the name of a command" : NULL;
}

int sim_name_check(struct sim *s, const struct sim_tok *t)
{
    const char *why = t->kind == TOK_WORD ? reserved_word(t->text) : NULL;
    if (why)
        return sim_error(s, "'%s' is a reserved word (%s)", t->text, why);
    if (sim_name_find(s, t->text))
        return sim_error(s, "name '%s' is already taken", t->text);
    return 0;
}

struct sim_name *sim_name_add(struct sim *s, const struct sim_tok *t, enum sim_name_kind kind)
{
    if (t->kind != TOK_WORD || !valid_name(t->text) || t->len >= SIM_NAME_LEN) {
        sim_error(s, "bad name '%s' (a letter, then letters, digits, _ or -; at most %d characters)",
                  t->text, SIM_NAME_LEN - 1);
        return NULL;
    }
    if (sim_name_check(s, t) < 0)
        return NULL;
    if (s->nnames == SIM_MAX_NAMES) {
        sim_error(s, "too many names (at most %d)", SIM_MAX_NAMES);
        return NULL;
    }
    struct sim_name *n = &s->names[s->nnames++];
    memset(n, 0, sizeof(*n));
    memcpy(n->name, t->text, t->len + 1);
    n->kind = kind;
    return n;
}

/* Streaming multipart/form-data scanner; see multipart.h.
 *
 * The body is scanned for the delimiter "\r\n--" BOUNDARY. Before the first
 * part the scanner behaves as if a CRLF preceded the input, so "--BOUNDARY"
 * at offset 0 matches and the preamble is simply body data thrown away.
 * Delimiters are found with memmem; body data is handed out as pointers into the
 * caller's buffer; a possible delimiter start at the end of a piece (at most
 * delimiter length - 1 bytes) is held back in a carry buffer. Boundaries
 * never contain CR, so a carry holds one CR only, at its start: when it turns
 * out not to be a delimiter, it is all data. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE   /* memmem */
#endif
#include "multipart.h"
#include "filename.h"
#include "encode.h"
#include "utf8.h"

#include <apr_general.h>
#include <apr_strings.h>

#include <string.h>

#define DELIM_MAX (RC_MP_BOUNDARY_MAX + 4)

typedef enum {
    S_PREAMBLE,     /* before the first delimiter: data discarded */
    S_BODY,         /* in a part's body */
    S_AFTER,        /* just after a delimiter: "--", padding or line end */
    S_AFTER_DASH,   /* one '-' seen */
    S_AFTER_PAD,    /* transport padding (spaces, tabs) */
    S_AFTER_CR,     /* CR of the boundary line seen */
    S_HEADERS,      /* a part's header block */
    S_DONE,         /* closing delimiter seen: the epilogue is ignored */
    S_FAILED
} mp_state;

struct rc_mp {
    rc_mp_part_fn on_part;
    rc_mp_data_fn on_data;
    rc_mp_end_fn on_part_end;
    void *ctx;

    char delim[DELIM_MAX];   /* "\r\n--" boundary */
    size_t dlen;
    char carry[DELIM_MAX];   /* a held-back proper prefix of delim */
    size_t clen;

    mp_state state;
    int in_part;
    int rc;
    const char *err;

    char *hbuf;              /* raw header block (+1 for a NUL) */
    size_t hlen, hline;      /* bytes held, start of the current line */
    char *vbuf;              /* decoded parameter values */
    size_t vlen;
};

/* ---- boundaries ------------------------------------------------------------- */

/* RFC 2046 bchars plus the other visible ASCII characters some clients use;
 * never CR, LF or a control character (the scanner relies on that). */
static int boundary_valid(const char *b, size_t n)
{
    size_t i;

    if (n < 1 || n > RC_MP_BOUNDARY_MAX || b[n - 1] == ' ') {
        return 0;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)b[i];
        if (c < 0x20 || c > 0x7e) {
            return 0;
        }
    }
    return 1;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t';
}

static const char *skip_ws(const char *s)
{
    while (is_ws(*s)) {
        s++;
    }
    return s;
}

const char *rc_mp_boundary(apr_pool_t *p, const char *ct)
{
    static const char mt[] = "multipart/form-data";
    const char *s;

    if (!ct) {
        return NULL;
    }
    s = skip_ws(ct);
    if (strncasecmp(s, mt, sizeof(mt) - 1) != 0) {
        return NULL;
    }
    s = skip_ws(s + sizeof(mt) - 1);
    if (*s && *s != ';') {
        return NULL;   /* e.g. multipart/form-datax */
    }
    while (*s == ';') {
        const char *name, *v;
        size_t nlen;
        char *val = NULL;

        s = skip_ws(s + 1);
        name = s;
        while (*s && *s != '=' && *s != ';' && !is_ws(*s)) {
            s++;
        }
        nlen = (size_t)(s - name);
        s = skip_ws(s);
        if (*s != '=') {
            if (*s && *s != ';') {
                return NULL;
            }
            continue;   /* a parameter without value: ignored */
        }
        s = skip_ws(s + 1);
        if (*s == '"') {
            char *o;
            v = ++s;
            o = val = apr_palloc(p, strlen(v) + 1);
            while (*s && *s != '"') {
                if (*s == '\\' && s[1]) {
                    s++;
                }
                *o++ = *s++;
            }
            if (*s != '"') {
                return NULL;   /* unterminated quoted-string */
            }
            *o = '\0';
            s = skip_ws(s + 1);
            if (*s && *s != ';') {
                return NULL;
            }
        }
        else {
            const char *e;
            v = s;
            while (*s && *s != ';') {
                s++;
            }
            e = s;
            while (e > v && is_ws(e[-1])) {
                e--;
            }
            val = apr_pstrmemdup(p, v, (apr_size_t)(e - v));
        }
        if (nlen == 8 && strncasecmp(name, "boundary", 8) == 0) {
            return boundary_valid(val, strlen(val)) ? val : NULL;
        }
    }
    return NULL;
}

/* ---- the scanner ------------------------------------------------------------ */

rc_mp *rc_mp_create(apr_pool_t *p, const char *boundary, rc_mp_part_fn on_part,
                    rc_mp_data_fn on_data, rc_mp_end_fn on_part_end, void *ctx)
{
    rc_mp *m;
    size_t blen;

    if (!boundary || !boundary_valid(boundary, blen = strlen(boundary))) {
        return NULL;
    }
    m = apr_pcalloc(p, sizeof(*m));
    m->on_part = on_part;
    m->on_data = on_data;
    m->on_part_end = on_part_end;
    m->ctx = ctx;
    memcpy(m->delim, "\r\n--", 4);
    memcpy(m->delim + 4, boundary, blen);
    m->dlen = blen + 4;
    /* The virtual CRLF before the input: "--boundary" may open the body. */
    memcpy(m->carry, "\r\n", 2);
    m->clen = 2;
    m->state = S_PREAMBLE;
    m->hbuf = apr_palloc(p, RC_MP_HEADERS_MAX + 1);
    m->vbuf = apr_palloc(p, 2 * RC_MP_HEADERS_MAX + 64);   /* see vput() */
    return m;
}

static int fail(rc_mp *m, int rc, const char *why)
{
    m->state = S_FAILED;
    m->rc = rc;
    m->err = why;
    return rc;
}

static int cb_fail(rc_mp *m, int rc)
{
    return fail(m, rc, "stopped by the application");
}

static int emit(rc_mp *m, const char *buf, size_t len)
{
    int rc;

    if (len && m->state == S_BODY && m->on_data
        && (rc = m->on_data(m->ctx, buf, len)) != 0) {
        return cb_fail(m, rc);
    }
    return 0;
}

static int delimiter_found(rc_mp *m)
{
    int rc;

    if (m->in_part) {
        m->in_part = 0;
        if (m->on_part_end && (rc = m->on_part_end(m->ctx)) != 0) {
            return cb_fail(m, rc);
        }
    }
    m->state = S_AFTER;
    return 0;
}

/* Scans body (or preamble) bytes up to and including the next delimiter.
 * Returns the bytes consumed; on a callback's abort m->state is S_FAILED. */
static size_t scan_body(rc_mp *m, const char *buf, size_t len)
{
    const char *d = m->delim, *cr;
    const void *hit;
    size_t dlen = m->dlen, tail;

    if (m->clen) {
        size_t need = dlen - m->clen, n = len < need ? len : need;

        if (memcmp(buf, d + m->clen, n) == 0) {
            if (n < need) {
                memcpy(m->carry + m->clen, buf, n);
                m->clen += n;
                return len;
            }
            m->clen = 0;
            delimiter_found(m);
            return n;
        }
        /* The carry holds one CR, at its start: it is all data. */
        n = m->clen;
        m->clen = 0;
        if (emit(m, m->carry, n)) {
            return len;
        }
    }
    tail = len > dlen - 1 ? len - (dlen - 1) : 0;
    /* glibc's memmem (two-way / hashed search) keeps several GB/s even on
     * CR-dense or "\r\n--"-dense data, where a memchr('\r') loop drops to
     * a few hundred MB/s. */
    hit = memmem(buf, len, d, dlen);
    if (hit) {
        size_t i = (size_t)((const char *)hit - buf);
        if (emit(m, buf, i)) {
            return len;
        }
        delimiter_found(m);
        return i + dlen;
    }
    /* No whole delimiter: a proper prefix of it may start in the last
     * dlen - 1 bytes, at a CR (the delimiter's only one). */
    for (cr = memchr(buf + tail, '\r', len - tail); cr;
         cr = memchr(cr + 1, '\r', len - (size_t)(cr + 1 - buf))) {
        size_t i = (size_t)(cr - buf);
        if (memcmp(cr, d, len - i) == 0) {
            if (emit(m, buf, i)) {
                return len;
            }
            memcpy(m->carry, cr, len - i);
            m->clen = len - i;
            return len;
        }
        if (cr + 1 == buf + len) {
            break;
        }
    }
    emit(m, buf, len);
    return len;
}

/* ---- part headers ----------------------------------------------------------- */

static char *vput(rc_mp *m, const char *s, size_t n)
{
    char *o = m->vbuf + m->vlen;

    /* Every parameter value is stored once, no longer than it was raw, and
     * one filename* is decoded once more (never longer than raw either):
     * vbuf's 2 * RC_MP_HEADERS_MAX bytes always suffice. */
    memcpy(o, s, n);
    o[n] = '\0';
    m->vlen += n + 1;
    return o;
}

/* RFC 5987 ext-value (charset'lang'pct-encoded) decoded to UTF-8, or NULL
 * when the charset is unknown or the encoding invalid (filename then wins). */
static const char *decode_ext_value(rc_mp *m, const char *v)
{
    const char *q1 = strchr(v, '\''), *q2, *s;
    char *out, *o;
    int latin1;

    if (!q1 || !(q2 = strchr(q1 + 1, '\''))) {
        return NULL;
    }
    if ((size_t)(q1 - v) == 5 && strncasecmp(v, "UTF-8", 5) == 0) {
        latin1 = 0;
    }
    else if ((size_t)(q1 - v) == 10 && strncasecmp(v, "ISO-8859-1", 10) == 0) {
        latin1 = 1;
    }
    else {
        return NULL;
    }
    out = o = m->vbuf + m->vlen;
    for (s = q2 + 1; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '%') {
            int hi = rc_hex_value(s[1]), lo = hi < 0 ? -1 : rc_hex_value(s[2]);
            if (lo < 0) {
                return NULL;
            }
            c = (unsigned char)(hi * 16 + lo);
            if (!c) {
                return NULL;
            }
            s += 2;
        }
        else if (c >= 0x80 || c < 0x21) {
            return NULL;   /* only attr-chars may appear unencoded */
        }
        if (latin1 && c >= 0x80) {
            /* %XX (3 raw bytes) becomes 2: the output never outgrows the input */
            o += rc_utf8_put(c, o);
        }
        else {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    m->vlen += (size_t)(o - out) + 1;
    return out;
}

/* Content-Disposition: form-data; name="…"; filename="…"; filename*=… */
static int parse_disposition(rc_mp *m, const char *s, const char **name,
                             const char **filename)
{
    const char *t = s, *fstar = NULL;

    while (*s && *s != ';' && !is_ws(*s)) {
        s++;
    }
    if ((size_t)(s - t) != 9 || strncasecmp(t, "form-data", 9) != 0) {
        return fail(m, RC_MP_ERROR, "part is not form-data");
    }
    for (;;) {
        const char *pn, *val;
        size_t pnlen;

        s = skip_ws(s);
        if (!*s) {
            break;
        }
        if (*s != ';') {
            return fail(m, RC_MP_ERROR, "malformed Content-Disposition");
        }
        s = skip_ws(s + 1);
        if (!*s) {
            break;
        }
        pn = s;
        while (*s && *s != '=' && *s != ';' && !is_ws(*s)) {
            s++;
        }
        pnlen = (size_t)(s - pn);
        s = skip_ws(s);
        if (*s != '=') {
            continue;   /* a parameter without a value: ignored */
        }
        s = skip_ws(s + 1);
        if (*s == '"') {
            /* quoted-string: \" and \\ are escapes; any other backslash is
             * kept, as old browsers send unescaped Windows paths. */
            char *o = m->vbuf + m->vlen;
            val = o;
            for (s++; *s && *s != '"'; s++) {
                if (*s == '\\' && (s[1] == '"' || s[1] == '\\')) {
                    s++;
                }
                *o++ = *s;
            }
            if (*s != '"') {
                return fail(m, RC_MP_ERROR, "unterminated quoted-string in Content-Disposition");
            }
            *o = '\0';
            m->vlen += (size_t)(o - val) + 1;
            s++;
        }
        else {
            const char *v = s, *e;
            while (*s && *s != ';') {
                s++;
            }
            for (e = s; e > v && is_ws(e[-1]); e--) {
            }
            val = vput(m, v, (size_t)(e - v));
        }
        /* The first of duplicated parameters wins. */
        if (pnlen == 4 && strncasecmp(pn, "name", 4) == 0) {
            if (!*name) {
                *name = val;
            }
        }
        else if (pnlen == 8 && strncasecmp(pn, "filename", 8) == 0) {
            if (!*filename) {
                *filename = val;
            }
        }
        else if (pnlen == 9 && strncasecmp(pn, "filename*", 9) == 0) {
            if (!fstar) {
                fstar = decode_ext_value(m, val);
            }
        }
    }
    if (fstar) {
        *filename = fstar;
    }
    if (!*name) {
        return fail(m, RC_MP_ERROR, "part without a field name");
    }
    return 0;
}

/* The header block (without its final empty line) is in hbuf[0..hlen). */
static int headers_done(rc_mp *m)
{
    char *h = m->hbuf, *end = m->hbuf + m->hlen, *line;
    const char *disp = NULL, *ctype = NULL, *name = NULL, *filename = NULL;
    size_t i;
    int rc;

    *end = '\0';
    m->vlen = 0;
    /* Unfold obsolete line folding (a line starting with SP/HT continues the
     * previous one); reject NUL and CR anywhere but before LF. */
    for (i = 0; i < m->hlen; i++) {
        if (h[i] == '\0' || (h[i] == '\r' && (i + 1 == m->hlen || h[i + 1] != '\n'))) {
            return fail(m, RC_MP_ERROR, "malformed part header");
        }
        if (h[i] == '\n' && i + 1 < m->hlen && is_ws(h[i + 1])) {
            h[i] = ' ';
            if (i && h[i - 1] == '\r') {
                h[i - 1] = ' ';
            }
        }
    }
    if (m->hlen && is_ws(h[0])) {
        return fail(m, RC_MP_ERROR, "malformed part header");
    }
    for (line = h; line < end;) {
        char *nl = memchr(line, '\n', (size_t)(end - line)), *colon, *ne, *v, *ve;

        if (!nl) {
            nl = end;   /* cannot happen: every line ends with LF */
        }
        ve = nl;
        if (ve > line && ve[-1] == '\r') {
            ve--;
        }
        *ve = '\0';
        colon = memchr(line, ':', (size_t)(ve - line));
        if (!colon) {
            return fail(m, RC_MP_ERROR, "malformed part header");
        }
        for (ne = colon; ne > line && is_ws(ne[-1]); ne--) {
        }
        if (ne == line) {
            return fail(m, RC_MP_ERROR, "malformed part header");
        }
        v = (char *)skip_ws(colon + 1);
        while (ve > v && is_ws(ve[-1])) {
            *--ve = '\0';
        }
        if ((size_t)(ne - line) == 19 && strncasecmp(line, "Content-Disposition", 19) == 0) {
            if (disp) {
                return fail(m, RC_MP_ERROR, "duplicate Content-Disposition");
            }
            disp = v;
        }
        else if ((size_t)(ne - line) == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
            if (!ctype) {
                ctype = v;
            }
        }
        line = nl + 1;
    }
    if (!disp) {
        return fail(m, RC_MP_ERROR, "part without Content-Disposition");
    }
    if (parse_disposition(m, disp, &name, &filename)) {
        return m->rc;
    }
    if (ctype && !*ctype) {
        ctype = NULL;
    }
    m->state = S_BODY;
    m->in_part = 1;
    if (m->on_part && (rc = m->on_part(m->ctx, name, filename, ctype)) != 0) {
        return cb_fail(m, rc);
    }
    return 0;
}

/* ---- feeding ---------------------------------------------------------------- */

/* One byte of the rest of a boundary line ("--", padding, CRLF). 0 to go
 * on, 1 at the closing boundary, -1 on a malformed line. */
static int boundary_line_byte(rc_mp *m, char c)
{
    switch (m->state) {
    case S_AFTER:
        if (c == '-') {
            m->state = S_AFTER_DASH;
        }
        else if (is_ws(c)) {
            m->state = S_AFTER_PAD;
        }
        else if (c == '\r') {
            m->state = S_AFTER_CR;
        }
        else if (c == '\n') {
            m->state = S_HEADERS;
        }
        else {
            return -1;
        }
        return 0;
    case S_AFTER_DASH:
        if (c != '-') {
            return -1;
        }
        m->state = S_DONE;
        return 1;
    case S_AFTER_PAD:
        if (c == '\r') {
            m->state = S_AFTER_CR;
        }
        else if (c == '\n') {
            m->state = S_HEADERS;
        }
        else if (!is_ws(c)) {
            return -1;
        }
        return 0;
    default:        /* S_AFTER_CR */
        if (c != '\n') {
            return -1;
        }
        m->state = S_HEADERS;
        return 0;
    }
}

/* One byte of a part's header block; an empty line ends it. RC_MP_OK, or
 * the parser's failure. */
static int header_byte(rc_mp *m, char c)
{
    if (c == '\n') {
        size_t ll = m->hlen - m->hline;
        if (ll == 0 || (ll == 1 && m->hbuf[m->hline] == '\r')) {
            m->hlen = m->hline;   /* the empty line ends the block */
            if (headers_done(m)) {
                return m->rc;
            }
            m->hlen = m->hline = 0;
            return RC_MP_OK;
        }
    }
    if (m->hlen >= RC_MP_HEADERS_MAX) {
        return fail(m, RC_MP_ERROR, "part headers too large");
    }
    m->hbuf[m->hlen++] = c;
    if (c == '\n') {
        m->hline = m->hlen;
    }
    return RC_MP_OK;
}

int rc_mp_feed(rc_mp *m, const char *buf, size_t len)
{
    size_t pos = 0;

    while (pos < len) {
        char c;
        int rv;

        switch (m->state) {
        case S_PREAMBLE:
        case S_BODY:
            pos += scan_body(m, buf + pos, len - pos);
            continue;
        case S_DONE:
            return RC_MP_OK;
        case S_FAILED:
            return m->rc;
        default:
            break;
        }
        c = buf[pos++];
        if (m->state == S_HEADERS) {
            if ((rv = header_byte(m, c)) != RC_MP_OK) {
                return rv;
            }
            continue;
        }
        if ((rv = boundary_line_byte(m, c)) < 0) {
            return fail(m, RC_MP_ERROR, "malformed boundary line");
        }
        if (rv > 0) {
            return RC_MP_OK;
        }
    }
    return m->state == S_FAILED ? m->rc : RC_MP_OK;
}

int rc_mp_finish(rc_mp *m)
{
    switch (m->state) {
    case S_DONE:
        return RC_MP_OK;
    case S_FAILED:
        return m->rc;
    default:
        return fail(m, RC_MP_ERROR, m->state == S_PREAMBLE ? "no multipart boundary in the body"
                                                           : "truncated body");
    }
}

int rc_mp_done(const rc_mp *m)
{
    return m->state == S_DONE;
}

const char *rc_mp_error(const rc_mp *m)
{
    return m->state == S_FAILED ? m->err : NULL;
}

/* ---- file names ------------------------------------------------------------- */

/* Controls, and invisible format characters (bidi overrides and the like,
 * filename.c's rule for every name shown as a file name). */
static int drop_cp(apr_uint32_t cp)
{
    return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) || rc_is_format_char(cp);
}

#define NAME_MAX_BYTES 255
#define EXT_MAX_BYTES  32

const char *rc_mp_clean_filename(apr_pool_t *p, const char *raw)
{
    const char *base, *s;
    char *out, *o, *dot;
    size_t n, len, b, e;

    if (!raw) {
        return "file";
    }
    for (base = s = raw; *s; s++) {
        if (*s == '/' || *s == '\\') {
            base = s + 1;
        }
    }
    n = strlen(base);
    out = o = apr_palloc(p, n * 3 + 1);   /* each invalid byte may become 3 */
    for (s = base; *s;) {
        apr_uint32_t cp;
        size_t l = rc_utf8_decode((const unsigned char *)s, (size_t)(base + n - s), &cp);
        if (!l) {
            memcpy(o, "\xef\xbf\xbd", 3);   /* U+FFFD */
            o += 3;
            s++;
            continue;
        }
        if (!drop_cp(cp)) {
            memcpy(o, s, l);
            o += l;
        }
        s += l;
    }
    len = (size_t)(o - out);
    for (b = 0; b < len && (out[b] == '.' || out[b] == ' '); b++) {
    }
    for (e = len; e > b && (out[e - 1] == '.' || out[e - 1] == ' '); e--) {
    }
    memmove(out, out + b, e - b);
    len = e - b;
    out[len] = '\0';
    if (len > NAME_MAX_BYTES) {
        /* Keep a short extension: stem cut on a character boundary. */
        size_t ext = 0, stem;
        dot = strrchr(out, '.');
        if (dot && (size_t)(out + len - dot) <= EXT_MAX_BYTES) {
            ext = (size_t)(out + len - dot);
        }
        stem = rc_utf8_floor(out, NAME_MAX_BYTES - ext);   /* out is valid UTF-8 */
        while (stem > 0 && (out[stem - 1] == '.' || out[stem - 1] == ' ')) {
            stem--;
        }
        memmove(out + stem, out + len - ext, ext);
        len = stem + ext;
        out[len] = '\0';
        if (!stem && ext) {
            memmove(out, out + 1, ext);   /* no stem left: drop the dot */
            len = ext - 1;
        }
    }
    return len ? out : "file";
}

/* ---- re-encoding -------------------------------------------------------------- */

/* A quoted-string body: \ and " escaped, control characters dropped. */
static char *quote(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) * 2 + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f) {
            continue;
        }
        if (c == '"' || c == '\\') {
            *o++ = '\\';
        }
        *o++ = (char)c;
    }
    *o = '\0';
    return out;
}

static char *no_controls(apr_pool_t *p, const char *s)
{
    char *out = apr_palloc(p, strlen(s) + 1), *o = out;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c >= 0x20 && c != 0x7f) {
            *o++ = (char)c;
        }
    }
    *o = '\0';
    return out;
}

const char *rc_mp_part_head(apr_pool_t *p, const char *boundary, const char *field,
                            const char *filename, const char *ctype)
{
    return apr_pstrcat(p, "\r\n--", boundary, "\r\n",
                       "Content-Disposition: form-data; name=\"", quote(p, field ? field : ""),
                       "\"",
                       filename ? "; filename=\"" : "", filename ? quote(p, filename) : "",
                       filename ? "\"" : "", "\r\n",
                       ctype ? "Content-Type: " : "", ctype ? no_controls(p, ctype) : "",
                       ctype ? "\r\n" : "", "\r\n", NULL);
}

const char *rc_mp_tail(apr_pool_t *p, const char *boundary)
{
    return apr_pstrcat(p, "\r\n--", boundary, "--\r\n", NULL);
}

char *rc_mp_new_boundary(apr_pool_t *p)
{
    static unsigned long counter;
    unsigned char r[16];
    char *b = apr_palloc(p, 11 + 32 + 1);
    int i;

    if (apr_generate_random_bytes(r, sizeof(r)) != APR_SUCCESS) {
        /* Never expected on Linux; still unique enough not to collide. */
        apr_time_t t = apr_time_now();
        unsigned long c = ++counter;
        for (i = 0; i < 16; i++) {
            r[i] = (unsigned char)((t >> (8 * (i % 8))) ^ (c >> (8 * (i % 4))) ^ (i * 131));
        }
    }
    memcpy(b, "----RagChat", 11);
    *rc_hex_encode(b + 11, r, sizeof(r)) = '\0';
    return b;
}

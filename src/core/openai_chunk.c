/* Decoding of OpenAI chat-completion chunks (see openai_chunk.h). */
#include "openai_chunk.h"
#include "encode.h"
#include "json.h"
#include "utf8.h"

#include <apr_strings.h>
#include <string.h>

static int is_done_marker(const char *d, size_t n)
{
    while (n && (d[n - 1] == ' ' || d[n - 1] == '\t')) {
        n--;
    }
    while (n && (*d == ' ' || *d == '\t')) {
        d++;
        n--;
    }
    return n == 6 && memcmp(d, "[DONE]", 6) == 0;
}


/* ---- fast path for the usual chunk ---------------------------------------
 * Nearly every chunk is {"id":…,"choices":[{"index":0,"delta":{"content":"…"}}]}.
 * Building a jansson tree for each costs more than the rest of the relay, so a
 * validating scanner walks the text without allocating, and extracts
 * choices[0].delta.content. Anything it does not vouch for (an "error" member,
 * odd shapes) is left to the jansson path below, which also gives the message. */

typedef struct {
    const char *s, *end;
    int depth;
} scan;

#define SCAN_MAX_DEPTH 64

static void scan_ws(scan *c)
{
    while (c->s < c->end && (*c->s == ' ' || *c->s == '\t' || *c->s == '\n' || *c->s == '\r')) {
        c->s++;
    }
}

static long scan_u4(const char *p)
{
    long v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        int h = rc_hex_value(p[i]);
        if (h < 0) {
            return -1;
        }
        v = v * 16 + h;
    }
    return v;
}

/* A string at c->s ('"'); when out is set, its unescaped bytes go there (the
 * caller sized it: unescaped text is never longer than the escaped). */
static int scan_string(scan *c, char *out, size_t *outlen)
{
    const char *p = c->s + 1;
    size_t o = 0;

    if (c->s >= c->end || *c->s != '"') {
        return 0;
    }
    while (p < c->end && *p != '"') {
        unsigned char ch = (unsigned char)*p;
        if (ch < 0x20) {
            return 0;
        }
        if (ch == '\\') {
            long cp;
            if (p + 1 >= c->end) {
                return 0;
            }
            switch (p[1]) {
            case '"': case '\\': case '/':
                cp = p[1]; p += 2; break;
            case 'b': cp = '\b'; p += 2; break;
            case 'f': cp = '\f'; p += 2; break;
            case 'n': cp = '\n'; p += 2; break;
            case 'r': cp = '\r'; p += 2; break;
            case 't': cp = '\t'; p += 2; break;
            case 'u':
                if (c->end - p < 6 || (cp = scan_u4(p + 2)) < 0) {
                    return 0;
                }
                p += 6;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    long lo;
                    if (c->end - p < 6 || p[0] != '\\' || p[1] != 'u'
                        || (lo = scan_u4(p + 2)) < 0xDC00 || lo > 0xDFFF) {
                        return 0;
                    }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
                else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
                    return 0;       /* lone low surrogate, or NUL: jansson decides */
                }
                break;
            default:
                return 0;
            }
            if (out) {
                o += (size_t)rc_utf8_put((apr_uint32_t)cp, out + o);
            }
            continue;
        }
        if (ch < 0x80) {
            if (out) {
                out[o++] = (char)ch;
            }
            p++;
        }
        else {
            size_t l = rc_utf8_decode((const unsigned char *)p, (size_t)(c->end - p), NULL);
            if (!l) {
                return 0;
            }
            if (out) {
                memcpy(out + o, p, l);
                o += l;
            }
            p += l;
        }
    }
    if (p >= c->end) {
        return 0;
    }
    c->s = p + 1;
    if (outlen) {
        *outlen = o;
    }
    return 1;
}

static int scan_value(scan *c);

static int scan_number(scan *c)
{
    const char *p = c->s;

    if (p < c->end && *p == '-') p++;
    if (p >= c->end) return 0;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') { while (p < c->end && *p >= '0' && *p <= '9') p++; }
    else return 0;
    if (p < c->end && *p == '.') {
        p++;
        if (p >= c->end || *p < '0' || *p > '9') return 0;
        while (p < c->end && *p >= '0' && *p <= '9') p++;
    }
    if (p < c->end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < c->end && (*p == '+' || *p == '-')) p++;
        if (p >= c->end || *p < '0' || *p > '9') return 0;
        while (p < c->end && *p >= '0' && *p <= '9') p++;
    }
    c->s = p;
    return 1;
}

static int scan_literal(scan *c, const char *lit, size_t n)
{
    if ((size_t)(c->end - c->s) < n || memcmp(c->s, lit, n) != 0) {
        return 0;
    }
    c->s += n;
    return 1;
}

/* After a member or element: 1 when a ',' leads to another, 0 when `close`
 * ends the container (its depth given back), -1 on anything else. */
static int scan_after_item(scan *c, char close)
{
    scan_ws(c);
    if (c->s < c->end && *c->s == ',') {
        c->s++;
        scan_ws(c);
        return 1;
    }
    if (c->s < c->end && *c->s == close) {
        c->s++;
        c->depth--;
        return 0;
    }
    return -1;
}

/* Calls on_member for each member of the object at c->s; on_member scans the
 * value (or returns -1 to refuse the chunk). */
typedef int (*member_fn)(scan *c, const char *key, size_t klen, void *ctx);

static int scan_object(scan *c, member_fn fn, void *ctx)
{
    if (c->s >= c->end || *c->s != '{' || ++c->depth > SCAN_MAX_DEPTH) {
        return 0;
    }
    c->s++;
    scan_ws(c);
    if (c->s < c->end && *c->s == '}') {
        c->s++;
        c->depth--;
        return 1;
    }
    for (;;) {
        const char *k = c->s + 1;
        size_t klen;
        int rv;
        if (!scan_string(c, NULL, NULL)) {
            return 0;
        }
        klen = (size_t)(c->s - 1 - k);
        scan_ws(c);
        if (c->s >= c->end || *c->s != ':') {
            return 0;
        }
        c->s++;
        scan_ws(c);
        rv = fn ? fn(c, k, klen, ctx) : scan_value(c);
        if (rv <= 0) {
            return rv;
        }
        if ((rv = scan_after_item(c, '}')) <= 0) {
            return rv == 0;
        }
    }
}

static int scan_array(scan *c, int (*first)(scan *c, void *ctx), void *ctx)
{
    int i = 0;

    if (c->s >= c->end || *c->s != '[' || ++c->depth > SCAN_MAX_DEPTH) {
        return 0;
    }
    c->s++;
    scan_ws(c);
    if (c->s < c->end && *c->s == ']') {
        c->s++;
        c->depth--;
        return 1;
    }
    for (;; i++) {
        int rv = (i == 0 && first) ? first(c, ctx) : scan_value(c);
        if (rv <= 0) {
            return rv;
        }
        if ((rv = scan_after_item(c, ']')) <= 0) {
            return rv == 0;
        }
    }
}

static int scan_value(scan *c)
{
    if (c->s >= c->end) {
        return 0;
    }
    switch (*c->s) {
    case '"': return scan_string(c, NULL, NULL);
    case '{': return scan_object(c, NULL, NULL);
    case '[': return scan_array(c, NULL, NULL);
    case 't': return scan_literal(c, "true", 4);
    case 'f': return scan_literal(c, "false", 5);
    case 'n': return scan_literal(c, "null", 4);
    default: return scan_number(c);
    }
}

typedef struct {
    char *out;              /* content, unescaped */
    size_t outlen;
    int has_content;        /* a non-null string */
    int seen_choices, seen_delta, seen_content;
} fast_delta;

#define KEY_IS(k, n, lit) ((n) == sizeof(lit) - 1 && memcmp((k), (lit), (n)) == 0)

static int delta_member(scan *c, const char *k, size_t n, void *ctx)
{
    fast_delta *f = ctx;

    if (KEY_IS(k, n, "content")) {
        if (f->seen_content++) {
            return -1;          /* duplicate keys: let jansson decide */
        }
        if (c->s < c->end && *c->s == '"') {
            f->has_content = 1;
            return scan_string(c, f->out, &f->outlen);
        }
        return scan_value(c);
    }
    return scan_value(c);
}

static int choice_member(scan *c, const char *k, size_t n, void *ctx)
{
    fast_delta *f = ctx;

    if (KEY_IS(k, n, "delta")) {
        if (f->seen_delta++) {
            return -1;
        }
        return scan_object(c, delta_member, f);
    }
    return scan_value(c);
}

static int first_choice(scan *c, void *ctx)
{
    return scan_object(c, choice_member, ctx);
}

static int chunk_member(scan *c, const char *k, size_t n, void *ctx)
{
    fast_delta *f = ctx;

    if (KEY_IS(k, n, "error")) {
        return -1;
    }
    if (KEY_IS(k, n, "choices")) {
        if (f->seen_choices++) {
            return -1;
        }
        return scan_array(c, first_choice, f);
    }
    return scan_value(c);
}

/* 1: decided (kind in *kind), 0: not vouched for, use jansson. */
static int fast_openai_delta(apr_pool_t *p, const char *data, size_t len, rc_delta_kind *kind,
                             const char **text, size_t *text_len)
{
    fast_delta f;
    scan c;

    memset(&f, 0, sizeof(f));
    c.s = data;
    c.end = data + len;
    c.depth = 0;
    f.out = apr_palloc(p, len + 1);
    scan_ws(&c);
    if (scan_object(&c, chunk_member, &f) != 1) {
        return 0;
    }
    scan_ws(&c);
    if (c.s != c.end || !f.seen_delta) {
        return 0;
    }
    f.out[f.outlen] = '\0';
    if (f.has_content && f.outlen > 0) {
        *text = f.out;
        *text_len = f.outlen;
        *kind = RC_DELTA_TOKEN;
    }
    else {
        *kind = RC_DELTA_EMPTY;
    }
    return 1;
}

rc_delta_kind rc_openai_delta(apr_pool_t *p, const char *data, size_t len,
                              const char **text, size_t *text_len)
{
    rc_delta_kind fast;

    *text = NULL;
    *text_len = 0;
    if (!is_done_marker(data, len) && fast_openai_delta(p, data, len, &fast, text, text_len)) {
        return fast;
    }
    return rc_openai_delta_slow(p, data, len, text, text_len);
}

rc_delta_kind rc_openai_delta_slow(apr_pool_t *p, const char *data, size_t len,
                                   const char **text, size_t *text_len)
{
    json_error_t e;
    json_t *j, *choices, *choice, *delta, *content, *err;
    rc_delta_kind kind;

    *text = NULL;
    *text_len = 0;
    if (is_done_marker(data, len)) {
        return RC_DELTA_DONE;
    }
    j = json_loadb(data, len, 0, &e);
    if (!j) {
        *text = apr_psprintf(p, "backend sent a chunk that is not JSON (%s)", e.text);
        *text_len = strlen(*text);
        return RC_DELTA_INVALID;
    }
    err = json_is_object(j) ? json_object_get(j, "error") : NULL;
    choices = json_is_object(j) ? json_object_get(j, "choices") : NULL;
    choice = json_is_array(choices) ? json_array_get(choices, 0) : NULL;
    delta = json_is_object(choice) ? json_object_get(choice, "delta") : NULL;
    if (err && !delta) {
        const char *m = json_is_string(err) ? json_string_value(err)
                      : rc_json_get_str(err, "message");
        *text = apr_pstrdup(p, m ? m : "backend reported an error");
        *text_len = strlen(*text);
        kind = RC_DELTA_ERROR;
    }
    else if (!json_is_object(delta)) {
        /* An empty choices list is legal (usage-only chunks); say so quietly. */
        if (json_is_array(choices) && json_array_size(choices) == 0) {
            kind = RC_DELTA_EMPTY;
        }
        else {
            *text = "backend sent a chunk without choices[0].delta";
            *text_len = strlen(*text);
            kind = RC_DELTA_INVALID;
        }
    }
    else {
        content = json_object_get(delta, "content");
        if (json_is_string(content) && json_string_length(content) > 0) {
            *text_len = json_string_length(content);
            *text = apr_pstrmemdup(p, json_string_value(content), *text_len);
            kind = RC_DELTA_TOKEN;
        }
        else {
            kind = RC_DELTA_EMPTY;   /* role-only, finish_reason, or null content */
        }
    }
    json_decref(j);
    return kind;
}

/* Text for the built-in retrieval backend (see retrieval_text.h). Every
 * function reads untrusted bytes of any length: each loop checks its bounds,
 * and outputs are sized from the input before they are written. */
#include "retrieval_text.h"
#include "buf.h"
#include "encode.h"
#include "json.h"
#include "utf8.h"

#include <apr_strings.h>
#include <jansson.h>
#include <string.h>

#define IS_ALPHA(c) (((c) | 0x20) >= 'a' && ((c) | 0x20) <= 'z')
#define IS_DIGIT(c) ((c) >= '0' && (c) <= '9')
#define IS_ALNUM(c) (IS_ALPHA(c) || IS_DIGIT(c))
#define LOWER(c)    ((c) >= 'A' && (c) <= 'Z' ? (c) + 32 : (c))

/* ---- normalisation ----------------------------------------------------- */

typedef struct {
    char *out;
    size_t o;
    int nl;          /* line ends seen since the last character */
    int sp;          /* a space seen since the last character */
} norm_state;

static void norm_emit(norm_state *st, const char *s, size_t l)
{
    if (st->o > 0) {
        if (st->nl) {
            st->out[st->o++] = '\n';
            if (st->nl > 1) {
                st->out[st->o++] = '\n';
            }
        }
        else if (st->sp) {
            st->out[st->o++] = ' ';
        }
    }
    st->nl = st->sp = 0;
    memcpy(st->out + st->o, s, l);
    st->o += l;
}

char *rc_text_normalize(apr_pool_t *p, const char *s, size_t n, size_t *outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i;
    norm_state st;

    /* Output: at most the input, plus 2 bytes per invalid byte (U+FFFD), plus
     * a separator before each character (never more than the whitespace or
     * control bytes that produced it, but count one spare). */
    st.out = apr_palloc(p, n + 2 * rc_utf8_invalid_bytes(s, n) + 3);
    st.o = 0;
    st.nl = st.sp = 0;
    i = (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
    while (i < n) {
        unsigned char c = u[i];
        size_t l = rc_utf8_decode(u + i, n - i, NULL);

        if (l == 0) {
            norm_emit(&st, "\xEF\xBF\xBD", 3);
            i++;
        }
        else if (c == '\r' || c == '\n') {
            st.nl++;
            st.sp = 0;
            i += (c == '\r' && i + 1 < n && u[i + 1] == '\n') ? 2 : 1;
        }
        else if (c == ' ' || c == '\t' || c == '\v' || c == '\f') {
            st.sp = 1;
            i++;
        }
        else if (c < 0x20 || c == 0x7f) {
            i++;
        }
        else if (l == 2 && c == 0xC2 && u[i + 1] == 0xA0) {
            st.sp = 1;                     /* no-break space */
            i += 2;
        }
        else if (l == 2 && c == 0xC2 && u[i + 1] < 0xA0) {
            i += 2;                        /* C1 control */
        }
        else if (l == 3 && c == 0xE2 && u[i + 1] == 0x80
                 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
            st.nl += u[i + 2] == 0xA9 ? 2 : 1;  /* line, paragraph separator */
            st.sp = 0;
            i += 3;
        }
        else if (l == 3 && c == 0xEF && u[i + 1] == 0xBB && u[i + 2] == 0xBF) {
            i += 3;                        /* a stray BOM (zero-width no-break space) */
        }
        else {
            norm_emit(&st, s + i, l);
            i += l;
        }
    }
    st.out[st.o] = '\0';
    if (outlen) {
        *outlen = st.o;
    }
    return st.out;
}

/* ---- HTML ---------------------------------------------------------------- */

typedef struct {
    const char *name;
    const char *utf8;
} entity;

/* The entities that turn up in ordinary documents; each decodes to no more
 * bytes than its own spelling, so the output never outgrows the input. */
static const entity entities[] = {
    { "amp", "&" }, { "lt", "<" }, { "gt", ">" }, { "quot", "\"" }, { "apos", "'" },
    { "nbsp", " " }, { "shy", "" }, { "copy", "\xC2\xA9" }, { "reg", "\xC2\xAE" },
    { "trade", "\xE2\x84\xA2" }, { "deg", "\xC2\xB0" }, { "times", "\xC3\x97" },
    { "middot", "\xC2\xB7" }, { "bull", "\xE2\x80\xA2" }, { "hellip", "\xE2\x80\xA6" },
    { "ndash", "\xE2\x80\x93" }, { "mdash", "\xE2\x80\x94" },
    { "lsquo", "\xE2\x80\x98" }, { "rsquo", "\xE2\x80\x99" },
    { "ldquo", "\xE2\x80\x9C" }, { "rdquo", "\xE2\x80\x9D" },
    { "laquo", "\xC2\xAB" }, { "raquo", "\xC2\xBB" }, { "euro", "\xE2\x82\xAC" },
    { "pound", "\xC2\xA3" }, { "yen", "\xC2\xA5" }, { "sect", "\xC2\xA7" },
    { "para", "\xC2\xB6" }, { "eacute", "\xC3\xA9" }, { "egrave", "\xC3\xA8" },
    { "ecirc", "\xC3\xAA" }, { "agrave", "\xC3\xA0" }, { "aacute", "\xC3\xA1" },
    { "acirc", "\xC3\xA2" }, { "ccedil", "\xC3\xA7" }, { "iacute", "\xC3\xAD" },
    { "oacute", "\xC3\xB3" }, { "uacute", "\xC3\xBA" }, { "ntilde", "\xC3\xB1" },
    { "auml", "\xC3\xA4" }, { "ouml", "\xC3\xB6" }, { "uuml", "\xC3\xBC" },
    { "Auml", "\xC3\x84" }, { "Ouml", "\xC3\x96" }, { "Uuml", "\xC3\x9C" },
    { "Eacute", "\xC3\x89" }, { "szlig", "\xC3\x9F" },
    { NULL, NULL }
};

/* A character reference at s[0] == '&': its bytes in out (4 at most) and the
 * input it spans, or 0 when it is not one (the '&' is then literal). */
static size_t decode_entity(const unsigned char *s, size_t n, char *out, size_t *olen)
{
    size_t i = 1;

    if (n > 2 && s[1] == '#') {
        unsigned long cp = 0;
        int hex = s[2] == 'x' || s[2] == 'X', digits = 0;

        i = hex ? 3 : 2;
        while (i < n && digits < 8) {
            int d = hex ? rc_hex_value(s[i]) : IS_DIGIT(s[i]) ? s[i] - '0' : -1;
            if (d < 0) {
                break;
            }
            cp = cp * (hex ? 16 : 10) + (unsigned long)d;
            digits++;
            i++;
        }
        if (!digits) {
            return 0;
        }
        while (i < n && (IS_DIGIT(s[i]) || (hex && IS_ALNUM(s[i])))) {
            cp = 0x110000;                 /* too many digits: out of range */
            i++;
        }
        if (i < n && s[i] == ';') {
            i++;
        }
        /* The shortest spelling of a code point needing k bytes is longer
         * than k, except "&#N" for one-byte ones: never more than i bytes.
         * NUL, like a surrogate or cp > U+10FFFF, becomes U+FFFD. */
        *olen = (size_t)rc_utf8_put(cp == 0 || cp > 0x10FFFF ? 0xFFFD : (apr_uint32_t)cp, out);
        if (*olen > i) {
            *olen = 0;
        }
        return i;
    }
    while (i < n && i <= 8 && IS_ALNUM(s[i])) {
        i++;
    }
    if (i > 1 && i < n && s[i] == ';') {
        const entity *e;
        for (e = entities; e->name; e++) {
            if (strlen(e->name) == i - 1 && memcmp(e->name, s + 1, i - 1) == 0) {
                *olen = strlen(e->utf8);
                memcpy(out, e->utf8, *olen);
                return i + 1;
            }
        }
    }
    return 0;
}

typedef enum { TAG_INLINE, TAG_CELL, TAG_LINE, TAG_BLOCK, TAG_RAW, TAG_PRE } tag_kind;

static tag_kind classify_tag(const char *name)
{
    static const char *const blocks[] = {
        "p", "div", "section", "article", "header", "footer", "main", "nav", "aside",
        "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "blockquote",
        "hr", "figure", "figcaption", "form", "fieldset", "address", "title", "details",
        "summary", "body", "html", "head", "thead", "tbody", "tfoot", "center", NULL
    };
    static const char *const lines[] = { "br", "li", "tr", "dt", "dd", "caption",
                                         "option", "legend", NULL };
    int i;

    if (!strcmp(name, "script") || !strcmp(name, "style") || !strcmp(name, "template")) {
        return TAG_RAW;
    }
    if (!strcmp(name, "pre") || !strcmp(name, "textarea") || !strcmp(name, "listing")) {
        return TAG_PRE;
    }
    if (!strcmp(name, "td") || !strcmp(name, "th")) {
        return TAG_CELL;
    }
    for (i = 0; blocks[i]; i++) {
        if (!strcmp(name, blocks[i])) {
            return TAG_BLOCK;
        }
    }
    for (i = 0; lines[i]; i++) {
        if (!strcmp(name, lines[i])) {
            return TAG_LINE;
        }
    }
    return TAG_INLINE;
}

/* Position of the terminator term at or after i, or n when there is none. */
static size_t find_term(const unsigned char *s, size_t n, size_t i, const char *term)
{
    size_t tl = strlen(term);

    for (; i + tl <= n; i++) {
        if (memcmp(s + i, term, tl) == 0) {
            return i;
        }
    }
    return n;
}

/* Position just after the terminator term at or after i, or n. */
static size_t skip_past(const unsigned char *s, size_t n, size_t i, const char *term)
{
    size_t j = find_term(s, n, i, term);

    return j < n ? j + strlen(term) : n;
}

/* The end of the raw-text element name opened before i: just after its
 * closing tag, or n. */
static size_t skip_raw(const unsigned char *s, size_t n, size_t i, const char *name)
{
    size_t nl = strlen(name);

    for (; i + 2 + nl <= n; i++) {
        if (s[i] == '<' && s[i + 1] == '/' && strncasecmp((const char *)s + i + 2, name, nl) == 0
            && (i + 2 + nl == n || !IS_ALNUM(s[i + 2 + nl]))) {
            i += 2 + nl;
            while (i < n && s[i] != '>') {
                i++;
            }
            return i < n ? i + 1 : n;
        }
    }
    return n;
}

/* The tag starting at s[i] == '<' and its name: the position after its '>'
 * (quoted attribute values may hold '>'), or 0 when it is not a tag. */
static size_t scan_tag(const unsigned char *s, size_t n, size_t i, char *name, size_t cap,
                       int *closing)
{
    size_t k = i + 1, nl = 0;

    *closing = k < n && s[k] == '/';
    k += *closing;
    if (k >= n || !IS_ALPHA(s[k])) {
        return 0;
    }
    while (k < n && (IS_ALNUM(s[k]) || s[k] == '-' || s[k] == ':')) {
        if (nl + 1 < cap) {
            name[nl++] = (char)LOWER(s[k]);
        }
        k++;
    }
    name[nl] = '\0';
    while (k < n && s[k] != '>') {
        if (s[k] == '"' || s[k] == '\'') {
            unsigned char q = s[k++];
            while (k < n && s[k] != q) {
                k++;
            }
        }
        if (k < n) {
            k++;
        }
    }
    return k < n ? k + 1 : n;
}

/* The text being extracted from HTML: out never grows faster than the input
 * is consumed. */
typedef struct {
    const unsigned char *s;
    size_t n, i;
    char *out;
    size_t o;
    int pre;                   /* inside <pre>: whitespace kept */
} html_walk;

static void html_put(html_walk *w, unsigned char c)
{
    if (w->o < w->n + 4) {
        w->out[w->o++] = (char)c;
    }
}

/* What a tag adds to the text: line or paragraph breaks, a cell gap. */
static void html_tag(html_walk *w, const char *name, int closing, size_t end)
{
    switch (classify_tag(name)) {
    case TAG_RAW:
        if (!closing && w->s[end - 2] != '/') {
            w->i = skip_raw(w->s, w->n, end, name);
        }
        break;
    case TAG_PRE:
        w->pre += closing ? (w->pre > 0 ? -1 : 0) : 1;
        html_put(w, '\n');
        html_put(w, '\n');
        break;
    case TAG_BLOCK:
        html_put(w, '\n');
        html_put(w, '\n');
        break;
    case TAG_LINE:
        if (!closing) {
            html_put(w, '\n');
        }
        break;
    case TAG_CELL:
        html_put(w, ' ');
        break;
    case TAG_INLINE:
        break;
    }
}

/* Markup at w->i ('<'): comments, CDATA, declarations and tags. */
static void html_markup(html_walk *w)
{
    const unsigned char *s = w->s;
    size_t n = w->n, i = w->i, end;
    char name[16];
    int closing;

    if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
        w->i = skip_past(s, n, i + 4, "-->");
        return;
    }
    if (n - i >= 9 && memcmp(s + i, "<![CDATA[", 9) == 0) {
        size_t stop = find_term(s, n, i + 9, "]]>");
        for (i += 9; i < stop; i++) {
            html_put(w, s[i]);
        }
        w->i = stop < n ? stop + 3 : n;
        return;
    }
    if (i + 1 < n && (s[i + 1] == '!' || s[i + 1] == '?')) {
        w->i = skip_past(s, n, i + 1, ">");
        return;
    }
    end = scan_tag(s, n, i, name, sizeof(name), &closing);
    if (!end) {
        html_put(w, '<');
        w->i++;
        return;
    }
    w->i = end;
    html_tag(w, name, closing, end);
}

/* A character reference at w->i ('&'): 1 when one was decoded. */
static int html_entity(html_walk *w)
{
    char buf[4];
    size_t olen = 0, k;
    size_t used = decode_entity(w->s + w->i, w->n - w->i, buf, &olen);

    if (!used) {
        return 0;
    }
    for (k = 0; k < olen; k++) {
        html_put(w, (unsigned char)buf[k]);
    }
    w->i += used;
    return 1;
}

char *rc_text_from_html(apr_pool_t *p, const char *html, size_t n, size_t *outlen)
{
    html_walk w;

    w.s = (const unsigned char *)html;
    w.n = n;
    w.i = 0;
    w.out = apr_palloc(p, n + 8);
    w.o = 0;
    w.pre = 0;
    while (w.i < n) {
        unsigned char c = w.s[w.i];

        if (c == '<') {
            html_markup(&w);
            continue;
        }
        if (c == '&' && html_entity(&w)) {
            continue;
        }
        if (!w.pre && (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f')) {
            if (w.o == 0 || (w.out[w.o - 1] != ' ' && w.out[w.o - 1] != '\n')) {
                html_put(&w, ' ');
            }
            w.i++;
            continue;
        }
        html_put(&w, c);
        w.i++;
    }
    return rc_text_normalize(p, w.out, w.o, outlen);
}

/* ---- JSON ----------------------------------------------------------------- */

static void json_strings(const json_t *j, rc_buf *b, int depth)
{
    size_t i;
    const char *key;
    json_t *v;

    if (depth > 256) {
        return;
    }
    if (json_is_string(j)) {
        rc_buf_append(b, json_string_value(j), json_string_length(j));
        rc_buf_append(b, "\n", 1);
    }
    else if (json_is_array(j)) {
        json_array_foreach(j, i, v) {
            json_strings(v, b, depth + 1);
        }
    }
    else if (json_is_object(j)) {
        json_object_foreach((json_t *)j, key, v) {
            json_strings(v, b, depth + 1);
        }
    }
}

char *rc_text_from_json(apr_pool_t *p, const char *s, size_t n, size_t *outlen)
{
    json_error_t err;
    json_t *j = json_loadb(s, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
    apr_pool_t *tmp;
    rc_buf *b;
    char *text;

    if (!j) {
        return NULL;
    }
    /* The strings are gathered in a scratch pool, freed as soon as normalised. */
    apr_pool_create(&tmp, p);
    b = rc_buf_make(tmp, n / 2 + 16);
    json_strings(j, b, 0);
    json_decref(j);
    text = rc_text_normalize(p, b->data, b->len, outlen);
    apr_pool_destroy(tmp);
    return text;
}

/* ---- chunking ------------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\n';
}

/* Sentence end just before position e: ".", "!" or "?" (maybe followed by a
 * closing quote or bracket), then whitespace at e. */
static int sentence_end_at(const char *t, size_t len, size_t e)
{
    size_t k = e;

    if (e == 0 || e >= len || !is_space(t[e])) {
        return 0;
    }
    while (k > 0 && (t[k - 1] == '"' || t[k - 1] == '\'' || t[k - 1] == ')'
                     || t[k - 1] == ']')) {
        k--;
    }
    return k > 0 && (t[k - 1] == '.' || t[k - 1] == '!' || t[k - 1] == '?'
                     || t[k - 1] == ':' || t[k - 1] == ';');
}

/* Where a passage from start ends: the best boundary in (lo, hi]. */
static size_t find_end(const char *t, size_t len, size_t start, size_t lo, size_t hi)
{
    size_t e, para = 0, sent = 0, line = 0, word = 0;

    for (e = hi; e > lo; e--) {
        if (e < len && t[e] == '\n' && e + 1 < len && t[e + 1] == '\n') {
            para = e;
            break;                 /* the best kind: look no further */
        }
        if (!sent && sentence_end_at(t, len, e)) {
            sent = e;
        }
        if (!line && e < len && t[e] == '\n') {
            line = e;
        }
        if (!word && e < len && t[e] == ' ') {
            word = e;
        }
    }
    if (para) {
        return para;
    }
    if (sent) {
        return sent;
    }
    if (line) {
        return line;
    }
    if (word) {
        return word;
    }
    e = start + rc_utf8_floor(t + start, hi - start);
    if (e <= start) {
        /* hi - start is shorter than the character at start: take it whole. */
        e = start + 1;
        while (e < len && ((unsigned char)t[e] & 0xC0) == 0x80) {
            e++;
        }
    }
    return e;
}

/* Where the next passage starts: a sentence start in [from, end), else a
 * word start, else end. */
static size_t find_start(const char *t, size_t len, size_t from, size_t end)
{
    size_t s, word = 0;

    for (s = from; s < end; s++) {
        if (s > 0 && is_space(t[s - 1]) && !is_space(t[s])) {
            if (t[s - 1] == '\n' || sentence_end_at(t, len, s - 1)) {
                return s;
            }
            if (!word) {
                word = s;
            }
        }
    }
    return word ? word : end;
}

apr_array_header_t *rc_text_chunks(apr_pool_t *p, const char *t, size_t len,
                                   size_t target, size_t overlap)
{
    apr_array_header_t *a = apr_array_make(p, (int)(len / (target ? target : 1) + 2),
                                           sizeof(rc_text_chunk));
    size_t start = 0;

    if (target < 2) {
        target = 2;
    }
    if (overlap > target / 3) {
        overlap = target / 3;
    }
    while (start < len) {
        size_t end, s, e, next;
        rc_text_chunk *c;

        while (start < len && is_space(t[start])) {
            start++;
        }
        if (start >= len) {
            break;
        }
        end = len - start <= target ? len
                                    : find_end(t, len, start, start + target / 2, start + target);
        for (s = start, e = end; e > s && is_space(t[e - 1]); e--) {
        }
        c = apr_array_push(a);
        c->off = s;
        c->len = e - s;
        if (end >= len) {
            break;
        }
        next = end > start + overlap ? end - overlap : end;
        next = find_start(t, len, next > start ? next : start + 1, end);
        /* Always forward: a passage never starts where the last one did. */
        start = next > start ? next : end;
    }
    return a;
}

/* ---- the FTS5 query ------------------------------------------------------- */

static const char *const stopwords[] = {
    "a", "about", "after", "all", "also", "am", "an", "and", "any", "are", "as", "at",
    "be", "been", "before", "but", "by", "can", "could", "did", "do", "does", "doing",
    "for", "from", "give", "had", "has", "have", "he", "her", "here", "him", "his",
    "how", "i", "if", "in", "into", "is", "it", "its", "just", "know", "let", "me",
    "more", "most", "my", "no", "not", "of", "on", "only", "or", "other", "our",
    "please", "say", "says", "she", "should", "show", "so", "some", "such", "tell",
    "than", "that", "the", "their", "them", "then", "there", "these", "they", "this",
    "those", "to", "us", "very", "was", "we", "were", "what", "whats", "when",
    "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your",
    NULL
};

static int is_stopword(const char *w)
{
    int i;

    for (i = 0; stopwords[i]; i++) {
        if (strcmp(w, stopwords[i]) == 0) {
            return 1;
        }
    }
    return 0;
}

#define RC_TERM_MAX 64

/* The terms of s: runs of ASCII letters and digits and of valid non-ASCII
 * UTF-8 characters, ASCII lowercased; single ASCII letters and overlong runs
 * dropped. */
static apr_array_header_t *terms_of(apr_pool_t *p, const char *s)
{
    apr_array_header_t *a = apr_array_make(p, 16, sizeof(const char *));
    const unsigned char *u = (const unsigned char *)s;
    size_t n = s ? strlen(s) : 0, i = 0;

    while (i < n) {
        size_t start, l;
        char *w;

        while (i < n && !IS_ALNUM(u[i])
               && !(u[i] >= 0x80 && rc_utf8_decode(u + i, n - i, NULL) > 1)) {
            i++;
        }
        start = i;
        while (i < n) {
            if (IS_ALNUM(u[i])) {
                i++;
            }
            else if (u[i] >= 0x80 && (l = rc_utf8_decode(u + i, n - i, NULL)) > 1) {
                i += l;
            }
            else {
                break;
            }
        }
        if (i == start || i - start > RC_TERM_MAX || (i - start == 1 && IS_ALPHA(u[start]))) {
            continue;
        }
        w = apr_pstrmemdup(p, s + start, i - start);
        for (l = 0; w[l]; l++) {
            w[l] = (char)LOWER((unsigned char)w[l]);
        }
        APR_ARRAY_PUSH(a, const char *) = w;
    }
    return a;
}

static int has_term(apr_array_header_t *a, const char *w)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        if (strcmp(APR_ARRAY_IDX(a, i, const char *), w) == 0) {
            return 1;
        }
    }
    return 0;
}

/* Adds the terms of all to out (skipping stopwords when skip_stop, and any
 * already in seen or out) until out holds max. */
static void pick_terms(apr_array_header_t *out, apr_array_header_t *all,
                       apr_array_header_t *seen, int skip_stop, int max)
{
    int i;

    for (i = 0; i < all->nelts && out->nelts < max; i++) {
        const char *w = APR_ARRAY_IDX(all, i, const char *);
        if ((skip_stop && is_stopword(w)) || has_term(out, w) || (seen && has_term(seen, w))) {
            continue;
        }
        APR_ARRAY_PUSH(out, const char *) = w;
    }
}

static void append_or(rc_buf *b, apr_array_header_t *a)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        const char *w = APR_ARRAY_IDX(a, i, const char *);
        if (i) {
            rc_buf_appends(b, " OR ");
        }
        rc_buf_appends(b, "\"");
        rc_buf_appends(b, w);      /* never holds a quote: it is a separator */
        rc_buf_appends(b, "\"");
    }
}

char *rc_text_fts_query(apr_pool_t *p, const char *question, const char *context,
                        int max_terms)
{
    apr_array_header_t *all = terms_of(p, question), *q, *c;
    rc_buf *b;
    char *res;

    if (max_terms < 1) {
        max_terms = 1;
    }
    q = apr_array_make(p, 16, sizeof(const char *));
    pick_terms(q, all, NULL, 1, max_terms);
    if (q->nelts == 0) {
        pick_terms(q, all, NULL, 0, max_terms);   /* only common words: use them */
    }
    if (q->nelts == 0) {
        return NULL;
    }
    c = apr_array_make(p, 8, sizeof(const char *));
    if (context) {
        pick_terms(c, terms_of(p, context), q, 1, max_terms / 2 > 0 ? max_terms / 2 : 1);
    }
    b = rc_buf_make(p, 256);
    if (c->nelts) {
        /* The question's terms twice, the context's once: bm25 sums over the
         * phrases of the query, so the context weighs half. */
        rc_buf_appends(b, "(");
        append_or(b, q);
        rc_buf_appends(b, ") AND (");
        append_or(b, q);
        rc_buf_appends(b, " OR ");
        append_or(b, c);
        rc_buf_appends(b, ")");
    }
    else {
        append_or(b, q);
    }
    res = rc_buf_pstrdup(p, b);
    return res;
}

/* ---- markdown quoting ----------------------------------------------------- */

char *rc_text_md_inline(apr_pool_t *p, const char *s, size_t n)
{
    /* Each byte becomes at most two (a backslash and itself). */
    char *out = apr_palloc(p, 2 * n + 2);
    size_t i = 0, o = 0;
    int space = 0;

    while (i < n && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r')) {
        i++;
    }
    /* A leading list, heading or thematic-break marker, or "1." / "1)". */
    if (i < n && (s[i] == '-' || s[i] == '+' || s[i] == '=')) {
        out[o++] = '\\';
    }
    else {
        size_t k = i;
        while (k < n && k - i < 9 && IS_DIGIT((unsigned char)s[k])) {
            k++;
        }
        if (k > i && k < n && (s[k] == '.' || s[k] == ')')) {
            memcpy(out, s + i, k - i);
            o = k - i;
            out[o++] = '\\';
            out[o++] = s[k];
            i = k + 1;
        }
    }
    for (; i < n; i++) {
        char c = s[i];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
            space = 1;
            continue;
        }
        if (space) {
            out[o++] = ' ';
            space = 0;
        }
        if (strchr("\\`*_[]<>#|~&!", c) && c) {
            out[o++] = '\\';
        }
        out[o++] = c;
    }
    out[o] = '\0';
    return out;
}

/* Exports: one answer (B/api/steps/{id}/export.pdf|.md) or a whole thread as a
 * transcript (B/api/threads/{id}/export.pdf|.md).
 *
 * The reference app exported an answer as "response.pdf" after md_to_pdf()'s
 * cleaning; here the same cleaning (rc_clean_export) feeds the module's own
 * markdown -> PDF engine, the document is rendered into request-pool memory
 * and sent with a Content-Length, and the file is named after the thread and
 * the date so that a downloads folder stays readable. Ownership is checked
 * through rc_api_owned_*: another user's id answers 404 like an unknown one. */
#include "export.h"
#include "filename.h"
#include "api.h"
#include "clean.h"
#include "conversation.h"
#include "json.h"
#include "pdf.h"
#include "sources.h"
#include "buf.h"
#include "encode.h"
#include "utf8.h"

#include "http_log.h"
#include "http_protocol.h"
#include "apr_lib.h"
#include "apr_strings.h"
#include "apr_time.h"

APLOG_USE_MODULE(ragchat);

#define RC_FILENAME_NAME_MAX 80     /* bytes of the thread name in a file name */

/* The child's fonts, loaded on first use and kept until the child ends
 * (src/core/pdf_cache.c); NULL: each export loads its own. */
static rc_pdf_cache *font_cache;

void rc_export_child_init(apr_pool_t *pchild, server_rec *s)
{
    if (!(font_cache = rc_pdf_cache_create(pchild))) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, s,
                     "RC0503: no font cache: every PDF export loads its fonts");
    }
}

/* ---- time stamps -------------------------------------------------------- */

static int digits(const char *s, int n)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!apr_isdigit(s[i])) {
            return -1;
        }
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

/* Parses the "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" stamps of the data layer as UTC
 * (a space instead of the T is accepted too: rows written by other tools).
 * 0 on success. */
static int parse_stamp(const char *s, apr_time_exp_t *x, apr_time_t *t)
{
    memset(x, 0, sizeof(*x));
    if (!s || strlen(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ')
        || s[13] != ':' || s[16] != ':') {
        return -1;
    }
    x->tm_year = digits(s, 4) - 1900;
    x->tm_mon = digits(s + 5, 2) - 1;
    x->tm_mday = digits(s + 8, 2);
    x->tm_hour = digits(s + 11, 2);
    x->tm_min = digits(s + 14, 2);
    x->tm_sec = digits(s + 17, 2);
    if (x->tm_year < 0 || x->tm_mon < 0 || x->tm_mon > 11 || x->tm_mday < 1
        || x->tm_mday > 31 || x->tm_hour < 0 || x->tm_hour > 23 || x->tm_min < 0
        || x->tm_min > 59 || x->tm_sec < 0 || x->tm_sec > 60) {
        return -1;
    }
    if (s[19] == '.') {
        int i, us = 0;
        for (i = 0; i < 6 && apr_isdigit(s[20 + i]); i++) {
            us = us * 10 + (s[20 + i] - '0');
        }
        for (; i < 6; i++) {
            us *= 10;
        }
        x->tm_usec = us;
    }
    return apr_time_exp_gmt_get(t, x) == APR_SUCCESS ? 0 : -1;
}

/* "2026-11-26 18:09 UTC", or the stored text when it is not a time stamp. */
static const char *human_stamp(apr_pool_t *p, const char *s)
{
    apr_time_exp_t x;
    apr_time_t t;

    if (parse_stamp(s, &x, &t)) {
        return s ? rc_utf8_sanitize(p, s, strlen(s)) : "";
    }
    return apr_psprintf(p, "%04d-%02d-%02d %02d:%02d UTC", x.tm_year + 1900, x.tm_mon + 1,
                        x.tm_mday, x.tm_hour, x.tm_min);
}

/* "2026-11-26" or NULL. */
static const char *stamp_date(apr_pool_t *p, const char *s)
{
    apr_time_exp_t x;
    apr_time_t t;

    if (parse_stamp(s, &x, &t)) {
        return NULL;
    }
    return apr_psprintf(p, "%04d-%02d-%02d", x.tm_year + 1900, x.tm_mon + 1, x.tm_mday);
}

static apr_time_t stamp_time(const char *s)
{
    apr_time_exp_t x;
    apr_time_t t;

    return parse_stamp(s, &x, &t) ? 0 : t;
}

/* ---- names --------------------------------------------------------------- */

/* Valid UTF-8 on one line: control characters and runs of white space become
 * one space, ends trimmed. Thread names are first user messages and may hold
 * newlines, which a heading, a PDF title or a header cannot. */
static char *one_line(apr_pool_t *p, const char *s)
{
    char *u = rc_utf8_sanitize(p, s ? s : "", s ? strlen(s) : 0);
    char *o = u, *w = u;
    int space = 0;

    for (; *o; o++) {
        unsigned char c = (unsigned char)*o;
        if (c < 0x20 || c == 0x7f || c == ' ') {
            space = 1;
            continue;
        }
        if (space && w != u) {
            *w++ = ' ';
        }
        space = 0;
        *w++ = (char)c;
    }
    *w = '\0';
    return u;
}

static const char *thread_title(apr_pool_t *p, const rc_thread *t)
{
    const char *n = one_line(p, t ? t->name : NULL);
    return *n ? n : "Conversation";
}

/* The thread name as the stem of a file name: no invisible format characters
 * (a right-to-left override would make "gpj.exe" read as "exe.jpg"),
 * characters that file systems or download dialogs refuse become spaces, at
 * most RC_FILENAME_NAME_MAX bytes (cut at a word when one ends near the
 * limit), no leading or trailing dots. */
static char *file_stem(apr_pool_t *p, const char *title)
{
    char *s = rc_strip_format_chars(p, title), *c;
    size_t n, cut;

    for (c = s; *c; c++) {
        if (strchr("/\\:*?\"<>|", *c)) {
            *c = ' ';
        }
    }
    s = one_line(p, s);
    while (*s == '.' || *s == ' ') {
        s++;
    }
    n = strlen(s);
    if (n > RC_FILENAME_NAME_MAX) {
        cut = rc_utf8_floor(s, RC_FILENAME_NAME_MAX);
        n = cut;
        while (n > cut / 2 && s[n] != ' ') {
            n--;
        }
        if (s[n] != ' ') {
            n = cut;
        }
        s[n] = '\0';
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '.')) {
        s[--n] = '\0';
    }
    return *s ? s : apr_pstrdup(p, "Conversation");
}

/* ASCII stand-ins of U+00C0..U+00FF for the plain filename="" form. */
static const char *const latin1_ascii[64] = {
    "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I", "I",
    "D", "N", "O", "O", "O", "O", "O", "x", "O", "U", "U", "U", "U", "Y", "Th", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
    "d", "n", "o", "o", "o", "o", "o", "_", "o", "u", "u", "u", "u", "y", "th", "y"
};

/* The quoted-string filename for clients without RFC 6266 filename*: ASCII
 * only, no quote, backslash or percent (some browsers decode %XX there), runs
 * of replaced characters folded into one "_". s is valid UTF-8. */
static char *ascii_filename(apr_pool_t *p, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t n = strlen(s), i = 0, w = 0;
    char *o = apr_palloc(p, 2 * n + 1);

    while (i < n) {
        const char *rep;
        size_t len = 1;
        char one[2] = { 0, 0 };

        if (u[i] < 0x80) {
            one[0] = (u[i] < 0x20 || u[i] == 0x7f || u[i] == '\\' || u[i] == '%') ? '_'
                   : u[i] == '"' ? '\'' : (char)u[i];
            rep = one;
        }
        else {
            apr_uint32_t cp;
            len = rc_utf8_decode(u + i, n - i, &cp);
            if (!len) {
                len = 1;
                rep = "_";
            }
            else {
                rep = cp >= 0xC0 && cp <= 0xFF ? latin1_ascii[cp - 0xC0]
                    : (cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 ? "-"
                    : (cp >= 0x2018 && cp <= 0x201F) || cp == 0x2032 ? "'"
                    : cp == 0xA0 || cp == 0x202F || (cp >= 0x2000 && cp <= 0x200A) ? " "
                    : "_";
            }
        }
        if (!(rep[0] == '_' && !rep[1] && w > 0 && o[w - 1] == '_')) {
            size_t k = strlen(rep);
            memcpy(o + w, rep, k);
            w += k;
        }
        i += len;
    }
    o[w] = '\0';
    return o;
}

/* RFC 8187 ext-value: UTF-8''percent-encoded, attr-char kept as is. */
static char *ext_filename(apr_pool_t *p, const char *s)
{
    size_t n = strlen(s), i, w = 0;
    char *o = apr_palloc(p, 3 * n + 1);

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (apr_isalnum(c) || strchr("!#$&+-.^_`|~", c)) {
            o[w++] = (char)c;
        }
        else {
            o[w++] = '%';
            rc_hex_encode_upper(o + w, &c, 1);
            w += 2;
        }
    }
    o[w] = '\0';
    return o;
}

/* "attachment; filename="Stem - 2026-11-26.pdf"; filename*=UTF-8''Stem%20%E2%80%93%20…" */
static const char *content_disposition(apr_pool_t *p, const char *title, const char *date,
                                       const char *ext)
{
    const char *stem = file_stem(p, title);
    const char *astem = ascii_filename(p, stem), *c;
    const char *full = date ? apr_pstrcat(p, stem, " \xE2\x80\x93 ", date, ".", ext, NULL)
                            : apr_pstrcat(p, stem, ".", ext, NULL);
    const char *plain;

    /* A name in a script without ASCII stand-ins would be all "_". */
    for (c = astem; *c && !apr_isalnum(*c); c++) {
    }
    if (!*c) {
        astem = "Conversation";
    }
    plain = date ? apr_pstrcat(p, astem, " - ", date, ".", ext, NULL)
                 : apr_pstrcat(p, astem, ".", ext, NULL);

    return apr_psprintf(p, "attachment; filename=\"%s\"; filename*=UTF-8''%s", plain,
                        ext_filename(p, full));
}

/* ---- markdown text -------------------------------------------------------- */

static const char *open_fence(apr_pool_t *p, const char *md);

static int is_user_step(const rc_step *s)
{
    return s->type && strcmp(s->type, "user_message") == 0;
}

/* The Sources section of an answer whose metadata names sources, or "". */
static const char *sources_markdown(apr_pool_t *p, const rc_step *s)
{
    json_t *meta = s->metadata ? json_loads(s->metadata, 0, NULL) : NULL;
    const char *md = rc_sources_markdown(p, json_object_get(meta, "sources"));

    json_decref(meta);
    return md;
}

/* What a step says in an export: an answer with the reference's export
 * cleaning (JSON preamble and status lines gone) and its sources, a user's
 * message as typed. */
static const char *step_markdown(apr_pool_t *p, const rc_step *s)
{
    const char *out = s->output ? s->output : "", *src;
    size_t n = strlen(out);

    if (is_user_step(s)) {
        return rc_utf8_sanitize(p, out, n);
    }
    out = rc_clean_export(p, out, n);
    src = sources_markdown(p, s);
    if (*src) {
        /* after the answer, whatever fence it left open */
        const char *fence = open_fence(p, out);
        char *all = apr_pstrcat(p, out, fence ? "\n" : "", fence ? fence : "",
                                *out ? "\n\n" : "", src, NULL);
        size_t n2 = strlen(all);
        while (n2 > 0 && all[n2 - 1] == '\n') {
            all[--n2] = '\0';
        }
        out = all;
    }
    return rc_utf8_sanitize(p, out, strlen(out));
}

static const char *speaker(rc_req *q, apr_pool_t *p, const rc_step *s)
{
    const char *n = one_line(p, s->name);

    if (*n) {
        return n;
    }
    return is_user_step(s) ? (q->user ? q->user : "User") : rc_conf_assistant(q->conf);
}

/* The fence (``` or ~~~ run) of a fenced code block still open at the end of
 * md, or NULL. A transcript joins texts one after the other: a message with
 * an unterminated fence would otherwise swallow every turn that follows. */
static const char *open_fence(apr_pool_t *p, const char *md)
{
    const char *line = md;
    char fc = 0;
    size_t flen = 0;

    while (*line) {
        const char *end = strchr(line, '\n'), *c = line;
        size_t ind = 0, run = 0;
        if (!end) {
            end = line + strlen(line);
        }
        while (c < end && *c == ' ' && ind < 4) {
            c++;
            ind++;
        }
        if (ind < 4 && c < end && (*c == '`' || *c == '~')) {
            char ch = *c;
            while (c + run < end && c[run] == ch) {
                run++;
            }
            if (run >= 3) {
                const char *rest = c + run;
                if (!fc) {
                    /* A backtick fence's info string may not hold a backtick. */
                    if (ch == '~' || !memchr(rest, '`', (size_t)(end - rest))) {
                        fc = ch;
                        flen = run;
                    }
                }
                else if (ch == fc && run >= flen) {
                    while (rest < end && (*rest == ' ' || *rest == '\t' || *rest == '\r')) {
                        rest++;
                    }
                    if (rest == end) {
                        fc = 0;
                    }
                }
            }
        }
        line = *end ? end + 1 : end;
    }
    if (!fc) {
        return NULL;
    }
    {
        char *f = apr_palloc(p, flen + 1);
        memset(f, fc, flen);
        f[flen] = '\0';
        return f;
    }
}

/* ---- sending -------------------------------------------------------------- */

static void common_headers(request_rec *r, const char *disposition)
{
    apr_table_setn(r->headers_out, "Content-Disposition", disposition);
    apr_table_setn(r->headers_out, "Cache-Control", "private, no-store");
}

static int send_body(request_rec *r, const char *type, const char *disposition,
                     const char *body, apr_size_t len)
{
    r->status = HTTP_OK;
    ap_set_content_type(r, type);
    common_headers(r, disposition);
    ap_set_content_length(r, (apr_off_t)len);
    if (!r->header_only && len) {
        ap_rwrite(body, (int)len, r);
    }
    return OK;
}

/* 500 with the JSON error body, logged once under this file's tag (not
 * through rc_send_error, which would log a second, generic line). */
static int pdf_failed(rc_req *q, const char *what, const char *id, const char *err)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, q->r, "RC0501: PDF export of %s %s failed: %s",
                  what, id, err ? err : "unknown error");
    return rc_send_json(q->r, HTTP_INTERNAL_SERVER_ERROR,
                        json_pack("{s:{s:s,s:s}}", "error", "code", "export_failed",
                                  "message", "the PDF could not be made"));
}

/* What both PDF exports set: the configured fonts, the child's font cache,
 * the title, the user as author, the creation time. */
static void pdf_setup(rc_req *q, const char *title, apr_time_t created,
                      rc_pdf_fonts *f, rc_pdf_meta *m)
{
    const rc_dir_conf *c = q->conf;

    f->regular = c->pdf_font[0];
    f->bold = c->pdf_font[1];
    f->italic = c->pdf_font[2];
    f->bold_italic = c->pdf_font[3];
    f->mono = c->pdf_font[4];
    f->fallback = c->pdf_font[5];
    f->cache = font_cache;
    m->title = title;
    m->author = q->user;
    m->created = created;
}

/* The rendered PDF (rv 0), or the error of a failed rendering. */
static int send_pdf(rc_req *q, int rv, const char *out, apr_size_t outlen, const char *disp,
                    const char *what, const char *id, const char *err)
{
    if (rv != 0 || !out) {
        return pdf_failed(q, what, id, err);
    }
    return send_body(q->r, "application/pdf", disp, out, outlen);
}

/* ---- the two exports ------------------------------------------------------- */

static int export_step(rc_req *q, rc_db *db, const char *id, int pdf)
{
    request_rec *r = q->r;
    apr_pool_t *p = r->pool;
    rc_step *s = rc_api_owned_step(q, db, id);
    rc_thread *t;
    const char *md, *title, *disp;
    int failed = 0;

    if (!s) {
        return OK;
    }
    t = rc_store_thread_get(db, s->thread_id, q->user_id, q->user, rc_req_app(q), &failed);
    if (failed) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the database is unavailable");
    }
    md = step_markdown(p, s);
    title = thread_title(p, t);
    disp = content_disposition(p, title, stamp_date(p, s->created ? s->created
                                                    : t ? t->created : NULL),
                               pdf ? "pdf" : "md");
    if (!pdf) {
        const char *body = *md ? apr_pstrcat(p, md, "\n", NULL) : "";
        return send_body(r, "text/markdown; charset=utf-8", disp, body, strlen(body));
    }
    else {
        rc_pdf_fonts fonts;
        rc_pdf_meta meta;
        const char *out = NULL, *err = NULL;
        apr_size_t outlen = 0;
        apr_time_t created = stamp_time(s->created);

        int rv;

        pdf_setup(q, title, created ? created : t ? stamp_time(t->created) : 0, &fonts, &meta);
        rv = rc_pdf_from_markdown(p, md, strlen(md), &fonts, &meta, &out, &outlen, &err);
        return send_pdf(q, rv, out, outlen, disp, "message", s->id, err);
    }
}

/* ---- a whole thread, read a piece at a time ------------------------------ */

/* Steps read per statement (rc_conversation_read) while exporting. */
#define RC_EXPORT_PIECE 64
/* A Markdown transcript up to this size goes out with a Content-Length;
 * a longer one streams (chunked) as it is read. */
#define RC_EXPORT_BUFFER (256 * 1024)

/* One turn of a transcript, its strings in p. */
static void turn_of(rc_req *q, apr_pool_t *p, const rc_step *s, rc_pdf_turn *turn)
{
    turn->role = is_user_step(s) ? "user" : "assistant";
    turn->name = speaker(q, p, s);
    turn->timestamp = human_stamp(p, s->created);
    turn->markdown = step_markdown(p, s);
}

typedef int (*turn_fn)(rc_req *q, void *ctx, const rc_pdf_turn *turn, int i, apr_pool_t *scratch);

/* Calls fn on each turn of the branch shown, in order, reading the steps
 * RC_EXPORT_PIECE at a time into a scratch pool cleared after each piece:
 * the thread is never in memory whole. 0, or -1 on a database error or when
 * fn fails. */
static int each_turn(rc_req *q, rc_db *db, const rc_conversation *conv, turn_fn fn, void *ctx)
{
    apr_pool_t *sp;
    apr_array_header_t *path = rc_conversation_shown(q->r->pool, conv);
    int lo, i, k = 0, rv = 0;

    apr_pool_create(&sp, q->r->pool);
    for (lo = 0; !rv && lo < path->nelts; lo += RC_EXPORT_PIECE) {
        int n = path->nelts - lo < RC_EXPORT_PIECE ? path->nelts - lo : RC_EXPORT_PIECE;
        apr_array_header_t *steps = rc_conversation_read(rc_db_scratch(db, sp), conv,
                                                         &APR_ARRAY_IDX(path, lo, int), n);
        rv = steps ? 0 : -1;
        for (i = 0; !rv && i < steps->nelts; i++) {
            rc_pdf_turn turn;
            turn_of(q, sp, APR_ARRAY_IDX(steps, i, rc_step *), &turn);
            rv = fn(q, ctx, &turn, k++, sp);
        }
        apr_pool_clear(sp);
    }
    apr_pool_destroy(sp);
    return rv;
}

typedef struct {
    rc_buf *b;
    const char *disp;
    int streaming;               /* the headers and the start went out */
} md_out;

static void md_start(rc_req *q, md_out *o)
{
    request_rec *r = q->r;

    r->status = HTTP_OK;
    ap_set_content_type(r, "text/markdown; charset=utf-8");
    common_headers(r, o->disp);
    o->streaming = 1;
}

/* The buffer goes out when it is full (the response then streams). */
static int md_flush(rc_req *q, md_out *o, int force)
{
    if (!force && o->b->len < RC_EXPORT_BUFFER) {
        return 0;
    }
    if (!o->streaming) {
        md_start(q, o);
    }
    if (o->b->len && ap_rwrite(o->b->data, (int)o->b->len, q->r) < 0) {
        return -1;    /* the client went away */
    }
    rc_buf_clear(o->b);
    return 0;
}

static int md_turn(rc_req *q, void *ctx, const rc_pdf_turn *t, int i, apr_pool_t *scratch)
{
    md_out *o = ctx;
    const char *fence = open_fence(scratch, t->markdown);
    int bad = 0;

    bad |= rc_buf_appends(o->b, i ? "\n---\n\n### " : "\n### ");
    bad |= rc_buf_appends(o->b, t->name);
    bad |= rc_buf_appends(o->b, " \xE2\x80\x94 ");
    bad |= rc_buf_appends(o->b, t->timestamp);
    bad |= rc_buf_appends(o->b, "\n\n");
    if (*t->markdown) {
        bad |= rc_buf_appends(o->b, t->markdown);
        bad |= rc_buf_appends(o->b, "\n");
        if (fence) {
            bad |= rc_buf_appends(o->b, fence);
            bad |= rc_buf_appends(o->b, "\n");
        }
    }
    return bad ? -1 : md_flush(q, o, 0);
}

/* A response already under way cannot change its status: it is cut short
 * (no last chunk), so the client sees a broken download, not a whole one. */
static int abort_stream(rc_req *q, const char *id)
{
    request_rec *r = q->r;
    conn_rec *c = r->connection;
    apr_bucket_brigade *bb = apr_brigade_create(r->pool, c->bucket_alloc);

    ap_log_rerror(APLOG_MARK, c->aborted ? APLOG_INFO : APLOG_ERR, 0, r,
                  "RC0502: Markdown export of thread %s cut short: %s", id,
                  c->aborted ? "the client went away" : "the database failed");
    c->keepalive = AP_CONN_CLOSE;
    APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_error_create(HTTP_BAD_GATEWAY, NULL, r->pool,
                                                       c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(c->bucket_alloc));
    ap_pass_brigade(r->output_filters, bb);
    return OK;
}

static int export_thread_md(rc_req *q, rc_db *db, const rc_thread *t,
                            const rc_conversation *conv, const char *title, const char *disp)
{
    request_rec *r = q->r;
    md_out o;

    o.b = rc_buf_make(r->pool, 4096);
    o.disp = disp;
    o.streaming = 0;
    if (rc_buf_appends(o.b, "# ") || rc_buf_appends(o.b, title) || rc_buf_appends(o.b, "\n")) {
        return rc_send_error(r, HTTP_INTERNAL_SERVER_ERROR, "no_memory",
                             "the transcript is too large");
    }
    if (each_turn(q, db, conv, md_turn, &o)) {
        if (o.streaming) {
            return abort_stream(q, t->id);
        }
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the database is unavailable");
    }
    if (!o.streaming) {
        return send_body(r, "text/markdown; charset=utf-8", disp, o.b->data, o.b->len);
    }
    return md_flush(q, &o, 1) ? abort_stream(q, t->id) : OK;
}

typedef struct {
    apr_pool_t *p;
    rc_pdf_turn *turns;
    int n;
} pdf_turns;

/* The turns kept for the PDF engine: only their strings, copied out of the
 * piece read (the steps' rows are not kept). */
static int pdf_turn(rc_req *q, void *ctx, const rc_pdf_turn *t, int i, apr_pool_t *scratch)
{
    pdf_turns *pt = ctx;
    rc_pdf_turn *d = &pt->turns[i];

    (void)q;
    (void)scratch;
    d->role = t->role;
    d->name = apr_pstrdup(pt->p, t->name);
    d->timestamp = apr_pstrdup(pt->p, t->timestamp);
    d->markdown = apr_pstrdup(pt->p, t->markdown);
    pt->n = i + 1;
    return 0;
}

/* The conversation as shown: the branch shown of its message steps. */
static int export_thread(rc_req *q, rc_db *db, const char *id, int pdf)
{
    request_rec *r = q->r;
    apr_pool_t *p = r->pool;
    rc_thread *t = rc_api_owned_thread(q, db, id);
    rc_conversation *conv;
    const char *title, *disp;

    if (!t) {
        return OK;
    }
    if (!(conv = rc_conversation_load(db, t->id))) {
        return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                             "the database is unavailable");
    }
    title = thread_title(p, t);
    disp = content_disposition(p, title, stamp_date(p, t->created), pdf ? "pdf" : "md");
    if (!pdf) {
        return export_thread_md(q, db, t, conv, title, disp);
    }
    else {
        rc_pdf_fonts fonts;
        rc_pdf_meta meta;
        const char *out = NULL, *err = NULL;
        apr_size_t outlen = 0;
        pdf_turns pt;
        int rv;

        pt.p = p;
        pt.n = 0;
        pt.turns = apr_pcalloc(p, sizeof(rc_pdf_turn) * (conv->n + 1));
        if (each_turn(q, db, conv, pdf_turn, &pt)) {
            return rc_send_error(r, HTTP_SERVICE_UNAVAILABLE, "database",
                                 "the database is unavailable");
        }
        pdf_setup(q, title, stamp_time(t->created), &fonts, &meta);
        rv = rc_pdf_transcript(p, pt.turns, pt.n, &fonts, &meta, &out, &outlen, &err);
        return send_pdf(q, rv, out, outlen, disp, "thread", t->id, err);
    }
}

int rc_handle_export(rc_req *q, const char *kind, const char *id, const char *format)
{
    int pdf = format && strcmp(format, "pdf") == 0;
    int steps = kind && strcmp(kind, "steps") == 0;
    rc_db *db;

    if (!pdf && !(format && strcmp(format, "md") == 0)) {
        return rc_send_error(q->r, HTTP_NOT_FOUND, "not_found", "no such export format");
    }
    if (!steps && !(kind && strcmp(kind, "threads") == 0)) {
        return rc_send_error(q->r, HTTP_NOT_FOUND, "not_found", "no such route");
    }
    if (q->r->method_number != M_GET) {
        return rc_send_method_not_allowed(q->r, "GET, HEAD");
    }
    if (!(db = rc_api_db(q))) {
        return OK;
    }
    return steps ? export_step(q, db, id, pdf) : export_thread(q, db, id, pdf);
}

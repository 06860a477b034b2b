/* Unit tests of the streaming multipart/form-data scanner (src/core/multipart.c). */
#include "multipart.h"
#include "unit.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdlib.h>
#include <time.h>

#define MAXPARTS 16

typedef struct {
    char *name, *filename, *ctype;
    char *data;
    size_t size, cap;
    int ended;
} tpart;

typedef struct {
    tpart parts[MAXPARTS];
    int n;
    int order_ok;        /* on_data / on_part_end only inside a part */
    int abort_on_part;   /* non-zero: returned by on_part */
    size_t data_total;
} rec;

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static int on_part(void *ctx, const char *name, const char *filename, const char *ctype)
{
    rec *r = ctx;
    tpart *t;

    if (r->n && !r->parts[r->n - 1].ended) {
        r->order_ok = 0;
    }
    if (r->abort_on_part) {
        return r->abort_on_part;
    }
    if (r->n == MAXPARTS) {
        return 99;
    }
    t = &r->parts[r->n++];
    memset(t, 0, sizeof(*t));
    t->name = dup_or_null(name);
    t->filename = dup_or_null(filename);
    t->ctype = dup_or_null(ctype);
    return 0;
}

static int on_data(void *ctx, const char *buf, size_t len)
{
    rec *r = ctx;
    tpart *t;

    if (!r->n || r->parts[r->n - 1].ended || !len) {
        r->order_ok = 0;
        return 0;
    }
    t = &r->parts[r->n - 1];
    if (t->size + len > t->cap) {
        t->cap = (t->size + len) * 2;
        t->data = realloc(t->data, t->cap);
    }
    memcpy(t->data + t->size, buf, len);
    t->size += len;
    r->data_total += len;
    return 0;
}

static int on_end(void *ctx)
{
    rec *r = ctx;

    if (!r->n || r->parts[r->n - 1].ended) {
        r->order_ok = 0;
        return 0;
    }
    r->parts[r->n - 1].ended = 1;
    return 0;
}

static void rec_init(rec *r)
{
    memset(r, 0, sizeof(*r));
    r->order_ok = 1;
}

static void rec_free(rec *r);
static void rec_reset(rec *r);

static void rec_free(rec *r)
{
    int i;

    for (i = 0; i < r->n; i++) {
        free(r->parts[i].name);
        free(r->parts[i].filename);
        free(r->parts[i].ctype);
        free(r->parts[i].data);
    }
    r->n = 0;
}

static void rec_reset(rec *r)
{
    rec_free(r);
    rec_init(r);
}

/* Feeds body in pieces of at most `step` bytes (0: in one piece), then
 * finishes. Returns the first non-zero code, or finish's. */
static int run(apr_pool_t *p, const char *boundary, const char *body, size_t len, size_t step,
               rec *r, const char **err)
{
    rc_mp *m = rc_mp_create(p, boundary, on_part, on_data, on_end, r);
    size_t pos = 0;
    int rc;

    if (!m) {
        return 1000;
    }
    if (!step) {
        step = len ? len : 1;
    }
    while (pos < len) {
        size_t n = len - pos < step ? len - pos : step;
        if ((rc = rc_mp_feed(m, body + pos, n)) != 0) {
            *err = rc_mp_error(m);
            return rc;
        }
        pos += n;
    }
    rc = rc_mp_finish(m);
    *err = rc_mp_error(m);
    return rc;
}

static int run_split2(apr_pool_t *p, const char *boundary, const char *body, size_t len,
                      size_t split, rec *r)
{
    rc_mp *m = rc_mp_create(p, boundary, on_part, on_data, on_end, r);
    int rc;

    if ((rc = rc_mp_feed(m, body, split)) != 0) {
        return rc;
    }
    if ((rc = rc_mp_feed(m, body + split, len - split)) != 0) {
        return rc;
    }
    return rc_mp_finish(m);
}

#define B "----WebKitFormBoundaryx7ZpQ3"

/* A sample with a preamble, a plain field, two files (one holding the
 * boundary string without the CRLF-- prefix, CRs, "\r\n--" and "\r\n-" + a
 * boundary prefix), an empty file and an epilogue. */
static const char sample[] =
    "preamble to ignore\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"thread_id\"\r\n"
    "\r\n"
    "abc-123\r\n"
    "--" B "\r\n"
    "content-disposition: form-data; name=\"files\"; filename=\"a.txt\"\r\n"
    "CONTENT-TYPE: text/plain\r\n"
    "\r\n"
    "line1\r\n--" "----WebKitFormBoundaryx7ZpQ" "x, " B " inline, -" B "\r\r\n\r\n-\r\n--\r\n--" "----WebKit\r\n"
    "\r\n"
    "--" B "  \r\n"
    "Content-Disposition: form-data; name=\"files\"; filename=\"b.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\x00\x01\x02\r\xff\r\n\r\n"
    "\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"files\"; filename=\"\"\r\n"
    "Content-Type: application/octet-stream\r\n"
    "\r\n"
    "\r\n"
    "--" B "--\r\n"
    "epilogue \r\n--" B "\r\n junk";

static void check_sample(rec *r, int rc, const char *how)
{
    static const char f1[] = "line1\r\n--" "----WebKitFormBoundaryx7ZpQ" "x, " B " inline, -" B
                             "\r\r\n\r\n-\r\n--\r\n--" "----WebKit\r\n";
    static const char f2[] = "\x00\x01\x02\r\xff\r\n\r\n";

    if (rc != 0 || r->n != 4 || !r->order_ok) {
        fprintf(stderr, "sample via %s: rc %d, %d parts, order %d\n", how, rc, r->n, r->order_ok);
        CHECK(0);
        return;
    }
    CHECK(rc == 0 && r->n == 4 && r->order_ok);
    CHECK_STR(r->parts[0].name, "thread_id");
    CHECK(r->parts[0].filename == NULL && r->parts[0].ctype == NULL);
    CHECK(r->parts[0].size == 7 && memcmp(r->parts[0].data, "abc-123", 7) == 0);
    CHECK_STR(r->parts[1].filename, "a.txt");
    CHECK_STR(r->parts[1].ctype, "text/plain");
    CHECK(r->parts[1].size == sizeof(f1) - 1 && memcmp(r->parts[1].data, f1, sizeof(f1) - 1) == 0);
    CHECK_STR(r->parts[2].filename, "b.bin");
    CHECK(r->parts[2].size == sizeof(f2) - 1 && memcmp(r->parts[2].data, f2, sizeof(f2) - 1) == 0);
    CHECK_STR(r->parts[3].filename, "");
    CHECK(r->parts[3].size == 0 && r->parts[3].ended);
    CHECK(r->parts[0].ended && r->parts[1].ended && r->parts[2].ended);
}

/* Every part equal to the reference run, silently; one CHECK per call. */
static int same_parts(const rec *a, const rec *b)
{
    int i;

    if (a->n != b->n || !b->order_ok) {
        return 0;
    }
    for (i = 0; i < a->n; i++) {
        const tpart *x = &a->parts[i], *y = &b->parts[i];
        if (strcmp(x->name, y->name) || (!x->filename != !y->filename)
            || (x->filename && strcmp(x->filename, y->filename)) || x->size != y->size
            || (x->size && memcmp(x->data, y->data, x->size)) || x->ended != y->ended) {
            return 0;
        }
    }
    return 1;
}

static void test_sample_splits(apr_pool_t *p)
{
    size_t len = sizeof(sample) - 1, i;
    rec ref = {0}, r = {0};
    const char *err;
    int rc, bad = 0;

    rec_reset(&ref);
    rc = run(p, B, sample, len, 0, &ref, &err);
    check_sample(&ref, rc, "one piece");

    rec_reset(&r);
    rc = run(p, B, sample, len, 1, &r, &err);
    check_sample(&r, rc, "byte by byte");
    rec_free(&r);

    for (i = 0; i <= len; i++) {
        rec_reset(&r);
        rc = run_split2(p, B, sample, len, i, &r);
        if (rc != 0 || !same_parts(&ref, &r)) {
            if (!bad++) {
                fprintf(stderr, "2-way split at %zu differs (rc %d)\n", i, rc);
            }
        }
        rec_free(&r);
    }
    CHECK(bad == 0);
    for (i = 2; i < 80; i++) {   /* pieces of every small size */
        rec_reset(&r);
        rc = run(p, B, sample, len, i, &r, &err);
        if (rc != 0 || !same_parts(&ref, &r)) {
            if (!bad++) {
                fprintf(stderr, "pieces of %zu differ\n", i);
            }
        }
        rec_free(&r);
    }
    CHECK(bad == 0);
    rec_free(&ref);
}

static int parse1(apr_pool_t *p, const char *body, rec *r, const char **err)
{
    rec_reset(r);
    return run(p, "XyZ", body, strlen(body), 0, r, err);
}

#define PART(hdrs, data) "--XyZ\r\n" hdrs "\r\n\r\n" data "\r\n"
#define END "--XyZ--\r\n"

static void test_names(apr_pool_t *p)
{
    rec r = {0};
    const char *err;
    int rc;

    /* UTF-8 names, escapes in quoted-strings, unescaped Windows paths */
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"files\"; "
                        "filename=\"r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.pdf\"", "x")
                   PART("Content-Disposition: form-data; name=\"files\"; filename=\"a \\\"q\\\" \\\\ b\"", "")
                   PART("Content-Disposition: form-data; name=\"files\"; filename=\"C:\\x\\y.pdf\"", "")
                   PART("Content-Disposition: form-data; name=\"files\"; filename=\"../../etc/passwd\"", "")
                   END, &r, &err);
    CHECK(rc == 0 && r.n == 4);
    CHECK_STR(r.parts[0].filename, "r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.pdf");
    CHECK_STR(rc_mp_clean_filename(p, r.parts[0].filename), "r\xc3\xa9sum\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac.pdf");
    CHECK_STR(r.parts[1].filename, "a \"q\" \\ b");
    CHECK_STR(r.parts[2].filename, "C:\\x\\y.pdf");
    CHECK_STR(rc_mp_clean_filename(p, r.parts[2].filename), "y.pdf");
    CHECK_STR(r.parts[3].filename, "../../etc/passwd");
    CHECK_STR(rc_mp_clean_filename(p, r.parts[3].filename), "passwd");
    rec_free(&r);

    /* RFC 5987 filename* wins over filename; UTF-8 and ISO-8859-1; bad ones ignored */
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"files\"; filename=\"EUR rates.pdf\"; "
                        "filename*=UTF-8''%e2%82%ac%20rates.pdf", "")
                   PART("Content-Disposition: form-data; name=files; filename*=iso-8859-1'en'%E9t%E9.txt", "")
                   PART("Content-Disposition: form-data; name=\"files\"; filename*=UTF-8''bad%zz; filename=\"ok.txt\"", "")
                   PART("Content-Disposition: form-data; name=\"files\"; filename*=KOI8-R''%C1; filename=\"k.txt\"", "")
                   PART("Content-Disposition: form-data; name=\"files\"; filename*=UTF-8''nul%00.txt; filename=\"n.txt\"", "")
                   PART("Content-Disposition: form-data; filename*=\"UTF-8''q%C3%A9.txt\"; name=\"files\"", "")
                   END, &r, &err);
    CHECK(rc == 0 && r.n == 6);
    CHECK_STR(r.parts[0].filename, "\xe2\x82\xac rates.pdf");
    CHECK_STR(r.parts[1].name, "files");
    CHECK_STR(r.parts[1].filename, "\xc3\xa9t\xc3\xa9.txt");
    CHECK_STR(r.parts[2].filename, "ok.txt");
    CHECK_STR(r.parts[3].filename, "k.txt");
    CHECK_STR(r.parts[4].filename, "n.txt");
    CHECK_STR(r.parts[5].filename, "q\xc3\xa9.txt");
    rec_free(&r);

    /* header folding, bare LF line ends, odd spacing and case, unknown headers */
    rc = parse1(p, "--XyZ\nX-Other: 1\nCONTENT-DISPOSITION :  FORM-DATA ;NAME=\"f\";\r\n"
                   "\tFileName = \"x y.txt\" ; foo\nContent-Type:\t text/csv; charset=utf-8 \n\ndata\r\n"
                   END, &r, &err);
    CHECK(rc == 0 && r.n == 1);
    CHECK_STR(r.parts[0].name, "f");
    CHECK_STR(r.parts[0].filename, "x y.txt");
    CHECK_STR(r.parts[0].ctype, "text/csv; charset=utf-8");
    CHECK(r.parts[0].size == 4);
    rec_free(&r);
}

static void test_clean(apr_pool_t *p)
{
    char big[1200], *want;
    const char *got;
    size_t i;

    CHECK_STR(rc_mp_clean_filename(p, NULL), "file");
    CHECK_STR(rc_mp_clean_filename(p, ""), "file");
    CHECK_STR(rc_mp_clean_filename(p, "../../etc/passwd"), "passwd");
    CHECK_STR(rc_mp_clean_filename(p, "C:\\x\\y.pdf"), "y.pdf");
    CHECK_STR(rc_mp_clean_filename(p, "\\\\server\\share\\r.doc"), "r.doc");
    CHECK_STR(rc_mp_clean_filename(p, "dir/"), "file");
    CHECK_STR(rc_mp_clean_filename(p, ".."), "file");
    CHECK_STR(rc_mp_clean_filename(p, " . .htaccess. . "), "htaccess");
    CHECK_STR(rc_mp_clean_filename(p, "a\r\nb\tc\x01\x7f.txt"), "abc.txt");
    CHECK_STR(rc_mp_clean_filename(p, "evil\xe2\x80\xaetxt.exe"), "eviltxt.exe");   /* RLO dropped */
    CHECK_STR(rc_mp_clean_filename(p, "x\xc2\x85y"), "xy");                         /* C1 NEL */
    CHECK_STR(rc_mp_clean_filename(p, "bad\xff\xc3.txt"), "bad\xef\xbf\xbd\xef\xbf\xbd.txt");
    CHECK_STR(rc_mp_clean_filename(p, "over\xc0\xaf.txt"), "over\xef\xbf\xbd\xef\xbf\xbd.txt");
    CHECK_STR(rc_mp_clean_filename(p, "sur\xed\xa0\x80.txt"),
              "sur\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.txt");
    CHECK_STR(rc_mp_clean_filename(p, "\xf0\x9f\x98\x80.png"), "\xf0\x9f\x98\x80.png");

    /* 1,000-byte names: capped to 255 bytes, extension kept */
    memset(big, 'a', 1000);
    memcpy(big + 1000, ".pdf", 5);
    got = rc_mp_clean_filename(p, big);
    CHECK(strlen(got) == 255);
    CHECK(strcmp(got + 251, ".pdf") == 0);
    /* multibyte at the cut: never split a character */
    for (i = 0; i + 2 <= 1000; i += 2) {
        memcpy(big + i, "\xc3\xa9", 2);
    }
    memcpy(big + 999, "x.txt", 6);   /* odd length stem: the cut lands mid-character */
    big[998] = 'z';
    got = rc_mp_clean_filename(p, big);
    CHECK(strlen(got) <= 255 && strlen(got) >= 250);
    CHECK(strcmp(got + strlen(got) - 4, ".txt") == 0);
    want = apr_pstrdup(p, got);
    CHECK(strcmp(rc_mp_clean_filename(p, want), want) == 0);   /* valid UTF-8: stable */
    /* 1,000 bytes without extension */
    memset(big, 'b', 1000);
    big[1000] = '\0';
    CHECK(strlen(rc_mp_clean_filename(p, big)) == 255);
    /* a long "extension" is not kept whole */
    memset(big, 'c', 1000);
    big[10] = '.';
    CHECK(strlen(rc_mp_clean_filename(p, big)) == 255);
}

static void test_errors(apr_pool_t *p)
{
    rec r = {0};
    const char *err;
    char *huge;
    int rc;

    /* truncated inside a part */
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"files\"; filename=\"a\"", "abc") "--Xy",
                &r, &err);
    CHECK(rc == RC_MP_ERROR);
    CHECK_STR(err, "truncated body");
    CHECK(r.n == 1 && !r.parts[0].ended);
    rec_free(&r);

    /* no closing boundary at all */
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"files\"; filename=\"a\"", "abc"),
                &r, &err);
    CHECK(rc == RC_MP_ERROR);
    CHECK_STR(err, "truncated body");
    rec_free(&r);

    /* truncated within the headers */
    rc = parse1(p, "--XyZ\r\nContent-Disposition: form-da", &r, &err);
    CHECK(rc == RC_MP_ERROR && r.n == 0);
    CHECK_STR(err, "truncated body");
    rec_free(&r);

    /* no boundary anywhere; empty body */
    rc = parse1(p, "just some text\r\n", &r, &err);
    CHECK(rc == RC_MP_ERROR);
    CHECK_STR(err, "no multipart boundary in the body");
    rc = parse1(p, "", &r, &err);
    CHECK(rc == RC_MP_ERROR);

    /* malformed headers */
    rc = parse1(p, PART("Content-Disposition form-data; name=\"a\"", "") END, &r, &err);
    CHECK(rc == RC_MP_ERROR);
    CHECK_STR(err, "malformed part header");
    rc = parse1(p, PART("Content-Type: text/plain", "") END, &r, &err);
    CHECK(rc == RC_MP_ERROR);
    CHECK_STR(err, "part without Content-Disposition");
    rc = parse1(p, PART("Content-Disposition: attachment; name=\"a\"", "") END, &r, &err);
    CHECK_STR(err, "part is not form-data");
    rc = parse1(p, PART("Content-Disposition: form-data; filename=\"a\"", "") END, &r, &err);
    CHECK_STR(err, "part without a field name");
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"a", "") END, &r, &err);
    CHECK_STR(err, "unterminated quoted-string in Content-Disposition");
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"a\"x", "") END, &r, &err);
    CHECK_STR(err, "malformed Content-Disposition");
    rc = parse1(p, "--XyZ\r\nContent-Disposition: form-data; name=\"a\rb\"\r\n\r\n\r\n" END, &r, &err);
    CHECK_STR(err, "malformed part header");
    rc = parse1(p, "--XyZ\r\n Content-Disposition: form-data; name=\"a\"\r\n\r\n\r\n" END, &r, &err);
    CHECK_STR(err, "malformed part header");
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"a\"\r\n"
                        "Content-Disposition: form-data; name=\"b\"", "") END, &r, &err);
    CHECK_STR(err, "duplicate Content-Disposition");
    rc = parse1(p, "--XyZ\r\n\r\nno headers\r\n" END, &r, &err);
    CHECK_STR(err, "part without Content-Disposition");
    rc = parse1(p, "--XyZjunk\r\n", &r, &err);
    CHECK_STR(err, "malformed boundary line");
    /* "CRLF--boundary" inside content is a delimiter (RFC 2046): junk after it is an error */
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"a\"", "x\r\n--XyZx") END, &r, &err);
    CHECK(rc == RC_MP_ERROR && r.n == 1 && r.parts[0].ended && r.parts[0].size == 1);
    CHECK_STR(err, "malformed boundary line");
    rc = parse1(p, "--XyZ\rx", &r, &err);
    CHECK_STR(err, "malformed boundary line");
    rc = parse1(p, "--XyZ-x", &r, &err);
    CHECK_STR(err, "malformed boundary line");
    /* a NUL in a header */
    {
        static const char nul[] = "--XyZ\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\n\r\n--XyZ--";
        rec_reset(&r);
        rc = run(p, "XyZ", nul, sizeof(nul) - 1, 0, &r, &err);
        CHECK(rc == RC_MP_ERROR);
        CHECK_STR(err, "malformed part header");
    }

    /* huge header: over RC_MP_HEADERS_MAX, fed in small pieces */
    huge = apr_palloc(p, 100000);
    strcpy(huge, "--XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"");
    {
        size_t l = strlen(huge);
        memset(huge + l, 'h', 60000);
        strcpy(huge + l + 60000, "\"\r\n\r\nx\r\n--XyZ--");
    }
    rec_reset(&r);
    rc = run(p, "XyZ", huge, strlen(huge), 7, &r, &err);
    CHECK(rc == RC_MP_ERROR && r.n == 0);
    CHECK_STR(err, "part headers too large");
    /* many small header lines add up too */
    {
        char *h = huge, *o = h;
        int i;
        o += sprintf(o, "--XyZ\r\n");
        for (i = 0; i < 2000; i++) {
            o += sprintf(o, "X-%d: y\r\n", i);
        }
        sprintf(o, "Content-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--XyZ--");
        rec_reset(&r);
        rc = run(p, "XyZ", h, strlen(h), 0, &r, &err);
        CHECK_STR(err, "part headers too large");
    }
    /* the limit: RC_MP_HEADERS_MAX bytes up to the CR of the empty line */
    {
        const char *cd = "Content-Disposition: form-data; name=\"a\"; filename=\"";
        size_t pad = RC_MP_HEADERS_MAX - (strlen(cd) + 4);
        int extra;
        for (extra = 0; extra < 2; extra++) {
            char *o = huge;
            o += sprintf(o, "--XyZ\r\n%s", cd);
            memset(o, 'k', pad + (size_t)extra);
            o += pad + (size_t)extra;
            sprintf(o, "\"\r\n\r\nv\r\n--XyZ--");
            rec_reset(&r);
            rc = run(p, "XyZ", huge, strlen(huge), 0, &r, &err);
            if (!extra) {
                CHECK(rc == 0 && r.n == 1 && r.parts[0].filename
                      && strlen(r.parts[0].filename) == pad);
            }
            else {
                CHECK(rc == RC_MP_ERROR);
                CHECK_STR(err, "part headers too large");
            }
        }
        rec_free(&r);
    }

    /* after a failure the same code sticks */
    {
        rc_mp *m = rc_mp_create(p, "XyZ", NULL, NULL, NULL, NULL);
        CHECK(rc_mp_error(m) == NULL);
        CHECK(rc_mp_feed(m, "--XyZ!", 6) == RC_MP_ERROR);
        CHECK(rc_mp_feed(m, "--XyZ--", 7) == RC_MP_ERROR);
        CHECK(rc_mp_finish(m) == RC_MP_ERROR);
    }
    /* a callback's code is returned, now and later */
    rec_reset(&r);
    r.abort_on_part = 42;
    {
        rc_mp *m = rc_mp_create(p, "XyZ", on_part, on_data, on_end, &r);
        const char *b = PART("Content-Disposition: form-data; name=\"a\"", "v") END;
        CHECK(rc_mp_feed(m, b, strlen(b)) == 42);
        CHECK(rc_mp_feed(m, "x", 1) == 42);
        CHECK(rc_mp_finish(m) == 42);
        CHECK_STR(rc_mp_error(m), "stopped by the application");
    }
}

static void test_misc(apr_pool_t *p)
{
    rec r = {0};
    const char *err;
    int rc;

    /* NULL callbacks, epilogue ignored, rc_mp_done */
    {
        rc_mp *m = rc_mp_create(p, "XyZ", NULL, NULL, NULL, NULL);
        const char *b = PART("Content-Disposition: form-data; name=\"a\"; filename=\"f\"", "v") END
                        "epilogue --XyZ\r\n garbage";
        CHECK(rc_mp_feed(m, b, strlen(b)) == 0);
        CHECK(rc_mp_done(m));
        CHECK(rc_mp_feed(m, "more", 4) == 0);
        CHECK(rc_mp_finish(m) == 0);
        CHECK(rc_mp_error(m) == NULL);
    }
    /* a closing boundary right away: no parts, done */
    rc = parse1(p, "--XyZ--", &r, &err);
    CHECK(rc == 0 && r.n == 0);
    /* leading CRLF (empty preamble) and body of only CRLFs */
    rc = parse1(p, "\r\n" PART("Content-Disposition: form-data; name=\"a\"", "\r\n\r\n") END, &r, &err);
    CHECK(rc == 0 && r.n == 1 && r.parts[0].size == 4);
    rec_free(&r);
    /* an empty file */
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"files\"; filename=\"empty.txt\"\r\n"
                        "Content-Type: text/plain", "") END, &r, &err);
    CHECK(rc == 0 && r.n == 1 && r.parts[0].size == 0 && r.parts[0].ended);
    CHECK_STR(r.parts[0].filename, "empty.txt");
    rec_free(&r);
    /* empty Content-Type value is NULL */
    rc = parse1(p, PART("Content-Disposition: form-data; name=\"a\"\r\nContent-Type:  ", "") END,
                &r, &err);
    CHECK(rc == 0 && r.n == 1 && r.parts[0].ctype == NULL);
    rec_free(&r);
    /* a 70-character boundary, a boundary-length part body */
    {
        char bnd[71], body[600];
        memset(bnd, '7', 70);
        bnd[70] = '\0';
        snprintf(body, sizeof(body), "--%s\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n"
                 "\r\n--%.69s\r\n--%s--", bnd, bnd, bnd);
        rec_reset(&r);
        rc = run(p, bnd, body, strlen(body), 1, &r, &err);
        CHECK(rc == 0 && r.n == 1 && r.parts[0].size == 73);
        rec_free(&r);
    }
    /* invalid boundaries at create */
    CHECK(rc_mp_create(p, "", NULL, NULL, NULL, NULL) == NULL);
    CHECK(rc_mp_create(p, "a\r\nb", NULL, NULL, NULL, NULL) == NULL);
    CHECK(rc_mp_create(p, "trailing ", NULL, NULL, NULL, NULL) == NULL);
    {
        char b71[72];
        memset(b71, 'b', 71);
        b71[71] = '\0';
        CHECK(rc_mp_create(p, b71, NULL, NULL, NULL, NULL) == NULL);
    }
}

static void test_boundary(apr_pool_t *p)
{
    CHECK_STR(rc_mp_boundary(p, "multipart/form-data; boundary=----WebKitFormBoundaryAbc"),
              "----WebKitFormBoundaryAbc");
    CHECK_STR(rc_mp_boundary(p, "Multipart/Form-Data;BOUNDARY=\"quoted; b=x\""), "quoted; b=x");
    CHECK_STR(rc_mp_boundary(p, "multipart/form-data; charset=utf-8; boundary=\"a\\\"b\" ; x=y"), "a\"b");
    CHECK_STR(rc_mp_boundary(p, "  multipart/form-data ; boundary = abc  "), "abc");
    CHECK_STR(rc_mp_boundary(p, "multipart/form-data; boundary=a b"), "a b");
    CHECK(rc_mp_boundary(p, NULL) == NULL);
    CHECK(rc_mp_boundary(p, "") == NULL);
    CHECK(rc_mp_boundary(p, "application/json") == NULL);
    CHECK(rc_mp_boundary(p, "multipart/mixed; boundary=abc") == NULL);
    CHECK(rc_mp_boundary(p, "multipart/form-dataX; boundary=abc") == NULL);
    CHECK(rc_mp_boundary(p, "multipart/form-data") == NULL);
    CHECK(rc_mp_boundary(p, "multipart/form-data; boundary=") == NULL);
    CHECK(rc_mp_boundary(p, "multipart/form-data; boundary=\"\"") == NULL);
    CHECK(rc_mp_boundary(p, "multipart/form-data; boundary=\"abc") == NULL);
    CHECK(rc_mp_boundary(p, "multipart/form-data; boundary=\"abc \"") == NULL);
    CHECK(rc_mp_boundary(p, "multipart/form-data; boundary=a\x01z") == NULL);
    CHECK(rc_mp_boundary(p, "multipart/form-data; boundary="
                            "12345678901234567890123456789012345678901234567890123456789012345678901") == NULL);
    CHECK_STR(rc_mp_boundary(p, "multipart/form-data; boundary="
                                "1234567890123456789012345678901234567890123456789012345678901234567890"),
              "1234567890123456789012345678901234567890123456789012345678901234567890");
}

static void test_encode(apr_pool_t *p)
{
    const char *nb = rc_mp_new_boundary(p), *nb2 = rc_mp_new_boundary(p);
    const char *head, *tail, *err;
    char *body;
    rec r = {0};
    int rc;

    CHECK(strlen(nb) == 43 && strncmp(nb, "----RagChat", 11) == 0 && strcmp(nb, nb2) != 0);
    CHECK(rc_mp_create(p, nb, NULL, NULL, NULL, NULL) != NULL);
    CHECK_STR(rc_mp_part_head(p, "BB", "files", "a \"b\" c\\d\r\ne.pdf", "application/pdf"),
              "\r\n--BB\r\nContent-Disposition: form-data; name=\"files\"; "
              "filename=\"a \\\"b\\\" c\\\\de.pdf\"\r\nContent-Type: application/pdf\r\n\r\n");
    CHECK_STR(rc_mp_part_head(p, "BB", "thread_id", NULL, NULL),
              "\r\n--BB\r\nContent-Disposition: form-data; name=\"thread_id\"\r\n\r\n");
    CHECK_STR(rc_mp_part_head(p, "BB", "f", "x", "text/plain\r\nX-Injected: 1"),
              "\r\n--BB\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x\"\r\n"
              "Content-Type: text/plainX-Injected: 1\r\n\r\n");
    CHECK_STR(rc_mp_tail(p, "BB"), "\r\n--BB--\r\n");

    /* round trip: the re-encoded body scans back to the same parts */
    head = rc_mp_part_head(p, nb, "files", "we\"ird\\ \xc3\xa9.txt", "text/plain");
    tail = rc_mp_tail(p, nb);
    body = apr_pstrcat(p, head, "hello\r\n-", nb, "x",
                       rc_mp_part_head(p, nb, "files", "second", NULL), "", tail, NULL);
    rec_reset(&r);
    rc = run(p, nb, body, strlen(body), 3, &r, &err);
    CHECK(rc == 0 && r.n == 2);
    CHECK_STR(r.parts[0].filename, "we\"ird\\ \xc3\xa9.txt");
    CHECK_STR(r.parts[0].ctype, "text/plain");
    CHECK(r.parts[0].size == 8 + 43 + 1);
    CHECK_STR(r.parts[1].filename, "second");
    CHECK(r.parts[1].ctype == NULL && r.parts[1].size == 0);
    rec_free(&r);
}

/* Flat memory and throughput: a large part through a counting callback. */
static size_t big_count;
static int count_data(void *ctx, const char *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    big_count += len;
    return 0;
}

static void test_large(apr_pool_t *p)
{
    const size_t piece = 256 * 1024, total = (size_t)64 << 20;
    char *buf = malloc(piece);
    const char *head = "--" B "\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big\"\r\n\r\n";
    const char *tail = "\r\n--" B "--\r\n";
    rc_mp *m = rc_mp_create(p, B, NULL, count_data, NULL, NULL);
    size_t i, fed = 0;
    unsigned x = 12345;
    int rc = 0;

    /* pseudo-random bytes with CRs and "\r\n--" traps */
    for (i = 0; i < piece; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (char)(x >> 16);
    }
    memcpy(buf + 1000, "\r\n--" B, 10);   /* a delimiter prefix: data */
    memcpy(buf + piece - 5, "\r\n--", 4);  /* held back across pieces */
    buf[piece - 1] = '-';
    big_count = 0;
    rc |= rc_mp_feed(m, head, strlen(head));
    for (fed = 0; fed < total; fed += piece) {
        rc |= rc_mp_feed(m, buf, piece);
    }
    rc |= rc_mp_feed(m, tail, strlen(tail));
    rc |= rc_mp_finish(m);
    CHECK(rc == 0);
    CHECK(big_count == total);
    free(buf);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    apr_pool_create(&p, NULL);
    test_sample_splits(p);
    test_names(p);
    test_clean(p);
    test_errors(p);
    test_misc(p);
    test_boundary(p);
    test_encode(p);
    test_large(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("multipart");
}

/* PDF export: valid documents for ordinary and hostile markdown, checked
 * through poppler-utils (pdftotext, pdfinfo, pdffonts) on temporary files. */
#include "unit.h"
#include "markdown.h"
#include "pdf.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <apr_time.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>


static char *slurp(apr_pool_t *p, const char *path, apr_size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf;
    long n;

    if (!fp) {
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    buf = apr_palloc(p, (apr_size_t)n + 1);
    if (fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        fclose(fp);
        return NULL;
    }
    buf[n] = '\0';
    fclose(fp);
    *len = (apr_size_t)n;
    return buf;
}

/* A sample of tests/data, found from this file's path as the compiler saw it
 * (make compiles and runs the tests from the repository's root). */
static char *sample(apr_pool_t *p, const char *name, apr_size_t *len)
{
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash ? (int)(slash - __FILE__) + 1 : 0;

    return slurp(p, apr_psprintf(p, "%.*s../data/%s", dir, __FILE__, name), len);
}

/* Writes the PDF to a temporary file; the name is in p. */
static const char *to_file(apr_pool_t *p, const char *pdf, apr_size_t len)
{
    char *name = apr_pstrdup(p, "/tmp/rc_test_pdf_XXXXXX");
    int fd = mkstemp(name);
    if (fd < 0) {
        return NULL;
    }
    if (write(fd, pdf, len) != (ssize_t)len) {
        close(fd);
        return NULL;
    }
    close(fd);
    return name;
}

/* stdout of a shell command (stderr dropped; run_err: stderr only), in p. */
static char *run_to(apr_pool_t *p, const char *cmd, const char *redirect)
{
    FILE *fp = popen(apr_pstrcat(p, cmd, redirect, NULL), "r");
    char *out = apr_palloc(p, 1), buf[4096];
    apr_size_t n = 0, k;

    out[0] = '\0';
    if (!fp) {
        return out;
    }
    while ((k = fread(buf, 1, sizeof(buf), fp)) > 0) {
        char *o = apr_palloc(p, n + k + 1);
        memcpy(o, out, n);
        memcpy(o + n, buf, k);
        n += k;
        o[n] = '\0';
        out = o;
    }
    pclose(fp);
    return out;
}

static char *run(apr_pool_t *p, const char *cmd)
{
    return run_to(p, cmd, " 2>/dev/null");
}

static char *run_err(apr_pool_t *p, const char *cmd)
{
    return run_to(p, cmd, " 2>&1 >/dev/null");
}

/* A /URI action with this target (libharu escapes '/' as \\057 and the like). */
static int uri_present(const char *pdf, apr_size_t len, const char *uri)
{
    apr_size_t i, k = strlen(uri);
    for (i = 0; i + 6 < len; i++) {
        if (memcmp(pdf + i, "/URI (", 6) == 0) {
            char buf[512] = "";
            apr_size_t j = i + 6, o = 0;
            while (j < len && pdf[j] != ')' && o < sizeof(buf) - 1) {
                if (pdf[j] == '\\' && j + 3 < len && pdf[j + 1] >= '0' && pdf[j + 1] <= '7') {
                    buf[o++] = (char)((pdf[j + 1] - '0') * 64 + (pdf[j + 2] - '0') * 8
                                      + (pdf[j + 3] - '0'));
                    j += 4;
                }
                else if (pdf[j] == '\\' && j + 1 < len) {
                    buf[o++] = pdf[j + 1];
                    j += 2;
                }
                else {
                    buf[o++] = pdf[j++];
                }
            }
            if (o == k && memcmp(buf, uri, k) == 0) {
                return 1;
            }
        }
    }
    return 0;
}

static int valid_pdf(const char *pdf, apr_size_t len)
{
    return pdf && len > 20 && memcmp(pdf, "%PDF-", 5) == 0
        && (memcmp(pdf + len - 6, "%%EOF\n", 6) == 0 || memcmp(pdf + len - 5, "%%EOF", 5) == 0);
}

static int mem_has(const char *hay, apr_size_t n, const char *needle)
{
    apr_size_t k = strlen(needle), i;
    for (i = 0; i + k <= n; i++) {
        if (memcmp(hay + i, needle, k) == 0) {
            return 1;
        }
    }
    return 0;
}

/* The words appear in this order in the text. */
static int in_order(const char *text, const char *const *words)
{
    const char *at = text;
    for (; *words; words++) {
        const char *f = strstr(at, *words);
        if (!f) {
            fprintf(stderr, "  missing in order: [%s]\n", *words);
            return 0;
        }
        at = f + strlen(*words);
    }
    return 1;
}

static int pages_of(apr_pool_t *p, const char *file)
{
    const char *info = run(p, apr_pstrcat(p, "pdfinfo ", file, NULL));
    const char *pg = strstr(info, "Pages:");
    return pg ? atoi(pg + 6) : -1;
}

typedef struct {
    const char *pdf;
    apr_size_t len;
    const char *file;
    int rc;
    double ms;
} rendered;

static rendered render(apr_pool_t *p, const char *md, apr_size_t len, const rc_pdf_fonts *f,
                       const rc_pdf_meta *meta)
{
    rendered r;
    const char *err = NULL;
    apr_time_t t0 = apr_time_now();

    memset(&r, 0, sizeof(r));
    r.rc = rc_pdf_from_markdown(p, md, len, f, meta, &r.pdf, &r.len, &err);
    r.ms = (double)(apr_time_now() - t0) / 1000.0;
    if (r.rc) {
        fprintf(stderr, "  render failed: %s\n", err ? err : "(no message)");
    }
    else {
        r.file = to_file(p, r.pdf, r.len);
    }
    return r;
}

static void done(rendered *r)
{
    if (r->file) {
        unlink(r->file);
    }
}

/* Renders a sample, checking that it loads and gives a valid PDF.
 * 1 when r->file holds the PDF for the poppler checks that follow. */
static int render_sample(apr_pool_t *p, const char *name, const rc_pdf_meta *meta,
                         rendered *r)
{
    apr_size_t len;
    char *md = sample(p, name, &len);

    memset(r, 0, sizeof(*r));
    CHECK(md != NULL);
    if (!md) {
        return 0;
    }
    *r = render(p, md, len, NULL, meta);
    CHECK(r->rc == 0);
    CHECK(valid_pdf(r->pdf, r->len));
    return r->file != NULL;
}

static void test_short(apr_pool_t *p)
{
    rc_pdf_meta meta = { "Rotate the key", "alice", 0 };
    rendered r;
    const char *text, *info, *fonts;
    static const char *const words[] = {
        "How to rotate the backend API key", "about five minutes", "401 Unauthorized",
        "Steps:", "Settings \xE2\x86\x92 API keys", "ragctl keys add --label 2024-q3",
        "graceful", "Authorization: Bearer <key>", "roll back", "Page 1 of 1", NULL
    };

    meta.created = apr_time_from_sec(1795716540);  /* 2026-11-26 18:09 UTC */
    if (!render_sample(p, "short.md", &meta, &r)) {
        return;
    }
    CHECK(r.len < 30 * 1024);
    text = run(p, apr_pstrcat(p, "pdftotext -layout ", r.file, " -", NULL));
    CHECK(in_order(text, words));
    info = run(p, apr_pstrcat(p, "pdfinfo ", r.file, NULL));
    CHECK(strstr(info, "Title:           Rotate the key") != NULL);
    CHECK(strstr(info, "Author:          alice") != NULL);
    CHECK(strstr(info, "2026") != NULL);
    CHECK(pages_of(p, r.file) == 1);
    /* only the standard fonts, none embedded */
    fonts = run(p, apr_pstrcat(p, "pdffonts ", r.file, NULL));
    CHECK(strstr(fonts, "Helvetica ") != NULL);
    CHECK(strstr(fonts, "Helvetica-Bold") != NULL);
    CHECK(strstr(fonts, "Courier") != NULL);
    CHECK(strstr(fonts, "DejaVu") == NULL);
    CHECK(strstr(fonts, " yes ") == NULL);
    done(&r);
}

static void test_long(apr_pool_t *p)
{
    rendered r;
    const char *text, *s;
    int pages, headers = 0;
    static const char *const words[] = {
        "Platform Reliability Review", "1. Executive summary", "Key outcomes", "99.93%",
        "2. Scope and method", "Data sources", "spans for embedding lookups",
        "3. Service inventory", "web-front-1", "4. Incidents", NULL
    };

    if (!render_sample(p, "long.md", NULL, &r)) {
        return;
    }
    pages = pages_of(p, r.file);
    CHECK(pages >= 7 && pages <= 14);
    text = run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL));
    CHECK(in_order(text, words));
    CHECK(strstr(text, apr_psprintf(p, "Page %d of %d", pages, pages)) != NULL);
    /* the service table crosses a page: its header is repeated */
    for (s = text; (s = strstr(s, "p99 latency (ms)")) != NULL; s++) {
        headers++;
    }
    CHECK(headers >= 2);
    CHECK(strstr(run(p, apr_pstrcat(p, "pdffonts ", r.file, NULL)), "DejaVu") == NULL);
    done(&r);
}

static void test_unicode(apr_pool_t *p)
{
    rendered r;
    const char *text, *fonts;
    static const char *const words[] = {
        "Multilingual answer", "Caf\xC3\xA9 soci\xC3\xA9t\xC3\xA9", "\xC5\x81\xC3\xB3" "d\xC5\xBA",
        "\xCE\x95\xCE\xBB\xCE\xBB\xCE\xB7\xCE\xBD\xCE\xB9\xCE\xBA\xCE\xAC",     /* Ελληνικά */
        "\xD0\xA1\xD1\x8A\xD0\xB5\xD1\x88\xD1\x8C",                             /* Съешь */
        "\xC3\x85ngstr\xC3\xB6m", NULL
    };

    if (!render_sample(p, "unicode.md", NULL, &r)) {
        return;
    }
    text = run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL));
    CHECK(in_order(text, words));
    fonts = run(p, apr_pstrcat(p, "pdffonts ", r.file, NULL));
    CHECK(strstr(fonts, "DejaVuSans") != NULL);
    CHECK(strstr(fonts, "CID TrueType") != NULL);
    CHECK(strstr(fonts, "yes yes") != NULL);   /* embedded, subset */
    done(&r);

    /* one Cyrillic word is enough to embed DejaVu */
    r = render(p, "Hello \xD0\x9C\xD0\xB8\xD1\x80", 12, NULL, NULL);
    CHECK(r.rc == 0 && r.file);
    if (r.file) {
        CHECK(strstr(run(p, apr_pstrcat(p, "pdffonts ", r.file, NULL)), "DejaVuSans") != NULL);
        CHECK(strstr(run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL)),
                     "Hello \xD0\x9C\xD0\xB8\xD1\x80") != NULL);
    }
    done(&r);

    /* characters no font has: a visible mark, never dropped */
    r = render(p, "cjk \xE5\xAE\x8C\xE6\x88\x90 emoji \xF0\x9F\x9A\x80 end", 25, NULL, NULL);
    CHECK(r.rc == 0 && r.file);
    if (r.file) {
        text = run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL));
        CHECK(strstr(text, "cjk ") != NULL && strstr(text, " end") != NULL);
        CHECK(strstr(text, "cjk  emoji") == NULL);
    }
    done(&r);

    /* no usable TrueType font: standard fonts with '?' marks, still a PDF */
    {
        rc_pdf_fonts f = { "/nonexistent/font.ttf", NULL, NULL, NULL, NULL, "", NULL };
        r = render(p, "Hello \xD0\x9C\xD0\xB8\xD1\x80", 12, &f, NULL);
        CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
        if (r.file) {
            CHECK(strstr(run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL)),
                         "Hello ???") != NULL);
        }
        done(&r);
    }
    /* Symbol glyphs stay with the standard fonts */
    r = render(p, "x \xE2\x89\xA4 y \xE2\x86\x92 z, \xCE\xB1 \xE2\x88\x9E", 21, NULL, NULL);
    CHECK(r.rc == 0 && r.file);
    if (r.file) {
        fonts = run(p, apr_pstrcat(p, "pdffonts ", r.file, NULL));
        CHECK(strstr(fonts, "Symbol") != NULL && strstr(fonts, "DejaVu") == NULL);
        CHECK(strstr(run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL)),
                     "x \xE2\x89\xA4 y \xE2\x86\x92 z") != NULL);
    }
    done(&r);
}

/* The left (or, with right set, the right) edge of the text above the
 * footer, from pdftotext's bounding boxes. */
static double text_edge(apr_pool_t *p, const char *file, int right)
{
    const char *b = run(p, apr_pstrcat(p, "pdftotext -bbox ", file, " -", NULL)), *w;
    double edge = right ? 0 : 1000;

    for (w = b; (w = strstr(w, "<word ")) != NULL; w++) {
        double x0 = atof(strstr(w, "xMin=\"") + 6), x1 = atof(strstr(w, "xMax=\"") + 6);
        if (atof(strstr(w, "yMin=\"") + 6) < 790) {
            edge = right ? (x1 > edge ? x1 : edge) : (x0 < edge ? x0 : edge);
        }
    }
    return edge;
}

/* Renders md (NULL fonts) to a file whose pdffonts and pdftotext output
 * follow; 0 if it failed. */
static int render_text(apr_pool_t *p, const char *md, const rc_pdf_fonts *f, rendered *r,
                       const char **fonts, const char **text)
{
    *r = render(p, md, strlen(md), f, NULL);
    CHECK(r->rc == 0 && r->file);
    if (!r->file) {
        return 0;
    }
    *fonts = run(p, apr_pstrcat(p, "pdffonts ", r->file, NULL));
    *text = run(p, apr_pstrcat(p, "pdftotext ", r->file, " -", NULL));
    return 1;
}

/* Every script of the multilingual sample: shaped, in logical order when
 * extracted, each fallback font embedded as a subset. */
static void test_scripts(apr_pool_t *p)
{
    rendered r;
    const char *text, *fonts;
    static const char *const phrases[] = {
        "تم تحميل الملفات بنجاح", "وسيتم الرد على سؤالك خلال",          /* lam-alef ligature */
        "النص العربي يُكتب من اليمين إلى اليسار",                         /* a mark on yeh */
        "הקבצים הועלו בהצלחה", "התשובה תוצג משמאל לימין", "מימין לשמאל",
        "답변이 스트리밍으로 전송됩니다.", "문서 세 개가 처리되었습니다.",
        "東京の天気は晴れ、最高気温は２８度です。ファイルのアップロードが完了しました。",
        "आपकी फ़ाइलें सफलतापूर्वक अपलोड हो गई हैं।", "उत्तर कुछ ही क्षणों में दिखाई देगा।",
        "✅ done", "❌ failed", "🚀 deployed", "👩🏽‍💻 engineer", "🇩🇪", "😀😃😄", "🧪", NULL
    };
    static const char *const embedded[] = {
        "+NotoSansArabic-Regular", "+NotoSansArabic-Bold", "+NotoSansHebrew-Regular",
        "+NotoSansDevanagari-Regular", "+DroidSansFallback", "+WenQuanYiZenHei", "+Symbola", NULL
    };
    const char *const *q;
    int i;

    for (i = 0; i < 2; i++) {   /* the second time with fontconfig warm */
        if (!render_sample(p, "unicode.md", NULL, &r)) {
            return;
        }
        if (i == 0) {
            done(&r);
        }
    }
    fprintf(stderr, "  unicode.md: %.1f ms, %lu bytes\n", r.ms, (unsigned long)r.len);
    CHECK(r.ms < 400);          /* ASan and UBSan; bench/pdf_bench.py measures */
    CHECK(r.len < 160 * 1024);
    text = run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL));
    for (q = phrases; *q; q++) {
        if (!strstr(text, *q)) {
            fprintf(stderr, "  not extracted: [%s]\n", *q);
            CHECK(0);
        }
    }
    CHECK(strstr(text, "\xEF\xBF\xBD") == NULL);          /* no U+FFFD */
    CHECK(!strstr(run_err(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL)), "arning"));
    fonts = run(p, apr_pstrcat(p, "pdffonts ", r.file, NULL));
    for (q = embedded; *q; q++) {
        const char *at = strstr(fonts, *q);
        CHECK(at != NULL && strstr(at, "Identity-H       yes yes yes") != NULL);
    }
    done(&r);
}

/* Fallback fonts only when a character needs them; astral characters;
 * right-to-left alignment; the configured fallback first. */
static void test_fallback(apr_pool_t *p)
{
    rendered r;
    const char *text, *fonts;
    rc_pdf_fonts f = { NULL, NULL, NULL, NULL, NULL,
                       "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", NULL };

    if (render_text(p, "Hello Мир, Ελληνικά", NULL, &r, &fonts, &text)) {
        CHECK(strstr(fonts, "DejaVuSans") && !strstr(fonts, "Noto") && !strstr(fonts, "Droid")
              && !strstr(fonts, "Symbola") && !strstr(fonts, "WenQuanYi"));
        CHECK(text_edge(p, r.file, 0) < 57);
    }
    done(&r);
    if (render_text(p, "launch 🚀 now", NULL, &r, &fonts, &text)) {
        CHECK(strstr(fonts, "+Symbola") && strstr(text, "launch 🚀 now"));
        CHECK(!strstr(fonts, "Noto") && !strstr(fonts, "Droid"));
    }
    done(&r);
    /* a right-to-left paragraph ends at the right margin; its list marker
     * and indentation are mirrored */
    if (render_text(p, "שלום עולם", NULL, &r, &fonts, &text)) {
        CHECK(text_edge(p, r.file, 1) > 538 && text_edge(p, r.file, 1) < 540);
        CHECK(strstr(text, "שלום עולם") != NULL);
    }
    done(&r);
    if (render_text(p, "- שלום עולם", NULL, &r, &fonts, &text)) {
        CHECK(text_edge(p, r.file, 1) > 520 && text_edge(p, r.file, 1) < 522);
    }
    done(&r);
    /* past the chain, fontconfig finds a TrueType font with the character */
    if (render_text(p, "Runic ᚠᚢᚦ", NULL, &r, &fonts, &text)) {
        CHECK(strstr(fonts, "+NotoSansRunic") && strstr(text, "Runic ᚠᚢᚦ"));
    }
    done(&r);
    /* the configured fallback comes before the chain */
    if (render_text(p, "中文", &f, &r, &fonts, &text)) {
        CHECK(strstr(fonts, "WenQuanYi") && !strstr(fonts, "Droid") && strstr(text, "中文"));
    }
    done(&r);
}

static void test_links(apr_pool_t *p)
{
    const char *md = "A [site](https://example.com/a?b=1) and [mail](mailto:bob@example.com), "
                     "[bad](javascript:alert(1)), [rel](/local/path), www.example.org and "
                     "![alt text of pic](https://img.example.com/p.png).";
    rendered r = render(p, md, strlen(md), NULL, NULL);
    const char *text;

    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    CHECK(uri_present(r.pdf, r.len, "https://example.com/a?b=1"));
    CHECK(uri_present(r.pdf, r.len, "mailto:bob@example.com"));
    CHECK(uri_present(r.pdf, r.len, "http://www.example.org"));
    CHECK(!uri_present(r.pdf, r.len, "javascript:alert(1)"));
    CHECK(!mem_has(r.pdf, r.len, "javascript"));
    CHECK(!mem_has(r.pdf, r.len, "/local/path"));
    CHECK(!mem_has(r.pdf, r.len, "img.example.com"));
    if (r.file) {
        text = run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL));
        CHECK(strstr(text, "bad") != NULL);
        CHECK(strstr(text, "alt text of pic") != NULL);
    }
    done(&r);
}

static void test_blocks(apr_pool_t *p)
{
    const char *md =
        "# H1\n## H2\n### H3\n#### H4\n##### H5\n###### H6\n\n"
        "Mixed **bold** *italic* ***both*** ~~strike~~ `code` in one line.\n\n"
        "1. first\n2. second\n   - nested a\n     - nested b\n3. third\n\n"
        "- [ ] open task\n- [x] done task\n\n"
        "> quoted text\n> > inner quote\n\n"
        "```c\nint main(void) { return 0; }\n\tindented\n```\n\n"
        "---\n\n"
        "| L | C | R |\n|:--|:-:|--:|\n| a | b | c |\n\n"
        "<div>raw <b>html</b> block</div>\n\n"
        "Line one  \nline two<br>line three\n";
    static const char *const words[] = {
        "H1", "H2", "H3", "H4", "H5", "H6", "Mixed bold italic both strike code in one line",
        "1.", "first", "second", "nested a", "nested b", "third", "open task", "done task",
        "quoted text", "inner quote", "int main(void) { return 0; }", "    indented",
        "L", "C", "R", "raw html block", "Line one", "line two", "line three", NULL
    };
    rendered r = render(p, md, strlen(md), NULL, NULL);
    const char *text;

    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    if (r.file) {
        text = run(p, apr_pstrcat(p, "pdftotext -layout ", r.file, " -", NULL));
        CHECK(in_order(text, words));
        CHECK(strstr(text, "[ ]") == NULL && strstr(text, "[x]") == NULL);  /* drawn boxes */
        CHECK(strstr(text, "<div>") == NULL && strstr(text, "<b>") == NULL);
    }
    done(&r);
}

/* Hostile inputs: each gives a valid PDF quickly. */
static void test_hostile(apr_pool_t *p)
{
    apr_size_t i, n;
    char *s;
    rendered r;
    const char *text;
    int count;

    /* a 5,000-character word is broken between characters, nothing lost */
    s = apr_palloc(p, 5001);
    memset(s, 'x', 5000);
    s[5000] = '\0';
    r = render(p, s, 5000, NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    CHECK(r.ms < 5000);
    if (r.file) {
        text = run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL));
        for (count = 0; *text; text++) {
            count += *text == 'x';
        }
        CHECK(count == 5000);
    }
    done(&r);

    /* the same inside inline code, a table cell and a code block */
    s = apr_pstrcat(p, "`", apr_pstrndup(p, s, 5000), "`\n\n| a | b |\n|---|---|\n| ",
                    apr_pstrndup(p, s, 3000), " | y |\n\n```\n", apr_pstrndup(p, s, 5000),
                    "\n```\n", NULL);
    r = render(p, s, strlen(s), NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    done(&r);

    /* 1,000-deep block quotes, lists and emphasis */
    n = 1000;
    s = apr_palloc(p, n * 3 + 16);
    memset(s, '>', n);
    strcpy(s + n, " deep quote");
    r = render(p, s, strlen(s), NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    CHECK(r.ms < 5000);
    if (r.file) {
        CHECK(strstr(run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL)), "deep quote") != NULL);
    }
    done(&r);
    {
        apr_size_t o = 0;
        s = apr_palloc(p, 1000 * 1004 + 16);
        for (i = 0; i < 1000; i++) {
            memset(s + o, ' ', i * 2);
            o += i * 2;
            memcpy(s + o, "- x\n", 4);
            o += 4;
        }
        s[o] = '\0';
        r = render(p, s, o, NULL, NULL);
        CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
        CHECK(r.ms < 10000);
        done(&r);
    }
    s = apr_palloc(p, 4016);
    memset(s, '*', 2000);
    memcpy(s + 2000, "emph", 4);
    memset(s + 2004, '*', 2000);
    r = render(p, s, 4004, NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    done(&r);

    /* a 2,000-row table spans pages, header repeated */
    {
        apr_size_t o;
        s = apr_palloc(p, 2000 * 40 + 64);
        o = (apr_size_t)sprintf(s, "| id | name | value |\n|---|---|---:|\n");
        for (i = 0; i < 2000; i++) {
            o += (apr_size_t)sprintf(s + o, "| %lu | row %lu | %lu |\n", (unsigned long)i,
                                     (unsigned long)i, (unsigned long)(i * 7));
        }
        r = render(p, s, o, NULL, NULL);
        CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
        CHECK(r.ms < 10000);
        if (r.file) {
            int pages = pages_of(p, r.file);
            const char *t;
            CHECK(pages > 20);
            text = run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL));
            CHECK(strstr(text, "row 1999") != NULL);
            for (count = 0, t = text; (t = strstr(t, "name")) != NULL; t++) {
                count++;
            }
            CHECK(count == pages);
        }
        done(&r);
    }

    /* empty, NULL, invalid UTF-8, NUL bytes, unterminated fence, lone table pipes */
    r = render(p, "", 0, NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    if (r.file) {
        CHECK(pages_of(p, r.file) == 1);
    }
    done(&r);
    r = render(p, NULL, 0, NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    done(&r);
    r = render(p, "bad \xff\xfe\xc3 utf8 \xed\xa0\x80 end", 20, NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    if (r.file) {
        text = run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL));
        CHECK(strstr(text, "bad") != NULL && strstr(text, "end") != NULL);
    }
    done(&r);
    r = render(p, "a\0b\0\0c", 6, NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    done(&r);
    r = render(p, "```python\nnever closed\n\n# not a heading", 39, NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    if (r.file) {
        CHECK(strstr(run(p, apr_pstrcat(p, "pdftotext ", r.file, " -", NULL)),
                     "# not a heading") != NULL);
    }
    done(&r);
    r = render(p, "|\n|-|\n||||\n", 11, NULL, NULL);
    CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
    done(&r);
    /* a table of 200 columns */
    {
        s = apr_pstrdup(p, "|");
        for (i = 0; i < 200; i++) {
            s = apr_pstrcat(p, s, "c|", NULL);
        }
        s = apr_pstrcat(p, s, "\n|", NULL);
        for (i = 0; i < 200; i++) {
            s = apr_pstrcat(p, s, "-|", NULL);
        }
        r = render(p, s, strlen(s), NULL, NULL);
        CHECK(r.rc == 0 && valid_pdf(r.pdf, r.len));
        done(&r);
    }
}

static void test_transcript(apr_pool_t *p)
{
    rc_pdf_turn turns[3] = {
        { "user", "alice", "2026-11-26 18:09 UTC", "How do I **rotate** the key?" },
        { "assistant", "Assistant", "2026-11-26 18:09 UTC",
          "Run `ragctl keys add`.\n\n| step | what |\n|---|---|\n| 1 | add |\n" },
        { "user", "alice", "2026-11-26 18:10 UTC", "Thanks" }
    };
    rc_pdf_meta meta = { "Key rotation", "alice", 0 };
    const char *out = NULL, *err = NULL, *file, *text;
    apr_size_t len = 0;
    static const char *const words[] = {
        "Key rotation", "alice", "2026-11-26 18:09 UTC", "How do I rotate the key?",
        "Assistant", "Run ragctl keys add.", "step", "what", "add", "alice", "Thanks", NULL
    };

    meta.created = apr_time_from_sec(1795716540);
    CHECK(rc_pdf_transcript(p, turns, 3, NULL, &meta, &out, &len, &err) == 0);
    CHECK(valid_pdf(out, len));
    CHECK(len < 30 * 1024);
    file = out ? to_file(p, out, len) : NULL;
    if (file) {
        text = run(p, apr_pstrcat(p, "pdftotext ", file, " -", NULL));
        CHECK(in_order(text, words));
        CHECK(strstr(run(p, apr_pstrcat(p, "pdfinfo ", file, NULL)), "Key rotation") != NULL);
        unlink(file);
    }
    /* a Cyrillic title embeds DejaVu, no turns at all still makes a page */
    meta.title = "\xD0\x9E\xD0\xB1\xD0\xB7\xD0\xBE\xD1\x80";
    CHECK(rc_pdf_transcript(p, turns, 0, NULL, &meta, &out, &len, &err) == 0);
    CHECK(valid_pdf(out, len));
    file = out ? to_file(p, out, len) : NULL;
    if (file) {
        CHECK(strstr(run(p, apr_pstrcat(p, "pdfinfo ", file, NULL)),
                     "\xD0\x9E\xD0\xB1\xD0\xB7\xD0\xBE\xD1\x80") != NULL);
        CHECK(strstr(run(p, apr_pstrcat(p, "pdffonts ", file, NULL)), "DejaVuSans") != NULL);
        unlink(file);
    }
    /* NULL fields */
    {
        rc_pdf_turn t = { NULL, NULL, NULL, NULL };
        CHECK(rc_pdf_transcript(p, &t, 1, NULL, NULL, &out, &len, &err) == 0);
        CHECK(valid_pdf(out, len));
    }
}

/* Pool hygiene: repeated renders in subpools leave nothing behind (ASan's
 * leak check covers libharu's malloc'd document). */
static void test_repeat(apr_pool_t *parent)
{
    int i;
    for (i = 0; i < 20; i++) {
        apr_pool_t *p;
        const char *out, *err;
        apr_size_t len;
        apr_pool_create(&p, parent);
        CHECK(rc_pdf_from_markdown(p, i % 2 ? "# A\n\ntext" : "\xD0\x90", i % 2 ? 9 : 2,
                                   NULL, NULL, &out, &len, &err) == 0);
        apr_pool_destroy(p);
    }
}

/* Documents rendered at once in several threads (the event MPM) stay
 * independent: no shared state in the engine. */
static volatile int thread_failures;

static void *APR_THREAD_FUNC render_thread(apr_thread_t *th, void *data)
{
    int i;
    (void)data;
    for (i = 0; i < 6; i++) {
        apr_pool_t *p;
        const char *out = NULL, *err = NULL;
        apr_size_t len = 0;
        const char *md = i % 2 ? "# T\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- x\n- y"
                               : "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82 **b** `c`";
        apr_pool_create(&p, NULL);
        if (rc_pdf_from_markdown(p, md, strlen(md), NULL, NULL, &out, &len, &err) != 0
            || !valid_pdf(out, len)) {
            thread_failures++;
        }
        apr_pool_destroy(p);
    }
    (void)th;   /* returning, not apr_thread_exit(): ASan misreports pthread_exit */
    return NULL;
}

static void test_threads(apr_pool_t *p)
{
    apr_thread_t *th[4];
    apr_status_t rv;
    int i, started = 0;

    for (i = 0; i < 4; i++) {
        if (apr_thread_create(&th[i], NULL, render_thread, NULL, p) == APR_SUCCESS) {
            started++;
        }
    }
    CHECK(started == 4);
    for (i = 0; i < started; i++) {
        apr_thread_join(&rv, th[i]);
    }
    CHECK(thread_failures == 0);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    rc_markdown_init();
    apr_pool_create(&p, NULL);
    test_short(p);
    test_long(p);
    test_unicode(p);
    test_scripts(p);
    test_fallback(p);
    test_links(p);
    test_blocks(p);
    test_hostile(p);
    test_transcript(p);
    test_repeat(p);
    test_threads(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("pdf");
}

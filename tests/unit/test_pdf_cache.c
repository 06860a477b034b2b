/* The font cache (pdf_cache.c): documents made with it are the same byte for
 * byte as without it, the first time and every time after, also from several
 * threads at once; it holds each font file once and does not grow with the
 * number of documents. */
#include "unit.h"
#include "markdown.h"
#include "pdf.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>
#include <stdio.h>
#include <stdlib.h>

#define NDOCS 6

typedef struct {
    const char *md;
    apr_size_t len;
    int transcript;
    const char *pdf;             /* made without a cache */
    apr_size_t pdflen;
} sample_doc;

static sample_doc docs[NDOCS];
static rc_pdf_cache *shared;
static volatile int thread_mismatches;

static char *sample(apr_pool_t *p, const char *name, apr_size_t *len)
{
    const char *slash = strrchr(__FILE__, '/');
    int dir = slash ? (int)(slash - __FILE__) + 1 : 0;
    FILE *fp = fopen(apr_psprintf(p, "%.*s../data/%s", dir, __FILE__, name), "rb");
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
    fclose(fp);
    buf[n] = '\0';
    *len = (apr_size_t)n;
    return buf;
}

/* One document of docs[i], with cache c (or none); 0 on success. */
static int make(apr_pool_t *p, int i, rc_pdf_cache *c, const char **out, apr_size_t *len)
{
    rc_pdf_fonts f = { NULL, NULL, NULL, NULL, NULL, NULL, c };
    rc_pdf_meta meta = { "Cache \xE2\x80\x94 test", "alice", 1764180000000000LL };
    rc_pdf_turn turns[2] = {
        { "user", "alice", "2026-11-26 18:09 UTC", "Reliability review please" },
        { "assistant", "Assistant", "2026-11-26 18:09 UTC", docs[i].md },
    };
    const char *err = NULL;

    return docs[i].transcript
         ? rc_pdf_transcript(p, turns, 2, &f, &meta, out, len, &err)
         : rc_pdf_from_markdown(p, docs[i].md, docs[i].len, &f, &meta, out, len, &err);
}

static int same_as_uncached(apr_pool_t *parent, int i, rc_pdf_cache *c)
{
    apr_pool_t *p;
    const char *out = NULL;
    apr_size_t len = 0;
    int same;

    apr_pool_create(&p, parent);
    same = make(p, i, c, &out, &len) == 0 && len == docs[i].pdflen
        && memcmp(out, docs[i].pdf, len) == 0;
    apr_pool_destroy(p);
    return same;
}

static void load_docs(apr_pool_t *p)
{
    static const char *const names[] = { "short.md", "long.md", "unicode.md" };
    /* Javanese: no font of the chain has it, fontconfig finds one */
    static const char javanese[] = "Aksara \xEA\xA6\xA0\xEA\xA6\xA4\xEA\xA6\xAB **bold** `mono`";
    int i;

    for (i = 0; i < 3; i++) {
        docs[i].md = sample(p, names[i], &docs[i].len);
        CHECK(docs[i].md != NULL);
        docs[i + 3] = docs[i];
        docs[i + 3].transcript = 1;
    }
    docs[2 + 3].md = javanese;      /* the transcript of unicode.md's place */
    docs[2 + 3].len = strlen(javanese);
    for (i = 0; i < NDOCS; i++) {
        CHECK(docs[i].md && make(p, i, NULL, &docs[i].pdf, &docs[i].pdflen) == 0);
    }
}

static void test_same_bytes(apr_pool_t *p)
{
    rc_pdf_cache *c = rc_pdf_cache_create(p);
    int i, round, faces, lookups, faces2, lookups2;

    CHECK(c != NULL);
    for (round = 0; round < 2; round++) {
        for (i = 0; i < NDOCS; i++) {
            CHECK(same_as_uncached(p, i, c));
        }
    }
    rc_pdf_cache_counts(c, &faces, &lookups);
    /* DejaVu's faces and the chain's, and the one look-up of Javanese */
    CHECK(faces >= 5);
    CHECK(lookups >= 1);
    for (round = 0; round < 10; round++) {
        for (i = 0; i < NDOCS; i++) {
            CHECK(same_as_uncached(p, i, c));
        }
    }
    rc_pdf_cache_counts(c, &faces2, &lookups2);
    CHECK(faces2 == faces && lookups2 == lookups);
}

static void *APR_THREAD_FUNC render_thread(apr_thread_t *th, void *data)
{
    int i, k = (int)(apr_uintptr_t)data;
    apr_pool_t *p;

    apr_pool_create(&p, NULL);
    for (i = 0; i < 3 * NDOCS; i++) {
        if (!same_as_uncached(p, (i + k) % NDOCS, shared)) {
            thread_mismatches++;
        }
    }
    apr_pool_destroy(p);
    (void)th;
    return NULL;
}

/* A fresh cache filled by four threads at once (the event MPM's workers). */
static void test_threads(apr_pool_t *p)
{
    apr_thread_t *th[4];
    apr_status_t rv;
    int i, started = 0;

    shared = rc_pdf_cache_create(p);
    for (i = 0; i < 4; i++) {
        if (apr_thread_create(&th[i], NULL, render_thread, (void *)(apr_uintptr_t)i, p)
            == APR_SUCCESS) {
            started++;
        }
    }
    CHECK(started == 4);
    for (i = 0; i < started; i++) {
        apr_thread_join(&rv, th[i]);
    }
    CHECK(thread_mismatches == 0);
}

int main(void)
{
    apr_pool_t *p;

    apr_initialize();
    rc_markdown_init();
    apr_pool_create(&p, NULL);
    load_docs(p);
    test_same_bytes(p);
    test_threads(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("pdf_cache");
}

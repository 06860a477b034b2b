/* libFuzzer target: any bytes as markdown, rendered to a PDF (and, with the
 * first byte odd, as a two-turn transcript; with its bit 2 set, through one
 * font cache that lives as long as the process, as in an httpd child).  A
 * failure to produce a PDF, or bytes that do not look like one, abort. */
#include "markdown.h"
#include "pdf.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_INPUT 16384   /* keeps each run to milliseconds */

static apr_pool_t *root;
static rc_pdf_fonts cached;

/* The cache's HarfBuzz objects are freed by its pool's cleanup; the leak
 * check runs after this. */
static void end(void)
{
    apr_pool_destroy(root);
    root = NULL;
}

static void check(int rc, const char *out, apr_size_t len)
{
    if (rc != 0 || !out || len < 20 || memcmp(out, "%PDF-", 5) != 0
        || memcmp(out + len - 6, "%%EOF\n", 6) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *out = NULL, *err = NULL;
    apr_size_t len = 0;
    rc_pdf_meta meta = { "fuzz", "fuzzer", 0 };
    const rc_pdf_fonts *fonts;

    if (!root) {
        apr_initialize();
        rc_markdown_init();
        apr_pool_create(&root, NULL);
        cached.cache = rc_pdf_cache_create(root);
        atexit(end);
    }
    if (size > FUZZ_MAX_INPUT) {
        size = FUZZ_MAX_INPUT;
    }
    apr_pool_create(&p, root);
    fonts = size && (data[0] & 2) ? &cached : NULL;
    if (size && (data[0] & 1)) {
        char *md = apr_pstrmemdup(p, (const char *)data, size);
        rc_pdf_turn t[2];
        t[0].role = "user";
        t[0].name = md + size / 2;     /* arbitrary UTF-8 in names and stamps too */
        t[0].timestamp = md + size / 3;
        t[0].markdown = md;
        t[1].role = "assistant";
        t[1].name = NULL;
        t[1].timestamp = "";
        t[1].markdown = md + size / 4;
        meta.title = md + size / 5;
        check(rc_pdf_transcript(p, t, 2, fonts, &meta, &out, &len, &err), out, len);
    }
    else {
        check(rc_pdf_from_markdown(p, (const char *)data, size, fonts, &meta, &out, &len, &err),
              out, len);
    }
    apr_pool_destroy(p);
    return 0;
}

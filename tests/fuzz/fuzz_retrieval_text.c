/* libFuzzer target: HTML stripping, JSON strings, normalisation, chunking,
 * the FTS5 query and markdown quoting of the built-in backend, over any bytes.
 * The first byte picks the passage size; the invariants of rc_text_chunks are
 * checked (a violation aborts). */
#include "retrieval_text.h"

#include <apr_general.h>
#include <apr_strings.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static apr_pool_t *root;

static void check_chunks(apr_pool_t *p, const char *t, size_t len, size_t target,
                         size_t overlap)
{
    apr_array_header_t *a = rc_text_chunks(p, t, len, target, overlap);
    size_t prev = 0;
    int i;

    for (i = 0; i < a->nelts; i++) {
        rc_text_chunk *c = &APR_ARRAY_IDX(a, i, rc_text_chunk);
        if (c->len == 0 || c->off + c->len > len || (i > 0 && c->off <= prev)
            || c->len > (target < 2 ? 2 : target) + 3) {
            abort();
        }
        prev = c->off;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    const char *s = (const char *)data;
    size_t target, n = 0;
    char *text, *z;

    if (!root) {
        apr_initialize();
        apr_pool_create(&root, NULL);
    }
    if (size == 0) {
        return 0;
    }
    apr_pool_create(&p, root);
    target = 8 + (size_t)data[0] * 4;
    s++;
    size--;

    text = rc_text_from_html(p, s, size, &n);
    if (strlen(text) != n) {
        abort();
    }
    check_chunks(p, text, n, target, target / 5);
    text = rc_text_normalize(p, s, size, &n);
    check_chunks(p, text, n, target, 150);
    /* Raw bytes too: the chunker must cope with NULs and invalid UTF-8. */
    check_chunks(p, s, size, target, target / 3);
    rc_text_from_json(p, s, size, NULL);

    z = apr_pstrmemdup(p, s, size);
    rc_text_fts_query(p, z, z + strlen(z) / 2, 1 + data[0] % 40);
    rc_text_md_inline(p, s, size);
    apr_pool_destroy(p);
    return 0;
}

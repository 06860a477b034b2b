/* Sources of an answer, from its leading ```json block (see sources.h). */
#include "sources.h"
#include "clean.h"
#include "json.h"
#include "retrieval_text.h"
#include "buf.h"
#include "utf8.h"

#include <apr_strings.h>
#include <stdio.h>
#include <string.h>

#define TITLE_MAX   300              /* bytes of a title, file or url */
#define SNIPPET_MAX 400              /* bytes of a snippet */
#define DEPTH_MAX   3                /* nesting searched for the list */

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

json_t *rc_sources_preamble(const char *text, size_t len)
{
    size_t i = 0, off, end;
    const char *brace, *tick;
    json_t *j;

    if (!text) {
        return NULL;
    }
    off = rc_clean_display_offset(text, len, NULL);
    while (i < len && is_space(text[i])) {
        i++;
    }
    /* rc_clean_display_offset went past the white space: a preamble is there */
    if (off <= i || len - i < 7 || memcmp(text + i, "```json", 7) != 0) {
        return NULL;
    }
    brace = memchr(text + i + 7, '{', off - i - 7);
    tick = brace ? memchr(brace, '`', (size_t)(text + off - brace)) : NULL;
    if (!brace || !tick) {
        return NULL;
    }
    end = (size_t)(tick - text);
    while (end > (size_t)(brace - text) && text[end - 1] != '}') {
        end--;
    }
    j = json_loadb(brace, end - (size_t)(brace - text), 0, NULL);
    if (!json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

/* ---- reading one source --------------------------------------------------- */

/* A short string of s: white space runs folded, at most max bytes (cut on a
 * character, with an ellipsis); NULL when nothing is left. */
static json_t *short_string(const char *s, size_t max)
{
    size_t n = strlen(s), o = 0, i;
    char *buf = malloc(n + 4);
    json_t *out;
    int space = 0;

    if (!buf) {
        return NULL;
    }
    for (i = 0; i < n; i++) {
        if (is_space(s[i])) {
            space = o > 0;
            continue;
        }
        if (space) {
            buf[o++] = ' ';
            space = 0;
        }
        buf[o++] = s[i];
    }
    if (o > max) {
        o = rc_utf8_floor(buf, max);
        while (o > 0 && buf[o - 1] == ' ') {
            o--;
        }
        memcpy(buf + o, "\xE2\x80\xA6", 3);
        o += 3;
    }
    out = o ? rc_json_stringn(buf, o) : NULL;
    free(buf);
    return out;
}

/* The first member of obj (or of obj's "metadata", or of a LlamaIndex node's)
 * named in keys that is a non-empty string, or a number when numbers is set. */
static const json_t *member(const json_t *obj, const char *const *keys, int numbers)
{
    const json_t *where[4];
    int nw = 0, w, k;

    where[nw++] = obj;
    if (json_is_object(json_object_get(obj, "metadata"))) {
        where[nw++] = json_object_get(obj, "metadata");
    }
    if (json_is_object(json_object_get(obj, "node"))) {
        const json_t *node = json_object_get(obj, "node");
        where[nw++] = node;
        if (json_is_object(json_object_get(node, "metadata"))) {
            where[nw++] = json_object_get(node, "metadata");
        }
    }
    for (k = 0; keys[k]; k++) {
        for (w = 0; w < nw; w++) {
            const json_t *v = json_object_get(where[w], keys[k]);
            if ((json_is_string(v) && json_string_length(v) > 0)
                || (numbers && json_is_number(v))) {
                return v;
            }
        }
    }
    return NULL;
}

static int is_url(const char *s)
{
    return strncasecmp(s, "http://", 7) == 0 || strncasecmp(s, "https://", 8) == 0;
}

static const char *base_name(const char *s)
{
    const char *slash = strrchr(s, '/');
    return slash && slash[1] ? slash + 1 : s;
}

static void set_short(json_t *out, const char *key, const char *s, size_t max)
{
    json_t *v = short_string(s, max);
    if (v) {
        json_object_set_new(out, key, v);
    }
}

/* One source object from an entry of the list; NULL when it says nothing. */
static json_t *read_source(const json_t *e)
{
    static const char *const title_keys[] = {
        "title", "name", "document_title", "doc_title", "file_name", "filename", "file",
        "source", "document", "doc", "path", "doc_id", "document_id", NULL
    };
    static const char *const file_keys[] = {
        "file_name", "filename", "file", "file_path", "path", "source", "document", NULL
    };
    static const char *const page_keys[] = {
        "page", "page_label", "page_number", "pageNumber", "pages", "page_no", NULL
    };
    static const char *const passage_keys[] = { "passage", "chunk", "chunk_index", NULL };
    static const char *const score_keys[] = {
        "score", "relevance_score", "relevance", "similarity", "similarity_score", NULL
    };
    static const char *const url_keys[] = { "url", "link", "href", "uri", "source_url", NULL };
    static const char *const snippet_keys[] = {
        "snippet", "excerpt", "quote", "text", "content", "page_content", "chunk_text",
        "passage_text", NULL
    };
    json_t *out = json_object();
    const json_t *v;
    const char *title = NULL, *file = NULL, *url = NULL;

    if (json_is_string(e)) {
        title = json_string_value(e);
        if (is_url(title)) {
            url = title;
        }
        else if (strchr(title, '/') || strchr(title, '.')) {
            file = title;
            title = base_name(title);
        }
    }
    else if (json_is_object(e)) {
        if ((v = member(e, url_keys, 0)) && is_url(json_string_value(v))) {
            url = json_string_value(v);
        }
        if ((v = member(e, file_keys, 0))) {
            file = json_string_value(v);
            if (is_url(file)) {
                url = url ? url : file;
                file = NULL;
            }
        }
        if ((v = member(e, title_keys, 0))) {
            title = json_string_value(v);
            if (is_url(title)) {
                url = url ? url : title;
            }
            else if (title == file) {
                title = base_name(title);
            }
        }
        if ((v = member(e, page_keys, 1))) {
            if (json_is_string(v)) {
                set_short(out, "page", json_string_value(v), 40);
            }
            else {
                char num[32];
                snprintf(num, sizeof(num), "%lld", json_is_integer(v)
                         ? (long long)json_integer_value(v) : (long long)json_number_value(v));
                json_object_set_new(out, "page", json_string(num));
            }
        }
        if ((v = member(e, passage_keys, 1)) && json_is_integer(v)) {
            json_object_set_new(out, "passage", json_integer(json_integer_value(v)));
        }
        if ((v = member(e, score_keys, 1)) && json_is_number(v)) {
            json_object_set_new(out, "score", json_real(json_number_value(v)));
        }
        if ((v = member(e, snippet_keys, 0))) {
            set_short(out, "snippet", json_string_value(v), SNIPPET_MAX);
        }
    }
    if (url) {
        set_short(out, "url", url, TITLE_MAX);
    }
    if (file) {
        set_short(out, "file", file, TITLE_MAX);
    }
    if (!title) {
        title = file ? base_name(file) : url;
    }
    if (title) {
        set_short(out, "title", title, TITLE_MAX);
    }
    if (!json_object_get(out, "title")) {
        if (!json_object_size(out)) {
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, "title", json_string("Source"));
    }
    return out;
}

/* ---- finding the list ----------------------------------------------------------- */

static const char *const list_keys[] = {
    "sources", "citations", "references", "source_documents", "source_nodes",
    "documents", "docs", "contexts", "context", "passages", "chunks", "results",
    "retrieved", "hits", "source", NULL
};

static const json_t *find_list(const json_t *obj, int depth)
{
    const char *key;
    const json_t *v;
    int k;

    for (k = 0; list_keys[k]; k++) {
        v = json_object_get(obj, list_keys[k]);
        if (json_is_array(v) || json_is_string(v)) {
            return v;
        }
        if (json_is_object(v) && depth < DEPTH_MAX) {
            const json_t *in = find_list(v, depth + 1);
            /* {"sources": {"a.pdf": …}}: an object of sources is one source */
            return in ? in : v;
        }
    }
    if (depth >= DEPTH_MAX) {
        return NULL;
    }
    /* {"metadata": {"sources": …}}, {"rag": {"citations": …}} */
    json_object_foreach((json_t *)obj, key, v) {
        if (json_is_object(v)) {
            const json_t *in = find_list(v, depth + 1);
            if (in) {
                return in;
            }
        }
    }
    return NULL;
}

json_t *rc_sources_from(const json_t *preamble)
{
    const json_t *list = json_is_object(preamble) ? find_list(preamble, 0) : NULL;
    json_t *out;
    size_t i;

    if (!list) {
        return NULL;
    }
    out = json_array();
    if (!json_is_array(list)) {
        json_t *one = read_source(list);
        if (one) {
            json_array_append_new(out, one);
        }
    }
    for (i = 0; json_is_array(list) && i < json_array_size(list)
                && json_array_size(out) < RC_SOURCES_MAX; i++) {
        json_t *one = read_source(json_array_get(list, i));
        if (one) {
            json_array_append_new(out, one);
        }
    }
    if (!json_array_size(out)) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* ---- for exports ----------------------------------------------------------------- */

static const char *inline_md(apr_pool_t *p, const json_t *v)
{
    const char *s = json_string_value(v);
    return s ? rc_text_md_inline(p, s, strlen(s)) : NULL;
}

char *rc_sources_markdown(apr_pool_t *p, const json_t *sources)
{
    rc_buf *b;
    size_t i;

    if (!json_is_array(sources) || !json_array_size(sources)) {
        return apr_pstrdup(p, "");
    }
    b = rc_buf_make(p, 512);
    rc_buf_appends(b, "**Sources**\n\n");
    for (i = 0; i < json_array_size(sources); i++) {
        const json_t *s = json_array_get(sources, i);
        const char *title = inline_md(p, json_object_get(s, "title"));
        const char *file = inline_md(p, json_object_get(s, "file"));
        const char *page = inline_md(p, json_object_get(s, "page"));
        const char *url = json_string_value(json_object_get(s, "url"));
        const json_t *passage = json_object_get(s, "passage");
        const json_t *score = json_object_get(s, "score");

        rc_buf_appends(b, apr_psprintf(p, "%lu. %s", (unsigned long)i + 1,
                                       title ? title : "Source"));
        if (file && title && strcmp(json_string_value(json_object_get(s, "file")),
                                    json_string_value(json_object_get(s, "title")))) {
            rc_buf_appends(b, apr_pstrcat(p, " \xE2\x80\x94 ", file, NULL));
        }
        if (page) {
            rc_buf_appends(b, apr_pstrcat(p, ", page ", page, NULL));
        }
        if (json_is_integer(passage)) {
            rc_buf_appends(b, apr_psprintf(p, ", passage %" APR_INT64_T_FMT,
                                           (apr_int64_t)json_integer_value(passage)));
        }
        if (json_is_number(score)) {
            rc_buf_appends(b, apr_psprintf(p, " (score %.2f)", json_number_value(score)));
        }
        if (url && is_url(url) && !strpbrk(url, " <>\n")) {
            rc_buf_appends(b, apr_pstrcat(p, " <", url, ">", NULL));
        }
        rc_buf_appends(b, "\n");
    }
    return rc_buf_pstrdup(p, b);
}

/* Files of RagChatHtdocs: the app page, its assets, and templated pages. */
#include "static.h"

#include "http_core.h"
#include "util_filter.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_file_io.h"
#include "apr_strings.h"

APLOG_USE_MODULE(ragchat);

#define RC_TEMPLATE_MAX (256 * 1024)

static const struct { const char *ext, *type; } types[] = {
    { ".html", "text/html; charset=utf-8" },
    { ".js", "text/javascript; charset=utf-8" },
    { ".mjs", "text/javascript; charset=utf-8" },
    { ".css", "text/css; charset=utf-8" },
    { ".svg", "image/svg+xml" },
    { ".png", "image/png" },
    { ".ico", "image/x-icon" },
    { ".json", "application/json" },
    { ".woff2", "font/woff2" },
    { ".woff", "font/woff" },
    { ".ttf", "font/ttf" },
    { ".txt", "text/plain; charset=utf-8" },
    { NULL, NULL }
};

static const char *htdocs_dir(const rc_dir_conf *c)
{
    return c->htdocs ? c->htdocs : RC_DEFAULT_HTDOCS;
}

static const char *type_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    int i;

    for (i = 0; dot && types[i].ext; i++) {
        if (strcasecmp(dot, types[i].ext) == 0) {
            return types[i].type;
        }
    }
    return NULL;
}

/* Resolves path inside htdocs; NULL when it would leave it or is not a
 * plain name (no dot files, no "..", no backslashes). */
static const char *resolve(rc_req *q, const char *path)
{
    char *full = NULL;
    const char *s;

    if (!*path || *path == '.' || strstr(path, "/.") || strchr(path, '\\')) {
        return NULL;
    }
    for (s = path; *s; s++) {
        if ((unsigned char)*s < 0x20) {
            return NULL;
        }
    }
    if (apr_filepath_merge(&full, htdocs_dir(q->conf), path,
                           APR_FILEPATH_SECUREROOT | APR_FILEPATH_NOTABOVEROOT,
                           q->r->pool) != APR_SUCCESS) {
        return NULL;
    }
    return full;
}

/* The app's text files (HTML, CSS, JavaScript, SVG, JSON) go out compressed
 * when mod_deflate is loaded and the client accepts it: the DEFLATE filter
 * decides (and sets Vary). Its ETag gets a "-gzip" suffix, which a
 * revalidation sends back: the suffix is dropped from If-None-Match, so a
 * cached copy still gets its 304. */
static void compress_text(request_rec *r, const char *type)
{
    const char *inm = apr_table_get(r->headers_in, "If-None-Match");

    if (strncmp(type, "text/", 5) != 0 && strncmp(type, "image/svg", 9) != 0
        && strncmp(type, "application/json", 16) != 0) {
        return;
    }
    if (!ap_get_output_filter_handle("DEFLATE")) {
        return;
    }
    ap_add_output_filter("DEFLATE", NULL, r, r->connection);
    if (inm && strstr(inm, "-gzip\"")) {
        char *v = apr_pstrdup(r->pool, inm), *at;
        while ((at = strstr(v, "-gzip\"")) != NULL) {
            memmove(at, at + 5, strlen(at + 5) + 1);
        }
        apr_table_setn(r->headers_in, "If-None-Match", v);
    }
}

static int send_file(rc_req *q, const char *full, const char *type, const char *cache)
{
    request_rec *r = q->r;
    apr_file_t *f;
    apr_finfo_t fi;
    apr_bucket_brigade *bb;
    int rv;

    if (apr_stat(&fi, full, APR_FINFO_SIZE | APR_FINFO_MTIME | APR_FINFO_TYPE | APR_FINFO_INODE,
                 r->pool) != APR_SUCCESS || fi.filetype != APR_REG) {
        return rc_send_error(r, HTTP_NOT_FOUND, "not_found", "no such file");
    }
    r->finfo = fi;
    r->filename = apr_pstrdup(r->pool, full);
    ap_update_mtime(r, fi.mtime);
    ap_set_last_modified(r);
    ap_set_etag(r);
    apr_table_setn(r->headers_out, "Cache-Control", cache);
    ap_set_content_type(r, type);
    compress_text(r, type);
    if ((rv = ap_meets_conditions(r)) != OK) {
        r->status = rv;
        return OK;
    }
    if (apr_file_open(&f, full, APR_FOPEN_READ | APR_FOPEN_BINARY | APR_FOPEN_SENDFILE_ENABLED,
                      0, r->pool) != APR_SUCCESS) {
        return rc_send_error(r, HTTP_FORBIDDEN, "forbidden", "the file cannot be read");
    }
    ap_set_content_length(r, fi.size);
    if (r->header_only) {
        return OK;
    }
    bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_brigade_insert_file(bb, f, 0, fi.size, r->pool);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(r->connection->bucket_alloc));
    return ap_pass_brigade(r->output_filters, bb) == APR_SUCCESS ? OK : AP_FILTER_ERROR;
}

int rc_handle_static(rc_req *q, const char *path)
{
    const char *full, *type;

    if (q->r->method_number != M_GET) {
        return rc_send_method_not_allowed(q->r, "GET, HEAD");
    }
    full = resolve(q, path);
    type = full ? type_of(full) : NULL;
    if (!full || !type) {
        return rc_send_error(q->r, HTTP_NOT_FOUND, "not_found", "no such file");
    }
    /* Assets change with upgrades: revalidate cheaply (ETag) after an hour. */
    return send_file(q, full, type, "public, max-age=3600");
}

int rc_handle_index(rc_req *q)
{
    if (q->r->method_number != M_GET) {
        return rc_send_method_not_allowed(q->r, "GET, HEAD");
    }
    return send_file(q, resolve(q, "index.html"), "text/html; charset=utf-8", "no-cache");
}

static const char *html_escape(apr_pool_t *p, const char *s)
{
    return ap_escape_html2(p, s ? s : "", 1);
}

int rc_send_template(rc_req *q, int status, const char *file, const char *const *vars)
{
    request_rec *r = q->r;
    const char *full = resolve(q, file);
    apr_file_t *f;
    apr_finfo_t fi;
    char *text, *at;
    apr_size_t n;
    apr_array_header_t *parts;
    int i;

    if (!full || apr_file_open(&f, full, APR_FOPEN_READ, 0, r->pool) != APR_SUCCESS
        || apr_file_info_get(&fi, APR_FINFO_SIZE, f) != APR_SUCCESS
        || fi.size > RC_TEMPLATE_MAX) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "RC0601: cannot read the page %s in %s",
                      file, htdocs_dir(q->conf));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    n = (apr_size_t)fi.size;
    text = apr_palloc(r->pool, n + 1);
    apr_file_read_full(f, text, n, &n);
    apr_file_close(f);
    text[n] = '\0';

    parts = apr_array_make(r->pool, 16, sizeof(const char *));
    for (at = text; *at;) {
        char *open = strstr(at, "{{"), *close;
        const char *val = NULL;
        if (!open || !(close = strstr(open + 2, "}}"))) {
            APR_ARRAY_PUSH(parts, const char *) = at;
            break;
        }
        *open = '\0';
        APR_ARRAY_PUSH(parts, const char *) = at;
        *close = '\0';
        for (i = 0; vars && vars[i]; i += 2) {
            if (strcmp(vars[i], open + 2) == 0) {
                val = vars[i + 1];
                break;
            }
        }
        APR_ARRAY_PUSH(parts, const char *) = html_escape(r->pool, val ? val : "");
        at = close + 2;
    }
    text = apr_array_pstrcat(r->pool, parts, 0);
    r->status = status;
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    ap_set_content_type(r, "text/html; charset=utf-8");
    ap_set_content_length(r, strlen(text));
    if (!r->header_only) {
        ap_rputs(text, r);
    }
    return OK;
}

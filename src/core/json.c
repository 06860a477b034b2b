/* JSON helpers: jansson values tied to APR pools, and a fast string escaper. */
#include "json.h"
#include "encode.h"
#include "utf8.h"

#include <apr_strings.h>
#include <stdlib.h>
#include <string.h>

static apr_status_t json_cleanup(void *data)
{
    json_decref((json_t *)data);
    return APR_SUCCESS;
}

json_t *rc_json_pool(apr_pool_t *p, json_t *j)
{
    if (j) {
        apr_pool_cleanup_register(p, j, json_cleanup, apr_pool_cleanup_null);
    }
    return j;
}

json_t *rc_json_parse(apr_pool_t *p, const char *text, size_t len, const char **err)
{
    json_error_t e;
    json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, &e);

    if (!j) {
        if (err) {
            *err = apr_psprintf(p, "invalid JSON at line %d column %d: %s",
                                e.line, e.column, e.text);
        }
        return NULL;
    }
    return rc_json_pool(p, j);
}

char *rc_json_dump(apr_pool_t *p, const json_t *j)
{
    /* 15 significant digits: 0.56 stays 0.56, not 0.56000000000000005 */
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
    char *out;

    if (!s) {
        return apr_pstrdup(p, "null");
    }
    out = apr_pstrdup(p, s);
    free(s);
    return out;
}

json_t *rc_json_stringn(const char *s, size_t n)
{
    json_t *j;
    apr_pool_t *tmp;

    if (!s) {
        return json_null();
    }
    j = json_stringn(s, n);
    if (j) {
        return j;
    }
    /* Invalid UTF-8 (or an embedded NUL): store a repaired copy. */
    if (apr_pool_create(&tmp, NULL) != APR_SUCCESS) {
        return json_string("");
    }
    j = json_string(rc_utf8_sanitize(tmp, s, strnlen(s, n)));
    apr_pool_destroy(tmp);
    return j ? j : json_string("");
}

json_t *rc_json_string(const char *s)
{
    return s ? rc_json_stringn(s, strlen(s)) : json_null();
}

const char *rc_json_get_str(const json_t *obj, const char *key)
{
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int rc_json_append_string(rc_buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, run = 0;
    char esc[8];

    if (rc_buf_append(b, "\"", 1)) {
        return -1;
    }
    while (i < n) {
        unsigned char c = u[i];
        const char *rep = NULL;
        size_t rlen = 0, adv = 1;

        if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
            i++;
            run++;
            continue;
        }
        if (c >= 0x80) {
            size_t l = rc_utf8_decode(u + i, n - i, NULL);
            if (l == 3 && c == 0xE2 && u[i + 1] == 0x80 && (u[i + 2] == 0xA8 || u[i + 2] == 0xA9)) {
                rep = u[i + 2] == 0xA8 ? "\\u2028" : "\\u2029";
                rlen = 6;
                adv = 3;
            }
            else if (l == 0) {
                rep = "\xEF\xBF\xBD";
                rlen = 3;
            }
            else {
                i += l;
                run += l;
                continue;
            }
        }
        else if (c == '"') { rep = "\\\""; rlen = 2; }
        else if (c == '\\') { rep = "\\\\"; rlen = 2; }
        else if (c == '\n') { rep = "\\n"; rlen = 2; }
        else if (c == '\r') { rep = "\\r"; rlen = 2; }
        else if (c == '\t') { rep = "\\t"; rlen = 2; }
        else {
            memcpy(esc, "\\u00", 4);
            rc_hex_encode(esc + 4, &c, 1);
            rep = esc;
            rlen = 6;
        }
        if ((run && rc_buf_append(b, s + i - run, run)) || rc_buf_append(b, rep, rlen)) {
            return -1;
        }
        run = 0;
        i += adv;
    }
    if (run && rc_buf_append(b, s + n - run, run)) {
        return -1;
    }
    return rc_buf_append(b, "\"", 1);
}

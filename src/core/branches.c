/* Conversation branches from the "after" and "shown" members of the steps'
 * metadata (see branches.h). */
#include "branches.h"
#include "json.h"

#include <apr_hash.h>
#include <apr_strings.h>
#include <jansson.h>
#include <string.h>

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') {
        s++;
    }
    return s;
}

/* The metadata of most questions, {"after": "<id>"} or {"after": null} and
 * nothing else, read without a parser: a long thread's outline has thousands.
 * 1 when text is exactly that (an id without escapes), 0 for anything else. */
static int simple_after(apr_pool_t *p, const char *text, int *named, const char **after)
{
    const char *s = skip_ws(text), *q;

    if (*s != '{' || strncmp(s = skip_ws(s + 1), "\"after\"", 7) != 0) {
        return 0;
    }
    s = skip_ws(s + 7);
    if (*s++ != ':') {
        return 0;
    }
    s = skip_ws(s);
    if (strncmp(s, "null", 4) == 0) {
        *after = NULL;
        s += 4;
    }
    else if (*s == '"') {
        for (q = ++s; *q && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20; q++) {
        }
        if (*q != '"') {
            return 0;
        }
        *after = apr_pstrmemdup(p, s, (apr_size_t)(q - s));
        s = q + 1;
    }
    else {
        return 0;
    }
    s = skip_ws(s);
    if (*s != '}' || *skip_ws(s + 1)) {
        return 0;
    }
    *named = 1;
    return 1;
}

/* Reads "after" and "shown"; *named is 1 when "after" is present (a string or
 * null), and *after is its value then. */
static void read_meta(apr_pool_t *p, const char *text, int *named, const char **after,
                      const char **shown)
{
    json_t *j, *a;

    *named = 0;
    *after = *shown = NULL;
    if (!text || !*(text = skip_ws(text)) || strcmp(text, "{}") == 0
        || simple_after(p, text, named, after)) {
        return;    /* another app's step, or the common case read quickly */
    }
    j = text && *text ? json_loads(text, 0, NULL) : NULL;
    if (!json_is_object(j)) {
        json_decref(j);
        return;
    }
    a = json_object_get(j, "after");
    if (json_is_string(a)) {
        *named = 1;
        *after = apr_pstrdup(p, json_string_value(a));
    }
    else if (json_is_null(a)) {
        *named = 1;
    }
    if (json_is_string(json_object_get(j, "shown"))) {
        *shown = apr_pstrdup(p, json_string_value(json_object_get(j, "shown")));
    }
    json_decref(j);
}

/* The most recent of a list of versions (the later one on a tie). */
static int most_recent(const rc_branch_node *nodes, int first)
{
    int best = first, i;

    for (i = first; i >= 0; i = nodes[i].next_version) {
        if (strcmp(nodes[i].recency, nodes[best].recency) >= 0) {
            best = i;
        }
    }
    return best;
}

/* Steps looked at before the id hash: a step mostly follows the one just
 * before it (a regenerated answer: two before). */
#define RC_BRANCHES_NEAR 8

/* The index of the latest of nodes[0..i) with this id, or -1. The nearest
 * ones are compared first; the hash of all ids is only made (and from then
 * on kept, *indexed nodes in it) when a step follows a distant one. */
static int earlier_index(apr_pool_t *p, const rc_branch_node *nodes, int i, const char *id,
                         apr_hash_t **ids, int *indexed)
{
    int k, *at;

    for (k = i - 1; k >= 0 && k >= i - RC_BRANCHES_NEAR; k--) {
        if (nodes[k].id && strcmp(nodes[k].id, id) == 0) {
            return k;
        }
    }
    if (!*ids) {
        *ids = apr_hash_make(p);
    }
    for (; *indexed < i; (*indexed)++) {
        if (nodes[*indexed].id) {
            int *idx = apr_palloc(p, sizeof(int));
            *idx = *indexed;
            apr_hash_set(*ids, nodes[*indexed].id, APR_HASH_KEY_STRING, idx);
        }
    }
    at = apr_hash_get(*ids, id, APR_HASH_KEY_STRING);
    return at ? *at : -1;
}

void rc_branches_resolve(apr_pool_t *p, rc_branch_node *nodes, int n)
{
    apr_hash_t *ids = NULL;
    int *last_child = apr_pcalloc(p, sizeof(int) * (n > 0 ? n : 1));
    int root_first = -1, root_last = -1, i, cur, indexed = 0;

    for (i = 0; i < n; i++) {
        rc_branch_node *x = &nodes[i];
        const char *after, *shown, *created = x->created ? x->created : "";
        int named, at;

        read_meta(p, x->metadata, &named, &after, &shown);
        x->recency = shown && strcmp(shown, created) > 0 ? shown : created;
        x->parent = i - 1;     /* another app's step: after the one before it */
        if (named) {
            at = after ? earlier_index(p, nodes, i, after, &ids, &indexed) : -1;
            /* Only an earlier step can be followed: no cycles whatever the data. */
            x->parent = after ? (at >= 0 ? at : i - 1) : -1;
        }
        x->on_path = 0;
        x->first_child = x->next_version = -1;
        last_child[i] = -1;
        /* Appended in time order: the versions stay in time order. */
        if (x->parent < 0) {
            if (root_last >= 0) {
                nodes[root_last].next_version = i;
            }
            else {
                root_first = i;
            }
            root_last = i;
        }
        else {
            rc_branch_node *par = &nodes[x->parent];
            if (last_child[x->parent] >= 0) {
                nodes[last_child[x->parent]].next_version = i;
            }
            else {
                par->first_child = i;
            }
            last_child[x->parent] = i;
        }
    }
    for (i = 0; i < n; i++) {
        int first = nodes[i].parent < 0 ? root_first : nodes[nodes[i].parent].first_child;
        int k, pos = 0, count = 0;
        for (k = first; k >= 0; k = nodes[k].next_version) {
            if (k == i) {
                pos = count;
            }
            count++;
        }
        nodes[i].first_version = first;
        nodes[i].nversions = count;
        nodes[i].version = pos;
    }
    for (cur = root_first; cur >= 0;) {
        int pick = most_recent(nodes, cur);
        nodes[pick].on_path = 1;
        cur = nodes[pick].first_child;
    }
}

apr_array_header_t *rc_branches_path(apr_pool_t *p, const rc_branch_node *nodes, int n)
{
    apr_array_header_t *out = apr_array_make(p, n > 0 ? n : 1, sizeof(int));
    int i;

    for (i = 0; i < n; i++) {
        if (nodes[i].on_path) {
            APR_ARRAY_PUSH(out, int) = i;
        }
    }
    return out;
}

apr_array_header_t *rc_branches_chain(apr_pool_t *p, const rc_branch_node *nodes, int i)
{
    apr_array_header_t *out = apr_array_make(p, 16, sizeof(int));
    int k, j;

    for (k = i; k >= 0; k = nodes[k].parent) {
        APR_ARRAY_PUSH(out, int) = k;
    }
    /* leaf first: reverse into time order */
    for (k = 0, j = out->nelts - 1; k < j; k++, j--) {
        int t = APR_ARRAY_IDX(out, k, int);
        APR_ARRAY_IDX(out, k, int) = APR_ARRAY_IDX(out, j, int);
        APR_ARRAY_IDX(out, j, int) = t;
    }
    return out;
}

int rc_branches_find(const rc_branch_node *nodes, int n, const char *id)
{
    int i;

    for (i = 0; id && i < n; i++) {
        if (nodes[i].id && strcmp(nodes[i].id, id) == 0) {
            return i;
        }
    }
    return -1;
}

/* meta as an object (a new one when it is not one), with key set to v. */
static char *meta_with(apr_pool_t *p, const char *meta, const char *key, json_t *v)
{
    json_t *j = meta && *meta ? json_loads(meta, 0, NULL) : NULL;
    char *out;

    if (!json_is_object(j)) {
        json_decref(j);
        j = json_object();
    }
    json_object_set_new(j, key, v);
    out = rc_json_dump(p, j);
    json_decref(j);
    return out;
}

char *rc_branches_meta_after(apr_pool_t *p, const char *meta, const char *after)
{
    return meta_with(p, meta, "after", after ? rc_json_string(after) : json_null());
}

char *rc_branches_meta_shown(apr_pool_t *p, const char *meta, const char *stamp)
{
    return meta_with(p, meta, "shown", rc_json_string(stamp));
}

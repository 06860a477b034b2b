/* A thread's conversation with its branches (see conversation.h). */
#include "conversation.h"
#include "json.h"

#include "apr_hash.h"
#include "apr_strings.h"

int rc_step_kind(const rc_step *s)
{
    if (!s || !s->type) {
        return 0;
    }
    return strcmp(s->type, "user_message") == 0 ? 1
         : strcmp(s->type, "assistant_message") == 0 ? 2 : 0;
}

rc_conversation *rc_conversation_load(rc_db *db, const char *thread_id)
{
    /* Only the conversation: a Chainlit database may also hold run and tool
     * steps, which its own UI does not show either (the outline has none). */
    apr_array_header_t *steps = rc_store_thread_outline(db, thread_id,
                                                        RC_CONVERSATION_STEPS_MAX);
    rc_conversation *c;
    int i;

    if (!steps) {
        return NULL;
    }
    c = apr_pcalloc(db->pool, sizeof(*c));
    c->thread_id = thread_id;
    c->nodes = apr_pcalloc(db->pool, sizeof(rc_branch_node) * (steps->nelts + 1));
    for (i = 0; i < steps->nelts; i++) {
        rc_step *s = APR_ARRAY_IDX(steps, i, rc_step *);
        rc_branch_node *x = &c->nodes[c->n++];
        x->id = s->id;
        x->metadata = s->metadata;
        x->created = s->created;
        x->data = s;
    }
    rc_branches_resolve(db->pool, c->nodes, c->n);
    return c;
}

rc_step *rc_conversation_step(const rc_conversation *c, int i)
{
    return i >= 0 && i < c->n ? c->nodes[i].data : NULL;
}

apr_array_header_t *rc_conversation_read(rc_db *db, const rc_conversation *c,
                                         const int *idx, int n)
{
    const char **ids = apr_palloc(db->pool, sizeof(char *) * (n > 0 ? n : 1));
    apr_array_header_t *rows, *out;
    apr_hash_t *by_id;
    int i;

    for (i = 0; i < n; i++) {
        ids[i] = c->nodes[idx[i]].id;
    }
    if (!(rows = rc_store_steps_by_ids(db, c->thread_id, ids, n))) {
        return NULL;
    }
    by_id = apr_hash_make(db->pool);
    for (i = 0; i < rows->nelts; i++) {
        rc_step *s = APR_ARRAY_IDX(rows, i, rc_step *);
        apr_hash_set(by_id, s->id, APR_HASH_KEY_STRING, s);
    }
    out = apr_array_make(db->pool, n > 0 ? n : 1, sizeof(rc_step *));
    for (i = 0; i < n; i++) {
        rc_step *s = ids[i] ? apr_hash_get(by_id, ids[i], APR_HASH_KEY_STRING) : NULL;
        if (s) {
            APR_ARRAY_PUSH(out, rc_step *) = s;
        }
    }
    return out;
}

apr_array_header_t *rc_conversation_shown(apr_pool_t *p, const rc_conversation *c)
{
    return rc_branches_path(p, c->nodes, c->n);
}

apr_array_header_t *rc_conversation_page(apr_pool_t *p, const rc_conversation *c,
                                         int before, int limit, int *more)
{
    apr_array_header_t *branch = before < 0 ? rc_branches_path(p, c->nodes, c->n)
                               : rc_branches_chain(p, c->nodes, c->nodes[before].parent);
    int skip = branch->nelts > limit ? branch->nelts - limit : 0;
    apr_array_header_t *out = apr_array_make(p, limit > 0 ? limit : 1, sizeof(int));
    int i;

    for (i = skip; i < branch->nelts; i++) {
        APR_ARRAY_PUSH(out, int) = APR_ARRAY_IDX(branch, i, int);
    }
    *more = skip > 0;
    return out;
}

const char *rc_conversation_leaf(apr_pool_t *p, const rc_conversation *c)
{
    apr_array_header_t *path = rc_branches_path(p, c->nodes, c->n);

    return path->nelts ? c->nodes[APR_ARRAY_IDX(path, path->nelts - 1, int)].id : NULL;
}

json_t *rc_conversation_versions(const rc_conversation *c, int i)
{
    json_t *ids;
    int k;

    if (i < 0 || i >= c->n || c->nodes[i].nversions < 2) {
        return NULL;
    }
    ids = json_array();
    for (k = c->nodes[i].first_version; k >= 0; k = c->nodes[k].next_version) {
        json_array_append_new(ids, rc_json_string(c->nodes[k].id));
    }
    return ids;
}

int rc_conversation_is_upload(const rc_step *s)
{
    json_t *j = s && s->metadata ? json_loads(s->metadata, 0, NULL) : NULL;
    int up = json_is_true(json_object_get(j, "upload"));

    json_decref(j);
    return up;
}

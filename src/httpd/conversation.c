/* A thread's conversation with its branches (see conversation.h). */
#include "conversation.h"
#include "json.h"

#include "apr_strings.h"

/* The bound of GET B/api/threads/{id} and of the exports. */
#define RC_CONVERSATION_STEPS_MAX 5000

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
    apr_array_header_t *steps = rc_store_thread_steps(db, thread_id, RC_CONVERSATION_STEPS_MAX);
    rc_conversation *c;
    int i;

    if (!steps) {
        return NULL;
    }
    c = apr_pcalloc(db->pool, sizeof(*c));
    c->nodes = apr_pcalloc(db->pool, sizeof(rc_branch_node) * (steps->nelts + 1));
    /* Only the conversation: a Chainlit database may also hold run and tool
     * steps, which its own UI does not show either. */
    for (i = 0; i < steps->nelts; i++) {
        rc_step *s = APR_ARRAY_IDX(steps, i, rc_step *);
        rc_branch_node *x;
        if (!rc_step_kind(s)) {
            continue;
        }
        x = &c->nodes[c->n++];
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

apr_array_header_t *rc_conversation_shown(apr_pool_t *p, const rc_conversation *c)
{
    apr_array_header_t *path = rc_branches_path(p, c->nodes, c->n);
    apr_array_header_t *out = apr_array_make(p, path->nelts + 1, sizeof(rc_step *));
    int i;

    for (i = 0; i < path->nelts; i++) {
        APR_ARRAY_PUSH(out, rc_step *) = rc_conversation_step(c, APR_ARRAY_IDX(path, i, int));
    }
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

/* A thread's conversation: its message steps with their branches resolved
 * (src/core/branches.c over the store's steps): the branch shown for the
 * thread view and exports, a step's chain for the history sent to the
 * backend, the step a new message follows. */
#ifndef RC_CONVERSATION_H
#define RC_CONVERSATION_H

#include "branches.h"
#include "store.h"

#include <jansson.h>

typedef struct {
    rc_branch_node *nodes;       /* message steps in time order; data: rc_step * */
    int n;
} rc_conversation;

/* The thread's steps read and resolved (in db->pool); NULL on a database error. */
rc_conversation *rc_conversation_load(rc_db *db, const char *thread_id);

/* The steps of the branch shown, in order (rc_step *), in p. */
apr_array_header_t *rc_conversation_shown(apr_pool_t *p, const rc_conversation *c);

/* The step at index i (NULL for -1). */
rc_step *rc_conversation_step(const rc_conversation *c, int i);

/* The id of the last step of the branch shown: what a new message follows
 * (NULL: an empty conversation). */
const char *rc_conversation_leaf(apr_pool_t *p, const rc_conversation *c);

/* The ids of the versions of node i, in time order, as a new JSON array; NULL
 * when it has no other version. */
json_t *rc_conversation_versions(const rc_conversation *c, int i);

/* 1 when the step is part of an upload (its files, or the ingestion notice). */
int rc_conversation_is_upload(const rc_step *s);

/* 1 for user_message, 2 for assistant_message, 0 for other steps. */
int rc_step_kind(const rc_step *s);

#endif

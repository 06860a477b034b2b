/* A thread's conversation: its message steps with their branches resolved
 * (src/core/branches.c over the store's outline of the thread): the branch
 * shown for the thread view and exports, a step's chain for the history sent
 * to the backend, the step a new message follows. The outline holds no text:
 * the whole steps are read afterwards, only those needed (a page of the
 * thread, the newest part of the history, an export a piece at a time). */
#ifndef RC_CONVERSATION_H
#define RC_CONVERSATION_H

#include "branches.h"
#include "store.h"

#include <jansson.h>

/* Steps of a thread read at most (the newest; older ones are left out). */
#define RC_CONVERSATION_STEPS_MAX 100000

typedef struct {
    rc_branch_node *nodes;       /* message steps in time order; data: rc_step *
                                    of the outline (id, type, metadata, created:
                                    no output, name or feedback) */
    int n;
    const char *thread_id;
} rc_conversation;

/* The thread's outline read and resolved (in db->pool); NULL on a database error. */
rc_conversation *rc_conversation_load(rc_db *db, const char *thread_id);

/* The outline's step at index i (NULL for -1). */
rc_step *rc_conversation_step(const rc_conversation *c, int i);

/* The whole steps (output, feedback...) of the nodes idx[0..n), in that order
 * (rc_step *, in db->pool: give rc_db_scratch's to read a long thread in
 * pieces); a step deleted meanwhile is left out. NULL on a database error. */
apr_array_header_t *rc_conversation_read(rc_db *db, const rc_conversation *c,
                                         const int *idx, int n);

/* The indexes (int, in p) of the branch shown, from its start to its end. */
apr_array_header_t *rc_conversation_shown(apr_pool_t *p, const rc_conversation *c);

/* A page of a branch, for GET B/api/threads/{id}: the newest limit steps of
 * the branch shown (before < 0), or of the branch that leads to node before,
 * ending just before it. Indexes (int, in p), oldest first; *more is 1
 * when older steps precede the page (its first step is the next cursor). */
apr_array_header_t *rc_conversation_page(apr_pool_t *p, const rc_conversation *c,
                                         int before, int limit, int *more);

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

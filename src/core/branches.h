/* Conversation branches: regenerated answers and edited questions keep the
 * versions they replace. The reference's schema has no place for a tree, so
 * each message step names the step it follows in its metadata:
 *
 *   {"after": "<step id>"}   follows that step
 *   {"after": null}          starts the conversation
 *   (no "after")             a step written by another app: it follows the
 *                            message before it in time order
 *
 * Steps following the same step are versions of each other. At each fork the
 * version shown is the one most recently created or picked ("shown": the time
 * the user picked it), and the next message continues from the end of the
 * branch shown. No httpd types: the store reads the steps, this works on them. */
#ifndef RC_BRANCHES_H
#define RC_BRANCHES_H

#include <apr_pools.h>
#include <apr_tables.h>

typedef struct {
    /* filled in by the caller, in time order */
    const char *id;
    const char *metadata;        /* the step's JSON text (may be NULL) */
    const char *created;         /* "YYYY-MM-DDTHH:MM:SS.ffffffZ" */
    void *data;                  /* the caller's own record */
    /* filled in by rc_branches_resolve */
    int parent;                  /* index of the step it follows, -1: the start */
    int on_path;                 /* on the branch shown */
    int nversions, version;      /* versions at this fork (1: none), its position */
    int first_version;           /* index of the first version (the versions are
                                    linked by next_version, in time order) */
    int next_version;            /* -1 after the last */
    int first_child;             /* -1: none; children linked by next_version */
    const char *recency;         /* max(created, shown): the version shown is the
                                    most recent */
} rc_branch_node;

/* Resolves the tree of the n nodes (in time order): parents, versions and the
 * branch shown. Metadata is parsed with jansson; scratch memory from p. */
void rc_branches_resolve(apr_pool_t *p, rc_branch_node *nodes, int n);

/* The indexes of the branch shown, from its start to its end (int), in p. */
apr_array_header_t *rc_branches_path(apr_pool_t *p, const rc_branch_node *nodes, int n);

/* The indexes from the start of the conversation down to node i, inclusive
 * (i = -1: empty), in p. */
apr_array_header_t *rc_branches_chain(apr_pool_t *p, const rc_branch_node *nodes, int i);

/* The index of the node with this id, or -1. */
int rc_branches_find(const rc_branch_node *nodes, int n, const char *id);

/* Metadata text with "after" set (NULL: the conversation's start) and the other
 * members of meta (JSON object text, may be NULL or empty) kept, in p. */
char *rc_branches_meta_after(apr_pool_t *p, const char *meta, const char *after);

/* Metadata text with "shown" set to stamp, the other members kept, in p. */
char *rc_branches_meta_shown(apr_pool_t *p, const char *meta, const char *stamp);

#endif

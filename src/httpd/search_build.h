/* The search index of the rows written before it, built in the background. */
#ifndef RC_SEARCH_BUILD_H
#define RC_SEARCH_BUILD_H

#include "httpd.h"

/* Per child process, after mod_dbd's child_init: starts the builder thread
 * of s's database; it ends when nothing is left to index, or with the child. */
void rc_search_build_child_init(apr_pool_t *pchild, server_rec *s);

#endif

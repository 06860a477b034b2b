/* Identifiers: random hex, uuid4 and the timestamps rows carry. */
#ifndef RC_IDS_H
#define RC_IDS_H

#include <apr_pools.h>
#include <apr_time.h>
#include <stddef.h>

/* A uuid4 string ("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx") in p. */
char *rc_uuid4(apr_pool_t *p);
/* 1 when s has the uuid shape (any version, lower or upper hex). */
int rc_is_uuid(const char *s);
/* UTC "YYYY-MM-DDTHH:MM:SS.ffffffZ", the format Chainlit's data layer writes. */
char *rc_timestamp(apr_pool_t *p, apr_time_t t);
/* Random bytes as lowercase hex (2*n characters). */
char *rc_random_hex(apr_pool_t *p, size_t n);

#endif

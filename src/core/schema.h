/* The database schema, in one place, for every driver: the reference's tables
 * and the module's ragchat_* tables, as numbered versions applied in order and
 * recorded in ragchat_schema. Used by the module on a connection's first use
 * and by the migration tool on its destination. Needs APR-util's DBD layer,
 * no httpd. */
#ifndef RC_SCHEMA_H
#define RC_SCHEMA_H

#include <apr_pools.h>
#include <apr_dbd.h>

/* The version this build creates and upgrades to. */
#define RC_SCHEMA_VERSION 5

typedef enum {
    RC_DRIVER_OTHER = 0,
    RC_DRIVER_SQLITE = 1,
    RC_DRIVER_PGSQL = 2
} rc_driver_kind;

/* The kind of an APR DBD driver, from its name ("sqlite3", "pgsql"). */
rc_driver_kind rc_driver_of(const apr_dbd_driver_t *driver);

typedef struct {
    int from;     /* the version found: 0 for none (a new or a 0.1.0 database) */
    int to;       /* the version the database is at now */
} rc_schema_state;

/* The database's recorded version: 0 when it has none, -1 on error (*err set). */
int rc_schema_version(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                      const char **err);

/* Brings the database to RC_SCHEMA_VERSION: creates what is missing and applies
 * each later version in one transaction, serialised across processes and
 * servers (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock), so that
 * several children or nodes starting at once upgrade it once. A database at a
 * later version (a newer module wrote it) is left as it is. 0, or -1 with *err
 * (in p) saying which statement failed and why. */
int rc_schema_upgrade(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                      rc_schema_state *state, const char **err);

#endif

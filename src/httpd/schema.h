/* The schema, in one place (schema.c). */
#ifndef RC_SCHEMA_H
#define RC_SCHEMA_H

#include "db.h"

/* Creates the missing tables and indexes on this connection: 0 or -1 (logged). */
int rc_schema_create(rc_db *db);

#endif

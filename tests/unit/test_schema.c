/* The schema's versions and their upgrade, on an in-memory SQLite database
 * through APR's sqlite3 driver (the driver the module uses). */
#include "unit.h"
#include "schema.h"

#include <apr_general.h>
#include <apr_strings.h>

static const apr_dbd_driver_t *drv;

static apr_dbd_t *open_db(apr_pool_t *p)
{
    apr_dbd_t *h = NULL;
    const char *err = NULL;

    if (apr_dbd_open_ex(drv, p, ":memory:", &h, &err) != APR_SUCCESS) {
        fprintf(stderr, "sqlite3: %s\n", err ? err : "?");
        return NULL;
    }
    return h;
}

static int run(apr_dbd_t *h, const char *sql)
{
    int n = 0;
    return apr_dbd_query(drv, h, &n, sql);
}

/* A database that records version v (0: none). */
static apr_dbd_t *at_version(apr_pool_t *p, int v)
{
    apr_dbd_t *h = open_db(p);

    CHECK(h != NULL);
    if (h && v) {
        CHECK(run(h, "CREATE TABLE ragchat_schema (version INTEGER PRIMARY KEY,"
                     " \"appliedAt\" TEXT NOT NULL)") == 0);
        CHECK(run(h, apr_psprintf(p, "INSERT INTO ragchat_schema VALUES (%d, 'then')", v)) == 0);
    }
    return h;
}

static long long number(apr_pool_t *p, apr_dbd_t *h, const char *sql)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    long long v = -1;

    if (apr_dbd_select(drv, p, h, &res, sql, 1)) {
        return -2;
    }
    while (apr_dbd_get_row(drv, p, res, &row, -1) == 0) {
        const char *s = apr_dbd_get_entry(drv, row, 0);
        v = s ? apr_atoi64(s) : -1;
    }
    return v;
}

static void test_new_database(apr_pool_t *p)
{
    apr_dbd_t *h = at_version(p, 0);
    rc_schema_state st;
    const char *err = NULL;

    if (!h) {
        return;
    }
    CHECK(rc_driver_of(drv) == RC_DRIVER_SQLITE);
    CHECK(rc_schema_version(p, drv, h, &err) == 0);
    CHECK(rc_schema_upgrade(p, drv, h, &st, &err) == 0);
    CHECK(st.from == 0 && st.to == RC_SCHEMA_VERSION);
    CHECK(number(p, h, "SELECT COUNT(*) FROM ragchat_schema") == RC_SCHEMA_VERSION);
    CHECK(number(p, h, "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('users', 'threads',"
                       " 'steps', 'feedbacks', 'elements', 'ragchat_streams', 'ragchat_sessions',"
                       " 'ragchat_login_failures', 'ragchat_documents', 'ragchat_chunks',"
                       " 'ragchat_feedbacks_thread', 'ragchat_elements_thread')") == 12);
    /* Once at the version, nothing more happens. */
    CHECK(rc_schema_upgrade(p, drv, h, &st, &err) == 0);
    CHECK(st.from == RC_SCHEMA_VERSION && st.to == RC_SCHEMA_VERSION);
    CHECK(number(p, h, "SELECT COUNT(*) FROM ragchat_schema") == RC_SCHEMA_VERSION);
    apr_dbd_close(drv, h);
}

/* Version 1 as recorded: only the later versions are applied, rows stay. */
static void test_upgrade_from_1(apr_pool_t *p)
{
    apr_dbd_t *h = at_version(p, 1);
    rc_schema_state st;
    const char *err = NULL;

    if (!h) {
        return;
    }
    CHECK(run(h, "CREATE TABLE users (id TEXT PRIMARY KEY, identifier TEXT NOT NULL UNIQUE,"
                 " \"createdAt\" TEXT, metadata TEXT NOT NULL DEFAULT '{}')") == 0);
    CHECK(run(h, "CREATE TABLE feedbacks (id TEXT PRIMARY KEY, \"forId\" TEXT NOT NULL,"
                 " \"threadId\" TEXT NOT NULL, value INTEGER NOT NULL, comment TEXT)") == 0);
    CHECK(run(h, "CREATE TABLE elements (id TEXT PRIMARY KEY, \"threadId\" TEXT, name TEXT)")
          == 0);
    CHECK(run(h, "CREATE TABLE threads (id TEXT PRIMARY KEY, name TEXT)") == 0);
    /* version 4 indexes the messages: its triggers need the steps table */
    CHECK(run(h, "CREATE TABLE steps (id TEXT PRIMARY KEY, \"threadId\" TEXT, type TEXT,"
                 " output TEXT)") == 0);
    CHECK(run(h, "INSERT INTO users VALUES ('u1', 'alice', NULL, '{}')") == 0);
    CHECK(run(h, "INSERT INTO threads VALUES ('t1', 'old')") == 0);
    CHECK(rc_schema_version(p, drv, h, &err) == 1);
    CHECK(rc_schema_upgrade(p, drv, h, &st, &err) == 0);
    CHECK(st.from == 1 && st.to == RC_SCHEMA_VERSION);
    CHECK(number(p, h, "SELECT COUNT(*) FROM users") == 1);
    /* Version 1's tables were not made again: the sessions never existed here. */
    CHECK(number(p, h, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'ragchat_sessions'")
          == 0);
    /* Version 3 gave threads their app, none yet for the old row. */
    CHECK(number(p, h, "SELECT COUNT(*) FROM threads WHERE \"ragchatApp\" IS NULL") == 1);
    CHECK(number(p, h, "SELECT COUNT(*) FROM sqlite_master WHERE name ="
                       " 'ragchat_elements_thread'") == 1);
    CHECK(number(p, h, "SELECT MAX(version) FROM ragchat_schema") == RC_SCHEMA_VERSION);
    apr_dbd_close(drv, h);
}

/* A later version than ours is left alone; a failing version leaves nothing. */
static void test_newer_and_failing(apr_pool_t *p)
{
    apr_dbd_t *h = at_version(p, 99);
    rc_schema_state st;
    const char *err = NULL;

    if (!h) {
        return;
    }
    CHECK(rc_schema_upgrade(p, drv, h, &st, &err) == 0);
    CHECK(st.from == 99 && st.to == 99);
    CHECK(number(p, h, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'users'") == 0);
    apr_dbd_close(drv, h);

    /* "elements" is a view here: version 1 passes it by (IF NOT EXISTS), but
     * version 2's index on elements cannot be made on a view: all is rolled back. */
    if (!(h = at_version(p, 0))) {
        return;
    }
    CHECK(run(h, "CREATE VIEW elements AS SELECT 1 AS \"threadId\"") == 0);
    err = NULL;
    CHECK(rc_schema_upgrade(p, drv, h, &st, &err) == -1);
    CHECK(err != NULL && strstr(err, "schema version") != NULL);
    CHECK(number(p, h, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'") == 0);
    apr_dbd_close(drv, h);
}

int main(int argc, const char *const *argv)
{
    apr_pool_t *p;

    apr_app_initialize(&argc, &argv, NULL);
    apr_pool_create(&p, NULL);
    apr_dbd_init(p);
    if (apr_dbd_get_driver(p, "sqlite3", &drv) != APR_SUCCESS) {
        fprintf(stderr, "APR's sqlite3 driver is missing (libaprutil1-dbd-sqlite3)\n");
        return 1;
    }
    test_new_database(p);
    test_upgrade_from_1(p);
    test_newer_and_failing(p);
    apr_pool_destroy(p);
    apr_terminate();
    return UNIT_REPORT("schema");
}

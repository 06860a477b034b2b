/* The schema, in one place: every table and index of every version, for each
 * driver, and the procedure that brings a database up to date.
 *
 * Version 1 is the schema of mod_ragchat 0.1.0, which recorded no version: the
 * reference's tables (verbatim from its init_db.py) and the module's own, plus
 * on SQLite the built-in backend's document store (FTS5). Its statements all
 * say IF NOT EXISTS, so a database with no version (new, a Chainlit app's, or
 * one 0.1.0 made) is brought to version 1 by running them all.
 * Version 2: the built-in backend's document store on PostgreSQL (tsvector, GIN
 * index), and indexes for deleting a thread's feedback and elements.
 * Version 3: threads."ragchatApp", the RagChatApp a thread belongs to.
 * Version 4: the search of thread names and messages: ragchat_search_docs (one
 * row per name and per message, kept by triggers, so rows the reference app
 * writes are found too) with a trigram index (SQLite FTS5's trigram tokenizer,
 * PostgreSQL's pg_trgm GIN): any script, CJK included, and substrings; an
 * index on threads ("userId", "createdAt") for the list. SQLite indexes the
 * rows already there in batches afterwards (ragchat_search_backfill, see
 * store_search.c).
 *
 * Version 5: those batches run in a thread of one child process of one node
 * at a time (ragchat_search_builder, see search_build.c), PostgreSQL's too.
 *
 * A later version appends its statements with its number and raises
 * RC_SCHEMA_VERSION; nothing already here changes. */
#include "schema.h"

#include <apr_strings.h>
#include <string.h>

#define ALL  (RC_DRIVER_SQLITE | RC_DRIVER_PGSQL)
#define LITE RC_DRIVER_SQLITE
#define PG   RC_DRIVER_PGSQL

typedef struct {
    int version;
    unsigned drivers;          /* rc_driver_kind bits */
    const char *sql;
} schema_stmt;

static const schema_stmt statements[] = {
    /* ---- 1: the reference's init_db.py, verbatim ---- */
    { 1, ALL, "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, identifier TEXT NOT NULL"
              " UNIQUE, \"createdAt\" TEXT, metadata TEXT NOT NULL DEFAULT '{}')" },
    { 1, ALL, "CREATE TABLE IF NOT EXISTS threads (id TEXT PRIMARY KEY, \"createdAt\" TEXT,"
              " name TEXT, \"userId\" TEXT, \"userIdentifier\" TEXT, tags TEXT,"
              " metadata TEXT NOT NULL DEFAULT '{}',"
              " FOREIGN KEY (\"userId\") REFERENCES users(id) ON DELETE CASCADE)" },
    { 1, ALL, "CREATE TABLE IF NOT EXISTS steps (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
              " type TEXT NOT NULL, \"threadId\" TEXT NOT NULL, \"parentId\" TEXT,"
              " \"disableFeedback\" INTEGER NOT NULL DEFAULT 0,"
              " streaming INTEGER NOT NULL DEFAULT 0, \"waitForAnswer\" INTEGER,"
              " \"isError\" INTEGER NOT NULL DEFAULT 0, metadata TEXT NOT NULL DEFAULT '{}',"
              " tags TEXT, input TEXT, output TEXT, \"createdAt\" TEXT, start TEXT, \"end\" TEXT,"
              " \"showInput\" TEXT, language TEXT, indent INTEGER, generation TEXT,"
              " \"defaultOpen\" INTEGER, \"autoCollapse\" INTEGER,"
              " FOREIGN KEY (\"threadId\") REFERENCES threads(id) ON DELETE CASCADE)" },
    { 1, ALL, "CREATE TABLE IF NOT EXISTS feedbacks (id TEXT PRIMARY KEY, \"forId\" TEXT NOT NULL,"
              " \"threadId\" TEXT NOT NULL, value INTEGER NOT NULL, comment TEXT)" },
    { 1, ALL, "CREATE TABLE IF NOT EXISTS elements (id TEXT PRIMARY KEY, \"threadId\" TEXT,"
              " type TEXT, url TEXT, \"chainlitKey\" TEXT, name TEXT NOT NULL, display TEXT,"
              " \"objectKey\" TEXT, size TEXT, page INTEGER, language TEXT, \"forId\" TEXT,"
              " mime TEXT, props TEXT)" },
    /* ---- 1: the module's indexes and tables ---- */
    { 1, ALL, "CREATE INDEX IF NOT EXISTS ragchat_threads_user"
              " ON threads (\"userIdentifier\", \"createdAt\")" },
    { 1, ALL, "CREATE INDEX IF NOT EXISTS ragchat_steps_thread ON steps (\"threadId\", \"createdAt\")" },
    { 1, ALL, "CREATE INDEX IF NOT EXISTS ragchat_feedbacks_for ON feedbacks (\"forId\")" },
    /* Running answers: a stop request sets stop, on any node. */
    { 1, ALL, "CREATE TABLE IF NOT EXISTS ragchat_streams (\"stepId\" TEXT PRIMARY KEY,"
              " \"threadId\" TEXT NOT NULL, \"userId\" TEXT NOT NULL,"
              " stop INTEGER NOT NULL DEFAULT 0, \"createdAt\" TEXT)" },
    /* Sessions of RagChatAuth form: id is a hash of the cookie's random id, so
     * the table alone lets nobody in; times are epoch seconds. */
    { 1, ALL, "CREATE TABLE IF NOT EXISTS ragchat_sessions (id TEXT PRIMARY KEY,"
              " \"userIdentifier\" TEXT NOT NULL, csrf TEXT NOT NULL, provider TEXT NOT NULL,"
              " \"createdAt\" BIGINT NOT NULL, \"lastSeen\" BIGINT NOT NULL,"
              " \"expiresAt\" BIGINT NOT NULL, \"checkedAt\" BIGINT NOT NULL, address TEXT)" },
    { 1, ALL, "CREATE INDEX IF NOT EXISTS ragchat_sessions_user"
              " ON ragchat_sessions (\"userIdentifier\")" },
    { 1, ALL, "CREATE INDEX IF NOT EXISTS ragchat_sessions_expires"
              " ON ragchat_sessions (\"expiresAt\")" },
    /* Failed logins, one row per failure and key (a hash of the user name or
     * of the address); createdAt in epoch seconds. */
    { 1, ALL, "CREATE TABLE IF NOT EXISTS ragchat_login_failures (id TEXT PRIMARY KEY,"
              " \"key\" TEXT NOT NULL, \"createdAt\" BIGINT NOT NULL)" },
    { 1, ALL, "CREATE INDEX IF NOT EXISTS ragchat_login_failures_key"
              " ON ragchat_login_failures (\"key\", \"createdAt\")" },
    { 1, ALL, "CREATE INDEX IF NOT EXISTS ragchat_login_failures_time"
              " ON ragchat_login_failures (\"createdAt\")" },
    /* The built-in backend's documents and passages, SQLite: FTS5 (porter). */
    { 1, LITE, "CREATE TABLE IF NOT EXISTS ragchat_documents (id TEXT PRIMARY KEY,"
               " \"userIdentifier\" TEXT NOT NULL, name TEXT NOT NULL, mime TEXT, size INTEGER,"
               " chunks INTEGER NOT NULL DEFAULT 0, \"createdAt\" TEXT NOT NULL)" },
    { 1, LITE, "CREATE INDEX IF NOT EXISTS ragchat_documents_user"
               " ON ragchat_documents (\"userIdentifier\", name)" },
    { 1, LITE, "CREATE VIRTUAL TABLE IF NOT EXISTS ragchat_chunks USING fts5(document UNINDEXED,"
               " \"userIdentifier\" UNINDEXED, name UNINDEXED, ordinal UNINDEXED, text,"
               " tokenize = 'porter unicode61 remove_diacritics 2')" },

    /* ---- 2: deleting a thread finds its feedback and elements by index ---- */
    { 2, ALL, "CREATE INDEX IF NOT EXISTS ragchat_feedbacks_thread ON feedbacks (\"threadId\")" },
    { 2, ALL, "CREATE INDEX IF NOT EXISTS ragchat_elements_thread ON elements (\"threadId\")" },
    /* ---- 2: the built-in backend's documents on PostgreSQL: the same
     * columns, the passages' English tsvector kept by the database, a GIN
     * index on it. ---- */
    { 2, PG, "CREATE TABLE IF NOT EXISTS ragchat_documents (id TEXT PRIMARY KEY,"
             " \"userIdentifier\" TEXT NOT NULL, name TEXT NOT NULL, mime TEXT, size BIGINT,"
             " chunks INTEGER NOT NULL DEFAULT 0, \"createdAt\" TEXT NOT NULL)" },
    { 2, PG, "CREATE INDEX IF NOT EXISTS ragchat_documents_user"
             " ON ragchat_documents (\"userIdentifier\", name)" },
    { 2, PG, "CREATE TABLE IF NOT EXISTS ragchat_chunks (document TEXT NOT NULL,"
             " \"userIdentifier\" TEXT NOT NULL, name TEXT NOT NULL, ordinal INTEGER NOT NULL,"
             " text TEXT NOT NULL, tsv tsvector GENERATED ALWAYS AS"
             " (to_tsvector('english'::regconfig, text)) STORED)" },
    { 2, PG, "CREATE INDEX IF NOT EXISTS ragchat_chunks_tsv ON ragchat_chunks USING GIN (tsv)" },
    { 2, PG, "CREATE INDEX IF NOT EXISTS ragchat_chunks_document"
             " ON ragchat_chunks (\"userIdentifier\", document)" },
    /* ---- 3: RagChatApp: the app a thread belongs to (NULL: none yet, as the
     * reference app writes them) ---- */
    { 3, ALL, "ALTER TABLE threads ADD COLUMN \"ragchatApp\" TEXT" },
    /* ---- 4: the list's second index; the search documents ---- */
    { 4, ALL, "CREATE INDEX IF NOT EXISTS ragchat_threads_userid"
              " ON threads (\"userId\", \"createdAt\")" },
    /* kind 0: a thread's name (ref: the thread), 1: a message (ref: the step) */
    { 4, LITE, "CREATE TABLE IF NOT EXISTS ragchat_search_docs (id INTEGER PRIMARY KEY,"
               " kind INTEGER NOT NULL, ref TEXT NOT NULL, \"threadId\" TEXT NOT NULL,"
               " text TEXT NOT NULL)" },
    { 4, PG, "CREATE TABLE IF NOT EXISTS ragchat_search_docs (id BIGSERIAL PRIMARY KEY,"
             " kind INTEGER NOT NULL, ref TEXT NOT NULL, \"threadId\" TEXT NOT NULL,"
             " text TEXT NOT NULL)" },
    { 4, ALL, "CREATE UNIQUE INDEX IF NOT EXISTS ragchat_search_docs_ref"
              " ON ragchat_search_docs (ref, kind)" },
    /* SQLite: FTS5 over the documents (external content: the text is kept once) */
    { 4, LITE, "CREATE VIRTUAL TABLE IF NOT EXISTS ragchat_search USING fts5(text,"
               " content = 'ragchat_search_docs', content_rowid = 'id', tokenize = 'trigram')" },
    { 4, LITE, "CREATE TRIGGER IF NOT EXISTS ragchat_search_docs_ai AFTER INSERT"
               " ON ragchat_search_docs BEGIN"
               " INSERT INTO ragchat_search (rowid, text) VALUES (new.id, new.text); END" },
    { 4, LITE, "CREATE TRIGGER IF NOT EXISTS ragchat_search_docs_ad AFTER DELETE"
               " ON ragchat_search_docs BEGIN"
               " INSERT INTO ragchat_search (ragchat_search, rowid, text)"
               " VALUES ('delete', old.id, old.text); END" },
    { 4, LITE, "CREATE TRIGGER IF NOT EXISTS ragchat_search_steps_ai AFTER INSERT ON steps"
               " WHEN new.type IN ('user_message', 'assistant_message')"
               " AND COALESCE(new.output, '') <> '' BEGIN"
               " INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
               " VALUES (1, new.id, new.\"threadId\", new.output)"
               " ON CONFLICT (ref, kind) DO NOTHING; END" },
    { 4, LITE, "CREATE TRIGGER IF NOT EXISTS ragchat_search_steps_au"
               " AFTER UPDATE OF output, type, \"threadId\" ON steps BEGIN"
               " DELETE FROM ragchat_search_docs WHERE ref = old.id AND kind = 1;"
               " INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
               " SELECT 1, new.id, new.\"threadId\", new.output"
               " WHERE new.type IN ('user_message', 'assistant_message')"
               " AND COALESCE(new.output, '') <> ''"
               " ON CONFLICT (ref, kind) DO NOTHING; END" },
    { 4, LITE, "CREATE TRIGGER IF NOT EXISTS ragchat_search_steps_ad AFTER DELETE ON steps"
               " BEGIN DELETE FROM ragchat_search_docs WHERE ref = old.id AND kind = 1; END" },
    { 4, LITE, "CREATE TRIGGER IF NOT EXISTS ragchat_search_threads_ai AFTER INSERT ON threads"
               " WHEN COALESCE(new.name, '') <> '' BEGIN"
               " INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
               " VALUES (0, new.id, new.id, new.name) ON CONFLICT (ref, kind) DO NOTHING; END" },
    { 4, LITE, "CREATE TRIGGER IF NOT EXISTS ragchat_search_threads_au"
               " AFTER UPDATE OF name, id ON threads BEGIN"
               " DELETE FROM ragchat_search_docs WHERE ref = old.id AND kind = 0;"
               " INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
               " SELECT 0, new.id, new.id, new.name WHERE COALESCE(new.name, '') <> ''"
               " ON CONFLICT (ref, kind) DO NOTHING; END" },
    { 4, LITE, "CREATE TRIGGER IF NOT EXISTS ragchat_search_threads_ad AFTER DELETE ON threads"
               " BEGIN DELETE FROM ragchat_search_docs WHERE ref = old.id AND kind = 0; END" },
    /* The rows already there, by rowid, kind 0 (names) then 1 (messages):
     * [next, upto] is what is left to index; the row goes when done. */
    { 4, LITE, "CREATE TABLE IF NOT EXISTS ragchat_search_backfill (kind INTEGER PRIMARY KEY,"
               " next INTEGER NOT NULL, upto INTEGER NOT NULL)" },
    { 4, LITE, "INSERT INTO ragchat_search_backfill (kind, next, upto)"
               " SELECT 0, 1, MAX(rowid) FROM threads HAVING COUNT(*) > 0" },
    { 4, LITE, "INSERT INTO ragchat_search_backfill (kind, next, upto)"
               " SELECT 1, 1, MAX(rowid) FROM steps HAVING COUNT(*) > 0" },
    /* PostgreSQL: pg_trgm (a trusted extension: the database's owner may
     * create it), the index and the triggers; the rows already there are
     * indexed afterwards (version 5). */
    { 4, PG, "CREATE EXTENSION IF NOT EXISTS pg_trgm" },
    { 4, PG, "CREATE INDEX IF NOT EXISTS ragchat_search_docs_text"
             " ON ragchat_search_docs USING GIN (text gin_trgm_ops)" },
    { 4, PG, "CREATE OR REPLACE FUNCTION ragchat_search_steps() RETURNS trigger"
             " LANGUAGE plpgsql AS $$ BEGIN"
             " IF TG_OP <> 'INSERT' THEN"
             " DELETE FROM ragchat_search_docs WHERE ref = OLD.id AND kind = 1; END IF;"
             " IF TG_OP <> 'DELETE' AND NEW.type IN ('user_message', 'assistant_message')"
             " AND COALESCE(NEW.output, '') <> '' THEN"
             " INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
             " VALUES (1, NEW.id, NEW.\"threadId\", NEW.output)"
             " ON CONFLICT (ref, kind) DO NOTHING; END IF;"
             " RETURN NULL; END $$" },
    { 4, PG, "CREATE TRIGGER ragchat_search_steps AFTER INSERT OR DELETE"
             " OR UPDATE OF output, type, \"threadId\" ON steps"
             " FOR EACH ROW EXECUTE FUNCTION ragchat_search_steps()" },
    { 4, PG, "CREATE OR REPLACE FUNCTION ragchat_search_threads() RETURNS trigger"
             " LANGUAGE plpgsql AS $$ BEGIN"
             " IF TG_OP <> 'INSERT' THEN"
             " DELETE FROM ragchat_search_docs WHERE ref = OLD.id AND kind = 0; END IF;"
             " IF TG_OP <> 'DELETE' AND COALESCE(NEW.name, '') <> '' THEN"
             " INSERT INTO ragchat_search_docs (kind, ref, \"threadId\", text)"
             " VALUES (0, NEW.id, NEW.id, NEW.name) ON CONFLICT (ref, kind) DO NOTHING;"
             " END IF; RETURN NULL; END $$" },
    { 4, PG, "CREATE TRIGGER ragchat_search_threads AFTER INSERT OR DELETE"
             " OR UPDATE OF name, id ON threads"
             " FOR EACH ROW EXECUTE FUNCTION ragchat_search_threads()" },
    /* ---- 5: the index of the rows already there, built in the background ---- */
    /* Who builds it (one node's child at a time): owner "host/pid", its
     * heartbeat and when the build started (µs since the epoch). */
    { 5, LITE, "CREATE TABLE IF NOT EXISTS ragchat_search_builder (one INTEGER PRIMARY KEY,"
               " owner TEXT NOT NULL, beat INTEGER NOT NULL, started INTEGER NOT NULL)" },
    { 5, PG, "CREATE TABLE IF NOT EXISTS ragchat_search_builder (one INTEGER PRIMARY KEY,"
             " owner TEXT NOT NULL, beat BIGINT NOT NULL, started BIGINT NOT NULL)" },
    { 5, ALL, "INSERT INTO ragchat_search_builder (one, owner, beat, started)"
              " VALUES (1, '', 0, 0) ON CONFLICT (one) DO NOTHING" },
    /* PostgreSQL: what is left, kind 0 (names) then 1 (messages), in time
     * order (the documents' ids follow it, as the search's window wants):
     * the rows after (at, after), at their "createdAt" ('' for none) and id,
     * through indexes that the builder drops when it is done. Only when
     * nothing is indexed yet (a database version 4 indexed in its upgrade
     * has its documents). */
    { 5, PG, "CREATE TABLE IF NOT EXISTS ragchat_search_backfill (kind INTEGER PRIMARY KEY,"
             " at TEXT NOT NULL, after TEXT NOT NULL)" },
    { 5, PG, "INSERT INTO ragchat_search_backfill (kind, at, after) SELECT 0, '', ''"
             " WHERE EXISTS (SELECT 1 FROM threads)"
             " AND NOT EXISTS (SELECT 1 FROM ragchat_search_docs)" },
    { 5, PG, "INSERT INTO ragchat_search_backfill (kind, at, after) SELECT 1, '', ''"
             " WHERE EXISTS (SELECT 1 FROM steps)"
             " AND NOT EXISTS (SELECT 1 FROM ragchat_search_docs)" },
    { 5, PG, "DO $$ BEGIN IF EXISTS (SELECT 1 FROM ragchat_search_backfill) THEN"
             " CREATE INDEX IF NOT EXISTS ragchat_backfill_threads"
             " ON threads ((COALESCE(\"createdAt\", '')), id);"
             " CREATE INDEX IF NOT EXISTS ragchat_backfill_steps"
             " ON steps ((COALESCE(\"createdAt\", '')), id); END IF; END $$" },
    { 0, 0, NULL }
};

/* Any number: the advisory lock that serialises upgrades on PostgreSQL. */
#define RC_SCHEMA_LOCK "7245816301"

rc_driver_kind rc_driver_of(const apr_dbd_driver_t *driver)
{
    const char *name = apr_dbd_name(driver);

    if (strcmp(name, "sqlite3") == 0) {
        return RC_DRIVER_SQLITE;
    }
    if (strcmp(name, "pgsql") == 0) {
        return RC_DRIVER_PGSQL;
    }
    return RC_DRIVER_OTHER;
}

static const char *db_error(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                            int rv, const char *sql)
{
    const char *msg = apr_dbd_error(driver, handle, rv);
    size_t n = strlen(sql);

    return apr_psprintf(p, "%s (in: %.*s%s)", msg && *msg ? msg : "error", n > 80 ? 80 : (int)n,
                        sql, n > 80 ? "…" : "");
}

/* SQLite: a statement that met another process's schema change. apr's driver
 * prepares with the legacy sqlite3_prepare, whose statement then fails (its
 * step says SQLITE_ERROR, the connection's message says why) instead of being
 * prepared again; the connection reads the new schema on the next prepare, so
 * one more try succeeds. On a cold start several children probe the version
 * while one of them creates the schema: without this, a probe fails. */
#define SQLITE_SCHEMA_CHANGED 17
#define SCHEMA_TRIES 3

static int schema_changed(const apr_dbd_driver_t *driver, apr_dbd_t *handle, int rv)
{
    const char *msg;

    if (!rv || rc_driver_of(driver) != RC_DRIVER_SQLITE) {
        return 0;
    }
    msg = apr_dbd_error(driver, handle, rv);
    return rv == SQLITE_SCHEMA_CHANGED || (msg && strstr(msg, "schema has changed"));
}

static int run(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
               const char *sql, const char **err)
{
    int n = 0, tries = 0, rv;

    while ((rv = apr_dbd_query(driver, handle, &n, sql)) != 0
           && schema_changed(driver, handle, rv) && ++tries < SCHEMA_TRIES) {
        /* prepared again against the new schema */
    }

    if (rv) {
        *err = db_error(p, driver, handle, rv, sql);
        return -1;
    }
    return 0;
}

/* The first column of the first row as a number (0 for none or NULL), or -1. */
static long long number(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                        const char *sql, const char **err)
{
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;
    long long v = 0;
    int tries = 0, first = 1, rv;

    while ((rv = apr_dbd_select(driver, p, handle, &res, sql, 1)) != 0
           && schema_changed(driver, handle, rv) && ++tries < SCHEMA_TRIES) {
        res = NULL;           /* prepared again against the new schema */
    }

    if (rv) {
        *err = db_error(p, driver, handle, rv, sql);
        return -1;
    }
    while (apr_dbd_get_row(driver, p, res, &row, -1) == 0) {
        const char *s = NULL;
        if (first && apr_dbd_datum_get(driver, row, 0, APR_DBD_TYPE_STRING, &s) == APR_SUCCESS
            && s) {
            v = apr_atoi64(s);
        }
        first = 0;
    }
    return v;
}

int rc_schema_version(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                      const char **err)
{
    const char *probe;
    long long n;

    switch (rc_driver_of(driver)) {
    case RC_DRIVER_SQLITE:
        probe = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'"
                " AND name = 'ragchat_schema'";
        break;
    case RC_DRIVER_PGSQL:
        probe = "SELECT COUNT(*) FROM pg_catalog.pg_tables WHERE schemaname = current_schema()"
                " AND tablename = 'ragchat_schema'";
        break;
    default:
        *err = apr_psprintf(p, "DBDriver %s is not supported (sqlite3 or pgsql)",
                            apr_dbd_name(driver));
        return -1;
    }
    n = number(p, driver, handle, probe, err);
    if (n <= 0) {
        return (int)n;
    }
    n = number(p, driver, handle, "SELECT MAX(version) FROM ragchat_schema", err);
    return n > 1000000 ? 1000000 : (int)n;
}

/* Applies versions after `from` up to RC_SCHEMA_VERSION inside the open
 * transaction, recording each. */
static int apply(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                 int from, const char **err)
{
    unsigned kind = rc_driver_of(driver);
    const char *now = NULL;
    apr_time_exp_t tm;
    int i, v;

    if (run(p, driver, handle, "CREATE TABLE IF NOT EXISTS ragchat_schema"
            " (version INTEGER PRIMARY KEY, \"appliedAt\" TEXT NOT NULL)", err)) {
        return -1;
    }
    apr_time_exp_gmt(&tm, apr_time_now());
    now = apr_psprintf(p, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900,
                       tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                       tm.tm_usec);
    for (v = from + 1; v <= RC_SCHEMA_VERSION; v++) {
        for (i = 0; statements[i].sql; i++) {
            if (statements[i].version == v && (statements[i].drivers & kind)
                && run(p, driver, handle, statements[i].sql, err)) {
                *err = apr_psprintf(p, "schema version %d: %s", v, *err);
                return -1;
            }
        }
        if (run(p, driver, handle, apr_psprintf(p, "INSERT INTO ragchat_schema (version,"
                                                " \"appliedAt\") VALUES (%d, '%s')", v, now),
                err)) {
            return -1;
        }
    }
    return 0;
}

/* The version, read a second time on SQLite when the first failed: another
 * process that changed the schema meanwhile (an upgrade) fails the first
 * statement after it (SQLITE_SCHEMA, apr's legacy prepare), which makes the
 * connection read the new schema. */
static int version_again(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                         const char **err)
{
    int v = rc_schema_version(p, driver, handle, err);

    return v < 0 && rc_driver_of(driver) == RC_DRIVER_SQLITE
         ? rc_schema_version(p, driver, handle, err) : v;
}

int rc_schema_upgrade(apr_pool_t *p, const apr_dbd_driver_t *driver, apr_dbd_t *handle,
                      rc_schema_state *state, const char **err)
{
    rc_driver_kind kind = rc_driver_of(driver);
    int v = version_again(p, driver, handle, err);

    state->from = state->to = v;
    if (v < 0) {
        return -1;
    }
    if (v >= RC_SCHEMA_VERSION) {
        return 0;
    }
    /* One upgrader at a time; the others find it done once they get the lock. */
    if (kind == RC_DRIVER_SQLITE ? run(p, driver, handle, "BEGIN IMMEDIATE", err)
        : run(p, driver, handle, "BEGIN", err)
          || number(p, driver, handle, "SELECT 1 FROM (SELECT pg_advisory_xact_lock("
                    RC_SCHEMA_LOCK ")) AS l", err) < 0) {
        if (kind == RC_DRIVER_PGSQL) {
            const char *ignored;
            run(p, driver, handle, "ROLLBACK", &ignored);
        }
        return -1;
    }
    v = version_again(p, driver, handle, err);
    state->from = v;
    if (v < 0 || (v < RC_SCHEMA_VERSION && apply(p, driver, handle, v, err))) {
        const char *ignored;
        run(p, driver, handle, "ROLLBACK", &ignored);
        return -1;
    }
    if (run(p, driver, handle, "COMMIT", err)) {
        const char *ignored;
        run(p, driver, handle, "ROLLBACK", &ignored);
        return -1;
    }
    state->to = v < RC_SCHEMA_VERSION ? RC_SCHEMA_VERSION : v;
    return 0;
}

/* The schema, in one place: the reference's tables (verbatim from its
 * init_db.py) and the module's own ragchat_* tables, created on a
 * connection's first use on any driver; on SQLite also the built-in
 * backend's document store (FTS5). */
#include "schema.h"

/* The reference's init_db.py schema, verbatim, then the module's own tables. */
static const char *const schema[] = {
    "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, identifier TEXT NOT NULL UNIQUE,"
    " \"createdAt\" TEXT, metadata TEXT NOT NULL DEFAULT '{}')",
    "CREATE TABLE IF NOT EXISTS threads (id TEXT PRIMARY KEY, \"createdAt\" TEXT, name TEXT,"
    " \"userId\" TEXT, \"userIdentifier\" TEXT, tags TEXT,"
    " metadata TEXT NOT NULL DEFAULT '{}',"
    " FOREIGN KEY (\"userId\") REFERENCES users(id) ON DELETE CASCADE)",
    "CREATE TABLE IF NOT EXISTS steps (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
    " type TEXT NOT NULL, \"threadId\" TEXT NOT NULL, \"parentId\" TEXT,"
    " \"disableFeedback\" INTEGER NOT NULL DEFAULT 0, streaming INTEGER NOT NULL DEFAULT 0,"
    " \"waitForAnswer\" INTEGER, \"isError\" INTEGER NOT NULL DEFAULT 0,"
    " metadata TEXT NOT NULL DEFAULT '{}', tags TEXT, input TEXT, output TEXT,"
    " \"createdAt\" TEXT, start TEXT, \"end\" TEXT, \"showInput\" TEXT, language TEXT,"
    " indent INTEGER, generation TEXT, \"defaultOpen\" INTEGER, \"autoCollapse\" INTEGER,"
    " FOREIGN KEY (\"threadId\") REFERENCES threads(id) ON DELETE CASCADE)",
    "CREATE TABLE IF NOT EXISTS feedbacks (id TEXT PRIMARY KEY, \"forId\" TEXT NOT NULL,"
    " \"threadId\" TEXT NOT NULL, value INTEGER NOT NULL, comment TEXT)",
    "CREATE TABLE IF NOT EXISTS elements (id TEXT PRIMARY KEY, \"threadId\" TEXT, type TEXT,"
    " url TEXT, \"chainlitKey\" TEXT, name TEXT NOT NULL, display TEXT, \"objectKey\" TEXT,"
    " size TEXT, page INTEGER, language TEXT, \"forId\" TEXT, mime TEXT, props TEXT)",
    "CREATE INDEX IF NOT EXISTS ragchat_threads_user ON threads (\"userIdentifier\", \"createdAt\")",
    "CREATE INDEX IF NOT EXISTS ragchat_steps_thread ON steps (\"threadId\", \"createdAt\")",
    "CREATE INDEX IF NOT EXISTS ragchat_feedbacks_for ON feedbacks (\"forId\")",
    "CREATE TABLE IF NOT EXISTS ragchat_streams (\"stepId\" TEXT PRIMARY KEY,"
    " \"threadId\" TEXT NOT NULL, \"userId\" TEXT NOT NULL, stop INTEGER NOT NULL DEFAULT 0,"
    " \"createdAt\" TEXT)",
    /* Sessions of RagChatAuth form (session.c): id is a hash of the cookie's
     * random id, so the table alone lets nobody in; times are epoch seconds. */
    "CREATE TABLE IF NOT EXISTS ragchat_sessions (id TEXT PRIMARY KEY,"
    " \"userIdentifier\" TEXT NOT NULL, csrf TEXT NOT NULL, provider TEXT NOT NULL,"
    " \"createdAt\" BIGINT NOT NULL, \"lastSeen\" BIGINT NOT NULL,"
    " \"expiresAt\" BIGINT NOT NULL, \"checkedAt\" BIGINT NOT NULL, address TEXT)",
    "CREATE INDEX IF NOT EXISTS ragchat_sessions_user ON ragchat_sessions (\"userIdentifier\")",
    "CREATE INDEX IF NOT EXISTS ragchat_sessions_expires ON ragchat_sessions (\"expiresAt\")",
    /* Failed logins, one row per failure and key (a hash of the user name or
     * of the address); createdAt in epoch seconds. */
    "CREATE TABLE IF NOT EXISTS ragchat_login_failures (id TEXT PRIMARY KEY,"
    " \"key\" TEXT NOT NULL, \"createdAt\" BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ragchat_login_failures_key"
    " ON ragchat_login_failures (\"key\", \"createdAt\")",
    "CREATE INDEX IF NOT EXISTS ragchat_login_failures_time"
    " ON ragchat_login_failures (\"createdAt\")",
    NULL
};

/* SQLite only: the built-in backend's document store (FTS5). Created with the
 * rest, before any statement is prepared on the connection. */
static const char *const sqlite_schema[] = {
    "CREATE TABLE IF NOT EXISTS ragchat_documents (id TEXT PRIMARY KEY,"
    " \"userIdentifier\" TEXT NOT NULL, name TEXT NOT NULL, mime TEXT, size INTEGER,"
    " chunks INTEGER NOT NULL DEFAULT 0, \"createdAt\" TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ragchat_documents_user"
    " ON ragchat_documents (\"userIdentifier\", name)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS ragchat_chunks USING fts5(document UNINDEXED,"
    " \"userIdentifier\" UNINDEXED, name UNINDEXED, ordinal UNINDEXED, text,"
    " tokenize = 'porter unicode61 remove_diacritics 2')",
    NULL
};

int rc_schema_create(rc_db *db)
{
    int i;

    for (i = 0; schema[i]; i++) {
        if (rc_db_run(db, schema[i])) {
            return -1;
        }
    }
    for (i = 0; rc_db_is_sqlite(db) && sqlite_schema[i]; i++) {
        if (rc_db_run(db, sqlite_schema[i])) {
            return -1;
        }
    }
    return 0;
}

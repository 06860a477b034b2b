"""The schema is created and upgraded in place, on the suite's driver: a
database of mod_ragchat 0.1.0 (which recorded no version), one recorded at
version 1, one a newer module left at a later version. Upgrades keep every
row and add what the new version has (src/core/schema.c)."""
import re

import harness
from conftest import ApiClient, final_event

# mod_ragchat 0.1.0's statements, verbatim (src/httpd/schema.c of that release).
V010 = [
    "CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, identifier TEXT NOT NULL UNIQUE,"
    " \"createdAt\" TEXT, metadata TEXT NOT NULL DEFAULT '{}')",
    "CREATE TABLE IF NOT EXISTS threads (id TEXT PRIMARY KEY, \"createdAt\" TEXT, name TEXT,"
    " \"userId\" TEXT, \"userIdentifier\" TEXT, tags TEXT, metadata TEXT NOT NULL DEFAULT '{}',"
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
    "CREATE TABLE IF NOT EXISTS ragchat_sessions (id TEXT PRIMARY KEY,"
    " \"userIdentifier\" TEXT NOT NULL, csrf TEXT NOT NULL, provider TEXT NOT NULL,"
    " \"createdAt\" BIGINT NOT NULL, \"lastSeen\" BIGINT NOT NULL,"
    " \"expiresAt\" BIGINT NOT NULL, \"checkedAt\" BIGINT NOT NULL, address TEXT)",
    "CREATE INDEX IF NOT EXISTS ragchat_sessions_user ON ragchat_sessions (\"userIdentifier\")",
    "CREATE INDEX IF NOT EXISTS ragchat_sessions_expires ON ragchat_sessions (\"expiresAt\")",
    "CREATE TABLE IF NOT EXISTS ragchat_login_failures (id TEXT PRIMARY KEY,"
    " \"key\" TEXT NOT NULL, \"createdAt\" BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ragchat_login_failures_key"
    " ON ragchat_login_failures (\"key\", \"createdAt\")",
    "CREATE INDEX IF NOT EXISTS ragchat_login_failures_time"
    " ON ragchat_login_failures (\"createdAt\")",
]
# 0.1.0 made the built-in backend's store on SQLite only.
V010_SQLITE = [
    "CREATE TABLE IF NOT EXISTS ragchat_documents (id TEXT PRIMARY KEY,"
    " \"userIdentifier\" TEXT NOT NULL, name TEXT NOT NULL, mime TEXT, size INTEGER,"
    " chunks INTEGER NOT NULL DEFAULT 0, \"createdAt\" TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS ragchat_documents_user"
    " ON ragchat_documents (\"userIdentifier\", name)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS ragchat_chunks USING fts5(document UNINDEXED,"
    " \"userIdentifier\" UNINDEXED, name UNINDEXED, ordinal UNINDEXED, text,"
    " tokenize = 'porter unicode61 remove_diacritics 2')",
]
ROWS = """
INSERT INTO users VALUES ('u1', 'alice', '2025-01-02T03:04:05.000000Z', '{}');
INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier", tags, metadata)
  VALUES ('t1', '2025-01-02T03:04:06.000000Z', 'kept across the upgrade', 'u1', 'alice',
          '[]', '{}');
INSERT INTO steps (id, name, type, "threadId", output, "createdAt", start, "end", metadata)
  VALUES ('s1', 'alice', 'user_message', 't1', 'old question',
          '2025-01-02T03:04:06.100000Z', NULL, NULL, '{}');
INSERT INTO steps (id, name, type, "threadId", output, "createdAt", metadata)
  VALUES ('s2', 'Assistant', 'assistant_message', 't1', 'old answer',
          '2025-01-02T03:04:07.100000Z', '{}');
INSERT INTO feedbacks VALUES ('f1', 's2', 't1', 1, 'kept');
"""
NEW_INDEXES = {"ragchat_feedbacks_thread", "ragchat_elements_thread"}


def old_schema(driver, version=None):
    stmts = V010 + (V010_SQLITE if driver == "sqlite3" else [])
    sql = ";\n".join(stmts) + ";\n" + ROWS
    if version:
        sql += ("CREATE TABLE ragchat_schema (version INTEGER PRIMARY KEY,"
                " \"appliedAt\" TEXT NOT NULL);\n"
                "INSERT INTO ragchat_schema VALUES (%d, '2025-01-01T00:00:00.000000Z');\n"
                % version)
    return sql


def index_names(server):
    if server.driver == "pgsql":
        return {r["n"] for r in server.query(
            "SELECT indexname AS n FROM pg_indexes WHERE schemaname = current_schema()")}
    return {r["name"] for r in server.query("SELECT name FROM sqlite_master WHERE type='index'")}


def versions(server):
    return [r["version"] for r in server.query(
        "SELECT version FROM ragchat_schema ORDER BY version")]


def check_old_thread_served(server, backend):
    alice = ApiClient(server, "alice")
    t = alice.thread("t1")
    assert t["name"] == "kept across the upgrade"
    assert [s["output"] for s in t["steps"]] == ["old question", "old answer"]
    assert t["steps"][1]["feedback"] == {"value": 1, "comment": "kept"}
    backend.script({"tokens": ["new", " answer"]})
    assert final_event(alice.chat_events("new question", thread_id="t1"))[0] == "done"
    msgs = backend.chat_requests()[-1]["json"]["messages"]
    assert [m["content"] for m in msgs] == ["old question", "old answer", "new question"]
    # version 3: the old thread had no app; continuing it made it this app's
    row = server.query('SELECT "ragchatApp" AS app FROM threads WHERE id = ?', ("t1",))
    assert row[0]["app"] == "/chat", row


def test_new_database_is_created_at_the_current_version(server, api):
    api.me()
    api.get("/api/threads")
    assert versions(server) == [1, 2, 3, 4, 5]
    assert NEW_INDEXES <= index_names(server)
    assert {"ragchat_documents", "ragchat_chunks"} <= server.table_names()
    assert re.search(r"RC0104: database schema at version 5 \((sqlite3|pgsql)\): the missing"
                     r" tables created", server.error_log()), server.error_log()


def test_database_of_0_1_0_is_upgraded_in_place(make_server, backend):
    # the server's child processes upgrade the database as they start
    srv2 = make_server(init_sql=old_schema(harness.db_driver()), start=False)
    before = index_names(srv2)
    assert not NEW_INDEXES & before and "ragchat_schema" not in srv2.table_names()
    srv2.start()
    check_old_thread_served(srv2, backend)
    assert versions(srv2) == [1, 2, 3, 4, 5]
    assert NEW_INDEXES | before <= index_names(srv2)
    assert {"ragchat_documents", "ragchat_chunks"} <= srv2.table_names()
    assert len(re.findall(r"RC0104: ", srv2.error_log())) == 1, srv2.error_log()


def test_version_1_is_upgraded_to_the_current_version(make_server, backend):
    srv2 = make_server(init_sql=old_schema(harness.db_driver(), version=1))
    check_old_thread_served(srv2, backend)
    assert versions(srv2) == [1, 2, 3, 4, 5]
    assert NEW_INDEXES <= index_names(srv2)
    assert re.search(r"RC0104: database schema upgraded from version 1 to 5 \(%s\)"
                     % srv2.driver, srv2.error_log()), srv2.error_log()


def test_newer_version_is_left_as_it_is(make_server, backend):
    srv = make_server()
    assert ApiClient(srv, "alice").get("/api/threads").status_code == 200
    srv.db_exec("INSERT INTO ragchat_schema (version, \"appliedAt\") VALUES (?, ?)",
                (7, "2030-01-01T00:00:00.000000Z"))
    srv.restart()
    backend.script({"tokens": ["still", " served"]})
    ev = ApiClient(srv, "alice").chat_events("after a newer module")
    assert final_event(ev)[1]["content"] == "still served"
    assert versions(srv) == [1, 2, 3, 4, 5, 7]
    assert re.search(r"RC0105: the database schema is at version 7, newer than this module's 5",
                     srv.error_log()), srv.error_log()

"""Chat persistence: the rows written, the schema, the history sent to the backend."""
import json
import sqlite3

from conftest import TIMESTAMP, UUID4, ApiClient, final_event, step_row, tokens_of

SERVER_OPTIONS = {"extra_location": "RagChatModel test-model-7"}

# The reference's init_db.py SCHEMA, verbatim.
REFERENCE_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
id TEXT PRIMARY KEY,
identifier TEXT NOT NULL UNIQUE,
"createdAt" TEXT,
metadata TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE IF NOT EXISTS threads (
id TEXT PRIMARY KEY,
"createdAt" TEXT,
name TEXT,
"userId" TEXT,
"userIdentifier" TEXT,
tags TEXT,
metadata TEXT NOT NULL DEFAULT '{}',
FOREIGN KEY ("userId") REFERENCES users(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS steps (
id TEXT PRIMARY KEY,
name TEXT NOT NULL,
type TEXT NOT NULL,
"threadId" TEXT NOT NULL,
"parentId" TEXT,
"disableFeedback" INTEGER NOT NULL DEFAULT 0,
streaming INTEGER NOT NULL DEFAULT 0,
"waitForAnswer" INTEGER,
"isError" INTEGER NOT NULL DEFAULT 0,
metadata TEXT NOT NULL DEFAULT '{}',
tags TEXT,
input TEXT,
output TEXT,
"createdAt" TEXT,
start TEXT,
"end" TEXT,
"showInput" TEXT,
language TEXT,
indent INTEGER,
generation TEXT,
"defaultOpen" INTEGER,
"autoCollapse" INTEGER,
FOREIGN KEY ("threadId") REFERENCES threads(id) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS feedbacks (
id TEXT PRIMARY KEY,
"forId" TEXT NOT NULL,
"threadId" TEXT NOT NULL,
value INTEGER NOT NULL,
comment TEXT
);
CREATE TABLE IF NOT EXISTS elements (
id TEXT PRIMARY KEY,
"threadId" TEXT,
type TEXT,
url TEXT,
"chainlitKey" TEXT,
name TEXT NOT NULL,
display TEXT,
"objectKey" TEXT,
size TEXT,
page INTEGER,
language TEXT,
"forId" TEXT,
mime TEXT,
props TEXT
);
"""
REFERENCE_TABLES = ("users", "threads", "steps", "feedbacks", "elements")


def normalized(cols):
    """(name, type, notnull, default, pk) with a primary key counted as NOT NULL
    (PostgreSQL's rule; SQLite's PRAGMA says 0 for a TEXT key)."""
    return [(n, t, int(bool(nn) or pk > 0), d, int(pk > 0)) for n, t, nn, d, pk in cols]


def table_info(server, table):
    """The columns of one of the server's tables, on either driver."""
    return normalized(server.table_columns(table))


# The one column the module adds to the reference's tables (schema version 3:
# RagChatApp); the reference's own columns stay exactly as its init_db.py makes them.
OUR_COLUMNS = {"threads": "ragchatApp"}


def reference_columns(server, table):
    """The table's columns with the module's own one checked and set aside."""
    cols = table_info(server, table)
    if table in OUR_COLUMNS:
        assert cols and cols[-1][0] == OUR_COLUMNS[table], cols
        assert str(cols[-1][1]).upper() == "TEXT" and not cols[-1][2], cols[-1]
        cols = cols[:-1]
    return cols


def reference_info():
    con = sqlite3.connect(":memory:")
    con.executescript(REFERENCE_SCHEMA)
    info = {t: normalized([tuple(r)[1:] for r in con.execute("PRAGMA table_info(%s)" % t)])
            for t in REFERENCE_TABLES}
    con.close()
    return info


def check_chat_rows(server, user, thread_id, user_step, asst_step, question, answer):
    con = server.db()
    try:
        u = con.execute("SELECT * FROM users WHERE identifier = ?", (user,)).fetchone()
        assert u is not None, "no users row for %s" % user
        assert UUID4.match(u["id"]), dict(u)
        assert u["createdAt"] is not None and TIMESTAMP.match(u["createdAt"]), dict(u)
        json.loads(u["metadata"])

        t = con.execute("SELECT * FROM threads WHERE id = ?", (thread_id,)).fetchone()
        assert t is not None
        t = dict(t)
        assert UUID4.match(t["id"]), t
        assert t["name"] == question, t
        assert t["userIdentifier"] == user and t["userId"] == u["id"], t
        assert TIMESTAMP.match(t["createdAt"]), t
        assert isinstance(json.loads(t["metadata"]), dict), t

        steps = [dict(r) for r in con.execute(
            'SELECT * FROM steps WHERE "threadId" = ? ORDER BY "createdAt"', (thread_id,))]
    finally:
        con.close()
    assert [s["id"] for s in steps] == [user_step, asst_step], steps
    us, asst = steps
    assert us["type"] == "user_message" and us["name"] == user and us["output"] == question, us
    assert asst["type"] == "assistant_message" and asst["output"] == answer, asst
    assert asst["name"], asst
    for s in steps:
        assert UUID4.match(s["id"]), s
        for col in ("createdAt", "start", "end"):
            assert s[col] is not None and TIMESTAMP.match(s[col]), (col, s)
        meta = json.loads(s["metadata"])
        assert isinstance(meta, dict), s
        for col in ("disableFeedback", "streaming", "isError"):
            assert s[col] in (0, 1), (col, s)
        assert s["isError"] == 0, s
    # the branch each step belongs to (the first question starts the thread)
    assert json.loads(us["metadata"]) == {"after": None}, us
    assert json.loads(asst["metadata"])["after"] == user_step, asst
    assert us["createdAt"] < asst["createdAt"], steps
    assert asst["start"] <= asst["end"], asst


def test_chat_is_persisted(api, backend, server):
    question = "What is the capital of France?"
    backend.script({"tokens": ["Paris", " is", " the", " capital."]})
    events = api.chat_events(question)
    th = events[0][1]
    assert th["thread_id"]
    done = final_event(events)
    assert done[0] == "done" and done[1]["content"] == "Paris is the capital."
    check_chat_rows(server, "alice", th["thread_id"], th["user_step_id"],
                    th["assistant_step_id"], question, "Paris is the capital.")


def test_schema_equals_reference(api, backend, server):
    api.chat_events("make sure the schema exists")
    ref = reference_info()
    for t in REFERENCE_TABLES:
        assert reference_columns(server, t) == ref[t], "table %s differs" % t
    names = server.table_names()
    extra = {n for n in names - set(REFERENCE_TABLES)
             if not n.startswith("ragchat_") and not n.startswith("sqlite_")}
    assert not extra, "tables not prefixed ragchat_: %s" % extra


def test_second_message_sends_history(api, backend):
    backend.script({"tokens": ["First", " answer"]})
    ev1 = api.chat_events("first question")
    tid = ev1[0][1]["thread_id"]
    assert final_event(ev1)[0] == "done"
    ev2 = api.chat_events("second question", thread_id=tid)
    th2 = ev2[0][1]
    assert th2["thread_id"] == tid
    assert final_event(ev2)[1]["content"] == "Echo: second question"
    reqs = backend.chat_requests()
    assert len(reqs) == 2, reqs
    body = reqs[1]["json"]
    assert body["stream"] is True
    assert body["model"] == "test-model-7"
    assert [(m["role"], m["content"]) for m in body["messages"]] == [
        ("user", "first question"), ("assistant", "First answer"),
        ("user", "second question")], body["messages"]
    first = reqs[0]["json"]
    assert [(m["role"], m["content"]) for m in first["messages"]] == [("user", "first question")]
    for rq in reqs:
        hdrs = {k.lower(): v for k, v in rq["headers"].items()}
        assert hdrs.get("authorization") == "Bearer test-key-123", hdrs
        assert hdrs.get("content-type", "").startswith("application/json"), hdrs
    # The thread shows the four steps in order.
    t = api.thread(tid)
    assert [s["type"] for s in t["steps"]] == ["user_message", "assistant_message"] * 2
    assert t["name"] == "first question"


def test_json_preamble_is_cleaned(api, backend, server):
    backend.script({"tokens": ["The", " answer", " is", " **42**."],
                    "json_preamble": {"a": 1, "sources": ["x.pdf"]}})
    events = api.chat_events("preamble please")
    toks = tokens_of(events)
    assert "".join(toks).startswith("```json"), toks   # tokens are relayed as sent
    done = final_event(events)
    assert done[0] == "done"
    assert done[1]["content"] == "The answer is **42**.", done[1]
    assert "json" not in done[1]["html"] and "<strong>42</strong>" in done[1]["html"]
    row = step_row(server, done[1]["step_id"])
    assert row["output"] == "The answer is **42**.", row
    t = api.thread(events[0][1]["thread_id"])
    asst = t["steps"][-1]
    assert asst["output"] == "The answer is **42**." and "```" not in asst["html"]
    # The cleaned text is what the backend gets as history.
    api.chat_events("and then?", thread_id=events[0][1]["thread_id"])
    msgs = backend.chat_requests()[-1]["json"]["messages"]
    assert msgs[1] == {"role": "assistant", "content": "The answer is **42**."}, msgs


def test_thread_name_is_first_message(api, backend, server):
    long_q = "A rather long first question " * 8
    events = api.chat_events(long_q.strip())
    tid = events[0][1]["thread_id"]
    con = server.db()
    try:
        name = con.execute("SELECT name FROM threads WHERE id = ?", (tid,)).fetchone()[0]
    finally:
        con.close()
    assert name == long_q.strip()


def test_reference_database_works(make_server, backend):
    """A chat_history.db created by the reference's exact init_db.py serves chats."""
    srv = make_server(init_sql=REFERENCE_SCHEMA)
    before = {t: table_info(srv, t) for t in REFERENCE_TABLES}
    alice = ApiClient(srv, "alice")
    backend.script({"tokens": ["It", " works"]})
    events = alice.chat_events("reference db?")
    th = events[0][1]
    done = final_event(events)
    assert done[0] == "done" and done[1]["content"] == "It works"
    check_chat_rows(srv, "alice", th["thread_id"], th["user_step_id"], th["assistant_step_id"],
                    "reference db?", "It works")
    for t in REFERENCE_TABLES:
        after = table_info(srv, t)
        if t in OUR_COLUMNS:      # added by the upgrade, nothing else altered
            assert after[:-1] == before[t] and after[-1][0] == OUR_COLUMNS[t], after
        else:
            assert after == before[t], "module altered table %s" % t
    t = alice.thread(th["thread_id"])
    assert [s["output"] for s in t["steps"]] == ["reference db?", "It works"]


def test_chainlit_written_rows_are_read(make_server, backend):
    """Rows as Chainlit writes them (NULLs where we write values) are listed and
    continued."""
    uid, tid, s1, s2 = ("11111111-1111-4111-8111-111111111111",
                        "22222222-2222-4222-8222-222222222222",
                        "33333333-3333-4333-8333-333333333333",
                        "44444444-4444-4444-8444-444444444444")
    seed = REFERENCE_SCHEMA + """
INSERT INTO users VALUES ('%(uid)s', 'alice', '2024-01-02T03:04:05.000000Z', '{"role":"user"}');
INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier", tags, metadata)
  VALUES ('%(tid)s', '2024-01-02T03:04:06.000000Z', 'old chainlit thread', '%(uid)s', 'alice',
          NULL, '{}');
INSERT INTO steps (id, name, type, "threadId", output, "createdAt", start, "end", metadata)
  VALUES ('%(s1)s', 'alice', 'user_message', '%(tid)s', 'old question',
          '2024-01-02T03:04:06.100000Z', NULL, NULL, '{}');
INSERT INTO steps (id, name, type, "threadId", output, "createdAt", metadata, "isError")
  VALUES ('%(s2)s', 'Assistant', 'assistant_message', '%(tid)s', 'old answer',
          '2024-01-02T03:04:07.100000Z', '{}', 0);
""" % dict(uid=uid, tid=tid, s1=s1, s2=s2)
    srv = make_server(init_sql=seed)
    alice = ApiClient(srv, "alice")
    lst = alice.get("/api/threads").json()
    assert tid in [t["id"] for t in lst["threads"]], lst
    t = alice.thread(tid)
    assert [s["output"] for s in t["steps"]] == ["old question", "old answer"]
    events = alice.chat_events("new question", thread_id=tid)
    assert final_event(events)[0] == "done"
    msgs = backend.chat_requests()[-1]["json"]["messages"]
    assert [m["content"] for m in msgs] == ["old question", "old answer", "new question"]
    con = srv.db()
    try:
        n = con.execute("SELECT COUNT(*) FROM users WHERE identifier='alice'").fetchone()[0]
        uid_thread = con.execute('SELECT "userId" FROM threads WHERE id=?', (tid,)).fetchone()[0]
    finally:
        con.close()
    assert n == 1 and uid_thread == uid

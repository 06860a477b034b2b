"""build/ragchat-migrate: a SQLite chat_history.db (ours, made by a real server
with form logins, chats, feedback, uploads and the built-in backend's
documents; or one the reference Chainlit app wrote) copied into PostgreSQL with
nothing lost. Checked here independently of the command's own check: every
row of every table, value by value, on both sides; then a server on the
PostgreSQL copy serves the same threads, sessions and documents."""
import os
import re
import sqlite3
import subprocess

import pytest
import requests

import harness
from conftest import ApiClient, final_event
from test_chat import REFERENCE_SCHEMA

MIGRATE = os.path.join(harness.REPO, "build", "ragchat-migrate")
TABLES = ["users", "threads", "steps", "feedbacks", "elements", "ragchat_documents",
          "ragchat_chunks", "ragchat_sessions", "ragchat_login_failures"]

NOTES = """Harbour notes

The Kerrow lighthouse was built in 1871 by the harbour board. Its lamp burned
whale oil until 1902, when paraffin took over. Tickets: the harbour office.
"""


def migrate(*args):
    if not os.path.exists(MIGRATE):
        pytest.fail("%s is missing: run make" % MIGRATE)
    return subprocess.run([MIGRATE] + list(args), capture_output=True, text=True, timeout=120)


def sqlite_rows(path, table, cols):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        q = "SELECT %s FROM %s" % (", ".join('"%s"' % c for c in cols), table)
        return sorted(tuple(None if v is None else str(v) for v in r) for r in con.execute(q))
    finally:
        con.close()


def pg_rows(cluster, db, table, cols):
    con = cluster.connect(db)
    try:
        cur = con.cursor()
        cur.execute("SELECT %s FROM %s" % (", ".join('"%s"' % c for c in cols), table))
        return sorted(tuple(None if v is None else str(v) for v in r) for r in cur.fetchall())
    finally:
        con.close()


def sqlite_columns(path, table):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return [r[1] for r in con.execute("PRAGMA table_info(%s)" % table)]
    finally:
        con.close()


def compare_all(path, cluster, db, tables=TABLES):
    """Every table of the source has the same rows, value by value, in PostgreSQL;
    returns the row counts."""
    counts = {}
    for t in tables:
        cols = sqlite_columns(path, t)
        if not cols:
            continue
        src, dst = sqlite_rows(path, t, cols), pg_rows(cluster, db, t, cols)
        assert len(src) == len(dst), (t, len(src), len(dst))
        assert src == dst, "table %s differs" % t
        counts[t] = len(src)
    return counts


def form_login(server, user):
    s = requests.Session()
    page = s.get(server.url("/login"), timeout=10).text
    token = re.search(r'name="csrf" value="([^"]*)"', page).group(1)
    r = s.post(server.url("/login"), allow_redirects=False, timeout=20,
               data={"username": user, "password": server.users.get(user, "wrong"),
                     "csrf": token, "next": ""})
    return s, r


def client(server, session, user):
    c = ApiClient(server, user, basic=False)
    c.s = session
    return c


@pytest.fixture(scope="module")
def source(make_server):
    """A SQLite database written by a real server: the built-in backend, form
    logins (a session kept, a failed login), chats, a rename, feedback,
    uploads with their elements and documents. Stopped before the copy."""
    srv = make_server(db="sqlite3", auth="form", backend_url="builtin", key=None)
    s, r = form_login(srv, "alice")
    assert r.status_code == 303
    alice = client(srv, s, "alice")
    r = alice.post("/api/upload", files=[("files", ("harbour.md", NOTES.encode(),
                                                    "text/markdown"))], timeout=30)
    assert r.status_code == 200, r.text
    ev = alice.chat_events("When was the lighthouse built? \u00e9t\u00e9 \u2014 \u65e5\u672c")
    assert final_event(ev)[0] == "done"
    tid, step = ev[0][1]["thread_id"], ev[0][1]["assistant_step_id"]
    ev = alice.chat_events("And the lamp's oil?", thread_id=tid)
    assert final_event(ev)[0] == "done"
    assert alice.put("/api/steps/%s/feedback" % step,
                     json={"value": 1, "comment": "good \"quote\""}).status_code == 200
    assert alice.patch("/api/threads/%s" % tid, json={"name": "Renamed \u2713"}).status_code == 200
    bs, r = form_login(srv, "bob")
    assert r.status_code == 303
    assert final_event(client(srv, bs, "bob").chat_events("bob's question"))[0] == "done"
    assert form_login(srv, "nobody-at-all")[1].status_code == 401
    before = {"threads": alice.get("/api/threads").json(), "thread": alice.thread(tid),
              "md": alice.get("/api/threads/%s/export.md" % tid).text}
    srv.stop()
    return {"server": srv, "cookie": s.cookies.get("ragchat_session"), "tid": tid,
            "before": before}


def test_ours_is_copied_and_served(source, make_server):
    cluster = harness.pg_cluster()
    db = cluster.create_db()
    srv = source["server"]
    r = migrate(srv.db_path, cluster.dbd_params(db))
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"done: \d+ rows in 9 tables, the same on both sides", r.stdout), r.stdout
    counts = compare_all(srv.db_path, cluster, db)
    for t in TABLES:
        assert counts[t] >= 1, (t, counts)
        assert re.search(r"(?m)^  %s +%d rows? copied, identical" % (t, counts[t]), r.stdout), \
            r.stdout
    assert "ragchat_streams" in r.stdout
    # The tsvector of the copied passages is PostgreSQL's own.
    con = cluster.connect(db)
    try:
        cur = con.cursor()
        cur.execute("SELECT COUNT(*) FROM ragchat_chunks WHERE tsv @@ to_tsquery('english',"
                    " 'lighthouse')")
        assert cur.fetchone()[0] >= 1
    finally:
        con.close()

    # A server on the copy, with the same secret: alice's session goes on.
    pg = make_server(pg_database=db, auth="form", backend_url="builtin", key=None, start=False)
    pg.secret = srv.secret
    pg.pg_owned = True
    pg.start()
    s = requests.Session()
    s.cookies.set("ragchat_session", source["cookie"])
    alice = client(pg, s, "alice")
    assert alice.me()["user"] == "alice"
    assert alice.get("/api/threads").json() == source["before"]["threads"]
    assert alice.thread(source["tid"]) == source["before"]["thread"]
    assert alice.get("/api/threads/%s/export.md" % source["tid"]).text == source["before"]["md"]
    ev = alice.chat_events("Who built the lighthouse?", thread_id=source["tid"])
    done = final_event(ev)
    assert done[0] == "done" and "harbour.md" in done[1]["content"], done
    assert "**lighthouse**" in done[1]["content"], done[1]["content"]

    # Again into the same database: refused, nothing changed; --check agrees.
    r = migrate(srv.db_path, cluster.dbd_params(db))
    assert r.returncode == 1 and "already holds" in r.stderr, r.stdout + r.stderr
    r = migrate("--check", srv.db_path, cluster.dbd_params(db))
    assert r.returncode == 1 and "DIFFERENT" in r.stdout, "the new answer is not in SQLite"


def test_check_finds_a_changed_value(source):
    cluster = harness.pg_cluster()
    db = cluster.create_db()
    path = source["server"].db_path
    assert migrate(path, cluster.dbd_params(db)).returncode == 0
    r = migrate("--check", path, cluster.dbd_params(db))
    assert r.returncode == 0 and "the same on both sides" in r.stdout, r.stdout + r.stderr
    cluster.psql(db, "UPDATE steps SET output = output || '.' WHERE id = (SELECT MIN(id) FROM"
                     " steps)")
    r = migrate("--check", path, cluster.dbd_params(db))
    assert r.returncode == 1, r.stdout
    assert re.search(r"(?m)^  steps +DIFFERENT: source (\d+) rows, destination \1 rows, other"
                     r" contents$", r.stdout), r.stdout
    cluster.drop_db(db)


CHAINLIT_ROWS = """
INSERT INTO users VALUES ('u1', 'alice', '2024-01-02T03:04:05.000000Z', '{"role":"user"}');
INSERT INTO users VALUES ('u2', 'carol', NULL, '{}');
INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier", tags, metadata)
  VALUES ('t1', '2024-01-02T03:04:06.000000Z', 'Chainlit thread \u2713', 'u1', 'alice',
          '["x"]', '{}');
INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier", metadata)
  VALUES ('t2', NULL, NULL, NULL, NULL, '{}');
INSERT INTO steps (id, name, type, "threadId", output, "createdAt", metadata, "isError",
                   "waitForAnswer", indent, "defaultOpen", generation)
  VALUES ('s1', 'alice', 'user_message', 't1', 'line one
line two, a ''quote'' and a tab	here', '2024-01-02T03:04:06.100000Z', '{}', 0, NULL, 2, 1,
          '{"model":"m"}');
INSERT INTO steps (id, name, type, "threadId", output, "createdAt", metadata, "isError")
  VALUES ('s2', 'Assistant', 'assistant_message', 't1', '**bold** \U0001F600',
          '2024-01-02T03:04:07.100000Z', '{"stopped": true}', 1);
INSERT INTO feedbacks VALUES ('f1', 's2', 't1', 0, NULL);
INSERT INTO feedbacks VALUES ('f2', 's2', 't1', 1, 'two feedbacks for one step');
INSERT INTO elements (id, "threadId", type, name, size, page, "forId", mime)
  VALUES ('e1', 't1', 'file', 'a.pdf', '1234', 3, 's1', 'application/pdf');
"""


def chainlit_db(tmp_path, extra=""):
    path = str(tmp_path / "chat_history.db")
    con = sqlite3.connect(path)
    con.executescript(REFERENCE_SCHEMA + CHAINLIT_ROWS + extra)
    con.commit()
    con.close()
    return path


def test_chainlit_database_is_copied(tmp_path, make_server):
    path = chainlit_db(tmp_path)
    cluster = harness.pg_cluster()
    db = cluster.create_db()
    r = migrate(path, cluster.dbd_params(db))
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"(?m)^  ragchat_sessions +not in the source$", r.stdout), r.stdout
    counts = compare_all(path, cluster, db, TABLES[:5])
    assert counts == {"users": 2, "threads": 2, "steps": 2, "feedbacks": 2, "elements": 1}
    pg = make_server(pg_database=db)
    pg.pg_owned = True
    t = ApiClient(pg, "alice").thread("t1")
    assert [s["output"] for s in t["steps"]] == [
        "line one\nline two, a 'quote' and a tab\there", "**bold** \U0001F600"]
    assert t["steps"][1]["metadata"]["stopped"] is True


def test_orphans_stop_the_copy_unless_skipped(tmp_path):
    orphan = """
INSERT INTO steps (id, name, type, "threadId", output, metadata)
  VALUES ('s9', 'alice', 'user_message', 'no-such-thread', 'lost', '{}');
INSERT INTO threads (id, name, "userId", metadata) VALUES ('t9', 'no user', 'no-such-user', '{}');
INSERT INTO steps (id, name, type, "threadId", output, metadata)
  VALUES ('s8', 'alice', 'user_message', 't9', 'under an orphan thread', '{}');
"""
    path = chainlit_db(tmp_path, orphan)
    cluster = harness.pg_cluster()
    db = cluster.create_db()
    r = migrate(path, cluster.dbd_params(db))
    assert r.returncode == 1, r.stdout
    assert "1 of the 3 rows of threads have no parent row" in r.stderr, r.stderr
    assert pg_rows(cluster, db, "users", ["id"]) == []
    r = migrate("--skip-orphans", path, cluster.dbd_params(db))
    assert r.returncode == 0, r.stdout + r.stderr
    assert re.search(r"(?m)^  threads +2 rows copied, identical .*, 1 without a parent left out$",
                     r.stdout), r.stdout
    assert re.search(r"(?m)^  steps +2 rows copied, identical .*, 2 without a parent left out$",
                     r.stdout), r.stdout
    assert sorted(x[0] for x in pg_rows(cluster, db, "steps", ["id"])) == ["s1", "s2"]
    cluster.drop_db(db)


def test_usage_and_bad_inputs(tmp_path):
    assert migrate().returncode == 2
    assert migrate("--bogus", "a", "b").returncode == 2
    r = migrate(str(tmp_path / "missing.db"), "dbname=x")
    assert r.returncode == 1 and "cannot read it as a SQLite database" in r.stderr, r.stderr
    assert not os.path.exists(tmp_path / "missing.db"), "the source is never created"
    path = chainlit_db(tmp_path)
    r = migrate(path, "host=%s dbname=no_such_database user=ragchat" % harness.pg_cluster().sock)
    assert r.returncode == 1 and "cannot connect to PostgreSQL" in r.stderr, r.stderr

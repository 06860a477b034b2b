"""Two Apache nodes on one PostgreSQL database (always pgsql, whatever the
suite's driver): what a balancer in front of them needs. A session made on one
node is valid on the other, logout on one ends it on both, a thread goes on
from node to node with its whole history and exports from either, a stream on
one is stopped through the other within a second, failed logins count across
nodes, another user's ids are 404 on both. The stop flags are read by one
query per node every 250 ms (counted in PostgreSQL's statement log), however
many answers stream in however many children. A PostgreSQL restart is
survived. The tests run in order: the last one throttles 127.0.0.1.
"""
import re
import threading
import time
import uuid

import pytest
import requests

import harness
from conftest import ApiClient, assert_error_json, final_event, sse_events, tokens_of
from test_stop import stop_during_stream

LOGIN_LIMIT = 3


def form_login(server, user, password=None):
    """A requests.Session logged in on server through B/login."""
    s = requests.Session()
    page = s.get(server.url("/login"), timeout=10).text
    token = re.search(r'name="csrf" value="([^"]*)"', page).group(1)
    r = s.post(server.url("/login"), allow_redirects=False, timeout=20,
               data={"username": user, "password": password or server.users[user],
                     "csrf": token, "next": ""})
    return s, r


def on(server, session, user):
    """An ApiClient of server that sends session's cookies (no Basic auth)."""
    c = ApiClient(server, user, basic=False)
    c.s = requests.Session()
    for ck in session.cookies:
        c.s.cookies.set(ck.name, ck.value)
    return c


@pytest.fixture(scope="module")
def nodes(make_server):
    """Node A and node B: the same RagChatSecret, settings and database, started
    at the same time on a database the module has never seen."""
    cluster = harness.pg_cluster()
    name = cluster.create_db()
    # Statements of this database are logged: the stop-polling test counts them.
    cluster.psql("postgres", "ALTER DATABASE %s SET log_statement = 'all'" % name)
    extra = "RagChatLoginLimit %d 900" % LOGIN_LIMIT
    # A long idle timeout: answers are held while the stop polling is counted.
    a = make_server(auth="form", pg_database=name, extra_location=extra, start=False,
                    timeouts=(5, 30))
    b = make_server(auth="form", pg_database=name, extra_location=extra, start=False,
                    timeouts=(5, 30))
    b.secret = a.secret
    b.pg_owned = True          # the last one cleaned up drops the database
    a.start()
    b.start()
    return a, b


@pytest.fixture(scope="module")
def alice(nodes):
    """alice's session, made on node A."""
    s, r = form_login(nodes[0], "alice")
    assert r.status_code == 303, (r.status_code, r.text[:300])
    return s


def test_schema_created_once_by_concurrent_nodes(nodes):
    a, b = nodes
    results = []

    def login(server, user):
        results.append(form_login(server, user)[1].status_code)

    threads = [threading.Thread(target=login, args=(srv, user))
               for srv in (a, b) for user in ("alice", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [303] * 4, results
    logs = a.error_log() + b.error_log()
    assert len(re.findall(r"RC0104: database schema at version 5", logs)) == 1, logs
    assert [r["version"] for r in a.query("SELECT version FROM ragchat_schema ORDER BY version")] \
        == list(range(1, 6))


def test_session_made_on_a_is_valid_on_b(nodes, alice):
    a, b = nodes
    me_a = on(a, alice, "alice").me()
    me_b = on(b, alice, "alice").me()
    assert me_a["user"] == me_b["user"] == "alice"
    assert me_a["csrf"] == me_b["csrf"]


def test_thread_continues_on_the_other_node(nodes, alice, backend):
    a, b = nodes
    ca, cb = on(a, alice, "alice"), on(b, alice, "alice")
    backend.script({"tokens": ["Answer", " from", " A"]})
    ev = ca.chat_events("first question, on A")
    tid = ev[0][1]["thread_id"]
    assert final_event(ev)[0] == "done"
    ev = cb.chat_events("second question, on B", thread_id=tid)
    assert ev[0][1]["thread_id"] == tid and not ev[0][1]["new_thread"]
    assert final_event(ev)[0] == "done"
    msgs = backend.chat_requests()[-1]["json"]["messages"]
    assert [(m["role"], m["content"]) for m in msgs] == [
        ("user", "first question, on A"), ("assistant", "Answer from A"),
        ("user", "second question, on B")], msgs
    for c in (ca, cb):
        t = c.thread(tid)
        assert [s["output"] for s in t["steps"]] == [
            "first question, on A", "Answer from A", "second question, on B",
            "Echo: second question, on B"]
        assert tid in [x["id"] for x in c.get("/api/threads").json()["threads"]]


def test_export_from_either_node(nodes, alice, backend):
    a, b = nodes
    ca, cb = on(a, alice, "alice"), on(b, alice, "alice")
    backend.script({"tokens": ["An **exported** answer."]})
    ev = ca.chat_events("export me")
    tid, step = ev[0][1]["thread_id"], ev[0][1]["assistant_step_id"]
    md = [c.get("/api/threads/%s/export.md" % tid) for c in (ca, cb)]
    assert [r.status_code for r in md] == [200, 200]
    assert md[0].text == md[1].text and "An **exported** answer." in md[1].text
    r = cb.get("/api/steps/%s/export.pdf" % step)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-"), r.status_code


def test_stop_through_the_other_node_within_a_second(nodes, alice, backend):
    """Stopped through B, the answer streaming on A ends within half a second
    (test_stop's checks: the partial answer kept, marked stopped)."""
    a, b = nodes
    step = stop_during_stream(on(a, alice, "alice"), backend, sse_events,
                              stopper=on(b, alice, "alice"))
    assert on(b, alice, "alice").post("/api/chat/%s/stop" % step).status_code in (404, 409)


def count_stop_polls(server, clients, backend, window=2.0):
    """Holds one answer per client open on server for `window` seconds and
    counts the stop-flag queries PostgreSQL ran meanwhile (its statement log):
    (node-wide queries, per-answer queries, child processes with answers)."""
    n = len(clients)
    backend.script([{"tokens": ["held ", "answer"], "hold_after": 1, "hold_seconds": 10}] * n)
    responses, errors = [], []

    def stream(c):
        try:
            r = c.chat("held question", timeout=30)
            it = iter(sse_events(r))
            while not tokens_of([next(it)]):
                pass
            responses.append((r, it))
        except Exception as e:          # reported below
            errors.append(e)

    threads = [threading.Thread(target=stream, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert not errors and len(responses) == n, errors
    with open(server.pg.log, errors="replace") as f:
        f.seek(0, 2)
        mark = f.tell()
    time.sleep(window)
    with open(server.pg.log, errors="replace") as f:
        f.seek(mark)
        log = f.read()
    children = len(server._children())
    backend.release()
    for r, it in responses:
        assert final_event(list(it))[0] == "done"
        r.close()
    return (len(re.findall(r'execute [^:]*: SELECT "stepId" FROM ragchat_streams WHERE stop', log)),
            len(re.findall(r'execute [^:]*: SELECT stop FROM ragchat_streams', log)), children)


def test_stop_polling_does_not_grow_with_streams(nodes, alice, backend):
    """16 answers streaming on A (event MPM, two or more children) for 2 s: the
    stop flags are read by one query for the whole node every 250 ms, not by
    each answer (5 a second each before: 160) nor by each child."""
    a, _ = nodes
    polls, per_stream, children = count_stop_polls(
        a, [on(a, alice, "alice") for _ in range(16)], backend)
    assert per_stream == 0, "answers read their own stop flag"
    assert children >= 2
    # 4 a second; a round may come early or late by a tick.
    assert 4 <= polls <= 2.0 * 4 + 2, (polls, children)


def test_stop_polling_prefork(nodes, make_server, backend):
    """The same with prefork, one answer per child process: 8 answers in 8
    processes still make one query every 250 ms for the node."""
    a, _ = nodes
    c = make_server(mpm="prefork", pg_database=a.pg_database, timeouts=(5, 30))
    polls, per_stream, children = count_stop_polls(
        c, [ApiClient(c, "alice") for _ in range(8)], backend)
    assert per_stream == 0 and children >= 8, (per_stream, children)
    assert 4 <= polls <= 2.0 * 4 + 2, polls


def test_database_restart_is_survived(nodes, alice, backend):
    """PostgreSQL restarts (an upgrade, a failover): the nodes' pooled
    connections are made again and their statements prepared again, without
    a failed request."""
    a, b = nodes
    clients = [on(a, alice, "alice"), on(b, alice, "alice")]
    for c in clients:
        assert c.get("/api/threads").status_code == 200
    harness.pg_cluster().restart()
    for _ in range(3):
        for c in clients:
            r = c.get("/api/threads")
            assert r.status_code == 200, r.text
    backend.script({"tokens": ["after", " the", " restart"]})
    ev = clients[1].chat_events("still there?")
    assert final_event(ev)[1]["content"] == "after the restart"
    assert "RC0106: the database connection was made again" in a.error_log() + b.error_log()


def test_other_users_ids_are_404_on_both_nodes(nodes, alice, backend):
    a, b = nodes
    backend.script({"tokens": ["alice's own answer"]})
    ev = on(a, alice, "alice").chat_events("alice's question")
    tid, step = ev[0][1]["thread_id"], ev[0][1]["assistant_step_id"]
    bob_session, r = form_login(b, "bob")
    assert r.status_code == 303
    for node in (a, b):
        bob = on(node, bob_session, "bob")
        assert_error_json(bob.get("/api/threads/%s" % tid), 404)
        assert_error_json(bob.patch("/api/threads/%s" % tid, json={"name": "mine"}), 404)
        assert_error_json(bob.delete("/api/threads/%s" % tid), 404)
        assert_error_json(bob.get("/api/threads/%s/export.md" % tid), 404)
        assert_error_json(bob.get("/api/steps/%s/export.pdf" % step), 404)
        assert_error_json(bob.put("/api/steps/%s/feedback" % step, json={"value": 1}), 404)
        assert_error_json(bob.post("/api/chat/%s/stop" % step), 404)
        r = bob.chat("into alice's thread", thread_id=tid)
        assert_error_json(r, 404)
        assert tid not in [t["id"] for t in bob.get("/api/threads").json()["threads"]]
    assert on(b, alice, "alice").thread(tid)["name"] == "alice's question"


def test_logout_on_one_node_ends_the_session_on_both(nodes):
    a, b = nodes
    s, r = form_login(a, "alice")
    assert r.status_code == 303
    ca, cb = on(a, s, "alice"), on(b, s, "alice")
    csrf = cb.me()["csrf"]
    r = cb.s.post(b.url("/logout"), data={"csrf": csrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    for c in (ca, cb):
        assert_error_json(c.s.get(c.server.url("/api/me"), timeout=10), 401)


def test_failed_logins_count_across_nodes(nodes):
    """Last: the failures also count for the address (127.0.0.1)."""
    a, b = nodes
    user = "mallory%s" % uuid.uuid4().hex[:6]
    for node in (a, b, a)[:LOGIN_LIMIT]:
        assert form_login(node, user, "wrong")[1].status_code == 401
    for node in (b, a):
        _, r = form_login(node, "alice")
        assert r.status_code == 429, r.status_code
        assert int(r.headers["Retry-After"]) >= 1

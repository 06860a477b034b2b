"""Fixtures of the integration suite: a real httpd with mod_ragchat, a fake
OpenAI-compatible backend, API clients for alice and bob, an SSE reader.

A test module may set
    SERVER_OPTIONS = {...}   keyword arguments of HttpdServer for its `server`
    LOG_ALLOW = [regex, ...] error-log lines it expects (e.g. backend failures)
"""
import os
import re
import sys
import time
import uuid

import pytest

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TESTS)

import harness  # noqa: E402
from harness import ApiClient, FakeBackend, HttpdServer, db_errors, sse_events  # noqa: E402,F401

UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


def pytest_sessionstart(session):
    mod = harness.module_path()
    if not os.path.exists(mod):
        pytest.exit("mod_ragchat is missing: %s -- run `make` in %s (or set RAGCHAT_MODULE)"
                    % (mod, harness.REPO), returncode=3)


def pytest_sessionfinish(session, exitstatus):
    harness.stop_pg_cluster()


@pytest.fixture(scope="module")
def backend_proc():
    b = FakeBackend()
    yield b
    b.stop()


@pytest.fixture
def backend(backend_proc):
    """The module's fake backend, reset (queue, records, holds) before each test."""
    backend_proc.reset()
    return backend_proc


@pytest.fixture(scope="module")
def make_server(request, backend_proc):
    """Factory of extra servers for a module; each is checked and removed at the
    module's end: clean error log, no AddressSanitizer report."""
    servers = []
    allow = list(getattr(request.module, "LOG_ALLOW", []))

    def make(**kw):
        kw.setdefault("backend", backend_proc)
        s = HttpdServer(**kw)
        servers.append(s)
        return s

    yield make
    problems = []
    for s in servers:
        # Give streams that a test left running a moment to end and log.
        time.sleep(0.2)
        bad = s.bad_log_lines(allow)
        s.stop()
        bad += [l for l in s.bad_log_lines(allow) if l not in bad]
        reps = s.asan_reports()
        # Secrets never reach the log: the backend key, the session secret, passwords.
        log = s.error_log()
        leaked = [name for name, v in [("backend key", s.key), ("RagChatSecret", s.secret)]
                  + [("password of " + u, pw) for u, pw in s.users.items()] if v and v in log]
        if leaked:
            problems.append("secrets in the error log of %s: %s" % (s.root, ", ".join(leaked)))
        if bad:
            problems.append("error log of %s:\n  %s" % (s.root, "\n  ".join(bad)))
        if reps:
            problems.append("AddressSanitizer (%s):\n%s" % (s.root, "\n".join(reps)))
        if not bad and not reps and not leaked:
            s.cleanup()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def server(request, make_server):
    return make_server(**getattr(request.module, "SERVER_OPTIONS", {}))


@pytest.fixture(scope="module")
def api(server):
    """alice's client of the module's server."""
    return ApiClient(server, "alice")


@pytest.fixture(scope="module")
def api_bob(server):
    return ApiClient(server, "bob")


@pytest.fixture
def sse():
    """sse(response) -> iterator of (event, data, t_arrival)."""
    return sse_events


# ---- helpers shared by the tests (import them from conftest) --------------------
def events_named(events, name):
    return [e for e in events if e[0] == name]


def tokens_of(events):
    return [e[1]["t"] for e in events if e[0] == "token"]


def final_event(events):
    ends = [e for e in events if e[0] in ("done", "error")]
    assert ends, "no done/error event in %r" % ([e[0] for e in events],)
    assert ends[-1] is events[-1], "events after the final one: %r" % (events,)
    return ends[-1]


def assert_error_json(resp, status, code=None):
    assert resp.status_code == status, "want %d, got %d: %s" % (status, resp.status_code,
                                                                resp.text[:500])
    assert resp.headers.get("Content-Type", "").startswith("application/json"), \
        "error Content-Type: %r body %r" % (resp.headers.get("Content-Type"), resp.text[:300])
    body = resp.json()
    assert isinstance(body.get("error"), dict), body
    assert isinstance(body["error"].get("code"), str) and body["error"]["code"], body
    assert isinstance(body["error"].get("message"), str) and body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body
    return body


def wait_for(fn, timeout=5.0, interval=0.1):
    """Polls fn() until it returns a truthy value or timeout passes; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def step_row(server, step_id):
    """The step's row, or None while it is not written. On a fresh database
    the first question's write also creates the tables, and the answer
    streams meanwhile: no table yet is "not written yet" too."""
    con = server.db()
    try:
        row = con.execute("SELECT * FROM steps WHERE id = ?", (step_id,)).fetchone()
        return dict(row) if row else None
    except Exception as e:  # noqa: BLE001 - sqlite3 or psycopg2, only a missing table
        if "no such table" in str(e) or "does not exist" in str(e):
            return None
        raise
    finally:
        con.close()


def free_port_closed():
    """A loopback port nothing listens on."""
    return harness.free_port()


def unique(word="w"):
    return "%s%s" % (word, uuid.uuid4().hex[:10])

"""`make run` itself: it starts a foreground httpd with the built-in backend,
prints where to go and how to log in, serves a form login with the printed
credentials, upload and chat, stops on Ctrl-C (SIGINT to its process group),
and keeps the data for the next run.

The data directory is a temporary one (RAGCHAT_DATA), never the repository's
./data, and no .env is read (RAGCHAT_ENV_FILE empty), so the defaults apply.
When the suite runs on PostgreSQL, make run is pointed at a fresh database of
the test cluster (RAGCHAT_PGSQL) and the history lives there.
"""
import os
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import requests

import harness
from conftest import final_event, tokens_of

REPO = harness.REPO
START_TIMEOUT = 60      # includes `make deps all` when the build is not current


def default_signals():
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGQUIT, signal.SIG_DFL)


class MakeRun:
    def __init__(self, data, port, pgsql=None):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RAGCHAT_", "APP_", "FASTAPI_", "CHAINLIT_", "API_KEY",
                                    "LD_PRELOAD", "ASAN_"))}
        env.update({"RAGCHAT_DATA": data, "RAGCHAT_PORT": str(port), "RAGCHAT_ENV_FILE": "",
                    "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        if pgsql:
            env["RAGCHAT_PGSQL"] = pgsql
        # As from a terminal: SIGINT and SIGQUIT at their defaults, whatever
        # this test runner inherited (nohup, a background job).
        self.proc = subprocess.Popen(["make", "--no-print-directory", "run"], cwd=REPO, env=env,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     preexec_fn=default_signals)
        self.output = ""

    def read_until(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            m = re.search(pattern, self.output)
            if m:
                return m
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None and not select.select([fd], [], [], 0)[0]:
                raise AssertionError("no %r in the output of make run:\n%s"
                                     % (pattern, self.output))
            r, _, _ = select.select([fd], [], [], min(left, 0.5))
            if r:
                chunk = os.read(fd, 65536)
                if chunk:
                    self.output += chunk.decode("utf-8", "replace")

    def interrupt(self, timeout=20):
        """Ctrl-C: SIGINT to the whole process group, as a terminal does."""
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout)
        finally:
            rest = self.proc.stdout.read()
            self.output += rest.decode("utf-8", "replace") if rest else ""
            self.proc.stdout.close()

    def kill(self):
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)


@pytest.fixture
def datadir():
    d = tempfile.mkdtemp(prefix="ragchat-makerun-")
    os.chmod(d, 0o755)            # as ./data in a repository others can enter
    yield os.path.join(d, "data")
    shutil.rmtree(d, ignore_errors=True)


def login(url, user, password):
    """A requests session logged in through the form; its CSRF token for the API."""
    s = requests.Session()
    page = s.get(url + "login", timeout=10)
    assert page.status_code == 200, page.text[:300]
    m = (re.search(r'name="csrf"[^>]*value="([^"]+)"', page.text)
         or re.search(r'value="([^"]+)"[^>]*name="csrf"', page.text))
    form = {"username": user, "password": password, "next": "/chat/"}
    if m:
        form["csrf"] = m.group(1)
    r = s.post(url + "login", data=form, allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303), "login: %d %s" % (r.status_code, r.text[:300])
    me = s.get(url + "api/me", timeout=10)
    assert me.status_code == 200, me.text[:300]
    assert me.json()["user"] == user
    s.headers["X-CSRF-Token"] = me.json()["csrf"]
    return s


def chat(s, url, content, thread_id=None):
    r = s.post(url + "api/chat", json={"thread_id": thread_id, "content": content},
               stream=True, timeout=20)
    assert r.status_code == 200, r.text[:300]
    with r:
        events = list(harness.sse_events(r))
    name, data, _ = final_event(events)
    assert name == "done", events[-1]
    # the tokens are the answer, after the block naming its sources (built-in backend)
    streamed = "".join(tokens_of(events))
    preamble = streamed[:len(streamed) - len(data["content"])]
    assert streamed.endswith(data["content"]), streamed
    assert preamble == "" or re.fullmatch(r"```json\n\{.*\}\n```\n", preamble, re.S), preamble
    return events[0][1]["thread_id"], data["content"]


def test_make_run_serves_logs_in_and_keeps_data(datadir):
    port = harness.free_port()
    pgsql = pg_db = None
    if harness.db_driver() == "pgsql":
        pg_db = harness.pg_cluster().create_db()
        pgsql = harness.pg_cluster().dbd_params(pg_db)
    run = MakeRun(datadir, port, pgsql)
    try:
        url = run.read_until(r"Open:\s+(http://\S+)", START_TIMEOUT).group(1)
        assert url == "http://127.0.0.1:%d/chat/" % port
        cred = run.read_until(r'Log in:\s+user "([^"]+)", password "([^"]+)"', 5)
        user, password = cred.group(1), cred.group(2)
        assert (user, password) == ("admin", "admin")
        # The warning is the line after the credentials: wait for it too.
        assert run.read_until(r"WARNING:.*default credentials", 5)

        # / leads to the app, which wants a login first.
        r = requests.get("http://127.0.0.1:%d/" % port, timeout=10)
        assert r.url.endswith("/chat/login") or "/chat/login" in r.url, r.url
        assert requests.post(url + "login", data={"username": user, "password": "wrong"},
                             allow_redirects=False, timeout=10).status_code != 303

        s = login(url, user, password)
        r = s.post(url + "api/upload", timeout=30, files=[
            ("files", ("tides.md", b"# Tides\n\nHigh water at Port Ellen is at 6:40 on "
                                   b"Sunday; the ferry waits for the tide.\n", "text/markdown"))])
        assert r.status_code == 200, r.text[:300]
        assert r.json()["message"].startswith("Ingested 1 document")
        thread_id, answer = chat(s, url, "When is high water at Port Ellen?")
        assert "tides.md" in answer and "6:40" in answer
    finally:
        if run.proc.poll() is None:
            run.interrupt()
        run.kill()
    assert "stopped; the data stays in" in run.output, run.output
    if pgsql:
        assert "the history is in PostgreSQL" in run.output, run.output
        assert not os.path.exists(os.path.join(datadir, "chat_history.db"))
        n = harness.pg_cluster().psql(pg_db, "SELECT COUNT(*) FROM ragchat_chunks")
        assert int(n) >= 1
    else:
        assert os.path.exists(os.path.join(datadir, "chat_history.db"))
    secret = os.path.join(datadir, "secret")
    assert oct(os.stat(secret).st_mode & 0o777) == "0o600"
    with open(secret) as f:
        first_secret = f.read()

    # Again: the same data, the same secret, the thread is still there.
    run = MakeRun(datadir, port, pgsql)
    try:
        run.read_until(r"Open:\s+http://", START_TIMEOUT)
        s = login(url, user, password)
        threads = s.get(url + "api/threads", timeout=10).json()["threads"]
        assert thread_id in [t["id"] for t in threads]
        steps = s.get(url + "api/threads/" + thread_id, timeout=10).json()["steps"]
        assert "6:40" in steps[-1]["output"]
        _, answer = chat(s, url, "ferry tide", thread_id)
        assert "tides.md" in answer
    finally:
        if run.proc.poll() is None:
            run.interrupt()
        run.kill()
    with open(secret) as f:
        assert f.read() == first_secret
    log = open(os.path.join(datadir, "logs", "error.log"), errors="replace").read()
    bad = [l for l in log.splitlines()
           if re.search(r"\[(?:[\w.-]+:)?(error|crit|alert|emerg)\]", l)
           or "exit signal" in l]
    assert not bad, "\n".join(bad)
    if pg_db:
        harness.pg_cluster().drop_db(pg_db)

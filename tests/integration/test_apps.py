"""Two apps on one server and one database keep their threads apart
(RagChatApp, default: the app's path); threads the reference app wrote (no app)
show in every app and become the app's that continues them."""
import pytest

from conftest import ApiClient, HttpdServer


class TwoApps(HttpdServer):
    def write_config(self):
        self.extra_server = """
<Location /other>
    SetHandler ragchat
    RagChatBackend %s
    RagChatBackendKey env:RAGCHAT_TEST_KEY
    RagChatHtdocs "%s/htdocs"
    RagChatApp other-app
    RagChatAuth apache
    AuthType Basic
    AuthName "ragchat"
    AuthBasicProvider file
    AuthUserFile "%s/htpasswd"
    Require valid-user
</Location>
""" % (self.backend_url, self.root, self.root)
        super().write_config()


class OtherClient(ApiClient):
    def request(self, method, path, csrf=True, **kw):
        headers = dict(kw.pop("headers", None) or {})
        if csrf and method.upper() in ("POST", "PUT", "PATCH", "DELETE"):
            headers["X-CSRF-Token"] = self.csrf
        kw.setdefault("timeout", 15)
        return self.s.request(method, self.server.origin + "/other" + path, headers=headers, **kw)

    def me(self, refresh=False):
        if self._me is None or refresh:
            self._me = self.s.get(self.server.origin + "/other/api/me", timeout=10).json()
        return self._me


@pytest.fixture(scope="module")
def two(backend_proc):
    s = TwoApps(backend=backend_proc)
    yield s
    s.stop()
    bad = s.bad_log_lines()
    s.cleanup()
    assert not bad, bad


def ids(client):
    return [t["id"] for t in client.get("/api/threads").json()["threads"]]


def test_each_app_sees_only_its_threads(two, backend):
    a, b = ApiClient(two), OtherClient(two)
    backend.script({"tokens": ["from a"]}, {"tokens": ["from b"]})
    ta = a.chat_events("walrus question in A")[0][1]
    tb = b.chat_events("narwhal question in B")[0][1]
    assert ta["thread_id"] in ids(a) and tb["thread_id"] not in ids(a)
    assert tb["thread_id"] in ids(b) and ta["thread_id"] not in ids(b)
    # the stored names: the default (the path) and RagChatApp
    rows = {r["id"]: r["app"] for r in two.query(
        'SELECT id, "ragchatApp" AS app FROM threads')}
    assert rows[ta["thread_id"]] == "/chat" and rows[tb["thread_id"]] == "other-app"
    # search, opening, continuing, exports, feedback, stop and uploads: 404 in the other app
    assert b.get("/api/threads", params={"q": "walrus"}).json()["threads"] == []
    assert b.get("/api/threads/%s" % ta["thread_id"]).status_code == 404
    n = len(backend.chat_requests())
    r = b.post("/api/chat", json={"thread_id": ta["thread_id"], "content": "leak it?"})
    assert r.status_code == 404
    assert len(backend.chat_requests()) == n, "A's conversation never reached B's backend"
    assert b.get("/api/threads/%s/export.md" % ta["thread_id"]).status_code == 404
    assert b.get("/api/steps/%s/export.pdf" % ta["assistant_step_id"]).status_code == 404
    assert b.put("/api/steps/%s/feedback" % ta["assistant_step_id"],
                 json={"value": 1}).status_code == 404
    up = b.post("/api/upload", data={"thread_id": ta["thread_id"]},
                files=[("files", ("a.txt", b"hello", "text/plain"))])
    assert up.status_code == 404
    # in its own app everything works
    assert a.get("/api/threads/%s/export.md" % ta["thread_id"]).status_code == 200


def test_threads_of_no_app_show_everywhere_until_continued(two, backend):
    a, b = ApiClient(two), OtherClient(two)
    user_id = two.query("SELECT id FROM users WHERE identifier = 'alice'")[0]["id"]
    two.db_exec('INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier",'
                ' tags, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
                ("ref-thread", "2026-01-01T00:00:00.000000Z", "written by Chainlit", user_id,
                 "alice", "[]", "{}"))
    assert "ref-thread" in ids(a) and "ref-thread" in ids(b)
    backend.script({"tokens": ["claimed"]})
    assert a.chat_events("continue it in A", thread_id="ref-thread")[-1][0] == "done"
    assert "ref-thread" in ids(a) and "ref-thread" not in ids(b)
    assert b.get("/api/threads/ref-thread").status_code == 404

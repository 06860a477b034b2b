"""RagChatAuth apache behind mod_auth_form: the README's example, for real. The
site's own login (mod_auth_form + mod_session_cookie + mod_session_crypto) sets
r->user, and mod_ragchat trusts it."""
import pytest
import requests

from harness import SITE_FORM_PASSPHRASE as PASSPHRASE  # noqa: F401
from harness import SiteFormServer as AuthFormServer


@pytest.fixture(scope="module")
def server(make_server, backend_proc):
    s = AuthFormServer(backend=backend_proc)
    yield s
    bad = s.bad_log_lines([r"AH01807", r"AH01806"])   # mod_auth_form's own notes
    s.stop()
    assert not bad, bad
    assert not s.asan_reports()
    s.cleanup()


def login(server, password):
    s = requests.Session()
    r = s.post(server.origin + "/dologin", allow_redirects=False, timeout=10,
               data={"httpd_username": "alice", "httpd_password": password})
    return s, r


def test_without_login_the_site_asks_for_it(server):
    r = requests.get(server.url("/api/me"), allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303, 307) and r.headers["Location"].endswith("/login.html")


def test_site_login_gives_the_app_its_user(server, backend):
    s, r = login(server, server.users["alice"])
    assert r.status_code in (302, 303, 307), r.text[:300]
    assert r.headers["Location"].endswith("/chat/")
    me = s.get(server.url("/api/me"), timeout=10)
    assert me.status_code == 200 and me.json()["user"] == "alice" and me.json()["auth"] == "apache"
    backend.script({"tokens": ["Hi ", "alice"]})
    r = s.post(server.url("/api/chat"), json={"thread_id": None, "content": "hello"},
               headers={"X-CSRF-Token": me.json()["csrf"]}, timeout=15)
    assert r.status_code == 200 and "event: done" in r.text and "Hi alice" in r.text
    threads = s.get(server.url("/api/threads"), timeout=10).json()["threads"]
    assert [t["name"] for t in threads] == ["hello"]


def test_wrong_password_gets_no_session(server):
    s, r = login(server, "wrong")
    me = s.get(server.url("/api/me"), allow_redirects=False, timeout=10)
    assert me.status_code != 200


def test_the_sites_logout(server):
    s, r = login(server, server.users["alice"])
    me = s.get(server.url("/api/me"), timeout=10).json()
    assert me["logout_url"] == "/dologout" and me["auth_type"] == "form"
    r = s.get(server.origin + me["logout_url"], allow_redirects=False, timeout=10)
    assert r.status_code in (302, 303, 307) and r.headers["Location"].endswith("/login.html")
    after = s.get(server.url("/api/me"), allow_redirects=False, timeout=10)
    assert after.status_code in (302, 303, 307), "the site's session has ended"

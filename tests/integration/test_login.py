"""RagChatAuth form: the login page, authn providers (bcrypt and MD5 htpasswd
entries, the env provider), signed server-side sessions, logout, CSRF,
throttling, open redirects, revocation of removed users, startup checks."""
import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import subprocess
import time

import pytest
import requests

from conftest import ApiClient, HttpdServer, assert_error_json, final_event, wait_for

PYTHON = "/usr/bin/python3"
ENV_USER = "envadmin"
ENV_PASSWORD = "env-" + secrets.token_hex(8)
MD5_USER, MD5_PASSWORD = "mdfive", "md5-" + secrets.token_hex(6)
WRONG = "Wrong user name or password"
EVIL = "http://evil.example"

# Used when the UI's htdocs/login.html is not there yet: the placeholders the
# module fills, a form posting to the relative "login", no inline script/style.
MINIMAL_LOGIN = """<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>{{TITLE}}</title></head>
<body>
<main>
<h1>{{TITLE}}</h1>
<p class="error">{{ERROR}}</p>
<form method="post" action="login">
<label>User name <input name="username" value="{{USER}}" autocomplete="username"></label>
<label>Password <input type="password" name="password" autocomplete="current-password"></label>
<input type="hidden" name="next" value="{{NEXT}}">
<input type="hidden" name="csrf" value="{{CSRF}}">
<button type="submit">Log in</button>
</form>
</main>
</body>
</html>
"""


class FormServer(HttpdServer):
    """HttpdServer in form mode with the providers `file env`, an MD5 htpasswd
    entry next to the harness's bcrypt ones, APP_USER/APP_PASSWORD in httpd's
    environment, and extra Location lines."""

    def __init__(self, location="", app_env=None, secret_line=True, **kw):
        self.app_env = {"APP_USER": ENV_USER, "APP_PASSWORD": ENV_PASSWORD} \
            if app_env is None else app_env
        self.secret_line = secret_line
        kw.setdefault("auth", "form")
        kw["extra_location"] = "RagChatAuthProvider env\n" + location
        super().__init__(**kw)

    def _copy_htdocs(self):
        super()._copy_htdocs()
        path = os.path.join(self.root, "htdocs", "login.html")
        if not os.path.exists(path):
            with open(path, "w") as f:
                f.write(MINIMAL_LOGIN)
            os.chmod(path, 0o644)

    def _make_htpasswd(self):
        super()._make_htpasswd()
        self.htpasswd("-m", MD5_USER, MD5_PASSWORD)
        self.users[MD5_USER] = MD5_PASSWORD

    @property
    def htpasswd_path(self):
        return os.path.join(self.root, "htpasswd")

    def htpasswd(self, *args):
        subprocess.run(["htpasswd", "-b"] + list(args[:-2]) + [self.htpasswd_path] +
                       list(args[-2:]), check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
        os.chmod(self.htpasswd_path, 0o644)

    def location_config(self):
        text = super().location_config()
        if not self.secret_line:
            text = "\n".join(l for l in text.split("\n") if "RagChatSecret" not in l)
        return text

    def env(self):
        e = super().env()
        e.update(self.app_env)
        return e



LOG_ALLOW = []
SECRETS_SEEN = set()


@pytest.fixture(scope="module")
def make_form_server(backend_proc):
    servers = []

    def make(allow=(), **kw):
        kw.setdefault("backend", backend_proc)
        s = FormServer(**kw)
        servers.append((s, list(allow)))
        SECRETS_SEEN.add(s.secret)
        return s

    yield make
    problems = []
    for s, allow in servers:
        time.sleep(0.2)
        s.stop()
        bad = s.bad_log_lines(LOG_ALLOW + allow)
        log = s.error_log()
        leaked = [w for w in list(SECRETS_SEEN) + [ENV_PASSWORD, MD5_PASSWORD] +
                  list(s.users.values()) if w and w in log]
        if bad:
            problems.append("error log of %s:\n  %s" % (s.root, "\n  ".join(bad)))
        if leaked:
            problems.append("secrets in the error log of %s: %r" % (s.root, leaked))
        if s.asan_reports():
            problems.append("AddressSanitizer (%s)" % s.root)
        if not bad and not leaked:
            s.cleanup()
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module")
def fs(make_form_server):
    """The main form-mode server: generous throttling (every test here fails
    logins from 127.0.0.1), provider re-check every second."""
    return make_form_server(location="RagChatLoginLimit 1000 900\n"
                                     "RagChatSessionTimeout 60\n"
                                     "RagChatSessionRecheck 1")


# ---- helpers ----------------------------------------------------------------
def form_token(html):
    for tag in re.findall(r"<input\b[^>]*>", html, re.I):
        if re.search(r'\bname\s*=\s*"csrf"', tag):
            m = re.search(r'\bvalue\s*=\s*"([^"]*)"', tag)
            return m.group(1) if m else None
    return None


def login_page(server, session=None, **kw):
    s = session or requests.Session()
    r = s.get(server.url("/login"), timeout=10, **kw)
    assert r.status_code == 200, r.text[:300]
    return s, r


def login(server, user, password, next_=None, session=None, headers=None, token=None):
    s, page = login_page(server, session)
    data = {"username": user, "password": password,
            "csrf": form_token(page.text) if token is None else token}
    if next_ is not None:
        data["next"] = next_
    r = s.post(server.url("/login"), data=data, headers=headers or {},
               allow_redirects=False, timeout=20)
    return s, r


def login_ok(server, user, password=None):
    s, r = login(server, user, password or server.users.get(user, ENV_PASSWORD))
    assert r.status_code == 303, (r.status_code, r.text[:300])
    assert s.cookies.get("ragchat_session"), r.headers
    return s


def client(server, session):
    c = ApiClient(server, basic=False)
    c.s = session
    return c


def cookie_header(value):
    return {"Cookie": "ragchat_session=%s" % value}


def b64url(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def row_id(cookie):
    return b64url(hashlib.sha256(cookie.split(".")[0].encode()).digest())


def set_cookies(r):
    return r.raw.headers.getlist("Set-Cookie")


def me_status(server, cookie):
    return requests.get(server.url("/api/me"), headers=cookie_header(cookie),
                        timeout=10).status_code


# ---- the page and the redirect ------------------------------------------------
def test_root_without_session_goes_to_login(fs):
    r = requests.get(fs.url("/"), allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert r.headers["Location"].endswith("/chat/login")
    assert_error_json(requests.get(fs.url("/api/me"), timeout=10), 401)


def test_login_page_headers_and_no_secret(fs):
    s, r = login_page(fs, headers={"X-Forwarded-Proto": "https"})
    assert r.headers["Content-Type"].startswith("text/html")
    csp = r.headers.get("Content-Security-Policy", "")
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp, csp
    assert r.headers.get("Cache-Control") == "no-store"
    token = form_token(r.text)
    assert token and len(token) >= 40
    assert fs.secret not in r.text and fs.secret not in str(r.headers)
    assert "{{" not in r.text
    assert "<script>" not in r.text.lower() and "<style" not in r.text.lower()
    cookies = set_cookies(r)
    assert len(cookies) == 1 and cookies[0].startswith("ragchat_login="), cookies
    attrs = cookies[0].lower()
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/chat/login" in attrs
    # X-Forwarded-Proto is not trusted: plain http, no Secure flag
    assert "secure" not in attrs.replace("samesite", "")
    # the same browser gets the same token (several tabs work)
    r2 = s.get(fs.url("/login"), timeout=10)
    assert form_token(r2.text) == token and not set_cookies(r2)


# ---- passwords ----------------------------------------------------------------
@pytest.mark.parametrize("who", ["bcrypt", "md5", "env"])
def test_right_password(fs, who):
    user, pw = {"bcrypt": ("alice", fs.users["alice"]), "md5": (MD5_USER, MD5_PASSWORD),
                "env": (ENV_USER, ENV_PASSWORD)}[who]
    s, r = login(fs, user, pw)
    assert r.status_code == 303, (r.status_code, r.text[:300])
    assert r.headers["Location"] == "/chat/"
    cookies = set_cookies(r)
    sess = [c for c in cookies if c.startswith("ragchat_session=")]
    assert len(sess) == 1, cookies
    attrs = [a.strip().lower() for a in sess[0].split(";")]
    assert "httponly" in attrs and "samesite=lax" in attrs and "path=/chat" in attrs, attrs
    assert "secure" not in attrs
    value = s.cookies.get("ragchat_session")
    assert re.match(r"^[0-9a-f]{64}\.[A-Za-z0-9_-]{43}$", value), value
    # the login form's cookie is dropped
    assert any(c.startswith("ragchat_login=;") for c in cookies), cookies
    me = client(fs, s).me()
    assert me["user"] == user and me["csrf"]
    assert me["csrf"] not in value
    assert fs.query("SELECT id FROM users WHERE identifier = ?", (user,))
    # the table holds a hash of the id, not the cookie
    rows = fs.query("SELECT * FROM ragchat_sessions WHERE \"userIdentifier\" = ?", (user,))
    assert rows and all(value.split(".")[0] not in json.dumps(r) for r in rows)
    assert any(r["id"] == row_id(value) for r in rows)


@pytest.mark.parametrize("who", ["bcrypt", "md5", "env"])
def test_wrong_password(fs, who):
    user = {"bcrypt": "alice", "md5": MD5_USER, "env": ENV_USER}[who]
    s, r = login(fs, user, "not-the-password")
    assert r.status_code == 401
    assert WRONG in r.text
    assert not s.cookies.get("ragchat_session")
    assert form_token(r.text), "the page is shown again with a fresh form"
    assert 'value="%s"' % user in r.text


def test_unknown_user_same_answer(fs):
    s, _ = login_page(fs)
    _, wrong = login(fs, "alice", "nope-nope", session=s)
    _, unknown = login(fs, "zalice", "nope-nope", session=s)
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.text.replace("alice", "U") == unknown.text.replace("zalice", "U")
    assert set_cookies(wrong) == set_cookies(unknown) == []
    assert WRONG in unknown.text


def test_empty_and_oversized_fields(fs):
    for user, pw in (("", "x"), ("alice", ""), ("a" * 300, "x"), ("alice", "p" * 2000)):
        s, r = login(fs, user, pw)
        assert r.status_code == 401, (user[:10], r.status_code)
        assert not s.cookies.get("ragchat_session")


def test_header_injection_in_username(fs):
    pw = fs.users["alice"]
    for user in ("alice\r\nSet-Cookie: evil=1", "alice\nX-Evil: 1", "alice\r", "ali\x00ce"):
        s, r = login(fs, user, pw)
        assert r.status_code in (400, 401), (repr(user), r.status_code)
        assert "evil" not in str(r.headers).lower()
        assert "X-Evil" not in r.headers
        assert not s.cookies.get("ragchat_session")
    log = fs.error_log()
    assert "alice\r\n" not in log and "\nSet-Cookie: evil" not in log


def test_login_needs_form_token(fs):
    s, page = login_page(fs)
    pw = fs.users["alice"]
    real = form_token(page.text)
    # change the last character to one that differs from it (a token may end in "A")
    altered = real[:-1] + ("Q" if real[-1] != "Q" else "g")
    for token in ("", "x" * 43, altered):
        _, r = login(fs, "alice", pw, session=s, token=token)
        assert r.status_code == 403, (token, r.status_code)
        assert not s.cookies.get("ragchat_session")
    # a token without its cookie (another browser's form) is refused too
    token = form_token(page.text)
    r = requests.post(fs.url("/login"), data={"username": "alice", "password": pw,
                                              "csrf": token},
                      allow_redirects=False, timeout=10)
    assert r.status_code == 403
    # a login form posted from another site
    _, r = login(fs, "alice", pw, headers={"Origin": EVIL})
    assert r.status_code == 403
    # only form encoding
    r = s.post(fs.url("/login"), json={"username": "alice", "password": pw, "csrf": token},
               allow_redirects=False, timeout=10)
    assert r.status_code == 415


# ---- sessions -------------------------------------------------------------------
def test_new_session_id_at_every_login(fs):
    s = login_ok(fs, "alice")
    first = s.cookies.get("ragchat_session")
    s2, r = login(fs, "alice", fs.users["alice"], session=s)
    assert r.status_code == 303
    second = s2.cookies.get("ragchat_session")
    assert second and second != first
    assert me_status(fs, first) == 401, "the session of the earlier login is ended"
    assert me_status(fs, second) == 200
    # a session id chosen by someone else is never adopted
    planted = secrets.token_hex(32)
    s3 = requests.Session()
    s3.cookies.set("ragchat_session", planted + ".x", path="/chat")
    s3, r = login(fs, "bob", fs.users["bob"], session=s3)
    assert r.status_code == 303
    new = [c for c in set_cookies(r) if c.startswith("ragchat_session=")]
    assert len(new) == 1 and planted not in new[0], new


def test_forged_and_tampered_cookies(fs):
    good = login_ok(fs, "alice").cookies.get("ragchat_session")
    sid, mac = good.split(".")
    flip = lambda s, i: s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]  # noqa: E731
    wrong_key = b64url(hmac.new(b"k" * 48, ("ragchat-session\n/chat\n" + sid).encode(),
                                hashlib.sha256).digest())
    unknown = secrets.token_hex(32)
    signed_unknown = unknown + "." + b64url(hmac.new(
        fs.secret.encode(), ("ragchat-session\n/chat\n" + unknown).encode(),
        hashlib.sha256).digest())
    forged = [secrets.token_hex(32) + "." + mac, sid + "." + flip(mac, 5),
              flip(sid, 3) + "." + mac, sid, sid + "." + wrong_key, "",
              sid.upper() + "." + mac, sid + "." + mac + "x", "../" + good,
              signed_unknown]
    for value in forged:
        r = requests.get(fs.url("/api/me"), headers=cookie_header(value), timeout=10)
        assert_error_json(r, 401)
    assert me_status(fs, good) == 200
    # a cookie signed with the server's secret but with no row: the table decides
    assert me_status(fs, signed_unknown) == 401


def test_idle_and_absolute_expiry(fs):
    now = int(time.time())
    a = login_ok(fs, "alice").cookies.get("ragchat_session")
    b = login_ok(fs, "alice").cookies.get("ragchat_session")
    assert me_status(fs, a) == 200 and me_status(fs, b) == 200
    # idle: RagChatSessionTimeout 60
    assert fs.db_exec("UPDATE ragchat_sessions SET \"lastSeen\" = ? WHERE id = ?",
                      (now - 61, row_id(a))) == 1
    assert me_status(fs, a) == 401
    assert not fs.query("SELECT id FROM ragchat_sessions WHERE id = ?", (row_id(a),))
    # absolute
    assert fs.db_exec("UPDATE ragchat_sessions SET \"expiresAt\" = ? WHERE id = ?",
                      (now - 1, row_id(b))) == 1
    assert me_status(fs, b) == 401
    # a session seen recently stays
    c = login_ok(fs, "alice").cookies.get("ragchat_session")
    fs.db_exec("UPDATE ragchat_sessions SET \"lastSeen\" = ? WHERE id = ?",
               (now - 50, row_id(c)))
    assert me_status(fs, c) == 200
    seen = fs.query("SELECT \"lastSeen\" FROM ragchat_sessions WHERE id = ?", (row_id(c),))
    assert seen[0]["lastSeen"] >= now, "lastSeen is refreshed"


def test_logout(fs):
    s = login_ok(fs, "alice")
    cookie = s.cookies.get("ragchat_session")
    api = client(fs, s)
    csrf = api.csrf
    r = s.post(fs.url("/logout"), allow_redirects=False, timeout=10)
    assert_error_json(r, 403)
    r = s.post(fs.url("/logout"), data={"csrf": "wrong"}, allow_redirects=False, timeout=10)
    assert_error_json(r, 403)
    r = s.post(fs.url("/logout"), data={"csrf": csrf}, headers={"Origin": EVIL},
               allow_redirects=False, timeout=10)
    assert_error_json(r, 403)
    assert me_status(fs, cookie) == 200
    r = s.get(fs.url("/logout"), timeout=10)
    assert r.status_code == 405
    r = s.post(fs.url("/logout"), data={"csrf": csrf}, allow_redirects=False, timeout=10)
    assert r.status_code == 303
    assert r.headers["Location"] == "/chat/login"
    assert any(c.startswith("ragchat_session=;") and "Max-Age=0" in c for c in set_cookies(r))
    assert me_status(fs, cookie) == 401, "the old cookie is useless"
    assert not fs.query("SELECT id FROM ragchat_sessions WHERE id = ?", (row_id(cookie),))

    # fetch() flavour: header token, JSON accepted -> 204
    s = login_ok(fs, "bob")
    cookie = s.cookies.get("ragchat_session")
    r = s.post(fs.url("/logout"), headers={"X-CSRF-Token": client(fs, s).csrf,
                                           "Accept": "application/json"}, timeout=10)
    assert r.status_code == 204 and not r.content
    assert me_status(fs, cookie) == 401


# ---- CSRF on the API -------------------------------------------------------------
def test_csrf_on_state_changing_routes(fs, backend):
    api = client(fs, login_ok(fs, "alice"))
    events = api.chat_events("hello csrf")
    assert final_event(events)[0] == "done"
    tid = events[0][1]["thread_id"]
    calls = [("POST", "/api/chat", {"json": {"thread_id": None, "content": "x"}}),
             ("PATCH", "/api/threads/%s" % tid, {"json": {"name": "renamed"}}),
             ("DELETE", "/api/threads/%s" % tid, {})]
    for method, path, kw in calls:
        for headers in ({}, {"X-CSRF-Token": "wrong"},
                        {"X-CSRF-Token": api.csrf, "Origin": EVIL}):
            r = api.request(method, path, csrf=False, headers=headers, **kw)
            assert_error_json(r, 403)
    assert api.thread(tid)["name"] != "renamed"
    r = api.patch("/api/threads/%s" % tid, json={"name": "renamed"})
    assert r.status_code == 200, r.text
    r = api.delete("/api/threads/%s" % tid)
    assert r.status_code == 204, r.text
    # another session's token is not this session's token
    other = client(fs, login_ok(fs, "alice"))
    assert other.csrf != api.csrf
    r = api.request("POST", "/api/chat", csrf=False, headers={"X-CSRF-Token": other.csrf},
                    json={"thread_id": None, "content": "x"})
    assert_error_json(r, 403)


def test_two_users_isolated(fs, backend):
    alice = client(fs, login_ok(fs, "alice"))
    bob = client(fs, login_ok(fs, "bob"))
    events = alice.chat_events("alice's secret plan")
    tid = events[0][1]["thread_id"]
    assert_error_json(bob.get("/api/threads/%s" % tid), 404)
    assert_error_json(bob.patch("/api/threads/%s" % tid, json={"name": "x"}), 404)
    assert_error_json(bob.delete("/api/threads/%s" % tid), 404)
    listed = bob.get("/api/threads").json()["threads"]
    assert tid not in [t["id"] for t in listed]
    assert alice.thread(tid)["id"] == tid


# ---- open redirects ----------------------------------------------------------------
@pytest.mark.parametrize("nxt", [
    "//evil.example", "https://evil.example", "http://evil.example/chat/",
    "/\\evil.example", "\\\\evil.example", "%2F%2Fevil.example", "/%2F%2Fevil.example",
    "/chat//evil.example", "/chat/\r\nSet-Cookie: x=1", "/chat/%0d%0aSet-Cookie:x=1\r\n",
    "/chat/../../evil", "javascript:alert(1)", "/chatx/", "/chat", "/other/",
    "/chat/\\evil", " /chat/", "/chat/\x00", ""])
def test_next_open_redirect(fs, nxt):
    s, r = login(fs, "alice", fs.users["alice"], next_=nxt)
    assert r.status_code == 303
    assert r.headers["Location"] == "/chat/", (nxt, r.headers["Location"])
    assert "x=1" not in str(r.headers)


def test_next_kept_inside_the_app(fs):
    s, r = login(fs, "alice", fs.users["alice"], next_="/chat/?thread=abc-123")
    assert r.status_code == 303 and r.headers["Location"] == "/chat/?thread=abc-123"
    r = requests.get(fs.url("/login"), params={"next": "/chat/api/me"}, timeout=10)
    assert 'value="/chat/api/me"' in r.text
    r = requests.get(fs.url("/login"), params={"next": "//evil.example"}, timeout=10)
    assert "evil.example" not in r.text


# ---- revocation --------------------------------------------------------------------
def test_removed_user_loses_access(fs):
    fs.htpasswd("-B", "-C", "5", "carol", "carol-pw")
    s = login_ok(fs, "carol", "carol-pw")
    cookie = s.cookies.get("ragchat_session")
    assert me_status(fs, cookie) == 200
    subprocess.run(["htpasswd", "-D", fs.htpasswd_path, "carol"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.chmod(fs.htpasswd_path, 0o644)
    t0 = time.monotonic()
    # RagChatSessionRecheck 1: within about a second
    assert wait_for(lambda: me_status(fs, cookie) == 401, timeout=4, interval=0.2)
    assert time.monotonic() - t0 < 3
    assert not fs.query("SELECT id FROM ragchat_sessions WHERE id = ?", (row_id(cookie),))
    _, r = login(fs, "carol", "carol-pw")
    assert r.status_code == 401
    # the others keep theirs (the check's random password means "still exists")
    a = login_ok(fs, "alice").cookies.get("ragchat_session")
    e = login_ok(fs, ENV_USER, ENV_PASSWORD).cookies.get("ragchat_session")
    time.sleep(1.2)
    assert me_status(fs, a) == 200 and me_status(fs, e) == 200


# ---- throttling --------------------------------------------------------------------
def test_throttle_per_user_and_address(make_form_server):
    srv = make_form_server(location="RagChatLoginLimit 3 2")
    pw = srv.users["alice"]
    for _ in range(3):
        assert login(srv, "alice", "bad")[1].status_code == 401
    s, r = login(srv, "alice", pw)
    assert r.status_code == 429, r.status_code
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 2
    assert "Too many" in r.text and not s.cookies.get("ragchat_session")
    # the user key counts case-insensitively
    assert login(srv, "ALICE", pw)[1].status_code == 429
    time.sleep(wait + 0.1)
    assert login(srv, "alice", pw)[1].status_code == 303, "the window has passed"

    # the address: three different unknown names, then anyone is refused
    time.sleep(2.1)
    for i in range(3):
        assert login(srv, "nobody%d" % i, "bad")[1].status_code == 401
    s, r = login(srv, "bob", srv.users["bob"])
    assert r.status_code == 429
    wait = int(r.headers["Retry-After"])
    assert 1 <= wait <= 2
    time.sleep(wait + 0.1)
    assert login(srv, "bob", srv.users["bob"])[1].status_code == 303
    # the failures are stored in the database, keyed by hashes, and pruned
    rows = srv.query("SELECT * FROM ragchat_login_failures")
    assert rows and not any("nobody" in json.dumps(r) or "alice" in json.dumps(r)
                            for r in rows)


# ---- startup ---------------------------------------------------------------------
def start_fails(backend, **kw):
    s = FormServer(backend=backend, start=False, **kw)
    try:
        with pytest.raises(RuntimeError) as e:
            s.start()
        return str(e.value)
    finally:
        s.cleanup()


def test_unknown_provider_is_a_startup_error(backend_proc):
    msg = start_fails(backend_proc, location="RagChatAuthProvider nosuch")
    assert "no authn provider named 'nosuch'" in msg, msg


def test_missing_secret_is_a_startup_error(backend_proc):
    msg = start_fails(backend_proc, secret_line=False)
    assert "RagChatSecret" in msg, msg


def test_short_secret_is_a_config_error(backend_proc):
    msg = start_fails(backend_proc, location="RagChatSecret short-secret")
    assert "at least 32 bytes" in msg, msg


def test_env_provider_default_password_warns(make_form_server):
    srv = make_form_server(app_env={"APP_USER": "admin", "APP_PASSWORD": "admin"},
                           allow=[r"RC0302"])
    assert re.search(r"\[ragchat:warn\].*RC0302", srv.error_log())
    s, r = login(srv, "admin", "admin")
    assert r.status_code == 303
    assert "APP_PASSWORD=admin" not in srv.error_log()


def test_env_provider_without_password_accepts_nobody(make_form_server):
    srv = make_form_server(app_env={"APP_USER": "admin"}, allow=[r"RC0301"])
    assert "RC0301" in srv.error_log()
    assert login(srv, "admin", "admin")[1].status_code == 401
    assert login(srv, "alice", srv.users["alice"])[1].status_code == 303


# ---- logs ------------------------------------------------------------------------
def test_log_lines(fs):
    login(fs, "alice", "wrong-" + ENV_PASSWORD)
    log = fs.error_log()
    assert re.search(r"\[ragchat:info\].*RC0334: failed login for 'alice'", log)
    assert re.search(r"\[ragchat:info\].*RC0330: alice logged in", log)
    assert fs.secret not in log and ENV_PASSWORD not in log
    for line in log.splitlines():
        assert "ragchat_session=" not in line
    fs.assert_log_clean()

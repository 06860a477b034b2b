"""RagChatAuth apache behind mod_auth_form: the README's example, for real. The
site's own login (mod_auth_form + mod_session_cookie + mod_session_crypto) sets
r->user, and mod_ragchat trusts it."""
import re

import pytest
import requests

from conftest import HttpdServer

MODULES = "/usr/lib/apache2/modules"
PASSPHRASE = "a long random passphrase for the session cookie 0123456789"


class AuthFormServer(HttpdServer):
    """The suite's server with mod_auth_form in place of Basic auth."""

    def location_config(self):
        lines = [l for l in super().location_config().split("\n")
                 if not re.match(r"\s*(AuthType|AuthName|AuthBasicProvider|AuthUserFile|"
                                 r"Require)\b", l)]
        lines += ["    AuthType form",
                  "    AuthName \"Chat\"",
                  "    AuthFormProvider file",
                  "    AuthUserFile \"%s/htpasswd\"" % self.root,
                  "    AuthFormLoginRequiredLocation /login.html",
                  "    Session On",
                  "    SessionCookieName session path=/;httponly",
                  "    SessionCryptoPassphrase \"%s\"" % PASSPHRASE,
                  "    Require valid-user"]
        return "\n".join(lines)

    def write_config(self):
        self.extra_server = """
<Location /dologin>
    SetHandler form-login-handler
    AuthType form
    AuthName "Chat"
    AuthFormProvider file
    AuthUserFile "%s/htpasswd"
    AuthFormLoginRequiredLocation /login.html
    AuthFormLoginSuccessLocation /chat/
    Session On
    SessionCookieName session path=/;httponly
    SessionCryptoPassphrase "%s"
</Location>
""" % (self.root, PASSPHRASE)
        super().write_config()
        with open(self.conf_path) as f:
            conf = f.read()
        loads = "".join("LoadModule %s_module %s/mod_%s.so\n" % (m, MODULES, m)
                        for m in ("request", "session", "session_cookie", "session_crypto",
                                  "auth_form"))
        conf = conf.replace("LoadModule mime_module", loads + "LoadModule mime_module", 1)
        with open(self.conf_path, "w") as f:
            f.write(conf)


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

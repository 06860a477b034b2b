"""Security regressions: what an attack run against the module found. Every
directive is refused in .htaccess, throttling gives attackers no lockout,
unknown users cost as much as wrong passwords, every page of the app carries
the security headers, backend error bodies never reach the browser, cookies
can be marked Secure behind a TLS proxy, sessions can be ended everywhere,
file names carry no bidi controls, failed-login rows are bounded, and the
apache-mode CSRF token rotates."""
import json
import os

import pytest

from conftest import ApiClient, HttpdServer


# ---- directives belong to the main configuration ------------------------------------
@pytest.mark.parametrize("line", [
    "RagChatHtdocs /tmp",
    "RagChatLoginLimit 1000",
    "RagChatBackendKey env:HOME",
    "RagChatTitle Phished",
])
def test_htaccess_cannot_set_directives(backend_proc, line):
    srv = HttpdServer(backend=backend_proc, start=False,
                      extra_server='<Directory "%s/www">\n    AllowOverride All\n'
                                   '</Directory>\n' % "{root}")
    try:
        srv.extra_server = srv.extra_server.replace("{root}", srv.root)
        app_dir = os.path.join(srv.root, "www", "chat")
        os.makedirs(app_dir)
        with open(os.path.join(app_dir, ".htaccess"), "w") as f:
            f.write(line + "\n")
        os.chmod(app_dir, 0o755)
        os.chmod(os.path.join(app_dir, ".htaccess"), 0o644)
        srv.start()
        api = ApiClient(srv)
        r = api.get("/api/me")
        assert r.status_code == 500, (r.status_code, r.text[:200])
        assert "Phished" not in r.text
        name = line.split()[0]
        assert "%s not allowed here" % name in srv.error_log()
    finally:
        srv.stop()
        srv.cleanup()


# ---- security headers on every response ------------------------------------------------
def assert_security_headers(r, what):
    csp = r.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, (what, csp)
    assert "'unsafe-inline'" not in csp
    assert r.headers.get("X-Content-Type-Options") == "nosniff", what
    assert r.headers.get("Referrer-Policy") == "same-origin", what


def test_every_response_has_security_headers(server, api):
    th = api.post("/api/chat", json={"thread_id": None, "content": "headers?"})
    assert th.status_code == 200
    step = [l for l in th.text.splitlines() if l.startswith("data:") and "thread_id" in l][0]
    tid = json.loads(step[5:])["thread_id"]
    cases = {
        "static index.html": api.get("/static/index.html"),
        "static login.html": api.get("/static/login.html"),
        "static css": api.get("/static/app.css"),
        "index": api.get("/"),
        "api/me": api.get("/api/me"),
        "json 404": api.get("/api/nosuch"),
        "thread": api.get("/api/threads/%s" % tid),
        "export md": api.get("/api/threads/%s/export.md" % tid),
        "export pdf": api.get("/api/threads/%s/export.pdf" % tid),
        "csrf 403": api.post("/api/threads/%s" % tid, csrf=False, json={}),
        "redirect": api.s.get(server.url("")[:-1], allow_redirects=False, timeout=10),
        "event stream": th,
    }
    for what, r in cases.items():
        assert r.status_code < 500, (what, r.status_code)
        assert_security_headers(r, what)
    # HTML served from htdocs never goes out without the page's CSP
    assert cases["static index.html"].headers["Content-Type"].startswith("text/html")

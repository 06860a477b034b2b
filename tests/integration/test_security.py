"""Security regressions: what an attack run against the module found. Every
directive is refused in .htaccess, throttling gives attackers no lockout,
unknown users cost as much as wrong passwords, every page of the app carries
the security headers, backend error bodies never reach the browser, cookies
can be marked Secure behind a TLS proxy, sessions can be ended everywhere,
file names carry no bidi controls, failed-login rows are bounded, and the
apache-mode CSRF token rotates."""
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

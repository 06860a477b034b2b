"""Configuration: a bad directive fails `apache2 -t` with a message naming it,
a missing mod_dbd stops the server at startup, and nested sections merge
directive by directive without moving the app's base path."""
import os
import re
import socket
import subprocess
import time

import pytest

import harness
from conftest import ApiClient, HttpdServer, wait_for

SERVER_OPTIONS = {
    "extra_server": """
<Location /chat/api>
    RagChatTitle "Inner title"
</Location>
<Location /chat/static>
    Header set X-Static-Section yes
</Location>
<Location /other>
    SetHandler ragchat
    RagChatBackend http://127.0.0.1:9
    RagChatAuth apache
    RagChatTitle "Other app"
    RagChatMaxRequestSize 2K
    AuthType Basic
    AuthName "ragchat"
    AuthBasicProvider file
    AuthUserFile "{root}/htpasswd"
    Require valid-user
</Location>
""",
    "extra_location": "RagChatTitle \"Outer title\"\nRagChatMaxRequestSize 64K",
}


@pytest.fixture(scope="module")
def server(make_server, backend_proc):
    # The other app's AuthUserFile names the server root, known only once made.
    s = make_server(start=False, **dict(SERVER_OPTIONS, extra_server=""))
    s.extra_server = SERVER_OPTIONS["extra_server"].replace("{root}", s.root)
    s.start()
    return s


def configtest(server, location_lines):
    """Runs `apache2 -t` on the server's config with extra Location lines."""
    server.extra_location = location_lines
    server.port = server.port or 1
    server.write_config()
    return server.configtest()


@pytest.fixture(scope="module")
def unstarted(backend_proc):
    s = HttpdServer(backend=backend_proc, start=False)
    yield s
    s.cleanup()


@pytest.mark.parametrize("line, message", [
    ("RagChatBackend ftp://example.org", r"RagChatBackend: 'ftp://example.org' is not an http"),
    ("RagChatBackend", r"RagChatBackend takes one argument"),
    ("RagChatBackendTimeout soon", r"RagChatBackendTimeout: 'soon' is not a number of seconds"),
    ("RagChatBackendTimeout 0 5", r"RagChatBackendTimeout: '0' is not a number of seconds"),
    ("RagChatAuth magic", r"RagChatAuth: 'magic' is neither 'apache' nor 'form'"),
    ("RagChatSecret short", r"RagChatSecret: the secret must be at least 32 bytes"),
    ("RagChatBackendKey env:RAGCHAT_SURELY_UNSET_VAR",
     r"RagChatBackendKey: environment variable RAGCHAT_SURELY_UNSET_VAR is not set"),
    ("RagChatBackendKey file:/nonexistent/key", r"RagChatBackendKey: cannot read /nonexistent/key"),
    ("RagChatUploadMaxSize 12Q", r"RagChatUploadMaxSize: '12Q' is not a size"),
    ("RagChatMaxRequestSize -5", r"RagChatMaxRequestSize: '-5' is not a size"),
    ("RagChatUploadMaxFiles many", r"RagChatUploadMaxFiles: 'many' is not a count"),
    ("RagChatHistoryMax 0", r"RagChatHistoryMax: '0' is not a count \(a whole number >= 1\)"),
    ("RagChatHistoryChars 50", r"RagChatHistoryChars: '50' is not a count \(a whole number >= 100\)"),
    ("RagChatHtdocs /nonexistent/htdocs", r"RagChatHtdocs: '/nonexistent/htdocs' is not a directory"),
    ("RagChatPdfFont /nonexistent.ttf", r"RagChatPdfFont: font file '/nonexistent.ttf' not found"),
    ("RagChatPdfFont /etc/hostname", r"RagChatPdfFont: '/etc/hostname' is not a usable font"),
    ("RagChatHtdocs /etc", r"RagChatHtdocs: '/etc' does not hold the app's files \(index.html"),
    ("RagChatUploadTypes .pdf appliction/pdf",
     r"RagChatUploadTypes: 'appliction/pdf' is neither an extension"),
    ("RagChatUploadTypes text/", r"RagChatUploadTypes: 'text/' is neither"),
    ("RagChatUploadTypes .p$f", r"RagChatUploadTypes: '.p\$f' is neither"),
    ("RagChatLoginLimit lots", r"RagChatLoginLimit: 'lots' is not a count"),
    ("RagChatCookieSecure maybe", r"RagChatCookieSecure: 'maybe' is not On, Off or Auto"),
])
def test_bad_value_fails_configtest(unstarted, line, message):
    r = configtest(unstarted, line)
    assert r.returncode != 0, r.stdout + r.stderr
    assert re.search(message, r.stderr), r.stderr


def test_good_config_passes_configtest(unstarted):
    r = configtest(unstarted, "RagChatBackendTimeout 5 60\nRagChatUploadMaxSize 10M\n"
                              "RagChatUploadTypes .pdf text/plain image/* .tar.gz\n"
                              "RagChatModel gpt-x\nRagChatCookieSecure On\n"
                              "RagChatPdfFont /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    assert r.returncode == 0, r.stderr
    assert "Syntax OK" in r.stderr


def test_missing_mod_dbd_is_a_startup_error(unstarted):
    unstarted.extra_location = ""
    unstarted.port = harness.free_port()
    unstarted.write_config()
    with open(unstarted.conf_path) as f:
        conf = f.read()
    conf = "\n".join(l for l in conf.split("\n")
                     if "dbd_module" not in l and not l.startswith("DBD"))
    path = os.path.join(unstarted.root, "nodbd.conf")
    with open(path, "w") as f:
        f.write(conf)
    # configtest already says so, and a start fails with the same message
    t = unstarted.configtest(path)
    assert t.returncode != 0 and "RC0003: mod_ragchat needs mod_dbd" in t.stderr, t.stderr
    r = subprocess.run(["/usr/sbin/apache2", "-f", path, "-k", "start"], capture_output=True,
                       text=True, env=unstarted.env(), timeout=30)
    assert "RC0003: mod_ragchat needs mod_dbd" in r.stderr, r.stderr
    # The server did not stay up: nothing answers on its port.
    time.sleep(0.3)
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", unstarted.port), timeout=1).close()


def test_nested_section_overrides_one_directive(server):
    api = ApiClient(server, "alice")
    me = api.me()
    # <Location /chat/api> changes the title, and the app still answers at /chat.
    assert me["title"] == "Inner title"
    r = api.get("/")
    assert r.status_code == 200 and "<html" in r.text.lower()


def test_nested_section_keeps_the_rest(server):
    api = ApiClient(server, "alice")
    # RagChatMaxRequestSize 64K of the outer section still applies below /chat/api.
    r = api.post("/api/chat", json={"thread_id": None, "content": "x" * (70 * 1024)})
    assert r.status_code == 413, r.text
    # A Header from <Location /chat/static> decorates the app's own assets.
    r = api.get("/static/app.css")
    assert r.status_code == 200 and r.headers.get("X-Static-Section") == "yes"


def test_two_apps_on_one_server(server):
    import requests
    auth = ("alice", server.users["alice"])
    other = requests.get(server.origin + "/other/api/me", auth=auth, timeout=10)
    assert other.status_code == 200 and other.json()["title"] == "Other app"
    chat = requests.get(server.origin + "/chat/api/me", auth=auth, timeout=10)
    assert chat.json()["title"] == "Inner title"
    # Each keeps its own limits: 2K here.
    r = requests.post(server.origin + "/other/api/chat", auth=auth, timeout=10,
                      headers={"X-CSRF-Token": other.json()["csrf"]},
                      json={"thread_id": None, "content": "y" * 4096})
    assert r.status_code == 413


def test_base_without_slash_redirects(server):
    import requests
    r = requests.get(server.origin + "/chat", auth=("alice", server.users["alice"]),
                     allow_redirects=False, timeout=10)
    assert r.status_code == 301 and r.headers["Location"].endswith("/chat/")


def test_graceful_restart_keeps_csrf_tokens(server, backend):
    api = ApiClient(server, "alice")
    token = api.csrf
    subprocess.run(["/usr/sbin/apache2", "-f", server.conf_path, "-k", "graceful"],
                   check=True, env=server.env(), timeout=30)
    # The new generation of children answers with the same token, and an open
    # page's token still works.
    assert wait_for(lambda: ApiClient(server, "alice").me(refresh=True)["csrf"] == token,
                    timeout=10)
    backend.script({"tokens": ["still ", "here"]})
    r = api.post("/api/chat", json={"thread_id": None, "content": "after restart"})
    assert r.status_code == 200 and "still here" in r.text


# ---- configtest catches what would fail at the restart -----------------------------------
def configtest_conf(srv, edit):
    srv.port = harness.free_port()
    srv.write_config()
    with open(srv.conf_path) as f:
        conf = edit(f.read())
    path = os.path.join(srv.root, "edited.conf")
    with open(path, "w") as f:
        f.write(conf)
    return srv.configtest(path)


def test_configtest_names_the_location_of_a_form_app_without_secret(unstarted):
    r = configtest_conf(unstarted, lambda c: c.replace(
        "    RagChatAuth apache", "    RagChatAuth form\n    RagChatAuthProvider file"))
    assert r.returncode != 0
    assert re.search(r"RagChatAuth form in <Location /chat> needs RagChatSecret", r.stderr), r.stderr


def test_configtest_names_an_unknown_provider(unstarted):
    r = configtest_conf(unstarted, lambda c: c.replace(
        "    RagChatAuth apache", "    RagChatAuth apache\n    RagChatAuthProvider nosuch"))
    assert r.returncode != 0
    assert "RagChatAuthProvider in <Location /chat>: no authn provider named 'nosuch'" in r.stderr


def test_configtest_wants_a_database(unstarted):
    r = configtest_conf(unstarted, lambda c: "\n".join(
        l for l in c.split("\n") if not l.startswith("DBD")))
    assert r.returncode != 0
    assert "<Location /chat> serves mod_ragchat but no DBDriver applies" in r.stderr, r.stderr


def test_configtest_refuses_the_app_in_a_directory(unstarted):
    def edit(c):
        block = c[c.index("<Location /chat>"):c.index("</Location>") + len("</Location>")]
        return c.replace(block, block.replace("<Location /chat>", '<Directory "%s/www/chat">'
                                              % unstarted.root).replace("</Location>",
                                                                        "</Directory>"))
    r = configtest_conf(unstarted, edit)
    assert r.returncode != 0
    assert "RagChatBackend inside <Directory" in r.stderr and "<Location>" in r.stderr, r.stderr


def test_configtest_warns_when_uploads_exceed_limit_request_body(unstarted):
    r = configtest_conf(unstarted, lambda c: c.replace(
        "    RagChatAuth apache", "    RagChatAuth apache\n    RagChatUploadMaxSize 20M\n"
        "    LimitRequestBody 1048576"))
    assert r.returncode == 0, r.stderr
    assert re.search(r"RC0008: RagChatUploadMaxSize in <Location /chat> \(20971520 bytes\) "
                     r"is above the LimitRequestBody in force there \(1048576 bytes\)", r.stderr)


def test_configtest_checks_the_default_htdocs(unstarted):
    r = configtest_conf(unstarted, lambda c: "\n".join(
        l for l in c.split("\n") if "RagChatHtdocs" not in l))
    default = "/usr/share/ragchat/htdocs"
    if all(os.path.isfile(os.path.join(default, f)) for f in ("index.html", "login.html")):
        assert r.returncode == 0, r.stderr          # installed by make install or the package
    else:
        assert r.returncode != 0
        assert "<Location /chat> has no RagChatHtdocs and the default %s lacks" % default \
            in r.stderr, r.stderr

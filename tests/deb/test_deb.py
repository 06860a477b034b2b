"""The Debian package on this machine's apache2 (`make test-deb`, as root).

The tests run in order, each on the state the previous one left (pytest -x):
the package built by `make deb` is installed with dpkg -i, enabled with
a2enmod, checked with apache2ctl; reinstalled over an edited ragchat.conf,
which stays; a private httpd built from the installed files and the example
site serves one chat through a fake backend; then the package is purged and
nothing of it may remain.

This machine's apache2 service is never started or reloaded: its configuration
is only tested (apache2ctl -t). The maintainer scripts restart a running
apache2 when removal disables an enabled module; their invoke-rc.d calls go to
a stand-in that records them. What the test enabled (ragchat, and mod_dbd with
it) is disabled again and a2enmod's state in /var/lib/apache2 is put back as it
was, also when a test fails.

RAGCHAT_DEB: the package to test (default: build/deb/<package>_<version>_<arch>.deb).
"""
import os
import re
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

import pytest
import requests

TESTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TESTS)

import harness  # noqa: E402

REPO = harness.REPO
PKG = "libapache2-mod-ragchat"
MODULE = "/usr/lib/apache2/modules/mod_ragchat.so"
MODS_AVAILABLE = "/etc/apache2/mods-available"
MODS_ENABLED = "/etc/apache2/mods-enabled"
CONF = MODS_AVAILABLE + "/ragchat.conf"
HTDOCS = "/usr/share/ragchat/htdocs"
DOC = "/usr/share/doc/" + PKG
EXAMPLE = DOC + "/examples/ragchat-site.conf"
STATE = "/var/lib/apache2/module"
SYSTEM_PIDFILE = "/run/apache2/apache2.pid"
# Everything the package may put on the system, enabled or not.
OURS = [MODULE, MODS_AVAILABLE + "/ragchat.load", CONF, MODS_ENABLED + "/ragchat.load",
        MODS_ENABLED + "/ragchat.conf", "/usr/share/ragchat", DOC]
EDIT_WELCOME = "Hello from the edited ragchat.conf"
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def run(cmd, env=None, check=True, timeout=180):
    p = subprocess.run(cmd, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=timeout)
    if check:
        assert p.returncode == 0, "%s: exit %d\n%s%s" % (" ".join(cmd), p.returncode,
                                                         p.stdout, p.stderr)
    return p


def version_h():
    """RAGCHAT_VERSION, wherever the header defining it lives."""
    for base, _, files in os.walk(os.path.join(REPO, "src")):
        for n in files:
            if n.endswith(".h"):
                with open(os.path.join(base, n)) as f:
                    m = re.search(r'^#define RAGCHAT_VERSION "([^"]+)"', f.read(), re.M)
                if m:
                    return m.group(1)
    raise AssertionError("no RAGCHAT_VERSION in src/")


def deb_version():
    return run(["dpkg-parsechangelog", "-l", os.path.join(REPO, "debian", "changelog"),
                "-S", "Version"]).stdout.strip()


def deb_path():
    if os.environ.get("RAGCHAT_DEB"):
        return os.environ["RAGCHAT_DEB"]
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    return os.path.join(REPO, "build", "deb", "%s_%s_%s.deb" % (PKG, deb_version(), arch))


def pkg_status():
    """dpkg's two-letter status ("ii", "rc", ...), "" when dpkg does not know it."""
    p = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", PKG], check=False)
    return p.stdout.strip() if p.returncode == 0 else ""


def system_apache_running():
    try:
        with open(SYSTEM_PIDFILE) as f:
            pid = int(f.read().strip() or 0)
    except (OSError, ValueError):
        return False
    return pid > 0 and harness._pid_alive(pid)


def enabled_modules():
    return {n: os.readlink(os.path.join(MODS_ENABLED, n))
            for n in os.listdir(MODS_ENABLED)
            if os.path.islink(os.path.join(MODS_ENABLED, n))}


def state_tree():
    """a2enmod's markers: {relative path: "d" or "f"} under /var/lib/apache2/module."""
    out = {}
    for base, dirs, files in os.walk(STATE):
        for n in dirs:
            out[os.path.relpath(os.path.join(base, n), STATE)] = "d"
        for n in files:
            out[os.path.relpath(os.path.join(base, n), STATE)] = "f"
    return out


def enabled(name):
    return run(["a2query", "-q", "-m", name], check=False).returncode == 0


class System:
    """This machine's apache2 as the test found it, and what dpkg runs with."""

    def __init__(self):
        self.tmp = tempfile.mkdtemp(prefix="ragchat-deb-")
        self.rcd_log = os.path.join(self.tmp, "invoke-rc.d.log")
        shim = os.path.join(self.tmp, "bin")
        os.makedirs(shim)
        with open(os.path.join(shim, "invoke-rc.d"), "w") as f:
            f.write('#!/bin/sh\necho "$*" >> "%s"\nexit 0\n' % self.rcd_log)
        os.chmod(os.path.join(shim, "invoke-rc.d"), 0o755)
        self.env = dict(os.environ, PATH=shim + ":" + SYSTEM_PATH,
                        DEBIAN_FRONTEND="noninteractive")
        self.modules = enabled_modules()
        self.state = state_tree()
        self.running = system_apache_running()
        self.dbd_was_enabled = enabled("dbd")

    def dpkg(self, *args, check=True):
        """dpkg with the invoke-rc.d stand-in; waits for the dpkg lock (apt at work)."""
        deadline = time.monotonic() + 120
        while True:
            p = run(["dpkg"] + list(args), env=self.env, check=False)
            if p.returncode == 0 or "lock" not in p.stderr or time.monotonic() > deadline:
                break
            time.sleep(2)
        if check:
            assert p.returncode == 0, "dpkg %s: exit %d\n%s%s" % (" ".join(args), p.returncode,
                                                                 p.stdout, p.stderr)
        return p

    def restore(self):
        """Purges the package and puts back what a2enmod changed (idempotent)."""
        if pkg_status():
            self.dpkg("--purge", PKG, check=False)
        if not self.dbd_was_enabled and enabled("dbd"):
            run(["a2dismod", "-q", "-f", "dbd"], check=False)
        now = state_tree()
        for rel in sorted(set(now) - set(self.state), reverse=True):
            path = os.path.join(STATE, rel)
            if now[rel] == "f":
                os.unlink(path)
            else:
                try:
                    os.rmdir(path)
                except OSError:
                    pass
        for rel in sorted(set(self.state) - set(now)):
            path = os.path.join(STATE, rel)
            if self.state[rel] == "d":
                os.makedirs(path, exist_ok=True)
            else:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                open(path, "a").close()

    def cleanup(self):
        self.restore()
        shutil.rmtree(self.tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def system():
    if os.geteuid() != 0:
        pytest.fail("the package test installs and purges a package: run it as root")
    status = pkg_status()
    if status:
        pytest.fail("%s is already on this machine (dpkg status %s); the test installs and "
                    "purges it: remove it first (dpkg --purge %s)" % (PKG, status, PKG))
    stray = [p for p in OURS if os.path.lexists(p)]
    if stray:
        pytest.fail("files of mod_ragchat that no package owns (make install?) would be "
                    "replaced and removed: %s" % ", ".join(stray))
    deb = deb_path()
    if not os.path.exists(deb):
        pytest.fail("%s is missing: run `make deb`" % deb)
    s = System()
    s.deb = deb
    try:
        yield s
    finally:
        s.cleanup()


# ---------------------------------------------------------------------------
def test_package_fields(system):
    """What `make deb` built: version, dependencies, conffiles, files."""
    info = run(["dpkg-deb", "-f", system.deb, "Package", "Version", "Depends",
                "Recommends", "Suggests"]).stdout
    fields = dict(l.split(": ", 1) for l in info.strip().split("\n"))
    assert fields["Package"] == PKG
    assert fields["Version"].split(":")[-1].rsplit("-", 1)[0] == version_h(), fields
    depends = fields["Depends"]
    for dep in ("apache2-api-", "libaprutil1-dbd-sqlite3", "libcurl", "libjansson",
                "libharfbuzz0b", "libharfbuzz-subset0", "libfribidi0", "libfontconfig1"):
        assert dep in depends, depends
    for font in ("fonts-dejavu-core", "fonts-noto-core", "fonts-wqy-zenhei", "fonts-symbola"):
        assert font in fields["Recommends"], fields["Recommends"]
    assert "libaprutil1-dbd-pgsql" in fields["Suggests"]

    ctl = os.path.join(system.tmp, "control")
    run(["dpkg-deb", "-e", system.deb, ctl])
    with open(os.path.join(ctl, "conffiles")) as f:
        assert sorted(f.read().split()) == [CONF, MODS_AVAILABLE + "/ragchat.load"]

    files = {l.split()[-1].lstrip(".") for l in run(["dpkg-deb", "-c", system.deb]).stdout.splitlines()}
    for path in (MODULE, HTDOCS + "/index.html", HTDOCS + "/js/main.js", EXAMPLE,
                 DOC + "/copyright", "/usr/sbin/ragchat-migrate", "/usr/sbin/ragchat-end-sessions",
                 "/usr/share/man/man8/ragchat-migrate.8.gz",
                 "/usr/share/man/man8/ragchat-end-sessions.8.gz"):
        assert path in files, path
    assert any(p.startswith(DOC + "/README") for p in files), sorted(files)


def test_install_enable_configtest(system):
    p = system.dpkg("-i", system.deb, check=False)
    if p.returncode != 0:
        # Dependencies missing on this machine: apt brings them and configures us.
        assert pkg_status() in ("iU", "iF"), p.stdout + p.stderr
        run(["apt-get", "install", "-f", "-y", "-q", "--no-install-recommends"],
            env=system.env, timeout=600)
    assert pkg_status() == "ii"

    assert os.path.isfile(MODULE)
    with open(os.path.join(MODS_AVAILABLE, "ragchat.load")) as f:
        load = f.read()
    assert re.search(r"^# Depends: dbd$", load, re.M), load
    assert re.findall(r"^\s*LoadModule\s+(\S+)", load, re.M) == ["ragchat_module"], load
    # The app's files, subfolders included, are those of the tree.
    src = os.path.join(REPO, "htdocs")
    for base, _, files in os.walk(src):
        for n in files:
            rel = os.path.relpath(os.path.join(base, n), src)
            with open(os.path.join(src, rel), "rb") as a, open(os.path.join(HTDOCS, rel), "rb") as b:
                assert a.read() == b.read(), rel
    assert os.path.isfile(EXAMPLE)

    # Installed, not enabled: that is the admin's step.
    assert not enabled("ragchat")
    run(["a2enmod", "ragchat"])
    assert enabled("ragchat") and enabled("dbd")
    assert os.path.islink(os.path.join(MODS_ENABLED, "ragchat.conf"))
    out = run(["apache2ctl", "-t"])
    assert "Syntax OK" in out.stdout + out.stderr
    # The system configuration loads the installed module (a config test: no server starts).
    mods = run(["apache2ctl", "-M"]).stdout
    assert re.search(r"^\s*ragchat_module \(shared\)", mods, re.M), mods
    assert re.search(r"^\s*dbd_module \(shared\)", mods, re.M), mods


def test_reinstall_keeps_edited_conf(system):
    with open(CONF) as f:
        original = f.read()
    edited = original + '\n# Local change.\nRagChatWelcome "%s"\n' % EDIT_WELCOME
    with open(CONF, "w") as f:
        f.write(edited)

    system.dpkg("-i", system.deb)
    assert pkg_status() == "ii"
    with open(CONF) as f:
        assert f.read() == edited
    leftovers = [n for n in os.listdir(MODS_AVAILABLE) if n.startswith("ragchat.")
                 and n not in ("ragchat.conf", "ragchat.load")]
    assert not leftovers, leftovers
    assert enabled("ragchat"), "a reinstall must not disable the module"
    run(["apache2ctl", "-t"])


class PackagedSite(harness.HttpdServer):
    """A private httpd on a free loopback port made of the installed package: the
    module, ragchat.load and the edited ragchat.conf through the links a2enmod
    made, the htdocs of /usr/share/ragchat, and the example site with this
    server's paths. Its files live in a temp ServerRoot that www-data can read,
    the database in a directory www-data owns."""

    SUBSTITUTIONS = ["<VirtualHost *:80>", "/var/lib/ragchat/chat_history.db",
                     "/etc/apache2/ragchat.htpasswd", "/etc/apache2/ragchat.secret",
                     "/etc/apache2/ragchat-backend.key", "http://127.0.0.1:8080"]

    def __init__(self, backend, example):
        self.example = example
        # ragchat=False: the harness neither copies the tree's module nor writes
        # its own <Location>; write_config below is this server's whole config.
        super().__init__(backend=backend, ragchat=False, start=False)
        for name, value in (("secret", secrets.token_hex(32)),
                            ("backend.key", backend.key)):
            # Read once by root at startup, as the example says: no access for www-data.
            path = os.path.join(self.root, name)
            with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                f.write(value + "\n")
        try:
            self.start()
        except Exception:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _copy_htdocs(self):
        pass  # the installed htdocs are served

    def write_config(self):
        root = self.root
        news = ["<VirtualHost *:%d>" % self.port, root + "/data/chat_history.db",
                root + "/htpasswd", root + "/secret", root + "/backend.key", self.backend.url]
        site = self.example
        for old, new in zip(self.SUBSTITUTIONS, news):
            assert old in site, "the example site has no %r any more: adapt %s" % (old, __file__)
            site = site.replace(old, new)
        with open(os.path.join(root, "site.conf"), "w") as f:
            f.write(site)
        modules = harness.MODULES
        conf = """\
ServerRoot "{root}"
PidFile "{root}/run/httpd.pid"
DefaultRuntimeDir "{root}/run"
Mutex file:{root}/run default
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
User www-data
Group www-data
Define APACHE_LOG_DIR {root}/logs
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authn_file_module {modules}/mod_authn_file.so
LoadModule alias_module {modules}/mod_alias.so
LoadModule mime_module {modules}/mod_mime.so
# What `a2enmod ragchat` enabled, included as Debian's apache2.conf does.
Include {enabled}/dbd.load
Include {enabled}/ragchat.load
Include {enabled}/ragchat.conf
ErrorLog "{root}/logs/error.log"
LogLevel warn ragchat:info
LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{{Referer}}i\\" \\"%{{User-Agent}}i\\"" combined
TypesConfig /etc/mime.types
Timeout 30
StartServers 1
ServerLimit 2
ThreadsPerChild 10
MinSpareThreads 5
MaxSpareThreads 20
MaxRequestWorkers 20
<Directory />
    AllowOverride None
    Require all denied
</Directory>
Include "{root}/site.conf"
""".format(root=root, port=self.port, modules=modules, enabled=MODS_ENABLED)
        with open(self.conf_path, "w") as f:
            f.write(conf)

    def site_error_log(self):
        try:
            with open(os.path.join(self.root, "logs", "ragchat-error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""


def form_token(html):
    m = re.search(r'<input\b[^>]*\bname="csrf"[^>]*\bvalue="([^"]*)"', html)
    return m.group(1) if m else None


def test_serves_a_chat_with_the_example_site(system):
    with open(EXAMPLE) as f:
        example = f.read()
    with harness.FakeBackend() as backend:
        server = PackagedSite(backend, example)
        try:
            s = requests.Session()
            r = s.get(server.origin + "/", allow_redirects=False, timeout=10)
            assert r.status_code == 302 and r.headers["Location"].endswith("/chat/"), r.headers
            r = s.get(server.url("/"), allow_redirects=False, timeout=10)
            assert r.status_code == 303 and r.headers["Location"].endswith("/chat/login")

            page = s.get(server.url("/login"), timeout=10)
            assert page.status_code == 200, page.text[:300]
            r = s.post(server.url("/login"), allow_redirects=False, timeout=20,
                       data={"username": "alice", "password": server.users["alice"],
                             "csrf": form_token(page.text)})
            assert r.status_code == 303, (r.status_code, r.text[:300])

            r = s.get(server.url("/static/js/main.js"), timeout=10)
            assert r.status_code == 200
            with open(os.path.join(HTDOCS, "js", "main.js"), "rb") as f:
                assert r.content == f.read()

            me = s.get(server.url("/api/me"), timeout=10).json()
            assert me["user"] == "alice"
            assert me["version"] == version_h()
            assert me["welcome"] == EDIT_WELCOME, "the edited ragchat.conf is in effect"

            r = s.post(server.url("/api/chat"), stream=True, timeout=30,
                       headers={"X-CSRF-Token": me["csrf"]},
                       json={"thread_id": None, "content": "hello from the package"})
            assert r.status_code == 200, r.text[:300]
            with r:
                events = list(harness.sse_events(r))
            names = [e[0] for e in events]
            assert names[0] == "thread" and names[-1] == "done", names
            assert "token" in names, names
            done = events[-1][1]
            assert done["content"] == "Echo: hello from the package", done
            thread_id = events[0][1]["thread_id"]

            sent = backend.chat_requests()
            assert len(sent) == 1
            auth = {k.lower(): v for k, v in sent[0]["headers"].items()}["authorization"]
            assert auth == "Bearer " + backend.key

            con = sqlite3.connect("file:%s?mode=ro" % server.db_path, uri=True, timeout=5)
            try:
                rows = con.execute('SELECT "type", "output" FROM steps WHERE "threadId" = ? '
                                   'ORDER BY "createdAt"', (thread_id,)).fetchall()
            finally:
                con.close()
            assert rows == [("user_message", "hello from the package"),
                            ("assistant_message", "Echo: hello from the package")], rows
        finally:
            server.stop()
            log, site_log = server.error_log(), server.site_error_log()
            bad = server.bad_log_lines()
            server.cleanup()
        startup = [l for l in log.splitlines() if "RC0007:" in l]
        assert startup and ("mod_ragchat/%s" % version_h()) in startup[0], log
        assert not bad, "error log:\n" + "\n".join(bad)
        bad_site = [l for l in site_log.splitlines() if harness.BAD_LEVEL.search(l)]
        assert not bad_site, "site error log:\n" + "\n".join(bad_site)


def test_purge_leaves_nothing(system):
    owned = run(["dpkg-query", "-L", PKG]).stdout.split("\n")
    system.dpkg("--purge", PKG)
    assert pkg_status() == ""
    left = [p for p in OURS if os.path.lexists(p)]
    left += [p for p in owned if p and os.path.lexists(p) and not os.path.isdir(p)]
    left += [os.path.join(base, n) for base, _, files in os.walk(STATE) for n in files
             if n == "ragchat"]
    left += [n for n in os.listdir("/var/lib/dpkg/info") if n.startswith(PKG + ".")]
    assert not left, "left behind: %s" % left
    assert not enabled("ragchat")
    run(["apache2ctl", "-t"])

    # Undo what the test's a2enmod did besides ragchat, and compare with the start.
    system.restore()
    assert enabled_modules() == system.modules
    assert state_tree() == system.state
    run(["apache2ctl", "-t"])
    assert system_apache_running() == system.running, \
        "the system apache2 was %s before the test" % ("running" if system.running else "stopped")
    if os.path.exists(system.rcd_log):
        with open(system.rcd_log) as f:
            print("maintainer scripts asked invoke-rc.d for:", f.read().split("\n"))

#!/usr/bin/python3
"""Real-httpd test harness for mod_ragchat.

Importable (``HttpdServer``, ``FakeBackend``) and a CLI:

    /usr/bin/python3 tests/harness.py serve [--auth apache|form] [--port N]
        [--mpm event|prefork] [--http2] [--backend URL|builtin] [--no-ragchat]
        [--extra-location LINE]...

starts a fake backend and a private httpd, prints one JSON line
``{"url", "backend", "root", "users"}`` and runs until SIGTERM/SIGINT or until
stdin reaches EOF (stdin is watched only when it is a pipe, socket or tty).

Environment: RAGCHAT_MODULE (default <repo>/build/mod_ragchat.so),
RAGCHAT_DB=pgsql (every server on a fresh database of a private PostgreSQL
cluster, tests/pgcluster.py, started once per process; default sqlite3),
RAGCHAT_ASAN=1 (LD_PRELOAD libasan into httpd; any <root>/logs/asan.* file
fails the suites), RAGCHAT_KEEP_ROOT=1 (keep the temp server root after stop).
"""
import argparse
import atexit
import json
import os
import pwd
import re
import secrets
import select
import shutil
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
APACHE = "/usr/sbin/apache2"
MODULES = "/usr/lib/apache2/modules"
PYTHON = "/usr/bin/python3"
TEST_KEY = "test-key-123"
USERS = {"alice": "alice-pw", "bob": "bob-pw"}

# Error-log lines that are always acceptable: shutdown chatter of httpd itself.
ALWAYS_ALLOWED = [
    r"AH00170",            # caught SIGWINCH, shutting down gracefully
    r"AH00169",            # caught SIGTERM, shutting down
    r"AH00489", r"AH00094",  # resuming normal operations / command line
    r"AH00558",            # could not determine the fully qualified domain name
]

BAD_LEVEL = re.compile(r"\[(?:[\w.-]+:)?(warn|error|crit|alert|emerg)\]")
BAD_TEXT = re.compile(r"AddressSanitizer|exit signal (Segmentation|Aborted|Bus|Illegal)"
                      r"|child pid \d+ exit signal")


def free_port():
    """A free loopback port (bind to port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def db_driver():
    """The driver servers use unless told: RAGCHAT_DB=pgsql or sqlite3 (default)."""
    d = os.environ.get("RAGCHAT_DB") or "sqlite3"
    if d not in ("sqlite3", "pgsql"):
        raise RuntimeError("RAGCHAT_DB must be sqlite3 or pgsql, not %r" % d)
    return d


_PG = {"cluster": None}


def pg_cluster():
    """The process's private PostgreSQL cluster, started on first use and stopped
    at exit (stop_pg_cluster)."""
    if _PG["cluster"] is None:
        if HERE not in sys.path:
            sys.path.insert(0, HERE)
        from pgcluster import PgCluster
        _PG["cluster"] = PgCluster()
        atexit.register(stop_pg_cluster)
    return _PG["cluster"]


def stop_pg_cluster():
    c, _PG["cluster"] = _PG["cluster"], None
    if c:
        c.stop()


def module_path():
    return os.environ.get("RAGCHAT_MODULE") or os.path.join(REPO, "build", "mod_ragchat.so")


def asan_mode():
    return os.environ.get("RAGCHAT_ASAN") == "1"


def _www_data():
    try:
        pw = pwd.getpwnam("www-data")
        return pw.pw_uid, pw.pw_gid
    except KeyError:
        return None


def _chown_tree(path, ids):
    if not ids:
        return
    os.chown(path, *ids)
    for base, dirs, files in os.walk(path):
        for n in dirs + files:
            try:
                os.chown(os.path.join(base, n), *ids)
            except OSError:
                pass


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie counts as gone.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# ---------------------------------------------------------------------------
class FakeBackend:
    """tests/fake_backend.py running as a subprocess on a free loopback port."""

    def __init__(self, key=TEST_KEY):
        self.key = key
        cmd = [PYTHON, os.path.join(HERE, "fake_backend.py"), "--port", "0", "--exit-on-eof"]
        if key:
            cmd += ["--key", key]
        # stdin is a pipe held by this process: the backend exits when we do.
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stdin=subprocess.PIPE,
                                     env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"})
        ready, _, _ = select.select([self.proc.stdout], [], [], 10)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("PORT="):
            self.proc.kill()
            raise RuntimeError("fake backend did not start: %r" % line)
        self.port = int(line.strip().split("=", 1)[1])
        self.url = "http://127.0.0.1:%d" % self.port

    def _call(self, method, path, obj=None, timeout=10):
        data = json.dumps(obj).encode() if obj is not None else b""
        req = urllib.request.Request(self.url + path, data=data if method != "GET" else None,
                                     method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read() or b"null")

    def script(self, *scripts):
        """Queue answers: script({...}, {...}) or script([{...}, ...])."""
        if len(scripts) == 1 and isinstance(scripts[0], list):
            scripts = scripts[0]
        return self._call("POST", "/_script", list(scripts))

    def release(self):
        return self._call("POST", "/_release", {})

    def reset(self):
        return self._call("POST", "/_reset", {})

    def requests(self, path=None):
        reqs = self._call("GET", "/_requests")
        return [r for r in reqs if path is None or r["path"] == path]

    def chat_requests(self):
        return self.requests("/v1/chat/completions")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if self.proc and self.proc.stdin:
            self.proc.stdin.close()
        self.proc = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


# ---------------------------------------------------------------------------
CONF_TEMPLATE = """\
ServerRoot "{root}"
PidFile "{root}/run/httpd.pid"
DefaultRuntimeDir "{root}/run"
Mutex file:{root}/run default
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
{user_group}
LoadModule mpm_{mpm}_module {modules}/mod_mpm_{mpm}.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule authz_user_module {modules}/mod_authz_user.so
LoadModule authn_core_module {modules}/mod_authn_core.so
LoadModule authn_file_module {modules}/mod_authn_file.so
LoadModule auth_basic_module {modules}/mod_auth_basic.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule dbd_module {modules}/mod_dbd.so
LoadModule headers_module {modules}/mod_headers.so
LoadModule filter_module {modules}/mod_filter.so
LoadModule deflate_module {modules}/mod_deflate.so
{http2_load}{proxy_load}{ragchat_load}
ErrorLog "{root}/logs/error.log"
LogLevel {loglevel}
TypesConfig /etc/mime.types
DocumentRoot "{root}/www"
Timeout 30
KeepAlive On
{mpm_conf}
{http2_conf}
{dbd}
DBDPersist On

<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{root}/www">
    Require all granted
</Directory>

<Location {base}>
{location}
</Location>
{extra_server}
"""

MPM_CONF = {
    "event": """\
StartServers 2
ServerLimit 4
ThreadsPerChild 25
MinSpareThreads 10
MaxSpareThreads 75
MaxRequestWorkers 100
MaxConnectionsPerChild 0
""",
    "prefork": """\
StartServers 3
MinSpareServers 2
MaxSpareServers 6
ServerLimit 12
MaxRequestWorkers 12
MaxConnectionsPerChild 0
""",
    "worker": """\
StartServers 2
ServerLimit 4
ThreadsPerChild 25
MinSpareThreads 10
MaxSpareThreads 75
MaxRequestWorkers 100
""",
}


class HttpdServer:
    """A private httpd with mod_ragchat on a free loopback port.

    Options:
      backend       FakeBackend (its URL is used) or None
      backend_url   URL overriding the backend's (e.g. a closed port)
      auth          "apache" (Basic auth, RagChatAuth apache) or "form"
      mpm           "event" (default), "prefork" or "worker"
      http2         True: load mod_http2 with "Protocols h2c http/1.1"
      deflate       True: SetOutputFilter DEFLATE + AddOutputFilterByType in the Location
      proxy         True: load mod_proxy and mod_proxy_http
      extra_location / extra_server   config text added in / after the Location
      ragchat       False: no LoadModule ragchat nor RagChat* lines (harness self-test)
      timeouts      (connect, idle) of RagChatBackendTimeout, default (2, 3)
      key           backend key exported as RAGCHAT_TEST_KEY (None: no key line)
      db            "sqlite3" or "pgsql" (default: RAGCHAT_DB, else sqlite3)
      pg_database   pgsql: use this existing database of the cluster (another
                    server's, for several nodes on one database) instead of a
                    fresh one; it is not dropped at cleanup
      init_sql      SQL run on the database before httpd starts (sqlite3's
                    executescript, or one psql-style script on PostgreSQL)
      port          listen port (default: a free one)
      base          location path (default /chat)
      loglevel      LogLevel (default "warn ragchat:info")
      start         False: prepare the root, start() later
    """

    def __init__(self, backend=None, backend_url=None, auth="apache", mpm="event",
                 http2=False, deflate=False, proxy=False, extra_location="",
                 extra_server="", ragchat=True, timeouts=(2, 3), key=TEST_KEY,
                 init_sql=None, port=None, base="/chat", loglevel="warn ragchat:info",
                 module=None, start=True, db=None, pg_database=None):
        self.backend = backend
        self.backend_url = backend_url or (backend.url if backend else "http://127.0.0.1:9")
        self.auth = auth
        self.mpm = mpm
        self.http2 = http2
        self.deflate = deflate
        self.proxy = proxy
        self.extra_location = extra_location
        self.extra_server = extra_server
        self.ragchat = ragchat
        self.timeouts = timeouts
        self.key = key
        self.base = base
        self.loglevel = loglevel
        self.module = module or module_path()
        self.fixed_port = port
        self.asan = asan_mode()
        self.secret = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                             "0123456789") for _ in range(48))
        self.users = dict(USERS)
        self.pid = None
        self.port = None
        self.root = tempfile.mkdtemp(prefix="ragchat-httpd-")
        os.chmod(self.root, 0o755)
        for d in ("run", "logs", "data", "www"):
            os.makedirs(os.path.join(self.root, d))
        self.db_path = os.path.join(self.root, "data", "chat_history.db")
        self.conf_path = os.path.join(self.root, "httpd.conf")
        self.driver = db or (pg_database and "pgsql") or db_driver()
        self.pg = None
        self.pg_database = None
        self.pg_owned = False
        if self.driver == "pgsql":
            self.pg = pg_cluster()
            self.pg_database = pg_database or self.pg.create_db()
            self.pg_owned = pg_database is None
        self._copy_htdocs()
        self._make_htpasswd()
        if init_sql:
            if self.driver == "pgsql":
                con = self.pg.connect(self.pg_database, user="ragchat")
                con.autocommit = True
                con.cursor().execute(init_sql)
                con.close()
            else:
                con = sqlite3.connect(self.db_path)
                con.executescript(init_sql)
                con.commit()
                con.close()
        self._fix_owners()
        if ragchat and not os.path.exists(self.module):
            shutil.rmtree(self.root, ignore_errors=True)
            raise RuntimeError("mod_ragchat is missing: %s (run `make` in %s, or set "
                               "RAGCHAT_MODULE)" % (self.module, REPO))
        if ragchat:
            # A private copy: `make` rewrites build/mod_ragchat.so in place, which
            # would crash a running httpd that has it mapped.
            snap = os.path.join(self.root, "mod_ragchat.so")
            shutil.copy2(self.module, snap)
            self.module_source, self.module = self.module, snap
        if start:
            try:
                self.start()
            except Exception:
                if os.environ.get("RAGCHAT_KEEP_ROOT") != "1":
                    shutil.rmtree(self.root, ignore_errors=True)
                raise

    # ---- preparation -------------------------------------------------------
    def _copy_htdocs(self):
        src = os.path.join(REPO, "htdocs")
        dst = os.path.join(self.root, "htdocs")
        if os.path.isdir(src):
            shutil.copytree(src, dst)
        else:
            os.makedirs(dst)
        for base, dirs, files in os.walk(dst):
            os.chmod(base, 0o755)
            for f in files:
                os.chmod(os.path.join(base, f), 0o644)

    def _make_htpasswd(self):
        path = os.path.join(self.root, "htpasswd")
        first = True
        for user, pw in self.users.items():
            cmd = ["htpasswd", "-b", "-B", "-C", "5"] + (["-c"] if first else []) + [path, user, pw]
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            first = False
        os.chmod(path, 0o644)

    def _fix_owners(self):
        if os.geteuid() == 0:
            ids = _www_data()
            _chown_tree(os.path.join(self.root, "data"), ids)
            _chown_tree(os.path.join(self.root, "logs"), ids)

    def location_config(self):
        lines = []
        if self.ragchat:
            lines += ["    SetHandler ragchat",
                      "    RagChatBackend %s" % self.backend_url]
            if self.key is not None:
                lines.append("    RagChatBackendKey env:RAGCHAT_TEST_KEY")
            if self.timeouts:
                lines.append("    RagChatBackendTimeout %d %d" % tuple(self.timeouts))
            lines.append("    RagChatHtdocs \"%s/htdocs\"" % self.root)
        if self.auth == "form":
            if self.ragchat:
                lines += ["    RagChatAuth form",
                          "    RagChatAuthProvider file",
                          "    RagChatSecret %s" % self.secret]
            lines.append("    AuthUserFile \"%s/htpasswd\"" % self.root)
        else:
            if self.ragchat:
                lines.append("    RagChatAuth apache")
            lines += ["    AuthType Basic",
                      "    AuthName \"ragchat\"",
                      "    AuthBasicProvider file",
                      "    AuthUserFile \"%s/htpasswd\"" % self.root,
                      "    Require valid-user"]
        if self.deflate:
            lines += ["    AddOutputFilterByType DEFLATE text/html application/json "
                      "text/event-stream",
                      "    SetOutputFilter DEFLATE"]
        if self.extra_location:
            lines += ["    " + l for l in self.extra_location.strip("\n").split("\n")]
        return "\n".join(lines)

    def dbd_config(self):
        if self.driver == "pgsql":
            return 'DBDriver pgsql\nDBDParams "%s"' % self.pg.dbd_params(self.pg_database)
        return 'DBDriver sqlite3\nDBDParams "%s"' % self.db_path

    def write_config(self):
        root = self.root
        user_group = "User www-data\nGroup www-data" if os.geteuid() == 0 else ""
        conf = CONF_TEMPLATE.format(
            root=root, port=self.port, user_group=user_group, mpm=self.mpm,
            modules=MODULES,
            http2_load=("LoadModule http2_module %s/mod_http2.so\n" % MODULES) if self.http2 else "",
            proxy_load=("LoadModule proxy_module %s/mod_proxy.so\n"
                        "LoadModule proxy_http_module %s/mod_proxy_http.so\n"
                        % (MODULES, MODULES)) if self.proxy else "",
            ragchat_load=("LoadModule ragchat_module \"%s\"\n" % self.module) if self.ragchat else "",
            loglevel=self.loglevel if self.ragchat else re.sub(r"\s*ragchat:\S+", "", self.loglevel),
            mpm_conf=MPM_CONF[self.mpm],
            http2_conf="Protocols h2c http/1.1\nH2Direct on" if self.http2 else "",
            dbd=self.dbd_config(), base=self.base, location=self.location_config(),
            extra_server=self.extra_server)
        with open(self.conf_path, "w") as f:
            f.write(conf)

    def env(self):
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C"}
        if self.key is not None:
            env["RAGCHAT_TEST_KEY"] = self.key
        if self.asan:
            lib = subprocess.run(["gcc", "-print-file-name=libasan.so"], capture_output=True,
                                 text=True).stdout.strip()
            env["LD_PRELOAD"] = lib
            env["ASAN_OPTIONS"] = ("detect_leaks=0:abort_on_error=0:log_path=%s/logs/asan"
                                   % self.root)
        return env

    def configtest(self, conf_path=None):
        """`apache2 -t` on the written config (or on conf_path): what
        `apache2ctl configtest` says of it."""
        return subprocess.run([APACHE, "-t", "-f", conf_path or self.conf_path],
                              capture_output=True, text=True, env=self.env(), timeout=30)

    # ---- lifecycle ---------------------------------------------------------
    def start(self, timeout=10):
        attempts = 1 if self.fixed_port else 3
        last = None
        for _ in range(attempts):
            self.port = self.fixed_port or free_port()
            self.write_config()
            try:
                self._start_once(timeout)
                return self
            except RuntimeError as e:
                last = e
                if "Address already in use" not in str(e):
                    break
        raise last

    def _start_once(self, timeout):
        pidfile = os.path.join(self.root, "run", "httpd.pid")
        p = subprocess.run([APACHE, "-f", self.conf_path, "-k", "start"], env=self.env(),
                           capture_output=True, text=True, timeout=30)
        if p.returncode != 0:
            raise RuntimeError("httpd failed to start (rc=%d):\n%s%s\n--- error.log ---\n%s"
                               % (p.returncode, p.stdout, p.stderr, self.error_log()))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.pid is None and os.path.exists(pidfile):
                try:
                    with open(pidfile) as f:
                        self.pid = int(f.read().strip() or 0) or None
                except (OSError, ValueError):
                    pass
            if self.pid is not None and not _pid_alive(self.pid):
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    if self.pid is not None:
                        return
            except OSError:
                pass
            time.sleep(0.05)
        log = self.error_log()
        self.stop()
        raise RuntimeError("httpd did not answer on port %d within %ss\n--- error.log ---\n%s"
                           % (self.port, timeout, log))

    def _children(self):
        kids = []
        if not self.pid:
            return kids
        for d in os.listdir("/proc"):
            if d.isdigit():
                try:
                    with open("/proc/%s/stat" % d) as f:
                        fields = f.read().rsplit(")", 1)[1].split()
                    if int(fields[1]) == self.pid:
                        kids.append(int(d))
                except (OSError, IndexError, ValueError):
                    pass
        return kids

    def stop(self, timeout=10):
        if self.pid is None:
            pidfile = os.path.join(self.root, "run", "httpd.pid")
            if os.path.exists(pidfile):
                try:
                    self.pid = int(open(pidfile).read().strip())
                except ValueError:
                    pass
        if self.pid is None:
            return
        kids = self._children()
        subprocess.run([APACHE, "-f", self.conf_path, "-k", "stop"], env=self.env(),
                       capture_output=True, timeout=30)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and (
                _pid_alive(self.pid) or any(_pid_alive(k) for k in kids)):
            time.sleep(0.05)
        for pid in [self.pid] + kids:
            if _pid_alive(pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.pid = None

    def restart(self):
        self.stop()
        return self.start()

    def cleanup(self):
        """Stop and remove the server root (kept when RAGCHAT_KEEP_ROOT=1)."""
        self.stop()
        if os.environ.get("RAGCHAT_KEEP_ROOT") != "1":
            shutil.rmtree(self.root, ignore_errors=True)
            if self.pg_owned and self.pg and self.pg.started:
                self.pg.drop_db(self.pg_database)
                self.pg_owned = False

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.cleanup()

    # ---- inspection --------------------------------------------------------
    @property
    def origin(self):
        return "http://127.0.0.1:%d" % self.port

    def url(self, path="/"):
        """url("/api/me") -> http://127.0.0.1:P/chat/api/me; absolute paths outside
        the base are kept as they are."""
        if path.startswith("http://"):
            return path
        if not path.startswith(self.base):
            path = self.base + ("" if path.startswith("/") else "/") + path
        return self.origin + path

    def error_log(self):
        try:
            with open(os.path.join(self.root, "logs", "error.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def log_mark(self):
        """An offset into the error log, for log_since()."""
        return len(self.error_log())

    def log_since(self, mark):
        return self.error_log()[mark:]

    def bad_log_lines(self, allow=()):
        pats = [re.compile(a) for a in list(allow) + ALWAYS_ALLOWED]
        bad = []
        for line in self.error_log().splitlines():
            if BAD_LEVEL.search(line) or BAD_TEXT.search(line):
                if not any(p.search(line) for p in pats):
                    bad.append(line)
        return bad

    def assert_log_clean(self, allow=()):
        bad = self.bad_log_lines(allow)
        assert not bad, "unexpected error log lines:\n" + "\n".join(bad)

    def asan_reports(self):
        logs = os.path.join(self.root, "logs")
        out = []
        for n in sorted(os.listdir(logs)):
            if n.startswith("asan"):
                with open(os.path.join(logs, n), errors="replace") as f:
                    out.append("=== %s ===\n%s" % (n, f.read()))
        return out

    def assert_no_asan(self):
        reps = self.asan_reports()
        assert not reps, "AddressSanitizer reports:\n" + "\n".join(reps)

    def db(self):
        """A connection to the server's database: read-only sqlite3 with
        sqlite3.Row rows, or on PostgreSQL a PgConnection that takes the same
        SQL (? placeholders) and gives rows read by index or name."""
        if self.driver == "pgsql":
            return PgConnection(self.pg.connect(self.pg_database))
        con = sqlite3.connect("file:%s?mode=ro" % self.db_path, uri=True, timeout=5)
        con.row_factory = sqlite3.Row
        return con

    def query(self, sql, params=()):
        """Rows of one SELECT (? placeholders) as dicts, on either driver."""
        con = self.db()
        try:
            return [dict(r) for r in con.execute(sql, params).fetchall()]
        finally:
            con.close()

    def db_exec(self, sql, params=()):
        """Runs one writing statement (? placeholders) and commits; returns
        the rows changed. On SQLite it runs as the children's user, so a
        database file it creates stays theirs."""
        if self.driver == "pgsql":
            con = self.db()
            try:
                n = con.execute(sql, params).rowcount
                con.commit()
                return n
            finally:
                con.close()
        code = ("import sqlite3, sys, json\n"
                "c = sqlite3.connect(sys.argv[1], timeout=10)\n"
                "n = c.execute(sys.argv[2], json.loads(sys.argv[3])).rowcount\n"
                "c.commit(); c.close(); print(n)\n")
        cmd = [PYTHON, "-c", code, self.db_path, sql, json.dumps(list(params))]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=www-data", "--regid=www-data", "--clear-groups"] + cmd
        return int(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)

    def db_exec_many(self, sql, rows):
        """Runs one writing statement (? placeholders) once per row of params,
        in one transaction (fast: thousands of rows a second); returns the
        number of rows."""
        rows = [list(r) for r in rows]
        if self.driver == "pgsql":
            import psycopg2.extras
            con = self.pg.connect(self.pg_database)
            try:
                psycopg2.extras.execute_batch(con.cursor(), sql.replace("?", "%s"), rows,
                                              page_size=500)
                con.commit()
            finally:
                con.close()
            return len(rows)
        code = ("import sqlite3, sys, json\n"
                "c = sqlite3.connect(sys.argv[1], timeout=10)\n"
                "c.executemany(sys.argv[2], json.load(sys.stdin))\n"
                "c.commit(); c.close()\n")
        cmd = [PYTHON, "-c", code, self.db_path, sql]
        if os.geteuid() == 0:
            cmd = ["setpriv", "--reuid=www-data", "--regid=www-data", "--clear-groups"] + cmd
        subprocess.run(cmd, check=True, capture_output=True, text=True, input=json.dumps(rows))
        return len(rows)

    def table_columns(self, table):
        """The columns of a table as (name, type, notnull, default, pk) in order,
        types and defaults spelled the SQLite way on both drivers."""
        if self.driver != "pgsql":
            con = self.db()
            try:
                return [(r[1], r[2], r[3], r[4], r[5])
                        for r in con.execute("PRAGMA table_info(%s)" % table).fetchall()]
            finally:
                con.close()
        rows = self.query(
            "SELECT c.column_name AS name, c.data_type AS type, c.is_nullable AS nullable,"
            " c.column_default AS dflt,"
            " (SELECT k.ordinal_position FROM information_schema.key_column_usage k"
            "  JOIN information_schema.table_constraints tc"
            "  ON tc.constraint_name = k.constraint_name AND tc.table_name = k.table_name"
            "  WHERE tc.constraint_type = 'PRIMARY KEY' AND k.table_name = c.table_name"
            "  AND k.column_name = c.column_name) AS pk"
            " FROM information_schema.columns c WHERE c.table_schema = current_schema()"
            " AND c.table_name = ? ORDER BY c.ordinal_position", (table,))
        out = []
        for r in rows:
            dflt = r["dflt"]
            if dflt is not None:
                dflt = re.sub(r"::[a-z ]+$", "", dflt)
            out.append((r["name"], r["type"].upper(), int(r["nullable"] == "NO"), dflt,
                        r["pk"] or 0))
        return out

    def table_names(self):
        """The tables of the database (SQLite's FTS5 shadow tables included)."""
        if self.driver == "pgsql":
            return {r["n"] for r in self.query(
                "SELECT table_name AS n FROM information_schema.tables"
                " WHERE table_schema = current_schema()")}
        return {r["name"] for r in self.query("SELECT name FROM sqlite_master WHERE type='table'")}


class PgConnection:
    """psycopg2 behind sqlite3's calls: execute(sql, params) with ? placeholders,
    rows read by index or by name (dict(row) works), commit(), close()."""

    def __init__(self, con):
        import psycopg2.extras
        self.con = con
        self.factory = psycopg2.extras.DictCursor

    def execute(self, sql, params=()):
        cur = self.con.cursor(cursor_factory=self.factory)
        if params:
            sql = sql.replace("%", "%%").replace("?", "%s")
            cur.execute(sql, tuple(params))
        else:
            cur.execute(sql)
        return cur

    def commit(self):
        self.con.commit()

    def rollback(self):
        self.con.rollback()

    def close(self):
        self.con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def db_errors():
    """The exceptions a failed statement raises, on either driver."""
    errs = [sqlite3.Error]
    try:
        import psycopg2
        errs.append(psycopg2.Error)
    except ImportError:
        pass
    return tuple(errs)


SITE_FORM_PASSPHRASE = "a long random passphrase for the session cookie 0123456789"
SITE_LOGIN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Site login</title></head>
<body><h1>Site login</h1>
<form id="site-login" method="post" action="/dologin">
<label>User <input id="site-user" name="httpd_username"></label>
<label>Password <input id="site-password" type="password" name="httpd_password"></label>
<button id="site-submit">Log in</button></form></body></html>
"""


class SiteFormServer(HttpdServer):
    """RagChatAuth apache behind the site's own form login (mod_auth_form +
    mod_session_cookie + mod_session_crypto), as the README's example: the
    login page /login.html, /dologin, /dologout (RagChatLogoutURL)."""

    SESSION = ["Session On", "SessionCookieName session path=/;httponly",
               "SessionCryptoPassphrase \"%s\"" % SITE_FORM_PASSPHRASE]

    def __init__(self, session_max_age=None, **kw):
        self.session_max_age = session_max_age
        kw["auth"] = "apache"
        super().__init__(**kw)

    def _session_lines(self):
        lines = list(self.SESSION)
        if self.session_max_age:
            lines.append("SessionMaxAge %d" % self.session_max_age)
        return lines

    def location_config(self):
        lines = [l for l in super().location_config().split("\n")
                 if not re.match(r"\s*(AuthType|AuthName|AuthBasicProvider|AuthUserFile|"
                                 r"Require)\b", l)]
        lines += ["    AuthType form", "    AuthName \"Chat\"", "    AuthFormProvider file",
                  "    AuthUserFile \"%s/htpasswd\"" % self.root,
                  "    AuthFormLoginRequiredLocation /login.html",
                  "    RagChatLogoutURL /dologout"]
        lines += ["    " + l for l in self._session_lines()] + ["    Require valid-user"]
        return "\n".join(lines)

    def write_config(self):
        page = os.path.join(self.root, "www", "login.html")
        with open(page, "w") as f:
            f.write(SITE_LOGIN_PAGE)
        os.chmod(page, 0o644)
        session = "\n".join("    " + l for l in self._session_lines())
        self.extra_server = """
<Location /dologin>
    SetHandler form-login-handler
    AuthType form
    AuthName "Chat"
    AuthFormProvider file
    AuthUserFile "%s/htpasswd"
    AuthFormLoginRequiredLocation /login.html
    AuthFormLoginSuccessLocation %s/
%s
</Location>
<Location /dologout>
    SetHandler form-logout-handler
    # AuthName names the session keys the logout removes ("Chat-user")
    AuthType form
    AuthName "Chat"
    AuthFormLogoutLocation /login.html
%s
</Location>
""" % (self.root, self.base, session, session)
        super().write_config()
        with open(self.conf_path) as f:
            conf = f.read()
        loads = "".join("LoadModule %s_module %s/mod_%s.so\n" % (m, MODULES, m)
                        for m in ("request", "session", "session_cookie", "session_crypto",
                                  "auth_form"))
        conf = conf.replace("LoadModule mime_module", loads + "LoadModule mime_module", 1)
        with open(self.conf_path, "w") as f:
            f.write(conf)


# ---------------------------------------------------------------------------
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}


class ApiClient:
    """requests.Session for one user of a server: Basic auth (apache mode) and
    the CSRF token from B/api/me sent as X-CSRF-Token on state-changing requests."""

    def __init__(self, server, user="alice", password=None, basic=True):
        import requests
        self.server = server
        self.user = user
        self.s = requests.Session()
        if basic:
            self.s.auth = (user, password or server.users[user])
        self._me = None

    def me(self, refresh=False):
        if self._me is None or refresh:
            r = self.s.get(self.server.url("/api/me"), timeout=10)
            assert r.status_code == 200, "GET api/me: %d %s" % (r.status_code, r.text[:300])
            self._me = r.json()
        return self._me

    @property
    def csrf(self):
        return self.me()["csrf"]

    def request(self, method, path, csrf=True, **kw):
        headers = dict(kw.pop("headers", None) or {})
        if csrf and method.upper() in STATE_CHANGING and "X-CSRF-Token" not in headers:
            headers["X-CSRF-Token"] = self.csrf
        kw.setdefault("timeout", 15)
        return self.s.request(method, self.server.url(path), headers=headers, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def chat(self, content, thread_id=None, **kw):
        """POST B/api/chat, streamed (read it with sse_events)."""
        kw.setdefault("stream", True)
        return self.post("/api/chat", json={"thread_id": thread_id, "content": content}, **kw)

    def chat_events(self, content, thread_id=None, **kw):
        """The whole event stream of one chat as a list of (event, data, t)."""
        r = self.chat(content, thread_id, **kw)
        assert r.status_code == 200, "chat: %d %s" % (r.status_code, r.text[:500])
        assert r.headers.get("Content-Type", "").startswith("text/event-stream")
        with r:
            return list(sse_events(r))

    def thread(self, thread_id):
        r = self.get("/api/threads/%s" % thread_id)
        assert r.status_code == 200, "GET thread: %d %s" % (r.status_code, r.text[:300])
        return r.json()


def _sse_parse_data(text):
    try:
        return json.loads(text)
    except ValueError:
        return text


def sse_lines_events(pieces):
    """Turns an iterable of (bytes, t) pieces into (event, data, t) events; t is
    the arrival time (time.monotonic()) of the piece that completed the event."""
    buf = b""
    event, data = None, []
    for piece, t in pieces:
        buf += piece
        while True:
            i = buf.find(b"\n")
            if i < 0:
                break
            line, buf = buf[:i].rstrip(b"\r"), buf[i + 1:]
            if not line:
                if data or event:
                    yield (event or "message", _sse_parse_data("\n".join(data)), t)
                event, data = None, []
            elif line.startswith(b":"):
                continue
            else:
                field, _, val = line.partition(b":")
                if val.startswith(b" "):
                    val = val[1:]
                if field == b"event":
                    event = val.decode("utf-8")
                elif field == b"data":
                    data.append(val.decode("utf-8"))


def sse_events(resp):
    """(event, data, t_arrival) from a streamed requests response, as it arrives."""
    def pieces():
        for chunk in resp.iter_content(chunk_size=None):
            if chunk:
                yield chunk, time.monotonic()
    return sse_lines_events(pieces())


# ---------------------------------------------------------------------------
def _serve(args):
    stop = {"now": False}

    def on_signal(signum, frame):
        stop["now"] = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    backend = None if args.backend else FakeBackend()
    server = None
    try:
        kind = SiteFormServer if args.auth == "site-form" else HttpdServer
        opts = {} if args.auth == "site-form" else {"auth": args.auth}
        if args.session_max_age:
            opts["session_max_age"] = args.session_max_age
        if args.extra_location:
            opts["extra_location"] = "\n".join(args.extra_location)
        server = kind(backend=backend, backend_url=args.backend, mpm=args.mpm,
                      http2=args.http2, port=args.port, ragchat=not args.no_ragchat, **opts)
        info = {"url": server.url("/"), "backend": args.backend or backend.url,
                "root": server.root, "users": server.users, "pid": server.pid}
        print(json.dumps(info), flush=True)
        mode = os.fstat(0).st_mode
        watch = stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) or os.isatty(0)
        while not stop["now"]:
            if watch:
                try:
                    r, _, _ = select.select([0], [], [], 0.5)
                except InterruptedError:
                    continue
                if r and not os.read(0, 4096):
                    break
            else:
                time.sleep(0.5)
    finally:
        if server:
            server.cleanup()
        if backend:
            backend.stop()
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description="mod_ragchat test harness")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve", help="run a fake backend and httpd until stopped")
    s.add_argument("--auth", choices=["apache", "form", "site-form"], default="apache",
                   help="site-form: RagChatAuth apache behind mod_auth_form")
    s.add_argument("--session-max-age", type=int, default=None,
                   help="site-form: SessionMaxAge of the site's session")
    s.add_argument("--port", type=int, default=None)
    s.add_argument("--mpm", choices=["event", "prefork", "worker"], default="event")
    s.add_argument("--http2", action="store_true")
    s.add_argument("--backend", default=None, help="use this backend URL, no fake backend")
    s.add_argument("--no-ragchat", action="store_true", help="httpd without the module")
    s.add_argument("--extra-location", action="append", default=[],
                   help="a config line for the app's Location (repeatable)")
    args = ap.parse_args(argv)
    if args.cmd == "serve":
        return _serve(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())

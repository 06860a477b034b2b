#!/usr/bin/python3
"""A private PostgreSQL cluster for the tests: initdb + pg_ctl in a temp
directory, listening only on a Unix socket in that directory, never on TCP.
Nothing here touches a system cluster (no pg_ctlcluster, no /var/lib/postgresql,
no port 5432).

Run as root, the cluster runs as www-data (initdb refuses root), the user
httpd's children run as, so they reach the socket; otherwise it runs as the
current user. The module connects as the role `ragchat`, a plain role that owns
each test database (not a superuser): what it needs on a real site too.

    cluster = PgCluster()             # started
    name = cluster.create_db()        # a fresh database owned by `ragchat`
    cluster.dbd_params(name)          # DBDParams for DBDriver pgsql
    con = cluster.connect(name)       # psycopg2, as the superuser
    cluster.stop()                    # stops it and removes the directory

Environment: RAGCHAT_KEEP_ROOT=1 keeps the directory after stop.
"""
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time

SUPERUSER = "postgres"
APP_ROLE = "ragchat"


def pg_bindir():
    """The newest installed server's bin directory (Debian: /usr/lib/postgresql/N/bin)."""
    dirs = [d for d in glob.glob("/usr/lib/postgresql/*/bin")
            if os.path.exists(os.path.join(d, "initdb"))]
    if not dirs:
        raise RuntimeError("PostgreSQL is not installed (make deps installs postgresql)")
    return sorted(dirs, key=lambda d: int(d.split("/")[-2]))[-1]


def _run_user():
    """(uid, gid) the cluster runs as: www-data under root, else ours."""
    if os.geteuid() != 0:
        return None
    pw = pwd.getpwnam("www-data")
    return pw.pw_uid, pw.pw_gid


class PgCluster:
    def __init__(self, max_connections=400):
        self.bindir = pg_bindir()
        self.ids = _run_user()
        self.root = tempfile.mkdtemp(prefix="ragchat-pg-")
        os.chmod(self.root, 0o755)
        self.data = os.path.join(self.root, "data")
        self.sock = os.path.join(self.root, "sock")
        self.log = os.path.join(self.root, "postgres.log")
        os.makedirs(self.sock)
        if self.ids:
            for p in (self.root, self.sock):
                os.chown(p, *self.ids)
        self.started = False
        try:
            self._pg("initdb", "-D", self.data, "-U", SUPERUSER, "-A", "trust", "-E", "UTF8",
                     "--locale=C.UTF-8", "--no-sync", "--no-instructions")
            opts = ("-c listen_addresses='' -k %s -c max_connections=%d -c fsync=off"
                    " -c synchronous_commit=off -c full_page_writes=off"
                    " -c shared_buffers=64MB -c unix_socket_permissions=0777"
                    % (self.sock, max_connections))
            self._pg("pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t", "30",
                     "start")
            self.started = True
            self.psql("postgres", "CREATE ROLE %s LOGIN" % APP_ROLE)
        except Exception:
            self.stop()
            raise

    def _pg(self, tool, *args):
        kw = {}
        if self.ids:
            kw.update(user=self.ids[0], group=self.ids[1], extra_groups=[])
        p = subprocess.run([os.path.join(self.bindir, tool)] + list(args), cwd=self.root,
                           env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                           capture_output=True, text=True, timeout=60, **kw)
        if p.returncode != 0:
            log = ""
            if os.path.exists(self.log):
                with open(self.log, errors="replace") as f:
                    log = f.read()[-3000:]
            raise RuntimeError("%s failed (rc=%d):\n%s%s\n%s" % (tool, p.returncode, p.stdout,
                                                                 p.stderr, log))
        return p.stdout

    def psql(self, dbname, sql):
        """Runs SQL as the superuser with psql; returns its unaligned output."""
        return self._pg("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.sock,
                        "-U", SUPERUSER, "-d", dbname, "-c", sql)

    def create_db(self, name=None):
        """A fresh database owned by the app role; returns its name."""
        name = name or "rc_" + secrets.token_hex(6)
        self.psql("postgres", "CREATE DATABASE %s OWNER %s" % (name, APP_ROLE))
        return name

    def drop_db(self, name):
        self.psql("postgres", "DROP DATABASE IF EXISTS %s WITH (FORCE)" % name)

    def dbd_params(self, name, user=APP_ROLE):
        """mod_dbd's DBDParams for DBDriver pgsql (a libpq conninfo string)."""
        return "host=%s dbname=%s user=%s" % (self.sock, name, user)

    def connect(self, name, user=SUPERUSER):
        import psycopg2
        return psycopg2.connect(host=self.sock, dbname=name, user=user)

    def restart(self):
        """A fast restart: every connection is closed, the clients must reconnect."""
        self._pg("pg_ctl", "-D", self.data, "-l", self.log, "-m", "fast", "-w", "-t", "30",
                 "restart")

    def stop(self):
        if self.started:
            try:
                self._pg("pg_ctl", "-D", self.data, "-m", "fast", "-w", "-t", "30", "stop")
            except RuntimeError:
                self._pg("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")
            self.started = False
        if os.environ.get("RAGCHAT_KEEP_ROOT") != "1":
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


if __name__ == "__main__":
    t0 = time.monotonic()
    c = PgCluster()
    db = c.create_db()
    print(c.dbd_params(db), "%.2fs" % (time.monotonic() - t0))
    print(c.psql(db, "SELECT version()"))
    c.stop()

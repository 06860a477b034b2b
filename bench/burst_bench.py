#!/usr/bin/python3
"""Burst benchmark (issue #12): a thousand people sending a first message at the
same moment to a freshly started server, mod_ragchat beside mod_proxy_http.

Each arm is a fresh httpd (event MPM, 4 children x 300 threads, ListenBacklog
4096) in front of the same backend (bench/sse_backend.c), behind the same HTTP
Basic auth ({SHA} hashes: cheap on both sides). Every person is a user of their
own with a connection of their own, all released at once:

  proxy       POST /proxy/v1/chat/completions through mod_proxy_http
  ragchat     POST /chat/api/chat, a new thread (SQLite, the database file
              created by this burst)
  ragchat-pg  the same on a private PostgreSQL cluster (tests/pgcluster.py)

Prints per arm: streams complete with every token in order, errors logged,
first-token wait p50/p99, and the children's RSS growth per open stream (their
summed RSS at the moment most streams were open, minus before the burst,
divided by the streams open then), and that growth split by kind of mapping
(smaps_kib: stacks, malloc, APR pools, files) when every stream is open. Then
first-token p50 of new chats with 50 streams open (chat_bench.ttft) over the
proxy's, the two measured in alternating rounds on the module's server.

  BENCH_BURST_PEOPLE (default 1000), BENCH_BURST_TOKENS (40) and
  BENCH_BURST_GAPUS (100000: a 4 s answer, so every stream is open at once),
  BENCH_BURST_ARMS (proxy,ragchat,ragchat-pg), BENCH_TTFT_SECONDS (8),
  BENCH_BURST_CHILDREN (4) and BENCH_BURST_THREADS (300) size the MPM,
  BENCH_LOGLEVEL ("warn ragchat:info"; "warn ragchat:debug" logs RC0205 and
  RC0209: where the time goes before the backend is called), RAGCHAT_KEEP_ROOT=1
  keeps each server's root (its logs) for reading.
"""
import asyncio
import base64
import hashlib
import os
import re
import resource
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, HERE)

import chat_bench  # noqa: E402
from soak_bench import rss_kib  # noqa: E402
import harness  # noqa: E402

PEOPLE = int(os.environ.get("BENCH_BURST_PEOPLE", "1000"))
TOKENS = int(os.environ.get("BENCH_BURST_TOKENS", "40"))
GAPUS = int(os.environ.get("BENCH_BURST_GAPUS", "100000"))
ARMS = os.environ.get("BENCH_BURST_ARMS", "proxy,ragchat,ragchat-pg").split(",")
REQUEST_LIMIT = 120.0          # seconds one request may take before it counts as failed

CHILDREN = int(os.environ.get("BENCH_BURST_CHILDREN", "4"))
THREADS = int(os.environ.get("BENCH_BURST_THREADS", "300"))
SIZING = """\
StartServers {n}
ServerLimit {n}
ThreadLimit {t}
ThreadsPerChild {t}
MaxRequestWorkers {w}
MinSpareThreads 75
MaxSpareThreads {w}
ListenBacklog 4096
""".format(n=CHILDREN, t=THREADS, w=CHILDREN * THREADS)

PROXY = """\
<Location /proxy/>
    AuthType Basic
    AuthName "ragchat"
    AuthBasicProvider file
    AuthUserFile "{root}/htpasswd"
    Require valid-user
</Location>
ProxyPass /proxy/ http://127.0.0.1:{bport}/ flushpackets=on
"""

TOKEN_RE = {"proxy": re.compile(rb'"content":"tok(\d+) "'),
            "ragchat": re.compile(rb'"t":"tok(\d+) "')}
END_MARK = {"proxy": b"data: [DONE]", "ragchat": b"event: done"}


def raise_open_files():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 65536) if hard != resource.RLIM_INFINITY else 65536
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def people():
    return {"person%04d" % i: "pw-%04d" % i for i in range(PEOPLE)}


def write_htpasswd(server):
    """{SHA} lines: a single SHA-1 to check (bcrypt would dominate the burst)."""
    with open(os.path.join(server.root, "htpasswd"), "w") as f:
        for user, pw in server.users.items():
            f.write("%s:{SHA}%s\n" % (user, base64.b64encode(
                hashlib.sha1(pw.encode()).digest()).decode()))


def fresh_server(bport, db):
    s = harness.HttpdServer(backend_url="http://127.0.0.1:%d" % bport, proxy=True,
                            timeouts=(30, 60), auth="apache", db=db, start=False,
                            loglevel=os.environ.get("BENCH_LOGLEVEL", "warn ragchat:info"),
                            extra_server=SIZING + PROXY.format(root="{root}", bport=bport))
    s.extra_server = s.extra_server.replace("{root}", s.root)
    s.users = people()
    write_htpasswd(s)
    s.start(timeout=30)
    return s


def smaps_kib(pids):
    """The children's RSS by kind of mapping: thread stacks (anonymous 8 MiB
    mappings), malloc (glibc's main heap and its 64 MiB-aligned thread arenas),
    APR pools (the other anonymous mappings: Debian's APR mmaps its allocator's
    nodes, the pools' and the bucket allocators' memory), and file-backed pages."""
    kinds = {"stacks": 0, "malloc": 0, "pools": 0, "files": 0}
    for pid in pids:
        try:
            with open("/proc/%d/smaps" % pid) as f:
                kind = None
                for line in f:
                    head = line.split()
                    if "-" in head[0] and not head[0].endswith(":"):
                        start, end = (int(x, 16) for x in head[0].split("-"))
                        path = head[5] if len(head) > 5 else ""
                        if path == "[heap]" or (not path and start % (64 << 20) == 0):
                            kind = "malloc"
                        elif not path and end - start == 8 << 20:
                            kind = "stacks"
                        elif not path or path.startswith("["):
                            kind = "pools"
                        else:
                            kind = "files"
                    elif head[0] == "Rss:":
                        kinds[kind] += int(head[1])
        except OSError:
            pass
    return kinds


class Dechunker:
    """Incremental HTTP/1.1 chunked decoding of a response body."""

    def __init__(self):
        self.buf, self.left, self.done = b"", 0, False

    def feed(self, data):
        self.buf += data
        out = []
        while not self.done:
            if self.left:
                take = self.buf[:self.left]
                out.append(take)
                self.buf = self.buf[len(take):]
                self.left -= len(take)
                if self.left:
                    break
                continue
            if self.buf.startswith(b"\r\n"):
                self.buf = self.buf[2:]
            end = self.buf.find(b"\r\n")
            if end < 0:
                break
            size = int(self.buf[:end].split(b";")[0] or b"0", 16)
            self.buf = self.buf[end + 2:]
            if size == 0:
                self.done = True
            self.left = size
        return b"".join(out)


class Burst:
    """PEOPLE simultaneous first messages on one arm."""

    def __init__(self, arm, port, path, headers_of, body):
        self.kind = "proxy" if arm == "proxy" else "ragchat"
        self.arm, self.port, self.path = arm, port, path
        self.headers_of, self.body = headers_of, body
        self.open = 0
        self.first, self.complete, self.failures = [], 0, []

    async def one(self, user, gate):
        await gate.wait()
        t0 = time.perf_counter()
        body = self.body.encode()
        head = "".join("%s: %s\r\n" % kv for kv in self.headers_of(user).items())
        req = ("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
               "Content-Length: %d\r\nConnection: close\r\n%s\r\n"
               % (self.path, len(body), head)).encode() + body
        opened = False
        writer = None
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            writer.write(req)
            status_head = await reader.readuntil(b"\r\n\r\n")
            status = int(status_head.split(b" ", 2)[1])
            if status != 200:
                raise RuntimeError("HTTP %d %r" % (status, (await reader.read(300))[:200]))
            self.open += 1
            opened = True
            dech, text, seen, first = Dechunker(), b"", [], None
            while not dech.done:
                data = await reader.read(65536)
                if not data:
                    break
                text += dech.feed(data)
                if first is None and TOKEN_RE[self.kind].search(text):
                    first = time.perf_counter() - t0
            seen = [int(n) for n in TOKEN_RE[self.kind].findall(text)]
            if seen != list(range(TOKENS)) or END_MARK[self.kind] not in text:
                raise RuntimeError("%d tokens (in order: %s), end %s" % (
                    len(seen), seen == sorted(seen), END_MARK[self.kind] in text))
            self.first.append(first)
            self.complete += 1
        except Exception as e:  # noqa: BLE001 - counted and shown
            self.failures.append(repr(e)[:200])
        finally:
            if opened:
                self.open -= 1
            if writer:
                writer.close()

    async def run(self, users):
        gate = asyncio.Event()
        tasks = [asyncio.ensure_future(asyncio.wait_for(self.one(u, gate), REQUEST_LIMIT))
                 for u in users]
        await asyncio.sleep(0.2)          # every task waiting at the gate
        gate.set()
        for t in tasks:
            try:
                await t
            except asyncio.TimeoutError:
                self.failures.append("no end within %.0f s" % REQUEST_LIMIT)


def run_burst(arm, server, burst):
    """Runs the burst, sampling the children's RSS and the streams open."""
    pids = server._children()
    base = rss_kib(pids)
    base_kinds = smaps_kib(pids)
    samples, stop = [], threading.Event()
    peak_kinds = {}

    def sample():
        while not stop.is_set():
            samples.append((burst.open, rss_kib(pids)))
            if not peak_kinds and burst.open >= len(server.users):
                peak_kinds.update(smaps_kib(pids))
            time.sleep(0.05)

    th = threading.Thread(target=sample)
    th.start()
    t0 = time.monotonic()
    asyncio.run(burst.run(sorted(server.users)))
    wall = time.monotonic() - t0
    stop.set()
    th.join()
    most, rss = max(samples) if samples else (0, base)
    errors = server.bad_log_lines()
    first = sorted(burst.first)
    return {
        "arm": arm, "complete": burst.complete, "failures": burst.failures,
        "errors": errors, "wall": wall,
        "p50": first[len(first) // 2] if first else float("nan"),
        "p99": first[max(0, int(len(first) * 0.99) - 1)] if first else float("nan"),
        "open": most, "per_stream": (rss - base) / most if most else float("nan"),
        "base": base, "peak": rss, "children": len(pids),
        "kinds": {k: (peak_kinds[k] - base_kinds[k]) / len(server.users)
                  for k in peak_kinds},
    }


def print_kinds(arm, r):
    if r["kinds"]:
        print("%s per stream by kind (all streams open): %s" % (arm, ", ".join(
            "%s %.1f KiB" % kv for kv in r["kinds"].items())))


def basic(user, pw):
    return "Basic " + base64.b64encode(("%s:%s" % (user, pw)).encode()).decode()


def csrf_tokens(server):
    """Each person's CSRF token (apache mode: GET B/api/me, no database)."""
    import http.client
    import json
    tokens = {}
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    for user, pw in server.users.items():
        conn.request("GET", "/chat/api/me", headers={"Authorization": basic(user, pw)})
        resp = conn.getresponse()
        tokens[user] = json.loads(resp.read())["csrf"]
    conn.close()
    return tokens


def arm_burst(arm, server):
    stream = "tokens=%d gapus=%d" % (TOKENS, GAPUS)
    if arm == "proxy":
        burst = Burst(arm, server.port, "/proxy/v1/chat/completions",
                      lambda u: {"Authorization": basic(u, server.users[u])},
                      '{"messages":[{"role":"user","content":"%s"}],"stream":true}' % stream)
    else:
        tokens = csrf_tokens(server)
        burst = Burst(arm, server.port, "/chat/api/chat",
                      lambda u: {"Authorization": basic(u, server.users[u]),
                                 "X-CSRF-Token": tokens[u]},
                      '{"thread_id":null,"content":"%s"}' % stream)
    return run_burst(arm, server, burst)


def ttft_paths(server):
    """chat_bench's 50-stream TTFT, as person0000, on the proxy and on the module."""
    user = "person0000"
    auth = {"Authorization": basic(user, server.users[user]),
            "Content-Type": "application/json"}
    import http.client
    import json
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("GET", "/chat/api/me", headers=auth)
    csrf = json.loads(conn.getresponse().read())["csrf"]
    conn.close()
    return (chat_bench.Path("proxy", server.port, "/proxy/v1/chat/completions",
                            chat_bench.openai_body, auth, b'"delta":{"content"'),
            chat_bench.Path("ragchat", server.port, "/chat/api/chat",
                            lambda c: {"thread_id": None, "content": c},
                            dict(auth, **{"X-CSRF-Token": csrf}), b"event: token"))


ROUNDS = 4


def interleaved_ttft(proxy_path, module_path):
    """New chats' first-token wait among 50 open streams (as chat_bench.ttft)
    on both paths in alternating rounds, so that the load of a shared machine
    weighs on both alike; (p50, p99, samples) of each."""
    seconds = max(1.0, chat_bench.TTFT_SECONDS / ROUNDS)
    samples = {proxy_path.name: [], module_path.name: []}
    for _ in range(ROUNDS):
        for p in (proxy_path, module_path):
            samples[p.name] += chat_bench.ttft_samples(p, seconds)

    def stats(v):
        v.sort()
        return v[len(v) // 2], v[max(0, int(len(v) * 0.99) - 1)], len(v)
    return stats(samples[proxy_path.name]), stats(samples[module_path.name])


def main():
    nofile = raise_open_files()
    backend_bin = chat_bench.build_backend()
    bport = harness.free_port()
    import subprocess
    backend = subprocess.Popen([backend_bin, str(bport)])
    results, ttft = [], {}
    try:
        chat_bench.wait_port(bport)
        for arm in ARMS:
            db = "pgsql" if arm == "ragchat-pg" else "sqlite3"
            server = fresh_server(bport, db)
            try:
                time.sleep(1.0)               # every child up with its threads
                results.append(arm_burst(arm, server))
                if arm != "proxy":
                    proxy_path, module_path = ttft_paths(server)
                    for p in (proxy_path, module_path):
                        p.stream("tokens=20 gapus=0")        # warm-up
                    proxy_ttft, ttft[arm] = interleaved_ttft(proxy_path, module_path)
                    ttft.setdefault("proxy", proxy_ttft)
                    results[-1]["errors"] = server.bad_log_lines()
            finally:
                server.cleanup()
    finally:
        harness.stop_pg_cluster()
        backend.terminate()
        backend.wait()
    report(results, ttft, nofile)


def report(results, ttft, nofile):
    print("\nburst: %d people, a first message each at the same moment, fresh server "
          "(event MPM %d x %d threads), %d tokens %d ms apart; open files %d"
          % (PEOPLE, CHILDREN, THREADS, TOKENS, GAPUS // 1000, nofile))
    print("%-11s %9s %7s %11s %11s %9s %13s" % ("arm", "complete", "errors", "TTFT p50 s",
                                               "TTFT p99 s", "max open", "KiB/stream"))
    for r in results:
        print("%-11s %4d/%-4d %7d %11.3f %11.3f %9d %13.1f" % (
            r["arm"], r["complete"], PEOPLE, len(r["errors"]), r["p50"], r["p99"], r["open"],
            r["per_stream"]))
    by = {r["arm"]: r for r in results}
    for r in results:
        for line in (r["failures"][:3] + r["errors"][:3]):
            print("  %s: %s" % (r["arm"], line[:300]))
    for arm in ("ragchat", "ragchat-pg"):
        if arm not in by:
            continue
        r = by[arm]
        ok = r["complete"] == PEOPLE and not r["errors"]
        print("%s: %d/%d complete, %d errors logged (goal %d/%d, 0)%s"
              % (arm, r["complete"], PEOPLE, len(r["errors"]), PEOPLE, PEOPLE,
                 "" if ok else "  MISSED"))
        if "proxy" in by:
            ratio = r["p50"] / by["proxy"]["p50"]
            print("%s/proxy first-token p50: %.2f (%.3f s vs %.3f s; goal <= 1.5)%s"
                  % (arm, ratio, r["p50"], by["proxy"]["p50"], "" if ratio <= 1.5 else
                     "  MISSED"))
        print("%s memory per open stream: %.1f KiB (%d open; children RSS %d -> %d KiB; "
              "goal <= 96)%s" % (arm, r["per_stream"], r["open"], r["base"], r["peak"],
                                 "" if r["per_stream"] <= 96 else "  MISSED"))
        print_kinds(arm, r)
        if arm in ttft and "proxy" in ttft:
            added = (ttft[arm][0] - ttft["proxy"][0]) * 1e3
            print("%s 50 streams: first-token p50 %.2f ms vs proxy %.2f ms: %+.2f ms "
                  "(p99 %.2f vs %.2f; goal <= +2 ms)%s"
                  % (arm, ttft[arm][0] * 1e3, ttft["proxy"][0] * 1e3, added,
                     ttft[arm][1] * 1e3, ttft["proxy"][1] * 1e3,
                     "" if added <= 2.0 else "  MISSED"))
    if "proxy" in by:
        r = by["proxy"]
        print("proxy memory per open stream: %.1f KiB (%d open)" % (r["per_stream"], r["open"]))
        print_kinds("proxy", r)


if __name__ == "__main__":
    main()

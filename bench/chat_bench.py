#!/usr/bin/python3
"""Chat streaming benchmark: the same fast backend reached four ways, in one run.

  direct      client -> backend
  proxy       client -> httpd mod_proxy_http (ProxyPass, flushpackets=on) -> backend
  ragchat     client -> httpd mod_ragchat (auth, DB writes, SSE relay) -> backend,
              the history in SQLite
  ragchat-pg  the same with DBDriver pgsql: a private PostgreSQL cluster on a Unix
              socket (tests/pgcluster.py); its server CPU includes PostgreSQL's

Prints tokens/s for one 2000-token stream and time-to-first-token p50/p99 at 50
concurrent streams, with mod_ragchat's ratios to mod_proxy_http and its added
latency over direct. The backend is bench/sse_backend.c (compiled here), so the
figures measure what stands in front of it.
"""
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))

import harness  # noqa: E402

STREAM_TOKENS = 2000
STREAM_RUNS = int(os.environ.get("BENCH_STREAM_RUNS", "15"))
CONCURRENCY = 50
TTFT_SECONDS = float(os.environ.get("BENCH_TTFT_SECONDS", "8"))


def wait_port(port, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("the benchmark backend did not start on port %d" % port)


def form_login(server, user):
    """Logs in through B/login; returns (Cookie header value, CSRF token)."""
    import requests
    s = requests.Session()
    page = s.get(server.url("/login"), timeout=10).text
    token = re.search(r'name="csrf" value="([^"]*)"', page).group(1)
    r = s.post(server.url("/login"), allow_redirects=False, timeout=10,
               data={"username": user, "password": server.users[user], "csrf": token,
                     "next": ""})
    if r.status_code != 303:
        raise RuntimeError("login failed: %d" % r.status_code)
    csrf = s.get(server.url("/api/me"), timeout=10).json()["csrf"]
    return "; ".join("%s=%s" % (c.name, c.value) for c in s.cookies), csrf


def build_backend():
    out = os.path.join(ROOT, "build", "bench", "sse_backend")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-pthread",
                    os.path.join(HERE, "sse_backend.c"), "-o", out], check=True)
    return out


class Path:
    """One way of reaching the backend: how to ask, and what a token looks like."""

    def __init__(self, name, port, path, body_of, headers, marker):
        self.name, self.port, self.path = name, port, path
        self.body_of, self.headers, self.marker = body_of, headers, marker

    def stream(self, content, first_only=False):
        """(seconds to first token, seconds to the end, tokens seen)."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        body = json.dumps(self.body_of(content))
        t0 = time.perf_counter()
        conn.request("POST", self.path, body=body, headers=self.headers)
        resp = conn.getresponse()
        if resp.status != 200:
            raise RuntimeError("%s: HTTP %d %s" % (self.name, resp.status, resp.read()[:200]))
        first, count, tail = None, 0, b""
        while True:
            chunk = resp.read1(65536)
            if not chunk:
                break
            data = tail + chunk
            n = data.count(self.marker)
            if n and first is None:
                first = time.perf_counter() - t0
            count += n
            tail = data[-(len(self.marker) - 1):]
        total = time.perf_counter() - t0
        conn.close()
        return first, total, count


def openai_body(content):
    return {"messages": [{"role": "user", "content": content}], "stream": True}


def cpu_ns(pids):
    """CPU nanoseconds used so far by every thread of these processes."""
    total = 0
    for pid in pids:
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                    total += int(f.read().split()[0])
        except (OSError, IndexError, ValueError):
            pass
    return total


def throughput(path, server_pids):
    """Median wall tokens/s of one 2000-token stream, and the server's CPU
    microseconds per token (0 for the direct path: no server in between)."""
    rates = []
    pids = server_pids()
    before = cpu_ns(pids)
    for _ in range(STREAM_RUNS):
        _, total, count = path.stream("tokens=%d gapus=0" % STREAM_TOKENS)
        if count != STREAM_TOKENS:
            raise RuntimeError("%s: %d tokens instead of %d" % (path.name, count, STREAM_TOKENS))
        rates.append(count / total)
    cpu_us = (cpu_ns(pids) - before) / 1e3 / (STREAM_RUNS * STREAM_TOKENS)
    return statistics.median(rates), cpu_us


def ttft(path):
    """TTFT while CONCURRENCY streams are open (ttft_samples for TTFT_SECONDS):
    p50, p99 and the number of samples."""
    samples = sorted(ttft_samples(path, TTFT_SECONDS))
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1], len(samples)


def ttft_samples(path, seconds):
    """First-token waits of new streams for `seconds`: each of CONCURRENCY
    workers runs streams back to back (200 tokens, 2 ms apart, about 0.4 s
    each), started at staggered times, so every new stream starts among ~50
    running ones, as on a busy server."""
    samples, errors = [], []
    deadline = time.monotonic() + seconds

    def worker(i):
        time.sleep(0.4 * i / CONCURRENCY)
        while time.monotonic() < deadline:
            try:
                first, _, _ = path.stream("tokens=200 gapus=2000")
                samples.append(first)
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
                return

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(CONCURRENCY)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("%s: %d streams failed: %s" % (path.name, len(errors), errors[0]))
    return samples


def ttft_single(path, n=60):
    """TTFT of one stream at a time: the latency each path adds by itself."""
    samples = sorted(path.stream("tokens=5 gapus=0")[0] for _ in range(n))
    return samples[len(samples) // 2]


def postgres_pids(cluster):
    """The postmaster of the cluster and its children (the backends)."""
    try:
        with open(os.path.join(cluster.data, "postmaster.pid")) as f:
            pm = int(f.readline())
    except (OSError, ValueError):
        return []
    kids = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == pm:
                        kids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return [pm] + kids


# Sized for 50 open streams (each holds a worker thread): every child started up
# front, none reaped between phases.
SIZING = "StartServers 4\nMinSpareThreads 75\nMaxSpareThreads 100\n"
PATHS = ("direct", "proxy", "ragchat", "ragchat-pg")


def main():
    backend_bin = build_backend()
    bport = harness.free_port()
    backend = subprocess.Popen([backend_bin, str(bport)])
    server = pg_server = None
    try:
        wait_port(bport)
        # Form login: a browser's session cookie is what mod_ragchat checks on
        # every chat (one indexed read), as in production.
        server = harness.HttpdServer(
            backend_url="http://127.0.0.1:%d" % bport, proxy=True, timeouts=(10, 60),
            auth="form", db="sqlite3",
            extra_server=("ProxyPass /proxy/ http://127.0.0.1:%d/ flushpackets=on\n" % bport)
            + SIZING)
        pg_server = harness.HttpdServer(
            backend_url="http://127.0.0.1:%d" % bport, timeouts=(10, 60), auth="form",
            db="pgsql", extra_server=SIZING)
        cookie, csrf = form_login(server, "alice")
        pg_cookie, pg_csrf = form_login(pg_server, "alice")
        common = {"Content-Type": "application/json"}
        paths = [
            Path("direct", bport, "/v1/chat/completions", openai_body, common,
                 b'"delta":{"content"'),
            Path("proxy", server.port, "/proxy/v1/chat/completions", openai_body, common,
                 b'"delta":{"content"'),
            Path("ragchat", server.port, "/chat/api/chat",
                 lambda c: {"thread_id": None, "content": c},
                 dict(common, **{"X-CSRF-Token": csrf, "Cookie": cookie}),
                 b"event: token"),
            Path("ragchat-pg", pg_server.port, "/chat/api/chat",
                 lambda c: {"thread_id": None, "content": c},
                 dict(common, **{"X-CSRF-Token": pg_csrf, "Cookie": pg_cookie}),
                 b"event: token"),
        ]
        for p in paths:           # warm-up: connections, DB pages, caches
            p.stream("tokens=50 gapus=0")

        def server_pids():
            return [server.pid] + server._children()

        def pg_server_pids():
            return [pg_server.pid] + pg_server._children() + postgres_pids(pg_server.pg)

        pids_of = {"direct": list, "proxy": server_pids, "ragchat": server_pids,
                   "ragchat-pg": pg_server_pids}
        rate = {p.name: throughput(p, pids_of[p.name]) for p in paths}
        single = {p.name: ttft_single(p) for p in paths}
        lat = {p.name: ttft(p) for p in paths}
    finally:
        for s in (server, pg_server):
            if s:
                s.cleanup()
        harness.stop_pg_cluster()
        backend.terminate()
        backend.wait()

    print("\nchat streaming: one %d-token stream (median of %d); TTFT with %d streams open "
          "(%.0f s per path)" % (STREAM_TOKENS, STREAM_RUNS, CONCURRENCY, TTFT_SECONDS))
    print("%-10s %12s %16s %12s %12s %9s" % ("path", "tokens/s", "server us/token",
                                             "TTFT p50 ms", "TTFT p99 ms", "samples"))
    for name in PATHS:
        print("%-10s %12.0f %16s %12.2f %12.2f %9d" % (
            name, rate[name][0], "-" if name == "direct" else "%.2f" % rate[name][1],
            lat[name][0] * 1e3, lat[name][1] * 1e3, lat[name][2]))
    print("TTFT of a lone stream, p50 ms: " + ", ".join(
        "%s %.2f" % (n, single[n] * 1e3) for n in PATHS))
    for name in ("ragchat", "ragchat-pg"):
        ratio = rate[name][0] / rate["proxy"][0]
        cpu_ratio = rate["proxy"][1] / rate[name][1] if rate[name][1] else float("inf")
        added = (lat[name][0] - lat["direct"][0]) * 1e3
        print("%s/proxy throughput ratio: wall %.2f, per server CPU %.2f (target >= 1.0)%s"
              % (name, ratio, cpu_ratio, "" if min(ratio, cpu_ratio) >= 1.0 else "  MISSED"))
        print("%s/proxy TTFT ratio: p50 %.2f, p99 %.2f"
              % (name, lat[name][0] / lat["proxy"][0], lat[name][1] / lat["proxy"][1]))
        print("%s TTFT p50 added over direct: %.2f ms (target <= 2 ms, DB writes included)%s"
              % (name, added, "" if added <= 2.0 else "  MISSED"))
    print("ragchat-pg/ragchat: throughput %.2f, TTFT p50 %+.2f ms, lone-stream TTFT %+.2f ms"
          % (rate["ragchat-pg"][0] / rate["ragchat"][0],
             (lat["ragchat-pg"][0] - lat["ragchat"][0]) * 1e3,
             (single["ragchat-pg"] - single["ragchat"]) * 1e3))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Soak: many mixed requests against one server; the httpd child's memory must
level off instead of growing with the number of requests (request memory comes
from pools; malloc arenas and SQLite's page caches grow to a working size once).

Warm-up first, then N rounds of: a chat in a new thread (streamed), a thread
list and get, an answer's PDF and Markdown export, a thread PDF, feedback, an
upload, a rename. Prints the child's RSS after the warm-up (the baseline), half
way and at the end; the second half's growth per 1000 requests is the figure."""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import harness  # noqa: E402

ROUNDS = int(os.environ.get("SOAK_ROUNDS", "1500"))
WARMUP = 40
ANSWER = ["# Report\n\n", "| a | b |\n|---|---|\n| 1 | 2 |\n\n", "Some **bold** text ",
          "and `code`.\n\n```python\nprint('x')\n```\n"]


def rss_kib(pids, key="VmRSS:"):
    """The processes' resident memory (key: VmRSS, or its parts RssAnon, the
    private memory a leak would grow, and RssFile, mapped files)."""
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith(key):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def rss_parts(pids):
    return {k: rss_kib(pids, k + ":") for k in ("VmRSS", "RssAnon", "RssFile")}


def one_round(api, backend, i):
    backend.script({"tokens": ANSWER})
    events = api.chat_events("soak question %d" % i)
    thread_id = events[0][1]["thread_id"]
    step_id = events[-1][1]["step_id"]
    n = 1
    for path in ("/api/threads?limit=10", "/api/threads/%s" % thread_id,
                 "/api/steps/%s/export.pdf" % step_id, "/api/steps/%s/export.md" % step_id,
                 "/api/threads/%s/export.pdf" % thread_id):
        assert api.get(path).status_code == 200, path
        n += 1
    assert api.put("/api/steps/%s/feedback" % step_id, json={"value": 1}).status_code == 200
    r = api.post("/api/upload", files=[("files", ("notes.md", b"# Notes\n" * 200, "text/markdown"))],
                 data={"thread_id": thread_id})
    assert r.status_code == 200, r.text
    assert api.patch("/api/threads/%s" % thread_id, json={"name": "soak %d" % i}).status_code == 200
    return n + 3


def main():
    backend = harness.FakeBackend()
    # One child process, so its growth is not spread over several.
    server = harness.HttpdServer(backend=backend, mpm="event", extra_server=(
        "StartServers 1\nServerLimit 1\nMinSpareThreads 1\nMaxSpareThreads 25\n"))
    try:
        api = harness.ApiClient(server, "alice")
        for i in range(WARMUP):
            one_round(api, backend, i)
        pids = server._children()
        before = rss_parts(pids)
        t0 = time.monotonic()
        requests = half_requests = 0
        for i in range(ROUNDS):
            requests += one_round(api, backend, WARMUP + i)
            if i == ROUNDS // 2 - 1:
                half, half_requests = rss_parts(pids), requests
        after = rss_parts(pids)
        elapsed = time.monotonic() - t0
    finally:
        server.stop()
        backend.stop()
    print("soak: %d requests in %.1f s (%d rounds of chat, list, get, 3 exports, feedback, "
          "upload, rename)" % (requests, elapsed, ROUNDS))
    # The database file is mapped (SQLite's mmap_size): its pages a child has
    # read count in its RSS as the file grows, shared and reclaimable; a leak
    # shows in the private (anonymous) part.
    for key, label in (("VmRSS", "child RSS"), ("RssAnon", "  private (anonymous)"),
                       ("RssFile", "  mapped files (the database, libraries)")):
        per_k = (after[key] - half[key]) / 1024.0 * 1000.0 / (requests - half_requests)
        goal = key == "RssAnon"
        print("%s: %.1f MiB after warm-up (baseline), %.1f MiB half way, %.1f MiB at the end; "
              "second half %+.3f MiB per 1000 requests%s"
              % (label, before[key] / 1024.0, half[key] / 1024.0, after[key] / 1024.0, per_k,
                 (" (target < 0.1: levelled off)" + ("" if per_k < 0.1 else "  MISSED"))
                 if goal else ""))

if __name__ == "__main__":
    main()

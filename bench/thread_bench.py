#!/usr/bin/python3
"""Long threads: opening a thread of 10,000 steps (GET B/api/threads/{id}: its
newest 100 steps and a cursor), paging back from its middle, and the time to
the first token of a question in it, each beside the same on a thread of 100
steps (the baseline: the figures should not grow with the thread's length).
Server time is httpd's own (%D of an access log), bytes are the body's.

RAGCHAT_BASELINE_MODULE=/path/to/older/mod_ragchat.so also runs the same
requests against that build (e.g. main's before paging: the whole thread)."""
import datetime
import json
import os
import statistics
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests"))

import harness  # noqa: E402

RUNS = int(os.environ.get("HISTORY_RUNS", "30"))
ANSWER = ("## Findings\n\nThe report says **revenue grew** in the third quarter, driven by "
          "new customers. Here are the points that matter:\n\n- first point, with `code`\n"
          "- second point with *emphasis*\n- third point\n\n| Quarter | Revenue |\n|---|---:|\n"
          "| Q2 | 1.4 M |\n| Q3 | 1.5 M |\n\nIn short, the trend is good. (answer %d)")


def stamp(t0, i):
    return (t0 + datetime.timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def make_thread(server, api, n):
    assert api.get("/api/threads?limit=1").status_code == 200
    user_id = server.query("SELECT id FROM users WHERE identifier = ?", (api.user,))[0]["id"]
    tid = str(uuid.uuid4())
    t0 = datetime.datetime.utcnow() - datetime.timedelta(days=1)
    server.db_exec('INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier",'
                   ' metadata) VALUES (?, ?, ?, ?, ?, ?)',
                   (tid, stamp(t0, 0), "%d steps" % n, user_id, api.user, "{}"))
    ids = [str(uuid.uuid4()) for _ in range(n)]
    rows = [(ids[i], "alice" if i % 2 == 0 else "Assistant",
             "user_message" if i % 2 == 0 else "assistant_message", tid, 0,
             json.dumps({"after": ids[i - 1] if i else None}),
             "What does the report say about topic %d?" % i if i % 2 == 0 else ANSWER % i,
             stamp(t0, i), stamp(t0, i), stamp(t0, i)) for i in range(n)]
    server.db_exec_many('INSERT INTO steps (id, name, type, "threadId", "isError", metadata,'
                        ' output, "createdAt", start, "end") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?,'
                        ' ?)', rows)
    return tid, ids


def server_ms(server, mark):
    """The %D figures (ms) of the access log lines written since mark."""
    with open(os.path.join(server.root, "logs", "timing.log")) as f:
        f.seek(mark)
        return [int(line.split()[-1]) / 1000.0 for line in f if line.strip()]


def log_mark(server):
    try:
        return os.path.getsize(os.path.join(server.root, "logs", "timing.log"))
    except OSError:
        return 0


def timed_get(server, api, path):
    mark = log_mark(server)
    sizes = []
    for _ in range(RUNS):
        r = api.get(path)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
        sizes.append(len(r.content))
    time.sleep(0.2)
    ms = server_ms(server, mark)
    return statistics.median(ms), max(sizes)


def ttft(api, backend, tid):
    out = []
    for _ in range(max(5, RUNS // 3)):
        backend.script({"tokens": ["ok"]})
        t0 = time.monotonic()
        r = api.chat("and then?", tid)
        with r:
            for ev in harness.sse_events(r):
                if ev[0] == "token":
                    out.append((ev[2] - t0) * 1000.0)
                    break
            for ev in harness.sse_events(r):
                pass
    return statistics.median(out)


def measure(label, module, backend):
    server = harness.HttpdServer(backend=backend, module=module, extra_server=(
        'LogFormat "%r %D" timing\nCustomLog logs/timing.log timing\n'))
    try:
        api = harness.ApiClient(server, "alice")
        rows = {}
        for n in (100, 10000):
            tid, ids = make_thread(server, api, n)
            rows[n] = {"open": timed_get(server, api, "/api/threads/%s" % tid)}
            rows[n]["back"] = timed_get(server, api, "/api/threads/%s?before=%s"
                                        % (tid, ids[len(ids) // 2]))
            rows[n]["ttft"] = ttft(api, backend, tid)
        for n in (100, 10000):
            r = rows[n]
            print("%-9s %6d steps: open %7.2f ms %9.1f KB | page back %7.2f ms %8.1f KB | "
                  "first token of a question %6.1f ms"
                  % (label, n, r["open"][0], r["open"][1] / 1024.0, r["back"][0],
                     r["back"][1] / 1024.0, r["ttft"]))
        big = rows[10000]["open"]
        print("%-9s goal at 10,000 steps: open < 20 ms and < 300 KB: %.2f ms, %.1f KB%s"
              % (label, big[0], big[1] / 1024.0,
                 "" if big[0] < 20 and big[1] < 300 * 1024 else "  MISSED"))
    finally:
        server.stop()
        server.cleanup()


def main():
    backend = harness.FakeBackend()
    try:
        measure("this", None, backend)
        base = os.environ.get("RAGCHAT_BASELINE_MODULE")
        if base:
            measure("baseline", base, backend)
    finally:
        backend.stop()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""History at scale: one user with 100,000 threads of 4 steps and one thread
of 10,000 steps, on SQLite (HISTORY_DB=pgsql: on PostgreSQL, a private
cluster of tests/pgcluster.py, without the baseline). Prints the server time (request time less that
of GET B/api/me, medians) of the thread list, searches (a rare word, a common
word, two common words) and opening the long thread (and its size), beside
the statements of schema version 3 (the OR'd list, the LIKE search) run
straight on the same file as the baseline; and how long the search index of
the rows already there takes to build in the background after the upgrade
(the RC0107 log line), with list and search times meanwhile.
Goals: list < 10 ms, search < 20 ms, long thread < 20 ms and < 300 KB."""
import io
import os
import random
import re
import sqlite3
import statistics
import sys
import time
import uuid
from urllib.parse import quote

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "tests"), os.path.join(HERE, "..", "tests", "integration")]

import harness  # noqa: E402
from harness import ApiClient  # noqa: E402
from test_search import V2, V2_PG, V3, V010, V010_SQLITE  # noqa: E402

THREADS = int(os.environ.get("HISTORY_THREADS", "100000"))
STEPS, LONG = 4, 10000
RARE = "zanzibarite"
RUNS = 25
COMMON = "the of and to in is that for it with as on be this are".split()
SEARCHES = (("search rare", RARE), ("search common", "the"), ("search 2 common", "with the"),
            ("search the and", "the and"), ("search 4 common", "with the for this"),
            ("search phrase", '"the and"'), ("search w12 the", "w12 the"))


def generate(srv):
    r = random.Random(7)
    words = ["w%d" % i for i in range(5000)]

    def text(n):
        return " ".join(r.choice(COMMON) if r.random() < .5
                        else words[min(int(r.paretovariate(1.0)), 4999)] for _ in range(n))

    threads, steps = [], []
    for i in range(THREADS):
        tid = str(uuid.UUID(int=r.getrandbits(128), version=4))
        at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1735689600 + i * 300))
        threads.append((tid, at + ".000000Z", text(6), "u1", "alice", "[]", "{}"))
        for k in range(STEPS):
            steps.append((str(uuid.UUID(int=r.getrandbits(128), version=4)),
                          "alice" if k % 2 == 0 else "Assistant",
                          "user_message" if k % 2 == 0 else "assistant_message", tid,
                          text(15 if k % 2 == 0 else 60), at + ".%06dZ" % (k + 1), "{}"))
    long_id = str(uuid.uuid4())
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(1735689600 + THREADS * 300))
    threads.append((long_id, at + ".000000Z", "the long one", "u1", "alice", "[]", "{}"))
    for k in range(LONG):
        steps.append((str(uuid.uuid4()), "alice" if k % 2 == 0 else "Assistant",
                      "user_message" if k % 2 == 0 else "assistant_message", long_id,
                      text(15 if k % 2 == 0 else 60), "%s.%06dZ" % (at, k), "{}"))
    for i in r.sample(range(len(steps) - LONG), 5):
        s = list(steps[i])
        s[4] += " " + RARE
        steps[i] = tuple(s)
    schema = ("CREATE TABLE ragchat_schema (version INTEGER PRIMARY KEY,"
              " \"appliedAt\" TEXT NOT NULL);\n"
              "INSERT INTO ragchat_schema VALUES (1, 'x'), (2, 'x'), (3, 'x');\n"
              "INSERT INTO users VALUES ('u1', 'alice', '2025-01-01T00:00:00.000000Z', '{}');\n")
    if srv.driver == "pgsql":
        con = srv.pg.connect(srv.pg_database, user="ragchat")
        cur = con.cursor()
        cur.execute(";\n".join(V010 + V2_PG + V2 + V3) + ";\n" + schema)
        for table, cols, rows in (("threads", '(id, "createdAt", name, "userId",'
                                   ' "userIdentifier", tags, metadata)', threads),
                                  ("steps", '(id, name, type, "threadId", output, "createdAt",'
                                   ' metadata)', steps)):
            cur.copy_expert("COPY %s %s FROM STDIN" % (table, cols),
                            io.StringIO("".join("\t".join(r) + "\n" for r in rows)))
        con.commit()
        cur.execute("ANALYZE")
        con.commit()
        con.close()
        return long_id
    con = sqlite3.connect(srv.db_path)
    con.executescript(";\n".join(V010 + V010_SQLITE + V2 + V3) + ";\n" + schema)
    con.executemany('INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier",'
                    ' tags, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)', threads)
    con.executemany('INSERT INTO steps (id, name, type, "threadId", output, "createdAt",'
                    ' metadata) VALUES (?, ?, ?, ?, ?, ?, ?)', steps)
    con.commit()
    con.close()
    return long_id


def timed(fn, runs=RUNS):
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return statistics.median(out) * 1000


def baseline(path):
    """The statements of version 3 on the same data, in ms (no HTTP)."""
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    cur = "9999-12-31T23:59:59.999999Z"
    lst = ('SELECT id FROM threads WHERE ("userId" = ? OR "userIdentifier" = ?)'
           ' AND ("ragchatApp" IS NULL OR "ragchatApp" = ?) AND "createdAt" < ?'
           ' ORDER BY "createdAt" DESC, id DESC LIMIT 31')
    srch = ('SELECT t.id FROM threads t WHERE (t."userId" = ? OR t."userIdentifier" = ?)'
            ' AND (t."ragchatApp" IS NULL OR t."ragchatApp" = ?) AND t."createdAt" < ?'
            " AND (LOWER(t.name) LIKE LOWER(?) ESCAPE '\\' OR EXISTS (SELECT 1 FROM steps s"
            " WHERE s.\"threadId\" = t.id AND LOWER(s.output) LIKE LOWER(?) ESCAPE '\\'))"
            ' ORDER BY t."createdAt" DESC, t.id DESC LIMIT 31')
    res = {"list": timed(lambda: con.execute(lst, ("u1", "alice", "/chat", cur)).fetchall(), 5)}
    for name, q in SEARCHES[:3]:
        pat = "%" + q + "%"
        res[name] = timed(lambda: con.execute(srch, ("u1", "alice", "/chat", cur, pat, pat))
                          .fetchall(), 3)
    con.close()
    return res


def main():
    db = os.environ.get("HISTORY_DB", "sqlite3")
    srv = harness.HttpdServer(db=db, start=False, loglevel="warn ragchat:notice")
    try:
        t0 = time.time()
        long_id = generate(srv)
        print("%s: generated %d threads x %d steps + one of %d steps in %.1f s (schema version 3)"
              % (db, THREADS, STEPS, LONG, time.time() - t0), flush=True)
        base = baseline(srv.db_path) if db == "sqlite3" else {}
        srv._fix_owners()
        srv.start()
        alice = ApiClient(srv, "alice")
        # The upgrade to version 5, then the index of the rows there, built in
        # the background: how long, and how quick a list and a search are
        # meanwhile (a search meanwhile finds what is indexed so far).
        t0, lists, searches = time.time(), [], []
        alice.me()
        t_up = time.time() - t0
        while "RC0107" not in srv.error_log() and time.time() - t0 < 300:
            t = time.perf_counter()
            r = alice.get("/api/threads")
            assert r.status_code == 200, (r.status_code, r.text[:300], srv.error_log()[-2000:])
            lists.append(time.perf_counter() - t)
            t = time.perf_counter()
            assert alice.get("/api/threads?q=" + RARE).status_code == 200
            searches.append(time.perf_counter() - t)
            time.sleep(0.05)
        m = re.search(r"index complete in ([0-9.]+) s", srv.error_log())
        print("first request (the upgrade to version 5): %.2f s; the index of the %d existing"
              " rows built in the background in %s s (RC0107); meanwhile %d lists, median %.1f"
              " ms, max %.0f ms; %d searches, median %.1f ms, max %.0f ms"
              % (t_up, THREADS * STEPS + THREADS + LONG + 1, m.group(1) if m else "> 300",
                 len(lists), statistics.median(lists) * 1000 if lists else 0,
                 max(lists) * 1000 if lists else 0, len(searches),
                 statistics.median(searches) * 1000 if searches else 0,
                 max(searches) * 1000 if searches else 0), flush=True)
        me = timed(lambda: alice.me(refresh=True))
        res = {}
        res["list"] = timed(lambda: alice.get("/api/threads?limit=30"))
        res["list page 100"] = None
        body = alice.get("/api/threads?limit=30").json()
        for _ in range(99):
            body = alice.get("/api/threads?limit=30&before=" + quote(body["next_before"])).json()
        before = body["next_before"]
        res["list page 100"] = timed(lambda: alice.get("/api/threads?limit=30&before="
                                                       + quote(before)))
        for name, q in SEARCHES:
            r = alice.get("/api/threads?limit=30&q=" + quote(q))
            assert r.status_code == 200 and r.json()["threads"], (q, r.text[:200])
            res[name] = timed(lambda: alice.get("/api/threads?limit=30&q=" + quote(q)))
        r = alice.get("/api/threads/" + long_id)
        size = len(r.content)
        res["open long thread"] = timed(lambda: alice.get("/api/threads/" + long_id), 9)
        print("\nGET B/api/me: %.2f ms (subtracted below)" % me)
        print("%-20s %12s %14s %8s" % ("", "server ms", "v3 SQL ms", "goal"))
        goals = dict({"list": 10, "list page 100": 10, "open long thread": 20},
                     **{k: 20 for k, _ in SEARCHES})
        for k, v in res.items():
            print("%-20s %12.2f %14s %8s" % (k, v - me, "%.1f" % base[k] if k in base else "-",
                                             "< %d" % goals[k]))
        print("%-20s %12.0f KB %11s %8s" % ("long thread size", size / 1024, "-", "< 300"))
    finally:
        srv.stop()
        bad = srv.bad_log_lines()
        if bad:
            print("error log:\n  " + "\n  ".join(bad[:10]))
        srv.cleanup()
        if db == "pgsql":
            harness.stop_pg_cluster()


if __name__ == "__main__":
    main()

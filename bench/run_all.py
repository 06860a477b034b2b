#!/usr/bin/python3
"""`make bench`: every benchmark, each printing its figures next to a baseline
measured in the same run. A benchmark that fails is reported and the others go on;
the exit status says whether all of them ran."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

BENCHES = [
    ("chat streaming vs mod_proxy_http and direct", [sys.executable, "bench/chat_bench.py"]),
    ("burst: 1,000 first messages at a fresh server vs mod_proxy_http (SQLite, PostgreSQL)",
     [sys.executable, "bench/burst_bench.py"]),
    ("upload 1 GiB vs curl straight to the backend", [sys.executable, "bench/upload_bench.py"]),
    ("PDF export vs the reference pipeline", [sys.executable, "bench/pdf_bench.py"]),
    ("PDF look: page 1 of ours and the reference's, side by side in artifacts/pdf-compare/",
     [sys.executable, "bench/pdf_compare.py"]),
    ("soak: memory of a child over 13,500 mixed requests", [sys.executable,
                                                            "bench/soak_bench.py"]),
    ("history: 100,000 threads (list, search, the 10,000-step thread) vs version 3's SQL",
     [sys.executable, "bench/history_bench.py"]),
    ("long threads: opening, paging back and asking in a 10,000-step thread vs a 100-step one",
     [sys.executable, "bench/thread_bench.py"]),
    ("browser: 10,000-message thread",
     ["node", "--test", "--test-concurrency=1", "tests/e2e/bench.test.mjs"]),
]


def main():
    failed = []
    for entry in BENCHES:
        title, cmd = entry[0], entry[1]
        env = dict(os.environ, **(entry[2] if len(entry) > 2 else {}))
        print("\n=== %s ===" % title, flush=True)
        if not os.path.exists(os.path.join(ROOT, cmd[-1].split()[0])):
            print("missing: %s" % cmd[-1])
            failed.append(title)
            continue
        if subprocess.run(cmd, cwd=ROOT, env=env).returncode != 0:
            failed.append(title)
    print("\n%d benchmarks, %d failed%s" % (len(BENCHES), len(failed),
                                          (": " + "; ".join(failed)) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

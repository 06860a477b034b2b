#!/usr/bin/python3
"""Upload benchmark: a large document streamed through mod_ragchat vs sent
straight to the backend, in the same run.

    /usr/bin/python3 bench/upload_bench.py [--mib 1024] [--runs 2]

Starts its own httpd (tests/harness.py) and a backend sink written in C
(bench/upload_sink.c, compiled here with gcc), so that the sink, not a Python
server, sets the baseline. The body (one multipart file of --mib MiB) is
generated on the fly and piped into curl (`-T -`, chunked), never stored:

  baseline   curl -> sink                              (POST /upload)
  module     curl -> httpd/mod_ragchat -> sink          (POST /chat/api/upload)

Reports each throughput (best of --runs), their ratio (target >= 0.8) and the
peak RSS growth of the httpd child during the upload (sampled VmRSS and VmHWM
of /proc/<pid>/status, target <= 16 MiB). Exits 0; a missed target is printed
as MISSED.
"""
import argparse
import fcntl
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests"))

import harness  # noqa: E402

MIB = 1024 * 1024
TARGET_RATIO = 0.8
TARGET_RSS_MIB = 16
BOUNDARY = "----ragchatBench7f3a9c"
F_SETPIPE_SZ = 1031


def build_sink(tmp):
    exe = os.path.join(tmp, "upload_sink")
    subprocess.run(["gcc", "-O2", "-o", exe, os.path.join(HERE, "upload_sink.c")], check=True)
    return exe


def start_sink(exe):
    proc = subprocess.Popen([exe, "0"], stdout=subprocess.PIPE, stdin=subprocess.DEVNULL)
    line = proc.stdout.readline().decode()
    if not line.startswith("PORT="):
        proc.kill()
        raise RuntimeError("the sink did not start: %r" % line)
    return proc, "http://127.0.0.1:%d" % int(line.split("=", 1)[1])


def body_parts(mib):
    head = ('--%s\r\nContent-Disposition: form-data; name="files"; filename="big.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n" % BOUNDARY).encode()
    tail = ("\r\n--%s--\r\n" % BOUNDARY).encode()
    return head, tail, mib * MIB


def run_curl(url, headers, mib, user=None):
    """POSTs the generated body with curl; returns (seconds, http_code, response)."""
    head, tail, size = body_parts(mib)
    block = os.urandom(MIB)
    cmd = ["curl", "-sS", "-X", "POST", "-T", "-", "-o", "-", "-w", "\n%{http_code}",
           "-H", "Expect:", "-H", "Content-Type: multipart/form-data; boundary=" + BOUNDARY]
    for h in headers:
        cmd += ["-H", h]
    if user:
        cmd += ["-u", user]
    cmd.append(url)
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        fcntl.fcntl(p.stdin.fileno(), F_SETPIPE_SZ, MIB)
    except OSError:
        pass
    fd = p.stdin.fileno()
    try:
        os.write(fd, head)
        view = memoryview(block)
        for _ in range(size // MIB):
            off = 0
            while off < MIB:
                off += os.write(fd, view[off:])
        os.write(fd, tail)
    except BrokenPipeError:
        pass
    p.stdin.close()
    out = p.stdout.read().decode("utf-8", "replace")
    p.wait()
    secs = time.monotonic() - t0
    text, _, code = out.rpartition("\n")
    return secs, int(code or 0), text


def proc_status(pid):
    vals = {}
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmRSS", "VmHWM"):
                    vals[k] = int(v.split()[0]) * 1024
    except OSError:
        pass
    return vals


class RssWatch:
    """Samples VmRSS of the httpd children every 10 ms while running."""

    def __init__(self, pids):
        self.pids = pids
        self.before = {p: proc_status(p) for p in pids}
        self.peak = {p: self.before[p].get("VmRSS", 0) for p in pids}
        self.stop = False
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop:
            for p in self.pids:
                rss = proc_status(p).get("VmRSS", 0)
                if rss > self.peak[p]:
                    self.peak[p] = rss
            time.sleep(0.01)

    def finish(self):
        """The largest growth of one child: max(sampled VmRSS peak, VmHWM when it
        rose during the run) minus its VmRSS before."""
        self.stop = True
        self.t.join()
        worst = 0
        for p in self.pids:
            b = self.before[p]
            after = proc_status(p)
            peak = self.peak[p]
            if after.get("VmHWM", 0) > b.get("VmHWM", 0):
                peak = max(peak, after["VmHWM"])
            worst = max(worst, peak - b.get("VmRSS", 0))
        return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mib", type=int, default=1024, help="size of the uploaded file (MiB)")
    ap.add_argument("--runs", type=int, default=2, help="runs of each path (best is kept)")
    args = ap.parse_args()
    for tool in ("curl", "gcc"):
        if not shutil.which(tool):
            print("upload_bench: %s is missing (apt-get install %s)" % (tool, tool))
            return 0

    tmp = tempfile.mkdtemp(prefix="ragchat-upbench-")
    sink = server = None
    try:
        sink, sink_url = start_sink(build_sink(tmp))
        server = harness.HttpdServer(
            backend_url=sink_url, timeouts=(5, 60), loglevel="warn",
            extra_location="RagChatUploadMaxSize %dM\nLimitRequestBody 0" % (args.mib + 16))
        api = harness.ApiClient(server, "alice")
        up_headers = ["X-CSRF-Token: " + api.csrf]
        user = "alice:" + server.users["alice"]
        url = server.url("/api/upload")

        # Warm-up: every child has its database connection and curl loaded.
        for _ in range(4):
            run_curl(url, up_headers, 1, user)

        base, mod, rss = [], [], 0
        for _ in range(args.runs):
            secs, code, text = run_curl(sink_url + "/upload", ["Authorization: Bearer x"],
                                        args.mib)
            if code != 200:
                print("baseline upload failed: %d %s" % (code, text[:300]))
                return 0
            base.append(secs)

            watch = RssWatch(server._children())
            secs, code, text = run_curl(url, up_headers, args.mib, user)
            growth = watch.finish()
            if code != 200:
                print("upload through mod_ragchat failed: %d %s" % (code, text[:300]))
                print(server.error_log()[-2000:])
                return 0
            size = json.loads(text)["files"][0]["size"]
            if size != args.mib * MIB:
                print("mod_ragchat counted %d bytes, sent %d" % (size, args.mib * MIB))
            mod.append(secs)
            rss = max(rss, growth)

        total = args.mib * MIB + sum(len(x) for x in body_parts(args.mib)[:2])
        tb, tm = min(base), min(mod)
        thr_b, thr_m = total / tb / MIB, total / tm / MIB
        ratio = thr_m / thr_b
        ok_ratio = ratio >= TARGET_RATIO
        ok_rss = rss <= TARGET_RSS_MIB * MIB

        print()
        print("Upload benchmark: one %d MiB file, multipart, chunked from curl (best of %d)"
              % (args.mib, args.runs))
        print("backend: bench/upload_sink.c (C sink: reads and discards, answers JSON)")
        print("-" * 78)
        print("%-46s %10s %14s" % ("path", "time", "throughput"))
        print("%-46s %8.2f s %9.0f MiB/s" % ("curl -> sink (baseline)", tb, thr_b))
        print("%-46s %8.2f s %9.0f MiB/s" % ("curl -> httpd/mod_ragchat -> sink", tm, thr_m))
        print("-" * 78)
        print("%-46s %10.2f   %s" % ("throughput ratio (target >= %.1f)" % TARGET_RATIO, ratio,
                                     "ok" if ok_ratio else "MISSED"))
        print("%-46s %6.1f MiB   %s" % ("httpd child peak RSS growth (target <= %d MiB)"
                                        % TARGET_RSS_MIB, rss / MIB,
                                        "ok" if ok_rss else "MISSED"))
        print("runs (s): baseline %s, module %s" % (" ".join("%.2f" % x for x in base),
                                                    " ".join("%.2f" % x for x in mod)))
        bad = server.bad_log_lines()
        if bad:
            print("error log:\n  " + "\n  ".join(bad[:10]))
    finally:
        if server:
            server.cleanup()
        if sink:
            sink.kill()
            sink.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

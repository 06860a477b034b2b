"""mod_deflate in front (SetOutputFilter DEFLATE) and HTTP/2 (h2c): the stream
is not buffered."""
import json
import os
import select
import subprocess
import time

from conftest import final_event, tokens_of
from harness import sse_lines_events

SERVER_OPTIONS = {"deflate": True, "http2": True}

TOKS = ["One", " two", " three", " four", " five"]


def check_hold(events, hold_gap=1.0):
    assert events[0][0] == "thread", events
    toks = [e for e in events if e[0] == "token"]
    assert [e[1]["t"] for e in toks] == TOKS
    gap = toks[3][2] - toks[2][2]
    assert gap >= hold_gap, "tokens held back (gap %.3f s)" % gap
    end = final_event(events)
    assert end[0] == "done" and end[1]["content"] == "".join(TOKS)


def test_deflate_stream_not_buffered(api, backend, sse):
    backend.script({"tokens": TOKS, "hold_after": 3, "hold_seconds": 1.5})
    r = api.chat("deflate", headers={"Accept-Encoding": "gzip, deflate"})
    assert r.status_code == 200
    with r:
        events = list(sse(r))
    check_hold(events)


def test_deflate_json_responses(api, backend):
    api.chat_events("something to list")
    r = api.get("/api/threads", headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert isinstance(r.json()["threads"], list)


def curl_stream(server, api, content, extra=()):
    body = json.dumps({"thread_id": None, "content": content})
    cmd = ["curl", "-sS", "-N", "--http2-prior-knowledge", "--max-time", "20",
           "-u", "alice:alice-pw", "-H", "Content-Type: application/json",
           "-H", "X-CSRF-Token: " + api.csrf, "--data-binary", body,
           "-w", "\nHTTPVERSION=%{http_version}\n"] + list(extra) + [server.url("/api/chat")]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    pieces, out = [], b""
    deadline = time.monotonic() + 25
    fd = p.stdout.fileno()
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.5)
        if r:
            d = os.read(fd, 65536)
            if not d:
                break
            pieces.append((d, time.monotonic()))
            out += d
    p.wait(5)
    err = p.stderr.read().decode()
    p.stdout.close()
    p.stderr.close()
    assert p.returncode == 0, err
    assert b"HTTPVERSION=2" in out, out[-200:]
    return list(sse_lines_events(pieces))


def test_h2c_stream_not_buffered(server, api, backend):
    backend.script({"tokens": TOKS, "hold_after": 3, "hold_seconds": 1.5})
    check_hold(curl_stream(server, api, "over h2"))


def test_h2c_compressed_stream_not_buffered(server, api, backend):
    backend.script({"tokens": TOKS, "hold_after": 3, "hold_seconds": 1.5})
    check_hold(curl_stream(server, api, "over h2, compressed", ["--compressed"]))


def test_h2c_api(server):
    p = subprocess.run(["curl", "-sS", "--http2-prior-knowledge", "--max-time", "10",
                        "-u", "alice:alice-pw", "-w", "\n%{http_version} %{http_code}",
                        server.url("/api/me")], capture_output=True, text=True, timeout=15)
    body, _, tail = p.stdout.rpartition("\n")
    assert tail == "2 200", p.stdout + p.stderr
    assert json.loads(body)["user"] == "alice"

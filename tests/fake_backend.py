#!/usr/bin/python3
"""A fake OpenAI-compatible RAG backend for mod_ragchat's tests (stdlib only).

    /usr/bin/python3 tests/fake_backend.py --port 0 [--key SECRET]

prints ``PORT=<n>`` as its first line of output, then serves:

POST /v1/chat/completions
    An SSE stream of OpenAI ``chat.completion.chunk`` objects. Each request is
    recorded and answered by the next queued script (FIFO) or, when none is
    queued, with "Echo: " + the last user message split into word tokens.
POST /upload
    Multipart body read in 64 KB pieces without being held; the file names
    are found by an incremental scan. Answers {"message": "Ingested N documents"}.
POST /_script    JSON list of scripts (or one script object) appended to the queue
POST /_release   ends every current ``hold_after`` wait
POST /_reset     clears the queue, the records and the release state
GET  /_requests  JSON list of recorded requests {path, headers, json, ...}

Script fields (all optional):
    tokens        list of strings to stream as deltas
    delay         seconds between tokens
    first_delay   seconds before the status line and headers
    hold_after    after this many tokens, wait for POST /_release or hold_seconds
    hold_seconds  upper bound of the hold (default 10)
    status        a non-2xx status: answered with {"error":{"message": body_message}}
                  (or the plain text body_text when given)
    body_message  message of the error body
    body_text     a plain-text error body instead of JSON
    break_after   cut the connection abruptly after n tokens (no [DONE])
    no_done       end the stream cleanly without [DONE]
    raw           list of strings written as-is (each flushed separately) instead
                  of the generated chunks; a string may hold CRLF, comments...
    json_preamble a dict (or true): tokens are prefixed by a ```json {...}``` block
    stall         after the headers (and the first hold_after/stall_after tokens)
                  send nothing for this many seconds, then close without [DONE]
    stall_after   number of tokens sent before a stall (default 0)
    chunked       false: close-delimited body instead of chunked encoding
    role_chunk    false: no first {"role":"assistant"} chunk
"""
import argparse
import json
import socket
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self, key=None):
        self.key = key
        self.lock = threading.Lock()
        self.queue = []
        self.requests = []
        self.release_gen = 0
        self.cond = threading.Condition(self.lock)

    def next_script(self):
        with self.lock:
            return self.queue.pop(0) if self.queue else None

    def record(self, entry):
        with self.lock:
            self.requests.append(entry)

    def release(self):
        with self.lock:
            self.release_gen += 1
            self.cond.notify_all()

    def reset(self):
        with self.lock:
            self.queue = []
            self.requests = []
            self.release_gen += 1
            self.cond.notify_all()

    def wait_release(self, gen, seconds):
        deadline = time.monotonic() + seconds
        with self.lock:
            while self.release_gen == gen:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True


def chunk(cid, delta, finish=None):
    obj = {"id": cid, "object": "chat.completion.chunk", "created": int(time.time()),
           "model": "fake", "choices": [{"index": 0, "delta": delta,
                                         "finish_reason": finish}]}
    return "data: " + json.dumps(obj) + "\n\n"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeRAG/1.0"

    def log_message(self, fmt, *args):  # quiet
        pass

    @property
    def state(self):
        return self.server.state

    # ---- helpers -------------------------------------------------------
    def send_json(self, status, obj, close=False):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def read_body(self, limit=64 * 1024 * 1024):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
                if len(data) > limit:
                    raise ValueError("body too large")
        if n > limit:
            raise ValueError("body too large")
        return self.rfile.read(n) if n else b""

    def headers_dict(self):
        return {k: v for k, v in self.headers.items()}

    # ---- routes --------------------------------------------------------
    def do_GET(self):
        if self.path == "/_requests":
            with self.state.lock:
                data = list(self.state.requests)
            return self.send_json(200, data)
        if self.path == "/_health":
            return self.send_json(200, {"ok": True})
        self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        path = self.path.split("?")[0]
        if path == "/_script":
            body = json.loads(self.read_body() or b"[]")
            if isinstance(body, dict):
                body = [body]
            with self.state.lock:
                self.state.queue.extend(body)
            return self.send_json(200, {"queued": len(body)})
        if path == "/_release":
            self.read_body()
            self.state.release()
            return self.send_json(200, {"released": True})
        if path == "/_reset":
            self.read_body()
            self.state.reset()
            return self.send_json(200, {"reset": True})
        if path == "/v1/chat/completions":
            return self.chat()
        if path == "/upload":
            return self.upload()
        self.read_body()
        self.send_json(404, {"error": {"message": "not found"}})

    def check_key(self):
        if not self.state.key:
            return True
        if self.headers.get("Authorization") == "Bearer " + self.state.key:
            return True
        self.send_json(401, {"error": {"message": "invalid API key"}})
        return False

    def error_status(self, script):
        status = int(script["status"])
        if "body_text" in script:
            body = str(script["body_text"]).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        else:
            self.send_json(status, {"error": {"message": script.get("body_message",
                                                                     "backend failure")}})

    # ---- chat ----------------------------------------------------------
    def chat(self):
        raw = self.read_body()
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        self.state.record({"path": "/v1/chat/completions", "headers": self.headers_dict(),
                           "json": body, "time": time.time()})
        if not self.check_key():
            return
        script = self.state.next_script() or {}
        # The release generation at the request's start: a release sent while
        # this answer streams ends its hold, even before the hold begins.
        gen = self.state.release_gen
        if script.get("first_delay"):
            time.sleep(float(script["first_delay"]))
        if script.get("status") and not 200 <= int(script["status"]) < 300:
            return self.error_status(script)

        tokens = script.get("tokens")
        if tokens is None:
            last = ""
            for m in (body or {}).get("messages") or []:
                if isinstance(m, dict) and m.get("role") == "user":
                    last = m.get("content") or ""
            words = ("Echo: " + last).split(" ")
            tokens = [w + (" " if i < len(words) - 1 else "") for i, w in enumerate(words)]
        tokens = list(tokens)
        pre = script.get("json_preamble")
        if pre:
            obj = pre if isinstance(pre, dict) else {"sources": ["doc.pdf"], "score": 0.9}
            tokens = ["```json\n", json.dumps(obj), "\n```\n"] + tokens

        chunked = script.get("chunked", True)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Connection", "close")
        self.close_connection = True
        self.end_headers()
        self.wfile.flush()

        def write(s):
            data = s.encode() if isinstance(s, str) else s
            if not data:
                return
            if chunked:
                data = b"%x\r\n%s\r\n" % (len(data), data)
            self.wfile.write(data)
            self.wfile.flush()

        def finish():
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        def cut():
            try:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           b"\x01\x00\x00\x00\x00\x00\x00\x00")
            except OSError:
                pass
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self.connection.close()

        delay = float(script.get("delay", 0))
        try:
            if script.get("raw") is not None:
                for piece in script["raw"]:
                    write(piece)
                    if delay:
                        time.sleep(delay)
                finish()
                return
            if script.get("stall") and not script.get("stall_after"):
                time.sleep(float(script["stall"]))
                cut()
                return
            cid = "chatcmpl-" + uuid.uuid4().hex[:12]
            if script.get("role_chunk", True):
                write(chunk(cid, {"role": "assistant"}))
            for i, tok in enumerate(tokens):
                if "break_after" in script and i == int(script["break_after"]):
                    cut()
                    return
                if script.get("stall") and i == int(script.get("stall_after", 0)):
                    time.sleep(float(script["stall"]))
                    cut()
                    return
                if "hold_after" in script and i == int(script["hold_after"]):
                    self.state.wait_release(gen, float(script.get("hold_seconds", 10)))
                elif i and delay:
                    time.sleep(delay)
                write(chunk(cid, {"content": tok}))
            if "break_after" in script and int(script["break_after"]) >= len(tokens):
                cut()
                return
            if script.get("stall") and int(script.get("stall_after", 0)) >= len(tokens):
                time.sleep(float(script["stall"]))
                cut()
                return
            write(chunk(cid, {}, finish="stop"))
            if not script.get("no_done"):
                write("data: [DONE]\n\n")
            finish()
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True

    # ---- upload --------------------------------------------------------
    def upload(self):
        headers = self.headers_dict()
        if self.state.key and self.headers.get("Authorization") != "Bearer " + self.state.key:
            self.drain()
            return self.check_key()
        script = self.state.next_script() or {}
        ctype = self.headers.get("Content-Type", "")
        boundary = None
        for part in ctype.split(";"):
            part = part.strip()
            if part.lower().startswith("boundary="):
                boundary = part[9:].strip('"')
        names, total = self.scan_multipart(boundary)
        self.state.record({"path": "/upload", "headers": headers, "json": None,
                           "files": names, "bytes": total, "time": time.time()})
        if script.get("delay"):
            time.sleep(float(script["delay"]))
        if script.get("status") and not 200 <= int(script["status"]) < 300:
            return self.error_status(script)
        self.send_json(200, {"message": "Ingested %d documents" % len(names)})

    def body_pieces(self):
        """The request body in pieces of at most 64 KB, never held whole."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                line = self.rfile.readline()
                if not line:
                    return
                size = int(line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return
                while size:
                    piece = self.rfile.read(min(size, 65536))
                    if not piece:
                        return
                    size -= len(piece)
                    yield piece
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length") or 0)
            while left > 0:
                piece = self.rfile.read(min(left, 65536))
                if not piece:
                    return
                left -= len(piece)
                yield piece

    def drain(self):
        for _ in self.body_pieces():
            pass

    def scan_multipart(self, boundary):
        """Counts bytes and collects filename="..." of part headers incrementally."""
        names, total, tail = [], 0, b""
        needle = b'filename="'
        for piece in self.body_pieces():
            total += len(piece)
            buf = tail + piece
            pos = 0
            while True:
                i = buf.find(needle, pos)
                if i < 0:
                    break
                j = buf.find(b'"', i + len(needle))
                if j < 0:
                    break
                names.append(buf[i + len(needle):j].decode("utf-8", "replace"))
                pos = j + 1
            # keep a tail long enough to hold a split needle + a name
            # Every complete name ends before pos: keep a tail that may hold
            # the start of a name split across pieces.
            tail = buf[max(pos, len(buf) - 1024):]
        return names, total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--key", default=None)
    ap.add_argument("--exit-on-eof", action="store_true",
                    help="exit when stdin reaches EOF (the parent went away)")
    args = ap.parse_args()
    # A burst of answers (test_burst.py: 200 at once) connects all at once: a
    # listen queue of socketserver's default 5 drops their SYNs for seconds.
    ThreadingHTTPServer.request_queue_size = 1024
    srv = ThreadingHTTPServer((args.host, args.port), Handler)
    srv.daemon_threads = True
    srv.state = State(args.key)
    print("PORT=%d" % srv.server_address[1], flush=True)
    if args.exit_on_eof:
        def watch():
            while sys.stdin.buffer.read(4096):
                pass
            srv.shutdown()
        threading.Thread(target=watch, daemon=True).start()
    try:
        srv.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()

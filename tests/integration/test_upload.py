"""POST B/api/upload: files streamed to the backend, limits, records, errors.

Two servers: `server` talks to the shared FakeBackend; `rec_server` talks to a
RecordingBackend defined here, which keeps every part it receives (field name,
file name, type, sha256, size) and whether the body arrived complete, so the
tests can check byte identity and that an aborted upload reached the backend
truncated.
"""
import hashlib
import json
import os
import re
import socket
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import TIMESTAMP, UUID4, ApiClient, assert_error_json, db_errors, wait_for

LIMITS = "RagChatUploadMaxSize 2M\nRagChatUploadMaxFiles 3"
SERVER_OPTIONS = {"extra_location": LIMITS}
MAX_SIZE = 2 * 1024 * 1024
# Backend failures are logged at warn level; client errors at info only.
LOG_ALLOW = [r"RC0401: upload refused \((502|504) ",
             r"RC0401: upload refused \(501 "]  # builtin placeholder


# ---- a backend that records exactly what it receives ---------------------------
class RecordingBackend:
    """POST /upload: reads the whole body (chunked or Content-Length), records
    its parts and whether it was complete, answers the next queued script:
    {"status": n, "message": "...", "delay": s} (default 200 "Stored N files")."""

    def __init__(self):
        self.requests = []
        self.scripts = []
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                owner.handle(self)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def reset(self):
        with self.lock:
            self.requests = []
            self.scripts = []

    def script(self, s):
        with self.lock:
            self.scripts.append(s)

    @staticmethod
    def read_body(h):
        """(body, complete)"""
        if h.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = []
            while True:
                line = h.rfile.readline()
                if not line.endswith(b"\n"):
                    return b"".join(out), False
                try:
                    n = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    return b"".join(out), False
                if n == 0:
                    h.rfile.readline()
                    return b"".join(out), True
                data = h.rfile.read(n)
                out.append(data)
                if len(data) < n or h.rfile.readline() != b"\r\n":
                    return b"".join(out), False
        n = int(h.headers.get("Content-Length") or 0)
        data = h.rfile.read(n)
        return data, len(data) == n

    @staticmethod
    def parts(body, boundary):
        out = []
        segs = (b"\r\n" + body).split(b"\r\n--" + boundary)
        for seg in segs[1:]:
            if seg.startswith(b"--"):
                break
            head, _, content = seg.partition(b"\r\n\r\n")
            head = head.decode("utf-8", "replace")
            name = re.search(r'\bname="([^"]*)"', head)
            fname = re.search(r'filename="([^"]*)"', head)
            ctype = re.search(r"(?im)^content-type:\s*(.*)$", head)
            out.append({"name": name and name.group(1), "filename": fname and fname.group(1),
                        "type": ctype and ctype.group(1).strip(), "size": len(content),
                        "sha256": hashlib.sha256(content).hexdigest(), "head": head})
        return out

    def handle(self, h):
        ctype = h.headers.get("Content-Type", "")
        m = re.search(r'boundary="?([^";]+)"?', ctype)
        body, complete = self.read_body(h)
        rec = {"path": h.path, "headers": dict(h.headers.items()), "complete": complete,
               "bytes": len(body), "boundary": m and m.group(1),
               "parts": self.parts(body, m.group(1).encode()) if m and complete else None}
        with self.lock:
            self.requests.append(rec)
            script = self.scripts.pop(0) if self.scripts else {}
        if not complete:
            h.close_connection = True
            return
        if script.get("delay"):
            time.sleep(script["delay"])
        status = script.get("status", 200)
        msg = script.get("message", "Stored %d files" % len(rec["parts"] or []))
        payload = json.dumps({"message": msg} if status < 300 else {"detail": msg}).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        h.end_headers()
        h.wfile.write(payload)


@pytest.fixture(scope="module")
def recorder():
    r = RecordingBackend()
    yield r
    r.stop()


@pytest.fixture
def rec(recorder):
    recorder.reset()
    return recorder


@pytest.fixture(scope="module")
def rec_server(make_server, recorder):
    return make_server(backend_url=recorder.url, extra_location=LIMITS)


@pytest.fixture(scope="module")
def rec_api(rec_server):
    return ApiClient(rec_server, "alice")


# ---- helpers ---------------------------------------------------------------------
def multipart(parts, boundary=None):
    """parts: list of (field, filename or None, content_type or None, bytes).
    Returns (body, content_type)."""
    boundary = boundary or "----pyBoundary" + uuid.uuid4().hex
    out = []
    for field, fname, ctype, data in parts:
        disp = 'form-data; name="%s"' % field
        if fname is not None:
            disp += '; filename="%s"' % fname
        head = "--%s\r\nContent-Disposition: %s\r\n" % (boundary, disp)
        if ctype:
            head += "Content-Type: %s\r\n" % ctype
        out.append(head.encode("utf-8") + b"\r\n" + data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=%s" % boundary


def upload(api, parts, **kw):
    body, ctype = multipart(parts)
    headers = dict(kw.pop("headers", {}))
    headers["Content-Type"] = ctype
    return api.post("/api/upload", data=body, headers=headers, **kw)


def counts(server):
    """Rows of threads, steps, elements (zeros before the schema exists)."""
    con = server.db()
    try:
        return tuple(con.execute("SELECT COUNT(*) FROM %s" % t).fetchone()[0]
                     for t in ("threads", "steps", "elements"))
    except db_errors():
        return (0, 0, 0)
    finally:
        con.close()


def uploads(backend):
    return backend.requests("/upload")


def raw_request(server, api, headers, body_pieces=(), read=True, extra_headers=""):
    """Sends a request over a raw socket (Basic auth, CSRF); returns (status, body)."""
    import base64
    s = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    auth = base64.b64encode(("%s:%s" % (api.user, server.users[api.user])).encode()).decode()
    head = ("POST %s/api/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Basic %s\r\n"
            "X-CSRF-Token: %s\r\n%s%s\r\n" % (server.base, auth, api.csrf, headers, extra_headers))
    s.sendall(head.encode())
    for piece in body_pieces:
        s.sendall(piece)
    if not read:
        return s
    return read_response(s)


def read_response(s):
    data = b""
    s.settimeout(15)
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionResetError, socket.timeout):
            break
        if not chunk:
            break
        data += chunk
        head, sep, rest = data.partition(b"\r\n\r\n")
        if sep:
            m = re.search(rb"(?i)content-length:\s*(\d+)", head)
            if m and len(rest) >= int(m.group(1)):
                break
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return status, rest


# ---- success ---------------------------------------------------------------------
def test_several_files_recorded_like_the_reference(server, api, backend):
    pdf = b"%PDF-1.4\n" + os.urandom(5000)
    md = "# Notes\n\nsome text\n".encode()
    r = upload(api, [("files", "a.pdf", "application/pdf", pdf),
                     ("files", "b.md", "text/markdown", md)])
    assert r.status_code == 200, r.text
    j = r.json()
    assert set(j) >= {"thread_id", "step_id", "message", "files"}
    assert j["message"] == "Ingested 2 documents"
    assert j["files"] == [{"name": "a.pdf", "size": len(pdf), "mime": "application/pdf"},
                          {"name": "b.md", "size": len(md), "mime": "text/markdown"}]
    assert UUID4.match(j["thread_id"]) and UUID4.match(j["step_id"])

    req = uploads(backend)
    assert len(req) == 1
    assert req[0]["files"] == ["a.pdf", "b.md"]
    assert req[0]["headers"].get("Authorization") == "Bearer test-key-123"
    assert req[0]["headers"].get("Content-Type", "").startswith("multipart/form-data; boundary=")
    assert req[0]["headers"].get("Transfer-Encoding", "").lower() == "chunked"

    con = server.db()
    try:
        t = con.execute("SELECT * FROM threads WHERE id = ?", (j["thread_id"],)).fetchone()
        assert t["name"] == "a.pdf, b.md" and t["userIdentifier"] == "alice"
        steps = con.execute('SELECT * FROM steps WHERE "threadId" = ? ORDER BY "createdAt"',
                            (j["thread_id"],)).fetchall()
        assert [s["type"] for s in steps] == ["user_message", "assistant_message"]
        user, asst = steps
        assert user["output"] == "Uploaded: a.pdf, b.md" and user["name"] == "alice"
        assert asst["id"] == j["step_id"] and asst["output"] == "Ingested 2 documents"
        assert asst["name"] == "Assistant" and asst["isError"] == 0
        for s in steps:
            assert UUID4.match(s["id"]) and TIMESTAMP.match(s["createdAt"])
        # marked as an upload, in the conversation's branch
        assert json.loads(user["metadata"]) == {"upload": True, "after": None}
        assert json.loads(asst["metadata"]) == {"upload": True, "after": user["id"]}
        assert user["createdAt"] < asst["createdAt"]
        els = con.execute('SELECT * FROM elements WHERE "threadId" = ? ORDER BY name',
                          (j["thread_id"],)).fetchall()
        assert [dict(e) for e in els] == [
            {"id": els[0]["id"], "threadId": j["thread_id"], "type": "file", "url": None,
             "chainlitKey": None, "name": "a.pdf", "display": "inline", "objectKey": None,
             "size": str(len(pdf)), "page": None, "language": None, "forId": user["id"],
             "mime": "application/pdf", "props": "{}"},
            {"id": els[1]["id"], "threadId": j["thread_id"], "type": "file", "url": None,
             "chainlitKey": None, "name": "b.md", "display": "inline", "objectKey": None,
             "size": str(len(md)), "page": None, "language": None, "forId": user["id"],
             "mime": "text/markdown", "props": "{}"}]
        assert all(UUID4.match(e["id"]) for e in els)
    finally:
        con.close()
    # The thread API shows the upload like any conversation.
    th = api.thread(j["thread_id"])
    assert [s["type"] for s in th["steps"]] == ["user_message", "assistant_message"]
    assert sorted(e["name"] for e in th["elements"]) == ["a.pdf", "b.md"]


@pytest.mark.parametrize("first", [True, False], ids=["thread_id_first", "thread_id_last"])
def test_into_an_existing_thread(api, backend, first):
    thread_id = upload(api, [("files", "one.txt", "text/plain", b"1")]).json()["thread_id"]
    field = ("thread_id", None, None, thread_id.encode())
    files = [("files", "two.txt", "text/plain", b"22")]
    r = upload(api, [field] + files if first else files + [field])
    assert r.status_code == 200, r.text
    assert r.json()["thread_id"] == thread_id
    th = api.thread(thread_id)
    assert th["name"] == "one.txt"
    assert [s["output"] for s in th["steps"]] == ["Uploaded: one.txt", "Ingested 1 documents",
                                                 "Uploaded: two.txt", "Ingested 1 documents"]


def test_unicode_and_path_names_are_display_text(server, api, backend):
    names = ["résumé 日本語.md", "../../etc/evil.txt", "C:\\Users\\bob\\report.pdf"]
    r = upload(api, [("files", n, "text/plain", b"x") for n in names])
    assert r.status_code == 200, r.text
    got = [f["name"] for f in r.json()["files"]]
    assert got[0] == "résumé 日本語.md"
    for g in got:
        assert "/" not in g and "\\" not in g and not g.startswith(".."), got
    assert got[1].endswith("evil.txt") and got[2].endswith("report.pdf")
    assert uploads(backend)[0]["files"] == got
    con = server.db()
    try:
        rows = [x[0] for x in con.execute('SELECT name FROM elements WHERE "threadId" = ?',
                                           (r.json()["thread_id"],))]
    finally:
        con.close()
    assert sorted(rows) == sorted(got)


def test_bytes_reach_the_backend_identical(rec_api, rec):
    client_boundary = "----pyBoundary" + uuid.uuid4().hex
    b = client_boundary.encode()
    # The boundary inside the content, never as a delimiter (CRLF "--" boundary):
    # at the very start, after other bytes, split across reads, almost complete.
    tricky = (b"--" + b + b"\r\n" + b"x--" + b + b"--\r\n" + b"\r\n--" + b[:-1] + b"\r\n"
              + b"\r\n-" + b + b"\r\nContent-Disposition: form-data; name=\"files\"\r\n\r\n")
    files = [("files", "empty.txt", "text/plain", b""),
             ("files", "tricky.md", "text/markdown",
              b"x".join([tricky] * 50) + os.urandom(1000) + b"y" + tricky),
             ("files", "big.pdf", "application/pdf", os.urandom(700 * 1024) + b"\r\n--")]
    body, ctype = multipart([("ignored", None, None, b"some field")] + files,
                            boundary=client_boundary)
    r = rec_api.post("/api/upload", data=body, headers={"Content-Type": ctype})
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Stored 3 files"
    assert [f["size"] for f in r.json()["files"]] == [len(f[3]) for f in files]
    [req] = rec.requests
    assert req["complete"] and req["path"] == "/upload"
    assert req["boundary"] != client_boundary
    assert [(p["name"], p["filename"], p["type"], p["size"], p["sha256"])
            for p in req["parts"]] == [("files", f[1], f[2], len(f[3]),
                                        hashlib.sha256(f[3]).hexdigest()) for f in files]


# ---- malformed requests ------------------------------------------------------------
def test_truncated_multipart_is_400(server, api, backend):
    before = counts(server)
    body, ctype = multipart([("files", "a.txt", "text/plain", b"hello " * 1000)])
    body = body[:-len(b"--\r\n") - 200]       # no closing boundary
    r = api.post("/api/upload", data=body, headers={"Content-Type": ctype})
    assert_error_json(r, 400, "bad_multipart")
    assert counts(server) == before


@pytest.mark.parametrize("ctype,status", [("application/json", 415),
                                          ("multipart/form-data", 400),
                                          ("multipart/form-data; boundary=", 400)])
def test_bad_content_type(server, api, backend, ctype, status):
    r = api.post("/api/upload", data=b"{}", headers={"Content-Type": ctype})
    assert_error_json(r, status)
    assert not uploads(backend)


def test_no_files_is_400(server, api, backend):
    r = upload(api, [("thread_id", None, None, b"")])
    assert_error_json(r, 400, "no_files")
    assert not uploads(backend)


def test_csrf_and_method(server, api):
    body, ctype = multipart([("files", "a.txt", "text/plain", b"x")])
    r = api.post("/api/upload", data=body, headers={"Content-Type": ctype}, csrf=False)
    assert r.status_code == 403
    assert api.get("/api/upload").status_code == 405


# ---- limits -------------------------------------------------------------------------
def test_content_length_over_the_limit_is_413_before_reading(server, api, backend):
    mark = server.log_mark()
    t0 = time.monotonic()
    status, body = raw_request(server, api,
                               "Content-Type: multipart/form-data; boundary=xyz\r\n"
                               "Content-Length: %d\r\nExpect: 100-continue\r\n" % (MAX_SIZE + 1))
    assert status == 413, body
    assert time.monotonic() - t0 < 5
    msg = json.loads(body)["error"]["message"]
    assert "RagChatUploadMaxSize" in msg and str(MAX_SIZE) in msg
    assert not uploads(backend)
    assert "[ragchat:info]" in server.log_since(mark)


def test_chunked_body_crossing_the_limit_is_413(rec_server, rec_api, rec):
    before = counts(rec_server)
    body, ctype = multipart([("files", "huge.txt", "text/plain", b"a" * (MAX_SIZE + 300000))])
    s = raw_request(rec_server, rec_api, "Content-Type: %s\r\nTransfer-Encoding: chunked\r\n"
                    % ctype, read=False)

    def send():
        try:
            for i in range(0, len(body), 65536):
                piece = body[i:i + 65536]
                s.sendall(b"%x\r\n%s\r\n" % (len(piece), piece))
            s.sendall(b"0\r\n\r\n")
        except OSError:
            pass
    th = threading.Thread(target=send, daemon=True)
    th.start()
    status, resp = read_response(s)
    th.join(10)
    assert status == 413, resp
    msg = json.loads(resp)["error"]["message"]
    assert "huge.txt" in msg and "RagChatUploadMaxSize" in msg
    assert wait_for(lambda: rec.requests)
    assert not rec.requests[0]["complete"]      # the backend saw a truncated body
    assert counts(rec_server) == before


def test_too_many_files_before_the_backend(server, api, backend):
    before = counts(server)
    r = upload(api, [("files", "f%d.txt" % i, "text/plain", b"x") for i in range(4)])
    body = assert_error_json(r, 413, "too_many_files")
    assert "f3.txt" in body["error"]["message"] and "3" in body["error"]["message"]
    assert not uploads(backend)                 # refused within the first read
    assert counts(server) == before


def test_too_many_files_aborts_the_running_transfer(rec_server, rec_api, rec):
    before = counts(rec_server)
    parts = [("files", "f%d.txt" % i, "text/plain", os.urandom(300 * 1024)) for i in range(4)]
    r = upload(rec_api, parts)
    body = assert_error_json(r, 413, "too_many_files")
    assert "f3.txt" in body["error"]["message"]
    assert wait_for(lambda: rec.requests)
    assert not rec.requests[0]["complete"]
    assert counts(rec_server) == before


def test_disallowed_type_is_415_and_never_reaches_the_backend(server, api, backend):
    r = upload(api, [("files", "setup.exe", "application/x-msdownload", b"MZ")])
    body = assert_error_json(r, 415, "unsupported_type")
    assert "setup.exe" in body["error"]["message"]
    assert "RagChatUploadTypes" in body["error"]["message"]
    assert not uploads(backend)


def test_later_disallowed_type_aborts_and_records_nothing(rec_server, rec_api, rec):
    before = counts(rec_server)
    r = upload(rec_api, [("files", "ok.pdf", "application/pdf", os.urandom(600 * 1024)),
                         ("files", "run.sh", "text/x-sh", b"#!/bin/sh\n")])
    body = assert_error_json(r, 415, "unsupported_type")
    assert "run.sh" in body["error"]["message"]
    assert wait_for(lambda: rec.requests)
    assert not rec.requests[0]["complete"]
    assert counts(rec_server) == before


# ---- backend failures ----------------------------------------------------------------
def test_backend_error_is_relayed_as_502(server, api, backend):
    before = counts(server)
    backend.script({"status": 500, "body_message": "the vector store is full"})
    r = upload(api, [("files", "a.txt", "text/plain", b"hello")])
    body = assert_error_json(r, 502, "backend_error")
    # the status and what to do; the backend's own words only in the log
    assert "the vector store is full" not in body["error"]["message"]
    assert "500" in body["error"]["message"]
    assert "the vector store is full" in server.error_log()
    assert counts(server) == before


def test_backend_detail_message_is_relayed(rec_api, rec):
    rec.script({"status": 422, "message": "unsupported PDF encryption"})
    r = upload(rec_api, [("files", "a.pdf", "application/pdf", b"%PDF")])
    body = assert_error_json(r, 502, "backend_error")
    assert "unsupported PDF encryption" not in body["error"]["message"]
    assert "422" in body["error"]["message"]


def test_backend_down_is_502(make_server):
    srv = make_server(backend_url="http://127.0.0.1:9", extra_location=LIMITS)
    api = ApiClient(srv, "alice")
    r = upload(api, [("files", "a.txt", "text/plain", b"hello")])
    assert_error_json(r, 502, "backend_error")
    assert counts(srv) == (0, 0, 0)


def test_slow_backend_is_504(server, api, backend):
    before = counts(server)
    backend.script({"delay": 6})
    t0 = time.monotonic()
    r = upload(api, [("files", "a.txt", "text/plain", b"hello")])
    assert_error_json(r, 504, "backend_timeout")
    assert time.monotonic() - t0 < 6
    assert counts(server) == before


# ---- the client going away, ownership ------------------------------------------------------
def test_client_abort_mid_upload_aborts_the_backend(rec_server, rec_api, rec):
    before = counts(rec_server)
    mark = rec_server.log_mark()
    body, ctype = multipart([("files", "a.pdf", "application/pdf", os.urandom(1500 * 1024))])
    s = raw_request(rec_server, rec_api, "Content-Type: %s\r\nContent-Length: %d\r\n"
                    % (ctype, len(body)), body_pieces=[body[:600 * 1024]], read=False)
    time.sleep(0.5)                             # the module is streaming to the backend
    s.close()
    assert wait_for(lambda: rec.requests, timeout=10), "the backend never saw the upload"
    assert not rec.requests[0]["complete"]
    assert 0 < rec.requests[0]["bytes"] < len(body)
    assert wait_for(lambda: "RC0401" in rec_server.log_since(mark), timeout=10)
    log = rec_server.log_since(mark)
    assert re.search(r"\[ragchat:info\].*RC0401: upload refused \(400 incomplete", log), log
    assert counts(rec_server) == before


@pytest.mark.parametrize("first", [True, False], ids=["thread_id_first", "thread_id_last"])
def test_another_users_thread_is_404(server, api, backend, first):
    bob = ApiClient(server, "bob")
    bobs = upload(bob, [("files", "bob.txt", "text/plain", b"b")]).json()["thread_id"]
    backend.reset()
    before = counts(server)
    field = ("thread_id", None, None, bobs.encode())
    files = [("files", "mine.txt", "text/plain", b"m")]
    r = upload(api, [field] + files if first else files + [field])
    assert_error_json(r, 404, "not_found")
    if first:
        assert not uploads(backend)             # checked before streaming
    assert counts(server) == before
    assert len(bob.thread(bobs)["steps"]) == 2


def test_unknown_thread_is_404(api, backend):
    r = upload(api, [("thread_id", None, None, str(uuid.uuid4()).encode()),
                     ("files", "a.txt", "text/plain", b"x")])
    assert_error_json(r, 404)
    assert not uploads(backend)


# ---- the built-in backend ------------------------------------------------------------------
def test_builtin_backend(make_server):
    srv = make_server(backend_url="builtin", extra_location=LIMITS)
    api = ApiClient(srv, "alice")
    r = upload(api, [("files", "notes.md", "text/markdown",
                      b"# Apache\n\nThe Apache HTTP Server is a web server.\n")])
    if r.status_code == 501:
        pytest.skip("the built-in backend is not in this build: %s" % r.text)
    assert r.status_code == 200, r.text
    j = r.json()
    assert j["files"][0]["name"] == "notes.md" and j["message"]
    th = api.thread(j["thread_id"])
    assert [s["type"] for s in th["steps"]] == ["user_message", "assistant_message"]
    assert th["steps"][1]["output"] == j["message"]

"""The browser goes away mid-answer: the module reads the backend to the end
and saves the whole answer."""
import base64
import json
import socket
import struct
import time

from conftest import step_row, tokens_of, wait_for
from harness import sse_lines_events


def raw_chat(server, api, content, read_tokens, rst=False):
    """POSTs a chat on a raw socket, reads `read_tokens` token events, closes."""
    body = json.dumps({"thread_id": None, "content": content}).encode()
    auth = base64.b64encode(b"alice:alice-pw").decode()
    head = ("POST %s/api/chat HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
            "Authorization: Basic %s\r\nX-CSRF-Token: %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (server.base, server.port, auth, api.csrf, len(body))).encode()
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
    sock.sendall(head + body)
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = sock.recv(65536)
        assert d, "connection closed before headers"
        buf += d
    head, rest = buf.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200"), head

    def pieces():
        # Raw bytes of the chunked body, as they come; dechunk() unframes them.
        data = rest
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if data:
                yield data, time.monotonic()
            data = sock.recv(65536)
            if not data:
                return

    events = []
    for ev in sse_lines_events(dechunk(pieces())):
        events.append(ev)
        if len(tokens_of(events)) >= read_tokens:
            break
    if rst:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return events


def dechunk(pieces):
    """Removes HTTP/1.1 chunked framing from a stream of (bytes, t) pieces."""
    buf, want = b"", None
    for data, t in pieces:
        buf += data
        out = b""
        while True:
            if want is None:
                i = buf.find(b"\r\n")
                if i < 0:
                    break
                size = int(buf[:i].split(b";")[0], 16)
                buf = buf[i + 2:]
                if size == 0:
                    if out:
                        yield out, t
                    return
                want = size
            if len(buf) < want + 2:
                break
            out += buf[:want]
            buf = buf[want + 2:]
            want = None
        if out:
            yield out, t


def check_saved(server, events, toks):
    assert events[0][0] == "thread"
    step = events[0][1]["assistant_step_id"]
    want = "".join(toks)
    row = wait_for(lambda: (lambda r: r if r and r["output"] == want else None)(
        step_row(server, step)), 5)
    assert row is not None, "answer not saved completely: %r" % (step_row(server, step),)
    assert row["isError"] == 0, row


def test_disconnect_keeps_whole_answer(server, api, backend):
    toks = ["piece%d " % i for i in range(10)]
    backend.script({"tokens": toks, "delay": 0.15})
    events = raw_chat(server, api, "leave early", 2)
    assert tokens_of(events) == toks[:2]
    t0 = time.monotonic()
    check_saved(server, events, toks)
    assert time.monotonic() - t0 < 5
    # The backend was read to its end.
    assert len(backend.chat_requests()) == 1


def test_disconnect_with_reset(server, api, backend):
    toks = ["reset%d " % i for i in range(8)]
    backend.script({"tokens": toks, "delay": 0.15})
    events = raw_chat(server, api, "leave rudely", 2, rst=True)
    check_saved(server, events, toks)


def test_server_still_serves_after_disconnects(api, backend):
    events = api.chat_events("still there?")
    assert events[-1][0] == "done"


def test_disconnect_prefork(make_server, backend):
    from harness import ApiClient
    srv = make_server(mpm="prefork")
    alice = ApiClient(srv, "alice")
    toks = ["pf%d " % i for i in range(8)]
    backend.script({"tokens": toks, "delay": 0.15})
    events = raw_chat(srv, alice, "prefork leave", 2)
    check_saved(srv, events, toks)

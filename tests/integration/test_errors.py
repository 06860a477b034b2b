"""Bad requests and backend faults: JSON errors before the stream, error events
and partial answers saved after it started."""
import json
import re
import socket
import time
import uuid

import pytest
import requests

from conftest import (ApiClient, assert_error_json, final_event, free_port_closed,
                      step_row, tokens_of, wait_for)

# Backend failures are logged as warnings (RC0204) by design.
LOG_ALLOW = [r"RC0204", r"AH01617",  # + the wrong password of test_no_credentials
             r"RC0101: database error in .*rejected by the test"]

@pytest.fixture(scope="module")
def open_server(make_server, backend_proc):
    """A server whose second location runs RagChatAuth apache with no auth at all."""
    srv = make_server(extra_server="""
<Location /open>
    SetHandler ragchat
    RagChatBackend %s
    RagChatAuth apache
</Location>
""" % backend_proc.url)
    return srv


# ---- bad input ------------------------------------------------------------------
def test_invalid_json(api):
    r = api.post("/api/chat", data=b'{"content": "x"', headers={"Content-Type": "application/json"})
    assert_error_json(r, 400)
    r = api.post("/api/chat", data=b'["content"]', headers={"Content-Type": "application/json"})
    assert_error_json(r, 400)
    r = api.post("/api/chat", data=b'\xff\xfe{}', headers={"Content-Type": "application/json"})
    assert_error_json(r, 400)


@pytest.mark.parametrize("content", ["", "   ", " \n\t ", None, 42])
def test_empty_content(api, backend, content):
    r = api.post("/api/chat", json={"thread_id": None, "content": content})
    assert_error_json(r, 400)
    assert backend.chat_requests() == []


def test_missing_content(api, backend):
    assert_error_json(api.post("/api/chat", json={"thread_id": None}), 400)


def test_unknown_thread_id(api, backend):
    r = api.post("/api/chat", json={"thread_id": str(uuid.uuid4()), "content": "hi"})
    assert_error_json(r, 404)
    assert backend.chat_requests() == []


def test_body_over_limit(api, backend):
    big = json.dumps({"thread_id": None, "content": "x" * (2 * 1024 * 1024)})
    r = api.post("/api/chat", data=big, headers={"Content-Type": "application/json"})
    assert_error_json(r, 413)
    assert backend.chat_requests() == []


def test_body_over_limit_chunked(api, backend):
    def gen():
        yield b'{"thread_id": null, "content": "'
        for _ in range(32):
            yield b"y" * 65536
        yield b'"}'
    r = api.post("/api/chat", data=gen(), headers={"Content-Type": "application/json"})
    assert_error_json(r, 413)


def test_wrong_methods(api):
    r = api.get("/api/chat")
    assert_error_json(r, 405)
    assert "POST" in r.headers.get("Allow", ""), r.headers
    r = api.put("/api/threads", json={})
    assert_error_json(r, 405)
    assert "GET" in r.headers.get("Allow", ""), r.headers
    r = api.get("/api/chat/%s/stop" % uuid.uuid4())
    assert_error_json(r, 405)
    assert "POST" in r.headers.get("Allow", "")


def test_missing_csrf(api, backend):
    r = api.post("/api/chat", json={"thread_id": None, "content": "hi"}, csrf=False)
    assert_error_json(r, 403)
    r = api.post("/api/chat", json={"thread_id": None, "content": "hi"},
                 headers={"X-CSRF-Token": "not-the-token"})
    assert_error_json(r, 403)
    bob = ApiClient(api.server, "bob")
    r = api.post("/api/chat", json={"thread_id": None, "content": "hi"},
                 headers={"X-CSRF-Token": bob.csrf})
    assert_error_json(r, 403)
    assert backend.chat_requests() == []


def test_me(api):
    me = api.me(refresh=True)
    assert me["user"] == "alice" and me["auth"] == "apache"
    assert isinstance(me["csrf"], str) and len(me["csrf"]) >= 16


def test_no_credentials(server):
    r = requests.get(server.url("/api/me"), timeout=10)
    assert r.status_code == 401
    assert "Basic" in r.headers.get("WWW-Authenticate", "")
    r = requests.get(server.url("/api/me"), auth=("alice", "wrong"), timeout=10)
    assert r.status_code == 401


def test_no_user_in_apache_mode_is_json_401(open_server):
    r = requests.get(open_server.origin + "/open/api/me", timeout=10)
    assert_error_json(r, 401)
    r = requests.post(open_server.origin + "/open/api/chat",
                      json={"thread_id": None, "content": "x"}, timeout=10)
    assert_error_json(r, 401)


def test_unknown_api_route(api):
    assert_error_json(api.get("/api/nothing-here"), 404)


# ---- backend faults ---------------------------------------------------------------
def test_backend_down(make_server, backend):
    srv = make_server(backend_url="http://127.0.0.1:%d" % free_port_closed())
    alice = ApiClient(srv, "alice")
    t0 = time.monotonic()
    r = alice.post("/api/chat", json={"thread_id": None, "content": "anyone there?"})
    assert time.monotonic() - t0 < 5
    body = assert_error_json(r, 502)
    assert body["error"]["message"]
    # The question is kept; no stream was opened.
    if "assistant_step_id" in body:
        row = wait_for(lambda: step_row(srv, body["assistant_step_id"]), 2)
        assert row is None or row["isError"] == 1


def test_backend_http_error(api, backend):
    # The user reads the status and what to do; the backend's words go to the log.
    backend.script({"status": 500, "body_message": "kaput-4711"})
    r = api.post("/api/chat", json={"thread_id": None, "content": "fail please"})
    body = assert_error_json(r, 502)
    assert "HTTP 500" in body["error"]["message"] and "Try again" in body["error"]["message"]
    assert "kaput-4711" not in body["error"]["message"], body
    assert "kaput-4711" in server_of(api).error_log()


def test_backend_http_error_plain_text(api, backend):
    backend.script({"status": 503, "body_text": "overloaded-0815"})
    r = api.post("/api/chat", json={"thread_id": None, "content": "fail please"})
    body = assert_error_json(r, 502)
    assert "busy" in body["error"]["message"] and "503" in body["error"]["message"]
    assert "overloaded-0815" not in json.dumps(body)


def test_backend_rejects_key(make_server, backend):
    srv = make_server(key="wrong-key")
    alice = ApiClient(srv, "alice")
    r = alice.post("/api/chat", json={"thread_id": None, "content": "key?"})
    body = assert_error_json(r, 502)
    assert "401" in body["error"]["message"] and "administrator" in body["error"]["message"]


def test_backend_slow_before_headers(api, backend):
    backend.script({"first_delay": 4.5, "tokens": ["late"]})
    t0 = time.monotonic()
    r = api.post("/api/chat", json={"thread_id": None, "content": "slow"})
    took = time.monotonic() - t0
    assert_error_json(r, 504)
    assert 2.5 <= took < 4.4, "idle timeout is 3 s, took %.2f" % took


def test_stall_after_tokens(api, backend, sse):
    backend.script({"tokens": ["part", "ial", " never", " sent"], "stall_after": 2, "stall": 6})
    r = api.chat("stall please")
    assert r.status_code == 200
    with r:
        events = list(sse(r))
    assert tokens_of(events) == ["part", "ial"]
    end = final_event(events)
    assert end[0] == "error", events
    assert end[1]["message"]
    tok_t = [e[2] for e in events if e[0] == "token"][-1]
    assert 2.5 <= end[2] - tok_t < 5, end[2] - tok_t
    row = wait_for(lambda: step_row(server_of(api), events[0][1]["assistant_step_id"]), 3)
    assert row is not None
    assert row["output"] == "partial" and row["isError"] == 1, row


def test_connection_cut(api, backend, sse):
    backend.script({"tokens": ["cut ", "off ", "here", " never"], "break_after": 3})
    r = api.chat("cut please")
    with r:
        events = list(sse(r))
    assert tokens_of(events) == ["cut ", "off ", "here"]
    end = final_event(events)
    assert end[0] == "error", events
    row = wait_for(lambda: step_row(server_of(api), events[0][1]["assistant_step_id"]), 3)
    assert row["output"] == "cut off here" and row["isError"] == 1, row
    t = api.thread(events[0][1]["thread_id"])
    assert t["steps"][-1]["isError"] in (True, 1)


def test_cut_before_any_token(api, backend, sse):
    backend.script({"tokens": ["never"], "break_after": 0})
    r = api.chat("cut at once")
    if r.status_code == 200:
        with r:
            events = list(sse(r))
        assert final_event(events)[0] == "error"
    else:
        assert_error_json(r, 502)


def test_no_done_is_complete(api, backend, server):
    backend.script({"tokens": ["no", " done", " marker"], "no_done": True})
    events = api.chat_events("no done")
    end = final_event(events)
    assert end[0] == "done", events
    assert end[1]["content"] == "no done marker"
    row = step_row(server, end[1]["step_id"])
    assert row["isError"] == 0 and row["output"] == "no done marker"


def test_close_delimited_stream(api, backend):
    backend.script({"tokens": ["close", " delimited"], "chunked": False})
    events = api.chat_events("close delimited")
    end = final_event(events)
    assert end[0] == "done" and end[1]["content"] == "close delimited"


def chunk(content=None, **delta):
    d = dict(delta)
    if content is not None:
        d["content"] = content
    return "data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk",
                                  "choices": [{"index": 0, "delta": d,
                                               "finish_reason": None}]}) + "\n\n"


def test_malformed_chunks(api, backend, server):
    raw = [
        ": ping\n\n",
        chunk(role="assistant"),
        chunk("A").replace("\n\n", "\r\n\r\n"),
        "data: this is not json\n\n",
        'data: {"id":"x","object":"chat.completion.chunk"}\n\n',
        'data: {"choices":[]}\n\n',
        'data: {"choices":[{"index":0}]}\n\n',
        'data: {"choices":[{"index":0,"delta":{"content":null}}]}\n\n',
        'data: {"choices":[{"index":0,"delta":{"content":5}}]}\n\n',
        ": keep-alive comment\n",
        "\n",
        'data: {"choices":[{"index":0,\ndata: "delta":{"content":"B"}}]}\n\n',
        'data: {"choices":[{"index":0,"delta":{"con',
        'tent":"C"}}]}\n\n',
        "event: message\r\nid: 7\r\n" + chunk("D"),
        "retry: 1000\n\n",
        'data:{"choices":[{"index":0,"delta":{"content":"E"}}]}\n\n',
        "data: [DONE]\n\n",
    ]
    backend.script({"raw": raw, "delay": 0.01})
    events = api.chat_events("malformed")
    assert tokens_of(events) == ["A", "B", "C", "D", "E"], events
    end = final_event(events)
    assert end[0] == "done", events
    assert end[1]["content"] == "ABCDE"
    # The server still serves.
    assert final_event(api.chat_events("after malformed"))[0] == "done"


def test_backend_error_event_in_stream(api, backend):
    raw = [chunk("Hal"), chunk("f"),
           'data: {"error":{"message":"model overloaded-99"}}\n\n']
    backend.script({"raw": raw})
    events = api.chat_events("error event")
    assert tokens_of(events) == ["Hal", "f"]
    end = final_event(events)
    assert end[0] in ("error", "done"), events


def test_empty_answer(api, backend):
    backend.script({"tokens": []})
    events = api.chat_events("empty answer")
    end = final_event(events)
    assert end[0] in ("done", "error")
    if end[0] == "done":
        assert end[1]["content"] == ""


# ---- helpers ------------------------------------------------------------------------
def server_of(api):
    return api.server


def test_csrf_on_patch_and_delete(api, backend, server):
    events = api.chat_events("csrf target")
    tid = events[0][1]["thread_id"]
    assert_error_json(api.patch("/api/threads/%s" % tid, json={"name": "hacked"}, csrf=False), 403)
    assert_error_json(api.delete("/api/threads/%s" % tid, csrf=False), 403)
    assert api.thread(tid)["name"] == "csrf target"


def test_patch_body_over_limit(api, backend):
    events = api.chat_events("big rename")
    tid = events[0][1]["thread_id"]
    r = api.patch("/api/threads/%s" % tid, json={"name": "n" * (2 * 1024 * 1024)})
    assert_error_json(r, 413)
    assert api.thread(tid)["name"] == "big rename"


def test_configured_request_limit(make_server, backend):
    srv = make_server(extra_location="RagChatMaxRequestSize 1000")
    alice = ApiClient(srv, "alice")
    r = alice.post("/api/chat", json={"thread_id": None, "content": "z" * 2000})
    assert_error_json(r, 413)
    assert backend.chat_requests() == []
    events = alice.chat_events("z" * 500)
    assert final_event(events)[0] == "done"


# ---- the question's write fails --------------------------------------------------
REJECTED = "this question cannot be stored"


def reject_question(srv):
    """Makes the database refuse a question whose text is REJECTED (a trigger
    that raises): a real failed INSERT, as a full disk or a broken constraint
    would give. The trigger works a few hundred milliseconds first, so that the
    backend's answer has begun to stream when the commit fails."""
    if srv.driver == "pgsql":
        srv.db_exec("CREATE FUNCTION rc_test_reject() RETURNS trigger LANGUAGE plpgsql AS "
                    "$f$ BEGIN PERFORM pg_sleep(0.4); RAISE EXCEPTION 'rejected by the test'; "
                    "END $f$")
        srv.db_exec("CREATE TRIGGER rc_test_reject BEFORE INSERT ON steps FOR EACH ROW "
                    "WHEN (NEW.output = '%s') EXECUTE FUNCTION rc_test_reject()" % REJECTED)
    else:
        srv.db_exec("CREATE TRIGGER rc_test_reject BEFORE INSERT ON steps WHEN new.output = "
                    "'%s' BEGIN SELECT RAISE(ABORT, 'rejected by the test') WHERE "
                    "length(hex(randomblob(20000000))) > 0; END" % REJECTED)


def test_unsaved_question_stops_its_answer(make_server, backend, sse):
    """The answer streams while the question is being committed; when the
    commit fails, the answer stops at once with an error event that says the
    message was not saved, nothing of the chat is stored, and the next
    question works."""
    srv = make_server()
    alice = ApiClient(srv, "alice")
    alice.chat_events("hello first")          # the user and the schema exist
    reject_question(srv)
    mark = srv.log_mark()
    toks = ["t%02d " % i for i in range(40)]
    backend.script({"tokens": toks, "delay": 0.1})        # 4 s if it ran to its end
    t0 = time.monotonic()
    events = list(sse(alice.chat(REJECTED)))
    took = time.monotonic() - t0
    assert events[0][0] == "thread", events
    end = final_event(events)
    assert end[0] == "error", events
    assert end[1]["code"] == "not_saved" and end[1]["saved"] is False, end
    assert "could not be saved" in end[1]["message"]
    assert took < 2.5, "the answer went on %.1f s after its question failed" % took
    assert len(tokens_of(events)) < len(toks)
    thread_id = events[0][1]["thread_id"]
    assert srv.query("SELECT id FROM threads WHERE id = ?", (thread_id,)) == []
    assert srv.query("SELECT id FROM steps WHERE output = ?", (REJECTED,)) == []
    assert srv.query("SELECT * FROM ragchat_streams") == []
    assert alice.get("/api/threads/%s" % thread_id).status_code == 404
    assert len(alice.get("/api/threads").json()["threads"]) == 1     # "hello first" only
    log = srv.log_since(mark)
    assert len(re.findall(r"RC0101: .*rejected by the test", log)) == 1, log
    assert len(re.findall(r"RC0204: .*outcome=not_saved", log)) == 1, log
    # A stop for it finds no answer (after looking again for a second).
    t0 = time.monotonic()
    r = alice.post("/api/chat/%s/stop" % events[0][1]["assistant_step_id"])
    assert_error_json(r, 404)
    assert 0.9 <= time.monotonic() - t0 < 3
    # The next question is saved and answered.
    backend.script({"tokens": ["fine "]})
    events = alice.chat_events("a question that is stored")
    assert final_event(events)[0] == "done", events
    assert alice.thread(events[0][1]["thread_id"])["steps"][0]["output"] == \
        "a question that is stored"

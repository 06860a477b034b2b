"""Stopping a running answer: the stream ends quickly, the partial answer is kept."""
import json
import time
import uuid

import pytest

from conftest import ApiClient, assert_error_json, final_event, step_row, tokens_of, wait_for


def stop_during_stream(api, backend, sse, stopper=None):
    """An answer streaming for api, stopped after two tokens by stopper (api
    itself, or a client of another server on the same database)."""
    toks = ["t%02d " % i for i in range(30)]
    backend.script({"tokens": toks, "delay": 0.15})      # ~4.5 s in all
    r = api.chat("please stop me")
    assert r.status_code == 200, r.text
    it = iter(sse(r))
    events = [next(it)]
    assert events[0][0] == "thread"
    step = events[0][1]["assistant_step_id"]
    while len(tokens_of(events)) < 2:
        events.append(next(it))
    s = (stopper or api).post("/api/chat/%s/stop" % step)
    t_stopped = time.monotonic()
    assert s.status_code == 202, s.text
    assert s.json() == {"stopping": True}
    for e in it:
        events.append(e)
    r.close()
    end = final_event(events)
    assert end[0] == "done", events
    assert end[2] - t_stopped <= 0.5, "stream ended %.3f s after the stop" % (end[2] - t_stopped)
    assert end[1]["stopped"] is True
    got = "".join(tokens_of(events))
    assert end[1]["content"] == got, (end[1]["content"], got)
    assert 2 <= len(tokens_of(events)) < len(toks)
    assert toks[0] + toks[1] == got[:len(toks[0] + toks[1])]
    row = wait_for(lambda: step_row(api.server, step), 2)
    assert row is not None
    assert row["output"] == got, row
    assert json.loads(row["metadata"]).get("stopped") is True, row
    assert row["isError"] == 0
    t = api.thread(events[0][1]["thread_id"])
    assert t["steps"][-1]["metadata"].get("stopped") is True
    return step


def test_stop_event_mpm(api, backend, sse):
    step = stop_during_stream(api, backend, sse)
    # Stopping a finished answer changes nothing and is not an error page.
    r = api.post("/api/chat/%s/stop" % step)
    assert r.status_code in (202, 404, 409), r.text


def test_stop_prefork(make_server, backend, sse):
    srv = make_server(mpm="prefork")
    stop_during_stream(ApiClient(srv, "alice"), backend, sse)


def test_stop_unknown_step(api):
    assert_error_json(api.post("/api/chat/%s/stop" % uuid.uuid4()), 404)


def test_stop_needs_csrf(api, backend, sse):
    backend.script({"tokens": ["a ", "b ", "c"], "hold_after": 1, "hold_seconds": 5})
    r = api.chat("csrf stop")
    it = iter(sse(r))
    th = next(it)[1]
    try:
        s = api.post("/api/chat/%s/stop" % th["assistant_step_id"], csrf=False)
        assert_error_json(s, 403)
    finally:
        backend.release()
        rest = list(it)
        r.close()
    end = final_event(rest)
    assert end[0] == "done" and end[1]["stopped"] is False and end[1]["content"] == "a b c"

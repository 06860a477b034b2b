"""Conversation branches: a regenerated answer and an edited question are new
versions beside the ones they replace; the backend gets the history of the new
version's own branch; the thread, the next message and the exports follow the
version shown; POST B/api/steps/{id}/show picks a version."""
import datetime
import json
import time

from conftest import ApiClient, assert_error_json, final_event, sse_events, step_row


def contents(req):
    return [(m["role"], m["content"]) for m in req["json"]["messages"]]


def chat(api, backend, body, answer):
    """POST B/api/chat with this body; the backend answers `answer`. Returns the
    thread event's data and the request the backend received."""
    backend.script({"tokens": [answer]})
    n = len(backend.chat_requests())
    r = api.post("/api/chat", json=body, stream=True)
    assert r.status_code == 200, r.text[:300]
    with r:
        events = list(sse_events(r))
    assert final_event(events)[0] == "done", events
    reqs = backend.chat_requests()
    assert len(reqs) == n + 1
    time.sleep(0.002)      # the next step is created later, whatever the clock's grain
    return events[0][1], reqs[-1]


def shown(api, tid):
    return [(s["type"][0], s["output"]) for s in api.thread(tid)["steps"]]


def conversation(api, backend):
    """Q1 A1 Q2 A2 in a new thread: (thread id, {name: step id})."""
    th, _ = chat(api, backend, {"thread_id": None, "content": "Q1"}, "A1")
    tid = th["thread_id"]
    ids = {"Q1": th["user_step_id"], "A1": th["assistant_step_id"]}
    th, _ = chat(api, backend, {"thread_id": tid, "content": "Q2"}, "A2")
    ids.update(Q2=th["user_step_id"], A2=th["assistant_step_id"])
    return tid, ids


def test_regenerate_sends_the_history_before_the_answer(api, backend):
    tid, ids = conversation(api, backend)
    th, req = chat(api, backend, {"thread_id": tid, "regenerate": ids["A2"]}, "A2 again")
    # the same question again, with what came before it; never the old answer
    assert contents(req) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2")]
    assert th["user_step_id"] == ids["Q2"] and th["thread_id"] == tid
    assert th["assistant_step_id"] not in ids.values()
    t = api.thread(tid)
    assert [(s["type"][0], s["output"]) for s in t["steps"]] == [
        ("u", "Q1"), ("a", "A1"), ("u", "Q2"), ("a", "A2 again")]
    assert t["steps"][3]["versions"] == [ids["A2"], th["assistant_step_id"]]
    assert "versions" not in t["steps"][2]
    # no new question was stored
    row = step_row(api.server, th["assistant_step_id"])
    assert json.loads(row["metadata"])["after"] == ids["Q2"]

    # the next message continues from the version shown
    _, req = chat(api, backend, {"thread_id": tid, "content": "Q3"}, "A3")
    assert contents(req) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2"),
                             ("assistant", "A2 again"), ("user", "Q3")]

    # the first version is still there: shown again, whole, with its own next steps
    r = api.post("/api/steps/%s/show" % ids["A2"])
    assert r.status_code == 200, r.text
    assert [(s["type"][0], s["output"]) for s in r.json()["steps"]] == [
        ("u", "Q1"), ("a", "A1"), ("u", "Q2"), ("a", "A2")]
    assert shown(api, tid)[-1] == ("a", "A2")
    _, req = chat(api, backend, {"thread_id": tid, "content": "Q3b"}, "A3b")
    assert contents(req) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2"),
                             ("assistant", "A2"), ("user", "Q3b")]


def test_edit_sends_the_history_before_the_question(api, backend):
    tid, ids = conversation(api, backend)
    th, req = chat(api, backend, {"thread_id": tid, "edit": ids["Q2"], "content": "Q2 edited"},
                   "A2e")
    assert contents(req) == [("user", "Q1"), ("assistant", "A1"), ("user", "Q2 edited")]
    t = api.thread(tid)
    assert [(s["type"][0], s["output"]) for s in t["steps"]] == [
        ("u", "Q1"), ("a", "A1"), ("u", "Q2 edited"), ("a", "A2e")]
    assert t["steps"][2]["versions"] == [ids["Q2"], th["user_step_id"]]
    assert t["steps"][2]["id"] == th["user_step_id"]
    assert json.loads(step_row(api.server, th["user_step_id"])["metadata"]) == {
        "after": ids["A1"]}

    # the old question and its answer are kept and reachable
    r = api.post("/api/steps/%s/show" % ids["Q2"])
    assert [(s["type"][0], s["output"]) for s in r.json()["steps"]] == [
        ("u", "Q1"), ("a", "A1"), ("u", "Q2"), ("a", "A2")]
    api.post("/api/steps/%s/show" % th["user_step_id"])
    assert shown(api, tid)[2:] == [("u", "Q2 edited"), ("a", "A2e")]


def test_edit_the_first_question(api, backend):
    tid, ids = conversation(api, backend)
    th, req = chat(api, backend, {"thread_id": tid, "edit": ids["Q1"], "content": "Q1 again"},
                   "A1 again")
    assert contents(req) == [("user", "Q1 again")]
    assert shown(api, tid) == [("u", "Q1 again"), ("a", "A1 again")]
    assert api.thread(tid)["steps"][0]["versions"] == [ids["Q1"], th["user_step_id"]]
    assert json.loads(step_row(api.server, th["user_step_id"])["metadata"]) == {"after": None}


def test_exports_follow_the_branch_shown(api, backend):
    tid, ids = conversation(api, backend)
    th, _ = chat(api, backend, {"thread_id": tid, "regenerate": ids["A2"]}, "Second version")
    md = api.get("/api/threads/%s/export.md" % tid).text
    assert "Second version" in md and "A2\n" not in md
    assert md.count("### ") == 4
    api.post("/api/steps/%s/show" % ids["A2"])
    md = api.get("/api/threads/%s/export.md" % tid).text
    assert "Second version" not in md and "\nA2\n" in md
    # each version exports on its own, and takes feedback
    r = api.get("/api/steps/%s/export.md" % th["assistant_step_id"])
    assert r.status_code == 200 and r.text == "Second version\n"
    r = api.put("/api/steps/%s/feedback" % th["assistant_step_id"], json={"value": 1})
    assert r.status_code == 200
    r = api.put("/api/steps/%s/feedback" % ids["A2"], json={"value": 0})
    assert r.status_code == 200
    api.post("/api/steps/%s/show" % th["assistant_step_id"])
    steps = api.thread(tid)["steps"]
    assert steps[3]["output"] == "Second version" and steps[3]["feedback"]["value"] == 1


def test_a_regenerated_answer_can_be_stopped(api, backend):
    tid, ids = conversation(api, backend)
    backend.script({"tokens": ["w%d " % i for i in range(40)], "delay": 0.1})
    r = api.post("/api/chat", json={"thread_id": tid, "regenerate": ids["A2"]}, stream=True)
    with r:
        it = sse_events(r)
        th = next(it)[1]
        for ev in it:
            if ev[0] == "token":
                break
        assert api.post("/api/chat/%s/stop" % th["assistant_step_id"]).status_code == 202
        rest = list(it)
    assert rest[-1][0] == "done" and rest[-1][1]["stopped"] is True
    steps = api.thread(tid)["steps"]
    assert steps[3]["id"] == th["assistant_step_id"] and steps[3]["metadata"]["stopped"]
    assert len(steps[3]["versions"]) == 2


def test_bad_requests(api, api_bob, backend):
    tid, ids = conversation(api, backend)
    n = len(backend.chat_requests())
    cases = [
        ({"thread_id": tid, "regenerate": ids["Q2"]}, 404, "not_found"),      # a question
        ({"thread_id": tid, "edit": ids["A2"], "content": "x"}, 404, "not_found"),
        ({"thread_id": tid, "regenerate": "nope"}, 404, "not_found"),
        ({"thread_id": None, "regenerate": ids["A2"]}, 400, "bad_thread_id"),
        ({"regenerate": ids["A2"]}, 400, "bad_thread_id"),
        ({"thread_id": tid, "regenerate": ids["A2"], "edit": ids["Q2"], "content": "x"}, 400,
         "bad_request"),
        ({"thread_id": tid, "regenerate": 5}, 400, "bad_step_id"),
        ({"thread_id": tid, "edit": ids["Q2"]}, 400, "empty_message"),
        ({"thread_id": tid, "edit": ids["Q2"], "content": "  "}, 400, "empty_message"),
    ]
    for body, status, code in cases:
        assert_error_json(api.post("/api/chat", json=body), status, code)
    # another user's thread or step: 404
    assert_error_json(api_bob.post("/api/chat", json={"thread_id": tid, "regenerate": ids["A2"]}),
                      404, "not_found")
    assert_error_json(api_bob.post("/api/steps/%s/show" % ids["A1"]), 404, "not_found")
    # CSRF and method
    assert api.post("/api/steps/%s/show" % ids["A1"], csrf=False).status_code == 403
    assert api.get("/api/steps/%s/show" % ids["A1"]).status_code == 405
    assert len(backend.chat_requests()) == n, "nothing reached the backend"
    assert shown(api, tid) == [("u", "Q1"), ("a", "A1"), ("u", "Q2"), ("a", "A2")]


def test_uploads_are_neither_regenerated_nor_edited(api, backend):
    th, _ = chat(api, backend, {"thread_id": None, "content": "Q1"}, "A1")
    tid = th["thread_id"]
    r = api.post("/api/upload", data={"thread_id": tid},
                 files={"files": ("a.txt", b"hello", "text/plain")})
    assert r.status_code == 200, r.text
    up = r.json()
    steps = api.thread(tid)["steps"]
    assert [s["type"][0] for s in steps] == ["u", "a", "u", "a"]
    assert steps[3]["id"] == up["step_id"] and steps[3]["metadata"]["upload"] is True
    assert steps[2]["metadata"] == {"upload": True, "after": th["assistant_step_id"]}
    assert_error_json(api.post("/api/chat", json={"thread_id": tid, "regenerate": up["step_id"]}),
                      400, "not_a_question")
    assert_error_json(api.post("/api/chat", json={"thread_id": tid, "edit": steps[2]["id"],
                                                  "content": "x"}), 400, "not_a_question")
    # the next message follows the upload
    _, req = chat(api, backend, {"thread_id": tid, "content": "Q2"}, "A2")
    assert contents(req)[-3:] == [("user", "Uploaded: a.txt"),
                                  ("assistant", "Ingested 1 documents"), ("user", "Q2")]


def test_steps_written_by_another_app_are_a_chain(make_server, backend):
    """Steps without "after" (the reference app's) follow the step before them;
    a regenerated answer of such a thread still gets the right history."""
    srv = make_server()
    alice = ApiClient(srv, "alice")
    th, _ = chat(alice, backend, {"thread_id": None, "content": "Q1"}, "A1")
    tid = th["thread_id"]
    now = datetime.datetime.now(datetime.timezone.utc)
    rows = [("55555555-5555-4555-8555-55555555555%d" % i, t, o,
             (now + datetime.timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
            for i, (t, o) in enumerate([("user_message", "old Q"),
                                        ("assistant_message", "old A")])]
    for sid, typ, out, created in rows:
        srv.db_exec('INSERT INTO steps (id, name, type, "threadId", output, "createdAt", '
                    'metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
                    (sid, "x", typ, tid, out, created, "{}"))
    assert shown(alice, tid) == [("u", "Q1"), ("a", "A1"), ("u", "old Q"), ("a", "old A")]
    _, req = chat(alice, backend, {"thread_id": tid, "regenerate": rows[1][0]}, "new A")
    assert contents(req) == [("user", "Q1"), ("assistant", "A1"), ("user", "old Q")]
    assert shown(alice, tid)[-1] == ("a", "new A")

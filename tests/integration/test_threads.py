"""The threads API: listing, paging, search, get, rename, delete, isolation."""
import uuid

import pytest

from conftest import TIMESTAMP, assert_error_json, final_event, unique


def new_thread(api, content, backend=None, tokens=None):
    if backend is not None and tokens is not None:
        backend.script({"tokens": tokens})
    events = api.chat_events(content)
    assert final_event(events)[0] == "done", events
    return events[0][1]


def all_threads(api, **params):
    r = api.get("/api/threads", params=dict({"limit": 100}, **params))
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) >= {"threads", "next_before"}, body
    return body


def test_list_newest_first_and_paging(api, backend):
    made = [new_thread(api, unique("page-"))["thread_id"] for _ in range(3)]
    full = all_threads(api)["threads"]
    ids = [t["id"] for t in full]
    assert ids[:3] == made[::-1], (ids, made)
    for t in full:
        assert set(t) >= {"id", "name", "createdAt"}, t
        assert TIMESTAMP.match(t["createdAt"]), t
    created = [t["createdAt"] for t in full]
    assert created == sorted(created, reverse=True)

    paged, before, rounds = [], None, 0
    while rounds < 50:
        params = {"limit": 2}
        if before:
            params["before"] = before
        r = api.get("/api/threads", params=params)
        assert r.status_code == 200, r.text
        body = r.json()
        assert len(body["threads"]) <= 2
        paged += [t["id"] for t in body["threads"]]
        before = body["next_before"]
        rounds += 1
        if not before:
            break
    assert paged == ids, (paged, ids)

    r = api.get("/api/threads", params={"limit": 1})
    body = r.json()
    assert [t["id"] for t in body["threads"]] == [made[-1]]
    assert body["next_before"] == body["threads"][0]["createdAt"]


def test_bad_paging_parameters(api):
    for params in ({"limit": "abc"}, {"limit": "-3"}):
        r = api.get("/api/threads", params=params)
        assert r.status_code in (200, 400), (params, r.status_code, r.text)
        if r.status_code == 400:
            assert_error_json(r, 400)


def test_search_names_and_messages(api, backend):
    word_name = unique("banana")
    word_msg = unique("zebra")
    a = new_thread(api, "thread about %s split" % word_name)
    b = new_thread(api, "an unrelated opening")
    api.chat_events("later mention of %s here" % word_msg, thread_id=b["thread_id"])
    c = new_thread(api, "another one")
    backend.script({"tokens": ["the answer holds ", word_msg.upper()]})
    api.chat_events("what?", thread_id=c["thread_id"])

    got = [t["id"] for t in all_threads(api, q=word_name)["threads"]]
    assert got == [a["thread_id"]], got
    got = [t["id"] for t in all_threads(api, q=word_msg)["threads"]]
    assert b["thread_id"] in got, got
    assert a["thread_id"] not in got
    got = [t["id"] for t in all_threads(api, q=unique("nothing"))["threads"]]
    assert got == []
    # Search text is data, not a pattern.
    for q in ("%", "_", "'", "\"", "\\"):
        r = api.get("/api/threads", params={"q": q})
        assert r.status_code == 200, (q, r.text)


def test_search_results_show_the_matching_text(api, backend):
    word = unique("walrus")
    long_before = " ".join("filler%d" % i for i in range(60))
    t = new_thread(api, "an opening question")
    backend.script({"tokens": [long_before + " then the " + word.upper() + " appears, and "
                               + " ".join("tail%d" % i for i in range(60))]})
    api.chat_events("more", thread_id=t["thread_id"])
    named = new_thread(api, "named %s only" % word)
    found = {x["id"]: x for x in all_threads(api, q=word)["threads"]}
    snip = found[t["thread_id"]]["snippet"]
    # around the match, cut on words, marked where cut
    assert ("the " + word.upper() + " appears") in snip, snip
    assert snip.startswith("\u2026") and snip.endswith("\u2026"), snip
    assert len(snip) < 200 and "filler0 " not in snip and "tail59" not in snip, snip
    # the name matched best: no snippet, the name itself shows the match
    assert "snippet" not in found[named["thread_id"]], found[named["thread_id"]]
    # no snippet without a search
    plain = [x for x in all_threads(api)["threads"] if x["id"] == t["thread_id"]][0]
    assert "snippet" not in plain
    # wildcards of the search are text
    assert all_threads(api, q=word[:-1] + "_")["threads"] == []


def test_get_thread_with_steps(api, backend):
    backend.script({"tokens": ["Some ", "*answer*"]})
    th = new_thread(api, "get me")
    t = api.thread(th["thread_id"])
    assert t["id"] == th["thread_id"] and t["name"] == "get me"
    assert TIMESTAMP.match(t["createdAt"])
    assert isinstance(t.get("elements"), list)
    steps = t["steps"]
    assert [s["id"] for s in steps] == [th["user_step_id"], th["assistant_step_id"]]
    u, a = steps
    for s in steps:
        assert set(s) >= {"id", "type", "name", "output", "createdAt", "isError",
                          "metadata", "feedback"}, s
        assert s["feedback"] is None
        assert isinstance(s["metadata"], dict)
        assert s["isError"] in (False, 0)
    assert u["type"] == "user_message" and u["name"] == "alice" and u["output"] == "get me"
    assert a["type"] == "assistant_message" and a["output"] == "Some *answer*"
    # html: the module's rendering of an assistant answer.
    assert "<em>answer</em>" in a["html"]


def test_rename(api, backend, server):
    th = new_thread(api, "old name")
    r = api.patch("/api/threads/%s" % th["thread_id"], json={"name": "New name ✓"})
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "New name ✓" and r.json()["id"] == th["thread_id"]
    assert api.thread(th["thread_id"])["name"] == "New name ✓"
    con = server.db()
    try:
        assert con.execute("SELECT name FROM threads WHERE id=?",
                           (th["thread_id"],)).fetchone()[0] == "New name ✓"
    finally:
        con.close()
    for bad in ({"name": ""}, {"name": "   "}, {"name": 5}, {}):
        r = api.patch("/api/threads/%s" % th["thread_id"], json=bad)
        assert_error_json(r, 400)
    r = api.patch("/api/threads/%s" % th["thread_id"], data="{nope",
                  headers={"Content-Type": "application/json"})
    assert_error_json(r, 400)


def test_delete(api, backend, server):
    th = new_thread(api, "delete me")
    tid = th["thread_id"]
    r = api.delete("/api/threads/%s" % tid)
    assert r.status_code == 204, r.text
    assert_error_json(api.get("/api/threads/%s" % tid), 404)
    assert tid not in [t["id"] for t in all_threads(api)["threads"]]
    con = server.db()
    try:
        assert con.execute('SELECT COUNT(*) FROM steps WHERE "threadId"=?', (tid,)).fetchone()[0] == 0
        assert con.execute("SELECT COUNT(*) FROM threads WHERE id=?", (tid,)).fetchone()[0] == 0
    finally:
        con.close()
    assert_error_json(api.delete("/api/threads/%s" % tid), 404)
    # Chatting into a deleted thread is refused.
    assert_error_json(api.chat("again", thread_id=tid), 404)


def test_unknown_thread(api):
    tid = str(uuid.uuid4())
    assert_error_json(api.get("/api/threads/%s" % tid), 404)
    assert_error_json(api.patch("/api/threads/%s" % tid, json={"name": "x"}), 404)
    assert_error_json(api.delete("/api/threads/%s" % tid), 404)
    assert_error_json(api.get("/api/threads/" + "x" * 300), 404)


def test_other_users_thread_is_invisible(api, api_bob, backend, sse):
    secret = unique("alicesecret")
    backend.script({"tokens": ["slow ", "answer ", "for ", "alice"], "hold_after": 1,
                    "hold_seconds": 5})
    r = api.chat(secret)
    assert r.status_code == 200
    it = iter(sse(r))
    th = next(it)[1]
    tid, step = th["thread_id"], th["assistant_step_id"]
    try:
        # While alice's answer streams, bob can neither stop it nor see it.
        assert_error_json(api_bob.post("/api/chat/%s/stop" % step), 404)
    finally:
        backend.release()
        rest = list(it)
        r.close()
    assert final_event(rest)[0] == "done"
    assert final_event(rest)[1]["content"] == "slow answer for alice"

    assert_error_json(api_bob.get("/api/threads/%s" % tid), 404)
    assert_error_json(api_bob.patch("/api/threads/%s" % tid, json={"name": "mine"}), 404)
    assert_error_json(api_bob.delete("/api/threads/%s" % tid), 404)
    assert_error_json(api_bob.chat("hijack", thread_id=tid), 404)
    assert_error_json(api_bob.post("/api/chat/%s/stop" % step), 404)
    bob_list = all_threads(api_bob)["threads"]
    assert tid not in [t["id"] for t in bob_list]
    assert all_threads(api_bob, q=secret)["threads"] == []
    # Alice still has it, unrenamed, with both steps.
    t = api.thread(tid)
    assert t["name"] == secret and len(t["steps"]) == 2
    # Bob's own threads work and are his only.
    bth = new_thread(api_bob, "bob's question")
    assert bth["thread_id"] in [t["id"] for t in all_threads(api_bob)["threads"]]
    assert_error_json(api.get("/api/threads/%s" % bth["thread_id"]), 404)
    assert bth["thread_id"] not in [t["id"] for t in all_threads(api)["threads"]]


@pytest.mark.parametrize("method", ["POST", "PUT"])
def test_thread_item_wrong_method(api, backend, method):
    th = new_thread(api, "methods")
    r = api.request(method, "/api/threads/%s" % th["thread_id"], json={})
    assert_error_json(r, 405)
    allow = r.headers.get("Allow", "")
    for m in ("GET", "PATCH", "DELETE"):
        assert m in allow, allow

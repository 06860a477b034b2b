"""Long threads: the backend gets the newest part of the thread's active branch
within RagChatHistoryMax / RagChatHistoryChars, always ending with the new
question; GET B/api/threads/{id} opens a thread at its end and pages back with
?before=<cursor>; the exports still hold every step. The threads are written
straight into the database (thousands of steps in a second)."""
import datetime
import json
import time
import uuid

import pytest

from conftest import assert_error_json, final_event, sse_events
from test_export import pdf_text


def stamp(t0, i):
    return (t0 + datetime.timedelta(milliseconds=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def long_thread(api, n, text=lambda i: ("Q%d" if i % 2 == 0 else "A%d") % i, name="Long"):
    """A thread of alice's (api's user) with n steps, questions and answers in
    turn, each following the one before ("after"). Returns (thread id, [step ids])."""
    server = api.server
    assert api.get("/api/threads?limit=1").status_code == 200    # the user row
    user_id = server.query("SELECT id FROM users WHERE identifier = ?", (api.user,))[0]["id"]
    tid = str(uuid.uuid4())
    t0 = datetime.datetime.utcnow() - datetime.timedelta(days=30)
    server.db_exec('INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier",'
                   ' metadata) VALUES (?, ?, ?, ?, ?, ?)',
                   (tid, stamp(t0, 0), name, user_id, api.user, "{}"))
    ids = [str(uuid.uuid4()) for _ in range(n)]
    rows = []
    for i in range(n):
        user = i % 2 == 0
        rows.append((ids[i], api.user if user else "Assistant",
                     "user_message" if user else "assistant_message", tid, 0,
                     json.dumps({"after": ids[i - 1] if i else None}), text(i),
                     stamp(t0, i), stamp(t0, i), stamp(t0, i)))
    server.db_exec_many('INSERT INTO steps (id, name, type, "threadId", "isError", metadata,'
                        ' output, "createdAt", start, "end") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
                        rows)
    return tid, ids


def ask(api, backend, body, answer="ok"):
    """POST B/api/chat; returns (thread event data, [(role, content)] the backend got)."""
    backend.script({"tokens": [answer]})
    r = api.post("/api/chat", json=body, stream=True)
    assert r.status_code == 200, r.text[:300]
    with r:
        events = list(sse_events(r))
    assert final_event(events)[0] == "done", events
    req = backend.chat_requests()[-1]
    time.sleep(0.002)
    return events[0][1], [(m["role"], m["content"]) for m in req["json"]["messages"]]


def texts(lo, hi):
    return [("user" if i % 2 == 0 else "assistant", ("Q%d" if i % 2 == 0 else "A%d") % i)
            for i in range(lo, hi)]


@pytest.fixture(scope="module")
def budget_server(make_server):
    return make_server(extra_location="RagChatHistoryMax 9\nRagChatHistoryChars 100000")


@pytest.fixture(scope="module")
def budget_api(budget_server):
    from conftest import ApiClient
    return ApiClient(budget_server, "alice")


# ---- the history sent to the backend ------------------------------------------


def test_the_newest_messages_and_the_question_reach_the_backend(budget_api, backend):
    # past the old limits (the first 2,000 steps sent, the first 5,000 read)
    tid, ids = long_thread(budget_api, 6000)
    th, msgs = ask(budget_api, backend, {"thread_id": tid, "content": "the new question"})
    # 8 before it (RagChatHistoryMax 9): the newest, starting with a question
    assert msgs == texts(5992, 6000) + [("user", "the new question")]
    # the question follows the thread's newest step, and the thread shows it last
    t = budget_api.thread(tid)
    assert t["steps"][-2]["id"] == th["user_step_id"]
    assert t["steps"][-2]["metadata"]["after"] == ids[-1]
    assert t["steps"][-3]["id"] == ids[-1]

    # the next message has the answer before it
    _, msgs = ask(budget_api, backend, {"thread_id": tid, "content": "and then?"})
    assert msgs[-3:] == [("user", "the new question"), ("assistant", "ok"),
                         ("user", "and then?")]
    assert len(msgs) == 9 and msgs[0][0] == "user"


def test_the_history_starts_with_a_question(budget_api, backend):
    # 9 allowed, the newest 8 before the question end with an answer: the
    # history would start with an answer, which is left out
    tid, _ = long_thread(budget_api, 40)
    _, msgs = ask(budget_api, backend, {"thread_id": tid, "content": "next"})
    assert msgs == texts(32, 40) + [("user", "next")]
    tid, _ = long_thread(budget_api, 41)       # ends with a question (unanswered)
    _, msgs = ask(budget_api, backend, {"thread_id": tid, "content": "next"})
    assert msgs[0] == ("user", "Q34") and msgs[-2:] == [("user", "Q40"), ("user", "next")]
    assert len(msgs) == 8


def test_the_characters_budget(make_server, backend):
    from conftest import ApiClient
    api = ApiClient(make_server(extra_location="RagChatHistoryChars 200"), "alice")
    # 30 characters each, 56 bytes: characters are counted, not bytes
    tid, _ = long_thread(api, 300, text=lambda i: "%04d" % i + "\u00e9" * 26)
    _, msgs = ask(api, backend, {"thread_id": tid, "content": "q" * 20})
    assert [len(c) for _, c in msgs] == [30] * 6 + [20]
    assert [c[:4] for _, c in msgs[:-1]] == ["%04d" % i for i in range(294, 300)]
    assert msgs[0][0] == "user" and msgs[-1] == ("user", "q" * 20)
    # a question over the budget on its own is sent all the same, alone
    _, msgs = ask(api, backend, {"thread_id": tid, "content": "x" * 500})
    assert msgs == [("user", "x" * 500)]


def test_the_budget_merges_across_locations(make_server, backend):
    from conftest import ApiClient
    api = ApiClient(make_server(extra_location="RagChatHistoryMax 9", extra_server=(
        "<Location /chat/api>\nRagChatHistoryChars 200\n</Location>")), "alice")
    # short messages: the outer section's 9 messages bind
    tid, _ = long_thread(api, 100, text=lambda i: "m%03d" % i)
    _, msgs = ask(api, backend, {"thread_id": tid, "content": "q"})
    assert [c for _, c in msgs] == ["m%03d" % i for i in range(92, 100)] + ["q"]
    # long ones: the inner section's 200 characters bind
    tid, _ = long_thread(api, 100, text=lambda i: "m%03d" % i + "-" * 26)
    _, msgs = ask(api, backend, {"thread_id": tid, "content": "q" * 20})
    assert [c[:4] for _, c in msgs] == ["m%03d" % i for i in range(94, 100)] + ["qqqq"]


def test_a_branch_of_a_long_thread(budget_api, backend):
    tid, ids = long_thread(budget_api, 400)
    # edit question 390: the history before it, never it or what follows
    th, msgs = ask(budget_api, backend,
                   {"thread_id": tid, "edit": ids[390], "content": "Q390 edited"}, "A390e")
    assert msgs == texts(382, 390) + [("user", "Q390 edited")]
    steps = budget_api.thread(tid)["steps"]
    assert [s["output"] for s in steps[-3:]] == ["A389", "Q390 edited", "A390e"]
    assert steps[-2]["versions"] == [ids[390], th["user_step_id"]]
    # the next message continues the edited branch
    _, msgs = ask(budget_api, backend, {"thread_id": tid, "content": "more"})
    assert msgs[-4:] == [("assistant", "A389"), ("user", "Q390 edited"), ("assistant", "A390e"),
                         ("user", "more")]
    # back on the old branch, a regenerated answer gets the history down to its question
    assert budget_api.post("/api/steps/%s/show" % ids[390]).status_code == 200
    _, msgs = ask(budget_api, backend, {"thread_id": tid, "regenerate": ids[399]}, "A398b")
    assert msgs == texts(390, 399)
    assert budget_api.thread(tid)["steps"][-1]["output"] == "A398b"


# ---- opening a thread at its end, paging back -----------------------------------


def page(api, tid, before=None, limit=None):
    q = []
    if before:
        q.append("before=" + before)
    if limit:
        q.append("limit=%d" % limit)
    r = api.get("/api/threads/%s%s" % (tid, "?" + "&".join(q) if q else ""))
    assert r.status_code == 200, r.text[:300]
    return r


def test_a_long_thread_opens_at_its_end_and_pages_back(api, backend):
    tid, ids = long_thread(api, 10000, text=lambda i: ("Question %d about the report?" % i
                                                       if i % 2 == 0 else
                                                       "An **answer** to %d, with a list:\n\n"
                                                       "- one\n- two\n" % i))
    r = page(api, tid)
    t = r.json()
    assert len(r.content) < 300 * 1024, len(r.content)
    assert [s["id"] for s in t["steps"]] == ids[-100:]
    assert t["next_before"] == ids[-100] and t["name"] == "Long"
    assert "<strong>answer</strong>" in t["steps"][-1]["html"]

    seen, before, pages = [], None, 0
    while True:
        t = page(api, tid, before, limit=500 if pages else None).json()
        seen[:0] = [s["id"] for s in t["steps"]]
        pages += 1
        before = t["next_before"]
        if not before:
            break
        assert before == t["steps"][0]["id"]
    assert seen == ids and pages == 1 + 20
    assert len(set(seen)) == len(ids)


def test_cursors_are_stable_and_checked(api, api_bob, backend):
    tid, ids = long_thread(api, 250)
    first = page(api, tid, limit=100).json()
    second = page(api, tid, first["next_before"], limit=100).json()
    # new messages at the end change nothing before a cursor
    ask(api, backend, {"thread_id": tid, "content": "a new question"})
    again = page(api, tid, first["next_before"], limit=100).json()
    assert again["steps"] == second["steps"] and again["next_before"] == second["next_before"]
    assert [s["id"] for s in again["steps"]] == ids[50:150]
    last = page(api, tid, again["next_before"], limit=100).json()
    assert [s["id"] for s in last["steps"]] == ids[:50] and last["next_before"] is None
    # the newest page now ends with the new answer
    assert page(api, tid, limit=2).json()["steps"][0]["output"] == "a new question"

    # another user's thread is not found, cursor or not
    assert_error_json(api_bob.get("/api/threads/%s?before=%s" % (tid, ids[100])), 404,
                      "not_found")
    # a cursor that is no step of this thread
    other, other_ids = long_thread(api, 4)
    for bad in (str(uuid.uuid4()), other_ids[2], "", "x" * 300):
        assert_error_json(api.get("/api/threads/%s?before=%s" % (tid, bad)), 400, "bad_cursor")
    for bad in ("0", "501", "x"):
        assert_error_json(api.get("/api/threads/%s?limit=%s" % (tid, bad)), 400, "bad_limit")


def test_paging_follows_the_branch_shown(api, backend):
    tid, ids = long_thread(api, 300)
    th, _ = ask(api, backend, {"thread_id": tid, "edit": ids[250], "content": "Q250 edited"})
    t = page(api, tid, limit=10).json()
    assert [s["output"] for s in t["steps"][-3:]] == ["A249", "Q250 edited", "ok"]
    t = page(api, tid, t["next_before"], limit=300).json()
    assert [s["id"] for s in t["steps"]] == ids[:242] and t["next_before"] is None
    # a cursor on the other branch pages back through its own history
    t = page(api, tid, ids[260], limit=5).json()
    assert [s["id"] for s in t["steps"]] == ids[255:260]


# ---- exports of a long thread -----------------------------------------------------


def test_export_of_a_long_thread_holds_every_step(api, backend):
    tid, ids = long_thread(api, 6001, text=lambda i: "step-%05d says hello" % i)
    r = api.get("/api/threads/%s/export.md" % tid)
    assert r.status_code == 200
    assert r.headers["Content-Type"].replace(" ", "") == "text/markdown;charset=utf-8"
    md = r.content.decode("utf-8")
    assert md.startswith("# Long\n")
    assert md.count("\n### ") == 6001 and md.count("\n---\n") == 6000
    found = [int(line[5:10]) for line in md.splitlines() if line.startswith("step-")]
    assert found == list(range(6001))

    tid, ids = long_thread(api, 301, text=lambda i: "step-%05d says hello" % i)
    r = api.get("/api/threads/%s/export.pdf" % tid)
    assert r.status_code == 200 and r.content.startswith(b"%PDF-")
    text = pdf_text(r.content)
    found = [int(w[5:10]) for w in text.split() if w.startswith("step-")]
    assert found == list(range(301))

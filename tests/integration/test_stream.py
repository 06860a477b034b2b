"""The chat stream: tokens reach the browser as the backend sends them."""
import re
import time

from conftest import UUID4, ApiClient, events_named, final_event, sse_events, tokens_of


def test_tokens_arrive_before_backend_hold_ends(api, backend, sse):
    toks = ["Hello", " there", ",", " how", " are", " you", "?"]
    backend.script({"tokens": toks, "hold_after": 3, "hold_seconds": 1.5})
    r = api.chat("stream please")
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("text/event-stream")
    with r:
        events = list(sse(r))
    names = [e[0] for e in events if e[0] != "render"]
    assert names[0] == "thread", names
    assert names[1:] == ["token"] * len(toks) + ["done"], names

    thread = events[0][1]
    for k in ("thread_id", "user_step_id", "assistant_step_id"):
        assert UUID4.match(thread[k]), thread

    token_events = events_named(events, "token")
    assert tokens_of(events) == toks
    t_third = token_events[2][2]
    t_fourth = token_events[3][2]
    # The thread event and the first three tokens came before the hold ended.
    assert events[0][2] <= t_third
    assert t_fourth - t_third >= 1.0, "tokens were held back: gap %.3f s" % (t_fourth - t_third)
    done = final_event(events)
    assert done[0] == "done"
    assert done[1]["content"] == "".join(toks)
    assert done[1]["step_id"] == thread["assistant_step_id"]
    assert done[1].get("stopped") is False
    assert "<p>Hello there, how are you?</p>" in done[1]["html"]


def test_markdown_table_rendered(api, backend):
    toks = ["Here:\n\n", "| a | b |\n", "|---|---|\n", "| 1 | **2** |\n"]
    backend.script({"tokens": toks})
    events = api.chat_events("a table please")
    done = final_event(events)
    assert done[0] == "done"
    assert done[1]["content"] == "".join(toks)
    html = done[1]["html"]
    assert "<table>" in html and "<th>a</th>" in html and "<strong>2</strong>" in html, html


def test_raw_html_is_not_passed_through(api, backend):
    backend.script({"tokens": ["<script>alert(1)</script>", " and <b>bold</b>"]})
    events = api.chat_events("html please")
    done = final_event(events)
    assert done[0] == "done"
    assert "<script>" not in done[1]["html"] and "<b>" not in done[1]["html"], done[1]["html"]


def test_render_events_during_long_stream(api, backend):
    toks = ["word%d " % i for i in range(40)] + ["\n\n- item **x**\n"]
    backend.script({"tokens": toks, "delay": 0.025})
    events = api.chat_events("long answer")
    done_i = [i for i, e in enumerate(events) if e[0] == "done"]
    assert done_i, [e[0] for e in events]
    renders = [e for e in events[:done_i[0]] if e[0] == "render"]
    # ~1 s of tokens, rendering throttled to >= 100 ms apart: several renders.
    assert len(renders) >= 2, "render events: %d" % len(renders)
    first_tok_t = events_named(events, "token")[0][2]
    assert renders[0][2] < events[done_i[0]][2] - 0.2, "renders only came at the end"
    assert renders[0][2] >= first_tok_t
    for r in renders:
        assert isinstance(r[1]["html"], str) and r[1]["html"].startswith("<")
    assert re.search(r"<li>item <strong>x</strong></li>", events[done_i[0]][1]["html"])


def test_default_echo_answer(api, backend):
    events = api.chat_events("simple question here")
    assert tokens_of(events) == ["Echo: ", "simple ", "question ", "here"]
    assert final_event(events)[1]["content"] == "Echo: simple question here"


def test_unicode_tokens(api, backend):
    toks = ["Grüße ", "— ", "日本語 ", "😀"]
    backend.script({"tokens": toks})
    events = api.chat_events("unicode ✓")
    assert tokens_of(events) == toks
    assert final_event(events)[1]["content"] == "".join(toks)


def test_stream_headers(api, backend):
    r = api.chat("headers")
    with r:
        assert r.status_code == 200
        assert r.headers["Content-Type"].startswith("text/event-stream")
        assert "no-cache" in r.headers.get("Cache-Control", "")
        assert "Content-Length" not in r.headers
        events = list(sse_events(r))
    assert final_event(events)[0] == "done"


def test_concurrent_streams(api, api_bob, backend):
    """Two users stream at once; neither waits for the other."""
    backend.script({"tokens": ["a1 ", "a2 ", "a3"], "hold_after": 1, "hold_seconds": 1.5},
                   {"tokens": ["b1 ", "b2 ", "b3"], "hold_after": 1, "hold_seconds": 1.5})
    t0 = time.monotonic()
    ra = api.chat("alice concurrent")
    rb = api_bob.chat("bob concurrent")
    ia, ib = iter(sse_events(ra)), iter(sse_events(rb))
    firsts = []
    for it in (ia, ib):
        evs = [next(it), next(it)]
        assert [e[0] for e in evs] == ["thread", "token"], evs
        firsts.append(evs[1][2] - t0)
    # Both first tokens came while both backend answers were still held.
    assert max(firsts) < 1.2, firsts
    ea, eb = list(ia), list(ib)
    ra.close()
    rb.close()
    assert final_event(ea)[1]["content"] + final_event(eb)[1]["content"] in (
        "a1 a2 a3b1 b2 b3", "b1 b2 b3a1 a2 a3")


def test_both_relays_stream_alike(make_server, backend_proc, backend, sse):
    """An http:// backend is relayed by the module's own client (one
    connection per answer, closed after it); a URL it does not take (user
    info here; https:// in production) by libcurl, with a connection kept
    per thread. Both stream the tokens as they come and end the same."""
    libcurl = make_server(backend_url=backend_proc.url.replace("http://", "http://relay:pw@"))
    for srv, own in ((make_server(), True), (libcurl, False)):
        client = ApiClient(srv, "alice")
        toks = ["one ", "two ", "three ", "four"]
        backend.reset()
        backend.script({"tokens": toks, "hold_after": 2, "hold_seconds": 1.0})
        events = list(sse(client.chat("both relays")))
        assert tokens_of(events) == toks
        assert final_event(events)[0] == "done"
        got = events_named(events, "token")
        assert got[2][2] - got[1][2] >= 0.8, "tokens were held back"
        assert final_event(events)[1]["content"] == "".join(toks)
        req = backend.chat_requests()[-1]
        headers = {k.lower(): v for k, v in req["headers"].items()}
        assert headers["authorization"] == "Bearer " + srv.key
        assert headers["user-agent"] == "mod_ragchat/1.0"
        assert (headers.get("connection") == "close") == own, headers

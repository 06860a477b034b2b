"""Log lines admins rely on: one line per answer at info (user, app, thread,
outcome, tokens, time to first token, duration), and at debug never the
words of the users' messages."""
import re

import pytest

from conftest import ApiClient

SECRET_WORDS = "zebra-7781 quokka-4412"


@pytest.fixture(scope="module")
def debug_server(make_server):
    return make_server(loglevel="warn ragchat:debug")


@pytest.fixture(scope="module")
def builtin_debug_server(make_server):
    return make_server(loglevel="warn ragchat:debug", backend_url="builtin")


def test_one_info_line_per_answer(debug_server, backend):
    api = ApiClient(debug_server)
    backend.script({"tokens": ["one ", "two ", "three"]})
    events = api.chat_events("please answer " + SECRET_WORDS)
    tid, step = events[0][1]["thread_id"], events[0][1]["assistant_step_id"]
    lines = [l for l in debug_server.error_log().splitlines() if "RC0206" in l and step in l]
    assert len(lines) == 1, lines
    m = re.search(r"\[ragchat:info\].*RC0206: answer user=alice app=/chat thread=%s step=%s "
                  r"outcome=done tokens=3 ttft_ms=\d+ duration_ms=\d+ bytes=13" % (tid, step),
                  lines[0])
    assert m, lines[0]


def test_debug_never_logs_message_words(debug_server, builtin_debug_server, backend):
    api = ApiClient(debug_server)
    backend.script({"tokens": ["fine"]})
    api.chat_events("tell me about " + SECRET_WORDS)
    b = ApiClient(builtin_debug_server)
    up = b.post("/api/upload", files=[("files", ("notes.txt", b"zebra-7781 lives in the zoo.\n",
                                                 "text/plain"))])
    assert up.status_code == 200, up.text
    events = b.chat_events("where does zebra-7781 live? quokka-4412")
    assert events[-1][0] == "done"
    for srv in (debug_server, builtin_debug_server):
        log = srv.error_log()
        assert "[ragchat:debug]" in log, "the debug level is on"
        for word in SECRET_WORDS.split():
            assert word not in log, word

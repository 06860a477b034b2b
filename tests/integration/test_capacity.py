"""The capacity warning at startup (src/httpd/capacity.c): RagChatStreams
says how many answers the site expects to stream at once; a MaxRequestWorkers
below it is logged (RC0009), as is an open-file limit too low for a child's
threads each streaming an answer (RC0010). Neither stops the server."""
import os
import re
import stat

import harness

LOG_ALLOW = [r"RC0009:", r"RC0010:"]


def test_streams_above_max_request_workers_is_a_warning(make_server, backend):
    # the suite's MPM: 4 processes of 25 threads, MaxRequestWorkers 100
    s = make_server(extra_server="RagChatStreams 500\n")
    log = s.error_log()
    assert re.search(r"\[ragchat:warn\].*RC0009: RagChatStreams is 500 but MaxRequestWorkers "
                     r"is 100 \(4 processes x 25 threads\).*at least 500", log), log
    # the server runs all the same
    assert harness.ApiClient(s, "alice").me()["user"] == "alice"


def test_streams_within_max_request_workers_is_quiet(make_server, backend):
    s = make_server(extra_server="RagChatStreams 100\n")
    assert "RC0009" not in s.error_log()
    assert "RC0010" not in s.error_log()


def test_streams_is_for_the_main_configuration_only(make_server):
    s = make_server(start=False, extra_location="RagChatStreams 10")
    s.port = harness.free_port()
    s.write_config()
    r = s.configtest()
    assert r.returncode != 0
    assert "RagChatStreams" in r.stderr and "not allowed" in r.stderr, r.stderr


def test_streams_takes_a_count(make_server):
    s = make_server(start=False, extra_server="RagChatStreams many\n")
    s.port = harness.free_port()
    s.write_config()
    r = s.configtest()
    assert r.returncode != 0
    assert "RagChatStreams: 'many' is not a count" in r.stderr, r.stderr


def test_open_file_limit_below_the_threads_is_a_warning(make_server, backend, monkeypatch,
                                                        tmp_path):
    # 25 threads a child need 2 x 25 + 64 = 114 descriptors; the server gets 100
    wrapper = tmp_path / "apache2"
    wrapper.write_text("#!/bin/sh\nexec /usr/bin/prlimit --nofile=100:100 %s \"$@\"\n"
                       % harness.APACHE)
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    os.chmod(tmp_path, 0o755)
    monkeypatch.setattr(harness, "APACHE", str(wrapper))
    s = make_server()
    log = s.error_log()
    assert re.search(r"\[ragchat:warn\].*RC0010: the open-file limit is 100 but a child of 25 "
                     r"threads streaming an answer on each needs 114", log), log
    assert "RC0009" not in log

"""Exports: GET B/api/steps/{id}/export.pdf|.md and B/api/threads/{id}/export.pdf|.md.

Threads are made by chatting with scripted backend answers built from the
samples in tests/data; the PDFs are checked with poppler-utils (pdftotext, pdfinfo,
pdffonts)."""
import os
import re
import shutil
import subprocess
import tempfile
import urllib.parse
import uuid

import pytest

from conftest import assert_error_json, final_event

SAMPLES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
STAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
STATUS_1 = "`[retrieval working...]`"
STATUS_2 = "`[summarising working...]`"
PREAMBLE = {"sources": ["handbook.pdf"], "confidence": 0.93}


def sample(name):
    """A missing sample fails the test (open raises), never skips it."""
    with open(os.path.join(SAMPLES, name), encoding="utf-8") as f:
        return f.read()


def split_tokens(text, size=9):
    """Fixed-size pieces (a token may end anywhere, also inside a markdown
    construct), as a backend streams them."""
    return [text[i:i + size] for i in range(0, len(text), size)]


def chat(api, backend, content, answer, thread_id=None, **script):
    backend.script(dict({"tokens": split_tokens(answer)}, **script))
    events = api.chat_events(content, thread_id=thread_id)
    end = final_event(events)
    assert end[0] == "done", events[-3:]
    return events[0][1]


def with_noise(text):
    """The answer as a backend may send it: status lines before and after."""
    return "%s\n\n%s\n%s\n" % (STATUS_1, text, STATUS_2)


# ---- poppler helpers ------------------------------------------------------------
def _poppler(cmd, pdf, *args):
    with tempfile.NamedTemporaryFile(suffix=".pdf") as f:
        f.write(pdf)
        f.flush()
        p = subprocess.run([cmd] + list(args) + [f.name] + (["-"] if cmd == "pdftotext" else []),
                           capture_output=True, timeout=60,
                           env={"PATH": "/usr/bin:/bin", "TZ": "UTC", "LANG": "C.UTF-8"})
    assert p.returncode == 0, "%s failed: %s" % (cmd, p.stderr.decode(errors="replace"))
    return p.stdout.decode("utf-8", errors="replace")


def pdf_text(pdf):
    return _poppler("pdftotext", pdf, "-enc", "UTF-8")


def pdf_info(pdf):
    out = _poppler("pdfinfo", pdf, "-enc", "UTF-8", "-isodates")
    info = {}
    for line in out.splitlines():
        k, sep, v = line.partition(":")
        if sep:
            info[k.strip()] = v.strip()
    return info


def pdf_fonts(pdf):
    """[(name, type, embedded)] from pdffonts."""
    lines = _poppler("pdffonts", pdf).splitlines()[2:]
    fonts = []
    for line in lines:
        m = re.match(r"^(\S+)\s+(.+?)\s{2,}\S+\s+(yes|no)\s+(yes|no)\s+(yes|no)", line)
        if m:
            fonts.append((m.group(1), m.group(2), m.group(3) == "yes"))
    return fonts


def pdf_urls(pdf):
    try:
        out = _poppler("pdfinfo", pdf, "-url")
        return re.findall(r"(https?://\S+)", out)
    except AssertionError:
        return re.findall(rb"/URI\s*\((https?://[^)]*)\)", pdf)


def squash(text):
    """pdftotext output with runs of white space folded, for phrase searches
    that may span a line break."""
    return re.sub(r"\s+", " ", text)


def in_order(text, *needles):
    pos = 0
    for n in needles:
        i = text.find(n, pos)
        assert i >= 0, "%r not found after position %d in %r" % (n, pos, text[:3000])
        pos = i + len(n)


# ---- the scripts of the multilingual sample ---------------------------------------
# Phrases of each line, in logical order, as `pdftotext` must give them back.
# poppler puts the runs of a right-to-left line in visual order when the page is
# mostly left-to-right, so the check is per phrase; a PDF printed by Chromium from
# the same text passes it too (test_script_check_passes_chromium_pdf).
SCRIPT_PHRASES = {
    "Arabic": ["العربية", "تم تحميل الملفات بنجاح", "وسيتم الرد على سؤالك",
               "النص العربي", "من اليمين إلى اليسار"],
    "Hebrew": ["עברית", "הקבצים הועלו בהצלחה", "התשובה תוצג משמאל לימין", "מימין לשמאל"],
    "Korean": ["한국어", "답변이 스트리밍으로 전송됩니다.", "문서 세 개가 처리되었습니다."],
    "Japanese": ["日本語", "東京の天気は晴れ、最高気温は２８度です。",
                 "ファイルのアップロードが完了しました。"],
    "Devanagari": ["हिन्दी", "आपकी फ़ाइलें सफलतापूर्वक अपलोड हो गई हैं।", "क्षणों में दिखाई देगा।"],
    "emoji": ["✅ done", "❌ failed", "⚠", "🚀 deployed", "👩🏽\u200d💻 engineer", "😀😃😄"],
}


def check_scripts(text):
    """Every phrase of SCRIPT_PHRASES, and no replacement character."""
    missing = ["%s: %s" % (script, p) for script, phrases in SCRIPT_PHRASES.items()
               for p in phrases if p not in text]
    assert not missing, "not extracted: %r from %r" % (missing, text[:4000])
    assert "\ufffd" not in text, "a replacement character in %r" % text


# ---- response helpers -------------------------------------------------------------
def get_export(api, what, ident, fmt, **kw):
    return api.get("/api/%s/%s/export.%s" % (what, ident, fmt), **kw)


def disposition_names(resp):
    cd = resp.headers.get("Content-Disposition", "")
    assert cd.startswith("attachment;"), cd
    plain = re.search(r'filename="([^"]*)"', cd)
    ext = re.search(r"filename\*=UTF-8''([A-Za-z0-9!#$&+\-.^_`|~%]+)", cd)
    assert plain and ext, "both filename forms wanted: %r" % cd
    value = plain.group(1)
    assert all(0x20 <= ord(c) < 0x7f for c in value), value
    assert "\\" not in value and '"' not in value, value
    return value, urllib.parse.unquote(ext.group(1), encoding="utf-8", errors="strict")


def check_pdf_response(r):
    assert r.status_code == 200, (r.status_code, r.text[:500])
    assert r.headers["Content-Type"] == "application/pdf"
    assert int(r.headers["Content-Length"]) == len(r.content)
    cc = r.headers.get("Cache-Control", "")
    assert "private" in cc and "no-store" in cc, cc
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    assert r.content.startswith(b"%PDF-"), r.content[:20]
    assert b"%%EOF" in r.content[-64:]
    return r.content


def check_md_response(r):
    assert r.status_code == 200, (r.status_code, r.text[:500])
    assert r.headers["Content-Type"].replace(" ", "").lower() == "text/markdown;charset=utf-8"
    assert int(r.headers["Content-Length"]) == len(r.content)
    cc = r.headers.get("Cache-Control", "")
    assert "private" in cc and "no-store" in cc, cc
    assert r.headers.get("X-Content-Type-Options") == "nosniff"
    return r.content.decode("utf-8")


def step_created(api, thread_id, step_id):
    for s in api.thread(thread_id)["steps"]:
        if s["id"] == step_id:
            return s["createdAt"]
    raise AssertionError("step %s not in its thread" % step_id)


def step_date(api, thread_id, step_id):
    return step_created(api, thread_id, step_id)[:10]


# ---- one answer -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def short_thread(api, backend_proc):
    backend_proc.reset()
    th = chat(api, backend_proc, "Quarterly report summary", with_noise(sample("short.md")),
              json_preamble=PREAMBLE)
    return th


def test_answer_pdf(api, short_thread):
    th = short_thread
    r = get_export(api, "steps", th["assistant_step_id"], "pdf")
    pdf = check_pdf_response(r)

    plain, utf8 = disposition_names(r)
    date = step_date(api, th["thread_id"], th["assistant_step_id"])
    assert utf8 == "Quarterly report summary \u2013 %s.pdf" % date, utf8
    assert plain == "Quarterly report summary - %s.pdf" % date, plain

    text = pdf_text(pdf)
    flat = squash(text)
    in_order(flat, "How to rotate the backend API key", "about five minutes",
             "Generate a new key", "ragctl keys add --label 2024-q3",
             "After an hour", "Keep the old key")
    for gone in ("working...", "```json", "confidence"):
        assert gone not in text, gone
    # the preamble's sources are listed after the answer
    in_order(flat, "Keep the old key", "Sources", "1. handbook.pdf")

    info = pdf_info(pdf)
    assert info.get("Title") == "Quarterly report summary", info
    assert info.get("Author") == "alice", info
    assert int(info["Pages"]) >= 1
    # The step's time (pdfinfo -isodates, UTC): "2026-11-26T18:09:12Z" or with +00:00.
    created = step_created(api, th["thread_id"], th["assistant_step_id"])
    assert info.get("CreationDate", "").startswith(created[:16]), (info, created)

    fonts = pdf_fonts(pdf)
    assert fonts, "no fonts listed"
    assert not [f for f in fonts if f[2]], "an English answer needs no embedded font: %r" % fonts


def test_answer_md(api, short_thread):
    th = short_thread
    r = get_export(api, "steps", th["assistant_step_id"], "md")
    md = check_md_response(r)
    assert md == sample("short.md").strip() + "\n\n**Sources**\n\n1. handbook.pdf\n"
    plain, utf8 = disposition_names(r)
    assert utf8.endswith(".md") and utf8.startswith("Quarterly report summary \u2013 20"), utf8
    assert plain.endswith(".md"), plain


def test_user_step_exports(api, short_thread):
    th = short_thread
    md = check_md_response(get_export(api, "steps", th["user_step_id"], "md"))
    assert md == "Quarterly report summary\n"
    pdf = check_pdf_response(get_export(api, "steps", th["user_step_id"], "pdf"))
    assert "Quarterly report summary" in pdf_text(pdf)


def test_head(api, short_thread):
    th = short_thread
    for fmt in ("pdf", "md"):
        g = get_export(api, "steps", th["assistant_step_id"], fmt)
        h = api.request("HEAD", "/api/steps/%s/export.%s" % (th["assistant_step_id"], fmt))
        assert h.status_code == 200, h.status_code
        assert h.content == b""
        for k in ("Content-Type", "Content-Disposition", "Cache-Control",
                  "X-Content-Type-Options"):
            assert h.headers.get(k) == g.headers.get(k), k
        assert int(h.headers["Content-Length"]) > 0
        if fmt == "md":
            assert h.headers["Content-Length"] == g.headers["Content-Length"]


def test_long_answer_pages_table_code_links(api, backend):
    long_md = sample("long.md")
    th = chat(api, backend, "Reliability review please", with_noise(long_md),
              json_preamble=True)
    pdf = check_pdf_response(get_export(api, "steps", th["assistant_step_id"], "pdf"))
    info = pdf_info(pdf)
    assert int(info["Pages"]) >= 3, info
    text = pdf_text(pdf)
    flat = squash(text)
    in_order(flat, "Platform Reliability Review", "1. Executive summary", "3. Service inventory",
             "chat-stream-1", "4. Incidents", "INC-1040", "5. Latency analysis",
             "References", "End of report.")
    # a table cell, a code line
    assert "eu-central" in text and "INC-1061" in text
    assert "ProxyPassReverse" in text
    for gone in ("working...", "```"):
        assert gone not in text, gone
    urls = pdf_urls(pdf)
    urls = [u.decode() if isinstance(u, bytes) else u for u in urls]
    assert any("httpd.apache.org/docs/2.4/mod/mod_proxy.html" in u for u in urls), urls
    assert any("html.spec.whatwg.org" in u for u in urls), urls

    md = check_md_response(get_export(api, "steps", th["assistant_step_id"], "md"))
    assert md == long_md.strip() + "\n\n**Sources**\n\n1. doc.pdf\n"


def test_unicode_answer_and_file_name(api, backend):
    uni = sample("unicode.md")
    name = 'Überblick «Café» \\ "quoted" / <b>ł</b>'
    th = chat(api, backend, name, with_noise(uni))
    r = get_export(api, "steps", th["assistant_step_id"], "pdf")
    pdf = check_pdf_response(r)
    date = step_date(api, th["thread_id"], th["assistant_step_id"])
    plain, utf8 = disposition_names(r)
    assert utf8.endswith(" \u2013 %s.pdf" % date), utf8
    assert utf8.startswith("Überblick «Café»"), utf8
    assert "/" not in utf8 and "\\" not in utf8 and '"' not in utf8, utf8
    assert plain.endswith(" - %s.pdf" % date), plain
    assert plain.startswith("Uberblick"), plain
    assert "Caf" in plain

    text = pdf_text(pdf)
    flat = squash(text)
    for word in ("Überblick", "Обзор", "Café société", "Łódź", "Ελληνικά", "Съешь же ещё",
                 "Français", "Здравствуйте", "日本語", "中文"):
        assert word in flat, word
    assert "working..." not in text
    check_scripts(text)
    fonts = pdf_fonts(pdf)
    assert any("DejaVu" in f[0] and f[2] for f in fonts), fonts
    # The fallback fonts that `make deps` installs, each embedded as a subset:
    # CJK (fonts-droid-fallback), Hangul (fonts-wqy-zenhei), Arabic, Hebrew,
    # Devanagari (fonts-noto-core) and emoji (fonts-symbola).
    for font in ("DroidSansFallback", "WenQuanYiZenHei", "NotoSansArabic", "NotoSansHebrew",
                 "NotoSansDevanagari", "Symbola"):
        assert any(font in f[0] and f[2] for f in fonts), (font, fonts)
    assert all(re.match(r"[A-Z]{6}\+", f[0]) and f[2] for f in fonts), fonts
    info = pdf_info(pdf)
    assert info.get("Title") == name, info

    md = check_md_response(get_export(api, "steps", th["assistant_step_id"], "md"))
    assert md == uni.strip() + "\n"


def test_repeated_and_concurrent_exports_are_identical(api, server, backend):
    """A child loads its fonts once and keeps them (the font cache): the first
    export of a thread, the later ones and exports made at the same time by
    several threads of the children are the same file, byte for byte, and
    still embed every font the text needs."""
    from concurrent.futures import ThreadPoolExecutor
    from harness import ApiClient
    th = chat(api, backend, "Unicode report", sample("unicode.md"))
    path = "/api/threads/%s/export.pdf" % th["thread_id"]
    first = check_pdf_response(api.get(path))
    later = [check_pdf_response(api.get(path)) for _ in range(3)]
    clients = [ApiClient(server, "alice") for _ in range(6)]
    with ThreadPoolExecutor(len(clients)) as pool:
        together = list(pool.map(lambda c: [c.get(path).content for _ in range(3)], clients))
    assert all(pdf == first for pdf in later)
    assert all(pdf == first for batch in together for pdf in batch)
    fonts = pdf_fonts(first)
    for font in ("DejaVuSans", "DroidSansFallback", "NotoSansArabic", "Symbola"):
        assert any(font in f[0] and f[2] for f in fonts), (font, fonts)
    assert "Ελληνικά" in squash(pdf_text(first))


def test_fallback_fonts_only_when_used(api, backend):
    """A Cyrillic answer embeds DejaVu (a subset) and no fallback font."""
    th = chat(api, backend, "Привет", "Съешь же ещё этих мягких французских булок.")
    pdf = check_pdf_response(get_export(api, "steps", th["assistant_step_id"], "pdf"))
    fonts = pdf_fonts(pdf)
    assert fonts and all("DejaVu" in f[0] and f[0][6] == "+" for f in fonts), fonts
    assert "Съешь же ещё" in pdf_text(pdf)


def test_script_check_passes_chromium_pdf(tmp_path):
    """The check of test_unicode_answer_and_file_name is fair: Chromium's PDF of
    the same text (markdown2's HTML) passes it."""
    import markdown2          # python3-markdown2 and chromium: scripts/deps.sh
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: run scripts/deps.sh"
    html = tmp_path / "sample.html"
    html.write_text("<!doctype html><meta charset=utf-8><body>%s</body>"
                    % markdown2.markdown(sample("unicode.md"), extras=["tables"]),
                    encoding="utf-8")
    out = tmp_path / "chromium.pdf"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu",
                    "--user-data-dir=%s" % (tmp_path / "profile"),
                    "--print-to-pdf=%s" % out, html.as_uri()],
                   capture_output=True, timeout=120)
    assert out.exists(), "chromium printed no PDF"
    check_scripts(pdf_text(out.read_bytes()))


def test_long_thread_name_is_capped(api, backend):
    name = "word " * 100 + "end"
    th = chat(api, backend, name, "Short answer.")
    r = get_export(api, "steps", th["assistant_step_id"], "md")
    plain, utf8 = disposition_names(r)
    assert len(utf8.encode()) <= 120, utf8
    assert len(plain) <= 120, plain
    assert utf8.startswith("word word") and re.search(r"word \u2013 \d{4}-\d\d-\d\d\.md$", utf8)


def test_file_name_without_ascii_letters(api, backend):
    th = chat(api, backend, "概要\n\t「報告」", "Answer.")
    r = get_export(api, "threads", th["thread_id"], "md")
    plain, utf8 = disposition_names(r)
    date = api.thread(th["thread_id"])["createdAt"][:10]
    assert utf8 == "概要 「報告」 \u2013 %s.md" % date, utf8
    assert plain == "Conversation - %s.md" % date, plain
    md = check_md_response(r)
    assert md.startswith("# 概要 「報告」\n"), md[:100]


def test_empty_answer_still_exports(api, backend):
    # Nothing but a status line: nothing is left after the export cleaning.
    th = chat(api, backend, "Say nothing", STATUS_1)
    pdf = check_pdf_response(get_export(api, "steps", th["assistant_step_id"], "pdf"))
    assert int(pdf_info(pdf)["Pages"]) >= 1
    assert "working" not in pdf_text(pdf)
    md = check_md_response(get_export(api, "steps", th["assistant_step_id"], "md"))
    assert md.strip() == ""
    # A thread whose answer holds zero tokens.
    th2 = chat(api, backend, "Empty please", "")
    for what, ident in (("steps", th2["assistant_step_id"]), ("threads", th2["thread_id"])):
        pdf = check_pdf_response(get_export(api, what, ident, "pdf"))
        assert int(pdf_info(pdf)["Pages"]) >= 1


def test_thread_without_steps_exports(api, server):
    api.me()
    tid = str(uuid.uuid4())
    uid = server.query("SELECT id FROM users WHERE identifier = 'alice'")[0]["id"]
    server.db_exec('INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier", '
                   'tags, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
                   (tid, "2026-11-26T18:09:00.000000Z", "Nothing yet", uid, "alice", None, "{}"))
    r = get_export(api, "threads", tid, "pdf")
    pdf = check_pdf_response(r)
    assert pdf_info(pdf).get("Title") == "Nothing yet"
    plain, utf8 = disposition_names(r)
    assert utf8 == "Nothing yet \u2013 2026-11-26.pdf" and plain == "Nothing yet - 2026-11-26.pdf"
    md = check_md_response(get_export(api, "threads", tid, "md"))
    assert md == "# Nothing yet\n"


# ---- a whole thread -----------------------------------------------------------------
@pytest.fixture(scope="module")
def two_turns(api, backend_proc):
    backend_proc.reset()
    first = "Summarise **key rotation** for me:\n\n```\nragctl keys list\n```\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    th = chat(api, backend_proc, first, with_noise(sample("short.md")), json_preamble=PREAMBLE)
    second = "And in other languages?\n\n```python\nprint('unterminated fence'"
    chat(api, backend_proc, second, with_noise(sample("unicode.md")), thread_id=th["thread_id"])
    return th, first, second


def test_thread_transcript_md(api, two_turns):
    th, first, second = two_turns
    r = get_export(api, "threads", th["thread_id"], "md")
    md = check_md_response(r)
    name = api.thread(th["thread_id"])["name"]
    title = re.sub(r"\s+", " ", name).strip()
    assert md.startswith("# %s\n" % title), md[:200]
    heads = re.findall(r"^### (.+) \u2014 (%s)$" % STAMP, md, re.M)
    assert [h[0] for h in heads] == ["alice", "Assistant", "alice", "Assistant"], heads
    assert md.count("\n---\n") >= 3
    assert "working..." not in md and "```json" not in md and "confidence" not in md
    in_order(md, first, sample("short.md").strip(), "And in other languages?",
             sample("unicode.md").strip())
    # The user's open code fence is closed before the next turn.
    part = md.split("And in other languages?", 1)[1]
    assert re.search(r"print\('unterminated fence'\n```\n\n---\n\n### Assistant", part), part[:300]
    plain, utf8 = disposition_names(r)
    assert utf8.endswith(".md") and plain.endswith(".md")


def test_thread_transcript_pdf(api, two_turns):
    th, first, second = two_turns
    r = get_export(api, "threads", th["thread_id"], "pdf")
    pdf = check_pdf_response(r)
    t = api.thread(th["thread_id"])
    date = t["createdAt"][:10]
    plain, utf8 = disposition_names(r)
    assert utf8.endswith(" \u2013 %s.pdf" % date) and plain.endswith(" - %s.pdf" % date)
    text = pdf_text(pdf)
    flat = squash(text)
    in_order(flat, "alice", "key rotation", "ragctl keys list",
             "Assistant", "How to rotate the backend API key", "Keep the old key",
             "alice", "And in other languages?", "unterminated fence",
             "Assistant", "Überblick", "Здравствуйте")
    assert len(re.findall(STAMP, flat)) >= 4, flat[:2000]
    for gone in ("working...", "```json", "confidence"):
        assert gone not in text, gone
    info = pdf_info(pdf)
    assert info.get("Title") == re.sub(r"\s+", " ", t["name"]).strip(), info
    assert info.get("Author") == "alice"
    assert int(info["Pages"]) >= 2


# ---- isolation and errors --------------------------------------------------------------
def test_other_users_get_404(api, api_bob, short_thread):
    th = short_thread
    for what, ident in (("steps", th["assistant_step_id"]), ("steps", th["user_step_id"]),
                        ("threads", th["thread_id"])):
        for fmt in ("pdf", "md"):
            r = get_export(api_bob, what, ident, fmt)
            body = assert_error_json(r, 404)
            assert "Quarterly" not in r.text, body
            h = api_bob.request("HEAD", "/api/%s/%s/export.%s" % (what, ident, fmt))
            assert h.status_code == 404
    for what in ("steps", "threads"):
        assert_error_json(get_export(api, what, str(uuid.uuid4()), "pdf"), 404)
        assert_error_json(get_export(api, what, "no-such-id", "md"), 404)


def test_unknown_format_and_method(api, short_thread):
    th = short_thread
    for what, ident in (("steps", th["assistant_step_id"]), ("threads", th["thread_id"])):
        for sub in ("export.docx", "export.PDF", "export", "export.pdf.md", "export."):
            assert_error_json(api.get("/api/%s/%s/%s" % (what, ident, sub)), 404)
        r = api.post("/api/%s/%s/export.pdf" % (what, ident), json={})
        assert_error_json(r, 405)


def test_unauthenticated(server, short_thread):
    import requests
    r = requests.get(server.url("/api/steps/%s/export.pdf" % short_thread["assistant_step_id"]),
                     timeout=10)
    assert r.status_code == 401
    assert not r.content.startswith(b"%PDF")


def test_error_log_clean(server):
    server.assert_log_clean()

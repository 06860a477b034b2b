"""RagChatBackend builtin: uploads go to the per-user document store (SQLite
FTS5, or PostgreSQL's tsvector when the suite runs on pgsql), a question is
answered with the best passages of the asker's own documents, the matching
words in bold, streamed like a real backend's answer.

The order matters a little: the first test is the server's first database use
of the builtin backend, so it also covers the tables being created at runtime.
"""
import re

from conftest import ApiClient, assert_error_json, final_event, tokens_of, unique

SERVER_OPTIONS = {"backend_url": "builtin", "key": None}

MD_HARBOUR = """# The Kerrow harbour

The Kerrow lighthouse was built in 1871 by the harbour board, on the rocks
north of the pier. Its lamp burned whale oil until 1902, when paraffin took over.

## Visiting

The tower is open to visitors from April to October, from ten to four on
weekdays. Tickets are sold at the harbour office, not at the tower.
"""

MD_GARDEN = """# Allotment rules

Each plot holder must keep the paths clear and compost green waste on site.
Bonfires are forbidden between May and September. Water butts are shared.

Rent is due on the first of January and covers the water supply.
"""

PDF_LINES = ["Supply report of the frigate Aurelia.",
             "The quartermaster ordered forty barrels of pitch and tar.",
             "Delivery by the schooner Mistral is due in March."]


def tiny_pdf(lines):
    """A minimal valid PDF with one page of Helvetica text, written by hand."""
    def esc(s):
        return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    content = ("BT /F1 11 Tf 72 740 Td 14 TL "
               + " ".join("(%s) Tj T*" % esc(l) for l in lines) + " ET")
    objs = ["<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            " /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica"
            " /Encoding /WinAnsiEncoding >>"]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, o in enumerate(objs):
        offsets.append(len(out))
        out += ("%d 0 obj\n%s\nendobj\n" % (i + 1, o)).encode("latin-1")
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += (b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n"
            % (len(objs) + 1, xref))
    return out


def upload(client, files, thread_id=None):
    data = {"thread_id": thread_id} if thread_id else None
    return client.post("/api/upload", files=[("files", f) for f in files], data=data,
                       timeout=30)


def ask(client, question, thread_id=None):
    """(content of the done event, tokens, events) of one question."""
    events = client.chat_events(question, thread_id)
    name, data, _ = final_event(events)
    assert name == "done", events[-1]
    return data["content"], tokens_of(events), events


BOLD = re.compile(r"(?<!\\)\*\*")


def quoted_blocks(content, bold=False):
    """The blockquotes of an answer: [(document name, text)], the text as
    written (the bold of the matching words removed; kept with bold=True)."""
    out = []
    for block in re.findall(r"(?m)^> \*\*(.+?)\*\*, passage \d+\n>\n> (.+)$", content):
        text = block[1] if bold else BOLD.sub("", block[1])
        out.append((block[0].replace("\\", ""), text.replace("\\", "")))
    return out


def test_no_documents_says_how_to_upload(api):
    content, tokens, events = ask(api, "When was the lighthouse built?")
    assert "not uploaded any documents" in content
    assert "drag and drop" in content and "Attach files" in content
    assert "no language model" in content
    # Streamed in word-sized pieces, which add up to the answer.
    assert len(tokens) > 10 and "".join(tokens) == content
    assert all(len(t.split()) <= 1 for t in tokens)


def test_upload_markdown_and_pdf(api, server):
    r = upload(api, [("harbour.md", MD_HARBOUR.encode(), "text/markdown"),
                     ("allotment.md", MD_GARDEN.encode(), "text/markdown"),
                     ("aurelia.pdf", tiny_pdf(PDF_LINES), "application/pdf")])
    assert r.status_code == 200, r.text
    body = r.json()
    assert re.fullmatch(r"Ingested 3 documents \(\d+ passages\)\. Ask me about them\.",
                        body["message"]), body
    assert [f["name"] for f in body["files"]] == ["harbour.md", "allotment.md", "aurelia.pdf"]
    con = server.db()
    try:
        docs = {row["name"]: dict(row) for row in con.execute(
            "SELECT * FROM ragchat_documents WHERE \"userIdentifier\" = 'alice'")}
        assert set(docs) == {"harbour.md", "allotment.md", "aurelia.pdf"}
        assert all(d["chunks"] >= 1 for d in docs.values())
        assert docs["aurelia.pdf"]["mime"] == "application/pdf"
        n = con.execute("SELECT COUNT(*) FROM ragchat_chunks WHERE \"userIdentifier\" = 'alice'"
                        ).fetchone()[0]
        assert n == sum(d["chunks"] for d in docs.values())
    finally:
        con.close()


def test_answer_quotes_the_passage_of_the_pdf(api):
    content, tokens, events = ask(api, "How many barrels did the quartermaster order?")
    assert "no language model" in content
    blocks = quoted_blocks(content)
    assert blocks, content
    assert blocks[0][0] == "aurelia.pdf"
    assert "forty barrels of pitch and tar" in blocks[0][1]
    # The words of the question that matched are in bold, the others not.
    marked = quoted_blocks(content, bold=True)[0][1]
    assert "**quartermaster**" in marked and "**barrels**" in marked, marked
    assert "**forty**" not in marked and "**pitch**" not in marked, marked
    # The passages found are the answer's sources: a leading ```json block, as a
    # RAG backend sends it, kept in the step's metadata (not in its text).
    streamed = "".join(tokens)
    assert streamed.startswith("```json\n{\"sources\":") and streamed.endswith(content)
    assert "```json" not in content and "Sources" not in content
    sources = final_event(events)[1]["sources"]
    assert sources[0] == {"title": "aurelia.pdf", "file": "aurelia.pdf", "passage": 1,
                          "score": 1.0}, sources
    assert all(0 < s["score"] <= 1 for s in sources)
    th = events[0][1]
    step = [s for s in api.thread(th["thread_id"])["steps"]
            if s["id"] == th["assistant_step_id"]][0]
    assert step["metadata"]["sources"] == sources
    assert step["metadata"]["preamble"]["sources"][0]["title"] == "aurelia.pdf"


def test_answer_quotes_the_passage_of_a_markdown_document(api):
    content, _, _ = ask(api, "When was the lighthouse built, and what did its lamp burn?")
    blocks = quoted_blocks(content)
    assert blocks and blocks[0][0] == "harbour.md", content
    assert "built in 1871 by the harbour board" in blocks[0][1]
    assert "allotment.md" not in [b[0] for b in blocks]
    # The answer is stored as the assistant step, rendered like any other.
    threads = api.get("/api/threads").json()["threads"]
    steps = api.thread(threads[0]["id"])["steps"]
    assert steps[-1]["type"] == "assistant_message" and steps[-1]["output"] == content


def test_follow_up_uses_the_previous_question_as_context(api):
    first = ask(api, "Tell me about the allotment rules")
    thread_id = first[2][0][1]["thread_id"]
    content, _, _ = ask(api, "and the rent?", thread_id)
    blocks = quoted_blocks(content)
    assert blocks and blocks[0][0] == "allotment.md", content
    assert "Rent is due on the first of January" in blocks[0][1]


def test_question_without_match_says_so(api):
    content, _, _ = ask(api, "%s %s" % (unique("zz"), unique("qq")))
    assert content.startswith("I found nothing that matches your question in your 3 documents")
    assert "Sources" not in content


def test_fts_syntax_in_a_question_is_harmless(api):
    content, _, _ = ask(api, 'barrels" OR NOT text:* ) AND ( NEAR("tar" ^ -- ; DROP TABLE x')
    assert quoted_blocks(content)[0][0] == "aurelia.pdf", content


def test_other_users_documents_are_never_retrieved(api, server):
    bob = ApiClient(server, "bob")
    # Bob has no documents: alice's never answer him.
    content, _, _ = ask(bob, "How many barrels did the quartermaster order?")
    assert "not uploaded any documents" in content
    word = unique("kelp")
    r = upload(bob, [("bob-notes.txt", ("The %s harvest starts in June. Barrels of "
                                         "seaweed are weighed at the quay.\n" % word).encode(),
                      "text/plain")])
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "Ingested 1 document (1 passage). Ask me about it."
    content, _, _ = ask(bob, "How many barrels did the quartermaster order?")
    assert [b[0] for b in quoted_blocks(content)] == ["bob-notes.txt"], content
    assert "aurelia" not in content and "harbour" not in content
    # ... nor bob's alice.
    content, _, _ = ask(api, "When does the %s harvest start?" % word)
    assert "bob-notes" not in content and word not in content
    assert content.startswith("I found nothing")


def test_html_and_json_text_only(api):
    secret = unique("scr")
    html = ("<html><head><title>Ferry timetable</title><style>.x{}</style>"
            "<script>var %s = 1;</script></head><body><h1>Ferries</h1>"
            "<p>The morning ferry to Inchmurrin leaves at 7&#58;15 &amp; returns at noon.</p>"
            "</body></html>" % secret)
    js = '{"menu": {"items": [{"label": "Smoked haddock chowder", "price": 9}]}}'
    r = upload(api, [("ferry.html", html.encode(), "text/html"),
                     ("menu.json", js.encode(), "application/json")])
    assert r.status_code == 200, r.text
    content, _, _ = ask(api, "When does the ferry to Inchmurrin leave?")
    blocks = quoted_blocks(content)
    assert blocks[0][0] == "ferry.html", content
    assert "leaves at 7:15 & returns at noon" in blocks[0][1]
    assert "<p>" not in content
    content, _, _ = ask(api, "Is there a %s?" % secret)
    assert content.startswith("I found nothing"), content
    content, _, _ = ask(api, "haddock chowder")
    assert quoted_blocks(content)[0] == ("menu.json", "Smoked haddock chowder"), content


def test_reupload_replaces_the_document(api, server):
    word = unique("rev")
    for version in ("first", "second"):
        r = upload(api, [("notes.txt", ("%s %s version of the notes.\n" % (word, version))
                          .encode(), "text/plain")])
        assert r.status_code == 200, r.text
    con = server.db()
    try:
        n = con.execute("SELECT COUNT(*) FROM ragchat_documents WHERE \"userIdentifier\" ="
                        " 'alice' AND name = 'notes.txt'").fetchone()[0]
    finally:
        con.close()
    assert n == 1
    content, _, _ = ask(api, word)
    assert "second version" in content and "first version" not in content


def test_unreadable_types_are_refused_clearly(api):
    r = upload(api, [("slides.pptx", b"PK\x03\x04 not really", "application/octet-stream")])
    body = assert_error_json(r, 415)
    assert "PowerPoint" in body["error"]["message"] and ".pptx" in body["error"]["message"]
    r = upload(api, [("broken.pdf", b"%PDF-1.4 this is not a PDF", "application/pdf")])
    body = assert_error_json(r, 415)
    assert "PDF" in body["error"]["message"]
    r = upload(api, [("bad.json", b"{not json", "application/json")])
    body = assert_error_json(r, 415)
    assert "JSON" in body["error"]["message"]
    r = upload(api, [("empty.txt", b" \n\t\n", "text/plain")])
    body = assert_error_json(r, 400)
    assert "no text" in body["error"]["message"]

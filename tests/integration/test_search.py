"""The thread search (GET B/api/threads?q=): ranked results with highlighted
snippets, prefixes, quoted phrases, non-Latin text, rows the reference app
writes straight into the tables, renames and deletes; and the index built
for a database of schema version 3 (src/core/schema.c version 4)."""
import re
import time
import uuid
from urllib.parse import quote

import harness
from conftest import ApiClient, final_event, unique
from test_schema import ROWS, V010, V010_SQLITE


def new_thread(api, content, backend=None, answer="an answer"):
    if backend is not None:
        backend.script({"tokens": [answer]})
    events = api.chat_events(content)
    assert final_event(events)[0] == "done", events
    return events[0][1]["thread_id"]


def search(api, q, **params):
    # spaces as %20, as the browser's encodeURIComponent writes them
    r = api.get("/api/threads?q=" + quote(q), params=dict({"limit": 100}, **params))
    assert r.status_code == 200, r.text
    return r.json()


def ids(api, q):
    return [t["id"] for t in search(api, q)["threads"]]


def check_parts(t):
    """snippet_parts: plain text and matched words by turns, making up the snippet."""
    parts = t["snippet_parts"]
    assert len(parts) % 2 == 1 and "".join(parts) == t["snippet"], t
    return parts[1::2]


def test_ranked_names_first_newest_first_among_equals(api, backend):
    word = unique("heron")
    older = new_thread(api, "tell me about %s" % word, backend)
    in_answer = new_thread(api, "a question", backend,
                           answer="a long answer " + " ".join("w%d" % i for i in range(40))
                           + " where %s comes up once" % word)
    newer = new_thread(api, "tell me about %s" % word, backend)
    assert ids(api, word) == [newer, older, in_answer]


def test_snippet_marks_the_matched_words(api, backend):
    word = unique("walrus")
    before = " ".join("filler%d" % i for i in range(60))
    tid = new_thread(api, "an opening", backend,
                     answer=before + " then the " + word.upper() + " appears <img src=x "
                     "onerror=alert(1)> and " + " ".join("tail%d" % i for i in range(60)))
    t = [x for x in search(api, word)["threads"] if x["id"] == tid][0]
    assert check_parts(t) == [word.upper()], t
    assert t["snippet"].startswith("\u2026") and t["snippet"].endswith("\u2026"), t
    assert "the " + word.upper() + " appears <img" in t["snippet"], t
    assert len(t["snippet"]) < 200 and "filler0 " not in t["snippet"], t
    # two words: both marked, wherever they are in the snippet
    t = search(api, "appears " + word)["threads"][0]
    assert sorted(check_parts(t)) == sorted([word.upper(), "appears"]), t


def test_prefixes_and_inner_parts_of_words(api, backend):
    word = unique("pelican")
    tid = new_thread(api, "the %sfish swims" % word, backend)
    assert ids(api, word) == [tid]
    assert ids(api, word[:-4]) == [tid]          # a prefix of the unique word
    assert ids(api, word + "fi") == [tid]
    assert ids(api, word + "fishes") == []


def test_quoted_phrases(api, backend):
    tag = unique("phr")
    together = new_thread(api, "%s the red fox jumps" % tag, backend)
    apart = new_thread(api, "%s a red car and a fox" % tag, backend)
    assert set(ids(api, "%s red fox" % tag)) == {together, apart}
    assert ids(api, '%s "red fox"' % tag) == [together]
    assert ids(api, '"%s the red fox"' % tag) == [together]


def test_common_words_all_required_shortest_match_first(api, backend):
    tag = unique("cw")
    both = new_thread(api, "%s with the wind" % tag, backend)
    long_both = new_thread(api, "%s with " % tag + " ".join("x%d" % i for i in range(50))
                           + " the end", backend)
    new_thread(api, "%s the only one" % tag, backend)
    new_thread(api, "%s with nothing more" % tag, backend)
    # every word must match; the shorter match first though older
    assert ids(api, "with the " + tag) == [both, long_both]
    assert ids(api, "the with %s wind" % tag) == [both]
    assert ids(api, '"with the" ' + tag) == [both]


def test_plus_is_a_space_as_forms_send_it(api, backend):
    tag = unique("plus")
    spaced = new_thread(api, "%s red fox" % tag, backend)
    plussed = new_thread(api, "%s c+fox" % tag, backend)

    def raw(qs):
        r = api.get("/api/threads?limit=100&q=" + qs)
        assert r.status_code == 200, r.text
        return [t["id"] for t in r.json()["threads"]]
    assert raw("%s+red+fox" % tag) == [spaced]
    assert raw("%22" + tag + "+red+fox%22") == [spaced]          # a quoted phrase
    assert raw("%s+c%%2Bfox" % tag) == [plussed]                  # %2B: a plus itself
    assert sorted(raw(tag + "+fox")) == sorted([spaced, plussed])


def test_non_latin_text(api, backend):
    tag = uuid.uuid4().hex[:6]
    cjk = new_thread(api, "東京タワーに行きました %s" % tag, backend)
    cyr = new_thread(api, "Привет, Мир! %s" % tag, backend)
    ara = new_thread(api, "مرحبا بالعالم %s" % tag, backend,
                     answer="Ответ про Москву")
    assert ids(api, "京タワ") == [cjk]             # inside a run of CJK
    assert ids(api, "東京") == [cjk]               # two characters: found too
    assert ids(api, "привет") == [cyr]              # case folded
    assert ids(api, "МИР " + tag) == [cyr]
    assert ids(api, "بالعالم") == [ara]
    assert ids(api, "москв") == [ara]               # in the answer
    # the words marked in an answer's snippet, as written
    osaka = new_thread(api, "where? " + tag, backend, answer="答えは大阪城です。")
    t = search(api, "大阪城")["threads"][0]
    assert t["id"] == osaka and check_parts(t) == ["大阪城"], t
    t = search(api, "москв")["threads"][0]
    assert t["id"] == ara and check_parts(t) == ["Москв"], t


def test_rows_the_reference_app_writes(server, api, backend):
    api.me()
    uid = server.query("SELECT id FROM users WHERE identifier = ?", ("alice",))[0]["id"]
    word, later = unique("osprey"), unique("kestrel")
    tid, sid = str(uuid.uuid4()), str(uuid.uuid4())
    server.db_exec('INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier",'
                   ' tags, metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
                   (tid, "2030-01-01T00:00:00.000000Z", "chainlit " + word, uid, "alice",
                    "[]", "{}"))
    server.db_exec('INSERT INTO steps (id, name, type, "threadId", output, "createdAt",'
                   ' metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
                   (sid, "Assistant", "assistant_message", tid, "",
                    "2030-01-01T00:00:01.000000Z", "{}"))
    assert ids(api, word) == [tid]
    assert ids(api, later) == []
    # Chainlit writes a streamed answer's text by updating its step
    server.db_exec("UPDATE steps SET output = ? WHERE id = ?", ("the answer: " + later, sid))
    assert ids(api, later) == [tid]
    server.db_exec("UPDATE threads SET name = ? WHERE id = ?", ("renamed elsewhere", tid))
    assert ids(api, word) == []
    server.db_exec("DELETE FROM steps WHERE id = ?", (sid,))
    assert ids(api, later) == []
    # tool steps and the like are not messages
    server.db_exec('INSERT INTO steps (id, name, type, "threadId", output, "createdAt",'
                   ' metadata) VALUES (?, ?, ?, ?, ?, ?, ?)',
                   (str(uuid.uuid4()), "tool", "tool", tid, later,
                    "2030-01-01T00:00:02.000000Z", "{}"))
    assert ids(api, later) == []


def test_a_long_thread_does_not_hide_the_others(server, api, backend):
    """A thread whose newest 1,500 messages all hold the word (more than one
    batch of matches) still leaves the older threads holding it in the results."""
    word = unique("plover")
    older = [new_thread(api, "about %s number %d" % (word, i), backend) for i in range(3)]
    long_tid = new_thread(api, "the long one", backend)
    server.db_exec_many(
        'INSERT INTO steps (id, name, type, "threadId", output, "createdAt", metadata)'
        ' VALUES (?, ?, ?, ?, ?, ?, ?)',
        [(str(uuid.uuid4()), "Assistant", "assistant_message", long_tid,
          "again %s, message %d" % (word, i), "2031-01-01T00:%02d:%02d.000000Z"
          % (i // 60 % 60, i % 60), "{}") for i in range(1500)])
    found = ids(api, word)
    assert set(found) == set(older) | {long_tid}, found
    # newest first among equals: the older threads' own order kept
    assert [t for t in found if t in older] == older[::-1], found


def test_renamed_thread_found_by_its_new_name(api, backend):
    old, new = unique("grebe"), unique("plover")
    tid = new_thread(api, "first %s" % old, backend)
    r = api.patch("/api/threads/%s" % tid, json={"name": "now " + new})
    assert r.status_code == 200, r.text
    assert ids(api, new) == [tid]
    t = search(api, new)["threads"][0]
    assert t["name"] == "now " + new and "snippet" not in t, t
    # the first message still holds the old word
    assert ids(api, old) == [tid]


def test_deleted_threads_are_gone(server, api, backend):
    word = unique("curlew")
    tid = new_thread(api, "doomed " + word, backend, answer="answer " + word)
    assert ids(api, word) == [tid]
    assert api.delete("/api/threads/%s" % tid).status_code == 204
    assert ids(api, word) == []
    assert server.query('SELECT COUNT(*) AS n FROM ragchat_search_docs WHERE "threadId" = ?',
                        (tid,))[0]["n"] == 0


def test_paging_and_other_users(api, api_bob, backend):
    word = unique("tern")
    made = [new_thread(api, "%s number %d" % (word, i), backend) for i in range(5)]
    seen, before = [], None
    for _ in range(5):
        params = {"limit": 2}
        if before:
            params["before"] = before
        body = search(api, word, **params)
        seen += [t["id"] for t in body["threads"]]
        before = body["next_before"]
        if not before:
            break
    assert sorted(seen) == sorted(made) and len(seen) == 5, seen
    assert ids(api_bob, word) == []
    # search text is data
    for q in ("%", "_", "'", '"', "\\", '"unclosed', "a*b", "NEAR(x y)", "x OR y"):
        assert api.get("/api/threads", params={"q": q}).status_code == 200, q


# A database of schema version 3, as the module left it before the search.
V2 = ['CREATE INDEX IF NOT EXISTS ragchat_feedbacks_thread ON feedbacks ("threadId")',
      'CREATE INDEX IF NOT EXISTS ragchat_elements_thread ON elements ("threadId")']
V2_PG = ['CREATE TABLE IF NOT EXISTS ragchat_documents (id TEXT PRIMARY KEY,'
         ' "userIdentifier" TEXT NOT NULL, name TEXT NOT NULL, mime TEXT, size BIGINT,'
         ' chunks INTEGER NOT NULL DEFAULT 0, "createdAt" TEXT NOT NULL)',
         'CREATE TABLE IF NOT EXISTS ragchat_chunks (document TEXT NOT NULL,'
         ' "userIdentifier" TEXT NOT NULL, name TEXT NOT NULL, ordinal INTEGER NOT NULL,'
         ' text TEXT NOT NULL, tsv tsvector GENERATED ALWAYS AS'
         " (to_tsvector('english'::regconfig, text)) STORED)"]
V3 = ['ALTER TABLE threads ADD COLUMN "ragchatApp" TEXT']


def version_3(driver):
    stmts = V010 + (V010_SQLITE if driver == "sqlite3" else V2_PG) + V2 + V3
    return (";\n".join(stmts) + ";\n" + ROWS
            + "CREATE TABLE ragchat_schema (version INTEGER PRIMARY KEY,"
              " \"appliedAt\" TEXT NOT NULL);\n"
            + "".join("INSERT INTO ragchat_schema VALUES (%d, '2025-01-01T00:00:00.000000Z');\n"
                      % v for v in (1, 2, 3)))


def wait_for_log(srv, pattern, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        m = re.search(pattern, srv.error_log())
        if m:
            return m
        time.sleep(0.05)
    raise AssertionError("no %r in the error log:\n%s" % (pattern, srv.error_log()))


def test_upgrade_from_version_3_indexes_the_rows_there(make_server, backend):
    srv = make_server(init_sql=version_3(harness.db_driver()))
    # Nobody asks anything: the index of the rows there is built all the same.
    wait_for_log(srv, r"RC0107: search index: .*index complete in [0-9.]+ s")
    assert re.search(r"RC0104: database schema upgraded from version 3 to 5",
                     srv.error_log()), srv.error_log()
    alice = ApiClient(srv, "alice")
    assert ids(alice, "old answer") == ["t1"]
    assert ids(alice, "kept across") == ["t1"]
    t = search(alice, "ANSWER")["threads"][0]
    assert check_parts(t) == ["answer"], t
    assert [t["id"] for t in alice.get("/api/threads").json()["threads"]] == ["t1"]
    assert [r["version"] for r in srv.query(
        "SELECT version FROM ragchat_schema ORDER BY version")] == [1, 2, 3, 4, 5]
    assert srv.query("SELECT COUNT(*) AS n FROM ragchat_search_backfill")[0]["n"] == 0
    assert srv.query("SELECT owner FROM ragchat_search_builder")[0]["owner"] == ""


def many_threads(n):
    """n threads of alice with a message each, the oldest one's word 'aardwolf'."""
    sql = []
    for k in range(0, n, 500):
        th, st = [], []
        for i in range(k, min(n, k + 500)):
            at = "2024-01-%02dT%02d:%02d:%02d.000000Z" % (1 + i // 86400 % 28, i // 3600 % 24,
                                                         i // 60 % 60, i % 60)
            th.append("('m%d', '%s', 'old thread %d', 'u1', 'alice', '[]', '{}')" % (i, at, i))
            st.append("('ms%d', 'alice', 'user_message', 'm%d', '%s number %d', '%s', '{}')"
                      % (i, i, "aardwolf" if i == 0 else "question", i, at))
        sql.append('INSERT INTO threads (id, "createdAt", name, "userId", "userIdentifier",'
                   " tags, metadata) VALUES " + ", ".join(th) + ";\n")
        sql.append('INSERT INTO steps (id, name, type, "threadId", output, "createdAt",'
                   " metadata) VALUES " + ", ".join(st) + ";\n")
    return "".join(sql)


def test_requests_during_the_build_are_answered(make_server, backend):
    srv = make_server(init_sql=version_3(harness.db_driver()) + many_threads(6000))
    alice = ApiClient(srv, "alice")
    answered = 0
    while "RC0107" not in srv.error_log():
        assert alice.get("/api/threads").status_code == 200
        assert alice.get("/api/threads?q=question").status_code == 200
        answered += 1
        assert answered < 2000, srv.error_log()
    m = wait_for_log(srv, r"RC0108: search index: (\S+) indexes")
    assert re.search(r"RC0107: .*index complete in [0-9.]+ s", srv.error_log())
    # one builder did it all
    assert len(re.findall("RC0108", srv.error_log())) == 1, srv.error_log()
    assert m.group(1).endswith("/%d" % int(m.group(1).rsplit("/", 1)[1]))
    assert ids(alice, "aardwolf") == ["m0"]
    assert len(ids(alice, "old thread 5999")) == 1
    # the documents in the messages' time order (the search's window is the newest)
    refs = [r["ref"] for r in srv.query("SELECT ref FROM ragchat_search_docs WHERE kind = 1"
                                        " ORDER BY id") if r["ref"].startswith("ms")]
    assert refs == ["ms%d" % i for i in range(6000)]
    if srv.driver == "pgsql":      # the indexes the build read by are gone
        assert srv.query("SELECT indexname FROM pg_indexes"
                         " WHERE indexname LIKE 'ragchat_backfill%'") == []
    # a new message is found at once, as before
    tid = new_thread(alice, "fresh aardwolf", backend)
    assert ids(alice, "aardwolf") == [tid, "m0"]


def test_one_builder_at_a_time_and_a_silent_one_is_taken_over(make_server, backend):
    # another node builds: its claim is fresh
    now = int(time.time() * 1e6)
    claim = ("CREATE TABLE ragchat_search_builder (one INTEGER PRIMARY KEY, owner TEXT NOT NULL,"
             " beat BIGINT NOT NULL, started BIGINT NOT NULL);\n"
             "INSERT INTO ragchat_search_builder VALUES (1, 'elsewhere/1', %d, %d);\n"
             % (now + 3600 * 10**6, now))
    srv = make_server(init_sql=version_3(harness.db_driver()) + claim)
    alice = ApiClient(srv, "alice")
    assert ids(alice, "kept across") == []
    time.sleep(1)
    assert ids(alice, "old answer") == [] and "RC0108" not in srv.error_log()
    # it falls silent: taken over within a retry (5 s)
    srv.db_exec("UPDATE ragchat_search_builder SET beat = ?", (now - 60 * 10**6,))
    wait_for_log(srv, r"RC0107: .*index complete in", timeout=15)
    assert ids(alice, "old answer") == ["t1"]
    assert srv.query("SELECT owner FROM ragchat_search_builder")[0]["owner"] == ""

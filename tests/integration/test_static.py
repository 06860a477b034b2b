"""The app page and B/static: the browser app's ES modules in htdocs/js are
served with a JavaScript type (module scripts need one), and nothing outside
RagChatHtdocs, nor any dot file in it, is."""
import base64
import http.client
import os
import posixpath
import re
import zlib

from conftest import assert_error_json

import harness


def raw_get(server, path):
    """GET with the path sent exactly as written (requests would remove dot segments)."""
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    auth = base64.b64encode(("alice:%s" % server.users["alice"]).encode()).decode()
    try:
        c.request("GET", path, headers={"Authorization": "Basic " + auth})
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def module_graph(api, entry):
    """The modules that `entry` imports, transitively, as paths below static/."""
    seen, todo = set(), [entry]
    while todo:
        f = todo.pop()
        if f in seen:
            continue
        seen.add(f)
        r = api.get("/static/" + f)
        assert r.status_code == 200, (f, r.status_code)
        assert r.headers["Content-Type"] == "text/javascript; charset=utf-8", f
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        for m in re.findall(r"""\bfrom\s+'(\./[\w.-]+\.js)'""", r.text):
            todo.append(posixpath.normpath(posixpath.join(posixpath.dirname(f), m)))
    return seen


def test_page_loads_the_app_as_a_module_under_its_csp(api):
    r = api.get("/")
    assert r.status_code == 200
    csp = r.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "'unsafe-inline'" not in csp, csp
    assert '<script type="module" src="static/js/main.js"></script>' in r.text
    scripts = re.findall(r"<script\b[^>]*>", r.text)
    assert scripts and all(' src="static/' in s for s in scripts), scripts


def test_the_modules_are_served_and_preloaded(api):
    page = api.get("/").text
    graph = module_graph(api, "js/main.js")
    assert graph == {"js/" + n for n in os.listdir(os.path.join(harness.REPO, "htdocs", "js"))}, \
        "every file of htdocs/js is a module that main.js imports"
    # the page names every module up front, so the browser fetches them at once
    preload = set(re.findall(r'<link rel="modulepreload" href="static/([^"]+)">', page))
    assert preload == graph
    for ref in re.findall(r'(?:src|href)="static/([^"]+)"', page):
        assert api.get("/static/" + ref).status_code == 200, ref


def test_files_in_a_subfolder_as_they_are(api):
    r = api.get("/static/js/sse.js")
    with open(os.path.join(harness.REPO, "htdocs", "js", "sse.js"), "rb") as f:
        assert r.content == f.read()
    assert r.headers["Cache-Control"] == "public, max-age=3600" and r.headers.get("ETag")
    assert api.get("/static/js/sse.js", headers={"If-None-Match": r.headers["ETag"]}).status_code == 304


def test_text_files_go_out_compressed_and_still_revalidate(server, api):
    """With mod_deflate loaded, the app's text files are gzipped for clients
    that accept it; the "-gzip" ETag they carry still gets a 304."""
    with open(os.path.join(harness.REPO, "htdocs", "app.css"), "rb") as f:
        css = f.read()
    r = api.s.get(server.url("/static/app.css"), headers={"Accept-Encoding": "gzip"}, stream=True)
    raw = r.raw.read()
    assert r.headers.get("Content-Encoding") == "gzip" and "Accept-Encoding" in r.headers["Vary"]
    assert zlib.decompress(raw, 31) == css and len(raw) < len(css) / 2
    assert api.get("/static/app.css", headers={"Accept-Encoding": "gzip",
                                               "If-None-Match": r.headers["ETag"]}).status_code == 304
    plain = api.get("/static/app.css", headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers and plain.content == css
    assert api.get("/static/app.css", headers={"Accept-Encoding": "identity",
                                               "If-None-Match": plain.headers["ETag"]}).status_code == 304
    # the page too; a font is sent as it is
    assert api.get("/", headers={"Accept-Encoding": "gzip"}).headers.get("Content-Encoding") == "gzip"


def test_debian_highlight_js_and_katex_are_served(api):
    """htdocs/vendor links to Debian's libjs-highlight.js and libjs-katex: the
    app serves them itself (no CDN), fonts included."""
    r = api.get("/static/vendor/highlight.min.js")
    assert r.status_code == 200 and r.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert b"hljs" in r.content[:2000]
    r = api.get("/static/vendor/katex/katex.min.js")
    assert r.status_code == 200 and b"katex" in r.content[:2000]
    css = api.get("/static/vendor/katex/katex.min.css")
    assert css.status_code == 200 and css.headers["Content-Type"] == "text/css; charset=utf-8"
    font = re.search(rb"url\((fonts/KaTeX_Main-Regular\.woff2)\)", css.content).group(1).decode()
    r = api.get("/static/vendor/katex/" + font)
    assert r.status_code == 200 and r.headers["Content-Type"] == "font/woff2"
    assert r.content[:4] == b"wOF2" and "Content-Encoding" not in r.headers


def test_nothing_outside_htdocs_nor_dot_files(server, api):
    htdocs = os.path.join(server.root, "htdocs")
    with open(os.path.join(server.root, "outside.js"), "w") as f:
        f.write("OUTSIDE")
    with open(os.path.join(htdocs, "js", ".hidden.js"), "w") as f:
        f.write("HIDDEN")
    os.makedirs(os.path.join(htdocs, "js", ".d"), exist_ok=True)
    with open(os.path.join(htdocs, "js", ".d", "x.js"), "w") as f:
        f.write("HIDDEN")
    for path in ["js/.hidden.js", "js/.d/x.js", ".%2e/outside.js", "js/%2e%2e/%2e%2e/outside.js",
                 "js/../../outside.js", "js/..%5c..%5coutside.js", "js/..%2f..%2foutside.js",
                 "/" + server.root.lstrip("/") + "/outside.js", "js/", "js", "js/nope.js"]:
        status, body = raw_get(server, server.base + "/static/" + path)
        assert status in (400, 403, 404), (path, status)
        assert b"OUTSIDE" not in body and b"HIDDEN" not in body, path
    assert_error_json(api.get("/static/js/.hidden.js"), 404)

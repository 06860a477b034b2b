"""What the empty chat shows: RagChatStarter prompts and the RagChatReadme
markdown (rendered by the module's engine, raw HTML suppressed), in B/api/me;
bad values fail configtest."""
import os
import re

import pytest

from conftest import ApiClient
from test_config import configtest, unstarted  # noqa: F401 (a fixture)

README = """# Welcome to the *handbook* chat

Ask about **leases** and $x^2$ math.

<script>alert(1)</script>
"""


@pytest.fixture(scope="module")
def readme_server(make_server, tmp_path_factory):
    path = tmp_path_factory.mktemp("readme") / "readme.md"
    path.write_text(README)
    os.chmod(path.parent, 0o755)
    os.chmod(path, 0o644)
    return make_server(extra_location='RagChatStarter "Summarize" "Summarize my documents."\n'
                                      'RagChatStarter "What can you do?"\n'
                                      'RagChatReadme file:%s' % path)


def test_starters_and_readme_in_me(readme_server):
    me = ApiClient(readme_server, "alice").me()
    assert me["starters"] == [{"label": "Summarize", "message": "Summarize my documents."},
                              {"label": "What can you do?", "message": "What can you do?"}]
    html = me["readme"]
    assert "<h1>Welcome to the <em>handbook</em> chat</h1>" in html
    assert "<strong>leases</strong>" in html
    assert '<span class="math math-inline">x^2</span>' in html
    assert "<script" not in html and "raw HTML omitted" in html


def test_none_by_default(api):
    me = api.me(refresh=True)
    assert me["starters"] == [] and "readme" not in me


def test_readme_as_text(make_server):
    srv = make_server(extra_location='RagChatReadme "Plain *text* readme"')
    assert ApiClient(srv, "alice").me()["readme"] == "<p>Plain <em>text</em> readme</p>\n"


@pytest.mark.parametrize("lines, message", [
    ('RagChatStarter "%s"' % ("x" * 201), r"RagChatStarter: at most 200 bytes of label"),
    ('RagChatStarter a b c', r"RagChatStarter takes 1-2 arguments"),
    ("\n".join('RagChatStarter "s%d"' % i for i in range(13)), r"RagChatStarter: at most 12"),
    ("RagChatReadme file:/nonexistent/readme.md", r"RagChatReadme: cannot read /nonexistent"),
])
def test_bad_values_fail_configtest(unstarted, lines, message):
    r = configtest(unstarted, lines)
    assert r.returncode != 0, r.stdout + r.stderr
    assert re.search(message, r.stderr), r.stderr

"""The app mounted at the server's root, on a stock-like server: mod_dir loaded
and an index.html in the DocumentRoot must not take B/ away from the app."""
import os

import pytest

from conftest import ApiClient, HttpdServer

MODULES = "/usr/lib/apache2/modules"


class RootServer(HttpdServer):
    def url(self, path="/"):
        return self.origin + "/" + path.lstrip("/")

    def write_config(self):
        with open(os.path.join(self.root, "www", "index.html"), "w") as f:
            f.write("<html><body>It works!</body></html>\n")
        os.chmod(os.path.join(self.root, "www", "index.html"), 0o644)
        super().write_config()
        with open(self.conf_path) as f:
            conf = f.read()
        conf = conf.replace("LoadModule mime_module",
                            "LoadModule dir_module %s/mod_dir.so\nLoadModule mime_module"
                            % MODULES, 1)
        conf += "\nDirectoryIndex index.html\n"
        with open(self.conf_path, "w") as f:
            f.write(conf)


@pytest.fixture(scope="module")
def root_server(backend_proc):
    s = RootServer(backend=backend_proc, base="/")
    yield s
    s.stop()
    bad = s.bad_log_lines()
    s.cleanup()
    assert not bad, bad


def test_app_at_root_with_mod_dir(root_server, backend):
    api = ApiClient(root_server)
    page = api.s.get(root_server.origin + "/", timeout=10)
    assert page.status_code == 200, page.status_code
    assert "It works!" not in page.text and 'src="static/js/main.js"' in page.text
    assert api.get("/api/me").json()["user"] == "alice"
    backend.script({"tokens": ["at ", "root"]})
    events = api.chat_events("hello at the root")
    assert events[-1][0] == "done" and events[-1][1]["content"] == "at root"
    assert api.s.get(root_server.origin + "/static/app.css", timeout=10).status_code == 200

"""A burst at a cold server: 200 first messages arrive at the same moment at a
freshly started server with four children, before anything has opened the
database (on SQLite: before its file exists). The schema is created once and
every one of them is answered; no request fails because another was creating
the schema, and nothing is logged at warn or above (the module's fixture
checks the log)."""
import re
import threading

from conftest import ApiClient, final_event, tokens_of

# Four children of 64 threads, all started up front: the 200 requests land on
# every child at once, each child opening its first connections together.
SIZING = ("StartServers 4\nServerLimit 4\nThreadLimit 64\nThreadsPerChild 64\n"
          "MinSpareThreads 25\nMaxSpareThreads 256\nMaxRequestWorkers 256\n"
          "ListenBacklog 1024\n")
USERS = 40
BURST = 200


def cold_server(make_server):
    s = make_server(start=False, extra_server=SIZING, timeouts=(15, 30))
    s.users = {"user%02d" % i: "pw-%02d" % i for i in range(USERS)}
    s._make_htpasswd()
    s.start()
    return s


def burst(server, clients):
    """Every client's chat, released at once; (client, events or exception)."""
    gate = threading.Barrier(len(clients))
    results = [None] * len(clients)

    def one(i, c):
        gate.wait()
        try:
            results[i] = c.chat_events("question %d of %s" % (i, c.user), timeout=60)
        except Exception as e:  # noqa: BLE001 - reported by the test
            results[i] = e

    threads = [threading.Thread(target=one, args=(i, c)) for i, c in enumerate(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_200_first_messages_at_a_cold_server(make_server, backend):
    server = cold_server(make_server)
    users = sorted(server.users)
    # The CSRF token of apache mode needs no database: fetching it makes no table.
    me = {u: ApiClient(server, u).csrf for u in users}
    assert not server.table_names(), "the schema was made before the burst"
    clients = []
    for i in range(BURST):
        c = ApiClient(server, users[i % USERS])
        c._me = {"csrf": me[c.user]}
        clients.append(c)

    results = burst(server, clients)

    failures = [r for r in results if not isinstance(r, list)]
    assert not failures, "%d of %d failed, first: %r" % (len(failures), BURST, failures[0])
    for i, events in enumerate(results):
        ev, data, _ = final_event(events)
        assert ev == "done", (i, events[-1])
        assert "".join(tokens_of(events)) == "Echo: question %d of %s" % (i, clients[i].user)
    # One thread per message, two steps each, every user once, nothing left running.
    assert server.query("SELECT COUNT(*) AS n FROM threads")[0]["n"] == BURST
    assert server.query("SELECT COUNT(*) AS n FROM steps")[0]["n"] == 2 * BURST
    assert server.query("SELECT COUNT(*) AS n FROM users")[0]["n"] == USERS
    assert server.query("SELECT COUNT(*) AS n FROM ragchat_streams")[0]["n"] == 0
    log = server.error_log()
    assert len(re.findall(r"RC0104: database schema at version", log)) == 1, log
    assert not re.search(r"RC0101|RC0102|RC0103|RC0203", log), log

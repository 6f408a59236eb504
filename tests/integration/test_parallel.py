"""Parallel blocks (k6's http.batch): a block's requests go out together
and it ends when all have answered, measured by strain's own
group_duration; counts equal the server's; batch and batch_per_host bound
what is in flight, as a server counting concurrent requests sees it; each
request's checks judge its own response; extractions land in the block's
order; malformed blocks are load errors naming file:line:col."""
import json
from collections import Counter
import textwrap
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest

from conftest import run_strain


def write_plan(tmp_path, url, body, name="plan.yaml"):
    plan = tmp_path / name
    plan.write_text(f"target: {url}\n" + textwrap.dedent(body))
    return plan


def run_plan(tmp_path, plan, *args, timeout=60):
    out = tmp_path / f"s-{time.monotonic_ns()}.json"
    p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out), *args, timeout=timeout)
    assert out.exists(), p.stderr
    return p, json.loads(out.read_text())


class Counting:
    """A keep-alive HTTP/1.1 server on 127.0.0.1 that answers
    /delay?ms=N after N ms and counts, under a lock, the requests in
    flight at once (the most ever), the requests per peer port and in
    total."""

    def __init__(self):
        self.lock = threading.Lock()
        self.inflight = 0
        self.max_inflight = 0
        self.total = 0
        self.ports = {}
        self.paths = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                u = urlparse(self.path)
                ms = int(parse_qs(u.query).get("ms", ["0"])[0])
                with outer.lock:
                    outer.inflight += 1
                    outer.max_inflight = max(outer.max_inflight, outer.inflight)
                    outer.total += 1
                    port = self.client_address[1]
                    outer.ports[port] = outer.ports.get(port, 0) + 1
                time.sleep(ms / 1000)
                with outer.lock:
                    outer.inflight -= 1
                    outer.paths[u.path] = outer.paths.get(u.path, 0) + 1
                body = b'{"ok":true}'
                if u.path == "/redirect":
                    self.send_response(302)
                    self.send_header("Location", "/landed")
                    self.send_header("Set-Cookie", "sid=1; Path=/")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def counting():
    c = Counting()
    yield c
    c.stop()


def test_block_takes_one_delay_and_counts_match(target, tmp_path):
    plan = write_plan(tmp_path, target.url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 4}
            flow:
              - group: blk
                steps:
                  - parallel:
                      - get: /fault/delay?ms=200
                        check: {status: 200}
                      - get: /fault/delay?ms=200
                      - get: /fault/delay?ms=200
                      - get: /fault/delay?ms=200
                      - get: /fault/delay?ms=200
        """)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    g = s["metrics"]["group_duration"]
    # Five 200 ms requests one after another would take 1 s; together, one
    # delay. Strain's own measure of the block, not the test's clock.
    assert g["count"] == 4
    assert g["min"] >= 200, g
    assert g["max"] < 2 * 200 + 100, g
    assert s["metrics"]["iteration_duration"]["max"] < 2 * 200 + 100
    assert s["metrics"]["http_reqs"]["count"] == 20
    st = target.stats()
    assert st["routes"]["fault/delay"] == {"total": 20, "statuses": {"200": 20}}
    assert st["total"] == 20
    assert s["metrics"]["checks"]["passes"] == 4 and s["metrics"]["checks"]["fails"] == 0


@pytest.mark.parametrize("defaults,n,most", [
    ("{batch_per_host: 2}", 6, 2),   # the per-host limit
    ("{batch: 3, batch_per_host: 0}", 6, 3),  # batch alone (0: no per-host limit)
    ("{}", 8, 6),                    # k6's default batchPerHost, 6
])
def test_limits_bound_what_is_in_flight(counting, tmp_path, defaults, n, most):
    steps = "".join("          - get: /delay?ms=150\n" for _ in range(n))
    plan = write_plan(tmp_path, counting.url, textwrap.dedent(f"""\
        defaults: {defaults}
        modules:
          m:
            executor: {{type: shared-iterations, vus: 1, iterations: 3}}
            flow:
              - parallel:
        """) + steps)
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    assert s["metrics"]["http_reqs"]["count"] == 3 * n == counting.total
    # Exactly `most` at once: never more, and the block did go out together.
    assert counting.max_inflight == most
    # Kept alive between blocks: the VU's block connections, no more.
    assert len(counting.ports) == most, counting.ports


def test_each_request_checks_its_own_response(target, tmp_path):
    plan = write_plan(tmp_path, target.url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 2, iterations: 6}
            flow:
              - parallel:
                  - get: /fault/status?code=503
                    name: five-oh-three
                    expect: 503
                    check: {status: 503}
                  - get: /health
                    check: {status: 200, body_contains: ok}
                  - get: /fault/status?code=404
                    name: four-oh-four
                    check: {status: 200}
        """)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    c = s["metrics"]["checks"]
    # 503 and the two of /health pass each iteration; 404's fails.
    assert c["passes"] == 6 * 3 and c["fails"] == 6, c
    assert s["metrics"]["http_reqs"]["count"] == 18
    st = target.stats()
    assert st["statuses"] == {"200": 6, "503": 6, "404": 6}


def test_extraction_lands_in_block_order(target, tmp_path):
    # The slow request comes first in the block and answers last: by the
    # order of answers v would be "delay"; in the block's order the later
    # request's value, the status "200", wins.
    plan = write_plan(tmp_path, target.url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 5}
            flow:
              - parallel:
                  - get: /fault/delay?ms=150
                    extract: {v: $.fault, w: $.fault}
                  - get: /health
                    extract: {v: {status: true}}
              - get: /fault/delay?ms={{v}}
                name: uses v
                check: {status: 200}
              - get: /fault/{{w}}?ms=1
                name: uses w
                check: {status: 200}
        """)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    assert s["metrics"]["checks"]["passes"] == 10 and s["metrics"]["checks"]["fails"] == 0
    assert target.stats()["routes"]["fault/delay"]["statuses"] == {"200": 15}


def test_failures_in_a_block_are_counted_and_it_ends(tmp_path):
    # Nothing listens: every request fails at connect, the block still ends.
    from conftest import free_port
    url = "http://127.0.0.1:%d" % free_port()
    plan = write_plan(tmp_path, url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 3}
            flow:
              - parallel:
                  - get: /a
                  - get: /b
                  - get: /c
        """)
    p, s = run_plan(tmp_path, plan)
    assert s["metrics"]["http_reqs"]["count"] == 9
    assert s["metrics"]["http_req_failed"]["passes"] == 9
    assert s["metrics"]["iterations"]["count"] == 3


def test_run_end_abandons_a_block_cleanly(target, tmp_path):
    plan = write_plan(tmp_path, target.url, """
        modules:
          m:
            executor: {type: constant-vus, vus: 2, duration: 1s, gracefulStop: 0s}
            flow:
              - parallel:
                  - get: /fault/delay?ms=700
                  - get: /fault/delay?ms=700
        """)
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    assert s["metrics"]["http_reqs"]["count"] >= 4


BAD = [
    ("empty", "      - parallel: []\n", 7, 19, "non-empty list of requests"),
    ("not a list", "      - parallel: {get: /}\n", 7, 19, "non-empty list of requests"),
    ("nested", "      - parallel:\n          - get: /a\n          - parallel: [{get: /b}]\n", 9, 13,
     "cannot be nested"),
    ("think inside", "      - parallel:\n          - get: /a\n          - think: 1s\n", 9, 13,
     "only requests"),
    ("group inside", "      - parallel:\n          - group: g\n            steps: [{get: /a}]\n", 8, 13,
     "only requests"),
    ("choose inside", "      - parallel:\n          - choose: [{steps: [{get: /a}]}]\n", 8, 13,
     "only requests"),
    ("extra key", "      - parallel: [{get: /a}]\n        name: x\n", 7, 9, "only 'parallel'"),
    ("bad batch", "      - parallel: [{get: /a}]\ndefaults: {batch: 0}\n", 8, 19, "batch"),
    ("bad batch_per_host", "      - parallel: [{get: /a}]\ndefaults: {batch_per_host: many}\n", 8, 28,
     "batch_per_host"),
]


@pytest.mark.parametrize("name,flow,line,col,msg", BAD, ids=[b[0] for b in BAD])
def test_malformed_blocks_are_load_errors(tmp_path, name, flow, line, col, msg):
    plan = tmp_path / "bad.yaml"
    plan.write_text("target: http://127.0.0.1:1\n"
                    "modules:\n"
                    "  m:\n"
                    "    executor: {type: shared-iterations, vus: 1, iterations: 1}\n"
                    "    flow:\n"
                    "      - get: /first\n" + flow)
    p = run_strain("run", str(plan), "--quiet", timeout=30)
    assert p.returncode == 104, (p.returncode, p.stderr)
    assert f"bad.yaml:{line}:{col}:" in p.stderr, p.stderr
    assert msg in p.stderr, p.stderr


def test_a_block_follows_redirects(counting, tmp_path):
    # As in k6's http.batch: a 3xx in a block is followed like any
    # request's, its checks judge the final 200, and the hop is its own
    # sample (http_reqs equals what the server answered).
    plan = write_plan(tmp_path, counting.url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 3}
            flow:
              - parallel:
                  - get: /redirect
                    check: {status: 200}
                  - get: /delay?ms=1
              - get: /redirect
                check: {status: 200}
        """)
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    assert s["metrics"]["checks"]["passes"] == 6 and s["metrics"]["checks"]["fails"] == 0
    assert counting.paths == {"/redirect": 6, "/delay": 3, "/landed": 6}
    assert s["metrics"]["http_reqs"]["count"] == 15 == counting.total


class Shop:
    """An HTTP/1.1 server on 127.0.0.1 that keeps, per path in arrival
    order, the method, the Cookie header (None without one) and the query
    of each request. /login sets sid=N (N counts logins from 1); /redir
    answers 302 and /see-other 303 to /landed, /loop 302 to itself, /away
    302 to a host that does not resolve; anything else is 200."""

    def __init__(self):
        self.lock = threading.Lock()
        self.seen = {}
        self.total = 0
        self.logins = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def answer(self, method):
                u = urlparse(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                if n:
                    self.rfile.read(n)
                with outer.lock:
                    outer.total += 1
                    outer.seen.setdefault(u.path, []).append(
                        (method, self.headers.get("Cookie"), parse_qs(u.query)))
                    if u.path == "/login":
                        outer.logins += 1
                        sid = outer.logins
                if u.path in ("/redir", "/see-other", "/away", "/loop"):
                    self.send_response(303 if u.path == "/see-other" else 302)
                    self.send_header("Location", {"/away": "http://no-such-host.invalid/x",
                                                  "/loop": "/loop"}.get(u.path, "/landed"))
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = b"landed" if u.path == "/landed" else b"ok"
                self.send_response(200)
                if u.path == "/login":
                    self.send_header("Set-Cookie", "sid=%d; Path=/" % sid)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                self.answer("GET")

            def do_POST(self):
                self.answer("POST")

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.srv.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()

    def cookies(self, path):
        with self.lock:
            return [c for _, c, _ in self.seen.get(path, [])]


@pytest.fixture
def shop():
    s = Shop()
    yield s
    s.stop()


def test_block_requests_use_the_vus_jar_and_follow_redirects(shop, tmp_path):
    # Block 1: a 302 followed (checks on the final 200), a login that sets
    # sid (extracted there from the VU's jar), a plain request. Block 2 and
    # the request after send the sid of this iteration's login; block 1's
    # requests, out before the login answers, send none — the jar is
    # emptied each iteration, so iteration 2's do not send iteration 1's.
    # In block 2, max_redirects: 0 keeps a 302 as the response, and a POST
    # answered 303 goes on as GET, as outside a block.
    plan = write_plan(tmp_path, shop.url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 3}
            flow:
              - parallel:
                  - get: /redir
                    check: {status: 200, body_contains: landed}
                  - get: /login
                    extract: {sid: {cookie: sid}}
                  - get: /plain
              - parallel:
                  - get: /inblock2
                  - get: /redir
                    name: kept
                    max_redirects: 0
                    check: {status: 302}
                  - post: /see-other
                    body: x
                    check: {status: 200, body_contains: landed}
              - get: /after?sid={{sid}}
                check: {status: 200}
        """)
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    sids = ["sid=1", "sid=2", "sid=3"]
    assert shop.cookies("/plain") == [None, None, None]
    assert shop.cookies("/login") == [None, None, None]
    assert shop.cookies("/inblock2") == sids
    assert shop.cookies("/see-other") == sids
    assert shop.cookies("/after") == sids
    assert [q["sid"] for _, _, q in shop.seen["/after"]] == [["1"], ["2"], ["3"]]
    # Block 1's /redir then block 2's, each iteration.
    assert shop.cookies("/redir") == [None, "sid=1", None, "sid=2", None, "sid=3"]
    assert {path: len(v) for path, v in shop.seen.items()} == {
        "/redir": 6, "/landed": 6, "/login": 3, "/plain": 3, "/inblock2": 3, "/see-other": 3, "/after": 3}
    assert [m for m, _, _ in shop.seen["/landed"]] == ["GET"] * 6
    assert [m for m, _, _ in shop.seen["/see-other"]] == ["POST"] * 3
    # Each hop its own sample: what strain counts is what the server saw.
    assert s["metrics"]["http_reqs"]["count"] == 27 == shop.total
    c = s["metrics"]["checks"]
    assert c["passes"] == 3 * 6 and c["fails"] == 0, c
    assert s["metrics"]["iterations"]["count"] == 3


def test_redirects_a_block_cannot_follow_end_its_request(shop, tmp_path):
    # As outside a block: a hop to a name that does not resolve (looked up
    # during the run) fails with 1101 before anything is sent, and past max_redirects the last 3xx is
    # the response, with 1740. The block still ends, its other request
    # answered; each hop that went is its own sample.
    plan = write_plan(tmp_path, shop.url, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 2}
            flow:
              - parallel:
                  - get: /away
                    name: away
                  - get: /loop
                    name: loop
                    max_redirects: 2
                  - get: /plain
                    name: plain
        """)
    samples = tmp_path / "samples.json"
    p, s = run_plan(tmp_path, plan, "--out", f"json={samples}")
    assert s["metrics"]["iterations"]["count"] == 2
    got = {}
    for line in samples.read_text().splitlines():
        d = json.loads(line)
        if d.get("type") == "Point" and d["metric"] == "http_reqs":
            t = d["data"]["tags"]
            got.setdefault(t["name"], []).append((t["status"], t.get("error_code")))
    assert Counter(got["away"]) == {("302", None): 2, ("0", "1101"): 2}, got
    assert Counter(got["loop"]) == {("302", None): 4, ("302", "1740"): 2}, got
    assert got["plain"] == [("200", None)] * 2, got
    assert {path: len(v) for path, v in shop.seen.items()} == {"/away": 2, "/loop": 6, "/plain": 2}
    assert s["metrics"]["http_reqs"]["count"] == 12
    assert s["metrics"]["http_req_failed"]["passes"] == 4

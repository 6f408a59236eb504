"""The live dashboard (strain run --web): the event stream from a real run
against `strain target`, the final summary, linger, and what the server
refuses; then the live page in headless Chromium during a run (screenshots
under build/test-artifacts/web/). Every run is bounded; every process is
waited for."""
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import textwrap

import pytest

from conftest import STRAIN, free_port, run_strain

URL_RE = re.compile(r"live dashboard at http://([0-9.]+):(\d+)/")


class Run:
    """A `strain run ... --web 127.0.0.1:0` in the background; .host/.port
    is where its dashboard listens (read from its stderr)."""

    def __init__(self, *args, web="127.0.0.1:0"):
        self.proc = subprocess.Popen([STRAIN, "run", "--quiet", f"--web={web}", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        for line in self.proc.stderr:
            self.lines.append(line)
            m = URL_RE.search(line)
            if m:
                self.host, self.port = m.group(1), int(m.group(2))
                return
        self.proc.wait(timeout=30)
        raise AssertionError("no dashboard address printed: " + "".join(self.lines))

    def conn(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=30)

    def get(self, path, method="GET", body=None):
        c = self.conn()
        c.request(method, path, body=body)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r, data

    def wait(self, timeout=60):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.communicate()
            raise
        return self.proc.returncode, "".join(self.lines) + err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def runs():
    started = []

    def start(*args, **kw):
        r = Run(*args, **kw)
        started.append(r)
        return r
    yield start
    for r in started:
        r.kill()


def read_events(resp, until_final=True):
    """Server-sent events from an open response, as (event name, data text),
    up to and including "final" (or the end of the stream)."""
    events, name, data = [], None, []
    while True:
        line = resp.fp.readline()
        if not line:
            return events
        line = line.decode().rstrip("\n")
        if line == "":
            if data:
                events.append((name or "message", "\n".join(data)))
                if until_final and name == "final":
                    return events
            name, data = None, []
        elif line.startswith(":"):
            continue
        elif line.startswith("event: "):
            name = line[7:]
        elif line.startswith("data: "):
            data.append(line[6:])


def open_events(run):
    c = run.conn()
    c.request("GET", "/events")
    r = c.getresponse()
    assert r.status == 200
    assert r.getheader("Content-Type") == "text/event-stream"
    return c, r


def test_events_each_interval_then_the_final_summary(target, runs, tmp_path):
    out = tmp_path / "s.json"
    run = runs("--url", target.url + "/health", "--vus", "2", "--duration", "4s", "--summary-export", str(out))
    c, r = open_events(run)
    events = read_events(r)
    c.close()
    rc, err = run.wait()
    assert rc == 0, err
    live = [json.loads(d) for n, d in events if n == "message"]
    assert events[-1][0] == "final"
    # One per collector interval (1 s) over 4 s, and one at connect.
    assert 3 <= len(live) <= 7, [d["elapsed_ms"] for d in live]
    for d in live:
        assert d["version"] == "strain-summary/2" and d["live"] is True
        assert d["description"].startswith("GET " + target.url + "/health")
        assert d["strategy"] == "none" and d["thresholds"] == []
        # (the document sent at connect may come before the phase began)
        assert [p["modules"] for p in d["phases"]] in ([], [["default"]])
    assert live[-1]["phases"][0]["end_ms"] is not None
    elapsed = [d["elapsed_ms"] for d in live]
    assert elapsed == sorted(elapsed) and elapsed[-1] > elapsed[0]
    # The time series grows: more slots as the run goes, and requests in them.
    slots = [sum(len(s["t_ms"]) for s in d["timeseries"]["series"]) for d in live]
    assert slots == sorted(slots) and slots[-1] >= 3, slots
    reqs = [sum(sum(s["requests"]) for s in d["timeseries"]["series"]) for d in live]
    assert reqs == sorted(reqs) and reqs[-1] > 0
    # The final event is the exported summary, exactly.
    assert events[-1][1] + "\n" == out.read_text()


def test_plan_run_has_phases_and_threshold_definitions(target, runs, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\n" + textwrap.dedent("""
        modules:
          a:
            executor: {type: constant-vus, vus: 1, duration: 1s}
            flow: [{get: /health}]
          b:
            executor: {type: constant-vus, vus: 1, duration: 1s}
            flow: [{get: /health}]
        thresholds:
          "http_req_duration{module:a}": ["p(95)<5000"]
        """))
    run = runs(str(plan), "--strategy", "sequential")
    c, r = open_events(run)
    events = read_events(r)
    c.close()
    rc, err = run.wait()
    assert rc == 0, err
    live = [json.loads(d) for n, d in events if n == "message"]
    last = live[-1]
    assert last["thresholds"] == [{"metric": "http_req_duration{module:a}", "expression": "p(95)<5000",
                                   "ok": None}]
    assert [p["modules"] for p in last["phases"]] == [["a"], ["b"]]
    assert all(p["strategy"] == "sequential" for p in last["phases"])
    assert last["phases"][0]["end_ms"] is not None
    final = json.loads(events[-1][1])
    assert final["thresholds"][0]["ok"] is True


def test_linger_keeps_it_up_then_exits(target, runs, tmp_path):
    out = tmp_path / "s.json"
    run = runs("--url", target.url + "/health", "--duration", "1s", "--web-linger", "3s",
               "--summary-export", str(out))
    c, r = open_events(run)
    events = read_events(r)
    assert events[-1][0] == "final"
    # After the end: the stream stays open, a new one gets the final at
    # once, and /summary.json is the exported file.
    c2, r2 = open_events(run)
    assert read_events(r2) == [events[-1]]
    resp, body = run.get("/summary.json")
    assert resp.status == 200 and body.decode() == out.read_text()
    resp, body = run.get("/")
    assert resp.status == 200 and b"<html" in body
    # The first stream ends when linger does, and the process exits.
    assert read_events(r, until_final=False) == []
    rc, err = run.wait(timeout=30)
    assert rc == 0, err
    assert "stays up for 3s" not in err  # --quiet
    c.close()
    c2.close()


def test_ctrl_c_ends_linger_at_once_with_the_runs_status(target, runs):
    run = runs("--url", target.url + "/health", "--duration", "1s", "--web-linger", "10m")
    c, r = open_events(run)
    assert read_events(r)[-1][0] == "final"
    run.proc.send_signal(signal.SIGINT)
    rc, err = run.wait(timeout=20)
    c.close()
    assert rc == 0, err


def test_busy_port_is_an_error_before_any_traffic(target, tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        p = run_strain("run", "--url", target.url + "/health", "--duration", "2s",
                       "--web", f"127.0.0.1:{port}", timeout=30)
    assert p.returncode == 104, p.stderr
    assert f"--web 127.0.0.1:{port}" in p.stderr and "in use" in p.stderr
    assert target.stats()["total"] == 0


@pytest.mark.parametrize("addr, why", [("nohost.invalid:1", ""), ("127.0.0.1:70000", "port"),
                                        ("localhost", "HOST:PORT")])
def test_bad_address_names_the_flag(target, addr, why):
    p = run_strain("run", "--url", target.url + "/health", f"--web={addr}", timeout=30)
    assert p.returncode == 104
    assert p.stderr.startswith("strain run: --web:") and why in p.stderr
    assert target.stats()["total"] == 0


def test_linger_needs_web(target):
    p = run_strain("run", "--url", target.url + "/health", "--web-linger", "1s", timeout=30)
    assert p.returncode == 104 and "--web-linger goes with --web" in p.stderr


def test_web_then_plan_file_is_the_plan(target, tmp_path):
    # "--web PLAN" does not take the plan as an address: it has no ':'.
    plan = tmp_path / "p.yaml"
    plan.write_text(f"target: {target.url}\nmodules:\n  m:\n    executor: {{type: shared-iterations, "
                    "vus: 1, iterations: 1}\n    flow: [{get: /health}]\n")
    port = free_port()
    p = run_strain("run", "--quiet", "--web", f"127.0.0.1:{port}", timeout=30)
    assert p.returncode == 104 and "give a plan file or --url" in p.stderr
    p = run_strain("run", "--quiet", f"--web=127.0.0.1:{port}", str(plan), timeout=30)
    assert p.returncode == 0, p.stderr
    assert target.stats()["total"] == 1


def test_only_get_and_head_nothing_changes(target, runs):
    run = runs("--url", target.url + "/health", "--duration", "1s", "--web-linger", "30s")
    for method in ("POST", "PUT", "DELETE", "PATCH", "OPTIONS"):
        for path in ("/", "/summary.json", "/events"):
            resp, body = run.get(path, method=method, body=b"{}")
            assert resp.status == 405, (method, path)
            assert resp.getheader("Allow") == "GET, HEAD"
    resp, body = run.get("/summary.json", method="HEAD")
    assert resp.status == 200 and body == b"" and int(resp.getheader("Content-Length")) > 0
    resp, _ = run.get("/nothing")
    assert resp.status == 404
    resp, body = run.get("/summary.json")
    assert resp.status == 200 and json.loads(body)["version"] == "strain-summary/2"
    c, r = open_events(run)
    assert read_events(r)[-1][0] == "final"
    c.close()
    run.proc.send_signal(signal.SIGINT)
    rc, err = run.wait(timeout=30)
    assert rc == 0, err


def test_a_foreign_host_name_is_refused_on_loopback(target, runs):
    """DNS rebinding: a page whose own name points at 127.0.0.1 sends its
    name as Host; the dashboard answers only loopback names."""
    run = runs("--url", target.url + "/health", "--duration", "1s", "--web-linger", "30s")
    for host, status in (("evil.example:5665", 403), ("example.com", 403), ("127.0.0.1", 200),
                         (f"127.0.0.1:{run.port}", 200), ("localhost:5665", 200), ("LOCALHOST", 200),
                         ("[::1]:5665", 200), ("10.0.0.1", 403)):
        c = run.conn()
        c.putrequest("GET", "/summary.json", skip_host=True)
        c.putheader("Host", host)
        c.endheaders()
        r = c.getresponse()
        r.read()
        c.close()
        assert r.status == status, host
    c, r = open_events(run)
    assert read_events(r)[-1][0] == "final"
    c.close()
    run.proc.send_signal(signal.SIGINT)
    rc, err = run.wait(timeout=30)
    assert rc == 0, err


def test_clients_are_bounded_and_idle_ones_do_not_hold_the_run(target, runs):
    run = runs("--url", target.url + "/health", "--duration", "2s")
    idle = []
    try:
        # 32 connections that never send a request fill every slot (each
        # would be closed after 10 s); the 33rd is told 503 at once. None of
        # them holds the run up.
        for _ in range(32):
            idle.append(socket.create_connection((run.host, run.port), timeout=10))
        extra = socket.create_connection((run.host, run.port), timeout=10)
        extra.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        got = extra.recv(4096)
        extra.close()
        assert got.startswith(b"HTTP/1.1 503 ")
        rc, err = run.wait(timeout=30)
        assert rc == 0, err
    finally:
        for s in idle:
            s.close()


def test_a_stream_that_is_never_read_does_not_block_the_run(target, runs):
    # A client that opens the stream and never reads: the run ends on time
    # and is not held by it (its bytes wait in the kernel, then in a
    # bounded buffer; past that the client is dropped).
    run = runs("--url", target.url + "/health", "--vus", "2", "--duration", "3s")
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((run.host, run.port))
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    try:
        rc, err = run.wait(timeout=30)
        assert rc == 0, err
    finally:
        s.close()


def test_default_address_is_loopback(target):
    # Port 5665 may be in use on this machine: either way the address tried
    # is the loopback one.
    p = run_strain("run", "--url", target.url + "/health", "--web", timeout=60)
    assert "127.0.0.1:5665" in p.stderr, p.stderr
    if p.returncode == 0:
        assert "live dashboard at http://127.0.0.1:5665/" in p.stderr
    else:
        assert p.returncode == 104 and "--web 127.0.0.1:5665" in p.stderr
    # A port alone also means loopback.
    port = free_port()
    p = run_strain("run", "--quiet", "--url", target.url + "/health", f"--web=:{port}", timeout=60)
    assert p.returncode == 0, p.stderr
    assert f"live dashboard at http://127.0.0.1:{port}/" in p.stderr


# ---- the live page in headless Chromium (selenium + chromium-driver) ----

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "build", "test-artifacts", "web")


def have_selenium():
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


needs_browser = pytest.mark.skipif(not have_selenium(),
                                   reason="needs chromium, chromium-driver and python3-selenium (/usr/bin/python3)")

LIVE_PLAN = """
modules:
  jobs:
    executor: {type: constant-vus, vus: 2, duration: 6s, gracefulStop: 1s}
    think: 0.02s
    flow: [{get: /jobs, name: list jobs}]
  shop:
    executor: {type: constant-vus, vus: 2, duration: 6s, gracefulStop: 1s}
    think: 0.02s
    flow: [{get: /products, name: list products}]
thresholds:
  "http_req_duration{module:jobs}": ["p(95)<5000"]
"""


def browser(profile):
    """Chromium under selenium with its profile in `profile`, a directory
    the caller removes; its TMPDIR points there too, so the
    org.chromium.Chromium.* files it makes go with it. Keep the path short
    (tempfile.mkdtemp under /tmp, not under pytest's tmp_path): Chromium's
    singleton socket is made in TMPDIR, and a Unix socket's path holds at
    most 107 bytes, past which Chromium exits at start."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-quic", "--window-size=1400,2400",
              # the network is off: no name resolves, only loopback is reachable
              "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
              "--user-data-dir=" + str(profile)):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    os.makedirs(profile, exist_ok=True)
    return webdriver.Chrome(service=Service(CHROMEDRIVER, env={**os.environ, "TMPDIR": str(profile)}), options=opts)


def charts(drv):
    """Every time-series chart the page drew: (module, kind) -> points."""
    return {(e.get_attribute("data-module"), e.get_attribute("data-kind")): int(e.get_attribute("data-points") or 0)
            for e in drv.find_elements("css selector", "div[data-kind][data-module]")}


def badge_text(drv):
    """The live badge's text, read in the page: the page re-renders its
    header on every event, so an element handle can go stale between a
    find and a read."""
    return drv.execute_script("var b = document.getElementById('live-badge'); return b ? b.textContent : null;")


@needs_browser
def test_chromium_shows_the_run_live_then_the_final_report(target, runs, tmp_path):
    from selenium.webdriver.support.ui import WebDriverWait
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\n" + LIVE_PLAN)
    out = tmp_path / "s.json"
    run = runs(str(plan), "--summary-export", str(out), "--web-linger", "2m")
    resp, page = run.get("/")
    assert resp.status == 200 and b'data-live="1"' in page  # the report page, live
    os.makedirs(ARTIFACTS, exist_ok=True)
    profile = tempfile.mkdtemp(prefix="strain-chr-")
    drv = browser(profile)
    try:
        drv.get(f"http://{run.host}:{run.port}/")
        # While the run goes: a chart per module, with points, and the badge says live.
        WebDriverWait(drv, 30, poll_frequency=0.2).until(
            lambda d: all(charts(d).get((m, "rps"), 0) >= 2 for m in ("jobs", "shop")))
        assert run.proc.poll() is None
        badge = badge_text(drv)
        seen_live = charts(drv)
        drv.save_screenshot(os.path.join(ARTIFACTS, "live.png"))
        # Then the final report: the summary's slots, every module.
        WebDriverWait(drv, 60, poll_frequency=0.3).until(
            lambda d: badge_text(d) == "final")
        final = json.loads(out.read_text())
        drawn = charts(drv)
        drv.save_screenshot(os.path.join(ARTIFACTS, "final.png"))
        console = [e for e in drv.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
    assert badge == "live"
    assert {m for m, k in seen_live if k == "rps"} == {"jobs", "shop"}
    for m in ("jobs", "shop"):
        slots = len({t for s in final["timeseries"]["series"] if s["module"] == m for t in s["t_ms"]})
        assert slots >= 5
        assert drawn[(m, "rps")] == slots and drawn[(m, "latency")] == slots
        assert seen_live[(m, "rps")] < slots  # it grew after the live view
    assert console == [], console
    assert os.path.getsize(os.path.join(ARTIFACTS, "live.png")) > 10000
    run.proc.send_signal(signal.SIGINT)
    rc, err = run.wait(timeout=30)
    assert rc == 0, err


@pytest.mark.parametrize("kind", ["web-dashboard", "dashboard"])
def test_k6s_dashboard_output_points_to_web(kind):
    p = run_strain("run", "--url", "http://127.0.0.1:1/", "--out", kind, timeout=20)
    assert p.returncode == 2 and "use --web [ADDR]" in p.stderr, p.stderr

"""The HTML report (docs/report.md) of real runs against `strain target`,
opened by headless Chromium with the network off: a chart per module and
kind with as many points as the summary has slots for that module, the
thresholds drawn as lines where they apply, the verdict, no console
errors; screenshots under build/test-artifacts/report/. Then `strain
report`'s errors, and --report on an interrupted run."""
import html
import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import STRAIN, run_strain
import report_lib as rl

needs_chromium = pytest.mark.skipif(rl.CHROMIUM is None,
                                    reason="Debian's chromium is not installed (scripts/deps.sh test installs it)")

# Three modules, every strategy, thresholds on one module's latency and on
# the run's failures, one that fails, and a request name that tries to
# close the page's script element.
PLAN = """
target: "{{env.TARGET}}"
env: {TARGET: "http://127.0.0.1:1"}
modules:
  jobs:
    executor: {type: constant-vus, vus: 3, duration: 2s, gracefulStop: 2s}
    think: 0.02s
    flow:
      - get: /jobs
        name: "list </script><script>document.title='pwned'</script> jobs"
        check: {status: 200}
  shop:
    executor: {type: constant-vus, vus: 3, duration: 2s, gracefulStop: 2s}
    think: 0.02s
    flow:
      - get: /products
        name: list products
        check: {status: 200}
  notes:
    executor: {type: constant-vus, vus: 2, duration: 2s, gracefulStop: 2s}
    think: 0.02s
    flow:
      - get: /notifications?user=1
        name: list notifications
thresholds:
  "http_req_duration{module:jobs}": ["p(95)<5000"]
  "http_req_duration{module:shop}": ["p(50)<0.001"]
  http_req_failed: ["rate<0.5"]
strategies:
  sequential: {pause: 0s}
  hybrid: {groups: [[jobs, shop], [notes]], recovery: 0s}
  all: {recovery: 0s}
"""

TS_KINDS = ("rps", "errors", "latency", "vus")


@pytest.fixture(scope="module")
def real_run(tmp_path_factory):
    """One plan run with --strategy all, --summary-export and --report."""
    from conftest import Target
    d = tmp_path_factory.mktemp("report")
    plan = d / "plan.yaml"
    plan.write_text(PLAN)
    t = Target()
    try:
        p = run_strain("run", str(plan), "--strategy", "all", "-e", "TARGET=" + t.url, "--quiet",
                       "--summary-export", str(d / "summary.json"), "--report", str(d / "report.html"),
                       timeout=120)
    finally:
        t.stop()
    assert p.returncode == 99, p.stderr  # shop's p(50)<0.001 fails
    return d, json.loads((d / "summary.json").read_text())


def slots(summary, module):
    ts = set()
    for s in summary["timeseries"]["series"]:
        if s["module"] == module:
            ts.update(s["t_ms"])
    return len(ts)


def expected_lines(summary, module, kind):
    n = 0
    for t in summary["thresholds"]:
        m = re.match(r"^(\w+)(?:\{(.*)\})?$", t["metric"])
        name, tags = m.group(1), dict(kv.split(":", 1) for kv in (m.group(2) or "").split(",") if ":" in kv)
        if tags.get("module", module) != module:
            continue
        if kind == "latency" and name == "http_req_duration":
            n += 1
        if kind == "errors" and name == "http_req_failed":
            n += 1
    return n


def test_report_html_is_one_offline_file(real_run):
    d, s = real_run
    page = (d / "report.html").read_text()
    assert rl.external_urls(page) == []
    assert '<script type="application/json" id="strain-summary">' in page
    # Every '<' of the document is escaped: the hostile name cannot close the element.
    data = page.split('id="strain-summary">', 1)[1].split("</script>", 1)[0]
    assert "<" not in data and "\\u003c/script>" in data
    assert json.loads(data) == s
    assert "<link" not in page and not re.search(r"<script[^>]+src=", page)


@needs_chromium
def test_chromium_draws_every_module_with_its_slots_and_thresholds(real_run):
    d, s = real_run
    dom, console = rl.dump_dom(d / "report.html")
    png = rl.screenshot(d / "report.html", "real-run.png", height=3200)
    assert os.path.getsize(png) > 10000
    assert rl.console_errors(console) == [], console
    assert 'data-rendered="1"' in dom
    assert "<title>strain report</title>" in dom  # the name never ran as a script
    boxes = rl.chart_boxes(dom)
    modules = {"jobs", "shop", "notes"}
    assert {b.get("data-module") for b in boxes if b["data-kind"] in TS_KINDS} == modules
    for m in modules:
        n = slots(s, m)
        assert n >= 2
        for kind in TS_KINDS:
            [b] = [b for b in boxes if b.get("data-module") == m and b["data-kind"] == kind]
            assert int(b["data-points"]) == n, (m, kind, b)
            want = expected_lines(s, m, kind)
            assert int(b["data-threshold-lines"]) == want, (m, kind, b)
            assert int(b["data-threshold-lines-drawn"]) == want, (m, kind, b)
    # Lines where thresholds exist, none where none applies.
    lat = {b["data-module"]: int(b["data-threshold-lines"]) for b in boxes if b["data-kind"] == "latency"}
    assert lat == {"jobs": 1, "shop": 1, "notes": 0}
    # The distribution and the phase breakdown, per module x strategy.
    assert {b.get("data-module") for b in boxes if b["data-kind"] == "spectrum"} == modules
    [ph] = [b for b in boxes if b["data-kind"] == "phases"]
    assert int(ph["data-points"]) == sum(len(v) for v in s["comparison"]["strategies"].values())
    # The verdict sentences, the failed threshold.
    verdict = dom.split('id="verdict">', 1)[1].split("</div>", 1)[0]
    texts = [v["text"] for v in s["comparison"]["verdict"]]
    assert texts
    for t in texts:
        assert html.escape(t, quote=False) in verdict
    assert "thresholds: 1 of 3 failed" in dom
    assert html.escape("list </script><script>document.title='pwned'</script> jobs", quote=False) in dom


@needs_chromium
def test_js_histogram_decoder_gives_the_summarys_percentiles(real_run, tmp_path):
    """The page's strain-hist/1 decoder and percentile agree with the C
    side's figures (comparison.strategies.*.*.p95 and p99)."""
    d, s = real_run
    probe = """<script>
var doc = JSON.parse(document.getElementById('strain-summary').textContent), out = {};
doc.histograms.http_req_duration.groups.forEach(function (g) {
  var h = strainHist.decode(g.hist);
  out[g.module + '/' + g.strategy] = [strainHist.percentile(h, 95) / 1e6, strainHist.percentile(h, 99) / 1e6, h.count];
});
var e = document.createElement('pre'); e.id = 'probe'; e.textContent = JSON.stringify(out); document.body.appendChild(e);
</script></body>"""
    page = (d / "report.html").read_text().replace("</body>", probe)
    (tmp_path / "probe.html").write_text(page)
    dom, console = rl.dump_dom(tmp_path / "probe.html")
    assert rl.console_errors(console) == [], console
    got = json.loads(html.unescape(dom.split('<pre id="probe">', 1)[1].split("</pre>", 1)[0]))
    cmp = s["comparison"]["strategies"]
    assert len(got) == sum(len(v) for v in cmp.values())
    for key, (p95, p99, count) in got.items():
        m, st = key.split("/")
        c = cmp[st][m]
        assert count == c["requests"] or count > 0
        assert p95 == pytest.approx(c["p95"], rel=1e-9, abs=1e-6), key
        assert p99 == pytest.approx(c["p99"], rel=1e-9, abs=1e-6), key


@needs_chromium
def test_strain_report_with_a_baseline(real_run, tmp_path):
    d, s = real_run
    out = tmp_path / "cmp.html"
    p = run_strain("report", str(d / "summary.json"), "-o", str(out), "--baseline", str(d / "summary.json"))
    assert p.returncode == 0, p.stderr
    assert str(out) in p.stdout
    page = out.read_text()
    assert 'id="strain-baseline"' in page and rl.external_urls(page) == []
    dom, console = rl.dump_dom(out)
    rl.screenshot(out, "baseline.png", height=3400)
    assert rl.console_errors(console) == [], console
    assert "Before and after (whole run)" in dom and "Δ p95" in dom
    boxes = rl.chart_boxes(dom)
    for m in ("jobs", "shop", "notes"):
        [b] = [b for b in boxes if b.get("data-module") == m and b["data-kind"] == "latency"]
        assert int(b["data-points"]) == slots(s, m)


def embed(page, doc):
    """page with its summary element holding doc instead (as html.c writes it)."""
    head, rest = page.split('<script type="application/json" id="strain-summary">', 1)
    text = json.dumps(doc).replace("<", "\\u003c")
    return head + '<script type="application/json" id="strain-summary">' + text + "</script>" + \
        rest.split("</script>", 1)[1]


@needs_chromium
@pytest.mark.parametrize("cut", ["v1", "quick", "live"])
def test_partial_documents_render(real_run, tmp_path, target, cut):
    """A v1 summary, a quick-mode run (every sample's module is ""), a live
    document with parts missing: drawn without errors."""
    d, s = real_run
    page = tmp_path / "doc.html"
    if cut == "v1":
        doc = json.loads(json.dumps(s))
        doc["version"] = "strain-summary/1"
        for k in ("plan", "target", "strategy", "phases", "requests", "timeseries", "histograms", "spikes",
                  "execution"):
            doc.pop(k, None)
        f = tmp_path / "doc.json"
        f.write_text(json.dumps(doc))
        p = run_strain("report", str(f))
        assert p.returncode == 0, p.stderr
    elif cut == "quick":
        p = run_strain("run", "--url", target.url + "/health", "--vus", "2", "--duration", "2s", "--quiet",
                       "--summary-export", str(tmp_path / "doc.json"), "--report", str(page), timeout=60)
        assert p.returncode == 0, p.stderr
        doc = json.loads((tmp_path / "doc.json").read_text())
    else:
        doc = {"version": "strain-summary/2", "live": True, "start": s["start"],
               "timeseries": {"interval_ms": 1000, "series": s["timeseries"]["series"][:2]}}
        page.write_text(embed((d / "report.html").read_text(), doc))
    dom, console = rl.dump_dom(page)
    rl.screenshot(page, f"partial-{cut}.png", height=1600)
    assert rl.console_errors(console) == [], console
    assert 'data-rendered="1"' in dom and 'id="verdict"' in dom
    boxes = rl.chart_boxes(dom)
    if cut == "v1":
        assert "has no time series" in dom
        assert not [b for b in boxes if b["data-kind"] in TS_KINDS]
        assert [b for b in boxes if b["data-kind"] == "spectrum"]
    elif cut == "quick":
        [ser] = doc["timeseries"]["series"]
        assert ser["module"] == ""
        [b] = [b for b in boxes if b["data-kind"] == "latency"]
        assert b["data-module"] == "" and int(b["data-points"]) == len(ser["t_ms"]) >= 2
        assert [b for b in boxes if b["data-kind"] == "spectrum"]
    else:
        mods = {ser["module"] for ser in doc["timeseries"]["series"] if ser["module"]}
        assert {b["data-module"] for b in boxes if b["data-kind"] == "rps"} == mods


def test_strain_report_refuses_what_is_not_a_summary(real_run, tmp_path):
    """Exit 4 (as strain compare) naming the file and why; 107 for a page
    that cannot be written; 2 for usage."""
    d, s = real_run
    missing = tmp_path / "nope.json"
    p = run_strain("report", str(missing))
    assert p.returncode == 4 and str(missing) in p.stderr and "cannot read" in p.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "strain-summary/2",\n  "metrics": {')
    p = run_strain("report", str(bad))
    assert p.returncode == 4 and str(bad) in p.stderr and "not JSON: line 2" in p.stderr
    other = tmp_path / "other.json"
    other.write_text('{"version": "strain-summary/9"}')
    p = run_strain("report", str(other))
    assert p.returncode == 4 and str(other) in p.stderr and "strain-summary/9" in p.stderr
    noversion = tmp_path / "k6.json"
    noversion.write_text('{"metrics": {}}')
    p = run_strain("report", str(noversion))
    assert p.returncode == 4 and "not a strain summary" in p.stderr
    # The reader checks the figures too: a p95 its histogram does not give.
    doc = json.loads(json.dumps(s))
    doc["timeseries"]["series"][0]["p95"][0] = 123456.0
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    p = run_strain("report", str(forged))
    assert p.returncode == 4 and "timeseries.series[0].p95[0]" in p.stderr
    good = tmp_path / "good.json"
    good.write_text((d / "summary.json").read_text())
    p = run_strain("report", str(good), "--baseline", str(bad))
    assert p.returncode == 4 and "--baseline" in p.stderr and str(bad) in p.stderr
    p = run_strain("report", str(good), "-o", str(tmp_path / "no" / "dir.html"))
    assert p.returncode == 107 and "dir.html" in p.stderr
    assert not (tmp_path / "good.html").exists()
    assert run_strain("report").returncode == 2
    assert run_strain("report", str(good), str(good)).returncode == 2
    p = run_strain("report", str(good))
    assert p.returncode == 0 and (tmp_path / "good.html").exists()


def test_report_written_when_interrupted(target, tmp_path):
    rep, summ = tmp_path / "r.html", tmp_path / "s.json"
    proc = subprocess.Popen([STRAIN, "run", "--url", target.url + "/health", "--vus", "2", "--duration", "60s",
                             "--quiet", "--summary-export", str(summ), "--report", str(rep)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while target.stats().get("total", 0) == 0 and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(1.2)  # at least one interval, so the time series has a slot
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 105, err
    page = rep.read_text()
    doc = json.loads(page.split('id="strain-summary">', 1)[1].split("</script>", 1)[0])
    assert doc["interrupted"] is True and doc == json.loads(summ.read_text())
    if rl.CHROMIUM:
        dom, console = rl.dump_dom(rep)
        rl.screenshot(rep, "interrupted.png", height=1400)
        assert rl.console_errors(console) == [], console
        assert ">interrupted<" in dom


@needs_chromium
def test_render_again_updates_the_charts_in_place(real_run, tmp_path):
    """strainRender with a document that grew by a slot: the same canvas
    (no rebuild, no flicker), one more point."""
    d, s = real_run
    probe = """<script>
var doc = JSON.parse(document.getElementById('strain-summary').textContent);
var box = document.querySelector('[data-kind="rps"][data-module="jobs"]'), canvas = box.querySelector('canvas');
var before = +box.getAttribute('data-points');
var ser = doc.timeseries.series.filter(function (x) { return x.module === 'jobs'; })[0], n = ser.t_ms.length;
Object.keys(ser).forEach(function (k) {
  if (Array.isArray(ser[k])) ser[k].push(k === 't_ms' ? 999000 : ser[k][n - 1]);
});
Object.keys(ser.errors).forEach(function (c) { ser.errors[c].push(0); });
strainRender(doc, null);
var e = document.createElement('pre'); e.id = 'probe';
e.textContent = JSON.stringify({same: box.querySelector('canvas') === canvas, before: before,
  after: +box.getAttribute('data-points')});
document.body.appendChild(e);
</script></body>"""
    (tmp_path / "probe.html").write_text((d / "report.html").read_text().replace("</body>", probe))
    dom, console = rl.dump_dom(tmp_path / "probe.html")
    assert rl.console_errors(console) == [], console
    got = json.loads(html.unescape(dom.split('<pre id="probe">', 1)[1].split("</pre>", 1)[0]))
    assert got == {"same": True, "before": slots(s, "jobs"), "after": slots(s, "jobs") + 1}


@needs_chromium
def test_live_page_follows_the_server(real_run, tmp_path):
    """<body data-live="1">: the page fetches summary.json, then takes every
    server-sent event as the whole document, the one named final last."""
    import http.server
    import threading
    d, s = real_run
    page = (d / "report.html").read_text()
    head, rest = page.split('<script type="application/json" id="strain-summary">', 1)
    page = (head + rest.split("</script>", 1)[1]).replace("<body>", '<body data-live="1">', 1)
    first = {"version": "strain-summary/2", "live": True, "start": s["start"],
             "timeseries": {"interval_ms": 1000, "series": [x for x in s["timeseries"]["series"]
                                                            if x["module"] == "jobs"]}}
    update = dict(first, comparison={"strategies": s["comparison"]["strategies"]})
    served = []

    class H(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            served.append(self.path)
            if self.path == "/":
                body, ctype = page.encode(), "text/html; charset=utf-8"
            elif self.path == "/summary.json":
                body, ctype = json.dumps(first).encode(), "application/json"
            elif self.path == "/events":
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(b"data: " + json.dumps(update).encode() + b"\n\n")
                self.wfile.write(b"event: final\ndata: " + json.dumps(s).encode() + b"\n\n")
                self.wfile.flush()
                return
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    try:
        out, err = rl.chromium(f"http://127.0.0.1:{srv.server_address[1]}/", "--enable-logging=stderr", "--v=0",
                               "--virtual-time-budget=8000", "--dump-dom", loopback=True)
    finally:
        srv.shutdown()
        srv.server_close()
    os.makedirs(rl.ARTIFACTS, exist_ok=True)
    with open(os.path.join(rl.ARTIFACTS, "live-dom.html"), "w") as f:
        f.write(out)
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    assert rl.console_errors(console) == [], console
    assert "/summary.json" in served and "/events" in served
    assert 'id="live-badge">final<' in out  # the final document was drawn last
    boxes = rl.chart_boxes(out)
    for m in ("jobs", "shop", "notes"):
        [b] = [b for b in boxes if b.get("data-module") == m and b["data-kind"] == "latency"]
        assert int(b["data-points"]) == slots(s, m)


def test_report_written_on_threshold_abort(target, tmp_path):
    plan = tmp_path / "abort.yaml"
    plan.write_text(f"""
target: "{target.url}"
modules:
  slow:
    executor: {{type: constant-vus, vus: 2, duration: 60s}}
    flow:
      - get: /health
thresholds:
  http_req_duration:
    - {{threshold: "p(95)<0.0001", abortOnFail: true}}
""")
    rep = tmp_path / "abort.html"
    p = run_strain("run", str(plan), "--quiet", "--report", str(rep), timeout=90)
    assert p.returncode == 99, p.stderr
    assert "aborting the run" in p.stderr
    doc = json.loads(rep.read_text().split('id="strain-summary">', 1)[1].split("</script>", 1)[0])
    assert doc["thresholds"][0]["ok"] is False
    assert doc["metrics"]["http_reqs"]["count"] > 0

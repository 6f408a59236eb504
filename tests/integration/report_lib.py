"""Helpers for the HTML report's tests: headless Chromium (Debian's
chromium, as /work/shared/RECIPES.md section 3 runs it, with the network
off), the DOM it leaves, and a strain-hist/1 encoder for hand-made
summaries (docs/summary-export.md)."""
import base64
import os
import random
import re
import shutil
import subprocess
import tempfile

CHROMIUM = shutil.which("chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic",
         "--host-resolver-rules=MAP * ~NOTFOUND"]
ARTIFACTS = os.path.join(os.path.dirname(__file__), "..", "..", "build", "test-artifacts", "report")


def chromium(url, *args, timeout=90, loopback=False):
    """Runs headless chromium on url with a fresh profile; (stdout, stderr).
    No name resolves; with loopback, 127.0.0.1 is reachable (a test's own
    server)."""
    profile = tempfile.mkdtemp(prefix="strain-chr-")
    flags = [f + ", EXCLUDE 127.0.0.1" if loopback and f.startswith("--host-resolver-rules") else f for f in FLAGS]
    try:
        p = subprocess.run([CHROMIUM, *flags, "--user-data-dir=" + profile, *args, url],
                           capture_output=True, text=True, timeout=timeout)
        return p.stdout, p.stderr
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def dump_dom(path, budget_ms=5000):
    """The DOM after the page's scripts ran, and the console lines."""
    out, err = chromium("file://" + os.path.abspath(path), "--enable-logging=stderr", "--v=0",
                        f"--virtual-time-budget={budget_ms}", "--dump-dom")
    console = [line for line in err.splitlines() if ":CONSOLE" in line]
    return out, console


def screenshot(path, name, height=2400):
    os.makedirs(ARTIFACTS, exist_ok=True)
    png = os.path.join(ARTIFACTS, name)
    chromium("file://" + os.path.abspath(path), "--virtual-time-budget=5000", f"--window-size=1400,{height}",
             "--screenshot=" + png)
    return png


def console_errors(console):
    """Console lines that are errors or warnings raised by the page."""
    return [c for c in console if re.search(r"ERROR|WARNING|Uncaught", c)]


def chart_boxes(dom):
    """Every chart container: a dict of its data-* attributes."""
    boxes = []
    for tag in re.findall(r"<div [^>]*data-kind=[^>]*>", dom):
        boxes.append(dict(re.findall(r'(data-[a-z-]+)="([^"]*)"', tag)))
    return boxes


def external_urls(html):
    """src/href attributes in html that point to the network."""
    return re.findall(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)


# strain-hist/1: HdrHistogram's layout of src/metrics/hist.h (7 sub-bucket
# bits, values below 2^43 ns), sparse buckets as LEB128 varints, base64.
def hist_index(v):
    if v < 128:
        return v
    v = min(v, (1 << 43) - 1)
    shift = v.bit_length() - 1 - 6
    return 64 * shift + (v >> shift)


def _varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7f) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def hist_encode(values_ns):
    counts = {}
    for v in values_ns:
        i = hist_index(v)
        counts[i] = counts.get(i, 0) + 1
    raw = bytearray([1, 7, 43])
    n = len(values_ns)
    for x in (n, min(values_ns) if n else 0, max(values_ns) if n else 0, sum(values_ns)):
        raw += _varint(x)
    raw += _varint(len(counts))
    prev = None
    for i in sorted(counts):
        raw += _varint(i if prev is None else i - prev - 1)
        raw += _varint(counts[i])
        prev = i
    return base64.b64encode(bytes(raw)).decode()


def sample_summary(seed=1):
    """A hand-made strain-summary/2 of a two-module plan run with every
    strategy, following docs/summary-export.md."""
    rnd = random.Random(seed)
    phases = [
        {"strategy": "sequential", "modules": ["jobs"], "start_ms": 0.0, "end_ms": 5000.0},
        {"strategy": "sequential", "modules": ["profile"], "start_ms": 6000.0, "end_ms": 11000.0},
        {"strategy": "parallel", "modules": ["jobs", "profile"], "start_ms": 13000.0, "end_ms": 18000.0},
    ]
    series, groups = [], []
    for ph in phases:
        for m in ph["modules"]:
            s = {"module": m, "strategy": ph["strategy"], "t_ms": [], "requests": [], "failures": [],
                 "errors": {"1211": []}, "vus": [], "iterations": [], "dropped_iterations": [],
                 "p50": [], "p90": [], "p95": [], "p99": [], "max": [], "hist": []}
            allv = []
            for t in range(int(ph["start_ms"]), int(ph["end_ms"]), 1000):
                slow = 20 if (m == "profile" and ph["strategy"] == "parallel") else 1
                vals = [int(rnd.lognormvariate(16, 0.5) * slow) for _ in range(200)]
                allv += vals
                fails = 2 if slow > 1 else 0
                s["t_ms"].append(t)
                s["requests"].append(len(vals))
                s["failures"].append(fails)
                s["errors"]["1211"].append(fails)
                s["vus"].append(10)
                s["iterations"].append(len(vals))
                s["dropped_iterations"].append(0)
                sv = sorted(vals)
                for k, q in (("p50", .5), ("p90", .9), ("p95", .95), ("p99", .99)):
                    s[k].append(sv[int(q * (len(sv) - 1))] / 1e6)
                s["max"].append(sv[-1] / 1e6)
                s["hist"].append(hist_encode(vals))
            series.append(s)
            groups.append({"module": m, "strategy": ph["strategy"], "hist": hist_encode(allv)})
    return {
        "version": "strain-summary/2", "plan": "sample.yaml", "target": "http://127.0.0.1:1",
        "strategy": "all", "description": "sample.yaml: 2 modules, strategy all",
        "start": "2026-12-01T10:00:00.000Z", "duration_ms": 18000.0, "interrupted": False,
        "metrics": {"http_reqs": {"type": "counter", "count": 4000, "rate": 222.2}},
        "thresholds": [
            {"metric": "http_req_duration{module:profile}", "expression": "p(95)<1000", "ok": False,
             "observed": 1500.0, "abort_on_fail": False},
            {"metric": "http_req_failed", "expression": "rate<0.01", "ok": True, "observed": 0.002,
             "abort_on_fail": False}],
        "phases": phases,
        "timeseries": {"interval_ms": 1000, "series": series},
        "histograms": {"http_req_duration": {"groups": groups}},
        "errors": {"1211": {"count": 10, "description": "i/o timeout"}},
    }

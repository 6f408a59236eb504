"""strain merge rebuilds the module x strategy comparison and its verdict
from the parts: a 2-module plan run with --strategy all as 2 segments on
loopback against `strain target`, and the same plan unsplit. Load differs
between the runs, so the verdict words are not compared; the structure is,
and every merged figure is checked against the parts' own data."""
import base64
import json
import subprocess
import textwrap
from datetime import datetime, timedelta, timezone

from conftest import STRAIN, run_strain

PLAN = """
modules:
  a:
    executor: {type: constant-vus, vus: 2, duration: 1s}
    flow:
      - get: /health
        name: health
      - get: /fault/status?code=503
        name: unavailable
      - think: 10ms
  b:
    executor: {type: constant-vus, vus: 2, duration: 1s}
    flow:
      - get: /fault/delay?ms=5
        name: delayed
strategies:
  sequential: {pause: 0s}
  hybrid: {groups: [[a], [b]], recovery: 0s}
  all: {recovery: 0s}
"""


def varints(raw):
    out, v, shift = [], 0, 0
    for b in raw:
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            out.append(v)
            v, shift = 0, 0
    return out


class Hist:
    """A strain-hist/1 histogram decoded (docs/summary-export.md) with the
    percentile metrics/hist.c computes."""

    def __init__(self, text):
        raw = base64.b64decode(text, validate=True)
        assert raw[:3] == bytes([1, 7, 43])
        v = varints(raw[3:])
        self.count, self.min, self.max, self.sum = v[:4]
        self.buckets, at = {}, -1
        for k in range(v[4]):
            gap, n = v[5 + 2 * k], v[6 + 2 * k]
            at = gap if at < 0 else at + 1 + gap  # the gap: empty buckets between
            self.buckets[at] = n
        assert sum(self.buckets.values()) == self.count

    @staticmethod
    def low(i):
        return i if i < 128 else (i - 64 * (i // 64 - 1)) << (i // 64 - 1)

    @staticmethod
    def width(i):
        return 1 if i < 128 else 1 << (i // 64 - 1)

    def value_at_rank(self, r):
        if r == 0:
            return float(self.min)
        if r >= self.count - 1:
            return float(self.max)
        seen = 0
        for i in sorted(self.buckets):
            seen += self.buckets[i]
            if seen > r:
                v = self.low(i) + (self.width(i) - 1) / 2.0
                return min(max(v, float(self.min)), float(self.max))
        return float(self.max)

    def percentile(self, p):
        rank = p / 100.0 * (self.count - 1)
        lo = int(rank)
        a = self.value_at_rank(lo)
        frac = rank - lo
        return a if frac == 0 else a + (self.value_at_rank(lo + 1) - a) * frac


def group_hist(doc, module, strategy):
    for g in doc["histograms"]["http_req_duration"]["groups"]:
        if g["module"] == module and g["strategy"] == strategy:
            return g["hist"]
    return None


def cells(doc):
    return {(s, m): c for s, mods in doc["comparison"]["strategies"].items() for m, c in mods.items()}


def run_split(plan, tmp_path, strategies=("all", "all")):
    at = (datetime.now(timezone.utc) + timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    procs, files = [], []
    for i, strat in enumerate(strategies):
        out = tmp_path / f"part{i}.json"
        files.append(str(out))
        procs.append(subprocess.Popen([STRAIN, "run", str(plan), "--strategy", strat, "--quiet",
                                       "--summary-export", str(out), "--segments", "2", "--segment-index",
                                       str(i), "--start-at", at],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    try:
        for p in procs:
            _, err = p.communicate(timeout=60)
            assert p.returncode == 0, err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return files


def test_merge_rebuilds_the_comparison_and_verdict(target, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\n" + PLAN)
    whole = tmp_path / "whole.json"
    p = run_strain("run", str(plan), "--strategy", "all", "--quiet", "--summary-export", str(whole), timeout=60)
    assert p.returncode == 0, p.stderr
    files = run_split(plan, tmp_path)
    total = tmp_path / "total.json"
    p = run_strain("merge", *files, "-o", str(total), timeout=30)
    assert p.returncode == 0, p.stderr
    w, t = json.loads(whole.read_text()), json.loads(total.read_text())
    parts = [json.loads(open(f).read()) for f in files]

    # The same strategies x modules as the unsplit run.
    assert set(cells(t)) == set(cells(w)) == {(s, m) for s in ("sequential", "hybrid", "parallel") for m in "ab"}
    for (s, m), c in cells(t).items():
        pc = [cells(d)[(s, m)] for d in parts]
        # Counts are the parts' added, exactly.
        assert c["requests"] == sum(x["requests"] for x in pc) > 0, (s, m)
        assert c["failures"] == sum(x["failures"] for x in pc), (s, m)
        assert c["failure_samples"] == sum(x["failure_samples"] for x in pc), (s, m)
        assert c["error_rate"] == c["failures"] / c["failure_samples"]
        for code in set(k for x in pc for k in x["errors"]):
            assert c["errors"][code] == sum(x["errors"].get(code, 0) for x in pc)
        # Latency from the merged histogram: no setup here, so the cell's is
        # the merged group histogram, and p95 is its percentile.
        h = Hist(group_hist(t, m, s))
        assert Hist(c["hist"]).buckets == h.buckets and h.count == c["requests"]
        assert abs(c["p95"] - h.percentile(95) / 1e6) <= 1e-9 * max(1.0, c["p95"]), (s, m)
        assert abs(c["max"] - h.max / 1e6) <= 1e-9 * max(1.0, c["max"])
        # Rates over the phase's merged window: the requests over seconds,
        # which lie within the parts' own phase lengths and their hull.
        assert abs(c["rps"] - c["requests"] / c["seconds"]) <= 1e-6 * c["rps"]
        assert c["seconds"] >= max(x["seconds"] for x in pc) - 1e-6
        assert c["seconds"] <= sum(x["seconds"] for x in pc) + 1e-6
    assert cells(t)[("sequential", "a")]["failures"] > 0  # the 503s

    # The verdict: one line per module against hybrid and parallel, made
    # from the merged figures; printed by strain merge and in the JSON.
    v = t["comparison"]["verdict"]
    assert sorted((x["module"], x["strategy"]) for x in v) == sorted(
        (x["module"], x["strategy"]) for x in w["comparison"]["verdict"]) == [
        ("a", "hybrid"), ("a", "parallel"), ("b", "hybrid"), ("b", "parallel")]
    mc = cells(t)
    for x in v:
        ratio = mc[(x["strategy"], x["module"])]["p95"] / mc[("sequential", x["module"])]["p95"]
        assert abs(x["p95_ratio"] - ratio) <= 1e-6 * ratio
        assert x["text"] in p.stdout, (x["text"], p.stdout)
    assert "comparison (module x strategy):" in p.stdout and "verdict:" in p.stdout
    assert "=>" in p.stdout

    # Merged phases: the unsplit run's strategies and modules, on one clock.
    assert [(x["strategy"], x["modules"]) for x in t["phases"]] == [
        (x["strategy"], x["modules"]) for x in w["phases"]]
    assert all(x["end_ms"] >= x["start_ms"] >= 0 for x in t["phases"])

    # JSON on stdout: the verdict goes to stderr, and the document is clean.
    p = run_strain("merge", *files, timeout=30)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["comparison"]["verdict"] == v
    assert v[0]["text"] in p.stderr


def test_merge_refuses_different_phases_and_capacity(target, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\n" + PLAN.replace("duration: 1s", "duration: 500ms"))
    files = run_split(plan, tmp_path, ("sequential", "hybrid"))
    # Different strategies: another test.
    p = run_strain("merge", *files, timeout=30)
    assert p.returncode == 4 and "not parts of the same test" in p.stderr, p.stderr
    # The same test id, but phases that differ (an edited or truncated part).
    a = json.loads(open(files[0]).read())
    b = json.loads(open(files[0]).read())
    b["execution"]["segment"] = "1/2:1"
    b["phases"][1]["modules"] = ["a", "b"]
    (tmp_path / "a.json").write_text(json.dumps(a))
    (tmp_path / "b.json").write_text(json.dumps(b))
    p = run_strain("merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), timeout=30)
    assert p.returncode == 4 and "ran different phases (phase 2" in p.stderr, p.stderr
    del b["phases"][1]
    (tmp_path / "b.json").write_text(json.dumps(b))
    p = run_strain("merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), timeout=30)
    assert p.returncode == 4 and "ran different phases" in p.stderr, p.stderr
    # A capacity result: not merged, and the message says why.
    b = json.loads(open(files[0]).read())
    b["execution"]["segment"] = "1/2:1"
    (tmp_path / "b.json").write_text(json.dumps(b))
    p = run_strain("merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "-o", str(tmp_path / "ok.json"),
                   timeout=30)
    assert p.returncode == 0, p.stderr  # the control: these two merge
    b["capacity"] = {"mode": "alone", "step_ms": 1000, "warmup_ms": 200, "modules": []}
    (tmp_path / "b.json").write_text(json.dumps(b))
    p = run_strain("merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), timeout=30)
    assert p.returncode == 4 and "strain capacity result" in p.stderr and "own process" in p.stderr, p.stderr

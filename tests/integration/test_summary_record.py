"""The summary as the record of the run (strain-summary/2): phases as they
ran, per-name figures, the time series and the histograms, checked against
the summary's own totals and against what the built-in target counted."""
import base64
import json
import textwrap
import time

from conftest import run_strain


def varints(raw, n):
    out, v, shift, i = [], 0, 0, 0
    while len(out) < n:
        b = raw[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            out.append(v)
            v, shift = 0, 0
    return out


def hist_count(text):
    """The sample count of a strain-hist/1 text (its first varint)."""
    raw = base64.b64decode(text, validate=True)
    assert raw[:3] == bytes([1, 7, 43])
    return varints(raw[3:], 1)[0]


def run_plan(tmp_path, target):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\n" + textwrap.dedent("""
        modules:
          fast:
            executor: {type: constant-vus, vus: 3, duration: 2s}
            flow:
              - get: /health
                name: health
              - get: /fault/status?code=503
                name: unavailable
          slow:
            executor: {type: constant-vus, vus: 2, duration: 2s}
            flow:
              - get: /fault/delay?ms=20
                name: delayed
        strategies:
          sequential: {pause: 1s}
          hybrid: {groups: [[fast], [slow]], recovery: 1s}
          all: {recovery: 1s}
        thresholds:
          "http_req_duration{module:slow}": ["p(95)<15"]
          "http_req_duration{module:fast}": ["p(95)<1000"]
          "http_req_duration{module:slow,strategy:parallel}": ["p(95)<1"]
        """))
    out = tmp_path / "s.json"
    target.reset_stats()
    p = run_strain("run", str(plan), "--strategy", "all", "--quiet", "--summary-export", str(out), timeout=120)
    assert out.exists(), p.stderr
    return plan, json.loads(out.read_text())


def test_the_summary_records_the_run(target, tmp_path):
    plan, s = run_plan(tmp_path, target)
    stats = target.stats()
    assert s["version"] == "strain-summary/2"
    assert s["plan"] == str(plan) and s["target"] == target.url and s["strategy"] == "all"

    # Phases: sequential (one module each), hybrid (the two groups), parallel.
    ph = [(p["strategy"], p["modules"]) for p in s["phases"]]
    assert ph == [("sequential", ["fast"]), ("sequential", ["slow"]), ("hybrid", ["fast"]), ("hybrid", ["slow"]),
                  ("parallel", ["fast", "slow"])]
    for a, b in zip(s["phases"], s["phases"][1:]):
        assert a["start_ms"] < a["end_ms"] <= b["start_ms"]
    assert s["phases"][-1]["end_ms"] <= s["duration_ms"] + 1

    # A module's threshold judged on each strategy's samples alone: slow's
    # fails under every strategy, fast's under none; one already about a
    # strategy is not judged again per strategy.
    for strat in ("sequential", "hybrid", "parallel"):
        cells = s["comparison"]["strategies"][strat]
        assert cells["slow"]["failed_threshold"] == "p(95)<15", (strat, cells["slow"])
        assert "failed_threshold" not in cells["fast"], (strat, cells["fast"])

    # Per name: counts add up to http_reqs, and to what the server saw.
    reqs = {r["name"]: r for r in s["requests"]}
    assert set(reqs) == {"health", "unavailable", "delayed"}
    assert sum(r["count"] for r in reqs.values()) == s["metrics"]["http_reqs"]["count"]
    assert reqs["unavailable"]["failures"] == reqs["unavailable"]["count"] > 0
    assert reqs["unavailable"]["error_rate"] == 1 and reqs["health"]["failures"] == 0
    assert reqs["delayed"]["module"] == "slow" and reqs["delayed"]["p50"] >= 20
    routes = {k: sum(v["statuses"].values()) for k, v in stats["routes"].items()}
    assert reqs["health"]["count"] == routes["GET /health"]

    # The time series adds up to the totals, per module x strategy too.
    ts = s["timeseries"]
    assert ts["interval_ms"] == 1000
    series = {(x["module"], x["strategy"]): x for x in ts["series"]}
    for key in [("fast", "sequential"), ("slow", "sequential"), ("fast", "hybrid"), ("slow", "hybrid"),
                ("fast", "parallel"), ("slow", "parallel")]:
        x = series[key]
        n = len(x["t_ms"])
        assert n >= 2
        for col in ("requests", "failures", "vus", "iterations", "dropped_iterations", "p50", "p90", "p95", "p99",
                    "max", "hist"):
            assert len(x[col]) == n, col
        assert x["t_ms"] == sorted(set(x["t_ms"])) and all(t % 1000 == 0 for t in x["t_ms"])
        cell = s["comparison"]["strategies"][key[1]][key[0]]
        assert sum(x["requests"]) == cell["requests"]
        assert sum(hist_count(h) for h in x["hist"] if h) == cell["requests"]
        for p50, p95, p99, mx in zip(x["p50"], x["p95"], x["p99"], x["max"]):
            assert p50 is None or p50 <= p95 <= p99 <= mx
    total = sum(sum(x["requests"]) for x in ts["series"])
    assert total == s["metrics"]["http_reqs"]["count"]
    failures = sum(sum(x["failures"]) for x in ts["series"])
    assert failures == s["metrics"]["http_req_failed"]["passes"]
    assert sum(sum(v) for x in ts["series"] for v in x["errors"].values()) == failures
    assert sum(sum(x["errors"].get("1503", [])) for x in ts["series"]) == s["errors"]["1503"]["count"]

    # Histograms: the total and every group and name count what the summary does.
    h = s["histograms"]["http_req_duration"]
    assert hist_count(h["total"]) == s["metrics"]["http_req_duration"]["count"]
    for g in h["groups"]:
        assert hist_count(g["hist"]) == s["comparison"]["strategies"][g["strategy"]][g["module"]]["requests"]
    for nm in h["names"]:
        assert hist_count(nm["hist"]) == reqs[nm["name"]]["count"]
    assert hist_count(s["histograms"]["iteration_duration"]["total"]) == s["metrics"]["iterations"]["count"]


def test_quick_mode_has_one_series(target, tmp_path):
    out = tmp_path / "q.json"
    p = run_strain("run", "--url", target.url + "/health", "--vus", "2", "--duration", "2s", "--quiet",
                   "--summary-export", str(out), timeout=60)
    assert p.returncode == 0, p.stderr
    s = json.loads(out.read_text())
    assert s["plan"] is None and s["strategy"] == "none" and s["target"] == target.url + "/health"
    assert [p["strategy"] for p in s["phases"]] == ["none"]
    [x] = s["timeseries"]["series"]
    assert (x["module"], x["strategy"]) == ("", "")
    assert sum(x["requests"]) == s["metrics"]["http_reqs"]["count"] > 0
    assert max(x["vus"]) == 2
    assert s["histograms"]["http_req_duration"]["groups"] == []


def rate_run(tmp_path, target, stall_at=None, stall_ms=2500):
    """An open-model quick run of 10 s at 200/s; with stall_at, the whole
    target pauses for stall_ms that many seconds after strain started.
    Returns (summary, stall's offset in ms from the run's start)."""
    import subprocess
    import threading
    from datetime import datetime

    from conftest import STRAIN

    out = tmp_path / f"r-{time.monotonic_ns()}.json"
    proc = subprocess.Popen([STRAIN, "run", "--url", target.url + "/health", "--rate", "200", "--duration", "10s",
                             "--max-vus", "1000", "--quiet", "--summary-export", str(out)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stalled = []
    if stall_at is not None:
        def stall():
            time.sleep(stall_at)
            stalled.append(time.time())
            target.get(f"/fault/stall?ms={stall_ms}", timeout=30)
        th = threading.Thread(target=stall)
        th.start()
    _, err = proc.communicate(timeout=60)
    if stall_at is not None:
        th.join()
    assert proc.returncode == 0, err
    s = json.loads(out.read_text())
    start = datetime.strptime(s["start"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=__import__("datetime").timezone.utc)
    offset = (stalled[0] - start.timestamp()) * 1000 if stalled else None
    return s, offset


def test_a_stall_is_one_spike_at_its_time(target, tmp_path):
    s, at = rate_run(tmp_path, target, stall_at=4.0)
    # Windows where strain itself fell behind (a busy machine) are the
    # generator's, listed as such; the target's is exactly one.
    spikes = [w for w in s["spikes"] if not w["generator_late"]]
    assert len(spikes) == 1, s["spikes"]
    [w] = spikes
    interval = s["timeseries"]["interval_ms"]
    # Samples are taken as responses end: the window is where the slow
    # responses ended (the stall's end), and it dates when they began to
    # within one interval of the stall's start.
    assert at <= w["start_ms"] + interval and w["start_ms"] <= at + 2500 + interval, (w, at)
    assert abs(w["began_ms"] - at) <= interval + 100, (w, at)
    assert 1000 <= w["length_ms"] <= 2500 + 2 * interval
    assert w["peak_p95_ms"] >= 3 * w["baseline_p95_ms"] and w["peak_p95_ms"] >= 500
    assert w["max_ms"] >= 2000
    assert (w["module"], w["strategy"]) == ("", "")

    # The report lists it, from the summary alone.
    import re

    import pytest

    import report_lib
    if not report_lib.CHROMIUM:
        pytest.skip("chromium is not installed (scripts/deps.sh test installs it)")
    summary_file = tmp_path / "stall.json"
    summary_file.write_text(json.dumps(s))
    html = tmp_path / "stall.html"
    p = run_strain("report", str(summary_file), "-o", str(html), timeout=30)
    assert p.returncode == 0, p.stderr
    dom, console = report_lib.dump_dom(html)
    assert report_lib.console_errors(console) == []
    table = re.search(r'<table class="spikes">(.*?)</table>', dom, re.S)
    assert table, "no spikes table"
    rows = re.findall(r'<tr class="fail">', table.group(1))
    assert len(rows) == 1, table.group(1)
    report_lib.screenshot(html, "spike.png")


def test_a_clean_run_has_no_spike(target, tmp_path):
    """None of the target's: on a busy machine strain itself may fall
    behind for a moment, and such a window is listed as the generator's."""
    s, _ = rate_run(tmp_path, target)
    assert [w for w in s["spikes"] if not w["generator_late"]] == []

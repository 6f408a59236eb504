"""strain collect: N instances (`strain run --collector URL`) pushing their
interval snapshots to one collector on loopback, which merges them exactly,
judges the plan's thresholds on the merged data, and writes one summary.

Real processes throughout: a `strain target`, a `strain collect`, and
`strain run` instances; every process is bounded by a timeout and killed
at the end of its test."""
import json
import os
import signal
import subprocess
import textwrap
import time
import urllib.error
import urllib.request

import pytest

from conftest import STRAIN, free_port


class Procs:
    """Processes started by a test, all killed at its end."""

    def __init__(self):
        self.procs = []

    def start(self, *args, env=None):
        p = subprocess.Popen([STRAIN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env=dict(os.environ, **(env or {})))
        self.procs.append(p)
        return p

    def kill_all(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
            p.communicate(timeout=10)


@pytest.fixture
def procs():
    ps = Procs()
    yield ps
    ps.kill_all()


def write_plan(tmp_path, target, body, name="plan.yaml"):
    plan = tmp_path / name
    plan.write_text(f"target: {target.url}\n" + textwrap.dedent(body))
    return plan


def start_collect(procs, tmp_path, expect, *args, env=None):
    """A `strain collect` listening on a free loopback port, once it says so:
    (process, collector URL, summary path)."""
    port = free_port()
    out = tmp_path / "merged.json"
    p = procs.start("collect", *args, "--listen", f"127.0.0.1:{port}", "--expect", str(expect),
                    "--summary-export", str(out), env=env)
    lines = []
    while not any("waiting for" in ln for ln in lines):   # after the dashboard's line, if any
        lines.append(p.stderr.readline())
        if not lines[-1] or len(lines) > 3:
            p.kill()
            raise AssertionError("".join(lines) + p.stderr.read())
    return p, f"http://127.0.0.1:{port}", out


def finish(p, timeout=60):
    out, err = p.communicate(timeout=timeout)
    return p.returncode, out, err


RATE_PLAN = """
    modules:
      m:
        executor: {type: constant-arrival-rate, rate: %d, duration: %s, preAllocatedVUs: 4}
        flow:
          - get: /health
    """


def test_merged_counts_equal_the_target_and_the_instances(target, procs, tmp_path):
    plan = write_plan(tmp_path, target, RATE_PLAN % (40, "3s"))
    token = {"STRAIN_COLLECTOR_TOKEN": "s3cret"}
    coll, url, merged = start_collect(procs, tmp_path, 3, str(plan), env=token)
    target.reset_stats()
    # One run id for the three, as a distributed run has (docs/distributed.md).
    runs = [procs.start("run", str(plan), "--quiet", "--collector", url, "--tag", "testid=dist-1",
                        "--summary-export", str(tmp_path / f"i{i}.json"), env=token) for i in range(3)]
    for r in runs:
        rc, _, err = finish(r)
        assert rc == 0, err
        assert "collector" not in err, err   # nothing to warn about
    rc, out, err = finish(coll)
    assert rc == 0, err
    m = json.loads(merged.read_text())
    inst = [json.loads((tmp_path / f"i{i}.json").read_text()) for i in range(3)]
    reqs = m["metrics"]["http_reqs"]["count"]
    assert reqs == sum(s["metrics"]["http_reqs"]["count"] for s in inst)
    assert reqs == target.stats()["total"]
    # Every arrival of the three schedules started or was dropped (a loaded
    # machine drops some): one request per started iteration.
    started = m["metrics"]["iterations"]["count"]
    dropped = m["metrics"].get("dropped_iterations", {}).get("count", 0)
    assert started + dropped == 3 * 40 * 3 and reqs == started
    assert reqs >= 3 * 40 * 3 * 0.5
    # Histograms add: the merged count of every trend is the instances' sum.
    for metric in ("http_req_duration", "iteration_duration"):
        assert m["metrics"][metric]["count"] == sum(s["metrics"][metric]["count"] for s in inst)
    assert m["metrics"]["iterations"]["count"] == sum(s["metrics"]["iterations"]["count"] for s in inst)
    assert m["partial"] is False
    assert len(m["collect"]["instances"]) == 3 and all(i["done"] for i in m["collect"]["instances"])
    assert m["version"] == "strain-summary/2" and "merged from 3 instances of 3 expected" in out
    # vus are summed over the instances of a series: each had 4 preallocated.
    assert m["metrics"]["vus_max"]["max"] == 12


def test_a_threshold_on_the_merged_data_stops_every_instance(target, procs, tmp_path):
    # Each instance alone makes at most 100/s x 10s = 1000 requests, so
    # count<1500 never fails on one; the three together pass 1500 after ~5s.
    # 3 × 100/s for 15 s: the merged count crosses 900 after about 3 s
    # (later on a loaded machine that drops arrivals), long before any one
    # instance would on its own (9 s at the full rate), with room for the
    # abort to travel before the schedule ends.
    plan = write_plan(tmp_path, target, RATE_PLAN % (100, "15s") + """
    thresholds:
      http_reqs:
        - {threshold: "count<900", abortOnFail: true}
    """)
    web = free_port()
    report = tmp_path / "merged.html"
    coll, url, merged = start_collect(procs, tmp_path, 3, str(plan), "--web", f"127.0.0.1:{web}",
                                      "--report", str(report))
    runs = [procs.start("run", str(plan), "--quiet", "--collector", url, "--summary-export",
                        str(tmp_path / f"i{i}.json")) for i in range(3)]
    # The dashboard serves the merged run while it goes: requests appear in
    # its live document's time series once the first tick has taken pushes in.
    live = None
    for _ in range(100):
        with urllib.request.urlopen(f"http://127.0.0.1:{web}/summary.json", timeout=10) as r:
            doc = json.loads(r.read())
        if doc.get("live") and (doc.get("timeseries") or {}).get("series"):
            live = doc
            break
        time.sleep(0.1)
    assert live is not None, doc
    for r in runs:
        rc, _, err = finish(r)
        assert rc == 99, err
        assert "aborting the run" in err and "merged data" in err, err
    rc, out, err = finish(coll)
    assert rc == 99, err
    m = json.loads(merged.read_text())
    assert m["thresholds"][0]["ok"] is False
    assert "count<900" in m["collect"]["abort_reason"]
    assert report.exists() and "strain-summary/2" in report.read_text()
    for i in range(3):
        s = json.loads((tmp_path / f"i{i}.json").read_text())
        # Stopped early, and on its own data its threshold held.
        assert s["metrics"]["http_reqs"]["count"] < 900
        assert s["thresholds"][0]["ok"] is True


def test_a_killed_instance_is_lost_and_the_result_partial(target, procs, tmp_path):
    plan = write_plan(tmp_path, target, RATE_PLAN % (20, "5s"))
    coll, url, merged = start_collect(procs, tmp_path, 3, str(plan), "--timeout-lost", "2s")
    runs = [procs.start("run", str(plan), "--quiet", "--collector", url) for i in range(3)]
    # Killed once the collector has had a push from it: its join is logged.
    joined = [coll.stderr.readline() for _ in range(3)]
    assert all("joined" in j for j in joined), joined
    runs[0].send_signal(signal.SIGKILL)
    for r in runs[1:]:
        rc, _, err = finish(r)
        assert rc == 0, err
    t = time.monotonic()
    rc, out, err = finish(coll, timeout=30)
    assert time.monotonic() - t < 20
    assert rc == 1, err
    assert "lost" in err and "partial" in err, err
    m = json.loads(merged.read_text())
    assert m["partial"] is True
    lost = [i for i in m["collect"]["instances"] if i["lost"]]
    assert len(lost) == 1 and lost[0]["id"].endswith(f"/{runs[0].pid}")
    assert "PARTIAL" in out


def test_a_collector_that_is_down_does_not_stop_the_run(target, tmp_path, procs):
    url = f"http://127.0.0.1:{free_port()}"   # nothing listens there
    out = tmp_path / "s.json"
    r = procs.start("run", "--url", target.url + "/health", "--vus", "2", "--duration", "3s", "--quiet",
                    "--collector", url, "--summary-export", str(out))
    rc, _, err = finish(r)
    assert rc == 0, err
    assert err.count("strain: collector:") == 1, err
    s = json.loads(out.read_text())
    assert s["metrics"]["http_reqs"]["count"] > 0
    pushed = [o for o in s["outputs"] if o["spec"].startswith("collector=")]
    assert pushed and pushed[0]["points_written"] == 0 and pushed[0]["points_dropped"] >= 3


def test_a_wrong_token_is_refused(target, procs, tmp_path):
    coll, url, _ = start_collect(procs, tmp_path, 1, "--token", "right")
    req = urllib.request.Request(url + "/v1/push", data=b"{}", method="POST",
                                 headers={"Authorization": "Bearer wrong", "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 401
    r = procs.start("run", "--url", target.url + "/health", "--vus", "1", "--duration", "2s", "--quiet",
                    "--collector", url, "--collector-token", "wrong")
    rc, _, err = finish(r)
    assert rc == 0, err
    assert err.count("strain: collector:") == 1 and "401" in err, err
    # Nothing was accepted: the collector is still waiting; a signal ends it.
    assert coll.poll() is None
    coll.send_signal(signal.SIGTERM)
    rc, _, err = finish(coll, timeout=20)
    assert rc == 105, err


def by_series(doc):
    return {(s["module"], s["strategy"]): s for s in doc["timeseries"]["series"]}


def test_collect_time_series_equals_merge(procs, target, tmp_path):
    """The collector's time series is what `strain merge` makes of the
    instances' own summaries: the same slots, counts and histograms. The
    instances start 0.7 s apart, so their intervals straddle the
    collector's ticks: slotted by arrival they would not match."""
    plan = write_plan(tmp_path, target, """
        modules:
          m:
            executor: {type: ramping-arrival-rate, startRate: 10, timeUnit: 1s, preAllocatedVUs: 4, maxVUs: 8,
                       stages: [{duration: 2s, target: 40}, {duration: 2s, target: 20}]}
            flow:
              - get: /health
        """)
    col, url, merged = start_collect(procs, tmp_path, 3, str(plan))
    parts = []
    runs = []
    for i in range(3):
        part = tmp_path / f"part{i}.json"
        parts.append(str(part))
        runs.append(procs.start("run", str(plan), "--collector", url, "--quiet", "--segments", "3",
                                "--segment-index", str(i), "--summary-export", str(part),
                                "--tag", "testid=ts-merge"))
        time.sleep(0.7)   # the instances start apart: their slots are not the collector's ticks
    for r in runs:
        rc, _, err = finish(r)
        assert rc == 0, err
    rc, _, err = finish(col)
    assert rc == 0, err
    p = subprocess.run([STRAIN, "merge", *parts, "-o", str(tmp_path / "total.json"), "--quiet"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    total = json.loads((tmp_path / "total.json").read_text())
    got = json.loads(merged.read_text())
    assert got["timeseries"]["interval_ms"] == total["timeseries"]["interval_ms"]
    # The run starts with its earliest instance, not with the first push.
    assert got["start"] == total["start"], (got["start"], total["start"])
    a, b = by_series(got), by_series(total)
    assert a.keys() == b.keys()
    for k in a:
        for col_name in ("t_ms", "requests", "failures", "iterations", "dropped_iterations", "vus", "hist",
                         "p50", "p95", "p99", "max", "errors", "start_delay_max"):
            assert a[k][col_name] == b[k][col_name], (k, col_name, a[k][col_name], b[k][col_name])
    # And they hold every request, spread over more than one slot.
    assert sum(a[("m", "parallel")]["requests"]) == total["metrics"]["http_reqs"]["count"]
    assert len([n for n in a[("m", "parallel")]["requests"] if n]) >= 4


def test_collect_refuses_strain_collect_1(procs, tmp_path):
    col, url, _ = start_collect(procs, tmp_path, 1)
    body = json.dumps({"version": "strain-collect/1", "id": "old/1", "instance": "old", "seq": 0,
                       "wall_ns": 1, "elapsed_ns": 1, "interval_ns": 1, "final": True, "series": []}).encode()
    req = urllib.request.Request(url + "/v1/push", data=body, headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=10)
    assert e.value.code == 400
    msg = e.value.read().decode()
    assert "strain-collect/1" in msg and "run the same strain version" in msg, msg
    col.send_signal(signal.SIGTERM)
    finish(col)

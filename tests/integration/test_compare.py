"""strain compare end to end: three real plan runs against `strain target`
(two clean, one where the target's profile module has a pool of one
connection, so its requests queue) exported with --summary-export, then
compared. The slowed module is a regression and the exit status says so;
two clean runs are not; unreadable inputs and bad flags have their own
codes. The same real summaries go through the reader's round trip
(tests/unit/test_summary_read.c with STRAIN_SUMMARY_FILE)."""
import concurrent.futures
import json
import os
import subprocess
import textwrap

import pytest

from conftest import STRAIN, Target, run_strain

# Latency dominated by the simulated database (20 ms for jobs, 50 ms for
# profile, no jitter), not by CPU, so a clean run repeats within a few
# per cent on a busy machine.
TARGET_FLAGS = ["--db-time", "jobs=20", "--db-jitter", "0"]
PLAN = """\
    modules:
      jobs:
        executor: {type: constant-vus, vus: 4, duration: 8s}
        flow:
          - get: /jobs/42
            name: job
      profile:
        executor: {type: constant-vus, vus: 4, duration: 8s}
        flow:
          - get: /profile/7
            name: profile by id
    """


def run_plan(tmp, target, name):
    plan = tmp / f"{name}.yaml"
    plan.write_text(f"target: {target.url}\n" + textwrap.dedent(PLAN))
    out = tmp / f"{name}.json"
    p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out), timeout=60)
    assert p.returncode == 0, p.stderr
    return out


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("compare")
    # The three runs at once, each against its own target (a few hundred
    # requests a second, mostly waiting on the simulated database), so the
    # two clean ones see the same machine. The fault: profile's connection
    # pool cut from 12 to 1; its 4 VUs queue.
    flags = {"base": TARGET_FLAGS, "again": TARGET_FLAGS, "slow": TARGET_FLAGS + ["--db-pool", "profile=1"]}
    targets = {}
    try:
        for name, f in flags.items():
            targets[name] = Target(*f)
        with concurrent.futures.ThreadPoolExecutor(max_workers=3) as ex:
            out = dict(zip(flags, ex.map(lambda n: run_plan(tmp, targets[n], n), flags)))
    finally:
        for t in targets.values():
            t.stop()
    return {"dir": tmp, **{name: str(path) for name, path in out.items()}}


def compare(*args):
    return run_strain("compare", *args, timeout=30)


def rows(p):
    doc = json.loads(p.stdout)
    return doc, {(r["kind"], r.get("module"), r.get("strategy"), r.get("name")): r for r in doc["rows"]}


def test_slowed_module_is_a_regression(runs):
    p = compare(runs["base"], runs["slow"], "--format", "json")
    assert p.returncode == 3, p.stdout + p.stderr
    doc, by = rows(p)
    assert doc["regression"] is True
    prof = by[("group", "profile", "parallel", None)]["stats"]
    jobs = by[("group", "jobs", "parallel", None)]["stats"]
    # profile: p95 several times the baseline, tested on enough intervals.
    assert prof["p95"]["change_pct"] > 100
    assert prof["p95"]["test"] == "mann-whitney"
    assert prof["p95"]["base_intervals"] >= 5 and prof["p95"]["new_intervals"] >= 5
    assert prof["p95"]["significant"] is True and prof["p95"]["fails"] is True
    assert prof["rps"]["change_pct"] < -50 and prof["rps"]["fails"] is True
    # jobs did not slow down: nothing of it fails.
    assert not any(s["fails"] for s in jobs.values()), jobs
    # Request names are shown, not judged.
    name = by[("name", "profile", None, "profile by id")]
    assert name["judged"] is False and name["stats"]["p95"]["crossed"] is True
    assert not any(s["fails"] for s in name["stats"].values())


def text_block(out, label):
    """The stat lines under a row's label in the text form."""
    lines = out.splitlines()
    i = lines.index("    " + label)
    block = []
    for line in lines[i + 1:]:
        if not line.startswith("      "):
            break
        block.append(line)
    return "\n".join(block)


def test_regression_in_text_and_markdown(runs):
    p = compare(runs["base"], runs["slow"])
    assert p.returncode == 3
    assert "REGRESSION" in p.stdout
    prof = text_block(p.stdout, "profile x parallel")
    assert "FAIL" in prof and "significant" in prof
    jobs = text_block(p.stdout, "jobs x parallel")
    assert jobs.count("\n") == 4 and "FAIL" not in jobs
    md = compare(runs["base"], runs["slow"], "--format", "markdown")
    assert md.returncode == 3
    assert md.stdout.startswith("### strain compare: ❌ regression")
    line = next(l for l in md.stdout.splitlines() if l.startswith("| profile x parallel |"))
    assert "❌" in line and line.count("|") == 7
    line = next(l for l in md.stdout.splitlines() if l.startswith("| jobs x parallel |"))
    assert "❌" not in line


def test_two_clean_runs_are_no_regression(runs):
    p = compare(runs["base"], runs["again"], "--format", "json")
    assert p.returncode == 0, p.stdout
    doc, by = rows(p)
    assert doc["regression"] is False
    for mod in ("jobs", "profile"):
        stats = by[("group", mod, "parallel", None)]["stats"]
        assert stats["p95"]["test"] == "mann-whitney"
        assert not any(s["fails"] for s in stats.values())
    t = compare(runs["base"], runs["again"])
    assert t.returncode == 0 and "no regression" in t.stdout


def test_fail_on_none_and_a_looser_limit(runs):
    assert compare(runs["base"], runs["slow"], "--fail-on", "none").returncode == 0
    # A limit the slowed module does not reach (its p95 is ~4x, not 100x).
    assert compare(runs["base"], runs["slow"], "--fail-on", "p95:+10000%").returncode == 0
    assert compare(runs["base"], runs["slow"], "--fail-on", "p95:+50ms").returncode == 3


def test_unreadable_inputs(runs, tmp_path):
    missing = compare(runs["base"], str(tmp_path / "nope.json"))
    assert missing.returncode == 4
    assert "nope.json: No such file or directory" in missing.stderr
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": "strain-summary/2", ')
    p = compare(str(bad), runs["base"])
    assert p.returncode == 4 and "bad.json: not JSON" in p.stderr
    doc = json.loads(open(runs["base"]).read())
    doc["version"] = "strain-summary/3"
    v3 = tmp_path / "v3.json"
    v3.write_text(json.dumps(doc))
    p = compare(runs["base"], str(v3))
    assert p.returncode == 4
    assert "v3.json: version: 'strain-summary/3' is not a version this strain reads" in p.stderr
    doc["version"] = "strain-summary/2"
    doc["timeseries"]["series"][0]["p95"][1] = "fast"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc))
    p = compare(runs["base"], str(broken))
    assert p.returncode == 4
    assert "broken.json: timeseries.series[0].p95[1]: not a number" in p.stderr


def test_bad_command_lines(runs):
    p = compare(runs["base"], runs["again"], "--fail-on", "p95:+10")
    assert p.returncode == 104
    assert "strain compare: --fail-on: p95: '+10' needs the unit" in p.stderr
    p = compare(runs["base"], runs["again"], "--fail-on", "latency:+10%")
    assert p.returncode == 104 and "--fail-on: 'latency': unknown statistic" in p.stderr
    p = compare(runs["base"], runs["again"], "--format", "html")
    assert p.returncode == 104 and "--format" in p.stderr
    assert compare(runs["base"]).returncode == 2
    assert compare(runs["base"], runs["again"], runs["slow"]).returncode == 2


def test_round_trip_of_real_summaries(runs):
    """Reader -> writer gives the file's bytes back; every percentile in it
    equals the one recomputed from its histograms."""
    prog = os.path.join(os.path.dirname(os.path.abspath(STRAIN)), "tests", "test_summary_read")
    assert os.path.exists(prog), f"{prog} missing: build it with `make unit`"
    for name in ("base", "slow"):
        env = dict(os.environ, STRAIN_SUMMARY_FILE=runs[name])
        p = subprocess.run([prog], env=env, capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "[  SKIPPED ]" not in p.stdout
        assert "written back identical" in p.stdout


def test_latency_from_histograms_whatever_the_trend_stats(target, tmp_path):
    """--summary-trend-stats may leave med and p(95) out of "metrics": the
    comparison reads the exact histograms instead."""
    files = []
    for i in range(2):
        out = tmp_path / f"q{i}.json"
        p = run_strain("run", "--url", target.url + "/health", "--vus", "2", "--duration", "3s", "--quiet",
                       "--summary-trend-stats", "avg,p(99.9)", "--summary-export", str(out), timeout=60)
        assert p.returncode == 0, p.stderr
        assert "p(95)" not in json.loads(out.read_text())["metrics"]["http_req_duration"]
        files.append(str(out))
    p = compare(*files, "--format", "json")
    [total] = [r for r in json.loads(p.stdout)["rows"] if r["kind"] == "total"]
    for st in ("p50", "p95", "p99"):
        assert total["stats"][st]["base"] > 0 and total["stats"][st]["new"] > 0, total

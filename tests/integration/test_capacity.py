"""strain capacity against `strain target` configured with a capacity that
can be computed: a module whose database pool of P connections serves
queries of s seconds each sustains P / s requests per second (docs/target.md,
docs/capacity.md). The search must find it within 10 %, agree with itself
when repeated, see another module's load when the two share the database
(and not when they don't), and name the generator when the generator, not
the target, is the limit."""
import concurrent.futures
import json
import textwrap

import pytest

from conftest import run_strain

STEP = ["--step", "3s", "--warmup", "1s", "--quiet"]


def plan(tmp_path, target, other_load=False, name="plan"):
    body = f"target: {target.url}\n" + textwrap.dedent("""
        modules:
          jobs:
            executor: {type: constant-vus, vus: 2, duration: 5s}
            flow:
              - get: /jobs/{{rand_int 1 100000}}
                name: job detail
        """)
    if other_load:
        body += textwrap.dedent("""
          ecommerce:
            executor: {type: constant-vus, vus: 4, duration: 120s}
            flow:
              - get: /products/{{rand_int 1 50000}}
                name: product detail
        """).replace("\n", "\n  ").rstrip() + "\n"
    p = tmp_path / f"{name}-{int(other_load)}.yaml"
    p.write_text(body)
    return p


def search(tmp_path, plan_file, *args, timeout=240, name="cap"):
    out = tmp_path / f"{name}.json"
    p = run_strain("capacity", str(plan_file), "--module", "jobs", *STEP, "--summary-export", str(out), *args,
                   timeout=timeout)
    assert p.returncode == 0, p.stdout + p.stderr
    c = json.loads(out.read_text())["capacity"]
    [m] = c["modules"]
    return m, p.stdout


def within(value, expected, pct):
    return abs(value - expected) <= expected * pct / 100


SMALL = ["--db-pool", "jobs=4", "--db-time", "jobs=20", "--db-jitter", "0"]  # 4 / 20 ms = 200/s


def test_finds_a_small_limit_and_agrees_with_itself(make_target, tmp_path):
    # Three searches at once, each against its own target of the same
    # capacity: they agree with each other as repeated ones would, in the
    # time of one (at 200/s each, the machine is nowhere near its limit).
    def one(i):
        target = make_target(*SMALL)
        return search(tmp_path, plan(tmp_path, target, name=f"plan{i}"), "--slo", "p(95)<200", "--start-rate", "60",
                      name=f"cap{i}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as ex:
        results = list(ex.map(one, range(3)))
    found = []
    for m, text in results:
        assert m["limited_by"] == "target", m
        assert within(m["sustainable_rate"], 200, 10), m
        assert m["first_failing_rate"] > m["sustainable_rate"]
        assert m["failed_objective"]["expression"] == "p(95)<200"
        assert m["failed_objective"]["observed"] >= 200
        # The curve: each step's figures, the waiting phase is what grew.
        assert len(m["steps"]) >= 4 and m["grew"] == "waiting"
        ok = [s for s in m["steps"] if s["ok"]]
        assert all(s["p95"] < 200 for s in ok) and all(within(s["rps"], s["rate"], 10) for s in ok)
        assert "jobs" in text and "p(95)<200" in text
        found.append(m["sustainable_rate"])
    assert max(found) <= min(found) * 1.1, found


def test_finds_a_large_limit(make_target, tmp_path):
    # 16 connections of 10 ms: 1600/s; 32 database slots keep f = 1.
    target = make_target("--db-pool", "jobs=16", "--db-time", "jobs=10", "--db-jitter", "0", "--db-slots", "32")
    m, _ = search(tmp_path, plan(tmp_path, target), "--slo", "p(95)<100", "--start-rate", "500")
    assert m["limited_by"] == "target", m
    assert within(m["sustainable_rate"], 1600, 10), m


def test_under_load_sees_a_shared_database(make_target, tmp_path):
    # ecommerce's 4 VUs keep about 4 queries of 20 ms busy. With 4 database
    # slots they halve jobs' speed (f = n / S); with 1000 they cost nothing.
    # The two searches run at once, each against its own target.
    def one(slots):
        target = make_target(*SMALL, "--db-slots", str(slots), "--db-pool", "ecommerce=8", "--db-time",
                             "ecommerce=20")
        p = plan(tmp_path, target, other_load=True, name=f"plan{slots}")
        return search(tmp_path, p, "--slo", "p(95)<200", "--start-rate", "40", "--under-load", name=f"cap{slots}")

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        (shared, _), (apart, _) = ex.map(one, (4, 1000))
    assert shared["limited_by"] == "target" and apart["limited_by"] == "target", (shared, apart)
    assert shared["sustainable_rate"] < 200 * 0.8, shared
    assert within(apart["sustainable_rate"], 200, 10), apart


def test_the_generator_is_named_when_it_is_the_limit(target, tmp_path):
    p = tmp_path / "health.yaml"
    p.write_text(f"target: {target.url}\n" + textwrap.dedent("""
        modules:
          health:
            executor: {type: constant-vus, vus: 1, duration: 5s}
            flow:
              - get: /health
        """))
    out = tmp_path / "h.json"
    # No --max-rate within reach: the search can only end at the generator.
    r = run_strain("capacity", str(p), *STEP, "--start-rate", "8000", "--max-rate", "10000000",
                   "--summary-export", str(out), timeout=240)
    assert r.returncode == 0, r.stderr
    [m] = json.loads(out.read_text())["capacity"]["modules"]
    assert m["limited_by"] == "generator", m
    assert m["first_failing_rate"] is None
    assert "the generator, not the target, was the limit" in r.stdout
    assert "untrusted" in m["steps"][-1]


def test_bad_input(target, tmp_path):
    p = plan(tmp_path, target)
    r = run_strain("capacity", str(p), "--module", "nope", timeout=30)
    assert r.returncode == 104 and "--module nope: the plan has no such module" in r.stderr
    r = run_strain("capacity", str(p), "--slo", "p(95)<<3", timeout=30)
    assert r.returncode == 104 and "--slo" in r.stderr
    r = run_strain("capacity", str(p), "--alone", "--under-load", timeout=30)
    assert r.returncode == 2
    r = run_strain("capacity", str(p), "--step", "2s", "--warmup", "2s", timeout=30)
    assert r.returncode == 104 and "--warmup" in r.stderr
    r = run_strain("capacity", timeout=30)
    assert r.returncode == 2


def test_the_report_draws_the_curve(make_target, tmp_path):
    import re

    import report_lib
    if not report_lib.CHROMIUM:
        pytest.skip("chromium is not installed (scripts/deps.sh test installs it)")
    target = make_target(*SMALL)
    html = tmp_path / "cap.html"
    m, _ = search(tmp_path, plan(tmp_path, target), "--slo", "p(95)<200", "--start-rate", "60", "--max-steps", "3",
                  "--report", str(html))
    assert [s["rate"] for s in m["steps"][:3]] == [60, 120, 240]
    # The export is a summary strain report reads; both pages are the same.
    again = tmp_path / "again.html"
    p = run_strain("report", str(tmp_path / "cap.json"), "-o", str(again), timeout=30)
    assert p.returncode == 0, p.stderr
    for page in (html, again):
        dom, console = report_lib.dump_dom(page)
        assert report_lib.console_errors(console) == []
        [box] = [b for b in report_lib.chart_boxes(dom) if b["data-kind"] == "capacity"]
        assert box["data-module"] == "jobs"
        assert int(box["data-points"]) == len([s for s in m["steps"] if "untrusted" not in s])
        assert box["data-threshold-lines"] == "1"
        assert re.search(r'<table class="capacity">.*?<td class="l">jobs</td>', dom, re.S)
    report_lib.screenshot(html, "capacity.png", height=1200)


def test_the_plans_thresholds_about_the_module_are_its_objectives(make_target, tmp_path):
    """Without --slo: the thresholds on module:jobs and on no module are
    jobs' objectives; one on another module is not (it could never hold)."""
    target = make_target(*SMALL)
    p = plan(tmp_path, target)
    p.write_text(p.read_text() + textwrap.dedent("""
        thresholds:
          "http_req_duration{module:jobs}": ["p(95)<200"]
          "http_req_failed": ["rate<0.5"]
          "http_req_duration{module:elsewhere}": ["p(95)<0.001"]
        """))
    m, text = search(tmp_path, p, "--start-rate", "60", "--max-steps", "3")
    assert [s["ok"] for s in m["steps"][:2]] == [True, True], m
    assert m["failed_objective"] == {"metric": "http_req_duration{module:jobs}", "expression": "p(95)<200",
                                     "observed": m["failed_objective"]["observed"]}
    assert m["failed_objective"]["observed"] >= 200

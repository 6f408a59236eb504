"""`strain demo` (the README's first command) end to end, shortened with
--quick: every strategy of the example suite against a fresh target, the
comparison and verdict, the re-run with the fixes, then each fix measured as
Profile's capacity under load; summaries land in ./results/."""
import json
import os
import subprocess

from conftest import STRAIN

SUITE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "suite.yaml")


def test_demo_runs_the_story(tmp_path):
    p = subprocess.run([os.path.abspath(STRAIN), "demo", "--quick", "--plan", os.path.abspath(SUITE)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=400)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    out = p.stdout
    assert "comparison (module x strategy)" in out
    assert "verdict:" in out and "=>" in out
    assert "profile in parallel" in out and "after fixes" in out
    # The steady state after the logins is printed beside the whole phase.
    assert "after the first 1s:" in out
    before = json.loads((tmp_path / "results" / "demo-all.json").read_text())
    after = json.loads((tmp_path / "results" / "demo-fixed.json").read_text())
    strategies = before["comparison"]["strategies"]
    assert set(strategies) == {"sequential", "hybrid", "parallel"}
    for s in strategies.values():
        assert set(s) == {"jobs", "ecommerce", "notifications", "profile"}
    assert set(after["comparison"]["strategies"]) == {"parallel"}
    assert after["metrics"]["http_reqs"]["count"] > 0
    # The HTML reports, named in the last lines.
    assert "results/report.html" in "\n".join(out.splitlines()[-3:])
    for name in ("report.html", "report-fixed.html"):
        page = (tmp_path / "results" / name).read_text()
        assert page.startswith("<!doctype html>") and 'id="strain-summary"' in page
    assert 'id="strain-baseline"' in (tmp_path / "results" / "report-fixed.html").read_text()
    # Each fix as capacity: four searches of profile under load, each
    # against a target with that fix, every one a result the table shows.
    assert "profile under load" in out
    labels = ["as shipped: pool of 12", "1. pool of 24", "2. pool of 24 + cache", "3. autoscale 12..48 + cache"]
    files = ["capacity-0-shipped.json", "capacity-1-pool.json", "capacity-2-cache.json",
             "capacity-3-autoscale.json"]
    table = out[out.index("profile under load"):]
    for label, name in zip(labels, files):
        assert label in table
        doc = json.loads((tmp_path / "results" / name).read_text())
        cap = doc["capacity"]
        assert cap["mode"] == "under-load" and cap["step_ms"] == 2000 and cap["warmup_ms"] == 1000
        (m,) = cap["modules"]
        assert m["module"] == "profile" and m["limited_by"] in ("target", "generator", "max-rate")
        assert 1 <= len(m["steps"]) <= 3 + 3  # --max-steps 3, each step retried at most once
        assert m["steps"][0]["rate"] == 50
        row = next(line for line in table.splitlines() if line.strip().startswith(label))
        held = m["sustainable_rate"]
        assert (f"{held:.4g}/s" in row) if held else (" - " in row or "0/s" in row)
    assert "--quick: steps too short" in out

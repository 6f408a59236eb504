"""`strain demo` (the README's first command) end to end, shortened: every
strategy of the example suite against a fresh target, the comparison and
verdict, then the re-run with the fixes; summaries land in ./results/."""
import json
import os
import subprocess

from conftest import STRAIN

SUITE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "suite.yaml")


def test_demo_runs_the_story(tmp_path):
    p = subprocess.run([os.path.abspath(STRAIN), "demo", "--duration", "2s", "--plan", os.path.abspath(SUITE)],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    out = p.stdout
    assert "comparison (module x strategy)" in out
    assert "verdict:" in out and "=>" in out
    assert "profile in parallel" in out and "after fixes" in out
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

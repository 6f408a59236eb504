"""65,536+ distinct URLs stay bounded: a CSV of 70,000 ids in the path (no
`name`) makes 70,000 different requests, but the url tag is the URL as
written, templates unexpanded (k6 needs `name` for that; strain does not),
so the run has a handful of series, no series-cap warning, every request
counted, and strain's memory does not grow with the number of distinct
URLs sent."""
import json
import os
import subprocess
import threading
import time

from conftest import STRAIN

ROWS = 70000


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def write_plan(tmp_path, target, rows):
    (tmp_path / "ids.csv").write_text("id\n" + "\n".join(str(100000 + i) for i in range(rows)) + "\n")
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"""
target: {target.url}
data:
  ids: {{file: ids.csv, mode: unique}}
modules:
  crawl:
    executor: {{type: shared-iterations, vus: 16, iterations: {rows}, maxDuration: 5m}}
    flow:
      - get: /nowhere/{{{{data.ids.id}}}}
        expect: 404
""")
    return plan


def test_distinct_urls_are_one_url_tag(target, tmp_path):
    plan = write_plan(tmp_path, target, 3000)
    out = tmp_path / "out.json"
    p = subprocess.run([STRAIN, "run", "--quiet", str(plan), "--out", f"json={out}"], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    urls, reqs = set(), 0
    for line in out.read_text().splitlines():
        o = json.loads(line)
        if o.get("type") == "Point" and o["metric"] == "http_reqs":
            urls.add(o["data"]["tags"]["url"])
            reqs += o["data"]["value"]
    assert reqs == 3000
    assert urls == {target.url + "/nowhere/{{data.ids.id}}"}, list(urls)[:5]


def test_70000_distinct_urls_in_flat_memory(target, tmp_path):
    plan = write_plan(tmp_path, target, ROWS)
    summary = tmp_path / "summary.json"
    # Under AddressSanitizer (make asan) freed memory sits in a quarantine
    # instead of being reused, which grows RSS with every free: off here,
    # so the figure is the program's own. No effect on other builds.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = ":".join(x for x in (env.get("ASAN_OPTIONS"), "quarantine_size_mb=0",
                                               "thread_local_quarantine_size_kb=0") if x)
    proc = subprocess.Popen([STRAIN, "run", "--quiet", str(plan), "--summary-export", str(summary)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    samples = []

    def sample():
        while proc.poll() is None:
            r = rss_kib(proc.pid)
            if r:
                samples.append(r)
            time.sleep(0.05)
    th = threading.Thread(target=sample)
    th.start()
    try:
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        th.join()
    assert proc.returncode == 0, err
    assert "series" not in err, err  # no cap reached, nothing to warn about
    s = json.loads(summary.read_text())
    assert s["metrics"]["http_reqs"]["count"] == ROWS
    assert s["metrics"]["http_req_failed"]["passes"] == 0
    # Memory: what the run holds once it is going (the 70,000 rows among
    # it) does not grow with the distinct URLs it sends. (With an output
    # that writes every sample, JSON or CSV, the sample log grows to the
    # busiest second's samples: that is bounded by the rate, not the URLs.)
    assert len(samples) >= 8, samples
    half = len(samples) // 2
    first, second = max(samples[:half]), max(samples[half:])
    assert second <= first * 1.05 + 2048, (first, second, samples)

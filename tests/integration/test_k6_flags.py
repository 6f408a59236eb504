"""The k6 flags strain takes (--tag, --summary-trend-stats, --user-agent,
--no-thresholds, --no-summary, --http-debug), the run id on every sample,
the vus gauges per module, and the k6 flags strain does not have: end to end
against `strain target` and a small recording server."""
import csv
import gzip
import json
import re
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import run_strain, summary

RUN_ID = re.compile(r"\d{8}-\d{6}-[0-9a-f]{4}")


def points(path):
    return [json.loads(line) for line in open(path) if '"Point"' in line]


def write_plan(tmp_path, text, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(textwrap.dedent(text))
    return p


def test_run_id_and_tags_on_every_sample(target, tmp_path):
    j, c = tmp_path / "o.json", tmp_path / "o.csv"
    p, s = summary(tmp_path, "--url", target.url + "/health", "--iterations", "5", "--tag", "env=ci",
                   "--tag", "team=api", "--out", f"json={j}", "--out", f"csv={c}")
    assert p.returncode == 0, p.stderr
    tid = s["testid"]
    assert RUN_ID.fullmatch(tid), tid
    assert s["tags"] == {"env": "ci", "team": "api", "testid": tid, "instance": s["execution"]["instance"]}
    pts = points(j)
    assert {pt["metric"] for pt in pts} >= {"http_reqs", "http_req_duration", "vus", "vus_max", "iterations"}
    for pt in pts:
        tags = pt["data"]["tags"]
        assert tags["testid"] == tid and tags["env"] == "ci" and tags["team"] == "api", pt
    rows = list(csv.DictReader(open(c)))
    assert len(rows) == len(pts)
    for r in rows:
        extra = dict(kv.split("=", 1) for kv in r["extra_tags"].split("&"))
        assert extra["testid"] == tid and extra["env"] == "ci", r
    # Two runs, two ids.
    p2, s2 = summary(tmp_path, "--url", target.url + "/health")
    assert RUN_ID.fullmatch(s2["testid"]) and s2["testid"] != tid


def test_testid_and_plan_tags_can_be_set(target, tmp_path):
    plan = write_plan(tmp_path, f"""\
        target: {target.url}
        tags:
          env: staging
          testid: from-plan
        modules:
          m:
            executor: {{type: shared-iterations, vus: 1, iterations: 3}}
            tags: {{tier: gold}}
            flow:
              - get: /health
        """)
    j = tmp_path / "o.json"
    p, s = summary(tmp_path, str(plan), "--out", f"json={j}")
    assert p.returncode == 0, p.stderr
    assert s["testid"] == "from-plan" and s["tags"] == {"env": "staging", "testid": "from-plan",
                                                               "instance": s["execution"]["instance"]}
    for pt in points(j):
        assert pt["data"]["tags"]["testid"] == "from-plan" and pt["data"]["tags"]["env"] == "staging"
    reqs = [pt for pt in points(j) if pt["metric"] == "http_reqs"]
    assert reqs and all(pt["data"]["tags"]["tier"] == "gold" and pt["data"]["tags"]["module"] == "m" for pt in reqs)
    # --tag wins over the plan's tags:; a sample's own tag wins over a run tag.
    p, s = summary(tmp_path, str(plan), "--tag", "testid=mine", "--tag", "env=prod", "--tag", "module=x",
                   "--out", f"json={j}")
    assert p.returncode == 0, p.stderr
    assert s["testid"] == "mine" and s["tags"]["env"] == "prod"
    reqs = [pt for pt in points(j) if pt["metric"] == "http_reqs"]
    assert all(pt["data"]["tags"]["module"] == "m" and pt["data"]["tags"]["testid"] == "mine" for pt in reqs)


@pytest.mark.parametrize("tags,where", [
    ("tags: [a, b]\n", "3:7"),
    ("tags:\n  'bad key': x\n", "4:3"),
    ("tags:\n  ok: ''\n", "4:7"),
])
def test_bad_plan_tags_name_their_place(target, tmp_path, tags, where):
    plan = write_plan(tmp_path, f"target: {target.url}\nmodules:\n  m:\n"
                      "    executor: {type: shared-iterations, vus: 1, iterations: 1}\n"
                      "    flow: [{get: /health}]\n")
    text = plan.read_text().split("\n")
    plan.write_text("\n".join(text[:1] + [""] + tags.rstrip("\n").split("\n") + text[1:]))
    p = run_strain("run", str(plan), "--quiet")
    assert p.returncode == 104, p.stderr
    assert f"plan.yaml:{where}" in p.stderr and "tags" in p.stderr, p.stderr


@pytest.mark.parametrize("value,why", [
    ("novalue", "expected KEY=VALUE"),
    ("=x", "expected KEY=VALUE"),
    ("a b=c", "letters, digits"),
    ("k=", "empty"),
])
def test_bad_tag_flags(target, value, why):
    p = run_strain("run", "--url", target.url + "/health", "--tag", value)
    assert p.returncode == 104, p.stderr
    assert "--tag" in p.stderr and why in p.stderr, p.stderr


def test_summary_trend_stats(target, tmp_path):
    p, s = summary(tmp_path, "--url", target.url + "/health", "--iterations", "20",
                   "--summary-trend-stats", "avg,min,med,max,p(90),p(95),p(99.9),count")
    assert p.returncode == 0, p.stderr
    d = s["metrics"]["http_req_duration"]
    assert set(d) == {"type", "contains", "count", "avg", "min", "med", "max", "p(90)", "p(95)", "p(99.9)"}
    assert d["count"] == 20
    assert d["min"] <= d["med"] <= d["p(90)"] <= d["p(95)"] <= d["p(99.9)"] <= d["max"]
    p = run_strain("run", "--url", target.url + "/health", "--iterations", "3", "--summary-trend-stats", "p(99.9),count")
    assert p.returncode == 0, p.stderr
    line = next(x for x in p.stdout.splitlines() if "http_req_duration." in x)
    assert re.search(r": p\(99\.9\)=\S+\s+count=3$", line), line
    # The default: k6's columns and p(99).
    p, s = summary(tmp_path, "--url", target.url + "/health", "--iterations", "3")
    assert set(s["metrics"]["http_req_duration"]) == {"type", "contains", "count", "avg", "min", "med", "max",
                                                     "p(90)", "p(95)", "p(99)"}


@pytest.mark.parametrize("bad", ["avg,foo", "p(101)", "p()", "avg,,max", "avg,avg", ""])
def test_bad_summary_trend_stats_name_the_flag(target, bad):
    p = run_strain("run", "--url", target.url + "/health", "--summary-trend-stats", bad)
    assert p.returncode == 104, p.stderr
    assert p.stderr.startswith("strain run: --summary-trend-stats: "), p.stderr


class Recorder:
    """A loopback HTTP server that answers 200 and keeps every request's headers."""

    def __init__(self):
        seen = self.seen = []

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                seen.append(dict(self.headers))
                body = b'{"ok":true}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Set-Cookie", "session=s3cr3t")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        self.t = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.t.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def recorder():
    r = Recorder()
    yield r
    r.stop()


def test_user_agent(recorder, tmp_path):
    def ua(*args):
        recorder.seen.clear()
        p = run_strain("run", "--quiet", "--url", recorder.url + "/x", *args)
        assert p.returncode == 0, p.stderr
        assert len(recorder.seen) == 1
        return recorder.seen[0].get("User-Agent")

    assert ua().startswith("strain/")
    assert ua("--user-agent", "k6-habit/1.0") == "k6-habit/1.0"
    # A request's own header wins, as in k6; an empty --user-agent sends none.
    assert ua("--user-agent", "k6-habit/1.0", "-H", "User-Agent: mine") == "mine"
    assert ua("--user-agent", "") is None
    plan = write_plan(tmp_path, f"""\
        target: {recorder.url}
        modules:
          m:
            executor: {{type: shared-iterations, vus: 1, iterations: 2}}
            flow:
              - get: /a
              - get: /b
                headers: {{User-Agent: plan-ua}}
        """)
    recorder.seen.clear()
    p = run_strain("run", "--quiet", str(plan), "--user-agent", "flag-ua")
    assert p.returncode == 0, p.stderr
    assert sorted(h["User-Agent"] for h in recorder.seen) == ["flag-ua", "flag-ua", "plan-ua", "plan-ua"]
    p = run_strain("run", "--url", recorder.url, "--user-agent", "a\tb")
    assert p.returncode == 104 and "--user-agent" in p.stderr


def test_no_thresholds(target, tmp_path):
    plan = write_plan(tmp_path, f"""\
        target: {target.url}
        modules:
          m:
            executor: {{type: constant-vus, vus: 1, duration: 1500ms}}
            flow:
              - get: /fault/status?code=500
        thresholds:
          http_req_failed:
            - {{threshold: "rate<0.5", abortOnFail: true}}
          http_req_duration: ["p(95)<0.000001"]
        """)
    p, s = summary(tmp_path, str(plan))
    assert p.returncode == 99
    p, s = summary(tmp_path, str(plan), "--no-thresholds")
    assert p.returncode == 0, p.stderr
    assert "thresholds" not in s
    assert s["duration_ms"] >= 1400  # not aborted
    p = run_strain("run", str(plan), "--no-thresholds")
    assert p.returncode == 0 and "thresholds:" not in p.stdout


def test_no_summary_keeps_the_export(target, tmp_path):
    out = tmp_path / "s.json"
    p = run_strain("run", "--url", target.url + "/health", "--iterations", "3", "--no-summary",
                   "--summary-export", str(out))
    assert p.returncode == 0, p.stderr
    assert "http_reqs" not in p.stdout and "finished after" not in p.stdout
    assert json.loads(out.read_text())["metrics"]["http_reqs"]["count"] == 3
    p = run_strain("run", "--url", target.url + "/health", "--iterations", "3")
    assert "http_reqs" in p.stdout


def test_http_debug(recorder):
    args = ["run", "--quiet", "--url", recorder.url + "/dbg?q=1", "-H", "Authorization: Bearer tok123",
            "-H", "Cookie: c=secretcookie", "-H", "Proxy-Authorization: Basic cHc=", "-H", "X-Plain: visible"]
    p = run_strain(*args)
    assert p.returncode == 0 and "http-debug" not in p.stderr, p.stderr
    p = run_strain(*args, "--http-debug")
    assert p.returncode == 0, p.stderr
    err = p.stderr
    assert "Request:\nGET /dbg?q=1 HTTP/1.1\n" in err, err
    assert "X-Plain: visible" in err
    assert "Authorization: ***SECRET_REDACTED***" in err and "Proxy-Authorization: ***SECRET_REDACTED***" in err
    assert "Cookie: ***SECRET_REDACTED***" in err and "Set-Cookie: ***SECRET_REDACTED***" in err
    for secret in ("tok123", "secretcookie", "cHc=", "s3cr3t"):
        assert secret not in err, secret
    assert "Response:\nHTTP/1.1 200\n" in err and "Content-Length: 11" in err
    assert '{"ok":true}' not in err
    p = run_strain(*args, "--http-debug=full")
    assert p.returncode == 0, p.stderr
    assert "Response body (11 bytes):\n{\"ok\":true}" in p.stderr, p.stderr
    assert "tok123" not in p.stderr
    p = run_strain("run", "--url", recorder.url, "--http-debug=everything")
    assert p.returncode == 104 and "--http-debug" in p.stderr


def test_http_debug_shows_a_request_body(target):
    p = run_strain("run", "--quiet", "--url", target.url + "/health", "-X", "POST", "--body", "hello-body",
                   "--http-debug=full")
    assert "Content-Length: 10\n\nhello-body\n" in p.stderr, p.stderr


def test_vus_per_module_and_the_run_wide_total(target, tmp_path):
    mods = "".join(f"  {m}:\n"
                   f"    executor: {{type: constant-vus, vus: {n}, duration: 1500ms}}\n"
                   "    flow:\n"
                   "      - get: /health\n"
                   "      - think: 20ms\n" for m, n in (("a", 2), ("b", 3)))
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\nmodules:\n{mods}strategies:\n  hybrid: {{groups: [[a], [b]], recovery: 0s}}\n"
                    "  all: {recovery: 0s}\n")
    j = tmp_path / "o.json"
    p, s = summary(tmp_path, str(plan), "--strategy", "all", "--out", f"json={j}")
    assert p.returncode == 0, p.stderr
    # The run-wide figures keep their meaning: 5 VUs at once in parallel.
    assert s["metrics"]["vus"]["max"] == 5, s["metrics"]["vus"]
    assert s["metrics"]["vus_max"]["max"] == 5
    # Not the per-module series added up (2 + 3 per strategy, three strategies).
    assert s["metrics"]["vus_max"]["value"] == 5 and s["metrics"]["vus"]["value"] == 0, s["metrics"]
    assert s["config"]["vus"] == 5
    per = {}
    for pt in points(j):
        if pt["metric"] not in ("vus", "vus_max"):
            continue
        t = pt["data"]["tags"]
        key = (pt["metric"], t.get("module"), t.get("strategy"))
        per[key] = max(per.get(key, 0), pt["data"]["value"])
    for st in ("sequential", "hybrid", "parallel"):
        assert per[("vus", "a", st)] == 2 and per[("vus", "b", st)] == 3, per
        assert per[("vus_max", "a", st)] == 2 and per[("vus_max", "b", st)] == 3, per
    assert per[("vus", None, None)] == 5  # the run-wide series, untagged but for the run's tags


K6_ONLY = ["--vus-max", "-m", "--rps", "--batch", "-b", "--batch-per-host", "--compatibility-mode",
           "--console-output", "--linger", "-l", "--paused", "-p", "--address", "-a", "--no-usage-report",
           "--include-system-env-vars", "--logformat", "--log-output", "--system-tags",
           "--no-vu-connection-reuse", "--no-setup", "--no-teardown", "--throw",
           "--summary-time-unit", "--config", "--verbose", "-s"]


@pytest.mark.parametrize("flag", K6_ONLY)
def test_k6_flags_strain_lacks_say_so(target, flag):
    p = run_strain("run", "--url", target.url + "/health", flag, "1")
    assert p.returncode == 2, (flag, p.stderr)
    assert f"strain has no {flag} (k6's" in p.stderr, p.stderr


@pytest.mark.parametrize("spec", ["cloud", "experimental-prometheus-rw=http://127.0.0.1:1/", "statsd"])
def test_k6_outputs_strain_lacks_say_so(target, spec):
    p = run_strain("run", "--url", target.url + "/health", "--out", spec)
    assert p.returncode == 2, p.stderr
    assert "strain has no" in p.stderr and "influxdb=URL" in p.stderr, p.stderr

"""Plan features end to end against `strain target`: templating and
extraction reach the server, CSV data modes, weighted choices, checks,
thresholds and their exit codes, and the three strategies' scheduling."""
import json
import textwrap
import time
from datetime import datetime

from conftest import run_strain


def write_plan(tmp_path, target, body, name="plan.yaml"):
    plan = tmp_path / name
    plan.write_text(f"target: {target.url}\n" + textwrap.dedent(body))
    return plan


def run_plan(tmp_path, plan, *args, timeout=120):
    out = tmp_path / f"s-{time.monotonic_ns()}.json"
    p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out), *args, timeout=timeout)
    assert out.exists(), p.stderr
    return p, json.loads(out.read_text())


def routes(target):
    return {k: v["statuses"] for k, v in target.stats()["routes"].items()}


def test_extraction_feeds_later_requests(target, tmp_path):
    (tmp_path / "users.csv").write_text("username,password\n" + "".join(f"user{i},pw{i}\n" for i in range(1, 6)))
    plan = write_plan(tmp_path, target, """
        data:
          users: {file: users.csv, mode: per-vu}
        modules:
          profile:
            executor: {type: shared-iterations, vus: 3, iterations: 30}
            setup:
              - post: /auth/login
                json: {user: "{{data.users.username}}", password: "{{data.users.password}}"}
                extract: {token: $.token, uid: $.user.id}
                check: {status: 200}
            flow:
              - get: /profile/me
                headers: {Authorization: "Bearer {{token}}"}
                check: {status: 200, json_exists: $.username}
              - get: /profile/{{uid}}
                name: profile by id
                check: {status: 200}
        """)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    r = routes(target)
    # Without the extracted token /profile/me answers 401; every one got 200.
    assert r["GET /profile/me"] == {"200": 30}
    assert r["POST /auth/login"] == {"200": 3}
    assert r["GET /profile/{id}"] == {"200": 30}
    assert s["metrics"]["checks"]["rate"] == 1
    assert s["metrics"]["checks"]["passes"] == 3 + 60 + 30


def test_unique_data_rows_stop_the_module(target, tmp_path):
    (tmp_path / "ids.csv").write_text("id\n" + "".join(f"{i}\n" for i in range(1, 8)))
    plan = write_plan(tmp_path, target, """
        data:
          ids: {file: ids.csv, mode: unique}
        modules:
          jobs:
            executor: {type: shared-iterations, vus: 2, iterations: 100}
            flow:
              - get: /jobs/{{data.ids.id}}
        """)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    assert s["metrics"]["http_reqs"]["count"] == 7
    assert routes(target)["GET /jobs/{id}"] == {"200": 7}


def test_weighted_choice_within_bounds(target, tmp_path):
    plan = write_plan(tmp_path, target, """
        modules:
          mix:
            executor: {type: shared-iterations, vus: 4, iterations: 2000}
            flow:
              - choose:
                  - weight: 3
                    steps: [{get: /health}]
                  - weight: 1
                    steps:
                      - get: /fault/status?code=200
        """)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    r = target.stats()["routes"]
    health = r["GET /health"]["total"]
    assert health + r["fault/status"]["total"] == 2000
    # Binomial(2000, 0.75): sd ~19; allow 5 sd.
    assert 1400 <= health <= 1600, health


def test_query_and_json_templates_reach_the_server(target, tmp_path):
    plan = write_plan(tmp_path, target, """
        modules:
          shop:
            executor: {type: shared-iterations, vus: 2, iterations: 40}
            flow:
              - post: /cart
                json: {product_id: "{{rand_int 1 50000}}", quantity: "{{rand_int 1 3}}"}
                extract: {cart: $.cart_id}
                check: {status: 201}
              - post: /orders
                json: {cart_id: "{{cart}}"}
                check: {status: 201, json: {"$.status": confirmed}}
              - get: /products
                query: {category: "{{rand_choice books toys}}", page: "{{rand_int 1 3}}"}
                check: {status: 200, body_matches: '"category":"(books|toys)"'}
        """)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    r = routes(target)
    # The server validates the bodies: numbers where numbers belong.
    assert r["POST /cart"] == {"201": 40}
    assert r["POST /orders"] == {"201": 40}
    assert r["GET /products"] == {"200": 40}
    assert s["metrics"]["checks"]["fails"] == 0


def test_checks_pass_and_fail(target, tmp_path):
    plan = write_plan(tmp_path, target, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 10}
            flow:
              - get: /health
                name: healthy
                check: {status: 200, body_contains: ok, header: {Content-Type: application/json}}
              - get: /fault/status?code=503
                name: broken
                expect: 503
                check: {status: 200-299, max_duration: 10s}
        """)
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    c = s["metrics"]["checks"]
    # healthy: 3 checks pass x10; broken: status fails, duration passes x10.
    assert c["passes"] == 40 and c["fails"] == 10
    assert s["checks"]["broken: status in 200-299"] == {"passes": 0, "fails": 10}
    assert s["checks"]["broken: duration <= 10s"] == {"passes": 10, "fails": 0}
    assert s["checks"]["healthy: status is 200"] == {"passes": 10, "fails": 0}
    assert s["metrics"]["http_req_failed"]["passes"] == 0  # 503 was expected


def test_thresholds_set_the_exit_code(target, tmp_path):
    body = """
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 20}
            flow:
              - get: /health
        thresholds:
          http_req_duration: ["p(95)<%s"]
          "http_reqs{module:m}": ["count==20"]
        """
    p, s = run_plan(tmp_path, write_plan(tmp_path, target, body % "60000", "ok.yaml"))
    assert p.returncode == 0, p.stderr
    assert all(t["ok"] for t in s["thresholds"])
    p, s = run_plan(tmp_path, write_plan(tmp_path, target, body % "0.000001", "bad.yaml"))
    assert p.returncode == 99
    assert [t["ok"] for t in s["thresholds"]] == [False, True]


def test_abort_on_fail_stops_early(target, tmp_path):
    plan = write_plan(tmp_path, target, """
        modules:
          m:
            executor: {type: constant-vus, vus: 2, duration: 60s}
            flow:
              - get: /fault/status?code=500
        thresholds:
          http_req_failed:
            - {threshold: "rate<0.5", abortOnFail: true, delayAbortEval: 1s}
        """)
    t0 = time.monotonic()
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 99
    assert time.monotonic() - t0 < 20
    assert s["thresholds"][0]["ok"] is False


def _windows(points_file):
    """(strategy, module) -> (first, last) sample time, from the JSON output."""
    win = {}
    for line in open(points_file):
        d = json.loads(line)
        if d.get("type") != "Point" or d["metric"] != "http_reqs":
            continue
        tags = d["data"]["tags"]
        t = datetime.fromisoformat(d["data"]["time"][:26]).timestamp()
        k = (tags["strategy"], tags["module"])
        lo, hi = win.get(k, (t, t))
        win[k] = (min(lo, t), max(hi, t))
    return win


def test_strategies_schedule_as_they_say(target, tmp_path):
    mods = "".join(f"  {m}:\n"
                   "    executor: {type: constant-vus, vus: 2, duration: 1500ms}\n"
                   "    flow:\n"
                   "      - get: /health\n"
                   "      - think: 20ms\n" for m in "abcd")
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\nmodules:\n{mods}"
                    "strategies:\n"
                    "  sequential: {pause: 200ms}\n"
                    "  hybrid: {groups: [[a, b], [c, d]], recovery: 200ms}\n"
                    "  all: {recovery: 200ms}\n")
    points = tmp_path / "points.json"
    p, s = run_plan(tmp_path, plan, "--strategy", "all", "--out", f"json={points}")
    assert p.returncode == 0, p.stderr
    w = _windows(points)

    def overlap(x, y):
        return w[x][0] < w[y][1] and w[y][0] < w[x][1]

    seq = [("sequential", m) for m in "abcd"]
    for i, x in enumerate(seq):
        for y in seq[i + 1:]:
            assert not overlap(x, y), (x, y, w[x], w[y])
    assert overlap(("hybrid", "a"), ("hybrid", "b"))
    assert overlap(("hybrid", "c"), ("hybrid", "d"))
    for x in ("a", "b"):
        for y in ("c", "d"):
            assert not overlap(("hybrid", x), ("hybrid", y))
    par = [("parallel", m) for m in "abcd"]
    for i, x in enumerate(par):
        for y in par[i + 1:]:
            assert overlap(x, y)
    # Strategies follow each other.
    assert max(w[k][1] for k in seq) < min(w[("hybrid", m)][0] for m in "abcd")
    assert max(w[("hybrid", m)][1] for m in "abcd") < min(w[k][0] for k in par)
    # The summary nests figures per strategy and module.
    cmp = s["comparison"]["strategies"]
    assert set(cmp) == {"sequential", "hybrid", "parallel"}
    assert set(cmp["parallel"]) == {"a", "b", "c", "d"}
    assert sum(cmp[st][m]["requests"] for st in cmp for m in cmp[st]) == s["metrics"]["http_reqs"]["count"]


def test_module_filter(target, tmp_path):
    plan = write_plan(tmp_path, target, """
        modules:
          a:
            executor: {type: shared-iterations, vus: 1, iterations: 5}
            flow: [{get: /health}]
          b:
            executor: {type: shared-iterations, vus: 1, iterations: 5}
            flow: [{get: /jobs/1}]
        """)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan, "--module", "b")
    assert p.returncode == 0, p.stderr
    r = routes(target)
    assert "GET /health" not in r and r["GET /jobs/{id}"] == {"200": 5}


def _status_counts(target):
    return target.stats()["routes"]["fault/status"]["statuses"]


def test_data_modes(target, tmp_path):
    (tmp_path / "codes.csv").write_text("code\n200\n201\n202\n203\n204\n")

    def plan(mode, executor):
        return write_plan(tmp_path, target, f"""
            data:
              codes: {{file: codes.csv, mode: {mode}}}
            modules:
              m:
                executor: {executor}
                flow:
                  - get: /fault/status?code={{{{data.codes.code}}}}
            """, f"{mode}.yaml")

    # sequential: rows in turn across all VUs, 20 iterations = each row 4 times
    target.reset_stats()
    p, s = run_plan(tmp_path, plan("sequential", "{type: shared-iterations, vus: 2, iterations: 20}"))
    assert p.returncode == 0, p.stderr
    assert _status_counts(target) == {str(c): 4 for c in range(200, 205)}
    # per-vu: VU n always reads row n
    target.reset_stats()
    p, s = run_plan(tmp_path, plan("per-vu", "{type: per-vu-iterations, vus: 3, iterations: 5}"))
    assert p.returncode == 0, p.stderr
    assert _status_counts(target) == {"200": 5, "201": 5, "202": 5}
    # random: every row, roughly evenly (Binomial(1000, 0.2): sd ~13; allow 5 sd)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan("random", "{type: shared-iterations, vus: 2, iterations: 1000}"))
    assert p.returncode == 0, p.stderr
    counts = _status_counts(target)
    assert sum(counts.values()) == 1000
    assert all(135 <= counts[str(c)] <= 265 for c in range(200, 205)), counts


def test_plan_outputs_and_live_drops(target, tmp_path):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    dead = s.getsockname()[1]
    s.close()
    points = tmp_path / "points.json"
    plan = write_plan(tmp_path, target, """
        outputs: ["json={{env.POINTS}}"]
        modules:
          m:
            executor: {type: constant-vus, vus: 2, duration: 11s}
            flow:
              - get: /health
              - think: 5ms
        """)
    # The plan's output and one from the command line to a dead InfluxDB:
    # the live line (a plain line every 10 s off a terminal) reports drops.
    p = run_strain("run", str(plan), "-e", f"POINTS={points}", "--out",
                   f"influxdb=http://127.0.0.1:{dead}/db?retries=0&timeout=200ms", timeout=120)
    assert p.returncode == 0, p.stderr
    assert "OUTPUT DROPPED" in p.stderr
    reqs = sum(1 for line in open(points) if '"metric":"http_reqs","type":"Point"' in line)
    assert reqs > 100
    assert "DROPPED" in p.stdout  # the summary's output line


def test_comparison_leaves_setup_out(target, tmp_path):
    """A slow setup (300 ms, once per VU) must not colour the module's
    figures in the comparison; it stays in the run's own metrics."""
    plan = write_plan(tmp_path, target, """
        modules:
          m:
            executor: {type: shared-iterations, vus: 2, iterations: 20}
            setup:
              - get: /fault/delay?ms=300
            flow:
              - get: /health
              - get: /fault/status?code=503
                expect: 503
        """)
    p, s = run_plan(tmp_path, plan, "--strategy", "sequential")
    assert p.returncode == 0, p.stderr
    row = s["comparison"]["strategies"]["sequential"]["m"]
    assert row["requests"] == 40
    assert row["max"] < 300, row
    assert row["error_rate"] == 0
    assert s["metrics"]["http_reqs"]["count"] == 42
    assert s["metrics"]["http_req_duration"]["max"] >= 300


def test_scale_scales_the_load_not_its_shape(target, tmp_path):
    """scale: 0.1 of 200 iterations is 20; of 100/s for 2 s is 20 arrivals;
    a ramp to 1 and 10 VUs keeps 1 VU instead of rounding to none."""
    plan = write_plan(tmp_path, target, """
        scale: 0.1
        modules:
          iters:
            executor: {type: shared-iterations, vus: 20, iterations: 200}
            flow: [{get: /jobs/1}]
          ramp:
            executor:
              type: ramping-vus
              startVUs: 0
              stages: [{duration: 1s, target: 1}, {duration: 1s, target: 10}]
              gracefulRampDown: 0s
            flow: [{get: /health}, {think: 100ms}]
          rate:
            executor: {type: constant-arrival-rate, rate: 100, timeUnit: 1s, duration: 2s, preAllocatedVUs: 5}
            flow: [{get: /products/1}]
        """)
    target.reset_stats()
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 0, p.stderr
    r = routes(target)
    assert r["GET /jobs/{id}"] == {"200": 20}
    assert r["GET /products/{id}"] == {"200": 20}
    assert r.get("GET /health", {}).get("200", 0) >= 5, r


def test_threshold_filter_can_exclude_a_tag(target, tmp_path):
    plan = write_plan(tmp_path, target, """
        thresholds:
          "http_req_duration{!group:::setup}": ["max<250"]
          "http_req_duration{group:::setup}": ["max<250"]
        modules:
          m:
            executor: {type: shared-iterations, vus: 1, iterations: 5}
            setup:
              - get: /fault/delay?ms=300
            flow:
              - get: /health
        """)
    p, s = run_plan(tmp_path, plan)
    assert p.returncode == 99, p.stderr
    th = {t["metric"]: t for t in s["thresholds"]}
    assert th["http_req_duration{!group:::setup}"]["ok"] is True
    assert th["http_req_duration{group:::setup}"]["ok"] is False
    assert th["http_req_duration{group:::setup}"]["observed"] >= 300

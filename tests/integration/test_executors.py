"""Executors end to end against `strain target`: arrival-rate accuracy and
even spacing, ramping VUs against the stage function, dropped iterations
that add up exactly, queue mode, and coordinated omission: a server stall
shows in full in queue mode and only in a handful of samples in a closed
model. Every bound counts over windows and is generous, so a loaded 2-core
machine does not flake them."""
import json
import textwrap
import threading
import time
from datetime import datetime

from conftest import run_strain, summary


def points(path, metric):
    """(unix seconds, value) of every Point of metric in a k6 JSON file."""
    res = []
    for line in path.read_text().splitlines():
        d = json.loads(line)
        if d["type"] == "Point" and d["metric"] == metric:
            t = d["data"]["time"]
            frac = t[t.index(".") + 1:-1] if "." in t else "0"
            base = datetime.strptime(t[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=__import__("datetime").timezone.utc)
            res.append((base.timestamp() + float("0." + frac), d["data"]["value"]))
    return res


def served(target, route, status=200):
    r = target.stats()["routes"].get(route)
    return r["statuses"].get(str(status), 0) if r else 0


def metric(s, name, key="count", default=0):
    m = s["metrics"].get(name)
    return m[key] if m else default


def test_constant_rate_is_accurate_and_evenly_spaced(target, tmp_path):
    path = tmp_path / "run.json"
    target.reset_stats()
    p, s = summary(tmp_path, "--url", target.url + "/health", "--rate", "200", "--duration", "5s",
                   "--vus", "5", "--max-vus", "50", "--out", f"json={path}")
    assert p.returncode == 0, p.stderr
    n = metric(s, "iterations")
    # The schedule owes exactly 1000; allow 3% for a starved machine.
    assert abs(n - 1000) <= 30, n
    assert metric(s, "dropped_iterations") + n == 1000
    assert served(target, "GET /health") == n
    assert metric(s, "iteration_start_delay") == n
    # Evenly spread, not a burst at the top of each second: 250 ms windows
    # hold about 50 iterations each.
    ts = sorted(t for t, _ in points(path, "iterations"))
    t0 = ts[0]
    windows = [0] * 20
    for t in ts:
        i = int((t - t0) / 0.25)
        if i < 20:
            windows[i] += 1
    good = sum(1 for w in windows[:19] if 35 <= w <= 65)
    assert good >= 15, windows


def test_ramping_vus_follow_the_stages(target, tmp_path):
    path = tmp_path / "run.json"
    stages = [(3.0, 10), (3.0, 10), (2.0, 0)]
    start = 1

    def f(t):
        a, c = start, 0.0
        for d, b in stages:
            if t < c + d:
                return a + (b - a) * (t - c) / d
            a, c = b, c + d
        return a

    t_launch = time.time()
    p, s = summary(tmp_path, "--url", target.url + "/fault/delay?ms=100", "--vus", str(start),
                   *[x for d, b in stages for x in ("--stage", f"{d:g}s:{b}")], "--out", f"json={path}")
    assert p.returncode == 0, p.stderr
    vus = points(path, "vus")
    assert len(vus) >= 6, vus
    checked = 0
    for t, v in vus:
        rel = t - t_launch
        if rel < 0.5 or rel > 7.8:
            continue
        # Each sample is the most VUs active during the second before it;
        # allow for start-up lag and one VU of rounding either way.
        window = [f(rel + dt / 10) for dt in range(-15, 4)]
        lo, hi = min(window) - 1.5, max(window) + 1.5
        assert lo <= v <= hi, (rel, v, lo, hi, vus)
        checked += 1
    assert checked >= 5
    assert max(v for _, v in vus) == 10
    assert s["metrics"]["vus_max"]["value"] == 10
    assert s["metrics"]["vus"]["value"] == 0


def test_graceful_ramp_down_lets_iterations_finish_or_abandons_them(target, tmp_path):
    # 4 VUs start 3 s iterations; 1 s in, the target drops to 0. With 5 s
    # of gracefulRampDown each finishes its one iteration and stops; with
    # 500 ms they are abandoned (not counted) and none starts again.
    for grace, want in (("5s", 4), ("500ms", 0)):
        plan = tmp_path / f"ramp-{grace}.yaml"
        plan.write_text(f"target: {target.url}\n" + textwrap.dedent(f"""
            modules:
              down:
                executor:
                  type: ramping-vus
                  startVUs: 4
                  gracefulRampDown: {grace}
                  stages: [{{duration: 1s, target: 4}}, {{duration: 0s, target: 0}}, {{duration: 3s, target: 0}}]
                flow: [{{get: "/fault/delay?ms=3000"}}]
            """))
        out = tmp_path / f"s-{grace}.json"
        p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out))
        assert p.returncode == 0, p.stderr
        s = json.loads(out.read_text())
        assert metric(s, "iterations") == want, (grace, s["metrics"].get("iterations"))
        assert s["metrics"]["vus"]["max"] == 4


def test_dropped_iterations_add_up_exactly(target, tmp_path):
    # 4 VUs at 200 ms each serve 20/s; 50/s are due, so about 30/s drop.
    target.reset_stats()
    p = run_strain("run", "--url", target.url + "/fault/delay?ms=200", "--rate", "50", "--duration", "3s",
                   "--vus", "2", "--max-vus", "4", "--summary-export", str(tmp_path / "s.json"))
    assert p.returncode == 0, p.stderr
    s = json.loads((tmp_path / "s.json").read_text())
    done, dropped = metric(s, "iterations"), metric(s, "dropped_iterations")
    assert done + dropped == 150
    assert 30 <= done <= 80 and dropped >= 60, (done, dropped)
    assert served(target, "fault/delay") == done
    assert s["metrics"]["vus_max"]["value"] == 4
    assert "WARNING: %d iterations were dropped" % dropped in p.stdout


def test_queue_mode_runs_late_iterations_and_counts_their_wait(target, tmp_path):
    target.reset_stats()
    p, s = summary(tmp_path, "--url", target.url + "/fault/delay?ms=200", "--rate", "20", "--duration", "3s",
                   "--vus", "2", "--max-vus", "2", "--queue")
    assert p.returncode == 0, p.stderr
    # 2 VUs serve 10/s of the 20/s due: the rest wait in the queue, and
    # what is still queued when the duration ends is dropped, so the
    # books still balance.
    done, dropped = metric(s, "iterations"), metric(s, "dropped_iterations")
    assert done + dropped == 60
    assert 20 <= done <= 40, done
    # Latency counts from the intended start: the queueing shows.
    d = s["metrics"]["http_req_duration"]
    assert d["min"] >= 190
    assert d["max"] >= 900, d
    assert s["metrics"]["iteration_start_delay"]["max"] >= 700


def stall_during(target, after_s, ms):
    def go():
        time.sleep(after_s)
        target.get(f"/fault/stall?ms={ms}", timeout=20)
    th = threading.Thread(target=go)
    th.start()
    return th


def test_coordinated_omission_shows_in_queue_mode_not_in_closed_model(target, tmp_path):
    # Open model, queued: every iteration due during the 1 s stall waits for
    # it, and is measured from when it was due (a fifth of the 1,000).
    th = stall_during(target, 2, 1000)
    p, q = summary(tmp_path, "--url", target.url + "/health", "--rate", "200", "--duration", "5s",
                   "--vus", "10", "--max-vus", "10", "--queue")
    th.join()
    assert p.returncode == 0, p.stderr
    assert metric(q, "dropped_iterations") == 0
    qd = q["metrics"]["http_req_duration"]
    assert qd["p(99)"] >= 800, qd
    # Closed model, same endpoint and stall: only the requests in flight
    # when it hit (one per VU) see it.
    th = stall_during(target, 2, 1000)
    p, c = summary(tmp_path, "--url", target.url + "/health", "--vus", "10", "--duration", "5s")
    th.join()
    assert p.returncode == 0, p.stderr
    cd = c["metrics"]["http_req_duration"]
    assert cd["max"] >= 800, cd
    assert cd["p(99)"] < 200 and cd["p(99)"] < qd["p(99)"] / 4, (cd, qd)


def test_plan_arrival_rate_executors_with_start_time(target, tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {target.url}\n" + textwrap.dedent("""
        modules:
          ramp:
            executor:
              type: ramping-arrival-rate
              startRate: 0
              preAllocatedVUs: 2
              maxVUs: 10
              stages:
                - {duration: 2s, target: 100}
                - {duration: 0s, target: 10}
                - {duration: 1s, target: 10}
            flow: [{get: /health}]
          late:
            executor: {type: constant-arrival-rate, rate: 25, timeUnit: 500ms, duration: 2s,
                       preAllocatedVUs: 2, maxVUs: 10, startTime: 1s}
            flow: [{get: /jobs/1}]
        """))
    target.reset_stats()
    t = time.monotonic()
    out = tmp_path / "s.json"
    p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out))
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - t >= 3
    s = json.loads(out.read_text())
    # 0 -> 100/s over 2 s owes 100, then 10 in the last second; 25 per
    # 500 ms for 2 s owes 100.
    assert served(target, "GET /health") == 110
    assert served(target, "GET /jobs/{id}") == 100
    assert metric(s, "dropped_iterations") == 0


def test_executor_errors_name_the_place(tmp_path):
    plan = tmp_path / "bad.yaml"
    plan.write_text(textwrap.dedent("""\
        target: http://127.0.0.1:1
        modules:
          a:
            executor: {type: ramping-vus, vus: 3, stages: [{duration: 1s, target: 2}]}
            flow: [{get: /}]
          b:
            executor: {type: constant-arrival-rate, rate: 10, duration: 1s}
            flow: [{get: /}]
          c:
            executor: {type: ramping-arrival-rate, preAllocatedVUs: 3, maxVUs: 2, stages: [{duration: 1s, target: x}]}
            flow: [{get: /}]
        """))
    p = run_strain("validate", str(plan))
    assert p.returncode == 104, p.stderr
    err = p.stderr
    assert f"{plan}:4:35: vus: not an option of ramping-vus" in err
    assert f"{plan}:7:15: module b: constant-arrival-rate needs preAllocatedVUs" in err
    assert "maxVUs (2) can't be less than preAllocatedVUs (3)" in err
    assert "target: expected a number" in err


def test_quick_mode_flag_errors(tmp_path):
    for args, msg in [(["--rate", "10"], "--rate needs --duration"),
                      (["--rate", "0", "--duration", "1s"], "above 0"),
                      (["--queue", "--duration", "1s"], "open model"),
                      (["--rate", "10", "--stage", "1s"], "DURATION:TARGET"),
                      (["--stage", "1s:2", "--duration", "1s"], "drop --duration"),
                      (["--rate", "5", "--duration", "1s", "--vus", "3", "--max-vus", "2"], "--max-vus can't")]:
        p = run_strain("run", "--url", "http://127.0.0.1:1/", *args)
        assert p.returncode != 0 and msg in p.stderr, (args, p.stderr)

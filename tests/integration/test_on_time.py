"""strain always ends on time and always writes its summary.

- Arrival rates: a maximum (10,000,000 iterations/s per module, after
  timeUnit and scale) is a plan or flag error; at the maximum, a schedule
  the machine cannot follow still obeys SIGINT (graceful, then immediate)
  and writes its summary.
- Outputs: a black-hole InfluxDB (accepts, reads, never answers) neither
  stretches the run's duration and rates nor holds the run past its flush
  limit; the flush is reported on its own.
- A closed stdout/stderr does not lose the summary export or an output file.
- scale: multiplies the total load, for every executor type.
"""
import json
import os
import signal
import socket
import subprocess
import textwrap
import threading
import time

import pytest

from conftest import STRAIN, count, run_strain, summary


def wait_for_requests(target, n=1, limit=15.0):
    """Polls the target's /__stats until it has served n requests (bounded)."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        if target.stats()["total"] >= n:
            return
        time.sleep(0.05)
    raise AssertionError("the run never reached the target")


STARTED = []


@pytest.fixture(autouse=True)
def no_leftovers():
    """Whatever a test started is gone after it, pass or fail."""
    yield
    while STARTED:
        p = STARTED.pop()
        if p.poll() is None:
            p.kill()
        p.wait()
        for f in (p.stdout, p.stderr):
            if f:
                f.close()


def start_run(tmp_path, *args):
    out = tmp_path / f"summary-{time.monotonic_ns()}.json"
    p = subprocess.Popen([STRAIN, "run", "--quiet", "--summary-export", str(out), *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    STARTED.append(p)
    return p, out


def finish(p, timeout):
    try:
        so, se = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        raise
    return p.returncode, so, se


def write_plan(tmp_path, text, name="plan.yaml"):
    plan = tmp_path / name
    plan.write_text(textwrap.dedent(text))
    return plan


# ---- 1. arrival rates: the maximum, and signals at it -------------------------

AT_MAX = {
    # 10,000 per 1ms = 10,000,000 per second: the maximum itself.
    "constant": "{type: constant-arrival-rate, rate: 10000, timeUnit: 1ms, duration: 60s, preAllocatedVUs: 10}",
    "ramping": "{type: ramping-arrival-rate, startRate: 10000000, preAllocatedVUs: 4, maxVUs: 10, "
               "stages: [{duration: 30s, target: 10000000}, {duration: 30s, target: 5000000}]}",
    "queue": "{type: constant-arrival-rate, rate: 10000000, duration: 60s, preAllocatedVUs: 10, queue: true}",
}


@pytest.mark.parametrize("kind", sorted(AT_MAX))
def test_sigint_at_the_maximum_rate_plan(target, tmp_path, kind):
    plan = write_plan(tmp_path, f"""\
        target: {target.url}
        modules:
          m:
            executor: {AT_MAX[kind]}
            flow: [{{get: /health}}]
        """)
    target.reset_stats()
    p, out = start_run(tmp_path, str(plan))
    wait_for_requests(target, 50)
    p.send_signal(signal.SIGINT)
    rc, _, err = finish(p, timeout=20)
    assert rc == 105, err
    s = json.loads(out.read_text())
    assert s["interrupted"] is True
    assert count(s, "dropped_iterations") > 0
    assert count(s, "iterations") > 0
    # The window is the load's: 60 s were planned, the signal came early.
    assert s["duration_ms"] < 30000


def test_sigint_with_many_modules_at_the_maximum_rate(target, tmp_path):
    """The maximum is per module: 100 modules at it ask a billion
    iterations a second of a couple of threads. Before the fix the loop
    never came back to see the signal."""
    mods = "".join(f"""
          m{i}:
            executor: {{type: constant-arrival-rate, rate: 10000000, duration: 60s, preAllocatedVUs: 1}}
            flow: [{{get: /health}}]""" for i in range(100))
    plan = write_plan(tmp_path, f"""\
        target: {target.url}
        modules:{mods}
        """)
    target.reset_stats()
    p, out = start_run(tmp_path, str(plan))
    wait_for_requests(target, 100)
    p.send_signal(signal.SIGINT)
    rc, _, err = finish(p, timeout=20)
    assert rc == 105, err
    s = json.loads(out.read_text())
    assert s["interrupted"] is True
    assert count(s, "dropped_iterations") > 0


def test_sigint_at_the_maximum_rate_quick_mode(target, tmp_path):
    target.reset_stats()
    p, out = start_run(tmp_path, "--url", target.url + "/health", "--rate", "10000000",
                       "--duration", "60s", "--vus", "10")
    wait_for_requests(target, 50)
    p.send_signal(signal.SIGINT)
    rc, _, err = finish(p, timeout=20)
    assert rc == 105, err
    s = json.loads(out.read_text())
    assert s["interrupted"] is True
    assert count(s, "dropped_iterations") > 0


def test_second_sigint_stops_at_once_at_the_maximum_rate(target, tmp_path):
    """Iterations stuck on a slow endpoint with a long gracefulStop: the
    first signal waits for them, the second abandons them."""
    plan = write_plan(tmp_path, f"""\
        target: {target.url}
        modules:
          m:
            executor: {{type: constant-arrival-rate, rate: 10000000, duration: 60s,
                        preAllocatedVUs: 4, gracefulStop: 120s}}
            flow: [{{get: /health}}, {{get: "/fault/delay?ms=60000"}}]
        """)
    target.reset_stats()
    p, out = start_run(tmp_path, str(plan))
    wait_for_requests(target, 4)  # each VU is past /health, on its way to the delay
    time.sleep(0.3)
    p.send_signal(signal.SIGINT)
    with pytest.raises(subprocess.TimeoutExpired):
        p.wait(timeout=1)  # graceful: the in-flight iterations are still allowed to finish
    p.send_signal(signal.SIGINT)
    rc, _, err = finish(p, timeout=20)
    assert rc == 105, err
    s = json.loads(out.read_text())
    assert s["interrupted"] is True
    assert count(s, "dropped_iterations") > 0


def test_rate_at_the_maximum_ends_on_its_own(target, tmp_path):
    """No signal: a 2 s schedule at the maximum ends after its duration,
    with the iterations it could not start counted as dropped."""
    plan = write_plan(tmp_path, f"""\
        target: {target.url}
        modules:
          m:
            executor: {{type: constant-arrival-rate, rate: 10000000, duration: 2s, preAllocatedVUs: 5}}
            flow: [{{get: /health}}]
        """)
    p, s = summary(tmp_path, str(plan), timeout=40)
    assert p.returncode == 0, p.stderr
    # What was owed is started or dropped (or abandoned in flight, at most the VUs).
    done = count(s, "iterations") + count(s, "dropped_iterations")
    assert 20_000_000 - 5 <= done <= 20_000_000


OVER_MAX = [
    # (executor, the text the error points at)
    ("{type: constant-arrival-rate, rate: 10000000, timeUnit: 1ns, duration: 2s, preAllocatedVUs: 10}",
     "rate: 10000000"),
    ("{type: constant-arrival-rate, rate: 10000001, timeUnit: 1s, duration: 2s, preAllocatedVUs: 10}",
     "rate: 10000001"),
    ("{type: ramping-arrival-rate, preAllocatedVUs: 2, timeUnit: 1ms, "
     "stages: [{duration: 1s, target: 100}, {duration: 1s, target: 20000}]}", "target: 20000"),
    ("{type: ramping-arrival-rate, preAllocatedVUs: 2, startRate: 2000, timeUnit: 100us, "
     "stages: [{duration: 1s, target: 1}]}", "startRate: 2000"),
]


@pytest.mark.parametrize("executor,at", OVER_MAX)
def test_rate_past_the_maximum_is_a_plan_error(tmp_path, executor, at):
    plan = write_plan(tmp_path, f"""\
        target: http://127.0.0.1:9
        modules:
          m:
            executor: {executor}
            flow: [{{get: /health}}]
        """)
    for cmd in (["validate", str(plan)], ["run", str(plan), "--quiet"]):
        p = run_strain(*cmd, timeout=20)
        assert p.returncode == 104, p.stderr
        line = plan.read_text().splitlines()[3]
        col = line.index(at) + at.index(" ") + 2  # the value's column
        assert f"{plan}:4:{col}: " in p.stderr, p.stderr
        assert "10000000 per second" in p.stderr


def test_rate_past_the_maximum_after_scale_is_a_plan_error(tmp_path):
    plan = write_plan(tmp_path, """\
        target: http://127.0.0.1:9
        scale: 3
        modules:
          m:
            executor: {type: constant-arrival-rate, rate: 4000000, duration: 2s, preAllocatedVUs: 10}
            flow: [{get: /health}]
        """)
    p = run_strain("validate", str(plan), timeout=20)
    assert p.returncode == 104, p.stderr
    assert f"{plan}:2:8: scale: 3 takes module m to 1.2e+07 iterations per second" in p.stderr
    plan.write_text(plan.read_text().replace("scale: 3", "scale: 2"))
    assert run_strain("validate", str(plan), timeout=20).returncode == 0


@pytest.mark.parametrize("flags,flag", [
    (["--rate", "10000001", "--duration", "1s"], "--rate"),
    (["--rate", "1e8", "--duration", "1s"], "--rate"),
    (["--rate", "10", "--stage", "1s:20000000"], "--stage"),
])
def test_rate_flag_past_the_maximum(flags, flag):
    p = run_strain("run", "--url", "http://127.0.0.1:9/", *flags, timeout=20)
    assert p.returncode in (2, 104), p.stderr
    assert f"strain run: {flag}:" in p.stderr
    assert "10000000" in p.stderr


# ---- 2. a dead InfluxDB does not stretch the run ---------------------------------

class BlackHole:
    """Accepts connections and reads whatever comes, never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stopped = False
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopped:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._read, args=(c,), daemon=True).start()

    @staticmethod
    def _read(c):
        try:
            while c.recv(65536):
                pass
        except OSError:
            pass

    def close(self):
        self.stopped = True
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def black_hole():
    b = BlackHole()
    yield b
    b.close()


@pytest.mark.parametrize("kind,url,schema", [
    ("influxdb", "http://127.0.0.1:{port}/k6?flush=2s", "aggregated"),
    ("influxdb", "http://127.0.0.1:{port}/k6?flush=2s&schema=k6", "k6"),
    ("influxdb2", "http://127.0.0.1:{port}?org=o&bucket=b&flush=2s", "aggregated"),
])
def test_dead_influxdb_does_not_stretch_the_run(target, tmp_path, black_hole, kind, url, schema):
    spec = f"{kind}={url.format(port=black_hole.port)}"
    out = tmp_path / "s.json"
    env = dict(os.environ, STRAIN_INFLUXDB_TOKEN="t")
    # Bounded below the old behaviour: the write in flight when the load
    # ended held the run for its whole 10 s timeout (2 s + 10 s).
    p = subprocess.run([STRAIN, "run", "--url", target.url + "/health", "--vus", "2", "--duration", "2s",
                        "--out", spec, "--summary-export", str(out)],
                       capture_output=True, text=True, timeout=10, env=env)
    assert p.returncode == 0, p.stderr
    s = json.loads(out.read_text())
    # The window is the load's, not the flush's.
    assert 2000 <= s["duration_ms"] < 4000
    reqs = s["metrics"]["http_reqs"]
    assert reqs["rate"] == pytest.approx(reqs["count"] / (s["duration_ms"] / 1000), rel=1e-6)
    o = s["outputs"][0]
    assert o["points_written"] == 0 and o["points_dropped"] > 0
    # The flush is reported on its own: it ran into its 2 s limit.
    assert o["flush_ms"] >= 1900 and o["flush_cut"] is True
    assert 0 < o["flush_points_dropped"] <= o["points_dropped"]
    assert "final flush" in p.stdout and "points dropped in it" in p.stdout


def test_signal_cuts_a_long_flush_short(target, tmp_path, black_hole):
    spec = f"influxdb=http://127.0.0.1:{black_hole.port}/k6?flush=60s"
    p, out = start_run(tmp_path, "--url", target.url + "/health", "--vus", "1", "--duration", "1s",
                       "--out", spec)
    # The load is over after 1 s; the flush would take 60 s.
    with pytest.raises(subprocess.TimeoutExpired):
        p.wait(timeout=3)
    p.send_signal(signal.SIGINT)
    rc, _, err = finish(p, timeout=10)
    assert rc == 105, err
    s = json.loads(out.read_text())
    assert s["duration_ms"] < 3000
    assert s["outputs"][0]["flush_cut"] is True


def test_output_blocked_for_good_is_abandoned(target, tmp_path):
    """A file output on a pipe whose reader never reads: its writer blocks
    in write(2) for good. A signal cuts the flush; the run stops waiting
    for it soon after and writes the summary."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    held = []
    reader = threading.Thread(target=lambda: held.append(open(fifo, "rb")), daemon=True)
    reader.start()
    try:
        p, out = start_run(tmp_path, "--url", target.url + "/health", "--vus", "1", "--duration", "1s",
                           "--out", f"json={fifo}")
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=4)  # the load is over; the flush is stuck
        p.send_signal(signal.SIGINT)
        rc, _, err = finish(p, timeout=15)
        assert rc == 105, err
        s = json.loads(out.read_text())
        o = s["outputs"][0]
        assert o["flush_cut"] is True and o["last_error"] == "final flush abandoned"
        assert s["duration_ms"] < 3000
    finally:
        reader.join(timeout=5)
        for f in held:
            f.close()


def test_flush_limit_is_bounded(target):
    p = run_strain("run", "--url", target.url + "/health", "--duration", "1s",
                   "--out", "influxdb=http://127.0.0.1:9/k6?flush=10m", timeout=20)
    assert p.returncode == 104
    assert "flush" in p.stderr and "60s" in p.stderr


# ---- 3. a closed stdout / stderr --------------------------------------------------

def test_closed_stdout_and_stderr_keep_the_summary_and_files(target, tmp_path):
    out, samples = tmp_path / "s.json", tmp_path / "samples.json"
    p = subprocess.Popen([STRAIN, "run", "--url", target.url + "/health", "--vus", "2", "--duration", "1s",
                          "--summary-export", str(out), "--out", f"json={samples}",
                          "--out", "csv=/dev/stdout"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    STARTED.append(p)
    p.stdout.close()
    p.stderr.close()
    try:
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert rc == 0
    s = json.loads(out.read_text())
    reqs = count(s, "http_reqs")
    assert reqs > 0 and s["interrupted"] is False
    assert "http_req_duration" in s["metrics"]
    points = sum(1 for line in samples.read_text().splitlines()
                 if line.startswith('{"metric":"http_reqs"'))
    assert points == reqs
    # The CSV went to the closed pipe: dropped and counted, not a failure.
    csv = [o for o in s["outputs"] if o["spec"].startswith("csv=")][0]
    assert csv["points_written"] + csv["points_dropped"] > 0 and csv["points_dropped"] > 0


def test_summary_on_a_pipe_closed_early(target, tmp_path):
    """`strain run ... | head -1`: the reader closes after one line."""
    out, rc = tmp_path / "s.json", tmp_path / "rc"
    cmd = (f"{{ '{STRAIN}' run --url {target.url}/health --vus 1 --duration 1s "
           f"--summary-export '{out}'; echo $? > '{rc}'; }} | head -1")
    p = subprocess.run(["sh", "-c", cmd], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    assert rc.read_text().strip() == "0"
    s = json.loads(out.read_text())
    assert count(s, "http_reqs") > 0 and "http_req_duration" in s["metrics"]


def test_started_with_stdout_and_stderr_closed(target, tmp_path):
    """`strain run ... >&- 2>&-`: the numbers 1 and 2 are held by /dev/null,
    so no output file or connection takes them and receives the summary
    or a message."""
    out, samples = tmp_path / "s.json", tmp_path / "samples.json"
    cmd = (f"exec '{STRAIN}' run --url {target.url}/health --vus 2 --duration 2s "
           f"--summary-export '{out}' --out 'json={samples}' >&- 2>&-")
    target.reset_stats()
    p = subprocess.Popen(["sh", "-c", cmd])
    STARTED.append(p)
    wait_for_requests(target, 10)
    held = {fd: os.readlink(f"/proc/{p.pid}/fd/{fd}") for fd in (1, 2)}
    assert p.wait(timeout=30) == 0
    assert held == {1: "/dev/null", 2: "/dev/null"}
    s = json.loads(out.read_text())
    assert count(s, "http_reqs") == target.stats()["routes"]["GET /health"]["total"]
    assert "400" not in target.stats()["statuses"]
    for line in samples.read_text().splitlines():
        json.loads(line)


# ---- 4. scale multiplies the total load -----------------------------------------

SCALED = {
    "constant-vus": ("{type: constant-vus, vus: 2, duration: 2s}", True),
    # A ramp moves in whole VUs rounded toward its start (k6's rule), so a
    # ramp from 0 gains a little more than scale; a held stage dominates here.
    "ramping-vus": ("{type: ramping-vus, startVUs: 2, stages: [{duration: 1s, target: 4}, "
                    "{duration: 1s, target: 4}]}", True),
    "shared-iterations": ("{type: shared-iterations, vus: 2, iterations: 30}", False),
    "per-vu-iterations": ("{type: per-vu-iterations, vus: 2, iterations: 10}", False),
    "constant-arrival-rate": ("{type: constant-arrival-rate, rate: 20, duration: 2s, preAllocatedVUs: 5}", False),
    "ramping-arrival-rate": ("{type: ramping-arrival-rate, startRate: 0, preAllocatedVUs: 5, "
                             "stages: [{duration: 2s, target: 40}]}", False),
}


def requests_at(target, tmp_path, executor, scale, think):
    flow = "[{get: /health}, {think: 100ms}]" if think else "[{get: /health}]"
    plan = write_plan(tmp_path, f"""\
        target: {target.url}
        scale: {scale}
        modules:
          m:
            executor: {executor}
            flow: {flow}
        """, name=f"plan-{scale}.yaml")
    target.reset_stats()
    p, s = summary(tmp_path, str(plan), timeout=60)
    assert p.returncode == 0, p.stderr
    served = target.stats()["routes"]["GET /health"]["total"]
    assert served == count(s, "http_reqs")
    # An open model's load is its schedule: an iteration a busy machine
    # could not start in time is dropped and counted, not lost.
    return served + (count(s, "dropped_iterations") if "dropped_iterations" in s["metrics"] else 0)


@pytest.mark.parametrize("name", sorted(SCALED))
def test_scale_multiplies_the_total_load(target, tmp_path, name):
    executor, timed = SCALED[name]
    one = requests_at(target, tmp_path, executor, 1, timed)
    two = requests_at(target, tmp_path, executor, 2, timed)
    assert one > 0
    if timed:
        # VU-driven over time (think 100 ms): twice the VUs, about twice the requests.
        assert 1.6 <= two / one <= 2.4, (one, two)
    else:
        # Counted or scheduled: twice exactly, up to the schedule's rounding.
        assert abs(two - 2 * one) <= 2, (one, two)


def test_scale_per_vu_iterations_scales_vus_not_iterations(target, tmp_path):
    executor = "{type: per-vu-iterations, vus: 3, iterations: 7}"
    assert requests_at(target, tmp_path, executor, 1, False) == 21
    assert requests_at(target, tmp_path, executor, 3, False) == 63

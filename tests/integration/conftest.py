"""Shared fixtures: the strain binary, and a `strain target` started on a
free loopback port for the test and stopped after it.

tests/run.py runs this suite in two passes: every test not marked `serial`
spread over several pytest-xdist workers, then the `serial` ones alone
(docs/hardening.md, "What CI costs"). SERIAL below says which tests, and
why, so no test file has to change for it."""
import json
import os
import random
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

STRAIN = os.environ.get("STRAIN_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "strain")


# Tests that must not share the machine with other tests: they judge rates,
# latencies or timings the load of neighbouring tests would bend (capacity
# searches, arrival-rate accuracy, autoscaling delays, the verdicts of the
# demo and of compare), or hold resources other tests need (1,200 kept-alive
# connections, a namespace per generator). A module name takes the whole
# file; "module::test" one test (every parameter of it).
SERIAL = {
    "test_capacity": "capacity searches measure the throughput the machine gives",
    "test_executors": "arrival-rate accuracy and even spacing",
    "test_fault_matrix": "counts reconciled under every fault, under ASan too, at a rate",
    "test_target_autoscale": "the pool grows and shrinks after documented delays",
    "test_target_model": "queueing and processor-sharing times",
    "test_local_ips_ports": "1,200 VUs holding connections",
    "test_segments": "one generator per network namespace, rates merged",
    "test_backlog": "an accept queue the test fills, a target stalled for 1.5 s",
    "test_collect::test_a_threshold_on_the_merged_data_stops_every_instance": "the abort must travel before the schedule ends",
    # Each of these failed in a one-at-a-time run on this machine while
    # other work kept its load average near 8: upper bounds on latency, a
    # load's shape, a comparison's noise test.
    "test_compare": "a slowed module must be a regression, a clean one within noise",
    "test_on_time::test_scale_multiplies_the_total_load": "iterations under --scale, ramping VUs",
    "test_parallel::test_block_takes_one_delay_and_counts_match": "a block's duration under a bound",
    "test_plan_run::test_scale_scales_the_load_not_its_shape": "request counts of a scaled rate",
    "test_run::test_delay_shows_in_waiting_not_connecting": "connecting under 100 ms",
    "test_web::test_chromium_shows_the_run_live_then_the_final_report": "the browser sees the run live",
    # These failed in the parallel pass under ASan (load average 9): the
    # run must have written to InfluxDB within the 1.3 s before it is
    # killed. (The 40,000-module validations were here too, at 50 s each
    # under ASan: the phase array grew one element per realloc, quadratic
    # where realloc always moves; now 4 s, in the parallel pass.)
    "test_output_influx::test_influx_down_mid_run_finishes_on_time_and_counts_drops": "writes within 1.3 s",
    "test_output_influx::test_influx_restarted_writes_resume": "writes within 1.3 s, again after 1.2 s",
}

# The longest tests of the parallel pass go first, so that none of them
# starts last and keeps one worker busy after the others are done.
FIRST = ("test_demo", "test_report_html", "test_summary_record", "test_slurm", "test_plan_run")


# Modules whose tests share one expensive module-scoped fixture (runs to
# compare, an nginx with its certificates, a browser): in the parallel pass
# their tests stay on one worker (xdist_group with --dist loadgroup), so
# the fixture is set up once, not once per worker.
GROUPED = ("test_compare", "test_report_html", "test_tls_nginx", "test_redirects_cookies")


def pytest_configure(config):
    config.addinivalue_line("markers", "serial: run alone, after the parallel pass (tests/run.py)")
    config.addinivalue_line("markers", "xdist_group(name): the tests of a group run on one worker")


# First, so that -m (and xdist's loadgroup) see the markers added here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    for item in items:
        mod = item.module.__name__.rsplit(".", 1)[-1]
        name = getattr(item, "originalname", None) or item.name
        if mod in SERIAL or f"{mod}::{name}" in SERIAL:
            item.add_marker(pytest.mark.serial)
        elif mod in GROUPED:
            item.add_marker(pytest.mark.xdist_group(mod))

    def rank(item):
        mod = item.module.__name__.rsplit(".", 1)[-1]
        return FIRST.index(mod) if mod in FIRST else len(FIRST)
    items.sort(key=rank)   # stable: each module's own order is kept


class Target:
    """A running `strain target`; .url is its base URL."""

    def __init__(self, *args):
        self.proc = subprocess.Popen([STRAIN, "target", "--listen", "127.0.0.1:0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        line = self.proc.stdout.readline().strip()
        if not line:
            err = self.proc.stderr.read()
            raise RuntimeError(f"strain target did not start: {err}")
        # First line is the address, possibly after a word such as "listening on".
        self.addr = line.split()[-1]
        self.url = "http://" + self.addr

    def get(self, path, data=None, method=None, headers=None, timeout=10):
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def stats(self):
        return json.loads(self.get("/__stats")[1])

    def reset_stats(self):
        self.get("/__stats/reset", data=b"", method="POST")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def target():
    t = Target()
    yield t
    t.stop()


@pytest.fixture
def make_target():
    started = []

    def make(*args):
        t = Target(*args)
        started.append(t)
        return t
    yield make
    for t in started:
        t.stop()


def run_strain(*args, timeout=120, check=False):
    """Runs `strain ARGS`, bounded in time; returns the CompletedProcess."""
    p = subprocess.run([STRAIN, *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"strain {' '.join(args)} exited {p.returncode}:\n{p.stderr}")
    return p


def summary(tmp_path, *args, timeout=120):
    """`strain run --quiet --summary-export` with ARGS: (CompletedProcess, summary dict)."""
    out = tmp_path / f"summary-{time.monotonic_ns()}.json"
    p = run_strain("run", "--quiet", "--summary-export", str(out), *args, timeout=timeout)
    assert out.exists(), f"no summary written (rc {p.returncode}): {p.stderr}"
    return p, json.loads(out.read_text())


def count(s, metric, key="count"):
    return s["metrics"][metric][key]


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port():
    """A loopback port free now (for servers that cannot listen on port 0).

    Chosen below the ephemeral range, not by bind(0): between this call and
    the server's bind, a port from the ephemeral range can be taken as the
    source port of any test's outgoing connection (or by another test's
    port 0), and with tests running side by side (tests/run.py) that
    happens. Below the range only another free_port can take it, so each
    xdist worker draws from its own slice."""
    low, high = 10000, _ephemeral_low()
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1))
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    span = (high - low) // workers
    if span >= 100:
        first = low + (index % workers) * span
        for _ in range(200):
            port = random.randrange(first, first + span)
            s = socket.socket()
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            finally:
                s.close()
            return port
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

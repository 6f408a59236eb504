"""Shared fixtures: the strain binary, and a `strain target` started on a
free loopback port for the test and stopped after it."""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.request

import pytest

STRAIN = os.environ.get("STRAIN_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "strain")


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


def free_port():
    """A loopback port free now (for servers that cannot listen on port 0)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

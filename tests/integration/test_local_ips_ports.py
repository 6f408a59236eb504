"""--local-ips takes a generator past one source address's ephemeral ports.
In a network namespace the test creates (and removes), the local port range
is cut to 500 ports; 1,200 VUs each hold a kept-alive connection to one
target address. From one source address, 700 of them cannot get a port
(1215, "out of local ports", with its fix); spread over four addresses
(127.0.0.2-127.0.0.5, 300 each) every one connects."""
import json
import os
import subprocess
import time

import pytest

from conftest import STRAIN

VUS = 1200


def sh(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, timeout=60, **kw)


@pytest.fixture
def ns():
    name = f"strain-ports-{os.getpid()}"
    if os.geteuid() != 0 or sh("ip", "netns", "add", name).returncode != 0:
        pytest.skip("needs root and ip netns")
    target = None
    try:
        assert sh("ip", "-n", name, "link", "set", "lo", "up").returncode == 0
        r = sh("ip", "netns", "exec", name, "sysctl", "-w", "net.ipv4.ip_local_port_range=40000 40499")
        assert r.returncode == 0, r.stderr
        target = subprocess.Popen(["ip", "netns", "exec", name, STRAIN, "target", "--listen", "127.0.0.1:8080",
                                   "--idle-timeout", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert target.stdout.readline().strip(), target.stderr.read()
        yield name
    finally:
        if target:
            target.terminate()
            try:
                target.wait(timeout=10)
            except subprocess.TimeoutExpired:
                target.kill()
                target.wait()
        sh("ip", "netns", "del", name)


def run(ns, tmp_path, *extra):
    """The run's summary, and the most established connections to the
    target seen at once (ss, polled while it runs) with their sources."""
    out = tmp_path / f"s{time.monotonic_ns()}.json"
    proc = subprocess.Popen(["ip", "netns", "exec", ns, STRAIN, "run", "--url", "http://127.0.0.1:8080/health",
                             "--vus", str(VUS), "--duration", "3s", "--quiet", "--summary-export", str(out), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    most, sources = 0, set()
    try:
        while proc.poll() is None:
            ss = sh("ip", "netns", "exec", ns, "ss", "-Htn", "state", "established", "( dport = :8080 )")
            conns = [line.split()[2] for line in ss.stdout.splitlines() if line.strip()]
            if len(conns) > most:
                most, sources = len(conns), {c.rsplit(":", 1)[0] for c in conns}
            time.sleep(0.2)
        err = proc.stderr.read()
        assert proc.wait(timeout=60) == 0, err[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return json.loads(out.read_text()), most, sources


def test_four_source_addresses_pass_one_address_port_range(ns, tmp_path):
    one, most, sources = run(ns, tmp_path)
    # One source address: the port range (500) is what can connect.
    assert most <= 500 and sources == {"127.0.0.1"}
    assert one["errors"]["1215"]["count"] >= VUS - 500
    four, most, sources = run(ns, tmp_path, "--local-ips", "127.0.0.2-127.0.0.5")
    assert four["errors"] == {}
    # Every VU holds its own kept-alive connection, 300 from each address.
    assert most == VUS
    assert sources == {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}

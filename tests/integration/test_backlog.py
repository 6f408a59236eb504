"""A server whose listen backlog is full: on Linux the kernel drops the SYN
of every new connection while the accept queue is full (whatever
tcp_abort_on_overflow says: that setting resets only a handshake that
completes once the queue is full, not a SYN that finds it full), so the
client hears nothing: strain classifies each
such request as 1211 (dial: i/o timeout), whose description names the fix
("the server's listen backlog is full or it does not accept: raise its
backlog (somaxconn) or its accept rate"). The live line says it once, the
summary lists it, the run ends on time, nothing crashes or stalls, and the
counts reconcile with what the server accepted.

The queue is filled by the test itself before strain starts (connections
of its own, made until the listener's accept queue in /proc/net/tcp is at
its limit), so every connection strain opens meets a full queue: no race
between strain's handshakes decides which get in. Two servers: a Python
listener that never accepts, and `strain target --backlog 1` held still by
/fault/stall (it accepts again when the stall ends, and strain's later
connections are served: the server saw exactly the requests strain counts
as answered)."""
import inspect
import json
import os
import socket
import subprocess
import threading
import time

import pytest

from conftest import STRAIN, Target, count, run_strain
from test_tls import TlsTarget

FIX = ("dial: i/o timeout (no answer to the SYN: the server's listen backlog is full or it does not accept: "
       "raise its backlog (somaxconn) or its accept rate; or a firewall drops it)")

MODELS = {
    "closed": "{type: constant-vus, vus: 3, duration: 3s}",
    "open": ("{type: constant-arrival-rate, rate: 5, timeUnit: 1s, duration: 3s, "
             "preAllocatedVUs: 2, maxVUs: 8}"),
    "queue": ("{type: constant-arrival-rate, rate: 5, timeUnit: 1s, duration: 3s, "
              "preAllocatedVUs: 2, maxVUs: 2, queue: true}"),
}


def accept_queue(port):
    """How many connections wait in the accept queue of the IPv4 listener on
    port: for a listening socket /proc/net/tcp's rx_queue is that length."""
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].split(":")[1], 16) == port:
                return int(fields[4].split(":")[1], 16)
    raise AssertionError(f"no listener on port {port}")


def fill_queue(port, backlog):
    """Connects until the listener's accept queue is full (Linux admits
    backlog + 1); returns the connections, to be closed by the caller."""
    conns = []
    for _ in range(64):
        if accept_queue(port) > backlog:
            return conns
        conns.append(socket.create_connection(("127.0.0.1", port), timeout=5))
    raise AssertionError(f"accept queue of port {port} never filled: {accept_queue(port)}")


def plan_text(url, executor, cacert=None):
    lines = [f"target: {url}", "defaults:", "  timeout: 2s"]
    if cacert:
        lines += ["  tls:", f"    cacert: {cacert}"]
    lines += ["modules:", "  m:", f"    executor: {executor}", "    flow:", "      - get: /health"]
    return "\n".join(lines) + "\n"


def run(tmp_path, url, model, cacert=None):
    """Runs the model against url with new connections per request and a
    400 ms connect timeout: (CompletedProcess, summary). The live line is on
    (no --quiet), on stderr, as CI sees it."""
    plan = tmp_path / "plan.yaml"
    out = tmp_path / "summary.json"
    plan.write_text(plan_text(url, MODELS[model], cacert))
    p = run_strain("run", str(plan), "--no-connection-reuse", "--connect-timeout", "400ms",
                   "--summary-export", str(out), timeout=60)
    assert out.exists(), p.stderr
    return p, json.loads(out.read_text())


def check_said_once(p, s):
    assert p.returncode == 0, p.stderr[-2000:]
    # Said once on a line of its own as soon as it happened, and in the summary.
    assert p.stderr.count("error 1211 ") == 1, p.stderr
    assert "error 1211 " + FIX in p.stderr
    assert "1211 " + FIX in p.stdout
    assert s["errors"]["1211"]["description"] == FIX


def check_arrivals(s, model):
    if model != "closed":
        # 5/s for 3 s: 15 intended starts, each run or dropped.
        dropped = s["metrics"].get("dropped_iterations", {}).get("count", 0)
        assert count(s, "iterations") + dropped == 15, (count(s, "iterations"), dropped)


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_listener_that_never_accepts(tmp_path, model):
    lsn = socket.socket()
    lsn.bind(("127.0.0.1", 0))
    lsn.listen(1)
    port = lsn.getsockname()[1]
    ours = fill_queue(port, 1)
    try:
        p, s = run(tmp_path, f"http://127.0.0.1:{port}", model)
        check_said_once(p, s)
        # Every request met the full queue: each is a dial timeout, nothing
        # else, and not a byte was sent.
        reqs = count(s, "http_reqs")
        assert reqs > 0 and set(s["errors"]) == {"1211"}, s["errors"]
        assert s["errors"]["1211"]["count"] == reqs == s["metrics"]["http_req_failed"]["passes"]
        assert s["metrics"].get("data_sent", {}).get("count", 0) == 0
        check_arrivals(s, model)
        # What the server has: only the test's own connections, none of
        # strain's, and nothing written on them.
        lsn.setblocking(False)
        accepted = []
        try:
            while True:
                accepted.append(lsn.accept()[0])
        except BlockingIOError:
            pass
        assert len(accepted) == len(ours)
        for c in accepted:
            c.setblocking(False)
            with pytest.raises(BlockingIOError):
                c.recv(1)
            c.close()
    finally:
        for c in ours:
            c.close()
        lsn.close()


@pytest.fixture(scope="module", params=["plain", "tls"])
def stalled_target(request):
    args = ("--threads", "1", "--backlog", "1")
    t = TlsTarget(*args) if request.param == "tls" else Target(*args)
    yield request.param, t
    t.stop()


@pytest.mark.parametrize("model", sorted(MODELS))
def test_a_target_that_stops_accepting_then_recovers(stalled_target, tmp_path, model):
    kind, t = stalled_target
    port = int(t.addr.rsplit(":", 1)[1])
    t.reset_stats()
    # The stall holds every thread of the target for 1.5 s; meanwhile the
    # test fills its one-slot accept queue, so strain's first connections
    # are dropped, and once the stall ends the target accepts again.
    stall = threading.Thread(target=t.get, args=("/fault/stall?ms=1500",))
    stall.start()
    ours = []
    try:
        for _ in range(100):
            # The stall has begun once the queue stays full: a running
            # target takes a connection at once.
            ours.append(socket.create_connection(("127.0.0.1", port), timeout=5))
            time.sleep(0.05)
            if accept_queue(port) == 0:
                continue
            ours += fill_queue(port, 1)
            time.sleep(0.2)
            if accept_queue(port) > 1:
                break
        else:
            raise AssertionError("the target never stalled")
        p, s = run(tmp_path, t.url, model, t.cert if kind == "tls" else None)
    finally:
        stall.join(timeout=30)
        for c in ours:
            c.close()
    check_said_once(p, s)
    reqs = count(s, "http_reqs")
    dropped = s["errors"]["1211"]["count"]
    assert set(s["errors"]) == {"1211"}, s["errors"]
    assert 0 < dropped < reqs  # dropped while stalled, served after
    # The target saw exactly the requests strain counts as answered: a
    # dropped SYN never carried one.
    st = t.stats()
    assert st["routes"]["GET /health"]["total"] == reqs - dropped, (reqs, dropped, st["routes"])
    check_arrivals(s, model)


# Runs in the namespace: a listener of backlog 1 that never accepts, its
# queue filled (fill_queue reads the namespace's own /proc/net/tcp); prints
# the port, waits for a line, then says what it was sent.
LISTENER = inspect.getsource(accept_queue) + inspect.getsource(fill_queue) + """
import json, sys
lsn = socket.socket()
lsn.bind(("127.0.0.1", 0))
lsn.listen(1)
ours = fill_queue(lsn.getsockname()[1], 1)
print(lsn.getsockname()[1], flush=True)
sys.stdin.readline()
lsn.setblocking(False)
accepted, sent = 0, 0
try:
    while True:
        c = lsn.accept()[0]
        accepted += 1
        c.setblocking(False)
        try:
            sent += len(c.recv(65536))
        except BlockingIOError:
            pass
except BlockingIOError:
    pass
print(json.dumps({"ours": len(ours), "accepted": accepted, "sent": sent}), flush=True)
"""


def test_abort_on_overflow_still_drops_the_syn_of_a_full_queue(tmp_path):
    """With net.ipv4.tcp_abort_on_overflow=1 (set in a namespace the test
    makes), a SYN that meets a full accept queue is still dropped: 1211, not
    a reset, and the same fix is named."""
    ns = f"bl{os.getpid() % 100000}"
    if os.geteuid() != 0 or subprocess.run(["ip", "netns", "add", ns], capture_output=True).returncode != 0:
        pytest.skip("network namespaces need root")
    lsn = None
    try:
        for cmd in (["ip", "-n", ns, "link", "set", "lo", "up"],
                    ["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.tcp_abort_on_overflow=1"]):
            subprocess.run(cmd, check=True, capture_output=True, timeout=30)
        lsn = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", "import socket\n" + LISTENER],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        port = int(lsn.stdout.readline())
        plan = tmp_path / "plan.yaml"
        out = tmp_path / "summary.json"
        plan.write_text(plan_text(f"http://127.0.0.1:{port}", MODELS["closed"]))
        p = subprocess.run(["ip", "netns", "exec", ns, STRAIN, "run", str(plan), "--no-connection-reuse",
                            "--connect-timeout", "400ms", "--summary-export", str(out)],
                           capture_output=True, text=True, timeout=60)
        assert out.exists(), p.stderr
        s = json.loads(out.read_text())
        check_said_once(p, s)
        reqs = count(s, "http_reqs")
        assert reqs > 0 and set(s["errors"]) == {"1211"}, s["errors"]
        assert s["errors"]["1211"]["count"] == reqs
        assert s["metrics"].get("data_sent", {}).get("count", 0) == 0
        lsn.stdin.write("done\n")
        lsn.stdin.flush()
        seen = json.loads(lsn.stdout.readline())
        # The server has only the test's own connections, and nothing on them.
        assert seen["accepted"] == seen["ours"] and seen["sent"] == 0, seen
    finally:
        if lsn:
            lsn.kill()
            lsn.wait()
        subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)

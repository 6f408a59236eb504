"""strain counts exactly what the server saw, under every connection fault
of `strain target`: http_reqs equals the target's /__stats count, a POST
reaches the server once per iteration (never silently resent), and a
replayable request that is resent is counted twice (docs/error-codes.md,
"Resends").

Every flow sends GET /health first, so the faulty request goes out on a
kept-alive connection: that is where a failure is ambiguous and a resend
can happen."""
import json
import socket

import pytest

from conftest import count, summary

# Every fault of src/target/faults.c, and the server's own closes
# (src/target/server.c: a request rejected at its head closes the
# connection with the body unread, which turns the FIN into a reset
# before the request was read). name: (path, /__stats route, body)
BIG = "x" * (1100 * 1024)  # over the target's 1 MiB body limit: 413, closed unread
FAULTS = {
    "delay": ("/fault/delay?ms=20", "fault/delay", None),
    "status": ("/fault/status?code=503", "fault/status", None),
    "reset": ("/fault/reset", "fault/reset", None),                    # RST after reading the request
    "close-request": ("/fault/close?after=request", "fault/close", None),  # FIN after reading, nothing sent
    "close-headers": ("/fault/close?after=headers", "fault/close", None),
    "close-partial": ("/fault/close?after=partial-body", "fault/close", None),
    "malformed": ("/fault/malformed", "fault/malformed", None),
    "chunked": ("/fault/chunked?chunks=3&size=100", "fault/chunked", None),
    "bytes": ("/fault/bytes?n=100000", "fault/bytes", None),
    "slow-body": ("/fault/slow-body?bytes_per_s=2000&n=200", "fault/slow-body", None),
    "hang": ("/fault/hang", "fault/hang", None),                       # the client's timeout ends it
    "headers": ("/fault/headers?n=5&size=20", "fault/headers", None),
    "stall": ("/fault/stall?ms=50", "fault/stall", None),
    "random": ("/fault/random?reset=25&close=20&hang=5&malformed=10&status=10", "fault/random", None),
    "too-large": ("/fault/delay?ms=0", "invalid", BIG),                # reset before the body is read
}

# Resent (written, failed before any answer, on a kept-alive connection)
# for a GET; the resend goes out on a fresh connection and fails again.
RESENT = {"reset", "close-request"}

EXECUTORS = {
    "shared-iterations": "{type: shared-iterations, vus: 2, iterations: 8}",
    "constant-vus": "{type: constant-vus, vus: 2, duration: 700ms}",
    "constant-arrival-rate": ("{type: constant-arrival-rate, rate: 12, timeUnit: 1s, duration: 700ms, "
                              "preAllocatedVUs: 4, maxVUs: 8}"),
}


def yaml_str(s):
    return json.dumps(s)  # a JSON string is a YAML string


def write_plan(tmp_path, url, executor, steps, timeout="400ms"):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {url}\ndefaults: {{timeout: {timeout}}}\n"
                    f"modules:\n  m:\n    executor: {executor}\n    flow:\n" + steps)
    return plan


def step(method, path, body=None, headers=None):
    s = f"      - {method}: {yaml_str(path)}\n"
    if body is not None:
        s += f"        body: {yaml_str(body)}\n"
    if headers:
        s += "        headers: {" + ", ".join(f"{k}: {yaml_str(v)}" for k, v in headers.items()) + "}\n"
    return s


def route_total(st, route):
    return st["routes"].get(route, {}).get("total", 0)


def run_plan(tmp_path, plan):
    p, s = summary(tmp_path, str(plan), timeout=120)
    assert p.returncode == 0, p.stderr
    return s


@pytest.mark.parametrize("model", sorted(EXECUTORS))
@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_counts_equal_server_under_fault(target, tmp_path, fault, method, model):
    path, route, body = FAULTS[fault]
    if method == "post" and body is None:
        body = '{"n": 1}'
    if fault == "too-large" and method == "get":
        method = "put"  # a body needs a method that carries one; PUT is replayable like GET
    steps = step("get", "/health") + step(method, path, body)
    plan = write_plan(tmp_path, target.url, EXECUTORS[model], steps)
    target.reset_stats()
    s = run_plan(tmp_path, plan)
    st = target.stats()
    iters = count(s, "iterations")
    assert iters > 0
    # Every request strain counted reached the server, and the other way round.
    assert count(s, "http_reqs") == st["total"], (s["errors"], st["routes"])
    assert route_total(st, "GET /health") == iters
    faulty = route_total(st, route)
    if method == "post":
        assert faulty == iters, st["routes"]  # once per iteration: never resent
    elif fault in RESENT:
        assert faulty == 2 * iters, st["routes"]  # the attempt and its resend, both counted
    else:
        assert faulty >= iters
    failed = s["metrics"]["http_req_failed"]
    assert failed["passes"] + failed["fails"] == count(s, "http_reqs")


def test_resend_is_a_counted_failed_attempt(target, tmp_path):
    """A GET reset on a kept-alive connection: the attempt is its own failed
    request (1220), the resend on a fresh connection another."""
    plan = write_plan(tmp_path, target.url, EXECUTORS["shared-iterations"],
                      step("get", "/health") + step("get", "/fault/reset"))
    target.reset_stats()
    s = run_plan(tmp_path, plan)
    assert count(s, "http_reqs") == 8 * 3
    assert s["errors"]["1220"]["count"] == 16
    assert target.stats()["routes"]["fault/reset"]["total"] == 16


@pytest.mark.parametrize("method,headers,resent", [
    ("get", None, True), ("head", None, True), ("options", None, True), ("put", None, True),
    ("delete", None, True), ("post", None, False), ("patch", None, False),
    ("post", {"Idempotency-Key": "k-{{vu}}-{{iter}}"}, True),
    ("post", {"X-Idempotency-Key": "abc"}, True),
    ("patch", {"idempotency-key": "abc"}, True),
])
def test_what_is_resent(target, tmp_path, method, headers, resent):
    """Replayable: RFC 9110's idempotent methods, or an Idempotency-Key /
    X-Idempotency-Key header (as Go's net/http). Everything else is sent once."""
    body = None if method in ("get", "head", "options", "delete") else "{}"
    plan = write_plan(tmp_path, target.url, "{type: shared-iterations, vus: 1, iterations: 5}",
                      step("get", "/health") + step(method, "/fault/close?after=request", body, headers))
    target.reset_stats()
    s = run_plan(tmp_path, plan)
    st = target.stats()
    assert route_total(st, "fault/close") == (10 if resent else 5)
    assert count(s, "http_reqs") == st["total"]
    assert s["errors"]["1230"]["count"] == route_total(st, "fault/close")


@pytest.mark.parametrize("model", sorted(EXECUTORS))
def test_mix_reuse_and_resends(target, tmp_path, model):
    """Faults on some requests only: kept-alive reuse, resends and fresh
    connections interleave. The POST reaches the server once per iteration."""
    steps = ("      - choose:\n"
             "          - weight: 2\n"
             "            steps:\n"
             "              - get: /health\n"
             "          - weight: 1\n"
             "            steps:\n"
             "              - get: /fault/reset\n"
             "          - weight: 1\n"
             "            steps:\n"
             "              - get: /fault/close?after=request\n"
             + step("post", "/fault/random?reset=30&close=15&malformed=5", '{"a": 1}')
             + step("get", "/fault/chunked?chunks=2&size=10")
             + step("put", "/fault/status?code=200", "{}"))
    plan = write_plan(tmp_path, target.url, EXECUTORS[model], steps)
    target.reset_stats()
    s = run_plan(tmp_path, plan)
    st = target.stats()
    iters = count(s, "iterations")
    assert iters > 0
    assert count(s, "http_reqs") == st["total"], (s["errors"], st["routes"])
    assert route_total(st, "fault/random") == iters
    assert route_total(st, "fault/status") >= iters
    assert route_total(st, "fault/chunked") >= iters


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("model", ["shared-iterations", "constant-arrival-rate"])
def test_idle_closes_between_requests(make_target, tmp_path, method, model):
    """Keep-alive closes: the server closes every connection during the
    think time. Nothing is lost, nothing resent, nothing counted twice."""
    t = make_target("--idle-timeout", "150ms")
    executor = ("{type: shared-iterations, vus: 2, iterations: 6}" if model == "shared-iterations" else
                "{type: constant-arrival-rate, rate: 6, timeUnit: 1s, duration: 1s, preAllocatedVUs: 4, maxVUs: 8}")
    body = "{}" if method == "post" else None
    steps = (step("get", "/health") + "      - think: 400ms\n" + step(method, "/fault/delay?ms=0", body)
             + "      - think: 400ms\n")
    plan = write_plan(tmp_path, t.url, executor, steps, timeout="5s")
    t.reset_stats()
    s = run_plan(tmp_path, plan)
    st = t.stats()
    iters = count(s, "iterations")
    assert s["errors"] == {}
    assert count(s, "http_reqs") == st["total"] == 2 * iters
    assert route_total(st, "fault/delay") == iters
    assert st["idle_closed"] >= iters


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_quick_mode_counts(target, tmp_path, method):
    """Quick mode, one request per iteration: counts agree under resets."""
    args = ["--url", target.url + "/fault/random?reset=40&close=20", "--vus", "2", "--iterations", "30",
            "-X", method, "--timeout", "2s"]
    if method == "POST":
        args += ["--body", '{"x": 1}']
    target.reset_stats()
    p, s = summary(tmp_path, *args)
    assert p.returncode == 0, p.stderr
    st = target.stats()
    assert count(s, "http_reqs") == st["total"]
    if method == "POST":
        assert st["total"] == 30


def test_close_after_request_sends_nothing(target):
    """/fault/close?after=request: the request is read, counted, and the
    connection closed with a FIN and no byte of answer."""
    host, port = target.addr.rsplit(":", 1)
    c = socket.create_connection((host, int(port)), timeout=5)
    c.sendall(b"POST /fault/close?after=request HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
    assert c.recv(100) == b""
    c.close()
    assert target.stats()["routes"]["fault/close"]["statuses"] == {"closed": 1}
    st, _ = target.get("/fault/close?after=nope")
    assert st == 400


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize("model", [
    ["--vus", "3", "--duration", "1s"],
    ["--rate", "5", "--duration", "1s", "--vus", "3", "--max-vus", "6"],
])
def test_requests_abandoned_when_the_run_ends_are_counted(target, tmp_path, method, model):
    """A request the server has but never answers, still in flight when the
    run's gracefulStop runs out: the server counted it, so strain does too
    (1060, failed; no latency, no check verdict)."""
    target.reset_stats()
    body = ["--body", "x"] if method == "POST" else []
    p, s = summary(tmp_path, "--url", target.url + "/fault/hang", "-X", method, *body, *model,
                   "--graceful-stop", "500ms", "--timeout", "60s")
    assert p.returncode == 0, p.stderr
    served = target.stats()["routes"]["fault/hang"]["total"]
    assert served >= 3
    assert count(s, "http_reqs") == served
    assert s["errors"]["1060"]["count"] == served
    assert "http_req_duration" not in s["metrics"] or s["metrics"]["http_req_duration"].get("count", 0) == 0


def test_requests_cut_by_a_second_signal_are_counted(target, tmp_path):
    import signal
    import subprocess
    import time
    from conftest import STRAIN
    target.reset_stats()
    out = tmp_path / "s.json"
    proc = subprocess.Popen([STRAIN, "run", "--url", target.url + "/fault/hang", "--vus", "4", "--duration", "30s",
                             "--quiet", "--summary-export", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for _ in range(100):
            if target.stats()["routes"].get("fault/hang", {}).get("total", 0) >= 4:
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 105
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    s = json.loads(out.read_text())
    served = target.stats()["routes"]["fault/hang"]["total"]
    assert served == 4
    assert count(s, "http_reqs") == 4 and s["errors"]["1060"]["count"] == 4

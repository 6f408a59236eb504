"""The fault matrix: every fault of `strain target` x the three load models
(closed: VUs; open: an arrival rate that drops late iterations; queue: an
arrival rate that queues them) x plain HTTP and TLS. Each run completes,
strain's request count equals the target's, and every failure carries the
error code documented for that fault (docs/error-codes.md) — never an
unknown one. test_counts_faults.py holds the resend rules and POSTs; this
file holds the classification across transports and models."""
import pytest

from conftest import Target, count, summary
from test_counts_faults import BIG
from test_tls import TlsTarget

# fault: (method, path, body, /__stats route, the error codes it may give).
# A status answer is keyed by its k6 code (1000 + status). "reset" and the
# closes may also meet a write that fails (1201 broken pipe, 1220) when the
# server's close overtakes the request on the wire.
CLOSED = {"1230", "1220", "1201"}
FAULTS = {
    "delay": ("get", "/fault/delay?ms=20", None, "fault/delay", set()),
    "status": ("get", "/fault/status?code=503", None, "fault/status", {"1503"}),
    "reset": ("get", "/fault/reset", None, "fault/reset", {"1220", "1230", "1201"}),
    "close-request": ("get", "/fault/close?after=request", None, "fault/close", CLOSED),
    "close-headers": ("get", "/fault/close?after=headers", None, "fault/close", CLOSED),
    "close-partial": ("get", "/fault/close?after=partial-body", None, "fault/close", CLOSED),
    "malformed": ("get", "/fault/malformed", None, "fault/malformed", {"1720"}),
    "chunked": ("get", "/fault/chunked?chunks=3&size=100", None, "fault/chunked", set()),
    "bytes": ("get", "/fault/bytes?n=100000", None, "fault/bytes", set()),
    "slow-body": ("get", "/fault/slow-body?bytes_per_s=4000&n=200", None, "fault/slow-body", set()),
    "hang": ("get", "/fault/hang", None, "fault/hang", {"1050"}),
    "headers": ("get", "/fault/headers?n=5&size=20", None, "fault/headers", set()),
    "stall": ("get", "/fault/stall?ms=50", None, "fault/stall", set()),
    "random": ("get", "/fault/random?reset=25&close=20&hang=5&malformed=10&status=10", None, "fault/random",
               {"1500", "1050", "1720"} | CLOSED),
    # The server answers 413 and closes with the body unread; the rest of a
    # body it never reads can also hold the write until the timeout.
    "too-large": ("put", "/fault/delay?ms=0", BIG, "invalid", {"1413", "1050"} | CLOSED),
}

MODELS = {
    "closed": "{type: constant-vus, vus: 3, duration: 700ms}",
    "open": ("{type: constant-arrival-rate, rate: 15, timeUnit: 1s, duration: 700ms, "
             "preAllocatedVUs: 4, maxVUs: 6}"),
    "queue": ("{type: constant-arrival-rate, rate: 15, timeUnit: 1s, duration: 700ms, "
              "preAllocatedVUs: 2, maxVUs: 2, queue: true}"),
}


@pytest.fixture(scope="module", params=["plain", "tls"])
def transport(request):
    t = TlsTarget("--threads", "2") if request.param == "tls" else Target("--threads", "2")
    yield request.param, t
    t.stop()


def plan_text(t, tls, executor, method, path, body):
    lines = [f"target: {t.url}", "defaults:", "  timeout: 1s"]
    if tls:
        lines += ["  tls:", f"    cacert: {t.cert}"]
    lines += ["modules:", "  m:", f"    executor: {executor}", "    flow:",
              "      - get: /health",
              f"      - {method}: \"{path}\""]
    if body is not None:
        lines.append(f"        body: \"{body}\"")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("model", sorted(MODELS))
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_matrix(transport, tmp_path, fault, model):
    kind, t = transport
    method, path, body, route, codes = FAULTS[fault]
    plan = tmp_path / "plan.yaml"
    plan.write_text(plan_text(t, kind == "tls", MODELS[model], method, path, body))
    t.reset_stats()
    p, s = summary(tmp_path, str(plan), timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    st = t.stats()
    iters = count(s, "iterations")
    assert iters > 0
    # Every request strain counted reached the server, and the other way round.
    assert count(s, "http_reqs") == st["total"], (s["errors"], st["routes"])
    assert st["routes"].get("GET /health", {}).get("total", 0) == iters
    assert st["routes"].get(route, {}).get("total", 0) >= iters
    # Every failure is classified, with a code this fault documents.
    seen = set(s["errors"])
    assert seen <= codes, (fault, model, kind, s["errors"])
    failed = s["metrics"]["http_req_failed"]
    assert failed["passes"] + failed["fails"] == count(s, "http_reqs")
    assert failed["passes"] == sum(e["count"] for e in s["errors"].values())
    if not codes:
        assert failed["passes"] == 0
    dropped = s["metrics"].get("dropped_iterations", {}).get("count", 0)
    if model != "closed":
        # 15/s for 700 ms: 11 intended starts, each run or dropped.
        assert iters + dropped == 11, (iters, dropped)

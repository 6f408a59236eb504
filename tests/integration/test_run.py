"""End-to-end runs of `strain run` quick mode against the built-in target:
exact reconciliation with the server's own counts, every failure mode
classified with its error code, signals, and command-line errors."""
import json
import signal
import socket
import subprocess
import time

import pytest

from conftest import STRAIN, count, free_port, run_strain, summary


def route_count(stats, route, status=None):
    r = stats["routes"].get(route)
    if not r:
        return 0
    return r["total"] if status is None else r["statuses"].get(str(status), 0)


def test_counts_equal_server_exactly(target, tmp_path):
    target.reset_stats()
    p, s = summary(tmp_path, "--url", target.url + "/health", "--vus", "20", "--duration", "3s")
    assert p.returncode == 0, p.stderr
    served = route_count(target.stats(), "GET /health", 200)
    assert served > 1000
    assert count(s, "http_reqs") == served
    assert count(s, "iterations") == served
    assert s["metrics"]["http_req_failed"]["passes"] == 0
    assert s["metrics"]["http_req_failed"]["fails"] == served
    assert s["errors"] == {}
    # Every k6 built-in is there, in k6's units.
    for m in ("http_req_duration", "http_req_blocked", "http_req_connecting", "http_req_sending",
              "http_req_waiting", "http_req_receiving", "http_req_tls_handshaking",
              "iteration_duration"):
        t = s["metrics"][m]
        assert t["type"] == "trend" and t["count"] == served
        assert t["min"] <= t["med"] <= t["p(90)"] <= t["p(95)"] <= t["p(99)"] <= t["max"]
    assert s["metrics"]["vus_max"]["value"] == 20
    assert s["metrics"]["vus"]["max"] == 20
    assert count(s, "data_received") > served * 50
    assert count(s, "data_sent") > served * 30
    # Keep-alive: 20 connections for thousands of requests.
    assert s["metrics"]["http_req_connecting"]["med"] == 0


def test_iterations_are_exact(target, tmp_path):
    target.reset_stats()
    p, s = summary(tmp_path, "--url", target.url + "/jobs/7", "--vus", "7", "--iterations", "1001")
    assert p.returncode == 0, p.stderr
    assert count(s, "http_reqs") == 1001
    assert count(s, "iterations") == 1001
    assert route_count(target.stats(), "GET /jobs/{id}", 200) == 1001
    # Shorter than one collector tick, yet the VU gauges saw the 7 VUs.
    assert s["metrics"]["vus"]["max"] == 7
    assert s["metrics"]["vus_max"]["value"] == 7


def test_no_connection_reuse_connects_every_time(target, tmp_path):
    target.reset_stats()
    p, s = summary(tmp_path, "--url", target.url + "/health", "--vus", "4", "--iterations", "400",
                   "--no-connection-reuse")
    assert p.returncode == 0, p.stderr
    assert count(s, "http_reqs") == 400
    assert route_count(target.stats(), "GET /health", 200) == 400
    # Every request paid for a connect.
    assert s["metrics"]["http_req_connecting"]["min"] > 0
    assert s["errors"] == {}


def test_refused_port_is_1212(tmp_path):
    port = free_port()
    p, s = summary(tmp_path, "--url", f"http://127.0.0.1:{port}/", "--vus", "2", "--duration", "1s")
    assert p.returncode == 0, p.stderr
    n = count(s, "http_reqs")
    assert n > 0
    assert s["errors"]["1212"]["count"] == n
    assert s["metrics"]["http_req_failed"]["rate"] == 1


def test_reset_is_1220(target, tmp_path):
    p, s = summary(tmp_path, "--url", target.url + "/fault/reset", "--vus", "2", "--iterations", "50")
    assert p.returncode == 0, p.stderr
    assert count(s, "http_reqs") == 50
    assert s["errors"]["1220"]["count"] == 50


@pytest.mark.parametrize("after", ["headers", "partial-body"])
def test_close_mid_response_is_1230(target, tmp_path, after):
    p, s = summary(tmp_path, "--url", target.url + "/fault/close?after=" + after, "--vus", "2",
                   "--iterations", "40")
    assert p.returncode == 0, p.stderr
    assert count(s, "http_reqs") == 40
    assert s["errors"]["1230"]["count"] == 40


def test_malformed_is_1720(target, tmp_path):
    p, s = summary(tmp_path, "--url", target.url + "/fault/malformed", "--vus", "2", "--iterations", "20")
    assert p.returncode == 0, p.stderr
    assert s["errors"]["1720"]["count"] == 20


def test_hang_times_out_as_1050(target, tmp_path):
    t0 = time.monotonic()
    p, s = summary(tmp_path, "--url", target.url + "/fault/hang", "--vus", "3", "--iterations", "6",
                   "--timeout", "300ms")
    assert p.returncode == 0, p.stderr
    assert s["errors"]["1050"]["count"] == 6
    d = s["metrics"]["http_req_duration"]
    assert 250 <= d["med"] <= 1500  # ms: the timeout, not the hang
    assert time.monotonic() - t0 < 30


def test_statuses_and_expected_range(target, tmp_path):
    p, s = summary(tmp_path, "--url", target.url + "/fault/status?code=503", "--iterations", "10")
    assert s["errors"]["1503"]["count"] == 10
    assert s["metrics"]["http_req_failed"]["rate"] == 1
    p, s = summary(tmp_path, "--url", target.url + "/fault/status?code=503", "--iterations", "10",
                   "--expect-status", "500-599")
    assert s["metrics"]["http_req_failed"]["rate"] == 0
    p, s = summary(tmp_path, "--url", target.url + "/fault/status?code=204", "--iterations", "10")
    assert s["errors"] == {} and count(s, "http_reqs") == 10


def test_bodies_chunked_and_large(target, tmp_path):
    p, s = summary(tmp_path, "--url", target.url + "/fault/chunked?chunks=20&size=1000", "--iterations", "30")
    assert p.returncode == 0 and s["errors"] == {}
    assert count(s, "data_received") >= 30 * 20 * 1000
    p, s = summary(tmp_path, "--url", target.url + "/fault/bytes?n=2000000", "--vus", "2",
                   "--iterations", "10")
    assert s["errors"] == {}
    assert count(s, "data_received") >= 10 * 2000000


def test_head_and_post_bodies(target, tmp_path):
    target.reset_stats()
    p, s = summary(tmp_path, "-X", "HEAD", "--url", target.url + "/health", "--iterations", "20")
    assert s["errors"] == {} and count(s, "http_reqs") == 20
    body = tmp_path / "cart.json"
    body.write_text('{"product_id": 7, "quantity": 2}')
    p, s = summary(tmp_path, "-X", "POST", "--url", target.url + "/cart", "-H",
                   "Content-Type: application/json", "--body-file", str(body), "--iterations", "25")
    assert s["errors"] == {}, s["errors"]
    assert route_count(target.stats(), "POST /cart", 200) + route_count(target.stats(), "POST /cart", 201) == 25


def test_delay_shows_in_waiting_not_connecting(target, tmp_path):
    p, s = summary(tmp_path, "--url", target.url + "/fault/delay?ms=200", "--vus", "5", "--iterations", "20")
    assert s["errors"] == {}
    w = s["metrics"]["http_req_waiting"]
    assert 195 <= w["med"] <= 400
    assert s["metrics"]["http_req_connecting"]["max"] < 100


def test_slow_body_shows_in_receiving(target, tmp_path):
    p, s = summary(tmp_path, "--url", target.url + "/fault/slow-body?bytes_per_s=4000&n=2000",
                   "--iterations", "2")
    assert s["errors"] == {}, s["errors"]
    assert s["metrics"]["http_req_receiving"]["med"] >= 250  # ms: ~0.5 s trickle


def test_sigint_stops_gracefully_with_summary(target, tmp_path):
    out = tmp_path / "int.json"
    p = subprocess.Popen([STRAIN, "run", "--quiet", "--url", target.url + "/health", "--vus", "5",
                          "--duration", "60s", "--summary-export", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.5)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=20)
    assert rc == 105
    s = json.loads(out.read_text())
    assert s["interrupted"] is True
    assert count(s, "http_reqs") > 100


def test_second_signal_stops_at_once(target, tmp_path):
    out = tmp_path / "int2.json"
    p = subprocess.Popen([STRAIN, "run", "--quiet", "--url", target.url + "/fault/hang", "--vus", "3",
                          "--duration", "60s", "--summary-export", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1)
    p.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    assert p.poll() is None  # hung requests get their grace period
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=10) == 105
    assert json.loads(out.read_text())["interrupted"] is True


def test_ipv6_loopback(make_target, tmp_path):
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        t = make_target("--listen", "[::1]:0")
    except RuntimeError:
        pytest.skip("IPv6 loopback unavailable")
    p, s = summary(tmp_path, "--url", t.url + "/health", "--iterations", "10")
    assert s["errors"] == {} and count(s, "http_reqs") == 10


def test_unresolvable_host_is_classified(tmp_path):
    # A label over 63 bytes is rejected by the resolver itself: no DNS traffic.
    host = "a" * 70 + ".test"
    p, s = summary(tmp_path, "--url", f"http://{host}/", "--vus", "1", "--iterations", "5")
    assert p.returncode == 0, p.stderr
    assert count(s, "http_reqs") == 5
    assert set(s["errors"]) <= {"1100", "1101"} and s["errors"]


@pytest.mark.parametrize("args,code,needle", [
    (["--url", "http://127.0.0.1:1/", "--vus", "abc"], 104, "--vus"),
    (["--url", "http://127.0.0.1:1/", "--duration", "10parsecs"], 104, "--duration"),
    (["--url", "ftp://x/"], 104, "--url"),
    (["--url", "http://127.0.0.1:1/", "--bogus"], 2, "--bogus"),
    (["--url", "http://127.0.0.1:1/", "--vus", "10", "--iterations", "5"], 104, "--iterations"),
    (["--url", "http://127.0.0.1:1/", "-H", "NoColon"], 104, "header"),
    (["--url"], 2, "--url"),
    (["--url", "http://127.0.0.1:1/", "--cert"], 2, "--cert: needs a value"),
])
def test_bad_command_lines(args, code, needle):
    p = run_strain("run", *args)
    assert p.returncode == code, (p.returncode, p.stderr)
    assert needle in p.stderr


def test_live_line_in_pipes(target):
    # Not a terminal: no carriage-return updates; a plain line at most every 10 s.
    p = run_strain("run", "--url", target.url + "/health", "--vus", "2", "--duration", "2s")
    assert p.returncode == 0
    assert "\r" not in p.stderr
    assert "http_reqs" in p.stdout and "http_req_duration" in p.stdout

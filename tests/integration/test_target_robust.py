"""`strain target` against bad, hostile and unusual input: it answers
correctly or closes cleanly, and keeps serving."""
import json
import random
import socket
import subprocess
import time

from conftest import STRAIN
from test_target_lib import Conn, build, request


def alive(addr):
    return request(addr, "GET", "/health")[0] == 200


def send_expect(addr, data, status):
    """Sends data, expects one response with status; then whether the server
    closed (parse errors always close, so a short wait suffices)."""
    c = Conn(addr)
    c.send(data)
    st, h, body = c.response()
    assert st == status, (data[:80], st, body)
    closed = c.is_closed(timeout=2)
    c.close()
    return h, closed


def test_oversized_head_431(target):
    h, closed = send_expect(target.addr, b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n", 431)
    assert closed and h["connection"] == "close"
    many = b"".join(b"X-H%d: v\r\n" % i for i in range(100))
    send_expect(target.addr, b"GET /health HTTP/1.1\r\n" + many + b"\r\n", 431)
    assert alive(target.addr)


def test_bad_chunks_400(target):
    for bad in (b"zz\r\nhello\r\n0\r\n\r\n", b"5\r\nhelloXX0\r\n\r\n", b"-1\r\n"):
        data = b"POST /cart HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + bad
        _, closed = send_expect(target.addr, data, 400)
        assert closed
    data = b"POST /cart HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + b"f" * 40 + b"\r\n"
    send_expect(target.addr, data, 413)
    assert alive(target.addr)


def test_chunked_request_body_ok(target):
    body = b'{"product_id": 9, "quantity": 1}'
    data = (b"POST /cart HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
            b"%x\r\n%s\r\n%x;ext=1\r\n%s\r\n0\r\nTrailer: y\r\n\r\n" % (10, body[:10], len(body) - 10, body[10:]))
    c = Conn(target.addr)
    c.send(data)
    st, _, resp = c.response()
    assert st == 201 and json.loads(resp)["items"][0]["id"] == 9
    assert c.request("GET", "/health")[0] == 200
    c.close()


def test_framing_errors(target):
    send_expect(target.addr, b"POST /cart HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400)
    send_expect(target.addr, b"POST /cart HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400)
    send_expect(target.addr, b"POST /cart HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400)
    send_expect(target.addr, b"POST /cart HTTP/1.1\r\nContent-Length: 2000000\r\n\r\n", 413)
    send_expect(target.addr, b"GET /health HTTP/1.1\r\nBad Header\r\n\r\n", 400)
    send_expect(target.addr, b"GET /health HTTP/3.0\r\n\r\n", 505)
    _, closed = send_expect(target.addr, b"GET health HTTP/1.1\r\n\r\n", 400)
    assert closed
    assert alive(target.addr)


def test_http2_preface(target):
    c = Conn(target.addr)
    c.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\x00\x00\x12\x04\x00\x00\x00\x00\x00")
    st, _, _ = c.response()
    assert st in (400, 505)
    assert c.is_closed()
    c.close()
    assert alive(target.addr)


def test_truncated_body_and_head(target):
    for data in (b"POST /cart HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"pro",
                 b"POST /cart HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc",
                 b"GET /heal"):
        c = Conn(target.addr)
        c.send(data)
        time.sleep(0.05)
        c.close()
    # Half-close after a partial body: the server closes without answering.
    c = Conn(target.addr)
    c.send(b"POST /cart HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    c.sock.shutdown(socket.SHUT_WR)
    assert c.is_closed() and c.buf == b""
    c.close()
    assert alive(target.addr)


def test_binary_garbage(target):
    rng = random.Random(1234)
    for i in range(30):
        data = bytes(rng.getrandbits(8) for _ in range(rng.choice([1, 17, 500, 5000, 40000])))
        c = Conn(target.addr)
        try:
            c.send(data)
            c.sock.shutdown(socket.SHUT_WR)
            assert c.is_closed(timeout=5)
        except OSError:  # the server may already have closed (RST on unread data)
            pass
        c.close()
    assert alive(target.addr)


def test_mutated_requests_fuzz(target):
    """Random byte flips, truncations and duplications of valid requests."""
    rng = random.Random(99)
    seeds = [build("GET", "/jobs/12?x=1"), build("POST", "/cart", b'{"product_id":1,"quantity":1}'),
             b"POST /cart HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
             build("GET", "/fault/status?code=201")]
    for i in range(300):
        d = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            op = rng.randint(0, 2)
            p = rng.randrange(len(d))
            if op == 0:
                d[p] = rng.getrandbits(8)
            elif op == 1:
                del d[p:p + rng.randint(1, 8)]
            else:
                d[p:p] = d[p:p + rng.randint(1, 8)]
        c = Conn(target.addr)
        try:
            c.send(bytes(d))
            c.sock.shutdown(socket.SHUT_WR)
            c.is_closed(timeout=5)
        except OSError:  # the server may already have closed (RST on unread data)
            pass
        c.close()
    assert alive(target.addr)


def test_pipelined(target):
    c = Conn(target.addr)
    c.send(build("GET", "/health") + build("GET", "/jobs/1") + build("POST", "/cart", b'{"product_id":2,"quantity":1}') +
           build("GET", "/fault/delay?ms=50") + build("GET", "/nope") + build("GET", "/health"))
    got = [c.response()[0] for _ in range(6)]
    assert got == [200, 200, 201, 200, 404, 200]
    # Byte-at-a-time delivery of two requests.
    for b in build("GET", "/health") + build("GET", "/products/3"):
        c.send(bytes([b]))
    assert [c.response()[0] for _ in range(2)] == [200, 200]
    c.close()


def test_http10_and_connection_close(target):
    c = Conn(target.addr)
    c.send(b"GET /health HTTP/1.0\r\n\r\n")
    st, h, _ = c.response()
    assert st == 200 and c.is_closed()
    c.close()
    c = Conn(target.addr)
    c.send(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    st, h, _ = c.response()
    assert st == 200 and h["connection"] == "keep-alive"
    assert c.request("GET", "/health")[0] == 200
    c.close()
    c = Conn(target.addr)
    st, h, _ = c.request("GET", "/jobs/3", headers={"Connection": "close"})
    assert st == 200 and h["connection"] == "close" and c.is_closed()
    c.close()


def test_expect_continue(target):
    c = Conn(target.addr)
    body = b'{"product_id":5,"quantity":2}'
    c.send(b"POST /cart HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
    st, _, _ = c.response()
    assert st == 100
    c.send(body)
    assert c.response()[0] == 201
    c.close()


def test_client_leaves_while_query_pending(make_target):
    t = make_target("--db-time", "profile=300", "--threads", "1")
    for _ in range(20):
        c = Conn(t.addr)
        c.send(build("GET", "/profile/5"))
        c.close()
    time.sleep(0.5)
    assert alive(t.addr)
    assert request(t.addr, "GET", "/profile/5")[0] == 200


def test_many_connections(make_target):
    """2,000 concurrent keep-alive connections (bench/target covers 10,000)."""
    t = make_target("--threads", "2")
    socks = []
    try:
        for i in range(2000):
            c = Conn(t.addr)
            socks.append(c)
        for c in socks[::50]:
            assert c.request("GET", "/health")[0] == 200
        for c in socks:
            c.send(build("GET", "/health"))
        for c in socks:
            assert c.response()[0] == 200
    finally:
        for c in socks:
            c.close()
    assert alive(t.addr)


def test_half_close_after_pipelined_requests(make_target):
    """The client sends requests (one waits for the database), then shuts
    down its side: every answer still arrives, then the server closes."""
    t = make_target("--db-time", "jobs=100")
    c = Conn(t.addr)
    c.send(build("GET", "/jobs/1") + build("GET", "/health") + build("GET", "/fault/delay?ms=50") +
           build("GET", "/products/2"))
    c.sock.shutdown(socket.SHUT_WR)
    assert [c.response()[0] for _ in range(4)] == [200, 200, 200, 200]
    assert c.is_closed()
    c.close()


# --idle-timeout: the server closes kept-alive connections left idle. Every
# wait below is an upper bound far above the timeout (300 ms), so a slow or
# loaded machine makes them pass later, never fail.

def closed_gracefully(sock, timeout=5):
    """True if the server ends the stream cleanly (FIN; over TLS with
    close_notify) within timeout; False on timeout; raises on a reset."""
    sock.settimeout(timeout)
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return True
    except socket.timeout:
        return False


def test_idle_keepalive_connection_closed_and_counted(make_target):
    t = make_target("--idle-timeout", "300ms", "--threads", "1")
    c = Conn(t.addr)
    assert c.request("GET", "/health")[0] == 200
    assert closed_gracefully(c.sock)
    c.close()
    assert t.stats()["idle_closed"] >= 1


def test_busy_connection_not_closed(make_target):
    t = make_target("--idle-timeout", "300ms")
    c = Conn(t.addr)
    end = time.monotonic() + 1.5
    n = 0
    # Each request restarts the idle period; the gaps stay far below it.
    while time.monotonic() < end:
        assert c.request("GET", "/health")[0] == 200
        n += 1
        time.sleep(0.1)
    assert c.request("GET", "/health")[0] == 200
    c.close()
    assert n >= 5


def test_long_request_is_not_idle(make_target):
    # A response that takes longer than the timeout is not idleness, and the
    # connection stays usable right after it.
    t = make_target("--idle-timeout", "300ms")
    c = Conn(t.addr)
    assert c.request("GET", "/fault/delay?ms=1000")[0] == 200
    assert c.request("GET", "/health")[0] == 200
    c.close()


def test_silent_connection_closed(make_target):
    t = make_target("--idle-timeout", "300ms")
    c = Conn(t.addr)
    assert closed_gracefully(c.sock)
    c.close()
    assert t.stats()["idle_closed"] >= 1


def test_stalled_request_head_closed(make_target):
    t = make_target("--idle-timeout", "300ms")
    c = Conn(t.addr)
    c.send(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # no blank line: the head never ends
    assert closed_gracefully(c.sock)
    c.close()
    assert t.stats()["idle_closed"] >= 1


def test_default_timeout_keeps_connection(target):
    c = Conn(target.addr)
    assert c.request("GET", "/health")[0] == 200
    assert not c.is_closed(timeout=1)
    assert c.request("GET", "/health")[0] == 200
    c.close()


def test_zero_means_never(make_target):
    t = make_target("--idle-timeout", "0")
    c = Conn(t.addr)
    assert c.request("GET", "/health")[0] == 200
    assert not c.is_closed(timeout=1)
    c.close()
    assert t.stats()["idle_closed"] == 0


def tls_target(make_target, *args):
    t = make_target("--tls", *args)
    line = t.proc.stdout.readline().strip()
    assert line.startswith("certificate: "), line
    return t, line.split(": ", 1)[1]


def test_idle_close_over_tls(make_target):
    import ssl
    t, cert = tls_target(make_target, "--idle-timeout", "300ms")
    host, port = t.addr.rsplit(":", 1)
    ctx = ssl.create_default_context(cafile=cert)
    # Ragged EOFs raise: recv returns b"" only after the server's close_notify.
    s = ctx.wrap_socket(socket.create_connection((host, int(port)), timeout=10),
                        server_hostname="localhost", suppress_ragged_eofs=False)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n")
    got = b""
    while b'{"status":"ok"}' not in got:
        got += s.recv(65536)
    assert closed_gracefully(s)
    s.close()
    # A handshake that never starts is idle too.
    raw = socket.create_connection((host, int(port)), timeout=10)
    assert closed_gracefully(raw)
    raw.close()


def test_strain_run_reconnects_after_idle_close(make_target, tmp_path):
    t = make_target("--idle-timeout", "300ms")
    plan = tmp_path / "plan.yaml"
    # The think time outlasts the timeout, so every reuse finds the
    # connection closed by the server.
    plan.write_text(f"target: {t.url}\n" + """modules:
  health:
    executor: {type: shared-iterations, vus: 2, iterations: 4}
    flow:
      - get: /health
        check: {status: 200}
      - think: 1s
""")
    out = tmp_path / "s.json"
    p = subprocess.run([STRAIN, "run", str(plan), "--quiet", "--summary-export", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    s = json.loads(out.read_text())
    assert s["errors"] == {}
    assert s["metrics"]["http_reqs"]["count"] == 4
    st = t.stats()
    assert st["routes"]["GET /health"]["statuses"] == {"200": 4}
    assert st["idle_closed"] >= 1


def test_idle_timeout_bad_value():
    p = subprocess.run([STRAIN, "target", "--idle-timeout", "nope"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 104 and "--idle-timeout" in p.stderr
    p = subprocess.run([STRAIN, "target", "--idle-timeout=1x"], capture_output=True,
                       text=True, timeout=10)
    assert p.returncode == 104 and "--idle-timeout" in p.stderr
    p = subprocess.run([STRAIN, "target", "--idle-timeout"], capture_output=True, text=True,
                       timeout=10)
    assert p.returncode == 2 and "--idle-timeout" in p.stderr


def test_flag_forms_and_exit_codes():
    def run(*a):
        return subprocess.run([STRAIN, "target", *a], capture_output=True, text=True, timeout=10)
    for args, rc, flag in [(("--threads=0",), 104, "--threads"), (("--db-pool=profile=x",), 104, "--db-pool"),
                           (("--db-jitter", "51"), 104, "--db-jitter"), (("--cache=nope",), 104, "--cache"),
                           (("--tls=1",), 2, "--tls"), (("--bogus=1",), 2, "--bogus"),
                           (("--db-time",), 2, "--db-time"), (("--cert", "x"), 2, "--cert"),
                           (("--client-ca=x",), 2, "--client-ca")]:
        r = run(*args)
        assert r.returncode == rc and flag in r.stderr, (args, r.returncode, r.stderr)
    assert run("stray").returncode == 2
    assert run("-h").returncode == 0


def test_flags_take_both_forms(make_target):
    t = make_target("--threads=1", "--db-slots", "8", "--db-pool=profile=3", "--db-time", "jobs=2.5ms",
                    "--db-jitter=0", "--cache=profile=100", "--idle-timeout=2s", "-q")
    db = t.stats()["db"]
    assert db["slots"] == 8 and db["modules"]["profile"]["pool"] == 3
    assert t.get("/profile/7")[0] == 200 and t.get("/profile/7")[0] == 200
    assert t.stats()["db"]["modules"]["profile"]["cache_hits"] == 1

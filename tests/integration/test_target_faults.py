"""`strain target`'s fault endpoints, each against raw sockets."""
import json
import socket
import threading
import time

from test_target_lib import Conn, request, timed_get


def alive(addr):
    return request(addr, "GET", "/health")[0] == 200


def test_delay(target):
    _, ttfb, status, _ = timed_get(target.addr, "/fault/delay?ms=300")
    assert status == 200 and ttfb >= 0.29
    assert request(target.addr, "GET", "/fault/delay?ms=0")[0] == 200
    assert request(target.addr, "GET", "/fault/delay?ms=-1")[0] == 400
    assert request(target.addr, "GET", "/fault/delay?ms=600001")[0] == 400


def test_status(target):
    for code in (200, 201, 302, 404, 418, 429, 500, 503, 599):
        st, _, body = request(target.addr, "GET", f"/fault/status?code={code}")
        assert st == code and json.loads(body)["status"] == code
    for code in (204, 304):
        c = Conn(target.addr)
        st, h, body = c.request("GET", f"/fault/status?code={code}")
        assert st == code and body == b"" and "content-length" not in h
        assert c.request("GET", "/health")[0] == 200  # framing intact on keep-alive
        c.close()
    assert request(target.addr, "GET", "/fault/status?code=600")[0] == 400
    assert request(target.addr, "GET", "/fault/status?code=99")[0] == 400


def test_status_1xx_is_interim_then_final(target):
    c = Conn(target.addr)
    c.send(b"GET /fault/status?code=103 HTTP/1.1\r\nHost: x\r\n\r\n")
    c.sock.settimeout(5)
    data = b""
    while b'"status":200}' not in data:
        chunk = c.sock.recv(65536)
        assert chunk, data
        data += chunk
    assert data.startswith(b"HTTP/1.1 103 "), data
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head == b"HTTP/1.1 103 Informational"
    assert rest.startswith(b"HTTP/1.1 200 OK\r\n")
    assert c.request("GET", "/health")[0] == 200  # framing intact on keep-alive
    c.close()


def test_reset(target):
    c = Conn(target.addr)
    c.send(b"GET /fault/reset HTTP/1.1\r\nHost: x\r\n\r\n")
    c.sock.settimeout(5)
    try:
        data = c.sock.recv(100)
        assert data == b"", data
        reset = False
    except ConnectionResetError:
        reset = True
    c.close()
    assert reset
    assert alive(target.addr)


def test_close_after_headers_and_partial_body(target):
    c = Conn(target.addr)
    c.send(b"GET /fault/close?after=headers HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.is_closed()
    assert c.buf.startswith(b"HTTP/1.1 200") and c.buf.endswith(b"\r\n\r\n")
    assert b"Content-Length: 1024" in c.buf
    c.close()
    c = Conn(target.addr)
    c.send(b"GET /fault/close?after=partial-body HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.is_closed()
    head, body = c.buf.split(b"\r\n\r\n", 1)
    assert len(body) == 512
    c.close()
    assert request(target.addr, "GET", "/fault/close?after=never")[0] == 400
    assert alive(target.addr)


def test_malformed(target):
    c = Conn(target.addr)
    c.send(b"GET /fault/malformed HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.is_closed()
    line = c.buf.split(b"\r\n", 1)[0]
    assert line.startswith(b"HTTP/1.1 ") and not line[9:12].isdigit()
    c.close()


def test_chunked(target):
    c = Conn(target.addr)
    st, h, body = c.request("GET", "/fault/chunked?chunks=5&size=100")
    assert st == 200 and h["transfer-encoding"] == "chunked" and len(body) == 500
    st, h, body = c.request("GET", "/fault/chunked?chunks=0")
    assert st == 200 and body == b""
    st, h, body = c.request("GET", "/fault/chunked?chunks=200&size=10000")
    assert len(body) == 2_000_000
    assert c.request("GET", "/health")[0] == 200
    c.close()
    assert request(target.addr, "GET", "/fault/chunked?size=0")[0] == 400


def test_bytes_large_streamed(target):
    n = 200 * 1024 * 1024
    c = Conn(target.addr, timeout=60)
    c.send(b"GET /fault/bytes?n=%d HTTP/1.1\r\nHost: x\r\n\r\n" % n)
    while b"\r\n\r\n" not in c.buf:
        c._fill()
    head, rest = c.buf.split(b"\r\n\r\n", 1)
    assert b"Content-Length: %d" % n in head
    got = len(rest)
    c.buf = b""
    while got < n:
        chunk = c.sock.recv(1 << 20)
        assert chunk
        got += len(chunk)
    assert got == n
    assert c.request("GET", "/health")[0] == 200  # keep-alive after the body
    c.close()


def test_bytes_client_leaves_early(target):
    c = Conn(target.addr)
    c.send(b"GET /fault/bytes?n=10000000000 HTTP/1.1\r\nHost: x\r\n\r\n")
    c._fill()
    c.close()
    time.sleep(0.2)
    assert alive(target.addr)


def test_slow_body(target):
    c = Conn(target.addr)
    t0 = time.monotonic()
    st, h, body = c.request("GET", "/fault/slow-body?bytes_per_s=400&n=200")
    took = time.monotonic() - t0
    assert st == 200 and len(body) == 200 and took >= 0.4
    c.close()
    assert request(target.addr, "GET", "/fault/slow-body?bytes_per_s=1&n=1000")[0] == 400
    assert request(target.addr, "GET", "/fault/slow-body?bytes_per_s=0")[0] == 400


def test_hang_until_client_leaves(target):
    target.reset_stats()
    c = Conn(target.addr)
    c.send(b"GET /fault/hang HTTP/1.1\r\nHost: x\r\n\r\n")
    assert not c.is_closed(timeout=1)
    assert c.buf == b""
    c.close()
    assert alive(target.addr)
    assert target.stats()["routes"]["fault/hang"]["statuses"] == {"hang": 1}


def test_headers(target):
    st, h, body = request(target.addr, "GET", "/fault/headers?n=50&size=100")
    assert st == 200
    fill = [k for k in h if k.startswith("x-fill-")]
    assert len(fill) == 50 and all(len(h[k]) == 100 for k in fill)
    st, h, _ = request(target.addr, "GET", "/fault/headers?n=1&size=60000")
    assert len(h["x-fill-0"]) == 60000
    assert request(target.addr, "GET", "/fault/headers?n=10000&size=60000")[0] == 400


def test_stall_pauses_everything(make_target):
    t = make_target("--threads", "2")
    stall = Conn(t.addr)
    t0 = time.monotonic()
    stall.send(b"GET /fault/stall?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n")
    # The stall starts when a worker reads that request; health checks on
    # fresh connections (whichever worker takes them) wait for its end.
    time.sleep(0.3)
    waits = [timed_get(t.addr, "/health")[1] for _ in range(3)]
    st, _, _ = stall.response()
    took = time.monotonic() - t0
    stall.close()
    assert st == 200 and took >= 1.49
    assert waits[0] >= 0.5, waits
    assert sum(waits) < took + 0.5  # one stall, not one per request
    assert alive(t.addr)


def test_random_mix_counts(target):
    target.reset_stats()
    n = 200
    outcomes = {"ok": 0, "500": 0, "reset": 0, "delay": 0}
    for _ in range(n):
        c = Conn(target.addr)
        c.send(b"GET /fault/random?status=20&reset=20&delay=20&delay_ms=1 HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            st, _, body = c.response()
            if st == 500:
                outcomes["500"] += 1
            else:
                outcomes["ok"] += 1
        except (ConnectionResetError, EOFError):
            outcomes["reset"] += 1
        c.close()
    s = target.stats()["routes"]["fault/random"]
    assert s["total"] == n
    assert s["statuses"].get("reset", 0) == outcomes["reset"]
    assert s["statuses"].get("500", 0) == outcomes["500"]
    # 20 % each: far outside these bounds only if the mix is broken.
    assert 10 <= outcomes["reset"] <= 80 and 10 <= outcomes["500"] <= 80
    assert request(target.addr, "GET", "/fault/random?status=60&reset=60")[0] == 400

"""`strain target` against bad, hostile and unusual input: it answers
correctly or closes cleanly, and keeps serving."""
import json
import random
import socket
import time

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

"""`strain target`: the four API modules, health, routing errors, stats."""
import json
import os
import signal
import subprocess

import pytest

from conftest import STRAIN, Target
from test_target_lib import Conn, request


def j(resp):
    status, _, body = resp
    return status, json.loads(body)


def test_first_line_and_graceful_sigint():
    p = subprocess.Popen([STRAIN, "target", "--listen", "127.0.0.1:0", "--threads", "2"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("listening on 127.0.0.1:")
        addr = line.split()[-1]
        assert request(addr, "GET", "/health")[0] == 200
        p.send_signal(signal.SIGINT)
        assert p.wait(timeout=10) == 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()


def test_cli_errors():
    def run(*a):
        return subprocess.run([STRAIN, "target", *a], capture_output=True, text=True, timeout=10)
    h = run("--help")
    assert h.returncode == 0 and "--db-pool" in h.stdout
    r = run("--bogus")
    assert r.returncode == 2 and "--bogus" in r.stderr
    for args, flag in [(("--threads", "0"), "--threads"), (("--db-pool", "nope=3"), "--db-pool"),
                       (("--db-pool", "profile=x"), "--db-pool"), (("--db-time", "jobs"), "--db-time"),
                       (("--cache", "profile=0"), "--cache"), (("--listen", "nonsense"), "--listen"),
                       (("--db-slots", "-1"), "--db-slots")]:
        r = run(*args)
        assert r.returncode == 104, (args, r.returncode, r.stderr)
        assert flag in r.stderr
    r = run("--threads")
    assert r.returncode == 2 and "--threads" in r.stderr


def test_health_keepalive_and_head(target):
    c = Conn(target.addr)
    for _ in range(3):
        assert j(c.request("GET", "/health")) == (200, {"status": "ok"})
    status, h, body = c.request("HEAD", "/health")
    assert status == 200 and body == b"" and int(h["content-length"]) > 0
    assert c.request("GET", "/health")[0] == 200
    c.close()


def test_jobs(target):
    s, page = j(request(target.addr, "GET", "/jobs?page=3&q=rust%20dev"))
    assert s == 200 and page["page"] == 3 and page["q"] == "rust dev" and len(page["results"]) == 20
    _, again = j(request(target.addr, "GET", "/jobs?page=3&q=rust%20dev"))
    assert again == page
    jid = page["results"][0]["id"]
    st, _, raw = request(target.addr, "GET", f"/jobs/{jid}")
    job = json.loads(raw)
    assert st == 200 and job["id"] == jid and job["title"] == page["results"][0]["title"]
    assert 500 <= len(raw) <= 4096
    assert request(target.addr, "GET", f"/jobs/{jid}")[2] == raw  # same id, same bytes
    assert request(target.addr, "GET", "/jobs/abc")[0] == 400
    assert request(target.addr, "GET", "/jobs/0")[0] == 404
    assert request(target.addr, "GET", "/jobs/99999999")[0] == 404
    assert request(target.addr, "GET", "/jobs?page=0")[0] == 400
    s, app = j(request(target.addr, "POST", "/jobs/7/apply", b'{"name":"Ana"}'))
    assert s == 201 and app["job_id"] == 7
    assert request(target.addr, "POST", "/jobs/7/apply", b"")[0] == 201
    assert request(target.addr, "POST", "/jobs/7/apply", b"{nope")[0] == 400


def test_products_cart_orders(target):
    s, page = j(request(target.addr, "GET", "/products?category=books&page=2"))
    assert s == 200 and len(page["results"]) == 20
    assert all(p["category"] == "books" for p in page["results"])
    s, none = j(request(target.addr, "GET", "/products?category=unicorns"))
    assert s == 200 and none["results"] == [] and none["total"] == 0
    st, _, raw = request(target.addr, "GET", "/products/123")
    assert st == 200 and json.loads(raw)["id"] == 123 and 300 <= len(raw) <= 4096
    assert request(target.addr, "GET", "/products/50001")[0] == 404
    s, cart = j(request(target.addr, "POST", "/cart", b'{"product_id": 123, "quantity": 2}',
                        {"Content-Type": "application/json"}))
    assert s == 201 and cart["items"][0]["id"] == 123 and cart["items"][0]["quantity"] == 2
    s, err = j(request(target.addr, "POST", "/cart", b'{"product_id": 123'))
    assert s == 400 and "invalid JSON" in err["error"]
    s, err = j(request(target.addr, "POST", "/cart", b'{"quantity": 1}'))
    assert s == 400 and "product_id" in err["error"]
    assert request(target.addr, "POST", "/cart", b'{"product_id": "x", "quantity": 1}')[0] == 400
    assert request(target.addr, "POST", "/cart", b'[1,2]')[0] == 400
    s, order = j(request(target.addr, "POST", "/orders", b'{"items":[{"product_id":1,"quantity":3}]}'))
    assert s == 201 and order["items"] == 1 and order["status"] == "confirmed"
    assert request(target.addr, "POST", "/orders", b'{"cart_id":"c-1"}')[0] == 201
    assert request(target.addr, "POST", "/orders", b'{}')[0] == 400
    assert request(target.addr, "GET", "/cart")[0] == 405


def test_notifications(target):
    s, n = j(request(target.addr, "GET", "/notifications?user=42"))
    assert s == 200 and n["user"] == 42 and 10 <= len(n["notifications"]) <= 25
    assert request(target.addr, "GET", "/notifications")[0] == 400
    assert request(target.addr, "GET", "/notifications?user=abc")[0] == 400
    s, r = j(request(target.addr, "POST", "/notifications/4201/read", b""))
    assert s == 200 and r == {"id": 4201, "read": True}


def test_profile_and_auth(target):
    s, login = j(request(target.addr, "POST", "/auth/login", b'{"user":"user42","password":"pw"}'))
    assert s == 200 and login["user"]["id"] == 42
    tok = login["token"]
    s, again = j(request(target.addr, "POST", "/auth/login", b'{"user":"user42","password":"pw"}'))
    assert again["token"] == tok  # deterministic from the user
    assert request(target.addr, "POST", "/auth/login", b'{"user":"x"}')[0] == 400
    st, h, _ = request(target.addr, "GET", "/profile/me")
    assert st == 401 and h["www-authenticate"] == "Bearer"
    assert request(target.addr, "GET", "/profile/me", headers={"Authorization": "Bearer junk"})[0] == 401
    bad = tok[:-1] + ("0" if tok[-1] != "0" else "1")
    assert request(target.addr, "GET", "/profile/me", headers={"Authorization": "Bearer " + bad})[0] == 401
    s, me = j(request(target.addr, "GET", "/profile/me", headers={"Authorization": "Bearer " + tok}))
    assert s == 200 and me["id"] == 42 and me["username"] == "user42"
    s, p = j(request(target.addr, "GET", "/profile/42"))
    assert s == 200 and p["name"] == me["name"]
    assert request(target.addr, "PUT", "/profile/42", b'{"bio":"hi"}')[0] == 401
    s, up = j(request(target.addr, "PUT", "/profile/42", b'{"bio":"hi"}',
                      {"Authorization": "Bearer " + tok}))
    assert s == 200 and up["bio"] == "hi"
    assert request(target.addr, "PUT", "/profile/42", b'{"bio":5}',
                   {"Authorization": "Bearer " + tok})[0] == 400
    assert request(target.addr, "DELETE", "/profile/42")[0] == 405
    assert request(target.addr, "GET", "/profile/abc")[0] == 400


def test_not_found_and_method(target):
    st, _, body = request(target.addr, "GET", "/nope")
    assert st == 404 and json.loads(body)["error"]
    st, h, _ = request(target.addr, "POST", "/jobs/1")
    assert st == 405 and h["allow"] == "GET, HEAD"
    assert request(target.addr, "GET", "/fault/nope")[0] == 404
    assert request(target.addr, "GET", "/jobs/")[0] == 200


def test_stats_exact(target):
    target.reset_stats()
    assert target.stats()["total"] == 0
    for _ in range(5):
        request(target.addr, "GET", "/health")
    for _ in range(3):
        request(target.addr, "GET", "/jobs/1")
    request(target.addr, "GET", "/jobs/x")
    request(target.addr, "GET", "/nope")
    request(target.addr, "GET", "/fault/status?code=503")
    c = Conn(target.addr)
    c.send(b"GET /fault/reset HTTP/1.1\r\nHost: x\r\n\r\n")
    assert c.is_closed()
    c.close()
    s = target.stats()
    assert s["total"] == 12
    assert s["statuses"] == {"200": 8, "400": 1, "404": 1, "503": 1, "reset": 1}
    r = s["routes"]
    assert r["GET /health"] == {"total": 5, "statuses": {"200": 5}}
    assert r["GET /jobs/{id}"] == {"total": 4, "statuses": {"200": 3, "400": 1}}
    assert r["unmatched"]["statuses"] == {"404": 1}
    assert r["fault/reset"]["statuses"] == {"reset": 1}
    assert "GET /__stats" not in r
    assert s["db"]["modules"]["jobs"]["queries"] >= 3
    target.reset_stats()
    assert target.stats()["total"] == 0
    request(target.addr, "GET", "/health")
    assert target.stats()["routes"] == {"GET /health": {"total": 1, "statuses": {"200": 1}}}


def test_stats_exact_across_threads(make_target):
    """Many connections spread over 2 workers: the sum is exact."""
    from concurrent.futures import ThreadPoolExecutor
    t = make_target("--threads", "2")
    t.reset_stats()

    def work(i):
        c = Conn(t.addr)
        for _ in range(25):
            assert c.request("GET", "/health")[0] == 200
        c.close()
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(work, range(16)))
    assert t.stats()["routes"]["GET /health"]["total"] == 400


def test_clean_shutdown_with_open_connections():
    """SIGTERM with hangs, streams, timers and queries in flight: exit 0 and
    nothing on stderr (under `make asan`, no leak or error report)."""
    from test_target_lib import build
    p = subprocess.Popen([STRAIN, "target", "--listen", "127.0.0.1:0", "--threads", "2",
                          "--cache", "profile", "--db-time", "profile=2000"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        addr = p.stdout.readline().split()[-1]
        open_conns = []
        for path in ("/fault/hang", "/fault/slow-body?bytes_per_s=10&n=100", "/fault/delay?ms=60000",
                     "/profile/3", "/fault/bytes?n=100000000000", "/jobs/1"):
            c = Conn(addr)
            c.send(build("GET", path))
            open_conns.append(c)
        c = Conn(addr)
        c.send(b"POST /cart HTTP/1.1\r\nContent-Length: 50\r\n\r\n{")  # half a body
        open_conns.append(c)
        for i in range(50):
            assert request(addr, "GET", f"/products/{i + 1}")[0] == 200
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=20)
        assert p.returncode == 0, err
        assert err == ""
        assert out.strip().endswith("stopped (SIGTERM)")
        for c in open_conns:
            c.close()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()

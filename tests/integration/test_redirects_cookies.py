"""Redirects and cookies against a real, independent server: Debian's nginx,
configured and started by this file on two free loopback ports (two server
blocks), answering with `return 301/302/303/307/308 URL;` chains — relative,
absolute-path, to the other port, to a name that does not resolve — and
`add_header Set-Cookie` with Path, Domain, Max-Age and Expires.

What strain claims is checked against nginx's own access log (one JSON
object per request): every hop of a chain is a line, the method and body
length that arrived after each kind of redirect, and the Cookie header each
request carried.

nginx missing is a failure, not a skip: scripts/deps.sh test installs it."""
import json
import os
import shutil
import signal
import socket
import subprocess
import textwrap
import time

import pytest

from nginx_lib import conf_head, free_ports
from conftest import run_strain

NGINX = os.environ.get("NGINX_BIN") or shutil.which("nginx") or "/usr/sbin/nginx"



def make_cert(d):
    """A self-signed certificate for 127.0.0.1 and localhost (its own CA)."""
    key, cert = os.path.join(d, "tls.key"), os.path.join(d, "tls.pem")
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-subj", "/CN=localhost", "-addext",
                        "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2", "-keyout", key, "-out",
                        cert], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return cert, key


def nginx_conf(d, a, b, c, cert, key):
    fields = {"port": "$server_port", "uri": "$request_uri", "method": "$request_method",
              "status": "$status", "req_len": "$request_length", "clen": "$content_length",
              "ctype": "$content_type", "cookie": "$http_cookie", "host": "$http_host",
              "reused": "$ssl_session_reused", "proto": "$ssl_protocol"}
    fmt = "{" + ",".join(f'"{k}":"{v}"' for k, v in fields.items()) + "}"
    return conf_head(d, fmt) + f"""    absolute_redirect off;
    server {{
        listen 127.0.0.1:{a};
        # A chain: absolute-path, relative, dot segments, another port
        # (same host), then back, then the final answer.
        location = /r/chain {{ return 301 /r/c2; }}
        location = /r/c2 {{ return 302 c3?q=1; }}
        location = /r/c3 {{ return 303 ./sub/../c4; }}
        location = /r/c4 {{ return 307 http://127.0.0.1:{b}/r/c5; }}
        location = /r/final {{ return 200 "final\\n"; }}
        # Methods and bodies through each kind.
        location = /p/301 {{ return 301 /p/dst?via=301; }}
        location = /p/302 {{ return 302 /p/dst?via=302; }}
        location = /p/303 {{ return 303 /p/dst?via=303; }}
        location = /p/307 {{ return 307 /p/dst?via=307; }}
        location = /p/308 {{ return 308 /p/dst?via=308; }}
        location = /p/dst {{ return 200 "dst\\n"; }}
        # Loops and places strain cannot go.
        location = /loop {{ return 302 /loop; }}
        location = /unknown {{ return 302 http://no-such-host.invalid/x; }}
        location = /ftp {{ return 302 ftp://127.0.0.1/x; }}
        location = /noloc {{ return 302; }}
        # Cookies.
        location = /c/setup {{ add_header Set-Cookie "s=1; Path=/c"; return 200 "ok\\n"; }}
        location = /c/x/set {{ add_header Set-Cookie "a=1; Path=/c/x; Max-Age=60"; return 200 "ok\\n"; }}
        location = /c/del {{ add_header Set-Cookie "a=gone; Path=/c/x; Max-Age=0"; return 200 "ok\\n"; }}
        location = /c/past {{
            add_header Set-Cookie "s=old; Path=/c; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
            return 200 "ok\\n";
        }}
        location = /c/evil {{ add_header Set-Cookie "e=1; Domain=example.com; Path=/"; return 200 "ok\\n"; }}
        location = /c/dom {{ add_header Set-Cookie "ip=1; Domain=127.0.0.1; Path=/c"; return 200 "ok\\n"; }}
        location = /c/login {{ add_header Set-Cookie "sid=abc; Path=/"; return 302 /c/home; }}
        # To https, on the third port.
        location = /tls/go {{ return 302 https://127.0.0.1:{c}/tls/x; }}
        location / {{ return 200 "page\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{b};
        location = /r/c5 {{ return 308 http://127.0.0.1:{a}/r/final; }}
        location / {{ return 200 "b\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{c} ssl;
        ssl_certificate {cert};
        ssl_certificate_key {key};
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /tls/x {{ add_header Set-Cookie "t=1; Secure; Path=/"; return 302 /tls/y; }}
        location / {{ return 200 "tls\\n"; }}
    }}
}}
"""


class Nginx:
    def __init__(self, d):
        self.d = str(d)
        os.makedirs(os.path.join(self.d, "tmp"), exist_ok=True)
        self.log = os.path.join(self.d, "access.log")
        self.cert, self.key = make_cert(self.d)
        last = ""
        for _ in range(5):
            self.a, self.b, self.c = free_ports(3)
            conf = os.path.join(self.d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(nginx_conf(self.d, self.a, self.b, self.c, self.cert, self.key))
            with open(os.path.join(self.d, "stderr.log"), "w") as err:
                self.proc = subprocess.Popen(
                    [NGINX, "-p", self.d + "/", "-c", conf, "-e", os.path.join(self.d, "error.log"),
                     "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=err)
            if self._wait_up():
                return
            self.proc.wait(timeout=10)
            with open(os.path.join(self.d, "stderr.log")) as err:
                last = err.read()
            if "Address already in use" not in last:
                break
        raise AssertionError(f"nginx did not start:\n{last}")

    def _wait_up(self):
        deadline = time.monotonic() + 15
        pending = [self.a, self.b, self.c]
        while pending:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", pending[0]), timeout=1).close()
                pending.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    return False
                time.sleep(0.05)
        return True

    def entries(self):
        with open(self.log) as f:
            return [json.loads(line) for line in f]

    def settle(self, n, timeout=5):
        """The log once it holds at least n lines (nginx logs just after answering)."""
        deadline = time.monotonic() + timeout
        while len(self.entries()) < n and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        return self.entries()

    def clear(self):
        open(self.log, "w").close()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    assert os.path.exists(NGINX), f"no nginx at {NGINX}: scripts/deps.sh test installs nginx-light"
    n = Nginx(tmp_path_factory.mktemp("nginx"))
    try:
        yield n
    finally:
        n.stop()


def run(tmp_path, *args, timeout=60):
    out = tmp_path / f"summary-{time.monotonic_ns()}.json"
    samples = tmp_path / f"samples-{time.monotonic_ns()}.json"
    p = run_strain("run", "--quiet", "--summary-export", str(out), "--out", f"json={samples}", *args,
                   timeout=timeout)
    assert out.exists(), f"no summary (rc {p.returncode}): {p.stderr}"
    return p, json.loads(out.read_text()), samples


def points(samples, metric="http_reqs"):
    res = []
    with open(samples) as f:
        for line in f:
            d = json.loads(line)
            if d.get("type") == "Point" and d["metric"] == metric:
                res.append(d["data"])
    return res


def plan(tmp_path, nginx, body):
    p = tmp_path / f"plan-{time.monotonic_ns()}.yaml"
    p.write_text(f"target: http://127.0.0.1:{nginx.a}\n" + textwrap.dedent(body))
    return str(p)


def by_uri(entries):
    out = {}
    for e in entries:
        out.setdefault(e["uri"], []).append(e)
    return out


# ---------------------------------------------------------------- redirects

def test_chain_every_hop_reconciles_with_the_log(nginx, tmp_path):
    nginx.clear()
    p, s, samples = run(tmp_path, "--url", f"http://127.0.0.1:{nginx.a}/r/chain", "--iterations", "20")
    assert p.returncode == 0, p.stderr
    log = nginx.settle(20 * 6)
    uris = [(e["port"], e["uri"]) for e in log]
    a, b = str(nginx.a), str(nginx.b)
    chain = [(a, "/r/chain"), (a, "/r/c2"), (a, "/r/c3?q=1"), (a, "/r/c4"), (b, "/r/c5"), (a, "/r/final")]
    # Every hop went where its Location says, in order, 20 times.
    assert uris == chain * 20
    # Each hop is its own sample; a request without a name of its own tags
    # each hop with that hop's URL (name and url), as k6 does.
    assert s["metrics"]["http_reqs"]["count"] == len(log) == 120
    pts = points(samples)
    got = sorted((pt["tags"]["status"], pt["tags"]["name"], pt["tags"]["url"]) for pt in pts)
    base_a, base_b = f"http://127.0.0.1:{nginx.a}", f"http://127.0.0.1:{nginx.b}"
    hops = [("301", "/r/chain"), ("302", "/r/c2"), ("303", "/r/c3?q=1"), ("307", "/r/c4"),
            ("308", None), ("200", "/r/final")]
    want = []
    for st, path in hops:
        u = base_b + "/r/c5" if path is None else base_a + path
        want += [(st, u, u)] * 20
    assert got == sorted(want)
    # 3xx are not failures (k6's expected range is 200-399).
    assert s["metrics"]["http_req_failed"]["passes"] == 0


def test_post_body_and_method_per_redirect_kind(nginx, tmp_path):
    nginx.clear()
    body = "x" * 100
    pl = plan(tmp_path, nginx, f"""
        modules:
          m:
            executor: {{type: per-vu-iterations, vus: 1, iterations: 1}}
            flow:
              - post: /p/301
                json: {{k: "{body}"}}
              - post: /p/302
                json: {{k: "{body}"}}
              - post: /p/303
                json: {{k: "{body}"}}
              - post: /p/307
                json: {{k: "{body}"}}
              - post: /p/308
                json: {{k: "{body}"}}
                check: {{status: 200}}
        """)
    p, s, samples = run(tmp_path, pl)
    assert p.returncode == 0, p.stderr
    log = by_uri(nginx.settle(10))
    jlen = str(len('{"k":"' + body + '"}'))
    for kind in ("301", "302", "303", "307", "308"):
        first, = log[f"/p/{kind}"]
        assert first["method"] == "POST" and first["clen"] == jlen
        hop, = log[f"/p/dst?via={kind}"]
        if kind in ("307", "308"):
            assert hop["method"] == "POST", hop
            assert hop["clen"] == jlen and hop["ctype"] == "application/json", hop
        else:
            assert hop["method"] == "GET", hop
            assert hop["clen"] == "" and hop["ctype"] == "", hop
    # The method tag follows what was sent.
    methods = sorted(pt["tags"]["method"] for pt in points(samples))
    assert methods == sorted(["POST"] * 5 + ["GET"] * 3 + ["POST"] * 2)
    assert s["metrics"]["checks"]["passes"] == 1


def test_too_many_redirects_is_classified(nginx, tmp_path):
    nginx.clear()
    p, s, samples = run(tmp_path, "--url", f"http://127.0.0.1:{nginx.a}/loop", "--iterations", "3",
                        "--max-redirects", "4")
    assert p.returncode == 0, p.stderr
    log = nginx.settle(15)
    # The first request and 4 redirects followed, per iteration: 5 lines.
    assert len(log) == 15 == s["metrics"]["http_reqs"]["count"]
    pts = points(samples)
    failed = [pt for pt in pts if pt["tags"].get("error_code")]
    assert len(failed) == 3 and {pt["tags"]["error_code"] for pt in failed} == {"1740"}
    assert {pt["tags"]["status"] for pt in failed} == {"302"}
    assert s["metrics"]["http_req_failed"]["passes"] == 3


def test_max_redirects_zero_returns_the_3xx(nginx, tmp_path):
    nginx.clear()
    p, s, samples = run(tmp_path, "--url", f"http://127.0.0.1:{nginx.a}/r/chain", "--iterations", "5",
                        "--max-redirects", "0")
    assert p.returncode == 0, p.stderr
    log = nginx.settle(5)
    assert [e["uri"] for e in log] == ["/r/chain"] * 5
    assert {pt["tags"]["status"] for pt in points(samples)} == {"301"}
    assert s["metrics"]["http_req_failed"]["passes"] == 0


def test_per_request_max_redirects_and_defaults(nginx, tmp_path):
    nginx.clear()
    pl = plan(tmp_path, nginx, """
        defaults:
          max_redirects: 1
        modules:
          m:
            executor: {type: per-vu-iterations, vus: 1, iterations: 1}
            flow:
              - get: /r/chain
                name: capped
              - get: /r/chain
                name: full
                max_redirects: 10
        """)
    p, s, samples = run(tmp_path, pl)
    assert p.returncode == 0, p.stderr
    log = nginx.settle(2 + 6)
    assert [e["uri"] for e in log][:2] == ["/r/chain", "/r/c2"]
    assert len(log) == 8
    codes = {pt["tags"]["name"]: pt["tags"].get("error_code") for pt in points(samples)
             if pt["tags"]["status"] == "302"}
    assert codes == {"capped": "1740", "full": None}
    # A request with a name keeps it on every hop; one without tags each hop
    # after the first with the hop's URL.
    nl = plan(tmp_path, nginx, """
        modules:
          m:
            executor: {type: per-vu-iterations, vus: 1, iterations: 1}
            flow:
              - get: /p/307
        """)
    p2, s2, samples2 = run(tmp_path, nl)
    assert sorted(pt["tags"]["name"] for pt in points(samples2)) == [
        "/p/307", f"http://127.0.0.1:{nginx.a}/p/dst?via=307"]
    assert sorted(pt["tags"]["name"] for pt in points(samples)) == ["capped"] * 2 + ["full"] * 6


def test_locations_strain_cannot_follow(nginx, tmp_path):
    nginx.clear()
    pl = plan(tmp_path, nginx, """
        modules:
          m:
            executor: {type: per-vu-iterations, vus: 1, iterations: 1}
            flow:
              - get: /unknown
                name: unknown
              - get: /ftp
                name: ftp
              - get: /noloc
                name: noloc
        """)
    p, s, samples = run(tmp_path, pl)
    assert p.returncode == 0, p.stderr
    assert len(nginx.settle(3)) == 3
    got = {pt["tags"]["name"]: (pt["tags"]["status"], pt["tags"].get("error_code")) for pt in points(samples)}
    # A name no request names is looked up during the run (the resolver's
    # thread; the VU waits): one that does not resolve fails the hop with
    # k6's 1101 before anything is sent. Another scheme is 1741. A 3xx
    # without Location is a response like any other.
    assert got == {"unknown": ("0", "1101"), "ftp": ("302", "1741"), "noloc": ("302", None)}, got


def test_redirect_to_https_resumes_that_endpoints_session(nginx, tmp_path):
    nginx.clear()
    p, s, samples = run(tmp_path, "--url", f"http://127.0.0.1:{nginx.a}/tls/go", "--iterations", "4",
                        "--cacert", nginx.cert, "--no-cookies-reset")
    assert p.returncode == 0, p.stderr
    log = nginx.settle(12)
    assert [(e["port"], e["uri"]) for e in log] == [(str(nginx.a), "/tls/go"), (str(nginx.c), "/tls/x"),
                                                    (str(nginx.c), "/tls/y")] * 4
    tls = [e for e in log if e["port"] == str(nginx.c)]
    assert all(e["proto"].startswith("TLSv1") for e in tls), tls
    # Each iteration's first request goes back to the plain endpoint, so the
    # https one opens a new connection each time: from the second on, it
    # resumes the session kept for that endpoint. The relative hop stays on
    # the kept-alive TLS connection.
    assert [e["reused"] for e in tls[0::2]] == [".", "r", "r", "r"], tls
    # A Secure cookie set over https goes back over https only (the jar is
    # kept across iterations here).
    assert [e["cookie"] for e in tls[1::2]] == ["t=1"] * 4
    assert [e["cookie"] for e in tls[0::2]] == ["", "t=1", "t=1", "t=1"]
    assert [e["cookie"] for e in log if e["port"] == str(nginx.a)] == [""] * 4
    tv = {pt["tags"].get("tls_version") for pt in points(samples) if pt["tags"]["status"] in ("200",)}
    assert tv and None not in tv


# ---------------------------------------------------------------- cookies

COOKIE_FLOW = """
    modules:
      m:
        executor: {{type: per-vu-iterations, vus: 1, iterations: 2}}
        setup:
          - get: /c/setup
        flow:
          - get: /c/x/page?step=1
          - get: /c/x/set?step=2
          - get: /c/x/page?step=3
          - get: /c/y/page?step=4
          - get: http://127.0.0.1:{b}/c/x/page?step=5
          - get: http://localhost:{a}/c/x/page?step=6
          - get: /c/evil?step=7
          - get: /c/dom?step=8
          - get: /other?step=9
          - get: /c/del?step=10
          - get: /c/x/page?step=11
          - get: /c/past?step=12
          - get: /c/x/page?step=13
          - get: /c/login?step=14
            extract:
              sid: {{cookie: sid}}
            check:
              cookie: {{sid: abc}}
          - get: /echo/{{{{sid}}}}?step=15
            cookies: {{extra: "v{{{{iter}}}}"}}
"""


def cookies_per_step(log):
    """{(iteration, step): Cookie header}, iterations counted from step 1's lines."""
    out, it = {}, 0
    for e in log:
        if "step=" not in e["uri"]:
            continue
        step = int(e["uri"].split("step=")[1])
        if step == 1:
            it += 1
        out[(it, step)] = e["cookie"]
    return out


def test_cookie_jar_as_rfc_6265_and_the_reset_say(nginx, tmp_path):
    nginx.clear()
    pl = plan(tmp_path, nginx, COOKIE_FLOW.format(a=nginx.a, b=nginx.b))
    p, s, samples = run(tmp_path, pl)
    assert p.returncode == 0, p.stderr
    log = nginx.settle(1 + 2 * 16)
    byu = by_uri(log)
    assert byu["/c/setup"][0]["cookie"] == ""
    got = cookies_per_step(log)
    want = {}
    for it in (1, 2):
        # Setup's cookie reaches the first iteration only: the jar is emptied
        # when each iteration starts (k6's default).
        s_ = "s=1" if it == 1 else ""

        def j(*c):
            return "; ".join(x for x in c if x)
        want[(it, 1)] = s_
        want[(it, 2)] = s_
        # Longer path first (/c/x before /c).
        want[(it, 3)] = j("a=1", s_)
        want[(it, 4)] = s_
        # Cookies are not port-specific: the other port gets them too.
        want[(it, 5)] = j("a=1", s_)
        # Host-only cookies of 127.0.0.1 never go to localhost.
        want[(it, 6)] = ""
        want[(it, 7)] = j(s_)
        want[(it, 8)] = j(s_)
        # Domain=example.com was refused; ip's Path=/c keeps it off /other.
        want[(it, 9)] = ""
        # Same path length: creation order (s in setup, before ip).
        want[(it, 10)] = j(s_, "ip=1")
        # Max-Age=0 deleted a.
        want[(it, 11)] = j(s_, "ip=1")
        want[(it, 12)] = j(s_, "ip=1")
        # An Expires in the past deleted s.
        want[(it, 13)] = "ip=1"
        want[(it, 14)] = "ip=1"
        # The login's Set-Cookie came with its 302; the cookies: map joins
        # the jar's cookies, after them.
        want[(it, 15)] = f"sid=abc; extra=v{it - 1}"
    for k in sorted(want):
        assert got.get(k) == want[k], (k, got.get(k), want[k])
    # The redirect of the login carried the cookie it had just received.
    assert [e["cookie"] for e in byu["/c/home"]] == ["ip=1; sid=abc"] * 2
    # The extraction read the jar: /echo/abc.
    assert len(byu["/echo/abc?step=15"]) == 2
    assert s["metrics"]["checks"]["passes"] == 2 and s["metrics"]["checks"]["fails"] == 0


def test_no_cookies_reset_keeps_the_jar(nginx, tmp_path):
    nginx.clear()
    pl = plan(tmp_path, nginx, """
        defaults:
          no_cookies_reset: true
        modules:
          m:
            executor: {type: per-vu-iterations, vus: 1, iterations: 3}
            setup:
              - get: /c/setup
            flow:
              - get: /c/x/page?step=1
        """)
    p, s, samples = run(tmp_path, pl)
    assert p.returncode == 0, p.stderr
    log = nginx.settle(4)
    assert [e["cookie"] for e in log if "step=" in e["uri"]] == ["s=1"] * 3


def test_quick_mode_cookie_flags(nginx, tmp_path):
    # --no-cookies-reset: the cookie the first iteration got is sent by the next ones.
    nginx.clear()
    p, s, _ = run(tmp_path, "--url", f"http://127.0.0.1:{nginx.a}/c/setup", "--iterations", "3",
                  "--no-cookies-reset")
    assert p.returncode == 0, p.stderr
    assert [e["cookie"] for e in nginx.settle(3)] == ["", "s=1", "s=1"]
    nginx.clear()
    p, s, _ = run(tmp_path, "--url", f"http://127.0.0.1:{nginx.a}/c/setup", "--iterations", "3")
    assert p.returncode == 0, p.stderr
    assert [e["cookie"] for e in nginx.settle(3)] == ["", "", ""]


def test_plan_errors_name_the_place(nginx, tmp_path):
    pl = plan(tmp_path, nginx, """
        modules:
          m:
            executor: {type: per-vu-iterations, vus: 1, iterations: 1}
            flow:
              - get: /x
                cookies: {"a b": 1}
              - get: /x
                cookies: {a: "semi;colon"}
              - get: /x
                max_redirects: -1
              - get: /x
                headers: {Cookie: "a=1"}
                cookies: {b: 2}
        """)
    p = run_strain("run", pl, timeout=30)
    assert p.returncode == 104, p.stderr
    assert ":8:" in p.stderr and "cookie name" in p.stderr
    assert ":10:" in p.stderr and "cookie-octets" in p.stderr
    assert ":12:" in p.stderr and "max_redirects" in p.stderr
    assert ":15:" in p.stderr and "one place" in p.stderr

"""Redirects to host names no request of the plan names, looked up during
the run by the resolver's thread while the hop's VU waits: against Debian's
nginx (`return 302 http://NAME:PORT/...`), dnsmasq answering the names
(several addresses, each a `strain target`), a `hosts:` pin, a name that
does not resolve, a DNS server that never answers, and tinyproxy, which
the hop must go through.

Counts are reconciled with what every peer saw: nginx's access log, each
target's /__stats, tinyproxy's log of request lines."""
import json
import os
import socket
import subprocess
import textwrap
import time

import pytest

from nginx_lib import conf_head
from conftest import STRAIN
from test_dns_net import Dnsmasq, Target, Tinyproxy, clean_env, free_port
from test_redirects_cookies import NGINX, make_cert

ASAN_OPTS = {"ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "")}


def nginx_conf(d, a, c, names):
    fmt = '{"port":"$server_port","uri":"$request_uri","host":"$http_host"}'
    routes = "\n".join(f"        location = /to/{k} {{ return 302 {v}; }}" for k, v in names.items())
    return conf_head(d, fmt) + f"""    server {{
        listen 127.0.0.1:{a};
{routes}
        location / {{ return 200 "landed\\n"; }}
    }}
    server {{
        listen 127.0.0.1:{c} ssl;
        ssl_certificate {d}/tls.pem;
        ssl_certificate_key {d}/tls.key;
        location / {{ return 200 "tls\\n"; }}
    }}
}}
"""


class Nginx:
    """nginx on two free ports (plain a, TLS c) answering /to/KEY with a
    302 to names[KEY] (a function of a and c)."""

    def __init__(self, d, names):
        self.d = str(d)
        os.makedirs(os.path.join(self.d, "tmp"), exist_ok=True)
        self.log = os.path.join(self.d, "access.log")
        self.cert, _ = make_cert(self.d)
        self.proc = None
        for _ in range(5):
            self.a, self.c = free_port(), free_port()
            conf = os.path.join(self.d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(nginx_conf(self.d, self.a, self.c, names(self.a, self.c)))
            self.proc = subprocess.Popen([NGINX, "-p", self.d + "/", "-c", conf, "-e",
                                          os.path.join(self.d, "error.log"), "-g", "daemon off;"],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._up():
                return
            self.stop()
        raise AssertionError("nginx did not start")

    def _up(self):
        deadline = time.monotonic() + 15
        for port in (self.a, self.c):
            while True:
                if self.proc.poll() is not None:
                    return False
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        return False
                    time.sleep(0.05)
        return True

    def entries(self, n):
        """The access log once it holds n lines (nginx logs just after answering)."""
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with open(self.log) as f:
                lines = [json.loads(x) for x in f]
            if len(lines) >= n:
                break
            time.sleep(0.05)
        time.sleep(0.1)
        with open(self.log) as f:
            return [json.loads(x) for x in f]

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def peers(tmp_path):
    """Everything a test starts, stopped after it."""
    started = []
    yield started
    for p in reversed(started):
        p.stop()


def run(tmp_path, plan_text, *args, timeout=90):
    """strain run on plan_text: (CompletedProcess, summary, http_reqs samples' tags)."""
    plan = tmp_path / f"plan-{time.monotonic_ns()}.yaml"
    plan.write_text(textwrap.dedent(plan_text))
    out = tmp_path / f"summary-{time.monotonic_ns()}.json"
    samples = tmp_path / f"samples-{time.monotonic_ns()}.json"
    p = subprocess.run([STRAIN, "run", "--quiet", "--summary-export", str(out), "--out", f"json={samples}",
                        str(plan), *args], capture_output=True, text=True, timeout=timeout,
                       env=clean_env(**ASAN_OPTS))
    assert out.exists(), f"no summary (rc {p.returncode}): {p.stderr}"
    tags = []
    with open(samples) as f:
        for line in f:
            d = json.loads(line)
            if d.get("type") == "Point" and d["metric"] == "http_reqs":
                tags.append(d["data"]["tags"])
    return p, json.loads(out.read_text()), tags


def by_url(tags):
    got = {}
    for t in tags:
        key = (t["url"], t["status"], t.get("error_code"))
        got[key] = got.get(key, 0) + 1
    return got


def test_hop_to_a_name_served_by_dnsmasq_round_robin(tmp_path, peers):
    """svc.test has three addresses (dnsmasq), each a strain target: the hops
    look it up once, during the run, and roundRobin spreads them over all."""
    ts = []
    port = free_port()
    for a in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
        ts.append(Target(a, port))
        peers.append(ts[-1])
    d = Dnsmasq(tmp_path, ["127.0.0.2 svc.test", "127.0.0.3 svc.test", "127.0.0.4 svc.test"])
    peers.append(d)
    ng = Nginx(tmp_path / "nginx", lambda a, c: {"svc": f"http://svc.test:{port}/health"})
    peers.append(ng)
    p, s, tags = run(tmp_path, f"""
        target: http://127.0.0.1:{ng.a}
        dns: {{server: "{d.server}", select: roundRobin, ttl: inf}}
        modules:
          m:
            executor: {{type: shared-iterations, vus: 6, iterations: 90}}
            flow:
              - get: /to/svc
        """, "--threads", "1")
    assert p.returncode == 0, p.stderr
    got = by_url(tags)
    hop = f"http://svc.test:{port}/health"
    assert got == {(f"http://127.0.0.1:{ng.a}/to/svc", "302", None): 90, (hop, "200", None): 90}, got
    seen = [t.total() for t in ts]
    # What strain counts is what the servers saw; every address has load
    # (the VU's connection alternates endpoints: a new one, a turn, per hop).
    assert sum(seen) == 90 and all(n >= 20 for n in seen), seen
    assert len(ng.entries(90)) == 90


def test_hop_to_a_pinned_name_and_to_one_that_does_not_resolve(tmp_path, peers):
    """pinned.test is pinned by `hosts:` (never asked of DNS); missing.test
    is not in dnsmasq's file: its hops fail with 1101, nothing sent, and the
    run completes."""
    t = Target("127.0.0.5", 0)
    peers.append(t)
    # Authoritative for .test: a name not in its file is NXDOMAIN.
    d = Dnsmasq(tmp_path, ["127.0.0.9 other.test"], extra=("--local=/test/",))
    peers.append(d)
    ng = Nginx(tmp_path / "nginx", lambda a, c: {"pinned": f"http://pinned.test:{t.port}/health",
                                                 "missing": f"http://missing.test:{t.port}/health"})
    peers.append(ng)
    p, s, tags = run(tmp_path, f"""
        target: http://127.0.0.1:{ng.a}
        dns: {{server: "{d.server}"}}
        hosts:
          pinned.test: 127.0.0.5
        modules:
          m:
            executor: {{type: shared-iterations, vus: 3, iterations: 12}}
            flow:
              - get: /to/pinned
              - get: /to/missing
        """)
    assert p.returncode == 0, p.stderr
    got = by_url(tags)
    assert got == {
        (f"http://127.0.0.1:{ng.a}/to/pinned", "302", None): 12,
        (f"http://pinned.test:{t.port}/health", "200", None): 12,
        (f"http://127.0.0.1:{ng.a}/to/missing", "302", None): 12,
        (f"http://missing.test:{t.port}/health", "0", "1101"): 12,
    }, got
    assert t.total() == 12
    assert len(ng.entries(24)) == 24
    assert s["metrics"]["iterations"]["count"] == 12


def test_hop_whose_lookup_never_answers_times_out(tmp_path, peers):
    """A DNS server that never answers: the parked hop still ends at the
    request's timeout (1050), and the run ends without waiting for the
    lookup (the system resolver would try for many seconds)."""
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind(("127.0.0.1", 0))
    try:
        ng = Nginx(tmp_path / "nginx", lambda a, c: {"mute": "http://mute.test:9/x"})
        peers.append(ng)
        p, s, tags = run(tmp_path, f"""
            target: http://127.0.0.1:{ng.a}
            dns: {{server: "127.0.0.1:{dns.getsockname()[1]}"}}
            defaults:
              timeout: 1s
            modules:
              m:
                executor: {{type: per-vu-iterations, vus: 2, iterations: 1}}
                flow:
                  - get: /to/mute
            """, timeout=30)
    finally:
        dns.close()
    assert p.returncode == 0, p.stderr
    got = by_url(tags)
    assert got == {(f"http://127.0.0.1:{ng.a}/to/mute", "302", None): 2,
                   ("http://mute.test:9/x", "0", "1050"): 2}, got


def test_hop_to_a_new_name_goes_through_the_proxy(tmp_path, peers):
    """Behind tinyproxy, a hop to a name strain never resolves (localhost,
    which no request names) goes through the proxy — the proxy resolves it —
    and an https:// one through a CONNECT tunnel."""
    ng = Nginx(tmp_path / "nginx", lambda a, c: {"plain": f"http://localhost:{a}/landed",
                                                 "tls": f"https://localhost:{c}/secure"})
    peers.append(ng)
    px = Tinyproxy(tmp_path, ng.c)
    peers.append(px)
    p, s, tags = run(tmp_path, f"""
        target: http://127.0.0.1:{ng.a}
        proxy: {{http: "{px.url}", https: "{px.url}"}}
        modules:
          m:
            executor: {{type: shared-iterations, vus: 2, iterations: 6}}
            flow:
              - get: /to/plain
                headers: {{Connection: close}}
              - get: /to/tls
                headers: {{Connection: close}}
        """, "--cacert", ng.cert)
    assert p.returncode == 0, p.stderr
    got = by_url(tags)
    assert got == {
        (f"http://127.0.0.1:{ng.a}/to/plain", "302", None): 6,
        (f"http://localhost:{ng.a}/landed", "200", None): 6,
        (f"http://127.0.0.1:{ng.a}/to/tls", "302", None): 6,
        (f"https://localhost:{ng.c}/secure", "200", None): 6,
    }, got
    assert px.requests(f"GET http://localhost:{ng.a}/landed") == 6
    assert px.requests(f"GET http://127.0.0.1:{ng.a}/to/") == 12
    assert px.requests(f"CONNECT localhost:{ng.c}") >= 1
    log = ng.entries(24)
    assert sum(e["uri"] == "/landed" and e["host"] == f"localhost:{ng.a}" for e in log) == 6
    assert sum(e["uri"] == "/secure" for e in log) == 6

"""DNS that follows the service, source addresses and proxies, against real
peers started here: Debian's dnsmasq (a DNS server answering from a hosts
file this test writes and rewrites), several `strain target`s on loopback
addresses 127.0.0.2-127.0.0.5, a small Python server that records each
client's address, and Debian's tinyproxy (HTTP forwarding and CONNECT).

What strain claims is checked against what the peers saw: every target's
/__stats, the Python server's peer list, tinyproxy's log of request lines.
dnsmasq or tinyproxy missing is a failure, not a skip: scripts/deps.sh test
installs them."""
import http.server
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import threading
import time
import urllib.request

import pytest

from conftest import STRAIN, count

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
TINYPROXY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy")

# Straight to the peers, whatever proxy the test's environment names.
DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
    env.update(extra)
    return env


def run(tmp_path, *args, env=None, timeout=60):
    """strain run --quiet --summary-export ARGS: (CompletedProcess, summary or None)."""
    out = tmp_path / f"summary-{time.monotonic_ns()}.json"
    p = subprocess.run([STRAIN, "run", "--quiet", "--summary-export", str(out), *args], capture_output=True,
                       text=True, timeout=timeout, env=env or clean_env())
    return p, (json.loads(out.read_text()) if out.exists() else None)


def free_port(addr="127.0.0.1", kind=socket.SOCK_STREAM):
    s = socket.socket(socket.AF_INET, kind)
    s.bind((addr, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def free_udp_tcp_port():
    """A loopback port free now for both TCP and UDP (a DNS server takes both)."""
    for _ in range(50):
        port = free_port()
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            u.close()
    raise RuntimeError("no port free for both TCP and UDP")


def wait_for(pred, what, timeout=15, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Target:
    """`strain target` on ADDR:PORT (plain, or --tls)."""

    def __init__(self, addr, port, tls=False):
        args = [STRAIN, "target", "--listen", f"{addr}:{port}", "--threads", "1", "--quiet"]
        self.proc = subprocess.Popen(args + (["--tls"] if tls else []), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        if not line:
            raise RuntimeError(f"strain target on {addr}:{port} did not start: {self.proc.stderr.read()}")
        self.addr = line.split()[-1]
        self.port = int(self.addr.rsplit(":", 1)[1])
        self.cert = self.proc.stdout.readline().split()[-1] if tls else None
        self.url = ("https://" if tls else "http://") + self.addr

    def stats(self):
        if self.cert:
            ctx = ssl.create_default_context(cafile=self.cert)
            with urllib.request.urlopen(self.url + "/__stats", timeout=10, context=ctx) as r:
                return json.loads(r.read())
        with DIRECT.open(self.url + "/__stats", timeout=10) as r:
            return json.loads(r.read())

    def total(self):
        return self.stats()["total"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def targets():
    """targets(addrs): one strain target on each address, all on one port."""
    started = []

    def make(addrs, tls=False):
        for _ in range(5):
            port = free_port()
            try:
                ts = []
                for a in addrs:
                    ts.append(Target(a, port, tls))
                    started.append(ts[-1])
                return ts
            except RuntimeError:
                for t in ts:
                    t.stop()
        raise RuntimeError("no port free on every address")
    yield make
    for t in started:
        t.stop()


class Dnsmasq:
    """dnsmasq on 127.0.0.1:PORT (UDP and TCP), answering only from a hosts
    file (no upstream, no /etc/hosts)."""

    def __init__(self, tmp_path, lines, extra=()):
        self.hosts = tmp_path / "dns-hosts"
        self.log = tmp_path / "dnsmasq.log"
        self.write(lines)
        self.port = free_udp_tcp_port()
        self.proc = subprocess.Popen(
            [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", f"--port={self.port}",
             "--listen-address=127.0.0.1", "--bind-interfaces", "--no-resolv", "--no-hosts",
             f"--addn-hosts={self.hosts}", "--pid-file=", "--log-facility=-", "--user=root", "--group=root",
             *extra],
            stdout=open(self.log, "w"), stderr=subprocess.STDOUT)
        try:
            wait_for(lambda: self.reads() >= 1, "dnsmasq to read its hosts file", proc=self.proc)
        except AssertionError:
            self.stop()
            raise AssertionError(f"dnsmasq did not start: {self.log.read_text()}")
        self.server = f"127.0.0.1:{self.port}"

    def write(self, lines):
        tmp = self.hosts.with_suffix(".new")
        tmp.write_text("".join(line + "\n" for line in lines))
        os.replace(tmp, self.hosts)

    def reads(self):
        return self.log.read_text().count(f"read {self.hosts}") if self.log.exists() else 0

    def reload(self, lines):
        before = self.reads()
        self.write(lines)
        self.proc.send_signal(signal.SIGHUP)
        wait_for(lambda: self.reads() > before, "dnsmasq to read its hosts file again", proc=self.proc)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def dnsmasq(tmp_path):
    started = []

    def make(lines):
        d = Dnsmasq(tmp_path, lines)
        started.append(d)
        return d
    yield make
    for d in started:
        d.stop()


THREE = ["127.0.0.2 svc.test", "127.0.0.3 svc.test", "127.0.0.4 svc.test"]


# ------------------------------------------------------------------ DNS


def test_round_robin_spreads_over_every_address(tmp_path, targets, dnsmasq):
    ts = targets(["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    d = dnsmasq(THREE)
    p, s = run(tmp_path, "--url", f"http://svc.test:{ts[0].port}/health", "--dns",
               f"server={d.server},select=roundRobin", "--vus", "3", "--threads", "1", "-i", "300",
               "--no-connection-reuse")
    assert p.returncode == 0, p.stderr
    seen = [t.total() for t in ts]
    assert sum(seen) == count(s, "http_reqs") == 300, seen
    # One view, one new connection per request: strictly in turn.
    assert all(n >= 75 for n in seen), seen
    assert count(s, "http_req_failed", "passes") == 0


def test_select_first_sends_everything_to_one(tmp_path, targets, dnsmasq):
    ts = targets(["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    d = dnsmasq(THREE)
    p, s = run(tmp_path, "--url", f"http://svc.test:{ts[0].port}/health", "--dns",
               f"server={d.server},select=first", "--vus", "3", "-i", "60", "--no-connection-reuse")
    assert p.returncode == 0, p.stderr
    seen = sorted(t.total() for t in ts)
    assert seen == [0, 0, 60], seen
    assert count(s, "http_reqs") == 60


def test_load_moves_when_the_answer_changes(tmp_path, targets, dnsmasq):
    """After the name's answer changes, and within its ttl (1s), new
    connections go to the new address only; the run is bounded (8s at 200
    requests/s) and only "it moved within the run" is asserted in time."""
    ts = targets(["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"])
    old, new = ts[:3], ts[3]
    d = dnsmasq(THREE)
    out = tmp_path / "moved.json"
    proc = subprocess.Popen([STRAIN, "run", "--quiet", "--summary-export", str(out), "--url",
                             f"http://svc.test:{new.port}/health", "--dns",
                             f"server={d.server},ttl=1s,select=roundRobin", "--rate", "200", "--vus", "4",
                             "--duration", "8s", "--no-connection-reuse"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_env())
    try:
        wait_for(lambda: sum(t.total() for t in old) >= 100, "load on the first three addresses", proc=proc)
        assert new.total() == 0
        d.reload(["127.0.0.5 svc.test"])
        wait_for(lambda: new.total() > 0, "load on the new address", timeout=7, proc=proc)
        first = new.total()
        # Past any connection opened just before the change.
        wait_for(lambda: new.total() >= first + 20, "more load on the new address", timeout=7, proc=proc)
        before = [t.total() for t in old]
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    s = json.loads(out.read_text())
    after = [t.total() for t in old]
    assert after == before, (before, after)
    assert all(n > 0 for n in before), before
    assert new.total() > first + 20
    assert sum(after) + new.total() == count(s, "http_reqs")


def test_only_ipv6_with_ipv4_answers_is_no_such_host(tmp_path, targets, dnsmasq):
    ts = targets(["127.0.0.2"])
    d = dnsmasq(["127.0.0.2 svc.test"])
    p, s = run(tmp_path, "--url", f"http://svc.test:{ts[0].port}/health", "--dns",
               f"server={d.server},policy=onlyIPv6", "-i", "3")
    assert p.returncode == 0, p.stderr
    assert "cannot resolve svc.test: no address of the family dns.policy allows" in p.stderr, p.stderr
    assert s["errors"]["1101"]["count"] == 3
    assert count(s, "http_req_failed", "passes") == 3
    assert ts[0].total() == 0


def test_dns_plan_keys(tmp_path, targets, dnsmasq):
    ts = targets(["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    d = dnsmasq(THREE)
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"""target: http://svc.test:{ts[0].port}
dns: {{ttl: inf, select: roundRobin, policy: preferIPv4, server: "{d.server}"}}
modules:
  m:
    executor: {{type: shared-iterations, vus: 3, iterations: 90}}
    flow:
      - get: /health
        headers: {{Connection: close}}
""")
    p, s = run(tmp_path, str(plan), "--threads", "1")
    assert p.returncode == 0, p.stderr
    seen = [t.total() for t in ts]
    assert sum(seen) == count(s, "http_reqs") == 90 and all(seen), seen


# ---------------------------------------------------------------- hosts


def test_hosts_pin_a_name(tmp_path, targets):
    ts = targets(["127.0.0.2", "127.0.0.3", "127.0.0.4"])
    other = targets(["127.0.0.4"])[0]  # another port
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"""target: http://pinned.test:{ts[0].port}
hosts:
  pinned.test: 127.0.0.3
  "api.test:{ts[0].port}": "127.0.0.4:{other.port}"
modules:
  m:
    executor: {{type: shared-iterations, vus: 2, iterations: 40}}
    flow:
      - get: /health
      - get: http://api.test:{ts[0].port}/health
""")
    p, s = run(tmp_path, str(plan))
    assert p.returncode == 0, p.stderr
    assert [t.total() for t in ts] == [0, 40, 0]
    assert other.total() == 40
    assert count(s, "http_reqs") == 80 and count(s, "http_req_failed", "passes") == 0


# ------------------------------------------------------- source addresses


class PeerServer:
    """A Python HTTP server on 127.0.0.1 that records each client address."""

    def __init__(self):
        peers = self.peers = []
        lock = self.lock = threading.Lock()

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                with lock:
                    peers.append(self.client_address[0])
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.srv.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.srv.server_address[1]}"
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


@pytest.fixture
def peer_server():
    s = PeerServer()
    yield s
    s.stop()


def test_local_ips_spread_source_addresses(tmp_path, peer_server):
    p, s = run(tmp_path, "--url", peer_server.url + "/", "--local-ips", "127.0.0.2-127.0.0.5", "--vus", "4",
               "-i", "40")
    assert p.returncode == 0, p.stderr
    with peer_server.lock:
        peers = list(peer_server.peers)
    assert len(peers) == count(s, "http_reqs") == 40
    assert set(peers) == {"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}, set(peers)


def test_local_ips_plan_key(tmp_path, peer_server):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"""local_ips: [127.0.0.6, 127.0.0.8/31]
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 3, iterations: 2}}
    flow:
      - get: {peer_server.url}/
""")
    p, s = run(tmp_path, str(plan))
    assert p.returncode == 0, p.stderr
    with peer_server.lock:
        assert set(peer_server.peers) == {"127.0.0.6", "127.0.0.8", "127.0.0.9"}


def test_local_ips_flag_over_a_plan(tmp_path, peer_server):
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"""local_ips: 127.0.0.6
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 2, iterations: 2}}
    flow:
      - get: {peer_server.url}/
""")
    p, s = run(tmp_path, str(plan), "--local-ips", "127.0.0.10,127.0.0.11")
    assert p.returncode == 0, p.stderr
    with peer_server.lock:
        assert set(peer_server.peers) == {"127.0.0.10", "127.0.0.11"}


def test_unbindable_local_ip_is_a_setup_error(tmp_path, peer_server):
    p, _ = run(tmp_path, "--url", peer_server.url + "/", "--local-ips", "127.0.0.2,192.0.2.1", "-i", "1")
    assert p.returncode == 104, p.stderr
    assert "--local-ips: cannot send from 192.0.2.1" in p.stderr, p.stderr
    assert peer_server.peers == []


@pytest.mark.parametrize("spec,want", [
    ("10.0.0.5-10.0.0.1", "the range ends before it starts"),
    ("127.0.0.1-::1", "expected FROM-TO, two addresses of one family"),
    ("127.0.0.0/33", "a prefix length from 0 to 32"),
    ("10.0.0.0/8", "more than 65536 addresses"),
    ("nohost", "'nohost' is not an IP address"),
])
def test_local_ips_bad_values(tmp_path, spec, want):
    p, _ = run(tmp_path, "--url", "http://127.0.0.1:1/", "--local-ips", spec, "-i", "1")
    assert p.returncode == 104 and f"strain run: --local-ips: " in p.stderr and want in p.stderr, p.stderr


# ---------------------------------------------------------------- proxies


class Tinyproxy:
    """tinyproxy on a free port. It closes a client's connection after each
    response without a `Connection: close`, so the forwarding tests open a
    connection per request (--no-connection-reuse, or the header): reusing
    one would count strain's documented failed attempt plus resend
    (docs/error-codes.md, "Resends") on every other request."""

    def __init__(self, tmp_path, connect_port):
        self.port = free_port()
        self.log = tmp_path / f"tinyproxy-{self.port}.log"
        conf = tmp_path / f"tinyproxy-{self.port}.conf"
        conf.write_text(f"Port {self.port}\nListen 127.0.0.1\nTimeout 30\nLogFile \"{self.log}\"\n"
                        f"LogLevel Info\nMaxClients 100\nAllow 127.0.0.1\nConnectPort {connect_port}\n")
        self.proc = subprocess.Popen([TINYPROXY, "-d", "-c", str(conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}"

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        wait_for(up, "tinyproxy to listen", proc=self.proc)

    def requests(self, what):
        """Request lines tinyproxy logged that start with `what`."""
        if not self.log.exists():
            return 0
        return sum(1 for line in self.log.read_text().splitlines() if f"): {what}" in line)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture
def tinyproxy(tmp_path):
    started = []

    def make(connect_port=1):
        t = Tinyproxy(tmp_path, connect_port)
        started.append(t)
        return t
    yield make
    for t in started:
        t.stop()


def test_http_through_proxy(tmp_path, targets, tinyproxy):
    t = targets(["127.0.0.2"])[0]
    px = tinyproxy()
    p, s = run(tmp_path, "--url", t.url + "/health", "--proxy", px.url, "--vus", "2", "-i", "30",
               "--no-connection-reuse")
    assert p.returncode == 0, p.stderr
    # --proxy applies to loopback hosts too; the request line is the absolute form.
    assert px.requests(f"GET {t.url}/health HTTP/1.1") == 30
    assert t.total() == count(s, "http_reqs") == 30
    assert count(s, "http_req_failed", "passes") == 0


def test_https_through_connect(tmp_path, targets, tinyproxy):
    t = targets(["127.0.0.1"], tls=True)[0]
    px = tinyproxy(connect_port=t.port)
    p, s = run(tmp_path, "--url", t.url + "/health", "--proxy", px.url, "--cacert", t.cert, "--vus", "2",
               "-i", "30")
    assert p.returncode == 0, p.stderr
    tunnels = px.requests(f"CONNECT 127.0.0.1:{t.port} HTTP/1.1")
    assert 1 <= tunnels <= 30
    assert px.requests("GET ") == 0
    assert t.total() == count(s, "http_reqs") == 30
    assert count(s, "http_req_failed", "passes") == 0


def test_refused_connect_is_1240(tmp_path, targets, tinyproxy):
    t = targets(["127.0.0.1"], tls=True)[0]
    px = tinyproxy(connect_port=1)  # CONNECT only to port 1: ours is refused
    p, s = run(tmp_path, "--url", t.url + "/health", "--proxy", px.url, "--cacert", t.cert, "-i", "5")
    assert p.returncode == 0, p.stderr
    assert px.requests(f"CONNECT 127.0.0.1:{t.port}") >= 1
    assert s["errors"]["1240"]["count"] == 5
    assert count(s, "http_req_failed", "passes") == 5
    assert t.total() == 0


def test_no_proxy_bypasses(tmp_path, targets, tinyproxy):
    t = targets(["127.0.0.2"])[0]
    px = tinyproxy()
    p, s = run(tmp_path, "--url", t.url + "/health", "--proxy", px.url, "-i", "10", "--no-connection-reuse",
               env=clean_env(NO_PROXY="example.com, 127.0.0.0/8"))
    assert p.returncode == 0, p.stderr
    assert px.requests("GET ") == 0
    assert t.total() == 10


def loopback_hostname():
    """This machine's name, when it resolves to a loopback address only
    (a host not named as loopback, that tinyproxy and strain can reach)."""
    name = socket.gethostname()
    try:
        addrs = {a[4][0] for a in socket.getaddrinfo(name, 80, socket.AF_INET, socket.SOCK_STREAM)}
    except OSError:
        return None
    return name if addrs and all(a.startswith("127.") for a in addrs) and name != "localhost" else None


def test_env_proxy_applies_to_a_plan_but_skips_loopback(tmp_path, target, tinyproxy):
    name = loopback_hostname()
    if not name:
        pytest.skip("this machine's host name does not resolve to a loopback address")
    px = tinyproxy()
    port = target.addr.rsplit(":", 1)[1]
    plan = tmp_path / "plan.yaml"
    plan.write_text("""target: "{{env.T}}"
modules:
  m:
    executor: {type: per-vu-iterations, vus: 1, iterations: 10}
    flow:
      - get: /health
        headers: {Connection: close}
""")
    # A name: through HTTP_PROXY.
    p, s = run(tmp_path, str(plan), "-e", f"T=http://{name}:{port}", env=clean_env(HTTP_PROXY=px.url))
    assert p.returncode == 0, p.stderr
    assert px.requests(f"GET http://{name}:{port}/health") == 10
    assert target.stats()["total"] == count(s, "http_reqs") == 10
    # A loopback address and localhost: never through an environment proxy (as Go).
    for host in ("127.0.0.1", "localhost"):
        p, s = run(tmp_path, str(plan), "-e", f"T=http://{host}:{port}", env=clean_env(HTTP_PROXY=px.url))
        assert p.returncode == 0, p.stderr
        assert count(s, "http_req_failed", "passes") == 0
    assert px.requests("GET ") == 10
    assert target.stats()["total"] == 30
    # NO_PROXY exempts the name.
    p, s = run(tmp_path, str(plan), "-e", f"T=http://{name}:{port}",
               env=clean_env(HTTP_PROXY=px.url, NO_PROXY=name))
    assert p.returncode == 0, p.stderr
    assert px.requests("GET ") == 10


def test_plan_proxy_key(tmp_path, targets, tinyproxy):
    t = targets(["127.0.0.2"])[0]
    px = tinyproxy()
    plan = tmp_path / "plan.yaml"
    body = f"""modules:
  m:
    executor: {{type: per-vu-iterations, vus: 1, iterations: 6}}
    flow:
      - get: {t.url}/health
        headers: {{Connection: close}}
"""
    plan.write_text(f"proxy: {px.url}\n" + body)
    p, s = run(tmp_path, str(plan))
    assert p.returncode == 0, p.stderr
    assert px.requests(f"GET {t.url}/health") == 6
    plan.write_text(f"proxy: {{http: \"{px.url}\", no_proxy: \"127.0.0.2\"}}\n" + body)
    p, s = run(tmp_path, str(plan))
    assert p.returncode == 0, p.stderr
    assert px.requests("GET ") == 6
    assert t.total() == 12
    # --proxy replaces the plan's (here a port nothing listens on).
    plan.write_text("proxy: http://127.0.0.1:1\n" + body)
    p, s = run(tmp_path, str(plan), "--proxy", px.url)
    assert p.returncode == 0, p.stderr
    assert px.requests(f"GET {t.url}/health") == 12
    assert t.total() == 18 and count(s, "http_req_failed", "passes") == 0


@pytest.mark.parametrize("text,want", [
    ("dns: {ttl: forever}\n", "2:12: dns.ttl: expected a duration"),
    ("dns: {select: roundrobin}\n", "dns.select: expected first, random or roundRobin, found 'roundrobin'"),
    ("dns: {polcy: any}\n", "unknown key 'polcy' in dns; did you mean 'policy'?"),
    ("dns: {server: localhost}\n", "dns.server: expected IPV4:PORT"),
    ("hosts: {a.test: nowhere}\n", "hosts: a.test: expected an IP address or IP:PORT"),
    ("hosts: {\"a.test:0\": 127.0.0.1}\n", "hosts: 'a.test:0': expected name or name:PORT"),
    ("hosts: [a]\n", "hosts: expected a mapping"),
    ("local_ips: [127.0.0.1, 10.0.0.300]\n", "2:24: local_ips: '10.0.0.300' is not an IP address"),
    ("proxy: https://127.0.0.1:3128\n", "proxy: 'https://127.0.0.1:3128': strain speaks to proxies over http:// only"),
    ("proxy: {htps: http://127.0.0.1:1}\n", "unknown key 'htps' in proxy; did you mean 'https'?"),
    ("proxy: http://127.0.0.1:3128/path\n", "a proxy URL has no path"),
])
def test_plan_errors(tmp_path, text, want):
    plan = tmp_path / "plan.yaml"
    plan.write_text("target: http://127.0.0.1:1\n" + text + """modules:
  m:
    executor: {type: per-vu-iterations, vus: 1, iterations: 1}
    flow:
      - get: /
""")
    p = subprocess.run([STRAIN, "validate", str(plan)], capture_output=True, text=True, timeout=30, env=clean_env())
    assert p.returncode == 104 and want in p.stderr, p.stderr
    assert f"{plan}:" in p.stderr

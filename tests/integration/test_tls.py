"""HTTPS: strain against `strain target --tls` (its generated certificate
trusted with --cacert), certificate failures classified with k6's codes,
--insecure-skip-tls-verify, and session resumption seen by a real
independent server (openssl s_server)."""
import json
import os
import shutil
import socket
import ssl
import subprocess
import time

import pytest

from conftest import STRAIN, Target, count, free_port, run_strain, summary


class TlsTarget(Target):
    """`strain target --tls`: the second stdout line names its certificate."""

    def __init__(self, *args, client=None):
        super().__init__("--tls", *args)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("certificate: "), line
        self.cert = line.split(": ", 1)[1]
        self.port = self.addr.rsplit(":", 1)[1]
        self.url = "https://localhost:" + self.port
        self.ctx = ssl.create_default_context(cafile=self.cert)
        if client:
            self.ctx.load_cert_chain(*client)

    def get(self, path, data=None, method=None, headers=None, timeout=10):
        import urllib.request
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ctx) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


@pytest.fixture
def tls_target():
    t = TlsTarget("--threads", "2")
    yield t
    t.stop()
    assert not os.path.exists(t.cert), "the generated certificate outlived the target"


@pytest.fixture
def make_tls_target():
    started = []

    def make(*args, client=None):
        t = TlsTarget(*args, client=client)
        started.append(t)
        return t
    yield make
    for t in started:
        t.stop()


def health_200(t):
    r = t.stats()["routes"].get("GET /health")
    return r["statuses"].get("200", 0) if r else 0


def test_https_counts_equal_server(tls_target, tmp_path):
    t = tls_target
    t.reset_stats()
    p, s = summary(tmp_path, "--url", t.url + "/health", "--cacert", t.cert, "--vus", "8",
                   "--duration", "2s")
    assert p.returncode == 0, p.stderr
    served = health_200(t)
    assert served > 100
    assert count(s, "http_reqs") == served
    assert s["errors"] == {}
    # Kept alive: one handshake per VU, measured, and nothing else pays for one.
    hs = s["metrics"]["http_req_tls_handshaking"]
    assert hs["count"] == served and hs["max"] > 0 and hs["med"] == 0


def test_https_iterations_exact_with_samples(tls_target, tmp_path):
    t = tls_target
    t.reset_stats()
    out = tmp_path / "samples.json"
    p, s = summary(tmp_path, "--url", t.url + "/jobs/7", "--cacert", t.cert, "--vus", "3",
                   "--iterations", "301", "--no-connection-reuse", "--out", f"json={out}")
    assert p.returncode == 0, p.stderr
    assert count(s, "http_reqs") == 301 and s["errors"] == {}
    assert t.stats()["routes"]["GET /jobs/{id}"]["statuses"]["200"] == 301
    assert s["metrics"]["http_req_tls_handshaking"]["min"] > 0
    versions = set()
    for line in out.read_text().splitlines():
        d = json.loads(line)
        if d.get("type") == "Point" and d["metric"] == "http_reqs":
            versions.add(d["data"]["tags"].get("tls_version"))
    assert versions == {"tls1.3"}


def test_unknown_authority_is_1310(tls_target, tmp_path):
    p, s = summary(tmp_path, "--url", tls_target.url + "/health", "--vus", "2",
                   "--iterations", "20")
    assert p.returncode == 0, p.stderr
    assert count(s, "http_reqs") == 20
    assert s["errors"]["1310"]["count"] == 20
    assert s["metrics"]["http_req_failed"]["rate"] == 1


def test_insecure_skip_verify(tls_target, tmp_path):
    tls_target.reset_stats()
    p, s = summary(tmp_path, "--url", tls_target.url + "/health", "--vus", "2",
                   "--iterations", "20", "--insecure-skip-tls-verify")
    assert p.returncode == 0, p.stderr
    assert s["errors"] == {} and count(s, "http_reqs") == 20
    assert health_200(tls_target) == 20


@pytest.fixture
def other_cert(tmp_path):
    """A CA-signed-by-itself certificate for another name only."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl command")
    cert, key = self_signed(tmp_path, "DNS:other.test", "other.test")
    return str(cert), str(key)


def test_wrong_host_name_is_1311(make_target, other_cert, tmp_path):
    cert, key = other_cert
    t = make_target("--tls", "--cert", cert, "--key", key, "--threads", "1")
    port = t.addr.rsplit(":", 1)[1]
    for host in ("localhost", "127.0.0.1"):
        p, s = summary(tmp_path, "--url", f"https://{host}:{port}/health", "--cacert", cert,
                       "--vus", "1", "--iterations", "5")
        assert p.returncode == 0, p.stderr
        assert s["errors"]["1311"]["count"] == 5, (host, s["errors"])


def test_bad_cacert_is_a_config_error(tmp_path):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a certificate\n")
    p = run_strain("run", "--quiet", "--url", "https://127.0.0.1:1/", "--iterations", "1",
                   "--cacert", str(bad))
    assert p.returncode == 104, p.stderr
    assert "--cacert" in p.stderr


def self_signed(d, san="DNS:localhost", cn="localhost"):
    """A P-256 certificate that is its own CA: (cert path, key path)."""
    cert, key = d / f"{cn}.pem", d / f"{cn}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", f"/CN={cn}",
                    "-addext", f"subjectAltName={san}"], check=True, capture_output=True)
    return cert, key


def s_server(cert, key, *args, **popen):
    """Starts `openssl s_server` on a free loopback port: (process, port),
    once it accepts connections."""
    port = free_port()
    srv = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(cert),
                            "-key", str(key), *args], **popen)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return srv, port
        except OSError:
            if time.monotonic() > deadline or srv.poll() is not None:
                srv.kill()
                raise AssertionError("s_server did not start")
            time.sleep(0.05)


def cache_hits(port, cafile):
    """s_server -www answers any request with its statistics."""
    ctx = ssl.create_default_context(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as c:
            c.sendall(b"GET / HTTP/1.0\r\n\r\n")
            data = b""
            while True:
                chunk = c.recv(65536)
                if not chunk:
                    break
                data += chunk
    for line in data.decode(errors="replace").splitlines():
        if line.strip().endswith("session cache hits"):
            return int(line.split()[0])
    raise AssertionError(data[:500])


def test_resumption_on_and_off_against_openssl(tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("no openssl command")
    cert, key = self_signed(tmp_path)
    srv, port = s_server(cert, key, "-www", "-quiet", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"https://localhost:{port}/"
        before = cache_hits(port, str(cert))
        p, s = summary(tmp_path, "--url", url, "--cacert", str(cert), "--vus", "1",
                       "--iterations", "6", "--no-connection-reuse")
        assert p.returncode == 0 and s["errors"] == {}, (p.stderr, s["errors"])
        resumed = cache_hits(port, str(cert)) - before - 0
        # The first connection is a full handshake; the other five resume.
        assert resumed >= 5, resumed
        before = cache_hits(port, str(cert))
        p, s2 = summary(tmp_path, "--url", url, "--cacert", str(cert), "--vus", "1",
                        "--iterations", "6", "--no-connection-reuse", "--no-tls-resumption")
        assert p.returncode == 0 and s2["errors"] == {}, (p.stderr, s2["errors"])
        assert cache_hits(port, str(cert)) == before
        # strain's own figures show it too: the five full handshakes carry
        # the certificate that the resumed ones skip (s_server's page varies
        # by a few bytes of counters, hence the margin).
        extra = count(s2, "data_received") - count(s, "data_received")
        assert extra >= 5 * der_len(str(cert)) - 100, (extra, der_len(str(cert)))
    finally:
        srv.terminate()
        srv.wait(timeout=10)


def test_plan_over_https(tls_target, tmp_path):
    """A plan's https target, with extraction across requests on one TLS connection."""
    t = tls_target
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"target: {t.url}\n" + """modules:
  profile:
    executor: {type: shared-iterations, vus: 2, iterations: 10}
    setup:
      - post: /auth/login
        json: {user: user1, password: pw1}
        extract: {token: $.token}
        check: {status: 200}
    flow:
      - get: /profile/me
        headers: {Authorization: "Bearer {{token}}"}
        check: {status: 200}
""")
    t.reset_stats()
    out = tmp_path / "s.json"
    p = run_strain("run", str(plan), "--quiet", "--summary-export", str(out), "--cacert", t.cert)
    assert p.returncode == 0, p.stderr
    s = json.loads(out.read_text())
    assert s["errors"] == {}
    assert s["metrics"]["checks"]["rate"] == 1
    r = t.stats()["routes"]
    assert r["GET /profile/me"]["statuses"] == {"200": 10}
    assert r["POST /auth/login"]["statuses"] == {"200": 2}


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture
def pki(tmp_path):
    """A client CA with one client certificate, and a client certificate
    from a CA the server does not know."""
    d = tmp_path / "pki"
    d.mkdir()
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", str(d / "ca.key"), "-out", str(d / "ca.pem"),
            "-days", "1", "-subj", "/CN=strain test client CA")
    openssl("req", *ec, "-keyout", str(d / "client.key"), "-out", str(d / "client.csr"),
            "-subj", "/CN=client")
    openssl("x509", "-req", "-in", str(d / "client.csr"), "-CA", str(d / "ca.pem"), "-CAkey",
            str(d / "ca.key"), "-set_serial", "2", "-days", "1", "-out", str(d / "client.pem"))
    openssl("req", "-x509", *ec, "-keyout", str(d / "rogue.key"), "-out", str(d / "rogue.pem"),
            "-days", "1", "-subj", "/CN=rogue")
    return d


def test_mutual_tls_accepted_and_refused(make_tls_target, pki, tmp_path):
    t = make_tls_target("--client-ca", str(pki / "ca.pem"), "--threads", "1",
                        client=(str(pki / "client.pem"), str(pki / "client.key")))
    cert, url = t.cert, t.url + "/health"

    t.reset_stats()
    p, s = summary(tmp_path, "--url", url, "--cacert", cert, "--cert", str(pki / "client.pem"),
                   "--key", str(pki / "client.key"), "--vus", "2", "--iterations", "40",
                   "--no-connection-reuse")
    assert p.returncode == 0, p.stderr
    assert s["errors"] == {} and count(s, "http_reqs") == 40
    assert t.stats()["routes"]["GET /health"]["statuses"] == {"200": 40}

    # No certificate, then one from an unknown CA: refused by the server's
    # alert, every time, and the server never sees a request.
    t.reset_stats()
    for extra in ([], ["--cert", str(pki / "rogue.pem"), "--key", str(pki / "rogue.key")]):
        p, s = summary(tmp_path, "--url", url, "--cacert", cert, "--vus", "2",
                       "--iterations", "30", *extra)
        assert p.returncode == 0, p.stderr
        assert count(s, "http_reqs") == 30
        assert s["errors"] == {"1313": {"count": 30, "description": s["errors"]["1313"]["description"]}}, s["errors"]
        assert s["metrics"]["http_req_failed"]["rate"] == 1
    assert "GET /health" not in t.stats()["routes"]


def test_client_cert_flags_checked(pki):
    p = run_strain("run", "--quiet", "--url", "https://127.0.0.1:1/", "--iterations", "1",
                   "--cert", str(pki / "client.pem"), "--key", str(pki / "rogue.key"))
    assert p.returncode == 104 and "--key" in p.stderr and "mismatch" in p.stderr, p.stderr
    p = run_strain("run", "--quiet", "--url", "https://127.0.0.1:1/", "--iterations", "1",
                   "--key", str(pki / "client.key"))
    assert p.returncode != 0 and "--key goes with --cert" in p.stderr, p.stderr
    p = run_strain("run", "--quiet", "--url", "https://127.0.0.1:1/", "--iterations", "1",
                   "--cert", str(pki / "nope.pem"))
    assert p.returncode == 104 and "--cert" in p.stderr and "nope.pem" in p.stderr, p.stderr
    # An encrypted key is refused with a reason, never a passphrase prompt
    # (run_strain's timeout would catch a prompt waiting on a terminal).
    openssl("pkey", "-in", str(pki / "client.key"), "-aes256", "-passout", "pass:secret",
            "-out", str(pki / "enc.key"))
    p = run_strain("run", "--quiet", "--url", "https://127.0.0.1:1/", "--iterations", "1",
                   "--cert", str(pki / "client.pem"), "--key", str(pki / "enc.key"), timeout=20)
    assert p.returncode == 104 and "the key is encrypted" in p.stderr, p.stderr
    assert "pass phrase" not in p.stderr


def der_len(pem_path):
    import base64
    body = "".join(l for l in open(pem_path).read().splitlines() if not l.startswith("-----"))
    return len(base64.b64decode(body))


def test_data_counts_bytes_on_the_wire(target, tls_target, tmp_path):
    """data_received/data_sent count TLS records and handshakes, as bytes
    on the socket, not the HTTP bytes inside."""
    n = 50
    args = ("--vus", "1", "--iterations", str(n), "--no-connection-reuse", "--no-tls-resumption")
    _, plain = summary(tmp_path, "--url", target.url + "/health", *args)
    _, tls = summary(tmp_path, "--url", tls_target.url + "/health", "--cacert", tls_target.cert, *args)
    assert plain["errors"] == {} and tls["errors"] == {}
    # Each full handshake carries the server's certificate; the client sends
    # at least a ClientHello (>= 200 bytes with its key share) and a Finished.
    cert = der_len(tls_target.cert)
    extra_in = count(tls, "data_received") - count(plain, "data_received")
    extra_out = count(tls, "data_sent") - count(plain, "data_sent")
    assert extra_in >= n * cert, (extra_in, cert)
    assert extra_out >= n * 200, extra_out


def test_cipher_suite_tag_is_what_openssl_negotiates(tls_target, tmp_path):
    t = tls_target
    with socket.create_connection(("127.0.0.1", int(t.port)), timeout=5) as raw:
        with t.ctx.wrap_socket(raw, server_hostname="localhost") as c:
            want = c.cipher()[0]
    out = tmp_path / "samples.json"
    p, s = summary(tmp_path, "--url", t.url + "/health", "--cacert", t.cert, "--vus", "2",
                   "--iterations", "10", "--out", f"json={out}")
    assert p.returncode == 0 and s["errors"] == {}
    seen = set()
    for line in out.read_text().splitlines():
        d = json.loads(line)
        if d.get("type") == "Point" and d["metric"] == "http_req_duration":
            seen.add(d["data"]["tags"].get("tls_cipher_suite"))
    assert seen == {want}, (seen, want)


def test_plan_defaults_tls(make_tls_target, pki, tmp_path):
    """defaults.tls: the CA, client certificate and key from the plan's own
    directory, and resumption off."""
    t = make_tls_target("--client-ca", str(pki / "ca.pem"), "--threads", "1",
                        client=(str(pki / "client.pem"), str(pki / "client.key")))
    port = t.port
    shutil.copy(t.cert, pki / "server-ca.pem")
    plan = pki / "plan.yaml"
    plan.write_text(f"target: https://localhost:{port}\n" + """defaults:
  tls:
    cacert: server-ca.pem
    cert: client.pem
    key: client.key
    resumption: false
modules:
  m:
    executor: {type: shared-iterations, vus: 1, iterations: 8}
    flow:
      - get: /health
        check: {status: 200}
""")
    p = run_strain("validate", str(plan))
    assert p.returncode == 0, p.stderr
    t.reset_stats()
    out = tmp_path / "s.json"
    p = run_strain("run", str(plan), "--quiet", "--no-connection-reuse", "--summary-export", str(out))
    assert p.returncode == 0, p.stderr
    s = json.loads(out.read_text())
    assert s["errors"] == {} and s["metrics"]["http_reqs"]["count"] == 8
    assert t.stats()["routes"]["GET /health"]["statuses"] == {"200": 8}
    # Resumption off: every one of the 8 handshakes is a full one. (With
    # resumption, 7 of 8 would carry no certificate.)
    hs = s["metrics"]["http_req_tls_handshaking"]
    assert hs["min"] > 0


def test_requests_go_to_their_own_host(target, tls_target, tmp_path):
    """A flow alternating between two servers (one plain, one HTTPS) with
    keep-alive: a kept-alive connection is never reused for another host."""
    plan = tmp_path / "two.yaml"
    plan.write_text(f"""modules:
  m:
    executor: {{type: shared-iterations, vus: 2, iterations: 20}}
    flow:
      - get: {target.url}/jobs/1
      - get: {tls_target.url}/jobs/2
      - get: {tls_target.url}/jobs/3
""")
    target.reset_stats()
    tls_target.reset_stats()
    out = tmp_path / "s.json"
    p = run_strain("run", str(plan), "--quiet", "--cacert", tls_target.cert, "--summary-export", str(out))
    assert p.returncode == 0, p.stderr
    s = json.loads(out.read_text())
    assert s["errors"] == {} and s["metrics"]["http_reqs"]["count"] == 60
    assert target.stats()["routes"]["GET /jobs/{id}"]["statuses"] == {"200": 20}
    assert tls_target.stats()["routes"]["GET /jobs/{id}"]["statuses"] == {"200": 40}


def test_sessions_kept_per_endpoint(tmp_path):
    """A flow alternating between two HTTPS servers, a new connection per
    request: each server sees its own sessions resumed."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl command")
    cert, key = self_signed(tmp_path, "DNS:localhost,IP:127.0.0.1")
    srvs, ports = [], []
    try:
        for _ in range(2):
            srv, port = s_server(cert, key, "-www", "-quiet", stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            srvs.append(srv)
            ports.append(port)
        plan = tmp_path / "two.yaml"
        plan.write_text(f"""modules:
  m:
    executor: {{type: shared-iterations, vus: 1, iterations: 6}}
    flow:
      - get: https://localhost:{ports[0]}/
        name: a
      - get: https://127.0.0.1:{ports[1]}/
        name: b
""")
        before = [cache_hits(p, str(cert)) for p in ports]
        out = tmp_path / "s.json"
        p = run_strain("run", str(plan), "--quiet", "--cacert", str(cert), "--summary-export", str(out))
        assert p.returncode == 0, p.stderr
        s = json.loads(out.read_text())
        assert s["errors"] == {} and s["metrics"]["http_reqs"]["count"] == 12
        # Each server sees 6 connections: the first a full handshake, the
        # other five resumed with the session kept for that server.
        hits = [cache_hits(p, str(cert)) - b for p, b in zip(ports, before)]
        assert hits[0] >= 5 and hits[1] >= 5, hits
    finally:
        for srv in srvs:
            srv.terminate()
            srv.wait(timeout=10)


@pytest.mark.parametrize("proto,cmd,client_msg", [
    ("-tls1_3", b"K", "<<< TLS 1.3, Handshake [length 0005], KeyUpdate"),
    ("-tls1_2", b"r", "<<< TLS 1.2, Handshake [length 0010], Finished"),
], ids=["tls1.3-keyupdate", "tls1.2-renegotiation"])
def test_server_rekeys_mid_connection(tmp_path, proto, cmd, client_msg):
    """openssl s_server rekeys while strain waits for a response: a TLS 1.3
    KeyUpdate asking for ours (OpenSSL sends it before our next request),
    or a TLS 1.2 renegotiation, which strain's read must carry out by
    writing. Both responses still arrive on the one connection."""
    cert, key = self_signed(tmp_path)
    port = free_port()
    msgs = tmp_path / "msgs.txt"
    # Without -www, s_server shows what the client sends and sends what it
    # reads on stdin; a line of one letter alone is a command.
    srv = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(cert),
                            "-key", str(key), "-crlf", proto, "-naccept", "1", "-msg", "-msgfile",
                            str(msgs)],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    out = tmp_path / "s.json"
    run = None

    def next_request():
        deadline = time.monotonic() + 15
        while not srv.stdout.readline().startswith(b"GET / HTTP/1.1"):
            assert time.monotonic() < deadline and srv.poll() is None, "no request reached s_server"

    def send(data):
        srv.stdin.write(data)
        srv.stdin.flush()

    try:
        deadline = time.monotonic() + 10
        while "ACCEPT" not in srv.stdout.readline().decode(errors="replace"):
            assert time.monotonic() < deadline
        run = subprocess.Popen([STRAIN, "run", "--quiet", "--url", f"https://localhost:{port}/",
                                "--cacert", str(cert), "--iterations", "2", "--timeout", "20s",
                                "--summary-export", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        next_request()
        send(cmd + b"\n")
        time.sleep(0.3)  # read alone, so that s_server takes it as a command
        send(b"HTTP/1.1 200 OK\nContent-Length: 4\n\nok\n")  # -crlf: "ok\r\n"
        next_request()
        send(b"HTTP/1.1 200 OK\nContent-Length: 4\nConnection: close\n\nok\n")
        assert run.wait(timeout=30) == 0, run.stderr.read()
    finally:
        if run and run.poll() is None:
            run.kill()
        srv.kill()
        srv.wait(timeout=10)
    s = json.loads(out.read_text())
    assert s["errors"] == {} and s["metrics"]["http_reqs"]["count"] == 2
    # One connection (s_server accepts only one): one handshake measured.
    assert s["metrics"]["http_req_tls_handshaking"]["min"] == 0
    log = msgs.read_text()
    _, _, after = log.partition(">>> TLS 1.3, Handshake [length 0005], KeyUpdate" if cmd == b"K"
                                else ">>> TLS 1.2, Handshake [length 0004], HelloRequest")
    assert after, log[-2000:]
    assert client_msg in after, after[-2000:]


def test_every_tag_kept_on_https_samples(tls_target, tmp_path):
    """A module's 8 tags (the most a plan allows) are all on its HTTPS
    samples, alongside the request and TLS tags."""
    t = tls_target
    plan = tmp_path / "tags.yaml"
    mine = {f"t{i}": f"v{i}" for i in range(8)}
    plan.write_text(f"target: {t.url}\n" + """modules:
  m:
    executor: {type: shared-iterations, vus: 1, iterations: 3}
    tags: {""" + ", ".join(f"{k}: {v}" for k, v in mine.items()) + """}
    flow:
      - get: /fault/status?code=503
""")
    out = tmp_path / "samples.json"
    p = run_strain("run", str(plan), "--quiet", "--cacert", t.cert, "--out", f"json={out}")
    assert p.returncode == 0, p.stderr
    n = 0
    for line in out.read_text().splitlines():
        d = json.loads(line)
        if d.get("type") == "Point" and d["metric"] == "http_reqs":
            tags = d["data"]["tags"]
            for k, v in mine.items():
                assert tags.get(k) == v, tags
            for k in ("scenario", "module", "strategy", "method", "url", "name", "status",
                      "expected_response", "proto", "tls_version", "tls_cipher_suite", "error_code"):
                assert k in tags, (k, tags)
            n += 1
    assert n == 3


@pytest.mark.parametrize("trusted", [True, False])
def test_redirect_to_https_from_a_plain_plan_checks_the_system_store(tls_target, tmp_path, trusted):
    """A plain-http plan whose answer redirects to https: the client
    context exists for the redirect and looks the system CAs up by hash
    (SSL_CERT_DIR here), not from a bundle loaded at start. Trusted: the
    hop is answered; not: the hop fails with 1310 (unknown authority)."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    to = f"https://127.0.0.1:{tls_target.port}/health"  # an IP literal: no lookup for the hop

    class Redirect(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self):
            self.send_response(302)
            self.send_header("Location", to)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *a):
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    certs = tmp_path / "certs"
    certs.mkdir()
    if trusted:
        shutil.copy(tls_target.cert, certs / "target.pem")
        subprocess.run(["openssl", "rehash", str(certs)], check=True, capture_output=True)
    tls_target.reset_stats()
    try:
        out = tmp_path / "s.json"
        p = subprocess.run([STRAIN, "run", "--url", f"http://127.0.0.1:{srv.server_address[1]}/go", "--vus", "1",
                            "--iterations", "3", "--quiet", "--summary-export", str(out)],
                           capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, SSL_CERT_DIR=str(certs)))
    finally:
        srv.shutdown()
        srv.server_close()
    assert p.returncode == 0, p.stderr
    s = json.loads(out.read_text())
    assert count(s, "http_reqs") == 6  # each iteration: the 302 and its hop
    if trusted:
        assert s["errors"] == {}
        assert health_200(tls_target) == 3
    else:
        assert s["errors"]["1310"]["count"] == 3

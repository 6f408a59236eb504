"""HTTPS against a real, independent TLS server: Debian's nginx, configured
and started by this file in a temporary directory, on free loopback ports,
with certificates made here with the openssl command (a test CA, a server
certificate for localhost + 127.0.0.1, one for 127.0.0.1 only, an expired
and a not-yet-valid one, a client CA and client certificates).

Everything strain claims is checked against what nginx saw, from nginx's
own access log (one JSON object per request): request counts, statuses,
the TLS version and cipher, session resumption ($ssl_session_reused) and
the client certificate nginx verified ($ssl_client_verify).

nginx missing is a failure, not a skip: scripts/deps.sh test installs it."""
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest

from conftest import run_strain
from nginx_lib import conf_head, free_ports

NGINX = os.environ.get("NGINX_BIN") or shutil.which("nginx") or "/usr/sbin/nginx"

# One nginx server block, on its own free port, per name (nginx_conf).
SERVERS = ("main", "tls12", "tls13", "ipcert", "expired", "notyet", "mtls", "mtls_strict",
           "mtls_strict12")

TLS12_CIPHER = "ECDHE-ECDSA-AES256-GCM-SHA384"             # OpenSSL's name (ECDSA keys here)
TLS12_CIPHER_IANA = "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
TLS13_CIPHER = "TLS_AES_128_GCM_SHA256"                    # not OpenSSL's first choice: pinned

WARNING = "TLS certificates were not verified"


# ---------------------------------------------------------------- certificates

OPENSSL_CNF = """\
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused

[ ca ]
default_ca = testca
[ testca ]
dir = {d}
database = {d}/index.txt
new_certs_dir = {d}/newcerts
serial = {d}/serial
certificate = {d}/ca.pem
private_key = {d}/ca.key
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
[ anything ]
commonName = supplied
organizationName = optional

[ v3_ca ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[ server_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
authorityKeyIdentifier = keyid

[ ip_only_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1
authorityKeyIdentifier = keyid

[ client_ext ]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
"""


def openssl(*args, cwd=None):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True, cwd=cwd, timeout=60)
    assert p.returncode == 0, f"openssl {' '.join(args)}:\n{p.stderr}"
    return p.stdout


class Certs:
    """All the PEM files, made with the openssl command in directory d."""

    def __init__(self, d):
        self.d = d
        cnf = os.path.join(d, "openssl.cnf")
        with open(cnf, "w") as f:
            f.write(OPENSSL_CNF.format(d=d))
        os.mkdir(os.path.join(d, "newcerts"))
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        self.cnf = cnf

        def p(name):
            return os.path.join(d, name)

        def key(name):
            openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", p(name + ".key"))
            return p(name + ".key")

        def self_signed_ca(name, cn):
            openssl("req", "-config", cnf, "-x509", "-new", "-key", key(name), "-subj", cn,
                    "-days", "3", "-extensions", "v3_ca", "-out", p(name + ".pem"))
            return p(name + ".pem")

        def signed(name, cn, ca, ext, start=None, end=None):
            key(name)
            openssl("req", "-config", cnf, "-new", "-key", p(name + ".key"), "-subj", cn,
                    "-out", p(name + ".csr"))
            if start is None:
                openssl("x509", "-req", "-in", p(name + ".csr"), "-CA", p(ca + ".pem"),
                        "-CAkey", p(ca + ".key"), "-CAcreateserial", "-days", "3",
                        "-extfile", cnf, "-extensions", ext, "-out", p(name + ".pem"))
            else:
                # x509 -req cannot make a certificate valid only in the past
                # or the future; `openssl ca` takes explicit dates.
                assert ca == "ca"
                openssl("ca", "-config", cnf, "-batch", "-notext", "-in", p(name + ".csr"),
                        "-startdate", start, "-enddate", end, "-extensions", ext,
                        "-out", p(name + ".pem"))
            return p(name + ".pem"), p(name + ".key")

        self.ca = self_signed_ca("ca", "/CN=strain test CA")
        self.server, self.server_key = signed("server", "/CN=localhost", "ca", "server_ext")
        self.ip_only, self.ip_only_key = signed("iponly", "/CN=127.0.0.1", "ca", "ip_only_ext")
        self.expired, self.expired_key = signed("expired", "/CN=localhost", "ca", "server_ext",
                                                "20200101000000Z", "20200201000000Z")
        self.notyet, self.notyet_key = signed("notyet", "/CN=localhost", "ca", "server_ext",
                                              "20900101000000Z", "20900201000000Z")
        self.client_ca = self_signed_ca("clientca", "/CN=strain test client CA")
        self.client, self.client_key = signed("client", "/O=strain tests/CN=strain-client",
                                              "clientca", "client_ext")
        # Cert and key in one file: --cert alone.
        self.client_combined = p("client-combined.pem")
        with open(self.client_combined, "w") as f:
            f.write(open(self.client).read() + open(self.client_key).read())
        # A client certificate from the wrong CA (the server CA, which nginx
        # does not trust for clients).
        self.rogue, self.rogue_key = signed("rogue", "/O=strain tests/CN=rogue-client", "ca",
                                            "client_ext")


# ---------------------------------------------------------------- nginx


def nginx_conf(d, certs, ports):
    fields = {
        "port": "$server_port", "addr": "$server_addr", "uri": "$request_uri",
        "status": "$status", "proto": "$ssl_protocol", "cipher": "$ssl_cipher",
        "reused": "$ssl_session_reused", "verify": "$ssl_client_verify",
        "dn": "$ssl_client_s_dn", "conn": "$connection", "conn_req": "$connection_requests",
        "sni": "$ssl_server_name", "req_len": "$request_length", "sent": "$bytes_sent",
    }
    fmt = "{" + ",".join(f'"{k}":"{v}"' for k, v in fields.items()) + "}"

    def server(name, cert, key, extra="", listen_extra=""):
        return f"""
    server {{
        listen 127.0.0.1:{ports[name]} ssl;{listen_extra}
        ssl_certificate {cert};
        ssl_certificate_key {key};
        {extra}
        location / {{ return 200 "{name} ok\\n"; }}
    }}"""

    servers = "".join([
        # Both protocols; also on 127.0.0.2, which the certificate does not name.
        server("main", certs.server, certs.server_key,
               listen_extra=f"\n        listen 127.0.0.2:{ports['main']} ssl;"),
        server("tls12", certs.server, certs.server_key,
               f"ssl_protocols TLSv1.2; ssl_ciphers {TLS12_CIPHER};"),
        server("tls13", certs.server, certs.server_key,
               f"ssl_protocols TLSv1.3; ssl_conf_command Ciphersuites {TLS13_CIPHER};"),
        server("ipcert", certs.ip_only, certs.ip_only_key),
        server("expired", certs.expired, certs.expired_key),
        server("notyet", certs.notyet, certs.notyet_key),
        # nginx's usual mutual TLS: a missing or bad client certificate is
        # an HTTP 400 from nginx, after a completed handshake.
        server("mtls", certs.server, certs.server_key,
               f"ssl_verify_client on; ssl_client_certificate {certs.client_ca}; "
               "ssl_verify_depth 2;"),
        # The strict variant: OpenSSL itself requires a certificate, so a
        # missing one is a TLS alert (an untrusted one still reaches nginx's
        # verify callback, which accepts it and answers 400).
        server("mtls_strict", certs.server, certs.server_key,
               f"ssl_verify_client on; ssl_client_certificate {certs.client_ca}; "
               "ssl_conf_command VerifyMode Require;"),
        server("mtls_strict12", certs.server, certs.server_key,
               f"ssl_protocols TLSv1.2; ssl_verify_client on; "
               f"ssl_client_certificate {certs.client_ca}; ssl_conf_command VerifyMode Require;"),
    ])
    return conf_head(d, fmt, workers=2, connections=1024) + f"""    # nginx 1.22's default leaves TLS 1.3 out (1.23.4 added it).
    ssl_protocols TLSv1.2 TLSv1.3;
{servers}
}}
"""


class Nginx:
    def __init__(self, d, certs):
        self.d, self.certs = str(d), certs
        self.proc = None
        os.makedirs(os.path.join(self.d, "tmp"), exist_ok=True)
        self.log = os.path.join(self.d, "access.log")
        last = ""
        for _ in range(5):  # a port taken between choosing and binding: choose again
            self.ports = dict(zip(SERVERS, free_ports(len(SERVERS))))
            conf = os.path.join(self.d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(nginx_conf(self.d, certs, self.ports))
            with open(os.path.join(self.d, "stderr.log"), "w") as err:
                self.proc = subprocess.Popen(
                    [NGINX, "-p", self.d + "/", "-c", conf, "-e",
                     os.path.join(self.d, "error.log"), "-g", "daemon off;"],
                    stdout=subprocess.DEVNULL, stderr=err)
            if self._wait_up():
                return
            self.proc.wait(timeout=10)
            with open(os.path.join(self.d, "stderr.log")) as err:
                last = err.read() + self.error_log()
            if "Address already in use" not in last:
                break
        raise AssertionError(f"nginx did not start:\n{last}")

    def _wait_up(self):
        deadline = time.monotonic() + 15
        pending = [("127.0.0.1", p) for p in self.ports.values()]
        pending.append(("127.0.0.2", self.ports["main"]))
        while pending:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(pending[0], timeout=1).close()
                pending.pop(0)
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    return False
                time.sleep(0.05)
        return True

    def error_log(self):
        try:
            with open(os.path.join(self.d, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def url(self, name, path, host="localhost"):
        return f"https://{host}:{self.ports[name]}{path}"

    def entries(self, prefix):
        """Access log entries whose URI starts with prefix."""
        out = []
        with open(self.log) as f:
            for line in f:
                e = json.loads(line)
                if e["uri"].startswith(prefix):
                    out.append(e)
        return out

    def wait_entries(self, prefix, n, timeout=5):
        """The entries for prefix once there are n of them (nginx logs a request
        just after answering it), or what there is after timeout."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.entries(prefix)
            if len(got) >= n or time.monotonic() > deadline:
                time.sleep(0.1)  # anything beyond n would show up now
                return self.entries(prefix)
            time.sleep(0.05)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # fast shutdown, master takes the workers
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def nginx(tmp_path_factory):
    assert os.path.exists(NGINX), f"no nginx at {NGINX}: scripts/deps.sh test installs nginx-light"
    assert shutil.which("openssl"), "no openssl command: scripts/deps.sh test installs openssl"
    d = tmp_path_factory.mktemp("nginx")
    certs = Certs(str(d))
    n = Nginx(d, certs)
    try:
        yield n
    finally:
        n.stop()
    assert n.proc.returncode is not None


# ---------------------------------------------------------------- helpers

def unique(name):
    return f"/{name}/{uuid.uuid4().hex[:12]}"


def strain(tmp_path, *args, quiet=True, timeout=120):
    """strain run ARGS with a summary export; returns (process, summary, samples file)."""
    tag = time.monotonic_ns()
    out = tmp_path / f"summary-{tag}.json"
    samples = tmp_path / f"samples-{tag}.json"
    p = run_strain("run", *(["--quiet"] if quiet else []), "--summary-export", str(out),
                   "--out", f"json={samples}", *args, timeout=timeout)
    assert out.exists(), f"no summary written (rc {p.returncode}): {p.stderr}"
    return p, json.loads(out.read_text()), samples


def points(samples, metric="http_reqs"):
    res = []
    with open(samples) as f:
        for line in f:
            d = json.loads(line)
            if d.get("type") == "Point" and d["metric"] == metric:
                res.append(d["data"])
    return res


def tag_values(samples, tag, metric="http_reqs"):
    return [p["tags"].get(tag) for p in points(samples, metric)]


def reqs(s):
    return s["metrics"]["http_reqs"]["count"]


def error_counts(s):
    return {code: e["count"] for code, e in s["errors"].items()}


# ---------------------------------------------------------------- 1. counts

@pytest.mark.parametrize("bound", [["--iterations", "600"], ["--duration", "2s"]],
                         ids=["iterations", "duration"])
def test_counts_equal_nginx_access_log(nginx, tmp_path, bound):
    path = unique("counts")
    p, s, samples = strain(tmp_path, "--url", nginx.url("main", path + "/x"), "--cacert",
                           nginx.certs.ca, "--vus", "6", *bound)
    assert p.returncode == 0, p.stderr
    n = reqs(s)
    if bound[0] == "--iterations":
        assert n == 600
    assert n > 50
    log = nginx.wait_entries(path, n)
    assert len(log) == n
    assert {e["status"] for e in log} == {"200"}
    assert s["errors"] == {}
    assert s["metrics"]["http_req_failed"]["rate"] == 0
    # Kept alive: at most one TLS connection per VU on nginx's side; strain
    # has a handshaking sample per request, zero on a reused connection.
    conns = {e["conn"] for e in log}
    assert 1 <= len(conns) <= 6
    hs = s["metrics"]["http_req_tls_handshaking"]
    assert hs["count"] == n and hs["max"] > 0 and hs["med"] == 0
    # Every sample was one of nginx's requests: statuses agree per sample too.
    assert tag_values(samples, "status") == ["200"] * n
    # Bytes: at least the HTTP bytes nginx counted each way (strain may
    # count the TLS records around them too, never less than what is inside).
    assert s["metrics"]["data_sent"]["count"] >= sum(int(e["req_len"]) for e in log)
    assert s["metrics"]["data_received"]["count"] >= sum(int(e["sent"]) for e in log)


# ---------------------------------------------------------------- 2./3. version and cipher

PROTOS = {
    "tls12": ("tls1.2", "TLSv1.2", TLS12_CIPHER, TLS12_CIPHER_IANA),
    "tls13": ("tls1.3", "TLSv1.3", TLS13_CIPHER, TLS13_CIPHER),
}


@pytest.mark.parametrize("server", sorted(PROTOS))
def test_tls_version_tag(nginx, tmp_path, server):
    tag, nginx_proto, _, _ = PROTOS[server]
    path = unique("version")
    p, s, samples = strain(tmp_path, "--url", nginx.url(server, path), "--cacert",
                           nginx.certs.ca, "--vus", "2", "--iterations", "40")
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 40 and s["errors"] == {}
    log = nginx.wait_entries(path, 40)
    assert len(log) == 40 and {e["proto"] for e in log} == {nginx_proto}
    assert tag_values(samples, "tls_version") == [tag] * 40
    # Also on the phase samples of the same requests.
    assert set(tag_values(samples, "tls_version", "http_req_duration")) == {tag}


@pytest.mark.parametrize("server", sorted(PROTOS))
def test_tls_cipher_suite_tag(nginx, tmp_path, server):
    _, _, nginx_cipher, iana = PROTOS[server]
    path = unique("cipher")
    p, s, samples = strain(tmp_path, "--url", nginx.url(server, path), "--cacert",
                           nginx.certs.ca, "--vus", "2", "--iterations", "20",
                           "--no-connection-reuse")
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 20 and s["errors"] == {}
    log = nginx.wait_entries(path, 20)
    assert len(log) == 20 and {e["cipher"] for e in log} == {nginx_cipher}
    assert tag_values(samples, "tls_cipher_suite") == [iana] * 20


# ---------------------------------------------------------------- 4. resumption

@pytest.mark.parametrize("server", sorted(PROTOS))
def test_session_resumption_seen_by_nginx(nginx, tmp_path, server):
    vus, iters = 2, 40
    common = ["--cacert", nginx.certs.ca, "--vus", str(vus), "--iterations", str(iters),
              "--no-connection-reuse"]

    path = unique("resume-on")
    p, on, _ = strain(tmp_path, "--url", nginx.url(server, path), *common)
    assert p.returncode == 0, p.stderr
    assert reqs(on) == iters and on["errors"] == {}
    log = nginx.wait_entries(path, iters)
    assert len(log) == iters
    assert len({e["conn"] for e in log}) == iters  # a new connection every request
    reused = sum(e["reused"] == "r" for e in log)
    # Each VU's first handshake is a full one; every later one resumes.
    assert iters - vus <= reused <= iters - 1, reused

    path = unique("resume-off")
    p, off, _ = strain(tmp_path, "--url", nginx.url(server, path), *common,
                       "--no-tls-resumption")
    assert p.returncode == 0, p.stderr
    assert reqs(off) == iters and off["errors"] == {}
    log = nginx.wait_entries(path, iters)
    assert len(log) == iters
    assert len({e["conn"] for e in log}) == iters
    assert sum(e["reused"] == "r" for e in log) == 0

    # strain measured a handshake for every request in both runs.
    for s in (on, off):
        hs = s["metrics"]["http_req_tls_handshaking"]
        assert hs["count"] == iters and hs["min"] > 0


# ---------------------------------------------------------------- 5. verification failures

FAILURES = {
    # id: (server, host, trust the CA?, expected code)
    "unknown-ca": ("main", "localhost", False, "1310"),
    "ip-not-in-cert": ("main", "127.0.0.2", True, "1311"),
    "name-not-in-cert": ("ipcert", "localhost", True, "1311"),
    "expired": ("expired", "localhost", True, "1312"),
    "not-yet-valid": ("notyet", "localhost", True, "1312"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_verification_failure_classified(nginx, tmp_path, case):
    server, host, trust, code = FAILURES[case]
    path = unique("verify-" + case)
    p, s, samples = strain(tmp_path, "--url", nginx.url(server, path, host),
                           *(["--cacert", nginx.certs.ca] if trust else []),
                           "--vus", "2", "--iterations", "10")
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 10
    assert error_counts(s) == {code: 10}
    assert s["metrics"]["http_req_failed"]["rate"] == 1
    assert tag_values(samples, "error_code") == [code] * 10
    assert tag_values(samples, "status") == ["0"] * 10
    # Refused during the handshake: nginx never saw a request.
    time.sleep(0.2)
    assert nginx.entries(path) == []


def test_ip_san_verifies(nginx, tmp_path):
    """The control for name-not-in-cert: the same certificate by its IP address."""
    path = unique("ip-san")
    p, s, _ = strain(tmp_path, "--url", nginx.url("ipcert", path, "127.0.0.1"), "--cacert",
                     nginx.certs.ca, "--vus", "1", "--iterations", "5")
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 5 and s["errors"] == {}
    log = nginx.wait_entries(path, 5)
    assert [e["status"] for e in log] == ["200"] * 5
    assert {e["sni"] for e in log} == {""}  # no SNI for an IP address (RFC 6066)


# ---------------------------------------------------------------- 6. mutual TLS

@pytest.mark.parametrize("reuse", [True, False], ids=["keepalive", "new-conns"])
def test_mtls_client_certificate(nginx, tmp_path, reuse):
    path = unique("mtls-ok")
    p, s, _ = strain(tmp_path, "--url", nginx.url("mtls", path), "--cacert", nginx.certs.ca,
                     "--cert", nginx.certs.client, "--key", nginx.certs.client_key,
                     "--vus", "2", "--iterations", "20",
                     *([] if reuse else ["--no-connection-reuse"]))
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 20 and s["errors"] == {}
    log = nginx.wait_entries(path, 20)
    assert len(log) == 20
    assert {e["status"] for e in log} == {"200"}
    assert {e["verify"] for e in log} == {"SUCCESS"}
    assert {e["dn"] for e in log} == {"CN=strain-client,O=strain tests"}


def test_mtls_cert_and_key_in_one_file(nginx, tmp_path):
    path = unique("mtls-combined")
    p, s, _ = strain(tmp_path, "--url", nginx.url("mtls", path), "--cacert", nginx.certs.ca,
                     "--cert", nginx.certs.client_combined, "--vus", "1", "--iterations", "5")
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 5 and s["errors"] == {}
    log = nginx.wait_entries(path, 5)
    assert [e["verify"] for e in log] == ["SUCCESS"] * 5


@pytest.mark.parametrize("client", ["none", "rogue"])
def test_mtls_rejected_by_nginx_is_http_400(nginx, tmp_path, client):
    path = unique("mtls-" + client)
    cert = [] if client == "none" else ["--cert", nginx.certs.rogue, "--key",
                                        nginx.certs.rogue_key]
    p, s, samples = strain(tmp_path, "--url", nginx.url("mtls", path), "--cacert",
                           nginx.certs.ca, *cert, "--vus", "2", "--iterations", "10")
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 10
    assert error_counts(s) == {"1400": 10}
    assert s["metrics"]["http_req_failed"]["rate"] == 1
    assert tag_values(samples, "status") == ["400"] * 10
    # The handshake completed: the 400s carry the TLS tags.
    assert tag_values(samples, "tls_version") == ["tls1.3"] * 10
    log = nginx.wait_entries(path, 10)
    assert [e["status"] for e in log] == ["400"] * 10
    if client == "none":
        assert {e["verify"] for e in log} == {"NONE"}
    else:
        assert all(e["verify"].startswith("FAILED") for e in log), log[0]


@pytest.mark.parametrize("client", ["none", "good"])
@pytest.mark.parametrize("server", ["mtls_strict", "mtls_strict12"], ids=["tls1.3", "tls1.2"])
def test_mtls_required_by_openssl_is_1313(nginx, tmp_path, server, client):
    """OpenSSL in nginx requiring the certificate (VerifyMode Require): no
    certificate is a TLS alert instead of nginx's 400. TLS 1.3: alert 116
    certificate_required, after the client's side of the handshake is over,
    so strain meets it reading the response. TLS 1.2: OpenSSL 3.0 sends
    alert 40 handshake_failure, after a CertificateRequest strain answered
    with no certificate."""
    path = unique(f"{server}-{client}")
    cert = ["--cert", nginx.certs.client, "--key", nginx.certs.client_key] if client == "good" else []
    p, s, samples = strain(tmp_path, "--url", nginx.url(server, path), "--cacert",
                           nginx.certs.ca, *cert, "--vus", "2", "--iterations", "10")
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 10
    if client == "good":
        assert s["errors"] == {}
        log = nginx.wait_entries(path, 10)
        assert [e["verify"] for e in log] == ["SUCCESS"] * 10
        return
    assert error_counts(s) == {"1313": 10}
    assert s["metrics"]["http_req_failed"]["rate"] == 1
    assert tag_values(samples, "status") == ["0"] * 10
    time.sleep(0.2)
    assert nginx.entries(path) == []


# ---------------------------------------------------------------- 7. insecure

@pytest.mark.parametrize("server", ["expired", "main"], ids=["expired", "unknown-ca"])
def test_insecure_skip_verify_warns(nginx, tmp_path, server):
    path = unique("insecure-" + server)
    p, s, _ = strain(tmp_path, "--url", nginx.url(server, path), "--vus", "2",
                     "--iterations", "20", "--insecure-skip-tls-verify", quiet=False)
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 20 and s["errors"] == {}
    log = nginx.wait_entries(path, 20)
    assert [e["status"] for e in log] == ["200"] * 20
    assert WARNING in p.stdout + p.stderr, p.stdout[-2000:]


def test_no_warning_when_verified(nginx, tmp_path):
    path = unique("verified")
    p, s, _ = strain(tmp_path, "--url", nginx.url("main", path), "--cacert", nginx.certs.ca,
                     "--vus", "1", "--iterations", "3", quiet=False)
    assert p.returncode == 0, p.stderr
    assert reqs(s) == 3 and s["errors"] == {}
    assert "not verified" not in p.stdout + p.stderr

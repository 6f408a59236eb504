"""strain collect over HTTPS: --tls-cert/--tls-key on the collector, and
`strain run --collector https://...` checking its certificate against the
system store plus --cacert (docs/distributed.md, "Token and TLS").

The certificate is made here with the openssl command, self-signed for
localhost and 127.0.0.1. Real processes throughout, bounded by timeouts and
killed at the end of each test."""
import json
import shutil
import socket
import ssl
import subprocess
import urllib.request

import pytest

from conftest import STRAIN, free_port
from test_collect import RATE_PLAN, finish, procs, write_plan  # noqa: F401 (procs is a fixture)

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="no openssl command")

TOKEN = "s3cret"


@pytest.fixture
def cert(tmp_path):
    """A P-256 certificate that is its own CA: (cert path, key path)."""
    crt, key = tmp_path / "collector.pem", tmp_path / "collector.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", str(key), "-out", str(crt), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"], check=True, capture_output=True,
                   timeout=30)
    return crt, key


def start_tls_collect(procs, tmp_path, cert, expect, *args):
    """A `strain collect` serving HTTPS on a free loopback port, once it says
    so: (process, port, merged summary path)."""
    port = free_port()
    out = tmp_path / "merged.json"
    p = procs.start("collect", *args, "--listen", f"127.0.0.1:{port}", "--expect", str(expect),
                    "--tls-cert", str(cert[0]), "--tls-key", str(cert[1]), "--token", TOKEN,
                    "--summary-export", str(out))
    line = p.stderr.readline()
    if "--web" in args and "live dashboard at https://" in line:
        line = p.stderr.readline()
    if "waiting for" not in line:
        p.kill()
        raise AssertionError(line + p.stderr.read())
    assert f"--collector https://127.0.0.1:{port}" in line, line
    return p, port, out


def instance(procs, target, url, summary, *args):
    return procs.start("run", "--url", target.url + "/health", "--rate", "20", "--duration", "2s", "--quiet",
                       "--collector", url, "--collector-token", TOKEN, "--summary-export", str(summary), *args)


def collector_output(s):
    return [o for o in s["outputs"] if o["spec"].startswith("collector=")][0]


def test_two_instances_push_over_https_and_the_counts_merge(target, procs, tmp_path, cert):
    plan = write_plan(tmp_path, target, RATE_PLAN % (30, "2s"))
    web = free_port()
    coll, port, merged = start_tls_collect(procs, tmp_path, cert, 2, str(plan), "--web", f"127.0.0.1:{web}")
    # The dashboard is served over HTTPS on the same certificate.
    ctx = ssl.create_default_context(cafile=str(cert[0]))
    with urllib.request.urlopen(f"https://localhost:{web}/summary.json", timeout=10, context=ctx) as r:
        assert r.status == 200 and "live" in json.loads(r.read())
    target.reset_stats()
    runs = [procs.start("run", str(plan), "--quiet", "--collector", f"https://localhost:{port}",
                        "--collector-token", TOKEN, "--cacert", str(cert[0]),
                        "--summary-export", str(tmp_path / f"i{i}.json")) for i in range(2)]
    for r in runs:
        rc, _, err = finish(r)
        assert rc == 0, err
        assert "collector" not in err, err   # the certificate was trusted, the token right
    rc, out, err = finish(coll)
    assert rc == 0, err
    m = json.loads(merged.read_text())
    inst = [json.loads((tmp_path / f"i{i}.json").read_text()) for i in range(2)]
    reqs = m["metrics"]["http_reqs"]["count"]
    assert reqs > 0
    assert reqs == sum(s["metrics"]["http_reqs"]["count"] for s in inst)
    assert reqs == target.stats()["total"]
    assert m["partial"] is False and "merged from 2 instances of 2 expected" in out
    for s in inst:
        assert collector_output(s)["points_dropped"] == 0


def test_an_instance_without_the_ca_warns_once_and_keeps_its_summary(target, procs, tmp_path, cert):
    coll, port, _ = start_tls_collect(procs, tmp_path, cert, 1)
    out = tmp_path / "s.json"
    rc, _, err = finish(instance(procs, target, f"https://localhost:{port}", out))
    assert rc == 0, err
    assert err.count("strain: collector:") == 1, err
    assert "certificate verify failed: self-signed certificate" in err and "--cacert" in err, err
    s = json.loads(out.read_text())
    assert s["metrics"]["http_reqs"]["count"] > 0
    pushed = collector_output(s)
    assert pushed["points_written"] == 0 and pushed["points_dropped"] >= 2
    # --insecure-skip-tls-verify is the target's: the collector is still checked.
    rc, _, err = finish(instance(procs, target, f"https://localhost:{port}", tmp_path / "s2.json",
                                 "--insecure-skip-tls-verify"))
    assert rc == 0, err
    assert "certificate verify failed" in err, err
    # The failed handshakes left the collector serving: a trusted instance
    # gets through and ends the collect.
    rc, _, err = finish(instance(procs, target, f"https://localhost:{port}", tmp_path / "s3.json",
                                 "--cacert", str(cert[0])))
    assert rc == 0, err
    assert "collector" not in err, err
    rc, _, err = finish(coll)
    assert rc == 0, err


def test_plain_http_to_the_https_port_is_refused_and_the_collector_goes_on(target, procs, tmp_path, cert):
    coll, port, merged = start_tls_collect(procs, tmp_path, cert, 1)
    # A client that connects and never says anything sits in the handshake
    # on the collector's loop; held open while the rest goes on.
    stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(b"POST /v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n"
                      b"Authorization: Bearer " + TOKEN.encode() + b"\r\n\r\n{}")
            answer = b""
            while True:
                got = s.recv(4096)
                if not got:
                    break
                answer += got
        assert answer.startswith(b"HTTP/1.1 400 "), answer
        assert b"https://" in answer, answer
        # strain run with an http:// URL to it: one warning that says so.
        rc, _, err = finish(instance(procs, target, f"http://127.0.0.1:{port}", tmp_path / "p.json"))
        assert rc == 0, err
        assert err.count("strain: collector:") == 1, err
        assert "push refused: HTTP 400" in err and "https://" in err, err
        rc, _, err = finish(instance(procs, target, f"https://127.0.0.1:{port}", tmp_path / "s.json",
                                     "--cacert", str(cert[0])))
        assert rc == 0, err
        assert "collector" not in err, err
        rc, _, err = finish(coll)
        assert rc == 0, err
        assert json.loads(merged.read_text())["metrics"]["http_reqs"]["count"] > 0
    finally:
        stalled.close()


@pytest.mark.parametrize("which", ["cert", "key"])
def test_a_bad_certificate_or_key_names_the_flag(tmp_path, cert, which):
    bad = tmp_path / "bad.pem"
    bad.write_text("not a PEM file\n")
    port = free_port()
    files = {"cert": (bad, cert[1]), "key": (cert[0], bad)}[which]
    p = subprocess.run([STRAIN, "collect", "--listen", f"127.0.0.1:{port}", "--expect", "1",
                        "--tls-cert", str(files[0]), "--tls-key", str(files[1])],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 104, p.stderr
    assert f"--tls-{which} {bad}" in p.stderr, p.stderr
    assert "waiting for" not in p.stderr   # refused before listening


def test_a_certificate_without_its_key_is_a_usage_error(tmp_path, cert):
    p = subprocess.run([STRAIN, "collect", "--listen", f"127.0.0.1:{free_port()}", "--expect", "1",
                        "--tls-cert", str(cert[0])], capture_output=True, text=True, timeout=30)
    assert p.returncode == 2, p.stderr
    assert "--tls-cert needs --tls-key" in p.stderr

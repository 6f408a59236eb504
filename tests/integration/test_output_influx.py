"""InfluxDB outputs end to end: a run against `strain target` written to a
real InfluxDB 1.x on loopback, read back with InfluxQL, in both schemas;
InfluxDB taken away mid-run and brought back; the v1 and v2 request formats
checked strictly against a loopback HTTP server."""
import base64
import json
import os
import re
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import STRAIN
from influx_lib import INFLUXD, Influx

needs_influxd = pytest.mark.skipif(not os.path.exists(INFLUXD), reason="influxd not installed (scripts/deps.sh test)")


@pytest.fixture
def influx(tmp_path):
    i = Influx(tmp_path / "influx")
    yield i
    i.stop()


def run(tmp_path, *args, env=None, timeout=120):
    out = tmp_path / f"summary-{time.monotonic_ns()}.json"
    p = subprocess.run([STRAIN, "run", "--quiet", "--summary-export", str(out), *args], capture_output=True,
                       text=True, timeout=timeout, env=env)
    assert out.exists(), f"no summary (rc {p.returncode}): {p.stderr}"
    return p, json.loads(out.read_text())


@needs_influxd
def test_aggregated_schema_sums_to_summary(target, influx, tmp_path):
    p, s = run(tmp_path, "--url", target.url + "/health", "--vus", "8", "--duration", "2s",
               "--out", f"influxdb={influx.url}/agg")
    assert p.returncode == 0, p.stderr
    o = s["outputs"][0]
    assert o["points_dropped"] == 0 and o["points_written"] > 0, o
    reqs = s["metrics"]["http_reqs"]["count"]
    assert reqs > 1000
    assert influx.scalar("agg", 'SELECT sum("count") FROM http_reqs') == reqs
    assert influx.scalar("agg", 'SELECT sum("count") FROM http_req_duration') == reqs
    assert influx.scalar("agg", 'SELECT sum("count") FROM iterations') == s["metrics"]["iterations"]["count"]
    assert influx.scalar("agg", 'SELECT sum("passes") FROM http_req_failed') == 0
    assert influx.scalar("agg", 'SELECT max("value") FROM vus_max') == 8
    # Every point is one interval of one tag set: the point count follows
    # the run's length, not its request rate.
    assert influx.scalar("agg", 'SELECT count("count") FROM http_reqs') <= 4
    keys = {v[0] for v in influx.query("agg", "SHOW TAG KEYS FROM http_req_duration")[0]["values"]}
    assert {"instance", "method", "status", "url", "name", "expected_response", "scenario", "proto"} <= keys
    fields = dict(influx.query("agg", "SHOW FIELD KEYS FROM http_req_duration")[0]["values"])
    assert fields == {"count": "integer", "sum": "float", "min": "float", "max": "float", "mean": "float",
                      "p50": "float", "p90": "float", "p95": "float", "p99": "float"}
    # Percentiles are in ms and ordered; the run total's max is the max of the intervals'.
    row = influx.query("agg", 'SELECT max("max"), min("min") FROM http_req_duration')[0]["values"][0]
    d = s["metrics"]["http_req_duration"]
    assert abs(row[1] - d["max"]) <= d["max"] * 0.01 and abs(row[2] - d["min"]) <= d["min"] * 0.01 + 0.001


@needs_influxd
def test_k6_schema_one_point_per_sample(target, influx, tmp_path):
    p, s = run(tmp_path, "--url", target.url + "/jobs/7", "--vus", "3", "--iterations", "1500",
               "--out", f"influxdb={influx.url}/k6db?schema=k6")
    assert p.returncode == 0, p.stderr
    o = s["outputs"][0]
    assert o["points_dropped"] == 0, o
    assert influx.scalar("k6db", 'SELECT sum("value") FROM http_reqs') == 1500
    assert influx.scalar("k6db", 'SELECT count("value") FROM http_req_duration') == 1500
    assert influx.scalar("k6db", 'SELECT count("value") FROM iteration_duration') == 1500
    # k6's layout: url, vu and iter are fields, not tags; empty tags left out.
    keys = {v[0] for v in influx.query("k6db", "SHOW TAG KEYS FROM http_reqs")[0]["values"]}
    assert keys == {"expected_response", "instance", "method", "name", "proto", "scenario", "status", "testid"}
    fields = dict(influx.query("k6db", "SHOW FIELD KEYS FROM http_reqs")[0]["values"])
    assert fields == {"value": "float", "url": "string", "vu": "integer", "iter": "integer"}
    vus = {v[1] for v in influx.query("k6db", 'SELECT "vu" FROM http_reqs')[0]["values"]}
    assert vus == {1, 2, 3}
    # Time metrics in ms, the same as the summary's.
    avg = influx.scalar("k6db", 'SELECT mean("value") FROM http_req_duration')
    assert abs(avg - s["metrics"]["http_req_duration"]["avg"]) < 0.01 * s["metrics"]["http_req_duration"]["avg"] + 0.001


@needs_influxd
def test_influx_down_mid_run_finishes_on_time_and_counts_drops(target, influx, tmp_path):
    t0 = time.monotonic()
    proc = subprocess.Popen([STRAIN, "run", "--quiet", "--url", target.url + "/health", "--vus", "4",
                             "--duration", "6s", "--summary-export", str(tmp_path / "s.json"),
                             "--out", f"influxdb={influx.url}/down?retries=2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Killed once the first points are in (about 1 s in; later on a loaded
    # machine), and strain has had time to read the answer to that write,
    # with the run still going.
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline and not influx.query("down", "SHOW MEASUREMENTS"):
        time.sleep(0.05)
    time.sleep(0.5)
    influx.stop(kill=True)
    out, err = proc.communicate(timeout=60)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, err
    assert elapsed < 6 + 4, elapsed  # the run's length, plus little
    s = json.loads((tmp_path / "s.json").read_text())
    o = s["outputs"][0]
    assert s["metrics"]["http_reqs"]["count"] > 1000
    assert o["points_written"] > 0 and o["points_dropped"] > 0 and o["write_errors"] > 0, json.dumps(o)
    assert "last_error" in o
    assert "strain: output influxdb" in err  # said once, live


@needs_influxd
def test_influx_restarted_writes_resume(target, influx, tmp_path):
    proc = subprocess.Popen([STRAIN, "run", "--quiet", "--url", target.url + "/health", "--vus", "4",
                             "--duration", "5s", "--summary-export", str(tmp_path / "s.json"),
                             "--out", f"influxdb={influx.url}/resume"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.3)
    influx.stop(kill=True)
    time.sleep(1.2)
    back = time.time_ns()
    influx.start()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    s = json.loads((tmp_path / "s.json").read_text())
    o = s["outputs"][0]
    assert o["write_errors"] > 0, o
    n_after = influx.scalar("resume", f'SELECT count("count") FROM http_reqs WHERE time > {back}')
    assert n_after >= 2  # intervals written after the restart
    # What was not dropped is in the database, exactly.
    in_db = influx.scalar("resume", 'SELECT sum("count") FROM http_reqs')
    assert in_db <= s["metrics"]["http_reqs"]["count"]
    if o["points_dropped"] == 0:
        assert in_db == s["metrics"]["http_reqs"]["count"]


# ---- request format, against a strict loopback server ----------------------

LINE = re.compile(r'^(?P<m>(?:[^ ,\\]|\\.)+)(?P<tags>(?:,(?:[^ ,=\\]|\\.)+=(?:[^ ,=\\]|\\.)+)*) '
                  r'(?P<fields>(?:[^ ,=\\]|\\.)+=(?:"(?:[^"\\]|\\.)*"|-?[0-9.e+-]+i?|t|f|true|false)'
                  r'(?:,(?:[^ ,=\\]|\\.)+=(?:"(?:[^"\\]|\\.)*"|-?[0-9.e+-]+i?))*) (?P<ts>[0-9]{19})$')


class Recorder(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def do_POST(self):
        srv = self.server
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with srv.lock:
            srv.requests.append((self.path, dict(self.headers), body))
            fail = srv.fail_first > 0
            if fail:
                srv.fail_first -= 1
        if fail:
            self.send_response(503)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"busy\n")
            return
        code = 200 if self.path.startswith("/query") else 204
        self.send_response(code)
        payload = b'{"results":[{"statement_id":0}]}' if code == 200 else b""
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def recorder():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    srv.lock = threading.Lock()
    srv.requests = []
    srv.fail_first = 0
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    yield srv
    srv.shutdown()
    srv.server_close()


def check_lines(body):
    lines = body.decode().split("\n")
    assert lines[-1] == "", "body must end with a newline"
    points = []
    for line in lines[:-1]:
        m = LINE.match(line)
        assert m, f"not strict line protocol: {line!r}"
        points.append(m)
    return points


def field(m, key):
    for part in re.findall(r'((?:[^,\\"]|\\.|"(?:[^"\\]|\\.)*")+)', m.group("fields")):
        k, _, v = part.partition("=")
        if k == key:
            return v
    return None


def test_v2_write_format(target, recorder, tmp_path):
    env = dict(os.environ, STRAIN_INFLUXDB_TOKEN="s3cret-t0ken")
    recorder.fail_first = 1  # the first write is answered 503, and retried
    p, s = run(tmp_path, "--url", target.url + "/health", "--vus", "2", "--duration", "2s", "--out",
               f"influxdb2={recorder.url}?org=my+org&bucket=load%2Ftests", env=env)
    assert p.returncode == 0, p.stderr
    assert "s3cret" not in p.stdout + p.stderr + json.dumps(s)
    o = s["outputs"][0]
    assert o["points_dropped"] == 0 and o["write_errors"] == 1, o
    reqs = 0
    written = 0
    for i, (path, headers, body) in enumerate(recorder.requests):
        u = urllib.parse.urlsplit(path)
        assert u.path == "/api/v2/write"
        assert urllib.parse.parse_qs(u.query) == {"org": ["my org"], "bucket": ["load/tests"], "precision": ["ns"]}
        assert headers["Authorization"] == "Token s3cret-t0ken"
        assert headers["Content-Type"].startswith("text/plain")
        assert headers["Host"] == recorder.url[len("http://"):]
        if i == 0:
            continue  # answered 503; its points came again
        for m in check_lines(body):
            written += 1
            assert ",instance=" in m.group("tags")
            if m.group("m") == "http_reqs":
                reqs += int(field(m, "count")[:-1])
                assert field(m, "count").endswith("i")
    assert written == o["points_written"]
    assert reqs == s["metrics"]["http_reqs"]["count"]


def test_v1_request_format_and_credentials(target, recorder, tmp_path):
    p, s = run(tmp_path, "--url", target.url + "/health", "--vus", "2", "--iterations", "200", "--out",
               f"influxdb=http://alice:pa%3Ass@{recorder.url[7:]}/my%22db?schema=k6")
    assert p.returncode == 0, p.stderr
    assert "pa:ss" not in p.stdout + p.stderr + json.dumps(s)
    assert "alice:***@" in s["outputs"][0]["spec"]
    auth = "Basic " + base64.b64encode(b"alice:pa:ss").decode()
    create = recorder.requests[0]
    assert create[0] == "/query"
    assert create[1]["Authorization"] == auth
    assert urllib.parse.parse_qs(create[2].decode()) == {"q": ['CREATE DATABASE "my\\"db"']}
    n = 0
    for path, headers, body in recorder.requests[1:]:
        u = urllib.parse.urlsplit(path)
        assert u.path == "/write"
        assert urllib.parse.parse_qs(u.query) == {"db": ['my"db'], "precision": ["ns"]}
        assert headers["Authorization"] == auth
        for m in check_lines(body):
            if m.group("m") == "http_reqs":
                n += float(field(m, "value"))
                assert field(m, "url") == f'"{target.url}/health"'
                assert re.fullmatch(r"[0-9]+i", field(m, "vu"))
    assert n == 200


def test_bad_specs_are_config_errors(tmp_path):
    for spec, msg in [("influxdb=ftp://h/db", "http://"), ("influxdb=http://h:8086", "database"),
                      ("influxdb=http://u:hunter2@h/db?schema=nope", "schema"),
                      ("influxdb2=http://h:8086?org=o&bucket=b", "STRAIN_INFLUXDB_TOKEN"),
                      ("nosuch=1", "unknown output")]:
        env = {k: v for k, v in os.environ.items() if k != "STRAIN_INFLUXDB_TOKEN"}
        p = subprocess.run([STRAIN, "run", "--url", "http://127.0.0.1:9/", "--out", spec], capture_output=True,
                           text=True, timeout=30, env=env)
        assert p.returncode == 104, (spec, p.returncode, p.stderr)
        assert msg in p.stderr, (spec, p.stderr)
        assert "hunter2" not in p.stderr


@pytest.fixture
def tls_recorder(tmp_path):
    """The recorder behind HTTPS, with a self-signed certificate for
    localhost made by the openssl command: (server, certificate path)."""
    import shutil
    import ssl
    if not shutil.which("openssl"):
        pytest.skip("no openssl command")
    cert, key = tmp_path / "influx.pem", tmp_path / "influx.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"], check=True, capture_output=True, timeout=30)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert), str(key))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    srv.lock = threading.Lock()
    srv.requests = []
    srv.fail_first = 0
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    srv.url = f"https://localhost:{srv.server_address[1]}"
    yield srv, cert
    srv.shutdown()
    srv.server_close()


def test_https_is_checked_against_cacert(target, tls_recorder, tmp_path):
    srv, cert = tls_recorder
    p, s = run(tmp_path, "--url", target.url + "/health", "--vus", "2", "--iterations", "100", "--out",
               f"influxdb={srv.url}/db?schema=k6", "--cacert", str(cert))
    assert p.returncode == 0, p.stderr
    o = s["outputs"][0]
    assert o["points_dropped"] == 0 and o["points_written"] > 0 and o["write_errors"] == 0, o
    assert srv.requests[0][0] == "/query" and srv.requests[0][1]["Host"] == srv.url[len("https://"):]
    n = sum(float(field(m, "value")) for _, _, body in srv.requests[1:] for m in check_lines(body)
            if m.group("m") == "http_reqs")
    assert n == 100
    # Without the CA the certificate is refused, and nothing is written.
    before = len(srv.requests)
    p, s = run(tmp_path, "--url", target.url + "/health", "--vus", "1", "--iterations", "10", "--out",
               f"influxdb={srv.url}/db")
    o = s["outputs"][0]
    assert o["points_written"] == 0 and o["write_errors"] > 0, o
    assert "certificate verify failed" in p.stderr, p.stderr
    assert len(srv.requests) == before

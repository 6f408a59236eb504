"""Response and request bodies, and connection lifetimes, against servers
strain does not control:

- Debian's nginx with `gzip on` for JSON: a JSON check passes on the gzip
  body, and data_received is what nginx sent ($bytes_sent: compressed);
- a small HTTP/1.1 server written here (python3-brotli, python3-zstandard)
  answering deflate, br and zstd bodies, a decompression bomb, a corrupt
  stream and an unknown coding; it decompresses the request bodies strain
  sends with `compression:` and compares them with the plan's; it counts
  the connections it accepted, for max_requests_per_connection and
  max_connection_age.

nginx, brotli or zstandard missing is a failure, not a skip: scripts/deps.sh
test installs them."""
import gzip
import json
import os
import shutil
import signal
import socket
import socketserver
import subprocess
import threading
import time
import zlib

import brotli
import zstandard

from conftest import STRAIN, free_port, run_strain, summary, count
from nginx_lib import conf_head

NGINX = os.environ.get("NGINX_BIN") or shutil.which("nginx") or "/usr/sbin/nginx"

DOC = {"name": "strain", "items": [{"id": i, "label": f"item number {i}"} for i in range(400)]}
RAW = json.dumps(DOC).encode()


def deflate(b):
    return zlib.compress(b)


def corrupt_gzip():
    z = bytearray(gzip.compress(RAW))
    for i in range(len(z) // 2, len(z) // 2 + 8):
        z[i] ^= 0x5A
    return bytes(z)


BODIES = {
    "/gzip": ("gzip", gzip.compress(RAW)),
    "/deflate": ("deflate", deflate(RAW)),
    "/br": ("br", brotli.compress(RAW)),
    "/zstd": ("zstd", zstandard.ZstdCompressor().compress(RAW)),
    "/plain": (None, RAW),
    "/br-chunked": ("br", brotli.compress(RAW)),      # chunked framing, 97-byte chunks
    "/gzip-eof": ("gzip", gzip.compress(RAW)),        # no length: the body ends at the close
    "/corrupt": ("gzip", corrupt_gzip()),
    "/unknown": ("compress-x", RAW),
    "/stacked": ("gzip, br", brotli.compress(gzip.compress(RAW))),
}
BOMB_SIZE = 50 << 20
DECODERS = {
    "gzip": gzip.decompress, "deflate": zlib.decompress, "br": brotli.decompress,
    "zstd": lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b),
}


class Server:
    """HTTP/1.1 with keep-alive, one thread per connection. Records the
    connections accepted, the requests, the bytes it wrote and the request
    bodies it received (decoded by their Content-Encoding)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.conns = 0
        self.requests = 0
        self.sent = 0
        self.uploads = []
        bomb = gzip.compress(b"\0" * BOMB_SIZE, compresslevel=9)
        self.bodies = dict(BODIES, **{"/bomb": ("gzip", bomb)})
        outer = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self):
                with outer.lock:
                    outer.conns += 1
                outer.serve(self.request)

        class TCP(socketserver.ThreadingTCPServer):
            daemon_threads = True
            allow_reuse_address = True

        self.srv = TCP(("127.0.0.1", 0), Handler)
        self.port = self.srv.server_address[1]
        self.thread = threading.Thread(target=self.srv.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, s):
        data = b""
        while True:
            while b"\r\n\r\n" not in data:
                try:
                    chunk = s.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                data += chunk
            head, data = data.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, path, _ = lines[0].split(" ", 2)
            hdrs = {}
            for ln in lines[1:]:
                k, v = ln.split(":", 1)
                hdrs[k.strip().lower()] = v.strip()
            n = int(hdrs.get("content-length", "0"))
            while len(data) < n:
                chunk = s.recv(65536)
                if not chunk:
                    return
                data += chunk
            body, data = data[:n], data[n:]
            with self.lock:
                self.requests += 1
            if method == "POST":
                coding = hdrs.get("content-encoding")
                try:
                    plain = DECODERS[coding](body) if coding else body
                except Exception as e:  # recorded, so the test names it
                    plain = f"undecodable: {e}".encode()
                with self.lock:
                    self.uploads.append((coding, int(hdrs.get("content-length", "-1")), len(body), plain))
                resp_body, coding = b"ok", None
            else:
                coding, resp_body = self.bodies.get(path, (None, RAW))
            out = [b"HTTP/1.1 200 OK", b"Content-Type: application/json"]
            if path.endswith("-chunked"):
                out.append(b"Transfer-Encoding: chunked")
                resp_body = b"".join(b"%x\r\n%s\r\n" % (len(resp_body[i:i + 97]), resp_body[i:i + 97])
                                     for i in range(0, len(resp_body), 97)) + b"0\r\n\r\n"
            elif path.endswith("-eof"):
                out.append(b"Connection: close")
            else:
                out.append(b"Content-Length: " + str(len(resp_body)).encode())
            if coding:
                out.append(b"Content-Encoding: " + coding.encode())
            msg = b"\r\n".join(out) + b"\r\n\r\n" + resp_body
            try:
                s.sendall(msg)
            except OSError:
                return
            with self.lock:
                self.sent += len(msg)
            if path.endswith("-eof"):
                s.shutdown(socket.SHUT_WR)
                return

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


def plan(tmp_path, text, name="plan.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def errors_by_code(s):
    """{code: count} from the summary's errors."""
    out = {}
    for code, e in s["errors"].items():
        out[int(code)] = e["count"]
    return out


def test_json_check_on_every_coding(tmp_path):
    srv = Server()
    try:
        steps = "".join(f"""
      - get: {srv.url(p)}
        name: {p}
        check: {{status: 200, json: {{"$.name": strain}}, json_exists: "$.items[399]"}}
""" for p in ("/gzip", "/deflate", "/br", "/zstd", "/plain", "/br-chunked", "/gzip-eof"))
        path = plan(tmp_path, f"""
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 2, iterations: 3}}
    flow:{steps}
""")
        p, s = summary(tmp_path, path)
        assert p.returncode == 0, p.stderr
        assert count(s, "http_reqs") == srv.requests == 42
        assert s["metrics"]["checks"]["fails"] == 0, p.stderr
        assert s["metrics"]["checks"]["passes"] == 42 * 3
        # The wire bytes, compressed: what the server wrote, not what decoded.
        assert count(s, "data_received") == srv.sent
        assert srv.sent < 42 * len(RAW) / 2
    finally:
        srv.stop()


def test_bodies_not_needed_are_not_decoded(tmp_path):
    """No body check: a corrupt stream is counted, not judged."""
    srv = Server()
    try:
        p, s = summary(tmp_path, "--url", srv.url("/corrupt"), "-i", "5")
        assert p.returncode == 0, p.stderr
        assert count(s, "http_reqs") == 5
        assert s["metrics"]["http_req_failed"]["passes"] == 0
        assert count(s, "data_received") == srv.sent
    finally:
        srv.stop()


def test_bomb_corrupt_unknown_are_classified(tmp_path):
    srv = Server()
    try:
        def step(p):
            return f"""
      - get: {srv.url(p)}
        name: {p}
        check: {{json_exists: $.name}}
"""
        path = plan(tmp_path, f"""
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 1, iterations: 2}}
    flow:{step("/bomb")}{step("/corrupt")}{step("/unknown")}{step("/stacked")}{step("/gzip")}
""")
        p, s = summary(tmp_path, path)
        codes = errors_by_code(s)
        assert codes.get(1703) == 2, (codes, p.stderr)
        assert codes.get(1701) == 2, codes
        assert codes.get(1702) == 4, codes
        assert count(s, "http_reqs") == 10 == srv.requests
        # The good one after each failure still decodes.
        assert s["metrics"]["checks"]["passes"] == 2
    finally:
        srv.stop()


def peak_rss(args, timeout=60):
    """strain ARGS run to its end; its peak RSS in KiB (wait4)."""
    proc = subprocess.Popen([STRAIN, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + timeout
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return ru.ru_maxrss
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            raise AssertionError("strain did not finish")
        time.sleep(0.05)


def test_bomb_memory_is_bounded(tmp_path):
    """4 VUs at once each decoding a 50 MiB bomb: strain's peak memory is
    within the four 4 MiB bodies of the same run on a small body."""
    srv = Server()
    try:
        rss = {}
        for name in ("/plain", "/bomb"):
            path = plan(tmp_path, f"""
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 4, iterations: 3}}
    flow:
      - get: {srv.url(name)}
        check: {{body_contains: x}}
""", name[1:] + ".yaml")
            rss[name] = peak_rss(["run", "--quiet", "--threads", "1", path])
        assert srv.requests == 24
        assert rss["/bomb"] < rss["/plain"] + 4 * 4 * 1024 + 8 * 1024, rss
    finally:
        srv.stop()


def test_compressed_request_bodies_arrive(tmp_path):
    srv = Server()
    try:
        steps = "".join(f"""
      - post: {srv.url("/upload")}
        compression: {c}
        json: {{name: strain, vu: "{{{{vu}}}}", text: "{'abc' * 200}"}}
      - post: {srv.url("/upload")}
        compression: {c}
        body: 'static {c} body {"xyz" * 300}'
""" for c in ("gzip", "deflate", "br", "zstd"))
        path = plan(tmp_path, f"""
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 2, iterations: 2}}
    flow:{steps}
""")
        p, s = summary(tmp_path, path)
        assert p.returncode == 0, p.stderr
        assert len(srv.uploads) == 2 * 2 * 8
        for coding, length, got, plain in srv.uploads:
            assert coding in ("gzip", "deflate", "br", "zstd")
            assert length == got  # Content-Length is the compressed length
            if plain.startswith(b"{"):
                doc = json.loads(plain)
                assert doc["name"] == "strain" and doc["vu"] in (1, 2) and doc["text"] == "abc" * 200
            else:
                assert plain == f"static {coding} body {'xyz' * 300}".encode(), plain[:80]
            assert got < len(plain)
        # Quick mode: --compression.
        before = len(srv.uploads)
        p = run_strain("run", "--quiet", "--url", srv.url("/upload"), "-X", "POST", "--body", "q" * 500,
                       "--compression", "zstd", "-i", "3", timeout=60)
        assert p.returncode == 0, p.stderr
        assert [u[0] for u in srv.uploads[before:]] == ["zstd"] * 3
        assert all(u[3] == b"q" * 500 for u in srv.uploads[before:])
    finally:
        srv.stop()


def test_compression_with_content_encoding_is_refused(tmp_path):
    path = plan(tmp_path, """
modules:
  m:
    executor: {type: per-vu-iterations, vus: 1, iterations: 1}
    flow:
      - post: http://127.0.0.1:1/x
        headers: {Content-Encoding: gzip}
        compression: gzip
        body: x
""")
    p = run_strain("validate", path, timeout=20)
    assert p.returncode == 104, p.stderr
    assert "plan.yaml:8:22: compression:" in p.stderr, p.stderr


def test_max_requests_per_connection(tmp_path):
    srv = Server()
    try:
        path = plan(tmp_path, f"""
defaults:
  max_requests_per_connection: 3
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 2, iterations: 10}}
    flow:
      - get: {srv.url("/plain")}
""")
        p, s = summary(tmp_path, path)
        assert p.returncode == 0, p.stderr
        assert count(s, "http_reqs") == srv.requests == 20
        assert srv.conns == 2 * 4  # ceil(10 / 3) per VU
        # A request's own value wins over the defaults'.
        srv.conns = srv.requests = 0
        path = plan(tmp_path, f"""
defaults:
  max_requests_per_connection: 3
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 1, iterations: 10}}
    flow:
      - get: {srv.url("/plain")}
        max_requests_per_connection: 5
""", "plan2.yaml")
        p, s = summary(tmp_path, path)
        assert p.returncode == 0, p.stderr
        assert srv.requests == 10 and srv.conns == 2
        # Quick mode.
        srv.conns = srv.requests = 0
        p, s = summary(tmp_path, "--url", srv.url("/plain"), "-i", "10", "--max-requests-per-connection", "4")
        assert p.returncode == 0, p.stderr
        assert count(s, "http_reqs") == srv.requests == 10
        assert srv.conns == 3
    finally:
        srv.stop()


def test_max_connection_age(tmp_path):
    """Think time longer than the age: every request finds its connection
    too old and opens a new one. An age of an hour: one connection."""
    srv = Server()
    try:
        path = plan(tmp_path, f"""
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 2, iterations: 3}}
    flow:
      - get: {srv.url("/plain")}
        max_connection_age: 50ms
      - think: 150ms
""")
        p, s = summary(tmp_path, path)
        assert p.returncode == 0, p.stderr
        assert count(s, "http_reqs") == srv.requests == 6
        assert srv.conns == 6
        srv.conns = srv.requests = 0
        p, s = summary(tmp_path, "--url", srv.url("/plain"), "-i", "6", "--vus", "2",
                       "--max-connection-age", "1h")
        assert p.returncode == 0, p.stderr
        assert srv.requests == 6 and srv.conns == 2
    finally:
        srv.stop()


def test_discard_with_a_body_check_is_refused(tmp_path):
    path = plan(tmp_path, """
defaults:
  discard_response_bodies: true
modules:
  m:
    executor: {type: per-vu-iterations, vus: 1, iterations: 1}
    flow:
      - get: http://127.0.0.1:1/a
        check: {status: 200}
      - get: http://127.0.0.1:1/b
        check: {json_exists: $.id}
""")
    p = run_strain("run", path, timeout=20)
    assert p.returncode == 104, p.stderr
    assert "plan.yaml:11:16: " in p.stderr and "discard_response_bodies" in p.stderr, p.stderr
    assert "plan.yaml:9:" not in p.stderr


def test_discard_runs(tmp_path):
    srv = Server()
    try:
        path = plan(tmp_path, f"""
defaults:
  discard_response_bodies: true
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 1, iterations: 4}}
    flow:
      - get: {srv.url("/gzip")}
        check: {{status: 200}}
""")
        p, s = summary(tmp_path, path)
        assert p.returncode == 0, p.stderr
        assert count(s, "http_reqs") == 4 and count(s, "data_received") == srv.sent
        p, s = summary(tmp_path, "--url", srv.url("/br"), "-i", "3", "--discard-response-bodies")
        assert p.returncode == 0, p.stderr
        assert count(s, "http_reqs") == 3
    finally:
        srv.stop()


# ---------------------------------------------------------------- nginx

def nginx_conf(d, port):
    fmt = '{"uri":"$request_uri","sent":"$bytes_sent","ce":"$sent_http_content_encoding","conn":"$connection"}'
    return conf_head(d, fmt, mime="types { application/json json; }") + f"""    gzip on;
    gzip_types application/json;
    gzip_min_length 1;
    server {{
        listen 127.0.0.1:{port};
        root {d}/www;
    }}
}}
"""


def test_nginx_gzip_json(tmp_path):
    d = str(tmp_path / "nginx")
    os.makedirs(os.path.join(d, "tmp"))
    os.makedirs(os.path.join(d, "www"))
    with open(os.path.join(d, "www", "data.json"), "wb") as f:
        f.write(RAW)
    proc = None
    try:
        for _ in range(5):
            port = free_port()
            conf = os.path.join(d, "nginx.conf")
            with open(conf, "w") as f:
                f.write(nginx_conf(d, port))
            proc = subprocess.Popen([NGINX, "-p", d + "/", "-c", conf, "-e", os.path.join(d, "error.log"),
                                     "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + 10
            up = False
            while proc.poll() is None and time.monotonic() < deadline:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    up = True
                    break
                except OSError:
                    time.sleep(0.05)
            if up:
                break
            proc.wait(timeout=10)
            proc = None
        assert proc, "nginx did not start"
        path = plan(tmp_path, f"""
defaults:
  headers: {{Accept-Encoding: gzip}}
modules:
  m:
    executor: {{type: per-vu-iterations, vus: 2, iterations: 5}}
    flow:
      - get: http://127.0.0.1:{port}/data.json
        check: {{status: 200, json: {{"$.name": strain, "$.items[7].id": 7}}}}
""")
        p, s = summary(tmp_path, path)
        assert p.returncode == 0, p.stderr
        assert s["metrics"]["checks"]["fails"] == 0
        assert s["metrics"]["checks"]["passes"] == 30
        deadline = time.monotonic() + 5
        while True:
            with open(os.path.join(d, "access.log")) as f:
                entries = [json.loads(line) for line in f]
            if len(entries) >= 10 or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert len(entries) == 10 == count(s, "http_reqs")
        assert all(e["ce"] == "gzip" for e in entries), entries
        sent = sum(int(e["sent"]) for e in entries)
        assert count(s, "data_received") == sent
        assert sent < 10 * len(RAW) / 2
    finally:
        if proc and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

"""Allocations per request for the HTTP client's features together: a login
answered with a 302 and a Set-Cookie, the redirect followed to a gzip JSON
body read by a check, the cookie sent back on every later request of the
iteration, and a request with a plan `cookies:` value. The server is a small
one written here (Python's standard library); the count is
bench/alloc/count.c's, N and then 4N iterations, as bench/alloc/run.sh does.
Usage: make && /usr/bin/python3 bench/alloc/client.py [N]  (markdown rows)"""
import gzip
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
STRAIN = os.path.join(ROOT, "build", "strain")
BODY = gzip.compress(json.dumps({"name": "profile", "items": list(range(50))}).encode())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(n)
        self.send_response(302)
        self.send_header("Location", "/data")
        self.send_header("Set-Cookie", "session=s-1234567890; Path=/; Max-Age=600")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self):
        ok = "session=s-1234567890" in (self.headers.get("Cookie") or "")
        body = BODY if ok else b"no session"
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        if ok:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def allocs(shim, plan):
    p = subprocess.run([STRAIN, "run", "--quiet", "--threads", "1", plan],
                       env=dict(os.environ, LD_PRELOAD=shim), capture_output=True, text=True, timeout=300)
    m = re.search(r"allocations: malloc (\d+) calloc (\d+) realloc (\d+)", p.stderr)
    if not m:
        sys.exit(f"no allocation count: {p.stderr[-500:]}")
    return sum(map(int, m.groups()))


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    work = tempfile.mkdtemp()
    shim = os.path.join(work, "count.so")
    subprocess.run(["cc", "-O2", "-shared", "-fPIC", "-o", shim, os.path.join(ROOT, "bench/alloc/count.c"), "-ldl"],
                   check=True)
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{srv.server_address[1]}"
    # 4 requests per iteration: the POST, its redirect, the GET with the
    # jar's cookie and the GET with the jar's and the plan's cookies.
    flow = ("      - post: /login\n        json: {user: \"u{{vu}}\"}\n"
            "        check: {status: 200, json_exists: $.name}\n"
            "      - get: /data\n        check: {status: 200, json: {$.name: profile}}\n"
            "      - get: /data\n        cookies: {theme: dark}\n        check: {status: 200}\n")
    try:
        print("| case | requests | allocations | requests | allocations | per extra request |")
        print("|---|---|---|---|---|---|")
        got = []
        for iters in (n, 4 * n):
            plan = os.path.join(work, "plan.yaml")
            with open(plan, "w") as f:
                f.write(f"target: {url}\nmodules:\n  m:\n"
                        f"    executor: {{type: shared-iterations, vus: 4, iterations: {iters}}}\n"
                        f"    flow:\n{flow}")
            got.append(allocs(shim, plan))
        reqs = 4 * n
        print(f"| login 302 + Set-Cookie, gzip JSON check, cookies sent back, plan cookies | {reqs} | {got[0]} "
              f"| {4 * reqs} | {got[1]} | {(got[1] - got[0]) / (3 * reqs):.3f} |")
    finally:
        srv.shutdown()
        srv.server_close()


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Does `strain collect` keep up with many instances? 64 simulated instances
each push one strain-collect/2 snapshot a second, as `strain run
--collector` does, for DURATION seconds.

The snapshot pushed is a real one: a `strain run` against `strain target`
(a plan of MODULES modules x REQS named requests, so many series and
histograms) pushes to a capture server here first, and its busiest push is
replayed by every simulated instance (with its own id and seq). Measured:
how long each push takes to be answered (p50, p99, max), the collector's
CPU (user + sys from /proc), whether every push was accepted, and whether
the merged http_reqs count is exactly pushes x the snapshot's count.

Usage: /usr/bin/python3 bench/collect/sim.py [INSTANCES] [DURATION_S]
Prints one Markdown table row. Loopback only; every process is stopped."""
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
STRAIN = os.environ.get("STRAIN_BIN") or os.path.join(ROOT, "build", "strain")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 64
DURATION = int(sys.argv[2]) if len(sys.argv) > 2 else 15
MODULES, REQS = 4, 5


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def capture_snapshot(tmp):
    """The busiest push of a real 3-second run."""
    got = []

    class H(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            got.append(self.rfile.read(int(self.headers["Content-Length"])))
            body = b'{"action":"continue"}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tgt = subprocess.Popen([STRAIN, "target", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    try:
        addr = tgt.stdout.readline().split()[-1]
        mods = "".join(
            f"  m{m}:\n    executor: {{type: constant-vus, vus: 2, duration: 3s}}\n    flow:\n" +
            "".join(f"      - get: /health\n        name: r{m}-{r}\n" for r in range(REQS))
            for m in range(MODULES))
        plan = os.path.join(tmp, "plan.yaml")
        with open(plan, "w") as f:
            f.write(f"target: http://{addr}\nmodules:\n{mods}")
        subprocess.run([STRAIN, "run", plan, "--quiet", "--collector", f"http://127.0.0.1:{srv.server_port}"],
                       check=True, timeout=60, capture_output=True)
    finally:
        tgt.terminate()
        tgt.wait(timeout=10)
        srv.shutdown()
    return max(got, key=len)


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    tmp = tempfile.mkdtemp(prefix="collect-bench-")
    snap = json.loads(capture_snapshot(tmp))
    per_push = sum(s["sum"] for s in snap["series"] if s["metric"] == "http_reqs")
    nseries = len(snap["series"])
    port = free_port()
    merged = os.path.join(tmp, "merged.json")
    coll = subprocess.Popen([STRAIN, "collect", "--listen", f"127.0.0.1:{port}", "--expect", str(N), "--quiet",
                             "--summary-export", merged], stderr=subprocess.PIPE, text=True)
    lat, refused, lock = [], [], threading.Lock()
    try:
        assert "waiting for" in coll.stderr.readline()
        threading.Thread(target=lambda: coll.stderr.read(), daemon=True).start()
        url = f"http://127.0.0.1:{port}/v1/push"
        t0 = time.monotonic() + 0.5
        cpu0 = cpu_s(coll.pid)

        def instance(i):
            body = dict(snap, id=f"sim-{i}/1", instance=f"sim-{i}")
            for k in range(DURATION):
                time.sleep(max(0.0, t0 + k + i / N * 0.05 - time.monotonic()))
                body.update(seq=k, final=(k == DURATION - 1))
                data = json.dumps(body).encode()
                t = time.monotonic()
                try:
                    with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST",
                                                headers={"Content-Type": "application/json"}), timeout=10) as r:
                        r.read()
                        ok = r.status == 200
                except Exception:
                    ok = False
                with lock:
                    (lat if ok else refused).append(time.monotonic() - t)

        ths = [threading.Thread(target=instance, args=(i,)) for i in range(N)]
        for t in ths:
            t.start()
        for t in ths:
            t.join()
        cpu1 = cpu_s(coll.pid)
        coll.wait(timeout=60)
    finally:
        if coll.poll() is None:
            coll.kill()
            coll.wait()
    m = json.load(open(merged))
    got = m["metrics"]["http_reqs"]["count"]
    want = per_push * N * DURATION
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    print(f"| {N} | {DURATION} s | {nseries} | {len(json.dumps(snap)) // 1024} KiB | {len(lat)}/{N * DURATION} | "
          f"{q(0.5):.1f} / {q(0.99):.1f} / {lat[-1] * 1000:.1f} ms | {100 * (cpu1 - cpu0) / DURATION:.0f}% | "
          f"{'exact' if got == want and not refused else f'{got} of {want}'} |")


if __name__ == "__main__":
    main()

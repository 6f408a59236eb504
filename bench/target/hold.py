#!/usr/bin/python3
"""Opens N keep-alive connections to a `strain target`, holds them all at
once, sends one request on every connection, reads every response, and
reports how many succeeded and the target's memory. Loopback only.
Usage: hold.py ADDR N PID"""
import resource
import socket
import sys
import time

addr, n, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3]
host, port = addr.rsplit(":", 1)
assert host.startswith("127."), "loopback only"
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def rss_kb():
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])


rss0 = rss_kb()
t0 = time.monotonic()
socks = []
for i in range(n):
    s = socket.create_connection((host, int(port)), timeout=30)
    socks.append(s)
t_conn = time.monotonic() - t0
req = b"GET /health HTTP/1.1\r\nHost: bench\r\n\r\n"
t1 = time.monotonic()
for s in socks:
    s.sendall(req)
ok = 0
for s in socks:
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    ok += data.startswith(b"HTTP/1.1 200")
t_req = time.monotonic() - t1
time.sleep(0.2)
rss1 = rss_kb()
# A second round on the same (still open) connections: keep-alive held.
for s in socks:
    s.sendall(req)
ok2 = 0
for s in socks:
    data = s.recv(4096)
    ok2 += data.startswith(b"HTTP/1.1 200")
for s in socks:
    s.close()
print(f"connections={n} opened_in={t_conn:.2f}s round1_ok={ok} round1_in={t_req:.2f}s "
      f"round2_ok={ok2} target_rss_before={rss0}KiB target_rss_holding={rss1}KiB "
      f"per_conn={(rss1 - rss0) * 1024 / n:.0f}B")

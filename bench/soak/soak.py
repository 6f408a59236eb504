#!/usr/bin/python3
"""Soak: strain at a steady high rate against `strain target` for a long
time with the InfluxDB (aggregated schema) and JSON outputs on, sampling
strain's RSS and open file descriptors every second. Passes when, after
the warm-up, RSS stays within +-5 % of its mean and the descriptor count
does not grow (the last third never above the first third's highest); prints the curve's start, warm and end figures and the
growth projected to 12 hours, and appends them to bench/soak/RESULTS.md.

Usage: bench/soak/soak.py [--seconds 600] [--rate 5000] [--warmup 60]
The JSON output goes to /dev/null (every sample is serialised and written,
but 10 minutes of them would fill a disk). Needs influxd
(scripts/deps.sh test). Loopback only; everything it starts, it stops."""
import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from influx_lib import Influx  # noqa: E402


def proc_figures(pid):
    rss = None
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1])
    return rss, len(os.listdir(f"/proc/{pid}/fd"))


def slope_per_hour(ts, ys):
    n = len(ts)
    mt, my = sum(ts) / n, sum(ys) / n
    den = sum((t - mt) ** 2 for t in ts)
    return 0.0 if den == 0 else sum((t - mt) * (y - my) for t, y in zip(ts, ys)) / den * 3600


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=600)
    ap.add_argument("--rate", type=int, default=5000)
    ap.add_argument("--warmup", type=int, default=60)
    ap.add_argument("--vus", type=int, default=64, help="VUs preallocated (each keeps one connection)")
    ap.add_argument("--strain", default=os.path.join(ROOT, "build", "strain"))
    ap.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="strain-soak-")
    tgt = subprocess.Popen([a.strain, "target", "--listen", "127.0.0.1:0"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL, text=True)
    influx = run = None
    try:
        url = "http://" + tgt.stdout.readline().split()[-1]
        influx = Influx(os.path.join(work, "influx"))
        run = subprocess.Popen([a.strain, "run", "--quiet", "--url", url + "/health", "--rate", str(a.rate),
                                "--vus", str(a.vus), "--duration", f"{a.seconds}s",
                                "--out", f"influxdb={influx.url}/soak", "--out", "json=/dev/null",
                                "--summary-export", os.path.join(work, "summary.json")],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        t0 = time.monotonic()
        curve = []  # (seconds, rss KiB, fds)
        while run.poll() is None:
            try:
                rss, fds = proc_figures(run.pid)
                curve.append((time.monotonic() - t0, rss, fds))
            except (OSError, TypeError):
                pass
            time.sleep(1)
        err = run.stderr.read()
        if run.returncode != 0:
            print(f"soak: strain exited {run.returncode}: {err[-2000:]}", file=sys.stderr)
            return 1
    finally:
        for p in (run, tgt):
            if p and p.poll() is None:
                p.terminate()
                p.wait(timeout=30)
        if influx:
            influx.stop()
    import json
    s = json.load(open(os.path.join(work, "summary.json")))
    with open(os.path.join(work, "curve.csv"), "w") as f:
        f.write("seconds,rss_kib,fds\n" + "".join(f"{t:.1f},{r},{d}\n" for t, r, d in curve))
    warm = [c for c in curve if c[0] >= a.warmup and c[0] <= a.seconds - 2]  # the last seconds: the flush
    if len(warm) < 5:
        print("soak: too short a run after the warm-up", file=sys.stderr)
        return 1
    rss = [c[1] for c in warm]
    mean = sum(rss) / len(rss)
    lo, hi = min(rss), max(rss)
    fds = {c[2] for c in warm}
    slope = slope_per_hour([c[0] for c in warm], rss)
    # Descriptors: an arrival-rate run's idle VUs lose their kept-alive
    # connections to the target's idle timeout and open them again when
    # needed, so the count moves below the VUs' bound; what must not happen
    # is growth: the last third never goes above the first third's highest.
    third = max(1, len(warm) // 3)
    fds_bounded = max(c[2] for c in warm[-third:]) <= max(c[2] for c in warm[:third])
    ok = hi <= mean * 1.05 and lo >= mean * 0.95 and fds_bounded
    line = (f"| {datetime.date.today()} | {a.seconds} s at {a.rate}/s | {int(s['metrics']['http_reqs']['count'])} | "
            f"{curve[0][1] / 1024:.1f} | {warm[0][1] / 1024:.1f} | {curve[-1][1] / 1024:.1f} | "
            f"{lo / 1024:.1f}..{hi / 1024:.1f} (mean {mean / 1024:.1f}) | {min(fds)}..{max(fds)} | "
            f"{slope * 12 / 1024:+.1f} | {'flat' if ok else 'NOT FLAT'} |")
    print("date | run | requests | RSS start MiB | warm | end | after warm-up | fds | 12 h projection MiB | verdict")
    print(line)
    print(f"soak: curve in {work}/curve.csv")
    if not a.no_record:
        with open(os.path.join(HERE, "RESULTS.md"), "a") as f:
            f.write(line + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""Turns bench/run.sh's raw lines (tool conns requests user sys maxrss_kb)
into a Markdown table: median requests/s, CPU µs per request, peak RSS, and
strain's CPU-per-request ratio to wrk's."""
import datetime
import platform
import statistics
import subprocess
import sys

path, secs, reps = sys.argv[1], float(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(path):
    tool, conns, reqs, user, sys_, rss = line.split()
    rows.setdefault((tool, int(conns)), []).append((int(reqs), float(user) + float(sys_), int(rss)))

cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
print(f"\n### {datetime.date.today()} — {platform.node()}, {cpu}, {platform.release()}")
print(f"\nnginx pinned to CPU 0, generator to CPU 1, {secs:.0f} s per run, median of {reps}; "
      "strain with all metrics on, one thread.\n")
print("| connections | tool | requests/s | CPU µs/request | peak RSS | strain ÷ wrk (CPU/request) |")
print("|---|---|---|---|---|---|")
for conns in sorted({c for _, c in rows}):
    per = {}
    for tool in ("wrk", "strain"):
        runs = rows.get((tool, conns), [])
        if not runs:
            continue
        rps = statistics.median(r[0] / secs for r in runs)
        us = statistics.median(r[1] * 1e6 / r[0] for r in runs)
        rss = max(r[2] for r in runs)
        per[tool] = us
        ratio = f"{us / per['wrk']:.2f}" if tool == "strain" and "wrk" in per else ""
        print(f"| {conns} | {tool} | {rps:,.0f} | {us:.2f} | {rss / 1024:.1f} MiB | {ratio} |")

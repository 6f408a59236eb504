"""Turns bench/tls/run.sh's raw lines into a Markdown table.

results: mode tool requests errors user sys maxrss_kb   (one line per run)
probes:  mode tool requests resumed protocols            (one 2 s probe per case)
Prints median requests/s, median CPU µs per request, peak RSS, the share of
handshakes resumed in the probe, and the CPU-per-request ratio to wrk's in
the same mode."""
import datetime
import platform
import statistics
import subprocess
import sys

path, probes, secs, reps, keyname, versions = sys.argv[1:7]
secs = float(secs)
rows, order = {}, []
for line in open(path):
    mode, tool, reqs, errs, user, sys_, rss = line.split()
    if (mode, tool) not in rows:
        order.append((mode, tool))
    rows.setdefault((mode, tool), []).append((int(reqs), int(errs), float(user) + float(sys_), int(rss)))
probe = {}
for line in open(probes):
    mode, tool, total, reused, protos = line.split()
    probe[(mode, tool)] = (int(total), int(reused), protos)

label = {
    "wrk": "wrk",
    "strain": "strain",
    "strain-nores": "strain --no-tls-resumption",
    "strain-nores-noverify": "strain --no-tls-resumption --insecure-skip-tls-verify",
}
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"],
                     capture_output=True, text=True).stdout.strip()
print(f"\n### {datetime.date.today()} — {platform.node()}, {cpu}, {platform.release()}, {keyname}")
print(f"\nnginx pinned to CPU 0, generator to CPU 1, 50 connections, {secs:.0f} s per run, "
      f"median of {reps}; strain with all metrics on, one thread. {versions}.\n")
print("| mode | tool | requests/s | CPU µs/request | peak RSS | errors | resumed (probe) | strain ÷ wrk (CPU/request) |")
print("|---|---|---|---|---|---|---|---|")
wrk = {}
for mode, tool in order:
    runs = rows[(mode, tool)]
    ok = [r for r in runs if r[0] > 0]
    if not ok:
        print(f"| {mode} | {label.get(tool, tool)} | no requests | | | | | |")
        continue
    rps = statistics.median(r[0] / secs for r in ok)
    us = statistics.median(r[2] * 1e6 / r[0] for r in ok)
    rss = max(r[3] for r in ok)
    errs = sum(r[1] for r in runs)
    if tool == "wrk":
        wrk[mode] = us
    ratio = f"{us / wrk[mode]:.2f}" if tool != "wrk" and mode in wrk else ""
    res = ""
    if mode != "keepalive" and (mode, tool) in probe:
        total, reused, protos = probe[(mode, tool)]
        res = f"{100 * reused / total:.1f} % ({protos})" if total else "no requests"
    print(f"| {mode} | {label.get(tool, tool)} | {rps:,.0f} | {us:.2f} | {rss / 1024:.1f} MiB | {errs} | {res} | {ratio} |")

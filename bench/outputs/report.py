"""Turns bench/outputs/run.sh's raw lines (case requests written dropped
user sys maxrss_kb) into the Markdown section appended to bench/RESULTS.md."""
import os
import platform
import statistics
import sys
import time

path, secs, reps = sys.argv[1], sys.argv[2], sys.argv[3]
rows = {}
for line in open(path):
    case, reqs, written, dropped, user, sys_, rss = line.split()
    rows.setdefault(case, []).append((int(reqs), int(written), int(dropped), float(user) + float(sys_), int(rss)))

cpu = platform.processor() or "unknown CPU"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass


def us_per_req(r):
    return r[3] / r[0] * 1e6


base = statistics.median(us_per_req(r) for r in rows["none"])
print(f"\n### {time.strftime('%Y-%m-%d')} — outputs: extra CPU per request ({cpu}, {platform.release()})\n")
cases = os.environ.get("CASES")
cmd = (f'CASES="{cases}" ' if cases else "") + f"sh bench/outputs/run.sh {secs} {reps}"
print(f"`{cmd}`: `strain target` and influxd on CPU 0, `strain run --threads 1 "
      f"--vus 50` on CPU 1 (its output threads too) against /health, {secs} s per run, median of {reps}. "
      "CPU = user + sys of the generator process / requests completed.\n")
print("| output | requests/s | CPU µs/request | extra CPU/request | points/s written | dropped | peak RSS |")
print("|---|---|---|---|---|---|---|")
for case in ["none", "influxdb", "influxdb-k6", "json", "json.gz", "csv"]:
    if case not in rows:
        continue
    rs = rows[case]
    med = statistics.median(us_per_req(r) for r in rs)
    rps = statistics.median(r[0] for r in rs) / float(secs)
    wr = statistics.median(r[1] for r in rs) / float(secs)
    dr = statistics.median(r[2] for r in rs)
    rss = statistics.median(r[4] for r in rs) / 1024
    extra = "—" if case == "none" else f"{(med - base) / base * 100:+.1f}%"
    label = {"influxdb": "influxdb (aggregated)", "influxdb-k6": "influxdb ?schema=k6"}.get(case, case)
    print(f"| {label} | {rps:,.0f} | {med:.2f} | {extra} | {wr:,.0f} | {dr:,} | {rss:.1f} MiB |")

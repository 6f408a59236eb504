#!/bin/sh
# Arrival-rate accuracy: `strain run --rate R` against `strain target`
# /health, from 10/s up to the highest rate this machine sustains. The
# target runs on CPU 0 (--threads 1), the generator on CPU 1 (--threads 1).
# For each rate: iterations completed vs the R x D the schedule owes,
# dropped iterations, and how punctual the starts were
# (iteration_start_delay). Every run is bounded in time.
# Usage: sh bench/executors/run.sh [SECONDS] [RATES...]   (a markdown table on stdout)
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-10}
[ $# -gt 0 ] && shift
rates=${*:-10 100 1000 5000 10000 20000 30000 40000 60000}
strain=build/strain
[ -x "$strain" ] || { echo "bench: build first (make)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

out=$(mktemp)
sum=$(mktemp)
taskset -c 0 "$strain" target --listen 127.0.0.1:0 --threads 1 --quiet >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out" "$sum"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -s "$out" ] && break
	sleep 0.1
done
addr=$(head -1 "$out" | awk '{print $NF}')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| rate/s | owed | completed | achieved/s | error | dropped | start delay p50 | p99 | max | http p99 |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for r in $rates; do
	# rate/200 preallocated (5 ms of iterations), four times that at most.
	# Bigger pools do worse here: each VU is a connection the one-core
	# target must serve (see bench/RESULTS.md).
	vus=$((r / 200 + 4))
	timeout $((secs + 40)) taskset -c 1 "$strain" run --quiet --threads 1 --url "http://$addr/health" \
		--rate "$r" --duration "${secs}s" --vus "$vus" --max-vus $((vus * 4)) --summary-export "$sum" 2>/dev/null || true
	/usr/bin/python3 - "$sum" "$r" "$secs" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))["metrics"]
r, d = float(sys.argv[2]), float(sys.argv[3])
owed = round(r * d)
n = s["iterations"]["count"]
drop = s.get("dropped_iterations", {}).get("count", 0)
dl = s["iteration_start_delay"]
ms = lambda x: f"{x * 1000:.0f} µs" if x < 1 else f"{x:.2f} ms"
print(f"| {r:,.0f} | {owed:,} | {n:,} | {n / d:,.1f} | {100 * (n - owed) / owed:+.2f}% | {drop:,} | "
      f"{ms(dl['med'])} | {ms(dl['p(99)'])} | {ms(dl['max'])} | {ms(s['http_req_duration']['p(99)'])} |")
PY
done

#!/bin/sh
# Benchmarks `strain target` on loopback: /health throughput with the
# target on one core (--threads 1, CPU 1) and wrk on the other (CPU 0), a
# module route through the database thread, then 10,000 concurrent
# keep-alive connections. Every run is bounded in time.
# Usage: sh bench/target/run.sh [SECONDS]   (results on stdout; copy into RESULTS.md)
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-10}
strain=build/strain
[ -x "$strain" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "bench: needs wrk (sh scripts/deps.sh bench)" >&2; exit 1; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

out=$(mktemp)
taskset -c 1 "$strain" target --listen 127.0.0.1:0 --threads 1 --quiet \
	--db-slots 1000 --db-pool jobs=1000 --db-time jobs=1 >"$out" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -f "$out"' EXIT INT TERM
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -s "$out" ] && break
	sleep 0.1
done
addr=$(head -1 "$out" | awk '{print $NF}')
echo "target $addr (pid $pid, --threads 1 on CPU 1); wrk on CPU 0; ${secs}s per run"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), kernel $(uname -r)"
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"

for c in 50 400; do
	echo "--- GET /health, wrk -t1 -c$c"
	timeout $((secs + 10)) taskset -c 0 wrk -t1 -c$c -d"${secs}s" --latency "http://$addr/health" |
		grep -E "Requests/sec|Latency|50%|99%|Socket errors|requests in"
done
echo "--- GET /jobs/1 (through the database thread; 1 ms query, pool 1000), wrk -t1 -c100"
timeout $((secs + 10)) taskset -c 0 wrk -t1 -c100 -d"${secs}s" --latency "http://$addr/jobs/1" |
	grep -E "Requests/sec|Latency|50%|99%|Socket errors|requests in|Transfer"
echo "--- 10,000 concurrent keep-alive connections: wrk -t2 -c10000 (unpinned)"
timeout $((secs + 30)) wrk -t2 -c10000 -d"${secs}s" "http://$addr/health" |
	grep -E "Requests/sec|Latency|Socket errors|requests in"
echo "--- target still healthy: $(curl -s "http://$addr/health")"
kill $pid; wait $pid 2>/dev/null || true

# A fresh target, so its memory growth is what 10,000 connections cost.
: >"$out"
taskset -c 1 "$strain" target --listen 127.0.0.1:0 --threads 1 --quiet >"$out" 2>&1 &
pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
	[ -s "$out" ] && break
	sleep 0.1
done
addr=$(head -1 "$out" | awk '{print $NF}')
echo "--- 10,000 connections held open at once on a fresh target, one request each, twice"
timeout 120 /usr/bin/python3 bench/target/hold.py "$addr" 10000 "$pid"

#!/bin/sh
# Throughput of a test split into execution segments: one process with V VUs
# against `strain target`, then the same plan as N segments in N processes
# started together (--segments N --segment-index I --start-at), merged with
# strain merge. The totals should agree within noise: segments cost nothing
# but the processes themselves. Loopback only; every run is bounded.
# Usage: sh bench/segments/run.sh [SECONDS] [VUS] [N]   (a markdown table)
# PART_ARGS adds flags to the segments' runs (e.g. PART_ARGS="--threads 1"),
# ONE_ARGS to the single process's (e.g. ONE_ARGS="--threads 4", as many
# worker threads as the segments have in all). URL is the path each VU
# requests (default /health, which makes the run CPU-bound; a
# /fault/delay?ms=N path makes it bound by the server's latency instead).
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-10}
vus=${2:-64}
n=${3:-4}
strain=build/strain
[ -x "$strain" ] || { echo "bench: build first (make)" >&2; exit 1; }
work=$(mktemp -d)
tpid=""
trap 'kill $tpid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT INT TERM
"$strain" target --listen 127.0.0.1:0 --quiet >"$work/target.out" 2>&1 &
tpid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$work/target.out" ] && break; sleep 0.1; done
addr=$(head -1 "$work/target.out" | awk '{print $NF}')
cat >"$work/plan.yaml" <<YAML
target: http://$addr
modules:
  m:
    executor: {type: constant-vus, vus: $vus, duration: ${secs}s}
    flow:
      - get: "${URL:-/health}"
YAML
rate() { /usr/bin/python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); m=s["metrics"]["http_reqs"]; print(m["count"], round(m["rate"]))' "$1"; }
"$strain" run "$work/plan.yaml" --quiet ${ONE_ARGS:-} --summary-export "$work/one.json" >/dev/null
set -- $(rate "$work/one.json")
one_n=$1 one_r=$2
i=0
pids=""
while [ $i -lt "$n" ]; do
	"$strain" run "$work/plan.yaml" --quiet --segments "$n" --segment-index $i --start-at +2s ${PART_ARGS:-} \
		--summary-export "$work/part$i.json" >/dev/null &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do wait "$p"; done
"$strain" merge "$work"/part*.json -o "$work/merged.json" >/dev/null
set -- $(rate "$work/merged.json")
echo "| run | VUs | requests | requests/s |"
echo "|---|---|---|---|"
echo "| one process | $vus | $one_n | $one_r |"
echo "| $n segments, merged | $vus in all | $1 | $2 |"

#!/bin/sh
# Extra CPU per request of each output (bench/outputs/README in
# docs/outputs.md): `strain target` and a real influxd share CPU 0, the load
# generator (strain run --threads 1, its output threads included) runs on
# CPU 1, at its top rate against /health. CPU = user + sys of the generator
# process from /usr/bin/time, divided by the requests it completed; each
# case runs SECS seconds, REPS times; the median is reported and appended
# to bench/RESULTS.md. Usage: [CASES="none influxdb"] sh bench/outputs/run.sh [SECS] [REPS]
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-5}
reps=${2:-3}
strain=$PWD/build/strain
[ -x "$strain" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v influxd >/dev/null || { echo "bench: needs influxd (sh scripts/deps.sh test)" >&2; exit 1; }

work=$(mktemp -d)
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
tport=$(port); iport=$(port); rport=$(port)
cat > "$work/influxdb.conf" <<CONF
reporting-disabled = true
bind-address = "127.0.0.1:$rport"
[meta]
  dir = "$work/meta"
[data]
  dir = "$work/data"
  wal-dir = "$work/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:$iport"
  log-enabled = false
[monitor]
  store-enabled = false
CONF
ulimit -n 65536 2>/dev/null || true
taskset -c 0 "$strain" target --listen "127.0.0.1:$tport" > "$work/target.log" 2>&1 &
tgt=$!
taskset -c 0 influxd -config "$work/influxdb.conf" > "$work/influxd.log" 2>&1 &
ifx=$!
trap 'kill $tgt $ifx 2>/dev/null; wait $tgt $ifx 2>/dev/null; rm -rf "$work"' EXIT INT TERM
for i in $(seq 100); do
	curl -sf "http://127.0.0.1:$iport/ping" >/dev/null && curl -sf "http://127.0.0.1:$tport/health" >/dev/null && break
	sleep 0.1
done
url="http://127.0.0.1:$tport/health"
influx="http://127.0.0.1:$iport"

results="$work/results.txt"
: > "$results"
for rep in $(seq "$reps"); do
	for case in ${CASES:-none influxdb influxdb-k6 json json.gz csv}; do
		case $case in
		none) out="" ;;
		influxdb) out="--out influxdb=$influx/bench_agg" ;;
		influxdb-k6) out="--out influxdb=$influx/bench_k6?schema=k6" ;;
		json) out="--out json=$work/out.json" ;;
		json.gz) out="--out json=$work/out.json.gz" ;;
		csv) out="--out csv=$work/out.csv" ;;
		esac
		# shellcheck disable=SC2086
		/usr/bin/time -f "%U %S %M" -o "$work/t" taskset -c 1 "$strain" run --quiet --url "$url" --vus 50 \
			--threads 1 --duration "${secs}s" --summary-export "$work/s.json" $out
		echo "$case $(/usr/bin/python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
o = s["outputs"][0] if s["outputs"] else {"points_written": 0, "points_dropped": 0}
print(int(s["metrics"]["http_reqs"]["count"]), o["points_written"], o["points_dropped"])' "$work/s.json") $(cat "$work/t")" >> "$results"
		rm -f "$work"/out.*
	done
done
/usr/bin/python3 bench/outputs/report.py "$results" "$secs" "$reps" | tee -a bench/RESULTS.md

#!/bin/sh
# Benchmarks strain against wrk on the same nginx, on loopback only.
# nginx is pinned to CPU 0 and the load generator to CPU 1, so the figure
# that matters — CPU time the generator spends per request — is not muddied
# by the server. Each case runs 10 s, three times. Results are appended to
# bench/RESULTS.md. Usage: sh bench/run.sh [SECONDS] [REPEATS]
# STRAIN=path runs another build; STRAIN_ARGS adds flags to strain's runs
# (e.g. STRAIN_ARGS="--web 127.0.0.1:0" for the live dashboard).
set -eu
cd "$(dirname "$0")/.."
secs=${1:-10}
reps=${2:-3}
strain=${STRAIN:-build/strain}
[ -x "$strain" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v wrk >/dev/null && command -v nginx >/dev/null || { echo "bench: needs wrk and nginx (sh scripts/deps.sh bench)" >&2; exit 1; }

work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/tmp"
sed "s/__PORT__/$port/" bench/nginx.conf > "$work/nginx.conf"
ulimit -n 65536 2>/dev/null || true
taskset -c 0 nginx -p "$work" -c nginx.conf 2>"$work/nginx.log" &
ngx=$!
trap 'kill $ngx 2>/dev/null; wait $ngx 2>/dev/null; rm -rf "$work"' EXIT INT TERM
sleep 0.5
url="http://127.0.0.1:$port/"
curl -sf "$url" >/dev/null || { echo "bench: nginx did not start" >&2; cat "$work/nginx.log" >&2; exit 1; }

results="$work/results.txt"
: > "$results"
for conns in 50 1000; do
	for i in $(seq "$reps"); do
		/usr/bin/time -f "%U %S %M" -o "$work/t" taskset -c 1 wrk -t1 -c"$conns" -d"${secs}s" "$url" > "$work/wrk.out"
		reqs=$(awk '/requests in/ {print $1}' "$work/wrk.out")
		echo "wrk $conns $reqs $(cat "$work/t")" >> "$results"
		/usr/bin/time -f "%U %S %M" -o "$work/t" taskset -c 1 "$strain" run --quiet --url "$url" \
			--vus "$conns" --threads 1 --duration "${secs}s" --summary-export "$work/s.json" ${STRAIN_ARGS:-}
		reqs=$(/usr/bin/python3 -c 'import json,sys; print(int(json.load(open(sys.argv[1]))["metrics"]["http_reqs"]["count"]))' "$work/s.json")
		echo "strain $conns $reqs $(cat "$work/t")" >> "$results"
	done
done

/usr/bin/python3 bench/report.py "$results" "$secs" "$reps" | tee -a bench/RESULTS.md

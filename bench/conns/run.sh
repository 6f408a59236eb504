#!/bin/sh
# Memory per idle kept-alive connection: strain holds N connections to
# nginx (each VU makes one request, then thinks longer than the sample
# takes), and its RSS is read from /proc at a moment when every VU has
# made its request and sits idle. The figure per connection is the slope
# between N = 1,000 and N = 10,000, so the binary, the libraries and the
# registry cancel out. wrk, for reference, holds the same N connections
# busy (it has no idle state): its slope includes its buffers per
# connection. Loopback only; every run is bounded by --duration and wrk -d.
# Usage: sh bench/conns/run.sh [REPEATS]
set -eu
cd "$(dirname "$0")/../.."
reps=${1:-2}
strain=build/strain
[ -x "$strain" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v nginx >/dev/null && command -v wrk >/dev/null || { echo "bench: needs nginx and wrk (sh scripts/deps.sh bench)" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n 40000 2>/dev/null || true

work=$(mktemp -d)
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/tmp"
sed "s/__PORT__/$port/" bench/nginx.conf > "$work/nginx.conf"
nginx -p "$work" -c nginx.conf 2>"$work/nginx.log" &
ngx=$!
trap 'kill $ngx 2>/dev/null; wait $ngx 2>/dev/null; rm -rf "$work"' EXIT INT TERM
sleep 0.5
url="http://127.0.0.1:$port/"
curl -sf "$url" >/dev/null || { echo "bench: nginx did not start" >&2; cat "$work/nginx.log" >&2; exit 1; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# strain: VUs start spread over the 4 s think time; at 7 s every VU has
# made its request and is idle on its kept-alive connection.
strain_rss() {
	n=$1
	cat > "$work/plan.yaml" <<PLAN
target: $url
modules:
  idle:
    executor: {type: constant-vus, vus: $n, duration: 9s}
    flow:
      - get: /
      - think: 4s
PLAN
	"$strain" run "$work/plan.yaml" --quiet --threads 1 --summary-export "$work/s.json" &
	pid=$!
	sleep 7
	r=$(rss_kb $pid)
	open=$(ls /proc/$pid/fd | wc -l)
	wait $pid
	echo "$r $open"
}

wrk_rss() {
	n=$1
	wrk -t1 -c"$n" -d6s "$url" > /dev/null &
	pid=$!
	sleep 4
	r=$(rss_kb $pid)
	wait $pid
	echo "$r"
}

echo "tool connections rss_kib fds"
for i in $(seq "$reps"); do
	for n in 1000 10000; do
		set -- $(strain_rss $n)
		echo "strain $n $1 $2"
		echo "wrk $n $(wrk_rss $n) -"
	done
done | tee "$work/out"
/usr/bin/python3 - "$work/out" <<'PY'
import sys, collections
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    t, n, rss, _ = line.split()
    if t == "tool":
        continue
    rows[(t, int(n))].append(int(rss))
for t in ("strain", "wrk"):
    lo, hi = min(rows[(t, 1000)]), min(rows[(t, 10000)])
    print(f"{t}: RSS {lo} KiB at 1,000, {hi} KiB at 10,000 connections: "
          f"{(hi - lo) * 1024 / 9000:.0f} bytes per connection")
PY

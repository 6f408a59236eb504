#!/bin/sh
# Allocations per request: strain runs N and then 4N requests under an
# LD_PRELOAD shim that counts malloc/calloc/realloc calls (bench/alloc/count.c);
# the difference divided by 3N is what each request costs the allocator once
# connections are up. Cases: plain and HTTPS keep-alive to `strain target`,
# a templated plan with extraction and checks, and HTTPS with a new
# connection per request (whose handshakes allocate inside OpenSSL).
# Usage: sh bench/alloc/run.sh [N]   (a markdown table on stdout)
set -eu
cd "$(dirname "$0")/../.."
n=${1:-2000}
strain=build/strain
[ -x "$strain" ] || { echo "bench: build first (make)" >&2; exit 1; }
work=$(mktemp -d)
plain_pid=""
tls_pid=""
trap 'kill $plain_pid $tls_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT INT TERM
cc -O2 -shared -fPIC -o "$work/count.so" bench/alloc/count.c -ldl

"$strain" target --listen 127.0.0.1:0 --threads 1 --quiet >"$work/plain.out" 2>&1 &
plain_pid=$!
"$strain" target --tls --listen 127.0.0.1:0 --threads 1 --quiet >"$work/tls.out" 2>&1 &
tls_pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	[ "$(wc -l <"$work/tls.out")" -ge 2 ] && [ -s "$work/plain.out" ] && break
	sleep 0.1
done
plain=$(head -1 "$work/plain.out" | awk '{print $NF}')
tport=$(head -1 "$work/tls.out" | awk '{print $NF}' | sed 's/.*://')
cert=$(sed -n 's/^certificate: //p' "$work/tls.out")

cat >"$work/plan.yaml" <<YAML
target: http://$plain
modules:
  m:
    executor: {type: shared-iterations, vus: 10, iterations: ITERS}
    flow:
      - post: /auth/login
        json: {user: "user{{vu}}", password: "pw{{vu}}"}
        extract: {token: \$.token}
        check: {status: 200, json_exists: \$.token}
      - get: /jobs/{{rand_int 1 1000}}?q={{uuid}}
        headers: {Authorization: "Bearer {{token}}"}
        check: {status: 200, body_matches: '"id"'}
YAML

# allocs ARGS...: the total allocator calls of one run
allocs() {
	LD_PRELOAD="$work/count.so" timeout 120 "$strain" run --quiet --threads 1 "$@" 2>&1 >/dev/null |
		sed -n 's/^allocations: malloc \([0-9]*\) calloc \([0-9]*\) realloc \([0-9]*\)$/\1 \2 \3/p' |
		awk '{print $1 + $2 + $3}'
}

# row NAME REQS_PER_ITER ARGS... (ITERS in args is replaced by the count)
row() {
	name=$1
	per=$2
	shift 2
	a=$(allocs "$@" --iterations "$n")
	b=$(allocs "$@" --iterations $((4 * n)))
	echo "| $name | $((n * per)) | $a | $((4 * n * per)) | $b | $(awk -v a="$a" -v b="$b" -v r=$((3 * n * per)) 'BEGIN{printf "%.2f", (b - a) / r}') |"
}

plan_row() {
	sed "s/ITERS/$n/" "$work/plan.yaml" >"$work/p1.yaml"
	sed "s/ITERS/$((4 * n))/" "$work/plan.yaml" >"$work/p4.yaml"
	a=$(LD_PRELOAD="$work/count.so" timeout 120 "$strain" run --quiet "$work/p1.yaml" 2>&1 >/dev/null |
		sed -n 's/^allocations: malloc \([0-9]*\) calloc \([0-9]*\) realloc \([0-9]*\)$/\1 \2 \3/p' | awk '{print $1 + $2 + $3}')
	b=$(LD_PRELOAD="$work/count.so" timeout 120 "$strain" run --quiet "$work/p4.yaml" 2>&1 >/dev/null |
		sed -n 's/^allocations: malloc \([0-9]*\) calloc \([0-9]*\) realloc \([0-9]*\)$/\1 \2 \3/p' | awk '{print $1 + $2 + $3}')
	echo "| plan: login, JSON-path extraction, templates, checks | $((2 * n)) | $a | $((8 * n)) | $b | $(awk -v a="$a" -v b="$b" -v r=$((6 * n)) 'BEGIN{printf "%.2f", (b - a) / r}') |"
}

echo "strain $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(openssl version | cut -d' ' -f1-2); $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "| case | requests | allocations | requests | allocations | per extra request |"
echo "|---|---|---|---|---|---|"
row "http keep-alive, 10 VUs" 1 --url "http://$plain/jobs/3" --vus 10
plan_row
row "https keep-alive, 10 VUs" 1 --url "https://localhost:$tport/jobs/3" --vus 10 --cacert "$cert"
row "https, new connection per request (resumed)" 1 --url "https://localhost:$tport/jobs/3" --vus 10 --cacert "$cert" --no-connection-reuse

#!/bin/sh
# HTTPS benchmark: strain against wrk on the same nginx over TLS, loopback
# only. nginx (bench/tls/nginx.conf) is pinned to CPU 0 and the load
# generator to CPU 1; the figure that matters is the generator's CPU time
# (user + sys, /usr/bin/time) per completed request. Two modes, 50
# connections each:
#   keepalive  one TLS handshake per connection, then requests on it
#   close      a new connection (TCP + TLS handshake) for every request:
#              wrk -H "Connection: close", strain --no-connection-reuse;
#              strain with session resumption (its default, and what wrk
#              does), without (--no-tls-resumption), and without it and
#              without certificate checks (--insecure-skip-tls-verify,
#              wrk never checks certificates).
# A throwaway CA and server certificate (IP 127.0.0.1 and localhost) are
# made with openssl in a temporary directory: P-256 ECDSA (KEY=ec, the
# default) or RSA-2048 (KEY=rsa). Before the measured runs, each close-mode
# case runs 2 s against a second, logging server block so the table can
# say what share of its handshakes were resumed.
# Each measured run lasts SECONDS (default 10), REPEATS times (default 3);
# the table is appended to bench/tls/RESULTS.md. About 3.5 minutes at the
# defaults.
# Usage: sh bench/tls/run.sh [SECONDS] [REPEATS] [ec|rsa]
set -eu
cd "$(dirname "$0")/../.."
secs=${1:-10}
reps=${2:-3}
key=${3:-ec}
strain=build/strain
[ -x "$strain" ] || { echo "bench: build first (make)" >&2; exit 1; }
for c in wrk nginx openssl curl; do
	command -v $c >/dev/null || { echo "bench: needs wrk, nginx, openssl and curl (sh scripts/deps.sh bench)" >&2; exit 1; }
done
case $key in
ec) newkey="-newkey ec -pkeyopt ec_paramgen_curve:P-256"; keyname="ECDSA P-256" ;;
rsa) newkey="-newkey rsa:2048"; keyname="RSA-2048" ;;
*) echo "bench: key is ec or rsa" >&2; exit 2 ;;
esac

work=$(mktemp -d)
ngx=""
trap '[ -n "$ngx" ] && kill $ngx 2>/dev/null; [ -n "$ngx" ] && wait $ngx 2>/dev/null; rm -rf "$work"' EXIT INT TERM

# A CA and a leaf it signs, both of the chosen key type.
(
	cd "$work"
	# shellcheck disable=SC2086
	openssl req -x509 $newkey -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=strain-bench-ca \
		-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
	# shellcheck disable=SC2086
	openssl req -new $newkey -nodes -keyout key.pem -out cert.csr -subj /CN=localhost 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > ext.cnf
	openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out cert.pem -days 2 -extfile ext.cnf 2>/dev/null
	openssl verify -CAfile ca.pem cert.pem >/dev/null
) || { echo "bench: could not make the test certificates" >&2; exit 1; }

freeport() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
port=$(freeport)
pport=$(freeport)
mkdir -p "$work/tmp"
sed -e "s|__PORT__|$port|" -e "s|__PROBE_PORT__|$pport|" -e "s|__DIR__|$work|g" bench/tls/nginx.conf > "$work/nginx.conf"
ulimit -n 65536 2>/dev/null || true
taskset -c 0 nginx -p "$work" -c nginx.conf 2>"$work/nginx.log" &
ngx=$!
sleep 0.5
url="https://127.0.0.1:$port/"
purl="https://127.0.0.1:$pport/"
curl -sf --cacert "$work/ca.pem" "$url" >/dev/null || { echo "bench: nginx did not start" >&2; cat "$work/nginx.log" >&2; exit 1; }

cacert="--cacert $work/ca.pem"
limit=$((secs + 30)) # every run is bounded, whatever happens

# case MODE NAME SECONDS URL: runs one case on CPU 1 under /usr/bin/time;
# leaves "requests errors" in $work/n and "user sys maxrss" in $work/t.
case_run() {
	mode=$1 name=$2 s=$3 u=$4
	case $name in
	wrk) set -- wrk -t1 -c50 -d"${s}s" ;;
	*) set -- "$strain" run --quiet --threads 1 --vus 50 --duration "${s}s" --graceful-stop 5s \
		--summary-export "$work/s.json" $cacert ;;
	esac
	[ "$mode" = close ] && case $name in
	wrk) set -- "$@" -H "Connection: close" ;;
	*) set -- "$@" --no-connection-reuse ;;
	esac
	case $name in
	*-nores*) set -- "$@" --no-tls-resumption ;;
	esac
	case $name in
	*-noverify) set -- "$@" --insecure-skip-tls-verify ;;
	esac
	case $name in
	wrk) set -- "$@" "$u" ;;
	*) set -- "$@" --url "$u" ;;
	esac
	rm -f "$work/s.json"
	/usr/bin/time -f "%U %S %M" -o "$work/t" timeout -k 5 "$limit" taskset -c 1 "$@" > "$work/out" 2>&1 || true
	case $name in
	wrk)
		awk '/requests in/ {r=$1} /Socket errors/ {gsub(",",""); e+=$4+$6+$8+$10} /Non-2xx/ {e+=$NF}
			END {print r+0, e+0}' "$work/out" > "$work/n" ;;
	*)
		/usr/bin/python3 - "$work/s.json" > "$work/n" <<'PY' || echo "0 -1" > "$work/n"
import json, sys
m = json.load(open(sys.argv[1]))["metrics"]
n = int(m["http_reqs"]["count"])
f = m.get("http_req_failed", {})
bad = int(f.get("passes", f.get("fails_count", 0)) or 0) if isinstance(f, dict) else 0
print(n - bad, bad)
PY
		;;
	esac
}

cases="keepalive:wrk keepalive:strain close:wrk close:strain close:strain-nores close:strain-nores-noverify"
probes="$work/probes.txt"
results="$work/results.txt"
: > "$probes"
: > "$results"

load0=$(cut -d' ' -f1 /proc/loadavg)
for c in $cases; do
	mode=${c%%:*} name=${c#*:}
	: > "$work/probe.log"
	kill -USR1 $ngx # reopen the log
	sleep 0.2
	case_run "$mode" "$name" 2 "$purl"
	awk -v m="$mode" -v n="$name" '{t++; if ($2 == "r") r++; p[$1]++}
		END {s=""; for (k in p) s=s (s ? "," : "") k; print m, n, t+0, r+0, (s ? s : "-")}' "$work/probe.log" >> "$probes"
done

for i in $(seq "$reps"); do
	for c in $cases; do
		mode=${c%%:*} name=${c#*:}
		case_run "$mode" "$name" "$secs" "$url"
		echo "$mode $name $(cat "$work/n") $(cat "$work/t")" >> "$results"
	done
done

load1=$(cut -d' ' -f1 /proc/loadavg)
versions="$(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2), $(nginx -v 2>&1 | cut -d' ' -f3), $(openssl version | cut -d' ' -f1-2), strain $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src 2>/dev/null || echo '+uncommitted src'); 1-minute load average $load0 before the first run, $load1 after the last (the benchmark itself adds about 2; more means something else shared the cores)"
# The new table goes after the earlier runs, before the method and conclusions.
/usr/bin/python3 bench/tls/report.py "$results" "$probes" "$secs" "$reps" "$keyname" "$versions" | tee "$results.md"
/usr/bin/python3 - bench/tls/RESULTS.md "$results.md" <<'PY'
import sys
path, new = sys.argv[1], open(sys.argv[2]).read().strip("\n")
text = open(path).read()
at = text.find("\n## Method")
text = text.rstrip("\n") + "\n\n" + new + "\n" if at < 0 else text[:at].rstrip("\n") + "\n\n" + new + "\n\n" + text[at + 1:]
open(path, "w").write(text)
PY

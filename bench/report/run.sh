#!/bin/sh
# The HTML report of a 4-module --strategy all run (the demo's suite against
# the built-in target): its size (must stay under 1 MB) and how long headless
# Chromium takes to draw it (the page's own performance.now() figures:
# data-render-ms, the render call; data-ready-ms, from navigation start to
# the end of the render).
#   sh bench/report/run.sh            # DURATION=15s per phase, as strain demo
#   DURATION=5s RUNS=3 sh bench/report/run.sh
set -eu
cd "$(dirname "$0")/../.."
BIN=${STRAIN_BIN:-build/strain}
DURATION=${DURATION:-15s}
RUNS=${RUNS:-5}
OUT=${OUT:-bench/out/report}
mkdir -p "$OUT"
command -v chromium >/dev/null || { echo "bench/report: needs Debian's chromium" >&2; exit 2; }

"$BIN" target --listen 127.0.0.1:0 --quiet >"$OUT/target.addr" &
tpid=$!
trap 'kill $tpid 2>/dev/null; wait $tpid 2>/dev/null || true' EXIT
for i in $(seq 1 50); do [ -s "$OUT/target.addr" ] && break; sleep 0.1; done
addr=$(awk '{print $NF; exit}' "$OUT/target.addr")

set +e
"$BIN" run examples/suite.yaml --strategy all -e TARGET="http://$addr" -e DURATION="$DURATION" --quiet \
	--summary-export "$OUT/summary.json" --report "$OUT/report.html"
rc=$?
set -e
[ $rc -eq 0 ] || [ $rc -eq 99 ] || { echo "bench/report: the run failed (exit $rc)" >&2; exit 1; }

size=$(wc -c <"$OUT/report.html")
ssize=$(wc -c <"$OUT/summary.json")
slots=$(/usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print(sum(len(s['t_ms']) for s in d['timeseries']['series']))" "$OUT/summary.json")
echo "report: $size bytes ($(( size / 1024 )) KiB; summary $ssize bytes, $slots series slots); limit 1048576"

FLAGS="--headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run --disable-background-networking \
--disable-component-update --disable-sync --disable-quic"
for i in $(seq 1 "$RUNS"); do
	u=$(mktemp -d)
	# shellcheck disable=SC2086
	chromium $FLAGS --user-data-dir="$u" --host-resolver-rules="MAP * ~NOTFOUND" --window-size=1400,900 \
		--dump-dom "file://$PWD/$OUT/report.html" 2>/dev/null >"$OUT/dom.html"
	rm -rf "$u"
	render=$(grep -o 'data-render-ms="[0-9.]*"' "$OUT/dom.html" | grep -o '[0-9.]*')
	ready=$(grep -o 'data-ready-ms="[0-9.]*"' "$OUT/dom.html" | grep -o '[0-9.]*')
	echo "chromium run $i: render ${render} ms, page ready ${ready} ms after navigation start"
done
[ "$size" -lt 1048576 ] || { echo "bench/report: the report is over 1 MB" >&2; exit 1; }

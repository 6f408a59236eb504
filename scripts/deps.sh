#!/bin/sh
# Installs the Debian packages strain needs to build, test and benchmark,
# only those that are missing. Called by make; safe to run again.
set -eu

want="gcc make pkg-config libcmocka-dev libjansson-dev libyaml-dev libpcre2-dev libssl-dev zlib1g-dev libbrotli-dev libzstd-dev python3 python3-pytest libjs-chart.js"
case "${1:-build}" in
build) ;;
test) want="$want python3-pytest-xdist curl influxdb nginx-light dnsmasq-base tinyproxy openssl python3-yaml python3-jsonschema chromium chromium-driver python3-selenium python3-brotli python3-zstandard python3-kubernetes yamllint" ;;
bench) want="$want nginx-light wrk curl" ;;
fuzz) want="$want clang libclang-rt-14-dev" ;;
*) echo "deps.sh: unknown set '$1' (build, test, bench, fuzz)" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "deps.sh: installing:$missing" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing >/dev/null

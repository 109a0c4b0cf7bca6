#!/usr/bin/env bash
# System packages the test suite drives for real: Chromium (the audit HTML report is checked in a
# headless browser), promtool (the PrometheusRule alerts are checked with `promtool test rules`)
# faketime (the samples are checked with the clock years ahead), buildah and mmdebstrap (the image
# is built on a stand-in base made from Debian's packages, scripts/image-base.sh, and run with
# `buildah run`: test/e2e/image.test.ts) and PostgreSQL (the records store is tested against a real
# server: test/support/postgres.ts starts a throwaway one with initdb in a temp dir). None is on a
# fresh Debian machine. When one is missing and we are root with apt-get, install
# it (one `apt-get update` first); otherwise say what to install and carry on: the tests that need
# the tool fail with the same hint. Fast when everything is there: it only looks.
set -euo pipefail

chromium_bin="${DRIFTGUARD_CHROMIUM:-/usr/bin/chromium}"
missing=()
[ -x "$chromium_bin" ] || missing+=(chromium)
command -v "${DRIFTGUARD_PROMTOOL:-promtool}" >/dev/null 2>&1 || missing+=(prometheus)
command -v "${DRIFTGUARD_FAKETIME:-faketime}" >/dev/null 2>&1 || missing+=(faketime)
command -v buildah >/dev/null 2>&1 || missing+=(buildah)
command -v mmdebstrap >/dev/null 2>&1 || missing+=(mmdebstrap)
# initdb and postgres live under /usr/lib/postgresql/<major>/bin (not on PATH) in Debian's packages.
pg_bin="${DRIFTGUARD_PG_BIN:-}"
if [ -z "$pg_bin" ]; then
  for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && pg_bin="$d"; done
fi
{ [ -n "$pg_bin" ] && [ -x "$pg_bin/initdb" ] && [ -x "$pg_bin/postgres" ]; } || missing+=(postgresql)

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: missing ${missing[*]} (Debian packages: chromium for the HTML report tests, prometheus for promtool, faketime for the clock-ahead tests, buildah and mmdebstrap for the image tests, postgresql for the records store tests)." >&2
  echo "ensure-system-deps: install them (e.g. sudo apt-get install chromium prometheus faketime buildah mmdebstrap postgresql) or set DRIFTGUARD_CHROMIUM / DRIFTGUARD_PROMTOOL / DRIFTGUARD_FAKETIME / DRIFTGUARD_PG_BIN (the directory holding initdb and postgres)." >&2
  exit 0
fi

echo "ensure-system-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# Another apt run (a second checkout's suite, unattended upgrades) may hold the lock: wait for it.
lock=(-o DPkg::Lock::Timeout=900)
apt-get "${lock[@]}" update -qq
apt-get "${lock[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# We only want promtool from the prometheus package: on a machine with systemd the package starts a
# Prometheus server; stop and disable it again.
if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now prometheus.service >/dev/null 2>&1 || true
fi
# Likewise PostgreSQL: the tests start their own throwaway server; the package's cluster is not used.
if [[ " ${missing[*]} " == *" postgresql "* ]] && command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl disable --now postgresql.service >/dev/null 2>&1 || true
fi
echo "ensure-system-deps: done" >&2

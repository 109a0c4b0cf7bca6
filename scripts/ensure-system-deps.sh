#!/usr/bin/env bash
# System packages the test suite drives for real: Chromium (the audit HTML report is checked in a
# headless browser), promtool (the PrometheusRule alerts are checked with `promtool test rules`)
# faketime (the samples are checked with the clock years ahead), buildah and mmdebstrap (the image
# is built on a stand-in base made from Debian's packages, scripts/image-base.sh, and run with
# `buildah run`: test/e2e/image.test.ts). None is on a fresh Debian machine. When one is missing and we are root with apt-get, install
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

[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "ensure-system-deps: missing ${missing[*]} (Debian packages: chromium for the HTML report tests, prometheus for promtool, faketime for the clock-ahead tests, buildah and mmdebstrap for the image tests)." >&2
  echo "ensure-system-deps: install them (e.g. sudo apt-get install chromium prometheus faketime buildah mmdebstrap) or set DRIFTGUARD_CHROMIUM / DRIFTGUARD_PROMTOOL / DRIFTGUARD_FAKETIME." >&2
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
echo "ensure-system-deps: done" >&2

#!/usr/bin/env bash
# Builds Kyverno's admission controller (cmd/kyverno), the real-server bench's comparison point
# (test/bench/apiserver.ts), from the Go module proxy through the wrapper module test/bench/kyverno
# (its go.mod pins the version and carries Kyverno's own replace directive).
#
# The binary is cached in ${DRIFTGUARD_CACHE:-~/.cache/driftguard}/kyverno-<version>/, so a second
# run only checks that it is there. A first build takes about 8-15 minutes on 2 cores.
#
#   scripts/kyverno-build.sh          build if needed, print the binary's directory on stdout
#   scripts/kyverno-build.sh --dir    print the directory, build nothing (exit 1 if not built)
#
# Progress goes to stderr. Exits 3 when no Go toolchain is found (the bench then skips Kyverno).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
module="$root/test/bench/kyverno"
version="$(awk '$1 == "require" && $2 == "github.com/kyverno/kyverno" { print $3 }' "$module/go.mod")"
[ -n "$version" ] || { echo "kyverno-build: no 'require github.com/kyverno/kyverno' line in $module/go.mod" >&2; exit 1; }

cache="${DRIFTGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/driftguard}"
bin="$cache/kyverno-$version"
built() { [ -x "$bin/kyverno" ] && [ -f "$bin/.complete" ]; }

if [ "${1:-}" = "--dir" ]; then
  built || exit 1
  echo "$bin"
  exit 0
fi
if built; then
  echo "$bin"
  exit 0
fi

go="${GO:-}"
if [ -z "$go" ]; then
  if command -v go >/dev/null 2>&1; then go="$(command -v go)"
  elif [ -x /usr/local/go/bin/go ]; then go=/usr/local/go/bin/go
  else
    echo "kyverno-build: no Go toolchain (looked for go on PATH and /usr/local/go/bin/go); cannot build Kyverno" >&2
    exit 3
  fi
fi

mkdir -p "$bin"
# One build at a time per cache; a second caller waits and then finds the binary built.
exec 9>"$bin/.lock"
if ! flock -n 9; then
  echo "kyverno-build: another build is running into $bin; waiting for it" >&2
  flock 9
fi
if built; then
  echo "$bin"
  exit 0
fi
log="$bin/build.log"
: >"$log"
started=$(date +%s)
step() { echo "kyverno-build: [$(( $(date +%s) - started ))s] $*" >&2; }

step "Kyverno $version into $bin (log: $log)"
step "downloading modules"
(cd "$module" && "$go" mod download) >>"$log" 2>&1
step "building kyverno (github.com/kyverno/kyverno/cmd/kyverno)"
# The flags of Kyverno's own Makefile (CGO off, the version stamped).
(
  cd "$module"
  CGO_ENABLED=0 nice -n "${KYVERNO_BUILD_NICE:-15}" "$go" build -trimpath \
    -ldflags "-s -w -X github.com/kyverno/kyverno/pkg/version.BuildVersion=$version" \
    -o "$bin/kyverno.tmp" github.com/kyverno/kyverno/cmd/kyverno
) >>"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 30
  kill -0 "$pid" 2>/dev/null && step "  still building kyverno"
done
if ! wait "$pid"; then
  echo "kyverno-build: building kyverno failed; the last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
mv "$bin/kyverno.tmp" "$bin/kyverno"
touch "$bin/.complete"
step "done"
echo "$bin"

#!/usr/bin/env bash
# Builds Helm from the Go module proxy for the chart tests: helm.sh/helm/v4 at the version
# test/e2e/helm/go.mod requires (the one place it is pinned), the way scripts/e2e-cluster.sh builds
# the control plane.
#
# The binary is cached in ${DRIFTGUARD_CACHE:-~/.cache/driftguard}/helm-<version>/helm, so a second
# run only checks that it is there. A first build takes a few minutes on 2 cores (run niced: the
# suite's other work goes on beside it).
#
#   scripts/helm-build.sh          build if needed, print the path of the helm binary on stdout
#   scripts/helm-build.sh --path   print the path, build nothing (exit 1 if not built)
#
# Progress goes to stderr. Exits 3 when no Go toolchain is found (the chart tests then skip, loudly).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mod="$root/test/e2e/helm"
version="$(awk '$1 == "require" && $2 == "helm.sh/helm/v4" { print $3 }' "$mod/go.mod")"
[ -n "$version" ] || { echo "helm-build: no helm.sh/helm/v4 requirement in $mod/go.mod" >&2; exit 1; }

cache="${DRIFTGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/driftguard}"
dir="$cache/helm-$version"
helm="$dir/helm"
built() { [ -x "$helm" ] && [ -f "$dir/.complete" ]; }

if [ "${1:-}" = "--path" ]; then
  built || exit 1
  echo "$helm"
  exit 0
fi
if built; then
  echo "$helm"
  exit 0
fi

go="${GO:-}"
if [ -z "$go" ]; then
  if command -v go >/dev/null 2>&1; then go="$(command -v go)"
  elif [ -x /usr/local/go/bin/go ]; then go=/usr/local/go/bin/go
  else
    echo "helm-build: no Go toolchain (looked for go on PATH and /usr/local/go/bin/go); cannot build helm" >&2
    exit 3
  fi
fi

mkdir -p "$dir"
# One build at a time per cache; the second caller waits and then finds the binary built.
exec 9>"$dir/.lock"
if ! flock -n 9; then
  echo "helm-build: another build is running into $dir; waiting for it" >&2
  flock 9
fi
if built; then
  echo "$helm"
  exit 0
fi
log="$dir/build.log"
: >"$log"
echo "helm-build: building helm $version into $dir (log: $log)" >&2
# The version `helm version` reports: what Helm's own Makefile stamps.
ldflags="-s -w -X helm.sh/helm/v4/internal/version.version=$version -X helm.sh/helm/v4/internal/version.gitTreeState=clean"
if ! (
  cd "$mod"
  "$go" mod download
  CGO_ENABLED=0 nice -n 15 "$go" build -trimpath -ldflags "$ldflags" -o "$helm.tmp" helm.sh/helm/v4/cmd/helm
) >>"$log" 2>&1; then
  echo "helm-build: building helm failed; the last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
mv "$helm.tmp" "$helm"
touch "$dir/.complete"
echo "helm-build: done" >&2
echo "$helm"

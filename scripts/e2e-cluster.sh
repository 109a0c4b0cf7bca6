#!/usr/bin/env bash
# Builds the end-to-end suite's control plane from the Go module proxy: kube-apiserver,
# kube-controller-manager and kubectl from k8s.io/kubernetes (test/e2e/cluster/go.mod), etcd from
# go.etcd.io/etcd/server/v3 (test/e2e/cluster/etcd/go.mod). The versions live in
# test/e2e/cluster/versions.env and nowhere else.
#
# The binaries are cached in ${DRIFTGUARD_CACHE:-~/.cache/driftguard}/k8s-<kube>-etcd-<etcd>/, so a
# second run only checks that they are there. A first build takes 15-30 minutes on 2 cores.
#
#   scripts/e2e-cluster.sh          build if needed, print the binary directory on stdout
#   scripts/e2e-cluster.sh --dir    print the binary directory, build nothing (exit 1 if not built)
#
# Beside the binaries, <dir>/crds/ holds the CRDs the overlays use (cert-manager, Prometheus
# Operator), generated with controller-gen from those projects' API types (test/e2e/cluster/crds),
# and <dir>/crds/reports/ the report CRDs serve --reports writes to (OpenReports, wg-policy), copied
# from the modules test/e2e/cluster/reports/go.mod pins. Each part has its own .complete marker, so a
# cache built before a part existed gets that part alone on the next run, not a rebuild.
#
# Progress goes to stderr. Exits 3 when no Go toolchain is found (the suite then skips, loudly).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cluster="$root/test/e2e/cluster"
# shellcheck source=../test/e2e/cluster/versions.env
. "$cluster/versions.env"

cache="${DRIFTGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/driftguard}"
bin="$cache/k8s-${KUBERNETES_VERSION}-etcd-${ETCD_VERSION}"
tools=(kube-apiserver kube-controller-manager kubectl etcd)

built() {
  for t in "${tools[@]}"; do [ -x "$bin/$t" ] || return 1; done
  [ -f "$bin/.complete" ] && [ -f "$bin/crds/.complete" ] && [ -f "$bin/crds/reports/.complete" ]
}

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
    echo "e2e-cluster: no Go toolchain (looked for go on PATH and /usr/local/go/bin/go); cannot build the control plane" >&2
    exit 3
  fi
fi

mkdir -p "$bin"
# One build at a time per cache (two checkouts' suites may start together); the second waits and
# then finds the binaries built.
exec 9>"$bin/.lock"
if ! flock -n 9; then
  echo "e2e-cluster: another build is running into $bin; waiting for it" >&2
  flock 9
fi
if built; then
  echo "$bin"
  exit 0
fi
log="$bin/build.log"
: >"$log"
minor="${KUBERNETES_VERSION#v1.}"; minor="${minor%%.*}"
# The version the binaries report (kubectl version, /version): what the release build stamps.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags="$ldflags -X $pkg.gitVersion=$KUBERNETES_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
done

started=$(date +%s)
step() { echo "e2e-cluster: [$(( $(date +%s) - started ))s] $*" >&2; }

# One go build per binary so progress can be shown; the build cache makes the shared packages
# compile once. A heartbeat says how many packages are compiled so far.
build() {
  local dir="$1" out="$2" pkg="$3" flags="$4"
  step "building $out ($pkg)"
  (
    cd "$dir"
    CGO_ENABLED=0 "$go" build -trimpath -ldflags "$flags" -o "$bin/$out.tmp" "$pkg"
  ) >>"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 30
    kill -0 "$pid" 2>/dev/null && step "  still building $out"
  done
  if ! wait "$pid"; then
    echo "e2e-cluster: building $out failed; the last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  mv "$bin/$out.tmp" "$bin/$out"
}

step "Kubernetes $KUBERNETES_VERSION, etcd $ETCD_VERSION into $bin (log: $log)"
step "downloading modules"
(cd "$cluster" && "$go" mod download) >>"$log" 2>&1
(cd "$cluster/etcd" && "$go" mod download) >>"$log" 2>&1
if [ ! -f "$bin/.complete" ]; then
  build "$cluster/etcd" etcd go.etcd.io/etcd/server/v3 "-s -w"
  build "$cluster" kubectl k8s.io/kubernetes/cmd/kubectl "$ldflags"
  build "$cluster" kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$ldflags"
  build "$cluster" kube-controller-manager k8s.io/kubernetes/cmd/kube-controller-manager "$ldflags"
  touch "$bin/.complete"
fi
if [ ! -f "$bin/crds/.complete" ]; then
  (cd "$cluster/crds" && "$go" mod download) >>"$log" 2>&1
  build "$cluster/crds" controller-gen sigs.k8s.io/controller-tools/cmd/controller-gen "-s -w"
  step "generating the overlays' CRDs"
  rm -rf "$bin/crds" && mkdir -p "$bin/crds"
  (
    cd "$cluster/crds"
    "$bin/controller-gen" crd:crdVersions=v1,allowDangerousTypes=true \
      paths=github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1 \
      paths=github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1 \
      output:crd:dir="$bin/crds"
  ) >>"$log" 2>&1 || { echo "e2e-cluster: generating CRDs failed; the last lines of $log:" >&2; tail -n 30 "$log" >&2; exit 1; }
  touch "$bin/crds/.complete"
fi
if [ ! -f "$bin/crds/reports/.complete" ]; then
  step "copying the report CRDs (OpenReports, wg-policy)"
  rm -rf "$bin/crds/reports" && mkdir -p "$bin/crds/reports"
  # go mod download checks each module against go.sum; -json says where it was unpacked.
  dirs="$(cd "$cluster/reports" && "$go" mod download -json github.com/openreports/reports-api github.com/kyverno/kyverno 2>>"$log" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  openreports="$(grep '/reports-api@' <<<"$dirs")" || true
  kyverno="$(grep '/kyverno@' <<<"$dirs")" || true
  if [ -z "$openreports" ] || [ -z "$kyverno" ]; then
    echo "e2e-cluster: downloading the report CRDs' modules failed; the last lines of $log:" >&2
    tail -n 30 "$log" >&2
    exit 1
  fi
  cp "$openreports"/config/crd/openreports.io_reports.yaml "$openreports"/config/crd/openreports.io_clusterreports.yaml \
    "$kyverno"/config/crds/policyreport/wgpolicyk8s.io_policyreports.yaml \
    "$kyverno"/config/crds/policyreport/wgpolicyk8s.io_clusterpolicyreports.yaml "$bin/crds/reports/"
  chmod u+w "$bin/crds/reports/"*.yaml
  touch "$bin/crds/reports/.complete"
fi
step "done"
echo "$bin"

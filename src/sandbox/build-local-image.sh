#!/bin/sh
# Build a minimal container image without any registry: the host's node binary, its shared
# libraries and the CA bundle, imported from a tarball. Enough for tests and for agents that
# need only node; the full agent image is built from container/.
#
# Usage: sh src/sandbox/build-local-image.sh [podman|docker] [tag]
#   NODE=/path/to/node overrides the node binary (default: node on PATH).
set -eu
ENGINE=${1:-podman}
TAG=${2:-clawpod-agent:local}
NODE_BIN=${NODE:-$(command -v node)}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/tmp" "$root/workspace" "$root/usr/bin"
chmod 1777 "$root/tmp"

copy() {
  mkdir -p "$root$(dirname "$1")"
  cp -L "$1" "$root$1"
}

real=$(readlink -f "$NODE_BIN")
copy "$real"
[ "$real" = /usr/bin/node ] || ln -s "$real" "$root/usr/bin/node"
for lib in $(ldd "$real" | grep -o '/[^ ]*'); do
  copy "$lib"
done
# A POSIX shell and the basic tools the `command` harness and its scripts expect.
for tool in sh dash cat tr echo ls id env head tail sed grep mkdir rm touch sleep; do
  path=$(command -v "$tool" 2>/dev/null || true)
  case "$path" in /*) ;; *) continue ;; esac
  rp=$(readlink -f "$path")
  copy "$rp"
  [ "$rp" = "$path" ] || { mkdir -p "$root$(dirname "$path")"; ln -sf "$rp" "$root$path"; }
  for lib in $(ldd "$rp" 2>/dev/null | grep -o '/[^ ]*'); do
    copy "$lib"
  done
done
# Merged-/usr hosts keep tools in /usr/bin: give the image /bin as well.
[ -e "$root/bin" ] || ln -s usr/bin "$root/bin"
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  copy /etc/ssl/certs/ca-certificates.crt
fi

tar -C "$root" -cf "$work/image.tar" .
"$ENGINE" import --change 'CMD ["/usr/bin/node"]' "$work/image.tar" "$TAG" >/dev/null
echo "built $TAG with $ENGINE from $real"

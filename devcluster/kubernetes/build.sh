#!/usr/bin/env bash
# Builds a real Kubernetes control plane for integration tests and the local demo: kube-apiserver,
# kube-controller-manager, kube-scheduler and etcd, from the published Go modules (go.mod beside this script),
# through the Go module proxy. No Docker, no downloads of prebuilt binaries.
#
# The binaries go to a cache outside the repository, keyed by go.mod + go.sum + this script + `go version`, because
# CI runs in a fresh clone on the same machine: a hit costs nothing. Cold build on 2 cores: ~4 minutes.
# Prints the directory holding the four binaries as its only line on stdout; progress goes to stderr.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
kube_version=v1.34.4
key=$( { cat "$here/go.mod" "$here/go.sum" "$here/build.sh"; go version; } | sha256sum | cut -c1-16)
cache_root=${NEXUS_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/nexus}
target=$cache_root/control-plane/$key
binaries=(kube-apiserver kube-controller-manager kube-scheduler etcd)

complete() {
  for binary in "${binaries[@]}"; do [ -x "$1/bin/$binary" ] || return 1; done
}

if complete "$target"; then
  echo "Control plane binaries found in the cache key=$key" >&2
  echo "$target/bin"
  exit 0
fi

command -v go >/dev/null || { echo "build.sh: Go is required (https://go.dev); it builds the test control plane" >&2; exit 1; }
staging=$target.partial.$$
trap 'rm -rf "$staging"' EXIT
mkdir -p "$staging/bin"

# Without these stamps the binaries report v0.0.0-master+$Format, which breaks version checks (helm, skew).
minor=${kube_version#v1.}
minor=${minor%%.*}
stamp=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  stamp+=" -X $pkg.gitVersion=$kube_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  stamp+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done

export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod
cd "$here"
started=$(date +%s)
go mod download
for binary in kube-apiserver kube-controller-manager kube-scheduler; do
  echo "Building $binary $kube_version" >&2
  go build -trimpath -ldflags "-s -w$stamp" -o "$staging/bin/$binary" "k8s.io/kubernetes/cmd/$binary"
done
echo "Building etcd" >&2
go build -trimpath -ldflags "-s -w" -o "$staging/bin/etcd" go.etcd.io/etcd/server/v3

"$staging/bin/kube-apiserver" --version | grep -q "Kubernetes $kube_version" \
  || { echo "build.sh: kube-apiserver does not report $kube_version" >&2; exit 1; }
rm -rf "$target"
mkdir -p "$(dirname "$target")"
mv "$staging" "$target"
trap - EXIT
echo "Built the control plane in $(( $(date +%s) - started )) s key=$key" >&2
echo "$target/bin"

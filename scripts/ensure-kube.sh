#!/usr/bin/env bash
# Prints the directory holding etcd, kube-apiserver, kube-scheduler and kwok:
# the parts of a Kubernetes control plane (with simulated kubelets) that the
# Kubernetes driver's tests start on loopback. What is missing is installed
# (etcd, from Debian's etcd-server) or built from the Go module proxy
# (kube-apiserver and kube-scheduler from k8s.io/kubernetes, kwok from
# sigs.k8s.io/kwok) into a cache outside the clone, keyed by release, so a
# fresh clone reuses it and only the first run on a machine pays.
# Everything but the directory goes to stderr.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

KUBE_VERSION=v1.31.4
# The staging modules (k8s.io/api, client-go, ...) are released as v0.X.Y
# beside Kubernetes v1.X.Y.
STAGING_VERSION=v0${KUBE_VERSION#v1}
KWOK_VERSION=v0.7.0

cache=${PES_KUBE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pes/kube-$KUBE_VERSION}
mkdir -p "$cache"

say() { echo "ensure-kube: $*" >&2; }

# Two test runs may ask at once: one builds, the other waits for it.
exec 9>"$cache/.lock"
flock 9

# run_long LABEL CMD...: runs a long command niced, printing its elapsed
# time every 30 s so a first run does not look hung.
run_long() {
  local label=$1; shift
  local start=$SECONDS log="$cache/.build.log"
  nice -n 10 "$@" >"$log" 2>&1 &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    for _ in $(seq 30); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 1
    done
    if kill -0 "$pid" 2>/dev/null; then
      local t=$((SECONDS - start))
      say "$label: $((t / 60))m$((t % 60))s so far; this happens once, cached in $cache"
    fi
  done
  if ! wait "$pid"; then
    say "$label failed; its output:"
    cat "$log" >&2
    exit 1
  fi
  local t=$((SECONDS - start))
  say "$label: done in $((t / 60))m$((t % 60))s"
}

# etcd: Debian's etcd-server.
if [ ! -x "$cache/etcd" ]; then
  if ! command -v etcd >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "no etcd on PATH: installing Debian's etcd-server with apt-get"
      DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server >&2 ||
        { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y etcd-server >&2; }
    else
      say "no etcd on PATH and not root: install Debian's etcd-server (apt-get install etcd-server)"
      exit 1
    fi
  fi
  ln -sf "$(command -v etcd)" "$cache/etcd"
fi

# kube-apiserver and kube-scheduler: k8s.io/kubernetes is not meant to be
# required as a module (it names its staging modules at v0.0.0 and replaces
# them with its own tree), so a small generated module requires it and
# replaces each staging module with its published release.
if [ ! -x "$cache/kube-apiserver" ] || [ ! -x "$cache/kube-scheduler" ]; then
  say "kube-apiserver/kube-scheduler $KUBE_VERSION not in $cache: building them from the Go module proxy (several minutes on a small machine, once)"
  src="$cache/src"
  mkdir -p "$src"
  gomod=$(cd "$src" && GOFLAGS= go mod download -json "k8s.io/kubernetes@$KUBE_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p')
  [ -f "$gomod" ] || { say "could not download k8s.io/kubernetes@$KUBE_VERSION"; exit 1; }
  {
    echo "module pes.local/kubebuild"
    echo
    echo "go 1.22.0"
    echo
    echo "require k8s.io/kubernetes $KUBE_VERSION"
    echo
    echo "replace ("
    # Every "k8s.io/x => ./staging/src/k8s.io/x" of Kubernetes' own go.mod.
    sed -n 's|^[[:space:]]*\(k8s\.io/[^[:space:]]*\) => \./staging/.*$|\1|p' "$gomod" |
      while read -r m; do echo "	$m => $m $STAGING_VERSION"; done
    echo ")"
  } >"$src/go.mod"
  : >"$src/go.sum"
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags="$ldflags -X $p.gitVersion=$KUBE_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$KUBE_VERSION" | cut -d. -f2)"
  done
  rm -rf "$src/out" && mkdir -p "$src/out"
  run_long "building kube-apiserver and kube-scheduler $KUBE_VERSION from the Go module proxy" \
    env -C "$src" CGO_ENABLED=0 GOFLAGS=-mod=mod go build -trimpath -ldflags "$ldflags" -o "$src/out/" \
    k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-scheduler
  mv "$src/out/kube-apiserver" "$src/out/kube-scheduler" "$cache/"
fi

# kwok: simulated nodes and kubelets, so pods get scheduled and become
# Running/Ready without containers.
if [ ! -x "$cache/kwok" ]; then
  say "kwok $KWOK_VERSION not in $cache: building it from the Go module proxy (a few minutes, once)"
  run_long "building kwok $KWOK_VERSION from the Go module proxy" \
    env GOBIN="$cache" CGO_ENABLED=0 GOFLAGS= go install -trimpath "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
fi

# ./bin links, for running the parts by hand.
mkdir -p "$root/bin"
for b in etcd kube-apiserver kube-scheduler kwok; do
  ln -sfn "$cache/$b" "$root/bin/$b"
done
echo "$cache"

#!/usr/bin/env bash
# scripts/cached-go-install.sh PACKAGE VERSION WHY
#
# Prints the path of PACKAGE's command at VERSION, built with `go install`
# from the Go module proxy the first time and kept outside the clone,
# keyed by version (~/.cache/pes/<name>-<version>/<name>), so every clone
# on the machine (CI's fresh ones too) reuses it. The build says what it is
# doing, WHY it is needed, and its progress every 20 seconds
# (scripts/progress.sh), on stderr. Two builds of the same binary at once
# (make test and make docs side by side): the second waits for the first.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 PACKAGE VERSION WHY" >&2; exit 2; }
pkg=$1 version=$2 why=$3
root=$(cd "$(dirname "$0")/.." && pwd)
name=${pkg##*/}
cache=${PES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pes}/$name-$version

if [ -x "$cache/$name" ]; then
  echo "$cache/$name"; exit 0
fi
mkdir -p "$cache"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.lock"
  if ! flock -n 9; then
    echo "another build of $name $version is running (lock $cache/.lock); waiting for it" >&2
    flock 9
  fi
  if [ -x "$cache/$name" ]; then
    echo "$cache/$name"; exit 0
  fi
fi

echo "$why" >&2
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# Terraform v1.5.7 from a cold Go build cache is ~3.5 CPU-minutes: about 3
# minutes on a quiet 2-core machine, 7 to 12 measured on a busy one.
GOBIN="$tmp" GOFLAGS= nice -n 10 "$root/scripts/progress.sh" \
  "building $name $version from the Go module proxy" \
  "this happens once (minutes on a quiet machine, up to half an hour on a busy one); the binary is cached in $cache" \
  -- go install -v "$pkg@$version"
# A rename within one directory is atomic: a reader sees no half binary.
mv "$tmp/$name" "$cache/$name"
echo "$cache/$name"

#!/usr/bin/env bash
# Prints the path of a Terraform CLI. When none is on PATH (a fresh machine
# has none), it builds one from the Go module proxy, once per machine: the
# binary is cached outside the clone, keyed by version
# (~/.cache/pes/terraform-v1.5.7/terraform), and ./bin/terraform links to
# it, so a fresh clone of the repository (CI) reuses it. The build takes
# minutes and says so every 20 seconds (scripts/progress.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=v1.5.7

if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ] && [ -x "${TF_ACC_TERRAFORM_PATH}" ]; then
  echo "$TF_ACC_TERRAFORM_PATH"; exit 0
fi
if command -v terraform >/dev/null 2>&1; then
  command -v terraform; exit 0
fi

cache=${PES_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/pes}/terraform-$version
link() {
  mkdir -p "$root/bin"
  ln -sfn "$cache/terraform" "$root/bin/terraform"
  echo "$root/bin/terraform"
}
# ./bin/terraform is a link into the cache, or a binary an older checkout
# built in place; either works.
if [ -x "$root/bin/terraform" ]; then
  echo "$root/bin/terraform"; exit 0
fi
if [ -x "$cache/terraform" ]; then
  link; exit 0
fi

mkdir -p "$cache"
# Two builds at once (make test and make docs side by side) would both
# take minutes for the same binary: the second waits for the first.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$cache/.lock"
  if ! flock -n 9; then
    echo "another build of Terraform $version is running (lock $cache/.lock); waiting for it" >&2
    flock 9
  fi
  if [ -x "$cache/terraform" ]; then
    link; exit 0
  fi
fi

echo "no Terraform CLI on PATH: the provider's acceptance tests, make docs and make demo need one" >&2
tmp=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
GOBIN="$tmp" GOFLAGS= nice -n 10 "$root/scripts/progress.sh" \
  "building Terraform $version from the Go module proxy" \
  "this happens once (about 3 minutes on a quiet machine, 30 on a busy one); the binary is cached in $cache" \
  -- go install -v "github.com/hashicorp/terraform@$version"
# A rename within one directory is atomic: a reader sees no half binary.
mv "$tmp/terraform" "$cache/terraform"
link

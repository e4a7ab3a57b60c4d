#!/usr/bin/env bash
# make install: pesd into BINDIR (by default where `go install` puts
# binaries), and the provider into the local filesystem mirror that
# Terraform searches without any CLI configuration
# (~/.terraform.d/plugins/<host>/pes-project/pes/<version>/<os>_<arch>/).
# A plain `terraform init` then finds source = "pes-project/pes" there,
# with no dev_overrides and no .terraformrc.
#
#   VERSION=0.2.0 BINDIR=/usr/local/bin scripts/install.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

version=${VERSION:-0.1.0}
version=${version#v}
bindir=${BINDIR:-$(go env GOBIN)}
[ -n "$bindir" ] || bindir=$(go env GOPATH)/bin
plugins=${TF_PLUGINS_DIR:-$HOME/.terraform.d/plugins}

# The provider's own address (host/namespace/type) names the mirror
# directory; it is defined once, in the provider.
address=$(sed -n 's/^const Address = "\(.*\)"$/\1/p' provider/provider.go)
[ -n "$address" ] || { echo "install: cannot read the provider's address (const Address) from provider/provider.go" >&2; exit 1; }
platform=$(go env GOOS)_$(go env GOARCH)
mirror=$plugins/$address/$version/$platform

mkdir -p "$bindir" "$mirror"
# Both binaries say their version (pesd version, the provider's
# User-Agent) from reconciler/buildinfo.
ldflags="-X github.com/pes-project/terraform-provider-pes/reconciler/buildinfo.version=$version"
# A cold Go build cache makes each build take minutes (pesd compiles SQLite
# from C): scripts/progress.sh says so while it runs. No -trimpath: it
# would miss the build cache that make build and make test fill.
scripts/progress.sh "building pesd $version into $bindir" \
  "a first build compiles SQLite and takes a few minutes; later builds take seconds" -- \
  go build -v -ldflags "$ldflags" -o "$bindir/pesd" ./reconciler/cmd/pesd
plugin=$mirror/terraform-provider-pes_v$version
previous=""
if [ -f "$plugin" ]; then
  previous=$(mktemp)
  cp "$plugin" "$previous"
fi
CGO_ENABLED=0 scripts/progress.sh "building the provider $version into $mirror" \
  "later builds take seconds" -- \
  go build -v -ldflags "$ldflags" -o "$plugin" .

echo "installed pesd: $bindir/pesd"
echo "installed the provider pes-project/pes $version: $plugin"
if [ -n "$previous" ]; then
  # Terraform records the checksum of the provider it installed in each
  # directory's .terraform.lock.hcl, and refuses a different binary under
  # the same version there.
  cmp -s "$previous" "$plugin" ||
    echo "note: this replaced a different build of $version; in directories initialized with it, run: rm .terraform.lock.hcl && terraform init (or install with VERSION=<a newer version>)"
  rm -f "$previous"
fi
case ":$PATH:" in
  *":$bindir:"*) ;;
  *) echo "note: $bindir is not on your PATH; add it (export PATH=\"$bindir:\$PATH\") or run $bindir/pesd" ;;
esac
echo "next: docs/guides/getting-started.md (terraform init finds the provider with no further configuration)"

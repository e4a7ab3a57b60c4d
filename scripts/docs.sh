#!/usr/bin/env bash
# Generates docs/ with tfplugindocs from the provider's schema, templates/
# and examples/, and docs/openapi.json from pesd's route table. tfplugindocs builds the provider and asks a Terraform CLI
# for its schema: it gets the one scripts/ensure-terraform.sh provides
# (first on PATH, which tfplugindocs searches), so it never downloads one.
# Running it twice leaves no diff.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

TFPLUGINDOCS_VERSION=v0.24.0

terraform_bin=$(scripts/ensure-terraform.sh)
echo "docs: Terraform CLI $terraform_bin" >&2

# A CLI configuration of our own: the environment may name a missing file,
# and tfplugindocs' terraform init must not consult anything else.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'disable_checkpoint = true\n' >"$tmp/terraformrc"

export TF_CLI_CONFIG_FILE="$tmp/terraformrc"
export CHECKPOINT_DISABLE=1
export PATH="$(dirname "$terraform_bin"):$PATH"
export CGO_ENABLED=0

tfplugindocs=$(scripts/cached-go-install.sh github.com/hashicorp/terraform-plugin-docs/cmd/tfplugindocs \
  "$TFPLUGINDOCS_VERSION" "make docs renders docs/ with tfplugindocs, which is not built yet")
echo "docs: tfplugindocs $TFPLUGINDOCS_VERSION generate" >&2
"$tfplugindocs" generate \
  --provider-name pes \
  --rendered-provider-name pes \
  --website-source-dir templates \
  --rendered-website-dir docs

# pesd's API description, as GET /v1/openapi.json serves it (after
# tfplugindocs, which rewrites docs/).
go run ./scripts/openapi docs/openapi.json
echo "docs: wrote docs/openapi.json (OpenAPI 3.1 of pesd's API)" >&2

# tfplugindocs formats the examples it embeds; keep the sources formatted too.
"$terraform_bin" fmt -recursive -check examples >/dev/null || {
  echo "docs: examples/ is not formatted: run terraform fmt -recursive examples" >&2
  exit 1
}
echo "docs: generated $(find docs -name '*.md' | wc -l) pages in docs/" >&2

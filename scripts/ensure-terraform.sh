#!/usr/bin/env bash
# Prints the path of a Terraform CLI. When none is on PATH (a fresh machine
# has none), it builds v1.5.7 from the Go module proxy once per machine,
# cached outside the clone (scripts/cached-go-install.sh:
# ~/.cache/pes/terraform-v1.5.7/terraform), and ./bin/terraform links to
# it. The build takes minutes and says so every 20 seconds.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ] && [ -x "${TF_ACC_TERRAFORM_PATH}" ]; then
  echo "$TF_ACC_TERRAFORM_PATH"; exit 0
fi
if command -v terraform >/dev/null 2>&1; then
  command -v terraform; exit 0
fi
# A link into the cache, or a binary an older checkout built in place.
if [ -x "$root/bin/terraform" ]; then
  echo "$root/bin/terraform"; exit 0
fi
bin=$("$root/scripts/cached-go-install.sh" github.com/hashicorp/terraform v1.5.7 \
  "no Terraform CLI on PATH: the provider's acceptance tests, make docs and make demo need one")
mkdir -p "$root/bin"
ln -sfn "$bin" "$root/bin/terraform"
echo "$root/bin/terraform"

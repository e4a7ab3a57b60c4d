#!/usr/bin/env bash
# Prints the path of a Terraform CLI, building one from the Go module proxy
# into ./bin when none is on PATH (a fresh machine has none; the build takes
# a few minutes once and is reused afterwards).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [ -n "${TF_ACC_TERRAFORM_PATH:-}" ] && [ -x "${TF_ACC_TERRAFORM_PATH}" ]; then
  echo "$TF_ACC_TERRAFORM_PATH"; exit 0
fi
if command -v terraform >/dev/null 2>&1; then
  command -v terraform; exit 0
fi
if [ -x "$root/bin/terraform" ]; then
  echo "$root/bin/terraform"; exit 0
fi
echo "no Terraform CLI on PATH: building terraform v1.5.7 from the Go module proxy into $root/bin (takes a few minutes, once)" >&2
mkdir -p "$root/bin"
GOBIN="$root/bin" GOFLAGS= go install github.com/hashicorp/terraform@v1.5.7 >&2
echo "$root/bin/terraform"

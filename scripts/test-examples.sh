#!/usr/bin/env bash
# The provider as a new user gets it, run by make test:
#
#  1. `make install` into a fresh HOME (no ~/.terraformrc, no CLI
#     configuration in the environment, no dev_overrides);
#  2. `terraform init -backend=false && terraform validate` in a copy of
#     every directory under examples/ that holds .tf files, the provider
#     found in the local mirror `make install` filled;
#  3. `terraform init && terraform apply` of the getting-started
#     configuration against a real pesd on a temporary data directory, the
#     first causality read back, and `terraform destroy`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh

start=$(date +%s)
step() { printf '== examples [%3ss] %s\n' "$(($(date +%s) - start))" "$*"; }
fail() { echo "examples: FAIL: $*" >&2; exit 1; }

terraform=$(scripts/ensure-terraform.sh)
command -v python3 >/dev/null || fail "the getting-started nodes run python3 -m http.server: install python3"
command -v curl >/dev/null || fail "curl is needed to clean up pesd's groups: install curl"

work=$(mktemp -d "${TMPDIR:-/tmp}/pes-examples.XXXXXX")
pesd_pid=""
applied=""
cleanup() {
  local rc=$?
  set +e
  if [ -n "$applied" ]; then
    "$terraform" -chdir="$work/getting-started" destroy -auto-approve -no-color >"$work/destroy.log" 2>&1
  fi
  stop_pesd
  if [ "$rc" -ne 0 ] && [ -f "$work/pesd.log" ]; then
    echo "pesd's log (last lines):" >&2
    tail -n 20 "$work/pesd.log" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A new user's HOME. Go keeps the caches it already has (a cold build cache
# would rebuild everything), Terraform gets no configuration at all.
for v in GOCACHE GOMODCACHE GOPATH GOENV; do export "$v=$(go env "$v")"; done
export HOME="$work/home"
mkdir -p "$HOME"
unset TF_CLI_CONFIG_FILE TERRAFORM_CONFIG TF_PLUGIN_CACHE_DIR TF_DATA_DIR
export CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1 TF_INPUT=0

# tf DIR ARGS... runs terraform in DIR, its output in DIR.log, shown on failure.
tf() {
  local dir=$1
  shift
  "$terraform" -chdir="$dir" "$@" -no-color >"$dir.log" 2>&1 || {
    echo "terraform $* in ${dir#"$work"/} failed:" >&2
    cat "$dir.log" >&2
    return 1
  }
}

step "make install into a fresh HOME ($HOME)"
BINDIR="$HOME/bin" make -s --no-print-directory install >"$work/install.log" 2>&1 || {
  cat "$work/install.log" >&2
  fail "make install"
}
grep '^installed' "$work/install.log"
export PATH="$HOME/bin:$PATH"

step "terraform init -backend=false && terraform validate in every example ($("$terraform" version | head -n 1))"
n=0
while IFS= read -r dir; do
  copy="$work/validate/${dir//\//_}"
  mkdir -p "$copy"
  cp "$dir"/*.tf "$copy/"
  tf "$copy" init -backend=false || fail "$dir: terraform init"
  tf "$copy" validate || fail "$dir: terraform validate"
  echo "valid: $dir"
  n=$((n + 1))
done < <(find examples -name '*.tf' -printf '%h\n' | sort -u)
[ "$n" -gt 0 ] || fail "no examples found"

step "the getting-started guide: pesd on a temporary data directory, terraform init && terraform apply"
PES_TOKEN=$(random_token)
export PES_TOKEN
start_pesd pesd "$work" --evaluation-interval 1s
head -n 1 "$work/pesd.out"
mkdir -p "$work/getting-started"
cp examples/getting-started/*.tf "$work/getting-started/"
tf "$work/getting-started" init || fail "getting-started: terraform init"
grep -E '^- Install(ing|ed) pes-project/pes' "$work/getting-started.log"
applied=1
tf "$work/getting-started" apply -auto-approve || fail "getting-started: terraform apply"
grep -E '^Apply complete' "$work/getting-started.log"

step "the first causality, through terraform output and the pesd CLI"
tf "$work/getting-started" output -json explanations || fail "terraform output"
explanations=$(cat "$work/getting-started.log")
echo "$explanations"
grep -q 'C1' <<<"$explanations" || fail "terraform output explanations names no change C1"
pesd changes --group web >"$work/changes.txt" || { cat "$work/changes.txt" >&2; fail "pesd changes --group web"; }
grep -q 'C1' "$work/changes.txt" || { cat "$work/changes.txt" >&2; fail "pesd changes --group web lists no C1"; }

tf "$work/getting-started" destroy -auto-approve || fail "getting-started: terraform destroy"
applied=""
step "ok: $n examples valid; getting started applied and destroyed"

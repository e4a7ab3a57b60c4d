#!/usr/bin/env bash
# make demo: pesd (SQLite, local driver) on a free loopback port, terraform
# apply of examples/quickstart (two real local web servers), a pushed metric
# that makes the trigger fire together with a user instruction, a
# harmonization, and the causality of every capacity change printed through
# terraform output; it ends with the web console's URL of the group.
# Everything is torn down on any exit.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
. scripts/lib.sh

start=$(date +%s)
step() { printf '\n==> [%3ss] %s\n' "$(($(date +%s) - start))" "$*"; }
die() { echo "demo: $*" >&2; exit 1; }

command -v python3 >/dev/null || die "the quickstart's nodes run python3 -m http.server: install python3"

work=$(mktemp -d "${TMPDIR:-/tmp}/pes-demo.XXXXXX")
pesd_pid=""
destroyed=""
terraform=""

cleanup() {
  local rc=$?
  set +e
  if [ -z "$destroyed" ] && [ -n "$terraform" ] && [ -f "$work/tf/terraform.tfstate" ]; then
    echo "==> cleanup: terraform destroy" >&2
    "$terraform" -chdir="$work/tf" destroy -auto-approve -no-color >"$work/destroy.log" 2>&1
  fi
  if [ -n "$pesd_pid" ] && kill -0 "$pesd_pid" 2>/dev/null; then
    echo "==> cleanup: stopping pesd (pid $pesd_pid)" >&2
    stop_pesd
  fi
  if [ "$rc" -ne 0 ]; then
    echo "demo failed (exit $rc); pesd's output and log:" >&2
    tail -n 30 "$work/pesd.out" "$work/pesd.log" 2>/dev/null >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "Finding a Terraform CLI (scripts/ensure-terraform.sh)"
terraform=$(scripts/ensure-terraform.sh)
echo "terraform: $terraform ($("$terraform" version 2>/dev/null | head -n 1))"

step "Building pesd and the provider into ./bin"
make --no-print-directory build
ls -l bin/pesd bin/terraform-provider-pes | awk '{print $5, $9}'

step "Starting pesd: SQLite in $work/data, local driver, a random token, a free loopback port"
PES_TOKEN=$(random_token)
export PES_TOKEN
start_pesd bin/pesd "$work" --evaluation-interval 1s || die "cannot start pesd"
head -n 1 "$work/pesd.out"

step "Pointing Terraform at ./bin with dev_overrides (our own CLI config; no terraform init needed)"
cat >"$work/terraformrc" <<EOF
disable_checkpoint = true
provider_installation {
  dev_overrides {
    "pes-project/pes" = "$root/bin"
  }
  direct {}
}
EOF
export TF_CLI_CONFIG_FILE="$work/terraformrc" CHECKPOINT_DISABLE=1 TF_IN_AUTOMATION=1
mkdir -p "$work/tf"
cp examples/quickstart/*.tf "$work/tf/"
# tf runs terraform in the demo's directory, without the dev_overrides
# warning it repeats at every command, and keeps terraform's exit status.
tf() {
  local rc=0
  "$terraform" -chdir="$work/tf" "$@" -no-color >"$work/tf.out" 2>&1 || rc=$?
  grep -v -e 'development overrides' -e 'pes-project/pes in ' -e 'may therefore not match' \
    -e 'may cause the state' -e 'published releases' -e 'Provider development overrides' \
    -e '^configuration:$' -e '^releases\.$' -e '^│ *$' -e '^[╷╵]' "$work/tf.out" | cat -s || true
  return "$rc"
}

step "terraform apply examples/quickstart: a local group of 2 web servers, a trigger on queue_depth"
tf apply -auto-approve
group=$("$terraform" -chdir="$work/tf" output -raw group_id)
bin/pesd nodes --group "$group"

step "A user instruction (+1) and a queue_depth of 250 in the same period"
bin/pesd instruct --group "$group" --change-by 1 --actor demo --reason "expecting a campaign"
bin/pesd push --group "$group" queue_depth=250

step "Waiting for pesd to evaluate the trigger (evaluation interval 1s)"
for _ in $(seq 60); do
  bin/pesd events --group "$group" --type trigger_fired -o json 2>/dev/null | grep -q '"trigger_fired"' && break
  sleep 0.5
done
bin/pesd events --group "$group" --type trigger_fired -o json | grep -q '"trigger_fired"' || die "the trigger did not fire"
# The queue drains: the trigger stops holding, so it fires once.
bin/pesd push --group "$group" queue_depth=0 >/dev/null
bin/pesd events --group "$group"

step "Harmonizing now (instead of waiting for the end of the 20s period)"
bin/pesd harmonize --group "$group"

step "Waiting for the new nodes to become ready"
for _ in $(seq 120); do
  counts=$(curl -fsS -H "Authorization: Bearer $PES_TOKEN" "$PES_ENDPOINT/v1/groups/$group" |
    python3 -c 'import json,sys; g=json.load(sys.stdin); print(g["actual_quantity"], g["desired_quantity"])')
  set -- $counts
  [ "$1" -ge "$2" ] && break
  sleep 0.5
done
echo "actual $1, desired $2"
bin/pesd nodes --group "$group"

step "terraform apply -refresh-only: the trigger moved the live desired quantity; nothing to change"
tf apply -refresh-only -auto-approve >/dev/null
plan_rc=0
tf plan -detailed-exitcode >"$work/plan.txt" || plan_rc=$?
grep -E 'No changes|Plan:|Changes to Outputs|found no differences' "$work/plan.txt" || true
case "$plan_rc" in
  0) echo "plan: no changes (desired_quantity stays as declared; current_desired_quantity follows the trigger)" ;;
  2) echo "plan: only the data source's outputs changed" ;;
  *) cat "$work/plan.txt"; die "terraform plan failed" ;;
esac

step "terraform output: quantities, changes and why they happened"
tf output quantities
tf output changes
tf output explanations

step "terraform destroy and stop pesd"
tf destroy -auto-approve >"$work/destroy.txt"
destroyed=1
grep -E 'Destroy complete' "$work/destroy.txt"
echo
echo "demo done in $(($(date +%s) - start))s"

# The console link carries the token once: the page moves it to the tab's
# session storage and drops it from the address bar. The group is
# deleted, but its history stays readable by id.
step "The web console of the demo group (its timeline, causes and decision records)"
console_url="$PES_ENDPOINT/ui/?token=$PES_TOKEN#/group/$group?window=hour"
if [ -t 0 ] && [ -t 1 ]; then
  echo "pesd keeps serving it until you press Enter:"
  echo "$console_url"
  read -r _
else
  echo "$console_url"
fi

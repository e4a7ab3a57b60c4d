#!/usr/bin/env bash
# scripts/progress.sh WHAT NOTE -- COMMAND [ARG...]
#
# Runs a slow build step so that it never looks hung: it says what it is
# doing and why, then every 20 seconds a line with the elapsed time, until
# COMMAND ends. COMMAND's own output goes to a log, shown only when it
# fails; for Go builds run with -v the progress line counts the modules
# downloaded and the packages compiled so far. Everything goes to stderr,
# so the caller's stdout stays a clean answer (a path, say).
#
#   scripts/progress.sh "building Terraform v1.5.7 from the Go module proxy" \
#     "this happens once, the binary is cached in ~/.cache/pes" -- go install -v ...
set -euo pipefail

[ $# -ge 4 ] && [ "$3" = "--" ] || { echo "usage: $0 WHAT NOTE -- COMMAND [ARG...]" >&2; exit 2; }
what=$1 note=$2
shift 3

# A line at most every 20s keeps well inside the 30s a person waits before
# wondering whether anything is happening.
every=${PES_PROGRESS_EVERY:-20}

elapsed() {
  local s=$(($(date +%s) - start))
  if [ "$s" -ge 60 ]; then printf '%dm%02ds' $((s / 60)) $((s % 60)); else printf '%ds' "$s"; fi
}

# What the log says so far: "go: downloading" lines are modules, the other
# lines of go -v are the packages it compiled.
counts() {
  local mods pkgs
  mods=$(grep -c '^go: downloading ' "$log" || true)
  pkgs=$(grep -v -c -e '^go: ' -e '^#' -e '^[[:space:]]' "$log" || true)
  local said=()
  [ "$mods" -eq 0 ] || said+=("$mods module$([ "$mods" -eq 1 ] || echo s) downloaded")
  [ "$pkgs" -eq 0 ] || said+=("$pkgs package$([ "$pkgs" -eq 1 ] || echo s) compiled")
  [ ${#said[@]} -eq 0 ] || printf ' (%s)' "$(IFS=,; echo "${said[*]}" | sed 's/,/, /g')"
}

log=$(mktemp "${TMPDIR:-/tmp}/pes-progress.XXXXXX")
pid=""
finish() {
  local rc=$?
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -f "$log"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT TERM

start=$(date +%s)
echo "$what; $note" >&2
"$@" >"$log" 2>&1 &
pid=$!
next=$((start + every))
while kill -0 "$pid" 2>/dev/null; do
  sleep 1
  if [ "$(date +%s)" -ge "$next" ]; then
    echo "$what: $(elapsed) so far$(counts); $note" >&2
    next=$((next + every))
  fi
done
rc=0
wait "$pid" || rc=$?
pid=""
if [ "$rc" -ne 0 ]; then
  echo "$what: failed after $(elapsed) (exit $rc); the last lines of its output:" >&2
  tail -n 40 "$log" >&2
  exit "$rc"
fi
echo "$what: done in $(elapsed)$(counts)" >&2

#!/usr/bin/env bash
# An execution job: sums the numbers of its input (one a line) into
# $PES_OUTPUT/sum, checkpointing after every line, so a job that is
# suspended, retried or moved to another node resumes where it stopped.
set -euo pipefail
state="$PES_STATE_DIR/done"         # "<lines done> <sum so far>"
done=0 sum=0 stop=0
[ -f "$state" ] && read -r done sum <"$state"
trap 'stop=1' TERM                  # PES_CHECKPOINT=1: save, then exit 0
total=$(wc -l <"$PES_INPUT") n=0
while IFS= read -r line; do
  n=$((n + 1)); [ "$n" -le "$done" ] && continue
  [ "$stop" = 1 ] && exit 0         # the state already holds line n-1
  sum=$((sum + line))
  printf '%s %s\n' "$n" "$sum" >"$state.new" && mv "$state.new" "$state"
  echo "job $PES_JOB_INDEX line $n"  # the job's log: each line once
  echo "$n $total" | awk '{print $1/$2}' >"$PES_PROGRESS"
  sleep "${SUM_DELAY:-0}"
done <"$PES_INPUT"
echo "$sum" >"$PES_OUTPUT/sum" && echo "job $PES_JOB_INDEX done"

#!/usr/bin/env bash
# A CI step that fails a pull request when its proposed triggers, replayed
# over the last week of the group's recorded samples, would have changed
# capacity more often or used more node-hours than the gates allow.
#
# The pipeline provides PES_ENDPOINT and PES_TOKEN (a secret), and the pull
# request carries proposed.json. Gates come from the environment so that a
# reviewer can raise them in the same pull request.
#
#   pesd whatif exits 0 within the gates, 4 past one (stderr names it),
#   1 when pesd refused the backtest (the message names the field).
set -euo pipefail

group=${PES_GROUP:-web}
triggers=${1:-examples/ci/whatif/proposed.json}

# The whole answer, for the pipeline's artifacts.
pesd whatif --group "$group" --triggers "$triggers" --since 7d -o json >backtest.json

# The gates: the table goes to the log, and the exit code fails the step.
pesd whatif --group "$group" --triggers "$triggers" --since 7d \
  --max-changes "${MAX_CHANGES:-60}" --max-node-hours "${MAX_NODE_HOURS:-2000}"

#!/usr/bin/env bash
# The mixing sweep of docs/compare.md: PushBlocks, 2 seeds x 5k env steps, X% passive + Y%
# active: random, active (disagreement + MPC), and mix25/mix50/mix75 (25/50/75% of the
# episodes after the 1k-step warm-up acted by the scripted demonstrator, the rest by the
# active explorer; the learner sees actions throughout). Two runs at a time as Ray tasks.
# Run from the repository root after `bash .ci/setup`.
set -euo pipefail
OUT=${OUT:-/tmp/mixing_5k}
mkdir -p "$OUT"
cd "$OUT"
"$OLDPWD/.venv/bin/contactlab" compare "sources=[random,active,mix25,mix50,mix75]" seeds=2 \
  budget=5000 name=mixing_5k executor=ray max_concurrent=2 run.loop.eval_every=1000

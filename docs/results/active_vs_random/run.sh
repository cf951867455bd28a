#!/usr/bin/env bash
# Issue-4 result: PushBlocks, 3 seeds x 20k env steps, disagreement+MPC vs random actions,
# plus the noisy-TV comparison (PushBlocks with distractor=teleport, 3k steps, MPC) for
# prediction error vs disagreement vs learning progress. Two lanes of runs side by side
# (1 torch thread each, 2 cores). Run from the repository root after .ci/setup; then
# `python docs/results/active_vs_random/summarize.py` writes the tables.
set -euo pipefail
OUT=${OUT:-/tmp/active_vs_random}
CL=$PWD/.venv/bin/contactlab
mkdir -p "$OUT"
cd "$OUT"
# Probe sets are built once up front, so the lanes never race to build them.
$CL probe make env=push_blocks probe.root=probes || true
$CL probe make env=push_blocks env.distractor=teleport probe.root=probes || true
job() {  # job NAME OVERRIDES...
  local name=$1; shift
  $CL run "$@" probe.root=probes run_name="$name" > "log-$name.txt" 2>&1
}
lane_a() {
  job mpc-disagreement-s0 budget=20000 agent=mpc curiosity=disagreement seed=0
  job mpc-disagreement-s1 budget=20000 agent=mpc curiosity=disagreement seed=1
  job tv-learning_progress env.distractor=teleport budget=3000 loop.eval_every=1000 agent=mpc curiosity=learning_progress
}
lane_b() {
  for seed in 0 1 2; do
    job random-s$seed budget=20000 agent=random curiosity=disagreement seed=$seed
  done
  job mpc-disagreement-s2 budget=20000 agent=mpc curiosity=disagreement seed=2
  job tv-prediction_error env.distractor=teleport budget=3000 loop.eval_every=1000 agent=mpc curiosity=prediction_error
  job tv-disagreement env.distractor=teleport budget=3000 loop.eval_every=1000 agent=mpc curiosity=disagreement
}
lane_a & lane_b & wait

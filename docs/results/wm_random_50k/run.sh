#!/usr/bin/env bash
# PushBlocks, 50k random-action transitions, each world model x objective, scored on the
# PushBlocks probe set. Run from the repository root after .ci/setup; writes runs under
# $OUT (default /tmp/wm_random_50k) and copies each summary.json next to this script.
set -euo pipefail
OUT=${OUT:-/tmp/wm_random_50k}
HERE=$(cd "$(dirname "$0")" && pwd)
CL=.venv/bin/contactlab
mkdir -p "$OUT"
$CL collect env=push_blocks steps=50000 seed=0 out="$OUT/data" || true   # skips if present
for wm in mlp interaction; do
  for obj in reconstructive jepa; do
    name="$wm-$obj"
    $CL train-model dataset="$OUT/data" world_model=$wm world_model.objective=$obj \
      train.updates=3000 train.eval_every=500 train.checkpoint_every=500 \
      probe.root="$OUT/probes" out_dir="$OUT/runs" run_name="$name" seed=0
    cp "$OUT/runs/$name/summary.json" "$HERE/$name.summary.json"
    cp "$OUT/runs/$name/metrics.csv" "$HERE/$name.metrics.csv"
  done
done

#!/usr/bin/env bash
# Variants of the seek explorer on the PushBlocks headline's protocol (README.md here):
# `boxfast` (every push as fast as the action box allows, as the demonstrator pushes),
# `softmax` (the same, with the goal drawn by stochastic acquisition instead of the argmax) and
# `push50` (boxfast with pushes of 50 steps instead of 25) and `boxrate` (boxfast with each goal
# scored by its imagined return per expected env step, agent.seek.value=rate) and `boxuniform`
# (boxfast with the goal drawn uniformly among the feasible candidates, curiosity ignored: a
# softmax at temperature 1000 standard deviations, the control for what curiosity chooses).
# Each runs the `active` source only, through docs/results/pushblocks_headline/run.sh (20k env
# steps, 5,000 updates, the headline's probe set a61c7b28..., two lanes), and is then scored
# against the committed headline's sources by summarize.py. Run from the repository root
# after `bash .ci/setup`; ~13-16 min per run with two side by side on the 2-core machine.
#   OUT=/tmp/seek_variants bash docs/results/seek_variants/run.sh
# VARIANTS="boxfast" or SEEDS="0 1" for part of it; a finished run is kept.
# PREVIEW=1: instead, the preview with the candidate world model graph_scales: `boxfast`
# active and video_states, seeds PREVIEW_SEEDS (default "0 1"), summarised by contactlab's
# own compare summary (agent.compare_summary.summarize) in $OUT/gs/runs/pushblocks_gs.
set -euo pipefail
OUT=${OUT:-/tmp/seek_variants}
VARIANTS=${VARIANTS:-"boxfast softmax push50 boxrate boxuniform"}
SEEDS=${SEEDS:-"0 1 2 3 4"}
HERE=docs/results/seek_variants
FAST="agent.seek.speed_scale=box agent.seek.min_speed=1.0"
if [ "${PREVIEW:-0}" = 1 ]; then
  PS=${PREVIEW_SEEDS:-"0 1"}
  OUT=$OUT/gs SOURCES=active SEEDS="$PS" NAME=pushblocks_gs SUMMARISE=0 \
    RUN_OVERRIDES="world_model=graph_scales $FAST" bash docs/results/pushblocks_headline/run.sh
  OUT=$OUT/gs SOURCES=video_states SEEDS="$PS" NAME=pushblocks_gs SUMMARISE=0 \
    RUN_OVERRIDES="world_model=graph_scales" bash docs/results/pushblocks_headline/run.sh
  n=$(( $(echo $PS | tr ' ' '\n' | sort -n | tail -1) + 1 ))
  .venv/bin/python -c "import sys; from pathlib import Path; from agent.compare_summary import \
summarize; summarize(Path(sys.argv[1]), ['active', 'video_states'], 'video_states', $n)" \
    "$OUT/gs/runs/pushblocks_gs"
  exit 0
fi
for v in $VARIANTS; do
  case $v in
    boxfast) over="$FAST" ;;
    softmax) over="$FAST agent.seek.choice=softmax" ;;
    push50) over="$FAST agent.seek.push_steps=50" ;;
    boxrate) over="$FAST agent.seek.value=rate" ;;
    boxuniform) over="$FAST agent.seek.choice=softmax agent.seek.temperature=1000" ;;
    *) echo "unknown variant $v (boxfast | softmax | push50 | boxrate | boxuniform)" >&2; exit 2 ;;
  esac
  OUT=$OUT/$v SOURCES=active SEEDS="$SEEDS" NAME=pushblocks_$v SUMMARISE=0 \
    RUN_OVERRIDES="$over" bash docs/results/pushblocks_headline/run.sh
  # summary_<variant>.json and table_<variant>.md: the files committed here (copy them by hand)
  .venv/bin/python $HERE/summarize.py "$OUT/$v/runs/pushblocks_$v/runs" --name "$v" \
    --write "$OUT/summary_$v.json" > "$OUT/table_$v.md"
  cat "$OUT/table_$v.md"
done

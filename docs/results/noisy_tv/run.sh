#!/usr/bin/env bash
# The noisy-TV check with the default explorer (seek): PushBlocks with the teleporting
# distractor (env.distractor=teleport: the TV is noisy while the agent stands at its switch),
# 3k env steps per run, one run per curiosity signal x seed, two lanes side by side (1 torch
# thread each). Then `python docs/results/noisy_tv/summarize.py $OUT` writes results.md and
# summary.json here. Run from the repository root after `bash .ci/setup`.
set -euo pipefail
OUT=${OUT:-/tmp/noisy_tv}
SIGNALS=${SIGNALS:-"prediction_error disagreement learning_progress rnd"}
SEEDS=${SEEDS:-"0 1 2"}
AGENT=${AGENT:-seek}
# The world model: graph_contact (the default), with which the committed result ran; WM=graph
# gives the earlier result kept as results_graph.md and summary_graph.json.
WM=${WM:-graph_contact}
CL=$PWD/.venv/bin/contactlab
mkdir -p "$OUT/logs"
cd "$OUT"
# The probe set, built once before the lanes; the committed results were scored on f2a1be63...
# (each run's summary.json records it): a set that differs (other code, labels or physics)
# stops the script before any run, unless EXPECT_PROBE is set (another hash, or "" for none).
EXPECT_PROBE=${EXPECT_PROBE-f2a1be633658f26015ab90467ec243531d75f1e69e55ddbf5f83a1c339075807}
if [ -n "$EXPECT_PROBE" ]; then
  $CL probe make env=push_blocks env.distractor=teleport probe.expect_hash="$EXPECT_PROBE"
elif ! made=$($CL probe make env=push_blocks env.distractor=teleport 2>&1); then
  grep -q "holds a complete probe set" <<< "$made" || { echo "$made" >&2; exit 1; }
fi
job() {  # job SIGNAL SEED
  $CL run env.distractor=teleport agent=$AGENT world_model=$WM curiosity=$1 seed=$2 budget=3000 \
    loop.eval_every=1000 out_dir=runs run_name=$AGENT-$1-s$2 > logs/$AGENT-$1-s$2.txt 2>&1
}
export -f job; export CL AGENT WM
for s in $SEEDS; do for sig in $SIGNALS; do echo "$sig $s"; done; done \
  | xargs -P 2 -L 1 bash -c 'job "$0" "$1"'

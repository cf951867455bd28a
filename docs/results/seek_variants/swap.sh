#!/bin/bash
# The offline conditioning swap of README.md ("Why watching wins at the walls"): a fresh default
# model (graph_contact) trained on one run's 20k transitions for 5,000 updates (seed 0),
# conditioned on the actions or on the agent's observed motion (train_cond.py), then scored by
# walls.py into $O/walls_swap.md. Two jobs side by side, ~8-11 min each; a saved model is kept.
# The video_states data are the demonstrator's, the same whatever model the run trained.
#   PROBE=... BOXFAST=... VIDEO=... bash docs/results/seek_variants/swap.sh
set -euo pipefail
cd "$(dirname "$0")/../../.."
P=${PROBE:?PROBE: the headline probe set folder (a61c7b28...)}
B=${BOXFAST:?BOXFAST: the boxfast runs folder (run.sh: $OUT/boxfast/runs/pushblocks_boxfast/runs)}
G=${VIDEO:?VIDEO: a runs folder with video_states-s0 and -s1 (e.g. PREVIEW=1 run.sh: $OUT/gs/runs/pushblocks_gs/runs)}
O=${O:-/tmp/seek_variants/swap}; mkdir -p $O
job() { [ -f $O/$1.pt ] || .venv/bin/python docs/results/watching_advantage/train_cond.py $2 $P $3 5000 0 $O/$1.json $O/$1.pt > $O/$1.log 2>&1; }
job boxfast-s0-action $B/active-s0/data action & job boxfast-s0-motion $B/active-s0/data agent_motion & wait
job boxfast-s1-action $B/active-s1/data action & job boxfast-s1-motion $B/active-s1/data agent_motion & wait
job video-s0-motion $G/video_states-s0/data agent_motion & job video-s1-motion $G/video_states-s1/data agent_motion & wait
models=""
for n in boxfast-s0-action boxfast-s0-motion boxfast-s1-action boxfast-s1-motion video-s0-motion video-s1-motion; do
  models="$models --model $n=$O/$n.pt"
done
# shellcheck disable=SC2086
.venv/bin/python docs/results/seek_variants/walls.py $P $models > $O/walls_swap.md
cat $O/walls_swap.md

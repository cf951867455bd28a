#!/usr/bin/env bash
# The headline comparison of docs/compare.md, re-run at the code on main with today's defaults
# (the world model graph_contact, the explorer `seek` with disagreement): PushBlocks, 20k env
# steps per run. RUN_OVERRIDES=world_model=graph reproduces the superseded results made with
# `graph`, the default until 2026-12-01 (README.md, "Previous result"; each scene's page keeps
# its `graph` section). The committed Billiards headline ran with
# RUN_OVERRIDES="world_model.fast_separation=true" (docs/results/billiards_headline). Run from the repository root after `bash .ci/setup`; results land in
# $OUT/runs/$NAME/ (summary.json, table.md, errors.png); copy them here by hand.
#
# The issue's full protocol is SOURCES="random video_states video_pixels active mix50"
# SEEDS="0 1 2 3 4" (the default here), and that is what the committed PushBlocks result ran
# (in batches of sources and seeds; README.md says which commits); for Billiards and Tower
# (ENV=billiards|tower NAME=..._headline) SOURCES="active random video_states" SEEDS="0 1 2".
# Two lanes side by side (1 torch thread each) on a 2-core machine, ~15-30 min per state-source
# run, ~9-14 min per video_pixels run (PushBlocks, graph_contact, with other jobs beside them).
# The final `contactlab compare` summarises seeds 0 .. max(SEEDS) and, like any compare, first
# runs whichever of those runs is missing: SUMMARISE=0 skips it (e.g. SEEDS="3 4" alone).
#
# One command does the same through the harness (it runs what is missing, then summarises):
#   contactlab compare sources=[random,video_states,video_pixels,active,mix50] seeds=5 \
#       budget=20000 name=pushblocks_headline
set -euo pipefail
OUT=${OUT:-/tmp/pushblocks_headline}
SOURCES=${SOURCES:-"random video_states video_pixels active mix50"}
SEEDS=${SEEDS:-"0 1 2 3 4"}
ENV=${ENV:-push_blocks}
NAME=${NAME:-pushblocks_headline}
# Overrides for every run (default: none, today's defaults), e.g. RUN_OVERRIDES=world_model=graph
# (with another OUT or NAME): given to each `contactlab run`, and to the final compare as
# run.<override>.
RUN_OVERRIDES=${RUN_OVERRIDES-}
BASELINE=${BASELINE:-random}  # the compare's baseline source (one of SOURCES)
CL=$PWD/.venv/bin/contactlab
mkdir -p "$OUT/logs"
cd "$OUT"
# The probe set, built once so parallel runs never race for it. The committed results were
# scored on the set whose hash summary.json records ("probe_content_hashes"): `probe make`
# with probe.expect_hash keeps a complete set that has it, builds it where there is none, and
# stops the script before any run if the set (kept or built: other code, labels or physics)
# differs, unless EXPECT_PROBE is set (to another hash, or to "" to skip the check).
declare -A COMMITTED_PROBE=(
  [push_blocks]=a61c7b284af057e2d473f73ef27723c111273ab4719d58833e7717bd931cb738
  [billiards]=23f9ce096a4e883893ce758b6870a1cb4b1bf2b7c78de4e9877fc4e4ad918dab
  [tower]=63ab18da79761ea83797ae2111cbfe6cf82d42f8eb669839895ee2546b384a68
)
EXPECT_PROBE=${EXPECT_PROBE-${COMMITTED_PROBE[$ENV]:-}}
if [ -n "$EXPECT_PROBE" ]; then
  $CL probe make env=$ENV probe.expect_hash="$EXPECT_PROBE"
elif ! made=$($CL probe make env=$ENV 2>&1); then  # no check: a complete set is kept
  grep -q "holds a complete probe set" <<< "$made" || { echo "$made" >&2; exit 1; }
fi
job() {  # job SOURCE SEED: the run that `contactlab compare` issues for it
  # A finished run (its summary.json written) is kept as it is, like `contactlab compare`
  # keeps it, and so is its log (re-running it would only print "finished already").
  if [ -f "runs/$NAME/runs/$1-s$2/summary.json" ]; then echo "$1-s$2 finished: kept"; return 0; fi
  local over="source=$1"
  case $1 in mix*) over="source=active loop.passive_fraction=$(awk "BEGIN{print ${1#mix}/100}")";; esac
  # shellcheck disable=SC2086  # RUN_OVERRIDES is a list of overrides
  $CL run $over env=$ENV $RUN_OVERRIDES seed=$2 budget=20000 out_dir=runs/$NAME/runs \
    run_name=$1-s$2 > logs/$NAME-$1-s$2.txt 2>&1
}
export -f job; export CL ENV NAME RUN_OVERRIDES
for s in $SEEDS; do for src in $SOURCES; do echo "$src $s"; done; done \
  | xargs -P 2 -L 1 bash -c 'job "$0" "$1"'
[ "${SUMMARISE:-1}" = 1 ] || exit 0
list=$(echo $SOURCES | tr ' ' ','); n=$(( $(echo $SEEDS | tr ' ' '\n' | sort -n | tail -1) + 1 ))
extra=$(for o in $RUN_OVERRIDES; do printf ' run.%s' "$o"; done)
# shellcheck disable=SC2086
$CL compare sources=[$list] baseline=$BASELINE seeds=$n budget=20000 run.env=$ENV $extra \
  name=$NAME

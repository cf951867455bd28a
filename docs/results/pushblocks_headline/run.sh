#!/usr/bin/env bash
# The headline comparison of docs/compare.md: PushBlocks, 5 seeds x 20k env steps, random vs
# video_states vs video_pixels vs the active source (disagreement + MPC). Run from the
# repository root after `bash .ci/setup`; results land in $OUT/runs/pushblocks_headline/
# (summary.json, table.md, errors.png), then are copied here.
#
# One command does it all (runs as Ray tasks, two at a time on 2 cores):
#   contactlab compare sources=[random,video_states,video_pixels,active] seeds=5 \
#       budget=20000 name=pushblocks_headline executor=ray max_concurrent=2
#
# What was actually run for the committed result (same runs, same folders): each run as the
# `contactlab run` command that compare issues for it, two lanes side by side plus a third
# for video_pixels (1 torch thread each), from frozen checkouts of the code (commit 02287bd
# for random, video_states and active; 93179f4, which adds video_pixels, for video_pixels);
# then the compare command below, which found every run finished and only summarised.
set -euo pipefail
OUT=${OUT:-/tmp/pushblocks_headline}
CL=$PWD/.venv/bin/contactlab
mkdir -p "$OUT/logs"
cd "$OUT"
$CL probe make env=push_blocks || true   # built once, so parallel runs never race for it
job() {  # job SOURCE SEED
  $CL run source=$1 seed=$2 budget=20000 out_dir=runs/pushblocks_headline/runs \
    run_name=$1-s$2 > logs/$1-s$2.txt 2>&1
}
export -f job; export CL
{
  for s in 0 1 2 3 4; do echo "active $s"; done
  for s in 0 1 2 3 4; do echo "random $s"; echo "video_states $s"; done
} | xargs -P 2 -L 1 bash -c 'job "$0" "$1"' &
for s in 0 1 2 3 4; do job video_pixels $s; done
wait
$CL compare sources=[random,video_states,video_pixels,active] seeds=5 budget=20000 \
  name=pushblocks_headline

#!/usr/bin/env bash
# Why does watching the demonstrator teach impacts better than acting? (README.md here.)
# PushBlocks, 5k env steps per run, the default world model (graph_contact) and the
# headline's probe set: the default seek explorer against push-speed variants and the
# watching source, then an offline swap of what the model is conditioned on. Run from the
# repository root after `bash .ci/setup`; one run at a time, ~7-10 min each on this 2-core
# machine, ~2 h for the default SEEDS.
#   OUT=/tmp/watching_advantage SEEDS="0 1" bash docs/results/watching_advantage/run.sh
# With TOWER=<the OUT of the Tower headline> (docs/results/tower_headline), also the offline
# swap on Tower's 20k transitions of active-s0 and video_states-s0 (5,000 updates each).
#   python docs/results/watching_advantage/summarize.py /tmp/watching_advantage > tables.md
set -euo pipefail
OUT=${OUT:-/tmp/watching_advantage}
SEEDS=${SEEDS:-"0 1"}
ROOT=$PWD
CL=$ROOT/.venv/bin/contactlab
PY=$ROOT/.venv/bin/python
export CONTACTLAB_REPORT=0
mkdir -p "$OUT/cond"
cd "$OUT"
# The headline's probe set (a61c7b28..., the one the committed tables were scored on): kept if
# complete, built if missing; one that differs stops the script (EXPECT_PROBE: another hash,
# or "" for no check).
EXPECT_PROBE=${EXPECT_PROBE-a61c7b284af057e2d473f73ef27723c111273ab4719d58833e7717bd931cb738}
if [ -n "$EXPECT_PROBE" ]; then
  $CL probe make env=push_blocks probe.root=probe probe.expect_hash="$EXPECT_PROBE"
elif ! made=$($CL probe make env=push_blocks probe.root=probe 2>&1); then
  grep -q "holds a complete probe set" <<< "$made" || { echo "$made" >&2; exit 1; }
fi
# The default probe set's folder (a video_pixels run adds a smaller pixel probe beside it).
P=$(readlink -f "$OUT/probe/push_blocks-none-n500-h10-s1000003")
[ -f "$P/complete.json" ] || { echo "no complete probe set at $P" >&2; exit 1; }
run() {  # NAME SEED OVERRIDES...: one 5k-step run, kept once finished, resumed otherwise
  local name=$1 s=$2; shift 2
  [ -f "runs/$name-s$s/summary.json" ] && return 0
  $CL run "$@" env=push_blocks seed="$s" budget=5000 probe.path="$P" out_dir=runs \
    run_name="$name-s$s" > "log-$name-s$s.txt" 2>&1
}
for s in $SEEDS; do
  run default "$s" source=active
  run fast "$s" source=active agent.seek.min_speed=1.0
  run box "$s" source=active agent.seek.speed_scale=box
  run boxfast "$s" source=active agent.seek.speed_scale=box agent.seek.min_speed=1.0
  run video "$s" source=video_states
done
# Offline: the same transitions, the run's training budget (0.25 updates per transition).
for s in $SEEDS; do
  for job in "default|action" "default|agent_motion" "video|agent_motion"; do
    IFS='|' read -r name cond <<< "$job"
    f=cond/$name-s$s-$cond.json
    [ -f "$f" ] || (cd "$ROOT" && $PY docs/results/watching_advantage/train_cond.py \
      "$OUT/runs/$name-s$s/data" "$P" "$cond" 1250 "$s" "$OUT/$f")
  done
done
[ -n "${TOWER:-}" ] || exit 0
mkdir -p "$OUT/cond_tower"
TP=$(readlink -f "$TOWER/probes/tower-none-n500-h10-s1000003")
# The Tower headline's probe set (63ab18da...): kept if it has that hash (built there if
# missing, as the headline would), else the script stops; EXPECT_TOWER_PROBE="" skips the check.
TOWER_HASH=${EXPECT_TOWER_PROBE-63ab18da79761ea83797ae2111cbfe6cf82d42f8eb669839895ee2546b384a68}
if [ -n "$TOWER_HASH" ]; then
  $CL probe make env=tower probe.path="$TP" probe.expect_hash="$TOWER_HASH"
fi
for job in "active|action" "active|agent_motion" "video_states|agent_motion"; do
  IFS='|' read -r name cond <<< "$job"
  f=cond_tower/$name-s0-$cond.json
  [ -f "$f" ] || (cd "$ROOT" && $PY docs/results/watching_advantage/train_cond.py \
    "$TOWER/runs/tower_headline/runs/$name-s0/data" "$TP" "$cond" 5000 0 "$OUT/$f")
done

#!/usr/bin/env bash
# The sixth round of ablations (docs/world_model.md, "Sixth round"): one row per job, each
# printing its evaluations to $OUT/<job>.log. Run from the repository root after .ci/setup:
#   DATA=<contactlab collect env=push_blocks env.labels.jump_speed=null policy=probe steps=100000 seed=7 out=...>
#   PROBE=<the PushBlocks probe set dd8ca5ab..., e.g. wm_vs_physics' $OUT/probes/push_blocks>
#   DATA=... PROBE=... OUT=/tmp/round6 bash docs/results/wm_vs_physics/ablate_round6.sh [JOB ...]
# Jobs (default: all, two at a time): A8 A B C D E F G G1 A81 H (single members, batch 256).
set -euo pipefail
: "${DATA:?set DATA to the 100k probe-policy dataset}" "${PROBE:?set PROBE to the probe set}"
OUT=${OUT:-/tmp/round6}
JOBS=${JOBS:-2}
mkdir -p "$OUT"
PY=${PY:-.venv/bin/python}
HERE=docs/results/wm_vs_physics
BASE='"kind": "graph", "n_members": 1, "horizon": 1, "message_steps": 2, "input_noise": 0.3,
"shape_features": true, "huber": 1.0, "contact_features": true, "fast_separation": true,
"switch_time": true, "depth": 1'
job() {  # job NAME: one row's training
  local w64='"entity_latent_dim": 64, "hidden": 64' w128='"entity_latent_dim": 128, "hidden": 128'
  local run=("$PY" "$HERE/ablate.py") args=(--data "$DATA" --probe "$PROBE" --seed 0)
  local u=8000 ev=2000 fit=10000 cfg
  case $1 in
    A8) cfg="$w64" ;;
    A) u=16000 ev=4000 cfg="$w64" ;;
    B) u=12000 ev=3000 cfg="$w128" ;;
    C) run=("$PY" "$HERE/ablate_variants.py" regime_sampling) cfg="$w64" ;;
    D) fit=5000 args+=(--subset 5000) cfg="$w64, \"input_noise\": 0.0" ;;
    E) run=(env MIX=0.2,0.25,0.15,0.4 "$PY" "$HERE/ablate_variants.py" regime_sampling)
       cfg="$w64" ;;
    F) cfg="$w64, \"input_noise\": 0.0" ;;
    G) cfg="$w64, \"input_noise\": 0.1" ;;
    G1) ev=4000 args[5]=1 cfg="$w64, \"input_noise\": 0.1" ;;
    A81) ev=4000 args[5]=1 cfg="$w64" ;;
    H) u=16000 ev=4000 cfg="$w128, \"input_noise\": 0.1" ;;
    *) echo "unknown job $1" >&2; return 1 ;;
  esac
  # later keys win in the JSON object (input_noise after the base's)
  "${run[@]}" "${args[@]}" --updates "$u" --eval "$ev" --train-eval "$fit" \
    --cfg "{$BASE, $cfg, \"lr_decay_updates\": $u}" > "$OUT/$1.log" 2>&1
}
export -f job; export DATA PROBE OUT PY HERE BASE
printf '%s\n' "${@:-A8 A B C D E F G G1 A81 H}" | tr ' ' '\n' | grep . \
  | xargs -P "$JOBS" -I{} bash -c 'job {}'

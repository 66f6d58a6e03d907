#!/usr/bin/env bash
# Cornerstone vs PyTorch on GPT configs A and B (issue: training core), in one run, on this
# machine: prints tokens/s of both, the ratio, and peak memory.
#
#   itests/bench/run-bench.sh [STEPS] [CONFIGS]   (after: mvn -B -q install -DskipTests)
#
# STEPS defaults to 40 (throughput); 2000 with CONFIGS=A compares the validation loss the
# training-core issue sets a target for, both models scored on every window of the split.
#
# Config A: n_layer 4, n_head 4, n_embd 128, block_size 64, batch 32.
# Config B: n_layer 6, n_head 6, n_embd 384, block_size 256, batch 16.
# Both: AdamW lr 1e-3, betas 0.9/0.95, weight decay 0.1 on 2-D tensors, constant lr, no
# clipping, no dropout, character-level Moby Dick with a 90/10 split. PyTorch runs with
# torch.set_num_threads(2) and OMP_WAIT_POLICY=PASSIVE.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
steps=${1:-40}
dist=$(ls -d "$root"/distribution/target/cornerstone-*/ | head -1)
[ -x "$dist/bin/cornerstone" ] || { echo "no distribution under $root/distribution/target: build it first" >&2; exit 1; }
corpus="$dist/data/moby-dick.txt"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}

run_config() {
  local name=$1 layers=$2 heads=$3 embd=$4 block=$5 batch=$6
  "$dist/bin/cornerstone" train --out "$out/$name" \
    --set model.n_layer=$layers --set model.n_head=$heads --set model.n_embd=$embd \
    --set model.block_size=$block --set train.batch_size=$batch --set train.steps=$steps \
    --set train.eval_every=$steps --set train.eval_batches=5 --set train.checkpoint_every=$steps \
    --set train.grad_clip=0 --set train.lr_schedule=constant --set backend.name=cpu > "$out/$name.log"
  local cs val
  cs=$(python3 -c "import json;d=json.load(open('$out/$name/summary.json'));print(d['median_tokens_per_sec'], d['peak_rss_bytes'])")
  # validation loss over every window of the split, the same text PyTorch's model is scored on
  val=$("$dist/bin/cornerstone" eval --run "$out/$name" --all 2>/dev/null | awk '{print $2}')
  local pt
  # OpenBLAS 0.3.21 does not recognise this Xeon and falls back to its generic kernels
  # (~30 GFLOP/s instead of ~240): name the core type for PyTorch too, as the CPU backend does.
  local coretype
  coretype=${OPENBLAS_CORETYPE:-$(grep -q avx512_bf16 /proc/cpuinfo && echo Cooperlake || echo Haswell)}
  pt=$(OPENBLAS_CORETYPE=$coretype OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$here/bench_gpt_torch.py" --corpus "$corpus" --n_layer $layers \
    --n_head $heads --n_embd $embd --block_size $block --batch_size $batch --steps $steps --eval_batches 5 \
    --threads 2)
  python3 - "$name" "$cs" "$pt" "$val" <<'PY'
import json, sys
name, cs, pt, val = sys.argv[1], sys.argv[2].split(), json.loads(sys.argv[3]), float(sys.argv[4])
c_tps, c_rss = float(cs[0]), int(cs[1])
p_tps = pt["tokens_per_sec"]
print(f"config {name}: cornerstone {c_tps:,.0f} tok/s, pytorch {p_tps:,.0f} tok/s, ratio {c_tps / p_tps:.2f}x; "
      f"peak RSS cornerstone {c_rss / 2**20:,.0f} MiB, pytorch {pt['peak_rss_bytes'] / 2**20:,.0f} MiB; "
      f"val loss (whole split) cornerstone {val:.4f}, pytorch {pt['val_loss_all']:.4f}")
PY
}

echo "steps per config: $steps (median tokens/s after warm-up)"
configs=${2:-AB}
[[ $configs == *A* ]] && run_config A 4 4 128 64 32
[[ $configs == *B* ]] && run_config B 6 6 384 256 16
true

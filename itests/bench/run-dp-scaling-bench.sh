#!/usr/bin/env bash
# Data-parallel scaling of GPT config B (issue: cluster training): the same spec and global
# batch trained by one process of 1 thread, then as a cluster job on 2 node processes of 1
# thread each (real distribution, loopback). Prints tokens/s of both, the scaling efficiency
# = cluster tokens/s / (2 x single tokens/s) against the 85% target, and rank 0's time per step
# waiting for the all-reduce after backward (comm_wait_ms in metrics.jsonl).
#
#   itests/bench/run-dp-scaling-bench.sh [STEPS] [BUCKET_BYTES]   (after: mvn -B -q -o package -DskipTests)
#
# STEPS defaults to 16 (tokens/s and CPU time: medians over the second half of the steps, the
# JIT warmed up, the last one left out for its evaluation and checkpoint);
# BUCKET_BYTES (cluster.bucket_bytes) to 4194304. Config B: n_layer 6, n_head 6, n_embd 384,
# block_size 256, batch 16 (8 a rank), AdamW lr 1e-3, constant lr, no clipping, no dropout,
# character-level Moby Dick. One thread everywhere: the cpu backend's thread count is its
# configuration (deploy/dev.cornerstone.backend.cpu.cfg, threads=1; there is no spec key for
# it), written into a copy of the distribution that all three JVMs run from. BENCH_OUT=DIR keeps
# the run folders and node logs there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
steps=${1:-16}
bucket=${2:-4194304}
built=$(ls -d "$root"/distribution/target/cornerstone-*/ 2>/dev/null | head -1)
[ -n "$built" ] && [ -x "$built/bin/cornerstone" ] || { echo "no distribution under $root/distribution/target: build it first" >&2; exit 1; }
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ -n "${BENCH_OUT:-}" ]; then out=$BENCH_OUT; mkdir -p "$out"; else out=$(mktemp -d); fi
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${BENCH_OUT:-}" ] || rm -rf "$out"
}
trap cleanup EXIT

dist="$out/dist"
rm -rf "$dist"
cp -a "$built" "$dist"
echo "threads=1" > "$dist/deploy/dev.cornerstone.backend.cpu.cfg"
printf '\nconsole.port=0\n' >> "$dist/conf/cornerstone.properties"
spec="$out/config-b.yaml"
cat > "$spec" <<YAML
model: {name: gpt, n_layer: 6, n_head: 6, n_embd: 384, block_size: 256, dropout: 0.0}
optimizer: {name: adamw, lr: 1.0e-3, betas: [0.9, 0.95], weight_decay: 0.1}
data: {name: text, path: $dist/data/moby-dick.txt, tokenizer: char, val_fraction: 0.1}
train: {batch_size: 16, steps: $steps, eval_every: $steps, eval_batches: 1, log_every: 1, checkpoint_every: $steps, seed: 1337, grad_clip: 0, lr_schedule: constant}
backend: {name: cpu}
YAML
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "GPT config B, $steps steps, global batch 16, 1 thread a process; bucket_bytes $bucket"
echo "load average before: $(load)"
# --- one process -------------------------------------------------------------------------
t0=$(date +%s)
# CPU seconds of the whole process (boot included), from the kernel's account of the child
single_cpu=$(python3 -c "import resource, subprocess, sys
rc = subprocess.run(sys.argv[1:], stdout=open('$out/single.log', 'w'), stderr=subprocess.STDOUT).returncode
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f'{r.ru_utime + r.ru_stime:.1f}' if rc == 0 else 'failed')" "$dist/bin/cornerstone" train "$spec" --out "$out/single")
[ "$single_cpu" != failed ] || { echo "single-process run failed:" >&2; tail -20 "$out/single.log" >&2; exit 1; }
echo "single process done in $(( $(date +%s) - t0 )) s wall, $single_cpu s CPU (boot included), load average $(load)"

# --- two nodes -----------------------------------------------------------------------------
name="dp-bench-$$"
start_node() { # DATA_DIR ARGS...
  local data=$1; shift
  mkdir -p "$data"
  JAVA_OPTS="${NODE_JAVA_OPTS:--Xmx1g}" "$dist/bin/cornerstone" node --port 0 --data "$data" --cluster-name "$name" "$@" \
    > "$data/console.txt" 2>&1 &
  pids+=($!)
}
cluster_json() { "$dist/bin/cornerstone" nodes --data "$1" --json 2>/dev/null || true; }
wait_for() { # DESCRIPTION SECONDS COMMAND...
  local what=$1 secs=$2; shift 2
  for _ in $(seq "$secs"); do "$@" && return 0; sleep 1; done
  echo "timed out after $secs s waiting for $what" >&2; exit 1
}
joined() { cluster_json "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if d.get('state')=='joined' and len(d.get('members',[]))>=$2 else 1)" 2>/dev/null; }
start_node "$out/node-0" --cluster
wait_for "node 0 to form cluster $name" 120 joined "$out/node-0" 1
seed=$(cluster_json "$out/node-0" | python3 -c "import json,sys; print(json.load(sys.stdin)['local']['address'])")
start_node "$out/node-1" --join "$seed"
wait_for "node 1 to join $seed" 120 joined "$out/node-0" 2
api=$(python3 -c "import json,sys; from urllib.parse import urlparse; u=urlparse(json.load(open('$out/node-0/node.json'))['api']); print(f'{u.hostname}:{u.port}')")
echo "2 nodes up (cluster $name, node 0's API $api), load average $(load)"
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz}' "/proc/$1/stat"; }
nodes_cpu() { python3 -c "import sys; print(f'{sum(map(float, sys.argv[1:])):.1f}')" "$(cpu_of "${pids[0]}")" "$(cpu_of "${pids[1]}")"; }
cpu0=$(nodes_cpu)
t0=$(date +%s)
"$dist/bin/cornerstone" train "$spec" --cluster "$api" --id dpbench --wait --set cluster.nodes=2 \
  --set cluster.strategy=ddp --set cluster.bucket_bytes="$bucket" > "$out/cluster.log" 2>&1 \
  || { echo "cluster job failed:" >&2; tail -20 "$out/cluster.log" >&2; exit 1; }
cpu1=$(nodes_cpu)
echo "cluster job done in $(( $(date +%s) - t0 )) s wall, $(python3 -c "print(f'{$cpu1 - $cpu0:.1f}')") s CPU of the two nodes (rank start included), load average $(load)"
run=$("$dist/bin/cornerstone" jobs status dpbench --json --data "$out/node-0" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['run'])")

python3 - "$out/single" "$run" "$steps" <<'PY'
import json, statistics, sys
single, cluster, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
def later(run):  # the second half of the steps: past the JIT's warm-up and the first step's bucket plan
    lines = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
    return [l for l in lines if l["step"] > steps // 2 and l["step"] < steps] or lines  # the last logs eval + checkpoint
def med(run, k):
    v = [l[k] for l in later(run) if k in l]
    return statistics.median(v) if v else float("nan")
s, c = med(single, "tokens_per_sec"), med(cluster, "tokens_per_sec")
cs, cc = med(single, "cpu_ms_per_step"), med(cluster, "cpu_ms_per_step")
print(f"(medians over steps {steps // 2 + 1}..{steps - 1})")
print(f"one process, 1 thread:      {s:8,.0f} tokens/s")
print(f"2 nodes x 1 thread (ddp):   {c:8,.0f} tokens/s")
print(f"scaling efficiency:         {c / (2 * s):8.1%}   (target >= 85%; wall clock: meaningless under load)")
print(f"rank 0 a step: {1000 * 16 * 256 / c:,.0f} ms wall; waiting for the all-reduce after backward "
      f"{med(cluster, 'comm_wait_ms'):,.1f} ms; reading gradients to host {med(cluster, 'grad_read_ms'):,.1f} ms; "
      f"{med(cluster, 'buckets'):.0f} buckets, {med(cluster, 'buckets_started_in_backward'):.0f} started during backward")
print(f"CPU time a step (whole process): one process {cs:,.0f} ms, rank 0 {cc:,.0f} ms; "
      f"CPU-time efficiency {cs / (2 * cc):.1%} (one process's CPU per token / the two ranks'; what the wall-clock "
      f"efficiency would be with a free core per process)")
PY
echo "load average after: $(load)"

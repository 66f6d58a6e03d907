#!/usr/bin/env bash
# Data-parallel scaling of GPT config B (issue: cluster training): the same spec and global
# batch trained by one process of 1 thread, then as a cluster job on 2 node processes of 1
# thread each (real distribution, loopback). Prints tokens/s of both, the scaling efficiency
# = cluster tokens/s / (2 x single tokens/s) against the 85% target, and rank 0's time per step
# waiting for the all-reduce after backward (comm_wait_ms in metrics.jsonl).
#
# The machine's own ceiling, measured in every pair: two independent one-process trainings
# at the same time (no cluster, no communication, each its own --out), whose tokens/s against
# the lone process's say what any 2-process run can reach on these cores (shared caches, memory
# bandwidth, hypervisor). Context only: the headline stays cluster / (2 x one process).
# Against drift, REPEATS (default 2) pairs run interleaved: one process, cluster, two processes
# at once, one process, cluster, ...; each pair's efficiency, ceiling and cluster / ceiling are
# printed, and the medians. CEILING=0 skips the ceilings. Each pair also prints where rank 0's
# step went (compute_ms, sync_ms, update_ms of metrics.jsonl) against the lone process's.
# STRATEGY=zero1 runs the cluster job with ZeRO-1 (cluster.strategy; default ddp). WARM_JOB=N
# first runs a job of N steps on the same two nodes, untimed, so that the timed job finds the
# training code compiled, as on nodes that have trained before (default 0: fresh nodes, whose JIT
# competes with the ranks for the two cores; the lone process's JIT has the second core to itself).
# PIN=1 pins node i (all its threads) to CPU i with taskset, and the ceiling's two processes
# likewise; the lone process stays unpinned (default 0: the scheduler places every thread).
# TRANSPORT=shm makes the nodes' collectives go through shared memory
# (cluster.collective.transport; default socket, the nodes' own default).
#
#   itests/bench/run-dp-scaling-bench.sh [STEPS] [BUCKET_BYTES]   (after: mvn -B -q -o package -DskipTests)
#
# STEPS defaults to 32 (tokens/s and CPU time: medians over the second half of the steps, the
# last one left out for its evaluation and checkpoint). Steady state: a fresh node's JIT still
# compiles for a minute after the job starts (C1 and C2 took 7 to 10 s of CPU in a 16-step job,
# and 3.5 to 4.6 % of a core in steps 17 to 30), and on these 2 cores that CPU comes out of the
# ranks', while the lone process compiles on the second core, which it has to itself. With 16
# steps (the old default) the second half was still inside that;
# BUCKET_BYTES (cluster.bucket_bytes) to 4194304. Config B: n_layer 6, n_head 6, n_embd 384,
# block_size 256, batch 16 (8 a rank), AdamW lr 1e-3, constant lr, no clipping, no dropout,
# character-level Moby Dick. One thread everywhere: the cpu backend's thread count is its
# configuration (deploy/dev.cornerstone.backend.cpu.cfg, threads=1; there is no spec key for
# it), written into a copy of the distribution that all three JVMs run from. BENCH_OUT=DIR keeps
# the run folders and node logs there.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
steps=${1:-32}
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
transport=${TRANSPORT:-socket}
[[ "$transport" =~ ^(socket|shm|stream|eventbus)$ ]] || { echo "TRANSPORT must be socket, shm, stream or eventbus, not '$transport'" >&2; exit 1; }
printf 'cluster.collective.transport=%s\n' "$transport" >> "$dist/conf/cornerstone.properties"
spec="$out/config-b.yaml"
cat > "$spec" <<YAML
model: {name: gpt, n_layer: 6, n_head: 6, n_embd: 384, block_size: 256, dropout: 0.0}
optimizer: {name: adamw, lr: 1.0e-3, betas: [0.9, 0.95], weight_decay: 0.1}
data: {name: text, path: $dist/data/moby-dick.txt, tokenizer: char, val_fraction: 0.1}
train: {batch_size: 16, steps: $steps, eval_every: $steps, eval_batches: 1, log_every: 1, checkpoint_every: $steps, seed: 1337, grad_clip: 0, lr_schedule: constant}
backend: {name: cpu}
YAML
load() { cut -d' ' -f1-3 /proc/loadavg; }
repeats=${REPEATS:-2}
strategy=${STRATEGY:-ddp}
warm_job=${WARM_JOB:-0}
[[ "$warm_job" =~ ^[0-9]+$ ]] || { echo "WARM_JOB must be a number of steps (0: none), not '$warm_job'" >&2; exit 1; }
[[ "$strategy" =~ ^(ddp|zero1)$ ]] || { echo "STRATEGY must be ddp or zero1, not '$strategy'" >&2; exit 1; }
ceiling=${CEILING:-1}
[[ "$repeats" =~ ^[1-9][0-9]*$ ]] || { echo "REPEATS must be a positive integer, not '$repeats'" >&2; exit 1; }

echo "GPT config B, $steps steps, global batch 16, 1 thread a process; bucket_bytes $bucket; transport $transport; $repeats interleaved pair(s); warm-up job on the nodes: $warm_job steps"
echo "load average before: $(load)"

# --- one process (or several at once, for the ceiling) --------------------------------------
# single OUT...: trains one process per OUT at the same time; prints CPU seconds of each
# (boot included), from the kernel's account of the child.
single() {
  python3 - "$dist/bin/cornerstone" "$spec" "$@" <<'PY'
import resource, subprocess, sys, time, os
exe, spec, outs = sys.argv[1], sys.argv[2], sys.argv[3:]
pin = os.environ.get("PIN", "0") != "0" and len(outs) > 1  # the ceiling's processes: one CPU each
procs = [subprocess.Popen((["taskset", "-c", str(i)] if pin else []) + [exe, "train", spec, "--out", o],
                          stdout=open(o + ".log", "w"), stderr=subprocess.STDOUT)
         for i, o in enumerate(outs)]
cpu = []
for p in procs:
    _, status, r = os.wait4(p.pid, 0)
    cpu.append(f"{r.ru_utime + r.ru_stime:.1f}" if os.waitstatus_to_exitcode(status) == 0 else "failed")
print(" ".join(cpu))
PY
}
run_single() { # OUT...
  local t0 cpu
  t0=$(date +%s)
  cpu=$(single "$@")
  case " $cpu " in *" failed "*) echo "one-process run failed ($*):" >&2; for o in "$@"; do tail -20 "$o.log" >&2; done; exit 1;; esac
  echo "  $# process(es) at once done in $(( $(date +%s) - t0 )) s wall, CPU s each $cpu (boot included), load average $(load)"
}

# --- two nodes -----------------------------------------------------------------------------
start_node() { # DATA_DIR ARGS...
  local data=$1; shift
  mkdir -p "$data"
  local pin=()
  [ "${PIN:-0}" = 0 ] || pin=(taskset -c "${#pids[@]}") # node i on CPU i
  JAVA_OPTS="${NODE_JAVA_OPTS:--Xmx1g}" "${pin[@]}" "$dist/bin/cornerstone" node --port 0 --data "$data" \
    --cluster-name "$name" "$@" > "$data/console.txt" 2>&1 &
  pids+=($!)
}
cluster_json() { "$dist/bin/cornerstone" nodes --data "$1" --json 2>/dev/null || true; }
wait_for() { # DESCRIPTION SECONDS COMMAND...
  local what=$1 secs=$2; shift 2
  for _ in $(seq "$secs"); do "$@" && return 0; sleep 1; done
  echo "timed out after $secs s waiting for $what" >&2; exit 1
}
joined() { cluster_json "$1" | python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if d.get('state')=='joined' and len(d.get('members',[]))>=$2 else 1)" 2>/dev/null; }
# threads_cpu PID [EVERY_S]: "tid<TAB>name<TAB>CPU seconds" of every thread of PID (names with their
# numbers cut off), once, or every EVERY_S seconds while PID lives; one Python process, cheap
threads_cpu() {
  python3 - "$1" "${2:-0}" <<'PY'
import os, re, sys, time
pid, every, hz = sys.argv[1], float(sys.argv[2]), os.sysconf("SC_CLK_TCK")
while True:
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        break
    lines = []
    for tid in tids:
        try:
            name = re.sub(r"[#-]*$", "", re.sub(r"[0-9]", "", open(f"/proc/{pid}/task/{tid}/comm").read().strip()))
            f = open(f"/proc/{pid}/task/{tid}/stat").read().rsplit(") ", 1)[1].split()
            lines.append(f"{tid}\t{name}\t{(int(f[11]) + int(f[12])) / hz:.2f}")
        except (OSError, IndexError):
            pass
    print("\n".join(lines), flush=True)
    if every <= 0:
        break
    time.sleep(every)
PY
}
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.1f", ($12 + $13) / hz}' "/proc/$1/stat"; }
# run_cluster I: fresh nodes for every repeat (none idles through the one-process runs); the
# run folder of rank 0 goes to $out/cluster-I.run
run_cluster() {
  local i=$1 base="$out/c$1" seed api cpu0 cpu1 t0 run
  name="dp-bench-$$-$i"
  pids=()
  start_node "$base/node-0" --cluster
  wait_for "node 0 to form cluster $name" 120 joined "$base/node-0" 1
  seed=$(cluster_json "$base/node-0" | python3 -c "import json,sys; print(json.load(sys.stdin)['local']['address'])")
  start_node "$base/node-1" --join "$seed"
  wait_for "node 1 to join $seed" 120 joined "$base/node-0" 2
  api=$(python3 -c "import json,sys; from urllib.parse import urlparse; u=urlparse(json.load(open('$base/node-0/node.json'))['api']); print(f'{u.hostname}:{u.port}')")
  cpu0=$(python3 -c "import sys; print(sum(map(float, sys.argv[1:])))" "$(cpu_of "${pids[0]}")" "$(cpu_of "${pids[1]}")")
  if [ "$warm_job" != 0 ]; then # a job of its own first, so the nodes' JIT has compiled the training code
    "$dist/bin/cornerstone" train "$spec" --cluster "$api" --id "dpwarm$i" --wait --set cluster.nodes=2 \
      --set cluster.strategy="$strategy" --set cluster.bucket_bytes="$bucket" --set train.steps="$warm_job" \
      --set train.eval_every="$warm_job" --set train.checkpoint_every="$warm_job" > "$base/warm.log" 2>&1 \
      || { echo "warm-up job failed:" >&2; tail -20 "$base/warm.log" >&2; exit 1; }
    cpu0=$(python3 -c "import sys; print(sum(map(float, sys.argv[1:])))" "$(cpu_of "${pids[0]}")" "$(cpu_of "${pids[1]}")")
  fi
  threads_cpu "${pids[0]}" > "$base/threads-0.before"
  # sampled every 2 s while the job runs: a thread that ends with the job (the rank's trainer) is counted too
  threads_cpu "${pids[0]}" 2 > "$base/threads-0.during" &
  local sampler=$!
  t0=$(date +%s)
  "$dist/bin/cornerstone" train "$spec" --cluster "$api" --id "dpbench$i" --wait --set cluster.nodes=2 \
    --set cluster.strategy="$strategy" --set cluster.bucket_bytes="$bucket" > "$base/cluster.log" 2>&1 \
    || { echo "cluster job failed:" >&2; tail -20 "$base/cluster.log" >&2; exit 1; }
  kill "$sampler" 2>/dev/null || true
  wait "$sampler" 2>/dev/null || true
  threads_cpu "${pids[0]}" >> "$base/threads-0.during"
  cpu1=$(python3 -c "import sys; print(sum(map(float, sys.argv[1:])))" "$(cpu_of "${pids[0]}")" "$(cpu_of "${pids[1]}")")
  run=$("$dist/bin/cornerstone" jobs status "dpbench$i" --json --data "$base/node-0" 2>/dev/null | python3 -c "import json,sys; print(json.load(sys.stdin)['run'])")
  echo "$run" > "$out/cluster-$i.run"
  # rank 0's node, CPU of the job by thread (summed over threads of one name): where a rank's time goes besides compute
  python3 - "$base/threads-0.before" "$base/threads-0.during" "$steps" <<'PY'
import collections, sys
def load(f):  # the last (largest) CPU figure of each thread
    d = {}
    for line in open(f):
        parts = line.rstrip("\n").split("\t")
        if len(parts) == 3:
            tid, name, cpu = parts
            d[tid] = (name, max(float(cpu), d.get(tid, ("", 0.0))[1]))
    return d
before, during, steps = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
diff = collections.Counter()
for tid, (name, cpu) in during.items():
    diff[name] += cpu - before.get(tid, (name, 0.0))[1]
total = sum(diff.values())
top = sorted(diff.items(), key=lambda kv: -kv[1])[:8]
print(f"  rank 0's node, CPU of the whole job by thread ({total:.1f} s, {1000 * total / steps:,.0f} ms a step): "
      + ", ".join(f"{k or '?'} {v:.1f} s" for k, v in top))
PY
  echo "  2 nodes (cluster $name) done in $(( $(date +%s) - t0 )) s wall, $(python3 -c "print(f'{$cpu1 - $cpu0:.1f}')") s CPU of the two nodes (rank start included), load average $(load)"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}

for i in $(seq "$repeats"); do
  if [ "$ceiling" != 0 ]; then
    echo "pair $i: one process, then 2 nodes, then two one-process trainings at once (the ceiling)"
  else
    echo "pair $i: one process, then 2 nodes"
  fi
  run_single "$out/single-$i"
  run_cluster "$i"
  if [ "$ceiling" != 0 ]; then
    run_single "$out/both-$i-a" "$out/both-$i-b"
  fi
done

python3 - "$out" "$steps" "$repeats" "$ceiling" "$strategy" <<'PY'
import json, math, os, statistics, sys
out, steps, repeats, ceiling, strategy = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] != "0", sys.argv[5]
def later(run):  # the second half of the steps: past the JIT's warm-up and the first step's bucket plan
    lines = [json.loads(l) for l in open(f"{run}/metrics.jsonl")]
    return [l for l in lines if l["step"] > steps // 2 and l["step"] < steps] or lines  # the last logs eval + checkpoint
def med(run, k):
    v = [l[k] for l in later(run) if k in l]
    return statistics.median(v) if v else float("nan")
print(f"(medians over steps {steps // 2 + 1}..{steps - 1} of each run)")
eff, singles, clusters, ceils, ofceil = [], [], [], [], []
for i in range(1, repeats + 1):
    single, cluster = f"{out}/single-{i}", open(f"{out}/cluster-{i}.run").read().strip()
    s, c = med(single, "tokens_per_sec"), med(cluster, "tokens_per_sec")
    cs, cc = med(single, "cpu_ms_per_step"), med(cluster, "cpu_ms_per_step")
    singles.append(s); clusters.append(c); eff.append(c / (2 * s))
    print(f"pair {i}: one process {s:7,.0f} tokens/s, 2 nodes {c:7,.0f} tokens/s, efficiency {c / (2 * s):6.1%}; "
          f"rank 0 a step {1000 * 16 * 256 / c:,.0f} ms, comm wait {med(cluster, 'comm_wait_ms'):,.1f} ms, "
          f"grad read {med(cluster, 'grad_read_ms'):,.1f} ms, {med(cluster, 'buckets'):.0f} buckets "
          f"({med(cluster, 'buckets_started_in_backward'):.0f} during backward); CPU a step: one process {cs:,.0f} ms, "
          f"rank 0 {cc:,.0f} ms, CPU-time efficiency {cs / (2 * cc):.1%}")
    print(f"        a step, one process / 2 (16 sequences, halved) against rank 0 (8): compute "
          f"{med(single, 'compute_ms') / 2:,.0f} / {med(cluster, 'compute_ms'):,.0f} ms, sync - / "
          f"{med(cluster, 'sync_ms'):,.0f} ms; update (not halved: with ddp each rank updates every parameter, "
          f"as the lone process does) {med(single, 'update_ms'):,.0f} / {med(cluster, 'update_ms'):,.0f} ms")
    if ceiling:
        a, b = med(f"{out}/both-{i}-a", "tokens_per_sec"), med(f"{out}/both-{i}-b", "tokens_per_sec")
        ceils.append((a + b) / (2 * s)); ofceil.append(c / (a + b))
        print(f"        ceiling: two one-process runs at once {a:,.0f} + {b:,.0f} = {a + b:,.0f} tokens/s = "
              f"{(a + b) / (2 * s):.1%} of 2 x this pair's lone process (compute {med(f'{out}/both-{i}-a', 'compute_ms') / 2:,.0f}"
              f" ms a halved step); cluster / ceiling {c / (a + b):.1%}")
print(f"one process, 1 thread:      {statistics.median(singles):8,.0f} tokens/s (median; runs {', '.join(f'{s:,.0f}' for s in singles)})")
print(f"2 nodes x 1 thread ({strategy}): {statistics.median(clusters):8,.0f} tokens/s (median; runs {', '.join(f'{c:,.0f}' for c in clusters)})")
print(f"scaling efficiency:         {statistics.median(eff):8.1%}   (median of the pairs' {', '.join(f'{e:.1%}' for e in eff)}; "
      f"target >= 85%; wall clock: meaningless under load)")
if ceiling:
    print(f"ceiling (2 one-process runs at once / 2 x the lone process): {statistics.median(ceils):.1%} (median of "
          f"{', '.join(f'{e:.1%}' for e in ceils)}): the most any 2-process run reached on this machine in these pairs; "
          f"cluster / ceiling {statistics.median(ofceil):.1%} (median of {', '.join(f'{e:.1%}' for e in ofceil)})")
PY
echo "load average after: $(load)"

#!/usr/bin/env bash
# Fine-tuning benchmark (issue: fine-tuning): spam or ham on the SpamAssassin mails, held-out
# split (20 % by a hash of each mail's id). Runs the distribution's examples/spam specs as they
# ship, from the distribution's folder:
#
#   (a) scratch   examples/spam/scratch.yaml        the same classifier, random weights, no pre-training
#   (b) full      examples/spam/finetune-full.yaml  every parameter of the pre-trained GPT fine-tuned
#   (c) lora      examples/spam/finetune-lora.yaml  LoRA adapters and the head only
#
# after pre-training with examples/spam/pretrain.yaml (Moby Dick + the unlabelled training
# mails), and prints held-out spam F1 and accuracy, trainable parameters, peak memory (the
# JVM's peak RSS), wall time and CPU time (user + system, which a loaded machine inflates far
# less than wall time) of each, and whether the targets hold: (b) and (c) beat (a) on spam F1;
# (c) within 0.02 F1 of (b) with under 5 % of its trainable parameters.
#
#   itests/bench/finetune-bench.sh [PRETRAIN_RUN]     (after: mvn -B -q -o package -DskipTests)
#
# With PRETRAIN_RUN (a finished run of pretrain.yaml) the pre-training step is skipped.
# BENCH_OUT=DIR keeps the run folders there (default: a temporary folder, removed at the end);
# REPORT_ONLY=1 with BENCH_OUT=DIR prints the table of the runs already there, running nothing.
# PARALLEL=1 runs (a) beside pre-training and (b) beside (c) (with PRETRAIN_RUN, all three at
# once): on a machine shared with other work this takes a larger share of it and finishes
# sooner; the runs compete with each other, so compare CPU time rather than wall time (the load
# at the end of each run goes to DIR/load.txt).
# BENCH_SEEDS (default 1337,1,2) runs (a), (b) and (c) once per train.seed (--set train.seed=N;
# run folders scratch-sN, full-sN, lora-sN) and prints spam F1 per seed and the mean over the
# seeds; the targets are checked on the means (a seed moves spam F1 by up to 0.05, and LoRA's
# gap to full fine-tuning swings by 0.05 to 0.08 from seed to seed, so one seed cannot settle a
# 0.02 target); the table of memory and time shows the first seed's runs. BENCH_SEEDS=1337 runs
# one seed (a third of the time: about 5 minutes on 2 quiet cores after pre-training), the
# targets then checked on that seed alone; BENCH_SEEDS= (empty) runs the specs with the seed
# they ship with, in run folders without a suffix.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dist=$(ls -d "$root"/distribution/target/cornerstone-*/ | head -1)
dist=${dist%/}
[ -x "$dist/bin/cornerstone" ] || { echo "no distribution under $root/distribution/target: build it first" >&2; exit 1; }
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ -n "${BENCH_OUT:-}" ]; then
  out=$BENCH_OUT; mkdir -p "$out"
else
  out=$(mktemp -d); trap 'rm -rf "$out"' EXIT
fi
cd "$dist"

children_cpu() {  # children_cpu PID: CPU clock ticks (user, system) of PID's finished children so far
  local stat; stat=$(< "/proc/$1/stat")
  set -- ${stat##*) }   # fields from the 3rd on: cutime and cstime are the 16th and 17th
  echo "${14} ${15}"
}

timed() {  # timed NAME CMD...: runs CMD, log in $out/NAME.log, wall and CPU seconds in $out/NAME.wall, .cpu
  local name=$1; shift
  local me=$BASHPID t0 t1 c0 c1   # the shell (or subshell) that waits for CMD, and so collects its CPU time
  c0=$(children_cpu "$me")
  t0=$(date +%s.%N)
  "$@" > "$out/$name.log" 2>&1 || { echo "$name failed:" >&2; tail -20 "$out/$name.log" >&2; exit 1; }
  t1=$(date +%s.%N)
  c1=$(children_cpu "$me")
  python3 -c "print(round($t1 - $t0, 1))" > "$out/$name.wall"
  python3 -c "a, b = '$c0'.split(), '$c1'.split(); print(round((int(b[0]) + int(b[1]) - int(a[0]) - int(a[1])) / $(getconf CLK_TCK), 1))" \
    > "$out/$name.cpu"
  echo "$name: $(uptime)" >> "$out/load.txt"
}

together() {  # together CMD...: all at once with PARALLEL=1, else one after the other
  if [ -n "${PARALLEL:-}" ]; then
    local pids=() p failed=
    for c in "$@"; do ( eval "$c" ) & pids+=($!); done
    for p in "${pids[@]}"; do wait "$p" || failed=1; done
    [ -z "$failed" ] || exit 1
  else
    for c in "$@"; do eval "$c"; done
  fi
}

seeds=${BENCH_SEEDS-1337,1,2}
if [ -n "$seeds" ] && ! [[ $seeds =~ ^[0-9]+(,[0-9]+)*$ ]]; then
  echo "BENCH_SEEDS=$seeds: expected train seeds separated by commas, for example 1337,1,2" >&2; exit 2
fi
sfx= seedarg=()   # per seed: run folder suffix -sN and --set train.seed=N
scratch='echo "(a) scratch$sfx"; timed scratch$sfx bin/cornerstone finetune examples/spam/scratch.yaml "${seedarg[@]}" --out "$out/scratch$sfx"'
full='echo "(b) full$sfx"; timed full$sfx bin/cornerstone finetune examples/spam/finetune-full.yaml "${seedarg[@]}" --from "$pretrain" --out "$out/full$sfx"'
lora='echo "(c) lora$sfx"; timed lora$sfx bin/cornerstone finetune examples/spam/finetune-lora.yaml "${seedarg[@]}" --from "$pretrain" --out "$out/lora$sfx"'
runs() {  # runs FIRST...: the commands, once, or once per seed of BENCH_SEEDS
  if [ -z "$seeds" ]; then
    together "$@"
  else
    for seed in ${seeds//,/ }; do
      sfx=-s$seed seedarg=(--set "train.seed=$seed")
      together "$@"
    done
  fi
}
if [ -n "${REPORT_ONLY:-}" ]; then
  [ -n "${BENCH_OUT:-}" ] || { echo "REPORT_ONLY needs BENCH_OUT=DIR" >&2; exit 2; }
  pretrain=${1:-$out/pretrain}
elif [ $# -ge 1 ]; then
  pretrain=$(cd "$1" && pwd)
  echo "pre-trained run: $pretrain (given)"
  runs "$scratch" "$full" "$lora"
else
  pretrain=$out/pretrain
  if [ -z "$seeds" ]; then
    together 'echo "pre-training: examples/spam/pretrain.yaml -> $pretrain"
              timed pretrain bin/cornerstone train examples/spam/pretrain.yaml --out "$pretrain"' "$scratch"
    together "$full" "$lora"
  else
    echo "pre-training: examples/spam/pretrain.yaml -> $pretrain"
    timed pretrain bin/cornerstone train examples/spam/pretrain.yaml --out "$pretrain"
    runs "$scratch" "$full" "$lora"
  fi
fi

python3 - "$out" "$pretrain" "$seeds" <<'PY'
import json, os, sys
out, pretrain, seeds = sys.argv[1], sys.argv[2], [s for s in sys.argv[3].split(",") if s]
sfx = f"-s{seeds[0]}" if seeds else ""
def seconds(name, kind):
    f = os.path.join(out, name + "." + kind)
    return float(open(f).read()) if os.path.exists(f) else None
def load(name):
    s = json.load(open(os.path.join(out, name, "summary.json")))
    s["wall"] = seconds(name, "wall")
    s["cpu"] = seconds(name, "cpu")
    return s
def f1(name):
    return json.load(open(os.path.join(out, name, "summary.json")))["f1"]["spam"]
def show(sec):
    return "n/a" if sec is None else f"{sec:,.0f} s"
rows = {n: load(n + sfx) for n in ("scratch", "full", "lora")}
full_params = rows["full"]["trainable_parameters"]
print()
if os.path.exists(os.path.join(out, "pretrain.wall")):
    p = json.load(open(os.path.join(pretrain, "summary.json")))
    print(f"pre-training: {p['steps']} steps, val loss {p.get('final_val_loss', float('nan')):.4f}, "
          f"peak RSS {p['peak_rss_bytes'] / 2**20:,.0f} MiB, wall {show(seconds('pretrain', 'wall'))}, "
          f"CPU {show(seconds('pretrain', 'cpu'))}")
print(f"held-out split: {rows['full']['validation_examples']} mails "
      f"({rows['full']['confusion']['matrix'][1][0] + rows['full']['confusion']['matrix'][1][1]} spam), "
      f"training split: {rows['full']['training_examples']} mails")
print()
# peak RSS: the whole JVM (heap, code, the CPU backend's pool of freed native blocks);
# peak tensors: parameters, gradients and optimizer state live between steps
print("| run | spam F1 | accuracy | trainable params | % of full | peak RSS | peak tensors | wall time | CPU time |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
names = {"scratch": "(a) scratch", "full": "(b) full fine-tune", "lora": "(c) LoRA"}
for n, s in rows.items():
    print(f"| {names[n]} | {s['f1']['spam']:.4f} | {s['accuracy']:.4f} | {s['trainable_parameters']:,} | "
          f"{100 * s['trainable_parameters'] / full_params:.1f} % | {s['peak_rss_bytes'] / 2**20:,.0f} MiB | "
          f"{s['peak_backend_bytes'] / 2**20:,.1f} MiB | {show(s['wall'])} | {show(s['cpu'])} |")
a, b, c = (rows[n]["f1"]["spam"] for n in ("scratch", "full", "lora"))
if seeds:
    print(f"\n(the table above: train.seed {seeds[0]})\n")
    print("| held-out spam F1 | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | spread (max - min) |")
    print("| --- |" + " ---: |" * (len(seeds) + 2))
    means = {}
    for n in ("scratch", "full", "lora"):
        v = [f1(f"{n}-s{s}") for s in seeds]
        means[n] = sum(v) / len(v)
        print(f"| {names[n]} | " + " | ".join(f"{x:.4f}" for x in v) + f" | {means[n]:.4f} | {max(v) - min(v):.4f} |")
    a, b, c = means["scratch"], means["full"], means["lora"]
    print(f"\ntargets on the means over train.seed {', '.join(seeds)}:")
ratio = rows["lora"]["trainable_parameters"] / full_params
print()
checks = [("(b) beats (a) on spam F1", b > a, f"{b:.4f} vs {a:.4f}"),
          ("(c) beats (a) on spam F1", c > a, f"{c:.4f} vs {a:.4f}"),
          ("(c) within 0.02 F1 of (b)", c >= b - 0.02, f"{c - b:+.4f}"),
          ("(c) under 5 % of (b)'s trainable parameters", ratio < 0.05, f"{100 * ratio:.2f} %")]
for what, ok, detail in checks:
    print(f"{'PASS' if ok else 'FAIL'}  {what}: {detail}")
sys.exit(0 if all(ok for _, ok, _ in checks) else 1)
PY

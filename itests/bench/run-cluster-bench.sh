#!/usr/bin/env bash
# All-reduce over the Vert.x event bus between 2, 3 and 4 node processes on loopback, for 1,
# 16 and 64 MB buffers, against plain TCP between the same processes in the same run (issue:
# cluster training). Prints bus bandwidth (2(n-1)/n x size / time), TCP bandwidth and the ratio.
#
#   itests/bench/run-cluster-bench.sh [SIZES_MB] [WORLDS] [HEAP] [CHUNK_BYTES] [TRANSPORTS]
#       TRANSPORTS: comma-separated socket, shm, stream, eventbus, each optionally :segment (off-heap
#       operands; default :array, a float[]); default socket,socket:segment,shm:segment,stream.
#       Env: CLUSTER_BENCH_ITERATIONS, CLUSTER_BENCH_WARMUP (every size), CLUSTER_BENCH_JAVA_OPTS,
#       CLUSTER_BENCH_ROUNDS (default 3: TCP then every transport, that many times, against drift;
#       medians over the rounds, and each round's ratio), CLUSTER_BENCH_VERBOSE=1 (each rank's answer
#       on stderr: every iteration's seconds, CPU, JIT milliseconds in the timed iterations).
#       (after: mvn -B -q -o package -DskipTests, or any build that ran test-compile and packaged the distribution)
#
# Every node is a real 'bin/cornerstone node' JVM of the built distribution, on 127.0.0.1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dist=$(ls -d "$root"/distribution/target/cornerstone-*/ | head -1)
[ -x "$dist/bin/cornerstone" ] || { echo "no distribution under $root/distribution/target: build it first" >&2; exit 1; }
classes="$root/itests/target/test-classes"
[ -f "$classes/dev/cornerstone/itests/ClusterBench.class" ] || { echo "no $classes: build first" >&2; exit 1; }
export JAVA_HOME=${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
# The distribution's lib/ has what the bench needs besides its own classes (Jackson).
exec "$JAVA_HOME/bin/java" -cp "$classes:$dist/lib/*" dev.cornerstone.itests.ClusterBench "$dist" "$@"

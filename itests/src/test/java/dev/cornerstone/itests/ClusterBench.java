package dev.cornerstone.itests;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * All-reduce over the event bus between 2, 3 and 4 node processes of one distribution on
 * loopback, for 1, 16 and 64 MB of floats; in the same run, plain TCP between the same
 * processes in the same ring pattern (each sends to its successor while it receives from its
 * predecessor) with the same bytes per link, 2 (n - 1) / n times the buffer. Prints the bus
 * bandwidth, 2 (n - 1) / n x size / time (time: the slowest rank's median), the TCP link
 * bandwidth and their ratio, for each transport of the collectives (chunks streamed over a TCP
 * connection per ring link, or sent as event-bus messages). "CPU ratio" is the CPU time the
 * nodes spent on the TCP transfer over the CPU time they spent on the all-reduce: what the
 * ratio would be on a machine where the processes have the cores to themselves (these
 * benchmarks run on 2 shared cores, where every process waits for the CPU). A benchmark, not a test: run by {@code itests/bench/run-cluster-bench.sh}.
 *
 * <pre>
 * java -cp itests/target/test-classes:DIST/lib/* dev.cornerstone.itests.ClusterBench DIST [sizesMB] [worlds] [heap]
 *      [chunkBytes] [transports]
 * </pre>
 */
public final class ClusterBench {

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: ClusterBench DIST [SIZES_MB=1,16,64] [WORLDS=2,3,4] [HEAP=1g] [CHUNK_BYTES] "
                    + "[TRANSPORTS=socket,socket:segment,shm:segment,stream]");
            System.exit(2);
        }
        System.setProperty("cornerstone.dist", Path.of(args[0]).toAbsolutePath().toString());
        List<Integer> sizes = ints(args.length > 1 ? args[1] : "1,16,64");
        List<Integer> worlds = ints(args.length > 2 ? args[2] : "2,3,4");
        String heap = args.length > 3 ? args[3] : "1g";
        Integer chunk = args.length > 4 && !args[4].isBlank() ? Integer.valueOf(args[4]) : null;
        // A transport may name its operand: socket:segment times off-heap operands (socket:array, or
        // plain socket, a float[]).
        List<String> transports = List.of((args.length > 5 ? args[5] : "socket,socket:segment,shm:segment,stream").split(","));
        int maxWorld = worlds.stream().mapToInt(Integer::intValue).max().orElseThrow();

        Path tmp = Files.createTempDirectory("cluster-bench");
        Distribution dist = Distribution.copyInto(tmp);
        String cluster = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        // CLUSTER_BENCH_JAVA_OPTS: more options for every node JVM (a profiler, for example).
        Map<String, String> env = Map.of("JAVA_OPTS", ("-Xmx" + heap + " "
                + System.getenv().getOrDefault("CLUSTER_BENCH_JAVA_OPTS", "")).trim());
        List<NodeProcess> nodes = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        try {
            nodes.add(NodeProcess.start(dist, tmp.resolve("node-0"), List.of("--cluster", "--cluster-name", cluster),
                    env));
            String seed = nodes.get(0).awaitJoined(Duration.ofSeconds(180)).path("local").path("address").asText();
            for (int i = 1; i < maxWorld; i++) {
                nodes.add(NodeProcess.start(dist, tmp.resolve("node-" + i), List.of("--join", seed, "--cluster-name",
                        cluster), env));
            }
            for (NodeProcess n : nodes) {
                ids.add(n.awaitJoined(Duration.ofSeconds(180)).path("nodeId").asText());
            }
            NodeProcess first = nodes.get(0);
            first.await(maxWorld + " members", Duration.ofSeconds(60),
                    () -> first.get("/cluster").path("members").size() == maxWorld);

            System.out.printf(Locale.ROOT, "Cluster bench: %d node processes on loopback (heap %s each), %d cores; "
                    + "all-reduce over the event bus vs plain TCP in the same ring%n", maxWorld, heap,
                    Runtime.getRuntime().availableProcessors());
            int rounds = envInt("CLUSTER_BENCH_ROUNDS", 3);
            System.out.printf(Locale.ROOT, "%d round(s) of TCP then each transport; medians over the rounds, each "
                    + "round's ratio at the end%n", rounds);
            System.out.printf(Locale.ROOT, "TCP: every MiB sent from and received into one 1 MiB buffer (in cache, as "
                    + "iperf); TCP whole: from and into buffers of the link's bytes (memory as an all-reduce touches "
                    + "it)%n");
            System.out.printf(Locale.ROOT, "%5s %6s %-15s %12s %10s %10s %7s %11s %10s %7s   %s%n", "nodes", "MB",
                    "transport", "all-reduce s", "bus GB/s", "TCP GB/s", "ratio", "CPU ratio", "whole GB/s", "ratio",
                    "rounds (ratio to TCP)");
            int job = 0;
            for (int world : worlds) {
                for (int mb : sizes) {
                    int floats = mb * (1 << 20) / 4;
                    // Enough warm-up that the nodes' JIT has compiled the data path (its compiler
                    // threads would otherwise count in the CPU ratio), and enough timed iterations
                    // at 64 MB for a median that holds still; CLUSTER_BENCH_ITERATIONS and
                    // CLUSTER_BENCH_WARMUP override both for every size.
                    int iterations = envInt("CLUSTER_BENCH_ITERATIONS", mb <= 1 ? 20 : mb <= 16 ? 10 : 8);
                    int warmup = envInt("CLUSTER_BENCH_WARMUP", mb <= 1 ? 10 : 3);
                    long linkBytes = 2L * (world - 1) * 4L * floats / world;
                    // Rounds against drift: TCP, then each transport, again and again; the machine's
                    // own speed moves between minutes, so each ratio is taken within one round and
                    // the medians over the rounds are printed (with each round's ratio).
                    List<Double> tcpRounds = new ArrayList<>();
                    List<Double> wholeRounds = new ArrayList<>();
                    Map<String, List<double[]>> arRounds = new LinkedHashMap<>(); // {seconds, ratio, cpu ratio}
                    for (int round = 0; round < rounds; round++) {
                        Map<String, Object> tcp = new LinkedHashMap<>();
                        tcp.put("job", "bench-tcp-" + (++job));
                        tcp.put("bytes", linkBytes);
                        tcp.put("iterations", iterations);
                        tcp.put("warmup", warmup);
                        tcp.put("timeoutSeconds", 300);
                        List<JsonNode> tcpAnswers = everyRank(nodes.subList(0, world), ids, "/cluster/tcp", tcp);
                        double tcpSeconds = slowestMedian(tcpAnswers);
                        double tcpCpu = totalCpu(tcpAnswers);
                        tcpRounds.add(tcpSeconds);
                        tcp.put("job", "bench-tcp-" + (++job));
                        tcp.put("buffer", "whole");
                        double wholeSeconds = slowestMedian(everyRank(nodes.subList(0, world), ids, "/cluster/tcp",
                                tcp));
                        wholeRounds.add(wholeSeconds);
                        for (String transport : transports) {
                            Map<String, Object> ar = new LinkedHashMap<>();
                            ar.put("job", "bench-ar-" + (++job));
                            ar.put("op", "all-reduce");
                            String[] kind = transport.split(":", 2);
                            ar.put("transport", kind[0]);
                            ar.put("operand", kind.length > 1 ? kind[1] : "array");
                            ar.put("floats", floats);
                            ar.put("iterations", iterations);
                            ar.put("warmup", warmup);
                            ar.put("timeoutSeconds", 300);
                            if (chunk != null) {
                                ar.put("chunkBytes", chunk);
                            }
                            List<JsonNode> arAnswers = everyRank(nodes.subList(0, world), ids, "/cluster/collective",
                                    ar);
                            double arSeconds = slowestMedian(arAnswers);
                            if (Boolean.getBoolean("bench.verbose")) {
                                System.out.println("  tcp cpu/it " + tcpCpu + " ar cpu/it " + totalCpu(arAnswers)
                                        + " tcp " + tcpAnswers + "\n  ar " + arAnswers);
                            }
                            arRounds.computeIfAbsent(transport, k -> new ArrayList<>()).add(new double[] {
                                    arSeconds, tcpSeconds / arSeconds, tcpCpu / totalCpu(arAnswers),
                                    wholeSeconds / arSeconds});
                        }
                    }
                    double raw = linkBytes / median(tcpRounds);
                    double whole = linkBytes / median(wholeRounds);
                    for (var e : arRounds.entrySet()) {
                        List<double[]> rs = e.getValue();
                        double arSeconds = median(rs.stream().map(x -> x[0]).toList());
                        StringBuilder each = new StringBuilder();
                        for (double[] x : rs) {
                            each.append(each.isEmpty() ? "" : " ").append(Math.round(100 * x[1])).append('%');
                        }
                        System.out.printf(Locale.ROOT,
                                "%5d %6d %-15s %12.4f %10.3f %10.3f %6.0f%% %10.0f%% %10.3f %6.0f%%   %s%n",
                                world, mb, e.getKey(), arSeconds, linkBytes / arSeconds / 1e9, raw / 1e9,
                                100 * median(rs.stream().map(x -> x[1]).toList()),
                                100 * median(rs.stream().map(x -> x[2]).toList()), whole / 1e9,
                                100 * median(rs.stream().map(x -> x[3]).toList()), each);
                    }
                }
            }
        } finally {
            for (NodeProcess n : nodes) {
                n.close();
            }
        }
    }


    private static List<JsonNode> everyRank(List<NodeProcess> ranks, List<String> ids, String path,
                                            Map<String, Object> body) throws Exception {
        List<String> rankNodes = ids.subList(0, ranks.size());
        List<CompletableFuture<JsonNode>> fs = new ArrayList<>();
        for (int r = 0; r < ranks.size(); r++) {
            Map<String, Object> req = new LinkedHashMap<>(body);
            req.put("rank", r);
            req.put("nodes", rankNodes);
            NodeProcess n = ranks.get(r);
            fs.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return n.post(path, req, Duration.ofMinutes(20));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        List<JsonNode> out = new ArrayList<>();
        for (CompletableFuture<JsonNode> f : fs) {
            JsonNode a = f.get(25, TimeUnit.MINUTES);
            if (!a.path("ok").asBoolean()) {
                throw new IllegalStateException(path + " failed: " + a);
            }
            if (!System.getenv().getOrDefault("CLUSTER_BENCH_VERBOSE", "").isBlank()) { // each rank's answer
                System.err.println(a);
            }
            out.add(a);
        }
        return out;
    }

    private static double median(List<Double> xs) {
        List<Double> sorted = new ArrayList<>(xs);
        java.util.Collections.sort(sorted);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    private static double slowestMedian(List<JsonNode> answers) {
        double worst = 0;
        for (JsonNode a : answers) {
            worst = Math.max(worst, a.path("medianSeconds").asDouble());
        }
        return worst;
    }

    /** CPU seconds per iteration, summed over the ranks' processes. */
    private static double totalCpu(List<JsonNode> answers) {
        double sum = 0;
        for (JsonNode a : answers) {
            sum += a.path("cpuSecondsPerIteration").asDouble();
        }
        return sum;
    }

    private static int envInt(String name, int otherwise) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            return otherwise;
        }
        try {
            int n = Integer.parseInt(v.trim());
            if (n < 0 || (n == 0 && (name.endsWith("ITERATIONS") || name.endsWith("ROUNDS")))) {
                throw new NumberFormatException();
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + "='" + v + "' is not a count (a positive integer)");
        }
    }

    private static List<Integer> ints(String csv) {
        List<Integer> out = new ArrayList<>();
        for (String s : csv.split(",")) {
            out.add(Integer.parseInt(s.trim()));
        }
        return out;
    }
}

package dev.cornerstone.cluster.internal;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.cornerstone.cluster.NodeInfo;
import dev.cornerstone.cluster.collective.CollectiveException;
import dev.cornerstone.cluster.collective.CollectiveOptions;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.collective.Partition;
import dev.cornerstone.cluster.collective.ReduceOp;

/**
 * Checks of the cluster's data plane, run on every node of a ring at once (each call is
 * one rank), as {@code nccl-tests} does for NCCL:
 *
 * <ul>
 *   <li>{@code collective}: a collective over the event bus, timed after a barrier, with
 *       integer-valued floats so that every result is checked exactly;</li>
 *   <li>{@code tcp}: plain TCP between the same nodes in the same ring pattern (each node
 *       sends to its successor while it receives from its predecessor), the limit the event
 *       bus is measured against.</li>
 * </ul>
 *
 * A failure is an answer ({@code ok: false} and the error), not an exception: a check that
 * fails has still done its job.
 */
final class Diagnostics {

    private final ClusterRuntime runtime;

    Diagnostics(ClusterRuntime runtime) {
        this.runtime = runtime;
    }

    /**
     * Request: {@code job}, {@code rank}, {@code nodes} (node id per rank), {@code floats},
     * optional {@code op} (all-reduce, reduce-scatter, all-gather, broadcast), {@code root},
     * {@code iterations} (5), {@code warmup} (1), {@code timeoutSeconds}, {@code chunkBytes},
     * {@code transport}, {@code operand} ({@code array}: a {@code float[]}, the default, or
     * {@code segment}: off-heap floats of a shared arena).
     */
    Map<String, Object> collective(Map<String, Object> req) {
        String job = Requests.string(req, "job");
        int rank = Requests.integer(req, "rank", null, 0, 1 << 16);
        List<String> nodes = Requests.strings(req, "nodes");
        int world = nodes.size();
        String op = Requests.string(req, "op", "all-reduce");
        if (!List.of("all-reduce", "reduce-scatter", "all-gather", "broadcast").contains(op)) {
            throw new IllegalArgumentException("op '" + op + "' is not one of all-reduce, reduce-scatter, all-gather, "
                    + "broadcast");
        }
        int floats = Requests.integer(req, "floats", null, 0, 1 << 28);
        int root = Requests.integer(req, "root", 0, 0, world - 1);
        int iterations = Requests.integer(req, "iterations", 5, 1, 1_000_000);
        int warmup = Requests.integer(req, "warmup", 1, 0, 10_000);
        CollectiveOptions options = options(req);
        String operand = Requests.string(req, "operand", "array");
        if (!operand.equals("array") && !operand.equals("segment")) {
            throw new IllegalArgumentException("operand '" + operand + "' is not array or segment");
        }

        Map<String, Object> out = new LinkedHashMap<>();
        out.put("op", op);
        out.put("operand", operand);
        out.put("job", job);
        out.put("rank", rank);
        out.put("world", world);
        out.put("floats", floats);
        out.put("bytes", 4L * floats);
        out.put("chunkBytes", options.chunkBytes());
        out.put("transport", options.transport().name());
        long t0 = System.nanoTime();
        Communicator comm = null;
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            comm = connect(job, rank, nodes, options);
            float[] data = new float[floats];
            java.lang.foreign.MemorySegment seg = operand.equals("segment") ? arena.allocate(4L * floats, 64) : null;
            float[] token = new float[1];
            List<Double> seconds = new ArrayList<>();
            double cpuSum = 0;
            long jitSum = 0;
            WarmUp warm = new WarmUp(warmup);
            for (int it = 0; seconds.size() < iterations; it++) {
                boolean timed = warm.over();
                fill(op, data, rank, world, root, it);
                if (seg != null) {
                    java.lang.foreign.MemorySegment.copy(data, 0, seg, Communicator.SEGMENT_FLOAT, 0, floats);
                }
                jitQuiet(); // this node's compiler (fill and verify just ran) is not still at work in the timed part
                await(comm.allReduce(token, ReduceOp.SUM), options); // barrier: time the operation, not the fill
                double cpuAtStart = processCpuSeconds();
                long jitAtStart = jitMillis();
                long s = System.nanoTime();
                CompletableFuture<Void> f = seg != null ? switch (op) {
                    case "all-reduce" -> comm.allReduce(seg, ReduceOp.SUM);
                    case "reduce-scatter" -> comm.reduceScatter(seg, ReduceOp.SUM);
                    case "all-gather" -> comm.allGather(seg);
                    default -> comm.broadcast(seg, root);
                } : switch (op) {
                    case "all-reduce" -> comm.allReduce(data, 0, floats, ReduceOp.SUM);
                    case "reduce-scatter" -> comm.reduceScatter(data, 0, floats, ReduceOp.SUM);
                    case "all-gather" -> comm.allGather(data, 0, floats);
                    default -> comm.broadcast(data, 0, floats, root);
                };
                await(f, options);
                double took = (System.nanoTime() - s) / 1e9;
                double cpu = processCpuSeconds() - cpuAtStart;
                long jit = jitMillis() - jitAtStart;
                // Nobody checks (a CPU-heavy loop) before every rank is done: on shared cores a
                // rank that finished first would otherwise slow down the ones still reducing.
                // The barrier also tells every rank whether any compiled during the iteration.
                warm.iterationDone(barrierAnyCompiled(comm, token, jit > 0, options));
                if (seg != null) {
                    java.lang.foreign.MemorySegment.copy(seg, Communicator.SEGMENT_FLOAT, 0, data, 0, floats);
                }
                String wrong = verify(op, data, rank, world, root, it);
                if (wrong != null) {
                    throw new IllegalStateException(op + " of " + floats + " floats gave a wrong result on rank " + rank
                            + " (iteration " + it + "): " + wrong);
                }
                if (timed) {
                    seconds.add(took);
                    cpuSum += cpu;
                    jitSum += jit;
                }
            }
            out.put("warmupIterations", warm.iterations());
            double median = median(seconds);
            out.put("cpuSecondsPerIteration", processCpuSeconds() < 0 ? -1 : cpuSum / iterations);
            out.put("jitMillisInTimedIterations", jitSum);
            double factor = switch (op) {
                case "all-reduce" -> 2.0 * (world - 1) / world;
                case "reduce-scatter", "all-gather" -> (world - 1.0) / world;
                default -> 1.0;
            };
            out.put("ok", true);
            out.put("seconds", seconds);
            out.put("medianSeconds", median);
            out.put("algBandwidth", median > 0 ? 4.0 * floats / median : 0);
            out.put("busBandwidth", median > 0 ? factor * 4.0 * floats / median : 0);
        } catch (CollectiveException e) {
            out.put("ok", false);
            out.put("error", e.getMessage());
            out.put("peerRank", e.peerRank());
        } catch (RuntimeException e) {
            out.put("ok", false);
            out.put("error", e.getMessage() == null ? e.toString() : e.getMessage());
        } finally {
            if (comm != null) {
                comm.close();
            }
        }
        out.put("elapsedSeconds", (System.nanoTime() - t0) / 1e9);
        return out;
    }

    /**
     * Request: {@code job}, {@code rank}, {@code nodes}, {@code bytes} per iteration,
     * optional {@code iterations} (5), {@code warmup} (1), {@code timeoutSeconds}, {@code buffer}:
     * {@code chunk} (the default: every MiB sent from, and received into, the same 1 MiB buffer,
     * which stays in the core's cache, as iperf does) or {@code whole} (sent from one buffer of
     * {@code bytes} and received into another, as an all-reduce's operand is: each byte of memory
     * touched once per iteration). The ring of communicators is used only to exchange ports and
     * as a barrier.
     */
    Map<String, Object> tcp(Map<String, Object> req) {
        String job = Requests.string(req, "job");
        int rank = Requests.integer(req, "rank", null, 0, 1 << 16);
        List<String> nodes = Requests.strings(req, "nodes");
        int world = nodes.size();
        long bytes = Requests.integer(req, "bytes", null, 1, Integer.MAX_VALUE);
        int iterations = Requests.integer(req, "iterations", 5, 1, 1_000_000);
        int warmup = Requests.integer(req, "warmup", 1, 0, 10_000);
        String buffer = Requests.string(req, "buffer", "chunk");
        if (!buffer.equals("chunk") && !buffer.equals("whole")) {
            throw new IllegalArgumentException("buffer '" + buffer + "' is not chunk or whole");
        }
        CollectiveOptions options = options(req);
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("op", "tcp");
        out.put("buffer", buffer);
        out.put("job", job);
        out.put("rank", rank);
        out.put("world", world);
        out.put("bytes", bytes);
        long t0 = System.nanoTime();
        Communicator comm = null;
        try (ServerSocketChannel server = ServerSocketChannel.open()) {
            comm = connect(job, rank, nodes, options);
            String host = hostOf(nodes.get(rank));
            server.bind(new InetSocketAddress(host, 0));
            float[] ports = new float[world]; // ports < 2^24 are exact as floats
            ports[rank] = ((InetSocketAddress) server.getLocalAddress()).getPort();
            await(comm.allReduce(ports, ReduceOp.SUM), options);
            int next = (rank + 1) % world;
            List<Double> seconds = new ArrayList<>();
            double cpu = 0;
            try (SocketChannel toNext = SocketChannel.open(new InetSocketAddress(hostOf(nodes.get(next)),
                    (int) ports[next]));
                 SocketChannel fromPrev = server.accept()) {
                int size = buffer.equals("whole") ? (int) bytes : 1 << 20;
                ByteBuffer sendBuf = ByteBuffer.allocateDirect(size);
                ByteBuffer recvBuf = ByteBuffer.allocateDirect(size); // both zeroed: every page mapped before timing
                float[] token = new float[1];
                WarmUp warm = new WarmUp(warmup);
                while (seconds.size() < iterations) {
                    boolean timed = warm.over();
                    jitQuiet(); // as the collective check does: both are timed with the compiler idle
                    await(comm.allReduce(token, ReduceOp.SUM), options);
                    double cpuAtStart = processCpuSeconds();
                    long jitAtStart = jitMillis();
                    long s = System.nanoTime();
                    CompletableFuture<Void> sent = CompletableFuture.runAsync(() -> pump(toNext, sendBuf, bytes),
                            runnable -> Thread.ofPlatform().name("cornerstone-tcp-check").daemon().start(runnable));
                    long got = 0;
                    while (got < bytes) {
                        if (!recvBuf.hasRemaining() || got == 0) {
                            recvBuf.clear();
                        }
                        if (bytes - got < recvBuf.remaining()) {
                            recvBuf.limit(recvBuf.position() + (int) (bytes - got));
                        }
                        int r = fromPrev.read(recvBuf);
                        if (r < 0) {
                            throw new IOException("rank " + Math.floorMod(rank - 1, world) + " closed the connection");
                        }
                        got += r;
                    }
                    sent.get(options.timeout().toMillis(), TimeUnit.MILLISECONDS);
                    double took = (System.nanoTime() - s) / 1e9;
                    double cpuTook = processCpuSeconds() - cpuAtStart;
                    warm.iterationDone(barrierAnyCompiled(comm, token, jitMillis() > jitAtStart, options));
                    if (timed) {
                        seconds.add(took);
                        cpu += cpuTook;
                    }
                }
                out.put("warmupIterations", warm.iterations());
            }
            double median = median(seconds);
            out.put("ok", true);
            out.put("seconds", seconds);
            out.put("medianSeconds", median);
            out.put("bandwidth", median > 0 ? bytes / median : 0);
            out.put("cpuSecondsPerIteration", cpu / iterations);
        } catch (CollectiveException e) {
            out.put("ok", false);
            out.put("error", e.getMessage());
        } catch (IOException | ExecutionException | TimeoutException | RuntimeException e) {
            out.put("ok", false);
            out.put("error", "tcp check on rank " + rank + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.put("ok", false);
            out.put("error", "interrupted");
        } finally {
            if (comm != null) {
                comm.close();
            }
        }
        out.put("elapsedSeconds", (System.nanoTime() - t0) / 1e9);
        return out;
    }

    private static void pump(SocketChannel ch, ByteBuffer buf, long bytes) {
        try {
            long sent = 0;
            while (sent < bytes) {
                buf.clear();
                if (bytes - sent < buf.capacity()) {
                    buf.limit((int) (bytes - sent));
                }
                while (buf.hasRemaining()) {
                    sent += ch.write(buf);
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private String hostOf(String nodeId) {
        for (NodeInfo n : runtime.members()) {
            if (n.id().equals(nodeId)) {
                return n.address().substring(0, n.address().lastIndexOf(':'));
            }
        }
        throw new IllegalStateException("node " + nodeId + " is not a member of cluster '" + runtime.clusterName()
                + "'");
    }

    private CollectiveOptions options(Map<String, Object> req) {
        CollectiveOptions d = runtime.collectiveDefaults();
        int timeout = Requests.integer(req, "timeoutSeconds", (int) d.timeout().toSeconds(), 1, 86_400);
        int given = Requests.integer(req, "chunkBytes", -1, 4, 256 << 20);
        if (given > 0 && given % 4 != 0) {
            throw new IllegalArgumentException("chunkBytes " + given + " is not a multiple of 4");
        }
        String transport = Requests.string(req, "transport", d.transport().configName());
        CollectiveOptions.Transport t = CollectiveOptions.Transport.ofConfigName(transport);
        if (t == null) {
            throw new IllegalArgumentException("transport '" + transport + "' is not socket, shm, stream or eventbus");
        }
        // No chunk size asked for: the node's own for its transport, the transport's default for another.
        int chunk = given > 0 ? given : t == d.transport() ? d.chunkBytes() : CollectiveOptions.defaultChunkBytes(t);
        return d.withTimeout(java.time.Duration.ofSeconds(timeout)).withChunkBytes(chunk).withTransport(t);
    }

    private Communicator connect(String job, int rank, List<String> nodes, CollectiveOptions options) {
        try {
            return runtime.communicator(job, rank, nodes, options)
                    .get(options.connectTimeout().toMillis() + 5_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("job '" + job + "' rank " + rank + ": the ring did not form in time");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** Waits for {@code f}; the communicator's own timeout fails it first, this one only guards against a bug. */
    private static void await(CompletableFuture<Void> f, CollectiveOptions options) {
        try {
            f.get(options.timeout().toMillis() + 10_000, TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("a collective neither completed nor failed within its timeout + 10 s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted");
        }
    }

    /** A small integer per element, rank and iteration: sums over any world are exact in fp32. */
    static float value(int i, int rank, int iteration) {
        return (float) (Math.floorMod(i * 7 + rank * 13 + iteration * 3, 61) - 30);
    }

    /**
     * {@code value(i, rank, it)} for {@code i = from, from + 1, ...}: the residue mod 61 steps
     * by 7 per element, so a whole array costs an add and a compare per element (the check
     * must not steal the CPU from ranks still in their collective).
     */
    private static final class Values {
        private int residue;

        Values(int from, int rank, int iteration) {
            residue = Math.floorMod(from * 7 + rank * 13 + iteration * 3, 61);
        }

        float next() {
            float v = residue - 30;
            residue += 7;
            if (residue >= 61) {
                residue -= 61;
            }
            return v;
        }
    }

    private static void fill(String op, float[] data, int rank, int world, int root, int it) {
        switch (op) {
            case "all-gather" -> {
                java.util.Arrays.fill(data, Float.NaN);
                int s = Partition.start(data.length, world, rank);
                Values v = new Values(s, rank, it);
                for (int i = s, e = s + Partition.size(data.length, world, rank); i < e; i++) {
                    data[i] = v.next();
                }
            }
            case "broadcast" -> {
                if (rank == root) {
                    Values v = new Values(0, root, it);
                    for (int i = 0; i < data.length; i++) {
                        data[i] = v.next();
                    }
                } else {
                    java.util.Arrays.fill(data, Float.NaN);
                }
            }
            default -> {
                Values v = new Values(0, rank, it);
                for (int i = 0; i < data.length; i++) {
                    data[i] = v.next();
                }
            }
        }
    }

    /** Null when right; else the first wrong element. */
    private static String verify(String op, float[] data, int rank, int world, int root, int it) {
        int n = data.length;
        int from = 0;
        int to = n;
        if (op.equals("reduce-scatter")) {
            from = Partition.start(n, world, rank);
            to = from + Partition.size(n, world, rank);
        }
        boolean sums = op.equals("all-reduce") || op.equals("reduce-scatter");
        Values[] ranks = new Values[world];
        for (int r = 0; r < world; r++) {
            ranks[r] = new Values(from, r, it);
        }
        int owner = 0;
        for (int i = from; i < to; i++) {
            float want;
            if (sums) {
                float sum = 0;
                for (int r = 0; r < world; r++) {
                    sum += ranks[r].next();
                }
                want = sum;
            } else if (op.equals("all-gather")) {
                while (i >= Partition.start(n, world, owner) + Partition.size(n, world, owner)) {
                    owner++;
                }
                want = value(i, owner, it);
            } else {
                want = ranks[root].next();
            }
            if (data[i] != want) {
                return "element " + i + " is " + data[i] + ", expected " + want;
            }
        }
        return null;
    }

    /**
     * The warm-up of a timed check: the {@code warmup} iterations asked for, then more while
     * any rank's JIT finished a compilation during the last one (every rank learns it from the
     * barrier after each iteration, so all of them run the same iterations), at most
     * {@value #MAX_EXTRA} more: as JMH's warm-up, timing starts on code that is compiled, not
     * on code being compiled on the same two cores.
     */
    static final class WarmUp {
        static final int MAX_EXTRA = 40;
        private final int asked;
        private int done;
        private boolean compiling;

        /** {@code asked}: the warm-up iterations asked for; none asked, none run. */
        WarmUp(int asked) {
            this.asked = asked;
            this.compiling = asked > 0;
        }

        /** Whether the next iteration is timed; once true it stays true. */
        boolean over() {
            return done >= asked && (!compiling || done >= asked + MAX_EXTRA);
        }

        /** An iteration ended; {@code anyCompiled}: some rank's JIT finished a compilation during it. */
        void iterationDone(boolean anyCompiled) {
            if (!over()) {
                done++;
                compiling = anyCompiled;
            }
        }

        /** Warm-up iterations run. */
        int iterations() {
            return done;
        }
    }

    /**
     * A barrier that also tells every rank whether any rank's JIT finished a compilation in the
     * iteration just done ({@code compiledHere}: this one's): the same answer on every rank, so all
     * of them warm up for the same number of iterations. {@code token} is left at 0 for the next barrier.
     */
    private static boolean barrierAnyCompiled(Communicator comm, float[] token, boolean compiledHere,
                                              CollectiveOptions options) {
        token[0] = compiledHere ? 1 : 0;
        await(comm.allReduce(token, ReduceOp.SUM), options);
        boolean any = token[0] > 0;
        token[0] = 0;
        return any;
    }

    /** Milliseconds the JIT compilers have spent so far (finished compilations); 0 when unknown. */
    static long jitMillis() {
        java.lang.management.CompilationMXBean jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        return jit != null && jit.isCompilationTimeMonitoringSupported() ? jit.getTotalCompilationTime() : 0;
    }

    /**
     * Waits (at most {@value #JIT_QUIET_MAX_MILLIS} ms) until no compilation has finished for
     * {@value #JIT_QUIET_MILLIS} ms, so that a timed iteration does not share the cores with
     * the compiler working on the code that ran just before it (the fill and the check of
     * the operand, long loops compiled on the stack): on 2 shared cores that would be charged
     * to the transport. As JMH's warm-up, only quieter: what the compilers were given stays
     * theirs to finish.
     */
    static void jitQuiet() {
        long deadline = System.nanoTime() + JIT_QUIET_MAX_MILLIS * 1_000_000L;
        long last = jitMillis();
        long quietSince = System.nanoTime();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            long now = jitMillis();
            if (now != last) {
                last = now;
                quietSince = System.nanoTime();
            } else if (System.nanoTime() - quietSince >= JIT_QUIET_MILLIS * 1_000_000L) {
                return;
            }
        }
    }

    static final long JIT_QUIET_MILLIS = 100;
    static final long JIT_QUIET_MAX_MILLIS = 3_000;

    /** CPU time of this process (all threads, JVM included), in seconds; -1 when unknown. */
    static double processCpuSeconds() {
        try {
            Object v = java.lang.management.ManagementFactory.getPlatformMBeanServer().getAttribute(
                    new javax.management.ObjectName("java.lang:type=OperatingSystem"), "ProcessCpuTime");
            return v instanceof Number n && n.longValue() >= 0 ? n.longValue() / 1e9 : -1;
        } catch (Exception e) {
            return -1;
        }
    }

    private static double median(List<Double> xs) {
        List<Double> s = new ArrayList<>(xs);
        s.sort(null);
        int n = s.size();
        return n == 0 ? 0 : n % 2 == 1 ? s.get(n / 2) : (s.get(n / 2 - 1) + s.get(n / 2)) / 2;
    }
}

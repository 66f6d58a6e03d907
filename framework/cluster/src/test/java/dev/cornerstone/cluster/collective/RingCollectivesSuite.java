package dev.cornerstone.cluster.collective;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ring schedule with every rank in one JVM, on one local Vert.x, each rank on its own
 * event loop; every transport runs the whole suite (event-bus messages are delivered through
 * the codec's {@code transform}; streams are real TCP connections over loopback). Sizes
 * include 0, 1, fewer elements than ranks, primes and sizes that the world and the chunk size
 * do not divide; chunks are tiny so that every segment is cut into many pieces.
 */
abstract class RingCollectivesSuite {

    /** The transport under test. */
    abstract CollectiveOptions.Transport transport();

    static Vertx vertx;
    static int jobs;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    final CollectiveOptions SMALL_CHUNKS = CollectiveOptions.DEFAULTS.withChunkBytes(4 * 5)
            .withTimeout(Duration.ofSeconds(20)).withConnectTimeout(Duration.ofSeconds(10)).withTransport(transport());

    List<Communicator> ring(int world, CollectiveOptions options) throws Exception {
        options = options.withTransport(transport());
        String job = "test-" + (++jobs);
        List<CompletableFuture<Communicator>> fs = new ArrayList<>();
        for (int r = 0; r < world; r++) {
            fs.add(Communicators.create(vertx, job, r, world, options));
        }
        List<Communicator> out = new ArrayList<>();
        for (CompletableFuture<Communicator> f : fs) {
            out.add(f.get(20, TimeUnit.SECONDS));
        }
        return out;
    }

    static void closeAll(List<Communicator> ring) {
        ring.forEach(Communicator::close);
    }

    /** Small integers: any sum over ranks is exact in fp32, so results compare bit for bit. */
    static float[][] integerInputs(Random rnd, int world, int n) {
        float[][] x = new float[world][n];
        for (int r = 0; r < world; r++) {
            for (int i = 0; i < n; i++) {
                x[r][i] = rnd.nextInt(201) - 100;
            }
        }
        return x;
    }

    static void runAll(List<Communicator> ring, BiFunction<Communicator, Integer, CompletableFuture<Void>> op)
            throws Exception {
        List<CompletableFuture<Void>> fs = new ArrayList<>();
        for (int r = 0; r < ring.size(); r++) {
            fs.add(op.apply(ring.get(r), r));
        }
        for (CompletableFuture<Void> f : fs) {
            f.get(30, TimeUnit.SECONDS);
        }
    }

    static final int[] SIZES = {0, 1, 2, 3, 5, 7, 13, 31, 64, 97, 1000, 4099};

    @Test
    void allReduceSumEqualsTheSumOnEveryRank() throws Exception {
        Random rnd = new Random(1);
        for (int world = 1; world <= 5; world++) {
            List<Communicator> ring = ring(world, SMALL_CHUNKS);
            try {
                for (int n : SIZES) {
                    float[][] x = integerInputs(rnd, world, n);
                    float[] want = new float[n];
                    for (float[] xr : x) {
                        for (int i = 0; i < n; i++) {
                            want[i] += xr[i];
                        }
                    }
                    float[][] data = copy(x);
                    runAll(ring, (c, r) -> c.allReduce(data[r], 0, n, ReduceOp.SUM));
                    for (int r = 0; r < world; r++) {
                        assertThat(data[r]).as("world %d, n %d, rank %d", ring.size(), n, r).containsExactly(want);
                    }
                }
            } finally {
                closeAll(ring);
            }
        }
    }

    @Test
    void allReduceOfRealValuesIsCloseToTheSumAndBitwiseEqualAcrossRanks() throws Exception {
        Random rnd = new Random(2);
        int world = 4;
        int n = 10_007;
        List<Communicator> ring = ring(world, CollectiveOptions.DEFAULTS.withChunkBytes(4 * 333));
        try {
            float[][] x = new float[world][n];
            double[] want = new double[n];
            for (int r = 0; r < world; r++) {
                for (int i = 0; i < n; i++) {
                    x[r][i] = (float) rnd.nextGaussian();
                    want[i] += x[r][i];
                }
            }
            float[][] data = copy(x);
            runAll(ring, (c, r) -> c.allReduce(data[r], ReduceOp.AVG));
            for (int i = 0; i < n; i++) {
                assertThat((double) data[0][i]).isCloseTo(want[i] / world, org.assertj.core.data.Offset.offset(1e-6));
            }
            for (int r = 1; r < world; r++) {
                assertThat(data[r]).as("rank %d equals rank 0 bit for bit", r).containsExactly(data[0]);
            }
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void allReduceOfASubrangeLeavesTheRestAlone() throws Exception {
        List<Communicator> ring = ring(3, SMALL_CHUNKS);
        try {
            float[][] data = new float[3][20];
            for (int r = 0; r < 3; r++) {
                java.util.Arrays.fill(data[r], r + 1);
            }
            runAll(ring, (c, r) -> c.allReduce(data[r], 5, 11, ReduceOp.SUM));
            for (int r = 0; r < 3; r++) {
                for (int i = 0; i < 20; i++) {
                    assertThat(data[r][i]).as("rank %d element %d", r, i).isEqualTo(i >= 5 && i < 16 ? 6f : r + 1);
                }
            }
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void reduceScatterLeavesEachRankItsReducedSegment() throws Exception {
        Random rnd = new Random(3);
        for (int world = 2; world <= 4; world++) {
            List<Communicator> ring = ring(world, SMALL_CHUNKS);
            try {
                for (int n : SIZES) {
                    float[][] x = integerInputs(rnd, world, n);
                    float[][] data = copy(x);
                    runAll(ring, (c, r) -> c.reduceScatter(data[r], 0, n, ReduceOp.AVG));
                    for (int r = 0; r < world; r++) {
                        int s = Partition.start(n, world, r);
                        for (int i = s; i < s + Partition.size(n, world, r); i++) {
                            float sum = 0;
                            for (float[] xr : x) {
                                sum += xr[i];
                            }
                            assertThat(data[r][i]).as("world %d n %d rank %d element %d", world, n, r, i)
                                    .isEqualTo(sum * (1f / world));
                        }
                    }
                }
            } finally {
                closeAll(ring);
            }
        }
    }

    @Test
    void allGatherGivesEveryRankEverySegment() throws Exception {
        for (int world = 1; world <= 5; world++) {
            List<Communicator> ring = ring(world, SMALL_CHUNKS);
            try {
                for (int n : SIZES) {
                    float[][] data = new float[world][n];
                    float[] want = new float[n];
                    for (int r = 0; r < world; r++) {
                        java.util.Arrays.fill(data[r], Float.NaN);
                        int s = Partition.start(n, world, r);
                        for (int i = s; i < s + Partition.size(n, world, r); i++) {
                            data[r][i] = 1000 * r + i;
                            want[i] = 1000 * r + i;
                        }
                    }
                    runAll(ring, (c, r) -> c.allGather(data[r], 0, n));
                    for (int r = 0; r < world; r++) {
                        assertThat(data[r]).as("world %d n %d rank %d", world, n, r).containsExactly(want);
                    }
                }
            } finally {
                closeAll(ring);
            }
        }
    }

    @Test
    void broadcastFromEveryRoot() throws Exception {
        int world = 4;
        List<Communicator> ring = ring(world, SMALL_CHUNKS);
        try {
            for (int root = 0; root < world; root++) {
                for (int n : SIZES) {
                    float[][] data = new float[world][n];
                    for (int r = 0; r < world; r++) {
                        for (int i = 0; i < n; i++) {
                            data[r][i] = r == root ? i * 0.5f + root : -1;
                        }
                    }
                    float[] want = data[root].clone();
                    int fromRoot = root;
                    runAll(ring, (c, r) -> c.broadcast(data[r], 0, n, fromRoot));
                    for (int r = 0; r < world; r++) {
                        assertThat(data[r]).as("root %d n %d rank %d", root, n, r).containsExactly(want);
                    }
                }
            }
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void offHeapOperandsGiveWhatArraysGive() throws Exception {
        // Every collective on segments (little-endian floats) against the same collective on
        // arrays: bit for bit, for sizes the world and the chunk size do not divide.
        int world = 3;
        List<Communicator> ring = ring(world, SMALL_CHUNKS);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            Random rnd = new Random(21);
            for (int n : new int[] {1, 2, 7, 97, 1000}) {
                for (String op : List.of("all-reduce", "avg", "reduce-scatter", "all-gather", "broadcast")) {
                    float[][] x = integerInputs(rnd, world, n);
                    float[][] arrays = new float[world][];
                    java.lang.foreign.MemorySegment[] segs = new java.lang.foreign.MemorySegment[world];
                    for (int r = 0; r < world; r++) {
                        arrays[r] = x[r].clone();
                        segs[r] = arena.allocate(4L * n, 4);
                        java.lang.foreign.MemorySegment.copy(x[r], 0, segs[r], Communicator.SEGMENT_FLOAT, 0, n);
                    }
                    runAll(ring, (c, r) -> switch (op) {
                        case "all-reduce" -> c.allReduce(arrays[r], ReduceOp.SUM);
                        case "avg" -> c.allReduce(arrays[r], ReduceOp.AVG);
                        case "reduce-scatter" -> c.reduceScatter(arrays[r], 0, n, ReduceOp.SUM);
                        case "all-gather" -> c.allGather(arrays[r], 0, n);
                        default -> c.broadcast(arrays[r], 0, n, 2);
                    });
                    runAll(ring, (c, r) -> switch (op) {
                        case "all-reduce" -> c.allReduce(segs[r], ReduceOp.SUM);
                        case "avg" -> c.allReduce(segs[r], ReduceOp.AVG);
                        case "reduce-scatter" -> c.reduceScatter(segs[r], ReduceOp.SUM);
                        case "all-gather" -> c.allGather(segs[r]);
                        default -> c.broadcast(segs[r], 2);
                    });
                    for (int r = 0; r < world; r++) {
                        float[] got = segs[r].toArray(Communicator.SEGMENT_FLOAT);
                        int from = 0;
                        int to = n;
                        if (op.equals("reduce-scatter")) { // only the owned segment is defined
                            from = Partition.start(n, world, r);
                            to = from + Partition.size(n, world, r);
                        }
                        assertThat(java.util.Arrays.copyOfRange(got, from, to)).as("%s of %d on rank %d", op, n, r)
                                .containsExactly(java.util.Arrays.copyOfRange(arrays[r], from, to));
                    }
                }
            }
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void largeChunksSumAndAverageExactlyOnArraysAndSegments() throws Exception {
        // Chunks of 1 MiB, many times what the socket transport reads before adding a slice,
        // and sizes that cut the last slice of a piece anywhere: sums of small integers are
        // exact, and an average is the exact sum times 1 / world.
        int world = 3;
        List<Communicator> ring = ring(world, SMALL_CHUNKS.withChunkBytes(1 << 20));
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared()) {
            Random rnd = new Random(31);
            for (int n : new int[] {3 * 262_144 + 5, 1_000_003}) {
                for (ReduceOp reduce : List.of(ReduceOp.SUM, ReduceOp.AVG)) {
                    float[][] x = integerInputs(rnd, world, n);
                    float[] want = new float[n];
                    for (int i = 0; i < n; i++) {
                        float sum = 0;
                        for (float[] xr : x) {
                            sum += xr[i];
                        }
                        want[i] = reduce == ReduceOp.AVG ? sum * (1f / world) : sum;
                    }
                    float[][] arrays = copy(x);
                    java.lang.foreign.MemorySegment[] segs = new java.lang.foreign.MemorySegment[world];
                    for (int r = 0; r < world; r++) {
                        segs[r] = arena.allocate(4L * n, 4);
                        java.lang.foreign.MemorySegment.copy(x[r], 0, segs[r], Communicator.SEGMENT_FLOAT, 0, n);
                    }
                    runAll(ring, (c, r) -> c.allReduce(arrays[r], reduce));
                    runAll(ring, (c, r) -> c.allReduce(segs[r], reduce));
                    for (int r = 0; r < world; r++) { // the first difference (AssertJ's containsExactly diffs in quadratic time)
                        int a = java.util.Arrays.mismatch(arrays[r], want);
                        assertThat(a).as("%s of %d, array, rank %d: first difference at %d: %s, not %s", reduce, n, r,
                                a, a < 0 ? null : arrays[r][a], a < 0 ? null : want[a]).isEqualTo(-1);
                        float[] got = segs[r].toArray(Communicator.SEGMENT_FLOAT);
                        int m = java.util.Arrays.mismatch(got, want);
                        assertThat(m).as("%s of %d, segment, rank %d: first difference at %d: %s, not %s", reduce, n,
                                r, m, m < 0 ? null : got[m], m < 0 ? null : want[m]).isEqualTo(-1);
                    }
                }
            }
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void aConfinedSegmentIsRefusedNamingTheArgument() throws Exception {
        List<Communicator> ring = ring(2, SMALL_CHUNKS);
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment confined = arena.allocate(40);
            assertThatThrownBy(() -> ring.get(0).allReduce(confined, ReduceOp.SUM))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("data: a segment of a confined arena");
            java.lang.foreign.MemorySegment odd = java.lang.foreign.Arena.ofAuto().allocate(10);
            assertThatThrownBy(() -> ring.get(0).allGather(odd))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not a whole number of floats");
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void manyOperationsInFlightAtOnceStayApart() throws Exception {
        // Gradient buckets: each rank issues every bucket's all-reduce without waiting, in the same order.
        int world = 3;
        int buckets = 8;
        List<Communicator> ring = ring(world, SMALL_CHUNKS);
        try {
            Random rnd = new Random(4);
            float[][][] data = new float[world][buckets][];
            float[][] want = new float[buckets][];
            for (int b = 0; b < buckets; b++) {
                int n = 1 + rnd.nextInt(300);
                want[b] = new float[n];
                for (int r = 0; r < world; r++) {
                    data[r][b] = new float[n];
                    for (int i = 0; i < n; i++) {
                        data[r][b][i] = rnd.nextInt(50);
                        want[b][i] += data[r][b][i];
                    }
                }
            }
            List<CompletableFuture<Void>> all = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                for (int b = 0; b < buckets; b++) {
                    all.add(ring.get(r).allReduce(data[r][b], ReduceOp.SUM));
                }
            }
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
            for (int r = 0; r < world; r++) {
                for (int b = 0; b < buckets; b++) {
                    assertThat(data[r][b]).as("rank %d bucket %d", r, b).containsExactly(want[b]);
                }
            }
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void theCallerMayReuseItsArrayTheMomentItsFutureCompletes() throws Exception {
        // Each rank overwrites its array inside the completion callback, before anything else
        // can run on that thread: nothing it sent may still be waiting to be copied.
        int world = 3;
        int n = 1000;
        List<Communicator> ring = ring(world, SMALL_CHUNKS);
        try {
            for (int root = 0; root < world; root++) {
                float[][] data = new float[world][n];
                for (int i = 0; i < n; i++) {
                    data[root][i] = i;
                }
                for (int r = 0; r < world; r++) {
                    if (r != root) {
                        java.util.Arrays.fill(data[r], Float.NaN);
                    }
                }
                float[][] seen = new float[world][];
                List<CompletableFuture<Void>> fs = new ArrayList<>();
                for (int r = 0; r < world; r++) {
                    int rank = r;
                    fs.add(ring.get(r).broadcast(data[r], 0, n, root).thenRun(() -> {
                        seen[rank] = data[rank].clone();
                        java.util.Arrays.fill(data[rank], -1);
                    }));
                }
                for (CompletableFuture<Void> f : fs) {
                    f.get(20, TimeUnit.SECONDS);
                }
                float[] want = new float[n];
                for (int i = 0; i < n; i++) {
                    want[i] = i;
                }
                for (int r = 0; r < world; r++) {
                    assertThat(seen[r]).as("root %d rank %d", root, r).containsExactly(want);
                }
            }
            float[][] data = integerInputs(new Random(9), world, n);
            float[] want = new float[n];
            for (float[] x : data) {
                for (int i = 0; i < n; i++) {
                    want[i] += x[i];
                }
            }
            float[][] seen = new float[world][];
            List<CompletableFuture<Void>> fs = new ArrayList<>();
            for (int r = 0; r < world; r++) {
                int rank = r;
                fs.add(ring.get(r).allReduce(data[r], ReduceOp.SUM).thenRun(() -> {
                    seen[rank] = data[rank].clone();
                    java.util.Arrays.fill(data[rank], -1);
                }));
            }
            for (CompletableFuture<Void> f : fs) {
                f.get(20, TimeUnit.SECONDS);
            }
            for (int r = 0; r < world; r++) {
                assertThat(seen[r]).as("all-reduce rank %d", r).containsExactly(want);
            }
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void aRankThatCallsLateCatchesUpWithChunksSentBeforeItsCall() throws Exception {
        // Rank 0 streams big chunks before rank 1 has called: they are kept until rank 1's call,
        // including one whose floats are still arriving when the call comes.
        List<Communicator> ring = ring(2, SMALL_CHUNKS.withChunkBytes(1 << 20));
        try {
            Random rnd = new Random(11);
            for (int rep = 0; rep < 8; rep++) {
                int n = (4 << 20) + rnd.nextInt(1000);
                float[][] data = integerInputs(rnd, 2, n);
                float[] want = new float[n];
                for (int i = 0; i < n; i++) {
                    want[i] = data[0][i] + data[1][i];
                }
                CompletableFuture<Void> first = ring.get(0).allReduce(data[0], ReduceOp.SUM);
                Thread.sleep(rnd.nextInt(12));
                CompletableFuture<Void> second = ring.get(1).allReduce(data[1], ReduceOp.SUM);
                first.get(20, TimeUnit.SECONDS);
                second.get(20, TimeUnit.SECONDS);
                assertThat(java.util.Arrays.mismatch(data[0], want)).as("rep %d rank 0", rep).isEqualTo(-1);
                assertThat(java.util.Arrays.mismatch(data[1], want)).as("rep %d rank 1", rep).isEqualTo(-1);
            }
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void aRankMayLeaveAsSoonAsItsOwnPartIsDone() throws Exception {
        // A broadcast's root is done once it has sent; the last rank still receives from the
        // others. Each rank closes its communicator the moment its own future completes.
        int n = 200_003;
        for (String op : List.of("broadcast", "all-reduce")) {
            for (int rep = 0; rep < 5; rep++) {
                List<Communicator> ring = ring(3, SMALL_CHUNKS.withChunkBytes(16 << 10));
                float[][] data = integerInputs(new Random(rep), 3, n);
                float[] want = new float[n];
                for (int i = 0; i < n; i++) {
                    want[i] = op.equals("broadcast") ? data[1][i] : data[0][i] + data[1][i] + data[2][i];
                }
                List<CompletableFuture<Void>> fs = new ArrayList<>();
                for (int r = 0; r < 3; r++) {
                    Communicator c = ring.get(r);
                    CompletableFuture<Void> f = op.equals("broadcast") ? c.broadcast(data[r], 0, n, 1)
                            : c.allReduce(data[r], ReduceOp.SUM);
                    fs.add(f.thenRun(c::close));
                }
                for (int r = 0; r < 3; r++) {
                    fs.get(r).get(20, TimeUnit.SECONDS);
                    assertThat(java.util.Arrays.mismatch(data[r], want)).as("%s rep %d rank %d", op, rep, r)
                            .isEqualTo(-1);
                }
            }
        }
    }

    @Test
    void mismatchedCallsFailWithAMessageThatSaysSo() throws Exception {
        List<Communicator> ring = ring(2, SMALL_CHUNKS);
        try {
            CompletableFuture<Void> a = ring.get(0).allReduce(new float[10], ReduceOp.SUM);
            CompletableFuture<Void> b = ring.get(1).broadcast(new float[10], 0, 10, 0);
            assertThatThrownBy(() -> a.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(CollectiveException.class)
                    .hasMessageContaining("every rank must call the same collectives in the same order");
            assertThatThrownBy(() -> b.get(20, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
            // The ring is broken: later operations fail at once.
            assertThatThrownBy(() -> ring.get(0).allReduce(new float[1], ReduceOp.SUM).get(5, TimeUnit.SECONDS))
                    .cause().hasMessageContaining("not started");
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void aRankThatNeverTakesPartTimesOutNamingItsPeer() throws Exception {
        CollectiveOptions quick = SMALL_CHUNKS.withTimeout(Duration.ofMillis(1500));
        List<Communicator> ring = ring(3, quick);
        try {
            // Ranks 0 and 1 call; rank 2 does not.
            long t0 = System.nanoTime();
            CompletableFuture<Void> r0 = ring.get(0).allReduce(new float[100], ReduceOp.SUM);
            CompletableFuture<Void> r1 = ring.get(1).allReduce(new float[100], ReduceOp.SUM);
            assertThatThrownBy(() -> r0.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(CollectiveException.class)
                    .hasMessageContaining("all-reduce #0 of 100 floats on job")
                    .hasMessageContaining("rank 0 of 3")
                    .hasMessageContaining("timed out after 1.5 s")
                    .hasMessageContaining("from rank 2");
            assertThatThrownBy(() -> r1.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(CollectiveException.class)
                    .hasMessageContaining("timed out");
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(seconds).as("failed within the timeout plus scheduling slack").isLessThan(5);
            CollectiveException e = (CollectiveException) catchCause(r0);
            assertThat(e.peerRank()).isEqualTo(2);
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void aMissingRankFailsTheHandshakeNamingIt() {
        CollectiveOptions quick = SMALL_CHUNKS.withConnectTimeout(Duration.ofSeconds(1));
        CompletableFuture<Communicator> lonely = Communicators.create(vertx, "lonely-" + (++jobs), 0, 2, quick);
        assertThatThrownBy(() -> lonely.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(CollectiveException.class)
                .hasMessageContaining("rank 0 of 2").hasMessageContaining("no ring within 1 s")
                .hasMessageContaining("rank 1 (cornerstone.rank.lonely-" + jobs + ".1) did not answer")
                .hasMessageContaining("rank 1 (cornerstone.rank.lonely-" + jobs + ".1) did not say hello");
    }

    @Test
    void ranksThatDisagreeOnTheWorldRefuseToFormARing() {
        CollectiveOptions quick = SMALL_CHUNKS.withConnectTimeout(Duration.ofSeconds(3));
        String job = "disagree-" + (++jobs);
        CompletableFuture<Communicator> a = Communicators.create(vertx, job, 0, 2, quick);
        CompletableFuture<Communicator> b = Communicators.create(vertx, job, 1, 3, quick);
        assertThatThrownBy(() -> a.get(10, TimeUnit.SECONDS)).cause().hasMessageContaining("world of");
        assertThatThrownBy(() -> b.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class);
    }

    @Test
    void aRankThatLeavesMidOperationFailsItsNeighboursAtOnceNamingIt() throws Exception {
        org.junit.jupiter.api.Assumptions.assumeTrue(transport() != CollectiveOptions.Transport.EVENT_BUS,
                "event-bus transport: no connection closes, only Hazelcast membership tells (ClusterRuntimeTest)");
        for (boolean offHeap : new boolean[] {false, true}) {
            ranksOneAndTwoFailWhenRankTwoLeaves(offHeap);
        }
    }

    private void ranksOneAndTwoFailWhenRankTwoLeaves(boolean offHeap) throws Exception {
        List<Communicator> ring = ring(3, SMALL_CHUNKS.withChunkBytes(4 << 10).withTimeout(Duration.ofSeconds(20)));
        try {
            // Ranks 0 and 1 start an all-reduce (an all-gather of segments, read straight into
            // place); rank 2 leaves instead of calling it.
            CompletableFuture<Void> r0 = offHeap ? ring.get(0).allGather(java.lang.foreign.Arena.ofAuto().allocate(800_000))
                    : ring.get(0).allReduce(new float[200_000], ReduceOp.SUM);
            CompletableFuture<Void> r1 = offHeap ? ring.get(1).allGather(java.lang.foreign.Arena.ofAuto().allocate(800_000))
                    : ring.get(1).allReduce(new float[200_000], ReduceOp.SUM);
            Thread.sleep(200);
            long t0 = System.nanoTime();
            ring.get(2).close();
            for (CompletableFuture<Void> f : List.of(r0, r1)) {
                assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(CollectiveException.class)
                        .hasMessageContaining("rank 2");
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            assertThat(seconds).as("failed long before the 20 s timeout").isLessThan(10);
        } finally {
            closeAll(ring);
        }
    }

    @Test
    void abortFailsOperationsInFlight() throws Exception {
        List<Communicator> ring = ring(2, SMALL_CHUNKS);
        try {
            CompletableFuture<Void> f = ring.get(0).allReduce(new float[1000], ReduceOp.SUM); // rank 1 never calls
            ring.get(0).abort("generation 1 started");
            assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS)).cause().hasMessageContaining("generation 1 started");
        } finally {
            closeAll(ring);
        }
    }

    private static Throwable catchCause(CompletableFuture<?> f) {
        try {
            f.get(10, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            return e;
        }
    }

    private static float[][] copy(float[][] x) {
        float[][] c = new float[x.length][];
        for (int i = 0; i < x.length; i++) {
            c[i] = x[i].clone();
        }
        return c;
    }
}

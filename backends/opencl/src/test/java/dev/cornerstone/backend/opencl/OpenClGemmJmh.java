package dev.cornerstone.backend.opencl;

import java.util.Collection;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.OptionsBuilder;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * JMH: square fp32 GEMM (n = 512, 1024, 2048) through {@code OpenClBackend.gemm} on the first
 * OpenCL device (PoCL here), each call followed by a wait for the queue, so a measurement is the
 * whole product: packing B and the register-blocked kernel. {@link #run()} prints GFLOP/s per
 * size, of the mean and of the best measurement iteration (the machine is shared: the best
 * iteration is the one least disturbed by other processes). A benchmark, not a test: surefire does not pick it up. Run it with
 * <pre>
 * mvn -B -q verify -pl backends/opencl -am -Dtest=OpenClGemmJmh -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class OpenClGemmJmh {

    @Param({"512", "1024", "2048"})
    int n;

    OpenClBackend backend;
    Tensor a;
    Tensor b;
    Tensor c;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new OpenClBackend();
        a = backend.allocate(Shape.of(n, n), DType.F32);
        b = backend.allocate(Shape.of(n, n), DType.F32);
        c = backend.allocate(Shape.of(n, n), DType.F32);
        SplittableRandom r = new SplittableRandom(n);
        float[] v = new float[n * n];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) r.nextDouble(-1, 1);
        }
        backend.write(a, 0, v, 0, v.length);
        backend.write(b, 0, v, 0, v.length);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        a.close();
        b.close();
        c.close();
        backend.close();
    }

    @Benchmark
    public Tensor gemm() {
        backend.gemm(false, false, 1, n, n, n, 1f, a, 0, 0, b, 0, 0, 0f, c, 0, 0);
        backend.finish();
        return c;
    }

    /** Runs the benchmark and prints GFLOP/s per size. */
    @Test
    void run() throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder().include(OpenClGemmJmh.class.getName() + "\\.")
                .jvmArgsAppend("-Dcornerstone.opencl.gemm.tiles=" + GemmKernels.TILES).build()).run();
        System.out.println("row tiles per work-item: " + GemmKernels.TILES);
        String device;
        java.util.Map<Integer, Double> perCpuSecond = new java.util.HashMap<>();
        try (OpenClBackend be = new OpenClBackend()) {
            device = be.device();
            for (int size : new int[] {512, 1024, 2048}) {
                perCpuSecond.put(size, perCpuSecond(be, size));
            }
        }
        for (RunResult r : results) {
            int size = Integer.parseInt(r.getParams().getParam("n"));
            double ms = r.getPrimaryResult().getScore();
            double best = r.getPrimaryResult().getStatistics().getMin();
            double flop = 2.0 * size * size * size;
            System.out.printf("opencl sgemm n=%d: %.1f GFLOP/s mean (%.3f ms), %.1f GFLOP/s best iteration (%.3f ms); "
                            + "%.1f GFLOP per second of %d cores' CPU time; on %s%n",
                    size, flop / (ms * 1e6), ms, flop / (best * 1e6), best, perCpuSecond.get(size),
                    Runtime.getRuntime().availableProcessors(), device);
        }
        System.out.printf("load average during the run: %s%n", java.nio.file.Files.readString(
                java.nio.file.Path.of("/proc/loadavg")).strip());
    }

    /**
     * GFLOP per second of all cores' CPU time (the process's CPU time over about 3 s of products,
     * divided by the core count): what the cores do per second when they run this, whatever other
     * processes take of them. On a shared machine wall-clock figures measure the sharing too.
     */
    static double perCpuSecond(OpenClBackend be, int n) {
        java.lang.management.OperatingSystemMXBean os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        com.sun.management.OperatingSystemMXBean sun = (com.sun.management.OperatingSystemMXBean) os;
        try (Tensor a = be.allocate(Shape.of(n, n), DType.F32); Tensor b = be.allocate(Shape.of(n, n), DType.F32);
             Tensor c = be.allocate(Shape.of(n, n), DType.F32)) {
            be.fill(a, 0.5f);
            be.fill(b, 0.25f);
            be.gemm(false, false, 1, n, n, n, 1f, a, 0, 0, b, 0, 0, 0f, c, 0, 0);
            be.finish();
            double flop = 2.0 * n * n * n;
            int reps = (int) Math.max(2, 3 * 250e9 / flop);
            long cpu0 = sun.getProcessCpuTime();
            for (int i = 0; i < reps; i++) {
                be.gemm(false, false, 1, n, n, n, 1f, a, 0, 0, b, 0, 0, 0f, c, 0, 0);
            }
            be.finish();
            double cpuSeconds = (sun.getProcessCpuTime() - cpu0) / 1e9;
            return reps * flop / (cpuSeconds / Runtime.getRuntime().availableProcessors()) / 1e9;
        }
    }
}

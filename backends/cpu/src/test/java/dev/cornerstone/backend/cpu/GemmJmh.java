package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.Collection;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
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

/**
 * JMH: square fp32 GEMM (n = 512, 1024, 2048) through {@code CpuBackend.gemm} and through
 * {@code cblas_sgemm} called directly on the same memory, in the same run; {@link #run()}
 * prints GFLOP/s of both and their ratio. A benchmark, not a test: surefire does not pick it
 * up. Run it with
 * <pre>
 * mvn -B -q test -pl backends/cpu -Dtest=GemmJmh -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
public class GemmJmh {

    @Param({"512", "1024", "2048"})
    int n;

    CpuBackend backend;
    Tensor a;
    Tensor b;
    Tensor c;
    NativeBlas blas;

    @Setup(Level.Trial)
    public void setUp() {
        backend = new CpuBackend(Runtime.getRuntime().availableProcessors());
        blas = NativeBlas.system().orElseThrow(() -> new IllegalStateException("no native BLAS to compare with"));
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
    public Tensor backendGemm() {
        backend.gemm(false, false, 1, n, n, n, 1f, a, 0, 0, b, 0, 0, 0f, c, 0, 0);
        return c;
    }

    @Benchmark
    public MemorySegment openBlasDirect() {
        MemorySegment sc = ((CpuTensor) c).segment();
        blas.sgemm(false, false, n, n, n, 1f, ((CpuTensor) a).segment(), n, ((CpuTensor) b).segment(), n, 0f, sc, n);
        return sc;
    }

    /** Runs the benchmark and prints GFLOP/s and the backend / direct ratio per size. */
    @Test
    void run() throws Exception {
        Collection<RunResult> results = new Runner(new OptionsBuilder().include(GemmJmh.class.getName() + "\\.")
                .build()).run();
        java.util.Map<String, double[]> byN = new java.util.TreeMap<>();
        for (RunResult r : results) {
            String size = r.getParams().getParam("n");
            double ms = r.getPrimaryResult().getScore();
            double gflops = 2.0 * Math.pow(Integer.parseInt(size), 3) / (ms * 1e6);
            double[] pair = byN.computeIfAbsent(size, k -> new double[2]);
            pair[r.getParams().getBenchmark().endsWith("backendGemm") ? 0 : 1] = gflops;
        }
        byN.forEach((size, p) -> System.out.printf("sgemm n=%s: backend %.1f GFLOP/s, cblas_sgemm direct %.1f GFLOP/s, "
                + "ratio %.3f%n", size, p[0], p[1], p[0] / p[1]));
    }
}

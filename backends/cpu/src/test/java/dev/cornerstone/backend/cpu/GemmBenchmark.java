package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * Throughput of the GEMM paths, printed, never asserted (timings depend on the machine and its
 * load): square fp32 products through {@code CpuBackend.gemm} on OpenBLAS, {@code cblas_sgemm}
 * called directly on the same memory, and the pure-Java GEMM; then a batch of small products
 * (attention-sized) with and without the backend's split over the batch. Not a test (surefire
 * does not pick it up); run it with
 * <pre>
 * java --enable-native-access=ALL-UNNAMED -cp target/classes:target/test-classes:CORNERSTONE_API_JAR \
 *     dev.cornerstone.backend.cpu.GemmBenchmark [threads]
 * </pre>
 */
public final class GemmBenchmark {

    private GemmBenchmark() {
    }

    public static void main(String[] args) {
        int threads = args.length > 0 ? Integer.parseInt(args[0]) : Runtime.getRuntime().availableProcessors();
        try (CpuBackend blas = new CpuBackend(threads);
             CpuBackend java = new CpuBackend(threads, true)) {
            System.out.println("default: " + blas.device());
            System.out.println("java:    " + java.device());
            for (int n : new int[] {512, 1024, 2048}) {
                squares(n, blas, java);
            }
            smallBatch(blas, 48, 64, 64, 64);
            smallBatch(blas, 48, 128, 128, 64);
        }
    }

    private static void squares(int n, CpuBackend blas, CpuBackend java) {
        double flops = 2.0 * n * n * n;
        SplittableRandom random = new SplittableRandom(n);
        try (Tensor a = blas.allocate(Shape.of(n, n), DType.F32);
             Tensor b = blas.allocate(Shape.of(n, n), DType.F32);
             Tensor c = blas.allocate(Shape.of(n, n), DType.F32)) {
            fill(blas, a, random);
            fill(blas, b, random);
            double backend = best(flops, () -> blas.gemm(false, false, 1, n, n, n, 1f, a, 0, 0, b, 0, 0, 0f, c, 0, 0));
            String direct = "n/a";
            if (blas.nativeGemm()) {
                NativeBlas lib = NativeBlas.system().orElseThrow();
                MemorySegment sa = ((CpuTensor) a).segment();
                MemorySegment sb = ((CpuTensor) b).segment();
                MemorySegment sc = ((CpuTensor) c).segment();
                direct = String.format("%.1f", best(flops, () -> lib.sgemm(false, false, n, n, n, 1f, sa, n, sb, n, 0f, sc, n)));
            }
            double javaGflops;
            try (Tensor ja = java.allocate(Shape.of(n, n), DType.F32);
                 Tensor jb = java.allocate(Shape.of(n, n), DType.F32);
                 Tensor jc = java.allocate(Shape.of(n, n), DType.F32)) {
                fill(java, ja, random);
                fill(java, jb, random);
                javaGflops = best(flops, () -> java.gemm(false, true, 1, n, n, n, 1f, ja, 0, 0, jb, 0, 0, 0f, jc, 0, 0));
            }
            System.out.printf("n=%4d  CpuBackend.gemm %.1f GFLOP/s | cblas_sgemm direct %s GFLOP/s | pure-Java %.1f GFLOP/s%n",
                    n, backend, direct, javaGflops);
        }
    }

    private static void smallBatch(CpuBackend blas, int batch, int m, int n, int k) {
        if (!blas.nativeGemm()) {
            return;
        }
        double flops = 2.0 * batch * m * n * k;
        SplittableRandom random = new SplittableRandom(batch);
        try (Tensor a = blas.allocate(Shape.of(batch, m, k), DType.F32);
             Tensor b = blas.allocate(Shape.of(batch, k, n), DType.F32);
             Tensor c = blas.allocate(Shape.of(batch, m, n), DType.F32)) {
            fill(blas, a, random);
            fill(blas, b, random);
            double split = best(flops, () -> blas.gemm(false, true, batch, m, n, k, 1f, a, 0, (long) m * k, b, 0,
                    (long) k * n, 0f, c, 0, (long) m * n));
            NativeBlas lib = NativeBlas.system().orElseThrow();
            MemorySegment sa = ((CpuTensor) a).segment();
            MemorySegment sb = ((CpuTensor) b).segment();
            MemorySegment sc = ((CpuTensor) c).segment();
            double loop = best(flops, () -> {
                for (int i = 0; i < batch; i++) {
                    lib.sgemm(false, true, m, n, k, 1f, sa.asSlice((long) i * m * k * 4), k,
                            sb.asSlice((long) i * k * n * 4), k, 0f, sc.asSlice((long) i * m * n * 4), n);
                }
            });
            System.out.printf("batch %d of %dx%dx%d: CpuBackend.gemm %.1f GFLOP/s | cblas_sgemm loop %.1f GFLOP/s%n",
                    batch, m, n, k, split, loop);
        }
    }

    private static void fill(CpuBackend on, Tensor t, SplittableRandom random) {
        float[] data = new float[(int) t.size()];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) random.nextDouble(-1, 1);
        }
        on.write(t, 0, data, 0, data.length);
    }

    /** Best of several timed runs after a warm-up, in GFLOP/s. */
    private static double best(double flops, Runnable run) {
        for (int i = 0; i < 3; i++) {
            run.run();
        }
        int reps = (int) Math.max(3, Math.min(50, 4e10 / flops));
        double bestSeconds = Double.MAX_VALUE;
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            run.run();
            bestSeconds = Math.min(bestSeconds, (System.nanoTime() - t0) / 1e9);
        }
        return flops / bestSeconds / 1e9;
    }
}

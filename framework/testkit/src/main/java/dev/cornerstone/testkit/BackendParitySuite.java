package dev.cornerstone.testkit;

import static dev.cornerstone.testkit.Tolerances.BF16;
import static dev.cornerstone.testkit.Tolerances.F32_ACCUMULATED;
import static dev.cornerstone.testkit.Tolerances.F32_ACCUMULATED_ABS;
import static dev.cornerstone.testkit.Tolerances.F32_ELEMENTWISE;
import static dev.cornerstone.testkit.Tolerances.F32_ELEMENTWISE_ABS;
import static dev.cornerstone.testkit.Tolerances.F32_GELU_BACKWARD_ABS;
import static dev.cornerstone.testkit.Tolerances.F32_SUM;
import static dev.cornerstone.testkit.Tolerances.F32_TRAINING_LOSS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.backend.Kernel;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * The backend parity suite: every kernel of the {@link ComputeBackend} SPI, forward and backward,
 * on seeded random inputs and awkward shapes (1, primes, sizes that are not multiples of any
 * vector width, and a few large ones), run call for call on the backend under test and on the
 * {@link ReferenceBackend} (the plain Java {@link ReferenceKernels}), and compared under the named
 * {@link Tolerances}; then a short GPT training run ({@link ParityGpt}) whose per-step loss must
 * match the reference's.
 *
 * <p>Each backend's tests subclass it (vertx-core's {@code ClusteredEventBusTest} pattern) and say
 * how to make the backend:
 * <pre>
 * class CpuParityTest extends BackendParitySuite {
 *     protected ComputeBackend createBackend() { return new CpuBackend(3); }
 * }
 * </pre>
 * A kernel the backend does not {@linkplain ComputeBackend#supports support} is skipped with the
 * backend's {@linkplain ComputeBackend#unsupportedReason reason} (a JUnit assumption, reported as
 * skipped); a kernel it claims and gets wrong fails. BF16 storage is checked when the backend
 * supports {@link Kernel#CAST}. After every test the backend must hold no more tensors than
 * before it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class BackendParitySuite {

    /** The backend under test, made once for the class. */
    protected abstract ComputeBackend createBackend() throws Exception;

    /** Releases what {@link #createBackend()} made; by default closes it if it is {@link AutoCloseable}. */
    protected void closeBackend(ComputeBackend backend) throws Exception {
        if (backend instanceof AutoCloseable c) {
            c.close();
        }
    }

    private ComputeBackend be;
    private ReferenceBackend ref;
    private long liveAtStart;
    private final List<Tensor> tensors = new ArrayList<>();

    /** The backend under test (for subclasses that add their own tests). */
    protected final ComputeBackend backend() {
        return be;
    }

    @BeforeAll
    final void startBackends() throws Exception {
        be = createBackend();
        ref = new ReferenceBackend();
        liveAtStart = be.liveTensors();
    }

    @AfterAll
    final void stopBackends() throws Exception {
        if (be != null) {
            closeBackend(be);
        }
    }

    @AfterEach
    final void closeTensors() {
        tensors.forEach(Tensor::close);
        tensors.clear();
        assertThat(be.liveTensors()).as("tensors of %s still open after the test", be.name()).isEqualTo(liveAtStart);
        assertThat(ref.liveTensors()).isZero();
    }

    // ---- the two sides of a comparison -----------------------------------------------------------

    /** The same tensor on the backend under test ({@code actual}) and on the reference ({@code expected}). */
    protected record Pair(Tensor actual, Tensor expected) {
    }

    /** Which side a call runs on. */
    protected enum Side {
        ACTUAL, EXPECTED;

        Tensor of(Pair p) {
            return p == null ? null : this == ACTUAL ? p.actual() : p.expected();
        }
    }

    /** A kernel call made on one side. */
    @FunctionalInterface
    protected interface Call {
        void run(ComputeBackend backend, Side side);
    }

    /** Runs {@code call} on the backend under test, then on the reference. */
    private void both(Call call) {
        call.run(be, Side.ACTUAL);
        call.run(ref, Side.EXPECTED);
    }

    private Pair pair(DType dtype, int... dims) {
        Tensor a = be.allocate(Shape.of(dims), dtype);
        tensors.add(a);
        Tensor e = ref.allocate(Shape.of(dims), dtype);
        tensors.add(e);
        return new Pair(a, e);
    }

    private Pair zeros(int... dims) {
        return pair(DType.F32, dims);
    }

    private Pair f32(float[] data, int... dims) {
        Pair p = pair(DType.F32, dims);
        be.write(p.actual(), 0, data, 0, data.length);
        ref.write(p.expected(), 0, data, 0, data.length);
        return p;
    }

    private Pair i32(int[] data, int... dims) {
        Pair p = pair(DType.I32, dims);
        be.writeInts(p.actual(), 0, data, 0, data.length);
        ref.writeInts(p.expected(), 0, data, 0, data.length);
        return p;
    }

    private static float[] read(Tensor t) {
        float[] out = new float[(int) t.size()];
        t.backend().read(t, 0, out, 0, out.length);
        return out;
    }

    private static int[] readInts(Tensor t) {
        int[] out = new int[(int) t.size()];
        t.backend().readInts(t, 0, out, 0, out.length);
        return out;
    }

    private void assertPair(Pair p, double rtol, double atol, String what) {
        Approx.assertClose(read(p.actual()), read(p.expected()), rtol, atol, be.name() + " " + what);
    }

    private void assertExact(Pair p, String what) {
        float[] a = read(p.actual());
        float[] e = read(p.expected());
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToIntBits(a[i]) != Float.floatToIntBits(e[i])) {
                throw new AssertionError(be.name() + " " + what + ": element " + i + " of " + a.length + " is "
                        + a[i] + ", expected exactly " + e[i]);
            }
        }
    }

    private void requireKernel(Kernel k) {
        assumeTrue(be.supports(k), () -> be.name() + " does not support " + k + ": " + be.unsupportedReason(k));
    }

    private static float[] uniform(SplittableRandom r, int n, double lo, double hi) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) r.nextDouble(lo, hi);
        }
        return a;
    }

    private static float[] uniform(SplittableRandom r, int n) {
        return uniform(r, n, -1, 1);
    }

    private static int product(int... dims) {
        int p = 1;
        for (int d : dims) {
            p *= d;
        }
        return p;
    }

    /** Element counts: one, primes, just off vector widths (8, 16, 64), and large. */
    static final int[] SIZES = {1, 2, 7, 15, 17, 63, 65, 257, 1031, 4099, 65_537, 300_007};

    static Stream<Integer> sizes() {
        return Arrays.stream(SIZES).boxed();
    }

    // ---- declaration ------------------------------------------------------------------------------

    @Test
    void everyKernelIsDeclaredWithAReasonWhenUnsupported() {
        for (Kernel k : Kernel.values()) {
            if (be.supports(k)) {
                assertThat(be.unsupportedReason(k)).as("%s supports %s, so it gives no reason", be.name(), k).isNull();
            } else {
                assertThat(be.unsupportedReason(k)).as("%s does not support %s: why", be.name(), k).isNotBlank();
            }
        }
        assertThat(be.name()).isNotBlank();
        assertThat(be.device()).isNotBlank();
    }

    // ---- buffers ----------------------------------------------------------------------------------

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void allocatedTensorsAreZeroAndWritesReadBack(int n) {
        SplittableRandom r = new SplittableRandom(n);
        Pair t = zeros(n);
        assertThat(read(t.actual())).as("a new F32 tensor is zero-filled").isEqualTo(new float[n]);
        float[] data = uniform(r, n);
        be.write(t.actual(), 0, data, 0, n);
        assertThat(read(t.actual())).isEqualTo(data);
        // a part, at offsets on both sides
        int len = n / 2;
        float[] part = uniform(r, len + 3);
        be.write(t.actual(), n - len, part, 3, len);
        float[] back = new float[len + 5];
        be.read(t.actual(), n - len, back, 5, len);
        assertThat(Arrays.copyOfRange(back, 5, 5 + len)).isEqualTo(Arrays.copyOfRange(part, 3, 3 + len));
        assertThat(Arrays.copyOfRange(read(t.actual()), 0, n - len)).isEqualTo(Arrays.copyOfRange(data, 0, n - len));

        Pair ints = pair(DType.I32, n);
        assertThat(readInts(ints.actual())).isEqualTo(new int[n]);
        int[] iv = r.ints(n, -1_000_000, 1_000_000).toArray();
        be.writeInts(ints.actual(), 0, iv, 0, n);
        assertThat(readInts(ints.actual())).isEqualTo(iv);
    }

    @Test
    void tensorsAreCountedAndClosedOnce() {
        long live = be.liveTensors();
        long bytes = be.liveBytes();
        Tensor a = be.allocate(Shape.of(3, 5), DType.F32);
        Tensor b = be.allocate(Shape.of(7), DType.I32);
        assertThat(a.backend()).isSameAs(be);
        assertThat(a.shape()).isEqualTo(Shape.of(3, 5));
        assertThat(a.dtype()).isEqualTo(DType.F32);
        assertThat(be.liveTensors()).isEqualTo(live + 2);
        assertThat(be.liveBytes()).isEqualTo(bytes + 15 * 4 + 7 * 4);
        a.close();
        a.close();
        assertThat(a.isClosed()).isTrue();
        assertThat(be.liveTensors()).isEqualTo(live + 1);
        b.close();
        assertThat(be.liveTensors()).isEqualTo(live);
        assertThat(be.liveBytes()).isEqualTo(bytes);
    }

    @Test
    void readsAndWritesOutsideATensorAreRefused() {
        Pair t = zeros(10);
        float[] buf = new float[20];
        assertThatThrownBy(() -> be.read(t.actual(), 5, buf, 0, 6)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> be.write(t.actual(), 0, buf, 15, 6)).isInstanceOf(IndexOutOfBoundsException.class);
        assertThatThrownBy(() -> be.read(t.actual(), -1, buf, 0, 1)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    // ---- fill, copy ---------------------------------------------------------------------------

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void fill(int n) {
        requireKernel(Kernel.FILL);
        Pair t = f32(uniform(new SplittableRandom(n), n), n);
        both((b, s) -> b.fill(s.of(t), -1.25f));
        assertExact(t, "fill F32");
        Pair ints = pair(DType.I32, n);
        both((b, s) -> b.fill(s.of(ints), 42f));
        int[] answers = new int[n];
        Arrays.fill(answers, 42);
        assertThat(readInts(ints.actual())).isEqualTo(answers);
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void copy(int n) {
        requireKernel(Kernel.COPY);
        SplittableRandom r = new SplittableRandom(n);
        Pair src = f32(uniform(r, n), n);
        Pair dst = f32(uniform(r, n), n);
        both((b, s) -> b.copy(s.of(src), s.of(dst)));
        assertExact(dst, "copy F32");
        int[] iv = r.ints(n).toArray();
        Pair isrc = i32(iv, n);
        Pair idst = pair(DType.I32, n);
        both((b, s) -> b.copy(s.of(isrc), s.of(idst)));
        assertThat(readInts(idst.actual())).isEqualTo(iv);
    }

    // ---- GEMM ---------------------------------------------------------------------------------

    /** (transA, transB, batch, m, n, k, alpha, beta). */
    Stream<Arguments> gemmCases() {
        int[][] shapes = {{1, 1, 1}, {1, 7, 3}, {13, 1, 5}, {5, 3, 1}, {17, 31, 29}, {33, 65, 17}, {67, 129, 33},
            {64, 64, 64}, {100, 37, 251}, {257, 130, 67}};
        List<Arguments> cases = new ArrayList<>();
        for (boolean ta : new boolean[] {false, true}) {
            for (boolean tb : new boolean[] {false, true}) {
                for (int[] s : shapes) {
                    cases.add(Arguments.of(ta, tb, 1, s[0], s[1], s[2], 1f, 0f));
                }
                cases.add(Arguments.of(ta, tb, 3, 19, 23, 37, 0.5f, 1f));       // batched, accumulating
                cases.add(Arguments.of(ta, tb, 1, 31, 45, 128, -1.5f, 0.25f));
            }
        }
        cases.add(Arguments.of(false, false, 1, 515, 263, 300, 1f, 0f));        // large
        cases.add(Arguments.of(false, true, 1, 384, 513, 129, 1f, 1f));
        cases.add(Arguments.of(true, false, 1, 129, 385, 512, 1f, 1f));
        cases.add(Arguments.of(false, false, 7, 64, 64, 32, 0.125f, 0f));       // attention-like batches
        return cases.stream();
    }

    @ParameterizedTest(name = "transA={0} transB={1} batch={2} m={3} n={4} k={5} alpha={6} beta={7}")
    @MethodSource("gemmCases")
    void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, float beta) {
        requireKernel(Kernel.GEMM);
        SplittableRandom r = new SplittableRandom(31L * m + 7L * n + k + batch + (transA ? 1000 : 0) + (transB ? 2000 : 0));
        // Operands sit at an offset in larger tensors, with gaps between the batches.
        int offA = 3;
        int offB = 5;
        int offC = 2;
        long strideA = (long) m * k + 4;
        long strideB = (long) k * n + 1;
        long strideC = (long) m * n + 6;
        int sizeA = (int) (offA + batch * strideA);
        int sizeB = (int) (offB + batch * strideB);
        int sizeC = (int) (offC + batch * strideC);
        Pair a = f32(uniform(r, sizeA), sizeA);
        Pair b = f32(uniform(r, sizeB), sizeB);
        float[] c0 = uniform(r, sizeC);
        if (beta == 0f) {
            Arrays.fill(c0, Float.NaN);                                        // beta 0: the old C is not read
        }
        Pair c = f32(c0, sizeC);
        both((be2, s) -> be2.gemm(transA, transB, batch, m, n, k, alpha, s.of(a), offA, strideA, s.of(b), offB, strideB,
                beta, s.of(c), offC, strideC));
        float[] actual = read(c.actual());
        float[] expected = read(c.expected());
        if (beta == 0f) {
            // the gaps of C were never written: they keep their NaN on both sides; compare the products only
            for (int bi = 0; bi < batch; bi++) {
                int from = (int) (offC + bi * strideC);
                Approx.assertClose(Arrays.copyOfRange(actual, from, from + m * n),
                        Arrays.copyOfRange(expected, from, from + m * n), F32_ACCUMULATED, Tolerances.gemmAbs(k),
                        be.name() + " gemm batch " + bi);
            }
        } else {
            Approx.assertClose(actual, expected, F32_ACCUMULATED, Tolerances.gemmAbs(k), be.name() + " gemm");
        }
    }

    // ---- element-wise -----------------------------------------------------------------------------

    /** (rows, columns) of a, with b either a row (columns) repeated or as large as a. */
    static Stream<Arguments> broadcastShapes() {
        return Stream.of(Arguments.of(1, 1), Arguments.of(1, 17), Arguments.of(7, 13), Arguments.of(31, 129),
                Arguments.of(1000, 1), Arguments.of(3, 65_537), Arguments.of(2048, 128));
    }

    @ParameterizedTest(name = "({0}, {1})")
    @MethodSource("broadcastShapes")
    void addAndMulWithBroadcastAndInPlace(int rows, int cols) {
        requireKernel(Kernel.ADD);
        requireKernel(Kernel.MUL);
        SplittableRandom r = new SplittableRandom(rows * 31L + cols);
        Pair a = f32(uniform(r, rows * cols), rows, cols);
        Pair row = f32(uniform(r, cols), cols);
        Pair full = f32(uniform(r, rows * cols), rows, cols);
        Pair out = zeros(rows, cols);
        both((b, s) -> b.add(s.of(a), s.of(row), s.of(out)));
        assertPair(out, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "add, b repeated");
        both((b, s) -> b.mul(s.of(a), s.of(full), s.of(out)));
        assertPair(out, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "mul, b as large as a");
        both((b, s) -> b.add(s.of(a), s.of(full), s.of(a)));                        // out is a
        assertPair(a, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "add in place");
        both((b, s) -> b.mul(s.of(a), s.of(row), s.of(a)));
        assertPair(a, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "mul in place, b repeated");
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void scaleAndAxpy(int n) {
        requireKernel(Kernel.SCALE);
        requireKernel(Kernel.AXPY);
        SplittableRandom r = new SplittableRandom(n + 5);
        Pair x = f32(uniform(r, n), n);
        Pair y = f32(uniform(r, n), n);
        Pair out = zeros(n);
        both((b, s) -> b.scale(s.of(x), -0.375f, s.of(out)));
        assertPair(out, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "scale");
        both((b, s) -> b.scale(s.of(x), 3.5f, s.of(x)));                              // in place
        assertPair(x, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "scale in place");
        both((b, s) -> b.axpy(0.75f, s.of(x), s.of(y)));
        assertPair(y, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "axpy");
        both((b, s) -> b.axpy(-2f, s.of(y), s.of(y)));                                // x is y
        assertPair(y, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "axpy onto itself");
    }

    @ParameterizedTest(name = "({0}, {1})")
    @MethodSource("broadcastShapes")
    void sumRowsAccumulates(int rows, int cols) {
        requireKernel(Kernel.SUM_ROWS);
        SplittableRandom r = new SplittableRandom(rows * 17L + cols);
        Pair x = f32(uniform(r, rows * cols), rows, cols);
        Pair out = f32(uniform(r, cols), cols);
        both((b, s) -> b.sumRows(s.of(x), s.of(out)));
        assertPair(out, F32_ACCUMULATED, F32_ACCUMULATED_ABS * Math.max(1, Math.sqrt(rows) / 3), "sumRows");
    }

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void geluForwardAndBackward(int n) {
        requireKernel(Kernel.GELU);
        SplittableRandom r = new SplittableRandom(n + 11);
        float[] xs = uniform(r, n, -6, 6);
        float[] special = {0f, -0f, 10f, -10f, 20f, -20f, 1e-4f, -1e-4f, 3f};
        System.arraycopy(special, 0, xs, 0, Math.min(n, special.length));
        Pair x = f32(xs, n);
        Pair out = zeros(n);
        both((b, s) -> b.geluForward(s.of(x), s.of(out)));
        assertPair(out, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "gelu forward");
        Pair dout = f32(uniform(r, n), n);
        Pair dx = f32(uniform(r, n), n);                                               // accumulated into
        both((b, s) -> b.geluBackward(s.of(x), s.of(dout), s.of(dx)));
        assertPair(dx, F32_ELEMENTWISE, F32_GELU_BACKWARD_ABS, "gelu backward");
    }

    // ---- LayerNorm ----------------------------------------------------------------------------------

    static Stream<Arguments> rowShapes() {
        return Stream.of(Arguments.of(1, 1), Arguments.of(1, 7), Arguments.of(13, 31), Arguments.of(67, 128),
                Arguments.of(130, 769), Arguments.of(2048, 128), Arguments.of(5, 1031));
    }

    @ParameterizedTest(name = "N={0} C={1}")
    @MethodSource("rowShapes")
    void layerNormForwardAndBackward(int n, int c) {
        requireKernel(Kernel.LAYERNORM);
        SplittableRandom r = new SplittableRandom(n * 131L + c);
        float[] xs = uniform(r, n * c, -3, 3);
        for (int i = 0; i < xs.length; i++) {
            xs[i] += 2f * (i / c % 3);                                                // rows with different means
        }
        Pair x = f32(xs, n, c);
        Pair w = f32(uniform(r, c, 0.5, 1.5), c);
        Pair bias = f32(uniform(r, c), c);
        Pair out = zeros(n, c);
        Pair mean = zeros(n);
        Pair rstd = zeros(n);
        both((b, s) -> b.layerNormForward(s.of(x), s.of(w), s.of(bias), s.of(out), s.of(mean), s.of(rstd), 1e-5f));
        assertPair(mean, F32_ACCUMULATED, F32_ACCUMULATED_ABS, "layernorm mean");
        assertPair(rstd, F32_ACCUMULATED, F32_ACCUMULATED_ABS, "layernorm rstd");
        assertPair(out, F32_ACCUMULATED, F32_ACCUMULATED_ABS, "layernorm out");

        Pair dout = f32(uniform(r, n * c), n, c);
        Pair dx = f32(uniform(r, n * c), n, c);
        Pair dw = f32(uniform(r, c), c);
        Pair db = f32(uniform(r, c), c);
        both((b, s) -> b.layerNormBackward(s.of(dout), s.of(x), s.of(w), s.of(mean), s.of(rstd), s.of(dx), s.of(dw),
                s.of(db)));
        double rowsAbs = F32_ACCUMULATED_ABS * Math.max(1, Math.sqrt(n) / 3);
        assertPair(dx, F32_ACCUMULATED, F32_ACCUMULATED_ABS, "layernorm dx");
        assertPair(dw, F32_ACCUMULATED, rowsAbs, "layernorm dweight");
        assertPair(db, F32_ACCUMULATED, rowsAbs, "layernorm dbias");
    }

    // ---- attention ----------------------------------------------------------------------------------

    /** (B, T, C, NH). */
    static Stream<Arguments> attentionShapes() {
        return Stream.of(Arguments.of(1, 1, 1, 1), Arguments.of(1, 7, 13, 1), Arguments.of(2, 13, 12, 3),
                Arguments.of(2, 31, 16, 4), Arguments.of(3, 67, 14, 2), Arguments.of(2, 64, 128, 4),
                Arguments.of(1, 130, 96, 2));
    }

    @ParameterizedTest(name = "B={0} T={1} C={2} NH={3}")
    @MethodSource("attentionShapes")
    void attentionForwardAndBackward(int b, int t, int c, int nh) {
        requireKernel(Kernel.ATTENTION);
        SplittableRandom r = new SplittableRandom(b * 1000L + t * 10L + c + nh);
        Pair qkv = f32(uniform(r, b * t * 3 * c, -2, 2), b, t, 3 * c);
        Pair att = f32(uniform(r, b * nh * t * t), b, nh, t, t);                      // overwritten, above the diagonal too
        Pair out = zeros(b, t, c);
        both((be2, s) -> be2.attentionForward(s.of(qkv), s.of(att), s.of(out), b, t, c, nh));
        assertPair(att, F32_ACCUMULATED, F32_ACCUMULATED_ABS, "attention probabilities");
        assertPair(out, F32_ACCUMULATED, F32_ACCUMULATED_ABS, "attention out");
        float[] probs = read(att.actual());
        for (int row = 0; row < b * nh * t; row++) {
            for (int t2 = row % t + 1; t2 < t; t2++) {
                assertThat(probs[row * t + t2]).as("%s attention probability above the diagonal", be.name()).isZero();
            }
        }
        Pair dout = f32(uniform(r, b * t * c), b, t, c);
        Pair dqkv = f32(uniform(r, b * t * 3 * c), b, t, 3 * c);                     // accumulated into
        both((be2, s) -> be2.attentionBackward(s.of(dout), s.of(qkv), s.of(att), s.of(dqkv), b, t, c, nh));
        assertPair(dqkv, F32_ACCUMULATED, F32_ACCUMULATED_ABS * Math.max(1, Math.sqrt(t) / 3), "attention dqkv");
    }

    // ---- embedding ----------------------------------------------------------------------------------

    /** (V, N, C). */
    static Stream<Arguments> embeddingShapes() {
        return Stream.of(Arguments.of(1, 1, 1), Arguments.of(7, 50, 13), Arguments.of(65, 2048, 128),
                Arguments.of(257, 31, 67), Arguments.of(3, 1000, 5));
    }

    @ParameterizedTest(name = "V={0} N={1} C={2}")
    @MethodSource("embeddingShapes")
    void embeddingForwardAndBackward(int v, int n, int c) {
        requireKernel(Kernel.EMBEDDING);
        SplittableRandom r = new SplittableRandom(v * 7L + n * 3L + c);
        int[] ids = r.ints(n, 0, v).toArray();                                        // with repeats
        Pair tid = i32(ids, n);
        Pair table = f32(uniform(r, v * c), v, c);
        Pair out = f32(uniform(r, n * c), n, c);
        both((b, s) -> b.embeddingForward(s.of(tid), s.of(table), s.of(out)));
        assertExact(out, "embedding forward");
        Pair dout = f32(uniform(r, n * c), n, c);
        Pair dtable = f32(uniform(r, v * c), v, c);                                   // accumulated into
        both((b, s) -> b.embeddingBackward(s.of(tid), s.of(dout), s.of(dtable)));
        assertPair(dtable, F32_ACCUMULATED, F32_ACCUMULATED_ABS * Math.max(1, Math.sqrt((double) n / v) / 3),
                "embedding backward");
    }

    // ---- cross-entropy ------------------------------------------------------------------------------

    /** (N, V). */
    static Stream<Arguments> crossEntropyShapes() {
        return Stream.of(Arguments.of(1, 1), Arguments.of(5, 7), Arguments.of(64, 65), Arguments.of(33, 1031),
                Arguments.of(2048, 65), Arguments.of(3, 50_257));
    }

    @ParameterizedTest(name = "N={0} V={1}")
    @MethodSource("crossEntropyShapes")
    void crossEntropyForwardAndBackward(int n, int v) {
        requireKernel(Kernel.CROSS_ENTROPY);
        SplittableRandom r = new SplittableRandom(n * 13L + v);
        float[] logits = uniform(r, n * v, -4, 4);
        if (logits.length > 3) {
            logits[0] = 30f;                                                          // a dominant logit
            logits[1] = -30f;
        }
        int[] targets = r.ints(n, 0, v).toArray();
        if (n > 2) {
            targets[1] = -1;                                                          // ignored rows
            targets[n - 1] = -100;
        }
        Pair tl = f32(logits, n, v);
        Pair tt = i32(targets, n);
        Pair probs = zeros(n, v);
        Pair losses = zeros(n);
        both((b, s) -> b.crossEntropyForward(s.of(tl), s.of(tt), s.of(probs), s.of(losses)));
        assertPair(probs, F32_ACCUMULATED, 0, "cross-entropy probs");                   // relative, even where tiny
        assertPair(losses, F32_ACCUMULATED, F32_ACCUMULATED_ABS, "cross-entropy losses");
        Pair dlosses = f32(uniform(r, n), n);
        Pair dlogits = f32(uniform(r, n * v), n, v);                                 // accumulated into
        both((b, s) -> b.crossEntropyBackward(s.of(probs), s.of(tt), s.of(dlosses), s.of(dlogits)));
        assertPair(dlogits, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "cross-entropy dlogits");
    }

    // ---- dropout ------------------------------------------------------------------------------------

    @ParameterizedTest(name = "p={0}")
    @ValueSource(floats = {0f, 0.1f, 0.5f, 0.9f})
    void dropoutDrawsTheReferenceMask(float p) {
        requireKernel(Kernel.DROPOUT);
        for (int n : new int[] {1, 17, 65_537}) {
            SplittableRandom r = new SplittableRandom(n);
            Pair x = f32(uniform(r, n), n);
            Pair mask = zeros(n);
            Pair out = zeros(n);
            long seed = 0x1234_5678_9ABCL + n;
            both((b, s) -> b.dropoutForward(s.of(x), s.of(mask), s.of(out), p, seed));
            assertExact(mask, "dropout mask p=" + p);
            assertPair(out, F32_ELEMENTWISE, 0, "dropout out p=" + p);
        }
    }

    // ---- optimizers -----------------------------------------------------------------------------------

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void adamwOverSeveralSteps(int n) {
        requireKernel(Kernel.ADAMW);
        SplittableRandom r = new SplittableRandom(n + 77);
        Pair param = f32(uniform(r, n), n);
        Pair m = zeros(n);
        Pair v = zeros(n);
        for (int step = 1; step <= 3; step++) {
            Pair grad = f32(uniform(r, n, -0.1, 0.1), n);
            int st = step;
            float wd = step == 2 ? 0f : 0.1f;
            both((b, s) -> b.adamwStep(s.of(param), s.of(grad), s.of(m), s.of(v), 1e-2f, 0.9f, 0.95f, 1e-8f, wd, st));
        }
        assertPair(m, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "adamw m");
        assertPair(v, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS * 1e-2, "adamw v");
        assertPair(param, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "adamw param");
    }

    /** (momentum, nesterov, weight decay). */
    static Stream<Arguments> sgdCases() {
        return Stream.of(Arguments.of(0f, false, 0f), Arguments.of(0f, false, 0.01f), Arguments.of(0.9f, false, 0f),
                Arguments.of(0.9f, true, 0.05f));
    }

    @ParameterizedTest(name = "momentum={0} nesterov={1} wd={2}")
    @MethodSource("sgdCases")
    void sgdOverSeveralSteps(float momentum, boolean nesterov, float weightDecay) {
        requireKernel(Kernel.SGD);
        for (int n : new int[] {1, 17, 4099}) {
            SplittableRandom r = new SplittableRandom(n + 99);
            Pair param = f32(uniform(r, n), n);
            Pair buffer = momentum == 0f ? null : zeros(n);
            for (int step = 1; step <= 3; step++) {
                Pair grad = f32(uniform(r, n), n);
                boolean first = step == 1;
                both((b, s) -> b.sgdStep(s.of(param), s.of(grad), s.of(buffer), 0.1f, momentum, nesterov, weightDecay,
                        first));
            }
            assertPair(param, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "sgd param n=" + n);
            if (buffer != null) {
                assertPair(buffer, F32_ELEMENTWISE, F32_ELEMENTWISE_ABS, "sgd momentum buffer n=" + n);
            }
        }
    }

    // ---- reductions ----------------------------------------------------------------------------------

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void sumAndSumOfSquares(int n) {
        requireKernel(Kernel.SUM);
        requireKernel(Kernel.SUM_SQUARES);
        SplittableRandom r = new SplittableRandom(n + 3);
        float[] xs = uniform(r, n, -1, 1.5);
        Pair x = f32(xs, n);
        double sumAbs = 0;
        for (float f : xs) {
            sumAbs += Math.abs(f);
        }
        // a float sum's error scales with the sum of magnitudes, not with the (cancelling) result
        Approx.assertClose(be.sum(x.actual()), ref.sum(x.expected()), 0, F32_SUM * sumAbs, be.name() + " sum");
        Approx.assertClose(be.sumOfSquares(x.actual()), ref.sumOfSquares(x.expected()), F32_SUM, 0,
                be.name() + " sumOfSquares");
    }

    // ---- BF16 -------------------------------------------------------------------------------------

    @ParameterizedTest(name = "n={0}")
    @MethodSource("sizes")
    void castRoundsToNearestEvenAndBf16StorageWorks(int n) {
        requireKernel(Kernel.CAST);
        SplittableRandom r = new SplittableRandom(n + 123);
        float[] xs = uniform(r, n, -100, 100);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f,
            Float.intBitsToFloat(0x3F808000), Float.intBitsToFloat(0x3F818000), Float.MIN_VALUE, Float.MAX_VALUE};
        System.arraycopy(special, 0, xs, 0, Math.min(n, special.length));
        Pair f = f32(xs, n);
        Pair h = pair(DType.BF16, n);
        both((b, s) -> b.cast(s.of(f), s.of(h)));
        Pair back = zeros(n);
        both((b, s) -> b.cast(s.of(h), s.of(back)));
        assertExact(back, "F32 -> BF16 -> F32");
        int from = Math.min(n, special.length);                                        // MAX_VALUE rounds to infinity
        Approx.assertClose(Arrays.copyOfRange(read(back.actual()), from, n), Arrays.copyOfRange(xs, from, n), BF16, 0,
                be.name() + " bf16 round trip");
        // BF16 storage: read and write convert, fill and copy keep the bits
        Pair h2 = pair(DType.BF16, n);
        both((b, s) -> b.copy(s.of(h), s.of(h2)));
        assertExact(h2, "copy BF16");
        both((b, s) -> b.fill(s.of(h2), 1.00390625f));                                 // a tie: rounds to 1
        assertExact(h2, "fill BF16");
        be.write(h.actual(), 0, xs, 0, n);
        ref.write(h.expected(), 0, xs, 0, n);
        assertExact(h, "write BF16");
        Pair fresh = pair(DType.BF16, n);
        assertThat(read(fresh.actual())).as("a new BF16 tensor is zero-filled").isEqualTo(new float[n]);
    }

    // ---- a short training run -------------------------------------------------------------------

    /** A 2-layer GPT on a small periodic corpus: every training kernel, as they compose. */
    static final ParityGpt.Config PARITY_GPT = new ParityGpt.Config(23, 16, 32, 4, 2, 4);
    static final int PARITY_STEPS = 10;

    @Test
    void gptTrainingRunMatchesTheReferenceLossForLoss() {
        List<String> missing = ParityGpt.KERNELS.stream().filter(k -> !be.supports(k))
                .map(k -> k + ": " + be.unsupportedReason(k)).collect(Collectors.toList());
        assumeTrue(missing.isEmpty(), () -> be.name() + " lacks kernels the GPT run needs: " + missing);
        int[] corpus = new int[4000];
        String text = "the quick brown fox jumps over a lazy dog; ";
        for (int i = 0; i < corpus.length; i++) {
            corpus[i] = text.charAt(i % text.length()) * 7 % PARITY_GPT.vocab();
        }
        List<Float> actual = ParityGpt.train(be, PARITY_GPT, corpus, PARITY_STEPS, 1e-2f, 1337);
        List<Float> expected = ParityGpt.train(ref, PARITY_GPT, corpus, PARITY_STEPS, 1e-2f, 1337);
        for (int s = 0; s < PARITY_STEPS; s++) {
            assertThat(Tolerances.close(actual.get(s), expected.get(s), F32_TRAINING_LOSS, 0))
                    .as("%s loss at step %d: %s, the reference's %s (all: %s vs %s)", be.name(), s + 1, actual.get(s),
                            expected.get(s), actual, expected)
                    .isTrue();
        }
        assertThat(expected.get(PARITY_STEPS - 1)).as("the reference run learns").isLessThan(expected.get(0) - 0.3f);
    }
}

package dev.cornerstone.backend.cpu;

import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * The {@code cpu} compute backend: tensors in native memory ({@link NativeMemory}), GEMM through
 * OpenBLAS when it is installed and a pure-Java GEMM otherwise ({@link NativeBlas},
 * {@link GemmKernels}), and Java kernels for the rest, spread over a fixed pool of
 * {@code threads} threads ({@link Parallel}). The test kit's {@code ReferenceKernels} holds the
 * plain reference of every kernel.
 *
 * <p>Usable as a plain object ({@code try (var cpu = new CpuBackend(4)) { ... }}) or as the DS
 * component {@link CpuBackendComponent}. Thread-safe: kernels may be called from several threads
 * at once (on different output tensors). Closing the backend stops its threads; its tensors stay
 * readable until each is closed.
 *
 * <p>BF16 is a storage type here: {@code allocate}, {@code fill}, {@code copy}, {@code cast},
 * {@code read} and {@code write} (which convert) handle it; the other kernels compute in F32.
 */
public class CpuBackend implements ComputeBackend, AutoCloseable {

    /** The {@code backend.name} service property. */
    public static final String NAME = "cpu";

    /** System property: {@code java} forces the pure-Java GEMM even when a native BLAS is installed. */
    public static final String GEMM_PROPERTY = "cornerstone.cpu.gemm";

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.backend.cpu");

    private final int threads;
    private final NativeMemory memory = new NativeMemory();
    private final AtomicLong tensorIds = new AtomicLong();
    private final Parallel parallel;
    private final ElementwiseKernels elementwise;
    private final ReductionKernels reductions;
    private final GemmKernels gemm;
    private final GeluKernels gelu;
    private final LayerNormKernels layerNorm;
    private final AttentionKernels attention;
    private final EmbeddingKernels embedding;
    private final CrossEntropyKernels crossEntropy;
    private final DropoutKernels dropout;
    private final OptimizerKernels optimizers;
    private final CastKernels casts;
    private final String device;
    private volatile boolean closed;

    /** A backend with {@code threads} threads, GEMM on the native BLAS if one is installed. */
    public CpuBackend(int threads) {
        this(threads, false);
    }

    /**
     * A backend with {@code threads} threads; {@code javaGemm} forces the pure-Java GEMM (so does
     * the system property {@value #GEMM_PROPERTY}{@code =java}).
     */
    public CpuBackend(int threads, boolean javaGemm) {
        this(threads, javaGemm, null);
    }

    /** As {@link #CpuBackend(int, boolean)}, searching {@code blasCandidates} (null: the defaults). */
    CpuBackend(int threads, boolean javaGemm, List<String> blasCandidates) {
        if (threads < 1) {
            throw new IllegalArgumentException("a cpu backend needs at least 1 thread, was " + threads);
        }
        this.threads = threads;
        this.parallel = new Parallel(threads);
        this.elementwise = new ElementwiseKernels(parallel);
        this.reductions = new ReductionKernels(parallel);
        this.gelu = new GeluKernels(parallel);
        this.layerNorm = new LayerNormKernels(parallel);

        this.embedding = new EmbeddingKernels(parallel);
        this.crossEntropy = new CrossEntropyKernels(parallel);
        this.dropout = new DropoutKernels(parallel);
        this.optimizers = new OptimizerKernels(parallel);
        this.casts = new CastKernels(parallel);
        this.gemm = new GemmKernels(chooseGemm(javaGemm, blasCandidates), elementwise);
        this.attention = new AttentionKernels(gemm.engine(), parallel);
        this.device = "CPU, " + threads + (threads == 1 ? " thread, " : " threads, ") + gemm.engine().description();
    }

    private GemmEngine chooseGemm(boolean javaGemm, List<String> blasCandidates) {
        if (javaGemm || "java".equalsIgnoreCase(System.getProperty(GEMM_PROPERTY, "").trim())) {
            LOG.fine("cpu backend: pure-Java GEMM forced by configuration");
            return new JavaGemm(parallel, "forced by configuration");
        }
        Optional<NativeBlas> blas = blasCandidates == null ? NativeBlas.system() : NativeBlas.load(blasCandidates);
        return blas.<GemmEngine>map(b -> new OpenBlasGemm(b, parallel))
                .orElseGet(() -> new JavaGemm(parallel, "no native BLAS found"));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String device() {
        return device;
    }

    /** The number of threads kernels are spread over. */
    public int threads() {
        return threads;
    }

    /** Whether GEMM runs on a native BLAS (false: the pure-Java fallback). */
    public boolean nativeGemm() {
        return gemm.engine() instanceof OpenBlasGemm;
    }

    // ---- buffers -------------------------------------------------------------------------

    @Override
    public Tensor allocate(Shape shape, DType dtype) {
        if (closed) {
            throw new IllegalStateException("the cpu backend is closed");
        }
        long bytes = Math.multiplyExact(shape.size(), (long) dtype.bytes());
        return new CpuTensor(this, tensorIds.incrementAndGet(), shape, dtype, memory.allocate(bytes));
    }

    /** Skips the zero fill of a reused block (profiled: 7% of a GPT config A step was memset). */
    @Override
    public Tensor allocateUninitialized(Shape shape, DType dtype) {
        if (closed) {
            throw new IllegalStateException("the cpu backend is closed");
        }
        long bytes = Math.multiplyExact(shape.size(), (long) dtype.bytes());
        return new CpuTensor(this, tensorIds.incrementAndGet(), shape, dtype, memory.allocate(bytes, false));
    }

    /** Called once per tensor, by its first close. */
    void release(NativeMemory.Block block) {
        memory.free(block);
    }

    @Override
    public void write(Tensor dst, long dstOffset, float[] src, int srcOffset, int length) {
        CpuTensor t = own(dst);
        checkRange("write", t, dstOffset, length, src.length, srcOffset);
        MemorySegment s = t.segment();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(src, srcOffset, s, Tiles.F32, dstOffset * Float.BYTES, length);
            case BF16 -> {
                for (int i = 0; i < length; i++) {
                    s.setAtIndex(Tiles.BF16, dstOffset + i, CastKernels.toBf16(src[srcOffset + i]));
                }
            }
            case I32 -> throw new IllegalArgumentException("write copies floats, " + t + " holds ints: use writeInts");
        }
    }

    @Override
    public void read(Tensor src, long srcOffset, float[] dst, int dstOffset, int length) {
        CpuTensor t = own(src);
        checkRange("read", t, srcOffset, length, dst.length, dstOffset);
        MemorySegment s = t.segment();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(s, Tiles.F32, srcOffset * Float.BYTES, dst, dstOffset, length);
            case BF16 -> {
                for (int i = 0; i < length; i++) {
                    dst[dstOffset + i] = CastKernels.fromBf16(s.getAtIndex(Tiles.BF16, srcOffset + i));
                }
            }
            case I32 -> throw new IllegalArgumentException("read copies floats, " + t + " holds ints: use readInts");
        }
    }

    @Override
    public void read(Tensor src, long srcOffset, MemorySegment dst, long dstByteOffset, int length) {
        CpuTensor t = own(src);
        if (t.dtype() != DType.F32) {
            ComputeBackend.super.read(src, srcOffset, dst, dstByteOffset, length);
            return;
        }
        checkRange("read", t, srcOffset, length, Integer.MAX_VALUE, 0);
        MemorySegment.copy(t.segment(), Tiles.F32, srcOffset * Float.BYTES, dst, LE_FLOAT, dstByteOffset, length);
    }

    @Override
    public void write(Tensor dst, long dstOffset, MemorySegment src, long srcByteOffset, int length) {
        CpuTensor t = own(dst);
        if (t.dtype() != DType.F32) {
            ComputeBackend.super.write(dst, dstOffset, src, srcByteOffset, length);
            return;
        }
        checkRange("write", t, dstOffset, length, Integer.MAX_VALUE, 0);
        MemorySegment.copy(src, LE_FLOAT, srcByteOffset, t.segment(), Tiles.F32, dstOffset * Float.BYTES, length);
    }

    @Override
    public void writeInts(Tensor dst, long dstOffset, int[] src, int srcOffset, int length) {
        CpuTensor t = own(dst);
        requireInts("writeInts", t);
        checkRange("writeInts", t, dstOffset, length, src.length, srcOffset);
        MemorySegment.copy(src, srcOffset, t.segment(), Tiles.I32, dstOffset * Integer.BYTES, length);
    }

    @Override
    public void readInts(Tensor src, long srcOffset, int[] dst, int dstOffset, int length) {
        CpuTensor t = own(src);
        requireInts("readInts", t);
        checkRange("readInts", t, srcOffset, length, dst.length, dstOffset);
        MemorySegment.copy(t.segment(), Tiles.I32, srcOffset * Integer.BYTES, dst, dstOffset, length);
    }

    private static void requireInts(String op, CpuTensor t) {
        if (t.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + " copies ints, " + t + " holds " + t.dtype());
        }
    }

    private static void checkRange(String op, CpuTensor t, long offset, int length, int arrayLength, int arrayOffset) {
        if (length < 0 || offset < 0 || offset > t.size() - length) {
            throw new IndexOutOfBoundsException(op + " of " + length + " elements at element " + offset
                    + " is outside " + t + ", which has " + t.size() + " elements");
        }
        if (arrayOffset < 0 || arrayOffset > arrayLength - length) {
            throw new IndexOutOfBoundsException(op + " of " + length + " elements of " + t + " at array index "
                    + arrayOffset + " is outside the array of length " + arrayLength);
        }
    }

    @Override
    public long liveTensors() {
        return memory.liveBlocks();
    }

    @Override
    public long liveBytes() {
        return memory.liveBytes();
    }

    // ---- kernels -------------------------------------------------------------------------

    @Override
    public void fill(Tensor t, float value) {
        CpuTensor c = own(t);
        switch (c.dtype()) {
            case F32 -> elementwise.fillRange(c.segment(), 0, c.size(), value);
            case I32 -> elementwise.fillInts(c.segment(), c.size(), (int) value);
            case BF16 -> elementwise.fillShorts(c.segment(), c.size(), CastKernels.toBf16(value));
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        CpuTensor s = own(src);
        elementwise.copy(s.segment(), seg(dst), s.size() * s.dtype().bytes());
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                     Tensor a, long aOffset, long strideA, Tensor b, long bOffset, long strideB,
                     float beta, Tensor c, long cOffset, long strideC) {
        gemm.gemm(transA, transB, batch, m, n, k, alpha, seg(a), aOffset, strideA, seg(b), bOffset, strideB,
                beta, seg(c), cOffset, strideC);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        elementwise.add(seg(a), a.size(), seg(b), b.size(), seg(out));
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        elementwise.mul(seg(a), a.size(), seg(b), b.size(), seg(out));
    }

    @Override
    public void scale(Tensor x, float alpha, Tensor out) {
        elementwise.scale(seg(x), alpha, seg(out), x.size());
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        elementwise.axpy(alpha, seg(x), seg(y), x.size());
    }

    @Override
    public void sumRows(Tensor x, Tensor out) {
        reductions.sumRows(seg(x), x.size(), seg(out), (int) out.size());
    }

    @Override
    public void geluForward(Tensor x, Tensor out) {
        gelu.geluForward(seg(x), seg(out), x.size());
    }

    @Override
    public void geluBackward(Tensor x, Tensor dout, Tensor dx) {
        gelu.geluBackward(seg(x), seg(dout), seg(dx), x.size());
    }

    @Override
    public void layerNormForward(Tensor x, Tensor weight, Tensor bias, Tensor out, Tensor mean, Tensor rstd,
                                 float eps) {
        int c = (int) weight.size();
        layerNorm.layerNormForward(seg(x), seg(weight), seg(bias), seg(out), seg(mean), seg(rstd),
                rows(x.size(), c), c, eps);
    }

    @Override
    public void layerNormBackward(Tensor dout, Tensor x, Tensor weight, Tensor mean, Tensor rstd,
                                  Tensor dx, Tensor dweight, Tensor dbias) {
        int c = (int) weight.size();
        layerNorm.layerNormBackward(seg(dout), seg(x), seg(weight), seg(mean), seg(rstd), seg(dx), seg(dweight),
                seg(dbias), rows(x.size(), c), c);
    }

    @Override
    public void attentionForward(Tensor qkv, Tensor att, Tensor out, int b, int t, int c, int nh) {
        attention.attentionForward(seg(qkv), seg(att), seg(out), b, t, c, nh);
    }

    @Override
    public void attentionBackward(Tensor dout, Tensor qkv, Tensor att, Tensor dqkv, int b, int t, int c, int nh) {
        attention.attentionBackward(seg(dout), seg(qkv), seg(att), seg(dqkv), b, t, c, nh);
    }

    @Override
    public void embeddingForward(Tensor ids, Tensor table, Tensor out) {
        embedding.embeddingForward(seg(ids), seg(table), seg(out), ids.size(), table.shape().dim(-1));
    }

    @Override
    public void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
        embedding.embeddingBackward(seg(ids), seg(dout), seg(dtable), ids.size(), dtable.shape().dim(-1));
    }

    @Override
    public void crossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor losses) {
        long n = targets.size();
        crossEntropy.crossEntropyForward(seg(logits), seg(targets), seg(probs), seg(losses), n,
                (int) rows(logits.size(), n));
    }

    @Override
    public void crossEntropyBackward(Tensor probs, Tensor targets, Tensor dlosses, Tensor dlogits) {
        long n = targets.size();
        crossEntropy.crossEntropyBackward(seg(probs), seg(targets), seg(dlosses), seg(dlogits), n,
                (int) rows(probs.size(), n));
    }

    @Override
    public void dropoutForward(Tensor x, Tensor mask, Tensor out, float p, long seed) {
        dropout.dropoutForward(seg(x), seg(mask), seg(out), x.size(), p, seed);
    }

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                          float weightDecay, int step) {
        optimizers.adamwStep(seg(param), seg(grad), seg(m), seg(v), param.size(), lr, beta1, beta2, eps,
                weightDecay, step);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, boolean nesterov,
                        float weightDecay, boolean firstStep) {
        MemorySegment buffer = momentumBuffer == null ? null : seg(momentumBuffer);
        optimizers.sgdStep(seg(param), seg(grad), buffer, param.size(), lr, momentum, nesterov, weightDecay,
                firstStep);
    }

    @Override
    public double sum(Tensor x) {
        return reductions.sum(seg(x), x.size(), false);
    }

    @Override
    public double sumOfSquares(Tensor x) {
        return reductions.sum(seg(x), x.size(), true);
    }

    @Override
    public void cast(Tensor src, Tensor dst) {
        CpuTensor s = own(src);
        CpuTensor d = own(dst);
        if (s.dtype() == d.dtype()) {
            elementwise.copy(s.segment(), d.segment(), s.size() * s.dtype().bytes());
        } else if (s.dtype() == DType.F32 && d.dtype() == DType.BF16) {
            casts.toBf16(s.segment(), d.segment(), s.size());
        } else if (s.dtype() == DType.BF16 && d.dtype() == DType.F32) {
            casts.toF32(s.segment(), d.segment(), s.size());
        } else {
            throw new IllegalArgumentException("cast converts between F32 and BF16, not " + s + " to " + d);
        }
    }

    // ---- helpers -------------------------------------------------------------------------

    private CpuTensor own(Tensor t) {
        if (t instanceof CpuTensor c && c.backend() == this) {
            return c;
        }
        throw new IllegalArgumentException(t + " does not belong to this cpu backend");
    }

    private MemorySegment seg(Tensor t) {
        return own(t).segment();
    }

    private static long rows(long size, long rowLength) {
        return rowLength == 0 ? 0 : size / rowLength;
    }

    /** Stops the threads. Tensors still open stay valid memory until closed; they are reported. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        parallel.close();
        memory.trim();
        long live = memory.liveBlocks();
        if (live > 0) {
            LOG.warning("cpu backend closed with " + live + " tensors (" + memory.liveBytes()
                    + " bytes) still open: close them to free their memory");
        }
    }

    @Override
    public String toString() {
        return "CpuBackend[" + device + "]";
    }
}

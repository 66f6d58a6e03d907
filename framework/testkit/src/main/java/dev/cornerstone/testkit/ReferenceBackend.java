package dev.cornerstone.testkit;

import java.util.concurrent.atomic.AtomicLong;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * {@link ReferenceKernels} behind the {@link ComputeBackend} SPI: tensors are Java arrays on the
 * heap ({@code float[]} for F32, {@code int[]} for I32, {@code short[]} of bits for BF16) and
 * every kernel is the plain, single-threaded reference loop. Slow and obviously right: the oracle
 * the {@link BackendParitySuite} runs the same calls on, so a backend's results are compared
 * call for call, through the same SPI, with the same aliasing and offsets.
 *
 * <p>Not thread-safe; for tests only. Tensors hold at most {@code Integer.MAX_VALUE} elements.
 * Open for subclassing, so tests of the suite itself can make a backend that is wrong in one
 * kernel, or declines one.
 */
public class ReferenceBackend implements ComputeBackend, AutoCloseable {

    public static final String NAME = "reference";

    private final AtomicLong live = new AtomicLong();
    private final AtomicLong liveBytes = new AtomicLong();

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String device() {
        return "plain Java reference kernels (testkit ReferenceKernels), heap arrays, 1 thread";
    }

    /** A tensor of this backend: a Java array of its dtype. */
    final class RefTensor implements Tensor {
        private final Shape shape;
        private final DType dtype;
        final float[] f;
        final int[] i;
        final short[] h;
        private boolean closed;

        RefTensor(Shape shape, DType dtype) {
            if (shape.size() > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("the reference backend holds at most 2^31-1 elements, not " + shape);
            }
            int n = (int) shape.size();
            this.shape = shape;
            this.dtype = dtype;
            this.f = dtype == DType.F32 ? new float[n] : null;
            this.i = dtype == DType.I32 ? new int[n] : null;
            this.h = dtype == DType.BF16 ? new short[n] : null;
        }

        @Override
        public Shape shape() {
            return shape;
        }

        @Override
        public DType dtype() {
            return dtype;
        }

        @Override
        public ComputeBackend backend() {
            return ReferenceBackend.this;
        }

        @Override
        public boolean isClosed() {
            return closed;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                live.decrementAndGet();
                liveBytes.addAndGet(-shape.size() * dtype.bytes());
            }
        }

        float[] f32() {
            require(DType.F32);
            return f;
        }

        int[] i32() {
            require(DType.I32);
            return i;
        }

        private void require(DType d) {
            if (closed) {
                throw new IllegalStateException(this + " is closed");
            }
            if (dtype != d) {
                throw new IllegalArgumentException(this + " holds " + dtype + ", the kernel needs " + d);
            }
        }

        @Override
        public String toString() {
            return "reference tensor " + dtype + " " + shape;
        }
    }

    private RefTensor own(Tensor t) {
        if (t instanceof RefTensor r && r.backend() == this) {
            if (r.isClosed()) {
                throw new IllegalStateException(r + " is closed");
            }
            return r;
        }
        throw new IllegalArgumentException(t + " does not belong to this reference backend");
    }

    private float[] f(Tensor t) {
        return own(t).f32();
    }

    private int[] ints(Tensor t) {
        return own(t).i32();
    }

    // ---- buffers -------------------------------------------------------------------------

    @Override
    public Tensor allocate(Shape shape, DType dtype) {
        RefTensor t = new RefTensor(shape, dtype);
        live.incrementAndGet();
        liveBytes.addAndGet(shape.size() * dtype.bytes());
        return t;
    }

    @Override
    public void write(Tensor dst, long dstOffset, float[] src, int srcOffset, int length) {
        RefTensor t = own(dst);
        check("write", t, dstOffset, length, src.length, srcOffset);
        switch (t.dtype()) {
            case F32 -> System.arraycopy(src, srcOffset, t.f, (int) dstOffset, length);
            case BF16 -> {
                for (int k = 0; k < length; k++) {
                    t.h[(int) dstOffset + k] = ReferenceKernels.toBf16(src[srcOffset + k]);
                }
            }
            case I32 -> throw new IllegalArgumentException("write copies floats, " + t + " holds ints: use writeInts");
        }
    }

    @Override
    public void read(Tensor src, long srcOffset, float[] dst, int dstOffset, int length) {
        RefTensor t = own(src);
        check("read", t, srcOffset, length, dst.length, dstOffset);
        switch (t.dtype()) {
            case F32 -> System.arraycopy(t.f, (int) srcOffset, dst, dstOffset, length);
            case BF16 -> {
                for (int k = 0; k < length; k++) {
                    dst[dstOffset + k] = ReferenceKernels.fromBf16(t.h[(int) srcOffset + k]);
                }
            }
            case I32 -> throw new IllegalArgumentException("read copies floats, " + t + " holds ints: use readInts");
        }
    }

    @Override
    public void writeInts(Tensor dst, long dstOffset, int[] src, int srcOffset, int length) {
        RefTensor t = own(dst);
        check("writeInts", t, dstOffset, length, src.length, srcOffset);
        System.arraycopy(src, srcOffset, t.i32(), (int) dstOffset, length);
    }

    @Override
    public void readInts(Tensor src, long srcOffset, int[] dst, int dstOffset, int length) {
        RefTensor t = own(src);
        check("readInts", t, srcOffset, length, dst.length, dstOffset);
        System.arraycopy(t.i32(), (int) srcOffset, dst, dstOffset, length);
    }

    private static void check(String op, RefTensor t, long offset, int length, int arrayLength, int arrayOffset) {
        if (length < 0 || offset < 0 || offset > t.size() - length || arrayOffset < 0
                || arrayOffset > arrayLength - length) {
            throw new IndexOutOfBoundsException(op + " of " + length + " elements at element " + offset + " of " + t
                    + ", array index " + arrayOffset + " of " + arrayLength);
        }
    }

    @Override
    public long liveTensors() {
        return live.get();
    }

    @Override
    public long liveBytes() {
        return liveBytes.get();
    }

    // ---- kernels -------------------------------------------------------------------------

    @Override
    public void fill(Tensor t, float value) {
        RefTensor r = own(t);
        switch (r.dtype()) {
            case F32 -> ReferenceKernels.fill(r.f, value);
            case I32 -> java.util.Arrays.fill(r.i, (int) value);
            case BF16 -> java.util.Arrays.fill(r.h, ReferenceKernels.toBf16(value));
        }
    }

    @Override
    public void copy(Tensor src, Tensor dst) {
        RefTensor s = own(src);
        RefTensor d = own(dst);
        switch (s.dtype()) {
            case F32 -> ReferenceKernels.copy(s.f, d.f32());
            case I32 -> System.arraycopy(s.i, 0, d.i32(), 0, s.i.length);
            case BF16 -> System.arraycopy(s.h, 0, d.h, 0, s.h.length);
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                     Tensor a, long aOffset, long strideA, Tensor b, long bOffset, long strideB,
                     float beta, Tensor c, long cOffset, long strideC) {
        ReferenceKernels.gemm(transA, transB, batch, m, n, k, alpha, f(a), aOffset, strideA, f(b), bOffset, strideB,
                beta, f(c), cOffset, strideC);
    }

    @Override
    public void add(Tensor a, Tensor b, Tensor out) {
        ReferenceKernels.add(f(a), f(b), f(out));
    }

    @Override
    public void mul(Tensor a, Tensor b, Tensor out) {
        ReferenceKernels.mul(f(a), f(b), f(out));
    }

    @Override
    public void scale(Tensor x, float alpha, Tensor out) {
        ReferenceKernels.scale(f(x), alpha, f(out));
    }

    @Override
    public void axpy(float alpha, Tensor x, Tensor y) {
        ReferenceKernels.axpy(alpha, f(x), f(y));
    }

    @Override
    public void sumRows(Tensor x, Tensor out) {
        ReferenceKernels.sumRows(f(x), f(out));
    }

    @Override
    public void geluForward(Tensor x, Tensor out) {
        ReferenceKernels.geluForward(f(x), f(out));
    }

    @Override
    public void geluBackward(Tensor x, Tensor dout, Tensor dx) {
        ReferenceKernels.geluBackward(f(x), f(dout), f(dx));
    }

    @Override
    public void layerNormForward(Tensor x, Tensor weight, Tensor bias, Tensor out, Tensor mean, Tensor rstd,
                                 float eps) {
        ReferenceKernels.layerNormForward(f(x), f(weight), f(bias), f(out), f(mean), f(rstd), eps);
    }

    @Override
    public void layerNormBackward(Tensor dout, Tensor x, Tensor weight, Tensor mean, Tensor rstd,
                                  Tensor dx, Tensor dweight, Tensor dbias) {
        ReferenceKernels.layerNormBackward(f(dout), f(x), f(weight), f(mean), f(rstd), f(dx), f(dweight), f(dbias));
    }

    @Override
    public void attentionForward(Tensor qkv, Tensor att, Tensor out, int b, int t, int c, int nh) {
        ReferenceKernels.attentionForward(f(qkv), f(att), f(out), b, t, c, nh);
    }

    @Override
    public void attentionBackward(Tensor dout, Tensor qkv, Tensor att, Tensor dqkv, int b, int t, int c, int nh) {
        ReferenceKernels.attentionBackward(f(dout), f(qkv), f(att), f(dqkv), b, t, c, nh);
    }

    @Override
    public void embeddingForward(Tensor ids, Tensor table, Tensor out) {
        ReferenceKernels.embeddingForward(ints(ids), f(table), f(out));
    }

    @Override
    public void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
        ReferenceKernels.embeddingBackward(ints(ids), f(dout), f(dtable));
    }

    @Override
    public void crossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor losses) {
        ReferenceKernels.crossEntropyForward(f(logits), ints(targets), f(probs), f(losses));
    }

    @Override
    public void crossEntropyBackward(Tensor probs, Tensor targets, Tensor dlosses, Tensor dlogits) {
        ReferenceKernels.crossEntropyBackward(f(probs), ints(targets), f(dlosses), f(dlogits));
    }

    @Override
    public void dropoutForward(Tensor x, Tensor mask, Tensor out, float p, long seed) {
        ReferenceKernels.dropoutForward(f(x), f(mask), f(out), p, seed);
    }

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                          float weightDecay, int step) {
        ReferenceKernels.adamwStep(f(param), f(grad), f(m), f(v), lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, boolean nesterov,
                        float weightDecay, boolean firstStep) {
        ReferenceKernels.sgdStep(f(param), f(grad), momentumBuffer == null ? null : f(momentumBuffer), lr, momentum,
                nesterov, weightDecay, firstStep);
    }

    @Override
    public double sum(Tensor x) {
        return ReferenceKernels.sum(f(x));
    }

    @Override
    public double sumOfSquares(Tensor x) {
        return ReferenceKernels.sumOfSquares(f(x));
    }

    @Override
    public void cast(Tensor src, Tensor dst) {
        RefTensor s = own(src);
        RefTensor d = own(dst);
        if (s.dtype() == d.dtype()) {
            copy(src, dst);
        } else if (s.dtype() == DType.F32 && d.dtype() == DType.BF16) {
            ReferenceKernels.castToBf16(s.f, d.h);
        } else if (s.dtype() == DType.BF16 && d.dtype() == DType.F32) {
            ReferenceKernels.castToF32(s.h, d.f);
        } else {
            throw new IllegalArgumentException("cast converts between F32 and BF16, not " + s + " to " + d);
        }
    }

    @Override
    public void close() {
        // heap arrays: nothing to free
    }

    @Override
    public String toString() {
        return "ReferenceBackend";
    }
}

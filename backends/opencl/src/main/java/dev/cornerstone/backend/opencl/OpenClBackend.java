package dev.cornerstone.backend.opencl;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.opencl.GemmKernels.Operand;

/**
 * The {@code opencl} compute backend: every kernel of the SPI as OpenCL C ({@code .cl} resources,
 * built for the device on first use), through LWJGL's OpenCL binding. It runs on any OpenCL 1.2+
 * device: PoCL on the CPU in CI, a GPU where there is one.
 *
 * <ul>
 *   <li>Tensors are device buffers from a pool ({@link BufferPool}): a training step that frees
 *       and allocates the same shapes every time reuses them. A memory limit (by default the
 *       device's global memory) is enforced before the device is asked, as PoCL aborts the process
 *       instead of failing an allocation it cannot back.
 *   <li>Every command goes to one in-order queue and nothing waits for the host between kernels:
 *       the host waits only where the SPI hands it data ({@code read}, {@code readInts}, and the
 *       numbers {@code sum} and {@code sumOfSquares} return) or takes it ({@code write} and
 *       {@code writeInts} copy before returning, so the caller may reuse its array).
 *   <li>GEMM packs its operands into panels and gives each work-item a register tile
 *       ({@link GemmKernels}); attention is batched GEMMs around a causal softmax
 *       ({@link AttentionKernels}).
 * </ul>
 *
 * <p>Usable as a plain object ({@code try (var cl = new OpenClBackend()) { ... }}) or as the DS
 * component {@link OpenClBackendComponent}. Thread-safe: calls are serialised on the backend. BF16
 * is a storage type, as on the cpu backend.
 */
public class OpenClBackend implements ComputeBackend, AutoCloseable {

    /** The {@code backend.name} service property. */
    public static final String NAME = "opencl";

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.backend.opencl");

    /**
     * How to choose and use a device.
     *
     * @param selector     which device
     * @param memoryLimit  bytes of device memory the backend may hold; 0: the device's global memory
     * @param buildOptions extra options for every program build (for example {@code -cl-mad-enable})
     */
    public record Options(DeviceSelector selector, long memoryLimit, String buildOptions) {
        public Options {
            if (memoryLimit < 0) {
                throw new IllegalArgumentException("opencl memory limit must be positive, or 0 for the device's, not "
                        + memoryLimit);
            }
            buildOptions = buildOptions == null ? "" : buildOptions;
        }

        /** Any device (an accelerator first), the device's memory, no extra build options. */
        public static Options defaults() {
            return new Options(DeviceSelector.ANY, 0, "");
        }
    }

    private final List<DeviceInfo> found;
    private final ClContext cl;
    private final GemmKernels gemm;
    private final ElementwiseKernels elementwise;
    private final ReductionKernels reductions;
    private final RowKernels rows;
    private final AttentionKernels attention;
    private final AtomicLong tensorIds = new AtomicLong();
    private long liveTensors;
    private long liveBytes;
    private boolean closed;

    /** The first usable device, an accelerator before a CPU device. */
    public OpenClBackend() {
        this(Options.defaults());
    }

    /**
     * Chooses a device as {@code options} say and opens it.
     *
     * @throws DeviceNotFoundException listing the devices found, when none matches
     */
    public OpenClBackend(Options options) {
        List<Platforms.Found> all = Platforms.all();
        List<DeviceInfo> infos = new ArrayList<>();
        all.forEach(f -> infos.add(f.info()));
        this.found = List.copyOf(infos);
        DeviceInfo chosen = options.selector().choose(infos);
        Platforms.Found target = all.stream().filter(f -> f.info() == chosen).findFirst().orElseThrow();
        this.cl = new ClContext(target, options.memoryLimit(), options.buildOptions());
        this.gemm = new GemmKernels(cl);
        this.elementwise = new ElementwiseKernels(cl);
        this.reductions = new ReductionKernels(cl);
        this.rows = new RowKernels(cl);
        this.attention = new AttentionKernels(cl, gemm, rows);
        LOG.fine(() -> "opencl backend on " + chosen.describe());
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String device() {
        return cl.info.describe();
    }

    /** The device this backend computes on. */
    public DeviceInfo deviceInfo() {
        return cl.info;
    }

    /** Every OpenCL device found when this backend started, on every platform. */
    public List<DeviceInfo> devicesFound() {
        return found;
    }

    /** Every device found, for people: {@code [platform:device] description}, the one in use marked. */
    @Override
    public List<String> devices() {
        List<String> out = new ArrayList<>();
        for (DeviceInfo d : found) {
            boolean used = d.platformIndex() == cl.info.platformIndex() && d.deviceIndex() == cl.info.deviceIndex();
            out.add("[" + d.platformIndex() + ":" + d.deviceIndex() + "] " + d.describe() + (used ? " -- in use" : ""));
        }
        return out;
    }

    /** True on a GPU or accelerator, false on a CPU device such as PoCL's. */
    @Override
    public boolean accelerated() {
        return cl.info.accelerator();
    }

    /** The device context (for this package's tests). */
    ClContext context() {
        return cl;
    }

    /** The memory limit in force, bytes. */
    public long memoryLimit() {
        return cl.memoryLimit();
    }

    // ---- buffers -------------------------------------------------------------------------

    @Override
    public synchronized Tensor allocate(Shape shape, DType dtype) {
        open();
        long bytes = Math.multiplyExact(shape.size(), (long) dtype.bytes());
        long buffer = cl.allocate(bytes, "a " + dtype + " tensor " + shape, liveTensors + " tensors are live, holding "
                + DeviceInfo.bytes(liveBytes));
        long capacity = BufferPool.capacity(bytes);
        try {
            elementwise.fill32(buffer, 0, capacity / 4);                      // zero, as the SPI promises
        } catch (RuntimeException e) {
            cl.free(buffer, capacity);
            throw e;
        }
        liveTensors++;
        liveBytes += bytes;
        return new ClTensor(this, tensorIds.incrementAndGet(), shape, dtype, buffer, capacity);
    }

    /** Called once per tensor, by its first close (under this backend's lock). */
    void release(ClTensor t) {
        liveTensors--;
        liveBytes -= t.bytes();
        if (!closed) {
            cl.free(t.buffer, t.capacity);
        } else {
            org.lwjgl.opencl.CL10.clReleaseMemObject(t.buffer);
        }
    }

    @Override
    public synchronized void write(Tensor dst, long dstOffset, float[] src, int srcOffset, int length) {
        ClTensor t = own(dst);
        checkRange("write", t, dstOffset, length, src.length, srcOffset);
        switch (t.dtype()) {
            case F32 -> {
                long host = ClContext.staging(4L * length);
                try {
                    MemoryUtil.memFloatBuffer(host, length).put(src, srcOffset, length);
                    cl.write(t.buffer, 4 * dstOffset, host, 4L * length);
                } finally {
                    MemoryUtil.nmemFree(host);
                }
            }
            case BF16 -> {
                long host = ClContext.staging(2L * length);
                try {
                    for (int i = 0; i < length; i++) {
                        MemoryUtil.memPutShort(host + 2L * i, Bf16.fromFloat(src[srcOffset + i]));
                    }
                    cl.write(t.buffer, 2 * dstOffset, host, 2L * length);
                } finally {
                    MemoryUtil.nmemFree(host);
                }
            }
            case I32 -> throw new IllegalArgumentException("write copies floats, " + t + " holds ints: use writeInts");
        }
    }

    @Override
    public synchronized void read(Tensor src, long srcOffset, float[] dst, int dstOffset, int length) {
        ClTensor t = own(src);
        checkRange("read", t, srcOffset, length, dst.length, dstOffset);
        switch (t.dtype()) {
            case F32 -> {
                long host = ClContext.staging(4L * length);
                try {
                    cl.read(t.buffer, 4 * srcOffset, host, 4L * length);
                    MemoryUtil.memFloatBuffer(host, length).get(dst, dstOffset, length);
                } finally {
                    MemoryUtil.nmemFree(host);
                }
            }
            case BF16 -> {
                long host = ClContext.staging(2L * length);
                try {
                    cl.read(t.buffer, 2 * srcOffset, host, 2L * length);
                    for (int i = 0; i < length; i++) {
                        dst[dstOffset + i] = Bf16.toFloat(MemoryUtil.memGetShort(host + 2L * i));
                    }
                } finally {
                    MemoryUtil.nmemFree(host);
                }
            }
            case I32 -> throw new IllegalArgumentException("read copies floats, " + t + " holds ints: use readInts");
        }
    }

    @Override
    public synchronized void writeInts(Tensor dst, long dstOffset, int[] src, int srcOffset, int length) {
        ClTensor t = own(dst);
        requireInts("writeInts", t);
        checkRange("writeInts", t, dstOffset, length, src.length, srcOffset);
        long host = ClContext.staging(4L * length);
        try {
            MemoryUtil.memIntBuffer(host, length).put(src, srcOffset, length);
            cl.write(t.buffer, 4 * dstOffset, host, 4L * length);
        } finally {
            MemoryUtil.nmemFree(host);
        }
    }

    @Override
    public synchronized void readInts(Tensor src, long srcOffset, int[] dst, int dstOffset, int length) {
        ClTensor t = own(src);
        requireInts("readInts", t);
        checkRange("readInts", t, srcOffset, length, dst.length, dstOffset);
        long host = ClContext.staging(4L * length);
        try {
            cl.read(t.buffer, 4 * srcOffset, host, 4L * length);
            MemoryUtil.memIntBuffer(host, length).get(dst, dstOffset, length);
        } finally {
            MemoryUtil.nmemFree(host);
        }
    }

    private static void requireInts(String op, ClTensor t) {
        if (t.dtype() != DType.I32) {
            throw new IllegalArgumentException(op + " copies ints, " + t + " holds " + t.dtype());
        }
    }

    private static void checkRange(String op, ClTensor t, long offset, int length, int arrayLength, int arrayOffset) {
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
    public synchronized long liveTensors() {
        return liveTensors;
    }

    @Override
    public synchronized long liveBytes() {
        return liveBytes;
    }

    /** Bytes of device memory the backend holds: live tensors, scratch and pooled buffers. */
    public synchronized long deviceBytes() {
        return cl.deviceBytes();
    }

    /** Bytes of free buffers kept in the pool for reuse. */
    public synchronized long pooledBytes() {
        return cl.pooledBytes();
    }

    /**
     * Device time per kernel since the last call, when profiling is on (system property
     * {@code cornerstone.opencl.profile=true}); otherwise says how to turn it on.
     */
    public synchronized String profile() {
        open();
        if (cl.profiler == null) {
            return "opencl profiling is off: run with -D" + Profiler.PROPERTY + "=true";
        }
        cl.finish();
        return cl.profiler.report();
    }

    /** Waits until every command enqueued so far has run (for benchmarks; the SPI never needs it). */
    public synchronized void finish() {
        open();
        cl.finish();
    }

    // ---- kernels -------------------------------------------------------------------------

    @Override
    public synchronized void fill(Tensor t, float value) {
        ClTensor c = own(t);
        switch (c.dtype()) {
            case F32 -> elementwise.fill32(c.buffer, Float.floatToRawIntBits(value), c.size());
            case I32 -> elementwise.fill32(c.buffer, (int) value, c.size());
            case BF16 -> {
                try (MemoryStack stack = MemoryStack.stackPush()) {
                    cl.fill(c.buffer, stack.malloc(2).putShort(0, Bf16.fromFloat(value)), 0, c.bytes());
                }
            }
        }
    }

    @Override
    public synchronized void copy(Tensor src, Tensor dst) {
        ClTensor s = own(src);
        cl.copy(s.buffer, own(dst).buffer, 0, 0, s.bytes());
    }

    @Override
    public synchronized void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                                  Tensor a, long aOffset, long strideA, Tensor b, long bOffset, long strideB,
                                  float beta, Tensor c, long cOffset, long strideC) {
        gemm.gemm(transA, transB, 1, batch, m, n, k, alpha,
                new Operand(mem(a), aOffset, transA ? m : k, 0, strideA),
                new Operand(mem(b), bOffset, transB ? k : n, 0, strideB), beta,
                new Operand(mem(c), cOffset, n, 0, strideC));
    }

    @Override
    public synchronized void add(Tensor a, Tensor b, Tensor out) {
        elementwise.binary("add", mem(a), a.size(), mem(b), b.size(), mem(out));
    }

    @Override
    public synchronized void mul(Tensor a, Tensor b, Tensor out) {
        elementwise.binary("mul", mem(a), a.size(), mem(b), b.size(), mem(out));
    }

    @Override
    public synchronized void scale(Tensor x, float alpha, Tensor out) {
        elementwise.scale(mem(x), alpha, mem(out), x.size());
    }

    @Override
    public synchronized void axpy(float alpha, Tensor x, Tensor y) {
        elementwise.axpy(alpha, mem(x), mem(y), x.size());
    }

    @Override
    public synchronized void sumRows(Tensor x, Tensor out) {
        int cols = (int) out.size();
        reductions.sumRows(mem(x), mem(out), cols, cols == 0 ? 0 : x.size() / cols);
    }

    @Override
    public synchronized void geluForward(Tensor x, Tensor out) {
        elementwise.geluForward(mem(x), mem(out), x.size());
    }

    @Override
    public synchronized void geluBackward(Tensor x, Tensor dout, Tensor dx) {
        elementwise.geluBackward(mem(x), mem(dout), mem(dx), x.size());
    }

    @Override
    public synchronized void layerNormForward(Tensor x, Tensor weight, Tensor bias, Tensor out, Tensor mean,
                                              Tensor rstd, float eps) {
        int c = (int) weight.size();
        rows.layerNormForward(mem(x), mem(weight), mem(bias), mem(out), mem(mean), mem(rstd), rowsOf(x, c), c, eps);
    }

    @Override
    public synchronized void layerNormBackward(Tensor dout, Tensor x, Tensor weight, Tensor mean, Tensor rstd,
                                               Tensor dx, Tensor dweight, Tensor dbias) {
        int c = (int) weight.size();
        rows.layerNormBackward(mem(dout), mem(x), mem(weight), mem(mean), mem(rstd), mem(dx), mem(dweight),
                mem(dbias), rowsOf(x, c), c);
    }

    @Override
    public synchronized void attentionForward(Tensor qkv, Tensor att, Tensor out, int b, int t, int c, int nh) {
        attention.forward(mem(qkv), mem(att), mem(out), b, t, c, nh);
    }

    @Override
    public synchronized void attentionBackward(Tensor dout, Tensor qkv, Tensor att, Tensor dqkv, int b, int t, int c,
                                               int nh) {
        attention.backward(mem(dout), mem(qkv), mem(att), mem(dqkv), b, t, c, nh);
    }

    @Override
    public synchronized void embeddingForward(Tensor ids, Tensor table, Tensor out) {
        rows.embeddingForward(mem(ids), mem(table), mem(out), (int) ids.size(), table.shape().dim(-1));
    }

    @Override
    public synchronized void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable) {
        rows.embeddingBackward(mem(ids), mem(dout), mem(dtable), (int) ids.size(), dtable.shape().dim(-1));
    }

    @Override
    public synchronized void crossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor losses) {
        int n = (int) targets.size();
        rows.crossEntropyForward(mem(logits), mem(targets), mem(probs), mem(losses), n, rowsOf(logits, n));
    }

    @Override
    public synchronized void crossEntropyBackward(Tensor probs, Tensor targets, Tensor dlosses, Tensor dlogits) {
        int n = (int) targets.size();
        rows.crossEntropyBackward(mem(probs), mem(targets), mem(dlosses), mem(dlogits), n, rowsOf(probs, n));
    }

    @Override
    public synchronized void dropoutForward(Tensor x, Tensor mask, Tensor out, float p, long seed) {
        elementwise.dropout(mem(x), mem(mask), mem(out), p, seed, x.size());
    }

    @Override
    public synchronized void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1,
                                       float beta2, float eps, float weightDecay, int step) {
        elementwise.adamw(mem(param), mem(grad), mem(m), mem(v), lr, beta1, beta2, eps, weightDecay, step,
                param.size());
    }

    @Override
    public synchronized void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum,
                                     boolean nesterov, float weightDecay, boolean firstStep) {
        elementwise.sgd(mem(param), mem(grad), momentumBuffer == null ? 0 : mem(momentumBuffer), lr, momentum,
                nesterov, weightDecay, firstStep, param.size());
    }

    @Override
    public synchronized double sum(Tensor x) {
        return reductions.sum(mem(x), x.size(), false);
    }

    @Override
    public synchronized double sumOfSquares(Tensor x) {
        return reductions.sum(mem(x), x.size(), true);
    }

    @Override
    public synchronized void cast(Tensor src, Tensor dst) {
        ClTensor s = own(src);
        ClTensor d = own(dst);
        if (s.dtype() == d.dtype()) {
            cl.copy(s.buffer, d.buffer, 0, 0, s.bytes());
        } else if (s.dtype() == DType.F32 && d.dtype() == DType.BF16) {
            elementwise.toBf16(s.buffer, d.buffer, s.size());
        } else if (s.dtype() == DType.BF16 && d.dtype() == DType.F32) {
            elementwise.toF32(s.buffer, d.buffer, s.size());
        } else {
            throw new IllegalArgumentException("cast converts between F32 and BF16, not " + s + " to " + d);
        }
    }

    // ---- helpers -------------------------------------------------------------------------

    private void open() {
        if (closed) {
            throw new IllegalStateException("the opencl backend is closed");
        }
    }

    private ClTensor own(Tensor t) {
        open();
        if (t instanceof ClTensor c && c.backend() == this) {
            if (c.isClosed()) {
                throw new IllegalStateException(c + " is closed");
            }
            return c;
        }
        throw new IllegalArgumentException(t + " does not belong to this opencl backend");
    }

    private long mem(Tensor t) {
        return own(t).buffer;
    }

    private static int rowsOf(Tensor t, long rowLength) {
        return rowLength == 0 ? 0 : (int) (t.size() / rowLength);
    }

    /**
     * Waits for the queue, frees the pool, the programs, the queue and the context. Tensors still
     * open are reported; their buffers are released when they are closed.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        cl.close();
        if (liveTensors > 0) {
            LOG.warning("opencl backend closed with " + liveTensors + " tensors (" + DeviceInfo.bytes(liveBytes)
                    + ") still open: close them to free their device memory");
        }
    }

    @Override
    public String toString() {
        return "OpenClBackend[" + cl.info.name() + "]";
    }
}

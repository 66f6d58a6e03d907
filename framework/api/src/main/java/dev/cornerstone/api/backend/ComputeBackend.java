package dev.cornerstone.api.backend;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import org.osgi.annotation.versioning.ConsumerType;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * A compute backend: an allocator and a short list of kernels (tinygrad's "small compute
 * surface"). Registered as an OSGi service with the property {@code backend.name}.
 *
 * <p>Contract shared by every kernel: arguments were validated by the backend-neutral layer
 * (shapes, dtypes, owning backend), so a kernel trusts them. Tensors are dense and
 * row-major; {@code F32} unless stated. Kernels named {@code ...Backward} <em>accumulate</em>
 * into their gradient outputs ({@code dx += ...}), as a value used twice must receive both
 * gradients; every other kernel overwrites its output. The element-wise kernels ({@code add},
 * {@code mul}, {@code scale}, {@code axpy}, {@code copy}) accept an output that is also one of
 * their inputs.
 *
 * <p>Dimension legend: {@code B} batch, {@code T} time, {@code C} channels, {@code NH} heads,
 * {@code HS = C / NH} head size, {@code V} vocabulary, {@code N} rows.
 */
@ConsumerType
public interface ComputeBackend {

    /** The {@code backend.name} of this backend, for example {@code cpu}. */
    String name();

    /** What it computes on, for people: for example {@code "CPU, 2 threads, OpenBLAS 0.3.21"}. */
    String device();

    /**
     * Every device this backend found and could compute on, for people, one line each, the one it
     * uses among them (for example every OpenCL device of every platform). By default just
     * {@link #device()}.
     */
    default List<String> devices() {
        return List.of(device());
    }

    /**
     * Whether it computes on an accelerator (a GPU, or an OpenCL accelerator) rather than on the
     * host's CPU cores. {@code backend.name: auto} takes an accelerated backend first and otherwise
     * {@code cpu}, which beats a CPU OpenCL device such as PoCL on the same cores.
     */
    default boolean accelerated() {
        return false;
    }

    /** Whether this backend implements {@code kernel}. */
    default boolean supports(Kernel kernel) {
        return true;
    }

    /** Why {@code kernel} is not supported; null when it is. */
    default String unsupportedReason(Kernel kernel) {
        return supports(kernel) ? null : name() + " does not implement " + kernel;
    }

    // ---- buffers -------------------------------------------------------------------------

    /** A new zero-filled tensor. */
    Tensor allocate(Shape shape, DType dtype);

    /**
     * A new tensor whose contents are unspecified, for the output of a kernel that writes every
     * element before anything reads it (most forward outputs): a backend may skip the zero fill.
     * Never for a tensor something accumulates into. The default is {@link #allocate}.
     */
    default Tensor allocateUninitialized(Shape shape, DType dtype) {
        return allocate(shape, dtype);
    }

    /** Copies {@code length} floats from {@code src[srcOffset..]} to element {@code dstOffset} of {@code dst}. */
    void write(Tensor dst, long dstOffset, float[] src, int srcOffset, int length);

    /** Copies {@code length} elements from element {@code srcOffset} of {@code src} into {@code dst[dstOffset..]}. */
    void read(Tensor src, long srcOffset, float[] dst, int dstOffset, int length);

    /**
     * Copies {@code length} elements from element {@code srcOffset} of {@code src} into
     * {@code dst} from byte {@code dstByteOffset} on, as little-endian floats (the layout of
     * the cluster's off-heap collectives). The default reads through a {@code float[]}; a
     * backend whose tensors are host memory copies straight into the segment.
     */
    default void read(Tensor src, long srcOffset, MemorySegment dst, long dstByteOffset, int length) {
        float[] a = new float[length];
        read(src, srcOffset, a, 0, length);
        MemorySegment.copy(a, 0, dst, LE_FLOAT, dstByteOffset, length);
    }

    /** The inverse of {@link #read(Tensor, long, MemorySegment, long, int)}: little-endian floats into {@code dst}. */
    default void write(Tensor dst, long dstOffset, MemorySegment src, long srcByteOffset, int length) {
        float[] a = new float[length];
        MemorySegment.copy(src, LE_FLOAT, srcByteOffset, a, 0, length);
        write(dst, dstOffset, a, 0, length);
    }

    /** Little-endian floats at any byte offset: the element layout of the segment copies. */
    ValueLayout.OfFloat LE_FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    /** As {@link #write(Tensor, long, float[], int, int)}, for {@code I32} tensors. */
    void writeInts(Tensor dst, long dstOffset, int[] src, int srcOffset, int length);

    /** As {@link #read(Tensor, long, float[], int, int)}, for {@code I32} tensors. */
    void readInts(Tensor src, long srcOffset, int[] dst, int dstOffset, int length);

    /** Tensors allocated and not yet closed: a leak test checks it returns to its start value. */
    long liveTensors();

    /** Bytes held by live tensors. */
    long liveBytes();

    // ---- kernels -------------------------------------------------------------------------

    /** Every element of {@code t} set to {@code value}. */
    void fill(Tensor t, float value);

    /** {@code dst = src}; same size. */
    void copy(Tensor src, Tensor dst);

    /**
     * Batched, strided GEMM: for each {@code i < batch},
     * {@code C_i = alpha * op(A_i) * op(B_i) + beta * C_i}, with {@code op(A_i)} m×k,
     * {@code op(B_i)} k×n, {@code C_i} m×n, all row-major. {@code A_i} starts at element
     * {@code aOffset + i * strideA} of {@code a} and is stored m×k, or k×m when
     * {@code transA}; likewise {@code B_i} (k×n, or n×k when {@code transB}) and {@code C_i}.
     * With {@code beta == 0} the old content of C is ignored (even NaN).
     */
    void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
              Tensor a, long aOffset, long strideA, Tensor b, long bOffset, long strideB,
              float beta, Tensor c, long cOffset, long strideC);

    /** {@code out = a + b}, where {@code b} repeats over the leading dimensions of {@code a} (b.size divides a.size). */
    void add(Tensor a, Tensor b, Tensor out);

    /** {@code out = a * b} element-wise, {@code b} repeating as in {@link #add}. */
    void mul(Tensor a, Tensor b, Tensor out);

    /** {@code out = alpha * x}. */
    void scale(Tensor x, float alpha, Tensor out);

    /** {@code y += alpha * x}; same size. */
    void axpy(float alpha, Tensor x, Tensor y);

    /** {@code out[j] += sum_i x[i, j]} for x seen as (N, out.size): the backward of a broadcast add. */
    void sumRows(Tensor x, Tensor out);

    /** {@code out = GELU(x)}, tanh approximation (Hendrycks and Gimpel 2016, as GPT-2). */
    void geluForward(Tensor x, Tensor out);

    /** {@code dx += GELU'(x) * dout}. */
    void geluBackward(Tensor x, Tensor dout, Tensor dx);

    /**
     * LayerNorm over the last dimension (Ba et al. 2016): x (N, C), weight and bias (C);
     * writes out (N, C) and, for the backward pass, mean and rstd (N).
     */
    void layerNormForward(Tensor x, Tensor weight, Tensor bias, Tensor out, Tensor mean, Tensor rstd, float eps);

    /** Gradients of {@link #layerNormForward}: {@code dx, dweight, dbias +=}. */
    void layerNormBackward(Tensor dout, Tensor x, Tensor weight, Tensor mean, Tensor rstd,
                           Tensor dx, Tensor dweight, Tensor dbias);

    /**
     * Causal multi-head self-attention core (Vaswani et al. 2017), scaled by 1/sqrt(HS):
     * qkv (B, T, 3C) holds q, k, v side by side; writes the softmax probabilities att
     * (B, NH, T, T) (zero above the diagonal) and out (B, T, C).
     */
    void attentionForward(Tensor qkv, Tensor att, Tensor out, int b, int t, int c, int nh);

    /** Gradient of {@link #attentionForward}: {@code dqkv +=}. */
    void attentionBackward(Tensor dout, Tensor qkv, Tensor att, Tensor dqkv, int b, int t, int c, int nh);

    /** {@code out[i] = table[ids[i]]}: ids I32 (N), table (V, C), out (N, C). */
    void embeddingForward(Tensor ids, Tensor table, Tensor out);

    /** {@code dtable[ids[i]] += dout[i]}. */
    void embeddingBackward(Tensor ids, Tensor dout, Tensor dtable);

    /**
     * Fused softmax and cross-entropy: logits (N, V), targets I32 (N); writes probs (N, V)
     * and losses (N) = -log probs[i, targets[i]]. A negative target is ignored: its loss is 0.
     */
    void crossEntropyForward(Tensor logits, Tensor targets, Tensor probs, Tensor losses);

    /** {@code dlogits[i] += (probs[i] - onehot(targets[i])) * dlosses[i]}; ignored rows get nothing. */
    void crossEntropyBackward(Tensor probs, Tensor targets, Tensor dlosses, Tensor dlogits);

    /**
     * Inverted dropout: {@code mask[i]} is {@code 1/(1-p)} with probability {@code 1-p}, else 0,
     * drawn from a generator seeded by {@code seed} (the same seed gives the same mask on every
     * backend that implements it); {@code out = x * mask}.
     */
    void dropoutForward(Tensor x, Tensor mask, Tensor out, float p, long seed);

    /**
     * One fused AdamW update (Loshchilov and Hutter 2019) of {@code param} from {@code grad},
     * with moments m and v, step number {@code step} (1-based, for bias correction) and
     * decoupled weight decay.
     */
    void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, float lr, float beta1, float beta2, float eps,
                   float weightDecay, int step);

    /** One fused SGD update with momentum (PyTorch's formulation), optionally Nesterov, and L2 weight decay. */
    void sgdStep(Tensor param, Tensor grad, Tensor momentumBuffer, float lr, float momentum, boolean nesterov,
                 float weightDecay, boolean firstStep);

    /** Sum of all elements, accumulated in double. */
    double sum(Tensor x);

    /** Sum of squares of all elements, accumulated in double (for clipping by global norm). */
    double sumOfSquares(Tensor x);

    /** Converts between F32 and BF16 (round to nearest even); same size. */
    void cast(Tensor src, Tensor dst);
}

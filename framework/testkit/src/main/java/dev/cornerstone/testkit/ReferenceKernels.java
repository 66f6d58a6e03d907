package dev.cornerstone.testkit;

/**
 * The plain Java reference of every kernel of {@code ComputeBackend}, on arrays: one obvious
 * loop per formula, single-threaded, no tiling, sums in double where the length of a sum grows
 * with the input. It is the oracle the tests hold the fast kernels to (never the other way
 * round), and it is kept for good: a new kernel starts here. Layernorm, attention, GELU and the
 * fused softmax cross-entropy follow Karpathy's llm.c {@code train_gpt2.c} loop for loop.
 *
 * <p>Dimension legend: {@code B} batch, {@code T} time, {@code C} channels, {@code NH} heads,
 * {@code HS = C / NH} head size, {@code V} vocabulary, {@code N} rows, {@code M} columns.
 *
 * <p>Arguments mirror the {@code ComputeBackend} methods of the same name, with arrays for
 * tensors; like the kernels, these trust their arguments. Backward methods add into their
 * gradient arrays.
 *
 * <p>It lives in the test kit, not in a backend, so that every backend's tests (the cpu
 * backend's included) can hold their kernels to it without a cycle between modules;
 * {@link ReferenceBackend} runs it behind the {@code ComputeBackend} SPI for the
 * {@link BackendParitySuite}.
 */
public final class ReferenceKernels {

    private ReferenceKernels() {
    }

    // ---- fill, copy, GEMM ------------------------------------------------------------------

    public static void fill(float[] t, float value) {
        for (int i = 0; i < t.length; i++) {
            t[i] = value;
        }
    }

    public static void copy(float[] src, float[] dst) {
        for (int i = 0; i < src.length; i++) {
            dst[i] = src[i];
        }
    }

    /**
     * For each {@code i < batch}: {@code C_i = alpha op(A_i) op(B_i) + beta C_i}, row-major,
     * A_i stored m×k (k×m when transA) from {@code aOffset + i strideA}, B_i k×n (n×k when
     * transB), C_i m×n; each element a double dot product. With beta 0, C is not read.
     */
    public static void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                            float[] a, long aOffset, long strideA, float[] b, long bOffset, long strideB,
                            float beta, float[] c, long cOffset, long strideC) {
        for (int bi = 0; bi < batch; bi++) {
            int a0 = (int) (aOffset + bi * strideA);
            int b0 = (int) (bOffset + bi * strideB);
            int c0 = (int) (cOffset + bi * strideC);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        float av = transA ? a[a0 + p * m + i] : a[a0 + i * k + p];
                        float bv = transB ? b[b0 + j * k + p] : b[b0 + p * n + j];
                        acc += (double) av * bv;
                    }
                    int ci = c0 + i * n + j;
                    double old = beta == 0f ? 0.0 : (double) beta * c[ci];
                    c[ci] = (float) (alpha * acc + old);
                }
            }
        }
    }

    // ---- element-wise and reductions -------------------------------------------------------

    /** out = a + b, b (M) repeating over a (N). */
    public static void add(float[] a, float[] b, float[] out) {
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i % b.length];
        }
    }

    /** out = a * b, b (M) repeating over a (N). */
    public static void mul(float[] a, float[] b, float[] out) {
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] * b[i % b.length];
        }
    }

    public static void scale(float[] x, float alpha, float[] out) {
        for (int i = 0; i < x.length; i++) {
            out[i] = alpha * x[i];
        }
    }

    /** y += alpha x. */
    public static void axpy(float alpha, float[] x, float[] y) {
        for (int i = 0; i < x.length; i++) {
            y[i] += alpha * x[i];
        }
    }

    /** out[j] += sum_i x[i, j]: x (N, M), out (M). */
    public static void sumRows(float[] x, float[] out) {
        int m = out.length;
        int rows = x.length / m;
        for (int j = 0; j < m; j++) {
            double s = 0;
            for (int i = 0; i < rows; i++) {
                s += x[i * m + j];
            }
            out[j] += (float) s;
        }
    }

    public static double sum(float[] x) {
        double s = 0;
        for (float v : x) {
            s += v;
        }
        return s;
    }

    public static double sumOfSquares(float[] x) {
        double s = 0;
        for (float v : x) {
            s += (double) v * v;
        }
        return s;
    }

    // ---- GELU ------------------------------------------------------------------------------

    private static final double GELU_SCALING = Math.sqrt(2.0 / Math.PI);

    /** out = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), in double (Hendrycks and Gimpel 2016). */
    public static void geluForward(float[] x, float[] out) {
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            double cube = 0.044715 * v * v * v;
            out[i] = (float) (0.5 * v * (1.0 + Math.tanh(GELU_SCALING * (v + cube))));
        }
    }

    /** dx += GELU'(x) dout, as llm.c's gelu_backward (sech from cosh), in double. */
    public static void geluBackward(float[] x, float[] dout, float[] dx) {
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            double cube = 0.044715 * v * v * v;
            double tanhArg = GELU_SCALING * (v + cube);
            double tanhOut = Math.tanh(tanhArg);
            double coshOut = Math.cosh(tanhArg);
            double sechOut = 1.0 / (coshOut * coshOut);
            double localGrad = 0.5 * (1.0 + tanhOut) + v * 0.5 * sechOut * GELU_SCALING * (1.0 + 3.0 * 0.044715 * v * v);
            dx[i] += (float) (localGrad * dout[i]);
        }
    }

    // ---- LayerNorm -------------------------------------------------------------------------

    /** x (N, C), weight and bias (C) → out (N, C), mean and rstd (N); statistics in double (Ba et al. 2016). */
    public static void layerNormForward(float[] x, float[] weight, float[] bias, float[] out, float[] mean,
                                        float[] rstd, float eps) {
        int c = weight.length;
        int rows = mean.length;
        for (int r = 0; r < rows; r++) {
            int base = r * c;
            double m = 0;
            for (int i = 0; i < c; i++) {
                m += x[base + i];
            }
            m = m / c;
            double v = 0;
            for (int i = 0; i < c; i++) {
                double shift = x[base + i] - m;
                v += shift * shift;
            }
            v = v / c;
            float s = (float) (1.0 / Math.sqrt(v + eps));
            float mf = (float) m;
            for (int i = 0; i < c; i++) {
                float norm = s * (x[base + i] - mf);
                out[base + i] = norm * weight[i] + bias[i];
            }
            mean[r] = mf;
            rstd[r] = s;
        }
    }

    /** dx (N, C), dweight and dbias (C) += the gradients of {@link #layerNormForward}, as llm.c. */
    public static void layerNormBackward(float[] dout, float[] x, float[] weight, float[] mean, float[] rstd,
                                         float[] dx, float[] dweight, float[] dbias) {
        int c = weight.length;
        int rows = mean.length;
        double[] dw = new double[c];
        double[] db = new double[c];
        for (int r = 0; r < rows; r++) {
            int base = r * c;
            double dnormMean = 0;
            double dnormNormMean = 0;
            for (int i = 0; i < c; i++) {
                double norm = (x[base + i] - mean[r]) * (double) rstd[r];
                double dnorm = (double) weight[i] * dout[base + i];
                dnormMean += dnorm;
                dnormNormMean += dnorm * norm;
            }
            dnormMean /= c;
            dnormNormMean /= c;
            for (int i = 0; i < c; i++) {
                double norm = (x[base + i] - mean[r]) * (double) rstd[r];
                double dnorm = (double) weight[i] * dout[base + i];
                db[i] += dout[base + i];
                dw[i] += norm * dout[base + i];
                double dval = dnorm;
                dval -= dnormMean;
                dval -= norm * dnormNormMean;
                dval *= rstd[r];
                dx[base + i] += (float) dval;
            }
        }
        for (int i = 0; i < c; i++) {
            dweight[i] += (float) dw[i];
            dbias[i] += (float) db[i];
        }
    }

    // ---- attention -------------------------------------------------------------------------

    /**
     * Causal self-attention (Vaswani et al. 2017), llm.c's attention_forward: qkv (B, T, 3C)
     * with q, k, v at channel offsets 0, C, 2C and head h at h·HS within each; att (B, NH, T, T)
     * gets the softmax probabilities (zero above the diagonal); out (B, T, C).
     */
    public static void attentionForward(float[] qkv, float[] att, float[] out, int b, int t, int c, int nh) {
        int c3 = 3 * c;
        int hs = c / nh;
        double scale = 1.0 / Math.sqrt(hs);
        double[] preatt = new double[t];
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t; ti++) {
                for (int h = 0; h < nh; h++) {
                    int query = bi * t * c3 + ti * c3 + h * hs;
                    int attRow = bi * nh * t * t + h * t * t + ti * t;
                    // pass 1: q . k and the maximum
                    double max = Double.NEGATIVE_INFINITY;
                    for (int t2 = 0; t2 <= ti; t2++) {
                        int key = bi * t * c3 + t2 * c3 + h * hs + c;
                        double val = 0;
                        for (int i = 0; i < hs; i++) {
                            val += (double) qkv[query + i] * qkv[key + i];
                        }
                        val *= scale;
                        max = Math.max(max, val);
                        preatt[t2] = val;
                    }
                    // pass 2 and 3: softmax, masked
                    double expSum = 0;
                    for (int t2 = 0; t2 <= ti; t2++) {
                        preatt[t2] = Math.exp(preatt[t2] - max);
                        expSum += preatt[t2];
                    }
                    double expSumInv = expSum == 0 ? 0 : 1.0 / expSum;
                    for (int t2 = 0; t2 < t; t2++) {
                        att[attRow + t2] = t2 <= ti ? (float) (preatt[t2] * expSumInv) : 0f;
                    }
                    // pass 4: weighted sum of the values
                    int o = bi * t * c + ti * c + h * hs;
                    for (int i = 0; i < hs; i++) {
                        double acc = 0;
                        for (int t2 = 0; t2 <= ti; t2++) {
                            int value = bi * t * c3 + t2 * c3 + h * hs + 2 * c;
                            acc += (double) att[attRow + t2] * qkv[value + i];
                        }
                        out[o + i] = (float) acc;
                    }
                }
            }
        }
    }

    /** dqkv (B, T, 3C) += the gradient of {@link #attentionForward}, llm.c's attention_backward. */
    public static void attentionBackward(float[] dout, float[] qkv, float[] att, float[] dqkv,
                                         int b, int t, int c, int nh) {
        int c3 = 3 * c;
        int hs = c / nh;
        double scale = 1.0 / Math.sqrt(hs);
        double[] dqkvAcc = new double[dqkv.length];
        double[] datt = new double[t];
        double[] dpreatt = new double[t];
        for (int bi = 0; bi < b; bi++) {
            for (int ti = 0; ti < t; ti++) {
                for (int h = 0; h < nh; h++) {
                    int attRow = bi * nh * t * t + h * t * t + ti * t;
                    int query = bi * t * c3 + ti * c3 + h * hs;
                    int d = bi * t * c + ti * c + h * hs;
                    java.util.Arrays.fill(datt, 0);
                    java.util.Arrays.fill(dpreatt, 0);
                    // backward pass 4, through the value accumulation
                    for (int t2 = 0; t2 <= ti; t2++) {
                        int value = bi * t * c3 + t2 * c3 + h * hs + 2 * c;
                        for (int i = 0; i < hs; i++) {
                            datt[t2] += (double) qkv[value + i] * dout[d + i];
                            dqkvAcc[value + i] += (double) att[attRow + t2] * dout[d + i];
                        }
                    }
                    // backward pass 2 and 3, the softmax
                    for (int t2 = 0; t2 <= ti; t2++) {
                        for (int t3 = 0; t3 <= ti; t3++) {
                            double indicator = t2 == t3 ? 1.0 : 0.0;
                            double localDerivative = att[attRow + t2] * (indicator - att[attRow + t3]);
                            dpreatt[t3] += localDerivative * datt[t2];
                        }
                    }
                    // backward pass 1, the query @ key matmul
                    for (int t2 = 0; t2 <= ti; t2++) {
                        int key = bi * t * c3 + t2 * c3 + h * hs + c;
                        for (int i = 0; i < hs; i++) {
                            dqkvAcc[query + i] += qkv[key + i] * dpreatt[t2] * scale;
                            dqkvAcc[key + i] += qkv[query + i] * dpreatt[t2] * scale;
                        }
                    }
                }
            }
        }
        for (int i = 0; i < dqkv.length; i++) {
            dqkv[i] += (float) dqkvAcc[i];
        }
    }

    // ---- embedding -------------------------------------------------------------------------

    /** out (N, C) = table (V, C) [ids (N)]. */
    public static void embeddingForward(int[] ids, float[] table, float[] out) {
        int c = out.length / Math.max(1, ids.length);
        for (int i = 0; i < ids.length; i++) {
            for (int j = 0; j < c; j++) {
                out[i * c + j] = table[ids[i] * c + j];
            }
        }
    }

    /** dtable[ids[i]] += dout[i], in index order. */
    public static void embeddingBackward(int[] ids, float[] dout, float[] dtable) {
        int c = dout.length / Math.max(1, ids.length);
        for (int i = 0; i < ids.length; i++) {
            for (int j = 0; j < c; j++) {
                dtable[ids[i] * c + j] += dout[i * c + j];
            }
        }
    }

    // ---- cross-entropy ---------------------------------------------------------------------

    /**
     * logits (N, V), targets (N) → probs (N, V) = softmax(logits), losses (N) = -log
     * probs[target], all in double; a negative target is ignored (loss 0).
     */
    public static void crossEntropyForward(float[] logits, int[] targets, float[] probs, float[] losses) {
        int rows = targets.length;
        int v = logits.length / Math.max(1, rows);
        for (int r = 0; r < rows; r++) {
            int base = r * v;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, logits[base + j]);
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(logits[base + j] - max);
            }
            for (int j = 0; j < v; j++) {
                probs[base + j] = (float) (Math.exp(logits[base + j] - max) / sum);
            }
            int target = targets[r];
            // -log(exp(l_t - max) / sum), without the round trip through a float probability
            losses[r] = target < 0 ? 0f : (float) (Math.log(sum) - (logits[base + target] - max));
        }
    }

    /** dlogits (N, V) += (probs - onehot(target)) dloss; rows with a negative target get nothing. */
    public static void crossEntropyBackward(float[] probs, int[] targets, float[] dlosses, float[] dlogits) {
        int rows = targets.length;
        int v = probs.length / Math.max(1, rows);
        for (int r = 0; r < rows; r++) {
            int target = targets[r];
            if (target < 0) {
                continue;
            }
            for (int j = 0; j < v; j++) {
                double indicator = j == target ? 1.0 : 0.0;
                dlogits[r * v + j] += (float) ((probs[r * v + j] - indicator) * dlosses[r]);
            }
        }
    }

    // ---- dropout ---------------------------------------------------------------------------

    /**
     * mask[i] = 1/(1-p) when the i-th SplitMix64 output from {@code seed}, as a 24-bit uniform in
     * [0, 1), is at least p, else 0; out = x mask. The generator, written out step by step:
     * state_i = seed + (i+1) γ with γ = 0x9E3779B97F4A7C15; then the SplitMix64 finaliser.
     */
    public static void dropoutForward(float[] x, float[] mask, float[] out, float p, long seed) {
        float kept = 1f / (1f - p);
        for (int i = 0; i < x.length; i++) {
            long state = seed + (i + 1L) * 0x9E3779B97F4A7C15L;
            long z = state;
            z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
            z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
            z = z ^ (z >>> 31);
            int top24 = (int) (z >>> 40);
            float uniform = top24 / 16777216f;
            mask[i] = uniform >= p ? kept : 0f;
            out[i] = x[i] * mask[i];
        }
    }

    // ---- optimizers ------------------------------------------------------------------------

    /** AdamW (Loshchilov and Hutter 2019) as llm.c's gpt2_update; step is 1-based. */
    public static void adamwStep(float[] param, float[] grad, float[] m, float[] v, float lr, float beta1, float beta2,
                                 float eps, float weightDecay, int step) {
        for (int i = 0; i < param.length; i++) {
            float g = grad[i];
            float mi = beta1 * m[i] + (1f - beta1) * g;
            float vi = beta2 * v[i] + (1f - beta2) * g * g;
            float mhat = mi / (float) (1.0 - Math.pow(beta1, step));
            float vhat = vi / (float) (1.0 - Math.pow(beta2, step));
            m[i] = mi;
            v[i] = vi;
            param[i] -= lr * (mhat / ((float) Math.sqrt(vhat) + eps) + weightDecay * param[i]);
        }
    }

    /** SGD as torch.optim.SGD (dampening 0); without momentum, buffer is not touched and may be null. */
    public static void sgdStep(float[] param, float[] grad, float[] buffer, float lr, float momentum, boolean nesterov,
                               float weightDecay, boolean firstStep) {
        for (int i = 0; i < param.length; i++) {
            float g = grad[i] + weightDecay * param[i];
            if (momentum != 0f) {
                buffer[i] = firstStep ? g : momentum * buffer[i] + g;
                g = nesterov ? g + momentum * buffer[i] : buffer[i];
            }
            param[i] -= lr * g;
        }
    }

    // ---- BF16 ------------------------------------------------------------------------------

    /** BF16 bits of f: the upper half of its bits, rounded to nearest, ties to even; NaN stays (quiet) NaN. */
    public static short toBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int upper = bits >>> 16;
        int lower = bits & 0xFFFF;
        if (Float.isNaN(f)) {
            return (short) (upper | 0x40);
        }
        if (lower > 0x8000 || (lower == 0x8000 && (upper & 1) == 1)) {
            upper++;
        }
        return (short) upper;
    }

    public static float fromBf16(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    public static void castToBf16(float[] src, short[] dst) {
        for (int i = 0; i < src.length; i++) {
            dst[i] = toBf16(src[i]);
        }
    }

    public static void castToF32(short[] src, float[] dst) {
        for (int i = 0; i < src.length; i++) {
            dst[i] = fromBf16(src[i]);
        }
    }
}

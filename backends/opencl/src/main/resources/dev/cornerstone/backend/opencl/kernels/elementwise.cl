// Element-wise kernels. Each work-item takes a chunk of 16 consecutive elements as one float16
// (one AVX-512 register on a CPU device, whose math library then works on whole vectors), and
// the last, partial chunk element by element; the formulas are written once, as macros, for
// both. An output may be one of the inputs: every work-item reads its elements before it writes
// them. n is the element count; global size ceil(n / 16).

#define CHUNK 16

// A kernel body over x[i] for each element i of the work-item's chunk: SCALAR(i) for a partial
// chunk, VECTOR(i0) for a whole one.
#define CHUNKED(n, VECTOR, SCALAR)                          \
    long i0 = (long) get_global_id(0) * CHUNK;              \
    if (i0 + CHUNK <= (n)) {                                \
        VECTOR(i0);                                         \
    } else {                                                \
        for (long i = i0; i < (n); i++) {                   \
            SCALAR(i);                                      \
        }                                                   \
    }

// out = a + b, b as large as a
__kernel void add_same(__global const float* a, __global const float* b, __global float* out, long n) {
#define V(i) vstore16(vload16(0, a + (i)) + vload16(0, b + (i)), 0, out + (i))
#define S(i) out[i] = a[i] + b[i]
    CHUNKED(n, V, S)
#undef V
#undef S
}

__kernel void mul_same(__global const float* a, __global const float* b, __global float* out, long n) {
#define V(i) vstore16(vload16(0, a + (i)) * vload16(0, b + (i)), 0, out + (i))
#define S(i) out[i] = a[i] * b[i]
    CHUNKED(n, V, S)
#undef V
#undef S
}

// out = a + b, a seen as (rows, cols) and b (cols) repeated over its rows.
// global (ceil(cols / 16), rows)
#define ROWS_BODY(OP)                                                                   \
    int j0 = get_global_id(0) * CHUNK;                                                  \
    long base = (long) get_global_id(1) * cols;                                         \
    if (j0 + CHUNK <= cols) {                                                           \
        vstore16(vload16(0, a + base + j0) OP vload16(0, b + j0), 0, out + base + j0);  \
    } else {                                                                            \
        for (int j = j0; j < cols; j++) {                                               \
            out[base + j] = a[base + j] OP b[j];                                        \
        }                                                                               \
    }

__kernel void add_rows(__global const float* a, __global const float* b, __global float* out, int cols) {
    ROWS_BODY(+)
}

__kernel void mul_rows(__global const float* a, __global const float* b, __global float* out, int cols) {
    ROWS_BODY(*)
}

// out = alpha x
__kernel void scale(__global const float* x, float alpha, __global float* out, long n) {
#define V(i) vstore16(alpha * vload16(0, x + (i)), 0, out + (i))
#define S(i) out[i] = alpha * x[i]
    CHUNKED(n, V, S)
#undef V
#undef S
}

// y += alpha x
__kernel void axpy(float alpha, __global const float* x, __global float* y, long n) {
#define V(i) vstore16(vload16(0, y + (i)) + alpha * vload16(0, x + (i)), 0, y + (i))
#define S(i) y[i] += alpha * x[i]
    CHUNKED(n, V, S)
#undef V
#undef S
}

// GELU, tanh approximation (Hendrycks and Gimpel 2016), as GPT-2 and llm.c. With
// u = sqrt(2/pi) (x + 0.044715 x^3) and t = exp(-2|u|): tanh u = sign(u) (1 - t) / (1 + t) and
// sech^2 u = 4 t / (1 + t)^2, one exp for both and no cancellation (1 - tanh^2 loses every
// digit where tanh is near 1; llm.c's cosh overflows there).
#define GELU_SCALING 0.7978845608028654f
#define GELU_U(v) (GELU_SCALING * ((v) + 0.044715f * (v) * (v) * (v)))
#define GELU_T(u) exp(-2.0f * fabs(u))
#define GELU_TANH(u, t) copysign((1.0f - (t)) / (1.0f + (t)), (u))
#define GELU(v, u, t) (0.5f * (v) * (1.0f + GELU_TANH(u, t)))
#define GELU_GRAD(v, u, t) (0.5f * (1.0f + GELU_TANH(u, t)) \
        + (v) * 0.5f * (4.0f * (t) / ((1.0f + (t)) * (1.0f + (t)))) * GELU_SCALING * (1.0f + 3.0f * 0.044715f * (v) * (v)))

__kernel void gelu_forward(__global const float* x, __global float* out, long n) {
#define V(i) { float16 v = vload16(0, x + (i)); float16 u = GELU_U(v); float16 t = GELU_T(u); \
               vstore16(GELU(v, u, t), 0, out + (i)); }
#define S(i) { float v = x[i]; float u = GELU_U(v); float t = GELU_T(u); out[i] = GELU(v, u, t); }
    CHUNKED(n, V, S)
#undef V
#undef S
}

// dx += GELU'(x) dout
__kernel void gelu_backward(__global const float* x, __global const float* dout, __global float* dx, long n) {
#define V(i) { float16 v = vload16(0, x + (i)); float16 u = GELU_U(v); float16 t = GELU_T(u); \
               vstore16(vload16(0, dx + (i)) + GELU_GRAD(v, u, t) * vload16(0, dout + (i)), 0, dx + (i)); }
#define S(i) { float v = x[i]; float u = GELU_U(v); float t = GELU_T(u); dx[i] += GELU_GRAD(v, u, t) * dout[i]; }
    CHUNKED(n, V, S)
#undef V
#undef S
}

// Inverted dropout with SplitMix64 (Steele, Lea and Flood 2014): element i's uniform number is
// the top 24 bits of the finalised state seed + (i + 1) * golden gamma, as the reference.
// One work-item per element. global (n)
__kernel void dropout_forward(__global const float* x, __global float* mask, __global float* out, float p,
                              float kept, ulong seed, long n) {
    long i = get_global_id(0);
    if (i < n) {
        ulong z = seed + ((ulong) i + 1UL) * 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z = z ^ (z >> 31);
        float uniform = (float) (uint) (z >> 40) * 0x1.0p-24f;
        float m = uniform >= p ? kept : 0.0f;
        mask[i] = m;
        out[i] = x[i] * m;
    }
}

// AdamW (Loshchilov and Hutter 2019) as llm.c's gpt2_update; bc1 and bc2 are the bias
// corrections 1 - beta^step, computed once on the host in double and rounded, as the reference.
// One work-item per element. global (n)
__kernel void adamw(__global float* param, __global const float* grad, __global float* m, __global float* v,
                    float lr, float beta1, float beta2, float eps, float wd, float bc1, float bc2, long n) {
    long i = get_global_id(0);
    if (i < n) {
        float g = grad[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        float mhat = mi / bc1;
        float vhat = vi / bc2;
        m[i] = mi;
        v[i] = vi;
        float p = param[i];
        param[i] = p - lr * (mhat / (sqrt(vhat) + eps) + wd * p);
    }
}

// SGD as torch.optim.SGD (dampening 0), with L2 weight decay; buf is unused without momentum.
// global (n)
__kernel void sgd(__global float* param, __global const float* grad, __global float* buf, float lr,
                  float momentum, int nesterov, float wd, int first, long n) {
    long i = get_global_id(0);
    if (i < n) {
        float p = param[i];
        float g = grad[i] + wd * p;
        if (momentum != 0.0f) {
            float b = first ? g : momentum * buf[i] + g;
            buf[i] = b;
            g = nesterov ? g + momentum * b : b;
        }
        param[i] = p - lr * g;
    }
}

// F32 -> BF16: the upper half of the bits, rounded to nearest, ties to even; NaN stays a quiet NaN.
// global (n)
__kernel void cast_to_bf16(__global const float* src, __global ushort* dst, long n) {
    long i = get_global_id(0);
    if (i < n) {
        uint bits = as_uint(src[i]);
        uint upper = bits >> 16;
        uint lower = bits & 0xFFFFu;
        if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {
            upper |= 0x40u;
        } else if (lower > 0x8000u || (lower == 0x8000u && (upper & 1u) == 1u)) {
            upper += 1u;
        }
        dst[i] = (ushort) upper;
    }
}

__kernel void cast_to_f32(__global const ushort* src, __global float* dst, long n) {
    long i = get_global_id(0);
    if (i < n) {
        dst[i] = as_float(((uint) src[i]) << 16);
    }
}

// x[i] = bits for n 32-bit words (a float or an int fill, and the zeroing of new tensors): as
// the chunked kernels, so the stores are vectors spread over every compute unit.
__kernel void fill32(__global uint* x, uint bits, long n) {
#define V(i) vstore16((uint16) (bits), 0, x + (i))
#define S(i) x[i] = bits
    CHUNKED(n, V, S)
#undef V
#undef S
}

// Element-wise kernels, one work-item per element (a CPU device vectorises the work-item loop).
// Sizes are checked by the backend-neutral layer; n is the element count. An output may be one
// of the inputs: every work-item reads its elements before it writes them.

// out = a + b, b as large as a. global (n)
__kernel void add_same(__global const float* a, __global const float* b, __global float* out, long n) {
    long i = get_global_id(0);
    if (i < n) {
        out[i] = a[i] + b[i];
    }
}

// out = a + b, a seen as (rows, cols) and b (cols) repeated over its rows. global (cols, rows)
__kernel void add_rows(__global const float* a, __global const float* b, __global float* out, int cols) {
    int j = get_global_id(0);
    if (j < cols) {
        long i = (long) get_global_id(1) * cols + j;
        out[i] = a[i] + b[j];
    }
}

__kernel void mul_same(__global const float* a, __global const float* b, __global float* out, long n) {
    long i = get_global_id(0);
    if (i < n) {
        out[i] = a[i] * b[i];
    }
}

__kernel void mul_rows(__global const float* a, __global const float* b, __global float* out, int cols) {
    int j = get_global_id(0);
    if (j < cols) {
        long i = (long) get_global_id(1) * cols + j;
        out[i] = a[i] * b[j];
    }
}

// out = alpha x
__kernel void scale(__global const float* x, float alpha, __global float* out, long n) {
    long i = get_global_id(0);
    if (i < n) {
        out[i] = alpha * x[i];
    }
}

// y += alpha x
__kernel void axpy(float alpha, __global const float* x, __global float* y, long n) {
    long i = get_global_id(0);
    if (i < n) {
        y[i] += alpha * x[i];
    }
}

// GELU, tanh approximation (Hendrycks and Gimpel 2016), as GPT-2 and llm.c.
#define GELU_SCALING 0.7978845608028654f

__kernel void gelu_forward(__global const float* x, __global float* out, long n) {
    long i = get_global_id(0);
    if (i < n) {
        float v = x[i];
        float cube = 0.044715f * v * v * v;
        out[i] = 0.5f * v * (1.0f + tanh(GELU_SCALING * (v + cube)));
    }
}

// dx += GELU'(x) dout, llm.c's gelu_backward
__kernel void gelu_backward(__global const float* x, __global const float* dout, __global float* dx, long n) {
    long i = get_global_id(0);
    if (i < n) {
        float v = x[i];
        float cube = 0.044715f * v * v * v;
        float arg = GELU_SCALING * (v + cube);
        float th = tanh(arg);
        float ch = cosh(arg);
        float sech2 = 1.0f / (ch * ch);
        float lg = 0.5f * (1.0f + th) + v * 0.5f * sech2 * GELU_SCALING * (1.0f + 3.0f * 0.044715f * v * v);
        dx[i] += lg * dout[i];
    }
}

// Inverted dropout with SplitMix64 (Steele, Lea and Flood 2014): element i's uniform number is
// the top 24 bits of the finalised state seed + (i + 1) * golden gamma, as the reference.
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

// Prepended to every program of the opencl backend.
//
// acc_t: the type sums are accumulated in. Double where the device has it (cl_khr_fp64: PoCL,
// NVIDIA, AMD), as the reference does; float elsewhere.
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
typedef double16 acc16_t;
#define convert_acc16 convert_double16
#else
typedef float acc_t;
typedef float16 acc16_t;
#define convert_acc16(x) (x)
#endif

// Column kernels give each work-item 16 adjacent columns as one float16, and sum rows into it
// in float for this many rows at a time before adding that into an acc16_t.
#define COLUMN_BLOCK 64

// The sum of the 16 lanes of v, as a tree.
inline float hsum16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

// The largest of the 16 lanes of v.
inline float hmax16(float16 v) {
    float8 a = fmax(v.lo, v.hi);
    float4 b = fmax(a.lo, a.hi);
    float2 c = fmax(b.lo, b.hi);
    return fmax(c.x, c.y);
}

// Row helpers over n floats at p, in float16 chunks and a scalar tail.
inline float row_max(const __global float* p, int n) {
    float16 m16 = (float16) (-INFINITY);
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        m16 = fmax(m16, vload16(0, p + j));
    }
    float m = hmax16(m16);
    for (; j < n; j++) {
        m = fmax(m, p[j]);
    }
    return m;
}

// dst[j] = exp(src[j] - max) for j < n; returns their sum (src may be dst).
inline acc_t row_exp(const __global float* src, __global float* dst, int n, float max) {
    float16 s16 = (float16) (0.0f);
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        float16 e = exp(vload16(0, src + j) - max);
        vstore16(e, 0, dst + j);
        s16 += e;
    }
    acc_t s = hsum16(s16);
    for (; j < n; j++) {
        float e = exp(src[j] - max);
        dst[j] = e;
        s += e;
    }
    return s;
}

inline void row_scale(__global float* p, int n, float f) {
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        vstore16(f * vload16(0, p + j), 0, p + j);
    }
    for (; j < n; j++) {
        p[j] *= f;
    }
}

inline void row_zero(__global float* p, int from, int to) {
    int j = from;
    for (; j < to && (j & 15) != 0; j++) {
        p[j] = 0.0f;
    }
    for (; j + 16 <= to; j += 16) {
        vstore16((float16) (0.0f), 0, p + j);
    }
    for (; j < to; j++) {
        p[j] = 0.0f;
    }
}

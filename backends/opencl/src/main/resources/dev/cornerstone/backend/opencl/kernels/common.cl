// Prepended to every program of the opencl backend.
//
// acc_t: the type sums are accumulated in. Double where the device has it (cl_khr_fp64: PoCL,
// NVIDIA, AMD), as the reference does; float elsewhere.
#ifdef cl_khr_fp64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
typedef double acc_t;
#else
typedef float acc_t;
#endif

// The sum of the 16 lanes of v, as a tree.
inline float hsum16(float16 v) {
    float8 a = v.lo + v.hi;
    float4 b = a.lo + a.hi;
    float2 c = b.lo + b.hi;
    return c.x + c.y;
}

// Batched, strided GEMM: C_z = alpha op(A_z) op(B_z) + beta C_z for every batch index z.
//
// op(A) is m x k, op(B) is k x n, C is m x n, all row-major with leading dimensions lda, ldb, ldc
// (so attention can take its heads straight out of qkv). Batch index z splits into
// (outer = z / bi, inner = z % bi); operand X of batch z starts at off + outer * so + inner * si.
//
// The product is register-blocked, as BLIS and GotoBLAS do it on CPUs:
//   gemm_pack_b   copies op(B) into column panels of NR = 32 columns, stored row by row
//                 (bp[z][panel][p][0..32)), zero past n: whatever B's layout (transposed or
//                 not, any leading dimension), the micro kernel then streams one contiguous
//                 panel, which stays in cache while the work-items of neighbouring row tiles
//                 reuse it, and power-of-two strides cannot collide in the cache;
//   gemm_micro_n  (A as stored) and gemm_micro_p (A^T, packed by gemm_pack_at) give each
//                 work-item one MR x 32 tile of C, held in 2 MR float16 registers: per k step,
//                 two vector loads of B, MR broadcasts of A, 2 MR FMAs. Then the tile is scaled
//                 and stored, masked at the edges.
// A as stored is not packed: its MR rows are MR sequential streams already, and packing it cost
// as much as a third of the product at GPT's shapes. A^T is (see gemm_pack_at).
// MR comes from the build options (-DMR=...), NR is 32: two float16 vectors (one AVX-512
// register each on a CPU device).

#ifndef MR
#define MR 8
#endif
#define NR 32
// Row tiles per work-item (-DTILES=...): consecutive tiles share the same B panel, and fewer,
// larger work-groups cost the device's scheduler less at small sizes.
#ifndef TILES
#define TILES 1
#endif

inline long batch_offset(int z, int bi, long so, long si) {
    return (long) (z / bi) * so + (long) (z % bi) * si;
}

// global (k, ceil(n / NR), batch), local (64, 1, 1)
__kernel void gemm_pack_b(__global const float* b, long off, int ldb, long so, long si, int bi,
                          int trans, int k, int n, __global float* bp) {
    int p = get_global_id(0);
    int jp = get_global_id(1);
    int z = get_global_id(2);
    if (p >= k) {
        return;
    }
    const __global float* src = b + off + batch_offset(z, bi, so, si);
    int panels = (n + NR - 1) / NR;
    __global float* dst = bp + (((long) z * panels + jp) * k + p) * NR;
    int j0 = jp * NR;
    if (!trans && j0 + NR <= n) {
        const __global float* row = src + (long) p * ldb + j0;
        vstore16(vload16(0, row), 0, dst);
        vstore16(vload16(1, row), 1, dst);
    } else if (trans && j0 + NR <= n) {
        #pragma unroll
        for (int c = 0; c < NR; c++) {
            dst[c] = src[(long) (j0 + c) * ldb + p];
        }
    } else {
        for (int c = 0; c < NR; c++) {
            int j = j0 + c;
            dst[c] = j < n ? (trans ? src[(long) j * ldb + p] : src[(long) p * ldb + j]) : 0.0f;
        }
    }
}

// The store of a finished MR x NR tile: C = alpha acc + beta C (C not read when beta is 0).
#define STORE_TILE                                                                  \
    __global float* C = c + coff + batch_offset(z, bi, cso, csi);                   \
    int j0 = jp * NR;                                                               \
    _Pragma("unroll")                                                               \
    for (int r = 0; r < MR; r++) {                                                  \
        int i = i0 + r;                                                             \
        if (i < m) {                                                                \
            __global float* row = C + (long) i * ldc + j0;                          \
            float16 o0 = alpha * acc0[r];                                           \
            float16 o1 = alpha * acc1[r];                                           \
            if (j0 + NR <= n) {                                                     \
                if (beta != 0.0f) {                                                 \
                    o0 += beta * vload16(0, row);                                   \
                    o1 += beta * vload16(1, row);                                   \
                }                                                                   \
                vstore16(o0, 0, row);                                               \
                vstore16(o1, 1, row);                                               \
            } else {                                                                \
                float t[NR];                                                        \
                vstore16(o0, 0, t);                                                 \
                vstore16(o1, 1, t);                                                 \
                for (int cc = 0; cc < n - j0; cc++) {                               \
                    row[cc] = beta != 0.0f ? t[cc] + beta * row[cc] : t[cc];        \
                }                                                                   \
            }                                                                       \
        }                                                                           \
    }

#define MICRO_ARGS __global const float* a, long aoff, int lda, long aso, long asi,      \
                   __global const float* bp, int m, int n, int k, float alpha, float beta, \
                   __global float* c, long coff, int ldc, long cso, long csi, int bi

#define MICRO_PROLOGUE                                                              \
    int jp = get_global_id(1);                                                      \
    int z = get_global_id(2);                                                       \
    int i0 = ip * MR;                                                               \
    int npanels = (n + NR - 1) / NR;                                                \
    const __global float* A = a + aoff + batch_offset(z, bi, aso, asi);             \
    const __global float* B = bp + ((long) z * npanels + jp) * k * NR;              \
    float16 acc0[MR];                                                               \
    float16 acc1[MR];                                                               \
    _Pragma("unroll")                                                               \
    for (int r = 0; r < MR; r++) {                                                  \
        acc0[r] = (float16) (0.0f);                                                 \
        acc1[r] = (float16) (0.0f);                                                 \
    }

// op(A) = A, stored m x k: row i0 + r of the tile at A + (i0 + r) lda (rows past m read row m - 1,
// and are not stored). global (ceil(m / MR), ceil(n / NR), batch), local (1, 1, 1)
__kernel void gemm_micro_n(MICRO_ARGS) {
  for (int tile = 0; tile < TILES; tile++) {
    int ip = get_global_id(0) * TILES + tile;
    if (ip * MR >= m) {
        break;
    }
    MICRO_PROLOGUE
    const __global float* rows[MR];
    #pragma unroll
    for (int r = 0; r < MR; r++) {
        rows[r] = A + (long) min(i0 + r, m - 1) * lda;
    }
    for (int p = 0; p < k; p++) {
        float16 b0 = vload16(0, B);
        float16 b1 = vload16(1, B);
        #pragma unroll
        for (int r = 0; r < MR; r++) {
            float16 av = (float16) (rows[r][p]);
            acc0[r] = fma(av, b0, acc0[r]);
            acc1[r] = fma(av, b1, acc1[r]);
        }
        B += NR;
    }
    STORE_TILE
  }
}

// op(A) = A^T, A stored k x m: its tile values for step p, A[p lda + i0 .. i0 + MR), are a row
// apart from step to step, which the hardware prefetcher does not follow, so A^T is packed first:
// gemm_pack_at copies it into row panels ap[z][panel][p][0..MR) (zero past m), and gemm_micro_p
// streams a panel. Each work-item moves a block of PACK_ROWS rows of one panel, a vector per row,
// and writes them as one contiguous run; consecutive work-items are neighbours along the rows.
// global (ceil(m / MR), ceil(k / PACK_ROWS), batch), local (1, 1, 1): a CPU device would otherwise
// vectorise across work-items into gathers and scatters.
#define PACK_ROWS 16

__kernel void gemm_pack_at(__global const float* a, long off, int lda, long so, long si, int bi,
                           int m, int k, __global float* ap) {
    int ip = get_global_id(0);
    int p0 = get_global_id(1) * PACK_ROWS;
    int z = get_global_id(2);
    int panels = (m + MR - 1) / MR;
    if (ip >= panels) {
        return;
    }
    const __global float* src = a + off + batch_offset(z, bi, so, si);
    __global float* dst = ap + ((long) z * panels + ip) * k * MR;
    int i0 = ip * MR;
    int p1 = min(k, p0 + PACK_ROWS);
    if (i0 + MR <= m) {
        for (int p = p0; p < p1; p++) {
            const __global float* row = src + (long) p * lda + i0;
#if MR == 8
            vstore8(vload8(0, row), p, dst);
#else
            #pragma unroll
            for (int r = 0; r < MR; r++) {
                dst[(long) p * MR + r] = row[r];
            }
#endif
        }
    } else {
        for (int p = p0; p < p1; p++) {
            for (int r = 0; r < MR; r++) {
                dst[(long) p * MR + r] = i0 + r < m ? src[(long) p * lda + i0 + r] : 0.0f;
            }
        }
    }
}

// op(A) from panels packed by gemm_pack_at (a is ap; aoff, lda and the strides are unused).
__kernel void gemm_micro_p(MICRO_ARGS) {
  for (int tile = 0; tile < TILES; tile++) {
    int ip = get_global_id(0) * TILES + tile;
    if (ip * MR >= m) {
        break;
    }
    MICRO_PROLOGUE
    int mpanels = (m + MR - 1) / MR;
    const __global float* P = a + ((long) z * mpanels + ip) * k * MR;
    for (int p = 0; p < k; p++) {
        float16 b0 = vload16(0, B);
        float16 b1 = vload16(1, B);
        #pragma unroll
        for (int r = 0; r < MR; r++) {
            float16 av = (float16) (P[r]);
            acc0[r] = fma(av, b0, acc0[r]);
            acc1[r] = fma(av, b1, acc1[r]);
        }
        P += MR;
        B += NR;
    }
    STORE_TILE
  }
}

// C_z = beta C_z, for a product with k = 0. global (n, m, batch)
__kernel void gemm_scale(__global float* c, long off, int ldc, long so, long si, int bi, int m, int n,
                         float beta) {
    int j = get_global_id(0);
    int i = get_global_id(1);
    int z = get_global_id(2);
    if (j < n && i < m) {
        __global float* e = c + off + batch_offset(z, bi, so, si) + (long) i * ldc + j;
        *e = beta != 0.0f ? beta * *e : 0.0f;
    }
}

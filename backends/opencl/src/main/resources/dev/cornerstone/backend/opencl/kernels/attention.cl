// The softmax parts of causal self-attention (Vaswani et al. 2017); the products around them are
// GEMMs (gemm.cl). att is (B, NH, T, T): row r is query position t = r % T. Rows are read in
// float16 chunks (common.cl).

// att[r, :t] = softmax(att[r, :t]) (the scores arrive scaled by 1/sqrt(HS)); zero after t.
// global (B NH T)
__kernel void softmax_causal(__global float* att, int t, int rows) {
    int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    int n = r % t + 1;
    __global float* row = att + (long) r * t;
    float max = row_max(row, n);
    acc_t sum = row_exp(row, row, n, max);
    row_scale(row, n, sum == 0 ? 0.0f : (float) (1.0 / sum));
    row_zero(row, n, t);
}

// datt[r, j] becomes the gradient of the scores: scale att[j] (datt[j] - sum_k att[k] datt[k]),
// over j <= t, and 0 after t. global (B NH T)
__kernel void softmax_causal_backward(__global const float* att, __global float* datt, int t, int rows,
                                      float scale) {
    int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    int n = r % t + 1;
    const __global float* a = att + (long) r * t;
    __global float* d = datt + (long) r * t;
    float16 s16 = (float16) (0.0f);
    int j = 0;
    for (; j + 16 <= n; j += 16) {
        s16 += vload16(0, a + j) * vload16(0, d + j);
    }
    acc_t s = hsum16(s16);
    for (; j < n; j++) {
        s += a[j] * d[j];
    }
    float sf = (float) s;
    j = 0;
    for (; j + 16 <= n; j += 16) {
        vstore16(scale * vload16(0, a + j) * (vload16(0, d + j) - sf), 0, d + j);
    }
    for (; j < n; j++) {
        d[j] = scale * a[j] * (d[j] - sf);
    }
    row_zero(d, n, t);
}

// The softmax parts of causal self-attention (Vaswani et al. 2017); the products around them are
// GEMMs (gemm.cl). att is (B, NH, T, T): row r is query position t = r % T.

// att[r, :t] = softmax(att[r, :t]) (the scores arrive scaled by 1/sqrt(HS)); zero after t.
// global (B NH T)
__kernel void softmax_causal(__global float* att, int t, int rows) {
    int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    int ti = r % t;
    __global float* row = att + (long) r * t;
    float max = -INFINITY;
    for (int j = 0; j <= ti; j++) {
        max = fmax(max, row[j]);
    }
    acc_t sum = 0;
    for (int j = 0; j <= ti; j++) {
        float e = exp(row[j] - max);
        row[j] = e;
        sum += e;
    }
    float inv = sum == 0 ? 0.0f : (float) (1.0 / sum);
    for (int j = 0; j <= ti; j++) {
        row[j] *= inv;
    }
    for (int j = ti + 1; j < t; j++) {
        row[j] = 0.0f;
    }
}

// datt[r, j] becomes the gradient of the scores: scale att[j] (datt[j] - sum_k att[k] datt[k]),
// over j <= t, and 0 after t. global (B NH T)
__kernel void softmax_causal_backward(__global const float* att, __global float* datt, int t, int rows,
                                      float scale) {
    int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    int ti = r % t;
    const __global float* a = att + (long) r * t;
    __global float* d = datt + (long) r * t;
    acc_t s = 0;
    for (int j = 0; j <= ti; j++) {
        s += a[j] * d[j];
    }
    float sf = (float) s;
    for (int j = 0; j <= ti; j++) {
        d[j] = scale * a[j] * (d[j] - sf);
    }
    for (int j = ti + 1; j < t; j++) {
        d[j] = 0.0f;
    }
}

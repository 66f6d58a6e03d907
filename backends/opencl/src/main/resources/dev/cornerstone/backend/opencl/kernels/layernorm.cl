// LayerNorm over the last dimension (Ba et al. 2016), as llm.c: x (N, C), weight and bias (C).
// Row kernels give each work-item one row and read it in float16 vectors (C need not be a
// multiple of 16: the tail is scalar).

inline acc_t row_sum(const __global float* x, int c) {
    float16 s16 = (float16) (0.0f);
    int i = 0;
    for (; i + 16 <= c; i += 16) {
        s16 += vload16(0, x + i);
    }
    acc_t s = hsum16(s16);
    for (; i < c; i++) {
        s += x[i];
    }
    return s;
}

// out = (x - mean) rstd weight + bias; mean and rstd (N) kept for the backward pass. global (N)
__kernel void layernorm_forward(__global const float* x, __global const float* weight,
                                __global const float* bias, __global float* out, __global float* mean,
                                __global float* rstd, int c, int rows, float eps) {
    int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    const __global float* xr = x + (long) r * c;
    __global float* o = out + (long) r * c;
    acc_t m = row_sum(xr, c) / c;
    float mf = (float) m;
    float16 v16 = (float16) (0.0f);
    int i = 0;
    for (; i + 16 <= c; i += 16) {
        float16 d = vload16(0, xr + i) - mf;
        v16 += d * d;
    }
    acc_t v = hsum16(v16);
    for (; i < c; i++) {
        float d = xr[i] - mf;
        v += d * d;
    }
    v = v / c;
    float s = (float) (1.0 / sqrt(v + eps));
    i = 0;
    for (; i + 16 <= c; i += 16) {
        float16 norm = s * (vload16(0, xr + i) - mf);
        vstore16(norm * vload16(0, weight + i) + vload16(0, bias + i), 0, o + i);
    }
    for (; i < c; i++) {
        o[i] = s * (xr[i] - mf) * weight[i] + bias[i];
    }
    mean[r] = mf;
    rstd[r] = s;
}

// dx += (dnorm - mean(dnorm) - norm mean(dnorm norm)) rstd, dnorm = weight dout. global (N)
__kernel void layernorm_backward_dx(__global const float* dout, __global const float* x,
                                    __global const float* weight, __global const float* mean,
                                    __global const float* rstd, __global float* dx, int c, int rows) {
    int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    long base = (long) r * c;
    float mr = mean[r];
    float sr = rstd[r];
    float16 a16 = (float16) (0.0f);
    float16 b16 = (float16) (0.0f);
    int i = 0;
    for (; i + 16 <= c; i += 16) {
        float16 norm = (vload16(0, x + base + i) - mr) * sr;
        float16 dnorm = vload16(0, weight + i) * vload16(0, dout + base + i);
        a16 += dnorm;
        b16 += dnorm * norm;
    }
    acc_t dnormMean = hsum16(a16);
    acc_t dnormNormMean = hsum16(b16);
    for (; i < c; i++) {
        float norm = (x[base + i] - mr) * sr;
        float dnorm = weight[i] * dout[base + i];
        dnormMean += dnorm;
        dnormNormMean += dnorm * norm;
    }
    float dm = (float) (dnormMean / c);
    float dnm = (float) (dnormNormMean / c);
    i = 0;
    for (; i + 16 <= c; i += 16) {
        float16 norm = (vload16(0, x + base + i) - mr) * sr;
        float16 dnorm = vload16(0, weight + i) * vload16(0, dout + base + i);
        vstore16(vload16(0, dx + base + i) + (dnorm - dm - norm * dnm) * sr, 0, dx + base + i);
    }
    for (; i < c; i++) {
        float norm = (x[base + i] - mr) * sr;
        float dnorm = weight[i] * dout[base + i];
        dx[base + i] += (dnorm - dm - norm * dnm) * sr;
    }
}

// dweight[j] += sum_r norm[r, j] dout[r, j], dbias[j] += sum_r dout[r, j]: 16 adjacent columns
// per work-item, as sum_rows. global (ceil(C / 16))
__kernel void layernorm_backward_params(__global const float* dout, __global const float* x,
                                        __global const float* mean, __global const float* rstd,
                                        __global float* dweight, __global float* dbias, int c, int rows) {
    int j0 = get_global_id(0) * 16;
    if (j0 + 16 <= c) {
        acc16_t dw = (acc16_t) (0);
        acc16_t db = (acc16_t) (0);
        for (int r0 = 0; r0 < rows; r0 += COLUMN_BLOCK) {
            float16 bw = (float16) (0.0f);
            float16 bb = (float16) (0.0f);
            int r1 = min(rows, r0 + COLUMN_BLOCK);
            for (int r = r0; r < r1; r++) {
                long e = (long) r * c + j0;
                float16 d = vload16(0, dout + e);
                bw += (vload16(0, x + e) - mean[r]) * rstd[r] * d;
                bb += d;
            }
            dw += convert_acc16(bw);
            db += convert_acc16(bb);
        }
        vstore16(vload16(0, dweight + j0) + convert_float16(dw), 0, dweight + j0);
        vstore16(vload16(0, dbias + j0) + convert_float16(db), 0, dbias + j0);
    } else {
        for (int j = j0; j < c; j++) {
            acc_t dw = 0;
            acc_t db = 0;
            for (int r = 0; r < rows; r++) {
                long e = (long) r * c + j;
                float norm = (x[e] - mean[r]) * rstd[r];
                dw += norm * dout[e];
                db += dout[e];
            }
            dweight[j] += (float) dw;
            dbias[j] += (float) db;
        }
    }
}

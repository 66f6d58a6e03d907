// Reductions. Sums accumulate in acc_t (double where the device has it).

// out[j] += sum_r x[r, j]: x seen as (rows, cols). Each work-item sums 16 adjacent columns, rows
// in order, in float for COLUMN_BLOCK rows at a time, then in acc_t. global (ceil(cols / 16))
__kernel void sum_rows(__global const float* x, __global float* out, int cols, int rows) {
    int j0 = get_global_id(0) * 16;
    if (j0 + 16 <= cols) {
        acc16_t s = (acc16_t) (0);
        for (int r0 = 0; r0 < rows; r0 += COLUMN_BLOCK) {
            float16 b = (float16) (0.0f);
            int r1 = min(rows, r0 + COLUMN_BLOCK);
            for (int r = r0; r < r1; r++) {
                b += vload16(0, x + (long) r * cols + j0);
            }
            s += convert_acc16(b);
        }
        vstore16(vload16(0, out + j0) + convert_float16(s), 0, out + j0);
    } else {
        for (int j = j0; j < cols; j++) {
            acc_t s = 0;
            for (int r = 0; r < rows; r++) {
                s += x[(long) r * cols + j];
            }
            out[j] += (float) s;
        }
    }
}

// One partial sum (of x, or of x^2) per work-group: each work-item sums a strided share, then
// the group combines its work-items' sums as a tree in local memory. The host adds the partials.
// global (groups * local), local (64)
__kernel void sum_partials(__global const float* x, long n, int squares, __global acc_t* partials,
                           __local acc_t* scratch) {
    long gid = get_global_id(0);
    long stride = get_global_size(0);
    int lid = get_local_id(0);
    acc_t s = 0;
    for (long i = gid; i < n; i += stride) {
        acc_t v = x[i];
        s += squares ? v * v : v;
    }
    scratch[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int w = get_local_size(0) / 2; w > 0; w >>= 1) {
        if (lid < w) {
            scratch[lid] += scratch[lid + w];
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) {
        partials[get_group_id(0)] = scratch[0];
    }
}

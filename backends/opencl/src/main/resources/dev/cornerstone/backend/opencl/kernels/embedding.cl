// Embedding lookup and its gradient: ids (N) I32, table (V, C), out (N, C).

// out[i, j] = table[ids[i], j]. global (C, N)
__kernel void embedding_forward(__global const int* ids, __global const float* table, __global float* out,
                                int c) {
    int j = get_global_id(0);
    if (j < c) {
        int i = get_global_id(1);
        out[(long) i * c + j] = table[(long) ids[i] * c + j];
    }
}

// dtable[ids[i], j] += dout[i, j]: each work-item owns 16 adjacent columns and walks the ids in
// order, so repeated ids never race and the sums come out in the reference's order.
// global (ceil(C / 16))
__kernel void embedding_backward(__global const int* ids, __global const float* dout, __global float* dtable,
                                 int c, int n) {
    int j0 = get_global_id(0) * 16;
    if (j0 + 16 <= c) {
        for (int i = 0; i < n; i++) {
            __global float* row = dtable + (long) ids[i] * c + j0;
            vstore16(vload16(0, row) + vload16(0, dout + (long) i * c + j0), 0, row);
        }
    } else {
        for (int i = 0; i < n; i++) {
            for (int j = j0; j < c; j++) {
                dtable[(long) ids[i] * c + j] += dout[(long) i * c + j];
            }
        }
    }
}

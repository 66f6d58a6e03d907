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

// dtable[ids[i], j] += dout[i, j]: one work-item per column walks the ids in order, so repeated
// ids never race and the sums come out in the reference's order. global (C)
__kernel void embedding_backward(__global const int* ids, __global const float* dout, __global float* dtable,
                                 int c, int n) {
    int j = get_global_id(0);
    if (j < c) {
        for (int i = 0; i < n; i++) {
            long e = (long) ids[i] * c + j;
            dtable[e] += dout[(long) i * c + j];
        }
    }
}

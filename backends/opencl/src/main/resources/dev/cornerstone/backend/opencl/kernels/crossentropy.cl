// Fused softmax and cross-entropy: logits (N, V), targets (N) I32; a negative target is ignored.

// probs = softmax(logits row), losses[r] = log(sum) - (logit[target] - max). global (N)
__kernel void cross_entropy_forward(__global const float* logits, __global const int* targets,
                                    __global float* probs, __global float* losses, int v, int rows) {
    int r = get_global_id(0);
    if (r >= rows) {
        return;
    }
    const __global float* l = logits + (long) r * v;
    __global float* p = probs + (long) r * v;
    float max = row_max(l, v);
    acc_t sum = row_exp(l, p, v, max);
    row_scale(p, v, (float) (1.0 / sum));
    int target = targets[r];
    losses[r] = target < 0 ? 0.0f : (float) (log(sum) - (acc_t) (l[target] - max));
}

// dlogits[r, j] += (probs[r, j] - [j == target]) dlosses[r]. global (V, N)
__kernel void cross_entropy_backward(__global const float* probs, __global const int* targets,
                                     __global const float* dlosses, __global float* dlogits, int v) {
    int j = get_global_id(0);
    if (j < v) {
        int r = get_global_id(1);
        int target = targets[r];
        if (target >= 0) {
            long e = (long) r * v + j;
            dlogits[e] += (probs[e] - (j == target ? 1.0f : 0.0f)) * dlosses[r];
        }
    }
}

package dev.cornerstone.backend.cpu;

import static dev.cornerstone.backend.cpu.Tiles.GRAIN;
import static dev.cornerstone.backend.cpu.Tiles.TILE;
import static dev.cornerstone.backend.cpu.Tiles.length;
import static dev.cornerstone.backend.cpu.Tiles.load;
import static dev.cornerstone.backend.cpu.Tiles.store;

import java.lang.foreign.MemorySegment;

/**
 * Fused optimizer updates, one pass over each parameter tensor.
 *
 * <p>Dimension legend: {@code N} elements of the parameter (and of its gradient and state).
 */
final class OptimizerKernels {

    private final Parallel parallel;

    OptimizerKernels(Parallel parallel) {
        this.parallel = parallel;
    }

    /**
     * AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019), as
     * llm.c's {@code gpt2_update}: {@code m = b1 m + (1-b1) g}; {@code v = b2 v + (1-b2) g^2};
     * {@code p -= lr (mhat / (sqrt(vhat) + eps) + wd p)} with {@code mhat = m / (1 - b1^step)},
     * {@code vhat = v / (1 - b2^step)}.
     */
    void adamwStep(MemorySegment param, MemorySegment grad, MemorySegment m, MemorySegment v, long n, float lr,
                   float beta1, float beta2, float eps, float weightDecay, int step) {
        float correction1 = (float) (1.0 - Math.pow(beta1, step));
        float correction2 = (float) (1.0 - Math.pow(beta2, step));
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            float[] tp = s.floats(0, TILE);
            float[] tg = s.floats(1, TILE);
            float[] tm = s.floats(2, TILE);
            float[] tv = s.floats(3, TILE);
            for (long i = from; i < to; i += TILE) {
                int len = length(i, to);
                load(param, i, tp, len);
                load(grad, i, tg, len);
                load(m, i, tm, len);
                load(v, i, tv, len);
                for (int j = 0; j < len; j++) {
                    float g = tg[j];
                    float mj = beta1 * tm[j] + (1f - beta1) * g;
                    float vj = beta2 * tv[j] + (1f - beta2) * g * g;
                    float mhat = mj / correction1;
                    float vhat = vj / correction2;
                    tm[j] = mj;
                    tv[j] = vj;
                    tp[j] -= lr * (mhat / ((float) Math.sqrt(vhat) + eps) + weightDecay * tp[j]);
                }
                store(tp, len, param, i);
                store(tm, len, m, i);
                store(tv, len, v, i);
            }
        });
    }

    /**
     * SGD with momentum as PyTorch's {@code torch.optim.SGD} (dampening 0; Sutskever et al., "On
     * the importance of initialization and momentum in deep learning", ICML 2013, for the
     * Nesterov form): {@code g' = g + wd p}; with momentum, {@code buf = g'} on the first step,
     * else {@code buf = momentum buf + g'}, and {@code g' = nesterov ? g' + momentum buf : buf};
     * {@code p -= lr g'}. Without momentum the buffer is neither read nor written (it may be null).
     */
    void sgdStep(MemorySegment param, MemorySegment grad, MemorySegment buffer, long n, float lr, float momentum,
                 boolean nesterov, float weightDecay, boolean firstStep) {
        boolean useMomentum = momentum != 0f;
        parallel.forRange(n, GRAIN, (from, to, s) -> {
            float[] tp = s.floats(0, TILE);
            float[] tg = s.floats(1, TILE);
            float[] tb = s.floats(2, TILE);
            for (long i = from; i < to; i += TILE) {
                int len = length(i, to);
                load(param, i, tp, len);
                load(grad, i, tg, len);
                if (!useMomentum) {
                    for (int j = 0; j < len; j++) {
                        tp[j] -= lr * (tg[j] + weightDecay * tp[j]);
                    }
                } else {
                    if (!firstStep) {
                        load(buffer, i, tb, len);
                    }
                    for (int j = 0; j < len; j++) {
                        float g = tg[j] + weightDecay * tp[j];
                        float b = firstStep ? g : momentum * tb[j] + g;
                        tb[j] = b;
                        tp[j] -= lr * (nesterov ? g + momentum * b : b);
                    }
                    store(tb, len, buffer, i);
                }
                store(tp, len, param, i);
            }
        });
    }
}

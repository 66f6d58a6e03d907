package dev.cornerstone.core.train;

/**
 * Learning rate as a function of the step (1-based).
 * {@code constant}: always {@code lr}. {@code cosine}: linear warm-up over {@code warmup}
 * steps, then cosine decay to {@code minLr} at {@code steps} (Loshchilov and Hutter 2017,
 * SGDR; as nanoGPT's get_lr).
 */
public sealed interface LrSchedule {

    float at(int step);

    record Constant(float lr) implements LrSchedule {
        @Override
        public float at(int step) {
            return lr;
        }
    }

    record WarmupCosine(float lr, float minLr, int warmup, int steps) implements LrSchedule {
        public WarmupCosine {
            if (warmup < 0 || steps < 1 || warmup > steps) {
                throw new IllegalArgumentException("train.warmup_steps=" + warmup + " must be in [0, steps=" + steps + "]");
            }
        }

        @Override
        public float at(int step) {
            if (step <= warmup) {
                return lr * step / Math.max(1, warmup);
            }
            if (step >= steps) {
                return minLr;
            }
            double ratio = (double) (step - warmup) / (steps - warmup);
            double coeff = 0.5 * (1.0 + Math.cos(Math.PI * ratio));
            return (float) (minLr + coeff * (lr - minLr));
        }
    }
}

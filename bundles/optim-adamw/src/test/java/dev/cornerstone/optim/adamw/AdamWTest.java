package dev.cornerstone.optim.adamw;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

class AdamWTest {

    @Test
    void matchesTheAlgorithmAndDecaysOnlyMatrices() {
        try (CpuBackend be = new CpuBackend(1)) {
            SequencedMap<String, Tensor> params = new LinkedHashMap<>();
            SequencedMap<String, Tensor> grads = new LinkedHashMap<>();
            params.put("w", tensor(be, new float[] {1, -2, 3, 4}, 2, 2));
            params.put("b", tensor(be, new float[] {1, -1}, 2));
            grads.put("w", tensor(be, new float[] {0.5f, 0.5f, -1, 0}, 2, 2));
            grads.put("b", tensor(be, new float[] {0.5f, 0}, 2));
            float lr = 0.1f, b1 = 0.9f, b2 = 0.95f, eps = 1e-8f, wd = 0.1f;
            try (AdamW opt = AdamW.from(be, Map.of("betas", List.of(0.9, 0.95), "eps", 1e-8, "weight_decay", 0.1))) {
                opt.step(params, grads, lr);
                opt.step(params, grads, lr);
                float[] w = read(be, params.get("w"));
                float[] b = read(be, params.get("b"));
                // two steps by hand, in double
                assertThat(w[0]).isCloseTo(reference(1, 0.5, lr, b1, b2, eps, wd), within(1e-6f));
                assertThat(w[3]).isCloseTo(reference(4, 0, lr, b1, b2, eps, wd), within(1e-6f)); // decay only
                assertThat(b[0]).isCloseTo(reference(1, 0.5, lr, b1, b2, eps, 0), within(1e-6f)); // no decay on 1-D
                assertThat(b[1]).isEqualTo(-1f);
                assertThat(opt.stepCount()).isEqualTo(2);
                assertThat(opt.state(params).keySet()).containsExactly("w.exp_avg", "w.exp_avg_sq", "b.exp_avg",
                        "b.exp_avg_sq");
            } finally {
                params.values().forEach(Tensor::close);
                grads.values().forEach(Tensor::close);
            }
            assertThat(be.liveTensors()).isZero();
        }
    }

    static float reference(double p, double g, double lr, double b1, double b2, double eps, double wd) {
        double m = 0, v = 0;
        for (int t = 1; t <= 2; t++) {
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double mhat = m / (1 - Math.pow(b1, t));
            double vhat = v / (1 - Math.pow(b2, t));
            p -= lr * (mhat / (Math.sqrt(vhat) + eps) + wd * p);
        }
        return (float) p;
    }

    @Test
    void badConfigNamesTheKey() {
        try (CpuBackend be = new CpuBackend(1)) {
            assertThatThrownBy(() -> AdamW.from(be, Map.of("betas", List.of(0.9)))).hasMessageContaining(
                    "optimizer.betas");
            assertThatThrownBy(() -> AdamW.from(be, Map.of("momentum", 0.9))).hasMessageContaining(
                    "optimizer.momentum is not a known key");
        }
    }

    static Tensor tensor(CpuBackend be, float[] v, int... dims) {
        Tensor t = be.allocate(Shape.of(dims), DType.F32);
        be.write(t, 0, v, 0, v.length);
        return t;
    }

    static float[] read(CpuBackend be, Tensor t) {
        float[] f = new float[(int) t.size()];
        be.read(t, 0, f, 0, f.length);
        return f;
    }
}

package dev.cornerstone.optim.sgd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

class SgdTest {

    /** PyTorch's SGD, by hand, in double, for three steps of a constant gradient. */
    static double reference(double p, double g, double lr, double mu, boolean nesterov, double wd) {
        double buf = 0;
        for (int t = 1; t <= 3; t++) {
            double d = g + wd * p;
            buf = t == 1 ? d : mu * buf + d;
            double step = nesterov ? d + mu * buf : buf;
            p -= lr * (mu > 0 ? step : d);
        }
        return p;
    }

    @Test
    void momentumAndNesterovFollowPyTorch() {
        for (boolean nesterov : new boolean[] {false, true}) {
            try (CpuBackend be = new CpuBackend(1)) {
                SequencedMap<String, Tensor> params = new LinkedHashMap<>();
                SequencedMap<String, Tensor> grads = new LinkedHashMap<>();
                params.put("w", be.allocate(Shape.of(2), DType.F32));
                be.write(params.get("w"), 0, new float[] {1, -3}, 0, 2);
                grads.put("w", be.allocate(Shape.of(2), DType.F32));
                be.write(grads.get("w"), 0, new float[] {0.5f, -2}, 0, 2);
                try (Sgd opt = Sgd.from(be, Map.of("momentum", 0.9, "nesterov", nesterov, "weight_decay", 0.01))) {
                    for (int i = 0; i < 3; i++) {
                        opt.step(params, grads, 0.1f);
                    }
                }
                float[] w = new float[2];
                be.read(params.get("w"), 0, w, 0, 2);
                assertThat(w[0]).as("nesterov=" + nesterov).isCloseTo(
                        (float) reference(1, 0.5, 0.1, 0.9, nesterov, 0.01), within(1e-6f));
                assertThat(w[1]).isCloseTo((float) reference(-3, -2, 0.1, 0.9, nesterov, 0.01), within(1e-5f));
                params.values().forEach(Tensor::close);
                grads.values().forEach(Tensor::close);
                assertThat(be.liveTensors()).isZero();
            }
        }
    }

    @Test
    void nesterovNeedsMomentum() {
        try (CpuBackend be = new CpuBackend(1)) {
            assertThatThrownBy(() -> Sgd.from(be, Map.of("nesterov", true))).hasMessageContaining("optimizer.nesterov");
        }
    }
}

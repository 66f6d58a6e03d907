package dev.cornerstone.testkit;

/**
 * The differentiable ops once more, forward only, in double precision and as plainly as
 * possible: the independent oracle for gradient checks (a central difference of these is
 * exact to ~1e-9). Shapes as in the backend SPI: row-major, {@code B} batch, {@code T}
 * time, {@code C} channels, {@code NH} heads.
 */
public final class DoubleReference {

    private DoubleReference() {
    }

    /** out (N, OC) = x (N, C) · w (OC, C)^T + b (OC, or null). */
    public static double[] linear(double[] x, double[] w, double[] b, int n, int c, int oc) {
        double[] out = new double[n * oc];
        for (int i = 0; i < n; i++) {
            for (int o = 0; o < oc; o++) {
                double s = b == null ? 0 : b[o];
                for (int k = 0; k < c; k++) {
                    s += x[i * c + k] * w[o * c + k];
                }
                out[i * oc + o] = s;
            }
        }
        return out;
    }

    /** a + b with b repeating over a's leading dimensions. */
    public static double[] add(double[] a, double[] b) {
        double[] out = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i] + b[i % b.length];
        }
        return out;
    }

    public static double[] gelu(double[] x) {
        double[] out = new double[x.length];
        double k = Math.sqrt(2 / Math.PI);
        for (int i = 0; i < x.length; i++) {
            double v = x[i];
            out[i] = 0.5 * v * (1 + Math.tanh(k * (v + 0.044715 * v * v * v)));
        }
        return out;
    }

    public static double[] layerNorm(double[] x, double[] w, double[] b, int n, int c, double eps) {
        double[] out = new double[n * c];
        for (int i = 0; i < n; i++) {
            double mean = 0;
            for (int k = 0; k < c; k++) {
                mean += x[i * c + k];
            }
            mean /= c;
            double var = 0;
            for (int k = 0; k < c; k++) {
                double d = x[i * c + k] - mean;
                var += d * d;
            }
            var /= c;
            double rstd = 1 / Math.sqrt(var + eps);
            for (int k = 0; k < c; k++) {
                out[i * c + k] = (x[i * c + k] - mean) * rstd * w[k] + b[k];
            }
        }
        return out;
    }

    /** Causal self-attention core: qkv (B, T, 3C) to (B, T, C). */
    public static double[] attention(double[] qkv, int bsz, int t, int c, int nh) {
        int hs = c / nh;
        double scale = 1 / Math.sqrt(hs);
        double[] out = new double[bsz * t * c];
        for (int b = 0; b < bsz; b++) {
            for (int h = 0; h < nh; h++) {
                for (int i = 0; i < t; i++) {
                    double[] att = new double[i + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = 0; j <= i; j++) {
                        double s = 0;
                        for (int d = 0; d < hs; d++) {
                            s += qkv[(b * t + i) * 3 * c + h * hs + d] * qkv[(b * t + j) * 3 * c + c + h * hs + d];
                        }
                        att[j] = s * scale;
                        max = Math.max(max, att[j]);
                    }
                    double sum = 0;
                    for (int j = 0; j <= i; j++) {
                        att[j] = Math.exp(att[j] - max);
                        sum += att[j];
                    }
                    for (int d = 0; d < hs; d++) {
                        double s = 0;
                        for (int j = 0; j <= i; j++) {
                            s += att[j] / sum * qkv[(b * t + j) * 3 * c + 2 * c + h * hs + d];
                        }
                        out[(b * t + i) * c + h * hs + d] = s;
                    }
                }
            }
        }
        return out;
    }

    /** Rows of table (V, C) picked by ids. */
    public static double[] embedding(int[] ids, double[] table, int c) {
        double[] out = new double[ids.length * c];
        for (int i = 0; i < ids.length; i++) {
            System.arraycopy(table, ids[i] * c, out, i * c, c);
        }
        return out;
    }

    /** Mean cross-entropy of logits (N, V) against targets (negative = ignored). */
    public static double crossEntropy(double[] logits, int[] targets, int v) {
        double total = 0;
        int counted = 0;
        for (int i = 0; i < targets.length; i++) {
            if (targets[i] < 0) {
                continue;
            }
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < v; k++) {
                max = Math.max(max, logits[i * v + k]);
            }
            double sum = 0;
            for (int k = 0; k < v; k++) {
                sum += Math.exp(logits[i * v + k] - max);
            }
            total += -(logits[i * v + targets[i]] - max - Math.log(sum));
            counted++;
        }
        return counted == 0 ? 0 : total / counted;
    }

    /** alpha * x. */
    public static double[] scale(double[] x, double alpha) {
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = alpha * x[i];
        }
        return out;
    }

    /** Weighted sum over time: x (B, T, C), w (B, T) to (B, C). */
    public static double[] pool(double[] x, double[] w, int bsz, int t, int c) {
        double[] out = new double[bsz * c];
        for (int b = 0; b < bsz; b++) {
            for (int i = 0; i < t; i++) {
                for (int k = 0; k < c; k++) {
                    out[b * c + k] += w[b * t + i] * x[(b * t + i) * c + k];
                }
            }
        }
        return out;
    }

    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += a[i] * b[i];
        }
        return s;
    }
}

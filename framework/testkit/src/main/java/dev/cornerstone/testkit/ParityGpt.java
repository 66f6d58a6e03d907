package dev.cornerstone.testkit;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.backend.Kernel;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * A small GPT-2 (Radford et al. 2019) trained with AdamW, written straight against the
 * {@link ComputeBackend} SPI in the manner of llm.c's {@code train_gpt2.c}: forward, backward and
 * update of every parameter as explicit kernel calls, with no autograd in between. The parity
 * suite trains it on the backend under test and on the {@link ReferenceBackend} from the same
 * weights and batches and compares the loss of every step, so the kernels are checked as they
 * compose in training, not only one at a time. It stays in the test kit (not the model bundle) so
 * that every backend's tests can run it without depending on the framework's core.
 *
 * <p>Dimension legend: {@code B} batch, {@code T} time, {@code C} channels, {@code NH} heads,
 * {@code V} vocabulary, {@code N = B T} rows, {@code L} layers.
 */
public final class ParityGpt implements AutoCloseable {

    /** The kernels one training step calls. */
    public static final Set<Kernel> KERNELS = EnumSet.of(Kernel.FILL, Kernel.GEMM, Kernel.ADD, Kernel.AXPY,
            Kernel.SUM_ROWS, Kernel.GELU, Kernel.LAYERNORM, Kernel.ATTENTION, Kernel.EMBEDDING, Kernel.CROSS_ENTROPY,
            Kernel.ADAMW, Kernel.SUM);

    /** Model and batch size. {@code channels} must divide by {@code heads}. */
    public record Config(int vocab, int blockSize, int channels, int heads, int layers, int batch) {
        public Config {
            if (channels % heads != 0) {
                throw new IllegalArgumentException("channels " + channels + " do not divide into " + heads + " heads");
            }
        }
    }

    private static final float LN_EPS = 1e-5f;
    private static final float BETA1 = 0.9f;
    private static final float BETA2 = 0.95f;
    private static final float ADAM_EPS = 1e-8f;
    private static final float WEIGHT_DECAY = 0.1f;

    private final ComputeBackend be;
    private final Config cfg;
    private final List<Param> params = new ArrayList<>();
    private final Param wte;
    private final Param wpe;
    private final Layer[] layers;
    private final Param lnfw;
    private final Param lnfb;
    /** Tensors of the current step, closed when it ends. */
    private final List<Tensor> scratch = new ArrayList<>();
    private int step;

    /** A parameter with its gradient and AdamW moments, all on the backend. */
    private record Param(Tensor value, Tensor grad, Tensor m, Tensor v, boolean decay) {
    }

    private record Layer(Param ln1w, Param ln1b, Param qkvw, Param qkvb, Param projw, Param projb,
                         Param ln2w, Param ln2b, Param fcw, Param fcb, Param fcprojw, Param fcprojb) {
    }

    /** Builds the model on {@code be} with GPT-2's initialisation drawn from {@code seed}: the same weights on every backend. */
    public ParityGpt(ComputeBackend be, Config cfg, long seed) {
        this.be = be;
        this.cfg = cfg;
        SplittableRandom r = new SplittableRandom(seed);
        int c = cfg.channels();
        double residualStd = 0.02 / Math.sqrt(2.0 * cfg.layers());
        wte = param(r, 0.02, true, cfg.vocab(), c);
        wpe = param(r, 0.02, true, cfg.blockSize(), c);
        layers = new Layer[cfg.layers()];
        for (int l = 0; l < cfg.layers(); l++) {
            layers[l] = new Layer(constant(1f, c), constant(0f, c), param(r, 0.02, true, 3 * c, c), constant(0f, 3 * c),
                    param(r, residualStd, true, c, c), constant(0f, c), constant(1f, c), constant(0f, c),
                    param(r, 0.02, true, 4 * c, c), constant(0f, 4 * c), param(r, residualStd, true, c, 4 * c),
                    constant(0f, c));
        }
        lnfw = constant(1f, c);
        lnfb = constant(0f, c);
    }

    private Param param(SplittableRandom r, double std, boolean decay, int... dims) {
        Shape s = Shape.of(dims);
        float[] w = new float[(int) s.size()];
        for (int i = 0; i < w.length; i++) {
            w[i] = (float) (gaussian(r) * std);
        }
        Tensor value = be.allocate(s, DType.F32);
        be.write(value, 0, w, 0, w.length);
        Param p = new Param(value, be.allocate(s, DType.F32), be.allocate(s, DType.F32), be.allocate(s, DType.F32),
                decay);
        params.add(p);
        return p;
    }

    private Param constant(float value, int n) {
        Shape s = Shape.of(n);
        Tensor t = be.allocate(s, DType.F32);
        be.fill(t, value);
        Param p = new Param(t, be.allocate(s, DType.F32), be.allocate(s, DType.F32), be.allocate(s, DType.F32), false);
        params.add(p);
        return p;
    }

    /** Box-Muller: a platform-independent normal deviate from the seeded generator. */
    private static double gaussian(SplittableRandom r) {
        double u = 1.0 - r.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r.nextDouble());
    }

    /**
     * Trains for {@code steps} steps on windows of {@code corpus} picked from {@code seed} and
     * returns the mean loss of each step (before its update).
     */
    public static List<Float> train(ComputeBackend be, Config cfg, int[] corpus, int steps, float lr, long seed) {
        List<Float> losses = new ArrayList<>();
        try (ParityGpt gpt = new ParityGpt(be, cfg, seed)) {
            SplittableRandom batches = new SplittableRandom(seed ^ 0x5DEECE66DL);
            int n = cfg.batch() * cfg.blockSize();
            for (int s = 0; s < steps; s++) {
                int[] x = new int[n];
                int[] y = new int[n];
                for (int b = 0; b < cfg.batch(); b++) {
                    int start = batches.nextInt(corpus.length - cfg.blockSize());
                    System.arraycopy(corpus, start, x, b * cfg.blockSize(), cfg.blockSize());
                    System.arraycopy(corpus, start + 1, y, b * cfg.blockSize(), cfg.blockSize());
                }
                losses.add(gpt.step(x, y, lr));
            }
        }
        return losses;
    }

    private Tensor tmp(int... dims) {
        Tensor t = be.allocate(Shape.of(dims), DType.F32);
        scratch.add(t);
        return t;
    }

    private Tensor ids(int[] v) {
        Tensor t = be.allocate(Shape.of(v.length), DType.I32);
        scratch.add(t);
        be.writeInts(t, 0, v, 0, v.length);
        return t;
    }

    /** out (N, OC) = x (N, C) W^T (W: OC, C) + bias (OC). */
    private void linear(Tensor x, Param w, Param bias, Tensor out, int n, int c, int oc) {
        be.gemm(false, true, 1, n, oc, c, 1f, x, 0, 0, w.value(), 0, 0, 0f, out, 0, 0);
        if (bias != null) {
            be.add(out, bias.value(), out);
        }
    }

    /** dW += dout^T x, dbias += column sums of dout, dx (+)= dout W. */
    private void linearBackward(Tensor dout, Tensor x, Param w, Param bias, Tensor dx, boolean accumulateDx,
                                int n, int c, int oc) {
        be.gemm(true, false, 1, oc, c, n, 1f, dout, 0, 0, x, 0, 0, 1f, w.grad(), 0, 0);
        if (bias != null) {
            be.sumRows(dout, bias.grad());
        }
        be.gemm(false, false, 1, n, c, oc, 1f, dout, 0, 0, w.value(), 0, 0, accumulateDx ? 1f : 0f, dx, 0, 0);
    }

    /** Activations of one block, kept for its backward pass. */
    private record Acts(Tensor in, Tensor ln1, Tensor mean1, Tensor rstd1, Tensor qkv, Tensor att, Tensor atty,
                        Tensor x2, Tensor ln2, Tensor mean2, Tensor rstd2, Tensor fch, Tensor fchGelu, Tensor out) {
    }

    /** One forward, backward and AdamW update on a batch; returns the mean loss before the update. */
    public float step(int[] inputs, int[] targets, float lr) {
        int b = cfg.batch();
        int t = cfg.blockSize();
        int c = cfg.channels();
        int nh = cfg.heads();
        int v = cfg.vocab();
        int n = b * t;
        try {
            // ---- forward
            Tensor ids = ids(inputs);
            Tensor tgt = ids(targets);
            Tensor tok = tmp(n, c);
            be.embeddingForward(ids, wte.value(), tok);                       // (N, C)
            Tensor x = tmp(n, c);
            be.add(tok, wpe.value(), x);                                       // + wpe (T, C), repeated over B
            Acts[] acts = new Acts[layers.length];
            for (int l = 0; l < layers.length; l++) {
                Layer p = layers[l];
                Tensor ln1 = tmp(n, c);
                Tensor mean1 = tmp(n);
                Tensor rstd1 = tmp(n);
                be.layerNormForward(x, p.ln1w().value(), p.ln1b().value(), ln1, mean1, rstd1, LN_EPS);
                Tensor qkv = tmp(b, t, 3 * c);
                linear(ln1, p.qkvw(), p.qkvb(), qkv, n, c, 3 * c);
                Tensor att = tmp(b, nh, t, t);
                Tensor atty = tmp(b, t, c);
                be.attentionForward(qkv, att, atty, b, t, c, nh);
                Tensor proj = tmp(n, c);
                linear(atty, p.projw(), p.projb(), proj, n, c, c);
                Tensor x2 = tmp(n, c);
                be.add(x, proj, x2);                                           // residual
                Tensor ln2 = tmp(n, c);
                Tensor mean2 = tmp(n);
                Tensor rstd2 = tmp(n);
                be.layerNormForward(x2, p.ln2w().value(), p.ln2b().value(), ln2, mean2, rstd2, LN_EPS);
                Tensor fch = tmp(n, 4 * c);
                linear(ln2, p.fcw(), p.fcb(), fch, n, c, 4 * c);
                Tensor fchGelu = tmp(n, 4 * c);
                be.geluForward(fch, fchGelu);
                Tensor fcproj = tmp(n, c);
                linear(fchGelu, p.fcprojw(), p.fcprojb(), fcproj, n, 4 * c, c);
                Tensor out = tmp(n, c);
                be.add(x2, fcproj, out);                                       // residual
                acts[l] = new Acts(x, ln1, mean1, rstd1, qkv, att, atty, x2, ln2, mean2, rstd2, fch, fchGelu, out);
                x = out;
            }
            Tensor lnf = tmp(n, c);
            Tensor meanf = tmp(n);
            Tensor rstdf = tmp(n);
            be.layerNormForward(x, lnfw.value(), lnfb.value(), lnf, meanf, rstdf, LN_EPS);
            Tensor logits = tmp(n, v);
            be.gemm(false, true, 1, n, v, c, 1f, lnf, 0, 0, wte.value(), 0, 0, 0f, logits, 0, 0);  // tied head
            Tensor probs = tmp(n, v);
            Tensor losses = tmp(n);
            be.crossEntropyForward(logits, tgt, probs, losses);
            float loss = (float) (be.sum(losses) / n);

            // ---- backward
            Tensor dlosses = tmp(n);
            be.fill(dlosses, 1f / n);
            Tensor dlogits = tmp(n, v);
            be.crossEntropyBackward(probs, tgt, dlosses, dlogits);
            be.gemm(true, false, 1, v, c, n, 1f, dlogits, 0, 0, lnf, 0, 0, 1f, wte.grad(), 0, 0);
            Tensor dlnf = tmp(n, c);
            be.gemm(false, false, 1, n, c, v, 1f, dlogits, 0, 0, wte.value(), 0, 0, 0f, dlnf, 0, 0);
            Tensor dx = tmp(n, c);
            be.layerNormBackward(dlnf, x, lnfw.value(), meanf, rstdf, dx, lnfw.grad(), lnfb.grad());
            for (int l = layers.length - 1; l >= 0; l--) {
                Layer p = layers[l];
                Acts a = acts[l];
                // out = x2 + fcproj: dx flows to both
                Tensor dx2 = tmp(n, c);
                be.copy(dx, dx2);
                Tensor dfchGelu = tmp(n, 4 * c);
                linearBackward(dx, a.fchGelu(), p.fcprojw(), p.fcprojb(), dfchGelu, false, n, 4 * c, c);
                Tensor dfch = tmp(n, 4 * c);
                be.geluBackward(a.fch(), dfchGelu, dfch);
                Tensor dln2 = tmp(n, c);
                linearBackward(dfch, a.ln2(), p.fcw(), p.fcb(), dln2, false, n, c, 4 * c);
                be.layerNormBackward(dln2, a.x2(), p.ln2w().value(), a.mean2(), a.rstd2(), dx2, p.ln2w().grad(),
                        p.ln2b().grad());
                // x2 = in + proj: dx2 flows to both
                Tensor din = tmp(n, c);
                be.axpy(1f, dx2, din);
                Tensor datty = tmp(b, t, c);
                linearBackward(dx2, a.atty(), p.projw(), p.projb(), datty, false, n, c, c);
                Tensor dqkv = tmp(b, t, 3 * c);
                be.attentionBackward(datty, a.qkv(), a.att(), dqkv, b, t, c, nh);
                Tensor dln1 = tmp(n, c);
                linearBackward(dqkv, a.ln1(), p.qkvw(), p.qkvb(), dln1, false, n, c, 3 * c);
                be.layerNormBackward(dln1, a.in(), p.ln1w().value(), a.mean1(), a.rstd1(), din, p.ln1w().grad(),
                        p.ln1b().grad());
                dx = din;
            }
            be.embeddingBackward(ids, dx, wte.grad());
            be.sumRows(dx, wpe.grad());                                        // dx seen as (B, T*C)

            // ---- update
            step++;
            for (Param p : params) {
                be.adamwStep(p.value(), p.grad(), p.m(), p.v(), lr, BETA1, BETA2, ADAM_EPS,
                        p.decay() ? WEIGHT_DECAY : 0f, step);
                be.fill(p.grad(), 0f);
            }
            return loss;
        } finally {
            scratch.forEach(Tensor::close);
            scratch.clear();
        }
    }

    /** Reads every parameter back, in construction order, for comparisons after training. */
    public List<float[]> parameters() {
        List<float[]> out = new ArrayList<>();
        for (Param p : params) {
            float[] f = new float[(int) p.value().size()];
            be.read(p.value(), 0, f, 0, f.length);
            out.add(f);
        }
        return out;
    }

    @Override
    public void close() {
        for (Param p : params) {
            p.value().close();
            p.grad().close();
            p.m().close();
            p.v().close();
        }
        params.clear();
    }
}

package dev.cornerstone.core.autograd;

import java.util.HashMap;
import java.util.Map;

import dev.cornerstone.api.autograd.Ops;
import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.random.Seeds;

/**
 * {@link Ops} on one backend for one step: each op validates its arguments once (this is
 * the backend-neutral boundary; kernels trust what they get), runs the forward kernel and
 * records the backward kernel on the {@link Tape}. Forward and backward of an op sit side by
 * side in its method.
 *
 * <p>Legend: {@code B} batch, {@code T} time, {@code C} channels, {@code OC} output channels,
 * {@code NH} heads, {@code V} vocabulary, {@code N} rows (all leading dimensions together).
 */
public final class Graph implements Ops {

    private final ComputeBackend be;
    private final Tape tape;
    private final GradStore grads;
    private final boolean training;
    private final long dropoutSeed;
    private int dropoutCalls;
    private final Map<String, Node> params = new HashMap<>();

    /**
     * @param grads       where parameter gradients accumulate; null for a pass without
     *                    gradients (evaluation, generation)
     * @param training    whether dropout is active
     * @param dropoutSeed seed of this step's dropout masks (each dropout call derives its own)
     */
    public Graph(ComputeBackend backend, Tape tape, GradStore grads, boolean training, long dropoutSeed) {
        this.be = backend;
        this.tape = tape;
        this.grads = grads;
        this.training = training;
        this.dropoutSeed = dropoutSeed;
    }

    /** A pass with no gradients and no dropout. */
    public static Graph inference(ComputeBackend backend, Tape tape) {
        return new Graph(backend, tape, null, false, 0);
    }

    @Override
    public ComputeBackend backend() {
        return be;
    }

    @Override
    public boolean training() {
        return training;
    }

    @Override
    public Var param(String name, Tensor value) {
        Node existing = params.get(name);
        if (existing != null) {
            if (existing.value() != value) {
                throw new IllegalArgumentException("parameter " + name + " bound to two different tensors in one step");
            }
            return existing;
        }
        checkOwned("param " + name, value);
        boolean learn = grads != null && grads.isTrainable(name);
        Node n = new Node(value, learn, learn ? grads.gradFor(name, value) : null);
        params.put(name, n);
        if (learn) {
            tape.parameterBound(name, n.grad());
        }
        return n;
    }

    @Override
    public Var constant(Tensor value) {
        checkOwned("constant", value);
        return new Node(value, false, null);
    }

    private Node result(Shape shape, boolean requiresGrad) {
        // the op about to record its backward step has index stepCount(): its output's gradient
        // is read by that step and by none before it, so it can go right after
        // every op's forward kernel writes its whole output, so it need not be zeroed first
        return new Node(tape.allocateOutput(shape, DType.F32), requiresGrad, null, tape.stepCount());
    }

    private static Node node(Var v) {
        if (!(v instanceof Node n)) {
            throw new IllegalArgumentException("a Var from another Ops implementation: " + v.getClass().getName());
        }
        return n;
    }

    // ---- linear ----------------------------------------------------------------------------

    @Override
    public Var linear(Var xv, Var wv, Var bv) {
        Node x = node(xv), w = node(wv), b = bv == null ? null : node(bv);
        Shape xs = x.shape(), ws = w.shape();
        if (ws.rank() != 2 || xs.rank() < 1 || xs.dim(-1) != ws.dim(1)) {
            throw new IllegalArgumentException("linear: x " + xs + " and weight " + ws
                    + " do not match (weight must be (OC, C) with C = last dim of x)");
        }
        int n = (int) xs.rows(), c = ws.dim(1), oc = ws.dim(0);
        if (b != null && (b.shape().rank() != 1 || b.shape().dim(0) != oc)) {
            throw new IllegalArgumentException("linear: bias " + b.shape() + " must be (" + oc + ",)");
        }
        int[] outDims = xs.dims();
        outDims[outDims.length - 1] = oc;
        Node out = result(Shape.of(outDims), x.requiresGrad() || w.requiresGrad() || (b != null && b.requiresGrad()));
        // out (N, OC) = x (N, C) · w^T (C, OC)
        be.gemm(false, true, 1, n, oc, c, 1f, x.value(), 0, 0, w.value(), 0, 0, 0f, out.value(), 0, 0);
        if (b != null) {
            be.add(out.value(), b.value(), out.value());
        }
        if (out.requiresGrad()) {
            tape.record(() -> {
                Tensor dout = out.gradOn(tape);
                if (x.requiresGrad()) { // dx (N, C) += dout (N, OC) · w (OC, C)
                    be.gemm(false, false, 1, n, c, oc, 1f, dout, 0, 0, w.value(), 0, 0, 1f, x.gradOn(tape), 0, 0);
                }
                if (w.requiresGrad()) { // dw (OC, C) += dout^T (OC, N) · x (N, C)
                    be.gemm(true, false, 1, oc, c, n, 1f, dout, 0, 0, x.value(), 0, 0, 1f, w.gradOn(tape), 0, 0);
                }
                if (b != null && b.requiresGrad()) { // db (OC) += sum over rows of dout
                    be.sumRows(dout, b.gradOn(tape));
                }
            });
        }
        return out;
    }

    // ---- element-wise ----------------------------------------------------------------------

    @Override
    public Var add(Var av, Var bv) {
        Node a = node(av), b = node(bv);
        if (b.value().size() == 0 || a.value().size() % b.value().size() != 0 || !trailingMatch(a.shape(), b.shape())) {
            throw new IllegalArgumentException("add: " + b.shape() + " does not repeat over " + a.shape()
                    + " (its dimensions must be the trailing dimensions of the first operand)");
        }
        Node out = result(a.shape(), a.requiresGrad() || b.requiresGrad());
        be.add(a.value(), b.value(), out.value());
        if (out.requiresGrad()) {
            tape.record(() -> {
                Tensor dout = out.gradOn(tape);
                if (a.requiresGrad()) {
                    be.axpy(1f, dout, a.gradOn(tape));
                }
                if (b.requiresGrad()) {
                    if (b.value().size() == a.value().size()) {
                        be.axpy(1f, dout, b.gradOn(tape));
                    } else {
                        be.sumRows(dout, b.gradOn(tape));
                    }
                }
            });
        }
        return out;
    }

    private static boolean trailingMatch(Shape a, Shape b) {
        if (b.rank() > a.rank()) {
            return b.size() == a.size();
        }
        for (int i = 1; i <= b.rank(); i++) {
            if (a.dim(-i) != b.dim(-i)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Var gelu(Var xv) {
        Node x = node(xv);
        Node out = result(x.shape(), x.requiresGrad());
        be.geluForward(x.value(), out.value());
        if (out.requiresGrad()) {
            tape.record(() -> be.geluBackward(x.value(), out.gradOn(tape), x.gradOn(tape)));
        }
        return out;
    }

    @Override
    public Var scale(Var xv, float alpha) {
        Node x = node(xv);
        if (!Float.isFinite(alpha)) {
            throw new IllegalArgumentException("scale: alpha " + alpha + " is not a finite number");
        }
        Node out = result(x.shape(), x.requiresGrad());
        be.scale(x.value(), alpha, out.value());
        if (out.requiresGrad()) {
            tape.record(() -> be.axpy(alpha, out.gradOn(tape), x.gradOn(tape))); // dx += alpha * dout
        }
        return out;
    }

    // ---- pooling ---------------------------------------------------------------------------

    @Override
    public Var pool(Var xv, Tensor weights) {
        Node x = node(xv);
        Shape xs = x.shape();
        if (xs.rank() != 3) {
            throw new IllegalArgumentException("pool: x must be (B, T, C), got " + xs);
        }
        int b = xs.dim(0), t = xs.dim(1), c = xs.dim(2);
        if (weights.dtype() != DType.F32 || !weights.shape().equals(Shape.of(b, t))) {
            throw new IllegalArgumentException("pool: weights must be F32 (" + b + ", " + t + ") for x " + xs + ", got "
                    + weights.dtype() + " " + weights.shape());
        }
        checkOwned("pool weights", weights);
        Node out = result(Shape.of(b, c), x.requiresGrad());   // (B, C)
        // out_b (1, C) = w_b (1, T) · x_b (T, C), for each b
        be.gemm(false, false, b, 1, c, t, 1f, weights, 0, t, x.value(), 0, (long) t * c, 0f, out.value(), 0, c);
        if (out.requiresGrad()) {
            // dx_b (T, C) += w_b^T (T, 1) · dout_b (1, C)
            tape.record(() -> be.gemm(true, false, b, t, c, 1, 1f, weights, 0, t, out.gradOn(tape), 0, c, 1f,
                    x.gradOn(tape), 0, (long) t * c));
        }
        return out;
    }

    // ---- normalisation ---------------------------------------------------------------------

    @Override
    public Var layerNorm(Var xv, Var wv, Var bv, float eps) {
        Node x = node(xv), w = node(wv), b = node(bv);
        int c = x.shape().dim(-1);
        if (w.shape().rank() != 1 || w.shape().dim(0) != c || !b.shape().equals(w.shape())) {
            throw new IllegalArgumentException("layerNorm: weight " + w.shape() + " and bias " + b.shape()
                    + " must both be (" + c + ",) for x " + x.shape());
        }
        Shape rows = Shape.of((int) x.shape().rows());
        Tensor mean = tape.allocate(rows, DType.F32);
        Tensor rstd = tape.allocate(rows, DType.F32);
        Node out = result(x.shape(), x.requiresGrad() || w.requiresGrad() || b.requiresGrad());
        be.layerNormForward(x.value(), w.value(), b.value(), out.value(), mean, rstd, eps);
        if (out.requiresGrad()) {
            tape.record(() -> {
                // the kernel writes all three gradients; unused ones go to scratch
                Tensor dx = x.requiresGrad() ? x.gradOn(tape) : tape.allocate(x.shape(), DType.F32);
                Tensor dw = w.requiresGrad() ? w.gradOn(tape) : tape.allocate(w.shape(), DType.F32);
                Tensor db = b.requiresGrad() ? b.gradOn(tape) : tape.allocate(b.shape(), DType.F32);
                be.layerNormBackward(out.gradOn(tape), x.value(), w.value(), mean, rstd, dx, dw, db);
            });
        }
        return out;
    }

    // ---- attention -------------------------------------------------------------------------

    @Override
    public Var causalSelfAttention(Var qkvv, int nHead) {
        Node qkv = node(qkvv);
        Shape s = qkv.shape();
        if (s.rank() != 3 || s.dim(2) % 3 != 0) {
            throw new IllegalArgumentException("causalSelfAttention: qkv must be (B, T, 3C), got " + s);
        }
        int b = s.dim(0), t = s.dim(1), c = s.dim(2) / 3;
        if (nHead <= 0 || c % nHead != 0) {
            throw new IllegalArgumentException("causalSelfAttention: C=" + c + " is not divisible by n_head=" + nHead);
        }
        Tensor att = tape.allocate(Shape.of(b, nHead, t, t), DType.F32); // (B, NH, T, T)
        Node out = result(Shape.of(b, t, c), qkv.requiresGrad());   // (B, T, C)
        be.attentionForward(qkv.value(), att, out.value(), b, t, c, nHead);
        if (out.requiresGrad()) {
            tape.record(() -> be.attentionBackward(out.gradOn(tape), qkv.value(), att, qkv.gradOn(tape), b, t, c, nHead));
        }
        return out;
    }

    // ---- embedding -------------------------------------------------------------------------

    @Override
    public Var embedding(Var tablev, Tensor ids) {
        Node table = node(tablev);
        if (ids.dtype() != DType.I32) {
            throw new IllegalArgumentException("embedding: ids must be I32, got " + ids.dtype());
        }
        checkOwned("embedding ids", ids);
        if (table.shape().rank() != 2) {
            throw new IllegalArgumentException("embedding: table must be (V, C), got " + table.shape());
        }
        int[] dims = new int[ids.shape().rank() + 1];
        System.arraycopy(ids.shape().dims(), 0, dims, 0, ids.shape().rank());
        dims[dims.length - 1] = table.shape().dim(1);
        Node out = result(Shape.of(dims), table.requiresGrad());
        be.embeddingForward(ids, table.value(), out.value());
        if (out.requiresGrad()) {
            tape.record(() -> be.embeddingBackward(ids, out.gradOn(tape), table.gradOn(tape)));
        }
        return out;
    }

    // ---- dropout, reshape ------------------------------------------------------------------

    @Override
    public Var dropout(Var xv, float p) {
        Node x = node(xv);
        if (p < 0 || p >= 1) {
            throw new IllegalArgumentException("dropout: p=" + p + " must be in [0, 1)");
        }
        if (!training || p == 0f) {
            return x;
        }
        // Not dropoutSeed γ + call: the kernel's state is seed + (i+1)γ, so that would make the mask
        // of graph seed D+s the mask of D shifted by s elements (and the trainer's seeds are neighbours).
        long seed = Seeds.derive(dropoutSeed, ++dropoutCalls);
        Tensor mask = tape.allocate(x.shape(), DType.F32);
        Node out = result(x.shape(), x.requiresGrad());
        be.dropoutForward(x.value(), mask, out.value(), p, seed);
        if (out.requiresGrad()) {
            tape.record(() -> {
                Tensor tmp = tape.allocate(x.shape(), DType.F32);
                be.mul(out.gradOn(tape), mask, tmp);
                be.axpy(1f, tmp, x.gradOn(tape));
            });
        }
        return out;
    }

    @Override
    public Var reshape(Var xv, Shape shape) {
        Node x = node(xv);
        if (shape.size() != x.value().size()) {
            throw new IllegalArgumentException("reshape: " + x.shape() + " has " + x.value().size()
                    + " elements, " + shape + " has " + shape.size());
        }
        // A copy rather than a view: tensors own their memory, and reshapes are rare here.
        Node out = result(shape, x.requiresGrad());
        be.copy(x.value(), out.value());
        if (out.requiresGrad()) {
            tape.record(() -> be.axpy(1f, out.gradOn(tape), x.gradOn(tape)));
        }
        return out;
    }

    // ---- loss ------------------------------------------------------------------------------

    @Override
    public Var crossEntropy(Var logitsv, Tensor targets) {
        Node logits = node(logitsv);
        Shape ls = logits.shape();
        if (targets.dtype() != DType.I32 || targets.size() != ls.rows()) {
            throw new IllegalArgumentException("crossEntropy: targets must be I32 with one entry per row of logits "
                    + ls + ", got " + targets.dtype() + " " + targets.shape());
        }
        checkOwned("crossEntropy targets", targets);
        int n = (int) ls.rows();
        int[] t = new int[n];
        be.readInts(targets, 0, t, 0, n);
        int counted = 0;
        for (int v : t) {
            if (v >= ls.dim(-1)) {
                throw new IllegalArgumentException("crossEntropy: target " + v + " is outside the vocabulary of "
                        + ls.dim(-1));
            }
            if (v >= 0) {
                counted++;
            }
        }
        Tensor probs = tape.allocate(ls, DType.F32);
        Tensor losses = tape.allocate(Shape.of(n), DType.F32);
        be.crossEntropyForward(logits.value(), targets, probs, losses);
        Node out = result(Shape.of(1), logits.requiresGrad());
        float mean = counted == 0 ? 0f : (float) (be.sum(losses) / counted);
        be.write(out.value(), 0, new float[] {mean}, 0, 1);
        final int count = counted;
        if (out.requiresGrad() && count > 0) {
            tape.record(() -> {
                float[] g = new float[1];
                be.read(out.gradOn(tape), 0, g, 0, 1);
                Tensor dlosses = tape.allocate(Shape.of(n), DType.F32);
                be.fill(dlosses, g[0] / count);
                be.crossEntropyBackward(probs, targets, dlosses, logits.gradOn(tape));
            });
        }
        return out;
    }

    private void checkOwned(String what, Tensor t) {
        if (t.backend() != be) {
            throw new IllegalArgumentException(what + ": tensor " + t.shape() + " lives on backend "
                    + t.backend().name() + ", this graph computes on " + be.name());
        }
        if (t.isClosed()) {
            throw new IllegalArgumentException(what + ": tensor " + t.shape() + " is closed");
        }
    }

    /** The single float of a scalar result, read back to the host. */
    public static float scalar(Var v) {
        float[] f = new float[1];
        v.value().backend().read(v.value(), 0, f, 0, 1);
        return f[0];
    }
}

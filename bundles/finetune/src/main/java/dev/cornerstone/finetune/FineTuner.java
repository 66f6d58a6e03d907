package dev.cornerstone.finetune;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.autograd.GradStore;
import dev.cornerstone.core.autograd.Graph;
import dev.cornerstone.core.autograd.Tape;
import dev.cornerstone.core.random.Seeds;
import dev.cornerstone.core.train.LrSchedule;

/**
 * The fine-tuning loop of a classifier on one backend:
 *
 * <pre>
 * for each step:
 *   batch_size texts (ExampleOrder), forward, cross-entropy against their labels, backward
 *   clip gradients to grad_clip by global norm (if > 0)
 *   optimizer step on the trainable parameters only, with the schedule's learning rate lr: each
 *     parameter at lr × its factor (lrScales: the head at 1, the body at body_lr_scale, a LoRA B at
 *     body_lr_scale × lora.lr_ratio_b), one optimizer call per factor, as one step; zero gradients
 * </pre>
 *
 * Parameters outside {@code trainable} get no gradient, no optimizer state and no update: they
 * stay bit for bit as they were. Everything random derives from the seed and the step.
 */
final class FineTuner implements AutoCloseable {

    /** {@code lrScales}: the factor on the schedule's rate of each trainable parameter; one not in it learns at 1. */
    record Config(int batchSize, int steps, float gradClip, long seed, LrSchedule schedule,
                  FineTuneSpec.Pooling pooling, Map<String, Double> lrScales) {
        Config {
            lrScales = Map.copyOf(lrScales);
        }
    }

    /** What one step did. */
    record StepResult(int step, float trainLoss, float lr, double gradNorm, long tokens, double seconds) {
        double tokensPerSecond() {
            return seconds > 0 ? tokens / seconds : 0;
        }
    }

    private final ComputeBackend be;
    private final Classifier classifier;
    private final SequencedMap<String, Tensor> trainable;
    private final Optimizer optimizer;
    private final TextSet train;
    private final Config cfg;
    private final ExampleOrder order;
    private final GradStore grads;
    /** The trainable parameters by the factor on the rate they learn at, in order of first appearance. */
    private final SequencedMap<Double, SequencedMap<String, Tensor>> groups = new LinkedHashMap<>();
    private int step;

    FineTuner(ComputeBackend backend, Classifier classifier, SequencedMap<String, Tensor> trainable,
              Optimizer optimizer, TextSet train, Config cfg) {
        this.be = backend;
        this.classifier = classifier;
        this.trainable = trainable;
        this.optimizer = optimizer;
        this.train = train;
        this.cfg = cfg;
        this.order = new ExampleOrder(train.size(), cfg.batchSize(), cfg.seed());
        this.grads = new GradStore(backend, trainable::containsKey);
        trainable.forEach((name, t) -> groups.computeIfAbsent(cfg.lrScales().getOrDefault(name, 1.0),
                f -> new LinkedHashMap<>()).put(name, t));
    }

    int step() {
        return step;
    }

    boolean done() {
        return step >= cfg.steps();
    }

    /** The index of the next batch: the data position a checkpoint records. */
    long dataPosition() {
        return step;
    }

    StepResult trainStep() {
        long t0 = System.nanoTime();
        int s = step + 1;
        float loss;
        long tokens;
        try (TextSet.Batch batch = train.batch(be, order.batch(step), cfg.pooling()); Tape tape = new Tape(be)) {
            Graph g = new Graph(be, tape, grads, true, Seeds.derive(cfg.seed(), s));
            Var l = g.crossEntropy(classifier.logits(g, batch.ids(), batch.weights()), batch.labels());
            tape.backward(l, 1f);
            loss = Graph.scalar(l);
            tokens = batch.tokens();
        }
        double norm = grads.globalNorm();
        if (cfg.gradClip() > 0 && norm > cfg.gradClip()) {
            grads.scale((float) (cfg.gradClip() / (norm + 1e-6)));
        }
        float lr = cfg.schedule().at(s);
        // one call per learning rate, together one step (Adam's bias correction counts it once)
        int before = optimizer.stepCount();
        for (Map.Entry<Double, SequencedMap<String, Tensor>> g : groups.entrySet()) {
            optimizer.setStepCount(before);
            optimizer.step(g.getValue(), gradsOf(g.getValue()), g.getKey() == 1.0 ? lr : (float) (lr * g.getKey()));
        }
        grads.zero();
        step = s;
        return new StepResult(s, loss, lr, norm, tokens, (System.nanoTime() - t0) / 1e9);
    }

    /** The gradients of {@code params} that the step produced (a parameter the loss did not reach has none). */
    private SequencedMap<String, Tensor> gradsOf(SequencedMap<String, Tensor> params) {
        SequencedMap<String, Tensor> g = new LinkedHashMap<>();
        for (String name : params.keySet()) {
            Tensor t = grads.grads().get(name);
            if (t != null) {
                g.put(name, t);
            }
        }
        return g;
    }

    /** Probabilities and the mean loss of a set, in its order. */
    record Scores(float[][] probabilities, double loss) {
        int[] predicted() {
            int[] p = new int[probabilities.length];
            for (int i = 0; i < p.length; i++) {
                float[] row = probabilities[i];
                for (int k = 1; k < row.length; k++) {
                    if (row[k] > row[p[i]]) {
                        p[i] = k;
                    }
                }
            }
            return p;
        }
    }

    /**
     * Class probabilities (softmax of the logits, in double) for every text of {@code set}, in
     * batches of {@code batchSize}; the loss counts the labelled texts only.
     */
    static Scores score(ComputeBackend be, Classifier classifier, TextSet set, int batchSize,
                        FineTuneSpec.Pooling pooling) {
        int n = set.size();
        int k = classifier.classes();
        float[][] probs = new float[n][];
        double lossSum = 0;
        int labelled = 0;
        for (int start = 0; start < n; start += batchSize) {
            int b = Math.min(batchSize, n - start);
            int[] idx = new int[b];
            for (int i = 0; i < b; i++) {
                idx[i] = start + i;
            }
            float[] logits = new float[b * k];
            try (TextSet.Batch batch = set.batch(be, idx, pooling); Tape tape = new Tape(be)) {
                Var out = classifier.logits(Graph.inference(be, tape), batch.ids(), batch.weights());
                be.read(out.value(), 0, logits, 0, logits.length);
            }
            for (int i = 0; i < b; i++) {
                double max = Double.NEGATIVE_INFINITY;
                for (int c = 0; c < k; c++) {
                    max = Math.max(max, logits[i * k + c]);
                }
                double sum = 0;
                for (int c = 0; c < k; c++) {
                    sum += Math.exp(logits[i * k + c] - max);
                }
                float[] p = new float[k];
                for (int c = 0; c < k; c++) {
                    p[c] = (float) (Math.exp(logits[i * k + c] - max) / sum);
                }
                probs[start + i] = p;
                int label = set.labels()[start + i];
                if (label >= 0) {
                    lossSum += -(logits[i * k + label] - max - Math.log(sum));
                    labelled++;
                }
            }
        }
        return new Scores(probs, labelled == 0 ? Double.NaN : lossSum / labelled);
    }

    /** Metrics on a labelled set. */
    Metrics evaluate(TextSet set, List<String> labels) {
        Scores s = score(be, classifier, set, cfg.batchSize(), cfg.pooling());
        return Metrics.of(labels, set.labels(), s.predicted(), s.loss());
    }

    @Override
    public void close() {
        grads.close();
    }
}

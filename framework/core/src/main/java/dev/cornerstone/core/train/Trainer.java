package dev.cornerstone.core.train;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SequencedMap;
import java.util.function.Consumer;

import dev.cornerstone.api.autograd.Var;
import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.optim.Optimizer;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.core.autograd.GradStore;
import dev.cornerstone.core.autograd.Graph;
import dev.cornerstone.core.autograd.Tape;
import dev.cornerstone.core.checkpoint.CheckpointException;
import dev.cornerstone.core.checkpoint.Checkpoints;
import dev.cornerstone.core.checkpoint.SafeTensors;
import dev.cornerstone.core.data.TokenBatcher;
import dev.cornerstone.core.random.Seeds;

/**
 * The training loop of a causal language model on one backend:
 *
 * <pre>
 * for each step:
 *   for each of grad_accum micro-batches:  forward, loss, backward (gradients accumulate, scaled 1/grad_accum)
 *     data parallel, last micro-batch: each gradient handed to the sync as soon as it is final
 *     (GradientSync.gradientFinal), so its averaging overlaps the rest of backward
 *   data parallel only: average gradients and loss over the ranks (each took its share of the batch)
 *   clip gradients to grad_clip by global norm (if > 0)
 *   optimizer step with the schedule's learning rate; zero gradients
 *     (ZeRO-1: over the parameters this rank owns, then every rank takes every parameter from its owner)
 *   every eval_every steps: mean loss over eval_batches fixed validation batches
 * </pre>
 *
 * Everything random derives from the seed and the step number, so the loss sequence from a
 * checkpoint at step k equals that of an uninterrupted run from step k on.
 */
public final class Trainer implements AutoCloseable {

    /**
     * @param batchSize       sequences per micro-batch
     * @param steps           optimizer steps in the whole run
     * @param gradAccum       micro-batches per step
     * @param gradClip        clip the global gradient norm to this; 0 disables
     * @param evalEvery       evaluate every so many steps (and at the last); 0 disables
     * @param evalBatches     validation batches per evaluation
     * @param seed            seed of batches and dropout
     */
    public record Config(int batchSize, int steps, int gradAccum, float gradClip, int evalEvery, int evalBatches,
                         long seed, LrSchedule schedule) {
        public Config {
            if (batchSize < 1 || steps < 1 || gradAccum < 1 || evalBatches < 0 || evalEvery < 0 || gradClip < 0) {
                throw new IllegalArgumentException("bad trainer config " + this);
            }
        }
    }

    /** What one step did. {@code valLoss} is NaN when the step did not evaluate. */
    public record StepResult(int step, float trainLoss, float valLoss, float lr, double gradNorm, long tokens,
                             double seconds) {
        public double tokensPerSecond() {
            return seconds > 0 ? tokens / seconds : 0;
        }
    }

    private final ComputeBackend be;
    private final Model model;
    private final Optimizer optimizer;
    private final Config cfg;
    private final TokenBatcher train;
    private final int[] validation;
    private final GradStore grads;
    private int step;
    private Map<String, Object> lastPhases = Map.of();
    /** Data parallelism: null when this trainer trains alone. */
    private GradientSync sync;
    /** ZeRO-1: the same object as {@link #sync} when the optimizer state is sharded, else null. */
    private OptimizerSharding sharding;
    /** Optimizer state from a checkpoint, written into the optimizer at its first use (see {@link #restoreOptimizerState}). */
    private SequencedMap<String, SafeTensors.Entry> pendingState;
    private String pendingStateFile;

    public Trainer(ComputeBackend backend, Model model, Optimizer optimizer, int[] trainTokens, int[] valTokens,
                   Config cfg) {
        this.be = backend;
        this.model = model;
        this.optimizer = optimizer;
        this.cfg = cfg;
        this.train = new TokenBatcher(trainTokens, cfg.batchSize(), model.blockSize(), cfg.seed());
        this.validation = valTokens;
        this.grads = new GradStore(backend);
    }

    public int step() {
        return step;
    }

    /**
     * Makes this trainer one rank of data-parallel training (call before the first step): each
     * step it takes its share of the global batch's sequences and averages gradients and loss
     * with the other ranks through {@code sync}, so all ranks step as one process on the whole
     * batch would. With dropout, each rank draws its own masks, so the sequence then differs
     * from one process's. An {@link OptimizerSharding} (ZeRO-1) is told the parameters here,
     * and this rank's optimizer then holds and updates only those it owns.
     */
    public void dataParallel(GradientSync sync) {
        int world = sync.worldSize();
        if (world < 1 || sync.rank() < 0 || sync.rank() >= world) {
            throw new IllegalArgumentException("rank " + sync.rank() + " is not in a world of " + world);
        }
        if (cfg.batchSize() % world != 0) {
            throw new IllegalArgumentException("train.batch_size " + cfg.batchSize() + " must be a multiple of the "
                    + world + " ranks of data-parallel training (each takes an equal share of every batch)");
        }
        this.sync = world == 1 ? null : sync;
        this.sharding = null;
        if (this.sync instanceof OptimizerSharding s) {
            s.shard(model.parameters());
            this.sharding = s;
        }
    }

    /** The data-parallel sync this trainer steps with; null when it trains alone. */
    public GradientSync gradientSync() {
        return sync;
    }

    /**
     * The parameters this rank's optimizer updates and holds state for: all of them, or with
     * ZeRO-1 ({@link OptimizerSharding}) those this rank owns.
     */
    public SequencedMap<String, Tensor> optimizedParameters() {
        SequencedMap<String, Tensor> all = model.parameters();
        if (sharding == null) {
            return all;
        }
        SequencedMap<String, Tensor> own = new java.util.LinkedHashMap<>();
        for (var e : all.entrySet()) {
            if (sharding.owns(e.getKey())) {
                own.put(e.getKey(), e.getValue());
            }
        }
        return own;
    }

    /**
     * Optimizer state to resume from: the whole state of a checkpoint ({@code <param>.<slot>}
     * for every parameter, whatever world size wrote it). It is written into the optimizer at
     * its first use, once {@link #dataParallel} has said which parameters this rank's optimizer
     * holds, so a ZeRO-1 rank never allocates the state of parameters it does not own. Names
     * that belong to no parameter fail here; missing names and wrong shapes at the first use,
     * naming {@code file}.
     */
    public void restoreOptimizerState(SequencedMap<String, SafeTensors.Entry> state, String file)
            throws CheckpointException {
        SequencedMap<String, Tensor> params = model.parameters();
        for (String name : state.keySet()) {
            int dot = name.lastIndexOf('.');
            if (dot < 1 || !params.containsKey(name.substring(0, dot))) {
                throw new CheckpointException(file + ": tensor " + name + " is not the state of a parameter of this "
                        + "model");
            }
        }
        this.pendingState = state;
        this.pendingStateFile = file;
    }

    /**
     * This rank's optimizer state as held on the backend: the whole state when training alone
     * or with plain data parallelism, the state of the owned parameters with ZeRO-1.
     */
    public SequencedMap<String, Tensor> optimizerState() {
        SequencedMap<String, Tensor> local = optimizer.state(optimizedParameters());
        if (pendingState != null) {
            // Each rank checks the names of the parameters it owns (all of them when alone).
            SequencedMap<String, SafeTensors.Entry> mine = new java.util.LinkedHashMap<>();
            for (var e : pendingState.entrySet()) {
                String param = e.getKey().substring(0, e.getKey().lastIndexOf('.'));
                if (sharding == null || sharding.owns(param)) {
                    mine.put(e.getKey(), e.getValue());
                }
            }
            try {
                Checkpoints.toDevice(mine, local, pendingStateFile); // a name missing from the file fails here
            } catch (CheckpointException e) {
                throw new java.io.UncheckedIOException(e.getMessage(), e);
            }
            pendingState = null;
            pendingStateFile = null;
        }
        return local;
    }

    /**
     * The whole optimizer state, in host memory, under the names single-process training gives
     * it, whatever the world size: what a checkpoint stores. With ZeRO-1 it is gathered from all
     * ranks, so every rank must call it at the same step.
     */
    public SequencedMap<String, SafeTensors.Entry> fullOptimizerState() {
        SequencedMap<String, Tensor> local = optimizerState();
        if (sharding == null) {
            return Checkpoints.toHost(local);
        }
        return sharding.gatherState(local, model.parameters(), be);
    }

    /** Bytes of optimizer state this rank holds on its backend (with ZeRO-1 about 1/N of the whole). */
    public long optimizerStateBytes() {
        return bytes(optimizerState());
    }

    /** Bytes of the model's parameters on this rank's backend. */
    public long parameterBytes() {
        return bytes(model.parameters());
    }

    private static long bytes(SequencedMap<String, Tensor> tensors) {
        long n = 0;
        for (Tensor t : tensors.values()) {
            n += t.size() * t.dtype().bytes();
        }
        return n;
    }

    /** This rank's rows of a global batch (all of it when training alone). */
    private TokenBatcher.Batch shard(TokenBatcher.Batch batch) {
        if (sync == null) {
            return batch;
        }
        int rows = batch.batchSize() / sync.worldSize();
        int from = sync.rank() * rows * batch.blockSize();
        int to = from + rows * batch.blockSize();
        return new TokenBatcher.Batch(java.util.Arrays.copyOfRange(batch.inputs(), from, to),
                java.util.Arrays.copyOfRange(batch.targets(), from, to), rows, batch.blockSize());
    }

    public TokenBatcher data() {
        return train;
    }

    public GradStore grads() {
        return grads;
    }

    /** Resume point: the number of steps done and the data position after them. */
    public void restore(int stepsDone, long dataPosition) {
        this.step = stepsDone;
        train.seek(dataPosition);
        optimizer.setStepCount(stepsDone);
    }

    public boolean done() {
        return step >= cfg.steps();
    }

    /** Runs one optimizer step. */
    public StepResult trainStep() {
        long t0 = System.nanoTime();
        long cpu0 = threadCpuNanos();
        int s = step + 1;
        double lossSum = 0;
        for (int micro = 0; micro < cfg.gradAccum(); micro++) {
            TokenBatcher.Batch batch = shard(train.next());
            long dropoutSeed = Seeds.derive(Seeds.derive(cfg.seed(), s), micro);
            try (Tape tape = new Tape(be);
                 Tensor x = ids(batch.inputs(), batch.batchSize(), batch.blockSize());
                 Tensor y = ids(batch.targets(), batch.batchSize(), batch.blockSize())) {
                if (sync != null && micro == cfg.gradAccum() - 1) { // the last contributions come now
                    GradientSync ranks = sync;
                    tape.onGradientFinal((name, grad) -> ranks.gradientFinal(name, grad, be));
                }
                Graph g = new Graph(be, tape, grads, true, dropoutSeed);
                Var logits = model.forward(g, x);
                Var loss = g.crossEntropy(logits, y);
                tape.backward(loss, 1f / cfg.gradAccum());
                lossSum += Graph.scalar(loss);
            }
        }
        long t1 = System.nanoTime();
        if (sync != null) {
            sync.averageGradients(grads.grads(), be);
            lossSum = sync.average(lossSum);
        }
        long t2 = System.nanoTime();
        // ZeRO-1: only the owned gradients are averaged, so the norm is summed over the owners
        double norm = sharding != null ? sharding.globalNorm(grads.grads(), be) : grads.globalNorm();
        if (cfg.gradClip() > 0 && norm > cfg.gradClip()) {
            grads.scale((float) (cfg.gradClip() / (norm + 1e-6)));
        }
        float lr = cfg.schedule().at(s);
        optimizerState(); // a restored state goes in before the first step
        SequencedMap<String, Tensor> params = optimizedParameters();
        optimizer.step(params, trainableGrads(params), lr);
        if (sharding != null) {
            sharding.gatherParameters(model.parameters(), be);
        }
        grads.zero();
        step = s;
        long t3 = System.nanoTime();
        double seconds = (t3 - t0) / 1e9; // training only: evaluation is not throughput
        long cpu1 = threadCpuNanos();
        Map<String, Object> phases = new LinkedHashMap<>();
        phases.put("compute_ms", millis(t1 - t0));
        phases.put("sync_ms", millis(t2 - t1));
        phases.put("update_ms", millis(t3 - t2));
        if (cpu0 >= 0 && cpu1 >= 0) {
            phases.put("step_thread_cpu_ms", millis(cpu1 - cpu0));
        }
        lastPhases = phases;
        float val = Float.NaN;
        if (cfg.evalEvery() > 0 && (s % cfg.evalEvery() == 0 || s == cfg.steps()) && cfg.evalBatches() > 0) {
            val = evaluate(validation, cfg.evalBatches());
        }
        long tokens = (long) cfg.gradAccum() * cfg.batchSize() * model.blockSize();
        return new StepResult(s, (float) (lossSum / cfg.gradAccum()), val, lr, norm, tokens, seconds);
    }

    /**
     * Where the last step's time went, for the metrics: {@code compute_ms} (forward and backward
     * of every micro-batch, gradient hand-offs to a sync included), {@code sync_ms} (averaging
     * after backward: waiting for the collectives), {@code update_ms} (norm, clipping, optimizer
     * step, ZeRO-1's parameter all-gather, zeroing the gradients) and {@code step_thread_cpu_ms}
     * (CPU time of the training thread in the step; below the step's wall time when the thread
     * waited or was descheduled). Empty before the first step.
     */
    public Map<String, Object> lastStepPhases() {
        return lastPhases;
    }

    private static double millis(long nanos) {
        return Math.round(nanos / 1e4) / 100.0;
    }

    private static final java.lang.management.ThreadMXBean THREADS =
            java.lang.management.ManagementFactory.getThreadMXBean();

    private static long threadCpuNanos() {
        return THREADS.isCurrentThreadCpuTimeSupported() ? THREADS.getCurrentThreadCpuTime() : -1;
    }

    private SequencedMap<String, Tensor> trainableGrads(SequencedMap<String, Tensor> params) {
        SequencedMap<String, Tensor> g = new java.util.LinkedHashMap<>();
        for (String name : params.keySet()) {
            Tensor t = grads.grads().get(name);
            if (t != null) {
                g.put(name, t);
            }
        }
        return g;
    }

    /** Runs steps until done, reporting each. */
    public void run(Consumer<StepResult> listener) {
        while (!done()) {
            listener.accept(trainStep());
        }
    }

    /**
     * Mean loss over {@code batches} validation batches; the batches are the same at every
     * evaluation (a fixed seed), so evaluations are comparable across steps and runs.
     */
    public float evaluate(int[] tokens, int batches) {
        TokenBatcher val = new TokenBatcher(tokens, cfg.batchSize(), model.blockSize(), 0x5EEDL);
        double sum = 0;
        for (int i = 0; i < batches; i++) {
            TokenBatcher.Batch batch = val.batch(i);
            try (Tape tape = new Tape(be);
                 Tensor x = ids(batch.inputs(), batch.batchSize(), batch.blockSize());
                 Tensor y = ids(batch.targets(), batch.batchSize(), batch.blockSize())) {
                Graph g = Graph.inference(be, tape);
                sum += Graph.scalar(g.crossEntropy(model.forward(g, x), y));
            }
        }
        return (float) (sum / batches);
    }

    /**
     * Mean loss per token over the whole of {@code tokens}, in consecutive windows of the block
     * size (the last partial window left out): no sampling, so two models, or two frameworks,
     * evaluated this way on the same split see exactly the same text.
     */
    public float evaluateAll(int[] tokens) {
        int t = model.blockSize();
        int windows = (tokens.length - 1) / t;
        if (windows < 1) {
            throw new IllegalArgumentException("a split of " + tokens.length + " tokens holds no window of "
                    + "block_size " + t + " plus one target");
        }
        double sum = 0;
        for (int first = 0; first < windows; first += cfg.batchSize()) {
            int b = Math.min(cfg.batchSize(), windows - first);
            int[] x = new int[b * t];
            int[] y = new int[b * t];
            for (int i = 0; i < b; i++) {
                System.arraycopy(tokens, (first + i) * t, x, i * t, t);
                System.arraycopy(tokens, (first + i) * t + 1, y, i * t, t);
            }
            try (Tape tape = new Tape(be); Tensor tx = ids(x, b, t); Tensor ty = ids(y, b, t)) {
                Graph g = Graph.inference(be, tape);
                sum += Graph.scalar(g.crossEntropy(model.forward(g, tx), ty)) * b;
            }
        }
        return (float) (sum / windows);
    }

    /** Frees the gradients (the model and optimizer belong to the caller). */
    @Override
    public void close() {
        grads.close();
    }

    private Tensor ids(int[] data, int b, int t) {
        Tensor ids = be.allocate(Shape.of(b, t), DType.I32);
        be.writeInts(ids, 0, data, 0, data.length);
        return ids;
    }
}

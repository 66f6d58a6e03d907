package dev.cornerstone.cluster.parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.collective.Partition;
import dev.cornerstone.cluster.collective.ReduceOp;
import dev.cornerstone.core.checkpoint.SafeTensors;
import dev.cornerstone.core.train.OptimizerSharding;

/**
 * ZeRO stage 1 over a ring: the optimizer state is partitioned over the ranks by whole
 * parameters. Each parameter is owned by one rank, chosen to balance the ranks' elements
 * (largest parameter first, to the rank holding least so far); a rank's optimizer holds and
 * updates only the state of what it owns, so the optimizer bundles (one fused kernel per
 * whole parameter, weight decay by the parameter's rank) work unchanged.
 *
 * <p>One flat off-heap buffer of little-endian floats (reused; with the {@code SOCKET} transport
 * the ring sends from it and receives into it with no staging copy) is laid out owner by owner: rank {@code r}'s parameters, in
 * model order, fill segment {@code r}, and every segment is padded to the largest rank's share
 * {@code S}, so segment {@code r} is exactly the ring's {@link Partition} segment {@code r} of
 * {@code N x S} elements. A step is then:
 *
 * <pre>
 * gradients → buffer; reduce-scatter (mean)       segment r holds the mean gradients of what rank r owns
 * owned gradients ← segment r
 * norm² = Σ over ranks of the owned sum of squares  (all-gather of one double per rank, summed in rank order)
 * optimizer step over the owned parameters
 * owned parameters → segment r; all-gather         every rank holds every parameter, bit for bit its owner's
 * </pre>
 *
 * Reduce-scatter plus all-gather move the bytes of one all-reduce, as data parallelism does;
 * the padding adds {@code N x S - total} elements. A parameter larger than {@code total / N}
 * (an embedding on many ranks) bounds the balance: its owner holds at least its state.
 *
 * <p>Every rank must be built the same way and hand in the same parameters (a
 * {@link dev.cornerstone.core.train.Trainer} with the same model does). A checkpoint gathers
 * the whole state under single-process names ({@link #gatherState}), so any world size loads it.
 */
public final class ZeroOneSync implements OptimizerSharding {

    private final Communicator comm;
    /** Little-endian floats, {@code share x world} of them; freed with the sync (by the collector). */
    private MemorySegment flat = MemorySegment.NULL;
    /** Where each parameter lives in the flat buffer, keyed by name, in model order. */
    private final SequencedMap<String, Slot> layout = new LinkedHashMap<>();
    /** Elements per rank's segment, padding included. */
    private int share;

    /** One parameter in the flat buffer: its owner, its first element, its shape. */
    private record Slot(int owner, int offset, int size, int[] shape) {
    }

    public ZeroOneSync(Communicator comm) {
        this.comm = comm;
    }

    @Override
    public int rank() {
        return comm.rank();
    }

    @Override
    public int worldSize() {
        return comm.worldSize();
    }

    @Override
    public void shard(SequencedMap<String, Tensor> params) {
        int world = worldSize();
        if (params.size() < world) {
            throw new IllegalArgumentException("zero1 over " + world + " ranks needs at least " + world
                    + " parameter tensors (each rank owns whole ones); the model has " + params.size());
        }
        List<String> names = new ArrayList<>(params.sequencedKeySet());
        long[] sizes = new long[names.size()];
        for (int i = 0; i < sizes.length; i++) {
            Tensor t = params.get(names.get(i));
            if (t.dtype() != DType.F32) {
                throw new IllegalArgumentException("zero1: parameter " + names.get(i) + " is " + t.dtype()
                        + "; only F32 parameters are sharded");
            }
            sizes[i] = t.size();
        }
        // Largest first, each to the least loaded rank (ties: the lower index, the lower rank).
        Integer[] order = new Integer[sizes.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> sizes[a] != sizes[b] ? Long.compare(sizes[b], sizes[a]) : Integer.compare(a, b));
        long[] load = new long[world];
        int[] owner = new int[sizes.length];
        int[] count = new int[world];
        for (int i : order) {
            int r = 0;
            for (int k = 1; k < world; k++) {
                if (load[k] < load[r] || (load[k] == load[r] && count[k] < count[r])) {
                    r = k;
                }
            }
            owner[i] = r;
            load[r] += sizes[i];
            count[r]++;
        }
        long max = Arrays.stream(load).max().orElse(0);
        if (max * world > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("zero1: " + Arrays.stream(sizes).sum() + " parameter elements over "
                    + world + " ranks do not fit one flat buffer (" + max + " elements per rank)");
        }
        share = (int) max;
        long[] next = new long[world];
        layout.clear();
        for (int i = 0; i < sizes.length; i++) {
            int r = owner[i];
            int offset = (int) (r * (long) share + next[r]);
            next[r] += sizes[i];
            layout.put(names.get(i), new Slot(r, offset, (int) sizes[i], params.get(names.get(i)).shape().dims()));
        }
        // shared: the ring's threads read and write it; automatic: no close call to forget
        flat = Arena.ofAuto().allocate((long) share * world * Float.BYTES, 64);
    }

    @Override
    public boolean owns(String name) {
        Slot s = layout.get(name);
        return s != null && s.owner() == rank();
    }

    /** Elements of the parameters (and so of each optimizer slot) this rank owns. */
    public long ownedElements() {
        long n = 0;
        for (Slot s : layout.values()) {
            if (s.owner() == rank()) {
                n += s.size();
            }
        }
        return n;
    }

    /** Elements of each rank's segment of the flat buffer: the largest share, which the others are padded to. */
    public int segmentElements() {
        return share;
    }

    /** Reduce-scatter: afterwards the gradients of the parameters this rank owns hold their mean over the ranks. */
    @Override
    public void averageGradients(SequencedMap<String, Tensor> grads, ComputeBackend backend) {
        requireShard();
        for (Map.Entry<String, Slot> e : layout.entrySet()) {
            Slot s = e.getValue();
            Tensor g = grads.get(e.getKey());
            if (g == null) {
                slice(s).fill((byte) 0); // frozen: no gradient
            } else {
                backend.read(g, 0, flat, bytes(s.offset()), s.size());
            }
        }
        for (String name : grads.keySet()) {
            if (!layout.containsKey(name)) {
                throw new IllegalArgumentException("zero1: gradient of " + name + ", which is no parameter it was "
                        + "sharded for");
            }
        }
        await(comm.reduceScatter(flat, ReduceOp.AVG), "reduce-scatter of the gradients");
        for (Map.Entry<String, Tensor> e : grads.entrySet()) {
            Slot s = layout.get(e.getKey());
            if (s.owner() == rank()) {
                backend.write(e.getValue(), 0, flat, bytes(s.offset()), s.size());
            }
        }
    }

    @Override
    public double average(double value) {
        float[] v = {(float) value};
        await(comm.allReduce(v, ReduceOp.AVG), "all-reduce of the loss");
        return v[0];
    }

    /**
     * Each rank's sum of squares of its owned (averaged) gradients, in double, travels as two
     * floats (high and low part, about 48 bits); every rank adds them in rank order, so every
     * rank gets the same norm, bit for bit.
     */
    @Override
    public double globalNorm(SequencedMap<String, Tensor> grads, ComputeBackend backend) {
        requireShard();
        double mine = 0;
        for (Map.Entry<String, Tensor> e : grads.entrySet()) {
            if (owns(e.getKey())) {
                mine += backend.sumOfSquares(e.getValue());
            }
        }
        int world = worldSize();
        float[] parts = new float[2 * world];
        float hi = (float) mine;
        parts[2 * rank()] = hi;
        parts[2 * rank() + 1] = (float) (mine - hi);
        await(comm.allGather(parts, 0, parts.length), "all-gather of the gradient norm");
        double sum = 0;
        for (int r = 0; r < world; r++) {
            sum += (double) parts[2 * r] + (double) parts[2 * r + 1];
        }
        return Math.sqrt(sum);
    }

    /** All-gather: every parameter takes its owner's value. */
    @Override
    public void gatherParameters(SequencedMap<String, Tensor> params, ComputeBackend backend) {
        requireShard();
        for (Map.Entry<String, Slot> e : layout.entrySet()) {
            Slot s = e.getValue();
            if (s.owner() == rank()) {
                backend.read(param(params, e.getKey()), 0, flat, bytes(s.offset()), s.size());
            }
        }
        await(comm.allGather(flat), "all-gather of the parameters");
        for (Map.Entry<String, Slot> e : layout.entrySet()) {
            Slot s = e.getValue();
            if (s.owner() != rank()) {
                backend.write(param(params, e.getKey()), 0, flat, bytes(s.offset()), s.size());
            }
        }
    }

    /**
     * Gathers the whole state, one optimizer slot at a time through the flat buffer. The state
     * must be per parameter ({@code <param>.<slot>}, shaped like the parameter, F32), as
     * {@link dev.cornerstone.core.optim.PerParameterOptimizer}'s is; anything else is refused.
     */
    @Override
    public SequencedMap<String, SafeTensors.Entry> gatherState(SequencedMap<String, Tensor> local,
                                                               SequencedMap<String, Tensor> params,
                                                               ComputeBackend backend) {
        requireShard();
        List<String> slots = slots(local);
        Map<String, Map<String, float[]>> bySlot = new LinkedHashMap<>();
        for (String slot : slots) {
            for (Map.Entry<String, Slot> e : layout.entrySet()) {
                Slot s = e.getValue();
                if (s.owner() == rank()) {
                    backend.read(local.get(e.getKey() + "." + slot), 0, flat, bytes(s.offset()), s.size());
                }
            }
            await(comm.allGather(flat), "all-gather of optimizer state " + slot);
            Map<String, float[]> values = new LinkedHashMap<>();
            for (Map.Entry<String, Slot> e : layout.entrySet()) {
                values.put(e.getKey(), slice(e.getValue()).toArray(Communicator.SEGMENT_FLOAT));
            }
            bySlot.put(slot, values);
        }
        SequencedMap<String, SafeTensors.Entry> whole = new LinkedHashMap<>();
        for (Map.Entry<String, Slot> e : layout.entrySet()) {
            for (String slot : slots) {
                whole.put(e.getKey() + "." + slot,
                        SafeTensors.Entry.of(e.getValue().shape().clone(), bySlot.get(slot).get(e.getKey())));
            }
        }
        return whole;
    }

    /**
     * The slot names of this rank's state, checked to be the same for every owned parameter
     * and shaped like it. Every rank owns a parameter ({@link #shard}) and runs the same
     * optimizer, so every rank finds the same slots.
     */
    private List<String> slots(SequencedMap<String, Tensor> local) {
        List<String> slots = null;
        for (Map.Entry<String, Slot> e : layout.entrySet()) {
            if (e.getValue().owner() != rank()) {
                continue;
            }
            String prefix = e.getKey() + ".";
            List<String> mine = new ArrayList<>();
            for (String k : local.keySet()) {
                String slot = k.startsWith(prefix) ? k.substring(prefix.length()) : null;
                if (slot != null && !slot.contains(".")) {
                    Tensor t = local.get(k);
                    if (!Arrays.equals(t.shape().dims(), e.getValue().shape()) || t.dtype() != DType.F32) {
                        throw new IllegalStateException("zero1 needs optimizer state shaped like its parameter: "
                                + k + " is " + t.dtype() + " " + t.shape() + ", " + e.getKey() + " is "
                                + Arrays.toString(e.getValue().shape()));
                    }
                    mine.add(slot);
                }
            }
            if (slots == null) {
                slots = mine;
            } else if (!slots.equals(mine)) {
                throw new IllegalStateException("zero1 needs the same optimizer slots for every parameter: "
                        + e.getKey() + " has " + mine + ", others " + slots);
            }
        }
        List<String> found = slots == null ? List.of() : slots;
        int expected = 0;
        for (Slot s : layout.values()) {
            expected += s.owner() == rank() ? found.size() : 0;
        }
        if (local.size() != expected) {
            throw new IllegalStateException("zero1: the optimizer holds " + local.size() + " state tensors on rank "
                    + rank() + ", expected " + expected + " (" + found + " for each owned parameter): " + local.keySet());
        }
        return found;
    }

    private static long bytes(int elements) {
        return (long) elements * Float.BYTES;
    }

    private MemorySegment slice(Slot s) {
        return flat.asSlice(bytes(s.offset()), bytes(s.size()));
    }

    private static Tensor param(SequencedMap<String, Tensor> params, String name) {
        Tensor t = params.get(name);
        if (t == null) {
            throw new IllegalArgumentException("zero1: parameter " + name + " is missing from the parameters handed in");
        }
        return t;
    }

    private void requireShard() {
        if (layout.isEmpty()) {
            throw new IllegalStateException("zero1: shard(params) was not called (Trainer.dataParallel does it)");
        }
    }

    private void await(CompletableFuture<Void> f, String what) {
        try {
            f.get();
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : new CompletionException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("zero1 rank " + rank() + ": interrupted during the " + what, e);
        }
    }
}

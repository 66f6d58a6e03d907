package dev.cornerstone.cluster.parallel;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
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
 * parameters, and the gradients are reduce-scattered in buckets overlapped with the backward
 * pass (as {@link DataParallelSync} all-reduces them). Each parameter is owned by one rank; a
 * rank's optimizer holds and updates only the state of what it owns, so the optimizer bundles
 * (one fused kernel per whole parameter, weight decay by the parameter's rank) work unchanged.
 *
 * <p><b>Buckets.</b> The parameters are taken in reverse model order (about the order backward
 * finishes their gradients) and cut into buckets of at least {@code cluster.bucket_bytes}. Within
 * a bucket each parameter goes to a rank, largest first to the rank holding least of the bucket
 * so far, and a bucket is closed only once it is balanced: every rank owns some of it and padding
 * it to {@code world} equal segments adds at most an eighth ({@link #MAX_PADDING}). A trailing
 * bucket that cannot be balanced (a large embedding at the model's start) is merged with the
 * buckets before it until it is, so in the worst case the whole model is one bucket, owned as
 * the whole model would be. The flat off-heap buffer of little-endian floats (reused; with the
 * {@code SOCKET} and {@code SHARED_MEMORY} transports the ring sends from it and receives into it
 * with no staging copy) holds the buckets one after the other; in bucket {@code b} of
 * {@code world x S_b} elements, rank {@code r}'s parameters fill segment {@code r}, padded to
 * {@code S_b}, which is exactly the ring's {@link Partition} segment {@code r}. A step is then:
 *
 * <pre>
 * during backward: each gradient, once final → buffer; each bucket whose gradients are all in:
 *                  reduce-scatter (mean), started at once, in plan order
 * averageGradients  the rest in; wait       segment r of each bucket holds the mean gradients rank r owns
 * owned gradients ← their segments
 * norm² = Σ over ranks of the owned sum of squares  (all-gather of one double per rank, summed in rank order)
 * optimizer step over the owned parameters
 * owned parameters → their segments; all-gather of each bucket, all in flight at once
 *                                            every rank holds every parameter, bit for bit its owner's
 * </pre>
 *
 * Reduce-scatter plus all-gather move the bytes of one all-reduce, as data parallelism does,
 * and the reduce-scatters overlap backward as its all-reduces do; the padding adds at most an
 * eighth of a bucket (more only in a bucket merged as above).
 *
 * <p>Every rank must be built the same way and hand in the same parameters (a
 * {@link dev.cornerstone.core.train.Trainer} with the same model does). A checkpoint gathers
 * the whole state under single-process names ({@link #gatherState}), so any world size loads it.
 */
public final class ZeroOneSync implements OptimizerSharding {

    /** The most padding a bucket may add to its elements to be closed: an eighth. */
    public static final double MAX_PADDING = 1.0 / 8;

    private final Communicator comm;
    private final long bucketBytes;
    /** Little-endian floats, the buckets one after the other; freed with the sync (by the collector). */
    private MemorySegment flat = MemorySegment.NULL;
    /** Where each parameter lives in the flat buffer, keyed by name, in model order. */
    private final SequencedMap<String, Slot> layout = new LinkedHashMap<>();
    /** Position of each parameter in {@link #layout}'s order. */
    private final Map<String, Integer> index = new HashMap<>();
    private Slot[] slots = new Slot[0];
    private String[] names = new String[0];
    private List<Bucket> buckets = List.of();

    /** The step in flight; made by {@link #shard}. */
    private BucketSteps steps;
    private Map<String, Object> lastStep = Map.of();

    /** One parameter in the flat buffer: its owner, its first element, its size and shape, its bucket. */
    private record Slot(int owner, int offset, int size, int[] shape, int bucket) {
    }

    /**
     * One bucket: elements {@code [offset, offset + world x share)} of the flat buffer; segment
     * {@code r} (of {@code share} elements) holds rank {@code r}'s parameters of the bucket.
     * {@code params} are in plan order.
     */
    public record Bucket(int offset, int share, List<String> params) {
    }

    public ZeroOneSync(Communicator comm) {
        this(comm, DataParallelSync.DEFAULT_BUCKET_BYTES);
    }

    /** @param bucketBytes gradient bytes a bucket holds at least ({@code cluster.bucket_bytes}) */
    public ZeroOneSync(Communicator comm, long bucketBytes) {
        if (bucketBytes < 4) {
            throw new IllegalArgumentException("cluster.bucket_bytes: " + bucketBytes + " is less than one float (4)");
        }
        this.comm = comm;
        this.bucketBytes = bucketBytes;
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
        List<List<Integer>> groups = group(sizes, world, bucketBytes / Float.BYTES);
        Slot[] placed = new Slot[names.size()];
        List<Bucket> made = new ArrayList<>();
        long at = 0;
        for (List<Integer> g : groups) {
            int[] owner = owners(g, sizes, world);
            long[] load = new long[world];
            for (int k = 0; k < g.size(); k++) {
                load[owner[k]] += sizes[g.get(k)];
            }
            long share = Arrays.stream(load).max().orElse(0);
            if (share * world > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("zero1: a bucket of " + Arrays.stream(load).sum() + " elements over "
                        + world + " ranks is too large for one collective (" + share + " elements per rank); "
                        + "lower cluster.bucket_bytes");
            }
            long[] next = new long[world];
            List<String> members = new ArrayList<>();
            for (int k = 0; k < g.size(); k++) {
                int i = g.get(k);
                int r = owner[k];
                long offset = at + r * share + next[r];
                next[r] += sizes[i];
                placed[i] = new Slot(r, Math.toIntExact(offset), (int) sizes[i], params.get(names.get(i)).shape().dims(),
                        made.size());
                members.add(names.get(i));
            }
            made.add(new Bucket(Math.toIntExact(at), (int) share, List.copyOf(members)));
            at += share * world;
            if (at > Integer.MAX_VALUE - 8) {
                throw new IllegalArgumentException("zero1: " + Arrays.stream(sizes).sum() + " parameter elements over "
                        + world + " ranks do not fit one flat buffer (" + at + " elements with padding)");
            }
        }
        layout.clear();
        index.clear();
        for (int i = 0; i < names.size(); i++) {
            layout.put(names.get(i), placed[i]);
            index.put(names.get(i), i);
        }
        slots = placed;
        this.names = names.toArray(String[]::new);
        buckets = List.copyOf(made);
        // shared: the ring's threads read and write it; automatic: no close call to forget
        flat = Arena.ofAuto().allocate(at * Float.BYTES, 64);
        int[] bucketOf = new int[slots.length];
        for (int p = 0; p < bucketOf.length; p++) {
            bucketOf[p] = slots[p].bucket();
        }
        steps = new BucketSteps(bucketOf, buckets.size(),
                b -> comm.reduceScatter(bucketSlice(buckets.get(b)), ReduceOp.AVG));
    }

    /**
     * The buckets, as indices into {@code sizes} (model order), in plan order: reverse model
     * order, cut once a bucket holds {@code cap} elements and is {@linkplain #balanced balanced};
     * an unbalanced rest is merged with the buckets before it until balanced (or all is one).
     */
    static List<List<Integer>> group(long[] sizes, int world, long cap) {
        List<List<Integer>> groups = new ArrayList<>();
        List<Integer> open = new ArrayList<>();
        long elements = 0;
        for (int i = sizes.length - 1; i >= 0; i--) {
            open.add(i);
            elements += sizes[i];
            if (elements >= cap && balanced(open, sizes, world)) {
                groups.add(open);
                open = new ArrayList<>();
                elements = 0;
            }
        }
        while (!open.isEmpty() && !groups.isEmpty() && !balanced(open, sizes, world)) {
            List<Integer> merged = new ArrayList<>(groups.removeLast());
            merged.addAll(open);
            open = merged;
        }
        if (!open.isEmpty()) {
            groups.add(open);
        }
        return groups;
    }

    /** Every rank owns part of {@code group}, and padding it to equal shares adds at most {@link #MAX_PADDING}. */
    static boolean balanced(List<Integer> group, long[] sizes, int world) {
        int[] owner = owners(group, sizes, world);
        long[] load = new long[world];
        long total = 0;
        for (int k = 0; k < group.size(); k++) {
            load[owner[k]] += sizes[group.get(k)];
            total += sizes[group.get(k)];
        }
        long max = 0;
        for (long l : load) {
            if (l == 0) {
                return false;
            }
            max = Math.max(max, l);
        }
        return max * world - total <= MAX_PADDING * total;
    }

    /**
     * The owner of each member of {@code group}: largest first (ties: the lower index), each to
     * the rank holding least of the group so far (ties: the one with fewer parameters, then the
     * lower rank).
     */
    static int[] owners(List<Integer> group, long[] sizes, int world) {
        Integer[] order = new Integer[group.size()];
        for (int k = 0; k < order.length; k++) {
            order[k] = k;
        }
        Arrays.sort(order, (a, b) -> {
            long sa = sizes[group.get(a)];
            long sb = sizes[group.get(b)];
            return sa != sb ? Long.compare(sb, sa) : Integer.compare(group.get(a), group.get(b));
        });
        long[] load = new long[world];
        int[] count = new int[world];
        int[] owner = new int[group.size()];
        for (int k : order) {
            int r = 0;
            for (int q = 1; q < world; q++) {
                if (load[q] < load[r] || (load[q] == load[r] && count[q] < count[r])) {
                    r = q;
                }
            }
            owner[k] = r;
            load[r] += sizes[group.get(k)];
            count[r]++;
        }
        return owner;
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

    /** The buckets, in plan order (empty before {@link #shard}). */
    public List<Bucket> buckets() {
        return buckets;
    }

    /** Elements of the flat buffer that hold no parameter: what padding the buckets' segments to equal shares costs. */
    public long paddingElements() {
        long total = 0;
        long params = 0;
        for (Bucket b : buckets) {
            total += (long) b.share() * worldSize();
        }
        for (Slot s : slots) {
            params += s.size();
        }
        return total - params;
    }

    /**
     * Backward has finished {@code name}'s gradient: it goes into its bucket, and every bucket
     * whose gradients are all in is reduce-scattered, in plan order, while backward goes on.
     */
    @Override
    public void gradientFinal(String name, Tensor grad, ComputeBackend backend) {
        Integer p = index.get(name);
        if (p != null && !steps.isIn(p)) { // an unknown name fails in averageGradients, on every rank alike
            copyIn(p, grad, backend);
            steps.startReady();
        }
    }

    /**
     * Reduce-scatter: afterwards the gradients of the parameters this rank owns hold their mean
     * over the ranks (the others hold partial sums or their own values).
     */
    @Override
    public void averageGradients(SequencedMap<String, Tensor> grads, ComputeBackend backend) {
        requireShard();
        for (String name : grads.keySet()) {
            if (!layout.containsKey(name)) {
                String why = "zero1: gradient of " + name + ", which is no parameter it was sharded for";
                comm.abort(why); // reduce-scatters of this step may be in flight on every rank
                steps.reset();
                throw new IllegalArgumentException(why);
            }
        }
        steps.backwardOver();
        try {
            for (int p = 0; p < slots.length; p++) { // not reported: unused this step, frozen, or tied
                if (!steps.isIn(p)) {
                    Tensor g = grads.get(names[p]);
                    if (g == null) {
                        slice(slots[p]).fill((byte) 0); // frozen: no gradient
                        steps.in(p, 0);
                    } else {
                        copyIn(p, g, backend);
                    }
                }
            }
            steps.startReady();
            long waitNanos = steps.awaitAll(f -> await(f, "reduce-scatter of the gradients"));
            for (Map.Entry<String, Tensor> e : grads.entrySet()) {
                Slot s = layout.get(e.getKey());
                if (s.owner() == rank()) {
                    backend.write(e.getValue(), 0, flat, bytes(s.offset()), s.size());
                }
            }
            lastStep = steps.figures(waitNanos);
        } finally {
            steps.reset();
        }
    }

    /**
     * What the last step's reduce-scatter did: {@code buckets}, {@code buckets_started_in_backward},
     * {@code grad_read_ms} (reading gradients to host) and {@code comm_wait_ms} (waiting for the
     * reduce-scatters after backward).
     */
    @Override
    public Map<String, Object> stepMetrics() {
        return lastStep;
    }

    private void copyIn(int p, Tensor grad, ComputeBackend backend) {
        long t0 = System.nanoTime();
        Slot s = slots[p];
        backend.read(grad, 0, flat, bytes(s.offset()), s.size());
        steps.in(p, System.nanoTime() - t0);
    }

    private MemorySegment bucketSlice(Bucket b) {
        return flat.asSlice(bytes(b.offset()), (long) b.share() * worldSize() * Float.BYTES);
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

    /** All-gather, bucket by bucket, all in flight at once: every parameter takes its owner's value. */
    @Override
    public void gatherParameters(SequencedMap<String, Tensor> params, ComputeBackend backend) {
        requireShard();
        List<CompletableFuture<Void>> gathers = new ArrayList<>();
        for (Bucket b : buckets) {
            for (String name : b.params()) {
                Slot s = layout.get(name);
                if (s.owner() == rank()) {
                    backend.read(param(params, name), 0, flat, bytes(s.offset()), s.size());
                }
            }
            gathers.add(comm.allGather(bucketSlice(b)));
        }
        for (CompletableFuture<Void> f : gathers) {
            await(f, "all-gather of the parameters");
        }
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
            List<CompletableFuture<Void>> gathers = new ArrayList<>();
            for (Bucket b : buckets) {
                gathers.add(comm.allGather(bucketSlice(b)));
            }
            for (CompletableFuture<Void> f : gathers) {
                await(f, "all-gather of optimizer state " + slot);
            }
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

    private void await(CompletableFuture<?> f, String what) {
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

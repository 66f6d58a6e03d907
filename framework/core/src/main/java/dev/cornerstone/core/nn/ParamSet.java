package dev.cornerstone.core.nn;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Random;
import java.util.SequencedMap;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * The parameters of a model, in creation order, keyed by checkpoint name; the owner of
 * their memory. Initialisation draws from one seeded {@link Random} in creation order, so a
 * model built twice with the same seed has bit-identical weights.
 */
public final class ParamSet implements AutoCloseable {

    private final ComputeBackend backend;
    private final Random rng;
    private final SequencedMap<String, Tensor> params = new LinkedHashMap<>();
    /** Constant tensors the model needs that are not parameters (not trained, not saved). */
    private final SequencedMap<String, Tensor> buffers = new LinkedHashMap<>();

    public ParamSet(ComputeBackend backend, long seed) {
        this.backend = backend;
        this.rng = new Random(seed);
    }

    public ComputeBackend backend() {
        return backend;
    }

    /** A parameter drawn from N(0, std²). */
    public Tensor normal(String name, float std, int... dims) {
        Tensor t = create(name, dims);
        float[] v = new float[(int) t.size()];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (rng.nextGaussian() * std);
        }
        backend.write(t, 0, v, 0, v.length);
        return t;
    }

    public Tensor zeros(String name, int... dims) {
        return create(name, dims);
    }

    public Tensor ones(String name, int... dims) {
        Tensor t = create(name, dims);
        backend.fill(t, 1f);
        return t;
    }

    private Tensor create(String name, int... dims) {
        if (params.containsKey(name)) {
            throw new IllegalArgumentException("parameter " + name + " defined twice");
        }
        Tensor t = backend.allocate(Shape.of(dims), DType.F32);
        params.put(name, t);
        return t;
    }

    /** A zero-filled constant, owned here but not a parameter. */
    public Tensor zeroBuffer(String name, int... dims) {
        Tensor t = backend.allocate(Shape.of(dims), DType.F32);
        Tensor old = buffers.put(name, t);
        if (old != null) {
            old.close();
        }
        return t;
    }

    public Tensor buffer(String name) {
        Tensor t = buffers.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no buffer named " + name);
        }
        return t;
    }

    public Tensor get(String name) {
        Tensor t = params.get(name);
        if (t == null) {
            throw new IllegalArgumentException("no parameter named " + name);
        }
        return t;
    }

    public SequencedMap<String, Tensor> view() {
        return Collections.unmodifiableSequencedMap(params);
    }

    /** Number of scalar parameters. */
    public long count() {
        return params.values().stream().mapToLong(Tensor::size).sum();
    }

    @Override
    public void close() {
        params.values().forEach(Tensor::close);
        params.clear();
        buffers.values().forEach(Tensor::close);
        buffers.clear();
    }
}

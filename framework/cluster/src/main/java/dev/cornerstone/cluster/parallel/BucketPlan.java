package dev.cornerstone.cluster.parallel;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * How {@link DataParallelSync} cuts the gradients into buckets, each all-reduced as one
 * operation as soon as all its gradients are final (Li et al. 2020, "PyTorch Distributed:
 * Experiences on Accelerating Data Parallel Training", gradient bucketing).
 *
 * <p>The parameters are laid out in one flat buffer in plan order (the order their gradients
 * became final in the first step: about the reverse of the model's parameter order) and cut
 * into consecutive buckets: a bucket takes parameters until it holds at least
 * {@code bucketBytes}; a parameter of {@code bucketBytes} or more gets a bucket of its own, so a
 * bucket exceeds the size only by its last parameter or when it holds one large parameter. Every
 * rank builds the same plan from the same names and sizes.
 */
public final class BucketPlan {

    /** One bucket: elements {@code [offset, offset + length)} of the flat buffer, holding {@code params}. */
    public record Bucket(int offset, int length, List<String> params) {
    }

    private final List<String> names;
    private final int[] offsets;
    private final int[] sizes;
    private final int[] bucketOf;
    private final List<Bucket> buckets;
    private final Map<String, Integer> index = new HashMap<>();

    private BucketPlan(List<String> names, int[] offsets, int[] sizes, int[] bucketOf, List<Bucket> buckets) {
        this.names = names;
        this.offsets = offsets;
        this.sizes = sizes;
        this.bucketOf = bucketOf;
        this.buckets = buckets;
        for (int i = 0; i < names.size(); i++) {
            index.put(names.get(i), i);
        }
    }

    /**
     * The plan for parameters of {@code elements} floats each, in the order given (the order
     * their gradients become final).
     */
    public static BucketPlan of(SequencedMap<String, Integer> elements, long bucketBytes) {
        if (bucketBytes < 4) {
            throw new IllegalArgumentException("cluster.bucket_bytes: " + bucketBytes + " is less than one float (4)");
        }
        long total = 0;
        for (int n : elements.values()) {
            total += n;
        }
        if (total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(total + " gradient elements do not fit one all-reduce buffer");
        }
        long cap = bucketBytes / 4; // elements
        List<String> names = new ArrayList<>(elements.keySet());
        int[] offsets = new int[names.size()];
        int[] sizes = new int[names.size()];
        int[] bucketOf = new int[names.size()];
        List<Bucket> buckets = new ArrayList<>();
        int at = 0;
        int start = 0;
        List<String> open = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) {
            int n = elements.get(names.get(i));
            if (n >= cap && !open.isEmpty()) { // a large parameter goes alone: close what is open
                buckets.add(new Bucket(start, at - start, List.copyOf(open)));
                open.clear();
                start = at;
            }
            offsets[i] = at;
            sizes[i] = n;
            bucketOf[i] = buckets.size();
            open.add(names.get(i));
            at += n;
            if (at - start >= cap) {
                buckets.add(new Bucket(start, at - start, List.copyOf(open)));
                open.clear();
                start = at;
            }
        }
        if (!open.isEmpty()) {
            buckets.add(new Bucket(start, at - start, List.copyOf(open)));
        }
        return new BucketPlan(List.copyOf(names), offsets, sizes, bucketOf, List.copyOf(buckets));
    }

    public List<Bucket> buckets() {
        return buckets;
    }

    /** The parameters in plan order. */
    public List<String> names() {
        return names;
    }

    /** Elements of the flat buffer. */
    public int totalElements() {
        return names.isEmpty() ? 0 : offsets[names.size() - 1] + sizes[names.size() - 1];
    }

    /** The position of parameter {@code name} in the plan, or -1. */
    int indexOf(String name) {
        Integer i = index.get(name);
        return i == null ? -1 : i;
    }

    int offset(int param) {
        return offsets[param];
    }

    int size(int param) {
        return sizes[param];
    }

    int bucketOf(int param) {
        return bucketOf[param];
    }

    /** A fingerprint of names, sizes and buckets, to check that every rank has the same plan. */
    int fingerprint() {
        int h = 17;
        for (int i = 0; i < names.size(); i++) {
            h = 31 * (31 * (31 * h + names.get(i).hashCode()) + sizes[i]) + bucketOf[i];
        }
        return h;
    }
}

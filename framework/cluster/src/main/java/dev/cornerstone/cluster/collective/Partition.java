package dev.cornerstone.cluster.collective;

/**
 * How {@code length} elements split into {@code world} contiguous segments, one per rank:
 * the first {@code length % world} segments hold one element more. Reduce-scatter leaves
 * rank {@code r} with segment {@code r} reduced; all-gather starts from each rank holding
 * its own segment {@code r}. A segment may be empty when {@code length < world}.
 */
public final class Partition {

    private Partition() {
    }

    /** First element of segment {@code index}, relative to the start of the range. */
    public static int start(int length, int world, int index) {
        check(length, world, index);
        int base = length / world;
        int extra = length % world;
        return index * base + Math.min(index, extra);
    }

    /** Number of elements of segment {@code index}. */
    public static int size(int length, int world, int index) {
        check(length, world, index);
        return length / world + (index < length % world ? 1 : 0);
    }

    private static void check(int length, int world, int index) {
        if (length < 0 || world < 1 || index < 0 || index >= world) {
            throw new IllegalArgumentException("no segment " + index + " of " + length + " elements over " + world
                    + " ranks");
        }
    }
}

package dev.cornerstone.backend.cpu;

/**
 * Per-part scratch arrays, reused across kernel calls so that a kernel allocates nothing on the
 * Java heap in steady state. A {@link Parallel} hands one to each part of a parallel loop and
 * takes it back afterwards; contents are garbage on entry (clear what you accumulate into).
 *
 * <p>Slots are small integers chosen by each kernel; an array grows to the largest size asked
 * of its slot and stays.
 */
final class Scratch {

    private static final int SLOTS = 8;

    private final float[][] floats = new float[SLOTS][];
    private final double[][] doubles = new double[SLOTS][];
    private final int[][] ints = new int[SLOTS][];
    private final short[][] shorts = new short[SLOTS][];
    private final float[][][] rows = new float[SLOTS][][];
    private final int[] rowLength = new int[SLOTS];

    /** A float array of at least {@code n} elements. */
    float[] floats(int slot, int n) {
        float[] a = floats[slot];
        if (a == null || a.length < n) {
            a = floats[slot] = new float[n];
        }
        return a;
    }

    double[] doubles(int slot, int n) {
        double[] a = doubles[slot];
        if (a == null || a.length < n) {
            a = doubles[slot] = new double[n];
        }
        return a;
    }

    int[] ints(int slot, int n) {
        int[] a = ints[slot];
        if (a == null || a.length < n) {
            a = ints[slot] = new int[n];
        }
        return a;
    }

    short[] shorts(int slot, int n) {
        short[] a = shorts[slot];
        if (a == null || a.length < n) {
            a = shorts[slot] = new short[n];
        }
        return a;
    }

    /**
     * At least {@code n} separate rows of at least {@code length} floats. Separate arrays, not
     * offsets into one: C2 vectorises {@code c[j] += a * b[j]} only when it can see that both
     * sides use the same index, and it cannot prove that two offsets into one array never
     * overlap.
     */
    float[][] rows(int slot, int n, int length) {
        float[][] r = rows[slot];
        if (r == null || r.length < n || rowLength[slot] < length) {
            int keep = r == null ? 0 : r.length;
            r = rows[slot] = new float[Math.max(n, keep)][];
            rowLength[slot] = Math.max(length, rowLength[slot]);
            for (int i = 0; i < r.length; i++) {
                r[i] = new float[rowLength[slot]];
            }
        }
        return r;
    }
}

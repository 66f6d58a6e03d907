package dev.cornerstone.core.random;

/**
 * Seeds for the random streams of a run, derived from the run's seed and a counter.
 *
 * <p>Every generator here is SplitMix64 (Steele, Lea and Flood 2014, "Fast splittable
 * pseudorandom number generators"; {@link java.util.SplittableRandom}, and the dropout kernels):
 * output {@code i} of seed {@code s} is {@code mix64(s + (i+1)γ)}. Two seeds that differ by a
 * multiple of γ therefore give the same stream shifted, and seeds that differ by a small
 * number give streams that are only as different as the finaliser makes them. A counter must
 * not be folded into a seed by adding or xor-ing multiples of γ: batch {@code k} seeded with
 * {@code seed ^ (k+1)γ} replays batch {@code k-1}'s draws one row on. {@link #derive} instead
 * takes output {@code counter} of a generator seeded with the finalised seed, a 64-bit value
 * with no arithmetic relation to its neighbours, so the streams it seeds do not overlap.
 */
public final class Seeds {

    /** SplitMix64's increment, the odd integer closest to 2^64 / φ. */
    static final long GAMMA = 0x9E3779B97F4A7C15L;

    private Seeds() {
    }

    /**
     * The seed of stream {@code counter} under {@code seed}: {@code mix64(mix64(seed) + (counter+1)γ)},
     * that is output {@code counter} of the SplitMix64 generator seeded with {@code mix64(seed)}.
     * Random access: no state, the same arguments always give the same seed.
     */
    public static long derive(long seed, long counter) {
        return mix64(mix64(seed) + (counter + 1) * GAMMA);
    }

    /** SplitMix64's finaliser (Stafford's variant 13), a bijection of 64-bit values. */
    public static long mix64(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}

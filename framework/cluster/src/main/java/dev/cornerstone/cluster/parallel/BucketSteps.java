package dev.cornerstone.cluster.parallel;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * The bookkeeping of one step of bucketed collectives, as {@link DataParallelSync} (all-reduce)
 * and {@link ZeroOneSync} (reduce-scatter) run them: which parameters' gradients are in the flat
 * buffer, how many each bucket still lacks, and each bucket's collective, started in bucket
 * order as soon as the bucket and every one before it are complete, so the order never depends
 * on timing. Used on the trainer's thread only.
 */
final class BucketSteps {

    private final int[] bucketOf;
    private final int[] paramsOf;
    private final IntFunction<CompletableFuture<?>> start;
    private final boolean[] in;
    private final int[] missing;
    private final CompletableFuture<?>[] inFlight;
    private int next;
    private boolean backwardOver;
    private int startedInBackward;
    private long copyNanos;

    /**
     * @param bucketOf the bucket of each parameter (by its position)
     * @param buckets  how many buckets there are
     * @param start    starts bucket {@code b}'s collective and returns its future
     */
    BucketSteps(int[] bucketOf, int buckets, IntFunction<CompletableFuture<?>> start) {
        this.bucketOf = bucketOf.clone();
        this.paramsOf = new int[buckets];
        for (int b : bucketOf) {
            paramsOf[b]++;
        }
        this.start = start;
        this.in = new boolean[bucketOf.length];
        this.missing = new int[buckets];
        this.inFlight = new CompletableFuture<?>[buckets];
        reset();
    }

    /** Whether parameter {@code p}'s gradient is in the buffer this step. */
    boolean isIn(int p) {
        return in[p];
    }

    /** Parameter {@code p}'s gradient is in the buffer; reading it took {@code nanos}. */
    void in(int p, long nanos) {
        copyNanos += nanos;
        in[p] = true;
        missing[bucketOf[p]]--;
    }

    /** Backward is over: buckets started from now on are not counted as started during it. */
    void backwardOver() {
        backwardOver = true;
    }

    /** Starts, in bucket order, every bucket whose gradients are all in. */
    void startReady() {
        while (next < missing.length && missing[next] == 0) {
            inFlight[next] = start.apply(next);
            if (!backwardOver) {
                startedInBackward++;
            }
            next++;
        }
    }

    /** Waits for every bucket's collective with {@code await}; returns the nanoseconds waited. */
    long awaitAll(Consumer<CompletableFuture<?>> await) {
        long t0 = System.nanoTime();
        for (CompletableFuture<?> f : inFlight) {
            await.accept(f);
        }
        return System.nanoTime() - t0;
    }

    /**
     * The step's figures for {@code metrics.jsonl}: {@code buckets}, {@code buckets_started_in_backward},
     * {@code grad_read_ms} (reading gradients to host) and {@code comm_wait_ms} ({@code waitNanos}).
     */
    Map<String, Object> figures(long waitNanos) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("buckets", missing.length);
        m.put("buckets_started_in_backward", startedInBackward);
        m.put("grad_read_ms", Math.round(copyNanos / 1e4) / 100.0);
        m.put("comm_wait_ms", Math.round(waitNanos / 1e4) / 100.0);
        return m;
    }

    /** Ready for the next step: nothing in, nothing started. */
    void reset() {
        Arrays.fill(in, false);
        System.arraycopy(paramsOf, 0, missing, 0, missing.length);
        Arrays.fill(inFlight, null);
        next = 0;
        backwardOver = false;
        startedInBackward = 0;
        copyNanos = 0;
    }
}

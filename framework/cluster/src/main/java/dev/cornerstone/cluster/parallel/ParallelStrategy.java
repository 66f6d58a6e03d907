package dev.cornerstone.cluster.parallel;

import java.util.Arrays;
import java.util.function.BiFunction;

import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.core.train.GradientSync;

/**
 * The parallel strategies a job spec names ({@code cluster.strategy}), each the trainer's
 * {@link GradientSync} over a rank's communicator:
 * {@code trainer.dataParallel(ParallelStrategy.of(name).sync(comm))}.
 */
public enum ParallelStrategy {

    /** Data parallelism: gradients all-reduced in buckets overlapped with backward; whole optimizer state per rank. */
    DDP("ddp", DataParallelSync::new),
    /**
     * ZeRO stage 1: the optimizer state partitioned over the ranks; gradients reduce-scattered in
     * buckets overlapped with backward, parameters all-gathered after the step.
     */
    ZERO1("zero1", ZeroOneSync::new);

    private final String specName;
    private final BiFunction<Communicator, Long, GradientSync> factory;

    ParallelStrategy(String specName, BiFunction<Communicator, Long, GradientSync> factory) {
        this.specName = specName;
        this.factory = factory;
    }

    /** The name in a spec: {@code ddp} or {@code zero1}. */
    public String specName() {
        return specName;
    }

    /** This strategy's sync for one rank, with the default bucket size. */
    public GradientSync sync(Communicator comm) {
        return sync(comm, DataParallelSync.DEFAULT_BUCKET_BYTES);
    }

    /** This strategy's sync for one rank; {@code bucketBytes}: {@code cluster.bucket_bytes} (the gradient buckets of both). */
    public GradientSync sync(Communicator comm, long bucketBytes) {
        return factory.apply(comm, bucketBytes);
    }

    /** The strategy a spec names; anything else fails naming the key, the value and what is allowed. */
    public static ParallelStrategy of(String name) {
        for (ParallelStrategy s : values()) {
            if (s.specName.equals(name)) {
                return s;
            }
        }
        throw new IllegalArgumentException("cluster.strategy: '" + name + "' is not a strategy; allowed: "
                + String.join(", ", Arrays.stream(values()).map(ParallelStrategy::specName).toList()));
    }
}

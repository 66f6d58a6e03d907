package dev.cornerstone.cluster.parallel;

import java.util.Arrays;
import java.util.function.Function;

import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.core.train.GradientSync;

/**
 * The parallel strategies a job spec names ({@code cluster.strategy}), each the trainer's
 * {@link GradientSync} over a rank's communicator:
 * {@code trainer.dataParallel(ParallelStrategy.of(name).sync(comm))}.
 */
public enum ParallelStrategy {

    /** Data parallelism: gradients all-reduced, every rank holds the whole optimizer state. */
    DDP("ddp", DataParallelSync::new),
    /** ZeRO stage 1: as {@link #DDP}, with the optimizer state partitioned over the ranks. */
    ZERO1("zero1", ZeroOneSync::new);

    private final String specName;
    private final Function<Communicator, GradientSync> factory;

    ParallelStrategy(String specName, Function<Communicator, GradientSync> factory) {
        this.specName = specName;
        this.factory = factory;
    }

    /** The name in a spec: {@code ddp} or {@code zero1}. */
    public String specName() {
        return specName;
    }

    /** This strategy's sync for one rank. */
    public GradientSync sync(Communicator comm) {
        return factory.apply(comm);
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

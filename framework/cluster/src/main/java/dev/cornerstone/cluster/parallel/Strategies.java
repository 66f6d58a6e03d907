package dev.cornerstone.cluster.parallel;

import java.util.List;

import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.core.train.GradientSync;

/**
 * The strategies a cluster job may name in {@code cluster.strategy}, and the one place where a
 * name becomes the {@link GradientSync} that a rank's trainer uses.
 */
public final class Strategies {

    /** Data parallel: every rank holds the whole model and optimizer state; gradients averaged each step. */
    public static final String DDP = "ddp";
    /** ZeRO stage 1: optimizer state partitioned across the ranks. */
    public static final String ZERO1 = "zero1";
    /** Every name {@code cluster.strategy} accepts. */
    public static final List<String> NAMES = List.of(DDP, ZERO1);

    private Strategies() {
    }

    /**
     * The gradient sync of {@code strategy} over {@code comm}; {@code comm} is null for a world
     * of one rank, which then trains alone (null is returned for {@code ddp}).
     *
     * @throws IllegalArgumentException for a strategy that is unknown or not in this build
     */
    public static GradientSync forStrategy(String strategy, Communicator comm) {
        return switch (strategy) {
            case DDP -> comm == null ? null : new DataParallelSync(comm);
            // Wire the ZeRO-1 implementation here when it is merged (branch 'zero').
            case ZERO1 -> throw new IllegalArgumentException("strategy zero1 is not available in this build");
            default -> throw new IllegalArgumentException("cluster.strategy: '" + strategy + "' is not a strategy ("
                    + String.join(", ", NAMES) + ")");
        };
    }
}

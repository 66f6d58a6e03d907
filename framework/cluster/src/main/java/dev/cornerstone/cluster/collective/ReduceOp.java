package dev.cornerstone.cluster.collective;

/** How an all-reduce or reduce-scatter combines the ranks' values. */
public enum ReduceOp {
    /** The sum over ranks. */
    SUM,
    /** The sum over ranks divided by the world size (the mean of data-parallel gradients). */
    AVG
}

package dev.cornerstone.cluster.collective;

import java.util.concurrent.CompletableFuture;

import io.vertx.core.Vertx;

import dev.cornerstone.cluster.internal.ring.RingCommunicator;

/**
 * Creates communicators on a Vert.x instance: a clustered one links ranks on several nodes,
 * a local one links ranks inside one JVM (tests). On a node, prefer
 * {@link dev.cornerstone.cluster.ClusterNode#communicator}, which also fails a ring at once
 * when a node running one of its ranks leaves the cluster.
 */
public final class Communicators {

    private Communicators() {
    }

    /** The event-bus address of {@code rank} of {@code job}: {@code cornerstone.rank.<job>.<rank>}. */
    public static String address(String job, int rank) {
        return RingCommunicator.address(job, rank);
    }

    /**
     * Joins the ring of {@code job} as {@code rank} of {@code worldSize}. Completes once both
     * ring neighbours have registered and agreed on world size, generation and chunk size;
     * fails after {@code options.connectTimeout()} naming the neighbour that did not come.
     */
    public static CompletableFuture<Communicator> create(Vertx vertx, String job, int rank, int worldSize,
                                                         CollectiveOptions options) {
        return create(vertx, job, rank, worldSize, options, "127.0.0.1");
    }

    /**
     * As {@link #create(Vertx, String, int, int, CollectiveOptions)}; with the {@code STREAM}
     * transport this rank's predecessor connects to {@code host} (an address of this machine
     * the other ranks reach; the one-host form uses loopback).
     */
    public static CompletableFuture<Communicator> create(Vertx vertx, String job, int rank, int worldSize,
                                                         CollectiveOptions options, String host) {
        return RingCommunicator.create(vertx, job, rank, worldSize, options, null, host);
    }
}

package dev.cornerstone.cluster;

import java.util.List;
import java.util.concurrent.CompletableFuture;

import com.hazelcast.core.HazelcastInstance;
import io.vertx.core.Vertx;
import org.osgi.annotation.versioning.ProviderType;

import dev.cornerstone.cluster.collective.CollectiveOptions;
import dev.cornerstone.cluster.collective.Communicator;

/**
 * This node as a member of a cluster, registered as a service once it has joined (service
 * properties {@code cluster.name} and {@code cluster.node.id}). Shared state lives in
 * Hazelcast as JSON strings or bytes, never as plugin classes.
 */
@ProviderType
public interface ClusterNode {

    /** This node's id: the Vert.x node id, also the key of its node registry entry. */
    String nodeId();

    String clusterName();

    /** The clustered Vert.x whose event bus links the nodes. */
    Vertx vertx();

    /** The Hazelcast member this node runs. */
    HazelcastInstance hazelcast();

    /** This node's registry entry as it is now. */
    NodeInfo local();

    /** The registry entries of the current members, this node's included, oldest first. */
    List<NodeInfo> members();

    /**
     * Joins the ring of {@code job} as {@code rank}; {@code rankNodes.get(r)} is the node id
     * running rank {@code r}, so the world size is {@code rankNodes.size()} and
     * {@code rankNodes.get(rank)} must be this node. Fails at once when one of those nodes is
     * not a member; once formed, the ring fails every operation as soon as one of them
     * leaves the cluster, naming the rank.
     */
    CompletableFuture<Communicator> communicator(String job, int rank, List<String> rankNodes,
                                                 CollectiveOptions options);

    /** The defaults for communicators from this node's configuration ({@code cluster.collective.*}). */
    CollectiveOptions collectiveDefaults();
}

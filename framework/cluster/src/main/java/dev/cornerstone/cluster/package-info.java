/**
 * A node's place in a Cornerstone cluster: the {@link ClusterNode} service (with the
 * clustered {@code io.vertx.core.Vertx} and the {@code com.hazelcast.core.HazelcastInstance}
 * it runs on, also registered as services) and the node registry's {@link NodeInfo}.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.cluster;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

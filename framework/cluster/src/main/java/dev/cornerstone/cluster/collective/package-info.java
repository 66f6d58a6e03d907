/**
 * Collectives over the Vert.x event bus: ring all-reduce (reduce-scatter then all-gather),
 * reduce-scatter, all-gather and broadcast of {@code float} arrays between the ranks of a
 * job, each rank a consumer at {@code cornerstone.rank.<job>.<rank>}.
 */
@Export
@Version("0.2.0")
package dev.cornerstone.cluster.collective;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * Collectives over the Vert.x event bus: ring all-reduce (reduce-scatter then all-gather),
 * reduce-scatter, all-gather and broadcast of {@code float} arrays (and, since 0.2, of off-heap
 * {@code MemorySegment}s) between the ranks of a job, each rank a consumer at
 * {@code cornerstone.rank.<job>.<rank>}; the chunks travel over a socket per ring link by default
 * ({@link dev.cornerstone.cluster.collective.CollectiveOptions.Transport}).
 */
@Export
@Version("0.2.0")
package dev.cornerstone.cluster.collective;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

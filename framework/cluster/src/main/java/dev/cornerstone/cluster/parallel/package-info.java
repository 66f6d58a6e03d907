/**
 * Parallel training over the collectives: data parallelism for the core trainer
 * ({@link dev.cornerstone.cluster.parallel.DataParallelSync}).
 */
@Export
@Version("0.1.0")
package dev.cornerstone.cluster.parallel;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

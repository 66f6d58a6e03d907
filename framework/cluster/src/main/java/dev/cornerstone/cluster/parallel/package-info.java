/**
 * Parallel training over the collectives, as the core trainer's {@code GradientSync}: data
 * parallelism ({@link dev.cornerstone.cluster.parallel.DataParallelSync}) and ZeRO stage 1
 * ({@link dev.cornerstone.cluster.parallel.ZeroOneSync}), chosen by name with
 * {@link dev.cornerstone.cluster.parallel.ParallelStrategy}.
 */
@Export
@Version("0.3.0")
package dev.cornerstone.cluster.parallel;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * Seeds derived from a run's seed and counters (step, batch, micro-batch, call), so that every
 * random stream of a run is reproducible from its position alone and independent of the others.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.core.random;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

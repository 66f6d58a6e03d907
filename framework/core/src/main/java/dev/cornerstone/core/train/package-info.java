/**
 * The training loop: learning-rate schedules, gradient accumulation and clipping, evaluation, metrics.
 */
@Export
@Version("0.4.0")
package dev.cornerstone.core.train;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

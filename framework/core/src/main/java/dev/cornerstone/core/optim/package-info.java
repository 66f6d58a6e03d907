/**
 * What fused per-parameter optimizers share: named state slots and the step loop.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.core.optim;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

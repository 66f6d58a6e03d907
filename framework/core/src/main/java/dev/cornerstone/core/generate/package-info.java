/**
 * Sampling text from a causal language model: temperature, top-k, seed.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.core.generate;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * Deterministic, seeded, resumable batching of token streams.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.core.data;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

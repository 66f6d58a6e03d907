/**
 * Checkpoints: safetensors files, atomic directories with a SHA-256 manifest, verified on load.
 */
@Export
@Version("0.2.0")
package dev.cornerstone.core.checkpoint;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * Tensors: shape, element type and the backend that owns their memory.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.api.tensor;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

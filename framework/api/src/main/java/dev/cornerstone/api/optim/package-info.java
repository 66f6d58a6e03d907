/**
 * Optimizers as services: a step over named parameters, with state as named tensors.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.api.optim;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

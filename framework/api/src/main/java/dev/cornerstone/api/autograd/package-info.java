/**
 * Differentiable operations that models are written with; a tape records them for the backward pass.
 */
@Export
@Version("0.2.0")
package dev.cornerstone.api.autograd;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

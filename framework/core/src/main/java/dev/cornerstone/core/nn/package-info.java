/**
 * Layers built from the autograd ops: Linear, Embedding, LayerNorm, causal self-attention, MLP; and their initialisation.
 */
@Export
@Version("0.2.0")
package dev.cornerstone.core.nn;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

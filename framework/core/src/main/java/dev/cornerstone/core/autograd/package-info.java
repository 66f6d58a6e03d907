/**
 * Reverse-mode automatic differentiation over the backend SPI: a tape of coarse ops, each a forward and a backward kernel.
 */
@Export
@Version("0.3.0")
package dev.cornerstone.core.autograd;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * The compute backend SPI: buffers and a short, versioned list of kernels.
 */
@Export
@Version("0.2.0")
package dev.cornerstone.api.backend;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

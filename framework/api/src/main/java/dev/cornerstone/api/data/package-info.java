/**
 * Datasets and tokenizers as services.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.api.data;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

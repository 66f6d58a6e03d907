/**
 * Typed reading of a spec section with errors that name the key, the value and what is allowed.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.core.config;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

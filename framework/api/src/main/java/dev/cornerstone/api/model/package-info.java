/**
 * Models as services: a provider builds a model with named parameters from a configuration.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.api.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

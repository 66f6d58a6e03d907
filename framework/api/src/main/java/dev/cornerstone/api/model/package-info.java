/**
 * Models as services: a provider builds a model with named parameters from a configuration;
 * adapters (LoRA, for example) add a few trainable parameters to a model that stays as it is.
 */
@Export
@Version("0.3.0")
package dev.cornerstone.api.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

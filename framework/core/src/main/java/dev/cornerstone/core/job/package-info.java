/**
 * The job service: runs training, generation and evaluation inside the container for the
 * command line and the node, with the models, optimizers, datasets and backends registered
 * as services.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.core.job;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

/**
 * Text datasets: char and byte tokenizers, text corpora, and classification sets in JSONL
 * with their deterministic split. Exported for the fine-tuning bundle, which reads
 * classification sets and builds tokenizers for classifiers trained from scratch.
 */
@Export
@Version("0.1.0")
package dev.cornerstone.data.text;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;

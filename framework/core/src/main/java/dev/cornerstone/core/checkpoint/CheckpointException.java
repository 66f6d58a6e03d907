package dev.cornerstone.core.checkpoint;

import java.io.IOException;

/** A checkpoint that cannot be trusted: corrupt, truncated, or not matching its manifest. The message names the file. */
public final class CheckpointException extends IOException {
    public CheckpointException(String message) {
        super(message);
    }
}

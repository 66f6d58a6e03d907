package dev.cornerstone.launcher;

/** A failure the command line reports as one line, {@code error: <message>}, with exit code 1. */
final class CliException extends RuntimeException {
    CliException(String message) {
        super(message);
    }
}

package dev.cornerstone.console;

/**
 * A refusal or failure with the HTTP status it maps to. Its message reaches the browser, so
 * it says what went wrong and what to do, and never carries a stack trace. {@code field}
 * names the spec key a validation error is about (such as {@code train.batch_size}).
 */
final class ApiError extends RuntimeException {

    final int status;
    final String field;

    ApiError(int status, String message) {
        this(status, message, null);
    }

    ApiError(int status, String message, String field) {
        super(message, null, false, false);
        this.status = status;
        this.field = field;
    }
}

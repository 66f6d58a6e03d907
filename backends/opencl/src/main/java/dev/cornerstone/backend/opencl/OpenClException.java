package dev.cornerstone.backend.opencl;

/**
 * An OpenCL call of the opencl backend failed. {@link #code()} is the OpenCL error code (0 when
 * the failure was found by the backend itself); the message names the call, the error and, where
 * it helps, what to do about it.
 */
public class OpenClException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final int code;

    public OpenClException(int code, String message) {
        super(message);
        this.code = code;
    }

    /** The OpenCL error code, for example -5 for {@code CL_OUT_OF_RESOURCES}; 0 when OpenCL reported none. */
    public int code() {
        return code;
    }
}

package dev.cornerstone.backend.opencl;

/**
 * The device has no memory left for a tensor: the backend's memory limit would be passed, or the
 * device refused the allocation ({@code CL_MEM_OBJECT_ALLOCATION_FAILURE}, {@code CL_OUT_OF_RESOURCES},
 * {@code CL_OUT_OF_HOST_MEMORY}). The backend has freed its pool of cached buffers before giving
 * up; nothing was allocated, and the tensors that exist are untouched.
 */
public final class DeviceMemoryException extends OpenClException {

    private static final long serialVersionUID = 1L;

    DeviceMemoryException(int code, String message) {
        super(code, message);
    }
}

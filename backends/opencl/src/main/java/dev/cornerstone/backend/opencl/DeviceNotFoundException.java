package dev.cornerstone.backend.opencl;

import java.util.List;

/**
 * No OpenCL device is there to compute on: no ICD loader, no platform, or none of the devices
 * found matches the configuration. The message lists every device that was found; so does
 * {@link #found()}.
 */
public final class DeviceNotFoundException extends OpenClException {

    private static final long serialVersionUID = 1L;

    private final transient List<DeviceInfo> found;

    DeviceNotFoundException(String message, List<DeviceInfo> found) {
        super(0, message);
        this.found = List.copyOf(found);
    }

    /** The devices found on every platform (empty when there is no platform). */
    public List<DeviceInfo> found() {
        return found;
    }
}

package dev.cornerstone.backend.opencl;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Which OpenCL device to compute on, from configuration: a platform whose name contains
 * {@code platform}, a device whose name contains {@code device} (both case-insensitive, empty
 * matches any), of type {@code type} ({@code all}, {@code gpu}, {@code cpu} or
 * {@code accelerator}). Among the devices that match, a GPU or accelerator comes before a CPU
 * device, then the platforms' and devices' own order. Devices older than OpenCL 1.2 are not used.
 */
public record DeviceSelector(String platform, String device, String type) {

    /** The types {@link #type()} may name. */
    public static final List<String> TYPES = List.of("all", "gpu", "cpu", "accelerator");

    /** Any device, an accelerator first. */
    public static final DeviceSelector ANY = new DeviceSelector("", "", "all");

    public DeviceSelector {
        platform = platform == null ? "" : platform.trim();
        device = device == null ? "" : device.trim();
        type = type == null || type.isBlank() ? "all" : type.trim().toLowerCase(Locale.ROOT);
        if (!TYPES.contains(type)) {
            throw new IllegalArgumentException("opencl deviceType '" + type + "' is not one of " + TYPES);
        }
    }

    /** Whether {@code d} satisfies every condition (usable or not). */
    public boolean matches(DeviceInfo d) {
        return contains(d.platform(), platform) && contains(d.name(), device)
                && (type.equals("all") || d.type().equalsIgnoreCase(type));
    }

    private static boolean contains(String value, String part) {
        return part.isEmpty() || value.toLowerCase(Locale.ROOT).contains(part.toLowerCase(Locale.ROOT));
    }

    /**
     * The device to use among {@code found}.
     *
     * @throws DeviceNotFoundException listing what was found, when no usable device matches
     */
    public DeviceInfo choose(List<DeviceInfo> found) {
        List<DeviceInfo> matching = new ArrayList<>();
        List<DeviceInfo> tooOld = new ArrayList<>();
        for (DeviceInfo d : found) {
            if (matches(d)) {
                (d.usable() ? matching : tooOld).add(d);
            }
        }
        for (DeviceInfo d : matching) {
            if (d.accelerator()) {
                return d;
            }
        }
        if (!matching.isEmpty()) {
            return matching.getFirst();
        }
        StringBuilder sb = new StringBuilder("opencl: no OpenCL device matches ").append(this.describe());
        if (found.isEmpty()) {
            sb.append(": no OpenCL platform is installed (the ICD loader found none; on Debian "
                    + "'apt-get install pocl-opencl-icd' gives one on the CPU)");
        } else {
            sb.append("; found ").append(found.size()).append(found.size() == 1 ? " device:" : " devices:");
            for (DeviceInfo d : found) {
                sb.append("\n  [").append(d.platformIndex()).append(':').append(d.deviceIndex()).append("] ")
                        .append(d.describe());
                if (tooOld.contains(d)) {
                    sb.append(" -- matches, but the backend needs OpenCL 1.2 or newer");
                }
            }
            sb.append("\nSet platform, device or deviceType in the configuration dev.cornerstone.backend.opencl "
                    + "(for example deploy/dev.cornerstone.backend.opencl.cfg.json).");
        }
        throw new DeviceNotFoundException(sb.toString(), found);
    }

    /** For messages: {@code platform ~ "nvidia", device ~ any, type gpu}. */
    public String describe() {
        return "platform ~ " + (platform.isEmpty() ? "any" : "\"" + platform + "\"") + ", device ~ "
                + (device.isEmpty() ? "any" : "\"" + device + "\"") + ", type " + type;
    }
}

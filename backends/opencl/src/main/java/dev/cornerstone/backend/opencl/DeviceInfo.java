package dev.cornerstone.backend.opencl;

import java.util.Locale;

/**
 * An OpenCL device as found on its platform, for selection and for people.
 *
 * @param platformIndex   index of the platform in {@code clGetPlatformIDs} order
 * @param deviceIndex     index of the device on its platform
 * @param platform        the platform's name, for example {@code Portable Computing Language}
 * @param name            the device's name
 * @param vendor          the device's vendor
 * @param type            {@code CPU}, {@code GPU}, {@code ACCELERATOR} or {@code OTHER}
 * @param version         the device's OpenCL version string, for example {@code OpenCL 3.0 PoCL ...}
 * @param driver          the driver's version
 * @param computeUnits    {@code CL_DEVICE_MAX_COMPUTE_UNITS}
 * @param globalMemory    {@code CL_DEVICE_GLOBAL_MEM_SIZE}, bytes
 * @param maxAllocation   {@code CL_DEVICE_MAX_MEM_ALLOC_SIZE}, bytes: the largest single buffer
 * @param fp64            whether the device computes in double ({@code cl_khr_fp64})
 */
public record DeviceInfo(int platformIndex, int deviceIndex, String platform, String name, String vendor,
                         String type, String version, String driver, int computeUnits, long globalMemory,
                         long maxAllocation, boolean fp64) {

    /** The OpenCL version the device reports, as {major, minor}; {1, 0} when it cannot be read. */
    public int[] openClVersion() {
        // "OpenCL <major>.<minor> <vendor-specific>"
        String[] words = version.split("\\s+");
        if (words.length >= 2 && words[0].equals("OpenCL")) {
            String[] mm = words[1].split("\\.");
            try {
                return new int[] {Integer.parseInt(mm[0]), Integer.parseInt(mm[1])};
            } catch (RuntimeException e) {
                // fall through
            }
        }
        return new int[] {1, 0};
    }

    /** OpenCL 1.2 or newer: the backend needs {@code clEnqueueFillBuffer}. */
    public boolean usable() {
        int[] v = openClVersion();
        return v[0] > 1 || (v[0] == 1 && v[1] >= 2);
    }

    /** A GPU or an accelerator, rather than the host's CPU. */
    public boolean accelerator() {
        return type.equals("GPU") || type.equals("ACCELERATOR");
    }

    /**
     * For people, for example {@code pthread-skylake-avx512-Intel(R) Xeon(R) Processor (CPU, 2 compute
     * units, 7.96 GiB, OpenCL 3.0, driver 3.1+debian, platform 0 "Portable Computing Language")}.
     */
    public String describe() {
        int[] v = openClVersion();
        return String.format(Locale.ROOT, "%s (%s, %d compute unit%s, %s, OpenCL %d.%d, driver %s, platform %d \"%s\")",
                name, type, computeUnits, computeUnits == 1 ? "" : "s", bytes(globalMemory), v[0], v[1], driver,
                platformIndex, platform);
    }

    /** {@code 7.96 GiB}, {@code 512.0 MiB}, {@code 12 B}. */
    static String bytes(long b) {
        if (b >= 1L << 30) {
            return String.format(Locale.ROOT, "%.2f GiB", b / (double) (1L << 30));
        }
        if (b >= 1L << 20) {
            return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
        }
        if (b >= 1L << 10) {
            return String.format(Locale.ROOT, "%.1f KiB", b / 1024.0);
        }
        return b + " B";
    }
}

package dev.cornerstone.backend.opencl;

import static org.lwjgl.opencl.CL10.CL_DEVICE_EXTENSIONS;
import static org.lwjgl.opencl.CL10.CL_DEVICE_GLOBAL_MEM_SIZE;
import static org.lwjgl.opencl.CL10.CL_DEVICE_MAX_COMPUTE_UNITS;
import static org.lwjgl.opencl.CL10.CL_DEVICE_MAX_MEM_ALLOC_SIZE;
import static org.lwjgl.opencl.CL10.CL_DEVICE_NAME;
import static org.lwjgl.opencl.CL10.CL_DEVICE_TYPE;
import static org.lwjgl.opencl.CL10.CL_DEVICE_TYPE_ACCELERATOR;
import static org.lwjgl.opencl.CL10.CL_DEVICE_TYPE_ALL;
import static org.lwjgl.opencl.CL10.CL_DEVICE_TYPE_CPU;
import static org.lwjgl.opencl.CL10.CL_DEVICE_TYPE_GPU;
import static org.lwjgl.opencl.CL10.CL_DEVICE_VENDOR;
import static org.lwjgl.opencl.CL10.CL_DEVICE_VERSION;
import static org.lwjgl.opencl.CL10.CL_DRIVER_VERSION;
import static org.lwjgl.opencl.CL10.CL_PLATFORM_NAME;

import java.nio.IntBuffer;
import java.util.ArrayList;
import java.util.List;

import org.lwjgl.PointerBuffer;
import org.lwjgl.opencl.CL10;
import org.lwjgl.system.MemoryStack;

/** Every OpenCL device of every platform the ICD loader knows. */
final class Platforms {

    /** A device found, with the handles OpenCL calls need. */
    record Found(DeviceInfo info, long platform, long device) {
    }

    private Platforms() {
    }

    /**
     * The devices of every platform, in the loader's order.
     *
     * @throws DeviceNotFoundException when there is no ICD loader
     */
    static List<Found> all() {
        OpenCl.loadLibrary();
        List<Found> found = new ArrayList<>();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer count = stack.mallocInt(1);
            int err = CL10.clGetPlatformIDs(null, count);
            if (OpenCl.isNothingFound(err) || (err == 0 && count.get(0) == 0)) {
                return found;
            }
            OpenCl.check(err, "clGetPlatformIDs");
            PointerBuffer platforms = stack.mallocPointer(count.get(0));
            OpenCl.check(CL10.clGetPlatformIDs(platforms, (IntBuffer) null), "clGetPlatformIDs");
            for (int p = 0; p < platforms.capacity(); p++) {
                long platform = platforms.get(p);
                String platformName = OpenCl.platformString(platform, CL_PLATFORM_NAME);
                IntBuffer n = stack.mallocInt(1);
                int derr = CL10.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, null, n);
                if (OpenCl.isNothingFound(derr) || n.get(0) == 0) {
                    continue;
                }
                OpenCl.check(derr, "clGetDeviceIDs");
                PointerBuffer devices = stack.mallocPointer(n.get(0));
                OpenCl.check(CL10.clGetDeviceIDs(platform, CL_DEVICE_TYPE_ALL, devices, (IntBuffer) null),
                        "clGetDeviceIDs");
                for (int d = 0; d < devices.capacity(); d++) {
                    long device = devices.get(d);
                    found.add(new Found(info(p, d, platformName, device), platform, device));
                }
            }
        }
        return found;
    }

    private static DeviceInfo info(int p, int d, String platformName, long device) {
        long type = OpenCl.deviceLong(device, CL_DEVICE_TYPE);
        String typeName = (type & CL_DEVICE_TYPE_GPU) != 0 ? "GPU"
                : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "ACCELERATOR"
                : (type & CL_DEVICE_TYPE_CPU) != 0 ? "CPU" : "OTHER";
        String extensions = OpenCl.deviceString(device, CL_DEVICE_EXTENSIONS);
        return new DeviceInfo(p, d, platformName, OpenCl.deviceString(device, CL_DEVICE_NAME),
                OpenCl.deviceString(device, CL_DEVICE_VENDOR), typeName, OpenCl.deviceString(device, CL_DEVICE_VERSION),
                OpenCl.deviceString(device, CL_DRIVER_VERSION), OpenCl.deviceInt(device, CL_DEVICE_MAX_COMPUTE_UNITS),
                OpenCl.deviceLong(device, CL_DEVICE_GLOBAL_MEM_SIZE), OpenCl.deviceLong(device, CL_DEVICE_MAX_MEM_ALLOC_SIZE),
                extensions.contains("cl_khr_fp64"));
    }
}

package dev.cornerstone.backend.opencl;

import static org.lwjgl.opencl.CL10.CL_DEVICE_NOT_FOUND;
import static org.lwjgl.opencl.CL10.CL_SUCCESS;

import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.util.List;
import java.util.Map;

import org.lwjgl.PointerBuffer;
import org.lwjgl.system.Configuration;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;
import org.lwjgl.opencl.CL10;

/**
 * The few things every class of this backend needs from OpenCL through LWJGL: loading the ICD
 * loader, checking return codes (with the error's name), and reading info strings and numbers.
 */
final class OpenCl {

    /** Not in CL10: the ICD loader's answer when no platform is installed (cl_khr_icd). */
    static final int CL_PLATFORM_NOT_FOUND_KHR = -1001;

    /** Where the ICD loader is looked for, in order; {@code -Dorg.lwjgl.opencl.libname} goes first. */
    static final List<String> LIBRARY_NAMES = List.of("libOpenCL.so.1", "libOpenCL.so", "OpenCL");

    private static final Map<Integer, String> ERRORS = Map.ofEntries(
            Map.entry(0, "CL_SUCCESS"), Map.entry(-1, "CL_DEVICE_NOT_FOUND"),
            Map.entry(-2, "CL_DEVICE_NOT_AVAILABLE"), Map.entry(-3, "CL_COMPILER_NOT_AVAILABLE"),
            Map.entry(-4, "CL_MEM_OBJECT_ALLOCATION_FAILURE"), Map.entry(-5, "CL_OUT_OF_RESOURCES"),
            Map.entry(-6, "CL_OUT_OF_HOST_MEMORY"), Map.entry(-7, "CL_PROFILING_INFO_NOT_AVAILABLE"),
            Map.entry(-8, "CL_MEM_COPY_OVERLAP"), Map.entry(-11, "CL_BUILD_PROGRAM_FAILURE"),
            Map.entry(-12, "CL_MAP_FAILURE"), Map.entry(-13, "CL_MISALIGNED_SUB_BUFFER_OFFSET"),
            Map.entry(-14, "CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST"),
            Map.entry(-30, "CL_INVALID_VALUE"), Map.entry(-31, "CL_INVALID_DEVICE_TYPE"),
            Map.entry(-32, "CL_INVALID_PLATFORM"), Map.entry(-33, "CL_INVALID_DEVICE"),
            Map.entry(-34, "CL_INVALID_CONTEXT"), Map.entry(-35, "CL_INVALID_QUEUE_PROPERTIES"),
            Map.entry(-36, "CL_INVALID_COMMAND_QUEUE"), Map.entry(-37, "CL_INVALID_HOST_PTR"),
            Map.entry(-38, "CL_INVALID_MEM_OBJECT"), Map.entry(-40, "CL_INVALID_IMAGE_SIZE"),
            Map.entry(-42, "CL_INVALID_BINARY"), Map.entry(-43, "CL_INVALID_BUILD_OPTIONS"),
            Map.entry(-44, "CL_INVALID_PROGRAM"), Map.entry(-45, "CL_INVALID_PROGRAM_EXECUTABLE"),
            Map.entry(-46, "CL_INVALID_KERNEL_NAME"), Map.entry(-47, "CL_INVALID_KERNEL_DEFINITION"),
            Map.entry(-48, "CL_INVALID_KERNEL"), Map.entry(-49, "CL_INVALID_ARG_INDEX"),
            Map.entry(-50, "CL_INVALID_ARG_VALUE"), Map.entry(-51, "CL_INVALID_ARG_SIZE"),
            Map.entry(-52, "CL_INVALID_KERNEL_ARGS"), Map.entry(-53, "CL_INVALID_WORK_DIMENSION"),
            Map.entry(-54, "CL_INVALID_WORK_GROUP_SIZE"), Map.entry(-55, "CL_INVALID_WORK_ITEM_SIZE"),
            Map.entry(-56, "CL_INVALID_GLOBAL_OFFSET"), Map.entry(-57, "CL_INVALID_EVENT_WAIT_LIST"),
            Map.entry(-58, "CL_INVALID_EVENT"), Map.entry(-59, "CL_INVALID_OPERATION"),
            Map.entry(-61, "CL_INVALID_BUFFER_SIZE"), Map.entry(-63, "CL_INVALID_GLOBAL_WORK_SIZE"),
            Map.entry(CL_PLATFORM_NOT_FOUND_KHR, "CL_PLATFORM_NOT_FOUND_KHR"));

    private static volatile boolean libraryChosen;

    private OpenCl() {
    }

    /** The name of an OpenCL error code, for example {@code CL_OUT_OF_RESOURCES (-5)}. */
    static String errorName(int code) {
        return ERRORS.getOrDefault(code, "OpenCL error") + " (" + code + ")";
    }

    /** True for the codes with which a device says it ran out of memory. */
    static boolean isOutOfMemory(int code) {
        return code == CL10.CL_MEM_OBJECT_ALLOCATION_FAILURE || code == CL10.CL_OUT_OF_RESOURCES
                || code == CL10.CL_OUT_OF_HOST_MEMORY;
    }

    /** Throws an {@link OpenClException} naming {@code call} unless {@code code} is CL_SUCCESS. */
    static void check(int code, String call) {
        if (code != CL_SUCCESS) {
            throw new OpenClException(code, call + " failed: " + errorName(code));
        }
    }

    /**
     * Points LWJGL at the system's OpenCL ICD loader before its first OpenCL call. LWJGL looks for
     * {@code libOpenCL.so}, which only the loader's development package provides on Debian
     * ({@code ocl-icd-opencl-dev}); the runtime package has {@code libOpenCL.so.1}. The library is
     * probed with the FFM API first, so a missing loader is a clear error here rather than an
     * {@code UnsatisfiedLinkError} in LWJGL's static initialiser (after which OpenCL could not be
     * used in this JVM at all).
     */
    static synchronized void loadLibrary() {
        if (libraryChosen) {
            return;
        }
        String configured = Configuration.OPENCL_LIBRARY_NAME.get();
        List<String> candidates = configured != null ? List.of(configured) : LIBRARY_NAMES;
        for (String name : candidates) {
            try (Arena arena = Arena.ofConfined()) {
                SymbolLookup.libraryLookup(name, arena);
                if (configured == null) {
                    Configuration.OPENCL_LIBRARY_NAME.set(name);
                }
                libraryChosen = true;
                return;
            } catch (IllegalArgumentException notFound) {
                // try the next name
            }
        }
        throw new DeviceNotFoundException("no OpenCL ICD loader found (looked for " + String.join(", ", candidates)
                + "): install one with an OpenCL platform, on Debian 'apt-get install ocl-icd-libopencl1 "
                + "pocl-opencl-icd' for PoCL on the CPU, or a GPU vendor's OpenCL driver", List.of());
    }

    /** True when {@code code} means that a query found nothing (no platform, no device of a type). */
    static boolean isNothingFound(int code) {
        return code == CL_PLATFORM_NOT_FOUND_KHR || code == CL_DEVICE_NOT_FOUND;
    }

    static String platformString(long platform, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            check(CL10.clGetPlatformInfo(platform, param, (ByteBuffer) null, size), "clGetPlatformInfo");
            ByteBuffer value = MemoryUtil.memAlloc((int) size.get(0));
            try {
                check(CL10.clGetPlatformInfo(platform, param, value, null), "clGetPlatformInfo");
                return MemoryUtil.memUTF8(value, Math.max(0, (int) size.get(0) - 1)).trim();
            } finally {
                MemoryUtil.memFree(value);
            }
        }
    }

    static String deviceString(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            check(CL10.clGetDeviceInfo(device, param, (ByteBuffer) null, size), "clGetDeviceInfo");
            ByteBuffer value = MemoryUtil.memAlloc((int) size.get(0));
            try {
                check(CL10.clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
                return MemoryUtil.memUTF8(value, Math.max(0, (int) size.get(0) - 1)).trim();
            } finally {
                MemoryUtil.memFree(value);
            }
        }
    }

    static long deviceLong(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer value = stack.mallocLong(1);
            check(CL10.clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }

    static int deviceInt(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer value = stack.mallocInt(1);
            check(CL10.clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }

    static long devicePointer(long device, int param) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer value = stack.mallocPointer(1);
            check(CL10.clGetDeviceInfo(device, param, value, null), "clGetDeviceInfo");
            return value.get(0);
        }
    }
}

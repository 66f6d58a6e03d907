package dev.cornerstone.backend.opencl;

import static org.lwjgl.opencl.CL10.CL_PROGRAM_BUILD_LOG;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.IntBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Logger;

import org.lwjgl.PointerBuffer;
import org.lwjgl.opencl.CL10;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

/**
 * The backend's OpenCL C programs, built for its device on first use and kept (with their kernel
 * objects) until the backend closes. Sources are the {@code .cl} resources under
 * {@code dev/cornerstone/backend/opencl/kernels/}, each prefixed with {@code common.cl}. A build
 * failure throws a {@link ProgramBuildException} carrying the compiler's log. (Drivers cache
 * compiled binaries across processes themselves: PoCL under {@code ~/.cache/pocl}, NVIDIA under
 * {@code ~/.nv/ComputeCache}.)
 *
 * <p>Not thread-safe: the backend calls it under its lock.
 */
final class Programs implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.backend.opencl");
    static final String RESOURCES = "kernels/";

    private final long context;
    private final long device;
    private final String deviceName;
    private final String extraOptions;
    private final Map<String, Long> programs = new HashMap<>();
    private final Map<String, Long> kernels = new HashMap<>();

    Programs(long context, long device, String deviceName, String extraOptions) {
        this.context = context;
        this.device = device;
        this.deviceName = deviceName;
        this.extraOptions = extraOptions == null ? "" : extraOptions.trim();
    }

    /** The kernel {@code kernel} of the program {@code program} ({@code gemm.cl}), built with {@code options}. */
    long kernel(String program, String options, String kernel) {
        String key = program + '\u0000' + options + '\u0000' + kernel;
        Long k = kernels.get(key);
        if (k == null) {
            long p = program(program, options);
            try (MemoryStack stack = MemoryStack.stackPush()) {
                IntBuffer err = stack.mallocInt(1);
                k = CL10.clCreateKernel(p, kernel, err);
                OpenCl.check(err.get(0), "clCreateKernel(" + kernel + ") of " + program);
            }
            kernels.put(key, k);
        }
        return k;
    }

    private long program(String name, String options) {
        String key = name + '\u0000' + options;
        Long p = programs.get(key);
        if (p == null) {
            String source = resource("common.cl") + "\n#line 1\n" + resource(name);
            String all = (options + " " + extraOptions).trim();
            long t0 = System.nanoTime();
            p = build(name, source, all);
            LOG.fine(() -> "opencl: built " + name + " for " + deviceName + " in "
                    + (System.nanoTime() - t0) / 1_000_000 + " ms");
            programs.put(key, p);
        }
        return p;
    }

    /** Builds {@code source} for the device; on failure releases it and throws with the build log. */
    long build(String name, String source, String options) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long program = CL10.clCreateProgramWithSource(context, source, err);
            OpenCl.check(err.get(0), "clCreateProgramWithSource(" + name + ")");
            int code = CL10.clBuildProgram(program, device, options, null, 0);
            if (code != 0) {
                String log = buildLog(program);
                CL10.clReleaseProgram(program);
                throw new ProgramBuildException(code, name, deviceName, options, log);
            }
            return program;
        }
    }

    private String buildLog(long program) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer size = stack.mallocPointer(1);
            int err = CL10.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, (ByteBuffer) null, size);
            if (err != 0) {
                return "(no build log: clGetProgramBuildInfo failed with " + OpenCl.errorName(err) + ")";
            }
            ByteBuffer log = MemoryUtil.memAlloc((int) Math.max(1, size.get(0)));
            try {
                CL10.clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, log, null);
                String text = MemoryUtil.memUTF8(log, Math.max(0, (int) size.get(0) - 1)).strip();
                return text.isEmpty() ? "(the compiler wrote no log)" : text;
            } finally {
                MemoryUtil.memFree(log);
            }
        }
    }

    static String resource(String name) {
        try (InputStream in = Programs.class.getResourceAsStream(RESOURCES + name)) {
            if (in == null) {
                throw new IllegalStateException("opencl: kernel source " + RESOURCES + name + " is not in the bundle");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("opencl: cannot read kernel source " + name, e);
        }
    }

    /** Programs built so far (for tests). */
    int builtPrograms() {
        return programs.size();
    }

    @Override
    public void close() {
        kernels.values().forEach(CL10::clReleaseKernel);
        kernels.clear();
        programs.values().forEach(CL10::clReleaseProgram);
        programs.clear();
    }
}

package dev.cornerstone.backend.opencl;

import org.lwjgl.PointerBuffer;
import org.lwjgl.opencl.CL10;
import org.lwjgl.system.MemoryStack;

/**
 * One kernel launch: arguments in order, then {@link #run}. Global sizes are rounded up to a
 * multiple of the local size (kernels check their bounds), and a launch with nothing to do is
 * not enqueued. Local sizes come from a small fixed set per kernel, as a CPU device (PoCL) compiles
 * a kernel once for every local size it is launched with.
 */
final class Launch {

    private final long queue;
    private final long kernel;
    private final String name;
    private final Profiler profiler;
    private int index;

    Launch(long queue, long kernel, String name, Profiler profiler) {
        this.queue = queue;
        this.kernel = kernel;
        this.name = name;
        this.profiler = profiler;
    }

    Launch mem(long buffer) {
        check(CL10.clSetKernelArg1p(kernel, index, buffer));
        index++;
        return this;
    }

    Launch i(int value) {
        check(CL10.clSetKernelArg1i(kernel, index, value));
        index++;
        return this;
    }

    Launch l(long value) {
        check(CL10.clSetKernelArg1l(kernel, index, value));
        index++;
        return this;
    }

    Launch f(float value) {
        check(CL10.clSetKernelArg1f(kernel, index, value));
        index++;
        return this;
    }

    /** A {@code __local} array of {@code bytes} bytes. */
    Launch local(long bytes) {
        check(CL10.clSetKernelArg(kernel, index, bytes));
        index++;
        return this;
    }

    private void check(int code) {
        OpenCl.check(code, "clSetKernelArg(" + name + ", " + index + ")");
    }

    /** 1-D: {@code n} work-items in groups of {@code local}. */
    void run(long n, int local) {
        run(new long[] {n}, new long[] {local});
    }

    void run(long[] global, long[] local) {
        for (long g : global) {
            if (g <= 0) {
                return;
            }
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer g = stack.mallocPointer(global.length);
            PointerBuffer l = stack.mallocPointer(global.length);
            for (int d = 0; d < global.length; d++) {
                g.put(d, roundUp(global[d], local[d]));
                l.put(d, local[d]);
            }
            PointerBuffer event = profiler == null ? null : stack.mallocPointer(1);
            int code = CL10.clEnqueueNDRangeKernel(queue, kernel, global.length, null, g, l, null, event);
            if (code != 0) {
                ClContext.failure(code, "clEnqueueNDRangeKernel(" + name + ")");
            }
            if (event != null) {
                profiler.add(name, event.get(0));
            }
        }
    }

    static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }
}

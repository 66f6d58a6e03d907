package dev.cornerstone.backend.opencl;

import static org.lwjgl.opencl.CL10.CL_PROFILING_COMMAND_END;
import static org.lwjgl.opencl.CL10.CL_PROFILING_COMMAND_START;

import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.lwjgl.opencl.CL10;
import org.lwjgl.system.MemoryStack;

/**
 * Device time per kernel, from OpenCL profiling events: a diagnostic, on when the system property
 * {@value #PROPERTY} is {@code true} (the queue is then created with profiling, and every launch
 * keeps an event until the next {@link #report}).
 */
final class Profiler {

    static final String PROPERTY = "cornerstone.opencl.profile";

    private record Launched(String kernel, long event) {
    }

    private final List<Launched> launched = new ArrayList<>();
    private final Map<String, double[]> totals = new TreeMap<>();

    static boolean enabled() {
        return Boolean.getBoolean(PROPERTY);
    }

    void add(String kernel, long event) {
        launched.add(new Launched(kernel, event));
        if (launched.size() >= 1024) {                              // clWaitForEvents takes them from the stack
            collect();
        }
    }

    /** Reads and releases the events so far (they must have completed: call after a finish). */
    void collect() {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            LongBuffer start = stack.mallocLong(1);
            LongBuffer end = stack.mallocLong(1);
            CL10.clWaitForEvents(stack.pointers(launched.stream().mapToLong(Launched::event).toArray()));
            for (Launched l : launched) {
                CL10.clGetEventProfilingInfo(l.event(), CL_PROFILING_COMMAND_START, start, null);
                CL10.clGetEventProfilingInfo(l.event(), CL_PROFILING_COMMAND_END, end, null);
                double[] t = totals.computeIfAbsent(l.kernel(), k -> new double[2]);
                t[0] += (end.get(0) - start.get(0)) / 1e6;
                t[1]++;
                CL10.clReleaseEvent(l.event());
            }
        }
        launched.clear();
    }

    /** Milliseconds and launches per kernel since the last report, most time first; resets. */
    String report() {
        if (!launched.isEmpty()) {
            collect();
        }
        double all = totals.values().stream().mapToDouble(t -> t[0]).sum();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "opencl device time %.1f ms:%n", all));
        totals.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[0], a.getValue()[0]))
                .forEach(e -> sb.append(String.format(Locale.ROOT, "  %-28s %9.1f ms %5.1f%% %7d launches%n",
                        e.getKey(), e.getValue()[0], 100 * e.getValue()[0] / all, (long) e.getValue()[1])));
        totals.clear();
        return sb.toString();
    }
}

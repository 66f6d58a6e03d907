package dev.cornerstone.backend.opencl;

import org.lwjgl.system.MemoryUtil;

/** Column sums and whole-tensor sums (reduce.cl). */
final class ReductionKernels {

    private static final String PROGRAM = "reduce.cl";
    private static final int LOCAL = 64;
    /** At most this many work-groups' partial sums come back to the host. */
    private static final int MAX_GROUPS = 128;

    private final ClContext cl;
    private final int accBytes;

    ReductionKernels(ClContext cl) {
        this.cl = cl;
        this.accBytes = cl.info.fp64() ? 8 : 4;
    }

    /** out[j] += sum over rows of x[r, j], x seen as (rows, cols). */
    void sumRows(long x, long out, int cols, long rows) {
        cl.launch(PROGRAM, "", "sum_rows").mem(x).mem(out).i(cols).i((int) rows)
                .run(ElementwiseKernels.chunks(cols), RowKernels.COLUMN_LOCAL);
    }

    /**
     * The sum of x (or of its squares): partial sums per work-group on the device, their total on
     * the host. This reads back to the host, as the SPI returns a number: it waits for the queue.
     */
    double sum(long x, long n, boolean squares) {
        if (n == 0) {
            return 0;
        }
        int groups = (int) Math.min(MAX_GROUPS, (n + LOCAL * 16L - 1) / (LOCAL * 16L));
        long bytes = (long) groups * accBytes;
        long partials = cl.allocate(bytes, "sum scratch", "");
        long host = ClContext.staging(bytes);
        try {
            cl.launch(PROGRAM, "", "sum_partials").mem(x).l(n).i(squares ? 1 : 0).mem(partials)
                    .local((long) LOCAL * accBytes).run((long) groups * LOCAL, LOCAL);
            cl.read(partials, 0, host, bytes);
            double s = 0;
            for (int g = 0; g < groups; g++) {
                s += accBytes == 8 ? MemoryUtil.memGetDouble(host + 8L * g) : MemoryUtil.memGetFloat(host + 4L * g);
            }
            return s;
        } finally {
            MemoryUtil.nmemFree(host);
            cl.free(partials, BufferPool.capacity(bytes));
        }
    }
}

package dev.cornerstone.backend.cpu;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * Helper threads that wait for the next parallel loop by spinning for a short while before
 * parking, like OpenMP's active wait. The kernels of a training step are many and short
 * (tens of microseconds on GPT config A); handing a part to a parked ForkJoin worker costs
 * about as much as the part itself, and the caller often ran both parts alone (measured:
 * 2 threads trained no faster than 1). The split stays the same as with the pool, so
 * results are bit-identical.
 *
 * <p>One loop at a time: a loop that finds the team busy (another thread's kernel) uses the
 * ForkJoin pool instead.
 */
final class SpinTeam implements AutoCloseable {

    /** How long a helper spins for the next loop before it parks. */
    static final long SPIN_NANOS = 50_000;

    @FunctionalInterface
    interface Part {
        void run(int part, long from, long to);
    }

    /**
     * A loop's parts are claimed, not assigned: whoever comes first (the caller or a helper) takes
     * the next unclaimed part. The caller never waits for a helper that has not started yet (one
     * still waking from park, or not scheduled on a loaded machine): it runs the rest itself and
     * waits only for parts already running. Part boundaries do not depend on who runs them.
     */
    private record Job(Part body, int parts, long n, AtomicInteger next, AtomicInteger remaining,
                       Throwable[] failures) {

        /** Claims and runs parts until none is left. */
        void work() {
            for (int part = next.getAndIncrement(); part < parts; part = next.getAndIncrement()) {
                try {
                    body.run(part, n * part / parts, n * (part + 1) / parts);
                } catch (Throwable t) {
                    failures[part] = t;
                } finally {
                    remaining.decrementAndGet();
                }
            }
        }
    }

    private static final ThreadLocal<Boolean> INSIDE = ThreadLocal.withInitial(() -> false);

    private final Thread[] helpers;
    private final AtomicReference<Job> current = new AtomicReference<>();
    private final AtomicInteger busy = new AtomicInteger();
    private volatile long generation;
    private volatile boolean closed;

    SpinTeam(int helpers) {
        this.helpers = new Thread[helpers];
        for (int i = 0; i < helpers; i++) {
            int index = i + 1; // part 0 is the caller's
            Thread t = new Thread(() -> loop(index), "cornerstone-cpu-spin-" + index);
            t.setDaemon(true);
            this.helpers[i] = t;
            t.start();
        }
    }

    int size() {
        return helpers.length;
    }

    static boolean insideTeam() {
        return INSIDE.get();
    }

    /** Runs the loop on the team; false (nothing run) when the team is busy with another caller's loop. */
    boolean tryRun(int parts, long n, Part body) {
        if (closed || !busy.compareAndSet(0, 1)) {
            return false;
        }
        try {
            Job job = new Job(body, parts, n, new AtomicInteger(), new AtomicInteger(parts), new Throwable[parts]);
            current.set(job);
            generation++;
            for (int i = 0; i < parts - 1; i++) {
                LockSupport.unpark(helpers[i]);
            }
            job.work();
            // only parts a helper claimed and still runs are left; on a loaded machine that helper
            // may have lost its core, so after a short spin give the core away
            long spinUntil = System.nanoTime() + SPIN_NANOS;
            while (job.remaining().get() > 0) {
                if (System.nanoTime() < spinUntil) {
                    Thread.onSpinWait();
                } else {
                    Thread.yield();
                }
            }
            current.set(null);
            Parallel.rethrow(job.failures());
            return true;
        } finally {
            busy.set(0);
        }
    }

    private void loop(int index) {
        INSIDE.set(true);
        long seen = 0;
        while (!closed) {
            long deadline = System.nanoTime() + SPIN_NANOS;
            while (generation == seen && !closed) {
                if (System.nanoTime() < deadline) {
                    Thread.onSpinWait();
                } else {
                    LockSupport.park(this);
                }
            }
            seen = generation;
            Job job = current.get();
            if (job != null && index < job.parts()) {
                job.work();
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread t : helpers) {
            LockSupport.unpark(t);
        }
    }
}

package dev.cornerstone.backend.cpu;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The backend's threads: a {@link ForkJoinPool} created once (never a thread per call) and a
 * parallel loop that splits {@code [0, n)} into at most {@code threads} contiguous parts. The
 * calling thread runs the first part itself. A loop started from one of this pool's own threads
 * runs inline, so kernels may nest without deadlock or oversubscription.
 *
 * <p>Parts are deterministic: for given {@code n}, grain and thread count the split is always
 * the same, so kernels that reduce per part and then combine the parts in order give the same
 * bits on every run.
 */
final class Parallel implements AutoCloseable {

    /** One part of a loop: items {@code [from, to)}, with scratch arrays owned for the duration. */
    @FunctionalInterface
    interface Body {
        void run(long from, long to, Scratch scratch);
    }

    /** As {@link Body}, told which part it is (to write per-part partial results). */
    @FunctionalInterface
    interface PartBody {
        void run(int part, long from, long to, Scratch scratch);
    }

    /**
     * Set while a thread runs a part of a loop, the caller's own part included: a loop started
     * there runs inline, on that thread, so nested kernels (attention's per-sequence products)
     * never put more threads to work than the backend has.
     */
    private static final ThreadLocal<boolean[]> INSIDE_PART = ThreadLocal.withInitial(() -> new boolean[1]);

    private final int threads;
    private final ForkJoinPool pool;
    private final ConcurrentLinkedQueue<Scratch> scratches = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    /** Spinning helpers for the common case: one loop at a time, from outside the pool. */
    private final SpinTeam team;

    Parallel(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, was " + threads);
        }
        this.threads = threads;
        this.team = threads == 1 ? null : new SpinTeam(threads - 1);
        if (threads == 1) {
            this.pool = null;
        } else {
            AtomicInteger counter = new AtomicInteger();
            this.pool = new ForkJoinPool(threads, p -> {
                ForkJoinWorkerThread t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
                t.setName("cornerstone-cpu-" + counter.incrementAndGet());
                t.setDaemon(true);
                return t;
            }, null, false);
        }
    }

    int threads() {
        return threads;
    }

    /** How many parts a loop over {@code n} items with at least {@code grain} items per part uses. */
    int parts(long n, long grain) {
        if (n <= 0) {
            return 0;
        }
        if (pool == null || insidePool() || SpinTeam.insideTeam() || INSIDE_PART.get()[0]) {
            return 1;
        }
        long byGrain = Math.max(1, n / Math.max(1, grain));
        return (int) Math.min(threads, byGrain);
    }

    /** Runs {@code body} over {@code [0, n)} in {@link #parts(long, long)} parts. */
    void forRange(long n, long grain, Body body) {
        forParts(parts(n, grain), n, (part, from, to, scratch) -> body.run(from, to, scratch));
    }

    /** Runs {@code body} over {@code [0, n)} in exactly {@code parts} parts (0 runs nothing). */
    void forParts(int parts, long n, PartBody body) {
        if (closed) {
            throw new IllegalStateException("the cpu backend is closed");
        }
        if (parts <= 0) {
            return;
        }
        if (parts == 1) {
            runPart(body, 0, 0, n);
            return;
        }
        if (parts <= team.size() + 1 && team.tryRun(parts, n, (part, from, to) -> runPart(body, part, from, to))) {
            return;
        }
        // each part records its own failure, so the caller sees the original exception (a
        // joined ForkJoinTask would rethrow a reflective copy of it)
        Throwable[] failures = new Throwable[parts];
        ForkJoinTask<?>[] forked = new ForkJoinTask<?>[parts - 1];
        for (int p = 1; p < parts; p++) {
            int part = p;
            long from = n * p / parts;
            long to = n * (p + 1) / parts;
            forked[p - 1] = pool.submit(() -> {
                try {
                    runPart(body, part, from, to);
                } catch (Throwable t) {
                    failures[part] = t;
                }
            });
        }
        try {
            runPart(body, 0, 0, n / parts);
        } catch (Throwable t) {
            failures[0] = t;
        }
        for (ForkJoinTask<?> task : forked) {
            task.join();
        }
        rethrow(failures);
    }

    /**
     * Rethrows the first failure of a loop's parts, the others attached as suppressed; does
     * nothing when every part succeeded.
     */
    static void rethrow(Throwable[] failures) {
        Throwable failure = null;
        for (Throwable t : failures) {
            if (t == null) {
                continue;
            }
            if (failure == null) {
                failure = t;
            } else {
                failure.addSuppressed(t);
            }
        }
        if (failure instanceof RuntimeException e) {
            throw e;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException(failure);
        }
    }

    private void runPart(PartBody body, int part, long from, long to) {
        Scratch scratch = scratches.poll();
        if (scratch == null) {
            scratch = new Scratch();
        }
        boolean[] inside = INSIDE_PART.get();
        boolean was = inside[0];
        inside[0] = true;
        try {
            body.run(part, from, to, scratch);
        } finally {
            inside[0] = was;
            scratches.offer(scratch);
        }
    }

    private boolean insidePool() {
        return Thread.currentThread() instanceof ForkJoinWorkerThread w && w.getPool() == pool;
    }

    @Override
    public void close() {
        closed = true;
        scratches.clear();
        if (team != null) {
            team.close();
        }
        if (pool != null) {
            pool.shutdown();
            try {
                pool.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}

package dev.cornerstone.core.job;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.core.train.Trainer;
import dev.cornerstone.core.train.TrainingRun;

/**
 * The jobs a node runs in the background, each on its own thread, and what can be done to
 * them while they run: list, status (with every logged point, for charts), stop (with a
 * checkpoint) and move to another backend. When the backend a job trains on goes away (its
 * bundle stopped, updated or uninstalled), {@link #backendLeaving} moves the job to another
 * backend before the old one is released, or, when none is left, stops it with a checkpoint
 * and says why.
 *
 * <p>Every answer is made of JDK types (maps, lists, strings, numbers): the node's API lives
 * outside the container.
 */
final class NodeJobs {

    private static final Logger LOG = Logger.getLogger(NodeJobs.class.getName());

    /** How long a move or a stop may wait for the step in progress. */
    static final long STEP_WAIT_SECONDS = 300;

    /** One job: its run, thread and what it reported. */
    static final class Job {
        final String id;
        final TrainingRun run;
        final int totalSteps;
        final long parameters;
        final long startedMillis = System.currentTimeMillis();
        final List<Map<String, Object>> points = new CopyOnWriteArrayList<>();
        volatile Thread thread;
        volatile String state = "running";
        volatile String error;
        volatile String stopReason;
        volatile int step;
        volatile double lastTrainLoss = Double.NaN;
        volatile double lastValLoss = Double.NaN;
        volatile double tokensPerSec;
        volatile String lastCheckpoint;
        volatile Map<String, Object> summary;

        Job(String id, TrainingRun run) {
            this.id = id;
            this.run = run;
            this.totalSteps = run.spec().train().steps();
            this.parameters = run.model().parameters().values().stream().mapToLong(t -> t.size()).sum();
            this.step = run.trainer().step();
        }

        boolean active() {
            return "running".equals(state) || "stopping".equals(state);
        }
    }

    private final Map<String, Job> jobs = new java.util.concurrent.ConcurrentHashMap<>();
    private final List<Consumer<Map<String, Object>>> watchers = new CopyOnWriteArrayList<>();
    private final Function<String, ComputeBackend> replacementFor;

    /** @param replacementFor the backend to move to when the named one leaves, or null when none is left */
    NodeJobs(Function<String, ComputeBackend> replacementFor) {
        this.replacementFor = replacementFor;
    }

    /** Starts {@code run} on a thread of its own under {@code id}; the run is closed when it ends. */
    Map<String, Object> start(String id, TrainingRun run) {
        if (jobs.containsKey(id)) {
            run.close();
            throw new IllegalArgumentException("a job named '" + id + "' exists already on this node");
        }
        Job job = new Job(id, run);
        jobs.put(id, job);
        Thread t = new Thread(() -> runJob(job), "cornerstone-job-" + id);
        t.setDaemon(false);
        job.thread = t;
        t.start();
        publish(job, "start", Map.of("backend", run.backend().name()));
        return brief(job);
    }

    private void runJob(Job job) {
        try {
            Map<String, Object> summary = job.run.run(p -> {
                Trainer.StepResult r = p.step();
                job.step = r.step();
                job.lastTrainLoss = r.trainLoss();
                job.tokensPerSec = r.tokensPerSecond();
                if (!Float.isNaN(r.valLoss())) {
                    job.lastValLoss = r.valLoss();
                }
                if (p.checkpoint() != null) {
                    job.lastCheckpoint = p.checkpoint().toString();
                }
                if (p.logged()) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("step", r.step());
                    m.put("train_loss", (double) r.trainLoss());
                    if (!Float.isNaN(r.valLoss())) {
                        m.put("val_loss", (double) r.valLoss());
                    }
                    m.put("lr", (double) r.lr());
                    m.put("tokens_per_sec", Math.round(r.tokensPerSecond() * 10) / 10.0);
                    m.put("elapsed_s", Math.round(p.elapsedSeconds() * 1000) / 1000.0);
                    m.put("backend", job.run.backend().name());
                    job.points.add(m);
                    publish(job, "step", m);
                }
            });
            job.summary = summary;
            job.state = job.run.stopped() ? "stopped" : "completed";
        } catch (Throwable e) {
            job.state = "failed";
            job.error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            LOG.log(Level.SEVERE, "Job " + job.id + " failed", e);
        } finally {
            try {
                job.run.close();
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "Job " + job.id + ": closing its run failed", e);
            }
            publish(job, "end", Map.of("state", job.state));
        }
    }

    private void publish(Job job, String event, Map<String, Object> data) {
        if (watchers.isEmpty()) {
            return;
        }
        Map<String, Object> m = new LinkedHashMap<>(data);
        m.put("event", event);
        m.put("job", job.id);
        for (Consumer<Map<String, Object>> w : watchers) {
            try {
                w.accept(m);
            } catch (RuntimeException e) {
                LOG.log(Level.WARNING, "a job watcher failed; it is removed", e);
                watchers.remove(w);
            }
        }
    }

    /** Calls {@code watcher} with every job event (start, step, move, end) until the returned handle is run. */
    Runnable watch(Consumer<Map<String, Object>> watcher) {
        watchers.add(watcher);
        return () -> watchers.remove(watcher);
    }

    private Job job(String id) {
        Job j = jobs.get(id);
        if (j == null) {
            throw new IllegalArgumentException("no job '" + id + "' on this node (jobs: "
                    + (jobs.isEmpty() ? "none" : String.join(", ", new java.util.TreeSet<>(jobs.keySet()))) + ")");
        }
        return j;
    }

    List<Map<String, Object>> list() {
        List<Job> all = new ArrayList<>(jobs.values());
        all.sort((a, b) -> Long.compare(a.startedMillis, b.startedMillis));
        List<Map<String, Object>> out = new ArrayList<>();
        for (Job j : all) {
            out.add(brief(j));
        }
        return out;
    }

    private static Map<String, Object> brief(Job j) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", j.id);
        m.put("state", j.state);
        m.put("step", j.step);
        m.put("steps", j.totalSteps);
        m.put("backend", j.run.backend().name());
        m.put("device", j.run.backend().device());
        m.put("run", j.run.runDir().toString());
        m.put("parameters", j.parameters);
        if (!Double.isNaN(j.lastTrainLoss)) {
            m.put("train_loss", j.lastTrainLoss);
        }
        if (!Double.isNaN(j.lastValLoss)) {
            m.put("val_loss", j.lastValLoss);
        }
        m.put("tokens_per_sec", Math.round(j.tokensPerSec * 10) / 10.0);
        if (j.lastCheckpoint != null) {
            m.put("checkpoint", j.lastCheckpoint);
        }
        if (j.error != null) {
            m.put("error", j.error);
        }
        if (j.stopReason != null) {
            m.put("stop_reason", j.stopReason);
        }
        m.put("started_ms", j.startedMillis);
        return m;
    }

    /** The brief plus every logged point, the backend moves and the summary when done. */
    Map<String, Object> status(String id) {
        return status(id, 0);
    }

    /** As {@link #status(String)}, with the logged points after step {@code since} only. */
    Map<String, Object> status(String id, int since) {
        Job j = job(id);
        Map<String, Object> m = brief(j);
        List<Map<String, Object>> moves = new ArrayList<>();
        for (TrainingRun.Move mv : j.run.moves()) {
            moves.add(move(mv));
        }
        m.put("moves", moves);
        List<Map<String, Object>> points = List.copyOf(j.points);
        int from = points.size(); // steps only grow: walk back from the newest while they are after since
        while (since > 0 && from > 0 && ((Number) points.get(from - 1).get("step")).intValue() > since) {
            from--;
        }
        m.put("points", since > 0 ? points.subList(from, points.size()) : points);
        if (j.summary != null) {
            m.put("summary", j.summary);
        }
        return m;
    }

    private static Map<String, Object> move(TrainingRun.Move mv) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("after_step", mv.step());
        m.put("from", mv.from());
        m.put("to", mv.to());
        m.put("pause_s", Math.round(mv.pauseSeconds() * 1000) / 1000.0);
        return m;
    }

    /** Stops {@code id} after its step in progress, with a checkpoint; waits up to {@code waitMillis} for it to end. */
    Map<String, Object> stop(String id, String reason, long waitMillis) throws InterruptedException {
        Job j = job(id);
        if (j.active()) {
            j.stopReason = reason;
            j.state = "stopping";
            j.run.requestStop(reason);
            Thread t = j.thread;
            if (t != null && waitMillis > 0) {
                t.join(waitMillis);
            }
        }
        return brief(j);
    }

    /** Moves {@code id} to {@code target} after its step in progress; waits for the move. */
    Map<String, Object> move(String id, ComputeBackend target) throws InterruptedException {
        Job j = job(id);
        if (!j.active()) {
            throw new IllegalArgumentException("job '" + id + "' is " + j.state + ": only a running job moves");
        }
        TrainingRun.Move mv;
        try {
            mv = j.run.requestMove(target).get(STEP_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalArgumentException("job '" + id + "' could not move to " + target.name() + ": "
                    + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("job '" + id + "' did not reach the end of its step within "
                    + STEP_WAIT_SECONDS + " s to move to " + target.name());
        }
        Map<String, Object> m = move(mv);
        publish(j, "move", m);
        LOG.info("Job " + id + " moved from " + mv.from() + " to " + mv.to() + " after step " + mv.step()
                + ", training paused " + Math.round(mv.pauseSeconds() * 1000) + " ms");
        return m;
    }

    /**
     * The backend {@code leaving} is about to go (its service is being unregistered): every job
     * on it moves to another backend, or stops with a checkpoint when there is none. Blocks
     * until that is done, so the old backend is still there to read the tensors from.
     */
    void backendLeaving(ComputeBackend leaving) {
        for (Job j : jobs.values()) {
            if (!j.active() || j.run.backend() != leaving) {
                continue;
            }
            ComputeBackend next = replacementFor.apply(leaving.name());
            try {
                if (next != null) {
                    LOG.info("Backend " + leaving.name() + " is going away: moving job " + j.id + " to "
                            + next.name());
                    move(j.id, next);
                } else {
                    String why = "backend " + leaving.name() + " went away and no other backend is registered: "
                            + "stopped with a checkpoint; resume it when a backend is back";
                    LOG.warning("Job " + j.id + ": " + why);
                    stop(j.id, why, TimeUnit.SECONDS.toMillis(STEP_WAIT_SECONDS));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.log(Level.SEVERE, "Job " + j.id + " could not leave backend " + leaving.name()
                        + "; stopping it", e);
                try {
                    stop(j.id, "backend " + leaving.name() + " went away and the move failed: " + e.getMessage(),
                            TimeUnit.SECONDS.toMillis(STEP_WAIT_SECONDS));
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Stops every job (the node is shutting down), each with a checkpoint. */
    void stopAll(String reason) {
        for (Job j : jobs.values()) {
            if (j.active()) {
                j.stopReason = reason;
                j.state = "stopping";
                j.run.requestStop(reason);
            }
        }
        for (Job j : jobs.values()) {
            Thread t = j.thread;
            if (t != null) {
                try {
                    t.join(TimeUnit.SECONDS.toMillis(STEP_WAIT_SECONDS));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** The run folder of job {@code id}, for callers that resolve paths. */
    Path runDir(String id) {
        return job(id).run.runDir();
    }
}

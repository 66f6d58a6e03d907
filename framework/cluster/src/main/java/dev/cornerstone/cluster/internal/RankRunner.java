package dev.cornerstone.cluster.internal;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.cornerstone.cluster.collective.CollectiveException;
import dev.cornerstone.cluster.collective.CollectiveOptions;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.parallel.ParallelStrategy;
import dev.cornerstone.core.train.GradientSync;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.Trainer;
import dev.cornerstone.core.train.TrainingRun;

/**
 * One rank of one generation of a cluster job, on a thread of its own: forms the ring of
 * (job, generation), builds a {@link TrainingRun} from the job's last checkpoint (or from
 * the start), makes its trainer one rank of the job's strategy and trains. Rank 0 writes the
 * run folder and reports each step into the job's entry; every rank asks the fence after
 * each step and before each checkpoint.
 *
 * <p>How it ends: completed or stopped (rank 0 records it); fenced (another generation
 * replaced it: quietly); the ring failed (recorded as {@code ring_failed}, for the
 * coordinator to re-form it); any other error fails the job with its message.
 */
final class RankRunner {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.cluster.jobs");

    private final ClusterJobs jobs;
    final String job;
    final long generation;
    final int rank;
    private final List<String> world;
    private final Map<String, Object> startState;
    private final Thread thread;
    private volatile Communicator comm;
    private volatile TrainingRun run;
    private volatile String abandoned;
    /** The job's entry as the fence last read it. */
    private volatile Map<String, Object> latest;

    RankRunner(ClusterJobs jobs, String job, long generation, int rank, List<String> world,
               Map<String, Object> state) {
        this.jobs = jobs;
        this.job = job;
        this.generation = generation;
        this.rank = rank;
        this.world = List.copyOf(world);
        this.startState = state;
        this.latest = state;
        this.thread = new Thread(this::runRank, "cornerstone-job-" + job + "-g" + generation + "-r" + rank);
    }

    void start() {
        thread.start();
    }

    /** Makes this rank give up: its ring fails at once and it writes nothing more. */
    void abandon(String why) {
        abandoned = why;
        Communicator c = comm;
        if (c != null) {
            c.abort(why);
        }
    }

    void join(long millis) {
        try {
            thread.join(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @SuppressWarnings("unchecked")
    private void runRank() {
        Communicator c = null;
        try {
            Map<String, Object> cluster = (Map<String, Object>) startState.get("cluster");
            String strategy = String.valueOf(cluster.get("strategy"));
            if (world.size() > 1) {
                CollectiveOptions o = jobs.node().collectiveDefaults().withGeneration(generation);
                try {
                    c = jobs.node().communicator(job, rank, world, o).get(o.connectTimeout().toSeconds() + 30,
                            TimeUnit.SECONDS);
                } catch (ExecutionException e) {
                    throw new CollectiveException("forming the ring of job '" + job + "' (generation " + generation
                            + ") failed: " + e.getCause().getMessage(), -1, e.getCause());
                } catch (java.util.concurrent.TimeoutException e) {
                    throw new CollectiveException("forming the ring of job '" + job + "' (generation " + generation
                            + ") timed out", -1, e);
                }
                comm = c;
                if (abandoned != null) {
                    c.abort(abandoned);
                }
            }
            // a world of one trains alone
            long bucketBytes = cluster.get("bucket_bytes") instanceof Number b ? b.longValue()
                    : dev.cornerstone.cluster.parallel.DataParallelSync.DEFAULT_BUCKET_BYTES;
            GradientSync sync = c == null ? null : ParallelStrategy.of(strategy).sync(c, bucketBytes);
            Map<String, Object> p = jobs.jobService().apply(Map.of("command", "providers", "spec",
                    ClusterJobs.deepCopy(startState.get("spec"))));
            Path runDir = Path.of(String.valueOf(startState.get("run")));
            Path checkpoint = startState.get("checkpoint") == null ? null
                    : Path.of(String.valueOf(startState.get("checkpoint")));
            boolean writer = rank == 0;
            int rerunThrough = writer ? TrainingRun.lastLoggedStep(runDir) : 0;
            TrainingRun r = TrainingRun.forRank((TrainSpec) p.get("spec"), runDir, checkpoint, writer,
                    Path.of(String.valueOf(startState.get("base"))), (TrainingRun.Providers) p.get("providers"),
                    (Map<String, String>) p.get("bundles"));
            run = r;
            try {
                if (sync != null) {
                    r.trainer().dataParallel(sync);
                }
                r.distribute(this::fence, step -> {
                    Map<String, Object> m = new LinkedHashMap<>();
                    m.put("generation", generation);
                    m.put("world", world.size());
                    if (step <= rerunThrough) {
                        m.put("rerun", true); // this step was logged before, by a generation that did not finish
                    }
                    return m;
                });
                Map<String, Object> summary = r.run(progress -> progress(r, progress, rerunThrough));
                if (writer) {
                    boolean stopped = r.stopped();
                    Path last = dev.cornerstone.core.checkpoint.Checkpoints.latest(runDir.resolve("checkpoints"))
                            .orElse(null);
                    jobs.update(job, s -> {
                        if (ClusterJobs.generation(s) != generation) {
                            return null;
                        }
                        s.put("state", stopped ? "stopped" : "completed");
                        if (last != null) {
                            s.put("checkpoint", last.toString());
                            s.put("checkpoint_step", r.trainer().step());
                        }
                        s.put("summary", summary);
                        s.put("ended_ms", System.currentTimeMillis());
                        return s;
                    });
                }
                LOG.info("Cluster job " + job + ": rank " + rank + " of generation " + generation + " "
                        + (r.stopped() ? "stopped" : "completed") + " at step " + r.trainer().step());
            } finally {
                r.close();
            }
        } catch (TrainingRun.FencedException e) {
            LOG.info("Cluster job " + job + ": rank " + rank + " of generation " + generation + " stops: "
                    + e.getMessage());
        } catch (Throwable e) {
            failed(e);
        } finally {
            if (c != null) {
                c.close();
            }
            comm = null;
        }
    }

    private void failed(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        if (abandoned != null) {
            LOG.info("Cluster job " + job + ": rank " + rank + " of generation " + generation + " abandoned ("
                    + abandoned + "): " + message);
            return;
        }
        boolean ring = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            ring |= t instanceof CollectiveException;
        }
        if (ring) {
            LOG.warning("Cluster job " + job + ": rank " + rank + " of generation " + generation + ": " + message);
            jobs.update(job, s -> {
                if (ClusterJobs.generation(s) != generation || !ClusterJobs.ACTIVE.contains(ClusterJobs.state(s))
                        || s.get("ring_failed") != null) {
                    return null;
                }
                Map<String, Object> rf = new LinkedHashMap<>();
                rf.put("generation", generation);
                rf.put("rank", rank);
                rf.put("node", jobs.nodeId());
                rf.put("message", message);
                s.put("ring_failed", rf);
                return s;
            });
        } else {
            LOG.log(Level.SEVERE, "Cluster job " + job + ": rank " + rank + " of generation " + generation
                    + " failed", e);
            jobs.update(job, s -> {
                if (ClusterJobs.generation(s) != generation || !ClusterJobs.ACTIVE.contains(ClusterJobs.state(s))) {
                    return null;
                }
                s.put("state", "failed");
                s.put("error", "rank " + rank + " (node " + jobs.nodeId() + "): " + message);
                return s;
            });
        }
    }

    /**
     * Null while this rank may advance the job: it was not abandoned, the job is still at this
     * generation and running or stopping, and this side of the cluster holds more than half of
     * the generation's world (the quorum).
     */
    String fence() {
        if (abandoned != null) {
            return abandoned;
        }
        Map<String, Object> st = jobs.read(job);
        if (st == null) {
            return "cluster job '" + job + "' is gone from the cluster's state";
        }
        long g = ClusterJobs.generation(st);
        if (g != generation) {
            return "generation " + generation + " of cluster job '" + job + "' was replaced by generation " + g;
        }
        String state = ClusterJobs.state(st);
        if (!state.equals("running") && !state.equals("stopping")) {
            return "cluster job '" + job + "' is " + state;
        }
        List<String> members = jobs.memberIds();
        long alive = world.stream().filter(members::contains).count();
        if (alive * 2 <= world.size()) {
            return "this side of the cluster holds " + alive + " of the " + world.size() + " nodes of generation "
                    + generation + " of job '" + job + "': no quorum";
        }
        latest = st;
        return null;
    }

    private void progress(TrainingRun r, TrainingRun.Progress p, int rerunThrough) {
        Trainer.StepResult s = p.step();
        if (rank == 0) {
            Map<String, Object> point = null;
            if (p.logged()) {
                point = new LinkedHashMap<>();
                point.put("step", s.step());
                point.put("train_loss", (double) s.trainLoss());
                if (!Float.isNaN(s.valLoss())) {
                    point.put("val_loss", (double) s.valLoss());
                }
                point.put("lr", (double) s.lr());
                point.put("tokens_per_sec", Math.round(s.tokensPerSecond() * 10) / 10.0);
                point.put("elapsed_s", Math.round(p.elapsedSeconds() * 1000) / 1000.0);
                point.put("backend", r.backend().name());
                point.put("generation", generation);
                point.put("world", world.size());
                if (s.step() <= rerunThrough) {
                    point.put("rerun", true);
                }
            }
            Map<String, Object> fields = new LinkedHashMap<>();
            fields.put("train_loss", (double) s.trainLoss());
            if (!Float.isNaN(s.valLoss())) {
                fields.put("val_loss", (double) s.valLoss());
            }
            fields.put("tokens_per_sec", Math.round(s.tokensPerSecond() * 10) / 10.0);
            if (p.checkpoint() != null) {
                fields.put("checkpoint", p.checkpoint().toString());
                fields.put("checkpoint_step", s.step());
            }
            if (!jobs.reportStep(job, generation, s.step(), point, fields)) {
                throw new TrainingRun.FencedException("generation " + generation + " of cluster job '" + job
                        + "' was replaced while it reported step " + s.step());
            }
        }
        Map<String, Object> st = latest;
        if ("stopping".equals(ClusterJobs.state(st)) && st.get("stop_after") instanceof Number after
                && s.step() >= after.intValue()) {
            r.requestStop(String.valueOf(st.getOrDefault("stop_reason", "stopped on request")));
        }
    }
}

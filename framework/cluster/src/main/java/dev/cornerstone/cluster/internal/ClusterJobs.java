package dev.cornerstone.cluster.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.map.IMap;

import dev.cornerstone.cluster.ClusterNode;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.TrainingRun;

/**
 * Cluster jobs: training jobs whose ranks run on several nodes. Their state lives in the
 * Hazelcast map {@code cornerstone.jobs}, job id to a JSON object (never plugin classes):
 *
 * <pre>
 * id, spec (without its cluster section), cluster {nodes, strategy, checkpoint_dir}
 * state        running | stopping | recovering | completed | stopped | failed
 * world        node ids, rank r on world[r]
 * generation   1 at submit; +1 each time the ring is re-formed
 * step, steps, train_loss, val_loss, checkpoint, checkpoint_step, run (the run folder)
 * generations  each re-formed ring and why
 * stop_after, ring_failed, error, note, summary
 * </pre>
 *
 * Every logged step (a point: step, losses, lr, generation, ...) is an entry of its own in the
 * map {@code cornerstone.job.points}, key {@code JOB#STEP}, so that rank 0's report of a step
 * costs the same at step 10 as at step 100,000; {@link #status} lists them again.
 *
 * The node that takes a submit checks it, picks the first world and writes the entry; every
 * node then runs the rank the entry gives it ({@link RankRunner}); the oldest member
 * coordinates: when a node of a job's world leaves (or its ring fails), it bumps the
 * generation and re-forms the world from the survivors, which resume from the last
 * checkpoint. Every update is a compare-and-set of the whole entry, so concurrent writers
 * never lose each other's changes. Fencing and quorum: see the module README.
 */
public final class ClusterJobs implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.cluster.jobs");

    static final String JOBS_MAP = HazelcastConfigs.JOBS_MAP;
    /** States in which a job's ranks run or are about to. */
    static final Set<String> ACTIVE = Set.of("running", "stopping", "recovering");
    /** {@link #status} lists at most the last this many logged steps. */
    static final int MAX_POINTS = 10_000;
    /** A job whose ring had to be re-formed this many times fails instead. */
    static final int MAX_GENERATIONS = 20;

    private final ClusterNode node;
    private final IMap<String, String> jobs;
    private final IMap<String, String> points;
    private final Supplier<Function<Map<String, Object>, Map<String, Object>>> jobService;
    private final String checkpointDir;
    private final Map<String, RankRunner> ranks = new ConcurrentHashMap<>();
    /** Coordinator: when it first saw each job's ring failure (job and generation), to wait out a member's removal. */
    private final Map<String, Long> ringFailureSeen = new ConcurrentHashMap<>();
    private final long ringFailureGraceMillis;
    private final ScheduledExecutorService ticker;
    private final UUID membershipListener;
    private final UUID entryListener;
    /** A tick is queued and has not started: more reasons to tick need not queue another. */
    private final java.util.concurrent.atomic.AtomicBoolean tickQueued = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closed;

    /**
     * How often a node reads every job entry without being told to. A node ticks at once when a
     * job entry is added or changed (an entry listener: a submit, a step report, a stop, a new
     * generation) and when a member joins or leaves, so this is a safety net only: every tick
     * reads the whole map, whose partitions are on every member, and a tick every 300 ms (before)
     * woke the partition and I/O threads of every node three times a second while ranks trained.
     */
    static final long SAFETY_TICK_MILLIS = 2_000;

    /**
     * @param jobService    the container's job service ({@code cornerstone.service=jobs}), or null while there is none
     * @param checkpointDir {@code cluster.checkpoint.dir}: where cluster jobs' run folders go; null for the default
     * @param ringFailureGraceMillis how long a ring that failed while all its nodes are still members waits before
     *                      it is re-formed with the same nodes: a killed node stays a member until Hazelcast's
     *                      heartbeat timeout, and re-forming with it would only fail again
     */
    public ClusterJobs(ClusterNode node, Supplier<Function<Map<String, Object>, Map<String, Object>>> jobService,
                       String checkpointDir, long ringFailureGraceMillis) {
        this.node = node;
        this.ringFailureGraceMillis = ringFailureGraceMillis;
        this.jobs = node.hazelcast().getMap(JOBS_MAP);
        this.points = node.hazelcast().getMap(HazelcastConfigs.POINTS_MAP);
        this.jobService = jobService;
        this.checkpointDir = checkpointDir == null || checkpointDir.isBlank() ? null : checkpointDir;
        this.ticker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "cornerstone-cluster-jobs");
            t.setDaemon(true);
            return t;
        });
        this.membershipListener = node.hazelcast().getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                tickSoon();
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                tickSoon();
            }
        });
        this.entryListener = jobs.addEntryListener(new JobEntryListener(), false);
        ticker.scheduleWithFixedDelay(this::tick, 200, SAFETY_TICK_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** Any change of a job entry (no value carried: the tick reads the map) makes this node tick. */
    private final class JobEntryListener implements com.hazelcast.map.listener.EntryAddedListener<String, String>,
            com.hazelcast.map.listener.EntryUpdatedListener<String, String>,
            com.hazelcast.map.listener.EntryRemovedListener<String, String> {
        @Override
        public void entryAdded(com.hazelcast.core.EntryEvent<String, String> e) {
            tickSoon();
        }

        @Override
        public void entryUpdated(com.hazelcast.core.EntryEvent<String, String> e) {
            tickSoon();
        }

        @Override
        public void entryRemoved(com.hazelcast.core.EntryEvent<String, String> e) {
            tickSoon();
        }
    }

    String nodeId() {
        return node.nodeId();
    }

    ClusterNode node() {
        return node;
    }

    private void tickSoon() {
        if (!closed && tickQueued.compareAndSet(false, true)) {
            try {
                ticker.execute(() -> {
                    tickQueued.set(false);
                    tick();
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                tickQueued.set(false); // closing
            }
        }
    }

    // ---- state --------------------------------------------------------------------------

    @SuppressWarnings("unchecked")
    static Map<String, Object> parse(String json, String id) {
        return (Map<String, Object>) Json.read(json, "cluster job " + id);
    }

    /** The job's entry now, or null. */
    Map<String, Object> read(String id) {
        String json = jobs.get(id);
        return json == null ? null : parse(json, id);
    }

    /**
     * Compare-and-set update of a job's entry: {@code change} gets a copy of the entry and
     * returns the new one (or null to leave it as it is); retried when another writer came
     * first. Returns the entry as left, null when there is none.
     */
    Map<String, Object> update(String id, UnaryOperator<Map<String, Object>> change) {
        for (int attempt = 0; ; attempt++) {
            String old = jobs.get(id);
            if (old == null) {
                return null;
            }
            Map<String, Object> next = change.apply(parse(old, id));
            if (next == null) {
                return parse(old, id);
            }
            String json = Json.write(next, false);
            if (jobs.replace(id, old, json)) {
                return next;
            }
            if (attempt > 1000) {
                throw new IllegalStateException("cluster job '" + id + "': too many concurrent updates");
            }
        }
    }

    static String pointKey(String id, int step) {
        return id + "#" + step;
    }

    /**
     * Records one logged step of a job (one map entry, whatever the run's length). Rank 0
     * writes it before it reports the step into the job's entry, whose compare-and-set is the
     * fence: a point of a generation that was replaced is never listed by {@link #status}.
     */
    void putPoint(String id, int step, Map<String, Object> point) {
        points.set(pointKey(id, step), Json.write(point, false));
    }

    /**
     * Rank 0's report of a step: its point (null when the step was not logged) into the points
     * map, then {@code step} and {@code fields} into the job's entry under a compare-and-set
     * that holds only while the entry is at {@code generation}. Both writes are of one step's
     * size, whatever the run's length. False when another generation replaced this one (the
     * fence: the rank must stop; its point is never listed).
     */
    boolean reportStep(String id, long generation, int step, Map<String, Object> point, Map<String, Object> fields) {
        if (point != null) {
            putPoint(id, step, point);
        }
        Map<String, Object> left = update(id, st -> {
            if (generation(st) != generation) {
                return null;
            }
            st.put("step", step);
            st.putAll(fields);
            return st;
        });
        return left != null && generation(left) == generation;
    }

    /**
     * The job's logged steps, in order: for each step up to the entry's {@code step}, the
     * point written by the generation that trained it last (the last generation resumed from
     * an earlier step); points of replaced generations and of steps not reported yet are left out.
     * Only steps after {@code since} are read (0: all), so that a client following a long job
     * asks for what is new instead of every point again on every poll.
     */
    @SuppressWarnings("unchecked")
    List<Object> points(String id, Map<String, Object> st, int since) {
        int last = step(st);
        int logEvery = 1;
        if (st.get("spec") instanceof Map<?, ?> spec && spec.get("train") instanceof Map<?, ?> train
                && train.get("log_every") instanceof Number n && n.intValue() > 0) {
            logEvery = n.intValue();
        }
        int first = (int) Math.max(Math.max(1, (long) since + 1), last - (long) MAX_POINTS * logEvery + 1);
        List<Map<String, Object>> gens = new ArrayList<>();
        for (Object g : (List<Object>) st.getOrDefault("generations", List.of())) {
            gens.add((Map<String, Object>) g);
        }
        Set<String> keys = new LinkedHashSet<>();
        for (int s = first; s <= last; s++) {
            keys.add(pointKey(id, s));
        }
        Map<String, String> found = keys.isEmpty() ? Map.of() : points.getAll(keys);
        List<Object> out = new ArrayList<>();
        for (int s = first; s <= last; s++) {
            String json = found.get(pointKey(id, s));
            if (json == null) {
                continue;
            }
            Map<String, Object> p = parse(json, id + " step " + s);
            long by = 1;
            for (Map<String, Object> g : gens) {
                if (((Number) g.get("from_step")).intValue() < s) {
                    by = ((Number) g.get("generation")).longValue();
                }
            }
            if (p.get("generation") instanceof Number pg && pg.longValue() == by) {
                out.add(p);
            }
        }
        return out;
    }

    static long generation(Map<String, Object> st) {
        return ((Number) st.getOrDefault("generation", 0)).longValue();
    }

    static String state(Map<String, Object> st) {
        return String.valueOf(st.get("state"));
    }

    @SuppressWarnings("unchecked")
    static List<String> world(Map<String, Object> st) {
        return (List<String>) st.getOrDefault("world", List.of());
    }

    static int step(Map<String, Object> st) {
        return ((Number) st.getOrDefault("step", 0)).intValue();
    }

    /** Node ids of the current members, oldest first. */
    List<String> memberIds() {
        List<String> ids = new ArrayList<>();
        for (Member m : node.hazelcast().getCluster().getMembers()) {
            String id = m.getAttribute(ClusterRuntime.VERTX_NODE_ID);
            if (id != null) {
                ids.add(id);
            }
        }
        return ids;
    }

    /** The oldest member coordinates the cluster's jobs. */
    private boolean coordinator() {
        var it = node.hazelcast().getCluster().getMembers().iterator();
        return it.hasNext() && it.next().localMember();
    }

    /** The container's job service; waits up to a minute for it (a node that just joined may still be starting). */
    Function<Map<String, Object>, Map<String, Object>> jobService() {
        Function<Map<String, Object>, Map<String, Object>> f = jobService.get();
        for (int i = 0; f == null && i < 600 && !closed; i++) {
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            f = jobService.get();
        }
        if (f == null) {
            throw new IllegalStateException("the job service (bundle dev.cornerstone.core) is not running on node "
                    + node.nodeId());
        }
        return f;
    }

    // ---- commands ---------------------------------------------------------------------------

    /**
     * {@code spec} (with its {@code cluster} section), {@code id}, {@code runs} (the runs folder
     * of the node that took the submit), {@code base} (folder relative data paths resolve against).
     */
    @SuppressWarnings("unchecked")
    Map<String, Object> submit(Map<String, Object> request) throws IOException {
        if (!(request.get("spec") instanceof Map<?, ?> given)) {
            throw new IllegalArgumentException("spec: must be an object with sections model, optimizer, data, train, "
                    + "backend, cluster");
        }
        Map<String, Object> spec = (Map<String, Object>) deepCopy(given);
        Object section = spec.remove("cluster");
        List<String> members = memberIds();
        ClusterJobSpec cs = ClusterJobSpec.from(section, members.size(), node.clusterName());
        TrainSpec ts = TrainSpec.from((Map<String, Object>) deepCopy(spec));
        if (ts.train().batchSize() % cs.nodes() != 0) {
            throw new IllegalArgumentException("train.batch_size " + ts.train().batchSize() + " must be a multiple of "
                    + "cluster.nodes " + cs.nodes() + " (each rank takes an equal share of every batch)");
        }
        // the names (model, optimizer, dataset, backend) are checked where the job is taken
        jobService().apply(Map.of("command", "providers", "spec", deepCopy(spec)));
        String id = Requests.string(request, "id");
        Path runs = cs.checkpointDir() != null ? Path.of(cs.checkpointDir())
                : checkpointDir != null ? Path.of(checkpointDir) : Path.of(Requests.string(request, "runs"));
        Path run = runs.resolve(id).toAbsolutePath().normalize();
        if (Files.exists(run.resolve("spec.json"))) {
            throw new IllegalArgumentException(run + " already holds a run; choose another id");
        }
        List<String> world = pickWorld(members, cs.nodes(), Set.of());
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("id", id);
        st.put("spec", spec);
        st.put("cluster", cs.toMap());
        st.put("state", "running");
        st.put("world", world);
        st.put("generation", 1);
        st.put("step", 0);
        st.put("steps", ts.train().steps());
        st.put("run", run.toString());
        st.put("base", Requests.string(request, "base"));
        st.put("submitted_by", node.nodeId());
        st.put("submitted_ms", System.currentTimeMillis());
        st.put("generations", List.of(generationEvent(1, world, 0, "submitted")));
        if (jobs.putIfAbsent(id, Json.write(st, false)) != null) {
            throw new IllegalArgumentException("a cluster job named '" + id + "' exists already");
        }
        LOG.info("Cluster job " + id + " submitted: " + cs.nodes() + " rank(s), " + cs.strategy() + ", world "
                + world + ", run folder " + run);
        tickSoon();
        return brief(st);
    }

    private static Map<String, Object> generationEvent(long generation, List<String> world, int fromStep,
                                                       String reason) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("generation", generation);
        e.put("world", world);
        e.put("from_step", fromStep);
        e.put("reason", reason);
        e.put("at_ms", System.currentTimeMillis());
        return e;
    }

    /**
     * {@code n} members for a world: those of {@code keep} first (in its order), then the
     * members running the fewest ranks of active jobs, oldest first.
     */
    private List<String> pickWorld(List<String> members, int n, Set<String> exclude) {
        Map<String, Integer> load = load();
        List<String> candidates = new ArrayList<>(members);
        candidates.removeAll(exclude);
        candidates.sort(Comparator.comparingInt(m -> load.getOrDefault(m, 0))); // stable: oldest first among equals
        return new ArrayList<>(candidates.subList(0, Math.min(n, candidates.size())));
    }

    List<Map<String, Object>> list() {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map.Entry<String, String> e : jobs.entrySet()) {
            out.add(brief(parse(e.getValue(), e.getKey())));
        }
        out.sort(Comparator.comparingLong(m -> ((Number) m.getOrDefault("submitted_ms", 0L)).longValue()));
        return out;
    }

    /** Null when there is no such cluster job. */
    Map<String, Object> status(String id) {
        return status(id, 0);
    }

    /** Null when there is no such cluster job; {@code points} holds the steps after {@code since} only. */
    Map<String, Object> status(String id, int since) {
        Map<String, Object> st = read(id);
        if (st == null) {
            return null;
        }
        Map<String, Object> m = brief(st);
        m.put("points", points(id, st, since));
        m.put("generations", st.getOrDefault("generations", List.of()));
        m.put("moves", List.of());
        if (st.get("summary") != null) {
            m.put("summary", st.get("summary"));
        }
        return m;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> brief(Map<String, Object> st) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", st.get("id"));
        m.put("cluster", true);
        m.put("state", st.get("state"));
        m.put("step", st.get("step"));
        m.put("steps", st.get("steps"));
        m.put("world", st.get("world"));
        m.put("generation", st.get("generation"));
        Map<String, Object> cs = (Map<String, Object>) st.getOrDefault("cluster", Map.of());
        m.put("nodes", cs.get("nodes"));
        m.put("strategy", cs.get("strategy"));
        Object be = st.get("spec") instanceof Map<?, ?> spec && spec.get("backend") instanceof Map<?, ?> b
                ? b.get("name") : null;
        m.put("backend", be == null ? "cpu" : be);
        m.put("run", st.get("run"));
        for (String k : List.of("train_loss", "val_loss", "tokens_per_sec", "checkpoint", "checkpoint_step", "error",
                "stop_reason", "note", "submitted_by", "submitted_ms")) {
            if (st.get(k) != null) {
                m.put(k, st.get(k));
            }
        }
        return m;
    }

    /** Stops the job after a step all ranks reach, with a checkpoint; waits up to {@code waitMillis} for it to end. */
    Map<String, Object> stop(String id, String reason, long waitMillis) throws InterruptedException {
        Map<String, Object> st = update(id, s -> switch (state(s)) {
            case "running" -> {
                s.put("state", "stopping");
                // Every rank has finished at most one step more than rank 0 reported (the
                // all-reduce of the next needs rank 0), so all of them see this before the step
                // after that: they all stop after the same step.
                s.put("stop_after", step(s) + 2);
                s.put("stop_reason", reason);
                yield s;
            }
            case "recovering" -> {
                s.put("state", "stopped");
                s.put("stop_reason", reason + " (while recovering: no rank was running)");
                yield s;
            }
            default -> null;
        });
        if (st == null) {
            return null;
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
        while (ACTIVE.contains(state(st)) && System.nanoTime() < deadline) {
            Thread.sleep(200);
            st = read(id);
        }
        return brief(st);
    }

    // ---- ranks and coordination ------------------------------------------------------------

    private void tick() {
        if (closed) {
            return;
        }
        try {
            List<String> members = memberIds();
            boolean coordinator = coordinator();
            for (Map.Entry<String, String> e : jobs.entrySet()) {
                Map<String, Object> st = parse(e.getValue(), e.getKey());
                if (coordinator) {
                    coordinate(e.getKey(), st, members);
                }
                runMyRank(e.getKey(), st);
            }
        } catch (RuntimeException e) {
            if (!closed && node.hazelcast().getLifecycleService().isRunning()) {
                LOG.log(Level.WARNING, "cluster jobs: " + e.getMessage(), e);
            }
        }
    }

    private void runMyRank(String id, Map<String, Object> st) {
        String state = state(st);
        if (!state.equals("running") && !state.equals("stopping")) {
            return;
        }
        int rank = world(st).indexOf(node.nodeId());
        if (rank < 0) {
            return;
        }
        long g = generation(st);
        RankRunner current = ranks.get(id);
        if (current != null && current.generation >= g) {
            return;
        }
        if (current != null) {
            current.abandon("generation " + g + " of job '" + id + "' replaces generation " + current.generation);
            current.join(TimeUnit.SECONDS.toMillis(120));
        }
        RankRunner r = new RankRunner(this, id, g, rank, world(st), st);
        ranks.put(id, r);
        LOG.info("Cluster job " + id + ": running rank " + rank + " of " + world(st).size() + ", generation " + g
                + (st.get("checkpoint") == null ? ", from the start" : ", from " + st.get("checkpoint")));
        r.start();
    }

    /** The coordinator's part: re-forms the world of a job that lost a node or whose ring failed. */
    private void coordinate(String id, Map<String, Object> st, List<String> members) {
        String state = state(st);
        if (!ACTIVE.contains(state)) {
            return;
        }
        long g = generation(st);
        List<String> world = world(st);
        List<String> lost = world.stream().filter(n -> !members.contains(n)).toList();
        boolean ringFailed = st.get("ring_failed") instanceof Map<?, ?> rf && rf.get("generation") instanceof Number n
                && n.longValue() == g;
        if (lost.isEmpty() && !ringFailed && !state.equals("recovering")) {
            if (state.equals("running")) {
                grow(id, st, members);
            }
            return;
        }
        if (lost.isEmpty() && ringFailed && !state.equals("recovering")) {
            long now = System.currentTimeMillis();
            Long seen = ringFailureSeen.putIfAbsent(id + "#" + g, now);
            if (now - (seen == null ? now : seen) < ringFailureGraceMillis) {
                if (seen == null) { // look again when the grace is over (a member's removal ticks sooner)
                    ticker.schedule(this::tickSoon, ringFailureGraceMillis + 10, TimeUnit.MILLISECONDS);
                }
                return; // a node that died is still a member for a while: wait for its removal
            }
        }
        if (state.equals("stopping")) {
            update(id, s -> generation(s) != g ? null : put(s, "state", "stopped", "note",
                    "a node left while the job was stopping; its last checkpoint is step "
                            + s.getOrDefault("checkpoint_step", 0)));
            return;
        }
        int alive = world.size() - lost.size();
        if (alive * 2 <= world.size()) {
            String note = "waiting for a quorum: " + alive + " of the " + world.size() + " nodes of generation " + g
                    + " are members (more than half are needed); stop the job and resume its run folder";
            update(id, s -> generation(s) != g || note.equals(s.get("note")) ? null
                    : put(s, "state", "recovering", "note", note));
            return;
        }
        if (g >= MAX_GENERATIONS) {
            update(id, s -> generation(s) != g ? null : put(s, "state", "failed", "error", "the ring of job '" + id
                    + "' was re-formed " + g + " times; giving up"));
            return;
        }
        @SuppressWarnings("unchecked")
        int want = ((Number) ((Map<String, Object>) st.get("cluster")).get("nodes")).intValue();
        @SuppressWarnings("unchecked")
        int batch = TrainSpec.from((Map<String, Object>) deepCopy(st.get("spec"))).train().batchSize();
        List<String> candidates = new ArrayList<>();
        for (String w : world) {
            if (members.contains(w)) {
                candidates.add(w);
            }
        }
        for (String m : pickWorld(members, members.size(), new LinkedHashSet<>(world))) {
            candidates.add(m);
        }
        int n = Math.min(want, candidates.size());
        while (n > 1 && batch % n != 0) {
            n--; // every rank takes an equal share of each batch
        }
        List<String> next = List.copyOf(candidates.subList(0, n));
        String reason = !lost.isEmpty() ? "node" + (lost.size() > 1 ? "s " : " ") + String.join(", ", lost)
                + " left the cluster" : ringFailed ? "the ring failed: " + ((Map<?, ?>) st.get("ring_failed"))
                .get("message") : "re-formed after waiting for a quorum";
        reform(id, g, next, reason);
    }

    /**
     * A job whose world is smaller than {@code cluster.nodes} takes idle members (running no
     * rank of an active job) in at its next checkpoint: as soon as this generation has written
     * one, the coordinator starts the next generation from it with the larger world (the steps
     * trained since that checkpoint, usually none or one, are trained again).
     */
    @SuppressWarnings("unchecked")
    private void grow(String id, Map<String, Object> st, List<String> members) {
        List<String> world = world(st);
        int want = ((Number) ((Map<String, Object>) st.get("cluster")).get("nodes")).intValue();
        if (world.size() >= want) {
            return;
        }
        Map<String, Integer> load = load();
        List<String> idle = members.stream().filter(m -> !world.contains(m) && load.getOrDefault(m, 0) == 0)
                .toList();
        if (idle.isEmpty()) {
            return;
        }
        int checkpoint = ((Number) st.getOrDefault("checkpoint_step", 0)).intValue();
        List<Object> gens = (List<Object>) st.getOrDefault("generations", List.of());
        int from = gens.isEmpty() ? 0 : ((Number) ((Map<String, Object>) gens.getLast()).get("from_step")).intValue();
        if (checkpoint <= from) {
            return; // no checkpoint of this generation yet: the new node enters at the next one
        }
        int batch = TrainSpec.from((Map<String, Object>) deepCopy(st.get("spec"))).train().batchSize();
        int n = Math.min(want, world.size() + idle.size());
        while (n > world.size() && batch % n != 0) {
            n--;
        }
        if (n <= world.size()) {
            return;
        }
        List<String> joining = idle.subList(0, n - world.size());
        List<String> next = new ArrayList<>(world);
        next.addAll(joining);
        reform(id, generation(st), List.copyOf(next), "node" + (joining.size() > 1 ? "s " : " ")
                + String.join(", ", joining) + " joined; entering at the checkpoint of step " + checkpoint);
    }

    /** Ranks of active jobs per node. */
    private Map<String, Integer> load() {
        Map<String, Integer> load = new HashMap<>();
        for (Map.Entry<String, String> e : jobs.entrySet()) {
            Map<String, Object> st = parse(e.getValue(), e.getKey());
            if (ACTIVE.contains(state(st))) {
                for (String w : world(st)) {
                    load.merge(w, 1, Integer::sum);
                }
            }
        }
        return load;
    }

    /** Starts generation {@code g + 1} of the job on {@code next}, from its last checkpoint, unless g is gone already. */
    private void reform(String id, long g, List<String> next, String reason) {
        Map<String, Object> done = update(id, s -> {
            if (generation(s) != g || !(state(s).equals("running") || state(s).equals("recovering"))) {
                return null; // another generation already, or stopping (a stop wins)
            }
            int from = ((Number) s.getOrDefault("checkpoint_step", 0)).intValue();
            s.put("generation", g + 1);
            s.put("world", next);
            s.put("state", "running");
            s.put("step", from);
            s.remove("ring_failed");
            s.remove("note");
            @SuppressWarnings("unchecked")
            List<Object> gens = new ArrayList<>((List<Object>) s.getOrDefault("generations", List.of()));
            gens.add(generationEvent(g + 1, next, from, reason));
            s.put("generations", gens);
            return s;
        });
        if (done != null && generation(done) == g + 1) {
            LOG.warning("Cluster job " + id + ": " + reason + "; generation " + (g + 1) + " on " + next.size()
                    + " node(s) " + next + " resumes from step " + done.get("step"));
        }
    }

    private static Map<String, Object> put(Map<String, Object> m, Object... kv) {
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], kv[i + 1]);
        }
        return m;
    }

    static Object deepCopy(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> c = new LinkedHashMap<>();
            m.forEach((k, x) -> c.put(String.valueOf(k), deepCopy(x)));
            return c;
        }
        if (v instanceof List<?> l) {
            List<Object> c = new ArrayList<>();
            l.forEach(x -> c.add(deepCopy(x)));
            return c;
        }
        return v;
    }

    void ended(RankRunner r) {
        // the entry stays, so a later generation of the same job sees which one ran last
    }

    @Override
    public void close() {
        closed = true;
        ticker.shutdownNow();
        try {
            jobs.removeEntryListener(entryListener);
        } catch (RuntimeException e) {
            // Hazelcast already stopped
        }
        try {
            node.hazelcast().getCluster().removeMembershipListener(membershipListener);
        } catch (RuntimeException e) {
            // Hazelcast already stopped
        }
        for (RankRunner r : ranks.values()) {
            r.abandon("node " + node.nodeId() + " is shutting down");
        }
        for (RankRunner r : ranks.values()) {
            r.join(TimeUnit.SECONDS.toMillis(60));
        }
    }
}

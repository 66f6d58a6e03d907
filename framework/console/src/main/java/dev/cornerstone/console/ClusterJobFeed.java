package dev.cornerstone.console;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.vertx.core.Vertx;

/**
 * Feeds the cluster's jobs into the page's event stream, as {@code job} events of the same
 * shape as the node's own jobs' (so the page charts them the same way): the cluster bundle
 * pushes nothing, so while a tab is open the console reads the cluster's job list every
 * {@link #PERIOD_MILLIS} and, for a job whose step moved, its new points (only those: {@code since}); each becomes a
 * {@code step} event with {@code "cluster": true}. A new generation (the ring re-formed) is a
 * {@code start} event, a job that ended an {@code end} event. No tab open: nothing is read.
 */
final class ClusterJobFeed {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");
    static final long PERIOD_MILLIS = 1000;
    private static final Set<String> ACTIVE = Set.of("running", "stopping", "recovering");

    private record Seen(int step, long generation, String state) {
    }

    private final Vertx vertx;
    private final Jobs jobs;
    private final EventHub hub;
    private final Map<String, Seen> seen = new ConcurrentHashMap<>();
    private final AtomicBoolean busy = new AtomicBoolean();
    private long timer = -1;

    ClusterJobFeed(Vertx vertx, Jobs jobs, EventHub hub) {
        this.vertx = vertx;
        this.jobs = jobs;
        this.hub = hub;
    }

    void start() {
        timer = vertx.setPeriodic(PERIOD_MILLIS, t -> {
            if (hub.clients() == 0 || !busy.compareAndSet(false, true)) {
                return;
            }
            vertx.executeBlocking(() -> {
                poll();
                return null;
            }, false).onComplete(r -> {
                busy.set(false);
                if (r.failed()) {
                    LOG.log(Level.FINE, "cluster jobs feed: " + r.cause().getMessage(), r.cause());
                }
            });
        });
    }

    void stop() {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
    }

    /** One round: compares each cluster job with the last round and publishes what changed. Blocks. */
    void poll() {
        for (Map<String, Object> j : jobs.clusterJobs()) {
            String id = String.valueOf(j.get("id"));
            int step = j.get("step") instanceof Number n ? n.intValue() : 0;
            long generation = j.get("generation") instanceof Number n ? n.longValue() : 0;
            String state = String.valueOf(j.get("state"));
            Seen before = seen.put(id, new Seen(step, generation, state));
            if (before == null) {
                if (ACTIVE.contains(state)) {
                    publish(id, "start", Map.of("generation", generation));
                }
                continue;
            }
            if (generation != before.generation()) {
                publish(id, "start", Map.of("generation", generation));
            }
            if (step > before.step()) {
                try {
                    Object points = jobs.status(id, before.step()).get("points");
                    if (points instanceof List<?> l) {
                        for (Object o : l) {
                            if (o instanceof Map<?, ?> p && p.get("step") instanceof Number s
                                    && s.intValue() > before.step() && s.intValue() <= step) {
                                @SuppressWarnings("unchecked")
                                Map<String, Object> point = (Map<String, Object>) Http.plain(p);
                                publish(id, "step", point);
                            }
                        }
                    }
                } catch (ApiError e) {
                    // gone meanwhile: the next round sees it
                }
            }
            if (!state.equals(before.state())) {
                publish(id, ACTIVE.contains(state) ? "state" : "end", Map.of("state", state));
            }
        }
    }

    private void publish(String job, String event, Map<String, Object> data) {
        Map<String, Object> m = new LinkedHashMap<>(data);
        m.put("job", job);
        m.put("event", event);
        m.put("cluster", true);
        m.put("t_ms", System.currentTimeMillis());
        hub.publish("job", m);
    }
}

package dev.cornerstone.cluster.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.cornerstone.core.config.Json;

/**
 * The logged steps of cluster jobs, kept out of the job's entry (map {@code cornerstone.job.points},
 * {@code JOB#STEP}), on a real one-member cluster: {@link ClusterJobs#status} lists them for every
 * step up to the entry's, each from the generation that trained it last; a point that a replaced
 * generation wrote late (its report then failed the fence) is never listed; the job's entry does
 * not grow with the points.
 */
class ClusterJobPointsTest {

    static ClusterRuntime node;
    static ClusterJobs jobs;

    @BeforeAll
    static void startOneNode() throws Exception {
        Map<String, String> p = new HashMap<>();
        p.put("cornerstone.role", "node");
        p.put("cluster.enabled", "true");
        p.put("cluster.name", "points-" + UUID.randomUUID().toString().substring(0, 8));
        p.put("cluster.join.wait.seconds", "0");
        node = ClusterRuntime.start(ClusterSettings.from(p::get), ClusterRuntimeTest::facts);
        jobs = new ClusterJobs(node, () -> null, null, 1000);
    }

    @AfterAll
    static void stop() throws Exception {
        jobs.close();
        node.close();
    }

    /** An ended job (no rank runs it), at generation 1 from step 0. */
    static Map<String, Object> entry(String id) {
        Map<String, Object> st = new LinkedHashMap<>();
        st.put("id", id);
        st.put("spec", Map.of("train", Map.of("log_every", 1)));
        st.put("cluster", Map.of("nodes", 2, "strategy", "ddp"));
        st.put("state", "completed");
        st.put("world", List.of("a", "b"));
        st.put("generation", 1);
        st.put("step", 0);
        st.put("steps", 100);
        st.put("generations", List.of(Map.of("generation", 1, "world", List.of("a", "b"), "from_step", 0,
                "reason", "submitted", "at_ms", 0)));
        return st;
    }

    static Map<String, Object> point(int step, long generation) {
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("step", step);
        p.put("train_loss", 4.0 - step * 0.01);
        p.put("generation", generation);
        return p;
    }

    /** Rank 0's report of a step, as RankRunner makes it. */
    static boolean report(String id, long generation, int step) {
        return jobs.reportStep(id, generation, step, point(step, generation), Map.of("train_loss", 4.0 - step * 0.01,
                "tokens_per_sec", 1000.0 + step));
    }

    static Map<String, Object> put(Map<String, Object> m, String k, Object v) {
        m.put(k, v);
        return m;
    }

    static List<String> listed(String id) {
        List<String> out = new ArrayList<>();
        for (Object o : (List<?>) jobs.status(id).get("points")) {
            Map<?, ?> p = (Map<?, ?>) o;
            out.add(p.get("step") + "@" + p.get("generation"));
        }
        return out;
    }

    @Test
    void pointsAreListedPerStepFromTheGenerationThatTrainedItLast() {
        String id = "pts";
        node.hazelcast().<String, String>getMap(ClusterJobs.JOBS_MAP).put(id, Json.write(entry(id), false));
        for (int s = 1; s <= 5; s++) {
            assertThat(report(id, 1, s)).isTrue();
        }
        assertThat(listed(id)).containsExactly("1@1", "2@1", "3@1", "4@1", "5@1");

        // generation 2 resumes from the checkpoint of step 3 (as ClusterJobs.reform writes it)
        jobs.update(id, st -> {
            st.put("generation", 2);
            st.put("step", 3);
            List<Object> gens = new ArrayList<>((List<?>) st.get("generations"));
            gens.add(Map.of("generation", 2, "world", List.of("b"), "from_step", 3, "reason", "a left",
                    "at_ms", 1));
            st.put("generations", gens);
            return st;
        });
        assertThat(listed(id)).as("steps past the entry's are not listed").containsExactly("1@1", "2@1", "3@1");

        // the old rank 0 reports step 6 late: its point lands, its report is fenced
        assertThat(report(id, 1, 6)).as("a step report of a replaced generation fails").isFalse();
        assertThat(report(id, 2, 4)).isTrue();
        assertThat(listed(id)).containsExactly("1@1", "2@1", "3@1", "4@2");
        // the old generation's point of a step the new one has reached is left out too
        jobs.update(id, st -> put(st, "step", 6)); // as if generation 2 reported 5 and 6 without points yet
        assertThat(listed(id)).as("generation 1's late point of step 6 is never listed")
                .containsExactly("1@1", "2@1", "3@1", "4@2");
        assertThat(report(id, 2, 5)).isTrue();
        assertThat(report(id, 2, 6)).isTrue();
        assertThat(listed(id)).containsExactly("1@1", "2@1", "3@1", "4@2", "5@2", "6@2");
    }

    @Test
    void theJobsEntryDoesNotGrowWithItsPoints() {
        String id = "long";
        var map = node.hazelcast().<String, String>getMap(ClusterJobs.JOBS_MAP);
        map.put(id, Json.write(entry(id), false));
        report(id, 1, 1);
        int after1 = map.get(id).length();
        for (int s = 2; s <= 500; s++) {
            report(id, 1, s);
        }
        assertThat(map.get(id).length()).as("entry length after 500 steps").isLessThanOrEqualTo(after1 + 2);
        assertThat(jobs.status(id).get("points")).asList().hasSize(500);
    }
}

package dev.cornerstone.cluster.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import dev.cornerstone.cluster.NodeInfo;
import dev.cornerstone.cluster.collective.CollectiveException;
import dev.cornerstone.cluster.collective.CollectiveOptions;
import dev.cornerstone.cluster.collective.Communicator;
import dev.cornerstone.cluster.collective.ReduceOp;

/**
 * Three real cluster runtimes in one JVM, each a Hazelcast member with a clustered Vert.x,
 * on loopback under a cluster name of their own: they find each other, publish their
 * registry entries, and run collectives whose chunks cross the event bus's TCP connections
 * through the binary codec. The last test makes one leave and checks that a ring with a
 * rank on it fails at once, naming that rank.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterRuntimeTest {

    static final String CLUSTER = "test-" + UUID.randomUUID().toString().substring(0, 8);
    static final List<ClusterRuntime> nodes = new ArrayList<>();

    static ClusterSettings settings(String join) {
        Map<String, String> p = new HashMap<>();
        p.put("cornerstone.role", "node");
        p.put("cluster.enabled", "true");
        p.put("cluster.name", CLUSTER);
        p.put("cluster.join.wait.seconds", "1");
        if (join != null) {
            p.put("cluster.join", join);
        }
        return ClusterSettings.from(p::get);
    }

    static ClusterRuntime.LocalFacts facts() {
        return new ClusterRuntime.LocalFacts(List.of(new NodeInfo.Backend("cpu", "test CPU")),
                List.of(new NodeInfo.BundleRef("dev.cornerstone.cluster", "0.1.0", "ACTIVE")));
    }

    @BeforeAll
    static void startThree() throws Exception {
        ClusterRuntime first = ClusterRuntime.start(settings(null), ClusterRuntimeTest::facts);
        nodes.add(first);
        String seed = first.local().address();
        List<CompletableFuture<ClusterRuntime>> others = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            others.add(CompletableFuture.supplyAsync(() -> {
                try {
                    return ClusterRuntime.start(settings(seed), ClusterRuntimeTest::facts);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        for (CompletableFuture<ClusterRuntime> f : others) {
            nodes.add(f.get(2, TimeUnit.MINUTES));
        }
    }

    @AfterAll
    static void stopAll() throws Exception {
        for (ClusterRuntime n : nodes) {
            n.close();
        }
    }

    @Test
    @Order(1)
    void everyNodeListsTheSameThreeMembers() throws Exception {
        List<String> ids = nodes.stream().map(ClusterRuntime::nodeId).sorted().toList();
        for (ClusterRuntime n : nodes) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            List<NodeInfo> members = n.members();
            while (members.size() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(100);
                members = n.members();
            }
            assertThat(members.stream().map(NodeInfo::id).sorted().toList()).isEqualTo(ids);
            for (NodeInfo m : members) {
                assertThat(m.cluster()).isEqualTo(CLUSTER);
                assertThat(m.address()).startsWith("127.0.0.1:");
                assertThat(m.eventBus()).startsWith("127.0.0.1:");
                assertThat(m.cores()).isPositive();
                assertThat(m.backends()).containsExactly(new NodeInfo.Backend("cpu", "test CPU"));
                assertThat(m.bundles()).extracting(NodeInfo.BundleRef::symbolicName).contains("dev.cornerstone.cluster");
            }
        }
        assertThat(nodes.get(0).local().address()).isNotEqualTo(nodes.get(1).local().address());
    }

    static List<Communicator> ring(String job, List<ClusterRuntime> ranks, CollectiveOptions options)
            throws Exception {
        List<String> rankNodes = ranks.stream().map(ClusterRuntime::nodeId).toList();
        List<CompletableFuture<Communicator>> fs = new ArrayList<>();
        for (int r = 0; r < ranks.size(); r++) {
            fs.add(ranks.get(r).communicator(job, r, rankNodes, options));
        }
        List<Communicator> out = new ArrayList<>();
        for (CompletableFuture<Communicator> f : fs) {
            out.add(f.get(60, TimeUnit.SECONDS));
        }
        return out;
    }

    @ParameterizedTest
    @EnumSource(CollectiveOptions.Transport.class)
    @Order(2)
    void allReduceAcrossNodesOverTheWire(CollectiveOptions.Transport transport) throws Exception {
        CollectiveOptions options = CollectiveOptions.DEFAULTS.withChunkBytes(64 << 10).withTransport(transport);
        List<Communicator> ring = ring("wire-" + transport, nodes, options);
        try {
            Random rnd = new Random(5);
            for (int n : new int[] {1, 2, 1000, 65_537, 1_000_003}) {
                float[][] data = new float[3][n];
                float[] want = new float[n];
                for (int r = 0; r < 3; r++) {
                    for (int i = 0; i < n; i++) {
                        data[r][i] = rnd.nextInt(1000) - 500;
                        want[i] += data[r][i];
                    }
                }
                List<CompletableFuture<Void>> fs = new ArrayList<>();
                for (int r = 0; r < 3; r++) {
                    fs.add(ring.get(r).allReduce(data[r], ReduceOp.SUM));
                }
                for (CompletableFuture<Void> f : fs) {
                    f.get(60, TimeUnit.SECONDS);
                }
                for (int r = 0; r < 3; r++) {
                    // (AssertJ's containsExactly compares arrays in quadratic time: too slow for a million.)
                    int bad = java.util.Arrays.mismatch(data[r], want);
                    assertThat(bad).as("n %d rank %d: first wrong element %d is %s, expected %s", n, r, bad,
                            bad < 0 ? "" : data[r][bad], bad < 0 ? "" : want[bad]).isEqualTo(-1);
                }
            }
        } finally {
            ring.forEach(Communicator::close);
        }
    }

    @Test
    @Order(3)
    void aRingFailsAtOnceWhenANodeOfItLeaves() throws Exception {
        // Event-bus transport: no stream connection closes, so only the membership event can tell.
        CollectiveOptions options = CollectiveOptions.DEFAULTS.withTimeout(Duration.ofSeconds(60))
                .withTransport(CollectiveOptions.Transport.EVENT_BUS);
        List<Communicator> ring = ring("leave", nodes, options);
        // Ranks 0 and 1 start an all-reduce that rank 2 never joins; then rank 2's node leaves.
        CompletableFuture<Void> r0 = ring.get(0).allReduce(new float[100_000], ReduceOp.SUM);
        CompletableFuture<Void> r1 = ring.get(1).allReduce(new float[100_000], ReduceOp.SUM);
        ClusterRuntime leaving = nodes.remove(2);
        long t0 = System.nanoTime();
        leaving.close();
        for (CompletableFuture<Void> f : List.of(r0, r1)) {
            assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS)).cause().isInstanceOf(CollectiveException.class)
                    .hasMessageContaining("rank 2");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertThat(seconds).as("failed long before the 60 s timeout").isLessThan(20);
        ring.forEach(Communicator::close);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (nodes.get(0).members().size() != 2 && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(nodes.get(0).members()).extracting(NodeInfo::id)
                .containsExactlyInAnyOrder(nodes.get(0).nodeId(), nodes.get(1).nodeId());
    }
}

package dev.cornerstone.cluster.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;


/** The cluster section of a spec: defaults, and errors that name the key. */
class ClusterJobSpecTest {

    @Test
    void defaultsToEveryMemberAndDataParallel() {
        ClusterJobSpec s = ClusterJobSpec.from(null, 3, "c");
        assertThat(s.nodes()).isEqualTo(3);
        assertThat(s.strategy()).isEqualTo("ddp");
        assertThat(s.checkpointDir()).isNull();
        assertThat(ClusterJobSpec.from(Map.of("nodes", 2, "strategy", "zero1", "checkpoint_dir", "/shared"), 3, "c"))
                .isEqualTo(new ClusterJobSpec(2, "zero1", "/shared", null));
        assertThat(ClusterJobSpec.from(Map.of("bucket_bytes", 1048576), 3, "c").toMap())
                .containsEntry("bucket_bytes", 1048576L);
        assertThat(s.toMap()).doesNotContainKey("bucket_bytes");
    }

    @Test
    void errorsNameTheKey() {
        assertThatThrownBy(() -> ClusterJobSpec.from(Map.of("nodes", 4), 3, "prod"))
                .hasMessage("cluster.nodes: 4 is more than the 3 members of cluster 'prod'");
        assertThatThrownBy(() -> ClusterJobSpec.from(Map.of("nodes", 0), 3, "prod"))
                .hasMessageStartingWith("cluster.nodes: 0 is not allowed");
        assertThatThrownBy(() -> ClusterJobSpec.from(Map.of("nodes", 1.5), 3, "prod"))
                .hasMessageStartingWith("cluster.nodes: 1.5 is not allowed");
        assertThatThrownBy(() -> ClusterJobSpec.from(Map.of("strategy", "fsdp"), 3, "prod"))
                .hasMessage("cluster.strategy: 'fsdp' is not a strategy; allowed: ddp, zero1");
        assertThatThrownBy(() -> ClusterJobSpec.from(Map.of("node", 2), 3, "prod"))
                .hasMessageStartingWith("cluster.node is not a key of the cluster section");
        assertThatThrownBy(() -> ClusterJobSpec.from(Map.of("bucket_bytes", 2), 3, "prod"))
                .hasMessage("cluster.bucket_bytes: 2 is not allowed; expected a whole number of bytes >= 4");
        assertThatThrownBy(() -> ClusterJobSpec.from(Map.of("bucket_bytes", "4MB"), 3, "prod"))
                .hasMessageStartingWith("cluster.bucket_bytes: 4MB is not allowed");
        assertThatThrownBy(() -> ClusterJobSpec.from("3", 3, "prod")).hasMessageStartingWith("cluster: must be a section");
    }
}

package dev.cornerstone.cluster.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.cornerstone.cluster.collective.CollectiveOptions;

class ClusterSettingsTest {

    static ClusterSettings of(String... kv) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put(kv[i], kv[i + 1]);
        }
        return ClusterSettings.from(m::get);
    }

    @Test
    void loopbackByDefaultAndOnlyNodesCluster() {
        ClusterSettings s = of("cornerstone.role", "node");
        assertThat(s.enabled()).isFalse();
        assertThat(s.name()).isEqualTo("cornerstone");
        assertThat(s.members()).containsExactly("127.0.0.1");
        assertThat(s.interfaces()).containsExactly("127.0.0.1");
        assertThat(s.port()).isEqualTo(5701);
        assertThat(of("cornerstone.role", "node", "cluster.enabled", "true").enabled()).isTrue();
        assertThat(of("cornerstone.role", "node", "cluster.join", "10.0.0.5:5701").enabled()).isTrue();
        // A command that boots a container for one job never clusters, whatever conf/ says.
        assertThat(of("cluster.enabled", "true").enabled()).isFalse();
    }

    @Test
    void joinReplacesTheMemberList() {
        ClusterSettings s = of("cornerstone.role", "node", "cluster.members", "a,b", "cluster.join", "h1:5702, h2");
        assertThat(s.members()).containsExactly("h1:5702", "h2");
        assertThat(s.joinRequested()).isTrue();
    }

    @Test
    void badValuesAreNamed() {
        assertThatThrownBy(() -> of("cluster.join", "127.0.0.1:5701-5703"))
                .hasMessageContaining("'127.0.0.1:5701-5703' names a port range");
        assertThatThrownBy(() -> of("cluster.members", "host:x")).hasMessageContaining("no valid port");
        assertThatThrownBy(() -> of("cluster.port", "70000"))
                .hasMessage("conf/cornerstone.properties: cluster.port=70000 must be a whole number in 1..65535");
        assertThatThrownBy(() -> of("cluster.name", "my cluster")).hasMessageContaining("cluster.name=my cluster");
        assertThatThrownBy(() -> of("cluster.enabled", "yes")).hasMessageContaining("must be true or false");
        assertThatThrownBy(() -> of("cluster.collective.chunk.bytes", "1001"))
                .hasMessageContaining("multiple of 4");
    }

    @Test
    void theSharedMemoryTransportDefaultsToLargerChunks() {
        assertThat(of().collective().transport()).isEqualTo(CollectiveOptions.Transport.SOCKET);
        assertThat(of().collective().chunkBytes()).isEqualTo(1 << 20);
        ClusterSettings shm = of("cluster.collective.transport", "shm");
        assertThat(shm.collective().transport()).isEqualTo(CollectiveOptions.Transport.SHARED_MEMORY);
        assertThat(shm.collective().chunkBytes()).isEqualTo(4 << 20);
        assertThat(of("cluster.collective.transport", "shm", "cluster.collective.chunk.bytes", "65536").collective()
                .chunkBytes()).isEqualTo(65536);
        assertThatThrownBy(() -> of("cluster.collective.transport", "pipe"))
                .hasMessageContaining("cluster.collective.transport=pipe must be socket, shm, stream or eventbus");
    }
}

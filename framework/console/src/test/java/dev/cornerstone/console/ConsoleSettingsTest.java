package dev.cornerstone.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ConsoleSettingsTest {

    static final Map<String, String> FRAMEWORK = new HashMap<>(Map.of("cornerstone.home", "/opt/cs",
            "cornerstone.data", "/var/cs"));

    static ConsoleSettings of(Map<String, ?> config, Map<String, String> framework) {
        return ConsoleSettings.from(config, framework::get);
    }

    @Test
    void defaultsBindLoopbackOn8080AndReadTheNodesToken() {
        ConsoleSettings s = of(Map.of(), FRAMEWORK);
        assertThat(s.enabled()).isTrue();
        assertThat(s.host()).isEqualTo("127.0.0.1");
        assertThat(s.port()).isEqualTo(8080);
        assertThat(s.portAttempts()).isEqualTo(20);
        assertThat(s.uploadMaxBytes()).isEqualTo(64L * 1024 * 1024);
        assertThat(s.cookieSecure()).isFalse();
        assertThat(s.tokenFile()).isEqualTo(Path.of("/opt/cs/conf/api-token"));
        assertThat(s.usersFile()).isEqualTo(Path.of("/opt/cs/conf/console-users"));
        assertThat(s.dataDir()).isEqualTo(Path.of("/var/cs"));
    }

    @Test
    void configAdminWinsOverFrameworkPropertiesWhichWinOverDefaults() {
        Map<String, String> fw = new HashMap<>(FRAMEWORK);
        fw.put("console.port", "9000");
        fw.put("console.host", "0.0.0.0");
        // .cfg files give strings, .cfg.json typed values; Config Admin adds its own keys
        ConsoleSettings s = of(Map.of("port", 9100L, "upload.max.bytes", "1024", "cookie.secure", true,
                "service.pid", ConsoleSettings.PID, "felix.fileinstall.filename", "file:/x.cfg",
                "component.name", "x", "osgi.ds.satisfying.condition.target", "(osgi.condition.id=true)"), fw);
        assertThat(s.port()).isEqualTo(9100);
        assertThat(s.host()).isEqualTo("0.0.0.0");
        assertThat(s.uploadMaxBytes()).isEqualTo(1024);
        assertThat(s.cookieSecure()).isTrue();
    }

    @Test
    void badValuesNameTheKeyAndWhereItCameFrom() {
        assertThatThrownBy(() -> of(Map.of("port", "http"), FRAMEWORK))
                .hasMessageContaining("PID dev.cornerstone.console").hasMessageContaining("port=http")
                .hasMessageContaining("0..65535");
        Map<String, String> fw = new HashMap<>(FRAMEWORK);
        fw.put("console.port", "70000");
        assertThatThrownBy(() -> of(Map.of(), fw)).hasMessageContaining("conf/cornerstone.properties: console.port=70000");
        assertThatThrownBy(() -> of(Map.of("enabled", "yes"), FRAMEWORK)).hasMessageContaining("enabled=yes")
                .hasMessageContaining("true or false");
        assertThatThrownBy(() -> of(Map.of("upload.max.bytes", 0), FRAMEWORK))
                .hasMessageContaining("upload.max.bytes=0");
    }

    @Test
    void unknownKeysAreRefusedWithTheKnownOnes() {
        assertThatThrownBy(() -> of(Map.of("prot", "9000"), FRAMEWORK)).hasMessageContaining("prot is not a known key")
                .hasMessageContaining("port.attempts");
    }

    @Test
    void withoutAHomeThereIsNoConsole() {
        assertThatThrownBy(() -> of(Map.of(), Map.of())).hasMessageContaining("cornerstone.home");
    }
}

package dev.cornerstone.backend.opencl;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Dictionary;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;

/**
 * The DS component: how its configuration picks a device, the service properties it registers the
 * backend with, the single warning (and no backend) when nothing matches, and the descriptor bnd
 * generated. That the service reaches the job service in a running container is checked through
 * the distribution ({@code OpenClBackendIT} in itests).
 */
class OpenClBackendComponentTest {

    private static OpenClBackendComponent.Config config(String platform, String device, String type, long limitMiB) {
        return new OpenClBackendComponent.Config() {
            @Override
            public String platform() {
                return platform;
            }

            @Override
            public String device() {
                return device;
            }

            @Override
            public String deviceType() {
                return type;
            }

            @Override
            public long memoryLimitMiB() {
                return limitMiB;
            }

            @Override
            public String buildOptions() {
                return "";
            }

            @Override
            public Class<? extends Annotation> annotationType() {
                return OpenClBackendComponent.Config.class;
            }
        };
    }

    @Test
    void theConfigurationSelectsTheDeviceAndTheServiceCarriesItsName() {
        DeviceInfo first;
        try (OpenClBackend any = OpenClTesting.backend()) {
            first = any.deviceInfo();
        }
        // the device's own name, in another case, and its type select it
        try (OpenClBackend be = OpenClBackendComponent.open(config(first.platform().toUpperCase(),
                first.name().toLowerCase(), first.type().toLowerCase(), 100))) {
            assertThat(be).isNotNull();
            assertThat(be.name()).isEqualTo("opencl");
            assertThat(be.deviceInfo().name()).isEqualTo(first.name());
            assertThat(be.device()).isEqualTo(first.describe());
            assertThat(be.memoryLimit()).isEqualTo(100L << 20);
            assertThat(be.accelerated()).isEqualTo(first.accelerator());
            assertThat(be.devices()).anySatisfy(d -> assertThat(d).contains(first.name()).endsWith("-- in use"));
            Dictionary<String, Object> p = OpenClBackendComponent.properties(be);
            assertThat(p.get("backend.name")).isEqualTo("opencl");
            assertThat(p.get("backend.device")).isEqualTo(first.describe());
            assertThat(p.get("backend.accelerated")).isEqualTo(first.accelerator());
        }
    }

    @Test
    void aConfigurationThatMatchesNothingOffersNoBackendAndWarnsOnceWithTheDevicesFound() {
        Logger log = Logger.getLogger("dev.cornerstone.backend.opencl");
        List<LogRecord> records = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                records.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        log.addHandler(h);
        try {
            assertThat(OpenClBackendComponent.open(config("no such platform", "", "all", 0))).isNull();
        } finally {
            log.removeHandler(h);
        }
        assertThat(records).hasSize(1);
        assertThat(records.getFirst().getLevel()).isEqualTo(java.util.logging.Level.WARNING);
        assertThat(records.getFirst().getMessage()).startsWith("the opencl backend is not offered: ")
                .contains("platform ~ \"no such platform\"").contains("found ");
    }

    /** The launcher tells a backend activated with its defaults from one that runs with deploy/'s file by these. */
    @Test
    void theRegistrationNamesItsPidAndTheFileItWasConfiguredFrom() {
        Dictionary<String, Object> defaults = OpenClBackendComponent.unavailable("none");
        OpenClBackendComponent.configuredBy(defaults, java.util.Map.of("component.name", "x"));
        assertThat(defaults.get("cornerstone.config.pid")).isEqualTo("dev.cornerstone.backend.opencl");
        assertThat(defaults.get("felix.fileinstall.filename")).isNull();

        Dictionary<String, Object> fromFile = OpenClBackendComponent.unavailable("none");
        OpenClBackendComponent.configuredBy(fromFile, java.util.Map.of("felix.fileinstall.filename",
                "file:/d/deploy/dev.cornerstone.backend.opencl.cfg", "memoryLimitMiB", "1"));
        assertThat(fromFile.get("cornerstone.config.pid")).isEqualTo("dev.cornerstone.backend.opencl");
        assertThat(fromFile.get("felix.fileinstall.filename")).isEqualTo("file:/d/deploy/dev.cornerstone.backend.opencl.cfg");
    }

    @Test
    void descriptorActivatesTheComponentImmediatelyWithItsPid() throws IOException {
        String xml;
        try (InputStream in = getClass().getClassLoader()
                .getResourceAsStream("OSGI-INF/dev.cornerstone.backend.opencl.OpenClBackendComponent.xml")) {
            assertThat(in).as("DS descriptor generated by bnd").isNotNull();
            xml = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(xml)
                .contains("configuration-pid=\"dev.cornerstone.backend.opencl\"")
                .contains("immediate=\"true\"")
                .contains("deactivate=\"deactivate\"")
                .doesNotContain("<provide");
    }
}

package dev.cornerstone.itests.bundles.hello;

import java.util.Map;
import java.util.logging.Logger;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;

/**
 * Test component deployed into a running node. It logs its activation and deactivation
 * with its bundle's version, so a test sees the old one go and the new one come; its
 * configuration (PID {@code dev.cornerstone.itests.hello}) shows up in its service
 * properties, so a test sees a .cfg or .cfg.json file from deploy/ take effect. Immediate,
 * so it activates when registered rather than at first use.
 */
@Component(service = Greeter.class, immediate = true, configurationPid = "dev.cornerstone.itests.hello",
        configurationPolicy = ConfigurationPolicy.OPTIONAL, property = "greeting=hello")
public class HelloComponent implements Greeter {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.itests.hello");

    private String greeting;
    private String version;

    @Activate
    void activate(BundleContext ctx, Map<String, Object> config) {
        version = ctx.getBundle().getVersion().toString();
        greeting = String.valueOf(config.get("greeting"));
        LOG.info("HelloComponent activated version " + version + " greeting " + greeting);
    }

    @Deactivate
    void deactivate() {
        LOG.info("HelloComponent deactivated version " + version);
    }

    @Override
    public String greet(String name) {
        return greeting + ", " + name;
    }
}

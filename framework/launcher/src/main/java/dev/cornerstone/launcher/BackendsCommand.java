package dev.cornerstone.launcher;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;

/** {@code cornerstone backends}: the compute backends of this distribution, with their devices. */
@Command(name = "backends", mixinStandardHelpOptions = true,
        description = "List the compute backends this distribution provides, with their devices.")
final class BackendsCommand implements Callable<Integer> {

    @Override
    public Integer call() throws Exception {
        try (JobClient jobs = JobClient.start(Home.fromSystemProperty())) {
            jobs.awaitProviders(null, null, null, "auto");
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("command", "backends");
            Map<?, ?> r = (Map<?, ?>) jobs.call(request).get("backends");
            r.forEach((name, device) -> System.out.printf("%-8s %s%n", name, device));
            return 0;
        }
    }
}

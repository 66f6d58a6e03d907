package dev.cornerstone.launcher;

import java.util.LinkedHashMap;
import java.util.List;
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
            Map<String, Object> answer = jobs.call(request);
            Map<?, ?> r = (Map<?, ?>) answer.get("backends");
            Map<?, ?> all = answer.get("devices") instanceof Map<?, ?> d ? d : Map.of();
            r.forEach((name, device) -> {
                System.out.printf("%-8s %s%n", name, device);
                // a backend that found more than the one device it names (OpenCL: every platform's)
                if (all.get(name) instanceof List<?> found && !found.equals(List.of(device))) {
                    System.out.printf("%-8s devices found:%n", "");
                    found.forEach(f -> System.out.printf("%-8s   %s%n", "", f));
                }
            });
            jobs.unavailableBackends().forEach((name, reason) -> System.out.printf("%-8s not offered: %s%n", name,
                    reason.replace("\n", "\n" + " ".repeat(9))));
            return 0;
        }
    }
}

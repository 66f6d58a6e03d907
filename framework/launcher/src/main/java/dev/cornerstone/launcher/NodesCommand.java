package dev.cornerstone.launcher;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cornerstone nodes}: the members of the cluster a running node is in, as that node
 * sees them (its {@code GET /api/cluster}).
 */
@Command(name = "nodes", mixinStandardHelpOptions = true,
        description = {"List the members of the cluster of a running node: id, cluster and event-bus addresses, API, "
                + "cores, memory, backends, bundles.",
            "Asks the node running from this distribution (or --data DIR), or the one named by --node."})
final class NodesCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @CommandLine.Mixin
    BundlesCommand.Target target = new BundlesCommand.Target();

    @Option(names = "--json", description = "Print the node's answer as JSON (state, this node, members).")
    boolean json;

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        NodeClient client = target.client();
        if (client == null) {
            throw new CliException("no node is running from " + target.home().dataDir() + ": start one with "
                    + "'cornerstone node --cluster' (or --join HOST[:PORT]), or name one with --node HOST:PORT");
        }
        JsonNode c = client.get("/cluster");
        if (json) {
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(c));
            return "failed".equals(c.path("state").asText()) ? 1 : 0;
        }
        String state = c.path("state").asText();
        switch (state) {
            case "disabled" -> {
                out.println("Node " + client.base() + " is not in a cluster: start it with 'cornerstone node --cluster'"
                        + " or '--join HOST[:PORT]'");
                return 1;
            }
            case "failed" -> {
                out.println("Node " + client.base() + " failed to join cluster '" + c.path("name").asText() + "': "
                        + c.path("error").asText());
                return 1;
            }
            case "starting" -> {
                out.println("Node " + client.base() + " is still joining cluster '" + c.path("name").asText() + "'");
                return 0;
            }
            default -> {
                // joined (or stopped): list what the node sees
            }
        }
        JsonNode members = c.path("members");
        String self = c.path("nodeId").asText();
        out.println("Cluster '" + c.path("name").asText() + "': " + members.size() + " member"
                + (members.size() == 1 ? "" : "s") + " (as seen by " + client.base() + "; * marks it)");
        out.printf("%-38s %-17s %-17s %-28s %5s %9s  %s%n", "ID", "ADDRESS", "EVENT BUS", "API", "CORES", "MEMORY",
                "BACKENDS");
        for (JsonNode m : members) {
            StringBuilder backends = new StringBuilder();
            for (JsonNode b : m.path("backends")) {
                backends.append(backends.isEmpty() ? "" : ", ").append(b.path("name").asText());
            }
            String id = m.path("id").asText() + (self.equals(m.path("id").asText()) ? "*" : "");
            out.printf("%-38s %-17s %-17s %-28s %5d %9s  %s%n", id, m.path("address").asText(),
                    m.path("eventBus").asText(), m.path("api").isNull() ? "-" : m.path("api").asText(),
                    m.path("cores").asInt(), gib(m.path("memoryBytes").asLong()),
                    backends.isEmpty() ? "none" : backends);
        }
        out.flush();
        return 0;
    }

    private static String gib(long bytes) {
        return bytes < 0 ? "?" : String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}

package dev.cornerstone.launcher;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cornerstone bundles list|deploy|undeploy}: against the node running from this
 * distribution (found through its {@code data/node.json}) or one named by {@code --node};
 * with no node running, against the distribution's folders.
 */
@Command(name = "bundles", mixinStandardHelpOptions = true,
        description = "List, deploy and undeploy bundles, on a running node or in this distribution.",
        subcommands = {BundlesCommand.ListBundles.class, BundlesCommand.Deploy.class, BundlesCommand.Undeploy.class})
final class BundlesCommand implements Runnable {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: list, deploy or undeploy");
    }

    /** Options shared by the subcommands. */
    static final class Target {
        @Option(names = "--node", paramLabel = "HOST:PORT",
                description = "A running node's API (default: the node running from this distribution, if any).")
        String node;

        @Option(names = "--token", paramLabel = "TOKEN",
                description = "API token of that node (default: \\$CORNERSTONE_TOKEN, else this distribution's "
                        + "conf/api-token).")
        String token;

        @Option(names = "--data", paramLabel = "DIR",
                description = "Data folder of the local node to look for (default: the distribution's data/).")
        Path data;

        Home home() {
            Home h = Home.fromSystemProperty();
            return data == null ? h : h.withDataDir(data);
        }

        NodeClient client() throws IOException {
            return NodeClient.locate(home(), node, token);
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List bundles with state, version and any problem (unresolved requirement, failed "
                    + "activator, file that is not a bundle).")
    static final class ListBundles implements Callable<Integer> {
        @CommandLine.Mixin
        Target target = new Target();

        @Option(names = "--json", description = "Print JSON instead of a table.")
        boolean json;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            NodeClient client = target.client();
            JsonNode bundles;
            String where;
            if (client != null) {
                bundles = client.get("/bundles").path("bundles");
                where = "node " + client.base();
            } else {
                bundles = JSON.valueToTree(localViews(target.home()));
                where = "distribution " + target.home().root() + " (no node running: files only)";
            }
            if (json) {
                out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(bundles));
                return 0;
            }
            out.println("Bundles of " + where);
            printTable(out, bundles);
            return 0;
        }
    }

    /** The bundle table of {@code bundles list} and of a starting node. */
    static void printTable(PrintWriter out, JsonNode bundles) {
        out.printf("%4s  %-11s %-7s %-45s %s%n", "ID", "STATE", "SOURCE", "SYMBOLIC NAME", "VERSION");
        int problems = 0;
        for (JsonNode b : bundles) {
            long id = b.path("id").asLong();
            String name = b.path("symbolicName").isNull() ? b.path("file").asText() : b.path("symbolicName").asText();
            out.printf("%4s  %-11s %-7s %-45s %s%n", id < 0 ? "-" : String.valueOf(id), b.path("state").asText(),
                    b.path("source").asText(), name, b.path("version").isNull() ? "" : b.path("version").asText());
            if (!b.path("problem").isNull() && !b.path("problem").isMissingNode()) {
                problems++;
                out.println("      problem: " + b.path("problem").asText());
            }
        }
        out.println(bundles.size() + " bundles, " + problems + " with problems");
        out.flush();
    }

    /** What a distribution holds when no node runs: the manifests of system/ and deploy/. */
    static List<BundleView> localViews(Home home) throws IOException {
        List<BundleView> views = new ArrayList<>();
        for (Path jar : new DeployFolder(home.systemDir()).jars()) {
            views.add(BundleView.stopped(BundleFile.inspect(jar), "system"));
        }
        for (Path jar : new DeployFolder(home.deployDir()).jars()) {
            views.add(BundleView.stopped(BundleFile.inspect(jar), "deploy"));
        }
        return views;
    }

    @Command(name = "deploy", mixinStandardHelpOptions = true,
            description = {"Deploy a bundle jar: it is checked, then put into deploy/ (replacing the jar of the same "
                    + "bundle, which updates it in place).",
                "On a running node it is uploaded through the API and the command waits for the bundle's state."})
    static final class Deploy implements Callable<Integer> {
        @CommandLine.Mixin
        Target target = new Target();

        @Parameters(paramLabel = "FILE", description = "The bundle jar.")
        Path file;

        @Option(names = "--name", paramLabel = "FILE_NAME",
                description = "File name in deploy/ (default: the name of the jar already deployed for the same "
                        + "bundle, else FILE's name).")
        String name;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            if (!Files.isRegularFile(file)) {
                throw new CliException(file + ": no such file");
            }
            BundleFile bf = BundleFile.inspect(file);
            if (!bf.ok()) {
                throw new CliException(bf.error());
            }
            String fileName = name != null ? name : file.getFileName().toString();
            NodeClient client = target.client();
            if (client == null) {
                Path placed = new DeployFolder(target.home().deployDir()).deploy(file, fileName);
                out.println("Deployed " + bf.symbolicName() + " " + bf.version() + " to " + placed
                        + " (no node running: it starts with the next node)");
                return 0;
            }
            JsonNode r = client.upload(file, fileName);
            JsonNode b = r.path("bundle");
            out.println(capitalize(r.path("action").asText()) + " " + bf.symbolicName() + " " + bf.version() + " on "
                    + client.base() + " as deploy/" + r.path("file").asText() + ": " + b.path("state").asText("PENDING"));
            if (b.hasNonNull("problem")) {
                out.println("problem: " + b.path("problem").asText());
                return 1;
            }
            return 0;
        }
    }

    @Command(name = "undeploy", mixinStandardHelpOptions = true,
            description = "Remove a bundle from deploy/ (by file name or symbolic name); a running node uninstalls it.")
    static final class Undeploy implements Callable<Integer> {
        @CommandLine.Mixin
        Target target = new Target();

        @Parameters(paramLabel = "NAME", description = "File name in deploy/ (with or without .jar) or symbolic name.")
        String name;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            PrintWriter out = spec.commandLine().getOut();
            NodeClient client = target.client();
            if (client == null) {
                DeployFolder folder = new DeployFolder(target.home().deployDir());
                Path jar = folder.find(name).orElseThrow(() -> new CliException("nothing named '" + name
                        + "' in " + folder.dir()));
                folder.undeploy(jar);
                out.println("Removed " + jar);
                return 0;
            }
            JsonNode r = client.delete("/bundles/" + java.net.URLEncoder.encode(name,
                    java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20"));
            out.println("Undeployed " + r.path("symbolicName").asText(name) + " (deploy/" + r.path("file").asText()
                    + ") from " + client.base() + (r.path("uninstalled").asBoolean() ? "" : "; still uninstalling"));
            return 0;
        }
    }

    private static String capitalize(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }
}

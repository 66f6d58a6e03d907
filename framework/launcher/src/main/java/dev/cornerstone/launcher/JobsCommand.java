package dev.cornerstone.launcher;

import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code cornerstone jobs submit|list|status|stop|backend}: jobs that run in the background of
 * a running node (the one of this distribution, or {@code --node}).
 */
@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = "Submit, list, watch, stop and move jobs on a running node.",
        subcommands = {JobsCommand.Submit.class, JobsCommand.ListJobs.class, JobsCommand.Status.class,
                JobsCommand.Stop.class, JobsCommand.Backend.class})
final class JobsCommand implements Runnable {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(),
                "a subcommand is required: submit, list, status, stop or backend");
    }

    static NodeClient node(BundlesCommand.Target target) throws Exception {
        NodeClient c = target.client();
        if (c == null) {
            throw new CliException("no node is running from this distribution: start one with 'cornerstone node' "
                    + "or name one with --node HOST:PORT");
        }
        return c;
    }

    static String path(String id) {
        return "/jobs/" + URLEncoder.encode(id, StandardCharsets.UTF_8);
    }

    @Command(name = "submit", mixinStandardHelpOptions = true,
            description = "Start a training job on the node from a spec (YAML or JSON; default: the default "
                    + "training) and print its id; with --wait, follow it to the end.")
    static final class Submit implements Callable<Integer> {
        @CommandLine.Mixin
        BundlesCommand.Target target = new BundlesCommand.Target();

        @Parameters(index = "0", arity = "0..1", paramLabel = "SPEC")
        Path specFile;

        @Option(names = "--set", paramLabel = "SECTION.KEY=VALUE", description = "Override a spec key.")
        List<String> sets = new ArrayList<>();

        @Option(names = "--id", paramLabel = "ID", description = "The job's id and run folder name (default: "
                + "time and model).")
        String id;

        @Option(names = "--wait", description = "Print progress until the job ends; exit 0 when it completed.")
        boolean await;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            Home home = target.home();
            Map<String, Object> s = specFile == null ? SpecLoader.defaults(home) : SpecLoader.read(specFile);
            SpecLoader.applySets(s, sets);
            SpecLoader.resolvePaths(s, Path.of("").toAbsolutePath());
            NodeClient node = node(target);
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("spec", s);
            if (id != null) {
                body.put("id", id);
            }
            JsonNode r = node.post("/jobs", body);
            PrintWriter out = spec.commandLine().getOut();
            String jobId = r.path("id").asText();
            out.println(jobId);
            out.flush();
            return await ? follow(node, jobId, out) : 0;
        }
    }

    /**
     * Prints each new logged point until the job ends; 0 when it completed, 1 otherwise. Every
     * poll asks only for the points after the last one printed ({@code ?since=STEP}), so following
     * a long job costs the node and this process the same at step 10,000 as at step 10.
     */
    static int follow(NodeClient node, String id, PrintWriter out) throws Exception {
        int lastStep = 0; // the last step printed
        int moves = 0;
        int generations = 0;
        while (true) {
            JsonNode st = node.get(path(id) + "?since=" + lastStep);
            JsonNode gens = st.path("generations");
            for (int i = Math.max(generations, 1); i < gens.size(); i++) {
                JsonNode g = gens.get(i);
                out.printf(Locale.ROOT, "generation %d on %d node(s), resuming from step %d: %s%n",
                        g.path("generation").asInt(), g.path("world").size(), g.path("from_step").asInt(),
                        g.path("reason").asText());
                // the steps after the checkpoint are trained again: print them again, from the next poll
                lastStep = Math.min(lastStep, g.path("from_step").asInt());
            }
            boolean regenerated = gens.size() > Math.max(generations, 1);
            generations = Math.max(generations, gens.size());
            if (!regenerated) { // else this answer lacks the steps resumed after lastStep: ask again at once
                for (JsonNode p : st.path("points")) {
                    int step = p.path("step").asInt();
                    if (step <= lastStep) {
                        continue;
                    }
                    out.printf(Locale.ROOT, "step %d/%d  loss %.4f%s  %s  %.0f tok/s%n", step,
                            st.path("steps").asInt(), p.path("train_loss").asDouble(),
                            p.has("val_loss") ? String.format(Locale.ROOT, "  val %.4f", p.path("val_loss").asDouble())
                                    : "",
                            p.path("backend").asText(), p.path("tokens_per_sec").asDouble());
                    lastStep = step;
                }
            }
            JsonNode mv = st.path("moves");
            for (int i = moves; i < mv.size(); i++) {
                JsonNode m = mv.get(i);
                out.printf(Locale.ROOT, "moved from %s to %s after step %d (paused %.0f ms)%n", m.path("from").asText(),
                        m.path("to").asText(), m.path("after_step").asInt(), m.path("pause_s").asDouble() * 1000);
            }
            moves = mv.size();
            out.flush();
            String state = st.path("state").asText();
            if (!regenerated && !state.equals("running") && !state.equals("stopping") && !state.equals("recovering")) {
                out.println("Job " + id + " " + state + (st.has("error") ? ": " + st.path("error").asText() : "")
                        + (st.has("stop_reason") ? ": " + st.path("stop_reason").asText() : ""));
                out.flush();
                return state.equals("completed") ? 0 : 1;
            }
            if (!regenerated) {
                Thread.sleep(500);
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the node's jobs.")
    static final class ListJobs implements Callable<Integer> {
        @CommandLine.Mixin
        BundlesCommand.Target target = new BundlesCommand.Target();

        @Option(names = "--json", description = "Print JSON instead of a table.")
        boolean json;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode r = node(target).get("/jobs");
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(r));
                return 0;
            }
            out.printf("%-32s %-10s %-11s %-8s %-10s %-10s %s%n", "ID", "STATE", "STEP", "BACKEND", "TRAIN", "VAL",
                    "WHERE");
            for (JsonNode j : r.path("jobs")) {
                out.printf(Locale.ROOT, "%-32s %-10s %-11s %-8s %-10s %-10s %s%n", j.path("id").asText(),
                        j.path("state").asText(), j.path("step").asInt() + "/" + j.path("steps").asInt(),
                        j.path("backend").asText(), loss(j, "train_loss"), loss(j, "val_loss"),
                        j.path("cluster").asBoolean() ? "cluster: " + j.path("world").size() + " nodes, generation "
                                + j.path("generation").asInt() : "this node");
            }
            return 0;
        }
    }

    private static String loss(JsonNode j, String key) {
        return j.has(key) ? String.format(Locale.ROOT, "%.4f", j.path(key).asDouble()) : "-";
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "One job: state, step, backend, losses, run folder, backend moves.")
    static final class Status implements Callable<Integer> {
        @CommandLine.Mixin
        BundlesCommand.Target target = new BundlesCommand.Target();

        @Parameters(index = "0", paramLabel = "JOB")
        String id;

        @Option(names = "--json", description = "Print JSON (with every logged point).")
        boolean json;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode j = node(target).get(path(id));
            PrintWriter out = spec.commandLine().getOut();
            if (json) {
                out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(j));
                return 0;
            }
            out.println("job      " + j.path("id").asText());
            out.println("state    " + j.path("state").asText() + (j.has("error") ? ": " + j.path("error").asText() : "")
                    + (j.has("stop_reason") ? " (" + j.path("stop_reason").asText() + ")" : ""));
            out.println("step     " + j.path("step").asInt() + "/" + j.path("steps").asInt());
            out.println("backend  " + j.path("backend").asText() + " (" + j.path("device").asText() + ")");
            out.println("loss     train " + loss(j, "train_loss") + ", val " + loss(j, "val_loss"));
            out.printf(Locale.ROOT, "speed    %.0f tokens/s%n", j.path("tokens_per_sec").asDouble());
            out.println("run      " + j.path("run").asText());
            if (j.path("cluster").asBoolean()) {
                List<String> world = new ArrayList<>();
                j.path("world").forEach(n -> world.add(n.asText()));
                out.println("cluster  " + j.path("strategy").asText() + ", generation " + j.path("generation").asInt()
                        + ", world (rank 0 first) " + String.join(", ", world));
                if (j.has("note")) {
                    out.println("note     " + j.path("note").asText());
                }
            }
            if (j.has("checkpoint")) {
                out.println("saved    " + j.path("checkpoint").asText());
            }
            for (JsonNode m : j.path("moves")) {
                out.printf(Locale.ROOT, "moved    %s -> %s after step %d, paused %.0f ms%n", m.path("from").asText(),
                        m.path("to").asText(), m.path("after_step").asInt(), m.path("pause_s").asDouble() * 1000);
            }
            return 0;
        }
    }

    @Command(name = "stop", mixinStandardHelpOptions = true,
            description = "Stop a job after its step in progress; it saves a checkpoint, so 'cornerstone train "
                    + "--resume' can continue it.")
    static final class Stop implements Callable<Integer> {
        @CommandLine.Mixin
        BundlesCommand.Target target = new BundlesCommand.Target();

        @Parameters(index = "0", paramLabel = "JOB")
        String id;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode j = node(target).post(path(id) + "/stop?wait=120", Map.of());
            spec.commandLine().getOut().println("Job " + id + " " + j.path("state").asText() + " at step "
                    + j.path("step").asInt() + (j.has("checkpoint") ? ", checkpoint " + j.path("checkpoint").asText()
                    : ""));
            return 0;
        }
    }

    @Command(name = "backend", mixinStandardHelpOptions = true,
            description = "Move a running job to another backend between two steps: no step lost or repeated.")
    static final class Backend implements Callable<Integer> {
        @CommandLine.Mixin
        BundlesCommand.Target target = new BundlesCommand.Target();

        @Parameters(index = "0", paramLabel = "JOB")
        String id;

        @Parameters(index = "1", paramLabel = "NAME", description = "A backend's name, as 'cornerstone backends' "
                + "lists them (cpu, opencl, ...).")
        String backend;

        @Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            JsonNode m = node(target).post(path(id) + "/backend", Map.of("backend", backend));
            spec.commandLine().getOut().printf(Locale.ROOT, "Job %s moved from %s to %s after step %d; training paused "
                    + "%.0f ms%n", id, m.path("from").asText(), m.path("to").asText(), m.path("after_step").asInt(),
                    m.path("pause_s").asDouble() * 1000);
            return 0;
        }
    }
}

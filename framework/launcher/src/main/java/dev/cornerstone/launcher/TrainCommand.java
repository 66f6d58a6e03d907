package dev.cornerstone.launcher;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cornerstone train [SPEC] [--set k=v ...] [--out DIR] | --resume RUN}, or, with
 * {@code --cluster HOST:PORT}, a cluster job submitted to a running node of a cluster.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = {"Train a model from a spec (YAML or JSON). With no SPEC: the default GPT (4 layers, 128 "
                + "channels) on the distribution's Moby Dick, character level, on the best backend available.",
            "Writes runs/<run-id>/ (spec.json, tokenizer.json, metrics.jsonl, summary.json, checkpoints/)."})
final class TrainCommand implements Callable<Integer> {

    @Parameters(index = "0", arity = "0..1", paramLabel = "SPEC", description = "Spec file (YAML or JSON).")
    Path specFile;

    @Option(names = "--set", paramLabel = "SECTION.KEY=VALUE",
            description = "Override a spec key, for example --set train.steps=200 --set optimizer.lr=3e-4.")
    List<String> sets = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: runs/<run-id> in the distribution).")
    Path out;

    @Option(names = "--resume", paramLabel = "RUN", description = "Continue the run in this folder (or 'latest') from "
            + "its newest checkpoint.")
    Path resume;

    @Option(names = "--cluster", paramLabel = "HOST:PORT", description = "Submit the spec as a cluster job through "
            + "the API of a running node of the cluster (its address, as in node.json or 'cornerstone nodes') and "
            + "print the job's id. The spec's cluster section says how: cluster: {nodes: N, strategy: ddp|zero1} "
            + "(default: every member, ddp); --set cluster.nodes=3 works too.")
    String cluster;

    @Option(names = "--token", paramLabel = "TOKEN", description = "API token of the --cluster node (default: "
            + "\\$CORNERSTONE_TOKEN, else this distribution's conf/api-token).")
    String token;

    @Option(names = "--id", paramLabel = "ID", description = "With --cluster: the job's id and run folder name.")
    String id;

    @Option(names = "--wait", description = "With --cluster: print progress until the job ends; exit 0 when it "
            + "completed, 1 when it failed or stopped.")
    boolean await;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    /** Submits to a cluster through one of its nodes' API. */
    private int submitToCluster(Home home) throws Exception {
        if (resume != null || out != null) {
            throw new CommandLine.ParameterException(cmd.commandLine(), "--cluster takes a spec: no --resume or "
                    + "--out with it (the run folder goes to the cluster's checkpoint folder)");
        }
        Map<String, Object> spec = specFile == null ? SpecLoader.defaults(home) : SpecLoader.read(specFile);
        SpecLoader.applySets(spec, sets);
        SpecLoader.resolvePaths(spec, Path.of("").toAbsolutePath());
        SpecLoader.section(spec, "cluster");
        NodeClient node = NodeClient.locate(home, cluster, token);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("spec", spec);
        if (id != null) {
            body.put("id", id);
        }
        var r = node.post("/jobs", body);
        PrintWriter o = cmd.commandLine().getOut();
        String jobId = r.path("id").asText();
        o.println(jobId);
        o.flush();
        return await ? JobsCommand.follow(node, jobId, o) : 0;
    }

    @Override
    public Integer call() throws Exception {
        Home home = Home.fromSystemProperty();
        if (cluster != null) {
            return submitToCluster(home);
        }
        if (await || id != null || token != null) {
            throw new CommandLine.ParameterException(cmd.commandLine(), "--wait, --id and --token go with --cluster");
        }
        PrintWriter err = cmd.commandLine().getErr();
        Map<String, Object> request = new LinkedHashMap<>();
        Map<String, Object> spec = null;
        Path cwd = Path.of("").toAbsolutePath();
        if (resume != null) {
            if (specFile != null || !sets.isEmpty() || out != null) {
                throw new CommandLine.ParameterException(cmd.commandLine(),
                        "--resume takes the run's own spec: no SPEC, --set or --out with it");
            }
            Path run = SpecLoader.runFolder(home, resume);
            request.put("command", "resume");
            request.put("run", run.toString());
            spec = SpecLoader.jsonToMap(run.resolve("spec.json"));
        } else {
            spec = specFile == null ? SpecLoader.defaults(home) : SpecLoader.read(specFile);
            SpecLoader.applySets(spec, sets);
            SpecLoader.resolvePaths(spec, cwd);
            if (spec.containsKey("cluster")) {
                throw new CliException("cluster: the spec has a cluster section; submit it to a running cluster "
                        + "with --cluster HOST:PORT (a node's API), or drop the section to train in this process");
            }
            Path runDir = out != null ? out.toAbsolutePath().normalize()
                    : home.root().resolve("runs").resolve(runId(spec));
            request.put("command", "train");
            request.put("spec", spec);
            request.put("out", runDir.toString());
        }
        request.put("base", cwd.toString());
        ProgressBar bar = new ProgressBar(System.out, ProgressBar.isTerminal());
        request.put("listener", (java.util.function.Consumer<Map<String, Object>>) bar::accept);
        try (JobClient jobs = JobClient.start(home)) {
            jobs.awaitProviders(name(spec, "model", "gpt"), name(spec, "optimizer", "adamw"),
                    name(spec, "data", "text"), name(spec, "backend", "cpu"));
            Map<String, Object> summary = jobs.call(request);
            String runDir = (String) (resume != null ? request.get("run") : request.get("out"));
            System.out.printf(Locale.ROOT, "Done: %s steps, train loss %.4f%s, median %.0f tokens/s, peak RSS %d MiB%n",
                    summary.get("steps"), ((Number) summary.get("final_train_loss")).doubleValue(),
                    summary.get("final_val_loss") instanceof Number v
                            ? String.format(Locale.ROOT, ", val loss %.4f", v.doubleValue()) : "",
                    ((Number) summary.get("median_tokens_per_sec")).doubleValue(),
                    ((Number) summary.get("peak_rss_bytes")).longValue() / (1024 * 1024));
            System.out.println("Run: " + runDir);
            System.out.println("Sample it: " + home.root().resolve("bin/cornerstone") + " generate --run " + runDir);
            return 0;
        } catch (IllegalArgumentException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
    }

    @SuppressWarnings("unchecked")
    static String name(Map<String, Object> spec, String section, String def) {
        Object s = spec.get(section);
        if (s instanceof Map<?, ?> m && m.get("name") != null) {
            return String.valueOf(m.get("name"));
        }
        return def;
    }

    static String runId(Map<String, Object> spec) {
        return LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-"
                + name(spec, "model", "gpt");
    }
}

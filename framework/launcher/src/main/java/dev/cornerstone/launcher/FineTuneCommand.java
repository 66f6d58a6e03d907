package dev.cornerstone.launcher;

import java.io.IOException;
import java.io.InputStream;
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
import java.util.function.Consumer;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code cornerstone finetune [SPEC] [--from RUN] [--set k=v ...] [--out DIR]}. */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = {"Fine-tune a pre-trained run for text classification (JSONL with text and label): a head on "
                + "its hidden states, trained in full, with parts frozen, or through LoRA adapters. With no SPEC: "
                + "every parameter, on the distribution's SpamAssassin mails.",
            "Writes runs/<run-id>/ (spec.json, model.json, tokenizer.json, classifier.json, base.json, metrics.jsonl "
                + "with held-out accuracy, precision, recall, F1 and confusion matrix, summary.json, checkpoints/, "
                + "adapter/ for LoRA)."})
final class FineTuneCommand implements Callable<Integer> {

    static final String SERVICE_NAME = "fine-tuning service (bundle dev.cornerstone.finetune)";

    @Parameters(index = "0", arity = "0..1", paramLabel = "SPEC", description = "Fine-tuning spec (YAML or JSON).")
    Path specFile;

    @Option(names = "--from", paramLabel = "RUN", description = "The pre-training run to start from (or 'latest'); "
            + "sets finetune.from.")
    Path from;

    @Option(names = "--set", paramLabel = "SECTION.KEY=VALUE",
            description = "Override a spec key, for example --set train.steps=100 --set finetune.mode=lora.")
    List<String> sets = new ArrayList<>();

    @Option(names = "--out", paramLabel = "DIR", description = "Run folder (default: runs/<run-id> in the distribution).")
    Path out;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() throws Exception {
        Home home = Home.fromSystemProperty();
        Path cwd = Path.of("").toAbsolutePath();
        Map<String, Object> spec = specFile == null ? defaults(home) : SpecLoader.read(specFile);
        SpecLoader.applySets(spec, sets);
        Map<String, Object> ft = SpecLoader.section(spec, "finetune");
        if (from != null) {
            ft.put("from", SpecLoader.runFolder(home, from).toString());
        } else if (ft.get("from") instanceof String f && !f.isBlank()) {
            ft.put("from", cwd.resolve(f).toAbsolutePath().normalize().toString());
        }
        SpecLoader.resolvePaths(spec, cwd);
        Path runDir = out != null ? out.toAbsolutePath().normalize() : home.root().resolve("runs").resolve(runId(ft));

        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "finetune");
        request.put("spec", spec);
        request.put("out", runDir.toString());
        request.put("base", cwd.toString());
        boolean terminal = ProgressBar.isTerminal();
        ProgressBar bar = new ProgressBar(System.out, terminal);
        request.put("listener", (Consumer<Map<String, Object>>) e -> {
            if ("start".equals(e.get("event"))) {
                System.out.printf(Locale.ROOT, "Fine-tuning (%s) %,d of %,d parameters on %s (%s): %s training texts, "
                                + "%s held out, labels %s, %s steps%n", e.get("mode"),
                        ((Number) e.get("trainable_parameters")).longValue(),
                        ((Number) e.get("total_parameters")).longValue(), e.get("backend"), e.get("device"),
                        e.get("training_examples"), e.get("validation_examples"), e.get("labels"), e.get("steps"));
                return;
            }
            bar.accept(e);
            if (e.get("accuracy") != null) {
                System.out.println((terminal ? "\n" : "") + "held-out at step " + e.get("step") + ": " + metrics(e));
            }
        });
        try (JobClient jobs = JobClient.start(home)) {
            awaitProviders(jobs, spec);
            Map<String, Object> summary = jobs.call(JobClient.FINETUNE, SERVICE_NAME, request);
            System.out.printf(Locale.ROOT, "Done: %s steps (%s), %,d of %,d parameters trained, median %.0f tokens/s, "
                            + "peak RSS %d MiB%n", summary.get("steps"), summary.get("mode"),
                    ((Number) summary.get("trainable_parameters")).longValue(),
                    ((Number) summary.get("total_parameters")).longValue(),
                    ((Number) summary.get("median_tokens_per_sec")).doubleValue(),
                    ((Number) summary.get("peak_rss_bytes")).longValue() / (1024 * 1024));
            System.out.println("Held-out (" + summary.get("validation_examples") + " texts): " + metrics(summary));
            System.out.println("Run: " + runDir);
            System.out.println("Predict with it: " + home.root().resolve("bin/cornerstone") + " predict --run " + runDir
                    + " --text '...'");
            return 0;
        } catch (IllegalArgumentException e) {
            cmd.commandLine().getErr().println("error: " + e.getMessage());
            return 1;
        }
    }

    /** {@code accuracy 0.9512  F1 ham 0.9710 spam 0.8421  macro F1 0.9066  loss 0.1234}. */
    @SuppressWarnings("unchecked")
    static String metrics(Map<String, Object> m) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "accuracy %.4f  F1",
                ((Number) m.get("accuracy")).doubleValue()));
        ((Map<String, Object>) m.get("f1")).forEach((label, f1) -> sb.append(String.format(Locale.ROOT, " %s %.4f",
                label, ((Number) f1).doubleValue())));
        sb.append(String.format(Locale.ROOT, "  macro F1 %.4f  loss %.4f", ((Number) m.get("macro_f1")).doubleValue(),
                ((Number) m.get("val_loss")).doubleValue()));
        return sb.toString();
    }

    /** The default spec: the spam task on the distribution's mails. */
    static Map<String, Object> defaults(Home home) throws IOException {
        try (InputStream in = FineTuneCommand.class.getResourceAsStream("/default-finetune.yaml")) {
            Map<String, Object> spec = new com.fasterxml.jackson.databind.ObjectMapper(
                    new com.fasterxml.jackson.dataformat.yaml.YAMLFactory()).readValue(in, Map.class);
            SpecLoader.section(spec, "data").put("path",
                    home.root().resolve("data/spamassassin-train.jsonl.gz").toString());
            return spec;
        }
    }

    /** Waits for the fine-tuning service and the providers the spec names (those of the base run for its model). */
    @SuppressWarnings("unchecked")
    static void awaitProviders(JobClient jobs, Map<String, Object> spec) throws Exception {
        jobs.await(JobClient.serviceFilter(JobClient.FINETUNE), SERVICE_NAME, JobClient.JOB_SERVICE_WAIT_MILLIS);
        String model = TrainCommand.name(spec, "model", "gpt");
        String dataset = null;
        if (spec.get("finetune") instanceof Map<?, ?> ft && ft.get("from") instanceof String f
                && Files.isRegularFile(Path.of(f, "spec.json"))) {
            Map<String, Object> base = SpecLoader.jsonToMap(Path.of(f, "spec.json"));
            model = TrainCommand.name(base, "model", "gpt");
            dataset = TrainCommand.name(base, "data", "text");
        }
        jobs.awaitProviders(model, TrainCommand.name(spec, "optimizer", "adamw"), dataset,
                TrainCommand.name(spec, "backend", "cpu"));
        if (spec.get("finetune") instanceof Map<?, ?> ft && "lora".equals(ft.get("mode"))) {
            jobs.awaitAdapter("lora");
        }
    }

    static String runId(Map<String, Object> finetune) {
        Object mode = finetune.getOrDefault("mode", "full");
        return LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")) + "-finetune-" + mode;
    }
}

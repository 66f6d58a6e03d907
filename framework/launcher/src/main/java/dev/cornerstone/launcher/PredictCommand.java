package dev.cornerstone.launcher;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cornerstone predict --run RUN (--text TEXT | --input FILE.jsonl)}. */
@Command(name = "predict", mixinStandardHelpOptions = true,
        description = {"Classify texts with a fine-tuned run (or a merged classifier from 'cornerstone lora merge').",
            "Prints one JSON object a line, in input order: label (the predicted one) and probabilities by class, "
                + "and the input's id when it has one. For an input with labels, the accuracy goes to stderr."})
final class PredictCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--run", required = true, paramLabel = "RUN",
            description = "Fine-tuning run folder (or 'latest').")
    Path run;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "One text to classify.")
        String text;

        @Option(names = "--input", paramLabel = "FILE.jsonl",
                description = "JSONL, one {\"text\": ...} a line (label and id optional; gzip read as is).")
        Path file;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec cmd;

    @Override
    @SuppressWarnings("unchecked")
    public Integer call() throws Exception {
        Home home = Home.fromSystemProperty();
        run = SpecLoader.runFolder(home, run);
        if (input.file != null && !Files.isRegularFile(input.file)) {
            throw new CliException(input.file + ": no such file");
        }
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "predict");
        request.put("run", run.toString());
        if (input.text != null) {
            request.put("text", input.text);
        } else {
            request.put("input", input.file.toAbsolutePath().normalize().toString());
        }
        try (JobClient jobs = JobClient.start(home)) {
            awaitProviders(jobs, run);
            Map<String, Object> r = jobs.call(JobClient.FINETUNE, FineTuneCommand.SERVICE_NAME, request);
            StringBuilder lines = new StringBuilder();
            for (Map<String, Object> p : (List<Map<String, Object>>) r.get("predictions")) {
                lines.append(JSON.writeValueAsString(p)).append('\n');
            }
            System.out.print(lines);
            System.out.flush();
            if (r.get("labelled") instanceof Number n) {
                int correct = ((Number) r.get("correct")).intValue();
                cmd.commandLine().getErr().printf(Locale.ROOT, "accuracy %.4f on the %d labelled texts (%d right)%n",
                        (double) correct / n.intValue(), n.intValue(), correct);
            }
            return 0;
        } catch (IllegalArgumentException e) {
            cmd.commandLine().getErr().println("error: " + e.getMessage());
            return 1;
        }
    }

    /** The providers a fine-tuning run or a merged classifier needs, read from its files. */
    static void awaitProviders(JobClient jobs, Path run) throws Exception {
        jobs.await(JobClient.serviceFilter(JobClient.FINETUNE), FineTuneCommand.SERVICE_NAME,
                JobClient.JOB_SERVICE_WAIT_MILLIS);
        Map<String, Object> spec = SpecLoader.jsonToMap(run.resolve("spec.json"));
        if (!(spec.get("finetune") instanceof Map<?, ?> ft)) {
            // a merged classifier: a pre-training run's spec
            jobs.awaitProviders(TrainCommand.name(spec, "model", "gpt"), null, TrainCommand.name(spec, "data", "text"),
                    TrainCommand.name(spec, "backend", "cpu"));
            return;
        }
        Path modelJson = run.resolve("model.json");
        Path classifierJson = run.resolve("classifier.json");
        String model = Files.isRegularFile(modelJson) && SpecLoader.jsonToMap(modelJson).get("name") instanceof String m
                ? m : "gpt";
        String dataset = Files.isRegularFile(classifierJson)
                && SpecLoader.jsonToMap(classifierJson).get("tokenizer_provider") instanceof String d ? d : null;
        jobs.awaitProviders(model, null, dataset, TrainCommand.name(spec, "backend", "cpu"));
        if ("lora".equals(ft.get("mode"))) {
            jobs.awaitAdapter("lora");
        }
    }
}

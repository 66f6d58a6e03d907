package dev.cornerstone.launcher;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cornerstone lora merge --run RUN [--out DIR]}. */
@Command(name = "lora", mixinStandardHelpOptions = true,
        description = "Work with the LoRA adapters of fine-tuning runs.",
        subcommands = {LoraCommand.Merge.class})
final class LoraCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a subcommand is required: merge");
    }

    @Command(name = "merge", mixinStandardHelpOptions = true,
            description = {"Fold a LoRA run's adapters into its base weights (W + alpha/rank * B A) and write the result "
                    + "as a plain pre-training run folder: 'cornerstone generate --run' and 'eval --run' take it, and "
                    + "'train' builds on it like any GPT.",
                "The classification head goes beside it (classifier.json, classifier.safetensors), so 'cornerstone "
                    + "predict --run' takes it too."})
    static final class Merge implements Callable<Integer> {

        @Option(names = "--run", required = true, paramLabel = "RUN", description = "A LoRA fine-tuning run (or 'latest').")
        Path run;

        @Option(names = "--out", paramLabel = "DIR", description = "Where to write the merged model (default: the run's "
                + "folder name with -merged, beside it).")
        Path out;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec cmd;

        @Override
        public Integer call() throws Exception {
            Home home = Home.fromSystemProperty();
            run = SpecLoader.runFolder(home, run);
            Path target = out != null ? out.toAbsolutePath().normalize()
                    : run.resolveSibling(run.getFileName() + "-merged");
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("command", "merge");
            request.put("run", run.toString());
            request.put("out", target.toString());
            try (JobClient jobs = JobClient.start(home)) {
                PredictCommand.awaitProviders(jobs, run);
                Map<String, Object> r = jobs.call(JobClient.FINETUNE, FineTuneCommand.SERVICE_NAME, request);
                System.out.println("Merged the adapters of " + r.get("merged_parameters") + " layers into " + target);
                System.out.println("Sample it: " + home.root().resolve("bin/cornerstone") + " generate --run " + target);
                System.out.println("Classify with it: " + home.root().resolve("bin/cornerstone") + " predict --run "
                        + target + " --text '...'");
                return 0;
            } catch (IllegalArgumentException e) {
                cmd.commandLine().getErr().println("error: " + e.getMessage());
                return 1;
            }
        }
    }
}

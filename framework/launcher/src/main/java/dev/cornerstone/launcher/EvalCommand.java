package dev.cornerstone.launcher;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cornerstone eval --run RUN [--data PATH] [--batches N | --all]}. */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Print the mean loss of a run's newest checkpoint on a corpus (default: the run's validation "
                + "split).")
final class EvalCommand implements Callable<Integer> {

    @Option(names = "--run", required = true, paramLabel = "RUN",
            description = "Run folder, or 'latest' for the newest run in the distribution's runs/.")
    Path run;

    @Option(names = "--data", paramLabel = "PATH", description = "A UTF-8 text file to evaluate on.")
    Path data;

    @Option(names = "--batches", paramLabel = "N", defaultValue = "20",
            description = "Batches to average over (default ${DEFAULT-VALUE}).")
    int batches;

    @Option(names = "--all", description = "Every consecutive window of the corpus instead of random batches: the "
            + "same text for every model, for comparisons.")
    boolean all;

    @Override
    public Integer call() throws Exception {
        if (batches < 1) {
            throw new IllegalArgumentException("--batches must be at least 1");
        }
        if (data != null && !java.nio.file.Files.isRegularFile(data)) {
            throw new CliException(data + ": no such file");
        }
        Home home = Home.fromSystemProperty();
        run = SpecLoader.runFolder(home, run);
        Map<String, Object> spec = SpecLoader.jsonToMap(run.resolve("spec.json"));
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "eval");
        request.put("run", run.toAbsolutePath().normalize().toString());
        if (data != null) {
            request.put("data", data.toAbsolutePath().toString());
        }
        request.put("batches", batches);
        request.put("all", all);
        request.put("base", Path.of("").toAbsolutePath().toString());
        try (JobClient jobs = JobClient.start(home)) {
            jobs.awaitProviders(TrainCommand.name(spec, "model", "gpt"), null, TrainCommand.name(spec, "data", "text"),
                    TrainCommand.name(spec, "backend", "cpu"));
            Map<String, Object> r = jobs.call(request);
            System.out.printf(Locale.ROOT, "loss %.4f nats/token over %d tokens (%s)%n",
                    ((Number) r.get("loss")).doubleValue(), ((Number) r.get("tokens_evaluated")).longValue(),
                    r.get("source"));
            return 0;
        }
    }
}

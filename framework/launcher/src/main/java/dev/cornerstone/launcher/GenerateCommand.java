package dev.cornerstone.launcher;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code cornerstone generate --run RUN [--prompt TEXT] [--tokens N] [--temperature T] [--top-k K] [--seed S]}. */
@Command(name = "generate", mixinStandardHelpOptions = true,
        description = "Sample text from a trained run's newest checkpoint.")
final class GenerateCommand implements Callable<Integer> {

    @Option(names = "--run", required = true, paramLabel = "RUN",
            description = "Run folder, or 'latest' for the newest run in the distribution's runs/.")
    Path run;

    @Option(names = "--prompt", paramLabel = "TEXT", defaultValue = "", description = "Text to continue (default: a "
            + "new line).")
    String prompt;

    @Option(names = "--tokens", paramLabel = "N", defaultValue = "500", description = "Tokens to generate (default "
            + "${DEFAULT-VALUE}).")
    int tokens;

    @Option(names = "--temperature", paramLabel = "T", defaultValue = "0.8",
            description = "Sampling temperature; 0 picks the most likely token (default ${DEFAULT-VALUE}).")
    double temperature;

    @Option(names = "--top-k", paramLabel = "K", defaultValue = "40",
            description = "Sample among the K most likely tokens; 0 for all (default ${DEFAULT-VALUE}).")
    int topK;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "1337", description = "Seed (default ${DEFAULT-VALUE}).")
    long seed;

    @Override
    public Integer call() throws Exception {
        if (tokens < 0 || temperature < 0 || topK < 0) {
            throw new IllegalArgumentException("--tokens, --temperature and --top-k must not be negative");
        }
        Home home = Home.fromSystemProperty();
        run = SpecLoader.runFolder(home, run);
        Map<String, Object> spec = SpecLoader.jsonToMap(run.resolve("spec.json"));
        Map<String, Object> request = new LinkedHashMap<>();
        request.put("command", "generate");
        request.put("run", run.toAbsolutePath().normalize().toString());
        request.put("prompt", prompt);
        request.put("tokens", tokens);
        request.put("temperature", temperature);
        request.put("top_k", topK);
        request.put("seed", seed);
        try (JobClient jobs = JobClient.start(home)) {
            jobs.awaitProviders(TrainCommand.name(spec, "model", "gpt"), null, TrainCommand.name(spec, "data", "text"),
                    TrainCommand.name(spec, "backend", "cpu"));
            Map<String, Object> r = jobs.call(request);
            System.out.println(prompt + r.get("text"));
            return 0;
        }
    }
}

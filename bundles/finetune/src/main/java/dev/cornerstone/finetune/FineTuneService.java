package dev.cornerstone.finetune;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.Function;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.api.data.DatasetProvider;
import dev.cornerstone.api.model.AdapterProvider;
import dev.cornerstone.api.model.ModelProvider;
import dev.cornerstone.api.optim.OptimizerProvider;
import dev.cornerstone.data.text.ClassificationExample;
import dev.cornerstone.data.text.ClassificationJsonl;

/**
 * Fine-tuning, prediction and adapter merging with the providers registered in the container,
 * each looked up by its name property, as the job service does for training.
 *
 * <p>Registered as a {@code java.util.function.Function<Map, Map>} with the property
 * {@code cornerstone.service=finetune}: the launcher shares only the JDK's classes with the
 * container, so requests and answers are plain maps, lists, strings and numbers, and progress
 * comes back through a {@code java.util.function.Consumer<Map>} ({@code listener}). A request
 * has {@code command} = {@code finetune}, {@code predict} or {@code merge}; see each method for
 * its keys. Errors are {@link IllegalArgumentException}s whose message is for the user.
 */
@Component(service = Function.class, property = "cornerstone.service=finetune")
public final class FineTuneService implements Function<Map<String, Object>, Map<String, Object>> {

    private final Map<String, ModelProvider> models = new ConcurrentHashMap<>();
    private final Map<String, OptimizerProvider> optimizers = new ConcurrentHashMap<>();
    private final Map<String, DatasetProvider> datasets = new ConcurrentHashMap<>();
    private final Map<String, ComputeBackend> backends = new ConcurrentHashMap<>();
    private final Map<String, AdapterProvider> adapters = new ConcurrentHashMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addModel(ModelProvider p, Map<String, Object> props) {
        models.put(String.valueOf(props.get("model.name")), p);
    }

    void removeModel(ModelProvider p, Map<String, Object> props) {
        models.remove(String.valueOf(props.get("model.name")), p);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addOptimizer(OptimizerProvider p, Map<String, Object> props) {
        optimizers.put(String.valueOf(props.get("optimizer.name")), p);
    }

    void removeOptimizer(OptimizerProvider p, Map<String, Object> props) {
        optimizers.remove(String.valueOf(props.get("optimizer.name")), p);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addDataset(DatasetProvider p, Map<String, Object> props) {
        datasets.put(String.valueOf(props.get("dataset.name")), p);
    }

    void removeDataset(DatasetProvider p, Map<String, Object> props) {
        datasets.remove(String.valueOf(props.get("dataset.name")), p);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addBackend(ComputeBackend b, Map<String, Object> props) {
        backends.put(String.valueOf(props.get("backend.name")), b);
    }

    void removeBackend(ComputeBackend b, Map<String, Object> props) {
        backends.remove(String.valueOf(props.get("backend.name")), b);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addAdapter(AdapterProvider a, Map<String, Object> props) {
        adapters.put(String.valueOf(props.get("adapter.name")), a);
    }

    void removeAdapter(AdapterProvider a, Map<String, Object> props) {
        adapters.remove(String.valueOf(props.get("adapter.name")), a);
    }

    Providers providers() {
        return new Providers(backends, models, optimizers, datasets, adapters);
    }

    @Override
    public Map<String, Object> apply(Map<String, Object> request) {
        String command = String.valueOf(request.get("command"));
        try {
            return switch (command) {
                case "finetune" -> finetune(request, providers(), bundleVersions());
                case "predict" -> predict(request, providers());
                case "merge" -> merge(request, providers());
                default -> throw new IllegalArgumentException("unknown fine-tuning command '" + command + "'");
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Consumer<Map<String, Object>> listener(Map<String, Object> request) {
        return request.get("listener") instanceof Consumer<?> c ? (Consumer<Map<String, Object>>) c : m -> { };
    }

    /** {@code spec} (Map), {@code out} (the run folder), {@code base} (the folder relative paths resolve against). */
    @SuppressWarnings("unchecked")
    static Map<String, Object> finetune(Map<String, Object> request, Providers p, Map<String, String> bundleVersions)
            throws IOException {
        FineTuneSpec spec = FineTuneSpec.from((Map<String, Object>) request.get("spec"));
        Consumer<Map<String, Object>> listener = listener(request);
        try (FineTuneRun run = FineTuneRun.create(spec, Path.of((String) request.get("out")),
                Path.of((String) request.get("base")), p, bundleVersions)) {
            ComputeBackend be = p.backend(run.spec().backendName());
            Map<String, Object> start = new LinkedHashMap<>();
            start.put("event", "start");
            start.put("backend", be.name());
            start.put("device", be.device());
            start.put("step", 0);
            start.put("steps", spec.train().steps());
            start.put("parameters", FineTuneRun.count(run.trainableParameters()));
            start.putAll(run.describe());
            listener.accept(start);
            return run.run(pr -> {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("event", "step");
                m.put("step", pr.step().step());
                m.put("steps", pr.totalSteps());
                m.put("train_loss", (double) pr.step().trainLoss());
                m.put("lr", (double) pr.step().lr());
                m.put("tokens_per_sec", pr.step().tokensPerSecond());
                m.put("elapsed_s", pr.elapsedSeconds());
                m.put("eta_s", pr.etaSeconds());
                m.put("logged", pr.logged());
                if (pr.metrics() != null) {
                    m.putAll(pr.metrics().toMap());
                }
                if (pr.checkpoint() != null) {
                    m.put("checkpoint", pr.checkpoint().toString());
                }
                listener.accept(m);
            });
        }
    }

    /**
     * {@code run} (a fine-tuning run or a merged classifier), and {@code text} (one text) or
     * {@code input} (a JSONL file of {@code text} and optional {@code label} and {@code id});
     * optional {@code backend}. Answers {@code predictions}: per text, in input order,
     * {@code label} and {@code probabilities} (and the input's {@code id}); for a file with
     * labels also {@code labelled} and {@code correct}.
     */
    static Map<String, Object> predict(Map<String, Object> request, Providers p) throws IOException {
        Path runDir = Path.of((String) request.get("run"));
        List<ClassificationExample> texts;
        Path file = null;
        if (request.get("text") instanceof String text) {
            texts = List.of(new ClassificationExample(1, null, text, null));
        } else if (request.get("input") instanceof String input) {
            file = Path.of(input);
            try {
                texts = ClassificationJsonl.read(file, ClassificationJsonl.Labels.OPTIONAL);
            } catch (IOException e) {
                throw new IllegalArgumentException(e.getMessage(), e); // names the file: a truncated gzip, say
            }
        } else {
            throw new IllegalArgumentException("predict: give a text or an input file");
        }
        try (TrainedClassifier c = TrainedClassifier.load(runDir, p, (String) request.get("backend"))) {
            FineTuner.Scores scores = c.score(texts, file == null ? Path.of("--text") : file);
            int[] predicted = scores.predicted();
            List<Map<String, Object>> out = new ArrayList<>();
            int labelled = 0, correct = 0;
            for (int i = 0; i < texts.size(); i++) {
                Map<String, Object> m = new LinkedHashMap<>();
                if (texts.get(i).id() != null) {
                    m.put("id", texts.get(i).id());
                }
                m.putAll(c.prediction(scores.probabilities()[i]));
                out.add(m);
                if (texts.get(i).label() != null) {
                    labelled++;
                    if (texts.get(i).label().equals(c.labels().get(predicted[i]))) {
                        correct++;
                    }
                }
            }
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("predictions", out);
            r.put("labels", c.labels());
            if (labelled > 0) {
                r.put("labelled", labelled);
                r.put("correct", correct);
            }
            return r;
        }
    }

    /** {@code run} (a LoRA fine-tuning run), {@code out} (the folder to write). */
    static Map<String, Object> merge(Map<String, Object> request, Providers p) throws IOException {
        try (TrainedClassifier c = TrainedClassifier.load(Path.of((String) request.get("run")), p, null)) {
            return c.writeMerged(Path.of((String) request.get("out")));
        }
    }

    private static Map<String, String> bundleVersions() {
        Map<String, String> v = new LinkedHashMap<>();
        Bundle self = FrameworkUtil.getBundle(FineTuneService.class);
        BundleContext ctx = self == null ? null : self.getBundleContext();
        if (ctx != null) {
            for (Bundle b : ctx.getBundles()) {
                if (b.getSymbolicName() != null && b.getSymbolicName().startsWith("dev.cornerstone")) {
                    v.put(b.getSymbolicName(), b.getVersion().toString());
                }
            }
        }
        return v;
    }
}

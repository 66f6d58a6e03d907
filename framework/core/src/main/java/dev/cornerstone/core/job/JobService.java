package dev.cornerstone.core.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import dev.cornerstone.api.data.Tokenizer;
import dev.cornerstone.api.model.Model;
import dev.cornerstone.api.model.ModelProvider;
import dev.cornerstone.api.optim.OptimizerProvider;
import dev.cornerstone.core.checkpoint.Checkpoints;
import dev.cornerstone.core.config.Json;
import dev.cornerstone.core.generate.Sampler;
import dev.cornerstone.core.train.TrainSpec;
import dev.cornerstone.core.train.Trainer;
import dev.cornerstone.core.train.TrainingRun;

/**
 * Runs jobs with the providers registered in the container, each looked up by its name
 * property ({@code model.name}, {@code optimizer.name}, {@code dataset.name},
 * {@code backend.name}).
 *
 * <p>It is registered as a {@code java.util.function.Function<Map, Map>} with the property
 * {@code cornerstone.service=jobs}: the launcher lives outside the container and shares only
 * the JDK's classes with it, so requests and answers are plain maps, lists, strings and
 * numbers, and progress comes back through a {@code java.util.function.Consumer<Map>}. A
 * request has {@code command} = {@code train}, {@code resume}, {@code generate}, {@code eval}
 * or {@code backends} (run on the caller's thread), or {@code submit}, {@code list},
 * {@code status}, {@code stop}, {@code move} and {@code watch} for jobs that run in the
 * background on a node ({@link NodeJobs}); see each method for its keys. The component is
 * immediate: a delayed one would be disposed, its jobs with it, whenever no caller held it. Errors are
 * {@link IllegalArgumentException}s whose message is for the user.
 */
@Component(service = Function.class, property = "cornerstone.service=jobs", immediate = true)
public final class JobService implements Function<Map<String, Object>, Map<String, Object>> {

    private final Map<String, ModelProvider> models = new ConcurrentHashMap<>();
    private final Map<String, OptimizerProvider> optimizers = new ConcurrentHashMap<>();
    private final Map<String, DatasetProvider> datasets = new ConcurrentHashMap<>();
    private final Map<String, ComputeBackend> backends = new ConcurrentHashMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addModel(ModelProvider p, Map<String, Object> props) {
        models.put(String.valueOf(props.get("model.name")), p);
        boundChanged();
    }

    void removeModel(ModelProvider p, Map<String, Object> props) {
        models.remove(String.valueOf(props.get("model.name")), p);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addOptimizer(OptimizerProvider p, Map<String, Object> props) {
        optimizers.put(String.valueOf(props.get("optimizer.name")), p);
        boundChanged();
    }

    void removeOptimizer(OptimizerProvider p, Map<String, Object> props) {
        optimizers.remove(String.valueOf(props.get("optimizer.name")), p);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addDataset(DatasetProvider p, Map<String, Object> props) {
        datasets.put(String.valueOf(props.get("dataset.name")), p);
        boundChanged();
    }

    void removeDataset(DatasetProvider p, Map<String, Object> props) {
        datasets.remove(String.valueOf(props.get("dataset.name")), p);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addBackend(ComputeBackend b, Map<String, Object> props) {
        backends.put(String.valueOf(props.get("backend.name")), b);
        boundChanged();
    }

    void removeBackend(ComputeBackend b, Map<String, Object> props) {
        backends.remove(String.valueOf(props.get("backend.name")), b);
        // called while the service unregisters, before its bundle lets it go: jobs on it move now
        nodeJobs.backendLeaving(b);
    }

    private final NodeJobs nodeJobs = new NodeJobs(this::replacementFor);

    /** Where a job on the leaving backend goes: the preferred registered backend, or any; null when none is left. */
    private ComputeBackend replacementFor(String leaving) {
        for (String n : PREFERENCE) {
            ComputeBackend b = backends.get(n);
            if (b != null && !n.equals(leaving)) {
                return b;
            }
        }
        return backends.entrySet().stream().filter(e -> !e.getKey().equals(leaving)).map(Map.Entry::getValue)
                .findFirst().orElse(null);
    }

    /** The node is stopping (or this bundle is): every job stops with a checkpoint. */
    @org.osgi.service.component.annotations.Deactivate
    void deactivate() {
        nodeJobs.stopAll("the node is shutting down");
    }

    /**
     * Backends in order of preference for {@code backend.name: auto}: the first of them that is
     * {@linkplain ComputeBackend#accelerated() accelerated}, else {@code cpu}, else the first present
     * (an OpenCL device on the CPU, such as PoCL, is slower there than the cpu backend).
     */
    static final List<String> PREFERENCE = List.of("cuda", "opencl", "cpu");

    @Override
    public Map<String, Object> apply(Map<String, Object> request) {
        String command = String.valueOf(request.get("command"));
        try {
            return switch (command) {
                case "train" -> train(request);
                case "resume" -> resume(request);
                case "generate" -> generate(request);
                case "eval" -> eval(request);
                case "backends" -> backendList();
                case "submit" -> submit(request);
                case "list" -> Map.of("jobs", nodeJobs.list());
                case "status" -> nodeJobs.status(id(request), since(request));
                case "stop" -> nodeJobs.stop(id(request), "stopped on request",
                        ((Number) request.getOrDefault("wait_ms", 0)).longValue());
                case "move" -> nodeJobs.move(id(request), pick(backends, String.valueOf(request.get("backend")),
                        "backend.name"));
                case "watch" -> watch(request);
                case "providers" -> providersFor(request);
                default -> throw new IllegalArgumentException("unknown job command '" + command + "'");
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a job", e);
        }
    }

    /** The {@code since} step of a status request: only points after it are answered (0, the default: all). */
    private static int since(Map<String, Object> request) {
        Object v = request.getOrDefault("since", 0);
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && n.doubleValue() >= 0
                && n.doubleValue() <= Integer.MAX_VALUE) {
            return n.intValue();
        }
        throw new IllegalArgumentException("'since' must be a step number, 0 or more, got " + v);
    }

    private static String id(Map<String, Object> request) {
        Object id = request.get("id");
        if (id == null || String.valueOf(id).isBlank()) {
            throw new IllegalArgumentException("no job id given");
        }
        return String.valueOf(id);
    }

    /**
     * A job that runs in the background on this node: {@code spec}, {@code out} (its run folder,
     * whose name is the job's id), {@code base}. The spec is checked and the run folder made
     * before this returns, so a bad spec is an error here, and nothing starts.
     */
    @SuppressWarnings("unchecked")
    private Map<String, Object> submit(Map<String, Object> request) throws IOException {
        TrainSpec spec = TrainSpec.from((Map<String, Object>) request.get("spec"));
        TrainingRun.Providers p = providers(spec);
        spec.backend().put("name", p.backend().name());
        Path out = Path.of((String) request.get("out"));
        TrainingRun run = TrainingRun.create(spec, out, Path.of((String) request.get("base")), p, bundleVersions());
        return nodeJobs.start(out.getFileName().toString(), run);
    }

    /**
     * For bundles in this container that run training themselves (the cluster's ranks):
     * {@code spec} (a spec without a {@code cluster} section) answers {@code providers} (a
     * {@link TrainingRun.Providers}, its backend resolved from {@code auto}), {@code spec} (the
     * {@link TrainSpec}) and {@code bundles} (symbolic name to version). Not for the launcher:
     * the answer holds container types.
     */
    @SuppressWarnings("unchecked")
    private Map<String, Object> providersFor(Map<String, Object> request) {
        TrainSpec spec = TrainSpec.from((Map<String, Object>) request.get("spec"));
        TrainingRun.Providers p = providers(spec);
        spec.backend().put("name", p.backend().name());
        return Map.of("providers", p, "spec", spec, "bundles", bundleVersions());
    }

    /** {@code listener}: a {@code Consumer<Map>} called with every job event; answers {@code close}, a Runnable that ends it. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> watch(Map<String, Object> request) {
        if (!(request.get("listener") instanceof Consumer<?> c)) {
            throw new IllegalArgumentException("watch needs a listener (a java.util.function.Consumer<Map>)");
        }
        return Map.of("close", nodeJobs.watch((Consumer<Map<String, Object>>) c));
    }

    /**
     * How long a named provider that is not bound yet is waited for: the framework lists a new
     * service before Declarative Services has bound it here, so a caller that saw it registered
     * (the launcher waits for the backend it names) may call in between.
     */
    static final long BIND_WAIT_MILLIS = 2_000;

    private final Object bindLock = new Object();

    private void boundChanged() {
        synchronized (bindLock) {
            bindLock.notifyAll();
        }
    }

    private <T> T pick(Map<String, T> byName, String name, String what) {
        T t = byName.get(name);
        if (t == null) {
            long deadline = System.nanoTime() + BIND_WAIT_MILLIS * 1_000_000L;
            synchronized (bindLock) {
                while ((t = byName.get(name)) == null && System.nanoTime() < deadline) {
                    try {
                        bindLock.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000L));
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        break;
                    }
                }
            }
        }
        if (t == null) {
            throw new IllegalArgumentException(what + ": no " + what.substring(0, what.indexOf('.')) + " named '"
                    + name + "' is registered (available: " + (byName.isEmpty() ? "none" : String.join(", ",
                    new java.util.TreeSet<>(byName.keySet()))) + ")");
        }
        return t;
    }

    private ComputeBackend backend(String name) {
        if ("auto".equals(name)) {
            for (String n : PREFERENCE) {
                ComputeBackend b = backends.get(n);
                if (b != null && b.accelerated()) {
                    return b;
                }
            }
            if (backends.containsKey("cpu")) {
                return backends.get("cpu");
            }
            for (String n : PREFERENCE) {
                if (backends.containsKey(n)) {
                    return backends.get(n);
                }
            }
        }
        return pick(backends, name, "backend.name");
    }

    private TrainingRun.Providers providers(TrainSpec spec) {
        return new TrainingRun.Providers(backend(spec.backendName()), pick(models, spec.modelName(), "model.name"),
                pick(optimizers, spec.optimizerName(), "optimizer.name"), pick(datasets, spec.dataName(),
                "dataset.name"));
    }

    @SuppressWarnings("unchecked")
    private static Consumer<Map<String, Object>> listener(Map<String, Object> request) {
        Object l = request.get("listener");
        return l instanceof Consumer<?> c ? (Consumer<Map<String, Object>>) c : m -> { };
    }

    /** {@code spec} (Map), {@code out} (path of the run folder), {@code base} (folder relative data paths resolve against). */
    @SuppressWarnings("unchecked")
    private Map<String, Object> train(Map<String, Object> request) throws IOException {
        TrainSpec spec = TrainSpec.from((Map<String, Object>) request.get("spec"));
        TrainingRun.Providers p = providers(spec);
        spec.backend().put("name", p.backend().name());
        try (TrainingRun run = TrainingRun.create(spec, Path.of((String) request.get("out")),
                Path.of((String) request.get("base")), p, bundleVersions())) {
            return runAndReport(run, listener(request), p.backend());
        }
    }

    /** {@code run} (path of the run folder), {@code base}. */
    @SuppressWarnings("unchecked")
    private Map<String, Object> resume(Map<String, Object> request) throws IOException {
        Path runDir = Path.of((String) request.get("run"));
        TrainSpec spec = TrainSpec.from((Map<String, Object>) Json.read(
                Files.readString(runDir.resolve("spec.json")), runDir.resolve("spec.json").toString()));
        try (TrainingRun run = TrainingRun.resume(runDir, Path.of((String) request.get("base")), providers(spec),
                bundleVersions())) {
            return runAndReport(run, listener(request), backend(spec.backendName()));
        }
    }

    private static Map<String, Object> runAndReport(TrainingRun run, Consumer<Map<String, Object>> listener,
                                                    ComputeBackend be) throws IOException {
        Map<String, Object> start = new LinkedHashMap<>();
        start.put("event", "start");
        start.put("backend", be.name());
        start.put("device", be.device());
        start.put("step", run.trainer().step());
        start.put("steps", run.spec().train().steps());
        start.put("parameters", run.model().parameters().values().stream().mapToLong(t -> t.size()).sum());
        listener.accept(start);
        Map<String, Object> summary = run.run(p -> {
            Trainer.StepResult r = p.step();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("event", "step");
            m.put("step", r.step());
            m.put("steps", p.totalSteps());
            m.put("train_loss", (double) r.trainLoss());
            if (!Float.isNaN(r.valLoss())) {
                m.put("val_loss", (double) r.valLoss());
            }
            m.put("lr", (double) r.lr());
            m.put("tokens_per_sec", r.tokensPerSecond());
            m.put("elapsed_s", p.elapsedSeconds());
            m.put("eta_s", p.etaSeconds());
            m.put("logged", p.logged());
            if (p.checkpoint() != null) {
                m.put("checkpoint", p.checkpoint().toString());
            }
            listener.accept(m);
        });
        return summary;
    }

    /** A model from a run folder's spec and newest checkpoint, and its tokenizer. */
    private record Loaded(TrainSpec spec, ComputeBackend backend, Model model, Tokenizer tokenizer) {
    }

    @SuppressWarnings("unchecked")
    private Loaded load(Path runDir) throws IOException {
        Path specFile = runDir.resolve("spec.json");
        if (!Files.isRegularFile(specFile)) {
            throw new IllegalArgumentException(runDir + " is not a run folder: no spec.json");
        }
        TrainSpec spec = TrainSpec.from((Map<String, Object>) Json.read(Files.readString(specFile),
                specFile.toString()));
        Path cp = Checkpoints.latest(runDir.resolve("checkpoints")).orElseThrow(() ->
                new IllegalArgumentException(runDir + " has no checkpoint yet"));
        Checkpoints.Loaded l = Checkpoints.load(cp);
        DatasetProvider dp = pick(datasets, spec.dataName(), "dataset.name");
        Tokenizer tok = dp.tokenizer((Map<String, Object>) Json.read(
                Files.readString(runDir.resolve("tokenizer.json")), runDir.resolve("tokenizer.json").toString()));
        ComputeBackend be = backend(spec.backendName());
        Map<String, Object> modelKeys = TrainSpec.providerKeys(spec.model());
        Model model = pick(models, spec.modelName(), "model.name").create(be, modelKeys, spec.train().seed());
        try {
            Checkpoints.toDevice(l.model().tensors(), model.parameters(), cp.resolve("model.safetensors").toString());
        } catch (IOException | RuntimeException e) {
            model.close();
            throw e;
        }
        return new Loaded(spec, be, model, tok);
    }

    /** {@code run}, {@code prompt} (text, may be empty), {@code tokens}, {@code temperature}, {@code top_k}, {@code seed}. */
    private Map<String, Object> generate(Map<String, Object> request) throws IOException {
        Loaded l = load(Path.of((String) request.get("run")));
        try (Model model = l.model()) {
            String prompt = (String) request.getOrDefault("prompt", "");
            int[] ids = l.tokenizer().encode(prompt.isEmpty() ? "\n" : prompt);
            int[] out = new Sampler(l.backend(), model).sample(ids, ((Number) request.get("tokens")).intValue(),
                    ((Number) request.get("temperature")).doubleValue(), ((Number) request.get("top_k")).intValue(),
                    ((Number) request.get("seed")).longValue());
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("prompt", prompt);
            m.put("text", l.tokenizer().decode(out));
            return m;
        }
    }

    /**
     * {@code run}, {@code data} (optional: a corpus path; default: the run's validation split),
     * {@code batches} (random windows, as during training), or {@code all} (true: every
     * consecutive window of the split).
     */
    @SuppressWarnings("unchecked")
    private Map<String, Object> eval(Map<String, Object> request) throws IOException {
        Path runDir = Path.of((String) request.get("run"));
        Loaded l = load(runDir);
        try (Model model = l.model()) {
            int[] tokens;
            String source;
            Object data = request.get("data");
            if (data != null) {
                tokens = l.tokenizer().encode(Files.readString(Path.of((String) data)));
                source = (String) data;
            } else {
                DatasetProvider dp = pick(datasets, l.spec().dataName(), "dataset.name");
                tokens = dp.open(TrainSpec.providerKeys(l.spec().data()), Path.of((String) request.get("base")))
                        .validation();
                source = "validation split of " + l.spec().data().get("path");
            }
            boolean all = Boolean.TRUE.equals(request.get("all"));
            int batches = ((Number) request.getOrDefault("batches", 20)).intValue();
            int batchSize = l.spec().train().batchSize();
            float loss;
            try (Trainer t = new Trainer(l.backend(), model, null, tokens, tokens,
                    new Trainer.Config(batchSize, 1, 1, 0, 0, Math.max(batches, 1), l.spec().train().seed(),
                            l.spec().train().schedule()))) {
                loss = all ? t.evaluateAll(tokens) : t.evaluate(tokens, batches);
            }
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("loss", (double) loss);
            if (all) {
                m.put("windows", (tokens.length - 1) / model.blockSize());
                m.put("tokens_evaluated", (long) ((tokens.length - 1) / model.blockSize()) * model.blockSize());
            } else {
                m.put("batches", batches);
                m.put("tokens_evaluated", (long) batches * batchSize * model.blockSize());
            }
            m.put("source", source);
            return m;
        }
    }

    /** {@code backends}: name to device, and name to every device the backend found ({@code devices}). */
    private Map<String, Object> backendList() {
        Map<String, Object> m = new LinkedHashMap<>();
        Map<String, Object> d = new LinkedHashMap<>();
        new java.util.TreeMap<>(backends).forEach((name, b) -> {
            m.put(name, b.device());
            d.put(name, List.copyOf(b.devices()));
        });
        return Map.of("backends", m, "devices", d);
    }

    private static Map<String, String> bundleVersions() {
        Map<String, String> v = new LinkedHashMap<>();
        Bundle self = FrameworkUtil.getBundle(JobService.class);
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

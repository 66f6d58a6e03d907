package dev.cornerstone.launcher;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The node as bundles in its container see it: a {@code java.util.function.Function<Map, Map>}
 * registered by the launcher with {@code cornerstone.service=node}, JDK types only (the
 * launcher and the bundles share only the JDK's classes, as with the job service). The web
 * console uses it so that its views and actions are exactly those of the node API and the
 * command line: the same bundle views and problems, the same checks before a jar reaches
 * {@code deploy/}, the same run folders for jobs.
 *
 * <pre>
 * {command: info}                                 version, pid, home, data, uptime, bundle counts, api
 * {command: bundles}                              {bundles: [...]} as GET /api/bundles
 * {command: deploy, path, name?, wait_ms?}        checks the jar at path, puts it into deploy/, waits for its state
 * {command: undeploy, name, wait_ms?}             removes a bundle from deploy/
 * {command: submit, spec, id?}                    starts a job in runs/ID as POST /api/jobs
 * {command: default_spec}                         {spec: ...} the default training, data path absolute
 * </pre>
 *
 * Errors: {@link IllegalArgumentException} for bad input (its message is for the user);
 * a refusal with an HTTP meaning (404 nothing to undeploy, 409 a system bundle, 503 no job
 * service) comes back as {@code {error, status}} instead of an exception, since the caller
 * cannot see the launcher's exception classes.
 */
final class NodeService implements Function<Map<String, Object>, Map<String, Object>> {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() { };
    private static final TypeReference<List<Object>> LIST = new TypeReference<>() { };

    private final Node node;

    NodeService(Node node) {
        this.node = node;
    }

    @Override
    public Map<String, Object> apply(Map<String, Object> request) {
        String command = String.valueOf(request.get("command"));
        try {
            return switch (command) {
                case "info" -> {
                    Map<String, Object> m = new LinkedHashMap<>(node.info());
                    m.put("api", node.api() == null ? null : node.api().uri().toString());
                    yield m;
                }
                case "bundles" -> Map.of("bundles", JSON.convertValue(node.bundleViews(), LIST));
                case "deploy" -> plain(node.deploy(Path.of(string(request, "path")),
                        (String) request.get("name"), waitMillis(request)));
                case "undeploy" -> plain(node.undeploy(string(request, "name"), waitMillis(request)));
                case "submit" -> node.submitJob(request.get("spec"), request.get("id"));
                case "default_spec" -> Map.of("spec", SpecLoader.defaults(node.home()));
                default -> throw new IllegalArgumentException("unknown node command '" + command + "' (info, bundles, "
                        + "deploy, undeploy, submit, default_spec)");
            };
        } catch (NodeApi.ApiException e) {
            return Map.of("error", e.getMessage(), "status", e.status);
        } catch (IllegalArgumentException | IllegalStateException | java.io.UncheckedIOException e) {
            throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } catch (Exception e) {
            throw new IllegalStateException(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage(), e);
        }
    }

    /** A map that holds only JDK types (BundleView records become maps). */
    private static Map<String, Object> plain(Map<String, Object> m) {
        return JSON.convertValue(m, MAP);
    }

    private static String string(Map<String, Object> request, String key) {
        if (!(request.get(key) instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException("'" + key + "' is required");
        }
        return s;
    }

    private static long waitMillis(Map<String, Object> request) {
        return request.get("wait_ms") instanceof Number n ? n.longValue() : 15_000;
    }
}

package dev.cornerstone.console;

import java.util.Map;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/**
 * The node's services that speak JDK types only ({@code java.util.function.Function<Map, Map>}
 * with a {@code cornerstone.service} property), looked up at each call so that a service that
 * comes back after its bundle was updated is used at once:
 *
 * <ul>
 * <li>{@code node}: registered by the launcher; bundle views and problems, deploy and undeploy
 *     through {@code deploy/}, job submission into the node's run folders.</li>
 * <li>{@code jobs}: the job service of {@code dev.cornerstone.core}.</li>
 * <li>{@code cluster}: the cluster runtime of {@code dev.cornerstone.cluster}, when installed.</li>
 * <li>{@code repository}: the cluster's bundle repository ({@code dev.cornerstone.repository}),
 *     only on a node that has joined a cluster.</li>
 * </ul>
 *
 * Their exceptions become {@link ApiError}s: an {@link IllegalArgumentException} is the user's
 * error (400, or 404 for an unknown job), naming the spec key where there is one.
 */
final class NodeServices {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");
    /** A message that starts with a spec key: {@code train.batch_size: ...}, {@code model.name: ...}. */
    private static final Pattern FIELD = Pattern.compile("^([a-z][a-z_]*(?:\\.[a-z][a-z0-9_]*)?)(?=[: ])");
    private static final java.util.Set<String> SECTIONS = java.util.Set.of("model", "optimizer", "data", "train",
            "backend");

    private final BundleContext ctx;

    NodeServices(BundleContext ctx) {
        this.ctx = ctx;
    }

    static String what(String service) {
        return switch (service) {
            case "node" -> "the node service (registered by the launcher of a node)";
            case "jobs" -> "the job service (bundle dev.cornerstone.core)";
            case "cluster" -> "the cluster service (bundle dev.cornerstone.cluster)";
            case "repository" -> "the cluster's bundle repository (bundle dev.cornerstone.repository)";
            default -> "service " + service;
        };
    }

    private ServiceReference<?> reference(String service) {
        try {
            ServiceReference<?>[] refs = ctx.getServiceReferences(Function.class.getName(),
                    "(cornerstone.service=" + service + ")");
            return refs == null || refs.length == 0 ? null : refs[0];
        } catch (InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    boolean present(String service) {
        return reference(service) != null;
    }

    /** Calls the service; 503 when it is not registered. Blocks: call it on a worker thread. */
    @SuppressWarnings("unchecked")
    Map<String, Object> call(String service, Map<String, Object> request) {
        ServiceReference<?> ref = reference(service);
        Function<Map<String, Object>, Map<String, Object>> f = ref == null ? null
                : (Function<Map<String, Object>, Map<String, Object>>) ctx.getService(ref);
        if (f == null) {
            throw new ApiError(503, what(service) + " is not running on this node; try again when it is");
        }
        try {
            Map<String, Object> answer = f.apply(request);
            if (answer != null && answer.get("error") instanceof String error && answer.get("status") instanceof Number
                    status) {
                throw new ApiError(status.intValue(), error);
            }
            return answer;
        } catch (IllegalArgumentException e) {
            throw userError(e.getMessage());
        } catch (IllegalStateException e) {
            LOG.log(Level.FINE, "refused: " + request.get("command"), e);
            throw new ApiError(409, e.getMessage() == null ? "refused by " + what(service) : e.getMessage());
        } finally {
            if (ref != null) {
                try {
                    ctx.ungetService(ref);
                } catch (IllegalStateException e) {
                    // the console's bundle is stopping
                }
            }
        }
    }

    static ApiError userError(String message) {
        String m = message == null ? "bad request" : message;
        if (m.startsWith("no job '")) {
            return new ApiError(404, m);
        }
        return new ApiError(400, m, field(m));
    }

    /** The spec key an error message is about, or null. */
    static String field(String message) {
        Matcher mt = FIELD.matcher(message);
        if (!mt.find()) {
            return null;
        }
        String key = mt.group(1);
        String section = key.contains(".") ? key.substring(0, key.indexOf('.')) : key;
        return SECTIONS.contains(section) ? key : null;
    }
}

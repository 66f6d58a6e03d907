package dev.cornerstone.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every API route the console's router serves is in /api/openapi.yaml, and nothing else is. */
class OpenApiTest {

    static Vertx vertx;
    static Router router;

    @BeforeAll
    static void buildRouter() {
        vertx = Vertx.vertx();
        ConsoleSettings settings = ConsoleSettings.from(Map.of(), k -> k.equals("cornerstone.home") ? "/tmp/cs" : null);
        NodeServices services = new NodeServices(null);
        router = new ConsoleApp(vertx, settings, services, new BundleActions(null, services), new EventHub(vertx))
                .router();
    }

    @AfterAll
    static void close() {
        vertx.close().await();
    }

    /** "GET /api/jobs/{id}" for each method and concrete API path of the router. */
    static Set<String> served() {
        Set<String> out = new TreeSet<>();
        for (Route r : router.getRoutes()) {
            String path = r.getPath();
            if (path == null || !path.startsWith("/api/")) {
                continue;
            }
            if (r.methods() == null || r.methods().isEmpty()) {
                assertThat(path).as("the only API route for every method is the 'no such route' answer")
                        .isEqualTo("/api/");
                continue;
            }
            for (HttpMethod m : r.methods()) {
                out.add(m.name() + " " + path.replaceAll(":([a-z]+)", "{$1}"));
            }
        }
        return out;
    }

    static Set<String> documented() throws Exception {
        JsonNode doc;
        try (InputStream in = OpenApiTest.class.getResourceAsStream("/openapi.yaml")) {
            doc = new ObjectMapper(new YAMLFactory()).readTree(in);
        }
        assertThat(doc.path("openapi").asText()).startsWith("3.");
        Set<String> out = new TreeSet<>();
        doc.path("paths").properties().forEach(e -> e.getValue().properties().forEach(op -> {
            if (Set.of("get", "post", "put", "patch", "delete").contains(op.getKey())) {
                out.add(op.getKey().toUpperCase() + " " + e.getKey());
            }
        }));
        return out;
    }

    @Test
    void everyRouteIsDocumentedAndEveryDocumentedRouteIsServed() throws Exception {
        Set<String> served = served();
        assertThat(served).as("the router has its API routes").contains("GET /api/jobs/{id}", "POST /api/bundles",
                "GET /api/events");
        assertThat(documented()).containsExactlyInAnyOrderElementsOf(served);
    }

    @Test
    void everyOperationSaysWhatItAnswers() throws Exception {
        JsonNode doc;
        try (InputStream in = OpenApiTest.class.getResourceAsStream("/openapi.yaml")) {
            doc = new ObjectMapper(new YAMLFactory()).readTree(in);
        }
        doc.path("paths").properties().forEach(e -> e.getValue().properties().forEach(op -> {
            assertThat(op.getValue().path("summary").asText()).as(op.getKey() + " " + e.getKey()).isNotBlank();
            assertThat(op.getValue().path("responses").size()).as(op.getKey() + " " + e.getKey()).isPositive();
        }));
    }
}

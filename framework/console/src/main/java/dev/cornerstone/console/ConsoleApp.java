package dev.cornerstone.console;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;

/**
 * The console's routes: the page, its assets and the JSON API under {@code /api} that the
 * page itself uses, described route by route in {@code /api/openapi.yaml}.
 *
 * <pre>
 * GET    /api/session                   (public) signed in?, CSRF token
 * POST   /api/login                     (public) {token} or {user, password}
 * POST   /api/logout
 * GET    /api/openapi.yaml              this API
 * GET    /api/node                      this node: version, uptime, memory, load, backends, bundle counts
 * GET    /api/nodes                     the cluster's nodes (this one only without a cluster)
 * GET    /api/bundles                   every bundle with state, version, source, problem
 * POST   /api/bundles?file=NAME&amp;wait=S  body: a bundle jar; checked, then written into deploy/
 * POST   /api/bundles/{id}/start|stop   acts on the bundle; a failure answers 409 with the framework's message
 * POST   /api/bundles/{id}/update       body: nothing (re-read) or a new jar of the same bundle
 * DELETE /api/bundles/{name}            removes it from deploy/
 * GET    /api/cluster/bundles           every bundle on every node (node registry), state and version
 * GET    /api/repository                the cluster's bundle repository, with each node's result
 * POST   /api/repository?file=NAME&amp;wait=S  body: a bundle jar; stored for the whole cluster
 * DELETE /api/repository/{name}?wait=S  removes it from the repository: every node uninstalls it
 * GET    /api/backends                  compute backends and their devices
 * GET    /api/spec/default              the default training spec
 * GET    /api/jobs                      jobs on this node
 * POST   /api/jobs                      {spec, id?}; 400 {error, field} names the spec key at fault
 * GET    /api/jobs/{id}                 one job with every logged point and backend move
 * POST   /api/jobs/{id}/stop?wait=S     stops it after its step, with a checkpoint
 * POST   /api/jobs/{id}/backend         {backend}: moves it between two steps
 * GET    /api/jobs/{id}/checkpoints     its checkpoints
 * GET    /api/jobs/{id}/samples         text generated from it so far
 * POST   /api/jobs/{id}/samples         {prompt, tokens, temperature, top_k, seed}: generates more
 * GET    /api/events                    server-sent events: job, bundle, nodes, repository
 * </pre>
 */
final class ConsoleApp {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");
    static final long JSON_BODY_LIMIT = 1024 * 1024;

    private final Vertx vertx;
    private final ConsoleSettings settings;
    private final Security security;
    private final NodeServices services;
    private final BundleActions bundles;
    private final Jobs jobs;
    private final ClusterView cluster;
    private final Repository repository;
    private final EventHub events;

    ConsoleApp(Vertx vertx, ConsoleSettings settings, NodeServices services, BundleActions bundles, EventHub events) {
        this.vertx = vertx;
        this.settings = settings;
        this.security = new Security(vertx, settings);
        this.services = services;
        this.bundles = bundles;
        this.jobs = new Jobs(services);
        this.cluster = new ClusterView(services);
        this.repository = new Repository(services);
        this.events = events;
    }

    Jobs jobs() {
        return jobs;
    }

    ClusterView cluster() {
        return cluster;
    }

    Router router() {
        Router r = Router.router(vertx);
        r.route().handler(security::headers);
        r.route().handler(security.sessionHandler());

        // The sign-in page and the two calls it makes are all that is open without signing in.
        r.get("/public/*").handler(StaticHandler.create("webroot/public").setFilesReadOnly(true)
                .setMaxAgeSeconds(300));
        r.get("/api/session").handler(security::session);
        r.post("/api/login").handler(body()).handler(security::login);

        r.route().handler(security::authenticate);

        r.post("/api/logout").handler(security::logout);
        r.get("/api/openapi.yaml").handler(this::openapi);
        r.get("/api/node").handler(rc -> blocking(rc, 200, this::node));
        r.get("/api/nodes").handler(rc -> blocking(rc, 200, () -> cluster.nodes(node())));

        r.get("/api/bundles").handler(rc -> blocking(rc, 200, () -> Map.of("bundles", bundles.list(),
                "upload_max_bytes", settings.uploadMaxBytes())));
        r.post("/api/bundles").handler(this::deploy);
        r.post("/api/bundles/:id/start").handler(rc -> blocking(rc, 200, () -> bundles.start(bundleId(rc))));
        r.post("/api/bundles/:id/stop").handler(rc -> blocking(rc, 200, () -> bundles.stop(bundleId(rc))));
        r.post("/api/bundles/:id/update").handler(this::update);
        r.delete("/api/bundles/:name").handler(rc -> {
            long wait = Http.waitMillis(rc, 15_000);
            String name = rc.pathParam("name");
            blocking(rc, 200, () -> bundles.undeploy(name, wait));
        });

        r.get("/api/cluster/bundles").handler(rc -> blocking(rc, 200, () -> repository.clusterBundles(
                bundles.list())));
        r.get("/api/repository").handler(rc -> blocking(rc, 200, repository::list));
        r.post("/api/repository").handler(this::deployToCluster);
        r.delete("/api/repository/:name").handler(rc -> {
            long wait = Http.waitMillis(rc, 30_000);
            String name = rc.pathParam("name");
            blocking(rc, 200, () -> repository.remove(name, wait));
        });

        r.get("/api/backends").handler(rc -> blocking(rc, 200, jobs::backends));
        r.get("/api/spec/default").handler(rc -> blocking(rc, 200, jobs::defaultSpec));
        r.get("/api/jobs").handler(rc -> blocking(rc, 200, jobs::list));
        r.post("/api/jobs").handler(body()).handler(rc -> {
            JsonObject b = Http.jsonBody(rc);
            blocking(rc, 201, () -> jobs.submit(b));
        });
        r.get("/api/jobs/:id").handler(rc -> blocking(rc, 200, () -> jobs.status(rc.pathParam("id"))));
        r.post("/api/jobs/:id/stop").handler(rc -> {
            long wait = Http.waitMillis(rc, 30_000);
            blocking(rc, 200, () -> jobs.stop(rc.pathParam("id"), wait));
        });
        r.post("/api/jobs/:id/backend").handler(body()).handler(rc -> {
            JsonObject b = Http.jsonBody(rc);
            blocking(rc, 200, () -> jobs.move(rc.pathParam("id"), b));
        });
        r.get("/api/jobs/:id/checkpoints").handler(rc -> blocking(rc, 200, () -> jobs.checkpoints(rc.pathParam("id"))));
        r.get("/api/jobs/:id/samples").handler(rc -> blocking(rc, 200, () -> jobs.samples(rc.pathParam("id"))));
        r.post("/api/jobs/:id/samples").handler(body()).handler(rc -> {
            JsonObject b = Http.jsonBody(rc);
            blocking(rc, 201, () -> jobs.generate(rc.pathParam("id"), b));
        });
        r.get("/api/events").handler(events::open);

        r.route("/api/*").handler(rc -> Http.error(rc, 404, "no such route: " + rc.request().method() + " "
                + rc.request().path() + " (see /api/openapi.yaml)", null));
        r.route("/*").method(HttpMethod.GET).method(HttpMethod.HEAD).handler(StaticHandler.create("webroot").setFilesReadOnly(true).setIndexPage("index.html")
                .setMaxAgeSeconds(60));

        r.route().failureHandler(Http::failure);
        for (int status : new int[]{400, 404, 405, 413, 500}) {
            r.errorHandler(status, rc -> {
                if (rc.failure() != null) {
                    Http.failure(rc);
                } else {
                    Http.error(rc, status, status == 404 ? "not found: " + rc.request().path() : Http.reason(status),
                            null);
                }
            });
        }
        return r;
    }

    private static BodyHandler body() {
        return BodyHandler.create(false).setBodyLimit(JSON_BODY_LIMIT);
    }

    private void blocking(RoutingContext rc, int status, Callable<Object> work) {
        vertx.executeBlocking(work, false).onComplete(ar -> {
            if (ar.succeeded()) {
                Http.json(rc, status, ar.result());
            } else {
                rc.fail(ar.cause());
            }
        });
    }

    private static long bundleId(RoutingContext rc) {
        String id = rc.pathParam("id");
        try {
            return Long.parseLong(id);
        } catch (NumberFormatException e) {
            throw new ApiError(400, "'" + id + "' is not a bundle id (a number, as in GET /api/bundles)");
        }
    }

    /** This node: the launcher's view, memory and load, backends. */
    Map<String, Object> node() {
        Map<String, Object> m = new LinkedHashMap<>(services.call("node", Map.of("command", "info")));
        m.putAll(NodeStats.now());
        if (services.present("jobs")) {
            Object b = jobs.backends().get("backends");
            m.put("backends", b);
        } else {
            m.put("backends", Map.of());
            m.put("warning", NodeServices.what("jobs") + " is not running: no jobs and no backends");
        }
        m.put("console_clients", events.clients());
        m.put("upload_max_bytes", settings.uploadMaxBytes());
        return m;
    }

    private void deploy(RoutingContext rc) {
        long wait = Http.waitMillis(rc, 15_000);
        String file = rc.request().getParam("file");
        receive(rc, file).compose(jar -> vertx.executeBlocking(() -> {
            try {
                return bundles.deploy(jar, file, wait);
            } finally {
                Uploads.delete(jar);
            }
        }, false)).onSuccess(m -> Http.json(rc, 201, m)).onFailure(rc::fail);
    }

    /**
     * Stores an uploaded jar in the cluster's bundle repository; every node installs it. The
     * answer (201) has each member's result once all have settled or {@code wait} has passed.
     */
    private void deployToCluster(RoutingContext rc) {
        long wait = Http.waitMillis(rc, 30_000);
        String file = rc.request().getParam("file");
        String user = rc.get("user");
        rc.request().pause(); // the body waits while the repository is looked up
        vertx.executeBlocking(() -> {
            repository.requirePresent(); // refused before the body is read: nothing stored
            return true;
        }, false).compose(ok -> receive(rc, file)).compose(jar -> vertx.executeBlocking(() -> {
            try {
                return repository.put(jar, file, user, wait);
            } finally {
                Uploads.delete(jar);
            }
        }, false)).onSuccess(m -> Http.json(rc, 201, m)).onFailure(rc::fail);
    }

    private void update(RoutingContext rc) {
        long id = bundleId(rc);
        long wait = Http.waitMillis(rc, 15_000);
        Future<Path> jar = Uploads.hasBody(rc.request()) ? receive(rc, rc.request().getParam("file"))
                : Future.succeededFuture(null);
        jar.compose(p -> vertx.executeBlocking(() -> {
            try {
                return bundles.update(id, p, wait);
            } finally {
                if (p != null) {
                    Uploads.delete(p);
                }
            }
        }, false)).onSuccess(m -> Http.json(rc, 200, m)).onFailure(rc::fail);
    }

    private Future<Path> receive(RoutingContext rc, String fileName) {
        return Uploads.receive(vertx, rc.request(), settings.dataDir().resolve("tmp"), settings.uploadMaxBytes(),
                fileName);
    }

    private void openapi(RoutingContext rc) {
        try (InputStream in = ConsoleApp.class.getResourceAsStream("/openapi.yaml")) {
            if (in == null) {
                throw new IOException("openapi.yaml is missing from the console bundle");
            }
            rc.response().putHeader("Content-Type", "application/yaml; charset=utf-8")
                    .putHeader("Cache-Control", "no-store")
                    .end(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            LOG.log(Level.SEVERE, "Cannot serve the OpenAPI document", e);
            throw new ApiError(500, "the OpenAPI document is missing from the console bundle");
        }
    }
}

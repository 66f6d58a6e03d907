package dev.cornerstone.console;

import java.net.BindException;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/**
 * Serves the console: binds {@code host:port}, moving on to the next port while one is taken
 * (up to {@code port.attempts}), and, while the cluster's changes are not pushed to it (no
 * bundle repository watch yet: the node is joining or not clustered), polls the cluster's
 * state to push {@code nodes} events. Deployed with the console bundle's class loader, so the static handler finds the
 * page's files among the bundle's resources.
 */
final class ConsoleVerticle extends VerticleBase {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");
    static final long MEMBERSHIP_POLL_MILLIS = 2_000;

    private final ConsoleApp app;
    private final ConsoleSettings settings;
    private final EventHub events;
    private HttpServer server;
    private long poll = -1;
    private volatile String membership = "";
    private volatile boolean polling;

    ConsoleVerticle(ConsoleApp app, ConsoleSettings settings, EventHub events) {
        this.app = app;
        this.settings = settings;
        this.events = events;
    }

    int port() {
        return server.actualPort();
    }

    @Override
    public Future<?> start() {
        Router router = app.router();
        events.start();
        Promise<HttpServer> bound = Promise.promise();
        bind(router, 0, bound);
        return bound.future().onSuccess(s -> {
            server = s;
            poll = vertx.setPeriodic(MEMBERSHIP_POLL_MILLIS, t -> pollMembership());
        });
    }

    private void bind(Router router, int attempt, Promise<HttpServer> bound) {
        int port = settings.port() == 0 ? 0 : settings.port() + attempt;
        vertx.createHttpServer(new HttpServerOptions().setCompressionSupported(true))
                .requestHandler(router)
                .listen(port, settings.host())
                .onSuccess(bound::complete)
                .onFailure(e -> {
                    boolean taken = e instanceof BindException || (e.getMessage() != null
                            && e.getMessage().contains("Address already in use"));
                    if (taken && settings.port() != 0 && attempt + 1 < settings.portAttempts()) {
                        LOG.info("Console: port " + port + " on " + settings.host() + " is taken; trying " + (port + 1));
                        bind(router, attempt + 1, bound);
                    } else if (taken) {
                        bound.fail(new IllegalStateException("no free port for the console on " + settings.host()
                                + " in " + settings.port() + ".." + (settings.port() + settings.portAttempts() - 1)
                                + " (set port in deploy/" + ConsoleSettings.PID + ".cfg)"));
                    } else {
                        bound.fail(new IllegalStateException("the console cannot listen on " + settings.host() + ":"
                                + port + ": " + e.getMessage(), e));
                    }
                });
    }

    private void pollMembership() {
        if (polling || app.cluster().pushed()) {
            return;
        }
        polling = true;
        vertx.executeBlocking(() -> app.cluster().membership(), false).onComplete(ar -> {
            polling = false;
            if (ar.failed()) {
                LOG.log(Level.FINE, "cluster membership poll failed", ar.cause());
                return;
            }
            String now = ar.result();
            if (!now.equals(membership)) {
                membership = now;
                events.publish("nodes", Map.of("membership", now));
            }
        });
    }

    @Override
    public Future<?> stop() {
        if (poll >= 0) {
            vertx.cancelTimer(poll);
        }
        events.stop();
        return server == null ? Future.succeededFuture() : server.close();
    }
}

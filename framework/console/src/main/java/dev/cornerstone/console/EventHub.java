package dev.cornerstone.console;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Logger;

import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.Json;
import io.vertx.ext.web.RoutingContext;

/**
 * Pushes what happens on the node to every open browser tab as server-sent events on
 * {@code GET /api/events}: {@code job} (every event of the job service: start, step with its
 * point, move, end), {@code bundle} (a bundle changed state), {@code nodes} (the cluster's
 * members changed). Each job event carries {@code t_ms}, the node's clock when the console
 * received it, so the page can measure how long a point took to reach its chart.
 *
 * <p>A tab that falls behind (its connection's write queue is full) is disconnected rather
 * than sent a gap; the browser's EventSource reconnects and the page reloads what it shows,
 * so no point is lost, only delayed.
 */
final class EventHub {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");
    static final long KEEPALIVE_MILLIS = 15_000;

    private record Client(long id, Context context, HttpServerResponse response) {
    }

    private final Vertx vertx;
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final AtomicLong ids = new AtomicLong();
    private final AtomicLong sequence = new AtomicLong();
    private long keepalive = -1;

    EventHub(Vertx vertx) {
        this.vertx = vertx;
    }

    void start() {
        keepalive = vertx.setPeriodic(KEEPALIVE_MILLIS, t -> send(": keepalive\n\n"));
    }

    void stop() {
        if (keepalive >= 0) {
            vertx.cancelTimer(keepalive);
        }
        for (Client c : clients) {
            c.context().runOnContext(v -> c.response().end());
        }
        clients.clear();
    }

    int clients() {
        return clients.size();
    }

    /** Handles {@code GET /api/events}: keeps the response open as an event stream. */
    void open(RoutingContext rc) {
        HttpServerResponse r = rc.response();
        r.setChunked(true);
        r.putHeader("Content-Type", "text/event-stream; charset=utf-8");
        r.putHeader("Cache-Control", "no-store");
        r.putHeader("X-Accel-Buffering", "no");
        Client c = new Client(ids.incrementAndGet(), Vertx.currentContext(), r);
        clients.add(c);
        r.closeHandler(v -> clients.remove(c));
        r.exceptionHandler(e -> clients.remove(c));
        Map<String, Object> hello = new LinkedHashMap<>();
        hello.put("t_ms", System.currentTimeMillis());
        hello.put("client", c.id());
        // retry: how long the browser waits before it reconnects
        r.write("retry: 2000\n" + frame("hello", hello));
    }

    /** Sends an event to every tab; safe from any thread, never blocks. */
    void publish(String event, Map<String, Object> data) {
        if (!clients.isEmpty()) {
            send(frame(event, data));
        }
    }

    private String frame(String event, Map<String, Object> data) {
        return "id: " + sequence.incrementAndGet() + "\nevent: " + event + "\ndata: " + Json.encode(data) + "\n\n";
    }

    private void send(String frame) {
        for (Client c : clients) {
            c.context().runOnContext(v -> {
                if (!clients.contains(c)) {
                    return;
                }
                if (c.response().writeQueueFull()) {
                    LOG.info("Event stream " + c.id() + " fell behind; closing it (the page reconnects and reloads)");
                    clients.remove(c);
                    c.response().reset();
                    return;
                }
                c.response().write(frame);
            });
        }
    }
}

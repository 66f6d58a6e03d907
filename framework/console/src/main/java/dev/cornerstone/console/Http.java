package dev.cornerstone.console;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.HttpException;

/** JSON answers, errors and bodies. No stack trace or exception class ever reaches the client. */
final class Http {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.console");

    private Http() {
    }

    static void json(RoutingContext rc, int status, Object body) {
        if (rc.response().ended() || rc.response().closed()) {
            return;
        }
        rc.response().setStatusCode(status)
                .putHeader("Content-Type", "application/json; charset=utf-8")
                .putHeader("Cache-Control", "no-store")
                .end(Json.encode(body));
    }

    /**
     * Answers an error. A request body not read yet (an upload refused before or while it
     * arrived) is first read and dropped, up to {@value #DRAIN_LIMIT} bytes, so the client, still
     * sending, gets this answer rather than a reset connection; a larger rest is not read, and
     * the connection closes after the answer.
     */
    static void error(RoutingContext rc, int status, String message, String field) {
        if (rc.response().ended() || rc.response().closed()) {
            return;
        }
        HttpServerRequest req = rc.request();
        if (req.isEnded() || !hasBody(req)) {
            write(rc, status, message, field);
            return;
        }
        long[] dropped = {0};
        boolean[] answered = {false};
        Runnable answer = () -> {
            if (!answered[0]) {
                answered[0] = true;
                write(rc, status, message, field);
            }
        };
        req.handler(buf -> {
            dropped[0] += buf.length();
            if (dropped[0] > DRAIN_LIMIT && !answered[0]) {
                req.pause();
                rc.response().putHeader("Connection", "close");
                answer.run();
            }
        });
        req.exceptionHandler(e -> answer.run());
        req.endHandler(v -> answer.run());
        req.resume();
    }

    static final long DRAIN_LIMIT = 256L * 1024 * 1024;

    private static boolean hasBody(HttpServerRequest r) {
        String len = r.getHeader("Content-Length");
        return (len != null && !len.trim().equals("0")) || "chunked".equalsIgnoreCase(r.getHeader(
                "Transfer-Encoding"));
    }

    private static void write(RoutingContext rc, int status, String message, String field) {
        if (rc.response().ended() || rc.response().closed()) {
            return;
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("error", message);
        if (field != null) {
            m.put("field", field);
        }
        if (rc.normalizedPath().startsWith("/api/")) {
            json(rc, status, m);
        } else {
            rc.response().setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8")
                    .putHeader("Cache-Control", "no-store").end(message + "\n");
        }
    }

    /** The router's failure handler: an {@link ApiError} as it is, anything else logged and answered 500. */
    static void failure(RoutingContext rc) {
        Throwable f = rc.failure();
        if (f instanceof ApiError e) {
            error(rc, e.status, e.getMessage(), e.field);
        } else if (f instanceof DecodeException e) {
            error(rc, 400, "the body is not valid JSON: " + firstLine(e.getMessage()), null);
        } else if (f instanceof HttpException e) {
            error(rc, e.getStatusCode(), e.getPayload() != null ? e.getPayload() : reason(e.getStatusCode()), null);
        } else if (f == null) {
            int status = rc.statusCode() < 0 ? 500 : rc.statusCode();
            error(rc, status, status == 413 ? "the request body is too large" : reason(status), null);
        } else {
            String ref = UUID.randomUUID().toString().substring(0, 8);
            LOG.log(Level.SEVERE, "Console request " + rc.request().method() + " " + rc.request().path()
                    + " failed (ref " + ref + ")", f);
            error(rc, 500, "internal error (ref " + ref + "); the details are in the node's log", null);
        }
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    static String reason(int status) {
        return switch (status) {
            case 400 -> "bad request";
            case 401 -> "sign in first";
            case 403 -> "forbidden";
            case 404 -> "not found";
            case 405 -> "method not allowed";
            case 413 -> "the request body is too large";
            case 415 -> "unsupported media type";
            default -> "error " + status;
        };
    }

    /** The body as a JSON object (the route has a BodyHandler); 400 when it is not one. */
    static JsonObject jsonBody(RoutingContext rc) {
        if (rc.body() == null || rc.body().buffer() == null || rc.body().length() == 0) {
            throw new ApiError(400, "send a JSON object as the request body");
        }
        Object v;
        try {
            v = Json.decodeValue(rc.body().buffer());
        } catch (DecodeException e) {
            throw new ApiError(400, "the body is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (!(v instanceof JsonObject o)) {
            throw new ApiError(400, "the body must be a JSON object");
        }
        return o;
    }

    /** Plain maps and lists all the way down, for the JDK-typed services. */
    static Object plain(Object v) {
        if (v instanceof JsonObject o) {
            v = o.getMap();
        } else if (v instanceof JsonArray a) {
            v = a.getList();
        }
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(String.valueOf(k), plain(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>();
            for (Object x : l) {
                out.add(plain(x));
            }
            return out;
        }
        return v;
    }

    /** Query parameter {@code wait} (seconds) in milliseconds; {@code def} when absent. */
    static long waitMillis(RoutingContext rc, long def) {
        String w = rc.request().getParam("wait");
        if (w == null) {
            return def;
        }
        try {
            double s = Double.parseDouble(w);
            if (s < 0 || s > 600) {
                throw new NumberFormatException();
            }
            return (long) (s * 1000);
        } catch (NumberFormatException e) {
            throw new ApiError(400, "query parameter 'wait' must be a number of seconds 0..600, got '" + w + "'");
        }
    }
}

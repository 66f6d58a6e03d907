package dev.cornerstone.console;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpServerRequest;

/**
 * Receives a request body (a bundle jar) into a temporary file, streaming, and refuses it as
 * soon as it passes the size limit: by its Content-Length before a byte is read, or while it
 * arrives. A refused or broken upload leaves no file behind.
 */
final class Uploads {

    private Uploads() {
    }

    /** True when the request declares a body (a jar to update with). */
    static boolean hasBody(HttpServerRequest req) {
        String len = req.getHeader("Content-Length");
        return (len != null && !len.trim().equals("0")) || "chunked".equalsIgnoreCase(req.getHeader(
                "Transfer-Encoding"));
    }

    // A refused upload fails its future; the failure handler's answer (Http.error) reads and
    // drops what is still coming, so the client gets the answer.

    /**
     * Streams the body into {@code dir/console-upload-N/NAME}, where NAME is {@code fileName}
     * when it is a plain jar name (so checks of the jar name the file as the user knows it),
     * else {@code upload.jar}. {@link #delete} removes the file and its folder.
     */
    static Future<Path> receive(Vertx vertx, HttpServerRequest req, Path dir, long limit, String fileName) {
        // Hold the body until its handler is set: the session handler resumed the request after
        // its lookup, and the file opens asynchronously.
        req.pause();
        String declared = req.getHeader("Content-Length");
        if (declared != null) {
            long n;
            try {
                n = Long.parseLong(declared.trim());
            } catch (NumberFormatException e) {
                return Future.failedFuture(new ApiError(400, "Content-Length '" + declared + "' is not a number"));
            }
            if (n > limit) {
                return Future.failedFuture(tooLarge(n + " bytes", limit));
            }
            if (n == 0) {
                return Future.failedFuture(new ApiError(400, "empty upload: send the bundle jar as the request body"));
            }
        }
        Path tmp;
        try {
            Files.createDirectories(dir);
            String name = fileName != null && fileName.matches("[A-Za-z0-9][A-Za-z0-9._+-]{0,200}\\.jar")
                    ? fileName : "upload.jar";
            tmp = Files.createTempDirectory(dir, "console-upload-").resolve(name);
        } catch (IOException e) {
            return Future.failedFuture(e);
        }
        Promise<Path> done = Promise.promise();
        vertx.fileSystem().open(tmp.toString(), new OpenOptions().setWrite(true).setTruncateExisting(true))
                .onFailure(e -> {
                    delete(tmp);
                    done.tryFail(e);
                })
                .onSuccess(file -> pump(req, file, tmp, limit, done));
        return done.future();
    }

    private static void pump(HttpServerRequest req, AsyncFile file, Path tmp, long limit, Promise<Path> done) {
        long[] received = {0};
        boolean[] refused = {false};
        req.handler(buf -> {
            if (refused[0]) {
                return;
            }
            received[0] += buf.length();
            if (received[0] > limit) {
                refused[0] = true;
                req.pause();
                file.close().onComplete(v -> {
                    delete(tmp);
                    done.tryFail(tooLarge("more than " + limit + " bytes", limit));
                });
                return;
            }
            file.write(buf);
            if (file.writeQueueFull()) {
                req.pause();
                file.drainHandler(v -> req.resume());
            }
        });
        req.exceptionHandler(e -> {
            refused[0] = true;
            file.close().onComplete(v -> {
                delete(tmp);
                done.tryFail(e);
            });
        });
        req.endHandler(v -> {
            if (refused[0]) {
                return;
            }
            file.close().onComplete(ar -> {
                if (ar.failed()) {
                    delete(tmp);
                    done.tryFail(ar.cause());
                } else if (received[0] == 0) {
                    delete(tmp);
                    done.tryFail(new ApiError(400, "empty upload: send the bundle jar as the request body"));
                } else {
                    done.tryComplete(tmp);
                }
            });
        });
        req.resume();
    }

    private static ApiError tooLarge(String size, long limit) {
        return new ApiError(413, "the upload (" + size + ") exceeds the console's limit of " + limit
                + " bytes (upload.max.bytes in its configuration)");
    }

    static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
            if (p.getParent() != null && p.getParent().getFileName().toString().startsWith("console-upload-")) {
                Files.deleteIfExists(p.getParent());
            }
        } catch (IOException e) {
            // a temporary file; the node's tmp/ is cleaned with its cache
        }
    }
}

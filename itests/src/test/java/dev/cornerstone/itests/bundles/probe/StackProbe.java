package dev.cornerstone.itests.bundles.probe;

import java.util.Dictionary;
import java.util.Hashtable;
import java.util.concurrent.TimeUnit;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import org.lwjgl.system.MemoryUtil;
import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceRegistration;

/**
 * Uses the wrapped third-party bundles for real from inside the container: a Vert.x
 * instance serving a Vert.x Web route, called with a Vert.x HTTP client over loopback, and
 * LWJGL allocating and freeing native memory (which needs liblwjgl.so extracted from the
 * LWJGL bundle and loaded). Registers a {@code Runnable} service whose properties carry the
 * outcome ({@code probe.vertx}, {@code probe.lwjgl}, or {@code probe.error}).
 */
public class StackProbe implements BundleActivator {

    private ServiceRegistration<Runnable> registration;

    @Override
    public void start(BundleContext context) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put("probe", "stack");
        try {
            props.put("probe.vertx", vertxRoundTrip());
            long address = MemoryUtil.nmemAlloc(64);
            MemoryUtil.memSet(address, 7, 64);
            int byteRead = MemoryUtil.memGetByte(address + 63);
            MemoryUtil.nmemFree(address);
            props.put("probe.lwjgl", org.lwjgl.Version.getVersion() + " byte=" + byteRead);
        } catch (Throwable t) {
            props.put("probe.error", t.toString());
        }
        registration = context.registerService(Runnable.class, () -> { }, props);
    }

    private static String vertxRoundTrip() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            Router router = Router.router(vertx);
            router.get("/ping").handler(rc -> rc.response().end("pong"));
            HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                    .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
            HttpClient client = vertx.createHttpClient();
            String body = client.request(HttpMethod.GET, server.actualPort(), "127.0.0.1", "/ping")
                    .compose(req -> req.send().compose(res -> res.body()))
                    .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS).toString();
            return "vert.x web answered " + body;
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        }
    }

    @Override
    public void stop(BundleContext context) {
        if (registration != null) {
            registration.unregister();
        }
    }
}

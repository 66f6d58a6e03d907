package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node API and the commands aimed at a running node: authentication, uploads that are
 * refused with nothing written, deploy / update / undeploy through the API and the CLI.
 */
class NodeApiIT {

    /** Set small in conf/ so an oversized upload is cheap to make. */
    static final long UPLOAD_LIMIT = 256 * 1024;

    @TempDir
    static Path tmp;
    static Distribution dist;
    static NodeProcess node;
    static Path jars;
    static Path data;

    @BeforeAll
    static void startNode() throws Exception {
        dist = Distribution.copyInto(tmp);
        Path conf = dist.root.resolve("conf/cornerstone.properties");
        Files.writeString(conf, Files.readString(conf).replaceAll("(?m)^api.upload.max.bytes=.*$",
                "api.upload.max.bytes=" + UPLOAD_LIMIT));
        jars = tmp.resolve("jars");
        data = tmp.resolve("data");
        node = NodeProcess.start(dist, data);
    }

    @AfterAll
    static void stopNode() throws Exception {
        if (node != null) {
            node.close();
        }
    }

    /** Files in deploy/ other than those the distribution ships there (README.txt, the opencl backend). */
    static long deployedFiles() throws Exception {
        try (Stream<Path> s = Files.list(dist.deploy())) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> !n.equals("README.txt") && !n.startsWith("cornerstone-backend-opencl-")).count();
        }
    }

    @Test
    void requestsWithoutTheTokenAreRefused() throws Exception {
        HttpResponse<String> none = node.request("GET", "/bundles", HttpRequest.BodyPublishers.noBody(), null);
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.body()).contains("authentication required");
        HttpResponse<String> wrong = node.request("GET", "/node", HttpRequest.BodyPublishers.noBody(), "0".repeat(64));
        assertThat(wrong.statusCode()).isEqualTo(401);
        HttpResponse<String> upload = node.request("POST", "/bundles?file=x.jar",
                HttpRequest.BodyPublishers.ofFile(TestBundles.hello(jars, "1.0.0")), null);
        assertThat(upload.statusCode()).isEqualTo(401);
        assertThat(deployedFiles()).isZero();
        assertThat(Files.getPosixFilePermissions(dist.root.resolve("conf/api-token")).toString())
                .isEqualTo("[OWNER_READ, OWNER_WRITE]");
    }

    @Test
    void uploadsThatAreNotBundlesAreRefusedAndNothingIsWritten() throws Exception {
        long before = deployedFiles();
        HttpResponse<String> junk = node.request("POST", "/bundles?file=junk.jar",
                HttpRequest.BodyPublishers.ofFile(TestBundles.corrupt(jars)), node.token);
        assertThat(junk.statusCode()).isEqualTo(400);
        assertThat(junk.body()).contains("not a valid jar");

        Path plainJar = jars.resolve("plain.jar");
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(plainJar), new java.util.jar.Manifest())) {
            out.putNextEntry(new java.util.zip.ZipEntry("hello.txt"));
            out.write("hi".getBytes());
        }
        HttpResponse<String> plain = node.request("POST", "/bundles?file=plain.jar",
                HttpRequest.BodyPublishers.ofFile(plainJar), node.token);
        assertThat(plain.statusCode()).isEqualTo(400);
        assertThat(plain.body()).contains("no Bundle-SymbolicName");

        byte[] big = new byte[(int) UPLOAD_LIMIT + 1];
        new Random(7).nextBytes(big);
        HttpResponse<String> oversized = node.request("POST", "/bundles?file=big.jar",
                HttpRequest.BodyPublishers.ofByteArray(big), node.token);
        assertThat(oversized.statusCode()).isEqualTo(413);
        assertThat(oversized.body()).contains("exceeds the limit");

        HttpResponse<String> badName = node.request("POST", "/bundles?file=../../evil.jar",
                HttpRequest.BodyPublishers.ofFile(TestBundles.badActivator(jars)), node.token);
        assertThat(badName.statusCode()).as(badName.body()).isIn(201, 400);
        assertThat(dist.root.resolve("evil.jar")).doesNotExist();
        if (badName.statusCode() == 201) {
            node.request("DELETE", "/bundles/" + TestBundles.BAD_ACTIVATOR, HttpRequest.BodyPublishers.noBody(),
                    node.token);
        }

        assertThat(deployedFiles()).isEqualTo(before);
        try (Stream<Path> s = Files.list(data.resolve("tmp"))) {
            assertThat(s.filter(p -> p.getFileName().toString().startsWith("upload-")).toList())
                    .as("temporary uploads removed").isEmpty();
        }
    }

    @Test
    void unknownRoutesAndMethodsGiveJsonErrors() throws Exception {
        HttpResponse<String> r404 = node.request("GET", "/nothing-here", HttpRequest.BodyPublishers.noBody(), node.token);
        assertThat(r404.statusCode()).isEqualTo(404);
        assertThat(NodeProcess.JSON.readTree(r404.body()).path("error").asText()).contains("no such route");
        HttpResponse<String> r405 = node.request("PUT", "/bundles", HttpRequest.BodyPublishers.noBody(), node.token);
        assertThat(r405.statusCode()).isEqualTo(405);
        HttpResponse<String> sys = node.request("DELETE", "/bundles/org.apache.felix.scr",
                HttpRequest.BodyPublishers.noBody(), node.token);
        assertThat(sys.statusCode()).isEqualTo(409);
        assertThat(sys.body()).contains("system bundle");
        HttpResponse<String> missing = node.request("DELETE", "/bundles/no.such.bundle",
                HttpRequest.BodyPublishers.noBody(), node.token);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(node.bundle("org.apache.felix.scr").path("state").asText()).isEqualTo("ACTIVE");
    }

    @Test
    void cliDeploysUpdatesAndUndeploysThroughTheNode() throws Exception {
        Path v1 = TestBundles.hello(jars, "1.0.0");
        Distribution.Result deploy = dist.run(tmp, "bundles", "deploy", v1.toString(), "--data", data.toString());
        assertThat(deploy.exit()).as(deploy.toString()).isZero();
        assertThat(deploy.out()).contains("Installed " + TestBundles.HELLO + " 1.0.0 on " + node.api)
                .contains(": ACTIVE");
        JsonNode b = node.bundle(TestBundles.HELLO);
        assertThat(b.path("state").asText()).isEqualTo("ACTIVE");
        long id = b.path("id").asLong();

        Path v2 = TestBundles.hello(jars, "2.0.0");
        Distribution.Result update = dist.run(tmp, "bundles", "deploy", v2.toString(), "--data", data.toString());
        assertThat(update.exit()).as(update.toString()).isZero();
        assertThat(update.out()).contains("Updated " + TestBundles.HELLO + " 2.0.0").contains("deploy/hello-1.0.0.jar");
        b = node.bundle(TestBundles.HELLO);
        assertThat(b.path("version").asText()).isEqualTo("2.0.0");
        assertThat(b.path("id").asLong()).isEqualTo(id);

        Distribution.Result bad = dist.run(tmp, "bundles", "deploy", TestBundles.badActivator(jars).toString(),
                "--data", data.toString());
        assertThat(bad.exit()).as(bad.toString()).isEqualTo(1);
        assertThat(bad.out()).contains("problem: ").contains("test activator refuses to start");
        assertThat(dist.run(tmp, "bundles", "undeploy", TestBundles.BAD_ACTIVATOR, "--data", data.toString()).exit())
                .isZero();

        Distribution.Result undeploy = dist.run(tmp, "bundles", "undeploy", TestBundles.HELLO, "--data",
                data.toString());
        assertThat(undeploy.exit()).as(undeploy.toString()).isZero();
        assertThat(undeploy.out()).contains("Undeployed " + TestBundles.HELLO);
        assertThat(node.bundle(TestBundles.HELLO)).isNull();

        // Explicit --node and --token, as from another machine.
        Distribution.Result remote = dist.run(tmp, "bundles", "list", "--node", node.api.getHost() + ":"
                + node.api.getPort(), "--token", node.token);
        assertThat(remote.exit()).as(remote.toString()).isZero();
        assertThat(remote.out()).contains("org.apache.felix.scr");
        Distribution.Result wrongToken = dist.run(tmp, "bundles", "list", "--node", node.api.getHost() + ":"
                + node.api.getPort(), "--token", "nope");
        assertThat(wrongToken.exit()).isEqualTo(1);
        assertThat(wrongToken.err()).contains("authentication required");
    }
}

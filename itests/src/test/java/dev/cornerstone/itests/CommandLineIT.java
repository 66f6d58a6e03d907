package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bin/cornerstone} with no node running: help, version, usage errors, local deploy. */
class CommandLineIT {

    @TempDir
    Path tmp;
    Distribution dist;

    @BeforeEach
    void copy() throws Exception {
        dist = Distribution.copyInto(tmp);
    }

    @Test
    void helpAndVersion() throws Exception {
        Distribution.Result help = dist.run(tmp, "--help");
        assertThat(help.exit()).isZero();
        assertThat(help.out()).contains("Usage: cornerstone").contains("node").contains("bundles");
        Distribution.Result version = dist.run(tmp, "--version");
        assertThat(version.exit()).isZero();
        assertThat(version.out()).contains("Cornerstone 0.").contains("Apache Felix 7.0.5");
        Distribution.Result bundlesHelp = dist.run(tmp, "bundles", "--help");
        assertThat(bundlesHelp.out()).contains("list").contains("deploy").contains("undeploy");
    }

    @Test
    void unknownOptionsAndCommandsExitWith2() throws Exception {
        Distribution.Result opt = dist.run(tmp, "--frobnicate");
        assertThat(opt.exit()).isEqualTo(2);
        assertThat(opt.err()).contains("Unknown option: '--frobnicate'").contains("--help");
        Distribution.Result sub = dist.run(tmp, "bundles", "list", "--colour");
        assertThat(sub.exit()).isEqualTo(2);
        assertThat(sub.err()).contains("Unknown option: '--colour'");
        Distribution.Result cmd = dist.run(tmp, "frobnicate");
        assertThat(cmd.exit()).isEqualTo(2);
        assertThat(cmd.err()).contains("frobnicate");
        Distribution.Result none = dist.run(tmp);
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("Usage: cornerstone");
        Distribution.Result port = dist.run(tmp, "node", "--port", "http");
        assertThat(port.exit()).isEqualTo(2);
        assertThat(port.err()).contains("--port");
    }

    @Test
    void listDeployUndeployOnTheDistributionWithoutANode() throws Exception {
        Distribution.Result list = dist.run(tmp, "bundles", "list");
        assertThat(list.exit()).as(list.toString()).isZero();
        assertThat(list.out()).contains("no node running").contains("org.apache.felix.scr").contains("STOPPED");

        Path hello = TestBundles.hello(tmp.resolve("jars"), "1.0.0");
        Distribution.Result deploy = dist.run(tmp, "bundles", "deploy", hello.toString());
        assertThat(deploy.exit()).as(deploy.toString()).isZero();
        assertThat(dist.deploy().resolve("hello-1.0.0.jar")).exists();
        assertThat(dist.run(tmp, "bundles", "list").out()).contains(TestBundles.HELLO);

        Path corrupt = TestBundles.corrupt(tmp);
        Distribution.Result bad = dist.run(tmp, "bundles", "deploy", corrupt.toString());
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains("corrupt.jar is not a valid jar");
        assertThat(dist.deploy().resolve("corrupt.jar")).doesNotExist();

        Distribution.Result missing = dist.run(tmp, "bundles", "deploy", tmp.resolve("nope.jar").toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("nope.jar: no such file");

        Distribution.Result undeploy = dist.run(tmp, "bundles", "undeploy", TestBundles.HELLO);
        assertThat(undeploy.exit()).as(undeploy.toString()).isZero();
        assertThat(dist.deploy().resolve("hello-1.0.0.jar")).doesNotExist();
        Distribution.Result again = dist.run(tmp, "bundles", "undeploy", TestBundles.HELLO);
        assertThat(again.exit()).isEqualTo(1);
        assertThat(again.err()).contains("nothing named '" + TestBundles.HELLO + "'");
    }

    @Test
    void anOlderJavaIsRefusedWithAClearMessage() throws Exception {
        Path jdk17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");
        assumeTrue(Files.isExecutable(jdk17.resolve("bin/java")), "no JDK 17 at " + jdk17 + " to try");
        ProcessBuilder pb = dist.command(java.util.List.of("--version")).redirectErrorStream(true);
        pb.environment().put("JAVA_HOME", jdk17.toString());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).isEqualTo(1);
        assertThat(out).contains("needs Java 25 or newer").contains("Java 17");
    }
}

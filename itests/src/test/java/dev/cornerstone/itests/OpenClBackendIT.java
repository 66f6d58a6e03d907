package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The opencl backend as the distribution ships it (in {@code deploy/}), on the machine's OpenCL
 * platform (PoCL in CI): {@code cornerstone backends} lists it with the devices found, a training
 * run on it works end to end, and a machine without any OpenCL platform gets one clear warning and
 * the cpu backend, not stack traces.
 */
class OpenClBackendIT {

    @TempDir
    static Path tmp;
    static Distribution dist;

    @BeforeAll
    static void copy() throws Exception {
        dist = Distribution.copyInto(tmp);
    }

    @Test
    void backendsListsTheOpenClDevicesFoundAndTheOneInUse() throws Exception {
        Distribution.Result r = dist.run(tmp, "backends");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).containsPattern("(?m)^cpu +CPU, ")
                .containsPattern("(?m)^opencl +\\S.*\\(.*compute units?, .*OpenCL \\d\\.\\d, driver .*platform 0 \".+\"\\)$")
                .contains("devices found:").containsPattern("(?m)^ +\\[0:\\d+\\] .* -- in use$");
        assertThat(Distribution.withoutIncubatorWarning(r.err())).doesNotContain("WARNING").doesNotContain("Exception");
    }

    @Test
    void trainingOnOpenClWorksEndToEnd() throws Exception {
        Path run = tmp.resolve("runs/opencl");
        Distribution.Result train = dist.run(tmp, "train", "--out", run.toString(), "--set", "backend.name=opencl",
                "--set", "model.n_layer=1", "--set", "model.n_head=2", "--set", "model.n_embd=32", "--set",
                "model.block_size=32", "--set", "train.batch_size=8", "--set", "train.steps=20", "--set",
                "train.eval_every=20", "--set", "train.eval_batches=2", "--set", "train.log_every=1", "--set",
                "train.checkpoint_every=10", "--set", "train.lr_schedule=constant", "--set", "optimizer.lr=3e-3");
        assertThat(train.exit()).as(train.toString()).isZero();
        assertThat(train.out()).contains("on opencl (").contains("step 20/20").contains("Done: 20 steps");
        JsonNode summary = NodeProcess.JSON.readTree(run.resolve("summary.json").toFile());
        assertThat(summary.path("backend").asText()).isEqualTo("opencl");
        assertThat(summary.path("final_val_loss").asDouble()).isLessThan(4.0);          // ln(vocab) is about 4.5
        Distribution.Result gen = dist.run(tmp, "generate", "--run", run.toString(), "--tokens", "30", "--prompt",
                "Call me");
        assertThat(gen.exit()).as(gen.toString()).isZero();
        assertThat(gen.out().strip()).startsWith("Call me");
    }

    /** PoCL computes on the same cores as the cpu backend, and slower: auto takes cpu unless OpenCL is on a GPU. */
    @Test
    void autoTakesTheCpuBackendOverOpenClOnTheCpu() throws Exception {
        Distribution.Result backends = dist.run(tmp, "backends");
        boolean openclOnGpu = backends.out().lines().anyMatch(l -> l.startsWith("opencl") && l.contains("(GPU, "));
        Distribution.Result train = dist.run(tmp, "train", "--out", tmp.resolve("runs/auto").toString(), "--set",
                "backend.name=auto", "--set", "model.n_layer=1", "--set", "model.n_head=2", "--set", "model.n_embd=32",
                "--set", "model.block_size=32", "--set", "train.batch_size=4", "--set", "train.steps=2", "--set",
                "train.eval_every=0", "--set", "train.checkpoint_every=0");
        assertThat(train.exit()).as(train.toString()).isZero();
        assertThat(train.out()).contains(openclOnGpu ? "on opencl (" : "on cpu (");
    }

    /** A device too small for the model: the run fails with one clear message and the container stops cleanly. */
    @Test
    void exhaustedDeviceMemoryFailsTheRunWithAClearMessage() throws Exception {
        Path home = Files.createDirectories(tmp.resolve("small-device"));
        Distribution small = Distribution.copyInto(home);
        Files.writeString(small.root.resolve("deploy/dev.cornerstone.backend.opencl.cfg"), "memoryLimitMiB=1\n");
        Path run = home.resolve("runs/too-big");
        Distribution.Result train = small.run(home, "train", "--out", run.toString(), "--set", "backend.name=opencl",
                "--set", "model.n_layer=2", "--set", "model.n_head=4", "--set", "model.n_embd=128", "--set",
                "model.block_size=64", "--set", "train.batch_size=8", "--set", "train.steps=5", "--set",
                "train.eval_every=0", "--set", "train.checkpoint_every=0");
        assertThat(train.exit()).as(train.toString()).isNotZero();
        String all = train.out() + train.err();
        assertThat(all).contains("device memory exhausted").contains("memory limit of 1.0 MiB")
                .contains("raise memoryLimitMiB").doesNotContain("\tat ").doesNotContain("still open");
        // nothing half-written: no checkpoint of a step that never ran
        assertThat(run.resolve("checkpoints")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(),
                p -> assertThat(p).isEmptyDirectory());
    }

    @Test
    void withoutAnOpenClPlatformOneWarningSaysWhatToInstall() throws Exception {
        Path noVendors = Files.createDirectories(tmp.resolve("no-opencl-vendors"));
        List<String> args = new ArrayList<>(List.of("backends"));
        ProcessBuilder pb = dist.command(args).directory(tmp.toFile());
        pb.environment().put("OCL_ICD_VENDORS", noVendors.toString());          // the ICD loader finds no platform
        Path out = tmp.resolve("no-opencl.out");
        Path err = tmp.resolve("no-opencl.err");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String stdout = Files.readString(out, StandardCharsets.UTF_8);
        String stderr = Files.readString(err, StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(stdout + stderr).isZero();
        assertThat(stdout).containsPattern("(?m)^cpu +CPU, ")
                .containsPattern("(?m)^opencl +not offered: opencl: no OpenCL device matches")
                .contains("no OpenCL platform is installed");
        assertThat(stderr).contains("the opencl backend is not offered: opencl: no OpenCL device matches")
                .contains("no OpenCL platform is installed").contains("apt-get install pocl-opencl-icd")
                .doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(stderr.split("the opencl backend is not offered", -1)).as("warned once").hasSize(2);
    }
}

package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

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
 * Training through the distribution as a user runs it: {@code bin/cornerstone train} on the
 * embedded corpus, then {@code generate} and {@code eval}; a run killed with SIGKILL and
 * resumed continues the exact loss sequence; a bad spec is refused naming the key.
 */
class TrainIT {

    /** A small, fast model: the test checks the plumbing; GptTrainingTest checks learning. */
    static final String[] SMALL = {"--set", "model.n_layer=1", "--set", "model.n_head=2", "--set", "model.n_embd=32",
        "--set", "model.block_size=32", "--set", "train.batch_size=8", "--set", "train.eval_every=20", "--set",
        "train.eval_batches=2", "--set", "train.log_every=1", "--set", "train.checkpoint_every=10", "--set",
        "train.lr_schedule=constant", "--set", "optimizer.lr=3e-3", "--set", "backend.name=cpu"};

    @TempDir
    static Path tmp;
    static Distribution dist;

    @BeforeAll
    static void copy() throws Exception {
        dist = Distribution.copyInto(tmp);
    }

    static String[] args(String... head) {
        List<String> a = new ArrayList<>(List.of(head));
        a.addAll(List.of(SMALL));
        return a.toArray(String[]::new);
    }

    static List<Double> losses(Path run) throws Exception {
        List<Double> l = new ArrayList<>();
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            l.add(NodeProcess.JSON.readTree(line).path("train_loss").asDouble());
        }
        return l;
    }

    @Test
    void trainGenerateEvalOnTheEmbeddedCorpus() throws Exception {
        Path run = tmp.resolve("runs/small");
        Distribution.Result train = dist.run(tmp, args("train", "--out", run.toString(), "--set", "train.steps=40"));
        assertThat(train.exit()).as(train.toString()).isZero();
        assertThat(train.out()).contains("step 40/40").contains("Done: 40 steps").doesNotContain("\r");
        assertThat(Distribution.withoutIncubatorWarning(train.err())).doesNotContain("WARNING:");
        for (String f : List.of("spec.json", "tokenizer.json", "metrics.jsonl", "summary.json",
                "checkpoints/step-000040/manifest.json", "checkpoints/step-000040/model.safetensors")) {
            assertThat(run.resolve(f)).as(f).exists();
        }
        JsonNode summary = NodeProcess.JSON.readTree(run.resolve("summary.json").toFile());
        assertThat(summary.path("steps").asInt()).isEqualTo(40);
        assertThat(summary.path("backend").asText()).isEqualTo("cpu");
        assertThat(summary.path("final_val_loss").asDouble()).isLessThan(3.6); // ln(90) = 4.5 at the start
        JsonNode spec = NodeProcess.JSON.readTree(run.resolve("spec.json").toFile());
        assertThat(spec.path("model").path("vocab_size").asInt()).isEqualTo(90);
        assertThat(spec.path("train").path("seed").asLong()).isEqualTo(1337);
        JsonNode first = NodeProcess.JSON.readTree(Files.readAllLines(run.resolve("metrics.jsonl")).getFirst());
        assertThat(first.has("step") && first.has("train_loss") && first.has("lr") && first.has("tokens_per_sec")
                && first.has("elapsed_s")).as(first.toString()).isTrue();
        // where each step's time went: the phases are parts of the step, so they add up to at
        // most its wall time (tokens / tokens_per_sec), and the thread's CPU cannot exceed it either
        for (String line : Files.readAllLines(run.resolve("metrics.jsonl"))) {
            JsonNode m = NodeProcess.JSON.readTree(line);
            double stepMs = 1000.0 * 8 * 32 / m.path("tokens_per_sec").asDouble(); // SMALL: batch 8 x block 32
            double phases = m.path("compute_ms").asDouble(-1) + m.path("sync_ms").asDouble(-1)
                    + m.path("update_ms").asDouble(-1);
            assertThat(m.path("compute_ms").asDouble(-1)).as(line).isPositive();
            assertThat(m.path("sync_ms").asDouble(-1)).as(line).isZero(); // one process: nothing to sync
            assertThat(m.path("update_ms").asDouble(-1)).as(line).isPositive();
            assertThat(phases).as(line).isLessThanOrEqualTo(stepMs * 1.02 + 0.1);
            assertThat(m.path("step_thread_cpu_ms").asDouble(-1)).as(line).isPositive()
                    .isLessThanOrEqualTo(stepMs * 1.02 + 1);
        }

        Distribution.Result gen = dist.run(tmp, "generate", "--run", run.toString(), "--prompt", "Call me",
                "--tokens", "50", "--seed", "3");
        assertThat(gen.exit()).as(gen.toString()).isZero();
        assertThat(gen.out().strip()).startsWith("Call me").hasSizeGreaterThan(50);
        Distribution.Result again = dist.run(tmp, "generate", "--run", run.toString(), "--prompt", "Call me",
                "--tokens", "50", "--seed", "3");
        assertThat(again.out()).as("same seed, same text").isEqualTo(gen.out());

        Distribution.Result eval = dist.run(tmp, "eval", "--run", run.toString(), "--batches", "3");
        assertThat(eval.exit()).as(eval.toString()).isZero();
        assertThat(eval.out()).startsWith("loss ").contains("nats/token");
        Distribution.Result evalFile = dist.run(tmp, "eval", "--run", run.toString(), "--batches", "2", "--data",
                dist.root.resolve("data/moby-dick.txt").toString());
        assertThat(evalFile.exit()).as(evalFile.toString()).isZero();
    }

    @Test
    void killedWithSigkillAndResumedContinuesTheExactLossSequence() throws Exception {
        Path full = tmp.resolve("runs/full");
        Path cut = tmp.resolve("runs/cut");
        Distribution.Result reference = dist.run(tmp, args("train", "--out", full.toString(), "--set",
                "train.steps=40"));
        assertThat(reference.exit()).as(reference.toString()).isZero();

        ProcessBuilder pb = dist.command(List.of(args("train", "--out", cut.toString(), "--set", "train.steps=40")))
                .directory(tmp.toFile()).redirectErrorStream(true).redirectOutput(tmp.resolve("cut.log").toFile());
        Process p = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline && p.isAlive()) {
            if (Files.exists(cut.resolve("checkpoints/step-000020")) && Files.exists(cut.resolve("metrics.jsonl"))
                    && Files.readAllLines(cut.resolve("metrics.jsonl")).size() >= 23) {
                break;
            }
            Thread.sleep(20);
        }
        assertThat(p.isAlive()).as("the run was still going when killed:\n" + Files.readString(tmp.resolve("cut.log")))
                .isTrue();
        p.destroyForcibly(); // SIGKILL
        p.waitFor(10, TimeUnit.SECONDS);
        assertThat(Files.exists(cut.resolve("summary.json"))).isFalse();

        Distribution.Result resumed = dist.run(tmp, "train", "--resume", cut.toString());
        assertThat(resumed.exit()).as(resumed.toString()).isZero();
        assertThat(losses(cut)).hasSize(40).isEqualTo(losses(full));
    }

    @Test
    void aBadSpecIsRefusedNamingTheKey() throws Exception {
        Path spec = tmp.resolve("bad.yaml");
        Files.writeString(spec, "model: {name: gpt, n_head: 3, n_embd: 64}\ntrain: {steps: 5, batch_sise: 4}\n");
        Distribution.Result r = dist.run(tmp, "train", spec.toString(), "--out", tmp.resolve("runs/bad").toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.err()).contains("train.batch_sise is not a known key");
        Distribution.Result heads = dist.run(tmp, "train", "--set", "model.n_head=3", "--set", "model.n_embd=64",
                "--set", "train.steps=1", "--out", tmp.resolve("runs/bad2").toString());
        assertThat(heads.exit()).isEqualTo(1);
        assertThat(heads.err()).contains("model.n_embd=64 must be divisible by model.n_head=3");
        Distribution.Result missing = dist.run(tmp, "train", tmp.resolve("nope.yaml").toString());
        assertThat(missing.exit()).isEqualTo(1);
        assertThat(missing.err()).contains("nope.yaml: no such spec file");
        Distribution.Result threads = dist.run(tmp, "train", "--set", "backend.threads=2", "--set", "train.steps=1",
                "--out", tmp.resolve("runs/bad4").toString());
        assertThat(threads.exit()).isEqualTo(1);
        assertThat(threads.err()).contains("backend.threads is not a key").contains("dev.cornerstone.backend.cpu.cfg");
        Distribution.Result opt = dist.run(tmp, "train", "--set", "optimizer.name=lion", "--set", "train.steps=1",
                "--out", tmp.resolve("runs/bad3").toString());
        assertThat(opt.exit()).isEqualTo(1);
        assertThat(opt.err()).contains("lion");
    }
}

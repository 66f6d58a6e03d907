package dev.cornerstone.model.gpt;

import java.util.SplittableRandom;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;
import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.autograd.GradStore;
import dev.cornerstone.core.autograd.Graph;
import dev.cornerstone.core.autograd.Tape;

/**
 * Where the memory of a training step of GPT config B goes: bytes held by the backend after
 * the forward pass (activations), after the backward pass, and the process's peak RSS. A
 * developer's tool, not a test.
 *
 * <pre>java -cp ... dev.cornerstone.model.gpt.GptMemoryProfile</pre>
 */
public final class GptMemoryProfile {

    public static void main(String[] args) throws java.io.IOException {
        int b = 16;
        int t = 256;
        try (CpuBackend be = new CpuBackend(2); Gpt gpt = new Gpt(be, new GptConfig(6, 6, 384, t, 90, 0f, true), 1);
             GradStore grads = new GradStore(be)) {
            long params = be.liveBytes();
            int[] ids = new int[b * t];
            SplittableRandom r = new SplittableRandom(1);
            for (int i = 0; i < ids.length; i++) {
                ids[i] = r.nextInt(90);
            }
            for (int step = 0; step < 2; step++) {
                try (Tape tape = new Tape(be)) {
                    Tensor x = be.allocate(Shape.of(b, t), DType.I32);
                    Tensor y = be.allocate(Shape.of(b, t), DType.I32);
                    be.writeInts(x, 0, ids, 0, ids.length);
                    be.writeInts(y, 0, ids, 0, ids.length);
                    Graph g = new Graph(be, tape, grads, true, 1);
                    var loss = g.crossEntropy(gpt.forward(g, x), y);
                    long afterForward = be.liveBytes();
                    tape.backward(loss, 1f);
                    long afterBackward = be.liveBytes();
                    System.out.printf("step %d: parameters %d MiB; after forward %d MiB; after backward %d MiB%n", step,
                            params >> 20, afterForward >> 20, afterBackward >> 20);
                    x.close();
                    y.close();
                }
            }
            System.out.println(java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("VmHWM") || l.startsWith("VmRSS")).toList());
        }
    }
}

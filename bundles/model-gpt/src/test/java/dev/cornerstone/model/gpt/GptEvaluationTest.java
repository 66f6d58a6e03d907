package dev.cornerstone.model.gpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;

import dev.cornerstone.backend.cpu.CpuBackend;
import dev.cornerstone.core.train.LrSchedule;
import dev.cornerstone.core.train.Trainer;
import org.junit.jupiter.api.Test;

/**
 * Evaluation over every window of a split ({@link Trainer#evaluateAll}): the mean per token
 * does not depend on the batch size, a partial last batch included, so a comparison with
 * another framework sees the same text whatever batching each uses.
 */
class GptEvaluationTest {

    private static final GptConfig CFG = new GptConfig(2, 2, 16, 8, 13, 0f, true);

    private static Trainer trainer(CpuBackend be, Gpt gpt, int batchSize, int[] tokens) {
        return new Trainer(be, gpt, null, tokens, tokens,
                new Trainer.Config(batchSize, 1, 1, 0, 0, 1, 1, new LrSchedule.Constant(1e-3f)));
    }

    @Test
    void theMeanOverAllWindowsDoesNotDependOnTheBatchSize() {
        int[] tokens = new int[8 * 7 + 5];                  // 7 windows of 8, and 4 tokens left over
        SplittableRandom r = new SplittableRandom(3);
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(CFG.vocabSize());
        }
        try (CpuBackend be = new CpuBackend(2); Gpt gpt = new Gpt(be, CFG, 11)) {
            float one;
            try (Trainer t = trainer(be, gpt, 1, tokens)) {
                one = t.evaluateAll(tokens);
            }
            for (int batch : new int[] {2, 3, 7, 32}) {
                try (Trainer t = trainer(be, gpt, batch, tokens)) {
                    assertThat(t.evaluateAll(tokens)).as("batch size %d", batch).isCloseTo(one, within(1e-5f));
                }
            }
            // a random model over 13 symbols is near ln 13
            assertThat(one).isCloseTo((float) Math.log(13), within(0.3f));
        }
    }

    @Test
    void aSplitShorterThanAWindowIsAClearError() {
        try (CpuBackend be = new CpuBackend(1); Gpt gpt = new Gpt(be, CFG, 1); Trainer t = trainer(be, gpt, 2,
                new int[20])) {
            assertThatThrownBy(() -> t.evaluateAll(new int[] {1, 2, 3}))
                    .hasMessageContaining("block_size 8");
        }
    }
}

package dev.cornerstone.data.text;

import dev.cornerstone.api.data.Dataset;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The pre-training corpus, {@code moby-dick.txt} (1,220,849 bytes, 89 distinct characters per its README). */
class MobyDickTest {

    /**
     * Python's {@code ''.join(sorted(set(open("moby-dick.txt", encoding="utf-8").read())))}: the
     * vocabulary nanoGPT's {@code shakespeare_char/prepare.py} would build.
     */
    private static final String PYTHON_VOCABULARY =
            "\n !\"$&'()*,-.0123456789:;?ABCDEFGHIJKLMNOPQRSTUVWXYZ[]abcdefghijklmnopqrstuvwxyzŒηοςτϰחן—";

    private static final int BYTES = 1_220_849;
    private static final int CHARACTERS = 1_217_397;

    private static Path file;
    private static String text;

    @BeforeAll
    static void read() throws IOException {
        file = SharedData.file("moby-dick.txt");
        text = Files.readString(file, StandardCharsets.UTF_8);
    }

    private final TextDatasetProvider provider = new TextDatasetProvider();

    @Test
    void theCorpusIsTheOneTheReadmeDescribes() throws IOException {
        assertThat(Files.size(file)).isEqualTo(BYTES);
        assertThat(text.codePointCount(0, text.length())).isEqualTo(CHARACTERS);
    }

    @Test
    void charVocabularyIsPythonsSortedSetPlusUnk() {
        Dataset data = provider.open(Map.of("path", file.toString()), file.getParent());
        var tokenizer = (CharTokenizer) data.tokenizer();
        assertThat(tokenizer.chars()).isEqualTo(PYTHON_VOCABULARY);
        assertThat(tokenizer.chars().codePointCount(0, tokenizer.chars().length())).isEqualTo(89);
        assertThat(tokenizer.vocabSize()).isEqualTo(90);
        assertThat(tokenizer.unknownId()).isEqualTo(89);
        assertThat(tokenizer.encode("\n A")).containsExactly(0, 1, 26);
        assertThat(tokenizer.decode(new int[] {88})).isEqualTo("—");
    }

    @Test
    void charTokensRoundTripAndSplitAsNanoGpt() {
        Dataset data = provider.open(Map.of("path", "moby-dick.txt"), file.getParent());
        // int(1217397 * 0.9) = 1095657
        assertThat(data.train()).hasSize(1_095_657);
        assertThat(data.validation()).hasSize(CHARACTERS - 1_095_657);
        assertThat(data.tokenizer().decode(concat(data))).isEqualTo(text);
        assertThat(data.source()).contains("1220849 bytes, 1217397 characters", "char tokenizer (90 ids)");
    }

    @Test
    void theDescriptionRebuildsTheVocabulary() {
        Dataset data = provider.open(Map.of("path", "moby-dick.txt"), file.getParent());
        var rebuilt = provider.tokenizer(data.tokenizer().describe());
        assertThat(rebuilt.encode(text)).isEqualTo(concat(data));
    }

    @Test
    void byteTokensAreTheFileBytes() throws IOException {
        Dataset data = provider.open(Map.of("path", "moby-dick.txt", "tokenizer", "byte"), file.getParent());
        int[] all = concat(data);
        assertThat(all).hasSize(BYTES);
        byte[] bytes = Files.readAllBytes(file);
        assertThat(IntStream.range(0, BYTES).allMatch(i -> all[i] == (bytes[i] & 0xFF))).isTrue();
        assertThat(data.tokenizer().decode(all)).isEqualTo(text);
    }

    private static int[] concat(Dataset data) {
        return IntStream.concat(IntStream.of(data.train()), IntStream.of(data.validation())).toArray();
    }
}

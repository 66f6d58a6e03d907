package dev.cornerstone.data.text;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/**
 * The text of a corpus: one UTF-8 file, or a folder whose {@code *.txt} files (not those of its
 * subfolders; the suffix is case-sensitive) are read in sorted name order and joined with
 * {@code "\n"}.
 *
 * <p>The text is what Python's {@code open(path).read()} gives nanoGPT, so vocabularies agree:
 * line ends are normalized ({@code \r\n} and a lone {@code \r} become {@code \n}, Python's universal
 * newlines), and a leading byte order mark is dropped (an encoding mark, not a character of the
 * text). Malformed UTF-8 is an error naming the file and the byte offset; it is never replaced
 * silently, since the replacement character would enter the vocabulary.
 *
 * @param text     the whole corpus
 * @param location the file or folder, absolute
 * @param files    the files read, in order
 * @param bytes    their total size on disk
 */
public record TextCorpus(String text, Path location, List<Path> files, long bytes) {

    /** The only files of a folder that are read. */
    public static final String SUFFIX = ".txt";

    private static final String KEY = TextDataConfig.SECTION + TextDataConfig.PATH;

    public TextCorpus {
        files = List.copyOf(files);
    }

    /**
     * @throws IllegalArgumentException naming {@code data.path} and the file when it is missing,
     *                                  unreadable, not UTF-8, or when the corpus is empty
     */
    public static TextCorpus read(Path path) {
        Path location = path.toAbsolutePath().normalize();
        List<Path> files;
        if (Files.isRegularFile(location)) {
            files = List.of(location);
        } else if (Files.isDirectory(location)) {
            files = textFiles(location);
        } else {
            throw new IllegalArgumentException(KEY + ": file not found: " + location);
        }
        var text = new StringBuilder();
        long bytes = 0;
        for (int i = 0; i < files.size(); i++) {
            if (i > 0) {
                text.append('\n');
            }
            byte[] content = readBytes(files.get(i));
            bytes += content.length;
            text.append(normalizeLineEnds(withoutBom(decode(files.get(i), content))));
        }
        if (text.isEmpty()) {
            throw new IllegalArgumentException(KEY + ": the corpus is empty: " + location
                    + (files.size() > 1 ? " (" + files.size() + " files, all empty)" : ""));
        }
        return new TextCorpus(text.toString(), location, files, bytes);
    }

    /** For a run's records: where the text came from and how much of it there is. */
    public String describe() {
        String what = files.size() == 1 && files.getFirst().equals(location)
                ? "file " + location
                : "folder " + location + " (" + files.size() + " *" + SUFFIX + " files)";
        return what + ", " + bytes + " bytes, " + text.codePointCount(0, text.length()) + " characters";
    }

    private static List<Path> textFiles(Path folder) {
        List<Path> files;
        try (Stream<Path> entries = Files.list(folder)) {
            files = entries
                    .filter(p -> p.getFileName().toString().endsWith(SUFFIX) && Files.isRegularFile(p))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new IllegalArgumentException(KEY + ": cannot list folder " + folder + ": " + e, e);
        }
        if (files.isEmpty()) {
            throw new IllegalArgumentException(KEY + ": folder " + folder + " has no *" + SUFFIX + " files");
        }
        return files;
    }

    private static byte[] readBytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IllegalArgumentException(KEY + ": cannot read " + file + ": " + e, e);
        }
    }

    private static String decode(Path file, byte[] content) {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer in = ByteBuffer.wrap(content);
        // UTF-8 never gives more chars than bytes.
        CharBuffer out = CharBuffer.allocate(content.length);
        CoderResult result = decoder.decode(in, out, true);
        if (!result.isError()) {
            result = decoder.flush(out);
        }
        if (result.isError()) {
            throw new IllegalArgumentException(KEY + ": " + file + " is not valid UTF-8: malformed byte sequence at byte offset "
                    + in.position());
        }
        return out.flip().toString();
    }

    private static String withoutBom(String text) {
        return text.startsWith("\uFEFF") ? text.substring(1) : text;
    }

    private static String normalizeLineEnds(String text) {
        return text.indexOf('\r') < 0 ? text : text.replace("\r\n", "\n").replace('\r', '\n');
    }
}

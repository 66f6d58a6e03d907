package dev.cornerstone.configjson;

import java.io.Serial;

/**
 * A {@code .cfg.json} file that is not a valid configuration.
 *
 * <p>The message is meant for the person who edits the file, so it carries everything needed to
 * find the mistake without opening a debugger: the file, the line and column where they are
 * known, the key whose value is wrong, and what is wrong, for example
 * {@code deploy/app.cfg.json line 3, column 19: key "port:Integer": 80.5 is not an Integer}.
 * The parts are also available one by one for callers that want to present them differently.
 *
 * <p>It is a checked exception on purpose: a broken file is an expected event in a folder people
 * edit by hand, and the caller must decide what happens to the configuration it would have made.
 */
public final class CfgJsonException extends Exception {

    @Serial
    private static final long serialVersionUID = 1L;

    private final String fileName;
    private final String key;
    private final int line;
    private final int column;
    private final String detail;

    /**
     * @param fileName the file as it should appear in the message
     * @param key      the key as written in the file, including any type suffix; {@code null}
     *                 when the problem is not about one key (empty file, top level not an object)
     * @param line     1-based line, or a value below 1 when unknown
     * @param column   1-based column, or a value below 1 when unknown
     * @param detail   what is wrong, without file, position or key
     * @param cause    the underlying parser exception, or {@code null}
     */
    public CfgJsonException(String fileName, String key, int line, int column, String detail, Throwable cause) {
        super(format(fileName, key, line, column, detail), cause);
        this.fileName = fileName;
        this.key = key;
        this.line = line;
        this.column = column;
        this.detail = detail;
    }

    private static String format(String fileName, String key, int line, int column, String detail) {
        var message = new StringBuilder(fileName);
        if (line > 0) {
            message.append(" line ").append(line);
            if (column > 0) {
                message.append(", column ").append(column);
            }
        }
        message.append(": ");
        if (key != null) {
            message.append("key \"").append(key).append("\": ");
        }
        return message.append(detail).toString();
    }

    /** The file the error is in, as given to the parser. */
    public String fileName() {
        return fileName;
    }

    /** The key as written in the file (with its type suffix), or {@code null} if none applies. */
    public String key() {
        return key;
    }

    /** The 1-based line of the error, or a value below 1 when unknown. */
    public int line() {
        return line;
    }

    /** The 1-based column of the error, or a value below 1 when unknown. */
    public int column() {
        return column;
    }

    /** What is wrong, without the file, position and key that {@link #getMessage()} adds. */
    public String detail() {
        return detail;
    }
}

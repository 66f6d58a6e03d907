package dev.cornerstone.launcher;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.logging.ConsoleHandler;
import java.util.logging.FileHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Logging for a node: everything goes through java.util.logging (Felix, File Install,
 * Vert.x, Netty and Hazelcast all log there without an SLF4J mediator), to the console
 * and to a rotating file {@code <data>/log/cornerstone.N.log}.
 */
public final class Logging {

    /** Bytes per log file before it rotates. */
    static final int FILE_LIMIT_BYTES = 10 * 1024 * 1024;
    /** Log files kept: cornerstone.0.log (newest) to cornerstone.4.log. */
    static final int FILE_COUNT = 5;

    /** Loggers whose level is set here: held strongly, or JUL may forget the level. */
    private static final java.util.List<Logger> CONFIGURED = new java.util.concurrent.CopyOnWriteArrayList<>();

    private Logging() {
    }

    private static void quiet(String name, Level level) {
        Logger l = Logger.getLogger(name);
        l.setLevel(level);
        CONFIGURED.add(l);
    }

    /**
     * Sends the root logger to the console and to a rotating file under {@code logDir}.
     * Returns the path pattern of the log file.
     */
    public static Path configure(Path logDir, Level level) throws IOException {
        Files.createDirectories(logDir);
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.setLevel(level);
        OneLineFormatter formatter = new OneLineFormatter();

        Handler console = new ConsoleHandler();
        console.setLevel(level);
        console.setFormatter(formatter);
        root.addHandler(console);

        Path pattern = logDir.resolve("cornerstone.%g.log");
        FileHandler file = new FileHandler(pattern.toString(), FILE_LIMIT_BYTES, FILE_COUNT, true);
        file.setLevel(level);
        file.setFormatter(formatter);
        file.setEncoding("UTF-8");
        root.addHandler(file);

        // Chatty third-party loggers: their INFO lines are noise for a node's operator.
        quietThirdParty();
        return logDir.resolve("cornerstone.0.log");
    }

    /** For commands that do not run a node: warnings and errors on the console only. */
    public static void configureConsoleOnly(Level level) {
        LogManager.getLogManager().reset();
        Logger root = Logger.getLogger("");
        root.setLevel(level);
        Handler console = new ConsoleHandler();
        console.setLevel(level);
        console.setFormatter(new OneLineFormatter());
        root.addHandler(console);
        quietThirdParty();
    }

    private static void quietThirdParty() {
        quiet("com.hazelcast", Level.WARNING);
        quiet("io.netty", Level.WARNING);
        // Hazelcast's OSGi activator warns at every start that the JDK has no JavaScript
        // engine; Hazelcast's scripting is not used by Cornerstone.
        quiet("com.hazelcast.osgi.impl.OSGiScriptEngineManager", Level.SEVERE);
    }

    /** Flushes and closes every handler; called last during shutdown. */
    public static void close() {
        NodeLogManager.finish();
        for (Handler h : Logger.getLogger("").getHandlers()) {
            h.flush();
            h.close();
        }
    }

    /** {@code 2026-11-29 23:59:01.123 INFO  [logger] message}, then the stack trace if any. */
    static final class OneLineFormatter extends Formatter {
        private static final DateTimeFormatter TIME =
                DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

        @Override
        public String format(LogRecord r) {
            StringBuilder sb = new StringBuilder(160);
            sb.append(TIME.format(Instant.ofEpochMilli(r.getMillis()))).append(' ');
            sb.append(levelName(r.getLevel())).append(' ');
            sb.append('[').append(shortName(r.getLoggerName())).append("] ");
            sb.append(formatMessage(r)).append(System.lineSeparator());
            if (r.getThrown() != null) {
                StringWriter sw = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(sw));
                sb.append(sw);
            }
            return sb.toString();
        }

        private static String levelName(Level level) {
            int v = level.intValue();
            if (v >= Level.SEVERE.intValue()) return "ERROR";
            if (v >= Level.WARNING.intValue()) return "WARN ";
            if (v >= Level.INFO.intValue()) return "INFO ";
            return "DEBUG";
        }

        private static String shortName(String name) {
            if (name == null || name.isEmpty()) return "root";
            return name;
        }
    }
}

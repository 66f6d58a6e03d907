package dev.cornerstone.launcher;

import java.util.logging.LogManager;

/**
 * Keeps the handlers open while the node's own shutdown hook still logs: the JDK's
 * LogManager resets (closes) every handler in a shutdown hook of its own, which would
 * swallow the "stopped" lines. Installed with {@code -Djava.util.logging.manager}.
 */
public final class NodeLogManager extends LogManager {
    private static volatile boolean shuttingDown;

    @Override
    public void reset() {
        if (!shuttingDown && isShutdownInProgress()) {
            return; // the JDK's own cleaner; Logging.close() runs last instead
        }
        super.reset();
    }

    private static boolean isShutdownInProgress() {
        try {
            Thread probe = new Thread(() -> { });
            Runtime.getRuntime().addShutdownHook(probe);
            Runtime.getRuntime().removeShutdownHook(probe);
            return false;
        } catch (IllegalStateException e) {
            return true;
        }
    }

    static void finish() {
        shuttingDown = true;
    }
}

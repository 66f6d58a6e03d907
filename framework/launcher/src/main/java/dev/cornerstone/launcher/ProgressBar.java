package dev.cornerstone.launcher;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * Training progress for people: on a terminal, one line redrawn in place
 * ({@code [=====>     ] 120/2000  loss 2.134  val 2.201  15.2k tok/s  ETA 3m12s});
 * otherwise a plain line per logged step, so logs and pipes stay readable.
 */
final class ProgressBar {

    private static final int WIDTH = 28;

    private final PrintStream out;
    private final boolean terminal;
    private double lastVal = Double.NaN;
    private long lastDraw;

    ProgressBar(PrintStream out, boolean terminal) {
        this.out = out;
        this.terminal = terminal;
    }

    static boolean isTerminal() {
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    void accept(Map<String, Object> event) {
        switch (String.valueOf(event.get("event"))) {
            case "start" -> out.printf(Locale.ROOT, "Training %,d parameters on %s (%s), from step %s to %s%n",
                    ((Number) event.get("parameters")).longValue(), event.get("backend"), event.get("device"),
                    event.get("step"), event.get("steps"));
            case "step" -> step(event);
            default -> { }
        }
    }

    private void step(Map<String, Object> e) {
        int step = ((Number) e.get("step")).intValue();
        int steps = ((Number) e.get("steps")).intValue();
        double loss = ((Number) e.get("train_loss")).doubleValue();
        if (e.get("val_loss") instanceof Number v) {
            lastVal = v.doubleValue();
        }
        double tps = ((Number) e.get("tokens_per_sec")).doubleValue();
        double eta = ((Number) e.get("eta_s")).doubleValue();
        String val = Double.isNaN(lastVal) ? "" : String.format(Locale.ROOT, "  val %.4f", lastVal);
        if (terminal) {
            long now = System.nanoTime();
            if (now - lastDraw < 100_000_000L && step < steps && e.get("val_loss") == null) {
                return; // redraw at most 10 times a second
            }
            lastDraw = now;
            int filled = (int) ((long) WIDTH * step / steps);
            String bar = "=".repeat(Math.max(0, filled - 1)) + (filled > 0 ? (step == steps ? "=" : ">") : "")
                    + " ".repeat(WIDTH - filled);
            out.printf(Locale.ROOT, "\r[%s] %d/%d  loss %.4f%s  %s tok/s  ETA %s   ", bar, step, steps, loss, val,
                    human(tps), duration(eta));
            if (step == steps) {
                out.println();
            }
            out.flush();
        } else if (Boolean.TRUE.equals(e.get("logged"))) {
            out.printf(Locale.ROOT, "step %d/%d  loss %.4f%s  lr %.2e  %.0f tok/s  ETA %s%s%n", step, steps, loss, val,
                    ((Number) e.get("lr")).doubleValue(), tps, duration(eta),
                    e.get("checkpoint") == null ? "" : "  checkpoint " + e.get("checkpoint"));
        }
    }

    static String human(double v) {
        return v >= 1e6 ? String.format(Locale.ROOT, "%.1fM", v / 1e6)
                : v >= 1e3 ? String.format(Locale.ROOT, "%.1fk", v / 1e3) : String.format(Locale.ROOT, "%.0f", v);
    }

    static String duration(double seconds) {
        long s = Math.round(seconds);
        if (s >= 3600) {
            return s / 3600 + "h" + (s % 3600) / 60 + "m";
        }
        return s >= 60 ? s / 60 + "m" + s % 60 + "s" : s + "s";
    }
}

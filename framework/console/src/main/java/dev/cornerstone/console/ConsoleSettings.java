package dev.cornerstone.console;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * The console's configuration. Each key is read from the Config Admin configuration of PID
 * {@value #PID} (for example {@code deploy/dev.cornerstone.console.cfg}, key {@code port}),
 * else from the framework property {@code console.KEY} (a line {@code console.port=8090} in
 * {@code conf/cornerstone.properties}), else its default. Every value is checked; an error
 * names the key, the value and what is allowed.
 *
 * @param enabled           whether the console runs at all
 * @param host              address to bind
 * @param port              first port to try; 0 for any free port
 * @param portAttempts      ports tried from {@code port} on while they are taken
 * @param uploadMaxBytes    largest bundle upload
 * @param sessionTimeoutMinutes a session unused this long ends
 * @param cookieSecure      set the Secure flag on the session cookie (behind a TLS proxy)
 * @param home              the distribution's folder
 * @param dataDir           the node's data folder (temporary uploads go to its tmp/)
 * @param tokenFile         the node's token, which signs in as user {@code token}
 * @param usersFile         more users with salted password hashes (see {@link Users})
 */
public record ConsoleSettings(boolean enabled, String host, int port, int portAttempts, long uploadMaxBytes,
                              int sessionTimeoutMinutes, boolean cookieSecure, Path home, Path dataDir,
                              Path tokenFile, Path usersFile) {

    public static final String PID = "dev.cornerstone.console";
    static final int DEFAULT_PORT = 8080;
    static final long DEFAULT_UPLOAD_MAX = 64L * 1024 * 1024;

    /** Keys of the configuration, with what each allows. */
    static final Map<String, String> KEYS = Map.of(
            "enabled", "true or false",
            "host", "an address to bind, such as 127.0.0.1 or 0.0.0.0",
            "port", "a port number 0..65535 (0: any free port)",
            "port.attempts", "a whole number 1..100",
            "upload.max.bytes", "a whole number of bytes 1..4294967296",
            "session.timeout.minutes", "a whole number of minutes 1..10080",
            "cookie.secure", "true or false",
            "token.file", "a path (relative to the distribution's folder)",
            "users.file", "a path (relative to the distribution's folder)");

    /** Keys Config Admin, File Install and Declarative Services add to a component's properties. */
    private static boolean managed(String key) {
        return key.startsWith("service.") || key.startsWith("component.") || key.startsWith("felix.")
                || key.startsWith("osgi.") || key.equals("objectClass") || key.startsWith(".");
    }

    /**
     * @param config    the Config Admin properties (empty when there is no configuration)
     * @param framework framework properties; null for a key that is not set
     */
    public static ConsoleSettings from(Map<String, ?> config, Function<String, String> framework) {
        Set<String> unknown = new TreeSet<>();
        for (String k : config.keySet()) {
            if (!managed(k) && !KEYS.containsKey(k)) {
                unknown.add(k);
            }
        }
        if (!unknown.isEmpty()) {
            throw new IllegalArgumentException("console configuration (PID " + PID + "): " + String.join(", ", unknown)
                    + (unknown.size() == 1 ? " is not a known key" : " are not known keys") + "; known keys: "
                    + String.join(", ", new TreeSet<>(KEYS.keySet())));
        }
        Reader r = new Reader(config, framework);
        String homeProp = framework.apply("cornerstone.home");
        if (homeProp == null || homeProp.isBlank()) {
            throw new IllegalArgumentException("framework property cornerstone.home is not set: the console runs in a "
                    + "node started by bin/cornerstone");
        }
        Path home = Path.of(homeProp).toAbsolutePath().normalize();
        String dataProp = framework.apply("cornerstone.data");
        Path data = dataProp == null || dataProp.isBlank() ? home.resolve("data") : Path.of(dataProp)
                .toAbsolutePath().normalize();
        String host = r.string("host", "127.0.0.1");
        return new ConsoleSettings(r.bool("enabled", true), host, (int) r.integer("port", DEFAULT_PORT, 0, 65535),
                (int) r.integer("port.attempts", 20, 1, 100),
                r.integer("upload.max.bytes", DEFAULT_UPLOAD_MAX, 1, 4L * 1024 * 1024 * 1024),
                (int) r.integer("session.timeout.minutes", 8 * 60, 1, 7 * 24 * 60), r.bool("cookie.secure", false),
                home, data, home.resolve(r.string("token.file", "conf/api-token")).normalize(),
                home.resolve(r.string("users.file", "conf/console-users")).normalize());
    }

    /** Reads a key from the configuration, then the framework properties; errors say where the value came from. */
    private record Reader(Map<String, ?> config, Function<String, String> framework) {

        private Object raw(String key) {
            Object v = config.get(key);
            return v != null ? v : framework.apply("console." + key);
        }

        private String where(String key) {
            return config.get(key) != null ? "console configuration (PID " + PID + "): " + key
                    : "conf/cornerstone.properties: console." + key;
        }

        String string(String key, String def) {
            Object v = raw(key);
            if (v == null) {
                return def;
            }
            String s = String.valueOf(v).trim();
            if (s.isEmpty()) {
                throw new IllegalArgumentException(where(key) + " is empty; expected " + KEYS.get(key));
            }
            return s;
        }

        boolean bool(String key, boolean def) {
            Object v = raw(key);
            if (v == null) {
                return def;
            }
            if (v instanceof Boolean b) {
                return b;
            }
            String s = String.valueOf(v).trim().toLowerCase(Locale.ROOT);
            if (s.equals("true") || s.equals("false")) {
                return s.equals("true");
            }
            throw new IllegalArgumentException(where(key) + "=" + v + " is not allowed; expected " + KEYS.get(key));
        }

        long integer(String key, long def, long min, long max) {
            Object v = raw(key);
            if (v == null) {
                return def;
            }
            long n;
            try {
                n = v instanceof Number num && num.doubleValue() == Math.rint(num.doubleValue()) ? num.longValue()
                        : Long.parseLong(String.valueOf(v).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where(key) + "=" + v + " is not allowed; expected " + KEYS.get(key));
            }
            if (n < min || n > max) {
                throw new IllegalArgumentException(where(key) + "=" + v + " is not allowed; expected " + KEYS.get(key));
            }
            return n;
        }
    }
}

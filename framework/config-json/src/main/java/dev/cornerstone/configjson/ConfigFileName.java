package dev.cornerstone.configjson;

/**
 * What a {@code .cfg.json} file name says about the configuration it defines.
 *
 * <p>The rules are File Install's for {@code .cfg} files, so that renaming {@code app.cfg} to
 * {@code app.cfg.json} keeps the PID: {@code <pid>.cfg.json} is a configuration of its own, and
 * {@code <factoryPid>~<name>.cfg.json} is the configuration {@code name} of a factory. File
 * Install's {@code -} separator is also accepted, but only when the name has no {@code ~}, so that
 * a name written with {@code ~} may use dashes in its factory PID and name. As with File Install,
 * a name is split at its first separator, so a singleton PID cannot contain {@code ~} or
 * {@code -}. An empty factory PID or name is refused rather than guessed at.
 */
public sealed interface ConfigFileName {

    /** The separator of Configuration Admin 1.6 factory configuration PIDs, preferred in names. */
    char FACTORY_SEPARATOR = '~';

    /** File Install's historical separator, used only when the name has no {@code ~}. */
    char LEGACY_FACTORY_SEPARATOR = '-';

    /** The PID Configuration Admin gives the configuration. */
    String pid();

    /** {@code <pid>.cfg.json}: one configuration with this PID. */
    record Singleton(String pid) implements ConfigFileName {
    }

    /**
     * {@code <factoryPid>~<name>.cfg.json}: the configuration {@code name} of factory {@code factoryPid},
     * made with {@code ConfigurationAdmin.getFactoryConfiguration(factoryPid, name, "?")}.
     */
    record Factory(String factoryPid, String name) implements ConfigFileName {
        /** As Configuration Admin 1.6 forms it for named factory configurations. */
        @Override
        public String pid() {
            return factoryPid + FACTORY_SEPARATOR + name;
        }
    }

    /** Whether a file is a {@code .cfg.json} file, whatever the rest of its name. */
    static boolean matches(String fileName) {
        return fileName.endsWith(CfgJson.FILE_SUFFIX);
    }

    /**
     * Reads a file name (without directories).
     *
     * @throws IllegalArgumentException when it does not end in {@code .cfg.json}, has nothing before
     *                                  that, or has an empty factory PID or name; the message
     *                                  names the file
     */
    static ConfigFileName of(String fileName) {
        if (!matches(fileName)) {
            throw new IllegalArgumentException(fileName + ": not a " + CfgJson.FILE_SUFFIX + " file");
        }
        String stem = fileName.substring(0, fileName.length() - CfgJson.FILE_SUFFIX.length());
        if (stem.isEmpty()) {
            throw new IllegalArgumentException(fileName + ": no PID before " + CfgJson.FILE_SUFFIX);
        }
        int separator = stem.indexOf(FACTORY_SEPARATOR);
        if (separator < 0) {
            separator = stem.indexOf(LEGACY_FACTORY_SEPARATOR);
        }
        if (separator < 0) {
            return new Singleton(stem);
        }
        if (separator == 0 || separator == stem.length() - 1) {
            throw new IllegalArgumentException(fileName + ": a factory configuration file is named <factoryPid>"
                    + FACTORY_SEPARATOR + "<name>" + CfgJson.FILE_SUFFIX + " with neither part empty");
        }
        return new Factory(stem.substring(0, separator), stem.substring(separator + 1));
    }
}

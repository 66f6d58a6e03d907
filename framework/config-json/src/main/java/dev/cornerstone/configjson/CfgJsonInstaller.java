package dev.cornerstone.configjson;

import org.apache.felix.fileinstall.ArtifactInstaller;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;

import java.io.File;
import java.io.IOException;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Turns the {@code .cfg.json} files of File Install's watched folders into Configuration Admin
 * configurations, the way File Install itself does for {@code .cfg} and {@code .config} files.
 *
 * <p>File Install tracks {@link ArtifactInstaller} services and hands each of them the files it
 * {@linkplain #canHandle claims}: {@link #install} when a file appears (or is found at start-up),
 * {@link #update} when it changes and {@link #uninstall} when it goes. The file name gives the
 * PID ({@link ConfigFileName}), the content the properties ({@link CfgJson}).
 *
 * <p>Each configuration carries {@value #FILENAME_PROPERTY}, the file's URI, exactly as File
 * Install tags the configurations of {@code .cfg} files. That tag, stored by Configuration Admin,
 * is how this component finds again the configuration a file made, after a restart as well. File
 * Install's own writer of configurations back to files ignores the ones tagged here, because it
 * only writes to files it can handle itself.
 *
 * <p>None of the methods throws. File Install forgets a file whose installation failed, and would
 * then never report its deletion, which would leave its configuration behind for good; so a file
 * that cannot be read or parsed is logged at {@link Level#SEVERE} under the logger
 * {@value #LOGGER_NAME}, the configuration it made earlier stays as it was, and the next change
 * to the file is tried afresh.
 */
@Component(service = ArtifactInstaller.class, configurationPolicy = ConfigurationPolicy.IGNORE)
public final class CfgJsonInstaller implements ArtifactInstaller {

    /** The configuration property File Install uses to tie a configuration to its file. */
    public static final String FILENAME_PROPERTY = "felix.fileinstall.filename";

    /** The location that lets any bundle bind the configurations, as File Install uses. */
    static final String ANY_LOCATION = "?";

    static final String LOGGER_NAME = "dev.cornerstone.configjson";

    private static final Logger LOG = Logger.getLogger(LOGGER_NAME);

    private final ConfigurationAdmin configurationAdmin;

    /**
     * @param configurationAdmin where the configurations go; the component waits for it
     */
    @Activate
    public CfgJsonInstaller(@Reference(name = "configurationAdmin") ConfigurationAdmin configurationAdmin) {
        this.configurationAdmin = configurationAdmin;
    }

    /**
     * Claims every {@code .cfg.json} file, even one with an unusable name: left unclaimed, File
     * Install would try to install it as a bundle, whereas {@link #install} says what is wrong.
     */
    @Override
    public boolean canHandle(File artifact) {
        return ConfigFileName.matches(artifact.getName());
    }

    @Override
    public void install(File artifact) {
        apply(artifact);
    }

    @Override
    public void update(File artifact) {
        apply(artifact);
    }

    @Override
    public void uninstall(File artifact) {
        String fileKey = fileKey(artifact);
        try {
            Optional<Configuration> configuration = configurationOf(fileKey);
            if (configuration.isPresent()) {
                String pid = configuration.get().getPid();
                configuration.get().delete();
                LOG.info(() -> "Deleted configuration " + pid + " of removed file " + artifact);
            }
        } catch (IOException | InvalidSyntaxException | RuntimeException e) {
            LOG.log(Level.SEVERE, e, () -> "Cannot delete the configuration of removed file " + artifact);
        }
    }

    /** Creates or replaces the configuration of a file, unless the file is not valid. */
    private void apply(File artifact) {
        ConfigFileName name;
        try {
            name = ConfigFileName.of(artifact.getName());
        } catch (IllegalArgumentException e) {
            // The message starts with the file name. No configuration can stem from such a name.
            LOG.severe(() -> e.getMessage() + " (in " + artifact.getAbsoluteFile().getParent()
                             + "); the file is ignored");
            return;
        }
        Map<String, Object> properties;
        try {
            properties = CfgJson.parse(artifact.toPath());
        } catch (CfgJsonException e) {
            // The message starts with the file's path.
            LOG.severe(() -> e.getMessage() + "; the configuration of this file is left as it was");
            return;
        } catch (IOException e) {
            LOG.log(Level.SEVERE, e, () -> "Cannot read configuration file " + artifact
                                           + "; its configuration is left as it was");
            return;
        }

        String fileKey = fileKey(artifact);
        Dictionary<String, Object> dictionary = new Hashtable<>(properties);
        dictionary.put(FILENAME_PROPERTY, fileKey);
        try {
            Configuration configuration = configurationOf(fileKey).orElse(null);
            if (configuration == null) {
                configuration = switch (name) {
                    case ConfigFileName.Singleton(String pid) ->
                            configurationAdmin.getConfiguration(pid, ANY_LOCATION);
                    case ConfigFileName.Factory(String factoryPid, String instance) ->
                            configurationAdmin.getFactoryConfiguration(factoryPid, instance, ANY_LOCATION);
                };
                warnIfOwnedByAnotherFile(configuration, artifact);
            }
            boolean existed = configuration.getProperties() != null;
            if (configuration.updateIfDifferent(dictionary)) {
                String pid = configuration.getPid();
                LOG.info(() -> (existed ? "Updated" : "Created") + " configuration " + pid + " from " + artifact);
            } else {
                LOG.fine(() -> "Configuration " + name.pid() + " already matches " + artifact);
            }
        } catch (IOException | InvalidSyntaxException | RuntimeException e) {
            LOG.log(Level.SEVERE, e, () -> "Cannot store the configuration of " + artifact);
        }
    }

    /**
     * Another file (typically {@code <pid>.cfg} next to {@code <pid>.cfg.json}) already defines
     * this PID. The last file written wins, as between File Install's own files; say so, since
     * the two will overwrite each other on every change.
     */
    private static void warnIfOwnedByAnotherFile(Configuration configuration, File artifact) {
        Dictionary<String, Object> current = configuration.getProperties();
        Object owner = current == null ? null : current.get(FILENAME_PROPERTY);
        if (owner != null) {
            LOG.warning(() -> "Configuration " + configuration.getPid() + " was made from " + owner
                              + " and is now replaced by " + artifact);
        }
    }

    /** The configuration a file made earlier, if any: the one carrying its {@value #FILENAME_PROPERTY}. */
    private Optional<Configuration> configurationOf(String fileKey) throws IOException, InvalidSyntaxException {
        Configuration[] found = configurationAdmin.listConfigurations(
                "(" + FILENAME_PROPERTY + "=" + escapeFilterValue(fileKey) + ")");
        return found == null || found.length == 0 ? Optional.empty() : Optional.of(found[0]);
    }

    /** The value of {@value #FILENAME_PROPERTY}: the absolute file URI, as File Install writes it. */
    static String fileKey(File artifact) {
        return artifact.getAbsoluteFile().toURI().toString();
    }

    /** Escapes the characters that are special in an LDAP filter value (RFC 1960). */
    static String escapeFilterValue(String value) {
        var escaped = new StringBuilder(value.length() + 8);
        for (char c : value.toCharArray()) {
            if (c == '\\' || c == '*' || c == '(' || c == ')') {
                escaped.append('\\');
            }
            escaped.append(c);
        }
        return escaped.toString();
    }
}

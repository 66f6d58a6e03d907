package dev.cornerstone.configjson;

import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

import java.io.IOException;
import java.util.Collections;
import java.util.Dictionary;
import java.util.Enumeration;
import java.util.Hashtable;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An in-memory Configuration Admin with the behaviour the installer relies on: configurations by
 * PID, named factory configurations, LDAP-filtered listing, {@code updateIfDifferent} with array
 * aware comparison, and deletion. Methods the installer must not use throw.
 */
final class FakeConfigurationAdmin implements ConfigurationAdmin {

    final Map<String, FakeConfiguration> configurations = new LinkedHashMap<>();
    /** When set, the next update fails the way a full disk would. */
    boolean failNextUpdate;

    FakeConfiguration get(String pid) {
        return configurations.get(pid);
    }

    @Override
    public Configuration getConfiguration(String pid, String location) {
        return configurations.computeIfAbsent(pid, p -> new FakeConfiguration(p, null, location));
    }

    @Override
    public Configuration getConfiguration(String pid) {
        return getConfiguration(pid, null);
    }

    @Override
    public Configuration getFactoryConfiguration(String factoryPid, String name, String location) {
        return configurations.computeIfAbsent(factoryPid + "~" + name,
                p -> new FakeConfiguration(p, factoryPid, location));
    }

    @Override
    public Configuration getFactoryConfiguration(String factoryPid, String name) {
        return getFactoryConfiguration(factoryPid, name, null);
    }

    @Override
    public Configuration createFactoryConfiguration(String factoryPid) {
        throw new UnsupportedOperationException("unnamed factory configurations are not used");
    }

    @Override
    public Configuration createFactoryConfiguration(String factoryPid, String location) {
        throw new UnsupportedOperationException("unnamed factory configurations are not used");
    }

    @Override
    public Configuration[] listConfigurations(String filter) throws InvalidSyntaxException {
        Filter parsed = filter == null ? null : FrameworkUtil.createFilter(filter);
        Configuration[] found = configurations.values().stream()
                .filter(c -> c.properties != null && (parsed == null || parsed.match(c.properties)))
                .toArray(Configuration[]::new);
        return found.length == 0 ? null : found; // as the specification says: null when none
    }

    final class FakeConfiguration implements Configuration {
        final String pid;
        final String factoryPid;
        final String location;
        Hashtable<String, Object> properties;
        long changeCount;

        FakeConfiguration(String pid, String factoryPid, String location) {
            this.pid = pid;
            this.factoryPid = factoryPid;
            this.location = location;
        }

        @Override
        public String getPid() {
            return pid;
        }

        @Override
        public String getFactoryPid() {
            return factoryPid;
        }

        @Override
        public Dictionary<String, Object> getProperties() {
            return properties == null ? null : new Hashtable<>(properties);
        }

        @Override
        public Dictionary<String, Object> getProcessedProperties(ServiceReference<?> reference) {
            return getProperties();
        }

        @Override
        public void update(Dictionary<String, ?> newProperties) throws IOException {
            if (failNextUpdate) {
                failNextUpdate = false;
                throw new IOException("No space left on device");
            }
            var copy = new Hashtable<String, Object>();
            for (Enumeration<String> keys = newProperties.keys(); keys.hasMoreElements(); ) {
                String key = keys.nextElement();
                copy.put(key, newProperties.get(key));
            }
            copy.put(Constants.SERVICE_PID, pid);
            if (factoryPid != null) {
                copy.put(SERVICE_FACTORYPID, factoryPid);
            }
            properties = copy;
            changeCount++;
        }

        @Override
        public boolean updateIfDifferent(Dictionary<String, ?> newProperties) throws IOException {
            if (properties != null && sameUserProperties(newProperties)) {
                return false;
            }
            update(newProperties);
            return true;
        }

        private boolean sameUserProperties(Dictionary<String, ?> newProperties) {
            var current = new Hashtable<>(properties);
            current.remove(Constants.SERVICE_PID);
            current.remove(SERVICE_FACTORYPID);
            if (current.size() != newProperties.size()) {
                return false;
            }
            for (Map.Entry<String, Object> entry : current.entrySet()) {
                if (!Objects.deepEquals(entry.getValue(), newProperties.get(entry.getKey()))) {
                    return false;
                }
            }
            return true;
        }

        @Override
        public void delete() {
            configurations.remove(pid);
        }

        @Override
        public void update() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void setBundleLocation(String location) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String getBundleLocation() {
            return location;
        }

        @Override
        public long getChangeCount() {
            return changeCount;
        }

        @Override
        public void addAttributes(ConfigurationAttribute... attrs) {
            throw new UnsupportedOperationException();
        }

        @Override
        public Set<ConfigurationAttribute> getAttributes() {
            return Collections.emptySet();
        }

        @Override
        public void removeAttributes(ConfigurationAttribute... attrs) {
            throw new UnsupportedOperationException();
        }
    }
}

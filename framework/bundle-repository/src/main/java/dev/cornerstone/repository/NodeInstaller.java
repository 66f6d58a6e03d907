package dev.cornerstone.repository;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

import com.hazelcast.map.IMap;

import dev.cornerstone.core.config.Json;

/**
 * Makes this node's {@code deploy/} match the repository, and reports the result in map
 * {@value BundleRepository#STATUS} (key {@code NODE|SYMBOLIC-NAME}). Runs on the repository's
 * single thread only.
 *
 * <ul>
 * <li>An entry whose jar is not in deploy/ with the same SHA-256 is written there through the
 *     node service ({@code {command: deploy}}: the same checks and the same wait for File
 *     Install as {@code cornerstone bundles deploy}); a bundle of that symbolic name that was
 *     there is replaced.</li>
 * <li>A bundle this node installed from the repository (remembered in
 *     {@code DATA/repository-installed.json}, so a node that was down when an entry was removed
 *     still removes it when it comes back) whose entry is gone is removed from deploy/.</li>
 * </ul>
 */
final class NodeInstaller {

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.repository");
    static final long DEPLOY_WAIT_MS = 30_000;

    private final String nodeId;
    private final Path deployDir;
    private final Path dataDir;
    private final Function<Map<String, Object>, Map<String, Object>> node;
    private final IMap<String, String> entries;
    private final IMap<String, byte[]> jars;
    private final IMap<String, String> status;
    /** symbolic name → file in deploy/ of the bundles installed from the repository. */
    private final Map<String, String> installed = new HashMap<>();

    NodeInstaller(String nodeId, Path home, Path dataDir, Function<Map<String, Object>, Map<String, Object>> node,
                  IMap<String, String> entries, IMap<String, byte[]> jars, IMap<String, String> status) {
        this.nodeId = nodeId;
        this.deployDir = home.resolve("deploy");
        this.dataDir = dataDir;
        this.node = node;
        this.entries = entries;
        this.jars = jars;
        this.status = status;
        load();
    }

    static String statusKey(String nodeId, String symbolicName) {
        return nodeId + "|" + symbolicName;
    }

    /** Installs what is missing or different, removes what left the repository, reports every state. */
    void reconcile() {
        Map<String, RepositoryEntry> wanted = new HashMap<>();
        for (Map.Entry<String, String> e : entries.entrySet()) {
            wanted.put(e.getKey(), RepositoryEntry.fromMap((Map<?, ?>) Json.read(e.getValue(), "repository entry "
                    + e.getKey())));
        }
        Map<String, Map<String, Object>> views = deployedViews();
        for (RepositoryEntry e : wanted.values()) {
            Map<String, Object> view = views.get(e.symbolicName());
            if (view != null && e.sha256().equals(sha256Of(view.get("file")))) {
                installed.put(e.symbolicName(), String.valueOf(view.get("file")));
                report(e, view, null);
                continue;
            }
            install(e);
        }
        for (String bsn : List.copyOf(installed.keySet())) {
            if (!wanted.containsKey(bsn)) {
                uninstall(bsn, installed.get(bsn));
            }
        }
        save();
    }

    /** Reports the current state of every bundle installed from the repository (after a bundle event). */
    void reportAll() {
        Map<String, Map<String, Object>> views = deployedViews();
        for (Map.Entry<String, String> i : installed.entrySet()) {
            String json = entries.get(i.getKey());
            if (json != null) {
                RepositoryEntry e = RepositoryEntry.fromMap((Map<?, ?>) Json.read(json, "repository entry"));
                report(e, views.get(i.getKey()), null);
            }
        }
    }

    private void install(RepositoryEntry e) {
        byte[] bytes = jars.get(e.symbolicName());
        if (bytes == null || !e.sha256().equals(BundleJar.sha256(bytes))) {
            // The jar is written before its entry; a different one means a newer upload is on its way.
            report(e, null, bytes == null ? "the jar is missing from the repository" : "the repository holds a "
                    + "different jar than its entry names (a newer upload in progress?)");
            return;
        }
        Path tmp = null;
        try {
            tmp = Files.createTempDirectory(Files.createDirectories(dataDir.resolve("tmp")), "repository-");
            Path jar = tmp.resolve(e.file());
            Files.write(jar, bytes);
            Map<String, Object> request = new LinkedHashMap<>();
            request.put("command", "deploy");
            request.put("path", jar.toString());
            request.put("name", e.file());
            request.put("wait_ms", DEPLOY_WAIT_MS);
            Map<String, Object> answer = node.apply(request);
            if (answer.get("error") != null) {
                report(e, null, String.valueOf(answer.get("error")));
                return;
            }
            String file = String.valueOf(answer.get("file"));
            installed.put(e.symbolicName(), file);
            Map<?, ?> view = answer.get("bundle") instanceof Map<?, ?> m ? m : null;
            LOG.info("Installed " + e.symbolicName() + " " + e.version() + " from the cluster's bundle repository into "
                    + deployDir.resolve(file) + (view == null ? "" : " (" + view.get("state") + ")"));
            report(e, view, null);
        } catch (IOException | RuntimeException ex) {
            String msg = ex.getMessage() == null ? ex.toString() : ex.getMessage();
            LOG.log(Level.WARNING, "Cannot install " + e.symbolicName() + " from the cluster's bundle repository: "
                    + msg, ex);
            report(e, null, msg);
        } finally {
            if (tmp != null) {
                try (var files = Files.list(tmp)) {
                    for (Path p : files.toList()) {
                        Files.deleteIfExists(p);
                    }
                    Files.deleteIfExists(tmp);
                } catch (IOException ex) {
                    // a temporary file; tmp/ is cleaned with the node's cache
                }
            }
        }
    }

    private void uninstall(String bsn, String file) {
        try {
            Map<String, Object> answer = node.apply(Map.of("command", "undeploy", "name", file, "wait_ms", 15_000L));
            if (answer.get("error") != null && !(answer.get("status") instanceof Number n && n.intValue() == 404)) {
                LOG.warning("Cannot remove " + file + " (" + bsn + ", removed from the cluster's bundle repository): "
                        + answer.get("error"));
                return;
            }
            LOG.info("Removed " + bsn + " (" + file + ") from deploy/: it left the cluster's bundle repository");
        } catch (RuntimeException ex) {
            LOG.log(Level.WARNING, "Cannot remove " + file + " (" + bsn + "): " + ex.getMessage(), ex);
            return;
        }
        installed.remove(bsn);
        status.delete(statusKey(nodeId, bsn));
    }

    /** This node's bundles from deploy/, by symbolic name, as the node service lists them. */
    private Map<String, Map<String, Object>> deployedViews() {
        Map<String, Map<String, Object>> out = new HashMap<>();
        Object list = node.apply(Map.of("command", "bundles")).get("bundles");
        if (list instanceof List<?> l) {
            for (Object o : l) {
                if (o instanceof Map<?, ?> m && "deploy".equals(m.get("source")) && m.get("symbolicName") != null) {
                    @SuppressWarnings("unchecked")
                    Map<String, Object> view = (Map<String, Object>) m;
                    out.put(String.valueOf(m.get("symbolicName")), view);
                }
            }
        }
        return out;
    }

    private String sha256Of(Object file) {
        if (file == null) {
            return null;
        }
        try {
            return BundleJar.sha256(Files.readAllBytes(deployDir.resolve(String.valueOf(file))));
        } catch (IOException e) {
            return null;
        }
    }

    /** Writes this node's result for {@code e}: the bundle's state and problem, or the error that kept it out. */
    private void report(RepositoryEntry e, Map<?, ?> view, String error) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("node", nodeId);
        m.put("symbolicName", e.symbolicName());
        m.put("sha256", e.sha256());
        if (view != null) {
            m.put("version", view.get("version"));
            m.put("state", view.get("state"));
            m.put("file", view.get("file"));
            m.put("problem", view.get("problem"));
        } else {
            m.put("version", null);
            m.put("state", error == null ? "PENDING" : "FAILED");
            m.put("problem", error);
        }
        m.put("at", Instant.now().toString());
        status.set(statusKey(nodeId, e.symbolicName()), Json.write(m, false));
    }

    private Path record() {
        return dataDir.resolve("repository-installed.json");
    }

    private void load() {
        Path f = record();
        if (!Files.isRegularFile(f)) {
            return;
        }
        try {
            if (Json.read(Files.readString(f), f.toString()) instanceof Map<?, ?> m) {
                m.forEach((k, v) -> installed.put(String.valueOf(k), String.valueOf(v)));
            }
        } catch (IOException | RuntimeException e) {
            LOG.warning("Cannot read " + f + " (bundles installed from the cluster's repository): " + e.getMessage());
        }
    }

    private void save() {
        Path f = record();
        try {
            Files.createDirectories(f.getParent());
            Path part = f.resolveSibling(f.getFileName() + ".part");
            Files.writeString(part, Json.write(new java.util.TreeMap<>(installed), true));
            Files.move(part, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.warning("Cannot write " + f + ": " + e.getMessage());
        }
    }
}

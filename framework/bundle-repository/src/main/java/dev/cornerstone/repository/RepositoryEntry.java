package dev.cornerstone.repository;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bundle in the cluster's repository, stored in Hazelcast as JSON (map
 * {@value BundleRepository#ENTRIES}, key {@link #symbolicName()}); its bytes are in map
 * {@value BundleRepository#JARS} under the same key.
 *
 * @param symbolicName Bundle-SymbolicName: one entry per bundle, a newer upload replaces it
 * @param version      Bundle-Version
 * @param sha256       SHA-256 of the jar, hex; what nodes compare with their deploy/ file
 * @param size         bytes
 * @param file         the file name the nodes give it in deploy/
 * @param uploader     who stored it (the console user, or "token")
 * @param uploadedAt   when, ISO-8601
 * @param from         the node id it was uploaded through
 */
record RepositoryEntry(String symbolicName, String version, String sha256, long size, String file, String uploader,
                       String uploadedAt, String from) {

    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("symbolicName", symbolicName);
        m.put("version", version);
        m.put("sha256", sha256);
        m.put("size", size);
        m.put("file", file);
        m.put("uploader", uploader);
        m.put("uploadedAt", uploadedAt);
        m.put("from", from);
        return m;
    }

    static RepositoryEntry fromMap(Map<?, ?> m) {
        return new RepositoryEntry(str(m, "symbolicName"), str(m, "version"), str(m, "sha256"),
                m.get("size") instanceof Number n ? n.longValue() : -1, str(m, "file"), str(m, "uploader"),
                str(m, "uploadedAt"), str(m, "from"));
    }

    private static String str(Map<?, ?> m, String key) {
        Object v = m.get(key);
        return v == null ? null : String.valueOf(v);
    }
}

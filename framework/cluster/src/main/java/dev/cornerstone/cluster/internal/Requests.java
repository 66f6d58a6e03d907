package dev.cornerstone.cluster.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Typed reads of request maps (JSON bodies); errors name the field, the value and what is allowed. */
final class Requests {

    private Requests() {
    }

    static String string(Map<String, Object> req, String key) {
        Object v = req.get(key);
        if (!(v instanceof String s) || s.isBlank()) {
            throw new IllegalArgumentException("'" + key + "' is required and must be a non-empty string"
                    + (v == null ? "" : ", got " + v));
        }
        return s;
    }

    static String string(Map<String, Object> req, String key, String def) {
        return req.get(key) == null ? def : string(req, key);
    }

    static int integer(Map<String, Object> req, String key, Integer def, int min, int max) {
        Object v = req.get(key);
        if (v == null) {
            if (def == null) {
                throw new IllegalArgumentException("'" + key + "' is required: a whole number in " + min + ".." + max);
            }
            return def;
        }
        if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && n.doubleValue() >= min
                && n.doubleValue() <= max) {
            return n.intValue();
        }
        throw new IllegalArgumentException("'" + key + "' must be a whole number in " + min + ".." + max + ", got " + v);
    }

    static List<String> strings(Map<String, Object> req, String key) {
        Object v = req.get(key);
        if (!(v instanceof List<?> l) || l.isEmpty()) {
            throw new IllegalArgumentException("'" + key + "' is required: a non-empty list of strings"
                    + (v == null ? "" : ", got " + v));
        }
        List<String> out = new ArrayList<>();
        for (Object o : l) {
            if (!(o instanceof String s)) {
                throw new IllegalArgumentException("'" + key + "' must hold strings only, got " + o);
            }
            out.add(s);
        }
        return out;
    }
}

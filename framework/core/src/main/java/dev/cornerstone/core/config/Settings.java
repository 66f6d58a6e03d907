package dev.cornerstone.core.config;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * One section of a spec ({@code model}, {@code optimizer}, ...) read key by key with types
 * and ranges. Every error is an {@link IllegalArgumentException} that names the full key
 * ({@code model.n_head}), the value given and what is allowed; {@link #finish()} rejects the
 * keys nobody asked for, listing the known ones. The values read are collected, with their
 * defaults, as the resolved section stored with a run.
 */
public final class Settings {

    private final String section;
    private final Map<String, Object> values;
    private final Set<String> known = new TreeSet<>();
    private final Map<String, Object> resolved = new LinkedHashMap<>();

    public Settings(String section, Map<String, Object> values) {
        this.section = section;
        this.values = values == null ? Map.of() : values;
    }

    private String key(String k) {
        return section + "." + k;
    }

    private IllegalArgumentException bad(String k, Object v, String allowed) {
        return new IllegalArgumentException(key(k) + ": " + describe(v) + " is not allowed; expected " + allowed);
    }

    private static String describe(Object v) {
        return v instanceof String s ? "'" + s + "'" : String.valueOf(v);
    }

    private Object raw(String k) {
        known.add(k);
        return values.get(k);
    }

    public boolean has(String k) {
        known.add(k);
        return values.containsKey(k) && values.get(k) != null;
    }

    public int integer(String k, int def, int min, int max) {
        Object v = raw(k);
        int r;
        if (v == null) {
            r = def;
        } else if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())
                && n.doubleValue() >= Integer.MIN_VALUE && n.doubleValue() <= Integer.MAX_VALUE) {
            r = n.intValue();
        } else if (v instanceof String s && s.matches("-?\\d+")) {
            r = Integer.parseInt(s);
        } else {
            throw bad(k, v, "an integer in [" + min + ", " + max + "]");
        }
        if (r < min || r > max) {
            throw bad(k, v, "an integer in [" + min + ", " + max + "]");
        }
        resolved.put(k, r);
        return r;
    }

    public int requiredInteger(String k, int min, int max) {
        if (!has(k)) {
            throw new IllegalArgumentException(key(k) + " is required: an integer in [" + min + ", " + max + "]");
        }
        return integer(k, 0, min, max);
    }

    public long longValue(String k, long def) {
        Object v = raw(k);
        long r;
        if (v == null) {
            r = def;
        } else if (v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue())) {
            r = n.longValue();
        } else if (v instanceof String s && s.matches("-?\\d+")) {
            r = Long.parseLong(s);
        } else {
            throw bad(k, v, "an integer");
        }
        resolved.put(k, r);
        return r;
    }

    public double number(String k, double def, double min, double max) {
        Object v = raw(k);
        double r;
        if (v == null) {
            r = def;
        } else if (v instanceof Number n) {
            r = n.doubleValue();
        } else if (v instanceof String s) {
            try {
                r = Double.parseDouble(s.trim());
            } catch (NumberFormatException e) {
                throw bad(k, v, "a number in [" + min + ", " + max + "]");
            }
        } else {
            throw bad(k, v, "a number in [" + min + ", " + max + "]");
        }
        if (!(r >= min && r <= max)) {
            throw bad(k, v, "a number in [" + min + ", " + max + "]");
        }
        resolved.put(k, r);
        return r;
    }

    public boolean bool(String k, boolean def) {
        Object v = raw(k);
        boolean r;
        if (v == null) {
            r = def;
        } else if (v instanceof Boolean b) {
            r = b;
        } else if ("true".equals(v) || "false".equals(v)) {
            r = Boolean.parseBoolean((String) v);
        } else {
            throw bad(k, v, "true or false");
        }
        resolved.put(k, r);
        return r;
    }

    public String choice(String k, String def, String... allowed) {
        Object v = raw(k);
        String r = v == null ? def : String.valueOf(v);
        if (!List.of(allowed).contains(r)) {
            throw bad(k, v, "one of " + String.join(", ", allowed));
        }
        resolved.put(k, r);
        return r;
    }

    public String string(String k, String def) {
        Object v = raw(k);
        if (v != null && !(v instanceof String)) {
            throw bad(k, v, "a string");
        }
        String r = v == null ? def : (String) v;
        if (r != null) {
            resolved.put(k, r);
        }
        return r;
    }

    /** A list of numbers of exactly {@code size} entries, each in [min, max]. */
    public double[] numbers(String k, double[] def, int size, double min, double max) {
        Object v = raw(k);
        double[] r;
        if (v == null) {
            r = def.clone();
        } else if (v instanceof List<?> list && list.size() == size) {
            r = new double[size];
            for (int i = 0; i < size; i++) {
                if (!(list.get(i) instanceof Number n) || n.doubleValue() < min || n.doubleValue() > max) {
                    throw bad(k, v, "a list of " + size + " numbers in [" + min + ", " + max + "]");
                }
                r[i] = n.doubleValue();
            }
        } else {
            throw bad(k, v, "a list of " + size + " numbers in [" + min + ", " + max + "]");
        }
        List<Double> out = new ArrayList<>();
        for (double d : r) {
            out.add(d);
        }
        resolved.put(k, out);
        return r;
    }

    /** Rejects keys that were never read, naming the known ones. */
    public Map<String, Object> finish() {
        for (String k : values.keySet()) {
            if (!known.contains(k)) {
                throw new IllegalArgumentException(key(k) + " is not a known key; known keys of " + section + ": "
                        + String.join(", ", known));
            }
        }
        return resolved;
    }
}

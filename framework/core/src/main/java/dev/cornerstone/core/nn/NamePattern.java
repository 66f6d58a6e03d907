package dev.cornerstone.core.nn;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A pattern over dotted parameter or module names ({@code h.0.attn.c_attn.weight}), as specs
 * use them to pick parts of a model: {@code *} stands for one whole segment or part of one
 * (never a dot), and a pattern that names a module also covers everything under it. So
 * {@code h.*.attn.c_attn} matches {@code h.0.attn.c_attn} and {@code h.11.attn.c_attn.bias},
 * {@code wte} matches {@code wte.weight}, {@code h.0} the whole first block.
 */
public final class NamePattern {

    private static final Pattern ALLOWED = Pattern.compile("[A-Za-z0-9_*-]+(\\.[A-Za-z0-9_*-]+)*");

    private final String pattern;
    private final Pattern regex;

    /** @param pattern the text as written in the spec */
    public NamePattern(String pattern) {
        if (pattern == null || !ALLOWED.matcher(pattern).matches()) {
            throw new IllegalArgumentException("'" + pattern + "' is not a name pattern: dot-separated segments of "
                    + "letters, digits, _, - and * (for example h.*.attn.c_attn)");
        }
        this.pattern = pattern;
        StringBuilder r = new StringBuilder();
        for (char ch : pattern.toCharArray()) {
            r.append(ch == '*' ? "[^.]*" : Pattern.quote(String.valueOf(ch)));
        }
        this.regex = Pattern.compile(r + "(\\..*)?");
    }

    /** The text as written in the spec. */
    public String pattern() {
        return pattern;
    }

    /** Whether {@code name} is what this pattern names, or lies under it. */
    public boolean matches(String name) {
        return regex.matcher(name).matches();
    }

    /**
     * Reads a spec value that is one pattern or a list of them; {@code key} names it in errors.
     *
     * @throws IllegalArgumentException naming the key and the bad value
     */
    public static List<NamePattern> parseAll(String key, Object value) {
        List<?> items = value instanceof List<?> l ? l : value == null ? List.of() : List.of(value);
        List<NamePattern> out = new ArrayList<>();
        for (Object item : items) {
            if (!(item instanceof String s)) {
                throw new IllegalArgumentException(key + ": " + item + " is not allowed; expected a name pattern such as "
                        + "h.*.attn.c_attn");
            }
            try {
                out.add(new NamePattern(s.trim()));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(key + ": " + e.getMessage(), e);
            }
        }
        return out;
    }

    /**
     * Checks that every pattern matches at least one of {@code names}; a pattern that matches
     * nothing is almost always a typo, and would silently do nothing.
     *
     * @throws IllegalArgumentException naming the key, the pattern and some of the names there are
     */
    public static void requireEachMatches(String key, List<NamePattern> patterns, Collection<String> names) {
        for (NamePattern p : patterns) {
            if (names.stream().noneMatch(p::matches)) {
                List<String> some = names.stream().limit(12).toList();
                throw new IllegalArgumentException(key + ": '" + p.pattern() + "' matches nothing; names there are: "
                        + String.join(", ", some) + (names.size() > some.size() ? ", ..." : ""));
            }
        }
    }

    /** Whether any of {@code patterns} matches {@code name}. */
    public static boolean any(List<NamePattern> patterns, String name) {
        for (NamePattern p : patterns) {
            if (p.matches(name)) {
                return true;
            }
        }
        return false;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof NamePattern p && p.pattern.equals(pattern);
    }

    @Override
    public int hashCode() {
        return pattern.hashCode();
    }

    @Override
    public String toString() {
        return pattern;
    }
}

package dev.cornerstone.data.text;

/** How a configuration value is shown in an error message: its kind and, shortened, its text. */
final class Values {

    /** Longest string shown verbatim; longer ones are cut, so a whole vocabulary or text never floods a log. */
    private static final int SHOWN_MAX = 60;

    private Values() {
    }

    /** {@code null}, {@code "text"} for a string, {@code 3 (Integer)} for anything else. */
    static String show(Object value) {
        if (value == null) {
            return "null";
        }
        if (value instanceof String s) {
            return '"' + cut(s) + '"';
        }
        return cut(String.valueOf(value)) + " (" + value.getClass().getSimpleName() + ")";
    }

    private static String cut(String s) {
        if (s.length() <= SHOWN_MAX) {
            return s;
        }
        // Never split a surrogate pair: the message must stay valid text.
        int end = Character.isHighSurrogate(s.charAt(SHOWN_MAX - 1)) ? SHOWN_MAX - 1 : SHOWN_MAX;
        return s.substring(0, end) + "...";
    }
}

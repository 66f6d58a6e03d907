package dev.cornerstone.finetune;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How well a classifier did on a labelled set: the confusion matrix ({@code confusion[t][p]}:
 * texts of true class t predicted as p), and from it accuracy and, per class, precision
 * (of the texts predicted as the class, the share that is), recall (of the texts of the class,
 * the share found) and F1 (their harmonic mean). A ratio with nothing to divide by (no text
 * predicted as a class, say) is 0, as scikit-learn's {@code zero_division=0}.
 *
 * @param labels    the class names, in head order
 * @param confusion K × K counts
 * @param loss      the mean cross-entropy over the set
 */
record Metrics(List<String> labels, long[][] confusion, double loss) {

    static Metrics of(List<String> labels, int[] truth, int[] predicted, double loss) {
        int k = labels.size();
        long[][] c = new long[k][k];
        for (int i = 0; i < truth.length; i++) {
            c[truth[i]][predicted[i]]++;
        }
        return new Metrics(labels, c, loss);
    }

    long total() {
        long n = 0;
        for (long[] row : confusion) {
            for (long v : row) {
                n += v;
            }
        }
        return n;
    }

    double accuracy() {
        long right = 0;
        for (int i = 0; i < confusion.length; i++) {
            right += confusion[i][i];
        }
        return ratio(right, total());
    }

    double precision(int k) {
        long predicted = 0;
        for (long[] row : confusion) {
            predicted += row[k];
        }
        return ratio(confusion[k][k], predicted);
    }

    double recall(int k) {
        long actual = 0;
        for (long v : confusion[k]) {
            actual += v;
        }
        return ratio(confusion[k][k], actual);
    }

    double f1(int k) {
        double p = precision(k), r = recall(k);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    double f1(String label) {
        return f1(labels.indexOf(label));
    }

    double macroF1() {
        double s = 0;
        for (int k = 0; k < labels.size(); k++) {
            s += f1(k);
        }
        return s / labels.size();
    }

    private static double ratio(long a, long b) {
        return b == 0 ? 0 : (double) a / b;
    }

    private static double round(double v) {
        return Math.round(v * 1e6) / 1e6;
    }

    /** For metrics.jsonl and summary.json: val_loss, accuracy, macro_f1, precision, recall, f1 by class, confusion. */
    Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("val_loss", round(loss));
        m.put("accuracy", round(accuracy()));
        m.put("macro_f1", round(macroF1()));
        Map<String, Object> p = new LinkedHashMap<>(), r = new LinkedHashMap<>(), f = new LinkedHashMap<>();
        for (int k = 0; k < labels.size(); k++) {
            p.put(labels.get(k), round(precision(k)));
            r.put(labels.get(k), round(recall(k)));
            f.put(labels.get(k), round(f1(k)));
        }
        m.put("precision", p);
        m.put("recall", r);
        m.put("f1", f);
        List<List<Long>> rows = new ArrayList<>();
        for (long[] row : confusion) {
            List<Long> l = new ArrayList<>();
            for (long v : row) {
                l.add(v);
            }
            rows.add(l);
        }
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("labels", labels);
        c.put("matrix", rows); // rows: true class, columns: predicted class
        m.put("confusion", c);
        m.put("examples", total());
        return m;
    }
}

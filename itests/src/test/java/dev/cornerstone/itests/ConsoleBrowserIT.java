package dev.cornerstone.itests;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;

/**
 * The console in a real browser: Debian's headless Chromium, driven through its chromedriver
 * by Selenium, against a real node. A user signs in, sees the node, deploys a bundle and sees
 * it active, submits a job (first with a value the node refuses, shown at its field), watches
 * its loss chart gain points pushed by the node, generates a sample and stops the job.
 * Screenshots of each stage go to {@code itests/target/screenshots/}; the page's load time and
 * the delay from a training step to its point in the chart are measured and written to
 * {@code console-metrics.txt} there.
 */
class ConsoleBrowserIT {

    @TempDir
    static Path tmp;
    static Distribution dist;
    static NodeProcess node;
    static Chromium chromium;
    static ChromeDriver browser;
    static final List<String> metrics = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        dist = Distribution.copyInto(tmp);
        node = NodeProcess.start(dist, tmp.resolve("data"));
        assertThat(node.console).as(node.console()).isNotNull();
        chromium = new Chromium(tmp);
        browser = chromium.driver;
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (chromium != null) {
                chromium.close();
            }
        } finally {
            if (!metrics.isEmpty()) {
                Files.writeString(chromium.screenshots.resolve("console-metrics.txt"), String.join("\n", metrics)
                        + "\n", StandardCharsets.UTF_8);
            }
            if (node != null) {
                node.close();
            }
        }
    }

    static void screenshot(String name) throws Exception {
        chromium.screenshot(name);
    }

    static Object js(String script, Object... args) {
        return chromium.js(script, args);
    }

    static WebElement visible(String css) {
        return chromium.visible(css);
    }

    static void waitText(String css, String text) {
        chromium.waitText(css, text);
    }

    static int chartPoints() {
        return Integer.parseInt(browser.findElement(By.id("chart-loss")).getDomAttribute("data-points"));
    }

    static void set(String key, String value) {
        WebElement e = browser.findElement(By.cssSelector("[data-key='" + key + "']"));
        if (e.getTagName().equals("select")) {
            new Select(e).selectByValue(value);
        } else {
            e.clear();
            e.sendKeys(value);
        }
    }

    /** Navigation timing of the page now shown and the app's own "ready" mark, in milliseconds. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> loadTimes() {
        return (Map<String, Object>) js("const n = performance.getEntriesByType('navigation')[0];"
                + "return {dom: n.domContentLoadedEventEnd, load: n.loadEventEnd,"
                + " ready: window.cornerstone.stats.readyMs};");
    }

    static String ms(Object v) {
        return String.format(Locale.ROOT, "%.0f ms", ((Number) v).doubleValue());
    }

    @Test
    void aUserSignsInDeploysABundleAndWatchesAJobTrain() throws Exception {
        try {
            scenario();
        } catch (Throwable t) {
            // what the page and the node said, for whoever reads the failure
            screenshot("failure");
            StringBuilder sb = new StringBuilder();
            for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
                sb.append(e).append('\n');
            }
            for (LogEntry e : browser.manage().logs().get(LogType.PERFORMANCE)) {
                if (e.getMessage().contains("Network.loadingFailed") || e.getMessage().contains(
                        "Network.responseReceived")) {
                    sb.append(e.getMessage()).append('\n');
                }
            }
            Files.writeString(chromium.screenshots.resolve("failure-browser-console.txt"), sb.toString());
            Files.writeString(chromium.screenshots.resolve("failure-node.log"), node.log());
            throw t;
        }
    }

    private void scenario() throws Exception {
        // sign in: the console sends a stranger to its sign-in page
        browser.get(node.console.toString());
        visible("#token");
        assertThat(browser.getCurrentUrl()).endsWith("/public/login.html");
        screenshot("01-sign-in");
        browser.findElement(By.id("token")).sendKeys("not-the-token");
        browser.findElement(By.id("sign-in")).click();
        waitText("#login-error", "wrong token");
        browser.findElement(By.id("token")).clear();
        browser.findElement(By.id("token")).sendKeys(node.token);
        browser.findElement(By.id("sign-in")).click();

        // the node view
        chromium.wait.until(d -> "true".equals(js("return document.body.dataset.ready || null")));
        WebElement card = visible("#nodes .node");
        assertThat(card.getText()).contains("this node").contains(node.get("/node").path("version").asText())
                .contains("cpu");
        assertThat(browser.findElement(By.id("cluster-message")).getText()).contains("Clustering is off");
        waitText("#live", "live");
        Map<String, Object> first = loadTimes();
        screenshot("02-nodes");
        browser.navigate().refresh();
        chromium.wait.until(d -> "true".equals(js("return document.body.dataset.ready || null")));
        visible("#nodes .node");
        Map<String, Object> again = loadTimes();
        metrics.add("page load, first visit after sign-in: DOMContentLoaded " + ms(first.get("dom")) + ", load "
                + ms(first.get("load")) + ", node view drawn with data " + ms(first.get("ready")));
        metrics.add("page load, reload (assets cached): DOMContentLoaded " + ms(again.get("dom")) + ", load "
                + ms(again.get("load")) + ", node view drawn with data " + ms(again.get("ready")));

        // deploy a bundle from the browser and see it active
        browser.findElement(By.id("nav-bundles")).click();
        visible("#bundle-table");
        Path hello = TestBundles.hello(tmp.resolve("jars"), "1.0.0");
        browser.findElement(By.id("bundle-file")).sendKeys(hello.toString());
        browser.findElement(By.id("deploy")).click();
        waitText("#deploy-outcome", "installed " + TestBundles.HELLO + " 1.0.0: ACTIVE");
        waitText("tr[data-bundle='" + TestBundles.HELLO + "'] .badge", "ACTIVE");
        assertThat(dist.deploy().resolve(hello.getFileName())).exists();
        screenshot("03-bundle-deployed");
        browser.findElement(By.id("bundle-file")).sendKeys(TestBundles.corrupt(tmp.resolve("jars")).toString());
        browser.findElement(By.id("deploy")).click();
        waitText("#deploy-outcome", "Not deployed: corrupt.jar is not a valid jar");
        screenshot("04-bundle-refused");

        // a job: a refused value is shown at its field, in the form and in the spec editor
        browser.findElement(By.id("nav-jobs")).click();
        visible("#job-form");
        browser.findElement(By.id("job-id")).sendKeys("browser");
        set("model.n_layer", "1");
        set("model.n_head", "2");
        set("model.n_embd", "32");
        set("model.block_size", "16");
        set("train.steps", "100000");
        set("train.log_every", "1");
        set("train.eval_every", "10");
        set("train.checkpoint_every", "20");
        set("backend.name", "cpu");
        set("train.batch_size", "0");
        browser.findElement(By.id("submit-job")).click();
        waitText("[data-error-for='train.batch_size']", "train.batch_size");
        assertThat(browser.findElement(By.cssSelector("[data-key='train.batch_size']")).getDomAttribute("class"))
                .contains("invalid");
        screenshot("05-job-field-error");
        browser.findElement(By.id("tab-spec")).click();
        browser.findElement(By.id("submit-job")).click();
        waitText("#spec-error", "train.batch_size");
        assertThat(browser.findElement(By.id("spec-error")).getText()).startsWith("Line ");
        assertThat((String) js("const e = document.getElementById('spec-editor');"
                + "return e.value.substring(e.selectionStart, e.selectionEnd);")).isEqualTo("\"batch_size\"");
        screenshot("06-spec-editor-error");
        assertThat(node.dataDir.resolve("runs/browser")).as("nothing started").doesNotExist();
        browser.findElement(By.id("tab-form")).click();
        set("train.batch_size", "8");
        browser.findElement(By.id("submit-job")).click();

        // its charts gain points as the node pushes them
        chromium.wait.until(ExpectedConditions.urlContains("#/jobs/browser"));
        visible("#chart-loss canvas");
        chromium.wait.until(d -> chartPoints() >= 3);
        int seen = chartPoints();
        chromium.wait.until(d -> chartPoints() >= seen + 20);
        waitText("#checkpoints", "20");
        js("window.scrollTo(0, 0)");
        screenshot("07-job-training");
        assertThat(browser.findElement(By.id("job-state")).getText()).isEqualTo("running");

        // a sample, then stop
        browser.findElement(By.id("sample-prompt")).sendKeys("Call me ");
        browser.findElement(By.id("generate")).click();
        visible("#samples .sample-item pre");
        assertThat(browser.findElement(By.cssSelector("#samples .sample-item pre")).getText()).startsWith("Call me");
        browser.findElement(By.id("stop-job")).click();
        waitText("#job-state", "stopped");
        int stoppedAt = node.get("/jobs/browser").path("step").asInt();
        waitText("#checkpoint-table", String.valueOf(stoppedAt));
        waitText("#job-stop-reason", "stopped on request");
        js("window.scrollTo(0, 0)");
        screenshot("08-job-stopped");
        assertThat(chartPoints()).as("every logged step is in the chart").isEqualTo(node.get("/jobs/browser")
                .path("points").size());

        @SuppressWarnings("unchecked")
        List<Number> latencies = (List<Number>) js("return window.cornerstone.stats.latencies;");
        assertThat(latencies).hasSizeGreaterThan(20);
        List<Long> sorted = latencies.stream().map(Number::longValue).sorted().toList();
        long median = sorted.get(sorted.size() / 2);
        long p95 = sorted.get((int) Math.ceil(sorted.size() * 0.95) - 1);
        metrics.add(String.format(Locale.ROOT, "event latency, job step -> point drawn in the chart, %d steps: median "
                + "%d ms, 95th percentile %d ms, max %d ms", sorted.size(), median, p95, sorted.get(sorted.size() - 1)));
        metrics.forEach(m -> System.out.println("[console] " + m));

        // nothing went wrong in the page: no script error, nothing the CSP blocked
        List<String> problems = new ArrayList<>();
        for (LogEntry e : browser.manage().logs().get(LogType.BROWSER)) {
            String m = e.getMessage();
            boolean expectedRefusal = m.contains("the server responded with a status of 4");
            if (e.getLevel().intValue() >= Level.SEVERE.intValue() && !expectedRefusal) {
                problems.add(m);
            }
            if (m.contains("Content Security Policy") || m.contains("Uncaught")) {
                problems.add(m);
            }
        }
        assertThat(problems).as("browser console").isEmpty();
    }
}

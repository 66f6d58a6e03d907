package dev.cornerstone.launcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class MainTest {

    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        CommandLine cli = Main.commandLine();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        cli.setOut(new PrintWriter(out));
        cli.setErr(new PrintWriter(err));
        int exit = cli.execute(args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void unknownOptionIsAUsageError() {
        Run r = run("--nope");
        assertThat(r.exit()).isEqualTo(2);
        assertThat(r.err()).contains("Unknown option: '--nope'").contains("cornerstone --help");
    }

    @Test
    void subcommandsValidateTheirArguments() {
        assertThat(run("node", "--port", "abc").exit()).isEqualTo(2);
        assertThat(run("bundles").exit()).isEqualTo(2);
        assertThat(run("bundles", "deploy").err()).contains("Missing required parameter: 'FILE'");
    }

    @Test
    void fineTuningCommandsValidateTheirArguments() {
        Run both = run("predict", "--run", "r", "--text", "a", "--input", "f.jsonl");
        assertThat(both.exit()).isEqualTo(2);
        assertThat(both.err()).contains("mutually exclusive");
        Run none = run("predict", "--run", "r");
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("--text").contains("--input");
        assertThat(run("lora").exit()).isEqualTo(2);
        assertThat(run("lora", "merge").err()).contains("Missing required option: '--run=RUN'");
        assertThat(run("finetune", "--frm", "x").exit()).isEqualTo(2);
    }

    @Test
    void helpListsTheCommands() {
        Run r = run("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("node").contains("bundles").contains("finetune").contains("predict")
                .contains("lora").contains("Exit codes");
    }
}

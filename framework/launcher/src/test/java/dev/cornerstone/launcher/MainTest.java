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
    void helpListsTheCommands() {
        Run r = run("--help");
        assertThat(r.exit()).isZero();
        assertThat(r.out()).contains("node").contains("bundles").contains("Exit codes");
    }
}

package dev.cornerstone.launcher;

import java.io.PrintWriter;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Spec;

/** {@code bin/cornerstone}: the command line of a Cornerstone distribution. */
@Command(name = "cornerstone",
        mixinStandardHelpOptions = true,
        versionProvider = Main.VersionInfo.class,
        description = "Pre-train and fine-tune foundation models in a modular OSGi container.",
        subcommands = {TrainCommand.class, GenerateCommand.class, EvalCommand.class, FineTuneCommand.class,
            PredictCommand.class, LoraCommand.class, BackendsCommand.class,
            NodeCommand.class, NodesCommand.class, BundlesCommand.class, JobsCommand.class,
            CommandLine.HelpCommand.class},
        footer = {"", "Exit codes: 0 success, 1 failure, 2 bad usage."})
public final class Main implements Runnable {

    @Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (for tests, which must not exit). */
    static int run(String... args) {
        CommandLine cli = commandLine();
        return cli.execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cli = new CommandLine(new Main());
        cli.setParameterExceptionHandler((ex, args) -> {
            PrintWriter err = ex.getCommandLine().getErr();
            err.println("error: " + ex.getMessage());
            err.println("Try '" + ex.getCommandLine().getCommandSpec().qualifiedName() + " --help' for more.");
            return CommandLine.ExitCode.USAGE;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            PrintWriter err = commandLine.getErr();
            if (ex instanceof CliException || ex instanceof IllegalArgumentException
                    || ex instanceof IllegalStateException) {
                err.println("error: " + ex.getMessage());
            } else {
                err.println("error: " + ex);
                ex.printStackTrace(err);
            }
            return CommandLine.ExitCode.SOFTWARE;
        });
        return cli;
    }

    @Override
    public void run() {
        // "cornerstone" alone: show what there is to do.
        spec.commandLine().usage(spec.commandLine().getErr());
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    /** {@code --version}: Cornerstone, Felix and Java versions. */
    static final class VersionInfo implements IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {
                "Cornerstone " + Version.CORNERSTONE,
                "Apache Felix " + Version.FELIX + ", Java " + Runtime.version() + " (" + System.getProperty("java.vendor")
                    + ")"
            };
        }
    }
}

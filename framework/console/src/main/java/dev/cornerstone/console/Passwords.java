package dev.cornerstone.console;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Makes a line for the console's users file. Run it with the console bundle as the class
 * path; it reads the password from the terminal (or one line of standard input) and prints
 * {@code NAME=pbkdf2-sha256:...} to append to {@code conf/console-users}:
 *
 * <pre>
 * java -cp system/cornerstone-console-VERSION.jar dev.cornerstone.console.Passwords alice &gt;&gt; conf/console-users
 * </pre>
 */
public final class Passwords {

    private Passwords() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1 || !args[0].matches("[A-Za-z0-9][A-Za-z0-9._@-]{0,63}") || args[0].equals(
                Security.TOKEN_USER)) {
            System.err.println("usage: java -cp cornerstone-console.jar dev.cornerstone.console.Passwords NAME");
            System.err.println("NAME: letters, digits, '.', '_', '@', '-' (at most 64), not '" + Security.TOKEN_USER
                    + "'. The password is read from the terminal or from one line of standard input.");
            System.exit(2);
        }
        char[] password;
        Console c = System.console();
        if (c != null) {
            password = c.readPassword("Password for %s: ", args[0]);
            char[] again = c.readPassword("Again: ");
            if (password == null || again == null || !Arrays.equals(password, again)) {
                System.err.println("The passwords differ; nothing written.");
                System.exit(1);
            }
        } else {
            String line = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
            password = line == null ? new char[0] : line.toCharArray();
        }
        if (password.length < 8) {
            System.err.println("A password needs at least 8 characters; nothing written.");
            System.exit(1);
        }
        System.out.println(args[0] + "=" + Users.hash(password, Users.DEFAULT_ITERATIONS).encode());
        Arrays.fill(password, '\0');
    }
}

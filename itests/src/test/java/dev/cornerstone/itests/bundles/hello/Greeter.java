package dev.cornerstone.itests.bundles.hello;

/** The service the hot-deploy test bundle provides. */
public interface Greeter {
    String greet(String name);
}

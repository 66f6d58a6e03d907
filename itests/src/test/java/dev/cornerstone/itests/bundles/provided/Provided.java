package dev.cornerstone.itests.bundles.provided;

/**
 * Content of the package the "bad import" test bundle needs and no system bundle exports;
 * deploying the provider bundle later must make that bundle start.
 */
public final class Provided {
    private Provided() {
    }
}

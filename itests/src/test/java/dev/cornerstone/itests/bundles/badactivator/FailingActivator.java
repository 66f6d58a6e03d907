package dev.cornerstone.itests.bundles.badactivator;

import org.osgi.framework.BundleActivator;
import org.osgi.framework.BundleContext;

/** A bundle activator that always fails, to check a node reports it and keeps running. */
public class FailingActivator implements BundleActivator {

    public static final String MESSAGE = "test activator refuses to start";

    @Override
    public void start(BundleContext context) {
        throw new IllegalStateException(MESSAGE);
    }

    @Override
    public void stop(BundleContext context) {
    }
}

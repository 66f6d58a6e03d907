package dev.cornerstone.backend.opencl;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.testkit.BackendParitySuite;

/**
 * The backend parity suite on the opencl backend, on the first OpenCL device found (PoCL on the
 * CPU in CI). Without an OpenCL platform it fails, naming what is missing: CI installs PoCL
 * ({@code .ci/run}), so a missing device is a broken machine, not a reason to skip.
 */
class OpenClParityTest extends BackendParitySuite {

    @Override
    protected ComputeBackend createBackend() {
        return OpenClTesting.backend();
    }
}

package dev.cornerstone.backend.cpu;

import dev.cornerstone.api.backend.ComputeBackend;
import dev.cornerstone.testkit.BackendParitySuite;

/**
 * The backend parity suite on the cpu backend, as the distribution runs it (OpenBLAS GEMM when
 * installed), with three threads on two cores: uneven parts, the splits most likely to hide an
 * off-by-one.
 */
class CpuParityTest extends BackendParitySuite {

    @Override
    protected ComputeBackend createBackend() {
        return new CpuBackend(3);
    }
}

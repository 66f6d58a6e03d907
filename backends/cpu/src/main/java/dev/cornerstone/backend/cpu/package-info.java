/**
 * The {@code cpu} compute backend: off-heap tensors ({@link java.lang.foreign.MemorySegment}
 * from C {@code calloc}), GEMM through a native BLAS ({@code cblas_sgemm} of OpenBLAS, called
 * through the FFM API) with a pure-Java fallback, multi-threaded Java kernels for everything
 * else. The plain Java reference of every kernel that the tests use as their oracle is
 * {@code dev.cornerstone.testkit.ReferenceKernels} in the test kit, shared by every backend's
 * tests. Private to the bundle: other bundles see only the {@code ComputeBackend} service.
 */
package dev.cornerstone.backend.cpu;

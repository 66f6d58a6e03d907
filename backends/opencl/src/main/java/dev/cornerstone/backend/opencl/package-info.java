/**
 * The {@code opencl} compute backend: OpenCL C kernels built per device at run time, through
 * LWJGL (imported from the {@code org.lwjgl} bundle, not embedded). Private to the bundle: other
 * bundles see only the {@code ComputeBackend} service; its exceptions reach them as
 * {@code RuntimeException}s with messages for people.
 */
package dev.cornerstone.backend.opencl;

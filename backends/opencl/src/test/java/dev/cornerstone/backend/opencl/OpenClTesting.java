package dev.cornerstone.backend.opencl;

/** How the tests get their backend: the first device found, with a hint when there is none. */
final class OpenClTesting {

    private OpenClTesting() {
    }

    static OpenClBackend backend() {
        return backend(OpenClBackend.Options.defaults());
    }

    static OpenClBackend backend(OpenClBackend.Options options) {
        try {
            return new OpenClBackend(options);
        } catch (DeviceNotFoundException e) {
            throw new AssertionError("the opencl tests need an OpenCL device; .ci/run installs PoCL "
                    + "(apt-get install pocl-opencl-icd ocl-icd-libopencl1). " + e.getMessage(), e);
        }
    }
}

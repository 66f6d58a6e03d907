package dev.cornerstone.backend.opencl;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.cornerstone.api.tensor.DType;
import dev.cornerstone.api.tensor.Shape;
import dev.cornerstone.api.tensor.Tensor;

/**
 * The failures a user meets, each with a message that says what happened and what to do, and the
 * backend left in a known state: a kernel that fails to build, no device, device memory exhausted.
 */
class OpenClErrorsTest {

    @TempDir
    Path tmp;

    // ---- a kernel that fails to build ------------------------------------------------------

    @Test
    void aProgramThatFailsToBuildCarriesTheCompilersLog() {
        try (OpenClBackend be = OpenClTesting.backend()) {
            String broken = "__kernel void broken(__global float* x) {\n  x[0] = undefined_thing + 1.0f;\n}\n";
            ProgramBuildException e = catchThrowableOfType(ProgramBuildException.class,
                    () -> be.context().programs.build("broken.cl", broken, ""));
            assertThat(e.program()).isEqualTo("broken.cl");
            assertThat(e.code()).isEqualTo(-11);                                     // CL_BUILD_PROGRAM_FAILURE
            assertThat(e.buildLog()).contains("undefined_thing");
            assertThat(e.getMessage())
                    .contains("program broken.cl failed to build for device '" + be.deviceInfo().name() + "'")
                    .contains("CL_BUILD_PROGRAM_FAILURE")
                    .contains("build log:").contains("undefined_thing");
        }
    }

    @Test
    void badBuildOptionsFailTheFirstKernelWithTheLogAndLeakNothing() {
        // -Dfloat16=int breaks every program of the backend: the first kernel (the zeroing of a
        // new tensor) fails to build, and so does every later one, each time with the log
        OpenClBackend.Options options = new OpenClBackend.Options(DeviceSelector.ANY, 0, "-Dfloat16=int");
        try (OpenClBackend be = OpenClTesting.backend(options)) {
            ProgramBuildException e = catchThrowableOfType(ProgramBuildException.class,
                    () -> be.allocate(Shape.of(40), DType.F32));
            assertThat(e.getMessage()).contains("program elementwise.cl failed to build")
                    .contains("with options '-Dfloat16=int'").contains("build log:");
            assertThat(e.buildLog()).isNotBlank();
            // known state: nothing was allocated, and the next call fails the same way
            assertThat(be.liveTensors()).isZero();
            assertThat(be.deviceBytes()).isEqualTo(be.pooledBytes());
            assertThatThrownBy(() -> be.allocate(Shape.of(40), DType.F32)).isInstanceOf(ProgramBuildException.class);
            assertThat(be.liveTensors()).isZero();
        }
    }

    // ---- no device ------------------------------------------------------------------------

    @Test
    void noMatchingDeviceListsEveryDeviceFound() {
        DeviceSelector nothing = new DeviceSelector("", "no-such-device-anywhere", "all");
        DeviceNotFoundException e = catchThrowableOfType(DeviceNotFoundException.class,
                () -> new OpenClBackend(new OpenClBackend.Options(nothing, 0, "")));
        assertThat(e.found()).as("the devices the loader found").isNotEmpty();
        assertThat(e.getMessage()).contains("no OpenCL device matches platform ~ any, device ~ \"no-such-device-anywhere\"")
                .contains("found " + e.found().size() + " device")
                .contains("[0:0] " + e.found().getFirst().name())
                .contains("dev.cornerstone.backend.opencl");
    }

    @Test
    void aDeviceTypeThatIsNotThereIsNamedInTheError() {
        try (OpenClBackend any = OpenClTesting.backend()) {
            List<String> absent = new ArrayList<>(List.of("gpu", "cpu", "accelerator"));
            any.devicesFound().forEach(d -> absent.remove(d.type().toLowerCase(java.util.Locale.ROOT)));
            org.junit.jupiter.api.Assumptions.assumeFalse(absent.isEmpty(), "this machine has every device type");
            String type = absent.getFirst();
            assertThatThrownBy(() -> new OpenClBackend(new OpenClBackend.Options(new DeviceSelector("", "", type), 0, "")))
                    .isInstanceOf(DeviceNotFoundException.class).hasMessageContaining("type " + type)
                    .hasMessageContaining(any.deviceInfo().name());
        }
    }

    @Test
    void anUnknownDeviceTypeIsRefused() {
        assertThatThrownBy(() -> new DeviceSelector("", "", "fpga"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("opencl deviceType 'fpga' is not one of [all, gpu, cpu, accelerator]");
    }

    /**
     * A JVM whose ICD loader finds no platform (OCL_ICD_VENDORS points at an empty folder) says
     * so and how to get one, instead of failing deep inside LWJGL.
     */
    @Test
    void noPlatformAtAllSaysHowToInstallOne() throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("no-vendors"));
        String out = runProbe("OCL_ICD_VENDORS", empty.toString());
        assertThat(out).contains("DeviceNotFoundException")
                .contains("no OpenCL platform is installed")
                .contains("apt-get install pocl-opencl-icd");
    }

    private String runProbe(String envName, String envValue) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", System.getProperty("java.class.path"),
                NoDeviceProbe.class.getName());
        pb.environment().put(envName, envValue);
        pb.redirectErrorStream(true);
        Path log = tmp.resolve("probe.log");
        pb.redirectOutput(log.toFile());
        Process p = pb.start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("probe finished").isTrue();
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** Run in a separate JVM by {@link #noPlatformAtAllSaysHowToInstallOne}: prints what opening a backend throws. */
    public static final class NoDeviceProbe {
        public static void main(String[] args) {
            try (OpenClBackend be = new OpenClBackend()) {
                System.out.println("opened " + be.device());
            } catch (RuntimeException e) {
                System.out.println(e.getClass().getSimpleName() + ": " + e.getMessage());
            }
        }
    }

    // ---- device memory exhausted -------------------------------------------------------------

    @Test
    void passingTheMemoryLimitFailsWithAClearMessageAndAllocatesNothing() {
        long mib = 1L << 20;
        OpenClBackend.Options options = new OpenClBackend.Options(DeviceSelector.ANY, 64 * mib, "");
        try (OpenClBackend be = OpenClTesting.backend(options)) {
            Shape quarter = Shape.of(6 * (int) mib);                               // 24 MiB of F32
            Tensor a = be.allocate(quarter, DType.F32);
            Tensor b = be.allocate(quarter, DType.F32);
            DeviceMemoryException e = catchThrowableOfType(DeviceMemoryException.class,
                    () -> be.allocate(quarter, DType.F32));
            assertThat(e.getMessage())
                    .contains("opencl: device memory exhausted: a F32 tensor (6291456,) needs 24.0 MiB on '"
                            + be.deviceInfo().name() + "'")
                    .contains("the backend's memory limit of 64.0 MiB would be passed")
                    .contains("2 tensors are live, holding 48.0 MiB")
                    .contains("raise memoryLimitMiB");
            assertThat(be.liveTensors()).isEqualTo(2);
            assertThat(be.liveBytes()).isEqualTo(48 * mib);
            // known state: the tensors that exist still compute, and freed memory is usable again
            be.fill(a, 1f);
            be.axpy(2f, a, b);
            float[] back = new float[4];
            be.read(b, 100, back, 0, 4);
            assertThat(back).containsOnly(2f);
            a.close();
            try (Tensor c = be.allocate(quarter, DType.F32)) {
                assertThat(c.isClosed()).isFalse();
            }
            b.close();
            assertThat(be.liveTensors()).isZero();
        }
    }

    @Test
    void aTensorLargerThanTheDevicesLargestBufferIsRefusedBeforeAllocating() {
        try (OpenClBackend be = OpenClTesting.backend()) {
            long maxAlloc = be.deviceInfo().maxAllocation();
            int elements = (int) Math.min(Integer.MAX_VALUE, maxAlloc / 4 + 1024);
            org.junit.jupiter.api.Assumptions.assumeTrue(4L * elements > maxAlloc,
                    "the device's largest buffer holds more than 2^31 floats");
            long before = be.deviceBytes();
            assertThatThrownBy(() -> be.allocate(Shape.of(elements), DType.F32))
                    .isInstanceOf(DeviceMemoryException.class)
                    .hasMessageContaining("more than device '" + be.deviceInfo().name() + "' allows")
                    .hasMessageContaining("CL_DEVICE_MAX_MEM_ALLOC_SIZE");
            assertThat(be.deviceBytes()).isEqualTo(before);
            assertThat(be.liveTensors()).isZero();
        }
    }

    // ---- misuse -------------------------------------------------------------------------------

    @Test
    void closedTensorsAndAClosedBackendAreRefusedByName() {
        OpenClBackend be = OpenClTesting.backend();
        Tensor t = be.allocate(Shape.of(3), DType.F32);
        t.close();
        assertThatThrownBy(() -> be.fill(t, 1f)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is closed");
        be.close();
        assertThatThrownBy(() -> be.allocate(Shape.of(3), DType.F32)).isInstanceOf(IllegalStateException.class)
                .hasMessage("the opencl backend is closed");
    }
}

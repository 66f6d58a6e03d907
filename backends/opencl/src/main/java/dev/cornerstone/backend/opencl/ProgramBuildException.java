package dev.cornerstone.backend.opencl;

/**
 * A program of OpenCL C failed to build for the device. The message names the program, the device
 * and the build options and ends with the compiler's build log, which {@link #buildLog()} also
 * returns on its own.
 */
public final class ProgramBuildException extends OpenClException {

    private static final long serialVersionUID = 1L;

    private final String program;
    private final String buildLog;

    ProgramBuildException(int code, String program, String device, String options, String buildLog) {
        super(code, "opencl: program " + program + " failed to build for device '" + device + "' with options '"
                + options + "': " + OpenCl.errorName(code) + "; build log:\n" + buildLog);
        this.program = program;
        this.buildLog = buildLog;
    }

    /** The program's name, for example {@code gemm.cl}. */
    public String program() {
        return program;
    }

    /** The compiler's log for the device, as OpenCL returned it. */
    public String buildLog() {
        return buildLog;
    }
}

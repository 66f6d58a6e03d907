package dev.cornerstone.backend.cpu;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A native BLAS found on the machine: {@code cblas_sgemm} and, when the library is OpenBLAS,
 * {@code openblas_set_num_threads} and {@code openblas_get_config}, bound through FFM downcalls.
 *
 * <p>Where it looks, in order: the library named by the system property
 * {@value #LIBRARY_PROPERTY} (a file name or a path), then {@link #DEFAULT_CANDIDATES}: OpenBLAS
 * by its soname (Debian's {@code libopenblas0} registers it with the dynamic loader), Debian's
 * per-threading-model directories, and the {@code libblas.so.3} alternative (which Debian points
 * at OpenBLAS when it is installed). Libraries are loaded into the global arena and never
 * unloaded: a BLAS keeps its own threads, and the method handles must stay valid.
 *
 * <p>OpenBLAS chooses its kernels at load time from the CPU model, and releases that do not know
 * a CPU fall back to the generic "Prescott" kernels: OpenBLAS 0.3.21 (Debian 12) does that on
 * this machine's Xeon and runs SGEMM at about a fifth of the speed of its AVX-512 kernels. So,
 * unless {@code OPENBLAS_CORETYPE} is already set, the backend sets it before loading the
 * library, from the CPU's feature flags ({@link #CORETYPE_PROPERTY}: {@code auto}, the default;
 * {@code off}; or an OpenBLAS core name).
 */
final class NativeBlas {

    /** A BLAS library to try before the default ones: a file name for the loader, or a path. */
    static final String LIBRARY_PROPERTY = "cornerstone.cpu.blas";

    /** {@code auto} (default), {@code off}, or the OPENBLAS_CORETYPE to set, e.g. {@code Haswell}. */
    static final String CORETYPE_PROPERTY = "cornerstone.cpu.openblas.coretype";

    static final List<String> DEFAULT_CANDIDATES = List.of(
            "libopenblas.so.0",
            "libopenblas.so",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-serial/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib64/libopenblas.so.0",
            "libblas.so.3",
            "/usr/lib/x86_64-linux-gnu/libblas.so.3",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3",
            "/usr/lib/aarch64-linux-gnu/libblas.so.3",
            "libopenblas.dylib",
            "/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
            "/usr/local/opt/openblas/lib/libopenblas.dylib");

    private static final Logger LOG = Logger.getLogger("dev.cornerstone.backend.cpu");
    private static final AtomicBoolean WARNED_MISSING = new AtomicBoolean();
    private static final AtomicBoolean CORETYPE_CHOSEN = new AtomicBoolean();
    private static volatile Optional<NativeBlas> system;

    // CBLAS enum values (cblas.h)
    static final int ROW_MAJOR = 101;
    static final int NO_TRANS = 111;
    static final int TRANS = 112;

    private final String library;
    private final MethodHandle sgemm;
    private final MethodHandle setNumThreads;
    private final String config;

    private NativeBlas(String library, MethodHandle sgemm, MethodHandle setNumThreads, String config) {
        this.library = library;
        this.sgemm = sgemm;
        this.setNumThreads = setNumThreads;
        this.config = config;
    }

    /** The BLAS of this machine, searched once per JVM (per class loader, under OSGi). */
    static Optional<NativeBlas> system() {
        Optional<NativeBlas> s = system;
        if (s == null) {
            synchronized (NativeBlas.class) {
                s = system;
                if (s == null) {
                    List<String> candidates = new ArrayList<>();
                    String configured = System.getProperty(LIBRARY_PROPERTY);
                    if (configured != null && !configured.isBlank()) {
                        candidates.add(configured.trim());
                    }
                    candidates.addAll(DEFAULT_CANDIDATES);
                    s = system = load(candidates);
                }
            }
        }
        return s;
    }

    /**
     * The first of {@code candidates} that loads and has {@code cblas_sgemm}; when none does,
     * logs it (once per JVM) at WARNING with everything that was tried.
     */
    static Optional<NativeBlas> load(List<String> candidates) {
        chooseOpenBlasCore();
        List<String> tried = new ArrayList<>();
        Linker linker = Linker.nativeLinker();
        for (String name : candidates) {
            SymbolLookup lookup;
            try {
                if (name.indexOf('/') >= 0) {
                    Path path = Path.of(name);
                    if (!Files.exists(path)) {
                        tried.add(name + " (no such file)");
                        continue;
                    }
                    lookup = SymbolLookup.libraryLookup(path, Arena.global());
                } else {
                    lookup = SymbolLookup.libraryLookup(name, Arena.global());
                }
            } catch (IllegalArgumentException e) {
                tried.add(name + " (not loadable)");
                continue;
            }
            Optional<MemorySegment> sgemm = lookup.find("cblas_sgemm");
            if (sgemm.isEmpty()) {
                tried.add(name + " (no cblas_sgemm)");
                continue;
            }
            MethodHandle sgemmHandle = linker.downcallHandle(sgemm.get(), FunctionDescriptor.ofVoid(
                    JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT,
                    ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT));
            MethodHandle threads = lookup.find("openblas_set_num_threads")
                    .map(f -> linker.downcallHandle(f, FunctionDescriptor.ofVoid(JAVA_INT)))
                    .orElse(null);
            String config = lookup.find("openblas_get_config")
                    .map(f -> callString(linker.downcallHandle(f, FunctionDescriptor.of(ADDRESS))))
                    .orElse(null);
            return Optional.of(new NativeBlas(name, sgemmHandle, threads, config));
        }
        if (WARNED_MISSING.compareAndSet(false, true)) {
            LOG.warning("No native BLAS with cblas_sgemm found; GEMM runs on the pure-Java fallback, several "
                    + "times slower. Searched: " + String.join(", ", tried) + ". Install OpenBLAS (Debian: "
                    + "apt-get install libopenblas0) or name a library with -D" + LIBRARY_PROPERTY + "=PATH.");
        }
        return Optional.empty();
    }

    /** Lets the next failed search log its warning again (tests of that warning). */
    static void resetMissingWarning() {
        WARNED_MISSING.set(false);
    }

    private static String callString(MethodHandle h) {
        try {
            MemorySegment s = (MemorySegment) h.invokeExact();
            return s.address() == 0 ? null : s.reinterpret(Integer.MAX_VALUE).getString(0).trim();
        } catch (Throwable t) {
            return null;
        }
    }

    /** Sets OPENBLAS_CORETYPE from the CPU's flags when nobody set it (see the class comment). */
    private static void chooseOpenBlasCore() {
        if (!CORETYPE_CHOSEN.compareAndSet(false, true)) {
            return;
        }
        String setting = System.getProperty(CORETYPE_PROPERTY, "auto").trim();
        if (setting.equalsIgnoreCase("off") || System.getenv("OPENBLAS_CORETYPE") != null) {
            return;
        }
        String core = setting.equalsIgnoreCase("auto") ? coreFromCpuFlags(cpuFlags()) : setting;
        if (core == null) {
            return;
        }
        Linker linker = Linker.nativeLinker();
        Optional<MemorySegment> setenv = linker.defaultLookup().find("setenv");
        if (setenv.isEmpty()) {
            return;
        }
        MethodHandle h = linker.downcallHandle(setenv.get(), FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) h.invokeExact(arena.allocateFrom("OPENBLAS_CORETYPE"), arena.allocateFrom(core), 0);
            if (rc == 0) {
                LOG.info("OPENBLAS_CORETYPE was not set; set it to " + core + " from the CPU flags (OpenBLAS "
                        + "releases that do not know a CPU use slow generic kernels). -D" + CORETYPE_PROPERTY
                        + "=off keeps OpenBLAS's own choice.");
            }
        } catch (Throwable t) {
            LOG.log(Level.FINE, "could not set OPENBLAS_CORETYPE", t);
        }
    }

    /** The OpenBLAS core for x86-64 CPU flags (as in /proc/cpuinfo), or null to let OpenBLAS choose. */
    static String coreFromCpuFlags(Set<String> flags) {
        if (flags.containsAll(Set.of("avx512f", "avx512bw", "avx512vl", "avx512dq"))) {
            return flags.contains("avx512_bf16") ? "Cooperlake" : "SkylakeX";
        }
        if (flags.containsAll(Set.of("avx2", "fma"))) {
            return "Haswell";
        }
        return null;
    }

    private static Set<String> cpuFlags() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!(arch.equals("amd64") || arch.equals("x86_64")) || !Files.isReadable(cpuinfo)) {
            return Set.of();
        }
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("flags"))
                    .findFirst()
                    .map(l -> Arrays.stream(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))
                            .collect(Collectors.toUnmodifiableSet()))
                    .orElse(Set.of());
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
    }

    /** Asks OpenBLAS to use {@code threads} threads (process-wide); no-op for other BLAS libraries. */
    void setThreads(int threads) {
        if (setNumThreads == null) {
            return;
        }
        try {
            setNumThreads.invokeExact(threads);
        } catch (Throwable t) {
            throw new IllegalStateException("openblas_set_num_threads failed", t);
        }
    }

    /** {@code cblas_sgemm} in row-major order on raw addresses. */
    void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
               MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try {
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
                    a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new IllegalStateException("cblas_sgemm failed", t);
        }
    }

    /** For {@code device()}: OpenBLAS's build configuration (version, core, threading), or the library. */
    String description() {
        return config != null ? config : "native BLAS (cblas_sgemm from " + library + ")";
    }
}

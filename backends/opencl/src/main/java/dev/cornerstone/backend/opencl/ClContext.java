package dev.cornerstone.backend.opencl;

import static org.lwjgl.opencl.CL10.CL_CONTEXT_PLATFORM;
import static org.lwjgl.opencl.CL10.CL_MEM_READ_WRITE;

import java.nio.ByteBuffer;
import java.nio.IntBuffer;

import org.lwjgl.PointerBuffer;
import org.lwjgl.opencl.CL10;
import org.lwjgl.opencl.CL12;
import org.lwjgl.system.MemoryStack;
import org.lwjgl.system.MemoryUtil;

/**
 * The backend's hold on its device: an OpenCL context, one in-order command queue (so every
 * command runs after the ones enqueued before it, and nothing between two kernels waits for the
 * host), the built programs and the pool of device buffers, with the memory limit. Not
 * thread-safe: the backend calls it under its lock.
 */
final class ClContext implements AutoCloseable {

    final DeviceInfo info;
    final long device;
    final long context;
    final long queue;
    final Programs programs;
    /** Device time per kernel, when {@link Profiler#enabled()}; else null. */
    final Profiler profiler = Profiler.enabled() ? new Profiler() : null;
    private final BufferPool pool = new BufferPool();
    private final long memoryLimit;
    /** Bytes of every buffer this context holds: in tensors, in scratch, or pooled. */
    private long deviceBytes;

    ClContext(Platforms.Found found, long memoryLimit, String buildOptions) {
        this.info = found.info();
        this.device = found.device();
        this.memoryLimit = memoryLimit > 0 ? memoryLimit : info.globalMemory();
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            PointerBuffer props = stack.mallocPointer(3).put(CL_CONTEXT_PLATFORM).put(found.platform()).put(0).flip();
            this.context = CL10.clCreateContext(props, device, null, 0, err);
            OpenCl.check(err.get(0), "clCreateContext(" + info.name() + ")");
            long q = CL10.clCreateCommandQueue(context, device,
                    profiler != null ? CL10.CL_QUEUE_PROFILING_ENABLE : 0, err);
            if (err.get(0) != 0) {
                CL10.clReleaseContext(context);
                OpenCl.check(err.get(0), "clCreateCommandQueue(" + info.name() + ")");
            }
            this.queue = q;
        }
        this.programs = new Programs(context, device, info.name(), buildOptions);
    }

    /** The limit on device memory this backend holds, bytes. */
    long memoryLimit() {
        return memoryLimit;
    }

    long deviceBytes() {
        return deviceBytes;
    }

    long pooledBytes() {
        return pool.pooledBytes();
    }

    Launch launch(String program, String options, String kernel) {
        return new Launch(queue, programs.kernel(program, options, kernel), kernel, profiler);
    }

    /**
     * A buffer of at least {@code bytes} bytes (its capacity is {@link BufferPool#capacity}), from
     * the pool if one of that size is free, else new. {@code what} and {@code live} are for the
     * message when the device has no memory left.
     */
    long allocate(long bytes, String what, String live) {
        long capacity = BufferPool.capacity(bytes);
        long pooled = pool.take(capacity);
        if (pooled != 0) {
            return pooled;
        }
        if (capacity > info.maxAllocation()) {
            throw new DeviceMemoryException(CL10.CL_INVALID_BUFFER_SIZE, "opencl: " + what + " needs "
                    + DeviceInfo.bytes(bytes) + " in one buffer, more than device '" + info.name()
                    + "' allows (CL_DEVICE_MAX_MEM_ALLOC_SIZE = " + DeviceInfo.bytes(info.maxAllocation()) + ")");
        }
        if (deviceBytes + capacity > memoryLimit) {
            deviceBytes -= pool.trim();
            if (deviceBytes + capacity > memoryLimit) {
                throw exhausted(0, what, bytes, live, "the backend's memory limit of "
                        + DeviceInfo.bytes(memoryLimit) + " would be passed");
            }
        }
        int[] code = new int[1];
        long buffer = create(capacity, code);
        if (OpenCl.isOutOfMemory(code[0])) {
            deviceBytes -= pool.trim();
            buffer = create(capacity, code);
            if (OpenCl.isOutOfMemory(code[0])) {
                throw exhausted(code[0], what, bytes, live, "the device refused it with " + OpenCl.errorName(code[0]));
            }
        }
        OpenCl.check(code[0], "clCreateBuffer(" + bytes + " bytes)");
        deviceBytes += capacity;
        return buffer;
    }

    private long create(long capacity, int[] code) {
        try (MemoryStack stack = MemoryStack.stackPush()) {
            IntBuffer err = stack.mallocInt(1);
            long buffer = CL10.clCreateBuffer(context, CL_MEM_READ_WRITE, capacity, err);
            code[0] = err.get(0);
            return buffer;
        }
    }

    private DeviceMemoryException exhausted(int code, String what, long bytes, String live, String why) {
        return new DeviceMemoryException(code, "opencl: device memory exhausted: " + what + " needs "
                + DeviceInfo.bytes(bytes) + " on '" + info.name() + "' and " + why + "; " + live + " ("
                + DeviceInfo.bytes(deviceBytes) + " on the device after freeing the pool). Free tensors, use a "
                + "smaller batch or model, or raise memoryLimitMiB in the configuration dev.cornerstone.backend.opencl");
    }

    /** Returns a buffer of {@code capacity} bytes to the pool. */
    void free(long buffer, long capacity) {
        pool.give(buffer, capacity);
    }

    /** Enqueues: {@code bytes} bytes of {@code buffer} from {@code offset} set to the repeated {@code pattern}. */
    void fill(long buffer, ByteBuffer pattern, long offset, long bytes) {
        if (bytes == 0) {
            return;
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer event = profiler == null ? null : stack.mallocPointer(1);
            int code = CL12.clEnqueueFillBuffer(queue, buffer, pattern, offset, bytes, null, event);
            if (code != 0) {
                failure(code, "clEnqueueFillBuffer");
            }
            if (event != null) {
                profiler.add("(fill)", event.get(0));
            }
        }
    }

    /** Enqueues a device-to-device copy. */
    void copy(long src, long dst, long srcOffset, long dstOffset, long bytes) {
        if (bytes == 0) {
            return;
        }
        try (MemoryStack stack = MemoryStack.stackPush()) {
            PointerBuffer event = profiler == null ? null : stack.mallocPointer(1);
            int code = CL10.clEnqueueCopyBuffer(queue, src, dst, srcOffset, dstOffset, bytes, null, event);
            if (code != 0) {
                failure(code, "clEnqueueCopyBuffer");
            }
            if (event != null) {
                profiler.add("(copy)", event.get(0));
            }
        }
    }

    /** Copies {@code bytes} bytes from host address {@code host} to the buffer; returns when done. */
    void write(long buffer, long offset, long host, long bytes) {
        if (bytes == 0) {
            return;
        }
        int code = CL10.nclEnqueueWriteBuffer(queue, buffer, 1, offset, bytes, host, 0, 0, 0);
        if (code != 0) {
            failure(code, "clEnqueueWriteBuffer");
        }
    }

    /** Copies {@code bytes} bytes of the buffer to host address {@code host}, after everything enqueued before. */
    void read(long buffer, long offset, long host, long bytes) {
        if (bytes == 0) {
            return;
        }
        int code = CL10.nclEnqueueReadBuffer(queue, buffer, 1, offset, bytes, host, 0, 0, 0);
        if (code != 0) {
            failure(code, "clEnqueueReadBuffer");
        }
    }

    void finish() {
        int code = CL10.clFinish(queue);
        if (code != 0) {
            failure(code, "clFinish");
        }
    }

    /** Throws for a failed enqueue: a {@link DeviceMemoryException} when the device is out of memory. */
    static void failure(int code, String call) {
        if (OpenCl.isOutOfMemory(code)) {
            throw new DeviceMemoryException(code, "opencl: device memory exhausted in " + call + ": "
                    + OpenCl.errorName(code) + ". Free tensors, use a smaller batch or model, or lower memoryLimitMiB "
                    + "in the configuration dev.cornerstone.backend.opencl so the backend stops before the device does");
        }
        OpenCl.check(code, call);
    }

    /** A host staging area of {@code bytes} bytes; free it with {@link MemoryUtil#nmemFree}. */
    static long staging(long bytes) {
        long p = MemoryUtil.nmemAllocChecked(Math.max(1, bytes));
        return p;
    }

    @Override
    public void close() {
        CL10.clFinish(queue);
        deviceBytes -= pool.trim();
        programs.close();
        CL10.clReleaseCommandQueue(queue);
        // Buffers of tensors still open keep the context alive until they are released.
        CL10.clReleaseContext(context);
    }
}

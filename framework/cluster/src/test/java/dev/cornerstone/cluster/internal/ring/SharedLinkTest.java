package dev.cornerstone.cluster.internal.ring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * A {@link SocketLink} in shared-memory mode between two links of this JVM: frames pass
 * through the slots in order, more frames than there are slots (the bytes back free them),
 * the file is gone once the predecessor is connected, and a file that cannot be mapped is
 * an error that names it.
 */
class SharedLinkTest {

    private static final int CHUNK_BYTES = 4 * 1000;

    /** Collects what a link reports. */
    private static final class Recorder implements SocketLink.Events {
        final BlockingQueue<SocketLink.Frame> frames = new LinkedBlockingQueue<>();
        final BlockingQueue<String> ended = new LinkedBlockingQueue<>();
        final BlockingQueue<IOException> writeFailures = new LinkedBlockingQueue<>();
        final java.util.concurrent.Semaphore written = new java.util.concurrent.Semaphore(0);

        @Override
        public void received(SocketLink.Frame frame) {
            frames.add(frame);
        }

        @Override
        public SocketLink.Route route(Chunk header) {
            return null; // into the frame
        }

        @Override
        public void inboundEnded(String reason, boolean badStream) {
            ended.add("in: " + reason);
        }

        @Override
        public void written(RingOp op, int step, int piece, IOException failure) {
            if (failure != null) {
                writeFailures.add(failure);
            } else {
                written.release();
            }
        }

        @Override
        public void outboundEnded(String reason) {
            ended.add("out: " + reason);
        }
    }

    @Test
    void framesGoThroughTheSlotsInOrderAndTheFileIsDeletedOnceConnected() throws Exception {
        Recorder senderEvents = new Recorder();
        Recorder receiverEvents = new Recorder();
        long token = 0x5eed_1234_abcdL;
        try (SocketLink receiver = new SocketLink("test-recv", CHUNK_BYTES, true, receiverEvents);
             SocketLink sender = new SocketLink("test-send", CHUNK_BYTES, true, senderEvents)) {
            int port = receiver.listen("127.0.0.1", token, 5_000);
            String file = receiver.sharedFile();
            assertThat(file).as("the file offered to the predecessor").isNotNull();
            assertThat(Files.exists(Path.of(file))).isTrue();
            assertThat(Files.size(Path.of(file))).isEqualTo(SocketLink.SHARED_HEADER_BYTES + (long) SocketLink.SHARED_SLOTS * CHUNK_BYTES);
            sender.connect("127.0.0.1", port, token, 5_000, file);

            int frames = 3 * SocketLink.SHARED_SLOTS + 1; // wraps around the slots three times
            List<Integer> counts = new ArrayList<>();
            for (int i = 0; i < frames; i++) {
                int count = i == 5 ? 0 : 1 + (i * 37) % (CHUNK_BYTES / 4); // one without floats
                counts.add(count);
                SocketLink.Frame f = sender.frame();
                ChunkFrames.writeHeader(f.buf, 1, 42, OpKind.ALL_REDUCE.code, 1000, 0, i, 0, count);
                for (int k = 0; k < count; k++) {
                    f.segment.set(Chunk.LE_FLOAT, ChunkCodec.HEADER_BYTES + 4L * k, i * 10_000f + k);
                }
                sender.send(f, count);
            }
            for (int i = 0; i < frames; i++) {
                SocketLink.Frame f = receiverEvents.frames.poll(10, TimeUnit.SECONDS);
                assertThat(f).as("frame " + i + " arrived").isNotNull();
                assertThat(f.header.piece).as("frames in order").isEqualTo(i);
                assertThat(f.header.count).isEqualTo(counts.get(i));
                for (int k = 0; k < f.header.count; k++) {
                    assertThat(f.segment.get(Chunk.LE_FLOAT, ChunkCodec.HEADER_BYTES + 4L * k))
                            .as("frame " + i + " float " + k).isEqualTo(i * 10_000f + k);
                }
                receiver.processed();
                receiver.release(f);
            }
            assertThat(Files.exists(Path.of(file))).as("deleted once the predecessor connected").isFalse();
            assertThat(senderEvents.written.tryAcquire(frames, 10, TimeUnit.SECONDS))
                    .as("every frame reported written").isTrue();
            assertThat(senderEvents.written.availablePermits()).as("no frame reported twice").isZero();
            assertThat(senderEvents.writeFailures).isEmpty();
            assertThat(senderEvents.ended).as("neither end saw the other go").isEmpty();
        }
    }

    @Test
    void aFileThatCannotBeMappedIsAnErrorNamingIt() throws Exception {
        Recorder events = new Recorder();
        Path missing = Files.createTempDirectory("cornerstone-shm-test").resolve("no-such.slots");
        try (SocketLink sender = new SocketLink("test-send", CHUNK_BYTES, true, events)) {
            assertThatThrownBy(() -> sender.connect("127.0.0.1", 1, 7, 1_000, missing.toString()))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("cannot map the successor's shared-memory file " + missing)
                    .hasMessageContaining("one host");
            assertThatThrownBy(() -> sender.connect("127.0.0.1", 1, 7, 1_000, null))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("offered no shared-memory file");
        }
    }

    @Test
    void aFileOfTheWrongSizeIsRefused() throws Exception {
        Recorder events = new Recorder();
        Path wrong = Files.createTempFile("cornerstone-shm-test", ".slots");
        try (SocketLink sender = new SocketLink("test-send", CHUNK_BYTES, true, events)) {
            Files.write(wrong, new byte[100]);
            assertThatThrownBy(() -> sender.connect("127.0.0.1", 1, 7, 1_000, wrong.toString()))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining(wrong.toString())
                    .hasMessageContaining("holds 100 bytes, not " + SocketLink.SHARED_SLOTS + " slots of " + CHUNK_BYTES + " after " + SocketLink.SHARED_HEADER_BYTES);
        } finally {
            Files.deleteIfExists(wrong);
        }
    }

    @Test
    void closingBeforeThePredecessorConnectsDeletesTheFile() throws Exception {
        SocketLink receiver = new SocketLink("test-recv", CHUNK_BYTES, true, new Recorder());
        receiver.listen("127.0.0.1", 1, 5_000);
        Path file = Path.of(receiver.sharedFile());
        assertThat(Files.exists(file)).isTrue();
        receiver.close();
        assertThat(Files.exists(file)).isFalse();
    }
    @Test
    void slotsFilesOfDeadProcessesAreSweptOnceOldAndNoOthers() throws Exception {
        Path dir = Files.createTempDirectory("cornerstone-shm-sweep");
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        long deadPid = gone.pid();
        long myPid = ProcessHandle.current().pid();
        java.nio.file.attribute.FileTime hourAgo = java.nio.file.attribute.FileTime.from(
                java.time.Instant.now().minus(java.time.Duration.ofHours(1)));
        Path stale = Files.write(dir.resolve(SocketLink.SLOTS_PREFIX + deadPid + "-123.slots"), new byte[8]);
        Files.setLastModifiedTime(stale, hourAgo);
        Path fresh = Files.write(dir.resolve(SocketLink.SLOTS_PREFIX + deadPid + "-456.slots"), new byte[8]);
        Path live = Files.write(dir.resolve(SocketLink.SLOTS_PREFIX + myPid + "-789.slots"), new byte[8]);
        Files.setLastModifiedTime(live, hourAgo);
        Path other = Files.write(dir.resolve("cornerstone-ring-notapid.slots"), new byte[8]);
        Files.setLastModifiedTime(other, hourAgo);
        try {
            assertThat(SocketLink.sweepStaleSlots(dir)).as("only the old file of the dead process").containsExactly(stale);
            assertThat(stale).doesNotExist();
            assertThat(fresh).as("younger than " + SocketLink.STALE_AFTER).exists();
            assertThat(live).as("its process is alive").exists();
            assertThat(other).as("not a slots file's name").exists();
        } finally {
            for (Path f : List.of(stale, fresh, live, other)) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        }
    }

    @Test
    void theSlotsFileIsNamedForItsProcess() throws Exception {
        try (SocketLink receiver = new SocketLink("test-recv", CHUNK_BYTES, true, new Recorder())) {
            receiver.listen("127.0.0.1", 1, 5_000);
            assertThat(Path.of(receiver.sharedFile()).getFileName().toString())
                    .startsWith(SocketLink.SLOTS_PREFIX + ProcessHandle.current().pid() + "-").endsWith(".slots");
        }
    }
}

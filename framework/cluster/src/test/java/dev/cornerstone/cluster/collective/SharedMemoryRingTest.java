package dev.cornerstone.cluster.collective;

/**
 * The collectives suite with each link's floats through a shared-memory file of slots, and
 * only headers and freed-slot bytes through the socket.
 */
class SharedMemoryRingTest extends RingCollectivesSuite {
    @Override
    CollectiveOptions.Transport transport() {
        return CollectiveOptions.Transport.SHARED_MEMORY;
    }
}

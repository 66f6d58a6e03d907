package dev.cornerstone.cluster.collective;

/** The collectives suite with chunks streamed over a TCP connection per ring link. */
class StreamRingTest extends RingCollectivesSuite {
    @Override
    CollectiveOptions.Transport transport() {
        return CollectiveOptions.Transport.STREAM;
    }
}

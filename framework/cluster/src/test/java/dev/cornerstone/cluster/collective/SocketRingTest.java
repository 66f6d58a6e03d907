package dev.cornerstone.cluster.collective;

/** The collectives suite with chunks over a blocking socket per ring link, with a sender and a receiver thread. */
class SocketRingTest extends RingCollectivesSuite {
    @Override
    CollectiveOptions.Transport transport() {
        return CollectiveOptions.Transport.SOCKET;
    }
}

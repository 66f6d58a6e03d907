package dev.cornerstone.cluster.collective;

/** The collectives suite with chunks as event-bus messages. */
class EventBusRingTest extends RingCollectivesSuite {
    @Override
    CollectiveOptions.Transport transport() {
        return CollectiveOptions.Transport.EVENT_BUS;
    }
}
